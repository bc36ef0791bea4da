/* test-stack.c: the responder, driven frame by frame through its API.
 *
 * A tiny client (stack-client.h) does what a real one would: SYN, reads
 * the SYN-ACK, ACKs the cookie, sends a request, reads the reply, closes.
 * Full dialogues with HTTP (the IIS page), telnet (user names and
 * passwords recorded) and the proxy ports (request recorded, 200 answered,
 * and not one socket opened: socket() and connect() are interposed below
 * and count calls), then each rule of the stack on its own. */
#include "check.h"
#include "stack-client.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "sc-config.h"
#include "stack.h"
#include "svc.h"

/* Interposed: the responder and its services must never open a socket.
 * The executable's definitions take precedence over libc's for every
 * caller, the static libraries included. */
static int socket_calls, connect_calls;
int socket(int domain, int type, int protocol)
{
	(void)domain;
	(void)type;
	(void)protocol;
	socket_calls++;
	errno = EACCES;
	return -1;
}
int connect(int fd, const struct sockaddr *a, socklen_t l)
{
	(void)fd;
	(void)a;
	(void)l;
	connect_calls++;
	errno = EACCES;
	return -1;
}

static const char conf_text[] =
	"create web\n"
	"set web personality \"Microsoft Windows XP Professional SP1\"\n"
	"set web default tcp action closed\n"
	"set web ethernet \"00:0c:29:aa:bb:cc\"\n"
	"add web tcp port 80 http-iis\n"
	"add web tcp port 23 telnet\n"
	"add web tcp port 21 open\n"
	"add web tcp port 8080 proxy\n"
	"add web tcp port 3128 proxy\n"
	"add web tcp port 25 block\n"
	"add web tcp port 113 reset\n"
	"add web tcp port 9999 open\n"
	"add web udp port 1434 mssql-resolver\n"
	"add web udp port 9 open\n"
	"add web udp port 53 block\n"
	"bind 192.0.2.10 web\n"
	"create lin\n"
	"set lin personality \"Linux 2.6.32\"\n"
	"add lin tcp port 22 open\n"
	"bind 192.0.2.11 lin\n"
	"create drop\n"
	"set drop droprate in 100\n"
	"add drop tcp port 80 open\n"
	"bind 192.0.2.12 drop\n"
	"create cisco\n"
	"set cisco personality \"Cisco IOS 12.4\"\n"
	"set cisco default icmp action block\n"
	"bind 192.0.2.13 cisco\n"
	"vigia max-connections 3\n";

#define WEB TC_IP(192, 0, 2, 10)
#define LIN TC_IP(192, 0, 2, 11)
#define DROP TC_IP(192, 0, 2, 12)
#define CISCO TC_IP(192, 0, 2, 13)
#define DFLT TC_IP(192, 0, 2, 77)
#define CLIENT TC_IP(198, 51, 100, 7)
#define T0 1700000000000000000ull
#define MS 1000000ull

static struct sc_config *load_conf(void)
{
	struct sc_config *c = NULL;
	struct vg_err e = { 0 };
	if (sc_config_load_buf(&c, "test.conf", conf_text, sizeof conf_text - 1, &e) < 0) {
		fprintf(stderr, "config: %s\n", e.msg);
		return NULL;
	}
	if (sc_config_claim(c, "192.0.2.0/24", &e) < 0) {
		fprintf(stderr, "claim: %s\n", e.msg);
		sc_config_free(c);
		return NULL;
	}
	return c;
}

struct env {
	struct tc *t;
	struct sc_config *cfg;
	struct stack *s;
	uint64_t now;
	uint8_t f[1600];
};

static bool env_open(struct env *e, uint64_t seed)
{
	memset(e, 0, sizeof *e);
	e->t = calloc(1, sizeof *e->t);
	e->cfg = load_conf();
	if (!e->t || !e->cfg)
		return false;
	struct stack_opts o;
	tc_opts(&o, e->t, e->cfg, seed);
	struct vg_err err = { 0 };
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
}

/* --- the client's side of a connection ----------------------------------- */

struct cli {
	struct env *e;
	uint32_t dst;
	uint16_t sport, dport;
	uint32_t snd_nxt, rcv_nxt, isn;
	bool fin_seen;
	uint16_t max_seg;
	char rx[16384];
	uint32_t rxlen;
};

/* Take the server's in-order data out of the frames emitted since the
 * last clear; true if anything was for this connection. */
