/* vigia watch: early warning (issue 9).  Run after each collect + ingest.
 *
 * Reads the per-bin series that ingest recorded (ew_bin), runs the
 * detector (ew-detect.h) on every key over the bins not yet watched, and
 * reports each alert and each end as one JSON line (--alerts FILE), a
 * syslog message and, with --mail, an OpenPGP-signed and encrypted mail to
 * every member through the summary's path (mail-pgp.h, mail-mime.h): never
 * in clear.  Alert state lives in the database (ew_alert), so an alert is
 * raised once while its condition holds, and its end is reported once.
 * See docs/early-warning.md. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cfg-central.h"
#include "commands.h"
#include "db.h"
#include "ew-detect.h"
#include "ew-ingest.h"
#include "ew-sketch.h"
#include "mail-maildir.h"
#include "mail-mime.h"
#include "mail-pgp.h"
#include "mail-smtp.h"
#include "sanitize.h"
#include "util-cidr.h"
#include "util-json.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vigia watch --db FILE [options]\n"
		"\n"
		"Decides, for every port, signature or incident, country, source network and\n"
		"holder ASN, whether something new is happening in the bins ingested since\n"
		"the last run: a port or signature never seen in N days hit by K sources,\n"
		"growth of distinct sources over the seasonal baseline, or a rise on several\n"
		"sensors at once.  Each alert and each end is one JSON line and a syslog\n"
		"message; --mail also sends it to the members, signed and encrypted.\n"
		"\n"
		"  --db FILE         database (default: the config's)\n"
		"  --config FILE     central configuration: honeypot networks never appear in\n"
		"                    an alert; members and keys for --mail\n"
		"  --alerts FILE     append the JSON lines here (default: standard output)\n"
		"  --base-url URL    statistics site, for each alert's link to its day page\n"
		"                    (default https://stats.invalid)\n"
		"  --mail            mail each alert to the members (needs --config)\n"
		"  --outbox DIR      with --mail: write a Maildir instead of sending\n"
		"  --no-syslog       no syslog messages\n"
		"  --catch-up HOURS  on the first run, watch at most this far back (24)\n"
		"  --min-sources K   sources that make a new key an alert (5)\n"
		"  --new-days N      days a key must have been absent to be new (30)\n"
		"  --baseline-days D previous days in the baseline (7)\n"
		"\n"
		"Exit status: 0 watched (alerts or not), 1 usage, 3 fatal.\n");
}

/* Keys: a signature or incident name is the longest (ew-ingest.h). */
#define KEY_MAX (EW_SIG_NAME_MAX + 1)

struct opts {
	const char *db, *config, *alerts, *base_url, *outbox;
	bool mail, syslog;
	double catch_up_h;
	unsigned min_sources, new_days, base_days;
};

/* One event to report, after the transaction that records it commits. */
struct event {
	enum ew_event_type type;
	int64_t id;
	char kind[16], key[KEY_MAX], conds[32];
	int64_t began, at, raised;
	double sources, packets, sensors, baseline, factor, peak;
	char nets[DB_EW_NETS_MAX * 48];
};

struct stored {
	struct db_ew_alert a;
	char kind[16], key[KEY_MAX], conds[32], nets[DB_EW_NETS_MAX * 48];
	bool seen;
};

struct watch {
	const struct opts *o;
	struct db *db;
	const struct cidr_set *honeynets;
	struct ew_params p;
	int64_t bin, t0, from_t, data_first;
	size_t n, from;
	/* the key being gathered */
	char kind[16], key[KEY_MAX];
	bool have_key;
	double *src, *pkt, *sens;
	char (*nets)[DB_EW_NETS_MAX * 48];
	struct stored *st;
	size_t nst, capst;
	struct event *ev;
	size_t nev, capev;
	struct vg_err err;
	int r;
};

static int64_t idx_time(const struct watch *w, int64_t i)
{
	return w->t0 + i * w->bin;
}

/* Networks that overlap a honeypot network are dropped: an alert names
 * attackers' networks, never the honeypots'. */
