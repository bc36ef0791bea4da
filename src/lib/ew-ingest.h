/* ew-ingest.h: what ingest records for early warning (issue 9).
 *
 * For every counted packet, per (bin, key) with the keys destination
 * port/protocol, source country, source network (/16 for IPv4, /32 for
 * IPv6) and, where known, the source's holder ASN (geo-rir.h), plus for
 * every packet that hits an incident the signature or incident name, the
 * distinct sources (ew-sketch.h), the packets and the first source
 * networks; at the end of a file they are merged into ew_bin with
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
/* Forget every (bin, key) (a new file); interned names are kept. */
void ew_acc_reset(struct ew_acc *a);
/* One counted packet: proto 6/17 give a port key (others none); cc is the
 * packed country (geo-rir.h), 0 or GEO_UNKNOWN for none.  -ENOMEM. */
int ew_acc_packet(struct ew_acc *a, int64_t bin_start, const struct vg_ip *src, uint8_t proto,
		  uint16_t dport, uint16_t cc);
/* The same, plus the key "asn" ("AS28573") when asn is not 0: the AS of
 * the source's holder in the RIR extended files (geo_lookup_asn), not the
 * BGP origin.  ew_acc_packet is this with asn 0.  -ENOMEM. */
int ew_acc_packet_asn(struct ew_acc *a, int64_t bin_start, const struct vg_ip *src,
		      uint8_t proto, uint16_t dport, uint16_t cc, uint32_t asn);

/* Longest signature or incident name kept; a longer one is cut there (two
 * names that share their first EW_SIG_NAME_MAX bytes are one key). */
#define EW_SIG_NAME_MAX 200
/* One packet of the named signature or incident ("Slammer", "horizontal
 * scan"), key kind "sig" with the name as its key.  Called for every
 * packet that hits an incident: names are interned by their text (the
 * pointer is not trusted to identify them), so after a name's first
 * packet a call costs a string hash and a table probe, no allocation.
 * NULL or empty names are ignored.  -ENOMEM. */
int ew_acc_sig(struct ew_acc *a, int64_t bin_start, const struct vg_ip *src, const char *name);
/* Merge everything into the database as seen by sensor_id. */
int ew_acc_write(struct ew_acc *a, struct db *db, uint32_t sensor_id, struct vg_err *err);

#endif
