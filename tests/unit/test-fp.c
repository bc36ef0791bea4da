/* test-fp.c: p0f.fp parsing, signature extraction and matching.
 *
 * Packets are built byte by byte and decoded with vg_decode_ip(); the
 * expected labels and raw signatures are what p0f 3.09b logs for the same
 * packets (taken from `p0f -r` runs on the test captures). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "fp.h"
#include "proto-decode.h"

/* ---- packet builder ----------------------------------------------------- */

struct syn_spec {
	int ver;                 /* 4 or 6 */
	uint8_t ttl;
	bool df;
	uint16_t ip_id;
	uint8_t tos;             /* IPv4 TOS / IPv6 traffic class */
	uint32_t flow;           /* IPv6 flow label */
	uint8_t ip_opts_len;     /* IPv4 option bytes (NOPs), multiple of 4 */
	uint8_t flags;           /* TCP flags; 0 means SYN */
	uint16_t win;
	uint32_t seq, ack;
	uint16_t urg;
	const uint8_t *opts;     /* TCP options, padded to a multiple of 4 */
	unsigned optlen;
	unsigned payload;        /* bytes of payload */
};

static unsigned build(const struct syn_spec *s, uint8_t *b, unsigned cap)
{
	unsigned ih = s->ver == 4 ? 20u + s->ip_opts_len : 40u;
	unsigned th = 20u + s->optlen;
	unsigned tot = ih + th + s->payload;
	uint8_t *t;

	if (tot > cap)
		return 0;
	memset(b, 0, tot);
	if (s->ver == 4) {
		b[0] = (uint8_t)(0x40 | (ih / 4));
		b[1] = s->tos;
		b[2] = (uint8_t)(tot >> 8);
		b[3] = (uint8_t)tot;
		b[4] = (uint8_t)(s->ip_id >> 8);
		b[5] = (uint8_t)s->ip_id;
		b[6] = s->df ? 0x40 : 0;
		b[8] = s->ttl;
		b[9] = 6;
		memcpy(b + 12, (const uint8_t[]){192, 0, 2, 1}, 4);
		memcpy(b + 16, (const uint8_t[]){198, 51, 100, 7}, 4);
		memset(b + 20, 1, s->ip_opts_len);
	} else {
		uint32_t vt = (6u << 28) | ((uint32_t)s->tos << 20) | (s->flow & 0xfffff);
		b[0] = (uint8_t)(vt >> 24);
		b[1] = (uint8_t)(vt >> 16);
		b[2] = (uint8_t)(vt >> 8);
		b[3] = (uint8_t)vt;
		b[4] = (uint8_t)((th + s->payload) >> 8);
		b[5] = (uint8_t)(th + s->payload);
		b[6] = 6;
		b[7] = s->ttl;
		b[8] = 0x20;
		b[9] = 0x01;
		b[10] = 0x0d;
		b[11] = 0xb8;
		b[23] = 1;
		b[24] = 0x20;
		b[25] = 0x01;
		b[26] = 0x0d;
		b[27] = 0xb8;
		b[39] = 2;
	}
	t = b + ih;
	t[0] = 0xc3; t[1] = 0x50;      /* 50000 */
	t[2] = 0; t[3] = 22;
	t[4] = (uint8_t)(s->seq >> 24); t[5] = (uint8_t)(s->seq >> 16);
	t[6] = (uint8_t)(s->seq >> 8); t[7] = (uint8_t)s->seq;
	t[8] = (uint8_t)(s->ack >> 24); t[9] = (uint8_t)(s->ack >> 16);
	t[10] = (uint8_t)(s->ack >> 8); t[11] = (uint8_t)s->ack;
	t[12] = (uint8_t)((th / 4) << 4);
	t[13] = s->flags ? s->flags : VG_TH_SYN;
	t[14] = (uint8_t)(s->win >> 8);
	t[15] = (uint8_t)s->win;
	t[18] = (uint8_t)(s->urg >> 8);
	t[19] = (uint8_t)s->urg;
	if (s->optlen)
		memcpy(t + 20, s->opts, s->optlen);
	memset(t + th, 'A', s->payload);
	return tot;
}

static struct fp_db *db;
static uint8_t pkt_buf[2048];
static struct vg_pkt pkt;

