/* stack-script.c: Honeyd-style external scripts.
 *
 * `add T tcp port 80 "sh scripts/web.sh"` runs the command with /bin/sh -c
 * when a connection is established, as Honeyd did: the peer's bytes go to
 * its stdin, its stdout goes back to the peer, each line of its stderr goes
 * to the service log, and it sees Honeyd's environment (HONEYD_IP_SRC, ...).
 * When its stdout ends the connection closes (FIN after its output).  A UDP
 * script gets one datagram on stdin and its stdout is the reply, cut to the
 * request's size so that a sensor never amplifies.
 *
 * The process runs in a session of its own, unprivileged, under
 * RLIMIT_CPU (script-cpu), RLIMIT_AS (script-memory), a small RLIMIT_NOFILE
 * and RLIMIT_FSIZE, RLIMIT_NPROC, no core files, and a wall-clock limit
 * (script-time) after which its whole process group is killed.  At most
 * max-scripts run at once; beyond that a connection is refused with RST.
 *
 * Pipes, not sockets: the parent's ends are non-blocking and polled by the
 * caller of stack_script_poll, so the packet path never waits on a script.
 * Output is read only while the connection's send buffer has room, which
 * is the back-pressure: a script writing faster than the peer reads blocks
 * on its stdout. */
#include "stack-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SCRIPT_NOBODY 65534u            /* Debian's nobody and nogroup */
#define SCRIPT_NOFILE 32                /* Honeyd allowed 30 */
#define SCRIPT_FSIZE (16ull << 20)      /* files a script writes */
#define SCRIPT_ERR_MAX (64u << 10)      /* stderr bytes logged per script */
#define SCRIPT_GRACE_MS 2000u           /* after a kill, pipes are closed anyway */
#define SCRIPT_PATH "PATH=/usr/local/bin:/usr/bin:/bin"

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static bool config_has_scripts(const struct sc_config *c)
{
	for (size_t i = 0; i < c->ntmpls; i++)
		for (size_t j = 0; j < c->tmpls[i].nports; j++)
			if (c->tmpls[i].ports[j].action == SC_SCRIPT)
				return true;
	return false;
}

/* --- set-up ------------------------------------------------------------------ */

int st_scripts_init(struct stack *s, struct vg_err *err)
{
	if (!config_has_scripts(s->cfg))
		return 0;
	s->max_scripts = s->cfg->max_scripts ? s->cfg->max_scripts : STACK_MAX_SCRIPTS_DEFAULT;
	if (s->max_scripts > 4096)
		s->max_scripts = 4096;
	s->scripts = calloc(s->max_scripts, sizeof *s->scripts);
	if (!s->scripts)
		return vg_err_set(err, -ENOMEM, "stack: out of memory for %u script slots",
				  s->max_scripts);
	for (uint32_t i = 0; i < s->max_scripts; i++) {
		struct st_script *sc = &s->scripts[i];
		sc->fd_in = sc->fd_out = sc->fd_err = -1;
	}
	if (geteuid() == 0) {
		s->script_switch_user = true;
		s->script_uid = s->o.script_user_set ? s->o.script_uid : SCRIPT_NOBODY;
		s->script_gid = s->o.script_user_set ? s->o.script_gid : SCRIPT_NOBODY;
		if (s->script_uid == 0 || s->script_gid == 0)
			return vg_err_set(err, -EPERM,
					  "%s: scripts would run as root; set 'vigia user' to an "
					  "unprivileged user", s->cfg->path ? s->cfg->path : "config");
	}
	const char *dir = s->o.script_dir;
	char buf[PATH_MAX];
	if (!dir) {
		/* Honeyd's command lines are relative ("scripts/web.sh"): to
		 * the configuration file, as its includes are. */
		const char *path = s->cfg->path ? s->cfg->path : "";
		const char *slash = strrchr(path, '/');
		if (slash && slash == path) {
			dir = "/";
		} else if (slash && (size_t)(slash - path) < sizeof buf) {
			memcpy(buf, path, (size_t)(slash - path));
			buf[slash - path] = '\0';
			dir = buf;
		} else {
			dir = ".";
		}
	}
	/* Absolute, so that it does not depend on where the sensor is later. */
	s->script_dir = realpath(dir, NULL);
	if (!s->script_dir)
		s->script_dir = strdup(dir);
	if (!s->script_dir)
		return vg_err_set(err, -ENOMEM, "stack: out of memory");

	/* A write to the stdin of a script that has just exited raises
	 * SIGPIPE, whose default action would end the sensor: ignored, the
	 * write fails with EPIPE instead.  (Children get it back.) */
	struct sigaction old;
	if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
	return 0;
}

