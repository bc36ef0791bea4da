/* an-hosts.h: what is known of each source host during one pass: its
 * country (looked up once) and the OS label of its latest SYN.
 *
 * Open addressing with linear probing, 8 bytes a slot for IPv4: a day of
 * a national network has millions of sources (spoofed floods included),
 * and this table is probed for every packet.  IPv6 hosts live in a second
 * table with 16-byte keys. */
#ifndef VIGIA_AN_HOSTS_H
#define VIGIA_AN_HOSTS_H

#include <stddef.h>
#include <stdint.h>

#include "proto-decode.h"

struct an_host {
	uint16_t cc;        /* packed country code */
	uint16_t os;        /* OS key: label id, or the "unknown" key; never 0xffff */
	uint32_t packets;   /* counted packets (directed to the honeynets) */
	uint64_t bytes;
	uint32_t first_s;   /* first and last counted packet, epoch seconds */
	uint32_t last_s;
	/* Left to the hooks (an-engine.h on_count): the classifier keeps its
	 * source index here so that it need not look the source up again. */
	uint32_t hint;
	uint32_t asn;       /* the holder's AS (geo-rir.h), looked up with cc; 0 unknown */
};

struct an_hosts;

/* `max_hosts` bounds memory: beyond it, new hosts are still answered
 * (found == 0) but not remembered. */
struct an_hosts *an_hosts_new(size_t max_hosts);
void an_hosts_free(struct an_hosts *h);

/* Find the host's entry, creating it when absent: then *created is 1 and
 * the caller fills it.  Returns NULL only when the table is full. */
struct an_host *an_hosts_get(struct an_hosts *h, const struct vg_ip *ip, int *created);

size_t an_hosts_count(const struct an_hosts *h);

/* Visit every host (order unspecified); stop early when cb returns non-zero. */
typedef int (*an_hosts_cb)(const struct vg_ip *ip, const struct an_host *host, void *ctx);
int an_hosts_foreach(const struct an_hosts *h, an_hosts_cb cb, void *ctx);
size_t an_hosts_memory(const struct an_hosts *h);

#endif
