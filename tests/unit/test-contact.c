/* test-contact.c: finding the abuse contact.  The parsers against the real
 * registry answers in tests/data/whois (ARIN, RIPE and LACNIC, IPv4 and
 * IPv6), then the whole lookup against local RDAP and whois servers
 * (tests/tools/registry-server.py) serving those answers. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cfg-central.h"
#include "check.h"
#include "contact-lookup.h"
#include "contact-net.h"
#include "contact-parse.h"
#include "db.h"

static char *slurp(const char *rel, size_t *len)
{
	const char *base = getenv("VIGIA_TESTDATA");
	char path[4096];
	snprintf(path, sizeof path, "%s/whois/%s", base ? base : "tests/data", rel);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(2);
	}
	char *b = malloc(1 << 20);
	*len = fread(b, 1, 1 << 20, f);
	fclose(f);
	return b;
}

static struct vg_ip ip(const char *s)
{
	struct vg_ip a;
	if (contact_parse_addr(s, strlen(s), &a)) {
		fprintf(stderr, "bad test address %s\n", s);
		exit(2);
	}
	return a;
}

static int ipcmp(const struct vg_ip *a, const char *b)
{
	struct vg_ip x = ip(b);
	return a->v == x.v && !memcmp(a->a, x.a, 16) ? 0 : 1;
}

struct fixture {
	const char *file, *whois_email, *rdap_email, *lo, *hi;
};
/* The expected abuse address of each real answer.  RIPE's whois names
 * the abuse-mailbox (protect@bt.com); its older RDAP answer carries the
 * abuse role's vCard, whose first e-mail is zzdnsr@bt.com. */
static const struct fixture fx[] = {
	{"arin_74.125.225.229", "arin-contact@google.com", "arin-contact@google.com",
	 "74.125.0.0", "74.125.255.255"},
	{"arin_2001_4860_4860__8888", "arin-contact@google.com", "arin-contact@google.com",
	 "2001:4860::", "2001:4860:ffff:ffff:ffff:ffff:ffff:ffff"},
	{"ripencc_62.239.237.1", "protect@bt.com", "zzdnsr@bt.com", "62.239.237.0",
	 "62.239.237.255"},
	{"ripencc_2a00_2381_ffff__1", "protect@bt.com", "zzdnsr@bt.com", "2a00:2381:ffff::",
	 "2a00:2381:ffff::ffff:ffff:ffff:ffff"},
	{"lacnic_200.57.141.161", "operacion.redes@TRIARA.COM", "operacion.redes@TRIARA.COM",
	 "200.57.128.0", "200.57.159.255"},
	{"lacnic_2801_10_c000__", "sistemas.red@UCO.EDU.CO", "sistemas.red@UCO.EDU.CO",
	 "2801:10:c000::", "2801:10:c000:ffff:ffff:ffff:ffff:ffff"},
};
#define NFX (sizeof fx / sizeof fx[0])

TEST(whois_answers_of_arin_ripe_lacnic_give_the_abuse_address_and_network)
{
	for (size_t i = 0; i < NFX; i++) {
		char rel[256];
		snprintf(rel, sizeof rel, "raw/%s.txt", fx[i].file);
		size_t len;
		char *t = slurp(rel, &len);
		struct contact_answer a;
		CHECK(contact_whois_parse(t, len, &a) == 1);
		CHECK_STREQ(a.email, fx[i].whois_email);
		CHECK(a.has_net);
		CHECK(ipcmp(&a.lo, fx[i].lo) == 0);
		CHECK(ipcmp(&a.hi, fx[i].hi) == 0);
		if (ipcmp(&a.lo, fx[i].lo) || ipcmp(&a.hi, fx[i].hi))
			fprintf(stderr, "  in %s\n", fx[i].file);
		free(t);
	}
}

