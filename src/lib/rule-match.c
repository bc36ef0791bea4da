/* rule-match.c: the compiled rule set and the per-packet matcher.
 *
 * One pass over each payload: an Aho-Corasick automaton holds every
 * rule's fast pattern (its longest plain content, lower-cased) and yields
 * the candidate rules, which are then verified in full; rules without a
 * content are looked up by protocol and destination port.
 *
 * The automaton is written by hand.  Debian 12 has no maintained
 * Aho-Corasick library for C; Hyperscan (libhyperscan-dev) exists but
 * only for x86-64 with SSSE3, which would tie the central server to one
 * architecture for a few hundred patterns.  A full DFA over byte classes
 * (bytes that occur in no pattern share one class) keeps the scan to one
 * table load per payload byte. */
#include "rule-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STATES (1u << 21)
#define VERIFY_BUDGET 4096      /* content positions tried per rule and packet */
#define TRACK_PROBE 8
/* In delta[]: the target state has output (a pattern ends there). */
#define AC_OUT 0x80000000u
#define AC_STATE 0x7fffffffu

static uint8_t lc(uint8_t b)
{
	return b >= 'A' && b <= 'Z' ? (uint8_t)(b + 32) : b;
}

/* ---- compiling ------------------------------------------------------------ */

struct trie {
	uint32_t *next;             /* nstates * nclasses, 0 = none (root is 0) */
	uint32_t n, cap, ncls;
};

static int trie_add_state(struct trie *t)
{
	if (t->n == MAX_STATES)
		return -E2BIG;
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 256;
		uint32_t *nv = realloc(t->next, (size_t)cap * t->ncls * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		t->next = nv;
		t->cap = cap;
	}
	memset(t->next + (size_t)t->n * t->ncls, 0, t->ncls * sizeof *t->next);
	return (int)t->n++;
}

static int cmp_port_rule(const void *a, const void *b)
{
	const struct port_rule *x = a, *y = b;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return (x->rule > y->rule) - (x->rule < y->rule);
}

static int push_u32(uint32_t **v, size_t *n, uint32_t x)
{
	uint32_t *nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = x;
	*v = nv;
	return 0;
}

/* Rules without a fast pattern, by protocol class and destination port:
 * a rule listing at most 64 destination ports (no negation, not
 * bidirectional) goes under each; the others are checked on every packet
 * of their protocol. */
static int index_rule(struct rule_set *rs, uint32_t ri)
{
	const struct rule *r = &rs->rules[ri];
	int protos[RP_N], np = 0;
	if (r->proto == RP_IP)
		for (int p = 0; p < RP_N; p++)
			protos[np++] = p;
	else
		protos[np++] = r->proto;
	size_t nports = 0;
	bool listable = !r->dp.any && !r->bidir;
	for (size_t i = 0; listable && i < r->dp.n; i++) {
		if (r->dp.v[i].neg)
			listable = false;
		else
			nports += (size_t)r->dp.v[i].hi - r->dp.v[i].lo + 1;
	}
	if (nports > 64)
		listable = false;
	for (int k = 0; k < np; k++) {
		int p = protos[k];
		if (!listable || (p != RP_TCP && p != RP_UDP)) {
			if (push_u32(&rs->idx[p].wild, &rs->idx[p].nwild, ri))
				return -ENOMEM;
			continue;
		}
		for (size_t i = 0; i < r->dp.n; i++)
			for (uint32_t port = r->dp.v[i].lo; port <= r->dp.v[i].hi; port++) {
				struct port_rule *nv = realloc(rs->idx[p].byport,
							       (rs->idx[p].nbyport + 1) * sizeof *nv);
				if (!nv)
					return -ENOMEM;
				nv[rs->idx[p].nbyport++] = (struct port_rule){(uint16_t)port, ri};
				rs->idx[p].byport = nv;
			}
	}
	return 0;
}

static int build_extents(struct rule_set *rs);

