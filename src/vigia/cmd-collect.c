/* vigia collect: pull every sensor's completed spool files (issue 5).
 *
 * One worker process per sensor, at most --parallel at once; the parent
 * polls their pipes for progress and results.  A worker:
 *   1. fetches SPOOL/MANIFEST with rsync (through the sensor's gateway);
 *   2. takes the files listed there that ARCHIVE/SENSOR/.collected lacks;
 *   3. rsyncs them into ARCHIVE/.staging/SENSOR/ (--partial-dir: a cut
 *      transfer resumes, and a partial file never looks complete);
 *   4. checks each one's size and SHA-256 against the manifest: a mismatch
 *      goes to ARCHIVE/.quarantine/SENSOR/ and is fetched again next time;
 *   5. compresses it to ARCHIVE/SENSOR/YYYY/MM/DD/NAME.zst atomically
 *      (temporary file, fsync, rename, fsync), then records it in
 *      .collected (fsync'ed);
 *   6. acks what is recorded but still "new" on the sensor.
 * A failure at any step (ENOSPC included) leaves nothing half placed: the
 * file is either in the archive and recorded, or fetched again later.
 *
 * --ingest and --watch (issue 9) then run `vigia ingest` and `vigia watch`
 * in this process, through their own entry points with the same
 * configuration, so that one timer tick is collect + ingest + watch. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfg-central.h"
#include "collect.h"
#include "commands.h"
#include "progress.h"
#include "sshrun.h"

#define RSYNC_BATCH 200         /* names per rsync command line */
#define ACK_BATCH 500           /* names per ack command */

struct opts {
	unsigned bwlimit;           /* KiB/s, 0 = none */
	int level;                  /* zstd level */
};

struct result {
	int failed;                 /* 0 ok, 1 failed */
	unsigned listed, wanted, fetched, quarantined, acked;
	uint64_t bytes;
	char msg[512];
};

/* ---- worker (child process) ---------------------------------------------- */

static int report_fd = -1;

static void progress_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress_line(const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + 2, sizeof buf - 3, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf[0] = 'p';
	buf[1] = ' ';
	size_t len = strlen(buf);
	buf[len++] = '\n';
	(void)!write(report_fd, buf, len);
}

static void append_msg(struct result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append_msg(struct result *r, const char *fmt, ...)
{
	size_t n = strlen(r->msg);
	if (n && n + 3 < sizeof r->msg) {
		strcat(r->msg, "; ");
		n += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->msg + n, sizeof r->msg - n, fmt, ap);
	va_end(ap);
}

static int rsync_files(const struct cfg_central *c, struct ssh_target *t, const struct opts *o,
		       const char *const *names, size_t n, const char *dest, unsigned timeout,
		       struct run_result *rr)
{
	char e[8192], to[32], bw[32], pdir[] = "--partial-dir=.rsync-partial";
	if (ssh_rsync_e(t, e, sizeof e) < 0)
		return -ENAMETOOLONG;
	snprintf(to, sizeof to, "--timeout=%u", c->transfer_timeout);
	snprintf(bw, sizeof bw, "--bwlimit=%u", o->bwlimit);
	char **argv = calloc(n + 16, sizeof *argv);
	char **specs = calloc(n, sizeof *specs);
	if (!argv || !specs) {
		free(argv);
		free(specs);
		return -ENOMEM;
	}
	size_t k = 0;
	argv[k++] = c->rsync_program;
	argv[k++] = (char *)"-e";
	argv[k++] = e;
	argv[k++] = (char *)"-t";
	argv[k++] = (char *)"--partial";
	argv[k++] = pdir;
	argv[k++] = to;
	if (o->bwlimit)
		argv[k++] = bw;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(t->host) + strlen(names[i]) + 2;
		if (!(specs[i] = malloc(len))) {
			rc = -ENOMEM;
			goto out;
		}
		snprintf(specs[i], len, "%s:%s", t->host, names[i]);
		argv[k++] = specs[i];
	}
	argv[k++] = (char *)dest;
	argv[k] = NULL;
	rc = run_capture(argv, 1 << 16, timeout, rr);
out:
	for (size_t i = 0; i < n; i++)
		free(specs[i]);
	free(specs);
	free(argv);
	return rc;
}

