/* svc-pop3.c: a POP3 server that looks like Dovecot before login.
 *
 * USER, PASS and APOP names are recorded; every login fails with
 * Dovecot's "[AUTH] Authentication failed.", and ten bad commands end the
 * session as Dovecot does. */
#include "svc-util.h"

#include <string.h>

#define POP3_MAX_BAD 10
#define POP3_MAX_CMDS 64

struct pop3_state {
	struct svc_line line;
	uint8_t done, have_user, bad;
	uint16_t cmds;
};

static int pop3_open(void *state, struct svc_io *io)
{
	(void)state;
	return svc_send_str(io, "+OK Dovecot ready.\r\n");
}

static void pop3_quit(struct pop3_state *st, struct svc_io *io, const char *msg)
{
	svc_send_str(io, msg);
	io->close(io);
	st->done = 1;
}

static void pop3_bad(struct pop3_state *st, struct svc_io *io, const char *msg)
{
	if (++st->bad >= POP3_MAX_BAD)
		pop3_quit(st, io, "-ERR Too many bad commands.\r\n");
	else
		svc_send_str(io, msg);
}

static void pop3_line(void *state, struct svc_io *io)
{
	struct pop3_state *st = state;
	const char *l = st->line.buf, *arg;

	if (++st->cmds > POP3_MAX_CMDS) {
		pop3_quit(st, io, "-ERR Disconnected for inactivity.\r\n");
		return;
	}
	if ((arg = svc_verb(l, "USER"))) {
		svc_record_str(io, "user", arg);
		st->have_user = 1;
		svc_send_str(io, "+OK\r\n");
	} else if ((arg = svc_verb(l, "PASS"))) {
		if (!st->have_user) {
			pop3_bad(st, io, "-ERR No username given.\r\n");
			return;
		}
		svc_record_str(io, "pass", arg);
		st->have_user = 0;
		pop3_bad(st, io, "-ERR [AUTH] Authentication failed.\r\n");
	} else if ((arg = svc_verb(l, "APOP"))) {
		svc_record_str(io, "apop", arg);
		pop3_bad(st, io, "-ERR [AUTH] Authentication failed.\r\n");
	} else if ((arg = svc_verb(l, "AUTH"))) {
		svc_record_str(io, "auth", arg);
		pop3_bad(st, io, "-ERR [AUTH] Authentication failed.\r\n");
	} else if (svc_verb(l, "CAPA")) {
		svc_send_str(io, "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n"
				 "AUTH-RESP-CODE\r\nUSER\r\nSASL PLAIN\r\n.\r\n");
	} else if (svc_verb(l, "QUIT")) {
		pop3_quit(st, io, "+OK Logging out\r\n");
	} else if (svc_verb(l, "NOOP")) {
		svc_send_str(io, "+OK\r\n");
	} else {
		svc_record_bytes(io, "command", l, st->line.len);
		pop3_bad(st, io, "-ERR Unknown command.\r\n");
	}
}

static int pop3_input(void *state, struct svc_io *io, const uint8_t *buf, size_t len)
{
	struct pop3_state *st = state;

	svc_line_input(&st->line, &st->done, buf, len, pop3_line, st, io);
	return 0;
}

const struct svc_def svc_pop3 = {
	.name = "pop3",
	.proto = 6,
	.default_port = 110,
	.state_size = sizeof(struct pop3_state),
	.open = pop3_open,
	.input = pop3_input,
	.close = svc_close_nothing,
};
