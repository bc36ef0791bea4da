/* vigia: the central program.  One binary, one subcommand per stage. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{"analyze", cmd_analyze, "top ports, countries and OSes of captures (JSON, CSV, table)"},
	{"fingerprint", cmd_fingerprint, "p0f-compatible OS label of every TCP SYN in captures"},
	{"ingest", cmd_ingest, "count newly archived files into the database, classifying incidents"},
	{"collect", cmd_collect, "pull every sensor's completed spool files over ssh"},
	{"status", cmd_status, "health of every sensor over ssh (Nagios exit status)"},
	{"stats", cmd_stats, "public statistics site: graphs, tables, CSV and JSON"},
	{"summary", cmd_summary, "members' daily summary: sanitized, OpenPGP-encrypted, mailed"},
	{"incidents", cmd_incidents, "classify captures into incidents: rules and behaviour detectors"},
	{"watch", cmd_watch, "early warning: new and growing activity, alerts to the members"},
	{"export", cmd_export, "foreign incidents of a day as a partner feed (IntelMQ fields)"},
	{"notify", cmd_notify, "mail national sources' abuse contacts their incidents"},
	{"check-config", cmd_check_config, "load the central configuration and report what it holds"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vigia COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
		fprintf(f, "  %-12s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f, "\n`vigia COMMAND --help` describes each command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return VG_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return VG_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("vigia %s\n", VIGIA_VERSION);
		return VG_EXIT_OK;
	}
	/* Every command is a job that exits when done.  The classifier's
	 * workers grow millions of small tables in their own malloc arenas,
	 * which glibc by default gives back to the kernel and takes again a
	 * few pages at a time: tens of thousands of mprotect calls on a busy
	 * day (bench/README.md).  Keep freed memory up to 1 GiB instead. */
	mallopt(M_TOP_PAD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "vigia: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return VG_EXIT_USAGE;
}
