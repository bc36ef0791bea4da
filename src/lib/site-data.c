/* site-data.c: periods in the configured zone, and each view's top 10 and
 * series over a period, read from the database. */
#include "site-data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int site_tz_use(const char *zone, struct vg_err *err)
{
	if (!zone || !*zone || strlen(zone) > 200 || strstr(zone, ".."))
		return vg_err_set(err, -EINVAL, "time zone '%s': not a zone name", zone ? zone : "");
	/* glibc silently falls back to UTC for a zone it cannot find; a
	 * misspelt zone must fail, not draw UTC under another name. */
	if (strcmp(zone, "UTC") && strcmp(zone, "Etc/UTC")) {
		const char *dir = getenv("TZDIR");
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
		struct stat st;
		if (zone[0] == '/' || stat(path, &st) || !S_ISREG(st.st_mode))
			return vg_err_set(err, -ENOENT, "time zone '%s': no such zone in %s", zone,
					  dir && *dir ? dir : "/usr/share/zoneinfo");
	}
	if (setenv("TZ", zone, 1))
		return vg_err_set(err, -errno, "time zone '%s': cannot set TZ", zone);
	tzset();
	return 0;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int mdays(int y, int m)
{
	static const int n[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : n[m - 1];
}

int site_parse_date(const char *s, int *y, int *m, int *d)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -EINVAL;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -EINVAL;
	*y = atoi(s);
	*m = atoi(s + 5);
	*d = atoi(s + 8);
	if (*y < 1970 || *y > 9999 || *m < 1 || *m > 12 || *d < 1 || *d > mdays(*y, *m))
		return -EINVAL;
	return 0;
}

/* Local midnight of y-m-d (mday may run past the month: mktime folds it). */
static int64_t local_midnight(int y, int m, int d)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_isdst = -1};
	return (int64_t)mktime(&tm);
}

void site_local_date(int64_t t, int *y, int *m, int *d)
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	*y = tm.tm_year + 1900;
	*m = tm.tm_mon + 1;
	*d = tm.tm_mday;
}

/* The smallest multiple of `base` that is >= want. */
static int64_t bin_multiple(int64_t want, int64_t base)
{
	return base >= want ? base : (want + base - 1) / base * base;
}

int site_period_of(enum site_kind kind, int y, int m, int d, int64_t bin_seconds,
		   struct site_period *out, struct vg_err *err)
{
	memset(out, 0, sizeof *out);
	out->kind = kind;
	if (bin_seconds <= 0)
		return vg_err_set(err, -EINVAL, "bin width %lld: not positive", (long long)bin_seconds);
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12,
			.tm_isdst = -1};
	time_t noon = mktime(&tm);
	if (noon == (time_t)-1)
		return vg_err_set(err, -EINVAL, "date %04d-%02d-%02d: out of range", y, m, d);
	switch (kind) {
	case SITE_DAY:
		out->start = local_midnight(y, m, d);
		out->end = local_midnight(y, m, d + 1);
		out->bin = bin_seconds;
		snprintf(out->name, sizeof out->name, "%04d-%02d-%02d", y, m, d);
		break;
	case SITE_WEEK: {
		int back = (tm.tm_wday + 6) % 7; /* ISO weeks start on Monday */
		out->start = local_midnight(y, m, d - back);
		out->end = local_midnight(y, m, d - back + 7);
		out->bin = bin_multiple(3600, bin_seconds);
		strftime(out->name, sizeof out->name, "%G-W%V", &tm);
		break;
	}
	case SITE_MONTH:
		out->start = local_midnight(y, m, 1);
		out->end = local_midnight(y, m + 1, 1);
		out->bin = bin_multiple(21600, bin_seconds);
		snprintf(out->name, sizeof out->name, "%04d-%02d", y, m);
		break;
	default:
		return vg_err_set(err, -EINVAL, "bad period kind %d", (int)kind);
	}
	if (out->start == -1 || out->end <= out->start)
		return vg_err_set(err, -EINVAL, "period %s: cannot place it in the time zone",
				  out->name);
	out->nbins = (size_t)((out->end - out->start + out->bin - 1) / out->bin);
	return 0;
}