static bool cli_collect(struct cli *c)
{
	bool any = false;
	for (int i = 0; i < c->e->t->nout; i++) {
		struct vg_pkt p;
		if (tc_decode(&c->e->t->out[i], &p) != VG_DEC_OK || p.proto != 6 ||
		    p.sport != c->dport || p.dport != c->sport)
			continue;
		any = true;
		if (p.payload_caplen > c->max_seg)
			c->max_seg = (uint16_t)p.payload_caplen;
		if (p.tcp_seq == c->rcv_nxt && p.payload_caplen) {
			uint32_t n = p.payload_caplen;
			if (c->rxlen + n < sizeof c->rx) {
				memcpy(c->rx + c->rxlen, p.payload, n);
				c->rxlen += n;
			}
			c->rcv_nxt += n;
		}
		if ((p.tcp_flags & VG_TH_FIN) && p.tcp_seq + p.payload_caplen == c->rcv_nxt) {
			c->rcv_nxt++;
			c->fin_seen = true;
		}
	}
	c->rx[c->rxlen] = '\0';
	tc_clear(c->e->t);
	return any;
}

static bool cli_connect(struct cli *c, struct env *e, uint32_t dst, uint16_t sport,
			uint16_t dport)
{
	memset(c, 0, sizeof *c);
	c->e = e;
	c->dst = dst;
	c->sport = sport;
	c->dport = dport;
	c->snd_nxt = 1000;
	tc_clear(e->t);
	feed(e, tc_tcp(e->f, CLIENT, sport, dst, dport, c->snd_nxt, 0, VG_TH_SYN, NULL, 0));
	if (e->t->nout != 1)
		return false;
	struct vg_pkt p;
	if (tc_decode(&e->t->out[0], &p) != VG_DEC_OK ||
	    p.tcp_flags != (VG_TH_SYN | VG_TH_ACK) || p.tcp_ack != c->snd_nxt + 1)
		return false;
	c->snd_nxt++;
	c->isn = p.tcp_seq;
	c->rcv_nxt = p.tcp_seq + 1;
	tc_clear(e->t);
	feed(e, tc_tcp(e->f, CLIENT, sport, dst, dport, c->snd_nxt, c->rcv_nxt, VG_TH_ACK,
		       NULL, 0));
	cli_collect(c);
	return true;
}

static void cli_send(struct cli *c, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);
	feed(c->e, tc_tcp(c->e->f, CLIENT, c->sport, c->dst, c->dport, c->snd_nxt, c->rcv_nxt,
			  VG_TH_ACK | VG_TH_PSH, s, n));
	c->snd_nxt += n;
	cli_collect(c);
	/* ACK what came back, as a client does. */
	feed(c->e, tc_tcp(c->e->f, CLIENT, c->sport, c->dst, c->dport, c->snd_nxt, c->rcv_nxt,
			  VG_TH_ACK, NULL, 0));
	cli_collect(c);
}

/* Close from the client's side (or answer the server's FIN). */
static void cli_close(struct cli *c)
{
	feed(c->e, tc_tcp(c->e->f, CLIENT, c->sport, c->dst, c->dport, c->snd_nxt, c->rcv_nxt,
			  VG_TH_ACK | VG_TH_FIN, NULL, 0));
	c->snd_nxt++;
	cli_collect(c);
	feed(c->e, tc_tcp(c->e->f, CLIENT, c->sport, c->dst, c->dport, c->snd_nxt, c->rcv_nxt,
			  VG_TH_ACK, NULL, 0));
	cli_collect(c);
}

static int count_lines(const struct tc *t, char kind)
{
	int n = 0;
	for (int i = 0; i < t->nlines; i++)
		n += t->ev[i].kind == (enum hl_kind)kind;
	return n;
}

static const struct hl_event *last_line(const struct tc *t, char kind)
{
	for (int i = t->nlines - 1; i >= 0; i--)
		if (t->ev[i].kind == (enum hl_kind)kind)
			return &t->ev[i];
	return NULL;
}

static bool has_record(const struct tc *t, const char *s)
{
	for (int i = 0; i < t->nrec; i++)
		if (strstr(t->rec[i], s))
			return true;
	return false;
}

/* --- dialogues (acceptance 2) ------------------------------------------------- */

TEST(http_dialogue_returns_iis_page_and_logs_start_and_end)
{
	struct env e;
	CHECK(env_open(&e, 1));
	struct cli c;
	CHECK(cli_connect(&c, &e, WEB, 40001, 80));
	CHECK_EQ_I(count_lines(e.t, 'S'), 1);
	const char *req = "GET / HTTP/1.0\r\nHost: 192.0.2.10\r\n\r\n";
	cli_send(&c, req);
	CHECK(strncmp(c.rx, "HTTP/1.", 7) == 0);
	CHECK(strstr(c.rx, "Microsoft-IIS") != NULL);
	if (!c.fin_seen)
		cli_close(&c);
	else
		cli_close(&c);
	const struct hl_event *end = last_line(e.t, 'E');
	CHECK(end != NULL);
	if (end) {
		CHECK_EQ_U(end->rx_bytes, strlen(req));
		CHECK_EQ_U(end->tx_bytes, c.rxlen);
		CHECK_EQ_U(end->sport, 40001);
		CHECK_EQ_U(end->dport, 80);
	}
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.conn_open, 0);
	CHECK_EQ_U(st.conn_total, 1);
	CHECK_EQ_I(e.t->bad_csum, 0);
	env_close(&e);
}

