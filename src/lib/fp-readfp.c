/* fp-readfp.c: parse p0f v3's fingerprint database (p0f.fp) and compile
 * its [tcp:request] and [tcp:response] signatures.
 *
 * Written by hand: no Debian library reads p0f.fp (libp0f does not exist
 * in Debian), and the grammar is small.  The grammar and its limits follow
 * p0f 3.09b's readfp.c/fp_tcp.c so that any file p0f accepts loads here
 * and compiles to the same signatures; [mtu] and [http:*] signature lines
 * are checked for placement only and otherwise skipped.
 */
#include "fp.h"
#include "fp-internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* Largest database we agree to read; p0f.fp is ~40 KiB. */
#define FP_MAX_FILE (16u << 20)

/* Characters p0f allows in OS / application names besides alphanumerics. */
#define NAME_CHARS " ./-_!?()"

enum { MOD_NONE, MOD_MTU, MOD_TCP, MOD_HTTP };
enum { NEED_SECT, NEED_LABEL, NEED_SYS, NEED_SIG };

struct parser {
	struct fp_db *db;
	const char *name;      /* file name for messages */
	unsigned line;
	int state;
	int mod;
	int to_srv;            /* 1 request, 0 response */
	/* current label */
	int label;             /* index in db->labels, -1 for none / non-tcp */
	bool generic;
	int class_id;
	struct vg_err *err;
};

