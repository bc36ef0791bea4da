/* site-html.c: pages, CSV and JSON of the public site, and the atomic
 * swap of each period's directory. */
#include "site-html.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "site-graph.h"
#include "site-label.h"
#include "util-json.h"

static const char *const kind_dir[3] = {"day", "week", "month"};
static const char *const kind_title[3] = {"Day", "Week", "Month"};

const char *site_view_group(const struct an_view *v, char *buf, size_t len)
{
	const char *u = strrchr(v->name, '_');
	size_t n = u ? (size_t)(u - v->name) : strlen(v->name);
	snprintf(buf, len, "%.*s", (int)n, v->name);
	return buf;
}

const char *site_view_title(const struct an_view *v)
{
	if (v->cat == AN_TCP_PORT)
		return "TCP destination ports";
	if (v->cat == AN_UDP_PORT)
		return "UDP destination ports";
	if (v->cat == AN_COUNTRY)
		return "Source countries";
	return v->os_filter == 1 ? "Windows sources"
	     : v->os_filter == 2 ? "Non-Windows sources" : "Source operating systems";
}

/* ---- small writers ------------------------------------------------------ */

static void html_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

static const char *group3(uint64_t v, char *buf, size_t len)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
	size_t w = 0;
	for (int i = 0; i < n && w + 2 < len; i++) {
		if (i && (n - i) % 3 == 0)
			buf[w++] = ',';
		buf[w++] = tmp[i];
	}
	buf[w] = 0;
	return buf;
}

static const char *utc_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static const char *local_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M %Z", &tm);
	return buf;
}

static FILE *open_w(const char *path, struct vg_err *err)
{
	FILE *f = fopen(path, "w");
	if (!f)
		vg_err_set(err, -errno, "%s: cannot create: %s", path, strerror(errno));
	return f;
}

static int close_w(FILE *f, const char *path, struct site_result *res, struct vg_err *err)
{
	int bad = ferror(f);
	long size = ftell(f);
	if (fclose(f) || bad)
		return vg_err_set(err, -EIO, "%s: cannot write: %s", path, strerror(errno ? errno : EIO));
	res->files++;
	if (size > 0)
		res->bytes += (uint64_t)size;
	return 0;
}

static uint64_t measure_of(const struct an_view *v, const struct db_top_entry *e)
{
	return v->measure == STATS_BYTES ? e->bytes : e->packets;
}

/* ---- one graph set: PNG, SVG, CSV, JSON -------------------------------- */

struct set_style {
	const char *labels[AN_TOP_N + 1];
	char lab[AN_TOP_N + 1][160];
	uint32_t rgb[AN_TOP_N + 1];
};

static void style_of(const struct site_view *sv, struct site_labels *labels, struct set_style *s)
{
	const char *keys[AN_TOP_N];
	int slot[AN_TOP_N];
	size_t n = sv->top.n;
	for (size_t i = 0; i < n; i++)
		keys[i] = sv->top.e[i].key;
	site_colour_assign((enum db_category)sv->view->cat, keys, n, slot);
	for (size_t i = 0; i <= n; i++) {
		const char *k = i < n ? sv->top.e[i].key : "Others";
		s->labels[i] = site_label(labels, (enum db_category)sv->view->cat, k, s->lab[i],
					  sizeof s->lab[i]);
		s->rgb[i] = i < n ? site_palette[slot[i]] : SITE_OTHERS_RGB;
	}
}

static int write_csv(const char *path, const struct site_view *sv, struct site_result *res,
		     struct vg_err *err)
{
	FILE *f = open_w(path, err);
	if (!f)
		return err->code;
	fputs("bin_start", f);
	for (size_t i = 0; i < sv->top.n; i++)
		fprintf(f, ",%s", sv->top.e[i].key);
	fputs(",Others\n", f);
	char t[32];
	for (size_t b = 0; b < sv->nbins; b++) {
		fputs(utc_time(sv->start + (int64_t)b * sv->bin, t, sizeof t), f);
		for (size_t r = 0; r <= sv->top.n; r++)
			fprintf(f, ",%" PRIu64, site_view_at(sv, r, b));
		fputc('\n', f);
	}
	return close_w(f, path, res, err);
}

static void json_entry(struct json_w *w, const struct db_top_entry *e)
{
	json_obj_begin(w);
	json_key(w, "key");
	json_str(w, e->key);
	json_key(w, "packets");
	json_u64(w, e->packets);
	json_key(w, "bytes");
	json_u64(w, e->bytes);
	json_obj_end(w);
}

