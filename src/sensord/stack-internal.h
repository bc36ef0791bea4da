/* stack-internal.h: what the stack-*.c files share (not a public API). */
#ifndef VIGIA_STACK_INTERNAL_H
#define VIGIA_STACK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack.h"
#include "svc.h"

#define NS_PER_S 1000000000ull

struct persona;         /* templ-persona.h */
struct stp_rt;          /* stack-persona.c */

/* Link-layer addressing of a reply: the reverse of what came in. */
struct st_l2 {
	uint8_t dst[6], src[6];
	uint16_t vlan;          /* 802.1Q VLAN id echoed back */
	bool has_vlan;
};

/* One template at run time: its reply parameters and prebuilt headers
 * (IPv4 + TCP, IPv4 + UDP, IPv4 alone), patched per reply. */
struct st_tmpl {
	const struct sc_template *t;
	struct stack_persona pe;
	uint8_t mac[6];
	uint8_t tcp4[40];
	uint8_t udp4[28];
	uint8_t ip4[20];
	uint16_t ip_id;
	uint64_t drop_below;    /* droprate as a threshold on a 32-bit draw */
	uint32_t uptime0;       /* uptime at the stack's first packet, seconds */
	/* The nmap-os-db personality (stack-persona.c), or NULL: then pe
	 * alone, from the keyword table, shapes the replies. */
	const struct persona *pers;
	struct stp_rt *prt;
};

enum { CONN_FREE = 0, CONN_TCP, CONN_UDP };

/* An established TCP connection or a UDP flow to an open port. */
struct st_conn {
	uint8_t kind;                   /* CONN_* */
	bool fin_rcvd, fin_sent, fin_acked, close_req, svc_closed;
	bool fin_first;                 /* we closed first: TIME_WAIT after */
	bool time_wait;                 /* ended and logged; absorbs late segments */
	uint8_t retries;
	struct vg_ip peer, self;        /* peer = the remote side */
	uint16_t pport, sport;          /* peer's port, our port */
	uint32_t iss, irs, snd_una, snd_nxt, snd_max, rcv_nxt;
	uint16_t mss, peer_win;
	uint32_t tmpl;                  /* index of its st_tmpl */
	struct st_l2 l2;
	uint64_t start_ns, last_rx_ns, last_tx_ns;
	uint64_t rx_bytes, tx_bytes;
	int os_label;
	const struct svc_def *svc;
	uint8_t *mem;                   /* one allocation: tx buffer, then svc state */
	uint32_t txlen;                 /* bytes queued from snd_una on */
	uint32_t call_bytes;            /* queued during the current service call */
	uint32_t script;                /* index + 1 of its external script, 0: none */
	int32_t next;                   /* hash chain or free list */
};

#define ST_TXBUF 8192u

struct st_bucket {
	uint32_t ip;
	uint32_t tokens;                /* in thousandths of a token */
	uint64_t last_ns;
};

struct st_oslabel {
	uint32_t ip;
	int32_t label;                  /* label id + 1; 0: unknown (calloc) */
};

/* An external script (add T tcp|udp port N "command"): a process whose
 * stdin, stdout and stderr are pipes the stack polls, never blocking. */
#define ST_SCRIPT_IN 4096u      /* peer bytes not yet taken by the script */
#define ST_SCRIPT_ERRLINE 256u  /* longest stderr line logged as one */
#define ST_UDP_MAX_PAYLOAD 1472u /* no fragments: one Ethernet frame */

struct st_script {
	bool used;
	bool in_eof;                    /* close stdin once `in` is written */
	bool out_eof;                   /* stdout ended: the connection closes */
	bool dirty;                     /* replay: stack_script_settle waits for it */
	bool killed;                    /* by the wall-clock limit */
	bool flush;                     /* settle: output read, not yet sent */
	bool reply_ready;               /* settle: UDP reply complete, not yet sent */
	uint8_t proto;                  /* 6 or 17 */
	uint64_t seq;                   /* order of start: flushes go in this order */
	int pid;                        /* > 0 until reaped */
	int pgid;                       /* its session and process group */
	int fd_in, fd_out, fd_err;      /* our ends, -1 once closed */
	uint32_t conn;                  /* TCP: index + 1 of its connection; 0: none */
	struct vg_ip peer, self;
	uint16_t pport, sport;
	uint32_t tmpl;
	struct st_l2 l2;                /* UDP: where the reply goes */
	uint64_t deadline_ms, last_act_ms;   /* CLOCK_MONOTONIC */
	uint64_t err_logged;            /* stderr bytes logged (capped) */
	uint32_t inlen, inoff;
	uint32_t reply_max, replylen;   /* UDP: the reply, at most the request's size */
	uint32_t errlen;
	uint8_t in[ST_SCRIPT_IN];
	uint8_t reply[ST_UDP_MAX_PAYLOAD];
	char err[ST_SCRIPT_ERRLINE];
};

