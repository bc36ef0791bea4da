/* vigia: the central program.  One binary, one subcommand per stage. */
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
	for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "vigia: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return VG_EXIT_USAGE;
}
