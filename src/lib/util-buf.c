#include "util-buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct vg_buf *b, size_t more)
{
	if (b->rc)
		return b->rc;
	if (b->n + more + 1 <= b->cap)
		return 0;
	size_t nc = b->cap ? b->cap : 1024;
	while (nc < b->n + more + 1) {
		if (nc > (size_t)-1 / 2)
			return b->rc = -ENOMEM;
		nc *= 2;
	}
	char *np = realloc(b->p, nc);
	if (!np)
		return b->rc = -ENOMEM;
	b->p = np;
	b->cap = nc;
	return 0;
}

void vg_buf_add(struct vg_buf *b, const void *s, size_t n)
{
	if (reserve(b, n))
		return;
	if (n)
		memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void vg_buf_puts(struct vg_buf *b, const char *s)
{
	vg_buf_add(b, s, strlen(s));
}

void vg_buf_printf(struct vg_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)n;
}

void vg_buf_free(struct vg_buf *b)
{
	free(b->p);
	*b = (struct vg_buf){0};
}
