/* cap-reader.c: packets from pcap/pcapng files, plain, gzip or zstd.
 *
 * libpcap parses; we feed it.  Every input, compressed or not, reaches
 * libpcap as an fopencookie stream whose stdio buffer is ours: the read
 * hook read()s or decompresses straight into it, so plain files cost one
 * copy (stdio buffer -> libpcap) like fopen would, and compressed ones no
 * extra copy.
 *
 * Record offsets come from counting, not ftell: the hook knows how many
 * decompressed bytes it has handed to stdio, and stdio knows how many of
 * them libpcap has not taken yet.  For classic pcap the next record
 * starts where the previous one ended; for pcapng a packet block ends
 * with its own length, which we read back from the stdio buffer.  No
 * syscall, no lock, per packet.
 *
 * Decompression of a regular file runs in a thread of its own, a few
 * buffers ahead of libpcap, so inflating and parsing (and whatever the
 * caller does with the packets) use two cores: at 5 million packets/s
 * zstd alone would eat most of the budget of the caller's thread.
 */
#include "cap-reader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* Big enough that read() and decompressor call overhead vanish next to
 * the per-packet work, small enough to stay in L2. */
#define SRC_BUF (256u * 1024u)

/* Decompressed buffers the thread may run ahead by. */
#define NSLOT 4

struct slot {
	uint8_t *p;
	size_t len;
	int status;              /* 0 more follows, 1 end, <0 error */
};

/* Producer/consumer ring between the decompression thread and the read
 * hook.  The thread owns the decoder state in cap_src (fill functions,
 * `in`, z/zs, perr/pmsg); the hook owns the rest. */
struct ahead {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t filled, freed;
	struct slot slot[NSLOT];
	unsigned head, count;    /* next slot to consume; slots ready */
	bool stop;
	size_t off;              /* consumed part of slot[head] */
};

#define MAGIC_PCAP_KUZ 0xa1b2cd34u
#define MAGIC_PCAPNG 0x0a0d0d0au

struct cap_src {
	int fd;
	const char *path;
	enum cap_compression comp;

	uint8_t *in;             /* raw bytes from fd (compressed input) */
	size_t in_len, in_off;
	bool in_eof;
	uint64_t in_total;       /* bytes read from fd so far (atomic) */
	uint64_t dec_total;      /* decompressed bytes produced so far */

	uint8_t *iobuf;          /* the stdio buffer, decompressed bytes */
	uint64_t pos;            /* decompressed bytes handed to stdio */

	z_stream z;
	bool z_live, z_member_end;
	ZSTD_DStream *zs;
	size_t zs_last;          /* last ZSTD_decompressStream() result */

	int (*fill)(struct cap_src *s, uint8_t *buf, size_t size);
	int perr;                /* error met by the fill functions */
	char pmsg[VG_ERR_MSG_MAX];
	int err;                 /* the hook's copy, once it reaches perr */
	char msg[VG_ERR_MSG_MAX];
	struct ahead *ahead;     /* NULL: fill synchronously in the hook */

	uint8_t magic[4];        /* first 4 decompressed bytes */
	uint8_t tail[4];         /* last 4 bytes handed to stdio */
	uint8_t prev_tail[4];    /* last 4 bytes before the current fill */
};

struct cap_reader {
	char *path;
	struct cap_src src;
	FILE *f;
	pcap_t *pcap;
	bool ng;                 /* pcapng, else classic pcap */
	bool done;               /* clean end or error: report EOF from now */
	unsigned hdrsize;        /* classic pcap record header size */
	int linktype;
	uint64_t next;           /* stream offset where libpcap stands */
};

static uint32_t get32(const uint8_t *p, bool swapped)
{
	uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return swapped ? __builtin_bswap32(v) : v;
}

static uint32_t get32_le(const uint8_t *p)
{
	return get32(p, false);
}

/* ---- sources --------------------------------------------------------- */

static __attribute__((format(printf, 3, 4)))
int src_fail(struct cap_src *s, int code, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(s->pmsg, sizeof s->pmsg, "%s: ", s->path);
	if (n < 0 || (size_t)n >= sizeof s->pmsg)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(s->pmsg + n, sizeof s->pmsg - (size_t)n, fmt, ap);
	va_end(ap);
	s->perr = code;
	return code;
}

