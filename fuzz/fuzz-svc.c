/* fuzz-svc.c: libFuzzer harness for the built-in services.
 *
 * Input: byte 0 picks the service (index into svc_all), byte 1 the
 * personality and port, byte 2 seeds the chunking; the rest is the
 * client's stream, cut into chunks of 1..64 bytes fed to input() (for a
 * UDP service each chunk is one datagram).  The fake svc_io aborts on any
 * broken promise: a send larger than SVC_MAX_REPLY in one call, a send
 * after the service closed, a record key or value that is empty, too long
 * or not printable. */
#include "svc.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

struct fz {
	struct svc_io io;
	size_t call_out;
	int closed;
};

static volatile unsigned sink;

static int fz_send(struct svc_io *io, const void *buf, size_t len)
{
	struct fz *f = io->ctx;
	const uint8_t *b = buf;

	if (f->closed || len > SVC_MAX_REPLY)
		abort();
	if (f->call_out + len > SVC_MAX_REPLY)
		return -ENOSPC;
	f->call_out += len;
	for (size_t i = 0; i < len; i++)
		sink += b[i];
	return 0;
}

static void fz_close(struct svc_io *io)
{
	((struct fz *)io->ctx)->closed = 1;
}

static void fz_record(struct svc_io *io, const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);
	(void)io;
	if (kl == 0 || kl > 32 || vl >= 256)
		abort();
	for (size_t i = 0; i < vl; i++)
		if ((unsigned char)value[i] < 0x20 || (unsigned char)value[i] > 0x7e)
			abort();
}

static const char *const personalities[8] = {
	NULL, "Microsoft Windows XP SP2", "Microsoft Windows Server 2003 SP2",
	"Microsoft Windows 7 SP1", "Linux 2.6.32", "Cisco IOS 12.4",
	"OpenBSD 4.0", "Microsoft Windows 10",
};

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const struct vg_ip src = { 4, { 198, 51, 100, 7 } }, dst = { 4, { 192, 0, 2, 10 } };
	size_t nsvc = 0;
	struct fz f;

	if (n < 3)
		return 0;
	while (svc_all[nsvc])
		nsvc++;
	const struct svc_def *s = svc_all[d[0] % nsvc];
	memset(&f, 0, sizeof f);
	f.io.send = fz_send;
	f.io.close = fz_close;
	f.io.record = fz_record;
	f.io.ctx = &f;
	f.io.src = &src;
	f.io.dst = &dst;
	f.io.sport = 40000;
	f.io.dport = (d[1] & 0x08) ? 139 : s->default_port;
	f.io.proto = s->proto;
	f.io.now_ns = 1700000000ull * 1000000000ull + d[2];
	f.io.personality = personalities[d[1] & 7];

	/* Exactly state_size bytes, so that ASan sees any overrun. */
	void *st = s->state_size ? calloc(1, s->state_size) : NULL;
	if (s->proto == 6)
		s->open(st, &f.io);
	uint32_t seed = d[2] * 2654435761u + 1;
	size_t off = 3;
	while (off < n) {
		seed = seed * 1103515245u + 12345u;
		size_t c = 1 + (seed >> 16) % 64;
		if (c > n - off)
			c = n - off;
		/* A copy of exactly c bytes: a read past the chunk is caught. */
		uint8_t *chunk = malloc(c);
		memcpy(chunk, d + off, c);
		f.call_out = 0;
		s->input(st, &f.io, chunk, c);
		free(chunk);
		off += c;
	}
	f.call_out = 0;
	s->close(st, &f.io);
	free(st);
	return 0;
}
