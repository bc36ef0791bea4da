/* vigia notify: mail the abuse contact of every national source its
 * incidents of a day, with sanitized evidence and remediation guidance
 * (docs/notify.md). */
#include <errno.h>
#include <getopt.h>
#include <gpgme.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <unistd.h>

#include "cfg-central.h"
#include "cli.h"
#include "commands.h"
#include "contact-lookup.h"
#include "db.h"
#include "export.h"
#include "geo-rir.h"
#include "mail-maildir.h"
#include "mail-mime.h"
#include "mail-pgp.h"
#include "mail-smtp.h"
#include "sanitize.h"
#include "util-buf.h"

#ifndef VIGIA_GUIDANCE_DIR
#define VIGIA_GUIDANCE_DIR "/usr/local/share/vigia/guidance"
#endif
#define GUIDANCE_MAX (64u << 10)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigia notify [--config FILE] [--db FILE] --day YYYY-MM-DD [--outbox DIR]\n"
		"       vigia notify [--config FILE] [--db FILE] --list\n"
		"Mail the abuse contact of every national source its incidents of the day:\n"
		"one message per contact, sanitized evidence, guidance in Portuguese and English,\n"
		"signed and encrypted when the contact's key is known (docs/notify.md).\n"
		"  --config FILE   central configuration (default $VIGIA_CONFIG, else %s)\n"
		"  --db FILE       database (default: the config's)\n"
		"  --outbox DIR    write the messages into this Maildir instead of SMTP\n"
		"  --rir FILE      RIR delegation file, for sources without a stored country\n"
		"  --dry-run       find the contacts and print what would be sent\n"
		"  --list          print the notification history and exit\n"
		"  -q, --quiet     only errors\n", CFG_CENTRAL_DEFAULT_PATH);
}

static const struct sanitizer *g_san;

/* Every line printed passes the sanitizer (cli_say). */
#define say(f, ...) cli_say(g_san, "vigia notify", f, __VA_ARGS__)

struct item {
	struct vg_ip ip;
	char ipt[64], cc[3];
	char *category, *name, *taxonomy, *type;
	int64_t first_s, last_s;
	uint64_t count;
	uint32_t *ports;
	size_t nports;
	int group;                  /* index of the contact's group, -1 none */
	bool skip;
};

struct group {
	struct contact_result r;
	size_t *items;
	size_t n;
};

struct run {
	const struct cfg_central *c;
	struct db *db;
	const struct geo_db *geo;
	int64_t day;
	struct item *v;
	size_t n, cap;
	struct group *g;
	size_t ng;
	struct vg_err *err;
};

/* --- collecting the day's national incidents --------------------------------- */

static int on_incident(const struct db_incident *in, void *ctx)
{
	struct run *r = ctx;
	if (g_san && sanitize_is_secret(g_san, &in->ip))
		return 0;
	char cc[3];
	int rc = export_country(r->db, r->geo, in->day, &in->ip, cc, r->err);
	if (rc < 0)
		return rc;
	if (!export_is_national(r->c->national, r->c->nnational, cc))
		return 0;
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 64;
		struct item *nv = realloc(r->v, nc * sizeof *nv);
		if (!nv)
			return vg_err_set(r->err, -ENOMEM, "out of memory");
		r->v = nv;
		r->cap = nc;
	}
	struct item *it = &r->v[r->n];
	memset(it, 0, sizeof *it);
	it->ip = in->ip;
	vg_ip_str(&in->ip, it->ipt, sizeof it->ipt);
	memcpy(it->cc, cc, 3);
	it->category = strdup(in->category);
	it->name = strdup(in->name);
	it->taxonomy = strdup(in->taxonomy);
	it->type = strdup(in->type);
	it->first_s = in->first_s;
	it->last_s = in->last_s;
	it->count = in->count;
	it->group = -1;
	it->ports = in->nports ? malloc(in->nports * sizeof *it->ports) : NULL;
	r->n++;
	if (!it->category || !it->name || !it->taxonomy || !it->type || (in->nports && !it->ports))
		return vg_err_set(r->err, -ENOMEM, "out of memory");
	if (in->nports)
		memcpy(it->ports, in->ports, in->nports * sizeof *it->ports);
	it->nports = in->nports;
	return 0;
}

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].category);
		free(r->v[i].name);
		free(r->v[i].taxonomy);
		free(r->v[i].type);
		free(r->v[i].ports);
	}
	free(r->v);
	for (size_t i = 0; i < r->ng; i++)
		free(r->g[i].items);
	free(r->g);
}

