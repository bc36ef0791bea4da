/* summary.c: the members' daily summary from the database (summary.h). */
#include "summary.h"
#include "util-buf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY 86400
#define NEW_WINDOW_DAYS 30
#define MAX_COLS 10

/* ---- growing strings ------------------------------------------------- */

static void html_esc(struct vg_buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': vg_buf_puts(b, "&lt;"); break;
		case '>': vg_buf_puts(b, "&gt;"); break;
		case '&': vg_buf_puts(b, "&amp;"); break;
		case '"': vg_buf_puts(b, "&quot;"); break;
		default: vg_buf_add(b, s, 1);
		}
	}
}

/* ---- the document: rendered as text and HTML at once ------------------ */

struct doc {
	struct vg_buf text, html;
	/* the table being built */
	size_t ncols;
	char *hdr[MAX_COLS];
	bool right[MAX_COLS];
	char **cells;               /* nrows * ncols */
	size_t nrows, cap;          /* cap: cells allocated */
	int rc;
};

static void doc_h(struct doc *d, const char *title)
{
	vg_buf_printf(&d->text, "\n%s\n", title);
	for (size_t i = 0; title[i]; i++)
		if (((unsigned char)title[i] & 0xc0) != 0x80)
			vg_buf_puts(&d->text, "=");
	vg_buf_puts(&d->text, "\n");
	vg_buf_puts(&d->html, "<h2>");
	html_esc(&d->html, title);
	vg_buf_puts(&d->html, "</h2>\n");
}

__attribute__((format(printf, 2, 3)))
static void doc_p(struct doc *d, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	vg_buf_printf(&d->text, "%s\n", tmp);
	vg_buf_puts(&d->html, "<p>");
	html_esc(&d->html, tmp);
	vg_buf_puts(&d->html, "</p>\n");
}

/* Columns named "<name" are right aligned (numbers). */
static void doc_table(struct doc *d, size_t ncols, const char *const *hdr)
{
	d->ncols = ncols;
	d->nrows = 0;
	for (size_t i = 0; i < ncols; i++) {
		d->right[i] = hdr[i][0] == '<';
		d->hdr[i] = strdup(hdr[i] + d->right[i]);
		if (!d->hdr[i])
			d->rc = -ENOMEM;
	}
}

static void doc_row(struct doc *d, char *const *cells)
{
	/* cap counts cells: tables differ in their number of columns */
	if ((d->nrows + 1) * d->ncols > d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 64;
		while (nc < (d->nrows + 1) * d->ncols)
			nc *= 2;
		char **np = realloc(d->cells, nc * sizeof *np);
		if (!np) {
			d->rc = -ENOMEM;
			return;
		}
		d->cells = np;
		d->cap = nc;
	}
	for (size_t i = 0; i < d->ncols; i++) {
		char *c = strdup(cells[i] ? cells[i] : "");
		if (!c)
			d->rc = -ENOMEM;
		d->cells[d->nrows * d->ncols + i] = c;
	}
	d->nrows++;
}

