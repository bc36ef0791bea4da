/* svc-proxy.c: an open proxy that goes nowhere (1080, 3128, 8080/tcp).
 *
 * It answers SOCKS4, SOCKS4a, SOCKS5 and HTTP proxy requests (CONNECT, and
 * GET with an absolute URI) the way an open proxy would, and records the
 * destination asked for and what the client sends through the "tunnel".
 * It NEVER connects anywhere: there is no socket code here nor anywhere
 * in the services (svc.h); the success replies are made up, and the
 * "destination's" answer to an HTTP request through the tunnel is a
 * fake page.  Spammers and proxy checkers thus show their payload and
 * reach nobody.
 *
 * The HTTP side speaks like Squid 2.7, which nmap names on 3128/8080;
 * the protocol is told from the first byte (4: SOCKS4, 5: SOCKS5, else
 * HTTP), as multi-protocol proxies do. */
#include "svc-http.h"

#include <stdio.h>
#include <string.h>

#define SOCKS_BUF 600          /* a SOCKS4a request: 8 + 256 + 256 bytes */
#define TUNNEL_KEEP 256u

enum { P_DETECT, P_SOCKS4, P_SOCKS5_HELLO, P_SOCKS5_AUTH, P_SOCKS5_REQ, P_HTTP, P_TUNNEL, P_DONE };

struct proxy_state {
	uint8_t mode;
	uint8_t tunnel_recorded;
	uint16_t sl;
	uint16_t tl;
	uint64_t tunnel_bytes;
	char dest[300];
	uint8_t sb[SOCKS_BUF];
	uint8_t tb[TUNNEL_KEEP];
	struct http_req req;
};

static const char squid_ver[] = "squid/2.7.STABLE9";

static void proxy_done(struct proxy_state *st, struct svc_io *io)
{
	io->close(io);
	st->mode = P_DONE;
}

static void tunnel_record(struct proxy_state *st, struct svc_io *io)
{
	if (st->tunnel_recorded || st->tl == 0)
		return;
	st->tunnel_recorded = 1;
	svc_record_bytes(io, "tunnel-data", st->tb, st->tl);
}

/* What "the destination" answers to an HTTP request through the tunnel
 * or to an absolute-URI GET: a plain page in the name of the host. */
static void fake_page(struct svc_io *io, const char *host, int via_squid)
{
	char date[40], body[512], esc[200], me[32];
	int n = snprintf(body, sizeof body,
			 "<html><head><title>%s</title></head>\n<body>\n<p>%s</p>\n</body></html>\n",
			 http_html_escape(esc, sizeof esc, host), esc);

	if (n < 0 || (size_t)n >= sizeof body)
		n = (int)strlen(body);
	svc_http_date(io, date, sizeof date);
	if (via_squid) {
		svc_hostname(io, me, sizeof me);
		svc_sendf(io, "HTTP/1.0 200 OK\r\nDate: %s\r\nServer: Apache\r\nContent-Type: text/html\r\n"
			  "Content-Length: %d\r\nX-Cache: MISS from %s\r\nVia: 1.0 %s:%u (%s)\r\n"
			  "Connection: close\r\n\r\n%s",
			  date, n, me, me, (unsigned)io->dport, squid_ver, body);
	} else {
		svc_sendf(io, "HTTP/1.0 200 OK\r\nDate: %s\r\nServer: Apache\r\nContent-Type: text/html\r\n"
			  "Content-Length: %d\r\nConnection: close\r\n\r\n%s", date, n, body);
	}
}

static int starts_http(const uint8_t *p, size_t n)
{
	static const char *const m[] = { "GET ", "POST ", "HEAD ", "PUT ", "OPTIONS " };
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		size_t l = strlen(m[i]);
		if (n >= l && !memcmp(p, m[i], l))
			return 1;
	}
	return 0;
}

