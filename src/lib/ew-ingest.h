/* ew-ingest.h: what ingest records for early warning (issue 9).
 *
 * For every counted packet, per (bin, key) with the keys destination
 * port/protocol, source country and source network (/16 for IPv4, /32 for
 * IPv6), the distinct sources (ew-sketch.h), the packets and the first
 * source networks; at the end of a file they are merged into ew_bin with
 * the sensor, in the file's transaction (db_ew_bins_merge).  Memory is a
 * few dozen bytes per (bin, key) in the file while most keys see one or
 * two sources, EW_HLL_M bytes more for the busy ones. */
#ifndef VIGIA_EW_INGEST_H
#define VIGIA_EW_INGEST_H

#include <stdint.h>

#include "db.h"
#include "proto-decode.h"
#include "vg-err.h"

struct ew_acc;

int ew_acc_new(struct ew_acc **out);
void ew_acc_free(struct ew_acc *a);
/* Forget everything (a new file). */
void ew_acc_reset(struct ew_acc *a);
/* One counted packet: proto 6/17 give a port key (others none); cc is the
 * packed country (geo-rir.h), 0 or GEO_UNKNOWN for none.  -ENOMEM. */
int ew_acc_packet(struct ew_acc *a, int64_t bin_start, const struct vg_ip *src, uint8_t proto,
		  uint16_t dport, uint16_t cc);
/* Merge everything into the database as seen by sensor_id. */
int ew_acc_write(struct ew_acc *a, struct db *db, uint32_t sensor_id, struct vg_err *err);

#endif
