/* fuzz-rdap-whois.c: libFuzzer harness for the registry answer readers
 * (contact-parse.h): whois text, RDAP JSON, IANA bootstrap files and the
 * lenient address reader.  Registry answers are untrusted input.
 *
 * Input: one byte choosing the reader, then the answer, copied into a
 * buffer of exactly its size (no terminating NUL) so that ASan flags any
 * read past the length given.  The promises callers rely on are checked:
 * an address found is fit for SMTP, a network found is ordered. */
#include "contact-parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static void check_answer(int rc, const struct contact_answer *a)
{
	if (rc == 1 && !contact_email_ok(a->email, strlen(a->email)))
		abort();
	if (rc == 0 && a->email[0])
		abort();
	if (a->has_net && (a->lo.v != a->hi.v || memcmp(a->lo.a, a->hi.a, 16) > 0))
		abort();
	if (a->refer_host[0] && strpbrk(a->refer_host, " \r\n/:;"))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n < 1)
		return 0;
	size_t len = n - 1;
	char *buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, d + 1, len);
	struct contact_answer a;
	struct vg_err err;
	switch (d[0] % 4) {
	case 0:
		check_answer(contact_whois_parse(buf, len, &a), &a);
		break;
	case 1: {
		int rc = contact_rdap_parse(buf, len, "fuzz", &a, &err);
		if (rc >= 0)
			check_answer(rc, &a);
		break;
	}
	case 2: {
		char url[64];
		struct vg_ip ip = {.v = (uint8_t)(len % 2 ? 4 : 6)};
		memcpy(ip.a, d, n < 16 ? n : 16);
		int rc = contact_bootstrap_find(buf, len, "fuzz", &ip, url, sizeof url, &err);
		if (rc == 1 && !memchr(url, 0, sizeof url))
			abort();
		break;
	}
	default: {
		struct vg_ip ip;
		if (contact_parse_addr(buf, len, &ip) == 0 && ip.v != 4 && ip.v != 6)
			abort();
		break;
	}
	}
	free(buf);
	return 0;
}
