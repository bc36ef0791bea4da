/* test-sp-spool: pcap rotation, the manifest's SHA-256, retention and
 * acknowledgement, crash recovery and write errors (issue 3, acceptance 4).
 * Time is passed in, so a 10-second rotation stands for the hourly one. */
#include "check.h"
#include "sp-spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define SEC 1000000000ull
#define T0 (1700000000ull * SEC)   /* 2023-11-14T22:13:20Z, a multiple of 10 s */

static char root[256];

static void rm_rf(const char *path)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", path);
}

static const char *spool_path(const char *sub)
{
	static char buf[4][512];
	static int i;
	char *b = buf[i++ % 4];
	snprintf(b, sizeof buf[0], "%s/%s", root, sub);
	return b;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* SHA-256 of a file, computed independently of the spool's incremental
 * hash: the whole file read back, one EVP_Digest call. */
static int file_sha256(const char *path, char hexout[65], uint64_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *d = malloc((size_t)n + 1);
	if (!d || fread(d, 1, (size_t)n, f) != (size_t)n) {
		free(d);
		fclose(f);
		return -1;
	}
	fclose(f);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_Digest(d, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
	free(d);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hexout + 2 * i, 3, "%02x", md[i]);
	*size = (uint64_t)n;
	return 0;
}

struct mline {
	char sha[80], name[200], completed[40], state[20];
	unsigned long long size;
};

static int read_manifest(const char *dir, struct mline *m, int max)
{
	char path[600];
	snprintf(path, sizeof path, "%s/MANIFEST", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int n = 0;
	char line[512];
	while (n < max && fgets(line, sizeof line, f)) {
		CHECK_EQ_I(sscanf(line, "%79s %llu %199s %39s %19s", m[n].sha, &m[n].size, m[n].name,
				  m[n].completed, m[n].state), 5);
		CHECK(line[strlen(line) - 1] == '\n');
		n++;
	}
	fclose(f);
	return n;
}

static const struct mline *find_line(const struct mline *m, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(m[i].name, name))
			return &m[i];
	return NULL;
}

static uint8_t frame[1500];

static struct spool *open_spool(const char *dir, uint64_t min_free, struct vg_err *err)
{
	struct spool_opts o = { .dir = dir, .rotate_seconds = 10, .retention_seconds = 60,
				.min_free_bytes = min_free, .linktype = 1, .snaplen = 65535 };
	struct spool *s = NULL;
	int rc = spool_open(&s, &o, err);
	if (rc < 0)
		fprintf(stderr, "spool_open: %s\n", err->msg);
	return s;
}

static int count_frames(const char *path, uint64_t *first_ns)
{
	char e[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, e);
	if (!p) {
		fprintf(stderr, "%s: %s\n", path, e);
		return -1;
	}
	struct pcap_pkthdr *h;
	const u_char *d;
	int n = 0;
	while (pcap_next_ex(p, &h, &d) == 1) {
		if (n == 0 && first_ns)
			*first_ns = (uint64_t)h->ts.tv_sec * SEC + (uint64_t)h->ts.tv_usec;
		n++;
	}
	CHECK_EQ_I(pcap_datalink(p), 1);
	pcap_close(p);
	return n;
}

TEST(files_rotate_per_period_as_part_then_complete_with_sha256)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/rot", root);
	struct vg_err err = { 0 };
	struct spool *s = open_spool(dir, 0, &err);
	CHECK(s != NULL);
	if (!s)
		return;
	/* 3 periods: [T0, T0+10s), [T0+10s, +20s), then a gap, [T0+40s, +50s) */
	uint64_t ts[] = { T0 + 500000000ull, T0 + 2 * SEC + 123, T0 + 9 * SEC + 999999999ull,
			  T0 + 10 * SEC, T0 + 15 * SEC, T0 + 41 * SEC };
	for (size_t i = 0; i < 3; i++)
		CHECK_EQ_I(spool_write(s, ts[i], frame, 60 + (uint32_t)i, 60 + (uint32_t)i, &err), 0);
	CHECK_EQ_I(spool_tick(s, T0 + 9 * SEC, &err), 0);
	CHECK(exists(spool_path("rot/pcap/20231114T221320Z.pcap.part")));
	CHECK(!exists(spool_path("rot/pcap/20231114T221320Z.pcap")));
	CHECK(!exists(spool_path("rot/MANIFEST")));
	CHECK(spool_bytes(s) == 24 + 3 * 16 + 60 + 61 + 62);

	for (size_t i = 3; i < 5; i++)
		CHECK_EQ_I(spool_write(s, ts[i], frame, 100, 1500, &err), 0);
	/* the first frame of the next period completed the first file */
	CHECK(!exists(spool_path("rot/pcap/20231114T221320Z.pcap.part")));
	CHECK(exists(spool_path("rot/pcap/20231114T221320Z.pcap")));
	CHECK(exists(spool_path("rot/pcap/20231114T221330Z.pcap.part")));
	struct mline m[16];
	CHECK_EQ_I(read_manifest(dir, m, 16), 1);

	/* the clock passing the period's end completes it without a packet */
	CHECK_EQ_I(spool_tick(s, T0 + 20 * SEC, &err), 0);
	CHECK(exists(spool_path("rot/pcap/20231114T221330Z.pcap")));
	CHECK_EQ_I(read_manifest(dir, m, 16), 2);

	CHECK_EQ_I(spool_write(s, ts[5], frame, 70, 70, &err), 0);
	CHECK(exists(spool_path("rot/pcap/20231114T221400Z.pcap.part")));
	CHECK_EQ_I(spool_close(s, &err), 0);
	CHECK(exists(spool_path("rot/pcap/20231114T221400Z.pcap")));

	int n = read_manifest(dir, m, 16);
	CHECK_EQ_I(n, 3);
	const char *names[] = { "pcap/20231114T221320Z.pcap", "pcap/20231114T221330Z.pcap",
				"pcap/20231114T221400Z.pcap" };
	int frames[] = { 3, 2, 1 };
	for (int i = 0; i < 3; i++) {
		const struct mline *l = find_line(m, n, names[i]);
		CHECK(l != NULL);
		if (!l)
			continue;
		char path[600], sha[65];
		uint64_t size = 0;
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		CHECK_EQ_I(file_sha256(path, sha, &size), 0);
		CHECK_STREQ(l->sha, sha);
		CHECK_EQ_U(l->size, size);
		CHECK_STREQ(l->state, "new");
		uint64_t first = 0;
		CHECK_EQ_I(count_frames(path, &first), frames[i]);
		if (i == 0)
			CHECK_EQ_U(first, ts[0]);   /* nanoseconds kept */
	}
	/* completion times: at the packet that crossed, at the tick, at close */
	CHECK_STREQ(find_line(m, n, names[0])->completed, "2023-11-14T22:13:30Z");
	CHECK_STREQ(find_line(m, n, names[1])->completed, "2023-11-14T22:13:40Z");
	CHECK_STREQ(find_line(m, n, names[2])->completed, "2023-11-14T22:14:01Z");

	/* tcpdump reads it too (it is what people will use on a sensor) */
	char cmd[700];
	snprintf(cmd, sizeof cmd, "tcpdump -nn -r '%s/%s' >/dev/null 2>&1", dir, names[0]);
	CHECK_EQ_I(system(cmd), 0);
	/* and sha256sum agrees with the manifest line for line */
	snprintf(cmd, sizeof cmd, "cd '%s' && awk '{print $1\"  \"$3}' MANIFEST | sha256sum -c --quiet -",
		 dir);
	CHECK_EQ_I(system(cmd), 0);
}

