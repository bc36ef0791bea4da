/* db.h: the central database, behind a small backend-neutral interface.
 *
 * `vigia ingest` writes it; `vigia stats`, `summary`, `incidents` and
 * `watch` read it.  The schema is described in docs/database.md.  SQLite
 * (db-sqlite.c) is the only backend built; a PostgreSQL one would be a
 * second `struct db_ops` (db-backend.h) selected by db_open() from a
 * "postgresql://" target, without touching the analysis or the callers.
 *
 * Times are epoch seconds (UTC) unless named _ns.  Every function returns
 * 0 (or a documented positive value) or a negative errno with err naming
 * the database and what failed.  Honeypot addresses are stored here: the
 * database never leaves the central server.
 */
#ifndef VIGIA_DB_H
#define VIGIA_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto-decode.h"
#include "stats-agg.h"
#include "vg-err.h"

struct db;

/* Same order as enum an_category. */
enum db_category { DB_TCP_PORT = 0, DB_UDP_PORT, DB_COUNTRY, DB_OS, DB_NCATS };
/* "tcp_port", "udp_port", "country", "os" (the category column). */
const char *db_category_name(enum db_category c);

/* Open (creating when absent) and bring the schema up to date: every
 * migration newer than the file's PRAGMA user_version runs in order, each
 * in its own transaction.  `target` is a file path. */
int db_open(struct db **out, const char *target, struct vg_err *err);
void db_close(struct db *db);
/* Schema version now in force (== db_schema_latest() after db_open). */
int db_schema_version(struct db *db);
int db_schema_latest(void);

/* One write transaction at a time across processes: db_begin waits (busy
 * timeout) for another writer to finish. */
int db_begin(struct db *db, struct vg_err *err);
int db_commit(struct db *db, struct vg_err *err);
void db_rollback(struct db *db);

/* Settings of the database (`meta` table): e.g. "bin_seconds".
 * db_meta_get returns 1 when found, 0 when absent. */
int db_meta_get(struct db *db, const char *key, char *buf, size_t len, struct vg_err *err);
int db_meta_set(struct db *db, const char *key, const char *value, struct vg_err *err);

/* The sensor's id: `want` (the config's numeric id) or, when 0, the id
 * already stored for the name, else the next free one.  Fails when the
 * name is stored under another id, or the id under another name. */
int db_sensor_ensure(struct db *db, const char *name, uint32_t want, uint32_t *id,
		     struct vg_err *err);

/* ---- ingested files ---------------------------------------------------- */
struct db_file {
	uint32_t sensor_id;
	const char *path;           /* relative to the archive */
	const char *sha256;         /* 64 lower-case hex digits, of the stored bytes */
	uint64_t size;
	const char *kind;           /* "pcap", "pflog", "honeyd" */
	int64_t ingested_at;
	bool damaged;
	const char *message;        /* NULL when not damaged */
	uint64_t frames, packets, bytes;
	uint64_t first_ns, last_ns; /* counted packets; 0 when none */
};
enum db_file_state { DB_FILE_NEW = 0, DB_FILE_SAME = 1, DB_FILE_CHANGED = 2 };
/* Whether `path` was ingested, with this content or another. */
int db_file_state(struct db *db, const char *path, const char *sha256, struct vg_err *err);
int db_file_add(struct db *db, const struct db_file *f, struct vg_err *err);

/* ---- per-bin counts ---------------------------------------------------- */
struct db_bin {
	int64_t start;              /* bin start, a multiple of bin_seconds */
	uint32_t sensor_id;
	enum db_category cat;
	const char *key;            /* "445", "BR", "--", "Windows XP", "unknown" */
	uint64_t packets, bytes;
};
/* Add to the row (creating it at zero). */
int db_bin_add(struct db *db, const struct db_bin *b, struct vg_err *err);

/* OS labels met so far: `ord` is the p0f database's label id (ties in a
 * top 10 are broken by it, as `vigia analyze` does); "unknown" is last. */
#define DB_OS_UNKNOWN_ORD 1000000u
int db_os_label(struct db *db, const char *label, unsigned ord, bool windows,
		struct vg_err *err);

