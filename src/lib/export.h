/* export.h: the partner feed of foreign incidents (issue 8,
 * docs/notify.md).
 *
 * One row per incident of the day whose source is not in a national
 * country, with IntelMQ field names, as CSV (RFC 4180, a header line) or
 * JSON Lines.  The source's country is the one `vigia ingest` stored for
 * that source and day (source_day), else the RIR files' answer when a
 * geo_db is given.  Honeypot addresses never appear: the feed has no
 * destination.ip, and every text field passes through the sanitizer. */
#ifndef VIGIA_EXPORT_H
#define VIGIA_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "db.h"
#include "geo-rir.h"
#include "sanitize.h"
#include "vg-err.h"

enum export_format { EXPORT_CSV = 0, EXPORT_JSONL };

struct export_opts {
	char *const *national;      /* upper-case ISO codes */
	size_t nnational;
	const char *feed_name, *feed_provider;
	enum export_format format;
	const struct geo_db *geo;   /* may be NULL */
	const struct sanitizer *san; /* required */
};

/* The source's country for a day: "BR", or "--" when unknown. */
int export_country(struct db *db, const struct geo_db *geo, int64_t day,
		   const struct vg_ip *ip, char cc[3], struct vg_err *err);
bool export_is_national(char *const *national, size_t n, const char cc[3]);
/* "tcp"/"udp" and the port of a DB_PORT_* code. */
const char *export_transport(uint32_t code, uint16_t *port);
/* "2026-11-01T10:00:00+00:00" (IntelMQ's time format, UTC). */
void export_time(int64_t t, char *buf, size_t len);

/* Write the day's foreign incidents to f; *rows (may be NULL) counts
 * them.  -EIO when f failed. */
int export_day(struct db *db, int64_t day, const struct export_opts *o, FILE *f,
	       size_t *rows, struct vg_err *err);

#endif
