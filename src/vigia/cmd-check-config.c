/* vigia check-config: load the central configuration and report what it
 * holds, without contacting anything (issue 10).  Used by deployment
 * scripts and by the test that keeps etc/vigia.conf.sample loading. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cfg-central.h"
#include "commands.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigia check-config [--config FILE] [--quiet]\n"
		"\n"
		"Loads the central configuration as every subcommand does and reports\n"
		"its sensors, members and contacts, or the first error (file, line and\n"
		"what was expected).  Files it names (keys, keyrings) are not opened.\n"
		"\n"
		"  --config FILE   central configuration (default $VIGIA_CONFIG, else %s)\n"
		"  --quiet         print nothing when the file loads\n"
		"\n"
		"Exit status: 0 the file loads, 1 usage, 2 the file has an error.\n",
		CFG_CENTRAL_DEFAULT_PATH);
}

int cmd_check_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	int quiet = 0, ch;
	while ((ch = getopt_long(argc, argv, "c:qh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout); return VG_EXIT_OK;
		default: usage(stderr); return VG_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return VG_EXIT_USAGE;
	}
	const char *path = cfg_central_path(config);
	struct cfg_central *c = NULL;
	struct vg_err e = { 0 };
	if (cfg_central_load(path, &c, &e) < 0) {
		fprintf(stderr, "vigia check-config: %s\n", e.msg);
		return VG_EXIT_BADINPUT;
	}
	if (!quiet) {
		size_t disabled = 0;
		for (size_t i = 0; i < c->nsensors; i++)
			disabled += c->sensors[i].disabled;
		printf("%s: loads: %zu sensor(s) (%zu disabled), %zu member(s), %zu contact(s)\n",
		       path, c->nsensors, disabled, c->nmembers, c->notify.ncontacts);
		printf("archive %s\ndatabase %s\n", c->archive, c->database ? c->database : "(default)");
		for (size_t i = 0; i < c->nsensors; i++)
			printf("sensor %-16s id %-4u %s\n", c->sensors[i].name,
			       (unsigned)c->sensors[i].id, c->sensors[i].host);
	}
	cfg_central_free(c);
	return VG_EXIT_OK;
}
