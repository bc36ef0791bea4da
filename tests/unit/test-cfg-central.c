/* test-cfg-central.c: the central configuration file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg-central.h"
#include "check.h"

static const char full[] =
	"# the alliance\n"
	"archive /var/lib/vigia/archive\n"
	"database /var/lib/vigia/vigia.db\n"
	"parallel 8\n"
	"connect-timeout 15s\n"
	"national br pt\n"
	"status {\n"
	"  disk-warn 70%\n"
	"  disk-crit 90%; clock-warn 250ms; clock-crit 1.5s\n"
	"  stall-warn 5m\n"
	"  stall-crit 2h\n"
	"  ntp-unsync crit\n"
	"}\n"
	"sensor unb-1 {\n"
	"  id 1\n"
	"  institution \"Universidade de Bras\xc3\xadlia \\\"UnB\\\"\"   # quoted, with escapes\n"
	"  city \"Bras\xc3\xadlia\"\n"
	"  host 198.51.100.7\n"
	"  port 2222\n"
	"  identity /etc/vigia/keys/collect_ed25519\n"
	"  host-key \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\"\n"
	"  network 192.0.2.0/24 2001:db8::/32\n"
	"  network 203.0.113.0/25\n"
	"  retention 12h\n"
	"}\n"
	"sensor cert.rn { id 7; host sensor.example.org; identity keys/id;"
	" known-hosts known_hosts; network 198.51.100.128/25 }\n";

static struct cfg_central *parse(const char *text, struct vg_err *err)
{
	struct cfg_central *c = NULL;
	vg_err_clear(err);
	if (cfg_central_parse("t.conf", text, strlen(text), &c, err) < 0)
		return NULL;
	return c;
}

TEST(full_example_parses_every_field)
{
	struct vg_err err;
	struct cfg_central *c = parse(full, &err);
	CHECK(c != NULL);
	if (!c) {
		fprintf(stderr, "%s\n", err.msg);
		return;
	}
	CHECK_STREQ(c->archive, "/var/lib/vigia/archive");
	CHECK_STREQ(c->database, "/var/lib/vigia/vigia.db");
	CHECK_EQ_U(c->parallel, 8);
	CHECK_EQ_U(c->connect_timeout, 15);
	CHECK_EQ_U(c->nnational, 2);
	CHECK_STREQ(c->national[0], "BR");
	CHECK_STREQ(c->national[1], "PT");
	CHECK(c->status.disk_warn_pct == 70 && c->status.disk_crit_pct == 90);
	CHECK(c->status.clock_warn_s == 0.25 && c->status.clock_crit_s == 1.5);
	CHECK_EQ_U(c->status.stall_warn_s, 300);
	CHECK_EQ_U(c->status.stall_crit_s, 7200);
	CHECK(c->status.ntp_unsync_crit);
	CHECK_EQ_U(c->status.rtt_warn_ms, 2000);   /* default kept */
	CHECK_EQ_U(c->nsensors, 2);
	const struct cfg_sensor *s = cfg_central_sensor(c, "unb-1");
	CHECK(s != NULL);
	if (s) {
		CHECK_EQ_U(s->id, 1);
		CHECK_STREQ(s->institution, "Universidade de Bras\xc3\xadlia \"UnB\"");
		CHECK_STREQ(s->city, "Bras\xc3\xadlia");
		CHECK_STREQ(s->host, "198.51.100.7");
		CHECK_EQ_U(s->port, 2222);
		CHECK_STREQ(s->user, "vigia");
		CHECK_STREQ(s->spool, "/var/spool/vigia");
		CHECK(s->host_key && !strncmp(s->host_key, "ssh-ed25519 AAAA", 16));
		CHECK(s->known_hosts == NULL);
		CHECK_EQ_U(s->networks.n, 3);
		CHECK_EQ_U(s->retention_seconds, 12 * 3600);
		CHECK_EQ_U(s->line, 14);
	}
	const struct cfg_sensor *t = cfg_central_sensor_by_id(c, 7);
	CHECK(t != NULL && !strcmp(t->name, "cert.rn"));
	if (t) {
		/* cfg_central_parse has no file, so relative paths stay relative */
		CHECK_STREQ(t->identity, "keys/id");
		CHECK_STREQ(t->known_hosts, "known_hosts");
		CHECK_EQ_U(t->port, 22);
	}
	CHECK(cfg_central_sensor(c, "nope") == NULL);
	struct cidr_set all;
	CHECK(cfg_central_honeynets(c, &all) == 0);
	CHECK_EQ_U(all.n, 4);
	cidr_set_free(&all);
	cfg_central_free(c);
}

TEST(defaults_apply_when_omitted)
{
	struct vg_err err;
	struct cfg_central *c = parse("archive /a\n", &err);
	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_STREQ(c->database, "/a/vigia.db");
	CHECK_EQ_U(c->parallel, 4);
	CHECK_EQ_U(c->connect_timeout, 10);
	CHECK_STREQ(c->ssh_program, "ssh");
	CHECK_STREQ(c->rsync_program, "rsync");
	CHECK_EQ_U(c->nsensors, 0);
	cfg_central_free(c);
}

/* Every error names the file and the line and says what was expected. */
struct bad {
	const char *text;
	const char *want;   /* substring of the message */
};

