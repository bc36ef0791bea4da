/* stack-core.c: the responder's entry points: decode, claim check, ARP,
 * drop rate, dispatch to TCP/UDP/ICMP; reply headers, checksums, logs.
 *
 * A user-space stack is written by hand because the virtual hosts must
 * answer with per-template TTL, window, options and IP ID behaviour for
 * addresses the kernel does not own, at rates a socket per connection
 * could not reach; no Debian library does this (Honeyd, which did, is
 * gone). */
#include "stack-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- personalities (until issue 4 brings nmap-os-db) ---------------------- */

void stack_persona_for(const char *pers, struct stack_persona *p)
{
	/* Linux is the default: it is what most Internet hosts run. */
	p->ttl = 64;
	p->df = true;
	p->win = 29200;
	p->mss = 1460;
	if (!pers)
		return;
	if (strcasestr(pers, "windows") || strcasestr(pers, "microsoft")) {
		p->ttl = 128;
		p->df = true;
		/* XP, 2000 and 2003 offered 65535; Vista and later 64240
		 * (8192 * n rounded to the MSS). */
		bool old = strcasestr(pers, "xp") || strcasestr(pers, "2000") ||
			   strcasestr(pers, "2003") || strcasestr(pers, " nt") ||
			   strcasestr(pers, "98") || strcasestr(pers, "95");
		p->win = old ? 65535 : 64240;
	} else if (strcasestr(pers, "cisco") || strcasestr(pers, "ios ")) {
		p->ttl = 255;
		p->df = false;
		p->win = 4128;
		p->mss = 536;
	} else if (strcasestr(pers, "bsd") || strcasestr(pers, "mac os") ||
		   strcasestr(pers, "darwin")) {
		p->ttl = 64;
		p->win = 65535;
		/* OpenBSD and NetBSD do not set DF on SYN-ACKs. */
		p->df = !(strcasestr(pers, "openbsd") || strcasestr(pers, "netbsd"));
	} else if (strcasestr(pers, "linux")) {
		p->ttl = 64;
		p->win = 29200;
	}
}

/* --- checksums (RFC 1071) ------------------------------------------------- */

