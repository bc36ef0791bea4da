/* test-proto-decode.c: the packet decoder on hand-built frames for every
 * link type and tunnel, on every truncation of them, and on the real
 * captures in tests/data/pcaps (read with libpcap directly). */
#include "check.h"
#include "proto-decode.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <pcap/pcap.h>
#include <stdbool.h>

/* ---- frame builder --------------------------------------------------- */

struct fb {
	uint8_t b[4096];
	uint32_t n;
};

static void put(struct fb *f, const void *p, uint32_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void put8(struct fb *f, unsigned v) { f->b[f->n++] = (uint8_t)v; }

static void put16(struct fb *f, unsigned v)
{
	put8(f, (v >> 8) & 0xff);
	put8(f, v & 0xff);
}

static void put32(struct fb *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static void putz(struct fb *f, uint32_t n)
{
	memset(f->b + f->n, 0, n);
	f->n += n;
}

static void set16(struct fb *f, uint32_t at, unsigned v)
{
	f->b[at] = (uint8_t)(v >> 8);
	f->b[at + 1] = (uint8_t)v;
}

static void eth(struct fb *f, unsigned type)
{
	static const uint8_t macs[12] = { 0x02, 0, 0, 0, 0, 0x01,
					  0x02, 0, 0, 0, 0, 0x02 };
	put(f, macs, 12);
	put16(f, type);
}

static void vlan(struct fb *f, unsigned tci, unsigned type)
{
	put16(f, tci);
	put16(f, type);
}

/* IPv4 header with `optlen` bytes of NOP options; total length is set
 * by ip4_done once the packet is complete. */
static uint32_t ip4(struct fb *f, unsigned proto, const char *src,
		    const char *dst, unsigned optlen)
{
	uint32_t at = f->n;
	uint8_t a[4];
	put8(f, 0x40 | (5 + optlen / 4));
	put8(f, 0x10);          /* TOS */
	put16(f, 0);            /* total length, later */
	put16(f, 0x1234);       /* ID */
	put16(f, 0x4000);       /* DF */
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	inet_pton(AF_INET, src, a);
	put(f, a, 4);
	inet_pton(AF_INET, dst, a);
	put(f, a, 4);
	for (unsigned i = 0; i < optlen; i++)
		put8(f, 1);
	return at;
}

static void ip4_done(struct fb *f, uint32_t at) { set16(f, at + 2, f->n - at); }

static uint32_t ip6(struct fb *f, unsigned nh, const char *src, const char *dst)
{
	uint32_t at = f->n;
	uint8_t a[16];
	put32(f, 0x60000000u | (0x2eu << 20) | 0xabcde); /* tclass 0x2e, flow */
	put16(f, 0);            /* payload length, later */
	put8(f, nh);
	put8(f, 55);            /* hop limit */
	inet_pton(AF_INET6, src, a);
	put(f, a, 16);
	inet_pton(AF_INET6, dst, a);
	put(f, a, 16);
	return at;
}

static void ip6_done(struct fb *f, uint32_t at) { set16(f, at + 4, f->n - at - 40); }

/* TCP header with `optlen` option bytes (MSS first when room) and payload. */
static uint32_t tcp(struct fb *f, unsigned sport, unsigned dport, unsigned flags,
		    unsigned optlen, const char *payload)
{
	uint32_t at = f->n;
	put16(f, sport);
	put16(f, dport);
	put32(f, 0x11223344);
	put32(f, flags & 0x10 ? 0x55667788 : 0);
	put8(f, ((20 + optlen) / 4) << 4);
	put8(f, flags);
	put16(f, 29200);
	put16(f, 0);
	put16(f, flags & 0x20 ? 7 : 0);
	for (unsigned i = 0; i < optlen; i++) {
		static const uint8_t mss[4] = { 2, 4, 0x05, 0xb4 };
		put8(f, i < 4 ? mss[i] : 1);
	}
	if (payload)
		put(f, payload, (uint32_t)strlen(payload));
	return at;
}

static uint32_t udp(struct fb *f, unsigned sport, unsigned dport, const char *payload)
{
	uint32_t at = f->n, pl = (uint32_t)strlen(payload);
	put16(f, sport);
	put16(f, dport);
	put16(f, 8 + pl);
	put16(f, 0);
	put(f, payload, pl);
	return at;
}

static uint32_t icmp(struct fb *f, unsigned type, unsigned code, const char *payload)
{
	uint32_t at = f->n;
	put8(f, type);
	put8(f, code);
	put16(f, 0);
	put32(f, 0x00010002);   /* id, seq */
	put(f, payload, (uint32_t)strlen(payload));
	return at;
}

/* pflog header whose length byte is `reallen` (padded to 4 on the wire). */
static void pflog(struct fb *f, unsigned af, unsigned action, const char *ifname,
		  uint32_t rulenr, unsigned dir, unsigned reallen)
{
	uint32_t at = f->n, hl = (reallen + 3) & ~3u;
	putz(f, hl);
	f->b[at] = (uint8_t)reallen;
	f->b[at + 1] = (uint8_t)af;
	f->b[at + 2] = (uint8_t)action;
	f->b[at + 3] = 1;       /* reason: match */
	memcpy(f->b + at + 4, ifname, strlen(ifname));
	memcpy(f->b + at + 20, "vigia", 5);
	f->b[at + 36] = (uint8_t)(rulenr >> 24);
	f->b[at + 37] = (uint8_t)(rulenr >> 16);
	f->b[at + 38] = (uint8_t)(rulenr >> 8);
	f->b[at + 39] = (uint8_t)rulenr;
	memset(f->b + at + 40, 0xff, 4);  /* subrulenr: none */
	if (reallen >= 61)
		f->b[at + 60] = (uint8_t)dir;
	else
		f->b[at + 44] = (uint8_t)dir;
}

/* ---- decoding with exact-size buffers --------------------------------- */

/* Result of one decode; pointers are turned into offsets in the frame
 * because the frame copy is freed (it is heap-allocated at its exact
 * size so that ASan catches any read past caplen). */
struct res {
	int rc;
	struct vg_pkt p;
	long l3, l4, pl;        /* offsets into the frame, -1 when NULL */
};

static long range_off(const uint8_t *base, uint32_t n, const uint8_t *ptr,
		      uint32_t len, unsigned *sum)
{
	if (!ptr)
		return -1;
	CHECK(ptr >= base && ptr <= base + n);
	CHECK((uint64_t)(ptr - base) + len <= n);
	for (uint32_t i = 0; i < len; i++)
		*sum += ptr[i];
	return (long)(ptr - base);
}

static struct res run_wire(int lt, const uint8_t *frame, uint32_t n, uint32_t wire)
{
	struct res r;
	uint8_t *b = malloc(n ? n : 1);
	unsigned sum = 0;
	memcpy(b, frame, n);
	memset(&r, 0xa5, sizeof r);   /* the decoder must reset every field */
	r.p.ts_ns = 42;
	r.rc = vg_decode(lt, b, n, wire, &r.p);
	CHECK_EQ_U(r.p.ts_ns, 42);
	CHECK_EQ_U(r.p.caplen, n);
	r.l3 = range_off(b, n, r.p.l3, r.p.l3_caplen, &sum);
	r.l4 = range_off(b, n, r.p.l4, r.p.l4_caplen, &sum);
	r.pl = range_off(b, n, r.p.payload, r.p.payload_caplen, &sum);
	if (r.rc == VG_DEC_TRUNCATED || r.rc == VG_DEC_MALFORMED)
		CHECK(r.p.err_off <= n);
	free(b);
	return r;
}

static struct res run(int lt, const struct fb *f)
{
	return run_wire(lt, f->b, f->n, f->n);
}

static bool pl_is(const struct fb *f, const struct res *r, const char *s)
{
	size_t n = strlen(s);
	return r->pl >= 0 && r->p.payload_caplen == n && !memcmp(f->b + r->pl, s, n);
}

static const char *ip_s(const struct vg_ip *ip)
{
	static char buf[4][46];
	static int i;
	char *b = buf[i++ % 4];
	return vg_ip_str(ip, b, sizeof buf[0]);
}

/* Ethernet / IPv4 / TCP SYN with MSS, the frame most traffic looks like. */
static uint32_t frame_syn(struct fb *f)
{
	f->n = 0;
	eth(f, 0x0800);
	uint32_t ip = ip4(f, 6, "198.51.100.7", "192.0.2.10", 0);
	tcp(f, 40000, 23, VG_TH_SYN, 4, NULL);
	ip4_done(f, ip);
	return ip;
}

/* ---- tests ----------------------------------------------------------- */

TEST(ethernet_ipv4_tcp_syn_all_fields)
{
	struct fb f;
	frame_syn(&f);
	struct res r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.ipver, 4);
	CHECK_EQ_U(r.p.proto, 6);
	CHECK_EQ_U(r.p.ttl, 64);
	CHECK_EQ_U(r.p.tos, 0x10);
	CHECK_EQ_U(r.p.ip_len, 44);
	CHECK_EQ_U(r.p.ip_id, 0x1234);
	CHECK_EQ_U(r.p.ip_hlen, 20);
	CHECK_EQ_U(r.p.ip_opt_len, 0);
	CHECK(r.p.df);
	CHECK(!r.p.mf);
	CHECK_EQ_U(r.p.frag_off, 0);
	CHECK_STREQ(ip_s(&r.p.src), "198.51.100.7");
	CHECK_STREQ(ip_s(&r.p.dst), "192.0.2.10");
	CHECK_EQ_U(vg_ip4(&r.p.dst), 0xC000020Au);
	CHECK_EQ_U(r.p.sport, 40000);
	CHECK_EQ_U(r.p.dport, 23);
	CHECK_EQ_U(r.p.tcp_flags, VG_TH_SYN);
	CHECK_EQ_U(r.p.tcp_hlen, 24);
	CHECK_EQ_U(r.p.tcp_seq, 0x11223344);
	CHECK_EQ_U(r.p.tcp_ack, 0);
	CHECK_EQ_U(r.p.tcp_win, 29200);
	CHECK_EQ_I(r.l3, 14);
	CHECK_EQ_U(r.p.l3_caplen, f.n - 14);
	CHECK_EQ_I(r.l4, 34);
	CHECK_EQ_U(r.p.l4_caplen, 24);
	CHECK_EQ_I(r.pl, 58);
	CHECK_EQ_U(r.p.payload_caplen, 0);
	CHECK_EQ_U(r.p.payload_len, 0);
	CHECK_EQ_U(r.p.encap, 0);
	CHECK_EQ_U(r.p.pf_dir, VG_PF_DIR_UNKNOWN);
}

TEST(tcp_options_and_payload_with_ack_psh_urg)
{
	struct fb f = { .n = 0 };
	eth(&f, 0x0800);
	uint32_t ip = ip4(&f, 6, "10.0.0.1", "10.0.0.2", 0);
	tcp(&f, 1234, 80, VG_TH_ACK | VG_TH_PSH | VG_TH_URG, 12, "GET / HTTP/1.0\r\n");
	ip4_done(&f, ip);
	struct res r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.tcp_hlen, 32);
	CHECK_EQ_U(r.p.tcp_flags, VG_TH_ACK | VG_TH_PSH | VG_TH_URG);
	CHECK_EQ_U(r.p.tcp_ack, 0x55667788);
	CHECK_EQ_U(r.p.tcp_urp, 7);
	CHECK_EQ_I(r.pl, 14 + 20 + 32);
	CHECK(pl_is(&f, &r, "GET / HTTP/1.0\r\n"));
	CHECK_EQ_U(r.p.payload_len, 16);
}

