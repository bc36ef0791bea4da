/* sp-spool.h: the sensor's records on disk (docs/ARCHITECTURE.md §1).
 *
 *   SPOOL/pcap/YYYYmmddTHHMMSSZ.pcap   every packet in and out (pcap, ns);
 *                                      written as .part, renamed when complete
 *   SPOOL/MANIFEST                     "sha256 size name completed state" lines
 *   SPOOL/status.json                  written atomically every few seconds
 *
 * Time is passed in by the caller (packet time in --replay, the clock when
 * live), so rotation and retention are deterministic in tests. */
#ifndef VIGIA_SP_SPOOL_H
#define VIGIA_SP_SPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "vg-err.h"

struct spool;

struct spool_opts {
	const char *dir;
	uint32_t rotate_seconds;     /* file period, aligned to the epoch (3600 = hourly) */
	uint32_t retention_seconds;  /* completed files older than this may go */
	uint64_t min_free_bytes;     /* below this, retention may delete uncollected files */
	int linktype;                /* pcap LINKTYPE of the frames written */
	uint32_t snaplen;
};

int spool_open(struct spool **out, const struct spool_opts *o, struct vg_err *err);

/* Append one frame captured or sent at ts_ns; opens/rotates files as time
 * crosses a period boundary. */
int spool_write(struct spool *s, uint64_t ts_ns, const uint8_t *frame,
		uint32_t caplen, uint32_t wirelen, struct vg_err *err);

/* Housekeeping at time now_ns: rotate if the period ended, flush what is
 * buffered, apply retention.  Call at least once a second when live.
 * Returns 0, a negative errno, or SPOOL_TICK_DELETED_UNCOLLECTED when
 * free space fell below min_free_bytes and files the central server had
 * not collected yet were deleted: err then names them, and the caller must
 * log it loudly (data was lost). */
#define SPOOL_TICK_DELETED_UNCOLLECTED 1
int spool_tick(struct spool *s, uint64_t now_ns, struct vg_err *err);

/* Complete the current file (rename + manifest) and close. */
int spool_close(struct spool *s, struct vg_err *err);

/* Mark files as archived by the central server (the gateway's "ack").
 * A name is the manifest's ("pcap/20240101T100000Z.pcap") or its last
 * component.  Returns how many of the names were found (0..n), or a
 * negative errno.  Safe against a sensord updating the manifest at the
 * same time (both hold SPOOL/MANIFEST.lock while rewriting). */
int spool_ack(const char *dir, const char *const *names, int n, struct vg_err *err);

uint64_t spool_bytes(const struct spool *s);   /* size of the spool's files */

/* Counters for status.json. */
struct spool_stats {
	uint64_t frames_written;      /* in files (possibly still buffered) */
	uint64_t frames_dropped;      /* lost to write errors (disk full...) */
	uint64_t bytes_written;
	uint64_t files_completed;
	uint64_t uncollected_deleted; /* files deleted before collection (low space) */
	uint64_t write_errors;
	int last_errno;               /* of the latest write error, 0 if none */
};
void spool_get_stats(const struct spool *s, struct spool_stats *st);

#endif
