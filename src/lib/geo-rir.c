/* geo-rir.c: source country from the RIR statistics exchange files.
 *
 * Written by hand because no Debian library reads the RIR "delegated"
 * format; libc's inet_pton does the address syntax.  The whole file is
 * read into memory and split with memchr, without per-line allocation,
 * because the five files together are some 10 MB and the analysis wants
 * them loaded in well under a second.
 *
 * Overlaps.  The registries' files can disagree (a block transferred
 * from one RIR to another appears in both, at different dates), so
 * finalize resolves every address to exactly one record:
 *   1. the more specific record wins: the one covering fewer addresses
 *      (an IPv4 /24 inside an IPv4 /17, an IPv6 /48 inside a /32);
 *      a larger range is split around the smaller one as needed;
 *   2. between records of the same size, the one from the file with
 *      the later date in its version line wins (a 2024 LACNIC file
 *      knows about a block transferred from APNIC after APNIC's 2014
 *      file was written), so the result does not depend on the order
 *      the files are given in;
 *   3. if that is equal too (or a file has no version line), the
 *      record loaded later wins (later file, or later line).
 *
 * Holder ASN.  The extended files end every ipv4, ipv6 and asn line with
 * an opaque id of the holder (the organisation), the same on its address
 * and AS lines.  Loading interns (registry, opaque id) and notes each
 * allocated/assigned AS line; finalize gives each address record the
 * lowest AS number of its holder (a holder with several ASes: the lowest,
 * so that the answer depends neither on line nor on file order) and the
 * sweep carries it like the country, so a lookup is still one binary
 * search.  This is who holds the space, not which AS originates it in
 * BGP: no routing data is used.  No AS line for the holder, or a plain
 * (not extended) file: 0, unknown.
 */
#include "geo-rir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Both families are resolved on 128-bit keys so the overlap sweep is
 * written once; IPv4 addresses live in `lo`. */
struct u128 {
	uint64_t hi, lo;
};

/* One kept delegation record, as loaded. */
struct raw_rec {
	struct u128 start, end;  /* inclusive */
	uint64_t size_key;       /* smaller = more specific (v4: count, v6: 128-len) */
	uint32_t file_date;      /* YYYYMMDD from the version line, 0 if none */
	uint32_t seq;            /* load order, for the last tie rule */
	uint32_t hold;           /* before finalize: holder index + 1 (0: none);
				    then: the holder's ASN (0: unknown) */
	uint16_t cc;
};

struct rec_vec {
	struct raw_rec *v;
	size_t n, cap;
};

/* Holders: "registry|opaque-id" strings interned into one arena. */
struct holder {
	uint32_t off, len;       /* in names */
};

/* An AS line: holder index and the AS number. */
struct as_note {
	uint32_t holder, asn;
};

struct geo_db {
	/* before finalize */
	struct rec_vec raw4, raw6;
	uint32_t seq;
	bool finalized;
	char *names;
	size_t names_len, names_cap;
	struct holder *hold;
	uint32_t nhold, caphold;
	uint32_t *hslot;         /* UINT32_MAX empty; index into hold */
	size_t nhslots;          /* a power of two */
	struct as_note *asn;
	size_t nasn, capasn;

	/* after finalize: IPv4 in struct-of-arrays form (the search reads
	 * only starts), plus a /16 index: idx4[p] = number of ranges whose
	 * start is below p << 16. */
	uint32_t *s4, *e4;
	uint16_t *c4;
	uint32_t *a4;   /* holder ASN, 0 unknown */
	size_t n4;
	uint32_t *idx4; /* 65537 entries */

	struct u128 *s6, *e6;
	uint16_t *c6;
	uint32_t *a6;
	size_t n6;
};

/* ---- 128-bit helpers ------------------------------------------------ */

