/* bench-stack-syn.c: SYNs per second through the responder alone.
 *
 *   [P0F_DB=/etc/p0f/p0f.fp] vigia-bench-stack-syn CONF FILE.pcap [NETWORK...]
 *
 * Loads every frame of FILE into memory first, then times stack_input on
 * them on one core (no file I/O, no logs: the responder's own cost: decode,
 * template lookup, SYN cookie, prebuilt SYN-ACK, checksums).  Prints
 * frames per CPU-second, replies sent, and the process's peak RSS. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cap-reader.h"
#include "fp.h"
#include "sc-config.h"
#include "stack.h"

static uint64_t replies, reply_bytes;

static void emit(void *ctx, uint64_t ts, const uint8_t *f, uint32_t len)
{
	(void)ctx;
	(void)ts;
	replies++;
	reply_bytes += len;
	(void)f;
}

static double now_s(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: vigia-bench-stack-syn CONF FILE.pcap [NETWORK...]\n");
		return 2;
	}
	struct vg_err e = { 0 };
	struct sc_config *cfg;
	if (sc_config_load(&cfg, argv[1], &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	for (int i = 3; i < argc; i++)
		if (sc_config_claim(cfg, argv[i], &e) < 0) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
	struct cap_reader *r;
	if (cap_open(&r, argv[2], &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	size_t cap = 1 << 20, used = 0, n = 0, ncap = 1 << 16;
	uint8_t *buf = malloc(cap);
	uint32_t *len = malloc(ncap * sizeof *len);
	uint64_t *ts = malloc(ncap * sizeof *ts);
	struct cap_packet pk;
	while (buf && len && ts && cap_next(r, &pk, &e) == 1) {
		if (used + pk.caplen > cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		if (n == ncap) {
			ncap *= 2;
			len = realloc(len, ncap * sizeof *len);
			ts = realloc(ts, ncap * sizeof *ts);
		}
		if (!buf || !len || !ts)
			break;
		memcpy(buf + used, pk.data, pk.caplen);
		used += pk.caplen;
		len[n] = pk.caplen;
		ts[n] = pk.ts_ns;
		n++;
	}
	int lt = cap_linktype(r);
	cap_close(r);
	if (!buf || !len || !ts) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	struct stack_opts o;
	memset(&o, 0, sizeof o);
	o.cfg = cfg;
	o.seed = 1;
	o.verify_checksums = true;
	o.emit = emit;
	/* P0F_DB=FILE adds the [OS] fingerprinting of every SYN. */
	struct fp_db *fp = NULL;
	if (getenv("P0F_DB") && fp_db_load(&fp, getenv("P0F_DB"), &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	o.fp = fp;
	struct stack *s;
	if (stack_new(&s, &o, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		stack_input(s, lt, ts[i], buf + off, len[i], len[i]);
		off += len[i];
	}
	double dt = now_s(CLOCK_MONOTONIC) - t0, ct = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	/* CPU time is the figure: wall time includes whatever else runs. */
	printf("frames %zu, replies %llu, %.3f s CPU (%.3f s wall), %.0f frames/s per core, "
	       "%.0f ns/frame, peak RSS %.1f MiB (frames held in memory: %.1f MiB)\n",
	       n, (unsigned long long)replies, ct, dt, (double)n / ct, ct * 1e9 / (double)n,
	       (double)ru.ru_maxrss / 1024.0, (double)used / 1048576.0);
	stack_free(s);
	fp_db_free(fp);
	sc_config_free(cfg);
	free(buf);
	free(len);
	free(ts);
	return 0;
}