static ssize_t read_fd(struct cap_src *s, uint8_t *buf, size_t size)
{
	for (;;) {
		ssize_t n = read(s->fd, buf, size);
		if (n >= 0) {
			/* cap_bytes_read() reads this from the other thread */
			__atomic_store_n(&s->in_total, s->in_total + (uint64_t)n,
					 __ATOMIC_RELAXED);
			return n;
		}
		if (errno != EINTR)
			return src_fail(s, -errno, "read error at byte offset %" PRIu64 ": %s",
					s->in_total, strerror(errno));
	}
}

/* Refill `in` when it is used up; 1 when bytes are there, 0 at EOF. */
static int src_input(struct cap_src *s)
{
	if (s->in_off < s->in_len)
		return 1;
	if (s->in_eof)
		return 0;
	ssize_t n = read_fd(s, s->in, SRC_BUF);
	if (n < 0)
		return (int)n;
	s->in_off = 0;
	s->in_len = (size_t)n;
	s->in_eof = n == 0;
	return n > 0;
}

static int fill_plain(struct cap_src *s, uint8_t *buf, size_t size)
{
	if (s->in_off < s->in_len) { /* the bytes read to sniff the format */
		size_t k = s->in_len - s->in_off < size ? s->in_len - s->in_off : size;
		memcpy(buf, s->in + s->in_off, k);
		s->in_off += k;
		return (int)k;
	}
	return (int)read_fd(s, buf, size);
}

/* Concatenated gzip members are valid gzip (RFC 1952 §2.2): after each
 * member we start a new one when more input follows. */
static int fill_gzip(struct cap_src *s, uint8_t *buf, size_t size)
{
	for (;;) {
		int have = src_input(s);
		if (have < 0)
			return have;
		if (s->z_member_end) {
			if (!have)
				return 0;
			if (s->in[s->in_off] != 0x1f)
				return src_fail(s, -EBADMSG,
						"compressed byte offset %" PRIu64
						": data after the end of the gzip stream "
						"is not another gzip member",
						s->in_total - (s->in_len - s->in_off));
			inflateReset(&s->z);
			s->z_member_end = false;
		}
		s->z.next_in = s->in + s->in_off;
		s->z.avail_in = (uInt)(s->in_len - s->in_off);
		s->z.next_out = buf;
		s->z.avail_out = (uInt)size;
		int zr = inflate(&s->z, Z_NO_FLUSH);
		size_t produced = size - s->z.avail_out;
		size_t before = s->in_off;
		s->in_off = s->in_len - s->z.avail_in;
		uint64_t coff = s->in_total - s->z.avail_in;
		if (zr == Z_STREAM_END) {
			s->z_member_end = true;
		} else if ((zr == Z_OK || zr == Z_BUF_ERROR) && !produced &&
			   s->in_off == before) {
			/* no progress: only possible when input has run out */
			return src_fail(s, -EBADMSG,
					"gzip stream truncated: compressed file ends at byte %" PRIu64
					" inside a member (decompressed offset %" PRIu64 ")",
					coff, s->dec_total);
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			src_fail(s, zr == Z_MEM_ERROR ? -ENOMEM : -EBADMSG,
				 "corrupt gzip stream at compressed byte offset %" PRIu64
				 " (decompressed offset %" PRIu64 "): %s",
				 coff, s->dec_total + produced,
				 s->z.msg ? s->z.msg : zError(zr));
			if (!produced)
				return s->perr;
		}
		if (produced) {
			s->dec_total += produced;
			return (int)produced;
		}
	}
}

/* Multi-frame zstd needs nothing special: the stream decoder starts the
 * next frame on its own.  A zero result means the last frame is complete
 * and flushed, which is the only state where input may end. */
