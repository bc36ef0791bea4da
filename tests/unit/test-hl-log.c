/* test-hl-log: Honeyd connection log lines, formatted and parsed back,
 * checked against real Honeyd log lines. */
#include "check.h"
#include "hl-log.h"
#include "vg-err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <time.h>

static struct vg_ip ip4(const char *s)
{
	struct vg_ip ip = { .v = 4 };
	inet_pton(AF_INET, s, ip.a);
	return ip;
}

static struct vg_ip ip6(const char *s)
{
	struct vg_ip ip = { .v = 6 };
	inet_pton(AF_INET6, s, ip.a);
	return ip;
}

/* Every real line of a file parses, and formatting the result gives the
 * line back byte for byte.  Returns the number of lines checked. */
static int roundtrip_file(const char *rel, int *kinds)
{
	FILE *f = fopen(test_data(rel), "r");
	CHECK(f != NULL);
	if (!f)
		return 0;
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		struct hl_event ev;
		char os[128];
		struct vg_err err = { 0 };
		int rc = hl_parse(line, &ev, os, sizeof os, &err);
		if (rc != 0)
			fprintf(stderr, "%s: '%s': %s\n", rel, line, err.msg);
		CHECK_EQ_I(rc, 0);
		if (rc)
			continue;
		char out[1024];
		int len = hl_format(&ev, out, sizeof out);
		CHECK(len > 0);
		CHECK_STREQ(out, line);
		CHECK_EQ_U((size_t)len, strlen(line));
		if (ev.kind == HL_START)
			kinds[0]++;
		else if (ev.kind == HL_END)
			kinds[1]++;
		else if (ev.kind == HL_PROBE)
			kinds[2]++;
		else
			kinds[3]++;
		n++;
	}
	fclose(f);
	return n;
}

TEST(every_real_honeyd_line_parses_and_formats_back_identically)
{
	int kinds[4] = { 0 };
	int a = roundtrip_file("honeyd/log-lines-reference-readme.txt", kinds);
	int b = roundtrip_file("honeyd/honeyd_log_lines_2008_from_haskell_parser.txt", kinds);
	CHECK_EQ_I(a, 11);
	CHECK_EQ_I(b, 31);
	CHECK(kinds[0] > 0 && kinds[1] > 0 && kinds[2] > 0 && kinds[3] > 0);
}

TEST(parsed_fields_of_real_lines_are_right)
{
	struct hl_event ev;
	char os[64];
	struct vg_err err;
	CHECK_EQ_I(hl_parse("2013-09-07-11:44:20.4997 tcp(6) S 192.168.56.101 2434 "
			    "192.168.56.99 80 [OpenBSD 3.0-3.7 ]", &ev, os, sizeof os, &err), 0);
	CHECK_EQ_I(ev.kind, HL_START);
	CHECK_EQ_U(ev.proto, 6);
	CHECK_EQ_U(ev.sport, 2434);
	CHECK_EQ_U(ev.dport, 80);
	CHECK_EQ_U(ev.src.a[3], 101);
	CHECK_EQ_U(ev.dst.a[3], 99);
	CHECK_STREQ(ev.os, "OpenBSD 3.0-3.7 ");
	/* 2013-09-07 11:44:20 UTC */
	CHECK_EQ_U(ev.ts_ns, 1378554260ull * 1000000000ull + 4997ull * 100000ull);

	CHECK_EQ_I(hl_parse("2013-09-07-11:45:21.2521 tcp(6) E 192.168.56.101 2434 "
			    "192.168.56.99 80: 2 1051", &ev, os, sizeof os, &err), 0);
	CHECK_EQ_I(ev.kind, HL_END);
	CHECK_EQ_U(ev.rx_bytes, 2);
	CHECK_EQ_U(ev.tx_bytes, 1051);
	CHECK(ev.os == NULL);

	CHECK_EQ_I(hl_parse("2026-11-28-06:39:37.0383 tcp(6) - 10.99.0.1 43895 10.99.1.10 1: 60 FPU",
			    &ev, os, sizeof os, &err), 0);
	CHECK_EQ_I(ev.kind, HL_PROBE);
	CHECK_EQ_U(ev.ip_len, 60);
	CHECK_EQ_U(ev.tcp_flags, VG_TH_FIN | VG_TH_PSH | VG_TH_URG);

	CHECK_EQ_I(hl_parse("2008-12-14-09:04:38.2678 icmp(1) - 80.236.5.27 192.168.1.50: 3(13): 56",
			    &ev, os, sizeof os, &err), 0);
	CHECK_EQ_U(ev.proto, 1);
	CHECK_EQ_U(ev.sport, 3);
	CHECK_EQ_U(ev.dport, 13);
	CHECK_EQ_U(ev.ip_len, 56);
	CHECK_EQ_U(ev.dst.a[3], 50);

	CHECK_EQ_I(hl_parse("2011-06-02-22:56:01.9319 honeyd log started ------", &ev, os,
			    sizeof os, &err), 0);
	CHECK_EQ_I(ev.kind, HL_LOG_STARTED);
}

