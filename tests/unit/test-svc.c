/* test-svc.c: the built-in services driven through a fake svc_io.
 *
 * Each dialogue checks the bytes sent back and the facts recorded; every
 * dialogue is also replayed one byte per call and must give the same
 * bytes, records and close. */
#include "check.h"
#include "svc.h"

#include <errno.h>

struct fake {
	struct svc_io io;
	uint8_t out[65536];
	size_t outlen, call_out;
	char rec[16384];
	size_t reclen;
	int closed, overflow, records;
	size_t longest_value;
};

static int fake_send(struct svc_io *io, const void *buf, size_t len)
{
	struct fake *f = io->ctx;
	if (f->call_out + len > SVC_MAX_REPLY || f->outlen + len > sizeof f->out) {
		f->overflow = 1;
		return -ENOSPC;
	}
	memcpy(f->out + f->outlen, buf, len);
	f->outlen += len;
	f->call_out += len;
	return 0;
}

static void fake_close(struct svc_io *io)
{
	((struct fake *)io->ctx)->closed++;
}

static void fake_record(struct svc_io *io, const char *key, const char *value)
{
	struct fake *f = io->ctx;
	int n = snprintf(f->rec + f->reclen, sizeof f->rec - f->reclen, "%s=%s\n", key, value);
	if (n > 0 && f->reclen + (size_t)n < sizeof f->rec)
		f->reclen += (size_t)n;
	if (strlen(value) > f->longest_value)
		f->longest_value = strlen(value);
	f->records++;
}

static const struct vg_ip peer = { 4, { 198, 51, 100, 7 } };
static const struct vg_ip honeypot = { 4, { 192, 0, 2, 10 } };

static void fake_init(struct fake *f, uint8_t proto, uint16_t dport, const char *pers)
{
	memset(f, 0, sizeof *f);
	f->io.send = fake_send;
	f->io.close = fake_close;
	f->io.record = fake_record;
	f->io.ctx = f;
	f->io.src = &peer;
	f->io.dst = &honeypot;
	f->io.sport = 40000;
	f->io.dport = dport;
	f->io.proto = proto;
	f->io.now_ns = 1700000000ull * 1000000000ull;
	f->io.personality = pers;
}

/* A TCP connection: open, then the input in chunks of `chunk` bytes (0:
 * each part in one call), then close. */
static void tcp_run(struct fake *f, const struct svc_def *d, uint16_t dport, const char *pers,
		    const void *const *parts, const size_t *lens, size_t nparts, size_t chunk)
{
	void *st = calloc(1, d->state_size ? d->state_size : 1);

	fake_init(f, 6, dport, pers);
	d->open(st, &f->io);
	for (size_t p = 0; p < nparts; p++) {
		const uint8_t *b = parts[p];
		size_t step = chunk ? chunk : lens[p];
		for (size_t off = 0; off < lens[p]; off += step) {
			size_t n = lens[p] - off < step ? lens[p] - off : step;
			f->call_out = 0;
			d->input(st, &f->io, b + off, n);
		}
	}
	d->close(st, &f->io);
	free(st);
}

/* Input given as one string (may hold NULs: pass its length). */
static void tcp_str(struct fake *f, const struct svc_def *d, uint16_t dport, const char *pers,
		    const void *s, size_t len, size_t chunk)
{
	const void *parts[1] = { s };
	size_t lens[1] = { len };
	tcp_run(f, d, dport, pers, parts, lens, 1, chunk);
}

#define TCP(f, name, port, pers, lit) tcp_str(f, svc_find(name), port, pers, lit, sizeof(lit) - 1, 0)

static int out_has(const struct fake *f, const char *s)
{
	return memmem(f->out, f->outlen, s, strlen(s)) != NULL;
}

static int rec_has(const struct fake *f, const char *s)
{
	return strstr(f->rec, s) != NULL;
}

static void udp_one(struct fake *f, const char *name, uint16_t port, const char *pers,
		    const void *buf, size_t len)
{
	const struct svc_def *d = svc_find(name);
	fake_init(f, 17, port, pers);
	d->input(NULL, &f->io, buf, len);
}

static struct fake F, G;

TEST(registry_names_ports_and_members)
{
	CHECK(svc_find("ftp") && !strcmp(svc_find("ftp")->name, "ftp"));
	CHECK(svc_find("no-such-service") == NULL);
	CHECK(svc_find(NULL) == NULL);
	CHECK_STREQ(svc_for_port(6, 21)->name, "ftp");
	CHECK_STREQ(svc_for_port(6, 22)->name, "ssh");
	CHECK_STREQ(svc_for_port(6, 23)->name, "telnet");
	CHECK_STREQ(svc_for_port(6, 2323)->name, "telnet");
	CHECK_STREQ(svc_for_port(6, 25)->name, "smtp");
	CHECK_STREQ(svc_for_port(6, 80)->name, "http-iis");
	CHECK_STREQ(svc_for_port(6, 110)->name, "pop3");
	CHECK_STREQ(svc_for_port(6, 143)->name, "imap");
	CHECK_STREQ(svc_for_port(6, 139)->name, "smb");
	CHECK_STREQ(svc_for_port(6, 445)->name, "smb");
	CHECK_STREQ(svc_for_port(6, 1433)->name, "mssql");
	CHECK_STREQ(svc_for_port(6, 1080)->name, "proxy");
	CHECK_STREQ(svc_for_port(6, 3128)->name, "proxy");
	CHECK_STREQ(svc_for_port(6, 8080)->name, "proxy");
	CHECK_STREQ(svc_for_port(17, 137)->name, "netbios-ns");
	CHECK_STREQ(svc_for_port(17, 1434)->name, "mssql-resolver");
	CHECK(svc_for_port(6, 1434) == NULL);
	CHECK(svc_for_port(17, 21) == NULL);
	CHECK(svc_for_port(6, 31337) == NULL);
	int n = 0;
	for (int i = 0; svc_all[i]; i++, n++) {
		const struct svc_def *d = svc_all[i];
		CHECK(d->input && d->close && d->open);
		CHECK(d->proto == 6 || d->proto == 17);
		CHECK(svc_find(d->name) == d);
		if (d->proto == 17)
			CHECK_EQ_U(d->state_size, 0);
		else
			CHECK(d->state_size > 0);
		CHECK_EQ_U(!!(d->flags & SVC_F_AMPLIFIES), d->proto == 17);
	}
	CHECK_EQ_I(n, 14);
}

