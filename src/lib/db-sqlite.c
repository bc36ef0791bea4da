/* db-sqlite.c: the SQLite backend of db.h.
 *
 * WAL, so that `vigia stats` and friends read while ingest writes; a busy
 * timeout, so that two writers queue instead of failing; synchronous=NORMAL,
 * which in WAL mode keeps every committed transaction across a crash of
 * the process (kill -9) and at worst loses the last ones, never
 * consistency, across a power loss.  The schema is versioned with
 * PRAGMA user_version and grown only by appending to migrations[].
 * Statements are prepared once per connection. */
#include "db.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-backend.h"

#define BUSY_TIMEOUT_MS 60000

/* Each entry moves the schema from version i to i + 1, in one
 * transaction.  Never edit an entry once released: append a new one. */
static const char *const migrations[] = {
	/* 1: ingest (issue 5). */
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE sensor ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE"
	");"
	"CREATE TABLE file ("
	"  id INTEGER PRIMARY KEY,"
	"  sensor_id INTEGER NOT NULL REFERENCES sensor(id),"
	"  path TEXT NOT NULL UNIQUE,"
	"  sha256 TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  kind TEXT NOT NULL CHECK (kind IN ('pcap', 'pflog', 'honeyd')),"
	"  ingested_at INTEGER NOT NULL,"
	"  status TEXT NOT NULL CHECK (status IN ('ok', 'damaged')),"
	"  message TEXT,"
	"  frames INTEGER NOT NULL,"
	"  packets INTEGER NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  first_ns INTEGER,"
	"  last_ns INTEGER"
	");"
	"CREATE INDEX file_sensor ON file(sensor_id, first_ns);"
	"CREATE TABLE bin ("
	"  category TEXT NOT NULL CHECK (category IN ('tcp_port', 'udp_port', 'country', 'os')),"
	"  start INTEGER NOT NULL,"
	"  sensor_id INTEGER NOT NULL REFERENCES sensor(id),"
	"  key TEXT NOT NULL,"
	"  packets INTEGER NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  PRIMARY KEY (category, start, sensor_id, key)"
	") WITHOUT ROWID;"
	"CREATE TABLE os_label ("
	"  label TEXT PRIMARY KEY,"
	"  ord INTEGER NOT NULL,"
	"  windows INTEGER NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE source_day ("
	"  day INTEGER NOT NULL,"
	"  ip TEXT NOT NULL,"
	"  packets INTEGER NOT NULL,"
	"  bytes INTEGER NOT NULL,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  os TEXT NOT NULL,"
	"  country TEXT NOT NULL,"
	"  nports INTEGER NOT NULL,"
	"  ports BLOB NOT NULL,"
	"  nsensors INTEGER NOT NULL,"
	"  sensors TEXT NOT NULL,"
	"  PRIMARY KEY (day, ip)"
	") WITHOUT ROWID;"
	"CREATE TABLE host_os ("
	"  ip TEXT PRIMARY KEY,"
	"  os TEXT NOT NULL"
	") WITHOUT ROWID;",
	/* issue 7: the summary's sent-log, one row per day and member. */
	"CREATE TABLE mail_sent ("
	"  day INTEGER NOT NULL,"
	"  member TEXT NOT NULL,"
	"  message_id TEXT NOT NULL,"
	"  sent_at INTEGER NOT NULL,"
	"  PRIMARY KEY (day, member)"
	") WITHOUT ROWID;",
	/* issue 8: incidents and their sanitized evidence. */
	"CREATE TABLE incident ("
	"  id INTEGER PRIMARY KEY,"
	"  day INTEGER NOT NULL,"
	"  ip TEXT NOT NULL,"
	"  category TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  taxonomy TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  sid INTEGER NOT NULL,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  count INTEGER NOT NULL,"
	"  nports INTEGER NOT NULL,"
	"  ports BLOB NOT NULL,"
	"  sensors TEXT NOT NULL,"
	"  UNIQUE (day, ip, category, name)"
	");"
	"CREATE INDEX incident_day ON incident(day, category);"
	"CREATE TABLE evidence ("
	"  incident_id INTEGER NOT NULL REFERENCES incident(id),"
	"  time_ns INTEGER NOT NULL,"
	"  sensor_id INTEGER NOT NULL,"
	"  line TEXT NOT NULL,"
	"  excerpt TEXT NOT NULL"
	");"
	"CREATE INDEX evidence_incident ON evidence(incident_id);",
	/* issue 8: the abuse-contact cache and the notification history.
	 * lo/hi: the family byte (4 or 6) and the 16 address bytes, so that
	 * BLOB order is address order within a family. */
	"CREATE TABLE contact_cache ("
	"  lo BLOB NOT NULL,"
	"  hi BLOB NOT NULL,"
	"  email TEXT NOT NULL,"
	"  via TEXT NOT NULL,"
	"  server TEXT NOT NULL,"
	"  fetched INTEGER NOT NULL,"
	"  expires INTEGER NOT NULL,"
	"  PRIMARY KEY (lo, hi)"
	") WITHOUT ROWID;"
	"CREATE TABLE notification ("
	"  id INTEGER PRIMARY KEY,"
	"  day INTEGER NOT NULL,"
	"  ip TEXT NOT NULL,"
	"  category TEXT NOT NULL,"
	"  count INTEGER NOT NULL,"
	"  contact TEXT NOT NULL,"
	"  via TEXT NOT NULL,"
	"  message_id TEXT NOT NULL,"
	"  sent_at INTEGER NOT NULL,"
	"  delivery TEXT NOT NULL"
	");"
	"CREATE INDEX notification_source ON notification(ip, category, day);",
	/* issue 9: early warning.  ew_bin: per (kind, key, bin) distinct
	 * sources (ew-sketch.h), packets, sensors and the first source
	 * networks, written by ingest; ew_alert: `vigia watch`'s alerts, one
	 * active (ended NULL) per key at most. */
	"CREATE TABLE ew_bin ("
	"  kind TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  start INTEGER NOT NULL,"
	"  packets INTEGER NOT NULL,"
	"  sketch BLOB NOT NULL,"
	"  sensors BLOB NOT NULL,"
	"  nets TEXT NOT NULL,"
	"  PRIMARY KEY (kind, key, start)"
	") WITHOUT ROWID;"
	"CREATE INDEX ew_bin_start ON ew_bin(start);"
	"CREATE TABLE ew_alert ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  conds TEXT NOT NULL,"
	"  began INTEGER NOT NULL,"
	"  raised INTEGER NOT NULL,"
	"  ended INTEGER,"
	"  calm INTEGER NOT NULL,"
	"  sources REAL NOT NULL,"
	"  packets REAL NOT NULL,"
	"  sensors REAL NOT NULL,"
	"  baseline REAL NOT NULL,"
	"  factor REAL NOT NULL,"
	"  peak REAL NOT NULL,"
	"  nets TEXT NOT NULL"
	");"
	"CREATE UNIQUE INDEX ew_alert_active ON ew_alert(kind, key) WHERE ended IS NULL;",
	/* `vigia status`'s checks (issue 5), which status used to create by
	 * itself: IF NOT EXISTS, so that a database that already has them
	 * keeps its rows and still moves to this version. */
	"CREATE TABLE IF NOT EXISTS health_check ("
	"  time REAL NOT NULL, sensor TEXT NOT NULL, check_name TEXT NOT NULL,"
	"  state INTEGER NOT NULL, value REAL, message TEXT NOT NULL"
	");"
	"CREATE INDEX IF NOT EXISTS health_check_by_sensor ON health_check(sensor, check_name, time);",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

enum stmt_id {
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_META_GET, S_META_SET,
	S_SENSOR_BY_NAME, S_SENSOR_BY_ID, S_SENSOR_NEXT, S_SENSOR_ADD,
	S_FILE_STATE, S_FILE_ADD,
	S_BIN_ADD,
	S_OS_LABEL,
	S_SRC_GET, S_SRC_PUT,
	S_HOST_GET, S_HOST_SET,
	S_KEY_SUMS, S_BINS_ALL, S_BINS_ONE,
	S_INC_GET, S_INC_UPD, S_INC_ADD, S_EV_ADD,   /* issue 8: merged per ingested file */
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[S_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2)"
		       " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[S_SENSOR_BY_NAME] = "SELECT id FROM sensor WHERE name = ?1",
	[S_SENSOR_BY_ID] = "SELECT name FROM sensor WHERE id = ?1",
	[S_SENSOR_NEXT] = "SELECT COALESCE(MAX(id), 0) + 1 FROM sensor",
	[S_SENSOR_ADD] = "INSERT INTO sensor(id, name) VALUES (?1, ?2)",
	[S_FILE_STATE] = "SELECT sha256 FROM file WHERE path = ?1",
	[S_FILE_ADD] = "INSERT INTO file(sensor_id, path, sha256, size, kind, ingested_at,"
		       " status, message, frames, packets, bytes, first_ns, last_ns)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[S_BIN_ADD] = "INSERT INTO bin(category, start, sensor_id, key, packets, bytes)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		      " ON CONFLICT(category, start, sensor_id, key) DO UPDATE SET"
		      " packets = packets + excluded.packets, bytes = bytes + excluded.bytes",
	[S_OS_LABEL] = "INSERT INTO os_label(label, ord, windows) VALUES (?1, ?2, ?3)"
		       " ON CONFLICT(label) DO UPDATE SET ord = excluded.ord,"
		       " windows = excluded.windows"
		       " WHERE ord != excluded.ord OR windows != excluded.windows",
	[S_SRC_GET] = "SELECT packets, bytes, first_seen, last_seen, os, country, ports, sensors"
		      " FROM source_day WHERE day = ?1 AND ip = ?2",
	[S_SRC_PUT] = "INSERT OR REPLACE INTO source_day(day, ip, packets, bytes, first_seen,"
		      " last_seen, os, country, nports, ports, nsensors, sensors)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[S_HOST_GET] = "SELECT os FROM host_os WHERE ip = ?1",
	[S_HOST_SET] = "INSERT INTO host_os(ip, os) VALUES (?1, ?2)"
		       " ON CONFLICT(ip) DO UPDATE SET os = excluded.os",
	[S_KEY_SUMS] = "SELECT b.key, SUM(b.packets), SUM(b.bytes),"
		       " COALESCE(o.ord, 1000000), COALESCE(o.windows, 0)"
		       " FROM bin b LEFT JOIN os_label o ON b.category = 'os' AND o.label = b.key"
		       " WHERE b.category = ?1 AND b.start >= ?2 AND b.start < ?3"
		       " AND (?4 = 0 OR b.sensor_id = ?4)"
		       " GROUP BY b.key",
	[S_BINS_ALL] = "SELECT start, key, SUM(packets), SUM(bytes) FROM bin"
		       " WHERE category = ?1 AND start >= ?2 AND start < ?3"
		       " GROUP BY start, key ORDER BY start, key",
	[S_BINS_ONE] = "SELECT start, key, packets, bytes FROM bin"
		       " WHERE category = ?1 AND start >= ?2 AND start < ?3 AND sensor_id = ?4"
		       " ORDER BY start, key",
	[S_INC_GET] = "SELECT id, first_seen, last_seen, count, ports, sensors FROM incident"
		      " WHERE day = ?1 AND ip = ?2 AND category = ?3 AND name = ?4",
	[S_INC_UPD] = "UPDATE incident SET first_seen = ?5, last_seen = ?6, count = ?7, nports = ?8,"
		      " ports = ?9, sensors = ?10 WHERE id = ?11",
	[S_INC_ADD] = "INSERT INTO incident(day, ip, category, name, taxonomy, type, sid, first_seen,"
		      " last_seen, count, nports, ports, sensors)"
		      " VALUES (?1, ?2, ?3, ?4, ?12, ?13, ?14, ?5, ?6, ?7, ?8, ?9, ?10)",
	[S_EV_ADD] = "INSERT INTO evidence(incident_id, time_ns, sensor_id, line, excerpt)"
		     " SELECT ?1, ?2, ?3, ?4, ?5"
		     " WHERE (SELECT COUNT(*) FROM evidence WHERE incident_id = ?1) < ?6",
};

struct db_sqlite {
	struct db base;
	sqlite3 *h;
	char *path;
	int version;
	sqlite3_stmt *st[S_COUNT];
};

static struct db_sqlite *S(struct db *db)
{
	return (struct db_sqlite *)db;
}

static int fail(struct db_sqlite *d, struct vg_err *err, int rc, const char *what)
{
	int code = rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? -EBUSY
		 : rc == SQLITE_FULL ? -ENOSPC
		 : rc == SQLITE_NOMEM ? -ENOMEM
		 : rc == SQLITE_CONSTRAINT ? -EEXIST : -EIO;
	return vg_err_set(err, code, "%s: %s: %s", d->path, what,
			  d->h ? sqlite3_errmsg(d->h) : sqlite3_errstr(rc));
}

/* Reset a statement before use, so an earlier early return never leaves
 * one holding a read lock. */
static sqlite3_stmt *use(struct db_sqlite *d, enum stmt_id id)
{
	sqlite3_stmt *s = d->st[id];
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Run a statement that returns no rows. */
static int run(struct db_sqlite *d, sqlite3_stmt *s, struct vg_err *err, const char *what)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return fail(d, err, rc, what);
	return 0;
}

static const char *ip_text(const struct vg_ip *ip, char *buf, size_t len)
{
	if (!inet_ntop(ip->v == 6 ? AF_INET6 : AF_INET, ip->a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

static int exec_sql(struct db_sqlite *d, const char *sql, struct vg_err *err, const char *what)
{
	char *msg = NULL;
	int rc = sqlite3_exec(d->h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		int r = vg_err_set(err, rc == SQLITE_BUSY ? -EBUSY : -EIO, "%s: %s: %s", d->path,
				   what, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return r;
	}
	return 0;
}

static int read_version(struct db_sqlite *d, int *v, struct vg_err *err)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(d->h, "PRAGMA user_version", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return fail(d, err, rc, "reading the schema version");
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return fail(d, err, rc, "reading the schema version");
	return 0;
}

/* Each migration re-reads the version inside its transaction: two
 * processes opening a new database at once must not both apply it. */
static int migrate(struct db_sqlite *d, struct vg_err *err)
{
	for (;;) {
		int v;
		int r = read_version(d, &v, err);
		if (r)
			return r;
		if (v > NMIGRATIONS)
			return vg_err_set(err, -EPROTO, "%s: schema version %d is newer than this "
					  "vigia knows (%d)", d->path, v, NMIGRATIONS);
		if (v == NMIGRATIONS) {
			d->version = v;
			return 0;
		}
		if ((r = exec_sql(d, "BEGIN IMMEDIATE", err, "starting a migration")))
			return r;
		if ((r = read_version(d, &v, err)))
			goto undo;
		if (v < NMIGRATIONS) {
			char what[64], pragma[64];
			snprintf(what, sizeof what, "migration to schema version %d", v + 1);
			snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
			if ((r = exec_sql(d, migrations[v], err, what)) ||
			    (r = exec_sql(d, pragma, err, what)))
				goto undo;
		}
		if ((r = exec_sql(d, "COMMIT", err, "committing a migration")))
			goto undo;
		continue;
undo:
		sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
		return r;
	}
}

static void sq_close(struct db *db)
{
	struct db_sqlite *d = S(db);
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(d->st[i]);
	sqlite3_close(d->h);
	free(d->path);
	free(d);
}

static int sq_schema_version(struct db *db)
{
	return S(db)->version;
}

static int sq_begin(struct db *db, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	return run(d, use(d, S_BEGIN), err, "starting a transaction");
}

static int sq_commit(struct db *db, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	return run(d, use(d, S_COMMIT), err, "committing");
}

static void sq_rollback(struct db *db)
{
	struct db_sqlite *d = S(db);
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_reset(d->st[i]);
	if (!sqlite3_get_autocommit(d->h))
		run(d, use(d, S_ROLLBACK), NULL, "rolling back");
}

static int sq_meta_get(struct db *db, const char *key, char *buf, size_t len, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s = use(d, S_META_GET);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);
		snprintf(buf, len, "%s", t ? (const char *)t : "");
		sqlite3_reset(s);
		return 1;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : fail(d, err, rc, "reading meta");
}

static int sq_meta_set(struct db *db, const char *key, const char *value, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s = use(d, S_META_SET);
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	return run(d, s, err, "writing meta");
}

static int sq_sensor_ensure(struct db *db, const char *name, uint32_t want, uint32_t *id,
			    struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s = use(d, S_SENSOR_BY_NAME);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		uint32_t have = (uint32_t)sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		if (want && have != want)
			return vg_err_set(err, -EEXIST, "%s: sensor %s is stored with id %" PRIu32
					  ", the configuration says %" PRIu32, d->path, name,
					  have, want);
		*id = have;
		return 0;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return fail(d, err, rc, "looking up a sensor");
	if (want) {
		s = use(d, S_SENSOR_BY_ID);
		sqlite3_bind_int64(s, 1, want);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			char other[128];
			snprintf(other, sizeof other, "%s", (const char *)sqlite3_column_text(s, 0));
			sqlite3_reset(s);
			return vg_err_set(err, -EEXIST, "%s: sensor id %" PRIu32 " belongs to %s, "
					  "not %s", d->path, want, other, name);
		}
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return fail(d, err, rc, "looking up a sensor");
	} else {
		s = use(d, S_SENSOR_NEXT);
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(s);
			return fail(d, err, rc, "numbering a sensor");
		}
		want = (uint32_t)sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	s = use(d, S_SENSOR_ADD);
	sqlite3_bind_int64(s, 1, want);
	sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	int r = run(d, s, err, "adding a sensor");
	if (!r)
		*id = want;
	return r;
}

static int sq_file_state(struct db *db, const char *path, const char *sha256, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s = use(d, S_FILE_STATE);
	sqlite3_bind_text(s, 1, path, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);
		int st = t && !strcmp((const char *)t, sha256) ? DB_FILE_SAME : DB_FILE_CHANGED;
		sqlite3_reset(s);
		return st;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? DB_FILE_NEW : fail(d, err, rc, "looking up a file");
}

static int sq_file_add(struct db *db, const struct db_file *f, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s = use(d, S_FILE_ADD);
	sqlite3_bind_int64(s, 1, f->sensor_id);
	sqlite3_bind_text(s, 2, f->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, f->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)f->size);
	sqlite3_bind_text(s, 5, f->kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, f->ingested_at);
	sqlite3_bind_text(s, 7, f->damaged ? "damaged" : "ok", -1, SQLITE_STATIC);
	if (f->message)
		sqlite3_bind_text(s, 8, f->message, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)f->frames);
	sqlite3_bind_int64(s, 10, (sqlite3_int64)f->packets);
	sqlite3_bind_int64(s, 11, (sqlite3_int64)f->bytes);
	if (f->packets) {
		sqlite3_bind_int64(s, 12, (sqlite3_int64)f->first_ns);
		sqlite3_bind_int64(s, 13, (sqlite3_int64)f->last_ns);
	}
	return run(d, s, err, "recording a file");
}

static int sq_bin_add(struct db *db, const struct db_bin *b, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s = use(d, S_BIN_ADD);
	sqlite3_bind_text(s, 1, db_category_name(b->cat), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, b->start);
	sqlite3_bind_int64(s, 3, b->sensor_id);
	sqlite3_bind_text(s, 4, b->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)b->packets);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)b->bytes);
	return run(d, s, err, "adding to a bin");
}

