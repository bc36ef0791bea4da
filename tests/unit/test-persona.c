/* nmap-os-db loading (templ-nmapdb) and the behaviour derived from it
 * (templ-persona), against Debian's real database. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "stack-client.h"

#include "sc-config.h"
#include "stack.h"
#include "templ-nmapdb.h"
#include "templ-persona.h"

static struct nmdb *real_db(void)
{
	static struct nmdb *db;
	struct vg_err e = { 0 };
	if (!db && nmdb_load(&db, NMDB_DEFAULT_PATH, &e) < 0)
		fprintf(stderr, "cannot load %s: %s\n", NMDB_DEFAULT_PATH, e.msg);
	return db;
}

static const char small[] =
	"# comment\n"
	"MatchPoints\n"
	"SEQ(SP=25%GCD=75)\n"
	"\n"
	"Fingerprint Test OS 1.0\n"
	"Class Vendor | Test | 1.X | general purpose\n"
	"CPE cpe:/o:vendor:test:1.0 auto\n"
	"SEQ(SP=FD-107%GCD=1|>1000000%ISR=100-10A%TI=I%TS=A)\n"
	"OPS(O1=M5B4NW8NNT11S%O2=)\n"
	"T1(R=Y%DF=N%T=3B-45%TG=40%S=O%A=S+%F=AS%Q=)\n"
	"T7(R=N)\n";

TEST(small_database_values_ranges_alternatives_and_empty)
{
	struct nmdb *db;
	struct vg_err e = { 0 };
	CHECK(nmdb_load_buf(&db, "t.db", small, sizeof small - 1, &e) == 0);
	if (!db)
		return;
	CHECK_EQ_U(db->nfps, 1);
	const struct nmdb_fp *fp = &db->fps[0];
	CHECK(!strcmp(nmdb_str(db, fp->name), "Test OS 1.0"));
	CHECK(!strcmp(nmdb_str(db, fp->cls), "Vendor | Test | 1.X | general purpose"));
	CHECK_EQ_U(fp->line, 5);
	CHECK(fp->tests[NMDB_SEQ].present && !fp->tests[NMDB_ECN].present);
	const struct nmdb_attr *sp = nmdb_get(db, fp, NMDB_SEQ, "SP");
	CHECK(sp && nmdb_attr_matches(db, sp, "FD") && nmdb_attr_matches(db, sp, "107") &&
	      nmdb_attr_matches(db, sp, "100") && !nmdb_attr_matches(db, sp, "FC") &&
	      !nmdb_attr_matches(db, sp, "108"));
	const struct nmdb_attr *gcd = nmdb_get(db, fp, NMDB_SEQ, "GCD");
	CHECK(gcd && nmdb_attr_matches_num(db, gcd, 1) && !nmdb_attr_matches_num(db, gcd, 2) &&
	      nmdb_attr_matches_num(db, gcd, 0x1000001) &&
	      !nmdb_attr_matches_num(db, gcd, 0x1000000));
	const struct nmdb_attr *o2 = nmdb_get(db, fp, NMDB_OPS, "O2");
	CHECK(o2 && nmdb_attr_matches(db, o2, "") && !nmdb_attr_matches(db, o2, "M5B4"));
	const struct nmdb_attr *o1 = nmdb_get(db, fp, NMDB_OPS, "O1");
	CHECK(o1 && nmdb_attr_matches(db, o1, "M5B4NW8NNT11S"));
	CHECK(nmdb_get(db, fp, NMDB_T1, "W") == NULL);
	/* MatchPoints has the shape of a fingerprint but is not one. */
	CHECK(db->matchpoints.tests[NMDB_SEQ].present);
	nmdb_free(db);
}