TEST(format_writes_honeyd_columns)
{
	char out[256];
	struct hl_event ev = {
		.ts_ns = 1378554260ull * 1000000000ull + 123456789ull,
		.kind = HL_PROBE, .proto = 6, .src = ip4("198.51.100.7"), .dst = ip4("192.0.2.10"),
		.sport = 40000, .dport = 23, .ip_len = 60,
		.tcp_flags = VG_TH_SYN | VG_TH_ECE | VG_TH_CWR, .os = "Linux 2.6 ",
	};
	CHECK(hl_format(&ev, out, sizeof out) > 0);
	CHECK_STREQ(out, "2013-09-07-11:44:20.1234 tcp(6) - 198.51.100.7 40000 192.0.2.10 23: "
			 "60 SEC [Linux 2.6 ]");

	/* Honeyd writes a lone space for a TCP packet without flags */
	ev.tcp_flags = 0;
	ev.os = NULL;
	CHECK(hl_format(&ev, out, sizeof out) > 0);
	CHECK_STREQ(out, "2013-09-07-11:44:20.1234 tcp(6) - 198.51.100.7 40000 192.0.2.10 23: 60 ");

	ev.kind = HL_END;
	ev.proto = 17;
	ev.rx_bytes = 12;
	ev.tx_bytes = 0;
	CHECK(hl_format(&ev, out, sizeof out) > 0);
	CHECK_STREQ(out, "2013-09-07-11:44:20.1234 udp(17) E 198.51.100.7 40000 192.0.2.10 23: 12 0");

	ev.kind = HL_PROBE;
	ev.proto = 47;
	CHECK(hl_format(&ev, out, sizeof out) > 0);
	CHECK_STREQ(out, "2013-09-07-11:44:20.1234 unkn(47) - 198.51.100.7 192.0.2.10: 60");

	CHECK(hl_format_banner(ev.ts_ns, 0, out, sizeof out) > 0);
	CHECK_STREQ(out, "2013-09-07-11:44:20.1234 honeyd log stopped ------");
}

TEST(format_reports_a_buffer_too_small)
{
	char out[64];
	struct hl_event ev = { .ts_ns = 1, .kind = HL_START, .proto = 6, .src = ip4("10.0.0.1"),
			       .dst = ip4("10.0.0.2"), .sport = 1, .dport = 2 };
	/* "1970-01-01-00:00:00.0000 tcp(6) S 10.0.0.1 1 10.0.0.2 2" is 55 bytes */
	CHECK_EQ_I(hl_format(&ev, out, 55), -ENOSPC);
	CHECK_EQ_I(hl_format(&ev, out, 56), 55);
}

TEST(ipv6_and_other_protocols_round_trip)
{
	const struct hl_event evs[] = {
		{ .ts_ns = 1700000000ull * 1000000000ull, .kind = HL_PROBE, .proto = 58,
		  .src = ip6("2001:db8::1"), .dst = ip6("2001:db8::"), .ip_len = 80 },
		{ .ts_ns = 1700000000ull * 1000000000ull, .kind = HL_START, .proto = 47,
		  .src = ip6("2001:db8::1"), .dst = ip6("::"), .os = "x" },
		{ .ts_ns = 1700000000ull * 1000000000ull, .kind = HL_PROBE, .proto = 1,
		  .src = ip4("10.0.0.1"), .dst = ip4("10.0.0.2"), .sport = 8, .ip_len = 84 },
		{ .ts_ns = 1700000000ull * 1000000000ull, .kind = HL_START, .proto = 6,
		  .src = ip6("2001:db8::5"), .dst = ip6("2001:db8:1::"), .sport = 1, .dport = 80,
		  .os = "Windows [x] y" },
	};
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++) {
		char out[256], again[256], os[64];
		struct hl_event ev;
		struct vg_err err = { 0 };
		CHECK(hl_format(&evs[i], out, sizeof out) > 0);
		int rc = hl_parse(out, &ev, os, sizeof os, &err);
		if (rc)
			fprintf(stderr, "'%s': %s\n", out, err.msg);
		CHECK_EQ_I(rc, 0);
		CHECK(!memcmp(ev.src.a, evs[i].src.a, 16) && !memcmp(ev.dst.a, evs[i].dst.a, 16));
		CHECK_EQ_U(ev.proto, evs[i].proto);
		CHECK(hl_format(&ev, again, sizeof again) > 0);
		CHECK_STREQ(again, out);
	}
}

