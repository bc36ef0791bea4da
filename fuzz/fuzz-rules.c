/* fuzz-rules.c: libFuzzer harness for the rule parser and the matcher.
 *
 * Rule files come from analysts.  Input: rule text, then optionally a
 * 0xff 0x00 separator and a raw IPv4 packet.  The text is parsed as a rule
 * file (errors must be reported, never crash); whatever rules parsed are
 * compiled and matched against the packet, and against the text itself
 * used as the payload of a TCP and a UDP packet. */
#include "rule-set.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static int on_hit(void *ctx, size_t idx, const struct vg_pkt *p)
{
	const struct rule_set *rs = ctx;
	const struct rule_info *ri = rule_set_info(rs, idx);
	if (!ri || !ri->msg || !ri->category || !ri->name || !ri->taxonomy || !ri->type)
		abort();
	(void)p;
	return 0;
}

static void match_payload(struct rule_matcher *m, const struct rule_set *rs, uint8_t proto,
			  const uint8_t *pl, size_t len)
{
	static uint8_t frame[65536];
	size_t l4 = proto == 6 ? 20 : 8;
	if (len > sizeof frame - 20 - l4)
		len = sizeof frame - 20 - l4;
	memset(frame, 0, 20 + l4);
	size_t tot = 20 + l4 + len;
	frame[0] = 0x45;
	frame[2] = (uint8_t)(tot >> 8);
	frame[3] = (uint8_t)tot;
	frame[8] = 64;
	frame[9] = proto;
	frame[12] = 198, frame[13] = 51, frame[14] = 100, frame[15] = 7;
	frame[16] = 192, frame[17] = 0, frame[18] = 2, frame[19] = 10;
	frame[22] = 0, frame[23] = 80;
	if (proto == 6) {
		frame[32] = 5 << 4;
		frame[33] = 0x18;
	}
	memcpy(frame + 20 + l4, pl, len);
	struct vg_pkt p;
	if (vg_decode(VG_LINK_RAW, frame, (uint32_t)tot, (uint32_t)tot, &p) == VG_DEC_OK)
		rule_match(m, &p, on_hit, (void *)rs);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	size_t tl = n;
	const uint8_t *pkt = NULL;
	size_t pl = 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (d[i] == 0xff && d[i + 1] == 0x00) {
			tl = i;
			pkt = d + i + 2;
			pl = n - i - 2;
			break;
		}
	struct rule_set *rs;
	if (rule_set_new(&rs))
		return 0;
	struct vg_err err = {0};
	int r = rule_set_parse(rs, "fuzz.rules", (const char *)d, tl, &err);
	if (r && !err.msg[0])
		abort();    /* every error names what is wrong */
	if (rule_set_compile(rs, &err) == 0) {
		struct rule_matcher *m;
		if (!rule_matcher_new(&m, rs, 16)) {
			if (pkt) {
				struct vg_pkt p;
				if (vg_decode(VG_LINK_RAW, pkt, (uint32_t)pl, (uint32_t)pl, &p) == VG_DEC_OK)
					rule_match(m, &p, on_hit, rs);
			}
			match_payload(m, rs, 6, d, tl);
			match_payload(m, rs, 17, d, tl);
			rule_matcher_free(m);
		}
	}
	rule_set_free(rs);
	return 0;
}
