/* util-buf.h: a growable text buffer for building messages and pages.
 *
 * Out of memory is sticky: after the first failure every call does
 * nothing and `rc` stays -ENOMEM, so builders check once at the end. */
#ifndef VIGIA_UTIL_BUF_H
#define VIGIA_UTIL_BUF_H

#include <stddef.h>

struct vg_buf {
	char *p;        /* NUL-terminated once anything was added */
	size_t n;       /* bytes, without the NUL */
	size_t cap;
	int rc;         /* 0, or -ENOMEM after a failed growth */
};

void vg_buf_add(struct vg_buf *b, const void *s, size_t n);
void vg_buf_puts(struct vg_buf *b, const char *s);
/* Formats without a length limit (the text is sized first). */
void vg_buf_printf(struct vg_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vg_buf_free(struct vg_buf *b);

#endif