static int fill_zstd(struct cap_src *s, uint8_t *buf, size_t size)
{
	for (;;) {
		int have = src_input(s);
		if (have < 0)
			return have;
		if (!have && s->zs_last == 0)
			return 0;
		ZSTD_inBuffer ib = { s->in, s->in_len, s->in_off };
		ZSTD_outBuffer ob = { buf, size, 0 };
		size_t before = s->in_off;
		size_t zr = ZSTD_decompressStream(s->zs, &ob, &ib);
		s->in_off = ib.pos;
		uint64_t coff = s->in_total - (s->in_len - s->in_off);
		if (ZSTD_isError(zr))
			return src_fail(s, -EBADMSG,
					"corrupt zstd stream at compressed byte offset %" PRIu64
					" (decompressed offset %" PRIu64 "): %s",
					coff, s->dec_total, ZSTD_getErrorName(zr));
		s->zs_last = zr;
		if (ob.pos) {
			s->dec_total += ob.pos;
			return (int)ob.pos;
		}
		if (!have || ib.pos == before)
			return src_fail(s, -EBADMSG,
					"zstd stream truncated: compressed file ends at byte %" PRIu64
					" inside a frame (decompressed offset %" PRIu64 ")",
					coff, s->dec_total);
	}
}

/* A stream error is final; data decoded before it is still delivered. */
static int src_fill(struct cap_src *s, uint8_t *buf, size_t size)
{
	return s->perr ? s->perr : s->fill(s, buf, size);
}

/* The decompression thread: fill slots until the end, an error, or
 * cap_close() says stop. */
static void *ahead_main(void *arg)
{
	struct cap_src *s = arg;
	struct ahead *a = s->ahead;
	unsigned tail = 0;

	for (;;) {
		pthread_mutex_lock(&a->mu);
		while (a->count == NSLOT && !a->stop)
			pthread_cond_wait(&a->freed, &a->mu);
		bool stop = a->stop;
		pthread_mutex_unlock(&a->mu);
		if (stop)
			return NULL;

		struct slot *sl = &a->slot[tail];
		sl->len = 0;
		sl->status = 0;
		while (sl->len < SRC_BUF) {
			int n = src_fill(s, sl->p + sl->len, SRC_BUF - sl->len);
			if (n <= 0) {
				sl->status = n < 0 ? n : 1;
				break;
			}
			sl->len += (size_t)n;
		}
		pthread_mutex_lock(&a->mu);
		a->count++;
		pthread_cond_signal(&a->filled);
		pthread_mutex_unlock(&a->mu);
		if (sl->status)
			return NULL;
		tail = (tail + 1) % NSLOT;
	}
}

/* Take up to `size` bytes from the ring. */
static int ahead_take(struct cap_src *s, uint8_t *buf, size_t size)
{
	struct ahead *a = s->ahead;

	pthread_mutex_lock(&a->mu);
	while (a->count == 0)
		pthread_cond_wait(&a->filled, &a->mu);
	pthread_mutex_unlock(&a->mu);

	struct slot *sl = &a->slot[a->head];
	if (a->off == sl->len) {
		if (sl->status == 1)
			return 0;
		/* the thread has stopped; its error is ours to read now */
		memcpy(s->msg, s->pmsg, sizeof s->msg);
		return s->err = sl->status;
	}
	size_t k = sl->len - a->off < size ? sl->len - a->off : size;
	memcpy(buf, sl->p + a->off, k);
	a->off += k;
	if (a->off == sl->len && sl->status == 0) {
		a->off = 0;
		a->head = (a->head + 1) % NSLOT;
		pthread_mutex_lock(&a->mu);
		a->count--;
		pthread_cond_signal(&a->freed);
		pthread_mutex_unlock(&a->mu);
	}
	return (int)k;
}