static int perr(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int perr(struct parser *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return vg_err_set(p->err, -EINVAL, "%s: line %u: %s", p->name, p->line, msg);
}

/* Read an unsigned decimal number; caps at a value above any field's range
 * so overflow cannot happen.  Returns false when there is no digit. */
static bool read_num(const char **s, long *out)
{
	const char *q = *s;
	long v = 0;

	if (!isdigit((unsigned char)*q))
		return false;
	while (isdigit((unsigned char)*q)) {
		if (v < 10000000)
			v = v * 10 + (*q - '0');
		q++;
	}
	*s = q;
	*out = v;
	return true;
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static int parse_classes(struct parser *p, const char *val)
{
	struct fp_db *db = p->db;

	while (*val) {
		const char *end;
		char **nc;

		while (*val == ' ' || *val == '\t' || *val == ',')
			val++;
		if (!*val)
			break;
		end = val;
		while (isalnum((unsigned char)*end))
			end++;
		if (end == val || (*end && *end != ','))
			return perr(p, "malformed class list");
		nc = realloc(db->classes, (db->nclasses + 1) * sizeof *nc);
		if (!nc)
			return vg_err_set(p->err, -ENOMEM, "%s: line %u: out of memory", p->name, p->line);
		db->classes = nc;
		db->classes[db->nclasses] = strndup(val, (size_t)(end - val));
		if (!db->classes[db->nclasses])
			return vg_err_set(p->err, -ENOMEM, "%s: line %u: out of memory", p->name, p->line);
		db->nclasses++;
		val = end;
	}
	return 0;
}

static int find_class(const struct fp_db *db, const char *s, size_t n)
{
	for (size_t i = 0; i < db->nclasses; i++)
		if (strlen(db->classes[i]) == n && !strncasecmp(db->classes[i], s, n))
			return (int)i;
	return -1;
}

/* p0f compares names without regard to case and reports the spelling seen
 * first, so "Linux" and "linux" are one name. */
static const char *intern_name(struct fp_db *db, const char *s, size_t n)
{
	for (size_t i = 0; i < db->nnames; i++)
		if (strlen(db->names[i]) == n && !strncasecmp(db->names[i], s, n))
			return db->names[i];
	if (db->nnames == db->names_cap) {
		size_t cap = db->names_cap ? db->names_cap * 2 : 64;
		char **nn = realloc(db->names, cap * sizeof *nn);
		if (!nn)
			return NULL;
		db->names = nn;
		db->names_cap = cap;
	}
	db->names[db->nnames] = strndup(s, n);
	if (!db->names[db->nnames])
		return NULL;
	return db->names[db->nnames++];
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || (c && strchr(NAME_CHARS, c));
}

static int parse_label(struct parser *p, const char *val)
{
	struct fp_db *db = p->db;
	const char *q, *name;
	size_t namelen;
	const char *flavor;
	int cls;

	p->label = -1;
	if (p->mod == MOD_MTU) {
		if (!*val)
			return perr(p, "empty MTU label");
		return 0;
	}
	if (val[0] == 'g')
		p->generic = true;
	else if (val[0] == 's')
		p->generic = false;
	else
		return perr(p, "label type must be 's' or 'g'");
	if (val[1] != ':')
		return perr(p, "malformed label");
	val += 2;
	q = val;
	while (isalnum((unsigned char)*q) || *q == '!')
		q++;
	if (q == val || *q != ':')
		return perr(p, "malformed label class");
	if (val[0] == '!' && q == val + 1) {
		cls = -1;
	} else {
		cls = find_class(db, val, (size_t)(q - val));
		if (cls < 0) {
			char c[64];
			snprintf(c, sizeof c, "%.*s", (int)(q - val), val);
			return perr(p, "unknown class '%s' (not in 'classes')", c);
		}
	}
	p->class_id = cls;
	q++;
	val = q;
	while (name_char(*q))
		q++;
	if (q == val || *q != ':')
		return perr(p, "malformed label name");
	name = val;
	namelen = (size_t)(q - val);
	flavor = q[1] ? q + 1 : NULL;

	if (p->mod != MOD_TCP)
		return 0;

	const char *nm = intern_name(db, name, namelen);
	if (!nm)
		return vg_err_set(p->err, -ENOMEM, "%s: line %u: out of memory", p->name, p->line);
	if (db->nlabels == db->labels_cap) {
		size_t cap = db->labels_cap ? db->labels_cap * 2 : 64;
		struct fp_label *nl = realloc(db->labels, cap * sizeof *nl);
		if (!nl)
			return vg_err_set(p->err, -ENOMEM, "%s: line %u: out of memory", p->name, p->line);
		db->labels = nl;
		db->labels_cap = cap;
	}
	struct fp_label *l = &db->labels[db->nlabels];
	size_t tl = strlen(nm) + (flavor ? 1 + strlen(flavor) : 0) + 1;
	l->text = malloc(tl);
	if (!l->text)
		return vg_err_set(p->err, -ENOMEM, "%s: line %u: out of memory", p->name, p->line);
	snprintf(l->text, tl, "%s%s%s", nm, flavor ? " " : "", flavor ? flavor : "");
	l->class_id = cls;
	l->generic = p->generic;
	l->windows = cls >= 0 && !strcasecmp(db->classes[cls], "win");
	p->label = (int)db->nlabels++;
	return 0;
}

/* 'sys' lists the OSes an application runs on; only checked here, since
 * it plays no part in matching. */
static int parse_sys(struct parser *p, const char *val)
{
	while (*val) {
		const char *q;
		bool is_class = false;

		while (*val == ' ' || *val == '\t' || *val == ',')
			val++;
		if (!*val)
			break;
		if (*val == '@') {
			is_class = true;
			val++;
		}
		q = val;
		while (name_char(*q))
			q++;
		if (q == val || (*q && *q != ','))
			return perr(p, "malformed 'sys' entry");
		if (is_class && find_class(p->db, val, (size_t)(q - val)) < 0)
			return perr(p, "unknown class in 'sys'");
		val = q;
	}
	return 0;
}

static int add_sig(struct parser *p, const struct fp_tsig *s)
{
	struct fp_bucket *b = &p->db->buckets[p->to_srv ? 0 : 1][s->opt_hash % FP_BUCKETS];

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8;
		struct fp_tsig *nv = realloc(b->v, cap * sizeof *nv);
		if (!nv)
			return vg_err_set(p->err, -ENOMEM, "%s: line %u: out of memory", p->name, p->line);
		b->v = nv;
		b->cap = cap;
	}
	b->v[b->n++] = *s;
	p->db->nsigs[p->to_srv ? 0 : 1]++;
	return 0;
}

static const struct {
	const char *text;
	uint32_t bit;
	int bad_ver;       /* IP version the quirk is invalid for, 0 none */
} quirk_names[] = {
	{"df", FP_Q_DF, 6}, {"id+", FP_Q_NZ_ID, 6}, {"id-", FP_Q_ZERO_ID, 6},
	{"ecn", FP_Q_ECN, 0}, {"0+", FP_Q_NZ_MBZ, 6}, {"flow", FP_Q_FLOW, 4},
	{"seq-", FP_Q_ZERO_SEQ, 0}, {"ack+", FP_Q_NZ_ACK, 0},
	{"ack-", FP_Q_ZERO_ACK, 0}, {"uptr+", FP_Q_NZ_URG, 0},
	{"urgf+", FP_Q_URG, 0}, {"pushf+", FP_Q_PUSH, 0},
	{"ts1-", FP_Q_TS1_ZERO, 0}, {"ts2+", FP_Q_TS2_NZ, 0},
	{"opt+", FP_Q_OPT_EOL_NZ, 0}, {"exws", FP_Q_EXWS, 0},
	{"bad", FP_Q_OPT_BAD, 0},
};

/* Option names of the olayout field.  A name only counts when ',' or ':'
 * follows it, so no name can match the start of a longer one. */
static const struct {
	const char *text;
	uint8_t kind;
} opt_names[] = {
	{"nop", 1}, {"mss", 2}, {"ws", 3}, {"sok", 4}, {"sack", 5}, {"ts", 8},
};

static int parse_tcp_sig(struct parser *p, const char *v)
{
	struct fp_tsig s;
	long n;

	if (p->label < 0)
		return perr(p, "signature without a label");
	memset(&s, 0, sizeof s);
	s.label = p->label;
	s.generic = p->generic;
	s.class_id = p->class_id;
	s.line = (int)p->line;

	/* ver */
	if (*v == '4')
		s.ver = 4;
	else if (*v == '6')
		s.ver = 6;
	else if (*v == '*')
		s.ver = -1;
	else
		return perr(p, "unrecognized IP version in signature");
	if (v[1] != ':')
		return perr(p, "malformed signature (after version)");
	v += 2;

	/* ittl, ittl+dist or ittl- */
	if (!read_num(&v, &n) || n < 1 || n > 255)
		return perr(p, "bogus initial TTL in signature");
	if (*v == '-' && v[1] == ':') {
		s.bad_ttl = true;
		v += 2;
	} else if (*v == '+') {
		long add;
		v++;
		if (!read_num(&v, &add) || *v != ':' || n + add > 255)
			return perr(p, "bogus initial TTL distance in signature");
		n += add;
		v++;
	} else if (*v == ':') {
		v++;
	} else {
		return perr(p, "malformed initial TTL in signature");
	}
	s.ttl = (uint8_t)n;

	/* olen */
	if (!read_num(&v, &n) || *v != ':' || n > 255)
		return perr(p, "bogus IP option length in signature");
	s.olen = (uint8_t)n;
	v++;

	/* mss */
	if (v[0] == '*' && v[1] == ':') {
		s.mss = -1;
		v += 2;
	} else {
		if (!read_num(&v, &n) || *v != ':' || n > 65535)
			return perr(p, "bogus MSS in signature");
		s.mss = (int32_t)n;
		v++;
	}

	/* wsize, then ',' */
	if (v[0] == '*' && v[1] == ',') {
		s.win_type = FP_WIN_ANY;
		v += 2;
	} else if (*v == '%') {
		v++;
		if (!read_num(&v, &n) || *v != ',' || n < 2 || n > 65535)
			return perr(p, "bogus '%%' window in signature");
		s.win_type = FP_WIN_MOD;
		s.win = (uint16_t)n;
		v++;
	} else if (starts(v, "mss*") || starts(v, "mtu*")) {
		s.win_type = v[1] == 's' ? FP_WIN_MSS : FP_WIN_MTU;
		v += 4;
		if (!read_num(&v, &n) || *v != ',' || n < 1 || n > 1000)
			return perr(p, "bogus MSS/MTU multiplier in signature");
		s.win = (uint16_t)n;
		v++;
	} else {
		if (!read_num(&v, &n) || *v != ',' || n > 65535)
			return perr(p, "bogus window size in signature");
		s.win_type = FP_WIN_NORMAL;
		s.win = (uint16_t)n;
		v++;
	}

	/* scale */
	if (v[0] == '*' && v[1] == ':') {
		s.wscale = -1;
		v += 2;
	} else {
		if (!read_num(&v, &n) || *v != ':' || n > 255)
			return perr(p, "bogus window scale in signature");
		s.wscale = (int16_t)n;
		v++;
	}

	/* olayout */
	while (*v != ':') {
		if (!*v)
			return perr(p, "truncated signature (options)");
		if (s.opt_cnt >= FP_MAX_OPT)
			return perr(p, "too many TCP options in signature");
		if (starts(v, "eol")) {
			v += 3;
			if (*v != '+')
				return perr(p, "malformed 'eol' option (needs eol+N)");
			v++;
			if (!read_num(&v, &n) || n > 255)
				return perr(p, "bogus EOL padding in signature");
			if (*v != ':')
				return perr(p, "'eol' must be the last option");
			s.opts[s.opt_cnt++] = 0;
			s.eol_pad = (uint8_t)n;
			break;
		} else if (*v == '?') {
			v++;
			if (!read_num(&v, &n) || n > 255)
				return perr(p, "bogus '?' option in signature");
			s.opts[s.opt_cnt++] = (uint8_t)n;
		} else {
			size_t i;
			for (i = 0; i < sizeof opt_names / sizeof opt_names[0]; i++) {
				size_t l = strlen(opt_names[i].text);
				if (!strncmp(v, opt_names[i].text, l) &&
				    (v[l] == ',' || v[l] == ':')) {
					s.opts[s.opt_cnt++] = opt_names[i].kind;
					v += l;
					break;
				}
			}
			if (i == sizeof opt_names / sizeof opt_names[0])
				return perr(p, "unrecognized TCP option in signature");
		}
		if (*v == ':')
			break;
		if (*v != ',')
			return perr(p, "malformed TCP option list");
		v++;
	}
	v++;
	s.opt_hash = fp_opt_hash(s.opts, s.opt_cnt);

	/* quirks */
	while (*v != ':') {
		size_t i;
		if (!*v)
			return perr(p, "truncated signature (quirks)");
		for (i = 0; i < sizeof quirk_names / sizeof quirk_names[0]; i++) {
			size_t l = strlen(quirk_names[i].text);
			if (!strncmp(v, quirk_names[i].text, l) &&
			    (v[l] == ',' || v[l] == ':'))
				break;
		}
		if (i == sizeof quirk_names / sizeof quirk_names[0])
			return perr(p, "unrecognized quirk in signature");
		if (quirk_names[i].bad_ver && quirk_names[i].bad_ver == s.ver)
			return perr(p, "quirk '%s' is not valid for this IP version",
				    quirk_names[i].text);
		s.quirks |= quirk_names[i].bit;
		v += strlen(quirk_names[i].text);
		if (*v == ':')
			break;
		v++;
	}
	v++;

	/* pclass */
	if (!strcmp(v, "*"))
		s.pclass = -1;
	else if (!strcmp(v, "0"))
		s.pclass = 0;
	else if (!strcmp(v, "+"))
		s.pclass = 1;
	else
		return perr(p, "malformed payload class (want 0, + or *)");

	return add_sig(p, &s);
}

static int parse_section(struct parser *p, const char *line)
{
	if (!strcmp(line, "[mtu]")) {
		p->mod = MOD_MTU;
		p->state = NEED_LABEL;
		p->label = -1;
		return 0;
	}
	const char *colon = strchr(line, ':');
	if (!colon)
		return perr(p, "malformed section identifier");
	size_t ml = (size_t)(colon - line - 1);
	if (ml == 3 && !strncmp(line + 1, "tcp", 3))
		p->mod = MOD_TCP;
	else if (ml == 4 && !strncmp(line + 1, "http", 4))
		p->mod = MOD_HTTP;
	else
		return perr(p, "unrecognized fingerprinting module in '%s'", line);
	if (!strcmp(colon + 1, "request]"))
		p->to_srv = 1;
	else if (!strcmp(colon + 1, "response]"))
		p->to_srv = 0;
	else
		return perr(p, "unrecognized traffic direction in '%s'", line);
	p->state = NEED_LABEL;
	p->label = -1;
	return 0;
}

static int parse_line(struct parser *p, char *line)
{
	char *q, *key_end, *val;

	if (*line == '[')
		return parse_section(p, line);

	q = line;
	while (isalpha((unsigned char)*q) || *q == '_')
		q++;
	key_end = q;
	while (*q == ' ' || *q == '\t')
		q++;
	if (q == line || *q != '=')
		return perr(p, "unexpected statement (want 'name = value')");
	q++;
	while (*q == ' ' || *q == '\t')
		q++;
	val = q;
	*key_end = '\0';

	if (!strcmp(line, "classes")) {
		if (p->state != NEED_SECT)
			return perr(p, "misplaced 'classes' (must precede all sections)");
		return parse_classes(p, val);
	}
	if (!strcmp(line, "ua_os")) {
		if (p->state != NEED_LABEL || p->mod != MOD_HTTP || !p->to_srv)
			return perr(p, "misplaced 'ua_os'");
		return 0;
	}
	if (!strcmp(line, "label")) {
		if (p->state != NEED_LABEL && p->state != NEED_SIG)
			return perr(p, "misplaced 'label'");
		int rc = parse_label(p, val);
		if (rc < 0)
			return rc;
		p->state = (p->mod != MOD_MTU && p->class_id < 0) ? NEED_SYS : NEED_SIG;
		return 0;
	}
	if (!strcmp(line, "sys")) {
		if (p->state != NEED_SYS)
			return perr(p, "misplaced 'sys' (must follow an application label)");
		int rc = parse_sys(p, val);
		if (rc < 0)
			return rc;
		p->state = NEED_SIG;
		return 0;
	}
	if (!strcmp(line, "sig")) {
		if (p->state != NEED_SIG)
			return perr(p, "misplaced 'sig' (no label before it)");
		if (p->mod == MOD_TCP)
			return parse_tcp_sig(p, val);
		return 0;   /* [mtu] and [http:*] are not used here */
	}
	return perr(p, "unrecognized field '%s'", line);
}

void fp_db_free(struct fp_db *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->nlabels; i++)
		free(db->labels[i].text);
	free(db->labels);
	for (size_t i = 0; i < db->nclasses; i++)
		free(db->classes[i]);
	free(db->classes);
	for (size_t i = 0; i < db->nnames; i++)
		free(db->names[i]);
	free(db->names);
	for (int d = 0; d < 2; d++)
		for (int b = 0; b < FP_BUCKETS; b++)
			free(db->buckets[d][b].v);
	free(db);
}

