/* sc-config.c: the honeyd.conf subset and vigia's own settings.
 *
 * Written by hand: Honeyd's grammar is a yacc file inside Honeyd, and no
 * Debian library parses it.  The language is line-oriented words and
 * quoted strings, so a small tokenizer and one function per statement
 * keep every error message precise (file, line, what was expected). */
#include "sc-config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE_BYTES (64u << 20)   /* a /16 of binds is ~1.5 MB */
#define MAX_INCLUDE_DEPTH 8
#define MAX_WORDS 32

const char *const sc_service_names[] = {
	"http-iis", "http-apache", "ftp", "ssh", "telnet", "smtp", "pop3",
	"imap", "mssql", "mssql-resolver", "smb", "netbios-ns", NULL,
};

struct tok {
	const char *s;
	bool quoted;
};

struct bind_src {
	const char *file;
	unsigned line;
};

struct parser {
	struct sc_config *c;
	sc_diag_fn diag;
	void *diag_ctx;
	struct vg_err *err;
	unsigned nerr;
	unsigned nsilent;           /* statements skipped after a refusal */
	char first[VG_ERR_MSG_MAX];
	char **files;               /* every file name read, for messages */
	size_t nfiles;
	struct bind_src *bsrc;      /* parallel to c->binds until sorted */
	size_t bsrc_cap, binds_cap;
	char **refused;             /* templates whose creation was refused */
	size_t nrefused;
	unsigned depth;
	const char *file;           /* current file and line */
	unsigned line;
};

static void perr(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void perr(struct parser *p, const char *fmt, ...)
{
	char msg[VG_ERR_MSG_MAX], full[2 * VG_ERR_MSG_MAX + 32];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (p->line)
		snprintf(full, sizeof full, "%s:%u: %s", p->file, p->line, msg);
	else
		snprintf(full, sizeof full, "%s: %s", p->file, msg);
	if (p->nerr++ == 0) {
		size_t n = strnlen(full, sizeof p->first - 1);
		memcpy(p->first, full, n);
		p->first[n] = '\0';
	}
	if (p->diag)
		p->diag(p->diag_ctx, full);
}

static void refuse(struct parser *p, const char *what, const char *why)
{
	perr(p, "'%s' is not supported by vigia-sensord (%s); remove it", what, why);
}

/* ---- small helpers ---------------------------------------------------- */

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static bool parse_ip(const char *s, struct vg_ip *ip)
{
	memset(ip, 0, sizeof *ip);
	if (inet_pton(AF_INET, s, ip->a) == 1) {
		ip->v = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, ip->a) == 1) {
		ip->v = 6;
		return true;
	}
	return false;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (!*s || !isdigit((unsigned char)*s))
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

/* "3600", "90s", "30m", "1h", "2d" */
static bool parse_duration(const char *s, uint32_t *out)
{
	if (!*s || !isdigit((unsigned char)*s))
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return false;
	unsigned long long mul = 1;
	if (*end) {
		if (end[1])
			return false;
		switch (*end) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: return false;
		}
	}
	if (v > UINT32_MAX / mul)
		return false;
	*out = (uint32_t)(v * mul);
	return true;
}

/* "64", "64M", "64MB", "1G" -> megabytes */
static bool parse_megabytes(const char *s, uint32_t *out)
{
	if (!*s || !isdigit((unsigned char)*s))
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return false;
	unsigned long long mul = 1;
	if (!strcasecmp(end, "") || !strcasecmp(end, "m") || !strcasecmp(end, "mb"))
		mul = 1;
	else if (!strcasecmp(end, "g") || !strcasecmp(end, "gb"))
		mul = 1024;
	else
		return false;
	if (v > UINT32_MAX / mul)
		return false;
	*out = (uint32_t)(v * mul);
	return true;
}

static long find_tmpl(const struct sc_config *c, const char *name)
{
	for (size_t i = 0; i < c->ntmpls; i++)
		if (!strcmp(c->tmpls[i].name, name))
			return (long)i;
	return -1;
}

static bool is_refused(const struct parser *p, const char *name)
{
	for (size_t i = 0; i < p->nrefused; i++)
		if (!strcmp(p->refused[i], name))
			return true;
	return false;
}

static void note_refused(struct parser *p, const char *name)
{
	char **v = realloc(p->refused, (p->nrefused + 1) * sizeof *v);
	if (!v)
		return;
	p->refused = v;
	char *d = strdup(name);
	if (d)
		p->refused[p->nrefused++] = d;
}

/* The template a statement names, or -1 after reporting why not.  A
 * template whose own statement was refused yields -1 silently: the refusal
 * already told the user, and repeating it for each line helps nobody. */
static long need_tmpl(struct parser *p, const char *stmt, const char *name)
{
	long t = find_tmpl(p->c, name);
	if (t >= 0)
		return t;
	if (is_refused(p, name)) {
		p->nsilent++;
		return -1;
	}
	perr(p, "'%s' names template '%s', which no 'create' before this line defines",
	     stmt, name);
	return -1;
}

static void tmpl_defaults(struct sc_template *t)
{
	/* Honeyd's defaults: UDP closed (ICMP unreachable), ICMP answered;
	 * TCP closed so that an unconfigured port looks like a real host's. */
	t->def_tcp = SC_CLOSED;
	t->def_udp = SC_CLOSED;
	t->def_icmp = SC_OPEN;
}

