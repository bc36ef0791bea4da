/* stack-tcp.c: the TCP responder and the connection table.
 *
 * No state exists before the handshake completes: the SYN-ACK's ISN is a
 * SYN cookie (stack-cookie.c), and only the ACK that returns it takes a
 * connection slot.  After that a connection is a small struct plus one
 * buffer (replies not yet acknowledged, then the service's state),
 * allocated once at establishment.  Data is taken strictly in order:
 * segments beyond rcv_nxt are dropped and re-ACKed so the peer resends
 * them, which costs no buffer; overlap with what was taken is trimmed.
 * Replies are sent at once up to the peer's window, retransmitted
 * go-back-N with exponential backoff, and the connection is reset after
 * five tries or STACK_TCP_IDLE_S of silence. */
#include "stack-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SEQ_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((a) - (b)) > 0)

#define TCP_MAX_RETRIES 5
#define ST_TIME_WAIT_S 2

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* --- sending ------------------------------------------------------------- */

void st_tcp_send(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		 const uint8_t *self, const uint8_t *peer, uint16_t sport,
		 uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		 uint16_t mss_opt, const uint8_t *data, uint32_t len)
{
	uint8_t *ip = st_l2_write(s, l2);
	uint32_t hlen = mss_opt ? 24 : 20;
	uint32_t room = (uint32_t)(s->out + STACK_MAX_FRAME - ip) - 20 - hlen;
	if (len > room)
		len = room;
	memcpy(ip, tm->tcp4, 40);
	uint8_t *th = ip + 20;
	put16(th, sport);
	put16(th + 2, dport);
	put32(th + 4, seq);
	put32(th + 8, ack);
	th[12] = (uint8_t)((hlen / 4) << 4);
	th[13] = flags;
	if (flags & VG_TH_RST)
		put16(th + 14, 0);
	if (mss_opt) {
		th[20] = 2;
		th[21] = 4;
		put16(th + 22, mss_opt);
	}
	if (len)
		memcpy(th + hlen, data, len);
	uint16_t tot = (uint16_t)(20 + hlen + len);
	st_ip4_finish(ip, tot, tm, self, peer);
	uint32_t sum = st_pseudo4(self, peer, 6, hlen + len);
	put16(th + 16, st_csum_fold(st_csum_add(sum, th, hlen + len)));
	st_emit(s, th + hlen + len);
}

/* RST for a segment nobody wants (RFC 793, "reset generation"). */
static void send_reset(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		       const struct vg_pkt *p)
{
	if (p->tcp_flags & VG_TH_RST)
		return;
	if (p->tcp_flags & VG_TH_ACK) {
		st_tcp_send(s, tm, l2, p->dst.a, p->src.a, p->dport, p->sport,
			    p->tcp_ack, 0, VG_TH_RST, 0, NULL, 0);
	} else {
		uint32_t seglen = p->payload_len + !!(p->tcp_flags & VG_TH_SYN) +
				  !!(p->tcp_flags & VG_TH_FIN);
		st_tcp_send(s, tm, l2, p->dst.a, p->src.a, p->dport, p->sport, 0,
			    p->tcp_seq + seglen, VG_TH_RST | VG_TH_ACK, 0, NULL, 0);
	}
}

static void conn_send(struct stack *s, struct st_conn *c, uint32_t seq, uint8_t flags,
		      const uint8_t *data, uint32_t len)
{
	st_tcp_send(s, &s->tmpls[c->tmpl], &c->l2, c->self.a, c->peer.a, c->sport,
		    c->pport, seq, c->rcv_nxt, flags, 0, data, len);
	c->last_tx_ns = s->now_ns;
}

/* Send what is queued and fits the peer's window; FIN after the last
 * byte once closing; a bare ACK when asked and nothing else went out. */
