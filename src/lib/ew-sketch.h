/* ew-sketch.h: distinct sources of one (bin, key), for early warning.
 *
 * Exact while small (up to EW_SKETCH_SPARSE 32-bit hashes of the source
 * addresses), then a HyperLogLog of EW_HLL_M registers (about 6.5 %
 * standard error).  Most (bin, port) pairs see one or two sources, so the
 * exact form keeps the stored rows small; the popular ports, countries and
 * outbreaks cost EW_HLL_M bytes.  Two sketches merge (union) without loss
 * of the guarantee, so a bin split across files, or spread over sensors,
 * sums correctly.  See docs/early-warning.md.
 */
#ifndef VIGIA_EW_SKETCH_H
#define VIGIA_EW_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto-decode.h"

#define EW_SKETCH_SPARSE 64
#define EW_HLL_P 8
#define EW_HLL_M (1u << EW_HLL_P)
/* Largest serialized sketch: a tag byte and the registers. */
#define EW_SKETCH_BYTES_MAX (1 + EW_HLL_M)

struct ew_sketch {
	bool dense;
	uint32_t n;                         /* sparse: hashes held */
	uint32_t h[EW_SKETCH_SPARSE];       /* sparse: sorted, unique */
	uint8_t reg[EW_HLL_M];              /* dense */
};

void ew_sketch_init(struct ew_sketch *s);
/* The stable 32-bit hash of an address (the same in every process). */
uint32_t ew_ip_hash(const struct vg_ip *ip);
void ew_sketch_add_hash(struct ew_sketch *s, uint32_t h);
void ew_sketch_add(struct ew_sketch *s, const struct vg_ip *ip);
/* dst := dst ∪ src */
void ew_sketch_merge(struct ew_sketch *dst, const struct ew_sketch *src);
/* Distinct sources: exact in the sparse form, estimated in the dense. */
double ew_sketch_count(const struct ew_sketch *s);

/* Stored form: 'S' and n little-endian hashes, or 'D' and the registers.
 * encode returns the length written (<= EW_SKETCH_BYTES_MAX). */
size_t ew_sketch_encode(const struct ew_sketch *s, uint8_t *buf, size_t len);
/* -EINVAL when the bytes are not a sketch. */
int ew_sketch_decode(struct ew_sketch *s, const uint8_t *buf, size_t len);

#endif
