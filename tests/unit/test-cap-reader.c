/* test-cap-reader: capture files built byte by byte here, compressed
 * with zlib/libzstd, damaged on purpose, plus the real test captures. */
#include "cap-reader.h"
#include "check.h"

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

static char tmpdir[256];

/* ---- byte buffers ---------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *src, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->n, src, n);
	b->n += n;
}

static void put16(struct buf *b, uint16_t v, bool be)
{
	uint8_t x[2] = { (uint8_t)(be ? v >> 8 : v), (uint8_t)(be ? v : v >> 8) };
	put(b, x, 2);
}

static void put32(struct buf *b, uint32_t v, bool be)
{
	uint8_t x[4];
	for (int i = 0; i < 4; i++)
		x[i] = (uint8_t)(v >> (be ? 24 - 8 * i : 8 * i));
	put(b, x, 4);
}

static void put_zero(struct buf *b, size_t n)
{
	static const uint8_t z[8];
	while (n) {
		size_t k = n < 8 ? n : 8;
		put(b, z, k);
		n -= k;
	}
}

static char *tpath(const char *name)
{
	static char p[8][512];
	static int i;
	char *r = p[i++ % 8];
	snprintf(r, sizeof p[0], "%s/%s", tmpdir, name);
	return r;
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f)) {
		perror(path);
		abort();
	}
}

/* ---- capture builders -------------------------------------------------- */

struct pkt {
	uint32_t sec, frac;     /* frac: µs or ns after the second */
	uint32_t caplen, wirelen;
};

static const struct pkt pkts[] = {
	{ 1566400000u, 123456u, 60, 60 },
	{ 1566400001u, 999999u, 54, 1514 },
	{ 0x80000001u, 1u, 98, 98 },     /* after 2038: seconds are unsigned */
	{ 1566400002u, 0u, 1, 64 },
};
#define NPKT (sizeof pkts / sizeof pkts[0])

static void fill_data(uint8_t *d, size_t n, size_t seed)
{
	for (size_t i = 0; i < n; i++)
		d[i] = (uint8_t)(i * 7 + seed * 31 + 1);
}

/* Classic pcap; record i starts at offs[i].  ns: nanosecond magic, with
 * frac scaled so the expected ts_ns stays the same as the µs file's plus
 * a visible nanosecond part. */
static struct buf build_pcap_of(const struct pkt *pk, size_t npk, bool be, bool ns,
			       uint32_t snaplen, uint64_t *offs)
{
	struct buf b = { 0 };
	put32(&b, ns ? 0xa1b23c4du : 0xa1b2c3d4u, be);
	put16(&b, 2, be);
	put16(&b, 4, be);
	put32(&b, 0, be);
	put32(&b, 0, be);
	put32(&b, snaplen, be);
	put32(&b, 1, be);   /* LINKTYPE_ETHERNET */
	for (size_t i = 0; i < npk; i++) {
		uint8_t d[2000];
		if (offs)
			offs[i] = b.n;
		put32(&b, pk[i].sec, be);
		put32(&b, ns ? pk[i].frac * 1000u + 7u : pk[i].frac, be);
		put32(&b, pk[i].caplen, be);
		put32(&b, pk[i].wirelen, be);
		fill_data(d, pk[i].caplen, i);
		put(&b, d, pk[i].caplen);
	}
	return b;
}

static struct buf build_pcap(bool be, bool ns, uint32_t snaplen, uint64_t *offs)
{
	return build_pcap_of(pkts, NPKT, be, ns, snaplen, offs);
}

static uint64_t ts_of(const struct pkt *p, bool ns)
{
	return (uint64_t)p->sec * 1000000000u + p->frac * 1000u + (ns ? 7u : 0u);
}


static void ng_block(struct buf *b, uint32_t type, const struct buf *body, bool be)
{
	uint32_t len = 12 + (uint32_t)body->n;
	put32(b, type, be);
	put32(b, len, be);
	put(b, body->p, body->n);
	put32(b, len, be);
}

/* pcapng: SHB, IDB (ns resolution when ns), an unknown block libpcap
 * must skip, then one EPB per packet. */
