/* contact-parse.h: reading registry answers to find a network's abuse
 * contact (issue 8).  Whois (port 43) text and RDAP JSON are untrusted
 * input: every function takes the answer's length, never reads past it,
 * and copies at most a fixed number of bytes out of it.
 *
 * Whois: the abuse address is taken, in this order of preference, from
 *   - RIPE-family "% Abuse contact for 'NET' is 'ADDR'" comments,
 *   - `abuse-mailbox:` (RIPE, AFRINIC, APNIC),
 *   - ARIN's `OrgAbuseEmail:`, then `RAbuseEmail:`,
 *   - the object named by `abuse-c:` (its `abuse-mailbox:` or `e-mail:`,
 *     the LACNIC form).
 * A referral is `ReferralServer: whois://HOST[:PORT]` (ARIN), `refer:`
 * or `whois:` (IANA).  The network answered is read from `inetnum:` /
 * `inet6num:` (ranges "A - B", prefixes, and LACNIC's abbreviated
 * "200.57.128/19"), ARIN's `NetRange:` or `CIDR:`.
 *
 * RDAP (RFC 9083): the entity whose roles include "abuse", searched at
 * the top level first and then in nested entities (ARIN puts it under the
 * registrant), and the first e-mail of its vCard (jCard, RFC 7095).
 * startAddress/endAddress give the network (ARIN's zero-padded
 * "074.125.000.000" and RIPE's "62.239.237.0/32" included). */
#ifndef VIGIA_CONTACT_PARSE_H
#define VIGIA_CONTACT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto-decode.h"
#include "vg-err.h"

#define CONTACT_EMAIL_MAX 256
#define CONTACT_HOST_MAX 256
/* Largest answer read from a registry. */
#define CONTACT_ANSWER_MAX (1u << 20)

struct contact_answer {
	char email[CONTACT_EMAIL_MAX];   /* "" when none was found */
	char refer_host[CONTACT_HOST_MAX]; /* whois referral, "" when none */
	uint16_t refer_port;             /* 0: the default whois port */
	bool has_net;
	struct vg_ip lo, hi;             /* the network answered, inclusive */
};

/* Whether s[0..len) is a plausible mailbox to put in SMTP commands and
 * headers: local@domain, printable, no blanks, quotes, brackets, commas. */
bool contact_email_ok(const char *s, size_t len);

/* Parse an address with lenient forms: zero-padded IPv4 octets, a trailing
 * "/N" (ignored), LACNIC's abbreviated prefixes when `abbrev` (missing
 * octets are zero).  0, or -EINVAL. */
int contact_parse_addr(const char *s, size_t len, struct vg_ip *out);

/* A whois answer.  Returns 1 when an abuse address was found, 0 when not
 * (a referral or the network may still be filled), -EINVAL never: text is
 * text.  `name` is unused except in err, kept for symmetry. */
int contact_whois_parse(const char *text, size_t len, struct contact_answer *out);

/* An RDAP IP network object.  1 found, 0 no abuse e-mail, -EINVAL when the
 * bytes are not a JSON object (err names the byte offset). */
int contact_rdap_parse(const char *json, size_t len, const char *name,
		       struct contact_answer *out, struct vg_err *err);

/* An IANA RDAP bootstrap file (RFC 9224, ipv4.json / ipv6.json): the base
 * URL of the longest prefix containing `ip`, into url.  1 found, 0 not,
 * -EINVAL malformed. */
int contact_bootstrap_find(const char *json, size_t len, const char *name,
			   const struct vg_ip *ip, char *url, size_t urllen,
			   struct vg_err *err);

/* Token bucket (per registry server): `rate` tokens per second up to
 * `burst`.  Times are seconds on a monotonic clock. */
struct contact_bucket {
	double tokens, rate, burst, last;
};
void contact_bucket_init(struct contact_bucket *b, double rate, double burst, double now);
/* Seconds to wait before one query may go (0: now; the token is taken). */
double contact_bucket_take(struct contact_bucket *b, double now);

#endif