TEST(lacnic_abbreviated_prefix_expands_with_zero_octets)
{
	struct contact_answer a;
	const char t[] = "inetnum:     200.57.128/19\nabuse-c: XY1\n\nnic-hdl: XY1\ne-mail: a@b.example\n";
	CHECK(contact_whois_parse(t, sizeof t - 1, &a) == 1);
	CHECK(ipcmp(&a.lo, "200.57.128.0") == 0);
	CHECK(ipcmp(&a.hi, "200.57.159.255") == 0);
	const char t2[] = "inetnum: 177/8\n";
	CHECK(contact_whois_parse(t2, sizeof t2 - 1, &a) == 0);
	CHECK(ipcmp(&a.lo, "177.0.0.0") == 0);
	CHECK(ipcmp(&a.hi, "177.255.255.255") == 0);
}

TEST(abuse_c_handle_is_resolved_in_its_own_object_only)
{
	/* the e-mail of another object must not be taken for the handle's */
	const char t[] = "inetnum: 10.0.0.0 - 10.0.0.255\nabuse-c: AB2\n\n"
			 "nic-hdl: ZZ9\ne-mail: wrong@example.net\n\n"
			 "person: X\nnic-hdl: AB2\ne-mail: right@example.net\n";
	struct contact_answer a;
	CHECK(contact_whois_parse(t, sizeof t - 1, &a) == 1);
	CHECK_STREQ(a.email, "right@example.net");
	const char t2[] = "abuse-c: NOPE\n\nnic-hdl: ZZ9\ne-mail: wrong@example.net\n";
	CHECK(contact_whois_parse(t2, sizeof t2 - 1, &a) == 0);
	CHECK_STREQ(a.email, "");
}

TEST(referrals_of_arin_and_iana_are_read_and_rwhois_is_not_followed)
{
	struct contact_answer a;
	const char t1[] = "ReferralServer:  whois://whois.lacnic.net\n";
	CHECK(contact_whois_parse(t1, sizeof t1 - 1, &a) == 0);
	CHECK_STREQ(a.refer_host, "whois.lacnic.net");
	CHECK_EQ_U(a.refer_port, 0);
	const char t2[] = "refer:        whois.ripe.net\n";
	contact_whois_parse(t2, sizeof t2 - 1, &a);
	CHECK_STREQ(a.refer_host, "whois.ripe.net");
	const char t3[] = "ReferralServer: whois://127.0.0.1:4343/\n";
	contact_whois_parse(t3, sizeof t3 - 1, &a);
	CHECK_STREQ(a.refer_host, "127.0.0.1");
	CHECK_EQ_U(a.refer_port, 4343);
	const char t4[] = "ReferralServer: rwhois://rwhois.example.net:4321\n";
	contact_whois_parse(t4, sizeof t4 - 1, &a);
	CHECK_STREQ(a.refer_host, "");
	const char t5[] = "refer: evil host;rm\n";
	contact_whois_parse(t5, sizeof t5 - 1, &a);
	CHECK_STREQ(a.refer_host, "");
}

TEST(rdap_answers_give_the_abuse_entity_wherever_it_is_nested)
{
	for (size_t i = 0; i < NFX; i++) {
		char rel[256];
		snprintf(rel, sizeof rel, "rdap/%s.json", fx[i].file);
		size_t len;
		char *t = slurp(rel, &len);
		struct contact_answer a;
		struct vg_err err = {0};
		CHECK(contact_rdap_parse(t, len, rel, &a, &err) == 1);
		CHECK_STREQ(a.email, fx[i].rdap_email);
		CHECK(a.has_net);
		free(t);
	}
	/* ARIN's zero-padded addresses */
	size_t len;
	char *t = slurp("rdap/arin_74.125.225.229.json", &len);
	struct contact_answer a;
	CHECK(contact_rdap_parse(t, len, "arin", &a, NULL) == 1);
	CHECK(ipcmp(&a.lo, "74.125.0.0") == 0);
	CHECK(ipcmp(&a.hi, "74.125.255.255") == 0);
	free(t);
}

