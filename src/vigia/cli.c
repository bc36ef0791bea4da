#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sanitize.h"

int cli_parse_day(const char *s, int64_t *out)
{
	struct tm tm = {0};
	char *end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || *end)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

void cli_say(const struct sanitizer *san, const char *who, FILE *f, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (!san) {
		fprintf(f, "%s\n", buf);
		return;
	}
	char *clean = NULL;
	if (sanitize_text(san, buf, strlen(buf), &clean, NULL, NULL) == 0) {
		fprintf(f, "%s\n", clean);
		free(clean);
	} else {
		fprintf(f, "%s: (a message was withheld: out of memory)\n", who);
	}
}