static void slot_kill(struct st_script *sc)
{
	if (sc->pid > 0) {
		kill(-sc->pgid, SIGKILL);
		kill(sc->pid, SIGKILL);
	}
}

void st_scripts_free(struct stack *s)
{
	for (uint32_t i = 0; s->scripts && i < s->max_scripts; i++) {
		struct st_script *sc = &s->scripts[i];
		if (!sc->used)
			continue;
		slot_kill(sc);
		if (sc->pid > 0)
			waitpid(sc->pid, NULL, 0);
		close_fd(&sc->fd_in);
		close_fd(&sc->fd_out);
		close_fd(&sc->fd_err);
	}
	free(s->scripts);
	s->scripts = NULL;
	free(s->script_dir);
	s->script_dir = NULL;
}

bool st_script_available(const struct stack *s)
{
	return s->scripts && s->nscripts < s->max_scripts;
}

unsigned stack_script_slots(const struct stack *s)
{
	return s->scripts ? s->max_scripts : 0;
}

/* --- logging ------------------------------------------------------------------- */

static void script_line(struct stack *s, const struct st_script *sc, const char *text)
{
	if (!s->o.record)
		return;
	struct hl_event ev;
	memset(&ev, 0, sizeof ev);
	ev.ts_ns = s->now_ns;
	ev.kind = HL_START;
	ev.proto = sc->proto;
	ev.src = sc->peer;
	ev.dst = sc->self;
	ev.sport = sc->pport;
	ev.dport = sc->sport;
	s->o.record(s->o.ctx, &ev, "", text);
}