TEST(errors_name_the_file_and_the_line)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "Fingerprint A\nSEQ(SP=1-\n", "x.db:2:" },
		{ "Fingerprint A\nXYZ(A=1)\n", "x.db:2: unknown test" },
		{ "Fingerprint A\nSEQ(SP=5-1)\n", "x.db:2: expected a hex range" },
		{ "Fingerprint A\nSEQ(SP=1)\nSEQ(SP=2)\n", "x.db:3: test given twice" },
		{ "SEQ(SP=1)\n", "x.db:1: test line before any Fingerprint" },
		{ "Fingerprint A\nClass X\nhello there\n", "x.db:3: expected Fingerprint" },
		{ "Fingerprint A\nSEQ(SP=>Z)\n", "x.db:2: expected a hex number after" },
		{ "# nothing\n", "x.db: no Fingerprint" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct nmdb *db = NULL;
		struct vg_err e = { 0 };
		int rc = nmdb_load_buf(&db, "x.db", cases[i].text, strlen(cases[i].text), &e);
		CHECK(rc < 0 && db == NULL);
		CHECK(strstr(e.msg, cases[i].want) != NULL);
	}
	/* An over-long line is refused, not read past. */
	size_t n = NMDB_MAX_LINE + 100;
	char *big = malloc(n + 20);
	memcpy(big, "Fingerprint ", 12);
	memset(big + 12, 'a', n - 12);
	big[n] = '\n';
	struct nmdb *db = NULL;
	struct vg_err e = { 0 };
	CHECK(nmdb_load_buf(&db, "x.db", big, n + 1, &e) < 0 && strstr(e.msg, "x.db:1: line too long"));
	free(big);
}

TEST(debian_database_loads_and_names_resolve)
{
	struct nmdb *db = real_db();
	CHECK(db != NULL);
	if (!db)
		return;
	CHECK(db->nfps > 5000);
	bool exact;
	const struct nmdb_fp *fp = nmdb_find(db, "Microsoft Windows XP SP2 or SP3", &exact);
	CHECK(fp && exact && !strcmp(nmdb_str(db, fp->name), "Microsoft Windows XP SP2 or SP3"));
	fp = nmdb_find(db, "microsoft windows xp sp2 or sp3", &exact);
	CHECK(fp && exact && !strcmp(nmdb_str(db, fp->name), "Microsoft Windows XP SP2 or SP3"));
	/* Honeyd-era names land on a current entry of the same system. */
	fp = nmdb_find(db, "OpenBSD 3.4 (i386)", &exact);
	CHECK(fp && !exact && !strncmp(nmdb_str(db, fp->name), "OpenBSD 3.", 10));
	fp = nmdb_find(db, "Linux 2.4.7 (X86)", &exact);
	CHECK(fp && !exact && !strncmp(nmdb_str(db, fp->name), "Linux 2.4", 9));
	fp = nmdb_find(db, "Windows NT 4.0 Server SP5-SP6", &exact);
	CHECK(fp && strstr(nmdb_str(db, fp->name), "Windows NT"));
	CHECK(nmdb_find(db, "Plan 42 from Outer Space", &exact) == NULL);
	CHECK(nmdb_find(db, "", &exact) == NULL);
	/* A repeated name gives the entry with the most tests present. */
	fp = nmdb_find(db, "Linux 2.6.32", &exact);
	int best = 0, got = 0;
	for (size_t i = 0; i < db->nfps; i++) {
		if (strcmp(nmdb_str(db, db->fps[i].name), "Linux 2.6.32"))
			continue;
		int n = 0;
		for (int t = 0; t < NMDB_NTESTS; t++)
			n += db->fps[i].tests[t].present;
		if (n > best)
			best = n;
	}
	for (int t = 0; fp && t < NMDB_NTESTS; t++)
		got += fp->tests[t].present;
	CHECK(fp && got == best);
}

static bool num_ok(const struct nmdb *db, const struct nmdb_fp *fp, enum nmdb_test t,
		   const char *name, uint32_t v)
{
	const struct nmdb_attr *a = nmdb_get(db, fp, t, name);
	return !a || nmdb_attr_matches_num(db, a, v);
}

static bool str_ok(const struct nmdb *db, const struct nmdb_fp *fp, enum nmdb_test t,
		   const char *name, const char *v)
{
	const struct nmdb_attr *a = nmdb_get(db, fp, t, name);
	return !a || nmdb_attr_matches(db, a, v);
}

/* A TTL: nmap's T can exceed 255 (observed TTL plus hops), which no
 * packet carries; such an expression cannot be met and is not held
 * against the derivation. */