static void tunnel_data(struct proxy_state *st, struct svc_io *io, const uint8_t *buf, size_t len)
{
	st->tunnel_bytes += len;
	if (st->tl < TUNNEL_KEEP) {
		size_t k = TUNNEL_KEEP - st->tl < len ? TUNNEL_KEEP - st->tl : len;
		memcpy(st->tb + st->tl, buf, k);
		st->tl = (uint16_t)(st->tl + k);
	}
	if (st->tunnel_recorded)
		return;
	if (starts_http(st->tb, st->tl)) {
		/* An HTTP request through the tunnel: answer as its host would,
		 * once the request head is in. */
		int complete = 0;
		for (size_t i = 0; i + 3 < st->tl; i++)
			if (!memcmp(st->tb + i, "\r\n\r\n", 4)) {
				complete = 1;
				break;
			}
		if (complete || st->tl == TUNNEL_KEEP) {
			char host[300];
			snprintf(host, sizeof host, "%s", st->dest);
			char *colon = strrchr(host, ':');
			if (colon)
				*colon = '\0';
			tunnel_record(st, io);
			fake_page(io, host, 0);
			proxy_done(st, io);
		}
		return;
	}
	/* Recorded once TUNNEL_KEEP bytes are in, or at the close: the same
	 * record however the stream was cut into segments. */
	if (st->tl == TUNNEL_KEEP)
		tunnel_record(st, io);
}

static void squid_error(struct svc_io *io, int code, const char *reason, const char *err)
{
	char date[40], me[32], body[700];
	int n = snprintf(body, sizeof body,
			 "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\">\n"
			 "<HTML><HEAD><TITLE>ERROR: The requested URL could not be retrieved</TITLE>\n"
			 "</HEAD><BODY>\n<H1>ERROR</H1>\n<H2>The requested URL could not be retrieved</H2>\n"
			 "<HR noshade size=\"1px\">\n<P>While trying to process the request:\n"
			 "<P>The following error was encountered:\n<UL><LI><STRONG>%s</STRONG></UL>\n"
			 "<P>Your cache administrator is <A HREF=\"mailto:webmaster\">webmaster</A>.\n"
			 "<BR clear=\"all\">\n<HR noshade size=\"1px\">\n<ADDRESS>\n"
			 "Generated %s by %s (%s)\n</ADDRESS>\n</BODY></HTML>\n",
			 reason, svc_http_date(io, date, sizeof date),
			 svc_hostname(io, me, sizeof me), squid_ver);
	if (n < 0 || (size_t)n >= sizeof body)
		n = (int)strlen(body);
	svc_sendf(io, "HTTP/1.0 %d %s\r\nServer: %s\r\nDate: %s\r\nContent-Type: text/html\r\n"
		  "Content-Length: %d\r\nX-Squid-Error: %s 0\r\nX-Cache: MISS from %s\r\n"
		  "Via: 1.0 %s:%u (%s)\r\nConnection: close\r\n\r\n%s",
		  code, reason, squid_ver, date, n, err, me, me, (unsigned)io->dport, squid_ver, body);
}

static void http_proxy(struct proxy_state *st, struct svc_io *io)
{
	struct http_req *r = &st->req;
	char host[200];
	uint16_t port;

	if (r->bad || r->target_toolong) {
		squid_error(io, 400, "Bad Request", "ERR_INVALID_REQ");
		proxy_done(st, io);
		return;
	}
	if (!strcmp(r->method, "CONNECT")) {
		snprintf(st->dest, sizeof st->dest, "%s", r->target);
		svc_recordf(io, "proxy", "http CONNECT %s", r->target);
		svc_send_str(io, "HTTP/1.0 200 Connection established\r\n\r\n");
		st->mode = P_TUNNEL;
		return;
	}
	const char *path = http_target_path(r->target, host, sizeof host, &port);
	if (path == r->target) {
		/* Not a proxy request: Squid refuses a bare path. */
		squid_error(io, 400, "Bad Request", "ERR_INVALID_URL");
		proxy_done(st, io);
		return;
	}
	svc_recordf(io, "proxy", "http %s %s:%u%s", r->method, host, (unsigned)port, path);
	fake_page(io, host, 1);
	proxy_done(st, io);
}

