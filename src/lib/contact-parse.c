/* contact-parse.c: whois and RDAP answers -> abuse address (contact-parse.h).
 *
 * Whois has no grammar to hand to a library: it is "key: value" lines in
 * each registry's own dialect, so the reader is hand-written and bounded
 * by the length given.  RDAP is JSON, read with json-c. */
#include "contact-parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define JSON_DEPTH 32

bool contact_email_ok(const char *s, size_t len)
{
	if (len < 3 || len >= CONTACT_EMAIL_MAX || s[0] == '-' || s[0] == '@')
		return false;
	size_t at = 0, nat = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c >= 0x7f || strchr("<>\"(),;:[]\\'", c))
			return false;
		if (c == '@') {
			at = i;
			nat++;
		}
	}
	return nat == 1 && at > 0 && at + 1 < len && memchr(s + at, '.', len - at);
}

static size_t trim(const char **s, size_t len)
{
	while (len && isspace((unsigned char)**s)) {
		(*s)++;
		len--;
	}
	while (len && isspace((unsigned char)(*s)[len - 1]))
		len--;
	return len;
}

/* IPv4 with 1 to 4 decimal parts (leading zeros allowed; missing parts
 * zero, LACNIC's abbreviation), then IPv6 by inet_pton. */
int contact_parse_addr(const char *s, size_t len, struct vg_ip *out)
{
	len = trim(&s, len);
	const char *slash = memchr(s, '/', len);
	if (slash)
		len = (size_t)(slash - s);
	char buf[64];
	if (len == 0 || len >= sizeof buf)
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = 0;
	memset(out, 0, sizeof *out);
	if (strchr(buf, ':')) {
		if (inet_pton(AF_INET6, buf, out->a) != 1)
			return -EINVAL;
		out->v = 6;
		return 0;
	}
	unsigned part = 0, val = 0, digits = 0;
	for (size_t i = 0; i <= len; i++) {
		char c = buf[i];
		if (c >= '0' && c <= '9') {
			val = val * 10 + (unsigned)(c - '0');
			if (++digits > 3 || val > 255)
				return -EINVAL;
		} else if (c == '.' || c == 0) {
			if (!digits || part > 3)
				return -EINVAL;
			out->a[part++] = (uint8_t)val;
			val = digits = 0;
		} else {
			return -EINVAL;
		}
	}
	out->v = 4;
	return 0;
}

static int prefix_len(const char *s, size_t len, unsigned max)
{
	const char *slash = memchr(s, '/', len);
	if (!slash)
		return (int)max;
	unsigned v = 0, d = 0;
	for (const char *p = slash + 1; p < s + len && !isspace((unsigned char)*p) && *p != ','; p++) {
		if (!isdigit((unsigned char)*p) || ++d > 3)
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
	}
	return d && v <= max ? (int)v : -1;
}

/* "A - B" or "P/N" (with abbreviations) into [lo, hi]. */
static int parse_net(const char *s, size_t len, struct vg_ip *lo, struct vg_ip *hi)
{
	len = trim(&s, len);
	const char *comma = memchr(s, ',', len);   /* ARIN's "CIDR: a/n, b/m" */
	if (comma)
		len = (size_t)(comma - s);
	const char *dash = NULL;
	for (size_t i = 0; i + 2 < len; i++)
		if (s[i] == ' ' && s[i + 1] == '-' && s[i + 2] == ' ')
			dash = s + i;
	if (dash) {
		if (contact_parse_addr(s, (size_t)(dash - s), lo) ||
		    contact_parse_addr(dash + 3, len - (size_t)(dash + 3 - s), hi) || lo->v != hi->v)
			return -EINVAL;
		return memcmp(lo->a, hi->a, 16) <= 0 ? 0 : -EINVAL;
	}
	if (contact_parse_addr(s, len, lo))
		return -EINVAL;
	unsigned max = lo->v == 4 ? 32 : 128;
	int n = prefix_len(s, len, max);
	if (n < 0)
		return -EINVAL;
	*hi = *lo;
	for (unsigned b = (unsigned)n; b < max; b++) {
		lo->a[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
		hi->a[b / 8] |= (uint8_t)(0x80u >> (b % 8));
	}
	return 0;
}

static bool key_is(const char *k, size_t klen, const char *want)
{
	return strlen(want) == klen && !strncasecmp(k, want, klen);
}

static void set_email(char *dst, const char *v, size_t vlen)
{
	if (dst[0] || !contact_email_ok(v, vlen))
		return;
	memcpy(dst, v, vlen);
	dst[vlen] = 0;
}

/* The value of the first "key:" line inside the object (paragraph)
 * holding "nic-hdl: handle". */
static void handle_email(const char *text, size_t len, const char *h, size_t hlen, char *dst)
{
	const char *p = text, *end = text + len, *para = text;
	bool in = false;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *line = p;
		size_t ll = trim(&line, (size_t)(le - p));
		if (ll == 0) {
			if (in)
				return;
			para = nl ? nl + 1 : end;
		}
		const char *colon = ll ? memchr(line, ':', ll) : NULL;
		if (colon && !in && key_is(line, (size_t)(colon - line), "nic-hdl")) {
			const char *v = colon + 1;
			size_t vl = trim(&v, ll - (size_t)(colon + 1 - line));
			if (vl == hlen && !strncasecmp(v, h, hlen)) {
				in = true;
				p = para;   /* rescan the paragraph from its start */
				continue;
			}
		}
		if (colon && in) {
			size_t kl = (size_t)(colon - line);
			const char *v = colon + 1;
			size_t vl = trim(&v, ll - (size_t)(colon + 1 - line));
			if (key_is(line, kl, "abuse-mailbox") || key_is(line, kl, "e-mail"))
				set_email(dst, v, vl);
			if (dst[0])
				return;
		}
		p = nl ? nl + 1 : end;
	}
}

