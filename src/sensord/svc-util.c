/* svc-util.c: helpers shared by the built-in services (see svc-util.h). */
#include "svc-util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

size_t svc_line_feed(struct svc_line *l, const uint8_t *buf, size_t len, int *done)
{
	size_t i;

	*done = 0;
	for (i = 0; i < len; i++) {
		uint8_t c = buf[i];
		if (l->seen < UINT32_MAX)
			l->seen++;
		if (c == '\n') {
			if (l->len > 0 && l->buf[l->len - 1] == '\r')
				l->len--;
			l->buf[l->len] = '\0';
			*done = 1;
			return i + 1;
		}
		if (l->len < SVC_LINE_MAX - 1)
			l->buf[l->len++] = (char)c;
		else
			l->toolong = 1;
	}
	return i;
}

void svc_line_clear(struct svc_line *l)
{
	l->len = 0;
	l->toolong = 0;
	l->seen = 0;
	l->buf[0] = '\0';
}

void svc_line_input(struct svc_line *l, const uint8_t *stop, const uint8_t *buf, size_t len,
		    void (*on_line)(void *state, struct svc_io *io), void *state,
		    struct svc_io *io)
{
	size_t off = 0;

	while (off < len && !*stop) {
		int done;
		off += svc_line_feed(l, buf + off, len - off, &done);
		if (!done)
			break;
		on_line(state, io);
		svc_line_clear(l);
	}
}

const char *svc_verb(const char *line, const char *w)
{
	size_t n = strlen(w);

	if (strncasecmp(line, w, n) != 0)
		return NULL;
	if (line[n] != '\0' && line[n] != ' ')
		return NULL;
	line += n;
	while (*line == ' ')
		line++;
	return line;
}

int svc_send_str(struct svc_io *io, const char *s)
{
	return io->send(io, s, strlen(s));
}

int svc_sendf(struct svc_io *io, const char *fmt, ...)
{
	char buf[SVC_MAX_REPLY];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof buf)
		n = (int)sizeof buf - 1;
	return io->send(io, buf, (size_t)n);
}

char *svc_clean(char *dst, size_t dstsz, const void *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *s = src;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = s[i];
		if (c >= 0x20 && c <= 0x7e && c != '\\') {
			if (o + 1 >= dstsz)
				break;
			dst[o++] = (char)c;
		} else {
			if (o + 4 >= dstsz)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		}
	}
	dst[o] = '\0';
	return dst;
}

void svc_record_bytes(struct svc_io *io, const char *key, const void *buf, size_t len)
{
	char v[SVC_RECORD_MAX];

	io->record(io, key, svc_clean(v, sizeof v, buf, len));
}

void svc_record_str(struct svc_io *io, const char *key, const char *s)
{
	svc_record_bytes(io, key, s, strlen(s));
}

void svc_recordf(struct svc_io *io, const char *key, const char *fmt, ...)
{
	char buf[SVC_RECORD_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf)
		n = (int)sizeof buf - 1;
	svc_record_bytes(io, key, buf, (size_t)n);
}

int svc_personality_has(const struct svc_io *io, const char *s)
{
	return io->personality && strcasestr(io->personality, s) != NULL;
}

int svc_is_windows(const struct svc_io *io)
{
	return !io->personality || svc_personality_has(io, "windows") ||
	       svc_personality_has(io, "microsoft");
}

const char *svc_hostname(const struct svc_io *io, char *buf, size_t len)
{
	/* FNV-1a of the address: the same host keeps its name across
	 * connections and services, and neighbours get different ones. */
	uint32_t h = 2166136261u;
	if (io->dst) {
		unsigned n = io->dst->v == 6 ? 16 : 4;
		for (unsigned i = 0; i < n; i++) {
			h ^= io->dst->a[i];
			h *= 16777619u;
		}
	}
	if (svc_is_windows(io))
		snprintf(buf, len, "WIN-%07X", (unsigned)(h & 0xfffffffu));
	else
		snprintf(buf, len, "srv%04x", (unsigned)(h & 0xffffu));
	return buf;
}

const char *svc_http_date(const struct svc_io *io, char *buf, size_t len)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char mons[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(io->now_ns / 1000000000u);
	struct tm tm;

	/* Day and month names by hand: strftime would follow the locale. */
	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, len, "Thu, 01 Jan 1970 00:00:00 GMT");
		return buf;
	}
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
		 tm.tm_mday, mons[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	return buf;
}

int svc_open_nothing(void *state, struct svc_io *io)
{
	(void)state;
	(void)io;
	return 0;
}

void svc_close_nothing(void *state, struct svc_io *io)
{
	(void)state;
	(void)io;
}
