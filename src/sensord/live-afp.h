/* live-afp.h: capture and send on a Linux interface with AF_PACKET
 * sockets, at flood rates.
 *
 * libpcap cannot say what the kernel knows of a frame's checksums, and
 * that matters: a frame sent by a local kernel over veth, or by a virtual
 * machine, carries TCP/UDP checksums left to offload ("partial"), which a
 * user-space stack verifying checksums would reject.  The kernel gives its
 * status with each frame: TP_STATUS_CSUMNOTREADY (not computed yet, the
 * sender's kernel vouches for the data) or TP_STATUS_CSUM_VALID (verified
 * by the NIC).  The VLAN tag the kernel strips is put back, as libpcap
 * does.
 *
 * Receive: a TPACKET_V3 ring (mmap'ed blocks the kernel fills and hands
 * over whole, or after a short retire timeout), so a flood costs no system
 * call per frame and a burst waits in the ring rather than being dropped.
 * Honeyd's drops at 50,000 SYN/s were all in its capture buffer.
 * Send: a second socket that bypasses the qdisc (the sensor is the only
 * sender on its frames' path that matters); frames are queued by afp_send
 * and handed to the kernel in one sendmmsg() by afp_flush, which
 * afp_dispatch also calls after each batch.  A TPACKET_V2 TX ring
 * (AFP_TX_RING) saves that copy on a NIC, but on veth the kernel copies
 * the ring's pages again into every skb, which costs more than sendmmsg's
 * one copy (measured: bench/README.md).
 *
 * When the kernel refuses the rings (or AFP_NO_RING is asked for), the
 * same calls fall back to recvmsg with PACKET_AUXDATA and one sendto per
 * frame.  Bypassing the qdisc means a tcpdump on the sensor's interface
 * no longer sees the replies; the sensor's own spool records them. */
#ifndef VIGIA_LIVE_AFP_H
#define VIGIA_LIVE_AFP_H

#include <stdbool.h>
#include <stdint.h>

#include "vg-err.h"

struct afp;

/* Checksum status of a received frame (flags). */
#define AFP_CSUM_PARTIAL 1u     /* TCP/UDP checksum left to offload */
#define AFP_CSUM_VALID 2u       /* verified by the hardware */

/* afp_open_flags */
#define AFP_NO_RING 1u          /* recvmsg/sendto only (the fallback path) */
#define AFP_QDISC 2u            /* send through the qdisc (tc, taps see replies) */
#define AFP_TX_RING 4u          /* send through a TPACKET_V2 TX ring, not sendmmsg */

/* The receive ring's default size: a second of a 300,000 SYN/s flood. */
#define AFP_RING_DEFAULT (64u << 20)

typedef void (*afp_frame_fn)(void *ctx, uint64_t ts_ns, const uint8_t *frame,
			     uint32_t caplen, uint32_t wirelen, unsigned csum);

/* Open iface in promiscuous mode, incoming frames only, with a receive
 * ring (or, in the fallback, a socket buffer) of ring_bytes bytes.
 * Returns 0 or a negative errno with err set.  Flags from the
 * environment (afp_env_flags, for tests and the bench) are added. */
int afp_open(struct afp **out, const char *iface, int ring_bytes, struct vg_err *err);
/* VIGIA_AFP: any of the words noring, txring, qdisc (AFP_NO_RING,
 * AFP_TX_RING, AFP_QDISC). */
unsigned afp_env_flags(void);
int afp_open_flags(struct afp **out, const char *iface, int ring_bytes, unsigned flags,
		   struct vg_err *err);

/* Privilege separation: a privileged process opens with afp_open and
 * passes the two descriptors (afp_fds) to an unprivileged one, which maps
 * the rings again with afp_adopt, giving the same ring_bytes and flags.  Opening
 * needs CAP_NET_RAW; mapping does not.  afp_adopt takes ownership of the
 * descriptors. */
void afp_fds(const struct afp *a, int *rx_fd, int *tx_fd);
int afp_adopt(struct afp **out, int rx_fd, int tx_fd, int ring_bytes, unsigned flags,
	      struct vg_err *err);

/* The descriptor to poll for input (POLLIN). */
int afp_fd(const struct afp *a);
/* Read up to max frames without blocking, then flush what was queued for
 * sending; returns how many were read, or a negative errno. */
int afp_dispatch(struct afp *a, int max, afp_frame_fn fn, void *ctx);
/* Queue a frame for sending (sent at once in the fallback).  0, or a
 * negative errno when the frame could not be queued or sent. */
int afp_send(struct afp *a, const uint8_t *frame, uint32_t len);
/* Hand every queued frame to the kernel. */
int afp_flush(struct afp *a);
/* Frames the kernel dropped for want of ring or buffer space, since open. */
uint64_t afp_drops(struct afp *a);

struct afp_stats {
	bool ring;                  /* TPACKET rings in use */
	uint64_t rx_frames;         /* frames given to the callback */
	uint64_t rx_drops;          /* as afp_drops */
	uint64_t rx_blocks;         /* ring blocks handed over by the kernel */
	uint64_t tx_frames;         /* frames queued or sent */
	uint64_t tx_flushes;        /* send() calls that kicked the TX ring */
	uint64_t tx_ring_full;      /* frames not sent: the TX ring stayed full */
};
void afp_get_stats(struct afp *a, struct afp_stats *st);

void afp_close(struct afp *a);

#endif
