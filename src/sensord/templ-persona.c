/* templ-persona.c: from an nmap-os-db fingerprint to concrete behaviour
 * (the scheme is described in templ-persona.h). */
#include "templ-persona.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* nmap sends its six SEQ probes 100 ms apart. */
#define SEQ_SPACING_S 0.1

static const struct nmdb_attr *attr(const struct nmdb *db, const struct nmdb_fp *fp,
				    enum nmdb_test t, const char *name)
{
	return fp ? nmdb_get(db, fp, t, name) : NULL;
}

static const struct nmdb_alt *first_alt(const struct nmdb *db, const struct nmdb_attr *a)
{
	return a && a->nalts ? &db->alts[a->first_alt] : NULL;
}

/* A number the expression accepts: `prefer` when it does, else the middle
 * of the first range, the value past a bound, or the first number. */
static bool pick_num(const struct nmdb *db, const struct nmdb_attr *a, const uint32_t *prefer,
		     uint32_t *out)
{
	if (!a)
		return false;
	if (prefer && nmdb_attr_matches_num(db, a, *prefer)) {
		*out = *prefer;
		return true;
	}
	for (uint16_t i = 0; i < a->nalts; i++) {
		const struct nmdb_alt *x = &db->alts[a->first_alt + i];
		switch (x->kind) {
		case NMDB_RANGE:
			*out = x->lo + (x->hi - x->lo) / 2;
			return true;
		case NMDB_GT:
			*out = x->lo + 1;
			return true;
		case NMDB_LT:
			if (x->lo == 0)
				continue;
			*out = x->lo - 1;
			return true;
		default:
			if (x->is_num) {
				*out = x->lo;
				return true;
			}
		}
	}
	return false;
}

/* The first alternative's text ("" for an empty one), or def. */
static const char *pick_str(const struct nmdb *db, const struct nmdb_attr *a, const char *def)
{
	const struct nmdb_alt *x = first_alt(db, a);
	return x ? nmdb_str(db, x->str) : def;
}

static bool pick_yn(const struct nmdb *db, const struct nmdb_attr *a, bool def)
{
	const char *s = pick_str(db, a, NULL);
	return s ? s[0] == 'Y' : def;
}

static uint8_t pick_ttl(const struct nmdb *db, const struct nmdb_fp *fp, enum nmdb_test t,
			uint8_t def)
{
	uint32_t tg, v;
	bool has_tg = pick_num(db, attr(db, fp, t, "TG"), NULL, &tg);
	if (pick_num(db, attr(db, fp, t, "T"), has_tg ? &tg : NULL, &v) && v && v <= 255)
		return (uint8_t)v;
	return has_tg && tg && tg <= 255 ? (uint8_t)tg : def;
}

static uint8_t flags_of(const char *f)
{
	uint8_t v = 0;
	for (; *f; f++) {
		switch (*f) {
		case 'E': v |= 0x40; break;
		case 'U': v |= 0x20; break;
		case 'A': v |= 0x10; break;
		case 'P': v |= 0x08; break;
		case 'R': v |= 0x04; break;
		case 'S': v |= 0x02; break;
		case 'F': v |= 0x01; break;
		default: break;
		}
	}
	return v;
}

static uint8_t seq_mode(const char *s, bool is_ack)
{
	if (!strcmp(s, "Z"))
		return PERS_Z;
	if (!is_ack && !strcmp(s, "A"))
		return PERS_A;
	if (!is_ack && !strcmp(s, "A+"))
		return PERS_APLUS;
	if (is_ack && !strcmp(s, "S"))
		return PERS_S;
	if (is_ack && !strcmp(s, "S+"))
		return PERS_SPLUS;
	return PERS_O;
}

static void copy_opts(char *dst, const char *src)
{
	snprintf(dst, PERS_MAX_OPTS, "%s", src);
}

