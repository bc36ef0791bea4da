/* ew-detect.h: the early-warning detector, on one key's per-bin series.
 *
 * Pure computation, no database: `vigia watch` (cmd-watch.c) reads the
 * series from the database and stores the alert state; the evaluation
 * harness (bench/ew-eval.c) and the unit tests feed series directly.
 *
 * Per bin t of a key:
 *  - baseline: median and MAD of the same time of day (± halfwin bins) on
 *    the previous base_days days; sigma = max(1.4826 MAD, sqrt(median+1)),
 *    the second term a Poisson floor for quiet keys;
 *  - z = (x - median) / sigma, capped at zcap so that one bin alone never
 *    crosses the CUSUM threshold (a single spike does not alert);
 *  - CUSUM S = max(0, S + min(z, zcap) - k); a rise when S > h.
 * Conditions (docs/early-warning.md):
 *  - NEW: a key never seen in the new_days days before its activity began
 *    (the activity may have begun up to new_grace bins ago), now with at
 *    least min_sources distinct sources in one bin;
 *  - GROWTH: sources' CUSUM above h, sources >= min_sources,
 *    >= min_factor x the baseline median and >= median + min_excess (a
 *    rise from 1 to 5 sources is Poisson noise on a quiet port);
 *  - SPREAD: the sensors-reporting CUSUM above h, at least spread_sensors
 *    sensors and min_factor x their baseline median, the sources as many
 *    as growth needs, and the sources' CUSUM above zero (rising too).
 * One alert per key at a time: raised by the first condition, ended when
 * none has held for `quiet` bins in a row. */
#ifndef VIGIA_EW_DETECT_H
#define VIGIA_EW_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ew_kind { EW_PORT = 0, EW_SIG, EW_COUNTRY, EW_NET, EW_ASN, EW_NKINDS };
/* "port" (key "1434/udp"), "sig" (signature or incident name: "Slammer"),
 * "country" ("BR"), "net" ("192.0.0.0/16"), "asn" (the source's holder's
 * AS in the RIR extended files: "AS28573") */
const char *ew_kind_name(enum ew_kind k);
/* -1 when unknown; "signature" (the name before "sig") is read as EW_SIG. */
int ew_kind_parse(const char *name);

enum { EW_C_NEW = 1, EW_C_GROWTH = 2, EW_C_SPREAD = 4 };
/* "new", "growth", "spread" joined by ',' into buf. */
void ew_conds_text(unsigned conds, char *buf, size_t len);
unsigned ew_conds_parse(const char *text);

struct ew_params {
	unsigned bins_per_day;      /* 86400 / bin width */
	unsigned base_days;         /* previous days in the baseline (7) */
	unsigned min_base_days;     /* growth and spread need this many (3) */
	unsigned halfwin;           /* same time of day: +- bins (6 = +-30 min) */
	double k, h, zcap;          /* CUSUM allowance, threshold, per-bin cap */
	double min_factor;          /* growth: x >= min_factor * median */
	unsigned min_sources;       /* K (5) */
	double min_excess;          /* growth, spread: x - median >= this (20) */
	unsigned new_days;          /* N (30) */
	unsigned new_grace;         /* bins (288 = 1 day) */
	unsigned quiet;             /* bins without any condition before the end (12) */
	unsigned spread_sensors;    /* (3) */
	unsigned warm;              /* bins of CUSUM warm-up before the first evaluated (72) */
};
/* The defaults above, for bins of bin_seconds. */
void ew_params_default(struct ew_params *p, unsigned bin_seconds);

#define EW_BASE_SAMPLES_MAX 4096
struct ew_base {
	double median, mad, sigma;
	unsigned days;              /* previous days that gave a sample */
	size_t n;                   /* samples */
};
/* Baseline of x[t] from x[0..n): days counts the days with a sample. */
void ew_baseline(const double *x, size_t n, size_t t, const struct ew_params *p,
		 struct ew_base *b);
/* One CUSUM step. */
double ew_cusum_step(double s, double z, const struct ew_params *p);

/* No activity known: prev_seen. */
#define EW_NEVER INT64_MIN

struct ew_series {
	size_t n;                   /* bins; index 0 is the first loaded */
	const double *src, *pkt, *sens;
	/* Index (< 0: before the loaded range) of the key's last active bin
	 * before index 0, EW_NEVER when none in the database. */
	int64_t prev_seen;
	/* Index (<= 0) of the database's first bin of any key: a key is new
	 * only against history that exists. */
	int64_t data_start;
	bool new_capable;           /* ports and signatures */
};

/* A key's alert, as stored between runs. */
struct ew_alert {
	bool active;
	unsigned conds;             /* every condition met while active */
	int64_t began;              /* index of the bin where the rise began */
	int64_t raised;             /* index of the bin that raised it */
	unsigned calm;              /* bins in a row without any condition */
	double sources, packets, sensors;   /* at the raising bin */
	double baseline, factor;    /* sources' baseline median; sources / max(median, 1) */
	double peak_sources;        /* while active */
};

enum ew_event_type { EW_EV_RAISE = 1, EW_EV_END = 2 };
/* t: the bin index of the event.  Non-zero stops ew_run. */
typedef int (*ew_event_cb)(enum ew_event_type ev, const struct ew_alert *a, size_t t,
			   void *ctx);

/* Runs the detector over s from max(0, from - warm) (CUSUM warm-up) and
 * applies the alert transitions to *a for t >= from, calling cb on each
 * raise and end.  Returns 0, cb's non-zero value, or -ENOMEM. */
int ew_run(const struct ew_params *p, const struct ew_series *s, size_t from,
	   struct ew_alert *a, ew_event_cb cb, void *ctx);

/* Whether ew_run could do anything for a key: some bin at or after
 * from - warm with min_sources, or an alert active.  Lets watch skip the
 * thousands of ports hit once. */
bool ew_worth_running(const struct ew_params *p, const struct ew_series *s, size_t from,
		      const struct ew_alert *a);

#endif