static int write_json(const char *path, const struct site_view *sv, const struct site_period *p,
		      const char *zone, const struct set_style *st, struct site_result *res,
		      struct vg_err *err)
{
	FILE *f = open_w(path, err);
	if (!f)
		return err->code;
	struct json_w w;
	char t[32];
	json_init(&w, f, false);
	json_obj_begin(&w);
	json_key(&w, "view");
	json_str(&w, sv->view->name);
	json_key(&w, "period");
	json_str(&w, p->name);
	json_key(&w, "kind");
	json_str(&w, kind_dir[p->kind]);
	json_key(&w, "time_zone");
	json_str(&w, zone);
	json_key(&w, "from");
	json_str(&w, utc_time(p->start, t, sizeof t));
	json_key(&w, "to");
	json_str(&w, utc_time(p->end, t, sizeof t));
	json_key(&w, "measure");
	json_str(&w, sv->view->measure == STATS_BYTES ? "bytes" : "packets");
	json_key(&w, "bin_seconds");
	json_i64(&w, sv->bin);
	json_key(&w, "bins");
	json_u64(&w, sv->nbins);
	json_key(&w, "bin_start");
	json_str(&w, utc_time(sv->start, t, sizeof t));
	json_key(&w, "total");
	json_entry(&w, &sv->top.total);
	json_key(&w, "top");
	json_arr_begin(&w);
	for (size_t i = 0; i < sv->top.n; i++)
		json_entry(&w, &sv->top.e[i]);
	json_entry(&w, &sv->top.others);
	json_arr_end(&w);
	json_key(&w, "series");
	json_obj_begin(&w);
	for (size_t r = 0; r <= sv->top.n; r++) {
		json_key(&w, r < sv->top.n ? sv->top.e[r].key : "Others");
		json_arr_begin(&w);
		for (size_t b = 0; b < sv->nbins; b++)
			json_u64(&w, site_view_at(sv, r, b));
		json_arr_end(&w);
	}
	json_obj_end(&w);
	json_key(&w, "labels");
	json_obj_begin(&w);
	for (size_t r = 0; r <= sv->top.n; r++) {
		json_key(&w, r < sv->top.n ? sv->top.e[r].key : "Others");
		json_str(&w, st->labels[r]);
	}
	json_obj_end(&w);
	json_key(&w, "colours");
	json_obj_begin(&w);
	for (size_t r = 0; r <= sv->top.n; r++) {
		char c[8];
		snprintf(c, sizeof c, "#%06x", (unsigned)st->rgb[r]);
		json_key(&w, r < sv->top.n ? sv->top.e[r].key : "Others");
		json_str(&w, c);
	}
	json_obj_end(&w);
	json_obj_end(&w);
	if (json_finish(&w)) {
		fclose(f);
		return vg_err_set(err, -EIO, "%s: cannot write: %s", path, strerror(errno ? errno : EIO));
	}
	return close_w(f, path, res, err);
}

/* ---- pages --------------------------------------------------------------- */

static const char css[] =
	"*{box-sizing:border-box}"
	"body{font-family:\"DejaVu Sans\",Verdana,sans-serif;margin:0 auto;padding:0 12px 24px;"
	"max-width:1000px;color:#202020;background:#fff;line-height:1.4}"
	"h1{font-size:1.5em;margin:.6em 0 .2em}h2{font-size:1.2em;margin:1.4em 0 .4em;"
	"border-bottom:1px solid #ccc}h3{font-size:1em;margin:1em 0 .3em}"
	"img{max-width:100%;height:auto;display:block;border:1px solid #ddd}"
	"figure{margin:.5em 0 1em}figcaption{font-size:.9em;color:#505050}"
	".tw{overflow-x:auto;max-width:100%}"
	"table{border-collapse:collapse;font-size:.9em;margin:.3em 0 1em}"
	"th,td{padding:2px 6px;border-bottom:1px solid #eee;text-align:right;vertical-align:top}"
	"th:nth-child(2),td:nth-child(2){text-align:left;overflow-wrap:anywhere}"
	".sw{display:inline-block;width:.8em;height:.8em;margin-right:.3em;vertical-align:baseline}"
	"tr.tot td{font-weight:bold;border-top:1px solid #999}"
	"nav a,p.nav a{margin-right:.6em;white-space:nowrap}"
	"@media (max-width:600px){body{padding:0 6px 16px}table{font-size:.8em}"
	"th,td{padding:2px 3px}}";

