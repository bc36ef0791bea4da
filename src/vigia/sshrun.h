/* sshrun.h: running OpenSSH and rsync against one sensor, for `vigia
 * collect` and `vigia status`.  Every connection uses BatchMode, strict
 * host-key checking against the sensor's pinned key (written to a private
 * known_hosts file) or its configured known_hosts, and a connect timeout. */
#ifndef VIGIA_SSHRUN_H
#define VIGIA_SSHRUN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "cfg-central.h"

#define SSH_MAX_ARGS 48

struct ssh_target {
	const struct cfg_central *c;
	const struct cfg_sensor *s;
	char known_hosts[PATH_MAX];
	char tmpdir[PATH_MAX - 64];  /* holds the pinned known_hosts; removed by cleanup */
	char host[300];             /* for rsync: "host" or "[v6]" */
	char *args[SSH_MAX_ARGS];   /* ssh options (without the host) */
	size_t nargs;
	char argbuf[4 * PATH_MAX];
};

/* Prepare (writes the pinned key's known_hosts file).  0, or -errno with a
 * message in msg. */
int ssh_target_init(struct ssh_target *t, const struct cfg_central *c,
		    const struct cfg_sensor *s, char *msg, size_t msglen);
void ssh_target_cleanup(struct ssh_target *t);

/* argv for `ssh OPTIONS HOST REMOTE` (NULL-terminated, pointing into t). */
size_t ssh_argv(struct ssh_target *t, const char *remote, char **argv, size_t max);
/* The rsync -e value (each word single-quoted). */
int ssh_rsync_e(const struct ssh_target *t, char *buf, size_t len);

struct run_result {
	int status;                 /* exit status; 128+N for signal N; -1 not run */
	bool timed_out;
	char *out;                  /* stdout (NUL-terminated), malloc'ed */
	size_t outlen;
	bool out_truncated;
	char err[2048];             /* the tail of stderr */
	double t_start, t_first, t_end;   /* CLOCK_REALTIME; t_first: first stdout byte */
};

/* Run argv (PATH lookup), stdin from /dev/null, capturing up to out_max
 * bytes of stdout and the tail of stderr; kill it after timeout_s seconds
 * (0: none).  Returns 0 when it ran (see r->status) or -errno. */
int run_capture(char *const argv[], size_t out_max, unsigned timeout_s, struct run_result *r);
void run_result_free(struct run_result *r);

/* The last non-empty line of a stderr tail, for one-line reports. */
const char *run_err_line(const struct run_result *r, char *buf, size_t len);

double now_realtime(void);

#endif
