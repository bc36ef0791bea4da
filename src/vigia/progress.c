#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

uint64_t progress_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void progress_init(struct progress *p, bool quiet)
{
	p->enabled = !quiet && isatty(STDERR_FILENO);
	p->start_ns = progress_now_ns();
	p->last_ns = 0;
	p->width = 0;
}

void progress_update(struct progress *p, const char *fmt, ...)
{
	if (!p->enabled)
		return;
	uint64_t now = progress_now_ns();
	if (p->last_ns && now - p->last_ns < 100000000u)
		return;
	p->last_ns = now;
	char line[200];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n >= (int)sizeof line)
		n = (int)sizeof line - 1;
	fprintf(stderr, "\r%s%*s", line, p->width > n ? p->width - n : 0, "");
	p->width = n;
	fflush(stderr);
}

void progress_clear(struct progress *p)
{
	if (!p->enabled || !p->width)
		return;
	fprintf(stderr, "\r%*s\r", p->width, "");
	p->width = 0;
	p->last_ns = 0;
	fflush(stderr);
}

double progress_elapsed(const struct progress *p)
{
	return (double)(progress_now_ns() - p->start_ns) / 1e9;
}
