/* contact-lookup.c: the lookup order of contact-lookup.h. */
#include "contact-lookup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "contact-net.h"

#define MAX_SERVERS 32
#define BOOTSTRAP_MAX (8u << 20)

struct server_rate {
	char name[CONTACT_HOST_MAX];
	struct contact_bucket b;
};

struct contact_ctx {
	const struct cfg_notify *cfg;
	struct db *db;
	char **boot;                /* bootstrap files' contents */
	size_t *bootlen;
	size_t nboot;
	struct server_rate rates[MAX_SERVERS];
	size_t nrates;
	unsigned queries;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int read_file(const char *path, size_t max, char **out, size_t *len, struct vg_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vg_err_set(err, -errno, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		return vg_err_set(err, -EINVAL, "%s: expected a regular file of at most %zu bytes",
				  path, max);
	}
	char *b = malloc((size_t)st.st_size + 1);
	if (!b) {
		close(fd);
		return vg_err_set(err, -ENOMEM, "%s: out of memory", path);
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;
			free(b);
			close(fd);
			return vg_err_set(err, -e, "%s: byte %zu: %s", path, got, strerror(e));
		}
		got += (size_t)r;
	}
	close(fd);
	b[got] = 0;
	*out = b;
	*len = got;
	return 0;
}

int contact_ctx_new(const struct cfg_notify *cfg, struct db *db, struct contact_ctx **out,
		    struct vg_err *err)
{
	*out = NULL;
	struct contact_ctx *c = calloc(1, sizeof *c);
	if (!c)
		return vg_err_set(err, -ENOMEM, "out of memory");
	c->cfg = cfg;
	c->db = db;
	if (cfg->nbootstrap) {
		c->boot = calloc(cfg->nbootstrap, sizeof *c->boot);
		c->bootlen = calloc(cfg->nbootstrap, sizeof *c->bootlen);
		if (!c->boot || !c->bootlen) {
			contact_ctx_free(c);
			return vg_err_set(err, -ENOMEM, "out of memory");
		}
	}
	for (size_t i = 0; i < cfg->nbootstrap; i++) {
		int rc = read_file(cfg->bootstrap[i], BOOTSTRAP_MAX, &c->boot[i], &c->bootlen[i], err);
		if (rc < 0) {
			contact_ctx_free(c);
			return rc;
		}
		c->nboot++;
		/* validate now, so a broken file is reported before any lookup */
		struct vg_ip probe = {.v = 4};
		char url[8];
		rc = contact_bootstrap_find(c->boot[i], c->bootlen[i], cfg->bootstrap[i], &probe, url,
					    sizeof url, err);
		if (rc < 0) {
			contact_ctx_free(c);
			return rc;
		}
	}
	*out = c;
	return 0;
}

void contact_ctx_free(struct contact_ctx *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nboot; i++)
		free(c->boot[i]);
	free(c->boot);
	free(c->bootlen);
	free(c);
}

unsigned contact_queries(const struct contact_ctx *c)
{
	return c->queries;
}

static bool in_net(const struct cidr *n, const struct vg_ip *ip)
{
	return cidr_contains(n, ip);
}

int contact_alliance(const struct cfg_notify *cfg, const struct vg_ip *ip, uint32_t asn,
		     struct contact_result *r)
{
	const struct cfg_contact *best = NULL;
	for (size_t i = 0; i < cfg->ncontacts; i++) {
		const struct cfg_contact *ct = &cfg->contacts[i];
		if (!ct->asn && in_net(&ct->net, ip) && (!best || ct->net.len > best->net.len))
			best = ct;
	}
	for (size_t i = 0; !best && asn && i < cfg->ncontacts; i++)
		if (cfg->contacts[i].asn == asn)
			best = &cfg->contacts[i];
	if (!best)
		return 0;
	memset(r, 0, sizeof *r);
	snprintf(r->email, sizeof r->email, "%s", best->address);
	snprintf(r->key, sizeof r->key, "%s", best->key ? best->key : "");
	snprintf(r->via, sizeof r->via, "alliance");
	snprintf(r->server, sizeof r->server, "config line %u", best->line);
	return 1;
}

/* Wait for the server's token. */
static void rate_wait(struct contact_ctx *c, const char *server)
{
	struct server_rate *sr = NULL;
	for (size_t i = 0; i < c->nrates; i++)
		if (!strcmp(c->rates[i].name, server))
			sr = &c->rates[i];
	if (!sr) {
		/* beyond MAX_SERVERS distinct servers, the last slot is shared:
		 * stricter, never looser */
		sr = &c->rates[c->nrates < MAX_SERVERS ? c->nrates++ : MAX_SERVERS - 1];
		snprintf(sr->name, sizeof sr->name, "%s", server);
		contact_bucket_init(&sr->b, c->cfg->rate, c->cfg->burst, mono());
	}
	double w;
	while ((w = contact_bucket_take(&sr->b, mono())) > 0) {
		struct timespec ts = {.tv_sec = (time_t)w, .tv_nsec = (long)((w - (double)(time_t)w) * 1e9)};
		nanosleep(&ts, NULL);
	}
	c->queries++;
}

static void cache_put(struct contact_ctx *c, const struct contact_answer *a,
		      const struct vg_ip *ip, const char *via, const char *server, int64_t now)
{
	/* best effort: a cache that cannot be written only costs queries later */
	if (!c->db || !c->cfg->cache_ttl)
		return;
	const struct vg_ip *lo = a->has_net ? &a->lo : ip, *hi = a->has_net ? &a->hi : ip;
	/* a registry naming a network that does not hold the address is not
	 * trusted with a wider cache entry */
	size_t al = ip->v == 4 ? 4 : 16;
	if (lo->v != ip->v || memcmp(lo->a, ip->a, al) > 0 || memcmp(ip->a, hi->a, al) > 0)
		lo = hi = ip;
	db_contact_cache_put(c->db, lo, hi, a->email, via, server, now,
			     now + (int64_t)c->cfg->cache_ttl, NULL);
}