static void set_refer(struct contact_answer *o, const char *v, size_t vl)
{
	if (o->refer_host[0])
		return;
	if (vl > 9 && !strncasecmp(v, "whois://", 8)) {
		v += 8;
		vl -= 8;
	} else if (memchr(v, ':', vl) && memchr(v, '/', vl)) {
		return;   /* rwhois:// and other protocols are not whois */
	}
	while (vl && v[vl - 1] == '/')
		vl--;
	const char *colon = memchr(v, ':', vl);
	size_t hl = colon ? (size_t)(colon - v) : vl;
	if (!hl || hl >= CONTACT_HOST_MAX)
		return;
	for (size_t i = 0; i < hl; i++)
		if (!isalnum((unsigned char)v[i]) && v[i] != '.' && v[i] != '-')
			return;
	unsigned port = 0;
	if (colon) {
		for (const char *q = colon + 1; q < v + vl; q++) {
			if (!isdigit((unsigned char)*q) || (port = port * 10 + (unsigned)(*q - '0')) > 65535)
				return;
		}
		if (!port)
			return;
	}
	memcpy(o->refer_host, v, hl);
	o->refer_host[hl] = 0;
	o->refer_port = (uint16_t)port;
}

int contact_whois_parse(const char *text, size_t len, struct contact_answer *o)
{
	memset(o, 0, sizeof *o);
	char mailbox[CONTACT_EMAIL_MAX] = "", org[CONTACT_EMAIL_MAX] = "",
	     rabuse[CONTACT_EMAIL_MAX] = "", comment[CONTACT_EMAIL_MAX] = "";
	const char *abuse_c = NULL;
	size_t abuse_c_len = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *line = p;
		size_t ll = trim(&line, (size_t)(le - p));
		p = nl ? nl + 1 : end;
		if (ll > 20 && line[0] == '%' && !comment[0]) {
			/* "% Abuse contact for 'NET' is 'ADDR'" */
			static const char pre[] = "% Abuse contact for '";
			if (ll > sizeof pre && !strncasecmp(line, pre, sizeof pre - 1)) {
				const char *is = NULL;
				for (size_t i = sizeof pre - 1; !is && i + 6 <= ll; i++)
					if (!memcmp(line + i, "' is '", 6))
						is = line + i + 6;
				if (is && line[ll - 1] == '\'' && is < line + ll - 1)
					set_email(comment, is, (size_t)(line + ll - 1 - is));
			}
			continue;
		}
		if (!ll || line[0] == '%' || line[0] == '#')
			continue;
		const char *colon = memchr(line, ':', ll);
		if (!colon)
			continue;
		size_t kl = (size_t)(colon - line);
		const char *v = colon + 1;
		size_t vl = trim(&v, ll - kl - 1);
		if (!vl)
			continue;
		if (key_is(line, kl, "abuse-mailbox"))
			set_email(mailbox, v, vl);
		else if (key_is(line, kl, "OrgAbuseEmail"))
			set_email(org, v, vl);
		else if (key_is(line, kl, "RAbuseEmail"))
			set_email(rabuse, v, vl);
		else if (key_is(line, kl, "abuse-c") && !abuse_c) {
			abuse_c = v;
			abuse_c_len = vl;
		} else if (key_is(line, kl, "ReferralServer") || key_is(line, kl, "refer") ||
			   key_is(line, kl, "whois"))
			set_refer(o, v, vl);
		else if (!o->has_net && (key_is(line, kl, "inetnum") || key_is(line, kl, "inet6num") ||
					 key_is(line, kl, "NetRange") || key_is(line, kl, "CIDR")))
			o->has_net = parse_net(v, vl, &o->lo, &o->hi) == 0;
	}
	const char *pick = comment[0] ? comment : mailbox[0] ? mailbox : org[0] ? org : rabuse;
	if (pick[0]) {
		snprintf(o->email, sizeof o->email, "%s", pick);
	} else if (abuse_c) {
		handle_email(text, len, abuse_c, abuse_c_len, o->email);
	}
	return o->email[0] ? 1 : 0;
}

