/* incident.c: the classifier (see incident.h). */
#include "incident.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "sanitize.h"

struct classifier {
	struct classifier_config cfg;
	struct rule_matcher *rm;
	struct det *det;
	struct incident *v;
	size_t n, cap;
	uint32_t *slots;            /* open addressing: index + 1, 0 empty */
	size_t nslots;
	uint64_t dropped;
	/* the packet being classified */
	uint32_t sensor_id;
	const struct cidr_set *honeynets;
	int err;
};

static const struct rule_stats no_stats;

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
	int r = 0;
	if (cfg->rules && (r = rule_matcher_new(&c->rm, cfg->rules, 0)))
		goto bad;
	if (!cfg->no_detectors && (r = det_new(&c->det, &cfg->det)))
		goto bad;
	*out = c;
	return 0;
bad:
	classifier_free(c);
	return vg_err_set(err, r, "cannot start the classifier: %s", strerror(-r));
}

static void clear_incidents(struct classifier *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].ports);
		free(c->v[i].sensors);
	}
	c->n = 0;
	if (c->slots)
		memset(c->slots, 0, c->nslots * sizeof *c->slots);
}

void classifier_reset(struct classifier *c)
{
	clear_incidents(c);
}

void classifier_free(struct classifier *c)
{
	if (!c)
		return;
	clear_incidents(c);
	free(c->v);
	free(c->slots);
	rule_matcher_free(c->rm);
	det_free(c->det);
	free(c);
}

size_t classifier_count(const struct classifier *c)
{
	return c->n;
}

const struct incident *classifier_get(const struct classifier *c, size_t i)
{
	return i < c->n ? &c->v[i] : NULL;
}

uint64_t classifier_dropped(const struct classifier *c)
{
	return c->dropped;
}

