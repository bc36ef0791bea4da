/* det-behave.c: behavioural detectors (see det-behave.h).
 *
 * Each detector counts distinct values (addresses, ports, source ports,
 * IRC command kinds) per key in one bounded table: an entry holds up to
 * `threshold` value hashes, so memory is max_entries * (header +
 * 4 * threshold) bytes per detector whatever the traffic. */
#include "det-behave.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PROBE 8

struct dkey {
	struct vg_ip src;
	struct vg_ip aux;           /* destination (vertical, brute) */
	int64_t day;
	uint16_t port;              /* destination port (horizontal, brute) */
	uint8_t proto;
	uint8_t used;               /* 1: slot in use */
};

struct dent {
	struct dkey k;
	int64_t first_s, last_s;
	uint32_t n;                 /* distinct values so far */
	bool fired;
	uint32_t vals[];            /* threshold of them */
};

struct dtab {
	unsigned char *mem;
	size_t slots, stride;
	uint32_t thr;
	/* Per slot, in small arrays so a probe window is one or two cache
	 * lines: a tag of the key's hash (0 = free) and the last time seen
	 * (the eviction order). */
	uint32_t *tag;
	uint32_t *seen;
};

struct det {
	struct det_config c;
	struct dtab t[DET_NKINDS];
	struct det_stats stats;
};

void det_config_default(struct det_config *c)
{
	static const uint16_t login[] = {21, 22, 23, 2323, 110, 143, 3389};
	memset(c, 0, sizeof *c);
	c->hscan_hosts = 8;
	c->vscan_ports = 10;
	c->brute_conns = 5;
	c->bot_traits = 2;
	memcpy(c->login_ports, login, sizeof login);
	c->nlogin_ports = sizeof login / sizeof login[0];
	c->max_entries = 65536;
}

static uint32_t clamp(uint32_t v)
{
	return v < 1 ? 1 : v > DET_MAX_THRESHOLD ? DET_MAX_THRESHOLD : v;
}

int det_new(struct det **out, const struct det_config *c)
{
	*out = NULL;
	struct det *d = calloc(1, sizeof *d);
	if (!d)
		return -ENOMEM;
	d->c = *c;
	if (!d->c.max_entries)
		d->c.max_entries = 65536;
	if (d->c.nlogin_ports > DET_MAX_LOGIN_PORTS)
		d->c.nlogin_ports = DET_MAX_LOGIN_PORTS;
	uint32_t thr[DET_NKINDS] = {clamp(c->hscan_hosts), clamp(c->vscan_ports),
				    clamp(c->brute_conns), clamp(c->bot_traits)};
	for (int k = 0; k < DET_NKINDS; k++) {
		struct dtab *t = &d->t[k];
		t->thr = thr[k];
		t->slots = d->c.max_entries;
		t->stride = (sizeof(struct dent) + thr[k] * sizeof(uint32_t) + 7) & ~(size_t)7;
		t->mem = malloc(t->slots * t->stride);
		t->tag = calloc(t->slots, sizeof *t->tag);
		t->seen = calloc(t->slots, sizeof *t->seen);
		if (!t->mem || !t->tag || !t->seen) {
			det_free(d);
			return -ENOMEM;
		}
	}
	*out = d;
	return 0;
}

void det_free(struct det *d)
{
	if (!d)
		return;
	for (int k = 0; k < DET_NKINDS; k++) {
		free(d->t[k].mem);
		free(d->t[k].tag);
		free(d->t[k].seen);
	}
	free(d);
}

const struct det_stats *det_get_stats(const struct det *d)
{
	return &d->stats;
}

size_t det_memory(const struct det *d)
{
	size_t m = 0;
	for (int k = 0; k < DET_NKINDS; k++)
		m += d->t[k].slots * (d->t[k].stride + 2 * sizeof(uint32_t));
	return m;
}

/* Keys are zeroed before filling (padding included), so they hash and
 * compare as whole words. */
static uint64_t key_hash(const struct dkey *k)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;
	const unsigned char *b = (const unsigned char *)k;
	size_t n = sizeof *k, i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	for (; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h ^ h >> 29;
}

static struct dent *slot(struct dtab *t, size_t i)
{
	return (struct dent *)(t->mem + i * t->stride);
}

/* The key's entry, created (evicting the stalest in the probe window)
 * when absent. */
static struct dent *lookup(struct det *d, int kind, const struct dkey *k, int64_t now)
{
	struct dtab *t = &d->t[kind];
	uint64_t h = key_hash(k);
	uint32_t tag = (uint32_t)(h >> 32) | 1;
	size_t base = (size_t)(h % t->slots), victim = base;
	for (size_t i = 0; i < PROBE; i++) {
		size_t j = (base + i) % t->slots;
		if (!t->tag[j]) {
			victim = j;
			goto fresh;
		}
		if (t->tag[j] == tag) {
			struct dent *e = slot(t, j);
			if (!memcmp(&e->k, k, sizeof *k)) {
				t->seen[j] = (uint32_t)now;
				return e;
			}
		}
		if (t->seen[j] < t->seen[victim])
			victim = j;
	}
	d->stats.evicted[kind]++;
	d->stats.entries[kind]--;
fresh:;
	struct dent *e = slot(t, victim);
	memset(e, 0, t->stride);
	e->k = *k;
	e->first_s = e->last_s = now;
	t->tag[victim] = tag;
	t->seen[victim] = (uint32_t)now;
	d->stats.entries[kind]++;
	return e;
}

