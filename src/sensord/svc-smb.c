/* svc-smb.c: NetBIOS session service and SMB negotiation (139, 445/tcp).
 *
 * Enough of SMB to be taken for the template's Windows: the NetBIOS
 * session request on 139 (and Windows' negative answer to a session
 * message sent without one), and the answer to an SMB1 or SMB2 NEGOTIATE
 * with the parameters of that Windows release (those nmap's SMB probe
 * names it by).  The dialects offered are recorded; so is every later
 * SMB command (code and size), which is where the worms' exploits come;
 * those are not answered.
 *
 * Messages are read through a fixed window: the first SMB_KEEP bytes of
 * each are parsed, the rest counted and skipped. */
#include "svc-util.h"

#include <stdio.h>
#include <string.h>

#define SMB_KEEP 1024
#define SMB_MAX_MSGS 32

struct smb_state {
	uint8_t nb[4];
	uint8_t nb_got, done, session, msgs;
	uint32_t msg_len, msg_got;
	uint8_t msg[SMB_KEEP];
};

struct smb_profile {
	uint16_t max_mpx;
	uint32_t max_buf, caps;
	uint8_t smb2;
};

static void smb_profile(const struct svc_io *io, struct smb_profile *p)
{
	static const char *const smb2_oses[] = {
		"windows 7", "vista", "server 2008", "server 2012", "windows 8",
		"windows 10", "server 2016", "server 2019", "windows 11",
	};
	p->smb2 = 0;
	if (svc_personality_has(io, "windows xp")) {
		p->max_mpx = 10, p->max_buf = 4356, p->caps = 0x0000e3fd;
		return;
	}
	if (svc_personality_has(io, "windows 2000")) {
		p->max_mpx = 50, p->max_buf = 16644, p->caps = 0x0000f3fd;
		return;
	}
	for (size_t i = 0; i < sizeof smb2_oses / sizeof smb2_oses[0]; i++)
		if (svc_personality_has(io, smb2_oses[i])) {
			p->max_mpx = 50, p->max_buf = 4356, p->caps = 0x0001e3fc, p->smb2 = 1;
			return;
		}
	/* Windows Server 2003, the default. */
	p->max_mpx = 50, p->max_buf = 16644, p->caps = 0x0001f3fd;
}

static uint64_t smb_filetime(const struct svc_io *io)
{
	return io->now_ns / 100u + 116444736000000000ull;
}

static void smb_send_msg(struct svc_io *io, uint8_t *r, size_t n)
{
	/* r[0..3] is the NetBIOS header; n counts it. */
	r[0] = 0;
	r[1] = 0;
	svc_put_be16(r + 2, (uint16_t)(n - 4));
	io->send(io, r, n);
}

static size_t put_ucs2(uint8_t *p, const char *s)
{
	size_t n = 0;
	for (; *s; s++) {
		p[n++] = (uint8_t)*s;
		p[n++] = 0;
	}
	p[n++] = 0;
	p[n++] = 0;
	return n;
}

static void smb2_negotiate_reply(struct svc_io *io, uint16_t dialect, const uint8_t *msgid)
{
	uint8_t r[4 + 64 + 65] = { 0 };
	uint8_t *h = r + 4, *b = r + 4 + 64;
	uint64_t ft = smb_filetime(io);
	char host[32];

	memcpy(h, "\xfeSMB", 4);
	svc_put_le16(h + 4, 64);
	svc_put_le16(h + 14, 1);            /* credits granted */
	svc_put_le32(h + 16, 1);            /* SMB2_FLAGS_SERVER_TO_REDIR */
	if (msgid)
		memcpy(h + 24, msgid, 8);
	svc_put_le16(b, 65);
	svc_put_le16(b + 2, 1);             /* signing enabled */
	svc_put_le16(b + 4, dialect);
	/* The server GUID: stable per virtual host, from its name. */
	svc_hostname(io, host, sizeof host);
	for (size_t i = 0; i < 16; i++)
		b[8 + i] = (uint8_t)(host[i % strlen(host)] * (i + 7));
	svc_put_le32(b + 24, 1);            /* DFS */
	svc_put_le32(b + 28, 65536);
	svc_put_le32(b + 32, 65536);
	svc_put_le32(b + 36, 65536);
	svc_put_le32(b + 40, (uint32_t)ft);
	svc_put_le32(b + 44, (uint32_t)(ft >> 32));
	svc_put_le16(b + 56, 0x80);         /* security buffer offset, empty */
	smb_send_msg(io, r, sizeof r);
}