/* ---- per-source daily activity ----------------------------------------- */
/* Destination ports as one set: TCP as the port, UDP as 65536 + port. */
#define DB_PORT_TCP(p) ((uint32_t)(p))
#define DB_PORT_UDP(p) (65536u + (uint32_t)(p))

struct db_source_day {
	int64_t day;                /* 00:00 UTC of the day */
	struct vg_ip ip;
	uint64_t packets, bytes;
	int64_t first_s, last_s;
	char os[64];                /* label at the source's last packet of the day */
	char country[3];            /* "BR", "--" */
	uint32_t *ports;            /* sorted, unique; malloc'ed */
	size_t nports;
	uint32_t *sensors;          /* sorted, unique sensor ids; malloc'ed */
	size_t nsensors;
};
/* Add one pass's activity of (day, ip) to the stored row: sums, unions,
 * min/max of times; os and country from the later of the two. */
int db_source_day_merge(struct db *db, const struct db_source_day *s, struct vg_err *err);
/* 1 and *out filled (free with db_source_day_clear), or 0 when absent. */
int db_source_day_get(struct db *db, int64_t day, const struct vg_ip *ip,
		      struct db_source_day *out, struct vg_err *err);
void db_source_day_clear(struct db_source_day *s);

/* ---- per-source state carried from file to file ------------------------ */
/* The label of the source's latest SYN (see docs/database.md). 1 found. */
int db_host_os_get(struct db *db, const struct vg_ip *ip, char *buf, size_t len,
		   struct vg_err *err);
int db_host_os_set(struct db *db, const struct vg_ip *ip, const char *label,
		   struct vg_err *err);

/* ---- queries ------------------------------------------------------------ */
struct db_range {
	int64_t from, to;           /* bins with from <= start < to */
	uint32_t sensor_id;         /* 0: every sensor */
};

#define DB_TOP_MAX 64
struct db_top_entry {
	char key[64];
	uint64_t packets, bytes;
};
struct db_top {
	size_t n;
	struct db_top_entry e[DB_TOP_MAX];
	struct db_top_entry others; /* the rest of the category ("Others") */
	struct db_top_entry total;
};
/* The top n (<= DB_TOP_MAX) keys by measure m over the range, ranked and
 * tie-broken exactly as `vigia analyze` ranks them (an-report.h views).
 * os_filter: 0 every label, 1 Windows labels only, 2 the others. */
int db_top(struct db *db, const struct db_range *r, enum db_category c, int os_filter,
	   enum stats_measure m, size_t n, struct db_top *out, struct vg_err *err);

/* Every bin row of a category in the range, summed over sensors when
 * r->sensor_id is 0, ordered by start then key. */
typedef int (*db_bin_cb)(int64_t start, const char *key, uint64_t packets, uint64_t bytes,
			 void *ctx);
int db_bins_foreach(struct db *db, const struct db_range *r, enum db_category c,
		    db_bin_cb cb, void *ctx, struct vg_err *err);

/* ---- issue 6: reads for `vigia stats` ---------------------------------- */
/* Every OS label stored, with its p0f label id and `win` class: the
 * windows_os / other_os series need the class of every label, not only
 * of the top 10.  A label absent from os_label counts as not Windows, as
 * db_top does. */
typedef int (*db_os_label_cb)(const char *label, unsigned ord, bool windows, void *ctx);
int db_os_labels_foreach(struct db *db, db_os_label_cb cb, void *ctx, struct vg_err *err);
/* Smallest and largest bin start stored.  Returns 1 when found, 0 when
 * the database holds no bins. */
int db_bin_span(struct db *db, int64_t *first, int64_t *last, struct vg_err *err);
/* Every bin row of a category in the range as stored: one per sensor, not
 * summed, in storage order (by start).  Much cheaper than
 * db_bins_foreach over a month, for callers that add rows up anyway. */
int db_bins_raw_foreach(struct db *db, const struct db_range *r, enum db_category c,
			db_bin_cb cb, void *ctx, struct vg_err *err);

/* ---- issue 7: the members' summary and its sent-log -------------------- */
/* One source_day row as stored (ports in set form: db_set_decode). */
struct db_source_row {
	int64_t day;
	const char *ip;             /* inet_ntop text */
	uint64_t packets, bytes;
	int64_t first_s, last_s;
	const char *os, *country;
	uint32_t nports, nsensors;
	const uint8_t *ports;
	size_t ports_len;
	const char *sensors;        /* "1,4,9" */
};
typedef int (*db_source_row_cb)(const struct db_source_row *r, void *ctx);
/* Every source_day row with from <= day < to, in no particular order.
 * A non-zero return of cb stops the walk and is returned. */