const struct rule_stats *classifier_rule_stats(const struct classifier *c)
{
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

/* ---- incidents ------------------------------------------------------------ */

static uint64_t inc_hash(int64_t day, const struct vg_ip *ip, const char *cat, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)day;
	for (size_t i = 0; i < 16; i++)
		h = (h ^ ip->a[i]) * 0x100000001b3ull;
	h = (h ^ ip->v) * 0x100000001b3ull;
	for (const char *s = cat; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	for (const char *s = name; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static bool inc_eq(const struct incident *in, int64_t day, const struct vg_ip *ip,
		   const char *cat, const char *name)
{
	return in->day == day && in->src.v == ip->v && !memcmp(in->src.a, ip->a, 16) &&
	       !strcmp(in->category, cat) && !strcmp(in->name, name);
}

static int grow_slots(struct classifier *c)
{
	size_t ns = c->nslots ? c->nslots * 2 : 1024;
	uint32_t *s = calloc(ns, sizeof *s);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		const struct incident *in = &c->v[i];
		size_t j = inc_hash(in->day, &in->src, in->category, in->name) & (ns - 1);
		while (s[j])
			j = (j + 1) & (ns - 1);
		s[j] = (uint32_t)i + 1;
	}
	free(c->slots);
	c->slots = s;
	c->nslots = ns;
	return 0;
}

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

/* Every textual form of every honeypot address out of s (capacity cap);
 * when the sanitizer cannot run, the text is dropped rather than kept. */
static void scrub(const struct sanitizer *san, char *s, size_t cap)
{
	char *out = NULL;
	size_t n = 0;
	if (sanitize_text(san, s, strlen(s), &out, &n, NULL) < 0 || !out) {
		snprintf(s, cap, "(not shown: could not be sanitized)");
		free(out);
		return;
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(s, out, n);
	s[n] = 0;
	free(out);
}

static void make_evidence(const struct classifier *c, const struct vg_pkt *p,
			  const char *why, struct incident_evidence *ev)
{
	char ts[32], src[64], tok[SANITIZE_TOKEN_MAX], flags[16] = "";
	fmt_time(p->ts_ns, ts, sizeof ts);
	vg_ip_str(&p->src, src, sizeof src);
	if (!c->cfg.san || sanitize_ip(c->cfg.san, &p->dst, tok, sizeof tok) < 0)
		incident_hp_token(&p->dst, c->sensor_id, c->honeynets, tok, sizeof tok);
	if (p->proto == 6) {
		static const char fl[] = "FSRPAUEC";
		size_t k = 0;
		for (int b = 0; b < 8; b++)
			if (p->tcp_flags & (1u << b))
				flags[k++] = fl[b];
		flags[k] = 0;
	}
	ev->ts_ns = p->ts_ns;
	ev->sensor_id = c->sensor_id;
	/* a long rule message is cut at the line's end: the line stays useful */
	int w;
	if (p->proto == 6 || p->proto == 17)
		w = snprintf(ev->line, sizeof ev->line, "%s %s%s%s:%u -> %s:%u/%s%s%s%s len %u: %s",
			     ts, p->src.v == 6 ? "[" : "", src, p->src.v == 6 ? "]" : "", p->sport,
			     tok, p->dport, proto_name(p->proto), *flags ? " [" : "", flags,
			     *flags ? "]" : "", p->payload_len, why);
	else
		w = snprintf(ev->line, sizeof ev->line, "%s %s -> %s/%s type %u code %u len %u: %s",
			     ts, src, tok, proto_name(p->proto), p->icmp_type, p->icmp_code,
			     p->payload_len, why);
	if (w < 0)
		ev->line[0] = 0;
	size_t k = 0;
	uint32_t n = p->payload ? p->payload_caplen : 0;
	if (n > INCIDENT_EXCERPT)
		n = INCIDENT_EXCERPT;
	for (uint32_t i = 0; i < n && k + 5 < sizeof ev->excerpt; i++) {
		uint8_t b = p->payload[i];
		static const char hex[] = "0123456789abcdef";
		if (b >= 0x20 && b < 0x7f && b != '\\') {
			ev->excerpt[k++] = (char)b;
		} else {
			ev->excerpt[k++] = '\\';
			ev->excerpt[k++] = 'x';
			ev->excerpt[k++] = hex[b >> 4];
			ev->excerpt[k++] = hex[b & 15];
		}
	}
	ev->excerpt[k] = 0;
	/* the payload may name the honeypot (Host: headers, DCE/RPC paths):
	 * never let its address through */
	char dst[64];
	vg_ip_str(&p->dst, dst, sizeof dst);
	replace_all(ev->excerpt, sizeof ev->excerpt, dst, tok);
	replace_all(ev->line, sizeof ev->line, dst, tok);
	if (c->cfg.san) {
		scrub(c->cfg.san, ev->excerpt, sizeof ev->excerpt);
		scrub(c->cfg.san, ev->line, sizeof ev->line);
	}
}

/* What made the hit, for the evidence line: a rule (sid and msg) or a
 * detector's name; formatted only when evidence is taken. */
struct why {
	uint32_t sid;
	const char *text;
};

static int record(struct classifier *c, const struct vg_pkt *p, const char *cat,
		  const char *name, const char *tax, const char *type, uint32_t sid,
		  uint64_t count, int64_t first_s, const struct why *why)
{
	int64_t now = (int64_t)(p->ts_ns / 1000000000u);
	int64_t day = now - ((now % 86400) + 86400) % 86400;
	if ((c->n + 1) * 2 > c->nslots && grow_slots(c))
		return -ENOMEM;
	size_t j = inc_hash(day, &p->src, cat, name) & (c->nslots - 1);
	struct incident *in = NULL;
	while (c->slots[j]) {
		struct incident *e = &c->v[c->slots[j] - 1];
		if (inc_eq(e, day, &p->src, cat, name)) {
			in = e;
			break;
		}
		j = (j + 1) & (c->nslots - 1);
	}
	if (!in) {
		if (c->n >= c->cfg.max_incidents) {
			c->dropped++;
			return 0;
		}
		if (c->n == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 256;
			struct incident *nv = realloc(c->v, cap * sizeof *nv);
			if (!nv)
				return -ENOMEM;
			c->v = nv;
			c->cap = cap;
		}
		in = &c->v[c->n];
		memset(in, 0, sizeof *in);
		in->day = day;
		in->src = p->src;
		in->category = cat;
		in->name = name;
		in->taxonomy = tax;
		in->type = type;
		in->sid = sid;
		in->first_s = first_s < now && first_s >= day ? first_s : now;
		in->last_s = now;
		c->slots[j] = (uint32_t)++c->n;
	}
	if (now < in->first_s)
		in->first_s = now;
	if (now > in->last_s)
		in->last_s = now;
	in->count += count;
	if (p->proto == 6 && set_add(&in->ports, &in->nports, DB_PORT_TCP(p->dport)))
		return -ENOMEM;
	if (p->proto == 17 && set_add(&in->ports, &in->nports, DB_PORT_UDP(p->dport)))
		return -ENOMEM;
	if (set_add(&in->sensors, &in->nsensors, c->sensor_id))
		return -ENOMEM;
	if (in->nev < INCIDENT_EVIDENCE) {
		char w[200];
		if (why->sid)
			snprintf(w, sizeof w, "sid %" PRIu32 " %s", why->sid, why->text);
		else
			snprintf(w, sizeof w, "detector: %s", why->text);
		make_evidence(c, p, w, &in->ev[in->nev++]);
	}
	return 0;
}

static int on_rule(void *ctx, size_t idx, const struct vg_pkt *p)
{
	struct classifier *c = ctx;
	const struct rule_info *ri = rule_set_info(c->cfg.rules, idx);
	struct why why = {ri->sid, ri->msg};
	int r = record(c, p, ri->category, ri->name, ri->taxonomy, ri->type, ri->sid, 1, 0, &why);
	if (r)
		c->err = r;
	return r;
}

static int on_det(void *ctx, const struct det_hit *h, const struct vg_pkt *p)
{
	struct classifier *c = ctx;
	const char *tax, *type;
	rule_taxonomy(h->category, &tax, &type);
	struct why why = {0, h->name};
	int r = record(c, p, h->category, h->name, tax, type, 0, h->count, h->first_s, &why);
	if (r)
		c->err = r;
	return r;
}

int classify_packet(struct classifier *c, const struct vg_pkt *p, uint32_t sensor_id,
		    const struct cidr_set *honeynets)
{
	if (!p || !p->ipver)
		return 0;
	c->sensor_id = sensor_id;
	c->honeynets = honeynets;
	c->err = 0;
	int r = 0;
	if (c->rm)
		r = rule_match(c->rm, p, on_rule, c);
	if (r >= 0 && c->det)
		r = det_packet(c->det, p, on_det, c);
	return r < 0 ? r : 0;
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

static void jstr(struct jb *j, const char *s)
{
	jput(j, "\"");
	for (; *s && !j->full; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			jput(j, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			jput(j, "\\u%04x", ch);
		else
			jput(j, "%c", ch);
	}
	jput(j, "\"");
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
