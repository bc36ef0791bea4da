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
 * and returns; a full batch is sorted by source (stable, so each source
 * keeps its packets' order) and classified source by source.  All state
 * is per source, so the result is the one of packet order, and a
 * source's state (its detectors' table, its incidents' counters) is
 * fetched from memory once per batch instead of once per packet: on a
 * day of 200,000 sources that is where the time went.  With more than
 * one CPU the batches are classified on a worker thread while the caller
 * goes on decoding and counting; the caller's thread keeps the source
 * table (so hints need no locking) and calls on_hit, replaying the hits
 * the worker logged, so callbacks never run on the worker. */
#include "incident.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* A source's classification state (the worker's side; its address is
 * in the caller's table, ips). */
struct csrc {
	int32_t day;                /* of the incident list */
	uint32_t head;              /* first incident + 1 */
	uint32_t last;              /* the incident last counted + 1: hits come in runs */
	struct det_src det;
};

/* ---- batches: see the top of the file ---- */
#define BATCH_PKTS 65536u
#define BATCH_BYTES ((size_t)16 << 20)
#define NBATCH 4                /* being filled, being classified, waiting */
/* What is kept of a packet: struct vg_pkt up to its pointers (every
 * header field the rules and detectors test), then the payload. */
#define PKT_HEAD offsetof(struct vg_pkt, l3)
struct brec {
	const struct cidr_set *honeynets;
	uint32_t sensor_id;
	uint32_t payload_caplen, payload_len;
	uint8_t has_l4, has_payload;
	unsigned char head[PKT_HEAD];
};
#define BREC_SIZE ((sizeof(struct brec) + 7) & ~(size_t)7)

struct bhit {                   /* for on_hit, replayed on the caller's thread */
	uint32_t off;
	const char *name;
};

struct batch {
	unsigned char *arena;       /* records, each BREC_SIZE + payload, 8-aligned */
	size_t used, cap;
	uint64_t *key, *tmp;        /* source index + 1 << 32 | record offset */
	size_t n;
	uint32_t maxsrc;
	uint64_t min_ns;
	struct bhit *hit;
	size_t nhit, caphit;
	struct batch *next;
};

struct klass {
	const char *category, *name, *taxonomy, *type;
};

struct classifier {
	struct classifier_config cfg;
	struct rule_matcher *rm;
	struct det *det;
	struct inc *v;
	struct inc_hot *hot;
	size_t n, cap;
	/* the caller's thread: sources' addresses and their index */
	struct vg_ip *ips;
	size_t nsrc, capips;
	uint32_t *slots;            /* source index + 1; 0 empty */
	size_t nslots;
	/* the worker's: sources' state, by the same index */
	struct csrc *src;
	size_t nsrc_w, capsrc;
	struct klass *cls;
	size_t ncls;
	uint32_t *rule_cls;         /* per rule index */
	const char *det_name[16];   /* detector names seen (static strings) */
	uint32_t det_cls[16];
	size_t ndet;
	uint64_t dropped;
	int32_t swept;              /* day up to which stale detector state was freed */
	/* the packet being classified (worker) */
	struct csrc *cur;
	struct batch *cur_batch;
	uint32_t cur_off;
	uint32_t sensor_id;
	const struct cidr_set *honeynets;
	int err;
	/* batches and the worker thread */
	struct batch *fill;         /* being filled by the caller */
	struct batch *todo, *todo_tail, *done, *done_tail, *spare;
	size_t nbatches, busy;
	bool threaded, quit;
	bool pending;               /* packets given since the last finish (caller) */
	int werr;                   /* the worker's first error (under mu) */
	int perr;                   /* the first error returned to the caller */
	pthread_t th;
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

int classifier_new(struct classifier **out, const struct classifier_config *cfg,
		   struct vg_err *err)
{
	*out = NULL;
	struct classifier *c = calloc(1, sizeof *c);
	if (!c)
		return vg_err_set(err, -ENOMEM, "out of memory");
	c->cfg = *cfg;
	c->swept = INT32_MIN;
	if (!c->cfg.max_incidents)
		c->cfg.max_incidents = 1000000;
	if (!c->cfg.max_sources)
		c->cfg.max_sources = (size_t)1 << 24;
	int r = 0;
	if (cfg->rules) {
		if ((r = rule_matcher_new(&c->rm, cfg->rules, 0)))
			goto bad;
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
	if (!cfg->no_detectors && (r = det_new(&c->det, &cfg->det)))
		goto bad;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv_work, NULL);
	pthread_cond_init(&c->cv_done, NULL);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (cfg->threads > 0 || (cfg->threads == 0 && ncpu > 1)) {
		c->threaded = !pthread_create(&c->th, NULL, worker, c);
		/* no thread: the caller's classifies its batches itself */
	}
	*out = c;
	return 0;
bad:
	classifier_free(c);
	return vg_err_set(err, r, "cannot start the classifier: %s", strerror(-r));
}

static void clear_incidents(struct classifier *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct incident *in = &c->v[i].pub;
		free(in->ports);
		free(in->sensors);
		for (size_t k = 0; k < in->nev; k++) {
			free(in->ev[k].line);
			free(in->ev[k].excerpt);
		}
	}
	c->n = 0;
	for (size_t i = 0; i < c->nsrc_w; i++)
		c->src[i].head = c->src[i].last = 0;
}

void classifier_reset(struct classifier *c)
{
	classifier_finish(c);
	clear_incidents(c);
	c->perr = 0;
	if (c->threaded) {
		pthread_mutex_lock(&c->mu);
		c->werr = 0;
		pthread_mutex_unlock(&c->mu);
	}
}

static void batch_free(struct batch *b)
{
	if (!b)
		return;
	free(b->arena);
	free(b->key);
	free(b->tmp);
	free(b->hit);
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
	if (c->threaded) {
		pthread_mutex_lock(&c->mu);
		c->quit = true;
		pthread_cond_signal(&c->cv_work);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->th, NULL);
	}
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv_work);
	pthread_cond_destroy(&c->cv_done);
	batch_free(c->fill);
	batch_list_free(c->todo);
	batch_list_free(c->done);
	batch_list_free(c->spare);
	clear_incidents(c);
	for (size_t i = 0; c->det && i < c->nsrc_w; i++)
		det_src_clear(c->det, &c->src[i].det);
	free(c->v);
	free(c->hot);
	free(c->src);
	free(c->ips);
	free(c->slots);
	free(c->cls);
	free(c->rule_cls);
	rule_matcher_free(c->rm);
	det_free(c->det);
	free(c);
}