TEST(udp_ports_and_payload)
{
	struct fb f = { .n = 0 };
	eth(&f, 0x0800);
	uint32_t ip = ip4(&f, 17, "10.0.0.1", "10.0.0.2", 0);
	udp(&f, 5353, 1434, "\x04slammer");
	ip4_done(&f, ip);
	struct res r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.proto, 17);
	CHECK_EQ_U(r.p.sport, 5353);
	CHECK_EQ_U(r.p.dport, 1434);
	CHECK(pl_is(&f, &r, "\x04slammer"));
	CHECK_EQ_U(r.p.payload_len, 8);
	CHECK_EQ_U(r.p.l4_caplen, 16);
}

TEST(icmp_echo_type_code_and_payload)
{
	struct fb f = { .n = 0 };
	eth(&f, 0x0800);
	uint32_t ip = ip4(&f, 1, "10.0.0.1", "10.0.0.2", 0);
	icmp(&f, 8, 0, "abcdefgh");
	ip4_done(&f, ip);
	struct res r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.proto, 1);
	CHECK_EQ_U(r.p.icmp_type, 8);
	CHECK_EQ_U(r.p.icmp_code, 0);
	CHECK_EQ_U(r.p.sport, 0);
	CHECK_EQ_U(r.p.dport, 0);
	CHECK(pl_is(&f, &r, "abcdefgh"));
	CHECK_EQ_I(r.l4, 34);
}

