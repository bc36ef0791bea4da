/* status-eval.c: a sensor's `status` reply into OK/WARN/CRIT checks.
 *
 * The reply is parsed with json-c: it is untrusted, and a well-kept
 * parser beats a hand-written one there.  The wording of the messages is
 * what `vigia status` printed and stored before this moved into the
 * library; the health_check table and --history compare them over time,
 * so they stay as they were. */
#include "status-eval.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

static const char *const state_names[] = {"OK", "WARN", "CRIT", "UNKNOWN"};
static const char *const check_names[STATUS_NCHECKS] = {
	"ssh", "sensord", "disk", "clock", "ntp", "uptime", "capture", "drops", "backlog",
};

const char *status_state_name(enum status_state s)
{
	return (unsigned)s < 4 ? state_names[s] : state_names[STATUS_UNKNOWN];
}

const char *status_check_name(enum status_check_id c)
{
	return (unsigned)c < STATUS_NCHECKS ? check_names[c] : NULL;
}

static void set(struct status_check *k, enum status_state st, double v, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void set(struct status_check *k, enum status_state st, double v, const char *fmt, ...)
{
	k->state = st;
	k->value = v;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->msg, sizeof k->msg, fmt, ap);
	va_end(ap);
}

static enum status_state level(double v, double warn, double crit)
{
	return v >= crit ? STATUS_CRIT : v >= warn ? STATUS_WARN : STATUS_OK;
}

/* RFC 3339 in UTC ("Z"), fractions of a second allowed: what the gateway
 * and sensord write.  The strings are NUL-terminated copies owned by
 * json-c, so strptime and strtod stay inside them. */
static bool parse_time(const char *s, double *out)
{
	struct tm tm = {0};
	const char *e = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!e)
		return false;
	double frac = 0;
	if (*e == '.') {
		/* digits only: strtod would also take an exponent (".5e999" is
		 * infinite) */
		size_t nd = strspn(e + 1, "0123456789");
		char *end;
		frac = strtod(e, &end);
		if (!nd || end != e + 1 + nd)
			return false;
		e = end;
	}
	if (strcmp(e, "Z"))
		return false;
	*out = (double)timegm(&tm) + frac;
	return isfinite(*out);
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

static bool is_obj(json_object *o)
{
	return o && json_object_is_type(o, json_type_object);
}

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;
	if (is_obj(o) && json_object_object_get_ex(o, k, &v))
		return v;
	return NULL;
}

/* For the informative parts of a message only (avail_bytes, the NTP
 * max error): missing or of another type reads as 0.  What a check's
 * state rests on goes through need() instead. */
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

/* What a JSON value is, as a message says it ("is an array, not ..."). */
static const char *what(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double:
	case json_type_int: return "a number";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "of an unknown type";
}

enum want { W_NUMBER, W_BOOL, W_STRING, W_OBJECT };
static const char *const want_names[] = {"a number", "a boolean", "a string", "an object"};

/* Member `key` of `o` (`path` names it in the message, "fs.used_percent")
 * when it is of the type a check rests on, and for a number finite.
 * Otherwise NULL, and the check is UNKNOWN naming the member: a check
 * is never OK on a fact the reply does not hold. */
static json_object *need(struct status_check *k, json_object *o, const char *key, const char *path,
			 enum want w)
{
	static const enum json_type types[] = {json_type_double, json_type_boolean, json_type_string,
					       json_type_object};
	json_object *v = NULL;     /* json-c holds a JSON null as NULL */
	if (!is_obj(o) || !json_object_object_get_ex(o, key, &v)) {
		set(k, STATUS_UNKNOWN, NAN, "status reply: %s missing", path);
		return NULL;
	}
	bool ok = v && (json_object_is_type(v, types[w]) ||
			(w == W_NUMBER && json_object_is_type(v, json_type_int)));
	if (!ok) {
		set(k, STATUS_UNKNOWN, NAN, "status reply: %s is %s, not %s", path, what(v), want_names[w]);
		return NULL;
	}
	if (w == W_NUMBER && !isfinite(json_object_get_double(v))) {
		set(k, STATUS_UNKNOWN, NAN, "status reply: %s is not a finite number", path);
		return NULL;
	}
	return v;
}

/* An RFC 3339 time member; a string that is not one is UNKNOWN too. */
static bool need_time(struct status_check *k, json_object *o, const char *key, const char *path,
		      double *t)
{
	json_object *v = need(k, o, key, path, W_STRING);
	if (!v)
		return false;
	if (parse_time(json_object_get_string(v), t))
		return true;
	set(k, STATUS_UNKNOWN, NAN, "status reply: %s is not an RFC 3339 UTC time", path);
	return false;
}

