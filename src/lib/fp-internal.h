/* fp-internal.h: the compiled p0f.fp, shared by fp-readfp.c (which builds
 * it) and fp-tcp.c (which matches against it).  Not a public header. */
#ifndef VIGIA_FP_INTERNAL_H
#define VIGIA_FP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fp.h"

/* Signatures are bucketed by a hash of their option layout: a packet can
 * only match signatures with its exact layout, and layouts are the most
 * selective key (p0f does the same with 64 buckets). */
#define FP_BUCKETS 256

enum fp_win_type {
	FP_WIN_NORMAL = 0,   /* literal value */
	FP_WIN_ANY = 1,      /* * */
	FP_WIN_MOD = 2,      /* %N */
	FP_WIN_MSS = 3,      /* mss*N */
	FP_WIN_MTU = 4,      /* mtu*N */
};

/* One compiled "sig = ..." line of a tcp section. */
struct fp_tsig {
	int8_t ver;            /* 4, 6, or -1 for '*' */
	uint8_t ttl;           /* initial TTL (ttl+dist already summed) */
	bool bad_ttl;          /* "ttl-": random TTL, only an upper bound */
	uint8_t olen;
	int32_t mss;           /* -1 for '*' */
	uint8_t win_type;      /* enum fp_win_type */
	uint16_t win;          /* value, divisor or multiplier */
	int16_t wscale;        /* -1 for '*' */
	uint8_t opt_cnt;
	uint8_t opts[FP_MAX_OPT];
	uint8_t eol_pad;
	uint32_t quirks;
	int8_t pclass;         /* 0, 1 ('+'), -1 ('*') */
	uint32_t opt_hash;
	int label;             /* index into fp_db.labels */
	bool generic;
	int class_id;          /* -1 for applications ('!') */
	int line;
};

struct fp_label {
	char *text;            /* "name flavor", as p0f logs it */
	int class_id;          /* -1 for '!' */
	bool generic;
	bool windows;
};

struct fp_bucket {
	struct fp_tsig *v;
	size_t n, cap;
};

struct fp_db {
	struct fp_label *labels;
	size_t nlabels, labels_cap;
	char **classes;        /* from "classes = win,unix,other" */
	size_t nclasses;
	char **names;          /* OS / application names, first spelling kept */
	size_t nnames, names_cap;
	int nsigs[2];          /* [0] tcp:request, [1] tcp:response */
	struct fp_bucket buckets[2][FP_BUCKETS];
};

/* Hash of an option layout (FNV-1a over the kinds and the count). */
uint32_t fp_opt_hash(const uint8_t *opts, unsigned cnt);

#endif