TEST(telnet_logins_tried_are_recorded)
{
	struct env e;
	CHECK(env_open(&e, 2));
	struct cli c;
	CHECK(cli_connect(&c, &e, WEB, 40002, 23));
	CHECK(c.rxlen > 0);             /* option negotiation first */
	cli_send(&c, "\r\n");
	CHECK(strstr(c.rx, "login:") != NULL);
	cli_send(&c, "root\r\n");
	CHECK(strstr(c.rx, "assword") != NULL);
	cli_send(&c, "hunter2\r\n");
	cli_send(&c, "admin\r\n");
	cli_send(&c, "12345\r\n");
	CHECK(has_record(e.t, "root"));
	CHECK(has_record(e.t, "hunter2"));
	CHECK(has_record(e.t, "admin"));
	CHECK(has_record(e.t, "12345"));
	cli_close(&c);
	CHECK_EQ_I(count_lines(e.t, 'E'), 1);
	CHECK_EQ_I(e.t->bad_csum, 0);
	env_close(&e);
}

static void proxy_dialogue(uint16_t port)
{
	struct env e;
	CHECK(env_open(&e, 3));
	socket_calls = connect_calls = 0;
	struct cli c;
	CHECK(cli_connect(&c, &e, WEB, 40003, port));
	cli_send(&c, "GET http://www.example.com/ HTTP/1.1\r\nHost: www.example.com\r\n\r\n");
	CHECK(strstr(c.rx, " 200 ") != NULL);
	CHECK(has_record(e.t, "www.example.com"));
	cli_close(&c);
	CHECK_EQ_I(socket_calls, 0);
	CHECK_EQ_I(connect_calls, 0);
	env_close(&e);
}

TEST(proxy_8080_records_request_answers_200_and_connects_nowhere)
{
	proxy_dialogue(8080);
}

TEST(proxy_3128_records_request_answers_200_and_connects_nowhere)
{
	proxy_dialogue(3128);
}

TEST(interposed_socket_counts_calls)
{
	/* The check above can fail: a call here is seen. */
	int before = socket_calls;
	CHECK(socket(AF_INET, SOCK_STREAM, 0) < 0);
	CHECK_EQ_I(socket_calls, before + 1);
}

/* --- TCP rules ------------------------------------------------------------------ */

TEST(syn_to_open_port_gets_synack_with_template_ttl_window_mss_df)
{
	struct env e;
	CHECK(env_open(&e, 4));
	feed(&e, tc_tcp(e.f, CLIENT, 5000, WEB, 80, 77, 0, VG_TH_SYN, NULL, 0));
	CHECK_EQ_I(e.t->nout, 1);
	struct vg_pkt p;
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	CHECK_EQ_U(p.tcp_flags, VG_TH_SYN | VG_TH_ACK);
	CHECK_EQ_U(p.tcp_ack, 78);
	CHECK_EQ_U(p.ttl, 128);
	CHECK_EQ_U(p.tcp_win, 65535);           /* Windows XP */
	CHECK(p.df);
	CHECK_EQ_U(p.tcp_hlen, 24);
	CHECK_EQ_U(p.l4[20], 2);                /* MSS option */
	CHECK_EQ_U((p.l4[22] << 8) | p.l4[23], 1460);
	/* from the template's MAC to the client's */
	CHECK(memcmp(e.t->out[0].b, tc_client_mac, 6) == 0);
	static const uint8_t tmac[6] = { 0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc };
	CHECK(memcmp(e.t->out[0].b + 6, tmac, 6) == 0);
	/* Linux template */
	tc_clear(e.t);
	feed(&e, tc_tcp(e.f, CLIENT, 5001, LIN, 22, 77, 0, VG_TH_SYN, NULL, 0));
	CHECK_EQ_I(e.t->nout, 1);
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	CHECK_EQ_U(p.ttl, 64);
	CHECK_EQ_U(p.tcp_win, 29200);
	/* no connection state for a half-open connection */
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.conn_open, 0);
	CHECK_EQ_I(count_lines(e.t, '-'), 2);
	CHECK_EQ_I(e.t->bad_csum, 0);
	env_close(&e);
}

