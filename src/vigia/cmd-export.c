/* vigia export: the foreign incidents of a day as a partner feed
 * (docs/notify.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cfg-central.h"
#include "cli.h"
#include "commands.h"
#include "db.h"
#include "export.h"
#include "geo-rir.h"
#include "sanitize.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigia export [--config FILE] [--db FILE] --day YYYY-MM-DD\n"
		"                    [--format csv|jsonl] [--out FILE] [--rir FILE]...\n"
		"Write the day's incidents from foreign sources (country not in the config's\n"
		"'national' codes) as a feed with IntelMQ field names (docs/notify.md).\n"
		"  --config FILE   central configuration (default $VIGIA_CONFIG, else %s)\n"
		"  --db FILE       database (default: the config's)\n"
		"  --format F      csv (default) or jsonl\n"
		"  --out FILE      output file (default stdout); written whole, then renamed\n"
		"  --rir FILE      RIR delegation file, for sources ingest left without a\n"
		"                  country (repeatable)\n", CFG_CENTRAL_DEFAULT_PATH);
}


int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'C'},
		{"db", required_argument, NULL, 'd'},
		{"day", required_argument, NULL, 'D'},
		{"format", required_argument, NULL, 'f'},
		{"out", required_argument, NULL, 'o'},
		{"rir", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL, *dbpath = NULL, *dayarg = NULL, *out = NULL;
	const char *rir[64];
	size_t nrir = 0;
	enum export_format fmt = EXPORT_CSV;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:d:D:f:o:r:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'C': config = optarg; break;
		case 'd': dbpath = optarg; break;
		case 'D': dayarg = optarg; break;
		case 'o': out = optarg; break;
		case 'f':
			if (!strcmp(optarg, "csv"))
				fmt = EXPORT_CSV;
			else if (!strcmp(optarg, "jsonl"))
				fmt = EXPORT_JSONL;
			else {
				fprintf(stderr, "vigia export: --format expects csv or jsonl, got '%s'\n", optarg);
				return VG_EXIT_USAGE;
			}
			break;
		case 'r':
			if (nrir == sizeof rir / sizeof rir[0]) {
				fprintf(stderr, "vigia export: at most 64 --rir files\n");
				return VG_EXIT_USAGE;
			}
			rir[nrir++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return VG_EXIT_OK;
		default:
			usage(stderr);
			return VG_EXIT_USAGE;
		}
	}
	int64_t day;
	if (optind != argc || !dayarg || cli_parse_day(dayarg, &day) < 0) {
		fprintf(stderr, "vigia export: --day YYYY-MM-DD is required (and no other arguments)\n");
		return VG_EXIT_USAGE;
	}
	struct vg_err err = {0};
	struct cfg_central *cfg = NULL;
	struct sanitizer *san = NULL;
	struct db *db = NULL;
	struct geo_db *geo = NULL;
	FILE *f = NULL;
	char *tmp = NULL;
	int ret = VG_EXIT_FATAL;
	const char *cpath = cfg_central_path(config);
	if (cfg_central_load(cpath, &cfg, &err) < 0 || sanitizer_new(cfg, &san, &err) < 0 ||
	    db_open(&db, dbpath ? dbpath : cfg->database, &err) < 0) {
		fprintf(stderr, "vigia export: %s\n", err.msg);
		goto done;
	}
	if (!cfg->nnational)
		fprintf(stderr, "vigia export: %s has no 'national' codes: every source is foreign\n", cpath);
	if (cli_load_geo("vigia export", rir, nrir, &geo))
		goto done;
	if (out) {
		size_t tl = strlen(out) + 8;
		if (!(tmp = malloc(tl)))
			goto done;
		snprintf(tmp, tl, "%s.tmp", out);
		if (!(f = fopen(tmp, "w"))) {
			fprintf(stderr, "vigia export: %s: %s\n", tmp, strerror(errno));
			goto done;
		}
	}
	struct export_opts eo = {
		.national = cfg->national, .nnational = cfg->nnational,
		.feed_name = cfg->notify.feed_name ? cfg->notify.feed_name : "vigia-honeypots",
		.feed_provider = cfg->notify.feed_provider ? cfg->notify.feed_provider : "vigia",
		.format = fmt, .geo = geo, .san = san,
	};
	size_t rows = 0;
	if (export_day(db, day, &eo, f ? f : stdout, &rows, &err) < 0) {
		fprintf(stderr, "vigia export: %s\n", err.msg);
		goto done;
	}
	if (f) {
		int e = fclose(f);
		f = NULL;
		if (e != 0 || rename(tmp, out) < 0) {
			fprintf(stderr, "vigia export: %s: %s\n", out, strerror(errno));
			goto done;
		}
	}
	fprintf(stderr, "vigia export: %s: %zu foreign incident%s\n", dayarg, rows, rows == 1 ? "" : "s");
	ret = VG_EXIT_OK;
done:
	if (f) {
		fclose(f);
		remove(tmp);
	}
	free(tmp);
	geo_db_free(geo);
	db_close(db);
	sanitizer_free(san);
	cfg_central_free(cfg);
	return ret;
}
