/* det-behave.c: behavioural detectors (see det-behave.h).
 *
 * A source's state is one open-addressing table of 16-byte entries keyed
 * by a 64-bit code whose top three bits say what the entry is:
 *   K_WORD  (protocol, port, address >> 6): a bitmap of the 64 addresses
 *           of that block probed on that port.  The code holds the block
 *           (IPv4 exactly; IPv6 as a 32-bit hash of all but the low six
 *           bits), so the bitmaps can be read back address by address;
 *   K_H     (protocol, port): distinct addresses probed (horizontal);
 *   K_V     (protocol, address): distinct ports probed (vertical), only
 *           once the source has probed vscan_ports ports;
 *   K_B     (login port, address): distinct source ports (brute force),
 *           the first one held in the entry;
 *   K_BP    (login port, address, source port) beyond the first: a hash.
 * A probe is then one lookup of its port's key and one of its block's
 * bitmap, both hot while a scanner sweeps: a /24 swept on one port is 5
 * entries.  A packet on a key that already fired is reported as one
 * more.  The one approximation left is the IPv6 block hash: two blocks
 * sharing it would share a bitmap. */
#include "det-behave.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FIRED 0x8000u
#define NMAX 0x7fffu            /* counts saturate: past a threshold only FIRED matters */

enum { K_WORD = 1, K_H, K_V, K_B, K_BP };
#define KIND(k) ((uint64_t)(k) << 61)
#define KIND_OF(code) ((unsigned)((code) >> 61))

struct det_cnt {
	uint64_t code;              /* 0: free */
	union {
		struct {
			uint16_t n;         /* distinct values; FIRED once reported */
			uint16_t v;         /* K_B: the first source port */
			uint32_t first_s;   /* first probe of the key */
		};
		uint64_t bits;              /* K_WORD */
	};
};

struct own {
	struct vg_ip ip;
	uint8_t used;
	struct det_src s;
};

struct det {
	struct det_config c;
	uint32_t thr[DET_NKINDS];
	uint8_t login[65536 / 8];   /* bit per login port */
	struct own *own;            /* det_packet's table */
	size_t nown, capown;
	size_t bytes;               /* held by sources' tables */
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
	c->max_entries = (size_t)1 << 24;
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
		d->c.max_entries = (size_t)1 << 24;
	if (d->c.nlogin_ports > DET_MAX_LOGIN_PORTS)
		d->c.nlogin_ports = DET_MAX_LOGIN_PORTS;
	d->thr[DET_HSCAN] = clamp(c->hscan_hosts);
	d->thr[DET_VSCAN] = clamp(c->vscan_ports);
	d->thr[DET_BRUTE] = clamp(c->brute_conns);
	d->thr[DET_BOT] = clamp(c->bot_traits);
	for (size_t i = 0; i < d->c.nlogin_ports; i++)
		d->login[d->c.login_ports[i] >> 3] |= (uint8_t)(1u << (d->c.login_ports[i] & 7));
	*out = d;
	return 0;
}

void det_src_clear(struct det *d, struct det_src *s)
{
	d->bytes -= (size_t)s->capcnt * sizeof *s->cnt;
	d->stats.entries -= s->ncnt;
	free(s->cnt);
	memset(s, 0, sizeof *s);
}

void det_free(struct det *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->capown; i++)
		if (d->own[i].used)
			det_src_clear(d, &d->own[i].s);
	free(d->own);
	free(d);
}

const struct det_stats *det_get_stats(const struct det *d)
{
	return &d->stats;
}

size_t det_memory(const struct det *d)
{
	return sizeof *d + d->capown * sizeof *d->own + d->bytes;
}

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = (a ^ 0x9e3779b97f4a7c15ull) * 0xff51afd7ed558ccdull;
	h ^= h >> 32;
	h = (h ^ b) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return h ? h : 1;
}

/* Codes are structured, not random: a slot is the top bits of a
 * multiplicative hash (Fibonacci hashing), which mixes every bit of the
 * code.  Top bits, not low ones: when the table doubles, an entry's home
 * slot i becomes 2i or 2i + 1, so copying the old table in slot order
 * writes the new one front to back instead of at random (a heavy
 * scanner's table grows to millions of entries, and the rehash was most
 * of the detectors' cache misses). */
