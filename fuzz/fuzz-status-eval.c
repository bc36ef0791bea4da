/* fuzz-status-eval.c: libFuzzer harness for status_eval (status-eval.h),
 * the central server's reader of a sensor gateway's `status` reply.  A
 * honeypot sensor may be compromised, so the bytes are untrusted.
 *
 * Input: the reply, from a heap copy of exactly its size (no terminating
 * NUL) so that ASan flags any read past the length given.  It is
 * evaluated under two threshold sets (the defaults, and uptime-warn off
 * with ntp-unsync crit).  Checked besides memory safety:
 *   - every check is written with exactly one valid state and a message
 *     NUL-terminated inside its buffer (the output is poisoned first);
 *   - the same bytes evaluate to the same checks;
 *   - the reply is accepted only when json-c reads a JSON object from it
 *     and it holds no NUL byte, and then exactly when nothing but JSON
 *     whitespace follows the object (where the object ends is found here
 *     by feeding json-c one byte at a time, not as the library finds it;
 *     when json-c cannot read it so, only refusal or acceptance is
 *     checked); a refusal is -EINVAL naming the byte offset, ssh CRIT
 *     "unreachable: status reply ..." and every other check UNKNOWN
 *     without a value;
 *   - when accepted, ssh reflects the round trip only, and no check is OK
 *     when the member it rests on is missing, of the wrong type or not a
 *     finite number: it is UNKNOWN (sensord.running, fs.used_percent,
 *     time, ntp.synced, uptime_seconds, status_json.capture_drops, the
 *     capture times, manifest.oldest_new_completed), except the
 *     gateway's "status_json": null, a capture WARN;
 *   - a check's value is NaN or finite, and finite when the check is
 *     known for disk, clock (time > 0), uptime and drops.
 */
#include "status-eval.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

#define T0 1795860000.0

static json_object *member(json_object *o, const char *k)
{
	json_object *v = NULL;
	if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, k, &v))
		return v;
	return NULL;
}

static bool has_type(json_object *o, const char *k, enum json_type t)
{
	json_object *v = member(o, k);
	return v && json_object_is_type(v, t);
}

/* present and JSON null (json-c holds it as NULL) */
static bool is_null(json_object *o, const char *k)
{
	json_object *v = NULL;
	return o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, k, &v) && !v;
}

static bool bad_number(json_object *o, const char *k)
{
	json_object *v = member(o, k);
	if (!v || !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return true;
	return !isfinite(json_object_get_double(v));
}

static void check_shape(const struct status_check *out)
{
	for (int i = 0; i < STATUS_NCHECKS; i++) {
		if ((unsigned)out[i].state > STATUS_UNKNOWN)
			abort();
		const char *nul = memchr(out[i].msg, 0, sizeof out[i].msg);
		if (!nul || nul == out[i].msg)
			abort();
	}
}

static void same(const struct status_check *a, const struct status_check *b)
{
	for (int i = 0; i < STATUS_NCHECKS; i++)
		if (a[i].state != b[i].state || strcmp(a[i].msg, b[i].msg) ||
		    (isnan(a[i].value) != isnan(b[i].value)) ||
		    (!isnan(a[i].value) && a[i].value != b[i].value))
			abort();
}

static void unknown(const struct status_check *k)
{
	if (k->state != STATUS_UNKNOWN || !isnan(k->value) || strncmp(k->msg, "status reply: ", 14))
		abort();
}

static void known_finite(const struct status_check *k)
{
	if (k->state == STATUS_UNKNOWN || !isfinite(k->value))
		abort();
}

static void check_members(json_object *doc, const struct status_check *out)
{
	for (int i = 0; i < STATUS_NCHECKS; i++)
		if (isinf(out[i].value))
			abort();

	json_object *sd = member(doc, "sensord");
	if (!has_type(doc, "sensord", json_type_object) || !has_type(sd, "running", json_type_boolean))
		unknown(&out[STATUS_C_SENSORD]);

	json_object *fs = member(doc, "fs");
	if (is_null(doc, "fs"))
		; /* the gateway's "statvfs failed": UNKNOWN with its own message */
	else if (!has_type(doc, "fs", json_type_object) || bad_number(fs, "used_percent"))
		unknown(&out[STATUS_C_DISK]);
	else
		known_finite(&out[STATUS_C_DISK]);
	if (out[STATUS_C_DISK].state != STATUS_UNKNOWN && bad_number(fs, "used_percent"))
		abort();

	if (bad_number(doc, "time"))
		unknown(&out[STATUS_C_CLOCK]);
	else if (json_object_get_double(member(doc, "time")) > 0)
		known_finite(&out[STATUS_C_CLOCK]);

	json_object *ntp = member(doc, "ntp");
	if (!has_type(doc, "ntp", json_type_object) || !has_type(ntp, "synced", json_type_boolean))
		unknown(&out[STATUS_C_NTP]);

	if (bad_number(doc, "uptime_seconds"))
		unknown(&out[STATUS_C_UPTIME]);
	else
		known_finite(&out[STATUS_C_UPTIME]);

	json_object *sj = member(doc, "status_json");
	if (is_null(doc, "status_json")) {
		if (out[STATUS_C_CAPTURE].state != STATUS_WARN || out[STATUS_C_DROPS].state != STATUS_UNKNOWN)
			abort();
	} else if (!has_type(doc, "status_json", json_type_object)) {
		unknown(&out[STATUS_C_CAPTURE]);
		unknown(&out[STATUS_C_DROPS]);
	} else {
		if (bad_number(sj, "capture_drops"))
			unknown(&out[STATUS_C_DROPS]);
		else
			known_finite(&out[STATUS_C_DROPS]);
		json_object *mode = member(sj, "mode");
		bool replay = mode && json_object_is_type(mode, json_type_string) &&
			      !strcmp(json_object_get_string(mode), "replay");
		bool last_null = is_null(sj, "last_packet_time");
		if (!replay && !last_null && !has_type(sj, "last_packet_time", json_type_string))
			unknown(&out[STATUS_C_CAPTURE]);
		if (!replay && last_null && !has_type(sj, "start_time", json_type_string))
			unknown(&out[STATUS_C_CAPTURE]);
	}

	json_object *man = member(doc, "manifest");
	if (is_null(doc, "manifest"))
		; /* the gateway's "MANIFEST unreadable": UNKNOWN with its own message */
	else if (!has_type(doc, "manifest", json_type_object) ||
		 (!is_null(man, "oldest_new_completed") &&
		  !has_type(man, "oldest_new_completed", json_type_string)))
		unknown(&out[STATUS_C_BACKLOG]);
	if (!has_type(doc, "manifest", json_type_object) && out[STATUS_C_BACKLOG].state != STATUS_UNKNOWN)
		abort();
}

/* Where the top-level object ends, by feeding json-c one byte at a time:
 * it hands the object back on the byte that closes it.  0: it did not. */
static size_t object_end_bytewise(const char *buf, size_t n)
{
	json_tokener *tok = json_tokener_new();
	if (!tok)
		abort();
	size_t end = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_tokener_parse_ex(tok, buf + i, 1);
		if (o) {
			end = i + 1;
			json_object_put(o);
			break;
		}
		if (json_tokener_get_error(tok) != json_tokener_continue)
			break;
	}
	json_tokener_free(tok);
	return end;
}

