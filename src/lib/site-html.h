/* site-html.h: the public statistics site, written atomically.
 *
 * Layout under OUT (every link relative, no script, CSS inline):
 *   index.html                       days, weeks and months, newest first
 *   day/YYYY-MM-DD/index.html        a page per day: every graph and top 10
 *   week/YYYY-Www/, month/YYYY-MM/   the same over a week (1 h bins) and a
 *                                    month (6 h bins)
 *   <period>/<view>.png .svg .csv .json   one graph set per view
 *   <period>/totals.txt              "packets bytes" (read by the index)
 *
 * A period is built in OUT/.staging-XXXXXX and swapped in with one
 * renameat2(RENAME_EXCHANGE) (or rename when new), the index written to a
 * temporary file and renamed: a reader sees the old period or the new
 * one, never a mixture.  OUT/.lock serialises concurrent builds.
 *
 * Only the bin table's keys (ports, country codes, OS labels) and counts
 * reach the output: no sensor, institution or address is ever read.
 */
#ifndef VIGIA_SITE_HTML_H
#define VIGIA_SITE_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "site-data.h"
#include "vg-err.h"

struct site_opts {
	const char *out;            /* OUT directory (created when absent) */
	const char *zone;           /* name shown on graphs and pages */
	const char *iso_json;       /* NULL: SITE_ISO3166_JSON */
	const char *nmap_services;  /* NULL: SITE_NMAP_SERVICES */
	/* Called after each graph set written (may be NULL). */
	void (*progress)(void *ctx, const struct site_period *p, size_t done, size_t total);
	void *ctx;
};

struct site_result {
	size_t periods[3];          /* days, weeks, months written */
	size_t graph_sets;          /* view x period: PNG + SVG + CSV + JSON */
	size_t files;
	uint64_t bytes;
};

/* Build the given periods, then the index (listing every period present
 * under OUT, old and new).  On error, the period at fault is left as it
 * was and err names the file and what failed. */
int site_build(struct db *db, const struct site_opts *o, const struct site_period *periods,
	       size_t nperiods, struct site_result *res, struct vg_err *err);

/* The section title of a view's category ("TCP destination ports"). */
const char *site_view_title(const struct an_view *v);
/* "tcp_port", "windows_os" (the view's name without the measure). */
const char *site_view_group(const struct an_view *v, char *buf, size_t len);

#endif