static bool ttl_ok(const struct nmdb *db, const struct nmdb_fp *fp, enum nmdb_test t,
		   uint8_t ttl)
{
	const struct nmdb_attr *a = nmdb_get(db, fp, t, "T");
	if (!a || nmdb_attr_matches_num(db, a, ttl))
		return true;
	for (uint32_t v = 1; v <= 255; v++)
		if (nmdb_attr_matches_num(db, a, v))
			return false;
	return true;
}

/* Every fingerprint of the database: the values chosen satisfy it. */
TEST(derived_values_match_every_fingerprint)
{
	struct nmdb *db = real_db();
	if (!db)
		return;
	size_t bad = 0;
	for (size_t i = 0; i < db->nfps; i++) {
		const struct nmdb_fp *fp = &db->fps[i];
		struct persona pe;
		persona_from_fp(&pe, db, fp);
		const char *why = NULL;
#define NEED(cond, what) do { if (!why && !(cond)) why = (what); } while (0)
		if (fp->tests[NMDB_T1].present && pe.t[1].respond) {
			NEED(ttl_ok(db, fp, NMDB_T1, pe.t[1].ttl), "T1 T");
			NEED(str_ok(db, fp, NMDB_T1, "DF", pe.t[1].df ? "Y" : "N"), "T1 DF");
		}
		for (int k = 0; k < 6; k++) {
			char w[3] = { 'W', (char)('1' + k), 0 }, o[3] = { 'O', (char)('1' + k), 0 };
			NEED(num_ok(db, fp, NMDB_WIN, w, pe.seq[k].win), "WIN");
			NEED(str_ok(db, fp, NMDB_OPS, o, pe.seq[k].opts), "OPS");
		}
		for (int t = 2; t <= 7; t++) {
			enum nmdb_test tt = (enum nmdb_test)(NMDB_T1 + t - 1);
			if (!fp->tests[tt].present)
				continue;
			NEED(str_ok(db, fp, tt, "R", pe.t[t].respond ? "Y" : "N"), "T2-T7 R");
			if (pe.t[t].respond) {
				NEED(num_ok(db, fp, tt, "W", pe.t[t].win), "T2-T7 W");
				NEED(str_ok(db, fp, tt, "O", pe.t[t].opts), "T2-T7 O");
				NEED(ttl_ok(db, fp, tt, pe.t[t].ttl), "T2-T7 T");
			}
		}
		if (fp->tests[NMDB_U1].present && pe.u1_respond) {
			NEED(num_ok(db, fp, NMDB_U1, "IPL", pe.u1_ipl), "U1 IPL");
			NEED(ttl_ok(db, fp, NMDB_U1, pe.u1_ttl), "U1 T");
		}
		if (fp->tests[NMDB_IE].present && pe.ie_respond)
			NEED(ttl_ok(db, fp, NMDB_IE, pe.ie_ttl), "IE T");
		if (fp->tests[NMDB_SEQ].present)
			NEED(num_ok(db, fp, NMDB_SEQ, "GCD", pe.gcd), "GCD");
#undef NEED
		bool ok = why == NULL;
		if (!ok) {
			if (bad < 20)
				fprintf(stderr, "line %u %s: derived %s does not match\n",
					fp->line, nmdb_str(db, fp->name), why);
			bad++;
		}
	}
	CHECK_EQ_U(bad, 0);
}

TEST(windows_xp_persona_in_detail)
{
	struct nmdb *db = real_db();
	if (!db)
		return;
	struct persona pe;
	struct vg_err e = { 0 };
	CHECK(persona_resolve(&pe, db, "Microsoft Windows XP SP2 or SP3", &e) == 0);
	CHECK(pe.exact);
	CHECK_EQ_U(pe.ttl, 128);
	CHECK(pe.df);
	CHECK_EQ_U(pe.mss, 1460);
	CHECK_EQ_U(pe.isn_mode, PERS_ISN_COOKIE);
	CHECK_EQ_U(pe.gcd, 1);
	/* Random-looking ISNs: a span of at least 2^22 hash values. */
	CHECK(pe.isn_span >= (1u << 22));
	CHECK_EQ_U(pe.ti.cls, PERS_ID_I);
	CHECK_EQ_U(pe.ii.cls, PERS_ID_I);
	CHECK(!pe.t[3].respond || pe.t[3].flags != 0);
	CHECK_EQ_U(pe.t[5].flags, 0x14);        /* RST+ACK from a closed port */
	CHECK(persona_resolve(&pe, db, "Plan 42 from Outer Space", &e) == -ENOENT);
	CHECK(strstr(e.msg, "Plan 42") != NULL);
}