static void page_head(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>", f);
	html_text(f, title);
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
}

static void top_table(FILE *f, const struct site_view *sv, const struct set_style *st)
{
	char a[32], b[32];
	uint64_t tot = measure_of(sv->view, &sv->top.total);
	const bool bytes = sv->view->measure == STATS_BYTES;
	fprintf(f, "<div class=\"tw\"><table>\n<tr><th>#</th><th>%s</th><th>packets</th>"
		"<th>bytes</th><th>share of %s</th></tr>\n",
		sv->view->cat == AN_TCP_PORT || sv->view->cat == AN_UDP_PORT ? "port"
		: sv->view->cat == AN_COUNTRY ? "country" : "OS", bytes ? "bytes" : "packets");
	for (size_t r = 0; r <= sv->top.n; r++) {
		const struct db_top_entry *e = r < sv->top.n ? &sv->top.e[r] : &sv->top.others;
		if (r < sv->top.n)
			fprintf(f, "<tr><td>%zu</td>", r + 1);
		else
			fputs("<tr><td></td>", f);
		fprintf(f, "<td><span class=\"sw\" style=\"background:#%06x\"></span>",
			(unsigned)st->rgb[r]);
		html_text(f, st->labels[r]);
		double share = tot ? 100.0 * (double)measure_of(sv->view, e) / (double)tot : 0;
		fprintf(f, "</td><td>%s</td><td>%s</td><td>%.1f%%</td></tr>\n",
			group3(e->packets, a, sizeof a), group3(e->bytes, b, sizeof b), share);
	}
	fprintf(f, "<tr class=\"tot\"><td></td><td>total</td><td>%s</td><td>%s</td>"
		"<td>100%%</td></tr>\n</table></div>\n",
		group3(sv->top.total.packets, a, sizeof a), group3(sv->top.total.bytes, b, sizeof b));
}

static int write_page(const char *path, const struct site_data *d, const char *zone,
		      const struct set_style *styles, const struct site_period *week,
		      const struct site_period *month, const char *prev, const char *next,
		      struct site_result *res, struct vg_err *err)
{
	const struct site_period *p = &d->period;
	FILE *f = open_w(path, err);
	if (!f)
		return err->code;
	char title[128], a[32], b[32], t0[64], t1[64], grp[32];
	snprintf(title, sizeof title, "Honeynet traffic: %s %s", kind_title[p->kind], p->name);
	page_head(f, title);
	fputs("<header>\n<p class=\"nav\"><a href=\"../../index.html\">All periods</a>\n", f);
	if (week)
		fprintf(f, "<a href=\"../../week/%s/index.html\">Week %s</a>\n", week->name, week->name);
	if (month)
		fprintf(f, "<a href=\"../../month/%s/index.html\">Month %s</a>\n", month->name,
			month->name);
	if (*prev)
		fprintf(f, "<a href=\"../%s/index.html\">&larr; %s</a>\n", prev, prev);
	if (*next)
		fprintf(f, "<a href=\"../%s/index.html\">%s &rarr;</a>\n", next, next);
	fputs("</p>\n<h1>", f);
	html_text(f, title);
	/* Every packet has a country (or "--"): its totals are the period's. */
	const struct site_view *all = NULL;
	for (size_t i = 0; i < d->nviews; i++)
		if (d->views[i].view->cat == AN_COUNTRY)
			all = &d->views[i];
	fprintf(f, "</h1>\n<p>From %s to %s (time zone ", local_time(p->start, t0, sizeof t0),
		local_time(p->end, t1, sizeof t1));
	html_text(f, zone);
	fprintf(f, "). %s packets, %s bytes directed to the honeynets. Graphs show the mean "
		"rate per second in each %lld-minute bin, the top 10 and Others stacked from "
		"the bottom; click a graph for its SVG.</p>\n",
		group3(all ? all->top.total.packets : 0, a, sizeof a),
		group3(all ? all->top.total.bytes : 0, b, sizeof b), (long long)(p->bin / 60));
	fputs("<nav>", f);
	for (size_t i = 0; i < d->nviews; i += 2)
		fprintf(f, "<a href=\"#%s\">%s</a>\n", site_view_group(d->views[i].view, grp, sizeof grp),
			site_view_title(d->views[i].view));
	fputs("</nav>\n</header>\n<main>\n", f);
	for (size_t i = 0; i < d->nviews; i++) {
		const struct site_view *sv = &d->views[i];
		const char *name = sv->view->name;
		const bool bytes = sv->view->measure == STATS_BYTES;
		if (i % 2 == 0)
			fprintf(f, "<section id=\"%s\">\n<h2>%s</h2>\n",
				site_view_group(sv->view, grp, sizeof grp), site_view_title(sv->view));
		fprintf(f, "<h3>%s per second</h3>\n<figure><a href=\"%s.svg\"><img src=\"%s.png\" "
			"width=\"%d\" height=\"%d\" alt=\"%s, %s per second, stacked area of the top 10 "
			"and Others\"></a>\n<figcaption>Data of this graph: <a href=\"%s.csv\">CSV</a> "
			"<a href=\"%s.json\">JSON</a> <a href=\"%s.svg\">SVG</a></figcaption></figure>\n",
			bytes ? "Bytes" : "Packets", name, name, SITE_GRAPH_W,
			site_graph_height(sv->top.n), site_view_title(sv->view),
			bytes ? "bytes" : "packets", name, name, name);
		top_table(f, sv, &styles[i]);
		if (i % 2 == 1)
			fputs("</section>\n", f);
	}
	fputs("</main>\n<footer><p>Aggregate counts only: destination ports, source countries "
	      "(RIR delegations) and source operating systems (passive p0f fingerprints). "
	      "Generated by vigia.</p></footer>\n</body>\n</html>\n", f);
	return close_w(f, path, res, err);
}

