/* vigia incidents: classify captures into incidents (rules + behavioural
 * detectors), print them, write them as JSON Lines, or store a day of
 * them in the database. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "an-engine.h"
#include "cap-reader.h"
#include "cfg-central.h"
#include "cli.h"
#include "commands.h"
#include "db.h"
#include "incident.h"
#include "an-hosts.h"
#include "proto-decode.h"
#include "rule-set.h"
#include "sanitize.h"
#include "util-cidr.h"

#ifndef VIGIA_RULES_DIR
#define VIGIA_RULES_DIR "/usr/local/share/vigia/rules"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigia incidents [options] FILE|DIR...\n"
		"       vigia incidents --db DB --archive DIR --day YYYY-MM-DD [options]\n"
		"       vigia incidents --config FILE --day YYYY-MM-DD [options]\n"
		"Classify captures into incidents (docs/rules.md).\n"
		"  --rules FILE      rule file (repeatable; default " VIGIA_RULES_DIR "/vigia.rules)\n"
		"  --no-rules        behavioural detectors only\n"
		"  --no-detectors    signature rules only\n"
		"  --honeynet CIDR   the honeypot networks: $HOME_NET, and only packets\n"
		"                    directed to them are classified (repeatable)\n"
		"  --jsonl FILE      write the incidents as JSON Lines ('-': stdout)\n"
		"  --db DB           store the incidents of --day in the database (replacing\n"
		"                    that day's), reading ARCHIVE/SENSOR/YYYY/MM/DD/*\n"
		"  --archive DIR     the central archive (with --db)\n"
		"  --day YYYY-MM-DD  the day to classify (with --db)\n"
		"  --config FILE     the central config: honeynets, sensor ids, archive and\n"
		"                    database, and issue 7's sanitizer for the evidence\n"
		"  --hscan N --vscan N --brute N --bot N   detector thresholds\n"
		"  --check-rules     only parse the rule files and report errors\n"
		"  -q, --quiet       no summary on stderr\n");
}

struct opts {
	const char **rules;
	size_t nrules;
	bool no_rules, no_det, check_only, quiet;
	struct cidr_set honeynets;
	const char *jsonl, *db, *archive, *day, *config;
	struct det_config det;
};

struct sensor_name {
	char **v;
	size_t n;
};


struct run {
	struct classifier *cl;
	struct opts *o;
	uint32_t sensor_id;
	int err;
};

static void on_count(void *ctx, const struct vg_pkt *p, struct an_host *h)
{
	struct run *r = ctx;
	if (r->err)
		return;
	r->err = classify_packet_hint(r->cl, p, r->sensor_id, &r->o->honeynets,
				      h ? &h->hint : NULL);
}

/* One capture through the analysis engine (its honeynet filter and
 * fragment reassembly), the classifier on every counted packet. */
static int classify_file(struct run *run, const char *path, uint64_t *frames, uint64_t *bad)
{
	struct vg_err err = {0};
	struct cap_reader *cr;
	if (cap_open(&cr, path, &err)) {
		fprintf(stderr, "vigia incidents: %s\n", err.msg);
		return -1;
	}
	struct an_config acfg = {
		.honeynets = &run->o->honeynets,
		.bin_seconds = 3600,
		.on_count = on_count,
		.hook_ctx = run,
	};
	struct an_engine *eng;
	if (an_engine_new(&eng, &acfg)) {
		cap_close(cr);
		fprintf(stderr, "vigia incidents: out of memory\n");
		return -2;
	}
	int link = cap_linktype(cr);
	struct cap_packet cp;
	int r;
	while ((r = cap_next(cr, &cp, &err)) == 1 && !run->err) {
		struct vg_pkt pkt;
		int st = vg_decode(link, cp.data, cp.caplen, cp.wirelen, &pkt);
		pkt.ts_ns = cp.ts_ns;
		an_engine_frame(eng, st, &pkt);
		(*frames)++;
		if (st < 0)
			(*bad)++;
	}
	if (r < 0) {
		fprintf(stderr, "vigia incidents: %s\n", err.msg);
		(*bad)++;
	}
	an_engine_finish(eng);
	an_engine_free(eng);
	cap_close(cr);
	if (run->err) {
		fprintf(stderr, "vigia incidents: %s: out of memory classifying\n", path);
		return -2;
	}
	return r < 0 ? -1 : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ARCHIVE/SENSOR/YYYY/MM/DD/ *: the day's files of every sensor, sorted. */
static int day_files(const char *archive, const char *day, char ***files, char ***sensors,
		     size_t *n)
{
	DIR *d = opendir(archive);
	if (!d)
		return -errno;
	*files = NULL;
	*sensors = NULL;
	*n = 0;
	struct dirent *de;
	char ymd[16];
	snprintf(ymd, sizeof ymd, "%.4s/%.2s/%.2s", day, day + 5, day + 8);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char dir[4096];
		snprintf(dir, sizeof dir, "%s/%s/%s", archive, de->d_name, ymd);
		DIR *dd = opendir(dir);
		if (!dd)
			continue;
		struct dirent *fe;
		while ((fe = readdir(dd))) {
			if (fe->d_name[0] == '.')
				continue;
			char *path = NULL, *sensor = strdup(de->d_name);
			if (asprintf(&path, "%s/%s", dir, fe->d_name) < 0)
				path = NULL;
			char **nf = realloc(*files, (*n + 1) * sizeof *nf);
			if (nf)
				*files = nf;
			char **ns = realloc(*sensors, (*n + 1) * sizeof *ns);
			if (ns)
				*sensors = ns;
			if (!path || !sensor || !nf || !ns) {
				free(path);
				free(sensor);
				closedir(dd);
				closedir(d);
				return -ENOMEM;
			}
			/* "SENSOR\tPATH" sorts by sensor then name */
			(*files)[*n] = path;
			(*sensors)[*n] = sensor;
			(*n)++;
		}
		closedir(dd);
	}
	closedir(d);
	return 0;
}