TEST(retention_deletes_only_archived_old_files_and_ack_marks_lines)
{
	char dir[512];   /* the three files of the test above */
	snprintf(dir, sizeof dir, "%s/rot", root);
	struct vg_err err = { 0 };
	struct spool *s = open_spool(dir, 0, &err);
	CHECK(s != NULL);
	if (!s)
		return;
	struct mline m[16];
	/* long past retention, but nothing collected: everything stays */
	CHECK_EQ_I(spool_tick(s, T0 + 3600 * SEC, &err), 0);
	CHECK_EQ_I(read_manifest(dir, m, 16), 3);
	CHECK(exists(spool_path("rot/pcap/20231114T221320Z.pcap")));

	const char *acked[] = { "pcap/20231114T221320Z.pcap", "20231114T221400Z.pcap", "nope.pcap" };
	CHECK_EQ_I(spool_ack(dir, acked, 3, &err), 2);
	int n = read_manifest(dir, m, 16);
	CHECK_EQ_I(n, 3);
	CHECK_STREQ(find_line(m, n, "pcap/20231114T221320Z.pcap")->state, "archived");
	CHECK_STREQ(find_line(m, n, "pcap/20231114T221330Z.pcap")->state, "new");
	CHECK_STREQ(find_line(m, n, "pcap/20231114T221400Z.pcap")->state, "archived");
	/* acking twice changes nothing */
	CHECK_EQ_I(spool_ack(dir, acked, 1, &err), 1);

	/* 22:14:30: the first file (completed 22:13:30) is 60 s old, the
	 * third (22:14:01) is not: only the first goes */
	CHECK_EQ_I(spool_tick(s, T0 + 70 * SEC, &err), 0);
	n = read_manifest(dir, m, 16);
	CHECK_EQ_I(n, 2);
	CHECK(!exists(spool_path("rot/pcap/20231114T221320Z.pcap")));
	CHECK(find_line(m, n, "pcap/20231114T221320Z.pcap") == NULL);
	CHECK(exists(spool_path("rot/pcap/20231114T221400Z.pcap")));

	CHECK_EQ_I(spool_tick(s, T0 + 200 * SEC, &err), 0);
	n = read_manifest(dir, m, 16);
	CHECK_EQ_I(n, 1);
	CHECK(!exists(spool_path("rot/pcap/20231114T221400Z.pcap")));
	/* the uncollected one is still there, far past retention */
	CHECK(exists(spool_path("rot/pcap/20231114T221330Z.pcap")));
	CHECK_STREQ(m[0].state, "new");
	CHECK_EQ_I(spool_close(s, &err), 0);
}

