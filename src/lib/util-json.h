/* util-json.h: a streaming JSON writer.
 *
 * Written by hand rather than with jansson/json-c because the analysis
 * output holds large numeric series: a tree library would build the whole
 * document in memory first, this writes it as it goes.  It tracks nesting
 * to place commas, escapes strings per RFC 8259, and never fails silently:
 * json_close() reports a write error of the stream.
 */
#ifndef VIGIA_UTIL_JSON_H
#define VIGIA_UTIL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json_w {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];   /* no element written yet at this depth */
	bool after_key;
	bool pretty;
	int overflow;                 /* nesting beyond JSON_MAX_DEPTH */
};

void json_init(struct json_w *w, FILE *f, bool pretty);
void json_obj_begin(struct json_w *w);
void json_obj_end(struct json_w *w);
void json_arr_begin(struct json_w *w);
void json_arr_end(struct json_w *w);
void json_key(struct json_w *w, const char *key);
void json_str(struct json_w *w, const char *s);
void json_strn(struct json_w *w, const char *s, size_t n);
void json_u64(struct json_w *w, uint64_t v);
void json_i64(struct json_w *w, int64_t v);
void json_double(struct json_w *w, double v);
void json_bool(struct json_w *w, bool v);
void json_null(struct json_w *w);
/* Finish: newline, flush; returns 0 or -EIO when the stream failed. */
int json_finish(struct json_w *w);

#endif
