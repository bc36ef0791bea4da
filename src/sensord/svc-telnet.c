/* svc-telnet.c: a telnet login prompt, Linux telnetd or Cisco IOS style.
 *
 * The opening option requests are the exact ones of netkit telnetd
 * (DO TTYPE, TSPEED, XDISPLOC, NEW-ENVIRON) or of IOS (WILL ECHO, WILL SGA,
 * DO TTYPE, DO NAWS), which nmap names.  The prompt follows the client's
 * first bytes, as the real login program comes up only after the option
 * negotiation.  Every user name and password is recorded; every login
 * fails, and after three the connection closes, as login(1) does.
 *
 * Telnet commands in the input (IAC ..., including subnegotiations) are
 * parsed and stripped, never taken as part of a name or password; options
 * are not answered, which clients tolerate and which avoids any
 * negotiation loop. */
#include "svc-util.h"

#include <string.h>

#define TN_IAC 255
#define TN_SB 250
#define TN_SE 240
#define TN_WILL 251
#define TN_DONT 254

#define TN_LINE_MAX 128
#define TN_MAX_TRIES 3
#define TN_MAX_LINES 24

enum { T_DATA, T_IAC, T_OPT, T_SB, T_SB_IAC };

struct telnet_state {
	uint8_t iac, cr, prompted, stage, tries, lines, done, cisco, toolong;
	uint16_t len;
	char line[TN_LINE_MAX];
};

static int telnet_open(void *state, struct svc_io *io)
{
	struct telnet_state *st = state;

	st->cisco = (uint8_t)svc_personality_has(io, "cisco");
	if (st->cisco)
		return io->send(io, "\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18\xff\xfd\x1f", 12);
	return io->send(io, "\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27", 12);
}

static void telnet_prompt(struct telnet_state *st, struct svc_io *io, int first)
{
	char host[32];

	if (st->cisco) {
		svc_send_str(io, first ? "\r\n\r\nUser Access Verification\r\n\r\nUsername: "
				       : "Username: ");
		return;
	}
	svc_hostname(io, host, sizeof host);
	if (first)
		svc_sendf(io, "\r\nDebian GNU/Linux 5.0\r\n%s login: ", host);
	else
		svc_sendf(io, "%s login: ", host);
}

static void telnet_end(struct telnet_state *st, struct svc_io *io, const char *msg)
{
	svc_send_str(io, msg);
	io->close(io);
	st->done = 1;
}

static void telnet_line(struct telnet_state *st, struct svc_io *io)
{
	if (++st->lines > TN_MAX_LINES) {
		telnet_end(st, io, "\r\n");
		return;
	}
	if (st->stage == 0) {
		if (st->len == 0 && !st->toolong) {
			telnet_prompt(st, io, 0);
			return;
		}
		svc_record_bytes(io, "user", st->line, st->len);
		svc_send_str(io, "Password: ");
		st->stage = 1;
		return;
	}
	svc_record_bytes(io, "pass", st->line, st->len);
	st->stage = 0;
	if (++st->tries >= TN_MAX_TRIES) {
		telnet_end(st, io, st->cisco ? "\r\n% Login invalid\r\n\r\n% Bad passwords\r\n"
					     : "\r\nLogin incorrect\r\n");
		return;
	}
	svc_send_str(io, st->cisco ? "\r\n% Login invalid\r\n\r\n" : "\r\nLogin incorrect\r\n");
	telnet_prompt(st, io, 0);
}

static void telnet_data(struct telnet_state *st, struct svc_io *io, uint8_t c)
{
	if (st->cr) {
		st->cr = 0;
		if (c == '\n' || c == '\0')
			return;   /* the second half of CR LF or CR NUL */
	}
	if (c == '\r' || c == '\n') {
		st->cr = c == '\r';
		telnet_line(st, io);
		st->len = 0;
		st->toolong = 0;
		return;
	}
	if (c == 0x08 || c == 0x7f) {
		if (st->len > 0)
			st->len--;
		return;
	}
	if (st->len < TN_LINE_MAX)
		st->line[st->len++] = (char)c;
	else
		st->toolong = 1;
}

static int telnet_input(void *state, struct svc_io *io, const uint8_t *buf, size_t len)
{
	struct telnet_state *st = state;

	if (st->done)
		return 0;
	if (!st->prompted) {
		telnet_prompt(st, io, 1);
		st->prompted = 1;
	}
	for (size_t i = 0; i < len && !st->done; i++) {
		uint8_t c = buf[i];
		switch (st->iac) {
		case T_DATA:
			if (c == TN_IAC)
				st->iac = T_IAC;
			else
				telnet_data(st, io, c);
			break;
		case T_IAC:
			if (c == TN_IAC) {            /* escaped 255 */
				st->iac = T_DATA;
				telnet_data(st, io, c);
			} else if (c >= TN_WILL && c <= TN_DONT) {
				st->iac = T_OPT;
			} else if (c == TN_SB) {
				st->iac = T_SB;
			} else {
				st->iac = T_DATA;     /* NOP, AYT, BRK, ...: dropped */
			}
			break;
		case T_OPT:
			st->iac = T_DATA;
			break;
		case T_SB:
			/* Subnegotiation bytes (terminal type, window size) are
			 * bounded by nothing but IAC SE; they are skipped. */
			if (c == TN_IAC)
				st->iac = T_SB_IAC;
			break;
		case T_SB_IAC:
			st->iac = c == TN_SE ? T_DATA : T_SB;
			break;
		}
	}
	return 0;
}

const struct svc_def svc_telnet = {
	.name = "telnet",
	.proto = 6,
	.default_port = 23,
	.state_size = sizeof(struct telnet_state),
	.open = telnet_open,
	.input = telnet_input,
	.close = svc_close_nothing,
};