TEST(low_free_space_deletes_uncollected_files_oldest_first_and_says_so)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/low", root);
	struct vg_err err = { 0 };
	struct spool *s = open_spool(dir, 0, &err);
	CHECK(s != NULL);
	if (!s)
		return;
	for (int p = 0; p < 4; p++)
		CHECK_EQ_I(spool_write(s, T0 + (uint64_t)p * 10 * SEC, frame, 200, 200, &err), 0);
	CHECK_EQ_I(spool_close(s, &err), 0);
	const char *acked[] = { "pcap/20231114T221330Z.pcap" };
	CHECK_EQ_I(spool_ack(dir, acked, 1, &err), 1);
	struct mline m[16];
	CHECK_EQ_I(read_manifest(dir, m, 16), 4);

	/* "free space below the minimum" forced by asking for more than any disk has */
	s = open_spool(dir, UINT64_MAX / 2, &err);
	CHECK(s != NULL);
	if (!s)
		return;
	memset(&err, 0, sizeof err);
	int rc = spool_tick(s, T0 + 45 * SEC, &err);
	CHECK_EQ_I(rc, SPOOL_TICK_DELETED_UNCOLLECTED);
	CHECK(strstr(err.msg, "deleted 3 files not yet collected") != NULL);
	CHECK(strstr(err.msg, "the oldest pcap/20231114T221320Z.pcap") != NULL);
	CHECK_EQ_I(read_manifest(dir, m, 16), 0);
	DIR *d = opendir(spool_path("low/pcap"));
	int left = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		left += de->d_name[0] != '.';
	if (d)
		closedir(d);
	CHECK_EQ_I(left, 0);
	struct spool_stats st;
	spool_get_stats(s, &st);
	CHECK_EQ_U(st.uncollected_deleted, 3);
	CHECK_EQ_I(spool_close(s, &err), 0);
}