int rule_set_compile(struct rule_set *rs, struct vg_err *err)
{
	if (rs->compiled)
		return vg_err_set(err, -EINVAL, "rule set already compiled");
	/* byte classes: one per distinct lower-cased byte of the patterns */
	bool used[256] = {false};
	for (size_t i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->rules[i];
		if (r->fast < 0)
			continue;
		const struct pl_opt *o = &r->pl[r->fast];
		for (uint32_t k = 0; k < o->len; k++)
			used[lc(o->pat[k])] = true;
	}
	memset(rs->cls, 0, sizeof rs->cls);
	uint32_t ncls = 1;
	for (int b = 0; b < 256; b++)
		if (used[b])
			rs->cls[b] = (uint8_t)ncls++;
	for (int b = 'A'; b <= 'Z'; b++)
		rs->cls[b] = rs->cls[b + 32];
	/* 256 distinct bytes would need class 256: fold the class-0 slot */
	if (ncls > 256) {
		ncls = 256;
		rs->cls[255] = 0;
		for (int b = 0; b < 256; b++)
			if (used[b] && !rs->cls[b] && b != 255)
				return vg_err_set(err, -EINVAL, "internal: byte classes");
	}
	struct trie t = {.ncls = ncls};
	int st = trie_add_state(&t);
	int32_t *own_first = NULL;
	uint32_t *ofail = NULL, *queue = NULL;
	int r = st < 0 ? st : 0;
	uint32_t *term = calloc(rs->n ? rs->n : 1, sizeof *term);
	if (!term)
		r = -ENOMEM;
	for (size_t i = 0; i < rs->n && !r; i++) {
		const struct rule *ru = &rs->rules[i];
		if (ru->fast < 0) {
			r = index_rule(rs, (uint32_t)i);
			continue;
		}
		const struct pl_opt *o = &ru->pl[ru->fast];
		uint32_t s = 0;
		for (uint32_t k = 0; k < o->len && !r; k++) {
			uint32_t c = rs->cls[lc(o->pat[k])];
			uint32_t nx = t.next[(size_t)s * ncls + c];
			if (!nx) {
				int ns = trie_add_state(&t);
				if (ns < 0) {
					r = ns;
					break;
				}
				nx = (uint32_t)ns;
				t.next[(size_t)s * ncls + c] = nx;
			}
			s = nx;
		}
		term[i] = s;
	}
	if (!r) {
		rs->nstates = t.n;
		own_first = malloc(t.n * sizeof *own_first);
		rs->out_next = malloc((rs->n ? rs->n : 1) * sizeof *rs->out_next);
		rs->out_rule = malloc((rs->n ? rs->n : 1) * sizeof *rs->out_rule);
		ofail = calloc(t.n, sizeof *ofail);
		queue = malloc(t.n * sizeof *queue);
		rs->dict = calloc(t.n, sizeof *rs->dict);
		rs->depth = calloc(t.n, sizeof *rs->depth);
		if (!own_first || !rs->out_next || !rs->out_rule || !ofail || !queue || !rs->dict ||
		    !rs->depth)
			r = -ENOMEM;
	}
	if (!r) {
		for (uint32_t s = 0; s < t.n; s++)
			own_first[s] = -1;
		/* outputs in reverse so that each state's list is in rule order */
		for (size_t i = rs->n; i-- > 0;) {
			if (rs->rules[i].fast < 0)
				continue;
			rs->out_rule[rs->nout] = (uint32_t)i;
			rs->out_next[rs->nout] = own_first[term[i]];
			own_first[term[i]] = (int32_t)rs->nout++;
		}
		/* BFS: failure links, then the full transition function */
		size_t qh = 0, qt = 0;
		for (uint32_t c = 0; c < ncls; c++) {
			uint32_t nx = t.next[c];
			if (nx) {
				ofail[nx] = 0;
				rs->depth[nx] = 1;
				queue[qt++] = nx;
			}
		}
		while (qh < qt) {
			uint32_t s = queue[qh++];
			uint32_t f = ofail[s];
			rs->dict[s] = own_first[f] >= 0 ? f : rs->dict[f];
			for (uint32_t c = 0; c < ncls; c++) {
				uint32_t *cell = &t.next[(size_t)s * ncls + c];
				uint32_t fx = t.next[(size_t)f * ncls + c];
				if (*cell) {
					ofail[*cell] = fx;
					rs->depth[*cell] = (uint16_t)(rs->depth[s] + 1);
					queue[qt++] = *cell;
				} else {
					*cell = fx;
				}
			}
		}
		/* the pair prefilter */
		for (int b = 0; b < 256; b++)
			rs->fold[b] = lc((uint8_t)b);
		memset(rs->pairs, 0, sizeof rs->pairs);
		memset(rs->pairs_tail, 0, sizeof rs->pairs_tail);
		rs->short_pat = rs->short_tail = false;
		for (size_t i = 0; i < rs->n; i++) {
			const struct rule *ru = &rs->rules[i];
			if (ru->fast < 0)
				continue;
			const struct pl_opt *o = &ru->pl[ru->fast];
			/* a pattern that must start in the first HEAD_BYTES is
			 * not looked for further on */
			bool tail = ru->fp_hi >= HEAD_BYTES;
			uint8_t a = lc(o->pat[0]);
			if (o->len == 1) {
				rs->short_pat = true;
				rs->short_tail |= tail;
				for (int b = 0; b < 256; b++) {
					unsigned pr = (unsigned)a << 8 | (unsigned)b;
					rs->pairs[pr >> 6] |= 1ull << (pr & 63);
					if (tail)
						rs->pairs_tail[pr >> 6] |= 1ull << (pr & 63);
				}
			} else {
				unsigned pr = (unsigned)a << 8 | lc(o->pat[1]);
				rs->pairs[pr >> 6] |= 1ull << (pr & 63);
				if (tail)
					rs->pairs_tail[pr >> 6] |= 1ull << (pr & 63);
			}
		}
		/* flag the transitions into states with output, so the scan
		 * loop tests one bit instead of two tables per byte */
		for (size_t k = 0; k < (size_t)t.n * ncls; k++) {
			uint32_t d = t.next[k];
			if (own_first[d] >= 0 || rs->dict[d])
				t.next[k] = d | AC_OUT;
		}
		rs->delta = t.next;
		t.next = NULL;
		rs->out_first = own_first;
		own_first = NULL;
		rs->nclasses = ncls;
		for (int p = 0; p < RP_N; p++) {
			if (rs->idx[p].nbyport)
				qsort(rs->idx[p].byport, rs->idx[p].nbyport, sizeof *rs->idx[p].byport,
				      cmp_port_rule);
			memset(rs->idx[p].listed, 0, sizeof rs->idx[p].listed);
			for (size_t i = 0; i < rs->idx[p].nbyport; i++) {
				uint16_t port = rs->idx[p].byport[i].port;
				rs->idx[p].listed[port >> 6] |= 1ull << (port & 63);
			}
		}
		rs->mem = (size_t)rs->nstates * ncls * sizeof(uint32_t) +
			  (size_t)rs->nstates * (sizeof(int32_t) + sizeof(uint32_t));
		rs->compiled = true;
		r = build_extents(rs);
	}
	free(t.next);
	free(own_first);
	free(ofail);
	free(queue);
	free(term);
	if (r == -E2BIG)
		return vg_err_set(err, r, "the fast patterns need more than %u automaton states",
				  MAX_STATES);
	if (r)
		return vg_err_set(err, r, "out of memory compiling %zu rules", rs->n);
	return 0;
}

