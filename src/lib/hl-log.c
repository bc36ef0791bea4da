/* hl-log.c: Honeyd's connection log lines, written and read back.
 *
 * The format is Honeyd's own (log.c of Honeyd 1.5c), reproduced from its
 * documentation and real log lines so that the tools people wrote for
 * Honeyd logs keep working; no library knows it.  The parser is strict
 * about the columns (it reads untrusted logs from legacy sensors) and
 * never reads past the line's end or HL_LINE_MAX. */
#include "hl-log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "vg-err.h"

#define HL_LINE_MAX 8192

/* ---- formatting ------------------------------------------------------- */

struct out {
	char *buf;
	size_t len, pos;
	bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	if (o->full)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->pos)
		o->full = true;
	else
		o->pos += (size_t)n;
}

static int done(struct out *o)
{
	if (o->full) {
		if (o->len)
			o->buf[0] = '\0';
		return -ENOSPC;
	}
	return (int)o->pos;
}

/* Local time as Honeyd wrote it.  localtime_r is the cost of a log line at
 * high rates, and lines come in bursts within one second, so the second's
 * text is kept. */
static void put_time(struct out *o, uint64_t ts_ns)
{
	static _Thread_local time_t cached_sec = (time_t)-1;
	static _Thread_local char cached[80];
	time_t sec = (time_t)(ts_ns / 1000000000u);
	unsigned frac = (unsigned)((ts_ns % 1000000000u) / 100000u);
	if (sec != cached_sec) {
		struct tm tm;
		if (!localtime_r(&sec, &tm)) {
			o->full = true;
			return;
		}
		snprintf(cached, sizeof cached, "%04d-%02d-%02d-%02d:%02d:%02d",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec);
		cached_sec = sec;
	}
	put(o, "%s.%04u", cached, frac);
}

static void put_proto(struct out *o, uint8_t proto)
{
	switch (proto) {
	case 6: put(o, "tcp(6)"); break;
	case 17: put(o, "udp(17)"); break;
	case 1: put(o, "icmp(1)"); break;
	default: put(o, "unkn(%u)", proto); break;
	}
}

static void put_tuple(struct out *o, const struct hl_event *ev)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	vg_ip_str(&ev->src, s, sizeof s);
	vg_ip_str(&ev->dst, d, sizeof d);
	if (ev->proto == 6 || ev->proto == 17)
		put(o, "%s %u %s %u", s, ev->sport, d, ev->dport);
	else if (ev->proto == 1)
		put(o, "%s %s: %u(%u)", s, d, ev->sport, ev->dport);
	else
		put(o, "%s %s", s, d);
}

static void put_os(struct out *o, const char *os)
{
	if (os)
		put(o, " [%s]", os);
}

int hl_format_banner(uint64_t ts_ns, int started, char *buf, size_t len)
{
	struct out o = { buf, len, 0, len == 0 };
	put_time(&o, ts_ns);
	put(&o, " honeyd log %s ------", started ? "started" : "stopped");
	return done(&o);
}

int hl_format(const struct hl_event *ev, char *buf, size_t len)
{
	if (ev->kind == HL_LOG_STARTED || ev->kind == HL_LOG_STOPPED)
		return hl_format_banner(ev->ts_ns, ev->kind == HL_LOG_STARTED, buf, len);
	if (ev->kind != HL_START && ev->kind != HL_END && ev->kind != HL_PROBE)
		return -EINVAL;
	struct out o = { buf, len, 0, len == 0 };
	put_time(&o, ev->ts_ns);
	put(&o, " ");
	put_proto(&o, ev->proto);
	put(&o, " %c ", (char)ev->kind);
	put_tuple(&o, ev);
	switch (ev->kind) {
	case HL_START:
		put_os(&o, ev->os);
		break;
	case HL_END:
		put(&o, ": %llu %llu", (unsigned long long)ev->rx_bytes,
		    (unsigned long long)ev->tx_bytes);
		break;
	default:
		put(&o, ": %u", ev->ip_len);
		if (ev->proto == 6) {
			static const char letters[] = "FSRPAUEC";
			char f[10];
			size_t n = 0;
			f[n++] = ' ';
			for (int i = 0; i < 8; i++)
				if (ev->tcp_flags & (1u << i))
					f[n++] = letters[i];
			f[n] = '\0';
			put(&o, "%s", f);
		}
		put_os(&o, ev->os);
		break;
	}
	return done(&o);
}