/* ---- loading ------------------------------------------------------------
 *
 * One scan of the bin rows per category and period (storage order, no
 * SQL grouping: a month is millions of rows, and GROUP BY sorts them);
 * keys are interned, totals summed, and each view ranked in memory with
 * the rule of db_top (src/lib/db.c), which is `vigia analyze`'s: measure
 * descending, then ports numerically, OS labels by p0f label id then
 * text, other keys as text.  test-site checks both rankings agree. */

struct label_info {
	char *label;
	unsigned ord;
	bool windows;
};

struct key_ent {
	uint32_t off;               /* into keys arena */
	uint32_t hash;
	uint64_t packets, bytes;
	unsigned ord;
	bool windows;
	unsigned long num;          /* ports: the number */
};

struct row {
	uint32_t bin, key;
	uint64_t packets, bytes;
};

struct agg {
	const struct site_period *p;
	enum db_category cat;
	const struct label_info *labels;
	size_t nlabels;
	char *arena;
	size_t alen, acap;
	struct key_ent *keys;
	size_t nkeys, kcap;
	uint32_t *slots;            /* open addressing: key index + 1, 0 empty */
	size_t nslots;
	struct row *rows;
	size_t nrows, rcap;
	int err;
};

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct label_info *)a)->label, ((const struct label_info *)b)->label);
}

static int grow_slots(struct agg *a)
{
	size_t n = a->nslots ? a->nslots * 2 : 1024;
	uint32_t *ns = calloc(n, sizeof *ns);
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < a->nkeys; i++) {
		size_t j = a->keys[i].hash & (n - 1);
		while (ns[j])
			j = (j + 1) & (n - 1);
		ns[j] = (uint32_t)i + 1;
	}
	free(a->slots);
	a->slots = ns;
	a->nslots = n;
	return 0;
}

/* Index of `key`, added when new; -ENOMEM. */
static long intern(struct agg *a, const char *key)
{
	uint32_t h = hash_str(key);
	if (a->nslots) {
		size_t j = h & (a->nslots - 1);
		while (a->slots[j]) {
			struct key_ent *e = &a->keys[a->slots[j] - 1];
			if (e->hash == h && !strcmp(a->arena + e->off, key))
				return (long)(a->slots[j] - 1);
			j = (j + 1) & (a->nslots - 1);
		}
	}
	if ((a->nkeys + 1) * 2 > a->nslots && grow_slots(a))
		return -ENOMEM;
	size_t len = strlen(key) + 1;
	if (a->alen + len > a->acap) {
		size_t cap = a->acap ? a->acap * 2 : 65536;
		while (cap < a->alen + len)
			cap *= 2;
		char *na = realloc(a->arena, cap);
		if (!na)
			return -ENOMEM;
		a->arena = na;
		a->acap = cap;
	}
	if (a->nkeys == a->kcap) {
		size_t cap = a->kcap ? a->kcap * 2 : 1024;
		struct key_ent *nk = realloc(a->keys, cap * sizeof *nk);
		if (!nk)
			return -ENOMEM;
		a->keys = nk;
		a->kcap = cap;
	}
	struct key_ent *e = &a->keys[a->nkeys];
	memset(e, 0, sizeof *e);
	e->off = (uint32_t)a->alen;
	e->hash = h;
	memcpy(a->arena + a->alen, key, len);
	a->alen += len;
	/* As db_top: a label never stored in os_label ranks last, as not
	 * Windows. */
	e->ord = DB_OS_UNKNOWN_ORD;
	if (a->cat == DB_OS) {
		struct label_info probe = {.label = (char *)key};
		const struct label_info *li = a->nlabels ? bsearch(&probe, a->labels, a->nlabels,
								  sizeof *a->labels, cmp_label) : NULL;
		if (li) {
			e->ord = li->ord;
			e->windows = li->windows;
		}
	} else if (a->cat == DB_TCP_PORT || a->cat == DB_UDP_PORT) {
		e->num = strtoul(key, NULL, 10);
	}
	size_t j = h & (a->nslots - 1);
	while (a->slots[j])
		j = (j + 1) & (a->nslots - 1);
	a->slots[j] = (uint32_t)a->nkeys + 1;
	return (long)a->nkeys++;
}