TEST(rdap_without_abuse_role_or_with_hostile_values_gives_nothing)
{
	struct contact_answer a;
	const char j1[] = "{\"entities\":[{\"roles\":[\"technical\"],\"vcardArray\":[\"vcard\","
			  "[[\"email\",{},\"text\",\"tech@example.net\"]]]}]}";
	CHECK(contact_rdap_parse(j1, sizeof j1 - 1, "j1", &a, NULL) == 0);
	/* an address that would inject an SMTP command or a header is refused */
	const char j2[] = "{\"entities\":[{\"roles\":[\"abuse\"],\"vcardArray\":[\"vcard\","
			  "[[\"email\",{},\"text\",\"a@b.example>\\r\\nRCPT TO:<x@y.example\"],"
			  "[\"email\",{},\"text\",\"mailto:ok@b.example\"]]]}]}";
	CHECK(contact_rdap_parse(j2, sizeof j2 - 1, "j2", &a, NULL) == 1);
	CHECK_STREQ(a.email, "ok@b.example");
	const char j3[] = "{\"entities\":[{\"roles\":[\"abuse\"],\"vcardArray\":[\"vcard\",[[\"em";
	struct vg_err err = {0};
	CHECK(contact_rdap_parse(j3, sizeof j3 - 1, "j3.json", &a, &err) == -EINVAL);
	CHECK(strstr(err.msg, "j3.json: byte offset") != NULL);
	CHECK(contact_rdap_parse("[1]", 3, "arr", &a, NULL) == -EINVAL);
}

TEST(email_check_refuses_what_cannot_go_into_smtp)
{
	CHECK(contact_email_ok("abuse@example.org", 17));
	CHECK(!contact_email_ok("abuse@localhost", 15));
	CHECK(!contact_email_ok("a b@example.org", 15));
	CHECK(!contact_email_ok("-oX@example.org", 15));
	CHECK(!contact_email_ok("a@b@example.org", 15));
	CHECK(!contact_email_ok("a@example.org\r", 14));
}

TEST(bootstrap_gives_the_longest_prefix_base_url)
{
	const char b[] = "{\"version\":\"1.0\",\"services\":["
			 "[[\"200.0.0.0/8\",\"177.0.0.0/8\"],[\"http://lacnic.example/rdap/\",\"https://rdap.lacnic.net/rdap/\"]],"
			 "[[\"200.57.0.0/16\"],[\"https://narrow.example/\"]],"
			 "[[\"2801::/16\"],[\"https://v6.example/\"]]]}";
	char url[128];
	struct vg_ip a = ip("200.57.141.161");
	CHECK(contact_bootstrap_find(b, sizeof b - 1, "b", &a, url, sizeof url, NULL) == 1);
	CHECK_STREQ(url, "https://narrow.example/");
	a = ip("177.1.2.3");
	CHECK(contact_bootstrap_find(b, sizeof b - 1, "b", &a, url, sizeof url, NULL) == 1);
	CHECK_STREQ(url, "https://rdap.lacnic.net/rdap/");
	a = ip("2801:10:c000::");
	CHECK(contact_bootstrap_find(b, sizeof b - 1, "b", &a, url, sizeof url, NULL) == 1);
	CHECK_STREQ(url, "https://v6.example/");
	a = ip("8.8.8.8");
	CHECK(contact_bootstrap_find(b, sizeof b - 1, "b", &a, url, sizeof url, NULL) == 0);
	CHECK(contact_bootstrap_find("{}", 2, "empty", &a, url, sizeof url, NULL) == -EINVAL);
}

TEST(token_bucket_allows_the_burst_then_the_rate)
{
	struct contact_bucket b;
	contact_bucket_init(&b, 2, 2, 100.0);
	CHECK(contact_bucket_take(&b, 100.0) == 0);
	CHECK(contact_bucket_take(&b, 100.0) == 0);
	double w = contact_bucket_take(&b, 100.0);
	CHECK(w > 0.49 && w < 0.51);
	CHECK(contact_bucket_take(&b, 100.5) == 0);
	CHECK(contact_bucket_take(&b, 100.5) > 0);
	/* a long pause refills no more than the burst */
	CHECK(contact_bucket_take(&b, 200.0) == 0);
	CHECK(contact_bucket_take(&b, 200.0) == 0);
	CHECK(contact_bucket_take(&b, 200.0) > 0);
}

