#include "stats-agg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct bin_entry {
	int64_t bin;
	uint64_t packets;
	uint64_t bytes;
};

struct series {
	struct bin_entry *v;
	uint32_t n, cap;
};

struct stats_cat {
	unsigned nkeys;
	bool have_cur;
	bool finished;
	int err;
	int64_t cur_bin;
	struct stats_counts *cur;       /* [nkeys], current bin only */
	unsigned *touched;              /* keys with cur[k].packets > 0 */
	size_t ntouched;
	struct stats_counts *tot;       /* [nkeys], whole period */
	struct series *ser;             /* [nkeys] */
	struct series total;            /* category total per bin */
	struct stats_counts cur_total;
};

struct stats_cat *stats_cat_new(unsigned nkeys)
{
	if (nkeys == 0 || nkeys > STATS_MAX_KEYS)
		return NULL;
	struct stats_cat *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->nkeys = nkeys;
	c->cur = calloc(nkeys, sizeof *c->cur);
	c->touched = calloc(nkeys, sizeof *c->touched);
	c->tot = calloc(nkeys, sizeof *c->tot);
	c->ser = calloc(nkeys, sizeof *c->ser);
	if (!c->cur || !c->touched || !c->tot || !c->ser) {
		stats_cat_free(c);
		return NULL;
	}
	return c;
}

void stats_cat_free(struct stats_cat *c)
{
	if (!c)
		return;
	if (c->ser)
		for (unsigned k = 0; k < c->nkeys; k++)
			free(c->ser[k].v);
	free(c->total.v);
	free(c->cur);
	free(c->touched);
	free(c->tot);
	free(c->ser);
	free(c);
}