TEST(closed_port_rst_ack_block_silence_reset_rst)
{
	struct env e;
	CHECK(env_open(&e, 5));
	struct vg_pkt p;
	feed(&e, tc_tcp(e.f, CLIENT, 5000, WEB, 443, 500, 0, VG_TH_SYN, NULL, 0));
	CHECK_EQ_I(e.t->nout, 1);
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	CHECK_EQ_U(p.tcp_flags, VG_TH_RST | VG_TH_ACK);
	CHECK_EQ_U(p.tcp_ack, 501);
	CHECK_EQ_U(p.tcp_seq, 0);
	tc_clear(e.t);
	feed(&e, tc_tcp(e.f, CLIENT, 5000, WEB, 25, 500, 0, VG_TH_SYN, NULL, 0));
	CHECK_EQ_I(e.t->nout, 0);
	feed(&e, tc_tcp(e.f, CLIENT, 5000, WEB, 113, 500, 0, VG_TH_SYN, NULL, 0));
	CHECK_EQ_I(e.t->nout, 1);
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	CHECK(p.tcp_flags & VG_TH_RST);
	/* never a RST for a RST; an ACK to a closed port gets RST seq=ack */
	tc_clear(e.t);
	feed(&e, tc_tcp(e.f, CLIENT, 5000, WEB, 443, 500, 0, VG_TH_RST, NULL, 0));
	CHECK_EQ_I(e.t->nout, 0);
	feed(&e, tc_tcp(e.f, CLIENT, 5000, WEB, 443, 500, 4242, VG_TH_ACK, NULL, 0));
	CHECK_EQ_I(e.t->nout, 1);
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	CHECK_EQ_U(p.tcp_flags, VG_TH_RST);
	CHECK_EQ_U(p.tcp_seq, 4242);
	/* the default template answers addresses nobody bound */
	tc_clear(e.t);
	feed(&e, tc_tcp(e.f, CLIENT, 5000, DFLT, 80, 500, 0, VG_TH_SYN, NULL, 0));
	CHECK_EQ_I(e.t->nout, 1);
	/* and nothing answers outside the claimed networks */
	tc_clear(e.t);
	feed(&e, tc_tcp(e.f, CLIENT, 5000, TC_IP(203, 0, 113, 1), 80, 500, 0, VG_TH_SYN, NULL, 0));
	CHECK_EQ_I(e.t->nout, 0);
	/* open port, FIN scan: dropped as a real stack does; Xmas to closed: RST */
	feed(&e, tc_tcp(e.f, CLIENT, 5000, WEB, 80, 500, 0, VG_TH_FIN, NULL, 0));
	CHECK_EQ_I(e.t->nout, 0);
	feed(&e, tc_tcp(e.f, CLIENT, 5000, WEB, 444, 500, 0,
			VG_TH_FIN | VG_TH_PSH | VG_TH_URG, NULL, 0));
	CHECK_EQ_I(e.t->nout, 1);
	CHECK_EQ_I(e.t->bad_csum, 0);
	env_close(&e);
}

TEST(ack_with_wrong_cookie_is_reset_and_takes_no_slot)
{
	struct env e;
	CHECK(env_open(&e, 6));
	feed(&e, tc_tcp(e.f, CLIENT, 5000, WEB, 80, 100, 0, VG_TH_SYN, NULL, 0));
	struct vg_pkt p;
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	uint32_t isn = p.tcp_seq;
	tc_clear(e.t);
	feed(&e, tc_tcp(e.f, CLIENT, 5000, WEB, 80, 101, isn + 2, VG_TH_ACK, NULL, 0));
	CHECK_EQ_I(e.t->nout, 1);
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	CHECK_EQ_U(p.tcp_flags, VG_TH_RST);
	/* a cookie is bound to its tuple: another source port fails */
	tc_clear(e.t);
	feed(&e, tc_tcp(e.f, CLIENT, 5001, WEB, 80, 101, isn + 1, VG_TH_ACK, NULL, 0));
	CHECK_EQ_I(e.t->nout, 1);
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.tcp_bad_cookie, 2);
	CHECK_EQ_U(st.conn_open, 0);
	CHECK_EQ_I(count_lines(e.t, 'S'), 0);
	env_close(&e);
}

