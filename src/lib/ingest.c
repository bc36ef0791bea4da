/* ingest.c: one archived file into the database (see ingest.h).
 *
 * Everything is aggregated in memory first (the engine's bins, a table of
 * (day, source) activity) and written at the end, with prepared
 * statements, in the one transaction that also records the file: the
 * database sees a file whole or not at all. */
#include "ingest.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#include "an-engine.h"
#include "an-hosts.h"
#include "ew-ingest.h"
#include "cap-reader.h"
#include "hl-log.h"
#include "proto-decode.h"

/* Damaged packets described in the file's message; the count goes on. */
#define MAX_BAD_SHOWN 5
/* A source's ports are a short sorted list until they pass this many,
 * then a bitmap of every TCP and UDP port (vertical scanners). */
#define PORTS_SMALL 64
#define PORT_BITS (2u * 65536u)

/* ---- (day, address) -> index, open addressing --------------------------- */

struct key {
	int64_t day;
	struct vg_ip ip;
};

struct kmap {
	struct key *keys;
	uint32_t *val;          /* UINT32_MAX = empty */
	size_t cap, n;          /* cap a power of two */
};

static uint64_t key_hash(const struct key *k)
{
	uint64_t h = (uint64_t)k->day * 0x9e3779b97f4a7c15ull ^ k->ip.v;
	size_t n = k->ip.v == 6 ? 16 : 4;
	for (size_t i = 0; i < n; i += 4) {
		uint32_t w;
		memcpy(&w, k->ip.a + i, 4);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

static bool key_eq(const struct key *a, const struct key *b)
{
	return a->day == b->day && a->ip.v == b->ip.v &&
	       !memcmp(a->ip.a, b->ip.a, a->ip.v == 6 ? 16 : 4);
}

static void kmap_free(struct kmap *m)
{
	free(m->keys);
	free(m->val);
	memset(m, 0, sizeof *m);
}

static int kmap_grow(struct kmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 4096;
	struct key *keys = malloc(cap * sizeof *keys);
	uint32_t *val = malloc(cap * sizeof *val);
	if (!keys || !val) {
		free(keys);
		free(val);
		return -ENOMEM;
	}
	memset(val, 0xff, cap * sizeof *val);
	for (size_t i = 0; i < m->cap; i++) {
		if (m->val[i] == UINT32_MAX)
			continue;
		size_t j = key_hash(&m->keys[i]) & (cap - 1);
		while (val[j] != UINT32_MAX)
			j = (j + 1) & (cap - 1);
		keys[j] = m->keys[i];
		val[j] = m->val[i];
	}
	free(m->keys);
	free(m->val);
	m->keys = keys;
	m->val = val;
	m->cap = cap;
	return 0;
}

/* The slot of k: its value, or UINT32_MAX when absent (then *slot is where
 * it goes). */
static uint32_t kmap_find(const struct kmap *m, const struct key *k, size_t *slot)
{
	if (!m->cap) {
		*slot = 0;
		return UINT32_MAX;
	}
	size_t j = key_hash(k) & (m->cap - 1);
	while (m->val[j] != UINT32_MAX && !key_eq(&m->keys[j], k))
		j = (j + 1) & (m->cap - 1);
	*slot = j;
	return m->val[j];
}

static int kmap_put(struct kmap *m, const struct key *k, uint32_t v)
{
	if ((m->n + 1) * 2 > m->cap && kmap_grow(m))
		return -ENOMEM;
	size_t slot;
	kmap_find(m, k, &slot);
	if (m->val[slot] == UINT32_MAX)
		m->n++;
	m->keys[slot] = *k;
	m->val[slot] = v;
	return 0;
}

/* ---- per (day, source) activity of one file ----------------------------- */

struct srcday {
	struct key k;
	uint64_t packets, bytes;
	uint32_t first_s, last_s;
	uint16_t os, cc;
	uint32_t nports;
	uint32_t *ports;        /* sorted while nports <= PORTS_SMALL */
	uint64_t *bits;         /* PORT_BITS bits once beyond */
};

struct ingest {
	struct ingest_config cfg;
	unsigned bin_seconds;
	/* label name -> first label id with that name (SYN matches come
	 * from p0f.fp's [tcp:request] part, which comes first) */
	struct label_ent {
		const char *name;
		unsigned id;
	} *labels;
	size_t nlabels;
	unsigned os_unknown;

	/* state of the file being ingested */
	struct an_engine *eng;
	struct kmap sd_map;
	struct srcday *sd;
	size_t nsd, sd_cap;
	uint32_t last_sd;
	struct kmap loaded;     /* source -> OS key loaded from the database */
	int hook_err;
	struct vg_err hook_verr;
	struct ew_acc *ew;      /* issue 9: per-bin distinct sources; NULL when off */
	/* issue 8: the classifier, kept from file to file so that the
	 * detectors' thresholds span a run's files; NULL when off */
	struct classifier *cl;
	uint32_t cur_sensor;
	const struct cidr_set *cur_honeynets;
};

/* Every packet that counts towards an incident also feeds early
 * warning's signature key. */
static int hook_hit(void *ctx, const struct vg_pkt *p, const char *name)
{
	struct ingest *ig = ctx;
	if (!ig->ew)
		return 0;
	uint32_t sec = (uint32_t)(p->ts_ns / 1000000000u);
	return ew_acc_sig(ig->ew, (int64_t)sec - (int64_t)(sec % ig->bin_seconds), &p->src, name);
}

static int cmp_label(const void *a, const void *b)
{
	const struct label_ent *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return (x->id > y->id) - (x->id < y->id);
}

static int find_label(const struct ingest *ig, const char *name)
{
	size_t lo = 0, hi = ig->nlabels;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ig->labels[mid].name, name);
		if (!c)
			return (int)ig->labels[mid].id;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

unsigned ingest_bin_seconds(const struct ingest *ig)
{
	return ig->bin_seconds;
}

int ingest_new(struct ingest **out, const struct ingest_config *cfg, struct vg_err *err)
{
	*out = NULL;
	struct ingest *ig = calloc(1, sizeof *ig);
	if (!ig)
		return vg_err_set(err, -ENOMEM, "out of memory");
	ig->cfg = *cfg;
	if (!cfg->no_early_warning && ew_acc_new(&ig->ew)) {
		free(ig);
		return vg_err_set(err, -ENOMEM, "out of memory");
	}
	int nl = cfg->fp ? fp_label_count(cfg->fp) : 0;
	ig->os_unknown = nl > 0 ? (unsigned)nl : 0;
	if (nl > 0) {
		ig->labels = calloc((size_t)nl, sizeof *ig->labels);
		if (!ig->labels) {
			ew_acc_free(ig->ew);
			free(ig);
			return vg_err_set(err, -ENOMEM, "out of memory");
		}
		for (int i = 0; i < nl; i++) {
			const char *n = fp_label_name(cfg->fp, i);
			if (n)
				ig->labels[ig->nlabels++] = (struct label_ent){n, (unsigned)i};
		}
		qsort(ig->labels, ig->nlabels, sizeof *ig->labels, cmp_label);
		size_t w = 0;
		for (size_t i = 0; i < ig->nlabels; i++)
			if (!w || strcmp(ig->labels[w - 1].name, ig->labels[i].name))
				ig->labels[w++] = ig->labels[i];
		ig->nlabels = w;
	}

	/* The bin width is the database's: bins of different widths
	 * cannot be summed. */
	char buf[32];
	int r = db_meta_get(cfg->db, "bin_seconds", buf, sizeof buf, err);
	if (r < 0)
		goto bad;
	if (r == 1) {
		unsigned long have = strtoul(buf, NULL, 10);
		if (!have || have > 86400) {
			r = vg_err_set(err, -EINVAL, "the database's bin_seconds '%s' is invalid", buf);
			goto bad;
		}
		if (cfg->bin_seconds && cfg->bin_seconds != have) {
			r = vg_err_set(err, -EINVAL, "the database counts in bins of %lu s, not %u s",
				       have, cfg->bin_seconds);
			goto bad;
		}
		ig->bin_seconds = (unsigned)have;
	} else {
		ig->bin_seconds = cfg->bin_seconds ? cfg->bin_seconds : INGEST_DEFAULT_BIN;
		snprintf(buf, sizeof buf, "%u", ig->bin_seconds);
		if ((r = db_begin(cfg->db, err)))
			goto bad;
		/* Another ingest may have set it meanwhile: re-read inside. */
		char again[32];
		r = db_meta_get(cfg->db, "bin_seconds", again, sizeof again, err);
		if (r == 0)
			r = db_meta_set(cfg->db, "bin_seconds", buf, err);
		else if (r == 1 && strcmp(again, buf))
			r = vg_err_set(err, -EINVAL, "the database counts in bins of %s s, not %u s",
				       again, ig->bin_seconds);
		else if (r == 1)
			r = 0;
		if (r < 0) {
			db_rollback(cfg->db);
			goto bad;
		}
		if ((r = db_commit(cfg->db, err))) {
			db_rollback(cfg->db);
			goto bad;
		}
	}
	if (cfg->classify) {
		struct classifier_config cc = *cfg->classify;
		cc.on_hit = hook_hit;
		cc.hit_ctx = ig;
		if ((r = classifier_new(&ig->cl, &cc, err)))
			goto bad;
	}
	*out = ig;
	return 0;
bad:
	ew_acc_free(ig->ew);
	free(ig->labels);
	free(ig);
	return r;
}

static void reset_file_state(struct ingest *ig)
{
	an_engine_free(ig->eng);
	ig->eng = NULL;
	for (size_t i = 0; i < ig->nsd; i++) {
		free(ig->sd[i].ports);
		free(ig->sd[i].bits);
	}
	free(ig->sd);
	ig->sd = NULL;
	ig->nsd = ig->sd_cap = 0;
	ig->last_sd = UINT32_MAX;
	kmap_free(&ig->sd_map);
	kmap_free(&ig->loaded);
	ig->hook_err = 0;
	vg_err_clear(&ig->hook_verr);
	ew_acc_reset(ig->ew);
	if (ig->cl)
		classifier_reset(ig->cl);
}

void ingest_free(struct ingest *ig)
{
	if (!ig)
		return;
	reset_file_state(ig);
	ew_acc_free(ig->ew);
	classifier_free(ig->cl);
	free(ig->labels);
	free(ig);
}

/* ---- engine hooks -------------------------------------------------------- */

static void hook_host_init(void *ctx, const struct vg_ip *src, struct an_host *h)
{
	struct ingest *ig = ctx;
	if (ig->hook_err || !ig->nlabels)
		return;
	char label[128];
	int r = db_host_os_get(ig->cfg.db, src, label, sizeof label, &ig->hook_verr);
	if (r < 0) {
		ig->hook_err = r;
		return;
	}
	if (r == 0)
		return;
	int id = find_label(ig, label);
	uint16_t os = id >= 0 ? (uint16_t)id : (uint16_t)ig->os_unknown;
	h->os = os;
	struct key k = {0, *src};
	if (kmap_put(&ig->loaded, &k, os))
		ig->hook_err = vg_err_set(&ig->hook_verr, -ENOMEM, "out of memory");
}

static int port_set_add(struct srcday *s, uint32_t port)
{
	if (s->bits) {
		uint64_t bit = 1ull << (port & 63);
		if (!(s->bits[port >> 6] & bit)) {
			s->bits[port >> 6] |= bit;
			s->nports++;
		}
		return 0;
	}
	uint32_t lo = 0, hi = s->nports;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		if (s->ports[mid] == port)
			return 0;
		if (s->ports[mid] < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (s->nports == PORTS_SMALL) {
		s->bits = calloc(PORT_BITS / 64, sizeof *s->bits);
		if (!s->bits)
			return -ENOMEM;
		for (uint32_t i = 0; i < s->nports; i++)
			s->bits[s->ports[i] >> 6] |= 1ull << (s->ports[i] & 63);
		free(s->ports);
		s->ports = NULL;
		s->bits[port >> 6] |= 1ull << (port & 63);
		s->nports++;
		return 0;
	}
	if (!s->ports) {
		s->ports = malloc(PORTS_SMALL * sizeof *s->ports);
		if (!s->ports)
			return -ENOMEM;
	}
	memmove(s->ports + lo + 1, s->ports + lo, (s->nports - lo) * sizeof *s->ports);
	s->ports[lo] = port;
	s->nports++;
	return 0;
}

static void hook_count(void *ctx, const struct vg_pkt *p, struct an_host *h)
{
	struct ingest *ig = ctx;
	if (ig->hook_err)
		return;
	uint32_t sec = (uint32_t)(p->ts_ns / 1000000000u);
	struct key k = {(int64_t)sec - (int64_t)(sec % 86400u), p->src};
	struct srcday *s = NULL;
	if (ig->last_sd != UINT32_MAX && key_eq(&ig->sd[ig->last_sd].k, &k)) {
		s = &ig->sd[ig->last_sd];
	} else {
		size_t slot;
		uint32_t idx = kmap_find(&ig->sd_map, &k, &slot);
		if (idx == UINT32_MAX) {
			if (ig->nsd == ig->sd_cap) {
				size_t cap = ig->sd_cap ? ig->sd_cap * 2 : 1024;
				struct srcday *nv = realloc(ig->sd, cap * sizeof *nv);
				if (!nv)
					goto nomem;
				ig->sd = nv;
				ig->sd_cap = cap;
			}
			idx = (uint32_t)ig->nsd;
			if (kmap_put(&ig->sd_map, &k, idx))
				goto nomem;
			s = &ig->sd[ig->nsd++];
			memset(s, 0, sizeof *s);
			s->k = k;
			s->first_s = sec;
		}
		ig->last_sd = idx;
		s = &ig->sd[idx];
	}
	s->packets++;
	s->bytes += p->ip_len;
	if (sec < s->first_s)
		s->first_s = sec;
	if (sec >= s->last_s) {
		s->last_s = sec;
		s->os = h ? h->os : (uint16_t)ig->os_unknown;
		s->cc = h ? h->cc : GEO_UNKNOWN;
	}
	int r = 0;
	if (p->proto == 6)
		r = port_set_add(s, DB_PORT_TCP(p->dport));
	else if (p->proto == 17)
		r = port_set_add(s, DB_PORT_UDP(p->dport));
	if (r)
		goto nomem;
	if (ig->ew && ew_acc_packet_asn(ig->ew, (int64_t)sec - (int64_t)(sec % ig->bin_seconds), &p->src,
				    p->proto, p->dport, h ? h->cc : 0,
				    h ? h->asn : ig->cfg.geo ? geo_lookup_asn(ig->cfg.geo, &p->src) : 0))
		goto nomem;
	if (ig->cl && (r = classify_packet_hint(ig->cl, p, ig->cur_sensor, ig->cur_honeynets,
						h ? &h->hint : NULL))) {
		if (r == -ENOMEM)
			goto nomem;
		ig->hook_err = vg_err_set(&ig->hook_verr, r, "classifying: %s", strerror(-r));
	}
	return;
nomem:
	ig->hook_err = vg_err_set(&ig->hook_verr, -ENOMEM, "out of memory counting sources");
}

/* ---- reading ---------------------------------------------------------------- */

int ingest_sha256(const char *path, char hex[65], uint64_t *size, struct vg_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return vg_err_set(err, -errno, "%s: cannot open: %s", path, strerror(errno));
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		fclose(f);
		EVP_MD_CTX_free(md);
		return vg_err_set(err, -ENOMEM, "%s: cannot start SHA-256", path);
	}
	static const size_t chunk = 1 << 20;
	unsigned char *buf = malloc(chunk);
	uint64_t total = 0;
	size_t n;
	while (buf && (n = fread(buf, 1, chunk, f)) > 0) {
		EVP_DigestUpdate(md, buf, n);
		total += n;
	}
	int bad = !buf || ferror(f);
	fclose(f);
	free(buf);
	unsigned char dig[32];
	unsigned int dl = 0;
	EVP_DigestFinal_ex(md, dig, &dl);
	EVP_MD_CTX_free(md);
	if (bad)
		return vg_err_set(err, -EIO, "%s: read error at byte offset %" PRIu64, path, total);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", dig[i]);
	*size = total;
	return 0;
}

static void add_message(struct ingest_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void add_message(struct ingest_result *res, const char *fmt, ...)
{
	size_t used = strlen(res->message);
	if (used + 3 >= sizeof res->message)
		return;
	if (used) {
		strcpy(res->message + used, "; ");
		used += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->message + used, sizeof res->message - used, fmt, ap);
	va_end(ap);
}

static bool is_honeyd_log(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strstr(base, "honeyd"))
		return true;
	size_t n = strlen(base);
	return (n > 4 && !strcmp(base + n - 4, ".log")) ||
	       (n > 7 && !strcmp(base + n - 7, ".log.gz"));
}

static void tick(struct ingest *ig, uint64_t frames)
{
	if ((frames & 0xffff) == 0 && ig->cfg.progress)
		ig->cfg.progress(ig->cfg.progress_ctx, frames);
}

static void read_capture(struct ingest *ig, const struct ingest_file *f,
			 struct ingest_result *res)
{
	struct vg_err err = {0};
	struct cap_reader *cr;
	if (cap_open(&cr, f->path, &err)) {
		res->damaged = true;
		add_message(res, "%s", err.msg);
		return;
	}
	int link = cap_linktype(cr);
	res->kind = link == VG_LINK_PFLOG ? "pflog" : "pcap";
	struct cap_packet cp;
	int r;
	uint64_t n = 0;
	while ((r = cap_next(cr, &cp, &err)) == 1) {
		struct vg_pkt pkt;
		int st = vg_decode(link, cp.data, cp.caplen, cp.wirelen, &pkt);
		pkt.ts_ns = cp.ts_ns;
		an_engine_frame(ig->eng, st, &pkt);
		n++;
		if (st < 0) {
			res->bad++;
			if (res->bad <= MAX_BAD_SHOWN) {
				if (cap_is_pcapng(cr))
					add_message(res, "%s: record at byte offset %" PRIu64
						    " (packet %" PRIu64 "), frame byte %u: %s",
						    f->path, cp.offset, n, pkt.err_off, vg_dec_strerror(st));
				else
					add_message(res, "%s: byte offset %" PRIu64 " (packet %" PRIu64
						    ", frame byte %u): %s", f->path,
						    cp.offset + CAP_PCAP_RECORD_HDR + pkt.err_off, n,
						    pkt.err_off, vg_dec_strerror(st));
			}
		}
		tick(ig, n);
		if (ig->hook_err)
			break;
	}
	if (r < 0) {
		res->damaged = true;
		add_message(res, "%s", err.msg);
	}
	cap_close(cr);
}

/* A Honeyd log line as the packet the engine would have seen: "S" is the
 * flow's first packet (a header-only datagram: Honeyd logged no size),
 * "-" a packet of the logged IP length.  No TCP header is given (l4 is
 * NULL), so nothing is fingerprinted from these lines. */
static bool honeyd_packet(const struct hl_event *ev, struct vg_pkt *p)
{
	if (ev->kind != HL_START && ev->kind != HL_PROBE)
		return false;
	memset(p, 0, sizeof *p);
	p->ts_ns = ev->ts_ns;
	p->ipver = ev->src.v;
	p->proto = ev->proto;
	p->src = ev->src;
	p->dst = ev->dst;
	uint32_t iph = ev->src.v == 6 ? 40 : 20;
	p->ip_hlen = (uint16_t)iph;
	if (ev->proto == 6 || ev->proto == 17) {
		p->sport = ev->sport;
		p->dport = ev->dport;
	} else if (ev->proto == 1 || ev->proto == 58) {
		p->icmp_type = (uint8_t)ev->sport;
		p->icmp_code = (uint8_t)ev->dport;
	}
	if (ev->kind == HL_PROBE) {
		p->ip_len = ev->ip_len;
		p->tcp_flags = ev->tcp_flags;
	} else {
		p->ip_len = iph + (ev->proto == 6 ? 20 : ev->proto == 17 || ev->proto == 1 ||
				   ev->proto == 58 ? 8 : 0);
		p->tcp_flags = ev->proto == 6 ? VG_TH_SYN : 0;
	}
	return true;
}

static void read_honeyd(struct ingest *ig, const struct ingest_file *f,
			struct ingest_result *res)
{
	res->kind = "honeyd";
	gzFile gz = gzopen(f->path, "rb");
	if (!gz) {
		res->damaged = true;
		add_message(res, "%s: cannot open: %s", f->path, strerror(errno ? errno : EIO));
		return;
	}
	/* HL_LINE_MAX is 8192; one more for the newline, one for the NUL. */
	static const size_t LMAX = 8192 + 2;
	char *line = malloc(LMAX);
	char os[256];
	uint64_t lineno = 0, n = 0;
	bool skipping = false;
	while (line && gzgets(gz, line, (int)LMAX)) {
		size_t len = strlen(line);
		bool whole = len && line[len - 1] == '\n';
		if (skipping) {         /* the rest of an overlong line */
			skipping = !whole;
			continue;
		}
		lineno++;
		if (!whole && !gzeof(gz)) {
			skipping = true;
			res->bad++;
			if (res->bad <= MAX_BAD_SHOWN)
				add_message(res, "%s: line %" PRIu64 ": longer than %zu bytes",
					    f->path, lineno, LMAX - 2);
			continue;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (!len || line[0] == '#')
			continue;
		/* Service (-s) lines carry text, not packets. */
		if (len > 2 && line[len - 1] == '|' && strstr(line, ": |"))
			continue;
		struct hl_event ev;
		struct vg_err perr = {0};
		if (hl_parse(line, &ev, os, sizeof os, &perr)) {
			res->bad++;
			an_engine_frame(ig->eng, VG_DEC_MALFORMED, NULL);
			if (res->bad <= MAX_BAD_SHOWN)
				add_message(res, "%s: line %" PRIu64 ": %s", f->path, lineno, perr.msg);
			continue;
		}
		struct vg_pkt p;
		if (!honeyd_packet(&ev, &p))
			continue;
		an_engine_frame(ig->eng, VG_DEC_OK, &p);
		tick(ig, ++n);
		if (ig->hook_err)
			break;
	}
	int errnum = 0;
	const char *zmsg = gzerror(gz, &errnum);
	if (!line || (errnum != Z_OK && errnum != Z_STREAM_END)) {
		res->damaged = true;
		add_message(res, "%s: after line %" PRIu64 ": %s", f->path, lineno,
			    line ? zmsg : "out of memory");
	}
	free(line);
	gzclose(gz);
}

/* ---- writing ----------------------------------------------------------------- */

struct bin_writer {
	struct ingest *ig;
	enum an_category cat;
	uint32_t sensor_id;
	bool *os_used;
	struct vg_err *err;
};

static int write_bin(int64_t bin, unsigned key, struct stats_counts v, void *ctx)
{
	struct bin_writer *bw = ctx;
	char name[128];
	an_engine_key_name(bw->ig->eng, bw->cat, key, name, sizeof name);
	if (bw->cat == AN_OS && bw->os_used && key <= bw->ig->os_unknown)
		bw->os_used[key] = true;
	struct db_bin b = {
		.start = bin * (int64_t)bw->ig->bin_seconds,
		.sensor_id = bw->sensor_id,
		.cat = (enum db_category)bw->cat,
		.key = name,
		.packets = v.packets,
		.bytes = v.bytes,
	};
	return db_bin_add(bw->ig->cfg.db, &b, bw->err);
}

static int write_bins(struct ingest *ig, uint32_t sensor_id, struct vg_err *err)
{
	bool *os_used = calloc(ig->os_unknown + 1, sizeof *os_used);
	if (!os_used)
		return vg_err_set(err, -ENOMEM, "out of memory");
	int r = 0;
	for (int c = 0; c < AN_NCATS && !r; c++) {
		struct bin_writer bw = {ig, (enum an_category)c, sensor_id, os_used, err};
		r = stats_cat_foreach(an_engine_cat(ig->eng, (enum an_category)c), write_bin, &bw);
	}
	for (unsigned k = 0; k <= ig->os_unknown && !r; k++) {
		if (!os_used[k])
			continue;
		char name[128];
		an_engine_key_name(ig->eng, AN_OS, k, name, sizeof name);
		bool unknown = k >= ig->os_unknown;
		r = db_os_label(ig->cfg.db, name, unknown ? DB_OS_UNKNOWN_ORD : k,
				!unknown && an_engine_os_is_windows(ig->eng, k), err);
	}
	free(os_used);
	return r;
}

static int write_sources(struct ingest *ig, uint32_t sensor_id, struct vg_err *err)
{
	uint32_t *ports = NULL;
	int r = 0;
	for (size_t i = 0; i < ig->nsd && !r; i++) {
		struct srcday *s = &ig->sd[i];
		struct db_source_day row = {
			.day = s->k.day,
			.ip = s->k.ip,
			.packets = s->packets,
			.bytes = s->bytes,
			.first_s = s->first_s,
			.last_s = s->last_s,
			.sensors = &sensor_id,
			.nsensors = 1,
		};
		an_engine_key_name(ig->eng, AN_OS, s->os, row.os, sizeof row.os);
		row.country[0] = (char)(s->cc >> 8);
		row.country[1] = (char)(s->cc & 0xff);
		if (s->bits) {
			uint32_t *nv = realloc(ports, s->nports * sizeof *nv);
			if (!nv) {
				r = vg_err_set(err, -ENOMEM, "out of memory");
				break;
			}
			ports = nv;
			size_t w = 0;
			for (uint32_t p = 0; p < PORT_BITS && w < s->nports; p++)
				if (s->bits[p >> 6] >> (p & 63) & 1)
					ports[w++] = p;
			row.ports = ports;
			row.nports = w;
		} else {
			row.ports = s->ports;
			row.nports = s->nports;
		}
		r = db_source_day_merge(ig->cfg.db, &row, err);
	}
	free(ports);
	return r;
}

struct os_writer {
	struct ingest *ig;
	struct vg_err *err;
	int r;
};

static int write_host_os(const struct vg_ip *ip, const struct an_host *h, void *ctx)
{
	struct os_writer *ow = ctx;
	struct ingest *ig = ow->ig;
	struct key k = {0, *ip};
	size_t slot;
	uint32_t was = kmap_find(&ig->loaded, &k, &slot);
	if (was == UINT32_MAX)
		was = ig->os_unknown;
	if (h->os == was)
		return 0;
	char name[128];
	an_engine_key_name(ig->eng, AN_OS, h->os, name, sizeof name);
	ow->r = db_host_os_set(ig->cfg.db, ip, name, ow->err);
	return ow->r;
}

int ingest_file(struct ingest *ig, const struct ingest_file *f, struct ingest_result *res,
		struct vg_err *err)
{
	memset(res, 0, sizeof *res);
	res->kind = "pcap";
	struct vg_err herr = {0};
	if (ingest_sha256(f->path, res->sha256, &res->size, &herr)) {
		res->outcome = INGEST_UNREADABLE;
		snprintf(res->message, sizeof res->message, "%s", herr.msg);
		return 0;
	}
	struct db *db = ig->cfg.db;
	int r = db_begin(db, err);
	if (r)
		return r;
	r = db_file_state(db, f->name, res->sha256, err);
	if (r < 0)
		goto rollback;
	if (r != DB_FILE_NEW) {
		db_rollback(db);
		res->outcome = r == DB_FILE_SAME ? INGEST_ALREADY : INGEST_CHANGED;
		if (r == DB_FILE_CHANGED)
			snprintf(res->message, sizeof res->message, "%s: changed since it was "
				 "ingested (SHA-256 now %s); not counted again", f->path, res->sha256);
		return 0;
	}
	uint32_t sensor_id;
	if ((r = db_sensor_ensure(db, f->sensor, f->sensor_id, &sensor_id, err)))
		goto rollback;

	reset_file_state(ig);
	ig->cur_sensor = sensor_id;
	ig->cur_honeynets = f->honeynets;
	struct an_config acfg = {
		.honeynets = f->honeynets,
		.bin_seconds = ig->bin_seconds,
		.geo = ig->cfg.geo,
		.fp = ig->cfg.fp,
		.host_init = hook_host_init,
		.on_count = hook_count,
		.hook_ctx = ig,
		.pflog_in_only = true,
	};
	if ((r = an_engine_new(&ig->eng, &acfg))) {
		r = vg_err_set(err, r, "cannot start the analysis: %s", strerror(-r));
		goto rollback;
	}
	if (is_honeyd_log(f->path))
		read_honeyd(ig, f, res);
	else
		read_capture(ig, f, res);
	/* the last batch's hits still feed the early-warning key */
	if (ig->cl && !ig->hook_err && (r = classifier_finish(ig->cl)))
		ig->hook_err = vg_err_set(&ig->hook_verr, r, "classifying: %s",
					  r < 0 ? strerror(-r) : "stopped");
	if (ig->hook_err) {
		r = ig->hook_err;
		*err = ig->hook_verr;
		goto rollback;
	}
	if ((r = an_engine_finish(ig->eng))) {
		r = vg_err_set(err, r, "out of memory while counting %s", f->path);
		goto rollback;
	}
	if (res->bad > MAX_BAD_SHOWN)
		add_message(res, "%" PRIu64 " damaged packets in all", res->bad);
	if (res->bad)
		res->damaged = true;
	const struct an_counters *c = an_engine_counters(ig->eng);
	res->frames = c->frames;
	res->packets = c->counted;
	res->bytes = c->counted_bytes;
	res->sources = ig->nsd;

	if ((r = write_bins(ig, sensor_id, err)) || (r = write_sources(ig, sensor_id, err)))
		goto rollback;
	if (ig->cl) {
		/* the file's incidents join the day's in the database,
		 * in the file's transaction: a file counts once */
		if ((r = classifier_store(ig->cl, db, INT64_MIN, err)))
			goto rollback;
		res->incidents = classifier_count(ig->cl);
	}
	if (ig->ew && (r = ew_acc_write(ig->ew, db, sensor_id, err)))
		goto rollback;
	struct os_writer ow = {ig, err, 0};
	an_hosts_foreach(an_engine_host_table(ig->eng), write_host_os, &ow);
	if ((r = ow.r))
		goto rollback;
	struct db_file row = {
		.sensor_id = sensor_id,
		.path = f->name,
		.sha256 = res->sha256,
		.size = res->size,
		.kind = res->kind,
		.ingested_at = (int64_t)time(NULL),
		.damaged = res->damaged,
		.message = res->damaged ? res->message : NULL,
		.frames = c->frames,
		.packets = c->counted,
		.bytes = c->counted_bytes,
		.first_ns = c->first_ns,
		.last_ns = c->last_ns,
	};
	if ((r = db_file_add(db, &row, err)) || (r = db_commit(db, err)))
		goto rollback;
	reset_file_state(ig);
	res->outcome = INGEST_STORED;
	return 0;
rollback:
	db_rollback(db);
	reset_file_state(ig);
	return r;
}
