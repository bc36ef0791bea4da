/* test-stack-script.c: Honeyd-style external scripts behind open ports.
 *
 * The test writes small shell scripts into a temporary directory and
 * drives TCP dialogues and UDP datagrams to them through the responder:
 * the banner carries Honeyd's environment, a line sent is echoed back, the
 * connection closes (FIN) after the script's output when it exits, its
 * stderr lines reach the service log (the record callback).  Then the
 * limits: a busy loop dies of the CPU limit, a sleeper is killed at the
 * wall-clock limit, a memory hog dies of the memory limit, the concurrency
 * cap refuses with RST and counts, a missing script closes the connection
 * and is logged, and a UDP reply is never larger than its request.
 * Last, vigia-sensord --replay gives byte for byte what the in-process
 * responder sent, script answers included. */
#include "check.h"
#include "stack-client.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sc-config.h"
#include "stack.h"

#define HOST TC_IP(192, 0, 2, 20)
#define CLIENT TC_IP(198, 51, 100, 7)
#define T0 1700000000000000000ull
#define MS 1000000ull

static char dir[64];

static const char conf_text[] =
	"create s\n"
	"set s personality \"Linux 2.6.32\"\n"
	"set s uptime 1000\n"
	"set s default tcp action closed\n"
	"add s tcp port 7 \"sh echo.sh\"\n"
	"add s tcp port 8 \"sh loop.sh\"\n"
	"add s tcp port 9 \"sh sleep.sh\"\n"
	"add s tcp port 10 \"sh mem.sh\"\n"
	"add s tcp port 11 \"sh missing.sh\"\n"
	"add s tcp port 12 \"sh stream.sh\"\n"
	"add s udp port 53 \"sh udp.sh\"\n"
	"bind 192.0.2.20 s\n"
	"vigia script-cpu 1\n"
	"vigia script-time 5\n"
	"vigia script-memory 32\n"
	"vigia max-scripts 2\n";

static const struct {
	const char *name, *text;
} scripts[] = {
	{ "echo.sh",
	  "printf 'HELLO %s %s %s %s\\r\\n' \"$HONEYD_IP_SRC\" \"$HONEYD_SRC_PORT\" "
	  "\"$HONEYD_IP_DST\" \"$HONEYD_DST_PORT\"\n"
	  "echo \"ENV $HONEYD_PERSONALITY|$HONEYD_UPTIME|$HONEYD_REBOOT_TIME|$ipsrc|$dport\"\n"
	  "echo \"started for $HONEYD_IP_SRC\" >&2\n"
	  "read line\n"
	  "echo \"ECHO $line\"\n"
	  "echo \"UID $(id -u)\"\n"
	  "echo \"saw $line\" >&2\n" },
	{ "loop.sh", "echo busy\nwhile :; do :; done\n" },
	{ "sleep.sh", "echo sleeping\nexec sleep 30\n" },
	/* doubles a string until it is 512 MB: far past a 32 MB limit */
	{ "mem.sh",
	  "awk 'BEGIN { s = \"x\"; while (length(s) < 536870912) s = s s; print \"ALIVE\" }'\n" },
	{ "stream.sh", "i=0; while [ $i -lt 2000 ]; do echo \"line $i of the stream\"; "
		       "i=$((i+1)); done\n" },
	{ "udp.sh", "cat > /dev/null\nhead -c 3000 /dev/zero | tr '\\0' U\n" },
};

static bool write_scripts(void)
{
	snprintf(dir, sizeof dir, "/tmp/vigia-script-XXXXXX");
	if (!mkdtemp(dir))
		return false;
	/* Scripts run as nobody when the test runs as root. */
	chmod(dir, 0755);
	for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
		char path[128];
		snprintf(path, sizeof path, "%s/%s", dir, scripts[i].name);
		FILE *f = fopen(path, "w");
		if (!f)
			return false;
		fputs(scripts[i].text, f);
		fclose(f);
		chmod(path, 0644);
	}
	return true;
}