/* Packets of (ip, category) over the day's incidents. */
static uint64_t cat_count(const struct run *r, const struct item *it)
{
	uint64_t s = 0;
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].ipt, it->ipt) && !strcmp(r->v[i].category, it->category))
			s += r->v[i].count;
	return s;
}

/* --- guidance ------------------------------------------------------------------ */

/* map.txt: "PATTERN TEMPLATE" lines; PATTERN is "category:NAME" or a
 * case-insensitive substring of the incident's name; first match wins. */
static int guidance_name(const char *dir, const struct item *it, char *out, size_t len)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/map.txt", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char line[512];
	int found = 0;
	while (!found && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		char *sp = strrchr(line, ' ');
		if (!sp)
			continue;
		*sp = 0;
		const char *tmpl = sp + 1, *pat = line;
		if (!strncmp(pat, "category:", 9))
			found = !strcmp(pat + 9, it->category);
		else
			found = strcasestr(it->name, pat) != NULL;
		if (found)
			snprintf(out, len, "%s", tmpl);
	}
	fclose(f);
	if (!found)
		snprintf(out, len, "generic");
	return 0;
}

static int guidance_text(const char *dir, const char *lang, const char *name, struct vg_buf *b)
{
	char path[4096];
	/* names come from map.txt: only [a-z0-9-] so they cannot climb out */
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return -EINVAL;
	int pl = snprintf(path, sizeof path, "%s/%s/%s.txt", dir, lang, name);
	if (pl < 0 || (size_t)pl >= sizeof path)
		return -ENAMETOOLONG;
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char *buf = malloc(GUIDANCE_MAX);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	size_t n = fread(buf, 1, GUIDANCE_MAX, f);
	fclose(f);
	vg_buf_add(b, buf, n);
	if (n && buf[n - 1] != '\n')
		vg_buf_add(b, "\n", 1);
	free(buf);
	return 0;
}

/* --- the message ----------------------------------------------------------------- */

