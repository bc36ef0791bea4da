/* collect.h: the central archive's side of collection (`vigia collect`):
 * the sensor's MANIFEST, the archive layout (docs/ARCHITECTURE.md §2), the
 * per-sensor record of what was collected, and atomic placement of
 * verified files compressed with zstd.  The ssh/rsync processes are run
 * by the program (src/vigia/cmd-collect.c); everything here is file work
 * and never prints. */
#ifndef VIGIA_COLLECT_H
#define VIGIA_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "vg-err.h"

/* ---- the sensor's MANIFEST (docs/sensor-logs.md) ------------------------ */
struct manifest_entry {
	char sha256[65];            /* lower-case hex */
	uint64_t size;
	char name[96];              /* "pcap/20240101T100000Z.pcap" */
	time_t completed;
	bool archived;              /* state "archived" (else "new") */
};

struct manifest {
	struct manifest_entry *v;
	size_t n;
	size_t skipped;             /* lines that did not parse or named other files */
};

/* Parse a MANIFEST.  Lines that do not parse, or whose name is not a
 * completed packet file `pcap/YYYYmmddTHHMMSSZ[-N].pcap`, are counted in
 * `skipped` and never collected (err is filled with the first one, as
 * "FILE:LINE: ...", while 0 is still returned). */
int manifest_parse(const char *file, const char *buf, size_t len, struct manifest *m,
		   struct vg_err *err);
void manifest_free(struct manifest *m);

/* True for "pcap/YYYYmmddTHHMMSSZ[-N].pcap" (what the gateway serves). */
bool collect_name_ok(const char *name);

/* ARCHIVE/SENSOR/YYYY/MM/DD/BASE.zst for name "pcap/BASE" (the date is the
 * file name's).  -ENAMETOOLONG or -EINVAL on a bad name. */
int collect_archive_path(const char *archive, const char *sensor, const char *name,
			 char *out, size_t len);

/* ---- what was collected: ARCHIVE/SENSOR/.collected ---------------------- */
/* One "SHA256 NAME" line per file placed in the archive, appended and
 * fsync'ed after the file is in place, before the sensor is told. */
struct collect_state {
	char **lines;               /* "SHA256 NAME", sorted */
	size_t n;
};
int collect_state_load(const char *path, struct collect_state *st, struct vg_err *err);
bool collect_state_has(const struct collect_state *st, const char *sha256, const char *name);
int collect_state_append(const char *path, const char *sha256, const char *name,
			 struct vg_err *err);
void collect_state_free(struct collect_state *st);

/* ---- files ------------------------------------------------------------- */
int collect_sha256_file(const char *path, char hex[65], uint64_t *size, struct vg_err *err);

/* Compress `src` with zstd to `dst`, atomically: parent directories are
 * created, the data goes to a temporary file in dst's directory that is
 * fsync'ed and renamed over dst, then the directory is fsync'ed.  On any
 * error (ENOSPC...) the temporary file is removed and dst is untouched. */
int collect_place_zstd(const char *src, const char *dst, int level, struct vg_err *err);

/* mkdir -p with mode 0750 for new directories. */
int collect_mkdirs(const char *dir, struct vg_err *err);

#endif
