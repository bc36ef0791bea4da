/* vigia status: the health of every sensor over ssh (issue 5).
 *
 * Each sensor's gateway answers `status` with one JSON document (facts of
 * the sensor: its clock, uptime, NTP state, spool file system, sensord,
 * manifest backlog, and sensord's status.json).  Here the facts become
 * checks with OK/WARN/CRIT states from the config's thresholds, printed as
 * a table, JSON or HTML, stored in the database (table health_check) for
 * `--history`, and summed up in a Nagios plug-in exit status.
 *
 * The JSON is parsed with json-c: the document comes from the sensor and
 * is untrusted, and a well-kept parser beats a hand-written one there.
 * The --json document is built with json-c too (util-json.h's names
 * clash with json-c's; jansson's json_null() would clash at link time). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
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

enum st { ST_OK = 0, ST_WARN = 1, ST_CRIT = 2, ST_UNKNOWN = 3 };
static const char *const st_name[] = {"OK", "WARN", "CRIT", "UNKNOWN"};

enum chk { C_SSH, C_SENSORD, C_DISK, C_CLOCK, C_NTP, C_UPTIME, C_CAPTURE, C_DROPS, C_BACKLOG, C_N };
static const char *const chk_name[C_N] = {
	"ssh", "sensord", "disk", "clock", "ntp", "uptime", "capture", "drops", "backlog",
};

struct check {
	enum st st;
	double value;               /* NAN when none */
	char msg[256];
};

struct sensor_result {
	const struct cfg_sensor *s;
	struct check c[C_N];
	enum st worst;
};

/* CRIT dominates, then WARN, then UNKNOWN (a check that could not run
 * must not hide a known problem elsewhere). */
static int rank(enum st s)
{
	static const int r[] = {0, 2, 3, 1};
	return r[s];
}

static enum st worse(enum st a, enum st b)
{
	return rank(a) >= rank(b) ? a : b;
}

static void set(struct check *k, enum st st, double v, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void set(struct check *k, enum st st, double v, const char *fmt, ...)
{
	k->st = st;
	k->value = v;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->msg, sizeof k->msg, fmt, ap);
	va_end(ap);
}

static enum st level(double v, double warn, double crit)
{
	return v >= crit ? ST_CRIT : v >= warn ? ST_WARN : ST_OK;
}

static bool parse_time(const char *s, double *out)
{
	struct tm tm = {0};
	const char *e = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!e)
		return false;
	double frac = 0;
	if (*e == '.') {
		char *end;
		frac = strtod(e, &end);
		e = end;
	}
	if (strcmp(e, "Z"))
		return false;
	*out = (double)timegm(&tm) + frac;
	return true;
}

static const char *human_age(double s, char *buf, size_t len)
{
	if (s < 0)
		snprintf(buf, len, "in the future (%.0f s)", -s);
	else if (s < 120)
		snprintf(buf, len, "%.0f s", s);
	else if (s < 7200)
		snprintf(buf, len, "%.0f min", s / 60);
	else if (s < 172800)
		snprintf(buf, len, "%.1f h", s / 3600);
	else
		snprintf(buf, len, "%.1f days", s / 86400);
	return buf;
}

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;
	if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, k, &v))
		return v;
	return NULL;
}

static bool is_obj(json_object *o)
{
	return o && json_object_is_type(o, json_type_object);
}