/* Present and JSON null: how the gateway says a part of the spool is
 * not there (no status.json, an unreadable MANIFEST, no statvfs). */
static bool is_null_member(json_object *o, const char *k)
{
	json_object *v = NULL;
	return is_obj(o) && json_object_object_get_ex(o, k, &v) && !v;
}

void status_eval_unreachable(const char *why, struct status_check out[STATUS_NCHECKS])
{
	set(&out[STATUS_C_SSH], STATUS_CRIT, NAN, "unreachable: %s", why ? why : "?");
	for (int i = 1; i < STATUS_NCHECKS; i++)
		set(&out[i], STATUS_UNKNOWN, NAN, "not checked: sensor unreachable");
}

/* JSON whitespace (RFC 8259), the only bytes allowed after the object. */
static size_t skip_ws(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* Where the top-level object of `doc` ends.  json-c's parse end is no
 * answer: it runs on over whitespace and comments after the value, and
 * a comment can carry anything.  json-c returns the object as soon as a
 * chunk ends with its closing brace, so the document goes in chunks that
 * each end with a '}': the first one that yields the object ends it.
 * Each byte is fed once, and never past `len`.  0 when none does: json-c
 * read the object whole but not in chunks (its lenient number syntax is
 * not the same both ways), and the reply is refused rather than trusted. */
static size_t object_end(const char *doc, size_t len)
{
	json_tokener *tok = json_tokener_new();
	size_t at = 0, end = 0;
	while (tok && at < len) {
		const char *close = memchr(doc + at, '}', len - at);
		if (!close)
			break;
		size_t n = (size_t)(close - (doc + at)) + 1;
		json_object *o = json_tokener_parse_ex(tok, doc + at, (int)n);
		enum json_tokener_error jerr = json_tokener_get_error(tok);
		at += n;
		if (o) {
			if (jerr == json_tokener_success && json_tokener_get_parse_end(tok) == n)
				end = at;
			json_object_put(o);
			break;
		}
		if (jerr != json_tokener_continue)
			break;
	}
	json_tokener_free(tok);
	return end;
}

/* A JSON value as the ssh message and the error name it. */
static const char *a_json(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null: return "JSON null";
	case json_type_boolean: return "a JSON boolean";
	case json_type_double:
	case json_type_int: return "a JSON number";
	case json_type_array: return "a JSON array";
	case json_type_string: return "a JSON string";
	case json_type_object: return "a JSON object";
	}
	return "a JSON value";
}

/* One JSON object and nothing after it but whitespace.  A NUL or bytes
 * after the object are malformed: a compromised sensor could otherwise
 * pass data on that nobody sees.  The parse itself runs on a terminated
 * copy, as `vigia status` always ran it (an explicit length changes how
 * json-c ends a bare number or literal), which also keeps json-c inside
 * our buffer. */
static json_object *parse(const char *name, const char *doc, size_t len, char *why, size_t whylen,
			  struct vg_err *err, int *rc)
{
	const char *nul = len ? memchr(doc, '\0', len) : NULL;
	if (nul) {
		size_t off = (size_t)(nul - doc);
		snprintf(why, whylen, "status reply is malformed: a NUL byte at byte offset %zu", off);
		*rc = vg_err_set(err, -EINVAL, "%s: byte offset %zu: a NUL byte in the document", name, off);
		return NULL;
	}
	char *copy = malloc(len + 1);
	json_tokener *tok = copy ? json_tokener_new() : NULL;
	if (!tok) {
		free(copy);
		snprintf(why, whylen, "status reply is not a JSON object: out of memory");
		*rc = vg_err_set(err, -ENOMEM, "%s: out of memory reading %zu bytes", name, len);
		return NULL;
	}
	if (len)
		memcpy(copy, doc, len);
	copy[len] = '\0';
	json_object *o = json_tokener_parse_ex(tok, copy, -1);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t at = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	free(copy);
	*rc = 0;
	if (jerr != json_tokener_success) {
		json_object_put(o);
		snprintf(why, whylen, "status reply is not a JSON object: %s", json_tokener_error_desc(jerr));
		*rc = vg_err_set(err, -EINVAL, "%s: byte offset %zu: not JSON: %s", name, at,
				 json_tokener_error_desc(jerr));
		return NULL;
	}
	if (!is_obj(o)) {
		size_t start = skip_ws(doc, 0, len);
		snprintf(why, whylen, "status reply is %s, not an object", a_json(o));
		*rc = vg_err_set(err, -EINVAL, "%s: byte offset %zu: %s, not an object", name, start,
				 a_json(o));
		json_object_put(o);
		return NULL;
	}
	size_t end = object_end(doc, len);
	if (!end) {
		snprintf(why, whylen, "status reply is malformed: the end of the JSON object is unclear");
		*rc = vg_err_set(err, -EINVAL, "%s: byte offset %zu: json-c reads the object only whole",
				 name, at);
		json_object_put(o);
		return NULL;
	}
	size_t extra = skip_ws(doc, end, len);
	if (extra < len) {
		snprintf(why, whylen, "status reply is malformed: data after the JSON object at byte offset %zu",
			 extra);
		*rc = vg_err_set(err, -EINVAL, "%s: byte offset %zu: data after the JSON object", name, extra);
		json_object_put(o);
		return NULL;
	}
	return o;
}