size_t rule_set_memory(const struct rule_set *rs)
{
	return rs->mem;
}

/* ---- verifying one rule ------------------------------------------------------ */

static bool addr_ok(const struct addr_spec *s, const struct vg_ip *ip)
{
	if (s->any)
		return true;
	bool has_pos = false, in_pos = false;
	for (size_t i = 0; i < s->n; i++) {
		bool in = cidr_contains(&s->v[i].c, ip);
		if (s->v[i].neg) {
			if (in)
				return false;
		} else {
			has_pos = true;
			in_pos |= in;
		}
	}
	return !has_pos || in_pos;
}

static bool port_ok(const struct port_spec *s, uint16_t port)
{
	if (s->any)
		return true;
	bool has_pos = false, in_pos = false;
	for (size_t i = 0; i < s->n; i++) {
		bool in = port >= s->v[i].lo && port <= s->v[i].hi;
		if (s->v[i].neg) {
			if (in)
				return false;
		} else {
			has_pos = true;
			in_pos |= in;
		}
	}
	return !has_pos || in_pos;
}

static bool num_ok(const struct num_test *t, uint32_t v)
{
	switch (t->op) {
	case 0: return true;
	case '=': return v == t->a;
	case '!': return v != t->a;
	case '<': return v < t->a;
	case '>': return v > t->a;
	case 'l': return v <= t->a;
	case 'g': return v >= t->a;
	case 'r': return v > t->a && v < t->b;
	default: return false;
	}
}

#define EXTENT_ALL 0xffffu