TEST(cookie_expires_after_its_time_slots)
{
	struct env e;
	CHECK(env_open(&e, 7));
	feed(&e, tc_tcp(e.f, CLIENT, 5000, WEB, 9999, 100, 0, VG_TH_SYN, NULL, 0));
	struct vg_pkt p;
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	uint32_t isn = p.tcp_seq;
	e.now += 400ull * 1000 * MS;    /* 400 s later */
	tc_clear(e.t);
	feed(&e, tc_tcp(e.f, CLIENT, 5000, WEB, 9999, 101, isn + 1, VG_TH_ACK, NULL, 0));
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.conn_open, 0);
	CHECK_EQ_U(st.tcp_bad_cookie, 1);
	/* while a fresh one, 60 s old, is taken */
	feed(&e, tc_tcp(e.f, CLIENT, 5002, WEB, 9999, 100, 0, VG_TH_SYN, NULL, 0));
	CHECK_EQ_I(tc_decode(&e.t->out[e.t->nout - 1], &p), VG_DEC_OK);
	isn = p.tcp_seq;
	e.now += 60ull * 1000 * MS;
	feed(&e, tc_tcp(e.f, CLIENT, 5002, WEB, 9999, 101, isn + 1, VG_TH_ACK, NULL, 0));
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.conn_open, 1);
	env_close(&e);
}

TEST(same_seed_same_isn_other_seed_other_isn)
{
	uint32_t isn[3];
	for (int i = 0; i < 3; i++) {
		struct env e;
		CHECK(env_open(&e, i == 2 ? 99 : 42));
		feed(&e, tc_tcp(e.f, CLIENT, 5000, WEB, 80, 100, 0, VG_TH_SYN, NULL, 0));
		struct vg_pkt p;
		CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
		isn[i] = p.tcp_seq;
		env_close(&e);
	}
	CHECK_EQ_U(isn[0], isn[1]);
	CHECK(isn[0] != isn[2]);
}

TEST(out_of_order_segment_is_dropped_and_reacked_then_taken_in_order)
{
	struct env e;
	CHECK(env_open(&e, 8));
	struct cli c;
	CHECK(cli_connect(&c, &e, WEB, 40010, 9999));
	uint32_t base = c.snd_nxt;
	/* "world" first, beyond a gap */
	feed(&e, tc_tcp(e.f, CLIENT, 40010, WEB, 9999, base + 6, c.rcv_nxt, VG_TH_ACK, "world", 5));
	CHECK_EQ_I(e.t->nout, 1);
	struct vg_pkt p;
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	CHECK_EQ_U(p.tcp_ack, base);            /* duplicate ACK: still waiting */
	tc_clear(e.t);
	feed(&e, tc_tcp(e.f, CLIENT, 40010, WEB, 9999, base, c.rcv_nxt, VG_TH_ACK, "hello ", 6));
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	CHECK_EQ_U(p.tcp_ack, base + 6);
	tc_clear(e.t);
	/* a retransmission overlapping what was taken: only the new part counts */
	feed(&e, tc_tcp(e.f, CLIENT, 40010, WEB, 9999, base + 3, c.rcv_nxt, VG_TH_ACK, "lo world", 8));
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	CHECK_EQ_U(p.tcp_ack, base + 11);
	tc_clear(e.t);
	/* a pure duplicate is re-ACKed */
	feed(&e, tc_tcp(e.f, CLIENT, 40010, WEB, 9999, base, c.rcv_nxt, VG_TH_ACK, "hello ", 6));
	CHECK_EQ_I(e.t->nout, 1);
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	CHECK_EQ_U(p.tcp_ack, base + 11);
	c.snd_nxt = base + 11;
	tc_clear(e.t);
	cli_close(&c);
	const struct hl_event *end = last_line(e.t, 'E');
	CHECK(end != NULL);
	if (end)
		CHECK_EQ_U(end->rx_bytes, 11);
	env_close(&e);
}

