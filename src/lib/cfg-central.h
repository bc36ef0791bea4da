/* cfg-central.h: the central server's configuration file (vigia.conf,
 * documented in docs/vigia.conf.md).
 *
 * Line based, in the style of sshd_config and honeyd.conf: one directive
 * per line, words separated by blanks, "double quoted" strings with \" and
 * \\ escapes, '#' comments, and blocks `sensor NAME { ... }` /
 * `status { ... }` whose braces may open on the directive's line and close
 * on a line of their own.  Errors name the file, the line and what was
 * expected.
 *
 * Later issues (members, SMTP, keys, national codes...) add directives by
 * adding fields here and a table entry in cfg-central.c; the API below
 * only grows.  Files the config names (identity, known_hosts) are checked
 * when used, not at load time, so a config can be validated on another
 * machine. */
#ifndef VIGIA_CFG_CENTRAL_H
#define VIGIA_CFG_CENTRAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util-cidr.h"
#include "vg-err.h"

/* Used when neither --config nor $VIGIA_CONFIG names a file. */
#define CFG_CENTRAL_DEFAULT_PATH "/etc/vigia/vigia.conf"

struct cfg_sensor {
	char *name;                 /* [A-Za-z0-9][A-Za-z0-9._-]*, at most 64 chars;
	                             * used as a directory name in the archive */
	uint32_t id;                /* stable, unique, >= 1: sanitized tokens hp-ID.N */
	char *institution;          /* may be NULL */
	char *city;                 /* may be NULL */
	char *host;                 /* ssh host name or address (required) */
	uint16_t port;              /* default 22 */
	char *user;                 /* default "vigia" */
	char *identity;             /* private key file (required) */
	char *host_key;             /* pinned "TYPE BASE64" public host key, or NULL */
	char *known_hosts;          /* known_hosts file, or NULL; exactly one of
	                             * host_key / known_hosts is set */
	char *spool;                /* spool path on the sensor, default /var/spool/vigia
	                             * (informative: the gateway's command line fixes it) */
	uint32_t retention_seconds; /* the sensor's `vigia retention`, default 86400:
	                             * uncollected files older than this are at risk */
	struct cidr_set networks;   /* honeypot networks (at least one) */
	bool disabled;              /* `disabled yes`: kept for history, not contacted */
	unsigned line;              /* line of the `sensor` directive */
	char *public_name;          /* `public-name`: the name members see (issue 7);
	                             * NULL: the sensor's name */
};

/* A member institution receiving the daily summary (issue 7). */
struct cfg_member {
	char *name;                 /* [A-Za-z0-9][A-Za-z0-9._-]*: the sent-log key */
	char *address;              /* e-mail address */
	char *key;                  /* OpenPGP key: fingerprint or user id */
	unsigned line;
};

/* Mail delivery of the summary (issue 7), the `mail { }` block. */
enum cfg_starttls { CFG_STARTTLS_NO = 0, CFG_STARTTLS_TRY, CFG_STARTTLS_REQUIRED };
struct cfg_mail {
	char *from;                 /* envelope sender and From: address */
	char *keyring;              /* GNUPGHOME holding the alliance's secret key and
	                             * the members' public keys */
	char *sign_key;             /* the alliance's key: fingerprint or user id */
	char *smtp;                 /* smtp://HOST[:PORT] or smtps://; NULL: --outbox only */
	enum cfg_starttls starttls; /* default try */
	char *smtp_user;            /* AUTH, with the password read from smtp_password_file */
	char *smtp_password_file;
	char *ca_file;              /* CA bundle for TLS; NULL: the system's */
	uint32_t timeout;           /* seconds per SMTP transaction, default 60 */
	uint32_t retries;           /* attempts per message in one run, default 3 */
	uint32_t top;               /* entries of each top list, default 10 */
};

/* OK/WARN/CRIT thresholds of `vigia status`.  A value at or above warn
 * (crit) is WARN (CRIT), except free-space style checks noted below. */