static void conn_output(struct stack *s, struct st_conn *c, bool need_ack)
{
	bool sent = false;
	uint32_t wnd = c->peer_win > c->mss ? c->peer_win : c->mss;
	while (!c->fin_sent) {
		uint32_t off = c->snd_nxt - c->snd_una;
		if (off > c->txlen)
			break;
		uint32_t n = c->txlen - off;
		uint32_t left = wnd > off ? wnd - off : 0;
		if (n > c->mss)
			n = c->mss;
		if (n > left)
			n = left;
		bool fin = c->close_req && off + n == c->txlen;
		if (!n && !fin)
			break;
		uint8_t flags = VG_TH_ACK | (n ? VG_TH_PSH : 0) | (fin ? VG_TH_FIN : 0);
		conn_send(s, c, c->snd_nxt, flags, c->mem + off, n);
		c->snd_nxt += n + fin;
		if (SEQ_GT(c->snd_nxt, c->snd_max)) {
			c->tx_bytes += c->snd_nxt - c->snd_max - (fin ? 1 : 0);
			c->snd_max = c->snd_nxt;
		}
		if (fin) {
			c->fin_sent = true;
			if (!c->fin_rcvd)
				c->fin_first = true;
		}
		sent = true;
	}
	if (!sent && need_ack)
		conn_send(s, c, c->snd_nxt, VG_TH_ACK, NULL, 0);
}

/* --- services --------------------------------------------------------- */

struct io_ctx {
	struct stack *s;
	struct st_conn *c;
};

static int io_send(struct svc_io *io, const void *buf, size_t len)
{
	struct io_ctx *x = io->ctx;
	struct st_conn *c = x->c;
	if (c->close_req || c->svc_closed)
		return -EPIPE;
	if (c->call_bytes + len > SVC_MAX_REPLY || c->txlen + len > ST_TXBUF)
		return -ENOSPC;
	memcpy(c->mem + c->txlen, buf, len);
	c->txlen += (uint32_t)len;
	c->call_bytes += (uint32_t)len;
	return 0;
}

static void io_close(struct svc_io *io)
{
	struct io_ctx *x = io->ctx;
	x->c->close_req = true;
}

static void io_record(struct svc_io *io, const char *key, const char *value)
{
	struct io_ctx *x = io->ctx;
	struct stack *s = x->s;
	struct st_conn *c = x->c;
	if (!s->o.record)
		return;
	struct hl_event ev;
	memset(&ev, 0, sizeof ev);
	ev.ts_ns = s->now_ns;
	ev.kind = HL_START;
	ev.proto = 6;
	ev.src = c->peer;
	ev.dst = c->self;
	ev.sport = c->pport;
	ev.dport = c->sport;
	s->o.record(s->o.ctx, &ev, key ? key : "", value ? value : "");
}

static void io_setup(struct svc_io *io, struct io_ctx *x, struct stack *s,
		     struct st_conn *c)
{
	memset(io, 0, sizeof *io);
	x->s = s;
	x->c = c;
	io->send = io_send;
	io->close = io_close;
	io->record = io_record;
	io->ctx = x;
	io->src = &c->peer;
	io->dst = &c->self;
	io->sport = c->pport;
	io->dport = c->sport;
	io->proto = 6;
	io->now_ns = s->now_ns;
	io->personality = s->tmpls[c->tmpl].t ? s->tmpls[c->tmpl].t->personality : NULL;
	c->call_bytes = 0;
}

static inline void *svc_state(struct st_conn *c)
{
	return c->mem + ST_TXBUF;
}

const struct svc_def *st_service_for(const struct sc_template *t, uint8_t proto,
				     uint16_t port, enum sc_action act,
				     const struct sc_port *rule)
{
	const struct svc_def *d = NULL;
	(void)t;
	switch (act) {
	case SC_SERVICE:
		if (rule && rule->arg)
			d = svc_find(rule->arg);
		break;
	case SC_PROXY:
		/* The rule's argument is the relay target Honeyd would have
		 * used; vigia only reports it and never connects. */
		d = svc_find("proxy");
		break;
	default:
		break;
	}
	/* "open" ports get the built-in service usually found on the port
	 * (script ports never come here: stack-script.c runs them). */
	if (!d)
		d = svc_for_port(proto, port);
	/* Other open TCP ports accept and record what the client sends. */
	if (!d && proto == 6)
		d = svc_find("accept");
	if (d && d->proto != proto)
		d = NULL;
	return d;
}

