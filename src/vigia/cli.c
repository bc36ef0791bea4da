#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include "commands.h"
#include "geo-rir.h"
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

int cli_push(const char ***v, size_t *n, const char *s)
{
	const char **nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

int cli_parse_bin(const char *who, const char *arg, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(arg, &end, 10);
	if (errno || *end || !v || v > 86400) {
		fprintf(stderr, "%s: --bin must be 1..86400 seconds, not '%s'\n", who, arg);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int cli_load_geo(const char *who, const char *const *files, size_t n, struct geo_db **out)
{
	struct vg_err err = {0};
	*out = NULL;
	if (!n)
		return VG_EXIT_OK;
	struct geo_db *geo = geo_db_new();
	if (!geo) {
		fprintf(stderr, "%s: out of memory\n", who);
		return VG_EXIT_FATAL;
	}
	for (size_t i = 0; i < n; i++)
		if (geo_db_load_file(geo, files[i], &err)) {
			fprintf(stderr, "%s: %s\n", who, err.msg);
			geo_db_free(geo);
			return VG_EXIT_FATAL;
		}
	if (geo_db_finalize(geo, &err)) {
		fprintf(stderr, "%s: %s\n", who, err.msg);
		geo_db_free(geo);
		return VG_EXIT_FATAL;
	}
	*out = geo;
	return VG_EXIT_OK;
}

char *cli_read_password(const char *path, struct vg_err *err)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		vg_err_set(err, -errno, "%s: %s", path, strerror(errno));
		return NULL;
	}
	char buf[512];
	char *p = fgets(buf, sizeof buf, f) ? strdup(buf) : strdup("");
	fclose(f);
	if (p)
		p[strcspn(p, "\r\n")] = '\0';
	else
		vg_err_set(err, -ENOMEM, "out of memory");
	explicit_bzero(buf, sizeof buf);
	return p;
}

int cli_classify_threads(void)
{
	const char *v = getenv("VIGIA_CLASSIFY_THREADS");
	if (!v || v[0] < '0' || v[0] > '9' || v[1])
		return 0;
	return v[0] == '0' ? -1 : v[0] - '0';
}