static int series_append(struct series *s, int64_t bin, struct stats_counts v)
{
	/* The same bin twice in a row happens when input returns to a bin;
	 * merge here so sorted input never needs the final sort. */
	if (s->n && s->v[s->n - 1].bin == bin) {
		s->v[s->n - 1].packets += v.packets;
		s->v[s->n - 1].bytes += v.bytes;
		return 0;
	}
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 4;
		struct bin_entry *nv = realloc(s->v, (size_t)cap * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = (struct bin_entry){bin, v.packets, v.bytes};
	return 0;
}

static void flush_bin(struct stats_cat *c)
{
	for (size_t i = 0; i < c->ntouched; i++) {
		unsigned k = c->touched[i];
		struct stats_counts v = c->cur[k];
		c->tot[k].packets += v.packets;
		c->tot[k].bytes += v.bytes;
		if (series_append(&c->ser[k], c->cur_bin, v) && !c->err)
			c->err = -ENOMEM;
		c->cur[k] = (struct stats_counts){0, 0};
	}
	if (c->ntouched && series_append(&c->total, c->cur_bin, c->cur_total) && !c->err)
		c->err = -ENOMEM;
	c->ntouched = 0;
	c->cur_total = (struct stats_counts){0, 0};
}

void stats_cat_add(struct stats_cat *c, int64_t bin, unsigned key, uint64_t bytes)
{
	if (key >= c->nkeys)
		return;
	if (__builtin_expect(!c->have_cur || bin != c->cur_bin, 0)) {
		if (c->have_cur)
			flush_bin(c);
		c->cur_bin = bin;
		c->have_cur = true;
	}
	struct stats_counts *k = &c->cur[key];
	if (!k->packets)
		c->touched[c->ntouched++] = key;
	k->packets++;
	k->bytes += bytes;
	c->cur_total.packets++;
	c->cur_total.bytes += bytes;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct bin_entry *x = a, *y = b;
	return (x->bin > y->bin) - (x->bin < y->bin);
}

/* Series are sorted unless the input went back in time; fix those. */
static void normalise(struct series *s)
{
	bool sorted = true;
	for (uint32_t i = 1; i < s->n && sorted; i++)
		sorted = s->v[i - 1].bin < s->v[i].bin;
	if (sorted)
		return;
	qsort(s->v, s->n, sizeof *s->v, cmp_entry);
	uint32_t w = 0;
	for (uint32_t i = 0; i < s->n; i++) {
		if (w && s->v[w - 1].bin == s->v[i].bin) {
			s->v[w - 1].packets += s->v[i].packets;
			s->v[w - 1].bytes += s->v[i].bytes;
		} else {
			s->v[w++] = s->v[i];
		}
	}
	s->n = w;
}

int stats_cat_finish(struct stats_cat *c)
{
	if (c->finished)
		return c->err;
	if (c->have_cur)
		flush_bin(c);
	c->have_cur = false;
	for (unsigned k = 0; k < c->nkeys; k++)
		if (c->ser[k].n > 1)
			normalise(&c->ser[k]);
	normalise(&c->total);
	c->finished = true;
	return c->err;
}

struct stats_counts stats_cat_total(const struct stats_cat *c, unsigned key)
{
	if (key >= c->nkeys)
		return (struct stats_counts){0, 0};
	return c->tot[key];
}

struct stats_counts stats_cat_grand_total(const struct stats_cat *c)
{
	struct stats_counts t = {0, 0};
	for (uint32_t i = 0; i < c->total.n; i++) {
		t.packets += c->total.v[i].packets;
		t.bytes += c->total.v[i].bytes;
	}
	return t;
}

bool stats_cat_bin_range(const struct stats_cat *c, int64_t *first, int64_t *last)
{
	if (!c->total.n)
		return false;
	*first = c->total.v[0].bin;
	*last = c->total.v[c->total.n - 1].bin;
	return true;
}

struct top_item {
	uint64_t v;
	unsigned key;
};

static int cmp_top(const void *a, const void *b)
{
	const struct top_item *x = a, *y = b;
	if (x->v != y->v)
		return x->v < y->v ? 1 : -1;
	return (x->key > y->key) - (x->key < y->key);
}

size_t stats_cat_top(const struct stats_cat *c, enum stats_measure m, size_t n,
		     stats_key_filter filt, void *ctx, unsigned *keys)
{
	struct top_item *items = malloc(c->nkeys * sizeof *items);
	if (!items)
		return 0;
	size_t ni = 0;
	for (unsigned k = 0; k < c->nkeys; k++) {
		if (!c->tot[k].packets || (filt && !filt(k, ctx)))
			continue;
		items[ni].v = m == STATS_BYTES ? c->tot[k].bytes : c->tot[k].packets;
		items[ni].key = k;
		ni++;
	}
	qsort(items, ni, sizeof *items, cmp_top);
	if (n > ni)
		n = ni;
	for (size_t i = 0; i < n; i++)
		keys[i] = items[i].key;
	free(items);
	return n;
}

static void add_series(const struct series *s, enum stats_measure m,
		       int64_t first, size_t nbins, uint64_t *out)
{
	for (uint32_t i = 0; i < s->n; i++) {
		int64_t rel = s->v[i].bin - first;
		if (rel < 0 || (uint64_t)rel >= nbins)
			continue;
		out[rel] += m == STATS_BYTES ? s->v[i].bytes : s->v[i].packets;
	}
}

void stats_cat_series(const struct stats_cat *c, unsigned key, enum stats_measure m,
		      int64_t first, size_t nbins, uint64_t *out)
{
	memset(out, 0, nbins * sizeof *out);
	if (key < c->nkeys)
		add_series(&c->ser[key], m, first, nbins, out);
}

void stats_cat_series_total(const struct stats_cat *c, enum stats_measure m,
			    stats_key_filter filt, void *ctx,
			    int64_t first, size_t nbins, uint64_t *out)
{
	memset(out, 0, nbins * sizeof *out);
	if (!filt) {
		add_series(&c->total, m, first, nbins, out);
		return;
	}
	for (unsigned k = 0; k < c->nkeys; k++)
		if (c->tot[k].packets && filt(k, ctx))
			add_series(&c->ser[k], m, first, nbins, out);
}

struct stats_counts stats_cat_filtered_total(const struct stats_cat *c,
					     stats_key_filter filt, void *ctx)
{
	struct stats_counts t = {0, 0};
	for (unsigned k = 0; k < c->nkeys; k++) {
		if (!c->tot[k].packets || (filt && !filt(k, ctx)))
			continue;
		t.packets += c->tot[k].packets;
		t.bytes += c->tot[k].bytes;
	}
	return t;
}

int stats_cat_foreach(const struct stats_cat *c, stats_bin_cb cb, void *ctx)
{
	for (unsigned k = 0; k < c->nkeys; k++) {
		if (!c->tot[k].packets)
			continue;
		const struct series *s = &c->ser[k];
		for (uint32_t i = 0; i < s->n; i++) {
			struct stats_counts v = {s->v[i].packets, s->v[i].bytes};
			int r = cb(s->v[i].bin, k, v, ctx);
			if (r)
				return r;
		}
	}
	return 0;
}

size_t stats_cat_memory(const struct stats_cat *c)
{
	size_t m = sizeof *c + c->nkeys * (2 * sizeof *c->cur + sizeof *c->touched + sizeof *c->ser);
	for (unsigned k = 0; k < c->nkeys; k++)
		m += (size_t)c->ser[k].cap * sizeof(struct bin_entry);
	m += (size_t)c->total.cap * sizeof(struct bin_entry);
	return m;
}
