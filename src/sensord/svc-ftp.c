/* svc-ftp.c: an FTP server that looks like vsftpd before login.
 *
 * vsftpd 2.3.4 is the banner: nmap names it (match `220 \(vsFTPd ...\)`)
 * and it is the release worms and scanners probe for its backdoor, so it
 * draws their payloads.  Every USER and PASS is recorded; every login
 * fails with 530, and the session ends after three failures as vsftpd's
 * max_login_fails does, so brute forcers reconnect and each try is seen. */
#include "svc-util.h"

#include <string.h>

#define FTP_MAX_FAILS 3
#define FTP_MAX_CMDS 64

struct ftp_state {
	struct svc_line line;
	uint8_t have_user, fails, done;
	uint16_t cmds;
};

static int ftp_open(void *state, struct svc_io *io)
{
	(void)state;
	return svc_send_str(io, "220 (vsFTPd 2.3.4)\r\n");
}

static void ftp_quit(struct ftp_state *st, struct svc_io *io, const char *msg)
{
	svc_send_str(io, msg);
	io->close(io);
	st->done = 1;
}

/* Verbs vsftpd knows but refuses before login. */
static int ftp_known(const char *l)
{
	static const char *const verbs[] = {
		"ABOR", "ACCT", "ALLO", "APPE", "CDUP", "CWD", "DELE", "EPRT", "EPSV",
		"HELP", "LIST", "MDTM", "MKD", "MODE", "NLST", "NOOP", "PASV", "PORT",
		"PWD", "REST", "RETR", "RMD", "RNFR", "RNTO", "SITE", "SIZE", "SMNT",
		"STAT", "STOR", "STOU", "STRU", "TYPE", "XCUP", "XCWD", "XMKD", "XPWD",
		"XRMD", "OPTS", "MLSD", "MLST",
	};
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (svc_verb(l, verbs[i]))
			return 1;
	return 0;
}

static void ftp_line(void *state, struct svc_io *io)
{
	struct ftp_state *st = state;
	const char *l = st->line.buf, *arg;

	if (++st->cmds > FTP_MAX_CMDS) {
		ftp_quit(st, io, "421 Timeout.\r\n");
		return;
	}
	if (st->line.toolong) {
		svc_record_bytes(io, "command", l, st->line.len);
		svc_send_str(io, "500 Unknown command.\r\n");
	} else if ((arg = svc_verb(l, "USER"))) {
		svc_record_str(io, "user", arg);
		st->have_user = 1;
		svc_send_str(io, "331 Please specify the password.\r\n");
	} else if ((arg = svc_verb(l, "PASS"))) {
		if (!st->have_user) {
			svc_send_str(io, "503 Login with USER first.\r\n");
			return;
		}
		svc_record_str(io, "pass", arg);
		st->have_user = 0;
		if (++st->fails >= FTP_MAX_FAILS)
			ftp_quit(st, io, "530 Login incorrect.\r\n");
		else
			svc_send_str(io, "530 Login incorrect.\r\n");
	} else if (svc_verb(l, "QUIT")) {
		ftp_quit(st, io, "221 Goodbye.\r\n");
	} else if (svc_verb(l, "SYST")) {
		svc_send_str(io, "215 UNIX Type: L8\r\n");
	} else if (svc_verb(l, "FEAT")) {
		svc_send_str(io, "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n"
				 " REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n");
	} else if (svc_verb(l, "AUTH")) {
		svc_send_str(io, "530 Please login with USER and PASS.\r\n");
	} else if (ftp_known(l)) {
		svc_record_str(io, "command", l);
		svc_send_str(io, "530 Please login with USER and PASS.\r\n");
	} else {
		svc_record_bytes(io, "command", l, st->line.len);
		svc_send_str(io, "500 Unknown command.\r\n");
	}
}

static int ftp_input(void *state, struct svc_io *io, const uint8_t *buf, size_t len)
{
	struct ftp_state *st = state;

	svc_line_input(&st->line, &st->done, buf, len, ftp_line, st, io);
	return 0;
}

const struct svc_def svc_ftp = {
	.name = "ftp",
	.proto = 6,
	.default_port = 21,
	.state_size = sizeof(struct ftp_state),
	.open = ftp_open,
	.input = ftp_input,
	.close = svc_close_nothing,
};
