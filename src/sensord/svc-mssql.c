/* svc-mssql.c: Microsoft SQL Server's TDS front door (1433/tcp).
 *
 * A PRELOGIN gets the response of a real server of the template's era
 * (SQL Server 2000 SP4 for the 2000/XP/2003 personalities and by default,
 * 2008 R2, 2012 or 2016 for later Windows), with encryption "not
 * supported", so that the LOGIN7 that follows comes in clear: its host,
 * user, password (TDS's nibble-swap/XOR obfuscation undone) and
 * application are recorded, and the login fails with error 18456, as for
 * a wrong password.  Anything else is recorded by packet type and the
 * connection closed. */
#include "svc-util.h"

#include <stdio.h>
#include <string.h>

#define TDS_KEEP 1024          /* bytes of a packet kept for parsing */
#define TDS_MAX_PACKETS 8

enum { TDS_PRELOGIN = 0x12, TDS_LOGIN7 = 0x10, TDS_REPLY = 0x04 };

struct mssql_state {
	uint8_t hdr[8];
	uint8_t hdr_got, done, packets;
	uint16_t pkt_len, pkt_got;
	uint8_t pkt[TDS_KEEP];
};

static void mssql_version(const struct svc_io *io, uint8_t v[4])
{
	static const struct { const char *os; uint8_t v[4]; } t[] = {
		{ "server 2008 r2", { 10, 50, 0x06, 0x40 } },   /* 10.50.1600 */
		{ "windows 7", { 10, 50, 0x06, 0x40 } },
		{ "server 2012", { 11, 0, 0x08, 0x34 } },       /* 11.00.2100 */
		{ "windows 8", { 11, 0, 0x08, 0x34 } },
		{ "windows 10", { 13, 0, 0x06, 0x41 } },        /* 13.00.1601 */
		{ "server 2016", { 13, 0, 0x06, 0x41 } },
	};
	static const uint8_t sql2000sp4[4] = { 8, 0, 0x07, 0xf7 };  /* 8.00.2039 */

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (svc_personality_has(io, t[i].os)) {
			memcpy(v, t[i].v, 4);
			return;
		}
	memcpy(v, sql2000sp4, 4);
}

static void mssql_prelogin_reply(struct svc_io *io)
{
	uint8_t r[37] = {
		TDS_REPLY, 0x01, 0x00, 0x25, 0x00, 0x00, 0x01, 0x00,
		/* option tokens: VERSION, ENCRYPTION, INSTOPT, THREADID, end */
		0x00, 0x00, 0x15, 0x00, 0x06,
		0x01, 0x00, 0x1b, 0x00, 0x01,
		0x02, 0x00, 0x1c, 0x00, 0x01,
		0x03, 0x00, 0x1d, 0x00, 0x00,
		0xff,
		0, 0, 0, 0, 0x00, 0x00,   /* version, sub-build */
		0x02,                     /* ENCRYPT_NOT_SUP */
		0x00,                     /* instance: default */
	};
	mssql_version(io, r + 29);
	io->send(io, r, sizeof r);
}

/* UCS-2LE at body[off], cch characters, to ASCII-ish text (non-ASCII as
 * '?'); password bytes are de-obfuscated first.  Bounded by have. */
static void tds_string(const uint8_t *body, size_t have, uint16_t off, uint16_t cch,
		       int password, char *out, size_t outsz)
{
	size_t o = 0;

	for (size_t i = 0; i < cch && (size_t)off + 2 * i + 1 < have && o + 1 < outsz; i++) {
		uint8_t lo = body[off + 2 * i], hi = body[off + 2 * i + 1];
		if (password) {
			lo ^= 0xa5;
			lo = (uint8_t)(lo << 4 | lo >> 4);
			hi ^= 0xa5;
			hi = (uint8_t)(hi << 4 | hi >> 4);
		}
		out[o++] = hi == 0 ? (char)lo : '?';
	}
	out[o] = '\0';
}

