/* svc-ssh.c: the SSH version exchange and the server's KEXINIT.
 *
 * The banner is a real OpenSSH (or, for a Cisco template, Cisco) version
 * string that nmap names as such.  The client's version string and the
 * key exchange methods of its KEXINIT are recorded: together they tell
 * one SSH brute forcer from another.  A key exchange is not carried out
 * (that would take real cryptography for no more evidence): when the
 * client goes on past its KEXINIT, the connection is closed, as a server
 * failing the exchange would. */
#include "svc-util.h"

#include <string.h>

/* Longest SSH packet accepted, as OpenSSH's PACKET_MAX_SIZE. */
#define SSH_MAX_PACKET (256 * 1024)
/* Bytes of a client packet kept for parsing (KEXINIT's first name-list). */
#define SSH_KEEP 512

enum { SSH_VERSION, SSH_PACKETS, SSH_DONE };

struct ssh_state {
	struct svc_line line;
	uint8_t phase;
	uint8_t hdr_got;
	uint8_t hdr[4];
	uint8_t packets;
	uint32_t pkt_len, pkt_got;
	uint8_t pkt[SSH_KEEP];
};

static const char *ssh_banner(const struct svc_io *io)
{
	if (svc_personality_has(io, "cisco"))
		return "SSH-1.99-Cisco-1.25\r\n";
	if (svc_personality_has(io, "freebsd"))
		return "SSH-2.0-OpenSSH_5.4p1 FreeBSD-20100308\r\n";
	if (svc_personality_has(io, "openbsd"))
		return "SSH-2.0-OpenSSH_4.5\r\n";
	return "SSH-2.0-OpenSSH_5.1p1 Debian-5\r\n";
}

static int ssh_open(void *state, struct svc_io *io)
{
	(void)state;
	return svc_send_str(io, ssh_banner(io));
}

static size_t put_namelist(uint8_t *p, const char *s)
{
	size_t n = strlen(s);
	svc_put_be32(p, (uint32_t)n);
	memcpy(p + 4, s, n);
	return 4 + n;
}

/* The algorithms OpenSSH 5.x offered, so that the reply looks like the
 * version the banner claims. */
static int ssh_send_kexinit(struct svc_io *io)
{
	static const char *const lists[10] = {
		"diffie-hellman-group-exchange-sha256,diffie-hellman-group-exchange-sha1,"
		"diffie-hellman-group14-sha1,diffie-hellman-group1-sha1",
		"ssh-rsa,ssh-dss",
		"aes128-ctr,aes192-ctr,aes256-ctr,arcfour256,arcfour128,aes128-cbc,"
		"3des-cbc,blowfish-cbc,cast128-cbc,aes192-cbc,aes256-cbc,arcfour",
		"aes128-ctr,aes192-ctr,aes256-ctr,arcfour256,arcfour128,aes128-cbc,"
		"3des-cbc,blowfish-cbc,cast128-cbc,aes192-cbc,aes256-cbc,arcfour",
		"hmac-md5,hmac-sha1,umac-64@openssh.com,hmac-ripemd160,hmac-sha1-96,hmac-md5-96",
		"hmac-md5,hmac-sha1,umac-64@openssh.com,hmac-ripemd160,hmac-sha1-96,hmac-md5-96",
		"none,zlib@openssh.com",
		"none,zlib@openssh.com",
		"",
		"",
	};
	uint8_t pkt[1024];
	size_t n = 5;     /* length and padding length, filled in below */
	uint64_t seed = io->now_ns ^ ((uint64_t)io->sport << 32) ^ io->dport;

	pkt[n++] = 20;    /* SSH_MSG_KEXINIT */
	for (int i = 0; i < 16; i++) {
		/* The cookie only has to look random: a 64-bit LCG from the
		 * time and ports keeps replays deterministic. */
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		pkt[n++] = (uint8_t)(seed >> 56);
	}
	for (int i = 0; i < 10; i++)
		n += put_namelist(pkt + n, lists[i]);
	pkt[n++] = 0;     /* first_kex_packet_follows */
	svc_put_be32(pkt + n, 0);
	n += 4;
	/* Padding: at least 4 bytes, whole packet a multiple of 8. */
	size_t pad = 8 - (n % 8);
	if (pad < 4)
		pad += 8;
	memset(pkt + n, 0, pad);
	n += pad;
	svc_put_be32(pkt, (uint32_t)(n - 4));
	pkt[4] = (uint8_t)pad;
	return io->send(io, pkt, n);
}

