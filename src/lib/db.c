/* db.c: the backend-neutral half of the database interface: dispatch to
 * the backend, the stored set form, the merge rules of per-source rows and
 * the top-N ranking, so that each backend only stores and sums. */
#include "db.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db-backend.h"

static const char *const cat_names[DB_NCATS] = {"tcp_port", "udp_port", "country", "os"};

const char *db_category_name(enum db_category c)
{
	return (unsigned)c < DB_NCATS ? cat_names[c] : "?";
}

int db_open(struct db **out, const char *target, struct vg_err *err)
{
	*out = NULL;
	if (!strncmp(target, "postgresql:", 11) || !strncmp(target, "postgres:", 9))
		return vg_err_set(err, -ENOTSUP, "%s: this vigia has no PostgreSQL backend", target);
	return db_sqlite_open(out, target, err);
}

void db_close(struct db *db)
{
	if (db)
		db->ops->close(db);
}

int db_schema_version(struct db *db) { return db->ops->schema_version(db); }
int db_schema_latest(void) { return db_sqlite_latest(); }
int db_begin(struct db *db, struct vg_err *err) { return db->ops->begin(db, err); }
int db_commit(struct db *db, struct vg_err *err) { return db->ops->commit(db, err); }
void db_rollback(struct db *db) { db->ops->rollback(db); }

int db_meta_get(struct db *db, const char *key, char *buf, size_t len, struct vg_err *err)
{
	return db->ops->meta_get(db, key, buf, len, err);
}

int db_meta_set(struct db *db, const char *key, const char *value, struct vg_err *err)
{
	return db->ops->meta_set(db, key, value, err);
}

int db_sensor_ensure(struct db *db, const char *name, uint32_t want, uint32_t *id,
		     struct vg_err *err)
{
	return db->ops->sensor_ensure(db, name, want, id, err);
}

int db_file_state(struct db *db, const char *path, const char *sha256, struct vg_err *err)
{
	return db->ops->file_state(db, path, sha256, err);
}

int db_file_add(struct db *db, const struct db_file *f, struct vg_err *err)
{
	return db->ops->file_add(db, f, err);
}

int db_bin_add(struct db *db, const struct db_bin *b, struct vg_err *err)
{
	if ((unsigned)b->cat >= DB_NCATS)
		return vg_err_set(err, -EINVAL, "bad category %d", (int)b->cat);
	return db->ops->bin_add(db, b, err);
}

int db_os_label(struct db *db, const char *label, unsigned ord, bool windows,
		struct vg_err *err)
{
	return db->ops->os_label(db, label, ord, windows, err);
}

int db_host_os_get(struct db *db, const struct vg_ip *ip, char *buf, size_t len,
		   struct vg_err *err)
{
	return db->ops->host_os_get(db, ip, buf, len, err);
}

int db_host_os_set(struct db *db, const struct vg_ip *ip, const char *label,
		   struct vg_err *err)
{
	return db->ops->host_os_set(db, ip, label, err);
}

int db_bins_foreach(struct db *db, const struct db_range *r, enum db_category c,
		    db_bin_cb cb, void *ctx, struct vg_err *err)
{
	return db->ops->bins_foreach(db, r, c, cb, ctx, err);
}

/* ---- issue 6: reads for `vigia stats` ---------------------------------- */

int db_os_labels_foreach(struct db *db, db_os_label_cb cb, void *ctx, struct vg_err *err)
{
	return db->ops->os_labels_foreach(db, cb, ctx, err);
}

int db_bin_span(struct db *db, int64_t *first, int64_t *last, struct vg_err *err)
{
	*first = *last = 0;
	return db->ops->bin_span(db, first, last, err);
}

int db_bins_raw_foreach(struct db *db, const struct db_range *r, enum db_category c,
			db_bin_cb cb, void *ctx, struct vg_err *err)
{
	if ((unsigned)c >= DB_NCATS)
		return vg_err_set(err, -EINVAL, "bad category %d", (int)c);
	return db->ops->bins_raw_foreach(db, r, c, cb, ctx, err);
}