/* fopencookie read hook; `buf` is always the stdio buffer (iobuf). */
static ssize_t hook_read(void *cookie, char *buf, size_t size)
{
	struct cap_src *s = cookie;
	uint8_t *b = (uint8_t *)buf;
	int n;

	if (size > SRC_BUF)
		size = SRC_BUF; /* fill functions return int */
	if (s->err) {
		n = s->err;
	} else if (s->ahead) {
		n = ahead_take(s, b, size);
	} else {
		n = src_fill(s, b, size);
		if (n < 0) {
			memcpy(s->msg, s->pmsg, sizeof s->msg);
			s->err = n;
		}
	}
	if (n < 0) {
		errno = -n;
		return -1;
	}
	memcpy(s->prev_tail, s->tail, 4);
	if (n >= 4) {
		memcpy(s->tail, b + n - 4, 4);
	} else if (n > 0) {
		memmove(s->tail, s->tail + n, (size_t)(4 - n));
		memcpy(s->tail + 4 - n, b, (size_t)n);
	}
	for (uint64_t i = s->pos; i < 4 && i < s->pos + (uint64_t)n; i++)
		s->magic[i] = b[i - s->pos];
	s->pos += (uint64_t)n;
	return n;
}

/* The source outlives the FILE (cap_close frees it after pcap_close). */
static int hook_close(void *cookie)
{
	(void)cookie;
	return 0;
}

static int src_open(struct cap_src *s, int fd, const char *path,
		    struct vg_err *err)
{
	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->path = path;
	s->in = malloc(SRC_BUF);
	s->iobuf = malloc(SRC_BUF);
	if (!s->in || !s->iobuf)
		return vg_err_set(err, -ENOMEM, "%s: out of memory", path);

	/* Detect by content: a compressed capture named .pcap still opens. */
	while (s->in_len < 4 && !s->in_eof) {
		ssize_t n = read_fd(s, s->in + s->in_len, SRC_BUF - s->in_len);
		if (n < 0)
			return vg_err_set(err, (int)n, "%s", s->pmsg);
		s->in_eof = n == 0;
		s->in_len += (size_t)n;
	}
	const uint8_t *m = s->in;
	if (s->in_len >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		s->comp = CAP_GZIP;
	else if (s->in_len >= 4 && (get32_le(m) == 0xfd2fb528u ||
				    (get32_le(m) & 0xfffffff0u) == 0x184d2a50u))
		s->comp = CAP_ZSTD; /* a zstd frame, or a skippable frame */
	else
		s->comp = CAP_PLAIN;

	switch (s->comp) {
	case CAP_PLAIN:
		s->fill = fill_plain;
		break;
	case CAP_GZIP:
		/* 16 + MAX_WBITS: gzip wrapper only, no raw zlib streams */
		if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK)
			return vg_err_set(err, -ENOMEM, "%s: cannot start gzip decoder", path);
		s->z_live = true;
		s->fill = fill_gzip;
		break;
	case CAP_ZSTD:
		s->zs = ZSTD_createDStream();
		if (!s->zs)
			return vg_err_set(err, -ENOMEM, "%s: out of memory", path);
		ZSTD_initDStream(s->zs);
		s->zs_last = 1;
		s->fill = fill_zstd;
		break;
	}
	return 0;
}

/* Best effort: without a thread we decompress in the hook. */
static void ahead_start(struct cap_src *s)
{
	struct ahead *a = calloc(1, sizeof *a);
	if (!a)
		return;
	for (unsigned i = 0; i < NSLOT; i++) {
		a->slot[i].p = malloc(SRC_BUF);
		if (!a->slot[i].p)
			goto fail;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->filled, NULL);
	pthread_cond_init(&a->freed, NULL);
	s->ahead = a;
	if (pthread_create(&a->th, NULL, ahead_main, s) == 0)
		return;
	s->ahead = NULL;
	pthread_cond_destroy(&a->freed);
	pthread_cond_destroy(&a->filled);
	pthread_mutex_destroy(&a->mu);
fail:
	for (unsigned i = 0; i < NSLOT; i++)
		free(a->slot[i].p);
	free(a);
}

static void ahead_stop(struct cap_src *s)
{
	struct ahead *a = s->ahead;
	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_signal(&a->freed);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->th, NULL);
	pthread_cond_destroy(&a->freed);
	pthread_cond_destroy(&a->filled);
	pthread_mutex_destroy(&a->mu);
	for (unsigned i = 0; i < NSLOT; i++)
		free(a->slot[i].p);
	free(a);
	s->ahead = NULL;
}

