/* test-stack-guard.c: the responder's live guard (stack_opts.guard):
 * the amplification limit, max-pps-per-source, max-pps, and the release
 * of addresses another host is seen using on the segment (ARP). */
#include "check.h"
#include "stack-client.h"

#include <stdlib.h>

#include "sc-config.h"
#include "stack.h"

#define WEB TC_IP(192, 0, 2, 10)
#define ADDR77 TC_IP(192, 0, 2, 77)
#define ADDR78 TC_IP(192, 0, 2, 78)
#define CLIENT TC_IP(198, 51, 100, 7)
#define CLIENT2 TC_IP(198, 51, 100, 8)
#define T0 1700000000000000000ull
#define MS 1000000ull

struct env {
	struct tc *t;
	struct sc_config *cfg;
	struct stack *s;
	uint64_t now;
	uint8_t f[1600];
	char warned[256];
	int nwarn;
};

static void on_warn(void *ctx, const char *msg)
{
	struct env *e = ctx;
	snprintf(e->warned, sizeof e->warned, "%s", msg);
	e->nwarn++;
}

static bool env_open(struct env *e, const char *limits, bool guard)
{
	memset(e, 0, sizeof *e);
	char text[1024];
	snprintf(text, sizeof text,
		 "create web\n"
		 "add web tcp port 80 open\n"
		 "add web udp port 1434 mssql-resolver\n"
		 "bind 192.0.2.10 web\n"
		 "%s", limits);
	e->t = calloc(1, sizeof *e->t);
	struct vg_err err = { 0 };
	if (!e->t || sc_config_load_buf(&e->cfg, "guard.conf", text, strlen(text), &err) < 0 ||
	    sc_config_claim(e->cfg, "192.0.2.0/24", &err) < 0) {
		fprintf(stderr, "config: %s\n", err.msg);
		return false;
	}
	struct stack_opts o;
	tc_opts(&o, e->t, e->cfg, 1);
	o.guard = guard;
	o.warn = on_warn;
	/* Frames are counted through stack_get_stats; warn gets the env. */
	o.ctx = e;
	o.emit = NULL;
	o.log = NULL;
	o.record = NULL;
	if (stack_new(&e->s, &o, &err) < 0) {
		fprintf(stderr, "stack_new: %s\n", err.msg);
		return false;
	}
	e->now = T0;
	return true;
}

static void env_close(struct env *e)
{
	stack_free(e->s);
	sc_config_free(e->cfg);
	free(e->t);
}

static uint64_t sent(struct env *e)
{
	struct stack_stats st;
	stack_get_stats(e->s, &st);
	return st.tx_packets;
}

static void feed(struct env *e, uint32_t len, uint64_t step)
{
	e->now += step;
	stack_input(e->s, VG_LINK_ETHERNET, e->now, e->f, len, len);
}

static uint64_t ssrp(struct env *e, uint32_t src, int n)
{
	uint64_t before = sent(e);
	static const uint8_t req = 0x02;
	for (int i = 0; i < n; i++)
		feed(e, tc_udp(e->f, src, 40000, WEB, 1434, &req, 1), MS);
	return sent(e) - before;
}

TEST(amplifying_replies_are_capped_per_source_and_counted)
{
	struct env e;
	CHECK(env_open(&e, "", true));
	uint64_t a = ssrp(&e, CLIENT, 100);
	CHECK_EQ_U(a, (uint64_t)STACK_AMP_BURST);
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.dropped_amplification, 100u - STACK_AMP_BURST);
	/* Another source has its own bucket. */
	CHECK_EQ_U(ssrp(&e, CLIENT2, 1), 1u);
	/* The bucket refills at STACK_AMP_RATE per second. */
	e.now += 3000 * MS;
	CHECK_EQ_U(ssrp(&e, CLIENT, 10), (uint64_t)(3 * STACK_AMP_RATE));
	env_close(&e);
}

TEST(without_the_guard_replay_answers_every_request)
{
	struct env e;
	CHECK(env_open(&e, "", false));
	CHECK_EQ_U(ssrp(&e, CLIENT, 100), 100u);
	env_close(&e);
}

static uint64_t syns(struct env *e, uint32_t src, int n, uint16_t port)
{
	uint64_t before = sent(e);
	for (int i = 0; i < n; i++)
		feed(e, tc_tcp(e->f, src, (uint16_t)(30000 + i), WEB, port, 1000u + (uint32_t)i, 0,
			       0x02, NULL, 0), MS / 10);
	return sent(e) - before;
}

TEST(one_flooding_source_does_not_starve_another)
{
	struct env e;
	CHECK(env_open(&e, "vigia max-pps-per-source 10\n", true));
	CHECK_EQ_U(syns(&e, CLIENT, 50, 80), 10u);       /* SYN-ACKs: the burst */
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.dropped_pps_source, 40u);
	CHECK_EQ_U(st.dropped_pps_global, 0u);
	CHECK_EQ_U(syns(&e, CLIENT2, 1, 80), 1u);
	CHECK_EQ_U(syns(&e, CLIENT2, 1, 81), 1u);         /* RST/ACK for a closed port */
	e.now += 1000 * MS;
	CHECK_EQ_U(syns(&e, CLIENT, 50, 80), 10u);        /* a second's worth again */
	env_close(&e);
}

