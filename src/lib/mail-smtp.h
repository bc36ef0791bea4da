/* mail-smtp.h: one message over SMTP with libcurl (STARTTLS, AUTH). */
#ifndef VIGIA_MAIL_SMTP_H
#define VIGIA_MAIL_SMTP_H

#include <stddef.h>

#include "cfg-central.h"
#include "vg-err.h"

struct mail_smtp {
	const char *url;            /* smtp://HOST[:PORT] or smtps:// */
	enum cfg_starttls starttls;
	const char *user, *password; /* NULL: no AUTH */
	const char *ca_file;        /* NULL: the system's CA store */
	unsigned timeout;           /* seconds for the whole transaction */
};

/* Process-wide libcurl set-up; call once before any thread starts. */
int mail_smtp_global_init(void);
void mail_smtp_global_cleanup(void);

/* Send msg[0..len) (CRLF line ends, headers included) from `from` to
 * `rcpt`.  0 when the server accepted the message (250 after DATA);
 * -EAGAIN for a failure worth retrying (connection refused, dropped,
 * timeout, 4xx), -EIO for a permanent one (5xx, TLS required but not
 * offered).  err holds the server's words, without the message. */
int mail_smtp_send(const struct mail_smtp *s, const char *from, const char *rcpt,
		   const char *msg, size_t len, struct vg_err *err);

#endif
