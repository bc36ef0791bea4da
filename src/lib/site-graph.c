/* site-graph.c: stacked-area graphs with cairo (PNG and SVG from one
 * drawing routine). */
#include "site-graph.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <png.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MARGIN_L 78
#define MARGIN_R 24
#define TOP 64
#define PLOT_H 300
#define AXIS_H 44
#define LEGEND_ROW 22
#define LEGEND_COLS 2

int site_graph_height(size_t n)
{
	size_t rows = (n + 1 + LEGEND_COLS - 1) / LEGEND_COLS;
	return TOP + PLOT_H + AXIS_H + (int)rows * LEGEND_ROW + 16;
}

const char *site_si(double v, char *buf, size_t len)
{
	static const char *const pre[] = {"", " k", " M", " G", " T", " P", " E"};
	int i = 0;
	double a = fabs(v);
	while (a >= 999.5 && i < 6) {
		a /= 1000;
		v /= 1000;
		i++;
	}
	if (v == 0)
		snprintf(buf, len, "0");
	else
		snprintf(buf, len, "%.3g%s", v, pre[i]);
	return buf;
}

static void rgb(cairo_t *cr, uint32_t c)
{
	cairo_set_source_rgb(cr, ((c >> 16) & 255) / 255.0, ((c >> 8) & 255) / 255.0,
			     (c & 255) / 255.0);
}

/* A round step for about 5 ticks up to max: 1, 2, 2.5 or 5 times 10^k. */
static double nice_step(double max)
{
	double raw = max / 5;
	double p = pow(10, floor(log10(raw)));
	double m = raw / p;
	double s = m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10;
	return s * p;
}

/* Text cut to `maxw` pixels with an ellipsis (on a UTF-8 boundary). */
static void fit_text(cairo_t *cr, const char *s, double maxw, char *out, size_t len)
{
	snprintf(out, len, "%s", s);
	cairo_text_extents_t te;
	cairo_text_extents(cr, out, &te);
	size_t n = strlen(out);
	while (te.x_advance > maxw && n > 1) {
		do
			n--;
		while (n > 1 && ((unsigned char)out[n] & 0xc0) == 0x80);
		if (n + 4 > len)
			n = len - 4;
		memcpy(out + n, "\xe2\x80\xa6", 4); /* U+2026 */
		cairo_text_extents(cr, out, &te);
	}
}

