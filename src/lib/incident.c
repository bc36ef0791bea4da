/* incident.c: the classifier (see incident.h).
 *
 * Per packet, at most one source lookup: the source's record holds its
 * detectors' state (det_src) and the head of its list of incidents, so a
 * hit is an integer compare along a list of a few entries.  An incident's
 * (category, name) is interned to a class number when the classifier
 * starts.  Evidence is kept as raw packet facts while classifying and
 * formatted and sanitized only when the incident is read: on a busy day
 * most incidents are summed, and formatting every one would cost more
 * than matching the rules.
 *
 * Packets are classified in batches (struct batch): classify_packet
 * copies the packet's header fields and payload into the current batch
 * and returns.  All classification state is per source, so sources are
 * split into shards (source index mod nshards), each with its own rule
 * matcher, detectors and incidents; a full batch is sorted by source
 * within each shard (stable: a source keeps its packets' order) and each
 * shard classifies its part source by source.  The result is the one of
 * packet order, a source's state is fetched from memory once per batch
 * instead of once per packet (on a day of 200,000 sources that is where
 * the time went), and with several CPUs each shard has a worker thread
 * while the caller goes on decoding and counting.  The caller's thread
 * keeps the source table (so hints need no locking) and calls on_hit,
 * replaying the hits the shards logged: callbacks never run on a worker.
 * Incidents are read in one order whatever the shards: by day, source
 * and class. */
#include "incident.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "sanitize.h"

/* What a piece of evidence needs, taken when the hit happens. */
struct raw_ev {
	uint64_t ts_ns;
	const struct cidr_set *honeynets;
	const char *why;            /* rule msg or detector name */
	uint32_t sid;               /* 0: a detector */
	uint32_t sensor_id;
	uint32_t plen;
	struct vg_ip dst;
	uint16_t sport, dport;
	uint8_t proto, flags, itype, icode;
	uint8_t xlen;
	uint8_t x[INCIDENT_EXCERPT];
};

/* What a hit touches, apart from the rest (struct inc), so that counting
 * one more packet is one small cache line: the incidents are many. */
struct inc_hot {
	uint32_t next;              /* the source's next incident + 1; 0 ends */
	uint32_t cls;
	uint32_t last_port, last_sensor;   /* set_add fast path */
	uint32_t prev_port;         /* ... and the port before (Mirai: 23 and 2323 in turn) */
	uint64_t count;
	int64_t first_s, last_s;
	uint32_t nev;
};

struct inc {
	struct incident pub;        /* count, first_s, last_s: from inc_hot when read */
	bool formatted;
	struct raw_ev raw[INCIDENT_EVIDENCE];
};

/* A source's classification state (its shard's; its address is in the
 * caller's table, ips). */
#define SRC_FIRST 4
struct csrc {
	int32_t day;                /* of the incidents */
	/* The source's first SRC_FIRST incidents, by class, in the record
	 * itself: a hit is then a compare in a line already fetched for the
	 * detectors, not a walk along incidents made at different times and
	 * so scattered in memory (most sources have at most four). */
	uint32_t first_cls[SRC_FIRST];
	uint32_t first_inc[SRC_FIRST];  /* index + 1; 0: none yet */
	uint32_t head;              /* the later ones, a list: first + 1 */
	struct det_src det;
};

/* ---- batches: see the top of the file ---- */
#define BATCH_PKTS 262144u      /* by default; more sources' packets meet in a batch */
#define BATCH_PKTS_MAX (1u << 21)  /* a record's offset in the arena is 30 bits */
#define HUGE_ALIGN ((size_t)2 << 20)  /* arenas start on a huge page */
#define BATCH_PKT_BYTES 256u    /* arena bytes per packet of a batch: 64 MiB */
#define NBATCH 3                /* one being filled, two classified or waiting: the
				 * workers keep up (bench/README.md), 2 made the caller wait */
#define MAX_SHARDS 8
#define LOCAL_BITS 27           /* a shard's source index */
#define SRC_MAX (((size_t)1 << 30) - 1)
/* What is kept of a packet: the header fields the rules, detectors,
 * evidence and on_hit read, the addresses (4 bytes each for IPv4, 16 for
 * IPv6), then the payload.  Kept small: every byte is written by the
 * caller's thread and read by a worker on another core. */
struct brec {
	const struct cidr_set *honeynets;
	uint64_t ts_ns;
	uint32_t sensor_id;
	uint32_t payload_caplen, payload_len;
	uint32_t tcp_seq, tcp_ack;
	uint16_t sport, dport;
	uint16_t tcp_win, ip_id;
	uint8_t ipver, proto, ttl, tcp_flags, icmp_type, icmp_code;
	uint8_t has_l4, has_payload;
	uint8_t addr[];             /* source then destination */
};
#define ADDR_LEN(v) ((v) == 4 ? 4u : 16u)
#define BREC_HEAD(v) ((sizeof(struct brec) + 2 * ADDR_LEN(v) + 7) & ~(size_t)7)

struct bhit {                   /* for on_hit, replayed on the caller's thread */
	uint32_t off;
	const char *name;
};

/* A record's key: local source index + 1 << 32 | the cache lines the
 * record spans, less one (at most 3) << KEY_LINES | its offset. */
#define KEY_LINES 30
#define KEY_OFF ((1u << KEY_LINES) - 1)

/* A shard's part of a batch. */
struct bpart {
	uint64_t *key, *tmp;        /* see KEY_LINES */
	size_t n;
	uint32_t maxsrc;            /* largest local index + 1 */
	struct bhit *hit;
	size_t nhit, caphit;
};

struct batch {
	unsigned char *arena;       /* records, each BREC_HEAD + payload, 8-aligned */
	size_t used, cap, n;
	uint64_t min_ns;
	unsigned left;              /* shards still classifying it (under mu) */
	struct bpart part[MAX_SHARDS];
	struct batch *next;
};

struct klass {
	const char *category, *name, *taxonomy, *type;
};

struct classifier;

/* The sources of one shard and all their state; only its worker (or the
 * caller, between batches) touches it. */
struct shard {
	struct classifier *c;
	struct rule_matcher *rm;
	struct det *det;
	struct inc *v;
	struct inc_hot *hot;
	size_t n, cap;
	struct csrc *src;           /* by local index */
	size_t nsrc, capsrc;
	uint64_t dropped;
	int32_t swept;              /* day up to which stale detector state was freed */
	size_t done_seq;            /* batches classified (under mu) */
	/* the packet being classified */
	struct csrc *cur;
	struct bpart *cur_part;
	uint32_t cur_off;
	uint32_t sensor_id;
	const struct cidr_set *honeynets;
	int err;
	pthread_t th;
	bool has_th;
};

