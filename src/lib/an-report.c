#include "an-report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "an-hosts.h"
#include "util-json.h"

const struct an_view an_views[] = {
	{"tcp_port_bytes", AN_TCP_PORT, STATS_BYTES, 0},
	{"tcp_port_packets", AN_TCP_PORT, STATS_PACKETS, 0},
	{"udp_port_bytes", AN_UDP_PORT, STATS_BYTES, 0},
	{"udp_port_packets", AN_UDP_PORT, STATS_PACKETS, 0},
	{"country_bytes", AN_COUNTRY, STATS_BYTES, 0},
	{"country_packets", AN_COUNTRY, STATS_PACKETS, 0},
	{"os_bytes", AN_OS, STATS_BYTES, 0},
	{"os_packets", AN_OS, STATS_PACKETS, 0},
	{"windows_os_bytes", AN_OS, STATS_BYTES, 1},
	{"windows_os_packets", AN_OS, STATS_PACKETS, 1},
	{"other_os_bytes", AN_OS, STATS_BYTES, 2},
	{"other_os_packets", AN_OS, STATS_PACKETS, 2},
};
const size_t an_nviews = sizeof an_views / sizeof an_views[0];

struct os_filter_ctx {
	const struct an_engine *e;
	bool want_windows;
};

static bool os_filter(unsigned key, void *ctx)
{
	const struct os_filter_ctx *c = ctx;
	return an_engine_os_is_windows(c->e, key) == c->want_windows;
}

int an_bin_range(const struct an_engine *e, int64_t *first, size_t *nbins)
{
	const struct an_counters *cnt = an_engine_counters(e);
	if (!cnt->counted) {
		*first = 0;
		*nbins = 0;
		return 0;
	}
	unsigned bs = an_engine_bin_seconds(e);
	int64_t f = (int64_t)(cnt->first_ns / 1000000000u) / bs;
	int64_t l = (int64_t)(cnt->last_ns / 1000000000u) / bs;
	*first = f;
	*nbins = (size_t)(l - f + 1);
	return 1;
}

bool an_series_omitted(const struct an_engine *e)
{
	int64_t first;
	size_t nbins;
	an_bin_range(e, &first, &nbins);
	return nbins > AN_MAX_SERIES_BINS;
}

static int top_compute(const struct an_engine *e, const struct an_view *v,
		       struct an_top *t, bool with_series)
{
	memset(t, 0, sizeof *t);
	const struct stats_cat *c = an_engine_cat(e, v->cat);
	struct os_filter_ctx fctx = {e, v->os_filter == 1};
	stats_key_filter filt = v->os_filter ? os_filter : NULL;
	void *ctx = v->os_filter ? &fctx : NULL;

	t->n = stats_cat_top(c, v->measure, AN_TOP_N, filt, ctx, t->keys);
	t->total = stats_cat_filtered_total(c, filt, ctx);
	t->others = t->total;
	for (size_t i = 0; i < t->n; i++) {
		t->tot[i] = stats_cat_total(c, t->keys[i]);
		t->others.packets -= t->tot[i].packets;
		t->others.bytes -= t->tot[i].bytes;
	}
	an_bin_range(e, &t->first_bin, &t->nbins);
	if (!with_series || t->nbins > AN_MAX_SERIES_BINS)
		t->nbins = 0;
	if (!t->nbins)
		return 0;
	t->series = calloc((t->n + 1) * t->nbins, sizeof *t->series);
	if (!t->series)
		return -ENOMEM;
	uint64_t *others = t->series + t->n * t->nbins;
	stats_cat_series_total(c, v->measure, filt, ctx, t->first_bin, t->nbins, others);
	for (size_t i = 0; i < t->n; i++) {
		uint64_t *s = t->series + i * t->nbins;
		stats_cat_series(c, t->keys[i], v->measure, t->first_bin, t->nbins, s);
		for (size_t b = 0; b < t->nbins; b++)
			others[b] -= s[b];
	}
	return 0;
}

int an_top_compute(const struct an_engine *e, const struct an_view *v, struct an_top *t)
{
	return top_compute(e, v, t, true);
}

int an_top_compute_totals(const struct an_engine *e, const struct an_view *v, struct an_top *t)
{
	return top_compute(e, v, t, false);
}

