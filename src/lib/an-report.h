/* an-report.h: the analysis results as documents: the JSON of
 * docs/analyze-json.md and the CSV files of docs/analyze-csv.md.
 *
 * The published categories are views of the engine's four counted ones:
 * tcp_port, udp_port, country and os, each in packets and in bytes, and
 * windows_os / other_os, the os category split by p0f's "win" class. */
#ifndef VIGIA_AN_REPORT_H
#define VIGIA_AN_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "an-engine.h"

#define AN_TOP_N 10
/* Series longer than this are left out of the documents: captures that
 * span years at 5-minute bins would make gigabytes of zeros.  347 days
 * at 300 s. */
#define AN_MAX_SERIES_BINS 100000u

struct an_view {
	const char *name;           /* "tcp_port_bytes" */
	enum an_category cat;
	enum stats_measure measure;
	int os_filter;              /* 0 all, 1 windows only, 2 non-windows only */
};

extern const struct an_view an_views[];
extern const size_t an_nviews;

/* One view's result: the top keys, Others, and their series. */
struct an_top {
	size_t n;                               /* keys in top (<= AN_TOP_N) */
	unsigned keys[AN_TOP_N];
	struct stats_counts tot[AN_TOP_N];
	struct stats_counts others;
	struct stats_counts total;
	int64_t first_bin;
	size_t nbins;
	uint64_t *series;                       /* (n + 1) * nbins, Others last */
};

/* Compute a view; free with an_top_free(). Returns 0 or -ENOMEM. */
int an_top_compute(const struct an_engine *e, const struct an_view *v, struct an_top *t);
/* The same without series (nbins = 0, series = NULL). */
int an_top_compute_totals(const struct an_engine *e, const struct an_view *v, struct an_top *t);
/* True when the analysed span has too many bins for series. */
bool an_series_omitted(const struct an_engine *e);
void an_top_free(struct an_top *t);

/* Bin range of the whole analysis: false when nothing was counted. */
int an_bin_range(const struct an_engine *e, int64_t *first, size_t *nbins);

struct an_input_info {
	unsigned files, files_bad;
	const char *const *honeynets;   /* text of each --honeynet */
	size_t nhoneynets;
};

int an_report_json(const struct an_engine *e, const struct an_input_info *in,
		   FILE *f, bool pretty);
/* Writes DIR/<view>.csv for every view, and DIR/top.csv. */
int an_report_csv(const struct an_engine *e, const char *dir, struct vg_err *err);

/* Per-source CSV (docs/analyze-csv.md): ip,country,os,packets,bytes,first,last
 * for every source with counted packets, most packets first. */
int an_report_sources(const struct an_engine *e, const char *path, struct vg_err *err);

/* RFC 3339 UTC time with microseconds ("2026-11-01T00:00:00.000000Z"). */
const char *an_rfc3339(uint64_t ns, char *buf, size_t len);

#endif
