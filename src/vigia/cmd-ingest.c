/* vigia ingest: newly archived files into the database, one transaction
 * per file (src/lib/ingest.h, docs/database.md). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cap-reader.h"
#include "cfg-central.h"
#include "commands.h"
#include "db.h"
#include "fp.h"
#include "geo-rir.h"
#include "ingest.h"
#include "progress.h"
#include "cli.h"
#include "incident.h"
#include "rule-set.h"
#include "sanitize.h"
#include "util-cidr.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigia ingest [--config FILE | --archive DIR --db FILE] [OPTIONS] [FILE...]\n"
		"\n"
		"Counts newly archived files (ARCHIVE/SENSOR/YYYY/MM/DD/: pcap, pcapng, pflog;\n"
		"plain, gzip or zstd; Honeyd connection logs *.log) into the database, one\n"
		"transaction per file.  Files already stored are skipped.  Each sensor's\n"
		"honeypot networks (from the config) select the packets counted; without a\n"
		"config every packet counts.  FILEs, when given, must lie in the archive.\n"
		"In the same pass each counted packet is classified (signature rules and\n"
		"behavioural detectors, docs/rules.md) and the file's incidents are merged\n"
		"into the database with it.\n"
		"\n"
		"  --config FILE     central configuration (default $VIGIA_CONFIG, else %s)\n"
		"  --archive DIR     archive root (overrides the config's)\n"
		"  --db FILE         SQLite database (overrides the config's)\n"
		"  --sensor NAME     only this sensor's files (repeatable)\n"
		"  --rir FILE        RIR delegation file for countries (repeatable)\n"
		"  --p0f FILE        p0f v3 database (default %s)\n"
		"  --no-p0f          do not fingerprint: every OS is 'unknown'\n"
		"  --no-early-warning  do not record per-bin distinct sources for `vigia watch`\n"
		"  --bin SECONDS     bin width of a new database (default %d)\n"
		"  --rules FILE      signature rules for the incidents found while counting\n"
		"                    (repeatable; default $VIGIA_RULES, else the installed\n"
		"                    vigia.rules; detectors only when neither exists)\n"
		"  --no-classify     do not look for incidents (`vigia incidents --db` can,\n"
		"                    later, from the archive)\n"
		"  --quiet           no progress and no summary\n"
		"\n"
		"Exit status: 0 all good, 2 some input was bad (reported on stderr; what\n"
		"was read is stored), 1 usage, 3 fatal (the database failed).\n",
		CFG_CENTRAL_DEFAULT_PATH, FP_DEFAULT_DB, INGEST_DEFAULT_BIN);
}

struct opts {
	const char *config, *archive, *db;
	const char **sensors;
	size_t nsensors;
	const char **rir;
	size_t nrir;
	const char *p0f;
	bool no_p0f;
	bool no_ew;              /* issue 9: --no-early-warning */
	const char **rules;      /* issue 8 */
	size_t nrules;
	bool no_classify;
	unsigned bin;
	bool quiet;
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'C'},
		{"archive", required_argument, NULL, 'a'},
		{"db", required_argument, NULL, 'd'},
		{"sensor", required_argument, NULL, 'S'},
		{"rir", required_argument, NULL, 'r'},
		{"p0f", required_argument, NULL, 'p'},
		{"no-p0f", no_argument, NULL, 'P'},
		{"no-early-warning", no_argument, NULL, 'W'},  /* issue 9 */
		{"bin", required_argument, NULL, 'b'},
		{"rules", required_argument, NULL, 'R'},
		{"no-classify", no_argument, NULL, 'N'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	o->p0f = FP_DEFAULT_DB;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:a:d:S:r:p:b:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'C': o->config = optarg; break;
		case 'a': o->archive = optarg; break;
		case 'd': o->db = optarg; break;
		case 'S':
			if (cli_push(&o->sensors, &o->nsensors, optarg))
				return -1;
			break;
		case 'r':
			if (cli_push(&o->rir, &o->nrir, optarg))
				return -1;
			break;
		case 'p': o->p0f = optarg; break;
		case 'P': o->no_p0f = true; break;
		case 'W': o->no_ew = true; break;
		case 'R':
			if (cli_push(&o->rules, &o->nrules, optarg))
				return -1;
			break;
		case 'N': o->no_classify = true; break;
		case 'b':
			if (cli_parse_bin("vigia ingest", optarg, &o->bin))
				return -1;
			break;
		case 'q': o->quiet = true; break;
		case 'h':
			usage(stdout);
			exit(VG_EXIT_OK);
		default:
			usage(stderr);
			return -1;
		}
	}
	return optind;
}