void an_top_free(struct an_top *t)
{
	free(t->series);
	t->series = NULL;
}

const char *an_rfc3339(uint64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000u);
	struct tm tm;
	gmtime_r(&s, &tm);
	char base[32];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06uZ", base, (unsigned)(ns % 1000000000u / 1000u));
	return buf;
}

static void json_time(struct json_w *w, uint64_t ns, bool valid)
{
	char buf[40];
	if (valid)
		json_str(w, an_rfc3339(ns, buf, sizeof buf));
	else
		json_null(w);
}

int an_report_json(const struct an_engine *e, const struct an_input_info *in,
		   FILE *f, bool pretty)
{
	const struct an_counters *cnt = an_engine_counters(e);
	struct json_w w;
	json_init(&w, f, pretty);
	json_obj_begin(&w);
	json_key(&w, "packets"); json_u64(&w, cnt->counted);
	json_key(&w, "bytes"); json_u64(&w, cnt->counted_bytes);
	json_key(&w, "first"); json_time(&w, cnt->first_ns, cnt->counted);
	json_key(&w, "last"); json_time(&w, cnt->last_ns, cnt->counted);
	json_key(&w, "bin_seconds"); json_u64(&w, an_engine_bin_seconds(e));

	int64_t first_bin;
	size_t nbins;
	an_bin_range(e, &first_bin, &nbins);
	json_key(&w, "bins"); json_u64(&w, nbins);
	json_key(&w, "series_omitted"); json_bool(&w, nbins > AN_MAX_SERIES_BINS);
	json_key(&w, "bin_start");
	json_time(&w, (uint64_t)first_bin * an_engine_bin_seconds(e) * 1000000000u, nbins > 0);

	json_key(&w, "honeynets");
	json_arr_begin(&w);
	for (size_t i = 0; in && i < in->nhoneynets; i++)
		json_str(&w, in->honeynets[i]);
	json_arr_end(&w);

	json_key(&w, "input");
	json_obj_begin(&w);
	json_key(&w, "files"); json_u64(&w, in ? in->files : 0);
	json_key(&w, "files_bad"); json_u64(&w, in ? in->files_bad : 0);
	json_key(&w, "frames"); json_u64(&w, cnt->frames);
	json_key(&w, "not_honeynet"); json_u64(&w, cnt->not_honeynet);
	json_key(&w, "non_ip"); json_u64(&w, cnt->non_ip);
	json_key(&w, "unsupported"); json_u64(&w, cnt->unsupported);
	json_key(&w, "bad"); json_u64(&w, cnt->bad);
	json_key(&w, "fragments_merged"); json_u64(&w, cnt->fragments_merged);
	json_key(&w, "fragments_incomplete"); json_u64(&w, cnt->fragments_incomplete);
	json_obj_end(&w);

	json_key(&w, "protocols");
	json_obj_begin(&w);
	json_key(&w, "tcp"); json_u64(&w, cnt->tcp);
	json_key(&w, "udp"); json_u64(&w, cnt->udp);
	json_key(&w, "icmp"); json_u64(&w, cnt->icmp);
	json_key(&w, "other"); json_u64(&w, cnt->other_proto);
	json_key(&w, "ipv6"); json_u64(&w, cnt->ipv6);
	json_key(&w, "fragments"); json_u64(&w, cnt->fragments);
	json_obj_end(&w);

	json_key(&w, "fingerprint");
	json_obj_begin(&w);
	json_key(&w, "syns"); json_u64(&w, cnt->syns);
	json_key(&w, "syns_matched"); json_u64(&w, cnt->syns_matched);
	json_key(&w, "hosts"); json_u64(&w, an_engine_hosts(e));
	json_key(&w, "hosts_untracked"); json_u64(&w, cnt->hosts_untracked);
	json_obj_end(&w);

	int rc = 0;
	json_key(&w, "categories");
	json_obj_begin(&w);
	for (size_t vi = 0; vi < an_nviews; vi++) {
		const struct an_view *v = &an_views[vi];
		struct an_top t;
		if (an_top_compute(e, v, &t)) {
			rc = -ENOMEM;
			an_top_free(&t);
			break;
		}
		char name[96];
		json_key(&w, v->name);
		json_obj_begin(&w);
		json_key(&w, "top");
		json_arr_begin(&w);
		for (size_t i = 0; i <= t.n; i++) {
			bool oth = i == t.n;
			struct stats_counts c = oth ? t.others : t.tot[i];
			json_obj_begin(&w);
			json_key(&w, "key");
			json_str(&w, oth ? "Others" : an_engine_key_name(e, v->cat, t.keys[i], name, sizeof name));
			json_key(&w, "packets"); json_u64(&w, c.packets);
			json_key(&w, "bytes"); json_u64(&w, c.bytes);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_key(&w, "series");
		json_obj_begin(&w);
		for (size_t i = 0; i <= t.n; i++) {
			json_key(&w, i == t.n ? "Others" : an_engine_key_name(e, v->cat, t.keys[i], name, sizeof name));
			bool was = w.pretty;
			w.pretty = false;   /* one line per series keeps the file readable */
			json_arr_begin(&w);
			for (size_t b = 0; b < t.nbins; b++)
				json_u64(&w, t.series[i * t.nbins + b]);
			json_arr_end(&w);
			w.pretty = was;
		}
		json_obj_end(&w);
		json_obj_end(&w);
		an_top_free(&t);
	}
	json_obj_end(&w);
	json_obj_end(&w);
	int frc = json_finish(&w);
	return rc ? rc : frc;
}

/* CSV fields here are ports, country codes and p0f labels; labels may hold
 * commas or quotes, so quote per RFC 4180 whenever needed. */
static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* Close f, written to tmp, and rename it over path; on a write error, or
 * rc (an error set while writing), remove tmp instead: a reader sees the
 * old file or the whole new one. */
static int commit_tmp(FILE *f, const char *tmp, const char *path, int rc, struct vg_err *err)
{
	if (fflush(f) || ferror(f)) {
		fclose(f);
		remove(tmp);
		return rc ? rc : vg_err_set(err, -EIO, "%s: write failed", tmp);
	}
	fclose(f);
	if (rc) {
		remove(tmp);
		return rc;
	}
	if (rename(tmp, path)) {
		int e2 = -errno;
		remove(tmp);
		return vg_err_set(err, e2, "%s: cannot rename into place: %s", path, strerror(-e2));
	}
	return 0;
}

static int write_view_csv(const struct an_engine *e, const struct an_view *v,
			  const char *dir, struct vg_err *err)
{
	char path[4096], tmp[4200];
	snprintf(path, sizeof path, "%s/%s.csv", dir, v->name);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	struct an_top t;
	if (an_top_compute(e, v, &t)) {
		an_top_free(&t);
		return vg_err_set(err, -ENOMEM, "%s: out of memory", path);
	}
	FILE *f = fopen(tmp, "w");
	if (!f) {
		int e2 = -errno;
		an_top_free(&t);
		return vg_err_set(err, e2, "%s: cannot create: %s", tmp, strerror(-e2));
	}
	char name[96], ts[40];
	fputs("bin_start", f);
	for (size_t i = 0; i <= t.n; i++) {
		fputc(',', f);
		csv_field(f, i == t.n ? "Others" : an_engine_key_name(e, v->cat, t.keys[i], name, sizeof name));
	}
	fputc('\n', f);
	unsigned bs = an_engine_bin_seconds(e);
	for (size_t b = 0; b < t.nbins; b++) {
		uint64_t start = (uint64_t)(t.first_bin + (int64_t)b) * bs * 1000000000u;
		an_rfc3339(start, ts, sizeof ts);
		ts[19] = 'Z';   /* bins start on whole seconds */
		ts[20] = '\0';
		fputs(ts, f);
		for (size_t i = 0; i <= t.n; i++)
			fprintf(f, ",%llu", (unsigned long long)t.series[i * t.nbins + b]);
		fputc('\n', f);
	}
	an_top_free(&t);
	return commit_tmp(f, tmp, path, 0, err);
}

static int write_top_csv(const struct an_engine *e, const char *dir, struct vg_err *err)
{
	char path[4096], tmp[4200];
	snprintf(path, sizeof path, "%s/top.csv", dir);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		int e2 = -errno;
		return vg_err_set(err, e2, "%s: cannot create: %s", tmp, strerror(-e2));
	}
	fputs("category,rank,key,packets,bytes,share\n", f);
	int rc = 0;
	for (size_t vi = 0; vi < an_nviews && !rc; vi++) {
		const struct an_view *v = &an_views[vi];
		struct an_top t;
		if (an_top_compute_totals(e, v, &t)) {
			rc = vg_err_set(err, -ENOMEM, "%s: out of memory", path);
			an_top_free(&t);
			break;
		}
		char name[96];
		for (size_t i = 0; i <= t.n; i++) {
			bool oth = i == t.n;
			struct stats_counts c = oth ? t.others : t.tot[i];
			uint64_t part = v->measure == STATS_BYTES ? c.bytes : c.packets;
			uint64_t whole = v->measure == STATS_BYTES ? t.total.bytes : t.total.packets;
			/* Others has no rank: it is not one key. */
			fprintf(f, "%s,", v->name);
			if (!oth)
				fprintf(f, "%zu", i + 1);
			fputc(',', f);
			csv_field(f, oth ? "Others" : an_engine_key_name(e, v->cat, t.keys[i], name, sizeof name));
			fprintf(f, ",%llu,%llu,%.6f\n", (unsigned long long)c.packets,
				(unsigned long long)c.bytes, whole ? (double)part / (double)whole : 0.0);
		}
		an_top_free(&t);
	}
	return commit_tmp(f, tmp, path, rc, err);
}

