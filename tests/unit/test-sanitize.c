/* test-sanitize.c: honeypot and sensor addresses never leave as written. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg-central.h"
#include "check.h"
#include "sanitize.h"

#define HK "host-key \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\""

static const char conf[] =
	"archive /a\n"
	"sensor s1 { id 3; public-name \"unb\"; host 198.18.0.7; identity k; " HK ";"
	" network 192.0.2.0/25 192.0.2.128/26 2001:db8:1::/48 }\n"
	"sensor s2 { id 9; host sensor2.example.org; identity k; " HK "; network 203.0.113.0/24 }\n";

static struct cfg_central *cfg;
static struct sanitizer *san;

static char *clean(const char *in, size_t *nrep)
{
	char *out = NULL;
	if (sanitize_text(san, in, strlen(in), &out, NULL, nrep) != 0)
		return NULL;
	return out;
}

static struct vg_ip ip(const char *s)
{
	struct vg_ip v = {0};
	if (inet_pton(AF_INET, s, v.a) == 1)
		v.v = 4;
	else if (inet_pton(AF_INET6, s, v.a) == 1)
		v.v = 6;
	return v;
}

TEST(token_is_sensor_id_and_host_index_across_networks)
{
	char buf[SANITIZE_TOKEN_MAX];
	struct vg_ip a = ip("192.0.2.17");
	CHECK_EQ_U(sanitize_ip(san, &a, buf, sizeof buf), 1);
	CHECK_STREQ(buf, "hp-3.17");
	/* second network of the sensor: its index continues after the /25 */
	a = ip("192.0.2.130");
	CHECK_EQ_U(sanitize_ip(san, &a, buf, sizeof buf), 1);
	CHECK_STREQ(buf, "hp-3.130");
	/* third network (IPv6) starts after 128 + 64 addresses */
	a = ip("2001:db8:1::5");
	CHECK_EQ_U(sanitize_ip(san, &a, buf, sizeof buf), 1);
	CHECK_STREQ(buf, "hp-3.197");
	a = ip("203.0.113.255");
	CHECK_EQ_U(sanitize_ip(san, &a, buf, sizeof buf), 1);
	CHECK_STREQ(buf, "hp-9.255");
}

TEST(tokens_are_stable_between_calls_and_sanitizers)
{
	struct sanitizer *other = NULL;
	CHECK(sanitizer_new(cfg, &other, NULL) == 0);
	char a[SANITIZE_TOKEN_MAX], b[SANITIZE_TOKEN_MAX];
	struct vg_ip x = ip("203.0.113.42");
	sanitize_ip(san, &x, a, sizeof a);
	sanitize_ip(other, &x, b, sizeof b);
	CHECK_STREQ(a, b);
	CHECK_STREQ(a, "hp-9.42");
	sanitizer_free(other);
}

TEST(attackers_pass_unchanged)
{
	char buf[SANITIZE_TOKEN_MAX];
	struct vg_ip a = ip("8.8.8.8");
	CHECK_EQ_U(sanitize_ip(san, &a, buf, sizeof buf), 0);
	CHECK_STREQ(buf, "8.8.8.8");
	CHECK(!sanitize_is_secret(san, &a));
	/* just outside the /25 + /26: 192.0.2.192 is nobody's */
	a = ip("192.0.2.192");
	CHECK(!sanitize_is_secret(san, &a));
	size_t n = 99;
	char *o = clean("source 8.8.8.8 hit port 445 1234 times at 12:30:01", &n);
	CHECK(o && !strcmp(o, "source 8.8.8.8 hit port 445 1234 times at 12:30:01"));
	CHECK_EQ_U(n, 0);
	free(o);
}

TEST(sensor_addresses_and_names_become_public_names)
{
	char buf[SANITIZE_TOKEN_MAX];
	struct vg_ip a = ip("198.18.0.7");
	CHECK_EQ_U(sanitize_ip(san, &a, buf, sizeof buf), 1);
	CHECK_STREQ(buf, "[sensor unb]");
	char *o = clean("ssh to SENSOR2.example.org failed; 198.18.0.7 ok", NULL);
	CHECK(o && !strcmp(o, "ssh to [sensor s2] failed; [sensor unb] ok"));
	free(o);
	/* a longer name that merely contains the host name is not it */
	o = clean("xsensor2.example.org.evil", NULL);
	CHECK(o && strstr(o, "xsensor2.example.org"));
	free(o);
}

