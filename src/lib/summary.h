/* summary.h: the members' daily summary, read from the database
 * (issue 7, docs/summary.md).
 *
 * One model of sections and tables is built from the database, then
 * rendered twice (plain text, HTML) and passed whole through the
 * sanitizer, so both renderings say the same and neither holds a
 * honeypot or sensor address. */
#ifndef VIGIA_SUMMARY_H
#define VIGIA_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "cfg-central.h"
#include "db.h"
#include "sanitize.h"
#include "vg-err.h"

/* The day's incidents by category, once issue 8 stores them: the caller
 * fills these; with none given the section says so. */
struct summary_incident_count {
	const char *category;
	uint64_t count;
};

struct summary_opts {
	int64_t day;                /* 00:00 UTC of the day summarized */
	size_t top;                 /* entries per top list (1..DB_TOP_MAX) */
	const struct summary_incident_count *incidents; /* NULL: not available */
	size_t nincidents;
};

struct summary {
	char *subject;              /* "vigia summary 2026-11-01" */
	char *text;                 /* UTF-8, LF line ends, sanitized */
	size_t text_len;
	char *html;                 /* a whole HTML document, sanitized */
	size_t html_len;
	uint64_t packets, bytes, sources; /* the day's totals (for callers' reports) */
	size_t replaced;            /* addresses the sanitizer replaced */
};

int summary_build(struct db *db, const struct cfg_central *c, const struct sanitizer *san,
		  const struct summary_opts *o, struct summary *out, struct vg_err *err);
void summary_free(struct summary *s);

/* "YYYY-MM-DD" -> 00:00 UTC of that day; -EINVAL when not a date. */
int summary_parse_day(const char *s, int64_t *day);

#endif