static void src_free(struct cap_src *s)
{
	ahead_stop(s);
	if (s->z_live)
		inflateEnd(&s->z);
	if (s->zs)
		ZSTD_freeDStream(s->zs);
	free(s->iobuf);
	free(s->in);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->in = s->iobuf = NULL;
}

/* ---- positions ------------------------------------------------------- */

/* Stream offset of the next byte libpcap will take: what the hook gave
 * stdio minus what still sits in the stdio buffer.  The glibc FILE
 * fields are public (gnulib's freadahead reads them too); elsewhere
 * ftello() asks our seek hook, which is slower but right. */
static uint64_t stream_pos(const struct cap_reader *r)
{
#ifdef __GLIBC__
	return r->src.pos - (uint64_t)(r->f->_IO_read_end - r->f->_IO_read_ptr);
#else
	off_t o = ftello(r->f);
	return o < 0 ? r->src.pos : (uint64_t)o;
#endif
}

#ifndef __GLIBC__
static int hook_seek(void *cookie, off_t *offset, int whence)
{
	struct cap_src *s = cookie;
	if (whence != SEEK_CUR || *offset != 0)
		return -1;
	*offset = (off_t)s->pos;
	return 0;
}
#endif

/* Start of the pcapng block that ends at `end`: its last 4 bytes repeat
 * its length, and they are still in the stdio buffer, or just before it
 * in prev_tail.  Falls back to `from` (where libpcap started looking)
 * if that length makes no sense. */
static uint64_t ng_block_start(const struct cap_reader *r, uint64_t from,
			       uint64_t end)
{
#ifdef __GLIBC__
	const struct cap_src *s = &r->src;
	const FILE *f = r->f;
	uint64_t fill = s->pos - (uint64_t)(f->_IO_read_end - f->_IO_read_base);
	uint8_t t[4];

	if (end < from + 12 || end < 4)
		return from;
	for (unsigned i = 0; i < 4; i++) {
		uint64_t q = end - 4 + i;
		if (q >= fill)
			t[i] = (uint8_t)f->_IO_read_base[q - fill];
		else if (q + 4 >= fill)
			t[i] = s->prev_tail[q + 4 - fill];
		else
			return from;
	}
	uint32_t len = get32(t, pcap_is_swapped(r->pcap));
	if (len < 12 || len > end - from)
		return from;
	return end - len;
#else
	(void)end;
	return from;
#endif
}

/* ---- diagnosis ------------------------------------------------------- */

static const char *comp_word(enum cap_compression c)
{
	return c == CAP_GZIP ? " (decompressed gzip)" :
	       c == CAP_ZSTD ? " (decompressed zstd)" : "";
}

static int open_failed(struct cap_reader *r, const char *pcap_msg,
		       struct vg_err *err)
{
	struct cap_src *s = &r->src;
	if (s->err)
		return vg_err_set(err, s->err, "%s", s->msg);
	if (s->pos == 0)
		return vg_err_set(err, -EINVAL, "%s: empty file%s, not a capture",
				  r->path, comp_word(s->comp));
	if (s->pos < 4)
		return vg_err_set(err, -EINVAL,
				  "%s: only %" PRIu64 " bytes%s, too short to be a capture",
				  r->path, s->pos, comp_word(s->comp));
	if (!strcmp(pcap_msg, "unknown file format"))
		return vg_err_set(err, -EINVAL,
				  "%s: not a capture file%s: neither pcap nor pcapng "
				  "(starts with %02x %02x %02x %02x)",
				  r->path, comp_word(s->comp), s->magic[0],
				  s->magic[1], s->magic[2], s->magic[3]);
	return vg_err_set(err, -EINVAL,
			  "%s: damaged capture file header%s (file ends or fails at byte offset %"
			  PRIu64 "): %s",
			  r->path, comp_word(s->comp), stream_pos(r), pcap_msg);
}

/* Why libpcap refused the classic pcap record at `rec`.  We only see its
 * complaint as text; the numbers in it are parsed back so the message
 * can be ours, and any wording we do not know is passed on verbatim. */
