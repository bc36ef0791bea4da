#include "an-engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "an-hosts.h"

/* Fragmented datagrams are counted once, when every byte of the datagram
 * has arrived, with the reassembled IP length: what a flow exporter that
 * reassembles (nfpcapd) reports, so that the top 10 equal nfdump's.  Only
 * the byte count is tracked, never the bytes; the table is bounded, and
 * datagrams that never complete (lost or orphan fragments, or pushed out of
 * a full table) are counted as incomplete, not as packets. */
#define FRAG_MAX 65536          /* datagrams in reassembly at once */
#define FRAG_BUCKETS 16384
#define FRAG_TIMEOUT_S 15       /* packet time; nfpcapd expires after 15 s too */

struct frag_ent {
	struct vg_ip src, dst;
	uint32_t id;
	uint8_t proto;
	bool have_first;
	uint16_t dport;
	uint16_t hlen;              /* IP header bytes before the fragmentable part */
	uint32_t have;              /* fragmentable bytes received */
	uint32_t total;             /* their total, known once the last one arrived */
	uint32_t nfrags;
	uint64_t first_ns;
	int32_t next;               /* bucket chain / free list */
};

struct v4net {
	uint32_t net, mask;
};

struct an_engine {
	struct an_config cfg;
	struct v4net *nets4;        /* honeynets compiled for the hot path */
	size_t n4;
	struct cidr_set nets6;
	bool count_all;
	struct stats_cat *cat[AN_NCATS];
	struct an_hosts *hosts;
	unsigned os_unknown;
	struct an_counters cnt;
	struct frag_ent *frags;     /* FRAG_MAX entries */
	int32_t *frag_bucket;       /* FRAG_BUCKETS chain heads, -1 = empty */
	int32_t frag_free;
	uint32_t frag_used;
	uint64_t frag_swept_s;
	/* One-entry cache: scanners send long runs from one source. */
	struct vg_ip last_src;
	struct an_host *last_host;
};

int an_engine_new(struct an_engine **out, const struct an_config *cfg)
{
	if (!cfg->bin_seconds)
		return -EINVAL;
	struct an_engine *e = calloc(1, sizeof *e);
	if (!e)
		return -ENOMEM;
	e->cfg = *cfg;
	int nlabels = cfg->fp ? fp_label_count(cfg->fp) : 0;
	if (nlabels < 0 || nlabels >= 0xfffe) {
		free(e);
		return -EINVAL;
	}
	e->os_unknown = (unsigned)nlabels;
	const struct cidr_set *hn = cfg->honeynets;
	e->count_all = !hn || hn->n == 0;
	if (hn && hn->n) {
		e->nets4 = calloc(hn->n, sizeof *e->nets4);
		if (!e->nets4)
			goto nomem;
		for (size_t i = 0; i < hn->n; i++) {
			const struct cidr *c = &hn->v[i];
			if (c->net.v == 4) {
				uint32_t mask = c->len ? ~0u << (32 - c->len) : 0;
				e->nets4[e->n4++] = (struct v4net){vg_ip4(&c->net) & mask, mask};
			} else if (cidr_set_add(&e->nets6, c)) {
				goto nomem;
			}
		}
	}
	e->cat[AN_TCP_PORT] = stats_cat_new(65536);
	e->cat[AN_UDP_PORT] = stats_cat_new(65536);
	e->cat[AN_COUNTRY] = stats_cat_new(65536);
	e->cat[AN_OS] = stats_cat_new(e->os_unknown + 1);
	e->hosts = an_hosts_new(cfg->max_hosts);
	e->frags = malloc(FRAG_MAX * sizeof *e->frags);
	e->frag_bucket = malloc(FRAG_BUCKETS * sizeof *e->frag_bucket);
	if (!e->frags || !e->frag_bucket)
		goto nomem;
	for (int i = 0; i < FRAG_BUCKETS; i++)
		e->frag_bucket[i] = -1;
	for (int i = 0; i < FRAG_MAX; i++)
		e->frags[i].next = i + 1 < FRAG_MAX ? i + 1 : -1;
	e->frag_free = 0;
	for (int c = 0; c < AN_NCATS; c++)
		if (!e->cat[c])
			goto nomem;
	if (!e->hosts)
		goto nomem;
	*out = e;
	return 0;
nomem:
	an_engine_free(e);
	return -ENOMEM;
}

