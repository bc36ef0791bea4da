/* fp.h: passive OS fingerprinting of TCP SYNs, compatible with p0f v3.
 *
 * fp-readfp.c compiles p0f's text database (/etc/p0f/p0f.fp) at load into
 * typed signature structs, bucketed by their TCP option layout as p0f
 * does; fp-tcp.c extracts a packet's signature and matches it: exact, then
 * generic, then fuzzy, with window sizes as mss*N / mtu*N, quirks and TTL
 * distance.  Labels are p0f's "name flavor", e.g. "Windows XP",
 * "Linux 3.11 and newer".
 *
 * The behaviour follows p0f 3.09b (Debian's p0f), including its oddities,
 * so that labels agree with what `p0f -r` logs:
 *  - the signature's IP version field is parsed but not used for matching
 *    (p0f 3.09b never compares it; it only scopes the IPv4/IPv6 quirks);
 *  - "ack+" is set when the ACK flag is clear and the least significant
 *    bit of the ACK field's first byte is set (p0f tests the raw field
 *    with `& !(flags & RST)`, i.e. `& 1`, on a little-endian host);
 *  - "opt+" after EOL is not flagged when the only non-zero padding byte
 *    is the last byte of the options.
 */
#ifndef VIGIA_FP_H
#define VIGIA_FP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto-decode.h"
#include "vg-err.h"

#define FP_DEFAULT_DB "/etc/p0f/p0f.fp"

/* p0f's MAX_DIST: a signature's TTL matches non-fuzzily when the observed
 * TTL is at most the signature's and no more than this far below it. */
#define FP_MAX_DIST 35
/* p0f's MAX_TCP_OPT: options past this count make the layout "bad". */
#define FP_MAX_OPT 24

struct fp_db;

/* Load and compile a p0f.fp file.  Errors name the file and line. */
int fp_db_load(struct fp_db **out, const char *path, struct vg_err *err);
int fp_db_load_buf(struct fp_db **out, const char *name, const char *buf,
		   size_t len, struct vg_err *err);
void fp_db_free(struct fp_db *db);

enum fp_match_kind { FP_NONE = 0, FP_EXACT = 1, FP_GENERIC = 2, FP_FUZZY = 3 };

struct fp_result {
	int label;              /* label id (>= 0), or -1 when nothing matched */
	enum fp_match_kind kind;
	bool generic;           /* matched a generic (g:) signature */
	uint8_t dist;           /* TTL distance estimated */
	/* Additions (after the original fields): */
	bool bad_ttl;           /* matched a "ttl-" signature: dist is an upper bound */
	int line;               /* p0f.fp line of the matched sig, 0 when none */
};

/* Fingerprint a TCP SYN (SYN without ACK) as p0f's "tcp:request".
 * Returns 1 on a match, 0 when no signature matched (or the packet is not
 * a SYN / not TCP), with *res filled either way. */
int fp_match_syn(const struct fp_db *db, const struct vg_pkt *pkt,
		 struct fp_result *res);
/* The same for a SYN+ACK ("tcp:response"); the sensor uses it.  p0f also
 * tries the MSS of the flow's SYN as a window divisor for SYN+ACKs; this
 * call does not know it (see fp_match_sig to pass it). */
int fp_match_synack(const struct fp_db *db, const struct vg_pkt *pkt,
		    struct fp_result *res);

/* Label id -> "name flavor" (p0f's report: "Windows XP"; "Linux 2.2.x-3.x").
 * This is exactly the text p0f logs after "os=" (or "app=" for application
 * labels, class '!'); for an empty flavor it is the name alone ("Mac OS X").
 * It never carries a "generic" marker: fp_result.generic says that.
 * Returns NULL for an id out of range. */
const char *fp_label_name(const struct fp_db *db, int label);
/* True for labels whose class is p0f's "win". */
bool fp_label_is_windows(const struct fp_db *db, int label);
int fp_label_count(const struct fp_db *db);

