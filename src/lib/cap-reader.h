/* cap-reader.h: read packets from capture files.
 *
 * libpcap does the parsing of classic pcap (both byte orders, µs and ns)
 * and pcapng.  This module adds what libpcap lacks: transparent gzip and
 * zstd decompression (a FILE* cookie stream handed to
 * pcap_fopen_offline), the byte offset of each record so errors can name
 * it, and expansion of directories into a sorted list of files.
 */
#ifndef VIGIA_CAP_READER_H
#define VIGIA_CAP_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vg-err.h"

struct cap_reader;

struct cap_packet {
	uint64_t ts_ns;         /* timestamp, ns since the epoch */
	uint32_t caplen;        /* bytes in data */
	uint32_t wirelen;       /* original length on the wire */
	const uint8_t *data;    /* valid until the next cap_next()/cap_close() */
	uint64_t offset;        /* byte offset of this record in the (decompressed) file */
};

enum cap_compression { CAP_PLAIN = 0, CAP_GZIP = 1, CAP_ZSTD = 2 };

/* Open a capture file; gzip and zstd are recognised by their magic bytes,
 * not by the name.  On failure returns a negative errno and err names the
 * file and what is wrong ("not a capture file", "unsupported link type"). */
int cap_open(struct cap_reader **out, const char *path, struct vg_err *err);

/* The pcap LINKTYPE_* of the file (for pcapng, of its first interface). */
int cap_linktype(const struct cap_reader *r);
enum cap_compression cap_compression(const struct cap_reader *r);
const char *cap_path(const struct cap_reader *r);
/* True for pcapng; false for classic pcap, whose frame bytes start
 * CAP_PCAP_RECORD_HDR bytes after the record's offset. */
bool cap_is_pcapng(const struct cap_reader *r);
#define CAP_PCAP_RECORD_HDR 16

/* Next packet: returns 1 with *pkt filled, 0 at a clean end of file, or a
 * negative errno when the file is damaged (truncated record, impossible
 * length...), with err naming file and byte offset.  After an error the
 * reader is at end: further calls return 0. */
int cap_next(struct cap_reader *r, struct cap_packet *pkt, struct vg_err *err);

void cap_close(struct cap_reader *r);

/* Bytes read so far from the underlying (compressed) file, for progress. */
uint64_t cap_bytes_read(const struct cap_reader *r);

/* Expand the arguments into a list of files: a directory becomes its
 * regular files (recursively, names sorted), a file stays itself.
 * `*out` is a NULL-terminated array of malloc'ed strings; free with
 * cap_free_list().  Returns the count, or a negative errno with err set. */
int cap_expand_paths(char *const *args, int nargs, char ***out,
		     struct vg_err *err);
void cap_free_list(char **list);

#endif