static int sq_os_label(struct db *db, const char *label, unsigned ord, bool windows,
		       struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s = use(d, S_OS_LABEL);
	sqlite3_bind_text(s, 1, label, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, ord);
	sqlite3_bind_int(s, 3, windows);
	return run(d, s, err, "recording an OS label");
}

/* "1,3,17": readable in SQL, and a source hits few sensors. */
static int parse_ids(const char *t, uint32_t **out, size_t *n)
{
	size_t cap = 1;
	for (const char *p = t; *p; p++)
		cap += *p == ',';
	uint32_t *v = malloc(cap * sizeof *v);
	if (!v)
		return -ENOMEM;
	size_t w = 0;
	const char *p = t;
	while (*p && w < cap) {
		char *end;
		unsigned long x = strtoul(p, &end, 10);
		if (end == p || x > UINT32_MAX) {
			free(v);
			return -EINVAL;
		}
		v[w++] = (uint32_t)x;
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',') {
			free(v);
			return -EINVAL;
		}
	}
	*out = v;
	*n = w;
	return 0;
}

static int sq_source_day_get(struct db *db, int64_t day, const struct vg_ip *ip,
			     struct db_source_day *out, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	char ipt[INET6_ADDRSTRLEN];
	sqlite3_stmt *s = use(d, S_SRC_GET);
	sqlite3_bind_int64(s, 1, day);
	sqlite3_bind_text(s, 2, ip_text(ip, ipt, sizeof ipt), -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? 0 : fail(d, err, rc, "reading a source's day");
	}
	out->day = day;
	out->ip = *ip;
	out->packets = (uint64_t)sqlite3_column_int64(s, 0);
	out->bytes = (uint64_t)sqlite3_column_int64(s, 1);
	out->first_s = sqlite3_column_int64(s, 2);
	out->last_s = sqlite3_column_int64(s, 3);
	const unsigned char *os = sqlite3_column_text(s, 4);
	const unsigned char *cc = sqlite3_column_text(s, 5);
	snprintf(out->os, sizeof out->os, "%s", os ? (const char *)os : "unknown");
	snprintf(out->country, sizeof out->country, "%s", cc ? (const char *)cc : "--");
	const void *blob = sqlite3_column_blob(s, 6);
	size_t blen = (size_t)sqlite3_column_bytes(s, 6);
	int r = db_set_decode(blob, blen, &out->ports, &out->nports);
	const unsigned char *sens = sqlite3_column_text(s, 7);
	if (r >= 0)
		r = parse_ids(sens ? (const char *)sens : "", &out->sensors, &out->nsensors);
	sqlite3_reset(s);
	if (r < 0) {
		db_source_day_clear(out);
		return vg_err_set(err, r, "%s: source_day row of %s, day %" PRId64 ": %s",
				  d->path, ipt, day, r == -ENOMEM ? "out of memory"
				  : "damaged port or sensor set");
	}
	return 1;
}