static void clean_nets(const struct watch *w, const char *in, char *out, size_t len)
{
	size_t o = 0;
	out[0] = 0;
	const char *p = in;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t tl = e ? (size_t)(e - p) : strlen(p);
		char tok[64];
		if (tl < sizeof tok) {
			memcpy(tok, p, tl);
			tok[tl] = 0;
			struct cidr c;
			struct vg_err ign = {0};
			bool keep = cidr_parse(tok, &c, &ign) == 0;
			for (size_t i = 0; keep && w->honeynets && i < w->honeynets->n; i++) {
				const struct cidr *h = &w->honeynets->v[i];
				if (cidr_contains(&c, &h->net) || cidr_contains(h, &c.net))
					keep = false;
			}
			if (keep && o + tl + 2 < len) {
				if (o)
					out[o++] = ',';
				memcpy(out + o, tok, tl + 1);
				o += tl;
			}
		}
		p += tl + (e ? 1 : 0);
	}
}

static struct stored *find_stored(struct watch *w, const char *kind, const char *key)
{
	for (size_t i = 0; i < w->nst; i++)
		if (!strcmp(w->st[i].kind, kind) && !strcmp(w->st[i].key, key))
			return &w->st[i];
	return NULL;
}

static int load_alert(const struct db_ew_alert *a, void *ctx)
{
	struct watch *w = ctx;
	if (w->nst == w->capst) {
		size_t cap = w->capst ? w->capst * 2 : 16;
		struct stored *nv = realloc(w->st, cap * sizeof *nv);
		if (!nv)
			return vg_err_set(&w->err, -ENOMEM, "out of memory");
		w->st = nv;
		w->capst = cap;
	}
	struct stored *s = &w->st[w->nst++];
	memset(s, 0, sizeof *s);
	s->a = *a;
	snprintf(s->kind, sizeof s->kind, "%s", a->kind);
	snprintf(s->key, sizeof s->key, "%s", a->key);
	snprintf(s->conds, sizeof s->conds, "%s", a->conds);
	snprintf(s->nets, sizeof s->nets, "%s", a->nets);
	s->a.kind = s->kind;
	s->a.key = s->key;
	s->a.conds = s->conds;
	s->a.nets = s->nets;
	return 0;
}

struct key_run {
	struct watch *w;
	struct stored *st;
};

static int on_event(enum ew_event_type type, const struct ew_alert *a, size_t t, void *ctx)
{
	struct key_run *kr = ctx;
	struct watch *w = kr->w;
	if (w->nev == w->capev) {
		size_t cap = w->capev ? w->capev * 2 : 16;
		struct event *nv = realloc(w->ev, cap * sizeof *nv);
		if (!nv)
			return vg_err_set(&w->err, -ENOMEM, "out of memory");
		w->ev = nv;
		w->capev = cap;
	}
	struct event *e = &w->ev[w->nev++];
	memset(e, 0, sizeof *e);
	e->type = type;
	snprintf(e->kind, sizeof e->kind, "%s", w->kind);
	snprintf(e->key, sizeof e->key, "%s", w->key);
	ew_conds_text(a->conds, e->conds, sizeof e->conds);
	e->began = idx_time(w, a->began);
	e->raised = idx_time(w, a->raised);
	e->at = idx_time(w, (int64_t)t);
	e->sources = a->sources;
	e->packets = a->packets;
	e->sensors = a->sensors;
	e->baseline = a->baseline;
	e->factor = a->factor;
	e->peak = a->peak_sources;
	if (type == EW_EV_RAISE) {
		/* The first networks of the rise: from its first bin on. */
		char all[DB_EW_NETS_MAX * 48 * 2] = "";
		for (int64_t i = a->began < 0 ? 0 : a->began; i <= (int64_t)t && i < (int64_t)w->n;
		     i++) {
			if (!w->nets[i][0])
				continue;
			size_t l = strlen(all);
			snprintf(all + l, sizeof all - l, "%s%s", l ? "," : "", w->nets[i]);
			if (strlen(all) > DB_EW_NETS_MAX * 40)
				break;
		}
		char cleaned[sizeof all];
		clean_nets(w, all, cleaned, sizeof cleaned);
		/* Keep the first DB_EW_NETS_MAX distinct. */
		size_t o = 0, cnt = 0;
		const char *p = cleaned;
		while (*p && cnt < DB_EW_NETS_MAX) {
			const char *c = strchr(p, ',');
			size_t tl = c ? (size_t)(c - p) : strlen(p);
			char tok[64];
			if (tl < sizeof tok) {
				memcpy(tok, p, tl);
				tok[tl] = 0;
				if (!strstr(e->nets, tok) && o + tl + 2 < sizeof e->nets) {
					o += (size_t)snprintf(e->nets + o, sizeof e->nets - o, "%s%s",
							      o ? "," : "", tok);
					cnt++;
				}
			}
			p += tl + (c ? 1 : 0);
		}
	}
	return 0;
}