TEST(config_notify_block_is_read)
{
	const char t[] = "archive /tmp/a\nnational BR\nnotify {\n"
			 "  contact 200.128.0.0/16 cert@example.br key ABCDEF\n"
			 "  contact AS1916 noc@example.br\n"
			 "  whois-server 127.0.0.1:4343\n  whois-port 4344\n  rate 3\n  burst 7\n"
			 "  cache-ttl 2d\n  quiet-days 3\n  lookup whois\n}\n";
	struct cfg_central *c = NULL;
	struct vg_err err = {0};
	CHECK(cfg_central_parse("t.conf", t, sizeof t - 1, &c, &err) == 0);
	if (!c) {
		fprintf(stderr, "%s\n", err.msg);
		return;
	}
	CHECK_EQ_U(c->notify.ncontacts, 2);
	CHECK_STREQ(c->notify.contacts[0].key, "ABCDEF");
	CHECK_EQ_U(c->notify.contacts[1].asn, 1916);
	CHECK_EQ_U(c->notify.whois_port, 4344);
	CHECK_EQ_U(c->notify.cache_ttl, 2 * 86400);
	CHECK_EQ_U(c->notify.quiet_days, 3);
	CHECK(!c->notify.rdap && c->notify.whois);
	struct contact_result r;
	struct vg_ip a = ip("200.128.7.1");
	CHECK(contact_alliance(&c->notify, &a, 0, &r) == 1);
	CHECK_STREQ(r.email, "cert@example.br");
	CHECK_STREQ(r.key, "ABCDEF");
	a = ip("192.0.2.1");
	CHECK(contact_alliance(&c->notify, &a, 1916, &r) == 1);
	CHECK_STREQ(r.email, "noc@example.br");
	CHECK(contact_alliance(&c->notify, &a, 0, &r) == 0);
	cfg_central_free(c);
	const char bad[] = "archive /tmp/a\nnotify {\n  contact 10.0.0.0/8 not-an-address\n}\n";
	CHECK(cfg_central_parse("bad.conf", bad, sizeof bad - 1, &c, &err) == -EINVAL);
	CHECK(strstr(err.msg, "bad.conf:3:") != NULL);
}

/* --- against local servers ---------------------------------------------------- */

static pid_t srv_pid;
static int srv_stdin = -1;
static unsigned port_rdap, port_refer, port_whois;
static char logpath[256];

