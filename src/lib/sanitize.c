/* sanitize.c: honeypot and sensor addresses out of every output.
 *
 * Written by hand: no library recognises every textual form of an address
 * inside free text.  The scan takes maximal runs of the characters an
 * address can be written with ([0-9A-Fa-f.:xX]), tries the whole run as
 * IPv6, then each ':'-separated piece as IPv4 (inet_aton: dotted, short,
 * octal, hex and integer forms) or as 8 bare hex digits.  A run that is
 * a secret address in any reading is replaced whole. */
#include "sanitize.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sensor_addr {
	struct vg_ip ip;
	const char *pubname;
};

struct sanitizer {
	const struct cfg_central *c;
	struct sensor_addr *addrs;  /* sensors' own addresses */
	size_t naddrs;
	const char **hostnames;     /* sensors' host names that are not addresses */
	const char **hostpub;
	size_t nhosts;
};

static const char *pubname(const struct cfg_sensor *s)
{
	return s->public_name ? s->public_name : s->name;
}

static int parse_ip(const char *s, struct vg_ip *ip)
{
	memset(ip, 0, sizeof *ip);
	if (inet_pton(AF_INET, s, ip->a) == 1) {
		ip->v = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip->a) == 1) {
		ip->v = 6;
		return 0;
	}
	return -EINVAL;
}

int sanitizer_new(const struct cfg_central *c, struct sanitizer **out, struct vg_err *err)
{
	*out = NULL;
	struct sanitizer *s = calloc(1, sizeof *s);
	if (!s)
		return vg_err_set(err, -ENOMEM, "sanitizer: out of memory");
	s->c = c;
	if (c->nsensors) {
		s->addrs = calloc(c->nsensors, sizeof *s->addrs);
		s->hostnames = calloc(c->nsensors, sizeof *s->hostnames);
		s->hostpub = calloc(c->nsensors, sizeof *s->hostpub);
		if (!s->addrs || !s->hostnames || !s->hostpub) {
			sanitizer_free(s);
			return vg_err_set(err, -ENOMEM, "sanitizer: out of memory");
		}
	}
	for (size_t i = 0; i < c->nsensors; i++) {
		const struct cfg_sensor *cs = &c->sensors[i];
		if (!cs->host)
			continue;
		char h[64];
		snprintf(h, sizeof h, "%s", cs->host);
		/* "[2001:db8::7]" as ssh may be given it */
		size_t hl = strlen(h);
		if (hl > 2 && h[0] == '[' && h[hl - 1] == ']') {
			memmove(h, h + 1, hl - 2);
			h[hl - 2] = '\0';
		}
		struct vg_ip ip;
		if (parse_ip(h, &ip) == 0) {
			s->addrs[s->naddrs].ip = ip;
			s->addrs[s->naddrs++].pubname = pubname(cs);
		} else if (strlen(cs->host) >= 3) {
			s->hostnames[s->nhosts] = cs->host;
			s->hostpub[s->nhosts++] = pubname(cs);
		}
	}
	*out = s;
	return 0;
}

void sanitizer_free(struct sanitizer *s)
{
	if (!s)
		return;
	free(s->addrs);
	free(s->hostnames);
	free(s->hostpub);
	free(s);
}

typedef unsigned __int128 u128;

static u128 ip_to_u128(const struct vg_ip *ip)
{
	u128 v = 0;
	int n = ip->v == 4 ? 4 : 16;
	for (int i = 0; i < n; i++)
		v = (v << 8) | ip->a[i];
	return v;
}

static u128 cidr_size(const struct cidr *c)
{
	unsigned bits = (c->net.v == 4 ? 32u : 128u) - c->len;
	if (bits >= 128)
		return ~(u128)0;
	return (u128)1 << bits;
}

static void u128_str(u128 v, char *buf, size_t len)
{
	char tmp[48];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v && n < sizeof tmp);
	size_t j = 0;
	while (n && j + 1 < len)
		buf[j++] = tmp[--n];
	buf[j] = '\0';
}

/* The honeypot token, or 0 when the address is no honeypot's. */
static int honeypot_token(const struct sanitizer *s, const struct vg_ip *ip, char *buf,
		size_t len)
{
	for (size_t i = 0; i < s->c->nsensors; i++) {
		const struct cfg_sensor *cs = &s->c->sensors[i];
		u128 base = 0;
		for (size_t j = 0; j < cs->networks.n; j++) {
			const struct cidr *n = &cs->networks.v[j];
			if (n->net.v == ip->v && cidr_contains(n, ip)) {
				u128 off = ip_to_u128(ip) - ip_to_u128(&n->net);
				char num[48];
				u128_str(base + off, num, sizeof num);
				snprintf(buf, len, "hp-%u.%s", cs->id, num);
				return 1;
			}
			u128 sz = cidr_size(n);
			base = base + sz < base ? ~(u128)0 : base + sz;
		}
	}
	return 0;
}