static void tmpl_free(struct sc_template *t)
{
	free(t->name);
	free(t->personality);
	for (size_t i = 0; i < t->nports; i++)
		free(t->ports[i].arg);
	free(t->ports);
}

static long add_tmpl(struct parser *p, const char *name)
{
	struct sc_config *c = p->c;
	struct sc_template *v = realloc(c->tmpls, (c->ntmpls + 1) * sizeof *v);
	if (!v)
		return -1;
	c->tmpls = v;
	struct sc_template *t = &c->tmpls[c->ntmpls];
	memset(t, 0, sizeof *t);
	tmpl_defaults(t);
	t->name = strdup(name);
	if (!t->name)
		return -1;
	return (long)c->ntmpls++;
}

/* ---- actions ---------------------------------------------------------- */

static bool word_action(const char *w, enum sc_action *a)
{
	if (!strcmp(w, "open"))
		*a = SC_OPEN;
	else if (!strcmp(w, "closed"))
		*a = SC_CLOSED;
	else if (!strcmp(w, "block") || !strcmp(w, "filtered"))
		*a = SC_BLOCK;
	else if (!strcmp(w, "reset"))
		*a = SC_RESET;
	else
		return false;
	return true;
}

static bool is_service(const char *w)
{
	for (size_t i = 0; sc_service_names[i]; i++)
		if (!strcmp(sc_service_names[i], w))
			return true;
	return false;
}

/* ---- statements ------------------------------------------------------- */

static int st_create(struct parser *p, const struct tok *w, int n)
{
	if (n != 2) {
		perr(p, "expected 'create NAME', got %d words", n);
		return 0;
	}
	struct vg_ip ip;
	if (parse_ip(w[1].s, &ip)) {
		perr(p, "'create %s': a template name cannot be an address", w[1].s);
		return 0;
	}
	if (find_tmpl(p->c, w[1].s) >= 0) {
		perr(p, "template '%s' is created twice", w[1].s);
		return 0;
	}
	return add_tmpl(p, w[1].s) < 0 ? -ENOMEM : 0;
}

static int st_clone(struct parser *p, const struct tok *w, int n)
{
	if (n != 3) {
		perr(p, "expected 'clone NEW OLD', got %d words", n);
		return 0;
	}
	if (find_tmpl(p->c, w[1].s) >= 0) {
		perr(p, "'clone %s %s': template '%s' already exists", w[1].s, w[2].s, w[1].s);
		return 0;
	}
	long old = need_tmpl(p, "clone", w[2].s);
	if (old < 0)
		return 0;
	long t = add_tmpl(p, w[1].s);
	if (t < 0)
		return -ENOMEM;
	struct sc_template *dst = &p->c->tmpls[t];
	const struct sc_template *src = &p->c->tmpls[old];
	char *name = dst->name;
	*dst = *src;
	dst->name = name;
	dst->implicit = false;
	dst->personality = xstrdup(src->personality);
	dst->ports = NULL;
	dst->nports = 0;
	if (src->nports) {
		dst->ports = calloc(src->nports, sizeof *dst->ports);
		if (!dst->ports)
			return -ENOMEM;
		for (size_t i = 0; i < src->nports; i++) {
			dst->ports[i] = src->ports[i];
			dst->ports[i].arg = xstrdup(src->ports[i].arg);
		}
		dst->nports = src->nports;
	}
	return 0;
}

/* Vendor names Honeyd accepted for "set T ethernet", with one real OUI of
 * each (checked against nmap-mac-prefixes). */
static const struct {
	const char *name;
	uint8_t oui[3];
} vendors[] = {
	{ "dell", { 0x00, 0x14, 0x22 } },
	{ "3com", { 0x00, 0x01, 0x02 } },
	{ "cisco", { 0x00, 0x00, 0x0c } },
	{ "hp", { 0x00, 0x01, 0xe6 } },
	{ "hewlett packard", { 0x00, 0x01, 0xe6 } },
	{ "hewlett-packard", { 0x00, 0x01, 0xe6 } },
	{ "intel", { 0x00, 0x02, 0xb3 } },
	{ "apple", { 0x00, 0x03, 0x93 } },
	{ "ibm", { 0x00, 0x02, 0x55 } },
	{ "sun", { 0x08, 0x00, 0x20 } },
	{ "realtek", { 0x00, 0xe0, 0x4c } },
	{ "vmware", { 0x00, 0x0c, 0x29 } },
	{ "d-link", { 0x00, 0x50, 0xba } },
	{ "dlink", { 0x00, 0x50, 0xba } },
	{ "microsoft", { 0x00, 0x03, 0xff } },
	{ "xerox", { 0x00, 0x00, 0xaa } },
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "00:14:22:01:02:03" or with '-': exactly two hex digits per byte. */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17 || (s[2] != ':' && s[2] != '-'))
		return false;
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int hi = hexval(p[0]), lo = hexval(p[1]);
		if (hi < 0 || lo < 0 || (i < 5 && p[2] != s[2]))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static int set_ethernet(struct parser *p, struct sc_template *t, const char *s)
{
	if (parse_mac(s, t->mac)) {
		if (t->mac[0] & 1) {
			perr(p, "ethernet address '%s' is a multicast address; a host needs a unicast one", s);
			return 0;
		}
		t->has_mac = true;
		return 0;
	}
	for (size_t i = 0; i < sizeof vendors / sizeof vendors[0]; i++) {
		if (strcasecmp(vendors[i].name, s))
			continue;
		/* The suffix comes from the template name (FNV-1a) so that the
		 * same config always yields the same MAC, run after run. */
		uint32_t h = 2166136261u;
		for (const char *c = t->name; *c; c++)
			h = (h ^ (uint8_t)*c) * 16777619u;
		memcpy(t->mac, vendors[i].oui, 3);
		t->mac[3] = (uint8_t)(h >> 16);
		t->mac[4] = (uint8_t)(h >> 8);
		t->mac[5] = (uint8_t)h;
		t->has_mac = true;
		return 0;
	}
	perr(p, "expected an ethernet address like \"00:14:22:01:02:03\" or a vendor name "
		"(dell, 3com, cisco, hp, intel, apple, ibm, sun, realtek, vmware, d-link, "
		"microsoft, xerox), got '%s'", s);
	return 0;
}