static size_t u8len(const char *s)
{
	size_t n = 0;
	for (; s && *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void pad(struct vg_buf *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vg_buf_puts(b, " ");
}

static void doc_table_end(struct doc *d, const char *empty)
{
	size_t w[MAX_COLS] = {0};
	if (d->nrows == 0) {
		doc_p(d, "%s", empty);
		goto out;
	}
	for (size_t i = 0; i < d->ncols; i++) {
		w[i] = u8len(d->hdr[i]);
		for (size_t r = 0; r < d->nrows; r++) {
			size_t l = u8len(d->cells[r * d->ncols + i]);
			if (l > w[i])
				w[i] = l;
		}
	}
	vg_buf_puts(&d->html, "<table>\n<tr>");
	for (size_t r = 0; r <= d->nrows; r++) {
		if (r)
			vg_buf_puts(&d->html, "<tr>");
		for (size_t i = 0; i < d->ncols; i++) {
			const char *c = r ? d->cells[(r - 1) * d->ncols + i] : d->hdr[i];
			size_t l = u8len(c);
			if (i)
				vg_buf_puts(&d->text, "  ");
			if (d->right[i])
				pad(&d->text, w[i] - l);
			vg_buf_puts(&d->text, c);
			if (!d->right[i] && i + 1 < d->ncols)
				pad(&d->text, w[i] - l);
			vg_buf_puts(&d->html, r ? (d->right[i] ? "<td class=\"n\">" : "<td>")
					    : (d->right[i] ? "<th class=\"n\">" : "<th>"));
			html_esc(&d->html, c);
			vg_buf_puts(&d->html, r ? "</td>" : "</th>");
		}
		vg_buf_puts(&d->text, "\n");
		vg_buf_puts(&d->html, "</tr>\n");
	}
	vg_buf_puts(&d->html, "</table>\n");
out:
	for (size_t i = 0; i < d->nrows * d->ncols; i++)
		free(d->cells[i]);
	for (size_t i = 0; i < d->ncols; i++) {
		free(d->hdr[i]);
		d->hdr[i] = NULL;
	}
	d->nrows = 0;
	d->ncols = 0;
}

/* ---- formatting --------------------------------------------------------- */

static char *fmt_u64(uint64_t v, char *buf, size_t len)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
	size_t j = 0;
	for (int i = 0; i < n && j + 2 < len; i++) {
		if (i && (n - i) % 3 == 0)
			buf[j++] = ',';
		buf[j++] = tmp[i];
	}
	buf[j] = '\0';
	return buf;
}

static char *fmt_bytes(uint64_t v, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	double d = (double)v;
	int u = 0;
	while (d >= 1000 && u < 5) {
		d /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", v);
	else
		snprintf(buf, len, "%.1f %s", d, unit[u]);
	return buf;
}

static char *fmt_change(uint64_t now, uint64_t then, char *buf, size_t len)
{
	if (then == 0)
		snprintf(buf, len, now ? "new" : "=");
	else
		snprintf(buf, len, "%+.1f%%", 100.0 * ((double)now - (double)then) / (double)then);
	return buf;
}

static char *fmt_pct(uint64_t part, uint64_t whole, char *buf, size_t len)
{
	snprintf(buf, len, "%.1f%%", whole ? 100.0 * (double)part / (double)whole : 0.0);
	return buf;
}

static char *fmt_time(int64_t t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(buf, len, "%H:%M:%S", &tm);
	return buf;
}

static char *fmt_day(int64_t t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
	return buf;
}

int summary_parse_day(const char *s, int64_t *day)
{
	struct tm tm = {0};
	const char *e = s ? strptime(s, "%Y-%m-%d", &tm) : NULL;
	if (!e || *e || strlen(s) != 10)
		return -EINVAL;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*day = (int64_t)t;
	return 0;
}

/* ---- data --------------------------------------------------------------- */

struct totals {
	uint64_t packets, bytes, sources;
};

static int total_from_top(struct db *db, int64_t day, uint32_t sensor, enum db_category c,
		struct db_top *t, struct vg_err *err)
{
	struct db_range r = {day, day + DAY, sensor};
	return db_top(db, &r, c, 0, STATS_PACKETS, 0, t, err);
}

static int count_row(const struct db_source_row *r, void *ctx)
{
	(void)r;
	(*(uint64_t *)ctx)++;
	return 0;
}

static int day_totals(struct db *db, int64_t day, struct totals *t, struct vg_err *err)
{
	struct db_top top;
	memset(t, 0, sizeof *t);
	int rc = total_from_top(db, day, 0, DB_COUNTRY, &top, err);
	if (rc)
		return rc;
	t->packets = top.total.packets;
	t->bytes = top.total.bytes;
	return db_source_rows_foreach(db, day, day + DAY, count_row, &t->sources, err);
}

struct src_ent {
	uint64_t packets;
	char ip[48];
};

/* The day's sources (for the top list and the per-sensor counts) and
 * their /24 networks (for "new this day"). */
struct day_scan {
	struct src_ent *v;
	size_t n, cap;
	const struct cfg_central *c;
	uint64_t *sensor_sources;   /* per config sensor */
	uint32_t *nets;             /* open addressing set of /24 (value + 1) */
	uint64_t *net_packets;
	size_t nets_cap;
	int err;
};

static size_t net_slot(const struct day_scan *s, uint32_t key)
{
	size_t h = (size_t)(key * 2654435761u) & (s->nets_cap - 1);
	while (s->nets[h] && s->nets[h] != key + 1)
		h = (h + 1) & (s->nets_cap - 1);
	return h;
}

static int net_add(struct day_scan *s, uint32_t net, uint64_t packets)
{
	if ((s->n + 1) * 2 > s->nets_cap) {
		/* grown ahead of the source count: at most one net per source */
		size_t oc = s->nets_cap, nc = oc ? oc * 2 : 1024;
		uint32_t *old = s->nets;
		uint64_t *oldp = s->net_packets;
		s->nets = calloc(nc, sizeof *s->nets);
		s->net_packets = calloc(nc, sizeof *s->net_packets);
		if (!s->nets || !s->net_packets) {
			free(s->nets);
			free(s->net_packets);
			s->nets = old;
			s->net_packets = oldp;
			return -ENOMEM;
		}
		s->nets_cap = nc;
		for (size_t i = 0; i < oc; i++)
			if (old[i]) {
				size_t h = net_slot(s, old[i] - 1);
				s->nets[h] = old[i];
				s->net_packets[h] = oldp[i];
			}
		free(old);
		free(oldp);
	}
	size_t h = net_slot(s, net);
	s->nets[h] = net + 1;
	s->net_packets[h] += packets;
	return 0;
}

static bool ip24(const char *ip, uint32_t *net)
{
	uint8_t a[4];
	if (inet_pton(AF_INET, ip, a) != 1)
		return false;
	*net = (uint32_t)a[0] << 16 | (uint32_t)a[1] << 8 | a[2];
	return true;
}

static bool has_sensor(const char *list, uint32_t id)
{
	for (const char *p = list; *p;) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p)
			break;
		if (v == id)
			return true;
		p = *end == ',' ? end + 1 : end;
	}
	return false;
}

