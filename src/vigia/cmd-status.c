/* vigia status: the health of every sensor over ssh (issue 5).
 *
 * Each sensor's gateway answers `status` with one JSON document (facts of
 * the sensor: its clock, uptime, NTP state, spool file system, sensord,
 * manifest backlog, and sensord's status.json).  Here the facts become
 * checks with OK/WARN/CRIT states from the config's thresholds, printed as
 * a table, JSON or HTML, stored in the database (table health_check) for
 * `--history`, and summed up in a Nagios plug-in exit status.
 *
 * The document comes from the sensor and is untrusted: status-eval (the
 * library) parses it within its length and makes the checks; a libFuzzer
 * harness (fuzz/fuzz-status-eval.c) covers it.  The --json document is
 * built with json-c (util-json.h's names clash with json-c's; jansson's
 * json_null() would clash at link time). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "cfg-central.h"
#include "commands.h"
#include "db.h"
#include "sshrun.h"
#include "status-eval.h"

struct sensor_result {
	const struct cfg_sensor *s;
	struct status_check c[STATUS_NCHECKS];
	enum status_state worst;
};

/* CRIT dominates, then WARN, then UNKNOWN (a check that could not run
 * must not hide a known problem elsewhere). */
static int rank(enum status_state s)
{
	static const int r[] = {0, 2, 3, 1};
	return r[s];
}

static enum status_state worse(enum status_state a, enum status_state b)
{
	return rank(a) >= rank(b) ? a : b;
}

/* The reply is untrusted (the sensor may be compromised): status-eval
 * parses it within its length and turns it into the checks. */
static void evaluate(const struct cfg_central *c, struct sensor_result *sr,
		     const struct run_result *rr, double now)
{
	if (rr->status != 0) {
		char line[300];
		run_err_line(rr, line, sizeof line);
		status_eval_unreachable(line, sr->c);
		return;
	}
	struct status_eval_ctx ctx = {
		.th = &c->status,
		.retention_seconds = sr->s->retention_seconds,
		.t_start = rr->t_start,
		.t_first = rr->t_first,
		.t_end = rr->t_end,
		.now = now,
	};
	/* a reply that is not a JSON object is in the ssh check's message */
	status_eval(sr->s->name, rr->out, rr->out ? rr->outlen : 0, &ctx, sr->c, NULL);
}

/* ---- running the checks (threads: one ssh each, --parallel at once) --- */

struct pool {
	const struct cfg_central *c;
	struct sensor_result *res;
	size_t n, next;
	pthread_mutex_t mu;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		size_t i = p->next++;
		pthread_mutex_unlock(&p->mu);
		if (i >= p->n)
			return NULL;
		struct sensor_result *sr = &p->res[i];
		struct ssh_target t;
		struct run_result rr;
		memset(&rr, 0, sizeof rr);
		char msg[300];
		if (ssh_target_init(&t, p->c, sr->s, msg, sizeof msg) < 0) {
			for (int k = 0; k < STATUS_NCHECKS; k++) {
				sr->c[k].state = STATUS_UNKNOWN;
				sr->c[k].value = NAN;
				snprintf(sr->c[k].msg, sizeof sr->c[k].msg, "%.*s", STATUS_MSG_MAX - 1,
					 k ? "not checked" : msg);
			}
			continue;
		}
		char *argv[SSH_MAX_ARGS + 6];
		ssh_argv(&t, "status", argv, sizeof argv / sizeof argv[0]);
		int rc = run_capture(argv, 1 << 20, p->c->connect_timeout + 30, &rr);
		if (rc < 0) {
			rr.status = 255;
			snprintf(rr.err, sizeof rr.err, "%s: %s", p->c->ssh_program, strerror(-rc));
		}
		evaluate(p->c, sr, &rr, now_realtime());
		run_result_free(&rr);
		ssh_target_cleanup(&t);
	}
}