struct classifier {
	struct classifier_config cfg;
	struct shard sh[MAX_SHARDS];
	unsigned nsh;
	uint64_t nsh_mul;           /* (n * nsh_mul) >> 34 == n / nsh for n < 2^30 */
	uint32_t bpkts;             /* packets per batch */
	struct klass *cls;          /* interned before the first packet: read-only after */
	size_t ncls;
	uint32_t *rule_cls;         /* per rule index */
	uint32_t det_cls[DET_NCLASSES];
	size_t ninc;                /* incidents in all shards (atomic): max_incidents */
	/* the caller's thread: sources' addresses and their index + 1 */
	struct vg_ip *ips;
	size_t nsrc, capips;
	uint32_t *slots;
	size_t nslots;
	/* incidents in their reading order: shard << 32 | index */
	uint64_t *order;
	size_t norder;
	bool order_stale;
	struct det_stats det_sum;
	struct rule_stats rule_sum;
	/* batches and workers */
	struct batch *fill;         /* being filled by the caller */
	struct batch *ring[NBATCH]; /* submitted, by sequence number mod NBATCH */
	size_t sub_seq;             /* batches submitted (under mu) */
	struct batch *done, *done_tail, *spare;
	size_t nbatches, busy;
	bool threaded, quit;
	bool pending;               /* packets given since the last finish (caller) */
	int werr;                   /* the workers' first error (under mu) */
	int perr;                   /* the first error returned to the caller */
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
};

static const struct rule_stats no_stats;

static void *worker(void *arg);

static int intern(struct classifier *c, const char *cat, const char *name, const char *tax,
		  const char *type, uint32_t *id)
{
	for (size_t i = 0; i < c->ncls; i++)
		if (!strcmp(c->cls[i].category, cat) && !strcmp(c->cls[i].name, name)) {
			*id = (uint32_t)i;
			return 0;
		}
	struct klass *nv = realloc(c->cls, (c->ncls + 1) * sizeof *nv);
	if (!nv)
		return -ENOMEM;
	c->cls = nv;
	c->cls[c->ncls] = (struct klass){cat, name, tax, type};
	*id = (uint32_t)c->ncls++;
	return 0;
}

static unsigned shard_count(int threads)
{
	if (threads < 0)
		return 1;
	long n = threads > 0 ? threads : sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > MAX_SHARDS ? MAX_SHARDS : (unsigned)n;
}

int classifier_new(struct classifier **out, const struct classifier_config *cfg,
		   struct vg_err *err)
{
	*out = NULL;
	struct classifier *c = calloc(1, sizeof *c);
	if (!c)
		return vg_err_set(err, -ENOMEM, "out of memory");
	c->cfg = *cfg;
	if (!c->cfg.max_incidents)
		c->cfg.max_incidents = 1000000;
	if (!c->cfg.max_sources)
		c->cfg.max_sources = (size_t)1 << 24;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv_work, NULL);
	pthread_cond_init(&c->cv_done, NULL);
	c->nsh = shard_count(cfg->threads);
	if (c->cfg.max_sources > SRC_MAX)
		c->cfg.max_sources = SRC_MAX;
	c->nsh_mul = ((uint64_t)1 << 34) / c->nsh + 1;
	c->bpkts = !cfg->batch_packets ? BATCH_PKTS
		 : cfg->batch_packets > BATCH_PKTS_MAX ? BATCH_PKTS_MAX : cfg->batch_packets;
	int r = 0;
	if (cfg->rules) {
		size_t nr = rule_set_count(cfg->rules);
		c->rule_cls = calloc(nr ? nr : 1, sizeof *c->rule_cls);
		if (!c->rule_cls) {
			r = -ENOMEM;
			goto bad;
		}
		for (size_t i = 0; i < nr; i++) {
			const struct rule_info *ri = rule_set_info(cfg->rules, i);
			if ((r = intern(c, ri->category, ri->name, ri->taxonomy, ri->type,
					&c->rule_cls[i])))
				goto bad;
		}
	}
	for (unsigned i = 0; i < DET_NCLASSES && !cfg->no_detectors; i++) {
		const char *cat, *name, *tax, *type;
		det_class(i, &cat, &name);
		rule_taxonomy(cat, &tax, &type);
		if ((r = intern(c, cat, name, tax, type, &c->det_cls[i])))
			goto bad;
	}
	for (unsigned i = 0; i < c->nsh; i++) {
		struct shard *sh = &c->sh[i];
		sh->c = c;
		sh->swept = INT32_MIN;
		if (cfg->rules && (r = rule_matcher_new(&sh->rm, cfg->rules, 0)))
			goto bad;
		if (!cfg->no_detectors && (r = det_new(&sh->det, &cfg->det)))
			goto bad;
	}
	if (cfg->threads >= 0 && (cfg->threads > 0 || c->nsh > 1)) {
		c->threaded = true;
		for (unsigned i = 0; i < c->nsh; i++)
			if (!(c->sh[i].has_th = !pthread_create(&c->sh[i].th, NULL, worker, &c->sh[i]))) {
				r = -EAGAIN;
				goto bad;
			}
	}
	*out = c;
	return 0;
bad:
	classifier_free(c);
	return vg_err_set(err, r, "cannot start the classifier: %s", strerror(-r));
}

static void clear_incidents(struct classifier *c)
{
	for (unsigned s = 0; s < c->nsh; s++) {
		struct shard *sh = &c->sh[s];
		for (size_t i = 0; i < sh->n; i++) {
			struct incident *in = &sh->v[i].pub;
			free(in->ports);
			free(in->sensors);
			for (size_t k = 0; k < in->nev; k++) {
				free(in->ev[k].line);
				free(in->ev[k].excerpt);
			}
		}
		sh->n = 0;
		for (size_t i = 0; i < sh->nsrc; i++) {
			sh->src[i].head = 0;
			memset(sh->src[i].first_inc, 0, sizeof sh->src[i].first_inc);
		}
	}
	c->ninc = 0;
	c->norder = 0;
	c->order_stale = false;
}

void classifier_reset(struct classifier *c)
{
	classifier_finish(c);
	clear_incidents(c);
	c->perr = 0;
	pthread_mutex_lock(&c->mu);
	c->werr = 0;
	pthread_mutex_unlock(&c->mu);
}

static void batch_free(struct batch *b)
{
	if (!b)
		return;
	free(b->arena);
	for (unsigned i = 0; i < MAX_SHARDS; i++) {
		free(b->part[i].key);
		free(b->part[i].tmp);
		free(b->part[i].hit);
	}
	free(b);
}

static void batch_list_free(struct batch *b)
{
	while (b) {
		struct batch *nx = b->next;
		batch_free(b);
		b = nx;
	}
}

void classifier_free(struct classifier *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->quit = true;
	pthread_cond_broadcast(&c->cv_work);
	pthread_mutex_unlock(&c->mu);
	for (unsigned i = 0; i < c->nsh; i++)
		if (c->sh[i].has_th)
			pthread_join(c->sh[i].th, NULL);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv_work);
	pthread_cond_destroy(&c->cv_done);
	/* every submitted batch is on the done list once the workers left */
	batch_free(c->fill);
	batch_list_free(c->done);
	batch_list_free(c->spare);
	clear_incidents(c);
	for (unsigned s = 0; s < c->nsh; s++) {
		struct shard *sh = &c->sh[s];
		for (size_t i = 0; sh->det && i < sh->nsrc; i++)
			det_src_clear(sh->det, &sh->src[i].det);
		free(sh->v);
		free(sh->hot);
		free(sh->src);
		rule_matcher_free(sh->rm);
		det_free(sh->det);
	}
	free(c->ips);
	free(c->slots);
	free(c->order);
	free(c->cls);
	free(c->rule_cls);
	free(c);
}

