/* ew-detect.c: baseline, CUSUM, conditions and alert state (ew-detect.h). */
#include "ew-detect.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_names[EW_NKINDS] = {"port", "sig", "country", "net", "asn"};

const char *ew_kind_name(enum ew_kind k)
{
	return (unsigned)k < EW_NKINDS ? kind_names[k] : "?";
}

int ew_kind_parse(const char *name)
{
	for (int i = 0; i < EW_NKINDS; i++)
		if (!strcmp(name, kind_names[i]))
			return i;
	if (!strcmp(name, "signature"))
		return EW_SIG;
	return -1;
}

void ew_conds_text(unsigned conds, char *buf, size_t len)
{
	static const char *const names[] = {"new", "growth", "spread"};
	size_t w = 0;
	if (len)
		buf[0] = 0;
	for (unsigned i = 0; i < 3; i++) {
		if (!(conds & (1u << i)))
			continue;
		int r = snprintf(buf + w, len > w ? len - w : 0, "%s%s", w ? "," : "", names[i]);
		if (r > 0)
			w += (size_t)r;
	}
}

unsigned ew_conds_parse(const char *text)
{
	unsigned c = 0;
	if (strstr(text, "new"))
		c |= EW_C_NEW;
	if (strstr(text, "growth"))
		c |= EW_C_GROWTH;
	if (strstr(text, "spread"))
		c |= EW_C_SPREAD;
	return c;
}

void ew_params_default(struct ew_params *p, unsigned bin_seconds)
{
	if (!bin_seconds)
		bin_seconds = 300;
	unsigned per_hour = 3600 / bin_seconds ? 3600 / bin_seconds : 1;
	*p = (struct ew_params){
		.bins_per_day = 86400 / bin_seconds ? 86400 / bin_seconds : 1,
		.base_days = 7,
		.min_base_days = 3,
		.halfwin = per_hour / 2,
		.k = 2.5,
		.h = 2.9,
		.zcap = 4.0,
		.min_factor = 2.0,
		.min_sources = 5,
		.min_excess = 20,
		.new_days = 30,
		.new_grace = 86400 / bin_seconds ? 86400 / bin_seconds : 1,
		.quiet = per_hour,
		.spread_sensors = 3,
		.warm = 6 * per_hour,
	};
}

/* Hoare's selection: the k-th smallest of v[0..n), reordering v.  The
 * baseline needs two medians per bin and key; sorting would do, but watch
 * runs this for every bin of every busy key. */