void st_tcp_script_output(struct stack *s, struct st_conn *c, bool eof)
{
	if (eof)
		c->close_req = true;
	conn_output(s, c, false);
}

/* --- connection table ------------------------------------------------------ */

static uint32_t conn_hash(const struct stack *s, uint8_t kind, const struct vg_ip *peer,
			  uint16_t pport, const struct vg_ip *self, uint16_t sport)
{
	/* Keyed so that a flood cannot aim at one chain. */
	uint64_t h = (vg_ip4(peer) ^ s->key[1]) * 0x9e3779b97f4a7c15ull;
	h ^= ((uint64_t)vg_ip4(self) << 32 | (uint32_t)pport << 16 | sport) + kind;
	h *= 0xc2b2ae3d27d4eb4full;
	h ^= h >> 29;
	return (uint32_t)h & (s->nbuckets - 1);
}

struct st_conn *st_conn_find(struct stack *s, uint8_t kind, const struct vg_ip *peer,
			     uint16_t pport, const struct vg_ip *self, uint16_t sport)
{
	uint32_t i = s->buckets[conn_hash(s, kind, peer, pport, self, sport)];
	while (i) {
		struct st_conn *c = &s->conns[i - 1];
		if (c->kind == kind && c->pport == pport && c->sport == sport &&
		    !memcmp(c->peer.a, peer->a, 4) && !memcmp(c->self.a, self->a, 4))
			return c;
		i = c->next > 0 ? (uint32_t)c->next : 0;
	}
	return NULL;
}

/* Chains hold index + 1 in `next` (0 ends a chain); the free list holds
 * plain indices (-1 ends it). */
struct st_conn *st_conn_alloc(struct stack *s, uint8_t kind, const struct vg_ip *peer,
			      uint16_t pport, const struct vg_ip *self, uint16_t sport)
{
	if (s->free_head < 0)
		return NULL;
	struct st_conn *c = &s->conns[s->free_head];
	s->free_head = c->next;
	memset(c, 0, sizeof *c);
	c->kind = kind;
	c->peer = *peer;
	c->self = *self;
	c->pport = pport;
	c->sport = sport;
	c->os_label = -1;
	uint32_t b = conn_hash(s, kind, peer, pport, self, sport);
	c->next = (int32_t)s->buckets[b];
	s->buckets[b] = (uint32_t)(c - s->conns) + 1;
	if (kind == CONN_TCP)
		s->tcp_open++;
	else
		s->udp_open++;
	return c;
}

void st_conn_release(struct stack *s, struct st_conn *c)
{
	uint32_t idx = (uint32_t)(c - s->conns) + 1;
	uint32_t *pp = &s->buckets[conn_hash(s, c->kind, &c->peer, c->pport, &c->self,
					     c->sport)];
	while (*pp) {
		struct st_conn *x = &s->conns[*pp - 1];
		if (*pp == idx) {
			*pp = (uint32_t)x->next;
			break;
		}
		pp = (uint32_t *)&x->next;
	}
	if (c->kind == CONN_UDP)
		s->udp_open--;
	else if (c->time_wait)
		s->time_wait--;
	else
		s->tcp_open--;
	free(c->mem);
	memset(c, 0, sizeof *c);
	c->kind = CONN_FREE;
	c->next = s->free_head;
	s->free_head = (int32_t)(idx - 1);
}

void st_conn_end(struct stack *s, struct st_conn *c)
{
	if (c->time_wait) {
		st_conn_release(s, c);
		return;
	}
	if (c->kind == CONN_TCP && c->svc && !c->svc_closed && c->svc->close) {
		struct svc_io io;
		struct io_ctx x;
		io_setup(&io, &x, s, c);
		c->svc_closed = true;
		c->svc->close(svc_state(c), &io);
	}
	if (c->script)
		st_script_detach(s, c);
	st_log_conn(s, HL_END, c);
	st_conn_release(s, c);
}

