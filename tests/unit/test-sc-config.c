/* test-sc-config: the honeyd.conf subset, against Honeyd's own sample
 * configurations and hand-written error cases. */
#include "check.h"
#include "sc-config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct vg_ip ip(const char *s)
{
	struct vg_ip a = { 0 };
	if (inet_pton(AF_INET, s, a.a) == 1)
		a.v = 4;
	else if (inet_pton(AF_INET6, s, a.a) == 1)
		a.v = 6;
	return a;
}

/* Diagnostics collected from sc_config_load_diag. */
struct diags {
	char msg[64][512];
	int n;
};

static void collect(void *ctx, const char *m)
{
	struct diags *d = ctx;
	if (d->n < 64)
		snprintf(d->msg[d->n], sizeof d->msg[0], "%s", m);
	d->n++;
}

static int count_containing(const struct diags *d, const char *needle)
{
	int k = 0;
	for (int i = 0; i < d->n && i < 64; i++)
		k += strstr(d->msg[i], needle) != NULL;
	return k;
}

static struct sc_config *load_str(const char *text, struct vg_err *err)
{
	struct sc_config *c = NULL;
	int rc = sc_config_load_buf(&c, "test.conf", text, strlen(text), err);
	if (rc < 0)
		return NULL;
	return c;
}

/* The single error message a one-statement config produces. */
static const char *error_of(const char *text)
{
	static struct vg_err err;
	memset(&err, 0, sizeof err);
	struct sc_config *c = load_str(text, &err);
	if (c) {
		sc_config_free(c);
		return "(loaded)";
	}
	return err.msg;
}

