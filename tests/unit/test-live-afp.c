/* test-live-afp.c: the capture paths of live-afp.c move every frame, in
 * order, on a real interface.
 *
 * The test enters a network namespace of its own (root only: CI runs as
 * root) and uses its loopback, where every frame sent comes back as
 * received: for each path (TPACKET_V3 ring with sendmmsg, ring with a
 * TPACKET_V2 TX ring, the recvmsg/sendto fallback, and a capture handed
 * over by descriptors with afp_adopt) it sends numbered frames and checks
 * that each comes back once, intact, in order, and that the sender's own
 * copy is never taken as input. */
#include "check.h"
#include "live-afp.h"

#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NFRAMES 3000u
#define FLEN 60u

struct rx {
	uint32_t got, bad, out_of_order, next;
};

static void on_frame(void *ctx, uint64_t ts, const uint8_t *f, uint32_t caplen,
		     uint32_t wirelen, unsigned csum)
{
	struct rx *r = ctx;
	(void)csum;
	/* Only our test frames (EtherType 0x88b5, local experimental). */
	if (caplen < 20 || f[12] != 0x88 || f[13] != 0xb5)
		return;
	uint32_t seq = (uint32_t)f[14] << 24 | (uint32_t)f[15] << 16 | (uint32_t)f[16] << 8 | f[17];
	bool ok = caplen == FLEN && wirelen == FLEN && ts > 0;
	for (uint32_t i = 18; i < FLEN && ok; i++)
		ok = f[i] == (uint8_t)(seq + i);
	if (!ok)
		r->bad++;
	if (seq != r->next)
		r->out_of_order++;
	r->next = seq + 1;
	r->got++;
}

static void frame(uint8_t *f, uint32_t seq)
{
	memset(f, 0, 12);
	f[0] = 0x02;                    /* locally administered destination */
	f[6] = 0x02;
	f[11] = 1;
	f[12] = 0x88;
	f[13] = 0xb5;
	f[14] = (uint8_t)(seq >> 24);
	f[15] = (uint8_t)(seq >> 16);
	f[16] = (uint8_t)(seq >> 8);
	f[17] = (uint8_t)seq;
	for (uint32_t i = 18; i < FLEN; i++)
		f[i] = (uint8_t)(seq + i);
}

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Send NFRAMES in bursts of 100, reading as they come back. */
static void roundtrip(struct afp *a, struct rx *r)
{
	uint8_t f[FLEN];
	memset(r, 0, sizeof *r);
	for (uint32_t seq = 0; seq < NFRAMES; seq++) {
		frame(f, seq);
		CHECK_EQ_I(afp_send(a, f, FLEN), 0);
		if (seq % 100 == 99)
			afp_dispatch(a, 4096, on_frame, r);     /* flushes too */
	}
	afp_flush(a);
	uint64_t end = now_ms() + 3000;
	while (r->got < NFRAMES && now_ms() < end) {
		struct pollfd p = { .fd = afp_fd(a), .events = POLLIN };
		poll(&p, 1, 50);
		CHECK(afp_dispatch(a, 4096, on_frame, r) >= 0);
	}
}

static void check_path(unsigned flags, bool want_ring)
{
	struct afp *a = NULL;
	struct vg_err e = { 0 };
	int rc = afp_open_flags(&a, "lo", 1 << 20, flags, &e);
	CHECK_EQ_I(rc, 0);
	if (rc < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return;
	}
	struct rx r;
	roundtrip(a, &r);
	CHECK_EQ_U(r.got, NFRAMES);
	CHECK_EQ_U(r.bad, 0);
	CHECK_EQ_U(r.out_of_order, 0);
	struct afp_stats st;
	afp_get_stats(a, &st);
	CHECK(st.ring == want_ring);
	CHECK_EQ_U(st.rx_drops, 0);
	CHECK(st.rx_frames >= NFRAMES);
	CHECK_EQ_U(st.tx_frames, NFRAMES);
	if (want_ring) {
		CHECK(st.rx_blocks > 0);
		CHECK(st.tx_flushes > 0);
	}
	afp_close(a);
}

TEST(ring_with_sendmmsg_moves_every_frame_in_order)
{
	check_path(0, true);
}

TEST(ring_with_tx_ring_moves_every_frame_in_order)
{
	check_path(AFP_TX_RING, true);
}

TEST(recvmsg_fallback_moves_every_frame_in_order)
{
	check_path(AFP_NO_RING, false);
}

TEST(through_the_qdisc_own_frames_are_not_taken_as_input)
{
	/* Through the qdisc the interface's taps see each frame going out
	 * as well; only the looped-back copy may count. */
	check_path(AFP_QDISC, true);
}

TEST(adopted_descriptors_map_the_rings_again)
{
	struct afp *a = NULL, *b = NULL;
	struct vg_err e = { 0 };
	CHECK_EQ_I(afp_open_flags(&a, "lo", 1 << 20, 0, &e), 0);
	if (!a)
		return;
	int rx, tx;
	afp_fds(a, &rx, &tx);
	int rx2 = dup(rx), tx2 = dup(tx);
	afp_close(a);                   /* as the privileged parent would */
	CHECK_EQ_I(afp_adopt(&b, rx2, tx2, 1 << 20, 0, &e), 0);
	if (!b)
		return;
	struct rx r;
	roundtrip(b, &r);
	CHECK_EQ_U(r.got, NFRAMES);
	CHECK_EQ_U(r.bad, 0);
	struct afp_stats st;
	afp_get_stats(b, &st);
	CHECK(st.ring);
	afp_close(b);
}

TEST(adopting_a_descriptor_that_is_not_a_packet_socket_fails)
{
	struct afp *b = NULL;
	struct vg_err e = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(afp_adopt(&b, fd, -1, 1 << 20, 0, &e) < 0);
	CHECK(b == NULL);
	CHECK(strstr(e.msg, "not a packet socket") != NULL);
	close(fd);
}

TEST(an_unknown_interface_is_an_error_naming_it)
{
	struct afp *a = NULL;
	struct vg_err e = { 0 };
	CHECK_EQ_I(afp_open_flags(&a, "vg-no-such0", 1 << 20, 0, &e), -ENODEV);
	CHECK(a == NULL);
	CHECK(strstr(e.msg, "vg-no-such0") != NULL);
}

static int loopback_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
	int rc = s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0 ? 0 : -1;
	ifr.ifr_flags |= IFF_UP;
	if (rc == 0 && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		rc = -1;
	if (s >= 0)
		close(s);
	return rc;
}

int main(void)
{
	/* A namespace of our own: its loopback carries nothing but ours. */
	if (unshare(CLONE_NEWNET) < 0 || loopback_up() < 0) {
		printf("FAIL test-live-afp needs root (a network namespace and AF_PACKET): %s\n",
		       strerror(errno));
		return 1;
	}
	RUN(ring_with_sendmmsg_moves_every_frame_in_order);
	RUN(ring_with_tx_ring_moves_every_frame_in_order);
	RUN(recvmsg_fallback_moves_every_frame_in_order);
	RUN(through_the_qdisc_own_frames_are_not_taken_as_input);
	RUN(adopted_descriptors_map_the_rings_again);
	RUN(adopting_a_descriptor_that_is_not_a_packet_socket_fails);
	RUN(an_unknown_interface_is_an_error_naming_it);
	return check_summary();
}