int an_report_csv(const struct an_engine *e, const char *dir, struct vg_err *err)
{
	if (mkdir(dir, 0755) && errno != EEXIST)
		return vg_err_set(err, -errno, "%s: cannot create directory: %s", dir, strerror(errno));
	for (size_t vi = 0; vi < an_nviews; vi++) {
		int rc = write_view_csv(e, &an_views[vi], dir, err);
		if (rc)
			return rc;
	}
	return write_top_csv(e, dir, err);
}

struct src_row {
	struct vg_ip ip;
	struct an_host h;
};

struct src_collect {
	struct src_row *v;
	size_t n, cap;
	int err;
};

static int collect_src(const struct vg_ip *ip, const struct an_host *h, void *ctx)
{
	struct src_collect *c = ctx;
	if (!h->packets)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct src_row *nv = realloc(c->v, cap * sizeof *nv);
		if (!nv) {
			c->err = -ENOMEM;
			return 1;
		}
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n++] = (struct src_row){*ip, *h};
	return 0;
}

static int cmp_src(const void *a, const void *b)
{
	const struct src_row *x = a, *y = b;
	if (x->h.packets != y->h.packets)
		return x->h.packets < y->h.packets ? 1 : -1;
	if (x->ip.v != y->ip.v)
		return x->ip.v - y->ip.v;
	return memcmp(x->ip.a, y->ip.a, 16);
}