TEST(ipv4_options_shift_the_upper_layer)
{
	struct fb f = { .n = 0 };
	eth(&f, 0x0800);
	uint32_t ip = ip4(&f, 17, "10.0.0.1", "10.0.0.2", 8);
	udp(&f, 1, 2, "x");
	ip4_done(&f, ip);
	struct res r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.ip_hlen, 28);
	CHECK_EQ_U(r.p.ip_opt_len, 8);
	CHECK_EQ_I(r.l4, 14 + 28);
	CHECK_EQ_U(r.p.sport, 1);
	CHECK(pl_is(&f, &r, "x"));
}

TEST(ipv4_first_fragment_has_l4_later_ones_do_not)
{
	struct fb f = { .n = 0 };
	eth(&f, 0x0800);
	uint32_t ip = ip4(&f, 17, "10.0.0.1", "10.0.0.2", 0);
	set16(&f, ip + 6, 0x2000);   /* MF, offset 0 */
	udp(&f, 53, 53, "first-part");
	ip4_done(&f, ip);
	struct res r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK(r.p.mf);
	CHECK(!r.p.df);
	CHECK_EQ_U(r.p.frag_off, 0);
	CHECK_EQ_I(r.l4, 34);
	CHECK_EQ_U(r.p.dport, 53);

	set16(&f, ip + 6, 185);      /* offset 185*8, last fragment */
	r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK(!r.p.mf);
	CHECK_EQ_U(r.p.frag_off, 1480);
	CHECK_EQ_U(r.p.proto, 17);
	CHECK_EQ_I(r.l4, -1);
	CHECK_EQ_I(r.pl, -1);
	CHECK_EQ_U(r.p.dport, 0);
	CHECK_EQ_U(r.p.ip_len, f.n - 14);
}

TEST(ipv6_hop_by_hop_and_fragment_then_tcp)
{
	struct fb f = { .n = 0 };
	eth(&f, 0x86DD);
	uint32_t ip = ip6(&f, 0, "2001:db8::1", "2001:db8::2");
	put8(&f, 44); put8(&f, 0); putz(&f, 6);           /* hop-by-hop, 8 bytes */
	put8(&f, 6); put8(&f, 0); put16(&f, 0x0001);       /* fragment: off 0, M */
	put32(&f, 0xdeadbeef);
	tcp(&f, 2222, 22, VG_TH_SYN, 0, NULL);
	ip6_done(&f, ip);
	struct res r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.ipver, 6);
	CHECK_EQ_U(r.p.proto, 6);
	CHECK_EQ_U(r.p.ttl, 55);
	CHECK_EQ_U(r.p.tos, 0x2e);
	CHECK_EQ_U(r.p.flow_label, 0xabcde);
	CHECK_EQ_U(r.p.ip_len, 40 + 16 + 20);
	CHECK_EQ_U(r.p.ip_hlen, 56);
	CHECK(r.p.mf);
	CHECK_EQ_U(r.p.frag_off, 0);
	CHECK_EQ_U(r.p.ip_id, 0xbeef);
	CHECK_EQ_I(r.l4, 14 + 56);
	CHECK_EQ_U(r.p.dport, 22);
	CHECK_STREQ(ip_s(&r.p.src), "2001:db8::1");
	CHECK_STREQ(ip_s(&r.p.dst), "2001:db8::2");

	set16(&f, 14 + 48 + 2, (100 << 3));  /* non-first fragment */
	r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.frag_off, 800);
	CHECK(!r.p.mf);
	CHECK_EQ_U(r.p.proto, 6);
	CHECK_EQ_I(r.l4, -1);
}

TEST(icmpv6_echo_request)
{
	struct fb f = { .n = 0 };
	eth(&f, 0x86DD);
	uint32_t ip = ip6(&f, 58, "fe80::1", "ff02::1");
	icmp(&f, 128, 0, "ping");
	ip6_done(&f, ip);
	struct res r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.proto, 58);
	CHECK_EQ_U(r.p.icmp_type, 128);
	CHECK_EQ_U(r.p.ip_hlen, 40);
	CHECK(pl_is(&f, &r, "ping"));
}

TEST(vlan_qinq_and_9100_tags_record_ids)
{
	static const unsigned outer[] = { 0x8100, 0x88A8, 0x9100 };
	for (unsigned i = 0; i < 3; i++) {
		struct fb f = { .n = 0 };
		eth(&f, outer[i]);
		vlan(&f, 0x2000 | 100, 0x8100);   /* PCP 1, VID 100 */
		vlan(&f, 200, 0x0800);
		uint32_t ip = ip4(&f, 6, "10.0.0.1", "10.0.0.2", 0);
		tcp(&f, 1, 445, VG_TH_SYN, 0, NULL);
		ip4_done(&f, ip);
		struct res r = run(VG_LINK_ETHERNET, &f);
		CHECK_EQ_I(r.rc, VG_DEC_OK);
		CHECK_EQ_U(r.p.encap, VG_ENC_VLAN | VG_ENC_QINQ);
		CHECK_EQ_U(r.p.vlan[0], 100);
		CHECK_EQ_U(r.p.vlan[1], 200);
		CHECK_EQ_I(r.l3, 22);
		CHECK_EQ_U(r.p.dport, 445);
	}
	struct fb f = { .n = 0 };
	eth(&f, 0x8100);
	vlan(&f, 943, 0x0800);
	uint32_t ip = ip4(&f, 6, "10.0.0.1", "10.0.0.2", 0);
	tcp(&f, 1, 697, VG_TH_SYN, 0, NULL);
	ip4_done(&f, ip);
	struct res r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.encap, VG_ENC_VLAN);
	CHECK_EQ_U(r.p.vlan[0], 943);
	CHECK_EQ_U(r.p.vlan[1], 0);
}

