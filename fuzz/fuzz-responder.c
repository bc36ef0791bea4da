/* fuzz-responder.c: libFuzzer harness for the responder's input path.
 *
 * Input: a sequence of records, each
 *     ctl (1 byte)  bits 0-2: link type (Ethernet, raw, NULL, SLL, SLL2,
 *                   Ethernet, Ethernet, Ethernet); bit 3: before feeding,
 *                   set the frame's TCP ACK number to the last SYN-ACK's
 *                   ISN + 1, so the fuzzer gets past the SYN cookies into
 *                   established connections; bits 4-7: time step in
 *                   half-seconds before the frame (timers, idle timeouts);
 *     len (2 bytes, big endian), then len bytes of frame.
 * A fresh responder per input (checksums not verified, so that mutated
 * frames go deep), a fixed configuration with every service, all
 * addresses claimed.  Every frame it sends must decode, fit the maximum
 * frame and carry correct checksums: a violation aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fp.h"
#include "sc-config.h"
#include "stack-client.h"
#include "stack.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static const char conf_text[] =
	"create default\n"
	"set default personality \"Microsoft Windows XP Professional SP1\"\n"
	"add default tcp port 21 ftp\n"
	"add default tcp port 22 ssh\n"
	"add default tcp port 23 telnet\n"
	"add default tcp port 25 smtp\n"
	"add default tcp port 80 http-iis\n"
	"add default tcp port 81 http-apache\n"
	"add default tcp port 110 pop3\n"
	"add default tcp port 143 imap\n"
	"add default tcp port 139 smb\n"
	"add default tcp port 445 smb\n"
	"add default tcp port 1433 mssql\n"
	"add default tcp port 1080 proxy\n"
	"add default tcp port 3128 proxy\n"
	"add default tcp port 8080 proxy\n"
	"add default tcp port 4444 open\n"
	"add default tcp port 113 reset\n"
	"add default tcp port 135 block\n"
	"add default udp port 137 netbios-ns\n"
	"add default udp port 1434 mssql-resolver\n"
	"add default udp port 9 open\n"
	"add default udp port 53 block\n"
	"create lossy\n"
	"set lossy droprate in 50\n"
	"set lossy personality \"Linux 2.6\"\n"
	"add lossy tcp port 80 open\n"
	"bind 10.0.0.5 lossy\n"
	"vigia max-connections 8\n";

static struct sc_config *cfg;
static struct fp_db *fp;
static uint32_t last_isn;
static bool have_isn;

static void emit(void *ctx, uint64_t ts, const uint8_t *f, uint32_t len)
{
	(void)ctx;
	(void)ts;
	if (len > STACK_MAX_FRAME || len < 60)
		abort();
	if (!tc_frame_csum_ok(f, len))
		abort();
	struct vg_pkt p;
	memset(&p, 0, sizeof p);
	int rc = vg_decode(VG_LINK_ETHERNET, f, len, len, &p);
	if (rc != VG_DEC_OK && rc != VG_DEC_NOT_IP)
		abort();
	if (rc == VG_DEC_OK && p.proto == 6 &&
	    (p.tcp_flags & (VG_TH_SYN | VG_TH_ACK)) == (VG_TH_SYN | VG_TH_ACK)) {
		last_isn = p.tcp_seq;
		have_isn = true;
	}
}

static void log_ev(void *ctx, const struct hl_event *ev)
{
	char buf[512];
	(void)ctx;
	if (hl_format(ev, buf, sizeof buf) < 0)
		abort();
}

static void record(void *ctx, const struct hl_event *ev, const char *k, const char *v)
{
	char buf[1024];
	(void)ctx;
	hl_format_service(ev, v, strlen(v), buf, sizeof buf);
	(void)k;
}

static const int links[8] = {
	VG_LINK_ETHERNET, VG_LINK_RAW, VG_LINK_NULL, VG_LINK_LINUX_SLL,
	VG_LINK_LINUX_SLL2, VG_LINK_ETHERNET, VG_LINK_ETHERNET, VG_LINK_ETHERNET,
};

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct vg_err e = { 0 };
	if (!cfg) {
		if (sc_config_load_buf(&cfg, "fuzz.conf", conf_text, sizeof conf_text - 1, &e) < 0 ||
		    sc_config_claim(cfg, "0.0.0.0/0", &e) < 0)
			abort();
		if (access(FP_DEFAULT_DB, R_OK) == 0 && fp_db_load(&fp, FP_DEFAULT_DB, &e) < 0)
			fp = NULL;
	}
	struct stack_opts o;
	memset(&o, 0, sizeof o);
	o.cfg = cfg;
	o.fp = fp;
	o.seed = 1;
	o.emit = emit;
	o.log = log_ev;
	o.record = record;
	struct stack *s;
	if (stack_new(&s, &o, &e) < 0)
		abort();
	have_isn = false;
	uint64_t now = 1700000000ull * 1000000000ull;
	static uint8_t frame[65536];
	size_t i = 0;
	while (i + 3 <= n) {
		uint8_t ctl = d[i];
		size_t len = (size_t)d[i + 1] << 8 | d[i + 2];
		i += 3;
		if (len > n - i)
			len = n - i;
		memcpy(frame, d + i, len);
		i += len;
		now += (uint64_t)(ctl >> 4) * 500000000ull;
		int lt = links[ctl & 7];
		if ((ctl & 8) && have_isn && lt == VG_LINK_ETHERNET) {
			struct vg_pkt p;
			memset(&p, 0, sizeof p);
			if (vg_decode(lt, frame, (uint32_t)len, (uint32_t)len, &p) == VG_DEC_OK &&
			    p.proto == 6 && p.l4 && p.l4_caplen >= 12) {
				uint8_t *a = frame + (p.l4 - frame) + 8;
				tc_put32(a, last_isn + 1);
			}
		}
		stack_input(s, lt, now, frame, (uint32_t)len, (uint32_t)len);
	}
	stack_finish(s, now + 1);
	stack_free(s);
	return 0;
}