/* Add a value; true when this packet should be reported. */
static bool add_val(struct det *d, int kind, struct dent *e, uint32_t v, int64_t now,
		    uint32_t *count)
{
	struct dtab *t = &d->t[kind];
	if (now > e->last_s)
		e->last_s = now;
	if (now < e->first_s)
		e->first_s = now;
	if (e->fired) {
		*count = 1;
		return true;
	}
	for (uint32_t i = 0; i < e->n; i++)
		if (e->vals[i] == v)
			return false;
	e->vals[e->n++] = v;
	if (e->n < t->thr)
		return false;
	e->fired = true;
	*count = t->thr;
	return true;
}

static uint32_t ip_hash(const struct vg_ip *ip)
{
	uint64_t a, b;
	memcpy(&a, ip->a, 8);
	memcpy(&b, ip->a + 8, 8);
	uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xff51afd7ed558ccdull) ^ ip->v;
	return (uint32_t)(h ^ h >> 32);
}

static const char *brute_name(uint16_t port)
{
	switch (port) {
	case 21: return "FTP brute force";
	case 22: return "SSH brute force";
	case 23: case 2323: return "telnet brute force";
	case 110: return "POP3 brute force";
	case 143: return "IMAP brute force";
	case 3389: return "RDP brute force";
	default: return "login brute force";
	}
}

/* Bit per IRC command kind found at the start of a payload line. */
static unsigned irc_traits(const uint8_t *b, uint32_t n)
{
	static const struct {
		const char *w;
		size_t l;
	} cmds[] = {{"NICK ", 5}, {"USER ", 5}, {"JOIN #", 6}, {"JOIN :#", 7},
		    {"PRIVMSG #", 9}, {"PRIVMSG ", 8}, {"MODE ", 5}};
	static const unsigned bit[] = {1, 2, 4, 4, 8, 8, 16};
	unsigned got = 0;
	uint32_t i = 0;
	while (i < n) {
		for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++)
			if (n - i >= cmds[c].l && !memcmp(b + i, cmds[c].w, cmds[c].l)) {
				got |= bit[c];
				break;
			}
		const uint8_t *nl = memchr(b + i, '\n', n - i);
		if (!nl)
			break;
		i = (uint32_t)(nl - b) + 1;
	}
	return got;
}

int det_packet(struct det *d, const struct vg_pkt *p, det_hit_cb cb, void *ctx)
{
	if (!p || !p->ipver || !p->l4)
		return 0;
	int64_t now = (int64_t)(p->ts_ns / 1000000000u);
	int64_t day = now - ((now % 86400) + 86400) % 86400;
	bool probe;
	uint16_t port = p->dport;
	if (p->proto == 6)
		probe = (p->tcp_flags & VG_TH_SYN) && !(p->tcp_flags & (VG_TH_ACK | VG_TH_RST));
	else if (p->proto == 17)
		probe = true;
	else if (p->proto == 1 || p->proto == 58) {
		probe = p->icmp_type == 8 || p->icmp_type == 128;
		port = 0;
	} else
		probe = false;
	int hits = 0, r;
	struct det_hit h;
	uint32_t count;
#define REPORT(KIND, CAT, NAME, E)                                        \
	do {                                                              \
		h = (struct det_hit){KIND, CAT, NAME, count, (E)->first_s}; \
		hits++;                                                   \
		if (cb && (r = cb(ctx, &h, p)))                           \
			return r;                                         \
	} while (0)

	if (probe) {
		struct dkey k;
		memset(&k, 0, sizeof k);
		k.src = p->src;
		k.day = day;
		k.proto = p->proto;
		k.port = port;
		k.used = 1;
		struct dent *e = lookup(d, DET_HSCAN, &k, now);
		if (add_val(d, DET_HSCAN, e, ip_hash(&p->dst), now, &count))
			REPORT(DET_HSCAN, "scan", "horizontal scan", e);

		memset(&k, 0, sizeof k);
		k.src = p->src;
		k.aux = p->dst;
		k.day = day;
		k.proto = p->proto;
		k.used = 1;
		e = lookup(d, DET_VSCAN, &k, now);
		if (add_val(d, DET_VSCAN, e, port, now, &count))
			REPORT(DET_VSCAN, "scan", "vertical scan", e);

		bool login = false;
		for (size_t i = 0; i < d->c.nlogin_ports; i++)
			login |= p->proto == 6 && d->c.login_ports[i] == p->dport;
		if (login) {
			k.port = p->dport;
			e = lookup(d, DET_BRUTE, &k, now);
			if (add_val(d, DET_BRUTE, e, p->sport, now, &count))
				REPORT(DET_BRUTE, "bruteforce", brute_name(p->dport), e);
		}
	}
	if (p->payload && p->payload_caplen >= 5 && (p->proto == 6 || p->proto == 17)) {
		unsigned t = irc_traits(p->payload, p->payload_caplen);
		if (t) {
			struct dkey k;
			memset(&k, 0, sizeof k);
			k.src = p->src;
			k.day = day;
			k.used = 1;
			struct dent *e = lookup(d, DET_BOT, &k, now);
			for (unsigned b = 1; b <= 16; b <<= 1) {
				if (!(t & b))
					continue;
				if (add_val(d, DET_BOT, e, b, now, &count)) {
					REPORT(DET_BOT, "bot", "IRC bot", e);
					break;
				}
			}
		}
	}
#undef REPORT
	return hits;
}