static int sq_source_day_put(struct db *db, const struct db_source_day *sd, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	char ipt[INET6_ADDRSTRLEN];
	uint8_t *ports = NULL;
	size_t plen = 0;
	if (db_set_encode(sd->ports, sd->nports, &ports, &plen))
		return vg_err_set(err, -EINVAL, "%s: the ports of %s are not a sorted set",
				  d->path, ip_text(&sd->ip, ipt, sizeof ipt));
	char *sens = malloc(sd->nsensors * 11 + 1);
	if (!sens) {
		free(ports);
		return vg_err_set(err, -ENOMEM, "out of memory");
	}
	size_t w = 0;
	sens[0] = 0;
	for (size_t i = 0; i < sd->nsensors; i++)
		w += (size_t)sprintf(sens + w, i ? ",%" PRIu32 : "%" PRIu32, sd->sensors[i]);
	sqlite3_stmt *s = use(d, S_SRC_PUT);
	sqlite3_bind_int64(s, 1, sd->day);
	sqlite3_bind_text(s, 2, ip_text(&sd->ip, ipt, sizeof ipt), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)sd->packets);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)sd->bytes);
	sqlite3_bind_int64(s, 5, sd->first_s);
	sqlite3_bind_int64(s, 6, sd->last_s);
	sqlite3_bind_text(s, 7, sd->os, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, sd->country, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)sd->nports);
	sqlite3_bind_blob(s, 10, ports, (int)plen, SQLITE_STATIC);
	sqlite3_bind_int64(s, 11, (sqlite3_int64)sd->nsensors);
	sqlite3_bind_text(s, 12, sens, -1, SQLITE_STATIC);
	int r = run(d, s, err, "writing a source's day");
	sqlite3_clear_bindings(s);
	free(ports);
	free(sens);
	return r;
}