int status_eval(const char *name, const char *doc, size_t len, const struct status_eval_ctx *ctx,
		struct status_check out[STATUS_NCHECKS], struct vg_err *err)
{
	char line[300];
	name = name ? name : "status reply";
	if (!ctx || !ctx->th || (!doc && len)) {
		status_eval_unreachable("not checked: no reply to evaluate", out);
		return vg_err_set(err, -EINVAL, "%s: nothing to evaluate", name);
	}
	if (len > STATUS_EVAL_MAX_INPUT) {
		snprintf(line, sizeof line, "status reply too long (%zu bytes, the limit is %u)", len,
			 STATUS_EVAL_MAX_INPUT);
		status_eval_unreachable(line, out);
		return vg_err_set(err, -EMSGSIZE, "%s: %zu bytes, more than the limit of %u", name, len,
				  STATUS_EVAL_MAX_INPUT);
	}
	int rc;
	json_object *d = parse(name, doc ? doc : "", len, line, sizeof line, err, &rc);
	if (!d) {
		status_eval_unreachable(line, out);
		return rc;
	}

	const struct cfg_status *th = ctx->th;
	struct status_check *k = out;
	char a[64];
	double rtt = (ctx->t_end - ctx->t_start) * 1000;
	set(&k[STATUS_C_SSH], level(rtt, th->rtt_warn_ms, th->rtt_crit_ms), rtt,
	    "reachable, round trip %.0f ms", rtt);

	json_object *sd = need(&k[STATUS_C_SENSORD], d, "sensord", "sensord", W_OBJECT);
	json_object *running = sd ? need(&k[STATUS_C_SENSORD], sd, "running", "sensord.running", W_BOOL) : NULL;
	if (running && json_object_get_boolean(running)) {
		const char *since = str(sd, "since");
		set(&k[STATUS_C_SENSORD], STATUS_OK, (double)integer(sd, "pid"),
		    "running, pid %lld since %s", integer(sd, "pid"), since ? since : "?");
	} else if (running) {
		set(&k[STATUS_C_SENSORD], STATUS_CRIT, NAN,
		    "vigia-sensord is not running (no lock on the spool)");
	}

	json_object *fs = NULL, *used_v = NULL;
	if (is_null_member(d, "fs"))
		set(&k[STATUS_C_DISK], STATUS_UNKNOWN, NAN, "spool file system unknown");
	else if ((fs = need(&k[STATUS_C_DISK], d, "fs", "fs", W_OBJECT)))
		used_v = need(&k[STATUS_C_DISK], fs, "used_percent", "fs.used_percent", W_NUMBER);
	if (used_v) {
		double used = json_object_get_double(used_v);
		double avail = num(fs, "avail_bytes");
		set(&k[STATUS_C_DISK], level(used, th->disk_warn_pct, th->disk_crit_pct), used,
		    "spool file system %.1f%% used, %.0f MiB free", used, avail / 1048576);
	}

	/* The gateway reads its clock and sends it at once, so it was read
	 * between our start and the first byte of the reply, and nearest the
	 * latter: the whole ssh handshake comes before it.  The offset is taken
	 * at the arrival (error: the one-way network delay), and the bound is
	 * the whole interval. */
	json_object *time_v = need(&k[STATUS_C_CLOCK], d, "time", "time", W_NUMBER);
	double stime = time_v ? json_object_get_double(time_v) : 0;
	double arrive = ctx->t_first ? ctx->t_first : ctx->t_end;
	double off = stime - arrive, unc = arrive - ctx->t_start;
	if (stime > 0)
		set(&k[STATUS_C_CLOCK], level(fabs(off), th->clock_warn_s, th->clock_crit_s), off,
		    "sensor clock %+.3f s from ours (measured within %.3f s)", off, unc);
	else if (time_v)
		set(&k[STATUS_C_CLOCK], STATUS_UNKNOWN, NAN, "no time in the reply");

