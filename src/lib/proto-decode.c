/* proto-decode.c: link layer, tunnels, IPv4/IPv6 and TCP/UDP/ICMP.
 *
 * Written by hand (see proto-decode.h for why).  Every function receives
 * a pointer and the number of captured bytes it may read from there; a
 * header is only read after the bytes it occupies were checked against
 * that count.  Where an IP header declares a length, the upper layers
 * are bounded by the smaller of that length and what was captured, so
 * Ethernet padding never counts as payload.
 *
 * Status rules: a header that runs past the captured bytes is TRUNCATED;
 * a header that runs past the length its own enclosing IP header
 * declares (or a field that cannot be) is MALFORMED.  err_off is the
 * offset, from the start of the frame, of the header or field at fault.
 */
#include "proto-decode.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>

/* Hostile input could nest IP-in-GRE-in-IP... forever; real networks
 * need two or three levels (ERSPAN of a GRE tunnel is the deepest seen). */
#define MAX_TUNNEL_DEPTH 4
/* More stacked VLAN/LLC/MPLS layers than this is not a real network. */
#define MAX_LINK_LAYERS 8
/* RFC 8200 allows any number of extension headers; real stacks send at
 * most a handful, and each one costs a loop iteration on hostile input. */
#define MAX_IP6_EXT 8

enum {
	ETH_IPV4 = 0x0800, ETH_IPV6 = 0x86DD, ETH_VLAN = 0x8100,
	ETH_QINQ = 0x88A8, ETH_QINQ_OLD = 0x9100, ETH_QINQ_OLD2 = 0x9200,
	ETH_PPPOE_S = 0x8864, ETH_MPLS = 0x8847, ETH_MPLS_MC = 0x8848,
	ETH_TEB = 0x6558, ETH_ERSPAN2 = 0x88BE, ETH_ERSPAN3 = 0x22EB,
};

enum {
	IPP_HOPOPT = 0, IPP_ICMP = 1, IPP_IPIP = 4, IPP_TCP = 6, IPP_UDP = 17,
	IPP_IPV6 = 41, IPP_ROUTING = 43, IPP_FRAGMENT = 44, IPP_GRE = 47,
	IPP_AH = 51, IPP_ICMPV6 = 58, IPP_NONXT = 59, IPP_DSTOPTS = 60,
};

/* Address family numbers as BSD loopback and pflog write them: IPv6 is
 * 24 on OpenBSD/NetBSD, 28 on FreeBSD, 30 on macOS. */
enum { AFN_INET = 2, AFN_INET6_BSD = 24, AFN_INET6_FREEBSD = 28,
       AFN_INET6_DARWIN = 30 };