/* Build, decode and extract; returns fp_extract's result. */
static int sig_of(const struct syn_spec *s, struct fp_sig *sig)
{
	unsigned n = build(s, pkt_buf, sizeof pkt_buf);

	memset(&pkt, 0, sizeof pkt);
	if (!n || vg_decode_ip(pkt_buf, n, &pkt) != VG_DEC_OK)
		return -1;
	return fp_extract(&pkt, sig);
}

static const char *raw_sig(const struct fp_sig *sig)
{
	static char buf[256];
	fp_sig_format(sig, 0, buf, sizeof buf);
	return buf;
}

/* Options of common stacks, as seen on the wire. */
static const uint8_t opt_linux[] = {
	2, 4, 0x05, 0xb4,                  /* mss 1460 */
	4, 2,                              /* sok */
	8, 10, 0, 0, 0x10, 0, 0, 0, 0, 0,  /* ts */
	1,                                 /* nop */
	3, 3, 7,                           /* ws 7 */
};
static const uint8_t opt_winxp[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2};
static const uint8_t opt_win7[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2};
static const uint8_t opt_mac[] = {
	2, 4, 0x05, 0xb4, 1, 3, 3, 3, 1, 1,
	8, 10, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0,
	4, 2, 0, 0,                        /* sok, eol, one pad byte */
};
static const uint8_t opt_mss1460[] = {2, 4, 0x05, 0xb4};

static struct syn_spec linux_syn(void)
{
	struct syn_spec s = {
		.ver = 4, .ttl = 64, .df = true, .ip_id = 0x1234, .win = 29200,
		.seq = 0xdeadbeef, .opts = opt_linux, .optlen = sizeof opt_linux,
	};
	return s;
}

static int match(const struct syn_spec *s, struct fp_result *r)
{
	struct fp_sig sig;
	int dir = sig_of(s, &sig);
	if (dir <= 0) {
		memset(r, 0, sizeof *r);
		r->label = -1;
		return -1;
	}
	return fp_match_sig(db, &sig, 0, r);
}

static const char *label_of(const struct syn_spec *s, struct fp_result *r)
{
	if (match(s, r) != 1)
		return "???";
	return fp_label_name(db, r->label);
}

/* ---- database loading ---------------------------------------------------- */

TEST(real_database_loads_with_its_signature_counts)
{
	struct vg_err err = {0};
	int rc = fp_db_load(&db, FP_DEFAULT_DB, &err);
	if (rc < 0)
		fprintf(stderr, "%s\n", err.msg);
	CHECK_EQ_I(rc, 0);
	if (!db)
		return;
	/* Counted with grep in Debian's /etc/p0f/p0f.fp (3.09b): sig lines in
	 * [tcp:request] (lines 89-349) and [tcp:response] (350-546). */
	CHECK_EQ_I(fp_sig_count(db, FP_DIR_SYN), 91);
	CHECK_EQ_I(fp_sig_count(db, FP_DIR_SYNACK), 101);
	CHECK_EQ_I(fp_label_count(db), 62);
	CHECK(fp_label_name(db, -1) == NULL);
	CHECK(fp_label_name(db, fp_label_count(db)) == NULL);
}

static const char tiny_db[] =
	"; comment\n"
	"classes = win,unix,other\n"
	"\n"
	"[mtu]\n"
	"label = Ethernet or modem\n"
	"sig   = 1500\n"
	"[tcp:request]\n"
	"label = s:unix:Linux:3.11 and newer\n"
	"sig   = *:64:0:*:mss*20,10:mss,sok,ts,nop,ws:df,id+:0\n"
	"label = g:unix:Mac OS X:\n"
	"sig   = *:64:0:*:65535,*:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0\n"
	"label = s:unix:LINUX:odd case\n"
	"sig   = 4:60+4:0:1400:%512,0:mss:0+,ecn:+\n"
	"label = s:!:NMap:SYN scan\n"
	"sys   = @unix,@win\n"
	"sig   = *:64-:0:1460:1024,0:mss::0\n"
	"[tcp:response]\n"
	"label = s:win:Windows:XP\n"
	"sig   = *:128:0:*:65535,0:mss:df,id+:0\n"
	"[http:request]\n"
	"ua_os = Linux,Windows\n"
	"label = s:!:Firefox:2.x\n"
	"sys   = Windows,@unix\n"
	"sig   = *:Host,User-Agent:Accept=[,*/*;q=]:Firefox/\n"
	"[http:response]\n"
	"label = s:!:Apache:2.x\n"
	"sys   = @unix\n"
	"sig   = 1:Date,Server:Keep-Alive:Apache\n";