static void draw(cairo_t *cr, const struct site_graph *g, int h)
{
	const struct site_view *v = g->v;
	const struct site_period *p = g->p;
	const size_t n = v->top.n, nb = v->nbins;
	const double x0 = MARGIN_L, x1 = SITE_GRAPH_W - MARGIN_R, y0 = TOP, y1 = TOP + PLOT_H;
	const bool bytes = v->view->measure == STATS_BYTES;
	char buf[256], cut[256];

	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, 0, 0, SITE_GRAPH_W, h);
	cairo_fill(cr);
	cairo_select_font_face(cr, SITE_FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
	cairo_set_font_size(cr, 17);
	rgb(cr, 0x202020);
	snprintf(buf, sizeof buf, "%s, %s — %s", g->title, bytes ? "bytes/s" : "packets/s",
		 p->name);
	cairo_move_to(cr, 12, 24);
	cairo_show_text(cr, buf);
	cairo_select_font_face(cr, SITE_FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, 12);
	rgb(cr, 0x505050);
	char abbr[16] = "";
	time_t ts = (time_t)p->start;
	struct tm tm;
	localtime_r(&ts, &tm);
	strftime(abbr, sizeof abbr, "%Z", &tm);
	char binw[32];
	if (v->bin % 3600 == 0)
		snprintf(binw, sizeof binw, "%lld-hour", (long long)(v->bin / 3600));
	else if (v->bin % 60 == 0)
		snprintf(binw, sizeof binw, "%lld-minute", (long long)(v->bin / 60));
	else
		snprintf(binw, sizeof binw, "%lld-second", (long long)v->bin);
	/* The zone's name, and its abbreviation when that says more
	 * ("America/Sao_Paulo (-03)"); "UTC" alone for UTC. */
	if (*abbr && strcmp(abbr, g->zone))
		snprintf(buf, sizeof buf, "Top 10 and Others, stacked; mean rate per %s bin.  "
			 "Time zone: %s (%s)", binw, g->zone, abbr);
	else
		snprintf(buf, sizeof buf, "Top 10 and Others, stacked; mean rate per %s bin.  "
			 "Time zone: %s", binw, g->zone);
	cairo_move_to(cr, 12, 44);
	cairo_show_text(cr, buf);

	/* Stack heights (rates). */
	double *cum = calloc((n + 2) * (nb ? nb : 1), sizeof *cum);
	double ymax = 0;
	if (cum) {
		for (size_t b = 0; b < nb; b++) {
			double s = 0;
			for (size_t r = 0; r <= n; r++) {
				s += (double)site_view_at(v, r, b) / (double)v->bin;
				cum[(r + 1) * nb + b] = s;
			}
			if (s > ymax)
				ymax = s;
		}
	}
	bool empty = ymax <= 0;
	if (empty)
		ymax = 1;
	double step = nice_step(ymax);
	double top = ceil(ymax / step - 1e-9) * step;
	if (top <= 0)
		top = step;

	/* Grid and y labels. */
	cairo_set_line_width(cr, 1);
	cairo_set_font_size(cr, 11);
	for (int i = 0; i * step <= top * (1 + 1e-9); i++) {
		double val = i * step;
		double y = floor(y1 - val / top * PLOT_H) + 0.5;
		rgb(cr, i ? 0xe0e0e0 : 0x808080);
		cairo_move_to(cr, x0, y);
		cairo_line_to(cr, x1, y);
		cairo_stroke(cr);
		rgb(cr, 0x303030);
		site_si(val, buf, sizeof buf);
		cairo_text_extents_t te;
		cairo_text_extents(cr, buf, &te);
		cairo_move_to(cr, x0 - 6 - te.x_advance, y + 4);
		cairo_show_text(cr, buf);
	}
	/* The unit, rotated along the y axis. */
	cairo_save(cr);
	cairo_set_font_size(cr, 12);
	const char *unit = bytes ? "bytes/s" : "packets/s";
	cairo_text_extents_t ue;
	cairo_text_extents(cr, unit, &ue);
	cairo_move_to(cr, 16, (y0 + y1) / 2 + ue.x_advance / 2);
	cairo_rotate(cr, -M_PI / 2);
	cairo_show_text(cr, unit);
	cairo_restore(cr);

	/* Layers: Others last, on top.  Steps: each bin is flat over its
	 * width, the exact mean rate of the bin. */
	double span = (double)(p->end - p->start);
	if (cum && nb) {
		for (size_t r = 0; r <= n; r++) {
			const double *lo = cum + r * nb, *hi = cum + (r + 1) * nb;
			rgb(cr, g->rgb[r]);
			for (size_t b = 0; b < nb; b++) {
				double xa = x0 + (double)(b * v->bin) / span * (x1 - x0);
				double xb = x0 + (double)((b + 1) * v->bin) / span * (x1 - x0);
				if (xb > x1)
					xb = x1;
				double ya = y1 - hi[b] / top * PLOT_H;
				if (b == 0)
					cairo_move_to(cr, xa, ya);
				else
					cairo_line_to(cr, xa, ya);
				cairo_line_to(cr, xb, ya);
			}
			for (size_t b = nb; b-- > 0;) {
				double xa = x0 + (double)(b * v->bin) / span * (x1 - x0);
				double xb = x0 + (double)((b + 1) * v->bin) / span * (x1 - x0);
				if (xb > x1)
					xb = x1;
				double ya = y1 - lo[b] / top * PLOT_H;
				cairo_line_to(cr, xb, ya);
				cairo_line_to(cr, xa, ya);
			}
			cairo_close_path(cr);
			cairo_fill(cr);
		}
	}
	free(cum);
	if (empty) {
		rgb(cr, 0x808080);
		cairo_set_font_size(cr, 14);
		cairo_move_to(cr, (x0 + x1) / 2 - 50, (y0 + y1) / 2);
		cairo_show_text(cr, "no traffic");
	}
	rgb(cr, 0x808080);
	cairo_rectangle(cr, x0 + 0.5, y0 + 0.5, x1 - x0 - 1, PLOT_H - 1);
	cairo_stroke(cr);

	/* Time ticks at local midnights (week, month) or every 3 hours (day),
	 * placed by mktime so DST days stretch or shrink as they should. */
	cairo_set_font_size(cr, 11);
	struct tm base;
	localtime_r(&ts, &base);
	double last_label_x = -1e9;
	for (int i = 0; i <= 32 * 8; i++) {
		struct tm t = base;
		t.tm_isdst = -1;
		t.tm_min = t.tm_sec = 0;
		int fmt;
		if (p->kind == SITE_DAY) {
			if (i > 8)
				break;
			t.tm_hour = 3 * i;
			fmt = 0;
		} else {
			if (i > 31)
				break;
			t.tm_hour = 0;
			t.tm_mday += i;
			fmt = p->kind == SITE_WEEK ? 1 : 2;
		}
		time_t tt = mktime(&t);
		if (tt == (time_t)-1 || tt < p->start || tt > p->end)
			continue;
		double x = floor(x0 + (double)(tt - p->start) / span * (x1 - x0)) + 0.5;
		rgb(cr, 0x808080);
		cairo_move_to(cr, x, y1);
		cairo_line_to(cr, x, y1 + 5);
		cairo_stroke(cr);
		struct tm lt;
		localtime_r(&tt, &lt);
		if (fmt == 0)
			strftime(buf, sizeof buf, "%H:%M", &lt);
		else if (fmt == 1)
			strftime(buf, sizeof buf, "%a %d", &lt);
		else
			strftime(buf, sizeof buf, "%d", &lt);
		if (p->kind == SITE_DAY && tt == p->end)
			snprintf(buf, sizeof buf, "24:00");
		cairo_text_extents_t te;
		cairo_text_extents(cr, buf, &te);
		double lx = x - te.x_advance / 2;
		if (lx < last_label_x + 6 || lx + te.x_advance > SITE_GRAPH_W - 2)
			continue;
		rgb(cr, 0x303030);
		cairo_move_to(cr, lx, y1 + 18);
		cairo_show_text(cr, buf);
		last_label_x = lx + te.x_advance;
	}
	rgb(cr, 0x505050);
	cairo_set_font_size(cr, 11);
	snprintf(buf, sizeof buf, "local time, %s", g->zone);
	cairo_text_extents_t ze;
	cairo_text_extents(cr, buf, &ze);
	cairo_move_to(cr, x1 - ze.x_advance, y1 + 34);
	cairo_show_text(cr, buf);

	/* Legend: rank order, left column first. */
	cairo_set_font_size(cr, 13);
	size_t rows = (n + 1 + LEGEND_COLS - 1) / LEGEND_COLS;
	double colw = (SITE_GRAPH_W - 24) / (double)LEGEND_COLS;
	for (size_t r = 0; r <= n; r++) {
		size_t col = r / rows, row = r % rows;
		double lx = 12 + col * colw, ly = y1 + AXIS_H + row * LEGEND_ROW;
		rgb(cr, g->rgb[r]);
		cairo_rectangle(cr, lx, ly, 14, 14);
		cairo_fill(cr);
		rgb(cr, 0x202020);
		if (r < n)
			snprintf(buf, sizeof buf, "%zu. %s", r + 1, g->labels[r]);
		else
			snprintf(buf, sizeof buf, "%s", g->labels[r]);
		fit_text(cr, buf, colw - 30, cut, sizeof cut);
		cairo_move_to(cr, lx + 20, ly + 12);
		cairo_show_text(cr, cut);
	}
}

