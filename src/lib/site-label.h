/* site-label.h: how a key reads on the public site, and its colour.
 *
 * Labels: "445/tcp (microsoft-ds)" (service names from the system's
 * services database, else nmap's nmap-services), "BR Brazil" (names from
 * Debian's iso-codes JSON, read at run time), OS labels as p0f writes
 * them.  Colours: see site_colour_assign.
 */
#ifndef VIGIA_SITE_LABEL_H
#define VIGIA_SITE_LABEL_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define SITE_ISO3166_JSON "/usr/share/iso-codes/json/iso_3166-1.json"
#define SITE_NMAP_SERVICES "/usr/share/nmap/nmap-services"

struct site_labels;

/* Load the country names (iso_json may be NULL: SITE_ISO3166_JSON) and
 * nmap-services (NULL: SITE_NMAP_SERVICES).  Missing files are not an
 * error: labels then fall back to the bare key. */
struct site_labels *site_labels_new(const char *iso_json, const char *nmap_services);
void site_labels_free(struct site_labels *l);

/* The text of a key in a legend or table (UTF-8). "Others" reads as is. */
const char *site_label(struct site_labels *l, enum db_category c, const char *key,
		       char *buf, size_t len);
/* Country name of an ISO 3166 alpha-2 code, or NULL. */
const char *site_country_name(const struct site_labels *l, const char *code);

/* The fixed palette: well separated on white, for the top 10; Others is
 * always SITE_OTHERS_RGB. */
#define SITE_PALETTE_N 20
extern const uint32_t site_palette[SITE_PALETTE_N]; /* 0xRRGGBB */
#define SITE_OTHERS_RGB 0xb0b0b0u

/* Colours of a graph's keys, given in rank order (n <= SITE_PALETTE_N):
 * writes palette indexes to slot[].  A key keeps its colour from day to
 * day: common keys (445, 80, BR, US, Windows XP, ...) have pinned slots;
 * any other key's slot is FNV-1a of "category:key" modulo the palette.
 * When two keys in one graph want the same slot, the pinned one, else
 * the higher ranked one, keeps it, and the other takes the next free slot
 * along its own probe sequence. */
void site_colour_assign(enum db_category c, const char *const *keys, size_t n, int *slot);
/* The key's preferred slot (before collisions). */
int site_colour_home(enum db_category c, const char *key, int *pinned);

#endif
