/* ingest.h: one archived file into the database, in one transaction.
 *
 * The file is counted by the analysis engine (an-engine.h) exactly as
 * `vigia analyze` counts it, with the sensor's honeypot networks as the
 * honeynet filter; then its bins, its sources' daily activity, the latest
 * OS label of each source and the file's own row are written, and the
 * transaction commits.  A file already stored with the same SHA-256 is
 * skipped, so re-ingesting changes nothing, and a crash at any moment
 * leaves either the whole file or nothing of it (docs/database.md).
 *
 * What flows from file to file in `vigia analyze`'s single pass lives in
 * the database here: the OS label of each source's latest SYN (read when a
 * source first appears in a file, written back when it changed), so files
 * ingested in time order give analyze's answer.  A fragmented datagram
 * split across two files is lost (counted as incomplete in neither).
 *
 * Inputs: pcap/pcapng (plain, gzip, zstd); OpenBSD pflog captures (only
 * packets pf logged as inbound count); Honeyd connection logs (plain or
 * gzip: each "S" and "-" line is one packet, see docs/database.md).
 */
#ifndef VIGIA_INGEST_H
#define VIGIA_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "fp.h"
#include "geo-rir.h"
#include "util-cidr.h"
#include "incident.h"
#include "vg-err.h"

#define INGEST_DEFAULT_BIN 300
#define INGEST_MSG_MAX 1024

struct ingest_config {
	struct db *db;
	const struct geo_db *geo;       /* NULL: every country is "--" */
	const struct fp_db *fp;         /* NULL: every OS is "unknown" */
	unsigned bin_seconds;           /* 0: the database's, else INGEST_DEFAULT_BIN */
	/* Called every 65536 frames, and never from inside the database. */
	void (*progress)(void *ctx, uint64_t frames);
	void *progress_ctx;
	/* issue 9: do not record per-bin distinct sources (ew_bin) for
	 * `vigia watch` (docs/early-warning.md). */
	bool no_early_warning;
	/* issue 8: classify every counted packet in the same pass (rules and
	 * behavioural detectors, incident.h) and merge the file's incidents
	 * into the database in its transaction.  NULL: no classification. */
	const struct classifier_config *classify;
};

struct ingest;

/* Fails when bin_seconds disagrees with the database's. */
int ingest_new(struct ingest **out, const struct ingest_config *cfg, struct vg_err *err);
void ingest_free(struct ingest *ig);
unsigned ingest_bin_seconds(const struct ingest *ig);

struct ingest_file {
	const char *path;               /* where to read it */
	const char *name;               /* stored: its path relative to the archive */
	const char *sensor;             /* sensor name */
	uint32_t sensor_id;             /* the config's id; 0 = the database numbers it */
	const struct cidr_set *honeynets; /* the sensor's networks; NULL/empty: all count */
};

enum ingest_outcome {
	INGEST_STORED = 0,      /* counted and committed (see damaged) */
	INGEST_ALREADY,         /* stored before with the same content: nothing done */
	INGEST_CHANGED,         /* stored before with other content: refused */
	INGEST_UNREADABLE,      /* could not be read at all: nothing stored, retried next time */
};

struct ingest_result {
	enum ingest_outcome outcome;
	const char *kind;               /* "pcap", "pflog", "honeyd" */
	bool damaged;                   /* stored, but part of it was bad */
	char message[INGEST_MSG_MAX];   /* what was bad: file and byte offset / line */
	char sha256[65];
	uint64_t size;
	uint64_t frames, packets, bytes, bad;
	uint64_t sources;               /* source-day rows touched */
	uint64_t incidents;             /* incident rows merged (classification on) */
};

/* Returns 0 with *res filled, or a negative errno when the database failed
 * (the file's transaction is rolled back; nothing of it is stored). */
int ingest_file(struct ingest *ig, const struct ingest_file *f, struct ingest_result *res,
		struct vg_err *err);

/* The SHA-256 of a file's bytes, as 64 hex digits. */
int ingest_sha256(const char *path, char hex[65], uint64_t *size, struct vg_err *err);

#endif
