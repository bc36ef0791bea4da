/* test-geo-rir: country lookup from the real RIR delegation files, the
 * format's odd lines, errors, and the overlap rule (more specific range
 * wins; equal sizes: the later-dated file wins, then the later-loaded
 * record). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "check.h"
#include "geo-rir.h"

static const char *const rir_files[] = {
	"rir/delegated-lacnic-extended-20240104",
	"rir/delegated-afrinic-extended-20240105",
	"rir/delegated-apnic-20140630",
	"rir/delegated-ripencc-20140630",
	"rir/delegated-arin-extended-20260725.EXCERPT",
};
#define NFILES (sizeof rir_files / sizeof rir_files[0])

static struct geo_db *real_db;

static struct geo_db *load_real(bool reversed)
{
	struct vg_err err;
	vg_err_clear(&err);
	struct geo_db *db = geo_db_new();
	if (!db)
		return NULL;
	for (size_t k = 0; k < NFILES; k++) {
		size_t i = reversed ? NFILES - 1 - k : k;
		if (geo_db_load_file(db, test_data(rir_files[i]), &err) < 0) {
			fprintf(stderr, "load failed: %s\n", err.msg);
			geo_db_free(db);
			return NULL;
		}
	}
	if (geo_db_finalize(db, &err) < 0) {
		fprintf(stderr, "finalize failed: %s\n", err.msg);
		geo_db_free(db);
		return NULL;
	}
	return db;
}

static uint32_t ip4(const char *s)
{
	uint8_t a[4];
	if (inet_pton(AF_INET, s, a) != 1) {
		fprintf(stderr, "bad test address %s\n", s);
		abort();
	}
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

static const char *cc4(const struct geo_db *db, const char *addr)
{
	static char buf[4][3];
	static int i;
	return geo_cc_str(geo_lookup4(db, ip4(addr)), buf[i++ % 4]);
}

static const char *cc6(const struct geo_db *db, const char *addr)
{
	static char buf[4][3];
	static int i;
	uint8_t a[16];
	if (inet_pton(AF_INET6, addr, a) != 1) {
		fprintf(stderr, "bad test address %s\n", addr);
		abort();
	}
	return geo_cc_str(geo_lookup6(db, a), buf[i++ % 4]);
}

/* Load one buffer into a fresh db and finalize; NULL (and err set) on
 * a load error. */
static struct geo_db *db_from(const char *name, const char *text, struct vg_err *err)
{
	struct geo_db *db = geo_db_new();
	vg_err_clear(err);
	if (geo_db_load_buf(db, name, text, strlen(text), err) < 0 ||
	    geo_db_finalize(db, err) < 0) {
		geo_db_free(db);
		return NULL;
	}
	return db;
}

/* ---- real files --------------------------------------------------- */

TEST(all_five_real_files_load)
{
	CHECK(real_db != NULL);
	if (!real_db)
		return;
	CHECK(geo_db_count4(real_db) > 50000);
	CHECK(geo_db_count6(real_db) > 20000);
}

TEST(lacnic_brazil_ipv4_range_first_last_and_neighbours)
{
	/* lacnic|CR|ipv4|190.9.124.0|512, |BR|190.9.126.0|256,
	 * ||190.9.127.0|256||available, |VE|190.9.128.0|8192 */
	CHECK_STREQ(cc4(real_db, "190.9.126.0"), "BR");
	CHECK_STREQ(cc4(real_db, "190.9.126.255"), "BR");
	CHECK_STREQ(cc4(real_db, "190.9.125.255"), "CR");
	CHECK_STREQ(cc4(real_db, "190.9.127.0"), "--");
	CHECK_STREQ(cc4(real_db, "190.9.127.255"), "--");
	CHECK_STREQ(cc4(real_db, "190.9.128.0"), "VE");
	CHECK_STREQ(cc4(real_db, "24.152.0.0"), "BR");
	CHECK_STREQ(cc4(real_db, "45.4.20.77"), "BR");
}

TEST(afrinic_ranges)
{
	/* afrinic|EG|ipv4|41.32.0.0|1048576, |ZA|41.48.0.0|524288 */
	CHECK_STREQ(cc4(real_db, "41.32.0.0"), "EG");
	CHECK_STREQ(cc4(real_db, "41.47.255.255"), "EG");
	CHECK_STREQ(cc4(real_db, "41.48.0.0"), "ZA");
	/* non-power-of-two: afrinic|ZA|ipv4|196.4.163.0|768 */
	CHECK_STREQ(cc4(real_db, "196.4.165.255"), "ZA");
}

TEST(apnic_ranges)
{
	/* apnic|AU|ipv4|1.0.0.0|256, apnic|CN|ipv4|1.0.1.0|256 */
	CHECK_STREQ(cc4(real_db, "1.0.0.0"), "AU");
	CHECK_STREQ(cc4(real_db, "1.0.0.255"), "AU");
	CHECK_STREQ(cc4(real_db, "1.0.1.0"), "CN");
	CHECK_STREQ(cc4(real_db, "1.0.16.1"), "JP");
}