static void remove_scripts(void)
{
	for (size_t i = 0; i < sizeof scripts / sizeof scripts[0]; i++) {
		char path[128];
		snprintf(path, sizeof path, "%s/%s", dir, scripts[i].name);
		unlink(path);
	}
	char path[128];
	snprintf(path, sizeof path, "%s/honeyd.conf", dir);
	unlink(path);
	rmdir(dir);
}

struct env {
	struct tc *t;
	struct sc_config *cfg;
	struct stack *s;
	uint64_t now;
	uint8_t f[1600];
};

static bool env_open(struct env *e)
{
	memset(e, 0, sizeof *e);
	e->t = calloc(1, sizeof *e->t);
	struct vg_err err = { 0 };
	if (!e->t || sc_config_load_buf(&e->cfg, "test.conf", conf_text, sizeof conf_text - 1,
					&err) < 0) {
		fprintf(stderr, "config: %s\n", err.msg);
		return false;
	}
	struct stack_opts o;
	tc_opts(&o, e->t, e->cfg, 5);
	o.script_dir = dir;
	if (stack_new(&e->s, &o, &err) < 0) {
		fprintf(stderr, "stack_new: %s\n", err.msg);
		return false;
	}
	e->now = T0;
	return true;
}

static void env_close(struct env *e)
{
	stack_free(e->s);
	sc_config_free(e->cfg);
	free(e->t);
}

static void feed(struct env *e, uint32_t len)
{
	e->now += MS;
	stack_input(e->s, VG_LINK_ETHERNET, e->now, e->f, len, len);
	stack_script_settle(e->s);
}

/* --- the client ------------------------------------------------------------ */

struct cli {
	struct env *e;
	uint16_t sport, dport;
	uint32_t snd_nxt, rcv_nxt;
	bool fin_seen, rst_seen;
	char rx[65536];
	uint32_t rxlen;
};

/* Take in-order data out of what was emitted, and ACK it as a client does. */
static void collect(struct cli *c)
{
	struct tc *t = c->e->t;
	bool got = false;
	for (int i = 0; i < t->nout; i++) {
		struct vg_pkt p;
		if (tc_decode(&t->out[i], &p) != VG_DEC_OK || p.proto != 6 ||
		    p.sport != c->dport || p.dport != c->sport)
			continue;
		if (p.tcp_flags & VG_TH_RST)
			c->rst_seen = true;
		if (p.tcp_seq == c->rcv_nxt && p.payload_caplen) {
			uint32_t n = p.payload_caplen;
			if (c->rxlen + n < sizeof c->rx) {
				memcpy(c->rx + c->rxlen, p.payload, n);
				c->rxlen += n;
			}
			c->rcv_nxt += n;
			got = true;
		}
		if ((p.tcp_flags & VG_TH_FIN) && p.tcp_seq + p.payload_caplen == c->rcv_nxt &&
		    !c->fin_seen) {
			c->rcv_nxt++;
			c->fin_seen = true;
			got = true;
		}
	}
	c->rx[c->rxlen] = '\0';
	tc_clear(t);
	if (got && !c->rst_seen)
		feed(c->e, tc_tcp(c->e->f, CLIENT, c->sport, HOST, c->dport, c->snd_nxt,
				  c->rcv_nxt, VG_TH_ACK, NULL, 0));
}

static bool cli_connect(struct cli *c, struct env *e, uint16_t sport, uint16_t dport)
{
	memset(c, 0, sizeof *c);
	c->e = e;
	c->sport = sport;
	c->dport = dport;
	c->snd_nxt = 5000;
	tc_clear(e->t);
	feed(e, tc_tcp(e->f, CLIENT, sport, HOST, dport, c->snd_nxt, 0, VG_TH_SYN, NULL, 0));
	struct vg_pkt p;
	if (e->t->nout != 1 || tc_decode(&e->t->out[0], &p) != VG_DEC_OK ||
	    p.tcp_flags != (VG_TH_SYN | VG_TH_ACK))
		return false;
	c->snd_nxt++;
	c->rcv_nxt = p.tcp_seq + 1;
	tc_clear(e->t);
	feed(e, tc_tcp(e->f, CLIENT, sport, HOST, dport, c->snd_nxt, c->rcv_nxt, VG_TH_ACK,
		       NULL, 0));
	collect(c);
	collect(c);
	return true;
}

