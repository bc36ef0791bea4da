/* bench-geo-load: time loading a set of RIR delegation files and the
 * lookup rate over the resulting tables.
 *
 *   vigia-bench-geo [-n ROUNDS] FILE...
 *
 * Each round builds a fresh database from all FILEs and finalizes it;
 * the best and mean round are printed, then IPv4 lookups/s over random
 * addresses (half uniform over the space, half inside delegated space
 * found by probing) and IPv6 lookups/s over random addresses in 2000::/3.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "geo-rir.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: reproducible and cheap, so the generator does not
 * dominate the timed loop. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1du;
}

static struct geo_db *load_all(char **files, int nfiles)
{
	struct vg_err err;
	vg_err_clear(&err);
	struct geo_db *db = geo_db_new();
	if (!db) {
		fprintf(stderr, "vigia-bench-geo: out of memory\n");
		return NULL;
	}
	for (int i = 0; i < nfiles; i++) {
		if (geo_db_load_file(db, files[i], &err) < 0) {
			fprintf(stderr, "vigia-bench-geo: %s\n", err.msg);
			geo_db_free(db);
			return NULL;
		}
	}
	if (geo_db_finalize(db, &err) < 0) {
		fprintf(stderr, "vigia-bench-geo: %s\n", err.msg);
		geo_db_free(db);
		return NULL;
	}
	return db;
}

int main(int argc, char **argv)
{
	int rounds = 10, first = 1;
	if (argc > 2 && !strcmp(argv[1], "-n")) {
		rounds = atoi(argv[2]);
		first = 3;
	}
	if (first >= argc || rounds < 1) {
		fprintf(stderr, "usage: vigia-bench-geo [-n ROUNDS] FILE...\n");
		return 2;
	}
	char **files = argv + first;
	int nfiles = argc - first;

	double best = 1e9, total = 0;
	struct geo_db *db = NULL;
	for (int r = 0; r < rounds; r++) {
		geo_db_free(db);
		double t0 = now_s();
		db = load_all(files, nfiles);
		double dt = now_s() - t0;
		if (!db)
			return 1;
		total += dt;
		if (dt < best)
			best = dt;
	}
	printf("files: %d  rounds: %d  ipv4 ranges: %zu  ipv6 ranges: %zu\n",
	       nfiles, rounds, geo_db_count4(db), geo_db_count6(db));
	printf("load+finalize: best %.1f ms, mean %.1f ms\n", best * 1e3,
	       total / rounds * 1e3);

	enum { NADDR = 1 << 20, PASSES = 8 };
	uint32_t *a4 = malloc(NADDR * sizeof *a4);
	uint8_t (*a6)[16] = malloc(NADDR * sizeof *a6);
	if (!a4 || !a6) {
		fprintf(stderr, "vigia-bench-geo: out of memory\n");
		return 1;
	}
	size_t known = 0;
	for (size_t i = 0; i < NADDR; i++) {
		uint32_t a = (uint32_t)rnd();
		if (i & 1) /* bias half the set towards delegated space */
			for (int t = 0; t < 16 && geo_lookup4(db, a) == GEO_UNKNOWN; t++)
				a = (uint32_t)rnd();
		a4[i] = a;
		uint64_t h = rnd(), l = rnd();
		h = (h & ~(UINT64_C(7) << 61)) | (UINT64_C(1) << 61); /* 2000::/3 */
		h = (h & ~(UINT64_C(0xffff) << 32)) | ((rnd() & 0x3ff) << 32);
		for (int b = 0; b < 8; b++) {
			a6[i][b] = (uint8_t)(h >> (56 - 8 * b));
			a6[i][8 + b] = (uint8_t)(l >> (56 - 8 * b));
		}
	}

	uint64_t sink = 0;
	double t0 = now_s();
	for (int p = 0; p < PASSES; p++)
		for (size_t i = 0; i < NADDR; i++) {
			uint16_t cc = geo_lookup4(db, a4[i]);
			sink += cc;
			known += cc != GEO_UNKNOWN;
		}
	double dt4 = now_s() - t0;
	t0 = now_s();
	for (int p = 0; p < PASSES; p++)
		for (size_t i = 0; i < NADDR; i++)
			sink += geo_lookup6(db, a6[i]);
	double dt6 = now_s() - t0;

	double n = (double)NADDR * PASSES;
	printf("ipv4 lookups: %.1f M/s (%.0f%% known)\n", n / dt4 / 1e6,
	       100.0 * (double)known / n);
	printf("ipv6 lookups: %.1f M/s\n", n / dt6 / 1e6);
	printf("(checksum %" PRIu64 ")\n", sink);
	free(a4);
	free(a6);
	geo_db_free(db);
	return 0;
}
