/* Unit tests of the public site's pieces (issue 6): periods in a time
 * zone (DST days, ISO weeks), SI labels, key labels, stable colours, and
 * a small database drawn into a site whose CSV sums to what was stored. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "db.h"
#include "site-data.h"
#include "site-graph.h"
#include "site-html.h"
#include "site-label.h"

TEST(dates_are_validated)
{
	int y, m, d;
	CHECK(site_parse_date("2026-11-01", &y, &m, &d) == 0);
	CHECK(y == 2026 && m == 11 && d == 1);
	CHECK(site_parse_date("2024-02-29", &y, &m, &d) == 0);
	CHECK(site_parse_date("2026-02-29", &y, &m, &d) == -EINVAL);
	CHECK(site_parse_date("2026-13-01", &y, &m, &d) == -EINVAL);
	CHECK(site_parse_date("2026-1-01", &y, &m, &d) == -EINVAL);
	CHECK(site_parse_date("2026-11-01x", &y, &m, &d) == -EINVAL);
	CHECK(site_parse_date("", &y, &m, &d) == -EINVAL);
}

TEST(utc_periods_day_week_month)
{
	struct vg_err err = {0};
	struct site_period p;
	CHECK(site_tz_use("UTC", &err) == 0);
	CHECK(site_period_of(SITE_DAY, 2026, 11, 1, 300, &p, &err) == 0);
	CHECK_STREQ(p.name, "2026-11-01");
	CHECK(p.start == 1793491200 && p.end - p.start == 86400 && p.nbins == 288);
	/* 2026-11-01 is a Sunday: its ISO week began on Monday 26 October. */
	CHECK(site_period_of(SITE_WEEK, 2026, 11, 1, 300, &p, &err) == 0);
	CHECK_STREQ(p.name, "2026-W44");
	CHECK(p.start == 1793491200 - 6 * 86400 && p.bin == 3600 && p.nbins == 168);
	CHECK(site_period_of(SITE_MONTH, 2026, 11, 17, 300, &p, &err) == 0);
	CHECK_STREQ(p.name, "2026-11");
	CHECK(p.end - p.start == 30 * 86400 && p.bin == 21600 && p.nbins == 120);
	/* ISO week-year differs from the calendar year at the edges. */
	CHECK(site_period_of(SITE_WEEK, 2027, 1, 1, 300, &p, &err) == 0);
	CHECK_STREQ(p.name, "2026-W53");
	/* A bin width that does not divide an hour: the week's bin is its
	 * smallest multiple above an hour. */
	CHECK(site_period_of(SITE_WEEK, 2026, 11, 1, 420, &p, &err) == 0);
	CHECK(p.bin == 3780);
}

TEST(zones_shift_days_and_dst_days_have_23_or_25_hours)
{
	struct vg_err err = {0};
	struct site_period p;
	CHECK(site_tz_use("America/Sao_Paulo", &err) == 0);
	CHECK(site_period_of(SITE_DAY, 2026, 11, 1, 300, &p, &err) == 0);
	CHECK(p.start == 1793491200 + 3 * 3600);
	CHECK(site_tz_use("Europe/Berlin", &err) == 0);
	CHECK(site_period_of(SITE_DAY, 2026, 3, 29, 300, &p, &err) == 0);
	CHECK(p.end - p.start == 23 * 3600 && p.nbins == 276);
	CHECK(site_period_of(SITE_DAY, 2026, 10, 25, 300, &p, &err) == 0);
	CHECK(p.end - p.start == 25 * 3600 && p.nbins == 300);
	int y, m, d;
	site_local_date(p.start, &y, &m, &d);
	CHECK(y == 2026 && m == 10 && d == 25);
	CHECK(site_tz_use("Nowhere/Atlantis", &err) == -ENOENT);
	CHECK(strstr(err.msg, "Nowhere/Atlantis") != NULL);
	CHECK(site_tz_use("../../etc/passwd", &err) == -EINVAL);
	CHECK(site_tz_use("UTC", &err) == 0);
}

