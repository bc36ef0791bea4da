/* test-ew.c: early warning (ew-sketch, ew-detect) on small hand-built
 * series with known answers; ew-ingest's signature and ASN keys through a
 * real database into the detector. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "db.h"
#include "ew-detect.h"
#include "ew-ingest.h"
#include "ew-sketch.h"

/* Small days (12 bins) so every answer can be worked out by hand. */
static struct ew_params small_params(void)
{
	struct ew_params p;
	ew_params_default(&p, 300);
	p.bins_per_day = 12;
	p.base_days = 3;
	p.min_base_days = 3;
	p.halfwin = 0;
	p.new_grace = 12;
	p.quiet = 3;
	p.warm = 100;
	return p;
}

struct events {
	int raises, ends;
	size_t raise_t[8], end_t[8];
	struct ew_alert last_raise;
};

static int record(enum ew_event_type ev, const struct ew_alert *a, size_t t, void *ctx)
{
	struct events *e = ctx;
	if (ev == EW_EV_RAISE) {
		if (e->raises < 8)
			e->raise_t[e->raises] = t;
		e->raises++;
		e->last_raise = *a;
	} else {
		if (e->ends < 8)
			e->end_t[e->ends] = t;
		e->ends++;
	}
	return 0;
}

static struct events run_series(const struct ew_params *p, const double *src, const double *sens,
				size_t n, size_t from, bool new_capable, int64_t prev_seen,
				int64_t data_start)
{
	struct ew_series s = {n, src, src, sens, prev_seen, data_start, new_capable};
	struct ew_alert a = {0};
	struct events e = {0};
	CHECK(ew_run(p, &s, from, &a, record, &e) == 0);
	return e;
}

TEST(baseline_is_median_and_mad_of_the_same_bin_on_previous_days)
{
	struct ew_params p = small_params();
	p.bins_per_day = 4;
	double x[13] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 99};
	struct ew_base b;
	ew_baseline(x, 13, 12, &p, &b);
	/* samples x[8] = 9, x[4] = 5, x[0] = 1 */
	CHECK_EQ_U(b.days, 3);
	CHECK_EQ_U(b.n, 3);
	CHECK(b.median == 5);
	CHECK(b.mad == 4);
	CHECK(fabs(b.sigma - 1.4826 * 4) < 1e-9);

	p.halfwin = 1;
	ew_baseline(x, 13, 12, &p, &b);
	/* {8,9,10} {4,5,6} {1,2}: eight samples, median (5 + 6) / 2 */
	CHECK_EQ_U(b.n, 8);
	CHECK(b.median == 5.5);

	ew_baseline(x, 13, 5, &p, &b);
	CHECK_EQ_U(b.days, 1);      /* only one previous day exists */
}

TEST(baseline_sigma_has_a_poisson_floor_on_flat_series)
{
	struct ew_params p = small_params();
	double x[40];
	for (int i = 0; i < 40; i++)
		x[i] = 4;
	struct ew_base b;
	ew_baseline(x, 40, 39, &p, &b);
	CHECK(b.median == 4);
	CHECK(b.mad == 0);
	CHECK(fabs(b.sigma - sqrt(5)) < 1e-9);
}

TEST(cusum_caps_each_bin_and_decays_to_zero)
{
	struct ew_params p = small_params();
	/* defaults: cap 4, allowance k 2.5, threshold h 2.9 */
	CHECK(ew_cusum_step(0, 10, &p) == 1.5);
	CHECK(ew_cusum_step(1.5, 3.5, &p) == 2.5);
	CHECK(ew_cusum_step(1.5, 0.5, &p) == 0);
	/* two capped bins cross the threshold, one does not */
	CHECK(ew_cusum_step(0, 100, &p) <= p.h);
	CHECK(ew_cusum_step(ew_cusum_step(0, 100, &p), 100, &p) > p.h);
	CHECK(ew_cusum_step(0.5, -3, &p) == 0);
}

/* Four days at 2 sources per bin, then day 4 from bin 48 on. */
static void flat(double *x, size_t n, double v)
{
	for (size_t i = 0; i < n; i++)
		x[i] = v;
}

TEST(one_bin_spike_does_not_alert)
{
	struct ew_params p = small_params();
	double src[60], sens[60];
	flat(src, 60, 2);
	flat(sens, 60, 1);
	src[50] = 200;
	sens[50] = 10;
	struct events e = run_series(&p, src, sens, 60, 48, false, EW_NEVER, 0);
	CHECK_EQ_U(e.raises, 0);
}

