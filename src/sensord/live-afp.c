/* live-afp.c: AF_PACKET capture and injection with TPACKET rings and the
 * kernel's checksum status (see live-afp.h for why not libpcap, and why
 * rings). */
#include "live-afp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define AFP_SNAP 65535u

/* Receive ring geometry.  A block that is not full is handed over after
 * AFP_RETIRE_MS (a jiffy at least), so a lone probe waits at most that
 * long (nmap measures nothing finer).  Under a flood at moderate rates
 * the blocks are retired by that timer part-full, so what the ring can
 * hold while the responder is off the CPU is the number of blocks times
 * what arrives in a jiffy: many small blocks (1,024 of 64 KiB, about 450
 * SYNs each, for 64 MiB) rather than few large ones. */
#define AFP_RX_BLOCK (64u << 10)
#define AFP_RX_BLOCK_SMALL (16u << 10)
#define AFP_RX_FRAME 2048u
#define AFP_RETIRE_MS 2u

/* Transmit ring: 2,048 slots of 2 KiB (one frame each, STACK_MAX_FRAME
 * fits); frames are kicked every AFP_TX_BATCH so the ring never fills in
 * a burst, and at the end of every dispatch. */
#define AFP_TX_BLOCK (64u << 10)
#define AFP_TX_NBLOCKS 64u
#define AFP_TX_FRAME 2048u
#define AFP_TX_BATCH 256u
/* Where frame data starts in a TX slot without PACKET_TX_HAS_OFF. */
#define AFP_TX_DATA (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))
#define AFP_TX_MAXLEN (AFP_TX_FRAME - AFP_TX_DATA)
/* sendmmsg batching: frames copied into a queue of this many. */
#define AFP_MMSG_FRAME 1536u

enum { TX_SENDTO, TX_RING, TX_MMSG };

struct afp {
	int fd;                 /* receive (ETH_P_ALL) */
	int txfd;               /* send (protocol 0: receives nothing); -1 in the fallback */
	int ifindex;
	bool ring;
	uint64_t drops;

	/* receive ring */
	uint8_t *rx_map;
	size_t rx_len;
	uint32_t rx_blksz, rx_nblk, rx_cur;
	struct tpacket_block_desc *rx_bd;   /* block being read, or NULL */
	uint32_t rx_left;                   /* frames left in it */
	uint32_t rx_off;                    /* offset of the next one in it */

	/* transmit: ring or sendmmsg queue */
	int tx;                             /* TX_* */
	uint8_t *tx_map;
	size_t tx_len;
	uint32_t tx_nframes, tx_cur, tx_pending;
	struct mmsghdr mm[AFP_TX_BATCH];
	struct iovec iov[AFP_TX_BATCH];
	uint8_t q[AFP_TX_BATCH][AFP_MMSG_FRAME];

	struct afp_stats st;
	uint8_t buf[AFP_SNAP + 4];          /* room to put a VLAN tag back */
};

static void rx_geometry(int ring_bytes, uint32_t *blksz, uint32_t *nblk)
{
	uint64_t want = ring_bytes > 0 ? (uint64_t)ring_bytes : AFP_RING_DEFAULT;
	*blksz = want >= 64u * AFP_RX_BLOCK ? AFP_RX_BLOCK : AFP_RX_BLOCK_SMALL;
	uint64_t n = want / *blksz;
	*nblk = n < 2 ? 2 : n > 65536 ? 65536 : (uint32_t)n;
}

static int map_rx(struct afp *a, int ring_bytes)
{
	rx_geometry(ring_bytes, &a->rx_blksz, &a->rx_nblk);
	a->rx_len = (size_t)a->rx_blksz * a->rx_nblk;
	void *m = mmap(NULL, a->rx_len, PROT_READ | PROT_WRITE, MAP_SHARED, a->fd, 0);
	if (m == MAP_FAILED) {
		a->rx_len = 0;
		return -errno;
	}
	a->rx_map = m;
	return 0;
}