TEST(buffer_database_compiles_tcp_and_skips_other_sections)
{
	struct fp_db *d = NULL;
	struct vg_err err = {0};
	int rc = fp_db_load_buf(&d, "tiny.fp", tiny_db, sizeof tiny_db - 1, &err);
	if (rc < 0)
		fprintf(stderr, "%s\n", err.msg);
	CHECK_EQ_I(rc, 0);
	if (!d)
		return;
	CHECK_EQ_I(fp_sig_count(d, FP_DIR_SYN), 4);
	CHECK_EQ_I(fp_sig_count(d, FP_DIR_SYNACK), 1);
	CHECK_EQ_I(fp_label_count(d), 5);
	CHECK_STREQ(fp_label_name(d, 0), "Linux 3.11 and newer");
	/* An empty flavor is the name alone, as p0f prints it. */
	CHECK_STREQ(fp_label_name(d, 1), "Mac OS X");
	/* Names compare without case; the first spelling is reported. */
	CHECK_STREQ(fp_label_name(d, 2), "Linux odd case");
	CHECK_STREQ(fp_label_name(d, 3), "NMap SYN scan");
	CHECK(fp_label_is_app(d, 3));
	CHECK(!fp_label_is_app(d, 0));
	CHECK(fp_label_is_windows(d, 4));
	CHECK(!fp_label_is_windows(d, 0));
	fp_db_free(d);
}

static int load_err(const char *text, struct vg_err *err)
{
	struct fp_db *d = NULL;
	int rc = fp_db_load_buf(&d, "bad.fp", text, strlen(text), err);
	fp_db_free(d);
	return rc;
}

TEST(database_errors_name_file_and_line)
{
	struct vg_err err = {0};
	const char *head = "classes = win,unix\n[tcp:request]\nlabel = s:unix:X:1\n";
	char buf[512];

	snprintf(buf, sizeof buf, "%ssig = *:64:0:*:mss*20,10:mss,bogus:df:0\n", head);
	CHECK_EQ_I(load_err(buf, &err), -EINVAL);
	CHECK(strstr(err.msg, "bad.fp: line 4:") != NULL);
	CHECK(strstr(err.msg, "option") != NULL);

	snprintf(buf, sizeof buf, "%ssig = 6:64:0:*:*,*:mss:df:0\n", head);
	CHECK_EQ_I(load_err(buf, &err), -EINVAL);
	CHECK(strstr(err.msg, "line 4:") && strstr(err.msg, "'df'"));

	snprintf(buf, sizeof buf, "%ssig = *:64:0:*:*,*:eol+1,mss:df:0\n", head);
	CHECK_EQ_I(load_err(buf, &err), -EINVAL);
	CHECK(strstr(err.msg, "last option") != NULL);

	snprintf(buf, sizeof buf, "%ssig = *:300:0:*:*,*:mss:df:0\n", head);
	CHECK_EQ_I(load_err(buf, &err), -EINVAL);
	CHECK(strstr(err.msg, "TTL") != NULL);

	snprintf(buf, sizeof buf, "%ssig = *:64:0:*:mss*0,*:mss:df:0\n", head);
	CHECK_EQ_I(load_err(buf, &err), -EINVAL);

	snprintf(buf, sizeof buf, "%ssig = *:64:0:*:*,*:mss:df:x\n", head);
	CHECK_EQ_I(load_err(buf, &err), -EINVAL);
	CHECK(strstr(err.msg, "payload class") != NULL);

	CHECK_EQ_I(load_err("classes = win\n[tcp:request]\nlabel = s:unix:X:1\n", &err), -EINVAL);
	CHECK(strstr(err.msg, "line 3:") && strstr(err.msg, "unknown class"));

	CHECK_EQ_I(load_err("classes = win\n[tcp:request]\nsig = *:64:0:*:*,*:mss::0\n", &err), -EINVAL);
	CHECK(strstr(err.msg, "line 3:") && strstr(err.msg, "misplaced 'sig'"));

	/* An application label needs its 'sys' line first. */
	CHECK_EQ_I(load_err("classes = win\n[tcp:request]\nlabel = s:!:T:1\nsig = *:64:0:*:*,*:mss::0\n", &err), -EINVAL);
	CHECK(strstr(err.msg, "line 4:") != NULL);

	CHECK_EQ_I(load_err("classes = win\n[udp:request]\n", &err), -EINVAL);
	CHECK(strstr(err.msg, "line 2:") != NULL);

	CHECK_EQ_I(load_err("classes = win\nfoo = 1\n", &err), -EINVAL);
	CHECK(strstr(err.msg, "line 2:") && strstr(err.msg, "'foo'"));

	CHECK_EQ_I(load_err("; nothing\n", &err), -EINVAL);
	CHECK(strstr(err.msg, "no TCP signatures") != NULL);

	struct fp_db *d = NULL;
	CHECK(fp_db_load(&d, "/nonexistent/p0f.fp", &err) < 0);
	CHECK(d == NULL);
	CHECK(strstr(err.msg, "/nonexistent/p0f.fp") != NULL);
}