static int st_set(struct parser *p, const struct tok *w, int n)
{
	if (n < 3) {
		perr(p, "expected 'set TEMPLATE WHAT VALUE', got %d words", n);
		return 0;
	}
	struct vg_ip ip;
	if (parse_ip(w[1].s, &ip)) {
		perr(p, "'set %s %s' is not supported by vigia-sensord (settings on an address "
			"rather than a template); create a template and bind the address to it",
		     w[1].s, w[2].s);
		return 0;
	}
	long ti = need_tmpl(p, "set", w[1].s);
	if (ti < 0)
		return 0;
	struct sc_template *t = &p->c->tmpls[ti];
	const char *what = w[2].s;

	if (!strcmp(what, "personality")) {
		if (n != 4) {
			perr(p, "expected 'set %s personality \"NAME\"'", w[1].s);
			return 0;
		}
		free(t->personality);
		t->personality = strdup(w[3].s);
		return t->personality ? 0 : -ENOMEM;
	}
	if (!strcmp(what, "default")) {
		if (n < 6 || strcmp(w[4].s, "action")) {
			perr(p, "expected 'set %s default tcp|udp|icmp action open|closed|block|reset'",
			     w[1].s);
			return 0;
		}
		enum sc_action *slot;
		if (!strcmp(w[3].s, "tcp"))
			slot = &t->def_tcp;
		else if (!strcmp(w[3].s, "udp"))
			slot = &t->def_udp;
		else if (!strcmp(w[3].s, "icmp"))
			slot = &t->def_icmp;
		else {
			perr(p, "expected 'tcp', 'udp' or 'icmp' after 'set %s default', got '%s'",
			     w[1].s, w[3].s);
			return 0;
		}
		int i = 5;
		if (!strcmp(w[i].s, "tarpit") && !w[i].quoted && n > 6)
			i++;   /* accepted; the responder does not slow connections down */
		enum sc_action a;
		if (w[i].quoted || !word_action(w[i].s, &a)) {
			if (w[i].quoted || !strcmp(w[i].s, "proxy") || !strcmp(w[i].s, "internal"))
				perr(p, "a script, proxy or internal module as the default action of "
					"a whole protocol is not supported by vigia-sensord; name the "
					"ports with 'add %s %s port N ...'", w[1].s, w[3].s);
			else
				perr(p, "expected 'open', 'closed', 'block', 'reset' or 'filtered' "
					"after 'default %s action', got '%s'", w[3].s, w[i].s);
			return 0;
		}
		if (i + 1 != n) {
			perr(p, "unexpected '%s' after 'default %s action %s'", w[i + 1].s, w[3].s,
			     w[i].s);
			return 0;
		}
		/* ICMP knows only answer or silence (Honeyd: closed = no reply). */
		if (slot == &t->def_icmp && a != SC_OPEN)
			a = SC_BLOCK;
		*slot = a;
		return 0;
	}
	if (!strcmp(what, "ethernet")) {
		if (n != 4) {
			perr(p, "expected 'set %s ethernet \"MAC or vendor\"'", w[1].s);
			return 0;
		}
		return set_ethernet(p, t, w[3].s);
	}
	if (!strcmp(what, "uptime")) {
		uint64_t v;
		if (n != 4 || !parse_u64(w[3].s, UINT32_MAX, &v)) {
			perr(p, "expected a number of seconds after 'set %s uptime', got '%s'",
			     w[1].s, n > 3 ? w[3].s : "");
			return 0;
		}
		t->uptime = (uint32_t)v;
		return 0;
	}
	if (!strcmp(what, "droprate")) {
		char *end = NULL;
		double v = 0;
		if (n == 5 && !strcmp(w[3].s, "in")) {
			errno = 0;
			v = strtod(w[4].s, &end);
		}
		if (!end || end == w[4].s || *end || errno || !(v >= 0 && v <= 100)) {
			perr(p, "expected 'set %s droprate in PERCENT' with a percentage 0-100", w[1].s);
			return 0;
		}
		t->droprate_in = v;
		return 0;
	}
	if (!strcmp(what, "uid")) {
		uint64_t uid, gid;
		bool ok = (n == 4 || (n == 6 && !strcmp(w[4].s, "gid"))) &&
			  parse_u64(w[3].s, UINT32_MAX - 1, &uid);
		if (ok && n == 6)
			ok = parse_u64(w[5].s, UINT32_MAX - 1, &gid);
		else
			gid = uid;
		if (!ok) {
			perr(p, "expected 'set %s uid N [gid M]' with numeric ids", w[1].s);
			return 0;
		}
		t->uid = (uint32_t)uid;
		t->gid = (uint32_t)gid;
		t->has_uid = true;
		return 0;
	}
	if (!strcmp(what, "maxfds")) {
		uint64_t v;
		if (n != 4 || !parse_u64(w[3].s, UINT32_MAX, &v))
			perr(p, "expected a number after 'set %s maxfds'", w[1].s);
		/* accepted and ignored: the responder holds no descriptor per connection */
		return 0;
	}
	if (!strcmp(what, "spoof")) {
		refuse(p, "set TEMPLATE spoof", "rewriting source addresses of replies");
		return 0;
	}
	if (!strcmp(what, "subsystem")) {
		refuse(p, "subsystem", "Honeyd ran real programs under a virtual address "
		       "through library interposition");
		return 0;
	}
	perr(p, "expected 'personality', 'default', 'ethernet', 'uptime', 'droprate', "
		"'uid' or 'maxfds' after 'set %s', got '%s'", w[1].s, what);
	return 0;
}

