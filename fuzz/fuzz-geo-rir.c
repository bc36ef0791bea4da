/* fuzz-geo-rir.c: libFuzzer harness for the RIR delegation file reader
 * (geo-rir.h).  The files are downloaded from the five registries, so
 * their bytes are untrusted.
 *
 * Input: up to four delegation files separated by NUL bytes, each loaded
 * with geo_db_load_buf from a heap copy of exactly its size (no
 * terminating NUL), so that ASan flags any read past the length given.
 * A file that fails must say so with a message naming it; then the
 * database is finalized and looked up.
 *
 * The lookups are checked against a model written here for the purpose:
 * a deliberately naive reading of the files that were accepted (every
 * address line of an accepted file is valid, so the model only decides
 * which records are kept) and, per probed address, a linear scan for the
 * winning record by the documented rules (smaller range, later file
 * date, later record) and its holder's lowest AS number.  The probes are
 * each record's first and last address and the ones just outside.  Any
 * difference aborts with both answers on stderr. */
#include "geo-rir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

typedef unsigned __int128 u128;

#define MAX_FILES 4
#define MAX_INPUT (64u << 10)
#define MAX_RECS 4096
#define MAX_PROBES 256

struct fld {
	const char *p;
	size_t len;
};

struct mrec {
	u128 s, e;
	uint64_t size;    /* v4: address count; v6: 128 - prefix length */
	uint32_t date, seq;
	int holder;       /* index into holders, -1: none */
	uint16_t cc;
	bool v6, kept;
};

struct mholder {
	struct fld reg, id;
	uint32_t low;     /* lowest AS of an accepted file, 0: none */
};

struct model {
	struct mrec rec[MAX_RECS];
	size_t nrec;
	struct mholder hold[MAX_RECS];
	size_t nhold;
	uint32_t seq;
	bool overflow;    /* more records than the model keeps: no checks */
};

static struct model M;

static bool ieq(struct fld f, const char *lit)
{
	size_t l = strlen(lit);
	if (f.len != l)
		return false;
	for (size_t i = 0; i < l; i++) {
		char c = f.p[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + ('a' - 'A'));
		if (c != lit[i])
			return false;
	}
	return true;
}

static bool digits(struct fld f, uint64_t *v)
{
	if (f.len == 0 || f.len > 19)
		return false;
	*v = 0;
	for (size_t i = 0; i < f.len; i++) {
		if (f.p[i] < '0' || f.p[i] > '9')
			return false;
		*v = *v * 10 + (uint64_t)(f.p[i] - '0');
	}
	return true;
}

static bool version_like(struct fld f)
{
	if (f.len == 0)
		return false;
	for (size_t i = 0; i < f.len; i++)
		if (!((f.p[i] >= '0' && f.p[i] <= '9') || f.p[i] == '.'))
			return false;
	return true;
}

/* The holder of (registry, opaque id), as geo-rir interns it; -1 for
 * none.  Records of the same holder compare equal byte for byte. */
static int holder(struct fld reg, struct fld id)
{
	if (id.len == 0 || reg.len > 64 || id.len > 256)
		return -1;
	for (size_t i = 0; i < M.nhold; i++) {
		const struct mholder *h = &M.hold[i];
		if (h->reg.len == reg.len && h->id.len == id.len &&
		    !memcmp(h->reg.p, reg.p, reg.len) && !memcmp(h->id.p, id.p, id.len))
			return (int)i;
	}
	if (M.nhold == MAX_RECS) {
		M.overflow = true;
		return -1;
	}
	M.hold[M.nhold] = (struct mholder){reg, id, 0};
	return (int)M.nhold++;
}

static bool addr(int af, struct fld f, uint8_t out[16])
{
	char b[64];
	if (f.len == 0 || f.len >= 46)
		return false;
	memcpy(b, f.p, f.len);
	b[f.len] = '\0';
	return inet_pton(af, b, out) == 1;
}