static void ssh_close_now(struct ssh_state *st, struct svc_io *io)
{
	io->close(io);
	st->phase = SSH_DONE;
}

/* A whole client packet has arrived (its first SSH_KEEP bytes in pkt). */
static void ssh_packet(struct ssh_state *st, struct svc_io *io)
{
	size_t have = st->pkt_len < SSH_KEEP ? st->pkt_len : SSH_KEEP;
	const uint8_t *p = st->pkt;

	st->packets++;
	/* pkt: padding_length, payload (msg, ...), padding. */
	if (have >= 2 && p[1] == 20 && have >= 2 + 16 + 4) {
		uint32_t l = (uint32_t)p[18] << 24 | (uint32_t)p[19] << 16 |
			     (uint32_t)p[20] << 8 | p[21];
		size_t avail = have - 22;
		svc_record_bytes(io, "kex", p + 22, l < avail ? l : avail);
		return;
	}
	if (have >= 2)
		svc_recordf(io, "ssh-msg", "%u", p[1]);
	/* Past the client's KEXINIT comes its half of the exchange, which
	 * this emulation cannot answer. */
	ssh_close_now(st, io);
}

static void ssh_binary(struct ssh_state *st, struct svc_io *io, const uint8_t *buf, size_t len)
{
	size_t off = 0;

	while (off < len && st->phase == SSH_PACKETS) {
		if (st->hdr_got < 4) {
			st->hdr[st->hdr_got++] = buf[off++];
			if (st->hdr_got == 4) {
				st->pkt_len = (uint32_t)st->hdr[0] << 24 | (uint32_t)st->hdr[1] << 16 |
					      (uint32_t)st->hdr[2] << 8 | st->hdr[3];
				st->pkt_got = 0;
				if (st->pkt_len < 5 || st->pkt_len > SSH_MAX_PACKET) {
					svc_recordf(io, "ssh-bad-length", "%u", (unsigned)st->pkt_len);
					ssh_close_now(st, io);
				}
			}
			continue;
		}
		size_t want = st->pkt_len - st->pkt_got;
		size_t take = len - off < want ? len - off : want;
		if (st->pkt_got < SSH_KEEP) {
			size_t keep = SSH_KEEP - st->pkt_got;
			memcpy(st->pkt + st->pkt_got, buf + off, take < keep ? take : keep);
		}
		st->pkt_got += (uint32_t)take;
		off += take;
		if (st->pkt_got == st->pkt_len) {
			st->hdr_got = 0;
			ssh_packet(st, io);
		}
	}
}

static int ssh_input(void *state, struct svc_io *io, const uint8_t *buf, size_t len)
{
	struct ssh_state *st = state;
	size_t off = 0;

	if (st->phase == SSH_VERSION) {
		int done;
		off = svc_line_feed(&st->line, buf, len, &done);
		if (!done)
			return 0;
		svc_record_bytes(io, "client-version", st->line.buf, st->line.len);
		if (strncmp(st->line.buf, "SSH-", 4) != 0) {
			svc_send_str(io, "Protocol mismatch.\r\n");
			ssh_close_now(st, io);
			return 0;
		}
		st->phase = SSH_PACKETS;
		ssh_send_kexinit(io);
	}
	if (st->phase == SSH_PACKETS)
		ssh_binary(st, io, buf + off, len - off);
	return 0;
}

const struct svc_def svc_ssh = {
	.name = "ssh",
	.proto = 6,
	.default_port = 22,
	.state_size = sizeof(struct ssh_state),
	.open = ssh_open,
	.input = ssh_input,
	.close = svc_close_nothing,
};