static int sq_host_os_get(struct db *db, const struct vg_ip *ip, char *buf, size_t len,
			  struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	char ipt[INET6_ADDRSTRLEN];
	sqlite3_stmt *s = use(d, S_HOST_GET);
	sqlite3_bind_text(s, 1, ip_text(ip, ipt, sizeof ipt), -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);
		snprintf(buf, len, "%s", t ? (const char *)t : "unknown");
		sqlite3_reset(s);
		return 1;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : fail(d, err, rc, "reading a source's OS");
}

static int sq_host_os_set(struct db *db, const struct vg_ip *ip, const char *label,
			  struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	char ipt[INET6_ADDRSTRLEN];
	sqlite3_stmt *s = use(d, S_HOST_SET);
	sqlite3_bind_text(s, 1, ip_text(ip, ipt, sizeof ipt), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 2, label, -1, SQLITE_STATIC);
	return run(d, s, err, "writing a source's OS");
}

static int sq_key_sums(struct db *db, const struct db_range *r, enum db_category c,
		       db_key_sum_cb cb, void *ctx, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s = use(d, S_KEY_SUMS);
	sqlite3_bind_text(s, 1, db_category_name(c), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, r->from);
	sqlite3_bind_int64(s, 3, r->to);
	sqlite3_bind_int64(s, 4, r->sensor_id);
	int rc, cr = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *k = sqlite3_column_text(s, 0);
		struct db_key_sum ks = {
			.key = k ? (const char *)k : "",
			.packets = (uint64_t)sqlite3_column_int64(s, 1),
			.bytes = (uint64_t)sqlite3_column_int64(s, 2),
			.ord = (unsigned)sqlite3_column_int64(s, 3),
			.windows = sqlite3_column_int(s, 4) != 0,
		};
		if ((cr = cb(&ks, ctx)))
			break;
	}
	sqlite3_reset(s);
	if (cr)
		return cr;
	return rc == SQLITE_DONE ? 0 : fail(d, err, rc, "summing a category");
}

static int sq_bins_foreach(struct db *db, const struct db_range *r, enum db_category c,
			   db_bin_cb cb, void *ctx, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s = use(d, r->sensor_id ? S_BINS_ONE : S_BINS_ALL);
	sqlite3_bind_text(s, 1, db_category_name(c), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, r->from);
	sqlite3_bind_int64(s, 3, r->to);
	if (r->sensor_id)
		sqlite3_bind_int64(s, 4, r->sensor_id);
	int rc, cr = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *k = sqlite3_column_text(s, 1);
		cr = cb(sqlite3_column_int64(s, 0), k ? (const char *)k : "",
			(uint64_t)sqlite3_column_int64(s, 2), (uint64_t)sqlite3_column_int64(s, 3), ctx);
		if (cr)
			break;
	}
	sqlite3_reset(s);
	if (cr)
		return cr;
	return rc == SQLITE_DONE ? 0 : fail(d, err, rc, "reading bins");
}

/* ---- issue 6: reads for `vigia stats` ----------------------------------
 * Run a few times per `vigia stats`, so prepared per call rather than
 * kept in st[]. */

static int sq_os_labels_foreach(struct db *db, db_os_label_cb cb, void *ctx,
				struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(d->h, "SELECT label, ord, windows FROM os_label ORDER BY ord, label",
				    -1, &s, NULL);
	if (rc != SQLITE_OK)
		return fail(d, err, rc, "preparing the OS label query");
	int cr = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *l = sqlite3_column_text(s, 0);
		if ((cr = cb(l ? (const char *)l : "", (unsigned)sqlite3_column_int64(s, 1),
			     sqlite3_column_int(s, 2) != 0, ctx)))
			break;
	}
	if (!cr && rc != SQLITE_DONE)
		cr = fail(d, err, rc, "reading OS labels");
	sqlite3_finalize(s);
	return cr;
}

static int sq_bin_span(struct db *db, int64_t *first, int64_t *last, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	/* One MIN/MAX per category uses the primary key's order; a MIN over
	 * the whole table would scan it. */
	int rc = sqlite3_prepare_v2(d->h,
		"SELECT MIN(f), MAX(l) FROM ("
		" SELECT (SELECT MIN(start) FROM bin WHERE category = c) AS f,"
		"        (SELECT MAX(start) FROM bin WHERE category = c) AS l"
		" FROM (SELECT 'tcp_port' AS c UNION ALL SELECT 'udp_port'"
		"       UNION ALL SELECT 'country' UNION ALL SELECT 'os'))",
		-1, &s, NULL);
	if (rc != SQLITE_OK)
		return fail(d, err, rc, "preparing the bin span query");
	int r = 0;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(s, 0) != SQLITE_NULL) {
			*first = sqlite3_column_int64(s, 0);
			*last = sqlite3_column_int64(s, 1);
			r = 1;
		}
	} else {
		r = fail(d, err, rc, "reading the bin span");
	}
	sqlite3_finalize(s);
	return r;
}

/* ---- issue 7: the members' summary --------------------------------------
 * A few queries per run: prepared per call. */

static int sq_prepare(struct db_sqlite *d, const char *sql, sqlite3_stmt **s,
		      struct vg_err *err, const char *what)
{
	int rc = sqlite3_prepare_v2(d->h, sql, -1, s, NULL);
	return rc == SQLITE_OK ? 0 : fail(d, err, rc, what);
}

static int sq_source_rows_foreach(struct db *db, int64_t from, int64_t to, db_source_row_cb cb,
				  void *ctx, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	int rc = sq_prepare(d, "SELECT day, ip, packets, bytes, first_seen, last_seen, os, country,"
			    " nports, ports, nsensors, sensors FROM source_day"
			    " WHERE day >= ?1 AND day < ?2", &s, err, "reading sources");
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	int cr = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *ip = (const char *)sqlite3_column_text(s, 1);
		const char *os = (const char *)sqlite3_column_text(s, 6);
		const char *cc = (const char *)sqlite3_column_text(s, 7);
		const char *sens = (const char *)sqlite3_column_text(s, 11);
		struct db_source_row r = {
			.day = sqlite3_column_int64(s, 0),
			.ip = ip ? ip : "",
			.packets = (uint64_t)sqlite3_column_int64(s, 2),
			.bytes = (uint64_t)sqlite3_column_int64(s, 3),
			.first_s = sqlite3_column_int64(s, 4),
			.last_s = sqlite3_column_int64(s, 5),
			.os = os ? os : "unknown",
			.country = cc ? cc : "--",
			.nports = (uint32_t)sqlite3_column_int64(s, 8),
			.ports = sqlite3_column_blob(s, 9),
			.ports_len = (size_t)sqlite3_column_bytes(s, 9),
			.nsensors = (uint32_t)sqlite3_column_int64(s, 10),
			.sensors = sens ? sens : "",
		};
		if ((cr = cb(&r, ctx)))
			break;
	}
	sqlite3_finalize(s);
	if (cr)
		return cr;
	return rc == SQLITE_DONE ? 0 : fail(d, err, rc, "reading sources");
}

