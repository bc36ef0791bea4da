/* svc-http-apache.c: a web server that looks like Apache 2.2 on Debian
 * (or on Win32 for a Windows template).
 *
 * "/" serves the stock "It works!" page, other paths Apache's 404 page
 * (the path shown HTML-escaped and bounded), CONNECT gets 405 as from an
 * Apache without mod_proxy.  One request per connection. */
#include "svc-http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct apache_state {
	struct http_req req;
	uint8_t done;
};

static const char apache_page[] =
	"<html><body><h1>It works!</h1>\n"
	"<p>This is the default web page for this server.</p>\n"
	"<p>The web server software is running but no content has been added, yet.</p>\n"
	"</body></html>\n";

static const char *apache_server(const struct svc_io *io)
{
	return io->personality && svc_is_windows(io) ? "Apache/2.2.22 (Win32)"
						     : "Apache/2.2.22 (Debian)";
}

static void apache_error(struct svc_io *io, int code, const char *reason, const char *text,
			 const char *extra_hdr)
{
	char date[40], host[32], body[1024];
	int n = snprintf(body, sizeof body,
			 "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n"
			 "<html><head>\n<title>%d %s</title>\n</head><body>\n<h1>%s</h1>\n"
			 "<p>%s</p>\n<hr>\n<address>%s Server at %s Port %u</address>\n"
			 "</body></html>\n",
			 code, reason, reason, text, apache_server(io),
			 svc_hostname(io, host, sizeof host), (unsigned)io->dport);
	if (n < 0 || (size_t)n >= sizeof body)
		n = (int)strlen(body);
	svc_sendf(io, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: %s\r\n%sVary: Accept-Encoding\r\n"
		  "Content-Length: %d\r\nConnection: close\r\n"
		  "Content-Type: text/html; charset=iso-8859-1\r\n\r\n%s",
		  code, reason, svc_http_date(io, date, sizeof date), apache_server(io),
		  extra_hdr ? extra_hdr : "", n, body);
}

static void apache_answer(struct http_req *r, struct svc_io *io)
{
	char date[40], text[700], esc[400];
	const char *path;
	int head = !strcmp(r->method, "HEAD");

	if (r->bad) {
		apache_error(io, 400, "Bad Request",
			     "Your browser sent a request that this server could not understand.<br />\n",
			     NULL);
		return;
	}
	if (r->target_toolong) {
		apache_error(io, 414, "Request-URI Too Large",
			     "The requested URL's length exceeds the capacity\nlimit for this server.<br />\n",
			     NULL);
		return;
	}
	if (!strcmp(r->method, "CONNECT")) {
		snprintf(text, sizeof text, "The requested method CONNECT is not allowed for the URL %s.",
			 http_html_escape(esc, sizeof esc, r->target));
		apache_error(io, 405, "Method Not Allowed", text, "Allow: GET,HEAD,POST,OPTIONS\r\n");
		return;
	}
	if (strcmp(r->method, "GET") && !head && strcmp(r->method, "POST") &&
	    strcmp(r->method, "OPTIONS")) {
		snprintf(text, sizeof text, "%s to %s not supported.<br />\n",
			 http_html_escape(esc, sizeof esc, r->method), "/");
		apache_error(io, 501, "Method Not Implemented", text, "Allow: GET,HEAD,POST,OPTIONS\r\n");
		return;
	}
	path = http_target_path(r->target, NULL, 0, NULL);
	if (!strcmp(r->method, "OPTIONS")) {
		svc_sendf(io, "HTTP/1.1 200 OK\r\nDate: %s\r\nServer: %s\r\n"
			  "Allow: GET,HEAD,POST,OPTIONS\r\nVary: Accept-Encoding\r\n"
			  "Content-Length: 0\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n",
			  svc_http_date(io, date, sizeof date), apache_server(io));
		return;
	}
	if (!strcmp(path, "/") || !strcmp(path, "/index.html")) {
		svc_sendf(io, "HTTP/1.1 200 OK\r\nDate: %s\r\nServer: %s\r\n"
			  "Last-Modified: Sat, 20 Apr 2013 10:02:11 GMT\r\n"
			  "ETag: \"2c1a-b1-4dac8c49e7ac0\"\r\nAccept-Ranges: bytes\r\n"
			  "Content-Length: %zu\r\nVary: Accept-Encoding\r\nConnection: close\r\n"
			  "Content-Type: text/html\r\n\r\n%s",
			  svc_http_date(io, date, sizeof date), apache_server(io),
			  sizeof apache_page - 1, head ? "" : apache_page);
		return;
	}
	snprintf(text, sizeof text, "The requested URL %s was not found on this server.",
		 http_html_escape(esc, sizeof esc, path));
	apache_error(io, 404, "Not Found", text, NULL);
}

static int apache_input(void *state, struct svc_io *io, const uint8_t *buf, size_t len)
{
	struct apache_state *st = state;

	if (st->done)
		return 0;
	http_req_feed(&st->req, io, buf, len);
	if (st->req.phase == HTTP_COMPLETE) {
		apache_answer(&st->req, io);
		io->close(io);
		st->done = 1;
	}
	return 0;
}

const struct svc_def svc_http_apache = {
	.name = "http-apache",
	.proto = 6,
	.default_port = 80,
	.state_size = sizeof(struct apache_state),
	.open = svc_open_nothing,
	.input = apache_input,
	.close = svc_close_nothing,
};
