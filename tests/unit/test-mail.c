/* test-mail.c: the summary's MIME, Maildir, SMTP failure class and the
 * plaintext of a summary built from a database (sanitized before any
 * encryption). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cfg-central.h"
#include "check.h"
#include "db.h"
#include "mail-maildir.h"
#include "mail-mime.h"
#include "mail-smtp.h"
#include "sanitize.h"
#include "summary.h"

static char dir[] = "/tmp/test-mail-XXXXXX";

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* An independent quoted-printable decoder (CRLF -> LF). */
static char *qp_decode(const char *s, size_t n)
{
	char *o = malloc(n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2;
		} else if (s[i] == '=' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			o[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
			o[j++] = '\n';
			i++;
		} else {
			o[j++] = s[i];
		}
	}
	o[j] = '\0';
	return o;
}

static bool crlf_only(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			return false;
	return true;
}

static size_t longest_line(const char *s, size_t n)
{
	size_t best = 0, cur = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r' || s[i] == '\n') {
			cur = 0;
			continue;
		}
		if (++cur > best)
			best = cur;
	}
	return best;
}

TEST(quoted_printable_round_trips_and_keeps_lines_short)
{
	const char *in = "Bras\xc3\xadlia: a=b \n.leading dot\nFrom here\ntrailing blank \n"
			 "0123456789012345678901234567890123456789012345678901234567890123456789"
			 "0123456789012345678901234567890123456789\n";
	char *q = NULL;
	size_t ql = 0;
	CHECK(mail_qp_encode(in, strlen(in), &q, &ql) == 0);
	CHECK(q != NULL);
	if (!q)
		return;
	CHECK(crlf_only(q, ql));
	CHECK(longest_line(q, ql) <= 76);
	CHECK(strstr(q, "Bras=C3=ADlia") != NULL);
	CHECK(strstr(q, "a=3Db=20\r\n") != NULL);
	CHECK(strstr(q, "\r\n=2Eleading") != NULL);
	CHECK(strstr(q, "\r\nFrom here") == NULL);
	for (size_t i = 0; i < ql; i++)
		CHECK((unsigned char)q[i] < 127);
	char *back = qp_decode(q, ql);
	CHECK_STREQ(back, in);
	free(back);
	free(q);
}

TEST(alternative_entity_holds_text_and_html_with_crlf)
{
	const char *t = "plain\ntext\n", *h = "<p>html</p>\n";
	char *m = NULL;
	size_t ml = 0;
	CHECK(mail_mime_alternative(t, strlen(t), h, strlen(h), &m, &ml) == 0);
	CHECK(m && crlf_only(m, ml));
	CHECK(m && !strncmp(m, "Content-Type: multipart/alternative; boundary=\"", 47));
	const char *tp = m ? strstr(m, "Content-Type: text/plain; charset=utf-8") : NULL;
	const char *hp = m ? strstr(m, "Content-Type: text/html; charset=utf-8") : NULL;
	CHECK(tp && hp && tp < hp);
	/* the closing delimiter is the boundary with "--" after it */
	char bnd[128] = "";
	if (m)
		sscanf(m, "Content-Type: multipart/alternative; boundary=\"%127[^\"]\"", bnd);
	char close[160];
	snprintf(close, sizeof close, "--%s--\r\n", bnd);
	CHECK(bnd[0] && ml >= strlen(close) && !strcmp(m + ml - strlen(close), close));
	free(m);
}

