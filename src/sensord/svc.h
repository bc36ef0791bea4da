/* svc.h: emulated services behind open ports.
 *
 * The TCP responder (stack-tcp) owns connections and calls a service with
 * the bytes received in order; the service answers through svc_io.  A
 * service never touches sockets, files or the network: it only returns
 * bytes to send and facts to record ("user", "pass", "request"...), which
 * is what keeps a sensor from ever relaying (the proxy emulation answers
 * like an open proxy and records the request, and connects nowhere).
 *
 * Each service is one svc-NAME.c file exporting one `const struct svc_def`.
 * State lives in a per-connection buffer of `state_size` bytes allocated
 * by the responder, so services never allocate on the packet path. */
#ifndef VIGIA_SVC_H
#define VIGIA_SVC_H

#include <stddef.h>
#include <stdint.h>

#include "proto-decode.h"

/* Most a service may queue in reply to one call: replies stay small, so
 * the sensor cannot be used to amplify (issue 4 caps it further). */
#define SVC_MAX_REPLY 4096

struct svc_io {
	/* Queue bytes for the peer; returns 0 or -ENOSPC past SVC_MAX_REPLY. */
	int (*send)(struct svc_io *io, const void *buf, size_t len);
	/* Close after what was queued (FIN). */
	void (*close)(struct svc_io *io);
	/* Record a fact about this connection for the logs (service log, and
	 * the connection record): key is a short word, value printable text. */
	void (*record)(struct svc_io *io, const char *key, const char *value);
	void *ctx;                      /* the responder's */
	const struct vg_ip *src, *dst;  /* peer (attacker) and honeypot */
	uint16_t sport, dport;
	uint8_t proto;                  /* 6 or 17 */
	uint64_t now_ns;
	const char *personality;        /* template's personality, may be NULL */
};

struct svc_def {
	const char *name;               /* "http-iis", "telnet", "mssql-resolver" */
	uint8_t proto;                  /* 6 or 17 */
	uint16_t default_port;          /* port it serves when a template says "open" */
	size_t state_size;              /* per-connection state, zeroed before open */
	/* TCP: the connection is established (send a banner here).
	 * UDP: not called; the UDP services keep no state (state_size 0, and
	 * state may be NULL). */
	int (*open)(void *state, struct svc_io *io);
	/* TCP: bytes received in order.  UDP: one datagram's payload. */
	int (*input)(void *state, struct svc_io *io, const uint8_t *buf, size_t len);
	/* The connection ends (FIN, RST, timeout); may record a summary. */
	void (*close)(void *state, struct svc_io *io);
	unsigned flags;                 /* SVC_F_* */
};

/* UDP: a reply can be larger than the datagram that caused it (the SSRP
 * and NetBIOS node-status answers), so the responder must rate-limit this
 * service's replies per source or it lends itself to reflection. */
#define SVC_F_AMPLIFIES 1u

/* All built-in services, by name; NULL if unknown. */
const struct svc_def *svc_find(const char *name);
/* The built-in service usually found on a port (21 -> ftp, 1434/udp ->
 * mssql-resolver, ...), used for "open" ports without a named service;
 * NULL when none. */
const struct svc_def *svc_for_port(uint8_t proto, uint16_t port);
/* The list, NULL-terminated, for docs and tests. */
extern const struct svc_def *const svc_all[];

#endif