TEST(honeyd_config_sample_loads_with_its_templates)
{
	struct sc_config *c = NULL;
	struct vg_err err = { 0 };
	int rc = sc_config_load(&c, test_data("honeyd/config.sample"), &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	CHECK_EQ_I(rc, 0);
	if (!c)
		return;
	CHECK_EQ_U(c->ntmpls, 2);
	CHECK(c->default_tmpl >= 0);
	const struct sc_template *def = &c->tmpls[c->default_tmpl];
	CHECK_STREQ(def->name, "default");
	CHECK(!def->implicit);
	CHECK_EQ_I(def->def_tcp, SC_BLOCK);   /* "filtered" */
	CHECK_EQ_I(def->def_udp, SC_BLOCK);
	CHECK_EQ_I(def->def_icmp, SC_BLOCK);

	/* bound address -> its template, even before any network is claimed */
	const struct vg_ip a = ip("192.168.3.137"), other = ip("192.168.3.138");
	const struct sc_template *w = sc_lookup(c, &a);
	CHECK(w != NULL);
	if (!w)
		goto out;
	CHECK_STREQ(w->name, "windows");
	CHECK_STREQ(w->personality, "OpenBSD 4.0 (x86)");
	CHECK_EQ_U(w->uptime, 1728650);
	CHECK_EQ_I(w->def_tcp, SC_CLOSED);
	CHECK(w->has_mac);
	CHECK_EQ_U(w->mac[0], 0x00);   /* "dell" -> Dell's OUI 00:14:22 */
	CHECK_EQ_U(w->mac[1], 0x14);
	CHECK_EQ_U(w->mac[2], 0x22);

	const struct sc_port *r = NULL;
	CHECK_EQ_I(sc_port_action(w, 6, 80, &r), SC_SCRIPT);
	CHECK(r && r->arg && !strcmp(r->arg, "scripts/web.sh"));
	CHECK_EQ_I(sc_port_action(w, 6, 23, &r), SC_SCRIPT);
	CHECK(r && !strcmp(r->arg, "scripts/router-telnet.pl"));
	CHECK_EQ_I(sc_port_action(w, 17, 53, &r), SC_OPEN);
	CHECK_EQ_I(sc_port_action(w, 6, 81, &r), SC_CLOSED);
	CHECK(r == NULL);
	CHECK_EQ_I(sc_port_action(w, 17, 54, &r), SC_CLOSED);   /* template default */
	CHECK_EQ_I(sc_port_action(w, 1, 0, &r), SC_OPEN);

	/* unbound: not ours until claimed, then the default template */
	CHECK(sc_lookup(c, &other) == NULL);
	CHECK_EQ_I(sc_config_claim(c, "192.168.3.0/24", &err), 0);
	CHECK(sc_lookup(c, &other) == def);
	const struct vg_ip outside = ip("192.168.4.1");
	CHECK(sc_lookup(c, &outside) == NULL);
out:
	sc_config_free(c);
}

TEST(honeyd_config_ethernet_loads_with_vendor_mac)
{
	struct sc_config *c = NULL;
	struct vg_err err = { 0 };
	CHECK_EQ_I(sc_config_load(&c, test_data("honeyd/config.ethernet"), &err), 0);
	if (!c)
		return;
	const struct vg_ip a = ip("192.168.1.125");
	const struct sc_template *t = sc_lookup(c, &a);
	CHECK(t && !strcmp(t->name, "template"));
	CHECK(t && t->has_mac && t->mac[0] == 0x00 && t->mac[1] == 0x01 && t->mac[2] == 0x02);
	CHECK(t && !(t->mac[0] & 1));
	sc_config_free(c);
}

TEST(honeyd_routed_network_sample_is_refused_per_statement)
{
	struct diags d = { .n = 0 };
	struct sc_config *c = NULL;
	struct vg_err err = { 0 };
	const char *path = test_data("honeyd/sample-config_honeyd.conf.networks");
	int rc = sc_config_load_diag(&c, path, collect, &d, &err);
	CHECK_EQ_I(rc, -EINVAL);
	CHECK(c == NULL);
	/* 10 uncommented route lines and one "bind ... to eth0", nothing else */
	CHECK_EQ_I(d.n, 11);
	CHECK_EQ_I(count_containing(&d, "'route' is not supported by vigia-sensord (Honeyd's "
				       "virtual routing topology); remove it"), 10);
	CHECK_EQ_I(count_containing(&d, "'bind ADDRESS to INTERFACE' is not supported"), 1);
	char where[600];
	snprintf(where, sizeof where, "%s:46: 'route'", path);
	CHECK(strstr(d.msg[0], where) == d.msg[0]);
	snprintf(where, sizeof where, "%s:107: 'bind", path);
	CHECK_EQ_I(count_containing(&d, where), 1);
	CHECK(strstr(err.msg, "(and 10 more errors)") != NULL);

	/* without the refused lines, the rest of the file is supported */
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	static char buf[16384];
	size_t len = 0;
	char line[512];
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "route ", 6) && strncmp(line, "bind 10.1.1.53 to", 17))
			len += (size_t)snprintf(buf + len, sizeof buf - len, "%s", line);
	fclose(f);
	CHECK_EQ_I(sc_config_load_buf(&c, "networks-without-routes", buf, len, &err), 0);
	if (!c)
		return;
	const struct vg_ip r = ip("172.20.254.1");
	const struct sc_template *t = sc_lookup(c, &r);
	CHECK(t && !strcmp(t->name, "router") && t->uptime == 1327650);
	CHECK(c->tmpls[c->default_tmpl].implicit);
	sc_config_free(c);
}

