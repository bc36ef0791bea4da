/* stack-client.h: a tiny client for driving the responder in tests.
 *
 * It builds Ethernet/IPv4 frames (TCP with an MSS option, UDP, ICMP echo,
 * ARP who-has) with correct checksums, captures everything the stack
 * emits, logs and records, and checks every emitted frame's checksums
 * with its own straightforward implementation (not the stack's). */
#ifndef VIGIA_TEST_STACK_CLIENT_H
#define VIGIA_TEST_STACK_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hl-log.h"
#include "proto-decode.h"
#include "stack.h"

#define TC_MAX_FRAMES 512
#define TC_MAX_LINES 512

struct tc_frame {
	uint64_t ts;
	uint32_t len;
	uint8_t b[1600];
};

struct tc {
	struct tc_frame out[TC_MAX_FRAMES];
	int nout;                       /* since the last tc_clear */
	int total_out;
	int bad_csum;                   /* emitted frames with a wrong checksum */
	char lines[TC_MAX_LINES][256];  /* connection log lines */
	struct hl_event ev[TC_MAX_LINES];
	int nlines;
	char rec[TC_MAX_LINES][256];    /* "key=value" */
	int nrec;
	/* optional: every frame emitted, appended here (replay comparison) */
	void (*tap)(void *ctx, uint64_t ts, const uint8_t *f, uint32_t len);
	void *tap_ctx;
};

static inline uint16_t tc_sum(const uint8_t *b, uint32_t len, uint32_t sum)
{
	for (uint32_t i = 0; i < len; i++)
		sum += (i & 1) ? b[i] : (uint32_t)b[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* True when the frame's IPv4 header and TCP/UDP/ICMP checksums verify. */
static inline bool tc_frame_csum_ok(const uint8_t *f, uint32_t len)
{
	uint32_t off = 14;
	if (len < 14)
		return false;
	uint16_t et = (uint16_t)(f[12] << 8 | f[13]);
	if (et == 0x8100) {
		off = 18;
		et = (uint16_t)(f[16] << 8 | f[17]);
	}
	if (et == 0x0806)
		return true;
	if (et != 0x0800 || len < off + 20)
		return false;
	const uint8_t *ip = f + off;
	uint32_t ihl = (uint32_t)(ip[0] & 15) * 4;
	uint32_t tot = (uint32_t)(ip[2] << 8 | ip[3]);
	if (tot > len - off || ihl < 20 || tot < ihl)
		return false;
	if (tc_sum(ip, ihl, 0) != 0xffff)
		return false;
	uint32_t l4 = tot - ihl;
	uint32_t ps = 0;
	if (ip[9] == 6 || ip[9] == 17) {
		ps = tc_sum(ip + 12, 8, 0);
		ps += ip[9] + l4;
	}
	return tc_sum(ip + ihl, l4, ps) == 0xffff;
}

static inline void tc_emit(void *ctx, uint64_t ts, const uint8_t *frame, uint32_t len)
{
	struct tc *t = ctx;
	if (!tc_frame_csum_ok(frame, len))
		t->bad_csum++;
	t->total_out++;
	if (t->tap)
		t->tap(t->tap_ctx, ts, frame, len);
	if (t->nout < TC_MAX_FRAMES && len <= sizeof t->out[0].b) {
		struct tc_frame *o = &t->out[t->nout++];
		o->ts = ts;
		o->len = len;
		memcpy(o->b, frame, len);
	}
}

static inline void tc_log(void *ctx, const struct hl_event *ev)
{
	struct tc *t = ctx;
	if (t->nlines < TC_MAX_LINES) {
		hl_format(ev, t->lines[t->nlines], sizeof t->lines[0]);
		t->ev[t->nlines] = *ev;
		t->ev[t->nlines].os = NULL;
		t->nlines++;
	}
}

static inline void tc_record(void *ctx, const struct hl_event *ev, const char *k, const char *v)
{
	struct tc *t = ctx;
	(void)ev;
	if (t->nrec < TC_MAX_LINES)
		snprintf(t->rec[t->nrec++], sizeof t->rec[0], "%s=%s", k, v);
}

static inline void tc_clear(struct tc *t)
{
	t->nout = 0;
}

static inline void tc_opts(struct stack_opts *o, struct tc *t, const struct sc_config *cfg,
			   uint64_t seed)
{
	memset(o, 0, sizeof *o);
	o->cfg = cfg;
	o->seed = seed;
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x99 };
	memcpy(o->if_mac, mac, 6);
	o->verify_checksums = true;
	o->emit = tc_emit;
	o->log = tc_log;
	o->record = tc_record;
	o->ctx = t;
}

static inline void tc_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void tc_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t tc_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const uint8_t tc_client_mac[6] = { 0x00, 0x16, 0x3e, 0x11, 0x22, 0x33 };
static const uint8_t tc_sensor_mac[6] = { 0x02, 0, 0, 0, 0, 0x99 };

/* Ethernet + IPv4 header; returns the offset of the L4 header. */
static inline uint32_t tc_ip(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto,
			     uint32_t l4len, uint8_t ttl)
{
	memcpy(f, tc_sensor_mac, 6);
	memcpy(f + 6, tc_client_mac, 6);
	tc_put16(f + 12, 0x0800);
	uint8_t *ip = f + 14;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	tc_put16(ip + 2, (uint16_t)(20 + l4len));
	tc_put16(ip + 4, 0x1234);
	ip[6] = 0x40;
	ip[8] = ttl;
	ip[9] = proto;
	tc_put32(ip + 12, src);
	tc_put32(ip + 16, dst);
	tc_put16(ip + 10, (uint16_t)~tc_sum(ip, 20, 0));
	return 34;
}

static inline void tc_l4_csum(uint8_t *f, uint32_t l4len, uint32_t csum_off)
{
	uint8_t *ip = f + 14;
	uint32_t ps = tc_sum(ip + 12, 8, 0);
	ps += ip[9] + l4len;
	tc_put16(f + 34 + csum_off, (uint16_t)~tc_sum(f + 34, l4len, ps));
}

/* A TCP segment like Linux's: SYNs carry mss,sackOK,ts,nop,wscale. */
static inline uint32_t tc_tcp(uint8_t *f, uint32_t src, uint16_t sport, uint32_t dst,
			      uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
			      const void *data, uint32_t len)
{
	bool syn = flags & 0x02;
	uint32_t hl = syn ? 40 : 20;
	uint32_t o = tc_ip(f, src, dst, 6, hl + len, 64);
	uint8_t *th = f + o;
	memset(th, 0, hl);
	tc_put16(th, sport);
	tc_put16(th + 2, dport);
	tc_put32(th + 4, seq);
	tc_put32(th + 8, ack);
	th[12] = (uint8_t)((hl / 4) << 4);
	th[13] = flags;
	tc_put16(th + 14, 64240);
	if (syn) {
		static const uint8_t opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1,
						  0, 0, 0, 0, 1, 3, 3, 7 };
		memcpy(th + 20, opts, 20);
	}
	if (len)
		memcpy(th + hl, data, len);
	tc_l4_csum(f, hl + len, 16);
	return o + hl + len;
}

