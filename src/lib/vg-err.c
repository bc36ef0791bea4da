#include "vg-err.h"

#include <stdio.h>
#include <string.h>

int vg_err_set(struct vg_err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

void vg_err_clear(struct vg_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}