static struct buf build_pcapng_of(const struct pkt *pk, size_t npk, bool be, bool ns,
				  uint64_t *offs)
{
	struct buf b = { 0 }, body = { 0 };

	put32(&body, 0x1a2b3c4du, be);
	put16(&body, 1, be);
	put16(&body, 0, be);
	put32(&body, 0xffffffffu, be);  /* section length unknown */
	put32(&body, 0xffffffffu, be);
	ng_block(&b, 0x0a0d0d0au, &body, be);

	body.n = 0;
	put16(&body, 1, be);            /* LINKTYPE_ETHERNET */
	put16(&body, 0, be);
	put32(&body, 65535, be);
	if (ns) {
		uint8_t nine = 9;
		put16(&body, 9, be);    /* if_tsresol */
		put16(&body, 1, be);
		put(&body, &nine, 1);
		put_zero(&body, 3);
		put32(&body, 0, be);    /* opt_endofopt */
	}
	ng_block(&b, 1, &body, be);

	body.n = 0;
	put32(&body, 0xdeadbeefu, be);
	ng_block(&b, 0x00000badu, &body, be);

	for (size_t i = 0; i < npk; i++) {
		uint8_t d[2000];
		uint64_t t = ns ? ts_of(&pk[i], true) : ts_of(&pk[i], false) / 1000u;
		body.n = 0;
		put32(&body, 0, be);
		put32(&body, (uint32_t)(t >> 32), be);
		put32(&body, (uint32_t)t, be);
		put32(&body, pk[i].caplen, be);
		put32(&body, pk[i].wirelen, be);
		fill_data(d, pk[i].caplen, i);
		put(&body, d, pk[i].caplen);
		put_zero(&body, (4 - pk[i].caplen % 4) % 4);
		if (i % 97 == 5) { /* an EPB option: blocks of any length */
			put16(&body, 1, be); /* opt_comment */
			put16(&body, 5, be);
			put(&body, "hello\0\0\0", 8);
			put32(&body, 0, be);
		}
		if (offs)
			offs[i] = b.n;
		ng_block(&b, 6, &body, be);
		if (i % 1000 == 999) { /* a block libpcap skips */
			struct buf nb = { 0 };
			put32(&nb, 0x12345678u, be);
			ng_block(&b, 0x00000badu, &nb, be);
			free(nb.p);
		}
	}
	free(body.p);
	return b;
}

static struct buf build_pcapng(bool be, bool ns, uint64_t *offs)
{
	return build_pcapng_of(pkts, NPKT, be, ns, offs);
}

static struct buf gzip_parts(const struct buf *in, size_t nparts)
{
	struct buf out = { 0 };
	size_t step = in->n / nparts + 1;
	for (size_t off = 0; off < in->n; off += step) {
		size_t n = in->n - off < step ? in->n - off : step;
		z_stream z = { 0 };
		uint8_t tmp[1 << 16];
		if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			abort();
		z.next_in = in->p + off;
		z.avail_in = (uInt)n;
		int rc;
		do {
			z.next_out = tmp;
			z.avail_out = sizeof tmp;
			rc = deflate(&z, Z_FINISH);
			put(&out, tmp, sizeof tmp - z.avail_out);
		} while (rc == Z_OK);
		deflateEnd(&z);
	}
	return out;
}

static struct buf zstd_parts(const struct buf *in, size_t nparts)
{
	struct buf out = { 0 };
	size_t step = in->n / nparts + 1;
	for (size_t off = 0; off < in->n; off += step) {
		size_t n = in->n - off < step ? in->n - off : step;
		size_t cap = ZSTD_compressBound(n);
		uint8_t *tmp = malloc(cap);
		size_t z = ZSTD_compress(tmp, cap, in->p + off, n, 3);
		if (!tmp || ZSTD_isError(z))
			abort();
		put(&out, tmp, z);
		free(tmp);
	}
	return out;
}

/* ---- reading ----------------------------------------------------------- */

/* Open `path`, read every packet, check it against the builder's
 * packets; returns the count read. */
static size_t check_all_of(const struct pkt *pk, size_t npk, const char *path,
			   bool ns, const uint64_t *offs, enum cap_compression comp)
{
	struct cap_reader *r = NULL;
	struct vg_err err = { 0 };
	struct cap_packet p;
	size_t i = 0;
	int rc;

	CHECK_EQ_I(cap_open(&r, path, &err), 0);
	if (!r) {
		fprintf(stderr, "%s\n", err.msg);
		return 0;
	}
	CHECK_EQ_I(cap_linktype(r), 1);
	CHECK_EQ_I(cap_compression(r), comp);
	CHECK_STREQ(cap_path(r), path);
	while ((rc = cap_next(r, &p, &err)) == 1 && i < npk) {
		uint8_t d[2000];
		fill_data(d, pk[i].caplen, i);
		CHECK_EQ_U(p.ts_ns, ts_of(&pk[i], ns));
		CHECK_EQ_U(p.caplen, pk[i].caplen);
		CHECK_EQ_U(p.wirelen, pk[i].wirelen);
		CHECK_EQ_U(p.offset, offs[i]);
		CHECK(p.caplen == pk[i].caplen && !memcmp(p.data, d, p.caplen));
		i++;
	}
	if (rc < 0)
		fprintf(stderr, "%s\n", err.msg);
	CHECK_EQ_I(rc, 0);
	CHECK_EQ_I(cap_next(r, &p, &err), 0);
	struct stat st;
	CHECK(stat(path, &st) == 0 && cap_bytes_read(r) == (uint64_t)st.st_size);
	cap_close(r);
	return i;
}

