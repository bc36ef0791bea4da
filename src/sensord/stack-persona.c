/* stack-persona.c: the responder's side of the personalities
 * (templ-persona.h): which of nmap's probes a segment is, and the reply
 * the personality gives to it; ISNs, IP IDs and TCP timestamps per
 * virtual address; ICMP echo and port-unreachable replies.
 *
 * nmap's probes are recognised by what nmap documents for them (window,
 * flags, option layout, TSval 0xFFFFFFFF); anything else is ordinary
 * traffic and gets the personality's answer to the first SEQ probe (T1,
 * W1, O1) with the options the peer did not offer left out, as a real
 * stack negotiates. */
#include "stack-internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "templ-persona.h"

#define STP_HOSTS 4096u         /* per-address state, direct-mapped */
#define STP_ISNS 4096u          /* SYN-ACKs remembered (counter ISNs) */
#define STP_ISN_MAX_AGE_S 128

struct stp_host {
	uint32_t ip;
	bool used;
	uint16_t ctr;           /* I and BI */
	uint16_t ri;            /* RI */
	uint32_t ts_base;
};

struct stp_isn {
	uint64_t tag;           /* keyed hash of the tuple, 0 = free */
	uint32_t isn;
	uint16_t mss;
	uint32_t when_s;
};

struct stp_rt {
	struct stp_host hosts[STP_HOSTS];
	struct stp_isn isns[STP_ISNS];
	uint64_t rng;
	uint64_t key[2];
};

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t rnd(struct stp_rt *rt)
{
	rt->rng ^= rt->rng << 13;
	rt->rng ^= rt->rng >> 7;
	rt->rng ^= rt->rng << 17;
	return (uint32_t)(rt->rng >> 16);
}

struct stp_rt *stp_rt_new(uint64_t seed, const uint64_t key[2])
{
	struct stp_rt *rt = calloc(1, sizeof *rt);
	if (!rt)
		return NULL;
	rt->rng = (seed * 0x9e3779b97f4a7c15ull) | 1;
	rt->key[0] = key[0] ^ 0x7065727330000000ull;   /* apart from the cookies' */
	rt->key[1] = key[1];
	return rt;
}

void stp_rt_free(struct stp_rt *rt)
{
	free(rt);
}

static struct stp_host *host_of(struct stp_rt *rt, const struct st_tmpl *tm, const uint8_t *a)
{
	uint32_t ip = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	struct stp_host *h = &rt->hosts[(ip * 2654435761u) >> 20 & (STP_HOSTS - 1)];
	if (!h->used || h->ip != ip) {
		h->used = true;
		h->ip = ip;
		h->ctr = (uint16_t)rnd(rt);
		h->ri = (uint16_t)rnd(rt);
		/* "set T uptime N" shows in the timestamps; else a random
		 * uptime of up to about a month. */
		uint32_t up = tm->t && tm->t->uptime ? tm->t->uptime : rnd(rt) % 2600000u;
		h->ts_base = (uint32_t)fmod((double)up * tm->pers->ts_hz, 4294967296.0);
	}
	return h;
}

/* --- set-up ------------------------------------------------------------------------ */

int st_personas_init(struct stack *s, struct vg_err *err)
{
	if (!s->o.osdb || !s->ntmpls)
		return 0;
	s->personas = calloc(s->ntmpls, sizeof *s->personas);
	s->prt = stp_rt_new(s->rng, s->key);
	if (!s->personas || !s->prt)
		return vg_err_set(err, -ENOMEM, "stack: out of memory for personalities");
	for (size_t i = 0; i < s->ntmpls; i++) {
		struct st_tmpl *tm = &s->tmpls[i];
		const char *name = tm->t ? tm->t->personality : NULL;
		if (!name)
			continue;
		struct persona *pe = &s->personas[i];
		struct vg_err e = { 0 };
		if (persona_resolve(pe, s->o.osdb, name, &e) < 0) {
			if (s->o.warn) {
				char msg[768];
				snprintf(msg, sizeof msg, "template %s: %s; using TTL, DF and window "
					 "from the name alone", tm->t->name, e.msg);
				s->o.warn(s->o.ctx, msg);
			}
			continue;
		}
		tm->pers = pe;
		tm->prt = s->prt;
		/* The prebuilt headers of established connections and UDP
		 * replies carry the personality's TTL, DF and window too. */
		tm->pe.ttl = pe->ttl;
		tm->pe.df = pe->df;
		tm->pe.win = pe->win;
		tm->pe.mss = pe->mss;
		uint8_t *hdrs[3] = { tm->ip4, tm->tcp4, tm->udp4 };
		for (int k = 0; k < 3; k++) {
			hdrs[k][6] = pe->df ? 0x40 : 0;
			hdrs[k][8] = pe->ttl;
		}
		put16(tm->tcp4 + 20 + 14, pe->win);
	}
	return 0;
}