static int scan_day_row(const struct db_source_row *r, void *ctx)
{
	struct day_scan *s = ctx;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 4096;
		struct src_ent *nv = realloc(s->v, nc * sizeof *nv);
		if (!nv)
			return s->err = -ENOMEM;
		s->v = nv;
		s->cap = nc;
	}
	struct src_ent *e = &s->v[s->n];
	e->packets = r->packets;
	snprintf(e->ip, sizeof e->ip, "%s", r->ip);
	uint32_t net;
	if (ip24(r->ip, &net) && net_add(s, net, r->packets) < 0)
		return s->err = -ENOMEM;
	s->n++;
	for (size_t i = 0; i < s->c->nsensors; i++)
		if (has_sensor(r->sensors, s->c->sensors[i].id))
			s->sensor_sources[i]++;
	return 0;
}

/* A /24 seen in the 30 days before is not new: drop it from the set. */
static int scan_prior_row(const struct db_source_row *r, void *ctx)
{
	struct day_scan *s = ctx;
	uint32_t net;
	if (s->nets_cap && ip24(r->ip, &net)) {
		size_t h = net_slot(s, net);
		if (s->nets[h])
			s->net_packets[h] = UINT64_MAX; /* tombstone: seen before */
	}
	return 0;
}

static int cmp_src(const void *a, const void *b)
{
	const struct src_ent *x = a, *y = b;
	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	return strcmp(x->ip, y->ip);
}

struct keyset {
	char (*k)[64];
	uint64_t *packets;
	size_t n, cap;
	int err;
};

static int keyset_add(const char *key, uint64_t packets, uint64_t bytes, void *ctx)
{
	(void)bytes;
	struct keyset *s = ctx;
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 256;
		char (*nk)[64] = realloc(s->k, nc * sizeof *nk);
		if (!nk)
			return s->err = -ENOMEM;
		s->k = nk;
		uint64_t *np = realloc(s->packets, nc * sizeof *np);
		if (!np)
			return s->err = -ENOMEM;
		s->packets = np;
		s->cap = nc;
	}
	snprintf(s->k[s->n], 64, "%s", key);
	s->packets[s->n++] = packets;
	return 0;
}

static bool keyset_has(const struct keyset *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->k[i], key))
			return true;
	return false;
}

