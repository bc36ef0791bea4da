/* ew-ingest.c: per-(bin, key) distinct sources for early warning
 * (ew-ingest.h). */
#include "ew-ingest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ew-detect.h"
#include "ew-sketch.h"
#include "geo-rir.h"

struct ekey {
	int64_t bin;
	uint8_t kind;               /* enum ew_kind */
	uint8_t v6;                 /* EW_NET: the value is an IPv6 /32 */
	uint32_t v;                 /* port | proto << 16, packed country, network,
				       interned name index, AS number */
};

struct net {
	uint32_t v;
	uint8_t v6;
};

/* The exact set grows from nothing, so the thousands of keys hit once
 * cost a few bytes; the registers come only beyond EW_SKETCH_SPARSE. */
struct entry {
	struct ekey k;
	uint64_t packets;
	uint32_t n, cap;
	uint32_t *h;
	uint8_t *reg;
	uint8_t nnets;
	struct net nets[DB_EW_NETS_MAX];
};

/* Signature names, interned by text: the index is the EW_SIG key's v. */
struct names {
	char **s;
	uint32_t n, cap;
	uint32_t *slot;             /* UINT32_MAX empty; index into s */
	size_t nslots;              /* a power of two */
};

struct ew_acc {
	struct entry *e;
	size_t n, cap;
	uint32_t *slot;             /* UINT32_MAX empty; index into e */
	size_t nslots;              /* a power of two */
	struct names names;         /* kept across ew_acc_reset */
};

int ew_acc_new(struct ew_acc **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? 0 : -ENOMEM;
}

void ew_acc_reset(struct ew_acc *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->e[i].h);
		free(a->e[i].reg);
	}
	free(a->e);
	free(a->slot);
	struct names keep = a->names;
	memset(a, 0, sizeof *a);
	a->names = keep;
}

void ew_acc_free(struct ew_acc *a)
{
	if (!a)
		return;
	ew_acc_reset(a);
	for (uint32_t i = 0; i < a->names.n; i++)
		free(a->names.s[i]);
	free(a->names.s);
	free(a->names.slot);
	free(a);
}

static uint64_t key_hash(const struct ekey *k)
{
	uint64_t x = (uint64_t)k->bin * 0x9e3779b97f4a7c15ull ^ (uint64_t)k->kind << 56 ^
		     (uint64_t)k->v6 << 48 ^ k->v;
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 29;
	return x;
}

static bool key_eq(const struct ekey *a, const struct ekey *b)
{
	return a->bin == b->bin && a->kind == b->kind && a->v6 == b->v6 && a->v == b->v;
}

static int rehash(struct ew_acc *a)
{
	size_t ns = a->nslots ? a->nslots * 2 : 1024;
	uint32_t *sl = malloc(ns * sizeof *sl);
	if (!sl)
		return -ENOMEM;
	memset(sl, 0xff, ns * sizeof *sl);
	for (size_t i = 0; i < a->n; i++) {
		size_t j = key_hash(&a->e[i].k) & (ns - 1);
		while (sl[j] != UINT32_MAX)
			j = (j + 1) & (ns - 1);
		sl[j] = (uint32_t)i;
	}
	free(a->slot);
	a->slot = sl;
	a->nslots = ns;
	return 0;
}

static struct entry *find(struct ew_acc *a, const struct ekey *k)
{
	if ((a->n + 1) * 2 > a->nslots && rehash(a))
		return NULL;
	size_t j = key_hash(k) & (a->nslots - 1);
	while (a->slot[j] != UINT32_MAX) {
		struct entry *e = &a->e[a->slot[j]];
		if (key_eq(&e->k, k))
			return e;
		j = (j + 1) & (a->nslots - 1);
	}
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 1024;
		struct entry *ne = realloc(a->e, cap * sizeof *ne);
		if (!ne)
			return NULL;
		a->e = ne;
		a->cap = cap;
	}
	struct entry *e = &a->e[a->n];
	memset(e, 0, sizeof *e);
	e->k = *k;
	a->slot[j] = (uint32_t)a->n++;
	return e;
}