static inline uint32_t tc_udp(uint8_t *f, uint32_t src, uint16_t sport, uint32_t dst,
			      uint16_t dport, const void *data, uint32_t len)
{
	uint32_t o = tc_ip(f, src, dst, 17, 8 + len, 64);
	uint8_t *uh = f + o;
	tc_put16(uh, sport);
	tc_put16(uh + 2, dport);
	tc_put16(uh + 4, (uint16_t)(8 + len));
	uh[6] = uh[7] = 0;
	if (len)
		memcpy(uh + 8, data, len);
	tc_l4_csum(f, 8 + len, 6);
	return o + 8 + len;
}

static inline uint32_t tc_echo(uint8_t *f, uint32_t src, uint32_t dst, uint16_t id,
			       uint16_t seq, const void *data, uint32_t len)
{
	uint32_t o = tc_ip(f, src, dst, 1, 8 + len, 64);
	uint8_t *ic = f + o;
	ic[0] = 8;
	ic[1] = 0;
	ic[2] = ic[3] = 0;
	tc_put16(ic + 4, id);
	tc_put16(ic + 6, seq);
	if (len)
		memcpy(ic + 8, data, len);
	tc_put16(ic + 2, (uint16_t)~tc_sum(ic, 8 + len, 0));
	return o + 8 + len;
}

static inline uint32_t tc_arp(uint8_t *f, uint32_t sender, uint32_t target)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, tc_client_mac, 6);
	tc_put16(f + 12, 0x0806);
	uint8_t *a = f + 14;
	static const uint8_t hdr[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	memcpy(a, hdr, 8);
	memcpy(a + 8, tc_client_mac, 6);
	tc_put32(a + 14, sender);
	memset(a + 18, 0, 6);
	tc_put32(a + 24, target);
	memset(f + 42, 0, 18);
	return 60;
}

/* Decoded view of an emitted frame. */
static inline int tc_decode(const struct tc_frame *fr, struct vg_pkt *p)
{
	memset(p, 0, sizeof *p);
	return vg_decode(VG_LINK_ETHERNET, fr->b, fr->len, fr->len, p);
}

#define TC_IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

#endif
