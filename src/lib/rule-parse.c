/* rule-parse.c: the rule language (docs/rules.md), a subset of Snort 2.
 *
 * Written by hand: no Debian library parses Snort rules for use from C
 * (Snort and Suricata keep their parsers inside the engines).  Rule files
 * come from analysts, so the text is treated as hostile: every read is
 * bounded by the length given, lists nest at most MAX_DEPTH deep, and the
 * first error names the file, line and column. */
#include "rule-int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 4
#define MAX_ITEMS 4096              /* addresses or ports in one spec */
#define PCRE_MAX 4096

/* A logical line: physical lines joined at a trailing backslash; segs
 * map offsets back to physical lines and columns for errors. */
struct seg {
	size_t off;                 /* offset in the logical line */
	unsigned line;
	size_t col0;                /* column (0-based) of that offset */
};

struct pctx {
	struct rule_set *rs;
	const char *fname;
	const char *s;              /* the logical line */
	size_t len;
	struct seg *segs;
	size_t nsegs;
	struct vg_err *err;
};

static int perr(const struct pctx *c, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(const struct pctx *c, size_t pos, const char *fmt, ...)
{
	size_t k = 0;
	for (size_t i = 0; i < c->nsegs; i++)
		if (c->segs[i].off <= pos)
			k = i;
	unsigned line = c->nsegs ? c->segs[k].line : 0;
	size_t col = c->nsegs ? c->segs[k].col0 + (pos - c->segs[k].off) + 1 : pos + 1;
	char msg[VG_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return vg_err_set(c->err, -EINVAL, "%s:%u:%zu: %s", c->fname, line, col, msg);
}

/* ---- the set ------------------------------------------------------------ */

static void rule_clear(struct rule *r)
{
	free(r->src.v);
	free(r->dst.v);
	free(r->sp.v);
	free(r->dp.v);
	for (size_t i = 0; i < r->npl; i++) {
		free(r->pl[i].pat);
		if (r->pl[i].re)
			pcre2_code_free(r->pl[i].re);
	}
	free(r->pl);
	free((char *)r->info.msg);
	free((char *)r->info.classtype);
	free((char *)r->info.category);
	free((char *)r->info.name);
	free((char *)r->info.taxonomy);
	free((char *)r->info.type);
	free((char *)r->info.references);
	free((char *)r->info.file);
	memset(r, 0, sizeof *r);
}

int rule_set_new(struct rule_set **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? 0 : -ENOMEM;
}

void rule_set_free(struct rule_set *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++)
		rule_clear(&rs->rules[i]);
	free(rs->rules);
	for (size_t i = 0; i < rs->nvars; i++) {
		free(rs->vars[i].name);
		free(rs->vars[i].value);
	}
	free(rs->vars);
	free(rs->delta);
	free(rs->out_first);
	free(rs->dict);
	free(rs->depth);
	free(rs->out_rule);
	free(rs->out_next);
	free(rs->extent[0]);
	free(rs->extent[1]);
	for (int p = 0; p < RP_N; p++) {
		free(rs->idx[p].wild);
		free(rs->idx[p].byport);
	}
	free(rs);
}

size_t rule_set_count(const struct rule_set *rs)
{
	return rs->n;
}

const struct rule_info *rule_set_info(const struct rule_set *rs, size_t idx)
{
	return idx < rs->n ? &rs->rules[idx].info : NULL;
}

static const char *var_get(const struct rule_set *rs, const char *name, size_t len)
{
	for (size_t i = rs->nvars; i-- > 0;)
		if (strlen(rs->vars[i].name) == len && !memcmp(rs->vars[i].name, name, len))
			return rs->vars[i].value;
	if (len == 8 && !memcmp(name, "HOME_NET", 8))
		return "any";
	if (len == 12 && !memcmp(name, "EXTERNAL_NET", 12))
		return "any";
	return NULL;
}

static int var_put(struct rule_set *rs, const char *name, size_t nlen, const char *val,
		   size_t vlen)
{
	char *n = strndup(name, nlen), *v = strndup(val, vlen);
	struct rule_var *nv = realloc(rs->vars, (rs->nvars + 1) * sizeof *nv);
	if (!n || !v || !nv) {
		free(n);
		free(v);
		if (nv)
			rs->vars = nv;
		return -ENOMEM;
	}
	rs->vars = nv;
	rs->vars[rs->nvars++] = (struct rule_var){n, v};
	return 0;
}

static bool is_name_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_';
}

/* ---- addresses and ports --------------------------------------------------- */

/* A spec being parsed: the positions of errors are in the rule's text
 * (pos), even when the text parsed is a variable's value. */
struct spec_buf {
	void *v;
	size_t n, cap, elem;
};

static int sb_push(struct spec_buf *b, const void *e)
{
	if (b->n >= MAX_ITEMS)
		return -E2BIG;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4;
		void *nv = realloc(b->v, cap * b->elem);
		if (!nv)
			return -ENOMEM;
		b->v = nv;
		b->cap = cap;
	}
	memcpy((char *)b->v + b->n * b->elem, e, b->elem);
	b->n++;
	return 0;
}

typedef int (*atom_fn)(struct pctx *c, const char *t, size_t tl, size_t pos, bool neg,
		       struct spec_buf *b);

/* Parse a list expression: atoms, `!`, `[a,b]`, `$VAR`, `any`.  Negation is
 * pushed down onto the atoms (De Morgan), which is exact unless a negated
 * list holds both polarities: that is refused. */
