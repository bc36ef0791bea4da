/* cmd-fingerprint.c: `vigia fingerprint`, the p0f-compatible OS label of
 * every TCP SYN and SYN+ACK in captures, one line each:
 *
 *   TIME SRC/SPORT -> DST/DPORT syn|synack LABEL (exact|generic|fuzzy) dist=N raw_sig=SIG
 *
 * LABEL is what p0f logs as os= (or app=); "??? (none)" when nothing
 * matched.  Unlike p0f, every SYN is reported: p0f skips retransmitted
 * SYNs of a flow it tracks and SYN+ACKs it cannot pair with a SYN.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cap-reader.h"
#include "commands.h"
#include "fp.h"
#include "proto-decode.h"
#include "util-json.h"

#define MAX_PACKET_ERRORS_SHOWN 10

/* p0f divides a SYN+ACK's window by the MSS of the flow's SYN too, so the
 * SYN's MSS is remembered per flow.  A fixed direct-mapped table keeps the
 * memory bounded on captures with millions of SYNs; a collision forgets an
 * older flow, which only costs that rare divisor. */
#define SYN_TABLE_BITS 16

struct syn_slot {
	uint8_t key[37];   /* ver, src, dst, sport, dport */
	bool used;
	uint16_t mss;
};

struct syn_table {
	struct syn_slot *slot;
};

static void flow_key(uint8_t key[37], const struct vg_ip *a, const struct vg_ip *b,
		     uint16_t pa, uint16_t pb)
{
	memset(key, 0, 37);
	key[0] = a->v;
	memcpy(key + 1, a->a, 16);
	memcpy(key + 17, b->a, 16);
	key[33] = (uint8_t)(pa >> 8);
	key[34] = (uint8_t)pa;
	key[35] = (uint8_t)(pb >> 8);
	key[36] = (uint8_t)pb;
}

static uint32_t key_hash(const uint8_t key[37])
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 37; i++) {
		h ^= key[i];
		h *= 16777619u;
	}
	return h >> (32 - SYN_TABLE_BITS);
}

static void syn_remember(struct syn_table *t, const struct vg_pkt *p, uint16_t mss)
{
	uint8_t key[37];
	flow_key(key, &p->src, &p->dst, p->sport, p->dport);
	struct syn_slot *s = &t->slot[key_hash(key)];
	memcpy(s->key, key, sizeof key);
	s->used = true;
	s->mss = mss;
}

static uint16_t syn_lookup(const struct syn_table *t, const struct vg_pkt *p)
{
	uint8_t key[37];
	flow_key(key, &p->dst, &p->src, p->dport, p->sport);
	const struct syn_slot *s = &t->slot[key_hash(key)];
	return s->used && !memcmp(s->key, key, sizeof key) ? s->mss : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigia fingerprint [--p0f FILE] [--json] FILE...\n"
		"\n"
		"Print the p0f v3 OS label of every TCP SYN and SYN+ACK in the captures\n"
		"(pcap or pcapng, plain, gzip or zstd; a directory means its files):\n"
		"  TIME SRC/SPORT -> DST/DPORT syn|synack LABEL (exact|generic|fuzzy) dist=N raw_sig=SIG\n"
		"\n"
		"  --p0f FILE   fingerprint database (default " FP_DEFAULT_DB ")\n"
		"  --json       one JSON object per line instead\n"
		"  -h, --help   this text\n"
		"\n"
		"Exit status: 0 ok, 1 usage, 2 some input was bad, 3 fatal error.\n");
}

static const char *kind_name(enum fp_match_kind k)
{
	switch (k) {
	case FP_EXACT: return "exact";
	case FP_GENERIC: return "generic";
	case FP_FUZZY: return "fuzzy";
	default: return "none";
	}
}

static void format_time(uint64_t ts_ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ts_ns / 1000000000u);
	struct tm tm;
	char day[32];

	if (!gmtime_r(&sec, &tm) || !strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(day, sizeof day, "%lld", (long long)sec);
	snprintf(buf, len, "%s.%06uZ", day, (unsigned)(ts_ns % 1000000000u / 1000u));
}

