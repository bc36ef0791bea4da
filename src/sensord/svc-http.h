/* svc-http.h: the HTTP request reader shared by the web servers and the
 * HTTP side of the proxy emulation (svc-http-*.c, svc-proxy.c). */
#ifndef VIGIA_SVC_HTTP_H
#define VIGIA_SVC_HTTP_H

#include "svc-util.h"

#define HTTP_MAX_HEADERS 100
/* A body up to this size is read (and its start recorded) before the
 * answer; a larger one is answered at once. */
#define HTTP_MAX_BODY (64 * 1024)
#define HTTP_BODY_KEEP 128

enum { HTTP_REQLINE, HTTP_HEADERS, HTTP_BODY, HTTP_COMPLETE };

struct http_req {
	struct svc_line line;
	uint8_t phase;
	uint8_t bad;             /* the request line is not HTTP */
	uint8_t target_toolong;
	uint8_t http09;          /* no version on the request line */
	uint8_t minor;           /* HTTP/1.minor */
	uint16_t headers;
	uint32_t body_left, body_kept;
	char method[16];
	char target[256];
	char host[128];
	uint8_t body[HTTP_BODY_KEEP];
};

/* Read a request from buf: returns the bytes consumed.  When r->phase
 * becomes HTTP_COMPLETE the request is whole (request line, User-Agent and
 * body start recorded); bytes past it are left to the caller. */
size_t http_req_feed(struct http_req *r, struct svc_io *io, const uint8_t *buf, size_t len);

/* The path of the target: an absolute URI ("http://host:port/p?q") gives
 * "/p?q", and its host and port go to host/port when not NULL. */
const char *http_target_path(const char *target, char *host, size_t hostsz, uint16_t *port);

/* Copy s into dst with &, <, > and " escaped for HTML (bounded). */
char *http_html_escape(char *dst, size_t dstsz, const char *s);

#endif