/* --- RDAP ------------------------------------------------------------------ */

static struct json_object *parse_json(const char *json, size_t len, const char *name,
				      struct vg_err *err, int *rc)
{
	*rc = 0;
	if (len > INT_MAX) {
		*rc = vg_err_set(err, -EINVAL, "%s: answer of %zu bytes is too large", name, len);
		return NULL;
	}
	struct json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
	if (!tok) {
		*rc = vg_err_set(err, -ENOMEM, "%s: out of memory", name);
		return NULL;
	}
	struct json_object *o = json_tokener_parse_ex(tok, json, (int)len);
	enum json_tokener_error je = json_tokener_get_error(tok);
	if (!o || je != json_tokener_success || !json_object_is_type(o, json_type_object)) {
		*rc = vg_err_set(err, -EINVAL, "%s: byte offset %zu: expected a JSON object (%s)",
				 name, json_tokener_get_parse_end(tok),
				 je == json_tokener_continue ? "unexpected end"
							     : json_tokener_error_desc(je));
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static bool has_role(struct json_object *ent, const char *role)
{
	struct json_object *roles;
	if (!json_object_object_get_ex(ent, "roles", &roles) ||
	    !json_object_is_type(roles, json_type_array))
		return false;
	size_t n = json_object_array_length(roles);
	for (size_t i = 0; i < n; i++) {
		const char *r = json_object_get_string(json_object_array_get_idx(roles, i));
		if (r && json_object_is_type(json_object_array_get_idx(roles, i), json_type_string) &&
		    !strcasecmp(r, role))
			return true;
	}
	return false;
}

/* vcardArray: ["vcard", [[name, params, type, value], ...]] */
static bool vcard_email(struct json_object *ent, char *dst)
{
	struct json_object *vc;
	if (!json_object_object_get_ex(ent, "vcardArray", &vc) ||
	    !json_object_is_type(vc, json_type_array) || json_object_array_length(vc) < 2)
		return false;
	struct json_object *props = json_object_array_get_idx(vc, 1);
	if (!json_object_is_type(props, json_type_array))
		return false;
	size_t n = json_object_array_length(props);
	for (size_t i = 0; i < n; i++) {
		struct json_object *pr = json_object_array_get_idx(props, i);
		if (!json_object_is_type(pr, json_type_array) || json_object_array_length(pr) < 4)
			continue;
		struct json_object *k = json_object_array_get_idx(pr, 0),
				   *v = json_object_array_get_idx(pr, 3);
		if (!json_object_is_type(k, json_type_string) ||
		    !json_object_is_type(v, json_type_string) ||
		    strcasecmp(json_object_get_string(k), "email"))
			continue;
		const char *e = json_object_get_string(v);
		size_t el = (size_t)json_object_get_string_len(v);
		/* "mailto:" URIs appear in some registries' jCards */
		if (el > 7 && !strncasecmp(e, "mailto:", 7)) {
			e += 7;
			el -= 7;
		}
		set_email(dst, e, el);
		if (dst[0])
			return true;
	}
	return false;
}

/* Breadth first: an abuse entity at a shallower level wins. */
static bool find_abuse(struct json_object *obj, char *dst, int depth)
{
	struct json_object *ents;
	if (depth > 4 || !json_object_object_get_ex(obj, "entities", &ents) ||
	    !json_object_is_type(ents, json_type_array))
		return false;
	size_t n = json_object_array_length(ents);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(ents, i);
		if (json_object_is_type(e, json_type_object) && has_role(e, "abuse") &&
		    vcard_email(e, dst))
			return true;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(ents, i);
		if (json_object_is_type(e, json_type_object) && find_abuse(e, dst, depth + 1))
			return true;
	}
	return false;
}

static bool str_field(struct json_object *o, const char *k, const char **v, size_t *vl)
{
	struct json_object *f;
	if (!json_object_object_get_ex(o, k, &f) || !json_object_is_type(f, json_type_string))
		return false;
	*v = json_object_get_string(f);
	*vl = (size_t)json_object_get_string_len(f);
	return true;
}

int contact_rdap_parse(const char *json, size_t len, const char *name,
		       struct contact_answer *out, struct vg_err *err)
{
	memset(out, 0, sizeof *out);
	int rc;
	struct json_object *o = parse_json(json, len, name, err, &rc);
	if (!o)
		return rc;
	const char *s, *e;
	size_t sl, el;
	if (str_field(o, "startAddress", &s, &sl) && str_field(o, "endAddress", &e, &el) &&
	    !contact_parse_addr(s, sl, &out->lo) && !contact_parse_addr(e, el, &out->hi) &&
	    out->lo.v == out->hi.v && memcmp(out->lo.a, out->hi.a, 16) <= 0)
		out->has_net = true;
	find_abuse(o, out->email, 0);
	json_object_put(o);
	return out->email[0] ? 1 : 0;
}

/* --- bootstrap -------------------------------------------------------------- */

int contact_bootstrap_find(const char *json, size_t len, const char *name,
			   const struct vg_ip *ip, char *url, size_t urllen, struct vg_err *err)
{
	int rc;
	struct json_object *o = parse_json(json, len, name, err, &rc);
	if (!o)
		return rc;
	struct json_object *svcs;
	if (!json_object_object_get_ex(o, "services", &svcs) ||
	    !json_object_is_type(svcs, json_type_array)) {
		json_object_put(o);
		return vg_err_set(err, -EINVAL, "%s: expected a \"services\" array", name);
	}
	int best = -1;
	size_t n = json_object_array_length(svcs);
	for (size_t i = 0; i < n; i++) {
		struct json_object *sv = json_object_array_get_idx(svcs, i);
		if (!json_object_is_type(sv, json_type_array) || json_object_array_length(sv) < 2)
			continue;
		struct json_object *nets = json_object_array_get_idx(sv, 0),
				   *urls = json_object_array_get_idx(sv, 1);
		if (!json_object_is_type(nets, json_type_array) ||
		    !json_object_is_type(urls, json_type_array) || !json_object_array_length(urls))
			continue;
		/* prefer an https URL (RFC 9224 section 3) */
		const char *u = NULL;
		for (size_t k = 0; k < json_object_array_length(urls); k++) {
			struct json_object *x = json_object_array_get_idx(urls, k);
			if (!json_object_is_type(x, json_type_string))
				continue;
			const char *xs = json_object_get_string(x);
			if (!u || !strncmp(xs, "https://", 8))
				u = xs;
		}
		if (!u)
			continue;
		for (size_t k = 0; k < json_object_array_length(nets); k++) {
			struct json_object *x = json_object_array_get_idx(nets, k);
			if (!json_object_is_type(x, json_type_string))
				continue;
			struct vg_ip lo, hi;
			const char *ns = json_object_get_string(x);
			size_t nl = (size_t)json_object_get_string_len(x);
			if (!memchr(ns, '/', nl) || parse_net(ns, nl, &lo, &hi) || lo.v != ip->v)
				continue;
			size_t al = ip->v == 4 ? 4 : 16;
			int plen = prefix_len(ns, nl, ip->v == 4 ? 32 : 128);
			if (memcmp(lo.a, ip->a, al) <= 0 && memcmp(ip->a, hi.a, al) <= 0 && plen > best &&
			    strlen(u) < urllen) {
				best = plen;
				snprintf(url, urllen, "%s", u);
			}
		}
	}
	json_object_put(o);
	return best >= 0 ? 1 : 0;
}

/* --- rate limit ---------------------------------------------------------------- */

void contact_bucket_init(struct contact_bucket *b, double rate, double burst, double now)
{
	b->rate = rate > 0 ? rate : 1;
	b->burst = burst >= 1 ? burst : 1;
	b->tokens = b->burst;
	b->last = now;
}

double contact_bucket_take(struct contact_bucket *b, double now)
{
	if (now > b->last) {
		b->tokens += (now - b->last) * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last = now;
	}
	if (b->tokens >= 1) {
		b->tokens -= 1;
		return 0;
	}
	return (1 - b->tokens) / b->rate;
}
