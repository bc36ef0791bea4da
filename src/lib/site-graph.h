/* site-graph.h: one view of one period as a stacked-area graph, PNG and
 * SVG, drawn with cairo.
 *
 * Each layer is a key's rate per second in each bin (bin value / bin
 * width), the top 10 from the bottom up, Others on top; the y axis in
 * bytes/s or packets/s with SI prefixes; the x axis in local time of the
 * configured zone, whose name is printed on the graph; a legend under it.
 */
#ifndef VIGIA_SITE_GRAPH_H
#define VIGIA_SITE_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "site-data.h"
#include "vg-err.h"

#define SITE_GRAPH_W 960
#define SITE_FONT "DejaVu Sans"

struct site_graph {
	const struct site_view *v;
	const struct site_period *p;
	const char *title;          /* "TCP destination ports" */
	const char *zone;           /* shown on the graph */
	const char *const *labels;  /* top.n + 1 legend labels, Others last */
	const uint32_t *rgb;        /* top.n + 1 colours, 0xRRGGBB */
};

/* Height of the graph for a view with n top keys. */
int site_graph_height(size_t n);
/* Draw to png_path and svg_path (either may be NULL). */
int site_graph_write(const struct site_graph *g, const char *png_path, const char *svg_path,
		     struct vg_err *err);

/* Drop cairo's and fontconfig's process-wide caches (fonts, patterns):
 * call once at exit, after the last graph, so leak checkers see none. */
void site_graph_release(void);

/* "1.5 k", "20 M", "0" (3 significant digits; SI prefixes up to E). */
const char *site_si(double v, char *buf, size_t len);

#endif