static int build_extents(struct rule_set *rs)
{
	for (int k = 0; k < 2; k++)
		if (!(rs->extent[k] = calloc(65536, sizeof *rs->extent[k])))
			return -ENOMEM;
	rs->extent_other = 0;
	for (size_t i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->rules[i];
		if (r->fast < 0)
			continue;
		int64_t end = r->fp_hi == INT32_MAX ? EXTENT_ALL
			    : (int64_t)r->fp_hi + r->pl[r->fast].len;
		uint16_t e = end >= EXTENT_ALL ? EXTENT_ALL : end < 1 ? 1 : (uint16_t)end;
		if (r->proto == RP_IP || r->proto == RP_ICMP)
			rs->extent_other = e > rs->extent_other ? e : rs->extent_other;
		bool neg = false;
		for (size_t j = 0; j < r->dp.n; j++)
			neg |= r->dp.v[j].neg;
		for (int k = 0; k < 2; k++) {
			if (r->proto != RP_IP && r->proto != (k ? RP_UDP : RP_TCP))
				continue;
			uint16_t *x = rs->extent[k];
			/* bidirectional rules may see the honeypot's port as
			 * the source: every port then */
			if (r->bidir || r->dp.any || !r->dp.n) {
				for (uint32_t port = 0; port < 65536; port++)
					x[port] = e > x[port] ? e : x[port];
			} else if (!neg) {
				/* a plain list: its ranges only (a rule file
				 * compiles in microseconds, fuzzing included) */
				for (size_t j = 0; j < r->dp.n; j++)
					for (uint32_t port = r->dp.v[j].lo; port <= r->dp.v[j].hi; port++)
						x[port] = e > x[port] ? e : x[port];
			} else {
				for (uint32_t port = 0; port < 65536; port++)
					if (port_ok(&r->dp, (uint16_t)port) && e > x[port])
						x[port] = e;
			}
		}
	}
	rs->mem += 2 * 65536 * sizeof(uint16_t);
	return 0;
}

static bool flags_ok(const struct rule *r, uint8_t flags)
{
	uint8_t v = flags & (uint8_t)~r->fmask;
	switch (r->fmode) {
	case '+': return (v & r->flags) == r->flags;
	case '*': return (v & r->flags) != 0;
	case '!': return (v & r->flags) == 0;
	default: return v == r->flags;
	}
}

bool rule_header_ok(const struct rule *r, const struct vg_pkt *p)
{
	switch (r->proto) {
	case RP_TCP: if (p->proto != 6 || !p->l4) return false; break;
	case RP_UDP: if (p->proto != 17 || !p->l4) return false; break;
	case RP_ICMP: if ((p->proto != 1 && p->proto != 58) || !p->l4) return false; break;
	default: break;
	}
	/* cheapest tests first: most packets fail on flags or sizes */
	if (r->has_flags && !flags_ok(r, p->tcp_flags))
		return false;
	if (!num_ok(&r->dsize, p->payload_len) || !num_ok(&r->seq, p->tcp_seq) ||
	    !num_ok(&r->ack, p->tcp_ack) || !num_ok(&r->win, p->tcp_win) ||
	    !num_ok(&r->ipid, p->ip_id) || !num_ok(&r->ttl, p->ttl) ||
	    !num_ok(&r->itype, p->icmp_type) || !num_ok(&r->icode, p->icmp_code))
		return false;
	bool fwd = port_ok(&r->sp, p->sport) && port_ok(&r->dp, p->dport) &&
		   addr_ok(&r->src, &p->src) && addr_ok(&r->dst, &p->dst);
	if (!fwd && !(r->bidir && port_ok(&r->sp, p->dport) && port_ok(&r->dp, p->sport) &&
		      addr_ok(&r->src, &p->dst) && addr_ok(&r->dst, &p->src)))
		return false;
	if (r->seq_is_dst && (p->dst.v != 4 || p->tcp_seq != vg_ip4(&p->dst)))
		return false;
	/* masscan's SYN: IP ID = (destination ^ destination port ^ sequence)
	 * truncated to 16 bits (checked on its captures, docs/rules.md) */
	if (r->masscan_ipid && (p->dst.v != 4 ||
				p->ip_id != (uint16_t)(vg_ip4(&p->dst) ^ p->dport ^ p->tcp_seq)))
		return false;
	return true;
}

static bool bytes_eq(const uint8_t *a, const uint8_t *pat, uint32_t n, bool nocase)
{
	/* most window positions fail on the first byte: no call for them */
	if (!nocase)
		return n && a[0] == pat[0] ? !memcmp(a + 1, pat + 1, n - 1) : !n;
	for (uint32_t i = 0; i < n; i++)
		if (lc(a[i]) != lc(pat[i]))
			return false;
	return true;
}