TEST(sustained_rise_alerts_on_its_second_bin_with_factor)
{
	struct ew_params p = small_params();
	double src[60], sens[60];
	flat(src, 60, 2);
	flat(sens, 60, 1);
	for (int i = 50; i < 60; i++)
		src[i] = 40;
	struct events e = run_series(&p, src, sens, 60, 48, false, EW_NEVER, 0);
	CHECK_EQ_U(e.raises, 1);
	CHECK_EQ_U(e.raise_t[0], 51);
	CHECK(e.last_raise.conds == EW_C_GROWTH);
	CHECK(e.last_raise.began == 50);
	CHECK(e.last_raise.baseline == 2);
	CHECK(e.last_raise.factor == 20);
	CHECK(e.last_raise.sources == 40);
}

TEST(growth_needs_enough_previous_days)
{
	struct ew_params p = small_params();
	double src[36], sens[36];
	flat(src, 36, 2);
	flat(sens, 36, 1);
	for (int i = 26; i < 36; i++)
		src[i] = 40;        /* bins 24..35 have two previous days only */
	struct events e = run_series(&p, src, sens, 36, 24, false, EW_NEVER, 0);
	CHECK_EQ_U(e.raises, 0);
}

TEST(rise_on_many_sensors_is_spread)
{
	struct ew_params p = small_params();
	double src[60], sens[60];
	flat(src, 60, 2);
	flat(sens, 60, 1);
	for (int i = 50; i < 60; i++) {
		src[i] = 40;
		sens[i] = 9;
	}
	struct events e = run_series(&p, src, sens, 60, 48, false, EW_NEVER, 0);
	CHECK_EQ_U(e.raises, 1);
	CHECK(e.last_raise.conds == (EW_C_GROWTH | EW_C_SPREAD));
	CHECK(e.last_raise.sensors == 9);
}

TEST(new_key_alerts_once_with_the_start_of_its_activity)
{
	struct ew_params p = small_params();
	double src[40] = {0}, sens[40] = {0};
	src[28] = 1;
	src[30] = 3;
	src[31] = 6;
	struct events e = run_series(&p, src, sens, 40, 13, true, EW_NEVER, 0);
	CHECK_EQ_U(e.raises, 1);
	CHECK_EQ_U(e.raise_t[0], 31);
	CHECK(e.last_raise.conds == EW_C_NEW);
	CHECK(e.last_raise.began == 28);
	CHECK(e.last_raise.sources == 6);
}

TEST(key_seen_within_new_days_is_not_new)
{
	struct ew_params p = small_params();
	double src[40] = {0}, sens[40] = {0};
	src[31] = 6;
	/* seen before the loaded range, within 30 days */
	struct events e = run_series(&p, src, sens, 40, 13, true, -5, -100);
	CHECK_EQ_U(e.raises, 0);
	/* seen in range, more than a day (the grace) before */
	src[10] = 1;
	e = run_series(&p, src, sens, 40, 13, true, EW_NEVER, 0);
	CHECK_EQ_U(e.raises, 0);
	/* seen long ago (more than 30 days): new again */
	src[10] = 0;
	e = run_series(&p, src, sens, 40, 13, true, -(int64_t)(31 * 12), -1000);
	CHECK_EQ_U(e.raises, 1);
	/* ports only: a country is never "new" */
	e = run_series(&p, src, sens, 40, 13, false, EW_NEVER, 0);
	CHECK_EQ_U(e.raises, 0);
}

TEST(key_is_not_new_without_a_day_of_history)
{
	struct ew_params p = small_params();
	double src[40] = {0}, sens[40] = {0};
	src[31] = 6;
	/* the database begins at bin 25: less than the grace before bin 31 */
	struct events e = run_series(&p, src, sens, 40, 13, true, EW_NEVER, 25);
	CHECK_EQ_U(e.raises, 0);
}

TEST(new_key_under_k_sources_does_not_alert)
{
	struct ew_params p = small_params();
	double src[40] = {0}, sens[40] = {0};
	src[31] = 4;
	src[32] = 4;
	struct events e = run_series(&p, src, sens, 40, 13, true, EW_NEVER, 0);
	CHECK_EQ_U(e.raises, 0);
}

