/* Unit tests of the binned counters and of the analysis engine's rules
 * (what counts, under which key), on hand-built packets. */
#include <stdlib.h>

#include "an-engine.h"
#include "an-report.h"
#include "check.h"
#include "stats-agg.h"

TEST(counts_land_in_their_bins_and_totals)
{
	struct stats_cat *c = stats_cat_new(65536);
	stats_cat_add(c, 100, 445, 40);
	stats_cat_add(c, 100, 445, 60);
	stats_cat_add(c, 100, 80, 1500);
	stats_cat_add(c, 102, 445, 40);
	CHECK_EQ_I(stats_cat_finish(c), 0);
	CHECK_EQ_U(stats_cat_total(c, 445).packets, 3);
	CHECK_EQ_U(stats_cat_total(c, 445).bytes, 140);
	CHECK_EQ_U(stats_cat_total(c, 80).bytes, 1500);
	uint64_t s[3];
	stats_cat_series(c, 445, STATS_PACKETS, 100, 3, s);
	CHECK_EQ_U(s[0], 2);
	CHECK_EQ_U(s[1], 0);
	CHECK_EQ_U(s[2], 1);
	stats_cat_series_total(c, STATS_BYTES, NULL, NULL, 100, 3, s);
	CHECK_EQ_U(s[0], 1600);
	CHECK_EQ_U(s[2], 40);
	int64_t f, l;
	CHECK(stats_cat_bin_range(c, &f, &l));
	CHECK_EQ_I(f, 100);
	CHECK_EQ_I(l, 102);
	stats_cat_free(c);
}

TEST(out_of_order_bins_are_merged)
{
	struct stats_cat *c = stats_cat_new(16);
	stats_cat_add(c, 5, 1, 10);
	stats_cat_add(c, 3, 1, 20);
	stats_cat_add(c, 5, 1, 30);
	stats_cat_add(c, 3, 2, 5);
	stats_cat_add(c, 4, 1, 1);
	CHECK_EQ_I(stats_cat_finish(c), 0);
	uint64_t s[3];
	stats_cat_series(c, 1, STATS_BYTES, 3, 3, s);
	CHECK_EQ_U(s[0], 20);
	CHECK_EQ_U(s[1], 1);
	CHECK_EQ_U(s[2], 40);
	stats_cat_series_total(c, STATS_PACKETS, NULL, NULL, 3, 3, s);
	CHECK_EQ_U(s[0], 2);
	CHECK_EQ_U(s[1], 1);
	CHECK_EQ_U(s[2], 2);
	CHECK_EQ_U(stats_cat_grand_total(c).bytes, 66);
	stats_cat_free(c);
}

TEST(top_orders_by_measure_and_breaks_ties_by_key)
{
	struct stats_cat *c = stats_cat_new(100);
	/* key 7: many small packets; key 9: few big ones; 3 and 4 tie. */
	for (int i = 0; i < 10; i++)
		stats_cat_add(c, 0, 7, 40);
	stats_cat_add(c, 0, 9, 1500);
	stats_cat_add(c, 0, 4, 100);
	stats_cat_add(c, 0, 3, 100);
	stats_cat_finish(c);
	unsigned keys[10];
	size_t n = stats_cat_top(c, STATS_PACKETS, 10, NULL, NULL, keys);
	CHECK_EQ_U(n, 4);
	CHECK_EQ_U(keys[0], 7);
	CHECK_EQ_U(keys[1], 3);
	CHECK_EQ_U(keys[2], 4);
	CHECK_EQ_U(keys[3], 9);
	n = stats_cat_top(c, STATS_BYTES, 2, NULL, NULL, keys);
	CHECK_EQ_U(n, 2);
	CHECK_EQ_U(keys[0], 9);
	CHECK_EQ_U(keys[1], 7);
	stats_cat_free(c);
}

static bool odd_only(unsigned key, void *ctx)
{
	(void)ctx;
	return key & 1;
}

TEST(filtered_top_and_totals_see_only_accepted_keys)
{
	struct stats_cat *c = stats_cat_new(10);
	stats_cat_add(c, 1, 2, 1000);
	stats_cat_add(c, 1, 3, 10);
	stats_cat_add(c, 2, 5, 20);
	stats_cat_finish(c);
	unsigned keys[10];
	size_t n = stats_cat_top(c, STATS_BYTES, 10, odd_only, NULL, keys);
	CHECK_EQ_U(n, 2);
	CHECK_EQ_U(keys[0], 5);
	CHECK_EQ_U(stats_cat_filtered_total(c, odd_only, NULL).bytes, 30);
	uint64_t s[2];
	stats_cat_series_total(c, STATS_BYTES, odd_only, NULL, 1, 2, s);
	CHECK_EQ_U(s[0], 10);
	CHECK_EQ_U(s[1], 20);
	stats_cat_free(c);
}

