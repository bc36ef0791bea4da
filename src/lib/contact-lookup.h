/* contact-lookup.h: who receives the abuse report for an address (issue 8).
 *
 * In order: (1) the alliance's own table (config `notify { contact ... }`,
 * most specific network first, then the source's AS when known); (2) the
 * database cache of earlier registry answers, while their TTL lasts;
 * (3) RDAP: the base URL from the configured IANA bootstrap files, else
 * the configured RDAP server (which redirects to the right registry);
 * (4) whois over port 43 from the configured first server, following
 * referrals (at most CONTACT_MAX_REFERRALS).  Registry answers (an
 * address, or the absence of one) are cached for the network they name.
 * Each registry server is queried at most `rate` times a second (token
 * bucket with `burst`), waiting when needed. */
#ifndef VIGIA_CONTACT_LOOKUP_H
#define VIGIA_CONTACT_LOOKUP_H

#include <stdint.h>

#include "cfg-central.h"
#include "contact-parse.h"
#include "db.h"
#include "proto-decode.h"
#include "vg-err.h"

#define CONTACT_MAX_REFERRALS 4

struct contact_result {
	char email[CONTACT_EMAIL_MAX];      /* "" when none was found */
	char key[CONTACT_EMAIL_MAX];        /* OpenPGP key from the alliance table, or "" */
	char via[16];                       /* "alliance", "cache", "rdap", "whois", "none" */
	char server[800];                   /* who answered (URL or host:port) */
};

struct contact_ctx;

/* `db` may be NULL (no cache).  Bootstrap files are read here: errors
 * name the file.  The config and db must outlive the context. */
int contact_ctx_new(const struct cfg_notify *cfg, struct db *db, struct contact_ctx **out,
		    struct vg_err *err);
void contact_ctx_free(struct contact_ctx *c);

/* Only the alliance table (no network). */
int contact_alliance(const struct cfg_notify *cfg, const struct vg_ip *ip, uint32_t asn,
		     struct contact_result *r);

/* The whole order above.  0 with r->email set, or set empty (via "none")
 * when nobody could be found; a registry failure is not an error of the
 * lookup (the next method is tried) but is kept in err when all fail.
 * `now` is the wall-clock time for the cache. */
int contact_lookup(struct contact_ctx *c, const struct vg_ip *ip, uint32_t asn, int64_t now,
		   struct contact_result *r, struct vg_err *err);

/* Queries sent to registries so far (for tests and the run's summary). */
unsigned contact_queries(const struct contact_ctx *c);

#endif