static double select_kth(double *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;
	while (lo < hi) {
		double pivot = v[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				double t = v[i];
				v[i] = v[j];
				v[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

static double median_of(double *v, size_t n)
{
	if (n % 2)
		return select_kth(v, n, n / 2);
	double a = select_kth(v, n, n / 2 - 1);
	double b = select_kth(v, n, n / 2);
	return (a + b) / 2;
}

void ew_baseline(const double *x, size_t n, size_t t, const struct ew_params *p,
		 struct ew_base *b)
{
	double v[EW_BASE_SAMPLES_MAX];
	memset(b, 0, sizeof *b);
	size_t m = 0;
	for (unsigned d = 1; d <= p->base_days; d++) {
		int64_t c = (int64_t)t - (int64_t)d * p->bins_per_day;
		bool got = false;
		for (int64_t j = -(int64_t)p->halfwin; j <= (int64_t)p->halfwin; j++) {
			int64_t i = c + j;
			if (i < 0 || i >= (int64_t)n || m == EW_BASE_SAMPLES_MAX)
				continue;
			v[m++] = x[i];
			got = true;
		}
		b->days += got;
	}
	b->n = m;
	if (!m) {
		b->sigma = 1;
		return;
	}
	b->median = median_of(v, m);
	for (size_t i = 0; i < m; i++)
		v[i] = fabs(v[i] - b->median);
	b->mad = median_of(v, m);
	double floor_ = sqrt(b->median + 1);
	b->sigma = 1.4826 * b->mad > floor_ ? 1.4826 * b->mad : floor_;
}

double ew_cusum_step(double s, double z, const struct ew_params *p)
{
	if (z > p->zcap)
		z = p->zcap;
	s += z - p->k;
	return s > 0 ? s : 0;
}

bool ew_worth_running(const struct ew_params *p, const struct ew_series *s, size_t from,
		      const struct ew_alert *a)
{
	if (a->active)
		return true;
	size_t start = from > p->warm ? from - p->warm : 0;
	for (size_t t = start; t < s->n; t++)
		if (s->src[t] >= p->min_sources)
			return true;
	return false;
}

/* NEW at t: returns the index where the activity began, or -1. */
static int64_t new_at(const struct ew_params *p, const struct ew_series *s, size_t t)
{
	int64_t ti = (int64_t)t;
	int64_t edge = ti - (int64_t)p->new_grace;      /* activity before this is old */
	int64_t horizon = ti - (int64_t)p->new_days * p->bins_per_day;
	if (s->data_start >= edge)
		return -1;                      /* no history to call it new against */
	int64_t last = EW_NEVER;
	for (int64_t i = edge - 1; i >= 0 && i >= horizon; i--)
		if (s->src[i] > 0) {
			last = i;
			break;
		}
	if (last == EW_NEVER && s->prev_seen != EW_NEVER && s->prev_seen < edge)
		last = s->prev_seen;
	if (last != EW_NEVER && last >= horizon)
		return -1;
	int64_t began = ti;
	for (int64_t i = ti - 1; i >= 0 && i >= edge; i--)
		if (s->src[i] > 0)
			began = i;
	return began;
}

int ew_run(const struct ew_params *p, const struct ew_series *s, size_t from,
	   struct ew_alert *a, ew_event_cb cb, void *ctx)
{
	size_t start = from > p->warm ? from - p->warm : 0;
	double s_src = 0, s_sens = 0;
	int64_t rise_src = -1, rise_sens = -1;
	unsigned recent_k = 0;      /* bins since the last with >= min_sources */
	for (size_t t = start; t < s->n; t++) {
		/* Bins before the database's first are unknown, not zero. */
		size_t ds = s->data_start > 0 ? (size_t)s->data_start : 0;
		struct ew_base bs = {0}, bn = {0};
		if (t >= ds) {
			ew_baseline(s->src + ds, s->n - ds, t - ds, p, &bs);
			ew_baseline(s->sens + ds, s->n - ds, t - ds, p, &bn);
		}
		double x = s->src[t];
		bool based = bs.days >= p->min_base_days;
		double zs = based ? (x - bs.median) / bs.sigma : 0;
		double zn = based ? (s->sens[t] - bn.median) / bn.sigma : 0;
		double was = s_src, wasn = s_sens;
		s_src = ew_cusum_step(s_src, zs, p);
		s_sens = ew_cusum_step(s_sens, zn, p);
		if (was == 0 && s_src > 0)
			rise_src = (int64_t)t;
		if (wasn == 0 && s_sens > 0)
			rise_sens = (int64_t)t;
		recent_k = x >= p->min_sources ? 0 : recent_k + 1;
		if (t < from)
			continue;

		unsigned trig = 0, hold = 0;
		int64_t began = (int64_t)t;
		bool enough = x >= p->min_sources && x >= p->min_factor * bs.median &&
			      x - bs.median >= p->min_excess;
		if (based && s_src > p->h && enough) {
			trig |= EW_C_GROWTH;
			began = rise_src;
		}
		double nmin = p->min_factor * bn.median;
		if (nmin < p->spread_sensors)
			nmin = p->spread_sensors;
		if (based && s_sens > p->h && s->sens[t] >= nmin && enough && s_src > 0) {
			if (!trig)
				began = rise_sens < rise_src || rise_src < 0 ? rise_sens : rise_src;
			trig |= EW_C_SPREAD;
		}
		if (s->new_capable && x >= p->min_sources && !a->active) {
			int64_t b = new_at(p, s, t);
			if (b >= 0) {
				trig |= EW_C_NEW;
				began = b;
			}
		}
		if (s_src > 0)
			hold |= EW_C_GROWTH;
		if (s_sens > 0)
			hold |= EW_C_SPREAD;
		if (recent_k == 0)
			hold |= EW_C_NEW;

		if (!a->active) {
			if (!trig)
				continue;
			*a = (struct ew_alert){
				.active = true,
				.conds = trig,
				.began = began,
				.raised = (int64_t)t,
				.sources = x,
				.packets = s->pkt ? s->pkt[t] : 0,
				.sensors = s->sens[t],
				.baseline = bs.median,
				.factor = x / (bs.median > 1 ? bs.median : 1),
				.peak_sources = x,
			};
			int r = cb(EW_EV_RAISE, a, t, ctx);
			if (r)
				return r;
			continue;
		}
		a->conds |= trig;
		if (x > a->peak_sources)
			a->peak_sources = x;
		if (trig || (hold & a->conds)) {
			a->calm = 0;
			continue;
		}
		if (++a->calm < p->quiet)
			continue;
		a->active = false;
		int r = cb(EW_EV_END, a, t, ctx);
		if (r)
			return r;
	}
	return 0;
}
