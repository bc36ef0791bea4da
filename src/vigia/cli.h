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

#endif