static int sq_health_foreach(struct db *db, double from, double to, db_health_cb cb, void *ctx,
			     struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	int rc = sq_prepare(d, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
			    " AND name = 'health_check'", &s, err, "looking for health data");
	if (rc)
		return rc;
	bool have = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
	sqlite3_finalize(s);
	if (!have)
		return 0;
	rc = sq_prepare(d, "SELECT sensor, check_name, MAX(time), state, message,"
			" (SELECT MAX(h2.state) FROM health_check h2 WHERE h2.sensor = h.sensor"
			"  AND h2.check_name = h.check_name AND h2.time >= ?1 AND h2.time < ?2)"
			" FROM health_check h WHERE time >= ?1 AND time < ?2"
			" GROUP BY sensor, check_name ORDER BY sensor, check_name",
			&s, err, "reading health data");
	if (rc)
		return rc;
	sqlite3_bind_double(s, 1, from);
	sqlite3_bind_double(s, 2, to);
	int cr = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *sn = (const char *)sqlite3_column_text(s, 0);
		const char *ck = (const char *)sqlite3_column_text(s, 1);
		const char *msg = (const char *)sqlite3_column_text(s, 4);
		if ((cr = cb(sn ? sn : "", ck ? ck : "", sqlite3_column_int(s, 3),
			     sqlite3_column_int(s, 5), msg ? msg : "", ctx)))
			break;
	}
	sqlite3_finalize(s);
	if (cr)
		return cr;
	return rc == SQLITE_DONE ? 1 : fail(d, err, rc, "reading health data");
}

static int sq_mail_sent_get(struct db *db, int64_t day, const char *member, char *msgid,
			    size_t len, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	int rc = sq_prepare(d, "SELECT message_id FROM mail_sent WHERE day = ?1 AND member = ?2",
			    &s, err, "reading the sent-log");
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, day);
	sqlite3_bind_text(s, 2, member, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	int ret = 0;
	if (rc == SQLITE_ROW) {
		const char *m = (const char *)sqlite3_column_text(s, 0);
		if (len)
			snprintf(msgid, len, "%s", m ? m : "");
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		ret = fail(d, err, rc, "reading the sent-log");
	}
	sqlite3_finalize(s);
	return ret;
}

static int sq_mail_sent_add(struct db *db, int64_t day, const char *member, const char *msgid,
			    int64_t sent_at, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	int rc = sq_prepare(d, "INSERT INTO mail_sent(day, member, message_id, sent_at)"
			    " VALUES (?1, ?2, ?3, ?4)", &s, err, "writing the sent-log");
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, day);
	sqlite3_bind_text(s, 2, member, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, msgid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, sent_at);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : fail(d, err, rc, "writing the sent-log");
}

/* ---- issue 8: incidents ---------------------------------------------------
 * Merged for every ingested file: the statements are prepared once. */

static int sensors_text(const uint32_t *v, size_t n, char **out)
{
	char *t = malloc(n * 11 + 1);
	if (!t)
		return -ENOMEM;
	size_t w = 0;
	t[0] = 0;
	for (size_t i = 0; i < n; i++)
		w += (size_t)sprintf(t + w, i ? ",%" PRIu32 : "%" PRIu32, v[i]);
	*out = t;
	return 0;
}

static int sq_incident_merge(struct db *db, const struct db_incident *in,
			     const struct db_evidence *ev, size_t nev, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	char ipt[INET6_ADDRSTRLEN];
	ip_text(&in->ip, ipt, sizeof ipt);
	sqlite3_stmt *s = NULL;
	uint32_t *ports = NULL, *sens = NULL, *uports = NULL, *usens = NULL;
	size_t np = 0, ns = 0, nup = 0, nus = 0;
	uint8_t *pblob = NULL;
	size_t plen = 0;
	char *stext = NULL;
	int64_t id = 0, first = in->first_s, last = in->last_s;
	uint64_t count = in->count;
	int r = 0, rc;
	s = use(d, S_INC_GET);
	sqlite3_bind_int64(s, 1, in->day);
	sqlite3_bind_text(s, 2, ipt, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, in->category, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, in->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		int64_t f = sqlite3_column_int64(s, 1), l = sqlite3_column_int64(s, 2);
		first = f < first ? f : first;
		last = l > last ? l : last;
		count += (uint64_t)sqlite3_column_int64(s, 3);
		const unsigned char *st = sqlite3_column_text(s, 5);
		if (db_set_decode(sqlite3_column_blob(s, 4), (size_t)sqlite3_column_bytes(s, 4),
				  &ports, &np) < 0 ||
		    parse_ids(st ? (const char *)st : "", &sens, &ns))
			r = vg_err_set(err, -EINVAL, "%s: incident %" PRId64 ": damaged port or "
				       "sensor set", d->path, id);
	} else if (rc != SQLITE_DONE) {
		r = fail(d, err, rc, "reading an incident");
	}
	sqlite3_reset(s);
	s = NULL;
	if (r)
		goto out;
	if (db_set_union(ports, np, in->ports, in->nports, &uports, &nup) ||
	    db_set_union(sens, ns, in->sensors, in->nsensors, &usens, &nus) ||
	    db_set_encode(uports, nup, &pblob, &plen) || sensors_text(usens, nus, &stext)) {
		r = vg_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	s = use(d, id ? S_INC_UPD : S_INC_ADD);
	if (!id) {
		sqlite3_bind_int64(s, 1, in->day);
		sqlite3_bind_text(s, 2, ipt, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, in->category, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, in->name, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(s, 5, first);
	sqlite3_bind_int64(s, 6, last);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)count);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)nup);
	sqlite3_bind_blob(s, 9, pblob ? (const void *)pblob : "", (int)plen, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, stext, -1, SQLITE_STATIC);
	if (id)
		sqlite3_bind_int64(s, 11, id);
	else {
		sqlite3_bind_text(s, 12, in->taxonomy, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 13, in->type, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 14, in->sid);
	}
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	s = NULL;
	if (rc != SQLITE_DONE) {
		r = fail(d, err, rc, "writing an incident");
		goto out;
	}
	if (!id)
		id = sqlite3_last_insert_rowid(d->h);
	s = use(d, S_EV_ADD);
	for (size_t i = 0; i < nev && !r; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, ev[i].time_ns);
		sqlite3_bind_int64(s, 3, ev[i].sensor_id);
		sqlite3_bind_text(s, 4, ev[i].line, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 5, ev[i].excerpt, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 6, DB_EVIDENCE_MAX);
		rc = sqlite3_step(s);
		if (rc != SQLITE_DONE)
			r = fail(d, err, rc, "writing evidence");
	}
out:
	if (s)
		sqlite3_reset(s);
	free(ports);
	free(sens);
	free(uports);
	free(usens);
	free(pblob);
	free(stext);
	return r;
}

static int sq_incidents_clear_day(struct db *db, int64_t day, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	static const char *const sql[] = {
		"DELETE FROM evidence WHERE incident_id IN (SELECT id FROM incident WHERE day = ?1)",
		"DELETE FROM incident WHERE day = ?1",
	};
	for (size_t i = 0; i < 2; i++) {
		sqlite3_stmt *s;
		int rc = sqlite3_prepare_v2(d->h, sql[i], -1, &s, NULL);
		if (rc != SQLITE_OK)
			return fail(d, err, rc, "preparing the incident removal");
		sqlite3_bind_int64(s, 1, day);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			return fail(d, err, rc, "removing a day's incidents");
	}
	return 0;
}