static size_t check_all(const char *path, bool ns, const uint64_t *offs,
			enum cap_compression comp)
{
	return check_all_of(pkts, NPKT, path, ns, offs, comp);
}

/* Read to the end; returns the final cap_next() result, err filled. */
static int read_until_end(const char *path, size_t *count, struct vg_err *err)
{
	struct cap_reader *r = NULL;
	struct cap_packet p;
	int rc = cap_open(&r, path, err);
	*count = 0;
	if (rc < 0)
		return rc;
	while ((rc = cap_next(r, &p, err)) == 1)
		(*count)++;
	if (rc < 0) {
		struct vg_err again = { 0 };
		CHECK_EQ_I(cap_next(r, &p, &again), 0); /* at end after an error */
	}
	cap_close(r);
	return rc;
}

/* ---- tests ------------------------------------------------------------- */

TEST(pcap_little_endian_microseconds_exact)
{
	uint64_t offs[NPKT];
	struct buf b = build_pcap(false, false, 65535, offs);
	write_file(tpath("le-us.pcap"), b.p, b.n);
	CHECK_EQ_U(check_all(tpath("le-us.pcap"), false, offs, CAP_PLAIN), NPKT);
	CHECK_EQ_U(offs[0], 24);
	CHECK_EQ_U(offs[1], 24 + 16 + 60);
	free(b.p);
}

TEST(pcap_big_endian_microseconds_exact)
{
	uint64_t offs[NPKT];
	struct buf b = build_pcap(true, false, 65535, offs);
	write_file(tpath("be-us.pcap"), b.p, b.n);
	CHECK_EQ_U(check_all(tpath("be-us.pcap"), false, offs, CAP_PLAIN), NPKT);
	free(b.p);
}

TEST(pcap_nanosecond_both_byte_orders_exact)
{
	uint64_t offs[NPKT];
	struct buf b = build_pcap(false, true, 65535, offs);
	write_file(tpath("le-ns.pcap"), b.p, b.n);
	CHECK_EQ_U(check_all(tpath("le-ns.pcap"), true, offs, CAP_PLAIN), NPKT);
	free(b.p);
	b = build_pcap(true, true, 65535, offs);
	write_file(tpath("be-ns.pcap"), b.p, b.n);
	CHECK_EQ_U(check_all(tpath("be-ns.pcap"), true, offs, CAP_PLAIN), NPKT);
	free(b.p);
}

TEST(pcapng_both_byte_orders_and_resolutions_with_block_offsets)
{
	uint64_t offs[NPKT];
	for (int be = 0; be < 2; be++) {
		for (int ns = 0; ns < 2; ns++) {
			char name[64];
			snprintf(name, sizeof name, "ng-%d-%d.pcapng", be, ns);
			struct buf b = build_pcapng(be, ns, offs);
			write_file(tpath(name), b.p, b.n);
			CHECK_EQ_U(check_all(tpath(name), ns, offs, CAP_PLAIN), NPKT);
			/* SHB 28 + IDB 20/32 + unknown 16: the first EPB */
			CHECK_EQ_U(offs[0], 28u + (ns ? 32u : 20u) + 16u);
			free(b.p);
		}
	}
}

TEST(gzip_multi_member_equals_plain_packet_for_packet)
{
	uint64_t offs[NPKT];
	struct buf b = build_pcap(false, true, 65535, offs);
	for (size_t parts = 1; parts <= 5; parts += 4) {
		struct buf z = gzip_parts(&b, parts);
		write_file(tpath("c.pcap"), z.p, z.n); /* name says nothing */
		CHECK_EQ_U(check_all(tpath("c.pcap"), true, offs, CAP_GZIP), NPKT);
		free(z.p);
	}
	free(b.p);

	b = build_pcapng(true, true, offs);
	struct buf z = gzip_parts(&b, 3);
	write_file(tpath("ng.pcapng.gz"), z.p, z.n);
	CHECK_EQ_U(check_all(tpath("ng.pcapng.gz"), true, offs, CAP_GZIP), NPKT);
	free(z.p);
	free(b.p);
}

