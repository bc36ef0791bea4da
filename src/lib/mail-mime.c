/* mail-mime.c: MIME building (mail-mime.h).
 *
 * Written by hand: the messages are two fixed shapes, and no Debian C
 * library builds RFC 3156 envelopes (GMime could, at the cost of GLib for
 * some hundred lines of string assembly). */
#include "mail-mime.h"
#include "util-buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static int mb_done(struct vg_buf *b, char **out, size_t *outlen)
{
	if (b->rc) {
		free(b->p);
		*out = NULL;
		return b->rc;
	}
	if (!b->p)
		vg_buf_add(b, "", 0);
	*out = b->p;
	if (outlen)
		*outlen = b->n;
	return b->rc;
}

int mail_qp_encode(const char *src, size_t len, char **out, size_t *outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	struct vg_buf b = {0};
	size_t col = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c == '\r' && i + 1 < len && src[i + 1] == '\n')
			continue;
		if (c == '\n') {
			vg_buf_puts(&b, "\r\n");
			col = 0;
			continue;
		}
		bool eol = i + 1 == len || src[i + 1] == '\n' ||
			   (src[i + 1] == '\r' && i + 2 < len && src[i + 2] == '\n');
		/* Blanks before a line end, '=', controls and 8-bit bytes are
		 * encoded; so is a leading '.' and "From " (SMTP and mbox
		 * safety). */
		bool enc = c == '=' || c > 126 || (c < 32 && c != '\t') ||
			   ((c == ' ' || c == '\t') && eol) || (col == 0 && c == '.') ||
			   (col == 0 && c == 'F' && len - i >= 5 && !memcmp(src + i, "From ", 5));
		size_t need = enc ? 3 : 1;
		if (col + need > 75) {
			vg_buf_puts(&b, "=\r\n");
			col = 0;
		}
		if (enc) {
			char e[3] = {'=', hex[c >> 4], hex[c & 15]};
			vg_buf_add(&b, e, 3);
		} else {
			vg_buf_add(&b, (const char *)&c, 1);
		}
		col += need;
	}
	return mb_done(&b, out, outlen);
}

static int boundary(char *buf, size_t len, const char *tag)
{
	uint8_t r[12];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return -EIO;
	int n = snprintf(buf, len, "=_vigia_%s_", tag);
	for (size_t i = 0; i < sizeof r && (size_t)n + 3 < len; i++)
		n += snprintf(buf + n, len - (size_t)n, "%02x", r[i]);
	return 0;
}

int mail_mime_alternative(const char *text, size_t tlen, const char *html, size_t hlen,
			  char **out, size_t *outlen)
{
	char bnd[64];
	int rc = boundary(bnd, sizeof bnd, "alt");
	if (rc)
		return rc;
	char *qt = NULL, *qh = NULL;
	size_t lt = 0, lh = 0;
	if ((rc = mail_qp_encode(text, tlen, &qt, &lt)) ||
	    (rc = mail_qp_encode(html, hlen, &qh, &lh))) {
		free(qt);
		return rc;
	}
	struct vg_buf b = {0};
	vg_buf_printf(&b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", bnd);
	vg_buf_printf(&b, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		  "Content-Transfer-Encoding: quoted-printable\r\n\r\n", bnd);
	vg_buf_add(&b, qt, lt);
	vg_buf_printf(&b, "\r\n--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
		  "Content-Transfer-Encoding: quoted-printable\r\n\r\n", bnd);
	vg_buf_add(&b, qh, lh);
	vg_buf_printf(&b, "\r\n--%s--\r\n", bnd);
	free(qt);
	free(qh);
	return mb_done(&b, out, outlen);
}

int mail_message_id(const char *from, char *buf, size_t len)
{
	uint8_t r[16];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return -EIO;
	const char *at = from ? strrchr(from, '@') : NULL;
	const char *dom = at && at[1] ? at + 1 : "vigia.invalid";
	char hexr[33];
	for (size_t i = 0; i < sizeof r; i++)
		snprintf(hexr + 2 * i, 3, "%02x", r[i]);
	int n = snprintf(buf, len, "<vigia.%s@%s>", hexr, dom);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

void mail_date(time_t t, char *buf, size_t len)
{
	static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	gmtime_r(&t, &tm);
	/* by hand: strftime's %a and %b follow the locale, RFC 5322 wants English */
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday % 7],
		 tm.tm_mday, mo[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
}

/* Header values come from the config and the program, never from the
 * network; a CR or LF in one would still forge headers, so refuse it. */
static bool header_safe(const char *v)
{
	return v && !strpbrk(v, "\r\n");
}

int mail_mime_encrypted(const struct mail_headers *h, const char *armored, size_t alen,
			char **out, size_t *outlen)
{
	if (!header_safe(h->from) || !header_safe(h->to) || !header_safe(h->subject) ||
	    !header_safe(h->message_id) || !header_safe(h->date))
		return -EINVAL;
	char bnd[64];
	int rc = boundary(bnd, sizeof bnd, "enc");
	if (rc)
		return rc;
	struct vg_buf b = {0};
	vg_buf_printf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\n"
		  "MIME-Version: 1.0\r\n"
		  "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\r\n"
		  " boundary=\"%s\"\r\n\r\n"
		  "This is an OpenPGP/MIME encrypted message (RFC 3156).\r\n",
		  h->from, h->to, h->subject, h->date, h->message_id, bnd);
	vg_buf_printf(&b, "--%s\r\nContent-Type: application/pgp-encrypted\r\n"
		  "Content-Description: PGP/MIME version identification\r\n\r\nVersion: 1\r\n\r\n", bnd);
	vg_buf_printf(&b, "--%s\r\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
		  "Content-Description: OpenPGP encrypted message\r\n"
		  "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n", bnd);
	/* the armour from GPGME has LF line ends */
	for (size_t i = 0; i < alen; i++) {
		if (armored[i] == '\n' && (i == 0 || armored[i - 1] != '\r'))
			vg_buf_puts(&b, "\r\n");
		else
			vg_buf_add(&b, armored + i, 1);
	}
	if (alen && armored[alen - 1] != '\n')
		vg_buf_puts(&b, "\r\n");
	vg_buf_printf(&b, "\r\n--%s--\r\n", bnd);
	return mb_done(&b, out, outlen);
}
