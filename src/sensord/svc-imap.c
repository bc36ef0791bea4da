/* svc-imap.c: an IMAP server that looks like Dovecot before login.
 *
 * LOGIN user names and passwords (atoms or quoted strings) and
 * AUTHENTICATE responses are recorded; every login fails with
 * "NO [AUTHENTICATIONFAILED]".  Literals ({n}) are refused with BAD
 * rather than read: no login tool needs them, and a literal is an
 * attacker-sized allocation this emulation does not make. */
#include "svc-util.h"

#include <stdio.h>
#include <string.h>

#define IMAP_MAX_BAD 10
#define IMAP_MAX_CMDS 64
#define IMAP_TAG_MAX 32

struct imap_state {
	struct svc_line line;
	uint8_t done, bad, in_auth;
	uint16_t cmds;
	char auth_tag[IMAP_TAG_MAX];
};

static int imap_open(void *state, struct svc_io *io)
{
	(void)state;
	return svc_send_str(io, "* OK Dovecot ready.\r\n");
}

static void imap_bye(struct imap_state *st, struct svc_io *io, const char *msg)
{
	svc_send_str(io, msg);
	io->close(io);
	st->done = 1;
}

/* One IMAP astring from *pp into out (bounded); returns 0, or -1 when
 * there is none or it is a literal. */
static int imap_astring(const char **pp, char *out, size_t outsz)
{
	const char *p = *pp;
	size_t o = 0;

	while (*p == ' ')
		p++;
	if (*p == '\0' || *p == '{')
		return -1;
	if (*p == '"') {
		p++;
		while (*p && *p != '"') {
			if (*p == '\\' && p[1])
				p++;
			if (o + 1 < outsz)
				out[o++] = *p;
			p++;
		}
		if (*p == '"')
			p++;
	} else {
		while (*p && *p != ' ') {
			if (o + 1 < outsz)
				out[o++] = *p;
			p++;
		}
	}
	out[o] = '\0';
	*pp = p;
	return 0;
}

static void imap_bad(struct imap_state *st, struct svc_io *io, const char *tag, const char *msg)
{
	if (++st->bad >= IMAP_MAX_BAD)
		imap_bye(st, io, "* BYE Too many invalid IMAP commands.\r\n");
	else
		svc_sendf(io, "%s %s\r\n", tag, msg);
}

static void imap_line(void *state, struct svc_io *io)
{
	struct imap_state *st = state;
	char tag[IMAP_TAG_MAX], user[128], pass[128];
	const char *l = st->line.buf, *sp, *arg;

	if (++st->cmds > IMAP_MAX_CMDS) {
		imap_bye(st, io, "* BYE Disconnected for inactivity.\r\n");
		return;
	}
	if (st->in_auth) {
		/* The client's SASL response (base64) to our "+" */
		st->in_auth = 0;
		svc_record_bytes(io, "auth", l, st->line.len);
		svc_sendf(io, "%s NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", st->auth_tag);
		return;
	}
	sp = strchr(l, ' ');
	if (!sp || sp == l || (size_t)(sp - l) >= sizeof tag) {
		svc_record_bytes(io, "command", l, st->line.len);
		imap_bad(st, io, "*", "BAD Error in IMAP command received by server.");
		return;
	}
	memcpy(tag, l, (size_t)(sp - l));
	tag[sp - l] = '\0';
	l = sp + 1;
	if ((arg = svc_verb(l, "LOGIN"))) {
		if (imap_astring(&arg, user, sizeof user) < 0 ||
		    imap_astring(&arg, pass, sizeof pass) < 0) {
			imap_bad(st, io, tag, "BAD Error in IMAP command LOGIN: Invalid arguments.");
			return;
		}
		svc_record_str(io, "user", user);
		svc_record_str(io, "pass", pass);
		st->bad++;
		svc_sendf(io, "%s NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", tag);
	} else if ((arg = svc_verb(l, "AUTHENTICATE"))) {
		const char *ir = strchr(arg, ' ');
		svc_record_str(io, "auth-mech", arg);
		if (ir) {
			svc_record_str(io, "auth", ir + 1);
			svc_sendf(io, "%s NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", tag);
		} else {
			memcpy(st->auth_tag, tag, sizeof tag);
			st->in_auth = 1;
			svc_send_str(io, "+ \r\n");
		}
	} else if (svc_verb(l, "CAPABILITY")) {
		svc_sendf(io, "* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE "
			  "IDLE AUTH=PLAIN\r\n%s OK Pre-login capabilities listed, post-login "
			  "capabilities have more.\r\n", tag);
	} else if (svc_verb(l, "NOOP")) {
		svc_sendf(io, "%s OK NOOP completed.\r\n", tag);
	} else if (svc_verb(l, "LOGOUT")) {
		char bye[96];
		snprintf(bye, sizeof bye, "* BYE Logging out\r\n%s OK Logout completed.\r\n", tag);
		imap_bye(st, io, bye);
	} else {
		svc_record_bytes(io, "command", l, strlen(l));
		imap_bad(st, io, tag, "BAD Error in IMAP command received by server.");
	}
}

static int imap_input(void *state, struct svc_io *io, const uint8_t *buf, size_t len)
{
	struct imap_state *st = state;

	svc_line_input(&st->line, &st->done, buf, len, imap_line, st, io);
	return 0;
}

const struct svc_def svc_imap = {
	.name = "imap",
	.proto = 6,
	.default_port = 143,
	.state_size = sizeof(struct imap_state),
	.open = imap_open,
	.input = imap_input,
	.close = svc_close_nothing,
};