static int start_servers(void)
{
	const char *src = getenv("VIGIA_SRCDIR"), *data = getenv("VIGIA_TESTDATA");
	char script[4096], dpath[4096];
	snprintf(script, sizeof script, "%s/tests/tools/registry-server.py", src ? src : ".");
	snprintf(dpath, sizeof dpath, "%s/whois", data ? data : "tests/data");
	snprintf(logpath, sizeof logpath, "/tmp/vigia-test-contact-%d.log", (int)getpid());
	int in[2], out[2];
	if (pipe(in) || pipe(out))
		return -1;
	srv_pid = fork();
	if (srv_pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execlp("python3", "python3", script, dpath, logpath, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	srv_stdin = in[1];
	FILE *f = fdopen(out[0], "r");
	int n = fscanf(f, "%u %u %u", &port_rdap, &port_refer, &port_whois);
	fclose(f);
	return n == 3 ? 0 : -1;
}

static void stop_servers(void)
{
	if (srv_stdin >= 0)
		close(srv_stdin);
	if (srv_pid > 0)
		waitpid(srv_pid, NULL, 0);
	unlink(logpath);
}

static unsigned log_lines(void)
{
	FILE *f = fopen(logpath, "r");
	unsigned n = 0;
	int ch;
	if (!f)
		return 0;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

static const char *fixture_ip[NFX] = {
	"74.125.225.229", "2001:4860:4860::8888", "62.239.237.1", "2a00:2381:ffff::1",
	"200.57.141.161", "2801:10:c000::",
};

static void base_cfg(struct cfg_notify *n, char *rdap, size_t rl, char *whois, size_t wl)
{
	memset(n, 0, sizeof *n);
	snprintf(rdap, rl, "http://127.0.0.1:%u/rdap/", port_rdap);
	snprintf(whois, wl, "127.0.0.1:%u", port_refer);
	n->rdap_server = rdap;
	n->whois_server = whois;
	n->whois_port = (uint16_t)port_whois;
	n->rdap = n->whois = true;
	n->timeout = 5;
	n->rate = 1000;
	n->burst = 1000;
}

TEST(rdap_lookup_against_local_server_finds_each_registrys_abuse_address)
{
	struct cfg_notify n;
	char rdap[128], whois[64];
	base_cfg(&n, rdap, sizeof rdap, whois, sizeof whois);
	n.whois = false;
	struct contact_ctx *c = NULL;
	struct vg_err err = {0};
	CHECK(contact_ctx_new(&n, NULL, &c, &err) == 0);
	for (size_t i = 0; i < NFX; i++) {
		struct vg_ip a = ip(fixture_ip[i]);
		struct contact_result r;
		CHECK(contact_lookup(c, &a, 0, 1000, &r, &err) == 0);
		CHECK_STREQ(r.email, fx[i].rdap_email);
		CHECK_STREQ(r.via, "rdap");
	}
	CHECK_EQ_U(contact_queries(c), NFX);
	/* unknown to the registry: 404, and nothing else enabled */
	struct vg_ip a = ip("192.0.2.1");
	struct contact_result r;
	vg_err_clear(&err);
	CHECK(contact_lookup(c, &a, 0, 1000, &r, &err) == 0);
	CHECK_STREQ(r.via, "none");
	CHECK(strstr(err.msg, "404") != NULL);
	contact_ctx_free(c);
	/* a redirecting server (like ARIN's for other registries' space) */
	snprintf(rdap, sizeof rdap, "http://127.0.0.1:%u/moved/", port_rdap);
	CHECK(contact_ctx_new(&n, NULL, &c, &err) == 0);
	a = ip("200.57.141.161");
	CHECK(contact_lookup(c, &a, 0, 1000, &r, &err) == 0);
	CHECK_STREQ(r.email, "operacion.redes@TRIARA.COM");
	contact_ctx_free(c);
}

TEST(rdap_base_url_comes_from_the_bootstrap_file_when_given)
{
	char path[] = "/tmp/vigia-test-bootstrap-XXXXXX";
	int fd = mkstemp(path);
	char body[512];
	int n = snprintf(body, sizeof body,
			 "{\"services\":[[[\"200.0.0.0/8\"],[\"http://127.0.0.1:%u/rdap/\"]],"
			 "[[\"2801::/16\"],[\"http://127.0.0.1:%u/moved/\"]]]}", port_rdap, port_rdap);
	CHECK(write(fd, body, (size_t)n) == n);
	close(fd);
	struct cfg_notify nt;
	char rdap[128], whois[64];
	base_cfg(&nt, rdap, sizeof rdap, whois, sizeof whois);
	/* the fallback server is dead: only the bootstrap's URLs can answer */
	snprintf(rdap, sizeof rdap, "http://127.0.0.1:1/");
	nt.whois = false;
	char *files[1] = {path};
	nt.bootstrap = files;
	nt.nbootstrap = 1;
	struct contact_ctx *c = NULL;
	struct vg_err err = {0};
	CHECK(contact_ctx_new(&nt, NULL, &c, &err) == 0);
	struct vg_ip a = ip("200.57.141.161"), b = ip("2801:10:c000::"), x = ip("62.239.237.1");
	struct contact_result r;
	CHECK(contact_lookup(c, &a, 0, 1000, &r, &err) == 0);
	CHECK_STREQ(r.email, "operacion.redes@TRIARA.COM");
	CHECK(contact_lookup(c, &b, 0, 1000, &r, &err) == 0);
	CHECK_STREQ(r.email, "sistemas.red@UCO.EDU.CO");
	/* not in the bootstrap: the (dead) fallback is tried, nobody is found */
	CHECK(contact_lookup(c, &x, 0, 1000, &r, &err) == 0);
	CHECK_STREQ(r.via, "none");
	contact_ctx_free(c);
	/* a broken bootstrap file is reported when the context is made */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(write(fd, "{\"services\": [", 14) == 14);
	close(fd);
	vg_err_clear(&err);
	CHECK(contact_ctx_new(&nt, NULL, &c, &err) == -EINVAL);
	CHECK(strstr(err.msg, path) != NULL);
	unlink(path);
}

TEST(whois_lookup_follows_iana_and_arin_referrals_to_the_registry)
{
	struct cfg_notify n;
	char rdap[128], whois[64];
	base_cfg(&n, rdap, sizeof rdap, whois, sizeof whois);
	n.rdap = false;
	struct contact_ctx *c = NULL;
	struct vg_err err = {0};
	CHECK(contact_ctx_new(&n, NULL, &c, &err) == 0);
	unsigned before = log_lines();
	for (size_t i = 0; i < NFX; i++) {
		struct vg_ip a = ip(fixture_ip[i]);
		struct contact_result r;
		vg_err_clear(&err);
		CHECK(contact_lookup(c, &a, 0, 1000, &r, &err) == 0);
		CHECK_STREQ(r.email, fx[i].whois_email);
		CHECK_STREQ(r.via, "whois");
		char want[64];
		snprintf(want, sizeof want, "127.0.0.1:%u", port_whois);
		CHECK_STREQ(r.server, want);
		if (!r.email[0])
			fprintf(stderr, "  %s: %s\n", fixture_ip[i], err.msg);
	}
	/* two queries each: the referring server, then the registry */
	CHECK_EQ_U(contact_queries(c), 2 * NFX);
	CHECK_EQ_U(log_lines() - before, 2 * NFX);
	contact_ctx_free(c);
}

TEST(answers_are_cached_for_their_network_and_expire)
{
	char dbp[] = "/tmp/vigia-test-contact-db-XXXXXX";
	int fd = mkstemp(dbp);
	close(fd);
	unlink(dbp);
	struct db *db = NULL;
	struct vg_err err = {0};
	CHECK(db_open(&db, dbp, &err) == 0);
	if (!db)
		return;
	struct cfg_notify n;
	char rdap[128], whois[64];
	base_cfg(&n, rdap, sizeof rdap, whois, sizeof whois);
	n.cache_ttl = 3600;
	struct contact_ctx *c = NULL;
	CHECK(contact_ctx_new(&n, db, &c, &err) == 0);
	struct vg_ip a = ip("74.125.225.229"), b = ip("74.125.1.2"), out = ip("74.126.0.1");
	struct contact_result r;
	CHECK(contact_lookup(c, &a, 0, 1000, &r, &err) == 0);
	CHECK_STREQ(r.via, "rdap");
	/* another address of the network ARIN named (74.125.0.0/16) */
	CHECK(contact_lookup(c, &b, 0, 2000, &r, &err) == 0);
	CHECK_STREQ(r.via, "cache");
	CHECK_STREQ(r.email, "arin-contact@google.com");
	CHECK_EQ_U(contact_queries(c), 1);
	/* outside it: a query (unknown to the server, so nobody) */
	CHECK(contact_lookup(c, &out, 0, 2000, &r, &err) == 0);
	CHECK(contact_queries(c) > 1);
	unsigned q = contact_queries(c);
	/* after the TTL the registry is asked again */
	CHECK(contact_lookup(c, &b, 0, 1000 + 3600, &r, &err) == 0);
	CHECK(contact_queries(c) > q);
	/* the alliance table comes before the cache and the registries */
	struct cfg_contact ct = {.address = "cert@alliance.example", .line = 1};
	cidr_parse("74.125.0.0/16", &ct.net, NULL);
	n.contacts = &ct;
	n.ncontacts = 1;
	q = contact_queries(c);
	CHECK(contact_lookup(c, &a, 0, 1000, &r, &err) == 0);
	CHECK_STREQ(r.via, "alliance");
	CHECK_STREQ(r.email, "cert@alliance.example");
	CHECK_EQ_U(contact_queries(c), q);
	contact_ctx_free(c);
	db_close(db);
	unlink(dbp);
	char side[300];
	snprintf(side, sizeof side, "%s-wal", dbp);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", dbp);
	unlink(side);
}

TEST(rate_limit_spaces_queries_to_one_server)
{
	struct cfg_notify n;
	char rdap[128], whois[64];
	base_cfg(&n, rdap, sizeof rdap, whois, sizeof whois);
	n.whois = false;
	n.rate = 4;
	n.burst = 1;
	struct contact_ctx *c = NULL;
	struct vg_err err = {0};
	CHECK(contact_ctx_new(&n, NULL, &c, &err) == 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 3; i++) {
		struct vg_ip a = ip("62.239.237.1");
		struct contact_result r;
		contact_lookup(c, &a, 0, 1000, &r, &err);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double el = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* burst 1, then 4 per second: the 2nd and 3rd wait 0.25 s each */
	CHECK(el >= 0.45);
	contact_ctx_free(c);
}

TEST(whois_client_bounds_the_answer_size_and_time)
{
	char *out = NULL;
	size_t len = 0;
	struct vg_err err = {0};
	/* the LACNIC answer is ~1.5 kB: a 100-byte limit refuses it */
	CHECK(contact_whois_query("127.0.0.1", (uint16_t)port_whois, "200.57.141.161", 5000, 100,
				  &out, &len, &err) == -EFBIG);
	CHECK(out == NULL);
	CHECK(contact_whois_query("127.0.0.1", (uint16_t)port_whois, "x\r\nPWNED", 5000, 1000,
				  &out, &len, &err) == -EINVAL);
	CHECK(contact_whois_query("127.0.0.1", (uint16_t)port_whois, "200.57.141.161", 5000,
				  CONTACT_ANSWER_MAX, &out, &len, &err) == 0);
	CHECK(out && strstr(out, "operacion.redes@TRIARA.COM"));
	free(out);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(whois_answers_of_arin_ripe_lacnic_give_the_abuse_address_and_network);
	RUN(lacnic_abbreviated_prefix_expands_with_zero_octets);
	RUN(abuse_c_handle_is_resolved_in_its_own_object_only);
	RUN(referrals_of_arin_and_iana_are_read_and_rwhois_is_not_followed);
	RUN(rdap_answers_give_the_abuse_entity_wherever_it_is_nested);
	RUN(rdap_without_abuse_role_or_with_hostile_values_gives_nothing);
	RUN(email_check_refuses_what_cannot_go_into_smtp);
	RUN(bootstrap_gives_the_longest_prefix_base_url);
	RUN(token_bucket_allows_the_burst_then_the_rate);
	RUN(config_notify_block_is_read);
	if (start_servers() < 0) {
		fprintf(stderr, "cannot start tests/tools/registry-server.py\n");
		stop_servers();
		return 1;
	}
	RUN(rdap_lookup_against_local_server_finds_each_registrys_abuse_address);
	RUN(rdap_base_url_comes_from_the_bootstrap_file_when_given);
	RUN(whois_lookup_follows_iana_and_arin_referrals_to_the_registry);
	RUN(answers_are_cached_for_their_network_and_expire);
	RUN(rate_limit_spaces_queries_to_one_server);
	RUN(whois_client_bounds_the_answer_size_and_time);
	stop_servers();
	return check_summary();
}