int hl_format_service(const struct hl_event *ev, const char *text, size_t text_len,
		      char *buf, size_t len)
{
	struct out o = { buf, len, 0, len == 0 };
	put_time(&o, ev->ts_ns);
	put(&o, " ");
	put_proto(&o, ev->proto);
	put(&o, " ");
	put_tuple(&o, ev);
	put(&o, ": |");
	for (size_t i = 0; i < text_len && !o.full; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			put(&o, "%c", c);
		else
			put(&o, "\\x%02x", c);
	}
	put(&o, "|");
	return done(&o);
}

/* ---- parsing ---------------------------------------------------------- */

struct in {
	const char *s;
	size_t len, pos;
	struct vg_err *err;
};

static int bad(struct in *in, const char *what)
{
	size_t col = in->pos + 1;
	if (in->pos < in->len) {
		char got[24];
		size_t n = 0;
		while (n < sizeof got - 1 && in->pos + n < in->len) {
			unsigned char c = (unsigned char)in->s[in->pos + n];
			got[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		}
		got[n] = '\0';
		return vg_err_set(in->err, -EINVAL, "column %zu: expected %s, got '%s'", col, what,
				  got);
	}
	return vg_err_set(in->err, -EINVAL, "column %zu: expected %s, got the end of the line",
			  col, what);
}

static bool lit(struct in *in, const char *s)
{
	size_t n = strlen(s);
	if (in->len - in->pos < n || memcmp(in->s + in->pos, s, n))
		return false;
	in->pos += n;
	return true;
}

static bool at_end(const struct in *in)
{
	return in->pos == in->len;
}

static bool digits(struct in *in, size_t n, int *out)
{
	if (in->len - in->pos < n)
		return false;
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		char c = in->s[in->pos + i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	in->pos += n;
	*out = v;
	return true;
}

/* A decimal number of at most max, without sign or leading garbage. */
static bool number(struct in *in, uint64_t max, uint64_t *out)
{
	size_t start = in->pos;
	uint64_t v = 0;
	while (in->pos < in->len && in->s[in->pos] >= '0' && in->s[in->pos] <= '9') {
		v = v * 10 + (uint64_t)(in->s[in->pos] - '0');
		if (v > max) {
			in->pos = start;
			return false;
		}
		in->pos++;
		if (in->pos - start > 20) {
			in->pos = start;
			return false;
		}
	}
	if (in->pos == start)
		return false;
	*out = v;
	return true;
}

static int parse_time(struct in *in, uint64_t *ts_ns)
{
	int y, mo, d, h, mi, s, f;
	size_t start = in->pos;
	if (!digits(in, 4, &y) || !lit(in, "-") || !digits(in, 2, &mo) || !lit(in, "-") ||
	    !digits(in, 2, &d) || !lit(in, "-") || !digits(in, 2, &h) || !lit(in, ":") ||
	    !digits(in, 2, &mi) || !lit(in, ":") || !digits(in, 2, &s) || !lit(in, ".") ||
	    !digits(in, 4, &f)) {
		in->pos = start;
		return bad(in, "a time like 2005-04-15-10:00:00.1234");
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || y < 1970 ||
	    y > 2500 /* nanoseconds since 1970 fit 64 bits until 2554 */) {
		in->pos = start;
		return bad(in, "a valid date and time");
	}
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
			 .tm_min = mi, .tm_sec = s, .tm_isdst = -1 };
	time_t t = mktime(&tm);
	if (t == (time_t)-1 || t < 0) {
		in->pos = start;
		return bad(in, "a time that exists in the local time zone");
	}
	*ts_ns = (uint64_t)t * 1000000000u + (uint64_t)f * 100000u;
	return 0;
}

static int parse_proto(struct in *in, uint8_t *proto)
{
	size_t start = in->pos, n = 0;
	while (in->pos + n < in->len && n < 16 &&
	       (islower((unsigned char)in->s[in->pos + n]) ||
		isdigit((unsigned char)in->s[in->pos + n]) || in->s[in->pos + n] == '-'))
		n++;
	const char *name = in->s + in->pos;
	in->pos += n;
	uint64_t num;
	if (n == 0 || !lit(in, "(") || !number(in, 255, &num) || !lit(in, ")")) {
		in->pos = start;
		return bad(in, "a protocol like tcp(6)");
	}
	static const struct {
		const char *name;
		uint8_t num;
	} known[] = { { "tcp", 6 }, { "udp", 17 }, { "icmp", 1 } };
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		bool same_name = strlen(known[i].name) == n && !memcmp(known[i].name, name, n);
		if (same_name != (known[i].num == num)) {
			in->pos = start;
			return bad(in, "a protocol name that matches its number");
		}
	}
	*proto = (uint8_t)num;
	return 0;
}