void st_personas_free(struct stack *s)
{
	free(s->personas);
	stp_rt_free(s->prt);
	s->personas = NULL;
	s->prt = NULL;
}

/* --- IP IDs ----------------------------------------------------------------------- */

uint16_t stp_ip_id(struct st_tmpl *tm, uint8_t proto, uint8_t tcp_flags, const uint8_t *self)
{
	const struct persona *pe = tm->pers;
	const struct pers_id *id = &pe->ti;
	if (proto == 1)
		id = &pe->ii;
	else if (proto == 6 && (tcp_flags & VG_TH_RST))
		id = &pe->ci;
	struct stp_rt *rt = tm->prt;
	struct stp_host *h = host_of(rt, tm, self);
	switch (id->cls) {
	case PERS_ID_Z:
		return 0;
	case PERS_ID_I:
		return ++h->ctr;
	case PERS_ID_BI: {
		uint16_t v = ++h->ctr;
		return (uint16_t)(v << 8 | v >> 8);
	}
	case PERS_ID_RI: {
		/* Over 1000 and not a multiple of 256: nmap's "RI". */
		uint16_t inc = (uint16_t)(1001 + rnd(rt) % 4000);
		if (!(inc & 0xff))
			inc++;
		h->ri = (uint16_t)(h->ri + inc);
		return h->ri;
	}
	case PERS_ID_RD:
		return (uint16_t)rnd(rt);
	default:
		return id->fixed;
	}
}

/* --- the peer's SYN ------------------------------------------------------------------ */

struct syn_opts {
	uint16_t mss;
	bool ws, ts, sack;
	uint32_t tsval;
	uint8_t first;          /* kind of the first option, 0 if none */
};

static void parse_opts(const struct vg_pkt *p, struct syn_opts *so)
{
	memset(so, 0, sizeof *so);
	so->mss = 536;
	uint32_t hl = p->tcp_hlen;
	if (hl > p->l4_caplen)
		hl = p->l4_caplen;
	const uint8_t *o = p->l4;
	for (uint32_t i = 20; i < hl;) {
		uint8_t kind = o[i];
		if (!so->first)
			so->first = kind;
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hl || o[i + 1] < 2 || i + o[i + 1] > hl)
			break;
		uint8_t len = o[i + 1];
		if (kind == 2 && len == 4)
			so->mss = (uint16_t)(o[i + 2] << 8 | o[i + 3]);
		else if (kind == 3 && len == 3)
			so->ws = true;
		else if (kind == 4 && len == 2)
			so->sack = true;
		else if (kind == 8 && len == 10) {
			so->ts = true;
			so->tsval = (uint32_t)o[i + 2] << 24 | (uint32_t)o[i + 3] << 16 |
				    (uint32_t)o[i + 4] << 8 | o[i + 5];
		}
		i += len;
	}
}

/* --- ISNs ------------------------------------------------------------------------------ */

static uint64_t tuple_hash(const struct stp_rt *rt, const struct vg_pkt *p, uint32_t slot,
			   unsigned idx)
{
	uint8_t m[17];
	memcpy(m, p->src.a, 4);
	memcpy(m + 4, p->dst.a, 4);
	m[8] = (uint8_t)(p->sport >> 8);
	m[9] = (uint8_t)p->sport;
	m[10] = (uint8_t)(p->dport >> 8);
	m[11] = (uint8_t)p->dport;
	put32(m + 12, slot);
	m[16] = (uint8_t)idx;
	return st_siphash(rt->key, m, sizeof m);
}

/* The slot and MSS bits would leave every ISN difference even (nmap's
 * probes differ in MSS index by 0, 2 or 4): a per-tuple mask makes the
 * low byte look as random as the rest, so the GCD comes out 1. */
static uint32_t low_mask(const struct stp_rt *rt, const struct vg_pkt *p)
{
	return (uint32_t)(tuple_hash(rt, p, 0xffffffffu, 0xff) >> 32) & 0xffu;
}

static uint32_t now_slot(const struct stack *s)
{
	return (uint32_t)(s->now_ns / NS_PER_S) >> 6;   /* 64 s, as the cookies */
}