TEST(tcp_options_are_built_from_the_o_string)
{
	uint8_t b[PERS_MAX_OPTS];
	unsigned n = persona_tcp_options("M5B4NW8NNT11S", b, 0x01020304, 0x0a0b0c0d, true, true, true);
	static const uint8_t want[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 8, 10, 1, 2, 3, 4,
					0x0a, 0x0b, 0x0c, 0x0d, 4, 2, 0, 0 };
	CHECK_EQ_U(n, sizeof want);
	CHECK(!memcmp(b, want, sizeof want));
	/* A peer without window scaling: W goes, with the NOP aligning it. */
	n = persona_tcp_options("M5B4NW8NNT11S", b, 5, 6, false, true, true);
	CHECK_EQ_U(n, 20);
	CHECK(b[4] == 1 && b[5] == 1 && b[6] == 8);
	/* T00: both timestamp fields zero; L is an end of list. */
	n = persona_tcp_options("NNT00L", b, 5, 6, true, true, true);
	CHECK_EQ_U(n, 16);
	CHECK(b[2] == 8 && b[4] == 0 && b[7] == 0 && b[12] == 0);
	CHECK_EQ_U(persona_tcp_options("", b, 0, 0, true, true, true), 0);
}

/* Through the responder: each personality's SYN-ACK carries its TTL, DF
 * and window; the ACK that returns its ISN opens a connection (cookie or
 * remembered-ISN scheme alike) and a forged one does not; nmap's first
 * SEQ probe gets W1 and the O1 option layout. */
static const char *const stack_names[] = {
	"Microsoft Windows XP SP2 or SP3", "Microsoft Windows 7", "Linux 4.4",
	"OpenBSD 4.3", "Cisco C3620 router (IOS 12.3)",
	"HP LaserJet 4250 (JetDirect) printer",         /* GCD FA00: counter ISNs */
	"3Com SuperStack 3 Switch 3300",                /* GCD 0: a constant ISN */
};
#define NSTACK (sizeof stack_names / sizeof stack_names[0])

