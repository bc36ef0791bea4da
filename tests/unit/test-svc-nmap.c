/* test-svc-nmap.c: would `nmap -sV` name the product each service claims?
 *
 * Reads nmap's own /usr/share/nmap/nmap-service-probes, sends each
 * service the probe nmap would (the NULL probe for banners, GetRequest for
 * HTTP, SMBProgNeg, ms-sql-s, Sqlping, NBTStat, Socks5...), and applies
 * that probe's match lines (then its fallbacks, then the NULL probe's, as
 * nmap does) with PCRE2, nmap's regex engine, in file order.  The first
 * hard match must name the expected product; a honeypot match (nmap has
 * lines naming Honeyd, Dionaea, Kojoney... by their tells) fails the
 * test wherever it comes. */
#include "check.h"
#include "svc.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <ctype.h>
#include <errno.h>

#define PROBES_FILE "/usr/share/nmap/nmap-service-probes"

struct nm_match {
	pcre2_code *re;
	char service[64];
	char product[160];
	int soft;
	int line;
};

struct nm_probe {
	char proto[4];
	char name[64];
	uint8_t q[1024];
	size_t qlen;
	char fallback[256];
	struct nm_match *m;
	size_t nm, cap;
};

static struct nm_probe *probes;
static size_t nprobes;
static int compile_failures;

/* nmap's escapes in q|...|: \0 \a \b \f \n \r \t \v \xHH, else literal. */
static size_t unescape(const char *s, size_t n, uint8_t *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o < outsz; i++) {
		if (s[i] != '\\' || i + 1 >= n) {
			out[o++] = (uint8_t)s[i];
			continue;
		}
		char c = s[++i];
		switch (c) {
		case '0': out[o++] = 0; break;
		case 'a': out[o++] = 7; break;
		case 'b': out[o++] = 8; break;
		case 'f': out[o++] = 12; break;
		case 'n': out[o++] = 10; break;
		case 'r': out[o++] = 13; break;
		case 't': out[o++] = 9; break;
		case 'v': out[o++] = 11; break;
		case 'x':
			if (i + 2 < n && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2])) {
				char h[3] = { s[i + 1], s[i + 2], 0 };
				out[o++] = (uint8_t)strtoul(h, NULL, 16);
				i += 2;
			}
			break;
		default: out[o++] = (uint8_t)c; break;
		}
	}
	return o;
}

static void add_match(struct nm_probe *p, const char *line, int soft, int lineno)
{
	const char *s = line + (soft ? 10 : 6);
	struct nm_match m = { 0 };
	const char *sp = strchr(s, ' ');
	if (!sp || sp[1] != 'm')
		return;
	snprintf(m.service, sizeof m.service, "%.*s", (int)(sp - s), s);
	char delim = sp[2];
	const char *re = sp + 3, *end = strchr(re, delim);
	if (!end)
		return;
	uint32_t opts = 0;
	const char *f = end + 1;
	for (; *f && *f != ' '; f++) {
		if (*f == 'i')
			opts |= PCRE2_CASELESS;
		if (*f == 's')
			opts |= PCRE2_DOTALL;
	}
	const char *pp = strstr(f, " p");
	if (pp && pp[2] && !isalnum((unsigned char)pp[2])) {
		char d = pp[2];
		const char *pe = strchr(pp + 3, d);
		if (pe)
			snprintf(m.product, sizeof m.product, "%.*s", (int)(pe - pp - 3), pp + 3);
	}
	int err;
	PCRE2_SIZE erroff;
	m.re = pcre2_compile((PCRE2_SPTR)re, (PCRE2_SIZE)(end - re), opts, &err, &erroff, NULL);
	if (!m.re) {
		compile_failures++;
		return;
	}
	m.soft = soft;
	m.line = lineno;
	if (p->nm == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->m = realloc(p->m, p->cap * sizeof *p->m);
	}
	p->m[p->nm++] = m;
}

static int load_probes(void)
{
	FILE *f = fopen(PROBES_FILE, "r");
	char *line = NULL;
	size_t cap = 0, pcap = 0;
	ssize_t n;
	int lineno = 0;

	if (!f)
		return -errno;
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!strncmp(line, "Probe ", 6)) {
			if (nprobes == pcap) {
				pcap = pcap ? 2 * pcap : 256;
				probes = realloc(probes, pcap * sizeof *probes);
			}
			struct nm_probe *p = &probes[nprobes++];
			memset(p, 0, sizeof *p);
			char name[64] = "";
			sscanf(line + 6, "%3s %63s", p->proto, name);
			snprintf(p->name, sizeof p->name, "%s", name);
			const char *q = strstr(line, " q");
			if (q && q[2]) {
				char d = q[2];
				const char *e = strchr(q + 3, d);
				if (e)
					p->qlen = unescape(q + 3, (size_t)(e - q - 3), p->q, sizeof p->q);
			}
		} else if (nprobes && !strncmp(line, "match ", 6)) {
			add_match(&probes[nprobes - 1], line, 0, lineno);
		} else if (nprobes && !strncmp(line, "softmatch ", 10)) {
			add_match(&probes[nprobes - 1], line, 1, lineno);
		} else if (nprobes && !strncmp(line, "fallback ", 9)) {
			snprintf(probes[nprobes - 1].fallback, sizeof probes[0].fallback, "%s", line + 9);
		}
	}
	free(line);
	fclose(f);
	return 0;
}

