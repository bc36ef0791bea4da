/* vigia analyze: the daily statistics of captures, in one streaming pass. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "an-engine.h"
#include "an-hosts.h"
#include "an-report.h"
#include "cap-reader.h"
#include "commands.h"
#include "fp.h"
#include "geo-rir.h"
#include "progress.h"
#include "cli.h"
#include "incident.h"
#include "rule-set.h"

#include "proto-decode.h"
#include "util-cidr.h"

/* Per-file reports of damaged packets stop here; the count goes on. */
#define MAX_PACKET_ERRORS_SHOWN 5

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigia analyze [OPTIONS] FILE|DIR...\n"
		"\n"
		"Reads captures (pcap, pcapng; plain, gzip or zstd) and reports the top 10\n"
		"destination TCP and UDP ports, source countries and source OSes, in\n"
		"packets and bytes, per time bin.\n"
		"\n"
		"  --honeynet CIDR   count only packets directed to CIDR (repeatable);\n"
		"                    without it every packet counts\n"
		"  --rir FILE        RIR delegation file for countries (repeatable)\n"
		"  --p0f FILE        p0f v3 database (default %s)\n"
		"  --no-p0f          do not fingerprint: every OS is 'unknown'\n"
		"  --bin SECONDS     bin width (default 300)\n"
		"  --json FILE       write the JSON document (docs/analyze-json.md); '-' = stdout\n"
		"  --csv DIR         write one CSV per category and top.csv into DIR\n"
		"  --sources FILE    write per-source activity as CSV (ip,country,os,...)\n"
		"  --incidents       also classify, in the same pass, with the signature rules\n"
		"                    and behavioural detectors of `vigia incidents`, and\n"
		"                    summarise the incidents by name\n"
		"  --rules FILE      rule file (repeatable; implies --incidents; default\n"
		"                    $VIGIA_RULES, else the installed vigia.rules)\n"
		"  --incidents-jsonl FILE  write the incidents as JSON Lines (docs/rules.md)\n"
		"  --quiet           no progress and no summary\n"
		"\n"
		"Exit status: 0 all input good, 2 some input was bad (reported on stderr,\n"
		"analysis went on), 1 usage, 3 fatal.\n",
		FP_DEFAULT_DB);
}

struct analyze_opts {
	struct cidr_set honeynets;
	const char **honeynet_text;
	size_t nhoneynet_text;
	const char **rir;
	size_t nrir;
	const char *p0f;
	bool no_p0f;
	unsigned bin;
	const char *json;
	const char *csv;
	const char *sources;
	bool quiet;
	bool incidents;             /* issue 8: classify in the same pass */
	const char **rules;
	size_t nrules;
	const char *incidents_jsonl;
};

static int parse_args(int argc, char **argv, struct analyze_opts *o)
{
	static const struct option longopts[] = {
		{"honeynet", required_argument, NULL, 'H'},
		{"rir", required_argument, NULL, 'r'},
		{"p0f", required_argument, NULL, 'p'},
		{"no-p0f", no_argument, NULL, 'P'},
		{"bin", required_argument, NULL, 'b'},
		{"json", required_argument, NULL, 'j'},
		{"csv", required_argument, NULL, 'c'},
		{"sources", required_argument, NULL, 's'},
		{"quiet", no_argument, NULL, 'q'},
		{"incidents", no_argument, NULL, 'I'},
		{"rules", required_argument, NULL, 'R'},
		{"incidents-jsonl", required_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	o->bin = 300;
	o->p0f = FP_DEFAULT_DB;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "H:r:p:b:j:c:s:qhIR:J:", longopts, NULL)) != -1) {
		struct vg_err err = {0};
		struct cidr net;
		switch (c) {
		case 'H':
			if (cidr_parse(optarg, &net, &err)) {
				fprintf(stderr, "vigia analyze: --honeynet %s\n", err.msg);
				return -1;
			}
			if (cidr_set_add(&o->honeynets, &net) ||
			    cli_push(&o->honeynet_text, &o->nhoneynet_text, optarg))
				return -1;
			break;
		case 'r':
			if (cli_push(&o->rir, &o->nrir, optarg))
				return -1;
			break;
		case 'p':
			o->p0f = optarg;
			break;
		case 'P':
			o->no_p0f = true;
			break;
		case 'b':
			if (cli_parse_bin("vigia analyze", optarg, &o->bin))
				return -1;
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'c':
			o->csv = optarg;
			break;
		case 's':
			o->sources = optarg;
			break;
		case 'I':
			o->incidents = true;
			break;
		case 'R':
			if (cli_push(&o->rules, &o->nrules, optarg))
				return -1;
			o->incidents = true;
			break;
		case 'J':
			o->incidents_jsonl = optarg;
			o->incidents = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(VG_EXIT_OK);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vigia analyze: no capture files given\n");
		usage(stderr);
		return -1;
	}
	return optind;
}

