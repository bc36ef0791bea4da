/* svc-mssql-resolver.c: SQL Server's resolution service (SSRP, 1434/udp).
 *
 * Answered: a CLNT_BCAST_EX (0x02) or CLNT_UCAST_EX (0x03) request of
 * exactly one byte, as real clients send, with a SVR_RESP (0x05) naming
 * the default instance on 1433/tcp.  That reply (about 90 bytes) is larger
 * than the request: SSRP is a known reflection vector, so it is kept as
 * short as a real answer allows (no named pipe part) and the service is
 * flagged SVC_F_AMPLIFIES for the responder's per-source rate limit.
 *
 * Never answered: 0x04 (CLNT_UCAST_INST), the request SQL Slammer abused
 * (first byte 0x04, 376 bytes: the instance name overflows the server's
 * buffer), and anything else.  They are recorded, a Slammer-shaped one as
 * such. */
#include "svc-util.h"

#include <stdio.h>
#include <string.h>

#define SLAMMER_LEN 376

static int ssrp_input(void *state, struct svc_io *io, const uint8_t *buf, size_t len)
{
	char host[32], body[160];
	uint8_t reply[3 + sizeof body];
	const char *ver = "8.00.194";

	(void)state;
	if (len == 0)
		return 0;
	if ((buf[0] == 0x02 || buf[0] == 0x03) && len == 1) {
		svc_record_str(io, "ssrp", buf[0] == 0x02 ? "CLNT_BCAST_EX" : "CLNT_UCAST_EX");
		if (svc_personality_has(io, "windows 7") || svc_personality_has(io, "server 2008 r2"))
			ver = "10.50.1600.1";
		else if (svc_personality_has(io, "windows 10") || svc_personality_has(io, "server 2016"))
			ver = "13.0.1601.5";
		int n = snprintf(body, sizeof body,
				 "ServerName;%s;InstanceName;MSSQLSERVER;IsClustered;No;"
				 "Version;%s;tcp;1433;;",
				 svc_hostname(io, host, sizeof host), ver);
		if (n < 0 || (size_t)n >= sizeof body)
			return 0;
		reply[0] = 0x05;
		svc_put_le16(reply + 1, (uint16_t)n);
		memcpy(reply + 3, body, (size_t)n);
		return io->send(io, reply, 3 + (size_t)n);
	}
	if (buf[0] == 0x04 && len == SLAMMER_LEN) {
		svc_record_str(io, "exploit", "SQL Slammer (MS02-039 SSRP overflow)");
		svc_record_bytes(io, "payload", buf + 1, 64);
		return 0;
	}
	if (buf[0] == 0x04) {
		svc_record_bytes(io, "ssrp-instance", buf + 1, len - 1);
		return 0;
	}
	svc_recordf(io, "ssrp-unknown", "type 0x%02x, %zu bytes", buf[0], len);
	return 0;
}

const struct svc_def svc_mssql_resolver = {
	.name = "mssql-resolver",
	.proto = 17,
	.default_port = 1434,
	.state_size = 0,
	.open = svc_open_nothing,
	.input = ssrp_input,
	.close = svc_close_nothing,
	.flags = SVC_F_AMPLIFIES,
};
