/* test-status-eval.c: a sensor gateway's `status` reply into checks
 * (status-eval.h): hand-built replies with known answers, the OK/WARN/CRIT
 * boundaries of each threshold, missing, non-finite and wrongly typed
 * members (UNKNOWN, naming the member), replies that are not a JSON
 * object or carry a NUL or bytes after it, and the input limit. */
#include "check.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <time.h>

#include "status-eval.h"

/* 2026-11-28T10:00:00Z.  The ssh run: start at T0, first byte at
 * T0 + 0.25, end at T0 + 0.5 (binary fractions, so offsets are exact). */
#define T0 1795860000.0

static struct cfg_status defaults(void)
{
	struct cfg_status th = {
		.disk_warn_pct = 80, .disk_crit_pct = 95,
		.clock_warn_s = 0.5, .clock_crit_s = 2,
		.stall_warn_s = 600, .stall_crit_s = 3600,
		.rtt_warn_ms = 2000, .rtt_crit_ms = 10000,
		.drops_warn = 1, .drops_crit = 1000,
		.backlog_warn_pct = 50, .backlog_crit_pct = 90,
		.uptime_warn_s = 600, .ntp_unsync_crit = false,
	};
	return th;
}

static struct status_check out[STATUS_NCHECKS];
static struct vg_err err;

/* Evaluate `doc` from a heap copy of exactly its length (no NUL after it:
 * ASan catches a read past the end). */
static int eval_n_th(const char *doc, size_t len, const struct cfg_status *th)
{
	struct status_eval_ctx ctx = {
		.th = th, .retention_seconds = 86400,
		.t_start = T0, .t_first = T0 + 0.25, .t_end = T0 + 0.5, .now = T0 + 0.5,
	};
	char *copy = malloc(len ? len : 1);
	memcpy(copy, doc, len);
	memset(out, 0xa5, sizeof out);
	vg_err_clear(&err);
	int rc = status_eval("sensor s1: status reply", copy, len, &ctx, out, &err);
	free(copy);
	return rc;
}

static int eval_th(const char *doc, const struct cfg_status *th)
{
	return eval_n_th(doc, strlen(doc), th);
}

static int eval(const char *doc)
{
	struct cfg_status th = defaults();
	return eval_th(doc, &th);
}