__attribute__((format(printf, 3, 4)))
static void script_note(struct stack *s, const struct st_script *sc, const char *fmt, ...)
{
	char text[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	script_line(s, sc, text);
}

/* stderr: one service-log line per line written; a line longer than the
 * buffer is logged in pieces.  At most SCRIPT_ERR_MAX bytes per script,
 * so a script cannot fill the disk through the log. */
static void err_flush(struct stack *s, struct st_script *sc, bool all)
{
	uint32_t start = 0;
	for (uint32_t i = 0; i < sc->errlen; i++) {
		if (sc->err[i] != '\n')
			continue;
		sc->err[i] = '\0';
		if (sc->err_logged < SCRIPT_ERR_MAX)
			script_line(s, sc, sc->err + start);
		sc->err_logged += i - start + 1;
		start = i + 1;
	}
	if (start == 0 && (all || sc->errlen >= sizeof sc->err - 1) && sc->errlen) {
		sc->err[sc->errlen] = '\0';
		if (sc->err_logged < SCRIPT_ERR_MAX)
			script_line(s, sc, sc->err);
		sc->err_logged += sc->errlen;
		start = sc->errlen;
	} else if (all && start < sc->errlen) {
		sc->err[sc->errlen] = '\0';
		if (sc->err_logged < SCRIPT_ERR_MAX)
			script_line(s, sc, sc->err + start);
		sc->err_logged += sc->errlen - start;
		start = sc->errlen;
	}
	memmove(sc->err, sc->err + start, sc->errlen - start);
	sc->errlen -= start;
}

/* --- the child ------------------------------------------------------------------ */

struct env_buf {
	char text[4096];
	size_t used;
	char *v[24];
	int n;
};

__attribute__((format(printf, 2, 3)))
static void env_add(struct env_buf *e, const char *fmt, ...)
{
	if (e->n >= (int)(sizeof e->v / sizeof e->v[0]) - 1)
		return;
	size_t room = sizeof e->text - e->used;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(e->text + e->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return;     /* too long: left out rather than cut */
	e->v[e->n++] = e->text + e->used;
	e->used += (size_t)n + 1;
	e->v[e->n] = NULL;
}

struct child_args {
	const char *cmd, *dir;
	char **envp;
	int in, out, err;
	bool switch_user;
	uint32_t uid, gid;
	struct rlimit cpu, as, nofile, nproc, fsize, core;
};

static void child_fail(const char *what)
{
	/* stderr is the pipe to the service log by now (or still the
	 * sensor's own before the dup2s, which is fine too). */
	char msg[160];
	int n = snprintf(msg, sizeof msg, "vigia: script not started: %s: %s\n", what,
			 strerror(errno));
	if (n > 0)
		(void)!write(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
	_exit(126);
}

/* Between fork and exec: system calls, and no allocation (child_fail
 * formats into the stack).  sensord is single-threaded, so fork leaves no
 * lock held. */
static void __attribute__((noreturn)) child(const struct child_args *a)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Ignored signals stay ignored across exec: give the script the
	 * default SIGPIPE (and the rest) back. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	if (setsid() < 0)
		child_fail("setsid");
	/* Move the pipes out of 0..2 first, in case one landed there. */
	int fds[3] = { a->in, a->out, a->err };
	for (int i = 0; i < 3; i++) {
		if (fds[i] < 3) {
			int d = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
			if (d < 0)
				child_fail("fcntl");
			fds[i] = d;
		}
	}
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			child_fail("dup2");
	/* Nothing of the sensor's (capture, logs, spool) reaches a script. */
	if (close_range(3, ~0u, 0) < 0)
		for (int fd = 3; fd < 4096; fd++)
			close(fd);
	if (chdir(a->dir) < 0)
		child_fail(a->dir);
	if (setrlimit(RLIMIT_CPU, &a->cpu) < 0 || setrlimit(RLIMIT_AS, &a->as) < 0 ||
	    setrlimit(RLIMIT_NOFILE, &a->nofile) < 0 || setrlimit(RLIMIT_FSIZE, &a->fsize) < 0 ||
	    setrlimit(RLIMIT_CORE, &a->core) < 0)
		child_fail("setrlimit");
	if (a->switch_user) {
		/* RLIMIT_NPROC counts the processes of the uid, so it is set
		 * only for the unprivileged user the scripts share. */
		gid_t g = a->gid;
		uid_t ru, eu, su;
		gid_t rg, eg, sg;
		if (setrlimit(RLIMIT_NPROC, &a->nproc) < 0)
			child_fail("setrlimit");
		if (setgroups(1, &g) < 0)
			child_fail("setgroups");
		if (setresgid(a->gid, a->gid, a->gid) < 0)
			child_fail("setresgid");
		if (setresuid(a->uid, a->uid, a->uid) < 0)
			child_fail("setresuid");
		if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 ||
		    ru != a->uid || eu != a->uid || su != a->uid || rg != a->gid ||
		    eg != a->gid || sg != a->gid)
			child_fail("the privileges were not dropped");
		/* Make sure they cannot come back. */
		if (setuid(0) == 0 || seteuid(0) == 0) {
			errno = EPERM;
			child_fail("root could be regained");
		}
	}
	char *argv[] = { "sh", "-c", (char *)a->cmd, NULL };
	execve("/bin/sh", argv, a->envp);
	child_fail("/bin/sh");
	_exit(127);
}

/* --- start ------------------------------------------------------------------------ */

static struct st_script *slot_get(struct stack *s)
{
	if (!st_script_available(s))
		return NULL;
	for (uint32_t i = 0; i < s->max_scripts; i++) {
		struct st_script *sc = &s->scripts[i];
		if (sc->used)
			continue;
		memset(sc, 0, offsetof(struct st_script, in));
		sc->used = true;
		sc->fd_in = sc->fd_out = sc->fd_err = -1;
		s->nscripts++;
		return sc;
	}
	return NULL;
}

static void slot_release(struct stack *s, struct st_script *sc)
{
	close_fd(&sc->fd_in);
	close_fd(&sc->fd_out);
	close_fd(&sc->fd_err);
	if (sc->conn) {
		struct st_conn *c = &s->conns[sc->conn - 1];
		if (c->script == (uint32_t)(sc - s->scripts) + 1)
			c->script = 0;
		sc->conn = 0;
	}
	sc->used = false;
	s->nscripts--;
}

static void fmt_date(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / NS_PER_S);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d-%H:%M:%S", &tm))
		snprintf(buf, len, "1970-01-01-00:00:00");
}