void an_engine_free(struct an_engine *e)
{
	if (!e)
		return;
	for (int c = 0; c < AN_NCATS; c++)
		stats_cat_free(e->cat[c]);
	an_hosts_free(e->hosts);
	free(e->frags);
	free(e->frag_bucket);
	cidr_set_free(&e->nets6);
	free(e->nets4);
	free(e);
}

static bool directed_to_honeynet(const struct an_engine *e, const struct vg_ip *dst)
{
	if (e->count_all)
		return true;
	if (dst->v == 4) {
		uint32_t a = vg_ip4(dst);
		for (size_t i = 0; i < e->n4; i++)
			if ((a & e->nets4[i].mask) == e->nets4[i].net)
				return true;
		return false;
	}
	return cidr_set_contains(&e->nets6, dst);
}

static uint32_t frag_hash(const struct vg_pkt *p)
{
	uint32_t h = p->ip_id * 0x9e3779b1u ^ p->proto;
	for (int i = 0; i < 16; i += 4) {
		uint32_t a, b;
		memcpy(&a, p->src.a + i, 4);
		memcpy(&b, p->dst.a + i, 4);
		h = (h ^ a) * 0x85ebca6bu;
		h = (h ^ b) * 0xc2b2ae35u;
	}
	return (h ^ (h >> 16)) % FRAG_BUCKETS;
}

static void frag_unlink(struct an_engine *e, uint32_t bucket, int32_t idx)
{
	int32_t *link = &e->frag_bucket[bucket];
	while (*link != idx)
		link = &e->frags[*link].next;
	*link = e->frags[idx].next;
	e->frags[idx].next = e->frag_free;
	e->frag_free = idx;
	e->frag_used--;
}

/* Forget datagrams older than the timeout: their fragments become
 * "incomplete".  Runs at most once per second of packet time. */
static void frag_sweep(struct an_engine *e, uint64_t now_ns, bool all)
{
	uint64_t now_s = now_ns / 1000000000u;
	if (!all && (e->frag_used == 0 || now_s == e->frag_swept_s))
		return;
	e->frag_swept_s = now_s;
	for (uint32_t b = 0; b < FRAG_BUCKETS && e->frag_used; b++) {
		int32_t i = e->frag_bucket[b];
		while (i >= 0) {
			int32_t next = e->frags[i].next;
			struct frag_ent *f = &e->frags[i];
			if (all || f->first_ns / 1000000000u + FRAG_TIMEOUT_S < now_s) {
				e->cnt.fragments_incomplete += f->nfrags;
				frag_unlink(e, b, i);
			}
			i = next;
		}
	}
}

/* Account one fragment.  Returns true when it completes its datagram, and
 * then rewrites *p into the whole datagram: its reassembled length, the
 * port of its first fragment and the time of its earliest fragment. */
