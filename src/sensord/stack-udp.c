/* stack-udp.c: UDP and ICMP.
 *
 * UDP to an open port goes to the service one datagram at a time (its
 * state lives for that datagram only, in a scratch buffer); a flow record
 * (S at the first datagram, E after STACK_UDP_IDLE_S of silence) counts the
 * bytes.  Closed ports get ICMP port unreachable under the token buckets a
 * Linux host uses: per source 1 per second with a burst of 6
 * (icmp_ratelimit, XRLIM_BURST_FACTOR), and 1000 per second with a burst of
 * 50 overall (icmp_msgs_per_sec/burst).  That is also what makes a UDP
 * scan of a virtual host as slow as one of a real host. */
#include "stack-internal.h"

#include <errno.h>
#include <string.h>

#define RL_SRC_RATE 1
#define RL_SRC_BURST 6
#define RL_ALL_RATE 1000
#define RL_ALL_BURST 50
#define UDP_MAX_PAYLOAD ST_UDP_MAX_PAYLOAD

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static bool bucket_take(struct st_bucket *b, uint64_t now, uint32_t rate, uint32_t burst)
{
	uint64_t cap = (uint64_t)burst * 1000;
	if (now > b->last_ns) {
		uint64_t add = (now - b->last_ns) / 1000000 * rate;   /* ms * rate */
		uint64_t t = b->tokens + add;
		b->tokens = (uint32_t)(t > cap ? cap : t);
		b->last_ns = now;
	}
	if (b->tokens < 1000)
		return false;
	b->tokens -= 1000;
	return true;
}

static bool icmp_allowed(struct stack *s, const struct vg_ip *dst)
{
	uint32_t ip = vg_ip4(dst);
	struct st_bucket *b = &s->icmp_rl[((ip * 2654435761u) >> 20) & (ST_ICMP_BUCKETS - 1)];
	if (b->ip != ip || b->last_ns == 0) {
		b->ip = ip;
		b->tokens = RL_SRC_BURST * 1000;
		b->last_ns = s->now_ns ? s->now_ns : 1;
	}
	if (s->icmp_global.last_ns == 0) {
		s->icmp_global.tokens = RL_ALL_BURST * 1000;
		s->icmp_global.last_ns = s->now_ns ? s->now_ns : 1;
	}
	if (!bucket_take(b, s->now_ns, RL_SRC_RATE, RL_SRC_BURST))
		return false;
	return bucket_take(&s->icmp_global, s->now_ns, RL_ALL_RATE, RL_ALL_BURST);
}

/* An ICMP message to the packet's source: hdr (8 bytes, checksum left 0)
 * then body. */
static void icmp_send(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		      const struct vg_pkt *p, const uint8_t *hdr, const uint8_t *body,
		      uint32_t blen)
{
	uint8_t *ip = st_l2_write(s, l2);
	uint32_t room = (uint32_t)(s->out + STACK_MAX_FRAME - ip) - 28;
	if (blen > room)
		blen = room;
	memcpy(ip, tm->ip4, 20);
	uint8_t *ic = ip + 20;
	memcpy(ic, hdr, 8);
	ic[2] = ic[3] = 0;
	if (blen)
		memcpy(ic + 8, body, blen);
	put16(ic + 2, stack_csum(ic, 8 + blen, 0));
	st_ip4_finish(ip, (uint16_t)(28 + blen), tm, p->dst.a, p->src.a);
	st_emit(s, ic + 8 + blen);
}

static void port_unreachable(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
			     const struct vg_pkt *p)
{
	if (!icmp_allowed(s, &p->src)) {
		s->st.icmp_ratelimited++;
		return;
	}
	if (tm->pers && stp_port_unreach(s, tm, l2, p))
		return;
	/* RFC 792: the offending IP header and its first 8 data bytes. */
	uint32_t ihl = (uint32_t)(p->l3[0] & 0x0f) * 4;
	uint32_t q = ihl + 8;
	if (q > p->l3_caplen)
		q = p->l3_caplen;
	uint8_t hdr[8] = { 3, 3, 0, 0, 0, 0, 0, 0 };
	icmp_send(s, tm, l2, p, hdr, p->l3, q);
}

/* --- UDP services ---------------------------------------------------------- */

void st_udp_send(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		 const uint8_t *self, const uint8_t *peer, uint16_t sport, uint16_t dport,
		 const uint8_t *data, uint32_t len)
{
	if (len > UDP_MAX_PAYLOAD)
		len = UDP_MAX_PAYLOAD;
	uint8_t *ip = st_l2_write(s, l2);
	memcpy(ip, tm->udp4, 28);
	uint8_t *uh = ip + 20;
	put16(uh, sport);
	put16(uh + 2, dport);
	put16(uh + 4, (uint16_t)(8 + len));
	if (len)
		memcpy(uh + 8, data, len);
	st_ip4_finish(ip, (uint16_t)(28 + len), tm, self, peer);
	uint32_t sum = st_pseudo4(self, peer, 17, 8 + len);
	uint16_t c = st_csum_fold(st_csum_add(sum, uh, 8 + len));
	put16(uh + 6, c ? c : 0xffff);
	st_emit(s, uh + 8 + len);
}

struct udp_ctx {
	struct stack *s;
	struct st_tmpl *tm;
	const struct st_l2 *l2;
	const struct vg_pkt *p;
	struct st_conn *flow;
	uint32_t call_bytes;
	uint32_t req_len;               /* the request's payload */
};