/* Every textual form of 192.0.2.17 (0xC0000211 = 3221226001). */
TEST(every_textual_form_of_a_honeypot_address_is_replaced)
{
	static const char *const forms[] = {
		"192.0.2.17", "192.000.002.017",
		"3221226001", "0xC0000211", "0xc0000211", "c0000211", "C0000211",
		"192.0.529" /* a.b.c */, "192.529" /* a.b */,
		"0300.0.02.021" /* octal */, "0xc0.0x0.0x2.0x11",
		"::ffff:192.0.2.17", "::FFFF:c000:211", "0:0:0:0:0:ffff:c000:0211",
		"::192.0.2.17", "64:ff9b::192.0.2.17", "2002:c000:211::1",
		"[192.0.2.17]", "192.0.2.17:445", "192.0.2.17.", "(192.0.2.17)",
		"2001:db8:1::5", "2001:0db8:0001:0000:0000:0000:0000:0005", "[2001:db8:1:0::5]:22",
	};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		char in[128];
		snprintf(in, sizeof in, "seen %s today", forms[i]);
		size_t n = 0;
		char *o = clean(in, &n);
		CHECK(o != NULL);
		if (!o)
			continue;
		if (n != 1 || strstr(o, forms[i]))
			fprintf(stderr, "form %s -> %s\n", forms[i], o);
		CHECK_EQ_U(n, 1);
		CHECK(strstr(o, forms[i]) == NULL);
		CHECK(strstr(o, "hp-3.") != NULL);
		CHECK(strncmp(o, "seen ", 5) == 0 && strstr(o, " today"));
		free(o);
	}
}

TEST(text_with_many_addresses_keeps_the_rest_intact)
{
	const char *in = "<td>203.0.113.9</td><td>1.2.3.4</td>\n203.0.113.0/24, 10 packets";
	size_t n = 0;
	char *o = clean(in, &n);
	CHECK(o && !strcmp(o, "<td>hp-9.9</td><td>1.2.3.4</td>\nhp-9.0/24, 10 packets"));
	CHECK_EQ_U(n, 2);
	free(o);
}

TEST(ports_and_punctuation_around_an_address_stay)
{
	static const struct { const char *in, *out; } cases[] = {
		{"to 192.0.2.17:445.", "to hp-3.17:445."},
		{"at 192.0.2.17.", "at hp-3.17."},
		{"[2001:db8:1:0::5]:22", "[hp-3.197]:22"},
		{"...192.0.2.130...", "...hp-3.130..."},
		{"08:36:44 192.0.2.1:80->8.8.8.8:53", "08:36:44 hp-3.1:80->8.8.8.8:53"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *o = clean(cases[i].in, NULL);
		if (!o || strcmp(o, cases[i].out))
			fprintf(stderr, "'%s' -> '%s'\n", cases[i].in, o ? o : "(null)");
		CHECK(o && !strcmp(o, cases[i].out));
		free(o);
	}
}

TEST(empty_and_binary_input)
{
	char *o = NULL;
	size_t len = 5;
	CHECK(sanitize_text(san, "", 0, &o, &len, NULL) == 0);
	CHECK(o && len == 0 && o[0] == '\0');
	free(o);
	const char bin[] = {'1', '9', '2', '.', '0', '.', '2', '.', '1', '7', '\0', 'x'};
	CHECK(sanitize_text(san, bin, sizeof bin, &o, &len, NULL) == 0);
	CHECK(o && len == strlen("hp-3.17") + 2 && !memcmp(o, "hp-3.17\0x", len));
	free(o);
	struct vg_ip none = {0};
	char buf[SANITIZE_TOKEN_MAX];
	CHECK(sanitize_ip(san, &none, buf, sizeof buf) < 0);
}

TEST(networks_holding_a_honeypot_or_sensor_are_secret)
{
	struct cidr c;
	CHECK(cidr_parse("192.0.2.0/24", &c, NULL) == 0);
	CHECK(sanitize_net_is_secret(san, &c));
	CHECK(cidr_parse("192.0.0.0/16", &c, NULL) == 0);
	CHECK(sanitize_net_is_secret(san, &c));
	CHECK(cidr_parse("192.0.2.192/26", &c, NULL) == 0); /* beside both s1 networks */
	CHECK(!sanitize_net_is_secret(san, &c));
	CHECK(cidr_parse("198.18.0.0/24", &c, NULL) == 0);  /* s1's own address */
	CHECK(sanitize_net_is_secret(san, &c));
	CHECK(cidr_parse("198.19.0.0/24", &c, NULL) == 0);
	CHECK(!sanitize_net_is_secret(san, &c));
	CHECK(cidr_parse("2001:db8::/32", &c, NULL) == 0);
	CHECK(sanitize_net_is_secret(san, &c));
	CHECK(cidr_parse("2001:db8:2::/48", &c, NULL) == 0);
	CHECK(!sanitize_net_is_secret(san, &c));
}

int main(void)
{
	struct vg_err err = {0};
	if (cfg_central_parse("test.conf", conf, sizeof conf - 1, &cfg, &err) != 0 ||
	    sanitizer_new(cfg, &san, &err) != 0) {
		fprintf(stderr, "set-up: %s\n", err.msg);
		return 1;
	}
	RUN(token_is_sensor_id_and_host_index_across_networks);
	RUN(tokens_are_stable_between_calls_and_sanitizers);
	RUN(attackers_pass_unchanged);
	RUN(sensor_addresses_and_names_become_public_names);
	RUN(every_textual_form_of_a_honeypot_address_is_replaced);
	RUN(text_with_many_addresses_keeps_the_rest_intact);
	RUN(ports_and_punctuation_around_an_address_stay);
	RUN(empty_and_binary_input);
	RUN(networks_holding_a_honeypot_or_sensor_are_secret);
	sanitizer_free(san);
	cfg_central_free(cfg);
	return check_summary();
}