static size_t slot_of(uint64_t code, uint32_t cap)
{
	return (size_t)((code * 0x9e3779b97f4a7c15ull) >> (64 - __builtin_ctz(cap)));
}

/* The entry of code in s, created when `create` (NULL: budget spent or
 * out of memory, or absent). */
static struct det_cnt *get(struct det *d, struct det_src *s, uint64_t code, bool create,
			   bool *created, uint32_t now)
{
	*created = false;
	if (s->capcnt) {
		size_t m = s->capcnt - 1, j = slot_of(code, s->capcnt);
		for (;; j = (j + 1) & m) {
			if (s->cnt[j].code == code)
				return &s->cnt[j];
			if (!s->cnt[j].code)
				break;
		}
	}
	if (!create)
		return NULL;
	if (d->stats.entries >= d->c.max_entries)
		return NULL;
	if ((s->ncnt + 1) * 4 > (size_t)s->capcnt * 3) {
		size_t nc = s->capcnt ? (size_t)s->capcnt * 2 : 16;
		struct det_cnt *v = calloc(nc, sizeof *v);
		if (!v)
			return NULL;
		for (size_t i = 0; i < s->capcnt; i++) {
			if (!s->cnt[i].code)
				continue;
			size_t j = slot_of(s->cnt[i].code, (uint32_t)nc);
			while (v[j].code)
				j = (j + 1) & (nc - 1);
			v[j] = s->cnt[i];
		}
		d->bytes += (nc - s->capcnt) * sizeof *v;
		free(s->cnt);
		s->cnt = v;
		s->capcnt = (uint32_t)nc;
	}
	size_t m = s->capcnt - 1, j = slot_of(code, s->capcnt);
	while (s->cnt[j].code)
		j = (j + 1) & m;
	s->cnt[j] = (struct det_cnt){.code = code};
	if (KIND_OF(code) != K_WORD)
		s->cnt[j].first_s = now;
	s->ncnt++;
	d->stats.entries++;
	*created = true;
	return &s->cnt[j];
}

static uint32_t ip_hash(const struct vg_ip *ip)
{
	uint64_t a, b;
	memcpy(&a, ip->a, 8);
	memcpy(&b, ip->a + 8, 8);
	uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xff51afd7ed558ccdull) ^ ip->v;
	return (uint32_t)(h ^ h >> 32);
}

/* An address as a block of 64 and a bit: IPv4 exactly (the address >> 6,
 * 26 bits), IPv6 as bit 32 set and a 32-bit hash of all but its low six
 * bits. */
static uint64_t addr_block(const struct vg_ip *ip, unsigned *bit)
{
	if (ip->v == 4) {
		uint32_t a = (uint32_t)ip->a[0] << 24 | (uint32_t)ip->a[1] << 16 |
			     (uint32_t)ip->a[2] << 8 | ip->a[3];
		*bit = a & 63;
		return a >> 6;
	}
	struct vg_ip hi = *ip;
	*bit = hi.a[15] & 63;
	hi.a[15] &= 0xc0;
	return 1ull << 32 | ip_hash(&hi);
}

static unsigned proto_code(uint8_t proto)
{
	return proto == 6 ? 1 : proto == 17 ? 2 : 3;
}

/* The keys' codes (see the top of the file). */
static uint64_t h_code(uint64_t pcc, uint64_t port)
{
	return KIND(K_H) | pcc << 56 | port << 40;
}

static uint64_t w_code(uint64_t pcc, uint64_t port, uint64_t blk)
{
	return KIND(K_WORD) | pcc << 56 | port << 40 | blk;
}

static uint64_t v_code(uint64_t pcc, uint64_t blk, unsigned bit)
{
	return KIND(K_V) | pcc << 56 | blk << 6 | bit;
}

static uint64_t b_code(uint64_t port, uint64_t blk, unsigned bit)
{
	return KIND(K_B) | port << 40 | blk << 6 | bit;
}

/* Whether p is a probe (a SYN without ACK or RST, a UDP datagram, an
 * echo request), and the port it probes (0 for ICMP). */