static void build_env(struct stack *s, const struct st_script *sc, int os_label,
		      struct env_buf *e)
{
	const struct st_tmpl *tm = &s->tmpls[sc->tmpl];
	char src[64], dst[64], date[32];
	vg_ip_str(&sc->peer, src, sizeof src);
	vg_ip_str(&sc->self, dst, sizeof dst);
	e->used = 0;
	e->n = 0;
	e->v[0] = NULL;
	env_add(e, "%s", SCRIPT_PATH);
	env_add(e, "HOME=/");
	env_add(e, "LC_ALL=C");
	/* Honeyd's variables (honeyd.8), then the two Honeyd 1.5 also set. */
	env_add(e, "HONEYD_IP_SRC=%s", src);
	env_add(e, "HONEYD_IP_DST=%s", dst);
	env_add(e, "HONEYD_SRC_PORT=%u", sc->pport);
	env_add(e, "HONEYD_DST_PORT=%u", sc->sport);
	if (tm->t && tm->t->personality)
		env_add(e, "HONEYD_PERSONALITY=%s", tm->t->personality);
	const char *os = st_os_name(s, os_label);
	if (os)
		env_add(e, "HONEYD_REMOTE_OS=%s", os);
	uint64_t now_s = s->now_ns / NS_PER_S;
	uint64_t up = tm->uptime0 + (s->now_ns - s->t0_ns) / NS_PER_S;
	env_add(e, "HONEYD_UPTIME=%llu", (unsigned long long)up);
	env_add(e, "HONEYD_REBOOT_TIME=%llu",
		(unsigned long long)(now_s > up ? now_s - up : 0));
	/* Honeyd expanded $ipsrc, $ipdst, $sport, $dport and $date in the
	 * command line itself; as variables the shell expands them the same
	 * way, and nothing the peer controls is ever spliced into it. */
	fmt_date(s->now_ns, date, sizeof date);
	env_add(e, "ipsrc=%s", src);
	env_add(e, "ipdst=%s", dst);
	env_add(e, "sport=%u", sc->pport);
	env_add(e, "dport=%u", sc->sport);
	env_add(e, "date=%s", date);
}

static int nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int spawn(struct stack *s, struct st_script *sc, const char *cmd, int os_label)
{
	const struct sc_config *cfg = s->cfg;
	const struct sc_template *t = s->tmpls[sc->tmpl].t;
	struct env_buf env;
	build_env(s, sc, os_label, &env);

	struct child_args a;
	memset(&a, 0, sizeof a);
	a.cmd = cmd;
	a.dir = s->script_dir;
	a.envp = env.v;
	a.switch_user = s->script_switch_user;
	a.uid = s->script_uid;
	a.gid = s->script_gid;
	/* Honeyd's "set T uid N gid M", 0 meaning unset as in Honeyd. */
	if (t && t->has_uid && t->uid != 0) {
		a.uid = t->uid;
		a.gid = t->gid ? t->gid : t->uid;
	}
	uint32_t cpu = cfg->script_cpu_seconds ? cfg->script_cpu_seconds : 5;
	uint64_t mem = (uint64_t)(cfg->script_mem_mb ? cfg->script_mem_mb : 64) << 20;
	/* SIGXCPU at the soft limit, SIGKILL a second later. */
	a.cpu = (struct rlimit){ cpu, cpu + 1 };
	a.as = (struct rlimit){ mem, mem };
	a.nofile = (struct rlimit){ SCRIPT_NOFILE, SCRIPT_NOFILE };
	/* Per uid, shared by every script (and whatever else runs as that
	 * user): room for each to run a few commands, not for a fork bomb. */
	rlim_t nproc = 8u * (rlim_t)s->max_scripts + 64u;
	a.nproc = (struct rlimit){ nproc, nproc };
	a.fsize = (struct rlimit){ SCRIPT_FSIZE, SCRIPT_FSIZE };
	a.core = (struct rlimit){ 0, 0 };

	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 ||
	    pipe2(perr, O_CLOEXEC) < 0)
		goto fail;
	a.in = pin[0];
	a.out = pout[1];
	a.err = perr[1];
	pid_t pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0)
		child(&a);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	sc->pid = pid;
	sc->pgid = pid;
	sc->fd_in = pin[1];
	sc->fd_out = pout[0];
	sc->fd_err = perr[0];
	nonblock(sc->fd_in);
	nonblock(sc->fd_out);
	nonblock(sc->fd_err);
	uint64_t now = mono_ms();
	uint32_t wall = cfg->script_wall_seconds ? cfg->script_wall_seconds : 60;
	sc->deadline_ms = now + (uint64_t)wall * 1000u;
	sc->last_act_ms = now;
	sc->dirty = true;
	sc->seq = ++s->script_seq;
	s->st.scripts_started++;
	return 0;
