/* fp.h: passive OS fingerprinting of TCP SYNs, compatible with p0f v3.
 *
 * fp-readfp.c compiles p0f's text database (/etc/p0f/p0f.fp) at load into
 * typed signature structs, bucketed by their most selective key as p0f
 * does; fp-tcp.c extracts a packet's signature and matches it: exact, then
 * generic, then fuzzy, with window sizes as mss*N / mtu*N, quirks and TTL
 * distance.  Labels are p0f's "name flavor", e.g. "Windows XP",
 * "Linux 3.11 and newer".
 */
#ifndef VIGIA_FP_H
#define VIGIA_FP_H

#include <stdbool.h>
#include <stdint.h>

#include "proto-decode.h"
#include "vg-err.h"

#define FP_DEFAULT_DB "/etc/p0f/p0f.fp"

struct fp_db;

/* Load and compile a p0f.fp file.  Errors name the file and line. */
int fp_db_load(struct fp_db **out, const char *path, struct vg_err *err);
int fp_db_load_buf(struct fp_db **out, const char *name, const char *buf,
		   size_t len, struct vg_err *err);
void fp_db_free(struct fp_db *db);

enum fp_match_kind { FP_NONE = 0, FP_EXACT = 1, FP_GENERIC = 2, FP_FUZZY = 3 };

struct fp_result {
	int label;              /* label id (>= 0), or -1 when nothing matched */
	enum fp_match_kind kind;
	bool generic;           /* matched a generic (g:) signature */
	uint8_t dist;           /* TTL distance estimated */
};

/* Fingerprint a TCP SYN (SYN without ACK) as p0f's "tcp:request".
 * Returns 1 on a match, 0 when no signature matched (or the packet is not
 * a SYN / not TCP), with *res filled either way. */
int fp_match_syn(const struct fp_db *db, const struct vg_pkt *pkt,
		 struct fp_result *res);
/* The same for a SYN+ACK ("tcp:response"); the sensor uses it. */
int fp_match_synack(const struct fp_db *db, const struct vg_pkt *pkt,
		    struct fp_result *res);

/* Label id -> "name flavor" (p0f's report: "Windows XP"; "Linux 2.2.x-3.x"). */
const char *fp_label_name(const struct fp_db *db, int label);
/* True for labels whose class is p0f's "win". */
bool fp_label_is_windows(const struct fp_db *db, int label);
int fp_label_count(const struct fp_db *db);

#endif