/* One file the library accepted. */
static void model_file(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	bool seen_header = false;
	uint32_t date = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *next = nl ? nl + 1 : end;
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p || *p == '#') {
			p = next;
			continue;
		}
		struct fld f[8];
		size_t nf = 0;
		for (const char *q = p;;) {
			const char *bar = memchr(q, '|', (size_t)(le - q));
			const char *fe = bar ? bar : le;
			if (nf < 8)
				f[nf] = (struct fld){q, (size_t)(fe - q)};
			nf++;
			if (!bar)
				break;
			q = bar + 1;
		}
		p = next;
		if (!seen_header) {
			seen_header = true;
			if (version_like(f[0])) {
				uint64_t v;
				if (nf >= 6 && f[5].len == 8 && digits(f[5], &v))
					date = (uint32_t)v;
				continue;
			}
		}
		if (nf < 3)
			abort(); /* the library accepted a file with a non-record line */
		if ((nf >= 6 && ieq(f[5], "summary")) || (f[1].len == 1 && f[1].p[0] == '*'))
			continue;
		bool ok_status = nf >= 7 && (ieq(f[6], "allocated") || ieq(f[6], "assigned"));
		if (ieq(f[2], "asn")) {
			uint64_t as;
			if (nf >= 8 && ok_status && digits(f[3], &as) && as && as <= UINT32_MAX) {
				int h = holder(f[0], f[7]);
				if (h >= 0 && (!M.hold[h].low || as < M.hold[h].low))
					M.hold[h].low = (uint32_t)as;
			}
			continue;
		}
		bool v6 = ieq(f[2], "ipv6");
		if (!v6 && !ieq(f[2], "ipv4"))
			continue;
		if (nf < 7)
			abort();
		uint8_t a[16];
		uint64_t num;
		if (!addr(v6 ? AF_INET6 : AF_INET, f[3], a) || !digits(f[4], &num))
			abort();
		if (M.nrec == MAX_RECS) {
			M.overflow = true;
			return;
		}
		struct mrec *r = &M.rec[M.nrec++];
		*r = (struct mrec){.v6 = v6, .date = date, .holder = -1};
		if (v6) {
			if (num > 128)
				abort();
			for (int i = 0; i < 16; i++)
				r->s = r->s << 8 | a[i];
			u128 span = num == 0 ? ~(u128)0 : (((u128)1 << (128 - num)) - 1);
			r->e = r->s + span;
			if (r->e < r->s)
				abort();
			r->size = 128 - num;
		} else {
			r->s = (u128)a[0] << 24 | (u128)a[1] << 16 | (u128)a[2] << 8 | a[3];
			if (num == 0 || r->s + num - 1 > 0xffffffffu)
				abort();
			r->e = r->s + num - 1;
			r->size = num;
		}
		r->kept = ok_status && f[1].len != 0 && !ieq(f[1], "zz");
		if (!r->kept)
			continue;
		char c0 = f[1].p[0], c1 = f[1].p[1];
		if (c0 >= 'a' && c0 <= 'z')
			c0 = (char)(c0 - ('a' - 'A'));
		if (c1 >= 'a' && c1 <= 'z')
			c1 = (char)(c1 - ('a' - 'A'));
		r->cc = (uint16_t)((unsigned char)c0 << 8 | (unsigned char)c1);
		r->seq = M.seq++;
		if (nf >= 8)
			r->holder = holder(f[0], f[7]);
	}
}

static bool beats(const struct mrec *a, const struct mrec *b)
{
	if (a->size != b->size)
		return a->size < b->size;
	if (a->date != b->date)
		return a->date > b->date;
	return a->seq > b->seq;
}

static uint16_t model_lookup(bool v6, u128 x, uint32_t *asn)
{
	const struct mrec *w = NULL;
	for (size_t i = 0; i < M.nrec; i++) {
		const struct mrec *r = &M.rec[i];
		if (r->kept && r->v6 == v6 && r->s <= x && x <= r->e && (!w || beats(r, w)))
			w = r;
	}
	*asn = w && w->holder >= 0 ? M.hold[w->holder].low : 0;
	return w ? w->cc : GEO_UNKNOWN;
}

static struct vg_ip ip_of(bool v6, u128 x)
{
	struct vg_ip ip = {.v = v6 ? 6 : 4};
	if (v6)
		for (int i = 15; i >= 0; i--, x >>= 8)
			ip.a[i] = (uint8_t)x;
	else
		for (int i = 3; i >= 0; i--, x >>= 8)
			ip.a[i] = (uint8_t)x;
	return ip;
}