int db_source_rows_foreach(struct db *db, int64_t from, int64_t to, db_source_row_cb cb,
			   void *ctx, struct vg_err *err);
/* Totals per key of a category over a range, unranked. */
typedef int (*db_key_total_cb)(const char *key, uint64_t packets, uint64_t bytes, void *ctx);
int db_key_totals(struct db *db, const struct db_range *r, enum db_category c,
		  db_key_total_cb cb, void *ctx, struct vg_err *err);
/* Sensor health stored by `vigia status` (table health_check, when it
 * exists) with from <= time < to: per sensor name and check, the latest
 * state and message and the worst state (0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN).
 * Returns 1 when the table exists, 0 when it does not. */
typedef int (*db_health_cb)(const char *sensor, const char *check, int last_state,
			    int worst_state, const char *message, void *ctx);
int db_health_foreach(struct db *db, double from, double to, db_health_cb cb, void *ctx,
		      struct vg_err *err);
/* The sent-log: one row per (day, member) once its message was accepted.
 * get returns 1 and the Message-ID when sent, 0 when not. */
int db_mail_sent_get(struct db *db, int64_t day, const char *member, char *msgid, size_t len,
		     struct vg_err *err);
int db_mail_sent_add(struct db *db, int64_t day, const char *member, const char *msgid,
		     int64_t sent_at, struct vg_err *err);

/* ---- helpers ------------------------------------------------------------- */
/* The compact form of a sorted set of uint32 (ports, ids) as stored:
 * LEB128 varints of the gaps.  encode returns a malloc'ed buffer. */
int db_set_encode(const uint32_t *v, size_t n, uint8_t **out, size_t *len);
/* Returns the count, or -EINVAL when the bytes are not a valid set. */
int db_set_decode(const uint8_t *buf, size_t len, uint32_t **out, size_t *n);
/* Union of two sorted sets into a new malloc'ed one. */
int db_set_union(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
		 uint32_t **out, size_t *n);

/* ---- issue 8: incidents -------------------------------------------------- */
/* One incident per (day, source, category, name); see docs/rules.md. */
struct db_incident {
	int64_t day;
	struct vg_ip ip;
	const char *category, *name;
	const char *taxonomy, *type;    /* IntelMQ classification.taxonomy / .type */
	uint32_t sid;                   /* first rule that fired; 0: a detector */
	int64_t first_s, last_s;
	uint64_t count;
	const uint32_t *ports;          /* sorted set, DB_PORT_TCP/UDP */
	size_t nports;
	const uint32_t *sensors;        /* sorted sensor ids */
	size_t nsensors;
};
/* Sanitized evidence: honeypot addresses already replaced by tokens. */
struct db_evidence {
	int64_t time_ns;
	uint32_t sensor_id;
	const char *line, *excerpt;
};
#define DB_EVIDENCE_MAX 5
/* Add to the stored incident (creating it): count summed, first/last
 * min/max, ports and sensors united; evidence kept up to DB_EVIDENCE_MAX
 * rows per incident. */
int db_incident_merge(struct db *db, const struct db_incident *in,
		      const struct db_evidence *ev, size_t nev, struct vg_err *err);
/* Remove a day's incidents and their evidence (before re-classifying it). */
int db_incidents_clear_day(struct db *db, int64_t day, struct vg_err *err);
/* Every incident with from <= day < to, ordered by day, source, category,
 * name; ports/sensors valid during the call only. */
typedef int (*db_incident_cb)(const struct db_incident *in, void *ctx);
int db_incidents_foreach(struct db *db, int64_t from, int64_t to, db_incident_cb cb,
			 void *ctx, struct vg_err *err);

/* ---- issue 8: abuse contacts and notifications ----------------------------- */
/* The contact lookup's cache: one row per network answered by a registry
 * (lo..hi inclusive, one family), with an empty address when the registry
 * named none.  get returns 1 and the most specific live row holding ip. */