fail:;
	int e = errno;
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
	}
	s->st.script_errors++;
	script_note(s, sc, "vigia: script not started: %s", strerror(e));
	return -(e ? e : EIO);
}

int st_script_start_tcp(struct stack *s, struct st_conn *c, const char *cmd)
{
	struct st_script *sc = slot_get(s);
	if (!sc) {
		s->st.script_cap_hits++;
		return -EBUSY;
	}
	sc->proto = 6;
	sc->peer = c->peer;
	sc->self = c->self;
	sc->pport = c->pport;
	sc->sport = c->sport;
	sc->tmpl = c->tmpl;
	int rc = spawn(s, sc, cmd, c->os_label);
	if (rc < 0) {
		slot_release(s, sc);
		return rc;
	}
	sc->conn = (uint32_t)(c - s->conns) + 1;
	c->script = (uint32_t)(sc - s->scripts) + 1;
	return 0;
}

int st_script_start_udp(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
			const struct vg_pkt *p, const uint8_t *d, uint32_t len, const char *cmd)
{
	struct st_script *sc = slot_get(s);
	if (!sc) {
		s->st.script_cap_hits++;
		return -EBUSY;
	}
	sc->proto = 17;
	sc->peer = p->src;
	sc->self = p->dst;
	sc->pport = p->sport;
	sc->sport = p->dport;
	sc->tmpl = (uint32_t)(tm - s->tmpls);
	sc->l2 = *l2;
	/* No amplification: the reply is at most as large as the request. */
	sc->reply_max = len < ST_UDP_MAX_PAYLOAD ? len : ST_UDP_MAX_PAYLOAD;
	if (len > ST_SCRIPT_IN)
		len = ST_SCRIPT_IN;
	memcpy(sc->in, d, len);
	sc->inlen = len;
	sc->in_eof = true;
	int rc = spawn(s, sc, cmd, st_os_of(s, &p->src));
	if (rc < 0) {
		slot_release(s, sc);
		return rc;
	}
	return 0;
}

static struct st_script *script_of(struct stack *s, const struct st_conn *c)
{
	if (!c->script || !s->scripts || c->script > s->max_scripts)
		return NULL;
	struct st_script *sc = &s->scripts[c->script - 1];
	return sc->used ? sc : NULL;
}

/* --- moving bytes ------------------------------------------------------------------ */

static bool pump_in(struct st_script *sc)
{
	bool act = false;
	while (sc->fd_in >= 0 && sc->inoff < sc->inlen) {
		ssize_t w = write(sc->fd_in, sc->in + sc->inoff, sc->inlen - sc->inoff);
		if (w > 0) {
			sc->inoff += (uint32_t)w;
			act = true;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && errno == EAGAIN) {
			break;
		} else {
			/* EPIPE: the script stopped reading; what it did not
			 * take is dropped. */
			sc->inoff = sc->inlen;
			close_fd(&sc->fd_in);
		}
	}
	if (sc->inoff == sc->inlen)
		sc->inoff = sc->inlen = 0;
	if (sc->fd_in >= 0 && sc->in_eof && sc->inlen == 0) {
		close_fd(&sc->fd_in);
		act = true;
	}
	return act;
}

uint32_t st_script_feed(struct stack *s, struct st_conn *c, const uint8_t *d, uint32_t n)
{
	struct st_script *sc = script_of(s, c);
	if (!sc || sc->fd_in < 0 || sc->in_eof)
		return n;       /* nobody reads any more: taken and dropped */
	if (sc->inoff) {
		memmove(sc->in, sc->in + sc->inoff, sc->inlen - sc->inoff);
		sc->inlen -= sc->inoff;
		sc->inoff = 0;
	}
	uint32_t room = ST_SCRIPT_IN - sc->inlen;
	if (n > room)
		n = room;
	memcpy(sc->in + sc->inlen, d, n);
	sc->inlen += n;
	pump_in(sc);
	sc->dirty = true;
	sc->last_act_ms = mono_ms();
	return n;
}