TEST(alert_is_raised_once_while_it_holds_and_its_end_reported)
{
	struct ew_params p = small_params();
	p.min_base_days = 10;       /* the new-key condition alone */
	double src[60] = {0}, sens[60] = {0};
	for (int i = 20; i < 40; i++)
		src[i] = 6;
	src[41] = 6;                /* a gap shorter than quiet: still the same */
	struct events e = run_series(&p, src, sens, 60, 13, true, EW_NEVER, 0);
	CHECK_EQ_U(e.raises, 1);
	CHECK_EQ_U(e.raise_t[0], 20);
	CHECK_EQ_U(e.ends, 1);
	/* last bin with the condition 41; quiet = 3 bins without: 42, 43, 44 */
	CHECK_EQ_U(e.end_t[0], 44);
}

TEST(stored_active_alert_is_not_raised_again)
{
	struct ew_params p = small_params();
	double src[40] = {0}, sens[40] = {0};
	for (int i = 20; i < 40; i++)
		src[i] = 6;
	struct ew_series s = {40, src, src, sens, EW_NEVER, 0, true};
	struct ew_alert a = {0};
	struct events e = {0};
	CHECK(ew_run(&p, &s, 13, &a, record, &e) == 0);
	CHECK_EQ_U(e.raises, 1);
	CHECK(a.active);
	/* the next watch run starts where this one stopped, with the stored alert */
	CHECK(ew_run(&p, &s, 30, &a, record, &e) == 0);
	CHECK_EQ_U(e.raises, 1);
	CHECK_EQ_U(e.ends, 0);
}

TEST(conds_text_round_trips)
{
	char buf[64];
	ew_conds_text(EW_C_NEW | EW_C_SPREAD, buf, sizeof buf);
	CHECK_STREQ(buf, "new,spread");
	CHECK(ew_conds_parse(buf) == (EW_C_NEW | EW_C_SPREAD));
	CHECK(ew_kind_parse("net") == EW_NET);
	CHECK(ew_kind_parse("nope") == -1);
}

TEST(sketch_is_exact_while_small_and_merges)
{
	struct ew_sketch a, b;
	ew_sketch_init(&a);
	ew_sketch_init(&b);
	struct vg_ip ip = {.v = 4, .a = {198, 51, 100, 0}};
	for (int i = 0; i < 40; i++) {
		ip.a[3] = (uint8_t)i;
		ew_sketch_add(&a, &ip);
		ew_sketch_add(&a, &ip);     /* twice: counted once */
	}
	for (int i = 20; i < 50; i++) {
		ip.a[3] = (uint8_t)i;
		ew_sketch_add(&b, &ip);
	}
	CHECK(ew_sketch_count(&a) == 40);
	ew_sketch_merge(&a, &b);
	CHECK(!a.dense);
	CHECK(ew_sketch_count(&a) == 50);
	uint8_t buf[EW_SKETCH_BYTES_MAX];
	size_t n = ew_sketch_encode(&a, buf, sizeof buf);
	CHECK_EQ_U(n, 1 + 4 * 50);
	struct ew_sketch c;
	CHECK(ew_sketch_decode(&c, buf, n) == 0);
	CHECK(ew_sketch_count(&c) == 50);
	CHECK(ew_sketch_decode(&c, buf, n - 1) < 0);
	buf[0] = 'X';
	CHECK(ew_sketch_decode(&c, buf, n) < 0);
}

TEST(sketch_estimates_large_counts_within_a_few_percent)
{
	struct ew_sketch a, b;
	ew_sketch_init(&a);
	ew_sketch_init(&b);
	struct vg_ip ip = {.v = 4, .a = {10, 0, 0, 0}};
	for (int i = 0; i < 20000; i++) {
		ip.a[1] = (uint8_t)(i >> 16);
		ip.a[2] = (uint8_t)(i >> 8);
		ip.a[3] = (uint8_t)i;
		ew_sketch_add(i % 2 ? &a : &b, &ip);
	}
	CHECK(a.dense);
	ew_sketch_merge(&a, &b);
	double c = ew_sketch_count(&a);
	CHECK(fabs(c - 20000) / 20000 < 0.2);  /* 3 standard errors at 256 registers */
	uint8_t buf[EW_SKETCH_BYTES_MAX];
	size_t n = ew_sketch_encode(&a, buf, sizeof buf);
	CHECK_EQ_U(n, EW_SKETCH_BYTES_MAX);
	struct ew_sketch d;
	CHECK(ew_sketch_decode(&d, buf, n) == 0);
	CHECK(ew_sketch_count(&d) == c);
	/* 100 sources: the dense estimate stays near, never below the exact limit */
	ew_sketch_init(&a);
	for (int i = 0; i < 100; i++) {
		ip.a[3] = (uint8_t)i;
		ew_sketch_add(&a, &ip);
	}
	CHECK(fabs(ew_sketch_count(&a) - 100) < 25);
}