static void print_table(struct classifier *cl, const char *const *names, size_t nnames)
{
	size_t n = classifier_count(cl);
	printf("%-10s %-39s %-10s %-28s %8s %s\n", "day", "source", "category", "name", "count",
	       "ports");
	for (size_t i = 0; i < n; i++) {
		const struct incident *in = classifier_peek(cl, i);
		char ip[64], day[16];
		time_t t = (time_t)in->day;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(day, sizeof day, "%Y-%m-%d", &tm);
		printf("%-10s %-39s %-10s %-28s %8" PRIu64 " ", day, vg_ip_str(&in->src, ip, sizeof ip),
		       in->category, in->name, in->count);
		for (size_t k = 0; k < in->nports && k < 8; k++)
			printf("%s%u/%s", k ? "," : "", in->ports[k] & 0xffff,
			       in->ports[k] >= 65536 ? "udp" : "tcp");
		if (in->nports > 8)
			printf(",... (%zu)", in->nports);
		printf("\n");
	}
	(void)names;
	(void)nnames;
}

static int write_jsonl(struct classifier *cl, const char *path, const char *const *names,
		       size_t nnames)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (!f) {
		fprintf(stderr, "vigia incidents: %s: %s\n", path, strerror(errno));
		return -1;
	}
	int r = classifier_write_jsonl(cl, f, names, nnames);
	if (f != stdout ? fclose(f) : fflush(f))
		r = r ? r : -EIO;
	if (r)
		fprintf(stderr, "vigia incidents: %s: write error\n", path);
	return r ? -1 : 0;
}

static int store(struct db *db, struct classifier *cl, int64_t day)
{
	struct vg_err err = {0};
	int r = db_begin(db, &err);
	if (!r)
		r = db_incidents_clear_day(db, day, &err);
	if (!r)
		r = classifier_store(cl, db, day, &err);
	if (!r)
		r = db_commit(db, &err);
	if (r) {
		db_rollback(db);
		fprintf(stderr, "vigia incidents: %s\n", err.msg);
	}
	return r;
}