/* PNG through libpng rather than cairo_surface_write_to_png: cairo's
 * choice (default zlib level, every filter tried per row) spends most of
 * a month's regeneration compressing.  Flat colours compress as well
 * with the Sub filter at level 3, several times faster. */
struct png_out {
	FILE *f;
	const char *path;
	struct vg_err *err;
	int rc;
};

static void png_fail(png_structp png, png_const_charp msg)
{
	struct png_out *o = png_get_error_ptr(png);
	o->rc = vg_err_set(o->err, -EIO, "%s: cannot write the graph: %s", o->path, msg);
	png_longjmp(png, 1);
}

static void png_warn(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static int write_png(cairo_surface_t *s, const char *path, struct vg_err *err)
{
	cairo_surface_flush(s);
	const unsigned char *data = cairo_image_surface_get_data(s);
	int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
	int stride = cairo_image_surface_get_stride(s);
	struct png_out o = {.path = path, .err = err};
	if (!data)
		return vg_err_set(err, -ENOMEM, "%s: no image to write", path);
	unsigned char *line = malloc((size_t)w * 3);
	o.f = fopen(path, "wb");
	if (!o.f || !line) {
		int e = errno ? errno : ENOMEM;
		free(line);
		if (o.f)
			fclose(o.f);
		return vg_err_set(err, -e, "%s: cannot create: %s", path, strerror(e));
	}
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &o, png_fail, png_warn);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	if (!png || !info) {
		png_destroy_write_struct(&png, &info);
		fclose(o.f);
		free(line);
		return vg_err_set(err, -ENOMEM, "%s: out of memory", path);
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		fclose(o.f);
		free(line);
		return o.rc ? o.rc : vg_err_set(err, -EIO, "%s: cannot write the graph", path);
	}
	png_init_io(png, o.f);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_set_compression_level(png, 3);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
	png_write_info(png, info);
	for (int y = 0; y < h; y++) {
		/* CAIRO_FORMAT_RGB24: one native-endian uint32 xRGB per pixel */
		const uint32_t *px = (const uint32_t *)(const void *)(data + (size_t)y * (size_t)stride);
		for (int x = 0; x < w; x++) {
			line[3 * x] = (unsigned char)(px[x] >> 16);
			line[3 * x + 1] = (unsigned char)(px[x] >> 8);
			line[3 * x + 2] = (unsigned char)px[x];
		}
		png_write_row(png, line);
	}
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	free(line);
	if (fclose(o.f))
		return vg_err_set(err, -errno, "%s: cannot write: %s", path, strerror(errno));
	return 0;
}