TEST(a_second_writer_is_refused)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/lock", root);
	struct vg_err err = { 0 };
	struct spool *a = open_spool(dir, 0, &err), *b = NULL;
	CHECK(a != NULL);
	struct spool_opts o = { .dir = dir, .rotate_seconds = 10, .linktype = 1 };
	CHECK_EQ_I(spool_open(&b, &o, &err), -EBUSY);
	CHECK(b == NULL);
	CHECK(strstr(err.msg, "another vigia-sensord") != NULL);
	CHECK_EQ_I(spool_close(a, &err), 0);
}

TEST(a_part_file_left_by_a_crash_is_repaired_and_listed_on_open)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/crash", root);
	struct vg_err err = { 0 };
	struct spool *s = open_spool(dir, 0, &err);
	CHECK(s != NULL);
	if (!s)
		return;
	for (int i = 0; i < 5; i++)
		CHECK_EQ_I(spool_write(s, T0 + (uint64_t)i * SEC, frame, 100, 100, &err), 0);
	CHECK_EQ_I(spool_tick(s, T0 + 5 * SEC, &err), 0);   /* flushed, still .part */
	/* simulate the crash: copy the .part aside, cut its last record in
	 * half, then put it back after a clean close removed the original */
	const char *part = spool_path("crash/pcap/20231114T221320Z.pcap.part");
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "cp '%s' '%s.saved'", part, part);
	CHECK_EQ_I(system(cmd), 0);
	CHECK_EQ_I(spool_close(s, &err), 0);
	snprintf(cmd, sizeof cmd, "cd '%s' && rm -f MANIFEST pcap/20231114T221320Z.pcap && "
		 "head -c %d pcap/20231114T221320Z.pcap.part.saved > pcap/20231114T221320Z.pcap.part && "
		 "rm pcap/20231114T221320Z.pcap.part.saved", dir, 24 + 4 * 116 + 50);
	CHECK_EQ_I(system(cmd), 0);
	/* and a stray header-less .part, as if killed at creation */
	snprintf(cmd, sizeof cmd, "printf 'ab' > '%s/pcap/20231114T221330Z.pcap.part'", dir);
	CHECK_EQ_I(system(cmd), 0);

	s = open_spool(dir, 0, &err);
	CHECK(s != NULL);
	const char *done = spool_path("crash/pcap/20231114T221320Z.pcap");
	CHECK(exists(done));
	CHECK(!exists(part));
	CHECK(!exists(spool_path("crash/pcap/20231114T221330Z.pcap.part")));
	CHECK_EQ_I(count_frames(done, NULL), 4);
	struct mline m[4];
	CHECK_EQ_I(read_manifest(dir, m, 4), 1);
	char sha[65];
	uint64_t size;
	CHECK_EQ_I(file_sha256(done, sha, &size), 0);
	CHECK_EQ_U(size, 24 + 4 * 116);
	CHECK_STREQ(m[0].sha, sha);
	CHECK_EQ_U(m[0].size, size);
	/* writing again in the same period does not overwrite it */
	CHECK_EQ_I(spool_write(s, T0 + 6 * SEC, frame, 100, 100, &err), 0);
	CHECK_EQ_I(spool_close(s, &err), 0);
	CHECK(exists(spool_path("crash/pcap/20231114T221320Z-1.pcap")));
	CHECK_EQ_I(read_manifest(dir, m, 4), 2);
	CHECK_EQ_I(count_frames(done, NULL), 4);
}