static const char *si(double v, char *buf, size_t len)
{
	static const char *const pfx[] = {"", "k", "M", "G", "T", "P"};
	int i = 0;
	while (v >= 1000.0 && i < 5) {
		v /= 1000.0;
		i++;
	}
	snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", v, pfx[i]);
	return buf;
}

static void print_summary(const struct an_engine *e, double seconds)
{
	const struct an_counters *c = an_engine_counters(e);
	char a[32], b[32], t1[40], t2[40];
	if (!c->counted) {
		printf("\nNo packets directed to the honeynets were found.\n");
		return;
	}
	double span = (double)(c->last_ns - c->first_ns) / 1e9;
	int64_t first;
	size_t nbins;
	an_bin_range(e, &first, &nbins);
	double period = (double)nbins * an_engine_bin_seconds(e);
	printf("\n%s packets, %sB directed to the honeynets, from %s to %s (%.0f s)\n",
	       si((double)c->counted, a, sizeof a), si((double)c->counted_bytes, b, sizeof b),
	       an_rfc3339(c->first_ns, t1, sizeof t1), an_rfc3339(c->last_ns, t2, sizeof t2), span);
	printf("%" PRIu64 " frames read; %" PRIu64 " to elsewhere, %" PRIu64 " not IP, %" PRIu64
	       " undecodable, %" PRIu64 " damaged; %zu sources, %" PRIu64 "/%" PRIu64
	       " SYNs fingerprinted; analysed in %.2f s\n",
	       c->frames, c->not_honeynet, c->non_ip, c->unsupported, c->bad,
	       an_engine_hosts(e), c->syns_matched, c->syns, seconds);
	printf("Rates are averages over %zu bins of %u s.\n", nbins, an_engine_bin_seconds(e));

	static const struct {
		const char *title;
		size_t view;
	} shown[] = {
		{"Destination TCP ports", 1},
		{"Destination UDP ports", 3},
		{"Source countries", 5},
		{"Source operating systems", 7},
	};
	for (size_t s = 0; s < sizeof shown / sizeof shown[0]; s++) {
		const struct an_view *v = &an_views[shown[s].view];
		struct an_top t;
		if (an_top_compute_totals(e, v, &t)) {
			an_top_free(&t);
			return;
		}
		printf("\n%s (top %d by packets)\n", shown[s].title, AN_TOP_N);
		printf("  %-4s %-28s %12s %10s %12s %10s %6s\n", "#", "key", "packets", "pkt/s",
		       "bytes", "B/s", "share");
		char name[96];
		for (size_t i = 0; i <= t.n; i++) {
			bool oth = i == t.n;
			struct stats_counts k = oth ? t.others : t.tot[i];
			if (oth && !k.packets)
				break;
			char rank[8];
			snprintf(rank, sizeof rank, "%zu", i + 1);
			printf("  %-4s %-28.28s %12" PRIu64 " %10s %12" PRIu64 " %10s %5.1f%%\n",
			       oth ? "" : rank,
			       oth ? "Others" : an_engine_key_name(e, v->cat, t.keys[i], name, sizeof name),
			       k.packets, si((double)k.packets / period, a, sizeof a), k.bytes,
			       si((double)k.bytes / period, b, sizeof b),
			       t.total.packets ? 100.0 * (double)k.packets / (double)t.total.packets : 0.0);
		}
		an_top_free(&t);
	}
}