/* One file to ingest. */
struct item {
	char *path;             /* on disk */
	char *name;             /* relative to the archive: SENSOR/YYYY/MM/DD/NAME */
	const char *rest;       /* inside name, after "SENSOR/" */
	char *sensor;
};

struct list {
	struct item *v;
	size_t n, cap;
};

static int list_add(struct list *l, const char *path, const char *name)
{
	const char *slash = strchr(name, '/');
	if (!slash || slash == name)
		return 1;       /* not inside a sensor directory */
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct item *nv = realloc(l->v, cap * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	struct item *it = &l->v[l->n];
	it->path = strdup(path);
	it->name = strdup(name);
	it->sensor = strndup(name, (size_t)(slash - name));
	if (!it->path || !it->name || !it->sensor) {
		free(it->path);
		free(it->name);
		free(it->sensor);
		return -ENOMEM;
	}
	it->rest = it->name + (slash - name) + 1;
	l->n++;
	return 0;
}

static void list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].name);
		free(l->v[i].sensor);
	}
	free(l->v);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

/* What collect leaves in the archive besides data: temporaries (rsync's
 * dot files, *.part, *.tmp) are skipped, and so are names that are no
 * capture or log. */
static bool wanted(const char *name)
{
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (base[0] == '.' || ends_with(base, ".part") || ends_with(base, ".tmp"))
		return false;
	if (strstr(name, "/.")) /* inside a hidden directory (quarantine) */
		return false;
	static const char *const ext[] = {".pcap", ".pcapng", ".cap", ".pflog", ".log"};
	static const char *const comp[] = {"", ".gz", ".zst"};
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
		for (size_t j = 0; j < sizeof comp / sizeof comp[0]; j++) {
			char suf[24];
			snprintf(suf, sizeof suf, "%s%s", ext[i], comp[j]);
			if (ends_with(base, suf))
				return true;
		}
	return strstr(base, "honeyd") != NULL;
}

static bool sensor_selected(const struct opts *o, const char *name)
{
	if (!o->nsensors)
		return true;
	for (size_t i = 0; i < o->nsensors; i++)
		if (!strcmp(o->sensors[i], name))
			return true;
	return false;
}

/* Time order across sensors (YYYY/MM/DD/NAME, then the sensor): the OS of
 * a source is its latest SYN's, wherever it was seen. */
static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = strcmp(x->rest, y->rest);
	return c ? c : strcmp(x->sensor, y->sensor);
}

static int scan_archive(const char *archive, const struct opts *o, struct list *l)
{
	DIR *d = opendir(archive);
	if (!d) {
		fprintf(stderr, "vigia ingest: %s: cannot open the archive: %s\n", archive,
			strerror(errno));
		return -1;
	}
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) && !rc) {
		if (de->d_name[0] == '.' || !sensor_selected(o, de->d_name))
			continue;
		char dir[PATH_MAX];
		struct stat st;
		int dl = snprintf(dir, sizeof dir, "%s/%s", archive, de->d_name);
		if (dl < 0 || (size_t)dl >= sizeof dir || stat(dir, &st) || !S_ISDIR(st.st_mode))
			continue;
		char *args[] = {dir};
		char **files = NULL;
		struct vg_err err = {0};
		int n = cap_expand_paths(args, 1, &files, &err);
		if (n < 0) {
			fprintf(stderr, "vigia ingest: %s\n", err.msg);
			rc = -1;
			break;
		}
		size_t alen = strlen(archive);
		for (int i = 0; i < n && !rc; i++) {
			const char *name = files[i] + alen + 1;
			if (wanted(name) && list_add(l, files[i], name) < 0)
				rc = -1;
		}
		cap_free_list(files);
	}
	closedir(d);
	return rc;
}

struct run_state {
	struct progress prog;
	size_t index, total;
	const char *name;
	uint64_t frames_before;
};