static void utc(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

struct ev_ctx {
	struct vg_buf *b;
};

static int on_evidence(const struct db_evidence *ev, void *ctx)
{
	struct ev_ctx *e = ctx;
	vg_buf_printf(e->b, "      %s\n", ev->line);
	if (ev->excerpt[0])
		vg_buf_printf(e->b, "        trecho/excerpt: %s\n", ev->excerpt);
	return 0;
}

static int build_text(struct run *r, const struct group *g, const char *gdir, struct vg_buf *b,
		      struct vg_err *err)
{
	const char *provider = r->c->notify.feed_provider ? r->c->notify.feed_provider : "vigia";
	char day[16];
	time_t dt = (time_t)r->day;
	struct tm tm;
	gmtime_r(&dt, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	vg_buf_printf(b,
		"[Português abaixo do resumo; English below]\n\n"
		"Prezados(as),\n\n"
		"A rede de honeypots %s registrou em %s (UTC) atividade maliciosa\n"
		"originada de endereços IP sob sua responsabilidade (%s). Os honeypots\n"
		"não oferecem serviços reais: todo tráfego dirigido a eles é não solicitado.\n"
		"Os endereços abaixo provavelmente pertencem a máquinas comprometidas ou mal\n"
		"configuradas. Pedimos que verifiquem e corrijam; as orientações seguem abaixo.\n\n"
		"Dear colleagues,\n\n"
		"The %s honeypot network recorded on %s (UTC) malicious activity from\n"
		"IP addresses under your responsibility (%s). The honeypots offer no real\n"
		"service: all traffic sent to them is unsolicited. The addresses below most\n"
		"likely belong to compromised or misconfigured machines. Please check and fix\n"
		"them; guidance follows.\n\n",
		provider, day, g->r.email, provider, day, g->r.email);
	vg_buf_printf(b, "== Evidências / Evidence ==\n"
		     "Todos os horários em UTC (+00:00) / All times are in UTC (+00:00).\n"
		     "Os honeypots aparecem como códigos hp-S.H / Honeypots appear as tokens hp-S.H.\n");
	const char *prev_ip = "";
	for (size_t k = 0; k < g->n; k++) {
		const struct item *it = &r->v[g->items[k]];
		if (strcmp(prev_ip, it->ipt))
			vg_buf_printf(b, "\nOrigem / Source: %s (%s)\n", it->ipt, it->cc);
		prev_ip = it->ipt;
		char a[40], z[40];
		utc(it->first_s, a, sizeof a);
		utc(it->last_s, z, sizeof z);
		vg_buf_printf(b, "  Incidente / Incident: %s\n", it->name);
		vg_buf_printf(b, "    Categoria / Category: %s (%s / %s)\n", it->category, it->taxonomy, it->type);
		vg_buf_printf(b, "    Primeira vez / First seen: %s\n    Última vez / Last seen:    %s\n", a, z);
		vg_buf_printf(b, "    Pacotes / Packets: %" PRIu64 "\n", it->count);
		vg_buf_printf(b, "    Portas de destino / Destination ports:");
		for (size_t i = 0; i < it->nports && i < 32; i++) {
			uint16_t p;
			const char *t = export_transport(it->ports[i], &p);
			vg_buf_printf(b, " %u/%s", p, t);
		}
		vg_buf_printf(b, "%s\n", it->nports > 32 ? " ..." : "");
		vg_buf_printf(b, "    Registros / Log lines (origem:porta -> honeypot:porta/protocolo):\n");
		struct ev_ctx e = {b};
		int rc = db_evidence_foreach(r->db, r->day, &it->ip, it->category, it->name, on_evidence,
					     &e, err);
		if (rc < 0)
			return rc;
	}
	/* guidance, once per template */
	char names[64][64];
	size_t nn = 0;
	for (size_t k = 0; k < g->n && nn < 64; k++) {
		char nm[64];
		if (guidance_name(gdir, &r->v[g->items[k]], nm, sizeof nm) < 0)
			return vg_err_set(err, -ENOENT, "%s/map.txt: cannot read the guidance map", gdir);
		bool dup = false;
		for (size_t i = 0; i < nn; i++)
			dup |= !strcmp(names[i], nm);
		if (!dup)
			snprintf(names[nn++], sizeof names[0], "%s", nm);
	}
	static const char *const langs[2][2] = {{"pt", "Orientações (português)"},
						  {"en", "Guidance (English)"}};
	for (size_t l = 0; l < 2; l++) {
		vg_buf_printf(b, "\n== %s ==\n", langs[l][1]);
		for (size_t i = 0; i < nn; i++) {
			vg_buf_add(b, "\n", 1);
			int rc = guidance_text(gdir, langs[l][0], names[i], b);
			if (rc < 0)
				return vg_err_set(err, rc, "%s/%s/%s.txt: %s", gdir, langs[l][0], names[i],
						  strerror(-rc));
		}
	}
	vg_buf_printf(b, "\n-- \n%s: https://www.first.org/ ; mensagem automática / automated message\n", provider);
	return b->rc ? vg_err_set(err, -ENOMEM, "out of memory") : 0;
}

/* A detached OpenPGP signature (RFC 3156 section 5) of data, for contacts
 * whose key is unknown: they still can check the message came from the
 * alliance.  Issue 7's mail-pgp.h signs only together with encryption, so
 * this small GPGME call lives here.  micalg receives "pgp-sha512" etc. */
static int sign_detached(const char *gnupghome, const char *keyid, const char *data, size_t len,
			 char **sig, size_t *slen, char *micalg, size_t mlen, struct vg_err *err)
{
	gpgme_check_version(NULL);
	gpgme_ctx_t ctx = NULL;
	gpgme_key_t key = NULL;
	gpgme_data_t in = NULL, out = NULL;
	gpgme_error_t ge;
	int rc = -EIO;
	*sig = NULL;
	if ((ge = gpgme_new(&ctx)) ||
	    (ge = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, gnupghome))) {
		vg_err_set(err, -EIO, "%s: GnuPG: %s", gnupghome, gpgme_strerror(ge));
		goto out;
	}
	gpgme_set_armor(ctx, 1);
	gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK);
	if ((ge = gpgme_get_key(ctx, keyid, &key, 1)) || !key->can_sign) {
		vg_err_set(err, -ENOKEY, "%s: signing key %s: %s", gnupghome, keyid,
			   ge ? gpgme_strerror(ge) : "cannot sign");
		goto out;
	}
	if ((ge = gpgme_signers_add(ctx, key)) || (ge = gpgme_data_new_from_mem(&in, data, len, 0)) ||
	    (ge = gpgme_data_new(&out)) || (ge = gpgme_op_sign(ctx, in, out, GPGME_SIG_MODE_DETACH))) {
		vg_err_set(err, -EIO, "%s: signing with %s: %s", gnupghome, keyid, gpgme_strerror(ge));
		goto out;
	}
	gpgme_sign_result_t sr = gpgme_op_sign_result(ctx);
	const char *h = sr && sr->signatures ? gpgme_hash_algo_name(sr->signatures->hash_algo) : NULL;
	if (!h) {
		vg_err_set(err, -EIO, "%s: signing with %s: no signature made", gnupghome, keyid);
		goto out;
	}
	snprintf(micalg, mlen, "pgp-%s", h);
	for (char *p = micalg; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	size_t n = 0;
	char *mem = gpgme_data_release_and_get_mem(out, &n);
	out = NULL;
	if (!mem || !(*sig = malloc(n + 1))) {
		gpgme_free(mem);
		rc = vg_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(*sig, mem, n);
	(*sig)[n] = 0;
	*slen = n;
	gpgme_free(mem);
	rc = 0;
out:
	gpgme_data_release(in);
	gpgme_data_release(out);
	gpgme_key_unref(key);
	gpgme_release(ctx);
	return rc;
}

/* Plain (unencrypted) message: headers and a quoted-printable text/plain
 * body; signed as multipart/signed when a keyring and sign-key are set. */
static int plain_message(const struct cfg_mail *ml, const struct mail_headers *h,
			 const char *text, size_t len, char **out, size_t *outlen,
			 struct vg_err *err)
{
	char *qp = NULL;
	size_t qlen = 0;
	int rc = mail_qp_encode(text, len, &qp, &qlen);
	if (rc)
		return rc;
	struct vg_buf b = {0};
	vg_buf_printf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\n"
		      "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n",
		  h->from, h->to, h->subject, h->date, h->message_id);
	if (!ml->keyring || !ml->sign_key) {
		vg_buf_printf(&b, "Content-Type: text/plain; charset=utf-8\r\n"
			      "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
		vg_buf_add(&b, qp, qlen);
		free(qp);
	} else {
		/* the signed entity, byte for byte as it appears in the message */
		struct vg_buf e = {0};
		vg_buf_printf(&e, "Content-Type: text/plain; charset=utf-8\r\n"
			      "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
		vg_buf_add(&e, qp, qlen);
		free(qp);
		char *sig = NULL, micalg[32], bnd[64];
		size_t slen = 0;
		uint8_t rnd[12];
		if (e.rc || getentropy(rnd, sizeof rnd) < 0) {
			free(e.p);
			free(b.p);
			return -ENOMEM;
		}
		int w = snprintf(bnd, sizeof bnd, "=_vigia_signed_");
		for (size_t i = 0; i < sizeof rnd; i++)
			w += snprintf(bnd + w, sizeof bnd - (size_t)w, "%02x", rnd[i]);
		rc = sign_detached(ml->keyring, ml->sign_key, e.p, e.n, &sig, &slen, micalg,
				   sizeof micalg, err);
		if (rc < 0) {
			free(e.p);
			free(b.p);
			return rc;
		}
		vg_buf_printf(&b, "Content-Type: multipart/signed; micalg=%s;\r\n"
			      " protocol=\"application/pgp-signature\"; boundary=\"%s\"\r\n\r\n"
			      "This is an OpenPGP/MIME signed message (RFC 3156).\r\n--%s\r\n",
			  micalg, bnd, bnd);
		vg_buf_add(&b, e.p, e.n);
		vg_buf_printf(&b, "\r\n--%s\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n"
			      "Content-Description: OpenPGP digital signature\r\n\r\n", bnd);
		/* the armour's LF line ends as CRLF, like the rest */
		for (size_t i = 0; i < slen; i++) {
			if (sig[i] == '\n' && (i == 0 || sig[i - 1] != '\r'))
				vg_buf_add(&b, "\r", 1);
			vg_buf_add(&b, sig + i, 1);
		}
		vg_buf_printf(&b, "\r\n--%s--\r\n", bnd);
		free(sig);
		free(e.p);
	}
	if (b.rc) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*outlen = b.n;
	return 0;
}

static char *html_pre(const char *t)
{
	struct vg_buf b = {0};
	vg_buf_printf(&b, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body><pre>");
	for (; *t; t++) {
		switch (*t) {
		case '<': vg_buf_add(&b, "&lt;", 4); break;
		case '>': vg_buf_add(&b, "&gt;", 4); break;
		case '&': vg_buf_add(&b, "&amp;", 5); break;
		default: vg_buf_add(&b, t, 1);
		}
	}
	vg_buf_printf(&b, "</pre></body></html>\n");
	if (b.rc) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* --- --list ----------------------------------------------------------------------- */

static int on_history(const struct db_notification *n, void *ctx)
{
	(void)ctx;
	char sent[40], day[16];
	time_t t = (time_t)n->sent_at, d = (time_t)n->day;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(sent, sizeof sent, "%Y-%m-%dT%H:%M:%SZ", &tm);
	gmtime_r(&d, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	say(stdout, "%s %s %s %s %" PRIu64 " %s %s %s %s", sent, day, n->ip, n->category, n->count,
	    n->contact, n->via, n->delivery, n->message_id);
	return 0;
}


int cmd_notify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'C'},
		{"db", required_argument, NULL, 'd'},
		{"day", required_argument, NULL, 'D'},
		{"outbox", required_argument, NULL, 'o'},
		{"rir", required_argument, NULL, 'r'},
		{"dry-run", no_argument, NULL, 'n'},
		{"list", no_argument, NULL, 'l'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL, *dbpath = NULL, *dayarg = NULL, *outbox = NULL;
	const char *rir[64];
	size_t nrir = 0;
	bool list = false, dry = false, quiet = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "C:d:D:o:r:nlqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'C': config = optarg; break;
		case 'd': dbpath = optarg; break;
		case 'D': dayarg = optarg; break;
		case 'o': outbox = optarg; break;
		case 'n': dry = true; break;
		case 'l': list = true; break;
		case 'q': quiet = true; break;
		case 'r':
			if (nrir == sizeof rir / sizeof rir[0]) {
				fprintf(stderr, "vigia notify: at most 64 --rir files\n");
				return VG_EXIT_USAGE;
			}
			rir[nrir++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return VG_EXIT_OK;
		default:
			usage(stderr);
			return VG_EXIT_USAGE;
		}
	}
	int64_t day = 0;
	if (optind != argc || (!list && (!dayarg || cli_parse_day(dayarg, &day) < 0))) {
		fprintf(stderr, "vigia notify: --day YYYY-MM-DD (or --list) is required\n");
		return VG_EXIT_USAGE;
	}
	struct vg_err err = {0};
	struct cfg_central *cfg = NULL;
	struct sanitizer *san = NULL;
	struct db *db = NULL;
	struct geo_db *geo = NULL;
	struct contact_ctx *cc = NULL;
	struct mail_pgp *pgp = NULL;
	char *password = NULL;
	bool curl_up = false;
	struct run r = {.day = day, .err = &err};
	int ret = VG_EXIT_FATAL;
	const char *cpath = cfg_central_path(config);
	if (cfg_central_load(cpath, &cfg, &err) < 0 || sanitizer_new(cfg, &san, &err) < 0 ||
	    db_open(&db, dbpath ? dbpath : cfg->database, &err) < 0) {
		fprintf(stderr, "vigia notify: %s\n", err.msg);
		goto done;
	}
	g_san = san;
	r.c = cfg;
	r.db = db;
	if (list) {
		if (db_notifications_foreach(db, on_history, NULL, &err) < 0) {
			say(stderr, "vigia notify: %s", err.msg);
			goto done;
		}
		ret = VG_EXIT_OK;
		goto done;
	}
	if (!cfg->nnational) {
		say(stderr, "vigia notify: %s has no 'national' codes: nobody to notify", cpath);
		goto done;
	}
	if (!dry && !cfg->mail.from) {
		say(stderr, "vigia notify: %s: the mail block needs 'from'", cpath);
		goto done;
	}
	if (!dry && !outbox && !cfg->mail.smtp) {
		say(stderr, "vigia notify: %s: no 'smtp' in the mail block; use --outbox DIR", cpath);
		goto done;
	}
	if (nrir) {
		if (!(geo = geo_db_new()))
			goto done;
		for (size_t i = 0; i < nrir; i++)
			if (geo_db_load_file(geo, rir[i], &err) < 0) {
				say(stderr, "vigia notify: %s", err.msg);
				goto done;
			}
		if (geo_db_finalize(geo, &err) < 0) {
			say(stderr, "vigia notify: %s", err.msg);
			goto done;
		}
	}
	r.geo = geo;
	/* libcurl's global set-up before anything else may use it */
	if (mail_smtp_global_init() < 0) {
		say(stderr, "vigia notify: cannot start libcurl");
		goto done;
	}
	curl_up = true;
	if (contact_ctx_new(&cfg->notify, db, &cc, &err) < 0) {
		say(stderr, "vigia notify: %s", err.msg);
		goto done;
	}
	if (db_incidents_foreach(db, day, day + 1, on_incident, &r, &err) < 0) {
		say(stderr, "vigia notify: %s", err.msg);
		goto done;
	}
	/* quiet period: skip (source, category) already notified within N days
	 * unless its activity grew */
	int64_t since = day - (int64_t)cfg->notify.quiet_days * 86400;
	unsigned quiet_skipped = 0, nocontact = 0, sent = 0, failed = 0;
	for (size_t i = 0; i < r.n; i++) {
		struct item *it = &r.v[i];
		int64_t ld;
		uint64_t lc;
		int rc = db_notification_last(db, it->ipt, it->category, since, &ld, &lc, &err);
		if (rc < 0) {
			say(stderr, "vigia notify: %s", err.msg);
			goto done;
		}
		if (rc == 1 && cat_count(&r, it) <= lc) {
			it->skip = true;
			quiet_skipped++;
		}
	}
	/* contacts, one lookup per source */
	for (size_t i = 0; i < r.n; i++) {
		struct item *it = &r.v[i];
		if (it->skip)
			continue;
		int gi = -1;
		for (size_t j = 0; j < i; j++)
			if (!r.v[j].skip && !strcmp(r.v[j].ipt, it->ipt)) {
				gi = r.v[j].group;
				goto have;
			}
		struct contact_result res;
		vg_err_clear(&err);
		if (contact_lookup(cc, &it->ip, 0, (int64_t)time(NULL), &res, &err) < 0 || !res.email[0]) {
			say(stderr, "vigia notify: %s: no abuse contact found%s%s", it->ipt,
			    err.code ? ": " : "", err.code ? err.msg : "");
			nocontact++;
			gi = -1;
			goto have;
		}
		if (!quiet)
			say(stdout, "contact %s %s via %s (%s)", it->ipt, res.email, res.via, res.server);
		for (size_t k = 0; k < r.ng; k++)
			if (!strcasecmp(r.g[k].r.email, res.email))
				gi = (int)k;
		if (gi < 0) {
			struct group *ng = realloc(r.g, (r.ng + 1) * sizeof *ng);
			if (!ng)
				goto done;
			r.g = ng;
			memset(&r.g[r.ng], 0, sizeof r.g[r.ng]);
			r.g[r.ng].r = res;
			gi = (int)r.ng++;
		}
	have:
		it->group = gi;
		if (gi < 0)
			continue;
		struct group *g = &r.g[gi];
		size_t *nv = realloc(g->items, (g->n + 1) * sizeof *nv);
		if (!nv)
			goto done;
		g->items = nv;
		g->items[g->n++] = i;
	}
	const char *gdir = cfg->notify.guidance ? cfg->notify.guidance : VIGIA_GUIDANCE_DIR;
	bool need_pgp = false;
	for (size_t k = 0; k < r.ng; k++)
		need_pgp |= r.g[k].r.key[0] != 0;
	if (need_pgp && !dry) {
		if (!cfg->mail.keyring || !cfg->mail.sign_key) {
			say(stderr, "vigia notify: %s: contacts with keys need 'keyring' and 'sign-key' in the mail block", cpath);
			goto done;
		}
		if (mail_pgp_open(cfg->mail.keyring, cfg->mail.sign_key, &pgp, &err) < 0) {
			say(stderr, "vigia notify: %s", err.msg);
			goto done;
		}
	}
	struct mail_smtp smtp = {0};
	if (!dry && !outbox) {
		if (cfg->mail.smtp_password_file &&
		    !(password = cli_read_password(cfg->mail.smtp_password_file, &err))) {
			say(stderr, "vigia notify: %s", err.msg);
			goto done;
		}
		smtp = (struct mail_smtp){.url = cfg->mail.smtp, .starttls = cfg->mail.starttls,
			.user = cfg->mail.smtp_user, .password = password,
			.ca_file = cfg->mail.ca_file, .timeout = cfg->mail.timeout};
	}
	if (outbox && !dry && mail_maildir_init(outbox, &err) < 0) {
		say(stderr, "vigia notify: %s", err.msg);
		goto done;
	}
	for (size_t k = 0; k < r.ng; k++) {
		struct group *g = &r.g[k];
		struct vg_buf text = {0};
		vg_err_clear(&err);
		if (build_text(&r, g, gdir, &text, &err) < 0) {
			say(stderr, "vigia notify: %s: NOT sent: %s", g->r.email, err.msg);
			free(text.p);
			failed++;
			continue;
		}
		/* the last line of defence: the whole text through the sanitizer */
		char *clean = NULL;
		size_t clen = 0;
		if (sanitize_text(san, text.p, text.n, &clean, &clen, NULL) < 0) {
			free(text.p);
			failed++;
			continue;
		}
		free(text.p);
		if (dry) {
			if (!quiet)
				say(stdout, "would-send %s (%zu incidents, %zu bytes)", g->r.email, g->n, clen);
			free(clean);
			sent++;
			continue;
		}
		char msgid[256], date[64], subject[160], dstr[16];
		time_t dt = (time_t)day;
		struct tm tm;
		gmtime_r(&dt, &tm);
		strftime(dstr, sizeof dstr, "%Y-%m-%d", &tm);
		snprintf(subject, sizeof subject,
			 "[vigia] Incidentes de seguranca / Security incidents: %s", dstr);
		mail_date(time(NULL), date, sizeof date);
		if (mail_message_id(cfg->mail.from, msgid, sizeof msgid) < 0) {
			free(clean);
			failed++;
			continue;
		}
		struct mail_headers h = {cfg->mail.from, g->r.email, subject, msgid, date};
		char *msg = NULL;
		size_t mlen = 0;
		int rc;
		if (g->r.key[0]) {
			char *html = html_pre(clean), *inner = NULL, *arm = NULL;
			size_t ilen = 0, alen = 0;
			rc = html ? mail_mime_alternative(clean, clen, html, strlen(html), &inner, &ilen)
				  : -ENOMEM;
			if (rc == 0 && (rc = mail_pgp_check_recipient(pgp, g->r.key, &err)) == 0 &&
			    (rc = mail_pgp_sign_encrypt(pgp, g->r.key, inner, ilen, &arm, &alen, &err)) == 0)
				rc = mail_mime_encrypted(&h, arm, alen, &msg, &mlen);
			free(html);
			free(inner);
			free(arm);
		} else {
			rc = plain_message(&cfg->mail, &h, clean, clen, &msg, &mlen, &err);
		}
		free(clean);
		if (rc < 0) {
			say(stderr, "vigia notify: %s: NOT sent: %s", g->r.email,
			    err.code ? err.msg : strerror(-rc));
			free(msg);
			failed++;
			continue;
		}
		if (outbox) {
			char name[512];
			rc = mail_maildir_write(outbox, msg, mlen, name, sizeof name, &err);
		} else {
			unsigned tries = cfg->mail.retries ? cfg->mail.retries : 1;
			for (unsigned t = 0; t < tries; t++) {
				if (t)
					sleep(t > 5 ? 5 : t);
				vg_err_clear(&err);
				rc = mail_smtp_send(&smtp, cfg->mail.from, g->r.email, msg, mlen, &err);
				if (rc != -EAGAIN)
					break;
			}
		}
		free(msg);
		if (rc < 0) {
			say(stderr, "vigia notify: %s: NOT sent: %s", g->r.email, err.msg);
			failed++;
			continue;
		}
		/* recorded once delivered: a crash in between repeats a notice,
		 * never loses one */
		int64_t now = (int64_t)time(NULL);
		for (size_t i = 0; i < g->n; i++) {
			const struct item *it = &r.v[g->items[i]];
			bool first = true;   /* one row per (source, category) */
			for (size_t j = 0; j < i; j++) {
				const struct item *o2 = &r.v[g->items[j]];
				if (!strcmp(o2->ipt, it->ipt) && !strcmp(o2->category, it->category))
					first = false;
			}
			if (!first)
				continue;
			struct db_notification n = {
				.day = day, .ip = it->ipt, .category = it->category,
				.count = cat_count(&r, it), .contact = g->r.email, .via = g->r.via,
				.message_id = msgid, .sent_at = now,
				.delivery = outbox ? "outbox" : "smtp",
			};
			if (db_notification_add(db, &n, &err) < 0)
				say(stderr, "vigia notify: %s: sent as %s but not recorded: %s",
				    g->r.email, msgid, err.msg);
		}
		if (!quiet)
			say(stdout, "sent %s %s (%zu incidents)", g->r.email, msgid, g->n);
		sent++;
	}
	if (!quiet)
		say(stderr, "vigia notify: %s: %zu national incidents, %u messages %s, %u already notified, "
		    "%u sources without contact, %u failed, %u registry queries", dayarg, r.n, sent,
		    dry ? "would be sent" : "sent", quiet_skipped, nocontact, failed, contact_queries(cc));
	ret = failed ? VG_EXIT_BADINPUT : VG_EXIT_OK;
done:
	run_free(&r);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	mail_pgp_close(pgp);
	contact_ctx_free(cc);
	if (curl_up)
		mail_smtp_global_cleanup();
	geo_db_free(geo);
	db_close(db);
	sanitizer_free(san);
	cfg_central_free(cfg);
	return ret;
}