static void cli_send(struct cli *c, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);
	feed(c->e, tc_tcp(c->e->f, CLIENT, c->sport, HOST, c->dport, c->snd_nxt, c->rcv_nxt,
			  VG_TH_ACK | VG_TH_PSH, s, n));
	c->snd_nxt += n;
	collect(c);
	collect(c);
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Live-style: poll the scripts until the server closed (or max_ms). */
static void wait_close(struct cli *c, int max_ms)
{
	double end = mono_s() + max_ms / 1000.0;
	while (!c->fin_seen && !c->rst_seen && mono_s() < end) {
		struct pollfd fds[16];
		int n = stack_script_pollfds(c->e->s, fds, 16);
		poll(fds, (nfds_t)n, 20);
		stack_script_poll(c->e->s, c->e->now);
		collect(c);
	}
}

static void cli_finish(struct cli *c)
{
	feed(c->e, tc_tcp(c->e->f, CLIENT, c->sport, HOST, c->dport, c->snd_nxt, c->rcv_nxt,
			  VG_TH_ACK | VG_TH_FIN, NULL, 0));
	c->snd_nxt++;
	collect(c);
}

static bool has_record(const struct tc *t, const char *s)
{
	for (int i = 0; i < t->nrec; i++)
		if (strstr(t->rec[i], s))
			return true;
	return false;
}

/* Reap what ended (its exit is logged then). */
static void wait_reaped(struct env *e)
{
	struct stack_stats st;
	stack_get_stats(e->s, &st);
	for (int i = 0; i < 300 && st.scripts_running; i++) {
		usleep(10000);
		stack_script_poll(e->s, e->now);
		stack_get_stats(e->s, &st);
	}
}

/* --- dialogues ------------------------------------------------------------------- */

TEST(tcp_script_gets_honeyd_environment_echoes_a_line_and_closes_after_its_output)
{
	struct env e;
	CHECK(env_open(&e));
	struct cli c;
	CHECK(cli_connect(&c, &e, 41007, 7));
	/* The banner, before anything was sent. */
	CHECK(strstr(c.rx, "HELLO 198.51.100.7 41007 192.0.2.20 7\r\n") != NULL);
	CHECK(strstr(c.rx, "ENV Linux 2.6.32|1000|") != NULL);
	CHECK(strstr(c.rx, "|198.51.100.7|7\n") != NULL);
	/* HONEYD_REBOOT_TIME = now - uptime, at the stack's time */
	char want[64];
	snprintf(want, sizeof want, "|1000|%llu|", (unsigned long long)(e.now / 1000000000u - 1000));
	CHECK(strstr(c.rx, want) != NULL);
	CHECK(!c.fin_seen);
	cli_send(&c, "knock knock\r\n");
	wait_close(&c, 3000);
	CHECK(strstr(c.rx, "ECHO knock knock") != NULL);
	char uid[32];
	snprintf(uid, sizeof uid, "UID %u\n", geteuid() == 0 ? 65534u : (unsigned)getuid());
	CHECK(strstr(c.rx, uid) != NULL);
	/* the script exited: FIN after its output */
	CHECK(c.fin_seen);
	CHECK(!c.rst_seen);
	if (!strstr(c.rx, uid))
		fprintf(stderr, "got: %s\n", c.rx);
	/* its stderr, line by line, in the service log */
	CHECK(has_record(e.t, "=started for 198.51.100.7"));
	CHECK(has_record(e.t, "=saw knock knock"));
	cli_finish(&c);
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.scripts_started, 1);
	CHECK_EQ_U(st.scripts_failed, 0);
	CHECK_EQ_U(st.conn_open, 0);
	/* reaped once the connection is over */
	wait_reaped(&e);
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.scripts_running, 0);
	CHECK_EQ_I(e.t->bad_csum, 0);
	env_close(&e);
}