static int pcap_record_failed(struct cap_reader *r, uint64_t rec,
			      struct vg_err *err)
{
	const char *m = pcap_geterr(r->pcap);
	uint64_t have = r->src.pos - rec;
	unsigned a, b;

	if (have < r->hdrsize)
		return vg_err_set(err, -EBADMSG,
				  "%s: byte offset %" PRIu64 ": truncated record header "
				  "(file ends after %" PRIu64 " of its %u bytes)",
				  r->path, rec, have, r->hdrsize);
	if (sscanf(m, "invalid packet capture length %u, bigger than snaplen of %u", &a, &b) == 2)
		return vg_err_set(err, -EBADMSG,
				  "%s: byte offset %" PRIu64 ": record header says %u captured "
				  "bytes, more than the snapshot length %u",
				  r->path, rec, a, b);
	if (sscanf(m, "invalid packet capture length %u, bigger than maximum of %u", &a, &b) == 2)
		return vg_err_set(err, -EBADMSG,
				  "%s: byte offset %" PRIu64 ": record header says %u captured "
				  "bytes, more than the limit of %u",
				  r->path, rec, a, b);
	if (sscanf(m, "truncated dump file; tried to read %u captured bytes", &a) == 1)
		return vg_err_set(err, -EBADMSG,
				  "%s: byte offset %" PRIu64 ": truncated record (header says %u "
				  "captured bytes, file ends after %" PRIu64 ")",
				  r->path, rec, a, have - r->hdrsize);
	return vg_err_set(err, -EBADMSG, "%s: byte offset %" PRIu64 ": damaged record: %s",
			  r->path, rec, m);
}

/* Same for pcapng.  libpcap reads a block as its 8-byte header and then
 * the rest, so a short read tells where the block began. */
static int pcapng_block_failed(struct cap_reader *r, struct vg_err *err)
{
	const char *m = pcap_geterr(r->pcap);
	uint64_t end = r->src.pos, at = stream_pos(r);
	size_t want, got;

	if (sscanf(m, "truncated pcapng dump file; tried to read %zu bytes, only got %zu",
		   &want, &got) == 2 && got <= end) {
		if (want == 8 && got < 8)
			return vg_err_set(err, -EBADMSG,
					  "%s: byte offset %" PRIu64 ": truncated pcapng block header "
					  "(file ends after %zu of its 8 bytes)",
					  r->path, end - got, got);
		if (got + 8 <= end)
			return vg_err_set(err, -EBADMSG,
					  "%s: byte offset %" PRIu64 ": truncated pcapng block (header "
					  "says %zu bytes, file ends after %zu)",
					  r->path, end - got - 8, want + 8, got + 8);
	}
	if ((!strncmp(m, "block in pcapng dump file has a length", 38) ||
	     !strncmp(m, "pcapng block size", 17)) && at >= 8)
		return vg_err_set(err, -EBADMSG,
				  "%s: byte offset %" PRIu64 ": damaged pcapng block: %s",
				  r->path, at - 8, m);
	return vg_err_set(err, -EBADMSG,
			  "%s: damaged pcapng block ending at byte offset %" PRIu64 ": %s",
			  r->path, at, m);
}

/* ---- public ---------------------------------------------------------- */

int cap_open(struct cap_reader **out, const char *path, struct vg_err *err)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vg_err_set(err, -errno, "%s: cannot open: %s", path,
				  strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0)
		memset(&st, 0, sizeof st);
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return vg_err_set(err, -EISDIR, "%s: is a directory, not a capture file", path);
	}
	if (S_ISREG(st.st_mode))
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

	struct cap_reader *r = calloc(1, sizeof *r);
	char *name = strdup(path);
	if (!r || !name) {
		free(r);
		free(name);
		close(fd);
		return vg_err_set(err, -ENOMEM, "%s: out of memory", path);
	}
	r->path = name;
	int rc = src_open(&r->src, fd, r->path, err);
	if (rc < 0) {
		cap_close(r);
		return rc;
	}
	/* Not for pipes: a thread blocked in read() would make cap_close()
	 * wait for a writer that may never come. */
	if (r->src.comp != CAP_PLAIN && S_ISREG(st.st_mode))
		ahead_start(&r->src);

	cookie_io_functions_t io = { .read = hook_read, .close = hook_close };