static char *slurp(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = malloc(max + 1);
	size_t n = buf ? fread(buf, 1, max, f) : 0;
	bool bad = ferror(f) || !feof(f);
	fclose(f);
	if (!buf || bad) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int ack(const struct cfg_central *c, struct ssh_target *t, const char *const *names,
	       size_t n, unsigned *acked, struct result *res)
{
	for (size_t i = 0; i < n; i += ACK_BATCH) {
		size_t m = n - i < ACK_BATCH ? n - i : ACK_BATCH;
		size_t len = 4;
		for (size_t j = 0; j < m; j++)
			len += strlen(names[i + j]) + 1;
		char *cmd = malloc(len + 1);
		if (!cmd)
			return -ENOMEM;
		strcpy(cmd, "ack");
		for (size_t j = 0; j < m; j++) {
			strcat(cmd, " ");
			strcat(cmd, names[i + j]);
		}
		char *argv[SSH_MAX_ARGS + 6];
		ssh_argv(t, cmd, argv, sizeof argv / sizeof argv[0]);
		struct run_result rr;
		int rc = run_capture(argv, 4096, c->connect_timeout + 60, &rr);
		free(cmd);
		unsigned got = 0, asked = 0;
		if (rc == 0 && rr.status == 0 && sscanf(rr.out, "acked %u of %u", &got, &asked) == 2) {
			*acked += got;
		} else {
			char line[300];
			append_msg(res, "ack failed: %s", rc < 0 ? strerror(-rc) : run_err_line(&rr, line, sizeof line));
			run_result_free(&rr);
			return -EIO;
		}
		run_result_free(&rr);
	}
	return 0;
}

static void collect_sensor(const struct cfg_central *c, const struct cfg_sensor *s,
			   const struct opts *o, struct result *res)
{
	struct ssh_target t;
	char path[PATH_MAX + 64], staging[PATH_MAX], quarantine[PATH_MAX], statef[PATH_MAX];
	struct vg_err err = {0};
	struct manifest m = {0};
	struct collect_state st = {0};
	const char **toack = NULL;
	size_t ntoack = 0;
	if (ssh_target_init(&t, c, s, res->msg, sizeof res->msg) < 0) {
		res->failed = 1;
		return;
	}
	snprintf(staging, sizeof staging, "%s/.staging/%s", c->archive, s->name);
	snprintf(quarantine, sizeof quarantine, "%s/.quarantine/%s", c->archive, s->name);
	snprintf(statef, sizeof statef, "%s/%s/.collected", c->archive, s->name);
	snprintf(path, sizeof path, "%s/%s", c->archive, s->name);
	if (collect_mkdirs(staging, &err) < 0 || collect_mkdirs(path, &err) < 0) {
		snprintf(res->msg, sizeof res->msg, "%s", err.msg);
		res->failed = 1;
		goto out;
	}

	/* 1. the manifest */
	progress_line("manifest");
	struct run_result rr;
	const char *mname = "MANIFEST";
	int rc = rsync_files(c, &t, o, &mname, 1, staging, c->connect_timeout + 60, &rr);
	if (rc < 0 || rr.status != 0) {
		char line[300];
		snprintf(res->msg, sizeof res->msg, "cannot fetch the manifest: %s",
				rc < 0 ? strerror(-rc) : run_err_line(&rr, line, sizeof line));
		run_result_free(&rr);
		res->failed = 1;
		goto out;
	}
	run_result_free(&rr);
	snprintf(path, sizeof path, "%s/MANIFEST", staging);
	size_t mlen = 0;
	char *mtext = slurp(path, 64u << 20, &mlen);
	if (!mtext) {
		snprintf(res->msg, sizeof res->msg, "%.400s: cannot read", path);
		res->failed = 1;
		goto out;
	}
	char label[PATH_MAX];
	snprintf(label, sizeof label, "%s:MANIFEST", s->name);
	rc = manifest_parse(label, mtext, mlen, &m, &err);
	free(mtext);
	if (rc < 0) {
		snprintf(res->msg, sizeof res->msg, "%s", err.msg);
		res->failed = 1;
		goto out;
	}
	if (m.skipped)
		append_msg(res, "%zu manifest line(s) skipped, first: %s", m.skipped, err.msg);
	if ((rc = collect_state_load(statef, &st, &err)) < 0) {
		snprintf(res->msg, sizeof res->msg, "%s", err.msg);
		res->failed = 1;
		goto out;
	}
	res->listed = (unsigned)m.n;

	/* 2. what is missing; what is archived here but not yet acked */
	const char **want = calloc(m.n + 1, sizeof *want);
	toack = calloc(m.n + 1, sizeof *toack);
	if (!want || !toack) {
		free(want);
		snprintf(res->msg, sizeof res->msg, "out of memory");
		res->failed = 1;
		goto out;
	}
	size_t nwant = 0;
	for (size_t i = 0; i < m.n; i++) {
		if (collect_state_has(&st, m.v[i].sha256, m.v[i].name)) {
			if (!m.v[i].archived)
				toack[ntoack++] = m.v[i].name;
		} else {
			want[nwant++] = m.v[i].name;
		}
	}
	res->wanted = (unsigned)nwant;

	/* 3-5. fetch, verify, place; a batch's failure still lets the files
	 * that arrived whole be placed */
	bool stop = false;
	for (size_t i = 0; i < nwant && !stop; i += RSYNC_BATCH) {
		size_t nb = nwant - i < RSYNC_BATCH ? nwant - i : RSYNC_BATCH;
		progress_line("fetch %zu/%zu", i, nwant);
		char dest[PATH_MAX + 1];
		snprintf(dest, sizeof dest, "%s/", staging);
		rc = rsync_files(c, &t, o, want + i, nb, dest, 0, &rr);
		if (rc < 0 || rr.status != 0) {
			char line[300];
			append_msg(res, "transfer failed: %s", rc < 0 ? strerror(-rc) : run_err_line(&rr, line, sizeof line));
			res->failed = 1;
			stop = true;
		}
		run_result_free(&rr);
		for (size_t j = i; j < i + nb; j++) {
			const struct manifest_entry *e = NULL;
			for (size_t q = 0; q < m.n; q++)
				if (m.v[q].name == want[j])
					e = &m.v[q];
			const char *base = e->name + 5;
			char sp[PATH_MAX + 128];
			snprintf(sp, sizeof sp, "%s/%s", staging, base);
			char hex[65];
			uint64_t size;
			if (collect_sha256_file(sp, hex, &size, &err) < 0)
				continue;   /* not arrived: fetched next time */
			if (size != e->size || strcmp(hex, e->sha256)) {
				char qp[PATH_MAX + 160];
				time_t now = time(NULL);
				struct tm tm;
				char ts[32];
				gmtime_r(&now, &tm);
				strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
				snprintf(qp, sizeof qp, "%s/%s.%s", quarantine, base, ts);
				if (collect_mkdirs(quarantine, &err) < 0 || rename(sp, qp) < 0)
					unlink(sp);
				res->quarantined++;
				res->failed = 1;
				append_msg(res, "%s: SHA-256 %.12s... size %" PRIu64 " does not match the manifest's %.12s... size %" PRIu64 ": quarantined in %s, fetched again next time",
						e->name, hex, size, e->sha256, e->size, qp);
				continue;
			}
			char dst[PATH_MAX];
			if (collect_archive_path(c->archive, s->name, e->name, dst, sizeof dst) < 0)
				continue;
			progress_line("place %s", base);
			if (collect_place_zstd(sp, dst, o->level, &err) < 0 ||
					collect_state_append(statef, e->sha256, e->name, &err) < 0) {
				/* nothing is recorded, so the sensor keeps it as new */
				append_msg(res, "%s", err.msg);
				res->failed = 1;
				stop = true;
				break;
			}
			unlink(sp);
			res->fetched++;
			res->bytes += size;
			if (!e->archived)
				toack[ntoack++] = e->name;
		}
	}

	/* 6. tell the sensor */
	if (ntoack) {
		progress_line("ack %zu", ntoack);
		if (ack(c, &t, toack, ntoack, &res->acked, res) < 0)
			res->failed = 1;
	}
	free(want);
out:
	free(toack);
	collect_state_free(&st);
	manifest_free(&m);
	ssh_target_cleanup(&t);
}

/* ---- parent ------------------------------------------------------------ */

struct job {
	const struct cfg_sensor *s;
	pid_t pid;
	int fd;
	char buf[4096];
	size_t len;
	bool done;
	struct result r;
	char state[128];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigia collect [--config FILE] [--sensor NAME]... [--parallel N]\n"
		"                     [--bwlimit KBPS] [--level N] [--quiet]\n"
		"                     [--ingest | --watch [WATCH OPTIONS]] [INGEST OPTIONS]\n"
		"  Pull the completed spool files of every sensor (or each --sensor) over ssh\n"
		"  into ARCHIVE/SENSOR/YYYY/MM/DD/NAME.zst, verified against the sensor's manifest.\n"
		"\n"
		"  --ingest          then count the new files into the database (vigia ingest)\n"
		"  --watch           then ingest, and watch for new and growing activity\n"
		"                    (vigia watch): collect + ingest + watch in one run\n"
		"  ingest options:   --db FILE, --rir FILE (repeatable), --p0f FILE, --no-p0f\n"
		"  watch options:    --alerts FILE, --base-url URL, --mail, --outbox DIR,\n"
		"                    --no-syslog\n"
		"  Ingest and watch run even when a sensor failed (what was collected counts);\n"
		"  watch does not run when ingest failed fatally.\n"
		"  Exit status: 0 every sensor collected (and ingested and watched), 2 some\n"
		"  sensor failed, a file was quarantined or some input was bad, 1 usage,\n"
		"  3 configuration error or ingest or watch failed.\n");
}