TEST(database_with_crlf_and_trailing_blanks_loads)
{
	const char *text = "classes = win,unix\r\n[tcp:request]  \r\n"
			   "label = s:unix:Linux:2.0\r\nsig = *:64:0:*:16384,0:mss::0 \r\n";
	struct fp_db *d = NULL;
	struct vg_err err = {0};
	CHECK_EQ_I(fp_db_load_buf(&d, "crlf.fp", text, strlen(text), &err), 0);
	CHECK_STREQ(fp_label_name(d, 0), "Linux 2.0");
	fp_db_free(d);
}

/* ---- extraction ---------------------------------------------------------- */

TEST(linux_syn_signature_text_matches_p0f)
{
	struct syn_spec s = linux_syn();
	struct fp_sig sig;

	CHECK_EQ_I(sig_of(&s, &sig), FP_DIR_SYN);
	CHECK_STREQ(raw_sig(&sig), "4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0");
	s.ttl = 50;
	s.tos = 0x10;
	sig_of(&s, &sig);
	CHECK_STREQ(raw_sig(&sig), "4:50+14:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0");
	CHECK_EQ_U(sig.tos, 4);
}

TEST(quirks_are_read_from_ip_and_tcp_headers)
{
	struct syn_spec s = {
		.ver = 4, .ttl = 200, .df = false, .ip_id = 0, .tos = 0x02,
		.flags = VG_TH_SYN | VG_TH_PSH | VG_TH_URG | VG_TH_ECE, .win = 8,
		.seq = 0, .ack = 0x01000000, .urg = 5,
	};
	struct fp_sig sig;

	CHECK_EQ_I(sig_of(&s, &sig), FP_DIR_SYN);
	/* no options: empty layout; ttl 200 -> 255; 'urgf+' wins over 'uptr+' */
	CHECK_STREQ(raw_sig(&sig), "4:200+?:0:0:8,0::id-,ecn,seq-,ack+,urgf+,pushf+:0");

	/* p0f 3.09b tests `ack & 1` on the raw load: an ACK field whose
	 * first byte is even is not "ack+". */
	s.flags = 0;
	s.ack = 0x02000001;
	s.urg = 0;
	s.tos = 0;
	sig_of(&s, &sig);
	CHECK_STREQ(raw_sig(&sig), "4:200+?:0:0:8,0::id-,seq-:0");

	s.ttl = 20;
	sig_of(&s, &sig);
	CHECK_STREQ(raw_sig(&sig), "4:20+12:0:0:8,0::id-,seq-:0");
	s.ttl = 90;
	sig_of(&s, &sig);
	CHECK_STREQ(raw_sig(&sig), "4:90+?:0:0:8,0::id-,seq-:0");
}

TEST(ipv6_flow_and_payload_and_ip_options)
{
	struct syn_spec s = linux_syn();
	struct fp_sig sig;

	s.ver = 6;
	s.flow = 0x12345;
	s.payload = 3;
	CHECK_EQ_I(sig_of(&s, &sig), FP_DIR_SYN);
	/* No df/id quirks on IPv6; the MTU-1500 IPv6 divisor is tried. */
	CHECK_STREQ(raw_sig(&sig), "6:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:flow:+");

	s = linux_syn();
	s.ip_opts_len = 8;
	sig_of(&s, &sig);
	CHECK_STREQ(raw_sig(&sig), "4:64+0:8:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0");
}

