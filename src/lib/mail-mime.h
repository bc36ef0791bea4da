/* mail-mime.h: the summary's MIME structure (RFC 2045/2046, RFC 5322)
 * and its PGP/MIME envelope (RFC 3156).
 *
 * The inner entity is multipart/alternative (text/plain, text/html, both
 * UTF-8 quoted-printable, CRLF line ends): it is what gets signed and
 * encrypted.  The outer message is multipart/encrypted with
 * protocol="application/pgp-encrypted": a "Version: 1" part and the
 * ASCII-armoured OpenPGP message. */
#ifndef VIGIA_MAIL_MIME_H
#define VIGIA_MAIL_MIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Quoted-printable (RFC 2045 6.7) of src[0..len) with CRLF line ends;
 * LF and CRLF in the input are hard line breaks.  malloc'ed. */
int mail_qp_encode(const char *src, size_t len, char **out, size_t *outlen);

/* The inner entity to be signed and encrypted.  malloc'ed. */
int mail_mime_alternative(const char *text, size_t tlen, const char *html, size_t hlen,
			  char **out, size_t *outlen);

/* "<20261101.ab12...@example.org>" from random bytes and the domain of
 * `from`, into buf (at least 128 bytes). */
int mail_message_id(const char *from, char *buf, size_t len);
/* RFC 5322 date: "Sat, 01 Nov 2026 06:00:00 +0000". */
void mail_date(time_t t, char *buf, size_t len);

struct mail_headers {
	const char *from, *to, *subject, *message_id, *date;
};
/* The whole message: headers, then the RFC 3156 multipart/encrypted body
 * around `armored` (the OpenPGP message).  CRLF line ends.  malloc'ed. */
int mail_mime_encrypted(const struct mail_headers *h, const char *armored, size_t alen,
			char **out, size_t *outlen);

#endif
