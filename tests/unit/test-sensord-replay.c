/* test-sensord-replay.c: vigia-sensord --replay end to end.
 *
 * The test plays a client against an in-process responder (same
 * configuration, same seed): a ping, a SYN to a closed port, an HTTP and a
 * telnet dialogue, UDP to an open and to a closed port.  The client's
 * frames become a capture; the program replays it.  Then:
 *  - the connection log parses line by line with hl_parse, every kind (S,
 *    E, -) is there, and each line equals, field by field, the tuple the
 *    client expects from what it did (acceptance 3 of issue 3);
 *  - the service log holds the telnet user names and passwords;
 *  - OUT holds byte for byte what the in-process responder sent: a replay
 *    is deterministic for a seed, time taken from the packets. */
#include "check.h"
#include "stack-client.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cap-reader.h"
#include "fp.h"
#include "sc-config.h"
#include "stack.h"
#include "templ-nmapdb.h"

#define WEB TC_IP(192, 0, 2, 10)
#define CLIENT TC_IP(198, 51, 100, 9)
#define T0 1700000000000000000ull
#define MS 1000000ull
#define SEED 20240611

static const char conf_text[] =
	"create web\n"
	"set web personality \"Microsoft Windows Server 2003\"\n"
	"set web default tcp action closed\n"
	"add web tcp port 80 http-iis\n"
	"add web tcp port 23 telnet\n"
	"add web udp port 1434 mssql-resolver\n"
	"bind 192.0.2.10 web\n";

struct exp {
	char kind;
	uint8_t proto;
	uint16_t sport, dport;
	uint32_t ip_len;
	uint8_t flags;
	uint64_t rx, tx;
	const char *os;
};

struct world {
	struct tc *t;
	struct stack *s;
	struct fp_db *fp;
	struct nmdb *osdb;      /* what vigia-sensord loads for the personality */
	pcap_t *dead;
	pcap_dumper_t *in;
	uint64_t now;
	uint8_t f[1600];
	struct exp exp[64];
	int nexp;
	struct tc_frame *sent;          /* everything the responder emitted */
	int nsent;
};

static struct world *W;

static void tap(void *ctx, uint64_t ts, const uint8_t *f, uint32_t len)
{
	struct world *w = ctx;
	if (w->nsent < 4096 && len <= sizeof w->sent[0].b) {
		w->sent[w->nsent].ts = ts;
		w->sent[w->nsent].len = len;
		memcpy(w->sent[w->nsent].b, f, len);
		w->nsent++;
	}
}

static void feed(uint32_t len)
{
	W->now += MS;
	struct pcap_pkthdr h;
	h.ts.tv_sec = (time_t)(W->now / 1000000000u);
	h.ts.tv_usec = (suseconds_t)(W->now % 1000000000u);
	h.caplen = h.len = len;
	pcap_dump((u_char *)W->in, &h, W->f);
	stack_input(W->s, VG_LINK_ETHERNET, W->now, W->f, len, len);
}

static void expect(char kind, uint8_t proto, uint16_t sport, uint16_t dport, uint32_t ip_len,
		   uint8_t flags, uint64_t rx, uint64_t tx, const char *os)
{
	struct exp *e = &W->exp[W->nexp++];
	*e = (struct exp){ kind, proto, sport, dport, ip_len, flags, rx, tx, os };
}

/* The [OS] label p0f gives the client's SYNs (all built alike). */
static const char *client_os(void)
{
	if (!W->fp)
		return NULL;
	uint8_t f[128];
	uint32_t len = tc_tcp(f, CLIENT, 1, WEB, 1, 1, 0, VG_TH_SYN, NULL, 0);
	struct vg_pkt p;
	memset(&p, 0, sizeof p);
	if (vg_decode(VG_LINK_ETHERNET, f, len, len, &p) != VG_DEC_OK)
		return NULL;
	struct fp_result r;
	if (fp_match_syn(W->fp, &p, &r) != 1)
		return NULL;
	return fp_label_name(W->fp, r.label);
}

/* --- the client ------------------------------------------------------------ */