TEST(ftp_records_user_and_pass_and_refuses_login)
{
	TCP(&F, "ftp", 21, NULL, "USER root\r\nPASS toor\r\nSYST\r\nXYZZY\r\nQUIT\r\n");
	CHECK(F.outlen > 20 && !memcmp(F.out, "220 (vsFTPd 2.3.4)\r\n", 20));
	CHECK(out_has(&F, "331 Please specify the password.\r\n"));
	CHECK(out_has(&F, "530 Login incorrect.\r\n"));
	CHECK(out_has(&F, "215 UNIX Type: L8\r\n"));
	CHECK(out_has(&F, "500 Unknown command.\r\n"));
	CHECK(out_has(&F, "221 Goodbye.\r\n"));
	CHECK_STREQ(F.rec, "user=root\npass=toor\ncommand=XYZZY\n");
	CHECK_EQ_I(F.closed, 1);
}

TEST(ftp_closes_after_three_failed_logins)
{
	TCP(&F, "ftp", 21, NULL,
	    "USER a\r\nPASS 1\r\nUSER b\r\nPASS 2\r\nUSER c\r\nPASS 3\r\nUSER d\r\nPASS 4\r\n");
	CHECK_STREQ(F.rec, "user=a\npass=1\nuser=b\npass=2\nuser=c\npass=3\n");
	CHECK_EQ_I(F.closed, 1);
	TCP(&F, "ftp", 21, NULL, "PASS nouser\r\n");
	CHECK(out_has(&F, "503 Login with USER first.\r\n"));
	CHECK_STREQ(F.rec, "");
}

TEST(telnet_strips_iac_and_records_two_logins)
{
	static const char in[] =
		"\xff\xfb\x18\xff\xfb\x1f\xff\xfa\x18\x00xterm\xff\xf0"   /* WILL TTYPE, SB */
		"\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0"                   /* NAWS 80x24 */
		"ro\xff\xf1ot\r\n"                                       /* NOP inside */
		"s3cr\xff\xfd\x01" "et\r\0"                              /* DO ECHO inside */
		"admin\n"
		"adm\x7f\x7f" "dmin\r\n";                                /* two DELs */
	TCP(&F, "telnet", 23, "Linux 2.6.18", in);
	CHECK(F.outlen >= 12 && !memcmp(F.out, "\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27", 12));
	CHECK(out_has(&F, "Debian GNU/Linux 5.0\r\n"));
	CHECK(out_has(&F, " login: "));
	CHECK(out_has(&F, "Password: "));
	CHECK_STREQ(F.rec, "user=root\npass=s3cret\nuser=admin\npass=admin\n");
	CHECK(memmem(F.out, F.outlen, "Login incorrect", 15) != NULL);
	CHECK_EQ_I(F.closed, 0);
}

TEST(telnet_closes_after_three_tries_and_cisco_prompt)
{
	TCP(&F, "telnet", 23, NULL, "a\r\nb\r\nc\r\nd\r\ne\r\nf\r\ng\r\nh\r\n");
	CHECK_STREQ(F.rec, "user=a\npass=b\nuser=c\npass=d\nuser=e\npass=f\n");
	CHECK_EQ_I(F.closed, 1);
	TCP(&F, "telnet", 23, "Cisco 2600 router (IOS 12.0)", "cisco\r\ncisco\r\n");
	CHECK(!memcmp(F.out, "\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18\xff\xfd\x1f", 12));
	CHECK(out_has(&F, "User Access Verification\r\n\r\nUsername: "));
	CHECK(out_has(&F, "% Login invalid"));
	CHECK_STREQ(F.rec, "user=cisco\npass=cisco\n");
}

TEST(http_iis_serves_default_page_with_server_header)
{
	TCP(&F, "http-iis", 80, NULL,
	    "GET / HTTP/1.1\r\nHost: 192.0.2.10\r\nUser-Agent: Mozilla/4.0 (compatible)\r\n\r\n");
	CHECK(F.outlen > 17 && !memcmp(F.out, "HTTP/1.1 200 OK\r\n", 17));
	CHECK(out_has(&F, "\r\nServer: Microsoft-IIS/6.0\r\n"));
	CHECK(out_has(&F, "<title id=\"titletext\">Under Construction</title>"));
	CHECK(out_has(&F, "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n"));
	CHECK_STREQ(F.rec, "request=GET / HTTP/1.1\nuser-agent=Mozilla/4.0 (compatible)\n");
	CHECK_EQ_I(F.closed, 1);
	/* Content-Length is the body's real length */
	const char *cl = memmem(F.out, F.outlen, "Content-Length: ", 16);
	const char *body = memmem(F.out, F.outlen, "\r\n\r\n", 4);
	CHECK(cl && body);
	if (cl && body)
		CHECK_EQ_U(strtoul(cl + 16, NULL, 10), F.outlen - (size_t)((const uint8_t *)body + 4 - F.out));
	TCP(&F, "http-iis", 80, "Microsoft Windows XP SP2", "HEAD / HTTP/1.0\r\n\r\n");
	CHECK(out_has(&F, "Server: Microsoft-IIS/5.1\r\n"));
	CHECK(!out_has(&F, "Under Construction"));
}