/* The same register update as ew-sketch.c, on the entry's own storage. */
static int entry_add(struct entry *e, uint32_t h)
{
	if (e->reg) {
		struct ew_sketch s;
		s.dense = true;
		memcpy(s.reg, e->reg, EW_HLL_M);
		ew_sketch_add_hash(&s, h);
		memcpy(e->reg, s.reg, EW_HLL_M);
		return 0;
	}
	uint32_t lo = 0, hi = e->n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (e->h[mid] == h)
			return 0;
		if (e->h[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (e->n == EW_SKETCH_SPARSE) {
		struct ew_sketch s;
		ew_sketch_init(&s);
		for (uint32_t i = 0; i < e->n; i++)
			ew_sketch_add_hash(&s, e->h[i]);
		ew_sketch_add_hash(&s, h);      /* turns it dense */
		e->reg = malloc(EW_HLL_M);
		if (!e->reg)
			return -ENOMEM;
		memcpy(e->reg, s.reg, EW_HLL_M);
		free(e->h);
		e->h = NULL;
		e->n = e->cap = 0;
		return 0;
	}
	if (e->n == e->cap) {
		uint32_t cap = e->cap ? e->cap * 2 : 2;
		uint32_t *nh = realloc(e->h, cap * sizeof *nh);
		if (!nh)
			return -ENOMEM;
		e->h = nh;
		e->cap = cap;
	}
	memmove(e->h + lo + 1, e->h + lo, (e->n - lo) * sizeof *e->h);
	e->h[lo] = h;
	e->n++;
	return 0;
}

static void entry_net(struct entry *e, const struct net *n)
{
	if (e->nnets == DB_EW_NETS_MAX)
		return;
	for (uint8_t i = 0; i < e->nnets; i++)
		if (e->nets[i].v == n->v && e->nets[i].v6 == n->v6)
			return;
	e->nets[e->nnets++] = *n;
}

static int add(struct ew_acc *a, const struct ekey *k, uint32_t h, const struct net *n)
{
	struct entry *e = find(a, k);
	if (!e)
		return -ENOMEM;
	e->packets++;
	if (n)
		entry_net(e, n);
	return entry_add(e, h);
}

static struct net src_net(const struct vg_ip *src)
{
	return (struct net){src->v == 4 ? (uint32_t)src->a[0] << 8 | src->a[1]
					: (uint32_t)src->a[0] << 24 | (uint32_t)src->a[1] << 16 |
						  (uint32_t)src->a[2] << 8 | src->a[3],
			    src->v == 6};
}

int ew_acc_packet(struct ew_acc *a, int64_t bin_start, const struct vg_ip *src, uint8_t proto,
		  uint16_t dport, uint16_t cc)
{
	return ew_acc_packet_asn(a, bin_start, src, proto, dport, cc, 0);
}

int ew_acc_packet_asn(struct ew_acc *a, int64_t bin_start, const struct vg_ip *src,
		      uint8_t proto, uint16_t dport, uint16_t cc, uint32_t asn)
{
	if (src->v != 4 && src->v != 6)
		return 0;
	uint32_t h = ew_ip_hash(src);
	struct net n = src_net(src);
	int r = 0;
	if (proto == 6 || proto == 17) {
		struct ekey k = {bin_start, EW_PORT, 0, (uint32_t)proto << 16 | dport};
		r = add(a, &k, h, &n);
	}
	if (!r && cc && cc != GEO_UNKNOWN) {
		struct ekey k = {bin_start, EW_COUNTRY, 0, cc};
		r = add(a, &k, h, &n);
	}
	if (!r && asn) {
		struct ekey k = {bin_start, EW_ASN, 0, asn};
		r = add(a, &k, h, &n);
	}
	if (!r) {
		struct ekey k = {bin_start, EW_NET, n.v6, n.v};
		r = add(a, &k, h, NULL);
	}
	return r;
}

/* FNV-1a: names are a few dozen bytes, and this runs per packet. */
static uint32_t name_hash(const char *s, size_t len)
{
	uint32_t x = 2166136261u;
	for (size_t i = 0; i < len; i++)
		x = (x ^ (unsigned char)s[i]) * 16777619u;
	return x;
}

static int names_rehash(struct names *nm)
{
	size_t ns = nm->nslots ? nm->nslots * 2 : 64;
	uint32_t *sl = malloc(ns * sizeof *sl);
	if (!sl)
		return -ENOMEM;
	memset(sl, 0xff, ns * sizeof *sl);
	for (uint32_t i = 0; i < nm->n; i++) {
		size_t j = name_hash(nm->s[i], strlen(nm->s[i])) & (ns - 1);
		while (sl[j] != UINT32_MAX)
			j = (j + 1) & (ns - 1);
		sl[j] = i;
	}
	free(nm->slot);
	nm->slot = sl;
	nm->nslots = ns;
	return 0;
}

/* The index of name's first len bytes, added on first sight. */
static int intern(struct names *nm, const char *name, size_t len, uint32_t *idx)
{
	if ((nm->n + 1) * 2 > nm->nslots && names_rehash(nm))
		return -ENOMEM;
	size_t j = name_hash(name, len) & (nm->nslots - 1);
	while (nm->slot[j] != UINT32_MAX) {
		const char *s = nm->s[nm->slot[j]];
		if (!strncmp(s, name, len) && !s[len]) {
			*idx = nm->slot[j];
			return 0;
		}
		j = (j + 1) & (nm->nslots - 1);
	}
	if (nm->n == nm->cap) {
		uint32_t cap = nm->cap ? nm->cap * 2 : 16;
		char **ns = realloc(nm->s, cap * sizeof *ns);
		if (!ns)
			return -ENOMEM;
		nm->s = ns;
		nm->cap = cap;
	}
	char *copy = strndup(name, len);
	if (!copy)
		return -ENOMEM;
	nm->s[nm->n] = copy;
	nm->slot[j] = nm->n;
	*idx = nm->n++;
	return 0;
}

int ew_acc_sig(struct ew_acc *a, int64_t bin_start, const struct vg_ip *src, const char *name)
{
	if ((src->v != 4 && src->v != 6) || !name || !name[0])
		return 0;
	uint32_t idx;
	if (intern(&a->names, name, strnlen(name, EW_SIG_NAME_MAX), &idx))
		return -ENOMEM;
	struct net n = src_net(src);
	struct ekey k = {bin_start, EW_SIG, 0, idx};
	return add(a, &k, ew_ip_hash(src), &n);
}

static void net_text(const struct net *n, char *buf, size_t len)
{
	if (!n->v6)
		snprintf(buf, len, "%u.%u.0.0/16", n->v >> 8, n->v & 0xff);
	else
		snprintf(buf, len, "%x:%x::/32", n->v >> 16, n->v & 0xffff);
}

static void key_text(const struct ekey *k, char *buf, size_t len)
{
	switch (k->kind) {
	case EW_ASN:
		snprintf(buf, len, "AS%" PRIu32, k->v);
		break;
	case EW_SIG:                /* the interned name itself, see ew_acc_write */
		if (len)
			buf[0] = 0;
		break;
	case EW_PORT:
		snprintf(buf, len, "%u/%s", k->v & 0xffff, k->v >> 16 == 6 ? "tcp" : "udp");
		break;
	case EW_COUNTRY:
		snprintf(buf, len, "%c%c", (char)(k->v >> 8), (char)(k->v & 0xff));
		break;
	default: {
		struct net n = {k->v, k->v6};
		net_text(&n, buf, len);
	}
	}
}

#define BATCH 1024

struct row_store {
	char key[48];
	char nets[DB_EW_NETS_MAX * 48];
	uint8_t sketch[EW_SKETCH_BYTES_MAX];
};

int ew_acc_write(struct ew_acc *a, struct db *db, uint32_t sensor_id, struct vg_err *err)
{
	if (!a->n)
		return 0;
	uint8_t *sens = NULL;
	size_t slen = 0;
	struct db_ew_bin *rows = calloc(BATCH, sizeof *rows);
	struct row_store *st = calloc(BATCH, sizeof *st);
	int r = 0;
	if (!rows || !st || db_set_encode(&sensor_id, 1, &sens, &slen)) {
		r = vg_err_set(err, -ENOMEM, "out of memory writing the early-warning rows");
		goto out;
	}
	size_t nb = 0;
	for (size_t i = 0; i < a->n && !r; i++) {
		struct entry *e = &a->e[i];
		struct row_store *s = &st[nb];
		struct ew_sketch sk;
		ew_sketch_init(&sk);
		if (e->reg) {
			sk.dense = true;
			memcpy(sk.reg, e->reg, EW_HLL_M);
		} else {
			for (uint32_t j = 0; j < e->n; j++)
				ew_sketch_add_hash(&sk, e->h[j]);
		}
		key_text(&e->k, s->key, sizeof s->key);
		/* A name can be longer than the fixed keys: stored as interned. */
		const char *key = e->k.kind == EW_SIG ? a->names.s[e->k.v] : s->key;
		size_t w = 0;
		s->nets[0] = 0;
		for (uint8_t j = 0; j < e->nnets; j++) {
			char t[48];
			net_text(&e->nets[j], t, sizeof t);
			int m = snprintf(s->nets + w, sizeof s->nets - w, "%s%s", j ? "," : "", t);
			if (m > 0 && (size_t)m < sizeof s->nets - w)
				w += (size_t)m;
		}
		rows[nb] = (struct db_ew_bin){
			.start = e->k.bin,
			.kind = ew_kind_name((enum ew_kind)e->k.kind),
			.key = key,
			.packets = e->packets,
			.sketch = s->sketch,
			.sketch_len = ew_sketch_encode(&sk, s->sketch, sizeof s->sketch),
			.sensors = sens,
			.sensors_len = slen,
			.nets = s->nets,
		};
		if (++nb == BATCH || i + 1 == a->n) {
			r = db_ew_bins_merge(db, rows, nb, err);
			nb = 0;
		}
	}
out:
	free(sens);
	free(rows);
	free(st);
	return r;
}
