/* test-db: the database interface on its SQLite backend: schema versions,
 * sensors, files, bins and the analyze-compatible top N, per-source day
 * merging, the stored set form, transactions. */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "db.h"

static char dir[] = "/tmp/test-db-XXXXXX";

static struct db *open_fresh(const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", dir, name);
	unlink(path);
	struct db *db = NULL;
	struct vg_err err = {0};
	if (db_open(&db, path, &err))
		fprintf(stderr, "db_open: %s\n", err.msg);
	return db;
}

static struct vg_ip ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct vg_ip ip = {.v = 4};
	ip.a[0] = a;
	ip.a[1] = b;
	ip.a[2] = c;
	ip.a[3] = d;
	return ip;
}

TEST(set_form_round_trips_and_rejects_damage)
{
	uint32_t v[] = {0, 1, 22, 23, 445, 65535, 65536 + 53, 131071};
	uint8_t *buf;
	size_t len;
	CHECK(db_set_encode(v, 8, &buf, &len) == 0);
	CHECK(len < 8 * 4);
	uint32_t *out;
	size_t n;
	CHECK(db_set_decode(buf, len, &out, &n) == 8);
	CHECK_EQ_U(n, 8);
	for (size_t i = 0; i < 8 && i < n; i++)
		CHECK_EQ_U(out[i], v[i]);
	free(out);
	/* a varint cut in the middle */
	buf[len - 1] |= 0x80;
	CHECK(db_set_decode(buf, len, &out, &n) == -EINVAL);
	free(buf);
	uint8_t dup[] = {5, 0};     /* 5 then a zero gap: not a set */
	CHECK(db_set_decode(dup, 2, &out, &n) == -EINVAL);
	uint32_t unsorted[] = {3, 2};
	CHECK(db_set_encode(unsorted, 2, &buf, &len) == -EINVAL);
	CHECK(db_set_decode(NULL, 0, &out, &n) == 0);
	CHECK_EQ_U(n, 0);
	free(out);
}

TEST(set_union_merges_sorted_sets)
{
	uint32_t a[] = {1, 5, 9}, b[] = {2, 5, 10, 11};
	uint32_t *u;
	size_t n;
	CHECK(db_set_union(a, 3, b, 4, &u, &n) == 0);
	uint32_t want[] = {1, 2, 5, 9, 10, 11};
	CHECK_EQ_U(n, 6);
	for (size_t i = 0; i < 6 && i < n; i++)
		CHECK_EQ_U(u[i], want[i]);
	free(u);
}