TEST(zstd_multi_frame_equals_plain_packet_for_packet)
{
	uint64_t offs[NPKT];
	struct buf b = build_pcap(true, false, 65535, offs);
	for (size_t parts = 1; parts <= 7; parts += 6) {
		struct buf z = zstd_parts(&b, parts);
		write_file(tpath("c.zst"), z.p, z.n);
		CHECK_EQ_U(check_all(tpath("c.zst"), false, offs, CAP_ZSTD), NPKT);
		free(z.p);
	}
	free(b.p);

	b = build_pcapng(false, false, offs);
	struct buf z = zstd_parts(&b, 2);
	write_file(tpath("ng.zst"), z.p, z.n);
	CHECK_EQ_U(check_all(tpath("ng.zst"), false, offs, CAP_ZSTD), NPKT);
	free(z.p);
	free(b.p);
}

TEST(truncated_record_names_file_and_record_offset)
{
	uint64_t offs[NPKT];
	struct buf b = build_pcap(false, false, 65535, offs);
	struct vg_err err = { 0 };
	size_t n;
	char want[1024];

	/* cut packet 0 (60 bytes) after 20 of its bytes */
	write_file(tpath("trunc.pcap"), b.p, offs[0] + 16 + 20);
	CHECK(read_until_end(tpath("trunc.pcap"), &n, &err) < 0);
	CHECK_EQ_U(n, 0);
	snprintf(want, sizeof want,
		 "%s: byte offset 24: truncated record (header says 60 captured bytes, "
		 "file ends after 20)", tpath("trunc.pcap"));
	CHECK_STREQ(err.msg, want);

	/* cut packet 2 (98 bytes) after 1 byte */
	write_file(tpath("trunc2.pcap"), b.p, offs[2] + 16 + 1);
	CHECK_EQ_I(read_until_end(tpath("trunc2.pcap"), &n, &err), -EBADMSG);
	CHECK_EQ_U(n, 2);
	snprintf(want, sizeof want,
		 "%s: byte offset %llu: truncated record (header says 98 captured bytes, "
		 "file ends after 1)", tpath("trunc2.pcap"), (unsigned long long)offs[2]);
	CHECK_STREQ(err.msg, want);

	/* the same damage inside a well-formed gzip and zstd file */
	struct buf cut = { b.p, offs[2] + 16 + 1, 0 };
	struct buf z = gzip_parts(&cut, 2);
	write_file(tpath("trunc2.gz"), z.p, z.n);
	free(z.p);
	CHECK_EQ_I(read_until_end(tpath("trunc2.gz"), &n, &err), -EBADMSG);
	CHECK_EQ_U(n, 2);
	CHECK(strstr(err.msg, tpath("trunc2.gz")) == err.msg);
	snprintf(want, sizeof want, "byte offset %llu: truncated record (header says 98",
		 (unsigned long long)offs[2]);
	CHECK(strstr(err.msg, want) != NULL);
	z = zstd_parts(&cut, 1);
	write_file(tpath("trunc2.zst"), z.p, z.n);
	free(z.p);
	CHECK_EQ_I(read_until_end(tpath("trunc2.zst"), &n, &err), -EBADMSG);
	CHECK_EQ_U(n, 2);
	CHECK(strstr(err.msg, want) != NULL);
	free(b.p);
}

TEST(truncated_record_header_names_offset)
{
	uint64_t offs[NPKT];
	struct buf b = build_pcap(true, true, 65535, offs);
	struct vg_err err = { 0 };
	size_t n;
	char want[1024];

	write_file(tpath("trunch.pcap"), b.p, offs[1] + 10);
	CHECK_EQ_I(read_until_end(tpath("trunch.pcap"), &n, &err), -EBADMSG);
	CHECK_EQ_U(n, 1);
	snprintf(want, sizeof want,
		 "%s: byte offset %llu: truncated record header (file ends after 10 of its 16 bytes)",
		 tpath("trunch.pcap"), (unsigned long long)offs[1]);
	CHECK_STREQ(err.msg, want);

	/* a cut exactly between records is a clean end */
	write_file(tpath("cut-clean.pcap"), b.p, offs[2]);
	CHECK_EQ_I(read_until_end(tpath("cut-clean.pcap"), &n, &err), 0);
	CHECK_EQ_U(n, 2);
	free(b.p);
}

