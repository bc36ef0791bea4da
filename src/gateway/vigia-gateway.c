/* vigia-gateway: the forced command of the central server's key on a
 * sensor (docs/deploy-sensor.md):
 *
 *   restrict,command="/usr/sbin/vigia-gateway /var/spool/vigia" ssh-ed25519 AAAA...
 *
 * sshd runs it with the client's request in SSH_ORIGINAL_COMMAND.  Exactly
 * three requests are allowed:
 *
 *   rsync --server --sender -OPTS . NAME...   read-only transfer of spool files
 *   status                                    one JSON document (health facts)
 *   ack NAME...                               mark manifest lines archived
 *
 * Anything else is refused with exit status 1 and logged to syslog
 * (LOG_AUTHPRIV), as are the allowed requests (LOG_INFO).
 *
 * Why not Debian's rrsync -ro: it is a Python program (a whole interpreter
 * on a hardened sensor for one check), it lets the client fetch anything
 * under the directory (the file being written included) and it passes
 * rsync's own argument parser a command line we did not build.  Here the
 * rsync command line is checked against the exact shape the collector
 * sends, names must be completed packet files (never *.part) or the
 * MANIFEST, and rsync is exec'd with an argv rebuilt from the checked
 * words: no shell, no globbing, no options we did not list. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/sysinfo.h>
#include <sys/timex.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "sp-spool.h"
#include "util-json.h"

#define MAX_COMMAND (256u << 10)     /* acks of a day of 1-minute files fit */
#define MAX_WORDS 8192
#define MAX_STATUS_JSON (256u << 10)
#define MAX_MANIFEST (64u << 20)

static const char *log_file;       /* --log FILE: a copy of each log line (tests) */

static void logmsg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logmsg(int prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* the client's words may hold anything: keep the log line printable */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	const char *from = getenv("SSH_CONNECTION");
	char who[128];
	snprintf(who, sizeof who, "%s", from ? from : "local");
	char *sp = strchr(who, ' ');
	if (sp && (sp = strchr(sp + 1, ' ')))
		*sp = '\0';         /* "ADDR PORT" of the client only */
	syslog(prio, "from %s: %s", who, msg);
	if (log_file) {
		FILE *f = fopen(log_file, "a");
		if (f) {
			fprintf(f, "vigia-gateway[%ld]: from %s: %s\n", (long)getpid(), who, msg);
			fclose(f);
		}
	}
}

static int refuse(const char *why, const char *cmd)
{
	logmsg(LOG_WARNING, "refused: %s: \"%.300s\"", why, cmd ? cmd : "");
	fprintf(stderr, "vigia-gateway: refused: %s\n", why);
	return 1;
}

/* Spool names the central server may read: completed packet files
 * ("pcap/20240101T100000Z.pcap", "-N" restarts), the MANIFEST and the
 * Honeyd log.  `bare` also allows the packet file name without "pcap/"
 * (ack accepts both). */