TEST(malformed_and_odd_options_are_flagged_like_p0f)
{
	struct syn_spec s = linux_syn();
	struct fp_sig sig;

	/* EOL with non-zero padding in the middle: opt+ */
	static const uint8_t eol_nz[] = {2, 4, 0x05, 0xb4, 0, 0, 7, 0};
	s.opts = eol_nz;
	s.optlen = sizeof eol_nz;
	s.win = 1000;
	sig_of(&s, &sig);
	CHECK_STREQ(raw_sig(&sig), "4:64+0:0:1460:1000,0:mss,eol+3:df,id+,opt+:0");

	/* ... but not when the only non-zero byte is the last one (p0f). */
	static const uint8_t eol_last[] = {2, 4, 0x05, 0xb4, 0, 0, 0, 9};
	s.opts = eol_last;
	sig_of(&s, &sig);
	CHECK_STREQ(raw_sig(&sig), "4:64+0:0:1460:1000,0:mss,eol+3:df,id+:0");

	/* Unknown option, excessive scale, wrong MSS length, zero ts1 and a
	 * non-zero ts2 on a SYN. */
	static const uint8_t odd[] = {
		2, 5, 0x05, 0xb4, 3, 3, 15, 30, 2,
		8, 10, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0,
	};
	s.opts = odd;
	s.optlen = sizeof odd;
	sig_of(&s, &sig);
	CHECK_STREQ(raw_sig(&sig),
		    "4:64+0:0:1460:1000,15:mss,ws,?30,ts,eol+4:df,id+,ts1-,ts2+,exws,bad:0");

	/* An option running past the header: bad, parsing stops. */
	static const uint8_t trunc[] = {1, 1, 8, 10};
	s.opts = trunc;
	s.optlen = sizeof trunc;
	sig_of(&s, &sig);
	CHECK_STREQ(raw_sig(&sig), "4:64+0:0:0:1000,0:nop,nop,ts:df,id+,bad:0");
}

TEST(packets_p0f_ignores_are_not_extracted)
{
	struct syn_spec s = linux_syn();
	struct fp_sig sig;

	s.flags = VG_TH_SYN | VG_TH_FIN;
	CHECK_EQ_I(sig_of(&s, &sig), 0);
	s.flags = VG_TH_SYN | VG_TH_RST;
	CHECK_EQ_I(sig_of(&s, &sig), 0);
	s.flags = VG_TH_ACK;
	CHECK_EQ_I(sig_of(&s, &sig), 0);
	s.flags = VG_TH_SYN | VG_TH_ACK;
	CHECK_EQ_I(sig_of(&s, &sig), FP_DIR_SYNACK);

	/* A TCP header whose options are cut off by the capture. */
	s = linux_syn();
	unsigned n = build(&s, pkt_buf, sizeof pkt_buf);
	memset(&pkt, 0, sizeof pkt);
	int st = vg_decode_ip(pkt_buf, n - 6, &pkt);
	CHECK(st != VG_DEC_OK || fp_extract(&pkt, &sig) == 0);

	/* Not an IP packet at all. */
	memset(&pkt, 0, sizeof pkt);
	CHECK_EQ_I(fp_extract(&pkt, &sig), 0);
	struct fp_result r;
	CHECK_EQ_I(fp_match_syn(db, &pkt, &r), 0);
	CHECK_EQ_I(r.label, -1);
}

/* ---- matching against the real database --------------------------------- */

TEST(exact_specific_match_linux)
{
	struct syn_spec s = linux_syn();
	struct fp_result r;

	CHECK_STREQ(label_of(&s, &r), "Linux 3.11 and newer");
	CHECK_EQ_I(r.kind, FP_EXACT);
	CHECK(!r.generic);
	CHECK_EQ_U(r.dist, 0);
	CHECK(!fp_label_is_windows(db, r.label));

	/* fp_match_syn on the decoded packet agrees. */
	struct fp_result r2;
	CHECK_EQ_I(fp_match_syn(db, &pkt, &r2), 1);
	CHECK_EQ_I(r2.label, r.label);
	CHECK_EQ_I(fp_match_synack(db, &pkt, &r2), 0);

	s.ttl = 52;
	CHECK_STREQ(label_of(&s, &r), "Linux 3.11 and newer");
	CHECK_EQ_U(r.dist, 12);
}