int an_report_sources(const struct an_engine *e, const char *path, struct vg_err *err)
{
	struct src_collect c = {0};
	an_hosts_foreach(an_engine_host_table(e), collect_src, &c);
	if (c.err) {
		free(c.v);
		return vg_err_set(err, c.err, "%s: out of memory", path);
	}
	qsort(c.v, c.n, sizeof *c.v, cmp_src);
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		int e2 = -errno;
		free(c.v);
		return vg_err_set(err, e2, "%s: cannot create: %s", tmp, strerror(-e2));
	}
	fputs("ip,country,os,packets,bytes,first,last\n", f);
	char ipb[64], name[96], t1[40], t2[40];
	for (size_t i = 0; i < c.n; i++) {
		const struct src_row *r = &c.v[i];
		fprintf(f, "%s,", vg_ip_str(&r->ip, ipb, sizeof ipb));
		csv_field(f, an_engine_key_name(e, AN_COUNTRY, r->h.cc, name, sizeof name));
		fputc(',', f);
		csv_field(f, an_engine_key_name(e, AN_OS, r->h.os, name, sizeof name));
		an_rfc3339((uint64_t)r->h.first_s * 1000000000u, t1, sizeof t1);
		an_rfc3339((uint64_t)r->h.last_s * 1000000000u, t2, sizeof t2);
		t1[19] = t2[19] = 'Z';
		t1[20] = t2[20] = '\0';
		fprintf(f, ",%u,%llu,%s,%s\n", r->h.packets, (unsigned long long)r->h.bytes, t1, t2);
	}
	free(c.v);
	return commit_tmp(f, tmp, path, 0, err);
}