static bool frag_account(struct an_engine *e, struct vg_pkt *p)
{
	frag_sweep(e, p->ts_ns, false);
	uint32_t b = frag_hash(p);
	int32_t i = e->frag_bucket[b];
	while (i >= 0) {
		struct frag_ent *f = &e->frags[i];
		if (f->id == p->ip_id && f->proto == p->proto && f->src.v == p->src.v &&
		    !memcmp(f->src.a, p->src.a, 16) && !memcmp(f->dst.a, p->dst.a, 16))
			break;
		i = f->next;
	}
	if (i < 0) {
		if (e->frag_free < 0) {
			e->cnt.fragments_incomplete++;     /* table full: dropped */
			return false;
		}
		i = e->frag_free;
		e->frag_free = e->frags[i].next;
		e->frag_used++;
		struct frag_ent *f = &e->frags[i];
		memset(f, 0, sizeof *f);
		f->src = p->src;
		f->dst = p->dst;
		f->id = p->ip_id;
		f->proto = p->proto;
		f->first_ns = p->ts_ns;
		f->next = e->frag_bucket[b];
		e->frag_bucket[b] = i;
	}
	struct frag_ent *f = &e->frags[i];
	uint32_t hlen = p->ip_hlen;
	/* IPv6: the fragment header is not part of the reassembled datagram. */
	if (p->ipver == 6 && hlen >= 48)
		hlen -= 8;
	uint32_t len = p->ip_len > p->ip_hlen ? p->ip_len - p->ip_hlen : 0;
	f->nfrags++;
	f->have += len;
	if (p->ts_ns < f->first_ns)
		f->first_ns = p->ts_ns;
	if (p->frag_off == 0) {
		f->have_first = true;
		f->dport = p->dport;
		f->hlen = (uint16_t)hlen;
	}
	if (!p->mf)
		f->total = p->frag_off + len;
	if (!f->have_first || !f->total || f->have < f->total)
		return false;
	e->cnt.fragments_merged += f->nfrags - 1;
	e->cnt.fragments++;
	p->ip_len = f->hlen + f->total;
	p->dport = f->dport;
	p->ts_ns = f->first_ns;
	frag_unlink(e, b, i);
	return true;
}

/* Fixed-size compares the compiler inlines: this runs for every packet. */
static bool same_addr(const struct vg_ip *a, const struct vg_ip *b)
{
	uint64_t x[2], y[2];
	if (a->v == 4) {
		uint32_t p, q;
		memcpy(&p, a->a, 4);
		memcpy(&q, b->a, 4);
		return p == q;
	}
	memcpy(x, a->a, 16);
	memcpy(y, b->a, 16);
	return x[0] == y[0] && x[1] == y[1];
}

static struct an_host *source_host(struct an_engine *e, const struct vg_ip *src)
{
	if (e->last_host && e->last_src.v == src->v && same_addr(&e->last_src, src))
		return e->last_host;
	int created;
	struct an_host *h = an_hosts_get(e->hosts, src, &created);
	if (!h) {
		e->cnt.hosts_untracked++;
		e->last_host = NULL;
		return NULL;
	}
	if (created) {
		/* one search gives both: early warning keys on the AS */
		h->cc = e->cfg.geo ? geo_lookup_cc_asn(e->cfg.geo, src, &h->asn) : GEO_UNKNOWN;
		h->os = (uint16_t)e->os_unknown;
		if (e->cfg.host_init) {
			e->cfg.host_init(e->cfg.hook_ctx, src, h);
			if (h->os > e->os_unknown)
				h->os = (uint16_t)e->os_unknown;
		}
	}
	e->last_src = *src;
	e->last_host = h;
	return h;
}