TEST(reply_is_segmented_to_the_peer_mss_and_retransmitted)
{
	struct env e;
	CHECK(env_open(&e, 9));
	/* A SYN without options: MSS 536 by default. */
	uint32_t len = tc_tcp(e.f, CLIENT, 40020, WEB, 80, 1000, 0, VG_TH_SYN, NULL, 0);
	/* strip the options: header 20 bytes */
	uint8_t *th = e.f + 34;
	th[12] = 5 << 4;
	len -= 20;
	e.f[16] = 0;
	e.f[17] = 40;
	e.f[24] = e.f[25] = 0;
	tc_put16(e.f + 24, (uint16_t)~tc_sum(e.f + 14, 20, 0));
	th[16] = th[17] = 0;
	tc_l4_csum(e.f, 20, 16);
	feed(&e, len);
	struct vg_pkt p;
	CHECK_EQ_I(e.t->nout, 1);
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	struct cli c = { .e = &e, .dst = WEB, .sport = 40020, .dport = 80, .snd_nxt = 1001,
			 .rcv_nxt = p.tcp_seq + 1 };
	tc_clear(e.t);
	feed(&e, tc_tcp(e.f, CLIENT, 40020, WEB, 80, c.snd_nxt, c.rcv_nxt, VG_TH_ACK, NULL, 0));
	const char *req = "GET /index.html HTTP/1.0\r\n\r\n";
	feed(&e, tc_tcp(e.f, CLIENT, 40020, WEB, 80, c.snd_nxt, c.rcv_nxt, VG_TH_ACK,
			req, (uint32_t)strlen(req)));
	c.snd_nxt += (uint32_t)strlen(req);
	int first_burst = e.t->nout;
	cli_collect(&c);
	printf("# reply %u bytes, largest segment %u\n", c.rxlen, c.max_seg);
	CHECK(c.rxlen > 536);                   /* the page needs several segments */
	CHECK(c.max_seg <= 536);
	/* nothing ACKed: after a second the first unacked segment comes again */
	e.now += 1100 * MS;
	stack_tick(e.s, e.now);
	CHECK(e.t->nout >= 1);
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	CHECK(p.payload_caplen > 0);
	CHECK(first_burst > 1);
	CHECK_EQ_I(e.t->bad_csum, 0);
	env_close(&e);
}

TEST(rst_ends_connection_and_idle_timeout_resets)
{
	struct env e;
	CHECK(env_open(&e, 10));
	struct cli c;
	CHECK(cli_connect(&c, &e, WEB, 40030, 9999));
	/* out-of-window RST ignored */
	feed(&e, tc_tcp(e.f, CLIENT, 40030, WEB, 9999, c.snd_nxt + 1000000, 0, VG_TH_RST, NULL, 0));
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.conn_open, 1);
	feed(&e, tc_tcp(e.f, CLIENT, 40030, WEB, 9999, c.snd_nxt, 0, VG_TH_RST, NULL, 0));
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.conn_open, 0);
	CHECK_EQ_I(count_lines(e.t, 'E'), 1);

	CHECK(cli_connect(&c, &e, WEB, 40031, 9999));
	tc_clear(e.t);
	e.now += (STACK_TCP_IDLE_S + 2) * 1000 * MS;
	stack_tick(e.s, e.now);
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.conn_open, 0);
	CHECK_EQ_I(count_lines(e.t, 'E'), 2);
	CHECK_EQ_I(e.t->nout, 1);
	struct vg_pkt p;
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	CHECK(p.tcp_flags & VG_TH_RST);
	env_close(&e);
}

TEST(connection_cap_refuses_with_rst_and_counts)
{
	struct env e;
	CHECK(env_open(&e, 11));
	struct cli c;
	for (int i = 0; i < 3; i++)
		CHECK(cli_connect(&c, &e, WEB, (uint16_t)(41000 + i), 9999));
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.conn_open, 3);
	/* the fourth handshake: SYN-ACK (cookies cost nothing), then RST */
	tc_clear(e.t);
	feed(&e, tc_tcp(e.f, CLIENT, 41003, WEB, 9999, 1000, 0, VG_TH_SYN, NULL, 0));
	struct vg_pkt p;
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	CHECK_EQ_U(p.tcp_flags, VG_TH_SYN | VG_TH_ACK);
	uint32_t isn = p.tcp_seq;
	tc_clear(e.t);
	feed(&e, tc_tcp(e.f, CLIENT, 41003, WEB, 9999, 1001, isn + 1, VG_TH_ACK, NULL, 0));
	CHECK_EQ_I(e.t->nout, 1);
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	CHECK_EQ_U(p.tcp_flags, VG_TH_RST);
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.conn_open, 3);
	CHECK_EQ_U(st.conn_cap_hits, 1);
	/* finish logs an E line for each, sending nothing */
	tc_clear(e.t);
	stack_finish(e.s, e.now);
	CHECK_EQ_I(count_lines(e.t, 'E'), 3);
	CHECK_EQ_I(e.t->nout, 0);
	env_close(&e);
}

/* --- UDP, ICMP, ARP, droprate ------------------------------------------------------ */