/* The steps after collecting: vigia ingest and vigia watch's own entry
 * points, with the configuration collect used and the options given. */
struct after {
	bool ingest, watch, quiet, no_p0f, mail, no_syslog;
	const char *db, *p0f, *alerts, *base_url, *outbox;
	const char **rir;
	size_t nrir;
};

struct argv_vec {
	char **v;
	int n;
};

static void arg(struct argv_vec *a, const char *s)
{
	a->v[a->n++] = (char *)s;
	a->v[a->n] = NULL;
}

/* Worst of the exit statuses: fatal (or usage: a status this run cannot
 * use) over bad input over success. */
static int worst(int a, int b)
{
	if (a == VG_EXIT_FATAL || b == VG_EXIT_FATAL || a == VG_EXIT_USAGE || b == VG_EXIT_USAGE)
		return VG_EXIT_FATAL;
	return a == VG_EXIT_BADINPUT || b == VG_EXIT_BADINPUT ? VG_EXIT_BADINPUT : VG_EXIT_OK;
}

static int run_after(const struct after *o, const char *cfgpath, int rc)
{
	struct argv_vec a = {calloc(o->nrir * 2 + 24, sizeof *a.v), 0};
	if (!a.v) {
		fprintf(stderr, "vigia collect: out of memory\n");
		return VG_EXIT_FATAL;
	}
	arg(&a, "ingest");
	arg(&a, "--config");
	arg(&a, cfgpath);
	if (o->db) {
		arg(&a, "--db");
		arg(&a, o->db);
	}
	for (size_t i = 0; i < o->nrir; i++) {
		arg(&a, "--rir");
		arg(&a, o->rir[i]);
	}
	if (o->p0f) {
		arg(&a, "--p0f");
		arg(&a, o->p0f);
	}
	if (o->no_p0f)
		arg(&a, "--no-p0f");
	if (o->quiet)
		arg(&a, "--quiet");
	fflush(stdout);
	int ri = cmd_ingest(a.n, a.v);
	rc = worst(rc, ri);
	if (o->watch && ri == VG_EXIT_FATAL) {
		fprintf(stderr, "vigia collect: ingest failed: not watching\n");
	} else if (o->watch) {
		a.n = 0;
		arg(&a, "watch");
		arg(&a, "--config");
		arg(&a, cfgpath);
		if (o->db) {
			arg(&a, "--db");
			arg(&a, o->db);
		}
		if (o->alerts) {
			arg(&a, "--alerts");
			arg(&a, o->alerts);
		}
		if (o->base_url) {
			arg(&a, "--base-url");
			arg(&a, o->base_url);
		}
		if (o->mail)
			arg(&a, "--mail");
		if (o->outbox) {
			arg(&a, "--outbox");
			arg(&a, o->outbox);
		}
		if (o->no_syslog)
			arg(&a, "--no-syslog");
		fflush(stdout);
		rc = worst(rc, cmd_watch(a.n, a.v));
	}
	free(a.v);
	return rc;
}