/* One TCP test line into r; r holds the defaults on entry. */
static void tcp_test(struct pers_resp *r, const struct nmdb *db, const struct nmdb_fp *fp,
		     enum nmdb_test t)
{
	if (!fp || !fp->tests[t].present)
		return;
	r->respond = pick_yn(db, attr(db, fp, t, "R"), true);
	r->df = pick_yn(db, attr(db, fp, t, "DF"), r->df);
	r->ttl = pick_ttl(db, fp, t, r->ttl);
	uint32_t v;
	if (pick_num(db, attr(db, fp, t, "W"), NULL, &v))
		r->win = (uint16_t)v;
	/* Where the database allows it, the SYN-ACK a client can use: the
	 * ISN as sequence number (O) and the SYN's sequence + 1 as ack. */
	const struct nmdb_attr *sa = attr(db, fp, t, "S"), *aa = attr(db, fp, t, "A");
	const char *s = sa && nmdb_attr_matches(db, sa, "O") ? "O" : pick_str(db, sa, NULL);
	if (s)
		r->seq_mode = seq_mode(s, false);
	s = aa && nmdb_attr_matches(db, aa, "S+") ? "S+" : pick_str(db, aa, NULL);
	if (s)
		r->ack_mode = seq_mode(s, true);
	s = pick_str(db, attr(db, fp, t, "F"), NULL);
	if (s)
		r->flags = flags_of(s);
	s = pick_str(db, attr(db, fp, t, "O"), NULL);
	if (s)
		copy_opts(r->opts, s);
	s = pick_str(db, attr(db, fp, t, "Q"), NULL);
	if (s) {
		r->quirk_reserved = strchr(s, 'R') != NULL;
		r->quirk_urgent = strchr(s, 'U') != NULL;
	}
	s = pick_str(db, attr(db, fp, t, "CC"), NULL);
	if (s && *s)
		r->cc = (uint8_t)s[0];
}

static void pick_id(struct pers_id *id, const struct nmdb *db, const struct nmdb_attr *a,
		    uint8_t def)
{
	id->cls = def;
	const char *s = pick_str(db, a, NULL);
	if (!s)
		return;
	if (!strcmp(s, "Z"))
		id->cls = PERS_ID_Z;
	else if (!strcmp(s, "I"))
		id->cls = PERS_ID_I;
	else if (!strcmp(s, "BI"))
		id->cls = PERS_ID_BI;
	else if (!strcmp(s, "RI"))
		id->cls = PERS_ID_RI;
	else if (!strcmp(s, "RD"))
		id->cls = PERS_ID_RD;
	else {
		uint32_t v;
		if (pick_num(db, a, NULL, &v)) {
			id->cls = PERS_ID_FIXED;
			id->fixed = (uint16_t)v;
		}
	}
}

static bool range_of(const struct nmdb *db, const struct nmdb_attr *a, uint32_t *lo,
		     uint32_t *hi)
{
	const struct nmdb_alt *x = first_alt(db, a);
	if (!x || !x->is_num)
		return false;
	*lo = x->lo;
	*hi = x->kind == NMDB_GT ? x->lo + 8 : x->hi;
	if (x->kind == NMDB_LT)
		*lo = x->lo > 8 ? x->lo - 8 : 0;
	return true;
}