TEST(errors_name_file_line_and_expectation)
{
	static const char S[] = "archive /a\nsensor s {\n id 1\n host h\n identity /k\n"
		" host-key \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVz\"\n";
	char buf[4][512];
	snprintf(buf[0], sizeof buf[0], "%s network 192.0.2.0/24\n}\n"
		"sensor s {\n id 2\n host h\n identity /k\n known-hosts /kh\n network 10.0.0.0/8\n}\n", S);
	snprintf(buf[1], sizeof buf[1], "%s network 192.0.2.0/24\n}\n"
		"sensor t {\n id 1\n host h\n identity /k\n known-hosts /kh\n network 10.0.0.0/8\n}\n", S);
	snprintf(buf[2], sizeof buf[2], "%s network 192.0.2.1/24\n}\n", S);
	snprintf(buf[3], sizeof buf[3], "%s network 192.0.2.0/24\n known-hosts /x\n}\n", S);
	const struct bad cases[] = {
		{"parallel x\n", "t.conf:1: 'parallel' expects an integer from 1 to 256, got 'x'"},
		{"archive /a\nbogus 1\n", "t.conf:2: unknown directive 'bogus'"},
		{"archive /a\n\n\ncity \"unterminated\n", "t.conf:4: expected a closing '\"'"},
		{"archive /a\nsensor s {\n id 1\n", "t.conf:4: expected '}' to close the block opened on line 2"},
		{"}\n", "t.conf:1: expected a directive, got '}'"},
		{"parallel 4\n", "t.conf: expected an 'archive DIRECTORY' directive"},
		{"archive /a\nstatus {\n clock-warn 3 parsecs\n}\n", "t.conf:3: 'clock-warn' expects one duration, got 2 words"},
		{"archive /a\nstatus {\n clock-warn 3x\n}\n", "t.conf:3: 'clock-warn' expects a duration"},
		{"archive /a\nstatus {\n disk-warn 96%\n}\n", "t.conf:2: expected disk-warn to be at most disk-crit"},
		{"archive /a\nstatus {\n disk-crit 101%\n}\n", "t.conf:3: 'disk-crit' expects a percentage"},
		{"archive /a\nnational BRA\n", "t.conf:2: 'national' expects ISO 3166"},
		{"archive /a\nsensor -oProxyCommand=x {\n}\n", "t.conf:2: expected a sensor name"},
		{"archive /a\nsensor s {\n id 1\n}\n", "t.conf:2: sensor 's' lacks 'host'"},
		{"archive /a\nsensor s {\n id 1\n host -oProxyCommand=evil\n}\n", "t.conf:4: 'host' expects a host name"},
		{"archive /a\nsensor s {\n id 1\n host h\n identity /k\n network 10.0.0.0/8\n}\n",
			"t.conf:2: sensor 's' needs exactly one of 'host-key' and 'known-hosts'"},
		{"archive /a\nsensor s {\n host-key \"ssh-dss AAAAB3NzaC1kc3MAAACBAP\"\n}\n", "t.conf:3: 'host-key' expects a public key"},
		{"archive /a\nsensor s {\n port 65536\n}\n", "t.conf:3: 'port' expects an integer from 1 to 65535"},
		{"archive /a\nsensor s {\n colour blue\n}\n", "t.conf:3: unknown directive 'colour' in sensor 's'"},
		{buf[0], "t.conf:9: sensor name 's' already used on line 2"},
		{buf[1], "t.conf:9: sensor id 1 already used by 's' on line 2"},
		{buf[2], "t.conf:7: 'network' expects a network such as 192.0.2.0/24"},
		{buf[3], "t.conf:2: sensor 's' needs exactly one of"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct vg_err err;
		struct cfg_central *c = parse(cases[i].text, &err);
		CHECK(c == NULL);
		cfg_central_free(c);
		if (!strstr(err.msg, cases[i].want)) {
			fprintf(stderr, "case %zu: got \"%s\", want \"%s\"\n", i, err.msg, cases[i].want);
			CHECK(strstr(err.msg, cases[i].want) != NULL);
		}
		CHECK(err.code < 0);
	}
}

TEST(relative_paths_are_taken_from_the_config_directory)
{
	char dir[] = "/tmp/test-cfg-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char path[128];
	snprintf(path, sizeof path, "%s/vigia.conf", dir);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs("archive archive\nsensor a { id 3; host 127.0.0.1; identity keys/a; "
		"known-hosts /etc/kh; network 192.0.2.0/24 }\n", f);
	fclose(f);
	struct cfg_central *c = NULL;
	struct vg_err err = {0};
	CHECK(cfg_central_load(path, &c, &err) == 0);
	if (c) {
		char want[160];
		snprintf(want, sizeof want, "%s/archive", dir);
		CHECK_STREQ(c->archive, want);
		snprintf(want, sizeof want, "%s/keys/a", dir);
		CHECK_STREQ(c->sensors[0].identity, want);
		CHECK_STREQ(c->sensors[0].known_hosts, "/etc/kh");
		CHECK_STREQ(c->path, path);
	}
	cfg_central_free(c);
	unlink(path);
	rmdir(dir);

	c = NULL;
	CHECK(cfg_central_load("/nonexistent/vigia.conf", &c, &err) < 0);
	CHECK(c == NULL);
	CHECK(strstr(err.msg, "/nonexistent/vigia.conf") != NULL);
}

TEST(config_path_precedence)
{
	setenv("VIGIA_CONFIG", "/env/vigia.conf", 1);
	CHECK_STREQ(cfg_central_path("/opt.conf"), "/opt.conf");
	CHECK_STREQ(cfg_central_path(NULL), "/env/vigia.conf");
	unsetenv("VIGIA_CONFIG");
	CHECK_STREQ(cfg_central_path(NULL), CFG_CENTRAL_DEFAULT_PATH);
}

int main(void)
{
	RUN(full_example_parses_every_field);
	RUN(defaults_apply_when_omitted);
	RUN(errors_name_file_line_and_expectation);
	RUN(relative_paths_are_taken_from_the_config_directory);
	RUN(config_path_precedence);
	return check_summary();
}
