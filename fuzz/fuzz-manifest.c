/* fuzz-manifest.c: libFuzzer harness for manifest_parse (collect.h), the
 * central server's reader of a sensor's MANIFEST.  The sensor may be
 * compromised, so the bytes are untrusted.
 *
 * Input: the MANIFEST, from a heap copy of exactly its size (no
 * terminating NUL) so that ASan flags any read past the length given.
 * Checked besides memory safety: every entry kept is one collect would
 * fetch (a well-formed hash, a completed packet file name that maps to
 * an archive path); entries and skipped lines add up to at most the
 * non-empty lines; an entry written back as a MANIFEST line parses to
 * the same entry. */
#include "collect.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

#define MAX_INPUT (256u << 10)

static bool hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

static void check_entry(const struct manifest_entry *e)
{
	char path[512];
	if (!hex64(e->sha256) || !memchr(e->name, 0, sizeof e->name) || !collect_name_ok(e->name) ||
	    collect_archive_path("/archive", "s1", e->name, path, sizeof path) != 0)
		abort();
	/* the archive path stays below ARCHIVE/SENSOR/ */
	if (strncmp(path, "/archive/s1/", 12) || strstr(path, "/../") || strstr(path, "//"))
		abort();

	/* Written back the way the sensor writes it, the line must read the
	 * same.  Times the sensor cannot have written (years outside 4
	 * digits once normalized) are left out. */
	struct tm tm;
	if (!gmtime_r(&e->completed, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return;
	char when[32], line[256];
	if (!strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
		abort();
	int len = snprintf(line, sizeof line, "%s %llu %s %s %s\n", e->sha256,
			   (unsigned long long)e->size, e->name, when,
			   e->archived ? "archived" : "new");
	if (len < 0 || (size_t)len >= sizeof line)
		abort();
	struct manifest m2;
	struct vg_err err = {0};
	if (manifest_parse("again", line, (size_t)len, &m2, &err) != 0 || m2.n != 1 ||
	    m2.skipped != 0)
		abort();
	const struct manifest_entry *f = &m2.v[0];
	if (strcmp(f->sha256, e->sha256) || f->size != e->size || strcmp(f->name, e->name) ||
	    f->completed != e->completed || f->archived != e->archived)
		abort();
	manifest_free(&m2);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n > MAX_INPUT)
		return 0;
	char *buf = malloc(n ? n : 1);
	if (!buf)
		return 0;
	memcpy(buf, d, n);

	size_t lines = 0;
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(buf + i, '\n', n - i);
		size_t ll = nl ? (size_t)(nl - (buf + i)) : n - i;
		lines += ll != 0;
		i += ll + 1;
	}

	struct manifest m;
	struct vg_err err = {0};
	int rc = manifest_parse("sensor:MANIFEST", buf, n, &m, &err);
	if (rc != 0 || m.n + m.skipped != lines || (m.n && !m.v))
		abort();
	if (m.skipped &&
	    (err.code != -EINVAL || strncmp(err.msg, "sensor:MANIFEST:", 16) || !memchr(err.msg, 0, sizeof err.msg)))
		abort();
	if (!m.skipped && err.code != 0)
		abort();
	for (size_t i = 0; i < m.n; i++)
		check_entry(&m.v[i]);
	manifest_free(&m);
	free(buf);
	return 0;
}
