/* svc-accept.c: accept and record, for open ports with no known service.
 *
 * Nothing is sent: the client, often a worm, speaks first and its first
 * bytes are recorded; the size of the whole stream is recorded at the
 * close.  (The packet log holds every byte; this is the short record.) */
#include "svc-util.h"

#include <string.h>

#define ACCEPT_KEEP 256u

struct accept_state {
	uint16_t kept;
	uint8_t recorded;
	uint64_t bytes;
	uint8_t first[ACCEPT_KEEP];
};

static void accept_record(struct accept_state *st, struct svc_io *io)
{
	if (st->recorded || st->kept == 0)
		return;
	st->recorded = 1;
	svc_record_bytes(io, "data", st->first, st->kept);
}

static int accept_input(void *state, struct svc_io *io, const uint8_t *buf, size_t len)
{
	struct accept_state *st = state;

	if (io->proto == 17) {
		/* UDP: each datagram is its own record (the state is not kept
		 * between datagrams). */
		svc_recordf(io, "datagram", "%zu bytes", len);
		svc_record_bytes(io, "data", buf, len < ACCEPT_KEEP ? len : ACCEPT_KEEP);
		return 0;
	}
	st->bytes += len;
	if (st->kept < ACCEPT_KEEP) {
		size_t k = ACCEPT_KEEP - st->kept < len ? ACCEPT_KEEP - st->kept : len;
		memcpy(st->first + st->kept, buf, k);
		st->kept = (uint16_t)(st->kept + k);
	}
	if (st->kept == ACCEPT_KEEP)
		accept_record(st, io);
	return 0;
}

static void accept_close(void *state, struct svc_io *io)
{
	struct accept_state *st = state;

	if (!st || io->proto == 17)
		return;
	accept_record(st, io);
	svc_recordf(io, "bytes", "%llu", (unsigned long long)st->bytes);
}

const struct svc_def svc_accept = {
	.name = "accept",
	.proto = 6,
	.default_port = 0,
	.state_size = sizeof(struct accept_state),
	.open = svc_open_nothing,
	.input = accept_input,
	.close = accept_close,
};