/* ---- storage ----------------------------------------------------------- */

/* The table is the database's (a migration in db-sqlite.c): db_open
 * creates or upgrades the file, then the checks are written and read
 * with SQLite directly, as db.h has no calls for them. */
static int db_open_status(const char *path, sqlite3 **db)
{
	struct vg_err err = {0};
	struct db *d;
	if (db_open(&d, path, &err) < 0) {
		fprintf(stderr, "vigia status: %s\n", err.msg);
		return -1;
	}
	db_close(d);
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fprintf(stderr, "vigia status: %s: %s\n", path, sqlite3_errmsg(*db));
		sqlite3_close(*db);
		return -1;
	}
	sqlite3_busy_timeout(*db, 10000);
	return 0;
}

static int store(const char *path, const struct sensor_result *res, size_t n, double now)
{
	sqlite3 *db;
	if (db_open_status(path, &db) < 0)
		return -1;
	sqlite3_stmt *ins = NULL;
	int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "INSERT INTO health_check VALUES (?,?,?,?,?,?)", -1, &ins, NULL);
	for (size_t i = 0; i < n && rc == SQLITE_OK; i++)
		for (int k = 0; k < STATUS_NCHECKS && rc == SQLITE_OK; k++) {
			const struct status_check *ck = &res[i].c[k];
			sqlite3_bind_double(ins, 1, now);
			sqlite3_bind_text(ins, 2, res[i].s->name, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 3, status_check_name(k), -1, SQLITE_STATIC);
			sqlite3_bind_int(ins, 4, ck->state);
			if (isnan(ck->value))
				sqlite3_bind_null(ins, 5);
			else
				sqlite3_bind_double(ins, 5, ck->value);
			sqlite3_bind_text(ins, 6, ck->msg, -1, SQLITE_STATIC);
			rc = sqlite3_step(ins) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
			sqlite3_reset(ins);
		}
	sqlite3_finalize(ins);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		fprintf(stderr, "vigia status: %s: cannot store the results: %s\n", path, sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static void fmt_time(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Every change of state per sensor and check (the first result of each
 * counts as a change from nothing). */
static int history(const char *path, const char *only, bool all)
{
	sqlite3 *db;
	if (db_open_status(path, &db) < 0)
		return STATUS_UNKNOWN;
	const char *q =
		"SELECT time, sensor, check_name, prev, state, message FROM ("
		" SELECT time, sensor, check_name, state, message,"
		"  LAG(state) OVER (PARTITION BY sensor, check_name ORDER BY time) AS prev"
		" FROM health_check WHERE ?1 IS NULL OR sensor = ?1)"
		" WHERE ?2 OR prev IS NULL OR prev != state ORDER BY time, sensor, check_name";
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "vigia status: %s: %s\n", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return STATUS_UNKNOWN;
	}
	if (only)
		sqlite3_bind_text(st, 1, only, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, all);
	printf("%-20s %-16s %-8s %-16s %s\n", "time", "sensor", "check", "state", "message");
	while (sqlite3_step(st) == SQLITE_ROW) {
		char tb[32], change[32];
		fmt_time(sqlite3_column_double(st, 0), tb, sizeof tb);
		int now = sqlite3_column_int(st, 4);
		if (sqlite3_column_type(st, 3) == SQLITE_NULL)
			snprintf(change, sizeof change, "%s", status_state_name(now & 3));
		else
			snprintf(change, sizeof change, "%s -> %s", status_state_name(sqlite3_column_int(st, 3) & 3),
					status_state_name(now & 3));
		printf("%-20s %-16s %-8s %-16s %s\n", tb, (const char *)sqlite3_column_text(st, 1),
				(const char *)sqlite3_column_text(st, 2), change,
				(const char *)sqlite3_column_text(st, 5));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return fflush(stdout) == 0 ? 0 : STATUS_UNKNOWN;
}

/* ---- output ------------------------------------------------------------ */

static void out_table(FILE *f, const struct sensor_result *res, size_t n, bool color)
{
	static const char *const col[] = {"\033[32m", "\033[33m", "\033[31m", "\033[35m"};
	fprintf(f, "%-16s %-8s %-7s %s\n", "sensor", "check", "state", "detail");
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < STATUS_NCHECKS; k++) {
			const struct status_check *ck = &res[i].c[k];
			fprintf(f, "%-16s %-8s %s%-7s%s %s\n", k == 0 ? res[i].s->name : "", status_check_name(k),
					color ? col[ck->state] : "", status_state_name(ck->state), color ? "\033[0m" : "",
					ck->msg);
		}
}

static void out_json(FILE *f, const struct sensor_result *res, size_t n, double now, enum status_state all)
{
	char tb[32];
	fmt_time(now, tb, sizeof tb);
	json_object *doc = json_object_new_object(), *arr = json_object_new_array();
	json_object_object_add(doc, "time", json_object_new_string(tb));
	json_object_object_add(doc, "state", json_object_new_string(status_state_name(all)));
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object(), *checks = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(res[i].s->name));
		json_object_object_add(o, "id", json_object_new_int64(res[i].s->id));
		json_object_object_add(o, "state", json_object_new_string(status_state_name(res[i].worst)));
		for (int k = 0; k < STATUS_NCHECKS; k++) {
			const struct status_check *ck = &res[i].c[k];
			json_object *c = json_object_new_object();
			json_object_object_add(c, "state", json_object_new_string(status_state_name(ck->state)));
			json_object_object_add(c, "value", isnan(ck->value) ? NULL : json_object_new_double(ck->value));
			json_object_object_add(c, "message", json_object_new_string(ck->msg));
			json_object_object_add(checks, status_check_name(k), c);
		}
		json_object_object_add(o, "checks", checks);
		json_object_array_add(arr, o);
	}
	json_object_object_add(doc, "sensors", arr);
	fputs(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE), f);
	fputc('\n', f);
	json_object_put(doc);
}

