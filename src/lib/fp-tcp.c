/* fp-tcp.c: extract p0f v3's TCP signature from a decoded SYN or SYN+ACK
 * and match it against the compiled p0f.fp.
 *
 * The rules (which packets are fingerprinted, how quirks and options are
 * read, the exact / generic / fuzzy order, the window multiplier search)
 * reproduce p0f 3.09b so labels agree with its log; see fp.h for the
 * oddities kept on purpose.  The IP and TCP header fields p0f looks at are
 * read from pkt->l3 / pkt->l4 within the captured lengths the decoder
 * bound; nothing here reads past l3_caplen or l4_caplen.
 */
#include "fp.h"
#include "fp-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* p0f-sendsyn's MSS, echoed by SYN+ACKs and printed as '*'. */
#define SPECIAL_MSS 1331
/* IP + TCP header sizes without options. */
#define MIN_TCP4 40
#define MIN_TCP6 60

enum { OPT_EOL = 0, OPT_NOP = 1, OPT_MSS = 2, OPT_WS = 3, OPT_SOK = 4,
       OPT_SACK = 5, OPT_TS = 8 };

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

uint32_t fp_opt_hash(const uint8_t *opts, unsigned cnt)
{
	uint32_t h = 2166136261u;

	for (unsigned i = 0; i < cnt; i++) {
		h ^= opts[i];
		h *= 16777619u;
	}
	h ^= cnt;
	h *= 16777619u;
	return h;
}

/* Walk the TCP options as p0f does, including where it gives up. */
static void parse_options(const uint8_t *o, unsigned olen, bool pure_syn,
			  struct fp_sig *s)
{
	unsigned i = 0;

	while (i < olen && s->opt_cnt < FP_MAX_OPT) {
		uint8_t kind = o[i++];

		s->opts[s->opt_cnt++] = kind;
		switch (kind) {
		case OPT_EOL: {
			/* Everything after EOL is padding; p0f flags non-zero
			 * padding unless the first non-zero byte is the last. */
			unsigned k = i;
			s->eol_pad = (uint8_t)(olen - i);
			while (k < olen && o[k] == 0)
				k++;
			if (k < olen && k + 1 != olen)
				s->quirks |= FP_Q_OPT_EOL_NZ;
			i = olen;
			break;
		}
		case OPT_NOP:
			break;
		case OPT_MSS:
			if (i + 3 > olen)
				goto bad;
			if (o[i] != 4)
				s->quirks |= FP_Q_OPT_BAD;
			s->mss = rd16(o + i + 1);
			i += 3;
			break;
		case OPT_WS:
			if (i + 2 > olen)
				goto bad;
			if (o[i] != 3)
				s->quirks |= FP_Q_OPT_BAD;
			s->wscale = o[i + 1];
			if (s->wscale > 14)
				s->quirks |= FP_Q_EXWS;
			i += 2;
			break;
		case OPT_SOK:
			if (i + 1 > olen)
				goto bad;
			if (o[i] != 2)
				s->quirks |= FP_Q_OPT_BAD;
			i += 1;
			break;
		case OPT_SACK:
			if (i == olen || o[i] < 10 || o[i] > 34 || i - 1 + o[i] > olen)
				goto bad;
			i += o[i] - 1u;
			break;
		case OPT_TS:
			if (i + 9 > olen)
				goto bad;
			if (o[i] != 10)
				s->quirks |= FP_Q_OPT_BAD;
			s->ts1 = rd32(o + i + 1);
			if (!s->ts1)
				s->quirks |= FP_Q_TS1_ZERO;
			if (pure_syn && rd32(o + i + 5))
				s->quirks |= FP_Q_TS2_NZ;
			i += 9;
			break;
		default:
			if (i == olen || o[i] < 2 || o[i] > 40 || i - 1 + o[i] > olen)
				goto bad;
			i += o[i] - 1u;
			break;
		}
	}
	if (i == olen)
		return;
bad:
	s->quirks |= FP_Q_OPT_BAD;
}

