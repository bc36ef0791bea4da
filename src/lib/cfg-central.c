/* cfg-central.c: the central configuration (docs/vigia.conf.md).
 *
 * Written by hand: the format is the sshd_config/honeyd.conf family (words,
 * quoted strings, brace blocks) that no Debian library parses, and a
 * two-step design keeps every message precise: a tokenizer builds a small
 * tree of directives with their line numbers, then one table-driven pass
 * interprets it.  New directives are new table rows. */
#include "cfg-central.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_BYTES (4u << 20)
#define MAX_WORDS 64
#define MAX_DEPTH 4
#define MAX_NAME 64

/* --- tree of directives ------------------------------------------------ */

struct node {
	char **w;                   /* words; w[0] is the directive */
	size_t nw;
	unsigned line;
	bool has_block;
	unsigned block_line;
	struct node *kids;
	size_t nkids, kcap;
};

static void node_free(struct node *n)
{
	for (size_t i = 0; i < n->nw; i++)
		free(n->w[i]);
	free(n->w);
	for (size_t i = 0; i < n->nkids; i++)
		node_free(&n->kids[i]);
	free(n->kids);
}

struct lexer {
	const char *name;
	const char *p, *end;
	unsigned line;
	struct vg_err *err;
};

enum tk { TK_EOF, TK_WORD, TK_OPEN, TK_CLOSE, TK_END };

/* One token.  A word is returned in *word (malloc'd). */
static int lex(struct lexer *L, enum tk *kind, char **word, unsigned *line)
{
	*word = NULL;
	for (;;) {
		while (L->p < L->end && (*L->p == ' ' || *L->p == '\t' || *L->p == '\r'))
			L->p++;
		if (L->p < L->end && *L->p == '#') {
			while (L->p < L->end && *L->p != '\n')
				L->p++;
			continue;
		}
		break;
	}
	*line = L->line;
	if (L->p >= L->end) {
		*kind = TK_EOF;
		return 0;
	}
	char c = *L->p;
	if (c == '\n' || c == ';') {
		if (c == '\n')
			L->line++;
		L->p++;
		*kind = TK_END;
		return 0;
	}
	if (c == '{' || c == '}') {
		L->p++;
		*kind = c == '{' ? TK_OPEN : TK_CLOSE;
		return 0;
	}
	if (c == '\0')
		return vg_err_set(L->err, -EINVAL, "%s:%u: unexpected NUL byte", L->name, L->line);
	size_t cap = 32, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return vg_err_set(L->err, -ENOMEM, "%s:%u: out of memory", L->name, L->line);
	bool quoted = c == '"';
	if (quoted)
		L->p++;
	for (;;) {
		if (L->p >= L->end || *L->p == '\n') {
			if (quoted) {
				free(buf);
				return vg_err_set(L->err, -EINVAL,
						"%s:%u: expected a closing '\"' before the end of the line",
						L->name, L->line);
			}
			break;
		}
		char ch = *L->p;
		if (ch == '\0') {
			free(buf);
			return vg_err_set(L->err, -EINVAL, "%s:%u: unexpected NUL byte", L->name, L->line);
		}
		if (quoted) {
			if (ch == '"') {
				L->p++;
				break;
			}
			if (ch == '\\') {
				if (L->p + 1 >= L->end || (L->p[1] != '"' && L->p[1] != '\\')) {
					free(buf);
					return vg_err_set(L->err, -EINVAL,
							"%s:%u: expected '\\\"' or '\\\\' after a backslash in a quoted string",
							L->name, L->line);
				}
				L->p++;
				ch = *L->p;
			}
		} else if (ch == ' ' || ch == '\t' || ch == '\r' || ch == ';' || ch == '{' ||
				ch == '}' || ch == '#') {
			break;
		} else if (ch == '"') {
			free(buf);
			return vg_err_set(L->err, -EINVAL,
					"%s:%u: expected a blank before a quoted string", L->name, L->line);
		}
		if (n + 2 > cap) {
			cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return vg_err_set(L->err, -ENOMEM, "%s:%u: out of memory", L->name, L->line);
			}
			buf = nb;
		}
		buf[n++] = ch;
		L->p++;
	}
	buf[n] = '\0';
	*word = buf;
	*kind = TK_WORD;
	return 0;
}

static int add_kid(struct node *parent, struct node *kid, struct lexer *L)
{
	if (parent->nkids == parent->kcap) {
		size_t nc = parent->kcap ? parent->kcap * 2 : 8;
		struct node *nk = realloc(parent->kids, nc * sizeof *nk);
		if (!nk)
			return vg_err_set(L->err, -ENOMEM, "%s: out of memory", L->name);
		parent->kids = nk;
		parent->kcap = nc;
	}
	parent->kids[parent->nkids++] = *kid;
	return 0;
}