/* ---- ew-ingest keys through the database ---------------------------------- */

struct stored_row {
	char kind[16], key[EW_SIG_NAME_MAX + 1], nets[256];
	int64_t start;
	uint64_t packets;
	double sources;
};

struct rows {
	struct stored_row r[16];
	size_t n;
};

static int keep_row(const struct db_ew_bin *b, void *ctx)
{
	struct rows *rs = ctx;
	if (rs->n == 16)
		return 0;
	struct stored_row *r = &rs->r[rs->n++];
	snprintf(r->kind, sizeof r->kind, "%s", b->kind);
	snprintf(r->key, sizeof r->key, "%s", b->key);
	snprintf(r->nets, sizeof r->nets, "%s", b->nets ? b->nets : "");
	r->start = b->start;
	r->packets = b->packets;
	struct ew_sketch sk;
	r->sources = ew_sketch_decode(&sk, b->sketch, b->sketch_len) ? -1 : ew_sketch_count(&sk);
	return 0;
}

static const struct stored_row *row_of(const struct rows *rs, const char *kind, const char *key)
{
	for (size_t i = 0; i < rs->n; i++)
		if (!strcmp(rs->r[i].kind, kind) && !strcmp(rs->r[i].key, key))
			return &rs->r[i];
	return NULL;
}