static void html_text(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
}

static int out_html(const char *path, const struct sensor_result *res, size_t n, double now,
		    enum status_state all)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "vigia status: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	char tb[32];
	fmt_time(now, tb, sizeof tb);
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<title>vigia sensors: %s</title>\n<style>\n"
		"body{font-family:sans-serif}table{border-collapse:collapse}"
		"td,th{border:1px solid #999;padding:2px 6px;text-align:left}"
		".OK{background:#cfc}.WARN{background:#ffc}.CRIT{background:#fcc}.UNKNOWN{background:#ddd}\n"
		"</style></head><body>\n<h1>Sensor health: <span class=\"%s\">%s</span></h1>\n"
		"<p>Checked at %s (UTC).</p>\n<table>\n<tr><th>sensor</th>",
		status_state_name(all), status_state_name(all), status_state_name(all), tb);
	for (int k = 0; k < STATUS_NCHECKS; k++)
		fprintf(f, "<th>%s</th>", status_check_name(k));
	fputs("</tr>\n", f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "<tr><th class=\"%s\">", status_state_name(res[i].worst));
		html_text(f, res[i].s->name);
		fputs("</th>", f);
		for (int k = 0; k < STATUS_NCHECKS; k++) {
			fprintf(f, "<td class=\"%s\">%s<br><small>", status_state_name(res[i].c[k].state),
					status_state_name(res[i].c[k].state));
			html_text(f, res[i].c[k].msg);
			fputs("</small></td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n</body></html>\n", f);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		fprintf(stderr, "vigia status: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigia status [--config FILE] [--sensor NAME]... [--json] [--html FILE]\n"
		"                    [--no-store] [--parallel N]\n"
		"       vigia status --history [--all] [--config FILE] [--sensor NAME]\n"
		"  Check every sensor over ssh: reachability and round trip, vigia-sensord,\n"
		"  spool disk space, clock offset and NTP sync, uptime, time since the last\n"
		"  packet, capture drops, and the age of uncollected files against retention.\n"
		"  Exit status (Nagios): 0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN.\n");
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"sensor", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'J'},
		{"html", required_argument, NULL, 'H'},
		{"history", no_argument, NULL, 'y'},
		{"all", no_argument, NULL, 'a'},
		{"no-store", no_argument, NULL, 'n'},
		{"parallel", required_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *cfgpath = NULL, *html = NULL;
	const char **only = calloc((size_t)argc + 1, sizeof *only);
	size_t nonly = 0;
	bool json = false, hist = false, all = false, nostore = false;
	unsigned parallel = 0;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:s:j:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 's': only[nonly++] = optarg; break;
		case 'J': json = true; break;
		case 'H': html = optarg; break;
		case 'y': hist = true; break;
		case 'a': all = true; break;
		case 'n': nostore = true; break;
		case 'j': parallel = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'h': usage(stdout); free(only); return 0;
		default: usage(stderr); free(only); return STATUS_UNKNOWN;
		}
	}
	if (optind != argc) {
		usage(stderr);
		free(only);
		return STATUS_UNKNOWN;
	}
	struct cfg_central *c;
	struct vg_err err = {0};
	if (cfg_central_load(cfg_central_path(cfgpath), &c, &err) < 0) {
		fprintf(stderr, "vigia status: %s\n", err.msg);
		free(only);
		return STATUS_UNKNOWN;
	}
	for (size_t i = 0; i < nonly; i++)
		if (!cfg_central_sensor(c, only[i])) {
			fprintf(stderr, "vigia status: %s: no sensor named '%s'\n", c->path, only[i]);
			free(only);
			cfg_central_free(c);
			return STATUS_UNKNOWN;
		}
	if (hist) {
		int rc = history(c->database, nonly ? only[0] : NULL, all);
		free(only);
		cfg_central_free(c);
		return rc;
	}
	struct sensor_result *res = calloc(c->nsensors + 1, sizeof *res);
	size_t n = 0;
	for (size_t i = 0; i < c->nsensors; i++) {
		bool take = nonly == 0 && !c->sensors[i].disabled;
		for (size_t k = 0; k < nonly; k++)
			take |= !strcmp(only[k], c->sensors[i].name);
		if (take)
			res[n++].s = &c->sensors[i];
	}
	free(only);
	if (!parallel)
		parallel = c->parallel;
	struct pool p = {.c = c, .res = res, .n = n};
	pthread_mutex_init(&p.mu, NULL);
	size_t nt = parallel < n ? parallel : n;
	pthread_t *th = calloc(nt + 1, sizeof *th);
	for (size_t i = 0; i < nt; i++)
		pthread_create(&th[i], NULL, worker, &p);
	for (size_t i = 0; i < nt; i++)
		pthread_join(th[i], NULL);
	free(th);
	pthread_mutex_destroy(&p.mu);

	double now = now_realtime();
	enum status_state allst = STATUS_OK;
	for (size_t i = 0; i < n; i++) {
		res[i].worst = STATUS_OK;
		for (int k = 0; k < STATUS_NCHECKS; k++)
			res[i].worst = worse(res[i].worst, res[i].c[k].state);
		allst = worse(allst, res[i].worst);
	}
	if (json)
		out_json(stdout, res, n, now, allst);
	else
		out_table(stdout, res, n, isatty(1));
	if (html && out_html(html, res, n, now, allst) < 0)
		allst = worse(allst, STATUS_UNKNOWN);
	if (!nostore && store(c->database, res, n, now) < 0)
		allst = worse(allst, STATUS_UNKNOWN);
	free(res);
	cfg_central_free(c);
	if (fflush(stdout) != 0)
		return STATUS_UNKNOWN;
	return (int)allst;
}
