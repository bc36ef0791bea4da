/* test-ew.c: early warning (ew-sketch, ew-detect) on small hand-built
 * series with known answers. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "ew-detect.h"
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
	return check_summary();
}
