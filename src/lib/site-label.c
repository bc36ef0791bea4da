/* site-label.c: readable labels and stable colours of keys. */
#include "site-label.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct country {
	char code[3];
	char *name;
};

struct site_labels {
	struct country *cc;
	size_t ncc;
	/* nmap-services names, index port (0..65535) per protocol; NULL none */
	char **nmap[2];
};

/* ---- iso-codes --------------------------------------------------------- */

/* Read a JSON string starting after its opening quote; at most `cap`
 * bytes of input.  The iso-codes file holds UTF-8 text with few escapes:
 * \" \\ \/ are kept as the character, \uXXXX below 0x80 as the byte and
 * others as '?'. Returns the end (after the closing quote) or NULL. */
static const char *json_string(const char *p, const char *end, char *out, size_t cap)
{
	size_t w = 0;
	while (p < end && *p != '"') {
		char ch = *p++;
		if (ch == '\\') {
			if (p >= end)
				return NULL;
			char e = *p++;
			if (e == 'u') {
				if (end - p < 4)
					return NULL;
				unsigned v = 0;
				for (int i = 0; i < 4; i++) {
					int x = p[i];
					v = v * 16 + (unsigned)(isdigit(x) ? x - '0' : (tolower(x) - 'a' + 10));
				}
				p += 4;
				ch = v < 0x80 ? (char)v : '?';
			} else {
				ch = e == 'n' ? ' ' : e == 't' ? ' ' : e;
			}
		}
		if (w + 1 < cap)
			out[w++] = ch;
	}
	if (p >= end)
		return NULL;
	out[w] = 0;
	return p + 1;
}

static int cmp_country(const void *a, const void *b)
{
	return strcmp(((const struct country *)a)->code, ((const struct country *)b)->code);
}

/* The file is a flat list of objects of string members; a tiny scanner
 * is enough (libvigia links no JSON parser).  Prefer "common_name"
 * ("Bolivia") over "name" ("Bolivia, Plurinational State of"). */
