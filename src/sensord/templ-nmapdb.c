/* templ-nmapdb.c: load nmap-os-db (format in templ-nmapdb.h).
 *
 * Written by hand: nmap's own parser is C++ inside the nmap program, and
 * no Debian library reads this file.
 *
 * Name resolution (nmdb_find), for `set T personality "NAME"`:
 *   1. the name exactly as written;
 *   2. the same ignoring case;
 *   3. else the entry sharing most words with it, so that Honeyd-era names
 *      ("Microsoft Windows XP Professional SP1", "OpenBSD 3.4 (x86)")
 *      still land on a current entry.  Words are compared ignoring case;
 *      a word counts 2 points, and a version that agrees only up to
 *      major.minor ("2.4.20" against "2.4.18") counts 1.  The first word
 *      of the name (the vendor or system) must be present, and a name of
 *      two words or more needs 3 points.  Ties go to the entry with fewer
 *      words the name does not have, then to the earlier one in the file.
 * Many names occur more than once (nmap keeps every submitted variant);
 * of those the entry with the most tests present is taken, the first in
 * the file among equals, so the choice is stable for a given file. */
#include "templ-nmapdb.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const test_names[NMDB_NTESTS] = {
	"SEQ", "OPS", "WIN", "ECN", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "U1", "IE",
};

const char *nmdb_test_name(enum nmdb_test t)
{
	return (unsigned)t < NMDB_NTESTS ? test_names[t] : "?";
}

struct loader {
	struct nmdb *db;
	const char *file;
	size_t cap_fps, cap_attrs, cap_alts, cap_strs;
	struct vg_err *err;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * elem);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static int add_str(struct loader *L, const char *s, size_t len, uint32_t *off)
{
	struct nmdb *db = L->db;
	if (db->strs_len + len + 1 > UINT32_MAX)
		return -EOVERFLOW;
	if (grow((void **)&db->strs, &L->cap_strs, db->strs_len + len + 1, 1) < 0)
		return -ENOMEM;
	memcpy(db->strs + db->strs_len, s, len);
	db->strs[db->strs_len + len] = '\0';
	*off = (uint32_t)db->strs_len;
	db->strs_len += len + 1;
	return 0;
}

/* A hex number of 1 to 8 digits, the whole of [s, s+len). */
static bool parse_hex(const char *s, size_t len, uint32_t *v)
{
	if (len == 0 || len > 8)
		return false;
	uint32_t x = 0;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];
		if (!isxdigit(c))
			return false;
		x = x << 4 | (uint32_t)(isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
	}
	*v = x;
	return true;
}

static int bad(struct loader *L, uint32_t line, const char *what)
{
	return vg_err_set(L->err, -EINVAL, "%s:%u: %s", L->file, line, what);
}

static int parse_alt(struct loader *L, uint32_t line, const char *s, size_t len,
		     struct nmdb_alt *a)
{
	memset(a, 0, sizeof *a);
	a->kind = NMDB_STR;
	if (len > UINT16_MAX)
		return bad(L, line, "value too long");
	if (len && (s[0] == '>' || s[0] == '<')) {
		a->kind = s[0] == '>' ? NMDB_GT : NMDB_LT;
		if (!parse_hex(s + 1, len - 1, &a->lo))
			return bad(L, line, "expected a hex number after '>' or '<'");
		a->hi = a->lo;
		a->is_num = true;
	} else {
		const char *dash = len > 1 ? memchr(s + 1, '-', len - 1) : NULL;
		if (dash) {
			a->kind = NMDB_RANGE;
			if (!parse_hex(s, (size_t)(dash - s), &a->lo) ||
			    !parse_hex(dash + 1, len - (size_t)(dash - s) - 1, &a->hi) ||
			    a->lo > a->hi)
				return bad(L, line, "expected a hex range LO-HI");
			a->is_num = true;
		} else if (parse_hex(s, len, &a->lo)) {
			a->hi = a->lo;
			a->is_num = true;
		}
	}
	a->slen = (uint16_t)len;
	return add_str(L, s, len, &a->str) < 0 ? vg_err_set(L->err, -ENOMEM,
							     "%s: out of memory", L->file)
					       : 0;
}