TEST(honeyd_bloat_sample_is_refused_only_for_its_dynamic_template)
{
	struct diags d = { .n = 0 };
	struct sc_config *c = NULL;
	struct vg_err err = { 0 };
	const char *path = test_data("honeyd/sample-config_honeyd.conf.bloat");
	CHECK_EQ_I(sc_config_load_diag(&c, path, collect, &d, &err), -EINVAL);
	/* "dynamic magichost" and its four "add magichost use/otherwise" lines;
	 * the binds to magichost are not reported again */
	CHECK_EQ_I(d.n, 5);
	CHECK_EQ_I(count_containing(&d, ":176: 'dynamic' is not supported"), 1);
	CHECK_EQ_I(count_containing(&d, "'add TEMPLATE use ... if' is not supported"), 4);

	/* Everything before the dynamic template is supported and loads. */
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	static char buf[16384];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *cut = strstr(buf, "### Dynamic honeypot");
	CHECK(cut != NULL);
	if (!cut)
		return;
	CHECK_EQ_I(sc_config_load_buf(&c, "bloat-head", buf, (size_t)(cut - buf), &err), 0);
	if (!c)
		return;
	CHECK_EQ_U(c->ntmpls, 8);
	const struct vg_ip relay = ip("192.168.1.120"), win = ip("192.168.1.130"),
			   suse = ip("192.168.1.135"), sticky = ip("192.168.1.110");
	const struct sc_template *t = sc_lookup(c, &relay);
	const struct sc_port *r;
	/* "port 111\"perl ...\"": the quote right after the number */
	CHECK(t && sc_port_action(t, 6, 111, &r) == SC_SCRIPT && r &&
	      !strncmp(r->arg, "perl scripts/unix/general/rpc/bportmapd --proto tcp", 51));
	t = sc_lookup(c, &win);
	CHECK(t && t->droprate_in == 13.0 && t->def_icmp == SC_BLOCK);
	/* Honeyd relayed "proxy $ipsrc:445"; vigia emulates and never relays */
	CHECK(t && sc_port_action(t, 6, 445, &r) == SC_PROXY && r && !strcmp(r->arg, "$ipsrc:445"));
	t = sc_lookup(c, &suse);
	CHECK(t && sc_port_action(t, 17, 53, &r) == SC_PROXY && !strcmp(r->arg, "24.35.0.12:53"));
	CHECK(t && t->def_udp == SC_BLOCK && t->uptime == 79239);
	t = sc_lookup(c, &sticky);
	CHECK(t && t->def_tcp == SC_OPEN);   /* "tarpit open" */
	const struct vg_ip rtr = ip("192.168.1.254");
	t = sc_lookup(c, &rtr);
	CHECK(t && t->has_uid && t->uid == 32767 && t->gid == 32767);
	sc_config_free(c);
}