static void handle_line(struct job *j, char *line)
{
	if (line[0] == 'p' && line[1] == ' ')
		snprintf(j->state, sizeof j->state, "%s", line + 2);
}

int cmd_collect(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"sensor", required_argument, NULL, 's'},
		{"parallel", required_argument, NULL, 'j'},
		{"bwlimit", required_argument, NULL, 'b'},
		{"level", required_argument, NULL, 'L'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		/* issue 9: the steps after collecting */
		{"ingest", no_argument, NULL, 'I'},
		{"watch", no_argument, NULL, 'W'},
		{"db", required_argument, NULL, 'D'},
		{"rir", required_argument, NULL, 'r'},
		{"p0f", required_argument, NULL, 'p'},
		{"no-p0f", no_argument, NULL, 'P'},
		{"alerts", required_argument, NULL, 'A'},
		{"base-url", required_argument, NULL, 'U'},
		{"mail", no_argument, NULL, 'M'},
		{"outbox", required_argument, NULL, 'O'},
		{"no-syslog", no_argument, NULL, 'N'},
		{NULL, 0, NULL, 0},
	};
	const char *cfgpath = NULL;
	struct after after = {0};
	after.rir = calloc((size_t)argc + 1, sizeof *after.rir);
	const char **only = calloc((size_t)argc + 1, sizeof *only);
	size_t nonly = 0;
	unsigned parallel = 0;
	bool quiet = false;
	struct opts o = {.bwlimit = 0, .level = 3};
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:s:j:q", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 's': only[nonly++] = optarg; break;
		case 'j': parallel = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'b': o.bwlimit = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'L': o.level = atoi(optarg); break;
		case 'q': quiet = true; break;
		case 'I': after.ingest = true; break;
		case 'W': after.ingest = after.watch = true; break;
		case 'D': after.db = optarg; break;
		case 'r': if (after.rir) after.rir[after.nrir++] = optarg; break;
		case 'p': after.p0f = optarg; break;
		case 'P': after.no_p0f = true; break;
		case 'A': after.alerts = optarg; break;
		case 'U': after.base_url = optarg; break;
		case 'M': after.mail = true; break;
		case 'O': after.outbox = optarg; break;
		case 'N': after.no_syslog = true; break;
		case 'h': usage(stdout); free(only); free(after.rir); return VG_EXIT_OK;
		default: usage(stderr); free(only); free(after.rir); return VG_EXIT_USAGE;
		}
	}
	after.quiet = quiet;
	bool watch_opt = after.alerts || after.base_url || after.mail || after.outbox ||
			 after.no_syslog;
	bool ingest_opt = after.db || after.nrir || after.p0f || after.no_p0f;
	if (optind != argc || !only || !after.rir || (watch_opt && !after.watch) ||
	    (ingest_opt && !after.ingest)) {
		if (watch_opt && !after.watch)
			fprintf(stderr, "vigia collect: watch options need --watch\n");
		else if (ingest_opt && !after.ingest)
			fprintf(stderr, "vigia collect: ingest options need --ingest or --watch\n");
		else
			usage(stderr);
		free(only);
		free(after.rir);
		return VG_EXIT_USAGE;
	}
	struct cfg_central *c;
	struct vg_err err = {0};
	if (cfg_central_load(cfg_central_path(cfgpath), &c, &err) < 0) {
		fprintf(stderr, "vigia collect: %s\n", err.msg);
		free(only);
		free(after.rir);
		return VG_EXIT_FATAL;
	}
	if (!parallel)
		parallel = c->parallel;
	struct job *jobs = calloc(c->nsensors + 1, sizeof *jobs);
	size_t njobs = 0;
	for (size_t i = 0; i < nonly; i++)
		if (!cfg_central_sensor(c, only[i])) {
			fprintf(stderr, "vigia collect: %s: no sensor named '%s'\n", c->path, only[i]);
			free(jobs);
			free(only);
			free(after.rir);
			cfg_central_free(c);
			return VG_EXIT_USAGE;
		}
	for (size_t i = 0; i < c->nsensors; i++) {
		const struct cfg_sensor *s = &c->sensors[i];
		bool take = nonly == 0 ? !s->disabled : false;
		for (size_t k = 0; k < nonly; k++)
			if (!strcmp(only[k], s->name))
				take = true;
		if (take) {
			jobs[njobs].s = s;
			jobs[njobs].fd = -1;
			snprintf(jobs[njobs].state, sizeof jobs[njobs].state, "waiting");
			njobs++;
		}
	}
	free(only);
	struct progress pr;
	progress_init(&pr, quiet);
	signal(SIGPIPE, SIG_IGN);
	size_t next = 0, running = 0, finished = 0;
	while (finished < njobs) {
		while (running < parallel && next < njobs) {
			struct job *j = &jobs[next++];
			int p[2];
			if (pipe2(p, O_CLOEXEC) < 0) {
				snprintf(j->r.msg, sizeof j->r.msg, "pipe: %s", strerror(errno));
				j->r.failed = 1;
				j->done = true;
				finished++;
				continue;
			}
			fflush(NULL);
			pid_t pid = fork();
			if (pid == 0) {
				close(p[0]);
				report_fd = p[1];
				struct result r = {0};
				collect_sensor(c, j->s, &o, &r);
				char line[1024];
				int n = snprintf(line, sizeof line, "r %d %u %u %u %u %u %" PRIu64 " %s\n",
						r.failed, r.listed, r.wanted, r.fetched, r.quarantined,
						r.acked, r.bytes, r.msg);
				if (n > 0)
					(void)!write(p[1], line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
				_exit(0);
			}
			close(p[1]);
			if (pid < 0) {
				close(p[0]);
				snprintf(j->r.msg, sizeof j->r.msg, "fork: %s", strerror(errno));
				j->r.failed = 1;
				j->done = true;
				finished++;
				continue;
			}
			j->pid = pid;
			j->fd = p[0];
			running++;
		}
		struct pollfd fds[256];
		size_t idx[256], nf = 0;
		for (size_t i = 0; i < njobs && nf < 256; i++)
			if (jobs[i].fd >= 0) {
				fds[nf].fd = jobs[i].fd;
				fds[nf].events = POLLIN;
				idx[nf++] = i;
			}
		if (nf == 0)
			continue;
		int n = poll(fds, nf, 100);
		if (n < 0 && errno != EINTR)
			break;
		for (size_t k = 0; k < nf && n > 0; k++) {
			if (!fds[k].revents)
				continue;
			struct job *j = &jobs[idx[k]];
			ssize_t got = read(j->fd, j->buf + j->len, sizeof j->buf - 1 - j->len);
			if (got > 0) {
				j->len += (size_t)got;
				j->buf[j->len] = '\0';
				char *nl;
				while ((nl = strchr(j->buf, '\n'))) {
					*nl = '\0';
					if (j->buf[0] == 'r') {
						int pos = 0;
						sscanf(j->buf, "r %d %u %u %u %u %u %" SCNu64 " %n", &j->r.failed,
								&j->r.listed, &j->r.wanted, &j->r.fetched,
								&j->r.quarantined, &j->r.acked, &j->r.bytes, &pos);
						snprintf(j->r.msg, sizeof j->r.msg, "%s", pos ? j->buf + pos : "");
						j->done = true;
					} else {
						handle_line(j, j->buf);
					}
					size_t rest = j->len - (size_t)(nl + 1 - j->buf);
					memmove(j->buf, nl + 1, rest + 1);
					j->len = rest;
				}
				if (j->len == sizeof j->buf - 1)
					j->len = 0;
				continue;
			}
			close(j->fd);
			j->fd = -1;
			int stw;
			waitpid(j->pid, &stw, 0);
			if (!j->done) {
				j->r.failed = 1;
				snprintf(j->r.msg, sizeof j->r.msg, "worker ended abnormally (status %d)", stw);
				j->done = true;
			}
			running--;
			finished++;
		}
		char cur[160] = "";
		for (size_t i = 0; i < njobs; i++)
			if (jobs[i].fd >= 0) {
				snprintf(cur, sizeof cur, "%s: %s", jobs[i].s->name, jobs[i].state);
				break;
			}
		progress_update(&pr, "collect: %zu/%zu sensors done, %zu running  %s", finished, njobs,
				running, cur);
	}
	progress_clear(&pr);

	int failed = 0;
	printf("%-16s %-6s %7s %7s %7s %12s %5s %5s  %s\n", "sensor", "result", "listed", "new",
			"fetched", "bytes", "quar", "acked", "message");
	uint64_t tbytes = 0, tfiles = 0;
	for (size_t i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		failed += j->r.failed;
		tbytes += j->r.bytes;
		tfiles += j->r.fetched;
		printf("%-16s %-6s %7u %7u %7u %12" PRIu64 " %5u %5u  %s\n", j->s->name,
				j->r.failed ? "FAIL" : "ok", j->r.listed, j->r.wanted, j->r.fetched,
				j->r.bytes, j->r.quarantined, j->r.acked, j->r.msg);
	}
	printf("%zu sensor(s), %zu failed, %" PRIu64 " file(s), %" PRIu64 " bytes in %.1f s\n",
			njobs, (size_t)failed, tfiles, tbytes, progress_elapsed(&pr));
	free(jobs);
	int rc = failed ? VG_EXIT_BADINPUT : VG_EXIT_OK;
	if (fflush(stdout) != 0)
		rc = VG_EXIT_FATAL;
	else if (after.ingest)
		rc = run_after(&after, c->path, rc);
	free(after.rir);
	cfg_central_free(c);
	return rc;
}