/* Parse statements into `parent` until EOF (depth 0) or '}'. */
static int parse_block(struct lexer *L, struct node *parent, int depth)
{
	struct node cur = {0};
	int rc = 0;
	for (;;) {
		enum tk k = TK_EOF;
		char *w;
		unsigned line;
		if ((rc = lex(L, &k, &w, &line)) < 0)
			goto out;
		if (k == TK_WORD) {
			if (cur.has_block) {
				free(w);
				rc = vg_err_set(L->err, -EINVAL,
						"%s:%u: expected a new line after '}'", L->name, line);
				goto out;
			}
			if (cur.nw == MAX_WORDS) {
				free(w);
				rc = vg_err_set(L->err, -EINVAL, "%s:%u: more than %d words in one directive",
						L->name, line, MAX_WORDS);
				goto out;
			}
			if (!cur.w && !(cur.w = calloc(MAX_WORDS, sizeof *cur.w))) {
				free(w);
				rc = vg_err_set(L->err, -ENOMEM, "%s: out of memory", L->name);
				goto out;
			}
			if (cur.nw == 0)
				cur.line = line;
			cur.w[cur.nw++] = w;
			continue;
		}
		if (k == TK_OPEN) {
			if (cur.nw == 0 || cur.has_block) {
				rc = vg_err_set(L->err, -EINVAL,
						"%s:%u: expected a directive name before '{'", L->name, line);
				goto out;
			}
			if (depth + 1 >= MAX_DEPTH) {
				rc = vg_err_set(L->err, -EINVAL, "%s:%u: blocks nested too deep",
						L->name, line);
				goto out;
			}
			cur.has_block = true;
			cur.block_line = line;
			if ((rc = parse_block(L, &cur, depth + 1)) < 0)
				goto out;
			continue;
		}
		/* TK_END, TK_CLOSE, TK_EOF end the current statement */
		if (cur.nw) {
			if ((rc = add_kid(parent, &cur, L)) < 0)
				goto out;
			memset(&cur, 0, sizeof cur);
		}
		if (k == TK_CLOSE) {
			if (depth == 0) {
				rc = vg_err_set(L->err, -EINVAL,
						"%s:%u: expected a directive, got '}' without a matching '{'",
						L->name, line);
				goto out;
			}
			return 0;
		}
		if (k == TK_EOF) {
			if (depth > 0) {
				rc = vg_err_set(L->err, -EINVAL,
						"%s:%u: expected '}' to close the block opened on line %u, got the end of the file",
						L->name, line, parent->block_line);
				goto out;
			}
			return 0;
		}
	}
out:
	node_free(&cur);
	return rc;
}

/* --- values ------------------------------------------------------------ */

struct ctx {
	const char *name;           /* config file name, for messages */
	char *dir;                  /* its directory, for relative paths */
	struct vg_err *err;
	struct cfg_central *c;
};

static int want_args(struct ctx *x, const struct node *n, size_t min, size_t max,
		const char *what)
{
	size_t got = n->nw - 1;
	if (got < min || got > max)
		return vg_err_set(x->err, -EINVAL, "%s:%u: '%s' expects %s, got %zu word%s",
				x->name, n->line, n->w[0], what, got, got == 1 ? "" : "s");
	if (n->has_block)
		return vg_err_set(x->err, -EINVAL, "%s:%u: '%s' takes no block", x->name,
				n->line, n->w[0]);
	return 0;
}

static int set_str(struct ctx *x, const struct node *n, char **dst)
{
	int rc = want_args(x, n, 1, 1, "one value");
	if (rc < 0)
		return rc;
	char *s = strdup(n->w[1]);
	if (!s)
		return vg_err_set(x->err, -ENOMEM, "%s: out of memory", x->name);
	free(*dst);
	*dst = s;
	return 0;
}

/* Relative paths are taken from the config file's directory, so a
 * configuration and its keys can move together. */
static int set_path(struct ctx *x, const struct node *n, char **dst)
{
	int rc = want_args(x, n, 1, 1, "one path");
	if (rc < 0)
		return rc;
	const char *v = n->w[1];
	if (!*v)
		return vg_err_set(x->err, -EINVAL, "%s:%u: '%s' expects a path, got an empty string",
				x->name, n->line, n->w[0]);
	char *s;
	if (v[0] == '/' || !x->dir) {
		s = strdup(v);
	} else {
		size_t len = strlen(x->dir) + 1 + strlen(v) + 1;
		s = malloc(len);
		if (s)
			snprintf(s, len, "%s/%s", x->dir, v);
	}
	if (!s)
		return vg_err_set(x->err, -ENOMEM, "%s: out of memory", x->name);
	free(*dst);
	*dst = s;
	return 0;
}

static int parse_u32(struct ctx *x, const struct node *n, const char *v, uint32_t min,
		uint32_t max, uint32_t *out)
{
	char *end;
	errno = 0;
	if (!isdigit((unsigned char)v[0]))
		goto bad;
	unsigned long long u = strtoull(v, &end, 10);
	if (errno || *end || u < min || u > max)
		goto bad;
	*out = (uint32_t)u;
	return 0;
bad:
	return vg_err_set(x->err, -EINVAL, "%s:%u: '%s' expects an integer from %u to %u, got '%s'",
			x->name, n->line, n->w[0], min, max, v);
}

static int set_u32(struct ctx *x, const struct node *n, uint32_t min, uint32_t max,
		uint32_t *out)
{
	int rc = want_args(x, n, 1, 1, "one integer");
	return rc < 0 ? rc : parse_u32(x, n, n->w[1], min, max, out);
}

/* "1.5", "500ms", "2s", "10m", "1h", "1d" -> seconds. A bare number is seconds. */
static int parse_duration(struct ctx *x, const struct node *n, const char *v, double *out)
{
	char *end;
	errno = 0;
	if (!isdigit((unsigned char)v[0]))
		goto bad;
	double d = strtod(v, &end);
	if (errno || !isfinite(d))
		goto bad;
	double mul;
	if (!*end || !strcmp(end, "s"))
		mul = 1;
	else if (!strcmp(end, "ms"))
		mul = 1e-3;
	else if (!strcmp(end, "m"))
		mul = 60;
	else if (!strcmp(end, "h"))
		mul = 3600;
	else if (!strcmp(end, "d"))
		mul = 86400;
	else
		goto bad;
	d *= mul;
	if (d > 100.0 * 365 * 86400)
		goto bad;
	*out = d;
	return 0;
bad:
	return vg_err_set(x->err, -EINVAL,
			"%s:%u: '%s' expects a duration such as 500ms, 2s, 10m, 1h or 1d, got '%s'",
			x->name, n->line, n->w[0], v);
}

static int set_dur_s(struct ctx *x, const struct node *n, double *out)
{
	int rc = want_args(x, n, 1, 1, "one duration");
	return rc < 0 ? rc : parse_duration(x, n, n->w[1], out);
}

static int set_dur_u32(struct ctx *x, const struct node *n, uint32_t min, uint32_t *out)
{
	double d;
	int rc = set_dur_s(x, n, &d);
	if (rc < 0)
		return rc;
	if (d < min || d != floor(d))
		return vg_err_set(x->err, -EINVAL,
				"%s:%u: '%s' expects a whole number of seconds of at least %u, got '%s'",
				x->name, n->line, n->w[0], min, n->w[1]);
	*out = (uint32_t)d;
	return 0;
}