TEST(write_errors_are_reported_and_lose_nothing_completed)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/full", root);
	struct vg_err err = { 0 };
	struct spool *s = open_spool(dir, 0, &err);
	CHECK(s != NULL);
	if (!s)
		return;
	/* a complete first file */
	CHECK_EQ_I(spool_write(s, T0, frame, 1000, 1000, &err), 0);
	CHECK_EQ_I(spool_tick(s, T0 + 10 * SEC, &err), 0);
	/* the file size limit stands for a full disk: writes past it fail
	 * with EFBIG after a partial write, like ENOSPC */
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 20000;
	CHECK_EQ_I(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (int i = 0; i < 10; i++)
		CHECK_EQ_I(spool_write(s, T0 + 11 * SEC + (uint64_t)i, frame, 1000, 1000, &err), 0);
	CHECK_EQ_I(spool_tick(s, T0 + 11 * SEC + 100, &err), 0);   /* 10 frames fit */
	for (int i = 0; i < 20; i++)
		CHECK_EQ_I(spool_write(s, T0 + 12 * SEC + (uint64_t)i, frame, 1000, 1000, &err), 0);
	int rc = spool_tick(s, T0 + 12 * SEC + 100, &err);
	CHECK_EQ_I(rc, -EFBIG);
	CHECK(strstr(err.msg, "20 frames lost") != NULL);
	struct spool_stats st;
	spool_get_stats(s, &st);
	CHECK_EQ_U(st.frames_dropped, 20);
	CHECK_EQ_U(st.frames_written, 11);
	CHECK_EQ_I(st.last_errno, EFBIG);
	/* room again: later frames are written after the undone partial write */
	CHECK_EQ_I(setrlimit(RLIMIT_FSIZE, &old), 0);
	CHECK_EQ_I(spool_write(s, T0 + 13 * SEC, frame, 1000, 1000, &err), 0);
	CHECK_EQ_I(spool_close(s, &err), 0);
	signal(SIGXFSZ, SIG_DFL);

	struct mline m[4];
	int n = read_manifest(dir, m, 4);
	CHECK_EQ_I(n, 2);
	for (int i = 0; i < n; i++) {
		char path[600], sha[65];
		uint64_t size;
		snprintf(path, sizeof path, "%s/%s", dir, m[i].name);
		CHECK_EQ_I(file_sha256(path, sha, &size), 0);
		CHECK_STREQ(m[i].sha, sha);
		CHECK_EQ_I(count_frames(path, NULL), i == 0 ? 1 : 11);
	}
}

TEST(sustained_write_rate)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/rate", root);
	struct vg_err err = { 0 };
	struct spool_opts o = { .dir = dir, .rotate_seconds = 3600, .retention_seconds = 86400,
				.linktype = 1, .snaplen = 65535 };
	struct spool *s = NULL;
	CHECK_EQ_I(spool_open(&s, &o, &err), 0);
	if (!s)
		return;
	const int N = 2000000;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	int bad = 0;
	for (int i = 0; i < N; i++)
		bad += spool_write(s, T0 + (uint64_t)i * 3000, frame, 60, 60, &err) != 0;
	CHECK_EQ_I(spool_close(s, &err), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK_EQ_I(bad, 0);
	double sec = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("     %d frames of 60 bytes in %.2f s: %.0f frames/s (incl. SHA-256, fsync)\n", N,
	       sec, N / sec);
	struct mline m[4];
	CHECK_EQ_I(read_manifest(dir, m, 4), 1);
	CHECK_EQ_U(m[0].size, 24 + (uint64_t)N * 76);
}

int main(void)
{
	snprintf(root, sizeof root, "/tmp/test-sp-spool-XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	for (size_t i = 0; i < sizeof frame; i++)
		frame[i] = (uint8_t)(i * 7 + 1);
	RUN(files_rotate_per_period_as_part_then_complete_with_sha256);
	RUN(retention_deletes_only_archived_old_files_and_ack_marks_lines);
	RUN(low_free_space_deletes_uncollected_files_oldest_first_and_says_so);
	RUN(a_second_writer_is_refused);
	RUN(a_part_file_left_by_a_crash_is_repaired_and_listed_on_open);
	RUN(write_errors_are_reported_and_lose_nothing_completed);
	RUN(sustained_write_rate);
	rm_rf(root);
	return check_summary();
}
