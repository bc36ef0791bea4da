/* util-cidr.h: address prefixes ("192.0.2.0/24", "2001:db8::/32") and
 * sets of them, for --honeynet and the sensors' claimed networks. */
#ifndef VIGIA_UTIL_CIDR_H
#define VIGIA_UTIL_CIDR_H

#include <stdbool.h>
#include <stddef.h>

#include "proto-decode.h"
#include "vg-err.h"

struct cidr {
	struct vg_ip net;       /* host bits cleared */
	unsigned len;           /* prefix length */
};

/* Parse "A.B.C.D[/N]" or "X::Y[/N]"; a bare address is a /32 or /128.
 * Host bits set below the prefix are an error (a typo is likelier than
 * intent). */
int cidr_parse(const char *s, struct cidr *out, struct vg_err *err);
bool cidr_contains(const struct cidr *c, const struct vg_ip *ip);
/* "192.0.2.0/24" into buf (at least 50 bytes). */
const char *cidr_str(const struct cidr *c, char *buf, size_t len);

struct cidr_set {
	struct cidr *v;
	size_t n, cap;
};

int cidr_set_add(struct cidr_set *s, const struct cidr *c);
bool cidr_set_contains(const struct cidr_set *s, const struct vg_ip *ip);
void cidr_set_free(struct cidr_set *s);

#endif