#ifndef __GLIBC__
	io.seek = hook_seek;
#endif
	r->f = fopencookie(&r->src, "r", io);
	if (!r->f || setvbuf(r->f, (char *)r->src.iobuf, _IOFBF, SRC_BUF)) {
		rc = vg_err_set(err, -ENOMEM, "%s: cannot create stream", path);
		cap_close(r);
		return rc;
	}

	char ebuf[PCAP_ERRBUF_SIZE] = "";
	r->pcap = pcap_fopen_offline_with_tstamp_precision(
		r->f, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!r->pcap) {
		rc = open_failed(r, ebuf, err);
		cap_close(r);
		return rc;
	}
	uint32_t magic = get32_le(r->src.magic);
	r->ng = magic == MAGIC_PCAPNG;
	r->hdrsize = magic == MAGIC_PCAP_KUZ || magic == __builtin_bswap32(MAGIC_PCAP_KUZ) ? 24 : 16;
	r->linktype = pcap_datalink(r->pcap);
	r->next = stream_pos(r);
	*out = r;
	return 0;
}

int cap_next(struct cap_reader *r, struct cap_packet *pkt, struct vg_err *err)
{
	if (r->done)
		return 0;
	uint64_t rec = r->next;
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc = pcap_next_ex(r->pcap, &h, &data);

	if (rc == 1) {
		uint64_t end = stream_pos(r);
		r->next = end;
		if (r->ng) {
			pkt->offset = ng_block_start(r, rec, end);
		} else {
			/* libpcap silently cuts records longer than the
			 * snapshot length; in a pcap file that means damage
			 * (or a broken writer), so we say so. */
			if (end - rec - r->hdrsize != h->caplen) {
				r->done = true;
				return vg_err_set(err, -EBADMSG,
						  "%s: byte offset %" PRIu64 ": record header says %"
						  PRIu64 " captured bytes, more than the snapshot length %d",
						  r->path, rec, end - rec - r->hdrsize,
						  pcap_snapshot(r->pcap));
			}
			pkt->offset = rec;
		}
		/* Classic pcap stores seconds as 32 bits; libpcap 1.10 sign
		 * extends them, but the format means them unsigned. */
		uint64_t sec = (uint64_t)h->ts.tv_sec;
		if (!r->ng && h->ts.tv_sec < 0)
			sec = (uint32_t)h->ts.tv_sec;
		pkt->ts_ns = sec * 1000000000u + (uint64_t)h->ts.tv_usec;
		pkt->caplen = h->caplen;
		pkt->wirelen = h->len;
		pkt->data = data;
		return 1;
	}
	r->done = true;
	if (r->src.err)
		return vg_err_set(err, r->src.err, "%s", r->src.msg);
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	return r->ng ? pcapng_block_failed(r, err) : pcap_record_failed(r, rec, err);
}

int cap_linktype(const struct cap_reader *r)
{
	return r->linktype;
}

enum cap_compression cap_compression(const struct cap_reader *r)
{
	return r->src.comp;
}

const char *cap_path(const struct cap_reader *r)
{
	return r->path;
}

uint64_t cap_bytes_read(const struct cap_reader *r)
{
	return __atomic_load_n(&r->src.in_total, __ATOMIC_RELAXED);
}

void cap_close(struct cap_reader *r)
{
	if (!r)
		return;
	if (r->pcap)
		pcap_close(r->pcap); /* closes r->f */
	else if (r->f)
		fclose(r->f);
	src_free(&r->src);
	free(r->path);
	free(r);
}

/* ---- path expansion -------------------------------------------------- */

struct strlist {
	char **v;
	size_t n, cap;
};

static int list_add(struct strlist *l, char *s)
{
	if (l->n + 2 > l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 16;
		char **nv = realloc(l->v, nc * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = nc;
	}
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !memcmp(s + a - b, suffix, b);
}

/* The sensor writes into NAME.tmp / NAME.part and renames when done, so
 * those are half-written; dot-files are editor and tool droppings. */
static bool skip_in_dir(const char *name)
{
	return name[0] == '.' || ends_with(name, ".tmp") || ends_with(name, ".part");
}

static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	bool slash = a && dir[a - 1] == '/';
	char *p = malloc(a + b + 2);
	if (p) {
		memcpy(p, dir, a);
		if (!slash)
			p[a++] = '/';
		memcpy(p + a, name, b + 1);
	}
	return p;
}