TEST(linux_sll_and_sll2)
{
	struct fb f = { .n = 0 };
	put16(&f, 0);           /* to us */
	put16(&f, 1);           /* ARPHRD_ETHER */
	put16(&f, 6);
	put(&f, "\x02\0\0\0\0\x01\0\0", 8);
	put16(&f, 0x0800);
	uint32_t ip = ip4(&f, 17, "10.1.1.1", "10.2.2.2", 0);
	udp(&f, 1000, 161, "public");
	ip4_done(&f, ip);
	struct res r = run(VG_LINK_LINUX_SLL, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_I(r.l3, 16);
	CHECK_EQ_U(r.p.dport, 161);

	f.n = 0;
	put16(&f, 0x86DD);
	put16(&f, 0);
	put32(&f, 3);           /* ifindex */
	put16(&f, 1);
	put8(&f, 4);            /* outgoing */
	put8(&f, 6);
	put(&f, "\x02\0\0\0\0\x01\0\0", 8);
	ip = ip6(&f, 17, "2001:db8::5", "2001:db8::6");
	udp(&f, 1000, 53, "q");
	ip6_done(&f, ip);
	r = run(VG_LINK_LINUX_SLL2, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_I(r.l3, 20);
	CHECK_EQ_U(r.p.ipver, 6);
	CHECK_EQ_U(r.p.dport, 53);

	f.n = 0;
	put16(&f, 0x0806);      /* ARP over SLL2 */
	putz(&f, 18 + 28);
	r = run(VG_LINK_LINUX_SLL2, &f);
	CHECK_EQ_I(r.rc, VG_DEC_NOT_IP);
}

TEST(raw_ipv4_ipv6_link_types)
{
	struct fb f4 = { .n = 0 }, f6 = { .n = 0 };
	uint32_t ip = ip4(&f4, 6, "10.0.0.1", "10.0.0.2", 0);
	tcp(&f4, 1, 80, VG_TH_SYN, 0, NULL);
	ip4_done(&f4, ip);
	ip = ip6(&f6, 6, "::1", "::2");
	tcp(&f6, 1, 80, VG_TH_SYN, 0, NULL);
	ip6_done(&f6, ip);
	static const int raw[] = { VG_LINK_RAW, 12, 14 };
	for (unsigned i = 0; i < 3; i++) {
		struct res r = run(raw[i], &f4);
		CHECK_EQ_I(r.rc, VG_DEC_OK);
		CHECK_EQ_U(r.p.ipver, 4);
		CHECK_EQ_I(r.l3, 0);
		r = run(raw[i], &f6);
		CHECK_EQ_I(r.rc, VG_DEC_OK);
		CHECK_EQ_U(r.p.ipver, 6);
		CHECK_EQ_U(r.p.dport, 80);
	}
	CHECK_EQ_I(run(VG_LINK_IPV4, &f4).rc, VG_DEC_OK);
	CHECK_EQ_I(run(VG_LINK_IPV6, &f6).rc, VG_DEC_OK);
	struct res r = run(VG_LINK_IPV4, &f6);  /* link type says v4, header v6 */
	CHECK_EQ_I(r.rc, VG_DEC_MALFORMED);
	CHECK_EQ_U(r.p.err_off, 0);
	CHECK_EQ_I(run(VG_LINK_IPV6, &f4).rc, VG_DEC_MALFORMED);

	struct vg_pkt p;
	CHECK_EQ_I(vg_decode_ip(f6.b, f6.n, &p), VG_DEC_OK);
	CHECK_EQ_U(p.ipver, 6);
	CHECK_EQ_U(p.dport, 80);
}

TEST(bsd_null_either_byte_order_and_loop)
{
	static const uint32_t afs[] = { 2, 24, 28, 30 };
	for (unsigned i = 0; i < 4; i++) {
		bool v6 = afs[i] != 2;
		for (int be = 0; be < 2; be++) {
			struct fb f = { .n = 0 };
			uint8_t h[4] = { 0 };
			h[be ? 3 : 0] = (uint8_t)afs[i];
			put(&f, h, 4);
			uint32_t ip = v6 ? ip6(&f, 6, "::1", "::1")
					 : ip4(&f, 6, "127.0.0.1", "127.0.0.1", 0);
			tcp(&f, 52522, 80, VG_TH_SYN, 0, NULL);
			if (v6)
				ip6_done(&f, ip);
			else
				ip4_done(&f, ip);
			struct res r = run(VG_LINK_NULL, &f);
			CHECK_EQ_I(r.rc, VG_DEC_OK);
			CHECK_EQ_U(r.p.ipver, v6 ? 6 : 4);
			CHECK_EQ_I(r.l3, 4);
			CHECK_EQ_U(r.p.dport, 80);
			/* LOOP is always network order */
			r = run(VG_LINK_LOOP, &f);
			CHECK_EQ_I(r.rc, be ? VG_DEC_OK : VG_DEC_NOT_IP);
		}
	}
	struct fb f = { .n = 0 };
	put32(&f, 0x07000000);      /* AF 7 little-endian: not IP */
	putz(&f, 40);
	CHECK_EQ_I(run(VG_LINK_NULL, &f).rc, VG_DEC_NOT_IP);
}

TEST(pflog_in_and_out_fill_pf_fields)
{
	struct fb f = { .n = 0 };
	pflog(&f, 2, 1, "em0", 42, 1, 61);
	uint32_t ip = ip4(&f, 6, "203.0.113.9", "192.0.2.1", 0);
	tcp(&f, 50000, 3389, VG_TH_SYN, 0, NULL);
	ip4_done(&f, ip);
	struct res r = run(VG_LINK_PFLOG, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.encap, VG_ENC_PFLOG);
	CHECK_EQ_U(r.p.pf_dir, VG_PF_DIR_IN);
	CHECK_EQ_U(r.p.pf_action, 1);
	CHECK_EQ_U(r.p.pf_rulenr, 42);
	CHECK_STREQ(r.p.pf_ifname, "em0");
	CHECK_EQ_I(r.l3, 64);
	CHECK_EQ_U(r.p.dport, 3389);

	f.n = 0;
	pflog(&f, 24, 0, "vio0.longername", 0x01020304, 2, 61);
	ip = ip6(&f, 17, "2001:db8::9", "2001:db8::1");
	udp(&f, 5000, 5060, "OPTIONS");
	ip6_done(&f, ip);
	r = run(VG_LINK_PFLOG, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.pf_dir, VG_PF_DIR_OUT);
	CHECK_EQ_U(r.p.pf_action, 0);
	CHECK_EQ_U(r.p.pf_rulenr, 0x01020304);
	CHECK_STREQ(r.p.pf_ifname, "vio0.longername");
	CHECK_EQ_U(r.p.ipver, 6);
	CHECK_EQ_U(r.p.dport, 5060);

	/* The header's own length decides where IP starts: a longer
	 * (newer OpenBSD / FreeBSD) header, and the pre-3.8 short one. */
	static const unsigned lens[] = { 100, 69, 45 };
	static const long starts[] = { 100, 72, 48 };
	for (unsigned i = 0; i < 3; i++) {
		f.n = 0;
		pflog(&f, 2, 1, "pflog-test", 7, 2, lens[i]);
		ip = ip4(&f, 17, "10.0.0.1", "10.0.0.2", 0);
		udp(&f, 1, 2, "z");
		ip4_done(&f, ip);
		r = run(VG_LINK_PFLOG, &f);
		CHECK_EQ_I(r.rc, VG_DEC_OK);
		CHECK_EQ_I(r.l3, starts[i]);
		CHECK_EQ_U(r.p.pf_dir, VG_PF_DIR_OUT);
		CHECK_EQ_U(r.p.pf_rulenr, 7);
	}

	f.n = 0;
	pflog(&f, 2, 1, "em0", 1, 1, 61);
	f.b[0] = 20;                /* shorter than any pflog header */
	putz(&f, 40);
	r = run(VG_LINK_PFLOG, &f);
	CHECK_EQ_I(r.rc, VG_DEC_MALFORMED);
	CHECK_EQ_U(r.p.err_off, 0);
}

/* Outer Ethernet/IPv4/GRE with the given flags and protocol. */
static uint32_t gre_outer(struct fb *f, unsigned flags, unsigned proto)
{
	f->n = 0;
	eth(f, 0x0800);
	uint32_t ip = ip4(f, 47, "192.0.2.100", "192.0.2.200", 0);
	put16(f, flags);
	put16(f, proto);
	if (flags & 0x8000)
		put32(f, 0xcccc0000);   /* checksum + reserved */
	if (flags & 0x2000)
		put32(f, 0x0000abcd);   /* key */
	if (flags & 0x1000)
		put32(f, 77);           /* sequence */
	return ip;
}

TEST(gre_ipv4_with_key_seq_and_checksum)
{
	static const unsigned flagsets[] = { 0, 0x2000, 0x3000, 0xB000 };
	for (unsigned i = 0; i < 4; i++) {
		struct fb f;
		uint32_t outer = gre_outer(&f, flagsets[i], 0x0800);
		uint32_t inner_at = f.n;
		uint32_t ip = ip4(&f, 6, "100.64.0.1", "100.64.0.2", 0);
		tcp(&f, 4444, 8080, VG_TH_SYN, 0, NULL);
		ip4_done(&f, ip);
		ip4_done(&f, outer);
		struct res r = run(VG_LINK_ETHERNET, &f);
		CHECK_EQ_I(r.rc, VG_DEC_OK);
		CHECK_EQ_U(r.p.encap, VG_ENC_GRE);
		CHECK_EQ_I(r.l3, (long)inner_at);
		CHECK_STREQ(ip_s(&r.p.src), "100.64.0.1");
		CHECK_EQ_U(r.p.proto, 6);
		CHECK_EQ_U(r.p.dport, 8080);
		CHECK_EQ_U(r.p.ip_len, 40);
	}
}

TEST(gre_ipv6_and_transparent_ethernet)
{
	struct fb f;
	uint32_t outer = gre_outer(&f, 0x2000, 0x86DD);
	uint32_t ip = ip6(&f, 17, "2001:db8::a", "2001:db8::b");
	udp(&f, 1, 123, "ntp");
	ip6_done(&f, ip);
	ip4_done(&f, outer);
	struct res r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.ipver, 6);
	CHECK_EQ_U(r.p.df, false);   /* outer IPv4 fields do not leak inward */
	CHECK_EQ_U(r.p.ip_id, 0);
	CHECK_EQ_U(r.p.dport, 123);

	outer = gre_outer(&f, 0, 0x6558);
	eth(&f, 0x0800);
	ip = ip4(&f, 17, "10.9.9.9", "10.8.8.8", 0);
	udp(&f, 1, 69, "tftp");
	ip4_done(&f, ip);
	ip4_done(&f, outer);
	r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.encap, VG_ENC_GRE);
	CHECK_STREQ(ip_s(&r.p.dst), "10.8.8.8");
	CHECK_EQ_U(r.p.dport, 69);

	/* A GRE payload we do not decode: carrier packet kept, UNSUPPORTED. */
	outer = gre_outer(&f, 0, 0x880B);
	putz(&f, 12);
	ip4_done(&f, outer);
	r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_UNSUPPORTED);
	CHECK_EQ_U(r.p.ipver, 4);
	CHECK_EQ_U(r.p.proto, 47);
	CHECK_STREQ(ip_s(&r.p.dst), "192.0.2.200");
	CHECK_EQ_U(r.p.encap, 0);
}