static int sensor_token(const struct sanitizer *s, const struct vg_ip *ip, char *buf,
		size_t len)
{
	for (size_t i = 0; i < s->naddrs; i++)
		if (s->addrs[i].ip.v == ip->v &&
		    !memcmp(s->addrs[i].ip.a, ip->a, ip->v == 4 ? 4 : 16)) {
			snprintf(buf, len, "[sensor %s]", s->addrs[i].pubname);
			return 1;
		}
	return 0;
}

/* IPv6 forms that carry an IPv4 address: mapped, compatible, NAT64, 6to4. */
static bool embedded_v4(const struct vg_ip *ip6, struct vg_ip *v4)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t zero[12] = {0};
	static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
	memset(v4, 0, sizeof *v4);
	v4->v = 4;
	if (!memcmp(ip6->a, mapped, 12) || !memcmp(ip6->a, zero, 12) ||
	    !memcmp(ip6->a, nat64, 12)) {
		memcpy(v4->a, ip6->a + 12, 4);
		return true;
	}
	if (ip6->a[0] == 0x20 && ip6->a[1] == 0x02) {
		memcpy(v4->a, ip6->a + 2, 4);
		return true;
	}
	return false;
}

static int token_of(const struct sanitizer *s, const struct vg_ip *ip, char *buf, size_t len)
{
	if (honeypot_token(s, ip, buf, len) || sensor_token(s, ip, buf, len))
		return 1;
	struct vg_ip v4;
	if (ip->v == 6 && embedded_v4(ip, &v4))
		return honeypot_token(s, &v4, buf, len) || sensor_token(s, &v4, buf, len);
	return 0;
}

int sanitize_ip(const struct sanitizer *s, const struct vg_ip *ip, char *buf, size_t len)
{
	if (!ip || (ip->v != 4 && ip->v != 6) || len < 2)
		return -EINVAL;
	if (token_of(s, ip, buf, len))
		return 1;
	if (!inet_ntop(ip->v == 4 ? AF_INET : AF_INET6, ip->a, buf, (socklen_t)len))
		return -EINVAL;
	return 0;
}

bool sanitize_is_secret(const struct sanitizer *s, const struct vg_ip *ip)
{
	char buf[SANITIZE_TOKEN_MAX];
	return (ip->v == 4 || ip->v == 6) && token_of(s, ip, buf, sizeof buf);
}

static bool prefix_overlap(const struct cidr *a, const struct cidr *b)
{
	if (a->net.v != b->net.v)
		return false;
	unsigned len = a->len < b->len ? a->len : b->len;
	for (unsigned i = 0; i < len; i++) {
		unsigned mask = 0x80u >> (i & 7);
		if ((a->net.a[i / 8] & mask) != (b->net.a[i / 8] & mask))
			return false;
	}
	return true;
}

bool sanitize_net_is_secret(const struct sanitizer *s, const struct cidr *net)
{
	for (size_t i = 0; i < s->c->nsensors; i++) {
		const struct cfg_sensor *cs = &s->c->sensors[i];
		for (size_t j = 0; j < cs->networks.n; j++)
			if (prefix_overlap(&cs->networks.v[j], net))
				return true;
	}
	for (size_t i = 0; i < s->naddrs; i++)
		if (s->addrs[i].ip.v == net->net.v && cidr_contains(net, &s->addrs[i].ip))
			return true;
	return false;
}

static bool run_char(char c)
{
	return isxdigit((unsigned char)c) || c == '.' || c == ':' || c == 'x' || c == 'X';
}

/* One piece without ':' read as IPv4 in any form inet_aton or a bare
 * 8-digit hex number allows. */
