/* site-data.h: what `vigia stats` draws, read from the database.
 *
 * A period is a day, an ISO week or a calendar month in the configured
 * time zone; its series are the database's bins summed into bins of the
 * period's width (a day: the database's bin_seconds; a week: 1 hour; a
 * month: 6 hours).  For each of the 12 views of an-report.h (category x
 * measure, with windows_os / other_os as views of os) a period holds the
 * top 10 ranked exactly as `vigia analyze` ranks them (db_top), Others,
 * and the per-bin values of each.  Nothing here knows a sensor or an
 * address: the bins hold only ports, country codes and OS labels.
 */
#ifndef VIGIA_SITE_DATA_H
#define VIGIA_SITE_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "an-report.h"
#include "db.h"
#include "vg-err.h"

enum site_kind { SITE_DAY = 0, SITE_WEEK, SITE_MONTH };

struct site_period {
	enum site_kind kind;
	char name[16];              /* "2026-11-01", "2026-W44", "2026-11" */
	int64_t start, end;         /* local midnight at both ends, epoch s */
	int64_t bin;                /* series bin width, seconds */
	size_t nbins;               /* ceil((end - start) / bin) */
};

/* Use `zone` (an IANA name such as "America/Sao_Paulo", or "UTC") for
 * every local time below.  This sets TZ in the process environment:
 * -ENOENT when the zone is not in the system's zoneinfo. */
int site_tz_use(const char *zone, struct vg_err *err);

/* Parse "YYYY-MM-DD" (a real date) into *y, *m, *d; -EINVAL otherwise. */
int site_parse_date(const char *s, int *y, int *m, int *d);
/* The period of `kind` holding the local day y-m-d; bin_seconds is the
 * database's bin width (a period's bin is a multiple of it). */
int site_period_of(enum site_kind kind, int y, int m, int d, int64_t bin_seconds,
		   struct site_period *out, struct vg_err *err);
/* The local date holding epoch second t. */
void site_local_date(int64_t t, int *y, int *m, int *d);

/* One view over one period. */
struct site_view {
	const struct an_view *view;
	struct db_top top;          /* top 10, Others and total (as analyze) */
	size_t nbins;
	int64_t start, bin;
	uint64_t *series;           /* (top.n + 1) * nbins, Others last */
};

struct site_data {
	struct site_period period;
	size_t nviews;              /* an_nviews */
	struct site_view *views;
};

/* Read every view of the period; free with site_data_free. */
int site_data_load(struct db *db, const struct site_period *p, struct site_data *out,
		   struct vg_err *err);
void site_data_free(struct site_data *d);

/* Value of series row r (0..top.n, top.n = Others) in bin b. */
static inline uint64_t site_view_at(const struct site_view *v, size_t r, size_t b)
{
	return v->series[r * v->nbins + b];
}

#endif