TEST(erspan_type_1_2_and_3)
{
	/* type II: GRE S bit, 8-byte ERSPAN header, Ethernet */
	struct fb f;
	uint32_t outer = gre_outer(&f, 0x1000, 0x88BE);
	put32(&f, 0x10010005);  /* ver 1, vlan 1, session 5 */
	put32(&f, 0x00000012);
	uint32_t inner_eth = f.n;
	eth(&f, 0x0800);
	uint32_t ip = ip4(&f, 6, "41.108.52.138", "40.110.35.23", 0);
	tcp(&f, 34048, 80, VG_TH_PSH | VG_TH_ACK, 0, "GET /shell?cd+/tmp");
	ip4_done(&f, ip);
	ip4_done(&f, outer);
	struct res r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.encap, VG_ENC_GRE | VG_ENC_ERSPAN);
	CHECK_EQ_I(r.l3, (long)inner_eth + 14);
	CHECK_EQ_U(r.p.dport, 80);
	CHECK(pl_is(&f, &r, "GET /shell?cd+/tmp"));

	/* type I: no sequence, no ERSPAN header */
	outer = gre_outer(&f, 0, 0x88BE);
	inner_eth = f.n;
	eth(&f, 0x0800);
	ip = ip4(&f, 17, "10.0.0.1", "10.0.0.2", 0);
	udp(&f, 7, 7, "echo");
	ip4_done(&f, ip);
	ip4_done(&f, outer);
	r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_I(r.l3, (long)inner_eth + 14);
	CHECK_EQ_U(r.p.encap, VG_ENC_GRE | VG_ENC_ERSPAN);

	/* type III without and with the optional 8-byte subheader */
	for (int o = 0; o < 2; o++) {
		outer = gre_outer(&f, 0x1000, 0x22EB);
		put32(&f, 0x20640007);          /* ver 2, vlan 100, session 7 */
		put32(&f, 0x01020304);          /* timestamp */
		put16(&f, 0);                   /* SGT */
		put16(&f, o ? 0x0001 : 0);      /* P=0 FT=0 HW=0 D=0 Gra=0 O */
		if (o)
			put(&f, "\x05\x06\x07\x08\x09\x0a\x0b\x0c", 8);
		inner_eth = f.n;
		eth(&f, 0x8100);
		vlan(&f, 100, 0x86DD);
		ip = ip6(&f, 6, "2001:db8::1", "2001:db8::2");
		tcp(&f, 1, 443, VG_TH_SYN, 0, NULL);
		ip6_done(&f, ip);
		ip4_done(&f, outer);
		r = run(VG_LINK_ETHERNET, &f);
		CHECK_EQ_I(r.rc, VG_DEC_OK);
		CHECK_EQ_U(r.p.encap, VG_ENC_GRE | VG_ENC_ERSPAN | VG_ENC_VLAN);
		CHECK_EQ_U(r.p.vlan[0], 100);
		CHECK_EQ_I(r.l3, (long)inner_eth + 18);
		CHECK_EQ_U(r.p.ipver, 6);
		CHECK_EQ_U(r.p.dport, 443);
	}
}

