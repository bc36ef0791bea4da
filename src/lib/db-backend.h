/* db-backend.h: what a database backend provides to db.c (private to
 * src/lib).  A backend's handle starts with `struct db`. */
#ifndef VIGIA_DB_BACKEND_H
#define VIGIA_DB_BACKEND_H

#include "db.h"
#include "ew-sketch.h"

struct db_key_sum {
	const char *key;
	uint64_t packets, bytes;
	unsigned ord;               /* DB_OS only: the label's ord */
	bool windows;               /* DB_OS only */
};
typedef int (*db_key_sum_cb)(const struct db_key_sum *s, void *ctx);

/* issue 9: the merged early-warning row's storage (db.c fills it). */
struct db_ew_scratch {
	uint8_t sketch[EW_SKETCH_BYTES_MAX];
	uint8_t *sensors_buf;       /* malloc'ed by the merge; freed by the backend */
	char nets[DB_EW_NETS_MAX * 48];
};

struct db_ops {
	void (*close)(struct db *db);
	int (*schema_version)(struct db *db);
	int (*begin)(struct db *db, struct vg_err *err);
	int (*commit)(struct db *db, struct vg_err *err);
	void (*rollback)(struct db *db);
	int (*meta_get)(struct db *db, const char *key, char *buf, size_t len, struct vg_err *err);
	int (*meta_set)(struct db *db, const char *key, const char *value, struct vg_err *err);
	int (*sensor_ensure)(struct db *db, const char *name, uint32_t want, uint32_t *id,
			     struct vg_err *err);
	int (*file_state)(struct db *db, const char *path, const char *sha256, struct vg_err *err);
	int (*file_add)(struct db *db, const struct db_file *f, struct vg_err *err);
	int (*bin_add)(struct db *db, const struct db_bin *b, struct vg_err *err);
	int (*os_label)(struct db *db, const char *label, unsigned ord, bool windows,
			struct vg_err *err);
	/* Rows as stored: ports and sensors already in set form. */
	int (*source_day_get)(struct db *db, int64_t day, const struct vg_ip *ip,
			      struct db_source_day *out, struct vg_err *err);
	int (*source_day_put)(struct db *db, const struct db_source_day *s, struct vg_err *err);
	int (*host_os_get)(struct db *db, const struct vg_ip *ip, char *buf, size_t len,
			   struct vg_err *err);
	int (*host_os_set)(struct db *db, const struct vg_ip *ip, const char *label,
			   struct vg_err *err);
	/* Totals per key of a category over a range. */
	int (*key_sums)(struct db *db, const struct db_range *r, enum db_category c,
			db_key_sum_cb cb, void *ctx, struct vg_err *err);
	int (*bins_foreach)(struct db *db, const struct db_range *r, enum db_category c,
			    db_bin_cb cb, void *ctx, struct vg_err *err);
	/* issue 6 (vigia stats) */
	int (*os_labels_foreach)(struct db *db, db_os_label_cb cb, void *ctx,
				 struct vg_err *err);
	int (*bin_span)(struct db *db, int64_t *first, int64_t *last, struct vg_err *err);
	int (*bins_raw_foreach)(struct db *db, const struct db_range *r, enum db_category c,
				db_bin_cb cb, void *ctx, struct vg_err *err);
	/* issue 7 (vigia summary) */
	int (*source_rows_foreach)(struct db *db, int64_t from, int64_t to, db_source_row_cb cb,
				   void *ctx, struct vg_err *err);
	int (*health_foreach)(struct db *db, double from, double to, db_health_cb cb, void *ctx,
			      struct vg_err *err);
	int (*mail_sent_get)(struct db *db, int64_t day, const char *member, char *msgid,
			     size_t len, struct vg_err *err);
	int (*mail_sent_add)(struct db *db, int64_t day, const char *member, const char *msgid,
			     int64_t sent_at, struct vg_err *err);
	/* issue 8 (incidents) */
	int (*incident_merge)(struct db *db, const struct db_incident *in,
			      const struct db_evidence *ev, size_t nev, struct vg_err *err);
	int (*incidents_clear_day)(struct db *db, int64_t day, struct vg_err *err);
	int (*incidents_foreach)(struct db *db, int64_t from, int64_t to, db_incident_cb cb,
				 void *ctx, struct vg_err *err);
	/* issue 8 (contacts and notifications) */
	int (*contact_cache_get)(struct db *db, const struct vg_ip *ip, int64_t now, char *email,
				 size_t elen, char *via, size_t vlen, struct vg_err *err);
	int (*contact_cache_put)(struct db *db, const struct vg_ip *lo, const struct vg_ip *hi,
				 const char *email, const char *via, const char *server,
				 int64_t fetched, int64_t expires, struct vg_err *err);
	int (*notification_add)(struct db *db, const struct db_notification *n, struct vg_err *err);
	int (*notification_last)(struct db *db, const char *ip, const char *category, int64_t since,
				 int64_t *day, uint64_t *count, struct vg_err *err);
	int (*notifications_foreach)(struct db *db, db_notification_cb cb, void *ctx,
				     struct vg_err *err);
	int (*evidence_foreach)(struct db *db, int64_t day, const struct vg_ip *ip,
				const char *category, const char *name, db_evidence_cb cb,
				void *ctx, struct vg_err *err);
	/* issue 9 (early warning): merge(stored, add, out, scratch) is db.c's
	 * union of two rows; out points into scratch, whose `sensors_buf`
	 * the backend frees. */
	int (*ew_bins_merge)(struct db *db, const struct db_ew_bin *rows, size_t n,
			     int (*merge)(const struct db_ew_bin *stored, const struct db_ew_bin *add,
					  struct db_ew_bin *out, struct db_ew_scratch *scratch),
			     struct vg_err *err);
	int (*ew_bins_foreach)(struct db *db, int64_t from, int64_t to, db_ew_bin_cb cb, void *ctx,
			       struct vg_err *err);
	int (*ew_last_seen)(struct db *db, const char *kind, const char *key, int64_t from,
			    int64_t to, int64_t *start, struct vg_err *err);
	int (*ew_span)(struct db *db, int64_t *first, int64_t *last, struct vg_err *err);
	int (*ew_alerts_active)(struct db *db, db_ew_alert_cb cb, void *ctx, struct vg_err *err);
	int (*ew_alert_put)(struct db *db, struct db_ew_alert *a, struct vg_err *err);
};

struct db {
	const struct db_ops *ops;
};

int db_sqlite_open(struct db **out, const char *path, struct vg_err *err);
int db_sqlite_latest(void);

#endif