void st_conn_timer(struct stack *s, struct st_conn *c)
{
	if (c->time_wait) {
		if (s->now_ns - c->last_rx_ns >= ST_TIME_WAIT_S * NS_PER_S)
			st_conn_release(s, c);
		return;
	}
	uint64_t idle = (c->kind == CONN_TCP ? STACK_TCP_IDLE_S : STACK_UDP_IDLE_S) * NS_PER_S;
	if (s->now_ns - c->last_rx_ns >= idle) {
		if (c->kind == CONN_TCP)
			conn_send(s, c, c->snd_nxt, VG_TH_RST | VG_TH_ACK, NULL, 0);
		st_conn_end(s, c);
		return;
	}
	if (c->kind != CONN_TCP || c->snd_max == c->snd_una)
		return;
	uint64_t rto = NS_PER_S << c->retries;
	if (s->now_ns - c->last_tx_ns < rto)
		return;
	if (c->retries >= TCP_MAX_RETRIES) {
		conn_send(s, c, c->snd_nxt, VG_TH_RST | VG_TH_ACK, NULL, 0);
		st_conn_end(s, c);
		return;
	}
	c->retries++;
	c->snd_nxt = c->snd_una;
	c->fin_sent = false;
	conn_output(s, c, false);
}

/* --- input ------------------------------------------------------------------ */

static uint16_t peer_mss(const struct vg_pkt *p)
{
	uint32_t hl = p->tcp_hlen;
	if (hl > p->l4_caplen)
		hl = p->l4_caplen;
	const uint8_t *o = p->l4;
	for (uint32_t i = 20; i < hl;) {
		uint8_t kind = o[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hl || o[i + 1] < 2 || i + o[i + 1] > hl)
			break;
		if (kind == 2 && o[i + 1] == 4)
			return (uint16_t)(o[i + 2] << 8 | o[i + 3]);
		i += o[i + 1];
	}
	return 536;     /* RFC 879's default when the option is absent */
}

/* Both sides have closed.  The side that closed first waits in TIME_WAIT
 * (RFC 793), so that the peer's last ACK or a resent FIN is absorbed
 * instead of drawing a RST; kept short, as the slot is not free. */
static void conn_closed(struct stack *s, struct st_conn *c)
{
	if (!c->fin_first) {
		st_conn_end(s, c);
		return;
	}
	if (c->svc && !c->svc_closed && c->svc->close) {
		struct svc_io io;
		struct io_ctx x;
		io_setup(&io, &x, s, c);
		c->svc_closed = true;
		c->svc->close(svc_state(c), &io);
	}
	if (c->script)
		st_script_detach(s, c);
	st_log_conn(s, HL_END, c);
	c->time_wait = true;
	s->tcp_open--;
	s->time_wait++;
	free(c->mem);
	c->mem = NULL;
	c->txlen = 0;
}

/* Data and FIN of a segment on an established connection (ACK done). */
static void conn_segment(struct stack *s, struct st_conn *c, const struct vg_pkt *p)
{
	uint32_t len = p->payload_caplen < p->payload_len ? p->payload_caplen : p->payload_len;
	uint32_t seq = p->tcp_seq;
	bool need_ack = false;

	if (len) {
		if (SEQ_LEQ(seq, c->rcv_nxt) && SEQ_GT(seq + len, c->rcv_nxt)) {
			uint32_t skip = c->rcv_nxt - seq;
			const uint8_t *d = p->payload + skip;
			uint32_t n = len - skip;
			if (c->script)
				n = st_script_feed(s, c, d, n);
			c->rcv_nxt += n;
			c->rx_bytes += n;
			if (c->svc && c->svc->input && !c->close_req && !c->svc_closed) {
				struct svc_io io;
				struct io_ctx x;
				io_setup(&io, &x, s, c);
				c->svc->input(svc_state(c), &io, d, n);
			}
		}
		need_ack = true;    /* new data, a duplicate or a gap: ACK */
	}
	if (p->tcp_flags & VG_TH_FIN) {
		if (!c->fin_rcvd && seq + len == c->rcv_nxt) {
			c->rcv_nxt++;
			c->fin_rcvd = true;
			/* The peer is done: we close as well, after our data;
			 * a script first sees the end of its stdin and closes
			 * when its stdout ends. */
			if (c->script)
				st_script_input_end(s, c);
			else
				c->close_req = true;
		}
		need_ack = true;
	}
	conn_output(s, c, need_ack);
	if (c->fin_rcvd && c->fin_acked)
		conn_closed(s, c);
}