TEST(window_multiple_of_mss_and_generic_fallback)
{
	struct syn_spec s = linux_syn();
	struct fp_result r;

	/* mss*10 with scale 0: no specific sig, generic "Linux 3.x". */
	s.win = 14600;
	static uint8_t o[sizeof opt_linux];
	memcpy(o, opt_linux, sizeof o);
	o[sizeof o - 1] = 0;
	s.opts = o;
	CHECK_STREQ(label_of(&s, &r), "Linux 3.x");
	CHECK_EQ_I(r.kind, FP_GENERIC);
	CHECK(r.generic);

	o[sizeof o - 1] = 4;
	CHECK_STREQ(label_of(&s, &r), "Linux 3.1-3.10");
	CHECK_EQ_I(r.kind, FP_EXACT);

	/* mss*22, scale 0: Linux 2.2.x */
	s.win = 1460 * 22;
	o[sizeof o - 1] = 0;
	CHECK_STREQ(label_of(&s, &r), "Linux 2.2.x");
}

TEST(windows_and_mac_labels)
{
	struct syn_spec s = {
		.ver = 4, .ttl = 113, .df = true, .ip_id = 77, .win = 65535,
		.seq = 1, .opts = opt_winxp, .optlen = sizeof opt_winxp,
	};
	struct fp_result r;

	CHECK_STREQ(label_of(&s, &r), "Windows XP");
	CHECK_EQ_U(r.dist, 15);
	CHECK(fp_label_is_windows(db, r.label));

	s.win = 8192;
	s.opts = opt_win7;
	s.optlen = sizeof opt_win7;
	s.ttl = 123;
	CHECK_STREQ(label_of(&s, &r), "Windows 7 or 8");
	CHECK_EQ_I(r.kind, FP_EXACT);
	CHECK_EQ_U(r.dist, 5);

	/* Mac OS X with scale 5: only the generic signature ("Mac OS X"). */
	s = (struct syn_spec){
		.ver = 4, .ttl = 64, .df = true, .ip_id = 9, .win = 65535, .seq = 5,
		.opts = opt_mac, .optlen = sizeof opt_mac,
	};
	uint8_t m[sizeof opt_mac];
	memcpy(m, opt_mac, sizeof m);
	m[7] = 5;
	s.opts = m;
	struct fp_sig sig;
	sig_of(&s, &sig);
	CHECK_STREQ(raw_sig(&sig),
		    "4:64+0:0:1460:65535,5:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0");
	CHECK_STREQ(label_of(&s, &r), "Mac OS X");
	CHECK_EQ_I(r.kind, FP_GENERIC);
	m[7] = 3;
	CHECK_STREQ(label_of(&s, &r), "Mac OS X 10.x");
}

TEST(fuzzy_match_when_quirks_or_ttl_drift)
{
	struct syn_spec s = {
		.ver = 4, .ttl = 112, .df = true, .ip_id = 77, .win = 8192, .seq = 1,
		.flags = VG_TH_SYN | VG_TH_ECE | VG_TH_CWR,
		.opts = opt_win7, .optlen = sizeof opt_win7,
	};
	struct fp_result r;

	/* 'ecn' appearing is tolerated, fuzzily (p0f: "fuzzy", dist 16). */
	CHECK_STREQ(label_of(&s, &r), "Windows 7 or 8");
	CHECK_EQ_I(r.kind, FP_FUZZY);
	CHECK_EQ_U(r.dist, 16);

	/* 'df' disappearing is tolerated too. */
	s.flags = 0;
	s.df = false;
	s.ip_id = 5;
	CHECK_STREQ(label_of(&s, &r), "Windows 7 or 8");
	CHECK_EQ_I(r.kind, FP_FUZZY);

	/* A quirk appearing that is not ecn / id- is not. */
	s.df = true;
	s.flags = VG_TH_SYN | VG_TH_PSH;
	CHECK_STREQ(label_of(&s, &r), "???");
	CHECK_EQ_I(r.label, -1);
	CHECK_EQ_I(r.kind, FP_NONE);

	/* TTL above the signature's: fuzzy, distance guessed. */
	struct syn_spec l = linux_syn();
	l.ttl = 70;
	CHECK_STREQ(label_of(&l, &r), "Linux 3.11 and newer");
	CHECK_EQ_I(r.kind, FP_FUZZY);
	CHECK_EQ_U(r.dist, 58);
}