static int map_tx(struct afp *a)
{
	a->tx_len = (size_t)AFP_TX_BLOCK * AFP_TX_NBLOCKS;
	a->tx_nframes = (uint32_t)(a->tx_len / AFP_TX_FRAME);
	void *m = mmap(NULL, a->tx_len, PROT_READ | PROT_WRITE, MAP_SHARED, a->txfd, 0);
	if (m == MAP_FAILED) {
		a->tx_len = 0;
		return -errno;
	}
	a->tx_map = m;
	return 0;
}

static void unmap(struct afp *a)
{
	if (a->rx_map)
		munmap(a->rx_map, a->rx_len);
	if (a->tx_map)
		munmap(a->tx_map, a->tx_len);
	a->rx_map = a->tx_map = NULL;
	a->ring = false;
}

/* Set up both rings; on any refusal the caller falls back to recvmsg. */
static int setup_rings(struct afp *a, int ring_bytes, unsigned flags)
{
	int v3 = TPACKET_V3, v2 = TPACKET_V2, one = 1;
	if (setsockopt(a->fd, SOL_PACKET, PACKET_VERSION, &v3, sizeof v3) < 0)
		return -errno;
	uint32_t blksz, nblk;
	rx_geometry(ring_bytes, &blksz, &nblk);
	struct tpacket_req3 rq = {
		.tp_block_size = blksz,
		.tp_block_nr = nblk,
		.tp_frame_size = AFP_RX_FRAME,
		.tp_frame_nr = nblk * (blksz / AFP_RX_FRAME),
		.tp_retire_blk_tov = AFP_RETIRE_MS,
	};
	if (setsockopt(a->fd, SOL_PACKET, PACKET_RX_RING, &rq, sizeof rq) < 0)
		return -errno;
	int rc = map_rx(a, ring_bytes);
	if (rc < 0)
		return rc;

	a->txfd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (a->txfd < 0)
		return -errno;
	if (setsockopt(a->txfd, SOL_PACKET, PACKET_VERSION, &v2, sizeof v2) < 0)
		return -errno;
	/* A frame the kernel finds malformed is skipped, not left to stall
	 * the ring. */
	setsockopt(a->txfd, SOL_PACKET, PACKET_LOSS, &one, sizeof one);
	if (!(flags & AFP_QDISC))
		setsockopt(a->txfd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
	/* Sends block (briefly) when the socket's buffer is full rather than
	 * lose a batch: the backlog then waits in the receive ring, which
	 * is sized for it, and shows as capture drops if it overflows.  The
	 * timeout keeps a wedged device from stopping the responder. */
	int sndbuf = 4 << 20;
	if (setsockopt(a->txfd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0)
		setsockopt(a->txfd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	struct timeval tmo = { .tv_sec = 0, .tv_usec = 200000 };
	setsockopt(a->txfd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof tmo);
	/* Bound with protocol 0: the kernel hands this socket no frames. */
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = a->ifindex };
	if (!(flags & AFP_TX_RING)) {
		if (bind(a->txfd, (struct sockaddr *)&sll, sizeof sll) < 0)
			return -errno;
		a->tx = TX_MMSG;
		a->ring = true;
		return 0;
	}
	struct tpacket_req tq = {
		.tp_block_size = AFP_TX_BLOCK,
		.tp_block_nr = AFP_TX_NBLOCKS,
		.tp_frame_size = AFP_TX_FRAME,
		.tp_frame_nr = AFP_TX_NBLOCKS * (AFP_TX_BLOCK / AFP_TX_FRAME),
	};
	if (setsockopt(a->txfd, SOL_PACKET, PACKET_TX_RING, &tq, sizeof tq) < 0)
		return -errno;
	if (bind(a->txfd, (struct sockaddr *)&sll, sizeof sll) < 0)
		return -errno;
	rc = map_tx(a);
	if (rc < 0)
		return rc;
	a->tx = TX_RING;
	a->ring = true;
	return 0;
}

unsigned afp_env_flags(void)
{
	const char *e = getenv("VIGIA_AFP");
	unsigned f = 0;
	if (e && strstr(e, "noring"))
		f |= AFP_NO_RING;
	if (e && strstr(e, "txring"))
		f |= AFP_TX_RING;
	if (e && strstr(e, "qdisc"))
		f |= AFP_QDISC;
	return f;
}

int afp_open_flags(struct afp **out, const char *iface, int ring_bytes, unsigned flags,
		   struct vg_err *err)
{
	*out = NULL;
	flags |= afp_env_flags();
	struct afp *a = calloc(1, sizeof *a);
	if (!a)
		return vg_err_set(err, -ENOMEM, "%s: out of memory", iface);
	a->txfd = -1;
	a->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	int rc;
	if (a->fd < 0) {
		rc = -errno;
		free(a);
		return vg_err_set(err, rc, "%s: AF_PACKET socket: %s", iface, strerror(-rc));
	}
	a->ifindex = (int)if_nametoindex(iface);
	if (!a->ifindex) {
		rc = vg_err_set(err, -ENODEV, "%s: no such interface", iface);
		goto fail;
	}
	int one = 1;
	if (!(flags & AFP_NO_RING) && setup_rings(a, ring_bytes, flags) < 0) {
		/* The fallback needs a fresh socket: a ring, once asked for,
		 * cannot be taken back while mapped. */
		unmap(a);
		if (a->txfd >= 0)
			close(a->txfd);
		a->txfd = -1;
		a->tx = TX_SENDTO;
		close(a->fd);
		a->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
		if (a->fd < 0) {
			rc = -errno;
			free(a);
			return vg_err_set(err, rc, "%s: AF_PACKET socket: %s", iface, strerror(-rc));
		}
	}
	/* Bound after the ring is set up, so no frame arrives before there
	 * is a ring to hold it. */
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = a->ifindex };
	if (bind(a->fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
		rc = vg_err_set(err, -errno, "%s: bind: %s", iface, strerror(errno));
		goto fail;
	}
	if (!a->ring && setsockopt(a->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0) {
		rc = vg_err_set(err, -errno, "%s: PACKET_AUXDATA: %s", iface, strerror(errno));
		goto fail;
	}
	struct packet_mreq mr = { .mr_ifindex = a->ifindex, .mr_type = PACKET_MR_PROMISC };
	if (setsockopt(a->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) {
		rc = vg_err_set(err, -errno, "%s: promiscuous mode: %s", iface, strerror(errno));
		goto fail;
	}
	/* Our own frames must not come back as input; older kernels lack
	 * the option, and sll_pkttype is checked as well. */
#ifdef PACKET_IGNORE_OUTGOING
	setsockopt(a->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
#endif
	if (!a->ring) {
		setsockopt(a->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
		if (ring_bytes > 0 &&
		    setsockopt(a->fd, SOL_SOCKET, SO_RCVBUFFORCE, &ring_bytes, sizeof ring_bytes) < 0)
			setsockopt(a->fd, SOL_SOCKET, SO_RCVBUF, &ring_bytes, sizeof ring_bytes);
	}
	a->st.ring = a->ring;
	*out = a;
	return 0;
fail:
	unmap(a);
	if (a->txfd >= 0)
		close(a->txfd);
	close(a->fd);
	free(a);
	return rc;
}

int afp_open(struct afp **out, const char *iface, int ring_bytes, struct vg_err *err)
{
	return afp_open_flags(out, iface, ring_bytes, afp_env_flags(), err);
}

void afp_fds(const struct afp *a, int *rx_fd, int *tx_fd)
{
	*rx_fd = a->fd;
	*tx_fd = a->txfd;
}

int afp_adopt(struct afp **out, int rx_fd, int tx_fd, int ring_bytes, unsigned flags,
	      struct vg_err *err)
{
	*out = NULL;
	struct afp *a = calloc(1, sizeof *a);
	if (!a)
		return vg_err_set(err, -ENOMEM, "afp_adopt: out of memory");
	a->fd = rx_fd;
	a->txfd = tx_fd;
	struct sockaddr_ll sll;
	socklen_t l = sizeof sll;
	int rc;
	if (getsockname(rx_fd, (struct sockaddr *)&sll, &l) < 0 || sll.sll_family != AF_PACKET) {
		rc = vg_err_set(err, -EBADF, "afp_adopt: descriptor %d is not a packet socket",
				rx_fd);
		goto fail;
	}
	a->ifindex = sll.sll_ifindex;
	int ver = 0;
	l = sizeof ver;
	if (tx_fd >= 0 && getsockopt(rx_fd, SOL_PACKET, PACKET_VERSION, &ver, &l) == 0 &&
	    ver == TPACKET_V3) {
		bool txr = flags & AFP_TX_RING;
		if ((rc = map_rx(a, ring_bytes)) < 0 || (txr && (rc = map_tx(a)) < 0)) {
			rc = vg_err_set(err, rc, "afp_adopt: cannot map the rings: %s",
					strerror(-rc));
			goto fail;
		}
		a->ring = true;
		a->tx = txr ? TX_RING : TX_MMSG;
	}
	a->st.ring = a->ring;
	*out = a;
	return 0;
fail:
	unmap(a);
	free(a);
	return rc;
}

int afp_fd(const struct afp *a)
{
	return a->fd;
}

/* Put a stripped 802.1Q tag back in front of the EtherType, in buf. */
static const uint8_t *vlan_back(struct afp *a, const uint8_t *f, uint32_t *cap,
				uint32_t *wire, uint16_t tpid, uint16_t tci)
{
	if (*cap < 12 || *cap > AFP_SNAP)
		return f;
	memcpy(a->buf, f, 12);
	a->buf[12] = (uint8_t)(tpid >> 8);
	a->buf[13] = (uint8_t)tpid;
	a->buf[14] = (uint8_t)(tci >> 8);
	a->buf[15] = (uint8_t)tci;
	memcpy(a->buf + 16, f + 12, *cap - 12);
	*cap += 4;
	*wire += 4;
	return a->buf;
}

static unsigned csum_flags(uint32_t tp_status)
{
	unsigned csum = 0;
	if (tp_status & TP_STATUS_CSUMNOTREADY)
		csum |= AFP_CSUM_PARTIAL;
#ifdef TP_STATUS_CSUM_VALID
	if (tp_status & TP_STATUS_CSUM_VALID)
		csum |= AFP_CSUM_VALID;
#endif
	return csum;
}

static void rx_release(struct afp *a)
{
	__atomic_store_n(&a->rx_bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	a->rx_bd = NULL;
	a->rx_cur = (a->rx_cur + 1) % a->rx_nblk;
}

static int ring_dispatch(struct afp *a, int max, afp_frame_fn fn, void *ctx)
{
	int n = 0;
	const uint32_t hdr = TPACKET_ALIGN(sizeof(struct tpacket3_hdr));
	while (n < max) {
		if (!a->rx_bd) {
			struct tpacket_block_desc *bd =
				(void *)(a->rx_map + (size_t)a->rx_cur * a->rx_blksz);
			uint32_t s = __atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE);
			if (!(s & TP_STATUS_USER))
				break;
			a->rx_bd = bd;
			a->rx_left = bd->hdr.bh1.num_pkts;
			a->rx_off = bd->hdr.bh1.offset_to_first_pkt;
			a->st.rx_blocks++;
		}
		/* The kernel wrote the offsets, but a frame is read only
		 * inside its block. */
		if (!a->rx_left || a->rx_off > a->rx_blksz - hdr - sizeof(struct sockaddr_ll)) {
			rx_release(a);
			continue;
		}
		uint8_t *base = (uint8_t *)a->rx_bd;
		const struct tpacket3_hdr *h = (const void *)(base + a->rx_off);
		const struct sockaddr_ll *sll = (const void *)(base + a->rx_off + hdr);
		uint32_t room = a->rx_blksz - a->rx_off;
		uint32_t cap = h->tp_snaplen, wire = h->tp_len;
		bool fits = h->tp_mac < room && cap <= room - h->tp_mac;
		if (fits && sll->sll_pkttype != PACKET_OUTGOING) {
			const uint8_t *f = base + a->rx_off + h->tp_mac;
			if (h->tp_status & TP_STATUS_VLAN_VALID) {
				uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID)
							? h->hv1.tp_vlan_tpid : 0x8100;
				f = vlan_back(a, f, &cap, &wire, tpid, (uint16_t)h->hv1.tp_vlan_tci);
			}
			uint64_t ts = (uint64_t)h->tp_sec * 1000000000u + h->tp_nsec;
			fn(ctx, ts, f, cap, wire, csum_flags(h->tp_status));
			a->st.rx_frames++;
			n++;
		}
		uint32_t next = h->tp_next_offset;
		a->rx_left--;
		if (!fits || !a->rx_left || next == 0 || next > room)
			rx_release(a);
		else
			a->rx_off += next;
	}
	return n;
}

static int recv_dispatch(struct afp *a, int max, afp_frame_fn fn, void *ctx)
{
	int n = 0;
	while (n < max) {
		struct sockaddr_ll from;
		union {
			struct cmsghdr h;
			uint8_t b[CMSG_SPACE(sizeof(struct tpacket_auxdata)) +
				  CMSG_SPACE(sizeof(struct timespec))];
		} cb;
		/* Read 4 bytes in, so a stripped VLAN tag can be put back
		 * in front of the EtherType without a copy of the payload. */
		struct iovec iov = { .iov_base = a->buf + 4, .iov_len = AFP_SNAP };
		struct msghdr m = { .msg_name = &from, .msg_namelen = sizeof from,
				    .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = cb.b, .msg_controllen = sizeof cb.b };
		ssize_t r = recvmsg(a->fd, &m, MSG_TRUNC);
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		uint32_t wire = (uint32_t)r;
		uint32_t cap = wire < AFP_SNAP ? wire : AFP_SNAP;
		unsigned csum = 0;
		uint64_t ts = 0;
		const struct tpacket_auxdata *aux = NULL;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA &&
			    c->cmsg_len >= CMSG_LEN(sizeof *aux))
				aux = (const struct tpacket_auxdata *)CMSG_DATA(c);
			else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS &&
				 c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
				struct timespec t;
				memcpy(&t, CMSG_DATA(c), sizeof t);
				ts = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
			}
		}
		uint8_t *f = a->buf + 4;
		if (aux) {
			csum = csum_flags(aux->tp_status);
			wire = aux->tp_len;
			if ((aux->tp_status & TP_STATUS_VLAN_VALID) && cap >= 12) {
				uint16_t tpid = (aux->tp_status & TP_STATUS_VLAN_TPID_VALID)
							? aux->tp_vlan_tpid : 0x8100;
				memmove(a->buf, a->buf + 4, 12);
				f = a->buf;
				f[12] = (uint8_t)(tpid >> 8);
				f[13] = (uint8_t)tpid;
				f[14] = (uint8_t)(aux->tp_vlan_tci >> 8);
				f[15] = (uint8_t)aux->tp_vlan_tci;
				cap += 4;
				wire += 4;
			}
		}
		if (!ts) {
			struct timespec t;
			clock_gettime(CLOCK_REALTIME, &t);
			ts = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
		}
		fn(ctx, ts, f, cap, wire, csum);
		a->st.rx_frames++;
		n++;
	}
	return n;
}

int afp_dispatch(struct afp *a, int max, afp_frame_fn fn, void *ctx)
{
	int n = a->ring ? ring_dispatch(a, max, fn, ctx) : recv_dispatch(a, max, fn, ctx);
	if (n >= 0)
		afp_flush(a);
	return n;
}

/* Hand the queue to the kernel in one sendmmsg (blocking at most
 * SO_SNDTIMEO); frames it still refuses are counted and dropped. */
static int mmsg_kick(struct afp *a)
{
	uint32_t n = a->tx_pending, done = 0;
	a->tx_pending = 0;
	a->st.tx_flushes++;
	while (done < n) {
		int r = sendmmsg(a->txfd, a->mm + done, n - done, 0);
		if (r > 0) {
			done += (uint32_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		a->st.tx_ring_full += n - done;
		return r < 0 ? -errno : -EIO;
	}
	return 0;
}

static int tx_kick(struct afp *a)
{
	if (a->tx == TX_MMSG)
		return mmsg_kick(a);
	a->tx_pending = 0;
	a->st.tx_flushes++;
	for (;;) {
		if (send(a->txfd, NULL, 0, MSG_DONTWAIT) >= 0)
			return 0;
		if (errno == EINTR)
			continue;
		/* EAGAIN/ENOBUFS: the device is busy; the frames stay queued
		 * and go with the next kick. */
		if (errno == EAGAIN || errno == ENOBUFS)
			return 0;
		return -errno;
	}
}

int afp_flush(struct afp *a)
{
	if (a->tx == TX_SENDTO || !a->tx_pending)
		return 0;
	return tx_kick(a);
}

static int send_one(struct afp *a, const uint8_t *frame, uint32_t len)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = a->ifindex,
				  .sll_halen = 6 };
	memcpy(to.sll_addr, frame, 6);
	for (;;) {
		ssize_t r = sendto(a->fd, frame, len, 0, (struct sockaddr *)&to, sizeof to);
		if (r >= 0) {
			a->st.tx_frames++;
			return 0;
		}
		if (errno != EINTR)
			return -errno;
	}
}

static struct tpacket2_hdr *tx_slot(struct afp *a)
{
	return (void *)(a->tx_map + (size_t)a->tx_cur * AFP_TX_FRAME);
}

static bool tx_free(struct tpacket2_hdr *h)
{
	uint32_t s = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
	return s == TP_STATUS_AVAILABLE || s == TP_STATUS_WRONG_FORMAT;
}

int afp_send(struct afp *a, const uint8_t *frame, uint32_t len)
{
	if (a->tx == TX_SENDTO)
		return send_one(a, frame, len);
	if (a->tx == TX_MMSG) {
		if (len > AFP_MMSG_FRAME) {
			mmsg_kick(a);       /* keep the order of frames */
			return send_one(a, frame, len);
		}
		uint32_t i = a->tx_pending;
		memcpy(a->q[i], frame, len);
		a->iov[i] = (struct iovec){ .iov_base = a->q[i], .iov_len = len };
		a->mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &a->iov[i], .msg_iovlen = 1 } };
		a->st.tx_frames++;
		if (++a->tx_pending >= AFP_TX_BATCH)
			return mmsg_kick(a);
		return 0;
	}
	if (len > AFP_TX_MAXLEN) {
		afp_flush(a);
		return send_one(a, frame, len);
	}
	struct tpacket2_hdr *h = tx_slot(a);
	if (!tx_free(h)) {
		/* Every slot is queued: kick the kernel and look again. */
		tx_kick(a);
		if (!tx_free(h)) {
			a->st.tx_ring_full++;
			return -ENOBUFS;
		}
	}
	memcpy((uint8_t *)h + AFP_TX_DATA, frame, len);
	h->tp_len = len;
	h->tp_snaplen = len;
	__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
	a->tx_cur = (a->tx_cur + 1) % a->tx_nframes;
	a->st.tx_frames++;
	if (++a->tx_pending >= AFP_TX_BATCH)
		return afp_flush(a);
	return 0;
}

uint64_t afp_drops(struct afp *a)
{
	/* The kernel resets its counters on each read: accumulate.  A V3
	 * socket answers with the longer tpacket_stats_v3. */
	struct tpacket_stats_v3 st;
	socklen_t l = sizeof st;
	memset(&st, 0, sizeof st);
	if (getsockopt(a->fd, SOL_PACKET, PACKET_STATISTICS, &st, &l) == 0)
		a->drops += st.tp_drops;
	a->st.rx_drops = a->drops;
	return a->drops;
}

void afp_get_stats(struct afp *a, struct afp_stats *st)
{
	afp_drops(a);
	*st = a->st;
}

void afp_close(struct afp *a)
{
	if (!a)
		return;
	afp_flush(a);
	unmap(a);
	if (a->txfd >= 0)
		close(a->txfd);
	close(a->fd);
	free(a);
}