TEST(ripe_768_address_range_is_not_a_power_of_two)
{
	/* ripencc|RU|ipv4|91.209.128.0|768 ends at 91.209.130.255;
	 * next is ripencc|GE|ipv4|91.209.131.0|256 */
	CHECK_STREQ(cc4(real_db, "91.209.128.0"), "RU");
	CHECK_STREQ(cc4(real_db, "91.209.130.255"), "RU");
	CHECK_STREQ(cc4(real_db, "91.209.131.0"), "GE");
	/* ripencc|FR|ipv4|91.194.96.0|1536 -> 91.194.96.0..91.194.101.255 */
	CHECK_STREQ(cc4(real_db, "91.194.101.255"), "FR");
	CHECK_STREQ(cc4(real_db, "5.2.64.9"), "NL");
}

TEST(arin_excerpt_ranges_and_unlisted_neighbour)
{
	/* arin|US|ipv4|9.200.0.0|262144 -> 9.200.0.0..9.203.255.255; the
	 * excerpt has nothing at 9.204.0.0 and no other file covers it */
	CHECK_STREQ(cc4(real_db, "9.200.0.0"), "US");
	CHECK_STREQ(cc4(real_db, "9.203.255.255"), "US");
	CHECK_STREQ(cc4(real_db, "9.204.0.0"), "--");
	CHECK_STREQ(cc4(real_db, "15.195.4.4"), "CA");
}

TEST(real_transfer_overlap_arin_inside_apnic_more_specific_wins)
{
	/* apnic 2014: IN 14.102.0.0|32768; arin 2026: US 14.102.79.0|256 */
	CHECK_STREQ(cc4(real_db, "14.102.78.255"), "IN");
	CHECK_STREQ(cc4(real_db, "14.102.79.0"), "US");
	CHECK_STREQ(cc4(real_db, "14.102.79.255"), "US");
	CHECK_STREQ(cc4(real_db, "14.102.80.0"), "IN");
}

TEST(stale_equal_size_record_loses_to_newer_file)
{
	/* apnic 2014: JP 27.50.12.0|1024; lacnic 2024: EC 27.50.12.0|1024
	 * (transferred since).  LACNIC is loaded first here, and still wins
	 * because its version line is dated later. */
	CHECK_STREQ(cc4(real_db, "27.50.12.0"), "EC");
	CHECK_STREQ(cc4(real_db, "27.50.15.255"), "EC");
}

TEST(file_order_does_not_change_answers)
{
	struct geo_db *rev = load_real(true);
	CHECK(rev != NULL);
	if (!rev)
		return;
	CHECK_EQ_U(geo_db_count4(rev), geo_db_count4(real_db));
	CHECK_EQ_U(geo_db_count6(rev), geo_db_count6(real_db));
	int diff = 0;
	uint64_t x = 88172645463325252u;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint8_t a6[16] = {0x20, (uint8_t)(x >> 40 & 0x1f)};
		for (int b = 2; b < 16; b++)
			a6[b] = (uint8_t)(x >> (b * 4));
		diff += geo_lookup4(rev, (uint32_t)x) != geo_lookup4(real_db, (uint32_t)x);
		diff += geo_lookup6(rev, a6) != geo_lookup6(real_db, a6);
	}
	CHECK_EQ_I(diff, 0);
	CHECK_STREQ(cc4(rev, "27.50.12.0"), "EC");
	geo_db_free(rev);
}

TEST(equal_size_newer_file_date_beats_load_order)
{
	struct geo_db *db = geo_db_new();
	struct vg_err err;
	const char *newer = "2|x|1|1|19900101|20240101|+0000\n"
			    "x|AA|ipv4|10.0.0.0|256|1|allocated\n";
	const char *older = "2|y|1|1|19900101|20140101|+0000\n"
			    "y|BB|ipv4|10.0.0.0|256|1|allocated\n"
			    "y|BB|ipv4|10.0.1.0|256|1|allocated\n";
	CHECK_EQ_I(geo_db_load_buf(db, "newer", newer, strlen(newer), &err), 0);
	CHECK_EQ_I(geo_db_load_buf(db, "older", older, strlen(older), &err), 0);
	CHECK_EQ_I(geo_db_finalize(db, &err), 0);
	CHECK_STREQ(cc4(db, "10.0.0.0"), "AA");
	CHECK_STREQ(cc4(db, "10.0.1.0"), "BB");
	geo_db_free(db);
}

TEST(ipv6_lacnic_and_ripe)
{
	/* lacnic|BR|ipv6|2001:1280::|32; 2001:1281::|32 available */
	CHECK_STREQ(cc6(real_db, "2001:1280::"), "BR");
	CHECK_STREQ(cc6(real_db, "2001:1280:ffff:ffff:ffff:ffff:ffff:ffff"), "BR");
	CHECK_STREQ(cc6(real_db, "2001:1281::"), "--");
	CHECK_STREQ(cc6(real_db, "2001:1270::1"), "MX");
	/* ripencc|DE|ipv6|2001:608::|32, ripencc|EU|ipv6|2001:600::|32 */
	CHECK_STREQ(cc6(real_db, "2001:608::1"), "DE");
	CHECK_STREQ(cc6(real_db, "2001:608:ffff:ffff:ffff:ffff:ffff:ffff"), "DE");
	CHECK_STREQ(cc6(real_db, "2001:609::"), "--");
	CHECK_STREQ(cc6(real_db, "2001:600::"), "EU");
}