static int sq_incidents_foreach(struct db *db, int64_t from, int64_t to, db_incident_cb cb,
				void *ctx, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(d->h,
		"SELECT day, ip, category, name, taxonomy, type, sid, first_seen, last_seen, count,"
		" ports, sensors FROM incident WHERE day >= ?1 AND day < ?2"
		" ORDER BY day, ip, category, name", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return fail(d, err, rc, "preparing the incident query");
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	int cr = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_incident in = {0};
		const char *ip = (const char *)sqlite3_column_text(s, 1);
		in.day = sqlite3_column_int64(s, 0);
		if (ip && inet_pton(AF_INET, ip, in.ip.a) == 1)
			in.ip.v = 4;
		else if (ip && inet_pton(AF_INET6, ip, in.ip.a) == 1)
			in.ip.v = 6;
		in.category = (const char *)sqlite3_column_text(s, 2);
		in.name = (const char *)sqlite3_column_text(s, 3);
		in.taxonomy = (const char *)sqlite3_column_text(s, 4);
		in.type = (const char *)sqlite3_column_text(s, 5);
		in.sid = (uint32_t)sqlite3_column_int64(s, 6);
		in.first_s = sqlite3_column_int64(s, 7);
		in.last_s = sqlite3_column_int64(s, 8);
		in.count = (uint64_t)sqlite3_column_int64(s, 9);
		uint32_t *ports = NULL, *sens = NULL;
		const char *st = (const char *)sqlite3_column_text(s, 11);
		if (db_set_decode(sqlite3_column_blob(s, 10), (size_t)sqlite3_column_bytes(s, 10),
				  &ports, &in.nports) < 0 ||
		    parse_ids(st ? st : "", &sens, &in.nsensors)) {
			free(ports);
			cr = vg_err_set(err, -EINVAL, "%s: an incident of %s has a damaged set",
					d->path, ip ? ip : "?");
			break;
		}
		in.ports = ports;
		in.sensors = sens;
		if (!in.category || !in.name || !in.taxonomy || !in.type)
			cr = vg_err_set(err, -ENOMEM, "out of memory");
		else
			cr = cb(&in, ctx);
		free(ports);
		free(sens);
		if (cr)
			break;
	}
	if (!cr && rc != SQLITE_DONE)
		cr = fail(d, err, rc, "reading incidents");
	sqlite3_finalize(s);
	return cr;
}

/* ---- issue 8: abuse contacts and notifications ------------------------------
 * A few rows per run: prepared per call. */

static void ip_key(const struct vg_ip *ip, uint8_t k[17])
{
	k[0] = ip->v;
	memset(k + 1, 0, 16);
	memcpy(k + 1, ip->a, ip->v == 4 ? 4 : 16);
}

static int sq_contact_cache_get(struct db *db, const struct vg_ip *ip, int64_t now, char *email,
				size_t elen, char *via, size_t vlen, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	int rc = sq_prepare(d, "SELECT email, via FROM contact_cache WHERE lo <= ?1 AND hi >= ?1"
			    " AND substr(lo, 1, 1) = substr(?1, 1, 1) AND expires > ?2"
			    " ORDER BY lo DESC, hi ASC LIMIT 1", &s, err, "reading the contact cache");
	if (rc)
		return rc;
	uint8_t k[17];
	ip_key(ip, k);
	sqlite3_bind_blob(s, 1, k, sizeof k, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	rc = sqlite3_step(s);
	int ret = 0;
	if (rc == SQLITE_ROW) {
		const char *e = (const char *)sqlite3_column_text(s, 0);
		const char *v = (const char *)sqlite3_column_text(s, 1);
		snprintf(email, elen, "%s", e ? e : "");
		snprintf(via, vlen, "%s", v ? v : "");
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		ret = fail(d, err, rc, "reading the contact cache");
	}
	sqlite3_finalize(s);
	return ret;
}

static int sq_contact_cache_put(struct db *db, const struct vg_ip *lo, const struct vg_ip *hi,
				const char *email, const char *via, const char *server,
				int64_t fetched, int64_t expires, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	int rc = sq_prepare(d, "INSERT OR REPLACE INTO contact_cache(lo, hi, email, via, server,"
			    " fetched, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &s, err,
			    "writing the contact cache");
	if (rc)
		return rc;
	uint8_t kl[17], kh[17];
	ip_key(lo, kl);
	ip_key(hi, kh);
	sqlite3_bind_blob(s, 1, kl, sizeof kl, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, kh, sizeof kh, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, email, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, via, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, server, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, fetched);
	sqlite3_bind_int64(s, 7, expires);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : fail(d, err, rc, "writing the contact cache");
}

static int sq_notification_add(struct db *db, const struct db_notification *n,
			       struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	int rc = sq_prepare(d, "INSERT INTO notification(day, ip, category, count, contact, via,"
			    " message_id, sent_at, delivery) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
			    &s, err, "writing the notification history");
	if (rc)
		return rc;
	sqlite3_bind_int64(s, 1, n->day);
	sqlite3_bind_text(s, 2, n->ip, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, n->category, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (int64_t)n->count);
	sqlite3_bind_text(s, 5, n->contact, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, n->via, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, n->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, n->sent_at);
	sqlite3_bind_text(s, 9, n->delivery, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : fail(d, err, rc, "writing the notification history");
}

static int sq_notification_last(struct db *db, const char *ip, const char *category,
				int64_t since, int64_t *day, uint64_t *count, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	int rc = sq_prepare(d, "SELECT day, count FROM notification WHERE ip = ?1 AND category = ?2"
			    " AND day >= ?3 ORDER BY day DESC, id DESC LIMIT 1", &s, err,
			    "reading the notification history");
	if (rc)
		return rc;
	sqlite3_bind_text(s, 1, ip, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, category, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, since);
	rc = sqlite3_step(s);
	int ret = 0;
	if (rc == SQLITE_ROW) {
		*day = sqlite3_column_int64(s, 0);
		*count = (uint64_t)sqlite3_column_int64(s, 1);
		ret = 1;
	} else if (rc != SQLITE_DONE) {
		ret = fail(d, err, rc, "reading the notification history");
	}
	sqlite3_finalize(s);
	return ret;
}

static int sq_notifications_foreach(struct db *db, db_notification_cb cb, void *ctx,
				    struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	int rc = sq_prepare(d, "SELECT day, ip, category, count, contact, via, message_id, sent_at,"
			    " delivery FROM notification ORDER BY sent_at, id", &s, err,
			    "reading the notification history");
	if (rc)
		return rc;
	int cr = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_notification n = {
			.day = sqlite3_column_int64(s, 0),
			.ip = (const char *)sqlite3_column_text(s, 1),
			.category = (const char *)sqlite3_column_text(s, 2),
			.count = (uint64_t)sqlite3_column_int64(s, 3),
			.contact = (const char *)sqlite3_column_text(s, 4),
			.via = (const char *)sqlite3_column_text(s, 5),
			.message_id = (const char *)sqlite3_column_text(s, 6),
			.sent_at = sqlite3_column_int64(s, 7),
			.delivery = (const char *)sqlite3_column_text(s, 8),
		};
		if (!n.ip || !n.category || !n.contact || !n.via || !n.message_id || !n.delivery)
			cr = vg_err_set(err, -ENOMEM, "out of memory");
		else
			cr = cb(&n, ctx);
		if (cr)
			break;
	}
	if (!cr && rc != SQLITE_DONE)
		cr = fail(d, err, rc, "reading the notification history");
	sqlite3_finalize(s);
	return cr;
}

static int sq_evidence_foreach(struct db *db, int64_t day, const struct vg_ip *ip,
			       const char *category, const char *name, db_evidence_cb cb,
			       void *ctx, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	int rc = sq_prepare(d, "SELECT e.time_ns, e.sensor_id, e.line, e.excerpt FROM evidence e"
			    " JOIN incident i ON i.id = e.incident_id WHERE i.day = ?1 AND i.ip = ?2"
			    " AND i.category = ?3 AND i.name = ?4 ORDER BY e.time_ns, e.rowid", &s,
			    err, "reading evidence");
	if (rc)
		return rc;
	char ipt[64];
	sqlite3_bind_int64(s, 1, day);
	sqlite3_bind_text(s, 2, ip_text(ip, ipt, sizeof ipt), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 3, category, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, name, -1, SQLITE_STATIC);
	int cr = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_evidence ev = {
			.time_ns = sqlite3_column_int64(s, 0),
			.sensor_id = (uint32_t)sqlite3_column_int64(s, 1),
			.line = (const char *)sqlite3_column_text(s, 2),
			.excerpt = (const char *)sqlite3_column_text(s, 3),
		};
		if (!ev.line || !ev.excerpt)
			cr = vg_err_set(err, -ENOMEM, "out of memory");
		else
			cr = cb(&ev, ctx);
		if (cr)
			break;
	}
	if (!cr && rc != SQLITE_DONE)
		cr = fail(d, err, rc, "reading evidence");
	sqlite3_finalize(s);
	return cr;
}

