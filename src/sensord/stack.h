/* stack.h: the responder, a Honeyd-style user-space network stack.
 *
 * Frames come in (from a capture file in --replay, from the interface when
 * live) and the frames the virtual hosts would send go out through a
 * callback.  Everything happens at the time the caller passes in: packet
 * time in --replay, the clock when live, so a replay is deterministic for a
 * given seed.
 *
 *   ARP        who-has for a claimed address -> reply (template MAC or the
 *              interface's)
 *   ICMP       echo and timestamp replies; port unreachable for closed UDP
 *              ports, token-bucket limited per source and globally
 *   TCP        open: SYN-ACK whose ISN is a SYN cookie, so half-open
 *              connections cost no memory; the ACK that completes the
 *              handshake is checked against the cookie and only then takes
 *              a connection slot.  closed: RST/ACK; block: silence;
 *              reset: RST.  Established connections carry bytes in order
 *              to the service (svc.h) and its replies back, segmented to
 *              the MSS, with FIN, RST, retransmission and idle timeout.
 *   UDP        open: the service's reply or silence; closed: ICMP port
 *              unreachable.
 *   scripts    add T tcp|udp port N "command": Honeyd-style external
 *              scripts, one process per connection (per datagram for UDP)
 *              run by /bin/sh -c, unprivileged and under limits; their
 *              pipes are polled by the caller (stack_script_pollfds and
 *              stack_script_poll), so the packet path never waits on them.
 *
 * Replies are built from per-template prebuilt IP+TCP/UDP headers
 * (masscan's trick) patched per packet; the packet path never allocates
 * (a connection's buffers are allocated once, when it is established).
 * Only IPv4 is answered for now; IPv6 frames are counted and ignored.
 */
#ifndef VIGIA_STACK_H
#define VIGIA_STACK_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "fp.h"
#include "hl-log.h"
#include "proto-decode.h"
#include "sc-config.h"
#include "vg-err.h"

struct stack;
struct nmdb;

/* The longest frame the stack sends (Ethernet + 802.1Q + 1500). */
#define STACK_MAX_FRAME 1518

/* Idle time after which an established TCP connection or a UDP flow ends. */
#define STACK_TCP_IDLE_S 60
#define STACK_UDP_IDLE_S 30

struct stack_opts {
	const struct sc_config *cfg;        /* templates, binds, limits */
	uint64_t seed;                      /* SYN cookie key, IP IDs, drop rate */
	uint8_t if_mac[6];                  /* the interface's MAC */
	const struct fp_db *fp;             /* p0f database for [OS]; may be NULL */
	/* Verify incoming IP/TCP/UDP/ICMP checksums and drop bad packets as a
	 * real stack would.  Off for replays of captures taken on the
	 * sending host, whose checksums are left to offload. */
	bool verify_checksums;

	/* A frame to send (Ethernet).  Called synchronously; the buffer is
	 * the stack's and is reused after the call. */
	void (*emit)(void *ctx, uint64_t ts_ns, const uint8_t *frame, uint32_t len);
	/* A connection log event (Honeyd S, E, -). */
	void (*log)(void *ctx, const struct hl_event *ev);
	/* A fact a service recorded ("user", "root").  ev holds time, proto
	 * and the address tuple (kind is HL_START).  An empty key means value
	 * is a whole service-log line: a line a script wrote to stderr, or
	 * vigia's note of how a script ended. */
	void (*record)(void *ctx, const struct hl_event *ev, const char *key,
		       const char *value);
	void *ctx;

	/* nmap's OS database (templ-nmapdb.h): templates with a personality
	 * then answer as that system does.  NULL: a small keyword table sets
	 * TTL, DF, window and MSS only.  A personality not found there is
	 * reported through warn (when set) and gets the keyword table. */
	const struct nmdb *osdb;
	void (*warn)(void *ctx, const char *msg);

	/* External scripts.  When the sensor runs as root they run as the
	 * template's "set T uid N gid M", else as script_uid/script_gid
	 * (`vigia user`; when script_user_set is false, nobody: 65534);
	 * never as root.  Not root (tests): as the current user. */
	uint32_t script_uid, script_gid;
	bool script_user_set;
	/* Their working directory, where relative command lines are found;
	 * NULL: the configuration file's directory. */
	const char *script_dir;

	/* Live operation (issue 4; off in --replay, so that a replay shows
	 * every answer):
	 *   - at most cfg->max_pps_out frames sent per second in all, and
	 *     cfg->max_pps_per_source to any one address (0: no cap);
	 *   - a UDP reply larger than the datagram that caused it takes a
	 *     token of a per-source bucket (STACK_AMP_RATE per second, burst
	 *     STACK_AMP_BURST), so no service lends itself to reflection;
	 *   - an address another host is seen using (an ARP reply, a
	 *     gratuitous ARP, or any ARP sent from it by a MAC not ours) is
	 *     released: no more answers for it, reported through warn. */
	bool guard;
};

#define STACK_AMP_RATE 1
#define STACK_AMP_BURST 4
#define STACK_MAX_RELEASED 4096 /* addresses released at most */