TEST(nmap_random_ttl_and_no_fuzz_for_applications)
{
	struct syn_spec s = {
		.ver = 4, .ttl = 46, .df = false, .ip_id = 4321, .win = 3072,
		.seq = 99, .opts = opt_mss1460, .optlen = sizeof opt_mss1460,
	};
	struct fp_result r;
	struct fp_sig sig;

	sig_of(&s, &sig);
	CHECK_STREQ(raw_sig(&sig), "4:46+18:0:1460:3072,0:mss::0");
	CHECK_STREQ(label_of(&s, &r), "NMap SYN scan");
	CHECK(fp_label_is_app(db, r.label));
	CHECK(r.bad_ttl);
	CHECK_EQ_U(r.dist, 18);

	/* "64-" is only an upper bound: a higher TTL does not match it, and
	 * the first fuzzy candidate in file order, Linux "barebone", wins. */
	s.ttl = 65;
	CHECK_STREQ(label_of(&s, &r), "Linux 2.2.x-3.x (barebone)");
	CHECK_EQ_I(r.kind, FP_FUZZY);
	CHECK_EQ_U(r.dist, 63);

	/* NMap's OS-detection probe: exact on its own... */
	static const uint8_t probe[] = {
		4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 3, 3, 10, 0,
	};
	struct syn_spec p = {
		.ver = 4, .ttl = 50, .ip_id = 7, .win = 4, .seq = 9,
		.ack = 0x11000000, .opts = probe, .optlen = sizeof probe,
	};
	sig_of(&p, &sig);
	CHECK_STREQ(raw_sig(&sig), "4:50+14:0:0:4,10:sok,ts,ws,eol+0:ack+:0");
	CHECK_STREQ(label_of(&p, &r), "NMap OS detection");
	CHECK_EQ_I(r.kind, FP_EXACT);
	/* ... but an application signature is never matched fuzzily: with
	 * 'ecn' added, nothing matches and p0f leaves the distance at 0. */
	p.flags = VG_TH_SYN | VG_TH_ECE;
	CHECK_STREQ(label_of(&p, &r), "???");
	CHECK_EQ_I(r.label, -1);
	CHECK_EQ_U(r.dist, 0);
}

TEST(ip_version_field_is_not_compared_like_p0f)
{
	/* "4:128:0:1460:mtu*2,0:mss,nop,ws::0" (OpenVMS 8.x) is an IPv4
	 * signature, yet p0f 3.09b labels an IPv6 SYN with it. */
	static const uint8_t o[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 0};
	struct syn_spec s = {
		.ver = 6, .ttl = 120, .win = 3000, .seq = 1,
		.opts = o, .optlen = sizeof o,
	};
	struct fp_result r;
	struct fp_sig sig;

	sig_of(&s, &sig);
	CHECK_STREQ(raw_sig(&sig), "6:120+8:0:1460:mtu*2,0:mss,nop,ws::0");
	CHECK_STREQ(label_of(&s, &r), "OpenVMS 8.x");
	CHECK_EQ_I(r.kind, FP_EXACT);
	CHECK_EQ_U(r.dist, 8);
}

TEST(unknown_signature_gets_guessed_distance)
{
	struct syn_spec s = {
		.ver = 4, .ttl = 60, .df = false, .ip_id = 1, .win = 8, .seq = 3,
	};
	struct fp_result r;

	CHECK_STREQ(label_of(&s, &r), "???");
	CHECK_EQ_I(r.label, -1);
	CHECK_EQ_U(r.dist, 4);
}