/* The stored alert of the key into the detector's indexes, and back. */
static void alert_from_db(const struct watch *w, const struct stored *s, struct ew_alert *a)
{
	memset(a, 0, sizeof *a);
	if (!s)
		return;
	a->active = true;
	a->conds = ew_conds_parse(s->a.conds);
	a->began = (s->a.began - w->t0) / w->bin;
	a->raised = (s->a.raised - w->t0) / w->bin;
	a->calm = s->a.calm;
	a->sources = s->a.sources;
	a->packets = s->a.packets;
	a->sensors = s->a.sensors;
	a->baseline = s->a.baseline;
	a->factor = s->a.factor;
	a->peak_sources = s->a.peak;
}

static int run_key(struct watch *w)
{
	struct stored *st = find_stored(w, w->kind, w->key);
	if (st)
		st->seen = true;
	struct ew_alert a;
	alert_from_db(w, st, &a);
	int kind = ew_kind_parse(w->kind);
	struct ew_series s = {
		.n = w->n, .src = w->src, .pkt = w->pkt, .sens = w->sens,
		.prev_seen = EW_NEVER,
		.data_start = (w->data_first - w->t0) / w->bin,
		.new_capable = kind == EW_PORT || kind == EW_SIG,
	};
	if (!ew_worth_running(&w->p, &s, w->from, &a))
		return 0;
	if (s.new_capable) {
		int64_t last;
		int r = db_ew_last_seen(w->db, w->kind, w->key,
					w->t0 - (int64_t)w->p.new_days * 86400, w->t0, &last, &w->err);
		if (r < 0)
			return r;
		if (r == 1)
			s.prev_seen = (last - w->t0) / w->bin;
	}
	size_t nev0 = w->nev;
	struct key_run kr = {w, st};
	int r = ew_run(&w->p, &s, w->from, &a, on_event, &kr);
	if (r)
		return r;
	/* Record the state: a raise inserts the alert, an end closes it. */
	int64_t cur_id = st ? st->a.id : 0;
	const char *cur_nets = st ? st->nets : "";
	for (size_t i = nev0; i < w->nev; i++) {
		struct event *e = &w->ev[i];
		if (e->type == EW_EV_END)
			snprintf(e->nets, sizeof e->nets, "%s", cur_nets);
		struct db_ew_alert row = {
			.id = e->type == EW_EV_END ? cur_id : 0,
			.kind = e->kind, .key = e->key, .conds = e->conds,
			.began = e->began, .raised = e->raised,
			.ended = e->type == EW_EV_END ? e->at : 0,
			.sources = e->sources, .packets = e->packets, .sensors = e->sensors,
			.baseline = e->baseline, .factor = e->factor, .peak = e->peak,
			.nets = e->nets,
		};
		if ((r = db_ew_alert_put(w->db, &row, &w->err)))
			return r;
		e->id = row.id;
		cur_id = e->type == EW_EV_RAISE ? row.id : 0;
		cur_nets = e->nets;
	}
	if (a.active && cur_id) {
		/* Still active: its calm count and conditions carry to the next run. */
		char conds[32];
		ew_conds_text(a.conds, conds, sizeof conds);
		struct db_ew_alert row = {
			.id = cur_id, .kind = w->kind, .key = w->key, .conds = conds,
			.began = idx_time(w, a.began), .raised = idx_time(w, a.raised),
			.calm = a.calm, .sources = a.sources, .packets = a.packets,
			.sensors = a.sensors, .baseline = a.baseline, .factor = a.factor,
			.peak = a.peak_sources, .nets = cur_nets,
		};
		if ((r = db_ew_alert_put(w->db, &row, &w->err)))
			return r;
	}
	return 0;
}