/* A hand-made decoded packet: only the fields the engine reads. */
static struct vg_pkt mkpkt(uint32_t src, uint32_t dst, uint8_t proto, uint16_t dport,
			   uint32_t len, uint64_t ts_s)
{
	static const uint8_t fake_l4[20];
	struct vg_pkt p;
	memset(&p, 0, sizeof p);
	p.ipver = 4;
	p.proto = proto;
	p.ip_len = len;
	p.ts_ns = ts_s * 1000000000ull;
	p.src.v = p.dst.v = 4;
	for (int i = 0; i < 4; i++) {
		p.src.a[i] = (uint8_t)(src >> (24 - 8 * i));
		p.dst.a[i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	p.dport = dport;
	p.sport = 40000;
	p.l4 = fake_l4;
	p.tcp_flags = VG_TH_ACK;
	return p;
}

TEST(engine_counts_only_packets_to_the_honeynet)
{
	struct cidr_set nets = {0};
	struct cidr net;
	CHECK_EQ_I(cidr_parse("192.0.2.0/24", &net, NULL), 0);
	cidr_set_add(&nets, &net);
	struct an_config cfg = {.honeynets = &nets, .bin_seconds = 300};
	struct an_engine *e;
	CHECK_EQ_I(an_engine_new(&e, &cfg), 0);

	struct vg_pkt in = mkpkt(0x0a000001, 0xc0000205, 6, 445, 48, 1000);
	struct vg_pkt out = mkpkt(0xc0000205, 0x0a000001, 6, 40000, 40, 1000);
	struct vg_pkt udp = mkpkt(0x0a000002, 0xc00002ff, 17, 1434, 404, 1400);
	an_engine_frame(e, VG_DEC_OK, &in);
	an_engine_frame(e, VG_DEC_OK, &out);
	an_engine_frame(e, VG_DEC_OK, &udp);
	an_engine_frame(e, VG_DEC_NOT_IP, &in);
	an_engine_frame(e, VG_DEC_TRUNCATED, &in);
	CHECK_EQ_I(an_engine_finish(e), 0);

	const struct an_counters *c = an_engine_counters(e);
	CHECK_EQ_U(c->frames, 5);
	CHECK_EQ_U(c->counted, 2);
	CHECK_EQ_U(c->counted_bytes, 452);
	CHECK_EQ_U(c->not_honeynet, 1);
	CHECK_EQ_U(c->non_ip, 1);
	CHECK_EQ_U(c->bad, 1);
	CHECK_EQ_U(stats_cat_total(an_engine_cat(e, AN_TCP_PORT), 445).bytes, 48);
	CHECK_EQ_U(stats_cat_total(an_engine_cat(e, AN_TCP_PORT), 40000).packets, 0);
	CHECK_EQ_U(stats_cat_total(an_engine_cat(e, AN_UDP_PORT), 1434).bytes, 404);
	/* No RIR data: every source is "--"; no p0f: every OS "unknown". */
	CHECK_EQ_U(stats_cat_total(an_engine_cat(e, AN_COUNTRY), GEO_UNKNOWN).packets, 2);
	CHECK_EQ_U(stats_cat_total(an_engine_cat(e, AN_OS), an_engine_os_unknown(e)).packets, 2);

	int64_t first;
	size_t nbins;
	CHECK(an_bin_range(e, &first, &nbins));
	CHECK_EQ_I(first, 3);       /* 1000 / 300 */
	CHECK_EQ_U(nbins, 2);       /* bins 3 and 4 (1400 / 300) */
	an_engine_free(e);
	cidr_set_free(&nets);
}

TEST(engine_without_honeynets_counts_everything)
{
	struct an_config cfg = {.bin_seconds = 60};
	struct an_engine *e;
	CHECK_EQ_I(an_engine_new(&e, &cfg), 0);
	struct vg_pkt a = mkpkt(1, 2, 6, 22, 60, 0);
	struct vg_pkt b = mkpkt(3, 4, 1, 0, 84, 59);
	an_engine_frame(e, VG_DEC_OK, &a);
	an_engine_frame(e, VG_DEC_OK, &b);
	an_engine_finish(e);
	CHECK_EQ_U(an_engine_counters(e)->counted, 2);
	CHECK_EQ_U(an_engine_counters(e)->icmp, 1);
	CHECK_EQ_U(stats_cat_grand_total(an_engine_cat(e, AN_TCP_PORT)).packets, 1);
	CHECK_EQ_U(stats_cat_grand_total(an_engine_cat(e, AN_COUNTRY)).packets, 2);
	an_engine_free(e);
}

/* A fragment of `len` IP bytes (20-byte header) at byte `off`. */
static struct vg_pkt frag(uint16_t id, uint16_t off, bool mf, uint32_t len, uint64_t ts)
{
	struct vg_pkt p = mkpkt(1, 2, 17, off ? 0 : 1434, len, ts);
	p.ip_id = id;
	p.frag_off = off;
	p.mf = mf;
	p.ip_hlen = 20;
	if (off)
		p.l4 = NULL;
	return p;
}

TEST(a_fragmented_datagram_counts_once_with_its_reassembled_length)
{
	struct an_config cfg = {.bin_seconds = 300};
	struct an_engine *e;
	CHECK_EQ_I(an_engine_new(&e, &cfg), 0);
	/* Datagram 77: 1480 + 1480 + 300 payload bytes, last fragment first. */
	struct vg_pkt f3 = frag(77, 2960, false, 320, 10);
	struct vg_pkt f1 = frag(77, 0, true, 1500, 11);
	struct vg_pkt f2 = frag(77, 1480, true, 1500, 12);
	an_engine_frame(e, VG_DEC_OK, &f3);
	an_engine_frame(e, VG_DEC_OK, &f1);
	CHECK_EQ_U(an_engine_counters(e)->counted, 0);     /* not complete yet */
	an_engine_frame(e, VG_DEC_OK, &f2);
	/* Datagram 78: the first fragment never comes. */
	struct vg_pkt orphan = frag(78, 1480, false, 200, 13);
	an_engine_frame(e, VG_DEC_OK, &orphan);
	/* Datagram 79: completes, but 70 s after its start: expired first. */
	struct vg_pkt late1 = frag(79, 0, true, 1500, 20);
	struct vg_pkt late2 = frag(79, 1480, false, 100, 90);
	an_engine_frame(e, VG_DEC_OK, &late1);
	an_engine_frame(e, VG_DEC_OK, &late2);
	CHECK_EQ_I(an_engine_finish(e), 0);

	const struct an_counters *c = an_engine_counters(e);
	CHECK_EQ_U(c->counted, 1);
	CHECK_EQ_U(c->counted_bytes, 20 + 1480 + 1480 + 300);
	CHECK_EQ_U(c->fragments, 1);
	CHECK_EQ_U(c->fragments_merged, 2);
	CHECK_EQ_U(c->fragments_incomplete, 3);   /* orphan, and 79's two */
	CHECK_EQ_U(c->frames, c->counted + c->fragments_merged + c->fragments_incomplete);
	CHECK_EQ_U(stats_cat_total(an_engine_cat(e, AN_UDP_PORT), 1434).packets, 1);
	CHECK_EQ_U(stats_cat_total(an_engine_cat(e, AN_UDP_PORT), 1434).bytes, 3280);
	CHECK_EQ_U(c->first_ns, 10ull * 1000000000u);    /* earliest fragment */
	an_engine_free(e);
}

TEST(top_view_others_is_the_rest_of_the_category)
{
	struct an_config cfg = {.bin_seconds = 300};
	struct an_engine *e;
	CHECK_EQ_I(an_engine_new(&e, &cfg), 0);
	/* 12 ports: port p gets p packets of 100 bytes, in two bins. */
	for (unsigned p = 1; p <= 12; p++)
		for (unsigned i = 0; i < p; i++) {
			struct vg_pkt k = mkpkt(9, 10, 6, (uint16_t)p, 100, i % 2 ? 0 : 300);
			an_engine_frame(e, VG_DEC_OK, &k);
		}
	an_engine_finish(e);
	struct an_top t;
	CHECK_EQ_I(an_top_compute(e, &an_views[1], &t), 0);   /* tcp_port_packets */
	CHECK_EQ_U(t.n, 10);
	CHECK_EQ_U(t.keys[0], 12);
	CHECK_EQ_U(t.keys[9], 3);
	CHECK_EQ_U(t.others.packets, 1 + 2);
	CHECK_EQ_U(t.nbins, 2);
	uint64_t sum = 0;
	for (size_t i = 0; i < (t.n + 1) * t.nbins; i++)
		sum += t.series[i];
	CHECK_EQ_U(sum, 78);        /* 1 + 2 + ... + 12 */
	/* Others per bin: port 1 (1 pkt, bin 1), port 2 (bins 1 and 0). */
	CHECK_EQ_U(t.series[10 * 2 + 0], 1);
	CHECK_EQ_U(t.series[10 * 2 + 1], 2);
	an_top_free(&t);
	an_engine_free(e);
}

int main(void)
{
	RUN(counts_land_in_their_bins_and_totals);
	RUN(out_of_order_bins_are_merged);
	RUN(top_orders_by_measure_and_breaks_ties_by_key);
	RUN(filtered_top_and_totals_see_only_accepted_keys);
	RUN(engine_counts_only_packets_to_the_honeynet);
	RUN(engine_without_honeynets_counts_everything);
	RUN(a_fragmented_datagram_counts_once_with_its_reassembled_length);
	RUN(top_view_others_is_the_rest_of_the_category);
	return check_summary();
}