static int u128_cmp(struct u128 a, struct u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

static bool u128_is_max(struct u128 a)
{
	return a.hi == UINT64_MAX && a.lo == UINT64_MAX;
}

static struct u128 u128_inc(struct u128 a)
{
	a.lo++;
	if (a.lo == 0)
		a.hi++;
	return a;
}

static struct u128 u128_dec(struct u128 a)
{
	if (a.lo == 0)
		a.hi--;
	a.lo--;
	return a;
}

static struct u128 u128_from_bytes(const uint8_t b[16])
{
	struct u128 r = {0, 0};
	for (int i = 0; i < 8; i++)
		r.hi = r.hi << 8 | b[i];
	for (int i = 8; i < 16; i++)
		r.lo = r.lo << 8 | b[i];
	return r;
}

/* ---- construction --------------------------------------------------- */

struct geo_db *geo_db_new(void)
{
	return calloc(1, sizeof(struct geo_db));
}

static void free_holders(struct geo_db *db)
{
	free(db->names);
	free(db->hold);
	free(db->hslot);
	free(db->asn);
	db->names = NULL;
	db->hold = NULL;
	db->hslot = NULL;
	db->asn = NULL;
	db->names_len = db->names_cap = db->nhslots = db->nasn = db->capasn = 0;
	db->nhold = db->caphold = 0;
}

static void free_tables(struct geo_db *db)
{
	free(db->s4);
	free(db->e4);
	free(db->c4);
	free(db->a4);
	free(db->idx4);
	free(db->s6);
	free(db->e6);
	free(db->c6);
	free(db->a6);
	db->a4 = db->a6 = NULL;
	db->s4 = db->e4 = db->idx4 = NULL;
	db->c4 = db->c6 = NULL;
	db->s6 = db->e6 = NULL;
	db->n4 = db->n6 = 0;
}

void geo_db_free(struct geo_db *db)
{
	if (!db)
		return;
	free(db->raw4.v);
	free(db->raw6.v);
	free_holders(db);
	free_tables(db);
	free(db);
}

static int vec_push(struct rec_vec *vec, const struct raw_rec *r)
{
	if (vec->n == vec->cap) {
		size_t cap = vec->cap ? vec->cap * 2 : 4096;
		struct raw_rec *v = realloc(vec->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		vec->v = v;
		vec->cap = cap;
	}
	vec->v[vec->n++] = *r;
	return 0;
}

/* ---- line parsing --------------------------------------------------- */

struct field {
	const char *p;
	size_t len;
};

/* The first 7 fields and the extended format's opaque id (the 8th); the
 * extensions after it are counted, not kept. */
#define NFIELDS_KEPT 8

static bool field_is(struct field f, const char *lit)
{
	size_t n = strlen(lit);
	if (f.len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = f.p[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lit[i])
			return false;
	}
	return true;
}

/* A field quoted into an error message: bounded and printable, since the
 * line may be anything. */
static const char *show(struct field f, char buf[48])
{
	size_t n = f.len < 40 ? f.len : 40, o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)f.p[i];
		buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (f.len > n) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* Plain decimal, digits only; false if empty, not digits or > 2^63. */
static bool parse_u64(struct field f, uint64_t *out)
{
	uint64_t v = 0;
	if (f.len == 0 || f.len > 19)
		return false;
	for (size_t i = 0; i < f.len; i++) {
		unsigned d = (unsigned char)f.p[i] - '0';
		if (d > 9)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool parse_addr(int af, struct field f, uint8_t out[16])
{
	char buf[INET6_ADDRSTRLEN];
	if (f.len == 0 || f.len >= sizeof buf)
		return false;
	memcpy(buf, f.p, f.len);
	buf[f.len] = '\0';
	return inet_pton(af, buf, out) == 1;
}

/* Version line: first field "2" or "2.3" (digits and dots). */
static bool looks_like_version(struct field f)
{
	if (f.len == 0)
		return false;
	for (size_t i = 0; i < f.len; i++)
		if (!((f.p[i] >= '0' && f.p[i] <= '9') || f.p[i] == '.'))
			return false;
	return true;
}

/* FNV-1a over "registry|id", without building the string. */
static uint32_t holder_hash(struct field reg, struct field id)
{
	uint32_t x = 2166136261u;
	for (size_t i = 0; i < reg.len; i++)
		x = (x ^ (unsigned char)reg.p[i]) * 16777619u;
	x = (x ^ '|') * 16777619u;
	for (size_t i = 0; i < id.len; i++)
		x = (x ^ (unsigned char)id.p[i]) * 16777619u;
	return x;
}

static bool holder_eq(const struct geo_db *db, const struct holder *h, struct field reg,
		      struct field id)
{
	const char *s = db->names + h->off;
	return h->len == reg.len + 1 + id.len && !memcmp(s, reg.p, reg.len) && s[reg.len] == '|' &&
	       !memcmp(s + reg.len + 1, id.p, id.len);
}

static int holder_rehash(struct geo_db *db)
{
	size_t ns = db->nhslots ? db->nhslots * 2 : 4096;
	uint32_t *sl = malloc(ns * sizeof *sl);
	if (!sl)
		return -ENOMEM;
	memset(sl, 0xff, ns * sizeof *sl);
	for (uint32_t i = 0; i < db->nhold; i++) {
		const struct holder *h = &db->hold[i];
		const char *s = db->names + h->off;
		const char *bar = memchr(s, '|', h->len);
		struct field reg = {s, (size_t)(bar - s)};
		struct field id = {bar + 1, h->len - reg.len - 1};
		size_t j = holder_hash(reg, id) & (ns - 1);
		while (sl[j] != UINT32_MAX)
			j = (j + 1) & (ns - 1);
		sl[j] = i;
	}
	free(db->hslot);
	db->hslot = sl;
	db->nhslots = ns;
	return 0;
}

/* The holder index + 1 of (registry, opaque id), added on first sight;
 * 0 for a line without an id (a plain file); -ENOMEM. */
static int64_t holder_of(struct geo_db *db, struct field reg, struct field id)
{
	if (id.len == 0 || reg.len > 64 || id.len > 256)
		return 0;
	if ((db->nhold + 1) * 2 > db->nhslots && holder_rehash(db))
		return -ENOMEM;
	size_t j = holder_hash(reg, id) & (db->nhslots - 1);
	while (db->hslot[j] != UINT32_MAX) {
		if (holder_eq(db, &db->hold[db->hslot[j]], reg, id))
			return (int64_t)db->hslot[j] + 1;
		j = (j + 1) & (db->nhslots - 1);
	}
	size_t need = reg.len + 1 + id.len;
	if (db->names_len + need > db->names_cap) {
		size_t cap = db->names_cap ? db->names_cap * 2 : 65536;
		while (cap < db->names_len + need)
			cap *= 2;
		char *nn = realloc(db->names, cap);
		if (!nn)
			return -ENOMEM;
		db->names = nn;
		db->names_cap = cap;
	}
	if (db->nhold == db->caphold) {
		uint32_t cap = db->caphold ? db->caphold * 2 : 4096;
		struct holder *nh = realloc(db->hold, cap * sizeof *nh);
		if (!nh)
			return -ENOMEM;
		db->hold = nh;
		db->caphold = cap;
	}
	char *d = db->names + db->names_len;
	memcpy(d, reg.p, reg.len);
	d[reg.len] = '|';
	memcpy(d + reg.len + 1, id.p, id.len);
	db->hold[db->nhold] = (struct holder){(uint32_t)db->names_len, (uint32_t)need};
	db->names_len += need;
	db->hslot[j] = db->nhold;
	return (int64_t)++db->nhold;
}

/* An asn line of an extended file: its holder's AS.  AS lines were never
 * errors (only addresses matter for countries), so one that does not
 * parse is skipped, not reported. */
static int note_asn(struct geo_db *db, const struct field *f, size_t nf)
{
	uint64_t asn;
	if (nf < 8 || !parse_u64(f[3], &asn) || asn == 0 || asn > UINT32_MAX ||
	    (!field_is(f[6], "allocated") && !field_is(f[6], "assigned")))
		return 0;
	int64_t h = holder_of(db, f[0], f[7]);
	if (h <= 0)
		return (int)h;
	if (db->nasn == db->capasn) {
		size_t cap = db->capasn ? db->capasn * 2 : 4096;
		struct as_note *na = realloc(db->asn, cap * sizeof *na);
		if (!na)
			return -ENOMEM;
		db->asn = na;
		db->capasn = cap;
	}
	db->asn[db->nasn++] = (struct as_note){(uint32_t)(h - 1), (uint32_t)asn};
	return 0;
}

/* Parse one ipv4/ipv6 record (fields already split) and push it if kept.
 * Returns 0, or a negative errno with `err` set. */
static int parse_ip_record(struct geo_db *db, const char *name, size_t lineno,
			   uint32_t file_date, bool v6, const struct field *f,
			   size_t nf, struct vg_err *err)
{
	const char *fam = v6 ? "ipv6" : "ipv4";
	char sb[48];
	struct raw_rec r;
	uint64_t value;

	if (nf < 7)
		return vg_err_set(err, -EINVAL,
				  "%s: line %zu: %s record has %zu fields, expected at least 7",
				  name, lineno, fam, nf);

	if (!v6) {
		uint8_t a[16];
		if (!parse_addr(AF_INET, f[3], a))
			return vg_err_set(err, -EINVAL,
					  "%s: line %zu: ipv4 start '%s' is not an IPv4 address",
					  name, lineno, show(f[3], sb));
		if (!parse_u64(f[4], &value))
			return vg_err_set(err, -EINVAL,
					  "%s: line %zu: ipv4 count '%s' is not a number",
					  name, lineno, show(f[4], sb));
		if (value == 0)
			return vg_err_set(err, -EINVAL,
					  "%s: line %zu: ipv4 count is 0", name, lineno);
		uint64_t start = (uint64_t)a[0] << 24 | (uint64_t)a[1] << 16 |
				 (uint64_t)a[2] << 8 | a[3];
		if (value > (UINT64_C(1) << 32) - start)
			return vg_err_set(err, -EINVAL,
					  "%s: line %zu: ipv4 range %.*s + %" PRIu64
					  " runs past 255.255.255.255",
					  name, lineno, (int)(f[3].len), f[3].p, value);
		r.start = (struct u128){0, start};
		r.end = (struct u128){0, start + value - 1};
		r.size_key = value;
	} else {
		uint8_t a[16];
		if (!parse_addr(AF_INET6, f[3], a))
			return vg_err_set(err, -EINVAL,
					  "%s: line %zu: ipv6 start '%s' is not an IPv6 address",
					  name, lineno, show(f[3], sb));
		if (!parse_u64(f[4], &value))
			return vg_err_set(err, -EINVAL,
					  "%s: line %zu: ipv6 prefix length '%s' is not a number",
					  name, lineno, show(f[4], sb));
		if (value > 128)
			return vg_err_set(err, -EINVAL,
					  "%s: line %zu: ipv6 prefix length %" PRIu64
					  " is larger than 128", name, lineno, value);
		/* The record covers 2^(128-len) addresses from its start, the
		 * same reading as an IPv4 count; a start that is not aligned
		 * is accepted as long as the range stays inside the space. */
		unsigned hostbits = 128u - (unsigned)value;
		struct u128 mask = {0, 0};
		if (hostbits >= 64) {
			mask.lo = UINT64_MAX;
			mask.hi = hostbits == 128 ? UINT64_MAX
						  : (UINT64_C(1) << (hostbits - 64)) - 1;
		} else {
			mask.lo = hostbits ? (UINT64_C(1) << hostbits) - 1 : 0;
		}
		struct u128 s = u128_from_bytes(a), e;
		e.lo = s.lo + mask.lo;
		uint64_t carry = e.lo < s.lo;
		uint64_t hi1 = s.hi + mask.hi;
		e.hi = hi1 + carry;
		bool overflow = hi1 < s.hi || e.hi < hi1;
		if (overflow)
			return vg_err_set(err, -EINVAL,
					  "%s: line %zu: ipv6 range %.*s/%" PRIu64
					  " runs past the end of the address space",
					  name, lineno, (int)(f[3].len), f[3].p, value);
		r.start = s;
		r.end = e;
		r.size_key = hostbits;
	}

	/* Valid record: keep only delegated space with a known country. */
	if (!field_is(f[6], "allocated") && !field_is(f[6], "assigned"))
		return 0;
	if (f[1].len == 0 || field_is(f[1], "zz"))
		return 0;
	if (f[1].len != 2)
		return vg_err_set(err, -EINVAL,
				  "%s: line %zu: country code '%s' is not two letters",
				  name, lineno, show(f[1], sb));
	char c0 = f[1].p[0], c1 = f[1].p[1];
	if (c0 >= 'a' && c0 <= 'z')
		c0 = (char)(c0 - 'a' + 'A');
	if (c1 >= 'a' && c1 <= 'z')
		c1 = (char)(c1 - 'a' + 'A');
	if (c0 < 'A' || c0 > 'Z' || c1 < 'A' || c1 > 'Z')
		return vg_err_set(err, -EINVAL,
				  "%s: line %zu: country code '%s' is not two letters",
				  name, lineno, show(f[1], sb));
	r.cc = (uint16_t)((unsigned char)c0 << 8 | (unsigned char)c1);
	r.file_date = file_date;
	int64_t h = nf >= 8 ? holder_of(db, f[0], f[7]) : 0;
	if (h < 0)
		return vg_err_set(err, -ENOMEM, "%s: line %zu: out of memory", name, lineno);
	r.hold = (uint32_t)h;
	r.seq = db->seq++;
	if (vec_push(v6 ? &db->raw6 : &db->raw4, &r) < 0)
		return vg_err_set(err, -ENOMEM, "%s: line %zu: out of memory",
				  name, lineno);
	return 0;
}

int geo_db_load_buf(struct geo_db *db, const char *name, const char *buf,
		    size_t len, struct vg_err *err)
{
	if (!db || (!buf && len))
		return vg_err_set(err, -EINVAL, "%s: invalid arguments",
				  name ? name : "(null)");
	if (!name)
		name = "(buffer)";
	if (db->finalized)
		return vg_err_set(err, -EINVAL,
				  "%s: cannot load after geo_db_finalize", name);
	if (len > GEO_RIR_MAX_FILE_BYTES)
		return vg_err_set(err, -EFBIG,
				  "%s: %zu bytes is larger than the %u MiB limit",
				  name, len, GEO_RIR_MAX_FILE_BYTES >> 20);

	/* A failed file leaves the database as it was before the call. */
	size_t n4_before = db->raw4.n, n6_before = db->raw6.n, nasn_before = db->nasn;
	uint32_t seq_before = db->seq;
	const char *p = buf, *end = buf + len;
	size_t lineno = 0;
	bool seen_header = false;
	uint32_t file_date = 0;
	int rc = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *next = nl ? nl + 1 : end;
		lineno++;
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p || *p == '#') {
			p = next;
			continue;
		}

		struct field f[NFIELDS_KEPT];
		size_t nf = 0;
		const char *q = p;
		for (;;) {
			const char *bar = memchr(q, '|', (size_t)(le - q));
			const char *fe = bar ? bar : le;
			if (nf < NFIELDS_KEPT)
				f[nf] = (struct field){q, (size_t)(fe - q)};
			nf++;
			if (!bar)
				break;
			q = bar + 1;
		}
		p = next;

		if (!seen_header) {
			seen_header = true;
			if (looks_like_version(f[0])) {
				uint64_t d;
				/* version|registry|serial|records|startdate|enddate|UTCoffset;
				 * a date that is not YYYYMMDD only loses the tie rule */
				if (nf >= 6 && f[5].len == 8 && parse_u64(f[5], &d))
					file_date = (uint32_t)d;
				continue;
			}
		}
		if (nf < 3) {
			char sb[48];
			rc = vg_err_set(err, -EINVAL,
					"%s: line %zu: '%s' is not a record "
					"(expected '|'-separated fields)",
					name, lineno,
					show((struct field){f[0].p, (size_t)(le - f[0].p)}, sb));
			goto fail;
		}
		if ((nf >= 6 && field_is(f[5], "summary")) ||
		    (f[1].len == 1 && f[1].p[0] == '*'))
			continue;
		bool v4 = field_is(f[2], "ipv4"), v6 = field_is(f[2], "ipv6");
		if (!v4 && !v6) {
			if (field_is(f[2], "asn") && note_asn(db, f, nf) < 0) {
				rc = vg_err_set(err, -ENOMEM, "%s: line %zu: out of memory",
						name, lineno);
				goto fail;
			}
			continue; /* or a type this format may grow */
		}
		rc = parse_ip_record(db, name, lineno, file_date, v6, f, nf, err);
		if (rc < 0)
			goto fail;
	}
	return 0;

fail:
	/* Holders the file interned stay, unused: harmless. */
	db->raw4.n = n4_before;
	db->raw6.n = n6_before;
	db->nasn = nasn_before;
	db->seq = seq_before;
	return rc;
}

int geo_db_load_file(struct geo_db *db, const char *path, struct vg_err *err)
{
	if (!db || !path)
		return vg_err_set(err, -EINVAL, "geo_db_load_file: invalid arguments");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		return vg_err_set(err, -e, "%s: cannot open: %s", path, strerror(e));
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return vg_err_set(err, -e, "%s: cannot stat: %s", path, strerror(e));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return vg_err_set(err, -EISDIR, "%s: is a directory", path);
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > GEO_RIR_MAX_FILE_BYTES) {
		close(fd);
		return vg_err_set(err, -EFBIG,
				  "%s: file is %jd bytes, larger than the %u MiB limit",
				  path, (intmax_t)st.st_size, GEO_RIR_MAX_FILE_BYTES >> 20);
	}

	/* The size is only a hint (pipes have none, files can grow); the
	 * limit is enforced on what is actually read. */
	size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 1 << 20;
	size_t len = 0;
	char *buf = malloc(cap);
	int rc = 0;
	if (!buf) {
		close(fd);
		return vg_err_set(err, -ENOMEM, "%s: out of memory", path);
	}
	for (;;) {
		if (len == cap) {
			if (cap > GEO_RIR_MAX_FILE_BYTES) {
				rc = vg_err_set(err, -EFBIG,
						"%s: more than the %u MiB limit",
						path, GEO_RIR_MAX_FILE_BYTES >> 20);
				goto out;
			}
			size_t ncap = cap * 2;
			if (ncap > (size_t)GEO_RIR_MAX_FILE_BYTES + 1)
				ncap = (size_t)GEO_RIR_MAX_FILE_BYTES + 1;
			char *nb = realloc(buf, ncap);
			if (!nb) {
				rc = vg_err_set(err, -ENOMEM, "%s: out of memory", path);
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			rc = vg_err_set(err, -e, "%s: byte %zu: read error: %s",
					path, len, strerror(e));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > GEO_RIR_MAX_FILE_BYTES) {
		rc = vg_err_set(err, -EFBIG, "%s: more than the %u MiB limit",
				path, GEO_RIR_MAX_FILE_BYTES >> 20);
		goto out;
	}
	rc = geo_db_load_buf(db, path, buf, len, err);
out:
	free(buf);
	close(fd);
	return rc;
}

/* ---- finalize: resolve overlaps, merge, build tables ----------------- */

static int cmp_start(const void *a, const void *b)
{
	const struct raw_rec *x = a, *y = b;
	int c = u128_cmp(x->start, y->start);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Heap order: the record that should win sits on top. */
static bool beats(const struct raw_rec *a, const struct raw_rec *b)
{
	if (a->size_key != b->size_key)
		return a->size_key < b->size_key;
	if (a->file_date != b->file_date)
		return a->file_date > b->file_date;
	return a->seq > b->seq;
}

struct heap {
	const struct raw_rec **v;
	size_t n;
};

static void heap_push(struct heap *h, const struct raw_rec *r)
{
	size_t i = h->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!beats(r, h->v[parent]))
			break;
		h->v[i] = h->v[parent];
		i = parent;
	}
	h->v[i] = r;
}

static void heap_pop(struct heap *h)
{
	const struct raw_rec *last = h->v[--h->n];
	size_t i = 0, n = h->n;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && beats(h->v[c + 1], h->v[c]))
			c++;
		if (!beats(h->v[c], last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (n)
		h->v[i] = last;
}

struct seg {
	struct u128 start, end;
	uint32_t asn;
	uint16_t cc;
};

/* Sweep the address space left to right.  At each point the winner is
 * the top of a heap of the records covering it; the winner holds until
 * it ends or another record starts, which bounds each emitted segment.
 * Records that have ended are dropped lazily when they reach the top.
 * Output: disjoint segments in order, adjacent same-country ones merged.
 * O(n log n). */
static int resolve(struct rec_vec *in, struct seg **out, size_t *nout)
{
	*out = NULL;
	*nout = 0;
	if (in->n == 0)
		return 0;
	qsort(in->v, in->n, sizeof in->v[0], cmp_start);

	struct heap h = {malloc(in->n * sizeof(*h.v)), 0};
	/* each record adds at most two boundaries, hence 2n segments */
	struct seg *s = malloc(2 * in->n * sizeof *s);
	if (!h.v || !s) {
		free(h.v);
		free(s);
		return -ENOMEM;
	}
	size_t ns = 0, i = 0, n = in->n;
	struct u128 pos = in->v[0].start;

	for (;;) {
		while (i < n && u128_cmp(in->v[i].start, pos) <= 0)
			heap_push(&h, &in->v[i++]);
		while (h.n && u128_cmp(h.v[0]->end, pos) < 0)
			heap_pop(&h);
		if (!h.n) {
			if (i == n)
				break;
			pos = in->v[i].start;
			continue;
		}
		const struct raw_rec *w = h.v[0];
		struct u128 segend = w->end;
		if (i < n && u128_cmp(in->v[i].start, segend) <= 0)
			segend = u128_dec(in->v[i].start);
		if (ns && s[ns - 1].cc == w->cc && s[ns - 1].asn == w->hold &&
		    u128_cmp(u128_inc(s[ns - 1].end), pos) == 0)
			s[ns - 1].end = segend;
		else
			s[ns++] = (struct seg){pos, segend, w->hold, w->cc};
		if (u128_is_max(segend))
			break;
		pos = u128_inc(segend);
	}
	free(h.v);
	*out = s;
	*nout = ns;
	return 0;
}

int geo_db_finalize(struct geo_db *db, struct vg_err *err)
{
	if (!db)
		return vg_err_set(err, -EINVAL, "geo_db_finalize: no database");
	if (db->finalized)
		return vg_err_set(err, -EINVAL, "geo_db_finalize: already finalized");

	struct seg *s4 = NULL, *s6 = NULL;
	size_t n4 = 0, n6 = 0;
	/* Each holder's lowest AS, then each record's holder becomes it. */
	uint32_t *low = calloc(db->nhold ? db->nhold : 1, sizeof *low);
	if (!low)
		goto oom;
	for (size_t i = 0; i < db->nasn; i++) {
		uint32_t *l = &low[db->asn[i].holder];
		if (!*l || db->asn[i].asn < *l)
			*l = db->asn[i].asn;
	}
	for (size_t i = 0; i < db->raw4.n; i++)
		db->raw4.v[i].hold = db->raw4.v[i].hold ? low[db->raw4.v[i].hold - 1] : 0;
	for (size_t i = 0; i < db->raw6.n; i++)
		db->raw6.v[i].hold = db->raw6.v[i].hold ? low[db->raw6.v[i].hold - 1] : 0;
	free(low);
	if (resolve(&db->raw4, &s4, &n4) < 0 || resolve(&db->raw6, &s6, &n6) < 0)
		goto oom;

	db->s4 = malloc((n4 ? n4 : 1) * sizeof *db->s4);
	db->e4 = malloc((n4 ? n4 : 1) * sizeof *db->e4);
	db->c4 = malloc((n4 ? n4 : 1) * sizeof *db->c4);
	db->a4 = malloc((n4 ? n4 : 1) * sizeof *db->a4);
	db->a6 = malloc((n6 ? n6 : 1) * sizeof *db->a6);
	db->idx4 = malloc(65537 * sizeof *db->idx4);
	db->s6 = malloc((n6 ? n6 : 1) * sizeof *db->s6);
	db->e6 = malloc((n6 ? n6 : 1) * sizeof *db->e6);
	db->c6 = malloc((n6 ? n6 : 1) * sizeof *db->c6);
	if (!db->s4 || !db->e4 || !db->c4 || !db->idx4 || !db->s6 || !db->e6 ||
	    !db->c6 || !db->a4 || !db->a6)
		goto oom;

	for (size_t k = 0; k < n4; k++) {
		db->s4[k] = (uint32_t)s4[k].start.lo;
		db->e4[k] = (uint32_t)s4[k].end.lo;
		db->c4[k] = s4[k].cc;
		db->a4[k] = s4[k].asn;
	}
	db->n4 = n4;
	size_t k = 0;
	for (uint32_t pfx = 0; pfx <= 65536; pfx++) {
		uint64_t base = (uint64_t)pfx << 16;
		while (k < n4 && db->s4[k] < base)
			k++;
		db->idx4[pfx] = (uint32_t)k;
	}
	for (size_t j = 0; j < n6; j++) {
		db->s6[j] = s6[j].start;
		db->e6[j] = s6[j].end;
		db->c6[j] = s6[j].cc;
		db->a6[j] = s6[j].asn;
	}
	db->n6 = n6;

	free(s4);
	free(s6);
	free(db->raw4.v);
	free(db->raw6.v);
	db->raw4 = (struct rec_vec){0};
	db->raw6 = (struct rec_vec){0};
	free_holders(db);
	db->finalized = true;
	return 0;

oom:
	/* The records' holders may already be ASNs: nothing can be retried. */
	free(s4);
	free(s6);
	free_tables(db);
	return vg_err_set(err, -ENOMEM, "geo_db_finalize: out of memory");
}

/* ---- lookup --------------------------------------------------------- */

/* The index of the range holding addr, or SIZE_MAX. */
static size_t find4(const struct geo_db *db, uint32_t addr)
{
	if (!db || !db->finalized || !db->n4)
		return SIZE_MAX;
	uint32_t p = addr >> 16;
	/* first index in [lo, hi) whose start is above addr */
	size_t lo = db->idx4[p], hi = db->idx4[p + 1];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (db->s4[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return SIZE_MAX;
	lo--;
	return addr <= db->e4[lo] ? lo : SIZE_MAX;
}

static size_t find6(const struct geo_db *db, const uint8_t addr[16])
{
	if (!db || !db->finalized || !db->n6 || !addr)
		return SIZE_MAX;
	struct u128 a = u128_from_bytes(addr);
	size_t lo = 0, hi = db->n6;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (u128_cmp(db->s6[mid], a) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return SIZE_MAX;
	lo--;
	return u128_cmp(a, db->e6[lo]) <= 0 ? lo : SIZE_MAX;
}

uint16_t geo_lookup4(const struct geo_db *db, uint32_t addr)
{
	size_t i = find4(db, addr);
	return i == SIZE_MAX ? GEO_UNKNOWN : db->c4[i];
}

uint16_t geo_lookup6(const struct geo_db *db, const uint8_t addr[16])
{
	size_t i = find6(db, addr);
	return i == SIZE_MAX ? GEO_UNKNOWN : db->c6[i];
}

static uint32_t host4(const struct vg_ip *ip)
{
	return (uint32_t)ip->a[0] << 24 | (uint32_t)ip->a[1] << 16 | (uint32_t)ip->a[2] << 8 |
	       ip->a[3];
}

uint16_t geo_lookup(const struct geo_db *db, const struct vg_ip *ip)
{
	if (!ip)
		return GEO_UNKNOWN;
	if (ip->v == 4)
		return geo_lookup4(db, host4(ip));
	if (ip->v == 6)
		return geo_lookup6(db, ip->a);
	return GEO_UNKNOWN;
}

uint16_t geo_lookup_cc_asn(const struct geo_db *db, const struct vg_ip *ip, uint32_t *asn)
{
	*asn = 0;
	if (!ip)
		return GEO_UNKNOWN;
	size_t i;
	if (ip->v == 4 && (i = find4(db, host4(ip))) != SIZE_MAX) {
		*asn = db->a4[i];
		return db->c4[i];
	}
	if (ip->v == 6 && (i = find6(db, ip->a)) != SIZE_MAX) {
		*asn = db->a6[i];
		return db->c6[i];
	}
	return GEO_UNKNOWN;
}

uint32_t geo_lookup_asn(const struct geo_db *db, const struct vg_ip *ip)
{
	uint32_t asn;
	geo_lookup_cc_asn(db, ip, &asn);
	return asn;
}

size_t geo_db_count4(const struct geo_db *db)
{
	return db ? db->n4 : 0;
}

size_t geo_db_count6(const struct geo_db *db)
{
	return db ? db->n6 : 0;
}