static bool pcap_name_ok(const char *s)
{
	/* YYYYmmddTHHMMSSZ[-N].pcap */
	for (int i = 0; i < 8; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	if (s[8] != 'T')
		return false;
	for (int i = 9; i < 15; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	if (s[15] != 'Z')
		return false;
	const char *p = s + 16;
	if (*p == '-') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		int n = 0;
		while (isdigit((unsigned char)*p) && n < 6)
			p++, n++;
	}
	return !strcmp(p, ".pcap");
}

static bool name_ok(const char *s, bool bare)
{
	if (!strcmp(s, "MANIFEST") || !strcmp(s, "honeyd.log"))
		return !bare;
	if (!strncmp(s, "pcap/", 5))
		return pcap_name_ok(s + 5);
	return bare && pcap_name_ok(s);
}

static size_t split(char *s, char **w, size_t max)
{
	size_t n = 0;
	for (char *tok = strtok(s, " "); tok; tok = strtok(NULL, " ")) {
		if (n == max)
			return max + 1;
		w[n++] = tok;
	}
	return n;
}

/* --- rsync --------------------------------------------------------------- */

static bool digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* "-te.LsfxCIvu": option letters, then after 'e' the protocol's capability
 * letters.  Letters taking an argument, recursion, and -s (protect-args:
 * names would come through the protocol, unchecked) are not allowed. */
static bool short_opts_ok(const char *s)
{
	static const char allowed[] = "tpogDlzvcIiLHxuWnO";
	if (s[0] != '-' || s[1] == '-' || !s[1])
		return false;
	const char *p = s + 1;
	for (; *p && *p != 'e'; p++)
		if (!strchr(allowed, *p))
			return false;
	if (*p == 'e') {
		p++;
		for (; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '.')
				return false;
	}
	return true;
}

static bool long_opt_ok(const char *s)
{
	static const char *const with_number[] = {
		"--timeout=", "--bwlimit=", "--compress-level=", "--contimeout=", NULL,
	};
	for (int i = 0; with_number[i]; i++) {
		size_t n = strlen(with_number[i]);
		if (!strncmp(s, with_number[i], n))
			return digits(s + n);
	}
	return false;
}

static int do_rsync(const char *rsync, char **w, size_t n, const char *cmd)
{
	/* rsync --server --sender [-OPTS] [--long=N]... . NAME... */
	if (n < 5 || strcmp(w[1], "--server") || strcmp(w[2], "--sender"))
		return refuse("only 'rsync --server --sender' (a read-only transfer) is allowed", cmd);
	size_t i = 3;
	for (; i < n && w[i][0] == '-'; i++)
		if (!(w[i][1] == '-' ? long_opt_ok(w[i]) : short_opts_ok(w[i])))
			return refuse("rsync option not allowed", cmd);
	if (i >= n || strcmp(w[i], "."))
		return refuse("expected '.' before the rsync file names", cmd);
	if (++i == n)
		return refuse("no file names", cmd);
	for (size_t j = i; j < n; j++)
		if (!name_ok(w[j], false))
			return refuse("file name outside the completed spool files", cmd);
	char **argv = calloc(n + 1, sizeof *argv);
	if (!argv)
		return 1;
	argv[0] = (char *)"rsync";
	for (size_t j = 1; j < n; j++)
		argv[j] = w[j];
	logmsg(LOG_INFO, "rsync of %zu file(s), first %s", n - i, w[i]);
	closelog();
	char *envp[] = {(char *)"PATH=/usr/bin:/bin", NULL};
	execve(rsync, argv, envp);
	int e = errno;
	fprintf(stderr, "vigia-gateway: %s: %s\n", rsync, strerror(e));
	logmsg(LOG_ERR, "cannot run %s: %s", rsync, strerror(e));
	free(argv);
	return 1;
}

/* --- ack ---------------------------------------------------------------- */

static int do_ack(const char *spool, char **w, size_t n, const char *cmd)
{
	if (n < 2)
		return refuse("ack needs at least one name", cmd);
	for (size_t i = 1; i < n; i++)
		if (!name_ok(w[i], true) || !strcmp(w[i], "MANIFEST") || !strcmp(w[i], "honeyd.log"))
			return refuse("ack of a name that is not a completed packet file", cmd);
	struct vg_err err = {0};
	int rc = spool_ack(spool, (const char *const *)(w + 1), (int)(n - 1), &err);
	if (rc < 0) {
		fprintf(stderr, "vigia-gateway: %s\n", err.msg);
		logmsg(LOG_ERR, "ack failed: %s", err.msg);
		return 3;
	}
	logmsg(LOG_INFO, "ack of %zu name(s), %d found", n - 1, rc);
	printf("acked %d of %zu\n", rc, n - 1);
	return fflush(stdout) == 0 ? 0 : 3;
}

/* --- status ------------------------------------------------------------- */

static char *slurp(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	while (buf) {
		if (n == cap) {
			if (cap >= max) {
				free(buf);
				buf = NULL;
				break;
			}
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			buf = NULL;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

static void put_time(struct json_w *j, time_t t)
{
	struct tm tm;
	char buf[32];
	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_str(j, buf);
}

/* sensord holds an flock on SPOOL/LOCK while it runs; /proc/locks names
 * the holder's pid.  Reading it takes no lock, so a starting sensord is
 * never disturbed (a test lock of our own could make it fail to start). */
static pid_t lock_holder(const char *spool)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/LOCK", spool);
	struct stat st;
	if (stat(path, &st) < 0)
		return 0;
	FILE *f = fopen("/proc/locks", "r");
	if (!f)
		return 0;
	char line[512];
	pid_t found = 0;
	while (fgets(line, sizeof line, f)) {
		char type[16], adv[16], mode[16];
		long pid;
		unsigned maj, min;
		unsigned long long ino;
		const char *p = strchr(line, ':');
		if (!p)
			continue;
		if (!strncmp(p + 1, " ->", 3))      /* a waiter, not the holder */
			continue;
		if (sscanf(p + 1, "%15s %15s %15s %ld %x:%x:%llu", type, adv, mode, &pid, &maj,
					&min, &ino) != 7)
			continue;
		if (strcmp(type, "FLOCK") || ino != (unsigned long long)st.st_ino ||
				maj != (unsigned)major(st.st_dev) || min != (unsigned)minor(st.st_dev))
			continue;
		found = (pid_t)pid;
		break;
	}
	fclose(f);
	return found;
}

/* Start time of a process, from /proc/PID/stat (ticks after boot). */
static time_t proc_start(pid_t pid, char *comm, size_t comm_len)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	size_t len;
	char *s = slurp(path, 4096, &len);
	if (!s)
		return 0;
	char *open = strchr(s, '('), *close = strrchr(s, ')');
	time_t t = 0;
	if (open && close && close > open) {
		snprintf(comm, comm_len, "%.*s", (int)(close - open - 1), open + 1);
		/* fields after ")": 3 state ... 22 starttime */
		char *p = close + 2;
		int field = 3;
		while (*p && field < 22) {
			if (*p == ' ')
				field++;
			p++;
		}
		unsigned long long ticks = strtoull(p, NULL, 10);
		struct timespec now, boot;
		clock_gettime(CLOCK_REALTIME, &now);
		clock_gettime(CLOCK_BOOTTIME, &boot);
		long hz = sysconf(_SC_CLK_TCK);
		if (hz > 0)
			t = now.tv_sec - boot.tv_sec + (time_t)(ticks / (unsigned long long)hz);
	}
	free(s);
	return t;
}

/* The manifest's backlog: files not yet archived and the oldest of them. */
static void manifest_summary(struct json_w *j, const char *spool)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/MANIFEST", spool);
	size_t len = 0;
	errno = 0;
	char *m = slurp(path, MAX_MANIFEST, &len);
	json_key(j, "manifest");
	if (!m && errno != ENOENT) {
		json_null(j);
		return;
	}
	/* no MANIFEST yet: a new sensor that completed no file */
	uint64_t nnew = 0, narch = 0, bytes_new = 0, bad = 0;
	char oldest[32] = "";
	for (char *line = m; m && line < m + len;) {
		char *nl = memchr(line, '\n', (size_t)(m + len - line));
		if (!nl)
			nl = m + len;
		*nl = '\0';
		char sha[65], name[256], done[32], state[16];
		unsigned long long size;
		if (sscanf(line, "%64s %llu %255s %31s %15s", sha, &size, name, done, state) == 5) {
			if (!strcmp(state, "new")) {
				nnew++;
				bytes_new += size;
				/* RFC 3339 UTC in whole seconds sorts as text */
				if (!oldest[0] || strcmp(done, oldest) < 0)
					snprintf(oldest, sizeof oldest, "%s", done);
			} else {
				narch++;
			}
		} else if (*line) {
			bad++;
		}
		line = nl + 1;
	}
	free(m);
	json_obj_begin(j);
	json_key(j, "files_new");
	json_u64(j, nnew);
	json_key(j, "bytes_new");
	json_u64(j, bytes_new);
	json_key(j, "files_archived");
	json_u64(j, narch);
	json_key(j, "lines_unparsed");
	json_u64(j, bad);
	json_key(j, "oldest_new_completed");
	if (oldest[0])
		json_str(j, oldest);
	else
		json_null(j);
	json_obj_end(j);
}

/* status.json is embedded as it is when it looks like one whole object
 * (sensord renames it into place, so it is never half written); the
 * central side parses it. */
static bool plausible_object(const char *s, size_t len)
{
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	while (len && isspace((unsigned char)*s))
		s++, len--;
	if (len < 2 || s[0] != '{' || s[len - 1] != '}')
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\0')
			return false;
	return true;
}

static int do_status(const char *spool)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct json_w j;
	json_init(&j, stdout, true);
	json_obj_begin(&j);
	json_key(&j, "gateway_version");
	json_str(&j, VIGIA_VERSION);
	/* The clock first, read as late as possible before writing: the
	 * central side compares it with the midpoint of its round trip. */
	json_key(&j, "time");
	/* json_double keeps 6 digits; the offset needs the nanoseconds.  Sent
	 * at once: the central side takes the arrival of this first chunk as
	 * the moment the clock was read (error: the one-way network delay). */
	fprintf(stdout, "%lld.%09ld", (long long)now.tv_sec, (long)now.tv_nsec);
	j.after_key = false;
	fflush(stdout);
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	json_key(&j, "hostname");
	json_str(&j, host);

	struct timespec boot;
	clock_gettime(CLOCK_BOOTTIME, &boot);
	json_key(&j, "uptime_seconds");
	json_u64(&j, (uint64_t)boot.tv_sec);

	struct timex tx;
	memset(&tx, 0, sizeof tx);
	int state = adjtimex(&tx);
	json_key(&j, "ntp");
	json_obj_begin(&j);
	json_key(&j, "synced");
	json_bool(&j, state >= 0 && state != TIME_ERROR && !(tx.status & STA_UNSYNC));
	json_key(&j, "state");
	json_i64(&j, state);
	json_key(&j, "status");
	json_i64(&j, tx.status);
	json_key(&j, "offset_seconds");
	json_double(&j, (double)tx.offset / ((tx.status & STA_NANO) ? 1e9 : 1e6));
	json_key(&j, "maxerror_seconds");
	json_double(&j, (double)tx.maxerror / 1e6);
	json_key(&j, "esterror_seconds");
	json_double(&j, (double)tx.esterror / 1e6);
	json_obj_end(&j);

	json_key(&j, "spool");
	json_str(&j, spool);
	struct statvfs vfs;
	json_key(&j, "fs");
	if (statvfs(spool, &vfs) == 0) {
		uint64_t total = (uint64_t)vfs.f_blocks * vfs.f_frsize;
		uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		uint64_t freeb = (uint64_t)vfs.f_bfree * vfs.f_frsize;
		json_obj_begin(&j);
		json_key(&j, "total_bytes");
		json_u64(&j, total);
		json_key(&j, "free_bytes");
		json_u64(&j, freeb);
		json_key(&j, "avail_bytes");
		json_u64(&j, avail);
		/* as df(1): used / (used + available to users) */
		uint64_t used = total - freeb;
		json_key(&j, "used_percent");
		json_double(&j, used + avail ? 100.0 * (double)used / (double)(used + avail) : 0);
		json_obj_end(&j);
	} else {
		json_null(&j);
	}

	pid_t pid = lock_holder(spool);
	json_key(&j, "sensord");
	json_obj_begin(&j);
	json_key(&j, "running");
	json_bool(&j, pid > 0);
	json_key(&j, "pid");
	if (pid > 0)
		json_i64(&j, pid);
	else
		json_null(&j);
	char comm[64] = "";
	time_t since = pid > 0 ? proc_start(pid, comm, sizeof comm) : 0;
	json_key(&j, "since");
	if (since > 0)
		put_time(&j, since);
	else
		json_null(&j);
	json_key(&j, "comm");
	if (comm[0])
		json_str(&j, comm);
	else
		json_null(&j);
	json_obj_end(&j);

	manifest_summary(&j, spool);

	char path[4096];
	snprintf(path, sizeof path, "%s/status.json", spool);
	size_t len = 0;
	char *sj = slurp(path, MAX_STATUS_JSON, &len);
	json_key(&j, "status_json");
	bool ok = sj && plausible_object(sj, len);
	if (ok) {
		/* the writer has no raw-value call: close our part by hand */
		while (len && isspace((unsigned char)sj[len - 1]))
			len--;
		fwrite(sj, 1, len, stdout);
		j.after_key = false;
	} else {
		json_null(&j);
	}
	free(sj);
	json_obj_end(&j);
	if (json_finish(&j) < 0)
		return 3;
	logmsg(LOG_INFO, "status");
	return 0;
}