static void keyset_free(struct keyset *s)
{
	free(s->k);
	free(s->packets);
}

/* ---- sections ----------------------------------------------------------- */

static int sec_totals(struct doc *d, struct db *db, int64_t day, struct summary *out,
		struct vg_err *err)
{
	struct totals t0, t1, t7;
	int rc;
	if ((rc = day_totals(db, day, &t0, err)) || (rc = day_totals(db, day - DAY, &t1, err)) ||
	    (rc = day_totals(db, day - 7 * DAY, &t7, err)))
		return rc;
	out->packets = t0.packets;
	out->bytes = t0.bytes;
	out->sources = t0.sources;
	char db1[16], db7[16];
	fmt_day(day - DAY, db1, sizeof db1);
	fmt_day(day - 7 * DAY, db7, sizeof db7);
	doc_h(d, "Totals");
	char h1[40], h2[40];
	snprintf(h1, sizeof h1, "<vs %s", db1);
	snprintf(h2, sizeof h2, "<vs %s", db7);
	const char *hdr[] = {"", "<this day", h1, h2};
	doc_table(d, 4, hdr);
	struct { const char *name; uint64_t a, b, c; bool bytes; } rows[] = {
		{"packets", t0.packets, t1.packets, t7.packets, false},
		{"bytes", t0.bytes, t1.bytes, t7.bytes, true},
		{"source addresses", t0.sources, t1.sources, t7.sources, false},
	};
	for (size_t i = 0; i < 3; i++) {
		char v[40], c1[24], c7[24];
		if (rows[i].bytes)
			fmt_bytes(rows[i].a, v, sizeof v);
		else
			fmt_u64(rows[i].a, v, sizeof v);
		char *cells[] = {(char *)rows[i].name, v, fmt_change(rows[i].a, rows[i].b, c1, sizeof c1),
			fmt_change(rows[i].a, rows[i].c, c7, sizeof c7)};
		doc_row(d, cells);
	}
	doc_table_end(d, "");
	return 0;
}

static int sec_ports(struct doc *d, struct db *db, int64_t day, size_t top, struct vg_err *err)
{
	static const struct { enum db_category c; const char *title; } cats[] = {
		{DB_TCP_PORT, "Top TCP destination ports"},
		{DB_UDP_PORT, "Top UDP destination ports"},
	};
	struct db_range r = {day, day + DAY, 0};
	for (size_t k = 0; k < 2; k++) {
		struct db_top t;
		int rc = db_top(db, &r, cats[k].c, 0, STATS_PACKETS, top, &t, err);
		if (rc)
			return rc;
		doc_h(d, cats[k].title);
		const char *hdr[] = {"<#", "<port", "<packets", "<share", "<bytes"};
		doc_table(d, 5, hdr);
		for (size_t i = 0; i < t.n; i++) {
			char rank[24], p[32], sh[16], b[24];
			snprintf(rank, sizeof rank, "%zu", i + 1);
			char *cells[] = {rank, t.e[i].key, fmt_u64(t.e[i].packets, p, sizeof p),
				fmt_pct(t.e[i].packets, t.total.packets, sh, sizeof sh),
				fmt_bytes(t.e[i].bytes, b, sizeof b)};
			doc_row(d, cells);
		}
		doc_table_end(d, "None.");
	}
	return 0;
}

static int sec_protocols(struct doc *d, struct db *db, int64_t day, struct vg_err *err)
{
	struct db_top all, tcp, udp;
	int rc;
	if ((rc = total_from_top(db, day, 0, DB_COUNTRY, &all, err)) ||
	    (rc = total_from_top(db, day, 0, DB_TCP_PORT, &tcp, err)) ||
	    (rc = total_from_top(db, day, 0, DB_UDP_PORT, &udp, err)))
		return rc;
	doc_h(d, "Protocol mix");
	const char *hdr[] = {"protocol", "<packets", "<share", "<bytes"};
	doc_table(d, 4, hdr);
	uint64_t op = all.total.packets - tcp.total.packets - udp.total.packets;
	uint64_t ob = all.total.bytes - tcp.total.bytes - udp.total.bytes;
	if (tcp.total.packets + udp.total.packets > all.total.packets)
		op = ob = 0;
	struct { const char *n; uint64_t p, b; } rows[] = {
		{"TCP", tcp.total.packets, tcp.total.bytes},
		{"UDP", udp.total.packets, udp.total.bytes},
		{"other (ICMP, ...)", op, ob},
	};
	for (size_t i = 0; i < 3; i++) {
		char p[32], sh[16], b[24];
		char *cells[] = {(char *)rows[i].n, fmt_u64(rows[i].p, p, sizeof p),
			fmt_pct(rows[i].p, all.total.packets, sh, sizeof sh), fmt_bytes(rows[i].b, b, sizeof b)};
		doc_row(d, cells);
	}
	doc_table_end(d, "");
	return 0;
}