static int on_row(int64_t start, const char *key, uint64_t packets, uint64_t bytes, void *vctx)
{
	struct agg *a = vctx;
	if (start < a->p->start || start >= a->p->end)
		return 0;
	long k = intern(a, key);
	if (k < 0)
		return a->err = (int)k;
	a->keys[k].packets += packets;
	a->keys[k].bytes += bytes;
	if (a->nrows == a->rcap) {
		size_t cap = a->rcap ? a->rcap * 2 : 65536;
		struct row *nr = realloc(a->rows, cap * sizeof *nr);
		if (!nr)
			return a->err = -ENOMEM;
		a->rows = nr;
		a->rcap = cap;
	}
	a->rows[a->nrows++] = (struct row){(uint32_t)((start - a->p->start) / a->p->bin),
					   (uint32_t)k, packets, bytes};
	return 0;
}

struct rank_ctx {
	const struct agg *a;
	enum stats_measure m;
};

static int cmp_rank(const void *x, const void *y, void *vctx)
{
	const struct rank_ctx *rc = vctx;
	const struct key_ent *p = &rc->a->keys[*(const uint32_t *)x];
	const struct key_ent *q = &rc->a->keys[*(const uint32_t *)y];
	uint64_t vp = rc->m == STATS_BYTES ? p->bytes : p->packets;
	uint64_t vq = rc->m == STATS_BYTES ? q->bytes : q->packets;
	if (vp != vq)
		return vp < vq ? 1 : -1;
	switch (rc->a->cat) {
	case DB_TCP_PORT:
	case DB_UDP_PORT:
		return (p->num > q->num) - (p->num < q->num);
	case DB_OS:
		if (p->ord != q->ord)
			return (p->ord > q->ord) - (p->ord < q->ord);
		/* fall through */
	default:
		return strcmp(rc->a->arena + p->off, rc->a->arena + q->off);
	}
}

static void agg_free(struct agg *a)
{
	free(a->arena);
	free(a->keys);
	free(a->slots);
	free(a->rows);
}

/* One view from the category's aggregate: rank, top 10, series. */
static int fill_view(const struct agg *a, struct site_view *v, uint32_t *order, int32_t *rank)
{
	int filt = a->cat == DB_OS ? v->view->os_filter : 0;
	size_t n = 0;
	for (size_t i = 0; i < a->nkeys; i++) {
		if ((filt == 1 && !a->keys[i].windows) || (filt == 2 && a->keys[i].windows))
			continue;
		order[n++] = (uint32_t)i;
	}
	struct rank_ctx rc = {a, v->view->measure};
	if (n)
		qsort_r(order, n, sizeof *order, cmp_rank, &rc);
	memset(&v->top, 0, sizeof v->top);
	strcpy(v->top.others.key, "Others");
	strcpy(v->top.total.key, "total");
	for (size_t i = 0; i < a->nkeys; i++)
		rank[i] = -1;   /* filtered out */
	for (size_t i = 0; i < n; i++) {
		const struct key_ent *e = &a->keys[order[i]];
		v->top.total.packets += e->packets;
		v->top.total.bytes += e->bytes;
		if (i < AN_TOP_N) {
			struct db_top_entry *t = &v->top.e[v->top.n++];
			snprintf(t->key, sizeof t->key, "%s", a->arena + e->off);
			t->packets = e->packets;
			t->bytes = e->bytes;
			rank[order[i]] = (int32_t)i;
		} else {
			v->top.others.packets += e->packets;
			v->top.others.bytes += e->bytes;
			rank[order[i]] = AN_TOP_N; /* Others, fixed below */
		}
	}
	if (!(v->series = calloc((v->top.n + 1) * v->nbins, sizeof *v->series)))
		return -ENOMEM;
	const bool bytes = v->view->measure == STATS_BYTES;
	for (size_t i = 0; i < a->nrows; i++) {
		const struct row *r = &a->rows[i];
		int32_t k = rank[r->key];
		if (k < 0 || r->bin >= v->nbins)
			continue;
		size_t row = k >= (int32_t)v->top.n ? v->top.n : (size_t)k;
		v->series[row * v->nbins + r->bin] += bytes ? r->bytes : r->packets;
	}
	return 0;
}