static void clear_series(struct watch *w)
{
	for (size_t i = 0; i < w->n; i++) {
		w->src[i] = w->pkt[i] = w->sens[i] = 0;
		w->nets[i][0] = 0;
	}
}

static int on_row(const struct db_ew_bin *b, void *ctx)
{
	struct watch *w = ctx;
	if (!w->have_key || strcmp(w->kind, b->kind) || strcmp(w->key, b->key)) {
		if (w->have_key) {
			int r = run_key(w);
			if (r)
				return r;
		}
		snprintf(w->kind, sizeof w->kind, "%s", b->kind);
		snprintf(w->key, sizeof w->key, "%s", b->key);
		w->have_key = true;
		clear_series(w);
	}
	int64_t i = (b->start - w->t0) / w->bin;
	if (i < 0 || i >= (int64_t)w->n)
		return 0;
	struct ew_sketch sk;
	if (ew_sketch_decode(&sk, b->sketch, b->sketch_len))
		return vg_err_set(&w->err, -EINVAL, "the database's early-warning row %s %s at %"
				  PRId64 " has a damaged sketch", b->kind, b->key, b->start);
	uint32_t *ids = NULL;
	size_t nids = 0;
	if (db_set_decode(b->sensors, b->sensors_len, &ids, &nids) < 0)
		return vg_err_set(&w->err, -EINVAL, "the database's early-warning row %s %s at %"
				  PRId64 " has a damaged sensor set", b->kind, b->key, b->start);
	free(ids);
	w->src[i] = ew_sketch_count(&sk);
	w->pkt[i] = (double)b->packets;
	w->sens[i] = (double)nids;
	snprintf(w->nets[i], sizeof w->nets[i], "%s", b->nets);
	return 0;
}

static void fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "port:1434/udp", "sig:Slammer", "asn:AS28573": the key as people read it
 * in the mail and syslog text.  A name comes from a rules file: control
 * characters are shown as '?' so that one cannot break a syslog line. */