TEST(personalities_shape_replies_and_their_isns_open_connections)
{
	struct nmdb *db = real_db();
	if (!db)
		return;
	char conf[4096];
	size_t n = 0;
	for (size_t i = 0; i < NSTACK; i++)
		n += (size_t)snprintf(conf + n, sizeof conf - n,
				      "create p%zu\nset p%zu personality \"%s\"\n"
				      "add p%zu tcp port 80 open\nbind 192.0.2.%zu p%zu\n",
				      i, i, stack_names[i], i, 20 + i, i);
	struct sc_config *cfg;
	struct vg_err e = { 0 };
	CHECK(sc_config_load_buf(&cfg, "p.conf", conf, n, &e) == 0);
	if (!cfg)
		return;
	struct tc *t = calloc(1, sizeof *t);
	struct stack_opts o;
	tc_opts(&o, t, cfg, 7);
	o.osdb = db;
	struct stack *s;
	CHECK(stack_new(&s, &o, &e) == 0);
	uint8_t f[1600];
	uint64_t now = 1700000000000000000ull;
	const uint32_t cli = TC_IP(198, 51, 100, 7);
	for (size_t i = 0; s && i < NSTACK; i++) {
		struct persona pe;
		CHECK(persona_resolve(&pe, db, stack_names[i], &e) == 0);
		uint32_t dst = TC_IP(192, 0, 2, 20 + i);
		uint16_t sport = (uint16_t)(40000 + i);
		struct stack_stats st0, st1;
		stack_get_stats(s, &st0);
		tc_clear(t);
		uint32_t len = tc_tcp(f, cli, sport, dst, 80, 1000, 0, 0x02, NULL, 0);
		stack_input(s, VG_LINK_ETHERNET, now, f, len, len);
		CHECK_EQ_I(t->nout, 1);
		if (t->nout != 1)
			continue;
		struct vg_pkt r;
		CHECK(tc_decode(&t->out[0], &r) == VG_DEC_OK);
		CHECK_EQ_U(r.tcp_flags & 0x3f, 0x12);
		CHECK_EQ_U(r.ttl, pe.ttl);
		CHECK_EQ_U(!!(r.l3[6] & 0x40), pe.df);
		CHECK_EQ_U(r.tcp_win, pe.win);
		CHECK_EQ_U(r.tcp_ack, 1001);
		uint32_t isn = r.tcp_seq;
		/* The ACK returning the ISN opens the connection ... */
		now += 1000000;
		tc_clear(t);
		len = tc_tcp(f, cli, sport, dst, 80, 1001, isn + 1, 0x10, NULL, 0);
		stack_input(s, VG_LINK_ETHERNET, now, f, len, len);
		stack_get_stats(s, &st1);
		CHECK_EQ_U(st1.conn_total, st0.conn_total + 1);
		/* ... a forged one, on another tuple, does not. */
		len = tc_tcp(f, cli, (uint16_t)(sport + 100), dst, 80, 5000, isn + 12345, 0x10, NULL, 0);
		stack_input(s, VG_LINK_ETHERNET, now, f, len, len);
		stack_get_stats(s, &st0);
		CHECK_EQ_U(st0.conn_total, st1.conn_total);
		CHECK_EQ_U(st0.tcp_bad_cookie, st1.tcp_bad_cookie + 1);

		/* nmap's first SEQ probe: window 1, WS 10, NOP, MSS 1460,
		 * TS 0xFFFFFFFF, SACK permitted. */
		tc_clear(t);
		len = tc_tcp(f, cli, (uint16_t)(sport + 200), dst, 80, 7000, 0, 0x02, NULL, 0);
		uint8_t *th = f + 34;
		static const uint8_t p1[20] = { 3, 3, 10, 1, 2, 4, 0x05, 0xb4, 8, 10, 0xff, 0xff,
						0xff, 0xff, 0, 0, 0, 0, 4, 2 };
		memcpy(th + 20, p1, 20);
		tc_put16(th + 14, 1);
		tc_put16(th + 16, 0);
		tc_l4_csum(f, 40, 16);
		stack_input(s, VG_LINK_ETHERNET, now, f, len, len);
		if (!pe.seq[0].respond) {
			CHECK_EQ_I(t->nout, 0);
			continue;
		}
		CHECK_EQ_I(t->nout, 1);
		if (t->nout != 1 || tc_decode(&t->out[0], &r) != VG_DEC_OK)
			continue;
		CHECK_EQ_U(r.tcp_win, pe.seq[0].win);
		uint8_t want[PERS_MAX_OPTS];
		unsigned wl = persona_tcp_options(pe.seq[0].opts, want, 1, 1, true, true, true);
		CHECK_EQ_U(r.tcp_hlen, 20 + wl);
		/* Same layout: option kinds and lengths, byte for byte where
		 * no timestamp value sits. */
		const uint8_t *got = r.l4 + 20;
		for (unsigned k = 0; k < wl && r.tcp_hlen == 20 + wl;) {
			CHECK_EQ_U(got[k], want[k]);
			if (want[k] <= 1) {
				k++;
				continue;
			}
			CHECK_EQ_U(got[k + 1], want[k + 1]);
			if (want[k] != 8)
				CHECK(!memcmp(got + k, want + k, want[k + 1]));
			k += want[k + 1] ? want[k + 1] : 1;
		}
	}
	stack_free(s);
	sc_config_free(cfg);
	free(t);
}

int main(void)
{
	RUN(small_database_values_ranges_alternatives_and_empty);
	RUN(errors_name_the_file_and_the_line);
	RUN(debian_database_loads_and_names_resolve);
	RUN(derived_values_match_every_fingerprint);
	RUN(windows_xp_persona_in_detail);
	RUN(tcp_options_are_built_from_the_o_string);
	RUN(personalities_shape_replies_and_their_isns_open_connections);
	nmdb_free(real_db());
	return check_summary();
}