static void smb1_negotiate(struct smb_state *st, struct svc_io *io, size_t have)
{
	const uint8_t *m = st->msg;
	struct smb_profile prof;
	char list[SVC_RECORD_MAX];
	size_t lo = 0, p, end;
	int idx = -1, n = 0, smb2ff = 0, smb2002 = 0;

	smb_profile(io, &prof);
	/* header 32, WordCount (0 expected), ByteCount, dialects */
	if (have < 35)
		return;
	p = 33 + 2 * (size_t)m[32];
	if (p + 2 > have)
		return;
	end = p + 2 + svc_le16(m + p);
	if (end > have)
		end = have;
	p += 2;
	list[0] = '\0';
	while (p < end && m[p] == 0x02) {
		const uint8_t *d = m + p + 1;
		const uint8_t *z = memchr(d, 0, end - p - 1);
		if (!z)
			break;
		size_t dl = (size_t)(z - d);
		if (dl == 10 && !memcmp(d, "NT LM 0.12", 10))
			idx = n;
		if (dl == 9 && !memcmp(d, "SMB 2.???", 9))
			smb2ff = 1;
		if (dl == 9 && !memcmp(d, "SMB 2.002", 9))
			smb2002 = 1;
		if (lo + 2 < sizeof list) {
			char c[128];
			svc_clean(c, sizeof c, d, dl);
			lo += (size_t)snprintf(list + lo, sizeof list - lo, "%s%s", n ? "," : "", c);
			if (lo >= sizeof list)
				lo = sizeof list - 1;
		}
		n++;
		p += dl + 2;
	}
	svc_record_str(io, "smb-dialects", list);

	if (prof.smb2 && (smb2ff || smb2002)) {
		smb2_negotiate_reply(io, smb2ff ? 0x02ff : 0x0202, NULL);
		return;
	}

	uint8_t r[4 + 32 + 1 + 34 + 2 + 8 + 2 * 40];
	uint8_t *h = r + 4;
	char host[32];
	size_t o;

	memset(r, 0, sizeof r);
	memcpy(h, "\xffSMB", 4);
	h[4] = 0x72;
	h[9] = 0x88;                                    /* reply, case-insensitive */
	svc_put_le16(h + 10, (uint16_t)(0x4001 | (svc_le16(m + 10) & 0x8000)));
	memcpy(h + 24, m + 24, 4);                      /* TID, PID */
	memcpy(h + 30, m + 30, 2);                      /* MID */
	o = 36;
	if (idx < 0) {
		r[o++] = 1;
		svc_put_le16(r + o, 0xffff);
		o += 2;
		svc_put_le16(r + o, 0);
		o += 2;
		smb_send_msg(io, r, o);
		return;
	}
	uint64_t ft = smb_filetime(io);
	r[o++] = 17;
	svc_put_le16(r + o, (uint16_t)idx);
	r[o + 2] = 0x03;                                /* user level, challenge/response */
	svc_put_le16(r + o + 3, prof.max_mpx);
	svc_put_le16(r + o + 5, 1);
	svc_put_le32(r + o + 7, prof.max_buf);
	svc_put_le32(r + o + 11, 65536);
	svc_put_le32(r + o + 15, 0);
	svc_put_le32(r + o + 19, prof.caps);
	svc_put_le32(r + o + 23, (uint32_t)ft);
	svc_put_le32(r + o + 27, (uint32_t)(ft >> 32));
	svc_put_le16(r + o + 31, 0);
	r[o + 33] = 8;
	o += 34;
	size_t bc = o;
	o += 2;
	/* The challenge only has to look random; replays stay deterministic. */
	uint64_t x = ft * 0x9e3779b97f4a7c15ull ^ io->sport;
	for (int i = 0; i < 8; i++, x >>= 8)
		r[o++] = (uint8_t)x;
	o += put_ucs2(r + o, "WORKGROUP");
	o += put_ucs2(r + o, svc_hostname(io, host, sizeof host));
	svc_put_le16(r + bc, (uint16_t)(o - bc - 2));
	smb_send_msg(io, r, o);
}

static void smb2_negotiate(struct smb_state *st, struct svc_io *io, size_t have)
{
	const uint8_t *m = st->msg, *b = m + 64;
	struct smb_profile prof;
	char list[SVC_RECORD_MAX];
	size_t lo = 0;
	uint16_t best = 0;

	smb_profile(io, &prof);
	if (have < 64 + 36)
		return;
	uint16_t count = svc_le16(b + 2);
	list[0] = '\0';
	for (size_t i = 0; i < count && 64 + 36 + 2 * i + 2 <= have; i++) {
		uint16_t d = svc_le16(b + 36 + 2 * i);
		if (lo + 8 < sizeof list)
			lo += (size_t)snprintf(list + lo, sizeof list - lo, "%s0x%04x", i ? "," : "", d);
		if ((d == 0x0202 || d == 0x0210) && d > best)
			best = d;
	}
	svc_record_str(io, "smb2-dialects", list);
	if (!prof.smb2 || !best) {
		/* Windows before Vista does not speak SMB2 at all. */
		io->close(io);
		st->done = 1;
		return;
	}
	smb2_negotiate_reply(io, best, m + 24);
}

static const char *smb1_command_name(uint8_t c)
{
	switch (c) {
	case 0x04: return "close";
	case 0x25: return "trans";
	case 0x2e: return "read_andx";
	case 0x2f: return "write_andx";
	case 0x32: return "trans2";
	case 0x33: return "trans2_secondary";
	case 0x71: return "tree_disconnect";
	case 0x72: return "negotiate";
	case 0x73: return "session_setup_andx";
	case 0x74: return "logoff_andx";
	case 0x75: return "tree_connect_andx";
	case 0xa0: return "nt_trans";
	case 0xa2: return "nt_create_andx";
	default: return "other";
	}
}