static void probe(const struct geo_db *db, bool v6, u128 x, bool check)
{
	struct vg_ip ip = ip_of(v6, x);
	uint32_t asn = 1;
	uint16_t cc = geo_lookup_cc_asn(db, &ip, &asn);
	uint16_t direct = v6 ? geo_lookup6(db, ip.a) : geo_lookup4(db, (uint32_t)x);
	if (geo_lookup(db, &ip) != cc || direct != cc || geo_lookup_asn(db, &ip) != asn)
		abort();
	if (cc == GEO_UNKNOWN ? asn != 0
			      : (cc >> 8 < 'A' || cc >> 8 > 'Z' || (cc & 0xff) < 'A' ||
				 (cc & 0xff) > 'Z'))
		abort();
	if (!check)
		return;
	uint32_t want_asn;
	uint16_t want = model_lookup(v6, x, &want_asn);
	if (want != cc || want_asn != asn) {
		char b1[3], b2[3];
		fprintf(stderr, "geo-rir model mismatch: ipv%d %016llx%016llx: library %s AS%u, model %s AS%u\n",
			v6 ? 6 : 4, (unsigned long long)(x >> 64), (unsigned long long)x,
			geo_cc_str(cc, b1), asn, geo_cc_str(want, b2), want_asn);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n > MAX_INPUT)
		return 0;
	struct geo_db *db = geo_db_new();
	if (!db)
		return 0;
	M.nrec = M.nhold = 0;
	M.seq = 0;
	M.overflow = false;

	/* The model's fields point into the copies, kept until the end. */
	char *copy[MAX_FILES] = {0};
	size_t off = 0;
	for (int k = 0; k < MAX_FILES && off <= n; k++) {
		const uint8_t *z = memchr(d + off, 0, n - off);
		size_t len = z ? (size_t)(z - (d + off)) : n - off;
		copy[k] = malloc(len ? len : 1);
		if (!copy[k])
			break;
		memcpy(copy[k], d + off, len);
		char name[16];
		snprintf(name, sizeof name, "fuzz%d", k);
		struct vg_err err = {0};
		int rc = geo_db_load_buf(db, name, copy[k], len, &err);
		if (rc < 0) {
			if (err.code != rc || !memchr(err.msg, 0, sizeof err.msg) ||
			    strncmp(err.msg, name, strlen(name)))
				abort();
		} else if (rc == 0) {
			model_file(copy[k], len);
		} else {
			abort();
		}
		if (!z)
			break;
		off += len + 1;
	}

	struct vg_err err = {0};
	if (geo_db_finalize(db, &err) != 0)
		abort();
	if (geo_db_finalize(db, &err) != -EINVAL || geo_db_load_buf(db, "late", "", 0, &err) != -EINVAL)
		abort();
	size_t kept = 0;
	for (size_t i = 0; i < M.nrec; i++)
		kept += M.rec[i].kept;
	if (!M.overflow && geo_db_count4(db) + geo_db_count6(db) > 2 * kept)
		abort();

	bool check = !M.overflow;
	probe(db, false, 0, check);
	probe(db, false, 0xffffffffu, check);
	probe(db, true, 0, check);
	probe(db, true, ~(u128)0, check);
	size_t np = 0;
	for (size_t i = 0; i < M.nrec && np < MAX_PROBES; i++, np += 4) {
		const struct mrec *r = &M.rec[i];
		u128 top = r->v6 ? ~(u128)0 : 0xffffffffu;
		probe(db, r->v6, r->s, check);
		probe(db, r->v6, r->e, check);
		if (r->s > 0)
			probe(db, r->v6, r->s - 1, check);
		if (r->e < top)
			probe(db, r->v6, r->e + 1, check);
	}
	struct vg_ip none = {0};
	uint32_t asn = 1;
	if (geo_lookup_cc_asn(db, &none, &asn) != GEO_UNKNOWN || asn != 0)
		abort();

	geo_db_free(db);
	for (int k = 0; k < MAX_FILES; k++)
		free(copy[k]);
	return 0;
}
