/* rule-int.h: the compiled form of a rule, shared by rule-parse.c and
 * rule-match.c (private to src/lib). */
#ifndef VIGIA_RULE_INT_H
#define VIGIA_RULE_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "rule-set.h"
#include "util-cidr.h"

enum rule_proto { RP_IP = 0, RP_TCP, RP_UDP, RP_ICMP, RP_N };

struct addr_item {
	struct cidr c;
	bool neg;
};
/* Matches when no positive item is given or one contains the address,
 * and no negated item contains it. */
struct addr_spec {
	struct addr_item *v;
	size_t n;
	bool any;
};

struct port_item {
	uint16_t lo, hi;
	bool neg;
};
struct port_spec {
	struct port_item *v;
	size_t n;
	bool any;
};

/* A numeric header test: op is 0 (absent), '=', '!', '<', '>', 'l' (<=),
 * 'g' (>=), 'r' (a < x < b). */
struct num_test {
	char op;
	uint32_t a, b;
};

enum pl_kind { PL_CONTENT = 1, PL_PCRE = 2 };

struct pl_opt {
	uint8_t kind;
	bool neg;
	bool relative;              /* distance/within, or pcre's R */
	bool nocase;
	bool has_offset, has_depth, has_distance, has_within;
	bool fast;                  /* fast_pattern given */
	int32_t offset, depth, distance, within;
	uint8_t *pat;               /* content bytes */
	uint32_t len;
	pcre2_code *re;
};

struct rule {
	uint8_t proto;              /* enum rule_proto */
	bool bidir;
	struct addr_spec src, dst;
	struct port_spec sp, dp;
	struct pl_opt *pl;
	size_t npl;
	int fast;                   /* index in pl of the fast pattern, -1 none */
	int32_t fp_lo, fp_hi;       /* where the fast pattern may start */
	bool has_flags;
	char fmode;                 /* 0 exact, '+', '*', '!' */
	uint8_t flags, fmask;
	struct num_test dsize, seq, ack, win, ipid, ttl, itype, icode;
	bool seq_is_dst;            /* vigia_seq_is_dst */
	bool masscan_ipid;          /* vigia_masscan_ipid */
	bool df_on, df_by_dst;      /* detection_filter */
	uint32_t df_count, df_seconds;
	struct rule_info info;
};

struct rule_var {
	char *name, *value;
};

/* A rule without a fast pattern, indexed by destination port. */
struct port_rule {
	uint16_t port;
	uint32_t rule;
};

#define HEAD_BYTES 64

struct rule_set {
	struct rule *rules;
	size_t n, cap;
	struct rule_var *vars;
	size_t nvars;
	bool compiled;

	/* Aho-Corasick over the fast patterns, lower-cased: a full DFA over
	 * byte classes (bytes in no pattern share class 0). */
	uint8_t cls[256];
	uint32_t nclasses, nstates;
	uint32_t *delta;            /* nstates * nclasses */
	int32_t *out_first;         /* per state: first output entry, -1 */
	uint32_t *dict;             /* per state: next state with output on the fail chain, 0 none */
	uint16_t *depth;            /* per state: its depth in the trie */
	/* Prefilter: bit (a << 8 | b) set when some fast pattern starts with
	 * the folded bytes a, b (every b for one-byte patterns). */
	uint64_t pairs[1024];
	/* The same for the patterns that may start at HEAD_BYTES or later:
	 * the scan switches to it there, so anchored patterns (CONNECT at 0,
	 * a one-byte SOCKS version) stop costing a trie walk per byte. */
	uint64_t pairs_tail[1024];
	bool short_tail;
	uint8_t fold[256];          /* ASCII lower case */
	bool short_pat;             /* some fast pattern is one byte long */
	uint32_t *out_rule;         /* output entries: rule index */
	int32_t *out_next;
	size_t nout;

	/* How far into a payload the scan must go: per destination port for
	 * TCP and UDP (0: no fast pattern applies; EXTENT_ALL: the whole
	 * payload), one figure for other protocols.  A fast pattern bound
	 * by offset/depth ends where its window ends, and most worms and
	 * probes are recognised by their first bytes. */
	uint16_t *extent[2];        /* [0] TCP, [1] UDP: 65536 each */
	uint16_t extent_other;

	/* Rules without a fast pattern, per protocol class. */
	struct {
		uint32_t *wild;         /* any destination port, or too many to list */
		size_t nwild;
		struct port_rule *byport; /* sorted by port */
		size_t nbyport;
		/* bit per port that byport lists: most packets go to a port
		 * no rule names, and are cleared by one load instead of a
		 * binary search */
		uint64_t listed[65536 / 64];
	} idx[RP_N];
	size_t mem;
};

/* Verify every non-payload and payload condition of rule r. */
bool rule_verify(const struct rule *r, const struct vg_pkt *p, pcre2_match_data *md,
		 pcre2_match_context *mc, unsigned *budget);
bool rule_header_ok(const struct rule *r, const struct vg_pkt *p);

#endif