static int parse_list(struct pctx *c, const char *t, size_t tl, size_t pos, bool neg,
		      struct spec_buf *b, atom_fn atom, int depth, bool *saw_any)
{
	if (depth > MAX_DEPTH)
		return perr(c, pos, "lists or variables nested deeper than %d", MAX_DEPTH);
	while (tl && isspace((unsigned char)*t)) {
		t++;
		tl--;
	}
	while (tl && isspace((unsigned char)t[tl - 1]))
		tl--;
	if (!tl)
		return perr(c, pos, "empty address or port");
	if (*t == '!')
		return parse_list(c, t + 1, tl - 1, pos, !neg, b, atom, depth + 1, saw_any);
	if (*t == '$') {
		size_t nl = 1;
		while (nl < tl && is_name_char(t[nl]))
			nl++;
		if (nl != tl || nl == 1)
			return perr(c, pos, "bad variable reference '%.*s'", (int)tl, t);
		const char *val = var_get(c->rs, t + 1, nl - 1);
		if (!val)
			return perr(c, pos, "undefined variable $%.*s", (int)(nl - 1), t + 1);
		return parse_list(c, val, strlen(val), pos, neg, b, atom, depth + 1, saw_any);
	}
	if (*t == '[') {
		if (t[tl - 1] != ']')
			return perr(c, pos, "list '%.*s' has no closing ']'", (int)tl, t);
		size_t before = b->n;
		const char *p = t + 1, *end = t + tl - 1;
		while (p <= end) {
			const char *q = p;
			int d = 0;
			while (q < end && (d > 0 || *q != ',')) {
				if (*q == '[')
					d++;
				else if (*q == ']')
					d--;
				q++;
			}
			int r = parse_list(c, p, (size_t)(q - p), pos + (size_t)(p - t), neg, b, atom,
					   depth + 1, saw_any);
			if (r)
				return r;
			p = q + 1;
		}
		if (neg && b->n - before > 1) {
			/* items were pushed with neg applied; a mixed list
			 * has items of both signs */
			bool pos_seen = false, neg_seen = false;
			for (size_t i = before; i < b->n; i++) {
				/* neg is the last byte-sized field of both item types */
				bool in = b->elem == sizeof(struct addr_item)
					? ((struct addr_item *)b->v)[i].neg
					: ((struct port_item *)b->v)[i].neg;
				if (in)
					neg_seen = true;
				else
					pos_seen = true;
			}
			if (pos_seen && neg_seen)
				return perr(c, pos, "a negated list may not mix negated and plain items");
		}
		return 0;
	}
	if (tl == 3 && !memcmp(t, "any", 3)) {
		if (neg)
			return perr(c, pos, "'!any' matches nothing");
		*saw_any = true;
		return 0;
	}
	return atom(c, t, tl, pos, neg, b);
}

static int addr_atom(struct pctx *c, const char *t, size_t tl, size_t pos, bool neg,
		     struct spec_buf *b)
{
	char buf[64];
	if (tl >= sizeof buf)
		return perr(c, pos, "address '%.*s' too long", (int)(tl > 60 ? 60 : tl), t);
	memcpy(buf, t, tl);
	buf[tl] = 0;
	struct addr_item it = {.neg = neg};
	struct vg_err e = {0};
	if (cidr_parse(buf, &it.c, &e))
		return perr(c, pos, "bad address '%s'", buf);
	int r = sb_push(b, &it);
	if (r == -E2BIG)
		return perr(c, pos, "more than %d addresses", MAX_ITEMS);
	return r ? vg_err_set(c->err, r, "out of memory") : 0;
}