TEST(caplen_beyond_snaplen_or_limit_is_an_error_at_its_offset)
{
	uint64_t offs[NPKT];
	struct vg_err err = { 0 };
	size_t n;
	char want[1024];

	/* snaplen 64: packet 2 carries 98 bytes */
	struct buf b = build_pcap(false, false, 64, offs);
	write_file(tpath("oversnap.pcap"), b.p, b.n);
	CHECK_EQ_I(read_until_end(tpath("oversnap.pcap"), &n, &err), -EBADMSG);
	CHECK_EQ_U(n, 2);
	snprintf(want, sizeof want,
		 "%s: byte offset %llu: record header says 98 captured bytes, more than the snapshot length 64",
		 tpath("oversnap.pcap"), (unsigned long long)offs[2]);
	CHECK_STREQ(err.msg, want);

	/* an absurd caplen (2^31) that libpcap refuses before reading */
	memcpy(b.p + offs[1] + 8, "\x00\x00\x00\x80", 4);
	write_file(tpath("absurd.pcap"), b.p, b.n);
	CHECK_EQ_I(read_until_end(tpath("absurd.pcap"), &n, &err), -EBADMSG);
	CHECK_EQ_U(n, 1);
	snprintf(want, sizeof want,
		 "%s: byte offset %llu: record header says 2147483648 captured bytes",
		 tpath("absurd.pcap"), (unsigned long long)offs[1]);
	CHECK(strstr(err.msg, want) == err.msg);
	free(b.p);
}

TEST(pcapng_truncated_and_damaged_blocks_name_block_offset)
{
	uint64_t offs[NPKT];
	struct buf b = build_pcapng(false, false, offs);
	struct vg_err err = { 0 };
	size_t n;
	char want[1024];

	write_file(tpath("ngtrunc.pcapng"), b.p, offs[3] + 20);
	CHECK_EQ_I(read_until_end(tpath("ngtrunc.pcapng"), &n, &err), -EBADMSG);
	CHECK_EQ_U(n, 3);
	snprintf(want, sizeof want,
		 "%s: byte offset %llu: truncated pcapng block (header says 36 bytes, file ends after 20)",
		 tpath("ngtrunc.pcapng"), (unsigned long long)offs[3]);
	CHECK_STREQ(err.msg, want);

	write_file(tpath("ngtrunch.pcapng"), b.p, offs[3] + 5);
	CHECK_EQ_I(read_until_end(tpath("ngtrunch.pcapng"), &n, &err), -EBADMSG);
	CHECK_EQ_U(n, 3);
	snprintf(want, sizeof want, "%s: byte offset %llu: truncated pcapng block header",
		 tpath("ngtrunch.pcapng"), (unsigned long long)offs[3]);
	CHECK(strstr(err.msg, want) == err.msg);

	/* block length not a multiple of 4 */
	b.p[offs[2] + 4] = 0x33;
	write_file(tpath("ngbad.pcapng"), b.p, b.n);
	CHECK_EQ_I(read_until_end(tpath("ngbad.pcapng"), &n, &err), -EBADMSG);
	CHECK_EQ_U(n, 2);
	snprintf(want, sizeof want, "%s: byte offset %llu: damaged pcapng block",
		 tpath("ngbad.pcapng"), (unsigned long long)offs[2]);
	CHECK(strstr(err.msg, want) == err.msg);
	free(b.p);
}

TEST(garbage_empty_and_short_files_fail_to_open_naming_the_file)
{
	struct cap_reader *r = (struct cap_reader *)1;
	struct vg_err err = { 0 };
	char want[1024];

	const char junk[] = "GET / HTTP/1.0\r\nHost: example\r\n\r\n";
	write_file(tpath("junk.pcap"), junk, sizeof junk - 1);
	CHECK_EQ_I(cap_open(&r, tpath("junk.pcap"), &err), -EINVAL);
	CHECK(r == NULL);
	snprintf(want, sizeof want,
		 "%s: not a capture file: neither pcap nor pcapng (starts with 47 45 54 20)",
		 tpath("junk.pcap"));
	CHECK_STREQ(err.msg, want);

	write_file(tpath("empty.pcap"), "", 0);
	CHECK_EQ_I(cap_open(&r, tpath("empty.pcap"), &err), -EINVAL);
	snprintf(want, sizeof want, "%s: empty file, not a capture", tpath("empty.pcap"));
	CHECK_STREQ(err.msg, want);

	write_file(tpath("short.pcap"), "\xd4\xc3", 2);
	CHECK(cap_open(&r, tpath("short.pcap"), &err) < 0);
	CHECK(strstr(err.msg, tpath("short.pcap")) == err.msg);
	CHECK(strstr(err.msg, "too short") != NULL);

	/* a pcap file header cut in the middle */
	uint64_t offs[NPKT];
	struct buf b = build_pcap(false, false, 65535, offs);
	write_file(tpath("halfhdr.pcap"), b.p, 10);
	CHECK(cap_open(&r, tpath("halfhdr.pcap"), &err) < 0);
	CHECK(strstr(err.msg, tpath("halfhdr.pcap")) == err.msg);

	/* garbage that is compressed is still garbage */
	struct buf jb = { (uint8_t *)junk, sizeof junk - 1, 0 };
	struct buf z = gzip_parts(&jb, 1);
	write_file(tpath("junk.gz"), z.p, z.n);
	free(z.p);
	CHECK_EQ_I(cap_open(&r, tpath("junk.gz"), &err), -EINVAL);
	CHECK(strstr(err.msg, tpath("junk.gz")) == err.msg);
	CHECK(strstr(err.msg, "not a capture file (decompressed gzip)") != NULL);

	CHECK_EQ_I(cap_open(&r, tpath("does-not-exist.pcap"), &err), -ENOENT);
	CHECK(strstr(err.msg, tpath("does-not-exist.pcap")) == err.msg);
	CHECK_EQ_I(cap_open(&r, tmpdir, &err), -EISDIR);
	free(b.p);
}

