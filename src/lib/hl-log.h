/* hl-log.h: Honeyd's connection log, line for line (Honeyd 1.5c log.c),
 * so that existing Honeyd log tools read vigia's.  See
 * ../shared/reference/README.md and docs/sensor-logs.md. */
#ifndef VIGIA_HL_LOG_H
#define VIGIA_HL_LOG_H

#include <stdint.h>
#include <stdio.h>

#include "proto-decode.h"

enum hl_kind {
	HL_START = 'S',     /* a flow starts */
	HL_END = 'E',       /* a flow ends: bytes received, bytes sent */
	HL_PROBE = '-',     /* a packet outside any flow */
	HL_LOG_STARTED = 256,   /* "... honeyd log started ------" (hl_parse only) */
	HL_LOG_STOPPED = 257,   /* "... honeyd log stopped ------" */
};

struct hl_event {
	uint64_t ts_ns;
	enum hl_kind kind;
	uint8_t proto;
	struct vg_ip src, dst;
	uint16_t sport, dport;          /* ICMP: type, code */
	uint32_t ip_len;                /* HL_PROBE */
	uint8_t tcp_flags;              /* HL_PROBE */
	uint64_t rx_bytes, tx_bytes;    /* HL_END */
	const char *os;                 /* passive fingerprint, or NULL */
};

/* Format one line (without newline) into buf; returns its length, or a
 * negative errno if it does not fit.  Time is local time, 1/10000 s.
 * HL_LOG_STARTED/STOPPED format the banner lines. */
int hl_format(const struct hl_event *ev, char *buf, size_t len);
/* "YYYY-mm-dd-HH:MM:SS.ffff honeyd log started ------" and "stopped". */
int hl_format_banner(uint64_t ts_ns, int started, char *buf, size_t len);

/* A service-log line (-s): "TIME PROTO TUPLE: |TEXT|", one per line a
 * script writes to stderr or a service records.  Bytes of text outside
 * printable ASCII are written as \xHH so a line stays one line. */
int hl_format_service(const struct hl_event *ev, const char *text, size_t text_len,
		      char *buf, size_t len);

/* Parse a line back (tests and `vigia ingest` of legacy logs).  Returns 0,
 * or a negative errno with err naming the column at fault. */
struct vg_err;
int hl_parse(const char *line, struct hl_event *ev, char *os_buf, size_t os_len,
	     struct vg_err *err);

#endif
