/* svc-util.h: what the built-in services share (svc-*.c only).
 *
 * Bounded line assembly across calls, sending text, recording hostile
 * bytes as printable text, and the small facts a service derives from the
 * template (host name, Windows or not) so that every service of one
 * virtual host tells the same story. */
#ifndef VIGIA_SVC_UTIL_H
#define VIGIA_SVC_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "svc.h"

/* Longest line a line-oriented service keeps; the rest of a longer line
 * is counted and dropped (the packet log has it whole). */
#define SVC_LINE_MAX 512
/* Longest value handed to io->record, escapes included. */
#define SVC_RECORD_MAX 256

struct svc_line {
	uint16_t len;        /* bytes in buf, CR LF stripped once complete */
	uint8_t toolong;     /* the line was longer than SVC_LINE_MAX - 1 */
	uint32_t seen;       /* bytes the line took on the wire (saturates) */
	char buf[SVC_LINE_MAX];  /* NUL-terminated once complete */
};

/* Take bytes from buf until a line ends ("\n"; a "\r" before it is
 * dropped).  Returns how many bytes were consumed; *done is set to 1 when
 * the line is complete, and then the caller handles it and calls
 * svc_line_clear before feeding more. */
size_t svc_line_feed(struct svc_line *l, const uint8_t *buf, size_t len, int *done);
void svc_line_clear(struct svc_line *l);

/* The input loop of the line-oriented services (FTP, POP3, IMAP, SMTP):
 * feed buf to l and call on_line(state, io) on each complete line, then
 * clear it; stop at the end of buf or as soon as *stop is set (the service
 * closed the connection: what follows is not answered).  A line cut by the
 * end of buf waits in l for the next call. */
void svc_line_input(struct svc_line *l, const uint8_t *stop, const uint8_t *buf, size_t len,
		    void (*on_line)(void *state, struct svc_io *io), void *state,
		    struct svc_io *io);

/* If line starts with the word w (case-insensitive) followed by a space
 * or the end, return the argument (spaces skipped; "" when none), else
 * NULL. */
const char *svc_verb(const char *line, const char *w);

int svc_send_str(struct svc_io *io, const char *s);
int svc_sendf(struct svc_io *io, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Write src as printable ASCII into dst (size dstsz >= 1): "\\" and
 * bytes outside 0x20..0x7e become \xHH; stops before an escape would not
 * fit.  Returns dst. */
char *svc_clean(char *dst, size_t dstsz, const void *src, size_t len);
/* io->record(key, svc_clean(value)) within SVC_RECORD_MAX. */
void svc_record_bytes(struct svc_io *io, const char *key, const void *buf, size_t len);
void svc_record_str(struct svc_io *io, const char *key, const char *s);
void svc_recordf(struct svc_io *io, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The template claims a Windows system (or says nothing, as the default
 * template usually stands for the Windows hosts worms look for). */
int svc_is_windows(const struct svc_io *io);
/* Case-insensitive: the personality contains s. */
int svc_personality_has(const struct svc_io *io, const char *s);
/* A stable host name for the virtual host (from its address): "WIN-..."
 * in upper case for Windows, "srv..." otherwise.  buf holds >= 16 bytes. */
const char *svc_hostname(const struct svc_io *io, char *buf, size_t len);
/* RFC 1123 date of io->now_ns ("Sun, 06 Nov 1994 08:49:37 GMT"). */
const char *svc_http_date(const struct svc_io *io, char *buf, size_t len);

static inline uint16_t svc_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint16_t svc_le16(const uint8_t *p) { return (uint16_t)(p[1] << 8 | p[0]); }
static inline uint32_t svc_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void svc_put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void svc_put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void svc_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void svc_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* For svc_def members with nothing to do. */
int svc_open_nothing(void *state, struct svc_io *io);
void svc_close_nothing(void *state, struct svc_io *io);

/* The built-in services (svc-registry.c lists them). */
extern const struct svc_def svc_ftp, svc_ssh, svc_telnet, svc_smtp, svc_http_iis,
	svc_http_apache, svc_pop3, svc_imap, svc_mssql, svc_mssql_resolver, svc_smb,
	svc_netbios_ns, svc_proxy, svc_accept;

#endif