struct vctx {
	const struct rule *r;
	const uint8_t *buf;
	int64_t len;
	pcre2_match_data *md;
	pcre2_match_context *mc;
	unsigned *budget;
};

/* The window [lo, hi) in which content k may start, given the end of the
 * previous match. */
static void window(const struct pl_opt *o, int64_t prev, int64_t len, int64_t *lo, int64_t *hi)
{
	int64_t start, end = len;
	if (o->relative) {
		start = prev + (o->has_distance ? o->distance : 0);
		if (o->has_within)
			end = start + o->within;
	} else {
		start = o->has_offset ? o->offset : 0;
		if (o->has_depth)
			end = start + o->depth;
	}
	if (start < 0)
		start = 0;
	if (end > len)
		end = len;
	*lo = start;
	*hi = end - o->len + 1;     /* last start + 1 */
}

/* Payload options k.. match with the previous match ending at prev;
 * backtracks over earlier contents' positions within the budget. */
static bool match_from(const struct vctx *v, size_t k, int64_t prev)
{
	if (k == v->r->npl)
		return true;
	if (!*v->budget)
		return false;
	(*v->budget)--;
	const struct pl_opt *o = &v->r->pl[k];
	if (o->kind == PL_PCRE) {
		int64_t start = o->relative ? prev : 0;
		if (start > v->len)
			start = v->len;
		/* a relative pattern sees the payload from the cursor on, so
		 * that ^ anchors there (Snort's R) */
		int rc = pcre2_match(o->re, v->buf + start, (PCRE2_SIZE)(v->len - start), 0, 0, v->md,
				     v->mc);
		if (o->neg)
			return rc < 0 && match_from(v, k + 1, prev);
		if (rc < 0)
			return false;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(v->md);
		return match_from(v, k + 1, start + (int64_t)ov[1]);
	}
	int64_t lo, hi;
	window(o, prev, v->len, &lo, &hi);
	if (o->neg) {
		for (int64_t s = lo; s < hi; s++)
			if (bytes_eq(v->buf + s, o->pat, o->len, o->nocase))
				return false;
		return match_from(v, k + 1, prev);
	}
	for (int64_t s = lo; s < hi; s++) {
		if (!bytes_eq(v->buf + s, o->pat, o->len, o->nocase))
			continue;
		if (match_from(v, k + 1, s + o->len))
			return true;
		if (!*v->budget)
			return false;
	}
	return false;
}

bool rule_verify(const struct rule *r, const struct vg_pkt *p, pcre2_match_data *md,
		 pcre2_match_context *mc, unsigned *budget)
{
	if (!rule_header_ok(r, p))
		return false;
	if (!r->npl)
		return true;
	struct vctx v = {r, p->payload, p->payload ? p->payload_caplen : 0, md, mc, budget};
	if (!v.buf)
		v.buf = (const uint8_t *)"";
	return match_from(&v, 0, 0);
}

/* ---- the matcher ---------------------------------------------------------------- */

struct track {
	uint32_t rule;              /* UINT32_MAX: free */
	struct vg_ip ip;
	uint32_t count;
	int64_t start;              /* window start, seconds */
};

struct rule_matcher {
	const struct rule_set *rs;
	uint32_t *stamp;            /* per rule: generation it was last a candidate */
	uint32_t gen;
	uint32_t *cand;
	size_t ncand;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	struct track *track;
	size_t ntrack;
	struct rule_stats stats;
	/* The TCP rules without a port whose flags test a segment with these
	 * flags can pass, as bits over idx[RP_TCP].wild (at most 64 such
	 * rules; NULL beyond): the scan rules are all of that kind, and most
	 * segments are cleared by one load instead of a test per rule. */
	uint64_t *wild_by_flags;
	/* Of those, the ones with an exact IP ID or window test (zmap's IP
	 * ID 54321, masscan's window 1024): bucketed by that value, p0f's
	 * way, so that a SYN whose IP ID and window match none of them
	 * never verifies them (the tests hold in either direction, so
	 * bidirectional rules are keyed too).  keyed: their bits; key[]: value -> bits. */
	uint64_t keyed;
	struct wild_key {
		uint8_t field;          /* KEY_WIN, KEY_IPID */
		uint16_t v;
		uint64_t bits;
	} key[64];
	size_t nkey;
};

