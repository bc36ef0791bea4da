/* svc-smtp.c: an SMTP server that looks like Postfix on Debian.
 *
 * It accepts any sender and any recipient, which is how an open relay
 * looks to the spammers that test for one; nothing is ever delivered:
 * the message is counted and discarded.  HELO/EHLO, MAIL FROM and RCPT TO
 * are recorded, and the size of each message. */
#include "svc-util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SMTP_MAX_CMDS 100
#define SMTP_MAX_RCPT 100
#define SMTP_MAX_ERRORS 20

struct smtp_state {
	struct svc_line line;
	uint8_t done, in_data, have_from;
	uint16_t cmds, rcpts, errors, msgs;
	uint64_t data_bytes;
};

static int smtp_open(void *state, struct svc_io *io)
{
	char host[32];

	(void)state;
	return svc_sendf(io, "220 %s ESMTP Postfix (Debian/GNU)\r\n",
			 svc_hostname(io, host, sizeof host));
}

static void smtp_quit(struct smtp_state *st, struct svc_io *io, const char *msg)
{
	svc_send_str(io, msg);
	io->close(io);
	st->done = 1;
}

static void smtp_error(struct smtp_state *st, struct svc_io *io, const char *msg)
{
	if (++st->errors >= SMTP_MAX_ERRORS)
		smtp_quit(st, io, "421 4.7.0 Error: too many errors\r\n");
	else
		svc_send_str(io, msg);
}

static void smtp_data_line(struct smtp_state *st, struct svc_io *io)
{
	char id[16];

	if (!st->line.toolong && strcmp(st->line.buf, ".") == 0) {
		st->in_data = 0;
		st->have_from = 0;
		st->rcpts = 0;
		st->msgs++;
		svc_recordf(io, "data-size", "%llu", (unsigned long long)st->data_bytes);
		/* A queue id of Postfix's shape (hex), from time and count. */
		snprintf(id, sizeof id, "%08llX",
			 (unsigned long long)((io->now_ns / 1000u + st->msgs * 7919u) & 0xffffffffu));
		svc_sendf(io, "250 2.0.0 Ok: queued as %s\r\n", id);
		return;
	}
	st->data_bytes += st->line.seen;
}

static void smtp_line(struct smtp_state *st, struct svc_io *io)
{
	const char *l = st->line.buf, *arg;
	char host[32];

	if (++st->cmds > SMTP_MAX_CMDS) {
		smtp_quit(st, io, "421 4.7.0 Error: too many commands\r\n");
		return;
	}
	if ((arg = svc_verb(l, "EHLO"))) {
		svc_record_str(io, "helo", arg);
		svc_sendf(io, "250-%s\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n"
			  "250-ETRN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 DSN\r\n",
			  svc_hostname(io, host, sizeof host));
	} else if ((arg = svc_verb(l, "HELO"))) {
		svc_record_str(io, "helo", arg);
		svc_sendf(io, "250 %s\r\n", svc_hostname(io, host, sizeof host));
	} else if (!strncasecmp(l, "MAIL FROM:", 10)) {
		svc_record_str(io, "mail-from", l + 10);
		st->have_from = 1;
		st->rcpts = 0;
		st->data_bytes = 0;
		svc_send_str(io, "250 2.1.0 Ok\r\n");
	} else if (!strncasecmp(l, "RCPT TO:", 8)) {
		if (!st->have_from) {
			smtp_error(st, io, "503 5.5.1 Error: need MAIL command\r\n");
		} else if (st->rcpts >= SMTP_MAX_RCPT) {
			smtp_error(st, io, "452 4.5.3 Error: too many recipients\r\n");
		} else {
			svc_record_str(io, "rcpt-to", l + 8);
			st->rcpts++;
			svc_send_str(io, "250 2.1.5 Ok\r\n");
		}
	} else if (svc_verb(l, "DATA")) {
		if (!st->rcpts) {
			smtp_error(st, io, "554 5.5.1 Error: no valid recipients\r\n");
		} else {
			st->in_data = 1;
			st->data_bytes = 0;
			svc_send_str(io, "354 End data with <CR><LF>.<CR><LF>\r\n");
		}
	} else if (svc_verb(l, "RSET")) {
		st->have_from = 0;
		st->rcpts = 0;
		svc_send_str(io, "250 2.0.0 Ok\r\n");
	} else if (svc_verb(l, "NOOP")) {
		svc_send_str(io, "250 2.0.0 Ok\r\n");
	} else if ((arg = svc_verb(l, "VRFY"))) {
		svc_record_str(io, "vrfy", arg);
		svc_send_str(io, "252 2.0.0 Send some mail, I'll try my best\r\n");
	} else if (svc_verb(l, "QUIT")) {
		smtp_quit(st, io, "221 2.0.0 Bye\r\n");
	} else if ((arg = svc_verb(l, "AUTH"))) {
		svc_record_str(io, "auth", arg);
		smtp_error(st, io, "503 5.5.1 Error: authentication not enabled\r\n");
	} else {
		svc_record_bytes(io, "command", l, st->line.len);
		smtp_error(st, io, "502 5.5.2 Error: command not recognized\r\n");
	}
}

static void smtp_any_line(void *state, struct svc_io *io)
{
	struct smtp_state *st = state;

	if (st->in_data)
		smtp_data_line(st, io);
	else
		smtp_line(st, io);
}

static int smtp_input(void *state, struct svc_io *io, const uint8_t *buf, size_t len)
{
	struct smtp_state *st = state;

	svc_line_input(&st->line, &st->done, buf, len, smtp_any_line, st, io);
	return 0;
}

static void smtp_close(void *state, struct svc_io *io)
{
	struct smtp_state *st = state;

	/* A message cut off by the close is still worth its size. */
	if (st->in_data)
		svc_recordf(io, "data-size", "%llu (incomplete)", (unsigned long long)st->data_bytes);
}

const struct svc_def svc_smtp = {
	.name = "smtp",
	.proto = 6,
	.default_port = 25,
	.state_size = sizeof(struct smtp_state),
	.open = smtp_open,
	.input = smtp_input,
	.close = smtp_close,
};