static int order_build(struct classifier *c);

size_t classifier_count(struct classifier *c)
{
	classifier_finish(c);
	return c->norder;
}

const struct det_stats *classifier_det_stats(struct classifier *c)
{
	classifier_finish(c);
	if (!c->sh[0].det)
		return NULL;
	memset(&c->det_sum, 0, sizeof c->det_sum);
	for (unsigned s = 0; s < c->nsh; s++) {
		const struct det_stats *d = det_get_stats(c->sh[s].det);
		c->det_sum.sources += d->sources;
		c->det_sum.entries += d->entries;
		c->det_sum.untracked += d->untracked;
		for (int k = 0; k < DET_NKINDS; k++)
			c->det_sum.hits[k] += d->hits[k];
	}
	return &c->det_sum;
}

size_t classifier_sources(struct classifier *c)
{
	return c->nsrc;
}

size_t classifier_memory(struct classifier *c)
{
	classifier_finish(c);
	size_t m = sizeof *c + c->capips * sizeof *c->ips + c->nslots * sizeof *c->slots +
		   c->norder * sizeof *c->order;
	m += c->nbatches * ((size_t)c->bpkts * BATCH_PKT_BYTES +
			    c->nsh * (size_t)c->bpkts * 2 * sizeof(uint64_t));
	for (unsigned s = 0; s < c->nsh; s++) {
		const struct shard *sh = &c->sh[s];
		m += sh->cap * (sizeof *sh->v + sizeof *sh->hot) + sh->capsrc * sizeof *sh->src;
		for (size_t i = 0; i < sh->n; i++)
			m += (sh->v[i].pub.nports + sh->v[i].pub.nsensors) * sizeof(uint32_t);
		if (sh->det)
			m += det_memory(sh->det);
	}
	return m;
}

uint64_t classifier_dropped(struct classifier *c)
{
	classifier_finish(c);
	uint64_t d = 0;
	for (unsigned s = 0; s < c->nsh; s++)
		d += c->sh[s].dropped;
	return d;
}

const struct rule_stats *classifier_rule_stats(struct classifier *c)
{
	classifier_finish(c);
	if (!c->sh[0].rm)
		return &no_stats;
	memset(&c->rule_sum, 0, sizeof c->rule_sum);
	for (unsigned s = 0; s < c->nsh; s++) {
		const struct rule_stats *r = rule_matcher_stats(c->sh[s].rm);
		c->rule_sum.packets += r->packets;
		c->rule_sum.payload_bytes += r->payload_bytes;
		c->rule_sum.candidates += r->candidates;
		c->rule_sum.hits += r->hits;
		c->rule_sum.scanned_bytes += r->scanned_bytes;
	}
	return &c->rule_sum;
}

/* ---- the token ----------------------------------------------------------- */

void incident_hp_token(const struct vg_ip *ip, uint32_t sensor_id,
		       const struct cidr_set *honeynets, char *buf, size_t len)
{
	for (size_t i = 0; honeynets && i < honeynets->n; i++) {
		const struct cidr *cn = &honeynets->v[i];
		if (!cidr_contains(cn, ip))
			continue;
		/* host number: the address's low bits below the prefix */
		size_t nb = ip->v == 6 ? 16 : 4;
		uint64_t host = 0;
		unsigned hostbits = (unsigned)(nb * 8) - cn->len;
		for (size_t k = nb >= 8 ? nb - 8 : 0; k < nb; k++)
			host = host << 8 | ip->a[k];
		if (hostbits < 64)
			host &= (1ull << hostbits) - 1;
		snprintf(buf, len, "hp-%" PRIu32 ".%" PRIu64, sensor_id, host);
		return;
	}
	uint32_t h = 2166136261u;
	for (size_t k = 0; k < (ip->v == 6 ? 16u : 4u); k++)
		h = (h ^ ip->a[k]) * 16777619u;
	snprintf(buf, len, "hp-%" PRIu32 ".x%04x", sensor_id, (h ^ h >> 16) & 0xffff);
}

/* ---- sources --------------------------------------------------------------- */

static uint64_t ip_hash(const struct vg_ip *ip)
{
	uint64_t a, b;
	memcpy(&a, ip->a, 8);
	memcpy(&b, ip->a + 8, 8);
	uint64_t h = (a ^ ip->v) * 0x9e3779b97f4a7c15ull ^ b * 0xff51afd7ed558ccdull;
	return h ^ h >> 31;
}

static int grow_sources(struct classifier *c)
{
	size_t ns = c->nslots ? c->nslots * 2 : 4096;
	uint32_t *s = calloc(ns, sizeof *s);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < c->nsrc; i++) {
		size_t j = ip_hash(&c->ips[i]) & (ns - 1);
		while (s[j])
			j = (j + 1) & (ns - 1);
		s[j] = (uint32_t)i + 1;
	}
	free(c->slots);
	c->slots = s;
	c->nslots = ns;
	return 0;
}

/* The caller's side: the source's index + 1, the source added when
 * absent; 0 beyond max_sources. */
