/* templ-nmapdb.h: nmap's second-generation OS database (nmap-os-db).
 *
 * The file is a list of blocks
 *
 *     Fingerprint NAME
 *     Class VENDOR | FAMILY | GEN | TYPE        (one or more)
 *     CPE cpe:/o:...                             (zero or more)
 *     SEQ(SP=FD-107%GCD=1-6%ISR=100-112%TI=I%...)
 *     OPS(...) WIN(...) ECN(...) T1(...) ... T7(...) U1(...) IE(...)
 *
 * where each test holds ATTR=EXPR pairs and an expression is a list of
 * alternatives separated by '|', each one a hex number, a range LO-HI, >N,
 * <N, or a plain string (O=M5B4NW8ST11, F=AS, S=A+); an empty alternative
 * is a value too ("Q=" means the quirks field is empty).  The leading
 * MatchPoints block has the same shape and gives nmap's weight of each
 * attribute.
 *
 * Everything is compiled at load into flat arrays (about 6 MB for the
 * 5,678 fingerprints of nmap 7.93); errors name the file and the line.
 * The database is trusted system data, but every length is still bounded:
 * a line holds at most NMDB_MAX_LINE bytes, an expression at most
 * NMDB_MAX_ALTS alternatives. */
#ifndef VIGIA_TEMPL_NMAPDB_H
#define VIGIA_TEMPL_NMAPDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vg-err.h"

#define NMDB_DEFAULT_PATH "/usr/share/nmap/nmap-os-db"
#define NMDB_MAX_LINE 4096
#define NMDB_MAX_ALTS 32
#define NMDB_MAX_FILE (64u << 20)

enum nmdb_test {
	NMDB_SEQ, NMDB_OPS, NMDB_WIN, NMDB_ECN,
	NMDB_T1, NMDB_T2, NMDB_T3, NMDB_T4, NMDB_T5, NMDB_T6, NMDB_T7,
	NMDB_U1, NMDB_IE,
	NMDB_NTESTS
};

enum nmdb_alt_kind {
	NMDB_STR,       /* compare as a string (also holds the hex text) */
	NMDB_RANGE,     /* lo-hi, inclusive; an exact number is lo == hi */
	NMDB_GT,        /* > lo */
	NMDB_LT,        /* < lo */
};

struct nmdb_alt {
	uint8_t kind;           /* enum nmdb_alt_kind */
	bool is_num;            /* NMDB_STR whose text is also a hex number */
	uint16_t slen;
	uint32_t str;           /* offset of the text in the string arena */
	uint32_t lo, hi;
};

struct nmdb_attr {
	char name[8];
	uint32_t first_alt;
	uint16_t nalts;
};

struct nmdb_testspan {
	uint32_t first_attr;
	uint16_t nattrs;
	bool present;
};

struct nmdb_fp {
	uint32_t name;          /* offset in the string arena */
	uint32_t cls;           /* the first Class line's text */
	uint32_t line;          /* line of the Fingerprint statement */
	struct nmdb_testspan tests[NMDB_NTESTS];
};

struct nmdb {
	char *path;
	struct nmdb_fp *fps;
	size_t nfps;
	struct nmdb_fp matchpoints;     /* weights (tests[].present false if none) */
	struct nmdb_attr *attrs;
	size_t nattrs;
	struct nmdb_alt *alts;
	size_t nalts;
	char *strs;                     /* NUL-terminated texts */
	size_t strs_len;
	uint32_t *by_name;              /* fingerprint indices sorted by name */
};

int nmdb_load(struct nmdb **out, const char *path, struct vg_err *err);
int nmdb_load_buf(struct nmdb **out, const char *name, const char *buf, size_t len,
		  struct vg_err *err);
void nmdb_free(struct nmdb *db);

static inline const char *nmdb_str(const struct nmdb *db, uint32_t off)
{
	return db->strs + off;
}

const char *nmdb_test_name(enum nmdb_test t);

/* An attribute of one test of a fingerprint, or NULL when the test or the
 * attribute is absent. */
const struct nmdb_attr *nmdb_get(const struct nmdb *db, const struct nmdb_fp *fp,
				 enum nmdb_test t, const char *name);

/* Does a value, as nmap writes it in a subject fingerprint (hex without
 * leading zeros for numbers), satisfy the attribute's expression? */
bool nmdb_attr_matches(const struct nmdb *db, const struct nmdb_attr *a, const char *value);
/* The same for a number. */
bool nmdb_attr_matches_num(const struct nmdb *db, const struct nmdb_attr *a, uint32_t v);

/* Resolve a personality name to a fingerprint (see the rule in
 * templ-nmapdb.c and docs/sensor-config.md): exact name; else the same
 * ignoring case; else the best word match.  When several entries share
 * the chosen name, the one with most tests present is taken (the first
 * of those in the file).  Returns NULL when nothing is close enough;
 * *exact tells whether the name was found as written (ignoring case). */
const struct nmdb_fp *nmdb_find(const struct nmdb *db, const char *name, bool *exact);

#endif