TEST(errors_name_file_line_and_what_was_expected)
{
	CHECK_STREQ(error_of("create w\n\n# comment\nadd w tcp port 80 opn\n"),
		    "test.conf:4: expected 'open', 'closed', 'block', 'reset', a quoted script or "
		    "a service name after 'port 80', got 'opn'");
	CHECK_STREQ(error_of("add nosuch tcp port 80 open\n"),
		    "test.conf:1: 'add' names template 'nosuch', which no 'create' before this "
		    "line defines");
	CHECK_STREQ(error_of("bind 10.0.0.1 nosuch\n"),
		    "test.conf:1: 'bind' names template 'nosuch', which no 'create' before this "
		    "line defines");
	CHECK_STREQ(error_of("create w\nset w personality \"Linux\n"),
		    "test.conf:2: the quoted string starting at column 19 is not closed");
	CHECK_STREQ(error_of("create w\nadd w tcp port 70000 open\n"),
		    "test.conf:2: expected a port number 0-65535 after 'add w tcp port', got '70000'");
	CHECK_STREQ(error_of("create w\nadd w icmp port 1 open\n"),
		    "test.conf:2: expected 'tcp' or 'udp' after 'add w', got 'icmp'");
	CHECK_STREQ(error_of("create w\nset w default tcp action maybe\n"),
		    "test.conf:2: expected 'open', 'closed', 'block', 'reset' or 'filtered' after "
		    "'default tcp action', got 'maybe'");
	CHECK(strstr(error_of("create w\nset w ethernet \"acme\"\n"),
		     "test.conf:2: expected an ethernet address") != NULL);
	CHECK(strstr(error_of("create w\nset w ethernet \"01:00:5e:00:00:01\"\n"),
		     "multicast") != NULL);
	CHECK_STREQ(error_of("create w\nbind 10.0.0.1 w\nbind 10.0.0.1 w\n"),
		    "test.conf:3: address 10.0.0.1 is bound twice (first at test.conf:2)");
	CHECK_STREQ(error_of("frobnicate\n"),
		    "test.conf:1: unknown statement 'frobnicate'; expected create, set, add, bind, "
		    "clone, include or vigia");
	CHECK_STREQ(error_of("annotate \"AIX 4.0 - 4.2\" fragment old\n"),
		    "test.conf:1: 'annotate' is not supported by vigia-sensord (first-generation "
		    "nmap fingerprint annotations; personalities come from nmap-os-db); remove it");
	CHECK(strstr(error_of("set 10.3.1.11 personality \"Microsoft Windows NT 4.0 SP3\"\n"),
		     "test.conf:1: 'set 10.3.1.11 personality' is not supported") != NULL);
	CHECK(strstr(error_of("create w\nadd w subsystem \"/usr/sbin/httpd\"\n"),
		     "test.conf:2: 'subsystem' is not supported") != NULL);
	CHECK(strstr(error_of("create w\ndelete w\n"), "'delete' is not supported") != NULL);
	CHECK(strstr(error_of("dhcp w on eth0\n"), "'dhcp' is not supported") != NULL);
	CHECK(strstr(error_of("create w\nadd w tcp port 80 internal \"x.py\"\n"),
		     "'internal' is not supported") != NULL);
	CHECK(strstr(error_of("create w\ncreate w\n"), "test.conf:2: template 'w' is created twice")
	      != NULL);
	CHECK(strstr(error_of("vigia rotate often\n"),
		     "test.conf:1: expected a positive duration") != NULL);
	CHECK(strstr(error_of("vigia network 10.0.0.1/8\n"), "host bits") != NULL);
	CHECK(strstr(error_of("vigia colour blue\n"), "unknown setting 'vigia colour'") != NULL);
	CHECK(strstr(error_of("create w\nset w ethernet \"00:14:22:01:02\"\n"),
		     "expected an ethernet address") != NULL);
	CHECK(strstr(error_of("create w\nset w ethernet \"00:14-22:01:02:03\"\n"),
		     "expected an ethernet address") != NULL);
	CHECK_STREQ(error_of("create w\nset w ethernet \"00-14-22-0A-bC-03\"\n"), "(loaded)");
	CHECK_STREQ(error_of("create w\nadd w tcp port 8080 proxy somewhere\n"),
		    "test.conf:2: expected HOST:PORT after 'proxy', got 'somewhere'");
	CHECK_STREQ(error_of("create w\nadd w tcp port 80 open extra\n"),
		    "test.conf:2: unexpected 'extra' after the action of 'port 80'");
}

TEST(missing_default_template_is_synthesized_answering_every_protocol)
{
	struct vg_err err = { 0 };
	struct sc_config *c = load_str("create w\nbind 10.0.0.5 w\nvigia network 10.0.0.0/24\n", &err);
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK(c->default_tmpl >= 0);
	const struct vg_ip a = ip("10.0.0.9");
	const struct sc_template *d = sc_lookup(c, &a);
	CHECK(d != NULL);
	CHECK(d && d->implicit);
	CHECK(d && !strcmp(d->name, "default"));
	CHECK(d && d->def_tcp == SC_CLOSED && d->def_udp == SC_CLOSED && d->def_icmp == SC_OPEN);
	sc_config_free(c);
}