static void mssql_login_failed(struct svc_io *io, const char *user, int tds72)
{
	char msg[160], host[32];
	uint8_t r[1024];
	size_t n = 8, tok;
	int ml = snprintf(msg, sizeof msg, "Login failed for user '%s'.", user);
	size_t mlen = ml < 0 ? 0 : (size_t)ml >= sizeof msg ? sizeof msg - 1 : (size_t)ml;
	size_t hlen = strlen(svc_hostname(io, host, sizeof host));

	r[n++] = 0xaa;                       /* ERROR token */
	tok = n;
	n += 2;
	svc_put_le32(r + n, 18456);
	n += 4;
	r[n++] = 1;                          /* state */
	r[n++] = 14;                         /* class */
	svc_put_le16(r + n, (uint16_t)mlen);
	n += 2;
	for (size_t i = 0; i < mlen; i++) {
		r[n++] = (uint8_t)msg[i];
		r[n++] = 0;
	}
	r[n++] = (uint8_t)hlen;
	for (size_t i = 0; i < hlen; i++) {
		r[n++] = (uint8_t)host[i];
		r[n++] = 0;
	}
	r[n++] = 0;                          /* no procedure */
	if (tds72) {
		svc_put_le32(r + n, 1);
		n += 4;
	} else {
		svc_put_le16(r + n, 1);
		n += 2;
	}
	svc_put_le16(r + tok, (uint16_t)(n - tok - 2));
	r[n++] = 0xfd;                       /* DONE, with the error bit */
	svc_put_le16(r + n, 0x0002);
	n += 2;
	svc_put_le16(r + n, 0);
	n += 2;
	memset(r + n, 0, tds72 ? 8 : 4);
	n += tds72 ? 8 : 4;
	r[0] = TDS_REPLY;
	r[1] = 0x01;
	svc_put_be16(r + 2, (uint16_t)n);
	r[4] = r[5] = 0;
	r[6] = 1;
	r[7] = 0;
	io->send(io, r, n);
}

static void mssql_login7(struct mssql_state *st, struct svc_io *io)
{
	size_t have = (st->pkt_len < TDS_KEEP ? st->pkt_len : TDS_KEEP);
	const uint8_t *b = st->pkt + 8;
	char host[64], user[64], pass[64], app[64];

	if (have < 8 + 56) {
		svc_record_str(io, "tds", "short LOGIN7");
		return;
	}
	have -= 8;
	uint32_t tdsv = svc_le32(b + 4);
	tds_string(b, have, svc_le16(b + 36), svc_le16(b + 38), 0, host, sizeof host);
	tds_string(b, have, svc_le16(b + 40), svc_le16(b + 42), 0, user, sizeof user);
	tds_string(b, have, svc_le16(b + 44), svc_le16(b + 46), 1, pass, sizeof pass);
	tds_string(b, have, svc_le16(b + 48), svc_le16(b + 50), 0, app, sizeof app);
	svc_record_str(io, "client-host", host);
	svc_record_str(io, "user", user);
	svc_record_str(io, "pass", pass);
	svc_record_str(io, "client-app", app);
	mssql_login_failed(io, user, (tdsv >> 24) >= 0x72);
}

static void mssql_packet(struct mssql_state *st, struct svc_io *io)
{
	uint8_t type = st->hdr[0];

	if (type == TDS_PRELOGIN && st->packets == 1) {
		svc_record_str(io, "tds", "PRELOGIN");
		mssql_prelogin_reply(io);
		return;
	}
	if (type == TDS_LOGIN7) {
		mssql_login7(st, io);
	} else {
		svc_recordf(io, "tds", "packet type 0x%02x, %u bytes", type, (unsigned)st->pkt_len);
	}
	io->close(io);
	st->done = 1;
}

static int mssql_input(void *state, struct svc_io *io, const uint8_t *buf, size_t len)
{
	struct mssql_state *st = state;
	size_t off = 0;

	while (off < len && !st->done) {
		if (st->hdr_got < 8) {
			st->hdr[st->hdr_got] = buf[off];
			st->pkt[st->hdr_got++] = buf[off++];
			if (st->hdr_got == 8) {
				st->pkt_len = svc_be16(st->hdr + 2);
				st->pkt_got = 8;
				if (st->pkt_len < 8 || ++st->packets > TDS_MAX_PACKETS) {
					svc_recordf(io, "tds", "bad header, type 0x%02x length %u",
						    st->hdr[0], (unsigned)st->pkt_len);
					io->close(io);
					st->done = 1;
					break;
				}
			}
		} else {
			size_t want = (size_t)st->pkt_len - st->pkt_got;
			size_t take = len - off < want ? len - off : want;
			if (st->pkt_got < TDS_KEEP) {
				size_t keep = TDS_KEEP - st->pkt_got;
				memcpy(st->pkt + st->pkt_got, buf + off, take < keep ? take : keep);
			}
			st->pkt_got = (uint16_t)(st->pkt_got + take);
			off += take;
		}
		if (st->hdr_got == 8 && st->pkt_got == st->pkt_len) {
			mssql_packet(st, io);
			st->hdr_got = 0;
		}
	}
	return 0;
}

const struct svc_def svc_mssql = {
	.name = "mssql",
	.proto = 6,
	.default_port = 1433,
	.state_size = sizeof(struct mssql_state),
	.open = svc_open_nothing,
	.input = mssql_input,
	.close = svc_close_nothing,
};