void an_engine_frame(struct an_engine *e, int status, const struct vg_pkt *pkt)
{
	e->cnt.frames++;
	switch (status) {
	case VG_DEC_OK:
		break;
	case VG_DEC_NOT_IP:
		e->cnt.non_ip++;
		return;
	case VG_DEC_UNSUPPORTED:
		e->cnt.unsupported++;
		return;
	default:
		e->cnt.bad++;
		return;
	}

	const struct vg_pkt *p = pkt;
	if (e->cfg.pflog_in_only && (p->encap & VG_ENC_PFLOG) && p->pf_dir != VG_PF_DIR_IN) {
		e->cnt.not_honeynet++;
		return;
	}
	struct an_host *h = source_host(e, &p->src);
	bool syn = p->proto == 6 && p->l4 && (p->tcp_flags & (VG_TH_SYN | VG_TH_ACK)) == VG_TH_SYN;
	if (syn && h) {
		/* Latest SYN wins, even a SYN that matches nothing: the host
		 * may have been re-used by another system. */
		struct fp_result r;
		h->os = (uint16_t)e->os_unknown;
		if (e->cfg.fp && fp_match_syn(e->cfg.fp, p, &r) == 1 && r.label >= 0)
			h->os = (uint16_t)r.label;
	}

	if (!directed_to_honeynet(e, &p->dst)) {
		e->cnt.not_honeynet++;
		return;
	}
	struct vg_pkt whole;
	if (p->mf || p->frag_off) {
		whole = *p;
		if (!frag_account(e, &whole))
			return;
		p = &whole;
	}

	uint64_t bytes = p->ip_len;
	int64_t bin = (int64_t)(p->ts_ns / 1000000000u) / e->cfg.bin_seconds;
	e->cnt.counted++;
	e->cnt.counted_bytes += bytes;
	if (!e->cnt.first_ns || p->ts_ns < e->cnt.first_ns)
		e->cnt.first_ns = p->ts_ns;
	if (p->ts_ns > e->cnt.last_ns)
		e->cnt.last_ns = p->ts_ns;
	if (p->ipver == 6)
		e->cnt.ipv6++;
	if (syn) {
		e->cnt.syns++;
		if (h && h->os != e->os_unknown)
			e->cnt.syns_matched++;
	}

	switch (p->proto) {
	case 6:
		e->cnt.tcp++;
		stats_cat_add(e->cat[AN_TCP_PORT], bin, p->dport, bytes);
		break;
	case 17:
		e->cnt.udp++;
		stats_cat_add(e->cat[AN_UDP_PORT], bin, p->dport, bytes);
		break;
	case 1:
	case 58:
		e->cnt.icmp++;
		break;
	default:
		e->cnt.other_proto++;
	}
	if (h) {
		uint32_t sec = (uint32_t)(p->ts_ns / 1000000000u);
		if (!h->packets || sec < h->first_s)
			h->first_s = sec;
		if (sec > h->last_s)
			h->last_s = sec;
		h->packets++;
		h->bytes += bytes;
	}
	stats_cat_add(e->cat[AN_COUNTRY], bin, h ? h->cc : GEO_UNKNOWN, bytes);
	stats_cat_add(e->cat[AN_OS], bin, h ? h->os : e->os_unknown, bytes);
	if (e->cfg.on_count)
		e->cfg.on_count(e->cfg.hook_ctx, p, h);
}

int an_engine_finish(struct an_engine *e)
{
	int rc = 0;
	frag_sweep(e, 0, true);
	for (int c = 0; c < AN_NCATS; c++) {
		int r = stats_cat_finish(e->cat[c]);
		if (r && !rc)
			rc = r;
	}
	return rc;
}

const struct an_counters *an_engine_counters(const struct an_engine *e)
{
	return &e->cnt;
}

const struct stats_cat *an_engine_cat(const struct an_engine *e, enum an_category c)
{
	return e->cat[c];
}

unsigned an_engine_bin_seconds(const struct an_engine *e)
{
	return e->cfg.bin_seconds;
}

unsigned an_engine_os_unknown(const struct an_engine *e)
{
	return e->os_unknown;
}

const char *an_engine_key_name(const struct an_engine *e, enum an_category c,
			       unsigned key, char *buf, size_t len)
{
	switch (c) {
	case AN_TCP_PORT:
	case AN_UDP_PORT:
		snprintf(buf, len, "%u", key);
		break;
	case AN_COUNTRY:
		snprintf(buf, len, "%c%c", (char)(key >> 8), (char)(key & 0xff));
		break;
	case AN_OS:
		if (key >= e->os_unknown || !e->cfg.fp)
			snprintf(buf, len, "unknown");
		else
			snprintf(buf, len, "%s", fp_label_name(e->cfg.fp, (int)key));
		break;
	default:
		snprintf(buf, len, "?");
	}
	return buf;
}

bool an_engine_os_is_windows(const struct an_engine *e, unsigned key)
{
	return e->cfg.fp && key < e->os_unknown && fp_label_is_windows(e->cfg.fp, (int)key);
}

size_t an_engine_memory(const struct an_engine *e)
{
	size_t m = sizeof *e + an_hosts_memory(e->hosts);
	for (int c = 0; c < AN_NCATS; c++)
		m += stats_cat_memory(e->cat[c]);
	return m;
}

size_t an_engine_hosts(const struct an_engine *e)
{
	return an_hosts_count(e->hosts);
}

const struct an_hosts *an_engine_host_table(const struct an_engine *e)
{
	return e->hosts;
}