int fp_extract(const struct vg_pkt *pkt, struct fp_sig *s)
{
	const uint8_t *ip = pkt->l3, *tcp;
	uint32_t avail, tot_len, ihl;
	unsigned doff, flags, type;

	memset(s, 0, sizeof *s);
	if (!ip || !pkt->l4 || pkt->proto != 6 || pkt->l4 < ip)
		return 0;
	avail = pkt->l3_caplen;
	if (avail > 65535)
		avail = 65535;           /* p0f's snap length */

	if (pkt->ipver == 4) {
		if (avail < 20 || (ip[0] >> 4) != 4)
			return 0;
		ihl = (ip[0] & 0x0fu) * 4u;
		tot_len = rd16(ip + 2);
		uint16_t flags_off = rd16(ip + 6);
		/* A claimed length shorter than the capture wins (Ethernet
		 * padding); a longer one means p0f gives up on the packet. */
		if (avail > tot_len)
			avail = tot_len;
		if (avail < MIN_TCP4 || ihl < 20 || tot_len > avail || ihl + 20 > avail)
			return 0;
		if (flags_off & ~0xc000u)    /* MF or an offset: a fragment */
			return 0;
		s->ver = 4;
		s->olen = (uint8_t)(ihl - 20);
		s->tos = ip[1] >> 2;
		s->ttl = ip[8];
		if (ip[1] & 0x03)
			s->quirks |= FP_Q_ECN;
		if (flags_off & 0x8000)
			s->quirks |= FP_Q_NZ_MBZ;
		if (flags_off & 0x4000) {
			s->quirks |= FP_Q_DF;
			if (rd16(ip + 4))
				s->quirks |= FP_Q_NZ_ID;
		} else if (!rd16(ip + 4)) {
			s->quirks |= FP_Q_ZERO_ID;
		}
	} else if (pkt->ipver == 6) {
		if (avail < 40 || (ip[0] >> 4) != 6)
			return 0;
		ihl = 40;
		tot_len = rd16(ip + 4) + 40u;
		if (avail > tot_len)
			avail = tot_len;
		if (avail < MIN_TCP6 || tot_len > avail)
			return 0;
		/* p0f reads TCP only right after the fixed header. */
		if (ip[6] != 6)
			return 0;
		uint32_t ver_tos = rd32(ip);
		s->ver = 6;
		s->tos = (ver_tos >> 22) & 0x3f;
		s->ttl = ip[7];
		if (ver_tos & 0xfffff)
			s->quirks |= FP_Q_FLOW;
		if ((ver_tos >> 20) & 0x03)
			s->quirks |= FP_Q_ECN;
	} else {
		return 0;
	}
	if (pkt->l4 != ip + ihl)
		return 0;
	tcp = ip + ihl;
	avail -= ihl;                    /* TCP bytes present and claimed */

	doff = (tcp[12] >> 4) * 4u;
	if (doff < 20 || doff > avail)
		return 0;
	flags = tcp[13];
	type = flags & (VG_TH_SYN | VG_TH_ACK | VG_TH_FIN | VG_TH_RST);
	if (type == VG_TH_SYN)
		s->dir = FP_DIR_SYN;
	else if (type == (VG_TH_SYN | VG_TH_ACK))
		s->dir = FP_DIR_SYNACK;
	else
		return 0;   /* includes p0f's "silly" SYN+FIN / SYN+RST */

	s->tot_hdr = (uint16_t)(ihl + doff);
	s->win = rd16(tcp + 14);
	if ((flags & (VG_TH_ECE | VG_TH_CWR)) || (tcp[12] & 0x01))
		s->quirks |= FP_Q_ECN;
	if (!rd32(tcp + 4))
		s->quirks |= FP_Q_ZERO_SEQ;
	if (flags & VG_TH_ACK) {
		if (!rd32(tcp + 8))
			s->quirks |= FP_Q_ZERO_ACK;
	} else if (tcp[8] & 0x01) {
		/* p0f 3.09b: `RD32(ack) & !(flags & RST)` is `ack & 1` on the
		 * raw little-endian load, the low bit of the first byte. */
		s->quirks |= FP_Q_NZ_ACK;
	}
	if (flags & VG_TH_URG)
		s->quirks |= FP_Q_URG;
	else if (rd16(tcp + 18))
		s->quirks |= FP_Q_NZ_URG;
	if (flags & VG_TH_PSH)
		s->quirks |= FP_Q_PUSH;
	s->payload = avail > doff;

	parse_options(tcp + 20, doff - 20, s->dir == FP_DIR_SYN, s);
	return s->dir;
}

