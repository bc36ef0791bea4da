/* sp-spool.c: the sensor's packet log on disk, its manifest and retention.
 *
 * pcap is written by hand rather than with pcap_dump: libpcap's dumper
 * hides write errors behind stdio (a full disk must be seen at once and
 * must not corrupt the file), cannot write at explicit offsets to undo a
 * partial write, and cannot hash while writing.  The format is 24 + 16
 * bytes of header; the SHA-256 is OpenSSL's EVP.
 *
 * Manifest updates (sensord adding a file, the gateway's ack, retention)
 * rewrite SPOOL/MANIFEST.tmp, fsync it and rename it over MANIFEST, under
 * an flock on SPOOL/MANIFEST.lock.  Appending with O_APPEND was rejected:
 * a concurrent reader (rsync pulling the spool) can observe a write()
 * half done, and ack must change lines in place anyway.  With rename a
 * reader sees the old file or the new one, whole; the lock keeps the two
 * writers (sensord and the gateway, separate processes) from losing each
 * other's update.  The manifest holds one line per file within retention,
 * a few kilobytes, so rewriting it is cheap. */
#include "sp-spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define BUF_BYTES (4u << 20)
#define MAX_SNAPLEN 262144u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_MAGIC_US 0xa1b2c3d4u
#define MANIFEST_MAX (16u << 20)
#define NAME_MAX_LEN 128

struct mentry {
	char sha[65];
	unsigned long long size;
	char name[NAME_MAX_LEN];
	char completed[32];
	char state[16];
	char *raw;          /* a line that did not parse: kept as written */
	bool drop;
};

struct manifest {
	struct mentry *v;
	size_t n, cap;
};

struct spool {
	char *dir;
	int dirfd, pcapfd, lockfd;
	struct spool_opts o;
	uint64_t rotate_ns;

	int fd;                     /* current .part, -1 when none */
	char name[NAME_MAX_LEN];    /* "20240101T100000Z.pcap" (without .part) */
	uint64_t period_start, period_end;
	uint64_t file_bytes;        /* bytes of the current file on disk */
	EVP_MD_CTX *md;
	bool broken;                /* on-disk state unknown: re-read at completion */

	uint8_t *buf;
	size_t blen;
	uint64_t bframes;

	uint64_t last_ns;
	uint64_t last_retention;
	bool retention_ran;
	uint64_t completed_bytes;

	struct manifest pending;    /* completed files not yet in MANIFEST */
	struct spool_stats st;
};

/* ---- time and names --------------------------------------------------- */

static void rfc3339(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool parse_rfc3339(const char *s, uint64_t *ns)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *e = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!e || *e)
		return false;
	time_t t = timegm(&tm);
	if (t < 0)
		return false;
	*ns = (uint64_t)t * 1000000000u;
	return true;
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

/* ---- manifest --------------------------------------------------------- */

static void manifest_free(struct manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].raw);
	free(m->v);
	memset(m, 0, sizeof *m);
}

static int manifest_push(struct manifest *m, const struct mentry *e)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 32;
		struct mentry *v = realloc(m->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = *e;
	return 0;
}

static bool parse_line(const char *line, struct mentry *e)
{
	memset(e, 0, sizeof *e);
	char sha[80], name[NAME_MAX_LEN + 8], comp[40], state[24], extra;
	unsigned long long size;
	if (sscanf(line, "%79s %llu %135s %39s %23s %c", sha, &size, name, comp, state, &extra) != 5)
		return false;
	if (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64)
		return false;
	if (strlen(name) >= sizeof e->name || strlen(comp) >= sizeof e->completed ||
	    strlen(state) >= sizeof e->state)
		return false;
	uint64_t t;
	if (!parse_rfc3339(comp, &t))
		return false;
	memcpy(e->sha, sha, 65);
	e->size = size;
	strcpy(e->name, name);
	strcpy(e->completed, comp);
	strcpy(e->state, state);
	return true;
}