/* An address up to the next space.  A ':' may end the tuple right after
 * the destination ("src dst: 8(0)"); IPv6 addresses hold colons too, but
 * no valid address ends in a single ':', so the colon belongs to the tuple
 * exactly when the word does not parse with it. */
static int parse_addr(struct in *in, struct vg_ip *ip, bool *colon)
{
	size_t n = 0;
	while (in->pos + n < in->len && in->s[in->pos + n] != ' ' && n < 64)
		n++;
	char a[65];
	memcpy(a, in->s + in->pos, n);
	a[n] = '\0';
	*colon = false;
	for (int attempt = 0; attempt < 2; attempt++) {
		memset(ip, 0, sizeof *ip);
		if (inet_pton(AF_INET, a, ip->a) == 1)
			ip->v = 4;
		else if (inet_pton(AF_INET6, a, ip->a) == 1)
			ip->v = 6;
		if (ip->v) {
			in->pos += n;
			return 0;
		}
		size_t alen = strlen(a);
		if (attempt || alen < 2 || a[alen - 1] != ':')
			break;
		a[alen - 1] = '\0';
		*colon = true;
	}
	*colon = false;
	return bad(in, "an IPv4 or IPv6 address");
}

static int parse_port(struct in *in, uint16_t *port, const char *what)
{
	uint64_t v;
	if (!number(in, 65535, &v))
		return bad(in, what);
	*port = (uint16_t)v;
	return 0;
}

/* " [OS]" then " {remark}", both optional.  The OS may hold spaces and
 * brackets; it ends at the last ']' before the end or a remark. */
static int parse_tail(struct in *in, struct hl_event *ev, char *os_buf, size_t os_len)
{
	ev->os = NULL;
	if (lit(in, " [")) {
		size_t end = (size_t)-1;
		for (size_t i = in->pos; i < in->len; i++) {
			if (in->s[i] != ']')
				continue;
			if (i + 1 == in->len || (in->len - (i + 1) >= 2 && in->s[i + 1] == ' ' &&
						 in->s[i + 2] == '{'))
				end = i;
		}
		if (end == (size_t)-1)
			return bad(in, "an OS name closed by ']'");
		size_t n = end - in->pos;
		if (os_buf) {
			if (n >= os_len)
				return vg_err_set(in->err, -ENOSPC,
						  "column %zu: the OS name is longer than %zu bytes",
						  in->pos + 1, os_len ? os_len - 1 : 0);
			memcpy(os_buf, in->s + in->pos, n);
			os_buf[n] = '\0';
			ev->os = os_buf;
		}
		in->pos = end + 1;
	}
	if (lit(in, " {")) {
		/* Honeyd's remarks ("{Honeyd Scanner?}") carry nothing we keep. */
		if (in->len == in->pos || in->s[in->len - 1] != '}')
			return bad(in, "a remark closed by '}'");
		in->pos = in->len;
	}
	if (!at_end(in))
		return bad(in, "the end of the line");
	return 0;
}