static void ports_text(const uint32_t *v, size_t n, char *buf, size_t len)
{
	size_t j = 0;
	buf[0] = '\0';
	size_t shown = n < 5 ? n : 5;
	for (size_t i = 0; i < shown && j + 16 < len; i++)
		j += (size_t)snprintf(buf + j, len - j, "%s%u%s", i ? " " : "",
				v[i] >= 65536 ? v[i] - 65536 : v[i], v[i] >= 65536 ? "/udp" : "");
	if (n > shown && j + 16 < len)
		snprintf(buf + j, len - j, " +%zu", n - shown);
}

static int sec_sources(struct doc *d, struct db *db, const struct sanitizer *san, int64_t day,
		size_t top, struct day_scan *s, struct vg_err *err)
{
	qsort(s->v, s->n, sizeof *s->v, cmp_src);
	doc_h(d, "Top source addresses");
	const char *hdr[] = {"<#", "source", "<packets", "<bytes", "ports", "country", "OS",
		"first", "last", "<sensors"};
	doc_table(d, 10, hdr);
	for (size_t i = 0; i < s->n && i < top; i++) {
		struct vg_ip ip = {0};
		if (inet_pton(AF_INET, s->v[i].ip, ip.a) == 1)
			ip.v = 4;
		else if (inet_pton(AF_INET6, s->v[i].ip, ip.a) == 1)
			ip.v = 6;
		else
			continue;
		struct db_source_day sd;
		int rc = db_source_day_get(db, day, &ip, &sd, err);
		if (rc < 0)
			return rc;
		if (rc == 0)
			continue;
		char rank[24], name[SANITIZE_TOKEN_MAX], p[32], b[24], ports[96], f[16], l[16], ns[16];
		snprintf(rank, sizeof rank, "%zu", i + 1);
		sanitize_ip(san, &ip, name, sizeof name);
		ports_text(sd.ports, sd.nports, ports, sizeof ports);
		snprintf(ns, sizeof ns, "%zu", sd.nsensors);
		char *cells[] = {rank, name, fmt_u64(sd.packets, p, sizeof p),
			fmt_bytes(sd.bytes, b, sizeof b), ports, sd.country, sd.os,
			fmt_time(sd.first_s, f, sizeof f), fmt_time(sd.last_s, l, sizeof l), ns};
		doc_row(d, cells);
		db_source_day_clear(&sd);
	}
	doc_table_end(d, "No source addresses this day.");
	return 0;
}

static int sec_os(struct doc *d, struct db *db, int64_t day, size_t top, struct vg_err *err)
{
	struct db_range r = {day, day + DAY, 0};
	struct db_top t;
	int rc = db_top(db, &r, DB_OS, 0, STATS_PACKETS, top, &t, err);
	if (rc)
		return rc;
	doc_h(d, "Top source operating systems");
	const char *hdr[] = {"<#", "OS (p0f)", "<packets", "<share"};
	doc_table(d, 4, hdr);
	for (size_t i = 0; i < t.n; i++) {
		char rank[24], p[32], sh[16];
		snprintf(rank, sizeof rank, "%zu", i + 1);
		char *cells[] = {rank, t.e[i].key, fmt_u64(t.e[i].packets, p, sizeof p),
			fmt_pct(t.e[i].packets, t.total.packets, sh, sizeof sh)};
		doc_row(d, cells);
	}
	doc_table_end(d, "None.");
	return 0;
}