static int set_dur_ms(struct ctx *x, const struct node *n, uint32_t *out)
{
	double d;
	int rc = set_dur_s(x, n, &d);
	if (rc < 0)
		return rc;
	if (d * 1000 > UINT32_MAX)
		return vg_err_set(x->err, -EINVAL, "%s:%u: '%s': duration too long", x->name,
				n->line, n->w[0]);
	*out = (uint32_t)llround(d * 1000);
	return 0;
}

static int set_pct(struct ctx *x, const struct node *n, double *out)
{
	int rc = want_args(x, n, 1, 1, "one percentage");
	if (rc < 0)
		return rc;
	const char *v = n->w[1];
	char *end;
	errno = 0;
	double d = isdigit((unsigned char)v[0]) ? strtod(v, &end) : -1;
	if (d < 0 || errno || !(*end == '\0' || !strcmp(end, "%")) || d > 100)
		return vg_err_set(x->err, -EINVAL,
				"%s:%u: '%s' expects a percentage from 0%% to 100%%, got '%s'",
				x->name, n->line, n->w[0], v);
	*out = d;
	return 0;
}

static int set_bool(struct ctx *x, const struct node *n, bool *out)
{
	int rc = want_args(x, n, 1, 1, "yes or no");
	if (rc < 0)
		return rc;
	const char *v = n->w[1];
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off"))
		*out = false;
	else
		return vg_err_set(x->err, -EINVAL, "%s:%u: '%s' expects yes or no, got '%s'",
				x->name, n->line, n->w[0], v);
	return 0;
}

/* Names that end up on ssh's command line or in paths: no leading '-'
 * (option injection) and no '/' or blanks. */
static bool safe_word(const char *s, const char *extra)
{
	if (!*s || *s == '-' || *s == '.' || strlen(s) > 255)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(extra, *p))
			return false;
	return true;
}

/* --- sensor blocks ----------------------------------------------------- */

static int host_key_ok(const char *v)
{
	static const char *const types[] = {
		"ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
		"ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
		"sk-ecdsa-sha2-nistp256@openssh.com", NULL,
	};
	const char *sp = strchr(v, ' ');
	if (!sp)
		return 0;
	size_t tl = (size_t)(sp - v);
	bool known = false;
	for (int i = 0; types[i]; i++)
		if (strlen(types[i]) == tl && !strncmp(types[i], v, tl))
			known = true;
	if (!known)
		return 0;
	const char *b = sp + 1;
	size_t n = 0;
	for (; *b && *b != ' '; b++, n++)
		if (!isalnum((unsigned char)*b) && *b != '+' && *b != '/' && *b != '=')
			return 0;
	/* an optional comment may follow; the key itself is at least ~50 chars */
	return n >= 16;
}

static int sensor_block(struct ctx *x, const struct node *n, struct cfg_sensor *s)
{
	int rc;
	if (n->nw != 2 || !n->has_block)
		return vg_err_set(x->err, -EINVAL,
				"%s:%u: expected 'sensor NAME { ... }'", x->name, n->line);
	const char *name = n->w[1];
	if (!safe_word(name, "._-") || strlen(name) > MAX_NAME)
		return vg_err_set(x->err, -EINVAL,
				"%s:%u: expected a sensor name of letters, digits, '.', '_' and '-' (at most %d, not starting with '-' or '.'), got '%s'",
				x->name, n->line, MAX_NAME, name);
	if (!(s->name = strdup(name)))
		return vg_err_set(x->err, -ENOMEM, "%s: out of memory", x->name);
	s->line = n->line;
	s->port = 22;
	s->retention_seconds = 86400;
	bool have_id = false;
	for (size_t i = 0; i < n->nkids; i++) {
		const struct node *k = &n->kids[i];
		const char *d = k->w[0];
		if (!strcmp(d, "id")) {
			rc = set_u32(x, k, 1, UINT32_MAX, &s->id);
			have_id = true;
		} else if (!strcmp(d, "institution")) {
			rc = set_str(x, k, &s->institution);
		} else if (!strcmp(d, "city")) {
			rc = set_str(x, k, &s->city);
		} else if (!strcmp(d, "host")) {
			if ((rc = set_str(x, k, &s->host)) == 0 && !safe_word(s->host, ".:-_[]%"))
				rc = vg_err_set(x->err, -EINVAL,
						"%s:%u: 'host' expects a host name or address, got '%s'",
						x->name, k->line, s->host);
		} else if (!strcmp(d, "port")) {
			uint32_t p;
			if ((rc = set_u32(x, k, 1, 65535, &p)) == 0)
				s->port = (uint16_t)p;
		} else if (!strcmp(d, "user")) {
			if ((rc = set_str(x, k, &s->user)) == 0 && !safe_word(s->user, "._-"))
				rc = vg_err_set(x->err, -EINVAL,
						"%s:%u: 'user' expects a user name, got '%s'",
						x->name, k->line, s->user);
		} else if (!strcmp(d, "identity")) {
			rc = set_path(x, k, &s->identity);
		} else if (!strcmp(d, "host-key")) {
			/* accept the key as one quoted word or as TYPE BASE64 words */
			if (k->nw == 3 && !k->has_block) {
				size_t len = strlen(k->w[1]) + strlen(k->w[2]) + 2;
				free(s->host_key);
				if (!(s->host_key = malloc(len)))
					return vg_err_set(x->err, -ENOMEM, "%s: out of memory", x->name);
				snprintf(s->host_key, len, "%s %s", k->w[1], k->w[2]);
				rc = 0;
			} else {
				rc = set_str(x, k, &s->host_key);
			}
			if (rc == 0 && !host_key_ok(s->host_key))
				rc = vg_err_set(x->err, -EINVAL,
						"%s:%u: 'host-key' expects a public key such as \"ssh-ed25519 AAAAC3Nza...\" (as in the host's /etc/ssh/ssh_host_*_key.pub), got '%.60s'",
						x->name, k->line, s->host_key);
		} else if (!strcmp(d, "known-hosts")) {
			rc = set_path(x, k, &s->known_hosts);
		} else if (!strcmp(d, "spool")) {
			rc = set_str(x, k, &s->spool);
		} else if (!strcmp(d, "retention")) {
			rc = set_dur_u32(x, k, 1, &s->retention_seconds);
		} else if (!strcmp(d, "disabled")) {
			rc = set_bool(x, k, &s->disabled);
		} else if (!strcmp(d, "public-name")) {
			rc = set_str(x, k, &s->public_name);
		} else if (!strcmp(d, "network")) {
			if ((rc = want_args(x, k, 1, MAX_WORDS, "one or more networks")) < 0)
				return rc;
			for (size_t j = 1; j < k->nw; j++) {
				struct cidr c;
				struct vg_err e = {0};
				if (cidr_parse(k->w[j], &c, &e) < 0)
					return vg_err_set(x->err, -EINVAL,
							"%s:%u: 'network' expects a network such as 192.0.2.0/24: %s",
							x->name, k->line, e.msg);
				if ((rc = cidr_set_add(&s->networks, &c)) < 0)
					return vg_err_set(x->err, rc, "%s: out of memory", x->name);
			}
		} else {
			rc = vg_err_set(x->err, -EINVAL,
					"%s:%u: unknown directive '%s' in sensor '%s' (expected id, institution, city, host, port, user, identity, host-key, known-hosts, spool, retention, network, public-name or disabled)",
					x->name, k->line, d, name);
		}
		if (rc < 0)
			return rc;
	}
	const char *missing = !have_id ? "id" : !s->host ? "host" : !s->identity ? "identity"
		: s->networks.n == 0 ? "network" : NULL;
	if (missing)
		return vg_err_set(x->err, -EINVAL, "%s:%u: sensor '%s' lacks '%s'", x->name,
				n->line, name, missing);
	if (!!s->host_key == !!s->known_hosts)
		return vg_err_set(x->err, -EINVAL,
				"%s:%u: sensor '%s' needs exactly one of 'host-key' and 'known-hosts'",
				x->name, n->line, name);
	if (!s->user && !(s->user = strdup("vigia")))
		return vg_err_set(x->err, -ENOMEM, "%s: out of memory", x->name);
	if (!s->spool && !(s->spool = strdup("/var/spool/vigia")))
		return vg_err_set(x->err, -ENOMEM, "%s: out of memory", x->name);
	return 0;
}