struct cli {
	uint16_t sport, dport;
	uint32_t snd_nxt, rcv_nxt;
	bool fin_seen;
	char rx[8192];
	uint32_t rxlen;
};

static void collect(struct cli *c)
{
	for (int i = 0; i < W->t->nout; i++) {
		struct vg_pkt p;
		if (tc_decode(&W->t->out[i], &p) != VG_DEC_OK || p.proto != 6 ||
		    p.sport != c->dport || p.dport != c->sport)
			continue;
		if (p.tcp_seq == c->rcv_nxt && p.payload_caplen && c->rxlen + p.payload_caplen < sizeof c->rx) {
			memcpy(c->rx + c->rxlen, p.payload, p.payload_caplen);
			c->rxlen += p.payload_caplen;
			c->rcv_nxt += p.payload_caplen;
		}
		if ((p.tcp_flags & VG_TH_FIN) && p.tcp_seq + p.payload_caplen == c->rcv_nxt) {
			c->rcv_nxt++;
			c->fin_seen = true;
		}
	}
	c->rx[c->rxlen] = '\0';
	tc_clear(W->t);
}

static void seg(struct cli *c, uint8_t flags, const char *data)
{
	uint32_t n = data ? (uint32_t)strlen(data) : 0;
	feed(tc_tcp(W->f, CLIENT, c->sport, WEB, c->dport, c->snd_nxt, c->rcv_nxt, flags, data, n));
	c->snd_nxt += n + !!(flags & VG_TH_FIN);
	collect(c);
}

static bool dialogue(uint16_t sport, uint16_t dport, const char *const *msgs, int nmsgs,
		     struct cli *c)
{
	memset(c, 0, sizeof *c);
	c->sport = sport;
	c->dport = dport;
	c->snd_nxt = 5000;
	tc_clear(W->t);
	feed(tc_tcp(W->f, CLIENT, sport, WEB, dport, c->snd_nxt, 0, VG_TH_SYN, NULL, 0));
	expect('-', 6, sport, dport, 60, VG_TH_SYN, 0, 0, client_os());
	struct vg_pkt p;
	if (W->t->nout != 1 || tc_decode(&W->t->out[0], &p) != VG_DEC_OK ||
	    p.tcp_flags != (VG_TH_SYN | VG_TH_ACK))
		return false;
	c->snd_nxt++;
	c->rcv_nxt = p.tcp_seq + 1;
	tc_clear(W->t);
	seg(c, VG_TH_ACK, NULL);
	expect('S', 6, sport, dport, 0, 0, 0, 0, client_os());
	uint64_t sent = 0;
	for (int i = 0; i < nmsgs; i++) {
		seg(c, VG_TH_ACK | VG_TH_PSH, msgs[i]);
		sent += strlen(msgs[i]);
		seg(c, VG_TH_ACK, NULL);
	}
	seg(c, VG_TH_ACK | VG_TH_FIN, NULL);
	seg(c, VG_TH_ACK, NULL);
	expect('E', 6, sport, dport, 0, 0, sent, c->rxlen, NULL);
	return c->fin_seen;
}