TEST(encrypted_envelope_follows_rfc3156)
{
	const char *arm = "-----BEGIN PGP MESSAGE-----\n\nhQEMA\n-----END PGP MESSAGE-----\n";
	struct mail_headers h = {"vigia@alliance.test", "cert@one.test", "vigia summary 2026-11-01",
		"<x@alliance.test>", "Sun, 01 Nov 2026 06:05:09 +0000"};
	char *m = NULL;
	size_t ml = 0;
	CHECK(mail_mime_encrypted(&h, arm, strlen(arm), &m, &ml) == 0);
	CHECK(m && crlf_only(m, ml));
	CHECK(m && strstr(m, "\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";"));
	CHECK(m && strstr(m, "Content-Type: application/pgp-encrypted\r\n"));
	CHECK(m && strstr(m, "\r\n\r\nVersion: 1\r\n"));
	CHECK(m && strstr(m, "Content-Type: application/octet-stream"));
	CHECK(m && strstr(m, "-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA\r\n-----END PGP MESSAGE-----\r\n"));
	CHECK(m && strstr(m, "Message-ID: <x@alliance.test>\r\n"));
	/* the version part comes before the encrypted data */
	CHECK(m && strstr(m, "Version: 1") < strstr(m, "BEGIN PGP MESSAGE"));
	free(m);
	/* a line break in a header value would forge headers */
	h.subject = "x\r\nBcc: evil@example.org";
	m = NULL;
	CHECK(mail_mime_encrypted(&h, arm, strlen(arm), &m, &ml) < 0);
	CHECK(m == NULL);
}

TEST(date_and_message_id)
{
	char d[64];
	mail_date(1793513109, d, sizeof d);
	CHECK_STREQ(d, "Sun, 01 Nov 2026 06:05:09 +0000");
	char a[128], b[128];
	CHECK(mail_message_id("vigia@alliance.test", a, sizeof a) == 0);
	CHECK(mail_message_id("vigia@alliance.test", b, sizeof b) == 0);
	CHECK(strcmp(a, b) != 0);
	CHECK(a[0] == '<' && strstr(a, "@alliance.test>") && a[strlen(a) - 1] == '>');
	CHECK(mail_message_id("x@y", a, 8) < 0);
}

TEST(maildir_delivers_through_tmp_into_new)
{
	char md[256];
	snprintf(md, sizeof md, "%s/outbox", dir);
	const char *msg = "From: a@b\r\n\r\nbody\r\n";
	char name[512];
	struct vg_err err = {0};
	CHECK(mail_maildir_write(md, msg, strlen(msg), name, sizeof name, &err) == 0);
	CHECK(!strncmp(name, "new/", 4));
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", md, name);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	if (f) {
		char buf[128] = "";
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		CHECK_EQ_U(n, strlen(msg));
		CHECK_STREQ(buf, msg);
	}
	snprintf(path, sizeof path, "%s/tmp", md);
	DIR *dd = opendir(path);
	int left = 0;
	for (struct dirent *e; dd && (e = readdir(dd));)
		left += e->d_name[0] != '.';
	if (dd)
		closedir(dd);
	CHECK(dd != NULL);
	CHECK_EQ_U(left, 0);
	/* a second message gets another name */
	char name2[512];
	CHECK(mail_maildir_write(md, msg, strlen(msg), name2, sizeof name2, &err) == 0);
	CHECK(strcmp(name, name2) != 0);
	/* a file where the Maildir should be is an error, with the path */
	snprintf(path, sizeof path, "%s/plainfile", dir);
	f = fopen(path, "w");
	if (f)
		fclose(f);
	CHECK(mail_maildir_write(path, msg, strlen(msg), name, sizeof name, &err) < 0);
	CHECK(strstr(err.msg, "plainfile") != NULL);
}

TEST(smtp_refused_connection_is_worth_retrying)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof a;
	CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
	CHECK(getsockname(s, (struct sockaddr *)&a, &al) == 0);
	close(s); /* nobody listens there now */
	char url[64];
	snprintf(url, sizeof url, "smtp://127.0.0.1:%u", ntohs(a.sin_port));
	struct mail_smtp sm = {.url = url, .starttls = CFG_STARTTLS_TRY, .timeout = 5};
	struct vg_err err = {0};
	CHECK(mail_smtp_global_init() == 0);
	int rc = mail_smtp_send(&sm, "a@b.test", "c@d.test", "x\r\n", 3, &err);
	mail_smtp_global_cleanup();
	CHECK(rc == -EAGAIN);
	CHECK(strstr(err.msg, url) != NULL);
}

/* ---- a summary from a small database ---------------------------------- */

#define HK "host-key \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\""

static int add_bin(struct db *db, int64_t t, uint32_t sensor, enum db_category c, const char *k,
		uint64_t p, uint64_t b)
{
	struct db_bin bin = {t, sensor, c, k, p, b};
	return db_bin_add(db, &bin, NULL);
}

