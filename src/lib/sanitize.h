/* sanitize.h: THE sanitizer of everything that leaves the central server
 * (summaries, incident reports, alerts: issues 7, 8, 9).
 *
 * Honeypot addresses become stable tokens `hp-S.H`: S is the sensor's id
 * in the config, H the address's index within that sensor's networks
 * (counted across its `network` lines in order, from 0 at each network's
 * first address).  A sensor's own address (its `host`) becomes
 * `[sensor NAME]`, NAME being its public name.  Attackers' addresses pass
 * unchanged.
 *
 * Text is scanned for every textual form of an address: dotted quad
 * (with inet_aton's shorthand, octal and hex parts), a 32-bit integer in
 * decimal or hex (0xC0000211 or 8 bare hex digits), IPv6 in any
 * compression, and IPv6 forms that embed an IPv4 address (::ffff:a.b.c.d,
 * ::a.b.c.d, 64:ff9b::/96, 6to4 2002::/16).  A false positive (a number
 * that happens to equal a honeypot address) is replaced too: the safe
 * direction. */
#ifndef VIGIA_SANITIZE_H
#define VIGIA_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg-central.h"
#include "proto-decode.h"
#include "vg-err.h"

struct sanitizer;

/* Built from the config's sensors (ids, networks, hosts, public names).
 * The config must outlive the sanitizer. */
int sanitizer_new(const struct cfg_central *c, struct sanitizer **out, struct vg_err *err);
void sanitizer_free(struct sanitizer *s);

/* Longest token written by sanitize_ip. */
#define SANITIZE_TOKEN_MAX 128

/* One address: the token when it is a honeypot or sensor address
 * (returns 1), else its inet_ntop form (returns 0).  buf holds at least
 * SANITIZE_TOKEN_MAX bytes; -EINVAL for an absent address. */
int sanitize_ip(const struct sanitizer *s, const struct vg_ip *ip, char *buf, size_t len);
/* Whether the address is a honeypot's or a sensor's (would be replaced). */
bool sanitize_is_secret(const struct sanitizer *s, const struct vg_ip *ip);

/* Whether any address of the prefix is a honeypot's or a sensor's: a
 * network that would locate a sensor if printed. */
bool sanitize_net_is_secret(const struct sanitizer *s, const struct cidr *net);

/* A copy of text[0..len) with every secret address replaced; malloc'ed,
 * NUL-terminated, length in *outlen when not NULL.  *replaced (when not
 * NULL) counts the replacements. */
int sanitize_text(const struct sanitizer *s, const char *text, size_t len, char **out,
		  size_t *outlen, size_t *replaced);

#endif