struct health_ctx {
	const struct cfg_central *c;
	char (*text)[160];          /* per config sensor */
	int *worst;                 /* per config sensor, -1 none */
};

static const char *const state_name[] = {"OK", "WARN", "CRIT", "UNKNOWN"};

static int health_row(const char *sensor, const char *check, int last, int worst,
		const char *message, void *ctx)
{
	(void)message;
	struct health_ctx *h = ctx;
	for (size_t i = 0; i < h->c->nsensors; i++) {
		if (strcmp(h->c->sensors[i].name, sensor))
			continue;
		if (worst > h->worst[i])
			h->worst[i] = worst & 3;
		if (last != 0 || worst != 0) {
			size_t l = strlen(h->text[i]);
			/* the check's name and states only: messages may name hosts */
			snprintf(h->text[i] + l, sizeof h->text[i] - l, "%s%s %s (worst %s)",
					l ? "; " : "", check, state_name[last & 3], state_name[worst & 3]);
		}
	}
	return 0;
}

static int sec_sensors(struct doc *d, struct db *db, const struct cfg_central *c, int64_t day,
		const struct day_scan *s, struct vg_err *err)
{
	doc_h(d, "Sensors");
	struct health_ctx h = {c, NULL, NULL};
	int have = 0;
	if (c->nsensors) {
		h.text = calloc(c->nsensors, sizeof *h.text);
		h.worst = malloc(c->nsensors * sizeof *h.worst);
		if (!h.text || !h.worst) {
			free(h.text);
			free(h.worst);
			return vg_err_set(err, -ENOMEM, "summary: out of memory");
		}
		for (size_t i = 0; i < c->nsensors; i++)
			h.worst[i] = -1;
		have = db_health_foreach(db, (double)day, (double)(day + DAY), health_row, &h, err);
		if (have < 0) {
			free(h.text);
			free(h.worst);
			return have;
		}
	}
	const char *hdr[] = {"sensor", "institution", "<packets", "<bytes", "<sources", "health"};
	doc_table(d, 6, hdr);
	int rc = 0;
	for (size_t i = 0; i < c->nsensors; i++) {
		const struct cfg_sensor *cs = &c->sensors[i];
		struct db_top t;
		if ((rc = total_from_top(db, day, cs->id, DB_COUNTRY, &t, err)))
			break;
		char p[32], b[24], n[32], health[200];
		if (!have || h.worst[i] < 0)
			snprintf(health, sizeof health, "no status data");
		else if (h.worst[i] == 0)
			snprintf(health, sizeof health, "OK all day");
		else
			snprintf(health, sizeof health, "%s", h.text[i]);
		char *cells[] = {cs->public_name ? cs->public_name : cs->name,
			cs->institution ? cs->institution : "", fmt_u64(t.total.packets, p, sizeof p),
			fmt_bytes(t.total.bytes, b, sizeof b), fmt_u64(s->sensor_sources[i], n, sizeof n),
			health};
		if (cs->disabled && t.total.packets == 0)
			continue;
		doc_row(d, cells);
	}
	doc_table_end(d, "No sensors configured.");
	free(h.text);
	free(h.worst);
	return rc;
}

struct newport {
	char key[64];
	uint64_t packets;
	const char *proto;
};

static int cmp_newport(const void *a, const void *b)
{
	const struct newport *x = a, *y = b;
	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	return strcmp(x->key, y->key);
}

struct newnet {
	uint32_t net;
	uint64_t packets;
};

static int cmp_newnet(const void *a, const void *b)
{
	const struct newnet *x = a, *y = b;
	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	return x->net < y->net ? -1 : x->net > y->net;
}

/* A /24 holding a honeypot or a sensor would locate it: such networks
 * are left out of the list (their sources appear as tokens elsewhere). */
static bool net_is_secret(const struct sanitizer *san, uint32_t net)
{
	struct cidr c = {.net = {.v = 4, .a = {(uint8_t)(net >> 16), (uint8_t)(net >> 8),
				 (uint8_t)net}}, .len = 24};
	return sanitize_net_is_secret(san, &c);
}

