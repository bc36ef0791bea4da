#include "util-cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cidr_parse(const char *s, struct cidr *out, struct vg_err *err)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof addr)
		return vg_err_set(err, -EINVAL, "'%s': not an address or prefix", s);
	memcpy(addr, s, alen);
	addr[alen] = '\0';

	memset(out, 0, sizeof *out);
	unsigned max;
	if (inet_pton(AF_INET, addr, out->net.a) == 1) {
		out->net.v = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->net.a) == 1) {
		out->net.v = 6;
		max = 128;
	} else {
		return vg_err_set(err, -EINVAL, "'%s': '%s' is not an IPv4 or IPv6 address", s, addr);
	}
	out->len = max;
	if (slash) {
		char *end;
		errno = 0;
		unsigned long n = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || n > max)
			return vg_err_set(err, -EINVAL, "'%s': prefix length must be 0..%u", s, max);
		out->len = (unsigned)n;
	}
	struct vg_ip masked = out->net;
	for (unsigned bit = out->len; bit < max; bit++)
		masked.a[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	if (memcmp(masked.a, out->net.a, sizeof masked.a))
		return vg_err_set(err, -EINVAL, "'%s': host bits are set below /%u", s, out->len);
	return 0;
}

bool cidr_contains(const struct cidr *c, const struct vg_ip *ip)
{
	if (c->net.v != ip->v)
		return false;
	/* on every packet's path (honeynet filter, rule addresses): IPv4 in
	 * one masked word compare */
	if (ip->v == 4 && c->len <= 32) {
		uint32_t a = (uint32_t)ip->a[0] << 24 | (uint32_t)ip->a[1] << 16 |
			     (uint32_t)ip->a[2] << 8 | ip->a[3];
		uint32_t n = (uint32_t)c->net.a[0] << 24 | (uint32_t)c->net.a[1] << 16 |
			     (uint32_t)c->net.a[2] << 8 | c->net.a[3];
		uint32_t m = c->len ? ~0u << (32 - c->len) : 0;
		return !((a ^ n) & m);
	}
	unsigned full = c->len / 8, rest = c->len % 8;
	if (memcmp(c->net.a, ip->a, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xffu << (8 - rest));
		if ((c->net.a[full] ^ ip->a[full]) & mask)
			return false;
	}
	return true;
}

const char *cidr_str(const struct cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(c->net.v == 4 ? AF_INET : AF_INET6, c->net.a, a, sizeof a);
	snprintf(buf, len, "%s/%u", a, c->len);
	return buf;
}

int cidr_set_add(struct cidr_set *s, const struct cidr *c)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct cidr *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *c;
	return 0;
}

bool cidr_set_contains(const struct cidr_set *s, const struct vg_ip *ip)
{
	for (size_t i = 0; i < s->n; i++)
		if (cidr_contains(&s->v[i], ip))
			return true;
	return false;
}

void cidr_set_free(struct cidr_set *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}