static void conn_ack(struct st_conn *c, const struct vg_pkt *p)
{
	uint32_t ack = p->tcp_ack;
	c->peer_win = p->tcp_win;
	if (!SEQ_GT(ack, c->snd_una) || SEQ_GT(ack, c->snd_max))
		return;
	uint32_t acked = ack - c->snd_una;
	uint32_t data = acked < c->txlen ? acked : c->txlen;
	memmove(c->mem, c->mem + data, c->txlen - data);
	c->txlen -= data;
	if (acked > data)
		c->fin_acked = true;
	c->snd_una = ack;
	if (SEQ_LT(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	c->retries = 0;
}

static void conn_input(struct stack *s, struct st_conn *c, const struct vg_pkt *p)
{
	uint8_t f = p->tcp_flags;
	if (c->time_wait) {
		if (f & VG_TH_RST)
			st_conn_release(s, c);
		else if (f & VG_TH_FIN)
			conn_send(s, c, c->snd_nxt, VG_TH_ACK, NULL, 0);
		return;
	}
	c->last_rx_ns = s->now_ns;
	if (f & VG_TH_RST) {
		/* In-window only, so a blind RST needs the sequence number. */
		uint32_t wnd = s->tmpls[c->tmpl].pe.win;
		if (SEQ_LEQ(c->rcv_nxt - 1, p->tcp_seq) && SEQ_LT(p->tcp_seq, c->rcv_nxt + wnd))
			st_conn_end(s, c);
		return;
	}
	if (f & VG_TH_SYN) {
		/* A SYN+ACK or a SYN inside the window: challenge ACK
		 * (RFC 5961), the peer resets if it lost the connection. */
		conn_send(s, c, c->snd_nxt, VG_TH_ACK, NULL, 0);
		return;
	}
	if (!(f & VG_TH_ACK))
		return;
	conn_ack(c, p);
	conn_segment(s, c, p);
}

static void establish(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		      const struct vg_pkt *p, enum sc_action act, const struct sc_port *rule)
{
	uint16_t mss = tm->pers ? stp_cookie_check(s, tm, p) : st_cookie_check(s, p);
	if (!mss) {
		s->st.tcp_bad_cookie++;
		st_log(s, HL_PROBE, p, st_os_of(s, &p->src));
		/* The personality's answer to nmap's T4 (ACK to an open port). */
		if (!tm->pers || !stp_tcp_reply(s, tm, l2, p, 4))
			send_reset(s, tm, l2, p);
		return;
	}
	if (s->tcp_open >= s->ncap) {
		s->st.conn_cap_hits++;
		st_log(s, HL_PROBE, p, st_os_of(s, &p->src));
		send_reset(s, tm, l2, p);
		return;
	}
	bool script = act == SC_SCRIPT && rule && rule->arg && s->scripts;
	if (script && !st_script_available(s)) {
		/* Every script slot is taken: refuse rather than fork more. */
		s->st.script_cap_hits++;
		st_log(s, HL_PROBE, p, st_os_of(s, &p->src));
		send_reset(s, tm, l2, p);
		return;
	}
	const struct svc_def *d = script ? NULL : st_service_for(tm->t, 6, p->dport, act, rule);
	uint8_t *mem = calloc(1, ST_TXBUF + (d ? d->state_size : 0));
	struct st_conn *c = mem ? st_conn_alloc(s, CONN_TCP, &p->src, p->sport, &p->dst,
						p->dport)
				: NULL;
	if (!c) {
		free(mem);
		s->st.conn_cap_hits++;
		st_log(s, HL_PROBE, p, st_os_of(s, &p->src));
		send_reset(s, tm, l2, p);
		return;
	}
	c->mem = mem;
	c->svc = d;
	c->tmpl = (uint32_t)(tm - s->tmpls);
	c->l2 = *l2;
	c->iss = p->tcp_ack - 1;
	c->snd_una = c->snd_nxt = c->snd_max = p->tcp_ack;
	c->rcv_nxt = p->tcp_seq;
	c->irs = p->tcp_seq - 1;
	c->mss = mss < tm->pe.mss ? mss : tm->pe.mss;
	c->peer_win = p->tcp_win;
	c->start_ns = c->last_rx_ns = c->last_tx_ns = s->now_ns;
	c->os_label = st_os_of(s, &p->src);
	s->st.conn_total++;
	st_log_conn(s, HL_START, c);
	if (script && st_script_start_tcp(s, c, rule->arg) < 0) {
		conn_send(s, c, c->snd_nxt, VG_TH_RST | VG_TH_ACK, NULL, 0);
		st_conn_end(s, c);
		return;
	}
	if (d && d->open) {
		struct svc_io io;
		struct io_ctx x;
		io_setup(&io, &x, s, c);
		d->open(svc_state(c), &io);
	}
	/* The ACK may carry data (and even FIN) already. */
	conn_segment(s, c, p);
}

void st_tcp_input(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		  const struct vg_pkt *p)
{
	if (p->l4_caplen < 20 || p->tcp_hlen < 20)
		return;
	struct st_conn *c = st_conn_find(s, CONN_TCP, &p->src, p->sport, &p->dst, p->dport);
	uint8_t f = p->tcp_flags;
	if (c) {
		/* A fresh SYN on a tuple we hold: the peer started over. */
		if ((f & (VG_TH_SYN | VG_TH_ACK)) == VG_TH_SYN &&
		    p->tcp_seq != c->irs) {
			st_conn_end(s, c);
		} else {
			conn_input(s, c, p);
			return;
		}
	}
	const struct sc_port *rule = NULL;
	enum sc_action act = sc_port_action(tm->t, 6, p->dport, &rule);
	if (tm->pers && stp_tcp_input(s, tm, l2, p, act))
		return;
	if (act == SC_BLOCK || (f & VG_TH_RST)) {
		st_log(s, HL_PROBE, p, st_os_of(s, &p->src));
		return;
	}
	if (act == SC_CLOSED || act == SC_RESET) {
		st_log(s, HL_PROBE, p, st_os_of(s, &p->src));
		send_reset(s, tm, l2, p);
		return;
	}
	/* Open (plain, service, proxy or script). */
	if ((f & (VG_TH_SYN | VG_TH_ACK)) == VG_TH_SYN) {
		st_log(s, HL_PROBE, p, st_os_of(s, &p->src));
		uint16_t mss;
		uint32_t isn = st_cookie_make(s, p, peer_mss(p), &mss);
		uint16_t our = tm->pe.mss;
		st_tcp_send(s, tm, l2, p->dst.a, p->src.a, p->dport, p->sport, isn,
			    p->tcp_seq + 1, VG_TH_SYN | VG_TH_ACK, our, NULL, 0);
		return;
	}
	if ((f & (VG_TH_SYN | VG_TH_ACK)) == VG_TH_ACK) {
		establish(s, tm, l2, p, act, rule);
		return;
	}
	st_log(s, HL_PROBE, p, st_os_of(s, &p->src));
	/* SYN+ACK out of nowhere gets a RST; segments with neither SYN nor
	 * ACK (FIN, NULL and Xmas scans) are dropped by an open port. */
	if (f & VG_TH_SYN)
		send_reset(s, tm, l2, p);
}
