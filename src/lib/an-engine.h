/* an-engine.h: the analysis engine.  Decoded packets in, binned counts
 * per category out.  Used by `vigia analyze` and by `vigia ingest`.
 *
 * A packet counts when it is "directed to the honeypots": its destination
 * lies in one of the honeynets (every packet counts when none are given).
 * It is counted, in IP bytes (the IP total length, as NetFlow counts), in
 *   - tcp_port / udp_port: by destination port;
 *   - country: by the source's country (RIR delegation files);
 *   - os: by the label of the source host's latest SYN seen so far
 *     (p0f-compatible), "unknown" before any SYN or without a match.
 * A fragmented datagram counts once, when complete, with its reassembled
 * length (as nfpcapd counts it); see docs/analyze-json.md.
 */
#ifndef VIGIA_AN_ENGINE_H
#define VIGIA_AN_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "fp.h"
#include "geo-rir.h"
#include "proto-decode.h"
#include "stats-agg.h"
#include "util-cidr.h"

enum an_category {
	AN_TCP_PORT = 0,
	AN_UDP_PORT,
	AN_COUNTRY,
	AN_OS,
	AN_NCATS
};

struct an_host;

struct an_config {
	const struct cidr_set *honeynets;   /* NULL or empty: count everything */
	unsigned bin_seconds;               /* > 0 */
	const struct geo_db *geo;           /* NULL: every country is "--" */
	const struct fp_db *fp;             /* NULL: every OS is "unknown" */
	size_t max_hosts;                   /* 0: default bound */

	/* Additions for `vigia ingest`, which runs one engine per archived
	 * file and keeps what must flow from file to file in its database.
	 * All are off (NULL / false) for `vigia analyze`. */
	/* A source seen for the first time in this engine: the hook may set
	 * h->os from what an earlier pass learnt (its latest SYN's label). */
	void (*host_init)(void *ctx, const struct vg_ip *src, struct an_host *h);
	/* Every counted packet, after it was added to the categories: `p` is
	 * the whole datagram (reassembled when fragmented); h may be NULL when
	 * the source is beyond max_hosts. */
	void (*on_count)(void *ctx, const struct vg_pkt *p, struct an_host *h);
	void *hook_ctx;
	/* pflog captures log a packet crossing a gateway once per interface:
	 * count only the ones pf saw coming in (others count as not_honeynet). */
	bool pflog_in_only;
};

/* Frame accounting: every frame read lands in exactly one of these. */
struct an_counters {
	uint64_t frames;            /* records read */
	uint64_t counted;           /* IP packets directed to the honeynets */
	uint64_t counted_bytes;
	uint64_t not_honeynet;      /* IP packets to elsewhere (replies, noise) */
	uint64_t non_ip;            /* ARP, STP, ... */
	uint64_t unsupported;       /* link type or tunnel not decoded */
	uint64_t bad;               /* truncated or malformed */
	uint64_t fragments_merged;  /* fragments folded into a counted datagram */
	uint64_t fragments_incomplete; /* fragments of datagrams never completed */
	/* Further detail on counted packets. */
	uint64_t tcp, udp, icmp, other_proto, ipv6;
	uint64_t fragments;         /* counted datagrams that came fragmented */
	uint64_t syns, syns_matched;
	uint64_t hosts_untracked;   /* sources beyond max_hosts */
	uint64_t first_ns, last_ns; /* timestamps of counted packets */
};

struct an_engine;

int an_engine_new(struct an_engine **out, const struct an_config *cfg);
void an_engine_free(struct an_engine *e);

/* Account one frame: `status` is what vg_decode returned for it; the
 * packet is counted only when status is VG_DEC_OK. */
void an_engine_frame(struct an_engine *e, int status, const struct vg_pkt *pkt);

/* Close the last bin; call once, before reading results. */
int an_engine_finish(struct an_engine *e);

const struct an_counters *an_engine_counters(const struct an_engine *e);
const struct stats_cat *an_engine_cat(const struct an_engine *e, enum an_category c);
unsigned an_engine_bin_seconds(const struct an_engine *e);

/* The OS key meaning "no label" (== number of labels of the fp db). */
unsigned an_engine_os_unknown(const struct an_engine *e);
/* Key -> text: "445", "BR", "Windows XP" / "unknown".  buf >= 64 bytes. */
const char *an_engine_key_name(const struct an_engine *e, enum an_category c,
			       unsigned key, char *buf, size_t len);
bool an_engine_os_is_windows(const struct an_engine *e, unsigned key);

size_t an_engine_memory(const struct an_engine *e);

/* Per-source state (country, OS, counted packets/bytes, first/last). */
struct an_hosts;
const struct an_hosts *an_engine_host_table(const struct an_engine *e);
size_t an_engine_hosts(const struct an_engine *e);

#endif
