/* stack-cookie.c: SYN cookies, so that half-open connections cost nothing.
 *
 * ISN = slot(5 bits) | mss index(3 bits) | hash(24 bits), where slot is
 * the packet time in 64-second units and hash is SipHash-2-4 under a key
 * derived from the seed, over the 4-tuple, the full slot number and the
 * MSS index.  An ACK is accepted when (ack - 1) carries a slot no older
 * than two periods and the hash recomputes: a blind forger has a 2^-24
 * chance per try.
 *
 * SipHash is written here rather than taken from OpenSSL: EVP_MAC needs a
 * context allocation per use and costs microseconds, and this runs for
 * every SYN at hundreds of thousands per second.  It follows the
 * reference description (Aumasson and Bernstein, 2012). */
#include "stack-internal.h"

#include <string.h>

const uint16_t st_cookie_mss_table[8] = { 536, 1024, 1220, 1360, 1400, 1440, 1460, 8960 };
#define mss_table st_cookie_mss_table

#define COOKIE_SLOT_SHIFT 6     /* 64 s */
#define COOKIE_MAX_AGE 2        /* slots */

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                              \
	do {                                                                  \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);     \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                        \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                        \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);     \
	} while (0)

static inline uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

uint64_t st_siphash(const uint64_t key[2], const uint8_t *m, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dull ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ key[0];
	uint64_t v3 = 0x7465646279746573ull ^ key[1];
	size_t full = len & ~(size_t)7;

	for (size_t i = 0; i < full; i += 8) {
		uint64_t mi = le64(m + i);
		v3 ^= mi;
		SIPROUND;
		SIPROUND;
		v0 ^= mi;
	}
	uint64_t b = (uint64_t)len << 56;
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)m[full + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static uint32_t cookie_hash(const struct stack *s, const struct vg_pkt *p,
			    uint32_t slot, unsigned mss_idx)
{
	uint8_t m[24];
	memcpy(m, p->src.a, 4);
	memcpy(m + 4, p->dst.a, 4);
	m[8] = (uint8_t)(p->sport >> 8);
	m[9] = (uint8_t)p->sport;
	m[10] = (uint8_t)(p->dport >> 8);
	m[11] = (uint8_t)p->dport;
	m[12] = (uint8_t)(slot >> 24);
	m[13] = (uint8_t)(slot >> 16);
	m[14] = (uint8_t)(slot >> 8);
	m[15] = (uint8_t)slot;
	m[16] = (uint8_t)mss_idx;
	return (uint32_t)st_siphash(s->key, m, 17) & 0xffffffu;
}

uint32_t st_cookie_make(const struct stack *s, const struct vg_pkt *p,
			uint16_t peer_mss, uint16_t *mss_out)
{
	unsigned idx = 0;
	/* The largest table MSS the peer can take: we never send more. */
	for (unsigned i = 0; i < 8; i++)
		if (mss_table[i] <= peer_mss)
			idx = i;
	uint32_t slot = (uint32_t)(s->now_ns / NS_PER_S) >> COOKIE_SLOT_SHIFT;
	*mss_out = mss_table[idx];
	return ((slot & 0x1fu) << 27) | ((uint32_t)idx << 24) |
	       cookie_hash(s, p, slot, idx);
}

uint16_t st_cookie_check(const struct stack *s, const struct vg_pkt *p)
{
	uint32_t isn = p->tcp_ack - 1;
	uint32_t now_slot = (uint32_t)(s->now_ns / NS_PER_S) >> COOKIE_SLOT_SHIFT;
	uint32_t age = (now_slot - (isn >> 27)) & 0x1fu;
	if (age > COOKIE_MAX_AGE)
		return 0;
	uint32_t slot = now_slot - age;
	unsigned idx = (isn >> 24) & 7u;
	if (cookie_hash(s, p, slot, idx) != (isn & 0xffffffu))
		return 0;
	return mss_table[idx];
}