static struct nm_probe *find_probe(const char *proto, const char *name)
{
	for (size_t i = 0; i < nprobes; i++)
		if (!strcmp(probes[i].proto, proto) && !strcmp(probes[i].name, name))
			return &probes[i];
	return NULL;
}

/* --- driving a service ------------------------------------------------ */

struct cap {
	struct svc_io io;
	uint8_t out[16384];
	size_t len;
};

static int cap_send(struct svc_io *io, const void *b, size_t n)
{
	struct cap *c = io->ctx;
	if (c->len + n > sizeof c->out)
		return -ENOSPC;
	memcpy(c->out + c->len, b, n);
	c->len += n;
	return 0;
}
static void cap_close(struct svc_io *io) { (void)io; }
static void cap_record(struct svc_io *io, const char *k, const char *v) { (void)io, (void)k, (void)v; }

static const struct vg_ip peer = { 4, { 198, 51, 100, 7 } };
static const struct vg_ip honeypot = { 4, { 192, 0, 2, 10 } };

/* What the service answers a probe on a fresh connection. */
static void respond(struct cap *c, const struct svc_def *d, uint16_t port, const char *pers,
		    const struct nm_probe *p)
{
	memset(c, 0, sizeof *c);
	c->io.send = cap_send;
	c->io.close = cap_close;
	c->io.record = cap_record;
	c->io.ctx = c;
	c->io.src = &peer;
	c->io.dst = &honeypot;
	c->io.sport = 51234;
	c->io.dport = port;
	c->io.proto = d->proto;
	c->io.now_ns = 1700000000ull * 1000000000ull;
	c->io.personality = pers;
	void *st = d->state_size ? calloc(1, d->state_size) : NULL;
	if (d->proto == 6)
		d->open(st, &c->io);
	if (p->qlen)
		d->input(st, &c->io, p->q, p->qlen);
	d->close(st, &c->io);
	free(st);
}

static const struct nm_match *try_probe(const struct nm_probe *p, const uint8_t *s, size_t n)
{
	pcre2_match_data *md = pcre2_match_data_create(32, NULL);
	const struct nm_match *hit = NULL;
	for (size_t i = 0; i < p->nm && !hit; i++) {
		if (p->m[i].soft)
			continue;
		if (pcre2_match(p->m[i].re, s, n, 0, 0, md, NULL) >= 0)
			hit = &p->m[i];
	}
	pcre2_match_data_free(md);
	return hit;
}

/* nmap's order: the probe's matches, its fallbacks', then NULL's (TCP). */
static const struct nm_match *identify(const struct nm_probe *p, const uint8_t *s, size_t n)
{
	const struct nm_match *m = try_probe(p, s, n);
	char fb[256], *save = NULL;

	if (m)
		return m;
	snprintf(fb, sizeof fb, "%s", p->fallback);
	for (char *t = strtok_r(fb, ", ", &save); t && !m; t = strtok_r(NULL, ", ", &save)) {
		const struct nm_probe *f = find_probe(p->proto, t);
		if (f)
			m = try_probe(f, s, n);
	}
	if (!m && !strcmp(p->proto, "TCP"))
		m = try_probe(find_probe("TCP", "NULL"), s, n);
	return m;
}

static int is_honeypot(const struct nm_match *m)
{
	return strcasestr(m->product, "honeypot") || strcasestr(m->service, "honeypot") ||
	       strcasestr(m->product, "honeyd");
}

/* Also: no probe nmap might send on this port gets a honeypot match. */
static int honeypot_anywhere(const struct svc_def *d, uint16_t port, const char *pers)
{
	static struct cap c;
	int bad = 0;
	const char *proto = d->proto == 6 ? "TCP" : "UDP";
	for (size_t i = 0; i < nprobes; i++) {
		if (strcmp(probes[i].proto, proto))
			continue;
		respond(&c, d, port, pers, &probes[i]);
		if (!c.len)
			continue;
		const struct nm_match *m = identify(&probes[i], c.out, c.len);
		if (m && is_honeypot(m)) {
			fprintf(stderr, "  %s on %u (%s): probe %s gets honeypot match at line %d: %s\n",
				d->name, port, pers ? pers : "default", probes[i].name, m->line, m->product);
			bad = 1;
		}
	}
	return bad;
}

struct expect {
	const char *svc;
	uint16_t port;
	const char *pers;
	const char *probe;
	const char *service;     /* nmap's service name */
	const char *product;     /* substring of p// ("" when the line has none) */
};