static bool only_ws(const char *s, size_t from, size_t n)
{
	for (size_t i = from; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

/* obj: 1 must be accepted, 0 refused, -1 either */
static void run(const char *buf, size_t n, json_object *ref, int obj, const struct cfg_status *th)
{
	struct status_eval_ctx ctx = {
		.th = th,
		.retention_seconds = 86400,
		.t_start = T0,
		.t_first = T0 + 0.05,
		.t_end = T0 + 0.1,
		.now = T0 + 0.1,
	};
	struct status_check out[STATUS_NCHECKS], again[STATUS_NCHECKS];
	memset(out, 0xa5, sizeof out);
	memset(again, 0x5a, sizeof again);
	struct vg_err err = {0};
	int rc = status_eval("fuzz", buf, n, &ctx, out, &err);
	check_shape(out);
	struct vg_err err2 = {0};
	if (status_eval("fuzz", buf, n, &ctx, again, &err2) != rc)
		abort();
	same(out, again);

	if (obj < 0)
		obj = rc == 0;
	if (!obj) {
		if (rc != -EINVAL || err.code != rc || strncmp(err.msg, "fuzz: byte offset ", 18) ||
		    !memchr(err.msg, 0, sizeof err.msg))
			abort();
		if (out[STATUS_C_SSH].state != STATUS_CRIT ||
		    strncmp(out[STATUS_C_SSH].msg, "unreachable: status reply ", 26))
			abort();
		for (int i = 1; i < STATUS_NCHECKS; i++)
			if (out[i].state != STATUS_UNKNOWN || !isnan(out[i].value))
				abort();
		return;
	}
	if (rc != 0 || err.code != 0)
		abort();
	if (out[STATUS_C_SSH].state != STATUS_OK || strcmp(out[STATUS_C_SSH].msg, "reachable, round trip 100 ms"))
		abort();
	check_members(ref, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n > STATUS_EVAL_MAX_INPUT)
		return 0;
	char *buf = malloc(n ? n : 1);
	char *z = malloc(n + 1);
	if (!buf || !z)
		abort();
	memcpy(buf, d, n);
	memcpy(z, d, n);
	z[n] = '\0';
	/* what json-c makes of it on its own, from a terminated copy */
	json_object *ref = json_tokener_parse(z);
	int obj = ref && json_object_is_type(ref, json_type_object) && !memchr(buf, 0, n);
	if (obj) {
		size_t end = object_end_bytewise(buf, n);
		obj = end ? only_ws(buf, end, n) : -1;
	}

	struct cfg_status th = {
		.disk_warn_pct = 80, .disk_crit_pct = 95,
		.clock_warn_s = 0.5, .clock_crit_s = 2,
		.stall_warn_s = 600, .stall_crit_s = 3600,
		.rtt_warn_ms = 2000, .rtt_crit_ms = 10000,
		.drops_warn = 1, .drops_crit = 1000,
		.backlog_warn_pct = 50, .backlog_crit_pct = 90,
		.uptime_warn_s = 600, .ntp_unsync_crit = false,
	};
	run(buf, n, ref, obj, &th);
	th.uptime_warn_s = 0;
	th.ntp_unsync_crit = true;
	run(buf, n, ref, obj, &th);

	json_object_put(ref);
	free(z);
	free(buf);
	return 0;
}