/* p0f's guess of the distance for an unknown initial TTL. */
static uint8_t guess_dist(uint8_t ttl)
{
	if (ttl <= 32)
		return (uint8_t)(32 - ttl);
	if (ttl <= 64)
		return (uint8_t)(64 - ttl);
	if (ttl <= 128)
		return (uint8_t)(128 - ttl);
	return (uint8_t)(255 - ttl);
}

/* Is the window a multiple of the MSS or of the MTU, and by what?  The
 * candidates and their order are p0f's; the first divisor wins.  Returns
 * the multiplier or -1. */
static int win_multi(const struct fp_sig *s, bool *use_mtu, uint16_t syn_mss)
{
	int32_t win = s->win, mss = s->mss;
	struct { int32_t div; bool mtu; bool on; } c[] = {
		{mss, false, true},
		{mss - 12, false, s->ts1 != 0},
		{1500 - MIN_TCP4, false, true},
		{1500 - MIN_TCP4 - 12, false, true},
		{1500 - MIN_TCP6, false, s->ver == 6},
		{1500 - MIN_TCP6 - 12, false, s->ver == 6},
		{mss + MIN_TCP4, true, true},
		{mss + s->tot_hdr, true, true},
		{mss + MIN_TCP6, true, s->ver == 6},
		{1500, true, true},
		{syn_mss, false, syn_mss != 0},
		{(int32_t)syn_mss - 12, false, syn_mss != 0},
	};

	*use_mtu = false;
	if (!win || mss < 100)
		return -1;
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		if (!c[i].on)
			continue;
		if (c[i].div == 0)
			continue;   /* p0f would divide by zero; treat as no match */
		if (c[i].div < 0) {
			/* Only a tiny peer MSS gets here: p0f finds a negative
			 * "multiplier" that no signature can match. */
			if (win % -c[i].div == 0)
				return -1;
			continue;
		}
		if (win % c[i].div == 0) {
			*use_mtu = c[i].mtu;
			return win / c[i].div;
		}
	}
	return -1;
}

static bool same_layout(const struct fp_tsig *r, const struct fp_sig *s)
{
	return r->opt_cnt == s->opt_cnt && !memcmp(r->opts, s->opts, s->opt_cnt);
}