TEST(ip_in_ip_and_6in4)
{
	struct fb f = { .n = 0 };
	eth(&f, 0x0800);
	uint32_t outer = ip4(&f, 4, "192.0.2.1", "192.0.2.2", 0);
	uint32_t ip = ip4(&f, 17, "10.0.0.1", "10.0.0.2", 0);
	udp(&f, 1, 2, "in");
	ip4_done(&f, ip);
	ip4_done(&f, outer);
	struct res r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.encap, VG_ENC_IPIP);
	CHECK_STREQ(ip_s(&r.p.src), "10.0.0.1");
	CHECK_EQ_I(r.l3, 34);

	f.n = 0;
	eth(&f, 0x0800);
	outer = ip4(&f, 41, "192.0.2.1", "192.88.99.1", 0);
	ip = ip6(&f, 6, "2002:c000:201::1", "2001:db8::2");
	tcp(&f, 1, 25, VG_TH_SYN, 0, NULL);
	ip6_done(&f, ip);
	ip4_done(&f, outer);
	r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.encap, VG_ENC_IPIP);
	CHECK_EQ_U(r.p.ipver, 6);
	CHECK_EQ_U(r.p.dport, 25);
	CHECK_EQ_U(r.p.ip_opt_len, 0);
}

/* `levels` IP-in-IP headers around a UDP packet, as raw IP. */
static void nested_ipip(struct fb *f, unsigned levels)
{
	uint32_t at[16];
	f->n = 0;
	for (unsigned i = 0; i < levels; i++)
		at[i] = ip4(f, 4, "10.0.0.1", "10.0.0.2", 0);
	uint32_t ip = ip4(f, 17, "172.16.0.1", "172.16.0.2", 0);
	udp(f, 9, 9, "deep");
	ip4_done(f, ip);
	for (unsigned i = levels; i-- > 0;)
		ip4_done(f, at[i]);
}

TEST(tunnel_nesting_is_bounded)
{
	struct fb f;
	nested_ipip(&f, 4);
	struct res r = run(VG_LINK_RAW, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_STREQ(ip_s(&r.p.src), "172.16.0.1");
	CHECK(pl_is(&f, &r, "deep"));

	nested_ipip(&f, 12);
	r = run(VG_LINK_RAW, &f);
	CHECK_EQ_I(r.rc, VG_DEC_UNSUPPORTED);
	CHECK_EQ_U(r.p.err_off, 5 * 20);
	CHECK_STREQ(ip_s(&r.p.src), "10.0.0.1");
}

TEST(non_ip_frames_and_unknown_link_types)
{
	struct fb f = { .n = 0 };
	eth(&f, 0x0806);            /* ARP */
	putz(&f, 28);
	CHECK_EQ_I(run(VG_LINK_ETHERNET, &f).rc, VG_DEC_NOT_IP);

	f.n = 0;
	eth(&f, 38);                /* 802.3 length: LLC, STP BPDU */
	put8(&f, 0x42); put8(&f, 0x42); put8(&f, 0x03);
	putz(&f, 35);
	CHECK_EQ_I(run(VG_LINK_ETHERNET, &f).rc, VG_DEC_NOT_IP);

	f.n = 0;
	eth(&f, 0x8137);            /* IPX */
	putz(&f, 30);
	CHECK_EQ_I(run(VG_LINK_ETHERNET, &f).rc, VG_DEC_NOT_IP);

	f.n = 0;                    /* LLC/SNAP carrying IPv4 is IP */
	eth(&f, 60);
	put(&f, "\xAA\xAA\x03\x00\x00\x00\x08\x00", 8);
	uint32_t ip = ip4(&f, 17, "10.0.0.1", "10.0.0.2", 0);
	udp(&f, 1, 2, "snap");
	ip4_done(&f, ip);
	struct res r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_I(r.l3, 22);

	CHECK_EQ_I(run(105, &f).rc, VG_DEC_UNSUPPORTED);   /* 802.11 */
	CHECK_EQ_I(run(-1, &f).rc, VG_DEC_UNSUPPORTED);
}

TEST(malformed_fields_name_their_offset)
{
	struct fb f;
	frame_syn(&f);
	f.b[14] = 0x44;             /* IHL 4 */
	struct res r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_MALFORMED);
	CHECK_EQ_U(r.p.err_off, 14);

	frame_syn(&f);
	f.b[14] = 0x55;             /* version 5 */
	r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_MALFORMED);
	CHECK_EQ_U(r.p.err_off, 14);

	frame_syn(&f);
	set16(&f, 16, 19);          /* total length shorter than the header */
	r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_MALFORMED);
	CHECK_EQ_U(r.p.err_off, 16);

	frame_syn(&f);
	f.b[34 + 12] = 0x40;        /* TCP data offset 4 */
	r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_MALFORMED);
	CHECK_EQ_U(r.p.err_off, 46);
	CHECK_EQ_U(r.p.dport, 23);  /* decoded before the failure: kept */
	CHECK_EQ_I(r.l4, -1);

	frame_syn(&f);              /* TCP header longer than the IP packet */
	set16(&f, 16, 40);
	r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_MALFORMED);
	CHECK_EQ_U(r.p.err_off, 46);

	frame_syn(&f);              /* UDP header beyond the IP total length */
	f.b[14 + 9] = 17;
	set16(&f, 16, 24);
	r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_MALFORMED);
	CHECK_EQ_U(r.p.err_off, 34);

	/* IPv6 extension header longer than the payload length */
	f.n = 0;
	eth(&f, 0x86DD);
	uint32_t ip = ip6(&f, 0, "::1", "::2");
	put8(&f, 6); put8(&f, 3); putz(&f, 6 + 24);
	tcp(&f, 1, 2, VG_TH_SYN, 0, NULL);
	ip6_done(&f, ip);
	set16(&f, 14 + 4, 16);
	r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_MALFORMED);
	CHECK_EQ_U(r.p.err_off, 54);

	/* an endless chain of destination options */
	f.n = 0;
	eth(&f, 0x86DD);
	ip = ip6(&f, 60, "::1", "::2");
	for (int i = 0; i < 20; i++) {
		put8(&f, 60); put8(&f, 0); putz(&f, 6);
	}
	ip6_done(&f, ip);
	r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_MALFORMED);
	CHECK_EQ_U(r.p.err_off, 54 + 8 * 8);
}