static int st_add(struct parser *p, const struct tok *w, int n)
{
	if (n >= 3 && !strcmp(w[2].s, "subsystem")) {
		refuse(p, "subsystem", "Honeyd ran real programs under a virtual address "
		       "through library interposition");
		return 0;
	}
	if (n >= 3 && (!strcmp(w[2].s, "use") || !strcmp(w[2].s, "otherwise"))) {
		refuse(p, "add TEMPLATE use ... if", "dynamic templates chosen by source OS, "
		       "address or time");
		return 0;
	}
	if (n < 5) {
		perr(p, "expected 'add TEMPLATE tcp|udp port N ACTION', got %d words", n);
		return 0;
	}
	long ti = need_tmpl(p, "add", w[1].s);
	if (ti < 0)
		return 0;
	uint8_t proto;
	if (!strcmp(w[2].s, "tcp"))
		proto = 6;
	else if (!strcmp(w[2].s, "udp"))
		proto = 17;
	else {
		perr(p, "expected 'tcp' or 'udp' after 'add %s', got '%s'", w[1].s, w[2].s);
		return 0;
	}
	if (strcmp(w[3].s, "port")) {
		perr(p, "expected 'port' after 'add %s %s', got '%s'", w[1].s, w[2].s, w[3].s);
		return 0;
	}
	uint64_t port;
	if (!parse_u64(w[4].s, 65535, &port)) {
		perr(p, "expected a port number 0-65535 after 'add %s %s port', got '%s'",
		     w[1].s, w[2].s, w[4].s);
		return 0;
	}
	int i = 5;
	if (i < n && !w[i].quoted && !strcmp(w[i].s, "tarpit"))
		i++;   /* accepted; the responder does not slow connections down */
	if (i >= n) {
		perr(p, "expected 'open', 'closed', 'block', 'reset', a quoted script or a service "
			"name after 'port %s', got nothing", w[4].s);
		return 0;
	}
	struct sc_port r = { .proto = proto, .port = (uint16_t)port };
	const char *arg = NULL;
	int used = 1;
	if (w[i].quoted) {
		if (!*w[i].s) {
			perr(p, "the script after 'port %s' is empty", w[4].s);
			return 0;
		}
		r.action = SC_SCRIPT;
		arg = w[i].s;
	} else if (!strcmp(w[i].s, "proxy")) {
		/* "proxy HOST:PORT" made Honeyd relay; vigia never relays, so the
		 * port answers as an emulated open proxy and records the request.
		 * The target is kept only to be reported. */
		r.action = SC_PROXY;
		if (i + 1 < n) {
			arg = w[i + 1].s;
			used = 2;
			if (!strchr(arg, ':')) {
				perr(p, "expected HOST:PORT after 'proxy', got '%s'", arg);
				return 0;
			}
		}
	} else if (!strcmp(w[i].s, "internal")) {
		refuse(p, "internal", "Honeyd's Python service modules");
		return 0;
	} else if (word_action(w[i].s, &r.action)) {
		/* plain action */
	} else if (is_service(w[i].s)) {
		r.action = SC_SERVICE;
		arg = w[i].s;
	} else {
		perr(p, "expected 'open', 'closed', 'block', 'reset', a quoted script or a service "
			"name after 'port %s', got '%s'", w[4].s, w[i].s);
		return 0;
	}
	if (i + used != n) {
		perr(p, "unexpected '%s' after the action of 'port %s'", w[i + used].s, w[4].s);
		return 0;
	}
	if (arg && !(r.arg = strdup(arg)))
		return -ENOMEM;
	struct sc_template *t = &p->c->tmpls[ti];
	struct sc_port *v = realloc(t->ports, (t->nports + 1) * sizeof *v);
	if (!v) {
		free(r.arg);
		return -ENOMEM;
	}
	t->ports = v;
	t->ports[t->nports++] = r;
	return 0;
}