struct dec {
	const uint8_t *base;        /* frame start: err_off is relative to it */
	struct vg_pkt *pkt;
	unsigned depth;             /* tunnels entered so far */
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t rd32le(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[1] << 8 | p[0];
}

static int fail(const struct dec *d, int status, const uint8_t *at)
{
	d->pkt->err_off = (uint32_t)(at - d->base);
	return status;
}

/* A header of `need` bytes at p+off did not fit: MALFORMED when the
 * enclosing header's declared length is what it overruns, TRUNCATED when
 * only the capture is too short. */
static int short_hdr(const struct dec *d, const uint8_t *p, uint32_t off,
		     uint32_t need, uint32_t declared)
{
	return fail(d, (uint64_t)off + need > declared ? VG_DEC_MALFORMED
						       : VG_DEC_TRUNCATED, p + off);
}

/* Bytes of the IP packet at p on the wire when its header declares no
 * length (TSO captures, IPv6 jumbograms): captured plus what the capture
 * cut off at the end of the frame. */
static uint32_t wire_left(const struct dec *d, uint32_t len)
{
	const struct vg_pkt *pkt = d->pkt;
	uint32_t cut = pkt->wirelen > pkt->caplen ? pkt->wirelen - pkt->caplen : 0;
	return len + cut;
}

/* gcc compiles one memset of the whole 184-byte struct into `rep stos`,
 * whose start-up cost alone was a third of the time of a SYN decode;
 * separate clears of at most 64 bytes become plain vector stores. */
_Static_assert(sizeof(struct vg_pkt) > 128 && sizeof(struct vg_pkt) <= 192,
	       "re-split the clear of struct vg_pkt");

static inline void reset_pkt(struct vg_pkt *pkt, uint32_t caplen, uint32_t wirelen)
{
	unsigned char *b = (unsigned char *)pkt;
	uint64_t ts = pkt->ts_ns;

	memset(b, 0, 64);
	memset(b + 64, 0, 64);
	memset(b + 128, 0, sizeof *pkt - 128);
	pkt->ts_ns = ts;
	pkt->caplen = caplen;
	pkt->wirelen = wirelen;
}

/* An inner IP header replaces the outer one: the L3/L4 block is cleared
 * so fields of the tunnel's carrier do not leak into the inner packet. */
static void clear_l3(struct vg_pkt *pkt)
{
	const size_t from = offsetof(struct vg_pkt, ipver);
	const size_t n = offsetof(struct vg_pkt, encap) - from;
	unsigned char *b = (unsigned char *)pkt + from;

	_Static_assert(offsetof(struct vg_pkt, encap) - offsetof(struct vg_pkt, ipver) > 64 &&
		       offsetof(struct vg_pkt, encap) - offsetof(struct vg_pkt, ipver) <= 128,
		       "re-split the clear of the L3/L4 block");
	memset(b, 0, 64);
	memset(b + 64, 0, n - 64);
}

static int dec_ip4(struct dec *d, const uint8_t *p, uint32_t len);
static int dec_ip6(struct dec *d, const uint8_t *p, uint32_t len);
static int dec_ether(struct dec *d, const uint8_t *p, uint32_t len);

static int dec_ip(struct dec *d, const uint8_t *p, uint32_t len)
{
	if (len < 1)
		return fail(d, VG_DEC_TRUNCATED, p);
	switch (p[0] >> 4) {
	case 4:
		return dec_ip4(d, p, len);
	case 6:
		return dec_ip6(d, p, len);
	default:
		return fail(d, VG_DEC_MALFORMED, p);
	}
}

/* ERSPAN type III: 12-byte header, then an 8-byte platform subheader
 * when the O bit (last bit of the header) is set.  The FT field says
 * whether an Ethernet frame (0) or a bare IP packet (2) follows. */
static int dec_erspan3(struct dec *d, const uint8_t *p, uint32_t len)
{
	if (len < 12)
		return fail(d, VG_DEC_TRUNCATED, p);
	uint32_t hl = 12 + ((p[11] & 1) ? 8 : 0);
	unsigned ft = (p[10] >> 2) & 0x1f;
	if (len < hl)
		return fail(d, VG_DEC_TRUNCATED, p + 12);
	d->pkt->encap |= VG_ENC_ERSPAN;
	if (ft == 0)
		return dec_ether(d, p + hl, len - hl);
	if (ft == 2)
		return dec_ip(d, p + hl, len - hl);
	return fail(d, VG_DEC_UNSUPPORTED, p + 10);
}

/* GRE, RFC 2784 with the RFC 2890 key and sequence options.  Version 1
 * (PPTP) and RFC 1701 source routing carry PPP or routing data we do not
 * decode: those return UNSUPPORTED with the carrier IP packet filled. */
static int dec_gre(struct dec *d, const uint8_t *p, uint32_t len)
{
	if (len < 4)
		return fail(d, VG_DEC_TRUNCATED, p);
	uint16_t flags = rd16(p), type = rd16(p + 2);
	if ((flags & 0x0007) != 0 || (flags & 0x4000))
		return fail(d, VG_DEC_UNSUPPORTED, p);
	uint32_t hl = 4 + ((flags & 0x8000) ? 4 : 0) +
		      ((flags & 0x2000) ? 4 : 0) + ((flags & 0x1000) ? 4 : 0);
	if (len < hl)
		return fail(d, VG_DEC_TRUNCATED, p + 4);
	const uint8_t *q = p + hl;
	uint32_t ql = len - hl;
	switch (type) {
	case ETH_IPV4:
		d->pkt->encap |= VG_ENC_GRE;
		return dec_ip4(d, q, ql);
	case ETH_IPV6:
		d->pkt->encap |= VG_ENC_GRE;
		return dec_ip6(d, q, ql);
	case ETH_TEB:
		d->pkt->encap |= VG_ENC_GRE;
		return dec_ether(d, q, ql);
	case ETH_ERSPAN2:
		d->pkt->encap |= VG_ENC_GRE | VG_ENC_ERSPAN;
		/* Type I has no sequence number and no ERSPAN header; type II
		 * always sets S and adds an 8-byte header. */
		if (!(flags & 0x1000))
			return dec_ether(d, q, ql);
		if (ql < 8)
			return fail(d, VG_DEC_TRUNCATED, q);
		return dec_ether(d, q + 8, ql - 8);
	case ETH_ERSPAN3:
		d->pkt->encap |= VG_ENC_GRE;
		return dec_erspan3(d, q, ql);
	default:
		return fail(d, VG_DEC_UNSUPPORTED, p + 2);
	}
}

/* Upper layer at p: `cap` bytes captured within the IP packet,
 * `declared` bytes per the IP header lengths.  `whole` is false for a
 * first fragment, whose tunnel payload cannot be complete. */
static int dec_l4(struct dec *d, unsigned proto, const uint8_t *p,
		  uint32_t cap, uint32_t declared, bool whole)
{
	struct vg_pkt *pkt = d->pkt;

	switch (proto) {
	case IPP_TCP: {
		if (cap < 20)
			return short_hdr(d, p, 0, 20, declared);
		pkt->sport = rd16(p);
		pkt->dport = rd16(p + 2);
		pkt->tcp_seq = rd32(p + 4);
		pkt->tcp_ack = rd32(p + 8);
		pkt->tcp_flags = p[13];
		pkt->tcp_win = rd16(p + 14);
		pkt->tcp_urp = rd16(p + 18);
		uint32_t thl = (uint32_t)(p[12] >> 4) * 4;
		pkt->tcp_hlen = (uint8_t)thl;
		if (thl < 20 || thl > declared)
			return fail(d, VG_DEC_MALFORMED, p + 12);
		pkt->l4 = p;
		pkt->l4_caplen = cap;
		/* Options cut by the snap length keep the header usable;
		 * the payload then starts (empty) at the end of capture. */
		uint32_t pc = thl <= cap ? thl : cap;
		pkt->payload = p + pc;
		pkt->payload_caplen = cap - pc;
		pkt->payload_len = declared - thl;
		return VG_DEC_OK;
	}
	case IPP_UDP:
		if (cap < 8)
			return short_hdr(d, p, 0, 8, declared);
		pkt->sport = rd16(p);
		pkt->dport = rd16(p + 2);
		pkt->l4 = p;
		pkt->l4_caplen = cap;
		pkt->payload = p + 8;
		pkt->payload_caplen = cap - 8;
		pkt->payload_len = declared - 8;
		return VG_DEC_OK;
	case IPP_ICMP:
	case IPP_ICMPV6:
		if (cap < 8)
			return short_hdr(d, p, 0, 8, declared);
		pkt->icmp_type = p[0];
		pkt->icmp_code = p[1];
		pkt->l4 = p;
		pkt->l4_caplen = cap;
		pkt->payload = p + 8;
		pkt->payload_caplen = cap - 8;
		pkt->payload_len = declared - 8;
		return VG_DEC_OK;
	default:
		break;
	}

	/* Any other protocol: no header we know, everything is payload.
	 * Tunnels keep this view of the carrier if the inner packet turns
	 * out to be undecodable before its IP header is reached. */
	pkt->l4 = p;
	pkt->l4_caplen = cap;
	pkt->payload = p;
	pkt->payload_caplen = cap;
	pkt->payload_len = declared;
	if (proto != IPP_GRE && proto != IPP_IPIP && proto != IPP_IPV6)
		return VG_DEC_OK;
	if (!whole)
		return VG_DEC_OK;
	if (d->depth >= MAX_TUNNEL_DEPTH)
		return fail(d, VG_DEC_UNSUPPORTED, p);
	d->depth++;
	if (proto == IPP_GRE)
		return dec_gre(d, p, cap);
	pkt->encap |= VG_ENC_IPIP;
	return proto == IPP_IPIP ? dec_ip4(d, p, cap) : dec_ip6(d, p, cap);
}

static int dec_ip4(struct dec *d, const uint8_t *p, uint32_t len)
{
	struct vg_pkt *pkt = d->pkt;

	if (len < 20)
		return fail(d, VG_DEC_TRUNCATED, p);
	if ((p[0] >> 4) != 4)
		return fail(d, VG_DEC_MALFORMED, p);
	uint32_t hl = (uint32_t)(p[0] & 0x0f) * 4;
	if (hl < 20)
		return fail(d, VG_DEC_MALFORMED, p);
	if (hl > len)
		return fail(d, VG_DEC_TRUNCATED, p + 20);
	uint32_t tot = rd16(p + 2), end;
	if (tot == 0) {
		/* Segmentation offload hands the capture a super-packet whose
		 * length field is left 0: trust the frame. */
		tot = wire_left(d, len);
		end = len;
	} else if (tot < hl) {
		return fail(d, VG_DEC_MALFORMED, p + 2);
	} else {
		end = tot < len ? tot : len;
	}

	if (d->depth)
		clear_l3(pkt);
	uint16_t frag = rd16(p + 6);
	pkt->ipver = 4;
	pkt->tos = p[1];
	pkt->ip_len = tot;
	pkt->ip_id = rd16(p + 4);
	pkt->df = (frag & 0x4000) != 0;
	pkt->mf = (frag & 0x2000) != 0;
	pkt->frag_off = (uint16_t)((frag & 0x1fff) << 3);
	pkt->ttl = p[8];
	pkt->proto = p[9];
	pkt->src.v = 4;
	memcpy(pkt->src.a, p + 12, 4);
	pkt->dst.v = 4;
	memcpy(pkt->dst.a, p + 16, 4);
	pkt->ip_hlen = (uint16_t)hl;
	pkt->ip_opt_len = (uint8_t)(hl - 20);
	pkt->l3 = p;
	pkt->l3_caplen = len;
	if (pkt->frag_off)
		return VG_DEC_OK;
	return dec_l4(d, p[9], p + hl, end - hl, tot - hl, !pkt->mf);
}

static int dec_ip6(struct dec *d, const uint8_t *p, uint32_t len)
{
	struct vg_pkt *pkt = d->pkt;

	if (len < 40)
		return fail(d, VG_DEC_TRUNCATED, p);
	uint32_t w0 = rd32(p);
	if ((w0 >> 28) != 6)
		return fail(d, VG_DEC_MALFORMED, p);
	uint32_t plen = rd16(p + 4), tot, end;
	if (plen == 0) {
		/* Jumbogram or offload: the length is not in this header. */
		tot = wire_left(d, len);
		end = len;
	} else {
		tot = 40 + plen;
		end = tot < len ? tot : len;
	}

	if (d->depth)
		clear_l3(pkt);
	pkt->ipver = 6;
	pkt->tos = (uint8_t)(w0 >> 20);
	pkt->flow_label = w0 & 0xfffff;
	pkt->ttl = p[7];
	pkt->ip_len = tot;
	pkt->src.v = 6;
	memcpy(pkt->src.a, p + 8, 16);
	pkt->dst.v = 6;
	memcpy(pkt->dst.a, p + 24, 16);
	pkt->l3 = p;
	pkt->l3_caplen = len;

	unsigned nh = p[6];
	uint32_t off = 40;
	bool fragmented = false;
	for (unsigned n = 0;; n++) {
		uint32_t el;
		if (nh != IPP_HOPOPT && nh != IPP_ROUTING && nh != IPP_FRAGMENT &&
		    nh != IPP_DSTOPTS && nh != IPP_AH)
			break;
		if (n >= MAX_IP6_EXT)
			return fail(d, VG_DEC_MALFORMED, p + off);
		if (off + 8 > end)
			return short_hdr(d, p, off, 8, tot);
		const uint8_t *e = p + off;
		if (nh == IPP_FRAGMENT) {
			uint16_t fo = rd16(e + 2);
			fragmented = true;
			pkt->frag_off = fo & 0xfff8;
			pkt->mf = (fo & 1) != 0;
			pkt->ip_id = rd16(e + 6);
			el = 8;
		} else if (nh == IPP_AH) {
			el = ((uint32_t)e[1] + 2) * 4;
		} else {
			el = ((uint32_t)e[1] + 1) * 8;
		}
		if (off + el > end)
			return short_hdr(d, p, off, el, tot);
		nh = e[0];
		off += el;
		if (pkt->frag_off) {
			pkt->proto = (uint8_t)nh;
			pkt->ip_hlen = (uint16_t)off;
			return VG_DEC_OK;
		}
	}
	pkt->proto = (uint8_t)nh;
	pkt->ip_hlen = (uint16_t)off;
	if (nh == IPP_NONXT)
		return VG_DEC_OK;
	return dec_l4(d, nh, p + off, end - off, tot - off,
		      !(fragmented && pkt->mf));
}

/* Everything that may sit between a link header and IP: VLAN tags
 * (802.1Q, 802.1ad and the pre-standard 0x9100/0x9200 QinQ), 802.2
 * LLC/SNAP, PPPoE sessions and MPLS label stacks.  `type` is the
 * EtherType found just before p. */
static int dec_ethertype(struct dec *d, uint16_t type, const uint8_t *p,
			 uint32_t len)
{
	struct vg_pkt *pkt = d->pkt;

	for (unsigned layers = 0;; layers++) {
		if (type == ETH_IPV4)
			return dec_ip4(d, p, len);
		if (type == ETH_IPV6)
			return dec_ip6(d, p, len);
		if (layers >= MAX_LINK_LAYERS)
			return fail(d, VG_DEC_MALFORMED, p);
		switch (type) {
		case ETH_VLAN:
		case ETH_QINQ:
		case ETH_QINQ_OLD:
		case ETH_QINQ_OLD2: {
			if (len < 4)
				return fail(d, VG_DEC_TRUNCATED, p);
			unsigned ntags = (pkt->encap & VG_ENC_QINQ) ? 2
					 : (pkt->encap & VG_ENC_VLAN) ? 1 : 0;
			if (ntags < 2)
				pkt->vlan[ntags] = rd16(p) & 0x0fff;
			pkt->encap |= ntags ? VG_ENC_VLAN | VG_ENC_QINQ : VG_ENC_VLAN;
			type = rd16(p + 2);
			p += 4;
			len -= 4;
			continue;
		}
		case ETH_PPPOE_S: {
			if (len < 8)
				return fail(d, VG_DEC_TRUNCATED, p);
			uint16_t ppp = rd16(p + 6);
			if (ppp == 0x0021)
				return dec_ip4(d, p + 8, len - 8);
			if (ppp == 0x0057)
				return dec_ip6(d, p + 8, len - 8);
			return VG_DEC_NOT_IP;
		}
		case ETH_MPLS:
		case ETH_MPLS_MC:
			if (len < 4)
				return fail(d, VG_DEC_TRUNCATED, p);
			/* A label stack has no type field: after the bottom
			 * label the version nibble tells IP from a pseudowire. */
			if (p[2] & 1) {
				if (len < 5)
					return fail(d, VG_DEC_TRUNCATED, p + 4);
				unsigned v = p[4] >> 4;
				if (v == 4 || v == 6)
					return dec_ip(d, p + 4, len - 4);
				return fail(d, VG_DEC_UNSUPPORTED, p + 4);
			}
			p += 4;
			len -= 4;
			continue;
		default:
			break;
		}
		/* 802.3 length field: an LLC header follows; only SNAP with
		 * a zero OUI carries an EtherType (RFC 1042). */
		if (type <= 1500 && len >= 8 && p[0] == 0xAA && p[1] == 0xAA &&
		    p[2] == 0x03 && p[3] == 0 && p[4] == 0 && p[5] == 0) {
			type = rd16(p + 6);
			p += 8;
			len -= 8;
			continue;
		}
		return VG_DEC_NOT_IP;
	}
}

static int dec_ether(struct dec *d, const uint8_t *p, uint32_t len)
{
	if (len < 14)
		return fail(d, VG_DEC_TRUNCATED, p);
	return dec_ethertype(d, rd16(p + 12), p + 14, len - 14);
}

static int dec_af(struct dec *d, uint32_t af, const uint8_t *p, uint32_t len)
{
	switch (af) {
	case AFN_INET:
		return dec_ip4(d, p, len);
	case AFN_INET6_BSD:
	case AFN_INET6_FREEBSD:
	case AFN_INET6_DARWIN:
		return dec_ip6(d, p, len);
	default:
		return VG_DEC_NOT_IP;
	}
}

/* OpenBSD pflog: the header's first byte is its own length without the
 * trailing pad; the IP packet starts at that length rounded up to 4
 * (BPF_WORDALIGN).  Layout, network byte order for the rule numbers:
 *   0 length, 1 af, 2 action, 3 reason, 4 ifname[16], 20 ruleset[16],
 *   36 rulenr, 40 subrulenr, 44 uid, 48 pid, 52 rule_uid, 56 rule_pid,
 *   60 dir.  Headers before OpenBSD 3.8 stop after subrulenr with dir
 *   at 44 (length 45), which is the smallest length accepted. */
static int dec_pflog(struct dec *d, const uint8_t *p, uint32_t len)
{
	struct vg_pkt *pkt = d->pkt;

	if (len < 1)
		return fail(d, VG_DEC_TRUNCATED, p);
	uint32_t reallen = p[0];
	if (reallen < 45)
		return fail(d, VG_DEC_MALFORMED, p);
	uint32_t hl = (reallen + 3) & ~3u;
	if (len < hl)
		return fail(d, VG_DEC_TRUNCATED, p);
	pkt->encap |= VG_ENC_PFLOG;
	pkt->pf_action = p[2];
	for (unsigned i = 0; i < sizeof pkt->pf_ifname - 1 && p[4 + i]; i++)
		pkt->pf_ifname[i] = (char)p[4 + i];
	pkt->pf_rulenr = rd32(p + 36);
	unsigned dir = reallen >= 61 ? p[60] : p[44];
	pkt->pf_dir = (dir == VG_PF_DIR_IN || dir == VG_PF_DIR_OUT)
		      ? (uint8_t)dir : VG_PF_DIR_UNKNOWN;
	return dec_af(d, p[1], p + hl, len - hl);
}

int vg_decode(int linktype, const uint8_t *frame, uint32_t caplen,
	      uint32_t wirelen, struct vg_pkt *pkt)
{
	reset_pkt(pkt, caplen, wirelen);
	struct dec d = { .base = frame, .pkt = pkt, .depth = 0 };
	const uint8_t *p = frame;
	uint32_t len = caplen;

	switch (linktype) {
	case VG_LINK_ETHERNET:
		return dec_ether(&d, p, len);
	case VG_LINK_RAW:
	case 12:
	case 14:
		return dec_ip(&d, p, len);
	case VG_LINK_IPV4:
		return dec_ip4(&d, p, len);
	case VG_LINK_IPV6:
		return dec_ip6(&d, p, len);
	case VG_LINK_LINUX_SLL:
		/* type(2) arphrd(2) addrlen(2) addr(8) protocol(2) */
		if (len < 16)
			return fail(&d, VG_DEC_TRUNCATED, p);
		if (rd16(p + 2) == 824) /* ARPHRD_NETLINK: protocol is not an EtherType */
			return VG_DEC_NOT_IP;
		return dec_ethertype(&d, rd16(p + 14), p + 16, len - 16);
	case VG_LINK_LINUX_SLL2:
		/* protocol(2) reserved(2) ifindex(4) arphrd(2) type(1) addrlen(1) addr(8) */
		if (len < 20)
			return fail(&d, VG_DEC_TRUNCATED, p);
		if (rd16(p + 8) == 824)
			return VG_DEC_NOT_IP;
		return dec_ethertype(&d, rd16(p), p + 20, len - 20);
	case VG_LINK_NULL: {
		if (len < 4)
			return fail(&d, VG_DEC_TRUNCATED, p);
		/* Written in the capturing host's byte order: AF values are
		 * small, so nonzero upper bytes mean the other order. */
		uint32_t af = rd32le(p);
		if (af & 0xffff0000u)
			af = rd32(p);
		return dec_af(&d, af, p + 4, len - 4);
	}
	case VG_LINK_LOOP:
		if (len < 4)
			return fail(&d, VG_DEC_TRUNCATED, p);
		return dec_af(&d, rd32(p), p + 4, len - 4);
	case VG_LINK_PFLOG:
		return dec_pflog(&d, p, len);
	default:
		return VG_DEC_UNSUPPORTED;
	}
}

int vg_decode_ip(const uint8_t *ip, uint32_t caplen, struct vg_pkt *pkt)
{
	reset_pkt(pkt, caplen, caplen);
	struct dec d = { .base = ip, .pkt = pkt, .depth = 0 };
	return dec_ip(&d, ip, caplen);
}

const char *vg_dec_strerror(int status)
{
	switch (status) {
	case VG_DEC_OK:
		return "decoded";
	case VG_DEC_NOT_IP:
		return "not an IP packet";
	case VG_DEC_UNSUPPORTED:
		return "unsupported link type or encapsulation";
	case VG_DEC_TRUNCATED:
		return "header truncated by the capture length";
	case VG_DEC_MALFORMED:
		return "malformed header field";
	default:
		return "unknown decode status";
	}
}

const char *vg_ip_str(const struct vg_ip *ip, char *buf, unsigned len)
{
	if (!buf || len == 0)
		return "";
	buf[0] = '\0';
	if (!ip || (ip->v != 4 && ip->v != 6)) {
		if (len >= 2)
			memcpy(buf, "-", 2);
		return buf;
	}
	if (!inet_ntop(ip->v == 4 ? AF_INET : AF_INET6, ip->a, buf, len))
		buf[0] = '\0';
	return buf;
}