/* Parse one SOCKS message from sb; returns the bytes it took, 0 if more
 * are needed.  Sets mode P_DONE on a refusal or a malformed request. */
static size_t socks_step(struct proxy_state *st, struct svc_io *io)
{
	const uint8_t *b = st->sb;
	size_t n = st->sl;

	switch (st->mode) {
	case P_SOCKS4: {
		/* VN CD DSTPORT(2) DSTIP(4) USERID\0 [HOST\0 when 0.0.0.x] */
		if (n < 9)
			return 0;
		const uint8_t *z = memchr(b + 8, 0, n - 8);
		if (!z)
			return 0;
		size_t used = (size_t)(z - b) + 1;
		char user[128], host[256];
		svc_clean(user, sizeof user, b + 8, (size_t)(z - b) - 8);
		int is4a = b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] != 0;
		if (is4a) {
			const uint8_t *z2 = memchr(b + used, 0, n - used);
			if (!z2)
				return 0;
			svc_clean(host, sizeof host, b + used, (size_t)(z2 - (b + used)));
			used = (size_t)(z2 - b) + 1;
		} else {
			snprintf(host, sizeof host, "%u.%u.%u.%u", b[4], b[5], b[6], b[7]);
		}
		unsigned port = svc_be16(b + 2);
		snprintf(st->dest, sizeof st->dest, "%s:%u", host, port);
		svc_recordf(io, "proxy", "%s %s %s user=%s", is4a ? "socks4a" : "socks4",
			    b[1] == 1 ? "CONNECT" : b[1] == 2 ? "BIND" : "?", st->dest, user);
		uint8_t rep[8] = { 0, 0x5a, b[2], b[3], b[4], b[5], b[6], b[7] };
		if (b[1] != 1) {
			rep[1] = 0x5b;          /* rejected */
			io->send(io, rep, sizeof rep);
			proxy_done(st, io);
			return used;
		}
		io->send(io, rep, sizeof rep);
		st->mode = P_TUNNEL;
		return used;
	}
	case P_SOCKS5_HELLO: {
		if (n < 2 || n < 2 + (size_t)b[1])
			return 0;
		int noauth = 0, userpass = 0;
		for (size_t i = 0; i < b[1]; i++) {
			noauth |= b[2 + i] == 0;
			userpass |= b[2 + i] == 2;
		}
		if (noauth) {
			io->send(io, "\x05\x00", 2);
			st->mode = P_SOCKS5_REQ;
		} else if (userpass) {
			io->send(io, "\x05\x02", 2);
			st->mode = P_SOCKS5_AUTH;
		} else {
			io->send(io, "\x05\xff", 2);
			proxy_done(st, io);
		}
		return 2 + (size_t)b[1];
	}
	case P_SOCKS5_AUTH: {
		/* VER ULEN UNAME PLEN PASSWD (RFC 1929) */
		if (n < 2 || n < 3 + (size_t)b[1] || n < 3 + (size_t)b[1] + b[2 + b[1]])
			return 0;
		size_t ul = b[1], pl = b[2 + ul];
		svc_record_bytes(io, "user", b + 2, ul);
		svc_record_bytes(io, "pass", b + 3 + ul, pl);
		io->send(io, "\x01\x00", 2);
		st->mode = P_SOCKS5_REQ;
		return 3 + ul + pl;
	}
	case P_SOCKS5_REQ: {
		/* VER CMD RSV ATYP ADDR PORT */
		if (n < 5)
			return 0;
		size_t alen;
		char host[256];
		if (b[0] != 5) {
			svc_record_bytes(io, "proxy-garbage", b, n < 32 ? n : 32);
			proxy_done(st, io);
			return n;
		}
		switch (b[3]) {
		case 1: alen = 4; break;
		case 3: alen = 1 + (size_t)b[4]; break;
		case 4: alen = 16; break;
		default:
			io->send(io, "\x05\x08\x00\x01\0\0\0\0\0\0", 10);
			proxy_done(st, io);
			return n;
		}
		if (n < 4 + alen + 2)
			return 0;
		if (b[3] == 1) {
			snprintf(host, sizeof host, "%u.%u.%u.%u", b[4], b[5], b[6], b[7]);
		} else if (b[3] == 3) {
			svc_clean(host, sizeof host, b + 5, b[4]);
		} else {
			size_t o = 0;
			for (int i = 0; i < 16; i += 2)
				o += (size_t)snprintf(host + o, sizeof host - o, "%s%x", i ? ":" : "",
						      svc_be16(b + 4 + i));
		}
		unsigned port = svc_be16(b + 4 + alen);
		snprintf(st->dest, sizeof st->dest, b[3] == 4 ? "[%s]:%u" : "%s:%u", host, port);
		svc_recordf(io, "proxy", "socks5 %s %s",
			    b[1] == 1 ? "CONNECT" : b[1] == 2 ? "BIND" : b[1] == 3 ? "UDP" : "?",
			    st->dest);
		uint8_t rep[10] = { 5, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
		if (io->dst && io->dst->v == 4)
			memcpy(rep + 4, io->dst->a, 4);
		/* A made-up local port for the "outgoing" connection. */
		svc_put_be16(rep + 8, (uint16_t)(1024 + (io->sport ^ port) % 60000));
		if (b[1] != 1) {
			rep[1] = 0x07;          /* command not supported */
			io->send(io, rep, sizeof rep);
			proxy_done(st, io);
			return 4 + alen + 2;
		}
		io->send(io, rep, sizeof rep);
		st->mode = P_TUNNEL;
		return 4 + alen + 2;
	}
	}
	return 0;
}

