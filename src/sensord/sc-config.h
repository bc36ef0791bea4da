/* sc-config.h: the sensor's configuration, compiled from a honeyd.conf
 * subset plus vigia's own settings (see docs/sensor-config.md).
 *
 * This is the data model shared by the config parser (sc-config.c) and the
 * responder (stack-*, svc-*): the parser builds it, the responder only
 * reads it.  Lookups on the packet path (address -> template, port ->
 * action) are O(log n) or better. */
#ifndef VIGIA_SC_CONFIG_H
#define VIGIA_SC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto-decode.h"
#include "util-cidr.h"
#include "vg-err.h"

/* What a template does with a port or a protocol. */
enum sc_action {
	SC_OPEN = 1,        /* TCP: SYN-ACK, then the internal service if one is
	                     * registered for the port, else accept and record.
	                     * UDP: the service's reply, or silence. ICMP: answer. */
	SC_CLOSED,          /* TCP: RST/ACK; UDP: ICMP port unreachable */
	SC_BLOCK,           /* silence (Honeyd's "block" and "filtered") */
	SC_RESET,           /* TCP: RST; UDP: as closed */
	SC_SCRIPT,          /* open, and the stream goes to an external script */
	SC_PROXY,           /* open, emulate an open proxy; never relays */
	SC_SERVICE,         /* open, with a named internal service ("http-iis") */
};

struct sc_port {
	uint8_t proto;      /* 6 or 17 */
	uint16_t port;
	enum sc_action action;
	char *arg;          /* script command line, or service name; else NULL */
};

struct sc_template {
	char *name;
	char *personality;          /* nmap-os-db fingerprint name, or NULL */
	enum sc_action def_tcp, def_udp, def_icmp;
	struct sc_port *ports;      /* sorted by (proto, port) */
	size_t nports;
	uint8_t mac[6];
	bool has_mac;               /* "set T ethernet" given (MAC or vendor) */
	uint32_t uptime;            /* seconds; 0 = not set */
	double droprate_in;         /* percent of incoming packets dropped */
	uint32_t uid, gid;          /* for scripts (Honeyd's "set T uid N gid M") */
	bool has_uid;
	bool implicit;              /* "default" synthesized: the config had none */
};

struct sc_bind {
	struct vg_ip addr;
	size_t tmpl;                /* index into templates */
};

struct sc_config {
	char *path;                 /* file it was loaded from */
	struct sc_template *tmpls;
	size_t ntmpls;
	long default_tmpl;          /* index of the template named "default", or -1 */
	struct sc_bind *binds;      /* sorted by address */
	size_t nbinds;
	struct cidr_set networks;   /* claimed networks: config + command line */

	/* vigia's own settings ("vigia KEY VALUE" lines or a companion file) */
	char *interface;
	char *spool_dir;            /* default /var/spool/vigia */
	char *user;                 /* unprivileged user to drop to */
	char *conn_log;             /* Honeyd connection log (-l) */
	char *service_log;          /* Honeyd service log (-s) */
	uint32_t rotate_seconds;    /* pcap rotation, default 3600 */
	uint32_t retention_seconds; /* default 86400 */
	uint32_t max_connections;   /* established TCP connections, default 4096 */
	uint32_t max_pps_out;       /* global send cap, packets/s */
	uint32_t max_pps_per_source;
	uint32_t script_cpu_seconds, script_mem_mb, script_wall_seconds;
	uint32_t max_scripts;       /* scripts running at once, default 64 */
	uint32_t status_interval;   /* seconds between status.json updates */
};

/* Parse a config file.  Errors name file, line and what was expected;
 * unsupported Honeyd statements (route, annotate, dhcp, tunnel, subsystem,
 * ...) are refused with a message naming them (docs/sensor-config.md
 * lists them). */
int sc_config_load(struct sc_config **out, const char *path, struct vg_err *err);
int sc_config_load_buf(struct sc_config **out, const char *name, const char *buf,
		       size_t len, struct vg_err *err);
void sc_config_free(struct sc_config *c);

/* The same, calling diag once per error (each "FILE:LINE: ...") so that a
 * program can list every refused statement, not only the first; err then
 * holds the first error and how many more followed. */
typedef void (*sc_diag_fn)(void *ctx, const char *msg);
int sc_config_load_diag(struct sc_config **out, const char *path, sc_diag_fn diag,
			void *ctx, struct vg_err *err);
int sc_config_load_buf_diag(struct sc_config **out, const char *name, const char *buf,
			    size_t len, sc_diag_fn diag, void *ctx, struct vg_err *err);

/* Internal service names accepted as a port action ("add T tcp port 80
 * http-iis"), NULL-terminated; each must exist in svc_all. */
extern const char *const sc_service_names[];

/* Add a claimed network (from the command line). */
int sc_config_claim(struct sc_config *c, const char *cidr, struct vg_err *err);

/* The template answering for an address: its bound template, else
 * "default" when the address is inside a claimed network, else NULL (not
 * ours: never answer). */
const struct sc_template *sc_lookup(const struct sc_config *c, const struct vg_ip *addr);

/* The action for a TCP/UDP port of a template (the template default when
 * no rule names the port); *rule is set to the rule when one exists. */
enum sc_action sc_port_action(const struct sc_template *t, uint8_t proto, uint16_t port,
			      const struct sc_port **rule);

#endif