static int sec_new(struct doc *d, struct db *db, const struct sanitizer *san, int64_t day,
		size_t top, struct day_scan *s, struct vg_err *err)
{
	doc_h(d, "New this day");
	doc_p(d, "Not seen in the %d days before.", NEW_WINDOW_DAYS);
	struct newport *np = NULL;
	size_t nnp = 0, cap = 0;
	int rc = 0;
	static const struct { enum db_category c; const char *proto; } cats[] = {
		{DB_TCP_PORT, "TCP"}, {DB_UDP_PORT, "UDP"},
	};
	for (size_t k = 0; k < 2 && !rc; k++) {
		struct keyset now = {0}, before = {0};
		struct db_range rn = {day, day + DAY, 0};
		struct db_range rb = {day - NEW_WINDOW_DAYS * (int64_t)DAY, day, 0};
		rc = db_key_totals(db, &rn, cats[k].c, keyset_add, &now, err);
		if (!rc)
			rc = db_key_totals(db, &rb, cats[k].c, keyset_add, &before, err);
		if (!rc && (now.err || before.err))
			rc = vg_err_set(err, -ENOMEM, "summary: out of memory");
		for (size_t i = 0; !rc && i < now.n; i++) {
			if (keyset_has(&before, now.k[i]))
				continue;
			if (nnp == cap) {
				cap = cap ? cap * 2 : 64;
				struct newport *nv = realloc(np, cap * sizeof *nv);
				if (!nv) {
					rc = vg_err_set(err, -ENOMEM, "summary: out of memory");
					break;
				}
				np = nv;
			}
			snprintf(np[nnp].key, sizeof np[nnp].key, "%s", now.k[i]);
			np[nnp].packets = now.packets[i];
			np[nnp++].proto = cats[k].proto;
		}
		keyset_free(&now);
		keyset_free(&before);
	}
	if (rc) {
		free(np);
		return rc;
	}
	if (nnp)
		qsort(np, nnp, sizeof *np, cmp_newport);
	char sub[96];
	snprintf(sub, sizeof sub, "New destination ports: %zu", nnp);
	doc_p(d, "%s", sub);
	const char *hdr[] = {"protocol", "<port", "<packets"};
	doc_table(d, 3, hdr);
	for (size_t i = 0; i < nnp && i < top; i++) {
		char p[32];
		char *cells[] = {(char *)np[i].proto, np[i].key, fmt_u64(np[i].packets, p, sizeof p)};
		doc_row(d, cells);
	}
	doc_table_end(d, "None.");
	free(np);

	rc = db_source_rows_foreach(db, day - NEW_WINDOW_DAYS * (int64_t)DAY, day, scan_prior_row, s,
			err);
	if (rc)
		return rc;
	struct newnet *nn = NULL;
	size_t nnn = 0;
	if (s->nets_cap && !(nn = malloc(s->nets_cap * sizeof *nn)))
		return vg_err_set(err, -ENOMEM, "summary: out of memory");
	for (size_t i = 0; i < s->nets_cap; i++)
		if (s->nets[i] && s->net_packets[i] != UINT64_MAX &&
		    !net_is_secret(san, s->nets[i] - 1)) {
			nn[nnn].net = s->nets[i] - 1;
			nn[nnn++].packets = s->net_packets[i];
		}
	if (nnn)
		qsort(nn, nnn, sizeof *nn, cmp_newnet);
	doc_p(d, "New source networks (/24): %zu", nnn);
	const char *hdr2[] = {"network", "<packets"};
	doc_table(d, 2, hdr2);
	for (size_t i = 0; i < nnn && i < top; i++) {
		char net[32], p[32];
		snprintf(net, sizeof net, "%u.%u.%u.0/24", nn[i].net >> 16, (nn[i].net >> 8) & 255,
				nn[i].net & 255);
		char *cells[] = {net, fmt_u64(nn[i].packets, p, sizeof p)};
		doc_row(d, cells);
	}
	doc_table_end(d, "None.");
	free(nn);
	return 0;
}

static void sec_incidents(struct doc *d, const struct summary_opts *o)
{
	doc_h(d, "Incidents");
	if (!o->incidents) {
		doc_p(d, "No incident data yet.");
		return;
	}
	const char *hdr[] = {"category", "<incidents"};
	doc_table(d, 2, hdr);
	for (size_t i = 0; i < o->nincidents; i++) {
		char n[32];
		char *cells[] = {(char *)o->incidents[i].category,
			fmt_u64(o->incidents[i].count, n, sizeof n)};
		doc_row(d, cells);
	}
	doc_table_end(d, "None this day.");
}