/* ---- sets ------------------------------------------------------------- */

int db_set_encode(const uint32_t *v, size_t n, uint8_t **out, size_t *len)
{
	/* 5 bytes is the longest LEB128 of a uint32 gap. */
	uint8_t *b = malloc(n * 5 + 1);
	if (!b)
		return -ENOMEM;
	size_t w = 0;
	uint32_t prev = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && v[i] <= prev) {
			free(b);
			return -EINVAL;
		}
		uint32_t gap = i ? v[i] - prev : v[i];
		prev = v[i];
		do {
			uint8_t byte = gap & 0x7f;
			gap >>= 7;
			b[w++] = byte | (gap ? 0x80 : 0);
		} while (gap);
	}
	*out = b;
	*len = w;
	return 0;
}

int db_set_decode(const uint8_t *buf, size_t len, uint32_t **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	/* At most one value per byte. */
	uint32_t *v = malloc((len ? len : 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	size_t cnt = 0, i = 0;
	uint64_t prev = 0;
	while (i < len) {
		uint64_t gap = 0;
		unsigned shift = 0;
		for (;;) {
			if (i >= len || shift > 28)
				goto bad;
			uint8_t byte = buf[i++];
			gap |= (uint64_t)(byte & 0x7f) << shift;
			shift += 7;
			if (!(byte & 0x80))
				break;
		}
		if (cnt && gap == 0)
			goto bad;
		uint64_t val = cnt ? prev + gap : gap;
		if (val > UINT32_MAX)
			goto bad;
		v[cnt++] = (uint32_t)val;
		prev = val;
	}
	*out = v;
	*n = cnt;
	return (int)(cnt > INT32_MAX ? INT32_MAX : cnt);
bad:
	free(v);
	return -EINVAL;
}

int db_set_union(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
		 uint32_t **out, size_t *n)
{
	uint32_t *v = malloc((na + nb ? na + nb : 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	size_t i = 0, j = 0, w = 0;
	while (i < na || j < nb) {
		if (j >= nb || (i < na && a[i] < b[j]))
			v[w++] = a[i++];
		else if (i >= na || b[j] < a[i])
			v[w++] = b[j++];
		else {
			v[w++] = a[i++];
			j++;
		}
	}
	*out = v;
	*n = w;
	return 0;
}

/* ---- per-source rows ---------------------------------------------------- */

void db_source_day_clear(struct db_source_day *s)
{
	free(s->ports);
	free(s->sensors);
	s->ports = s->sensors = NULL;
	s->nports = s->nsensors = 0;
}

int db_source_day_get(struct db *db, int64_t day, const struct vg_ip *ip,
		      struct db_source_day *out, struct vg_err *err)
{
	memset(out, 0, sizeof *out);
	return db->ops->source_day_get(db, day, ip, out, err);
}

int db_source_day_merge(struct db *db, const struct db_source_day *s, struct vg_err *err)
{
	struct db_source_day old;
	int r = db_source_day_get(db, s->day, &s->ip, &old, err);
	if (r < 0)
		return r;
	if (r == 0)
		return db->ops->source_day_put(db, s, err);
	struct db_source_day m = old;
	m.ports = m.sensors = NULL;
	m.packets += s->packets;
	m.bytes += s->bytes;
	if (s->first_s < m.first_s)
		m.first_s = s->first_s;
	/* The label and country at the source's last packet of the day. */
	if (s->last_s >= m.last_s) {
		m.last_s = s->last_s;
		memcpy(m.os, s->os, sizeof m.os);
		memcpy(m.country, s->country, sizeof m.country);
	}
	r = db_set_union(old.ports, old.nports, s->ports, s->nports, &m.ports, &m.nports);
	if (!r)
		r = db_set_union(old.sensors, old.nsensors, s->sensors, s->nsensors,
				 &m.sensors, &m.nsensors);
	if (r)
		r = vg_err_set(err, r, "out of memory merging a source's activity");
	else
		r = db->ops->source_day_put(db, &m, err);
	db_source_day_clear(&m);
	db_source_day_clear(&old);
	return r;
}

/* ---- top N ------------------------------------------------------------- */

struct sum_item {
	char key[64];
	uint64_t packets, bytes;
	unsigned ord;
	bool windows;
};

struct sums {
	struct sum_item *v;
	size_t n, cap;
	int os_filter;
	int err;
};

static int collect_sum(const struct db_key_sum *s, void *ctx)
{
	struct sums *ss = ctx;
	if (ss->os_filter == 1 && !s->windows)
		return 0;
	if (ss->os_filter == 2 && s->windows)
		return 0;
	if (ss->n == ss->cap) {
		size_t cap = ss->cap ? ss->cap * 2 : 256;
		struct sum_item *nv = realloc(ss->v, cap * sizeof *nv);
		if (!nv)
			return ss->err = -ENOMEM;
		ss->v = nv;
		ss->cap = cap;
	}
	struct sum_item *it = &ss->v[ss->n++];
	memset(it, 0, sizeof *it);
	strncpy(it->key, s->key, sizeof it->key - 1);
	it->packets = s->packets;
	it->bytes = s->bytes;
	it->ord = s->ord;
	it->windows = s->windows;
	return 0;
}

struct sort_ctx {
	enum db_category cat;
	enum stats_measure measure;
};

/* The order of an-engine's dense keys: ports numerically, countries by
 * their packed code (= text order), OS labels by label id. */
static int key_order(const struct sum_item *x, const struct sum_item *y, enum db_category cat)
{
	switch (cat) {
	case DB_TCP_PORT:
	case DB_UDP_PORT: {
		unsigned long a = strtoul(x->key, NULL, 10), b = strtoul(y->key, NULL, 10);
		return (a > b) - (a < b);
	}
	case DB_OS:
		if (x->ord != y->ord)
			return (x->ord > y->ord) - (x->ord < y->ord);
		return strcmp(x->key, y->key);
	default:
		return strcmp(x->key, y->key);
	}
}

static int cmp_rank(const void *a, const void *b, void *arg)
{
	const struct sum_item *x = a, *y = b;
	const struct sort_ctx *sc = arg;
	uint64_t vx = sc->measure == STATS_BYTES ? x->bytes : x->packets;
	uint64_t vy = sc->measure == STATS_BYTES ? y->bytes : y->packets;
	if (vx != vy)
		return vx < vy ? 1 : -1;
	return key_order(x, y, sc->cat);
}

int db_top(struct db *db, const struct db_range *r, enum db_category c, int os_filter,
	   enum stats_measure m, size_t n, struct db_top *out, struct vg_err *err)
{
	memset(out, 0, sizeof *out);
	strcpy(out->others.key, "Others");
	strcpy(out->total.key, "total");
	if ((unsigned)c >= DB_NCATS)
		return vg_err_set(err, -EINVAL, "bad category %d", (int)c);
	if (n > DB_TOP_MAX)
		n = DB_TOP_MAX;
	struct sums ss = {.os_filter = c == DB_OS ? os_filter : 0};
	int rc = db->ops->key_sums(db, r, c, collect_sum, &ss, err);
	if (!rc && ss.err)
		rc = vg_err_set(err, ss.err, "out of memory ranking %s", db_category_name(c));
	if (rc) {
		free(ss.v);
		return rc;
	}
	struct sort_ctx sc = {c, m};
	if (ss.n)
		qsort_r(ss.v, ss.n, sizeof *ss.v, cmp_rank, &sc);
	for (size_t i = 0; i < ss.n; i++) {
		out->total.packets += ss.v[i].packets;
		out->total.bytes += ss.v[i].bytes;
		if (i < n) {
			struct db_top_entry *e = &out->e[out->n++];
			memcpy(e->key, ss.v[i].key, sizeof e->key);
			e->packets = ss.v[i].packets;
			e->bytes = ss.v[i].bytes;
		} else {
			out->others.packets += ss.v[i].packets;
			out->others.bytes += ss.v[i].bytes;
		}
	}
	free(ss.v);
	return 0;
}

/* ---- issue 7: the members' summary -------------------------------------- */

int db_source_rows_foreach(struct db *db, int64_t from, int64_t to, db_source_row_cb cb,
			   void *ctx, struct vg_err *err)
{
	return db->ops->source_rows_foreach(db, from, to, cb, ctx, err);
}

struct key_total_ctx {
	db_key_total_cb cb;
	void *ctx;
};

static int key_total_relay(const struct db_key_sum *s, void *ctx)
{
	struct key_total_ctx *k = ctx;
	return k->cb(s->key, s->packets, s->bytes, k->ctx);
}

int db_key_totals(struct db *db, const struct db_range *r, enum db_category c,
		  db_key_total_cb cb, void *ctx, struct vg_err *err)
{
	if ((unsigned)c >= DB_NCATS)
		return vg_err_set(err, -EINVAL, "bad category %d", (int)c);
	struct key_total_ctx k = {cb, ctx};
	return db->ops->key_sums(db, r, c, key_total_relay, &k, err);
}

int db_health_foreach(struct db *db, double from, double to, db_health_cb cb, void *ctx,
		      struct vg_err *err)
{
	return db->ops->health_foreach(db, from, to, cb, ctx, err);
}

int db_mail_sent_get(struct db *db, int64_t day, const char *member, char *msgid, size_t len,
		     struct vg_err *err)
{
	return db->ops->mail_sent_get(db, day, member, msgid, len, err);
}

int db_mail_sent_add(struct db *db, int64_t day, const char *member, const char *msgid,
		     int64_t sent_at, struct vg_err *err)
{
	return db->ops->mail_sent_add(db, day, member, msgid, sent_at, err);
}

/* ---- issue 8: incidents ---------------------------------------------------- */

int db_incident_merge(struct db *db, const struct db_incident *in,
		      const struct db_evidence *ev, size_t nev, struct vg_err *err)
{
	return db->ops->incident_merge(db, in, ev, nev, err);
}

int db_incidents_clear_day(struct db *db, int64_t day, struct vg_err *err)
{
	return db->ops->incidents_clear_day(db, day, err);
}

int db_incidents_foreach(struct db *db, int64_t from, int64_t to, db_incident_cb cb,
			 void *ctx, struct vg_err *err)
{
	return db->ops->incidents_foreach(db, from, to, cb, ctx, err);
}

/* ---- issue 8: abuse contacts and notifications ----------------------------- */

int db_contact_cache_get(struct db *db, const struct vg_ip *ip, int64_t now, char *email,
			 size_t elen, char *via, size_t vlen, struct vg_err *err)
{
	return db->ops->contact_cache_get(db, ip, now, email, elen, via, vlen, err);
}

int db_contact_cache_put(struct db *db, const struct vg_ip *lo, const struct vg_ip *hi,
			 const char *email, const char *via, const char *server, int64_t fetched,
			 int64_t expires, struct vg_err *err)
{
	return db->ops->contact_cache_put(db, lo, hi, email, via, server, fetched, expires, err);
}

int db_notification_add(struct db *db, const struct db_notification *n, struct vg_err *err)
{
	return db->ops->notification_add(db, n, err);
}

int db_notification_last(struct db *db, const char *ip, const char *category, int64_t since,
			 int64_t *day, uint64_t *count, struct vg_err *err)
{
	return db->ops->notification_last(db, ip, category, since, day, count, err);
}

int db_notifications_foreach(struct db *db, db_notification_cb cb, void *ctx,
			     struct vg_err *err)
{
	return db->ops->notifications_foreach(db, cb, ctx, err);
}

int db_evidence_foreach(struct db *db, int64_t day, const struct vg_ip *ip,
			const char *category, const char *name, db_evidence_cb cb, void *ctx,
			struct vg_err *err)
{
	return db->ops->evidence_foreach(db, day, ip, category, name, cb, ctx, err);
}

/* ---- issue 9: early warning ------------------------------------------------ */

/* Networks "a,b,c" of `add` appended to those of `stored` that are not
 * there yet, up to DB_EW_NETS_MAX: the first networks seen stay first. */
static void nets_union(const char *stored, const char *add, char *out, size_t len)
{
	size_t w = 0, n = 0;
	out[0] = 0;
	const char *lists[2] = {stored ? stored : "", add ? add : ""};
	for (int l = 0; l < 2; l++) {
		const char *p = lists[l];
		while (*p && n < DB_EW_NETS_MAX) {
			const char *e = strchr(p, ',');
			size_t tl = e ? (size_t)(e - p) : strlen(p);
			bool dup = false;
			for (const char *q = out; *q && tl;) {
				const char *qe = strchr(q, ',');
				size_t ql = qe ? (size_t)(qe - q) : strlen(q);
				if (ql == tl && !memcmp(q, p, tl))
					dup = true;
				q += ql + (qe ? 1 : 0);
			}
			if (tl && !dup && w + tl + 2 <= len) {
				if (w)
					out[w++] = ',';
				memcpy(out + w, p, tl);
				w += tl;
				out[w] = 0;
				n++;
			}
			p += tl + (e ? 1 : 0);
		}
	}
}

static int ew_merge(const struct db_ew_bin *stored, const struct db_ew_bin *add,
		    struct db_ew_bin *out, struct db_ew_scratch *sc)
{
	struct ew_sketch a, b;
	if (ew_sketch_decode(&a, stored->sketch, stored->sketch_len) ||
	    ew_sketch_decode(&b, add->sketch, add->sketch_len))
		return -EINVAL;
	ew_sketch_merge(&a, &b);
	*out = *add;
	out->packets = stored->packets + add->packets;
	out->sketch_len = ew_sketch_encode(&a, sc->sketch, sizeof sc->sketch);
	out->sketch = sc->sketch;
	uint32_t *sa = NULL, *sb = NULL, *su = NULL;
	size_t na = 0, nb = 0, nu = 0;
	int r = -EINVAL;
	if (db_set_decode(stored->sensors, stored->sensors_len, &sa, &na) < 0 ||
	    db_set_decode(add->sensors, add->sensors_len, &sb, &nb) < 0)
		goto out;
	r = -ENOMEM;
	size_t len;
	if (db_set_union(sa, na, sb, nb, &su, &nu) ||
	    db_set_encode(su, nu, &sc->sensors_buf, &len))
		goto out;
	out->sensors = sc->sensors_buf;
	out->sensors_len = len;
	nets_union(stored->nets, add->nets, sc->nets, sizeof sc->nets);
	out->nets = sc->nets;
	r = 0;
out:
	free(sa);
	free(sb);
	free(su);
	return r;
}

int db_ew_bins_merge(struct db *db, const struct db_ew_bin *rows, size_t n, struct vg_err *err)
{
	return db->ops->ew_bins_merge(db, rows, n, ew_merge, err);
}

int db_ew_bins_foreach(struct db *db, int64_t from, int64_t to, db_ew_bin_cb cb, void *ctx,
		       struct vg_err *err)
{
	return db->ops->ew_bins_foreach(db, from, to, cb, ctx, err);
}

int db_ew_last_seen(struct db *db, const char *kind, const char *key, int64_t from, int64_t to,
		    int64_t *start, struct vg_err *err)
{
	return db->ops->ew_last_seen(db, kind, key, from, to, start, err);
}

int db_ew_span(struct db *db, int64_t *first, int64_t *last, struct vg_err *err)
{
	return db->ops->ew_span(db, first, last, err);
}

int db_ew_alerts_active(struct db *db, db_ew_alert_cb cb, void *ctx, struct vg_err *err)
{
	return db->ops->ew_alerts_active(db, cb, ctx, err);
}

int db_ew_alert_put(struct db *db, struct db_ew_alert *a, struct vg_err *err)
{
	return db->ops->ew_alert_put(db, a, err);
}