static int manifest_read(int dirfd, struct manifest *m, struct vg_err *err, const char *dir)
{
	memset(m, 0, sizeof *m);
	int fd = openat(dirfd, "MANIFEST", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return vg_err_set(err, -errno, "%s/MANIFEST: %s", dir, strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > MANIFEST_MAX) {
		close(fd);
		return vg_err_set(err, -EFBIG, "%s/MANIFEST: larger than %u MiB", dir,
				  MANIFEST_MAX >> 20);
	}
	size_t sz = (size_t)st.st_size, got = 0;
	char *data = malloc(sz + 1);
	if (!data) {
		close(fd);
		return -ENOMEM;
	}
	while (got < sz) {
		ssize_t r = read(fd, data + got, sz - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	data[got] = '\0';
	int rc = 0;
	char *save = NULL;
	for (char *line = strtok_r(data, "\n", &save); line && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		struct mentry e;
		if (!parse_line(line, &e)) {
			memset(&e, 0, sizeof e);
			e.raw = strdup(line);
			if (!e.raw) {
				rc = -ENOMEM;
				break;
			}
		}
		rc = manifest_push(m, &e);
		if (rc < 0)
			free(e.raw);
	}
	free(data);
	if (rc < 0)
		manifest_free(m);
	return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int manifest_write(int dirfd, const struct manifest *m, struct vg_err *err,
			  const char *dir)
{
	/* Under MANIFEST.lock, so a leftover tmp is stale; it may belong to
	 * the other writer (sensord or the gateway's ack), whose file we could
	 * not truncate: replace it. */
	unlinkat(dirfd, "MANIFEST.tmp", 0);
	int fd = openat(dirfd, "MANIFEST.tmp", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return vg_err_set(err, -errno, "%s/MANIFEST.tmp: %s", dir, strerror(errno));
	size_t cap = 4096, len = 0;
	char *out = malloc(cap);
	int rc = out ? 0 : -ENOMEM;
	for (size_t i = 0; i < m->n && rc == 0; i++) {
		const struct mentry *e = &m->v[i];
		if (e->drop)
			continue;
		char line[512];
		int n = e->raw ? snprintf(line, sizeof line, "%s\n", e->raw)
			       : snprintf(line, sizeof line, "%s %llu %s %s %s\n", e->sha, e->size,
					  e->name, e->completed, e->state);
		if (n < 0 || (size_t)n >= sizeof line)
			continue;   /* an unparsed line longer than any we write: not ours */
		if (len + (size_t)n > cap) {
			while (len + (size_t)n > cap)
				cap *= 2;
			char *o = realloc(out, cap);
			if (!o) {
				rc = -ENOMEM;
				break;
			}
			out = o;
		}
		memcpy(out + len, line, (size_t)n);
		len += (size_t)n;
	}
	if (rc == 0)
		rc = write_all(fd, out, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	free(out);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && renameat(dirfd, "MANIFEST.tmp", dirfd, "MANIFEST") < 0)
		rc = -errno;
	if (rc == 0)
		fsync(dirfd);
	if (rc < 0) {
		unlinkat(dirfd, "MANIFEST.tmp", 0);
		return vg_err_set(err, rc, "%s/MANIFEST: cannot rewrite: %s", dir, strerror(-rc));
	}
	return 0;
}

static int manifest_lock(int dirfd, const char *dir, struct vg_err *err)
{
	int fd = openat(dirfd, "MANIFEST.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	if (fd < 0)
		return vg_err_set(err, -errno, "%s/MANIFEST.lock: %s", dir, strerror(errno));
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return vg_err_set(err, -e, "%s/MANIFEST.lock: %s", dir, strerror(e));
		}
	}
	return fd;
}

static void manifest_unlock(int fd)
{
	flock(fd, LOCK_UN);
	close(fd);
}

static bool entry_matches(const struct mentry *e, const char *name)
{
	if (e->raw)
		return false;
	if (!strcmp(e->name, name))
		return true;
	const char *slash = strrchr(e->name, '/');
	return slash && !strcmp(slash + 1, name);
}

/* ---- pcap files ------------------------------------------------------- */

static void pcap_header(uint8_t h[24], uint32_t snaplen, int linktype)
{
	uint32_t magic = PCAP_MAGIC_NS, zone = 0, sig = 0, snap = snaplen,
		 lt = (uint32_t)linktype;
	uint16_t major = 2, minor = 4;
	memcpy(h, &magic, 4);
	memcpy(h + 4, &major, 2);
	memcpy(h + 6, &minor, 2);
	memcpy(h + 8, &zone, 4);
	memcpy(h + 12, &sig, 4);
	memcpy(h + 16, &snap, 4);
	memcpy(h + 20, &lt, 4);
}

static void hex(const unsigned char *d, unsigned n, char *out)
{
	static const char x[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = x[d[i] >> 4];
		out[2 * i + 1] = x[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static int pread_all(int fd, uint8_t *p, size_t n, uint64_t off, size_t *got)
{
	*got = 0;
	while (*got < n) {
		ssize_t r = pread(fd, p + *got, n - *got, (off_t)(off + *got));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

/* Bring a file left by a crash or a failed write to its last whole record
 * and hash it.  Returns 0, -EBADMSG when it is not a pcap file of ours
 * (left alone), or another negative errno. */
static int repair_and_hash(int fd, uint64_t *size_out, char sha[65])
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	uint64_t size = (uint64_t)st.st_size;
	uint8_t *b = malloc(1u << 20);
	if (!b)
		return -ENOMEM;
	size_t got;
	int rc = pread_all(fd, b, 24, 0, &got);
	uint32_t magic = 0;
	if (rc == 0 && got == 24)
		memcpy(&magic, b, 4);
	if (rc == 0 && (got < 24 || (magic != PCAP_MAGIC_NS && magic != PCAP_MAGIC_US)))
		rc = -EBADMSG;
	uint64_t good = 24;
	bool stop = false;
	/* Walk record headers through a buffer: a record never exceeds
	 * MAX_SNAPLEN, far less than the buffer, so a refill at the first
	 * record that did not fit always holds it whole. */
	while (rc == 0 && !stop && good < size) {
		rc = pread_all(fd, b, 1u << 20, good, &got);
		if (rc < 0)
			break;
		size_t p = 0;
		while (p + 16 <= got) {
			uint32_t incl;
			memcpy(&incl, b + p + 8, 4);
			if (incl > MAX_SNAPLEN || good + p + 16 + incl > size) {
				stop = true;
				break;
			}
			if (p + 16 + incl > got)
				break;
			p += 16 + incl;
		}
		if (p == 0)
			break;
		good += p;
	}
	if (rc == 0 && good < size && ftruncate(fd, (off_t)good) < 0)
		rc = -errno;
	EVP_MD_CTX *md = rc == 0 ? EVP_MD_CTX_new() : NULL;
	if (rc == 0 && (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)))
		rc = -ENOMEM;
	for (uint64_t off = 0; rc == 0 && off < good;) {
		size_t want = good - off > (1u << 20) ? (1u << 20) : (size_t)(good - off);
		rc = pread_all(fd, b, want, off, &got);
		if (rc == 0 && got != want)
			rc = -EIO;
		if (rc == 0)
			EVP_DigestUpdate(md, b, got);
		off += got;
	}
	if (rc == 0) {
		unsigned char d[EVP_MAX_MD_SIZE];
		unsigned dl = 0;
		EVP_DigestFinal_ex(md, d, &dl);
		hex(d, dl, sha);
		*size_out = good;
		if (fsync(fd) < 0)
			rc = -errno;
	}
	EVP_MD_CTX_free(md);
	free(b);
	return rc;
}

/* ---- current file ----------------------------------------------------- */

static int flush_buf(struct spool *s, struct vg_err *err)
{
	if (!s->blen)
		return 0;
	int rc = 0;
	if (s->broken) {
		rc = -EIO;
	} else {
		size_t off = 0;
		while (off < s->blen) {
			ssize_t w = pwrite(s->fd, s->buf + off, s->blen - off,
					   (off_t)(s->file_bytes + off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				rc = -errno;
				break;
			}
			off += (size_t)w;
		}
		if (rc < 0 && off > 0 && ftruncate(s->fd, (off_t)s->file_bytes) < 0)
			s->broken = true;   /* half a buffer may remain: repair at completion */
	}
	if (rc < 0) {
		s->st.frames_dropped += s->bframes;
		s->st.frames_written -= s->bframes;
		s->st.write_errors++;
		s->st.last_errno = -rc;
		uint64_t lost = s->bframes;
		s->blen = 0;
		s->bframes = 0;
		return vg_err_set(err, rc, "%s/pcap/%s.part: byte offset %llu: %s; %llu frames lost",
				  s->dir, s->name, (unsigned long long)s->file_bytes,
				  strerror(-rc), (unsigned long long)lost);
	}
	EVP_DigestUpdate(s->md, s->buf, s->blen);
	s->file_bytes += s->blen;
	s->st.bytes_written += s->blen;
	s->blen = 0;
	s->bframes = 0;
	return 0;
}

static int add_pending(struct spool *s, const char *sha, uint64_t size, const char *name,
		       uint64_t completed_ns)
{
	struct mentry e;
	memset(&e, 0, sizeof e);
	memcpy(e.sha, sha, 65);
	e.size = size;
	snprintf(e.name, sizeof e.name, "pcap/%s", name);
	rfc3339(completed_ns, e.completed, sizeof e.completed);
	strcpy(e.state, "new");
	return manifest_push(&s->pending, &e);
}

/* Move completed files into MANIFEST.  Lines whose file is gone (deleted
 * in a low-space emergency before the rewrite succeeded) are dropped. */
static int flush_pending(struct spool *s, struct vg_err *err)
{
	if (!s->pending.n)
		return 0;
	int lk = manifest_lock(s->dirfd, s->dir, err);
	if (lk < 0)
		return lk;
	struct manifest m;
	int rc = manifest_read(s->dirfd, &m, err, s->dir);
	for (size_t i = 0; rc == 0 && i < s->pending.n; i++) {
		bool dup = false;
		for (size_t j = 0; j < m.n; j++)
			if (!m.v[j].raw && !strcmp(m.v[j].name, s->pending.v[i].name))
				dup = true;
		if (!dup)
			rc = manifest_push(&m, &s->pending.v[i]);
	}
	for (size_t j = 0; rc == 0 && j < m.n; j++)
		if (!m.v[j].raw && faccessat(s->dirfd, m.v[j].name, F_OK, 0) < 0 &&
		    errno == ENOENT)
			m.v[j].drop = true;
	if (rc == 0)
		rc = manifest_write(s->dirfd, &m, err, s->dir);
	if (rc == 0) {
		/* entries were copied by value; raw is always NULL for ours */
		s->pending.n = 0;
	}
	manifest_free(&m);   /* pending entries copied in have no raw text */
	manifest_unlock(lk);
	return rc;
}

static int complete_current(struct spool *s, uint64_t now_ns, struct vg_err *err)
{
	if (s->fd < 0)
		return 0;
	int rc = flush_buf(s, err);
	if (!s->broken && fsync(s->fd) < 0)
		s->broken = true;
	char sha[65];
	uint64_t size = s->file_bytes;
	int rc2 = 0;
	if (s->broken) {
		rc2 = repair_and_hash(s->fd, &size, sha);
	} else {
		unsigned char d[EVP_MAX_MD_SIZE];
		unsigned dl = 0;
		EVP_DigestFinal_ex(s->md, d, &dl);
		hex(d, dl, sha);
	}
	close(s->fd);
	s->fd = -1;
	char part[NAME_MAX_LEN + 8];
	snprintf(part, sizeof part, "%s.part", s->name);
	if (rc2 == 0 && renameat(s->pcapfd, part, s->pcapfd, s->name) < 0)
		rc2 = -errno;
	if (rc2 < 0) {
		/* left as .part; spool_open repairs and lists it next time */
		s->st.write_errors++;
		s->st.last_errno = -rc2;
		return vg_err_set(err, rc2, "%s/pcap/%s: cannot complete: %s", s->dir, part,
				  strerror(-rc2));
	}
	fsync(s->pcapfd);
	s->completed_bytes += size;
	s->st.files_completed++;
	rc2 = add_pending(s, sha, size, s->name, now_ns);
	if (rc2 == 0)
		rc2 = flush_pending(s, rc < 0 ? NULL : err);
	return rc < 0 ? rc : rc2;
}

static bool name_taken(struct spool *s, const char *name)
{
	char part[NAME_MAX_LEN + 8];
	snprintf(part, sizeof part, "%s.part", name);
	return faccessat(s->pcapfd, name, F_OK, 0) == 0 ||
	       faccessat(s->pcapfd, part, F_OK, 0) == 0;
}

static int open_period(struct spool *s, uint64_t ts_ns, struct vg_err *err)
{
	uint64_t start = ts_ns - ts_ns % s->rotate_ns;
	time_t t = (time_t)(start / 1000000000u);
	struct tm tm;
	gmtime_r(&t, &tm);
	char base[32];
	strftime(base, sizeof base, "%Y%m%dT%H%M%SZ", &tm);
	/* A restart within a period finds its first file there: keep both. */
	snprintf(s->name, sizeof s->name, "%s.pcap", base);
	for (int i = 1; name_taken(s, s->name); i++) {
		if (i > 999)
			return vg_err_set(err, -EEXIST, "%s/pcap/%s: 999 files for one period",
					  s->dir, base);
		snprintf(s->name, sizeof s->name, "%s-%d.pcap", base, i);
	}
	char part[NAME_MAX_LEN + 8];
	snprintf(part, sizeof part, "%s.part", s->name);
	int fd = openat(s->pcapfd, part, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return vg_err_set(err, -errno, "%s/pcap/%s: %s", s->dir, part, strerror(errno));
	uint8_t h[24];
	pcap_header(h, s->o.snaplen, s->o.linktype);
	if (pwrite(fd, h, sizeof h, 0) != (ssize_t)sizeof h) {
		int e = errno ? errno : EIO;
		close(fd);
		unlinkat(s->pcapfd, part, 0);
		return vg_err_set(err, -e, "%s/pcap/%s: %s", s->dir, part, strerror(e));
	}
	if (!EVP_DigestInit_ex(s->md, EVP_sha256(), NULL)) {
		close(fd);
		unlinkat(s->pcapfd, part, 0);
		return vg_err_set(err, -ENOMEM, "SHA-256 unavailable");
	}
	EVP_DigestUpdate(s->md, h, sizeof h);
	s->fd = fd;
	s->file_bytes = sizeof h;
	s->st.bytes_written += sizeof h;
	s->broken = false;
	s->period_start = start;
	s->period_end = start + s->rotate_ns;
	return 0;
}

/* ---- open: recover what a crash left ---------------------------------- */

static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof tmp)
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int recover(struct spool *s, struct vg_err *err)
{
	struct manifest m;
	int rc = manifest_read(s->dirfd, &m, err, s->dir);
	if (rc < 0)
		return rc;
	int dfd = dup(s->pcapfd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		manifest_free(&m);
		return vg_err_set(err, -errno, "%s/pcap: %s", s->dir, strerror(errno));
	}
	rewinddir(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		if (strlen(n) >= NAME_MAX_LEN - 5 || n[0] == '.')
			continue;
		bool part = has_suffix(n, ".pcap.part");
		if (!part && !has_suffix(n, ".pcap"))
			continue;
		char final[NAME_MAX_LEN];
		snprintf(final, sizeof final, "%.*s", (int)(strlen(n) - (part ? 5 : 0)), n);
		char listed[NAME_MAX_LEN + 8];
		snprintf(listed, sizeof listed, "pcap/%s", final);
		bool known = false;
		for (size_t i = 0; i < m.n; i++)
			if (!m.v[i].raw && !strcmp(m.v[i].name, listed))
				known = true;
		struct stat st;
		if (fstatat(s->pcapfd, n, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (!part && known) {
			s->completed_bytes += (uint64_t)st.st_size;
			continue;
		}
		if (part && (known || faccessat(s->pcapfd, final, F_OK, 0) == 0))
			continue;   /* never overwrite a completed file */
		int fd = openat(s->pcapfd, n, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		char sha[65];
		uint64_t size = 0;
		int r = repair_and_hash(fd, &size, sha);
		close(fd);
		if (r == -EBADMSG && part && st.st_size < 24) {
			unlinkat(s->pcapfd, n, 0);   /* died before its header: nothing in it */
			continue;
		}
		if (r < 0)
			continue;   /* not ours, or unreadable: left for a human */
		if (part && renameat(s->pcapfd, n, s->pcapfd, final) < 0)
			continue;
		uint64_t mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000u;
		if (add_pending(s, sha, size, final, mtime) < 0) {
			rc = -ENOMEM;
			break;
		}
		s->completed_bytes += size;
	}
	closedir(d);
	manifest_free(&m);
	if (rc == 0 && s->pending.n) {
		fsync(s->pcapfd);
		rc = flush_pending(s, err);
	}
	return rc;
}

int spool_open(struct spool **out, const struct spool_opts *o, struct vg_err *err)
{
	*out = NULL;
	if (!o->dir || !*o->dir)
		return vg_err_set(err, -EINVAL, "no spool directory given");
	if (o->rotate_seconds == 0)
		return vg_err_set(err, -EINVAL, "%s: the rotation interval must be positive", o->dir);
	struct spool *s = calloc(1, sizeof *s);
	if (!s)
		return vg_err_set(err, -ENOMEM, "%s: out of memory", o->dir);
	s->fd = s->dirfd = s->pcapfd = s->lockfd = -1;
	s->o = *o;
	s->dir = strdup(o->dir);
	s->o.dir = s->dir;
	if (s->o.snaplen == 0 || s->o.snaplen > MAX_SNAPLEN)
		s->o.snaplen = MAX_SNAPLEN;
	s->rotate_ns = (uint64_t)o->rotate_seconds * 1000000000u;
	s->buf = malloc(BUF_BYTES);
	s->md = EVP_MD_CTX_new();
	int rc = 0;
	if (!s->dir || !s->buf || !s->md) {
		rc = vg_err_set(err, -ENOMEM, "%s: out of memory", o->dir);
		goto fail;
	}
	rc = mkdir_p(s->dir, 0750);
	if (rc < 0) {
		vg_err_set(err, rc, "%s: cannot create: %s", s->dir, strerror(-rc));
		goto fail;
	}
	s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		rc = vg_err_set(err, -errno, "%s: %s", s->dir, strerror(errno));
		goto fail;
	}
	if (mkdirat(s->dirfd, "pcap", 0750) < 0 && errno != EEXIST) {
		rc = vg_err_set(err, -errno, "%s/pcap: %s", s->dir, strerror(errno));
		goto fail;
	}
	s->pcapfd = openat(s->dirfd, "pcap", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->pcapfd < 0) {
		rc = vg_err_set(err, -errno, "%s/pcap: %s", s->dir, strerror(errno));
		goto fail;
	}
	s->lockfd = openat(s->dirfd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (s->lockfd < 0 || flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		rc = vg_err_set(err, e == EWOULDBLOCK ? -EBUSY : -e, "%s: %s", s->dir,
				e == EWOULDBLOCK ? "another vigia-sensord writes this spool"
						 : strerror(e));
		goto fail;
	}
	rc = recover(s, err);
	if (rc < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	spool_close(s, NULL);
	return rc;
}

/* ---- writing ---------------------------------------------------------- */

int spool_write(struct spool *s, uint64_t ts_ns, const uint8_t *frame, uint32_t caplen,
		uint32_t wirelen, struct vg_err *err)
{
	if (ts_ns > s->last_ns)
		s->last_ns = ts_ns;
	/* Rotate forward when time passes the period; a clock stepping back
	 * by more than a period starts a new file too, so a file never
	 * spans more than its name says by much. */
	if (s->fd < 0 || ts_ns >= s->period_end || ts_ns + s->rotate_ns < s->period_start) {
		int rc = 0;
		if (s->fd >= 0)
			rc = complete_current(s, ts_ns, err);
		int rc2 = open_period(s, ts_ns, rc < 0 ? NULL : err);
		if (rc2 < 0) {
			s->st.frames_dropped++;
			s->st.write_errors++;
			s->st.last_errno = -rc2;
			return rc2;
		}
		if (rc < 0)
			return rc;   /* the new file is open; the frame is written next time */
	}
	if (caplen > s->o.snaplen)
		caplen = s->o.snaplen;
	if (wirelen < caplen)
		wirelen = caplen;
	size_t need = 16 + (size_t)caplen;
	if (s->blen + need > BUF_BYTES) {
		int rc = flush_buf(s, err);
		if (rc < 0) {
			s->st.frames_dropped++;
			return rc;
		}
	}
	uint32_t hdr[4] = { (uint32_t)(ts_ns / 1000000000u), (uint32_t)(ts_ns % 1000000000u),
			    caplen, wirelen };
	memcpy(s->buf + s->blen, hdr, 16);
	memcpy(s->buf + s->blen + 16, frame, caplen);
	s->blen += need;
	s->bframes++;
	s->st.frames_written++;
	return 0;
}

/* ---- retention -------------------------------------------------------- */

struct cand {
	size_t idx;
	uint64_t completed;
	bool archived;
};

static int cand_cmp(const void *x, const void *y)
{
	const struct cand *a = x, *b = y;
	if (a->archived != b->archived)
		return a->archived ? -1 : 1;   /* collected files go first */
	if (a->completed != b->completed)
		return a->completed < b->completed ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static uint64_t free_bytes(int fd)
{
	struct statvfs v;
	if (fstatvfs(fd, &v) < 0)
		return UINT64_MAX;   /* unknown: never an emergency */
	return (uint64_t)v.f_bavail * v.f_frsize;
}

static int retention(struct spool *s, uint64_t now_ns, struct vg_err *err)
{
	int lk = manifest_lock(s->dirfd, s->dir, err);
	if (lk < 0)
		return lk;
	struct manifest m;
	int rc = manifest_read(s->dirfd, &m, err, s->dir);
	if (rc < 0) {
		manifest_unlock(lk);
		return rc;
	}
	uint64_t keep_ns = (uint64_t)s->o.retention_seconds * 1000000000u;
	struct cand *c = calloc(m.n + 1, sizeof *c);
	size_t nc = 0, normal = 0;
	if (!c)
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < m.n; i++) {
		struct mentry *e = &m.v[i];
		uint64_t done;
		if (e->raw || !parse_rfc3339(e->completed, &done) || strncmp(e->name, "pcap/", 5) ||
		    strchr(e->name + 5, '/'))
			continue;
		bool archived = !strcmp(e->state, "archived");
		if (archived && done + keep_ns <= now_ns) {
			e->drop = true;
			normal++;
		} else {
			c[nc++] = (struct cand){ .idx = i, .completed = done, .archived = archived };
		}
	}
	/* Normal deletions: the manifest forgets the file before it goes, so
	 * a reader never sees a listed file missing. */
	if (rc == 0 && normal) {
		rc = manifest_write(s->dirfd, &m, err, s->dir);
		for (size_t i = 0; rc == 0 && i < m.n; i++) {
			if (!m.v[i].drop)
				continue;
			if (unlinkat(s->dirfd, m.v[i].name, 0) == 0)
				s->completed_bytes -= s->completed_bytes >= m.v[i].size
							      ? m.v[i].size : s->completed_bytes;
		}
	}
	/* Emergency: free space first (the manifest rewrite itself needs
	 * room), oldest collected files, then oldest uncollected ones. */
	uint64_t lost = 0;
	char first_lost[NAME_MAX_LEN] = "";
	uint64_t avail = free_bytes(s->dirfd);
	bool low = rc == 0 && s->o.min_free_bytes && avail < s->o.min_free_bytes;
	if (low) {
		qsort(c, nc, sizeof *c, cand_cmp);
		size_t gone = 0;
		for (size_t k = 0; k < nc && avail < s->o.min_free_bytes; k++) {
			struct mentry *e = &m.v[c[k].idx];
			if (unlinkat(s->dirfd, e->name, 0) < 0 && errno != ENOENT)
				continue;
			e->drop = true;
			gone++;
			s->completed_bytes -= s->completed_bytes >= e->size ? e->size
									    : s->completed_bytes;
			if (!c[k].archived) {
				if (!lost++)
					snprintf(first_lost, sizeof first_lost, "%s", e->name);
			}
			avail = free_bytes(s->dirfd);
		}
		if (gone) {
			struct vg_err e2;
			int r = manifest_write(s->dirfd, &m, &e2, s->dir);
			(void)r;   /* retried by the next rewrite, which drops missing files */
		}
	}
	free(c);
	manifest_free(&m);
	manifest_unlock(lk);
	if (rc < 0)
		return rc;
	if (lost) {
		s->st.uncollected_deleted += lost;
		vg_err_set(err, SPOOL_TICK_DELETED_UNCOLLECTED,
			   "%s: only %llu bytes free (minimum %llu): deleted %llu file%s not yet "
			   "collected by the central server, the oldest %s",
			   s->dir, (unsigned long long)avail, (unsigned long long)s->o.min_free_bytes,
			   (unsigned long long)lost, lost > 1 ? "s" : "", first_lost);
		return SPOOL_TICK_DELETED_UNCOLLECTED;
	}
	return 0;
}

int spool_tick(struct spool *s, uint64_t now_ns, struct vg_err *err)
{
	if (now_ns > s->last_ns)
		s->last_ns = now_ns;
	int rc = 0;
	if (s->fd >= 0 && now_ns >= s->period_end)
		rc = complete_current(s, now_ns, err);
	else if (s->fd >= 0)
		rc = flush_buf(s, err);   /* a crash then costs at most a tick of packets */
	if (rc == 0 && s->pending.n)
		rc = flush_pending(s, err);
	/* at most once a second; a clock stepped back must not stall it */
	if (!s->retention_ran || now_ns >= s->last_retention + 1000000000u ||
	    now_ns < s->last_retention) {
		s->retention_ran = true;
		s->last_retention = now_ns;
		int r = retention(s, now_ns, rc < 0 ? NULL : err);
		if (rc == 0)
			rc = r;
	}
	return rc;
}

int spool_close(struct spool *s, struct vg_err *err)
{
	if (!s)
		return 0;
	int rc = 0;
	if (s->fd >= 0)
		rc = complete_current(s, s->last_ns, err);
	if (s->pending.n && s->dirfd >= 0) {
		int r = flush_pending(s, rc < 0 ? NULL : err);
		if (rc == 0)
			rc = r;
	}
	if (s->pcapfd >= 0)
		close(s->pcapfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	EVP_MD_CTX_free(s->md);
	free(s->pending.v);
	free(s->buf);
	free(s->dir);
	free(s);
	return rc;
}

int spool_ack(const char *dir, const char *const *names, int n, struct vg_err *err)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return vg_err_set(err, -errno, "%s: %s", dir, strerror(errno));
	int lk = manifest_lock(dfd, dir, err);
	if (lk < 0) {
		close(dfd);
		return lk;
	}
	struct manifest m;
	int rc = manifest_read(dfd, &m, err, dir);
	int found = 0;
	bool changed = false;
	for (int i = 0; rc == 0 && i < n; i++) {
		bool hit = false;
		for (size_t j = 0; j < m.n; j++) {
			if (!entry_matches(&m.v[j], names[i]))
				continue;
			hit = true;
			if (strcmp(m.v[j].state, "archived")) {
				strcpy(m.v[j].state, "archived");
				changed = true;
			}
		}
		found += hit;
	}
	if (rc == 0 && changed)
		rc = manifest_write(dfd, &m, err, dir);
	manifest_free(&m);
	manifest_unlock(lk);
	close(dfd);
	return rc < 0 ? rc : found;
}

uint64_t spool_bytes(const struct spool *s)
{
	return s->completed_bytes + (s->fd >= 0 ? s->file_bytes + s->blen : 0);
}

void spool_get_stats(const struct spool *s, struct spool_stats *st)
{
	*st = s->st;
}