void st_script_input_end(struct stack *s, struct st_conn *c)
{
	struct st_script *sc = script_of(s, c);
	if (!sc)
		return;
	sc->in_eof = true;
	pump_in(sc);
	sc->dirty = true;
	sc->last_act_ms = mono_ms();
}

static void note_exit(struct stack *s, struct st_script *sc, int status)
{
	int sig = 0;
	bool by_shell = false;
	if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) > 128 &&
		   WEXITSTATUS(status) < 128 + NSIG) {
		/* sh -c reports a command it ran that died of signal N as
		 * exit status 128 + N. */
		sig = WEXITSTATUS(status) - 128;
		by_shell = true;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		s->st.scripts_failed++;
		script_note(s, sc, "vigia: script exited with status %d", WEXITSTATUS(status));
		return;
	}
	if (!sig || sc->killed)
		return;     /* a clean exit, or killed by us and noted then */
	s->st.scripts_killed++;
	const char *d = sigdescr_np(sig);
	script_note(s, sc, "vigia: script killed by signal %d (%s)%s%s", sig, d ? d : "?",
		    sig == SIGXCPU ? ": CPU time limit" : "",
		    by_shell ? " (exit status from sh)" : "");
}

static void send_reply(struct stack *s, struct st_script *sc)
{
	sc->reply_ready = false;
	uint32_t n = sc->replylen;
	if (!n)
		return;
	struct st_tmpl *tm = &s->tmpls[sc->tmpl];
	st_udp_send(s, tm, &sc->l2, sc->self.a, sc->peer.a, sc->sport, sc->pport, sc->reply, n);
	struct st_conn *f = st_conn_find(s, CONN_UDP, &sc->peer, sc->pport, &sc->self, sc->sport);
	if (f)
		f->tx_bytes += n;
}

/* One non-blocking pass over a script: input, output, stderr, exit,
 * limits.  Returns true when something moved. */