static bool build_capture(const char *in_path, const struct sc_config *cfg)
{
	struct stack_opts o;
	tc_opts(&o, W->t, cfg, SEED);
	o.fp = W->fp;
	struct vg_err oe = { 0 };
	if (nmdb_load(&W->osdb, NMDB_DEFAULT_PATH, &oe) == 0)
		o.osdb = W->osdb;
	W->t->tap = tap;
	W->t->tap_ctx = W;
	struct vg_err e = { 0 };
	if (stack_new(&W->s, &o, &e) < 0)
		return false;
	W->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
	W->in = pcap_dump_open(W->dead, in_path);
	if (!W->in)
		return false;
	W->now = T0;

	feed(tc_echo(W->f, CLIENT, WEB, 7, 1, "0123456789abcdef", 16));
	expect('-', 1, 8, 0, 44, 0, 0, 0, NULL);
	feed(tc_tcp(W->f, CLIENT, 40443, WEB, 443, 1, 0, VG_TH_SYN, NULL, 0));
	expect('-', 6, 40443, 443, 60, VG_TH_SYN, 0, 0, client_os());

	struct cli c;
	static const char *const http[] = { "GET / HTTP/1.0\r\nHost: 192.0.2.10\r\n\r\n" };
	CHECK(dialogue(40080, 80, http, 1, &c));
	CHECK(strstr(c.rx, "Microsoft-IIS") != NULL);
	static const char *const telnet[] = { "\r\n", "root\r\n", "toor\r\n", "admin\r\n",
					      "admin1234\r\n" };
	dialogue(40023, 23, telnet, 5, &c);
	CHECK(strstr(c.rx, "login") != NULL);

	tc_clear(W->t);
	uint8_t q = 0x02;
	feed(tc_udp(W->f, CLIENT, 40434, WEB, 1434, &q, 1));
	expect('S', 17, 40434, 1434, 0, 0, 0, 0, client_os());
	struct vg_pkt p;
	uint32_t reply = W->t->nout == 1 && tc_decode(&W->t->out[0], &p) == VG_DEC_OK
				 ? p.payload_caplen : 0;
	CHECK(reply > 0);
	feed(tc_udp(W->f, CLIENT, 40435, WEB, 2000, "x", 1));
	expect('-', 17, 40435, 2000, 29, 0, 0, 0, client_os());
	/* the end of the replay ends the UDP flow */
	expect('E', 17, 40434, 1434, 0, 0, 1, reply, NULL);
	stack_finish(W->s, W->now);
	pcap_dump_close(W->in);
	pcap_close(W->dead);
	return true;
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

TEST(replayed_dialogues_log_every_kind_field_by_field_and_output_is_deterministic)
{
	char dir[] = "/tmp/vigia-replay-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char conf[300], in[300], out[300], log[300], svc[300], mac[] = "02:00:00:00:00:99";
	snprintf(conf, sizeof conf, "%s/honeyd.conf", dir);
	snprintf(in, sizeof in, "%s/in.pcap", dir);
	snprintf(out, sizeof out, "%s/out.pcap", dir);
	snprintf(log, sizeof log, "%s/honeyd.log", dir);
	snprintf(svc, sizeof svc, "%s/service.log", dir);
	FILE *f = fopen(conf, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs(conf_text, f);
	fclose(f);

	W = calloc(1, sizeof *W);
	W->t = calloc(1, sizeof *W->t);
	W->sent = calloc(4096, sizeof *W->sent);
	struct vg_err e = { 0 };
	bool have_fp = access(FP_DEFAULT_DB, R_OK) == 0 && fp_db_load(&W->fp, FP_DEFAULT_DB, &e) == 0;
	struct sc_config *cfg = NULL;
	CHECK_EQ_I(sc_config_load(&cfg, conf, &e), 0);
	CHECK(cfg && build_capture(in, cfg));

	const char *bd = getenv("VIGIA_BUILDDIR");
	char prog[512];
	snprintf(prog, sizeof prog, "%s/src/sensord/vigia-sensord", bd ? bd : "build");
	char seed[32];
	snprintf(seed, sizeof seed, "%d", SEED);
	char *argv[20];
	int a = 0;
	argv[a++] = prog;
	argv[a++] = "-f";
	argv[a++] = conf;
	argv[a++] = "--replay";
	argv[a++] = in;
	argv[a++] = "--write";
	argv[a++] = out;
	argv[a++] = "-l";
	argv[a++] = log;
	argv[a++] = "-s";
	argv[a++] = svc;
	argv[a++] = "--seed";
	argv[a++] = seed;
	argv[a++] = "--mac";
	argv[a++] = mac;
	if (have_fp) {
		argv[a++] = "--p0f-db";
		argv[a++] = FP_DEFAULT_DB;
	}
	argv[a] = NULL;
	CHECK_EQ_I(run(argv), 0);

	/* the connection log, field by field */
	f = fopen(log, "r");
	CHECK(f != NULL);
	char line[1024], os[128];
	int i = 0, kinds[3] = { 0 }, banners = 0;
	while (f && fgets(line, sizeof line, f)) {
		struct hl_event ev;
		int rc = hl_parse(line, &ev, os, sizeof os, &e);
		CHECK_EQ_I(rc, 0);
		if (rc < 0) {
			fprintf(stderr, "hl_parse: %s: %s", e.msg, line);
			continue;
		}
		if ((int)ev.kind == HL_LOG_STARTED || (int)ev.kind == HL_LOG_STOPPED) {
			banners++;
			continue;
		}
		kinds[ev.kind == HL_START ? 0 : ev.kind == HL_END ? 1 : 2]++;
		if (i >= W->nexp) {
			CHECK_FAIL_("unexpected line: %s", line);
			i++;
			continue;
		}
		const struct exp *x = &W->exp[i++];
		CHECK_EQ_I(ev.kind, x->kind);
		CHECK_EQ_U(ev.proto, x->proto);
		CHECK_EQ_U(vg_ip4(&ev.src), CLIENT);
		CHECK_EQ_U(vg_ip4(&ev.dst), WEB);
		CHECK_EQ_U(ev.sport, x->sport);
		CHECK_EQ_U(ev.dport, x->dport);
		if (x->kind == '-') {
			CHECK_EQ_U(ev.ip_len, x->ip_len);
			CHECK_EQ_U(ev.tcp_flags, x->flags);
		}
		if (x->kind == 'E') {
			CHECK_EQ_U(ev.rx_bytes, x->rx);
			CHECK_EQ_U(ev.tx_bytes, x->tx);
		}
		if (x->kind != 'E')
			CHECK_STREQ(ev.os ? ev.os : "", x->os ? x->os : "");
		if (ev.ts_ns < T0 || ev.ts_ns > W->now + MS)
			CHECK_FAIL_("line time %llu outside the capture", (unsigned long long)ev.ts_ns);
	}
	if (f)
		fclose(f);
	CHECK_EQ_I(i, W->nexp);
	CHECK_EQ_I(banners, 2);
	CHECK(kinds[0] >= 1 && kinds[1] >= 1 && kinds[2] >= 1);

	/* the service log: what was tried at the login prompt */
	f = fopen(svc, "r");
	CHECK(f != NULL);
	char all[8192] = "";
	size_t n = f ? fread(all, 1, sizeof all - 1, f) : 0;
	all[n] = '\0';
	if (f)
		fclose(f);
	CHECK(strstr(all, "root") != NULL);
	CHECK(strstr(all, "toor") != NULL);
	CHECK(strstr(all, "admin1234") != NULL);
	CHECK(strstr(all, "tcp(6) 198.51.100.9 40023 192.0.2.10 23: |") != NULL);

	/* OUT equals what the in-process responder sent */
	struct cap_reader *r;
	CHECK_EQ_I(cap_open(&r, out, &e), 0);
	struct cap_packet pk;
	int k = 0, same = 0;
	while (r && cap_next(r, &pk, &e) == 1) {
		if (k < W->nsent && pk.ts_ns == W->sent[k].ts && pk.caplen == W->sent[k].len &&
		    !memcmp(pk.data, W->sent[k].b, pk.caplen))
			same++;
		k++;
	}
	if (r)
		cap_close(r);
	printf("# %d frames sent, %d equal in OUT\n", W->nsent, same);
	CHECK(W->nsent > 12);
	CHECK_EQ_I(k, W->nsent);
	CHECK_EQ_I(same, W->nsent);

	stack_free(W->s);
	sc_config_free(cfg);
	nmdb_free(W->osdb);
	fp_db_free(W->fp);
	free(W->sent);
	free(W->t);
	free(W);
	const char *files[] = { conf, in, out, log, svc };
	for (size_t j = 0; j < sizeof files / sizeof files[0]; j++)
		if (!getenv("KEEP")) unlink(files[j]);
	rmdir(dir);
}

int main(void)
{
	RUN(replayed_dialogues_log_every_kind_field_by_field_and_output_is_deterministic);
	return check_summary();
}