static uint32_t make_isn(struct stack *s, struct st_tmpl *tm, const struct vg_pkt *p,
			 uint16_t peer_mss, uint16_t *mss_out)
{
	const struct persona *pe = tm->pers;
	struct stp_rt *rt = tm->prt;
	unsigned idx = 0;
	for (unsigned i = 0; i < 8; i++)
		if (st_cookie_mss_table[i] <= peer_mss)
			idx = i;
	*mss_out = st_cookie_mss_table[idx];
	if (pe->isn_mode == PERS_ISN_COOKIE) {
		uint32_t slot = now_slot(s);
		uint32_t h = (uint32_t)(tuple_hash(rt, p, slot, idx) % pe->isn_span);
		uint32_t k = h << 8 | (((slot & 31u) << 3 | idx) ^ low_mask(rt, p));
		return k << pe->gcd_shift;
	}
	double t = (double)s->now_ns / 1e9;
	uint64_t th = tuple_hash(rt, p, 0, 0);
	uint32_t isn = (uint32_t)rt->key[1];    /* GCD 0: one ISN for ever */
	if (pe->gcd) {
		uint64_t c = (uint64_t)(t * pe->isn_rate / pe->gcd);
		uint64_t noise = pe->isn_noise ? th % (pe->isn_noise + 1u) : 0;
		isn = (uint32_t)((c + noise) * pe->gcd);
	}
	struct stp_isn *e = &rt->isns[th & (STP_ISNS - 1)];
	e->tag = th | 1;
	e->isn = isn;
	e->mss = *mss_out;
	e->when_s = (uint32_t)(s->now_ns / NS_PER_S);
	return isn;
}

uint16_t stp_cookie_check(struct stack *s, struct st_tmpl *tm, const struct vg_pkt *p)
{
	const struct persona *pe = tm->pers;
	struct stp_rt *rt = tm->prt;
	uint32_t isn = p->tcp_ack - 1;
	if (pe->isn_mode == PERS_ISN_COOKIE) {
		if (isn & (pe->gcd - 1))
			return 0;
		uint32_t k = isn >> pe->gcd_shift;
		uint32_t low = (k ^ low_mask(rt, p)) & 0xffu;
		uint32_t ns = now_slot(s);
		uint32_t age = (ns - (low >> 3)) & 31u;
		if (age > 2)
			return 0;
		unsigned idx = low & 7u;
		uint32_t h = (uint32_t)(tuple_hash(rt, p, ns - age, idx) % pe->isn_span);
		return h == k >> 8 ? st_cookie_mss_table[idx] : 0;
	}
	uint64_t th = tuple_hash(rt, p, 0, 0);
	struct stp_isn *e = &rt->isns[th & (STP_ISNS - 1)];
	uint32_t now = (uint32_t)(s->now_ns / NS_PER_S);
	if (e->tag != (th | 1) || e->isn != isn || now - e->when_s > STP_ISN_MAX_AGE_S)
		return 0;
	e->tag = 0;
	return e->mss;
}

/* --- TCP replies --------------------------------------------------------------------------- */

static uint32_t ts_now(struct st_tmpl *tm, const uint8_t *self, uint64_t now_ns)
{
	const struct persona *pe = tm->pers;
	if (pe->ts != PERS_TS_RATE)
		return 0;
	struct stp_host *h = host_of(tm->prt, tm, self);
	return h->ts_base + (uint32_t)fmod((double)now_ns / 1e9 * pe->ts_hz, 4294967296.0);
}

