/* check.h: the smallest test harness that reports well.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_EQ_U(a, b); CHECK_STREQ(s, "x"); }
 *   int main(void) { RUN(name); ...; return check_summary(); }
 *
 * Each failed check prints file:line and the values; the summary line is
 * "N passed, N failed" for the test's own checks. */
#ifndef VIGIA_TEST_CHECK_H
#define VIGIA_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failed_in_test __attribute__((unused));
static int checks_passed __attribute__((unused)), checks_failed __attribute__((unused));
static int tests_passed __attribute__((unused)), tests_failed __attribute__((unused));

#define TEST(name) static void test_##name(void)

#define RUN(name)                                                         \
	do {                                                              \
		check_failed_in_test = 0;                                 \
		test_##name();                                            \
		if (check_failed_in_test) {                               \
			tests_failed++;                                   \
			printf("FAIL %s\n", #name);                       \
		} else {                                                  \
			tests_passed++;                                   \
			printf("ok   %s\n", #name);                       \
		}                                                         \
	} while (0)

#define CHECK_FAIL_(fmt, ...)                                              \
	do {                                                              \
		fprintf(stderr, "%s:%d: " fmt "\n", __FILE__, __LINE__,   \
			__VA_ARGS__);                                     \
		check_failed_in_test = 1;                                 \
		checks_failed++;                                          \
	} while (0)

#define CHECK(cond)                                                        \
	do {                                                              \
		if (cond)                                                 \
			checks_passed++;                                  \
		else                                                      \
			CHECK_FAIL_("check failed: %s", #cond);           \
	} while (0)

#define CHECK_EQ_U(a, b)                                                   \
	do {                                                              \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);          \
		if (a_ == b_)                                             \
			checks_passed++;                                  \
		else                                                      \
			CHECK_FAIL_("%s == %s: %" PRIu64 " != %" PRIu64,  \
				    #a, #b, a_, b_);                      \
	} while (0)

#define CHECK_EQ_I(a, b)                                                   \
	do {                                                              \
		int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);             \
		if (a_ == b_)                                             \
			checks_passed++;                                  \
		else                                                      \
			CHECK_FAIL_("%s == %s: %" PRId64 " != %" PRId64,  \
				    #a, #b, a_, b_);                      \
	} while (0)

#define CHECK_STREQ(a, b)                                                  \
	do {                                                              \
		const char *a_ = (a), *b_ = (b);                          \
		if (a_ && b_ && !strcmp(a_, b_))                          \
			checks_passed++;                                  \
		else                                                      \
			CHECK_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, \
				    a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
	} while (0)

static inline int check_summary(void)
{
	printf("%d passed, %d failed\n", tests_passed, tests_failed);
	return tests_failed ? 1 : 0;
}

/* Path of a file under tests/data (VIGIA_TESTDATA, set by meson test). */
static inline const char *test_data(const char *rel)
{
	static char buf[4][1024];
	static int i;
	const char *dir = getenv("VIGIA_TESTDATA");
	char *b = buf[i++ % 4];
	snprintf(b, sizeof buf[0], "%s/%s", dir ? dir : "tests/data", rel);
	return b;
}

#endif
