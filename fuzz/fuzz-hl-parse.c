/* fuzz-hl-parse.c: libFuzzer harness for the Honeyd log line parser,
 * which reads connection logs of legacy sensors (untrusted input).
 *
 * Input: one line.  Besides ASan/UBSan findings, a parsed line must
 * format, and parsing that again must give a line that formats the same
 * (the parser and the writer agree); a violation aborts. */
#include "hl-log.h"
#include "vg-err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n > 16384)
		return 0;
	char *line = malloc(n + 1);
	if (!line)
		return 0;
	memcpy(line, d, n);
	line[n] = '\0';

	struct hl_event ev, ev2;
	char os[256], os2[256], out[2048], out2[2048];
	struct vg_err err = { 0 };
	int rc = hl_parse(line, &ev, os, sizeof os, &err);
	if (rc < 0) {
		if (err.code != rc || !memchr(err.msg, 0, sizeof err.msg) || !err.msg[0])
			abort();
	} else if (rc == 0) {
		int len = hl_format(&ev, out, sizeof out);
		if (len < 0 || (size_t)len != strlen(out))
			abort();
		if (hl_parse(out, &ev2, os2, sizeof os2, &err) != 0)
			abort();
		if (hl_format(&ev2, out2, sizeof out2) != len || strcmp(out, out2))
			abort();
		if (ev2.kind != ev.kind || ev2.proto != ev.proto || ev2.sport != ev.sport ||
		    ev2.dport != ev.dport || ev2.rx_bytes != ev.rx_bytes ||
		    ev2.tx_bytes != ev.tx_bytes || ev2.ip_len != ev.ip_len)
			abort();
		char svc[2048];
		hl_format_service(&ev, line, n, svc, sizeof svc);
	} else {
		abort();
	}
	free(line);
	return 0;
}