TEST(corrupt_or_truncated_compressed_streams_name_the_offset)
{
	uint64_t offs[NPKT];
	struct buf b = build_pcap(false, false, 65535, offs);
	struct vg_err err = { 0 };
	size_t n;

	/* gzip cut short: the packets before the cut are still delivered */
	struct buf z = gzip_parts(&b, 2);
	write_file(tpath("cut.gz"), z.p, z.n - 6);
	CHECK_EQ_I(read_until_end(tpath("cut.gz"), &n, &err), -EBADMSG);
	CHECK(n >= 2);
	CHECK(strstr(err.msg, tpath("cut.gz")) == err.msg);
	CHECK(strstr(err.msg, "gzip stream truncated: compressed file ends at byte") != NULL);

	/* damaged deflate data (the CRC at least will not match) */
	for (size_t i = 20; i < 40; i++)
		z.p[i] ^= 0x5a;
	write_file(tpath("bad.gz"), z.p, z.n);
	int rc = read_until_end(tpath("bad.gz"), &n, &err);
	CHECK(rc < 0);
	CHECK(strstr(err.msg, tpath("bad.gz")) == err.msg);
	CHECK(strstr(err.msg, "gzip") != NULL && strstr(err.msg, "offset") != NULL);
	free(z.p);

	/* trailing junk after the last member */
	z = gzip_parts(&b, 1);
	put(&z, "junk", 4);
	write_file(tpath("tail.gz"), z.p, z.n);
	CHECK_EQ_I(read_until_end(tpath("tail.gz"), &n, &err), -EBADMSG);
	CHECK_EQ_U(n, NPKT);
	char want[1024];
	snprintf(want, sizeof want,
		 "%s: compressed byte offset %zu: data after the end of the gzip stream is not another gzip member",
		 tpath("tail.gz"), z.n - 4);
	CHECK_STREQ(err.msg, want);
	free(z.p);

	/* zstd cut short and damaged */
	z = zstd_parts(&b, 2);
	write_file(tpath("cut.zst"), z.p, z.n - 3);
	CHECK_EQ_I(read_until_end(tpath("cut.zst"), &n, &err), -EBADMSG);
	CHECK(strstr(err.msg, tpath("cut.zst")) == err.msg);
	CHECK(strstr(err.msg, "zstd stream truncated: compressed file ends at byte") != NULL);
	for (size_t i = 10; i < z.n - 10; i++)
		z.p[i] ^= 0xa5;
	write_file(tpath("bad.zst"), z.p, z.n);
	CHECK(read_until_end(tpath("bad.zst"), &n, &err) < 0);
	CHECK(strstr(err.msg, tpath("bad.zst")) == err.msg);
	CHECK(strstr(err.msg, "zstd") != NULL && strstr(err.msg, "offset") != NULL);
	free(z.p);
	free(b.p);
}

TEST(bytes_read_counts_compressed_bytes)
{
	uint64_t offs[NPKT];
	struct buf b = build_pcap(false, false, 65535, offs);
	struct buf z = gzip_parts(&b, 1);
	struct vg_err err = { 0 };
	struct cap_reader *r;
	struct cap_packet p;
	write_file(tpath("br.gz"), z.p, z.n);
	CHECK_EQ_I(cap_open(&r, tpath("br.gz"), &err), 0);
	CHECK(cap_bytes_read(r) > 0 && cap_bytes_read(r) <= z.n);
	while (cap_next(r, &p, &err) == 1)
		;
	CHECK_EQ_U(cap_bytes_read(r), z.n);
	cap_close(r);
	free(z.p);
	free(b.p);
}

