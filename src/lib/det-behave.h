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
 * RST) never count.  Memory is bounded: each detector keeps per-key state
 * in a table of max_entries slots; when a probe window is full the entry
 * seen longest ago is evicted (counted in det_stats.evicted).
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
	size_t max_entries;         /* per detector; default 65536 */
};

void det_config_default(struct det_config *c);

enum det_kind { DET_HSCAN = 0, DET_VSCAN, DET_BRUTE, DET_BOT, DET_NKINDS };

struct det_hit {
	enum det_kind kind;
	const char *category;       /* "scan", "bruteforce", "bot" */
	const char *name;           /* "horizontal scan", "SSH brute force", ... */
	/* Packets this hit stands for: the threshold's worth when the key
	 * first crosses it (the earlier probes), then 1 per packet. */
	uint32_t count;
	int64_t first_s;            /* first probe of the key */
};

typedef int (*det_hit_cb)(void *ctx, const struct det_hit *h, const struct vg_pkt *p);

struct det;

/* Thresholds are clamped to 1..DET_MAX_THRESHOLD. */
int det_new(struct det **out, const struct det_config *c);
void det_free(struct det *d);

/* Feed one decoded packet; cb is called for each detector that fires.
 * Returns the number of hits, or the callback's non-zero value. */
int det_packet(struct det *d, const struct vg_pkt *p, det_hit_cb cb, void *ctx);

struct det_stats {
	uint64_t entries[DET_NKINDS], evicted[DET_NKINDS];
};
const struct det_stats *det_get_stats(const struct det *d);
size_t det_memory(const struct det *d);

#endif