static int by_rdap(struct contact_ctx *c, const struct vg_ip *ip, int64_t now,
		   struct contact_result *r, struct vg_err *err)
{
	char base[512] = "";
	for (size_t i = 0; i < c->nboot && !base[0]; i++)
		if (contact_bootstrap_find(c->boot[i], c->bootlen[i], c->cfg->bootstrap[i], ip, base,
					   sizeof base, NULL) != 1)
			base[0] = 0;
	if (!base[0])
		snprintf(base, sizeof base, "%s",
			 c->cfg->rdap_server ? c->cfg->rdap_server : "https://rdap.arin.net/registry/");
	char ipt[64], url[700];
	vg_ip_str(ip, ipt, sizeof ipt);
	size_t bl = strlen(base);
	snprintf(url, sizeof url, "%s%sip/%s", base, bl && base[bl - 1] == '/' ? "" : "/", ipt);
	rate_wait(c, base);
	char *body;
	size_t len;
	long status;
	int rc = contact_http_get(url, c->cfg->timeout * 1000u, CONTACT_ANSWER_MAX, &body, &len,
				  &status, err);
	if (rc < 0)
		return rc;
	if (!body)
		return vg_err_set(err, -ENOENT, "rdap %s: no such network (404)", url);
	struct contact_answer a;
	rc = contact_rdap_parse(body, len, url, &a, err);
	free(body);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return vg_err_set(err, -ENOENT, "rdap %s: no entity with the abuse role and an e-mail", url);
	cache_put(c, &a, ip, "rdap", url, now);
	snprintf(r->email, sizeof r->email, "%s", a.email);
	snprintf(r->via, sizeof r->via, "rdap");
	snprintf(r->server, sizeof r->server, "%s", url);
	return 0;
}

static int by_whois(struct contact_ctx *c, const struct vg_ip *ip, int64_t now,
		    struct contact_result *r, struct vg_err *err)
{
	char host[CONTACT_HOST_MAX], ipt[64];
	snprintf(host, sizeof host, "%s", c->cfg->whois_server ? c->cfg->whois_server : "whois.iana.org");
	uint16_t port = c->cfg->whois_port;
	/* "HOST:PORT" (one colon: not an IPv6 literal) names the first server's port */
	char *colon = strchr(host, ':');
	if (colon && !strchr(colon + 1, ':')) {
		char *end;
		unsigned long p = strtoul(colon + 1, &end, 10);
		if (*end || !p || p > 65535)
			return vg_err_set(err, -EINVAL, "whois-server %s: bad port", host);
		*colon = 0;
		port = (uint16_t)p;
	}
	vg_ip_str(ip, ipt, sizeof ipt);
	for (int hop = 0; hop <= CONTACT_MAX_REFERRALS; hop++) {
		char sv[CONTACT_HOST_MAX + 8];
		snprintf(sv, sizeof sv, "%s:%u", host, port);
		rate_wait(c, sv);
		char *text;
		size_t len;
		/* the bare address: every RIR's server answers it with the network,
		 * its organisation and the abuse fields */
		int rc = contact_whois_query(host, port, ipt, c->cfg->timeout * 1000u,
					     CONTACT_ANSWER_MAX, &text, &len, err);
		if (rc < 0)
			return rc;
		struct contact_answer a;
		rc = contact_whois_parse(text, len, &a);
		free(text);
		if (rc == 1) {
			cache_put(c, &a, ip, "whois", sv, now);
			snprintf(r->email, sizeof r->email, "%s", a.email);
			snprintf(r->via, sizeof r->via, "whois");
			snprintf(r->server, sizeof r->server, "%s", sv);
			return 0;
		}
		uint16_t np = a.refer_port ? a.refer_port : c->cfg->whois_port;
		if (!a.refer_host[0] || (!strcasecmp(a.refer_host, host) && np == port)) {
			cache_put(c, &a, ip, "whois", sv, now);
			return vg_err_set(err, -ENOENT, "whois %s: no abuse address for %s", sv, ipt);
		}
		snprintf(host, sizeof host, "%s", a.refer_host);
		port = np;
	}
	return vg_err_set(err, -ELOOP, "whois: more than %d referrals for %s", CONTACT_MAX_REFERRALS, ipt);
}

int contact_lookup(struct contact_ctx *c, const struct vg_ip *ip, uint32_t asn, int64_t now,
		   struct contact_result *r, struct vg_err *err)
{
	memset(r, 0, sizeof *r);
	if (contact_alliance(c->cfg, ip, asn, r))
		return 0;
	if (c->db) {
		char via[16];
		int rc = db_contact_cache_get(c->db, ip, now, r->email, sizeof r->email, via,
					      sizeof via, err);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			snprintf(r->via, sizeof r->via, "%s", r->email[0] ? "cache" : "none");
			snprintf(r->server, sizeof r->server, "cache (%s)", via);
			return 0;
		}
	}
	struct vg_err e1 = {0}, e2 = {0};
	if (c->cfg->rdap && by_rdap(c, ip, now, r, &e1) == 0)
		return 0;
	if (c->cfg->whois && by_whois(c, ip, now, r, &e2) == 0)
		return 0;
	memset(r, 0, sizeof *r);
	snprintf(r->via, sizeof r->via, "none");
	vg_err_set(err, e2.code ? e2.code : e1.code ? e1.code : -ENOENT, "%s%s%s",
		   e1.code ? e1.msg : "", e1.code && e2.code ? "; " : "", e2.code ? e2.msg : "no lookup method enabled");
	return 0;
}