struct stack_stats {
	uint64_t rx_packets, rx_bytes;      /* frames given to stack_input */
	uint64_t tx_packets, tx_bytes;      /* frames emitted */
	uint64_t not_ours;                  /* for addresses nobody claimed */
	uint64_t undecodable;               /* truncated, malformed, unsupported */
	uint64_t bad_checksum;              /* dropped by verify_checksums */
	uint64_t dropped_droprate;          /* dropped by a template's droprate */
	uint64_t ipv6_ignored;
	uint64_t icmp_ratelimited;          /* unreachables not sent */
	uint64_t tcp_bad_cookie;            /* ACKs that matched no cookie */
	uint64_t conn_open;                 /* TCP connections established now */
	uint64_t conn_total;                /* established since start */
	uint64_t conn_cap_hits;             /* refused: max_connections reached */
	uint64_t udp_flows_open;
	uint64_t last_packet_ns;            /* time of the last frame received */
	uint64_t scripts_started;           /* script processes started */
	uint64_t scripts_running;           /* not yet reaped, now */
	uint64_t script_cap_hits;           /* refused (TCP: RST): max-scripts running */
	uint64_t script_errors;             /* could not start (pipe, fork) */
	uint64_t scripts_failed;            /* exited non-zero (a missing script: 127) */
	uint64_t scripts_killed;            /* ended by a signal (CPU limit, ...) */
	uint64_t scripts_timeout;           /* killed at the wall-clock limit */
	uint64_t script_udp_truncated;      /* UDP replies cut to the request's size */
	/* guard (issue 4) */
	uint64_t dropped_pps_global;        /* frames not sent: max-pps */
	uint64_t dropped_pps_source;        /* frames not sent: max-pps-per-source */
	uint64_t dropped_amplification;     /* UDP replies larger than their request, over the bucket */
	uint64_t arp_released;              /* addresses released (in use by another host) */
	uint64_t dropped_released;          /* frames to released addresses, ignored */
};

/* Build the responder: per-template reply parameters and prebuilt
 * headers, the connection table (sized by cfg->max_connections).
 * Returns 0 or a negative errno with err set. */
int stack_new(struct stack **out, const struct stack_opts *o, struct vg_err *err);

/* One received frame of the given pcap link type, at ts_ns.  Frames of
 * any link type are understood (vg_decode); replies are Ethernet. */
void stack_input(struct stack *s, int linktype, uint64_t ts_ns,
		 const uint8_t *frame, uint32_t caplen, uint32_t wirelen);
/* The same with the kernel's checksum status of the frame (live capture,
 * PACKET_AUXDATA): TCP/UDP checksums left to offload by a local sender
 * (PARTIAL) or verified by the NIC (VALID) are not checked again. */
#define STACK_CSUM_PARTIAL 1u
#define STACK_CSUM_VALID 2u
void stack_input_csum(struct stack *s, int linktype, uint64_t ts_ns,
		      const uint8_t *frame, uint32_t caplen, uint32_t wirelen, unsigned csum);

/* Advance time without a packet (timeouts, retransmissions).  stack_input
 * does this itself; call it when idle. */
void stack_tick(struct stack *s, uint64_t now_ns);

/* End every connection and flow at now_ns (logging their E lines, sending
 * nothing): the end of a replay, or shutdown. */
void stack_finish(struct stack *s, uint64_t now_ns);

void stack_get_stats(const struct stack *s, struct stack_stats *st);

/* Whether addr was released by the ARP guard (another host uses it). */
bool stack_released(const struct stack *s, const struct vg_ip *addr);

/* --- External scripts ----------------------------------------------------
 *
 * Live: add the descriptors stack_script_pollfds fills to the poll() that
 * waits for packets, then call stack_script_poll, which moves bytes
 * between the scripts and their connections, logs their stderr, enforces
 * the wall-clock limit and reaps them.  It sends at now_ns.
 *
 * Replay: call stack_script_settle after each stack_input.  It waits
 * until every script fed since the last call has either ended or taken
 * all its input and stayed silent for STACK_SCRIPT_QUIET_MS (or stayed
 * silent for STACK_SCRIPT_UNREAD_MS leaving input unread; at most
 * script-time), and sends what they wrote at the packet's time, in the
 * order the scripts started.  So a
 * replay is deterministic for scripts that answer within that quiet
 * period of reading their input, which is what request/reply scripts do.
 * A script that writes later has its output sent at a later packet. */
#define STACK_SCRIPT_QUIET_MS 150
#define STACK_SCRIPT_UNREAD_MS 1000     /* quiet, input left unread */
#define STACK_MAX_SCRIPTS_DEFAULT 64

/* Slots for running scripts (max-scripts), 0 when no template has one;
 * a caller needs 3 pollfds per slot. */
unsigned stack_script_slots(const struct stack *s);
int stack_script_pollfds(const struct stack *s, struct pollfd *fds, int max);
void stack_script_poll(struct stack *s, uint64_t now_ns);
void stack_script_settle(struct stack *s);

void stack_free(struct stack *s);

/* --- Exposed for tests and issue 4 ------------------------------------- */

/* Reply parameters of a template, computed at load from its personality
 * (a small keyword table for now; issue 4 derives them from nmap-os-db). */
struct stack_persona {
	uint8_t ttl;
	bool df;
	uint16_t win;           /* SYN-ACK and data window */
	uint16_t mss;           /* MSS option of the SYN-ACK */
};
void stack_persona_for(const char *personality, struct stack_persona *p);

/* The Internet checksum (RFC 1071) of buf, folded, starting from sum. */
uint16_t stack_csum(const void *buf, uint32_t len, uint32_t sum);

#endif
