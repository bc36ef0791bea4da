/* export.c: the partner feed (export.h). */
#include "export.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util-json.h"

int export_country(struct db *db, const struct geo_db *geo, int64_t day,
		   const struct vg_ip *ip, char cc[3], struct vg_err *err)
{
	struct db_source_day sd;
	int rc = db_source_day_get(db, day, ip, &sd, err);
	if (rc < 0)
		return rc;
	memcpy(cc, "--", 3);
	if (rc == 1) {
		if (strlen(sd.country) == 2)
			memcpy(cc, sd.country, 3);
		db_source_day_clear(&sd);
	}
	if (!strcmp(cc, "--") && geo)
		geo_cc_str(geo_lookup(geo, ip), cc);
	return 0;
}

bool export_is_national(char *const *national, size_t n, const char cc[3])
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(national[i], cc))
			return true;
	return false;
}

const char *export_transport(uint32_t code, uint16_t *port)
{
	if (code >= 65536u) {
		*port = (uint16_t)(code - 65536u);
		return "udp";
	}
	*port = (uint16_t)code;
	return "tcp";
}

void export_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
}

struct run {
	struct db *db;
	const struct export_opts *o;
	FILE *f;
	size_t rows;
	struct vg_err *err;
};

/* RFC 4180: quote when needed, double the quotes. */
static void csv_field(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

static const char *const csv_header[] = {
	"time.source", "source.ip", "source.geolocation.cc", "source.asn", "destination.port",
	"protocol.transport", "classification.taxonomy", "classification.type",
	"classification.identifier", "extra.count", "extra.last_seen", "extra.ports",
	"extra.sensors", "feed.name", "feed.provider",
};
#define NCOLS (sizeof csv_header / sizeof csv_header[0])

static int on_incident(const struct db_incident *in, void *ctx)
{
	struct run *r = ctx;
	const struct export_opts *o = r->o;
	char cc[3];
	int rc = export_country(r->db, o->geo, in->day, &in->ip, cc, r->err);
	if (rc < 0)
		return rc;
	if (export_is_national(o->national, o->nnational, cc))
		return 0;
	/* a honeypot as a source (its own replies) is never exported */
	if (sanitize_is_secret(o->san, &in->ip))
		return 0;
	char ip[SANITIZE_TOKEN_MAX], first[40], last[40], dport[8] = "", count[24], nsens[16];
	sanitize_ip(o->san, &in->ip, ip, sizeof ip);
	export_time(in->first_s, first, sizeof first);
	export_time(in->last_s, last, sizeof last);
	const char *proto = "";
	uint16_t port = 0;
	if (in->nports) {
		proto = export_transport(in->ports[0], &port);
		snprintf(dport, sizeof dport, "%u", port);
	}
	snprintf(count, sizeof count, "%" PRIu64, in->count);
	snprintf(nsens, sizeof nsens, "%zu", in->nsensors);
	/* the list of ports hit, "22/tcp 23/tcp" */
	size_t plen = in->nports * 12 + 1;
	char *ports = malloc(plen);
	if (!ports)
		return vg_err_set(r->err, -ENOMEM, "out of memory");
	size_t w = 0;
	ports[0] = 0;
	for (size_t i = 0; i < in->nports; i++) {
		uint16_t p;
		const char *t = export_transport(in->ports[i], &p);
		w += (size_t)snprintf(ports + w, plen - w, "%s%u/%s", i ? " " : "", p, t);
	}
	/* names and categories come from rule files: sanitized like all text */
	char *ident = NULL;
	if (sanitize_text(o->san, in->name, strlen(in->name), &ident, NULL, NULL) < 0) {
		free(ports);
		return vg_err_set(r->err, -ENOMEM, "out of memory");
	}
	if (o->format == EXPORT_CSV) {
		const char *v[NCOLS] = {first, ip, cc, "", dport, proto, in->taxonomy, in->type,
					ident, count, last, ports, nsens, o->feed_name, o->feed_provider};
		for (size_t i = 0; i < NCOLS; i++)
			csv_field(r->f, v[i], i + 1 == NCOLS);
	} else {
		struct json_w j;
		json_init(&j, r->f, false);
		json_obj_begin(&j);
		json_key(&j, "time.source"); json_str(&j, first);
		json_key(&j, "source.ip"); json_str(&j, ip);
		json_key(&j, "source.geolocation.cc"); json_str(&j, cc);
		if (in->nports) {
			json_key(&j, "destination.port"); json_u64(&j, port);
			json_key(&j, "protocol.transport"); json_str(&j, proto);
		}
		json_key(&j, "classification.taxonomy"); json_str(&j, in->taxonomy);
		json_key(&j, "classification.type"); json_str(&j, in->type);
		json_key(&j, "classification.identifier"); json_str(&j, ident);
		json_key(&j, "extra.count"); json_u64(&j, in->count);
		json_key(&j, "extra.last_seen"); json_str(&j, last);
		json_key(&j, "extra.ports"); json_str(&j, ports);
		json_key(&j, "extra.sensors"); json_u64(&j, in->nsensors);
		json_key(&j, "feed.name"); json_str(&j, o->feed_name);
		json_key(&j, "feed.provider"); json_str(&j, o->feed_provider);
		json_obj_end(&j);
		fputc('\n', r->f);
	}
	free(ident);
	free(ports);
	r->rows++;
	return ferror(r->f) ? vg_err_set(r->err, -EIO, "feed: write error") : 0;
}

int export_day(struct db *db, int64_t day, const struct export_opts *o, FILE *f,
	       size_t *rows, struct vg_err *err)
{
	struct run r = {.db = db, .o = o, .f = f, .err = err};
	if (o->format == EXPORT_CSV)
		for (size_t i = 0; i < NCOLS; i++)
			csv_field(f, csv_header[i], i + 1 == NCOLS);
	int rc = db_incidents_foreach(db, day, day + 1, on_incident, &r, err);
	if (rows)
		*rows = r.rows;
	if (rc < 0)
		return rc;
	if (fflush(f) != 0 || ferror(f))
		return vg_err_set(err, -EIO, "feed: write error");
	return 0;
}