/* "TEST(A=x%B=y|z%...)" into the fingerprint (or the MatchPoints). */
static int parse_test(struct loader *L, uint32_t line, struct nmdb_fp *fp, const char *s,
		      size_t len)
{
	struct nmdb *db = L->db;
	const char *par = memchr(s, '(', len);
	if (!par || s[len - 1] != ')')
		return bad(L, line, "expected TEST(ATTR=VALUE%...)");
	size_t nl = (size_t)(par - s);
	int t = -1;
	for (int i = 0; i < NMDB_NTESTS; i++)
		if (strlen(test_names[i]) == nl && !memcmp(s, test_names[i], nl))
			t = i;
	if (t < 0)
		return bad(L, line, "unknown test (expected SEQ, OPS, WIN, ECN, T1-T7, U1 or IE)");
	if (fp->tests[t].present)
		return bad(L, line, "test given twice in one fingerprint");
	fp->tests[t].present = true;
	fp->tests[t].first_attr = (uint32_t)db->nattrs;
	const char *p = par + 1, *end = s + len - 1;
	while (p < end) {
		const char *pct = memchr(p, '%', (size_t)(end - p));
		const char *ae = pct ? pct : end;
		const char *eq = memchr(p, '=', (size_t)(ae - p));
		if (!eq || eq == p || (size_t)(eq - p) >= sizeof db->attrs[0].name)
			return bad(L, line, "expected ATTR=VALUE");
		for (const char *q = p; q < eq; q++)
			if (!isalnum((unsigned char)*q))
				return bad(L, line, "attribute names are letters and digits");
		if (fp->tests[t].nattrs == UINT16_MAX)
			return bad(L, line, "too many attributes");
		if (grow((void **)&db->attrs, &L->cap_attrs, db->nattrs + 1, sizeof *db->attrs) < 0)
			return vg_err_set(L->err, -ENOMEM, "%s: out of memory", L->file);
		struct nmdb_attr *a = &db->attrs[db->nattrs];
		memset(a, 0, sizeof *a);
		memcpy(a->name, p, (size_t)(eq - p));
		a->first_alt = (uint32_t)db->nalts;
		const char *v = eq + 1;
		for (;;) {
			const char *bar = memchr(v, '|', (size_t)(ae - v));
			const char *ve = bar ? bar : ae;
			if (a->nalts == NMDB_MAX_ALTS)
				return bad(L, line, "too many alternatives in one value");
			if (grow((void **)&db->alts, &L->cap_alts, db->nalts + 1, sizeof *db->alts) < 0)
				return vg_err_set(L->err, -ENOMEM, "%s: out of memory", L->file);
			int rc = parse_alt(L, line, v, (size_t)(ve - v), &db->alts[db->nalts]);
			if (rc < 0)
				return rc;
			db->nalts++;
			a->nalts++;
			if (!bar)
				break;
			v = bar + 1;
		}
		db->nattrs++;
		fp->tests[t].nattrs++;
		p = pct ? pct + 1 : end;
	}
	return 0;
}

static const char *after_word(const char *s, size_t len, const char *word)
{
	size_t wl = strlen(word);
	if (len < wl || memcmp(s, word, wl) != 0)
		return NULL;
	if (len == wl)
		return s + wl;
	return s[wl] == ' ' || s[wl] == '\t' ? s + wl + 1 : NULL;
}

static int tests_present(const struct nmdb_fp *fp)
{
	int n = 0;
	for (int t = 0; t < NMDB_NTESTS; t++)
		n += fp->tests[t].present;
	return n;
}

static const struct nmdb *sort_db;