static void key_label(const struct event *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%s", e->kind, e->key);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* The JSON line of an event (docs/early-warning.md: stable fields). */
static int event_json(const struct watch *w, const struct event *e, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);
	if (!f)
		return -ENOMEM;
	struct json_w j;
	json_init(&j, f, false);
	char tb[32], day[16];
	json_obj_begin(&j);
	json_key(&j, "event");
	json_str(&j, e->type == EW_EV_RAISE ? "alert" : "end");
	json_key(&j, "id");
	json_i64(&j, e->id);
	json_key(&j, "kind");
	json_str(&j, e->kind);
	json_key(&j, "key");
	json_str(&j, e->key);
	char label[16 + KEY_MAX];
	key_label(e, label, sizeof label);
	json_key(&j, "label");
	json_str(&j, label);
	json_key(&j, "conditions");
	json_arr_begin(&j);
	static const char *const cn[] = {"new", "growth", "spread"};
	unsigned c = ew_conds_parse(e->conds);
	for (unsigned i = 0; i < 3; i++)
		if (c & (1u << i))
			json_str(&j, cn[i]);
	json_arr_end(&j);
	fmt_time(e->began, tb, sizeof tb);
	json_key(&j, "began");
	json_str(&j, tb);
	fmt_time(e->raised, tb, sizeof tb);
	json_key(&j, "raised_bin");
	json_str(&j, tb);
	if (e->type == EW_EV_END) {
		fmt_time(e->at, tb, sizeof tb);
		json_key(&j, "ended_bin");
		json_str(&j, tb);
	}
	json_key(&j, "bin_seconds");
	json_i64(&j, w->bin);
	json_key(&j, "sources");
	json_u64(&j, (uint64_t)llround(e->sources));
	json_key(&j, "packets");
	json_u64(&j, (uint64_t)llround(e->packets));
	json_key(&j, "sensors");
	json_u64(&j, (uint64_t)llround(e->sensors));
	json_key(&j, "baseline");
	json_double(&j, e->baseline);
	json_key(&j, "factor");
	json_double(&j, round(e->factor * 100) / 100);
	if (e->type == EW_EV_END) {
		json_key(&j, "peak_sources");
		json_u64(&j, (uint64_t)llround(e->peak));
	}
	json_key(&j, "networks");
	json_arr_begin(&j);
	const char *p = e->nets;
	while (*p) {
		const char *q = strchr(p, ',');
		size_t tl = q ? (size_t)(q - p) : strlen(p);
		json_strn(&j, p, tl);
		p += tl + (q ? 1 : 0);
	}
	json_arr_end(&j);
	time_t bt = (time_t)e->began;
	struct tm tm;
	gmtime_r(&bt, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	char link[1024];
	const char *base = w->o->base_url;
	size_t bl = strlen(base);
	snprintf(link, sizeof link, "%.*s/day/%s/", (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl),
		 base, day);
	json_key(&j, "link");
	json_str(&j, link);
	json_obj_end(&j);
	int r = json_finish(&j);
	if (fclose(f) || r)
		return -EIO;
	return 0;
}

static void event_text(const struct watch *w, const struct event *e, char *buf, size_t len)
{
	char tb[32], label[16 + KEY_MAX];
	fmt_time(e->type == EW_EV_RAISE ? e->began : e->at, tb, sizeof tb);
	key_label(e, label, sizeof label);
	if (e->type == EW_EV_RAISE)
		snprintf(buf, len, "vigia early warning: %s (%s) rising since %s: %.0f sources"
			 " (%.1fx baseline %.1f) on %.0f sensors; first networks %s",
			 label, e->conds, tb, e->sources, e->factor, e->baseline,
			 e->sensors, e->nets[0] ? e->nets : "none");
	else
		snprintf(buf, len, "vigia early warning: %s ended at %s (peak %.0f sources)",
			 label, tb, e->peak);
	(void)w;
}

/* The HTML part of the alert mail: the same text, preformatted. */
static char *html_of(const char *text, size_t *len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, len);
	if (!f)
		return NULL;
	fputs("<html><body><pre>", f);
	for (const char *p = text; *p; p++) {
		if (*p == '<')
			fputs("&lt;", f);
		else if (*p == '>')
			fputs("&gt;", f);
		else if (*p == '&')
			fputs("&amp;", f);
		else
			fputc(*p, f);
	}
	fputs("</pre></body></html>\n", f);
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}

