/* sd-privsep.h: how the packet-parsing process of vigia-sensord gives up
 * its privileges (docs/sensor-hardening.md has the process map).
 *
 * The privileged parent opens the capture socket, the logs and the spool
 * directory, then forks the "net" child that reads frames, runs the
 * responder and writes the records.  The child calls ps_drop, then
 * ps_seccomp, before it parses a single byte from the network.  Every step
 * is checked and any failure is fatal: the caller must exit, never go on
 * half-dropped. */
#ifndef VIGIA_SD_PRIVSEP_H
#define VIGIA_SD_PRIVSEP_H

#include <stdbool.h>
#include <stdint.h>

#include "vg-err.h"

struct ps_drop {
	bool switch_user;       /* root: drop to uid/gid (else: stay, caps cleared) */
	uint32_t uid, gid;
	const char *chroot_dir; /* chroot here first (NULL: none) */
};

/* In this order: chroot (when asked), empty capability bounding set and
 * ambient set (while still root), setgroups(0), setresgid, setresuid,
 * then checks that all three uids and gids are the target's, that no
 * supplementary group is left, that setuid(0) fails, and that the
 * permitted, effective, inheritable, bounding and ambient sets are all
 * empty; last PR_SET_NO_NEW_PRIVS and PR_SET_DUMPABLE 0 (a process of the
 * same uid, such as a script, cannot ptrace it).  Returns 0 or a negative
 * errno with err naming the step. */
int ps_drop(const struct ps_drop *d, struct vg_err *err);

/* The seccomp filter of the net child: an allow-list, anything else kills
 * the process (SCMP_ACT_KILL_PROCESS).  No socket(), connect(), bind(),
 * ptrace(), execve() ...: the child can neither relay nor reach anything
 * but the descriptors it holds.  With scripts (allow_scripts) it may also
 * fork and execute /bin/sh: the scripts inherit the same filter, so they
 * cannot open a socket either.  debug: a forbidden call is named on
 * stderr before the process exits (status 128 + SIGSYS), instead of the
 * kernel killing it silently.  Returns 0 or a negative errno. */
int ps_seccomp(bool allow_scripts, bool debug, struct vg_err *err);

#endif