TEST(open_creates_the_latest_schema_and_refuses_a_newer_one)
{
	char path[256];
	struct db *db = open_fresh("schema.db", path, sizeof path);
	CHECK(db != NULL);
	if (!db)
		return;
	CHECK(db_schema_latest() >= 1);
	CHECK_EQ_U(db_schema_version(db), db_schema_latest());
	db_close(db);
	/* reopening runs no migration again */
	struct vg_err err = {0};
	CHECK(db_open(&db, path, &err) == 0);
	CHECK_EQ_U(db_schema_version(db), db_schema_latest());
	db_close(db);
	/* WAL mode is persistent in the file */
	sqlite3 *h;
	CHECK(sqlite3_open(path, &h) == SQLITE_OK);
	sqlite3_stmt *s;
	sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &s, NULL);
	CHECK(sqlite3_step(s) == SQLITE_ROW);
	CHECK_STREQ((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", db_schema_latest() + 1);
	CHECK(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(h);
	CHECK(db_open(&db, path, &err) == -EPROTO);
	CHECK(strstr(err.msg, "newer") != NULL);
	CHECK(strstr(err.msg, path) != NULL);
	CHECK(db_open(&db, "postgresql://localhost/vigia", &err) == -ENOTSUP);
}

TEST(sensor_ids_are_stable_and_conflicts_refused)
{
	char path[256];
	struct db *db = open_fresh("sensors.db", path, sizeof path);
	if (!db)
		return;
	struct vg_err err = {0};
	uint32_t id = 0;
	CHECK(db_sensor_ensure(db, "unb-1", 7, &id, &err) == 0);
	CHECK_EQ_U(id, 7);
	CHECK(db_sensor_ensure(db, "auto", 0, &id, &err) == 0);
	CHECK_EQ_U(id, 8);
	CHECK(db_sensor_ensure(db, "auto", 0, &id, &err) == 0);
	CHECK_EQ_U(id, 8);
	CHECK(db_sensor_ensure(db, "unb-1", 3, &id, &err) == -EEXIST);
	CHECK(strstr(err.msg, "unb-1") != NULL);
	CHECK(db_sensor_ensure(db, "other", 7, &id, &err) == -EEXIST);
	CHECK(strstr(err.msg, "belongs to unb-1") != NULL);
	db_close(db);
}

TEST(files_are_new_same_or_changed)
{
	char path[256];
	struct db *db = open_fresh("files.db", path, sizeof path);
	if (!db)
		return;
	struct vg_err err = {0};
	uint32_t sid;
	const char *h1 = "aa00000000000000000000000000000000000000000000000000000000000001";
	const char *h2 = "aa00000000000000000000000000000000000000000000000000000000000002";
	CHECK(db_sensor_ensure(db, "s", 1, &sid, &err) == 0);
	CHECK(db_file_state(db, "s/2026/11/01/a.pcap.zst", h1, &err) == DB_FILE_NEW);
	struct db_file f = {.sensor_id = sid, .path = "s/2026/11/01/a.pcap.zst", .sha256 = h1,
			    .size = 10, .kind = "pcap", .ingested_at = 1, .frames = 3,
			    .packets = 2, .bytes = 80, .first_ns = 5, .last_ns = 9};
	CHECK(db_file_add(db, &f, &err) == 0);
	CHECK(db_file_state(db, f.path, h1, &err) == DB_FILE_SAME);
	CHECK(db_file_state(db, f.path, h2, &err) == DB_FILE_CHANGED);
	/* the path is unique */
	CHECK(db_file_add(db, &f, &err) == -EEXIST);
	f.kind = "word";
	f.path = "s/x";
	CHECK(db_file_add(db, &f, &err) < 0);
	db_close(db);
}

static void add(struct db *db, enum db_category c, int64_t start, uint32_t sid, const char *key,
		uint64_t p, uint64_t b)
{
	struct vg_err err = {0};
	struct db_bin bin = {start, sid, c, key, p, b};
	if (db_bin_add(db, &bin, &err))
		fprintf(stderr, "db_bin_add: %s\n", err.msg);
}

TEST(top_ranks_and_breaks_ties_as_analyze)
{
	char path[256];
	struct db *db = open_fresh("top.db", path, sizeof path);
	if (!db)
		return;
	struct vg_err err = {0};
	uint32_t s1, s2;
	db_sensor_ensure(db, "a", 1, &s1, &err);
	db_sensor_ensure(db, "b", 2, &s2, &err);
	/* 443 and 80 tie on packets: analyze puts the smaller port first,
	 * which is not the text order. */
	add(db, DB_TCP_PORT, 0, s1, "443", 5, 500);
	add(db, DB_TCP_PORT, 300, s2, "80", 5, 100);
	add(db, DB_TCP_PORT, 300, s1, "445", 3, 900);
	add(db, DB_TCP_PORT, 300, s1, "445", 3, 900);    /* adds to the row */
	add(db, DB_TCP_PORT, 600, s1, "22", 1, 40);
	add(db, DB_TCP_PORT, 86400, s1, "23", 100, 4000); /* outside the range below */
	struct db_range r = {0, 86400, 0};
	struct db_top t;
	CHECK(db_top(db, &r, DB_TCP_PORT, 0, STATS_PACKETS, 3, &t, &err) == 0);
	CHECK_EQ_U(t.n, 3);
	CHECK_STREQ(t.e[0].key, "445");
	CHECK_EQ_U(t.e[0].packets, 6);
	CHECK_EQ_U(t.e[0].bytes, 1800);
	CHECK_STREQ(t.e[1].key, "80");
	CHECK_STREQ(t.e[2].key, "443");
	CHECK_STREQ(t.others.key, "Others");
	CHECK_EQ_U(t.others.packets, 1);
	CHECK_EQ_U(t.total.packets, 17);
	CHECK_EQ_U(t.total.bytes, 2440);
	CHECK(db_top(db, &r, DB_TCP_PORT, 0, STATS_BYTES, 1, &t, &err) == 0);
	CHECK_STREQ(t.e[0].key, "445");
	CHECK_EQ_U(t.others.bytes, 640);
	/* one sensor */
	struct db_range r2 = {0, 86400, s2};
	CHECK(db_top(db, &r2, DB_TCP_PORT, 0, STATS_PACKETS, 10, &t, &err) == 0);
	CHECK_EQ_U(t.n, 1);
	CHECK_STREQ(t.e[0].key, "80");
	/* OS: ties by label id, Windows split */
	db_os_label(db, "Linux 3.x", 20, false, &err);
	db_os_label(db, "Windows XP", 3, true, &err);
	db_os_label(db, "unknown", DB_OS_UNKNOWN_ORD, false, &err);
	add(db, DB_OS, 0, s1, "Linux 3.x", 4, 10);
	add(db, DB_OS, 0, s1, "Windows XP", 4, 10);
	add(db, DB_OS, 0, s1, "unknown", 4, 10);
	CHECK(db_top(db, &r, DB_OS, 0, STATS_PACKETS, 10, &t, &err) == 0);
	CHECK_EQ_U(t.n, 3);
	CHECK_STREQ(t.e[0].key, "Windows XP");
	CHECK_STREQ(t.e[1].key, "Linux 3.x");
	CHECK_STREQ(t.e[2].key, "unknown");
	CHECK(db_top(db, &r, DB_OS, 1, STATS_PACKETS, 10, &t, &err) == 0);
	CHECK_EQ_U(t.n, 1);
	CHECK_EQ_U(t.total.packets, 4);
	CHECK(db_top(db, &r, DB_OS, 2, STATS_PACKETS, 10, &t, &err) == 0);
	CHECK_EQ_U(t.n, 2);
	CHECK_STREQ(t.e[0].key, "Linux 3.x");
	db_close(db);
}

struct seen {
	int n;
	int64_t start[8];
	uint64_t packets[8];
};

static int collect(int64_t start, const char *key, uint64_t p, uint64_t b, void *ctx)
{
	struct seen *s = ctx;
	(void)key;
	(void)b;
	if (s->n < 8) {
		s->start[s->n] = start;
		s->packets[s->n] = p;
	}
	s->n++;
	return 0;
}

TEST(bins_are_listed_in_time_order_summed_over_sensors)
{
	char path[256];
	struct db *db = open_fresh("bins.db", path, sizeof path);
	if (!db)
		return;
	struct vg_err err = {0};
	uint32_t s1, s2;
	db_sensor_ensure(db, "a", 0, &s1, &err);
	db_sensor_ensure(db, "b", 0, &s2, &err);
	add(db, DB_COUNTRY, 600, s1, "BR", 1, 1);
	add(db, DB_COUNTRY, 300, s2, "BR", 2, 2);
	add(db, DB_COUNTRY, 300, s1, "BR", 3, 3);
	struct db_range r = {0, 1000, 0};
	struct seen s = {0};
	CHECK(db_bins_foreach(db, &r, DB_COUNTRY, collect, &s, &err) == 0);
	CHECK_EQ_U(s.n, 2);
	CHECK_EQ_U(s.start[0], 300);
	CHECK_EQ_U(s.packets[0], 5);
	CHECK_EQ_U(s.start[1], 600);
	db_close(db);
}

TEST(source_days_merge_sums_unions_and_latest_labels)
{
	char path[256];
	struct db *db = open_fresh("src.db", path, sizeof path);
	if (!db)
		return;
	struct vg_err err = {0};
	uint32_t p1[] = {22, 445}, p2[] = {23, 445, 65536 + 53};
	uint32_t s1 = 1, s2 = 4;
	struct db_source_day a = {.day = 86400, .ip = ip4(198, 51, 100, 7), .packets = 3,
				  .bytes = 120, .first_s = 86500, .last_s = 86600,
				  .ports = p1, .nports = 2, .sensors = &s2, .nsensors = 1};
	strcpy(a.os, "Windows XP");
	strcpy(a.country, "BR");
	CHECK(db_source_day_merge(db, &a, &err) == 0);
	struct db_source_day b = a;
	b.packets = 2;
	b.bytes = 80;
	b.first_s = 86450;
	b.last_s = 86700;
	b.ports = p2;
	b.nports = 3;
	b.sensors = &s1;
	strcpy(b.os, "Linux 3.x");
	CHECK(db_source_day_merge(db, &b, &err) == 0);
	struct db_source_day got;
	CHECK(db_source_day_get(db, 86400, &a.ip, &got, &err) == 1);
	CHECK_EQ_U(got.packets, 5);
	CHECK_EQ_U(got.bytes, 200);
	CHECK_EQ_U(got.first_s, 86450);
	CHECK_EQ_U(got.last_s, 86700);
	CHECK_STREQ(got.os, "Linux 3.x");
	CHECK_STREQ(got.country, "BR");
	CHECK_EQ_U(got.nports, 4);
	CHECK_EQ_U(got.nsensors, 2);
	if (got.nsensors == 2) {
		CHECK_EQ_U(got.sensors[0], 1);
		CHECK_EQ_U(got.sensors[1], 4);
	}
	if (got.nports == 4)
		CHECK_EQ_U(got.ports[3], 65536 + 53);
	db_source_day_clear(&got);
	/* an earlier pass does not overwrite the label */
	struct db_source_day c = a;
	c.last_s = 86400;
	c.first_s = 86400;
	strcpy(c.os, "FreeBSD");
	CHECK(db_source_day_merge(db, &c, &err) == 0);
	CHECK(db_source_day_get(db, 86400, &a.ip, &got, &err) == 1);
	CHECK_STREQ(got.os, "Linux 3.x");
	CHECK_EQ_U(got.first_s, 86400);
	db_source_day_clear(&got);
	struct vg_ip other = ip4(10, 0, 0, 1);
	CHECK(db_source_day_get(db, 86400, &other, &got, &err) == 0);
	db_close(db);
}

TEST(rollback_leaves_nothing_and_host_labels_persist)
{
	char path[256];
	struct db *db = open_fresh("tx.db", path, sizeof path);
	if (!db)
		return;
	struct vg_err err = {0};
	struct vg_ip ip = ip4(203, 0, 113, 9);
	char buf[64];
	CHECK(db_begin(db, &err) == 0);
	CHECK(db_host_os_set(db, &ip, "Windows XP", &err) == 0);
	uint32_t sid;
	CHECK(db_sensor_ensure(db, "s", 0, &sid, &err) == 0);
	add(db, DB_UDP_PORT, 0, sid, "53", 1, 60);
	db_rollback(db);
	CHECK(db_host_os_get(db, &ip, buf, sizeof buf, &err) == 0);
	struct db_range r = {INT64_MIN, INT64_MAX, 0};
	struct db_top t;
	CHECK(db_top(db, &r, DB_UDP_PORT, 0, STATS_PACKETS, 10, &t, &err) == 0);
	CHECK_EQ_U(t.total.packets, 0);
	CHECK(db_begin(db, &err) == 0);
	CHECK(db_host_os_set(db, &ip, "Windows XP", &err) == 0);
	CHECK(db_host_os_set(db, &ip, "Linux 3.x", &err) == 0);
	CHECK(db_meta_set(db, "bin_seconds", "300", &err) == 0);
	CHECK(db_commit(db, &err) == 0);
	db_close(db);
	CHECK(db_open(&db, path, &err) == 0);
	CHECK(db_host_os_get(db, &ip, buf, sizeof buf, &err) == 1);
	CHECK_STREQ(buf, "Linux 3.x");
	CHECK(db_meta_get(db, "bin_seconds", buf, sizeof buf, &err) == 1);
	CHECK_STREQ(buf, "300");
	CHECK(db_meta_get(db, "nothing", buf, sizeof buf, &err) == 0);
	db_close(db);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(set_form_round_trips_and_rejects_damage);
	RUN(set_union_merges_sorted_sets);
	RUN(open_creates_the_latest_schema_and_refuses_a_newer_one);
	RUN(sensor_ids_are_stable_and_conflicts_refused);
	RUN(files_are_new_same_or_changed);
	RUN(top_ranks_and_breaks_ties_as_analyze);
	RUN(bins_are_listed_in_time_order_summed_over_sensors);
	RUN(source_days_merge_sums_unions_and_latest_labels);
	RUN(rollback_leaves_nothing_and_host_labels_persist);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd)) {
		/* leftovers in /tmp are harmless */
	}
	return check_summary();
}