TEST(synack_matches_response_section)
{
	static const uint8_t o[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 9, 0, 0, 0, 1, 1, 3, 3, 7};
	struct syn_spec s = {
		.ver = 4, .ttl = 64, .df = true, .ip_id = 0, .win = 14600,
		.flags = VG_TH_SYN | VG_TH_ACK, .seq = 7, .ack = 8,
		.opts = o, .optlen = sizeof o,
	};
	struct fp_result r;
	struct fp_sig sig;

	CHECK_EQ_I(sig_of(&s, &sig), FP_DIR_SYNACK);
	CHECK_STREQ(raw_sig(&sig), "4:64+0:0:1460:mss*10,7:mss,sok,ts,nop,ws:df:0");
	CHECK_EQ_I(fp_match_synack(db, &pkt, &r), 1);
	CHECK_STREQ(fp_label_name(db, r.label), "Linux 3.x");
	CHECK_EQ_I(fp_match_syn(db, &pkt, &r), 0);

	/* The peer's SYN MSS as window divisor (p0f's syn_mss). */
	s.win = 1400 * 3;
	sig_of(&s, &sig);
	char buf[128];
	fp_sig_format(&sig, 1400, buf, sizeof buf);
	CHECK_STREQ(buf, "4:64+0:0:1460:mss*3,7:mss,sok,ts,nop,ws:df:0");
	fp_sig_format(&sig, 0, buf, sizeof buf);
	CHECK_STREQ(buf, "4:64+0:0:1460:4200,7:mss,sok,ts,nop,ws:df:0");
	/* A short buffer truncates but reports the full length. */
	CHECK_EQ_I(fp_sig_format(&sig, 0, buf, 5), (int)strlen("4:64+0:0:1460:4200,7:mss,sok,ts,nop,ws:df:0"));
	CHECK_STREQ(buf, "4:64");
}

/* ---- speed ----------------------------------------------------------------- */

TEST(matching_speed)
{
	struct syn_spec specs[4] = {linux_syn(), linux_syn(), linux_syn(), linux_syn()};
	struct fp_sig sigs[4];
	struct fp_result r;
	struct timespec a, b;
	long n = 0, hits = 0;

	specs[1].opts = opt_winxp;
	specs[1].optlen = sizeof opt_winxp;
	specs[1].ttl = 120;
	specs[1].win = 65535;
	specs[2].opts = opt_mss1460;
	specs[2].optlen = sizeof opt_mss1460;
	specs[2].df = false;
	specs[2].win = 1024;
	specs[3].flags = VG_TH_SYN | VG_TH_PSH;
	for (int i = 0; i < 4; i++)
		CHECK_EQ_I(sig_of(&specs[i], &sigs[i]), FP_DIR_SYN);

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int k = 0; k < 500000; k++) {
		hits += fp_match_sig(db, &sigs[k & 3], 0, &r);
		n++;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("# %ld matches in %.3f s: %.0f matches/s\n", n, s, (double)n / s);
	CHECK_EQ_I(hits, 375000);   /* three of the four match */

	clock_gettime(CLOCK_MONOTONIC, &a);
	struct fp_db *d2 = NULL;
	for (int k = 0; k < 20; k++) {
		fp_db_load(&d2, FP_DEFAULT_DB, NULL);
		fp_db_free(d2);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("# p0f.fp load: %.3f ms\n", s / 20 * 1e3);
}

int main(void)
{
	RUN(real_database_loads_with_its_signature_counts);
	RUN(buffer_database_compiles_tcp_and_skips_other_sections);
	RUN(database_errors_name_file_and_line);
	RUN(database_with_crlf_and_trailing_blanks_loads);
	if (!db) {
		printf("cannot load %s, skipping matching tests\n", FP_DEFAULT_DB);
		return check_summary();
	}
	RUN(linux_syn_signature_text_matches_p0f);
	RUN(quirks_are_read_from_ip_and_tcp_headers);
	RUN(ipv6_flow_and_payload_and_ip_options);
	RUN(malformed_and_odd_options_are_flagged_like_p0f);
	RUN(packets_p0f_ignores_are_not_extracted);
	RUN(exact_specific_match_linux);
	RUN(window_multiple_of_mss_and_generic_fallback);
	RUN(windows_and_mac_labels);
	RUN(fuzzy_match_when_quirks_or_ttl_drift);
	RUN(nmap_random_ttl_and_no_fuzz_for_applications);
	RUN(ip_version_field_is_not_compared_like_p0f);
	RUN(unknown_signature_gets_guessed_distance);
	RUN(synack_matches_response_section);
	RUN(matching_speed);
	fp_db_free(db);
	return check_summary();
}