static int st_bind(struct parser *p, const struct tok *w, int n)
{
	struct vg_ip ip;
	if (n >= 2 && !parse_ip(w[1].s, &ip) &&
	    (!strcmp(w[1].s, "source") || !strcmp(w[1].s, "time") || !strcmp(w[1].s, "proto") ||
	     !strcmp(w[1].s, "otherwise"))) {
		refuse(p, "bind CONDITION", "bindings chosen by source OS, address or time");
		return 0;
	}
	if (n == 4 && !strcmp(w[2].s, "to")) {
		refuse(p, "bind ADDRESS to INTERFACE", "Honeyd's integration of real hosts into "
		       "its virtual routing topology");
		return 0;
	}
	if (n != 3) {
		perr(p, "expected 'bind ADDRESS TEMPLATE', got %d words", n);
		return 0;
	}
	if (!parse_ip(w[1].s, &ip)) {
		perr(p, "expected an IPv4 or IPv6 address after 'bind', got '%s'", w[1].s);
		return 0;
	}
	long ti = need_tmpl(p, "bind", w[2].s);
	if (ti < 0)
		return 0;
	struct sc_config *c = p->c;
	if (c->nbinds == p->binds_cap) {
		size_t cap = p->binds_cap ? p->binds_cap * 2 : 64;
		struct sc_bind *b = realloc(c->binds, cap * sizeof *b);
		if (!b)
			return -ENOMEM;
		c->binds = b;
		struct bind_src *s = realloc(p->bsrc, cap * sizeof *s);
		if (!s)
			return -ENOMEM;
		p->bsrc = s;
		p->binds_cap = cap;
	}
	c->binds[c->nbinds] = (struct sc_bind){ .addr = ip, .tmpl = (size_t)ti };
	p->bsrc[c->nbinds] = (struct bind_src){ .file = p->file, .line = p->line };
	c->nbinds++;
	return 0;
}

/* A path named in a file is relative to that file's directory. */
static char *relative_to(const char *file, const char *path)
{
	if (path[0] == '/')
		return strdup(path);
	const char *slash = strrchr(file, '/');
	if (!slash)
		return strdup(path);
	size_t dlen = (size_t)(slash - file);
	size_t len = dlen + 1 + strlen(path) + 1;
	char *out = malloc(len);
	if (out)
		snprintf(out, len, "%.*s/%s", (int)dlen, file, path);
	return out;
}

static int set_path(struct parser *p, char **slot, const char *v)
{
	char *s = relative_to(p->file, v);
	if (!s)
		return -ENOMEM;
	free(*slot);
	*slot = s;
	return 0;
}

static int st_vigia(struct parser *p, const struct tok *w, int n)
{
	struct sc_config *c = p->c;
	if (n != 3) {
		perr(p, "expected 'vigia KEY VALUE', got %d words", n);
		return 0;
	}
	const char *k = w[1].s, *v = w[2].s;
	static const struct {
		const char *key;
		size_t off;
	} durations[] = {
		{ "rotate", offsetof(struct sc_config, rotate_seconds) },
		{ "retention", offsetof(struct sc_config, retention_seconds) },
		{ "script-cpu", offsetof(struct sc_config, script_cpu_seconds) },
		{ "script-time", offsetof(struct sc_config, script_wall_seconds) },
		{ "status-interval", offsetof(struct sc_config, status_interval) },
	}, counts[] = {
		{ "max-connections", offsetof(struct sc_config, max_connections) },
		{ "max-pps", offsetof(struct sc_config, max_pps_out) },
		{ "max-pps-per-source", offsetof(struct sc_config, max_pps_per_source) },
		{ "max-scripts", offsetof(struct sc_config, max_scripts) },
	};
	for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
		if (strcmp(k, durations[i].key))
			continue;
		uint32_t d;
		if (!parse_duration(v, &d) || d == 0) {
			perr(p, "expected a positive duration (seconds, or with s, m, h or d) after "
				"'vigia %s', got '%s'", k, v);
			return 0;
		}
		memcpy((char *)c + durations[i].off, &d, sizeof d);
		return 0;
	}
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		if (strcmp(k, counts[i].key))
			continue;
		uint64_t d;
		if (!parse_u64(v, UINT32_MAX, &d) || d == 0) {
			perr(p, "expected a positive number after 'vigia %s', got '%s'", k, v);
			return 0;
		}
		uint32_t d32 = (uint32_t)d;
		memcpy((char *)c + counts[i].off, &d32, sizeof d32);
		return 0;
	}
	if (!strcmp(k, "script-memory")) {
		if (!parse_megabytes(v, &c->script_mem_mb) || c->script_mem_mb == 0)
			perr(p, "expected megabytes (64, 64M or 1G) after 'vigia script-memory', got '%s'", v);
		return 0;
	}
	if (!strcmp(k, "network")) {
		struct cidr net;
		struct vg_err e;
		if (cidr_parse(v, &net, &e) < 0) {
			perr(p, "expected a network like 192.0.2.0/24 after 'vigia network': %s", e.msg);
			return 0;
		}
		return cidr_set_add(&c->networks, &net);
	}
	if (!strcmp(k, "interface")) {
		free(c->interface);
		c->interface = strdup(v);
		return c->interface ? 0 : -ENOMEM;
	}
	if (!strcmp(k, "user")) {
		free(c->user);
		c->user = strdup(v);
		return c->user ? 0 : -ENOMEM;
	}
	if (!strcmp(k, "spool"))
		return set_path(p, &c->spool_dir, v);
	if (!strcmp(k, "connection-log"))
		return set_path(p, &c->conn_log, v);
	if (!strcmp(k, "service-log"))
		return set_path(p, &c->service_log, v);
	perr(p, "unknown setting 'vigia %s'; expected interface, network, spool, user, "
		"connection-log, service-log, rotate, retention, max-connections, max-pps, "
		"max-pps-per-source, max-scripts, script-cpu, script-memory, script-time or "
		"status-interval", k);
	return 0;
}

