/* mail-maildir.h: messages into a Maildir instead of SMTP (--outbox).
 *
 * The Maildir protocol: write tmp/UNIQUE, fsync, then rename it into
 * new/, so a reader never sees a partial message. */
#ifndef VIGIA_MAIL_MAILDIR_H
#define VIGIA_MAIL_MAILDIR_H

#include <stddef.h>

#include "vg-err.h"

/* Create dir, dir/tmp, dir/new and dir/cur when absent. */
int mail_maildir_init(const char *dir, struct vg_err *err);
/* Deliver one message; the file's name (under new/) into name. */
int mail_maildir_write(const char *dir, const char *msg, size_t len, char *name,
		       size_t namelen, struct vg_err *err);

#endif
