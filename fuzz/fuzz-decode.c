/* fuzz-decode.c: libFuzzer harness for the packet decoder.
 *
 * Input: one byte choosing the link type, then the frame.  Every pointer
 * range the decoder returns is read in full so that ASan flags any range
 * reaching past the frame, and the invariants the callers rely on are
 * checked (a violation aborts, which libFuzzer reports as a crash). */
#include "proto-decode.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static const int linktypes[] = {
	VG_LINK_ETHERNET, VG_LINK_NULL, VG_LINK_RAW, 12, 14, VG_LINK_LOOP,
	VG_LINK_PFLOG, VG_LINK_LINUX_SLL, VG_LINK_LINUX_SLL2, VG_LINK_IPV4,
	VG_LINK_IPV6, 105 /* unsupported */,
};

static volatile unsigned sink;

static unsigned touch(const uint8_t *frame, uint32_t len, const uint8_t *p,
		      uint32_t plen)
{
	unsigned s = 0;
	if (!p)
		return 0;
	if (p < frame || p > frame + len || (size_t)(p - frame) + plen > len)
		abort();
	for (uint32_t i = 0; i < plen; i++)
		s += p[i];
	return s;
}

static void check(const uint8_t *frame, uint32_t len, int rc,
		  const struct vg_pkt *pkt)
{
	char buf[46];
	unsigned s = 0;

	if (rc != VG_DEC_OK && rc != VG_DEC_NOT_IP && rc != VG_DEC_UNSUPPORTED &&
	    rc != VG_DEC_TRUNCATED && rc != VG_DEC_MALFORMED)
		abort();
	if ((rc == VG_DEC_TRUNCATED || rc == VG_DEC_MALFORMED) && pkt->err_off > len)
		abort();
	if (pkt->caplen != len)
		abort();
	s += touch(frame, len, pkt->l3, pkt->l3_caplen);
	s += touch(frame, len, pkt->l4, pkt->l4_caplen);
	s += touch(frame, len, pkt->payload, pkt->payload_caplen);
	if (rc == VG_DEC_OK) {
		if (pkt->ipver != 4 && pkt->ipver != 6)
			abort();
		if (!pkt->l3)
			abort();
		if (pkt->l4 && (!pkt->payload || pkt->payload < pkt->l4 ||
				pkt->payload_caplen > pkt->l4_caplen))
			abort();
		if (pkt->payload_caplen > pkt->payload_len)
			abort();
	}
	if (memchr(pkt->pf_ifname, 0, sizeof pkt->pf_ifname) == NULL)
		abort();
	s += (unsigned)strlen(vg_ip_str(&pkt->src, buf, sizeof buf));
	s += (unsigned)strlen(vg_ip_str(&pkt->dst, buf, sizeof buf));
	s += (unsigned)strlen(vg_dec_strerror(rc));
	sink += s;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n < 1 || n > 0xffff)
		return 0;
	int lt = linktypes[d[0] % (sizeof linktypes / sizeof linktypes[0])];
	const uint8_t *frame = d + 1;
	uint32_t len = (uint32_t)(n - 1);
	struct vg_pkt pkt;

	pkt.ts_ns = 0;
	int rc = vg_decode(lt, frame, len, len + (d[0] & 0x80 ? 1000 : 0), &pkt);
	check(frame, len, rc, &pkt);

	rc = vg_decode_ip(frame, len, &pkt);
	check(frame, len, rc, &pkt);
	return 0;
}
