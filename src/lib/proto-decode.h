/* proto-decode.h: turn one captured frame into a struct vg_pkt.
 *
 * The decoder is written by hand: no Debian library decodes link layers,
 * tunnels and IP at the several-million-packets-per-second rate the
 * analysis needs without copying, and the bounds rules here are the
 * security boundary for hostile bytes.  Every read is checked against the
 * captured length; nothing is ever read past `caplen`.
 *
 * The decoder never allocates.  Pointers in vg_pkt point into the
 * caller's frame buffer and are valid as long as that buffer is.
 */
#ifndef VIGIA_PROTO_DECODE_H
#define VIGIA_PROTO_DECODE_H

#include <stdbool.h>
#include <stdint.h>

/* Link types handled (values are the pcap LINKTYPE_* numbers). */
enum vg_linktype {
	VG_LINK_NULL = 0,        /* BSD loopback: 4-byte AF in host order of the writer */
	VG_LINK_ETHERNET = 1,
	VG_LINK_RAW = 101,       /* raw IPv4/IPv6 (also DLT_RAW 12/14 mapped here) */
	VG_LINK_LOOP = 108,      /* OpenBSD loopback: AF in network order */
	VG_LINK_PFLOG = 117,
	VG_LINK_LINUX_SLL = 113,
	VG_LINK_LINUX_SLL2 = 276,
	VG_LINK_IPV4 = 228,
	VG_LINK_IPV6 = 229,
};

/* Why a frame could not be decoded.  Not all are errors of the capture:
 * VG_DEC_NOT_IP (ARP, STP, ...) is normal traffic that has no IP layer. */
enum vg_dec_status {
	VG_DEC_OK = 0,
	VG_DEC_NOT_IP = 1,          /* valid frame, but not IPv4/IPv6 (ARP, LLC...) */
	VG_DEC_UNSUPPORTED = 2,     /* link type or tunnel we do not decode */
	VG_DEC_TRUNCATED = -1,      /* a header runs past the captured bytes */
	VG_DEC_MALFORMED = -2,      /* a field is impossible (IHL<5, bad version...) */
};

/* An IP address of either family; IPv4 lives in a[0..3], network order. */
struct vg_ip {
	uint8_t v;       /* 4 or 6; 0 when absent */
	uint8_t a[16];
};

/* Encapsulation seen on the way to the innermost IP header. */
enum {
	VG_ENC_VLAN = 1u << 0,
	VG_ENC_QINQ = 1u << 1,
	VG_ENC_GRE = 1u << 2,
	VG_ENC_ERSPAN = 1u << 3,
	VG_ENC_PFLOG = 1u << 4,
	VG_ENC_IPIP = 1u << 5,       /* IP-in-IP / 6in4 */
};

/* TCP flag bits as in the header byte (CWR..FIN). */
enum {
	VG_TH_FIN = 0x01, VG_TH_SYN = 0x02, VG_TH_RST = 0x04, VG_TH_PSH = 0x08,
	VG_TH_ACK = 0x10, VG_TH_URG = 0x20, VG_TH_ECE = 0x40, VG_TH_CWR = 0x80,
};

/* pflog direction and action (OpenBSD pf) */
enum { VG_PF_DIR_UNKNOWN = 0, VG_PF_DIR_IN = 1, VG_PF_DIR_OUT = 2 };

struct vg_pkt {
	uint64_t ts_ns;             /* capture time, ns since the epoch (set by caller) */
	uint32_t caplen, wirelen;   /* of the whole frame */

	/* Innermost IP layer (after any tunnel). */
	uint8_t ipver;              /* 4, 6; 0 if the frame has no IP layer */
	uint8_t proto;              /* final upper-layer protocol (after IPv6 ext headers) */
	uint8_t ttl;                /* IPv4 TTL or IPv6 hop limit */
	uint8_t tos;                /* IPv4 TOS / IPv6 traffic class */
	uint32_t ip_len;            /* IP total length from the header (bytes counted) */
	uint16_t ip_id;             /* IPv4 ID; IPv6 fragment ID low bits if fragmented */
	uint16_t ip_hlen;           /* bytes from start of IP header to upper layer */
	uint8_t ip_opt_len;         /* IPv4 options bytes (ihl*4 - 20); IPv6: 0 */
	bool df;                    /* IPv4 don't-fragment */
	bool mf;                    /* more-fragments set */
	uint16_t frag_off;          /* fragment offset in bytes; nonzero means no L4 header here */
	uint32_t flow_label;        /* IPv6 only */
	struct vg_ip src, dst;

	/* Upper layer, valid when l4 != NULL. */
	uint16_t sport, dport;      /* TCP/UDP ports; 0 otherwise */
	uint8_t tcp_flags;
	uint8_t tcp_hlen;           /* TCP header length in bytes, options included */
	uint16_t tcp_win;
	uint32_t tcp_seq, tcp_ack;
	uint16_t tcp_urp;
	uint8_t icmp_type, icmp_code;   /* ICMP or ICMPv6 */

	const uint8_t *l3;          /* innermost IP header */
	uint32_t l3_caplen;         /* captured bytes from l3 to end of frame */
	const uint8_t *l4;          /* upper-layer header, NULL for non-first fragments */
	uint32_t l4_caplen;
	const uint8_t *payload;     /* application payload (after TCP/UDP/ICMP header;
	                               other protocols: all after the IP headers) */
	uint32_t payload_caplen;    /* bytes of payload actually captured */
	uint32_t payload_len;       /* payload length per the IP header (may exceed caplen) */

	/* Link and encapsulation. */
	uint32_t encap;             /* VG_ENC_* bits */
	uint16_t vlan[2];           /* outer, inner VLAN ids (when VG_ENC_VLAN/QINQ) */
	uint8_t pf_dir;             /* VG_PF_DIR_* from pflog */
	uint8_t pf_action;          /* pf action code (0 pass, 1 block, ...) */
	uint32_t pf_rulenr;         /* pf rule number, host order */
	char pf_ifname[16];         /* pflog interface name, NUL terminated */

	uint32_t err_off;           /* on failure: byte offset in the frame at fault */
};

/* Decode one frame.  Returns a vg_dec_status; on VG_DEC_TRUNCATED or
 * VG_DEC_MALFORMED, pkt->err_off tells where in the frame the problem is
 * and vg_dec_strerror() names it.  Fields decoded before the failure stay
 * filled, the rest are zero; ts_ns is kept as the caller set it.
 * Tunnels: the result describes the innermost IP packet.  When a tunnel's
 * content cannot be decoded (GRE version 1, an unknown GRE protocol, a
 * non-IP frame inside ERSPAN, nesting deeper than 4) the status is
 * UNSUPPORTED or NOT_IP and the carrier IP packet stays filled in. */
int vg_decode(int linktype, const uint8_t *frame, uint32_t caplen,
	      uint32_t wirelen, struct vg_pkt *pkt);

/* Decode starting at an IP header (version nibble picks v4/v6); used for
 * tunnels and by the sensor for raw sockets. */
int vg_decode_ip(const uint8_t *ip, uint32_t caplen, struct vg_pkt *pkt);

const char *vg_dec_strerror(int status);

/* Convenience: IPv4 address as a host-order integer. */
static inline uint32_t vg_ip4(const struct vg_ip *ip)
{
	return ((uint32_t)ip->a[0] << 24) | ((uint32_t)ip->a[1] << 16) |
	       ((uint32_t)ip->a[2] << 8) | ip->a[3];
}

/* Format an address (inet_ntop); buf must hold 46 bytes. */
const char *vg_ip_str(const struct vg_ip *ip, char *buf, unsigned len);

#endif