TEST(si_prefixes)
{
	char b[32];
	CHECK_STREQ(site_si(0, b, sizeof b), "0");
	CHECK_STREQ(site_si(500, b, sizeof b), "500");
	CHECK_STREQ(site_si(1500, b, sizeof b), "1.5 k");
	CHECK_STREQ(site_si(2.5e6, b, sizeof b), "2.5 M");
	CHECK_STREQ(site_si(20e9, b, sizeof b), "20 G");
	CHECK_STREQ(site_si(999.9, b, sizeof b), "1 k");
	CHECK_STREQ(site_si(0.25, b, sizeof b), "0.25");
}

TEST(labels_read_well)
{
	struct site_labels *l = site_labels_new(NULL, NULL);
	char b[160];
	CHECK(l != NULL);
	CHECK_STREQ(site_label(l, DB_TCP_PORT, "445", b, sizeof b), "445/tcp (microsoft-ds)");
	CHECK_STREQ(site_label(l, DB_UDP_PORT, "53", b, sizeof b), "53/udp (domain)");
	CHECK_STREQ(site_label(l, DB_TCP_PORT, "Others", b, sizeof b), "Others");
	CHECK_STREQ(site_label(l, DB_COUNTRY, "BR", b, sizeof b), "BR Brazil");
	/* iso-codes' common name, not "Bolivia, Plurinational State of" */
	CHECK_STREQ(site_label(l, DB_COUNTRY, "BO", b, sizeof b), "BO Bolivia");
	CHECK_STREQ(site_label(l, DB_COUNTRY, "--", b, sizeof b), "-- unknown");
	CHECK_STREQ(site_label(l, DB_COUNTRY, "ZZ", b, sizeof b), "ZZ");
	CHECK_STREQ(site_label(l, DB_OS, "Windows XP", b, sizeof b), "Windows XP");
	/* No services name: the bare port and protocol. */
	CHECK_STREQ(site_label(l, DB_TCP_PORT, "not-a-port", b, sizeof b), "not-a-port/tcp");
	site_labels_free(l);
	/* Without the data files, labels fall back to the key. */
	l = site_labels_new("/nonexistent/iso.json", "/nonexistent/nmap-services");
	CHECK_STREQ(site_label(l, DB_COUNTRY, "BR", b, sizeof b), "BR");
	site_labels_free(l);
}

TEST(colours_are_distinct_and_stable_across_days)
{
	const char *day1[] = {"445", "80", "6000", "31337", "4444", "12345", "2323", "5555", "7547", "9999"};
	const char *day2[] = {"31337", "7547", "445", "2323", "9999", "12345", "80", "6000", "5555", "4444"};
	int s1[10], s2[10];
	site_colour_assign(DB_TCP_PORT, day1, 10, s1);
	site_colour_assign(DB_TCP_PORT, day2, 10, s2);
	for (int i = 0; i < 10; i++)
		for (int j = i + 1; j < 10; j++) {
			CHECK(s1[i] != s1[j]);
			CHECK(s2[i] != s2[j]);
		}
	/* Pinned keys never move. */
	CHECK(s1[0] == 0 && s2[2] == 0);
	/* Same key set in another rank order: a key that won its home slot
	 * on both days keeps its colour. */
	int kept = 0;
	for (int i = 0; i < 10; i++)
		for (int j = 0; j < 10; j++)
			if (!strcmp(day1[i], day2[j])) {
				int home = site_colour_home(DB_TCP_PORT, day1[i], NULL);
				if (s1[i] == home && s2[j] == home)
					kept++;
				if (s1[i] == home && s2[j] == home)
					CHECK(s1[i] == s2[j]);
			}
	CHECK(kept >= 5);
	/* A key's colour does not depend on keys in other categories. */
	int a, b;
	const char *one[] = {"US"};
	site_colour_assign(DB_COUNTRY, one, 1, &a);
	site_colour_assign(DB_COUNTRY, one, 1, &b);
	CHECK(a == b && a == 0);
}

/* ---- a small database drawn into a site -------------------------------- */