/* --mail: each event to every member, signed and encrypted like the summary. */
static int mail_events(const struct watch *w, const struct cfg_central *c,
		       const struct sanitizer *san, char **lines, size_t nlines)
{
	struct vg_err err = {0};
	struct mail_pgp *pgp = NULL;
	if (mail_pgp_open(c->mail.keyring, c->mail.sign_key, &pgp, &err) < 0) {
		fprintf(stderr, "vigia watch: no alert mailed: %s\n", err.msg);
		return -1;
	}
	if (w->o->outbox && mail_maildir_init(w->o->outbox, &err) < 0) {
		fprintf(stderr, "vigia watch: no alert mailed: %s\n", err.msg);
		mail_pgp_close(pgp);
		return -1;
	}
	if (!w->o->outbox && mail_smtp_global_init() < 0) {
		fprintf(stderr, "vigia watch: no alert mailed: cannot start libcurl\n");
		mail_pgp_close(pgp);
		return -1;
	}
	struct mail_smtp smtp = {
		.url = c->mail.smtp, .starttls = c->mail.starttls, .user = c->mail.smtp_user,
		.ca_file = c->mail.ca_file, .timeout = c->mail.timeout,
	};
	int failed = 0;
	for (size_t i = 0; i < w->nev; i++) {
		char text[2048], *safe = NULL, *inner = NULL;
		size_t slen = 0, ilen = 0;
		event_text(w, &w->ev[i], text, sizeof text);
		size_t tl = strlen(text);
		snprintf(text + tl, sizeof text - tl, "\n\n%s", lines[i] ? lines[i] : "");
		char *html = NULL;
		size_t hlen = 0;
		if (sanitize_text(san, text, strlen(text), &safe, &slen, NULL) < 0 ||
		    !(html = html_of(safe, &hlen)) ||
		    mail_mime_alternative(safe, slen, html, hlen, &inner, &ilen) < 0) {
			free(safe);
			free(html);
			failed++;
			continue;
		}
		free(html);
		/* The subject travels in clear: it names no key. */
		const char *subject = w->ev[i].type == EW_EV_RAISE ? "[vigia] early-warning alert"
								   : "[vigia] early-warning end";
		for (size_t m = 0; m < c->nmembers; m++) {
			const struct cfg_member *mb = &c->members[m];
			char *arm = NULL, *msg = NULL;
			size_t alen = 0, mlen = 0;
			char msgid[256], date[64];
			vg_err_clear(&err);
			if (mail_pgp_sign_encrypt(pgp, mb->key, inner, ilen, &arm, &alen, &err) < 0) {
				fprintf(stderr, "vigia watch: %s: alert NOT sent: %s\n", mb->name,
					err.msg);
				failed++;
				continue;
			}
			mail_date(time(NULL), date, sizeof date);
			struct mail_headers h = {c->mail.from, mb->address, subject, msgid, date};
			if (mail_message_id(c->mail.from, msgid, sizeof msgid) < 0 ||
			    mail_mime_encrypted(&h, arm, alen, &msg, &mlen) < 0) {
				free(arm);
				failed++;
				continue;
			}
			free(arm);
			int r;
			if (w->o->outbox) {
				char name[512];
				r = mail_maildir_write(w->o->outbox, msg, mlen, name, sizeof name, &err);
			} else {
				r = mail_smtp_send(&smtp, c->mail.from, mb->address, msg, mlen, &err);
			}
			free(msg);
			if (r < 0) {
				fprintf(stderr, "vigia watch: %s: alert NOT sent: %s\n", mb->name,
					err.msg);
				failed++;
			}
		}
		free(safe);
		free(inner);
	}
	if (!w->o->outbox)
		mail_smtp_global_cleanup();
	mail_pgp_close(pgp);
	return failed ? -1 : 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"db", required_argument, NULL, 'd'},
		{"config", required_argument, NULL, 'c'},
		{"alerts", required_argument, NULL, 'a'},
		{"base-url", required_argument, NULL, 'u'},
		{"mail", no_argument, NULL, 'm'},
		{"outbox", required_argument, NULL, 'o'},
		{"no-syslog", no_argument, NULL, 'S'},
		{"catch-up", required_argument, NULL, 'C'},
		{"min-sources", required_argument, NULL, 'k'},
		{"new-days", required_argument, NULL, 'n'},
		{"baseline-days", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	*o = (struct opts){.base_url = "https://stats.invalid", .syslog = true, .catch_up_h = 24,
			   .min_sources = 5, .new_days = 30, .base_days = 7};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case 'd': o->db = optarg; break;
		case 'c': o->config = optarg; break;
		case 'a': o->alerts = optarg; break;
		case 'u': o->base_url = optarg; break;
		case 'm': o->mail = true; break;
		case 'o': o->outbox = optarg; break;
		case 'S': o->syslog = false; break;
		case 'C':
			o->catch_up_h = strtod(optarg, &end);
			if (*end || o->catch_up_h <= 0)
				goto bad;
			break;
		case 'k': case 'n': case 'D': {
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || !v || v > 366)
				goto bad;
			if (c == 'k')
				o->min_sources = (unsigned)v;
			else if (c == 'n')
				o->new_days = (unsigned)v;
			else
				o->base_days = (unsigned)v;
			break;
		}
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
		continue;