TEST(udp_closed_port_unreachable_rate_limited_per_source)
{
	struct env e;
	CHECK(env_open(&e, 12));
	for (int i = 0; i < 10; i++)
		feed(&e, tc_udp(e.f, CLIENT, 7000, WEB, (uint16_t)(2000 + i), "x", 1));
	CHECK_EQ_I(e.t->nout, 6);               /* Linux's burst */
	struct vg_pkt p;
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	CHECK_EQ_U(p.proto, 1);
	CHECK_EQ_U(p.icmp_type, 3);
	CHECK_EQ_U(p.icmp_code, 3);
	/* the quote is the offending IP header and 8 bytes: ports 7000 -> 2000 */
	CHECK_EQ_U(p.payload_caplen, 28);
	CHECK_EQ_U((p.payload[20] << 8) | p.payload[21], 7000);
	CHECK_EQ_U((p.payload[22] << 8) | p.payload[23], 2000);
	/* another source has its own bucket; a second later one token more */
	tc_clear(e.t);
	feed(&e, tc_udp(e.f, CLIENT + 1, 7000, WEB, 2000, "x", 1));
	CHECK_EQ_I(e.t->nout, 1);
	tc_clear(e.t);
	e.now += 1000 * MS;
	feed(&e, tc_udp(e.f, CLIENT, 7000, WEB, 2000, "x", 1));
	feed(&e, tc_udp(e.f, CLIENT, 7000, WEB, 2000, "x", 1));
	CHECK_EQ_I(e.t->nout, 1);
	/* blocked: silence */
	tc_clear(e.t);
	feed(&e, tc_udp(e.f, CLIENT + 2, 7000, WEB, 53, "x", 1));
	CHECK_EQ_I(e.t->nout, 0);
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK(st.icmp_ratelimited >= 4);
	CHECK_EQ_I(e.t->bad_csum, 0);
	env_close(&e);
}

TEST(udp_open_port_flow_logged_start_and_end_after_idle)
{
	struct env e;
	CHECK(env_open(&e, 13));
	/* MS-SQL resolver: 0x02 asks for the instances */
	uint8_t q = 0x02;
	feed(&e, tc_udp(e.f, CLIENT, 7001, WEB, 1434, &q, 1));
	CHECK_EQ_I(e.t->nout, 1);
	struct vg_pkt p;
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	CHECK_EQ_U(p.proto, 17);
	CHECK_EQ_U(p.sport, 1434);
	CHECK_EQ_U(p.dport, 7001);
	CHECK(p.payload_caplen > 0);
	uint32_t replied = p.payload_caplen;
	/* open without a service: silence, but a flow */
	tc_clear(e.t);
	feed(&e, tc_udp(e.f, CLIENT, 7002, WEB, 9, "discard", 7));
	CHECK_EQ_I(e.t->nout, 0);
	CHECK_EQ_I(count_lines(e.t, 'S'), 2);
	e.now += (STACK_UDP_IDLE_S + 2) * 1000 * MS;
	stack_tick(e.s, e.now);
	CHECK_EQ_I(count_lines(e.t, 'E'), 2);
	bool found = false;
	for (int i = 0; i < e.t->nlines; i++)
		if (e.t->ev[i].kind == HL_END && e.t->ev[i].dport == 1434) {
			CHECK_EQ_U(e.t->ev[i].rx_bytes, 1);
			CHECK_EQ_U(e.t->ev[i].tx_bytes, replied);
			found = true;
		}
	CHECK(found);
	CHECK_EQ_I(e.t->bad_csum, 0);
	env_close(&e);
}

TEST(icmp_echo_reply_same_payload_and_blocked_template_silent)
{
	struct env e;
	CHECK(env_open(&e, 14));
	const char data[] = "abcdefghijklmnopqrstuvwabcdefghi";
	feed(&e, tc_echo(e.f, CLIENT, WEB, 0x4242, 7, data, 32));
	CHECK_EQ_I(e.t->nout, 1);
	struct vg_pkt p;
	CHECK_EQ_I(tc_decode(&e.t->out[0], &p), VG_DEC_OK);
	CHECK_EQ_U(p.icmp_type, 0);
	CHECK_EQ_U(p.payload_caplen, 32);
	CHECK(memcmp(p.payload, data, 32) == 0);
	CHECK_EQ_U((p.l4[4] << 8) | p.l4[5], 0x4242);
	CHECK_EQ_U(p.ttl, 128);
	tc_clear(e.t);
	feed(&e, tc_echo(e.f, CLIENT, CISCO, 1, 1, data, 8));
	CHECK_EQ_I(e.t->nout, 0);
	CHECK_EQ_I(count_lines(e.t, '-'), 2);
	CHECK_EQ_I(e.t->bad_csum, 0);
	env_close(&e);
}