static int piece_token(const struct sanitizer *s, const char *p, size_t n, char *buf,
		size_t len)
{
	while (n && *p == '.')
		p++, n--;
	while (n && p[n - 1] == '.')
		n--;
	if (n == 0 || n > 40)
		return 0;
	char tmp[48];
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	struct vg_ip ip = {.v = 4};
	struct in_addr a;
	if (inet_aton(tmp, &a)) {
		memcpy(ip.a, &a.s_addr, 4);
		if (token_of(s, &ip, buf, len))
			return 1;
	}
	/* "192.000.002.017": inet_aton reads the zero-led parts as octal, most
	 * people and tools as decimal; check both readings. */
	unsigned q[4];
	char tail;
	if (sscanf(tmp, "%3u.%3u.%3u.%3u%c", &q[0], &q[1], &q[2], &q[3], &tail) == 4 &&
	    q[0] < 256 && q[1] < 256 && q[2] < 256 && q[3] < 256) {
		for (int i = 0; i < 4; i++)
			ip.a[i] = (uint8_t)q[i];
		if (token_of(s, &ip, buf, len))
			return 1;
	}
	if (n == 8 || (n > 8 && n <= 10 && tmp[0] == '0')) {
		bool hex = true;
		for (size_t i = 0; i < n; i++)
			hex = hex && isxdigit((unsigned char)tmp[i]);
		if (hex) {
			unsigned long v = strtoul(tmp, NULL, 16);
			if (v <= 0xffffffffUL) {
				ip.a[0] = (uint8_t)(v >> 24);
				ip.a[1] = (uint8_t)(v >> 16);
				ip.a[2] = (uint8_t)(v >> 8);
				ip.a[3] = (uint8_t)v;
				if (token_of(s, &ip, buf, len))
					return 1;
			}
		}
	}
	return 0;
}

struct sbuf {
	char *p;
	size_t n, cap;
	int rc;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->rc)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 256;
		while (nc < b->n + n + 1)
			nc *= 2;
		char *np = realloc(b->p, nc);
		if (!np) {
			b->rc = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

/* One run: the whole as IPv6, else each ':'-separated piece as IPv4
 * ("192.0.2.17:445" keeps its port).  Dots around a piece ("...at
 * 192.0.2.17.") stay.  Returns the replacements made. */
static size_t sanitize_run(const struct sanitizer *s, const char *p, size_t n, struct sbuf *b)
{
	char tok[SANITIZE_TOKEN_MAX];
	size_t end = n;
	while (end && p[end - 1] == '.')
		end--;
	if (memchr(p, ':', end) && end <= 64) {
		char tmp[72];
		memcpy(tmp, p, end);
		tmp[end] = '\0';
		struct vg_ip ip = {.v = 6};
		if (inet_pton(AF_INET6, tmp, ip.a) == 1 && token_of(s, &ip, tok, sizeof tok)) {
			sb_put(b, tok, strlen(tok));
			sb_put(b, p + end, n - end);
			return 1;
		}
	}
	size_t nrep = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && p[i] != ':')
			continue;
		size_t a = start, z = i;
		while (a < z && p[a] == '.')
			a++;
		while (z > a && p[z - 1] == '.')
			z--;
		if (z > a && piece_token(s, p + a, z - a, tok, sizeof tok)) {
			sb_put(b, p + start, a - start);
			sb_put(b, tok, strlen(tok));
			sb_put(b, p + z, i - z);
			nrep++;
		} else {
			sb_put(b, p + start, i - start);
		}
		if (i < n)
			sb_put(b, ":", 1);
		start = i + 1;
	}
	return nrep;
}

/* Host names of sensors, matched case-insensitively on label boundaries. */
static size_t hostname_at(const struct sanitizer *s, const char *text, size_t i, size_t len,
		size_t *which)
{
	if (i > 0 && (isalnum((unsigned char)text[i - 1]) || text[i - 1] == '-'))
		return 0;
	for (size_t k = 0; k < s->nhosts; k++) {
		size_t hl = strlen(s->hostnames[k]);
		if (hl <= len - i && !strncasecmp(text + i, s->hostnames[k], hl) &&
		    (i + hl == len || !(isalnum((unsigned char)text[i + hl]) || text[i + hl] == '-'))) {
			*which = k;
			return hl;
		}
	}
	return 0;
}

int sanitize_text(const struct sanitizer *s, const char *text, size_t len, char **out,
		  size_t *outlen, size_t *replaced)
{
	struct sbuf b = {0};
	size_t nrep = 0;
	sb_put(&b, "", 0);
	size_t i = 0;
	while (i < len && !b.rc) {
		size_t which, hl = s->nhosts ? hostname_at(s, text, i, len, &which) : 0;
		if (hl) {
			char tok[SANITIZE_TOKEN_MAX];
			int tn = snprintf(tok, sizeof tok, "[sensor %s]", s->hostpub[which]);
			sb_put(&b, tok, (size_t)tn);
			nrep++;
			i += hl;
			continue;
		}
		if (!run_char(text[i])) {
			sb_put(&b, text + i, 1);
			i++;
			continue;
		}
		size_t j = i;
		while (j < len && run_char(text[j]))
			j++;
		/* A run glued to letters ("abc0000211") is still checked: false
		 * positives are the safe direction. */
		nrep += sanitize_run(s, text + i, j - i, &b);
		i = j;
	}
	if (b.rc) {
		free(b.p);
		*out = NULL;
		return b.rc;
	}
	*out = b.p;
	if (outlen)
		*outlen = b.n;
	if (replaced)
		*replaced = nrep;
	return 0;
}