/* --- status block ------------------------------------------------------ */

static int status_block(struct ctx *x, const struct node *n, struct cfg_status *st)
{
	int rc;
	if (n->nw != 1 || !n->has_block)
		return vg_err_set(x->err, -EINVAL, "%s:%u: expected 'status { ... }'", x->name, n->line);
	for (size_t i = 0; i < n->nkids; i++) {
		const struct node *k = &n->kids[i];
		const char *d = k->w[0];
		uint32_t u;
		if (!strcmp(d, "disk-warn"))
			rc = set_pct(x, k, &st->disk_warn_pct);
		else if (!strcmp(d, "disk-crit"))
			rc = set_pct(x, k, &st->disk_crit_pct);
		else if (!strcmp(d, "clock-warn"))
			rc = set_dur_s(x, k, &st->clock_warn_s);
		else if (!strcmp(d, "clock-crit"))
			rc = set_dur_s(x, k, &st->clock_crit_s);
		else if (!strcmp(d, "stall-warn"))
			rc = set_dur_u32(x, k, 1, &st->stall_warn_s);
		else if (!strcmp(d, "stall-crit"))
			rc = set_dur_u32(x, k, 1, &st->stall_crit_s);
		else if (!strcmp(d, "rtt-warn"))
			rc = set_dur_ms(x, k, &st->rtt_warn_ms);
		else if (!strcmp(d, "rtt-crit"))
			rc = set_dur_ms(x, k, &st->rtt_crit_ms);
		else if (!strcmp(d, "drops-warn")) {
			if ((rc = set_u32(x, k, 0, UINT32_MAX, &u)) == 0)
				st->drops_warn = u;
		} else if (!strcmp(d, "drops-crit")) {
			if ((rc = set_u32(x, k, 0, UINT32_MAX, &u)) == 0)
				st->drops_crit = u;
		} else if (!strcmp(d, "backlog-warn"))
			rc = set_pct(x, k, &st->backlog_warn_pct);
		else if (!strcmp(d, "backlog-crit"))
			rc = set_pct(x, k, &st->backlog_crit_pct);
		else if (!strcmp(d, "uptime-warn"))
			rc = set_dur_u32(x, k, 0, &st->uptime_warn_s);
		else if (!strcmp(d, "ntp-unsync")) {
			if ((rc = want_args(x, k, 1, 1, "warn or crit")) < 0)
				return rc;
			if (!strcmp(k->w[1], "crit"))
				st->ntp_unsync_crit = true;
			else if (!strcmp(k->w[1], "warn"))
				st->ntp_unsync_crit = false;
			else
				rc = vg_err_set(x->err, -EINVAL,
						"%s:%u: 'ntp-unsync' expects warn or crit, got '%s'",
						x->name, k->line, k->w[1]);
		} else
			rc = vg_err_set(x->err, -EINVAL,
					"%s:%u: unknown directive '%s' in status (expected disk-warn, disk-crit, clock-warn, clock-crit, stall-warn, stall-crit, rtt-warn, rtt-crit, drops-warn, drops-crit, backlog-warn, backlog-crit, uptime-warn or ntp-unsync)",
					x->name, k->line, d);
		if (rc < 0)
			return rc;
	}
	struct { const char *what; double w, c; } pairs[] = {
		{"disk", st->disk_warn_pct, st->disk_crit_pct},
		{"clock", st->clock_warn_s, st->clock_crit_s},
		{"stall", st->stall_warn_s, st->stall_crit_s},
		{"rtt", st->rtt_warn_ms, st->rtt_crit_ms},
		{"drops", (double)st->drops_warn, (double)st->drops_crit},
		{"backlog", st->backlog_warn_pct, st->backlog_crit_pct},
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
		if (pairs[i].w > pairs[i].c)
			return vg_err_set(x->err, -EINVAL,
					"%s:%u: expected %s-warn to be at most %s-crit",
					x->name, n->line, pairs[i].what, pairs[i].what);
	return 0;
}

/* --- top level --------------------------------------------------------- */

static void sensor_free(struct cfg_sensor *s)
{
	free(s->name);
	free(s->institution);
	free(s->city);
	free(s->host);
	free(s->user);
	free(s->identity);
	free(s->host_key);
	free(s->known_hosts);
	free(s->spool);
	free(s->public_name);
	cidr_set_free(&s->networks);
}

/* --- members and mail (issue 7) ---------------------------------------- */

static int member_block(struct ctx *x, const struct node *n, struct cfg_member *m)
{
	int rc;
	if (n->nw != 2 || !n->has_block)
		return vg_err_set(x->err, -EINVAL, "%s:%u: expected 'member NAME { ... }'",
				x->name, n->line);
	if (!safe_word(n->w[1], "._-") || strlen(n->w[1]) > MAX_NAME)
		return vg_err_set(x->err, -EINVAL,
				"%s:%u: expected a member name of letters, digits, '.', '_' and '-', got '%s'",
				x->name, n->line, n->w[1]);
	if (!(m->name = strdup(n->w[1])))
		return vg_err_set(x->err, -ENOMEM, "%s: out of memory", x->name);
	m->line = n->line;
	for (size_t i = 0; i < n->nkids; i++) {
		const struct node *k = &n->kids[i];
		if (!strcmp(k->w[0], "address")) {
			rc = set_str(x, k, &m->address);
			/* the address goes into SMTP commands and headers */
			if (rc == 0 && (!strchr(m->address, '@') ||
					strpbrk(m->address, "<> \t\r\n\",;") || m->address[0] == '-'))
				rc = vg_err_set(x->err, -EINVAL,
						"%s:%u: 'address' expects an e-mail address such as cert@example.org, got '%s'",
						x->name, k->line, m->address);
		} else if (!strcmp(k->w[0], "key")) {
			rc = set_str(x, k, &m->key);
		} else {
			rc = vg_err_set(x->err, -EINVAL,
					"%s:%u: unknown directive '%s' in member '%s' (expected address or key)",
					x->name, k->line, k->w[0], m->name);
		}
		if (rc < 0)
			return rc;
	}
	if (!m->address || !m->key)
		return vg_err_set(x->err, -EINVAL, "%s:%u: member '%s' lacks '%s'", x->name,
				n->line, m->name, !m->address ? "address" : "key");
	return 0;
}

static int mail_block(struct ctx *x, const struct node *n, struct cfg_mail *ml)
{
	int rc;
	if (n->nw != 1 || !n->has_block)
		return vg_err_set(x->err, -EINVAL, "%s:%u: expected 'mail { ... }'", x->name, n->line);
	for (size_t i = 0; i < n->nkids; i++) {
		const struct node *k = &n->kids[i];
		const char *d = k->w[0];
		if (!strcmp(d, "from")) {
			rc = set_str(x, k, &ml->from);
			if (rc == 0 && (!strchr(ml->from, '@') || strpbrk(ml->from, "<> \t\r\n\",;")))
				rc = vg_err_set(x->err, -EINVAL,
						"%s:%u: 'from' expects an e-mail address such as vigia@example.org, got '%s'",
						x->name, k->line, ml->from);
		} else if (!strcmp(d, "keyring")) {
			rc = set_path(x, k, &ml->keyring);
		} else if (!strcmp(d, "sign-key")) {
			rc = set_str(x, k, &ml->sign_key);
		} else if (!strcmp(d, "smtp")) {
			rc = set_str(x, k, &ml->smtp);
			if (rc == 0 && strncmp(ml->smtp, "smtp://", 7) && strncmp(ml->smtp, "smtps://", 8))
				rc = vg_err_set(x->err, -EINVAL,
						"%s:%u: 'smtp' expects smtp://HOST[:PORT] or smtps://HOST[:PORT], got '%s'",
						x->name, k->line, ml->smtp);
		} else if (!strcmp(d, "starttls")) {
			if ((rc = want_args(x, k, 1, 1, "no, try or required")) < 0)
				return rc;
			if (!strcmp(k->w[1], "no"))
				ml->starttls = CFG_STARTTLS_NO;
			else if (!strcmp(k->w[1], "try"))
				ml->starttls = CFG_STARTTLS_TRY;
			else if (!strcmp(k->w[1], "required"))
				ml->starttls = CFG_STARTTLS_REQUIRED;
			else
				rc = vg_err_set(x->err, -EINVAL,
						"%s:%u: 'starttls' expects no, try or required, got '%s'",
						x->name, k->line, k->w[1]);
		} else if (!strcmp(d, "smtp-user")) {
			rc = set_str(x, k, &ml->smtp_user);
		} else if (!strcmp(d, "smtp-password-file")) {
			rc = set_path(x, k, &ml->smtp_password_file);
		} else if (!strcmp(d, "ca-file")) {
			rc = set_path(x, k, &ml->ca_file);
		} else if (!strcmp(d, "timeout")) {
			rc = set_dur_u32(x, k, 1, &ml->timeout);
		} else if (!strcmp(d, "retries")) {
			rc = set_u32(x, k, 1, 100, &ml->retries);
		} else if (!strcmp(d, "top")) {
			rc = set_u32(x, k, 1, 100, &ml->top);
		} else {
			rc = vg_err_set(x->err, -EINVAL,
					"%s:%u: unknown directive '%s' in mail (expected from, keyring, sign-key, smtp, starttls, smtp-user, smtp-password-file, ca-file, timeout, retries or top)",
					x->name, k->line, d);
		}
		if (rc < 0)
			return rc;
	}
	if (!!ml->smtp_user != !!ml->smtp_password_file)
		return vg_err_set(x->err, -EINVAL,
				"%s:%u: 'smtp-user' and 'smtp-password-file' go together", x->name, n->line);
	return 0;
}

static void mail_free(struct cfg_central *c)
{
	struct cfg_mail *ml = &c->mail;
	free(ml->from);
	free(ml->keyring);
	free(ml->sign_key);
	free(ml->smtp);
	free(ml->smtp_user);
	free(ml->smtp_password_file);
	free(ml->ca_file);
	for (size_t i = 0; i < c->nmembers; i++) {
		free(c->members[i].name);
		free(c->members[i].address);
		free(c->members[i].key);
	}
	free(c->members);
}

/* --- sharing and notifying (issue 8) ------------------------------------ */

static bool address_ok(const char *a)
{
	return strchr(a, '@') && !strpbrk(a, "<> \t\r\n\",;") && a[0] != '-';
}

static int contact_line(struct ctx *x, const struct node *k, struct cfg_notify *nt)
{
	if (k->has_block || (k->nw != 3 && k->nw != 5) || (k->nw == 5 && strcmp(k->w[3], "key")))
		return vg_err_set(x->err, -EINVAL,
				"%s:%u: expected 'contact CIDR|ASnnn ADDRESS [key KEY]'", x->name, k->line);
	struct cfg_contact ct = {.line = k->line};
	const char *w = k->w[1];
	if ((w[0] == 'A' || w[0] == 'a') && (w[1] == 'S' || w[1] == 's') && isdigit((unsigned char)w[2])) {
		char *end;
		errno = 0;
		unsigned long long a = strtoull(w + 2, &end, 10);
		if (errno || *end || a == 0 || a > UINT32_MAX)
			return vg_err_set(x->err, -EINVAL, "%s:%u: expected an AS number such as AS1916, got '%s'",
					x->name, k->line, w);
		ct.asn = (uint32_t)a;
	} else {
		struct vg_err e2 = {0};
		if (cidr_parse(w, &ct.net, &e2) < 0)
			return vg_err_set(x->err, -EINVAL, "%s:%u: expected a network such as 200.128.0.0/16 or an AS number, got '%s'",
					x->name, k->line, w);
	}
	if (!address_ok(k->w[2]))
		return vg_err_set(x->err, -EINVAL,
				"%s:%u: 'contact' expects an e-mail address such as cert@example.org, got '%s'",
				x->name, k->line, k->w[2]);
	struct cfg_contact *nv = realloc(nt->contacts, (nt->ncontacts + 1) * sizeof *nv);
	if (!nv)
		return vg_err_set(x->err, -ENOMEM, "%s: out of memory", x->name);
	nt->contacts = nv;
	if (!(ct.address = strdup(k->w[2])) || (k->nw == 5 && !(ct.key = strdup(k->w[4])))) {
		free(ct.address);
		return vg_err_set(x->err, -ENOMEM, "%s: out of memory", x->name);
	}
	nt->contacts[nt->ncontacts++] = ct;
	return 0;
}

static int notify_block(struct ctx *x, const struct node *n, struct cfg_notify *nt)
{
	int rc;
	if (n->nw != 1 || !n->has_block)
		return vg_err_set(x->err, -EINVAL, "%s:%u: expected 'notify { ... }'", x->name, n->line);
	for (size_t i = 0; i < n->nkids; i++) {
		const struct node *k = &n->kids[i];
		const char *d = k->w[0];
		uint32_t u;
		if (!strcmp(d, "contact")) {
			rc = contact_line(x, k, nt);
		} else if (!strcmp(d, "rdap-bootstrap")) {
			char *path = NULL;
			rc = set_path(x, k, &path);
			char **nb = rc ? NULL : realloc(nt->bootstrap, (nt->nbootstrap + 1) * sizeof *nb);
			if (rc == 0 && !nb) {
				free(path);
				rc = vg_err_set(x->err, -ENOMEM, "%s: out of memory", x->name);
			} else if (rc == 0) {
				nt->bootstrap = nb;
				nt->bootstrap[nt->nbootstrap++] = path;
			}
		} else if (!strcmp(d, "rdap-server")) {
			rc = set_str(x, k, &nt->rdap_server);
			if (rc == 0 && strncmp(nt->rdap_server, "https://", 8) &&
			    strncmp(nt->rdap_server, "http://", 7))
				rc = vg_err_set(x->err, -EINVAL,
						"%s:%u: 'rdap-server' expects an http:// or https:// base URL, got '%s'",
						x->name, k->line, nt->rdap_server);
		} else if (!strcmp(d, "whois-server")) {
			rc = set_str(x, k, &nt->whois_server);
		} else if (!strcmp(d, "whois-port")) {
			rc = set_u32(x, k, 1, 65535, &u);
			nt->whois_port = (uint16_t)u;
		} else if (!strcmp(d, "lookup")) {
			rc = want_args(x, k, 1, 2, "rdap and/or whois");
			nt->rdap = nt->whois = false;
			for (size_t j = 1; rc == 0 && j < k->nw; j++) {
				if (!strcmp(k->w[j], "rdap"))
					nt->rdap = true;
				else if (!strcmp(k->w[j], "whois"))
					nt->whois = true;
				else
					rc = vg_err_set(x->err, -EINVAL, "%s:%u: 'lookup' expects rdap and/or whois, got '%s'",
							x->name, k->line, k->w[j]);
			}
		} else if (!strcmp(d, "timeout")) {
			rc = set_dur_u32(x, k, 1, &nt->timeout);
		} else if (!strcmp(d, "cache-ttl")) {
			rc = set_dur_u32(x, k, 0, &nt->cache_ttl);
		} else if (!strcmp(d, "rate")) {
			rc = set_u32(x, k, 1, 1000, &u);
			nt->rate = u;
		} else if (!strcmp(d, "burst")) {
			rc = set_u32(x, k, 1, 1000, &nt->burst);
		} else if (!strcmp(d, "quiet-days")) {
			rc = set_u32(x, k, 0, 3650, &nt->quiet_days);
		} else if (!strcmp(d, "guidance")) {
			rc = set_path(x, k, &nt->guidance);
		} else if (!strcmp(d, "feed-name")) {
			rc = set_str(x, k, &nt->feed_name);
		} else if (!strcmp(d, "feed-provider")) {
			rc = set_str(x, k, &nt->feed_provider);
		} else {
			rc = vg_err_set(x->err, -EINVAL,
					"%s:%u: unknown directive '%s' in notify (expected contact, rdap-bootstrap, rdap-server, whois-server, whois-port, lookup, timeout, cache-ttl, rate, burst, quiet-days, guidance, feed-name or feed-provider)",
					x->name, k->line, d);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void notify_free(struct cfg_notify *nt)
{
	for (size_t i = 0; i < nt->ncontacts; i++) {
		free(nt->contacts[i].address);
		free(nt->contacts[i].key);
	}
	free(nt->contacts);
	for (size_t i = 0; i < nt->nbootstrap; i++)
		free(nt->bootstrap[i]);
	free(nt->bootstrap);
	free(nt->rdap_server);
	free(nt->whois_server);
	free(nt->guidance);
	free(nt->feed_name);
	free(nt->feed_provider);
}

void cfg_central_free(struct cfg_central *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->archive);
	free(c->database);
	free(c->ssh_program);
	free(c->rsync_program);
	for (size_t i = 0; i < c->nnational; i++)
		free(c->national[i]);
	free(c->national);
	for (size_t i = 0; i < c->nsensors; i++)
		sensor_free(&c->sensors[i]);
	free(c->sensors);
	mail_free(c);
	notify_free(&c->notify);
	free(c);
}

static void defaults(struct cfg_central *c)
{
	c->parallel = 4;
	c->connect_timeout = 10;
	c->transfer_timeout = 300;
	struct cfg_status *st = &c->status;
	st->disk_warn_pct = 80;
	st->disk_crit_pct = 95;
	st->clock_warn_s = 0.5;
	st->clock_crit_s = 2;
	st->stall_warn_s = 600;
	st->stall_crit_s = 3600;
	st->rtt_warn_ms = 2000;
	st->rtt_crit_ms = 10000;
	st->drops_warn = 1;
	st->drops_crit = 1000;
	st->backlog_warn_pct = 50;
	st->backlog_crit_pct = 90;
	st->uptime_warn_s = 600;
	st->ntp_unsync_crit = false;
	c->mail.starttls = CFG_STARTTLS_TRY;
	c->mail.timeout = 60;
	c->mail.retries = 3;
	c->mail.top = 10;
	c->notify.whois_port = 43;
	c->notify.rdap = c->notify.whois = true;
	c->notify.timeout = 10;
	c->notify.cache_ttl = 7 * 86400;
	c->notify.rate = 1;
	c->notify.burst = 5;
	c->notify.quiet_days = 7;
}

static int national(struct ctx *x, const struct node *n)
{
	int rc = want_args(x, n, 1, MAX_WORDS, "one or more two-letter country codes");
	if (rc < 0)
		return rc;
	struct cfg_central *c = x->c;
	char **nv = realloc(c->national, (c->nnational + n->nw - 1) * sizeof *nv);
	if (!nv)
		return vg_err_set(x->err, -ENOMEM, "%s: out of memory", x->name);
	c->national = nv;
	for (size_t i = 1; i < n->nw; i++) {
		const char *v = n->w[i];
		if (strlen(v) != 2 || !isalpha((unsigned char)v[0]) || !isalpha((unsigned char)v[1]))
			return vg_err_set(x->err, -EINVAL,
					"%s:%u: 'national' expects ISO 3166 two-letter codes such as BR, got '%s'",
					x->name, n->line, v);
		char *cc = strdup(v);
		if (!cc)
			return vg_err_set(x->err, -ENOMEM, "%s: out of memory", x->name);
		cc[0] = (char)toupper((unsigned char)cc[0]);
		cc[1] = (char)toupper((unsigned char)cc[1]);
		c->national[c->nnational++] = cc;
	}
	return 0;
}

static int interpret(struct ctx *x, const struct node *root)
{
	struct cfg_central *c = x->c;
	int rc;
	size_t nsens = 0;
	for (size_t i = 0; i < root->nkids; i++)
		if (!strcmp(root->kids[i].w[0], "sensor"))
			nsens++;
	if (nsens && !(c->sensors = calloc(nsens, sizeof *c->sensors)))
		return vg_err_set(x->err, -ENOMEM, "%s: out of memory", x->name);
	size_t nmem = 0;
	for (size_t i = 0; i < root->nkids; i++)
		if (!strcmp(root->kids[i].w[0], "member"))
			nmem++;
	if (nmem && !(c->members = calloc(nmem, sizeof *c->members)))
		return vg_err_set(x->err, -ENOMEM, "%s: out of memory", x->name);
	for (size_t i = 0; i < root->nkids; i++) {
		const struct node *n = &root->kids[i];
		const char *d = n->w[0];
		if (!strcmp(d, "archive"))
			rc = set_path(x, n, &c->archive);
		else if (!strcmp(d, "database"))
			rc = set_path(x, n, &c->database);
		else if (!strcmp(d, "parallel"))
			rc = set_u32(x, n, 1, 256, &c->parallel);
		else if (!strcmp(d, "connect-timeout"))
			rc = set_dur_u32(x, n, 1, &c->connect_timeout);
		else if (!strcmp(d, "transfer-timeout"))
			rc = set_dur_u32(x, n, 1, &c->transfer_timeout);
		else if (!strcmp(d, "ssh"))
			rc = set_str(x, n, &c->ssh_program);
		else if (!strcmp(d, "rsync"))
			rc = set_str(x, n, &c->rsync_program);
		else if (!strcmp(d, "national"))
			rc = national(x, n);
		else if (!strcmp(d, "status"))
			rc = status_block(x, n, &c->status);
		else if (!strcmp(d, "mail"))
			rc = mail_block(x, n, &c->mail);
		else if (!strcmp(d, "member"))
			rc = member_block(x, n, &c->members[c->nmembers++]);
		else if (!strcmp(d, "notify"))
			rc = notify_block(x, n, &c->notify);
		else if (!strcmp(d, "sensor")) {
			struct cfg_sensor *s = &c->sensors[c->nsensors++];
			rc = sensor_block(x, n, s);
		} else
			rc = vg_err_set(x->err, -EINVAL,
					"%s:%u: unknown directive '%s' (expected archive, database, parallel, connect-timeout, transfer-timeout, ssh, rsync, national, status, sensor, mail, member or notify)",
					x->name, n->line, d);
		if (rc < 0)
			return rc;
	}
	if (!c->archive)
		return vg_err_set(x->err, -EINVAL, "%s: expected an 'archive DIRECTORY' directive",
				x->name);
	for (size_t i = 0; i < c->nsensors; i++)
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(c->sensors[i].name, c->sensors[j].name))
				return vg_err_set(x->err, -EINVAL,
						"%s:%u: sensor name '%s' already used on line %u",
						x->name, c->sensors[i].line, c->sensors[i].name,
						c->sensors[j].line);
			if (c->sensors[i].id == c->sensors[j].id)
				return vg_err_set(x->err, -EINVAL,
						"%s:%u: sensor id %u already used by '%s' on line %u",
						x->name, c->sensors[i].line, c->sensors[i].id,
						c->sensors[j].name, c->sensors[j].line);
		}
	for (size_t i = 0; i < c->nmembers; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->members[i].name, c->members[j].name))
				return vg_err_set(x->err, -EINVAL,
						"%s:%u: member name '%s' already used on line %u",
						x->name, c->members[i].line, c->members[i].name,
						c->members[j].line);
	if (!c->database) {
		size_t len = strlen(c->archive) + sizeof "/vigia.db";
		if (!(c->database = malloc(len)))
			return vg_err_set(x->err, -ENOMEM, "%s: out of memory", x->name);
		snprintf(c->database, len, "%s/vigia.db", c->archive);
	}
	if (!c->ssh_program && !(c->ssh_program = strdup("ssh")))
		return vg_err_set(x->err, -ENOMEM, "%s: out of memory", x->name);
	if (!c->rsync_program && !(c->rsync_program = strdup("rsync")))
		return vg_err_set(x->err, -ENOMEM, "%s: out of memory", x->name);
	return 0;
}