static void report(const struct fp_db *db, const struct vg_pkt *pkt, const struct fp_sig *sig,
		   const struct fp_result *res, const char *raw, bool json)
{
	char tbuf[64], sbuf[48], dbuf[48];
	const char *label = res->label >= 0 ? fp_label_name(db, res->label) : "???";
	const char *dir = sig->dir == FP_DIR_SYN ? "syn" : "synack";

	format_time(pkt->ts_ns, tbuf, sizeof tbuf);
	vg_ip_str(&pkt->src, sbuf, sizeof sbuf);
	vg_ip_str(&pkt->dst, dbuf, sizeof dbuf);
	if (!json) {
		printf("%s %s/%u -> %s/%u %s %s (%s) dist=%u raw_sig=%s\n", tbuf, sbuf,
		       pkt->sport, dbuf, pkt->dport, dir, label, kind_name(res->kind),
		       res->dist, raw);
		return;
	}
	struct json_w w;
	json_init(&w, stdout, false);
	json_obj_begin(&w);
	json_key(&w, "time");
	json_str(&w, tbuf);
	json_key(&w, "src");
	json_str(&w, sbuf);
	json_key(&w, "sport");
	json_u64(&w, pkt->sport);
	json_key(&w, "dst");
	json_str(&w, dbuf);
	json_key(&w, "dport");
	json_u64(&w, pkt->dport);
	json_key(&w, "type");
	json_str(&w, dir);
	json_key(&w, "label");
	if (res->label >= 0)
		json_str(&w, label);
	else
		json_null(&w);
	json_key(&w, "match");
	json_str(&w, kind_name(res->kind));
	json_key(&w, "generic");
	json_bool(&w, res->generic);
	json_key(&w, "app");
	json_bool(&w, res->label >= 0 && fp_label_is_app(db, res->label));
	json_key(&w, "windows");
	json_bool(&w, res->label >= 0 && fp_label_is_windows(db, res->label));
	json_key(&w, "dist");
	json_u64(&w, res->dist);
	json_key(&w, "random_ttl");
	json_bool(&w, res->bad_ttl);
	json_key(&w, "raw_sig");
	json_str(&w, raw);
	json_obj_end(&w);
	fputc('\n', stdout);
}

int cmd_fingerprint(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"p0f", required_argument, NULL, 'f'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dbpath = FP_DEFAULT_DB;
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': dbpath = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return VG_EXIT_OK;
		default: usage(stderr); return VG_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vigia fingerprint: no capture files given\n");
		usage(stderr);
		return VG_EXIT_USAGE;
	}

	struct vg_err err = {0};
	struct fp_db *db = NULL;
	if (fp_db_load(&db, dbpath, &err) < 0) {
		fprintf(stderr, "vigia fingerprint: %s\n", err.msg);
		return VG_EXIT_FATAL;
	}
	struct syn_table syns = {calloc((size_t)1 << SYN_TABLE_BITS, sizeof(struct syn_slot))};
	if (!syns.slot) {
		fprintf(stderr, "vigia fingerprint: out of memory\n");
		fp_db_free(db);
		return VG_EXIT_FATAL;
	}

	char **files = NULL;
	int rc = VG_EXIT_OK;
	unsigned files_bad = 0;
	uint64_t bad_packets = 0;
	int nfiles = cap_expand_paths(argv + optind, argc - optind, &files, &err);
	if (nfiles < 0) {
		fprintf(stderr, "vigia fingerprint: %s\n", err.msg);
		rc = VG_EXIT_BADINPUT;
		goto out;
	}
	for (int fi = 0; fi < nfiles; fi++) {
		struct cap_reader *cr;
		if (cap_open(&cr, files[fi], &err)) {
			fprintf(stderr, "vigia fingerprint: %s\n", err.msg);
			files_bad++;
			continue;
		}
		int link = cap_linktype(cr);
		struct cap_packet cp;
		uint64_t n = 0, file_bad = 0;
		int r;
		while ((r = cap_next(cr, &cp, &err)) == 1) {
			struct vg_pkt pkt;
			struct fp_sig sig;
			struct fp_result res;
			char raw[256];
			uint16_t syn_mss = 0;

			n++;
			int st = vg_decode(link, cp.data, cp.caplen, cp.wirelen, &pkt);
			pkt.ts_ns = cp.ts_ns;
			if (st < 0) {
				if (file_bad++ < MAX_PACKET_ERRORS_SHOWN)
					fprintf(stderr, "vigia fingerprint: %s: byte offset %" PRIu64
						" (packet %" PRIu64 "): %s at frame byte %u; packet skipped\n",
						files[fi], cp.offset + pkt.err_off, n,
						vg_dec_strerror(st), pkt.err_off);
				continue;
			}
			if (st != VG_DEC_OK || !fp_extract(&pkt, &sig))
				continue;
			if (sig.dir == FP_DIR_SYN)
				syn_remember(&syns, &pkt, sig.mss);
			else
				syn_mss = syn_lookup(&syns, &pkt);
			fp_match_sig(db, &sig, syn_mss, &res);
			fp_sig_format(&sig, syn_mss, raw, sizeof raw);
			report(db, &pkt, &sig, &res, raw, json);
		}
		if (file_bad > MAX_PACKET_ERRORS_SHOWN)
			fprintf(stderr, "vigia fingerprint: %s: %" PRIu64 " damaged packets in all\n",
				files[fi], file_bad);
		bad_packets += file_bad;
		if (r < 0) {
			fprintf(stderr, "vigia fingerprint: %s; going on with the next file\n", err.msg);
			files_bad++;
		}
		cap_close(cr);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "vigia fingerprint: cannot write the output\n");
		rc = VG_EXIT_FATAL;
	} else if (files_bad || bad_packets) {
		rc = VG_EXIT_BADINPUT;
	}
out:
	cap_free_list(files);
	free(syns.slot);
	fp_db_free(db);
	return rc;
}