TEST(arp_who_has_claimed_address_answered_with_template_mac)
{
	struct env e;
	CHECK(env_open(&e, 15));
	feed(&e, tc_arp(e.f, CLIENT, WEB));
	CHECK_EQ_I(e.t->nout, 1);
	const uint8_t *r = e.t->out[0].b;
	static const uint8_t tmac[6] = { 0x00, 0x0c, 0x29, 0xaa, 0xbb, 0xcc };
	CHECK(memcmp(r, tc_client_mac, 6) == 0);
	CHECK(memcmp(r + 6, tmac, 6) == 0);
	CHECK_EQ_U((r[12] << 8) | r[13], 0x0806);
	CHECK_EQ_U(r[21], 2);                   /* reply */
	CHECK(memcmp(r + 22, tmac, 6) == 0);
	CHECK_EQ_U(tc_get32(r + 28), WEB);
	CHECK_EQ_U(tc_get32(r + 38), CLIENT);
	/* without an ethernet line: the interface's MAC */
	tc_clear(e.t);
	feed(&e, tc_arp(e.f, CLIENT, DFLT));
	CHECK_EQ_I(e.t->nout, 1);
	CHECK(memcmp(e.t->out[0].b + 6, tc_sensor_mac, 6) == 0);
	tc_clear(e.t);
	feed(&e, tc_arp(e.f, CLIENT, TC_IP(203, 0, 113, 5)));
	CHECK_EQ_I(e.t->nout, 0);
	env_close(&e);
}

TEST(droprate_100_drops_everything_and_counts)
{
	struct env e;
	CHECK(env_open(&e, 16));
	for (int i = 0; i < 20; i++)
		feed(&e, tc_tcp(e.f, CLIENT, (uint16_t)(6000 + i), DROP, 80, 1, 0, VG_TH_SYN, NULL, 0));
	CHECK_EQ_I(e.t->nout, 0);
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.dropped_droprate, 20);
	env_close(&e);
}

TEST(bad_checksum_dropped_when_verifying)
{
	struct env e;
	CHECK(env_open(&e, 17));
	uint32_t len = tc_tcp(e.f, CLIENT, 5000, WEB, 80, 1, 0, VG_TH_SYN, NULL, 0);
	e.f[34 + 16] ^= 0x55;
	feed(&e, len);
	CHECK_EQ_I(e.t->nout, 0);
	struct stack_stats st;
	stack_get_stats(e.s, &st);
	CHECK_EQ_U(st.bad_checksum, 1);
	env_close(&e);
}

TEST(persona_table_values)
{
	struct stack_persona p;
	stack_persona_for("Microsoft Windows 7 Professional", &p);
	CHECK_EQ_U(p.ttl, 128);
	CHECK_EQ_U(p.win, 64240);
	CHECK(p.df);
	stack_persona_for("Linux 3.2", &p);
	CHECK_EQ_U(p.ttl, 64);
	CHECK_EQ_U(p.win, 29200);
	stack_persona_for("FreeBSD 6.2", &p);
	CHECK_EQ_U(p.win, 65535);
	CHECK_EQ_U(p.ttl, 64);
	stack_persona_for("Cisco IOS 12.4", &p);
	CHECK_EQ_U(p.ttl, 255);
	CHECK(!p.df);
}

TEST(checksum_of_rfc1071_example)
{
	/* RFC 1071 section 3: 0001 f203 f4f5 f6f7 sums to ddf2 */
	const uint8_t b[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	CHECK_EQ_U(stack_csum(b, 8, 0), (uint16_t)~0xddf2);
}

int main(void)
{
	RUN(http_dialogue_returns_iis_page_and_logs_start_and_end);
	RUN(telnet_logins_tried_are_recorded);
	RUN(proxy_8080_records_request_answers_200_and_connects_nowhere);
	RUN(proxy_3128_records_request_answers_200_and_connects_nowhere);
	RUN(interposed_socket_counts_calls);
	RUN(syn_to_open_port_gets_synack_with_template_ttl_window_mss_df);
	RUN(closed_port_rst_ack_block_silence_reset_rst);
	RUN(ack_with_wrong_cookie_is_reset_and_takes_no_slot);
	RUN(cookie_expires_after_its_time_slots);
	RUN(same_seed_same_isn_other_seed_other_isn);
	RUN(out_of_order_segment_is_dropped_and_reacked_then_taken_in_order);
	RUN(reply_is_segmented_to_the_peer_mss_and_retransmitted);
	RUN(rst_ends_connection_and_idle_timeout_resets);
	RUN(connection_cap_refuses_with_rst_and_counts);
	RUN(udp_closed_port_unreachable_rate_limited_per_source);
	RUN(udp_open_port_flow_logged_start_and_end_after_idle);
	RUN(icmp_echo_reply_same_payload_and_blocked_template_silent);
	RUN(arp_who_has_claimed_address_answered_with_template_mac);
	RUN(droprate_100_drops_everything_and_counts);
	RUN(bad_checksum_dropped_when_verifying);
	RUN(persona_table_values);
	RUN(checksum_of_rfc1071_example);
	return check_summary();
}
