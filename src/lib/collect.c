/* collect.c: manifest, archive layout, collection state, atomic zstd
 * placement.  SHA-256 through OpenSSL's EVP (as the sensor computes it),
 * compression through libzstd's streaming API. */
#include "collect.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zstd.h>

#define MAX_STATE_BYTES (256u << 20)

/* ---- names ------------------------------------------------------------- */

bool collect_name_ok(const char *s)
{
	if (strncmp(s, "pcap/", 5))
		return false;
	s += 5;
	for (int i = 0; i < 16; i++) {
		bool want_digit = i != 8 && i != 15;
		if (want_digit ? !isdigit((unsigned char)s[i]) : s[i] != (i == 8 ? 'T' : 'Z'))
			return false;
	}
	const char *p = s + 16;
	if (*p == '-') {
		p++;
		int n = 0;
		while (isdigit((unsigned char)*p) && n < 7)
			p++, n++;
		if (n == 0 || n == 7)
			return false;
	}
	return !strcmp(p, ".pcap");
}

int collect_archive_path(const char *archive, const char *sensor, const char *name,
			 char *out, size_t len)
{
	if (!collect_name_ok(name))
		return -EINVAL;
	const char *b = name + 5;
	int n = snprintf(out, len, "%s/%s/%.4s/%.2s/%.2s/%s.zst", archive, sensor, b, b + 4,
			b + 6, b);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* ---- manifest ---------------------------------------------------------- */

static bool parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm = {0};
	const char *e = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!e || *e)
		return false;
	*out = timegm(&tm);
	return true;
}

void manifest_free(struct manifest *m)
{
	free(m->v);
	m->v = NULL;
	m->n = m->skipped = 0;
}

int manifest_parse(const char *file, const char *buf, size_t len, struct manifest *m,
		   struct vg_err *err)
{
	memset(m, 0, sizeof *m);
	size_t cap = 0;
	unsigned lineno = 0;
	bool reported = false;
	for (size_t off = 0; off < len;) {
		const char *line = buf + off;
		const char *nl = memchr(line, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - line) : len - off;
		off += ll + (nl ? 1 : 0);
		lineno++;
		if (ll == 0)
			continue;
		char tmp[512];
		struct manifest_entry e = {0};
		char size_s[32], done[32], state[16];
		const char *why = NULL;
		if (ll >= sizeof tmp) {
			why = "line too long";
		} else {
			memcpy(tmp, line, ll);
			tmp[ll] = '\0';
			char extra;
			if (sscanf(tmp, "%64s %31s %95s %31s %15s %c", e.sha256, size_s, e.name, done,
						state, &extra) != 5)
				why = "expected 'SHA256 SIZE NAME COMPLETED STATE'";
		}
		if (!why) {
			char *end;
			errno = 0;
			unsigned long long sz = strtoull(size_s, &end, 10);
			bool hex = strlen(e.sha256) == 64;
			for (int i = 0; hex && i < 64; i++)
				hex = isdigit((unsigned char)e.sha256[i]) ||
					(e.sha256[i] >= 'a' && e.sha256[i] <= 'f');
			if (!hex)
				why = "expected 64 lower-case hex digits of SHA-256";
			else if (errno || *end || !isdigit((unsigned char)size_s[0]))
				why = "expected a size in bytes";
			else if (!collect_name_ok(e.name))
				why = "expected a completed packet file name pcap/YYYYmmddTHHMMSSZ.pcap";
			else if (!parse_rfc3339(done, &e.completed))
				why = "expected an RFC 3339 UTC completion time";
			else if (strcmp(state, "new") && strcmp(state, "archived"))
				why = "expected state 'new' or 'archived'";
			e.size = sz;
			e.archived = !strcmp(state, "archived");
		}
		if (why) {
			m->skipped++;
			if (!reported) {
				vg_err_set(err, -EINVAL, "%s:%u: %s", file, lineno, why);
				reported = true;
			}
			continue;
		}
		if (m->n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct manifest_entry *nv = realloc(m->v, nc * sizeof *nv);
			if (!nv) {
				manifest_free(m);
				return vg_err_set(err, -ENOMEM, "%s: out of memory", file);
			}
			m->v = nv;
			cap = nc;
		}
		m->v[m->n++] = e;
	}
	return 0;
}