TEST(services_proxy_scripts_and_escapes)
{
	struct vg_err err = { 0 };
	struct sc_config *c = load_str(
		"create w # a comment after a statement\n"
		"add w tcp port 80 http-iis\n"
		"add w tcp port 1433 mssql\n"
		"add w udp port 1434 mssql-resolver\n"
		"add w tcp port 3128 proxy\n"
		"add w tcp port 8080 proxy 10.1.1.1:8080\n"
		"add w tcp port 25 \"sh -c \\\"echo \\\\x\\\" # not a comment\"\n"
		"add w tcp port 26 \"keep \\d as is\"\n"
		"add w tcp port 22 reset\n"
		"add w tcp port 22 block\n"  /* the later rule wins */
		"add w udp port 0 closed\n"
		"bind 2001:db8::10 w\n", &err);
	if (!c)
		fprintf(stderr, "%s\n", err.msg);
	CHECK(c != NULL);
	if (!c)
		return;
	const struct vg_ip a = ip("2001:db8::10");
	const struct sc_template *t = sc_lookup(c, &a);
	CHECK(t != NULL);
	if (!t)
		goto out;
	const struct sc_port *r;
	CHECK_EQ_I(sc_port_action(t, 6, 80, &r), SC_SERVICE);
	CHECK(r && !strcmp(r->arg, "http-iis"));
	CHECK_EQ_I(sc_port_action(t, 17, 1434, &r), SC_SERVICE);
	CHECK(r && !strcmp(r->arg, "mssql-resolver"));
	CHECK_EQ_I(sc_port_action(t, 6, 1434, &r), SC_CLOSED);
	CHECK_EQ_I(sc_port_action(t, 6, 3128, &r), SC_PROXY);
	CHECK(r && r->arg == NULL);
	CHECK_EQ_I(sc_port_action(t, 6, 8080, &r), SC_PROXY);
	CHECK(r && r->arg && !strcmp(r->arg, "10.1.1.1:8080"));
	CHECK_EQ_I(sc_port_action(t, 6, 25, &r), SC_SCRIPT);
	CHECK(r && !strcmp(r->arg, "sh -c \"echo \\x\" # not a comment"));
	CHECK_EQ_I(sc_port_action(t, 6, 26, &r), SC_SCRIPT);
	CHECK(r && !strcmp(r->arg, "keep \\d as is"));
	CHECK_EQ_I(sc_port_action(t, 6, 22, &r), SC_BLOCK);
	CHECK_EQ_I(sc_port_action(t, 17, 0, &r), SC_CLOSED);
	CHECK(r != NULL);
	/* ports sorted by (proto, port), one rule each */
	for (size_t i = 1; i < t->nports; i++)
		CHECK(t->ports[i - 1].proto < t->ports[i].proto ||
		      (t->ports[i - 1].proto == t->ports[i].proto &&
		       t->ports[i - 1].port < t->ports[i].port));
	CHECK_EQ_U(t->nports, 9);
	for (size_t i = 0; sc_service_names[i]; i++) {
		char text[128];
		snprintf(text, sizeof text, "create s\nadd s tcp port 1 %s\n", sc_service_names[i]);
		CHECK_STREQ(error_of(text), "(loaded)");
	}
out:
	sc_config_free(c);
}

TEST(clone_copies_a_template_independently)
{
	struct vg_err err = { 0 };
	struct sc_config *c = load_str("create a\nset a personality \"X\"\nadd a tcp port 21 ftp\n"
				       "clone b a\nadd b tcp port 22 ssh\nset b personality \"Y\"\n"
				       "bind 10.0.0.1 a\nbind 10.0.0.2 b\n", &err);
	CHECK(c != NULL);
	if (!c)
		return;
	const struct vg_ip ia = ip("10.0.0.1"), ib = ip("10.0.0.2");
	const struct sc_template *a = sc_lookup(c, &ia), *b = sc_lookup(c, &ib);
	CHECK(a && b && a != b);
	if (a && b) {
		CHECK_STREQ(a->personality, "X");
		CHECK_STREQ(b->personality, "Y");
		CHECK_EQ_I(sc_port_action(b, 6, 21, NULL), SC_SERVICE);
		CHECK_EQ_I(sc_port_action(b, 6, 22, NULL), SC_SERVICE);
		CHECK_EQ_I(sc_port_action(a, 6, 22, NULL), SC_CLOSED);
	}
	sc_config_free(c);
}