static uint64_t csv_sum(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return UINT64_MAX;
	char line[4096];
	uint64_t s = 0;
	if (!fgets(line, sizeof line, f)) {
		fclose(f);
		return UINT64_MAX;
	}
	while (fgets(line, sizeof line, f)) {
		char *p = strchr(line, ',');
		while (p) {
			s += strtoull(p + 1, NULL, 10);
			p = strchr(p + 1, ',');
		}
	}
	fclose(f);
	return s;
}

static int rm_tree(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

TEST(site_sums_to_what_was_stored_and_swaps_days)
{
	char tmpl[] = "/tmp/test-site-XXXXXX";
	CHECK(mkdtemp(tmpl) != NULL);
	char dbp[256], out[256], path[512];
	snprintf(dbp, sizeof dbp, "%s/t.db", tmpl);
	snprintf(out, sizeof out, "%s/site", tmpl);
	struct vg_err err = {0};
	struct db *db;
	CHECK(site_tz_use("UTC", &err) == 0);
	CHECK(db_open(&db, dbp, &err) == 0);
	if (!db)
		return;
	uint32_t sid;
	CHECK(db_begin(db, &err) == 0);
	CHECK(db_sensor_ensure(db, "s1", 1, &sid, &err) == 0);
	CHECK(db_os_label(db, "Windows XP", 3, true, &err) == 0);
	CHECK(db_os_label(db, "Linux 2.6.x", 7, false, &err) == 0);
	const int64_t day = 1793491200;
	uint64_t tcp_bytes = 0, win_packets = 0, other_packets = 0;
	/* 14 ports: 10 in the top, 4 in Others. */
	for (int k = 0; k < 14; k++)
		for (int b = 0; b < 288; b += 7) {
			char key[8];
			snprintf(key, sizeof key, "%d", 1000 + k);
			struct db_bin bin = {day + b * 300, sid, DB_TCP_PORT, key,
					     (uint64_t)(k + 1), (uint64_t)(k + 1) * 60};
			CHECK(db_bin_add(db, &bin, &err) == 0);
			tcp_bytes += bin.bytes;
		}
	/* A tie between "9" and "10": numeric order puts 9 first, text
	 * order would not. */
	for (int k = 0; k < 2; k++) {
		struct db_bin bin = {day + 600, sid, DB_TCP_PORT, k ? "10" : "9", 5000, 300000};
		CHECK(db_bin_add(db, &bin, &err) == 0);
		tcp_bytes += bin.bytes;
	}
	const char *os[] = {"Windows XP", "Linux 2.6.x", "unknown"};
	for (int k = 0; k < 3; k++)
		for (int b = 0; b < 288; b += 5) {
			struct db_bin bin = {day + b * 300, sid, DB_OS, os[k], 10, 600};
			CHECK(db_bin_add(db, &bin, &err) == 0);
			if (k == 0)
				win_packets += 10;
			else
				other_packets += 10;
		}
	/* Outside the day: must not be counted in it. */
	struct db_bin late = {day + 86400, sid, DB_TCP_PORT, "1000", 99, 9999};
	CHECK(db_bin_add(db, &late, &err) == 0);
	CHECK(db_commit(db, &err) == 0);

	int64_t first, last;
	CHECK(db_bin_span(db, &first, &last, &err) == 1);
	CHECK(first == day && last == day + 86400);

	struct site_period p[2];
	CHECK(site_period_of(SITE_DAY, 2026, 11, 1, 300, &p[0], &err) == 0);
	CHECK(site_period_of(SITE_DAY, 2026, 11, 2, 300, &p[1], &err) == 0);
	struct site_opts o = {.out = out, .zone = "UTC"};
	struct site_result res;
	int rc = site_build(db, &o, p, 2, &res, &err);
	CHECK(rc == 0);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	CHECK(res.periods[0] == 2 && res.graph_sets == 24);
	snprintf(path, sizeof path, "%s/day/2026-11-01/tcp_port_bytes.csv", out);
	CHECK_EQ_U(csv_sum(path), tcp_bytes);
	snprintf(path, sizeof path, "%s/day/2026-11-01/windows_os_packets.csv", out);
	CHECK_EQ_U(csv_sum(path), win_packets);
	snprintf(path, sizeof path, "%s/day/2026-11-01/other_os_packets.csv", out);
	CHECK_EQ_U(csv_sum(path), other_packets);
	snprintf(path, sizeof path, "%s/day/2026-11-02/tcp_port_bytes.csv", out);
	CHECK_EQ_U(csv_sum(path), 9999);

	/* The data of a view: top 10 plus Others, ranked by bytes. */
	struct site_data d;
	CHECK(site_data_load(db, &p[0], &d, &err) == 0);
	const struct site_view *v = &d.views[0];
	CHECK_STREQ(v->view->name, "tcp_port_bytes");
	CHECK(v->top.n == 10);
	CHECK_STREQ(v->top.e[0].key, "9");
	CHECK_STREQ(v->top.e[1].key, "10");
	CHECK_STREQ(v->top.e[2].key, "1013");
	/* Every view's top 10 equals db_top's (analyze's ranking). */
	struct db_range rg = {p[0].start, p[0].end, 0};
	for (size_t vi = 0; vi < d.nviews; vi++) {
		const struct site_view *w = &d.views[vi];
		struct db_top t;
		CHECK(db_top(db, &rg, (enum db_category)w->view->cat, w->view->os_filter,
			     w->view->measure, 10, &t, &err) == 0);
		CHECK(t.n == w->top.n);
		for (size_t i = 0; i < t.n && i < w->top.n; i++) {
			CHECK_STREQ(t.e[i].key, w->top.e[i].key);
			CHECK_EQ_U(t.e[i].packets, w->top.e[i].packets);
			CHECK_EQ_U(t.e[i].bytes, w->top.e[i].bytes);
		}
		CHECK_EQ_U(t.others.bytes, w->top.others.bytes);
		CHECK_EQ_U(t.total.packets, w->top.total.packets);
	}
	CHECK(v->top.others.bytes > 0);
	uint64_t s = 0;
	for (size_t r = 0; r <= v->top.n; r++)
		for (size_t b = 0; b < v->nbins; b++)
			s += site_view_at(v, r, b);
	CHECK_EQ_U(s, tcp_bytes);
	site_data_free(&d);

	/* Rebuilding one day replaces that day only. */
	struct stat st1, st2, st3;
	snprintf(path, sizeof path, "%s/day/2026-11-02/index.html", out);
	CHECK(stat(path, &st1) == 0);
	snprintf(path, sizeof path, "%s/day/2026-11-01", out);
	CHECK(stat(path, &st2) == 0);
	CHECK(site_build(db, &o, p, 1, &res, &err) == 0);
	CHECK(stat(path, &st3) == 0);
	CHECK(st3.st_ino != st2.st_ino);     /* a new directory, swapped in */
	snprintf(path, sizeof path, "%s/day/2026-11-02/index.html", out);
	CHECK(stat(path, &st2) == 0);
	CHECK(st1.st_ino == st2.st_ino);

	/* An error names the file: the output is a file, not a directory. */
	snprintf(path, sizeof path, "%s/blocked", tmpl);
	FILE *f = fopen(path, "w");
	if (f)
		fclose(f);
	struct site_opts bad = {.out = path, .zone = "UTC"};
	CHECK(site_build(db, &bad, p, 1, &res, &err) < 0);
	CHECK(strstr(err.msg, "blocked") != NULL);
	db_close(db);
	CHECK(rm_tree(tmpl) == 0);
}

int main(void)
{
	RUN(dates_are_validated);
	RUN(utc_periods_day_week_month);
	RUN(zones_shift_days_and_dst_days_have_23_or_25_hours);
	RUN(si_prefixes);
	RUN(labels_read_well);
	RUN(colours_are_distinct_and_stable_across_days);
	RUN(site_sums_to_what_was_stored_and_swaps_days);
	site_graph_release();
	return check_summary();
}