static void load_iso(struct site_labels *l, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return;
	char *buf = malloc(4u << 20);
	size_t n = buf ? fread(buf, 1, (4u << 20) - 1, f) : 0;
	fclose(f);
	if (!buf)
		return;
	buf[n] = 0;
	const char *p = buf, *end = buf + n;
	char code[8] = "", name[128] = "", common[128] = "", k[32], v[128];
	size_t cap = 0;
	while (p < end) {
		if (*p == '}') {
			if (strlen(code) == 2 && (*name || *common)) {
				if (l->ncc == cap) {
					cap = cap ? cap * 2 : 256;
					struct country *nc = realloc(l->cc, cap * sizeof *nc);
					if (!nc)
						break;
					l->cc = nc;
				}
				struct country *c = &l->cc[l->ncc];
				memcpy(c->code, code, 3);
				if ((c->name = strdup(*common ? common : name)))
					l->ncc++;
			}
			code[0] = name[0] = common[0] = 0;
			p++;
			continue;
		}
		if (*p != '"') {
			p++;
			continue;
		}
		const char *q = json_string(p + 1, end, k, sizeof k);
		if (!q)
			break;
		while (q < end && (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r'))
			q++;
		if (q >= end || *q != ':') {
			p = q;
			continue;
		}
		q++;
		while (q < end && (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r'))
			q++;
		if (q >= end || *q != '"') {
			p = q;
			continue;
		}
		q = json_string(q + 1, end, v, sizeof v);
		if (!q)
			break;
		if (!strcmp(k, "alpha_2")) {
			size_t vl = strlen(v);
			if (vl < sizeof code)
				memcpy(code, v, vl + 1);
		}
		else if (!strcmp(k, "name"))
			snprintf(name, sizeof name, "%s", v);
		else if (!strcmp(k, "common_name"))
			snprintf(common, sizeof common, "%s", v);
		p = q;
	}
	free(buf);
	if (l->ncc)
		qsort(l->cc, l->ncc, sizeof *l->cc, cmp_country);
}

/* ---- nmap-services ------------------------------------------------------ */

static void load_nmap(struct site_labels *l, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	l->nmap[0] = calloc(65536, sizeof(char *));
	l->nmap[1] = calloc(65536, sizeof(char *));
	char line[512];
	while (l->nmap[0] && l->nmap[1] && fgets(line, sizeof line, f)) {
		char name[64], proto[8];
		unsigned port;
		if (line[0] == '#' || sscanf(line, "%63s %u/%7s", name, &port, proto) != 3)
			continue;
		int pi = !strcmp(proto, "tcp") ? 0 : !strcmp(proto, "udp") ? 1 : -1;
		if (pi < 0 || port > 65535 || !strcmp(name, "unknown") || l->nmap[pi][port])
			continue;
		l->nmap[pi][port] = strdup(name);
	}
	fclose(f);
}

struct site_labels *site_labels_new(const char *iso_json, const char *nmap_services)
{
	struct site_labels *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	load_iso(l, iso_json ? iso_json : SITE_ISO3166_JSON);
	load_nmap(l, nmap_services ? nmap_services : SITE_NMAP_SERVICES);
	return l;
}

void site_labels_free(struct site_labels *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->ncc; i++)
		free(l->cc[i].name);
	free(l->cc);
	for (int p = 0; p < 2; p++) {
		if (l->nmap[p])
			for (unsigned i = 0; i < 65536; i++)
				free(l->nmap[p][i]);
		free(l->nmap[p]);
	}
	free(l);
}

const char *site_country_name(const struct site_labels *l, const char *code)
{
	struct country probe;
	snprintf(probe.code, sizeof probe.code, "%s", code);
	const struct country *c = l->ncc ? bsearch(&probe, l->cc, l->ncc, sizeof *l->cc,
						  cmp_country) : NULL;
	return c ? c->name : NULL;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

const char *site_label(struct site_labels *l, enum db_category c, const char *key,
		       char *buf, size_t len)
{
	if (!strcmp(key, "Others")) {
		snprintf(buf, len, "Others");
		return buf;
	}
	switch (c) {
	case DB_TCP_PORT:
	case DB_UDP_PORT: {
		const char *proto = c == DB_TCP_PORT ? "tcp" : "udp";
		unsigned long port = all_digits(key) ? strtoul(key, NULL, 10) : 70000;
		const char *name = NULL;
		if (port <= 65535) {
			/* getservbyport reads /etc/services (netbase); nmap's
			 * list names many more ports that scanners hit. */
			struct servent *se = getservbyport(htons((uint16_t)port), proto);
			if (se && se->s_name)
				name = se->s_name;
			else if (l && l->nmap[c == DB_TCP_PORT ? 0 : 1])
				name = l->nmap[c == DB_TCP_PORT ? 0 : 1][port];
		}
		if (name)
			snprintf(buf, len, "%s/%s (%s)", key, proto, name);
		else
			snprintf(buf, len, "%s/%s", key, proto);
		return buf;
	}
	case DB_COUNTRY: {
		if (!strcmp(key, "--")) {
			snprintf(buf, len, "-- unknown");
			return buf;
		}
		const char *name = l ? site_country_name(l, key) : NULL;
		if (name)
			snprintf(buf, len, "%s %s", key, name);
		else
			snprintf(buf, len, "%s", key);
		return buf;
	}
	default:
		if (!strcmp(key, "unknown"))
			snprintf(buf, len, "unknown (no SYN fingerprint)");
		else
			snprintf(buf, len, "%s", key);
		return buf;
	}
}

/* ---- colours ------------------------------------------------------------ */

/* Twenty colours far apart on white and from each other (after Kelly's
 * and Tableau's lists), darker first so the largest layers read well. */
const uint32_t site_palette[SITE_PALETTE_N] = {
	0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
	0x8c564b, 0xe377c2, 0x17becf, 0xbcbd22, 0x393b79,
	0xaec7e8, 0xffbb78, 0x98df8a, 0xff9896, 0xc5b0d5,
	0xc49c94, 0xf7b6d2, 0x9edae5, 0xdbdb8d, 0x637939,
};

struct pin {
	const char *key;
	int slot;
};
/* Keys that lead the public graphs most days: each its own slot. */
static const struct pin pins_tcp[] = {
	{"445", 0}, {"135", 1}, {"139", 2}, {"80", 3}, {"1433", 4}, {"22", 5},
	{"23", 6}, {"3389", 7}, {"25", 8}, {"8080", 9}, {"443", 10}, {"3306", 11},
	{"5900", 12}, {"21", 13}, {"4899", 14}, {"1025", 15}, {"2967", 16}, {"5060", 17},
};
static const struct pin pins_udp[] = {
	{"1434", 0}, {"137", 1}, {"53", 2}, {"1026", 3}, {"1027", 4}, {"123", 5},
	{"161", 6}, {"5060", 7}, {"500", 8}, {"1900", 9}, {"69", 10}, {"138", 11},
};
static const struct pin pins_country[] = {
	{"US", 0}, {"CN", 1}, {"BR", 2}, {"RU", 3}, {"DE", 4}, {"KR", 5}, {"TW", 6},
	{"JP", 7}, {"FR", 8}, {"GB", 9}, {"IN", 10}, {"NL", 11}, {"IT", 12}, {"CA", 13},
	{"ES", 14}, {"PL", 15}, {"AR", 16}, {"MX", 17}, {"--", 18}, {"VN", 19},
};
static const struct pin pins_os[] = {
	{"Windows XP", 0}, {"Windows 7 or 8", 1}, {"Linux 2.6.x", 2}, {"Linux 3.x", 3},
	{"Windows NT kernel", 4}, {"Linux 2.4.x", 5}, {"FreeBSD", 6}, {"Mac OS X", 7},
	{"Linux 2.2.x-3.x", 8}, {"Solaris", 9}, {"unknown", 10}, {"Linux 3.11 and newer", 11},
	{"Windows 2000", 12}, {"OpenBSD", 13},
};

static uint32_t fnv1a(const char *a, const char *b)
{
	uint32_t h = 2166136261u;
	for (const char *s = a; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	h = (h ^ ':') * 16777619u;
	for (const char *s = b; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

int site_colour_home(enum db_category c, const char *key, int *pinned)
{
	const struct pin *p = NULL;
	size_t n = 0;
	switch (c) {
	case DB_TCP_PORT: p = pins_tcp; n = sizeof pins_tcp / sizeof *p; break;
	case DB_UDP_PORT: p = pins_udp; n = sizeof pins_udp / sizeof *p; break;
	case DB_COUNTRY: p = pins_country; n = sizeof pins_country / sizeof *p; break;
	default: p = pins_os; n = sizeof pins_os / sizeof *p; break;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(p[i].key, key)) {
			if (pinned)
				*pinned = 1;
			return p[i].slot;
		}
	if (pinned)
		*pinned = 0;
	return (int)(fnv1a(db_category_name(c), key) % SITE_PALETTE_N);
}

void site_colour_assign(enum db_category c, const char *const *keys, size_t n, int *slot)
{
	bool used[SITE_PALETTE_N] = {false};
	int home[SITE_PALETTE_N], pinned[SITE_PALETTE_N];
	if (n > SITE_PALETTE_N)
		n = SITE_PALETTE_N;
	for (size_t i = 0; i < n; i++) {
		home[i] = site_colour_home(c, keys[i], &pinned[i]);
		slot[i] = -1;
	}
	/* Pinned keys first: their slots are distinct by construction. */
	for (size_t i = 0; i < n; i++)
		if (pinned[i]) {
			slot[i] = home[i];
			used[home[i]] = true;
		}
	for (size_t i = 0; i < n; i++) {
		if (slot[i] >= 0)
			continue;
		/* The probe step depends on the key alone (odd-ish stride in
		 * 1..19, coprime with 20 when odd and not 5 or 15), so a
		 * displaced key lands on the same second choice every day. */
		uint32_t h2 = fnv1a("step", keys[i]);
		static const int steps[8] = {1, 3, 7, 9, 11, 13, 17, 19};
		int step = steps[h2 % 8];
		int s = home[i];
		for (int k = 0; k < SITE_PALETTE_N && used[s]; k++)
			s = (s + step) % SITE_PALETTE_N;
		slot[i] = s;
		used[s] = true;
	}
}