TEST(vigia_settings_have_defaults_and_parse)
{
	struct vg_err err = { 0 };
	struct sc_config *c = load_str("", &err);
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_STREQ(c->spool_dir, "/var/spool/vigia");
	CHECK_EQ_U(c->rotate_seconds, 3600);
	CHECK_EQ_U(c->retention_seconds, 86400);
	CHECK_EQ_U(c->max_connections, 4096);
	CHECK_EQ_U(c->max_pps_out, 100000);
	CHECK_EQ_U(c->max_pps_per_source, 1000);
	CHECK_EQ_U(c->status_interval, 5);
	CHECK_EQ_U(c->script_cpu_seconds, 5);
	CHECK_EQ_U(c->script_mem_mb, 64);
	CHECK_EQ_U(c->script_wall_seconds, 60);
	CHECK(c->interface == NULL && c->user == NULL && c->conn_log == NULL);
	CHECK_EQ_U(c->networks.n, 0);
	sc_config_free(c);

	c = NULL;
	const char *text = "vigia interface eth1\nvigia network 192.0.2.0/24\n"
			   "vigia network 2001:db8:1::/48\nvigia spool /srv/spool\n"
			   "vigia user vigia\nvigia connection-log logs/honeyd.log\n"
			   "vigia service-log /var/log/svc.log\nvigia rotate 30m\n"
			   "vigia retention 2d\nvigia max-connections 100\nvigia max-pps 5000\n"
			   "vigia max-pps-per-source 10\nvigia script-cpu 2\n"
			   "vigia script-memory 1G\nvigia script-time 90s\n"
			   "vigia status-interval 1h\n";
	CHECK_EQ_I(sc_config_load_buf(&c, "/etc/vigia/sensor.conf", text, strlen(text), &err), 0);
	if (!c)
		return;
	CHECK_STREQ(c->interface, "eth1");
	CHECK_EQ_U(c->networks.n, 2);
	CHECK_STREQ(c->spool_dir, "/srv/spool");
	CHECK_STREQ(c->user, "vigia");
	CHECK_STREQ(c->conn_log, "/etc/vigia/logs/honeyd.log");   /* relative to the file */
	CHECK_STREQ(c->service_log, "/var/log/svc.log");
	CHECK_EQ_U(c->rotate_seconds, 1800);
	CHECK_EQ_U(c->retention_seconds, 172800);
	CHECK_EQ_U(c->max_connections, 100);
	CHECK_EQ_U(c->max_pps_out, 5000);
	CHECK_EQ_U(c->max_pps_per_source, 10);
	CHECK_EQ_U(c->script_cpu_seconds, 2);
	CHECK_EQ_U(c->script_mem_mb, 1024);
	CHECK_EQ_U(c->script_wall_seconds, 90);
	CHECK_EQ_U(c->status_interval, 3600);
	const struct vg_ip in = ip("192.0.2.77"), in6 = ip("2001:db8:1::5"), out = ip("192.0.3.1");
	CHECK(sc_lookup(c, &in) != NULL);
	CHECK(sc_lookup(c, &in6) != NULL);
	CHECK(sc_lookup(c, &out) == NULL);
	sc_config_free(c);
}

static char tmpdir[256];

