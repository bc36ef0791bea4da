/* sshrun.c: OpenSSH/rsync command lines and a child runner with a poll loop. */
#include "sshrun.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double now_realtime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool push(struct ssh_target *t, size_t *used, const char *word)
{
	size_t n = strlen(word) + 1;
	if (n > sizeof t->argbuf - *used || t->nargs + 1 >= SSH_MAX_ARGS)
		return false;
	char *p = t->argbuf + *used;
	memcpy(p, word, n);
	*used += n;
	t->args[t->nargs++] = p;
	return true;
}

static bool push_opt(struct ssh_target *t, size_t *used, const char *key, const char *val)
{
	char buf[PATH_MAX + 64];
	snprintf(buf, sizeof buf, "%s=%s", key, val);
	return push(t, used, "-o") && push(t, used, buf);
}

int ssh_target_init(struct ssh_target *t, const struct cfg_central *c,
		    const struct cfg_sensor *s, char *msg, size_t msglen)
{
	memset(t, 0, sizeof *t);
	t->c = c;
	t->s = s;
	if (s->host_key) {
		const char *td = getenv("TMPDIR");
		snprintf(t->tmpdir, sizeof t->tmpdir, "%s/vigia-ssh-XXXXXX", td && *td ? td : "/tmp");
		if (!mkdtemp(t->tmpdir)) {
			int e = errno;
			snprintf(msg, msglen, "%s: %s", t->tmpdir, strerror(e));
			t->tmpdir[0] = '\0';
			return -e;
		}
		snprintf(t->known_hosts, sizeof t->known_hosts, "%s/known_hosts", t->tmpdir);
		FILE *f = fopen(t->known_hosts, "w");
		/* HostKeyAlias: the pinned key belongs to the sensor, whatever its
		 * address or port */
		if (!f || fprintf(f, "vigia-sensor-%s %s\n", s->name, s->host_key) < 0 ||
				fclose(f) != 0) {
			int e = errno ? errno : EIO;
			snprintf(msg, msglen, "%s: %s", t->known_hosts, strerror(e));
			ssh_target_cleanup(t);
			return -e;
		}
	} else {
		if (access(s->known_hosts, R_OK) < 0) {
			int e = errno;
			snprintf(msg, msglen, "sensor %s: known-hosts %s: %s", s->name, s->known_hosts,
					strerror(e));
			return -e;
		}
		snprintf(t->known_hosts, sizeof t->known_hosts, "%s", s->known_hosts);
	}
	if (access(s->identity, R_OK) < 0) {
		int e = errno;
		snprintf(msg, msglen, "sensor %s: identity %s: %s", s->name, s->identity, strerror(e));
		ssh_target_cleanup(t);
		return -e;
	}
	snprintf(t->host, sizeof t->host, strchr(s->host, ':') ? "[%s]" : "%s", s->host);
	size_t used = 0;
	char num[32], port[16], alias[128];
	snprintf(num, sizeof num, "%u", c->connect_timeout);
	snprintf(port, sizeof port, "%u", s->port);
	snprintf(alias, sizeof alias, "vigia-sensor-%s", s->name);
	bool ok = push_opt(t, &used, "BatchMode", "yes") &&
		push_opt(t, &used, "StrictHostKeyChecking", "yes") &&
		push_opt(t, &used, "UserKnownHostsFile", t->known_hosts) &&
		push_opt(t, &used, "GlobalKnownHostsFile", "/dev/null") &&
		push_opt(t, &used, "ConnectTimeout", num) &&
		push_opt(t, &used, "IdentitiesOnly", "yes") &&
		push_opt(t, &used, "PasswordAuthentication", "no") &&
		push_opt(t, &used, "ServerAliveInterval", "15") &&
		push_opt(t, &used, "ServerAliveCountMax", "4") &&
		push_opt(t, &used, "LogLevel", "ERROR") &&
		push(t, &used, "-i") && push(t, &used, s->identity) &&
		push(t, &used, "-p") && push(t, &used, port) &&
		push(t, &used, "-l") && push(t, &used, s->user);
	if (ok && s->host_key)
		ok = push_opt(t, &used, "HostKeyAlias", alias);
	if (!ok) {
		snprintf(msg, msglen, "sensor %s: ssh command line too long", s->name);
		ssh_target_cleanup(t);
		return -ENAMETOOLONG;
	}
	return 0;
}

void ssh_target_cleanup(struct ssh_target *t)
{
	if (t->tmpdir[0]) {
		unlink(t->known_hosts);
		rmdir(t->tmpdir);
		t->tmpdir[0] = '\0';
	}
}

