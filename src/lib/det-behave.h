/* det-behave.h: behavioural detectors, for what has no payload signature.
 *
 *   - horizontal scan: one source probing at least hscan_hosts honeypot
 *     addresses on the same protocol and port, in one UTC day;
 *   - vertical scan: one source probing at least vscan_ports ports of one
 *     honeypot address, in one UTC day;
 *   - brute force: at least brute_conns connections (distinct source
 *     ports of SYNs) from one source to one login service (21, 22, 23,
 *     2323, ...) of one address, in one UTC day;
 *   - bot: payloads with IRC command-and-control traits (NICK, USER,
 *     JOIN #, PRIVMSG lines) from one source: bot_traits distinct kinds.
 *
 * A probe is a TCP segment with SYN and without ACK or RST, a UDP
 * datagram, or an ICMP echo request: replies of the honeypots (SYN-ACK,
 * RST) never count.
 *
 * All state is per source (struct det_src), so that a packet costs one
 * source lookup whatever the detectors: the classifier (incident.h) keeps
 * a det_src beside each source's incidents; det_packet() keeps its own
 * table for callers that have none.  Inside, a source holds the addresses
 * it probed on each port as bitmaps of 64 neighbouring addresses (a /24
 * sweep is 4 words) and a counter per key, in one small hash table that
 * stays in cache while the source scans.  Counts per address (vertical
 * scans) are kept only once the source has probed vscan_ports distinct
 * ports, rebuilt then from the bitmaps: below that no address can reach
 * the threshold.  Memory is bounded: max_entries entries in all; beyond,
 * new pairs are not tracked (det_stats.untracked) until a source's day
 * ends and frees its state.
 */
#ifndef VIGIA_DET_BEHAVE_H
#define VIGIA_DET_BEHAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto-decode.h"

#define DET_MAX_THRESHOLD 256
#define DET_MAX_LOGIN_PORTS 16

struct det_config {
	uint32_t hscan_hosts;       /* default 8 */
	uint32_t vscan_ports;       /* default 10 */
	uint32_t brute_conns;       /* default 5 */
	uint32_t bot_traits;        /* default 2 */
	uint16_t login_ports[DET_MAX_LOGIN_PORTS];
	size_t nlogin_ports;        /* default 21, 22, 23, 2323, 110, 143, 3389 */
	size_t max_entries;         /* pairs + keys tracked in all; default 16,777,216 */
};

void det_config_default(struct det_config *c);

enum det_kind { DET_HSCAN = 0, DET_VSCAN, DET_BRUTE, DET_BOT, DET_NKINDS };

/* Every (category, name) a detector reports, numbered, so that callers
 * can intern them before the first packet: det_hit.id indexes it. */
#define DET_NCLASSES 10
void det_class(unsigned id, const char **category, const char **name);

struct det_hit {
	enum det_kind kind;
	unsigned id;                /* < DET_NCLASSES */
	const char *category;       /* "scan", "bruteforce", "bot" (static) */
	const char *name;           /* "horizontal scan", "SSH brute force", ... (static) */
	/* Packets this hit stands for: the threshold's worth when the key
	 * first crosses it (the earlier probes), then 1 per packet. */
	uint32_t count;
	int64_t first_s;            /* first probe of the key */
};

typedef int (*det_hit_cb)(void *ctx, const struct det_hit *h, const struct vg_pkt *p);

/* One source's state; all zero is a source never seen.  Opaque. */
struct det_src {
	int32_t day;                /* days since 1970 of the state held */
	uint8_t bot, bot_fired;
	uint8_t vactive;            /* vertical counts kept (enough ports seen) */
	uint32_t bot_first;
	uint32_t first_probe;       /* the day's first probe, epoch seconds */
	uint32_t nports;            /* distinct (protocol, port) keys */
	uint32_t ncnt, capcnt;      /* entries in cnt, and its slots */
	struct det_cnt *cnt;
};

struct det;

/* Thresholds are clamped to 1..DET_MAX_THRESHOLD. */
int det_new(struct det **out, const struct det_config *c);
void det_free(struct det *d);

/* Feed one decoded packet; cb is called for each detector that fires.
 * Returns the number of hits, the callback's non-zero value, or -ENOMEM
 * (the own source table only). */
int det_packet(struct det *d, const struct vg_pkt *p, det_hit_cb cb, void *ctx);
/* The same for a packet of the source whose state is s (kept by the
 * caller; p->src is not looked at). */
int det_packet_src(struct det *d, struct det_src *s, const struct vg_pkt *p, det_hit_cb cb,
		   void *ctx);
/* Ask the CPU to fetch the table entries det_packet_src will read for
 * this packet (a hint: nothing changes).  A caller with packets queued
 * calls it a few packets ahead, so that the lookups of a source's large
 * table do not each wait for memory. */
void det_prefetch(const struct det *d, const struct det_src *s, const struct vg_pkt *p);
/* Free a caller-kept source's state (it becomes all zero). */
void det_src_clear(struct det *d, struct det_src *s);

struct det_stats {
	uint64_t sources;           /* in det_packet's own table */
	uint64_t entries;           /* pairs + keys tracked now */
	uint64_t untracked;         /* probes not tracked: max_entries reached */
	uint64_t hits[DET_NKINDS];
};
const struct det_stats *det_get_stats(const struct det *d);
/* Bytes held now, own table and every source's state included. */
size_t det_memory(const struct det *d);

#endif
