/* Unit tests of the small shared pieces: CIDR parsing/matching, JSON writer. */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "util-buf.h"
#include "util-cidr.h"
#include "util-json.h"

TEST(cidr_parses_v4_and_v6_and_matches_members_only)
{
	struct cidr c;
	struct vg_err err = {0};
	CHECK_EQ_I(cidr_parse("192.0.2.0/24", &c, &err), 0);
	CHECK_EQ_U(c.len, 24);
	struct cidr h;
	CHECK_EQ_I(cidr_parse("192.0.2.200", &h, &err), 0);
	CHECK_EQ_U(h.len, 32);
	CHECK(cidr_contains(&c, &h.net));
	CHECK_EQ_I(cidr_parse("192.0.3.0", &h, &err), 0);
	CHECK(!cidr_contains(&c, &h.net));

	struct cidr six, a6;
	CHECK_EQ_I(cidr_parse("2001:db8::/32", &six, &err), 0);
	CHECK_EQ_I(cidr_parse("2001:db8:ffff::1", &a6, &err), 0);
	CHECK(cidr_contains(&six, &a6.net));
	CHECK(!cidr_contains(&c, &a6.net));
	CHECK_EQ_I(cidr_parse("2001:db9::1", &a6, &err), 0);
	CHECK(!cidr_contains(&six, &a6.net));

	struct cidr odd;
	CHECK_EQ_I(cidr_parse("10.0.0.0/13", &odd, &err), 0);
	CHECK_EQ_I(cidr_parse("10.7.255.255", &h, &err), 0);
	CHECK(cidr_contains(&odd, &h.net));
	CHECK_EQ_I(cidr_parse("10.8.0.0", &h, &err), 0);
	CHECK(!cidr_contains(&odd, &h.net));
	char buf[64];
	CHECK_STREQ(cidr_str(&odd, buf, sizeof buf), "10.0.0.0/13");
}

TEST(cidr_rejects_bad_text_with_a_reason)
{
	struct cidr c;
	struct vg_err err = {0};
	CHECK(cidr_parse("192.0.2.1/24", &c, &err) < 0);
	CHECK(strstr(err.msg, "host bits") != NULL);
	CHECK(cidr_parse("192.0.2.0/33", &c, &err) < 0);
	CHECK(strstr(err.msg, "0..32") != NULL);
	CHECK(cidr_parse("banana/8", &c, &err) < 0);
	CHECK(strstr(err.msg, "banana") != NULL);
	CHECK(cidr_parse("", &c, &err) < 0);
	CHECK(cidr_parse("10.0.0.0/", &c, &err) < 0);
}

TEST(json_writer_nests_escapes_and_separates)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json_w w;
	json_init(&w, f, false);
	json_obj_begin(&w);
	json_key(&w, "a");
	json_u64(&w, 18446744073709551615ull);
	json_key(&w, "s");
	json_str(&w, "q\"\\\n\x01");
	json_key(&w, "l");
	json_arr_begin(&w);
	json_i64(&w, -3);
	json_bool(&w, true);
	json_null(&w);
	json_obj_begin(&w);
	json_obj_end(&w);
	json_arr_end(&w);
	json_obj_end(&w);
	CHECK_EQ_I(json_finish(&w), 0);
	fclose(f);
	CHECK_STREQ(buf, "{\"a\":18446744073709551615,\"s\":\"q\\\"\\\\\\n\\u0001\",\"l\":[-3,true,null,{}]}\n");
	free(buf);
}

TEST(text_buffer_grows_and_formats_past_any_fixed_size)
{
	struct vg_buf b = {0};
	vg_buf_puts(&b, "ab");
	vg_buf_add(&b, "cdef", 2);
	CHECK_STREQ(b.p, "abcd");
	char big[3001];
	memset(big, 'x', 3000);
	big[3000] = '\0';
	vg_buf_printf(&b, "<%s|%d>", big, 42);
	CHECK_EQ_U(b.n, 4 + 1 + 3000 + 4);
	CHECK_EQ_U(b.p[b.n], 0);
	CHECK_STREQ(b.p + b.n - 4, "|42>");
	CHECK_EQ_I(b.rc, 0);
	vg_buf_free(&b);
	CHECK(b.p == NULL && b.n == 0);
}

int main(void)
{
	RUN(cidr_parses_v4_and_v6_and_matches_members_only);
	RUN(cidr_rejects_bad_text_with_a_reason);
	RUN(json_writer_nests_escapes_and_separates);
	RUN(text_buffer_grows_and_formats_past_any_fixed_size);
	return check_summary();
}