/* ---- directories ---------------------------------------------------------- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int rm_rf(const char *path)
{
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int mkdir_p(const char *path, struct vg_err *err)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return vg_err_set(err, -errno, "%s: cannot create the directory: %s", buf,
					  strerror(errno));
		*s = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return vg_err_set(err, -errno, "%s: cannot create the directory: %s", buf,
				  strerror(errno));
	return 0;
}

/* Put the built directory `staged` at `final`.  With an old one present,
 * RENAME_EXCHANGE swaps both names in one step; the old tree then lies at
 * `staged` and is removed.  Without renameat2 support (some file
 * systems), the old one is moved aside first: a reader may then find no
 * page for an instant, never a partial one. */
static int swap_in(const char *staged, const char *final, struct vg_err *err)
{
	struct stat st;
	if (lstat(final, &st)) {
		if (rename(staged, final))
			return vg_err_set(err, -errno, "%s: cannot move into place: %s", final,
					  strerror(errno));
		return 0;
	}
	if (renameat2(AT_FDCWD, staged, AT_FDCWD, final, RENAME_EXCHANGE) == 0) {
		rm_rf(staged);
		return 0;
	}
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
		return vg_err_set(err, -errno, "%s: cannot swap in the new version: %s", final,
				  strerror(errno));
	char aside[4200];
	snprintf(aside, sizeof aside, "%s.old", staged);
	if (rename(final, aside) || rename(staged, final))
		return vg_err_set(err, -errno, "%s: cannot move into place: %s", final, strerror(errno));
	rm_rf(aside);
	return 0;
}

/* ---- one period ------------------------------------------------------------ */

/* The name of the neighbouring period of the same kind (the one holding
 * `t`) when its page exists or is built in this run, else "". */
static void neighbour(const struct site_opts *o, const struct site_period *all, size_t nall,
		      const struct site_period *p, int64_t t, char *out, size_t len)
{
	int y, m, d;
	struct site_period q;
	out[0] = 0;
	site_local_date(t, &y, &m, &d);
	if (site_period_of(p->kind, y, m, d, p->bin, &q, NULL))
		return;
	bool found = false;
	for (size_t i = 0; i < nall && !found; i++)
		found = all[i].kind == q.kind && !strcmp(all[i].name, q.name);
	if (!found) {
		char path[4400];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s/%s/index.html", o->out, kind_dir[q.kind], q.name);
		found = stat(path, &st) == 0;
	}
	if (found)
		snprintf(out, len, "%s", q.name);
}