int db_contact_cache_get(struct db *db, const struct vg_ip *ip, int64_t now, char *email,
			 size_t elen, char *via, size_t vlen, struct vg_err *err);
int db_contact_cache_put(struct db *db, const struct vg_ip *lo, const struct vg_ip *hi,
			 const char *email, const char *via, const char *server, int64_t fetched,
			 int64_t expires, struct vg_err *err);
/* Every notice sent: one row per (source, category) in a message. */
struct db_notification {
	int64_t day;                /* the incidents' day */
	const char *ip, *category;
	uint64_t count;             /* the incidents' packets that day */
	const char *contact, *via;  /* address; "alliance", "rdap" or "whois" */
	const char *message_id;
	int64_t sent_at;
	const char *delivery;       /* "smtp" or "outbox" */
};
int db_notification_add(struct db *db, const struct db_notification *n, struct vg_err *err);
/* The latest notice for (ip, category) with day >= since: 1 and its day
 * and count, or 0. */
int db_notification_last(struct db *db, const char *ip, const char *category, int64_t since,
			 int64_t *day, uint64_t *count, struct vg_err *err);
typedef int (*db_notification_cb)(const struct db_notification *n, void *ctx);
/* In order of sending. */
int db_notifications_foreach(struct db *db, db_notification_cb cb, void *ctx,
			     struct vg_err *err);
/* The evidence of one incident, oldest first. */
typedef int (*db_evidence_cb)(const struct db_evidence *ev, void *ctx);
int db_evidence_foreach(struct db *db, int64_t day, const struct vg_ip *ip,
			const char *category, const char *name, db_evidence_cb cb, void *ctx,
			struct vg_err *err);

/* ---- issue 9: early warning ---------------------------------------------- */
/* Per (start, kind, key): distinct sources (a sketch), packets, sensors
 * and the first source networks; see docs/early-warning.md. */
#define DB_EW_NETS_MAX 4
struct db_ew_bin {
	int64_t start;
	const char *kind;           /* "port", "sig", "country", "net", "asn" */
	const char *key;            /* "1434/udp", "Slammer", "BR", "198.51.0.0/16", "AS28573" */
	uint64_t packets;
	const uint8_t *sketch;      /* ew_sketch_encode form */
	size_t sketch_len;
	const uint8_t *sensors;     /* db_set_encode form of the sensor ids */
	size_t sensors_len;
	const char *nets;           /* up to DB_EW_NETS_MAX source networks, "a,b" */
};
/* Add n rows to the stored ones (inside the caller's transaction):
 * sketches and sensor sets united, packets summed, networks kept in order
 * of arrival up to DB_EW_NETS_MAX. */
int db_ew_bins_merge(struct db *db, const struct db_ew_bin *rows, size_t n, struct vg_err *err);
/* Every row with from <= start < to, ordered by kind, key, start. */
typedef int (*db_ew_bin_cb)(const struct db_ew_bin *b, void *ctx);
int db_ew_bins_foreach(struct db *db, int64_t from, int64_t to, db_ew_bin_cb cb, void *ctx,
		       struct vg_err *err);
/* The key's latest bin with from <= start < to: 1 and *start, or 0. */
int db_ew_last_seen(struct db *db, const char *kind, const char *key, int64_t from, int64_t to,
		    int64_t *start, struct vg_err *err);
/* First and last bin start of any key: 1, or 0 when there are none. */
int db_ew_span(struct db *db, int64_t *first, int64_t *last, struct vg_err *err);
/* One alert of `vigia watch`; ended 0 while active. */
struct db_ew_alert {
	int64_t id;                 /* 0: not stored yet */
	const char *kind, *key;
	const char *conds;          /* "new,growth,spread" */
	int64_t began, raised, ended;
	uint32_t calm;              /* bins in a row without a condition */
	double sources, packets, sensors, baseline, factor, peak;
	const char *nets;
};
typedef int (*db_ew_alert_cb)(const struct db_ew_alert *a, void *ctx);
/* Every active alert (ended 0). */
int db_ew_alerts_active(struct db *db, db_ew_alert_cb cb, void *ctx, struct vg_err *err);
/* Insert (id 0: a->id set) or update by id. */
int db_ew_alert_put(struct db *db, struct db_ew_alert *a, struct vg_err *err);

#endif