int fp_match_sig(const struct fp_db *db, const struct fp_sig *s,
		 uint16_t syn_mss, struct fp_result *res)
{
	const struct fp_tsig *fmatch = NULL, *gmatch = NULL, *m = NULL;
	bool use_mtu;
	int wm;
	int d;

	memset(res, 0, sizeof *res);
	res->label = -1;
	if (!db || (s->dir != FP_DIR_SYN && s->dir != FP_DIR_SYNACK))
		return 0;
	d = s->dir == FP_DIR_SYN ? 0 : 1;
	wm = win_multi(s, &use_mtu, syn_mss);

	uint32_t h = fp_opt_hash(s->opts, s->opt_cnt);
	const struct fp_bucket *b = &db->buckets[d][h % FP_BUCKETS];

	for (size_t i = 0; i < b->n; i++) {
		const struct fp_tsig *r = &b->v[i];
		uint32_t rq = r->quirks;
		bool fuzzy = false;

		if (r->opt_hash != h || !same_layout(r, s))
			continue;
		/* A signature for both versions ignores the quirks that only
		 * exist for the other one. */
		if (r->ver == -1)
			rq &= s->ver == 4 ? ~(uint32_t)FP_Q_FLOW
					  : ~(uint32_t)(FP_Q_DF | FP_Q_NZ_ID | FP_Q_ZERO_ID);
		if (rq != s->quirks) {
			uint32_t deleted = (rq ^ s->quirks) & rq;
			uint32_t added = (rq ^ s->quirks) & s->quirks;
			/* Fuzzy: 'df' / 'id+' may vanish, 'id-' / 'ecn' appear;
			 * and only the first such candidate is kept. */
			if (fmatch || (deleted & ~(uint32_t)(FP_Q_DF | FP_Q_NZ_ID)) ||
			    (added & ~(uint32_t)(FP_Q_ZERO_ID | FP_Q_ECN)))
				continue;
			fuzzy = true;
		}
		if (r->eol_pad != s->eol_pad || r->olen != s->olen)
			continue;
		if (r->bad_ttl) {
			if (r->ttl < s->ttl)
				continue;
		} else if (r->ttl < s->ttl || r->ttl - s->ttl > FP_MAX_DIST) {
			fuzzy = true;
		}
		if (r->mss != -1 && r->mss != s->mss)
			continue;
		if (r->wscale != -1 && r->wscale != s->wscale)
			continue;
		if (r->pclass != -1 && r->pclass != (int)s->payload)
			continue;
		switch (r->win_type) {
		case FP_WIN_NORMAL:
			if (r->win != s->win)
				continue;
			break;
		case FP_WIN_MOD:
			if (s->win % r->win)
				continue;
			break;
		case FP_WIN_MSS:
			if (use_mtu || r->win != wm)
				continue;
			break;
		case FP_WIN_MTU:
			if (!use_mtu || r->win != wm)
				continue;
			break;
		default:
			break;
		}
		if (!fuzzy) {
			if (!r->generic) {
				m = r;
				res->kind = FP_EXACT;
				break;
			}
			if (!gmatch)
				gmatch = r;
		} else if (!fmatch) {
			fmatch = r;
		}
	}

	if (!m && gmatch) {
		m = gmatch;
		res->kind = FP_GENERIC;
	}
	if (m) {
		res->dist = (uint8_t)(m->ttl - s->ttl);
	} else {
		/* p0f gives applications no fuzzy matches, and then leaves
		 * the distance at zero. */
		if (fmatch && fmatch->class_id == -1)
			return 0;
		if (!fmatch || fmatch->ttl < s->ttl ||
		    (!fmatch->bad_ttl && fmatch->ttl - s->ttl > FP_MAX_DIST))
			res->dist = guess_dist(s->ttl);
		else
			res->dist = (uint8_t)(fmatch->ttl - s->ttl);
		if (!fmatch)
			return 0;
		m = fmatch;
		res->kind = FP_FUZZY;
	}
	res->label = m->label;
	res->generic = m->generic;
	res->bad_ttl = m->bad_ttl;
	res->line = m->line;
	return 1;
}

int fp_match_syn(const struct fp_db *db, const struct vg_pkt *pkt,
		 struct fp_result *res)
{
	struct fp_sig s;

	if (fp_extract(pkt, &s) != FP_DIR_SYN) {
		memset(res, 0, sizeof *res);
		res->label = -1;
		return 0;
	}
	return fp_match_sig(db, &s, 0, res);
}

int fp_match_synack(const struct fp_db *db, const struct vg_pkt *pkt,
		    struct fp_result *res)
{
	struct fp_sig s;

