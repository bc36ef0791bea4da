/* test-collect.c: the archive side of collection (collect.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "check.h"
#include "collect.h"

static const char manifest_text[] =
	"750b016bacfdd3732f182b36521a48211364b14d5154e1b46025ce9620c45a2b 255 pcap/20231114T221320Z.pcap 2023-11-14T22:13:30Z new\n"
	"1dc4fa9540d0aaeb862baa9ccb827bacf2806a3a964b62aafae7bf7020155881 19992 pcap/20150330T144400Z-1.pcap 2015-03-30T14:45:01Z archived\n"
	"not a line\n"
	"\n"
	"1dc4fa9540d0aaeb862baa9ccb827bacf2806a3a964b62aafae7bf7020155881 19992 pcap/20150330T144400Z.pcap.part 2015-03-30T14:45:01Z new\n"
	"1dc4fa9540d0aaeb862baa9ccb827bacf2806a3a964b62aafae7bf7020155881 19992 ../etc/passwd 2015-03-30T14:45:01Z new\n"
	"1DC4FA9540D0AAEB862BAA9CCB827BACF2806A3A964B62AAFAE7BF7020155881 19992 pcap/20150330T144400Z.pcap 2015-03-30T14:45:01Z new\n"
	"1dc4fa9540d0aaeb862baa9ccb827bacf2806a3a964b62aafae7bf7020155881 19992 pcap/20150330T144500Z.pcap 2015-03-30T14:45:01Z gone\n";

TEST(manifest_takes_only_completed_packet_files)
{
	struct manifest m;
	struct vg_err err = {0};
	CHECK(manifest_parse("s1:MANIFEST", manifest_text, strlen(manifest_text), &m, &err) == 0);
	CHECK_EQ_U(m.n, 2);
	CHECK_EQ_U(m.skipped, 5);   /* garbage, .part, a path outside, upper-case hex, bad state */
	CHECK(strstr(err.msg, "s1:MANIFEST:3: expected 'SHA256 SIZE NAME COMPLETED STATE'") != NULL);
	if (m.n == 2) {
		CHECK_STREQ(m.v[0].name, "pcap/20231114T221320Z.pcap");
		CHECK_EQ_U(m.v[0].size, 255);
		CHECK(!m.v[0].archived);
		CHECK_EQ_U(m.v[0].completed, 1700000010);
		CHECK(m.v[1].archived);
		CHECK_STREQ(m.v[1].name, "pcap/20150330T144400Z-1.pcap");
	}
	manifest_free(&m);
	/* a buffer without a final newline, cut mid-line: never read past len */
	CHECK(manifest_parse("x", manifest_text, 60, &m, &err) == 0);
	CHECK_EQ_U(m.n, 0);
	CHECK_EQ_U(m.skipped, 1);
	manifest_free(&m);
}

TEST(archive_path_follows_the_file_name_date)
{
	char p[256];
	CHECK(collect_archive_path("/a", "unb-1", "pcap/20231114T221320Z.pcap", p, sizeof p) == 0);
	CHECK_STREQ(p, "/a/unb-1/2023/11/14/20231114T221320Z.pcap.zst");
	CHECK(collect_archive_path("/a", "s", "pcap/20231114T221320Z.pcap.part", p, sizeof p) == -EINVAL);
	CHECK(collect_archive_path("/a", "s", "20231114T221320Z.pcap", p, sizeof p) == -EINVAL);
	CHECK(collect_archive_path("/a", "s", "pcap/20231114T221320Z.pcap", p, 10) == -ENAMETOOLONG);
	CHECK(collect_name_ok("pcap/20231114T221320Z-12.pcap"));
	CHECK(!collect_name_ok("pcap/20231114T221320Z-.pcap"));
	CHECK(!collect_name_ok("pcap/2023111XT221320Z.pcap"));
}

static char tmpdir[64];

static void path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

TEST(state_records_and_ignores_a_torn_last_line)
{
	char st_path[128];
	path_in(st_path, sizeof st_path, "collected");
	struct vg_err err = {0};
	struct collect_state st;
	CHECK(collect_state_load(st_path, &st, &err) == 0);   /* absent: empty */
	CHECK_EQ_U(st.n, 0);
	const char *sha = "750b016bacfdd3732f182b36521a48211364b14d5154e1b46025ce9620c45a2b";
	CHECK(collect_state_append(st_path, sha, "pcap/20231114T221320Z.pcap", &err) == 0);
	FILE *f = fopen(st_path, "a");
	fputs("1dc4fa9540d0aaeb862baa9ccb827bacf2806a3a964b62aafae7bf7020155881 pcap/2015", f);
	fclose(f);
	CHECK(collect_state_load(st_path, &st, &err) == 0);
	CHECK_EQ_U(st.n, 1);
	CHECK(collect_state_has(&st, sha, "pcap/20231114T221320Z.pcap"));
	CHECK(!collect_state_has(&st, sha, "pcap/20231114T221321Z.pcap"));
	CHECK(!collect_state_has(&st, "1dc4fa9540d0aaeb862baa9ccb827bacf2806a3a964b62aafae7bf7020155881",
				"pcap/2015"));
	collect_state_free(&st);
	unlink(st_path);
}

TEST(placed_file_decompresses_to_the_original_and_no_temp_is_left)
{
	char src[128], dst[160], dir[128];
	path_in(src, sizeof src, "in.pcap");
	path_in(dir, sizeof dir, "arch/s/2023/11/14");
	snprintf(dst, sizeof dst, "%s/20231114T221320Z.pcap.zst", dir);
	size_t n = 300000;
	unsigned char *data = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 13);
	FILE *f = fopen(src, "w");
	fwrite(data, 1, n, f);
	fclose(f);
	struct vg_err err = {0};
	char hex[65];
	uint64_t size = 0;
	CHECK(collect_sha256_file(src, hex, &size, &err) == 0);
	CHECK_EQ_U(size, n);
	CHECK(collect_place_zstd(src, dst, 3, &err) == 0);
	/* decompress and compare */
	f = fopen(dst, "r");
	CHECK(f != NULL);
	if (f) {
		fseek(f, 0, SEEK_END);
		long zl = ftell(f);
		rewind(f);
		void *z = malloc((size_t)zl);
		CHECK(fread(z, 1, (size_t)zl, f) == (size_t)zl);
		fclose(f);
		unsigned char *back = malloc(n + 1);
		size_t got = ZSTD_decompress(back, n + 1, z, (size_t)zl);
		CHECK(!ZSTD_isError(got) && got == n && !memcmp(back, data, n));
		free(back);
		free(z);
	}
	/* the only entry in the directory is the placed file */
	char cmd[300];
	snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", dir);
	CHECK(system(cmd) == 0);
	/* an unreadable source leaves nothing behind and dst untouched */
	CHECK(collect_place_zstd("/nonexistent/x", dst, 3, &err) == -ENOENT);
	CHECK(system(cmd) == 0);
	free(data);
	snprintf(cmd, sizeof cmd, "rm -rf '%s/arch' '%s'", tmpdir, src);
	CHECK(system(cmd) == 0);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test-collect-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(manifest_takes_only_completed_packet_files);
	RUN(archive_path_follows_the_file_name_date);
	RUN(state_records_and_ignores_a_torn_last_line);
	RUN(placed_file_decompresses_to_the_original_and_no_temp_is_left);
	rmdir(tmpdir);
	return check_summary();
}