static void seq_test(struct persona *pe, const struct nmdb *db, const struct nmdb_fp *fp)
{
	/* Defaults: random ISNs as every current system has. */
	uint32_t isr_lo = 0x104, isr_hi = 0x10E, sp_lo = 0xFF, sp_hi = 0x109;
	const struct nmdb_attr *gcd_a = attr(db, fp, NMDB_SEQ, "GCD");
	range_of(db, attr(db, fp, NMDB_SEQ, "ISR"), &isr_lo, &isr_hi);
	bool has_sp = range_of(db, attr(db, fp, NMDB_SEQ, "SP"), &sp_lo, &sp_hi);

	/* The smallest power of two the GCD allows keeps cookies decodable. */
	pe->gcd = 0;
	for (unsigned sh = 0; sh < 32 && gcd_a; sh++) {
		if (nmdb_attr_matches_num(db, gcd_a, 1u << sh)) {
			pe->gcd = 1u << sh;
			pe->gcd_shift = (uint8_t)sh;
			break;
		}
	}
	/* Uniform values over a span V differ by V/3 on average, with a
	 * spread that makes SP come out about 4 below ISR: aim at an ISR
	 * that leaves SP inside its range too. */
	uint32_t lo = isr_lo, hi = isr_hi;
	if (has_sp) {
		if (sp_lo + 4 > lo)
			lo = sp_lo + 4;
		if (sp_hi + 4 < hi)
			hi = sp_hi + 4;
		if (lo > hi) {
			lo = isr_lo;
			hi = isr_hi;
		}
	}
	double isr = (lo + hi) / 2.0;
	double rate = pow(2.0, isr / 8.0);
	double span_all = 3.0 * rate * SEQ_SPACING_S;
	if (pe->gcd) {
		double span = span_all / ((double)pe->gcd * 256.0);
		if (span > 4294967296.0 / ((double)pe->gcd * 256.0))
			span = 4294967296.0 / ((double)pe->gcd * 256.0);
		/* Below 2^14 the cookie would be guessable: count instead. */
		if (span >= 16384.0) {
			pe->isn_mode = PERS_ISN_COOKIE;
			pe->isn_span = (uint32_t)span;
			return;
		}
	} else {
		/* GCD=0: the ISN never changes (some old embedded stacks). */
		uint32_t g = 1;
		pick_num(db, gcd_a, NULL, &g);
		pe->gcd = g;
		pe->gcd_shift = 0;
	}
	if (pe->gcd == 0) {
		pe->isn_mode = PERS_ISN_COUNTER;
		pe->isn_rate = 0;
		pe->isn_noise = 0;
		return;
	}
	pe->isn_mode = PERS_ISN_COUNTER;
	double crate = pow(2.0, (isr_lo + isr_hi) / 16.0);
	pe->isn_rate = isr_lo + isr_hi == 0 ? 0 : crate;
	double sp = has_sp ? (sp_lo + sp_hi) / 2.0 : 0;
	double noise = sp > 0 ? 0.245 * pow(2.0, sp / 8.0) : 0;
	if (pe->gcd <= 9)
		noise /= pe->gcd;
	pe->isn_noise = noise < 1 ? 0 : noise > 1e9 ? 1000000000u : (uint32_t)noise;
}

static void defaults(struct persona *pe)
{
	/* A current Linux, for whatever the fingerprint leaves out. */
	struct pers_resp syn = {
		.respond = true, .df = true, .ttl = 64, .win = 0xFAF0,
		.flags = 0x12, .seq_mode = PERS_O, .ack_mode = PERS_SPLUS, .cc = 'N',
	};
	copy_opts(syn.opts, "M5B4ST11NW7");
	for (int i = 0; i < 6; i++)
		pe->seq[i] = syn;
	pe->ecn = syn;
	pe->ecn.cc = 'Y';
	struct pers_resp rst = {
		.respond = true, .df = true, .ttl = 64, .win = 0,
		.flags = 0x04, .seq_mode = PERS_A, .ack_mode = PERS_Z,
	};
	struct pers_resp rstack = rst;
	rstack.flags = 0x14;
	rstack.seq_mode = PERS_Z;
	rstack.ack_mode = PERS_SPLUS;
	pe->t[1] = syn;
	pe->t[2] = rstack;
	pe->t[2].respond = false;
	pe->t[3] = rstack;
	pe->t[3].respond = false;
	pe->t[4] = rst;
	pe->t[5] = rstack;
	pe->t[6] = rst;
	pe->t[7] = rstack;
	pe->ti.cls = PERS_ID_Z;
	pe->ci.cls = PERS_ID_Z;
	pe->ii.cls = PERS_ID_I;
	pe->ts = PERS_TS_RATE;
	pe->ts_hz = 1000;
	pe->u1_respond = true;
	pe->u1_df = false;
	pe->u1_ttl = 64;
	pe->u1_ipl = 0x164;
	pe->ripl_g = pe->rid_g = pe->ruck_g = true;
	pe->ripck = 'G';
	pe->rud = 'G';
	pe->ie_respond = true;
	pe->dfi = 'N';
	pe->ie_ttl = 64;
	pe->cd = 'S';
}

static void g_or_num(const struct nmdb *db, const struct nmdb_attr *a, bool *g, uint16_t *v)
{
	const char *s = pick_str(db, a, "G");
	uint32_t x;
	*g = !strcmp(s, "G") || !pick_num(db, a, NULL, &x);
	if (!*g)
		*v = (uint16_t)x;
}