static int by_name_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(nmdb_str(sort_db, sort_db->fps[x].name),
		       nmdb_str(sort_db, sort_db->fps[y].name));
	return c ? c : (x > y) - (x < y);
}

int nmdb_load_buf(struct nmdb **out, const char *name, const char *buf, size_t len,
		  struct vg_err *err)
{
	*out = NULL;
	struct nmdb *db = calloc(1, sizeof *db);
	if (!db || !(db->path = strdup(name))) {
		free(db);
		return vg_err_set(err, -ENOMEM, "%s: out of memory", name);
	}
	struct loader L = { .db = db, .file = name, .err = err };
	struct nmdb_fp *cur = NULL;
	uint32_t line = 0;
	int rc = 0;
	size_t pos = 0;
	uint32_t empty;
	if (add_str(&L, "", 0, &empty) < 0) {
		rc = vg_err_set(err, -ENOMEM, "%s: out of memory", name);
		goto fail;
	}
	while (pos < len) {
		const char *s = buf + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - s) : len - pos;
		pos += ll + (nl ? 1 : 0);
		line++;
		if (ll > NMDB_MAX_LINE) {
			rc = bad(&L, line, "line too long");
			goto fail;
		}
		while (ll && isspace((unsigned char)s[ll - 1]))
			ll--;
		while (ll && isspace((unsigned char)*s)) {
			s++;
			ll--;
		}
		if (!ll || *s == '#')
			continue;
		if (memchr(s, '\0', ll)) {
			rc = bad(&L, line, "NUL byte in the file");
			goto fail;
		}
		const char *rest;
		if ((rest = after_word(s, ll, "Fingerprint"))) {
			size_t rl = ll - (size_t)(rest - s);
			if (!rl) {
				rc = bad(&L, line, "expected a name after 'Fingerprint'");
				goto fail;
			}
			if (grow((void **)&db->fps, &L.cap_fps, db->nfps + 1, sizeof *db->fps) < 0) {
				rc = vg_err_set(err, -ENOMEM, "%s: out of memory", name);
				goto fail;
			}
			cur = &db->fps[db->nfps++];
			memset(cur, 0, sizeof *cur);
			cur->line = line;
			cur->cls = empty;
			if (add_str(&L, rest, rl, &cur->name) < 0) {
				rc = vg_err_set(err, -ENOMEM, "%s: out of memory", name);
				goto fail;
			}
		} else if (after_word(s, ll, "MatchPoints")) {
			cur = &db->matchpoints;
		} else if ((rest = after_word(s, ll, "Class"))) {
			if (!cur || cur == &db->matchpoints) {
				rc = bad(&L, line, "'Class' outside a Fingerprint block");
				goto fail;
			}
			if (cur->cls == empty &&
			    add_str(&L, rest, ll - (size_t)(rest - s), &cur->cls) < 0) {
				rc = vg_err_set(err, -ENOMEM, "%s: out of memory", name);
				goto fail;
			}
		} else if (after_word(s, ll, "CPE")) {
			if (!cur || cur == &db->matchpoints) {
				rc = bad(&L, line, "'CPE' outside a Fingerprint block");
				goto fail;
			}
		} else if (isupper((unsigned char)*s) && memchr(s, '(', ll)) {
			if (!cur) {
				rc = bad(&L, line, "test line before any Fingerprint");
				goto fail;
			}
			/* The block pointer may move when fps grows: it is
			 * re-taken for every Fingerprint line, and tests come
			 * after theirs, so it is current here. */
			if ((rc = parse_test(&L, line, cur, s, ll)) < 0)
				goto fail;
		} else {
			rc = bad(&L, line, "expected Fingerprint, Class, CPE or a test line");
			goto fail;
		}
	}
	if (db->nfps == 0) {
		rc = vg_err_set(err, -EINVAL, "%s: no Fingerprint in the file", name);
		goto fail;
	}
	db->by_name = malloc(db->nfps * sizeof *db->by_name);
	if (!db->by_name) {
		rc = vg_err_set(err, -ENOMEM, "%s: out of memory", name);
		goto fail;
	}
	for (size_t i = 0; i < db->nfps; i++)
		db->by_name[i] = (uint32_t)i;
	sort_db = db;
	qsort(db->by_name, db->nfps, sizeof *db->by_name, by_name_cmp);
	sort_db = NULL;
	*out = db;
	return 0;