TEST(sig_and_asn_keys_are_stored_and_a_new_sig_is_detected)
{
	char dir[] = "/tmp/test-ew-XXXXXX", path[64];
	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof path, "%s/v.db", dir);
	struct vg_err err = {0};
	struct db *db = NULL;
	struct ew_acc *acc = NULL;
	CHECK_EQ_I(db_open(&db, path, &err), 0);
	CHECK_EQ_I(ew_acc_new(&acc), 0);
	if (!db || !acc)
		goto out;
	const int64_t bin = 300, t1 = 1793620800, th = t1 - 24 * bin;
	/* History: one packet two small days (12 bins each) earlier. */
	struct vg_ip h = {.v = 4, .a = {203, 0, 113, 9}};
	CHECK_EQ_I(ew_acc_packet(acc, th, &h, 6, 22, 0), 0);
	/* The outbreak: 6 sources, 3 packets each, the name passed from two
	 * buffers (the same text at different addresses is one key), and
	 * one packet of another incident. */
	char name_a[] = "Slammer", name_b[] = "Slammer";
	for (int i = 0; i < 6; i++) {
		struct vg_ip src = {.v = 4, .a = {45, 33, 7, (uint8_t)(i + 1)}};
		for (int j = 0; j < 3; j++)
			CHECK_EQ_I(ew_acc_sig(acc, t1, &src, j ? name_b : name_a), 0);
		CHECK_EQ_I(ew_acc_packet_asn(acc, t1, &src, 17, 1434, 'B' << 8 | 'R', 28351), 0);
	}
	struct vg_ip one = {.v = 4, .a = {185, 220, 9, 1}};
	CHECK_EQ_I(ew_acc_sig(acc, t1, &one, "horizontal scan"), 0);
	CHECK_EQ_I(ew_acc_sig(acc, t1, &one, ""), 0);     /* ignored */
	CHECK_EQ_I(ew_acc_sig(acc, t1, &one, NULL), 0);   /* ignored */
	CHECK_EQ_I(db_begin(db, &err), 0);
	CHECK_EQ_I(ew_acc_write(acc, db, 1, &err), 0);
	CHECK_EQ_I(db_commit(db, &err), 0);

	struct rows rs = {0};
	CHECK_EQ_I(db_ew_bins_foreach(db, t1, t1 + bin, keep_row, &rs, &err), 0);
	const struct stored_row *sig = row_of(&rs, "sig", "Slammer");
	CHECK(sig != NULL);
	if (sig) {
		CHECK_EQ_U(sig->packets, 18);
		CHECK(sig->sources == 6);
		CHECK_STREQ(sig->nets, "45.33.0.0/16");
	}
	const struct stored_row *hs = row_of(&rs, "sig", "horizontal scan");
	CHECK(hs != NULL && hs->packets == 1 && hs->sources == 1);
	const struct stored_row *as = row_of(&rs, "asn", "AS28351");
	CHECK(as != NULL && as->packets == 6 && as->sources == 6);
	size_t nsig = 0;
	for (size_t i = 0; i < rs.n; i++)
		nsig += !strcmp(rs.r[i].kind, "sig");
	CHECK_EQ_U(nsig, 2);

	/* The stored series into the detector, as `vigia watch` does. */
	struct ew_params p = small_params();
	int kind = ew_kind_parse(sig ? sig->kind : "");
	CHECK_EQ_I(kind, EW_SIG);
	CHECK_STREQ(ew_kind_name(EW_SIG), "sig");
	CHECK_STREQ(ew_kind_name(EW_ASN), "asn");
	int64_t first, last;
	CHECK_EQ_I(db_ew_span(db, &first, &last, &err), 1);
	CHECK(first == th && last == t1);
	size_t n = (size_t)((t1 - th) / bin) + 1;
	double src[32] = {0}, sens[32] = {0};
	if (sig)
		src[n - 1] = sig->sources;
	sens[n - 1] = 1;
	int64_t seen;
	CHECK_EQ_I(db_ew_last_seen(db, "sig", "Slammer", th - 30 * 86400, t1, &seen, &err), 0);
	struct events e = run_series(&p, src, sens, n, n - 1, kind == EW_PORT || kind == EW_SIG,
				     EW_NEVER, 0);
	CHECK_EQ_I(e.raises, 1);
	CHECK(e.last_raise.conds & EW_C_NEW);
	CHECK(e.last_raise.began == (int64_t)(n - 1));
	CHECK(e.last_raise.sources == 6);

	/* A name longer than EW_SIG_NAME_MAX is cut there. */
	char longname[EW_SIG_NAME_MAX + 50];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	ew_acc_reset(acc);
	CHECK_EQ_I(ew_acc_sig(acc, t1 + bin, &one, longname), 0);
	CHECK_EQ_I(db_begin(db, &err), 0);
	CHECK_EQ_I(ew_acc_write(acc, db, 1, &err), 0);
	CHECK_EQ_I(db_commit(db, &err), 0);
	rs.n = 0;
	CHECK_EQ_I(db_ew_bins_foreach(db, t1 + bin, t1 + 2 * bin, keep_row, &rs, &err), 0);
	CHECK_EQ_U(rs.n, 1);    /* a sig packet feeds the sig key only */
	const struct stored_row *lr = NULL;
	for (size_t i = 0; i < rs.n; i++)
		if (!strcmp(rs.r[i].kind, "sig"))
			lr = &rs.r[i];
	CHECK(lr != NULL && strlen(lr->key) == EW_SIG_NAME_MAX);
out:
	if (err.msg[0])
		fprintf(stderr, "%s\n", err.msg);
	ew_acc_free(acc);
	db_close(db);
	unlink(path);
	char side[80];
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
	rmdir(dir);
}

int main(void)
{
	RUN(baseline_is_median_and_mad_of_the_same_bin_on_previous_days);
	RUN(baseline_sigma_has_a_poisson_floor_on_flat_series);
	RUN(cusum_caps_each_bin_and_decays_to_zero);
	RUN(one_bin_spike_does_not_alert);
	RUN(sustained_rise_alerts_on_its_second_bin_with_factor);
	RUN(growth_needs_enough_previous_days);
	RUN(rise_on_many_sensors_is_spread);
	RUN(new_key_alerts_once_with_the_start_of_its_activity);
	RUN(key_seen_within_new_days_is_not_new);
	RUN(key_is_not_new_without_a_day_of_history);
	RUN(new_key_under_k_sources_does_not_alert);
	RUN(alert_is_raised_once_while_it_holds_and_its_end_reported);
	RUN(stored_active_alert_is_not_raised_again);
	RUN(conds_text_round_trips);
	RUN(sketch_is_exact_while_small_and_merges);
	RUN(sketch_estimates_large_counts_within_a_few_percent);
	RUN(sig_and_asn_keys_are_stored_and_a_new_sig_is_detected);
	return check_summary();
}