/* Classic pcap: the exact byte of the file at fault.  pcapng blocks vary
 * in header size, so name the record and the byte within the frame. */
static void report_bad_packet(const char *file, const struct cap_reader *cr,
			      const struct cap_packet *cp, uint64_t index, int st,
			      uint32_t frame_off)
{
	if (cap_is_pcapng(cr))
		fprintf(stderr, "vigia analyze: %s: record at byte offset %" PRIu64
			" (packet %" PRIu64 "), frame byte %u: %s; packet skipped\n",
			file, cp->offset, index, frame_off, vg_dec_strerror(st));
	else
		fprintf(stderr, "vigia analyze: %s: byte offset %" PRIu64
			" (packet %" PRIu64 ", frame byte %u): %s; packet skipped\n",
			file, cp->offset + CAP_PCAP_RECORD_HDR + frame_off, index,
			frame_off, vg_dec_strerror(st));
}

struct classify_run {
	struct classifier *cl;
	const struct cidr_set *honeynets;
	int err;
};

static void on_count(void *ctx, const struct vg_pkt *p, struct an_host *h)
{
	struct classify_run *c = ctx;
	if (!c->err)
		c->err = classify_packet_hint(c->cl, p, 0, c->honeynets, h ? &h->hint : NULL);
}

static int cmp_name(const void *a, const void *b)
{
	const struct incident *const *x = a, *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

/* Incidents per name: how many sources, how many packets. */
static void print_incidents(struct classifier *cl)
{
	size_t n = classifier_count(cl);
	const struct incident **v = calloc(n ? n : 1, sizeof *v);
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		v[i] = classifier_peek(cl, i);
	qsort(v, n, sizeof *v, cmp_name);
	printf("\nIncidents (%zu; one per source, day and name)\n", n);
	printf("  %-32s %-11s %10s %12s\n", "name", "category", "incidents", "packets");
	for (size_t i = 0; i < n;) {
		size_t j = i;
		uint64_t pk = 0;
		for (; j < n && !strcmp(v[j]->name, v[i]->name); j++)
			pk += v[j]->count;
		printf("  %-32s %-11s %10zu %12" PRIu64 "\n", v[i]->name, v[i]->category, j - i, pk);
		i = j;
	}
	if (classifier_dropped(cl))
		printf("  (%" PRIu64 " hits beyond the incident limit not kept)\n",
		       classifier_dropped(cl));
	const struct det_stats *ds = classifier_det_stats(cl);
	if (ds && ds->untracked)
		printf("  (detectors' memory bound reached: %" PRIu64 " probes not tracked; "
		       "their counts are lower bounds)\n", ds->untracked);
	free(v);
}

static int write_incidents(struct classifier *cl, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (!f)
		return -errno;
	int r = classifier_write_jsonl(cl, f, NULL, 0);
	if (f != stdout ? fclose(f) : fflush(f))
		r = r ? r : -EIO;
	return r;
}

int cmd_analyze(int argc, char **argv)
{
	struct analyze_opts o = {0};
	int rc = VG_EXIT_OK;
	struct geo_db *geo = NULL;
	struct fp_db *fp = NULL;
	struct an_engine *eng = NULL;
	struct rule_set *rules = NULL;
	char **files = NULL;
	struct vg_err err = {0};
	unsigned files_bad = 0, missing = 0;
	uint64_t bad_packets = 0;

	struct classify_run crun = {0};
	int first_arg = parse_args(argc, argv, &o);
	if (first_arg < 0) {
		rc = VG_EXIT_USAGE;
		goto out;
	}

	int gr = cli_load_geo("vigia analyze", o.rir, o.nrir, &geo);
	if (gr) {
		rc = gr;
		goto out;
	}
	if (!o.no_p0f) {
		if (fp_db_load(&fp, o.p0f, &err)) {
			fprintf(stderr, "vigia analyze: %s\n", err.msg);
			rc = VG_EXIT_FATAL;
			goto out;
		}
	}

	crun.honeynets = &o.honeynets;
	if (o.incidents) {
		int lr = cli_load_rules("vigia analyze", o.rules, o.nrules, &o.honeynets, 1, &rules);
		if (lr) {
			rc = lr;
			goto out;
		}
		if (!rules && !o.quiet)
			fprintf(stderr, "vigia analyze: no rule file (%s/vigia.rules, $VIGIA_RULES): "
				"behavioural detectors only\n", VIGIA_RULES_DIR);
		struct classifier_config ccfg = {.rules = rules};
		det_config_default(&ccfg.det);
		ccfg.threads = cli_classify_threads();
		if (classifier_new(&crun.cl, &ccfg, &err)) {
			fprintf(stderr, "vigia analyze: %s\n", err.msg);
			rc = VG_EXIT_FATAL;
			goto out;
		}
	}
	struct an_config cfg = {
		.honeynets = &o.honeynets,
		.bin_seconds = o.bin,
		.geo = geo,
		.fp = fp,
		.on_count = crun.cl ? on_count : NULL,
		.hook_ctx = &crun,
	};
	int r = an_engine_new(&eng, &cfg);
	if (r) {
		fprintf(stderr, "vigia analyze: cannot start the analysis: %s\n", strerror(-r));
		rc = VG_EXIT_FATAL;
		goto out;
	}

	/* Expand each argument alone: a missing one is reported and the
	 * others are still analysed. */
	int nfiles = 0;
	for (int ai = first_arg; ai < argc; ai++) {
		char **one = NULL;
		int n1 = cap_expand_paths(argv + ai, 1, &one, &err);
		if (n1 < 0) {
			fprintf(stderr, "vigia analyze: %s\n", err.msg);
			files_bad++;
			missing++;
			continue;
		}
		char **grown = realloc(files, (size_t)(nfiles + n1 + 1) * sizeof *grown);
		if (!grown) {
			cap_free_list(one);
			fprintf(stderr, "vigia analyze: out of memory\n");
			rc = VG_EXIT_FATAL;
			goto out;
		}
		files = grown;
		for (int k = 0; k < n1; k++)
			files[nfiles++] = one[k];
		files[nfiles] = NULL;
		free(one);   /* the strings now belong to files[] */
	}

	struct progress prog;
	progress_init(&prog, o.quiet);
	uint64_t total_frames = 0;
	for (int fi = 0; fi < nfiles; fi++) {
		struct cap_reader *cr;
		if (cap_open(&cr, files[fi], &err)) {
			progress_clear(&prog);
			fprintf(stderr, "vigia analyze: %s\n", err.msg);
			files_bad++;
			continue;
		}
		int link = cap_linktype(cr);
		struct cap_packet cp;
		unsigned shown = 0;
		uint64_t file_bad = 0, n = 0;
		while ((r = cap_next(cr, &cp, &err)) == 1) {
			struct vg_pkt pkt;
			int st = vg_decode(link, cp.data, cp.caplen, cp.wirelen, &pkt);
			pkt.ts_ns = cp.ts_ns;
			an_engine_frame(eng, st, &pkt);
			if (st < 0) {
				file_bad++;
				if (shown++ < MAX_PACKET_ERRORS_SHOWN) {
					progress_clear(&prog);
					report_bad_packet(files[fi], cr, &cp, n + 1, st, pkt.err_off);
				}
			}
			n++;
			if ((n & 0xffff) == 0) {
				double el = progress_elapsed(&prog);
				progress_update(&prog, "analyze: file %d/%d %s: %.1f M packets, %.2f Mpps",
						fi + 1, nfiles, files[fi], (double)(total_frames + n) / 1e6,
						el > 0 ? (double)(total_frames + n) / el / 1e6 : 0.0);
			}
		}
		total_frames += n;
		if (file_bad > MAX_PACKET_ERRORS_SHOWN) {
			progress_clear(&prog);
			fprintf(stderr, "vigia analyze: %s: %" PRIu64 " damaged packets in all\n",
				files[fi], file_bad);
		}
		bad_packets += file_bad;
		if (r < 0) {
			progress_clear(&prog);
			fprintf(stderr, "vigia analyze: %s; going on with the next file\n", err.msg);
			files_bad++;
		}
		cap_close(cr);
	}
	progress_clear(&prog);
	double seconds = progress_elapsed(&prog);

	if (an_engine_finish(eng)) {
		fprintf(stderr, "vigia analyze: out of memory while counting\n");
		rc = VG_EXIT_FATAL;
		goto out;
	}

	struct an_input_info info = {
		.files = (unsigned)nfiles + missing,
		.files_bad = files_bad,
		.honeynets = o.honeynet_text,
		.nhoneynets = o.nhoneynet_text,
	};
	if (an_series_omitted(eng) && (o.json || o.csv)) {
		int64_t fb;
		size_t nb;
		an_bin_range(eng, &fb, &nb);
		fprintf(stderr, "vigia analyze: the captures span %zu bins of %u s; per-bin series "
			"are left out (more than %u); use a larger --bin\n", nb, o.bin, AN_MAX_SERIES_BINS);
	}
	bool json_stdout = o.json && !strcmp(o.json, "-");
	if (o.json) {
		FILE *jf = json_stdout ? stdout : fopen(o.json, "w");
		if (!jf) {
			fprintf(stderr, "vigia analyze: %s: cannot create: %s\n", o.json, strerror(errno));
			rc = VG_EXIT_FATAL;
			goto out;
		}
		int jr = an_report_json(eng, &info, jf, true);
		if (!json_stdout && fclose(jf))
			jr = -EIO;
		if (jr) {
			fprintf(stderr, "vigia analyze: %s: cannot write the JSON document\n", o.json);
			rc = VG_EXIT_FATAL;
			goto out;
		}
	}
	if (o.csv && an_report_csv(eng, o.csv, &err)) {
		fprintf(stderr, "vigia analyze: %s\n", err.msg);
		rc = VG_EXIT_FATAL;
		goto out;
	}
	if (o.sources && an_report_sources(eng, o.sources, &err)) {
		fprintf(stderr, "vigia analyze: %s\n", err.msg);
		rc = VG_EXIT_FATAL;
		goto out;
	}
	if (crun.cl && !crun.err)
		crun.err = classifier_finish(crun.cl);
	if (crun.err) {
		fprintf(stderr, "vigia analyze: classifying: %s\n", strerror(-crun.err));
		rc = VG_EXIT_FATAL;
		goto out;
	}
	if (o.incidents_jsonl && (r = write_incidents(crun.cl, o.incidents_jsonl))) {
		fprintf(stderr, "vigia analyze: %s: cannot write the incidents: %s\n",
			o.incidents_jsonl, strerror(-r));
		rc = VG_EXIT_FATAL;
		goto out;
	}
	if (!o.quiet && !json_stdout) {
		print_summary(eng, seconds);
		if (crun.cl)
			print_incidents(crun.cl);
	}
	if (files_bad || bad_packets)
		rc = VG_EXIT_BADINPUT;
out:
	cap_free_list(files);
	an_engine_free(eng);
	classifier_free(crun.cl);
	rule_set_free(rules);
	free(o.rules);
	fp_db_free(fp);
	geo_db_free(geo);
	cidr_set_free(&o.honeynets);
	free(o.honeynet_text);
	free(o.rir);
	return rc;
}
