/* stats-agg.h: packets and bytes per key per time bin, one streaming pass.
 *
 * Every category has a dense key space of at most 65536 keys (a port, a
 * packed country code, an OS label id), so counting a packet is two array
 * additions.  Only the current bin is held densely; when time moves to
 * another bin the touched keys are appended to per-key series (sparse:
 * a key costs memory only in bins where it was seen).  Out-of-order bins
 * (files given out of time order) are allowed and merged at the end.
 */
#ifndef VIGIA_STATS_AGG_H
#define VIGIA_STATS_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATS_MAX_KEYS 65536u

struct stats_counts {
	uint64_t packets;
	uint64_t bytes;
};

struct stats_cat;

/* One category: `nkeys` possible keys (<= STATS_MAX_KEYS). */
struct stats_cat *stats_cat_new(unsigned nkeys);
void stats_cat_free(struct stats_cat *c);

/* Count one packet of `bytes` for `key` in absolute bin number `bin`
 * (seconds since the epoch / bin width). */
void stats_cat_add(struct stats_cat *c, int64_t bin, unsigned key, uint64_t bytes);

/* Close the current bin and merge series; call once before reading. */
int stats_cat_finish(struct stats_cat *c);

/* Whole-period totals of a key, and of the category. */
struct stats_counts stats_cat_total(const struct stats_cat *c, unsigned key);
struct stats_counts stats_cat_grand_total(const struct stats_cat *c);
/* First and last bin with any packet; false if the category is empty. */
bool stats_cat_bin_range(const struct stats_cat *c, int64_t *first, int64_t *last);

enum stats_measure { STATS_PACKETS = 0, STATS_BYTES = 1 };

/* Keys accepted by a filter (NULL = all). */
typedef bool (*stats_key_filter)(unsigned key, void *ctx);

/* The top `n` keys by the whole period's total of `m`, among those the
 * filter accepts, largest first; ties broken by the smaller key.  Returns
 * how many were written to keys[] (fewer when fewer keys were seen). */
size_t stats_cat_top(const struct stats_cat *c, enum stats_measure m, size_t n,
		     stats_key_filter filt, void *ctx, unsigned *keys);

/* Per-bin values of `m` for a key over bins first..first+nbins-1. */
void stats_cat_series(const struct stats_cat *c, unsigned key, enum stats_measure m,
		      int64_t first, size_t nbins, uint64_t *out);
/* Per-bin totals over all keys the filter accepts (NULL = all). */
void stats_cat_series_total(const struct stats_cat *c, enum stats_measure m,
			    stats_key_filter filt, void *ctx,
			    int64_t first, size_t nbins, uint64_t *out);
/* Sum of totals of the keys the filter accepts. */
struct stats_counts stats_cat_filtered_total(const struct stats_cat *c,
					     stats_key_filter filt, void *ctx);

/* Visit every (bin, key) with packets, key by key, bins in order; stops
 * early with cb's value when it returns non-zero.  After finish only.
 * (Added for `vigia ingest`, which stores the bins.) */
typedef int (*stats_bin_cb)(int64_t bin, unsigned key, struct stats_counts v, void *ctx);
int stats_cat_foreach(const struct stats_cat *c, stats_bin_cb cb, void *ctx);

/* Memory held, for the benchmark's accounting. */
size_t stats_cat_memory(const struct stats_cat *c);

#endif