static int status_err(cairo_status_t st, const char *path, struct vg_err *err)
{
	int code = st == CAIRO_STATUS_NO_MEMORY ? -ENOMEM
		 : st == CAIRO_STATUS_WRITE_ERROR ? -EIO : -EINVAL;
	return vg_err_set(err, code, "%s: cannot write the graph: %s", path,
			  cairo_status_to_string(st));
}

int site_graph_write(const struct site_graph *g, const char *png_path, const char *svg_path,
		     struct vg_err *err)
{
	int h = site_graph_height(g->v->top.n);
	if (png_path) {
		cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, SITE_GRAPH_W, h);
		cairo_t *cr = cairo_create(s);
		draw(cr, g, h);
		cairo_status_t st = cairo_status(cr);
		cairo_destroy(cr);
		int rc = st == CAIRO_STATUS_SUCCESS ? write_png(s, png_path, err)
						    : status_err(st, png_path, err);
		cairo_surface_destroy(s);
		if (rc)
			return rc;
	}
	if (svg_path) {
		cairo_surface_t *s = cairo_svg_surface_create(svg_path, SITE_GRAPH_W, h);
		cairo_t *cr = cairo_create(s);
		draw(cr, g, h);
		cairo_status_t st = cairo_status(cr);
		cairo_destroy(cr);
		cairo_surface_finish(s);
		if (st == CAIRO_STATUS_SUCCESS)
			st = cairo_surface_status(s);
		cairo_surface_destroy(s);
		if (st != CAIRO_STATUS_SUCCESS)
			return status_err(st, svg_path, err);
	}
	return 0;
}

void site_graph_release(void)
{
	cairo_debug_reset_static_data();
	FcFini();
}