static bool probe_port(const struct vg_pkt *p, uint16_t *port)
{
	*port = p->dport;
	switch (p->proto) {
	case 6:
		return (p->tcp_flags & VG_TH_SYN) && !(p->tcp_flags & (VG_TH_ACK | VG_TH_RST));
	case 17:
		return true;
	case 1:
	case 58:
		*port = 0;
		return p->icmp_type == 8 || p->icmp_type == 128;
	default:
		return false;
	}
}

static bool login_port(const struct det *d, const struct vg_pkt *p)
{
	return p->proto == 6 && (d->login[p->dport >> 3] >> (p->dport & 7) & 1);
}

/* The source now has vscan_ports ports: from here on each address's
 * distinct ports are counted, starting from what the bitmaps hold. */
static void activate_vertical(struct det *d, struct det_src *s, uint32_t now)
{
	s->vactive = 1;
	size_t nw = 0;
	for (size_t i = 0; i < s->capcnt; i++)
		nw += s->cnt[i].code && KIND_OF(s->cnt[i].code) == K_WORD;
	if (!nw)
		return;
	/* copied out: creating the counters may grow the table */
	struct det_cnt *w = malloc(nw * sizeof *w);
	if (!w) {
		d->stats.untracked++;
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < s->capcnt; i++)
		if (s->cnt[i].code && KIND_OF(s->cnt[i].code) == K_WORD)
			w[k++] = s->cnt[i];
	for (size_t i = 0; i < nw; i++) {
		uint64_t pcc = w[i].code >> 56 & 3, blk = w[i].code & ((1ull << 33) - 1);
		for (uint64_t bits = w[i].bits; bits; bits &= bits - 1) {
			unsigned b = (unsigned)__builtin_ctzll(bits);
			bool created;
			struct det_cnt *v = get(d, s, v_code(pcc, blk, b), true,
						&created, now);
			if (!v) {
				d->stats.untracked++;
				continue;
			}
			if (created)
				v->first_s = s->first_probe;
			if ((v->n & NMAX) < NMAX)
				v->n++;
		}
	}
	free(w);
}

static const struct {
	const char *category, *name;
} classes[DET_NCLASSES] = {
	{"scan", "horizontal scan"}, {"scan", "vertical scan"}, {"bot", "IRC bot"},
	{"bruteforce", "FTP brute force"}, {"bruteforce", "SSH brute force"},
	{"bruteforce", "telnet brute force"}, {"bruteforce", "POP3 brute force"},
	{"bruteforce", "IMAP brute force"}, {"bruteforce", "RDP brute force"},
	{"bruteforce", "login brute force"},
};
enum { C_HSCAN, C_VSCAN, C_BOT };

void det_class(unsigned id, const char **category, const char **name)
{
	if (id >= DET_NCLASSES)
		id = DET_NCLASSES - 1;
	*category = classes[id].category;
	*name = classes[id].name;
}