/* ---- issue 9: early warning ----------------------------------------------- */

static int sq_ew_bins_merge(struct db *db, const struct db_ew_bin *rows, size_t n,
			    int (*merge)(const struct db_ew_bin *stored, const struct db_ew_bin *add,
					 struct db_ew_bin *out, struct db_ew_scratch *scratch),
			    struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *get = NULL, *put = NULL;
	int rc = sqlite3_prepare_v2(d->h, "SELECT packets, sketch, sensors, nets FROM ew_bin"
				    " WHERE kind = ?1 AND key = ?2 AND start = ?3", -1, &get, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(d->h, "INSERT OR REPLACE INTO ew_bin(kind, key, start,"
					" packets, sketch, sensors, nets)"
					" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &put, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(get);
		return fail(d, err, rc, "preparing the early-warning rows");
	}
	int r = 0;
	for (size_t i = 0; i < n && !r; i++) {
		const struct db_ew_bin *a = &rows[i];
		struct db_ew_scratch sc;
		sc.sensors_buf = NULL;
		struct db_ew_bin m = *a;
		sqlite3_reset(get);
		sqlite3_bind_text(get, 1, a->kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(get, 2, a->key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(get, 3, a->start);
		rc = sqlite3_step(get);
		if (rc == SQLITE_ROW) {
			struct db_ew_bin st = *a;
			st.packets = (uint64_t)sqlite3_column_int64(get, 0);
			st.sketch = sqlite3_column_blob(get, 1);
			st.sketch_len = (size_t)sqlite3_column_bytes(get, 1);
			st.sensors = sqlite3_column_blob(get, 2);
			st.sensors_len = (size_t)sqlite3_column_bytes(get, 2);
			st.nets = (const char *)sqlite3_column_text(get, 3);
			int mr = merge(&st, a, &m, &sc);
			if (mr) {
				free(sc.sensors_buf);
				r = vg_err_set(err, mr, "%s: the early-warning row %s %s at %" PRId64
					       " is damaged", d->path, a->kind, a->key, a->start);
				break;
			}
		} else if (rc != SQLITE_DONE) {
			r = fail(d, err, rc, "reading an early-warning row");
			break;
		}
		sqlite3_reset(put);
		sqlite3_bind_text(put, 1, m.kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(put, 2, m.key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(put, 3, m.start);
		sqlite3_bind_int64(put, 4, (sqlite3_int64)m.packets);
		sqlite3_bind_blob(put, 5, m.sketch, (int)m.sketch_len, SQLITE_TRANSIENT);
		sqlite3_bind_blob(put, 6, m.sensors ? (const void *)m.sensors : "",
				  (int)m.sensors_len, SQLITE_TRANSIENT);
		sqlite3_bind_text(put, 7, m.nets ? m.nets : "", -1, SQLITE_TRANSIENT);
		sqlite3_reset(get);     /* the stored row's blobs are no longer needed */
		rc = sqlite3_step(put);
		free(sc.sensors_buf);
		if (rc != SQLITE_DONE)
			r = fail(d, err, rc, "writing an early-warning row");
	}
	sqlite3_finalize(get);
	sqlite3_finalize(put);
	return r;
}

static int sq_ew_bins_foreach(struct db *db, int64_t from, int64_t to, db_ew_bin_cb cb,
			      void *ctx, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(d->h, "SELECT kind, key, start, packets, sketch, sensors, nets"
				    " FROM ew_bin WHERE start >= ?1 AND start < ?2"
				    " ORDER BY kind, key, start", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return fail(d, err, rc, "preparing the early-warning query");
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	int cr = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_ew_bin b = {
			.kind = (const char *)sqlite3_column_text(s, 0),
			.key = (const char *)sqlite3_column_text(s, 1),
			.start = sqlite3_column_int64(s, 2),
			.packets = (uint64_t)sqlite3_column_int64(s, 3),
			.sketch = sqlite3_column_blob(s, 4),
			.sketch_len = (size_t)sqlite3_column_bytes(s, 4),
			.sensors = sqlite3_column_blob(s, 5),
			.sensors_len = (size_t)sqlite3_column_bytes(s, 5),
			.nets = (const char *)sqlite3_column_text(s, 6),
		};
		if (!b.kind || !b.key || !b.nets) {
			cr = vg_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		if ((cr = cb(&b, ctx)))
			break;
	}
	if (!cr && rc != SQLITE_DONE)
		cr = fail(d, err, rc, "reading early-warning rows");
	sqlite3_finalize(s);
	return cr;
}

static int sq_ew_last_seen(struct db *db, const char *kind, const char *key, int64_t from,
			   int64_t to, int64_t *start, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(d->h, "SELECT MAX(start) FROM ew_bin WHERE kind = ?1"
				    " AND key = ?2 AND start >= ?3 AND start < ?4", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return fail(d, err, rc, "preparing the early-warning history query");
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, from);
	sqlite3_bind_int64(s, 4, to);
	int r = 0;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*start = sqlite3_column_int64(s, 0);
		r = 1;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = fail(d, err, rc, "reading the early-warning history");
	}
	sqlite3_finalize(s);
	return r;
}

static int sq_ew_span(struct db *db, int64_t *first, int64_t *last, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(d->h, "SELECT MIN(start), MAX(start) FROM ew_bin", -1, &s,
				    NULL);
	if (rc != SQLITE_OK)
		return fail(d, err, rc, "preparing the early-warning span query");
	int r = 0;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*first = sqlite3_column_int64(s, 0);
		*last = sqlite3_column_int64(s, 1);
		r = 1;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = fail(d, err, rc, "reading the early-warning span");
	}
	sqlite3_finalize(s);
	return r;
}

static int sq_ew_alerts_active(struct db *db, db_ew_alert_cb cb, void *ctx, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(d->h, "SELECT id, kind, key, conds, began, raised, calm,"
				    " sources, packets, sensors, baseline, factor, peak, nets"
				    " FROM ew_alert WHERE ended IS NULL ORDER BY id", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return fail(d, err, rc, "preparing the alerts query");
	int cr = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct db_ew_alert a = {
			.id = sqlite3_column_int64(s, 0),
			.kind = (const char *)sqlite3_column_text(s, 1),
			.key = (const char *)sqlite3_column_text(s, 2),
			.conds = (const char *)sqlite3_column_text(s, 3),
			.began = sqlite3_column_int64(s, 4),
			.raised = sqlite3_column_int64(s, 5),
			.calm = (uint32_t)sqlite3_column_int64(s, 6),
			.sources = sqlite3_column_double(s, 7),
			.packets = sqlite3_column_double(s, 8),
			.sensors = sqlite3_column_double(s, 9),
			.baseline = sqlite3_column_double(s, 10),
			.factor = sqlite3_column_double(s, 11),
			.peak = sqlite3_column_double(s, 12),
			.nets = (const char *)sqlite3_column_text(s, 13),
		};
		if (!a.kind || !a.key || !a.conds || !a.nets) {
			cr = vg_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		if ((cr = cb(&a, ctx)))
			break;
	}
	if (!cr && rc != SQLITE_DONE)
		cr = fail(d, err, rc, "reading the alerts");
	sqlite3_finalize(s);
	return cr;
}

static int sq_ew_alert_put(struct db *db, struct db_ew_alert *a, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(d->h, a->id
		? "UPDATE ew_alert SET kind = ?1, key = ?2, conds = ?3, began = ?4, raised = ?5,"
		  " ended = ?6, calm = ?7, sources = ?8, packets = ?9, sensors = ?10,"
		  " baseline = ?11, factor = ?12, peak = ?13, nets = ?14 WHERE id = ?15"
		: "INSERT INTO ew_alert(kind, key, conds, began, raised, ended, calm, sources,"
		  " packets, sensors, baseline, factor, peak, nets)"
		  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
		-1, &s, NULL);
	if (rc != SQLITE_OK)
		return fail(d, err, rc, "preparing an alert's row");
	sqlite3_bind_text(s, 1, a->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, a->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, a->conds, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, a->began);
	sqlite3_bind_int64(s, 5, a->raised);
	if (a->ended)
		sqlite3_bind_int64(s, 6, a->ended);
	else
		sqlite3_bind_null(s, 6);
	sqlite3_bind_int64(s, 7, a->calm);
	sqlite3_bind_double(s, 8, a->sources);
	sqlite3_bind_double(s, 9, a->packets);
	sqlite3_bind_double(s, 10, a->sensors);
	sqlite3_bind_double(s, 11, a->baseline);
	sqlite3_bind_double(s, 12, a->factor);
	sqlite3_bind_double(s, 13, a->peak);
	sqlite3_bind_text(s, 14, a->nets ? a->nets : "", -1, SQLITE_STATIC);
	if (a->id)
		sqlite3_bind_int64(s, 15, a->id);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return fail(d, err, rc, "writing an alert");
	if (!a->id)
		a->id = sqlite3_last_insert_rowid(d->h);
	return 0;
}

static int sq_bins_raw_foreach(struct db *db, const struct db_range *r, enum db_category c,
			       db_bin_cb cb, void *ctx, struct vg_err *err)
{
	struct db_sqlite *d = S(db);
	sqlite3_stmt *s;
	/* The primary key's order: a range scan, no sorter. */
	int rc = sqlite3_prepare_v2(d->h,
		"SELECT start, key, packets, bytes FROM bin WHERE category = ?1"
		" AND start >= ?2 AND start < ?3 AND (?4 = 0 OR sensor_id = ?4)",
		-1, &s, NULL);
	if (rc != SQLITE_OK)
		return fail(d, err, rc, "preparing the bin scan");
	sqlite3_bind_text(s, 1, db_category_name(c), -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, r->from);
	sqlite3_bind_int64(s, 3, r->to);
	sqlite3_bind_int64(s, 4, r->sensor_id);
	int cr = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *k = sqlite3_column_text(s, 1);
		if ((cr = cb(sqlite3_column_int64(s, 0), k ? (const char *)k : "",
			     (uint64_t)sqlite3_column_int64(s, 2),
			     (uint64_t)sqlite3_column_int64(s, 3), ctx)))
			break;
	}
	if (!cr && rc != SQLITE_DONE)
		cr = fail(d, err, rc, "reading bins");
	sqlite3_finalize(s);
	return cr;
}

static const struct db_ops sqlite_ops = {
	.close = sq_close,
	.schema_version = sq_schema_version,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.meta_get = sq_meta_get,
	.meta_set = sq_meta_set,
	.sensor_ensure = sq_sensor_ensure,
	.file_state = sq_file_state,
	.file_add = sq_file_add,
	.bin_add = sq_bin_add,
	.os_label = sq_os_label,
	.source_day_get = sq_source_day_get,
	.source_day_put = sq_source_day_put,
	.host_os_get = sq_host_os_get,
	.host_os_set = sq_host_os_set,
	.key_sums = sq_key_sums,
	.bins_foreach = sq_bins_foreach,
	.os_labels_foreach = sq_os_labels_foreach, /* issue 6 */
	.bin_span = sq_bin_span,                   /* issue 6 */
	.bins_raw_foreach = sq_bins_raw_foreach,   /* issue 6 */
	.source_rows_foreach = sq_source_rows_foreach, /* issue 7 */
	.health_foreach = sq_health_foreach,           /* issue 7 */
	.mail_sent_get = sq_mail_sent_get,             /* issue 7 */
	.mail_sent_add = sq_mail_sent_add,             /* issue 7 */
	.incident_merge = sq_incident_merge,           /* issue 8 */
	.incidents_clear_day = sq_incidents_clear_day, /* issue 8 */
	.incidents_foreach = sq_incidents_foreach,     /* issue 8 */
	.contact_cache_get = sq_contact_cache_get,     /* issue 8 */
	.contact_cache_put = sq_contact_cache_put,     /* issue 8 */
	.notification_add = sq_notification_add,       /* issue 8 */
	.notification_last = sq_notification_last,     /* issue 8 */
	.notifications_foreach = sq_notifications_foreach, /* issue 8 */
	.evidence_foreach = sq_evidence_foreach,       /* issue 8 */
	.ew_bins_merge = sq_ew_bins_merge,             /* issue 9 */
	.ew_bins_foreach = sq_ew_bins_foreach,         /* issue 9 */
	.ew_last_seen = sq_ew_last_seen,               /* issue 9 */
	.ew_span = sq_ew_span,                         /* issue 9 */
	.ew_alerts_active = sq_ew_alerts_active,       /* issue 9 */
	.ew_alert_put = sq_ew_alert_put,               /* issue 9 */
};

int db_sqlite_latest(void)
{
	return NMIGRATIONS;
}

int db_sqlite_open(struct db **out, const char *path, struct vg_err *err)
{
	*out = NULL;
	struct db_sqlite *d = calloc(1, sizeof *d);
	if (!d || !(d->path = strdup(path))) {
		free(d);
		return vg_err_set(err, -ENOMEM, "out of memory");
	}
	d->base.ops = &sqlite_ops;
	int rc = sqlite3_open_v2(path, &d->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	int r;
	if (rc != SQLITE_OK) {
		r = fail(d, err, rc, "cannot open");
		goto bad;
	}
	sqlite3_extended_result_codes(d->h, 0);
	sqlite3_busy_timeout(d->h, BUSY_TIMEOUT_MS);
	if ((r = exec_sql(d, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
			  " PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;"
			  " PRAGMA temp_store = MEMORY;", err, "setting up")))
		goto bad;
	if ((r = migrate(d, err)))
		goto bad;
	for (int i = 0; i < S_COUNT; i++) {
		rc = sqlite3_prepare_v3(d->h, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&d->st[i], NULL);
		if (rc != SQLITE_OK) {
			r = fail(d, err, rc, "preparing a statement");
			goto bad;
		}
	}
	*out = &d->base;
	return 0;
bad:
	sq_close(&d->base);
	return r;
}