size_t ssh_argv(struct ssh_target *t, const char *remote, char **argv, size_t max)
{
	size_t n = 0;
	if (max < t->nargs + 5)
		return 0;
	argv[n++] = t->c->ssh_program;
	for (size_t i = 0; i < t->nargs; i++)
		argv[n++] = t->args[i];
	argv[n++] = t->s->host;
	argv[n++] = (char *)remote;
	argv[n] = NULL;
	return n;
}

int ssh_rsync_e(const struct ssh_target *t, char *buf, size_t len)
{
	size_t off = 0;
	int w = snprintf(buf, len, "'%s'", t->c->ssh_program);
	if (w < 0 || (size_t)w >= len)
		return -ENAMETOOLONG;
	off = (size_t)w;
	for (size_t i = 0; i < t->nargs; i++) {
		if (strchr(t->args[i], '\''))
			return -EINVAL;
		w = snprintf(buf + off, len - off, " '%s'", t->args[i]);
		if (w < 0 || (size_t)w >= len - off)
			return -ENAMETOOLONG;
		off += (size_t)w;
	}
	return 0;
}

void run_result_free(struct run_result *r)
{
	free(r->out);
	r->out = NULL;
}

int run_capture(char *const argv[], size_t out_max, unsigned timeout_s, struct run_result *r)
{
	memset(r, 0, sizeof *r);
	r->status = -1;
	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(pe, O_CLOEXEC) < 0) {
		int e = errno;
		close(po[0]);
		close(po[1]);
		return -e;
	}
	r->out = malloc(out_max + 1);
	if (!r->out) {
		close(po[0]); close(po[1]); close(pe[0]); close(pe[1]);
		return -ENOMEM;
	}
	r->t_start = now_realtime();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(po[0]); close(po[1]); close(pe[0]); close(pe[1]);
		return -e;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		/* own process group, so a timeout kills ssh and what it runs */
		setpgid(0, 0);
		execvp(argv[0], argv);
		dprintf(2, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	double deadline = timeout_s ? now_mono() + timeout_s : 0;
	size_t elen = 0;
	bool oopen = true, eopen = true;
	while (oopen || eopen) {
		struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
		int ms = -1;
		if (deadline) {
			double left = deadline - now_mono();
			if (left <= 0) {
				r->timed_out = true;
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				break;
			}
			ms = (int)(left * 1000) + 1;
		}
		if (!oopen)
			fds[0].fd = -1;
		if (!eopen)
			fds[1].fd = -1;
		int n = poll(fds, 2, ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		char buf[8192];
		if (oopen && fds[0].revents) {
			ssize_t got = read(po[0], buf, sizeof buf);
			if (got <= 0) {
				oopen = false;
			} else {
				if (!r->t_first)
					r->t_first = now_realtime();
				size_t take = (size_t)got;
				if (r->outlen + take > out_max) {
					take = out_max - r->outlen;
					r->out_truncated = true;
				}
				memcpy(r->out + r->outlen, buf, take);
				r->outlen += take;
			}
		}
		if (eopen && fds[1].revents) {
			ssize_t got = read(pe[0], buf, sizeof buf);
			if (got <= 0) {
				eopen = false;
			} else {
				/* keep the tail: the last lines say why it failed */
				size_t g = (size_t)got, cap = sizeof r->err - 1;
				if (g >= cap) {
					memcpy(r->err, buf + g - cap, cap);
					elen = cap;
				} else {
					if (elen + g > cap) {
						size_t drop = elen + g - cap;
						memmove(r->err, r->err + drop, elen - drop);
						elen -= drop;
					}
					memcpy(r->err + elen, buf, g);
					elen += g;
				}
				r->err[elen] = '\0';
			}
		}
	}
	close(po[0]);
	close(pe[0]);
	r->out[r->outlen] = '\0';
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	r->t_end = now_realtime();
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

/* The first line: ssh's own reason ("connect to host ...: Connection
 * refused") or the gateway's refusal comes before rsync's generic
 * "connection unexpectedly closed". */
const char *run_err_line(const struct run_result *r, char *buf, size_t len)
{
	const char *e = r->err;
	while (*e == '\n' || *e == '\r' || *e == ' ')
		e++;
	size_t n = strcspn(e, "\r\n");
	if (r->timed_out)
		snprintf(buf, len, "timed out%s%.*s", n ? ": " : "", (int)n, e);
	else if (n == 0)
		snprintf(buf, len, "exit status %d", r->status);
	else
		snprintf(buf, len, "%.*s", (int)n, e);
	return buf;
}