TEST(unknown_space_is_dashes)
{
	CHECK_STREQ(cc4(real_db, "0.0.0.0"), "--");
	CHECK_STREQ(cc4(real_db, "10.1.2.3"), "--");
	CHECK_STREQ(cc4(real_db, "127.0.0.1"), "--");
	CHECK_STREQ(cc4(real_db, "224.0.0.1"), "--");
	CHECK_STREQ(cc4(real_db, "255.255.255.255"), "--");
	CHECK_STREQ(cc6(real_db, "::"), "--");
	CHECK_STREQ(cc6(real_db, "::1"), "--");
	CHECK_STREQ(cc6(real_db, "fe80::1"), "--");
	CHECK_STREQ(cc6(real_db, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "--");
	CHECK_EQ_U(GEO_UNKNOWN, '-' << 8 | '-');
}

TEST(geo_lookup_dispatches_on_family)
{
	struct vg_ip a = {.v = 4, .a = {190, 9, 126, 7}};
	char buf[3];
	CHECK_STREQ(geo_cc_str(geo_lookup(real_db, &a), buf), "BR");
	struct vg_ip b = {.v = 6};
	inet_pton(AF_INET6, "2001:608::5", b.a);
	CHECK_STREQ(geo_cc_str(geo_lookup(real_db, &b), buf), "DE");
	struct vg_ip c = {.v = 0, .a = {190, 9, 126, 7}};
	CHECK_EQ_U(geo_lookup(real_db, &c), GEO_UNKNOWN);
	CHECK_EQ_U(geo_lookup(real_db, NULL), GEO_UNKNOWN);
}

/* ---- holder ASN (extended files' opaque ids) ----------------------- */

static uint32_t asn4(const struct geo_db *db, const char *addr)
{
	struct vg_ip ip = {.v = 4};
	if (inet_pton(AF_INET, addr, ip.a) != 1)
		abort();
	return geo_lookup_asn(db, &ip);
}

static uint32_t asn6(const struct geo_db *db, const char *addr)
{
	struct vg_ip ip = {.v = 6};
	if (inet_pton(AF_INET6, addr, ip.a) != 1)
		abort();
	return geo_lookup_asn(db, &ip);
}

TEST(lacnic_holder_asn_by_opaque_id)
{
	/* lacnic|BR|ipv4|24.152.4.0|1024|20200312|allocated|311598
	 * lacnic|BR|ipv6|2804:6cd0::|32|20200312|allocated|311598
	 * lacnic|BR|asn|270494|1|20200312|allocated|311598 */
	CHECK_EQ_U(asn4(real_db, "24.152.4.0"), 270494);
	CHECK_EQ_U(asn4(real_db, "24.152.7.255"), 270494);
	CHECK_EQ_U(asn6(real_db, "2804:6cd0::1"), 270494);
	/* Holder 99822 has AS28351 and AS28573: the lowest is its ASN.
	 * lacnic|BR|ipv4|177.32.0.0|262144|20110114|allocated|99822
	 * lacnic|BR|ipv6|2804:14c::|31|20120210|allocated|99822 */
	CHECK_EQ_U(asn4(real_db, "177.32.0.0"), 28351);
	CHECK_EQ_U(asn4(real_db, "177.35.255.255"), 28351);
	CHECK_EQ_U(asn6(real_db, "2804:14d:ffff::1"), 28351);
	/* Country and ASN from the one search. */
	struct vg_ip ip = {.v = 4, .a = {177, 33, 1, 2}};
	uint32_t asn = 1;
	char buf[3];
	CHECK_STREQ(geo_cc_str(geo_lookup_cc_asn(real_db, &ip, &asn), buf), "BR");
	CHECK_EQ_U(asn, 28351);
	/* The neighbours are other holders: 24.152.0.0/22 is 310248's
	 * (lacnic|BR|asn|270480|1|20200310|allocated|310248), 24.152.8.0/22
	 * 301675's (lacnic|BR|asn|270470|1|20200309|allocated|301675). */
	CHECK_EQ_U(asn4(real_db, "24.152.3.255"), 270480);
	CHECK_EQ_U(asn4(real_db, "24.152.8.0"), 270470);
	/* lacnic|BR|ipv4|45.7.36.0|1024|20170608|allocated|139734: no asn line. */
	CHECK_STREQ(cc4(real_db, "45.7.36.1"), "BR");
	CHECK_EQ_U(asn4(real_db, "45.7.36.1"), 0);
	/* Plain (not extended) APNIC file: no opaque ids. */
	CHECK_STREQ(cc4(real_db, "1.0.1.0"), "CN");
	CHECK_EQ_U(asn4(real_db, "1.0.1.0"), 0);
	/* Nothing delegated. */
	CHECK_EQ_U(asn4(real_db, "10.1.2.3"), 0);
	CHECK_EQ_U(geo_lookup_asn(NULL, &ip), 0);
}

TEST(holder_asn_is_the_lowest_whatever_the_line_and_file_order)
{
	/* Real lines of holder 99822, AS lines after the ranges and in two
	 * files, the higher AS first. */
	const char *a = "lacnic|BR|ipv4|177.32.0.0|262144|20110114|allocated|99822\n"
			"lacnic|BR|asn|28573|1|20031127|allocated|99822\n";
	const char *b = "lacnic|BR|asn|28351|1|20070927|allocated|99822\n"
			"lacnic|BR|asn|1|1|20070927|reserved|99822\n"
			"other|BR|asn|7|1|20070927|allocated|99822\n";
	for (int order = 0; order < 2; order++) {
		struct geo_db *db = geo_db_new();
		struct vg_err err;
		const char *first = order ? b : a, *second = order ? a : b;
		CHECK_EQ_I(geo_db_load_buf(db, "1", first, strlen(first), &err), 0);
		CHECK_EQ_I(geo_db_load_buf(db, "2", second, strlen(second), &err), 0);
		CHECK_EQ_I(geo_db_finalize(db, &err), 0);
		/* not AS1 (reserved), not AS7 (the same id at another registry) */
		CHECK_EQ_U(asn4(db, "177.33.0.1"), 28351);
		geo_db_free(db);
	}
}

TEST(adjacent_same_country_ranges_of_different_holders_stay_apart)
{
	/* Real lines; of the AS lines only 311598's is given, so the other
	 * three holders have none here. */
	const char *text = "lacnic|BR|ipv4|24.152.0.0|1024|20200310|allocated|310248\n"
			   "lacnic|BR|ipv4|24.152.4.0|1024|20200312|allocated|311598\n"
			   "lacnic|BR|ipv4|24.152.8.0|1024|20200309|allocated|301675\n"
			   "lacnic|BR|ipv4|24.152.12.0|1024|20200309|allocated|308100\n"
			   "lacnic|BR|asn|270494|1|20200312|allocated|311598\n";
	struct vg_err err;
	struct geo_db *db = db_from("holders", text, &err);
	CHECK(db != NULL);
	if (!db)
		return;
	/* unknown, AS270494, unknown (two holders without AS merge) */
	CHECK_EQ_U(geo_db_count4(db), 3);
	CHECK_EQ_U(asn4(db, "24.152.3.255"), 0);
	CHECK_EQ_U(asn4(db, "24.152.4.0"), 270494);
	CHECK_EQ_U(asn4(db, "24.152.8.0"), 0);
	CHECK_STREQ(cc4(db, "24.152.15.255"), "BR");
	geo_db_free(db);
}

TEST(failed_file_as_lines_are_dropped)
{
	const char *good = "x|BR|ipv4|10.0.0.0|256|1|allocated|h1\n";
	const char *bad = "x|BR|asn|64500|1|1|allocated|h1\n"
			  "x|BR|ipv4|12.0.0.0|zz|1|allocated|h1\n";
	struct geo_db *db = geo_db_new();
	struct vg_err err;
	CHECK_EQ_I(geo_db_load_buf(db, "good", good, strlen(good), &err), 0);
	CHECK(geo_db_load_buf(db, "bad", bad, strlen(bad), &err) < 0);
	CHECK_EQ_I(geo_db_finalize(db, &err), 0);
	CHECK_STREQ(cc4(db, "10.0.0.1"), "BR");
	CHECK_EQ_U(asn4(db, "10.0.0.1"), 0);
	geo_db_free(db);
}

/* ---- format --------------------------------------------------------- */

TEST(header_summary_comment_asn_and_unknown_lines_skipped)
{
	const char *text =
		"# a comment block\n"
		"#   like APNIC's\n"
		"\n"
		"2.3|test|20240104|5|19870101|20240104|-0300\n"
		"test|*|ipv4|*|3|summary\n"
		"test|*|ipv6|*|1|summary\n"
		"test|BR|asn|28000|1|20000101|allocated|x\n"
		"test|BR|ipv5|1.2.3.4|256|20000101|allocated\n"
		"\n"
		"test|br|ipv4|200.1.0.0|256|20000101|allocated|123\n"
		"test||ipv4|200.1.1.0|256||available\n"
		"test|ZZ|ipv4|200.1.2.0|256||reserved|\n"
		"test|AR|ipv4|200.1.3.0|256|20000101|reserved|9\n"
		"test|zz|ipv4|200.1.4.0|256|20000101|assigned|9\n"
		"test|MX|ipv4|200.1.5.0|256|20000101|assigned|9|e-stats|x\n";
	struct vg_err err;
	struct geo_db *db = db_from("hdr", text, &err);
	CHECK(db != NULL);
	if (!db) {
		fprintf(stderr, "%s\n", err.msg);
		return;
	}
	CHECK_EQ_U(geo_db_count4(db), 2);
	CHECK_EQ_U(geo_db_count6(db), 0);
	CHECK_STREQ(cc4(db, "200.1.0.9"), "BR"); /* lowercase cc uppercased */
	CHECK_STREQ(cc4(db, "200.1.1.9"), "--");
	CHECK_STREQ(cc4(db, "200.1.2.9"), "--");
	CHECK_STREQ(cc4(db, "200.1.3.9"), "--");
	CHECK_STREQ(cc4(db, "200.1.4.9"), "--");
	CHECK_STREQ(cc4(db, "200.1.5.9"), "MX");
	CHECK_STREQ(cc4(db, "1.2.3.4"), "--");
	geo_db_free(db);
}

struct bad_case {
	const char *line;
	const char *expect; /* substring of the message after "bad: line 3: " */
};

TEST(malformed_lines_error_with_file_and_line)
{
	static const struct bad_case cases[] = {
		{"x|BR|ipv4|10.0.0.0|abc|20000101|allocated", "ipv4 count 'abc' is not a number"},
		{"x|BR|ipv4|10.0.0.0|-5|20000101|allocated", "ipv4 count '-5' is not a number"},
		{"x|BR|ipv4|10.0.0.0||20000101|allocated", "ipv4 count '' is not a number"},
		{"x|BR|ipv4|10.0.0.0|0|20000101|allocated", "ipv4 count is 0"},
		{"x|BR|ipv4|10.0.0.300|256|20000101|allocated", "ipv4 start '10.0.0.300' is not an IPv4 address"},
		{"x|BR|ipv4|2001:db8::|256|20000101|allocated", "is not an IPv4 address"},
		{"x|BR|ipv4|255.255.255.0|512|20000101|allocated", "runs past 255.255.255.255"},
		{"x|BR|ipv4|0.0.0.0|4294967297|20000101|allocated", "runs past 255.255.255.255"},
		{"x|BR|ipv4|10.0.0.0|256|20000101", "ipv4 record has 6 fields, expected at least 7"},
		{"x|BR|ipv6|2001:db8::|129|20000101|allocated", "ipv6 prefix length 129 is larger than 128"},
		{"x|BR|ipv6|2001:db8::|3x|20000101|allocated", "ipv6 prefix length '3x' is not a number"},
		{"x|BR|ipv6|2001:db8:::|32|20000101|allocated", "is not an IPv6 address"},
		{"x|BR|ipv6|ffff::|8|20000101|allocated", "runs past the end"},
		{"x|B1|ipv4|10.0.0.0|256|20000101|allocated", "country code 'B1' is not two letters"},
		{"x|BRA|ipv4|10.0.0.0|256|20000101|assigned", "country code 'BRA' is not two letters"},
		{"just some text", "is not a record"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[512], want[256];
		/* a version line and a comment first, so line 3 is the bad one;
		 * CRLF to check line counting is unaffected */
		snprintf(text, sizeof text, "2|x|20240101|1|0|0|0\r\n# c\r\n%s\r\n"
			 "x|BR|ipv4|11.0.0.0|256|20000101|allocated\r\n", cases[i].line);
		struct vg_err err;
		struct geo_db *db = geo_db_new();
		vg_err_clear(&err);
		int rc = geo_db_load_buf(db, "bad", text, strlen(text), &err);
		CHECK_EQ_I(rc, -EINVAL);
		snprintf(want, sizeof want, "bad: line 3: %s", cases[i].expect);
		if (!strstr(err.msg, "bad: line 3: ") || !strstr(err.msg, cases[i].expect)) {
			fprintf(stderr, "case %zu: got \"%s\", want \"%s\"\n", i,
				err.msg, want);
			CHECK(!"error message names file, line and fault");
		} else {
			CHECK(1);
		}
		geo_db_free(db);
	}
}

TEST(error_message_quotes_hostile_bytes_safely)
{
	char text[300];
	memset(text, 0, sizeof text);
	strcpy(text, "x|BR|ipv4|10.0.0.0|");
	size_t n = strlen(text);
	for (size_t i = 0; i < 200; i++)
		text[n + i] = (char)(i % 3 ? 'A' : '\x01');
	strcpy(text + n + 200, "|2000|allocated");
	struct vg_err err;
	struct geo_db *db = geo_db_new();
	CHECK(geo_db_load_buf(db, "hostile", text, strlen(text), &err) < 0);
	CHECK(strstr(err.msg, "hostile: line 1: ipv4 count '?AA?AA") != NULL);
	CHECK(strstr(err.msg, "...' is not a number") != NULL);
	CHECK(strchr(err.msg, '\x01') == NULL);
	geo_db_free(db);
}

TEST(failed_file_leaves_db_unchanged)
{
	struct geo_db *db = geo_db_new();
	struct vg_err err;
	const char *good = "x|AR|ipv4|10.0.0.0|256|1|allocated\n";
	const char *bad = "x|BR|ipv4|11.0.0.0|256|1|allocated\n"
			  "x|BR|ipv4|12.0.0.0|zz|1|allocated\n";
	CHECK_EQ_I(geo_db_load_buf(db, "good", good, strlen(good), &err), 0);
	CHECK(geo_db_load_buf(db, "bad", bad, strlen(bad), &err) < 0);
	CHECK(strstr(err.msg, "bad: line 2:") != NULL);
	CHECK_EQ_I(geo_db_finalize(db, &err), 0);
	CHECK_EQ_U(geo_db_count4(db), 1);
	CHECK_STREQ(cc4(db, "10.0.0.1"), "AR");
	CHECK_STREQ(cc4(db, "11.0.0.1"), "--");
	geo_db_free(db);
}

TEST(last_line_without_newline_and_lone_cr_lines)
{
	const char *text = "\r\nx|UY|ipv4|10.0.0.0|256|1|allocated\r\n\r\n"
			   "x|PY|ipv6|2001:db8::|32|1|assigned";
	struct vg_err err;
	struct geo_db *db = db_from("nonl", text, &err);
	CHECK(db != NULL);
	if (!db)
		return;
	CHECK_STREQ(cc4(db, "10.0.0.255"), "UY");
	CHECK_STREQ(cc6(db, "2001:db8:ffff::"), "PY");
	CHECK_STREQ(cc6(db, "2001:db9::"), "--");
	geo_db_free(db);
}

/* ---- overlap rule ------------------------------------------------- */

TEST(adjacent_same_country_ranges_merge)
{
	const char *text = "x|BR|ipv4|10.0.0.0|256|1|allocated\n"
			   "x|BR|ipv4|10.0.1.0|768|1|allocated\n"
			   "x|AR|ipv4|10.0.4.0|256|1|allocated\n"
			   "x|BR|ipv4|10.0.6.0|256|1|allocated\n";
	struct vg_err err;
	struct geo_db *db = db_from("adj", text, &err);
	CHECK(db != NULL);
	if (!db)
		return;
	CHECK_EQ_U(geo_db_count4(db), 3);
	CHECK_STREQ(cc4(db, "10.0.3.255"), "BR");
	CHECK_STREQ(cc4(db, "10.0.4.0"), "AR");
	CHECK_STREQ(cc4(db, "10.0.5.0"), "--");
	CHECK_STREQ(cc4(db, "10.0.6.0"), "BR");
	geo_db_free(db);
}

TEST(smaller_range_inside_larger_splits_it)
{
	/* order in the file must not matter: the /24 is listed first */
	const char *text = "x|CL|ipv4|10.1.2.0|256|1|allocated\n"
			   "x|AR|ipv4|10.1.0.0|65536|1|allocated\n"
			   "x|UY|ipv4|10.1.2.128|16|1|assigned\n"
			   "x|AR|ipv6|2001:db8::|32|1|allocated\n"
			   "x|CL|ipv6|2001:db8:5::|48|1|assigned\n";
	struct vg_err err;
	struct geo_db *db = db_from("nest", text, &err);
	CHECK(db != NULL);
	if (!db)
		return;
	CHECK_STREQ(cc4(db, "10.1.0.0"), "AR");
	CHECK_STREQ(cc4(db, "10.1.1.255"), "AR");
	CHECK_STREQ(cc4(db, "10.1.2.0"), "CL");
	CHECK_STREQ(cc4(db, "10.1.2.127"), "CL");
	CHECK_STREQ(cc4(db, "10.1.2.128"), "UY");
	CHECK_STREQ(cc4(db, "10.1.2.143"), "UY");
	CHECK_STREQ(cc4(db, "10.1.2.144"), "CL");
	CHECK_STREQ(cc4(db, "10.1.2.255"), "CL");
	CHECK_STREQ(cc4(db, "10.1.3.0"), "AR");
	CHECK_STREQ(cc4(db, "10.1.255.255"), "AR");
	CHECK_STREQ(cc4(db, "10.2.0.0"), "--");
	/* AR, CL, UY, CL, AR */
	CHECK_EQ_U(geo_db_count4(db), 5);
	CHECK_STREQ(cc6(db, "2001:db8:4:ffff:ffff:ffff:ffff:ffff"), "AR");
	CHECK_STREQ(cc6(db, "2001:db8:5::"), "CL");
	CHECK_STREQ(cc6(db, "2001:db8:5:ffff:ffff:ffff:ffff:ffff"), "CL");
	CHECK_STREQ(cc6(db, "2001:db8:6::"), "AR");
	CHECK_EQ_U(geo_db_count6(db), 3);
	geo_db_free(db);
}

TEST(partial_overlap_of_odd_counts_smaller_wins)
{
	/* AA: 10.0.0.0..10.0.2.255 (768), BB: 10.0.2.0..10.0.3.255 (512) */
	const char *text = "x|BB|ipv4|10.0.2.0|512|1|allocated\n"
			   "x|AA|ipv4|10.0.0.0|768|1|allocated\n";
	struct vg_err err;
	struct geo_db *db = db_from("partial", text, &err);
	CHECK(db != NULL);
	if (!db)
		return;
	CHECK_STREQ(cc4(db, "10.0.1.255"), "AA");
	CHECK_STREQ(cc4(db, "10.0.2.0"), "BB");
	CHECK_STREQ(cc4(db, "10.0.3.255"), "BB");
	CHECK_EQ_U(geo_db_count4(db), 2);
	geo_db_free(db);
}

TEST(equal_size_overlap_later_loaded_wins)
{
	struct geo_db *db = geo_db_new();
	struct vg_err err;
	const char *first = "x|AA|ipv4|10.0.0.0|512|1|allocated\n"
			    "x|AA|ipv6|2001:db8::|32|1|allocated\n";
	const char *second = "y|BB|ipv4|10.0.0.0|512|1|allocated\n"
			     "y|CC|ipv4|10.0.1.0|512|1|allocated\n"
			     "y|BB|ipv6|2001:db8::|32|1|allocated\n";
	CHECK_EQ_I(geo_db_load_buf(db, "first", first, strlen(first), &err), 0);
	CHECK_EQ_I(geo_db_load_buf(db, "second", second, strlen(second), &err), 0);
	CHECK_EQ_I(geo_db_finalize(db, &err), 0);
	CHECK_STREQ(cc4(db, "10.0.0.0"), "BB");
	/* BB and CC are the same size: CC is the later line */
	CHECK_STREQ(cc4(db, "10.0.1.0"), "CC");
	CHECK_STREQ(cc4(db, "10.0.2.255"), "CC");
	CHECK_STREQ(cc6(db, "2001:db8::1"), "BB");
	geo_db_free(db);
}

TEST(whole_space_edges)
{
	const char *text = "x|AA|ipv4|0.0.0.0|4294967296|1|allocated\n"
			   "x|BB|ipv4|255.255.255.255|1|1|allocated\n"
			   "x|CC|ipv4|0.0.0.0|1|1|allocated\n"
			   "x|AA|ipv6|::|0|1|allocated\n"
			   "x|BB|ipv6|ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff|128|1|allocated\n";
	struct vg_err err;
	struct geo_db *db = db_from("edges", text, &err);
	CHECK(db != NULL);
	if (!db) {
		fprintf(stderr, "%s\n", err.msg);
		return;
	}
	CHECK_STREQ(cc4(db, "0.0.0.0"), "CC");
	CHECK_STREQ(cc4(db, "0.0.0.1"), "AA");
	CHECK_STREQ(cc4(db, "255.255.255.254"), "AA");
	CHECK_STREQ(cc4(db, "255.255.255.255"), "BB");
	CHECK_STREQ(cc6(db, "::"), "AA");
	CHECK_STREQ(cc6(db, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), "AA");
	CHECK_STREQ(cc6(db, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "BB");
	geo_db_free(db);
}

/* ---- files ---------------------------------------------------------- */

static char tmpdir[256];

static const char *write_tmp(const char *name, const char *data, size_t len)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		abort();
	}
	return path;
}

TEST(crlf_file_loads)
{
	const char *text = "2|lacnic|20240104|2|19870101|20240104|-0300\r\n"
			   "lacnic|*|ipv4|*|2|summary\r\n"
			   "lacnic|BR|ipv4|200.2.0.0|1536|20000101|allocated|1\r\n"
			   "lacnic||ipv4|200.2.6.0|256||available\r\n"
			   "lacnic|CL|ipv6|2001:1200::|23|20000101|allocated|2\r\n"
			   /* 7 fields: the CR would otherwise end up in the status */
			   "apnic|JP|ipv4|200.3.0.0|256|20000101|assigned\r\n";
	const char *path = write_tmp("crlf", text, strlen(text));
	struct geo_db *db = geo_db_new();
	struct vg_err err;
	vg_err_clear(&err);
	CHECK_EQ_I(geo_db_load_file(db, path, &err), 0);
	CHECK_EQ_I(geo_db_finalize(db, &err), 0);
	CHECK_STREQ(cc4(db, "200.2.5.255"), "BR");
	CHECK_STREQ(cc4(db, "200.2.6.0"), "--");
	CHECK_STREQ(cc6(db, "2001:13ff::"), "CL");
	CHECK_STREQ(cc6(db, "2001:1400::"), "--");
	CHECK_STREQ(cc4(db, "200.3.0.255"), "JP");
	geo_db_free(db);
}

TEST(empty_file_gives_empty_db)
{
	const char *path = write_tmp("empty", "", 0);
	struct geo_db *db = geo_db_new();
	struct vg_err err;
	CHECK_EQ_I(geo_db_load_file(db, path, &err), 0);
	CHECK_EQ_I(geo_db_load_buf(db, "nothing", NULL, 0, &err), 0);
	CHECK_EQ_I(geo_db_finalize(db, &err), 0);
	CHECK_EQ_U(geo_db_count4(db), 0);
	CHECK_EQ_U(geo_db_count6(db), 0);
	CHECK_STREQ(cc4(db, "200.2.0.1"), "--");
	CHECK_STREQ(cc6(db, "2001:1200::"), "--");
	geo_db_free(db);
}

TEST(missing_file_and_oversized_file_refused)
{
	char path[512];
	struct geo_db *db = geo_db_new();
	struct vg_err err;
	snprintf(path, sizeof path, "%s/no-such-file", tmpdir);
	CHECK_EQ_I(geo_db_load_file(db, path, &err), -ENOENT);
	CHECK(strstr(err.msg, "no-such-file: cannot open") != NULL);

	/* sparse, so it costs no disk */
	snprintf(path, sizeof path, "%s/huge", tmpdir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK_EQ_I(ftruncate(fd, (off_t)GEO_RIR_MAX_FILE_BYTES + 1), 0);
	close(fd);
	CHECK_EQ_I(geo_db_load_file(db, path, &err), -EFBIG);
	CHECK(strstr(err.msg, "huge: file is 268435457 bytes, larger than the 256 MiB limit") != NULL);
	unlink(path);
	CHECK_EQ_I(geo_db_load_buf(db, "big", "", (size_t)GEO_RIR_MAX_FILE_BYTES + 1, &err), -EFBIG);
	geo_db_free(db);
}

TEST(lookup_before_finalize_unknown_and_load_after_finalize_refused)
{
	struct geo_db *db = geo_db_new();
	struct vg_err err;
	const char *t = "x|BR|ipv4|10.0.0.0|256|1|allocated\n";
	CHECK_EQ_I(geo_db_load_buf(db, "t", t, strlen(t), &err), 0);
	CHECK_STREQ(cc4(db, "10.0.0.1"), "--");
	CHECK_EQ_I(geo_db_finalize(db, &err), 0);
	CHECK_STREQ(cc4(db, "10.0.0.1"), "BR");
	CHECK_EQ_I(geo_db_load_buf(db, "t", t, strlen(t), &err), -EINVAL);
	CHECK_EQ_I(geo_db_finalize(db, &err), -EINVAL);
	geo_db_free(db);
	geo_db_free(NULL);
}

/* ---- golden-ish: compare with a slow, independent reading --------- */

struct ref4 {
	uint32_t start;
	uint64_t count;
	unsigned long date; /* the file's version-line date */
	char cc[3];
};

static struct ref4 *refs;
static size_t nrefs, caprefs;

/* A deliberately naive reader: fgets, strsep, strtoull, inet_pton. */
static void ref_load(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	unsigned long date = 0;
	bool header = true;
	if (!f)
		abort();
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char *fld[8] = {0}, *s = line;
		int nf = 0;
		while (nf < 8 && (fld[nf] = strsep(&s, "|")) != NULL)
			nf++;
		if (header) {
			header = false;
			if (nf >= 6 && strlen(fld[5]) == 8)
				date = strtoul(fld[5], NULL, 10);
			continue;
		}
		if (nf < 7 || strcmp(fld[2], "ipv4") != 0)
			continue;
		if (strcmp(fld[6], "allocated") && strcmp(fld[6], "assigned"))
			continue;
		if (strlen(fld[1]) != 2 || !strcmp(fld[1], "ZZ"))
			continue;
		uint8_t a[4];
		if (inet_pton(AF_INET, fld[3], a) != 1)
			abort();
		if (nrefs == caprefs) {
			caprefs = caprefs ? caprefs * 2 : 1024;
			refs = realloc(refs, caprefs * sizeof *refs);
			if (!refs)
				abort();
		}
		struct ref4 *r = &refs[nrefs++];
		r->start = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
			   (uint32_t)a[2] << 8 | a[3];
		r->count = strtoull(fld[4], NULL, 10);
		r->date = date;
		r->cc[0] = fld[1][0];
		r->cc[1] = fld[1][1];
		r->cc[2] = '\0';
	}
	fclose(f);
}

/* Linear scan: smallest covering record; ties to the later-dated file,
 * then to the later record. */
static const char *ref_lookup(uint32_t a)
{
	const struct ref4 *best = NULL;
	for (size_t i = 0; i < nrefs; i++) {
		const struct ref4 *r = &refs[i];
		if (a < r->start || (uint64_t)(a - r->start) >= r->count)
			continue;
		if (!best || r->count < best->count ||
		    (r->count == best->count && r->date >= best->date))
			best = r;
	}
	return best ? best->cc : "--";
}

static uint64_t rs = 0x243f6a8885a308d3u;
static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

TEST(ten_thousand_random_ipv4_agree_with_linear_scan)
{
	for (size_t i = 0; i < NFILES; i++)
		ref_load(test_data(rir_files[i]));
	CHECK(nrefs > 60000);
	int mismatches = 0, known = 0;
	for (int i = 0; i < 10000; i++) {
		uint32_t a;
		const struct ref4 *r = &refs[rnd() % nrefs];
		switch (i % 4) {
		case 0: a = (uint32_t)rnd(); break;
		case 1: a = r->start + (uint32_t)(rnd() % r->count); break;
		case 2: a = r->start - (rnd() & 1); break;           /* first, or just before */
		default: a = (uint32_t)(r->start + r->count - 1 + (rnd() & 1)); break; /* last, or just past */
		}
		char buf[3];
		const char *want = ref_lookup(a);
		const char *got = geo_cc_str(geo_lookup4(real_db, a), buf);
		known += strcmp(want, "--") != 0;
		if (strcmp(want, got) != 0 && mismatches++ < 10)
			fprintf(stderr, "%u.%u.%u.%u: module %s, linear scan %s\n",
				a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, got, want);
	}
	CHECK_EQ_I(mismatches, 0);
	CHECK(known > 5000); /* the sample really exercises delegated space */
	free(refs);
	refs = NULL;
	nrefs = caprefs = 0;
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test-geo-rir.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	real_db = load_real(false);

	RUN(all_five_real_files_load);
	if (real_db) {
		RUN(lacnic_brazil_ipv4_range_first_last_and_neighbours);
		RUN(afrinic_ranges);
		RUN(apnic_ranges);
		RUN(ripe_768_address_range_is_not_a_power_of_two);
		RUN(arin_excerpt_ranges_and_unlisted_neighbour);
		RUN(real_transfer_overlap_arin_inside_apnic_more_specific_wins);
		RUN(stale_equal_size_record_loses_to_newer_file);
		RUN(file_order_does_not_change_answers);
		RUN(ipv6_lacnic_and_ripe);
		RUN(unknown_space_is_dashes);
		RUN(geo_lookup_dispatches_on_family);
		RUN(ten_thousand_random_ipv4_agree_with_linear_scan);
		RUN(lacnic_holder_asn_by_opaque_id);
	}
	RUN(holder_asn_is_the_lowest_whatever_the_line_and_file_order);
	RUN(adjacent_same_country_ranges_of_different_holders_stay_apart);
	RUN(failed_file_as_lines_are_dropped);
	RUN(header_summary_comment_asn_and_unknown_lines_skipped);
	RUN(malformed_lines_error_with_file_and_line);
	RUN(error_message_quotes_hostile_bytes_safely);
	RUN(failed_file_leaves_db_unchanged);
	RUN(last_line_without_newline_and_lone_cr_lines);
	RUN(adjacent_same_country_ranges_merge);
	RUN(smaller_range_inside_larger_splits_it);
	RUN(partial_overlap_of_odd_counts_smaller_wins);
	RUN(equal_size_overlap_later_loaded_wins);
	RUN(equal_size_newer_file_date_beats_load_order);
	RUN(whole_space_edges);
	RUN(crlf_file_loads);
	RUN(empty_file_gives_empty_db);
	RUN(missing_file_and_oversized_file_refused);
	RUN(lookup_before_finalize_unknown_and_load_after_finalize_refused);

	geo_db_free(real_db);
	char path[512];
	snprintf(path, sizeof path, "%s/crlf", tmpdir);
	unlink(path);
	snprintf(path, sizeof path, "%s/empty", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return check_summary();
}
