/* svc-http.c: bounded HTTP/1.x request reading (see svc-http.h).
 *
 * Written here rather than taken from a library: the parser must keep
 * its state in the fixed per-connection block and resume at any byte
 * boundary, and it only needs the request line and three headers. */
#include "svc-http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void copy_bounded(char *dst, size_t dstsz, const char *s, size_t n)
{
	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static void http_reqline(struct http_req *r, struct svc_io *io)
{
	const char *l = r->line.buf, *sp1, *sp2;
	size_t n;

	svc_record_bytes(io, "request", l, r->line.len);
	sp1 = strchr(l, ' ');
	if (!sp1 || sp1 == l || (size_t)(sp1 - l) >= sizeof r->method) {
		r->bad = 1;
		return;
	}
	for (const char *p = l; p < sp1; p++)
		if (!isalpha((unsigned char)*p) && *p != '-' && *p != '_')
			r->bad = 1;
	copy_bounded(r->method, sizeof r->method, l, (size_t)(sp1 - l));
	while (*sp1 == ' ')
		sp1++;
	sp2 = strchr(sp1, ' ');
	n = sp2 ? (size_t)(sp2 - sp1) : strlen(sp1);
	if (n == 0) {
		r->bad = 1;
		return;
	}
	if (n >= sizeof r->target || r->line.toolong)
		r->target_toolong = 1;
	copy_bounded(r->target, sizeof r->target, sp1, n);
	if (!sp2) {
		r->http09 = 1;
		return;
	}
	while (*sp2 == ' ')
		sp2++;
	if (strncmp(sp2, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)sp2[7]) || sp2[8] != '\0') {
		r->bad = 1;
		return;
	}
	r->minor = (uint8_t)(sp2[7] - '0');
}

static void http_header(struct http_req *r, struct svc_io *io)
{
	const char *l = r->line.buf, *v;

	if (++r->headers > HTTP_MAX_HEADERS)
		return;
	v = strchr(l, ':');
	if (!v)
		return;
	size_t n = (size_t)(v - l);
	v++;
	while (*v == ' ' || *v == '\t')
		v++;
	if (n == 10 && !strncasecmp(l, "User-Agent", 10)) {
		svc_record_str(io, "user-agent", v);
	} else if (n == 4 && !strncasecmp(l, "Host", 4)) {
		copy_bounded(r->host, sizeof r->host, v, strlen(v));
	} else if (n == 14 && !strncasecmp(l, "Content-Length", 14)) {
		char *end;
		unsigned long long cl = strtoull(v, &end, 10);
		if (end != v && cl <= HTTP_MAX_BODY)
			r->body_left = (uint32_t)cl;
	}
}

size_t http_req_feed(struct http_req *r, struct svc_io *io, const uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off < len && r->phase != HTTP_COMPLETE) {
		if (r->phase == HTTP_BODY) {
			size_t take = len - off < r->body_left ? len - off : r->body_left;
			if (r->body_kept < HTTP_BODY_KEEP) {
				size_t keep = HTTP_BODY_KEEP - r->body_kept;
				if (keep > take)
					keep = take;
				memcpy(r->body + r->body_kept, buf + off, keep);
				r->body_kept += (uint32_t)keep;
			}
			r->body_left -= (uint32_t)take;
			off += take;
			if (r->body_left == 0) {
				svc_record_bytes(io, "body", r->body, r->body_kept);
				r->phase = HTTP_COMPLETE;
			}
			continue;
		}
		int done;
		off += svc_line_feed(&r->line, buf + off, len - off, &done);
		if (!done)
			break;
		if (r->phase == HTTP_REQLINE) {
			/* Empty lines before a request are ignored (RFC 9112 2.2),
			 * but not without end. */
			if (r->line.len == 0 && !r->line.toolong && r->headers++ < 4) {
				svc_line_clear(&r->line);
				continue;
			}
			r->headers = 0;
			http_reqline(r, io);
			r->phase = (r->bad || r->http09) ? HTTP_COMPLETE : HTTP_HEADERS;
		} else if (r->line.len == 0 && !r->line.toolong) {
			r->phase = r->body_left ? HTTP_BODY : HTTP_COMPLETE;
		} else {
			http_header(r, io);
		}
		svc_line_clear(&r->line);
	}
	return off;
}

const char *http_target_path(const char *target, char *host, size_t hostsz, uint16_t *port)
{
	const char *p = target, *h, *slash, *colon;

	if (host && hostsz)
		host[0] = '\0';
	if (port)
		*port = 0;
	if (!strncasecmp(p, "http://", 7))
		p += 7;
	else if (!strncasecmp(p, "https://", 8))
		p += 8;
	else
		return target;
	h = p;
	slash = strchr(h, '/');
	if (!slash)
		slash = h + strlen(h);
	colon = memchr(h, ':', (size_t)(slash - h));
	if (host && hostsz)
		copy_bounded(host, hostsz, h, (size_t)((colon ? colon : slash) - h));
	if (port) {
		unsigned long v = colon ? strtoul(colon + 1, NULL, 10) : 80;
		*port = v <= 65535 ? (uint16_t)v : 0;
	}
	return *slash ? slash : "/";
}

char *http_html_escape(char *dst, size_t dstsz, const char *s)
{
	size_t o = 0;

	for (; *s; s++) {
		const char *rep = NULL;
		char one[2] = { *s, 0 };
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		default: rep = one; break;
		}
		size_t n = strlen(rep);
		if (o + n >= dstsz)
			break;
		memcpy(dst + o, rep, n);
		o += n;
	}
	dst[o] = '\0';
	return dst;
}
