/* svc-netbios-ns.c: NetBIOS name service (137/udp), node status only.
 *
 * The choice: answer a node status request (NBSTAT, what `nbtstat -A`,
 * nmap and worms scanning for Windows hosts send) for "*" or for the
 * host's own name, with a minimal name table (the host and its workgroup)
 * as Windows would; stay silent to everything else (name queries,
 * registrations, malformed packets), which a Windows host does for
 * names it does not hold.  Every request is recorded.
 *
 * The answer (139 bytes) is larger than the 50-byte request, so the
 * service is flagged SVC_F_AMPLIFIES: the responder rate-limits it per
 * source. */
#include "svc-util.h"

#include <stdio.h>
#include <string.h>

#define NBNS_NAME_LEN 34    /* length byte 32, 32 letters, root label */

/* First-level NetBIOS encoding of a 15-character, space-padded name with
 * its suffix byte. */
static void nb_encode(uint8_t out[32], const char *name, uint8_t suffix)
{
	uint8_t raw[16];
	size_t n = strlen(name);

	memset(raw, ' ', 15);
	memcpy(raw, name, n > 15 ? 15 : n);
	raw[15] = suffix;
	for (int i = 0; i < 16; i++) {
		out[2 * i] = (uint8_t)('A' + (raw[i] >> 4));
		out[2 * i + 1] = (uint8_t)('A' + (raw[i] & 15));
	}
}

static size_t nb_entry(uint8_t *p, const char *name, uint8_t suffix, uint16_t flags)
{
	size_t n = strlen(name);

	memset(p, ' ', 15);
	memcpy(p, name, n > 15 ? 15 : n);
	p[15] = suffix;
	svc_put_be16(p + 16, flags);
	return 18;
}

static int nbns_input(void *state, struct svc_io *io, const uint8_t *buf, size_t len)
{
	char host[32], qname[80];
	uint8_t own[32], wild[32];
	uint8_t r[12 + NBNS_NAME_LEN + 10 + 1 + 2 * 18 + 46];
	size_t o;

	(void)state;
	if (len < 12 + NBNS_NAME_LEN + 4) {
		svc_recordf(io, "nbns", "short packet, %zu bytes", len);
		return 0;
	}
	uint16_t flags = svc_be16(buf + 2);
	const uint8_t *q = buf + 12;
	uint16_t qtype = svc_be16(q + NBNS_NAME_LEN), qclass = svc_be16(q + NBNS_NAME_LEN + 2);
	if ((flags & 0x8000) || ((flags >> 11) & 15) != 0 || svc_be16(buf + 4) != 1 ||
	    q[0] != 32 || q[33] != 0 || qclass != 1) {
		svc_recordf(io, "nbns", "not a query (flags 0x%04x), %zu bytes", flags, len);
		return 0;
	}
	/* Decode the name for the record; its letters must be 'A'..'P'. */
	uint8_t raw[16];
	for (int i = 0; i < 16; i++) {
		uint8_t a = q[1 + 2 * i], b = q[2 + 2 * i];
		if (a < 'A' || a > 'P' || b < 'A' || b > 'P') {
			svc_record_str(io, "nbns", "query with a malformed name");
			return 0;
		}
		raw[i] = (uint8_t)((a - 'A') << 4 | (b - 'A'));
	}
	size_t nl = 15;
	while (nl > 0 && (raw[nl - 1] == ' ' || raw[nl - 1] == 0))
		nl--;
	svc_clean(qname, sizeof qname, raw, nl);
	svc_recordf(io, qtype == 0x21 ? "nbstat" : "nbns-query", "%s<%02x>", qname, raw[15]);
	if (qtype != 0x21)
		return 0;

	svc_hostname(io, host, sizeof host);
	nb_encode(own, host, 0x00);
	memset(wild, 'A', sizeof wild);
	wild[0] = 'C';
	wild[1] = 'K';               /* "*" padded with NULs */
	if (memcmp(q + 1, own, 32) != 0 && memcmp(q + 1, wild, 32) != 0)
		return 0;

	memset(r, 0, sizeof r);
	memcpy(r, buf, 2);                       /* transaction id */
	svc_put_be16(r + 2, 0x8400);             /* response, authoritative */
	svc_put_be16(r + 6, 1);                  /* one answer */
	memcpy(r + 12, q, NBNS_NAME_LEN);
	o = 12 + NBNS_NAME_LEN;
	svc_put_be16(r + o, 0x21);
	svc_put_be16(r + o + 2, 1);
	o += 8;                                  /* TTL 0 */
	svc_put_be16(r + o, 1 + 2 * 18 + 46);    /* rdlength */
	o += 2;
	r[o++] = 2;
	o += nb_entry(r + o, host, 0x00, 0x4400);
	o += nb_entry(r + o, "WORKGROUP", 0x00, 0xc400);
	/* Statistics: the MAC (zero, as many virtual adapters report) and
	 * counters left at zero. */
	o += 46;
	return io->send(io, r, o);
}

const struct svc_def svc_netbios_ns = {
	.name = "netbios-ns",
	.proto = 17,
	.default_port = 137,
	.state_size = 0,
	.open = svc_open_nothing,
	.input = nbns_input,
	.close = svc_close_nothing,
	.flags = SVC_F_AMPLIFIES,
};