#define ST_ICMP_BUCKETS 4096u
#define ST_PPS_BUCKETS 65536u   /* per-destination send buckets (guard) */
#define ST_AMP_BUCKETS 4096u    /* per-source amplification buckets (guard) */
#define ST_OS_CACHE 65536u

struct stack {
	struct stack_opts o;
	const struct sc_config *cfg;
	struct st_tmpl *tmpls;
	size_t ntmpls;
	uint64_t key[2];                /* SipHash key of the SYN cookies */
	uint64_t rng;

	struct st_conn *conns;
	uint32_t ncap;                  /* TCP connections at most (max_connections) */
	uint32_t udp_cap;               /* UDP flows at most */
	uint32_t nslots;                /* ncap + udp_cap */
	uint32_t *buckets;              /* chain heads, index + 1, 0 = empty */
	uint32_t nbuckets;              /* power of two */
	int32_t free_head;
	uint32_t tcp_open, udp_open, time_wait;

	struct st_bucket *icmp_rl;
	struct st_bucket icmp_global;
	struct st_oslabel *oscache;

	uint64_t now_ns, next_tick_ns;
	bool have_time;
	struct stack_stats st;

	struct st_script *scripts;      /* NULL when no template runs scripts */
	uint32_t max_scripts, nscripts; /* slots, slots in use */
	uint32_t script_uid, script_gid;
	bool script_switch_user;        /* root: drop to the uid/gid above */
	bool script_settling;           /* inside stack_script_settle */
	uint64_t script_seq;
	char *script_dir;               /* scripts' working directory */
	uint64_t t0_ns;                 /* time of the first packet */

	struct persona *personas;       /* one per template, NULL without nmap-os-db */
	struct stp_rt *prt;

	/* guard (stack.h): send caps, amplification buckets, and the
	 * addresses released by the ARP guard (open addressing, 0 = empty). */
	struct st_bucket *pps_rl, *amp_rl;
	struct st_bucket pps_global;
	uint32_t *released;
	uint32_t nreleased;

	uint8_t *udp_scratch;           /* UDP services' state, per datagram */
	size_t udp_scratch_len;
	uint8_t out[STACK_MAX_FRAME + 64];
};

/* stack-core.c */
uint32_t st_csum_add(uint32_t sum, const void *buf, uint32_t len);
uint16_t st_csum_fold(uint32_t sum);
uint32_t st_pseudo4(const uint8_t *ip_src, const uint8_t *ip_dst, uint8_t proto,
		    uint32_t len);
/* Write the Ethernet header into s->out; returns the IP header's place. */
uint8_t *st_l2_write(struct stack *s, const struct st_l2 *l2);
void st_emit(struct stack *s, const uint8_t *end);
void st_log(struct stack *s, enum hl_kind kind, const struct vg_pkt *p,
	    int os_label);
void st_log_conn(struct stack *s, enum hl_kind kind, const struct st_conn *c);
const char *st_os_name(const struct stack *s, int label);
int st_os_of(const struct stack *s, const struct vg_ip *src);
void st_ip4_finish(uint8_t *ip, uint16_t totlen, struct st_tmpl *tm,
		   const uint8_t *src, const uint8_t *dst);

/* A token bucket of `rate` tokens per second holding at most `burst`;
 * true when a token was taken.  A fresh bucket (last_ns 0) starts full. */
bool st_bucket_take(struct st_bucket *b, uint64_t now_ns, uint32_t rate, uint32_t burst);
/* guard: may a UDP reply of len bytes go to dst, for a request of req
 * bytes?  Counts what it refuses. */
bool st_amp_allowed(struct stack *s, const struct vg_ip *dst, uint32_t len, uint32_t req);

/* stack-cookie.c: SYN cookies.  The ISN encodes a time slot, an MSS index
 * and a keyed hash of the 4-tuple with both. */
uint64_t st_siphash(const uint64_t key[2], const uint8_t *m, size_t len);
uint32_t st_cookie_make(const struct stack *s, const struct vg_pkt *p,
			uint16_t peer_mss, uint16_t *mss_out);
