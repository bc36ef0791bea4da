/* templ-persona.h: the concrete behaviour of a personality, derived from
 * one nmap-os-db fingerprint (templ-nmapdb.h).
 *
 * Where the database gives a range or alternatives, a value that matches
 * is chosen: for a range its middle, for alternatives the first, for the
 * TTL the guessed initial TTL (TG) when T allows it.  The responder
 * (stack-persona.c) then answers nmap's probes test by test, and ordinary
 * traffic with the same TTL, DF, window and option layout, so that p0f
 * sees the system nmap sees.
 *
 * ISNs (SEQ: GCD, ISR, SP).  Nmap takes six SYN-ACKs 100 ms apart and
 * computes from the differences of their ISNs a GCD, the average rate
 * (ISR = 8 log2 rate) and the spread of the rates (SP = 8 log2 stddev).
 * Two schemes give those statistics:
 *   PERS_ISN_COOKIE  every personality whose ISNs look random (all the
 *       modern systems: ISR >= 0xCE).  ISN = GCD * (hash << 8 | slot << 3
 *       | mss), with the hash reduced modulo a span chosen so that the
 *       differences of uniform values in [0, span) have the wanted mean
 *       rate; their spread then follows (SP = ISR - 4 on average, which
 *       the chosen ISR allows for).  It is still a keyed SYN cookie: no
 *       state per SYN, a forged ACK passes with probability 256/span
 *       (2^-22 for a typical ISR of 0x10A).
 *   PERS_ISN_COUNTER  low-rate, predictable ISNs (old printers, routers):
 *       ISN = GCD * (rate * t / GCD + noise), noise sized for SP.  Such
 *       ISNs cannot carry a cookie worth the name, so the SYN-ACKs sent
 *       are remembered in a small table (tuple -> ISN, MSS), overwritten
 *       on collision; an ACK is accepted when it returns a remembered
 *       ISN.  Half-open connections then cost a bounded table, which is
 *       what the predictable original did as well.
 *
 * IP IDs (TI for SYN-ACKs and other TCP from open ports, CI for RSTs from
 * closed ports, II for ICMP): Z, I (one counter per address, shared by
 * every class that is I, so SS=S), BI (the same counter, byte-swapped), RI
 * (increments of 1001..5000), RD (random), or a fixed value. */
#ifndef VIGIA_TEMPL_PERSONA_H
#define VIGIA_TEMPL_PERSONA_H

#include <stdbool.h>
#include <stdint.h>

#include "templ-nmapdb.h"
#include "vg-err.h"

enum pers_seqmode { PERS_Z, PERS_A, PERS_APLUS, PERS_S, PERS_SPLUS, PERS_O };
enum pers_idclass { PERS_ID_Z, PERS_ID_I, PERS_ID_BI, PERS_ID_RI, PERS_ID_RD, PERS_ID_FIXED };
enum pers_isn { PERS_ISN_COOKIE, PERS_ISN_COUNTER };
enum pers_ts { PERS_TS_NONE, PERS_TS_ZERO, PERS_TS_RATE, PERS_TS_RANDOM };

#define PERS_MAX_OPTS 48    /* O text; its bytes are at most 40 */

/* How one TCP test is answered (T1-T7, ECN, and the six SEQ probes). */
struct pers_resp {
	bool respond;
	bool df;
	uint8_t ttl;
	uint16_t win;
	uint8_t flags;          /* TCP flags of the reply */
	uint8_t seq_mode;       /* Z, A, A+ or O (O: the ISN) */
	uint8_t ack_mode;       /* Z, S, S+ or O */
	bool quirk_reserved;    /* Q=R: a reserved bit set */
	bool quirk_urgent;      /* Q=U: urgent pointer without URG */
	uint8_t cc;             /* ECN: 'Y' ECE, 'N' none, 'S' ECE+CWR, 'O' */
	char opts[PERS_MAX_OPTS];   /* as nmap writes them: "M5B4NW8NNT11S" */
};

struct pers_id {
	uint8_t cls;            /* enum pers_idclass */
	uint16_t fixed;
};

struct persona {
	char name[96];
	uint32_t db_line;               /* of the fingerprint used */
	bool exact;                     /* the name was found as written */

	/* SEQ */
	uint8_t isn_mode;               /* enum pers_isn */
	uint32_t gcd;                   /* COOKIE: a power of two; COUNTER: 0 = constant */
	uint8_t gcd_shift;
	uint32_t isn_span;              /* COOKIE: hash span (units of gcd) */
	double isn_rate;                /* COUNTER: ISN units per second */
	uint32_t isn_noise;             /* COUNTER: noise span (units of gcd) */
	struct pers_id ti, ci, ii;
	uint8_t ts;                     /* enum pers_ts */
	double ts_hz;                   /* TSval ticks per second */

	struct pers_resp seq[6];        /* the SEQ probes: T1 with W1-W6, O1-O6 */
	struct pers_resp t[8];          /* T2..T7 at [2]..[7]; [1] = seq[0] */
	struct pers_resp ecn;

	/* U1: ICMP port unreachable */
	bool u1_respond, u1_df;
	uint8_t u1_ttl;
	uint16_t u1_ipl;                /* total length of the ICMP datagram */
	uint32_t u1_un;                 /* the "unused" word */
	bool ripl_g, rid_g, ruck_g;
	uint16_t ripl, rid, ruck;
	char ripck;                     /* 'G' good, 'Z' zero, 'I' invalid */
	char rud;                       /* 'G' intact, 'I' altered */

	/* IE: ICMP echo */
	bool ie_respond;
	char dfi;                       /* 'N', 'S', 'Y', 'O' */
	uint8_t ie_ttl;
	char cd;                        /* 'Z', 'S', 'O', or 'V' (cd_val) */
	uint8_t cd_val;

	/* ordinary traffic */
	uint8_t ttl;
	bool df;
	uint16_t win;
	uint16_t mss;
};

/* Derive the behaviour from a fingerprint.  Never fails for a fingerprint
 * that loaded: absent tests get the behaviour of a current Linux. */
void persona_from_fp(struct persona *pe, const struct nmdb *db, const struct nmdb_fp *fp);

/* Resolve a template's personality name and derive it.  Returns 0, or
 * -ENOENT with err naming the name when nothing in db is close enough. */
int persona_resolve(struct persona *pe, const struct nmdb *db, const char *name,
		    struct vg_err *err);

/* The option bytes for an O string ("M5B4NW8NNT11S"), padded to a multiple
 * of four.  ts_val and ts_ecr fill a T whose digits are 1; peer_* drop the
 * W, T and S options the peer did not offer (all true for nmap's probes).
 * Returns the length written (at most 40). */
unsigned persona_tcp_options(const char *o, uint8_t *out, uint32_t ts_val, uint32_t ts_ecr,
			     bool peer_ws, bool peer_ts, bool peer_sack);

#endif