static bool pump(struct stack *s, struct st_script *sc, uint64_t now_ms)
{
	bool act = pump_in(sc);
	struct st_conn *c = sc->conn ? &s->conns[sc->conn - 1] : NULL;

	for (int rounds = 0; sc->fd_out >= 0 && rounds < 16; rounds++) {
		uint8_t sink[512];
		uint8_t *dst;
		uint32_t room;
		if (sc->proto == 6 && c) {
			room = ST_TXBUF - c->txlen;
			dst = c->mem + c->txlen;
		} else if (sc->proto == 17 && sc->replylen < sc->reply_max) {
			room = sc->reply_max - sc->replylen;
			dst = sc->reply + sc->replylen;
		} else {
			/* Past the UDP reply's size (or no connection): read
			 * and drop, so the script does not block. */
			room = sizeof sink;
			dst = sink;
		}
		if (!room)
			break;
		ssize_t r = read(sc->fd_out, dst, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		act = true;
		if (r > 0) {
			if (dst == sink) {
				if (sc->proto == 17)
					sc->replylen = sc->reply_max + 1;   /* truncated */
				continue;
			}
			if (sc->proto == 6) {
				c->txlen += (uint32_t)r;
				if (s->script_settling)
					sc->flush = true;
				else
					st_tcp_script_output(s, c, false);
			} else {
				sc->replylen += (uint32_t)r;
			}
			continue;
		}
		/* EOF (or an error, treated alike): the script is done talking. */
		close_fd(&sc->fd_out);
		sc->out_eof = true;
		if (sc->proto == 6 && c) {
			if (s->script_settling)
				sc->flush = true;
			else
				st_tcp_script_output(s, c, true);
		} else if (sc->proto == 17) {
			if (sc->replylen > sc->reply_max) {
				sc->replylen = sc->reply_max;
				s->st.script_udp_truncated++;
			}
			sc->reply_ready = true;
			if (!s->script_settling)
				send_reply(s, sc);
		}
	}

	while (sc->fd_err >= 0) {
		ssize_t r = read(sc->fd_err, sc->err + sc->errlen,
				 sizeof sc->err - 1 - sc->errlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		act = true;
		if (r > 0) {
			sc->errlen += (uint32_t)r;
			err_flush(s, sc, false);
			continue;
		}
		err_flush(s, sc, true);
		close_fd(&sc->fd_err);
	}

	if (sc->pid > 0) {
		int status;
		pid_t r = waitpid(sc->pid, &status, WNOHANG);
		if (r == sc->pid) {
			sc->pid = 0;
			note_exit(s, sc, status);
			act = true;
		}
	}

	if (now_ms >= sc->deadline_ms && (sc->pid > 0 || sc->fd_out >= 0 || sc->fd_err >= 0)) {
		if (!sc->killed) {
			sc->killed = true;
			s->st.scripts_timeout++;
			script_note(s, sc, "vigia: script killed: wall-clock limit of %u s",
				    s->cfg->script_wall_seconds ? s->cfg->script_wall_seconds : 60);
			act = true;
		}
		slot_kill(sc);
		/* Something outside the group may still hold the pipes. */
		if (now_ms >= sc->deadline_ms + SCRIPT_GRACE_MS) {
			if (sc->fd_out >= 0 && sc->proto == 6 && c)
				st_tcp_script_output(s, c, true);
			close_fd(&sc->fd_out);
			close_fd(&sc->fd_err);
			sc->out_eof = true;
		}
	}

	if (sc->pid == 0 && sc->fd_out < 0 && sc->fd_err < 0 && !sc->flush && !sc->reply_ready) {
		slot_release(s, sc);
		act = true;
	}
	if (act)
		sc->last_act_ms = now_ms;
	return act;
}

void st_script_detach(struct stack *s, struct st_conn *c)
{
	struct st_script *sc = script_of(s, c);
	c->script = 0;
	if (!sc)
		return;
	/* What it wrote to stderr until now still goes to the log; its
	 * stdout has nowhere to go. */
	sc->conn = 0;
	close_fd(&sc->fd_in);
	close_fd(&sc->fd_out);
	while (sc->fd_err >= 0) {
		ssize_t r = read(sc->fd_err, sc->err + sc->errlen, sizeof sc->err - 1 - sc->errlen);
		if (r > 0) {
			sc->errlen += (uint32_t)r;
			err_flush(s, sc, false);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		err_flush(s, sc, true);
		close_fd(&sc->fd_err);
	}
	if (sc->pid > 0) {
		int status;
		if (waitpid(sc->pid, &status, WNOHANG) == sc->pid) {
			sc->pid = 0;
			note_exit(s, sc, status);
		} else {
			/* Still running with its connection gone. */
			slot_kill(sc);
			sc->killed = true;
		}
	}
	if (sc->pid == 0)
		slot_release(s, sc);
	/* else reaped by the next stack_script_poll */
}

void st_scripts_finish(struct stack *s)
{
	for (uint32_t i = 0; s->scripts && i < s->max_scripts; i++) {
		struct st_script *sc = &s->scripts[i];
		if (!sc->used)
			continue;
		pump(s, sc, mono_ms());
		if (!sc->used)
			continue;
		if (sc->pid > 0) {
			slot_kill(sc);
			sc->killed = true;
			int status;
			if (waitpid(sc->pid, &status, 0) == sc->pid)
				note_exit(s, sc, status);
			sc->pid = 0;
		}
		if (sc->reply_ready)
			send_reply(s, sc);
		if (sc->flush && sc->conn)
			st_tcp_script_output(s, &s->conns[sc->conn - 1], sc->out_eof);
		sc->flush = false;
		if (sc->conn)
			st_script_detach(s, &s->conns[sc->conn - 1]);
		if (sc->used)
			slot_release(s, sc);
	}
}

/* --- the caller's loop ---------------------------------------------------------------- */

int stack_script_pollfds(const struct stack *s, struct pollfd *fds, int max)
{
	int n = 0;
	for (uint32_t i = 0; s->scripts && i < s->max_scripts; i++) {
		const struct st_script *sc = &s->scripts[i];
		if (!sc->used)
			continue;
		if (sc->fd_in >= 0 && sc->inlen > sc->inoff && n < max)
			fds[n++] = (struct pollfd){ .fd = sc->fd_in, .events = POLLOUT };
		bool room = true;
		if (sc->proto == 6 && sc->conn)
			room = s->conns[sc->conn - 1].txlen < ST_TXBUF;
		if (sc->fd_out >= 0 && room && n < max)
			fds[n++] = (struct pollfd){ .fd = sc->fd_out, .events = POLLIN };
		if (sc->fd_err >= 0 && n < max)
			fds[n++] = (struct pollfd){ .fd = sc->fd_err, .events = POLLIN };
	}
	return n;
}

void stack_script_poll(struct stack *s, uint64_t now_ns)
{
	if (!s->scripts)
		return;
	stack_tick(s, now_ns);
	uint64_t now = mono_ms();
	for (uint32_t i = 0; i < s->max_scripts; i++)
		if (s->scripts[i].used)
			pump(s, &s->scripts[i], now);
}

/* Waiting for input to be taken: bytes still in the stdin pipe. */
static bool input_pending(const struct st_script *sc)
{
	if (sc->inlen > sc->inoff)
		return true;
	int queued = 0;
	return sc->fd_in >= 0 && ioctl(sc->fd_in, FIONREAD, &queued) == 0 && queued > 0;
}

/* The end of a settle: what the scripts wrote goes out now, in the order
 * they were started, so that how the bytes happened to arrive (one read
 * or three) changes nothing in what is sent. */
static void settle_flush(struct stack *s)
{
	s->script_settling = false;
	uint64_t done = 0;
	for (;;) {
		struct st_script *next = NULL;
		for (uint32_t i = 0; i < s->max_scripts; i++) {
			struct st_script *sc = &s->scripts[i];
			if (sc->used && (sc->flush || sc->reply_ready) && sc->seq > done &&
			    (!next || sc->seq < next->seq))
				next = sc;
		}
		if (!next)
			break;
		done = next->seq;
		if (next->reply_ready)
			send_reply(s, next);
		if (next->flush && next->conn)
			st_tcp_script_output(s, &s->conns[next->conn - 1], next->out_eof);
		next->flush = false;
		if (next->pid == 0 && next->fd_out < 0 && next->fd_err < 0)
			slot_release(s, next);
	}
}

void stack_script_settle(struct stack *s)
{
	if (!s->scripts || !s->nscripts)
		return;
	s->script_settling = true;
	for (;;) {
		uint64_t now = mono_ms();
		for (uint32_t i = 0; i < s->max_scripts; i++)
			if (s->scripts[i].used)
				pump(s, &s->scripts[i], now);
		now = mono_ms();
		uint64_t wait = UINT64_MAX;
		for (uint32_t i = 0; i < s->max_scripts; i++) {
			struct st_script *sc = &s->scripts[i];
			if (!sc->used || !sc->dirty)
				continue;
			bool blocked = sc->proto == 6 && sc->conn &&
				       s->conns[sc->conn - 1].txlen >= ST_TXBUF;
			uint64_t quiet_at = sc->last_act_ms + STACK_SCRIPT_QUIET_MS;
			bool ended = sc->pid == 0 && sc->fd_out < 0 && sc->fd_err < 0;
			/* A script may never read what it was sent: after a
			 * longer silence it counts as quiet all the same. */
			bool unread_ok = now >= sc->last_act_ms + STACK_SCRIPT_UNREAD_MS;
			if (ended || blocked ||
			    (now >= quiet_at && (unread_ok || !input_pending(sc)))) {
				sc->dirty = false;
				continue;
			}
			uint64_t until = now < quiet_at ? quiet_at - now : 10;
			/* Exited, pipes closed, not yet reaped: a moment. */
			if (sc->fd_out < 0 && sc->fd_err < 0 && until > 2)
				until = 2;
			if (sc->deadline_ms > now && sc->deadline_ms - now < until)
				until = sc->deadline_ms - now;
			if (until < wait)
				wait = until;
		}
		if (wait == UINT64_MAX) {
			settle_flush(s);
			return;
		}
		struct pollfd fds[3 * 64];
		int n = stack_script_pollfds(s, fds, (int)(sizeof fds / sizeof fds[0]));
		poll(fds, (nfds_t)n, (int)(wait ? wait : 1));
	}
}