TEST(ip_lengths_versus_captured_bytes)
{
	struct fb f = { .n = 0 };
	eth(&f, 0x0800);
	uint32_t ip = ip4(&f, 6, "10.0.0.1", "10.0.0.2", 0);
	tcp(&f, 1, 80, VG_TH_ACK, 0, "0123456789");
	ip4_done(&f, ip);
	set16(&f, ip + 2, 1500);    /* snap length cut the packet */
	struct res r = run_wire(VG_LINK_ETHERNET, f.b, f.n, 1514);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.ip_len, 1500);
	CHECK_EQ_U(r.p.payload_len, 1460);
	CHECK_EQ_U(r.p.payload_caplen, 10);
	CHECK_EQ_U(r.p.wirelen, 1514);

	/* Ethernet padding after a short packet is not payload */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4(&f, 6, "10.0.0.1", "10.0.0.2", 0);
	tcp(&f, 1, 80, VG_TH_RST, 0, NULL);
	ip4_done(&f, ip);
	putz(&f, 6);
	r = run(VG_LINK_ETHERNET, &f);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.ip_len, 40);
	CHECK_EQ_U(r.p.l4_caplen, 20);
	CHECK_EQ_U(r.p.payload_caplen, 0);
	CHECK_EQ_U(r.p.l3_caplen, 46);

	/* TCP options cut by the snap length: header kept, payload empty */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4(&f, 6, "10.0.0.1", "10.0.0.2", 0);
	tcp(&f, 1, 80, VG_TH_SYN, 20, "data");
	ip4_done(&f, ip);
	r = run_wire(VG_LINK_ETHERNET, f.b, 14 + 20 + 30, f.n);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.tcp_hlen, 40);
	CHECK_EQ_I(r.l4, 34);
	CHECK_EQ_U(r.p.l4_caplen, 30);
	CHECK_EQ_U(r.p.payload_caplen, 0);
	CHECK_EQ_U(r.p.payload_len, 4);

	/* total length 0 (segmentation offload): the frame decides */
	f.n = 0;
	eth(&f, 0x0800);
	ip = ip4(&f, 6, "10.0.0.1", "10.0.0.2", 0);
	tcp(&f, 1, 80, VG_TH_ACK, 0, "offloaded");
	r = run_wire(VG_LINK_ETHERNET, f.b, f.n, f.n + 100);
	CHECK_EQ_I(r.rc, VG_DEC_OK);
	CHECK_EQ_U(r.p.ip_len, f.n - 14 + 100);
	CHECK_EQ_U(r.p.payload_caplen, 9);
	CHECK_EQ_U(r.p.payload_len, 109);
}

/* Cut a frame at every length: nothing is read past the cut (ASan), and
 * the status is TRUNCATED exactly while the innermost upper-layer base
 * header is incomplete. */
static void every_truncation(int lt, const struct fb *f, uint32_t complete_at)
{
	for (uint32_t n = 0; n <= f->n; n++) {
		struct res r = run_wire(lt, f->b, n, f->n);
		if (n < complete_at) {
			if (r.rc != VG_DEC_TRUNCATED)
				fprintf(stderr, "cut at %u of %u: rc %d\n", n, f->n, r.rc);
			CHECK_EQ_I(r.rc, VG_DEC_TRUNCATED);
			CHECK(r.p.err_off <= n);
		} else {
			CHECK_EQ_I(r.rc, VG_DEC_OK);
			CHECK(r.l4 >= 0);
		}
	}
}

TEST(truncated_at_every_byte)
{
	struct fb f;
	frame_syn(&f);
	every_truncation(VG_LINK_ETHERNET, &f, 14 + 20 + 20);

	f.n = 0;
	eth(&f, 0x88A8);
	vlan(&f, 10, 0x8100);
	vlan(&f, 20, 0x86DD);
	uint32_t ip = ip6(&f, 0, "2001:db8::1", "2001:db8::2");
	put8(&f, 44); put8(&f, 0); putz(&f, 6);
	put8(&f, 17); put8(&f, 0); put16(&f, 0); put32(&f, 1);
	uint32_t l4 = udp(&f, 1, 2, "payload");
	ip6_done(&f, ip);
	every_truncation(VG_LINK_ETHERNET, &f, l4 + 8);

	uint32_t outer = gre_outer(&f, 0x1000, 0x88BE);
	put32(&f, 0x10010005);
	put32(&f, 0x00000012);
	eth(&f, 0x0800);
	ip = ip4(&f, 6, "41.108.52.138", "40.110.35.23", 4);
	l4 = tcp(&f, 34048, 80, VG_TH_PSH | VG_TH_ACK, 8, "GET /shell");
	ip4_done(&f, ip);
	ip4_done(&f, outer);
	every_truncation(VG_LINK_ETHERNET, &f, l4 + 20);

	outer = gre_outer(&f, 0xB000, 0x22EB);
	put32(&f, 0x20640007); put32(&f, 1); put16(&f, 0); put16(&f, 1);
	putz(&f, 8);
	eth(&f, 0x0800);
	ip = ip4(&f, 1, "10.0.0.1", "10.0.0.2", 0);
	l4 = icmp(&f, 8, 0, "ping");
	ip4_done(&f, ip);
	ip4_done(&f, outer);
	every_truncation(VG_LINK_ETHERNET, &f, l4 + 8);

	f.n = 0;
	pflog(&f, 2, 1, "em0", 42, 1, 61);
	ip = ip4(&f, 6, "203.0.113.9", "192.0.2.1", 0);
	l4 = tcp(&f, 50000, 3389, VG_TH_SYN, 4, NULL);
	ip4_done(&f, ip);
	every_truncation(VG_LINK_PFLOG, &f, l4 + 20);

	static const int lts[] = { VG_LINK_LINUX_SLL, VG_LINK_LINUX_SLL2,
				   VG_LINK_NULL, VG_LINK_LOOP, VG_LINK_RAW };
	static const uint32_t hdr[] = { 16, 20, 4, 4, 0 };
	for (unsigned i = 0; i < 5; i++) {
		f.n = 0;
		if (lts[i] == VG_LINK_LINUX_SLL2) {
			put16(&f, 0x0800);
			putz(&f, 18);
		} else if (lts[i] == VG_LINK_LINUX_SLL) {
			putz(&f, 14);
			put16(&f, 0x0800);
		} else if (hdr[i]) {
			put32(&f, 2);
		}
		ip = ip4(&f, 17, "10.0.0.1", "10.0.0.2", 0);
		l4 = udp(&f, 1, 2, "abc");
		ip4_done(&f, ip);
		every_truncation(lts[i], &f, l4 + 8);
	}
}