fail:
	nmdb_free(db);
	return rc;
}

int nmdb_load(struct nmdb **out, const char *path, struct vg_err *err)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return vg_err_set(err, -errno, "%s: %s", path, strerror(errno));
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;
	for (;;) {
		if (len == cap) {
			if (cap >= NMDB_MAX_FILE) {
				rc = vg_err_set(err, -EFBIG, "%s: larger than %u MiB", path,
						NMDB_MAX_FILE >> 20);
				break;
			}
			size_t ncap = cap ? cap * 2 : (1u << 20);
			char *nb = realloc(buf, ncap);
			if (!nb) {
				rc = vg_err_set(err, -ENOMEM, "%s: out of memory", path);
				break;
			}
			buf = nb;
			cap = ncap;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f))
				rc = vg_err_set(err, -EIO, "%s: read error at byte %zu", path, len);
			break;
		}
	}
	fclose(f);
	if (rc == 0)
		rc = nmdb_load_buf(out, path, buf, len, err);
	free(buf);
	return rc;
}

void nmdb_free(struct nmdb *db)
{
	if (!db)
		return;
	free(db->path);
	free(db->fps);
	free(db->attrs);
	free(db->alts);
	free(db->strs);
	free(db->by_name);
	free(db);
}

const struct nmdb_attr *nmdb_get(const struct nmdb *db, const struct nmdb_fp *fp,
				 enum nmdb_test t, const char *name)
{
	if ((unsigned)t >= NMDB_NTESTS || !fp->tests[t].present)
		return NULL;
	const struct nmdb_testspan *ts = &fp->tests[t];
	for (uint32_t i = 0; i < ts->nattrs; i++)
		if (!strcmp(db->attrs[ts->first_attr + i].name, name))
			return &db->attrs[ts->first_attr + i];
	return NULL;
}

static bool alt_num(const struct nmdb_alt *a, uint32_t v)
{
	switch (a->kind) {
	case NMDB_RANGE: return v >= a->lo && v <= a->hi;
	case NMDB_GT: return v > a->lo;
	case NMDB_LT: return v < a->lo;
	default: return a->is_num && v == a->lo;
	}
}

bool nmdb_attr_matches_num(const struct nmdb *db, const struct nmdb_attr *a, uint32_t v)
{
	for (uint16_t i = 0; i < a->nalts; i++)
		if (alt_num(&db->alts[a->first_alt + i], v))
			return true;
	return false;
}

bool nmdb_attr_matches(const struct nmdb *db, const struct nmdb_attr *a, const char *value)
{
	uint32_t v;
	bool num = parse_hex(value, strlen(value), &v);
	for (uint16_t i = 0; i < a->nalts; i++) {
		const struct nmdb_alt *x = &db->alts[a->first_alt + i];
		if (x->kind == NMDB_STR && !strcmp(nmdb_str(db, x->str), value))
			return true;
		if (num && alt_num(x, v))
			return true;
	}
	return false;
}

/* --- name resolution ---------------------------------------------------------- */

#define MAX_WORDS 24
#define MAX_WORD 32