static int source_index(struct classifier *c, const struct vg_ip *ip, uint32_t *idx)
{
	*idx = 0;
	int r;
	if ((c->nsrc + 1) * 2 > c->nslots && (r = grow_sources(c)))
		return r;
	size_t m = c->nslots - 1, j = ip_hash(ip) & m;
	for (; c->slots[j]; j = (j + 1) & m) {
		const struct vg_ip *s = &c->ips[c->slots[j] - 1];
		if (s->v == ip->v && !memcmp(s->a, ip->a, 16)) {
			*idx = c->slots[j];
			return 0;
		}
	}
	if (c->nsrc >= c->cfg.max_sources)
		return 0;
	if (c->nsrc == c->capips) {
		size_t cap = c->capips ? c->capips * 2 : 1024;
		struct vg_ip *nv = realloc(c->ips, cap * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		c->ips = nv;
		c->capips = cap;
	}
	c->ips[c->nsrc] = *ip;
	c->slots[j] = *idx = (uint32_t)++c->nsrc;
	return 0;
}

/* A shard's state for its sources up to local index n. */
static int grow_states(struct shard *sh, size_t n)
{
	if (n > sh->capsrc) {
		size_t cap = sh->capsrc ? sh->capsrc : 1024;
		while (cap < n)
			cap *= 2;
		struct csrc *nv = realloc(sh->src, cap * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		sh->src = nv;
		sh->capsrc = cap;
	}
	for (; sh->nsrc < n; sh->nsrc++) {
		memset(&sh->src[sh->nsrc], 0, sizeof *sh->src);
		sh->src[sh->nsrc].day = INT32_MIN;
	}
	return 0;
}

/* ---- incidents ------------------------------------------------------------ */

static int set_add(uint32_t **v, size_t *n, uint32_t x)
{
	size_t lo = 0, hi = *n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if ((*v)[mid] == x)
			return 0;
		if ((*v)[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* grow by powers of two */
	if (!(*n & (*n - 1)) || !*n) {
		size_t cap = *n ? *n * 2 : 2;
		uint32_t *nv = realloc(*v, cap * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		*v = nv;
	}
	memmove(*v + lo + 1, *v + lo, (*n - lo) * sizeof **v);
	(*v)[lo] = x;
	(*n)++;
	return 0;
}

static void take_evidence(struct shard *sh, const struct vg_pkt *p, uint32_t sid,
			  const char *why, struct raw_ev *ev)
{
	ev->ts_ns = p->ts_ns;
	ev->honeynets = sh->honeynets;
	ev->why = why;
	ev->sid = sid;
	ev->sensor_id = sh->sensor_id;
	ev->plen = p->payload_len;
	ev->dst = p->dst;
	ev->sport = p->sport;
	ev->dport = p->dport;
	ev->proto = p->proto;
	ev->flags = p->tcp_flags;
	ev->itype = p->icmp_type;
	ev->icode = p->icmp_code;
	uint32_t n = p->payload ? p->payload_caplen : 0;
	if (n > INCIDENT_EXCERPT)
		n = INCIDENT_EXCERPT;
	ev->xlen = (uint8_t)n;
	if (n)
		memcpy(ev->x, p->payload, n);
}

static int record(struct shard *sh, const struct vg_pkt *p, uint32_t cls, uint32_t sid,
		  uint64_t count, int64_t first_s, const char *why)
{
	struct classifier *c = sh->c;
	struct csrc *s = sh->cur;
	if (!s)
		return 0;           /* beyond max_sources: not classified */
	int64_t now = (int64_t)(p->ts_ns / 1000000000u);
	int32_t dayno = (int32_t)(now >= 0 ? now / 86400 : (now - 86399) / 86400);
	int64_t day = (int64_t)dayno * 86400;
	if (s->day != dayno) {
		/* another day: its incidents are new ones */
		s->head = 0;
		memset(s->first_inc, 0, sizeof s->first_inc);
		s->day = dayno;
	}
	struct inc_hot *h = NULL;
	unsigned f;
	for (f = 0; f < SRC_FIRST && s->first_inc[f]; f++)
		if (s->first_cls[f] == cls) {
			h = &sh->hot[s->first_inc[f] - 1];
			break;
		}
	if (!h && f == SRC_FIRST)
		for (uint32_t i = s->head; i; i = sh->hot[i - 1].next)
			if (sh->hot[i - 1].cls == cls) {
				h = &sh->hot[i - 1];
				break;
			}
	if (!h) {
		/* the bound is over all shards: near it, which shard's hit is
		 * dropped depends on timing */
		if (__atomic_fetch_add(&c->ninc, 1, __ATOMIC_RELAXED) >= c->cfg.max_incidents) {
			__atomic_fetch_sub(&c->ninc, 1, __ATOMIC_RELAXED);
			sh->dropped++;
			return 0;
		}
		if (sh->n == sh->cap) {
			size_t cap = sh->cap ? sh->cap * 2 : 256;
			struct inc *nv = realloc(sh->v, cap * sizeof *nv);
			if (!nv)
				return -ENOMEM;
			sh->v = nv;
			struct inc_hot *nh = realloc(sh->hot, cap * sizeof *nh);
			if (!nh)
				return -ENOMEM;
			sh->hot = nh;
			sh->cap = cap;
		}
		struct inc *in = &sh->v[sh->n];
		memset(in, 0, offsetof(struct inc, raw));
		const struct klass *k = &c->cls[cls];
		in->pub.day = day;
		in->pub.src = p->src;
		in->pub.category = k->category;
		in->pub.name = k->name;
		in->pub.taxonomy = k->taxonomy;
		in->pub.type = k->type;
		in->pub.sid = sid;
		h = &sh->hot[sh->n];
		*h = (struct inc_hot){
			.next = f < SRC_FIRST ? 0 : s->head, .cls = cls,
			.last_port = UINT32_MAX, .last_sensor = UINT32_MAX, .prev_port = UINT32_MAX,
			.first_s = first_s < now && first_s >= day ? first_s : now,
			.last_s = now,
		};
		if (f < SRC_FIRST) {
			s->first_cls[f] = cls;
			s->first_inc[f] = (uint32_t)++sh->n;
		} else {
			s->head = (uint32_t)++sh->n;
		}
	}
	if (now < h->first_s)
		h->first_s = now;
	if (now > h->last_s)
		h->last_s = now;
	h->count += count;
	uint32_t port = p->proto == 6 ? DB_PORT_TCP(p->dport)
		      : p->proto == 17 ? DB_PORT_UDP(p->dport) : UINT32_MAX;
	struct inc *in = &sh->v[h - sh->hot];
	if (port != UINT32_MAX && port != h->last_port) {
		if (port != h->prev_port && set_add(&in->pub.ports, &in->pub.nports, port))
			return -ENOMEM;
		h->prev_port = h->last_port;
		h->last_port = port;
	}
	if (sh->sensor_id != h->last_sensor) {
		if (set_add(&in->pub.sensors, &in->pub.nsensors, sh->sensor_id))
			return -ENOMEM;
		h->last_sensor = sh->sensor_id;
	}
	if (h->nev < INCIDENT_EVIDENCE) {
		take_evidence(sh, p, sid, why, &in->raw[h->nev++]);
		in->pub.nev = h->nev;
	}
	if (c->cfg.on_hit) {
		struct bpart *b = sh->cur_part;
		if (b->nhit == b->caphit) {
			size_t cap = b->caphit ? b->caphit * 2 : 1024;
			struct bhit *nv = realloc(b->hit, cap * sizeof *nv);
			if (!nv)
				return -ENOMEM;
			b->hit = nv;
			b->caphit = cap;
		}
		b->hit[b->nhit++] = (struct bhit){sh->cur_off, c->cls[cls].name};
	}
	return 0;
}

static int on_rule(void *ctx, size_t idx, const struct vg_pkt *p)
{
	struct shard *sh = ctx;
	const struct rule_info *ri = rule_set_info(sh->c->cfg.rules, idx);
	int r = record(sh, p, sh->c->rule_cls[idx], ri->sid, 1, 0, ri->msg);
	if (r)
		sh->err = r;
	return r;
}

static int on_det(void *ctx, const struct det_hit *h, const struct vg_pkt *p)
{
	struct shard *sh = ctx;
	int r = record(sh, p, sh->c->det_cls[h->id], 0, h->count, h->first_s, h->name);
	if (r)
		sh->err = r;
	return r;
}

/* The traffic reached a new day: the detectors' state of sources last
 * seen on an earlier day can never count again (it is per day), so a run
 * over many days (a backfill) holds only what the current day needs. */
static void sweep(struct shard *sh, int32_t day)
{
	for (size_t i = 0; i < sh->nsrc; i++)
		if (sh->src[i].det.day < day && sh->src[i].det.ncnt)
			det_src_clear(sh->det, &sh->src[i].det);
	sh->swept = day;
}

static const uint8_t l4_mark[1];

/* A batch's packet back as a struct vg_pkt: the fields kept (struct
 * brec) and the payload, the rest zero; l3 is NULL and l4 only says that
 * there was an upper-layer header (the rules and detectors test nothing
 * else of them). */
static void unpack(const struct batch *b, uint32_t off, struct vg_pkt *p)
{
	const struct brec *r = (const struct brec *)(const void *)(b->arena + off);
	unsigned al = ADDR_LEN(r->ipver);
	memset(p, 0, sizeof *p);
	p->ts_ns = r->ts_ns;
	p->ipver = r->ipver;
	p->proto = r->proto;
	p->ttl = r->ttl;
	p->ip_id = r->ip_id;
	p->src.v = p->dst.v = r->ipver;
	memcpy(p->src.a, r->addr, al);
	memcpy(p->dst.a, r->addr + al, al);
	p->sport = r->sport;
	p->dport = r->dport;
	p->tcp_flags = r->tcp_flags;
	p->tcp_win = r->tcp_win;
	p->tcp_seq = r->tcp_seq;
	p->tcp_ack = r->tcp_ack;
	p->icmp_type = r->icmp_type;
	p->icmp_code = r->icmp_code;
	p->l4 = r->has_l4 ? l4_mark : NULL;
	p->payload = r->has_payload ? b->arena + off + BREC_HEAD(r->ipver) : NULL;
	p->payload_caplen = r->payload_caplen;
	p->payload_len = r->payload_len;
}

/* Stable sort of a part's keys by source (their high 32 bits): LSD
 * radix, 11 bits a pass, only as many passes as the largest index needs. */
static void sort_by_source(struct bpart *b)
{
	unsigned bits = 0;
	while (bits < 32 && (uint64_t)b->maxsrc >> bits)
		bits++;
	uint64_t *a = b->key, *t = b->tmp;
	for (unsigned sh = 0; sh < bits; sh += 11) {
		size_t cnt[2048] = {0};
		for (size_t i = 0; i < b->n; i++)
			cnt[a[i] >> (32 + sh) & 2047]++;
		size_t sum = 0;
		for (size_t k = 0; k < 2048; k++) {
			size_t x = cnt[k];
			cnt[k] = sum;
			sum += x;
		}
		for (size_t i = 0; i < b->n; i++)
			t[cnt[a[i] >> (32 + sh) & 2047]++] = a[i];
		uint64_t *x = a;
		a = t;
		t = x;
	}
	b->key = a;
	b->tmp = t;
}

/* Classify a shard's part of a batch (its worker, or the caller without
 * workers).  Software pipelined: a packet's record and its source's state
 * are asked for PF_FAR packets ahead, it is unpacked and its detector
 * entries and first incident asked for PF_NEAR ahead, so the memory of
 * several sources is on its way while one is classified. */
#define PF_FAR 12
#define PF_NEAR 4
static int process(struct shard *sh, struct batch *b)
{
	struct bpart *bp = &b->part[sh - sh->c->sh];
	int first = 0, r;
	if (!bp->n)
		return 0;
	int32_t day = (int32_t)(b->min_ns / 1000000000u / 86400u);
	if (sh->det && day > sh->swept)
		sweep(sh, day);
	if ((r = grow_states(sh, bp->maxsrc)))
		return r;
	sort_by_source(bp);
	sh->cur_part = bp;
	struct vg_pkt ring[PF_NEAR + 1];
	for (size_t i = 0; i < bp->n + PF_NEAR; i++) {
		if (i + PF_FAR < bp->n) {
			uint64_t k = bp->key[i + PF_FAR];
			/* only the lines the record spans: most are one (a SYN) */
			uintptr_t a = (uintptr_t)(b->arena + (k & KEY_OFF)) & ~(uintptr_t)63;
			for (unsigned l = 0; l <= (unsigned)(k >> KEY_LINES & 3); l++)
				__builtin_prefetch((const void *)(a + 64 * l));
			if (k >> 32) {
				const struct csrc *s = &sh->src[(k >> 32) - 1];
				__builtin_prefetch(s);
				__builtin_prefetch((const char *)(s + 1) - 1);
			}
		}
		if (i < bp->n) {
			uint64_t k = bp->key[i];
			struct vg_pkt *q = &ring[i % (PF_NEAR + 1)];
			unpack(b, (uint32_t)(k & KEY_OFF), q);
			if (k >> 32) {
				const struct csrc *s = &sh->src[(k >> 32) - 1];
				if (sh->det)
					det_prefetch(sh->det, &s->det, q);
				if (s->first_inc[0])
					__builtin_prefetch(&sh->hot[s->first_inc[0] - 1]);
			}
		}
		if (i < PF_NEAR)
			continue;
		size_t j = i - PF_NEAR;
		uint32_t src = (uint32_t)(bp->key[j] >> 32), off = (uint32_t)(bp->key[j] & KEY_OFF);
		const struct brec *rec = (const struct brec *)(const void *)(b->arena + off);
		const struct vg_pkt *p = &ring[j % (PF_NEAR + 1)];
		sh->cur = src ? &sh->src[src - 1] : NULL;
		sh->cur_off = off;
		sh->sensor_id = rec->sensor_id;
		sh->honeynets = rec->honeynets;
		sh->err = 0;
		r = 0;
		if (sh->rm)
			r = rule_match(sh->rm, p, on_rule, sh);
		if (r >= 0 && !sh->err && sh->det && p->l4 && sh->cur)
			r = det_packet_src(sh->det, &sh->cur->det, p, on_det, sh);
		if (!first)
			first = sh->err ? sh->err : r < 0 ? r : 0;
	}
	return first;
}

/* A batch all shards classified: to the done list, in submission order
 * (each shard takes batches in that order).  Under mu. */
static void batch_done(struct classifier *c, struct batch *b)
{
	b->next = NULL;
	if (c->done_tail)
		c->done_tail->next = b;
	else
		c->done = b;
	c->done_tail = b;
	c->busy--;
	pthread_cond_broadcast(&c->cv_done);
}

static void *worker(void *arg)
{
	struct shard *sh = arg;
	struct classifier *c = sh->c;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (sh->done_seq == c->sub_seq && !c->quit)
			pthread_cond_wait(&c->cv_work, &c->mu);
		if (sh->done_seq == c->sub_seq)
			break;
		struct batch *b = c->ring[sh->done_seq % NBATCH];
		pthread_mutex_unlock(&c->mu);
		int r = process(sh, b);
		pthread_mutex_lock(&c->mu);
		if (r && !c->werr)
			c->werr = r;
		sh->done_seq++;
		if (!--b->left)
			batch_done(c, b);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static int keep_error(struct classifier *c, int r)
{
	if (r && !c->perr)
		c->perr = r;
	return r;
}

/* The caller's side of a classified batch: its hits to on_hit, shard by
 * shard in the order they were made (none once the pass has failed: the
 * callback's error stopped it); then the batch is empty again. */
static int replay(struct classifier *c, struct batch *b)
{
	int r = c->perr;
	for (unsigned s = 0; s < c->nsh; s++) {
		struct bpart *bp = &b->part[s];
		for (size_t i = 0; i < bp->nhit && !r; i++) {
			struct vg_pkt p;
			unpack(b, bp->hit[i].off, &p);
			if ((r = c->cfg.on_hit(c->cfg.hit_ctx, &p, bp->hit[i].name)))
				keep_error(c, r);
		}
		bp->n = bp->nhit = 0;
		bp->maxsrc = 0;
	}
	b->n = b->used = 0;
	b->min_ns = UINT64_MAX;
	return r;
}

static struct batch *batch_new(const struct classifier *c)
{
	unsigned nsh = c->nsh;
	size_t bytes = (size_t)c->bpkts * BATCH_PKT_BYTES;
	struct batch *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	void *arena = NULL;
	if (posix_memalign(&arena, HUGE_ALIGN, bytes))
		arena = NULL;
#ifdef MADV_HUGEPAGE
	/* read in source order, not in the order written: with 4 KiB pages
	 * nearly every record is a TLB miss, which stalls even a prefetch
	 * (perf: most of process()'s own time sat on the arena prefetch).
	 * Advice only: without huge pages the batches still work. */
	if (arena)
		(void)madvise(arena, bytes, MADV_HUGEPAGE);
#endif
	b->arena = arena;
	bool ok = b->arena != NULL;
	/* one shard's part may hold the whole batch */
	for (unsigned i = 0; i < nsh && ok; i++) {
		b->part[i].key = malloc(c->bpkts * sizeof *b->part[i].key);
		b->part[i].tmp = malloc(c->bpkts * sizeof *b->part[i].tmp);
		ok = b->part[i].key && b->part[i].tmp;
	}
	if (!ok) {
		batch_free(b);
		return NULL;
	}
	b->cap = bytes;
	b->min_ns = UINT64_MAX;
	return b;
}

/* Without workers: classify the filled batch here and replay its hits. */
static int run_here(struct classifier *c, struct batch *b)
{
	int r = 0;
	for (unsigned s = 0; s < c->nsh; s++) {
		int x = process(&c->sh[s], b);
		if (!r)
			r = x;
	}
	int h = replay(c, b);
	return keep_error(c, r ? r : h);
}

/* Hand the filled batch to the workers.  Under mu. */
static void hand_over(struct classifier *c, struct batch *b)
{
	b->left = c->nsh;
	c->ring[c->sub_seq % NBATCH] = b;
	c->sub_seq++;
	c->busy++;
	pthread_cond_broadcast(&c->cv_work);
}

/* Hand the filled batch over (or classify it here without workers) and
 * take an empty one: a classified one, its hits replayed, or a new one
 * while fewer than NBATCH exist. */
static int submit(struct classifier *c)
{
	struct batch *b = c->fill;
	if (!c->threaded)
		return run_here(c, b);
	c->fill = NULL;
	struct batch *nb = NULL;
	bool make = false;
	pthread_mutex_lock(&c->mu);
	hand_over(c, b);
	for (;;) {
		if (c->done) {
			nb = c->done;
			c->done = nb->next;
			if (!c->done)
				c->done_tail = NULL;
			break;
		}
		if (c->spare) {
			nb = c->spare;
			c->spare = nb->next;
			break;
		}
		if (c->nbatches < NBATCH) {
			make = true;
			break;
		}
		pthread_cond_wait(&c->cv_done, &c->mu);
	}
	int werr = c->werr;
	pthread_mutex_unlock(&c->mu);
	if (make) {
		if (!(nb = batch_new(c)))
			return keep_error(c, -ENOMEM);
		c->nbatches++;
	}
	int r = replay(c, nb);
	c->fill = nb;
	return keep_error(c, werr ? werr : r);
}

int classifier_finish(struct classifier *c)
{
	if (!c->pending)
		return c->perr;
	c->pending = false;
	c->order_stale = true;
	if (c->fill && c->fill->n) {
		if (!c->threaded) {
			run_here(c, c->fill);
		} else {
			pthread_mutex_lock(&c->mu);
			hand_over(c, c->fill);
			c->fill = NULL;
			pthread_mutex_unlock(&c->mu);
		}
	}
	if (c->threaded) {
		pthread_mutex_lock(&c->mu);
		while (c->busy)
			pthread_cond_wait(&c->cv_done, &c->mu);
		struct batch *d = c->done;
		c->done = c->done_tail = NULL;
		int werr = c->werr;
		pthread_mutex_unlock(&c->mu);
		int r = 0;
		while (d) {
			struct batch *nx = d->next;
			int h = replay(c, d);
			if (!r)
				r = h;
			if (!c->fill) {
				c->fill = d;
			} else {
				pthread_mutex_lock(&c->mu);
				d->next = c->spare;
				c->spare = d;
				pthread_mutex_unlock(&c->mu);
			}
			d = nx;
		}
		keep_error(c, werr ? werr : r);
	}
	keep_error(c, order_build(c));
	return c->perr;
}

int classify_packet_hint(struct classifier *c, const struct vg_pkt *p, uint32_t sensor_id,
			 const struct cidr_set *honeynets, uint32_t *hint)
{
	if (!p || !p->ipver || (!c->sh[0].rm && !c->sh[0].det))
		return c->perr;
	if (c->perr)
		return c->perr;
	uint32_t src;
	int r;
	if (hint && *hint && *hint <= c->nsrc) {
		src = *hint;
	} else {
		if ((r = source_index(c, &p->src, &src)))
			return keep_error(c, r);
		if (hint)
			*hint = src;
	}
	uint32_t pl = p->payload ? p->payload_caplen : 0;
	size_t head = BREC_HEAD(p->ipver);
	size_t need = head + ((pl + (size_t)7) & ~(size_t)7);
	struct batch *b = c->fill;
	if (b && b->n && (b->n == c->bpkts || b->used + need > b->cap)) {
		if ((r = submit(c)))
			return r;
		b = c->fill;
	}
	if (!b) {
		if (!(b = batch_new(c)))
			return keep_error(c, -ENOMEM);
		c->fill = b;
		c->nbatches++;
	}
	if (b->used + need > b->cap) {
		/* one packet larger than a batch (jumbo frames, reassembly) */
		unsigned char *na = realloc(b->arena, b->used + need);
		if (!na)
			return keep_error(c, -ENOMEM);
		b->arena = na;
		b->cap = b->used + need;
	}
	struct brec *rec = (struct brec *)(void *)(b->arena + b->used);
	rec->honeynets = honeynets;
	rec->sensor_id = sensor_id;
	rec->payload_caplen = pl;
	rec->payload_len = p->payload_len;
	rec->has_l4 = p->l4 != NULL;
	rec->has_payload = p->payload != NULL;
	rec->ts_ns = p->ts_ns;
	rec->tcp_seq = p->tcp_seq;
	rec->tcp_ack = p->tcp_ack;
	rec->sport = p->sport;
	rec->dport = p->dport;
	rec->tcp_win = p->tcp_win;
	rec->ip_id = p->ip_id;
	rec->ipver = p->ipver;
	rec->proto = p->proto;
	rec->ttl = p->ttl;
	rec->tcp_flags = p->tcp_flags;
	rec->icmp_type = p->icmp_type;
	rec->icmp_code = p->icmp_code;
	unsigned al = ADDR_LEN(p->ipver);
	memcpy(rec->addr, p->src.a, al);
	memcpy(rec->addr + al, p->dst.a, al);
	if (pl)
		memcpy(b->arena + b->used + head, p->payload, pl);
	/* source 0 (not tracked) goes to shard 0 with no state */
	unsigned s = 0;
	uint32_t local = 0;
	if (src) {
		/* by a multiply, not a division per packet on the caller's
		 * thread: exact, as the error n / 2^34 < 1/16 stays under
		 * 1/nsh (nsh <= 8) */
		uint32_t q = (uint32_t)((uint64_t)(src - 1) * c->nsh_mul >> 34);
		s = src - 1 - q * c->nsh;
		local = q + 1;
	}
	struct bpart *bp = &b->part[s];
	/* lines spanned, less one: from the address, as an arena grown for
	 * a jumbo packet by realloc is no longer 64-aligned */
	uint64_t lines = (((uintptr_t)(b->arena + b->used) & 63) + need - 1) / 64;
	bp->key[bp->n++] = (uint64_t)local << 32 | (lines < 3 ? lines : 3) << KEY_LINES | b->used;
	if (local > bp->maxsrc)
		bp->maxsrc = local;
	c->pending = true;
	b->n++;
	b->used += need;
	if (p->ts_ns < b->min_ns)
		b->min_ns = p->ts_ns;
	return 0;
}

int classify_packet(struct classifier *c, const struct vg_pkt *p, uint32_t sensor_id,
		    const struct cidr_set *honeynets)
{
	return classify_packet_hint(c, p, sensor_id, honeynets, NULL);
}

/* ---- reading order ------------------------------------------------------------ */

struct ord {
	int64_t day;
	uint8_t v, a[16];
	uint32_t cls;
	uint64_t o;
};

static int cmp_ord(const void *a, const void *b)
{
	const struct ord *p = a, *q = b;
	if (p->day != q->day)
		return p->day < q->day ? -1 : 1;
	if (p->v != q->v)
		return p->v < q->v ? -1 : 1;
	int k = memcmp(p->a, q->a, 16);
	if (k)
		return k;
	return (p->cls > q->cls) - (p->cls < q->cls);
}

/* Incidents by (day, source, class): one source's are listed together,
 * and the order does not depend on how many shards there were. */
static int order_build(struct classifier *c)
{
	if (!c->order_stale)
		return 0;
	size_t n = 0;
	for (unsigned s = 0; s < c->nsh; s++)
		n += c->sh[s].n;
	uint64_t *o = realloc(c->order, (n ? n : 1) * sizeof *o);
	if (!o)
		return -ENOMEM;
	c->order = o;
	struct ord *t = malloc((n ? n : 1) * sizeof *t);
	if (!t)
		return -ENOMEM;
	size_t k = 0;
	for (unsigned s = 0; s < c->nsh; s++)
		for (size_t i = 0; i < c->sh[s].n; i++) {
			const struct incident *in = &c->sh[s].v[i].pub;
			t[k].day = in->day;
			t[k].v = in->src.v;
			memcpy(t[k].a, in->src.a, 16);
			t[k].cls = c->sh[s].hot[i].cls;
			t[k++].o = (uint64_t)s << 32 | i;
		}
	qsort(t, n, sizeof *t, cmp_ord);
	for (size_t i = 0; i < n; i++)
		o[i] = t[i].o;
	free(t);
	c->norder = n;
	c->order_stale = false;
	return 0;
}

/* ---- evidence, formatted when read ------------------------------------------- */

static void fmt_time(uint64_t ts_ns, char *buf, size_t len)
{
	time_t t = (time_t)(ts_ns / 1000000000u);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmp6";
	default: return "ip";
	}
}

/* Replace every occurrence of `what` in s (NUL-terminated, capacity cap)
 * with `with`. */
static void replace_all(char *s, size_t cap, const char *what, const char *with)
{
	size_t wl = strlen(what), rl = strlen(with);
	if (!wl)
		return;
	char *p = s;
	while ((p = strstr(p, what))) {
		size_t tail = strlen(p + wl);
		if ((size_t)(p - s) + rl + tail + 1 > cap) {
			/* no room: cut the text here rather than keep the address */
			*p = 0;
			return;
		}
		memmove(p + rl, p + wl, tail + 1);
		memcpy(p, with, rl);
		p += rl;
	}
}

/* Every textual form of every honeypot address out of s; when the
 * sanitizer cannot run, the text is dropped rather than kept.  Returns a
 * malloc'ed string or NULL. */
static char *scrubbed(const struct sanitizer *san, const char *s)
{
	if (!san)
		return strdup(s);
	char *out = NULL;
	if (sanitize_text(san, s, strlen(s), &out, NULL, NULL) < 0 || !out) {
		free(out);
		return strdup("(not shown: could not be sanitized)");
	}
	return out;
}

static int format_evidence(const struct classifier *c, const struct incident *in,
			   const struct raw_ev *ev, struct incident_evidence *out)
{
	char ts[32], src[64], tok[SANITIZE_TOKEN_MAX], flags[16] = "", why[200];
	char line[INCIDENT_LINE_MAX], ex[INCIDENT_EXCERPT * 4 + 1];
	fmt_time(ev->ts_ns, ts, sizeof ts);
	vg_ip_str(&in->src, src, sizeof src);
	if (!c->cfg.san || sanitize_ip(c->cfg.san, &ev->dst, tok, sizeof tok) < 0)
		incident_hp_token(&ev->dst, ev->sensor_id, ev->honeynets, tok, sizeof tok);
	if (ev->proto == 6) {
		static const char fl[] = "FSRPAUEC";
		size_t k = 0;
		for (int b = 0; b < 8; b++)
			if (ev->flags & (1u << b))
				flags[k++] = fl[b];
		flags[k] = 0;
	}
	if (ev->sid)
		snprintf(why, sizeof why, "sid %" PRIu32 " %s", ev->sid, ev->why);
	else
		snprintf(why, sizeof why, "detector: %s", ev->why);
	/* a long rule message is cut at the line's end: the line stays useful */
	int w;
	if (ev->proto == 6 || ev->proto == 17)
		w = snprintf(line, sizeof line, "%s %s%s%s:%u -> %s:%u/%s%s%s%s len %u: %s", ts,
			     in->src.v == 6 ? "[" : "", src, in->src.v == 6 ? "]" : "", ev->sport,
			     tok, ev->dport, proto_name(ev->proto), *flags ? " [" : "", flags,
			     *flags ? "]" : "", ev->plen, why);
	else
		w = snprintf(line, sizeof line, "%s %s -> %s/%s type %u code %u len %u: %s", ts,
			     src, tok, proto_name(ev->proto), ev->itype, ev->icode, ev->plen, why);
	if (w < 0)
		line[0] = 0;
	size_t k = 0;
	for (uint32_t i = 0; i < ev->xlen && k + 5 < sizeof ex; i++) {
		uint8_t b = ev->x[i];
		static const char hex[] = "0123456789abcdef";
		if (b >= 0x20 && b < 0x7f && b != '\\') {
			ex[k++] = (char)b;
		} else {
			ex[k++] = '\\';
			ex[k++] = 'x';
			ex[k++] = hex[b >> 4];
			ex[k++] = hex[b & 15];
		}
	}
	ex[k] = 0;
	/* the payload may name the honeypot (Host: headers, DCE/RPC paths):
	 * never let its address through */
	char dst[64];
	vg_ip_str(&ev->dst, dst, sizeof dst);
	replace_all(ex, sizeof ex, dst, tok);
	replace_all(line, sizeof line, dst, tok);
	out->ts_ns = ev->ts_ns;
	out->sensor_id = ev->sensor_id;
	out->line = scrubbed(c->cfg.san, line);
	out->excerpt = scrubbed(c->cfg.san, ex);
	if (!out->line || !out->excerpt) {
		free(out->line);
		free(out->excerpt);
		out->line = out->excerpt = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The i-th incident in reading order, its counters (kept in inc_hot)
 * copied out. */
static struct inc *synced(struct classifier *c, size_t i)
{
	uint64_t o = c->order[i];
	struct shard *sh = &c->sh[o >> 32];
	size_t k = (uint32_t)o;
	struct inc *in = &sh->v[k];
	in->pub.count = sh->hot[k].count;
	in->pub.first_s = sh->hot[k].first_s;
	in->pub.last_s = sh->hot[k].last_s;
	return in;
}

const struct incident *classifier_get(struct classifier *c, size_t i)
{
	classifier_finish(c);
	if (i >= c->norder)
		return NULL;
	struct inc *in = synced(c, i);
	if (!in->formatted) {
		for (size_t k = 0; k < in->pub.nev; k++)
			if (format_evidence(c, &in->pub, &in->raw[k], &in->pub.ev[k])) {
				for (size_t j = 0; j < k; j++) {
					free(in->pub.ev[j].line);
					free(in->pub.ev[j].excerpt);
					in->pub.ev[j].line = in->pub.ev[j].excerpt = NULL;
				}
				return NULL;
			}
		in->formatted = true;
	}
	return &in->pub;
}

const struct incident *classifier_peek(struct classifier *c, size_t i)
{
	classifier_finish(c);
	return i < c->norder ? &synced(c, i)->pub : NULL;
}

int classifier_store(struct classifier *c, struct db *db, int64_t day, struct vg_err *err)
{
	int r = classifier_finish(c);
	if (r)
		return vg_err_set(err, r, "classifying: %s", r < 0 ? strerror(-r) : "stopped");
	for (size_t i = 0; i < c->norder; i++) {
		if (day != INT64_MIN && synced(c, i)->pub.day != day)
			continue;
		const struct incident *in = classifier_get(c, i);
		if (!in)
			return vg_err_set(err, -ENOMEM, "out of memory formatting evidence");
		struct db_incident row = {
			.day = in->day, .ip = in->src, .category = in->category, .name = in->name,
			.taxonomy = in->taxonomy, .type = in->type, .sid = in->sid,
			.first_s = in->first_s, .last_s = in->last_s, .count = in->count,
			.ports = in->ports, .nports = in->nports,
			.sensors = in->sensors, .nsensors = in->nsensors,
		};
		struct db_evidence ev[INCIDENT_EVIDENCE];
		for (size_t k = 0; k < in->nev; k++)
			ev[k] = (struct db_evidence){(int64_t)in->ev[k].ts_ns, in->ev[k].sensor_id,
						     in->ev[k].line, in->ev[k].excerpt};
		if ((r = db_incident_merge(db, &row, ev, in->nev, err)))
			return r;
	}
	return 0;
}

/* ---- JSON ---------------------------------------------------------------------- */

struct jb {
	char *b;
	size_t len, n;
	bool full;
};

static void jput(struct jb *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jput(struct jb *j, const char *fmt, ...)
{
	if (j->full)
		return;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(j->b + j->n, j->len - j->n, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= j->len - j->n)
		j->full = true;
	else
		j->n += (size_t)k;
}

/* Character by character into the buffer: a printf per character made
 * writing a busy day's evidence slower than classifying it. */
static void jstr(struct jb *j, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if (j->full)
		return;
	size_t n = j->n;
	if (n + 1 >= j->len)
		goto full;
	j->b[n++] = '"';
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (n + 7 >= j->len)
			goto full;
		if (ch == '"' || ch == '\\') {
			j->b[n++] = '\\';
			j->b[n++] = (char)ch;
		} else if (ch < 0x20 || ch >= 0x7f) {
			memcpy(j->b + n, "\\u00", 4);
			j->b[n + 4] = hex[ch >> 4];
			j->b[n + 5] = hex[ch & 15];
			n += 6;
		} else {
			j->b[n++] = (char)ch;
		}
	}
	if (n + 2 >= j->len)
		goto full;
	j->b[n++] = '"';
	j->b[n] = 0;
	j->n = n;
	return;
full:
	j->full = true;
}

int incident_json(const struct incident *in, const char *const *names, size_t nnames,
		  char *buf, size_t len)
{
	struct jb j = {buf, len, 0, false};
	char ip[64], t1[32], t2[32], day[32];
	vg_ip_str(&in->src, ip, sizeof ip);
	fmt_time((uint64_t)in->first_s * 1000000000u, t1, sizeof t1);
	fmt_time((uint64_t)in->last_s * 1000000000u, t2, sizeof t2);
	fmt_time((uint64_t)in->day * 1000000000u, day, sizeof day);
	day[10] = 0;
	jput(&j, "{\"day\":\"%s\",\"source.ip\":", day);
	jstr(&j, ip);
	jput(&j, ",\"classification.taxonomy\":");
	jstr(&j, in->taxonomy);
	jput(&j, ",\"classification.type\":");
	jstr(&j, in->type);
	jput(&j, ",\"classification.identifier\":");
	jstr(&j, in->name);
	jput(&j, ",\"extra.category\":");
	jstr(&j, in->category);
	jput(&j, ",\"extra.sid\":%" PRIu32 ",\"extra.last_seen\":\"%s\",\"time.source\":\"%s\","
	     "\"extra.count\":%" PRIu64 ",\"destination.port\":[", in->sid, t2, t1, in->count);
	/* a vertical scanner hits thousands: the first ones, and the count */
	for (size_t i = 0; i < in->nports && i < 256; i++)
		jput(&j, "%s\"%u/%s\"", i ? "," : "", in->ports[i] & 0xffff,
		     in->ports[i] >= 65536 ? "udp" : "tcp");
	jput(&j, "],\"extra.nports\":%zu,\"extra.sensors\":[", in->nports);
	for (size_t i = 0; i < in->nsensors; i++) {
		if (i)
			jput(&j, ",");
		uint32_t id = in->sensors[i];
		if (names && id < nnames && names[id])
			jstr(&j, names[id]);
		else
			jput(&j, "\"%" PRIu32 "\"", id);
	}
	jput(&j, "],\"extra.evidence\":[");
	for (size_t i = 0; i < in->nev; i++) {
		jput(&j, "%s{\"line\":", i ? "," : "");
		jstr(&j, in->ev[i].line);
		jput(&j, ",\"excerpt\":");
		jstr(&j, in->ev[i].excerpt);
		jput(&j, "}");
	}
	jput(&j, "]}\n");
	return j.full ? -ENOSPC : (int)j.n;
}

int classifier_write_jsonl(struct classifier *c, FILE *f, const char *const *names,
			   size_t nnames)
{
	int r = classifier_finish(c);
	if (r)
		return r;
	size_t cap = 1 << 16;
	char *buf = malloc(cap);
	r = buf ? 0 : -ENOMEM;
	for (size_t i = 0; i < c->norder && !r; i++) {
		const struct incident *in = classifier_get(c, i);
		int k = in ? incident_json(in, names, nnames, buf, cap) : -ENOMEM;
		if (k < 0)
			r = k;
		else if (fwrite(buf, 1, (size_t)k, f) != (size_t)k)
			r = -EIO;
	}
	free(buf);
	return r;
}