/* ---- tokenizer and file reading --------------------------------------- */

/* Split one line into words.  Quoted strings may sit against a word
 * ("port 111\"perl ...\"" occurs in Honeyd's own samples).  Escapes inside
 * quotes: \" \\ \n \t; any other backslash is kept as written so that
 * script command lines pass through unchanged.  `buf` holds at least
 * len + MAX_WORDS bytes. */
static int tokenize(struct parser *p, const char *s, size_t len, char *buf, struct tok *w)
{
	int n = 0;
	size_t i = 0;
	char *o = buf;
	while (i < len) {
		char ch = s[i];
		if (ch == ' ' || ch == '\t' || ch == '\r') {
			i++;
			continue;
		}
		if (ch == '#')
			break;
		if (n == MAX_WORDS) {
			perr(p, "more than %d words on one line", MAX_WORDS);
			return -1;
		}
		w[n].s = o;
		w[n].quoted = false;
		if (ch == '"') {
			size_t start = i++;
			bool closed = false;
			while (i < len) {
				char q = s[i++];
				if (q == '"') {
					closed = true;
					break;
				}
				if (q == '\\' && i < len) {
					char e = s[i++];
					switch (e) {
					case '"': *o++ = '"'; break;
					case '\\': *o++ = '\\'; break;
					case 'n': *o++ = '\n'; break;
					case 't': *o++ = '\t'; break;
					default: *o++ = '\\'; *o++ = e; break;
					}
					continue;
				}
				if (q == '\0') {
					perr(p, "a NUL byte inside a quoted string");
					return -1;
				}
				*o++ = q;
			}
			if (!closed) {
				perr(p, "the quoted string starting at column %zu is not closed", start + 1);
				return -1;
			}
			w[n].quoted = true;
		} else {
			while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
			       s[i] != '"' && s[i] != '#') {
				if (s[i] == '\0') {
					perr(p, "a NUL byte in the file");
					return -1;
				}
				*o++ = s[i++];
			}
		}
		*o++ = '\0';
		n++;
	}
	return n;
}

static int parse_buf(struct parser *p, const char *name, const char *buf, size_t len);