/* Several MB: records and blocks straddle every stdio buffer refill. */
TEST(large_files_cross_buffer_boundaries_with_exact_offsets)
{
	enum { N = 9000 };
	struct pkt *pk = calloc(N, sizeof *pk);
	uint64_t *offs = calloc(N, sizeof *offs);
	uint32_t x = 12345;
	for (size_t i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		pk[i].sec = 1600000000u + (uint32_t)i;
		pk[i].frac = (x >> 8) % 1000000u;
		pk[i].caplen = 1 + (x >> 4) % 1500u;
		pk[i].wirelen = pk[i].caplen + (x & 1u);
	}
	for (int ng = 0; ng < 2; ng++) {
		struct buf b = ng ? build_pcapng_of(pk, N, true, true, offs)
				  : build_pcap_of(pk, N, false, true, 65535, offs);
		CHECK(b.n > 4 * 256 * 1024);
		write_file(tpath("big"), b.p, b.n);
		CHECK_EQ_U(check_all_of(pk, N, tpath("big"), true, offs, CAP_PLAIN), N);
		struct buf z = gzip_parts(&b, 3);
		write_file(tpath("big.gz"), z.p, z.n);
		CHECK_EQ_U(check_all_of(pk, N, tpath("big.gz"), true, offs, CAP_GZIP), N);
		free(z.p);
		z = zstd_parts(&b, 4);
		write_file(tpath("big.zst"), z.p, z.n);
		CHECK_EQ_U(check_all_of(pk, N, tpath("big.zst"), true, offs, CAP_ZSTD), N);
		free(z.p);
		free(b.p);
	}
	free(pk);
	free(offs);
}

/* Pipes are read without the decompression thread; same packets. */
static size_t count_via_pipe(const struct buf *content, struct vg_err *err, int *rc)
{
	int fds[2];
	size_t n = 0;
	char path[64];
	if (pipe(fds) < 0)
		abort();
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		size_t off = 0;
		while (off < content->n) {
			ssize_t k = write(fds[1], content->p + off, content->n - off);
			if (k <= 0)
				_exit(1);
			off += (size_t)k;
		}
		_exit(0);
	}
	close(fds[1]);
	snprintf(path, sizeof path, "/proc/self/fd/%d", fds[0]);
	*rc = read_until_end(path, &n, err);
	close(fds[0]);
	waitpid(pid, NULL, 0);
	return n;
}

TEST(compressed_and_plain_input_from_a_pipe)
{
	uint64_t offs[NPKT];
	struct buf b = build_pcapng(false, true, offs);
	struct vg_err err = { 0 };
	int rc;
	CHECK_EQ_U(count_via_pipe(&b, &err, &rc), NPKT);
	CHECK_EQ_I(rc, 0);
	struct buf z = gzip_parts(&b, 2);
	CHECK_EQ_U(count_via_pipe(&z, &err, &rc), NPKT);
	CHECK_EQ_I(rc, 0);
	z.n -= 5;
	count_via_pipe(&z, &err, &rc);
	CHECK_EQ_I(rc, -EBADMSG);
	CHECK(strstr(err.msg, "gzip stream truncated") != NULL);
	free(z.p);
	z = zstd_parts(&b, 2);
	CHECK_EQ_U(count_via_pipe(&z, &err, &rc), NPKT);
	CHECK_EQ_I(rc, 0);
	z.n -= 3;
	count_via_pipe(&z, &err, &rc);
	CHECK_EQ_I(rc, -EBADMSG);
	CHECK(strstr(err.msg, "zstd stream truncated") != NULL);
	free(z.p);
	free(b.p);
}

static void touch(const char *rel)
{
	write_file(tpath(rel), "x", 1);
}

