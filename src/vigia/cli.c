#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include "commands.h"
#include "rule-set.h"
#include "sanitize.h"
#include "util-cidr.h"

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

int cli_load_rules(const char *who, const char *const *files, size_t n,
		   const struct cidr_set *home, int default_optional, struct rule_set **out)
{
	static const char *const def[] = {VIGIA_RULES_DIR "/vigia.rules"};
	struct vg_err err = {0};
	*out = NULL;
	const char *env = getenv("VIGIA_RULES");
	if (!n) {
		files = env && *env ? &env : def;
		n = 1;
		if (default_optional && access(files[0], R_OK))
			return VG_EXIT_OK;
	}
	struct rule_set *rs;
	if (rule_set_new(&rs)) {
		fprintf(stderr, "%s: out of memory\n", who);
		return VG_EXIT_FATAL;
	}
	if (home && home->n) {
		/* "[net,net,...]": the rule language's list */
		size_t cap = home->n * 48 + 3, len = 0;
		char *v = malloc(cap);
		if (!v) {
			rule_set_free(rs);
			fprintf(stderr, "%s: out of memory\n", who);
			return VG_EXIT_FATAL;
		}
		v[len++] = '[';
		for (size_t i = 0; i < home->n; i++) {
			char b[64];
			len += (size_t)snprintf(v + len, cap - len, "%s%s", i ? "," : "",
						cidr_str(&home->v[i], b, sizeof b));
		}
		snprintf(v + len, cap - len, "]");
		int r = rule_set_var(rs, "HOME_NET", v, &err);
		free(v);
		if (r) {
			fprintf(stderr, "%s: %s\n", who, err.msg);
			rule_set_free(rs);
			return VG_EXIT_USAGE;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (rule_set_load(rs, files[i], &err)) {
			fprintf(stderr, "%s: %s\n", who, err.msg);
			rule_set_free(rs);
			return VG_EXIT_USAGE;
		}
	if (rule_set_compile(rs, &err)) {
		fprintf(stderr, "%s: %s\n", who, err.msg);
		rule_set_free(rs);
		return VG_EXIT_FATAL;
	}
	*out = rs;
	return VG_EXIT_OK;
}