static int st_include(struct parser *p, const struct tok *w, int n)
{
	if (n != 2) {
		perr(p, "expected 'include FILE'");
		return 0;
	}
	if (p->depth >= MAX_INCLUDE_DEPTH) {
		perr(p, "'include %s': includes nest deeper than %d (a loop?)", w[1].s,
		     MAX_INCLUDE_DEPTH);
		return 0;
	}
	char *path = relative_to(p->file, w[1].s);
	if (!path)
		return -ENOMEM;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		perr(p, "'include %s': cannot open %s: %s", w[1].s, path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(path);
		return 0;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_FILE_BYTES) {
		perr(p, "'include %s': %s is not a regular file of at most %u MiB", w[1].s, path,
		     MAX_FILE_BYTES >> 20);
		close(fd);
		free(path);
		return 0;
	}
	size_t sz = (size_t)st.st_size;
	char *data = malloc(sz + 1);
	size_t got = 0;
	while (data && got < sz) {
		ssize_t r = read(fd, data + got, sz - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (!data) {
		free(path);
		return -ENOMEM;
	}
	const char *saved_file = p->file;
	unsigned saved_line = p->line;
	p->depth++;
	int rc = parse_buf(p, path, data, got);
	p->depth--;
	p->file = saved_file;
	p->line = saved_line;
	free(data);
	free(path);
	return rc;
}

static int statement(struct parser *p, const struct tok *w, int n)
{
	const char *k = w[0].s;
	if (w[0].quoted) {
		perr(p, "a line cannot start with a quoted string");
		return 0;
	}
	if (!strcmp(k, "create"))
		return st_create(p, w, n);
	if (!strcmp(k, "set"))
		return st_set(p, w, n);
	if (!strcmp(k, "add"))
		return st_add(p, w, n);
	if (!strcmp(k, "bind"))
		return st_bind(p, w, n);
	if (!strcmp(k, "clone"))
		return st_clone(p, w, n);
	if (!strcmp(k, "include"))
		return st_include(p, w, n);
	if (!strcmp(k, "vigia"))
		return st_vigia(p, w, n);
	if (!strcmp(k, "route")) {
		refuse(p, "route", "Honeyd's virtual routing topology");
		return 0;
	}
	if (!strcmp(k, "dynamic")) {
		refuse(p, "dynamic", "templates chosen by source OS, address or time");
		if (n == 2)
			note_refused(p, w[1].s);
		return 0;
	}
	if (!strcmp(k, "annotate")) {
		refuse(p, "annotate", "first-generation nmap fingerprint annotations; "
		       "personalities come from nmap-os-db");
		return 0;
	}
	if (!strcmp(k, "dhcp")) {
		refuse(p, "dhcp", "virtual hosts taking addresses by DHCP");
		if (n >= 2)
			note_refused(p, w[1].s);
		return 0;
	}
	if (!strcmp(k, "tunnel")) {
		refuse(p, "tunnel", "GRE tunnels of Honeyd's routing topology");
		return 0;
	}
	if (!strcmp(k, "delete")) {
		refuse(p, "delete", "removing templates or ports; edit the statement instead");
		return 0;
	}
	if (!strcmp(k, "option")) {
		refuse(p, "option", "Honeyd plugin options");
		return 0;
	}
	if (!strcmp(k, "broadcast")) {
		refuse(p, "broadcast", "broadcast traffic emitted by templates");
		return 0;
	}
	if (!strcmp(k, "subsystem")) {
		refuse(p, "subsystem", "Honeyd ran real programs under a virtual address "
		       "through library interposition");
		return 0;
	}
	perr(p, "unknown statement '%s'; expected create, set, add, bind, clone, include "
		"or vigia", k);
	return 0;
}

static int parse_buf(struct parser *p, const char *name, const char *buf, size_t len)
{
	char *nm = strdup(name);
	char **f = nm ? realloc(p->files, (p->nfiles + 1) * sizeof *f) : NULL;
	if (!f) {
		free(nm);
		return -ENOMEM;
	}
	p->files = f;
	p->files[p->nfiles++] = nm;
	p->file = nm;

	char *scratch = NULL;
	size_t scap = 0;
	struct tok w[MAX_WORDS];
	size_t pos = 0;
	unsigned line = 0;
	int rc = 0;
	while (pos < len && rc == 0) {
		line++;
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		if (llen + MAX_WORDS + 1 > scap) {
			scap = llen + MAX_WORDS + 1;
			char *ns = realloc(scratch, scap);
			if (!ns) {
				rc = -ENOMEM;
				break;
			}
			scratch = ns;
		}
		p->file = nm;
		p->line = line;
		int n = tokenize(p, buf + pos, llen, scratch, w);
		if (n > 0)
			rc = statement(p, w, n);
		pos += llen + (nl ? 1 : 0);
	}
	free(scratch);
	return rc;
}

/* ---- finishing -------------------------------------------------------- */

static int ipcmp(const struct vg_ip *a, const struct vg_ip *b)
{
	if (a->v != b->v)
		return a->v < b->v ? -1 : 1;
	return memcmp(a->a, b->a, a->v == 4 ? 4 : 16);
}

struct bind_ord {
	struct sc_bind b;
	struct bind_src src;
};

static int bind_ord_cmp(const void *x, const void *y)
{
	const struct bind_ord *a = x, *b = y;
	int c = ipcmp(&a->b.addr, &b->b.addr);
	if (c)
		return c;
	/* file order keeps "first bind" well defined for the duplicate message */
	int f = strcmp(a->src.file, b->src.file);
	if (f)
		return f;
	return a->src.line < b->src.line ? -1 : a->src.line > b->src.line;
}

struct port_ord {
	struct sc_port r;
	size_t seq;
};

static int port_ord_cmp(const void *x, const void *y)
{
	const struct port_ord *a = x, *b = y;
	if (a->r.proto != b->r.proto)
		return a->r.proto < b->r.proto ? -1 : 1;
	if (a->r.port != b->r.port)
		return a->r.port < b->r.port ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sort a template's rules by (proto, port); of several rules for one port
 * the last written wins, as when a later include overrides. */
static int finish_ports(struct sc_template *t)
{
	if (t->nports < 2)
		return 0;
	struct port_ord *o = malloc(t->nports * sizeof *o);
	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < t->nports; i++)
		o[i] = (struct port_ord){ .r = t->ports[i], .seq = i };
	qsort(o, t->nports, sizeof *o, port_ord_cmp);
	size_t k = 0;
	for (size_t i = 0; i < t->nports; i++) {
		if (i + 1 < t->nports && o[i + 1].r.proto == o[i].r.proto &&
		    o[i + 1].r.port == o[i].r.port) {
			free(o[i].r.arg);
			continue;
		}
		t->ports[k++] = o[i].r;
	}
	t->nports = k;
	free(o);
	return 0;
}

static int finish(struct parser *p)
{
	struct sc_config *c = p->c;
	for (size_t i = 0; i < c->ntmpls; i++)
		if (finish_ports(&c->tmpls[i]) < 0)
			return -ENOMEM;
	c->default_tmpl = find_tmpl(c, "default");
	if (c->default_tmpl < 0) {
		/* Every claimed address must answer every protocol (Honeyd's
		 * silence on UDP to default-template addresses gave the sensor
		 * away), so an absent default becomes a plain closed host. */
		long t = add_tmpl(p, "default");
		if (t < 0)
			return -ENOMEM;
		c->tmpls[t].implicit = true;
		c->default_tmpl = t;
	}
	if (c->nbinds) {
		struct bind_ord *o = malloc(c->nbinds * sizeof *o);
		if (!o)
			return -ENOMEM;
		for (size_t i = 0; i < c->nbinds; i++)
			o[i] = (struct bind_ord){ .b = c->binds[i], .src = p->bsrc[i] };
		qsort(o, c->nbinds, sizeof *o, bind_ord_cmp);
		for (size_t i = 0; i < c->nbinds; i++) {
			c->binds[i] = o[i].b;
			if (i && !ipcmp(&o[i].b.addr, &o[i - 1].b.addr)) {
				char a[64];
				inet_ntop(o[i].b.addr.v == 4 ? AF_INET : AF_INET6, o[i].b.addr.a, a,
					  sizeof a);
				p->file = o[i].src.file;
				p->line = o[i].src.line;
				perr(p, "address %s is bound twice (first at %s:%u)", a,
				     o[i - 1].src.file, o[i - 1].src.line);
			}
		}
		free(o);
	}
	return 0;
}

static struct sc_config *config_new(const char *path)
{
	struct sc_config *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->default_tmpl = -1;
	c->path = strdup(path);
	c->spool_dir = strdup("/var/spool/vigia");
	if (!c->path || !c->spool_dir) {
		sc_config_free(c);
		return NULL;
	}
	c->rotate_seconds = 3600;
	c->retention_seconds = 86400;
	c->max_connections = 4096;
	c->max_pps_out = 100000;
	c->max_pps_per_source = 1000;
	c->script_cpu_seconds = 5;
	c->script_mem_mb = 64;
	c->script_wall_seconds = 60;
	c->max_scripts = 64;
	c->status_interval = 5;
	return c;
}

static int load(struct sc_config **out, const char *name, const char *buf, size_t len,
		sc_diag_fn diag, void *ctx, struct vg_err *err)
{
	*out = NULL;
	struct parser p = { .diag = diag, .diag_ctx = ctx, .err = err, .file = name };
	p.c = config_new(name);
	if (!p.c)
		return vg_err_set(err, -ENOMEM, "%s: out of memory", name);
	int rc = parse_buf(&p, name, buf, len);
	if (rc == 0) {
		p.line = 0;
		rc = finish(&p);
	}
	if (rc == 0 && (p.nerr || p.nsilent)) {
		if (p.nerr > 1)
			vg_err_set(err, -EINVAL, "%s (and %u more error%s)", p.first, p.nerr - 1,
				   p.nerr > 2 ? "s" : "");
		else
			vg_err_set(err, -EINVAL, "%s", p.first);
		rc = -EINVAL;
	} else if (rc < 0) {
		vg_err_set(err, rc, "%s: %s", name, strerror(-rc));
	}
	for (size_t i = 0; i < p.nfiles; i++)
		free(p.files[i]);
	free(p.files);
	for (size_t i = 0; i < p.nrefused; i++)
		free(p.refused[i]);
	free(p.refused);
	free(p.bsrc);
	if (rc < 0) {
		sc_config_free(p.c);
		return rc;
	}
	*out = p.c;
	return 0;
}

int sc_config_load_buf_diag(struct sc_config **out, const char *name, const char *buf,
			    size_t len, sc_diag_fn diag, void *ctx, struct vg_err *err)
{
	if (len > MAX_FILE_BYTES)
		return vg_err_set(err, -EFBIG, "%s: larger than %u MiB", name, MAX_FILE_BYTES >> 20);
	return load(out, name, buf, len, diag, ctx, err);
}

int sc_config_load_buf(struct sc_config **out, const char *name, const char *buf,
		       size_t len, struct vg_err *err)
{
	return sc_config_load_buf_diag(out, name, buf, len, NULL, NULL, err);
}

int sc_config_load_diag(struct sc_config **out, const char *path, sc_diag_fn diag,
			void *ctx, struct vg_err *err)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vg_err_set(err, -errno, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_FILE_BYTES) {
		close(fd);
		return vg_err_set(err, -EINVAL, "%s: not a regular file of at most %u MiB", path,
				  MAX_FILE_BYTES >> 20);
	}
	size_t sz = (size_t)st.st_size, got = 0;
	char *data = malloc(sz + 1);
	if (!data) {
		close(fd);
		return vg_err_set(err, -ENOMEM, "%s: out of memory", path);
	}
	while (got < sz) {
		ssize_t r = read(fd, data + got, sz - got);
		if (r < 0) {
			int e = errno;
			close(fd);
			free(data);
			return vg_err_set(err, -e, "%s: byte offset %zu: %s", path, got, strerror(e));
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	int rc = load(out, path, data, got, diag, ctx, err);
	free(data);
	return rc;
}

int sc_config_load(struct sc_config **out, const char *path, struct vg_err *err)
{
	return sc_config_load_diag(out, path, NULL, NULL, err);
}

void sc_config_free(struct sc_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ntmpls; i++)
		tmpl_free(&c->tmpls[i]);
	free(c->tmpls);
	free(c->binds);
	cidr_set_free(&c->networks);
	free(c->path);
	free(c->interface);
	free(c->spool_dir);
	free(c->user);
	free(c->conn_log);
	free(c->service_log);
	free(c);
}

int sc_config_claim(struct sc_config *c, const char *cidr, struct vg_err *err)
{
	struct cidr net;
	int rc = cidr_parse(cidr, &net, err);
	if (rc < 0)
		return rc;
	rc = cidr_set_add(&c->networks, &net);
	if (rc < 0)
		return vg_err_set(err, rc, "'%s': out of memory", cidr);
	return 0;
}

const struct sc_template *sc_lookup(const struct sc_config *c, const struct vg_ip *addr)
{
	size_t lo = 0, hi = c->nbinds;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = ipcmp(&c->binds[mid].addr, addr);
		if (d == 0)
			return &c->tmpls[c->binds[mid].tmpl];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (c->default_tmpl >= 0 && cidr_set_contains(&c->networks, addr))
		return &c->tmpls[c->default_tmpl];
	return NULL;
}

enum sc_action sc_port_action(const struct sc_template *t, uint8_t proto, uint16_t port,
			      const struct sc_port **rule)
{
	size_t lo = 0, hi = t->nports;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct sc_port *r = &t->ports[mid];
		if (r->proto == proto && r->port == port) {
			if (rule)
				*rule = r;
			return r->action;
		}
		if (r->proto < proto || (r->proto == proto && r->port < port))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (rule)
		*rule = NULL;
	return proto == 6 ? t->def_tcp : proto == 17 ? t->def_udp : t->def_icmp;
}
