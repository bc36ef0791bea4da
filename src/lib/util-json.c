#include "util-json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

void json_init(struct json_w *w, FILE *f, bool pretty)
{
	w->f = f;
	w->depth = 0;
	w->first[0] = true;
	w->after_key = false;
	w->pretty = pretty;
	w->overflow = 0;
}

static void indent(struct json_w *w)
{
	if (!w->pretty)
		return;
	fputc('\n', w->f);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->f);
}

/* Comma and indentation before a value or key at the current depth. */
static void before_item(struct json_w *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth > 0) {
		if (!w->first[w->depth])
			fputc(',', w->f);
		indent(w);
	}
	w->first[w->depth] = false;
}

static void open_(struct json_w *w, char c)
{
	before_item(w);
	fputc(c, w->f);
	if (w->depth + 1 >= JSON_MAX_DEPTH) {
		w->overflow++;
		return;
	}
	w->depth++;
	w->first[w->depth] = true;
}

static void close_(struct json_w *w, char c)
{
	if (w->overflow) {
		w->overflow--;
		fputc(c, w->f);
		return;
	}
	bool empty = w->first[w->depth];
	w->depth--;
	if (!empty)
		indent(w);
	fputc(c, w->f);
}

void json_obj_begin(struct json_w *w) { open_(w, '{'); }
void json_obj_end(struct json_w *w) { close_(w, '}'); }
void json_arr_begin(struct json_w *w) { open_(w, '['); }
void json_arr_end(struct json_w *w) { close_(w, ']'); }

static void put_string(FILE *f, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fputs("\\u00", f);
				fputc(hex[c >> 4], f);
				fputc(hex[c & 15], f);
			} else {
				fputc(c, f);
			}
		}
	}
	fputc('"', f);
}

void json_key(struct json_w *w, const char *key)
{
	before_item(w);
	put_string(w->f, key, strlen(key));
	fputs(w->pretty ? ": " : ":", w->f);
	w->after_key = true;
}

void json_strn(struct json_w *w, const char *s, size_t n)
{
	before_item(w);
	put_string(w->f, s, n);
}

void json_str(struct json_w *w, const char *s)
{
	if (!s) {
		json_null(w);
		return;
	}
	json_strn(w, s, strlen(s));
}

void json_u64(struct json_w *w, uint64_t v)
{
	before_item(w);
	fprintf(w->f, "%" PRIu64, v);
}

void json_i64(struct json_w *w, int64_t v)
{
	before_item(w);
	fprintf(w->f, "%" PRId64, v);
}

void json_double(struct json_w *w, double v)
{
	before_item(w);
	if (!isfinite(v))
		fputs("null", w->f);
	else
		fprintf(w->f, "%.6g", v);
}

void json_bool(struct json_w *w, bool v)
{
	before_item(w);
	fputs(v ? "true" : "false", w->f);
}

void json_null(struct json_w *w)
{
	before_item(w);
	fputs("null", w->f);
}

int json_finish(struct json_w *w)
{
	fputc('\n', w->f);
	if (fflush(w->f) != 0 || ferror(w->f))
		return -EIO;
	return 0;
}