int fp_db_load_buf(struct fp_db **out, const char *name, const char *buf,
		   size_t len, struct vg_err *err)
{
	struct parser p;
	char *copy;
	size_t pos = 0;
	int rc = 0;

	*out = NULL;
	if (!name)
		name = "(buffer)";
	if (memchr(buf, '\0', len)) {
		size_t off = (size_t)((const char *)memchr(buf, '\0', len) - buf);
		return vg_err_set(err, -EINVAL, "%s: byte offset %zu: NUL byte in fingerprint database",
				  name, off);
	}
	memset(&p, 0, sizeof p);
	p.db = calloc(1, sizeof *p.db);
	copy = malloc(len + 1);
	if (!p.db || !copy) {
		free(p.db);
		free(copy);
		return vg_err_set(err, -ENOMEM, "%s: out of memory", name);
	}
	memcpy(copy, buf, len);
	copy[len] = '\0';
	p.name = name;
	p.err = err;
	p.state = NEED_SECT;
	p.label = -1;

	while (pos <= len) {
		char *line = copy + pos;
		char *eol = memchr(line, '\n', len - pos);
		size_t ll = eol ? (size_t)(eol - line) : len - pos;

		p.line++;
		line[ll] = '\0';
		pos += ll + 1;
		/* p0f trims only leading blanks; trailing blanks and CR are
		 * trimmed here too so a file edited on Windows still loads. */
		while (*line == ' ' || *line == '\t')
			line++;
		char *end = line + strlen(line);
		while (end > line && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (!*line || *line == ';')
			continue;
		rc = parse_line(&p, line);
		if (rc < 0)
			break;
	}
	free(copy);
	if (rc < 0) {
		fp_db_free(p.db);
		return rc;
	}
	if (p.db->nsigs[0] + p.db->nsigs[1] == 0) {
		fp_db_free(p.db);
		return vg_err_set(err, -EINVAL, "%s: no TCP signatures found", name);
	}
	*out = p.db;
	return 0;
}

int fp_db_load(struct fp_db **out, const char *path, struct vg_err *err)
{
	FILE *f;
	struct stat st;
	char *buf;
	size_t got;
	int rc;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f)
		return vg_err_set(err, -errno, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return vg_err_set(err, -EINVAL, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > FP_MAX_FILE) {
		fclose(f);
		return vg_err_set(err, -EFBIG, "%s: larger than %u bytes, not a p0f.fp",
				  path, FP_MAX_FILE);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		fclose(f);
		return vg_err_set(err, -ENOMEM, "%s: out of memory", path);
	}
	got = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		rc = -EIO;
		vg_err_set(err, rc, "%s: read error at byte offset %zu", path, got);
		free(buf);
		fclose(f);
		return rc;
	}
	fclose(f);
	rc = fp_db_load_buf(out, path, buf, got, err);
	free(buf);
	return rc;
}
