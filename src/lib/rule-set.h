/* rule-set.h: signature rules in a documented subset of Snort's syntax
 * (docs/rules.md), compiled into one matcher that checks every rule
 * against a packet in a single pass over its payload.
 *
 *   alert tcp $EXTERNAL_NET any -> $HOME_NET 4444 (msg:"..."; content:"x";
 *         nocase; sid:1; rev:1; classtype:trojan-activity;
 *         metadata:category worm, name Blaster;)
 *
 * Rule files come from analysts: the parser treats them as hostile text
 * (bounded lengths, no recursion on input) and names the file, line and
 * column of the first error.  The compiled set is immutable; per-thread
 * state (candidate marks, PCRE2 match data, detection_filter counters)
 * lives in a struct rule_matcher.
 *
 * Each rule carries an incident category and name (metadata keys
 * `category` and `name`, vigia's convention) and the IntelMQ/RSIT
 * classification (metadata `taxonomy`, `type`, else the category's
 * default, see rule_taxonomy()).
 */
#ifndef VIGIA_RULE_SET_H
#define VIGIA_RULE_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto-decode.h"
#include "vg-err.h"

/* Input limits: longer input is an error, not a truncation. */
#define RULE_LINE_MAX 65536         /* one logical rule, continuations joined */
#define RULE_FILE_MAX (64u << 20)   /* one rule file */
#define RULE_MAX_RULES 100000
#define RULE_CONTENT_MAX 1024       /* bytes of one content pattern */
#define RULE_OPTS_MAX 64            /* content/pcre options in one rule */

struct rule_info {
	uint32_t sid, rev;
	const char *msg;            /* never NULL ("" when absent) */
	const char *classtype;      /* "" when absent */
	const char *category;       /* incident category: scan, worm, bot, spam, bruteforce, ... */
	const char *name;           /* incident name: "Blaster", "SSH brute force" */
	const char *taxonomy;       /* classification.taxonomy */
	const char *type;           /* classification.type */
	const char *references;     /* "cve,2003-0352 url,..." ("" when none) */
	const char *file;           /* where it was defined */
	unsigned line;
};

struct rule_set;

int rule_set_new(struct rule_set **out);
void rule_set_free(struct rule_set *rs);

/* Define a variable before parsing: addresses ("[192.0.2.0/24,!192.0.2.1]",
 * "any") or ports ("[21,22,23]").  HOME_NET and EXTERNAL_NET default to
 * "any"; `var`/`ipvar`/`portvar` lines in a file define more. */
int rule_set_var(struct rule_set *rs, const char *name, const char *value, struct vg_err *err);

/* Parse rules from text (`len` bytes, need not be NUL-terminated); `fname`
 * names the text in errors ("FILE:LINE:COL: ...").  Stops at the first
 * error; rules parsed before it stay in the set. */
int rule_set_parse(struct rule_set *rs, const char *fname, const char *text, size_t len,
		   struct vg_err *err);
/* Read and parse a file (at most RULE_FILE_MAX bytes). */
int rule_set_load(struct rule_set *rs, const char *path, struct vg_err *err);

/* Build the matcher (Aho-Corasick over each rule's fast pattern, port
 * index for the others).  No rule can be added afterwards. */
int rule_set_compile(struct rule_set *rs, struct vg_err *err);

size_t rule_set_count(const struct rule_set *rs);
const struct rule_info *rule_set_info(const struct rule_set *rs, size_t idx);
/* Bytes held by the compiled automaton. */
size_t rule_set_memory(const struct rule_set *rs);

/* The default IntelMQ/RSIT classification of an incident category
 * (docs/rules.md); unknown categories map to "other"/"other". */
void rule_taxonomy(const char *category, const char **taxonomy, const char **type);

struct rule_matcher;

/* One per thread.  detection_filter counters are kept per (rule, address)
 * in a bounded table of `track_slots` entries (0: 16384); the oldest entry
 * is evicted when a probe window is full. */
int rule_matcher_new(struct rule_matcher **out, const struct rule_set *rs, size_t track_slots);
void rule_matcher_free(struct rule_matcher *m);

/* Called once per rule that matched the packet, in rule order. A non-zero
 * return stops the matching and is returned by rule_match(). */
typedef int (*rule_hit_cb)(void *ctx, size_t rule_idx, const struct vg_pkt *p);

/* Match one decoded packet (vg_decode's VG_DEC_OK).  Returns the number of
 * rules that fired (>= 0), or the callback's non-zero value. */
int rule_match(struct rule_matcher *m, const struct vg_pkt *p, rule_hit_cb cb, void *ctx);

/* Counters for benchmarks: payload bytes scanned, candidate rules
 * verified, rules fired. */
struct rule_stats {
	uint64_t packets, payload_bytes, candidates, hits;
	uint64_t scanned_bytes;     /* of payload_bytes, those the scan had to read */
};
const struct rule_stats *rule_matcher_stats(const struct rule_matcher *m);

#endif
