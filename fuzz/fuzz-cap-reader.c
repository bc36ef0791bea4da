/* fuzz-cap-reader.c: libFuzzer harness for the capture reader.
 *
 * The input is a whole file (pcap, pcapng, gzip or zstd of either, or
 * junk).  It goes into a memfd that cap_open() opens through /proc, so
 * the real open path runs, format sniffing included.  Every packet byte
 * is read so ASan sees any overrun, and the reader's promises are
 * checked; a broken promise aborts, which libFuzzer reports. */
#include "cap-reader.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static volatile unsigned sink;

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static int fd = -1;
	static char path[64];

	if (fd < 0) {
		fd = memfd_create("fuzz-cap", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || (n && pwrite(fd, d, n, 0) != (ssize_t)n))
		abort();

	struct cap_reader *r = NULL;
	struct vg_err err = { 0 };
	int rc = cap_open(&r, path, &err);
	if (rc < 0) {
		if (r || !strstr(err.msg, path) || err.code != rc)
			abort();
		return 0;
	}

	struct cap_packet p;
	uint64_t last = 0;
	unsigned long count = 0;
	/* A few KB of zstd can inflate to gigabytes of empty records; a
	 * bounded walk keeps every run fast without hiding bugs. */
	while (count < 20000 && (rc = cap_next(r, &p, &err)) == 1) {
		unsigned s = 0;
		for (uint32_t i = 0; i < p.caplen; i++)
			s += p.data[i];
		sink += s;
		if (count && p.offset <= last)
			abort(); /* records never overlap or go back */
		last = p.offset;
		count++;
	}
	if (rc < 0) {
		if (!strstr(err.msg, path) || !strstr(err.msg, "offset") || err.code != rc)
			abort();
		if (cap_next(r, &p, &err) != 0)
			abort(); /* after an error the reader stays at its end */
	}
	if (cap_bytes_read(r) > n)
		abort();
	cap_close(r);
	return 0;
}