TEST(global_cap_limits_all_sources_together)
{
	struct env e;
	CHECK(env_open(&e, "vigia max-pps 20\nvigia max-pps-per-source 1000\n", true));
	uint64_t n = 0;
	for (uint32_t i = 0; i < 100; i++)
		n += syns(&e, CLIENT + i * 256, 1, 80);
	CHECK_EQ_U(n, 64u);       /* the global burst: max(max-pps / 10, 64) */
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.dropped_pps_global, 36u);
	e.now += 1000 * MS;
	n = 0;
	for (uint32_t i = 0; i < 100; i++)
		n += syns(&e, CLIENT + i * 256, 1, 80);
	CHECK(n >= 20 && n <= 21);
	env_close(&e);
}

TEST(huge_caps_never_overflow_the_buckets)
{
	/* A bench sets the caps far out of the way: the buckets clamp at
	 * 2^32 thousandths of a token instead of wrapping. */
	struct env e;
	CHECK(env_open(&e, "vigia max-pps 100000000\nvigia max-pps-per-source 100000000\n", true));
	uint64_t n = 0;
	for (int round = 0; round < 3; round++) {
		n += syns(&e, CLIENT, 2000, 80);
		e.now += 5 * MS;
	}
	CHECK_EQ_U(n, 6000u);
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.dropped_pps_global + st.dropped_pps_source, 0u);
	env_close(&e);
}

static uint32_t arp_from(uint8_t *f, const uint8_t mac[6], uint32_t sender, uint32_t target,
			 int op)
{
	uint32_t len = tc_arp(f, sender, target);
	memcpy(f + 6, mac, 6);
	memcpy(f + 14 + 8, mac, 6);
	f[14 + 7] = (uint8_t)op;
	return len;
}

static uint64_t who_has(struct env *e, uint32_t target)
{
	uint64_t before = sent(e);
	feed(e, tc_arp(e->f, CLIENT, target), MS);
	return sent(e) - before;
}

TEST(an_address_in_use_by_another_host_is_released)
{
	static const uint8_t owner[6] = { 0x00, 0x16, 0x3e, 0x77, 0x77, 0x77 };
	static const uint8_t ours[6] = { 0x02, 0, 0, 0, 0, 0x99 };
	struct env e;
	CHECK(env_open(&e, "", true));
	CHECK_EQ_U(who_has(&e, ADDR77), 1u);
	/* Our own MAC claiming it changes nothing. */
	feed(&e, arp_from(e.f, ours, ADDR77, ADDR77, 1), MS);
	CHECK_EQ_I(e.nwarn, 0);
	/* Another host's ARP reply for it: released and reported. */
	feed(&e, arp_from(e.f, owner, ADDR77, CLIENT, 2), MS);
	CHECK_EQ_I(e.nwarn, 1);
	CHECK(strstr(e.warned, "192.0.2.77 is in use by 00:16:3e:77:77:77") != NULL);
	struct vg_ip a77 = { .v = 4, .a = { 192, 0, 2, 77 } };
	CHECK(stack_released(e.s, &a77));
	CHECK_EQ_U(who_has(&e, ADDR77), 0u);
	uint64_t before = sent(&e);
	feed(&e, tc_echo(e.f, CLIENT, ADDR77, 1, 1, "x", 1), MS);
	CHECK_EQ_U(sent(&e) - before, 0u);
	/* Only that address: its neighbour is still answered. */
	CHECK_EQ_U(who_has(&e, ADDR78), 1u);
	/* A gratuitous ARP (request, sender = target) releases as well, once. */
	feed(&e, arp_from(e.f, owner, ADDR78, ADDR78, 1), MS);
	feed(&e, arp_from(e.f, owner, ADDR78, ADDR78, 1), MS);
	CHECK_EQ_I(e.nwarn, 2);
	CHECK_EQ_U(who_has(&e, ADDR78), 0u);
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.arp_released, 2u);
	CHECK(st.dropped_released >= 3);
	/* Addresses outside the claimed networks are none of our business. */
	feed(&e, arp_from(e.f, owner, TC_IP(10, 0, 0, 1), CLIENT, 2), MS);
	CHECK_EQ_I(e.nwarn, 2);
	env_close(&e);
}

TEST(without_the_guard_nothing_is_released)
{
	static const uint8_t owner[6] = { 0x00, 0x16, 0x3e, 0x77, 0x77, 0x77 };
	struct env e;
	CHECK(env_open(&e, "", false));
	feed(&e, arp_from(e.f, owner, ADDR77, CLIENT, 2), MS);
	CHECK_EQ_I(e.nwarn, 0);
	CHECK_EQ_U(who_has(&e, ADDR77), 1u);
	env_close(&e);
}

int main(void)
{
	RUN(amplifying_replies_are_capped_per_source_and_counted);
	RUN(without_the_guard_replay_answers_every_request);
	RUN(one_flooding_source_does_not_starve_another);
	RUN(global_cap_limits_all_sources_together);
	RUN(huge_caps_never_overflow_the_buckets);
	RUN(an_address_in_use_by_another_host_is_released);
	RUN(without_the_guard_nothing_is_released);
	return check_summary();
}