static int build_period(struct db *db, const struct site_opts *o, struct site_labels *labels,
			const struct site_period *p, const struct site_period *week,
			const struct site_period *month, const struct site_period *all, size_t nall,
			struct site_result *res, struct vg_err *err)
{
	struct site_data d;
	int rc = site_data_load(db, p, &d, err);
	if (rc)
		return rc;
	char stage[4096], path[4400], final[4400];
	snprintf(stage, sizeof stage, "%s/.staging-XXXXXX", o->out);
	if (!mkdtemp(stage)) {
		rc = vg_err_set(err, -errno, "%s: cannot create a staging directory: %s", o->out,
				strerror(errno));
		site_data_free(&d);
		return rc;
	}
	chmod(stage, 0755);
	struct set_style *styles = calloc(d.nviews, sizeof *styles);
	if (!styles)
		rc = vg_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < d.nviews; i++) {
		const struct site_view *sv = &d.views[i];
		style_of(sv, labels, &styles[i]);
		struct site_graph g = {
			.v = sv, .p = p, .title = site_view_title(sv->view), .zone = o->zone,
			.labels = styles[i].labels, .rgb = styles[i].rgb,
		};
		char png[4400], svg[4400];
		snprintf(png, sizeof png, "%s/%s.png", stage, sv->view->name);
		snprintf(svg, sizeof svg, "%s/%s.svg", stage, sv->view->name);
		if ((rc = site_graph_write(&g, png, svg, err)))
			break;
		res->files += 2;
		struct stat st;
		if (!stat(png, &st))
			res->bytes += (uint64_t)st.st_size;
		if (!stat(svg, &st))
			res->bytes += (uint64_t)st.st_size;
		snprintf(path, sizeof path, "%s/%s.csv", stage, sv->view->name);
		if ((rc = write_csv(path, sv, res, err)))
			break;
		snprintf(path, sizeof path, "%s/%s.json", stage, sv->view->name);
		if ((rc = write_json(path, sv, p, o->zone, &styles[i], res, err)))
			break;
		res->graph_sets++;
		if (o->progress)
			o->progress(o->ctx, p, i + 1, d.nviews);
	}
	if (!rc) {
		snprintf(path, sizeof path, "%s/index.html", stage);
		char prev[16], next[16];
		neighbour(o, all, nall, p, p->start - 1, prev, sizeof prev);
		neighbour(o, all, nall, p, p->end, next, sizeof next);
		rc = write_page(path, &d, o->zone, styles, week, month, prev, next, res, err);
	}
	if (!rc) {
		const struct site_view *cv = NULL;
		for (size_t i = 0; i < d.nviews; i++)
			if (d.views[i].view->cat == AN_COUNTRY)
				cv = &d.views[i];
		snprintf(path, sizeof path, "%s/totals.txt", stage);
		FILE *f = open_w(path, err);
		if (!f)
			rc = err->code;
		else {
			fprintf(f, "%" PRIu64 " %" PRIu64 "\n", cv ? cv->top.total.packets : 0,
				cv ? cv->top.total.bytes : 0);
			rc = close_w(f, path, res, err);
		}
	}
	if (!rc) {
		snprintf(final, sizeof final, "%s/%s", o->out, kind_dir[p->kind]);
		rc = mkdir_p(final, err);
	}
	if (!rc) {
		snprintf(final, sizeof final, "%s/%s/%s", o->out, kind_dir[p->kind], p->name);
		rc = swap_in(stage, final, err);
	}
	if (rc)
		rm_rf(stage);
	else
		res->periods[p->kind]++;
	free(styles);
	site_data_free(&d);
	return rc;
}

/* ---- index ------------------------------------------------------------------ */

struct entry {
	char name[64];
	uint64_t packets, bytes;
	bool has;
};

static int cmp_entry_desc(const void *a, const void *b)
{
	return strcmp(((const struct entry *)b)->name, ((const struct entry *)a)->name);
}

static size_t list_kind(const char *out, int kind, struct entry **v)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/%s", out, kind_dir[kind]);
	*v = NULL;
	DIR *dp = opendir(dir);
	if (!dp)
		return 0;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(dp))) {
		/* Only names this program writes: digits, '-' and 'W'. */
		size_t len = strlen(de->d_name);
		if (len < 7 || len > 10 || strspn(de->d_name, "0123456789-W") != len)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct entry *nv = realloc(*v, cap * sizeof *nv);
			if (!nv)
				break;
			*v = nv;
		}
		struct entry *e = &(*v)[n++];
		memset(e, 0, sizeof *e);
		snprintf(e->name, sizeof e->name, "%s", de->d_name);
		char tp[4400];
		snprintf(tp, sizeof tp, "%s/%s/totals.txt", dir, de->d_name);
		FILE *f = fopen(tp, "r");
		if (f) {
			e->has = fscanf(f, "%" SCNu64 " %" SCNu64, &e->packets, &e->bytes) == 2;
			fclose(f);
		}
	}
	closedir(dp);
	if (n)
		qsort(*v, n, sizeof **v, cmp_entry_desc);
	return n;
}