enum { KEY_WIN, KEY_IPID };

/* Wildcard rule i (bit i) goes under (field, v). */
static void add_key(struct rule_matcher *m, uint8_t field, uint32_t v, unsigned i)
{
	m->keyed |= 1ull << i;
	for (size_t k = 0; k < m->nkey; k++)
		if (m->key[k].field == field && m->key[k].v == v) {
			m->key[k].bits |= 1ull << i;
			return;
		}
	m->key[m->nkey++] = (struct wild_key){field, (uint16_t)v, 1ull << i};
}

int rule_matcher_new(struct rule_matcher **out, const struct rule_set *rs, size_t track_slots)
{
	*out = NULL;
	if (!rs->compiled)
		return -EINVAL;
	struct rule_matcher *m = calloc(1, sizeof *m);
	if (!m)
		return -ENOMEM;
	m->rs = rs;
	size_t n = rs->n ? rs->n : 1;
	m->stamp = calloc(n, sizeof *m->stamp);
	m->cand = malloc(n * sizeof *m->cand);
	m->md = pcre2_match_data_create(32, NULL);
	/* analysts' patterns may backtrack badly: bound each match */
	m->mctx = pcre2_match_context_create(NULL);
	if (m->mctx) {
		pcre2_set_match_limit(m->mctx, 100000);
		pcre2_set_depth_limit(m->mctx, 10000);
	}
	m->ntrack = track_slots ? track_slots : 16384;
	m->track = malloc(m->ntrack * sizeof *m->track);
	if (!m->stamp || !m->cand || !m->md || !m->mctx || !m->track) {
		rule_matcher_free(m);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->ntrack; i++)
		m->track[i].rule = UINT32_MAX;
	size_t nw = rs->idx[RP_TCP].nwild;
	if (nw && nw <= 64) {
		if (!(m->wild_by_flags = calloc(256, sizeof *m->wild_by_flags))) {
			rule_matcher_free(m);
			return -ENOMEM;
		}
		for (unsigned f = 0; f < 256; f++)
			for (size_t i = 0; i < nw; i++) {
				const struct rule *r = &rs->rules[rs->idx[RP_TCP].wild[i]];
				if (!r->has_flags || flags_ok(r, (uint8_t)f))
					m->wild_by_flags[f] |= 1ull << i;
			}
		for (size_t i = 0; i < nw; i++) {
			const struct rule *r = &rs->rules[rs->idx[RP_TCP].wild[i]];
			/* the IP ID first: it is near random in real traffic,
			 * while windows cluster on a few values (65535 is
			 * zmap's and half the world's) */
			if (r->ipid.op == '=' && r->ipid.a <= UINT16_MAX)
				add_key(m, KEY_IPID, r->ipid.a, (unsigned)i);
			else if (r->win.op == '=' && r->win.a <= UINT16_MAX)
				add_key(m, KEY_WIN, r->win.a, (unsigned)i);
		}
	}
	*out = m;
	return 0;
}

void rule_matcher_free(struct rule_matcher *m)
{
	if (!m)
		return;
	free(m->stamp);
	free(m->cand);
	free(m->wild_by_flags);
	if (m->md)
		pcre2_match_data_free(m->md);
	if (m->mctx)
		pcre2_match_context_free(m->mctx);
	free(m->track);
	free(m);
}

const struct rule_stats *rule_matcher_stats(const struct rule_matcher *m)
{
	return &m->stats;
}

static void add_cand(struct rule_matcher *m, uint32_t ri)
{
	if (m->stamp[ri] == m->gen)
		return;
	m->stamp[ri] = m->gen;
	m->cand[m->ncand++] = ri;
}

/* detection_filter: true once the (rule, address) count within the
 * window exceeds the rule's count. */