/* ---- state ------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void collect_state_free(struct collect_state *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->lines[i]);
	free(st->lines);
	st->lines = NULL;
	st->n = 0;
}

int collect_state_load(const char *path, struct collect_state *st, struct vg_err *err)
{
	memset(st, 0, sizeof *st);
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : vg_err_set(err, -errno, "%s: %s", path, strerror(errno));
	char line[256];
	size_t cap = 0;
	unsigned lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		size_t l = strlen(line);
		if (l && line[l - 1] == '\n') {
			line[--l] = '\0';
		} else if (!feof(f)) {
			fclose(f);
			collect_state_free(st);
			return vg_err_set(err, -EINVAL, "%s:%u: line too long", path, lineno);
		} else {
			/* a torn last line (crash while appending) is ignored: the
			 * file it names is fetched again, never lost */
			continue;
		}
		if (l < 66 || line[64] != ' ')
			continue;
		if (st->n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nl = realloc(st->lines, nc * sizeof *nl);
			if (!nl) {
				fclose(f);
				collect_state_free(st);
				return vg_err_set(err, -ENOMEM, "%s: out of memory", path);
			}
			st->lines = nl;
			cap = nc;
		}
		if (!(st->lines[st->n] = strdup(line))) {
			fclose(f);
			collect_state_free(st);
			return vg_err_set(err, -ENOMEM, "%s: out of memory", path);
		}
		st->n++;
	}
	fclose(f);
	qsort(st->lines, st->n, sizeof *st->lines, cmp_str);
	return 0;
}

bool collect_state_has(const struct collect_state *st, const char *sha256, const char *name)
{
	char key[256];
	snprintf(key, sizeof key, "%s %s", sha256, name);
	const char *k = key;
	return st->n && bsearch(&k, st->lines, st->n, sizeof *st->lines, cmp_str) != NULL;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int collect_state_append(const char *path, const char *sha256, const char *name,
			 struct vg_err *err)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return vg_err_set(err, -errno, "%s: %s", path, strerror(errno));
	char line[256];
	int n = snprintf(line, sizeof line, "%s %s\n", sha256, name);
	struct stat st;
	int rc = fstat(fd, &st) < 0 ? -errno : 0;
	bool sized = rc == 0;
	if (rc == 0)
		rc = n > 0 && (size_t)n < sizeof line ? write_all(fd, line, (size_t)n) : -EINVAL;
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (rc < 0) {
		/* leave no torn line behind (ENOSPC midway) */
		if (sized && ftruncate(fd, st.st_size) == 0)
			fsync(fd);
		close(fd);
		return vg_err_set(err, rc, "%s: cannot record %s: %s", path, name, strerror(-rc));
	}
	close(fd);
	return 0;
}

/* ---- files ------------------------------------------------------------- */

int collect_sha256_file(const char *path, char hex[65], uint64_t *size, struct vg_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vg_err_set(err, -errno, "%s: %s", path, strerror(errno));
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		close(fd);
		return vg_err_set(err, -ENOMEM, "%s: cannot start SHA-256", path);
	}
	static __thread unsigned char buf[1 << 16];
	uint64_t total = 0;
	int rc = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = vg_err_set(err, -errno, "%s: byte offset %llu: %s", path,
					(unsigned long long)total, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)r);
		total += (uint64_t)r;
	}
	close(fd);
	unsigned char md[32];
	unsigned mdlen = 0;
	if (rc == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32) {
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		*size = total;
	} else if (rc == 0) {
		rc = vg_err_set(err, -EIO, "%s: SHA-256 failed", path);
	}
	EVP_MD_CTX_free(ctx);
	return rc;
}