static void smb_message(struct smb_state *st, struct svc_io *io)
{
	size_t have = st->msg_len < SMB_KEEP ? st->msg_len : SMB_KEEP;
	const uint8_t *m = st->msg;

	if (have >= 33 && !memcmp(m, "\xffSMB", 4)) {
		if (m[4] == 0x72) {
			smb1_negotiate(st, io, have);
			return;
		}
		svc_recordf(io, "smb-command", "0x%02x %s (%u bytes)", m[4],
			    smb1_command_name(m[4]), (unsigned)st->msg_len);
		return;
	}
	if (have >= 64 && !memcmp(m, "\xfeSMB", 4)) {
		uint16_t cmd = svc_le16(m + 12);
		if (cmd == 0) {
			smb2_negotiate(st, io, have);
			return;
		}
		svc_recordf(io, "smb-command", "smb2 0x%04x (%u bytes)", cmd, (unsigned)st->msg_len);
		return;
	}
	svc_recordf(io, "smb-command", "not SMB (%u bytes)", (unsigned)st->msg_len);
	svc_record_bytes(io, "payload", m, have < 64 ? have : 64);
}

/* NetBIOS "first level" name: 32 letters 'A'..'P', two per byte. */
static void nb_name(const uint8_t *p, size_t have, char *out, size_t outsz)
{
	uint8_t raw[16] = { 0 };
	size_t n = 0;

	if (have >= 33 && p[0] == 32) {
		for (size_t i = 0; i < 16; i++) {
			uint8_t a = p[1 + 2 * i], b = p[2 + 2 * i];
			if (a < 'A' || a > 'P' || b < 'A' || b > 'P')
				break;
			raw[n++] = (uint8_t)((a - 'A') << 4 | (b - 'A'));
		}
	}
	/* 15 name bytes, space padded, then the suffix (service) byte. */
	size_t len = n == 16 ? 15 : n;
	while (len > 0 && raw[len - 1] == ' ')
		len--;
	svc_clean(out, outsz, raw, len);
	if (n == 16) {
		size_t l = strlen(out);
		snprintf(out + l, outsz - l, "<%02x>", raw[15]);
	}
}

static void smb_nb_message(struct smb_state *st, struct svc_io *io)
{
	size_t have = st->msg_len < SMB_KEEP ? st->msg_len : SMB_KEEP;
	char called[80], calling[80];

	if (++st->msgs > SMB_MAX_MSGS) {
		io->close(io);
		st->done = 1;
		return;
	}
	switch (st->nb[0]) {
	case 0x81:   /* session request: called name, calling name */
		nb_name(st->msg, have, called, sizeof called);
		nb_name(st->msg + (have >= 34 ? 34 : have), have >= 34 ? have - 34 : 0,
			calling, sizeof calling);
		svc_recordf(io, "netbios-session", "called %s calling %s", called, calling);
		st->session = 1;
		io->send(io, "\x82\0\0\0", 4);
		return;
	case 0x85:   /* keep-alive */
		return;
	case 0x00:
		if (io->dport == 139 && !st->session) {
			/* Windows: "called name not present" */
			io->send(io, "\x83\0\0\x01\x8f", 5);
			io->close(io);
			st->done = 1;
			return;
		}
		smb_message(st, io);
		return;
	default:
		svc_recordf(io, "netbios", "message type 0x%02x", st->nb[0]);
		io->close(io);
		st->done = 1;
		return;
	}
}

static int smb_input(void *state, struct svc_io *io, const uint8_t *buf, size_t len)
{
	struct smb_state *st = state;
	size_t off = 0;

	while (off < len && !st->done) {
		if (st->nb_got < 4) {
			st->nb[st->nb_got++] = buf[off++];
			if (st->nb_got == 4) {
				/* 17-bit length: the low bit of the flags extends it */
				st->msg_len = (uint32_t)(st->nb[1] & 1) << 16 | svc_be16(st->nb + 2);
				st->msg_got = 0;
			}
		} else {
			size_t want = st->msg_len - st->msg_got;
			size_t take = len - off < want ? len - off : want;
			if (st->msg_got < SMB_KEEP) {
				size_t keep = SMB_KEEP - st->msg_got;
				memcpy(st->msg + st->msg_got, buf + off, take < keep ? take : keep);
			}
			st->msg_got += (uint32_t)take;
			off += take;
		}
		if (st->nb_got == 4 && st->msg_got == st->msg_len) {
			smb_nb_message(st, io);
			st->nb_got = 0;
		}
	}
	return 0;
}

const struct svc_def svc_smb = {
	.name = "smb",
	.proto = 6,
	.default_port = 445,
	.state_size = sizeof(struct smb_state),
	.open = svc_open_nothing,
	.input = smb_input,
	.close = svc_close_nothing,
};