/* Checks the ACK's (ack - 1) against the tuple; returns the MSS encoded,
 * or 0 when the cookie is not ours or too old. */
uint16_t st_cookie_check(const struct stack *s, const struct vg_pkt *p);
/* The MSS values an ISN's 3-bit index stands for. */
extern const uint16_t st_cookie_mss_table[8];

/* stack-tcp.c */
void st_tcp_input(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		  const struct vg_pkt *p);
void st_tcp_send(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		 const uint8_t *self, const uint8_t *peer, uint16_t sport,
		 uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		 uint16_t mss_opt, const uint8_t *data, uint32_t len);
void st_conn_timer(struct stack *s, struct st_conn *c);
void st_conn_end(struct stack *s, struct st_conn *c);
/* Release a slot without logging (TIME_WAIT over). */
struct st_conn *st_conn_find(struct stack *s, uint8_t kind, const struct vg_ip *peer,
			     uint16_t pport, const struct vg_ip *self, uint16_t sport);
struct st_conn *st_conn_alloc(struct stack *s, uint8_t kind, const struct vg_ip *peer,
			      uint16_t pport, const struct vg_ip *self, uint16_t sport);
void st_conn_release(struct stack *s, struct st_conn *c);
const struct svc_def *st_service_for(const struct sc_template *t, uint8_t proto,
				     uint16_t port, enum sc_action act,
				     const struct sc_port *rule);

/* stack-tcp.c: the script appended output to c->mem (txlen grew), or its
 * stdout ended (eof: FIN after the output). */
void st_tcp_script_output(struct stack *s, struct st_conn *c, bool eof);

/* stack-script.c */
int st_scripts_init(struct stack *s, struct vg_err *err);
void st_scripts_free(struct stack *s);
/* Kill every script still running (end of a replay, shutdown). */
void st_scripts_finish(struct stack *s);
bool st_script_available(const struct stack *s);
/* Start the connection's script; 0, or a negative errno (no slot, fork
 * failed): the caller resets the connection. */
int st_script_start_tcp(struct stack *s, struct st_conn *c, const char *cmd);
/* Hand peer bytes to the script; returns how many it took (the rest is
 * not acknowledged, so the peer sends it again later). */
uint32_t st_script_feed(struct stack *s, struct st_conn *c, const uint8_t *d, uint32_t n);
/* The peer sent FIN: the script's stdin ends once what it has is written. */
void st_script_input_end(struct stack *s, struct st_conn *c);
/* The connection is over: the script is killed and its slot freed once
 * reaped. */
void st_script_detach(struct stack *s, struct st_conn *c);
int st_script_start_udp(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
			const struct vg_pkt *p, const uint8_t *d, uint32_t len, const char *cmd);

/* stack-persona.c: replies shaped by a template's nmap-os-db personality
 * (tm->pers set).  The *_input and reply functions return true when they
 * handled the segment (an answer, or the personality's silence). */
struct stp_rt *stp_rt_new(uint64_t seed, const uint64_t key[2]);
void stp_rt_free(struct stp_rt *rt);
int st_personas_init(struct stack *s, struct vg_err *err);
void st_personas_free(struct stack *s);
/* The IP ID of a datagram from self: its protocol and, for TCP, flags
 * choose the personality's sequence (TI, CI or II). */
uint16_t stp_ip_id(struct st_tmpl *tm, uint8_t proto, uint8_t tcp_flags, const uint8_t *self);
bool stp_tcp_input(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		   const struct vg_pkt *p, enum sc_action act);
void stp_syn_ack(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		 const struct vg_pkt *p);
/* nmap's test T2..T7 (an ACK without a valid cookie to an open port: 4). */
bool stp_tcp_reply(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		   const struct vg_pkt *p, int test);
uint16_t stp_cookie_check(struct stack *s, struct st_tmpl *tm, const struct vg_pkt *p);
bool stp_echo_reply(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		    const struct vg_pkt *p, const uint8_t *icmp, uint32_t len);
bool stp_port_unreach(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		      const struct vg_pkt *p);

/* stack-udp.c (UDP and ICMP) */
void st_udp_send(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		 const uint8_t *self, const uint8_t *peer, uint16_t sport, uint16_t dport,
		 const uint8_t *data, uint32_t len);
void st_udp_input(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		  const struct vg_pkt *p);
void st_icmp_input(struct stack *s, struct st_tmpl *tm, const struct st_l2 *l2,
		   const struct vg_pkt *p);

#endif