struct cfg_status {
	double disk_warn_pct, disk_crit_pct;     /* used % of the spool's file system: 80, 95 */
	double clock_warn_s, clock_crit_s;       /* |offset| seconds: 0.5, 2 */
	uint32_t stall_warn_s, stall_crit_s;     /* since last packet (live sensors): 600, 3600 */
	uint32_t rtt_warn_ms, rtt_crit_ms;       /* ssh round trip: 2000, 10000 */
	uint64_t drops_warn, drops_crit;         /* capture drops since start: 1, 1000 */
	double backlog_warn_pct, backlog_crit_pct; /* age of the oldest uncollected file
	                                          * in % of retention: 50, 90 */
	uint32_t uptime_warn_s;                  /* uptime below this (a reboot): 600; 0 = off */
	bool ntp_unsync_crit;                    /* kernel not NTP-synced: CRIT (else WARN) */
};

/* An entry of the alliance's own contact table (issue 8): a network or an
 * AS whose abuse reports go to `address`, encrypted to `key` when set. */
struct cfg_contact {
	struct cidr net;            /* valid when asn == 0 */
	uint32_t asn;               /* 0: the entry is a network */
	char *address;
	char *key;                  /* OpenPGP key: fingerprint or user id; may be NULL */
	unsigned line;
};

/* Sharing and notifying (issue 8), the `notify { }` block. */
struct cfg_notify {
	struct cfg_contact *contacts;  /* `contact CIDR|ASnnn ADDRESS [key KEY]` */
	size_t ncontacts;
	char **bootstrap;           /* `rdap-bootstrap FILE`: IANA ipv4.json / ipv6.json */
	size_t nbootstrap;
	char *rdap_server;          /* fallback RDAP base URL, default https://rdap.arin.net/registry/ */
	char *whois_server;         /* first whois server HOST[:PORT], default whois.iana.org */
	uint16_t whois_port;        /* default 43, also for referrals that name no port */
	bool rdap, whois;           /* `lookup rdap whois`: the methods used (both) */
	uint32_t timeout;           /* seconds per query, default 10 */
	uint32_t cache_ttl;         /* seconds an answer is kept, default 7 days */
	double rate;                /* queries per second per server, default 1 */
	uint32_t burst;             /* default 5 */
	uint32_t quiet_days;        /* no new notice for a source and category within
	                             * this many days unless it grew, default 7 */
	char *guidance;             /* guidance templates directory; NULL: built-in path */
	char *feed_name;            /* feed.name of the export, default "vigia-honeypots" */
	char *feed_provider;        /* feed.provider, default "vigia" */
};

struct cfg_central {
	char *path;                 /* file loaded */
	char *archive;              /* archive root (required) */
	char *database;             /* SQLite file, default ARCHIVE/vigia.db */
	uint32_t parallel;          /* sensors contacted at once, default 4 */
	uint32_t connect_timeout;   /* seconds, ssh ConnectTimeout, default 10 */
	uint32_t transfer_timeout;  /* seconds without progress before a transfer is
	                             * abandoned (rsync --timeout), default 300 */
	char *ssh_program;          /* default "ssh" */
	char *rsync_program;        /* default "rsync" */
	char **national;            /* ISO 3166 alpha-2 codes, upper case (issue 8) */
	size_t nnational;
	struct cfg_status status;
	struct cfg_sensor *sensors; /* in file order */
	size_t nsensors;
	struct cfg_mail mail;       /* issue 7 */
	struct cfg_member *members; /* issue 7, in file order */
	size_t nmembers;
	struct cfg_notify notify;   /* issue 8 */
};

/* Load and validate `path`.  On error returns a negative errno and err
 * reads "FILE:LINE: expected ..., got ...". */
int cfg_central_load(const char *path, struct cfg_central **out, struct vg_err *err);
/* The same from a buffer; `name` is used in messages only. */
int cfg_central_parse(const char *name, const char *text, size_t len,
		struct cfg_central **out, struct vg_err *err);
void cfg_central_free(struct cfg_central *c);

/* --config, else $VIGIA_CONFIG, else CFG_CENTRAL_DEFAULT_PATH. */
const char *cfg_central_path(const char *opt);

const struct cfg_sensor *cfg_central_sensor(const struct cfg_central *c, const char *name);
const struct cfg_sensor *cfg_central_sensor_by_id(const struct cfg_central *c, uint32_t id);

/* Union of every sensor's networks (for sanitizing outputs); the caller
 * frees it with cidr_set_free. */
int cfg_central_honeynets(const struct cfg_central *c, struct cidr_set *out);

#endif