static const struct expect cases[] = {
	{ "ftp", 21, NULL, "NULL", "ftp", "vsftpd" },
	{ "ssh", 22, "Linux 2.6.18", "NULL", "ssh", "OpenSSH" },
	{ "ssh", 22, "FreeBSD 7.0", "NULL", "ssh", "OpenSSH" },
	{ "ssh", 22, "OpenBSD 4.0", "NULL", "ssh", "OpenSSH" },
	{ "ssh", 22, "Cisco IOS 12.4", "NULL", "ssh", "Cisco SSH" },
	{ "telnet", 23, "Linux 2.6.18", "NULL", "telnet", "Linux telnetd" },
	{ "telnet", 23, "Cisco IOS 12.4", "NULL", "telnet", "Cisco" },
	{ "smtp", 25, "Linux 2.6.18", "NULL", "smtp", "Postfix smtpd" },
	{ "http-iis", 80, NULL, "GetRequest", "http", "Microsoft IIS httpd" },
	{ "http-iis", 80, "Microsoft Windows XP SP2", "GetRequest", "http", "Microsoft IIS httpd" },
	{ "http-iis", 80, "Microsoft Windows 7", "GetRequest", "http", "Microsoft IIS httpd" },
	{ "http-apache", 80, "Linux 2.6.18", "GetRequest", "http", "Apache httpd" },
	{ "pop3", 110, NULL, "NULL", "pop3", "Dovecot pop3d" },
	{ "imap", 143, NULL, "NULL", "imap", "Dovecot imapd" },
	{ "mssql", 1433, NULL, "ms-sql-s", "ms-sql-s", "Microsoft SQL Server 2000" },
	{ "mssql", 1433, "Microsoft Windows 7", "ms-sql-s", "ms-sql-s", "Microsoft SQL Server 2008 R2" },
	{ "mssql", 1433, "Microsoft Windows 10", "ms-sql-s", "ms-sql-s", "Microsoft SQL Server 2016" },
	{ "smb", 445, NULL, "SMBProgNeg", "microsoft-ds", "Microsoft Windows 2003 or 2008 microsoft-ds" },
	{ "smb", 445, "Microsoft Windows XP SP3", "SMBProgNeg", "microsoft-ds", "Microsoft Windows XP microsoft-ds" },
	{ "smb", 445, "Microsoft Windows 2000 SP4", "SMBProgNeg", "microsoft-ds", "Microsoft Windows 2000 microsoft-ds" },
	{ "smb", 445, "Microsoft Windows 7", "SMBProgNeg", "microsoft-ds", "Microsoft Windows 7 - 10 microsoft-ds" },
	{ "smb", 139, NULL, "SMBProgNeg", "netbios-ssn", "Microsoft Windows netbios-ssn" },
	{ "mssql-resolver", 1434, NULL, "Sqlping", "ms-sql-m", "Microsoft SQL Server" },
	{ "netbios-ns", 137, NULL, "NBTStat", "netbios-ns", "Microsoft Windows netbios-ssn" },
	{ "proxy", 3128, NULL, "GetRequest", "http-proxy", "Squid http proxy" },
	{ "proxy", 8080, NULL, "GetRequest", "http-proxy", "Squid http proxy" },
	{ "proxy", 1080, NULL, "Socks5", "socks5", "" },
	{ "proxy", 1080, NULL, "Socks4", "socks4", "" },
};

TEST(nmap_names_the_claimed_product)
{
	static struct cap c;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct expect *e = &cases[i];
		const struct svc_def *d = svc_find(e->svc);
		const struct nm_probe *p = find_probe(d->proto == 6 ? "TCP" : "UDP", e->probe);
		CHECK(p != NULL);
		if (!p)
			continue;
		respond(&c, d, e->port, e->pers, p);
		const struct nm_match *m = identify(p, c.out, c.len);
		printf("  %-14s %5u %-28s %-11s -> %s: %s (line %d)\n", e->svc, e->port,
		       e->pers ? e->pers : "(default)", e->probe, m ? m->service : "-",
		       m ? m->product : "no match", m ? m->line : 0);
		CHECK(m != NULL);
		if (!m)
			continue;
		CHECK_STREQ(m->service, e->service);
		if (strstr(m->product, e->product) == NULL)
			CHECK_STREQ(m->product, e->product);
		CHECK(!is_honeypot(m));
	}
}

TEST(no_probe_gets_a_honeypot_match)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		CHECK(!honeypot_anywhere(svc_find(cases[i].svc), cases[i].port, cases[i].pers));
}

int main(void)
{
	int rc = load_probes();
	if (rc < 0) {
		fprintf(stderr, "%s: %s (install nmap)\n", PROBES_FILE, strerror(-rc));
		return 1;
	}
	printf("%zu probes loaded from %s (%d regexes PCRE2 refused)\n", nprobes, PROBES_FILE,
	       compile_failures);
	CHECK(nprobes > 100);
	RUN(nmap_names_the_claimed_product);
	RUN(no_probe_gets_a_honeypot_match);
	for (size_t i = 0; i < nprobes; i++) {
		for (size_t j = 0; j < probes[i].nm; j++)
			pcre2_code_free(probes[i].m[j].re);
		free(probes[i].m);
	}
	free(probes);
	return check_summary();
}
