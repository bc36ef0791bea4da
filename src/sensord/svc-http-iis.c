/* svc-http-iis.c: a web server that looks like Microsoft IIS.
 *
 * The IIS version follows the template's Windows release (6.0 for Server
 * 2003 and by default), so that the Server header agrees with what the
 * host's TCP/IP personality says.  "/" serves the default "Under
 * Construction" page, other paths 404; errors HTTP.sys answers itself
 * (bad verb, CONNECT's non-path URL) come without a Server header, as
 * they do from a real IIS.  One request per connection: the answer says
 * "Connection: close" and the connection ends after it. */
#include "svc-http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct iis_state {
	struct http_req req;
	uint8_t done;
};

static const char *iis_version(const struct svc_io *io)
{
	static const struct { const char *os, *iis; } v[] = {
		{ "windows 2000", "5.0" }, { "windows xp", "5.1" },
		{ "server 2008 r2", "7.5" }, { "windows 7", "7.5" },
		{ "server 2008", "7.0" }, { "vista", "7.0" },
		{ "server 2012", "8.0" }, { "windows 8", "8.0" },
		{ "windows 10", "10.0" }, { "server 2016", "10.0" },
		{ "server 2019", "10.0" }, { "windows 11", "10.0" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (svc_personality_has(io, v[i].os))
			return v[i].iis;
	return "6.0";
}

static const char iis_page[] =
	"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\">\r\n"
	"<html>\r\n<head>\r\n"
	"<meta HTTP-EQUIV=\"Content-Type\" Content=\"text/html; charset=Windows-1252\">\r\n"
	"<title id=\"titletext\">Under Construction</title>\r\n"
	"</head>\r\n<body bgcolor=\"white\">\r\n"
	"<table><tr><td>\r\n<h1 style=\"font:14pt/16pt verdana\">Under Construction</h1>\r\n"
	"<p style=\"font:8pt/11pt verdana\">The site you are trying to view does not "
	"currently have a default page. It may be in the process of being upgraded "
	"and configured.</p>\r\n"
	"<p style=\"font:8pt/11pt verdana\">Please try this site again later. If you "
	"still experience the problem, try contacting the Web site administrator.</p>\r\n"
	"</td></tr></table>\r\n</body>\r\n</html>\r\n";

static const char iis_404[] =
	"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\">\r\n"
	"<html><head><title>The page cannot be found</title>\r\n"
	"<meta HTTP-EQUIV=\"Content-Type\" Content=\"text/html; charset=Windows-1252\">\r\n"
	"</head><body><table width=\"500\" border=\"0\" cellspacing=\"10\"><tr><td>\r\n"
	"<h1>The page cannot be found</h1>\r\n"
	"The page you are looking for might have been removed, had its name changed, "
	"or is temporarily unavailable.\r\n<hr>\r\n"
	"<h2>HTTP Error 404 - File or directory not found.<br>Internet Information "
	"Services (IIS)</h2>\r\n</td></tr></table></body></html>\r\n";

/* HTTP.sys's own answers carry no Server header. */
static void iis_httpsys_400(struct svc_io *io, const char *why)
{
	char date[40];
	char body[64];
	int n = snprintf(body, sizeof body, "<h1>Bad Request (%s)</h1>", why);

	svc_sendf(io, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nDate: %s\r\n"
		  "Connection: close\r\nContent-Length: %d\r\n\r\n%s",
		  svc_http_date(io, date, sizeof date), n, body);
}

static void iis_answer(struct http_req *r, struct svc_io *io)
{
	const char *ver = iis_version(io), *path;
	char date[40], host[128], hostname[32];
	int head = !strcmp(r->method, "HEAD");
	int known = head || !strcmp(r->method, "GET") || !strcmp(r->method, "POST") ||
		    !strcmp(r->method, "OPTIONS");

	svc_http_date(io, date, sizeof date);
	if (r->bad) {
		iis_httpsys_400(io, "Invalid Verb");
		return;
	}
	if (!strcmp(r->method, "CONNECT") || r->target_toolong) {
		iis_httpsys_400(io, "Invalid URL");
		return;
	}
	path = http_target_path(r->target, host, sizeof host, NULL);
	if (path[0] != '/' && strcmp(path, "*") != 0) {
		iis_httpsys_400(io, "Invalid URL");
		return;
	}
	if (!known) {
		svc_sendf(io, "HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\n"
			  "Server: Microsoft-IIS/%s\r\nX-Powered-By: ASP.NET\r\nDate: %s\r\n"
			  "Connection: close\r\n\r\n", ver, date);
		return;
	}
	if (!strcmp(r->method, "OPTIONS")) {
		svc_sendf(io, "HTTP/1.1 200 OK\r\nAllow: OPTIONS, TRACE, GET, HEAD, POST\r\n"
			  "Server: Microsoft-IIS/%s\r\nPublic: OPTIONS, TRACE, GET, HEAD, POST\r\n"
			  "X-Powered-By: ASP.NET\r\nDate: %s\r\nContent-Length: 0\r\n"
			  "Connection: close\r\n\r\n", ver, date);
		return;
	}
	if (!strcmp(path, "/") || !strcasecmp(path, "/iisstart.htm")) {
		if (!strcmp(r->method, "POST")) {
			svc_sendf(io, "HTTP/1.1 405 Method Not Allowed\r\nAllow: OPTIONS, TRACE, GET, HEAD\r\n"
				  "Content-Length: 0\r\nServer: Microsoft-IIS/%s\r\n"
				  "X-Powered-By: ASP.NET\r\nDate: %s\r\nConnection: close\r\n\r\n",
				  ver, date);
			return;
		}
		svc_sendf(io, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nContent-Type: text/html\r\n"
			  "Content-Location: http://%s/iisstart.htm\r\n"
			  "Last-Modified: Fri, 21 Feb 2003 23:48:30 GMT\r\nAccept-Ranges: bytes\r\n"
			  "ETag: \"09b60bc3dac21:1ca9\"\r\nServer: Microsoft-IIS/%s\r\n"
			  "X-Powered-By: ASP.NET\r\nDate: %s\r\nConnection: close\r\n\r\n%s",
			  sizeof iis_page - 1, svc_hostname(io, hostname, sizeof hostname),
			  ver, date, head ? "" : iis_page);
		return;
	}
	svc_sendf(io, "HTTP/1.1 404 Not Found\r\nContent-Length: %zu\r\nContent-Type: text/html\r\n"
		  "Server: Microsoft-IIS/%s\r\nX-Powered-By: ASP.NET\r\nDate: %s\r\n"
		  "Connection: close\r\n\r\n%s",
		  sizeof iis_404 - 1, ver, date, head ? "" : iis_404);
}

static int iis_input(void *state, struct svc_io *io, const uint8_t *buf, size_t len)
{
	struct iis_state *st = state;

	if (st->done)
		return 0;
	http_req_feed(&st->req, io, buf, len);
	if (st->req.phase == HTTP_COMPLETE) {
		iis_answer(&st->req, io);
		io->close(io);
		st->done = 1;
	}
	return 0;
}

const struct svc_def svc_http_iis = {
	.name = "http-iis",
	.proto = 6,
	.default_port = 80,
	.state_size = sizeof(struct iis_state),
	.open = svc_open_nothing,
	.input = iis_input,
	.close = svc_close_nothing,
};