TEST(script_output_larger_than_the_send_buffer_streams_in_order)
{
	struct env e;
	CHECK(env_open(&e));
	struct cli c;
	CHECK(cli_connect(&c, &e, 41012, 12));
	wait_close(&c, 5000);
	if (!c.fin_seen)
		fprintf(stderr, "stream: %u bytes, last: %s\n", c.rxlen,
			c.rxlen > 40 ? c.rx + c.rxlen - 40 : c.rx);
	CHECK(c.fin_seen);
	/* 2000 lines, about 40 KB: several fills of the 8 KB buffer */
	CHECK(strncmp(c.rx, "line 0 of the stream\n", 21) == 0);
	CHECK(strstr(c.rx, "line 1999 of the stream\n") != NULL);
	int lines = 0;
	for (uint32_t i = 0; i < c.rxlen; i++)
		lines += c.rx[i] == '\n';
	CHECK_EQ_I(lines, 2000);
	env_close(&e);
}

TEST(busy_loop_dies_of_the_cpu_limit_and_the_connection_closes)
{
	struct env e;
	CHECK(env_open(&e));
	struct cli c;
	double t0 = mono_s();
	CHECK(cli_connect(&c, &e, 41008, 8));
	CHECK(strstr(c.rx, "busy") != NULL);
	wait_close(&c, 8000);
	double took = mono_s() - t0;
	CHECK(c.fin_seen);
	/* 1 s of CPU, before the 5 s wall-clock limit (scripts_timeout) */
	CHECK(took >= 0.9);
	wait_reaped(&e);
	CHECK(has_record(e.t, "killed by signal"));
	CHECK(has_record(e.t, "CPU time limit"));
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.scripts_killed, 1);
	CHECK_EQ_U(st.scripts_timeout, 0);
	fprintf(stderr, "# CPU-bound script ended after %.2f s\n", took);
	env_close(&e);
}

TEST(sleeper_is_killed_at_the_wall_clock_limit_and_the_connection_closes)
{
	struct env e;
	CHECK(env_open(&e));
	struct cli c;
	double t0 = mono_s();
	CHECK(cli_connect(&c, &e, 41009, 9));
	CHECK(strstr(c.rx, "sleeping") != NULL);
	wait_close(&c, 8000);
	double took = mono_s() - t0;
	CHECK(c.fin_seen);
	CHECK(took >= 4.9 && took < 8.0);
	CHECK(has_record(e.t, "wall-clock limit of 5 s"));
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.scripts_timeout, 1);
	fprintf(stderr, "# sleeping script killed after %.2f s\n", took);
	env_close(&e);
}

TEST(memory_hog_dies_of_the_memory_limit)
{
	struct env e;
	CHECK(env_open(&e));
	struct cli c;
	CHECK(cli_connect(&c, &e, 41010, 10));
	wait_close(&c, 5000);
	CHECK(c.fin_seen);
	CHECK(strstr(c.rx, "ALIVE") == NULL);
	wait_reaped(&e);
	CHECK(has_record(e.t, "exited with status"));
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.scripts_failed, 1);
	CHECK_EQ_U(st.scripts_timeout, 0);
	env_close(&e);
}

TEST(missing_script_closes_the_connection_and_is_logged_and_counted)
{
	struct env e;
	CHECK(env_open(&e));
	struct cli c;
	CHECK(cli_connect(&c, &e, 41011, 11));
	wait_close(&c, 3000);
	CHECK(c.fin_seen);
	CHECK_EQ_U(c.rxlen, 0);
	wait_reaped(&e);
	CHECK(has_record(e.t, "missing.sh"));
	/* sh's own message, then vigia's note of the exit status */
	CHECK(has_record(e.t, "exited with status"));
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.scripts_failed, 1);
	env_close(&e);
}