void persona_from_fp(struct persona *pe, const struct nmdb *db, const struct nmdb_fp *fp)
{
	memset(pe, 0, sizeof *pe);
	defaults(pe);
	if (fp) {
		snprintf(pe->name, sizeof pe->name, "%s", nmdb_str(db, fp->name));
		pe->db_line = fp->line;
	}
	seq_test(pe, db, fp);

	/* T1 and the six SEQ probes: the same reply, W1-W6 and O1-O6. */
	tcp_test(&pe->t[1], db, fp, NMDB_T1);
	for (int i = 0; i < 6; i++) {
		char wn[4] = { 'W', (char)('1' + i), 0 }, on[4] = { 'O', (char)('1' + i), 0 };
		struct pers_resp *r = &pe->seq[i];
		uint16_t win = r->win;
		char opts[PERS_MAX_OPTS];
		memcpy(opts, r->opts, sizeof opts);
		*r = pe->t[1];
		r->win = win;
		memcpy(r->opts, opts, sizeof opts);
		uint32_t v;
		if (pick_num(db, attr(db, fp, NMDB_WIN, wn), NULL, &v))
			r->win = (uint16_t)v;
		const char *o = pick_str(db, attr(db, fp, NMDB_OPS, on), NULL);
		if (o)
			copy_opts(r->opts, o);
	}
	pe->t[1] = pe->seq[0];
	pe->ecn.ttl = pe->t[1].ttl;
	pe->ecn.df = pe->t[1].df;
	tcp_test(&pe->ecn, db, fp, NMDB_ECN);
	for (int i = 2; i <= 7; i++) {
		pe->t[i].ttl = pe->t[1].ttl;
		pe->t[i].df = pe->t[1].df;
		tcp_test(&pe->t[i], db, fp, (enum nmdb_test)(NMDB_T1 + i - 1));
	}

	pick_id(&pe->ti, db, attr(db, fp, NMDB_SEQ, "TI"), pe->ti.cls);
	pick_id(&pe->ci, db, attr(db, fp, NMDB_SEQ, "CI"), pe->ti.cls);
	pick_id(&pe->ii, db, attr(db, fp, NMDB_SEQ, "II"), pe->ii.cls);
	const char *ts = pick_str(db, attr(db, fp, NMDB_SEQ, "TS"), NULL);
	uint32_t v;
	if (ts && !strcmp(ts, "U")) {
		pe->ts = PERS_TS_NONE;
	} else if (ts && pick_num(db, attr(db, fp, NMDB_SEQ, "TS"), NULL, &v)) {
		/* nmap's classes: 1 is under 5.66 Hz, 7 is 70-150 Hz, 8 is
		 * 150-350 Hz, otherwise log2 of the rate. */
		pe->ts = v == 0 ? PERS_TS_ZERO : PERS_TS_RATE;
		/* 0x21 and up (OpenBSD's random timestamps) are rates above
		 * 2^32 per second, which only make sense modulo 2^32; over
		 * nmap's 100 ms the differences still fit. */
		pe->ts_hz = v == 1 ? 2 : v == 7 ? 100 : v == 8 ? 200 : ldexp(1.0, v < 40 ? (int)v : 40);
	}

	if (fp && fp->tests[NMDB_U1].present) {
		const enum nmdb_test t = NMDB_U1;
		pe->u1_respond = pick_yn(db, attr(db, fp, t, "R"), true);
		pe->u1_df = pick_yn(db, attr(db, fp, t, "DF"), false);
		pe->u1_ttl = pick_ttl(db, fp, t, pe->t[1].ttl);
		if (pick_num(db, attr(db, fp, t, "IPL"), NULL, &v))
			pe->u1_ipl = (uint16_t)v;
		if (pick_num(db, attr(db, fp, t, "UN"), NULL, &v))
			pe->u1_un = v;
		g_or_num(db, attr(db, fp, t, "RIPL"), &pe->ripl_g, &pe->ripl);
		g_or_num(db, attr(db, fp, t, "RID"), &pe->rid_g, &pe->rid);
		g_or_num(db, attr(db, fp, t, "RUCK"), &pe->ruck_g, &pe->ruck);
		pe->ripck = pick_str(db, attr(db, fp, t, "RIPCK"), "G")[0];
		pe->rud = pick_str(db, attr(db, fp, t, "RUD"), "G")[0];
	} else {
		pe->u1_ttl = pe->t[1].ttl;
	}
	if (fp && fp->tests[NMDB_IE].present) {
		const enum nmdb_test t = NMDB_IE;
		pe->ie_respond = pick_yn(db, attr(db, fp, t, "R"), true);
		const char *d = pick_str(db, attr(db, fp, t, "DFI"), "N");
		pe->dfi = d[0] ? d[0] : 'N';
		pe->ie_ttl = pick_ttl(db, fp, t, pe->t[1].ttl);
		const char *cd = pick_str(db, attr(db, fp, t, "CD"), "S");
		if (!strcmp(cd, "Z") || !strcmp(cd, "S") || !strcmp(cd, "O")) {
			pe->cd = cd[0];
		} else if (pick_num(db, attr(db, fp, t, "CD"), NULL, &v)) {
			pe->cd = 'V';
			pe->cd_val = (uint8_t)v;
		}
	} else {
		pe->ie_ttl = pe->t[1].ttl;
	}

	pe->ttl = pe->t[1].ttl;
	pe->df = pe->t[1].df;
	pe->win = pe->seq[0].win;
	pe->mss = 1460;
	const char *m = strchr(pe->seq[0].opts, 'M');
	if (m) {
		unsigned long x = strtoul(m + 1, NULL, 16);
		if (x >= 64 && x <= 65535)
			pe->mss = (uint16_t)x;
	}
}