TEST(http_iis_missing_path_connect_and_bad_verb)
{
	TCP(&F, "http-iis", 80, NULL, "GET /scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir HTTP/1.0\r\n\r\n");
	CHECK(!memcmp(F.out, "HTTP/1.1 404 Not Found\r\n", 24));
	CHECK(out_has(&F, "Server: Microsoft-IIS/6.0\r\n"));
	CHECK(rec_has(&F, "request=GET /scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir HTTP/1.0\n"));
	TCP(&F, "http-iis", 80, NULL, "CONNECT 10.0.0.1:25 HTTP/1.0\r\n\r\n");
	CHECK(!memcmp(F.out, "HTTP/1.1 400 Bad Request\r\n", 26));
	CHECK(out_has(&F, "<h1>Bad Request (Invalid URL)</h1>"));
	TCP(&F, "http-iis", 80, NULL, "\x16\x03\x01\x00\x05hello\r\n\r\n");
	CHECK(out_has(&F, "<h1>Bad Request (Invalid Verb)</h1>"));
	TCP(&F, "http-iis", 80, NULL, "GET http://www.example.com/ HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
	CHECK(!memcmp(F.out, "HTTP/1.1 200 OK\r\n", 17));   /* an absolute URI is a local path to IIS */
	/* A POST body is read (up to a bound) before the answer, its start recorded */
	TCP(&F, "http-iis", 80, NULL, "POST /x.asp HTTP/1.1\r\nContent-Length: 5\r\n\r\nab\x01" "cd");
	CHECK(rec_has(&F, "body=ab\\x01cd\n"));
	CHECK(!memcmp(F.out, "HTTP/1.1 404", 12));
}

TEST(http_apache_pages)
{
	TCP(&F, "http-apache", 80, "Linux 2.6.32", "GET / HTTP/1.0\r\nUser-Agent: curl/7.88\r\n\r\n");
	CHECK(!memcmp(F.out, "HTTP/1.1 200 OK\r\n", 17));
	CHECK(out_has(&F, "\r\nServer: Apache/2.2.22 (Debian)\r\n"));
	CHECK(out_has(&F, "<h1>It works!</h1>"));
	TCP(&F, "http-apache", 80, "Linux 2.6.32", "GET /<script>.php HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK(!memcmp(F.out, "HTTP/1.1 404 Not Found\r\n", 24));
	CHECK(out_has(&F, "The requested URL /&lt;script&gt;.php was not found"));
	CHECK(!out_has(&F, "<script>"));
	TCP(&F, "http-apache", 80, "Linux 2.6.32", "CONNECT example.com:443 HTTP/1.1\r\n\r\n");
	CHECK(!memcmp(F.out, "HTTP/1.1 405 Method Not Allowed\r\n", 33));
}

TEST(smtp_dialogue_records_envelope_and_size)
{
	TCP(&F, "smtp", 25, "Linux 2.6.18",
	    "EHLO spam.example\r\nMAIL FROM:<a@spam.example>\r\nRCPT TO:<x@victim.example>\r\n"
	    "RCPT TO:<y@victim.example>\r\nDATA\r\nSubject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n");
	CHECK(F.outlen > 4 && !memcmp(F.out, "220 srv", 7));
	CHECK(out_has(&F, " ESMTP Postfix (Debian/GNU)\r\n"));
	CHECK(out_has(&F, "250-PIPELINING\r\n"));
	CHECK(out_has(&F, "354 End data with <CR><LF>.<CR><LF>\r\n"));
	CHECK(out_has(&F, "250 2.0.0 Ok: queued as "));
	CHECK(out_has(&F, "221 2.0.0 Bye\r\n"));
	CHECK_STREQ(F.rec, "helo=spam.example\nmail-from=<a@spam.example>\nrcpt-to=<x@victim.example>\n"
			   "rcpt-to=<y@victim.example>\ndata-size=21\n");
	CHECK_EQ_I(F.closed, 1);
	TCP(&F, "smtp", 25, NULL, "DATA\r\nRCPT TO:<x@y>\r\n");
	CHECK(out_has(&F, "554 5.5.1 Error: no valid recipients\r\n"));
	CHECK(out_has(&F, "503 5.5.1 Error: need MAIL command\r\n"));
}

TEST(pop3_and_imap_logins_fail_and_are_recorded)
{
	TCP(&F, "pop3", 110, NULL, "USER bob\r\nPASS hunter2\r\nQUIT\r\n");
	CHECK(!memcmp(F.out, "+OK Dovecot ready.\r\n", 20));
	CHECK(out_has(&F, "-ERR [AUTH] Authentication failed.\r\n"));
	CHECK_STREQ(F.rec, "user=bob\npass=hunter2\n");
	CHECK_EQ_I(F.closed, 1);
	TCP(&F, "imap", 143, NULL, "a1 CAPABILITY\r\na2 LOGIN \"bob smith\" pw\r\na3 LOGOUT\r\n");
	CHECK(!memcmp(F.out, "* OK Dovecot ready.\r\n", 21));
	CHECK(out_has(&F, "a1 OK Pre-login capabilities"));
	CHECK(out_has(&F, "a2 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"));
	CHECK(out_has(&F, "* BYE Logging out\r\na3 OK Logout completed.\r\n"));
	CHECK_STREQ(F.rec, "user=bob smith\npass=pw\n");
	CHECK_EQ_I(F.closed, 1);
}

TEST(ssh_records_client_version_and_kex)
{
	uint8_t in[512];
	size_t n = 0;
	const char *v = "SSH-2.0-libssh_0.9.6\r\n";
	memcpy(in, v, strlen(v));
	n = strlen(v);
	/* client KEXINIT: len, padlen, 20, cookie, kex list, 9 empty lists, 0, 0 */
	const char *kex = "curve25519-sha256,diffie-hellman-group14-sha1";
	size_t pay = 1 + 16 + 4 + strlen(kex) + 9 * 4 + 1 + 4, pad = 8 - ((5 + pay) % 8);
	if (pad < 4)
		pad += 8;
	uint32_t plen = (uint32_t)(1 + pay + pad);
	in[n++] = (uint8_t)(plen >> 24); in[n++] = (uint8_t)(plen >> 16);
	in[n++] = (uint8_t)(plen >> 8); in[n++] = (uint8_t)plen;
	in[n++] = (uint8_t)pad;
	in[n++] = 20;
	memset(in + n, 0x11, 16); n += 16;
	in[n++] = 0; in[n++] = 0; in[n++] = 0; in[n++] = (uint8_t)strlen(kex);
	memcpy(in + n, kex, strlen(kex)); n += strlen(kex);
	memset(in + n, 0, 9 * 4 + 5 + pad); n += 9 * 4 + 5 + pad;
	/* then KEXDH_INIT (30), which is not answered */
	memcpy(in + n, "\0\0\0\x0c\x0a\x1e\0\0\0\0\0\0\0\0\0\0", 16); n += 16;

	tcp_str(&F, svc_find("ssh"), 22, NULL, in, n, 0);
	const char *banner = "SSH-2.0-OpenSSH_5.1p1 Debian-5\r\n";
	CHECK(F.outlen > strlen(banner) + 6 && !memcmp(F.out, banner, strlen(banner)));
	CHECK_EQ_U(F.out[strlen(banner) + 5], 20);          /* our KEXINIT follows */
	CHECK(out_has(&F, "diffie-hellman-group-exchange-sha256"));
	CHECK_STREQ(F.rec, "client-version=SSH-2.0-libssh_0.9.6\n"
			   "kex=curve25519-sha256,diffie-hellman-group14-sha1\nssh-msg=30\n");
	CHECK_EQ_I(F.closed, 1);
	tcp_str(&G, svc_find("ssh"), 22, NULL, in, n, 1);
	CHECK_EQ_U(G.outlen, F.outlen);
	CHECK(!memcmp(G.out, F.out, F.outlen));
	CHECK_STREQ(G.rec, F.rec);

	TCP(&F, "ssh", 22, NULL, "GET / HTTP/1.0\r\n\r\n");
	CHECK(out_has(&F, "Protocol mismatch.\r\n"));
	CHECK_EQ_I(F.closed, 1);
}

TEST(socks4_and_socks4a_connect_recorded_with_success)
{
	static const char s4[] = "\x04\x01\x00\x50\x5d\xb8\xd8\x22" "joe\0"
				 "GET / HTTP/1.0\r\nHost: example.com\r\n\r\n";
	TCP(&F, "proxy", 1080, NULL, s4);
	CHECK(F.outlen >= 8 && !memcmp(F.out, "\x00\x5a\x00\x50\x5d\xb8\xd8\x22", 8));
	CHECK(rec_has(&F, "proxy=socks4 CONNECT 93.184.216.34:80 user=joe\n"));
	CHECK(rec_has(&F, "tunnel-data=GET / HTTP/1.0\\x0d\\x0aHost: example.com"));
	CHECK(out_has(&F, "HTTP/1.0 200 OK\r\n"));
	CHECK_EQ_I(F.closed, 1);
	static const char s4a[] = "\x04\x01\x00\x19\x00\x00\x00\x01" "\0" "mx.example.org\0" "EHLO x\r\n";
	TCP(&F, "proxy", 1080, NULL, s4a);
	CHECK(F.outlen == 8 && F.out[1] == 0x5a);
	CHECK(rec_has(&F, "proxy=socks4a CONNECT mx.example.org:25 user=\n"));
	CHECK(rec_has(&F, "tunnel-data=EHLO x\\x0d\\x0a\ntunnel-bytes=8\n"));
}

TEST(socks5_connect_and_auth_recorded_with_success)
{
	/* nmap's own SOCKS5 probe */
	static const char s5[] = "\x05\x04\x00\x01\x02\x80\x05\x01\x00\x03\x0agoogle.com\x00\x50"
				 "GET / HTTP/1.0\r\n\r\n";
	TCP(&F, "proxy", 1080, NULL, s5);
	CHECK(F.outlen > 12 && !memcmp(F.out, "\x05\x00\x05\x00\x00\x01\xc0\x00\x02\x0a", 10));
	CHECK(!memcmp(F.out + 12, "HTTP", 4));
	CHECK(rec_has(&F, "proxy=socks5 CONNECT google.com:80\n"));
	static const char s5a[] = "\x05\x01\x02" "\x01\x04user\x04pass"
				  "\x05\x01\x00\x01\x0a\x01\x02\x03\x01\xbb" "\x16\x03\x01";
	TCP(&F, "proxy", 1080, NULL, s5a);
	CHECK(!memcmp(F.out, "\x05\x02\x01\x00\x05\x00", 6));
	CHECK(rec_has(&F, "user=user\npass=pass\nproxy=socks5 CONNECT 10.1.2.3:443\n"));
	CHECK(rec_has(&F, "tunnel-data=\\x16\\x03\\x01\n"));
	static const char s5b[] = "\x05\x01\x00\x05\x02\x00\x01\x0a\x01\x02\x03\x01\xbb";
	TCP(&F, "proxy", 1080, NULL, s5b);
	CHECK(F.outlen == 12 && F.out[3] == 0x07);   /* BIND refused */
	CHECK_EQ_I(F.closed, 1);
}

TEST(http_proxy_connect_and_absolute_get)
{
	TCP(&F, "proxy", 3128, NULL,
	    "CONNECT mail.example.net:25 HTTP/1.1\r\nHost: mail.example.net:25\r\n\r\nHELO x\r\n");
	CHECK(F.outlen == 39 && !memcmp(F.out, "HTTP/1.0 200 Connection established\r\n\r\n", 39));
	CHECK(rec_has(&F, "request=CONNECT mail.example.net:25 HTTP/1.1\n"));
	CHECK(rec_has(&F, "proxy=http CONNECT mail.example.net:25\n"));
	CHECK(rec_has(&F, "tunnel-data=HELO x\\x0d\\x0a\n"));
	TCP(&F, "proxy", 8080, NULL,
	    "GET http://www.example.com:8000/judge.php?x=1 HTTP/1.0\r\nUser-Agent: checker\r\n\r\n");
	CHECK(!memcmp(F.out, "HTTP/1.0 200 OK\r\n", 17));
	CHECK(out_has(&F, "<title>www.example.com</title>"));
	CHECK(out_has(&F, "(squid/2.7.STABLE9)\r\n"));
	CHECK(rec_has(&F, "proxy=http GET www.example.com:8000/judge.php?x=1\n"));
	CHECK(rec_has(&F, "user-agent=checker\n"));
	TCP(&F, "proxy", 3128, NULL, "GET / HTTP/1.0\r\n\r\n");
	CHECK(!memcmp(F.out, "HTTP/1.0 400 Bad Request\r\nServer: squid/2.7.STABLE9\r\n", 53));
}

TEST(mssql_resolver_answers_ping_and_ignores_slammer)
{
	udp_one(&F, "mssql-resolver", 1434, NULL, "\x02", 1);
	CHECK(F.outlen > 3 && F.out[0] == 0x05);
	CHECK_EQ_U(F.out[1] | F.out[2] << 8, F.outlen - 3);
	CHECK(out_has(&F, "ServerName;WIN-"));
	CHECK(out_has(&F, ";InstanceName;MSSQLSERVER;IsClustered;No;Version;8.00.194;tcp;1433;;"));
	CHECK(F.outlen <= 100);    /* kept short: see SVC_F_AMPLIFIES */
	uint8_t slammer[376];
	memset(slammer, 0x01, sizeof slammer);
	slammer[0] = 0x04;
	udp_one(&F, "mssql-resolver", 1434, NULL, slammer, sizeof slammer);
	CHECK_EQ_U(F.outlen, 0);
	CHECK(rec_has(&F, "exploit=SQL Slammer"));
	udp_one(&F, "mssql-resolver", 1434, NULL, "\x04MSSQLSERVER", 12);
	CHECK_EQ_U(F.outlen, 0);
	CHECK_STREQ(F.rec, "ssrp-instance=MSSQLSERVER\n");
	udp_one(&F, "mssql-resolver", 1434, NULL, "\x02\x02", 2);
	CHECK_EQ_U(F.outlen, 0);
}

/* nmap's SMBProgNeg probe */
static const char smb_probe[] =
	"\0\0\0\xa4\xff\x53\x4d\x42\x72\0\0\0\0\x08\x01\x40\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x40\x06\0\0\x01\0\0\x81\0"
	"\x02PC NETWORK PROGRAM 1.0\0\x02MICROSOFT NETWORKS 1.03\0\x02MICROSOFT NETWORKS 3.0\0"
	"\x02LANMAN1.0\0\x02LM1.2X002\0\x02Samba\0\x02NT LANMAN 1.0\0\x02NT LM 0.12\0";

TEST(smb_negotiate_gets_a_windows_reply)
{
	TCP(&F, "smb", 445, NULL, smb_probe);
	CHECK(F.outlen > 40 && !memcmp(F.out, "\0\0\0", 3) && F.out[3] == F.outlen - 4);
	CHECK(!memcmp(F.out + 4, "\xffSMBr\0\0\0\0\x88\x01\x40", 12));
	CHECK(!memcmp(F.out + 4 + 26, "\x40\x06\0\0\x01\0\x11\x07\0", 9));  /* PID, UID, MID, wc, dialect 7 */
	CHECK(rec_has(&F, "smb-dialects=PC NETWORK PROGRAM 1.0,MICROSOFT NETWORKS 1.03,"));
	CHECK(rec_has(&F, ",NT LM 0.12\n"));
	/* then a worm's next message is recorded */
	static const char two[] = "\0\0\0\x23" "\xffSMBs" "\0\0\0\0" "\x18" "\x07\xc0" "\0\0"
				  "\0\0\0\0\0\0\0\0" "\0\0" "\0\0" "\xff\xfe" "\0\0" "\x40\0" "\0" "\0\0";
	const void *parts[2] = { smb_probe, two };
	size_t lens[2] = { sizeof smb_probe - 1, sizeof two - 1 };
	tcp_run(&F, svc_find("smb"), 445, NULL, parts, lens, 2, 0);
	CHECK(rec_has(&F, "smb-command=0x73 session_setup_andx (35 bytes)\n"));
	/* 139: Windows refuses a session message without a session request */
	TCP(&F, "smb", 139, NULL, smb_probe);
	CHECK(F.outlen == 5 && !memcmp(F.out, "\x83\0\0\x01\x8f", 5));
	CHECK_EQ_I(F.closed, 1);
	static const char sreq[] = "\x81\0\0\x44"
		"\x20" "CKFDENECFDEFFCFGEFFCCACACACACACA" "\0"
		"\x20" "EEEFECFFEHCACACACACACACACACACAAA" "\0";
	const void *p2[2] = { sreq, smb_probe };
	size_t l2[2] = { sizeof sreq - 1, sizeof smb_probe - 1 };
	tcp_run(&F, svc_find("smb"), 139, NULL, p2, l2, 2, 0);
	CHECK(!memcmp(F.out, "\x82\0\0\0", 4));
	CHECK(F.outlen > 8 && !memcmp(F.out + 8, "\xffSMBr", 5));
	CHECK(rec_has(&F, "netbios-session=called *SMBSERVER<20> calling DEBUG<00>\n"));
}

TEST(smb2_negotiate_by_personality)
{
	uint8_t m[4 + 64 + 36 + 4] = { 0 };
	m[3] = 64 + 36 + 4;
	memcpy(m + 4, "\xfeSMB", 4);
	m[8] = 64;
	m[4 + 24] = 5;                            /* message id */
	m[68] = 36;
	m[70] = 2;                                /* two dialects */
	m[104] = 0x02, m[105] = 0x02, m[106] = 0x10, m[107] = 0x02;
	tcp_str(&F, svc_find("smb"), 445, "Microsoft Windows 7 SP1", m, sizeof m, 0);
	CHECK(F.outlen == 4 + 64 + 65 && !memcmp(F.out + 4, "\xfeSMB", 4));
	CHECK_EQ_U(F.out[4 + 24], 5);
	CHECK_EQ_U(F.out[68 + 4] | F.out[68 + 5] << 8, 0x0210);
	CHECK(rec_has(&F, "smb2-dialects=0x0202,0x0210\n"));
	tcp_str(&F, svc_find("smb"), 445, "Microsoft Windows Server 2003 SP2", m, sizeof m, 0);
	CHECK_EQ_U(F.outlen, 0);
	CHECK_EQ_I(F.closed, 1);
}

static size_t put_ucs2(uint8_t *p, const char *s, int obfuscate)
{
	size_t n = 0;
	for (; *s; s++) {
		uint8_t c[2] = { (uint8_t)*s, 0 };
		for (int i = 0; i < 2; i++) {
			uint8_t b = c[i];
			if (obfuscate)
				b = (uint8_t)((b << 4 | b >> 4) ^ 0xa5);
			p[n++] = b;
		}
	}
	return n;
}

TEST(mssql_prelogin_and_login_recorded)
{
	static const char prelogin[] =
		"\x12\x01\x00\x34\x00\x00\x00\x00\x00\x00\x15\x00\x06\x01\x00\x1b\x00\x01\x02\x00\x1c"
		"\x00\x0c\x03\x00\x28\x00\x04\xff\x08\x00\x01\x55\x00\x00\x00\x4d\x53\x53\x51\x4c\x53"
		"\x65\x72\x76\x65\x72\x00\x48\x0f\x00\x00";
	uint8_t login[256] = { 0 };
	uint8_t *b = login + 8;
	size_t o = 94;
	b[4] = 0x02, b[5] = 0x00, b[6] = 0x09, b[7] = 0x72;      /* TDS 7.2 */
	const char *f[4] = { "HOSTX", "sa", "Passw0rd", "OSQL-32" };
	for (int i = 0; i < 4; i++) {
		b[36 + 4 * i] = (uint8_t)o;
		b[38 + 4 * i] = (uint8_t)strlen(f[i]);
		o += put_ucs2(b + o, f[i], i == 2);
	}
	login[0] = 0x10, login[1] = 0x01, login[3] = (uint8_t)(o + 8);
	const void *parts[2] = { prelogin, login };
	size_t lens[2] = { sizeof prelogin - 1, o + 8 };
	tcp_run(&F, svc_find("mssql"), 1433, NULL, parts, lens, 2, 0);
	CHECK(F.outlen > 37 && !memcmp(F.out, "\x04\x01\x00\x25\x00\x00\x01\x00\x00\x00\x15\x00\x06", 13));
	CHECK(!memcmp(F.out + 29, "\x08\x00\x07\xf7", 4));
	CHECK(F.out[37] == 0x04 && F.out[45] == 0xaa);
	CHECK(memmem(F.out, F.outlen, "L\0o\0g\0i\0n\0 \0f\0a\0i\0l\0e\0d\0", 24) != NULL);
	CHECK_STREQ(F.rec, "tds=PRELOGIN\nclient-host=HOSTX\nuser=sa\npass=Passw0rd\nclient-app=OSQL-32\n");
	CHECK_EQ_I(F.closed, 1);
	tcp_run(&G, svc_find("mssql"), 1433, NULL, parts, lens, 2, 1);
	CHECK(G.outlen == F.outlen && !memcmp(G.out, F.out, F.outlen));
	CHECK_STREQ(G.rec, F.rec);
}

TEST(netbios_ns_answers_node_status_only)
{
	static const char nbstat[] = "\x80\xf0\0\x10\0\x01\0\0\0\0\0\0\x20\x43\x4b"
				     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\0\0\x21\0\x01";
	udp_one(&F, "netbios-ns", 137, NULL, nbstat, sizeof nbstat - 1);
	CHECK(F.outlen > 57 && !memcmp(F.out, "\x80\xf0\x84\0\0\0\0\x01\0\0\0\0", 12));
	CHECK(F.out[56] == 2 && !memcmp(F.out + 57, "WIN-", 4));
	CHECK(out_has(&F, "WORKGROUP      \0\xc4\0"));
	CHECK(rec_has(&F, "nbstat=*<00>\n"));
	CHECK(F.outlen <= 3 * (sizeof nbstat - 1));
	static const char query[] = "\x12\x34\x01\x10\0\x01\0\0\0\0\0\0\x20"
				    "FHEPFCELEHFCEPFFFACACACACACACAAA\0\0\x20\0\x01";
	udp_one(&F, "netbios-ns", 137, NULL, query, sizeof query - 1);
	CHECK_EQ_U(F.outlen, 0);
	CHECK_STREQ(F.rec, "nbns-query=WORKGROUP<00>\n");
	udp_one(&F, "netbios-ns", 137, NULL, "\x01\x02", 2);
	CHECK_EQ_U(F.outlen, 0);
}

TEST(accept_records_first_bytes_and_size)
{
	TCP(&F, "accept", 4444, NULL, "\x90\x90\x90\xeb\x10hello");
	CHECK_EQ_U(F.outlen, 0);
	CHECK_STREQ(F.rec, "data=\\x90\\x90\\x90\\xeb\\x10hello\nbytes=10\n");
}

/* Every dialogue above, cut into 1-byte calls, must give the same result. */
struct dlg {
	const char *svc;
	uint16_t port;
	const char *pers;
	const char *in;
	size_t len;
};
#define DLG(s, p, pe, lit) { s, p, pe, lit, sizeof(lit) - 1 }

TEST(one_byte_at_a_time_gives_the_same_result)
{
	static const struct dlg d[] = {
		DLG("ftp", 21, NULL, "USER root\r\nPASS toor\r\nSYST\r\nXYZZY\r\nQUIT\r\n"),
		DLG("telnet", 23, NULL, "\xff\xfb\x18\xff\xfa\x18\x00xterm\xff\xf0ro\xff\xf1ot\r\ns3cr\xff\xfd\x01" "et\r\0admin\nx\r\n"),
		DLG("telnet", 23, "Cisco IOS 12.X", "\xff\xfd\x01\xff\xfd\x03" "cisco\r\ncisco\r\n"),
		DLG("smtp", 25, NULL, "HELO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nhello\r\n..dot\r\n.\r\nQUIT\r\n"),
		DLG("http-iis", 80, NULL, "GET /index.asp HTTP/1.1\r\nUser-Agent: x\r\nContent-Length: 3\r\n\r\nabc"),
		DLG("http-apache", 80, "Linux", "OPTIONS * HTTP/1.1\r\n\r\n"),
		DLG("pop3", 110, NULL, "USER a\r\nPASS b\r\nCAPA\r\nXX\r\n"),
		DLG("imap", 143, NULL, "1 LOGIN a b\r\n2 AUTHENTICATE PLAIN\r\nAGIAYw==\r\n3 LOGOUT\r\n"),
		DLG("proxy", 1080, NULL, "\x05\x01\x00\x05\x01\x00\x03\x0b" "example.com\x00\x50GET / HTTP/1.0\r\n\r\n"),
		DLG("proxy", 1080, NULL, "\x04\x01\x00\x19\x00\x00\x00\x01u\0mx.example\0EHLO x\r\n"),
		DLG("proxy", 3128, NULL, "CONNECT a.example:443 HTTP/1.0\r\n\r\n\x16\x03\x01\x02\x00"),
		DLG("proxy", 8080, NULL, "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n"),
		DLG("smb", 445, NULL, "\0\0\0\xa4\xff\x53\x4d\x42\x72\0\0\0\0\x08\x01\x40\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x40\x06\0\0\x01\0\0\x81\0"
		    "\x02PC NETWORK PROGRAM 1.0\0\x02MICROSOFT NETWORKS 1.03\0\x02MICROSOFT NETWORKS 3.0\0"
		    "\x02LANMAN1.0\0\x02LM1.2X002\0\x02Samba\0\x02NT LANMAN 1.0\0\x02NT LM 0.12\0"),
		DLG("accept", 9999, NULL, "anything at all\r\n\0\1\2"),
	};
	for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
		tcp_str(&F, svc_find(d[i].svc), d[i].port, d[i].pers, d[i].in, d[i].len, 0);
		tcp_str(&G, svc_find(d[i].svc), d[i].port, d[i].pers, d[i].in, d[i].len, 1);
		if (G.outlen != F.outlen || memcmp(G.out, F.out, F.outlen) || strcmp(G.rec, F.rec) ||
		    G.closed != F.closed)
			fprintf(stderr, "dialogue %zu (%s) differs when fed byte by byte:\n%s---\n%s",
				i, d[i].svc, F.rec, G.rec);
		CHECK_EQ_U(G.outlen, F.outlen);
		CHECK(!memcmp(G.out, F.out, F.outlen));
		CHECK_STREQ(G.rec, F.rec);
		CHECK_EQ_I(G.closed, F.closed);
		CHECK(F.outlen > 0 || !strcmp(d[i].svc, "accept"));
		if (F.records == 0)
			fprintf(stderr, "dialogue %zu (%s) recorded nothing\n", i, d[i].svc);
		CHECK(F.records > 0);
	}
}

TEST(overlong_input_is_bounded)
{
	static char big[20000];
	size_t n;

	/* an FTP line of 10 000 bytes, then a normal command */
	n = (size_t)sprintf(big, "USER ");
	memset(big + n, 'A', 10000);
	n += 10000;
	n += (size_t)sprintf(big + n, "\r\nSYST\r\n");
	tcp_str(&F, svc_find("ftp"), 21, NULL, big, n, 0);
	CHECK(F.longest_value < 300);
	CHECK(out_has(&F, "500 Unknown command.\r\n"));
	CHECK(out_has(&F, "215 UNIX Type: L8\r\n"));
	/* telnet user name of 5000 bytes */
	memset(big, 'u', 5000);
	memcpy(big + 5000, "\r\npw\r\n", 6);
	tcp_str(&F, svc_find("telnet"), 23, NULL, big, 5006, 0);
	CHECK(F.longest_value <= 128);
	CHECK(rec_has(&F, "pass=pw\n"));
	/* an HTTP request line of 15 000 bytes */
	n = (size_t)sprintf(big, "GET /");
	memset(big + n, 'N', 15000);
	n += 15000;
	n += (size_t)sprintf(big + n, " HTTP/1.0\r\n\r\n");
	tcp_str(&F, svc_find("http-iis"), 80, NULL, big, n, 0);
	CHECK(F.longest_value < 300);
	CHECK(out_has(&F, "Bad Request (Invalid URL)"));
	/* endless headers: the answer still comes when they end */
	n = (size_t)sprintf(big, "GET / HTTP/1.0\r\n");
	for (int i = 0; i < 500; i++)
		n += (size_t)sprintf(big + n, "X-%d: y\r\n", i);
	n += (size_t)sprintf(big + n, "\r\n");
	tcp_str(&F, svc_find("http-apache"), 80, NULL, big, n, 0);
	CHECK(!memcmp(F.out, "HTTP/1.1 200 OK\r\n", 17));
	/* a huge SMTP message is counted, not kept */
	n = (size_t)sprintf(big, "HELO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
	memset(big + n, 'x', 12000);
	n += 12000;
	n += (size_t)sprintf(big + n, "\r\n.\r\n");
	tcp_str(&F, svc_find("smtp"), 25, NULL, big, n, 0);
	CHECK(rec_has(&F, "data-size=12002\n"));
	/* an SSH packet length beyond any real one closes */
	TCP(&F, "ssh", 22, NULL, "SSH-2.0-x\r\n\x7f\xff\xff\xff\0\0");
	CHECK(rec_has(&F, "ssh-bad-length=2147483647\n"));
	CHECK_EQ_I(F.closed, 1);
	/* a SOCKS4 user id that never ends */
	big[0] = 4, big[1] = 1;
	memset(big + 2, 'z', 5000);
	tcp_str(&F, svc_find("proxy"), 1080, NULL, big, 5002, 0);
	CHECK_EQ_I(F.closed, 1);
	CHECK(rec_has(&F, "proxy-garbage=SOCKS request too long\n"));
	/* many pipelined commands never exceed one call's reply budget */
	n = 0;
	for (int i = 0; i < 1500; i++)
		n += (size_t)sprintf(big + n, "NOOP\r\n");
	tcp_str(&F, svc_find("pop3"), 110, NULL, big, n, 0);
	CHECK_EQ_I(F.closed, 1);
	CHECK(F.outlen <= SVC_MAX_REPLY + 64);
}

int main(void)
{
	RUN(registry_names_ports_and_members);
	RUN(ftp_records_user_and_pass_and_refuses_login);
	RUN(ftp_closes_after_three_failed_logins);
	RUN(telnet_strips_iac_and_records_two_logins);
	RUN(telnet_closes_after_three_tries_and_cisco_prompt);
	RUN(http_iis_serves_default_page_with_server_header);
	RUN(http_iis_missing_path_connect_and_bad_verb);
	RUN(http_apache_pages);
	RUN(smtp_dialogue_records_envelope_and_size);
	RUN(pop3_and_imap_logins_fail_and_are_recorded);
	RUN(ssh_records_client_version_and_kex);
	RUN(socks4_and_socks4a_connect_recorded_with_success);
	RUN(socks5_connect_and_auth_recorded_with_success);
	RUN(http_proxy_connect_and_absolute_get);
	RUN(mssql_resolver_answers_ping_and_ignores_slammer);
	RUN(smb_negotiate_gets_a_windows_reply);
	RUN(smb2_negotiate_by_personality);
	RUN(mssql_prelogin_and_login_recorded);
	RUN(netbios_ns_answers_node_status_only);
	RUN(accept_records_first_bytes_and_size);
	RUN(one_byte_at_a_time_gives_the_same_result);
	RUN(overlong_input_is_bounded);
	return check_summary();
}