	json_object *ntp = need(&k[STATUS_C_NTP], d, "ntp", "ntp", W_OBJECT);
	json_object *synced = ntp ? need(&k[STATUS_C_NTP], ntp, "synced", "ntp.synced", W_BOOL) : NULL;
	if (synced && json_object_get_boolean(synced))
		set(&k[STATUS_C_NTP], STATUS_OK, 1, "kernel reports NTP sync (max error %.3f s)",
		    num(ntp, "maxerror_seconds"));
	else if (synced)
		set(&k[STATUS_C_NTP], th->ntp_unsync_crit ? STATUS_CRIT : STATUS_WARN, 0,
		    "kernel clock not synchronised (adjtimex state %lld)", integer(ntp, "state"));

	json_object *up_v = need(&k[STATUS_C_UPTIME], d, "uptime_seconds", "uptime_seconds", W_NUMBER);
	if (up_v) {
		double up = json_object_get_double(up_v);
		bool rebooted = th->uptime_warn_s && up < th->uptime_warn_s;
		set(&k[STATUS_C_UPTIME], rebooted ? STATUS_WARN : STATUS_OK, up, "up %s%s",
		    human_age(up, a, sizeof a), rebooted ? " (rebooted recently)" : "");
	}

	double ref = stime > 0 ? stime : ctx->now;   /* the sensor's own clock: skew does not count twice */
	json_object *sj = NULL;
	if (is_null_member(d, "status_json")) {
		set(&k[STATUS_C_CAPTURE], STATUS_WARN, NAN, "no status.json in the spool");
		set(&k[STATUS_C_DROPS], STATUS_UNKNOWN, NAN, "no status.json in the spool");
	} else if (!(sj = need(&k[STATUS_C_CAPTURE], d, "status_json", "status_json", W_OBJECT))) {
		k[STATUS_C_DROPS] = k[STATUS_C_CAPTURE];
	} else {
		const char *mode = str(sj, "mode");
		double last = 0, updated = 0, start = 0;
		parse_time(str(sj, "updated"), &updated);
		if (mode && !strcmp(mode, "replay")) {
			set(&k[STATUS_C_CAPTURE], STATUS_OK, NAN, "replay mode: capture not checked");
		} else {
			/* no packet yet (null): the age counts from sensord's start */
			bool has_last = !is_null_member(sj, "last_packet_time");
			bool known = has_last
				? need_time(&k[STATUS_C_CAPTURE], sj, "last_packet_time",
					    "status_json.last_packet_time", &last)
				: need_time(&k[STATUS_C_CAPTURE], sj, "start_time", "status_json.start_time",
					    &start);
			if (known) {
				double age = has_last ? ref - last : ref - start;
				double stale = updated ? ref - updated : NAN;
				set(&k[STATUS_C_CAPTURE], level(age, th->stall_warn_s, th->stall_crit_s), age,
				    "%s %s ago%s", has_last ? "last packet" : "no packet since start",
				    human_age(age, a, sizeof a),
				    stale > th->stall_warn_s ? " (status.json not updated either)" : "");
			}
		}
		json_object *drops_v = need(&k[STATUS_C_DROPS], sj, "capture_drops",
					    "status_json.capture_drops", W_NUMBER);
		if (drops_v) {
			double drops = json_object_get_double(drops_v);
			set(&k[STATUS_C_DROPS], level(drops, (double)th->drops_warn, (double)th->drops_crit),
			    drops, "%.0f packets dropped by the capture since start", drops);
		}
	}

	json_object *man = NULL;
	double t_old;
	if (is_null_member(d, "manifest")) {
		set(&k[STATUS_C_BACKLOG], STATUS_UNKNOWN, NAN, "no MANIFEST in the spool");
	} else if (!(man = need(&k[STATUS_C_BACKLOG], d, "manifest", "manifest", W_OBJECT))) {
		;   /* need() named it */
	} else if (is_null_member(man, "oldest_new_completed")) {
		set(&k[STATUS_C_BACKLOG], STATUS_OK, 0, "nothing waiting for collection");
	} else if (need_time(&k[STATUS_C_BACKLOG], man, "oldest_new_completed",
			     "manifest.oldest_new_completed", &t_old)) {
		double age = ref - t_old, pct = 100 * age / ctx->retention_seconds;
		char b[64];
		set(&k[STATUS_C_BACKLOG], level(pct, th->backlog_warn_pct, th->backlog_crit_pct), age,
		    "%lld file(s) not collected, the oldest %s old (%.0f%% of the %s retention)",
		    integer(man, "files_new"), human_age(age, a, sizeof a), pct,
		    human_age(ctx->retention_seconds, b, sizeof b));
	}
	json_object_put(d);
	return 0;
}