static void send_resp(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		      const struct vg_pkt *p, const struct pers_resp *r, uint32_t isn,
		      const struct syn_opts *so, bool ecn)
{
	uint8_t *ip = st_l2_write(s, l2);
	memset(ip, 0, 60);
	ip[0] = 0x45;
	if (r->df)
		ip[6] = 0x40;
	ip[8] = r->ttl;
	ip[9] = 6;
	uint8_t *th = ip + 20;
	put16(th, p->dport);
	put16(th + 2, p->sport);
	uint32_t seq = 0, ack = 0;
	switch (r->seq_mode) {
	case PERS_A: seq = p->tcp_ack; break;
	case PERS_APLUS: seq = p->tcp_ack + 1; break;
	case PERS_O: seq = isn; break;
	default: break;
	}
	switch (r->ack_mode) {
	case PERS_S: ack = p->tcp_seq; break;
	case PERS_SPLUS: ack = p->tcp_seq + 1; break;
	case PERS_O: ack = p->tcp_seq + 1 + (isn | 1u); break;
	default: break;
	}
	put32(th + 4, seq);
	put32(th + 8, ack);
	uint8_t flags = r->flags;
	if (ecn) {
		flags = VG_TH_SYN | VG_TH_ACK;
		if (r->cc == 'Y')
			flags |= 0x40;
		else if (r->cc == 'S')
			flags |= 0xC0;
		else if (r->cc == 'O')
			flags |= 0x80;
	}
	uint8_t opts[PERS_MAX_OPTS];
	unsigned ol = persona_tcp_options(r->opts, opts, ts_now(tm, p->dst.a, s->now_ns),
					  so->tsval, so->ws, so->ts, so->sack);
	memcpy(th + 20, opts, ol);
	uint32_t hlen = 20 + ol;
	th[12] = (uint8_t)((hlen / 4) << 4);
	if (r->quirk_reserved)
		th[12] |= 0x08;
	th[13] = flags;
	put16(th + 14, r->win);
	if (r->quirk_urgent && !(flags & VG_TH_URG))
		put16(th + 18, 0xF7F5);
	st_ip4_finish(ip, (uint16_t)(20 + hlen), tm, p->dst.a, p->src.a);
	uint32_t sum = st_pseudo4(p->dst.a, p->src.a, 6, hlen);
	put16(th + 16, st_csum_fold(st_csum_add(sum, th, hlen)));
	st_emit(s, th + hlen);
}

/* Which SEQ probe (0-5) a SYN is, or -1 for ordinary traffic. */
static int seq_probe(const struct vg_pkt *p, const struct syn_opts *so)
{
	if (!so->ts || so->tsval != 0xFFFFFFFFu)
		return -1;
	switch (p->tcp_win) {
	case 1: return 0;
	case 63: return 1;
	case 4: return so->first == 8 ? 2 : 3;
	case 16: return 4;
	case 512: return 5;
	default: return -1;
	}
}

void stp_syn_ack(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		 const struct vg_pkt *p)
{
	const struct persona *pe = tm->pers;
	struct syn_opts so;
	parse_opts(p, &so);
	const struct pers_resp *r;
	struct pers_resp ord;
	bool ecn = false;
	int k = seq_probe(p, &so);
	if (k >= 0) {
		r = &pe->seq[k];
	} else if ((p->tcp_flags & 0xC0) == 0xC0 && p->tcp_win == 3) {
		r = &pe->ecn;
		ecn = true;
	} else {
		/* Ordinary traffic: T1's TTL, DF, window and options, and
		 * always a SYN-ACK a client can complete, whatever odd reply
		 * the system gave nmap's first probe. */
		ord = pe->seq[0];
		ord.respond = true;
		ord.seq_mode = PERS_O;
		ord.ack_mode = PERS_SPLUS;
		ord.flags = (uint8_t)((ord.flags & ~(VG_TH_RST | VG_TH_FIN)) | VG_TH_SYN | VG_TH_ACK);
		r = &ord;
	}
	if (!r->respond)
		return;
	uint16_t mss;
	uint32_t isn = make_isn(s, tm, p, so.mss, &mss);
	send_resp(s, tm, l2, p, r, isn, &so, ecn);
}

bool stp_tcp_reply(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		   const struct vg_pkt *p, int test)
{
	const struct persona *pe = tm->pers;
	if (test < 2 || test > 7)
		return false;
	const struct pers_resp *r = &pe->t[test];
	if (!r->respond)
		return true;
	struct syn_opts so;
	parse_opts(p, &so);
	uint32_t isn = 0;
	if (r->seq_mode == PERS_O || r->ack_mode == PERS_O) {
		uint16_t mss;
		isn = make_isn(s, tm, p, so.mss, &mss);
	}
	send_resp(s, tm, l2, p, r, isn, &so, false);
	return true;
}

