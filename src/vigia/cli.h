/* cli.h: small pieces shared by the subcommands of `vigia`. */
#ifndef VIGIA_CLI_H
#define VIGIA_CLI_H

#include <stdint.h>
#include <stdio.h>

struct sanitizer;

/* "YYYY-MM-DD" -> 00:00 UTC of that day; -1 when the text is not a date. */
int cli_parse_day(const char *s, int64_t *out);

/* Print one line through the sanitizer (when san is not NULL): messages
 * may quote config or server text holding a honeypot address.  `who`
 * prefixes the line printed when the sanitizer runs out of memory. */
void cli_say(const struct sanitizer *san, const char *who, FILE *f, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

struct rule_set;
struct cidr_set;

/* The signature rules: `files` (none: $VIGIA_RULES, else the installed
 * vigia.rules), with $HOME_NET set to `home` when it holds networks.
 * Prints the error prefixed with `who` and returns a VG_EXIT_* code;
 * when no file was named and the default is absent, returns 0 with
 * *out NULL if `default_optional`. */
int cli_load_rules(const char *who, const char *const *files, size_t n,
		   const struct cidr_set *home, int default_optional, struct rule_set **out);

/* classifier_config.threads from $VIGIA_CLASSIFY_THREADS: "0" classifies
 * on the calling thread, "1".."9" with that many worker threads (at most
 * 8 are used); unset or anything else, the classifier's choice (one
 * worker per online CPU).  For measuring (bench/bench-rules.sh) and for
 * machines shared with other work. */
int cli_classify_threads(void);

/* Append s to the list *v of *n strings (not copied: argv outlives the
 * command).  -ENOMEM when out of memory, *v then unchanged. */
int cli_push(const char ***v, size_t *n, const char *s);

/* A --bin argument: whole seconds, 1..86400 (one bin never spans more
 * than a day).  Prints the error prefixed with `who` and returns -1 when
 * arg is anything else. */
int cli_parse_bin(const char *who, const char *arg, unsigned *out);

struct geo_db;

/* The RIR delegation files, loaded and finalized into *out (NULL when n
 * is 0).  Prints the error prefixed with `who`; returns a VG_EXIT_* code. */
int cli_load_geo(const char *who, const char *const *files, size_t n, struct geo_db **out);

struct vg_err;

/* The first line of a password file, without its line end (malloc'd; the
 * caller frees it), or NULL with err set.  The stack copy is wiped. */
char *cli_read_password(const char *path, struct vg_err *err);

#endif
