/* vg-err.h: how library code reports failure.
 *
 * Library code never logs and never exits (the curl/systemd rule).  A
 * function that can fail returns a negative errno-style value and, when
 * the caller passes a vg_err, fills it with one human sentence that names
 * the file and the line or byte offset at fault.  The program decides
 * what to print and which exit status follows.
 */
#ifndef VIGIA_VG_ERR_H
#define VIGIA_VG_ERR_H

#include <stdarg.h>
#include <stddef.h>

#define VG_ERR_MSG_MAX 512

struct vg_err {
	int code;                   /* negative errno, 0 when unset */
	char msg[VG_ERR_MSG_MAX];   /* "FILE: offset N: what went wrong" */
};

/* Record an error; returns `code` so callers can `return vg_err_set(...)`.
 * A NULL `err` is allowed: the code is still returned. */
int vg_err_set(struct vg_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vg_err_clear(struct vg_err *err);

#endif