size_t classifier_count(struct classifier *c)
{
	classifier_finish(c);
	return c->n;
}

const struct det_stats *classifier_det_stats(struct classifier *c)
{
	classifier_finish(c);
	return c->det ? det_get_stats(c->det) : NULL;
}

size_t classifier_sources(struct classifier *c)
{
	return c->nsrc;
}

size_t classifier_memory(struct classifier *c)
{
	classifier_finish(c);
	size_t m = sizeof *c + c->cap * (sizeof *c->v + sizeof *c->hot) + c->capsrc * sizeof *c->src +
		   c->capips * sizeof *c->ips + c->nslots * sizeof *c->slots;
	m += c->nbatches * (BATCH_BYTES + BATCH_PKTS * 2 * sizeof(uint64_t));
	for (size_t i = 0; i < c->n; i++)
		m += (c->v[i].pub.nports + c->v[i].pub.nsensors) * sizeof(uint32_t);
	if (c->det)
		m += det_memory(c->det);
	return m;
}

uint64_t classifier_dropped(struct classifier *c)
{
	classifier_finish(c);
	return c->dropped;
}

const struct rule_stats *classifier_rule_stats(struct classifier *c)
{
	classifier_finish(c);
	return c->rm ? rule_matcher_stats(c->rm) : &no_stats;
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

/* The worker's side: state for sources up to index n. */
static int grow_states(struct classifier *c, size_t n)
{
	if (n > c->capsrc) {
		size_t cap = c->capsrc ? c->capsrc : 1024;
		while (cap < n)
			cap *= 2;
		struct csrc *nv = realloc(c->src, cap * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		c->src = nv;
		c->capsrc = cap;
	}
	for (; c->nsrc_w < n; c->nsrc_w++) {
		memset(&c->src[c->nsrc_w], 0, sizeof *c->src);
		c->src[c->nsrc_w].day = INT32_MIN;
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

static void take_evidence(struct classifier *c, const struct vg_pkt *p, uint32_t sid,
			  const char *why, struct raw_ev *ev)
{
	ev->ts_ns = p->ts_ns;
	ev->honeynets = c->honeynets;
	ev->why = why;
	ev->sid = sid;
	ev->sensor_id = c->sensor_id;
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

static int record(struct classifier *c, const struct vg_pkt *p, uint32_t cls, uint32_t sid,
		  uint64_t count, int64_t first_s, const char *why)
{
	struct csrc *s = c->cur;
	if (!s)
		return 0;           /* beyond max_sources: not classified */
	int64_t now = (int64_t)(p->ts_ns / 1000000000u);
	int32_t dayno = (int32_t)(now >= 0 ? now / 86400 : (now - 86399) / 86400);
	int64_t day = (int64_t)dayno * 86400;
	if (s->day != dayno) {
		s->head = s->last = 0;      /* another day: its incidents are new ones */
		s->day = dayno;
	}
	struct inc_hot *h = NULL;
	if (s->last && c->hot[s->last - 1].cls == cls)
		h = &c->hot[s->last - 1];
	else
		for (uint32_t i = s->head; i; i = c->hot[i - 1].next)
			if (c->hot[i - 1].cls == cls) {
				h = &c->hot[i - 1];
				s->last = i;
				break;
			}
	if (!h) {
		if (c->n >= c->cfg.max_incidents) {
			c->dropped++;
			return 0;
		}
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 256;
			struct inc *nv = realloc(c->v, cap * sizeof *nv);
			if (!nv)
				return -ENOMEM;
			c->v = nv;
			struct inc_hot *nh = realloc(c->hot, cap * sizeof *nh);
			if (!nh)
				return -ENOMEM;
			c->hot = nh;
			c->cap = cap;
		}
		struct inc *in = &c->v[c->n];
		memset(in, 0, offsetof(struct inc, raw));
		const struct klass *k = &c->cls[cls];
		in->pub.day = day;
		in->pub.src = p->src;
		in->pub.category = k->category;
		in->pub.name = k->name;
		in->pub.taxonomy = k->taxonomy;
		in->pub.type = k->type;
		in->pub.sid = sid;
		h = &c->hot[c->n];
		*h = (struct inc_hot){
			.next = s->head, .cls = cls,
			.last_port = UINT32_MAX, .last_sensor = UINT32_MAX, .prev_port = UINT32_MAX,
			.first_s = first_s < now && first_s >= day ? first_s : now,
			.last_s = now,
		};
		s->head = s->last = (uint32_t)++c->n;
	}
	if (now < h->first_s)
		h->first_s = now;
	if (now > h->last_s)
		h->last_s = now;
	h->count += count;
	uint32_t port = p->proto == 6 ? DB_PORT_TCP(p->dport)
		      : p->proto == 17 ? DB_PORT_UDP(p->dport) : UINT32_MAX;
	struct inc *in = &c->v[h - c->hot];
	if (port != UINT32_MAX && port != h->last_port) {
		if (port != h->prev_port && set_add(&in->pub.ports, &in->pub.nports, port))
			return -ENOMEM;
		h->prev_port = h->last_port;
		h->last_port = port;
	}
	if (c->sensor_id != h->last_sensor) {
		if (set_add(&in->pub.sensors, &in->pub.nsensors, c->sensor_id))
			return -ENOMEM;
		h->last_sensor = c->sensor_id;
	}
	if (h->nev < INCIDENT_EVIDENCE) {
		take_evidence(c, p, sid, why, &in->raw[h->nev++]);
		in->pub.nev = h->nev;
	}
	if (c->cfg.on_hit) {
		struct batch *b = c->cur_batch;
		if (b->nhit == b->caphit) {
			size_t cap = b->caphit ? b->caphit * 2 : 1024;
			struct bhit *nv = realloc(b->hit, cap * sizeof *nv);
			if (!nv)
				return -ENOMEM;
			b->hit = nv;
			b->caphit = cap;
		}
		b->hit[b->nhit++] = (struct bhit){c->cur_off, c->cls[cls].name};
	}
	return 0;
}

static int on_rule(void *ctx, size_t idx, const struct vg_pkt *p)
{
	struct classifier *c = ctx;
	const struct rule_info *ri = rule_set_info(c->cfg.rules, idx);
	int r = record(c, p, c->rule_cls[idx], ri->sid, 1, 0, ri->msg);
	if (r)
		c->err = r;
	return r;
}

static int on_det(void *ctx, const struct det_hit *h, const struct vg_pkt *p)
{
	struct classifier *c = ctx;
	uint32_t cls = UINT32_MAX;
	for (size_t i = 0; i < c->ndet; i++)
		if (c->det_name[i] == h->name) {
			cls = c->det_cls[i];
			break;
		}
	int r;
	if (cls == UINT32_MAX) {
		const char *tax, *type;
		rule_taxonomy(h->category, &tax, &type);
		if ((r = intern(c, h->category, h->name, tax, type, &cls))) {
			c->err = r;
			return r;
		}
		if (c->ndet < sizeof c->det_name / sizeof c->det_name[0]) {
			c->det_name[c->ndet] = h->name;
			c->det_cls[c->ndet++] = cls;
		}
	}
	r = record(c, p, cls, 0, h->count, h->first_s, h->name);
	if (r)
		c->err = r;
	return r;
}

/* The traffic reached a new day: the detectors' state of sources last
 * seen on an earlier day can never count again (it is per day), so a run
 * over many days (a backfill) holds only what the current day needs. */
static void sweep(struct classifier *c, int32_t day)
{
	for (size_t i = 0; i < c->nsrc_w; i++)
		if (c->src[i].det.day < day && c->src[i].det.ncnt)
			det_src_clear(c->det, &c->src[i].det);
	c->swept = day;
}

static const uint8_t l4_mark[1];

/* A batch's packet back as a struct vg_pkt: header fields and payload;
 * l3 is NULL and l4 only says that there was an upper-layer header (the
 * rules and detectors test nothing else of them). */
static void unpack(const struct batch *b, uint32_t off, struct vg_pkt *p)
{
	const struct brec *r = (const struct brec *)(const void *)(b->arena + off);
	memcpy(p, r->head, PKT_HEAD);
	memset((char *)p + PKT_HEAD, 0, sizeof *p - PKT_HEAD);
	p->l4 = r->has_l4 ? l4_mark : NULL;
	p->payload = r->has_payload ? b->arena + off + BREC_SIZE : NULL;
	p->payload_caplen = r->payload_caplen;
	p->payload_len = r->payload_len;
}

/* Stable sort of the keys by source (their high 32 bits): LSD radix, 11
 * bits a pass, only as many passes as the largest index needs. */
static void sort_by_source(struct batch *b)
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

/* Classify a batch (the worker, or the caller without one).  Software
 * pipelined: a packet's record and its source's state are asked for
 * PF_FAR packets ahead, it is unpacked and its detector entries and
 * first incident asked for PF_NEAR ahead, so the memory of several
 * sources is on its way while one is classified. */
#define PF_FAR 12
#define PF_NEAR 4
static int process(struct classifier *c, struct batch *b)
{
	int first = 0, r;
	int32_t day = (int32_t)(b->min_ns / 1000000000u / 86400u);
	if (c->det && day > c->swept)
		sweep(c, day);
	if ((r = grow_states(c, b->maxsrc)))
		return r;
	sort_by_source(b);
	c->cur_batch = b;
	struct vg_pkt ring[PF_NEAR + 1];
	for (size_t i = 0; i < b->n + PF_NEAR; i++) {
		if (i + PF_FAR < b->n) {
			uint64_t k = b->key[i + PF_FAR];
			const unsigned char *a = b->arena + (uint32_t)k;
			__builtin_prefetch(a);
			__builtin_prefetch(a + 64);
			__builtin_prefetch(a + 128);
			if (k >> 32)
				__builtin_prefetch(&c->src[(k >> 32) - 1]);
		}
		if (i < b->n) {
			uint64_t k = b->key[i];
			struct vg_pkt *q = &ring[i % (PF_NEAR + 1)];
			unpack(b, (uint32_t)k, q);
			if (k >> 32) {
				const struct csrc *s = &c->src[(k >> 32) - 1];
				if (c->det)
					det_prefetch(c->det, &s->det, q);
				if (s->head)
					__builtin_prefetch(&c->hot[s->head - 1]);
			}
		}
		if (i < PF_NEAR)
			continue;
		size_t j = i - PF_NEAR;
		uint32_t src = (uint32_t)(b->key[j] >> 32), off = (uint32_t)b->key[j];
		const struct brec *rec = (const struct brec *)(const void *)(b->arena + off);
		const struct vg_pkt *p = &ring[j % (PF_NEAR + 1)];
		c->cur = src ? &c->src[src - 1] : NULL;
		c->cur_off = off;
		c->sensor_id = rec->sensor_id;
		c->honeynets = rec->honeynets;
		c->err = 0;
		r = 0;
		if (c->rm)
			r = rule_match(c->rm, p, on_rule, c);
		if (r >= 0 && !c->err && c->det && p->l4 && c->cur)
			r = det_packet_src(c->det, &c->cur->det, p, on_det, c);
		if (!first)
			first = c->err ? c->err : r < 0 ? r : 0;
	}
	return first;
}

static void *worker(void *arg)
{
	struct classifier *c = arg;
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->todo && !c->quit)
			pthread_cond_wait(&c->cv_work, &c->mu);
		struct batch *b = c->todo;
		if (!b)
			break;
		c->todo = b->next;
		if (!c->todo)
			c->todo_tail = NULL;
		pthread_mutex_unlock(&c->mu);
		int r = process(c, b);
		pthread_mutex_lock(&c->mu);
		if (r && !c->werr)
			c->werr = r;
		b->next = NULL;
		if (c->done_tail)
			c->done_tail->next = b;
		else
			c->done = b;
		c->done_tail = b;
		c->busy--;
		pthread_cond_signal(&c->cv_done);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* The caller's side of a classified batch: its hits to on_hit, in the
 * order the worker made them; then the batch is empty again. */
static int replay(struct classifier *c, struct batch *b)
{
	int r = 0;
	for (size_t i = 0; i < b->nhit && !r; i++) {
		struct vg_pkt p;
		unpack(b, b->hit[i].off, &p);
		r = c->cfg.on_hit(c->cfg.hit_ctx, &p, b->hit[i].name);
	}
	b->n = b->used = b->nhit = 0;
	b->maxsrc = 0;
	b->min_ns = UINT64_MAX;
	return r;
}

static struct batch *batch_new(void)
{
	struct batch *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->arena = malloc(BATCH_BYTES);
	b->key = malloc(BATCH_PKTS * sizeof *b->key);
	b->tmp = malloc(BATCH_PKTS * sizeof *b->tmp);
	if (!b->arena || !b->key || !b->tmp) {
		batch_free(b);
		return NULL;
	}
	b->cap = BATCH_BYTES;
	b->min_ns = UINT64_MAX;
	return b;
}

static int keep_error(struct classifier *c, int r)
{
	if (r && !c->perr)
		c->perr = r;
	return r;
}

/* Hand the filled batch over (or classify it here without a worker) and
 * take an empty one: a classified one, its hits replayed, or a new one
 * while fewer than NBATCH exist. */
static int submit(struct classifier *c)
{
	struct batch *b = c->fill;
	if (!c->threaded) {
		int r = process(c, b);
		int h = replay(c, b);
		return keep_error(c, r ? r : h);
	}
	c->fill = NULL;
	struct batch *nb = NULL;
	bool make = false;
	pthread_mutex_lock(&c->mu);
	b->next = NULL;
	if (c->todo_tail)
		c->todo_tail->next = b;
	else
		c->todo = b;
	c->todo_tail = b;
	c->busy++;
	pthread_cond_signal(&c->cv_work);
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
		if (!(nb = batch_new()))
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
	if (c->fill && c->fill->n) {
		if (!c->threaded) {
			submit(c);
			return c->perr;
		}
		pthread_mutex_lock(&c->mu);
		struct batch *b = c->fill;
		b->next = NULL;
		if (c->todo_tail)
			c->todo_tail->next = b;
		else
			c->todo = b;
		c->todo_tail = b;
		c->busy++;
		c->fill = NULL;
		pthread_cond_signal(&c->cv_work);
		pthread_mutex_unlock(&c->mu);
	}
	if (!c->threaded)
		return c->perr;
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
			d->next = c->spare;     /* only the caller touches spare when idle */
			pthread_mutex_lock(&c->mu);
			c->spare = d;
			pthread_mutex_unlock(&c->mu);
		}
		d = nx;
	}
	keep_error(c, werr ? werr : r);
	return c->perr;
}

int classify_packet_hint(struct classifier *c, const struct vg_pkt *p, uint32_t sensor_id,
			 const struct cidr_set *honeynets, uint32_t *hint)
{
	if (!p || !p->ipver || (!c->rm && !c->det))
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
	size_t need = BREC_SIZE + ((pl + (size_t)7) & ~(size_t)7);
	struct batch *b = c->fill;
	if (b && (b->n == BATCH_PKTS || b->used + need > b->cap) && b->n) {
		if ((r = submit(c)))
			return r;
		b = c->fill;
	}
	if (!b) {
		if (!(b = batch_new()))
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
	memcpy(rec->head, p, PKT_HEAD);
	if (pl)
		memcpy(b->arena + b->used + BREC_SIZE, p->payload, pl);
	c->pending = true;
	b->key[b->n++] = (uint64_t)src << 32 | b->used;
	b->used += need;
	if (src > b->maxsrc)
		b->maxsrc = src;
	if (p->ts_ns < b->min_ns)
		b->min_ns = p->ts_ns;
	return 0;
}

int classify_packet(struct classifier *c, const struct vg_pkt *p, uint32_t sensor_id,
		    const struct cidr_set *honeynets)
{
	return classify_packet_hint(c, p, sensor_id, honeynets, NULL);
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

/* The counters of a hit live in inc_hot: copied out when read. */
static struct incident *synced(struct classifier *c, size_t i)
{
	struct incident *in = &c->v[i].pub;
	in->count = c->hot[i].count;
	in->first_s = c->hot[i].first_s;
	in->last_s = c->hot[i].last_s;
	return in;
}

const struct incident *classifier_get(struct classifier *c, size_t i)
{
	classifier_finish(c);
	if (i >= c->n)
		return NULL;
	synced(c, i);
	struct inc *in = &c->v[i];
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
	return i < c->n ? synced(c, i) : NULL;
}

int classifier_store(struct classifier *c, struct db *db, int64_t day, struct vg_err *err)
{
	int r = classifier_finish(c);
	if (r)
		return vg_err_set(err, r, "classifying: %s", r < 0 ? strerror(-r) : "stopped");
	for (size_t i = 0; i < c->n; i++) {
		if (day != INT64_MIN && c->v[i].pub.day != day)
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
	for (size_t i = 0; i < c->n && !r; i++) {
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
