/* progress.h: one-line progress on a terminal (stderr), silent otherwise. */
#ifndef VIGIA_PROGRESS_H
#define VIGIA_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
	bool enabled;           /* stderr is a terminal and not --quiet */
	uint64_t last_ns;       /* last redraw, monotonic */
	uint64_t start_ns;
	int width;              /* chars drawn last time, to blank the line */
};

void progress_init(struct progress *p, bool quiet);
/* Redraw at most ~10 times a second; `fmt` describes the state. */
void progress_update(struct progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Clear the line (before printing anything else to stderr). */
void progress_clear(struct progress *p);
double progress_elapsed(const struct progress *p);
uint64_t progress_now_ns(void);

#endif
