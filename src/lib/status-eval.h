/* status-eval.h: the health checks of one sensor from the reply of its
 * vigia-gateway to `status` (issue 5), for `vigia status`.
 *
 * The reply comes from the sensor, and a honeypot sensor may be
 * compromised: the bytes are untrusted.  They are parsed with json-c,
 * never read past the length given, and at most STATUS_EVAL_MAX_INPUT of
 * them are accepted (the cap `vigia status` puts on the ssh output).
 *
 * Every call fills all STATUS_NCHECKS checks, whatever it returns, so the
 * caller can print and store them as they are. */
#ifndef VIGIA_STATUS_EVAL_H
#define VIGIA_STATUS_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "cfg-central.h"
#include "vg-err.h"

/* Also the Nagios plug-in exit statuses. */
enum status_state { STATUS_OK = 0, STATUS_WARN = 1, STATUS_CRIT = 2, STATUS_UNKNOWN = 3 };

/* In the order `vigia status` prints them. */
enum status_check_id {
	STATUS_C_SSH, STATUS_C_SENSORD, STATUS_C_DISK, STATUS_C_CLOCK, STATUS_C_NTP,
	STATUS_C_UPTIME, STATUS_C_CAPTURE, STATUS_C_DROPS, STATUS_C_BACKLOG, STATUS_NCHECKS
};

#define STATUS_MSG_MAX 256
#define STATUS_EVAL_MAX_INPUT (1u << 20)

struct status_check {
	enum status_state state;
	double value;               /* NAN when none */
	char msg[STATUS_MSG_MAX];   /* NUL-terminated, truncated to fit */
};

/* What the evaluation needs besides the reply: thresholds, the sensor's
 * retention and the CLOCK_REALTIME moments of the ssh run. */
struct status_eval_ctx {
	const struct cfg_status *th;
	uint32_t retention_seconds;
	double t_start;             /* ssh started */
	double t_first;             /* first byte of the reply arrived; 0: unknown */
	double t_end;               /* ssh ended */
	double now;                 /* our clock, when the sensor's is missing */
};

/* "OK", "WARN", "CRIT", "UNKNOWN" ("UNKNOWN" for any other value). */
const char *status_state_name(enum status_state s);
/* "ssh", "sensord", ... ; NULL out of range. */
const char *status_check_name(enum status_check_id c);

/* Evaluate the reply `doc` of `len` bytes (need not be NUL-terminated).
 * It must be one JSON object with nothing after it but JSON whitespace;
 * a NUL byte anywhere, or other bytes after the object, make it
 * malformed.  `name` names the reply in error messages ("sensor s1:
 * status reply").
 *
 * Returns 0 when the reply is a JSON object (the checks hold its facts);
 * -EMSGSIZE when len exceeds STATUS_EVAL_MAX_INPUT, -EINVAL when it is
 * not JSON, malformed or not an object (err names the byte offset),
 * -ENOMEM.  On an error the ssh check is CRIT "unreachable: ..." and the
 * others UNKNOWN.
 *
 * In an object, a check whose member is missing, of the wrong type, not
 * a finite number or (a time) not RFC 3339 is UNKNOWN, its message naming
 * the member ("status reply: fs.used_percent missing").  The gateway's
 * JSON nulls keep their meaning: "fs", "manifest" or "status_json" null,
 * that part of the spool is not there; "last_packet_time" null, no packet
 * yet; "oldest_new_completed" null, nothing waiting. */
int status_eval(const char *name, const char *doc, size_t len, const struct status_eval_ctx *ctx,
		struct status_check out[STATUS_NCHECKS], struct vg_err *err);

/* The checks of a sensor whose ssh command failed: ssh CRIT
 * "unreachable: WHY", the others UNKNOWN. */
void status_eval_unreachable(const char *why, struct status_check out[STATUS_NCHECKS]);

#endif