static int proxy_input(void *state, struct svc_io *io, const uint8_t *buf, size_t len)
{
	struct proxy_state *st = state;
	size_t off = 0;

	while (off < len) {
		switch (st->mode) {
		case P_DONE:
			return 0;
		case P_DETECT:
			st->mode = buf[off] == 4 ? P_SOCKS4 : buf[off] == 5 ? P_SOCKS5_HELLO : P_HTTP;
			continue;
		case P_TUNNEL:
			tunnel_data(st, io, buf + off, len - off);
			return 0;
		case P_HTTP:
			off += http_req_feed(&st->req, io, buf + off, len - off);
			if (st->req.phase == HTTP_COMPLETE)
				http_proxy(st, io);
			continue;
		default: {
			size_t room = SOCKS_BUF - st->sl, take = len - off < room ? len - off : room;
			memcpy(st->sb + st->sl, buf + off, take);
			st->sl = (uint16_t)(st->sl + take);
			off += take;
			size_t used;
			while (st->mode != P_DONE && st->mode != P_TUNNEL &&
			       (used = socks_step(st, io)) > 0) {
				memmove(st->sb, st->sb + used, st->sl - used);
				st->sl = (uint16_t)(st->sl - used);
			}
			if (st->mode == P_TUNNEL && st->sl) {
				uint16_t rest = st->sl;
				st->sl = 0;
				tunnel_data(st, io, st->sb, rest);
			} else if (st->mode != P_DONE && st->mode != P_TUNNEL && st->sl == SOCKS_BUF) {
				svc_record_str(io, "proxy-garbage", "SOCKS request too long");
				proxy_done(st, io);
			}
			continue;
		}
		}
	}
	return 0;
}

static void proxy_close(void *state, struct svc_io *io)
{
	struct proxy_state *st = state;

	if (st->tunnel_bytes) {
		tunnel_record(st, io);
		svc_recordf(io, "tunnel-bytes", "%llu", (unsigned long long)st->tunnel_bytes);
	}
}

const struct svc_def svc_proxy = {
	.name = "proxy",
	.proto = 6,
	.default_port = 3128,
	.state_size = sizeof(struct proxy_state),
	.open = svc_open_nothing,
	.input = proxy_input,
	.close = proxy_close,
};