TEST(concurrency_cap_refuses_with_rst_and_counts)
{
	struct env e;
	CHECK(env_open(&e));
	struct cli a, b, c;
	CHECK(cli_connect(&a, &e, 41021, 9));
	CHECK(cli_connect(&b, &e, 41022, 9));
	/* max-scripts 2: the third handshake completes with a RST */
	CHECK(cli_connect(&c, &e, 41023, 9));
	CHECK(c.rst_seen);
	CHECK(!a.rst_seen && !b.rst_seen);
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.script_cap_hits, 1);
	CHECK_EQ_U(st.scripts_running, 2);
	CHECK_EQ_U(st.scripts_started, 2);
	CHECK_EQ_U(st.conn_open, 2);
	/* a peer's RST ends the connection and kills its script */
	feed(&e, tc_tcp(e.f, CLIENT, a.sport, HOST, 9, a.snd_nxt, 0, VG_TH_RST, NULL, 0));
	for (int i = 0; i < 100; i++) {
		stack_get_stats(e.s, &st);
		if (st.scripts_running < 2)
			break;
		usleep(10000);
		stack_script_poll(e.s, e.now);
	}
	CHECK_EQ_U(st.scripts_running, 1);
	struct cli d;
	CHECK(cli_connect(&d, &e, 41024, 9));
	CHECK(!d.rst_seen);
	env_close(&e);
}

TEST(udp_script_reply_is_cut_to_the_request_size)
{
	struct env e;
	CHECK(env_open(&e));
	tc_clear(e.t);
	static const char q[] = "a 40-byte DNS-sized question, more or le";
	feed(&e, tc_udp(e.f, CLIENT, 41053, HOST, 53, q, sizeof q - 1));
	for (int i = 0; i < 200 && e.t->nout == 0; i++) {
		usleep(10000);
		stack_script_poll(e.s, e.now);
	}
	CHECK_EQ_I(e.t->nout, 1);
	struct vg_pkt p;
	if (e.t->nout == 1 && tc_decode(&e.t->out[0], &p) == VG_DEC_OK) {
		CHECK_EQ_U(p.proto, 17);
		CHECK_EQ_U(p.sport, 53);
		CHECK_EQ_U(p.dport, 41053);
		/* the script wrote 3000 bytes; the reply is no larger than the request */
		CHECK_EQ_U(p.payload_caplen, sizeof q - 1);
		CHECK(p.payload_caplen > 0 && p.payload[0] == 'U');
	}
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.script_udp_truncated, 1);
	CHECK_EQ_I(e.t->bad_csum, 0);
	env_close(&e);
}

TEST(scripts_never_run_as_root)
{
	struct tc t;
	memset(&t, 0, sizeof t);
	struct sc_config *cfg = NULL;
	struct vg_err err = { 0 };
	CHECK_EQ_I(sc_config_load_buf(&cfg, "test.conf", conf_text, sizeof conf_text - 1, &err), 0);
	struct stack_opts o;
	tc_opts(&o, &t, cfg, 5);
	o.script_dir = dir;
	o.script_user_set = true;    /* `vigia user root` */
	o.script_uid = 0;
	o.script_gid = 0;
	struct stack *s = NULL;
	int rc = stack_new(&s, &o, &err);
	if (geteuid() == 0) {
		/* As root the user given is used, and root is refused. */
		CHECK_EQ_I(rc, -EPERM);
		CHECK(strstr(err.msg, "root") != NULL);
	} else {
		/* Not root: scripts run as the current user, whatever is set. */
		CHECK_EQ_I(rc, 0);
	}
	stack_free(s);
	sc_config_free(cfg);
}

/* --- vigia-sensord --replay --------------------------------------------------------- */

struct cap {
	pcap_t *dead;
	pcap_dumper_t *in;
	struct tc_frame *sent;
	int nsent;
};

static void tap(void *ctx, uint64_t ts, const uint8_t *f, uint32_t len)
{
	struct cap *k = ctx;
	if (k->nsent < 512 && len <= sizeof k->sent[0].b) {
		k->sent[k->nsent].ts = ts;
		k->sent[k->nsent].len = len;
		memcpy(k->sent[k->nsent].b, f, len);
		k->nsent++;
	}
}

static struct cap *K;

/* feed() that also writes the client's frame into the capture */
static void feed_cap(struct env *e, uint32_t len)
{
	struct pcap_pkthdr h;
	e->now += MS;
	h.ts.tv_sec = (time_t)(e->now / 1000000000u);
	h.ts.tv_usec = (suseconds_t)(e->now % 1000000000u);
	h.caplen = h.len = len;
	pcap_dump((u_char *)K->in, &h, e->f);
	stack_input(e->s, VG_LINK_ETHERNET, e->now, e->f, len, len);
	stack_script_settle(e->s);
}

