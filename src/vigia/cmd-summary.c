/* vigia summary: the members' daily summary, signed, encrypted to each
 * member's key and mailed (issue 7, docs/summary.md).
 *
 * Fail closed: a member without a usable key gets nothing, and nothing
 * is ever sent in clear.  The sent-log (table mail_sent) makes a rerun
 * send only what was not sent.  Every line this command prints goes
 * through the sanitizer. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cfg-central.h"
#include "cli.h"
#include "commands.h"
#include "db.h"
#include "mail-maildir.h"
#include "mail-mime.h"
#include "mail-pgp.h"
#include "mail-smtp.h"
#include "sanitize.h"
#include "summary.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigia summary [--config FILE] [--day YYYY-MM-DD] [--outbox DIR] [--dry-run]\n"
		"\n"
		"Builds the day's sanitized summary from the database, signs it with the\n"
		"alliance's key, encrypts it to each member's key (PGP/MIME) and sends it\n"
		"over SMTP, or into the Maildir DIR with --outbox.  A member without a usable\n"
		"key receives nothing.  Members already sent this day's summary are skipped.\n"
		"\n"
		"  --config FILE   central configuration (default $VIGIA_CONFIG, else %s)\n"
		"  --db FILE       database (overrides the config's)\n"
		"  --day DAY       UTC day to summarize (default: yesterday)\n"
		"  --outbox DIR    write a Maildir instead of sending\n"
		"  --member NAME   only this member (repeatable)\n"
		"  --dry-run       print the sanitized plain text and check every key; send\n"
		"                  and record nothing\n"
		"  --quiet         report only failures\n"
		"\n"
		"Exit status: 0 every member has the summary, 2 some member was skipped or\n"
		"could not be reached (reported), 1 usage, 3 fatal (nothing sent).\n",
		CFG_CENTRAL_DEFAULT_PATH);
}

struct opts {
	const char *config, *db, *day, *outbox;
	const char **members;
	size_t nmembers;
	bool dry_run, quiet;
};

static const struct sanitizer *g_san;


/* Every line printed passes the sanitizer (cli_say). */
#define say(f, ...) cli_say(g_san, "vigia summary", f, __VA_ARGS__)

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'C'},
		{"db", required_argument, NULL, 'd'},
		{"day", required_argument, NULL, 'D'},
		{"outbox", required_argument, NULL, 'o'},
		{"member", required_argument, NULL, 'm'},
		{"dry-run", no_argument, NULL, 'n'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:d:D:o:m:nqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'C': o->config = optarg; break;
		case 'd': o->db = optarg; break;
		case 'D': o->day = optarg; break;
		case 'o': o->outbox = optarg; break;
		case 'm': {
			const char **nv = realloc(o->members, (o->nmembers + 1) * sizeof *nv);
			if (!nv)
				return -1;
			nv[o->nmembers++] = optarg;
			o->members = nv;
			break;
		}
		case 'n': o->dry_run = true; break;
		case 'q': o->quiet = true; break;
		case 'h':
			usage(stdout);
			exit(VG_EXIT_OK);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vigia summary: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

static bool wanted(const struct opts *o, const char *name)
{
	if (!o->nmembers)
		return true;
	for (size_t i = 0; i < o->nmembers; i++)
		if (!strcmp(o->members[i], name))
			return true;
	return false;
}

struct run {
	const struct opts *o;
	const struct cfg_central *c;
	struct db *db;
	struct mail_pgp *pgp;
	struct mail_smtp smtp;
	const char *inner;
	size_t inner_len;
	const struct summary *sum;
	int64_t day;
	unsigned sent, already, skipped, failed;
};

/* Deliver one member's message: SMTP with retries, or the Maildir. */
static int deliver(struct run *r, const struct cfg_member *m, const char *msg, size_t len,
		struct vg_err *err)
{
	if (r->o->outbox) {
		char name[512];
		return mail_maildir_write(r->o->outbox, msg, len, name, sizeof name, err);
	}
	unsigned tries = r->c->mail.retries ? r->c->mail.retries : 1;
	int rc = -EIO;
	for (unsigned t = 0; t < tries; t++) {
		if (t) {
			unsigned wait = 1u << (t - 1);
			say(stderr, "vigia summary: %s: attempt %u of %u failed (%s); retrying in %us",
			    m->name, t, tries, err->msg, wait > 30 ? 30 : wait);
			sleep(wait > 30 ? 30 : wait);
		}
		vg_err_clear(err);
		rc = mail_smtp_send(&r->smtp, r->c->mail.from, m->address, msg, len, err);
		if (rc != -EAGAIN)
			break;
	}
	return rc;
}

/* The sent-log key: SMTP and the Maildir are separate channels, so a dry
 * run into an outbox never stops the real sending. */
static void log_key(const struct opts *o, const struct cfg_member *m, char *buf, size_t len)
{
	if (o->outbox)
		snprintf(buf, len, "maildir:%s", m->name);
	else
		snprintf(buf, len, "%s", m->name);
}

static void one_member(struct run *r, const struct cfg_member *m)
{
	struct vg_err err = {0};
	char key[128], msgid[256] = "";
	log_key(r->o, m, key, sizeof key);
	int rc = db_mail_sent_get(r->db, r->day, key, msgid, sizeof msgid, &err);
	if (rc < 0) {
		say(stderr, "vigia summary: %s: NOT sent: %s", m->name, err.msg);
		r->failed++;
		return;
	}
	if (rc == 1) {
		if (!r->o->quiet)
			say(stdout, "already-sent %s <%s> %s", m->name, m->address, msgid);
		r->already++;
		return;
	}
	if ((rc = mail_pgp_check_recipient(r->pgp, m->key, &err)) < 0) {
		say(stderr, "vigia summary: %s: NOT sent (no usable key): %s", m->name, err.msg);
		r->skipped++;
		return;
	}
	if (r->o->dry_run) {
		if (!r->o->quiet)
			say(stdout, "would-send %s <%s>", m->name, m->address);
		r->sent++;
		return;
	}
	char *arm = NULL, *msg = NULL;
	size_t alen = 0, mlen = 0;
	if ((rc = mail_pgp_sign_encrypt(r->pgp, m->key, r->inner, r->inner_len, &arm, &alen,
					&err)) < 0) {
		say(stderr, "vigia summary: %s: NOT sent: %s", m->name, err.msg);
		r->skipped++;
		return;
	}
	char date[64];
	mail_date(time(NULL), date, sizeof date);
	if (mail_message_id(r->c->mail.from, msgid, sizeof msgid) < 0) {
		free(arm);
		say(stderr, "vigia summary: %s: NOT sent: no random bytes for a Message-ID", m->name);
		r->failed++;
		return;
	}
	struct mail_headers h = {r->c->mail.from, m->address, r->sum->subject, msgid, date};
	if ((rc = mail_mime_encrypted(&h, arm, alen, &msg, &mlen)) < 0) {
		free(arm);
		say(stderr, "vigia summary: %s: NOT sent: cannot build the message: %s", m->name,
		    strerror(-rc));
		r->failed++;
		return;
	}
	free(arm);
	rc = deliver(r, m, msg, mlen, &err);
	free(msg);
	if (rc < 0) {
		say(stderr, "vigia summary: %s: NOT sent: %s", m->name, err.msg);
		r->failed++;
		return;
	}
	/* Recorded once the server accepted the message: a crash in between
	 * can only repeat a message, never lose one. */
	if (db_mail_sent_add(r->db, r->day, key, msgid, (int64_t)time(NULL), &err) < 0) {
		say(stderr, "vigia summary: %s: sent as %s but not recorded: %s", m->name, msgid,
		    err.msg);
		r->failed++;
		return;
	}
	if (!r->o->quiet)
		say(stdout, "sent %s <%s> %s", m->name, m->address, msgid);
	r->sent++;
}

int cmd_summary(int argc, char **argv)
{
	struct opts o = {0};
	if (parse_args(argc, argv, &o) < 0) {
		free(o.members);
		return VG_EXIT_USAGE;
	}
	int64_t day;
	if (o.day) {
		if (summary_parse_day(o.day, &day) < 0) {
			fprintf(stderr, "vigia summary: --day expects YYYY-MM-DD, got '%s'\n", o.day);
			free(o.members);
			return VG_EXIT_USAGE;
		}
	} else {
		day = ((int64_t)time(NULL) / 86400 - 1) * 86400;
	}
	struct vg_err err = {0};
	struct cfg_central *c = NULL;
	const char *cpath = cfg_central_path(o.config);
	if (cfg_central_load(cpath, &c, &err) < 0) {
		fprintf(stderr, "vigia summary: %s\n", err.msg);
		free(o.members);
		return VG_EXIT_FATAL;
	}
	int ret = VG_EXIT_FATAL;
	struct sanitizer *san = NULL;
	struct db *db = NULL;
	struct summary sum = {0};
	struct run r = {.o = &o, .c = c, .day = day};
	char *inner = NULL, *password = NULL;
	if (sanitizer_new(c, &san, &err) < 0) {
		fprintf(stderr, "vigia summary: %s\n", err.msg);
		goto out;
	}
	g_san = san;
	if (!o.dry_run && !o.outbox && !c->mail.smtp) {
		say(stderr, "vigia summary: %s: no 'smtp' in the mail block; use --outbox DIR", cpath);
		goto out;
	}
	if (!c->mail.from) {
		say(stderr, "vigia summary: %s: the mail block needs 'from'", cpath);
		goto out;
	}
	if (db_open(&db, o.db ? o.db : c->database, &err) < 0) {
		say(stderr, "vigia summary: %s", err.msg);
		goto out;
	}
	r.db = db;
	struct summary_opts so = {.day = day, .top = c->mail.top};
	if (summary_build(db, c, san, &so, &sum, &err) < 0) {
		say(stderr, "vigia summary: %s", err.msg);
		goto out;
	}
	r.sum = &sum;
	if (o.dry_run)
		fwrite(sum.text, 1, sum.text_len, stdout);
	if (mail_pgp_open(c->mail.keyring, c->mail.sign_key, &r.pgp, &err) < 0) {
		say(stderr, "vigia summary: nothing sent: %s", err.msg);
		goto out;
	}
	size_t ilen = 0;
	if (mail_mime_alternative(sum.text, sum.text_len, sum.html, sum.html_len, &inner, &ilen) < 0) {
		say(stderr, "vigia summary: out of memory");
		goto out;
	}
	r.inner = inner;
	r.inner_len = ilen;
	if (c->mail.smtp_password_file && !o.outbox && !o.dry_run &&
	    !(password = cli_read_password(c->mail.smtp_password_file, &err))) {
		say(stderr, "vigia summary: nothing sent: %s", err.msg);
		goto out;
	}
	r.smtp = (struct mail_smtp){
		.url = c->mail.smtp, .starttls = c->mail.starttls, .user = c->mail.smtp_user,
		.password = password, .ca_file = c->mail.ca_file, .timeout = c->mail.timeout,
	};
	if (o.outbox && !o.dry_run && mail_maildir_init(o.outbox, &err) < 0) {
		say(stderr, "vigia summary: nothing sent: %s", err.msg);
		goto out;
	}
	if (c->nmembers == 0)
		say(stderr, "vigia summary: %s: no members configured: nothing to send", cpath);
	if (!o.dry_run && !o.outbox && mail_smtp_global_init() < 0) {
		say(stderr, "vigia summary: cannot initialise libcurl");
		goto out;
	}
	size_t matched = 0;
	for (size_t i = 0; i < c->nmembers; i++)
		if (wanted(&o, c->members[i].name)) {
			matched++;
			one_member(&r, &c->members[i]);
		}
	if (!o.dry_run && !o.outbox)
		mail_smtp_global_cleanup();
	if (o.nmembers && matched < o.nmembers)
		say(stderr, "vigia summary: some --member names no configured member");
	if (!o.quiet || r.skipped || r.failed) {
		char dn[16];
		time_t t = (time_t)day;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(dn, sizeof dn, "%Y-%m-%d", &tm);
		say(stderr, "vigia summary %s: %" PRIu64 " packets; %u %s, %u already sent, "
		    "%u skipped (no usable key), %u failed", dn, sum.packets, r.sent,
		    o.dry_run ? "would be sent" : "sent", r.already, r.skipped, r.failed);
	}
	ret = r.skipped || r.failed || (o.nmembers && matched < o.nmembers) ? VG_EXIT_BADINPUT
									    : VG_EXIT_OK;
out:
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	free(inner);
	mail_pgp_close(r.pgp);
	summary_free(&sum);
	if (db)
		db_close(db);
	g_san = NULL;
	sanitizer_free(san);
	cfg_central_free(c);
	free(o.members);
	return ret;
}