int hl_parse(const char *line, struct hl_event *ev, char *os_buf, size_t os_len,
	     struct vg_err *err)
{
	memset(ev, 0, sizeof *ev);
	size_t len = strnlen(line, HL_LINE_MAX + 1);
	if (len > HL_LINE_MAX)
		return vg_err_set(err, -EINVAL, "the line is longer than %d bytes", HL_LINE_MAX);
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	struct in in = { line, len, 0, err };
	int rc = parse_time(&in, &ev->ts_ns);
	if (rc < 0)
		return rc;
	if (!lit(&in, " "))
		return bad(&in, "a space after the time");
	if (lit(&in, "honeyd log ")) {
		if (lit(&in, "started ------"))
			ev->kind = HL_LOG_STARTED;
		else if (lit(&in, "stopped ------"))
			ev->kind = HL_LOG_STOPPED;
		else
			return bad(&in, "'started ------' or 'stopped ------'");
		return at_end(&in) ? 0 : bad(&in, "the end of the line");
	}
	if ((rc = parse_proto(&in, &ev->proto)) < 0)
		return rc;
	if (!lit(&in, " "))
		return bad(&in, "a space after the protocol");
	if (lit(&in, "S "))
		ev->kind = HL_START;
	else if (lit(&in, "E "))
		ev->kind = HL_END;
	else if (lit(&in, "- "))
		ev->kind = HL_PROBE;
	else
		return bad(&in, "'S', 'E' or '-'");

	bool colon;
	if ((rc = parse_addr(&in, &ev->src, &colon)) < 0)
		return rc;
	if (colon)
		return bad(&in, "a source address");
	if (!lit(&in, " "))
		return bad(&in, "a space after the source address");
	bool ports = ev->proto == 6 || ev->proto == 17;
	bool tuple_colon = false;   /* whether ": " already followed the tuple */
	if (ports) {
		if ((rc = parse_port(&in, &ev->sport, "a source port")) < 0)
			return rc;
		if (!lit(&in, " "))
			return bad(&in, "a space after the source port");
		if ((rc = parse_addr(&in, &ev->dst, &colon)) < 0)
			return rc;
		if (colon)
			return bad(&in, "a space after the destination address");
		if (!lit(&in, " "))
			return bad(&in, "a space after the destination address");
		if ((rc = parse_port(&in, &ev->dport, "a destination port")) < 0)
			return rc;
	} else {
		if ((rc = parse_addr(&in, &ev->dst, &colon)) < 0)
			return rc;
		if (ev->proto == 1) {
			if (!colon || !lit(&in, " "))
				return bad(&in, "': TYPE(CODE)' after the ICMP destination");
			uint64_t t, c;
			if (!number(&in, 255, &t) || !lit(&in, "(") || !number(&in, 255, &c) ||
			    !lit(&in, ")"))
				return bad(&in, "an ICMP type and code like 8(0)");
			ev->sport = (uint16_t)t;
			ev->dport = (uint16_t)c;
		} else if (colon) {
			tuple_colon = true;
		}
	}

	if (ev->kind == HL_START) {
		if (tuple_colon)
			return bad(&in, "a source and destination address");
		return parse_tail(&in, ev, os_buf, os_len);
	}

	if (tuple_colon ? !lit(&in, " ") : !lit(&in, ": "))
		return bad(&in, "': ' after the addresses");
	uint64_t a, b;
	if (ev->kind == HL_END) {
		if (!number(&in, UINT64_MAX / 10, &a) || !lit(&in, " ") ||
		    !number(&in, UINT64_MAX / 10, &b))
			return bad(&in, "bytes received and bytes sent");
		ev->rx_bytes = a;
		ev->tx_bytes = b;
		return at_end(&in) ? 0 : bad(&in, "the end of the line");
	}
	if (!number(&in, UINT32_MAX, &a))
		return bad(&in, "the IP length");
	ev->ip_len = (uint32_t)a;
	if (ev->proto == 6 && lit(&in, " ")) {
		static const char letters[] = "FSRPAUEC";
		int last = -1;
		while (in.pos < in.len) {
			const char *p = memchr(letters, in.s[in.pos], 8);
			if (!p)
				break;
			int bit = (int)(p - letters);
			if (bit <= last)
				return bad(&in, "TCP flags in the order F S R P A U E C, each once");
			last = bit;
			ev->tcp_flags |= (uint8_t)(1u << bit);
			in.pos++;
		}
	}
	return parse_tail(&in, ev, os_buf, os_len);
}
