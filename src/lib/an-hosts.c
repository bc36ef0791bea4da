#include "an-hosts.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct slot4 {
	uint32_t addr;
	struct an_host v;   /* v.os == EMPTY4 marks an empty slot */
};

struct slot6 {
	uint8_t addr[16];
	struct an_host v;
	bool used;
};

#define EMPTY4 0xffffu

struct an_hosts {
	struct slot4 *t4;
	size_t mask4, n4;
	struct slot6 *t6;
	size_t mask6, n6;
	size_t max_hosts;
};

static uint32_t hash32(uint32_t x)
{
	/* A multiply-xorshift mix: addresses of scanners are sequential,
	 * which would cluster badly under identity hashing. */
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static struct slot4 *alloc4(size_t n)
{
	struct slot4 *t = malloc(n * sizeof *t);
	if (t)
		for (size_t i = 0; i < n; i++)
			t[i].v.os = EMPTY4;
	return t;
}

struct an_hosts *an_hosts_new(size_t max_hosts)
{
	struct an_hosts *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->max_hosts = max_hosts ? max_hosts : (size_t)1 << 26;
	h->mask4 = 4096 - 1;
	h->t4 = alloc4(h->mask4 + 1);
	h->mask6 = 256 - 1;
	h->t6 = calloc(h->mask6 + 1, sizeof *h->t6);
	if (!h->t4 || !h->t6) {
		an_hosts_free(h);
		return NULL;
	}
	return h;
}

void an_hosts_free(struct an_hosts *h)
{
	if (!h)
		return;
	free(h->t4);
	free(h->t6);
	free(h);
}

static bool grow4(struct an_hosts *h)
{
	size_t nsize = (h->mask4 + 1) * 2;
	struct slot4 *nt = alloc4(nsize);
	if (!nt)
		return false;
	for (size_t i = 0; i <= h->mask4; i++) {
		if (h->t4[i].v.os == EMPTY4)
			continue;
		size_t j = hash32(h->t4[i].addr) & (nsize - 1);
		while (nt[j].v.os != EMPTY4)
			j = (j + 1) & (nsize - 1);
		nt[j] = h->t4[i];
	}
	free(h->t4);
	h->t4 = nt;
	h->mask4 = nsize - 1;
	return true;
}

static uint32_t hash6(const uint8_t a[16])
{
	uint32_t w[4];
	memcpy(w, a, 16);
	return hash32(w[0] ^ hash32(w[1] ^ hash32(w[2] ^ hash32(w[3]))));
}

static bool grow6(struct an_hosts *h)
{
	size_t nsize = (h->mask6 + 1) * 2;
	struct slot6 *nt = calloc(nsize, sizeof *nt);
	if (!nt)
		return false;
	for (size_t i = 0; i <= h->mask6; i++) {
		if (!h->t6[i].used)
			continue;
		size_t j = hash6(h->t6[i].addr) & (nsize - 1);
		while (nt[j].used)
			j = (j + 1) & (nsize - 1);
		nt[j] = h->t6[i];
	}
	free(h->t6);
	h->t6 = nt;
	h->mask6 = nsize - 1;
	return true;
}

struct an_host *an_hosts_get(struct an_hosts *h, const struct vg_ip *ip, int *created)
{
	*created = 0;
	if (ip->v == 4) {
		uint32_t a = vg_ip4(ip);
		size_t i = hash32(a) & h->mask4;
		for (;;) {
			struct slot4 *s = &h->t4[i];
			if (s->v.os == EMPTY4)
				break;
			if (s->addr == a)
				return &s->v;
			i = (i + 1) & h->mask4;
		}
		if (h->n4 + h->n6 >= h->max_hosts)
			return NULL;
		/* Keep the load under one half: probes stay short. */
		if ((h->n4 + 1) * 2 > h->mask4 + 1) {
			if (!grow4(h))
				return NULL;
			i = hash32(a) & h->mask4;
			while (h->t4[i].v.os != EMPTY4)
				i = (i + 1) & h->mask4;
		}
		struct slot4 *s = &h->t4[i];
		s->addr = a;
		s->v = (struct an_host){0};
		h->n4++;
		*created = 1;
		return &s->v;
	}
	size_t i = hash6(ip->a) & h->mask6;
	for (;;) {
		struct slot6 *s = &h->t6[i];
		if (!s->used)
			break;
		if (!memcmp(s->addr, ip->a, 16))
			return &s->v;
		i = (i + 1) & h->mask6;
	}
	if (h->n4 + h->n6 >= h->max_hosts)
		return NULL;
	if ((h->n6 + 1) * 2 > h->mask6 + 1) {
		if (!grow6(h))
			return NULL;
		i = hash6(ip->a) & h->mask6;
		while (h->t6[i].used)
			i = (i + 1) & h->mask6;
	}
	struct slot6 *s = &h->t6[i];
	memcpy(s->addr, ip->a, 16);
	s->used = true;
	s->v = (struct an_host){0};
	h->n6++;
	*created = 1;
	return &s->v;
}

size_t an_hosts_count(const struct an_hosts *h)
{
	return h->n4 + h->n6;
}

size_t an_hosts_memory(const struct an_hosts *h)
{
	return sizeof *h + (h->mask4 + 1) * sizeof *h->t4 + (h->mask6 + 1) * sizeof *h->t6;
}

int an_hosts_foreach(const struct an_hosts *h, an_hosts_cb cb, void *ctx)
{
	struct vg_ip ip = {0};
	ip.v = 4;
	for (size_t i = 0; i <= h->mask4; i++) {
		if (h->t4[i].v.os == EMPTY4)
			continue;
		uint32_t a = h->t4[i].addr;
		ip.a[0] = (uint8_t)(a >> 24);
		ip.a[1] = (uint8_t)(a >> 16);
		ip.a[2] = (uint8_t)(a >> 8);
		ip.a[3] = (uint8_t)a;
		int r = cb(&ip, &h->t4[i].v, ctx);
		if (r)
			return r;
	}
	ip.v = 6;
	for (size_t i = 0; i <= h->mask6; i++) {
		if (!h->t6[i].used)
			continue;
		memcpy(ip.a, h->t6[i].addr, 16);
		int r = cb(&ip, &h->t6[i].v, ctx);
		if (r)
			return r;
	}
	return 0;
}