uint32_t st_csum_add(uint32_t sum, const void *buf, uint32_t len)
{
	const uint8_t *b = buf;
	uint64_t acc = sum;
	uint32_t i = 0;
	for (; i + 1 < len; i += 2)
		acc += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (i < len)
		acc += (uint32_t)b[i] << 8;
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t st_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t stack_csum(const void *buf, uint32_t len, uint32_t sum)
{
	return st_csum_fold(st_csum_add(sum, buf, len));
}

uint32_t st_pseudo4(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t len)
{
	uint32_t sum = st_csum_add(0, src, 4);
	sum = st_csum_add(sum, dst, 4);
	return sum + proto + len;
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* --- prebuilt headers ------------------------------------------------------ */

static void build_ip4(uint8_t *ip, const struct stack_persona *pe, uint8_t proto)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	if (pe->df)
		ip[6] = 0x40;
	ip[8] = pe->ttl;
	ip[9] = proto;
}

static void build_tmpl(struct st_tmpl *tm, const struct sc_template *t,
		       const uint8_t if_mac[6], uint64_t *rng)
{
	tm->t = t;
	stack_persona_for(t ? t->personality : NULL, &tm->pe);
	memcpy(tm->mac, t && t->has_mac ? t->mac : if_mac, 6);
	build_ip4(tm->ip4, &tm->pe, 1);
	build_ip4(tm->tcp4, &tm->pe, 6);
	uint8_t *th = tm->tcp4 + 20;
	memset(th, 0, 20);
	th[12] = 5 << 4;
	put16(th + 14, tm->pe.win);
	build_ip4(tm->udp4, &tm->pe, 17);
	memset(tm->udp4 + 20, 0, 8);
	*rng ^= *rng << 13;
	*rng ^= *rng >> 7;
	*rng ^= *rng << 17;
	tm->ip_id = (uint16_t)*rng;
	/* Honeyd gave a template without "set T uptime" a random uptime of
	 * up to twenty days; from the seed here, so replays repeat. */
	tm->uptime0 = t && t->uptime ? t->uptime : (uint32_t)((*rng >> 24) % (20u * 86400u));
	double dr = t ? t->droprate_in : 0.0;
	if (dr < 0)
		dr = 0;
	if (dr > 100)
		dr = 100;
	tm->drop_below = (uint64_t)(dr / 100.0 * 4294967296.0);
}

void st_ip4_finish(uint8_t *ip, uint16_t totlen, struct st_tmpl *tm,
		   const uint8_t *src, const uint8_t *dst)
{
	put16(ip + 2, totlen);
	put16(ip + 4, tm->pers ? stp_ip_id(tm, ip[9], ip[20 + 13], src) : tm->ip_id++);
	ip[10] = ip[11] = 0;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	put16(ip + 10, stack_csum(ip, 20, 0));
}

uint8_t *st_l2_write(struct stack *s, const struct st_l2 *l2)
{
	uint8_t *e = s->out;
	memcpy(e, l2->dst, 6);
	memcpy(e + 6, l2->src, 6);
	if (l2->has_vlan) {
		put16(e + 12, 0x8100);
		put16(e + 14, l2->vlan & 0x0fff);
		put16(e + 16, 0x0800);
		return e + 18;
	}
	put16(e + 12, 0x0800);
	return e + 14;
}

/* --- guard: send caps ------------------------------------------------------ */

bool st_bucket_take(struct st_bucket *b, uint64_t now, uint32_t rate, uint32_t burst)
{
	uint64_t cap = (uint64_t)burst * 1000;
	if (cap > UINT32_MAX)
		cap = UINT32_MAX;
	if (b->last_ns == 0) {
		b->tokens = (uint32_t)cap;
		b->last_ns = now ? now : 1;
	} else if (now > b->last_ns) {
		/* Whole milliseconds only, and the remainder kept: at more
		 * than one call per millisecond the bucket still refills. */
		uint64_t ms = (now - b->last_ns) / 1000000;
		if (ms) {
			uint64_t t = b->tokens + ms * rate;
			b->tokens = (uint32_t)(t > cap ? cap : t);
			b->last_ns = ms > 10000 ? now : b->last_ns + ms * 1000000;
		}
	}
	if (b->tokens < 1000)
		return false;
	b->tokens -= 1000;
	return true;
}

static inline uint32_t ip_slot(uint32_t ip, uint32_t nbits)
{
	return (ip * 2654435761u) >> (32 - nbits);
}

/* The IPv4 address a built frame goes to (IP destination, or the ARP
 * target), 0 when it has none. */
static uint32_t frame_dst(const uint8_t *f, uint32_t len)
{
	uint32_t off = 12;
	if (len < 14)
		return 0;
	uint16_t et = (uint16_t)(f[12] << 8 | f[13]);
	if (et == 0x8100) {
		off = 16;
		et = (uint16_t)(f[16] << 8 | f[17]);
	}
	const uint8_t *p = f + off + 2;
	if (et == 0x0800 && off + 2 + 20 <= len)
		return (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19];
	if (et == 0x0806 && off + 2 + 28 <= len)
		return (uint32_t)p[24] << 24 | (uint32_t)p[25] << 16 | (uint32_t)p[26] << 8 | p[27];
	return 0;
}

/* max-pps-per-source first, so that one flooding source spends its own
 * tokens and not the global ones the other sources need. */
static bool send_allowed(struct stack *s, const uint8_t *f, uint32_t len)
{
	uint32_t per = s->cfg->max_pps_per_source, all = s->cfg->max_pps_out;
	if (per) {
		uint32_t ip = frame_dst(f, len);
		struct st_bucket *b = &s->pps_rl[ip_slot(ip, 16)];
		if (b->ip != ip) {
			/* A colliding address takes the slot afresh: at worst
			 * one burst more for one of the two. */
			b->ip = ip;
			b->last_ns = 0;
		}
		if (!st_bucket_take(b, s->now_ns, per, per)) {
			s->st.dropped_pps_source++;
			return false;
		}
	}
	if (all && !st_bucket_take(&s->pps_global, s->now_ns, all, all / 10 > 64 ? all / 10 : 64)) {
		s->st.dropped_pps_global++;
		return false;
	}
	return true;
}

bool st_amp_allowed(struct stack *s, const struct vg_ip *dst, uint32_t len, uint32_t req)
{
	if (!s->o.guard || len <= req || dst->v != 4)
		return true;
	uint32_t ip = vg_ip4(dst);
	struct st_bucket *b = &s->amp_rl[ip_slot(ip, 12)];
	if (b->ip != ip) {
		b->ip = ip;
		b->last_ns = 0;
	}
	if (st_bucket_take(b, s->now_ns, STACK_AMP_RATE, STACK_AMP_BURST))
		return true;
	s->st.dropped_amplification++;
	return false;
}

/* --- guard: addresses in use by another host -------------------------------- */

#define REL_SLOTS (2u * STACK_MAX_RELEASED)

static bool released_has(const struct stack *s, uint32_t ip)
{
	if (!s->nreleased || !ip)
		return false;
	for (uint32_t i = ip_slot(ip, 13), n = 0; n < REL_SLOTS; i = (i + 1) & (REL_SLOTS - 1), n++) {
		if (s->released[i] == ip)
			return true;
		if (s->released[i] == 0)
			return false;
	}
	return false;
}

bool stack_released(const struct stack *s, const struct vg_ip *addr)
{
	return addr->v == 4 && released_has(s, vg_ip4(addr));
}

static bool mac_is_ours(const struct stack *s, const uint8_t *mac)
{
	if (!memcmp(mac, s->o.if_mac, 6))
		return true;
	for (size_t i = 0; i < s->ntmpls; i++)
		if (!memcmp(mac, s->tmpls[i].mac, 6))
			return true;
	return false;
}

/* Honeyd's arpd rule: a claimed address that another host answers for
 * (or announces, or asks from) is in use on the segment; answering for it
 * too would break that host, so the sensor lets it go. */
static void arp_guard(struct stack *s, const uint8_t *a)
{
	const uint8_t *sha = a + 8, *spa = a + 14;
	struct vg_ip ip = { .v = 4 };
	memcpy(ip.a, spa, 4);
	uint32_t v = vg_ip4(&ip);
	if (!v || mac_is_ours(s, sha) || released_has(s, v) || !sc_lookup(s->cfg, &ip))
		return;
	if (s->nreleased >= STACK_MAX_RELEASED)
		return;
	uint32_t i = ip_slot(v, 13);
	while (s->released[i])
		i = (i + 1) & (REL_SLOTS - 1);
	s->released[i] = v;
	s->nreleased++;
	s->st.arp_released++;
	if (s->o.warn) {
		char msg[128];
		snprintf(msg, sizeof msg,
			 "ARP: %u.%u.%u.%u is in use by %02x:%02x:%02x:%02x:%02x:%02x: released, "
			 "no longer answered",
			 spa[0], spa[1], spa[2], spa[3], sha[0], sha[1], sha[2], sha[3], sha[4],
			 sha[5]);
		s->o.warn(s->o.ctx, msg);
	}
}

void st_emit(struct stack *s, const uint8_t *end)
{
	uint32_t len = (uint32_t)(end - s->out);
	if (s->o.guard && !send_allowed(s, s->out, len))
		return;
	/* Ethernet's minimum frame (without FCS), padded as a NIC would. */
	if (len < 60) {
		memset(s->out + len, 0, 60 - len);
		len = 60;
	}
	s->st.tx_packets++;
	s->st.tx_bytes += len;
	if (s->o.emit)
		s->o.emit(s->o.ctx, s->now_ns, s->out, len);
}

/* --- logs ------------------------------------------------------------------- */

const char *st_os_name(const struct stack *s, int label)
{
	if (!s->o.fp || label < 0)
		return NULL;
	return fp_label_name(s->o.fp, label);
}

static inline uint32_t os_slot(uint32_t ip)
{
	return (ip * 2654435761u) >> 16;   /* ST_OS_CACHE = 2^16 */
}

int st_os_of(const struct stack *s, const struct vg_ip *src)
{
	if (!s->o.fp || src->v != 4)
		return -1;
	uint32_t ip = vg_ip4(src);
	const struct st_oslabel *e = &s->oscache[os_slot(ip)];
	return e->ip == ip ? e->label - 1 : -1;
}

static void os_learn(struct stack *s, const struct vg_pkt *p)
{
	struct fp_result r;
	if (!s->o.fp || p->src.v != 4)
		return;
	int label = fp_match_syn(s->o.fp, p, &r) == 1 ? r.label : -1;
	uint32_t ip = vg_ip4(&p->src);
	struct st_oslabel *e = &s->oscache[os_slot(ip)];
	/* A SYN that matches nothing does not erase what the source's
	 * earlier SYNs told (p0f keeps its last good guess too). */
	if (label >= 0 || e->ip != ip) {
		e->ip = ip;
		e->label = label + 1;
	}
}

void st_log(struct stack *s, enum hl_kind kind, const struct vg_pkt *p, int os_label)
{
	if (!s->o.log)
		return;
	struct hl_event ev;
	memset(&ev, 0, sizeof ev);
	ev.ts_ns = s->now_ns;
	ev.kind = kind;
	ev.proto = p->proto;
	ev.src = p->src;
	ev.dst = p->dst;
	if (p->proto == 1 || p->proto == 58) {
		ev.sport = p->icmp_type;
		ev.dport = p->icmp_code;
	} else {
		ev.sport = p->sport;
		ev.dport = p->dport;
	}
	ev.ip_len = p->ip_len;
	ev.tcp_flags = p->proto == 6 ? p->tcp_flags : 0;
	ev.os = st_os_name(s, os_label);
	s->o.log(s->o.ctx, &ev);
}

void st_log_conn(struct stack *s, enum hl_kind kind, const struct st_conn *c)
{
	if (!s->o.log)
		return;
	struct hl_event ev;
	memset(&ev, 0, sizeof ev);
	ev.ts_ns = s->now_ns;
	ev.kind = kind;
	ev.proto = c->kind == CONN_TCP ? 6 : 17;
	ev.src = c->peer;
	ev.dst = c->self;
	ev.sport = c->pport;
	ev.dport = c->sport;
	ev.rx_bytes = c->rx_bytes;
	ev.tx_bytes = c->tx_bytes;
	if (kind == HL_START)
		ev.os = st_os_name(s, c->os_label);
	s->o.log(s->o.ctx, &ev);
}

/* --- set-up ----------------------------------------------------------------- */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int stack_new(struct stack **out, const struct stack_opts *o, struct vg_err *err)
{
	*out = NULL;
	if (!o->cfg)
		return vg_err_set(err, -EINVAL, "stack: no configuration given");
	struct stack *s = calloc(1, sizeof *s);
	if (!s)
		return vg_err_set(err, -ENOMEM, "stack: out of memory");
	s->o = *o;
	s->cfg = o->cfg;
	uint64_t x = o->seed;
	s->key[0] = splitmix(&x);
	s->key[1] = splitmix(&x);
	s->rng = splitmix(&x) | 1;

	/* One extra run-time template for addresses answered without any
	 * template (none today: sc_lookup gives NULL), kept so indices stay
	 * simple. */
	s->ntmpls = s->cfg->ntmpls;
	s->tmpls = calloc(s->ntmpls ? s->ntmpls : 1, sizeof *s->tmpls);
	uint64_t r = s->rng;
	for (size_t i = 0; s->tmpls && i < s->ntmpls; i++)
		build_tmpl(&s->tmpls[i], &s->cfg->tmpls[i], o->if_mac, &r);

	s->ncap = s->cfg->max_connections ? s->cfg->max_connections : 4096;
	/* UDP flows get their own share so that a UDP flood cannot take the
	 * slots of TCP connections. */
	s->udp_cap = s->ncap / 4 + 64;
	s->nslots = s->ncap + s->udp_cap;
	s->nbuckets = 1;
	while (s->nbuckets < s->nslots * 2u && s->nbuckets < (1u << 30))
		s->nbuckets <<= 1;
	s->conns = calloc(s->nslots, sizeof *s->conns);
	s->buckets = calloc(s->nbuckets, sizeof *s->buckets);
	s->icmp_rl = calloc(ST_ICMP_BUCKETS, sizeof *s->icmp_rl);
	s->oscache = calloc(ST_OS_CACHE, sizeof *s->oscache);
	if (o->guard) {
		s->pps_rl = calloc(ST_PPS_BUCKETS, sizeof *s->pps_rl);
		s->amp_rl = calloc(ST_AMP_BUCKETS, sizeof *s->amp_rl);
		s->released = calloc(REL_SLOTS, sizeof *s->released);
		if (!s->pps_rl || !s->amp_rl || !s->released) {
			stack_free(s);
			return vg_err_set(err, -ENOMEM, "stack: out of memory for the send caps");
		}
	}

	size_t scratch = 16;
	for (size_t i = 0; svc_all[i]; i++)
		if (svc_all[i]->proto == 17 && svc_all[i]->state_size > scratch)
			scratch = svc_all[i]->state_size;
	s->udp_scratch = malloc(scratch);
	s->udp_scratch_len = scratch;

	if (!s->tmpls || !s->conns || !s->buckets || !s->icmp_rl || !s->oscache ||
	    !s->udp_scratch) {
		stack_free(s);
		return vg_err_set(err, -ENOMEM, "stack: out of memory for %u connections",
				  s->ncap);
	}
	s->free_head = 0;
	for (uint32_t i = 0; i < s->nslots; i++)
		s->conns[i].next = i + 1 < s->nslots ? (int32_t)(i + 1) : -1;
	int rc = st_scripts_init(s, err);
	if (rc == 0)
		rc = st_personas_init(s, err);
	if (rc < 0) {
		stack_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void stack_free(struct stack *s)
{
	if (!s)
		return;
	st_scripts_free(s);
	st_personas_free(s);
	for (uint32_t i = 0; s->conns && i < s->nslots; i++)
		free(s->conns[i].mem);
	free(s->conns);
	free(s->buckets);
	free(s->icmp_rl);
	free(s->oscache);
	free(s->pps_rl);
	free(s->amp_rl);
	free(s->released);
	free(s->tmpls);
	free(s->udp_scratch);
	free(s);
}

void stack_get_stats(const struct stack *s, struct stack_stats *st)
{
	*st = s->st;
	st->conn_open = s->tcp_open;
	st->udp_flows_open = s->udp_open;
	st->scripts_running = s->nscripts;
}

/* --- time --------------------------------------------------------------------- */

static void advance(struct stack *s, uint64_t now_ns)
{
	if (!s->have_time) {
		s->have_time = true;
		s->now_ns = now_ns;
		s->t0_ns = now_ns;
		s->next_tick_ns = now_ns + NS_PER_S;
		return;
	}
	/* Captures are not always in time order; time never goes back. */
	if (now_ns > s->now_ns)
		s->now_ns = now_ns;
	if (s->now_ns >= s->next_tick_ns) {
		s->next_tick_ns = s->now_ns + NS_PER_S;
		for (uint32_t i = 0; i < s->nslots; i++)
			if (s->conns[i].kind != CONN_FREE)
				st_conn_timer(s, &s->conns[i]);
	}
}

void stack_tick(struct stack *s, uint64_t now_ns)
{
	advance(s, now_ns);
}

void stack_finish(struct stack *s, uint64_t now_ns)
{
	advance(s, now_ns);
	for (uint32_t i = 0; i < s->nslots; i++)
		if (s->conns[i].kind != CONN_FREE)
			st_conn_end(s, &s->conns[i]);
	st_scripts_finish(s);
}

/* --- input ---------------------------------------------------------------------- */

static void arp_input(struct stack *s, const uint8_t *f, uint32_t caplen)
{
	uint32_t off = 12;
	uint16_t et = (uint16_t)(f[off] << 8 | f[off + 1]);
	bool vlan = false;
	uint16_t vid = 0;
	if (et == 0x8100 && caplen >= 18) {
		vlan = true;
		vid = (uint16_t)((f[14] << 8 | f[15]) & 0x0fff);
		off = 16;
		et = (uint16_t)(f[off] << 8 | f[off + 1]);
	}
	const uint8_t *a = f + off + 2;
	if (et != 0x0806 || caplen < off + 2 + 28)
		return;
	/* Ethernet/IPv4 only. */
	if (a[0] != 0 || a[1] != 1 || a[2] != 8 || a[3] != 0 || a[4] != 6 || a[5] != 4 ||
	    a[6] != 0)
		return;
	if (s->o.guard && (a[7] == 1 || a[7] == 2))
		arp_guard(s, a);
	if (a[7] != 1)
		return;         /* answer requests only */
	struct vg_ip tpa = { .v = 4 };
	memcpy(tpa.a, a + 24, 4);
	const struct sc_template *t = sc_lookup(s->cfg, &tpa);
	if (!t) {
		s->st.not_ours++;
		return;
	}
	if (s->nreleased && released_has(s, vg_ip4(&tpa))) {
		s->st.dropped_released++;
		return;
	}
	struct st_tmpl *tm = &s->tmpls[t - s->cfg->tmpls];
	uint8_t *e = s->out;
	memcpy(e, a + 8, 6);
	memcpy(e + 6, tm->mac, 6);
	uint8_t *r = e + 12;
	if (vlan) {
		put16(r, 0x8100);
		put16(r + 2, vid);
		r += 4;
	}
	put16(r, 0x0806);
	r += 2;
	memcpy(r, a, 6);            /* htype, ptype, hlen, plen */
	r[6] = 0;
	r[7] = 2;                   /* reply */
	memcpy(r + 8, tm->mac, 6);
	memcpy(r + 14, a + 24, 4);
	memcpy(r + 18, a + 8, 6);
	memcpy(r + 24, a + 14, 4);
	st_emit(s, r + 28);
}

static bool checksums_ok(const struct vg_pkt *p, bool l4)
{
	if (p->ipver != 4)
		return true;
	uint32_t ihl = (uint32_t)(p->l3[0] & 0x0f) * 4;
	if (p->l3_caplen < ihl || st_csum_fold(st_csum_add(0, p->l3, ihl)) != 0)
		return false;
	if (!l4 || !p->l4 || p->mf || p->frag_off)
		return true;
	uint32_t l4len = p->ip_len > ihl ? p->ip_len - ihl : 0;
	if (p->l4_caplen < l4len)
		return true;    /* not all captured: cannot tell */
	uint32_t sum = 0;
	if (p->proto == 6 || p->proto == 17) {
		if (p->proto == 17 && l4len >= 8 && p->l4[6] == 0 && p->l4[7] == 0)
			return true;    /* UDP without checksum */
		sum = st_pseudo4(p->src.a, p->dst.a, p->proto, l4len);
	} else if (p->proto != 1) {
		return true;
	}
	return st_csum_fold(st_csum_add(sum, p->l4, l4len)) == 0;
}

static inline uint32_t rng32(struct stack *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return (uint32_t)(s->rng >> 16);
}

void stack_input(struct stack *s, int linktype, uint64_t ts_ns, const uint8_t *frame,
		 uint32_t caplen, uint32_t wirelen)
{
	stack_input_csum(s, linktype, ts_ns, frame, caplen, wirelen, 0);
}

void stack_input_csum(struct stack *s, int linktype, uint64_t ts_ns, const uint8_t *frame,
		      uint32_t caplen, uint32_t wirelen, unsigned csum)
{
	struct vg_pkt p;
	memset(&p, 0, sizeof p);
	p.ts_ns = ts_ns;
	s->st.rx_packets++;
	s->st.rx_bytes += wirelen;
	s->st.last_packet_ns = ts_ns;
	advance(s, ts_ns);

	int rc = vg_decode(linktype, frame, caplen, wirelen, &p);
	if (rc == VG_DEC_NOT_IP && linktype == VG_LINK_ETHERNET && caplen >= 14 &&
	    !(p.encap & ~(uint32_t)VG_ENC_VLAN)) {
		arp_input(s, frame, caplen);
		return;
	}
	if (rc != VG_DEC_OK) {
		s->st.undecodable++;
		return;
	}
	if (p.ipver == 6) {
		s->st.ipv6_ignored++;
		return;
	}
	const struct sc_template *t = sc_lookup(s->cfg, &p.dst);
	if (!t) {
		s->st.not_ours++;
		return;
	}
	/* The IP header checksum is always the sender's own work; TCP and
	 * UDP checksums the kernel reports as partial (left to offload) or
	 * verified are taken as they are. */
	if (s->o.verify_checksums &&
	    !checksums_ok(&p, !(csum & (STACK_CSUM_PARTIAL | STACK_CSUM_VALID)))) {
		s->st.bad_checksum++;
		return;
	}
	if (s->nreleased && p.ipver == 4 && released_has(s, vg_ip4(&p.dst))) {
		s->st.dropped_released++;
		return;
	}
	struct st_tmpl *tm = &s->tmpls[t - s->cfg->tmpls];
	if (tm->drop_below && rng32(s) < tm->drop_below) {
		s->st.dropped_droprate++;
		return;
	}

	struct st_l2 l2;
	memset(&l2, 0, sizeof l2);
	memcpy(l2.src, tm->mac, 6);
	if (linktype == VG_LINK_ETHERNET && caplen >= 14)
		memcpy(l2.dst, frame + 6, 6);
	if ((p.encap & VG_ENC_VLAN) &&
	    !(p.encap & (VG_ENC_QINQ | VG_ENC_GRE | VG_ENC_ERSPAN | VG_ENC_IPIP))) {
		l2.has_vlan = true;
		l2.vlan = p.vlan[0];
	}

	/* No reassembly: a fragment is logged and not answered. */
	if (p.mf || p.frag_off || !p.l4) {
		st_log(s, HL_PROBE, &p, st_os_of(s, &p.src));
		return;
	}
	switch (p.proto) {
	case 6:
		if ((p.tcp_flags & (VG_TH_SYN | VG_TH_ACK)) == VG_TH_SYN)
			os_learn(s, &p);
		st_tcp_input(s, tm, &l2, &p);
		break;
	case 17:
		st_udp_input(s, tm, &l2, &p);
		break;
	case 1:
		st_icmp_input(s, tm, &l2, &p);
		break;
	default:
		st_log(s, HL_PROBE, &p, st_os_of(s, &p.src));
		break;
	}
}