static int evalf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int evalf(const char *fmt, ...)
{
	char doc[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(doc, sizeof doc, fmt, ap);
	va_end(ap);
	return eval(doc);
}

static const char *rfc3339(double t)
{
	static char buf[4][32];
	static int i;
	char *b = buf[i++ % 4];
	time_t s = (time_t)t;
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(b, sizeof buf[0], "%Y-%m-%dT%H:%M:%SZ", &tm);
	return b;
}

static enum status_state st(enum status_check_id c)
{
	return out[c].state;
}

TEST(healthy_gateway_reply_is_ok_everywhere_with_the_same_messages)
{
	int rc = evalf("{\"gateway_version\":\"0.1.0\",\"time\":%.3f,\"hostname\":\"sensor1\","
		       "\"uptime_seconds\":864000,"
		       "\"ntp\":{\"synced\":true,\"state\":0,\"maxerror_seconds\":0.25},"
		       "\"fs\":{\"total_bytes\":10737418240,\"avail_bytes\":8053063680,\"used_percent\":21.0526},"
		       "\"sensord\":{\"running\":true,\"pid\":812,\"since\":\"2026-11-18T09:59:31Z\"},"
		       "\"manifest\":{\"files_new\":0,\"oldest_new_completed\":null},"
		       "\"status_json\":{\"mode\":\"live\",\"start_time\":\"2026-11-18T09:59:31Z\","
		       "\"updated\":\"%s\",\"capture_drops\":0,\"last_packet_time\":\"%s\"}}\n",
		       T0 + 0.25, rfc3339(T0 - 2), rfc3339(T0 - 60));
	CHECK_EQ_I(rc, 0);
	CHECK_EQ_I(err.code, 0);
	for (int i = 0; i < STATUS_NCHECKS; i++)
		CHECK_STREQ(status_state_name(out[i].state), "OK");
	CHECK_STREQ(out[STATUS_C_SSH].msg, "reachable, round trip 500 ms");
	CHECK(out[STATUS_C_SSH].value == 500);
	CHECK_STREQ(out[STATUS_C_SENSORD].msg, "running, pid 812 since 2026-11-18T09:59:31Z");
	CHECK(out[STATUS_C_SENSORD].value == 812);
	CHECK_STREQ(out[STATUS_C_DISK].msg, "spool file system 21.1% used, 7680 MiB free");
	CHECK_STREQ(out[STATUS_C_CLOCK].msg, "sensor clock +0.000 s from ours (measured within 0.250 s)");
	CHECK(out[STATUS_C_CLOCK].value == 0);
	CHECK_STREQ(out[STATUS_C_NTP].msg, "kernel reports NTP sync (max error 0.250 s)");
	CHECK_STREQ(out[STATUS_C_UPTIME].msg, "up 10.0 days");
	CHECK_STREQ(out[STATUS_C_CAPTURE].msg, "last packet 60 s ago");
	CHECK(out[STATUS_C_CAPTURE].value == 60.25);
	CHECK_STREQ(out[STATUS_C_DROPS].msg, "0 packets dropped by the capture since start");
	CHECK_STREQ(out[STATUS_C_BACKLOG].msg, "nothing waiting for collection");
	CHECK(out[STATUS_C_BACKLOG].value == 0);
}

TEST(disk_thresholds_warn_at_80_and_crit_at_95_percent)
{
	static const struct { const char *pct; enum status_state want; } cases[] = {
		{"0", STATUS_OK}, {"79.99", STATUS_OK}, {"80", STATUS_WARN},
		{"94.999", STATUS_WARN}, {"95", STATUS_CRIT}, {"100", STATUS_CRIT},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		CHECK_EQ_I(evalf("{\"fs\":{\"used_percent\":%s,\"avail_bytes\":1048576}}", cases[i].pct), 0);
		CHECK_STREQ(status_state_name(st(STATUS_C_DISK)), status_state_name(cases[i].want));
	}
	CHECK_STREQ(out[STATUS_C_DISK].msg, "spool file system 100.0% used, 1 MiB free");
	CHECK(out[STATUS_C_DISK].value == 100);
}

TEST(clock_offset_thresholds_are_on_the_absolute_offset_from_the_first_byte)
{
	static const struct { double off; enum status_state want; } cases[] = {
		{0.25, STATUS_OK}, {-0.25, STATUS_OK}, {0.5, STATUS_WARN}, {-0.5, STATUS_WARN},
		{1.75, STATUS_WARN}, {2, STATUS_CRIT}, {-2, STATUS_CRIT}, {30, STATUS_CRIT},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		CHECK_EQ_I(evalf("{\"time\":%.3f}", T0 + 0.25 + cases[i].off), 0);
		CHECK_STREQ(status_state_name(st(STATUS_C_CLOCK)), status_state_name(cases[i].want));
		CHECK(out[STATUS_C_CLOCK].value == cases[i].off);
	}
	CHECK_STREQ(out[STATUS_C_CLOCK].msg, "sensor clock +30.000 s from ours (measured within 0.250 s)");
	CHECK_EQ_I(evalf("{\"time\":%.3f}", T0 - 2), 0);
	CHECK_STREQ(out[STATUS_C_CLOCK].msg, "sensor clock -2.250 s from ours (measured within 0.250 s)");
}

TEST(ntp_unsynced_is_warn_or_crit_as_configured)
{
	struct cfg_status th = defaults();
	CHECK_EQ_I(eval("{\"ntp\":{\"synced\":true,\"maxerror_seconds\":16}}"), 0);
	CHECK_EQ_I(st(STATUS_C_NTP), STATUS_OK);
	CHECK(out[STATUS_C_NTP].value == 1);
	CHECK_EQ_I(eval("{\"ntp\":{\"synced\":false,\"state\":5}}"), 0);
	CHECK_EQ_I(st(STATUS_C_NTP), STATUS_WARN);
	CHECK(out[STATUS_C_NTP].value == 0);
	CHECK_STREQ(out[STATUS_C_NTP].msg, "kernel clock not synchronised (adjtimex state 5)");
	th.ntp_unsync_crit = true;
	CHECK_EQ_I(eval_th("{\"ntp\":{\"synced\":false,\"state\":5}}", &th), 0);
	CHECK_EQ_I(st(STATUS_C_NTP), STATUS_CRIT);
	CHECK_EQ_I(eval_th("{\"ntp\":{\"synced\":true}}", &th), 0);
	CHECK_EQ_I(st(STATUS_C_NTP), STATUS_OK);
}

TEST(drops_thresholds_warn_at_1_and_crit_at_1000)
{
	static const struct { const char *n; enum status_state want; } cases[] = {
		{"0", STATUS_OK}, {"1", STATUS_WARN}, {"999", STATUS_WARN},
		{"1000", STATUS_CRIT}, {"18446744073709551615", STATUS_CRIT},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		CHECK_EQ_I(evalf("{\"status_json\":{\"mode\":\"live\",\"capture_drops\":%s}}", cases[i].n), 0);
		CHECK_STREQ(status_state_name(st(STATUS_C_DROPS)), status_state_name(cases[i].want));
	}
	CHECK_EQ_I(evalf("{\"status_json\":{\"capture_drops\":5000}}"), 0);
	CHECK_STREQ(out[STATUS_C_DROPS].msg, "5000 packets dropped by the capture since start");
	CHECK(out[STATUS_C_DROPS].value == 5000);
}

TEST(backlog_thresholds_are_percent_of_retention_on_the_sensors_clock)
{
	/* retention 86400 s: 50% = 43200 s, 90% = 77760 s */
	static const struct { double age; enum status_state want; } cases[] = {
		{0, STATUS_OK}, {43199, STATUS_OK}, {43200, STATUS_WARN},
		{77759, STATUS_WARN}, {77760, STATUS_CRIT}, {200000, STATUS_CRIT},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		/* the sensor's clock is 1000 s behind ours: the age is on its clock */
		double sensor_now = T0 - 1000;
		CHECK_EQ_I(evalf("{\"time\":%.0f,\"manifest\":{\"files_new\":3,\"oldest_new_completed\":\"%s\"}}",
				 sensor_now, rfc3339(sensor_now - cases[i].age)), 0);
		CHECK_STREQ(status_state_name(st(STATUS_C_BACKLOG)), status_state_name(cases[i].want));
		CHECK(out[STATUS_C_BACKLOG].value == cases[i].age);
	}
	CHECK_EQ_I(evalf("{\"time\":%.0f,\"manifest\":{\"files_new\":3,\"oldest_new_completed\":\"%s\"}}",
			 T0, rfc3339(T0 - 43200)), 0);
	CHECK_STREQ(out[STATUS_C_BACKLOG].msg,
		    "3 file(s) not collected, the oldest 12.0 h old (50% of the 24.0 h retention)");
	CHECK_EQ_I(eval("{\"manifest\":{\"files_new\":0,\"oldest_new_completed\":null}}"), 0);
	CHECK_EQ_I(st(STATUS_C_BACKLOG), STATUS_OK);
	CHECK_STREQ(out[STATUS_C_BACKLOG].msg, "nothing waiting for collection");
}

TEST(capture_stall_thresholds_and_replay_mode)
{
	static const struct { double age; enum status_state want; } cases[] = {
		{599, STATUS_OK}, {600, STATUS_WARN}, {3599, STATUS_WARN}, {3600, STATUS_CRIT},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		CHECK_EQ_I(evalf("{\"time\":%.0f,\"status_json\":{\"mode\":\"live\",\"updated\":\"%s\","
				 "\"last_packet_time\":\"%s\"}}", T0, rfc3339(T0), rfc3339(T0 - cases[i].age)), 0);
		CHECK_STREQ(status_state_name(st(STATUS_C_CAPTURE)), status_state_name(cases[i].want));
	}
	CHECK_STREQ(out[STATUS_C_CAPTURE].msg, "last packet 60 min ago");
	CHECK_EQ_I(evalf("{\"time\":%.0f,\"status_json\":{\"mode\":\"live\",\"updated\":\"%s\","
			 "\"last_packet_time\":\"%s\"}}", T0, rfc3339(T0 - 7200), rfc3339(T0 - 7200)), 0);
	CHECK_EQ_I(st(STATUS_C_CAPTURE), STATUS_CRIT);
	CHECK_STREQ(out[STATUS_C_CAPTURE].msg, "last packet 2.0 h ago (status.json not updated either)");
	/* no packet yet: the age counts from sensord's start */
	CHECK_EQ_I(evalf("{\"time\":%.0f,\"status_json\":{\"start_time\":\"%s\",\"last_packet_time\":null}}",
			 T0, rfc3339(T0 - 60)), 0);
	CHECK_EQ_I(st(STATUS_C_CAPTURE), STATUS_OK);
	CHECK_STREQ(out[STATUS_C_CAPTURE].msg, "no packet since start 60 s ago");
	CHECK_EQ_I(evalf("{\"time\":%.0f,\"status_json\":{\"mode\":\"replay\",\"last_packet_time\":\"%s\"}}",
			 T0, rfc3339(T0 - 86400)), 0);
	CHECK_EQ_I(st(STATUS_C_CAPTURE), STATUS_OK);
	CHECK_STREQ(out[STATUS_C_CAPTURE].msg, "replay mode: capture not checked");
	CHECK(isnan(out[STATUS_C_CAPTURE].value));
}

TEST(uptime_below_the_threshold_warns_of_a_reboot)
{
	struct cfg_status th = defaults();
	CHECK_EQ_I(eval("{\"uptime_seconds\":599}"), 0);
	CHECK_EQ_I(st(STATUS_C_UPTIME), STATUS_WARN);
	CHECK_STREQ(out[STATUS_C_UPTIME].msg, "up 10 min (rebooted recently)");
	CHECK_EQ_I(eval("{\"uptime_seconds\":600}"), 0);
	CHECK_EQ_I(st(STATUS_C_UPTIME), STATUS_OK);
	th.uptime_warn_s = 0;
	CHECK_EQ_I(eval_th("{\"uptime_seconds\":5}", &th), 0);
	CHECK_EQ_I(st(STATUS_C_UPTIME), STATUS_OK);
	CHECK_STREQ(out[STATUS_C_UPTIME].msg, "up 5 s");
}

/* A check is UNKNOWN, without a value, with this message. */
static void check_unknown(enum status_check_id c, const char *msg)
{
	CHECK_STREQ(status_state_name(st(c)), "UNKNOWN");
	CHECK_STREQ(out[c].msg, msg);
	CHECK(isnan(out[c].value));
}

TEST(absent_sections_make_their_checks_unknown_naming_them)
{
	CHECK_EQ_I(eval("{}"), 0);
	CHECK_EQ_I(st(STATUS_C_SSH), STATUS_OK);
	check_unknown(STATUS_C_SENSORD, "status reply: sensord missing");
	check_unknown(STATUS_C_DISK, "status reply: fs missing");
	check_unknown(STATUS_C_CLOCK, "status reply: time missing");
	check_unknown(STATUS_C_NTP, "status reply: ntp missing");
	check_unknown(STATUS_C_UPTIME, "status reply: uptime_seconds missing");
	check_unknown(STATUS_C_CAPTURE, "status reply: status_json missing");
	check_unknown(STATUS_C_DROPS, "status reply: status_json missing");
	check_unknown(STATUS_C_BACKLOG, "status reply: manifest missing");
}

TEST(the_gateways_nulls_keep_their_meaning)
{
	/* what vigia-gateway sends when statvfs fails, the MANIFEST cannot be
	 * read and there is no status.json */
	CHECK_EQ_I(eval("{\"fs\":null,\"manifest\":null,\"status_json\":null}"), 0);
	check_unknown(STATUS_C_DISK, "spool file system unknown");
	check_unknown(STATUS_C_BACKLOG, "no MANIFEST in the spool");
	CHECK_EQ_I(st(STATUS_C_CAPTURE), STATUS_WARN);
	CHECK_STREQ(out[STATUS_C_CAPTURE].msg, "no status.json in the spool");
	check_unknown(STATUS_C_DROPS, "no status.json in the spool");
	/* a time of 0 is there and finite, but no time: as before */
	CHECK_EQ_I(eval("{\"time\":0}"), 0);
	check_unknown(STATUS_C_CLOCK, "no time in the reply");
}

TEST(empty_fs_section_is_unknown_not_zero_percent_used)
{
	CHECK_EQ_I(eval("{\"fs\":{}}"), 0);
	check_unknown(STATUS_C_DISK, "status reply: fs.used_percent missing");
	CHECK_EQ_I(eval("{\"fs\":{\"avail_bytes\":1048576}}"), 0);
	check_unknown(STATUS_C_DISK, "status reply: fs.used_percent missing");
	CHECK_EQ_I(eval("{\"fs\":{\"used_percent\":null}}"), 0);
	check_unknown(STATUS_C_DISK, "status reply: fs.used_percent is null, not a number");
}

TEST(non_finite_used_percent_is_unknown_not_nan_percent)
{
	static const char *const bad[] = {"NaN", "Infinity", "-Infinity", "1e400", "-1e400"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_EQ_I(evalf("{\"fs\":{\"used_percent\":%s,\"avail_bytes\":1}}", bad[i]), 0);
		check_unknown(STATUS_C_DISK, "status reply: fs.used_percent is not a finite number");
	}
}

TEST(status_json_without_capture_drops_leaves_drops_unknown)
{
	CHECK_EQ_I(evalf("{\"time\":%.0f,\"status_json\":{\"mode\":\"live\",\"last_packet_time\":\"%s\"}}",
			 T0, rfc3339(T0 - 60)), 0);
	check_unknown(STATUS_C_DROPS, "status reply: status_json.capture_drops missing");
	CHECK_EQ_I(st(STATUS_C_CAPTURE), STATUS_OK);   /* its own member is there */
	CHECK_EQ_I(eval("{\"status_json\":{\"mode\":\"replay\",\"capture_drops\":\"0\"}}"), 0);
	check_unknown(STATUS_C_DROPS, "status reply: status_json.capture_drops is a string, not a number");
	CHECK_EQ_I(eval("{\"status_json\":{\"mode\":\"replay\",\"capture_drops\":NaN}}"), 0);
	check_unknown(STATUS_C_DROPS, "status reply: status_json.capture_drops is not a finite number");
}

TEST(missing_uptime_is_unknown_even_with_uptime_warn_off)
{
	struct cfg_status th = defaults();
	th.uptime_warn_s = 0;
	CHECK_EQ_I(eval_th("{\"time\":1795860000}", &th), 0);
	check_unknown(STATUS_C_UPTIME, "status reply: uptime_seconds missing");
	CHECK_EQ_I(eval_th("{\"uptime_seconds\":\"5\"}", &th), 0);
	check_unknown(STATUS_C_UPTIME, "status reply: uptime_seconds is a string, not a number");
	CHECK_EQ_I(eval_th("{\"uptime_seconds\":Infinity}", &th), 0);
	check_unknown(STATUS_C_UPTIME, "status reply: uptime_seconds is not a finite number");
	th = defaults();
	CHECK_EQ_I(eval_th("{}", &th), 0);
	check_unknown(STATUS_C_UPTIME, "status reply: uptime_seconds missing");
}

TEST(missing_or_unparseable_oldest_new_completed_is_unknown)
{
	CHECK_EQ_I(eval("{\"manifest\":{\"files_new\":3}}"), 0);
	check_unknown(STATUS_C_BACKLOG, "status reply: manifest.oldest_new_completed missing");
	CHECK_EQ_I(eval("{\"manifest\":{\"oldest_new_completed\":\"yesterday\"}}"), 0);
	check_unknown(STATUS_C_BACKLOG,
		      "status reply: manifest.oldest_new_completed is not an RFC 3339 UTC time");
	CHECK_EQ_I(eval("{\"manifest\":{\"oldest_new_completed\":\"2026-11-27T11:00:00Zjunk\"}}"), 0);
	CHECK_EQ_I(st(STATUS_C_BACKLOG), STATUS_UNKNOWN);
	/* an exponent in the fraction would make the time infinite */
	CHECK_EQ_I(eval("{\"manifest\":{\"oldest_new_completed\":\"2026-11-27T11:00:00.5e999Z\"}}"), 0);
	CHECK_EQ_I(st(STATUS_C_BACKLOG), STATUS_UNKNOWN);
	CHECK_EQ_I(eval("{\"manifest\":{\"oldest_new_completed\":1795860000}}"), 0);
	check_unknown(STATUS_C_BACKLOG,
		      "status reply: manifest.oldest_new_completed is a number, not a string");
	/* fractions of a second as sensord writes them still parse */
	CHECK_EQ_I(evalf("{\"time\":%.0f,\"manifest\":{\"files_new\":1,"
			 "\"oldest_new_completed\":\"2026-11-28T09:00:00.250000Z\"}}", T0), 0);
	CHECK_EQ_I(st(STATUS_C_BACKLOG), STATUS_OK);
	CHECK(out[STATUS_C_BACKLOG].value == 3599.75);
}

TEST(capture_times_missing_or_unparseable_are_unknown)
{
	CHECK_EQ_I(eval("{\"status_json\":{\"mode\":\"live\",\"capture_drops\":0}}"), 0);
	check_unknown(STATUS_C_CAPTURE, "status reply: status_json.last_packet_time missing");
	CHECK_EQ_I(eval("{\"status_json\":{\"last_packet_time\":\"soon\",\"start_time\":\"2026-11-28T09:00:00Z\"}}"), 0);
	check_unknown(STATUS_C_CAPTURE, "status reply: status_json.last_packet_time is not an RFC 3339 UTC time");
	/* no packet yet, and no start time either */
	CHECK_EQ_I(eval("{\"status_json\":{\"last_packet_time\":null}}"), 0);
	check_unknown(STATUS_C_CAPTURE, "status reply: status_json.start_time missing");
	CHECK_EQ_I(eval("{\"status_json\":{\"last_packet_time\":null,\"start_time\":7}}"), 0);
	check_unknown(STATUS_C_CAPTURE, "status reply: status_json.start_time is a number, not a string");
}

TEST(members_of_the_wrong_type_are_unknown_naming_the_member)
{
	CHECK_EQ_I(eval("{\"time\":\"1795860000\",\"uptime_seconds\":\"99999\","
			"\"sensord\":{\"running\":\"yes\"},\"fs\":[80],\"ntp\":{\"synced\":1},"
			"\"status_json\":\"{}\",\"manifest\":[]}"), 0);
	check_unknown(STATUS_C_SENSORD, "status reply: sensord.running is a string, not a boolean");
	check_unknown(STATUS_C_DISK, "status reply: fs is an array, not an object");
	check_unknown(STATUS_C_CLOCK, "status reply: time is a string, not a number");
	check_unknown(STATUS_C_NTP, "status reply: ntp.synced is a number, not a boolean");
	check_unknown(STATUS_C_UPTIME, "status reply: uptime_seconds is a string, not a number");
	check_unknown(STATUS_C_CAPTURE, "status reply: status_json is a string, not an object");
	check_unknown(STATUS_C_DROPS, "status reply: status_json is a string, not an object");
	check_unknown(STATUS_C_BACKLOG, "status reply: manifest is an array, not an object");
	CHECK_EQ_I(eval("{\"sensord\":{},\"ntp\":{\"synced\":null},\"time\":NaN}"), 0);
	check_unknown(STATUS_C_SENSORD, "status reply: sensord.running missing");
	check_unknown(STATUS_C_NTP, "status reply: ntp.synced is null, not a boolean");
	check_unknown(STATUS_C_CLOCK, "status reply: time is not a finite number");
	/* running, but the pid is a string: the state rests on "running" only */
	CHECK_EQ_I(eval("{\"sensord\":{\"running\":true,\"pid\":\"812\",\"since\":5}}"), 0);
	CHECK_EQ_I(st(STATUS_C_SENSORD), STATUS_OK);
	CHECK_STREQ(out[STATUS_C_SENSORD].msg, "running, pid 0 since ?");
	CHECK_EQ_I(eval("{\"sensord\":{\"running\":false},\"ntp\":{\"synced\":false}}"), 0);
	CHECK_EQ_I(st(STATUS_C_SENSORD), STATUS_CRIT);
	CHECK_STREQ(out[STATUS_C_SENSORD].msg, "vigia-sensord is not running (no lock on the spool)");
	CHECK_EQ_I(st(STATUS_C_NTP), STATUS_WARN);
	CHECK_STREQ(out[STATUS_C_NTP].msg, "kernel clock not synchronised (adjtimex state 0)");
}

static void check_unreachable(const char *ssh_msg)
{
	CHECK_EQ_I(st(STATUS_C_SSH), STATUS_CRIT);
	CHECK_STREQ(out[STATUS_C_SSH].msg, ssh_msg);
	CHECK(isnan(out[STATUS_C_SSH].value));
	for (int i = 1; i < STATUS_NCHECKS; i++) {
		CHECK_EQ_I(out[i].state, STATUS_UNKNOWN);
		CHECK_STREQ(out[i].msg, "not checked: sensor unreachable");
		CHECK(isnan(out[i].value));
	}
}

TEST(a_reply_that_is_not_json_names_the_byte_offset)
{
	/* the x is byte 24 */
	CHECK_EQ_I(eval("{\"time\":1795860000,\"fs\":x}"), -EINVAL);
	CHECK_EQ_I(err.code, -EINVAL);
	CHECK_STREQ(err.msg, "sensor s1: status reply: byte offset 24: not JSON: unexpected character");
	check_unreachable("unreachable: status reply is not a JSON object: unexpected character");

	CHECK_EQ_I(eval("Permission denied (publickey).\n"), -EINVAL);
	CHECK_STREQ(err.msg, "sensor s1: status reply: byte offset 0: not JSON: unexpected character");

	/* cut short: json-c ran into the end at byte 10 */
	CHECK_EQ_I(eval("{\"time\":17"), -EINVAL);
	CHECK(strstr(err.msg, "byte offset 10: not JSON") != NULL);
	CHECK_EQ_I(st(STATUS_C_SSH), STATUS_CRIT);

	CHECK_EQ_I(eval(""), -EINVAL);
	CHECK(strstr(err.msg, "sensor s1: status reply: byte offset 0") == err.msg);
	check_unreachable(out[STATUS_C_SSH].msg);
}

TEST(a_json_value_other_than_an_object_is_refused_saying_what_it_is)
{
	CHECK_EQ_I(eval("[{\"time\":1795860000}]"), -EINVAL);
	CHECK_STREQ(err.msg, "sensor s1: status reply: byte offset 0: a JSON array, not an object");
	check_unreachable("unreachable: status reply is a JSON array, not an object");
	CHECK_EQ_I(eval("null"), -EINVAL);
	CHECK_STREQ(err.msg, "sensor s1: status reply: byte offset 0: JSON null, not an object");
	check_unreachable("unreachable: status reply is JSON null, not an object");
	CHECK_EQ_I(eval("\n  \"{}\""), -EINVAL);
	CHECK_STREQ(err.msg, "sensor s1: status reply: byte offset 3: a JSON string, not an object");
	check_unreachable("unreachable: status reply is a JSON string, not an object");
	CHECK_EQ_I(eval("1795860000.5"), -EINVAL);
	check_unreachable("unreachable: status reply is a JSON number, not an object");
	CHECK_EQ_I(eval("true\n"), -EINVAL);
	check_unreachable("unreachable: status reply is a JSON boolean, not an object");
}

TEST(a_nul_byte_in_the_document_is_malformed)
{
	static const char doc[] = "{\"sensord\":{\"running\":true,\"pid\":7}}\0{\"fs\":{\"used_percent\":99}}";
	struct cfg_status th = defaults();
	CHECK_EQ_I(eval_n_th(doc, sizeof doc - 1, &th), -EINVAL);
	CHECK_EQ_I(err.code, -EINVAL);
	CHECK_STREQ(err.msg, "sensor s1: status reply: byte offset 36: a NUL byte in the document");
	check_unreachable("unreachable: status reply is malformed: a NUL byte at byte offset 36");
	/* inside a string, and as the last byte */
	static const char in_str[] = "{\"hostname\":\"a\0b\"}";
	CHECK_EQ_I(eval_n_th(in_str, sizeof in_str - 1, &th), -EINVAL);
	CHECK(strstr(err.msg, "byte offset 14: a NUL byte") != NULL);
	static const char last[] = "{}\0";
	CHECK_EQ_I(eval_n_th(last, sizeof last - 1, &th), -EINVAL);
	CHECK(strstr(err.msg, "byte offset 2: a NUL byte") != NULL);
}

TEST(bytes_after_the_object_are_malformed_whitespace_is_not)
{
	CHECK_EQ_I(eval("{\"fs\":{\"used_percent\":99}} trailing"), -EINVAL);
	CHECK_STREQ(err.msg, "sensor s1: status reply: byte offset 27: data after the JSON object");
	check_unreachable("unreachable: status reply is malformed: data after the JSON object at byte offset 27");
	CHECK_EQ_I(eval("{}{\"fs\":{\"used_percent\":99}}"), -EINVAL);
	CHECK_STREQ(err.msg, "sensor s1: status reply: byte offset 2: data after the JSON object");
	/* json-c would pass a comment after the value as whitespace */
	CHECK_EQ_I(eval("{} /* smuggled */"), -EINVAL);
	CHECK_STREQ(err.msg, "sensor s1: status reply: byte offset 3: data after the JSON object");
	CHECK_EQ_I(eval("{}//}"), -EINVAL);
	CHECK_STREQ(err.msg, "sensor s1: status reply: byte offset 2: data after the JSON object");
	CHECK_EQ_I(eval("{\"a\":\"}\",\"b\":{\"c\":{}}}\n}"), -EINVAL);
	CHECK_STREQ(err.msg, "sensor s1: status reply: byte offset 23: data after the JSON object");
	CHECK_EQ_I(eval("{}\v"), -EINVAL);
	/* the gateway ends its reply with a newline; JSON whitespace is fine */
	CHECK_EQ_I(eval(" \t{\"fs\":{\"used_percent\":99}}\r\n \t\n"), 0);
	CHECK_EQ_I(st(STATUS_C_DISK), STATUS_CRIT);
	CHECK_EQ_I(eval("{\"a\":\"}}}\",\"fs\":{\"used_percent\":1}}"), 0);
	CHECK_EQ_I(st(STATUS_C_DISK), STATUS_OK);
}

TEST(input_over_the_limit_is_refused_and_at_the_limit_accepted)
{
	size_t n = STATUS_EVAL_MAX_INPUT;
	char *big = malloc(n + 1);
	memset(big, ' ', n + 1);
	static const char obj[] = "{\"fs\":{\"used_percent\":96}}";
	memcpy(big, obj, sizeof obj - 1);
	struct cfg_status th = defaults();
	CHECK_EQ_I(eval_n_th(big, n, &th), 0);
	CHECK_EQ_I(st(STATUS_C_DISK), STATUS_CRIT);
	CHECK_EQ_I(eval_n_th(big, n + 1, &th), -EMSGSIZE);
	CHECK_EQ_I(err.code, -EMSGSIZE);
	CHECK_STREQ(err.msg, "sensor s1: status reply: 1048577 bytes, more than the limit of 1048576");
	CHECK_EQ_I(st(STATUS_C_SSH), STATUS_CRIT);
	for (int i = 1; i < STATUS_NCHECKS; i++)
		CHECK_EQ_I(out[i].state, STATUS_UNKNOWN);
	free(big);
}

TEST(long_strings_from_the_sensor_are_cut_to_the_message_buffer)
{
	char doc[1200];
	char since[1000];
	memset(since, 'A', sizeof since - 1);
	since[sizeof since - 1] = '\0';
	snprintf(doc, sizeof doc, "{\"sensord\":{\"running\":true,\"pid\":1,\"since\":\"%s\"}}", since);
	CHECK_EQ_I(eval(doc), 0);
	CHECK_EQ_U(strlen(out[STATUS_C_SENSORD].msg), STATUS_MSG_MAX - 1);
	CHECK(strncmp(out[STATUS_C_SENSORD].msg, "running, pid 1 since AAAA", 25) == 0);
}

TEST(unreachable_and_names)
{
	status_eval_unreachable("ssh: connect to host 192.0.2.1 port 22: Connection refused", out);
	check_unreachable("unreachable: ssh: connect to host 192.0.2.1 port 22: Connection refused");
	CHECK_STREQ(status_state_name(STATUS_WARN), "WARN");
	CHECK_STREQ(status_state_name((enum status_state)7), "UNKNOWN");
	CHECK_STREQ(status_check_name(STATUS_C_SSH), "ssh");
	CHECK_STREQ(status_check_name(STATUS_C_BACKLOG), "backlog");
	CHECK(status_check_name(STATUS_NCHECKS) == NULL);
}

int main(void)
{
	RUN(healthy_gateway_reply_is_ok_everywhere_with_the_same_messages);
	RUN(disk_thresholds_warn_at_80_and_crit_at_95_percent);
	RUN(clock_offset_thresholds_are_on_the_absolute_offset_from_the_first_byte);
	RUN(ntp_unsynced_is_warn_or_crit_as_configured);
	RUN(drops_thresholds_warn_at_1_and_crit_at_1000);
	RUN(backlog_thresholds_are_percent_of_retention_on_the_sensors_clock);
	RUN(capture_stall_thresholds_and_replay_mode);
	RUN(uptime_below_the_threshold_warns_of_a_reboot);
	RUN(absent_sections_make_their_checks_unknown_naming_them);
	RUN(the_gateways_nulls_keep_their_meaning);
	RUN(empty_fs_section_is_unknown_not_zero_percent_used);
	RUN(non_finite_used_percent_is_unknown_not_nan_percent);
	RUN(status_json_without_capture_drops_leaves_drops_unknown);
	RUN(missing_uptime_is_unknown_even_with_uptime_warn_off);
	RUN(missing_or_unparseable_oldest_new_completed_is_unknown);
	RUN(capture_times_missing_or_unparseable_are_unknown);
	RUN(members_of_the_wrong_type_are_unknown_naming_the_member);
	RUN(a_reply_that_is_not_json_names_the_byte_offset);
	RUN(a_json_value_other_than_an_object_is_refused_saying_what_it_is);
	RUN(a_nul_byte_in_the_document_is_malformed);
	RUN(bytes_after_the_object_are_malformed_whitespace_is_not);
	RUN(input_over_the_limit_is_refused_and_at_the_limit_accepted);
	RUN(long_strings_from_the_sensor_are_cut_to_the_message_buffer);
	RUN(unreachable_and_names);
	return check_summary();
}