static int parse_in_dir(const char *name, const char *dir, const char *text, size_t len,
		struct cfg_central **out, struct vg_err *err)
{
	*out = NULL;
	struct cfg_central *c = calloc(1, sizeof *c);
	if (!c)
		return vg_err_set(err, -ENOMEM, "%s: out of memory", name);
	defaults(c);
	if (!(c->path = strdup(name))) {
		free(c);
		return vg_err_set(err, -ENOMEM, "%s: out of memory", name);
	}
	struct lexer L = {.name = name, .p = text, .end = text + len, .line = 1, .err = err};
	struct node root = {0};
	int rc = parse_block(&L, &root, 0);
	if (rc == 0) {
		struct ctx x = {.name = name, .dir = (char *)dir, .err = err, .c = c};
		rc = interpret(&x, &root);
	}
	node_free(&root);
	if (rc < 0) {
		cfg_central_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int cfg_central_parse(const char *name, const char *text, size_t len,
		struct cfg_central **out, struct vg_err *err)
{
	return parse_in_dir(name, NULL, text, len, out, err);
}

int cfg_central_load(const char *path, struct cfg_central **out, struct vg_err *err)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vg_err_set(err, -errno, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE_BYTES) {
		int e = errno;
		close(fd);
		return vg_err_set(err, -EINVAL, "%s: expected a regular file of at most %u bytes%s%s",
				path, MAX_FILE_BYTES, e ? ": " : "", e ? strerror(e) : "");
	}
	size_t len = (size_t)st.st_size;
	char *buf = malloc(len + 1);
	if (!buf) {
		close(fd);
		return vg_err_set(err, -ENOMEM, "%s: out of memory", path);
	}
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(fd, buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;
			free(buf);
			close(fd);
			return vg_err_set(err, -e, "%s: byte offset %zu: %s", path, got, strerror(e));
		}
		got += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	char *dir = NULL;
	const char *slash = strrchr(path, '/');
	if (slash)
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	else
		dir = strdup(".");
	if (!dir) {
		free(buf);
		return vg_err_set(err, -ENOMEM, "%s: out of memory", path);
	}
	int rc = parse_in_dir(path, dir, buf, len, out, err);
	free(dir);
	free(buf);
	return rc;
}

const char *cfg_central_path(const char *opt)
{
	if (opt && *opt)
		return opt;
	const char *e = getenv("VIGIA_CONFIG");
	if (e && *e)
		return e;
	return CFG_CENTRAL_DEFAULT_PATH;
}

const struct cfg_sensor *cfg_central_sensor(const struct cfg_central *c, const char *name)
{
	for (size_t i = 0; i < c->nsensors; i++)
		if (!strcmp(c->sensors[i].name, name))
			return &c->sensors[i];
	return NULL;
}

const struct cfg_sensor *cfg_central_sensor_by_id(const struct cfg_central *c, uint32_t id)
{
	for (size_t i = 0; i < c->nsensors; i++)
		if (c->sensors[i].id == id)
			return &c->sensors[i];
	return NULL;
}

int cfg_central_honeynets(const struct cfg_central *c, struct cidr_set *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < c->nsensors; i++)
		for (size_t j = 0; j < c->sensors[i].networks.n; j++) {
			int rc = cidr_set_add(out, &c->sensors[i].networks.v[j]);
			if (rc < 0) {
				cidr_set_free(out);
				return rc;
			}
		}
	return 0;
}