static bool filter_pass(struct rule_matcher *m, uint32_t ri, const struct rule *r,
			const struct vg_pkt *p)
{
	const struct vg_ip *ip = r->df_by_dst ? &p->dst : &p->src;
	int64_t now = (int64_t)(p->ts_ns / 1000000000u);
	uint64_t h = ri * 0x9e3779b97f4a7c15ull ^ ip->v;
	for (int i = 0; i < 16; i += 4) {
		uint32_t w;
		memcpy(&w, ip->a + i, 4);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	size_t base = (size_t)(h % m->ntrack), victim = base;
	struct track *t = NULL;
	for (size_t k = 0; k < TRACK_PROBE; k++) {
		struct track *e = &m->track[(base + k) % m->ntrack];
		if (e->rule == ri && e->ip.v == ip->v && !memcmp(e->ip.a, ip->a, 16)) {
			t = e;
			break;
		}
		if (e->rule == UINT32_MAX) {
			victim = (base + k) % m->ntrack;
			break;
		}
		if (e->start < m->track[victim].start)
			victim = (base + k) % m->ntrack;
	}
	if (!t || now - t->start >= (int64_t)r->df_seconds || now < t->start) {
		if (!t) {
			t = &m->track[victim];
			t->rule = ri;
			memset(&t->ip, 0, sizeof t->ip);
			t->ip.v = ip->v;
			memcpy(t->ip.a, ip->a, ip->v == 6 ? 16 : 4);
		}
		t->start = now;
		t->count = 0;
	}
	if (t->count < UINT32_MAX)
		t->count++;
	return t->count > r->df_count;
}

/* Report the rules whose fast pattern ends at state s, the match having
 * started at `start`. */
static void report_state(struct rule_matcher *m, uint32_t s, int64_t start, bool own_only)
{
	const struct rule_set *rs = m->rs;
	uint32_t t = rs->out_first[s] >= 0 ? s : own_only ? 0 : rs->dict[s];
	while (t) {
		for (int32_t o = rs->out_first[t]; o >= 0; o = rs->out_next[o]) {
			/* a fast pattern bound by offset/depth must start in its
			 * window */
			const struct rule *r = &rs->rules[rs->out_rule[o]];
			int64_t st = own_only ? start : start + rs->depth[s] - rs->depth[t];
			if (st >= r->fp_lo && st <= r->fp_hi)
				add_cand(m, rs->out_rule[o]);
		}
		if (own_only)
			break;
		t = rs->dict[t];
	}
}

/* The classic Aho-Corasick scan: linear whatever the payload. */
static void scan_ac(struct rule_matcher *m, const uint8_t *pl, uint32_t plen)
{
	const struct rule_set *rs = m->rs;
	const uint32_t *delta = rs->delta;
	uint32_t ncls = rs->nclasses, s = 0;
	for (uint32_t i = 0; i < plen; i++) {
		uint32_t x = delta[(size_t)s * ncls + rs->cls[pl[i]]];
		s = x & AC_STATE;
		if (x & AC_OUT)
			report_state(m, s, (int64_t)i + 1 - rs->depth[s], false);
	}
}

/* Walk the trie from payload offset j, reporting every pattern starting
 * there.  false when the budget ran out: the payload was then scanned
 * in full by scan_ac. */
static bool walk_at(struct rule_matcher *m, const uint8_t *pl, uint32_t plen, uint32_t j,
		    uint64_t *budget, uint32_t first)
{
	const struct rule_set *rs = m->rs;
	const uint32_t *delta = rs->delta;
	uint32_t ncls = rs->nclasses;
	uint32_t s = 0;
	for (uint32_t k = j; k < plen; k++) {
		uint32_t x = delta[(size_t)s * ncls + rs->cls[pl[k]]];
		uint32_t ns = x & AC_STATE;
		if (rs->depth[ns] != k - j + 1)
			break;          /* left the trie: no pattern starts at j */
		s = ns;
		if (rs->out_first[s] >= 0)
			report_state(m, s, j, true);
		if (!--*budget) {
			/* drop this payload's partial candidates: the
			 * full scan finds them again */
			while (m->ncand > first)
				m->stamp[m->cand[--m->ncand]] = m->gen - 1;
			scan_ac(m, pl, plen);
			return false;
		}
	}
	return true;
}

/* Offsets [from, to) of the payload (to < plen: each has a next byte),
 * filtered by the byte pairs patterns start with. */
static bool scan_pairs(struct rule_matcher *m, const uint8_t *pl, uint32_t plen, uint32_t from,
		       uint32_t to, const uint64_t *pairs, uint64_t *budget, uint32_t first)
{
	const uint8_t *fold = m->rs->fold;
	unsigned prev = fold[pl[from]];
	for (uint32_t j = from; j < to; j++) {
		unsigned cur = fold[pl[j + 1]];
		unsigned pr = prev << 8 | cur;
		prev = cur;
		if ((pairs[pr >> 6] >> (pr & 63) & 1) && !walk_at(m, pl, plen, j, budget, first))
			return false;
	}
	return true;
}

/* Each offset is tried only when the byte there and the next one start
 * some pattern (rs->pairs: a 64 Kibit table that stays in L1 cache), and
 * past HEAD_BYTES only for the patterns that may start there; the last
 * byte only when a one-byte pattern exists.  The trie walks are
 * budgeted (4 steps per payload byte): a payload built to make them long
 * falls back to the linear scan. */
static void scan_payload(struct rule_matcher *m, const uint8_t *pl, uint32_t plen)
{
	const struct rule_set *rs = m->rs;
	uint64_t budget = (uint64_t)plen * 4 + 64;
	uint32_t first = m->ncand;
	uint32_t last = plen - 1;               /* plen >= 1 */
	uint32_t head = last < HEAD_BYTES ? last : HEAD_BYTES;
	if (!scan_pairs(m, pl, plen, 0, head, rs->pairs, &budget, first))
		return;
	if (head < last && !scan_pairs(m, pl, plen, head, last, rs->pairs_tail, &budget, first))
		return;
	if (last < HEAD_BYTES ? rs->short_pat : rs->short_tail)
		walk_at(m, pl, plen, last, &budget, first);
}

int rule_match(struct rule_matcher *m, const struct vg_pkt *p, rule_hit_cb cb, void *ctx)
{
	const struct rule_set *rs = m->rs;
	if (!p || !p->ipver)
		return 0;
	if (++m->gen == 0) {
		memset(m->stamp, 0, (rs->n ? rs->n : 1) * sizeof *m->stamp);
		m->gen = 1;
	}
	m->ncand = 0;
	m->stats.packets++;
	const uint8_t *pl = p->payload;
	uint32_t plen = pl ? p->payload_caplen : 0;
	m->stats.payload_bytes += plen;
	if (plen && rs->nout) {
		uint32_t ext = p->proto == 6 ? rs->extent[0][p->dport]
			     : p->proto == 17 ? rs->extent[1][p->dport] : rs->extent_other;
		uint32_t n = ext == EXTENT_ALL || ext > plen ? plen : ext;
		m->stats.scanned_bytes += n;
		if (n)
			scan_payload(m, pl, n);
	}
	int pc = p->proto == 6 ? RP_TCP : p->proto == 17 ? RP_UDP
	       : p->proto == 1 || p->proto == 58 ? RP_ICMP : RP_IP;
	if (pc == RP_TCP && m->wild_by_flags) {
		uint64_t w = m->wild_by_flags[p->tcp_flags];
		if (w & m->keyed) {
			uint64_t pass = ~m->keyed;
			for (size_t k = 0; k < m->nkey; k++)
				if ((m->key[k].field == KEY_WIN ? p->tcp_win : p->ip_id) == m->key[k].v)
					pass |= m->key[k].bits;
			w &= pass;
		}
		for (; w; w &= w - 1)
			add_cand(m, rs->idx[pc].wild[__builtin_ctzll(w)]);
	} else {
		for (size_t i = 0; i < rs->idx[pc].nwild; i++)
			add_cand(m, rs->idx[pc].wild[i]);
	}
	if (p->l4 && (rs->idx[pc].listed[p->dport >> 6] >> (p->dport & 63) & 1)) {
		const struct port_rule *v = rs->idx[pc].byport;
		size_t lo = 0, hi = rs->idx[pc].nbyport;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (v[mid].port < p->dport)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < rs->idx[pc].nbyport && v[lo].port == p->dport; lo++)
			add_cand(m, v[lo].rule);
	}
	/* rule order; candidates are few, so an insertion sort */
	for (size_t i = 1; i < m->ncand; i++) {
		uint32_t x = m->cand[i];
		size_t j = i;
		for (; j > 0 && m->cand[j - 1] > x; j--)
			m->cand[j] = m->cand[j - 1];
		m->cand[j] = x;
	}
	m->stats.candidates += m->ncand;
	int fired = 0;
	for (size_t i = 0; i < m->ncand; i++) {
		uint32_t ri = m->cand[i];
		const struct rule *r = &rs->rules[ri];
		unsigned budget = VERIFY_BUDGET;
		if (!rule_verify(r, p, m->md, m->mctx, &budget))
			continue;
		if (r->df_on && !filter_pass(m, ri, r, p))
			continue;
		fired++;
		m->stats.hits++;
		if (cb) {
			int rc = cb(ctx, ri, p);
			if (rc)
				return rc;
		}
	}
	return fired;
}