int collect_mkdirs(const char *dir, struct vg_err *err)
{
	char buf[PATH_MAX];
	size_t n = strlen(dir);
	if (n == 0 || n >= sizeof buf)
		return vg_err_set(err, -ENAMETOOLONG, "%s: path too long", dir);
	memcpy(buf, dir, n + 1);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0750) < 0 && errno != EEXIST)
				return vg_err_set(err, -errno, "%s: cannot create: %s", buf, strerror(errno));
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

static int fsync_dir(const char *path)
{
	char d[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(d, sizeof d, ".");
	else
		snprintf(d, sizeof d, "%.*s", (int)(slash == path ? 1 : slash - path), path);
	int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

int collect_place_zstd(const char *src, const char *dst, int level, struct vg_err *err)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *slash = strrchr(dst, '/');
	if (!slash || (size_t)(slash - dst) >= sizeof dir)
		return vg_err_set(err, -EINVAL, "%s: expected an absolute or relative path with a directory", dst);
	snprintf(dir, sizeof dir, "%.*s", (int)(slash - dst), dst);
	int rc = collect_mkdirs(dir, err);
	if (rc < 0)
		return rc;
	int n = snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, slash + 1);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return vg_err_set(err, -ENAMETOOLONG, "%s: path too long", dst);
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return vg_err_set(err, -errno, "%s: %s", src, strerror(errno));
	int out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0) {
		rc = vg_err_set(err, -errno, "%s: cannot create a temporary file: %s", dir,
				strerror(errno));
		close(in);
		return rc;
	}
	fchmod(out, 0640);
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t isz = ZSTD_CStreamInSize(), osz = ZSTD_CStreamOutSize();
	char *ib = malloc(isz), *ob = malloc(osz);
	if (!cc || !ib || !ob) {
		rc = vg_err_set(err, -ENOMEM, "%s: out of memory", dst);
		goto fail;
	}
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	uint64_t off = 0;
	for (;;) {
		ssize_t r = read(in, ib, isz);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = vg_err_set(err, -errno, "%s: byte offset %llu: %s", src,
					(unsigned long long)off, strerror(errno));
			goto fail;
		}
		off += (uint64_t)r;
		ZSTD_EndDirective mode = r == 0 ? ZSTD_e_end : ZSTD_e_continue;
		ZSTD_inBuffer zin = {ib, (size_t)r, 0};
		bool done = false;
		while (!done) {
			ZSTD_outBuffer zout = {ob, osz, 0};
			size_t left = ZSTD_compressStream2(cc, &zout, &zin, mode);
			if (ZSTD_isError(left)) {
				rc = vg_err_set(err, -EIO, "%s: zstd: %s", dst, ZSTD_getErrorName(left));
				goto fail;
			}
			if ((rc = write_all(out, ob, zout.pos)) < 0) {
				rc = vg_err_set(err, rc, "%s: %s", dst, strerror(-rc));
				goto fail;
			}
			done = mode == ZSTD_e_end ? left == 0 : zin.pos == zin.size;
		}
		if (r == 0)
			break;
	}
	if (fsync(out) < 0) {
		rc = vg_err_set(err, -errno, "%s: %s", dst, strerror(errno));
		goto fail;
	}
	if (close(out) < 0) {
		out = -1;
		rc = vg_err_set(err, -errno, "%s: %s", dst, strerror(errno));
		goto fail;
	}
	out = -1;
	if (rename(tmp, dst) < 0) {
		rc = vg_err_set(err, -errno, "%s: cannot rename into place: %s", dst, strerror(errno));
		goto fail;
	}
	if ((rc = fsync_dir(dst)) < 0) {
		/* in place but perhaps not durable: report, the caller records nothing */
		rc = vg_err_set(err, rc, "%s: directory fsync: %s", dst, strerror(-rc));
		unlink(dst);
		goto fail;
	}
	ZSTD_freeCCtx(cc);
	free(ib);
	free(ob);
	close(in);
	return 0;
fail:
	if (out >= 0)
		close(out);
	unlink(tmp);
	ZSTD_freeCCtx(cc);
	free(ib);
	free(ob);
	close(in);
	return rc;
}
