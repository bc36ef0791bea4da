/* geo-rir.h: source country from the RIR statistics exchange files.
 *
 * Loads delegated-<rir>[-extended]-latest files (all five RIRs, plain and
 * extended format, IPv4 and IPv6) into sorted, merged range tables, and
 * answers lookups by binary search: O(log n).  Country codes are packed
 * as two ASCII characters in a uint16_t ('B' << 8 | 'R').  From extended
 * files it also knows each range's holder ASN: the lowest AS number
 * delegated to the same holder (the same opaque id, same registry); this
 * is the registry's holder, not the AS that originates the space in BGP.
 */
#ifndef VIGIA_GEO_RIR_H
#define VIGIA_GEO_RIR_H

#include <stdint.h>

#include "proto-decode.h"
#include "vg-err.h"

#define GEO_UNKNOWN ((uint16_t)('-' << 8 | '-'))

/* Largest delegation file accepted (the biggest real one is ~4 MB). */
#define GEO_RIR_MAX_FILE_BYTES (256u << 20)

struct geo_db;

struct geo_db *geo_db_new(void);
void geo_db_free(struct geo_db *db);

/* Add one delegation file.  Malformed lines are an error naming the file
 * and line.  Summaries, comments, version headers, records with status
 * available/reserved (or an empty/ZZ cc) are skipped, not errors; asn
 * lines are never errors: those of extended files give holders' ASNs.  May be called several times before finalize. */
int geo_db_load_file(struct geo_db *db, const char *path, struct vg_err *err);
/* Same, from a memory buffer; `name` is used in error messages. */
int geo_db_load_buf(struct geo_db *db, const char *name, const char *buf,
		    size_t len, struct vg_err *err);

/* Sort and merge; must be called once after loading, before lookups.
 * Overlapping records resolve per address: the smaller (more specific)
 * range wins; between equal sizes, the record from the file whose
 * version line carries the later date wins, then the one loaded later.
 * Loading after finalize, or finalizing twice, is -EINVAL. */
int geo_db_finalize(struct geo_db *db, struct vg_err *err);

uint16_t geo_lookup4(const struct geo_db *db, uint32_t addr_host_order);
uint16_t geo_lookup6(const struct geo_db *db, const uint8_t addr[16]);
uint16_t geo_lookup(const struct geo_db *db, const struct vg_ip *ip);

/* Country and holder ASN of ip in the same single search; *asn is 0 when
 * unknown (no AS line for the holder, a plain file, no range). */
uint16_t geo_lookup_cc_asn(const struct geo_db *db, const struct vg_ip *ip, uint32_t *asn);
/* The holder ASN alone, 0 when unknown; db may be NULL. */
uint32_t geo_lookup_asn(const struct geo_db *db, const struct vg_ip *ip);

/* Number of IPv4 and IPv6 ranges after finalize (for tests/diagnostics). */
size_t geo_db_count4(const struct geo_db *db);
size_t geo_db_count6(const struct geo_db *db);

/* Write the code as "BR" into buf[3]. */
static inline const char *geo_cc_str(uint16_t cc, char buf[3])
{
	buf[0] = (char)(cc >> 8);
	buf[1] = (char)(cc & 0xff);
	buf[2] = '\0';
	return buf;
}

#endif