static int parse_u16(const char *t, size_t tl, uint16_t *out)
{
	if (!tl || tl > 5)
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < tl; i++) {
		if (!isdigit((unsigned char)t[i]))
			return -1;
		v = v * 10 + (unsigned)(t[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int port_atom(struct pctx *c, const char *t, size_t tl, size_t pos, bool neg,
		     struct spec_buf *b)
{
	struct port_item it = {0, 65535, neg};
	const char *colon = memchr(t, ':', tl);
	int bad;
	if (colon) {
		size_t l1 = (size_t)(colon - t), l2 = tl - l1 - 1;
		bad = (l1 && parse_u16(t, l1, &it.lo)) || (l2 && parse_u16(colon + 1, l2, &it.hi)) ||
		      (!l1 && !l2) || it.lo > it.hi;
	} else {
		bad = parse_u16(t, tl, &it.lo);
		it.hi = it.lo;
	}
	if (bad)
		return perr(c, pos, "bad port '%.*s'", (int)(tl > 60 ? 60 : tl), t);
	int r = sb_push(b, &it);
	if (r == -E2BIG)
		return perr(c, pos, "more than %d ports", MAX_ITEMS);
	return r ? vg_err_set(c->err, r, "out of memory") : 0;
}

static int parse_addr(struct pctx *c, const char *t, size_t tl, size_t pos, struct addr_spec *out)
{
	struct spec_buf b = {.elem = sizeof(struct addr_item)};
	bool saw_any = false;
	int r = parse_list(c, t, tl, pos, false, &b, addr_atom, 0, &saw_any);
	if (r) {
		free(b.v);
		return r;
	}
	/* "any" inside a list of other items widens it to everything */
	bool any_pos = saw_any;
	size_t w = 0;
	struct addr_item *v = b.v;
	for (size_t i = 0; i < b.n; i++)
		if (!(any_pos && !v[i].neg))
			v[w++] = v[i];
	bool has_pos = false;
	for (size_t i = 0; i < w; i++)
		has_pos |= !v[i].neg;
	out->v = v;
	out->n = w;
	out->any = w == 0;
	(void)has_pos;
	return 0;
}

static int parse_ports(struct pctx *c, const char *t, size_t tl, size_t pos, struct port_spec *out)
{
	struct spec_buf b = {.elem = sizeof(struct port_item)};
	bool saw_any = false;
	int r = parse_list(c, t, tl, pos, false, &b, port_atom, 0, &saw_any);
	if (r) {
		free(b.v);
		return r;
	}
	struct port_item *v = b.v;
	size_t w = 0;
	for (size_t i = 0; i < b.n; i++)
		if (!(saw_any && !v[i].neg))
			v[w++] = v[i];
	out->v = v;
	out->n = w;
	out->any = w == 0;
	return 0;
}

/* ---- option values ----------------------------------------------------------- */

static int parse_int(const char *t, size_t tl, long lo, long hi, long *out)
{
	char buf[24];
	while (tl && isspace((unsigned char)*t)) {
		t++;
		tl--;
	}
	while (tl && isspace((unsigned char)t[tl - 1]))
		tl--;
	if (!tl || tl >= sizeof buf)
		return -1;
	memcpy(buf, t, tl);
	buf[tl] = 0;
	char *end;
	errno = 0;
	long v = strtol(buf, &end, 0);
	if (errno || *end || end == buf || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

enum qmode { Q_TEXT, Q_CONTENT, Q_REGEX };

/* A quoted string with Snort's escapes (\" \\ \; \:) and, for content,
 * |hex| bytes; a regular expression keeps its escapes for PCRE2.  t[0]
 * must be '"'; the value must end at the closing quote. */
static int parse_quoted(struct pctx *c, const char *t, size_t tl, size_t pos, enum qmode mode,
			uint8_t **out, uint32_t *outlen, size_t max)
{
	bool hex = mode == Q_CONTENT;
	if (tl < 2 || t[0] != '"' || t[tl - 1] != '"')
		return perr(c, pos, "expected a string in double quotes");
	uint8_t *buf = malloc(tl + 1);
	if (!buf)
		return vg_err_set(c->err, -ENOMEM, "out of memory");
	size_t n = 0;
	bool inhex = false;
	int nib = -1;
	for (size_t i = 1; i + 1 < tl; i++) {
		char ch = t[i];
		if (inhex) {
			if (ch == '|') {
				if (nib >= 0) {
					free(buf);
					return perr(c, pos + i, "odd number of hex digits");
				}
				inhex = false;
			} else if (isxdigit((unsigned char)ch)) {
				int d = isdigit((unsigned char)ch) ? ch - '0'
								    : tolower((unsigned char)ch) - 'a' + 10;
				if (nib < 0) {
					nib = d;
				} else {
					buf[n++] = (uint8_t)(nib << 4 | d);
					nib = -1;
				}
			} else if (ch != ' ') {
				free(buf);
				return perr(c, pos + i, "bad character '%c' in hex bytes", ch);
			}
			continue;
		}
		if (ch == '|' && hex) {
			inhex = true;
			continue;
		}
		if (ch == '\\') {
			if (i + 2 >= tl) {
				free(buf);
				return perr(c, pos + i, "backslash at the end of a string");
			}
			ch = t[++i];
			if (mode == Q_REGEX) {
				buf[n++] = '\\';
			} else if (ch != '"' && ch != '\\' && ch != ';' && ch != ':') {
				free(buf);
				return perr(c, pos + i - 1, "unknown escape '\\%c'", ch);
			}
		} else if (ch == '"') {
			free(buf);
			return perr(c, pos + i, "unescaped '\"' inside a string");
		}
		buf[n++] = (uint8_t)ch;
	}
	if (inhex) {
		free(buf);
		return perr(c, pos, "hex bytes not closed with '|'");
	}
	if (n > max) {
		free(buf);
		return perr(c, pos, "string longer than %zu bytes", max);
	}
	buf[n] = 0;
	*out = buf;
	*outlen = (uint32_t)n;
	return 0;
}

static int set_str(struct pctx *c, size_t pos, const char **dst, const char *v, size_t vl)
{
	char *s = strndup(v, vl);
	if (!s)
		return vg_err_set(c->err, -ENOMEM, "out of memory");
	free((char *)*dst);
	*dst = s;
	(void)pos;
	return 0;
}

static void trim(const char **t, size_t *tl)
{
	while (*tl && isspace((unsigned char)**t)) {
		(*t)++;
		(*tl)--;
	}
	while (*tl && isspace((unsigned char)(*t)[*tl - 1]))
		(*tl)--;
}

static int parse_num_test(struct pctx *c, const char *t, size_t tl, size_t pos, bool range,
			  struct num_test *nt)
{
	trim(&t, &tl);
	long a, b;
	const char *r = NULL;
	for (size_t i = 0; i + 1 < tl; i++)
		if (t[i] == '<' && t[i + 1] == '>')
			r = t + i;
	if (r && range) {
		size_t l1 = (size_t)(r - t);
		if (parse_int(t, l1, 0, UINT32_MAX, &a) ||
		    parse_int(r + 2, tl - l1 - 2, 0, UINT32_MAX, &b) || a >= b)
			return perr(c, pos, "bad range '%.*s' (want N<>M with N < M)", (int)tl, t);
		*nt = (struct num_test){'r', (uint32_t)a, (uint32_t)b};
		return 0;
	}
	char op = '=';
	if (tl >= 2 && t[0] == '<' && t[1] == '=') {
		op = 'l';
		t += 2;
		tl -= 2;
	} else if (tl >= 2 && t[0] == '>' && t[1] == '=') {
		op = 'g';
		t += 2;
		tl -= 2;
	} else if (tl && (t[0] == '<' || t[0] == '>' || t[0] == '!' || t[0] == '=')) {
		op = t[0];
		t++;
		tl--;
	}
	if (parse_int(t, tl, 0, UINT32_MAX, &a))
		return perr(c, pos, "bad number '%.*s'", (int)(tl > 40 ? 40 : tl), t);
	*nt = (struct num_test){op, (uint32_t)a, 0};
	return 0;
}

static int flag_bit(char ch)
{
	switch (ch) {
	case 'F': return VG_TH_FIN;
	case 'S': return VG_TH_SYN;
	case 'R': return VG_TH_RST;
	case 'P': return VG_TH_PSH;
	case 'A': return VG_TH_ACK;
	case 'U': return VG_TH_URG;
	case 'E': case '2': return VG_TH_ECE;
	case 'C': case '1': return VG_TH_CWR;
	case '0': return 0;
	default: return -1;
	}
}

static int parse_flags(struct pctx *c, const char *t, size_t tl, size_t pos, struct rule *r)
{
	trim(&t, &tl);
	const char *comma = memchr(t, ',', tl);
	size_t fl = comma ? (size_t)(comma - t) : tl;
	r->fmode = 0;
	r->flags = r->fmask = 0;
	size_t i = 0;
	if (fl && (t[0] == '+' || t[0] == '*' || t[0] == '!')) {
		r->fmode = t[0];
		i = 1;
	}
	if (i >= fl)
		return perr(c, pos, "flags: no flags given");
	for (; i < fl; i++) {
		if (isspace((unsigned char)t[i]))
			continue;
		if ((t[i] == '+' || t[i] == '*' || t[i] == '!') && i + 1 == fl && !r->fmode) {
			r->fmode = t[i];  /* Snort also accepts the modifier last */
			continue;
		}
		int b = flag_bit(t[i]);
		if (b < 0)
			return perr(c, pos + i, "flags: unknown flag '%c'", t[i]);
		r->flags |= (uint8_t)b;
	}
	if (comma) {
		for (size_t j = fl + 1; j < tl; j++) {
			if (isspace((unsigned char)t[j]))
				continue;
			int b = flag_bit(t[j]);
			if (b <= 0)
				return perr(c, pos + j, "flags: unknown mask flag '%c'", t[j]);
			r->fmask |= (uint8_t)b;
		}
	}
	r->has_flags = true;
	return 0;
}

static struct pl_opt *pl_add(struct pctx *c, size_t pos, struct rule *r)
{
	if (r->npl >= RULE_OPTS_MAX) {
		perr(c, pos, "more than %d content/pcre options", RULE_OPTS_MAX);
		return NULL;
	}
	struct pl_opt *nv = realloc(r->pl, (r->npl + 1) * sizeof *nv);
	if (!nv) {
		vg_err_set(c->err, -ENOMEM, "out of memory");
		return NULL;
	}
	r->pl = nv;
	struct pl_opt *o = &r->pl[r->npl++];
	memset(o, 0, sizeof *o);
	return o;
}

static int parse_pcre(struct pctx *c, const char *t, size_t tl, size_t pos, struct rule *r)
{
	trim(&t, &tl);
	bool neg = false;
	if (tl && *t == '!') {
		neg = true;
		t++;
		tl--;
		pos++;
	}
	uint8_t *s;
	uint32_t sl;
	int e = parse_quoted(c, t, tl, pos, Q_REGEX, &s, &sl, PCRE_MAX);
	if (e)
		return e;
	const char *last = sl ? strrchr((char *)s, '/') : NULL;
	if (sl < 2 || s[0] != '/' || !last || last == (char *)s) {
		free(s);
		return perr(c, pos, "pcre: expected \"/pattern/flags\"");
	}
	uint32_t opts = PCRE2_NEVER_BACKSLASH_C;
	bool rel = false;
	for (const char *f = last + 1; *f; f++) {
		switch (*f) {
		case 'i': opts |= PCRE2_CASELESS; break;
		case 's': opts |= PCRE2_DOTALL; break;
		case 'm': opts |= PCRE2_MULTILINE; break;
		case 'x': opts |= PCRE2_EXTENDED; break;
		case 'R': rel = true; break;
		default: {
			char bad = *f;
			free(s);
			return perr(c, pos, "pcre: unsupported flag '%c' (supported: i s m x R)", bad);
		}
		}
	}
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)(s + 1), (PCRE2_SIZE)(last - (char *)s - 1),
				       opts, &ec, &eo, NULL);
	if (!re) {
		free(s);
		PCRE2_UCHAR m[128];
		pcre2_get_error_message(ec, m, sizeof m);
		return perr(c, pos + 2 + eo, "pcre: %s", (char *)m);
	}
	free(s);
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	struct pl_opt *o = pl_add(c, pos, r);
	if (!o) {
		pcre2_code_free(re);
		return c->err->code;
	}
	o->kind = PL_PCRE;
	o->neg = neg;
	o->relative = rel;
	o->re = re;
	return 0;
}

static int parse_metadata(struct pctx *c, const char *t, size_t tl, size_t pos, struct rule *r)
{
	const char *end = t + tl;
	while (t < end) {
		const char *q = memchr(t, ',', (size_t)(end - t));
		if (!q)
			q = end;
		const char *k = t;
		size_t kl = (size_t)(q - t);
		trim(&k, &kl);
		size_t nl = 0;
		while (nl < kl && !isspace((unsigned char)k[nl]))
			nl++;
		const char *v = k + nl;
		size_t vl = kl - nl;
		trim(&v, &vl);
		const char **dst = NULL;
		if (nl == 8 && !memcmp(k, "category", 8))
			dst = &r->info.category;
		else if (nl == 4 && !memcmp(k, "name", 4))
			dst = &r->info.name;
		else if (nl == 8 && !memcmp(k, "taxonomy", 8))
			dst = &r->info.taxonomy;
		else if (nl == 4 && !memcmp(k, "type", 4))
			dst = &r->info.type;
		if (dst) {
			if (!vl)
				return perr(c, pos + (size_t)(k - (end - tl)), "metadata: '%.*s' has no value",
					    (int)nl, k);
			int e = set_str(c, pos, dst, v, vl);
			if (e)
				return e;
		}
		t = q + 1;
	}
	return 0;
}

static int parse_detection_filter(struct pctx *c, const char *t, size_t tl, size_t pos,
				  struct rule *r)
{
	const char *end = t + tl;
	bool have_track = false, have_count = false, have_secs = false;
	while (t < end) {
		const char *q = memchr(t, ',', (size_t)(end - t));
		if (!q)
			q = end;
		const char *k = t;
		size_t kl = (size_t)(q - t);
		trim(&k, &kl);
		long v;
		if (kl > 6 && !memcmp(k, "track ", 6)) {
			const char *w = k + 6;
			size_t wl = kl - 6;
			trim(&w, &wl);
			if (wl == 6 && !memcmp(w, "by_src", 6))
				r->df_by_dst = false;
			else if (wl == 6 && !memcmp(w, "by_dst", 6))
				r->df_by_dst = true;
			else
				return perr(c, pos, "detection_filter: track by_src or by_dst");
			have_track = true;
		} else if (kl > 6 && !memcmp(k, "count ", 6) &&
			   !parse_int(k + 6, kl - 6, 1, 1000000, &v)) {
			r->df_count = (uint32_t)v;
			have_count = true;
		} else if (kl > 8 && !memcmp(k, "seconds ", 8) &&
			   !parse_int(k + 8, kl - 8, 1, 86400 * 7, &v)) {
			r->df_seconds = (uint32_t)v;
			have_secs = true;
		} else {
			return perr(c, pos, "detection_filter: bad part '%.*s'", (int)(kl > 40 ? 40 : kl), k);
		}
		t = q + 1;
	}
	if (!have_track || !have_count || !have_secs)
		return perr(c, pos, "detection_filter: needs track, count and seconds");
	r->df_on = true;
	return 0;
}

static struct pl_opt *last_content(struct pctx *c, size_t pos, struct rule *r, const char *what)
{
	if (!r->npl || r->pl[r->npl - 1].kind != PL_CONTENT) {
		perr(c, pos, "'%s' must follow a content option", what);
		return NULL;
	}
	return &r->pl[r->npl - 1];
}

static bool opt_is(const char *name, size_t nl, const char *want)
{
	return strlen(want) == nl && !memcmp(name, want, nl);
}

static int rule_option(struct pctx *c, const char *name, size_t nl, size_t npos,
		       const char *v, size_t vl, size_t vpos, bool has_val, struct rule *r)
{
	const char *tv = v;
	size_t tvl = vl;
	trim(&tv, &tvl);
	long n;
	static const char *const no_value[] = {"nocase", "rawbytes", "fast_pattern",
					       "vigia_seq_is_dst", "vigia_masscan_ipid"};
	bool flag_opt = false;
	for (size_t i = 0; i < sizeof no_value / sizeof no_value[0]; i++)
		flag_opt |= opt_is(name, nl, no_value[i]);
	if (!flag_opt && !has_val && !opt_is(name, nl, "fast_pattern"))
		return perr(c, npos, "option '%.*s' needs a value", (int)nl, name);

	if (opt_is(name, nl, "msg")) {
		uint8_t *s;
		uint32_t sl;
		int e = parse_quoted(c, tv, tvl, vpos + (size_t)(tv - v), Q_TEXT, &s, &sl, 4096);
		if (e)
			return e;
		free((char *)r->info.msg);
		r->info.msg = (char *)s;
		return 0;
	}
	if (opt_is(name, nl, "content")) {
		size_t p = vpos + (size_t)(tv - v);
		bool neg = false;
		if (tvl && *tv == '!') {
			neg = true;
			tv++;
			tvl--;
			p++;
			trim(&tv, &tvl);
		}
		uint8_t *s;
		uint32_t sl;
		int e = parse_quoted(c, tv, tvl, p, Q_CONTENT, &s, &sl, RULE_CONTENT_MAX);
		if (e)
			return e;
		if (!sl) {
			free(s);
			return perr(c, p, "content: empty pattern");
		}
		struct pl_opt *o = pl_add(c, npos, r);
		if (!o) {
			free(s);
			return c->err->code;
		}
		o->kind = PL_CONTENT;
		o->neg = neg;
		o->pat = s;
		o->len = sl;
		return 0;
	}
	if (opt_is(name, nl, "nocase") || opt_is(name, nl, "rawbytes") ||
	    opt_is(name, nl, "fast_pattern")) {
		struct pl_opt *o = last_content(c, npos, r, opt_is(name, nl, "nocase") ? "nocase" :
						 opt_is(name, nl, "rawbytes") ? "rawbytes" : "fast_pattern");
		if (!o)
			return c->err->code;
		if (opt_is(name, nl, "nocase"))
			o->nocase = true;
		else if (opt_is(name, nl, "fast_pattern"))
			o->fast = true;
		return 0;
	}
	if (opt_is(name, nl, "offset") || opt_is(name, nl, "depth") ||
	    opt_is(name, nl, "distance") || opt_is(name, nl, "within")) {
		char nm[10];
		snprintf(nm, sizeof nm, "%.*s", (int)nl, name);
		struct pl_opt *o = last_content(c, npos, r, nm);
		if (!o)
			return c->err->code;
		bool is_off = !strcmp(nm, "offset"), is_depth = !strcmp(nm, "depth");
		bool is_dist = !strcmp(nm, "distance");
		bool can_neg = is_off || is_dist;
		if (parse_int(tv, tvl, can_neg ? -65535 : 1, 65535, &n))
			return perr(c, vpos, "%s: bad value '%.*s'", nm, (int)(vl > 40 ? 40 : vl), v);
		if (is_off) {
			o->has_offset = true;
			o->offset = (int32_t)n;
		} else if (is_depth) {
			o->has_depth = true;
			o->depth = (int32_t)n;
		} else if (is_dist) {
			o->has_distance = true;
			o->distance = (int32_t)n;
		} else {
			o->has_within = true;
			o->within = (int32_t)n;
		}
		if ((o->has_offset || o->has_depth) && (o->has_distance || o->has_within))
			return perr(c, npos, "%s: offset/depth and distance/within cannot be mixed "
				    "on one content", nm);
		if ((o->has_depth && o->depth < (int32_t)o->len) ||
		    (o->has_within && o->within < (int32_t)o->len))
			return perr(c, vpos, "%s: shorter than the content (%u bytes)", nm, o->len);
		o->relative = o->has_distance || o->has_within;
		return 0;
	}
	if (opt_is(name, nl, "pcre"))
		return parse_pcre(c, v, vl, vpos, r);
	if (opt_is(name, nl, "flags"))
		return parse_flags(c, v, vl, vpos, r);
	struct {
		const char *n;
		struct num_test *t;
		bool range;
	} nums[] = {
		{"dsize", &r->dsize, true}, {"seq", &r->seq, false}, {"ack", &r->ack, false},
		{"window", &r->win, false}, {"id", &r->ipid, false}, {"ttl", &r->ttl, true},
		{"itype", &r->itype, true}, {"icode", &r->icode, true},
	};
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
		if (opt_is(name, nl, nums[i].n))
			return parse_num_test(c, v, vl, vpos, nums[i].range, nums[i].t);
	if (opt_is(name, nl, "classtype")) {
		for (size_t i = 0; i < tvl; i++)
			if (!isalnum((unsigned char)tv[i]) && tv[i] != '-' && tv[i] != '_')
				return perr(c, vpos, "classtype: bad name");
		return set_str(c, vpos, &r->info.classtype, tv, tvl);
	}
	if (opt_is(name, nl, "sid") || opt_is(name, nl, "rev")) {
		if (parse_int(tv, tvl, 1, UINT32_MAX, &n))
			return perr(c, vpos, "%.*s: bad number", (int)nl, name);
		if (name[0] == 's')
			r->info.sid = (uint32_t)n;
		else
			r->info.rev = (uint32_t)n;
		return 0;
	}
	if (opt_is(name, nl, "reference")) {
		const char *old = r->info.references ? r->info.references : "";
		size_t ol = strlen(old);
		if (ol + tvl + 2 > 4096)
			return perr(c, vpos, "reference: too many references");
		char *s = malloc(ol + tvl + 2);
		if (!s)
			return vg_err_set(c->err, -ENOMEM, "out of memory");
		snprintf(s, ol + tvl + 2, "%s%s%.*s", old, ol ? " " : "", (int)tvl, tv);
		free((char *)r->info.references);
		r->info.references = s;
		return 0;
	}
	if (opt_is(name, nl, "metadata"))
		return parse_metadata(c, v, vl, vpos, r);
	if (opt_is(name, nl, "detection_filter"))
		return parse_detection_filter(c, v, vl, vpos, r);
	if (opt_is(name, nl, "flow") || opt_is(name, nl, "priority") || opt_is(name, nl, "gid"))
		return 0;   /* accepted and ignored: see docs/rules.md */
	if (opt_is(name, nl, "vigia_seq_is_dst")) {
		r->seq_is_dst = true;
		return 0;
	}
	if (opt_is(name, nl, "vigia_masscan_ipid")) {
		r->masscan_ipid = true;
		return 0;
	}
	return perr(c, npos, "unsupported option '%.*s'", (int)(nl > 40 ? 40 : nl), name);
}

/* ---- one logical line ------------------------------------------------------------ */

static size_t skip_ws(const struct pctx *c, size_t i)
{
	while (i < c->len && isspace((unsigned char)c->s[i]))
		i++;
	return i;
}

/* A header token: up to whitespace, a bracketed list taken whole. */
static size_t token_end(const struct pctx *c, size_t i)
{
	int d = 0;
	while (i < c->len && (d > 0 || !isspace((unsigned char)c->s[i])) && c->s[i] != '(') {
		if (c->s[i] == '[')
			d++;
		else if (c->s[i] == ']')
			d--;
		i++;
	}
	return i;
}

static int word(struct pctx *c, size_t *i, size_t *start, const char *what)
{
	*i = skip_ws(c, *i);
	*start = *i;
	*i = token_end(c, *i);
	if (*i == *start)
		return perr(c, *start, "expected %s", what);
	return 0;
}

static bool tok_is(const struct pctx *c, size_t a, size_t b, const char *w)
{
	return b - a == strlen(w) && !memcmp(c->s + a, w, b - a);
}

static int parse_rule(struct pctx *c, size_t i, struct rule *r)
{
	size_t a;
	int e;
	if ((e = word(c, &i, &a, "a protocol")))
		return e;
	if (tok_is(c, a, i, "tcp"))
		r->proto = RP_TCP;
	else if (tok_is(c, a, i, "udp"))
		r->proto = RP_UDP;
	else if (tok_is(c, a, i, "icmp"))
		r->proto = RP_ICMP;
	else if (tok_is(c, a, i, "ip"))
		r->proto = RP_IP;
	else
		return perr(c, a, "unknown protocol '%.*s' (tcp, udp, icmp or ip)",
			    (int)(i - a > 20 ? 20 : i - a), c->s + a);
	if ((e = word(c, &i, &a, "a source address")) ||
	    (e = parse_addr(c, c->s + a, i - a, a, &r->src)))
		return e;
	if ((e = word(c, &i, &a, "a source port")) ||
	    (e = parse_ports(c, c->s + a, i - a, a, &r->sp)))
		return e;
	if ((e = word(c, &i, &a, "'->' or '<>'")))
		return e;
	if (tok_is(c, a, i, "<>"))
		r->bidir = true;
	else if (!tok_is(c, a, i, "->"))
		return perr(c, a, "expected '->' or '<>'");
	if ((e = word(c, &i, &a, "a destination address")) ||
	    (e = parse_addr(c, c->s + a, i - a, a, &r->dst)))
		return e;
	if ((e = word(c, &i, &a, "a destination port")) ||
	    (e = parse_ports(c, c->s + a, i - a, a, &r->dp)))
		return e;
	i = skip_ws(c, i);
	if (i >= c->len || c->s[i] != '(')
		return perr(c, i, "expected '(' before the options");
	i++;
	for (;;) {
		i = skip_ws(c, i);
		if (i >= c->len)
			return perr(c, i, "options not closed with ')'");
		if (c->s[i] == ')')
			break;
		size_t ns = i;
		while (i < c->len && (is_name_char(c->s[i]) || c->s[i] == '.'))
			i++;
		size_t nl = i - ns;
		if (!nl)
			return perr(c, i, "expected an option name");
		i = skip_ws(c, i);
		if (i >= c->len)
			return perr(c, i, "option '%.*s' not ended with ';'", (int)nl, c->s + ns);
		size_t vs = i, ve = i;
		bool has_val = false;
		if (c->s[i] == ':') {
			has_val = true;
			vs = ++i;
			bool q = false;
			while (i < c->len && (q || c->s[i] != ';')) {
				if (c->s[i] == '\\' && q && i + 1 < c->len)
					i++;
				else if (c->s[i] == '"')
					q = !q;
				i++;
			}
			if (i >= c->len)
				return perr(c, vs, "option '%.*s' not ended with ';'", (int)nl, c->s + ns);
			ve = i;
		} else if (c->s[i] != ';') {
			return perr(c, i, "expected ':' or ';' after option '%.*s'", (int)nl, c->s + ns);
		}
		i++;    /* the ';' */
		if ((e = rule_option(c, c->s + ns, nl, ns, c->s + vs, ve - vs, vs, has_val, r)))
			return e;
	}
	size_t close = i;
	i = skip_ws(c, i + 1);
	if (i < c->len)
		return perr(c, i, "text after the closing ')'");
	if (!r->info.sid)
		return perr(c, close, "rule has no sid");
	if (!r->info.msg && (e = set_str(c, 0, &r->info.msg, "", 0)))
		return e;
	if (!r->info.classtype && (e = set_str(c, 0, &r->info.classtype, "", 0)))
		return e;
	if (!r->info.references && (e = set_str(c, 0, &r->info.references, "", 0)))
		return e;
	if (!r->info.category &&
	    (e = set_str(c, 0, &r->info.category, "other", 5)))
		return e;
	if (!r->info.name && (e = set_str(c, 0, &r->info.name, r->info.msg, strlen(r->info.msg))))
		return e;
	const char *tx, *ty;
	rule_taxonomy(r->info.category, &tx, &ty);
	if (!r->info.taxonomy && (e = set_str(c, 0, &r->info.taxonomy, tx, strlen(tx))))
		return e;
	if (!r->info.type && (e = set_str(c, 0, &r->info.type, ty, strlen(ty))))
		return e;
	if ((r->seq_is_dst || r->masscan_ipid || r->has_flags || r->seq.op || r->ack.op ||
	     r->win.op) && r->proto != RP_TCP)
		return perr(c, 0, "TCP header options in a rule for another protocol");
	/* the fast pattern: the one marked, else the longest plain content */
	r->fast = -1;
	for (size_t k = 0; k < r->npl; k++) {
		const struct pl_opt *o = &r->pl[k];
		if (o->kind != PL_CONTENT || o->neg)
			continue;
		if (o->fast) {
			r->fast = (int)k;
			break;
		}
		if (r->fast < 0 || o->len > r->pl[r->fast].len)
			r->fast = (int)k;
	}
	r->fp_lo = 0;
	r->fp_hi = INT32_MAX;
	if (r->fast >= 0 && !r->pl[r->fast].relative) {
		const struct pl_opt *o = &r->pl[r->fast];
		r->fp_lo = o->has_offset && o->offset > 0 ? o->offset : 0;
		if (o->has_depth)
			r->fp_hi = r->fp_lo + o->depth - (int32_t)o->len;
	}
	return 0;
}

static int parse_logical(struct pctx *c, unsigned line)
{
	size_t i = skip_ws(c, 0);
	if (i >= c->len || c->s[i] == '#')
		return 0;
	size_t a;
	int e;
	if ((e = word(c, &i, &a, "an action")))
		return e;
	if (tok_is(c, a, i, "var") || tok_is(c, a, i, "ipvar") || tok_is(c, a, i, "portvar")) {
		size_t ns;
		if ((e = word(c, &i, &ns, "a variable name")))
			return e;
		for (size_t k = ns; k < i; k++)
			if (!is_name_char(c->s[k]))
				return perr(c, k, "bad variable name");
		size_t vs = skip_ws(c, i), ve = c->len;
		while (ve > vs && isspace((unsigned char)c->s[ve - 1]))
			ve--;
		if (vs == ve)
			return perr(c, vs, "variable without a value");
		/* check the value parses, as an address list or ports */
		struct addr_spec as = {0};
		struct port_spec ps = {0};
		struct vg_err e1 = {0}, e2 = {0};
		struct pctx c1 = *c, c2 = *c;
		c1.err = &e1;
		c2.err = &e2;
		int r1 = parse_addr(&c1, c->s + vs, ve - vs, vs, &as);
		int r2 = r1 ? parse_ports(&c2, c->s + vs, ve - vs, vs, &ps) : 0;
		free(as.v);
		free(ps.v);
		if (r1 && r2) {
			*c->err = tok_is(c, a, i - (i - ns), "portvar") ? e2 : e1;
			return r1;
		}
		if (c->rs->nvars >= 1024)
			return perr(c, a, "more than 1024 variables");
		if (var_put(c->rs, c->s + ns, i - ns, c->s + vs, ve - vs))
			return vg_err_set(c->err, -ENOMEM, "out of memory");
		return 0;
	}
	if (!tok_is(c, a, i, "alert"))
		return perr(c, a, "unknown action '%.*s' (alert, var, ipvar or portvar)",
			    (int)(i - a > 20 ? 20 : i - a), c->s + a);
	if (c->rs->compiled)
		return perr(c, a, "the rule set is already compiled");
	if (c->rs->n >= RULE_MAX_RULES)
		return perr(c, a, "more than %d rules", RULE_MAX_RULES);
	struct rule r;
	memset(&r, 0, sizeof r);
	e = parse_rule(c, i, &r);
	if (!e) {
		r.info.line = line;
		if (!(r.info.file = strdup(c->fname)))
			e = vg_err_set(c->err, -ENOMEM, "out of memory");
	}
	if (!e && c->rs->n == c->rs->cap) {
		size_t cap = c->rs->cap ? c->rs->cap * 2 : 64;
		struct rule *nv = realloc(c->rs->rules, cap * sizeof *nv);
		if (!nv)
			e = vg_err_set(c->err, -ENOMEM, "out of memory");
		else {
			c->rs->rules = nv;
			c->rs->cap = cap;
		}
	}
	if (e) {
		rule_clear(&r);
		return e;
	}
	c->rs->rules[c->rs->n++] = r;
	return 0;
}

int rule_set_parse(struct rule_set *rs, const char *fname, const char *text, size_t len,
		   struct vg_err *err)
{
	char *buf = malloc(RULE_LINE_MAX + 1);
	struct seg *segs = malloc(256 * sizeof *segs);
	if (!buf || !segs) {
		free(buf);
		free(segs);
		return vg_err_set(err, -ENOMEM, "out of memory");
	}
	struct pctx c = {.rs = rs, .fname = fname, .s = buf, .segs = segs, .err = err};
	size_t pos = 0, bl = 0;
	unsigned line = 0, first_line = 0;
	int r = 0;
	c.nsegs = 0;
	while (pos < len && !r) {
		const char *nlp = memchr(text + pos, '\n', len - pos);
		size_t end = nlp ? (size_t)(nlp - text) : len;
		size_t ll = end - pos;
		line++;
		if (memchr(text + pos, '\0', ll)) {
			c.len = 0;
			c.nsegs = 0;
			r = vg_err_set(err, -EINVAL, "%s:%u: NUL byte in the text", fname, line);
			break;
		}
		if (ll && text[pos + ll - 1] == '\r')
			ll--;
		if (!c.nsegs)
			first_line = line;
		if (bl + ll > RULE_LINE_MAX) {
			r = vg_err_set(err, -EINVAL, "%s:%u: rule longer than %d bytes", fname,
				       first_line, RULE_LINE_MAX);
			break;
		}
		if (c.nsegs == 256) {
			r = vg_err_set(err, -EINVAL, "%s:%u: more than 256 continued lines", fname,
				       first_line);
			break;
		}
		segs[c.nsegs++] = (struct seg){bl, line, 0};
		memcpy(buf + bl, text + pos, ll);
		bl += ll;
		pos = nlp ? end + 1 : len;
		if (bl && buf[bl - 1] == '\\' && pos < len) {
			buf[bl - 1] = ' ';
			continue;
		}
		buf[bl] = 0;
		c.len = bl;
		r = parse_logical(&c, first_line);
		bl = 0;
		c.nsegs = 0;
	}
	if (!r && bl) {
		buf[bl] = 0;
		c.len = bl;
		r = parse_logical(&c, first_line);
	}
	free(buf);
	free(segs);
	return r;
}

int rule_set_load(struct rule_set *rs, const char *path, struct vg_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return vg_err_set(err, -errno, "%s: cannot open: %s", path, strerror(errno));
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	int r = 0;
	while (buf) {
		if (n == cap) {
			if (cap >= RULE_FILE_MAX) {
				r = vg_err_set(err, -EFBIG, "%s: larger than %u bytes", path, RULE_FILE_MAX);
				break;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (!got)
			break;
	}
	if (!buf)
		r = vg_err_set(err, -ENOMEM, "out of memory");
	else if (!r && ferror(f))
		r = vg_err_set(err, -EIO, "%s: read error at byte offset %zu", path, n);
	fclose(f);
	if (!r)
		r = rule_set_parse(rs, path, buf, n, err);
	free(buf);
	return r;
}

int rule_set_var(struct rule_set *rs, const char *name, const char *value, struct vg_err *err)
{
	char line[RULE_LINE_MAX];
	int n = snprintf(line, sizeof line, "ipvar %s %s", name, value);
	if (n < 0 || (size_t)n >= sizeof line)
		return vg_err_set(err, -EINVAL, "variable %s: value too long", name);
	return rule_set_parse(rs, "(variable)", line, (size_t)n, err);
}

void rule_taxonomy(const char *category, const char **taxonomy, const char **type)
{
	static const struct {
		const char *cat, *tax, *type;
	} map[] = {
		{"scan", "information-gathering", "scanner"},
		{"worm", "malicious-code", "infected-system"},
		{"bot", "malicious-code", "infected-system"},
		{"spam", "abusive-content", "spam"},
		{"open-proxy", "information-gathering", "scanner"},
		{"bruteforce", "intrusion-attempts", "brute-force"},
		{"exploit", "intrusion-attempts", "exploit"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (category && !strcmp(category, map[i].cat)) {
			*taxonomy = map[i].tax;
			*type = map[i].type;
			return;
		}
	*taxonomy = "other";
	*type = "other";
}