static int add_source(struct db *db, int64_t day, const char *ip, uint64_t p, uint32_t port,
		uint32_t sensor)
{
	struct db_source_day s = {.day = day, .packets = p, .bytes = p * 60, .first_s = day + 3600,
		.last_s = day + 7200, .country = "BR"};
	snprintf(s.os, sizeof s.os, "Linux 2.6.x");
	s.ip.v = strchr(ip, ':') ? 6 : 4;
	inet_pton(s.ip.v == 4 ? AF_INET : AF_INET6, ip, s.ip.a);
	s.ports = &port;
	s.nports = 1;
	s.sensors = &sensor;
	s.nsensors = 1;
	return db_source_day_merge(db, &s, NULL);
}

TEST(summary_plaintext_is_sanitized_and_counts_the_database)
{
	static const char conf[] =
		"archive /a\n"
		"sensor s1 { id 1; public-name \"alpha\"; host 198.18.0.1; identity k; " HK ";"
		" network 192.0.2.0/24 }\n"
		"sensor s2 { id 2; host 198.18.0.2; identity k; " HK "; network 198.51.100.0/24 }\n";
	struct vg_err err = {0};
	struct cfg_central *c = NULL;
	struct sanitizer *san = NULL;
	CHECK(cfg_central_parse("t.conf", conf, sizeof conf - 1, &c, &err) == 0);
	CHECK(c && sanitizer_new(c, &san, &err) == 0);
	char path[256];
	snprintf(path, sizeof path, "%s/s.db", dir);
	struct db *db = NULL;
	CHECK(db_open(&db, path, &err) == 0);
	if (!db || !san)
		return;
	int64_t day = 1793491200; /* 2026-11-01 */
	CHECK(db_sensor_ensure(db, "s1", 1, &(uint32_t){0}, &err) == 0);
	CHECK(db_sensor_ensure(db, "s2", 2, &(uint32_t){0}, &err) == 0);
	CHECK(db_begin(db, &err) == 0);
	/* this day: 1000 packets, of which 700 TCP 445, 200 UDP 53, 100 other */
	CHECK(add_bin(db, day, 1, DB_COUNTRY, "BR", 600, 60000) == 0);
	CHECK(add_bin(db, day + 300, 2, DB_COUNTRY, "BR", 400, 40000) == 0);
	CHECK(add_bin(db, day, 1, DB_TCP_PORT, "445", 700, 70000) == 0);
	CHECK(add_bin(db, day, 2, DB_UDP_PORT, "53", 200, 16000) == 0);
	CHECK(add_bin(db, day, 1, DB_OS, "Linux 2.6.x", 1000, 100000) == 0);
	/* the day before: 500 packets; the week before: 2000 */
	CHECK(add_bin(db, day - 86400, 1, DB_COUNTRY, "BR", 500, 50000) == 0);
	CHECK(add_bin(db, day - 86400, 1, DB_TCP_PORT, "445", 500, 50000) == 0);
	CHECK(add_bin(db, day - 7 * 86400, 1, DB_COUNTRY, "BR", 2000, 1) == 0);
	/* a reply from a honeypot stored as a source, and a sensor's own address */
	CHECK(add_source(db, day, "192.0.2.17", 900, DB_PORT_TCP(445), 1) == 0);
	CHECK(add_source(db, day, "::ffff:198.51.100.9", 50, DB_PORT_TCP(22), 2) == 0);
	CHECK(add_source(db, day, "198.18.0.2", 40, DB_PORT_TCP(22), 2) == 0);
	CHECK(add_source(db, day, "45.33.32.156", 30, DB_PORT_UDP(53), 2) == 0);
	CHECK(add_source(db, day - 86400, "45.33.32.1", 30, DB_PORT_TCP(445), 1) == 0);
	CHECK(db_commit(db, &err) == 0);

	/* health as `vigia status` stores it: s1 had a clock WARN this day */
	sqlite3 *h = NULL;
	CHECK(sqlite3_open(path, &h) == SQLITE_OK);
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "CREATE TABLE IF NOT EXISTS health_check (time REAL NOT NULL, sensor TEXT NOT NULL,"
		 " check_name TEXT NOT NULL, state INTEGER NOT NULL, value REAL, message TEXT NOT NULL);"
		 "INSERT INTO health_check VALUES (%lld, 's1', 'disk', 0, 10, 'ok 198.18.0.1');"
		 "INSERT INTO health_check VALUES (%lld, 's1', 'clock', 1, 0.7, 'offset');"
		 "INSERT INTO health_check VALUES (%lld, 's1', 'clock', 0, 0.1, 'offset');"
		 "INSERT INTO health_check VALUES (%lld, 's2', 'disk', 2, 99, 'full');",
		 (long long)day + 60, (long long)day + 120, (long long)day + 180,
		 (long long)day - 600 /* the day before: not this day's */);
	CHECK(sqlite3_exec(h, sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(h);

	struct summary_opts so = {.day = day, .top = 10};
	struct summary s;
	int rc = summary_build(db, c, san, &so, &s, &err);
	if (rc)
		fprintf(stderr, "summary_build: %s\n", err.msg);
	CHECK(rc == 0);
	if (rc == 0) {
		CHECK_EQ_U(s.packets, 1000);
		CHECK_EQ_U(s.sources, 4);
		CHECK_STREQ(s.subject, "vigia summary 2026-11-01");
		const char *const docs[] = {s.text, s.html};
		for (int k = 0; k < 2; k++) {
			const char *t = docs[k];
			/* no honeypot or sensor address in any form */
			CHECK(strstr(t, "192.0.2.") == NULL);
			CHECK(strstr(t, "198.51.100.") == NULL);
			CHECK(strstr(t, "198.18.0.") == NULL);
			CHECK(strstr(t, "3221226001") == NULL);
			CHECK(strstr(t, "hp-1.17") != NULL);
			CHECK(strstr(t, "hp-2.9") != NULL);
			CHECK(strstr(t, "[sensor beta]") == NULL); /* no public name: the name */
			CHECK(strstr(t, "[sensor s2]") != NULL);
			/* attackers are not sanitized */
			CHECK(strstr(t, "45.33.32.156") != NULL);
			CHECK(strstr(t, "alpha") != NULL);
			/* the sanitizer's own scan finds nothing left */
			char *again = NULL;
			size_t nrep = 9;
			CHECK(sanitize_text(san, t, strlen(t), &again, NULL, &nrep) == 0);
			CHECK_EQ_U(nrep, 0);
			free(again);
		}
		/* totals and changes: +100% vs the day before, -50% vs the week before */
		CHECK(strstr(s.text, "+100.0%") != NULL);
		CHECK(strstr(s.text, "-50.0%") != NULL);
		CHECK(strstr(s.text, "  445    ") != NULL || strstr(s.text, " 445 ") != NULL);
		CHECK(strstr(s.text, "70.0%") != NULL);      /* TCP share of all packets */
		/* s1 (alpha): clock now OK, worst WARN; s2: no status this day */
		const char *la = strstr(s.text, "\nalpha ");
		const char *l2 = strstr(s.text, "\ns2 ");
		CHECK(la && l2);
		if (la && l2) {
			CHECK(strstr(la, "clock OK (worst WARN)") != NULL &&
			      strstr(la, "clock OK (worst WARN)") < strchr(la + 1, '\n'));
			CHECK(strstr(l2, "no status data") != NULL &&
			      strstr(l2, "no status data") < strchr(l2 + 1, '\n'));
		}
		CHECK(strstr(s.text, "New destination ports: 1") != NULL); /* UDP 53 */
		CHECK(strstr(s.text, "45.33.32.0/24") == NULL);          /* seen the day before */
		CHECK(strstr(s.text, "No incident data yet.") != NULL);
		CHECK(strstr(s.html, "<table>") != NULL && strstr(s.html, "</html>") != NULL);
		summary_free(&s);
	}
	db_close(db);
	sanitizer_free(san);
	cfg_central_free(c);
}

TEST(config_mail_and_members)
{
	static const char good[] =
		"archive /a\n"
		"mail {\n from vigia@alliance.test\n keyring gnupg\n sign-key ABCDEF\n"
		" smtp smtp://127.0.0.1:2525\n starttls required\n smtp-user u\n"
		" smtp-password-file pw\n retries 5\n timeout 2m\n top 20\n}\n"
		"member one { address cert@one.test; key 0123456789ABCDEF0123456789ABCDEF01234567 }\n"
		"member two { address csirt@two.test; key \"CSIRT Two <csirt@two.test>\" }\n";
	struct vg_err err = {0};
	struct cfg_central *c = NULL;
	CHECK(cfg_central_parse("m.conf", good, sizeof good - 1, &c, &err) == 0);
	if (!c) {
		fprintf(stderr, "%s\n", err.msg);
		return;
	}
	CHECK_STREQ(c->mail.from, "vigia@alliance.test");
	CHECK_STREQ(c->mail.keyring, "gnupg");
	CHECK_STREQ(c->mail.sign_key, "ABCDEF");
	CHECK_STREQ(c->mail.smtp, "smtp://127.0.0.1:2525");
	CHECK(c->mail.starttls == CFG_STARTTLS_REQUIRED);
	CHECK_STREQ(c->mail.smtp_user, "u");
	CHECK_EQ_U(c->mail.retries, 5);
	CHECK_EQ_U(c->mail.timeout, 120);
	CHECK_EQ_U(c->mail.top, 20);
	CHECK_EQ_U(c->nmembers, 2);
	CHECK_STREQ(c->members[1].name, "two");
	CHECK_STREQ(c->members[1].key, "CSIRT Two <csirt@two.test>");
	cfg_central_free(c);

	static const struct { const char *text, *msg; } bad[] = {
		{"archive /a\nmember one { address cert@one.test }\n", "m.conf:2: member 'one' lacks 'key'"},
		{"archive /a\nmember one { address \"a@b> x\"; key K }\n", "m.conf:2: 'address' expects"},
		{"archive /a\nmember one { address a@b; key K }\nmember one { address c@d; key K }\n",
		 "m.conf:3: member name 'one' already used on line 2"},
		{"archive /a\nmail { starttls maybe }\n", "m.conf:2: 'starttls' expects no, try or required"},
		{"archive /a\nmail { smtp http://x }\n", "m.conf:2: 'smtp' expects smtp://"},
		{"archive /a\nmail { smtp-user u }\n", "go together"},
		{"archive /a\nmail { colour blue }\n", "unknown directive 'colour' in mail"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		c = NULL;
		memset(&err, 0, sizeof err);
		int rc = cfg_central_parse("m.conf", bad[i].text, strlen(bad[i].text), &c, &err);
		CHECK(rc < 0 && c == NULL);
		if (!strstr(err.msg, bad[i].msg))
			fprintf(stderr, "case %zu: got '%s'\n", i, err.msg);
		CHECK(strstr(err.msg, bad[i].msg) != NULL);
		cfg_central_free(c);
	}
	/* defaults */
	static const char none[] = "archive /a\n";
	CHECK(cfg_central_parse("m.conf", none, sizeof none - 1, &c, &err) == 0);
	if (c) {
		CHECK(c->mail.starttls == CFG_STARTTLS_TRY);
		CHECK_EQ_U(c->mail.retries, 3);
		CHECK_EQ_U(c->mail.top, 10);
		CHECK_EQ_U(c->nmembers, 0);
		CHECK(c->mail.smtp == NULL);
		cfg_central_free(c);
	}
}

TEST(day_parsing)
{
	int64_t d;
	CHECK(summary_parse_day("2026-11-01", &d) == 0);
	CHECK_EQ_U(d, 1793491200);
	CHECK(summary_parse_day("2026-11-1", &d) < 0);
	CHECK(summary_parse_day("2026-13-01", &d) < 0);
	CHECK(summary_parse_day("yesterday", &d) < 0);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	RUN(quoted_printable_round_trips_and_keeps_lines_short);
	RUN(alternative_entity_holds_text_and_html_with_crlf);
	RUN(encrypted_envelope_follows_rfc3156);
	RUN(date_and_message_id);
	RUN(maildir_delivers_through_tmp_into_new);
	RUN(smtp_refused_connection_is_worth_retrying);
	RUN(summary_plaintext_is_sanitized_and_counts_the_database);
	RUN(config_mail_and_members);
	RUN(day_parsing);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return check_summary();
}