/* Walk `dir`, entries in strcmp order, depth first.  Symbolic links to
 * files count as files; links to directories are not followed, which
 * rules out cycles. */
static int walk_dir(const char *dir, struct strlist *l, int depth,
		    struct vg_err *err)
{
	if (depth > 64)
		return vg_err_set(err, -ELOOP, "%s: directories nested too deeply", dir);
	DIR *d = opendir(dir);
	if (!d)
		return vg_err_set(err, -errno, "%s: cannot read directory: %s", dir,
				  strerror(errno));
	struct strlist names = { 0 };
	int rc = 0;
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d))) {
		if (skip_in_dir(e->d_name))
			continue;
		char *nm = strdup(e->d_name);
		if (!nm || list_add(&names, nm) < 0) {
			free(nm);
			rc = vg_err_set(err, -ENOMEM, "%s: out of memory", dir);
			break;
		}
	}
	if (!rc && errno)
		rc = vg_err_set(err, -errno, "%s: cannot read directory: %s", dir,
				strerror(errno));
	if (names.n)
		qsort(names.v, names.n, sizeof *names.v, cmp_name);
	for (size_t i = 0; !rc && i < names.n; i++) {
		char *p = join(dir, names.v[i]);
		struct stat st;
		if (!p) {
			rc = vg_err_set(err, -ENOMEM, "%s: out of memory", dir);
			break;
		}
		if (fstatat(dirfd(d), names.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = vg_err_set(err, -errno, "%s: %s", p, strerror(errno));
			free(p);
			break;
		}
		if (S_ISLNK(st.st_mode) && fstatat(dirfd(d), names.v[i], &st, 0) < 0) {
			free(p); /* dangling link: nothing to read */
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			struct stat lst;
			if (fstatat(dirfd(d), names.v[i], &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISDIR(lst.st_mode))
				rc = walk_dir(p, l, depth + 1, err);
			free(p);
		} else if (S_ISREG(st.st_mode)) {
			if (list_add(l, p) < 0) {
				free(p);
				rc = vg_err_set(err, -ENOMEM, "%s: out of memory", dir);
			}
		} else {
			free(p);
		}
	}
	for (size_t i = 0; i < names.n; i++)
		free(names.v[i]);
	free(names.v);
	closedir(d);
	return rc;
}

int cap_expand_paths(char *const *args, int nargs, char ***out,
		     struct vg_err *err)
{
	struct strlist l = { 0 };
	int rc = 0;
	*out = NULL;
	for (int i = 0; i < nargs && !rc; i++) {
		struct stat st;
		if (stat(args[i], &st) < 0) {
			rc = vg_err_set(err, -errno, "%s: %s", args[i], strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			rc = walk_dir(args[i], &l, 0, err);
		} else {
			char *p = strdup(args[i]);
			if (!p || list_add(&l, p) < 0) {
				free(p);
				rc = vg_err_set(err, -ENOMEM, "%s: out of memory", args[i]);
			}
		}
	}
	if (!rc && !l.v && !(l.v = calloc(1, sizeof *l.v))) /* just the terminator */
		rc = vg_err_set(err, -ENOMEM, "out of memory");
	if (rc < 0) {
		for (size_t i = 0; i < l.n; i++)
			free(l.v[i]);
		free(l.v);
		return rc;
	}
	if (l.n > INT_MAX) {
		cap_free_list(l.v);
		return vg_err_set(err, -E2BIG, "too many files");
	}
	*out = l.v;
	return (int)l.n;
}

void cap_free_list(char **list)
{
	if (!list)
		return;
	for (char **p = list; *p; p++)
		free(*p);
	free(list);
}

bool cap_is_pcapng(const struct cap_reader *r)
{
	return r->ng;
}