static int udp_io_send(struct svc_io *io, const void *buf, size_t len)
{
	struct udp_ctx *x = io->ctx;
	struct stack *s = x->s;
	const struct vg_pkt *p = x->p;
	if (x->call_bytes + len > SVC_MAX_REPLY)
		return -ENOSPC;
	if (len > UDP_MAX_PAYLOAD)
		return -EMSGSIZE;
	/* No reflection: a reply larger than the request is rate-limited
	 * per source (stack.h, guard). */
	if (!st_amp_allowed(s, &p->src, (uint32_t)len, x->req_len))
		return 0;
	st_udp_send(s, x->tm, x->l2, p->dst.a, p->src.a, p->dport, p->sport, buf,
		    (uint32_t)len);
	x->call_bytes += (uint32_t)len;
	if (x->flow)
		x->flow->tx_bytes += len;
	return 0;
}

static void udp_io_close(struct svc_io *io)
{
	(void)io;
}

static void udp_io_record(struct svc_io *io, const char *key, const char *value)
{
	struct udp_ctx *x = io->ctx;
	struct stack *s = x->s;
	if (!s->o.record)
		return;
	struct hl_event ev;
	memset(&ev, 0, sizeof ev);
	ev.ts_ns = s->now_ns;
	ev.kind = HL_START;
	ev.proto = 17;
	ev.src = x->p->src;
	ev.dst = x->p->dst;
	ev.sport = x->p->sport;
	ev.dport = x->p->dport;
	s->o.record(s->o.ctx, &ev, key ? key : "", value ? value : "");
}

void st_udp_input(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		  const struct vg_pkt *p)
{
	if (p->l4_caplen < 8)
		return;
	const struct sc_port *rule = NULL;
	enum sc_action act = sc_port_action(tm->t, 17, p->dport, &rule);
	if (act == SC_BLOCK) {
		st_log(s, HL_PROBE, p, st_os_of(s, &p->src));
		return;
	}
	if (act == SC_CLOSED || act == SC_RESET) {
		st_log(s, HL_PROBE, p, st_os_of(s, &p->src));
		port_unreachable(s, tm, l2, p);
		return;
	}
	uint32_t len = p->payload_caplen < p->payload_len ? p->payload_caplen : p->payload_len;
	struct st_conn *f = st_conn_find(s, CONN_UDP, &p->src, p->sport, &p->dst, p->dport);
	if (!f && s->udp_open < s->udp_cap) {
		f = st_conn_alloc(s, CONN_UDP, &p->src, p->sport, &p->dst, p->dport);
		if (f) {
			f->tmpl = (uint32_t)(tm - s->tmpls);
			f->l2 = *l2;
			f->start_ns = s->now_ns;
			f->os_label = st_os_of(s, &p->src);
			st_log_conn(s, HL_START, f);
		}
	}
	if (f) {
		f->rx_bytes += len;
		f->last_rx_ns = s->now_ns;
	} else {
		st_log(s, HL_PROBE, p, st_os_of(s, &p->src));
	}
	if (act == SC_SCRIPT && rule && rule->arg && s->scripts) {
		st_script_start_udp(s, tm, l2, p, p->payload, len, rule->arg);
		return;
	}
	const struct svc_def *d = st_service_for(tm->t, 17, p->dport, act, rule);
	if (!d || !d->input)
		return;
	if (d->state_size > s->udp_scratch_len)
		return;
	memset(s->udp_scratch, 0, d->state_size);
	struct udp_ctx x = { .s = s, .tm = tm, .l2 = l2, .p = p, .flow = f, .req_len = len };
	struct svc_io io;
	memset(&io, 0, sizeof io);
	io.send = udp_io_send;
	io.close = udp_io_close;
	io.record = udp_io_record;
	io.ctx = &x;
	io.src = &p->src;
	io.dst = &p->dst;
	io.sport = p->sport;
	io.dport = p->dport;
	io.proto = 17;
	io.now_ns = s->now_ns;
	io.personality = tm->t ? tm->t->personality : NULL;
	d->input(s->udp_scratch, &io, p->payload, len);
}

/* --- ICMP ----------------------------------------------------------------- */

void st_icmp_input(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		   const struct vg_pkt *p)
{
	st_log(s, HL_PROBE, p, st_os_of(s, &p->src));
	if (tm->t && tm->t->def_icmp != SC_OPEN)
		return;
	uint32_t ihl = (uint32_t)(p->l3[0] & 0x0f) * 4;
	uint32_t len = p->ip_len > ihl ? p->ip_len - ihl : 0;
	if (len > p->l4_caplen)
		len = p->l4_caplen;
	if (len < 8)
		return;
	const uint8_t *ic = p->l4;
	uint8_t hdr[8];
	memcpy(hdr, ic, 8);
	if (p->icmp_type == 8 && tm->pers) {
		stp_echo_reply(s, tm, l2, p, ic, len);
	} else if (p->icmp_type == 8) {
		hdr[0] = 0;     /* echo reply: same id, sequence and data */
		icmp_send(s, tm, l2, p, hdr, ic + 8, len - 8);
	} else if (p->icmp_type == 13 && len >= 20) {
		uint8_t body[12];
		uint64_t ms = (s->now_ns / 1000000) % 86400000ull;
		hdr[0] = 14;
		memcpy(body, ic + 8, 4);        /* originate */
		for (int i = 0; i < 2; i++) {
			body[4 + 4 * i] = (uint8_t)(ms >> 24);
			body[5 + 4 * i] = (uint8_t)(ms >> 16);
			body[6 + 4 * i] = (uint8_t)(ms >> 8);
			body[7 + 4 * i] = (uint8_t)ms;
		}
		icmp_send(s, tm, l2, p, hdr, body, 12);
	}
}