TEST(service_line_escapes_control_bytes)
{
	char out[256];
	struct hl_event ev = { .ts_ns = 1378554260ull * 1000000000ull, .proto = 6,
			       .src = ip4("198.51.100.7"), .dst = ip4("192.0.2.10"), .sport = 4000,
			       .dport = 23 };
	CHECK(hl_format_service(&ev, "user root\r\n\x01", 12, out, sizeof out) > 0);
	CHECK_STREQ(out, "2013-09-07-11:44:20.0000 tcp(6) 198.51.100.7 4000 192.0.2.10 23: "
			 "|user root\\x0d\\x0a\\x01|");
}

TEST(malformed_lines_are_refused_with_the_column)
{
	static const char *const bad[] = {
		"",
		"2008-12-17-01:11:47 tcp(6) - 1.2.3.4 1 5.6.7.8 2: 40 S",
		"2008-13-17-01:11:47.6209 tcp(6) - 1.2.3.4 1 5.6.7.8 2: 40 S",
		"2008-12-17-01:11:47.6209 tcp(17) - 1.2.3.4 1 5.6.7.8 2: 40 S",
		"2008-12-17-01:11:47.6209 tcp(6) X 1.2.3.4 1 5.6.7.8 2: 40 S",
		"2008-12-17-01:11:47.6209 tcp(6) - 1.2.3.999 1 5.6.7.8 2: 40 S",
		"2008-12-17-01:11:47.6209 tcp(6) - 1.2.3.4 70000 5.6.7.8 2: 40 S",
		"2008-12-17-01:11:47.6209 tcp(6) - 1.2.3.4 1 5.6.7.8 2: 40 SF",
		"2008-12-17-01:11:47.6209 tcp(6) - 1.2.3.4 1 5.6.7.8 2: 40 SS",
		"2008-12-17-01:11:47.6209 tcp(6) - 1.2.3.4 1 5.6.7.8 2: 40 S [open",
		"2008-12-17-01:11:47.6209 tcp(6) E 1.2.3.4 1 5.6.7.8 2: 40",
		"2008-12-17-01:11:47.6209 tcp(6) E 1.2.3.4 1 5.6.7.8 2: 1 2 3",
		"2008-12-17-01:11:47.6209 icmp(1) - 1.2.3.4 5.6.7.8 8(0): 84",
		"2008-12-17-01:11:47.6209 tcp(6) S 1.2.3.4 1 5.6.7.8 2 trailing",
		"2008-12-17-01:11:47.6209 honeyd log paused ------",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct hl_event ev;
		char os[64];
		struct vg_err err = { 0 };
		int rc = hl_parse(bad[i], &ev, os, sizeof os, &err);
		if (rc == 0)
			fprintf(stderr, "accepted: '%s'\n", bad[i]);
		CHECK(rc < 0);
		CHECK(strstr(err.msg, "column ") != NULL);
	}
	/* an OS name longer than the caller's buffer is an error, not a cut */
	struct hl_event ev;
	char os[4];
	struct vg_err err = { 0 };
	CHECK_EQ_I(hl_parse("2008-12-09-06:31:59.3902 tcp(6) S 88.44.123.210 3637 192.168.1.50 139 "
			    "[Windows XP SP1]", &ev, os, sizeof os, &err), -ENOSPC);
}

TEST(remark_after_os_is_accepted)
{
	struct hl_event ev;
	char os[64];
	struct vg_err err;
	CHECK_EQ_I(hl_parse("2008-12-07-15:34:49.0070 tcp(6) - 82.155.116.238 3578 192.168.1.50 23: "
			    "60 S [Linux 2.6 .1-7] {Honeyd Scanner?}", &ev, os, sizeof os, &err), 0);
	CHECK_STREQ(ev.os, "Linux 2.6 .1-7");
	CHECK_EQ_U(ev.tcp_flags, VG_TH_SYN);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	RUN(every_real_honeyd_line_parses_and_formats_back_identically);
	RUN(parsed_fields_of_real_lines_are_right);
	RUN(format_writes_honeyd_columns);
	RUN(format_reports_a_buffer_too_small);
	RUN(ipv6_and_other_protocols_round_trip);
	RUN(service_line_escapes_control_bytes);
	RUN(malformed_lines_are_refused_with_the_column);
	RUN(remark_after_os_is_accepted);
	return check_summary();
}