/* --- Additions: the signature of one packet, for the fingerprint
 * subcommand and for callers that track flows. --------------------------- */

enum fp_dir { FP_DIR_SYN = 1, FP_DIR_SYNACK = 2 };

/* Quirk bits, in the order p0f prints them. */
enum {
	FP_Q_DF = 1u << 0,        /* df */
	FP_Q_NZ_ID = 1u << 1,     /* id+ */
	FP_Q_ZERO_ID = 1u << 2,   /* id- */
	FP_Q_ECN = 1u << 3,       /* ecn */
	FP_Q_NZ_MBZ = 1u << 4,    /* 0+ */
	FP_Q_FLOW = 1u << 5,      /* flow */
	FP_Q_ZERO_SEQ = 1u << 6,  /* seq- */
	FP_Q_NZ_ACK = 1u << 7,    /* ack+ */
	FP_Q_ZERO_ACK = 1u << 8,  /* ack- */
	FP_Q_NZ_URG = 1u << 9,    /* uptr+ */
	FP_Q_URG = 1u << 10,      /* urgf+ */
	FP_Q_PUSH = 1u << 11,     /* pushf+ */
	FP_Q_TS1_ZERO = 1u << 12, /* ts1- */
	FP_Q_TS2_NZ = 1u << 13,   /* ts2+ */
	FP_Q_OPT_EOL_NZ = 1u << 14, /* opt+ */
	FP_Q_EXWS = 1u << 15,     /* exws */
	FP_Q_OPT_BAD = 1u << 16,  /* bad */
};

/* What p0f extracts from a SYN or SYN+ACK. */
struct fp_sig {
	uint8_t dir;              /* enum fp_dir */
	uint8_t ver;              /* 4 or 6 */
	uint8_t ttl;              /* observed TTL / hop limit */
	uint8_t olen;             /* IPv4 option bytes */
	uint8_t tos;              /* DSCP (tos >> 2), p0f's "tos:" flag */
	uint16_t mss;             /* 0 when there is no MSS option */
	uint16_t win;
	uint8_t wscale;           /* 0 when there is no WS option */
	uint8_t opt_cnt;
	uint8_t opts[FP_MAX_OPT]; /* option kinds in order */
	uint8_t eol_pad;          /* bytes after EOL */
	uint32_t quirks;          /* FP_Q_* */
	bool payload;             /* non-zero payload length */
	uint16_t tot_hdr;         /* IP + TCP header bytes, options included */
	uint32_t ts1;             /* own timestamp */
};

/* Extract the signature of a decoded packet.  Returns FP_DIR_SYN or
 * FP_DIR_SYNACK, or 0 when p0f would not fingerprint the packet (not TCP,
 * a fragment, not a SYN / SYN+ACK, a silly flag combination, a TCP header
 * not wholly captured). */
int fp_extract(const struct vg_pkt *pkt, struct fp_sig *sig);

/* Match an extracted signature against the database section for its
 * direction.  syn_mss is the MSS of the flow's SYN for a SYN+ACK (0 when
 * unknown).  Returns 1 on a match, 0 otherwise; *res is filled either way
 * (dist is p0f's guess when nothing matched). */
int fp_match_sig(const struct fp_db *db, const struct fp_sig *sig,
		 uint16_t syn_mss, struct fp_result *res);

/* Write p0f's raw_sig text ("4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0")
 * into buf.  Returns the length it needs (like snprintf). */
int fp_sig_format(const struct fp_sig *sig, uint16_t syn_mss, char *buf,
		  size_t len);

/* True for application labels (class '!', e.g. "NMap SYN scan"): p0f logs
 * them as "app=" rather than "os=". */
bool fp_label_is_app(const struct fp_db *db, int label);
/* Number of tcp:request (dir FP_DIR_SYN) or tcp:response signatures. */
int fp_sig_count(const struct fp_db *db, int dir);

#endif
