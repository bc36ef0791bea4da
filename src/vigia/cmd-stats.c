/* vigia stats: the public statistics site from the database (graphs,
 * pages, CSV and JSON; src/lib/site-*.h, docs/stats-site.md). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg-central.h"
#include "commands.h"
#include "db.h"
#include "progress.h"
#include "site-data.h"
#include "site-graph.h"
#include "site-html.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigia stats [--config FILE | --db FILE] [--day YYYY-MM-DD |\n"
		"                   --from YYYY-MM-DD --to YYYY-MM-DD] [--tz ZONE] --out DIR\n"
		"\n"
		"Writes the public statistics site under DIR: for each day, and for the\n"
		"weeks and months holding those days, stacked-area graphs (PNG and SVG) of\n"
		"the top 10 TCP and UDP ports, source countries and OSes (all, Windows,\n"
		"others) in bytes/s and packets/s, tables of the top 10, each graph's data\n"
		"as CSV and JSON, a page per period and an index.  Each period replaces the\n"
		"old one atomically.  Days are days of the time zone.\n"
		"\n"
		"  --config FILE     central configuration (default $VIGIA_CONFIG, else %s)\n"
		"  --db FILE         SQLite database (overrides the config's)\n"
		"  --day DAY         one day\n"
		"  --from DAY --to DAY  every day from..to, both included\n"
		"                    (default: every day the database holds)\n"
		"  --tz ZONE         time zone of days and graphs (default UTC), e.g.\n"
		"                    America/Sao_Paulo\n"
		"  --out DIR         the site's directory (created when absent)\n"
		"  --quiet           no progress and no summary\n"
		"\n"
		"Exit status: 0 written, 1 usage, 3 fatal (nothing or part was written;\n"
		"the message names the file and what failed).\n",
		CFG_CENTRAL_DEFAULT_PATH);
}

struct opts {
	const char *config, *db, *day, *from, *to, *tz, *out;
	bool quiet;
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'C'},
		{"db", required_argument, NULL, 'd'},
		{"day", required_argument, NULL, 'D'},
		{"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},
		{"tz", required_argument, NULL, 'z'},
		{"out", required_argument, NULL, 'o'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	o->tz = "UTC";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:d:D:f:t:z:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'C': o->config = optarg; break;
		case 'd': o->db = optarg; break;
		case 'D': o->day = optarg; break;
		case 'f': o->from = optarg; break;
		case 't': o->to = optarg; break;
		case 'z': o->tz = optarg; break;
		case 'o': o->out = optarg; break;
		case 'q': o->quiet = true; break;
		case 'h':
			usage(stdout);
			exit(VG_EXIT_OK);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vigia stats: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!o->out) {
		fprintf(stderr, "vigia stats: --out DIR is required\n");
		return -1;
	}
	if (o->day && (o->from || o->to)) {
		fprintf(stderr, "vigia stats: give --day, or --from and --to, not both\n");
		return -1;
	}
	if (!o->from != !o->to) {
		fprintf(stderr, "vigia stats: --from and --to go together\n");
		return -1;
	}
	return 0;
}

struct plist {
	struct site_period *v;
	size_t n, cap;
};

static int plist_add(struct plist *l, const struct site_period *p)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].kind == p->kind && !strcmp(l->v[i].name, p->name))
			return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct site_period *nv = realloc(l->v, cap * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = *p;
	return 0;
}

struct prog {
	struct progress pr;
	size_t done, total;
};

static void on_progress(void *ctx, const struct site_period *p, size_t done, size_t total)
{
	struct prog *g = ctx;
	g->done++;
	progress_update(&g->pr, "vigia stats: %s %s: graph set %zu/%zu (%zu/%zu in all)",
			p->kind == SITE_DAY ? "day" : p->kind == SITE_WEEK ? "week" : "month", p->name,
			done, total, g->done, g->total);
}

int cmd_stats(int argc, char **argv)
{
	struct opts o = {0};
	if (parse_args(argc, argv, &o))
		return VG_EXIT_USAGE;
	struct vg_err err = {0};
	struct cfg_central *cfg = NULL;
	int rc = VG_EXIT_FATAL;
	struct db *db = NULL;
	struct plist pl = {0};

	if (o.config || !o.db) {
		const char *path = cfg_central_path(o.config);
		if (cfg_central_load(path, &cfg, &err)) {
			fprintf(stderr, "vigia stats: %s\n", err.msg);
			if (!o.config && !o.db)
				fprintf(stderr, "vigia stats: give --config FILE or --db FILE\n");
			return o.config ? VG_EXIT_FATAL : VG_EXIT_USAGE;
		}
	}
	const char *dbpath = o.db ? o.db : cfg->database;
	struct stat st;
	if (stat(dbpath, &st)) {
		fprintf(stderr, "vigia stats: %s: cannot open the database: %s\n", dbpath,
			strerror(errno));
		goto out;
	}
	if (site_tz_use(o.tz, &err)) {
		fprintf(stderr, "vigia stats: %s\n", err.msg);
		rc = VG_EXIT_USAGE;
		goto out;
	}
	if (db_open(&db, dbpath, &err)) {
		fprintf(stderr, "vigia stats: %s\n", err.msg);
		goto out;
	}
	char bs[32];
	int64_t bin = 300;
	int r = db_meta_get(db, "bin_seconds", bs, sizeof bs, &err);
	if (r < 0) {
		fprintf(stderr, "vigia stats: %s\n", err.msg);
		goto out;
	}
	if (r == 1 && (bin = strtoll(bs, NULL, 10)) <= 0) {
		fprintf(stderr, "vigia stats: %s: bad bin_seconds '%s' in the meta table\n", dbpath, bs);
		goto out;
	}

	/* The days asked for, in the zone. */
	int y0, m0, d0, y1, m1, d1;
	if (o.day || o.from) {
		const char *a = o.day ? o.day : o.from, *b = o.day ? o.day : o.to;
		if (site_parse_date(a, &y0, &m0, &d0) || site_parse_date(b, &y1, &m1, &d1)) {
			fprintf(stderr, "vigia stats: '%s': expected a date YYYY-MM-DD\n",
				site_parse_date(a, &y0, &m0, &d0) ? a : b);
			rc = VG_EXIT_USAGE;
			goto out;
		}
	} else {
		int64_t first, last;
		r = db_bin_span(db, &first, &last, &err);
		if (r < 0) {
			fprintf(stderr, "vigia stats: %s\n", err.msg);
			goto out;
		}
		if (r == 0) {
			fprintf(stderr, "vigia stats: %s: the database holds no traffic yet; "
				"nothing to draw\n", dbpath);
			goto out;
		}
		site_local_date(first, &y0, &m0, &d0);
		site_local_date(last, &y1, &m1, &d1);
	}
	struct site_period day, last;
	if (site_period_of(SITE_DAY, y0, m0, d0, bin, &day, &err) ||
	    site_period_of(SITE_DAY, y1, m1, d1, bin, &last, &err)) {
		fprintf(stderr, "vigia stats: %s\n", err.msg);
		goto out;
	}
	if (last.start < day.start) {
		fprintf(stderr, "vigia stats: --from %s is after --to %s\n", o.from, o.to);
		rc = VG_EXIT_USAGE;
		goto out;
	}
	size_t ndays = 0;
	for (int64_t t = day.start; t <= last.start && ndays < 3700; ndays++) {
		int y, m, d;
		site_local_date(t, &y, &m, &d);
		struct site_period p, w, mo;
		if (site_period_of(SITE_DAY, y, m, d, bin, &p, &err) ||
		    site_period_of(SITE_WEEK, y, m, d, bin, &w, &err) ||
		    site_period_of(SITE_MONTH, y, m, d, bin, &mo, &err)) {
			fprintf(stderr, "vigia stats: %s\n", err.msg);
			goto out;
		}
		if (plist_add(&pl, &p) || plist_add(&pl, &w) || plist_add(&pl, &mo)) {
			fprintf(stderr, "vigia stats: out of memory\n");
			goto out;
		}
		t = p.end;
	}
	if (ndays >= 3700) {
		fprintf(stderr, "vigia stats: more than 3700 days asked for; give a shorter range\n");
		rc = VG_EXIT_USAGE;
		goto out;
	}

	struct prog g = {.total = pl.n * an_nviews};
	progress_init(&g.pr, o.quiet);
	struct site_opts so = {
		.out = o.out, .zone = o.tz, .progress = on_progress, .ctx = &g,
	};
	struct site_result res;
	r = site_build(db, &so, pl.v, pl.n, &res, &err);
	progress_clear(&g.pr);
	if (r) {
		fprintf(stderr, "vigia stats: %s\n", err.msg);
		fprintf(stderr, "vigia stats: stopped; %zu days, %zu weeks, %zu months were written "
			"before the error, the rest of %s is as it was\n",
			res.periods[0], res.periods[1], res.periods[2], o.out);
		goto out;
	}
	if (!o.quiet)
		printf("vigia stats: %s: %zu day%s, %zu week%s, %zu month%s; %zu graph sets "
		       "(PNG, SVG, CSV, JSON), %zu files, %.1f MB, in %.1f s (time zone %s)\n",
		       o.out, res.periods[0], res.periods[0] == 1 ? "" : "s", res.periods[1],
		       res.periods[1] == 1 ? "" : "s", res.periods[2], res.periods[2] == 1 ? "" : "s",
		       res.graph_sets,
		       res.files, (double)res.bytes / 1e6, progress_elapsed(&g.pr), o.tz);
	rc = VG_EXIT_OK;
out:
	free(pl.v);
	db_close(db);
	cfg_central_free(cfg);
	site_graph_release();
	return rc;
}
