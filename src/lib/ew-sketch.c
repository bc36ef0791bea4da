/* ew-sketch.c: exact-then-HyperLogLog distinct counting (ew-sketch.h).
 *
 * Written here rather than taken from a library: Debian has no small C
 * HLL library whose registers can be stored and merged in SQLite rows, and
 * the whole of it is a few dozen lines. */
#include "ew-sketch.h"

#include <errno.h>
#include <math.h>
#include <string.h>

void ew_sketch_init(struct ew_sketch *s)
{
	memset(s, 0, sizeof *s);
}

/* splitmix64's finalizer: every input bit moves every output bit, which
 * the HLL's register index and rank need. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

uint32_t ew_ip_hash(const struct vg_ip *ip)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ ip->v;
	size_t n = ip->v == 6 ? 16 : 4;
	for (size_t i = 0; i < n; i += 4) {
		uint32_t w = (uint32_t)ip->a[i] << 24 | (uint32_t)ip->a[i + 1] << 16 |
			     (uint32_t)ip->a[i + 2] << 8 | ip->a[i + 3];
		h = mix64(h ^ w);
	}
	return (uint32_t)(h >> 32);
}

static void dense_add(uint8_t *reg, uint32_t h)
{
	uint32_t idx = h >> (32 - EW_HLL_P);
	uint32_t rest = h << EW_HLL_P;
	uint8_t rank = 1;
	while (rank <= 32 - EW_HLL_P && !(rest & 0x80000000u)) {
		rank++;
		rest <<= 1;
	}
	if (reg[idx] < rank)
		reg[idx] = rank;
}

static void to_dense(struct ew_sketch *s)
{
	memset(s->reg, 0, sizeof s->reg);
	for (uint32_t i = 0; i < s->n; i++)
		dense_add(s->reg, s->h[i]);
	s->n = 0;
	s->dense = true;
}

void ew_sketch_add_hash(struct ew_sketch *s, uint32_t h)
{
	if (s->dense) {
		dense_add(s->reg, h);
		return;
	}
	uint32_t lo = 0, hi = s->n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (s->h[mid] == h)
			return;
		if (s->h[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (s->n == EW_SKETCH_SPARSE) {
		to_dense(s);
		dense_add(s->reg, h);
		return;
	}
	memmove(s->h + lo + 1, s->h + lo, (s->n - lo) * sizeof *s->h);
	s->h[lo] = h;
	s->n++;
}

void ew_sketch_add(struct ew_sketch *s, const struct vg_ip *ip)
{
	ew_sketch_add_hash(s, ew_ip_hash(ip));
}

void ew_sketch_merge(struct ew_sketch *dst, const struct ew_sketch *src)
{
	if (!src->dense) {
		for (uint32_t i = 0; i < src->n; i++)
			ew_sketch_add_hash(dst, src->h[i]);
		return;
	}
	if (!dst->dense)
		to_dense(dst);
	for (uint32_t i = 0; i < EW_HLL_M; i++)
		if (dst->reg[i] < src->reg[i])
			dst->reg[i] = src->reg[i];
}

double ew_sketch_count(const struct ew_sketch *s)
{
	if (!s->dense)
		return s->n;
	double sum = 0;
	unsigned zeros = 0;
	for (uint32_t i = 0; i < EW_HLL_M; i++) {
		sum += ldexp(1.0, -(int)s->reg[i]);
		zeros += !s->reg[i];
	}
	double m = EW_HLL_M;
	double e = 0.7213 / (1 + 1.079 / m) * m * m / sum;
	/* Flajolet et al.'s small-range correction (linear counting). */
	if (e <= 2.5 * m && zeros)
		e = m * log(m / zeros);
	/* The dense form only starts beyond the sparse limit. */
	return e < EW_SKETCH_SPARSE ? EW_SKETCH_SPARSE : e;
}

size_t ew_sketch_encode(const struct ew_sketch *s, uint8_t *buf, size_t len)
{
	if (s->dense) {
		if (len < 1 + EW_HLL_M)
			return 0;
		buf[0] = 'D';
		memcpy(buf + 1, s->reg, EW_HLL_M);
		return 1 + EW_HLL_M;
	}
	if (len < 1 + 4 * (size_t)s->n)
		return 0;
	buf[0] = 'S';
	for (uint32_t i = 0; i < s->n; i++) {
		uint8_t *p = buf + 1 + 4 * i;
		p[0] = (uint8_t)s->h[i];
		p[1] = (uint8_t)(s->h[i] >> 8);
		p[2] = (uint8_t)(s->h[i] >> 16);
		p[3] = (uint8_t)(s->h[i] >> 24);
	}
	return 1 + 4 * (size_t)s->n;
}

int ew_sketch_decode(struct ew_sketch *s, const uint8_t *buf, size_t len)
{
	ew_sketch_init(s);
	if (len == 1 + EW_HLL_M && buf[0] == 'D') {
		s->dense = true;
		memcpy(s->reg, buf + 1, EW_HLL_M);
		for (uint32_t i = 0; i < EW_HLL_M; i++)
			if (s->reg[i] > 33 - EW_HLL_P)
				return -EINVAL;
		return 0;
	}
	if (len < 1 || buf[0] != 'S' || (len - 1) % 4 || (len - 1) / 4 > EW_SKETCH_SPARSE)
		return -EINVAL;
	/* Added one by one: a stored set out of order still decodes right. */
	for (size_t i = 0; i < (len - 1) / 4; i++) {
		const uint8_t *p = buf + 1 + 4 * i;
		ew_sketch_add_hash(s, (uint32_t)p[0] | (uint32_t)p[1] << 8 |
					      (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
	}
	return 0;
}