static double num(json_object *o, const char *k)
{
	json_object *v = get(o, k);
	if (v && (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return json_object_get_double(v);
	return 0;
}

static long long integer(json_object *o, const char *k)
{
	json_object *v = get(o, k);
	return v && json_object_is_type(v, json_type_int) ? (long long)json_object_get_int64(v) : 0;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v = get(o, k);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static bool truth(json_object *o, const char *k)
{
	json_object *v = get(o, k);
	return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

static void evaluate(const struct cfg_central *c, struct sensor_result *sr,
		     const struct run_result *rr, double now)
{
	const struct cfg_status *th = &c->status;
	struct check *k = sr->c;
	char a[64];
	double rtt = (rr->t_end - rr->t_start) * 1000;
	enum json_tokener_error jerr = json_tokener_success;
	json_object *doc = rr->status == 0 ? json_tokener_parse_verbose(rr->out, &jerr) : NULL;
	if (rr->status != 0 || !is_obj(doc)) {
		char line[300];
		if (rr->status == 0)
			snprintf(line, sizeof line, "status reply is not a JSON object: %s",
					json_tokener_error_desc(jerr));
		else
			run_err_line(rr, line, sizeof line);
		set(&k[C_SSH], ST_CRIT, NAN, "unreachable: %s", line);
		for (int i = 1; i < C_N; i++)
			set(&k[i], ST_UNKNOWN, NAN, "not checked: sensor unreachable");
		json_object_put(doc);
		return;
	}
	set(&k[C_SSH], level(rtt, th->rtt_warn_ms, th->rtt_crit_ms), rtt,
			"reachable, round trip %.0f ms", rtt);

	json_object *sd = get(doc, "sensord");
	if (truth(sd, "running")) {
		const char *since = str(sd, "since");
		set(&k[C_SENSORD], ST_OK, (double)integer(sd, "pid"), "running, pid %lld since %s",
				integer(sd, "pid"), since ? since : "?");
	} else {
		set(&k[C_SENSORD], ST_CRIT, NAN, "vigia-sensord is not running (no lock on the spool)");
	}

	json_object *fs = get(doc, "fs");
	if (is_obj(fs)) {
		double used = num(fs, "used_percent");
		double avail = num(fs, "avail_bytes");
		set(&k[C_DISK], level(used, th->disk_warn_pct, th->disk_crit_pct), used,
				"spool file system %.1f%% used, %.0f MiB free", used, avail / 1048576);
	} else {
		set(&k[C_DISK], ST_UNKNOWN, NAN, "spool file system unknown");
	}

	/* The gateway reads its clock and sends it at once, so it was read
	 * between our start and the first byte of the reply, and nearest the
	 * latter: the whole ssh handshake comes before it.  The offset is taken
	 * at the arrival (error: the one-way network delay), and the bound is
	 * the whole interval. */
	double stime = num(doc, "time");
	double arrive = rr->t_first ? rr->t_first : rr->t_end;
	double off = stime - arrive, unc = arrive - rr->t_start;
	if (stime > 0)
		set(&k[C_CLOCK], level(fabs(off), th->clock_warn_s, th->clock_crit_s), off,
				"sensor clock %+.3f s from ours (measured within %.3f s)", off, unc);
	else
		set(&k[C_CLOCK], ST_UNKNOWN, NAN, "no time in the reply");

	json_object *ntp = get(doc, "ntp");
	if (truth(ntp, "synced"))
		set(&k[C_NTP], ST_OK, 1, "kernel reports NTP sync (max error %.3f s)",
				num(ntp, "maxerror_seconds"));
	else
		set(&k[C_NTP], th->ntp_unsync_crit ? ST_CRIT : ST_WARN, 0,
				"kernel clock not synchronised (adjtimex state %lld)", integer(ntp, "state"));

	double up = num(doc, "uptime_seconds");
	set(&k[C_UPTIME], th->uptime_warn_s && up < th->uptime_warn_s ? ST_WARN : ST_OK, up,
			"up %s%s", human_age(up, a, sizeof a),
			th->uptime_warn_s && up < th->uptime_warn_s ? " (rebooted recently)" : "");

	json_object *sj = get(doc, "status_json");
	double ref = stime > 0 ? stime : now;   /* the sensor's own clock: skew does not count twice */
	if (!is_obj(sj)) {
		set(&k[C_CAPTURE], ST_WARN, NAN, "no status.json in the spool");
		set(&k[C_DROPS], ST_UNKNOWN, NAN, "no status.json in the spool");
	} else {
		const char *mode = str(sj, "mode");
		double last = 0, updated = 0, start = 0;
		bool has_last = parse_time(str(sj, "last_packet_time"), &last);
		parse_time(str(sj, "updated"), &updated);
		parse_time(str(sj, "start_time"), &start);
		if (mode && !strcmp(mode, "replay")) {
			set(&k[C_CAPTURE], ST_OK, NAN, "replay mode: capture not checked");
		} else {
			double age = has_last ? ref - last : start ? ref - start : NAN;
			double stale = updated ? ref - updated : NAN;
			enum st s1 = isnan(age) ? ST_UNKNOWN : level(age, th->stall_warn_s, th->stall_crit_s);
			set(&k[C_CAPTURE], s1, age, "%s %s ago%s", has_last ? "last packet" : "no packet since start",
					isnan(age) ? "?" : human_age(age, a, sizeof a),
					stale > th->stall_warn_s ? " (status.json not updated either)" : "");
		}
		double drops = num(sj, "capture_drops");
		set(&k[C_DROPS], level(drops, (double)th->drops_warn, (double)th->drops_crit), drops,
				"%.0f packets dropped by the capture since start", drops);
	}

	json_object *man = get(doc, "manifest");
	const char *oldest = str(man, "oldest_new_completed");
	double t_old;
	if (!is_obj(man)) {
		set(&k[C_BACKLOG], ST_UNKNOWN, NAN, "no MANIFEST in the spool");
	} else if (!oldest || !parse_time(oldest, &t_old)) {
		set(&k[C_BACKLOG], ST_OK, 0, "nothing waiting for collection");
	} else {
		double age = ref - t_old, pct = 100 * age / sr->s->retention_seconds;
		char b[64];
		set(&k[C_BACKLOG], level(pct, th->backlog_warn_pct, th->backlog_crit_pct), age,
				"%lld file(s) not collected, the oldest %s old (%.0f%% of the %s retention)",
				integer(man, "files_new"),
				human_age(age, a, sizeof a), pct,
				human_age(sr->s->retention_seconds, b, sizeof b));
	}
	json_object_put(doc);
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
			set(&sr->c[C_SSH], ST_UNKNOWN, NAN, "%s", msg);
			for (int k = 1; k < C_N; k++)
				set(&sr->c[k], ST_UNKNOWN, NAN, "not checked");
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
		for (int k = 0; k < C_N && rc == SQLITE_OK; k++) {
			const struct check *ck = &res[i].c[k];
			sqlite3_bind_double(ins, 1, now);
			sqlite3_bind_text(ins, 2, res[i].s->name, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins, 3, chk_name[k], -1, SQLITE_STATIC);
			sqlite3_bind_int(ins, 4, ck->st);
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
		return ST_UNKNOWN;
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
		return ST_UNKNOWN;
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
			snprintf(change, sizeof change, "%s", st_name[now & 3]);
		else
			snprintf(change, sizeof change, "%s -> %s", st_name[sqlite3_column_int(st, 3) & 3],
					st_name[now & 3]);
		printf("%-20s %-16s %-8s %-16s %s\n", tb, (const char *)sqlite3_column_text(st, 1),
				(const char *)sqlite3_column_text(st, 2), change,
				(const char *)sqlite3_column_text(st, 5));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return fflush(stdout) == 0 ? 0 : ST_UNKNOWN;
}

/* ---- output ------------------------------------------------------------ */

static void out_table(FILE *f, const struct sensor_result *res, size_t n, bool color)
{
	static const char *const col[] = {"\033[32m", "\033[33m", "\033[31m", "\033[35m"};
	fprintf(f, "%-16s %-8s %-7s %s\n", "sensor", "check", "state", "detail");
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < C_N; k++) {
			const struct check *ck = &res[i].c[k];
			fprintf(f, "%-16s %-8s %s%-7s%s %s\n", k == 0 ? res[i].s->name : "", chk_name[k],
					color ? col[ck->st] : "", st_name[ck->st], color ? "\033[0m" : "",
					ck->msg);
		}
}

static void out_json(FILE *f, const struct sensor_result *res, size_t n, double now, enum st all)
{
	char tb[32];
	fmt_time(now, tb, sizeof tb);
	json_object *doc = json_object_new_object(), *arr = json_object_new_array();
	json_object_object_add(doc, "time", json_object_new_string(tb));
	json_object_object_add(doc, "state", json_object_new_string(st_name[all]));
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object(), *checks = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(res[i].s->name));
		json_object_object_add(o, "id", json_object_new_int64(res[i].s->id));
		json_object_object_add(o, "state", json_object_new_string(st_name[res[i].worst]));
		for (int k = 0; k < C_N; k++) {
			const struct check *ck = &res[i].c[k];
			json_object *c = json_object_new_object();
			json_object_object_add(c, "state", json_object_new_string(st_name[ck->st]));
			json_object_object_add(c, "value", isnan(ck->value) ? NULL : json_object_new_double(ck->value));
			json_object_object_add(c, "message", json_object_new_string(ck->msg));
			json_object_object_add(checks, chk_name[k], c);
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
		    enum st all)
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
		st_name[all], st_name[all], st_name[all], tb);
	for (int k = 0; k < C_N; k++)
		fprintf(f, "<th>%s</th>", chk_name[k]);
	fputs("</tr>\n", f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "<tr><th class=\"%s\">", st_name[res[i].worst]);
		html_text(f, res[i].s->name);
		fputs("</th>", f);
		for (int k = 0; k < C_N; k++) {
			fprintf(f, "<td class=\"%s\">%s<br><small>", st_name[res[i].c[k].st],
					st_name[res[i].c[k].st]);
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
		default: usage(stderr); free(only); return ST_UNKNOWN;
		}
	}
	if (optind != argc) {
		usage(stderr);
		free(only);
		return ST_UNKNOWN;
	}
	struct cfg_central *c;
	struct vg_err err = {0};
	if (cfg_central_load(cfg_central_path(cfgpath), &c, &err) < 0) {
		fprintf(stderr, "vigia status: %s\n", err.msg);
		free(only);
		return ST_UNKNOWN;
	}
	for (size_t i = 0; i < nonly; i++)
		if (!cfg_central_sensor(c, only[i])) {
			fprintf(stderr, "vigia status: %s: no sensor named '%s'\n", c->path, only[i]);
			free(only);
			cfg_central_free(c);
			return ST_UNKNOWN;
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
	enum st allst = ST_OK;
	for (size_t i = 0; i < n; i++) {
		res[i].worst = ST_OK;
		for (int k = 0; k < C_N; k++)
			res[i].worst = worse(res[i].worst, res[i].c[k].st);
		allst = worse(allst, res[i].worst);
	}
	if (json)
		out_json(stdout, res, n, now, allst);
	else
		out_table(stdout, res, n, isatty(1));
	if (html && out_html(html, res, n, now, allst) < 0)
		allst = worse(allst, ST_UNKNOWN);
	if (!nostore && store(c->database, res, n, now) < 0)
		allst = worse(allst, ST_UNKNOWN);
	free(res);
	cfg_central_free(c);
	if (fflush(stdout) != 0)
		return ST_UNKNOWN;
	return (int)allst;
}