static unsigned brute_class(uint16_t port)
{
	switch (port) {
	case 21: return 3;
	case 22: return 4;
	case 23: case 2323: return 5;
	case 110: return 6;
	case 143: return 7;
	case 3389: return 8;
	default: return 9;
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
		/* every command starts with one of these letters: most lines
		 * are rejected by one compare */
		uint8_t c0 = b[i];
		if (c0 == 'N' || c0 == 'U' || c0 == 'J' || c0 == 'P' || c0 == 'M')
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

/* Key k (its distinct count already up to date) saw a packet, which
 * brought a new value or not; true when the packet is to be reported,
 * with *count the packets it stands for. */
static bool bump(struct det *d, int kind, struct det_cnt *k, bool new_val, uint32_t *count,
		 int64_t *first)
{
	if (!k)
		return false;
	*first = k->first_s;
	if (k->n & FIRED) {
		*count = 1;
		return true;
	}
	if (!new_val || k->n < d->thr[kind])
		return false;
	k->n |= FIRED;
	*count = d->thr[kind];
	return true;
}

static void count_one(struct det_cnt *k)
{
	if ((k->n & NMAX) < NMAX)
		k->n++;
}

/* Whether value x is new for the per-address key at *kp, counting it
 * when it is: the key's first value is held in it, later ones as pair
 * entries of code `pair`.  *kp is looked up again when the table grew
 * meanwhile. */
static bool new_value(struct det *d, struct det_src *s, struct det_cnt **kp, uint64_t kcode,
		      uint16_t x, uint64_t pair, uint32_t now)
{
	struct det_cnt *k = *kp;
	if (!(k->n & NMAX)) {
		k->v = x;
		count_one(k);
		return true;
	}
	if (k->v == x)
		return false;
	bool created, again;
	uint32_t cap = s->capcnt;
	struct det_cnt *e = get(d, s, pair, true, &created, now);
	if (!e)
		d->stats.untracked++;
	if (s->capcnt != cap)
		*kp = k = get(d, s, kcode, false, &again, now);
	if (created && k)
		count_one(k);
	return created;
}

void det_prefetch(const struct det *d, const struct det_src *s, const struct vg_pkt *p)
{
	uint16_t port;
	if (!s->capcnt || !p->l4 || !probe_port(p, &port))
		return;
	uint64_t pcc = proto_code(p->proto);
	unsigned bit;
	uint64_t blk = addr_block(&p->dst, &bit);
	__builtin_prefetch(&s->cnt[slot_of(h_code(pcc, port), s->capcnt)]);
	__builtin_prefetch(&s->cnt[slot_of(w_code(pcc, port, blk), s->capcnt)]);
	if (s->vactive)
		__builtin_prefetch(&s->cnt[slot_of(v_code(pcc, blk, bit), s->capcnt)]);
	if (login_port(d, p))
		__builtin_prefetch(&s->cnt[slot_of(b_code(port, blk, bit), s->capcnt)]);
}

int det_packet_src(struct det *d, struct det_src *s, const struct vg_pkt *p, det_hit_cb cb,
		   void *ctx)
{
	if (!p || !p->ipver || !p->l4)
		return 0;
	int64_t now64 = (int64_t)(p->ts_ns / 1000000000u);
	uint32_t now = (uint32_t)now64;
	int32_t day = (int32_t)(now64 / 86400);
	if (s->day != day) {
		if (s->ncnt || s->bot)
			det_src_clear(d, s);
		s->day = day;
	}
	uint16_t port;
	bool probe = probe_port(p, &port);
	int hits = 0, r;
	uint32_t count = 0;
	int64_t first = now64;
#define REPORT(KIND, ID)                                                          \
	do {                                                                      \
		unsigned id_ = (ID);                                              \
		struct det_hit h = {KIND, id_, classes[id_].category,             \
				    classes[id_].name, count, first};             \
		hits++;                                                           \
		d->stats.hits[KIND]++;                                            \
		if (cb && (r = cb(ctx, &h, p)))                                   \
			return r;                                                 \
	} while (0)

	if (probe) {
		uint64_t pcc = proto_code(p->proto);
		unsigned bit;
		uint64_t blk = addr_block(&p->dst, &bit);
		if (!s->first_probe)
			s->first_probe = now;
		bool created;
		uint64_t hcode = h_code(pcc, port);
		struct det_cnt *hk = get(d, s, hcode, true, &created, now);
		if (!hk) {
			d->stats.untracked++;
		} else if (created && ++s->nports >= d->thr[DET_VSCAN] && !s->vactive) {
			activate_vertical(d, s, now);
			hk = get(d, s, hcode, false, &created, now);
		}
		uint32_t cap = s->capcnt;
		struct det_cnt *w = get(d, s, w_code(pcc, port, blk), true, &created, now);
		bool fresh = false;         /* (address, port) never probed before */
		if (!w) {
			d->stats.untracked++;
		} else {
			fresh = !(w->bits >> bit & 1);
			w->bits |= 1ull << bit;
		}
		if (hk && s->capcnt != cap)
			hk = get(d, s, hcode, false, &created, now);
		if (hk && fresh)
			count_one(hk);
		if (bump(d, DET_HSCAN, hk, fresh, &count, &first))
			REPORT(DET_HSCAN, C_HSCAN);
		if (s->vactive) {
			struct det_cnt *v = get(d, s, v_code(pcc, blk, bit), fresh, &created, now);
			if (v && fresh)
				count_one(v);
			if (bump(d, DET_VSCAN, v, fresh, &count, &first))
				REPORT(DET_VSCAN, C_VSCAN);
		}
		if (login_port(d, p)) {
			uint64_t id = blk << 6 | bit;
			uint64_t bcode = b_code(port, blk, bit);
			struct det_cnt *b = get(d, s, bcode, true, &created, now);
			bool conn = false;  /* a source port never seen there */
			/* once fired, every SYN there is one more: whether its
			 * source port is new no longer matters, and keeping it
			 * would be an entry per connection of a busy guesser */
			if (!b)
				d->stats.untracked++;
			else if (!(b->n & FIRED))
				conn = new_value(d, s, &b, bcode, p->sport,
						 KIND(K_BP) | mix((uint64_t)p->dport << 16 | p->sport, id) >> 3,
						 now);
			if (bump(d, DET_BRUTE, b, conn, &count, &first))
				REPORT(DET_BRUTE, brute_class(p->dport));
		}
	}
	if (p->payload && p->payload_caplen >= 5 && (p->proto == 6 || p->proto == 17)) {
		unsigned t = irc_traits(p->payload, p->payload_caplen);
		if (t) {
			if (!s->bot)
				s->bot_first = now;
			first = s->bot_first;
			if (s->bot_fired) {
				count = 1;
				REPORT(DET_BOT, C_BOT);
			} else {
				s->bot |= (uint8_t)t;
				if ((uint32_t)__builtin_popcount(s->bot) >= d->thr[DET_BOT]) {
					s->bot_fired = 1;
					count = d->thr[DET_BOT];
					REPORT(DET_BOT, C_BOT);
				}
			}
		}
	}
#undef REPORT
	return hits;
}

static uint64_t ip_key(const struct vg_ip *ip)
{
	uint64_t a, b;
	memcpy(&a, ip->a, 8);
	memcpy(&b, ip->a + 8, 8);
	return mix(a ^ ip->v, b);
}

/* det_packet's own source table: open addressing over whole entries. */
static struct det_src *own_get(struct det *d, const struct vg_ip *ip)
{
	if ((d->nown + 1) * 2 > d->capown) {
		if (d->stats.entries + d->nown >= d->c.max_entries && d->capown)
			goto find_only;
		size_t nc = d->capown ? d->capown * 2 : 64;
		struct own *v = calloc(nc, sizeof *v);
		if (!v)
			goto find_only;
		for (size_t i = 0; i < d->capown; i++) {
			if (!d->own[i].used)
				continue;
			size_t j = (size_t)ip_key(&d->own[i].ip) & (nc - 1);
			while (v[j].used)
				j = (j + 1) & (nc - 1);
			v[j] = d->own[i];
		}
		free(d->own);
		d->own = v;
		d->capown = nc;
	}
	size_t m = d->capown - 1, j = (size_t)ip_key(ip) & m;
	for (;; j = (j + 1) & m) {
		struct own *o = &d->own[j];
		if (!o->used) {
			o->used = 1;
			o->ip = *ip;
			d->nown++;
			d->stats.sources++;
			return &o->s;
		}
		if (o->ip.v == ip->v && !memcmp(o->ip.a, ip->a, 16))
			return &o->s;
	}
find_only:
	if (!d->capown)
		return NULL;
	m = d->capown - 1;
	for (j = (size_t)ip_key(ip) & m; d->own[j].used; j = (j + 1) & m)
		if (d->own[j].ip.v == ip->v && !memcmp(d->own[j].ip.a, ip->a, 16))
			return &d->own[j].s;
	return NULL;
}

int det_packet(struct det *d, const struct vg_pkt *p, det_hit_cb cb, void *ctx)
{
	if (!p || !p->ipver || !p->l4)
		return 0;
	struct det_src *s = own_get(d, &p->src);
	if (!s) {
		d->stats.untracked++;
		return 0;
	}
	return det_packet_src(d, s, p, cb, ctx);
}