struct label_list {
	struct label_info *v;
	size_t n, cap;
	int err;
};

static int on_label(const char *label, unsigned ord, bool windows, void *vctx)
{
	struct label_list *l = vctx;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct label_info *nv = realloc(l->v, cap * sizeof *nv);
		if (!nv)
			return l->err = -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	if (!(l->v[l->n].label = strdup(label)))
		return l->err = -ENOMEM;
	l->v[l->n].ord = ord;
	l->v[l->n].windows = windows;
	l->n++;
	return 0;
}

void site_data_free(struct site_data *d)
{
	if (d->views)
		for (size_t i = 0; i < d->nviews; i++)
			free(d->views[i].series);
	free(d->views);
	d->views = NULL;
	d->nviews = 0;
}

int site_data_load(struct db *db, const struct site_period *p, struct site_data *out,
		   struct vg_err *err)
{
	memset(out, 0, sizeof *out);
	out->period = *p;
	out->nviews = an_nviews;
	if (!(out->views = calloc(an_nviews, sizeof *out->views)))
		return vg_err_set(err, -ENOMEM, "out of memory");
	for (size_t vi = 0; vi < an_nviews; vi++) {
		struct site_view *v = &out->views[vi];
		v->view = &an_views[vi];
		v->nbins = p->nbins;
		v->start = p->start;
		v->bin = p->bin;
	}
	struct db_range r = {p->start, p->end, 0};
	struct label_list ll = {0};
	int rc = db_os_labels_foreach(db, on_label, &ll, err);
	if (!rc && ll.err)
		rc = vg_err_set(err, ll.err, "out of memory reading OS labels");
	if (!rc && ll.n)
		qsort(ll.v, ll.n, sizeof *ll.v, cmp_label);
	for (int cat = 0; cat < DB_NCATS && !rc; cat++) {
		struct agg a = {.p = p, .cat = (enum db_category)cat, .labels = ll.v, .nlabels = ll.n};
		rc = db_bins_raw_foreach(db, &r, (enum db_category)cat, on_row, &a, err);
		if (!rc && a.err)
			rc = vg_err_set(err, a.err, "out of memory reading %s bins of %s",
					db_category_name((enum db_category)cat), p->name);
		uint32_t *order = NULL;
		int32_t *rank = NULL;
		if (!rc && a.nkeys && (!(order = malloc(a.nkeys * sizeof *order)) ||
				       !(rank = malloc(a.nkeys * sizeof *rank))))
			rc = vg_err_set(err, -ENOMEM, "out of memory");
		for (size_t vi = 0; vi < an_nviews && !rc; vi++)
			if ((int)an_views[vi].cat == cat &&
			    fill_view(&a, &out->views[vi], order, rank))
				rc = vg_err_set(err, -ENOMEM, "out of memory");
		free(order);
		free(rank);
		agg_free(&a);
	}
	for (size_t i = 0; i < ll.n; i++)
		free(ll.v[i].label);
	free(ll.v);
	if (rc)
		site_data_free(out);
	return rc;
}