/* ---- the whole -------------------------------------------------------- */

int summary_build(struct db *db, const struct cfg_central *c, const struct sanitizer *san,
		  const struct summary_opts *o, struct summary *out, struct vg_err *err)
{
	memset(out, 0, sizeof *out);
	size_t top = o->top ? o->top : 10;
	if (top > DB_TOP_MAX)
		top = DB_TOP_MAX;
	int64_t day = o->day;
	char dn[16];
	fmt_day(day, dn, sizeof dn);
	struct doc d = {0};
	struct day_scan s = {.c = c};
	int rc = 0;
	if (c->nsensors && !(s.sensor_sources = calloc(c->nsensors, sizeof *s.sensor_sources)))
		return vg_err_set(err, -ENOMEM, "summary: out of memory");

	char title[96];
	snprintf(title, sizeof title, "vigia summary %s", dn);
	vg_buf_printf(&d.text, "%s\n", title);
	vg_buf_printf(&d.text, "Activity seen by the alliance's honeypots on %s (00:00-24:00 UTC).\n"
			"Honeypot addresses appear as hp-SENSOR.HOST.\n", dn);
	vg_buf_puts(&d.html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
	html_esc(&d.html, title);
	vg_buf_puts(&d.html, "</title>\n<style>body{font-family:sans-serif}"
			"table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd}"
			".n{text-align:right}</style></head><body>\n<h1>");
	html_esc(&d.html, title);
	vg_buf_printf(&d.html, "</h1>\n<p>Activity seen by the alliance's honeypots on %s "
			"(00:00-24:00 UTC). Honeypot addresses appear as hp-SENSOR.HOST.</p>\n", dn);

	rc = db_source_rows_foreach(db, day, day + DAY, scan_day_row, &s, err);
	if (!rc && s.err)
		rc = vg_err_set(err, s.err, "summary: out of memory");
	if (!rc)
		rc = sec_totals(&d, db, day, out, err);
	if (!rc)
		rc = sec_protocols(&d, db, day, err);
	if (!rc)
		rc = sec_ports(&d, db, day, top, err);
	if (!rc)
		rc = sec_sources(&d, db, san, day, top, &s, err);
	if (!rc)
		rc = sec_os(&d, db, day, top, err);
	if (!rc)
		rc = sec_sensors(&d, db, c, day, &s, err);
	if (!rc)
		rc = sec_new(&d, db, san, day, top, &s, err);
	if (!rc)
		sec_incidents(&d, o);
	vg_buf_puts(&d.text, "\n-- \nvigia, the alliance's early-warning system.\n");
	vg_buf_puts(&d.html, "<hr><p>vigia, the alliance's early-warning system.</p>\n</body></html>\n");
	if (!rc && (d.rc || d.text.rc || d.html.rc))
		rc = vg_err_set(err, -ENOMEM, "summary: out of memory");
	free(s.v);
	free(s.sensor_sources);
	free(s.nets);
	free(s.net_packets);
	free(d.cells);
	for (size_t i = 0; i < MAX_COLS; i++)
		free(d.hdr[i]);
	size_t r1 = 0, r2 = 0;
	if (!rc)
		rc = sanitize_text(san, d.text.p, d.text.n, &out->text, &out->text_len, &r1);
	if (!rc)
		rc = sanitize_text(san, d.html.p, d.html.n, &out->html, &out->html_len, &r2);
	if (rc == -ENOMEM && err && !err->code)
		vg_err_set(err, rc, "summary: out of memory");
	free(d.text.p);
	free(d.html.p);
	out->replaced = r1 + r2;
	if (!rc && !(out->subject = strdup(title)))
		rc = vg_err_set(err, -ENOMEM, "summary: out of memory");
	if (rc)
		summary_free(out);
	return rc;
}

void summary_free(struct summary *s)
{
	free(s->subject);
	free(s->text);
	free(s->html);
	memset(s, 0, sizeof *s);
}