bool stp_tcp_input(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		   const struct vg_pkt *p, enum sc_action act)
{
	uint8_t f = p->tcp_flags;
	if (act == SC_BLOCK || (f & VG_TH_RST))
		return false;
	bool syn = f & VG_TH_SYN, ackf = f & VG_TH_ACK;
	if (act == SC_CLOSED || act == SC_RESET) {
		st_log(s, HL_PROBE, p, st_os_of(s, &p->src));
		/* T5: SYN; T6: ACK; T7: the rest (FIN, Xmas, NULL, ...). */
		stp_tcp_reply(s, tm, l2, p, syn && !ackf ? 5 : ackf && !syn ? 6 : 7);
		return true;
	}
	if (syn && !ackf) {
		st_log(s, HL_PROBE, p, st_os_of(s, &p->src));
		if (f & (VG_TH_FIN | VG_TH_URG | VG_TH_PSH))
			stp_tcp_reply(s, tm, l2, p, 3);
		else
			stp_syn_ack(s, tm, l2, p);
		return true;
	}
	if (!syn && !ackf && !(f & VG_TH_FIN)) {
		/* NULL segment: nmap's T2. */
		st_log(s, HL_PROBE, p, st_os_of(s, &p->src));
		stp_tcp_reply(s, tm, l2, p, 2);
		return true;
	}
	return false;       /* ACKs go on to the handshake; the rest as before */
}

/* --- ICMP --------------------------------------------------------------------------------------- */

static uint8_t *icmp_head(struct stack *s, const struct st_l2 *l2, bool df, uint8_t ttl)
{
	uint8_t *ip = st_l2_write(s, l2);
	memset(ip, 0, 28);
	ip[0] = 0x45;
	if (df)
		ip[6] = 0x40;
	ip[8] = ttl;
	ip[9] = 1;
	return ip;
}

bool stp_echo_reply(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		    const struct vg_pkt *p, const uint8_t *icmp, uint32_t len)
{
	const struct persona *pe = tm->pers;
	if (!pe->ie_respond)
		return true;
	bool probe_df = p->l3[6] & 0x40;
	bool df = pe->dfi == 'Y' || (pe->dfi == 'S' && probe_df) || (pe->dfi == 'O' && !probe_df);
	uint8_t *ip = icmp_head(s, l2, df, pe->ie_ttl);
	uint32_t room = (uint32_t)(s->out + STACK_MAX_FRAME - ip) - 20;
	if (len > room)
		len = room;
	uint8_t *ic = ip + 20;
	memcpy(ic, icmp, len);
	ic[0] = 0;
	uint8_t code = icmp[1];
	ic[1] = pe->cd == 'Z' ? 0 : pe->cd == 'V' ? pe->cd_val : pe->cd == 'O' ? (uint8_t)(code + 1) : code;
	ic[2] = ic[3] = 0;
	put16(ic + 2, stack_csum(ic, len, 0));
	st_ip4_finish(ip, (uint16_t)(20 + len), tm, p->dst.a, p->src.a);
	st_emit(s, ic + len);
	return true;
}

bool stp_port_unreach(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		      const struct vg_pkt *p)
{
	const struct persona *pe = tm->pers;
	if (!pe->u1_respond)
		return true;
	uint8_t *ip = icmp_head(s, l2, pe->u1_df, pe->u1_ttl);
	uint8_t *ic = ip + 20;
	ic[0] = 3;
	ic[1] = 3;
	put32(ic + 4, pe->u1_un);
	/* The quoted datagram: as much as makes the reply IPL bytes long. */
	uint32_t ihl = (uint32_t)(p->l3[0] & 0x0f) * 4;
	uint32_t q = pe->u1_ipl > 28 ? pe->u1_ipl - 28u : ihl + 8;
	if (q < ihl + 8)
		q = ihl + 8;
	if (q > p->l3_caplen)
		q = p->l3_caplen;
	uint32_t room = (uint32_t)(s->out + STACK_MAX_FRAME - ic) - 8;
	if (q > room)
		q = room;
	uint8_t *qd = ic + 8;
	memcpy(qd, p->l3, q);
	if (q >= 20) {
		if (!pe->ripl_g)
			put16(qd + 2, pe->ripl);
		if (!pe->rid_g)
			put16(qd + 4, pe->rid);
		if (q >= ihl + 8 && !pe->ruck_g)
			put16(qd + ihl + 6, pe->ruck);
		if (pe->rud == 'I' && q > ihl + 8)
			qd[ihl + 8] ^= 0xff;
		qd[10] = qd[11] = 0;
		if (pe->ripck != 'Z' && ihl <= q) {
			uint16_t c = stack_csum(qd, ihl, 0);
			if (pe->ripck == 'I')
				c ^= 0x5a5a;
			put16(qd + 10, c);
		}
	}
	put16(ic + 2, stack_csum(ic, 8 + q, 0));
	st_ip4_finish(ip, (uint16_t)(28 + q), tm, p->dst.a, p->src.a);
	st_emit(s, qd + q);
	return true;
}