static int split_words(const char *s, char w[MAX_WORDS][MAX_WORD])
{
	int n = 0;
	while (*s && n < MAX_WORDS) {
		while (*s && strchr(" \t,()/", *s))
			s++;
		if (!*s)
			break;
		size_t l = 0;
		while (s[l] && !strchr(" \t,()/", s[l]))
			l++;
		size_t c = l < MAX_WORD - 1 ? l : MAX_WORD - 1;
		for (size_t i = 0; i < c; i++)
			w[n][i] = (char)tolower((unsigned char)s[i]);
		w[n][c] = '\0';
		n++;
		s += l;
	}
	return n;
}

/* "2.4.20" and "2.4.18" agree up to major.minor. */
static bool same_minor(const char *a, const char *b)
{
	if (!isdigit((unsigned char)a[0]) || !isdigit((unsigned char)b[0]))
		return false;
	const char *da = strchr(a, '.'), *db = strchr(b, '.');
	if (!da || !db)
		return false;
	size_t la = strspn(da + 1, "0123456789"), lb = strspn(db + 1, "0123456789");
	if (!la || la != lb || da - a != db - b)
		return false;
	return !memcmp(a, b, (size_t)(da - a) + 1 + la);
}

const struct nmdb_fp *nmdb_find(const struct nmdb *db, const char *name, bool *exact)
{
	if (exact)
		*exact = false;
	if (!name || !*name)
		return NULL;
	long best = -1;
	/* 1. exact, by binary search over the sorted names */
	size_t lo = 0, hi = db->nfps;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(nmdb_str(db, db->fps[db->by_name[mid]].name), name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < db->nfps; i++) {
		uint32_t k = db->by_name[i];
		if (strcmp(nmdb_str(db, db->fps[k].name), name))
			break;
		if (best < 0 || tests_present(&db->fps[k]) > tests_present(&db->fps[best]))
			best = k;
	}
	/* 2. ignoring case */
	for (size_t k = 0; best < 0 && k < db->nfps; k++)
		if (!strcasecmp(nmdb_str(db, db->fps[k].name), name))
			best = (long)k;
	if (best >= 0) {
		const char *bn = nmdb_str(db, db->fps[best].name);
		for (size_t k = 0; k < db->nfps; k++)
			if (!strcmp(nmdb_str(db, db->fps[k].name), bn) &&
			    tests_present(&db->fps[k]) > tests_present(&db->fps[best]))
				best = (long)k;
		if (exact)
			*exact = true;
		return &db->fps[best];
	}
	/* 3. most words in common */
	char qw[MAX_WORDS][MAX_WORD], fw[MAX_WORDS][MAX_WORD];
	int nq = split_words(name, qw);
	if (nq == 0)
		return NULL;
	int best_score = 0, best_extra = 0;
	for (size_t k = 0; k < db->nfps; k++) {
		int nf = split_words(nmdb_str(db, db->fps[k].name), fw);
		int score = 0, extra = 0;
		bool first = false;
		for (int i = 0; i < nq; i++) {
			int pts = 0;
			for (int j = 0; j < nf; j++) {
				if (!strcmp(qw[i], fw[j]))
					pts = 2;
				else if (pts < 1 && same_minor(qw[i], fw[j]))
					pts = 1;
			}
			if (i == 0 && pts == 2)
				first = true;
			score += pts;
		}
		if (!first)
			continue;
		for (int j = 0; j < nf; j++) {
			bool in = false;
			for (int i = 0; i < nq; i++)
				in |= !strcmp(qw[i], fw[j]);
			extra += !in;
		}
		bool better = score > best_score ||
			      (score == best_score && extra < best_extra) ||
			      (score == best_score && extra == best_extra && best >= 0 &&
			       !strcmp(nmdb_str(db, db->fps[k].name),
				       nmdb_str(db, db->fps[best].name)) &&
			       tests_present(&db->fps[k]) > tests_present(&db->fps[best]));
		if (best < 0 || better) {
			best = (long)k;
			best_score = score;
			best_extra = extra;
		}
	}
	if (best < 0 || best_score < (nq >= 2 ? 3 : 2))
		return NULL;
	return &db->fps[best];
}