static int write_index(const struct site_opts *o, struct site_result *res, struct vg_err *err)
{
	char tmp[4200], final[4200], a[32], b[32];
	snprintf(tmp, sizeof tmp, "%s/.index.html.tmp", o->out);
	snprintf(final, sizeof final, "%s/index.html", o->out);
	FILE *f = open_w(tmp, err);
	if (!f)
		return err->code;
	page_head(f, "Honeynet traffic statistics");
	fputs("<header><h1>Honeynet traffic statistics</h1>\n<p>What the honeynet sensors "
	      "received: destination ports, source countries and source operating systems, "
	      "per day, week and month. Times in ", f);
	html_text(f, o->zone);
	fputs(".</p></header>\n<main>\n", f);
	static const char *const heads[3] = {"Days", "Weeks", "Months"};
	static const int order[3] = {SITE_MONTH, SITE_WEEK, SITE_DAY};
	for (int k = 0; k < 3; k++) {
		int kind = order[k];
		struct entry *v;
		size_t n = list_kind(o->out, kind, &v);
		fprintf(f, "<section id=\"%s\">\n<h2>%s</h2>\n", kind_dir[kind], heads[kind]);
		if (!n)
			fputs("<p>None yet.</p>\n", f);
		else
			fprintf(f, "<div class=\"tw\"><table>\n<tr><th>#</th><th>%s</th><th>packets</th>"
				"<th>bytes</th></tr>\n", kind_title[kind]);
		for (size_t i = 0; i < n; i++) {
			fprintf(f, "<tr><td>%zu</td><td><a href=\"%s/%s/index.html\">%s</a></td>", i + 1,
				kind_dir[kind], v[i].name, v[i].name);
			if (v[i].has)
				fprintf(f, "<td>%s</td><td>%s</td></tr>\n",
					group3(v[i].packets, a, sizeof a), group3(v[i].bytes, b, sizeof b));
			else
				fputs("<td></td><td></td></tr>\n", f);
		}
		if (n)
			fputs("</table></div>\n", f);
		fputs("</section>\n", f);
		free(v);
	}
	fputs("</main>\n<footer><p>Aggregate counts only. Each graph links to its data as CSV "
	      "and JSON. Generated by vigia.</p></footer>\n</body>\n</html>\n", f);
	int rc = close_w(f, tmp, res, err);
	if (!rc && rename(tmp, final))
		rc = vg_err_set(err, -errno, "%s: cannot move into place: %s", final, strerror(errno));
	if (rc)
		unlink(tmp);
	return rc;
}

/* Staging directories left by a build that was killed: only removed under
 * the lock, so never a live build's. */
static void clean_stale(const char *out)
{
	DIR *dp = opendir(out);
	if (!dp)
		return;
	struct dirent *de;
	char path[4400];
	while ((de = readdir(dp)))
		if (!strncmp(de->d_name, ".staging-", 9)) {
			snprintf(path, sizeof path, "%s/%s", out, de->d_name);
			rm_rf(path);
		}
	closedir(dp);
}

int site_build(struct db *db, const struct site_opts *o, const struct site_period *periods,
	       size_t nperiods, struct site_result *res, struct vg_err *err)
{
	memset(res, 0, sizeof *res);
	int rc = mkdir_p(o->out, err);
	if (rc)
		return rc;
	char lockp[4200];
	snprintf(lockp, sizeof lockp, "%s/.lock", o->out);
	int lfd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lfd < 0)
		return vg_err_set(err, -errno, "%s: cannot open: %s", lockp, strerror(errno));
	if (flock(lfd, LOCK_EX)) {
		rc = vg_err_set(err, -errno, "%s: cannot lock: %s", lockp, strerror(errno));
		close(lfd);
		return rc;
	}
	clean_stale(o->out);
	struct site_labels *labels = site_labels_new(o->iso_json, o->nmap_services);
	if (!labels)
		rc = vg_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < nperiods; i++) {
		const struct site_period *p = &periods[i], *week = NULL, *month = NULL;
		if (p->kind == SITE_DAY)
			for (size_t j = 0; j < nperiods; j++) {
				const struct site_period *q = &periods[j];
				if (q->kind == SITE_WEEK && q->start <= p->start && p->start < q->end)
					week = q;
				if (q->kind == SITE_MONTH && q->start <= p->start && p->start < q->end)
					month = q;
			}
		rc = build_period(db, o, labels, p, week, month, periods, nperiods, res, err);
	}
	if (!rc)
		rc = write_index(o, res, err);
	site_labels_free(labels);
	close(lfd);
	return rc;
}
