/* incident.h: the classifier.  Decoded packets in; incidents out, one per
 * (UTC day, source, category, name), from the signature rules
 * (rule-set.h) and the behavioural detectors (det-behave.h).
 *
 * An incident carries its IntelMQ/RSIT classification, first and last
 * seen, the packet count, the honeypot ports hit, the sensors hit, and up
 * to INCIDENT_EVIDENCE pieces of sanitized evidence: a log line and a
 * printable payload excerpt in which the honeypot's address is replaced
 * by its token (hp-S.H).  Honeypot addresses never appear in evidence.
 */
#ifndef VIGIA_INCIDENT_H
#define VIGIA_INCIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "det-behave.h"
#include "proto-decode.h"
#include "rule-set.h"
#include "util-cidr.h"
#include "vg-err.h"

#define INCIDENT_EVIDENCE 3
#define INCIDENT_EXCERPT 64          /* payload bytes shown */
#define INCIDENT_LINE_MAX 256

/* Formatted when the incident is first read (classifier_get): the
 * classification pass itself only keeps the raw packet facts. */
struct incident_evidence {
	uint64_t ts_ns;
	uint32_t sensor_id;
	char *line;                 /* "2026-11-01T10:00:00Z 198.51.100.7:4312 -> hp-1.17:4444/tcp ..." */
	char *excerpt;              /* printable; others as \xNN; at most INCIDENT_EXCERPT bytes shown */
};

struct incident {
	int64_t day;                /* 00:00 UTC */
	struct vg_ip src;
	const char *category, *name, *taxonomy, *type;  /* static or the rule set's */
	uint32_t sid;               /* first rule that fired; 0 for a detector */
	int64_t first_s, last_s;
	uint64_t count;             /* packets */
	uint32_t *ports;            /* sorted: TCP port, UDP as 65536 + port (db.h) */
	size_t nports;
	uint32_t *sensors;          /* sorted sensor ids */
	size_t nsensors;
	struct incident_evidence ev[INCIDENT_EVIDENCE];
	size_t nev;
};

struct sanitizer;

struct classifier_config {
	const struct rule_set *rules;   /* compiled; NULL: detectors only */
	/* Issue 7's sanitizer (sanitize.h), built from the central config:
	 * when set, it names the honeypots (hp-S.H) and scrubs every textual
	 * form of their addresses from the evidence.  NULL: the local token
	 * of incident_hp_token and the dotted form replaced. */
	const struct sanitizer *san;
	struct det_config det;
	bool no_detectors;
	size_t max_incidents;           /* 0: 1,000,000; beyond, hits are dropped */
	size_t max_sources;             /* 0: 16,777,216; beyond, packets are not classified */
	/* Called for every incident a packet counts towards (after the
	 * incident was updated), e.g. to feed early warning's signature key;
	 * `name` is the incident's name.  Always on the caller's thread,
	 * inside a later classify_packet or classifier_finish (packets are
	 * classified in batches), with what the classifier kept of the
	 * packet: time, addresses, ports, protocol, TTL, IP id, TCP flags,
	 * sequence, ack and window, ICMP type and code, and the payload
	 * (the rest zero; l3 NULL, l4 only non-NULL).  A non-zero return is
	 * kept and returned by every later call: the pass is to stop, and
	 * on_hit is not called again. */
	int (*on_hit)(void *ctx, const struct vg_pkt *p, const char *name);
	void *hit_ctx;
	/* Worker threads, each classifying the sources of one shard: 0, one
	 * per online CPU (none with one CPU); > 0, that many (at most 8);
	 * < 0, none: the caller's thread classifies.  The incidents do not
	 * depend on it. */
	int threads;
	/* Packets per batch: 0, 262,144 (with 64 MiB for their header
	 * fields and payloads); at most 2,097,152.  Tests use small batches
	 * to cross batch boundaries with few packets. */
	uint32_t batch_packets;
};

struct classifier;

int classifier_new(struct classifier **out, const struct classifier_config *c,
		   struct vg_err *err);
void classifier_free(struct classifier *c);

/* Classify one packet directed to the honeypots.  `honeynets` (may be
 * NULL) are the sensor's networks, used for the honeypot token when no
 * sanitizer is configured: they must outlive the incidents.  The packet
 * is copied into a batch and classified later (see classifier_finish):
 * returns 0, or the first error of the pass so far (-ENOMEM, or the
 * on_hit callback's value). */
int classify_packet(struct classifier *c, const struct vg_pkt *p, uint32_t sensor_id,
		    const struct cidr_set *honeynets);
/* The same, with `*hint` a slot the caller keeps per source (beside its
 * own per-source entry, zero at first): the classifier stores its source
 * index there and skips its own lookup next time.  A hint is valid until
 * classifier_free. */
int classify_packet_hint(struct classifier *c, const struct vg_pkt *p, uint32_t sensor_id,
			 const struct cidr_set *honeynets, uint32_t *hint);

/* Classify every packet given so far and call on_hit for their hits;
 * returns the first error of the pass (0, -ENOMEM or on_hit's value).
 * Every function below does it first, so it is needed only to learn of
 * errors, or before the on_hit callback's own results are read. */
int classifier_finish(struct classifier *c);

size_t classifier_count(struct classifier *c);
/* The i-th incident (they are listed by day, source and class), its
 * evidence formatted and sanitized on first read; NULL past the end or
 * when out of memory. */
const struct incident *classifier_get(struct classifier *c, size_t i);
/* The same without formatting the evidence (ev[].line may be NULL): for
 * listings that show no evidence. */
const struct incident *classifier_peek(struct classifier *c, size_t i);
/* Merge the incidents of `day` (INT64_MIN: every day) into the database
 * (db_incident_merge), inside the caller's transaction. */
struct db;
int classifier_store(struct classifier *c, struct db *db, int64_t day, struct vg_err *err);
/* The detectors' counters (NULL without detectors): `untracked` > 0 means
 * det_config.max_entries was reached and counts are lower bounds. */
const struct det_stats *classifier_det_stats(struct classifier *c);
/* Sources tracked, and the bytes held (incidents and detectors). */
size_t classifier_sources(struct classifier *c);
size_t classifier_memory(struct classifier *c);
/* Hits not stored because max_incidents was reached. */
uint64_t classifier_dropped(struct classifier *c);
const struct rule_stats *classifier_rule_stats(struct classifier *c);
/* Forget every incident (keeps the detectors' state): after storing a
 * file's incidents, the next file's add to them in the database. */
void classifier_reset(struct classifier *c);

/* The token of a honeypot address: "hp-S.H", S the sensor id and H the
 * host number inside the honeynet that holds it (or a 16-bit hash of the
 * address when no honeynet does).  Issue 7's sanitizer (sanitize.h) is to
 * replace this local form. */
void incident_hp_token(const struct vg_ip *ip, uint32_t sensor_id,
		       const struct cidr_set *honeynets, char *buf, size_t len);

/* Every incident as a JSON Lines record (incident_json) to f; 0, -ENOMEM,
 * -ENOSPC (an incident longer than 64 KiB) or -EIO. */
int classifier_write_jsonl(struct classifier *c, FILE *f, const char *const *names,
			   size_t nnames);

/* One incident as a JSON object on one line (IntelMQ field names), with a
 * trailing newline; sensor ids are named from names[id] when given.
 * Returns the length, or -ENOSPC. */
int incident_json(const struct incident *in, const char *const *names, size_t nnames,
		  char *buf, size_t len);

#endif