static void progress_cb(void *ctx, uint64_t frames)
{
	struct run_state *rs = ctx;
	double el = progress_elapsed(&rs->prog);
	uint64_t all = rs->frames_before + frames;
	progress_update(&rs->prog, "ingest: file %zu/%zu %s: %.1f M frames, %.2f M frames/s",
			rs->index + 1, rs->total, rs->name, (double)all / 1e6,
			el > 0 ? (double)all / el / 1e6 : 0.0);
}

int cmd_ingest(int argc, char **argv)
{
	struct opts o = {0};
	int rc = VG_EXIT_OK;
	struct cfg_central *cfg = NULL;
	struct geo_db *geo = NULL;
	struct fp_db *fp = NULL;
	struct db *db = NULL;
	struct ingest *ig = NULL;
	struct rule_set *rules = NULL;
	struct sanitizer *san = NULL;
	struct list files = {0};
	struct vg_err err = {0};

	int first = parse_args(argc, argv, &o);
	if (first < 0) {
		rc = VG_EXIT_USAGE;
		goto out;
	}
	if (o.config || !o.archive || !o.db) {
		const char *path = cfg_central_path(o.config);
		if (cfg_central_load(path, &cfg, &err)) {
			fprintf(stderr, "vigia ingest: %s\n", err.msg);
			if (!o.config && (!o.archive || !o.db))
				fprintf(stderr, "vigia ingest: give --config FILE, or --archive DIR and --db FILE\n");
			rc = o.config ? VG_EXIT_FATAL : VG_EXIT_USAGE;
			goto out;
		}
	}
	const char *archive = o.archive ? o.archive : cfg->archive;
	const char *dbpath = o.db ? o.db : cfg->database;
	if (!dbpath) {
		fprintf(stderr, "vigia ingest: no database given\n");
		rc = VG_EXIT_USAGE;
		goto out;
	}
	char archive_real[PATH_MAX];
	if (!realpath(archive, archive_real)) {
		fprintf(stderr, "vigia ingest: %s: %s\n", archive, strerror(errno));
		rc = VG_EXIT_FATAL;
		goto out;
	}

	/* The files: given, or everything under the archive. */
	if (first < argc) {
		for (int i = first; i < argc; i++) {
			char real[PATH_MAX];
			size_t alen = strlen(archive_real);
			if (!realpath(argv[i], real)) {
				fprintf(stderr, "vigia ingest: %s: %s\n", argv[i], strerror(errno));
				rc = VG_EXIT_BADINPUT;
				continue;
			}
			int r = strncmp(real, archive_real, alen) || real[alen] != '/' ? 1
				: list_add(&files, real, real + alen + 1);
			if (r < 0) {
				rc = VG_EXIT_FATAL;
				goto out;
			}
			if (r > 0) {
				fprintf(stderr, "vigia ingest: %s: not inside a sensor's directory of "
					"the archive %s\n", argv[i], archive_real);
				rc = VG_EXIT_BADINPUT;
			} else if (!sensor_selected(&o, files.v[files.n - 1].sensor)) {
				files.n--;
				free(files.v[files.n].path);
				free(files.v[files.n].name);
				free(files.v[files.n].sensor);
			}
		}
	} else if (scan_archive(archive_real, &o, &files)) {
		rc = VG_EXIT_FATAL;
		goto out;
	}
	if (files.n) /* qsort of NULL is undefined, even for 0 items */
		qsort(files.v, files.n, sizeof *files.v, cmp_item);

	int gr = cli_load_geo("vigia ingest", o.rir, o.nrir, &geo);
	if (gr) {
		rc = gr;
		goto out;
	}
	if (!o.no_p0f && fp_db_load(&fp, o.p0f, &err)) {
		fprintf(stderr, "vigia ingest: %s\n", err.msg);
		rc = VG_EXIT_FATAL;
		goto out;
	}
	if (db_open(&db, dbpath, &err)) {
		fprintf(stderr, "vigia ingest: %s\n", err.msg);
		rc = VG_EXIT_FATAL;
		goto out;
	}
	/* issue 8: incidents in the same pass, HOME_NET the sensors' networks */
	struct classifier_config ccfg = {0};
	if (!o.no_classify) {
		struct cidr_set home = {0};
		if (cfg && cfg_central_honeynets(cfg, &home)) {
			fprintf(stderr, "vigia ingest: out of memory\n");
			rc = VG_EXIT_FATAL;
			goto out;
		}
		int r = cli_load_rules("vigia ingest", o.rules, o.nrules, &home, 1, &rules);
		cidr_set_free(&home);
		if (r) {
			rc = r;
			goto out;
		}
		if (cfg && sanitizer_new(cfg, &san, &err)) {
			fprintf(stderr, "vigia ingest: %s\n", err.msg);
			rc = VG_EXIT_FATAL;
			goto out;
		}
		ccfg.rules = rules;
		ccfg.san = san;
		det_config_default(&ccfg.det);
		ccfg.threads = cli_classify_threads();
	}
	struct run_state rs = {.total = files.n};
	progress_init(&rs.prog, o.quiet);
	struct ingest_config icfg = {
		.db = db, .geo = geo, .fp = fp, .bin_seconds = o.bin,
		.progress = progress_cb, .progress_ctx = &rs,
		.no_early_warning = o.no_ew,
		.classify = o.no_classify ? NULL : &ccfg,
	};
	if (ingest_new(&ig, &icfg, &err)) {
		fprintf(stderr, "vigia ingest: %s: %s\n", dbpath, err.msg);
		rc = VG_EXIT_FATAL;
		goto out;
	}

	size_t stored = 0, already = 0, damaged = 0, refused = 0;
	uint64_t frames = 0, packets = 0, bytes = 0, sources = 0, incidents = 0;
	for (size_t i = 0; i < files.n; i++) {
		struct item *it = &files.v[i];
		const struct cfg_sensor *cs = cfg ? cfg_central_sensor(cfg, it->sensor) : NULL;
		if (cfg && !cs) {
			progress_clear(&rs.prog);
			fprintf(stderr, "vigia ingest: %s: sensor '%s' is not in %s; skipped\n",
				it->path, it->sensor, cfg->path);
			refused++;
			continue;
		}
		struct ingest_file f = {
			.path = it->path,
			.name = it->name,
			.sensor = it->sensor,
			.sensor_id = cs ? cs->id : 0,
			.honeynets = cs ? &cs->networks : NULL,
		};
		rs.index = i;
		rs.name = it->name;
		struct ingest_result res;
		if (ingest_file(ig, &f, &res, &err)) {
			progress_clear(&rs.prog);
			fprintf(stderr, "vigia ingest: %s: %s; nothing of it was stored\n",
				it->path, err.msg);
			rc = VG_EXIT_FATAL;
			break;
		}
		switch (res.outcome) {
		case INGEST_ALREADY:
			already++;
			continue;
		case INGEST_CHANGED:
		case INGEST_UNREADABLE:
			progress_clear(&rs.prog);
			fprintf(stderr, "vigia ingest: %s\n", res.message);
			refused++;
			continue;
		case INGEST_STORED:
			break;
		}
		stored++;
		frames += res.frames;
		rs.frames_before = frames;
		packets += res.packets;
		bytes += res.bytes;
		sources += res.sources;
		incidents += res.incidents;
		if (res.damaged) {
			damaged++;
			progress_clear(&rs.prog);
			fprintf(stderr, "vigia ingest: %s (stored what could be read)\n", res.message);
		}
	}
	progress_clear(&rs.prog);
	double secs = progress_elapsed(&rs.prog);
	if (!o.quiet)
		printf("vigia ingest: %zu file%s stored (%" PRIu64 " packets, %" PRIu64
		       " bytes counted of %" PRIu64 " frames; %" PRIu64 " source-days), %zu already "
		       "stored, %zu damaged, %zu refused; %.2f s, %.2f M frames/s\n",
		       stored, stored == 1 ? "" : "s", packets, bytes, frames, sources, already,
		       damaged, refused, secs, secs > 0 ? (double)frames / secs / 1e6 : 0.0);
	if (!o.quiet && !o.no_classify)
		printf("vigia ingest: %" PRIu64 " incident update%s merged (%s; `vigia incidents --db` "
		       "lists them)\n", incidents, incidents == 1 ? "" : "s",
		       rules ? "rules and detectors" : "detectors only: no rule file");
	if (rc == VG_EXIT_OK && (damaged || refused))
		rc = VG_EXIT_BADINPUT;
out:
	list_free(&files);
	ingest_free(ig);
	db_close(db);
	fp_db_free(fp);
	geo_db_free(geo);
	sanitizer_free(san);
	rule_set_free(rules);
	cfg_central_free(cfg);
	free(o.sensors);
	free(o.rir);
	free(o.rules);
	return rc;
}
