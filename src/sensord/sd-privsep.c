/* sd-privsep.c: privilege drop and seccomp filter of the net child
 * (sd-privsep.h). */
#include "sd-privsep.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

/* capget/capset straight from the kernel: two calls, where libcap would
 * add a library to the one process whose code we want smallest. */
struct ps_caps {
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct d[2];
};

static int caps_get(struct ps_caps *c)
{
	memset(c, 0, sizeof *c);
	c->h.version = _LINUX_CAPABILITY_VERSION_3;
	return (int)syscall(SYS_capget, &c->h, c->d);
}

static int caps_clear(void)
{
	struct ps_caps c;
	memset(&c, 0, sizeof c);
	c.h.version = _LINUX_CAPABILITY_VERSION_3;
	return (int)syscall(SYS_capset, &c.h, c.d);
}

int ps_drop(const struct ps_drop *d, struct vg_err *err)
{
	if (d->chroot_dir) {
		if (chroot(d->chroot_dir) < 0)
			return vg_err_set(err, -errno, "privsep: chroot %s: %s", d->chroot_dir,
					  strerror(errno));
		if (chdir("/") < 0)
			return vg_err_set(err, -errno, "privsep: chdir / in %s: %s",
					  d->chroot_dir, strerror(errno));
	}
	if (d->switch_user) {
		if (d->uid == 0 || d->gid == 0)
			return vg_err_set(err, -EPERM, "privsep: refusing to 'drop' to uid %u gid %u",
					  d->uid, d->gid);
		/* The bounding set needs CAP_SETPCAP to shrink: before setresuid. */
		for (int cap = 0; cap < 64; cap++) {
			if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
				break;          /* past the kernel's last capability */
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
				return vg_err_set(err, -errno, "privsep: PR_CAPBSET_DROP %d: %s", cap,
						  strerror(errno));
		}
		if (setgroups(0, NULL) < 0)
			return vg_err_set(err, -errno, "privsep: setgroups: %s", strerror(errno));
		if (setresgid(d->gid, d->gid, d->gid) < 0)
			return vg_err_set(err, -errno, "privsep: setresgid %u: %s", d->gid,
					  strerror(errno));
		if (setresuid(d->uid, d->uid, d->uid) < 0)
			return vg_err_set(err, -errno, "privsep: setresuid %u: %s", d->uid,
					  strerror(errno));
		uid_t r, e, s;
		gid_t rg, eg, sg;
		if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0)
			return vg_err_set(err, -errno, "privsep: getresuid: %s", strerror(errno));
		if (r != d->uid || e != d->uid || s != d->uid || rg != d->gid || eg != d->gid ||
		    sg != d->gid)
			return vg_err_set(err, -EPERM, "privsep: uids %u/%u/%u gids %u/%u/%u after "
					  "the drop, expected %u and %u", r, e, s, rg, eg, sg, d->uid,
					  d->gid);
		if (getgroups(0, NULL) != 0)
			return vg_err_set(err, -EPERM, "privsep: supplementary groups left");
		if (setuid(0) == 0 || seteuid(0) == 0)
			return vg_err_set(err, -EPERM, "privsep: root could be regained");
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return vg_err_set(err, -errno, "privsep: clearing ambient capabilities: %s",
				  strerror(errno));
	/* setresuid from root already emptied permitted and effective; the
	 * inheritable set is not touched by it, and without a user switch
	 * nothing is: clear all three explicitly, then check. */
	if (caps_clear() < 0)
		return vg_err_set(err, -errno, "privsep: capset: %s", strerror(errno));
	struct ps_caps c;
	if (caps_get(&c) < 0)
		return vg_err_set(err, -errno, "privsep: capget: %s", strerror(errno));
	for (int i = 0; i < 2; i++)
		if (c.d[i].effective || c.d[i].permitted || c.d[i].inheritable)
			return vg_err_set(err, -EPERM, "privsep: capabilities left after capset");
	if (d->switch_user) {
		for (int cap = 0; cap < 64; cap++) {
			int v = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
			if (v < 0)
				break;
			if (v)
				return vg_err_set(err, -EPERM, "privsep: capability %d left in the "
						  "bounding set", cap);
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return vg_err_set(err, -errno, "privsep: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return vg_err_set(err, -errno, "privsep: PR_SET_DUMPABLE: %s", strerror(errno));
	return 0;
}

/* What the net child does once running: read frames (recvmsg, or a
 * mapped ring with poll), send frames on the same socket, write the logs,
 * rotate spool files (openat, fsync, rename, unlink, flock, statvfs),
 * rewrite status.json, keep time, allocate memory. */
static const char *const base_calls[] = {
	"read", "readv", "pread64", "write", "writev", "pwrite64", "lseek", "close",
	"recvfrom", "recvmsg", "recvmmsg", "sendto", "sendmsg", "sendmmsg", "getsockopt",
	"poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait",
	"openat", "open", "fstat", "newfstatat", "stat", "lstat", "statx", "fstatfs", "statfs",
	"ftruncate", "fsync", "fdatasync", "rename", "renameat", "renameat2", "unlink",
	"unlinkat", "getdents64", "flock", "fcntl", "mkdir", "mkdirat", "readlink", "readlinkat",
	"access", "faccessat", "faccessat2",
	"clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getrandom",
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall",
	"futex", "sched_yield", "tgkill", "exit", "exit_group",
	NULL,
};

/* Scripts (add T tcp port N "cmd"): the net child forks, the child sets
 * up and runs /bin/sh, which starts the script's own commands; all of
 * them stay under this filter. */
static const char *const script_calls[] = {
	"fork", "vfork", "clone", "clone3", "execve", "wait4", "waitid", "kill",
	"setsid", "setpgid", "getpgid", "getpgrp", "getppid", "getsid", "prlimit64",
	"setrlimit", "getrlimit", "dup", "dup2", "dup3", "pipe", "pipe2", "close_range",
	"chdir", "fchdir", "getcwd", "access", "faccessat", "faccessat2", "umask", "uname",
	"arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prctl", "sysinfo",
	"sched_getaffinity", "getresuid", "getresgid", "getgroups", "ioctl", "chmod", "fchmod",
	"utimensat", "link", "symlink", "rmdir", "truncate", "times", "getrusage", "alarm",
	"setitimer", "getitimer", "pause", "rt_sigsuspend", "rt_sigtimedwait", "sendfile",
	"copy_file_range", "splice", "tee", "fadvise64", "getpriority", "setpriority",
	"mlock", "munlock", "membarrier", "getxattr", "lgetxattr", "fgetxattr",
	NULL,
};

static int allow_list(scmp_filter_ctx ctx, const char *const *names, struct vg_err *err)
{
	for (size_t i = 0; names[i]; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;       /* not on this architecture (open, stat ...) */
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc < 0 && rc != -EEXIST)
			return vg_err_set(err, rc, "seccomp: allowing %s: %s", names[i],
					  strerror(-rc));
	}
	return 0;
}

/* Debug mode: name the call, then die as the filter would have. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	char buf[96];
	const char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, si->si_syscall);
	int n = snprintf(buf, sizeof buf, "seccomp: forbidden system call %d (%s)\n",
			 si->si_syscall, name ? name : "?");
	if (n > 0 && write(STDERR_FILENO, buf, (size_t)n) < 0)
		n = 0;
	_exit(128 + SIGSYS);
}

int ps_seccomp(bool allow_scripts, bool debug, struct vg_err *err)
{
	if (debug) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_sigsys;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSYS, &sa, NULL);
	}
	scmp_filter_ctx ctx = seccomp_init(debug ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return vg_err_set(err, -ENOMEM, "seccomp: seccomp_init failed");
	int rc = allow_list(ctx, base_calls, err);
	if (rc == 0 && allow_scripts)
		rc = allow_list(ctx, script_calls, err);
	if (rc == 0 && !allow_scripts) {
		/* stdio asks whether a log is a terminal (TCGETS); nothing else. */
		/* Spelled out: the SCMP_A1 macro leaves datum_b to the
		 * compiler, which clang's -Wmissing-field-initializers flags. */
		struct scmp_arg_cmp tcgets = { .arg = 1, .op = SCMP_CMP_EQ, .datum_a = TCGETS,
					       .datum_b = 0 };
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, tcgets);
		if (rc < 0)
			vg_err_set(err, rc, "seccomp: allowing ioctl TCGETS: %s", strerror(-rc));
	}
	if (rc == 0) {
		rc = seccomp_load(ctx);
		if (rc < 0)
			vg_err_set(err, rc, "seccomp: loading the filter: %s", strerror(-rc));
	}
	seccomp_release(ctx);
	return rc;
}