TEST(directory_expansion_sorted_recursive_skips_partial_and_hidden)
{
	struct vg_err err = { 0 };
	char **list = NULL;
	char d[512];

	snprintf(d, sizeof d, "%s/dir", tmpdir);
	CHECK(mkdir(d, 0700) == 0);
	CHECK(mkdir(tpath("dir/b"), 0700) == 0);
	CHECK(mkdir(tpath("dir/.git"), 0700) == 0);
	touch("dir/b.pcap");
	touch("dir/a.pcap");
	touch("dir/b/x.pcap.gz");
	touch("dir/b/w.pcap");
	touch("dir/.git/c.pcap");
	touch("dir/.hidden.pcap");
	touch("dir/c.pcap.tmp");
	touch("dir/b/d.pcap.part");
	touch("dir/z.pcap");
	touch("explicit.tmp");
	CHECK(symlink("a.pcap", tpath("dir/y-link.pcap")) == 0);
	CHECK(symlink(".", tpath("dir/b/loop")) == 0);

	char *args[] = { d, tpath("explicit.tmp") };
	int n = cap_expand_paths(args, 2, &list, &err);
	CHECK_EQ_I(n, 7);
	if (n == 7) {
		CHECK_STREQ(list[0], tpath("dir/a.pcap"));
		CHECK_STREQ(list[1], tpath("dir/b/w.pcap"));
		CHECK_STREQ(list[2], tpath("dir/b/x.pcap.gz"));
		CHECK_STREQ(list[3], tpath("dir/b.pcap"));
		CHECK_STREQ(list[4], tpath("dir/y-link.pcap"));
		CHECK_STREQ(list[5], tpath("dir/z.pcap"));
		CHECK_STREQ(list[6], tpath("explicit.tmp"));
		CHECK(list[7] == NULL);
	}
	cap_free_list(list);

	char *missing[] = { tpath("dir/a.pcap"), tpath("nope") };
	list = (char **)1;
	CHECK_EQ_I(cap_expand_paths(missing, 2, &list, &err), -ENOENT);
	CHECK(list == NULL);
	char want[1024];
	snprintf(want, sizeof want, "%s: No such file or directory", tpath("nope"));
	CHECK_STREQ(err.msg, want);

	CHECK(mkdir(tpath("emptydir"), 0700) == 0);
	char *empty[] = { tpath("emptydir") };
	CHECK_EQ_I(cap_expand_paths(empty, 1, &list, &err), 0);
	CHECK(list != NULL && list[0] == NULL);
	cap_free_list(list);
}

TEST(real_captures_have_tcpdump_record_counts)
{
	static const struct {
		const char *name;
		size_t count;
	} real[] = {
		{ "blaster.pcap", 18 },
		{ "synscan.pcap", 2011 },
		{ "tcp_0_1000_20190821.pcap", 1005 },
		{ "connect-with-header.pcap", 58 },
		{ "bug-5437-02_mirai_jaws_gre-erspan.pcap", 60 },
		{ "sshguess.pcap", 431 },
		{ "bruteforce.pcap", 606 },
	};
	for (size_t i = 0; i < sizeof real / sizeof real[0]; i++) {
		char rel[256];
		snprintf(rel, sizeof rel, "pcaps/%s", real[i].name);
		const char *path = test_data(rel);
		struct cap_reader *r = NULL;
		struct vg_err err = { 0 };
		struct cap_packet p;
		size_t n = 0;
		uint64_t next = 24, last_ts = 0;
		int rc = cap_open(&r, path, &err);
		CHECK_EQ_I(rc, 0);
		if (rc < 0) {
			fprintf(stderr, "%s\n", err.msg);
			continue;
		}
		while ((rc = cap_next(r, &p, &err)) == 1) {
			CHECK_EQ_U(p.offset, next);
			next = p.offset + 16 + p.caplen;
			last_ts = p.ts_ns;
			n++;
		}
		if (rc)
			fprintf(stderr, "%s\n", err.msg);
		CHECK_EQ_I(rc, 0);
		CHECK_EQ_U(n, real[i].count);
		CHECK(last_ts > 1000000000ull * 1000000000ull); /* after 2001 */
		cap_close(r);
	}
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(p);
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/test-cap-reader-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(pcap_little_endian_microseconds_exact);
	RUN(pcap_big_endian_microseconds_exact);
	RUN(pcap_nanosecond_both_byte_orders_exact);
	RUN(pcapng_both_byte_orders_and_resolutions_with_block_offsets);
	RUN(gzip_multi_member_equals_plain_packet_for_packet);
	RUN(zstd_multi_frame_equals_plain_packet_for_packet);
	RUN(truncated_record_names_file_and_record_offset);
	RUN(truncated_record_header_names_offset);
	RUN(caplen_beyond_snaplen_or_limit_is_an_error_at_its_offset);
	RUN(pcapng_truncated_and_damaged_blocks_name_block_offset);
	RUN(garbage_empty_and_short_files_fail_to_open_naming_the_file);
	RUN(corrupt_or_truncated_compressed_streams_name_the_offset);
	RUN(bytes_read_counts_compressed_bytes);
	RUN(large_files_cross_buffer_boundaries_with_exact_offsets);
	RUN(compressed_and_plain_input_from_a_pipe);
	RUN(directory_expansion_sorted_recursive_skips_partial_and_hidden);
	RUN(real_captures_have_tcpdump_record_counts);
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return check_summary();
}