static void write_file(const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

TEST(include_is_relative_to_the_including_file_and_bounded)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test-sc-config-XXXXXX");
	CHECK(mkdtemp(tmpdir) != NULL);
	char sub[300];
	snprintf(sub, sizeof sub, "%s/sub", tmpdir);
	mkdir(sub, 0700);
	write_file("main.conf", "include sub/templates.conf\nbind 10.0.0.1 w\n");
	write_file("sub/templates.conf", "create w\nadd w tcp port 23 telnet\ninclude vigia.conf\n");
	write_file("sub/vigia.conf", "vigia spool spool\nvigia network 10.0.0.0/30\n");
	write_file("loop.conf", "include loop.conf\n");
	write_file("bad.conf", "create w\ninclude sub/broken.conf\n");
	write_file("sub/broken.conf", "\n\nadd w tcp port 1 opn\n");

	char path[512];
	struct sc_config *c = NULL;
	struct vg_err err = { 0 };
	snprintf(path, sizeof path, "%s/main.conf", tmpdir);
	int rc = sc_config_load(&c, path, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	CHECK_EQ_I(rc, 0);
	if (c) {
		char want[512];
		snprintf(want, sizeof want, "%s/sub/spool", tmpdir);
		CHECK_STREQ(c->spool_dir, want);
		const struct vg_ip a = ip("10.0.0.1"), b = ip("10.0.0.2");
		const struct sc_template *t = sc_lookup(c, &a);
		CHECK(t && sc_port_action(t, 6, 23, NULL) == SC_SERVICE);
		CHECK(sc_lookup(c, &b) == &c->tmpls[c->default_tmpl]);
		sc_config_free(c);
	}

	snprintf(path, sizeof path, "%s/loop.conf", tmpdir);
	CHECK(sc_config_load(&c, path, &err) < 0);
	CHECK(strstr(err.msg, "includes nest deeper than 8") != NULL);

	/* an error inside an included file names that file and its line */
	snprintf(path, sizeof path, "%s/bad.conf", tmpdir);
	CHECK(sc_config_load(&c, path, &err) < 0);
	char want[600];
	snprintf(want, sizeof want, "%s/sub/broken.conf:3: expected 'open'", tmpdir);
	CHECK(strstr(err.msg, want) == err.msg);

	snprintf(path, sizeof path, "%s/none.conf", tmpdir);
	CHECK(sc_config_load(&c, path, &err) == -ENOENT);
	CHECK(strstr(err.msg, "none.conf") != NULL);

	const char *names[] = { "main.conf", "loop.conf", "bad.conf", "sub/templates.conf",
				"sub/vigia.conf", "sub/broken.conf" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	rmdir(sub);
	rmdir(tmpdir);
}

TEST(a_slash16_of_binds_loads_and_looks_up_fast)
{
	size_t cap = 65536 * 32 + 64, len = 0;
	char *text = malloc(cap);
	CHECK(text != NULL);
	if (!text)
		return;
	len += (size_t)snprintf(text + len, cap - len, "create a\ncreate b\n");
	/* written in descending order so sorting is exercised */
	for (int i = 65535; i >= 0; i--)
		len += (size_t)snprintf(text + len, cap - len, "bind 10.%d.%d.%d %s\n", 1,
					i >> 8, i & 255, (i & 1) ? "a" : "b");
	struct sc_config *c = NULL;
	struct vg_err err = { 0 };
	struct timespec t0, t1, t2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ_I(sc_config_load_buf(&c, "big.conf", text, len, &err), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	free(text);
	if (!c)
		return;
	CHECK_EQ_U(c->nbinds, 65536);
	unsigned wrong = 0;
	for (int rep = 0; rep < 16; rep++)
		for (int i = 0; i < 65536; i++) {
			struct vg_ip a = { .v = 4, .a = { 10, 1, (uint8_t)(i >> 8), (uint8_t)i } };
			const struct sc_template *t = sc_lookup(c, &a);
			if (!t || strcmp(t->name, (i & 1) ? "a" : "b"))
				wrong++;
		}
	clock_gettime(CLOCK_MONOTONIC, &t2);
	CHECK_EQ_U(wrong, 0);
	double load_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	double look_ns = ((double)(t2.tv_sec - t1.tv_sec) * 1e9 + (double)(t2.tv_nsec - t1.tv_nsec)) /
			 (16.0 * 65536);
	printf("     65536 binds: load %.1f ms, lookup %.0f ns\n", load_ms, look_ns);
	sc_config_free(c);
}

int main(void)
{
	RUN(honeyd_config_sample_loads_with_its_templates);
	RUN(honeyd_config_ethernet_loads_with_vendor_mac);
	RUN(honeyd_routed_network_sample_is_refused_per_statement);
	RUN(honeyd_bloat_sample_is_refused_only_for_its_dynamic_template);
	RUN(errors_name_file_line_and_what_was_expected);
	RUN(missing_default_template_is_synthesized_answering_every_protocol);
	RUN(services_proxy_scripts_and_escapes);
	RUN(clone_copies_a_template_independently);
	RUN(vigia_settings_have_defaults_and_parse);
	RUN(include_is_relative_to_the_including_file_and_bounded);
	RUN(a_slash16_of_binds_loads_and_looks_up_fast);
	return check_summary();
}