bad:
		fprintf(stderr, "vigia watch: invalid value '%s'\n", optarg);
		return -1;
	}
	if (optind < argc) {
		usage(stderr);
		return -1;
	}
	if (o->mail && !o->config) {
		fprintf(stderr, "vigia watch: --mail needs --config (the members and keys)\n");
		return -1;
	}
	return 0;
}

int cmd_watch(int argc, char **argv)
{
	struct opts o;
	int pr = parse_opts(argc, argv, &o);
	if (pr)
		return pr > 0 ? VG_EXIT_OK : VG_EXIT_USAGE;
	struct vg_err err = {0};
	struct cfg_central *c = NULL;
	struct sanitizer *san = NULL;
	struct cidr_set honeynets = {0};
	struct watch w = {.o = &o};
	int ret = VG_EXIT_FATAL;
	FILE *out = NULL;
	char **lines = NULL;
	if (o.config) {
		if (cfg_central_load(o.config, &c, &err) < 0 || sanitizer_new(c, &san, &err) < 0) {
			fprintf(stderr, "vigia watch: %s\n", err.msg);
			goto done;
		}
		if (cfg_central_honeynets(c, &honeynets) < 0) {
			fprintf(stderr, "vigia watch: out of memory\n");
			goto done;
		}
		w.honeynets = &honeynets;
	}
	const char *dbpath = o.db ? o.db : c ? c->database : NULL;
	if (!dbpath) {
		fprintf(stderr, "vigia watch: no database: give --db or --config\n");
		ret = VG_EXIT_USAGE;
		goto done;
	}
	if (db_open(&w.db, dbpath, &err) < 0) {
		fprintf(stderr, "vigia watch: %s\n", err.msg);
		goto done;
	}
	char buf[64];
	int r = db_meta_get(w.db, "bin_seconds", buf, sizeof buf, &err);
	if (r < 0) {
		fprintf(stderr, "vigia watch: %s\n", err.msg);
		goto done;
	}
	w.bin = r == 1 ? strtoll(buf, NULL, 10) : 300;
	if (w.bin <= 0 || w.bin > 86400) {
		fprintf(stderr, "vigia watch: %s: bin_seconds '%s' is invalid\n", dbpath, buf);
		goto done;
	}
	ew_params_default(&w.p, (unsigned)w.bin);
	w.p.min_sources = o.min_sources;
	w.p.new_days = o.new_days;
	w.p.base_days = o.base_days;

	int64_t first, last;
	if ((r = db_ew_span(w.db, &first, &last, &err)) < 0) {
		fprintf(stderr, "vigia watch: %s\n", err.msg);
		goto done;
	}
	if (r == 0) {
		ret = VG_EXIT_OK;       /* nothing ingested yet */
		goto done;
	}
	w.data_first = first;
	int64_t done_bin = first - w.bin;
	if ((r = db_meta_get(w.db, "ew_last_bin", buf, sizeof buf, &err)) < 0) {
		fprintf(stderr, "vigia watch: %s\n", err.msg);
		goto done;
	}
	if (r == 1)
		done_bin = strtoll(buf, NULL, 10);
	else if (last - (int64_t)(o.catch_up_h * 3600) > done_bin)
		done_bin = last - (int64_t)(o.catch_up_h * 3600);
	w.from_t = done_bin + w.bin;
	if (w.from_t > last) {
		ret = VG_EXIT_OK;       /* every bin already watched */
		goto done;
	}
	int64_t back = (int64_t)w.p.base_days * 86400;
	if ((int64_t)w.p.new_grace * w.bin > back)
		back = (int64_t)w.p.new_grace * w.bin;
	w.t0 = w.from_t - back - (int64_t)(w.p.warm + w.p.halfwin) * w.bin;
	w.n = (size_t)((last - w.t0) / w.bin + 1);
	w.from = (size_t)((w.from_t - w.t0) / w.bin);
	w.src = calloc(w.n, sizeof *w.src);
	w.pkt = calloc(w.n, sizeof *w.pkt);
	w.sens = calloc(w.n, sizeof *w.sens);
	w.nets = calloc(w.n, sizeof *w.nets);
	if (!w.src || !w.pkt || !w.sens || !w.nets) {
		fprintf(stderr, "vigia watch: out of memory\n");
		goto done;
	}

	if ((r = db_begin(w.db, &err))) {
		fprintf(stderr, "vigia watch: %s\n", err.msg);
		goto done;
	}
	r = db_ew_alerts_active(w.db, load_alert, &w, &w.err);
	if (!r)
		r = db_ew_bins_foreach(w.db, w.t0, last + w.bin, on_row, &w, &w.err);
	if (!r && w.have_key)
		r = run_key(&w);
	/* Active alerts whose key has no row left in the window: all zeros. */
	for (size_t i = 0; !r && i < w.nst; i++) {
		if (w.st[i].seen)
			continue;
		snprintf(w.kind, sizeof w.kind, "%s", w.st[i].kind);
		snprintf(w.key, sizeof w.key, "%s", w.st[i].key);
		clear_series(&w);
		r = run_key(&w);
	}
	if (!r) {
		snprintf(buf, sizeof buf, "%" PRId64, last);
		r = db_meta_set(w.db, "ew_last_bin", buf, &w.err);
	}
	if (!r)
		r = db_commit(w.db, &w.err);
	if (r) {
		db_rollback(w.db);
		fprintf(stderr, "vigia watch: nothing recorded: %s\n",
			w.err.msg[0] ? w.err.msg : strerror(-r));
		goto done;
	}

	/* Report, in time order of the events. */
	out = o.alerts ? fopen(o.alerts, "ae") : stdout;
	if (!out) {
		fprintf(stderr, "vigia watch: %s: %s\n", o.alerts, strerror(errno));
		goto done;
	}
	lines = calloc(w.nev ? w.nev : 1, sizeof *lines);
	if (!lines) {
		fprintf(stderr, "vigia watch: out of memory\n");
		goto done;
	}
	if (o.syslog)
		openlog("vigia-watch", LOG_PID, LOG_DAEMON);
	int bad = 0;
	for (size_t i = 0; i < w.nev; i++) {
		char *line = NULL;
		size_t len = 0;
		if (event_json(&w, &w.ev[i], &line, &len) < 0) {
			free(line);
			bad++;
			continue;
		}
		if (san) {
			char *safe = NULL;
			if (sanitize_text(san, line, len, &safe, &len, NULL) < 0) {
				free(line);
				bad++;
				continue;
			}
			free(line);
			line = safe;
		}
		lines[i] = line;
		fwrite(line, 1, len, out);
		if (o.syslog) {
			char text[2048];
			event_text(&w, &w.ev[i], text, sizeof text);
			char *safe = NULL;
			if (san && sanitize_text(san, text, strlen(text), &safe, NULL, NULL) == 0) {
				syslog(w.ev[i].type == EW_EV_RAISE ? LOG_WARNING : LOG_NOTICE, "%s", safe);
				free(safe);
			} else if (!san) {
				syslog(w.ev[i].type == EW_EV_RAISE ? LOG_WARNING : LOG_NOTICE, "%s", text);
			}
		}
	}
	if (o.syslog)
		closelog();
	if (fflush(out) || bad) {
		fprintf(stderr, "vigia watch: %s: cannot write the alerts\n",
			o.alerts ? o.alerts : "standard output");
		goto done;
	}
	if (o.mail && w.nev && mail_events(&w, c, san, lines, w.nev) < 0)
		goto done;
	ret = VG_EXIT_OK;
done:
	if (lines)
		for (size_t i = 0; i < w.nev; i++)
			free(lines[i]);
	free(lines);
	if (out && out != stdout)
		fclose(out);
	free(w.src);
	free(w.pkt);
	free(w.sens);
	free(w.nets);
	free(w.st);
	free(w.ev);
	db_close(w.db);
	cidr_set_free(&honeynets);
	sanitizer_free(san);
	cfg_central_free(c);
	return ret;
}