/* --- main --------------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr,
		"usage: vigia-gateway [--rsync PATH] [--log FILE] SPOOL\n"
		"  the forced command of the central server's key in authorized_keys;\n"
		"  runs the request in $SSH_ORIGINAL_COMMAND: rsync (read-only), status, ack NAME...\n");
	return 64;
}

int main(int argc, char **argv)
{
	const char *rsync = "/usr/bin/rsync";
	const char *spool = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rsync") && i + 1 < argc)
			rsync = argv[++i];
		else if (!strcmp(argv[i], "--log") && i + 1 < argc)
			log_file = argv[++i];
		else if (argv[i][0] == '-')
			return usage();
		else if (!spool)
			spool = argv[i];
		else
			return usage();
	}
	openlog("vigia-gateway", LOG_PID, LOG_AUTHPRIV);
	if (!spool || spool[0] != '/')
		return usage();
	const char *orig = getenv("SSH_ORIGINAL_COMMAND");
	if (!orig || !*orig)
		return refuse("no command (an interactive login is not allowed)", NULL);
	size_t clen = strlen(orig);
	if (clen > MAX_COMMAND)
		return refuse("command too long", NULL);
	for (const char *p = orig; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || strchr("\\'\"`$;&|<>*?[]{}()~", *p))
			return refuse("character not allowed in a command", orig);
	if (chdir(spool) < 0) {
		logmsg(LOG_ERR, "%s: %s", spool, strerror(errno));
		fprintf(stderr, "vigia-gateway: %s: %s\n", spool, strerror(errno));
		return 3;
	}
	char *copy = strdup(orig);
	char **w = calloc(MAX_WORDS + 1, sizeof *w);
	if (!copy || !w)
		return 3;
	size_t n = split(copy, w, MAX_WORDS);
	int rc;
	if (n == 0 || n > MAX_WORDS)
		rc = refuse(n ? "too many words" : "empty command", orig);
	else if (!strcmp(w[0], "rsync"))
		rc = do_rsync(rsync, w, n, orig);
	else if (!strcmp(w[0], "status") && n == 1)
		rc = do_status(spool);
	else if (!strcmp(w[0], "ack"))
		rc = do_ack(spool, w, n, orig);
	else
		rc = refuse("unknown command (allowed: rsync --server --sender, status, ack)", orig);
	free(w);
	free(copy);
	closelog();
	return rc;
}
