/* mail-maildir.c: the Maildir writer (mail-maildir.h). */
#include "mail-maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int mkdir_ok(const char *p, struct vg_err *err)
{
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return vg_err_set(err, -errno, "%s: %s", p, strerror(errno));
	struct stat st;
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
		return vg_err_set(err, -ENOTDIR, "%s: not a directory", p);
	return 0;
}

int mail_maildir_init(const char *dir, struct vg_err *err)
{
	static const char *const sub[] = {"tmp", "new", "cur"};
	int rc = mkdir_ok(dir, err);
	for (size_t i = 0; !rc && i < 3; i++) {
		char p[4096];
		snprintf(p, sizeof p, "%s/%s", dir, sub[i]);
		rc = mkdir_ok(p, err);
	}
	return rc;
}

static int fsync_dir(const char *p)
{
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

int mail_maildir_write(const char *dir, const char *msg, size_t len, char *name,
		       size_t namelen, struct vg_err *err)
{
	int rc = mail_maildir_init(dir, err);
	if (rc)
		return rc;
	uint8_t r[8];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return vg_err_set(err, -EIO, "%s: no random bytes for a file name", dir);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char host[64] = "localhost";
	gethostname(host, sizeof host - 1);
	for (char *h = host; *h; h++)
		if (*h == '/' || *h == ':')
			*h = '_';
	char base[160];
	snprintf(base, sizeof base, "%lld.M%ldP%dR%02x%02x%02x%02x%02x%02x%02x%02x.%s",
		 (long long)ts.tv_sec, ts.tv_nsec / 1000, (int)getpid(), r[0], r[1], r[2], r[3],
		 r[4], r[5], r[6], r[7], host);
	char tmp[4096], fin[4096];
	snprintf(tmp, sizeof tmp, "%s/tmp/%s", dir, base);
	snprintf(fin, sizeof fin, "%s/new/%s", dir, base);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return vg_err_set(err, -errno, "%s: %s", tmp, strerror(errno));
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, msg + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			close(fd);
			unlink(tmp);
			return vg_err_set(err, -e, "%s: byte offset %zu: %s", tmp, off, strerror(e));
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		int e = errno;
		unlink(tmp);
		return vg_err_set(err, -e, "%s: %s", tmp, strerror(e));
	}
	if (rename(tmp, fin) < 0) {
		int e = errno;
		unlink(tmp);
		return vg_err_set(err, -e, "%s: %s", fin, strerror(e));
	}
	char nd[4096];
	snprintf(nd, sizeof nd, "%s/new", dir);
	if ((rc = fsync_dir(nd)) < 0)
		return vg_err_set(err, rc, "%s: %s", nd, strerror(-rc));
	if (name)
		snprintf(name, namelen, "new/%s", base);
	return 0;
}