static int run(char *const argv[])
{
	pid_t pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(replay_waits_for_script_answers_and_repeats_the_in_process_bytes)
{
	char conf[128], in[128], out[128], svc[128], status[128];
	snprintf(conf, sizeof conf, "%s/honeyd.conf", dir);
	snprintf(in, sizeof in, "%s/in.pcap", dir);
	snprintf(out, sizeof out, "%s/out.pcap", dir);
	snprintf(svc, sizeof svc, "%s/service.log", dir);
	snprintf(status, sizeof status, "%s/status.json", dir);
	FILE *f = fopen(conf, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	/* Without the personality: the OS database sensord may load for it
	 * is not what this test is about. */
	const char *pers = strstr(conf_text, "set s personality");
	const char *eol = pers ? strchr(pers, '\n') : NULL;
	CHECK(pers && eol);
	if (pers && eol) {
		fwrite(conf_text, 1, (size_t)(pers - conf_text), f);
		fputs(eol + 1, f);
	}
	fclose(f);

	/* The client against an in-process responder with the same
	 * configuration file (scripts found beside it) and seed. */
	struct env e;
	memset(&e, 0, sizeof e);
	e.t = calloc(1, sizeof *e.t);
	K = calloc(1, sizeof *K);
	K->sent = calloc(512, sizeof *K->sent);
	struct vg_err err = { 0 };
	CHECK_EQ_I(sc_config_load(&e.cfg, conf, &err), 0);
	struct stack_opts o;
	tc_opts(&o, e.t, e.cfg, 77);
	e.t->tap = tap;
	e.t->tap_ctx = K;
	CHECK_EQ_I(stack_new(&e.s, &o, &err), 0);
	e.now = T0;
	K->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
						       PCAP_TSTAMP_PRECISION_NANO);
	K->in = pcap_dump_open(K->dead, in);
	CHECK(K->in != NULL);
	if (!K->in)
		return;

	uint32_t snd = 9000, rcv = 0;
	feed_cap(&e, tc_tcp(e.f, CLIENT, 42007, HOST, 7, snd, 0, VG_TH_SYN, NULL, 0));
	struct vg_pkt p;
	CHECK(e.t->nout == 1 && tc_decode(&e.t->out[0], &p) == VG_DEC_OK);
	snd++;
	rcv = p.tcp_seq + 1;
	tc_clear(e.t);
	feed_cap(&e, tc_tcp(e.f, CLIENT, 42007, HOST, 7, snd, rcv, VG_TH_ACK, NULL, 0));
	/* the banner came at once, in two writes or one */
	int banner = 0;
	for (int i = 0; i < e.t->nout; i++)
		if (tc_decode(&e.t->out[i], &p) == VG_DEC_OK && p.payload_caplen) {
			rcv += p.payload_caplen;
			banner++;
		}
	CHECK(banner >= 1);
	tc_clear(e.t);
	static const char line[] = "who goes there\n";
	feed_cap(&e, tc_tcp(e.f, CLIENT, 42007, HOST, 7, snd, rcv, VG_TH_ACK | VG_TH_PSH, line,
			    sizeof line - 1));
	snd += sizeof line - 1;
	bool fin = false;
	for (int i = 0; i < e.t->nout; i++)
		if (tc_decode(&e.t->out[i], &p) == VG_DEC_OK) {
			rcv += p.payload_caplen;
			if (p.tcp_flags & VG_TH_FIN) {
				fin = true;
				rcv++;
			}
		}
	CHECK(fin);
	tc_clear(e.t);
	feed_cap(&e, tc_tcp(e.f, CLIENT, 42007, HOST, 7, snd, rcv, VG_TH_ACK | VG_TH_FIN, NULL, 0));
	/* A script that does not exist: the connection is closed at once. */
	tc_clear(e.t);
	snd = 7000;
	feed_cap(&e, tc_tcp(e.f, CLIENT, 42011, HOST, 11, snd, 0, VG_TH_SYN, NULL, 0));
	CHECK(e.t->nout == 1 && tc_decode(&e.t->out[0], &p) == VG_DEC_OK);
	snd++;
	rcv = p.tcp_seq + 1;
	tc_clear(e.t);
	feed_cap(&e, tc_tcp(e.f, CLIENT, 42011, HOST, 11, snd, rcv, VG_TH_ACK, NULL, 0));
	CHECK(e.t->nout == 1 && tc_decode(&e.t->out[0], &p) == VG_DEC_OK &&
	      p.tcp_flags == (VG_TH_FIN | VG_TH_ACK));
	stack_finish(e.s, e.now);
	pcap_dump_close(K->in);
	pcap_close(K->dead);

	const char *bd = getenv("VIGIA_BUILDDIR");
	char prog[512];
	snprintf(prog, sizeof prog, "%s/src/sensord/vigia-sensord", bd ? bd : "build");
	char *argv[] = { prog, "-f", conf, "--replay", in, "--write", out, "-s", svc, "--seed", "77",
			 "--mac", "02:00:00:00:00:99", "-l", "/dev/null", "--status", status, NULL };
	CHECK_EQ_I(run(argv), 0);

	/* Byte for byte what the in-process responder sent. */
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *r = pcap_open_offline_with_tstamp_precision(out, PCAP_TSTAMP_PRECISION_NANO, eb);
	CHECK(r != NULL);
	int i = 0;
	struct pcap_pkthdr *h;
	const u_char *b;
	while (r && pcap_next_ex(r, &h, &b) == 1) {
		if (i < K->nsent) {
			CHECK_EQ_U(h->caplen, K->sent[i].len);
			CHECK(h->caplen == K->sent[i].len && !memcmp(b, K->sent[i].b, h->caplen));
			uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000u + (uint64_t)h->ts.tv_usec;
			CHECK_EQ_U(ts, K->sent[i].ts);
		}
		i++;
	}
	if (r)
		pcap_close(r);
	CHECK_EQ_I(i, K->nsent);
	CHECK(K->nsent >= 5);

	/* the script's stderr, in Honeyd's service-log format */
	f = fopen(svc, "r");
	CHECK(f != NULL);
	char buf[512];
	bool started = false, saw = false;
	while (f && fgets(buf, sizeof buf, f)) {
		if (strstr(buf, " tcp(6) 198.51.100.7 42007 192.0.2.20 7: |started for 198.51.100.7|"))
			started = true;
		if (strstr(buf, "|saw who goes there|"))
			saw = true;
	}
	if (f)
		fclose(f);
	CHECK(started);
	CHECK(saw);
	/* status.json counts both scripts, and the one that failed */
	f = fopen(status, "r");
	CHECK(f != NULL);
	char js[8192] = "";
	size_t jn = f ? fread(js, 1, sizeof js - 1, f) : 0;
	js[jn] = '\0';
	if (f)
		fclose(f);
	CHECK(strstr(js, "\"started\": 2") != NULL);
	CHECK(strstr(js, "\"failed\": 1") != NULL);
	CHECK(strstr(js, "\"running\": 0") != NULL);
	unlink(status);
	unlink(in);
	unlink(out);
	unlink(svc);
	stack_free(e.s);
	sc_config_free(e.cfg);
	free(e.t);
	free(K->sent);
	free(K);
}

int main(void)
{
	if (!write_scripts()) {
		fprintf(stderr, "cannot write the test scripts\n");
		return 1;
	}
	RUN(tcp_script_gets_honeyd_environment_echoes_a_line_and_closes_after_its_output);
	RUN(script_output_larger_than_the_send_buffer_streams_in_order);
	RUN(busy_loop_dies_of_the_cpu_limit_and_the_connection_closes);
	RUN(sleeper_is_killed_at_the_wall_clock_limit_and_the_connection_closes);
	RUN(memory_hog_dies_of_the_memory_limit);
	RUN(missing_script_closes_the_connection_and_is_logged_and_counted);
	RUN(concurrency_cap_refuses_with_rst_and_counts);
	RUN(udp_script_reply_is_cut_to_the_request_size);
	RUN(scripts_never_run_as_root);
	RUN(replay_waits_for_script_answers_and_repeats_the_in_process_bytes);
	remove_scripts();
	return check_summary();
}