TEST(strerror_and_ip_str)
{
	CHECK_STREQ(vg_dec_strerror(VG_DEC_OK), "decoded");
	CHECK(strstr(vg_dec_strerror(VG_DEC_TRUNCATED), "truncated") != NULL);
	CHECK(strstr(vg_dec_strerror(VG_DEC_MALFORMED), "malformed") != NULL);
	CHECK(strstr(vg_dec_strerror(VG_DEC_NOT_IP), "not an IP") != NULL);
	CHECK(strstr(vg_dec_strerror(VG_DEC_UNSUPPORTED), "unsupported") != NULL);
	CHECK(strstr(vg_dec_strerror(99), "unknown") != NULL);

	struct vg_ip a = { .v = 4, .a = { 192, 0, 2, 1 } };
	char buf[46];
	CHECK_STREQ(vg_ip_str(&a, buf, sizeof buf), "192.0.2.1");
	struct vg_ip b = { .v = 6, .a = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } };
	CHECK_STREQ(vg_ip_str(&b, buf, sizeof buf), "2001:db8::1");
	struct vg_ip none = { .v = 0 };
	CHECK_STREQ(vg_ip_str(&none, buf, sizeof buf), "-");
	char tiny[4];
	CHECK_STREQ(vg_ip_str(&a, tiny, sizeof tiny), "");
}

/* ---- real captures ----------------------------------------------------- */

struct cap_stats {
	unsigned total, ok, not_ip, unsupported, truncated, malformed;
	unsigned vlan943, gre_erspan, shell_get;
};

static void decode_capture(const char *path, struct cap_stats *st)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, errbuf);
	CHECK(pc != NULL);
	if (!pc) {
		fprintf(stderr, "%s: %s\n", path, errbuf);
		return;
	}
	int lt = pcap_datalink(pc);
	struct pcap_pkthdr *h;
	const u_char *data;
	while (pcap_next_ex(pc, &h, &data) == 1) {
		struct res r = run_wire(lt, data, h->caplen, h->len);
		st->total++;
		switch (r.rc) {
		case VG_DEC_OK: st->ok++; break;
		case VG_DEC_NOT_IP: st->not_ip++; break;
		case VG_DEC_UNSUPPORTED: st->unsupported++; break;
		case VG_DEC_TRUNCATED: st->truncated++; break;
		case VG_DEC_MALFORMED: st->malformed++; break;
		default: CHECK(!"unknown status"); break;
		}
		if (r.rc < 0)
			fprintf(stderr, "%s packet %u: %s at offset %u\n", path,
				st->total, vg_dec_strerror(r.rc), r.p.err_off);
		if (r.rc == VG_DEC_OK && (r.p.encap & VG_ENC_VLAN) && r.p.vlan[0] == 943)
			st->vlan943++;
		if (r.rc == VG_DEC_OK &&
		    (r.p.encap & (VG_ENC_GRE | VG_ENC_ERSPAN)) == (VG_ENC_GRE | VG_ENC_ERSPAN))
			st->gre_erspan++;
		if (r.rc == VG_DEC_OK && r.p.proto == 6 && r.p.dport == 80 &&
		    r.pl >= 0 && r.p.payload_caplen >= 10 &&
		    memmem(data + r.pl, r.p.payload_caplen, "GET /shell", 10))
			st->shell_get++;
	}
	pcap_close(pc);
}

TEST(real_captures_decode_without_errors)
{
	const char *dirpath = test_data("pcaps");
	DIR *dir = opendir(dirpath);
	CHECK(dir != NULL);
	if (!dir)
		return;
	unsigned files = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		size_t n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 5, ".pcap"))
			continue;
		char path[2048];
		snprintf(path, sizeof path, "%s/%s", dirpath, de->d_name);
		struct cap_stats st = { 0 };
		decode_capture(path, &st);
		files++;
		printf("     %-42s %5u pkts: %u ok, %u not-ip, %u unsupported, "
		       "%u truncated, %u malformed\n", de->d_name, st.total, st.ok,
		       st.not_ip, st.unsupported, st.truncated, st.malformed);
		CHECK(st.total > 0);
		CHECK_EQ_U(st.truncated, 0);
		CHECK_EQ_U(st.malformed, 0);
		CHECK_EQ_U(st.unsupported, 0);
		if (!strcmp(de->d_name, "bug-5437-02_mirai_jaws_gre-erspan.pcap")) {
			CHECK_EQ_U(st.gre_erspan, st.total);
			CHECK(st.shell_get >= 1);
		}
		if (!strcmp(de->d_name, "tcp_0_1000_20190821.pcap"))
			CHECK_EQ_U(st.vlan943, st.total);
		if (!strcmp(de->d_name, "connect-with-header.pcap"))
			CHECK_EQ_U(st.ok, st.total);
	}
	closedir(dir);
	CHECK(files >= 15);
}

int main(void)
{
	RUN(ethernet_ipv4_tcp_syn_all_fields);
	RUN(tcp_options_and_payload_with_ack_psh_urg);
	RUN(udp_ports_and_payload);
	RUN(icmp_echo_type_code_and_payload);
	RUN(ipv4_options_shift_the_upper_layer);
	RUN(ipv4_first_fragment_has_l4_later_ones_do_not);
	RUN(ipv6_hop_by_hop_and_fragment_then_tcp);
	RUN(icmpv6_echo_request);
	RUN(vlan_qinq_and_9100_tags_record_ids);
	RUN(linux_sll_and_sll2);
	RUN(raw_ipv4_ipv6_link_types);
	RUN(bsd_null_either_byte_order_and_loop);
	RUN(pflog_in_and_out_fill_pf_fields);
	RUN(gre_ipv4_with_key_seq_and_checksum);
	RUN(gre_ipv6_and_transparent_ethernet);
	RUN(erspan_type_1_2_and_3);
	RUN(ip_in_ip_and_6in4);
	RUN(tunnel_nesting_is_bounded);
	RUN(non_ip_frames_and_unknown_link_types);
	RUN(malformed_fields_name_their_offset);
	RUN(ip_lengths_versus_captured_bytes);
	RUN(truncated_at_every_byte);
	RUN(strerror_and_ip_str);
	RUN(real_captures_decode_without_errors);
	return check_summary();
}