int cmd_incidents(int argc, char **argv)
{
	struct opts o;
	memset(&o, 0, sizeof o);
	det_config_default(&o.det);
	static const struct option longopts[] = {
		{"rules", required_argument, NULL, 'r'},
		{"no-rules", no_argument, NULL, 'R'},
		{"no-detectors", no_argument, NULL, 'D'},
		{"honeynet", required_argument, NULL, 'H'},
		{"jsonl", required_argument, NULL, 'j'},
		{"db", required_argument, NULL, 'd'},
		{"archive", required_argument, NULL, 'a'},
		{"day", required_argument, NULL, 'y'},
		{"config", required_argument, NULL, 'C'},
		{"hscan", required_argument, NULL, 1},
		{"vscan", required_argument, NULL, 2},
		{"brute", required_argument, NULL, 3},
		{"bot", required_argument, NULL, 4},
		{"check-rules", no_argument, NULL, 'c'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, rc = VG_EXIT_OK;
	struct rule_set *rs = NULL;
	struct classifier *cl = NULL;
	struct db *db = NULL;
	char **files = NULL, **sensors = NULL;
	size_t nfiles = 0;
	char **snames = NULL;
	size_t nsnames = 0;
	struct cfg_central *cfg = NULL;
	struct sanitizer *san = NULL;
	struct cidr_set cfg_nets = {0};
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:RDH:j:d:a:y:C:cqh", longopts, NULL)) != -1) {
		struct vg_err err = {0};
		char *end;
		unsigned long v;
		switch (c) {
		case 'r':
			if (cli_push(&o.rules, &o.nrules, optarg))
				goto oom;
			break;
		case 'R': o.no_rules = true; break;
		case 'D': o.no_det = true; break;
		case 'H': {
			struct cidr net;
			if (cidr_parse(optarg, &net, &err)) {
				fprintf(stderr, "vigia incidents: --honeynet %s\n", err.msg);
				rc = VG_EXIT_USAGE;
				goto out;
			}
			if (cidr_set_add(&o.honeynets, &net))
				goto oom;
			break;
		}
		case 'j': o.jsonl = optarg; break;
		case 'd': o.db = optarg; break;
		case 'a': o.archive = optarg; break;
		case 'y': o.day = optarg; break;
		case 'C': o.config = optarg; break;
		case 1: case 2: case 3: case 4:
			v = strtoul(optarg, &end, 10);
			if (*end || !v || v > DET_MAX_THRESHOLD) {
				fprintf(stderr, "vigia incidents: a threshold is 1..%d, not '%s'\n",
					DET_MAX_THRESHOLD, optarg);
				rc = VG_EXIT_USAGE;
				goto out;
			}
			if (c == 1)
				o.det.hscan_hosts = (uint32_t)v;
			else if (c == 2)
				o.det.vscan_ports = (uint32_t)v;
			else if (c == 3)
				o.det.brute_conns = (uint32_t)v;
			else
				o.det.bot_traits = (uint32_t)v;
			break;
		case 'c': o.check_only = true; break;
		case 'q': o.quiet = true; break;
		case 'h': usage(stdout); goto out;
		default: usage(stderr); rc = VG_EXIT_USAGE; goto out;
		}
	}
	if (o.config) {
		struct vg_err err = {0};
		if (cfg_central_load(o.config, &cfg, &err) || sanitizer_new(cfg, &san, &err)) {
			fprintf(stderr, "vigia incidents: %s\n", err.msg);
			rc = VG_EXIT_USAGE;
			goto out;
		}
		if (o.day && !o.db)
			o.db = cfg->database;
		if (!o.archive)
			o.archive = cfg->archive;
		/* no --honeynet: every sensor's networks */
		for (size_t i = 0; !o.honeynets.n && i < cfg->nsensors; i++)
			for (size_t k = 0; k < cfg->sensors[i].networks.n; k++)
				if (cidr_set_add(&cfg_nets, &cfg->sensors[i].networks.v[k]))
					goto oom;
		for (size_t k = 0; k < cfg_nets.n; k++)
			if (cidr_set_add(&o.honeynets, &cfg_nets.v[k]))
				goto oom;
	}
	if (o.db && (!o.archive || !o.day)) {
		fprintf(stderr, "vigia incidents: --db needs --archive and --day\n");
		rc = VG_EXIT_USAGE;
		goto out;
	}
	int64_t day = 0;
	if (o.day && cli_parse_day(o.day, &day)) {
		fprintf(stderr, "vigia incidents: --day wants YYYY-MM-DD, not '%s'\n", o.day);
		rc = VG_EXIT_USAGE;
		goto out;
	}
	if (!o.db && optind >= argc && !o.check_only) {
		usage(stderr);
		rc = VG_EXIT_USAGE;
		goto out;
	}

	if (!o.no_rules) {
		/* $HOME_NET: the honeynets, from --honeynet or the config */
		int lr = cli_load_rules("vigia incidents", o.rules, o.nrules, &o.honeynets, 0, &rs);
		if (lr) {
			rc = lr;
			goto out;
		}
		if (o.check_only) {
			printf("%zu rules\n", rule_set_count(rs));
			goto out;
		}
	}
	struct classifier_config ccfg = {.rules = rs, .san = san, .det = o.det,
					 .no_detectors = o.no_det, .threads = cli_classify_threads()};
	struct vg_err err = {0};
	if (classifier_new(&cl, &ccfg, &err)) {
		fprintf(stderr, "vigia incidents: %s\n", err.msg);
		rc = VG_EXIT_FATAL;
		goto out;
	}

	if (o.db) {
		int r = day_files(o.archive, o.day, &files, &sensors, &nfiles);
		if (r) {
			fprintf(stderr, "vigia incidents: %s: %s\n", o.archive, strerror(-r));
			rc = VG_EXIT_FATAL;
			goto out;
		}
		if (db_open(&db, o.db, &err)) {
			fprintf(stderr, "vigia incidents: %s\n", err.msg);
			rc = VG_EXIT_FATAL;
			goto out;
		}
	} else {
		int n = cap_expand_paths(argv + optind, argc - optind, &files, &err);
		if (n < 0) {
			fprintf(stderr, "vigia incidents: %s\n", err.msg);
			rc = VG_EXIT_BADINPUT;
			goto out;
		}
		nfiles = (size_t)n;
	}
	/* sort the day's files by sensor then path: time order per sensor */
	if (sensors) {
		char **pairs = malloc(nfiles * sizeof *pairs);
		if (!pairs)
			goto oom;
		for (size_t i = 0; i < nfiles; i++)
			if (asprintf(&pairs[i], "%s\t%s", sensors[i], files[i]) < 0)
				pairs[i] = NULL;
		for (size_t i = 0; i < nfiles; i++)
			if (!pairs[i]) {
				for (size_t k = 0; k < nfiles; k++)
					free(pairs[k]);
				free(pairs);
				goto oom;
			}
		qsort(pairs, nfiles, sizeof *pairs, cmp_str);
		for (size_t i = 0; i < nfiles; i++) {
			char *tab = strchr(pairs[i], '\t');
			*tab = 0;
			free(sensors[i]);
			free(files[i]);
			sensors[i] = strdup(pairs[i]);
			files[i] = strdup(tab + 1);
			free(pairs[i]);
			if (!sensors[i] || !files[i]) {
				free(pairs);
				goto oom;
			}
		}
		free(pairs);
	}
	uint64_t frames = 0, bad = 0;
	int failed = 0;
	for (size_t i = 0; i < nfiles; i++) {
		struct run run = {cl, &o, 0, 0};
		if (db) {
			const struct cfg_sensor *cs = cfg ? cfg_central_sensor(cfg, sensors[i]) : NULL;
			if (db_sensor_ensure(db, sensors[i], cs ? cs->id : 0, &run.sensor_id, &err)) {
				fprintf(stderr, "vigia incidents: %s\n", err.msg);
				rc = VG_EXIT_FATAL;
				goto out;
			}
			if (run.sensor_id >= nsnames) {
				char **nv = realloc(snames, (run.sensor_id + 1) * sizeof *nv);
				if (!nv)
					goto oom;
				for (size_t k = nsnames; k <= run.sensor_id; k++)
					nv[k] = NULL;
				snames = nv;
				nsnames = run.sensor_id + 1;
			}
			if (!snames[run.sensor_id] && !(snames[run.sensor_id] = strdup(sensors[i])))
				goto oom;
		}
		int r = classify_file(&run, files[i], &frames, &bad);
		if (r == -2) {
			rc = VG_EXIT_FATAL;
			goto out;
		}
		failed += r < 0;
	}
	int cr = classifier_finish(cl);
	if (cr) {
		fprintf(stderr, "vigia incidents: classifying: %s\n", strerror(-cr));
		rc = VG_EXIT_FATAL;
		goto out;
	}
	if (o.jsonl && write_jsonl(cl, o.jsonl, (const char *const *)snames, nsnames)) {
		rc = VG_EXIT_FATAL;
		goto out;
	}
	if (db && store(db, cl, day)) {
		rc = VG_EXIT_FATAL;
		goto out;
	}
	if (!o.jsonl || strcmp(o.jsonl, "-"))
		if (!db)
			print_table(cl, (const char *const *)snames, nsnames);
	if (!o.quiet) {
		const struct rule_stats *st = classifier_rule_stats(cl);
		fprintf(stderr, "vigia incidents: %zu files, %" PRIu64 " frames, %" PRIu64
			" payload bytes matched against %zu rules (%" PRIu64 " read by the scan), "
			"%zu incidents%s\n",
			nfiles, frames, st->payload_bytes, rs ? rule_set_count(rs) : (size_t)0,
			st->scanned_bytes,
			classifier_count(cl), db ? " stored" : "");
		const struct det_stats *ds = classifier_det_stats(cl);
		if (ds && ds->untracked)
			fprintf(stderr, "vigia incidents: the detectors' memory bound was reached: "
				"%" PRIu64 " probes not tracked; their counts are lower bounds\n",
				ds->untracked);
	}
	if (failed || bad)
		rc = VG_EXIT_BADINPUT;
	goto out;
oom:
	fprintf(stderr, "vigia incidents: out of memory\n");
	rc = VG_EXIT_FATAL;
out:
	if (sensors)
		for (size_t i = 0; i < nfiles; i++)
			free(sensors[i]);
	free(sensors);
	if (files) {
		if (db || o.db) {
			for (size_t i = 0; i < nfiles; i++)
				free(files[i]);
			free(files);
		} else {
			cap_free_list(files);
		}
	}
	for (size_t i = 0; i < nsnames; i++)
		free(snames[i]);
	free(snames);
	classifier_free(cl);
	rule_set_free(rs);
	if (db)
		db_close(db);
	cidr_set_free(&o.honeynets);
	cidr_set_free(&cfg_nets);
	sanitizer_free(san);
	cfg_central_free(cfg);
	free(o.rules);
	return rc;
}