int persona_resolve(struct persona *pe, const struct nmdb *db, const char *name,
		    struct vg_err *err)
{
	bool exact;
	const struct nmdb_fp *fp = nmdb_find(db, name, &exact);
	if (!fp)
		return vg_err_set(err, -ENOENT,
				  "personality \"%s\": no entry of %s comes close to that name",
				  name, db->path);
	persona_from_fp(pe, db, fp);
	pe->exact = exact;
	return 0;
}

/* --- TCP options --------------------------------------------------------------- */

static unsigned hexval(const char **p)
{
	unsigned v = 0, n = 0;
	while (n < 8 && isxdigit((unsigned char)**p)) {
		int c = (unsigned char)*(*p)++;
		v = v << 4 | (unsigned)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
		n++;
	}
	return v;
}

unsigned persona_tcp_options(const char *o, uint8_t *out, uint32_t ts_val, uint32_t ts_ecr,
			     bool peer_ws, bool peer_ts, bool peer_sack)
{
	unsigned n = 0, nops = 0;
	const char *p = o;
	while (*p) {
		char k = *p++;
		uint8_t b[10];
		unsigned bl = 0;
		bool keep = true;
		switch (k) {
		case 'L': b[0] = 0; bl = 1; break;
		case 'N': b[0] = 1; bl = 1; break;
		case 'M': {
			unsigned v = hexval(&p);
			b[0] = 2; b[1] = 4; b[2] = (uint8_t)(v >> 8); b[3] = (uint8_t)v;
			bl = 4;
			break;
		}
		case 'W': {
			unsigned v = hexval(&p);
			b[0] = 3; b[1] = 3; b[2] = (uint8_t)v;
			bl = 3;
			keep = peer_ws;
			break;
		}
		case 'S': b[0] = 4; b[1] = 2; bl = 2; keep = peer_sack; break;
		case 'T': {
			bool v1 = *p == '1', v2 = p[0] && p[1] == '1';
			for (int i = 0; i < 2 && *p; i++)
				p++;
			uint32_t tv = v1 ? (ts_val ? ts_val : 1) : 0;
			uint32_t te = v2 ? (ts_ecr ? ts_ecr : 1) : 0;
			b[0] = 8; b[1] = 10;
			for (int i = 0; i < 4; i++) {
				b[2 + i] = (uint8_t)(tv >> (24 - 8 * i));
				b[6 + i] = (uint8_t)(te >> (24 - 8 * i));
			}
			bl = 10;
			keep = peer_ts;
			break;
		}
		default:
			/* Unknown letters carry no bytes we could rebuild. */
			continue;
		}
		if (!keep) {
			/* The NOPs before an option align it: they go too. */
			n -= nops;
			nops = 0;
			continue;
		}
		if (n + bl > PERS_MAX_OPTS)
			break;
		memcpy(out + n, b, bl);
		n += bl;
		nops = k == 'N' ? nops + 1 : 0;
	}
	while (n % 4)
		out[n++] = 0;
	return n;
}