	if (fp_extract(pkt, &s) != FP_DIR_SYNACK) {
		memset(res, 0, sizeof *res);
		res->label = -1;
		return 0;
	}
	return fp_match_sig(db, &s, 0, res);
}

/* Appends with snprintf semantics: counts what would be written. */
struct sbuf {
	char *p;
	size_t len, used;
};

static void sb_put(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_put(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = b->used < b->len ? b->len - b->used : 0;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? b->p + b->used : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->used += (size_t)n;
}

int fp_sig_format(const struct fp_sig *s, uint16_t syn_mss, char *buf,
		  size_t len)
{
	static const char *const qn[] = {
		"df", "id+", "id-", "ecn", "0+", "flow", "seq-", "ack+", "ack-",
		"uptr+", "urgf+", "pushf+", "ts1-", "ts2+", "opt+", "exws", "bad",
	};
	struct sbuf b = {buf, len, 0};
	uint8_t dist = guess_dist(s->ttl);
	bool use_mtu;
	int wm;

	if (len)
		buf[0] = '\0';
	if (dist > FP_MAX_DIST)
		sb_put(&b, "%u:%u+?:%u:", s->ver, s->ttl, s->olen);
	else
		sb_put(&b, "%u:%u+%u:%u:", s->ver, s->ttl, dist, s->olen);
	if (s->mss == SPECIAL_MSS && s->dir == FP_DIR_SYNACK)
		sb_put(&b, "*:");
	else
		sb_put(&b, "%u:", s->mss);
	wm = win_multi(s, &use_mtu, syn_mss);
	if (wm > 0)
		sb_put(&b, "%s*%d", use_mtu ? "mtu" : "mss", wm);
	else
		sb_put(&b, "%u", s->win);
	sb_put(&b, ",%u:", s->wscale);
	for (unsigned i = 0; i < s->opt_cnt; i++) {
		const char *sep = i ? "," : "";
		switch (s->opts[i]) {
		case OPT_EOL: sb_put(&b, "%seol+%u", sep, s->eol_pad); break;
		case OPT_NOP: sb_put(&b, "%snop", sep); break;
		case OPT_MSS: sb_put(&b, "%smss", sep); break;
		case OPT_WS: sb_put(&b, "%sws", sep); break;
		case OPT_SOK: sb_put(&b, "%ssok", sep); break;
		case OPT_SACK: sb_put(&b, "%ssack", sep); break;
		case OPT_TS: sb_put(&b, "%sts", sep); break;
		default: sb_put(&b, "%s?%u", sep, s->opts[i]); break;
		}
	}
	sb_put(&b, ":");
	bool first = true;
	for (unsigned i = 0; i < sizeof qn / sizeof qn[0]; i++) {
		if (s->quirks & (1u << i)) {
			sb_put(&b, "%s%s", first ? "" : ",", qn[i]);
			first = false;
		}
	}
	sb_put(&b, ":%s", s->payload ? "+" : "0");
	return (int)b.used;
}

const char *fp_label_name(const struct fp_db *db, int label)
{
	if (!db || label < 0 || (size_t)label >= db->nlabels)
		return NULL;
	return db->labels[label].text;
}

bool fp_label_is_windows(const struct fp_db *db, int label)
{
	if (!db || label < 0 || (size_t)label >= db->nlabels)
		return false;
	return db->labels[label].windows;
}

bool fp_label_is_app(const struct fp_db *db, int label)
{
	if (!db || label < 0 || (size_t)label >= db->nlabels)
		return false;
	return db->labels[label].class_id == -1;
}

int fp_label_count(const struct fp_db *db)
{
	return db ? (int)db->nlabels : 0;
}

int fp_sig_count(const struct fp_db *db, int dir)
{
	if (!db)
		return 0;
	if (dir == FP_DIR_SYN)
		return db->nsigs[0];
	if (dir == FP_DIR_SYNACK)
		return db->nsigs[1];
	return 0;
}
