/* sensord.c: vigia-sensord, the sensor program.
 *
 *   vigia-sensord -f CONF [-i IFACE] [-l LOGFILE] [-s SERVICELOG] [-d] [-p PIDFILE]
 *                 [--spool DIR] [--seed N] [--status FILE] NETWORK...
 *   vigia-sensord -f CONF --replay IN.pcap --write OUT.pcap [...] NETWORK...
 *
 * The program wires the pieces together: the configuration (sc-config),
 * the responder (stack), the records (hl-log connection and service logs,
 * sp-spool packet files, status.json).  In --replay every packet of IN is
 * taken as received at its timestamp and everything the sensor sends goes
 * to OUT; with the same --seed two replays give the same bytes.  Live, a
 * privileged parent opens the capture (AF_PACKET, live-afp.h), the logs
 * and the spool, and forks an unprivileged, seccomp-filtered net child
 * that parses the packets (sd-privsep.h, docs/sensor-hardening.md); the
 * parent handles syslog, the pid file, SIGHUP and SIGTERM. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cap-reader.h"
#include "fp.h"
#include "hl-log.h"
#include "sc-config.h"
#include "sp-spool.h"
#include "stack.h"
#include "templ-nmapdb.h"
#include "live-afp.h"
#include "sd-privsep.h"
#include "util-json.h"
#include "vg-err.h"

#define PROG "vigia-sensord"
#define PID_DEFAULT "/run/vigia-sensord.pid"

struct opts {
	const char *conf, *iface, *conn_log, *svc_log, *replay, *write, *spool;
	const char *status, *p0f_db, *pid_file;
	bool foreground, seed_given, no_csum;
	uint64_t seed;
	uint8_t mac[6];
	bool mac_given;
	char **networks;
	int nnetworks;
};

struct sensor {
	struct opts *o;
	struct sc_config *cfg;
	struct stack *stack;
	struct fp_db *fp;
	FILE *conn_log, *svc_log;
	struct spool *spool;
	pcap_t *out_pcap;           /* replay: the dead handle OUT is written with */
	pcap_dumper_t *out;
	struct afp *live;           /* live: capture and send (AF_PACKET) */
	uint64_t start_ns, next_status_ns;
	uint64_t capture_drops, spool_errors, tx_errors;
	uint64_t data_loss_events;  /* spool ticks that deleted uncollected files */
	char *status_path;
	bool warned_spool;
	/* Set up by main for the live parent and its net child. */
	struct nmdb *osdb;
	const char *spool_dir, *conn_log_path, *svc_log_path;
	char spool_log_buf[PATH_MAX], status_buf[PATH_MAX];
	bool drop_user;             /* root: the net child drops to uid/gid */
	uint32_t uid, gid;
	/* Found before any drop or chroot (make_stack_prepare). */
	uint8_t if_mac[6];
	uint32_t script_uid, script_gid;
	bool script_user_set;
};

static volatile sig_atomic_t stop_flag, hup_flag, chld_flag;
/* This process is the net child: it never calls syslog (the seccomp
 * filter has no socket()); its stderr is a pipe the parent logs from. */
static bool net_child;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hup_flag = 1;
	else if (sig == SIGCHLD)
		chld_flag = 1;
	else
		stop_flag = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " -f CONF [-i IFACE] [-l LOGFILE] [-s SERVICELOG] [-d]\n"
		"                     [--spool DIR] [--status FILE] [--seed N] NETWORK...\n"
		"       " PROG " -f CONF --replay IN.pcap --write OUT.pcap [-l LOGFILE]\n"
		"                     [-s SERVICELOG] [--spool DIR] [--seed N] NETWORK...\n"
		"\n"
		"  -f CONF            honeyd.conf (with vigia's own settings)\n"
		"  -i IFACE           interface to capture and answer on (live)\n"
		"  -l LOGFILE         Honeyd connection log\n"
		"  -s SERVICELOG      Honeyd service log (what services record)\n"
		"  -d                 stay in the foreground\n"
		"  -p, --pid-file F   write the pid to F (default when a daemon: " PID_DEFAULT ")\n"
		"  --replay IN        take the packets of IN (pcap, pcapng, .gz, .zst) as received\n"
		"  --write OUT        with --replay: write what the sensor sends to OUT (pcap)\n"
		"  --spool DIR        record packets in and out, MANIFEST and status.json in DIR\n"
		"  --status FILE      write status.json to FILE (default: SPOOL/status.json)\n"
		"  --seed N           key of the SYN cookies and other choices (replay: 0)\n"
		"  --mac MAC          the interface's MAC (replay: 02:76:67:00:00:01)\n"
		"  --p0f-db FILE      p0f database for the [OS] field (default " FP_DEFAULT_DB ")\n"
		"  --no-checksum-check  answer packets whose checksums are wrong (captures\n"
		"                     taken on the sending host carry offloaded checksums)\n"
		"  NETWORK            claimed networks (CIDR), added to the configuration's\n");
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_REPLAY = 256, O_WRITE, O_SPOOL, O_SEED, O_STATUS, O_MAC, O_P0F, O_NOCSUM,
	       O_HELP, O_VERSION };
	static const struct option lo[] = {
		{ "replay", required_argument, NULL, O_REPLAY },
		{ "write", required_argument, NULL, O_WRITE },
		{ "spool", required_argument, NULL, O_SPOOL },
		{ "seed", required_argument, NULL, O_SEED },
		{ "status", required_argument, NULL, O_STATUS },
		{ "mac", required_argument, NULL, O_MAC },
		{ "p0f-db", required_argument, NULL, O_P0F },
		{ "no-checksum-check", no_argument, NULL, O_NOCSUM },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "f:i:l:s:p:dhV", lo, NULL)) != -1) {
		switch (c) {
		case 'f': o->conf = optarg; break;
		case 'i': o->iface = optarg; break;
		case 'l': o->conn_log = optarg; break;
		case 's': o->svc_log = optarg; break;
		case 'd': o->foreground = true; break;
		case 'p': o->pid_file = optarg; break;
		case O_REPLAY: o->replay = optarg; break;
		case O_WRITE: o->write = optarg; break;
		case O_SPOOL: o->spool = optarg; break;
		case O_STATUS: o->status = optarg; break;
		case O_P0F: o->p0f_db = optarg; break;
		case O_NOCSUM: o->no_csum = true; break;
		case O_SEED: {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 0);
			if (errno || *end || end == optarg) {
				fprintf(stderr, PROG ": --seed: expected a number, got '%s'\n",
					optarg);
				return -1;
			}
			o->seed = v;
			o->seed_given = true;
			break;
		}
		case O_MAC:
			if (parse_mac(optarg, o->mac)) {
				fprintf(stderr, PROG ": --mac: expected aa:bb:cc:dd:ee:ff, got '%s'\n",
					optarg);
				return -1;
			}
			o->mac_given = true;
			break;
		case 'h':
		case O_HELP: usage(stdout); exit(0);
		case 'V':
		case O_VERSION: printf(PROG " " VIGIA_VERSION "\n"); exit(0);
		default: usage(stderr); return -1;
		}
	}
	o->networks = argv + optind;
	o->nnetworks = argc - optind;
	if (!o->conf) {
		fprintf(stderr, PROG ": -f CONF is required\n");
		return -1;
	}
	if (o->write && !o->replay) {
		fprintf(stderr, PROG ": --write needs --replay\n");
		return -1;
	}
	if (o->replay && !o->write) {
		fprintf(stderr, PROG ": --replay needs --write OUT.pcap\n");
		return -1;
	}
	return 0;
}

/* --- records ---------------------------------------------------------------- */

static void log_line(FILE *f, const char *line)
{
	if (f) {
		fputs(line, f);
		fputc('\n', f);
	}
}

static void on_log(void *ctx, const struct hl_event *ev)
{
	struct sensor *sn = ctx;
	char buf[1024];
	if (sn->conn_log && hl_format(ev, buf, sizeof buf) >= 0)
		log_line(sn->conn_log, buf);
}

/* Honeyd wrote what scripts printed on stderr to the service log; the
 * built-in services' records go there the same way.  Without -s they go
 * to the connection log, so nothing recorded is lost. */
static void on_record(void *ctx, const struct hl_event *ev, const char *key,
		      const char *value)
{
	struct sensor *sn = ctx;
	char text[600], buf[2600];
	/* An empty key: value is the whole line (a script's stderr). */
	int n = *key ? snprintf(text, sizeof text, "%s %s", key, value)
		     : snprintf(text, sizeof text, "%s", value);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof text)
		n = sizeof text - 1;
	FILE *f = sn->svc_log ? sn->svc_log : sn->conn_log;
	if (f && hl_format_service(ev, text, (size_t)n, buf, sizeof buf) >= 0)
		log_line(f, buf);
}

static void on_warn(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, PROG ": warning: %s\n", msg);
}

static void spool_frame(struct sensor *sn, uint64_t ts, const uint8_t *f, uint32_t caplen,
			uint32_t wirelen)
{
	struct vg_err e = { 0 };
	if (sn->spool && spool_write(sn->spool, ts, f, caplen, wirelen, &e) < 0) {
		sn->spool_errors++;
		if (!sn->warned_spool) {
			fprintf(stderr, PROG ": spool: %s\n", e.msg);
			sn->warned_spool = true;
		}
	}
}

static void on_emit(void *ctx, uint64_t ts, const uint8_t *frame, uint32_t len)
{
	struct sensor *sn = ctx;
	if (sn->out) {
		struct pcap_pkthdr h;
		h.ts.tv_sec = (time_t)(ts / 1000000000u);
		/* The dead handle is opened with nanosecond precision. */
		h.ts.tv_usec = (suseconds_t)(ts % 1000000000u);
		h.caplen = h.len = len;
		pcap_dump((u_char *)sn->out, &h, frame);
	}
	if (sn->live && afp_send(sn->live, frame, len) < 0)
		sn->tx_errors++;
	spool_frame(sn, ts, frame, len, len);
}

static void fmt_time(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "1970-01-01T00:00:00Z");
}

/* status.json, written to a temporary file and renamed so that readers
 * (the gateway's `status`) never see half a document. */
static int write_status(struct sensor *sn, uint64_t now_ns)
{
	if (!sn->status_path)
		return 0;
	struct stack_stats st;
	stack_get_stats(sn->stack, &st);
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", sn->status_path) >= (int)sizeof tmp)
		return -ENAMETOOLONG;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -errno;
	char t1[32], t2[32], t3[32];
	fmt_time(sn->start_ns, t1, sizeof t1);
	fmt_time(now_ns, t2, sizeof t2);
	fmt_time(st.last_packet_ns, t3, sizeof t3);
	struct json_w w;
	json_init(&w, f, true);
	json_obj_begin(&w);
	json_key(&w, "version");
	json_str(&w, VIGIA_VERSION);
	json_key(&w, "mode");
	json_str(&w, sn->o->replay ? "replay" : "live");
	json_key(&w, "start_time");
	json_str(&w, t1);
	json_key(&w, "updated");
	json_str(&w, t2);
	json_key(&w, "packets_received");
	json_u64(&w, st.rx_packets);
	json_key(&w, "packets_sent");
	json_u64(&w, st.tx_packets);
	json_key(&w, "bytes_received");
	json_u64(&w, st.rx_bytes);
	json_key(&w, "bytes_sent");
	json_u64(&w, st.tx_bytes);
	json_key(&w, "capture_drops");
	json_u64(&w, sn->capture_drops);
	json_key(&w, "open_connections");
	json_u64(&w, st.conn_open);
	json_key(&w, "connections_total");
	json_u64(&w, st.conn_total);
	json_key(&w, "connection_cap_hits");
	json_u64(&w, st.conn_cap_hits);
	json_key(&w, "udp_flows");
	json_u64(&w, st.udp_flows_open);
	json_key(&w, "last_packet_time");
	if (st.last_packet_ns)
		json_str(&w, t3);
	else
		json_null(&w);
	json_key(&w, "spool_bytes");
	json_u64(&w, sn->spool ? spool_bytes(sn->spool) : 0);
	if (sn->spool) {
		struct spool_stats ss;
		spool_get_stats(sn->spool, &ss);
		json_key(&w, "spool");
		json_obj_begin(&w);
		json_key(&w, "frames_written");
		json_u64(&w, ss.frames_written);
		json_key(&w, "frames_dropped");
		json_u64(&w, ss.frames_dropped);
		json_key(&w, "files_completed");
		json_u64(&w, ss.files_completed);
		json_key(&w, "uncollected_deleted");
		json_u64(&w, ss.uncollected_deleted);
		json_key(&w, "data_loss_events");
		json_u64(&w, sn->data_loss_events);
		json_key(&w, "write_errors");
		json_u64(&w, ss.write_errors);
		json_obj_end(&w);
	}
	json_key(&w, "scripts");
	json_obj_begin(&w);
	json_key(&w, "running");
	json_u64(&w, st.scripts_running);
	json_key(&w, "started");
	json_u64(&w, st.scripts_started);
	json_key(&w, "cap_hits");
	json_u64(&w, st.script_cap_hits);
	json_key(&w, "start_errors");
	json_u64(&w, st.script_errors);
	json_key(&w, "failed");
	json_u64(&w, st.scripts_failed);
	json_key(&w, "killed");
	json_u64(&w, st.scripts_killed);
	json_key(&w, "timeouts");
	json_u64(&w, st.scripts_timeout);
	json_key(&w, "udp_truncated");
	json_u64(&w, st.script_udp_truncated);
	json_obj_end(&w);
	json_key(&w, "dropped");
	json_obj_begin(&w);
	json_key(&w, "droprate");
	json_u64(&w, st.dropped_droprate);
	json_key(&w, "bad_checksum");
	json_u64(&w, st.bad_checksum);
	json_key(&w, "undecodable");
	json_u64(&w, st.undecodable);
	json_key(&w, "icmp_ratelimited");
	json_u64(&w, st.icmp_ratelimited);
	json_key(&w, "tcp_bad_cookie");
	json_u64(&w, st.tcp_bad_cookie);
	json_key(&w, "ipv6_ignored");
	json_u64(&w, st.ipv6_ignored);
	json_key(&w, "not_ours");
	json_u64(&w, st.not_ours);
	json_key(&w, "spool_errors");
	json_u64(&w, sn->spool_errors);
	json_key(&w, "send_errors");
	json_u64(&w, sn->tx_errors);
	json_key(&w, "max_pps");
	json_u64(&w, st.dropped_pps_global);
	json_key(&w, "max_pps_per_source");
	json_u64(&w, st.dropped_pps_source);
	json_key(&w, "amplification");
	json_u64(&w, st.dropped_amplification);
	json_key(&w, "released_address");
	json_u64(&w, st.dropped_released);
	json_obj_end(&w);
	json_key(&w, "arp_released");
	json_u64(&w, st.arp_released);
	json_obj_end(&w);
	int rc = json_finish(&w);
	if (fclose(f) != 0 && rc == 0)
		rc = -EIO;
	if (rc == 0 && rename(tmp, sn->status_path) != 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

static void housekeeping(struct sensor *sn, uint64_t now_ns)
{
	if (sn->spool) {
		struct vg_err e = { 0 };
		int rc = spool_tick(sn->spool, now_ns, &e);
		if (rc < 0) {
			sn->spool_errors++;
			fprintf(stderr, PROG ": spool: %s\n", e.msg);
		} else if (rc == SPOOL_TICK_DELETED_UNCOLLECTED) {
			/* Data the central server never saw is gone: say it
			 * everywhere an operator looks. */
			sn->data_loss_events++;
			fprintf(stderr, PROG ": WARNING: DATA LOST: %s\n", e.msg);
			if (!net_child)     /* the parent logs the child's line */
				syslog(LOG_CRIT, "DATA LOST: %s", e.msg);
			sn->next_status_ns = 0;     /* and in status.json now */
		}
	}
	if (now_ns >= sn->next_status_ns) {
		uint32_t iv = sn->cfg->status_interval ? sn->cfg->status_interval : 5;
		sn->next_status_ns = now_ns + (uint64_t)iv * 1000000000u;
		if (write_status(sn, now_ns) < 0)
			fprintf(stderr, PROG ": cannot write %s: %s\n", sn->status_path,
				strerror(errno));
	}
}

static FILE *open_log(const char *path)
{
	if (!path)
		return NULL;
	if (!strcmp(path, "-"))
		return stdout;
	FILE *f = fopen(path, "a");
	if (!f)
		fprintf(stderr, PROG ": cannot open %s: %s\n", path, strerror(errno));
	return f;
}

static void banner(FILE *f, uint64_t ts, int started)
{
	char buf[128];
	if (f && hl_format_banner(ts, started, buf, sizeof buf) >= 0)
		log_line(f, buf);
}

/* --- replay ------------------------------------------------------------------ */

static int run_replay(struct sensor *sn)
{
	struct vg_err e = { 0 };
	struct cap_reader *r;
	if (cap_open(&r, sn->o->replay, &e) < 0) {
		fprintf(stderr, PROG ": %s\n", e.msg);
		return 1;
	}
	sn->out_pcap = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
							    PCAP_TSTAMP_PRECISION_NANO);
	sn->out = sn->out_pcap ? pcap_dump_open(sn->out_pcap, sn->o->write) : NULL;
	if (!sn->out) {
		fprintf(stderr, PROG ": cannot write %s: %s\n", sn->o->write,
			sn->out_pcap ? pcap_geterr(sn->out_pcap) : "out of memory");
		cap_close(r);
		return 1;
	}
	int lt = cap_linktype(r);
	struct cap_packet pk;
	int rc, status = 0;
	bool first = true;
	uint64_t last = 0;
	while ((rc = cap_next(r, &pk, &e)) == 1 && !stop_flag) {
		if (first) {
			sn->start_ns = pk.ts_ns;
			sn->next_status_ns = pk.ts_ns;
			banner(sn->conn_log, pk.ts_ns, 1);
			first = false;
		}
		if (pk.ts_ns > last)
			last = pk.ts_ns;
		/* The spool holds Ethernet frames, what the sensor sees live. */
		if (lt == VG_LINK_ETHERNET)
			spool_frame(sn, pk.ts_ns, pk.data, pk.caplen, pk.wirelen);
		stack_input(sn->stack, lt, pk.ts_ns, pk.data, pk.caplen, pk.wirelen);
		/* Deterministic replay: what scripts answer to this packet
		 * goes out before the next one is taken (stack.h). */
		stack_script_settle(sn->stack);
		housekeeping(sn, last);
	}
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", e.msg);
		status = 1;
	}
	cap_close(r);
	stack_script_settle(sn->stack);
	stack_finish(sn->stack, last);
	if (!first)
		banner(sn->conn_log, last, 0);
	sn->next_status_ns = 0;
	housekeeping(sn, last);
	return status;
}

/* --- live ---------------------------------------------------------------------- */

static uint64_t clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void live_packet(void *ctx, uint64_t ts, const uint8_t *frame, uint32_t caplen,
			uint32_t wirelen, unsigned csum)
{
	struct sensor *sn = ctx;
	spool_frame(sn, ts, frame, caplen, wirelen);
	unsigned st = (csum & AFP_CSUM_PARTIAL ? STACK_CSUM_PARTIAL : 0) |
		      (csum & AFP_CSUM_VALID ? STACK_CSUM_VALID : 0);
	stack_input_csum(sn->stack, VG_LINK_ETHERNET, ts, frame, caplen, wirelen, st);
}

static int read_if_mac(const char *iface, uint8_t mac[6])
{
	char path[256], line[64];
	snprintf(path, sizeof path, "/sys/class/net/%s/address", iface);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int rc = fgets(line, sizeof line, f) ? 0 : -1;
	fclose(f);
	if (rc == 0) {
		line[strcspn(line, "\n")] = '\0';
		rc = parse_mac(line, mac);
	}
	return rc;
}

static int run_live(struct sensor *sn)
{
	const char *iface = sn->o->iface ? sn->o->iface : sn->cfg->interface;
	if (!iface) {
		fprintf(stderr, PROG ": no interface: give -i IFACE or 'vigia interface' in %s\n",
			sn->o->conf);
		return 2;
	}
	/* Opened by the privileged parent (live_open_capture). */
	struct afp *p = sn->live;
	sn->start_ns = clock_ns();
	banner(sn->conn_log, sn->start_ns, 1);
	/* The capture and every running script's pipes in one poll. */
	int npfd = 1 + 3 * (int)stack_script_slots(sn->stack);
	struct pollfd *pfd = calloc((size_t)npfd, sizeof *pfd);
	if (!pfd) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	while (!stop_flag) {
		pfd[0] = (struct pollfd){ .fd = afp_fd(p), .events = POLLIN };
		int n = 1 + stack_script_pollfds(sn->stack, pfd + 1, npfd - 1);
		poll(pfd, (nfds_t)n, 200);
		int rc = afp_dispatch(p, 4096, live_packet, sn);
		if (rc < 0) {
			fprintf(stderr, PROG ": %s: capture: %s\n", iface, strerror(-rc));
			break;
		}
		uint64_t now = clock_ns();
		stack_tick(sn->stack, now);
		stack_script_poll(sn->stack, now);
		afp_flush(p);   /* what timers and scripts sent */
		sn->capture_drops = afp_drops(p);
		housekeeping(sn, now);
		if (sn->conn_log)
			fflush(sn->conn_log);
		if (sn->svc_log)
			fflush(sn->svc_log);
	}
	free(pfd);
	uint64_t now = clock_ns();
	stack_finish(sn->stack, now);
	banner(sn->conn_log, now, 0);
	sn->next_status_ns = 0;
	housekeeping(sn, now);
	return 0;
}

/* --- set-up shared by replay and the net child --------------------------------- */

static int open_spool(struct sensor *sn, const char *dir, struct vg_err *e)
{
	struct spool_opts so = {
		.dir = dir,
		.rotate_seconds = sn->cfg->rotate_seconds ? sn->cfg->rotate_seconds : 3600,
		.retention_seconds = sn->cfg->retention_seconds ? sn->cfg->retention_seconds
								 : 86400,
		/* A replay never deletes files not yet collected. */
		.min_free_bytes = sn->o->replay ? 0 : 512ull << 20,
		.linktype = VG_LINK_ETHERNET,
		.snaplen = 65535,
	};
	return spool_open(&sn->spool, &so, e);
}

/* What make_stack needs from outside the process: the interface's MAC and
 * the scripts' user, looked up while /sys and /etc are still in sight. */
static int make_stack_prepare(struct sensor *sn, struct vg_err *e)
{
	const struct opts *o = sn->o;
	static const uint8_t replay_mac[6] = { 0x02, 0x76, 0x67, 0x00, 0x00, 0x01 };
	memcpy(sn->if_mac, replay_mac, 6);
	if (o->mac_given)
		memcpy(sn->if_mac, o->mac, 6);
	else if (!o->replay && (o->iface || sn->cfg->interface))
		read_if_mac(o->iface ? o->iface : sn->cfg->interface, sn->if_mac);
	sn->script_user_set = false;
	if (sn->cfg->user) {
		/* Scripts run as this user; without it, as nobody.  An unknown
		 * user is fatal: scripts must never run with more rights
		 * than meant. */
		errno = 0;
		struct passwd *pw = getpwnam(sn->cfg->user);
		if (!pw)
			return vg_err_set(e, -ENOENT, "%s: vigia user '%s': %s", o->conf,
					  sn->cfg->user, errno ? strerror(errno) : "no such user");
		sn->script_uid = pw->pw_uid;
		sn->script_gid = pw->pw_gid;
		sn->script_user_set = true;
	}
	return 0;
}

static int make_stack(struct sensor *sn, struct vg_err *e)
{
	const struct opts *o = sn->o;
	struct stack_opts so;
	memset(&so, 0, sizeof so);
	so.cfg = sn->cfg;
	so.fp = sn->fp;
	so.osdb = sn->osdb;
	so.warn = on_warn;
	so.verify_checksums = !o->no_csum;
	so.emit = on_emit;
	so.log = on_log;
	so.record = on_record;
	so.ctx = sn;
	/* Live: the send caps, the amplification limit and the ARP guard. */
	so.guard = !o->replay;
	memcpy(so.if_mac, sn->if_mac, 6);
	so.script_uid = sn->script_uid;
	so.script_gid = sn->script_gid;
	so.script_user_set = sn->script_user_set;
	so.seed = o->seed;
	if (!o->seed_given && !o->replay) {
		/* Live: an unpredictable cookie key unless one is asked for. */
		if (getrandom(&so.seed, sizeof so.seed, 0) != (ssize_t)sizeof so.seed)
			so.seed = clock_ns() ^ (uint64_t)getpid() << 32;
	}
	return stack_new(&sn->stack, &so, e);
}

/* Logs, spool and status paths from the options and the configuration. */
static void resolve_paths(struct sensor *sn)
{
	const struct opts *o = sn->o;
	sn->spool_dir = o->spool ? o->spool : (o->replay ? NULL : sn->cfg->spool_dir);
	sn->conn_log_path = o->conn_log ? o->conn_log : sn->cfg->conn_log;
	sn->svc_log_path = o->svc_log ? o->svc_log : sn->cfg->service_log;
	if (!sn->conn_log_path && sn->spool_dir) {
		snprintf(sn->spool_log_buf, sizeof sn->spool_log_buf, "%s/honeyd.log",
			 sn->spool_dir);
		sn->conn_log_path = sn->spool_log_buf;
	}
	sn->status_path = NULL;
	if (o->status) {
		sn->status_path = (char *)o->status;
	} else if (sn->spool_dir) {
		snprintf(sn->status_buf, sizeof sn->status_buf, "%s/status.json", sn->spool_dir);
		sn->status_path = sn->status_buf;
	}
}

static int load_config(const struct opts *o, struct sc_config **out, struct vg_err *e)
{
	if (sc_config_load(out, o->conf, e) < 0)
		return -1;
	for (int i = 0; i < o->nnetworks; i++) {
		if (sc_config_claim(*out, o->networks[i], e) < 0) {
			sc_config_free(*out);
			*out = NULL;
			return -1;
		}
	}
	return 0;
}

static bool has_scripts(const struct sc_config *c)
{
	for (size_t i = 0; i < c->ntmpls; i++)
		for (size_t j = 0; j < c->tmpls[i].nports; j++)
			if (c->tmpls[i].ports[j].action == SC_SCRIPT)
				return true;
	return false;
}

static int close_records(struct sensor *sn, int status)
{
	struct vg_err e = { 0 };
	if (sn->spool) {
		if (spool_close(sn->spool, &e) < 0) {
			fprintf(stderr, PROG ": %s\n", e.msg);
			status = status ? status : 1;
		}
		sn->spool = NULL;
	}
	if (sn->conn_log && sn->conn_log != stdout && fclose(sn->conn_log) != 0) {
		fprintf(stderr, PROG ": %s: write error\n", sn->conn_log_path);
		status = status ? status : 1;
	}
	if (sn->svc_log && sn->svc_log != stdout && fclose(sn->svc_log) != 0) {
		fprintf(stderr, PROG ": %s: write error\n", sn->svc_log_path);
		status = status ? status : 1;
	}
	sn->conn_log = sn->svc_log = NULL;
	return status;
}

/* --- live: the privileged parent and the net child ----------------------------
 *
 * docs/sensor-hardening.md.  The parent (root) never reads a packet: it
 * opens the capture, the logs and the spool directory, forks the net child
 * and then only relays the child's messages to syslog and handles signals.
 * The child drops to `vigia user`, empties its capabilities, enters the
 * seccomp filter and only then runs the responder. */

static bool log_stderr = true;  /* parent: until daemonized, and with -d */

static void plog(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void plog(int prio, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsyslog(prio, fmt, ap);
	va_end(ap);
	if (log_stderr) {
		va_start(ap, fmt);
		fputs(PROG ": ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
}

/* One line the child wrote on stderr: to syslog at a priority read from
 * its words, and to our stderr in the foreground. */
static void relay_line(const char *line)
{
	const char *msg = line;
	if (!strncmp(msg, PROG ": ", sizeof PROG + 1))
		msg += sizeof PROG + 1;
	int prio = LOG_ERR;
	if (strstr(msg, "DATA LOST"))
		prio = LOG_CRIT;
	else if (!strncmp(msg, "warning", 7) || !strncmp(msg, "ARP:", 4))
		prio = LOG_WARNING;
	else if (!strncmp(msg, "net:", 4))
		prio = LOG_INFO;
	syslog(prio, "%s", msg);
	if (log_stderr)
		fprintf(stderr, "%s\n", line);
}

struct relay {
	int fd;
	char buf[4096];
	size_t len;
};

/* Read what the child wrote; false at end of file. */
static bool relay_read(struct relay *r)
{
	if (r->fd < 0)
		return false;
	ssize_t n = read(r->fd, r->buf + r->len, sizeof r->buf - 1 - r->len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		if (r->len) {
			r->buf[r->len] = '\0';
			relay_line(r->buf);
			r->len = 0;
		}
		close(r->fd);
		r->fd = -1;
		return false;
	}
	r->len += (size_t)n;
	char *start = r->buf, *nl;
	while ((nl = memchr(start, '\n', r->len - (size_t)(start - r->buf)))) {
		*nl = '\0';
		relay_line(start);
		start = nl + 1;
	}
	size_t rest = r->len - (size_t)(start - r->buf);
	if (rest == sizeof r->buf - 1) {        /* a line too long: cut it */
		r->buf[rest] = '\0';
		relay_line(r->buf);
		rest = 0;
	}
	memmove(r->buf, start, rest);
	r->len = rest;
	return true;
}

/* The spool belongs to the user the child runs as: the directory, its
 * pcap/ subdirectory and what they hold (a spool written by an earlier
 * root run).  Symbolic links are changed, never followed. */
static int prepare_spool(struct sensor *sn)
{
	if (!sn->spool_dir)
		return 0;
	if (mkdir(sn->spool_dir, 0750) < 0 && errno != EEXIST) {
		plog(LOG_ERR, "%s: %s", sn->spool_dir, strerror(errno));
		return -1;
	}
	if (!sn->drop_user)
		return 0;
	char sub[PATH_MAX];
	snprintf(sub, sizeof sub, "%s/pcap", sn->spool_dir);
	const char *dirs[2] = { sn->spool_dir, sub };
	for (int i = 0; i < 2; i++) {
		int fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			if (i == 1 && errno == ENOENT)
				break;
			plog(LOG_ERR, "%s: %s", dirs[i], strerror(errno));
			return -1;
		}
		/* The owner becomes the unprivileged user; the group stays the
		 * operator's choice: the collection user's group reads the spool
		 * and acks through it (docs/deploy-sensor.md). */
		if (fchown(fd, sn->uid, (gid_t)-1) < 0) {
			plog(LOG_ERR, "%s: chown to %u: %s", dirs[i], sn->uid,
			     strerror(errno));
			close(fd);
			return -1;
		}
		DIR *d = fdopendir(fd);
		if (!d) {
			close(fd);
			return -1;
		}
		struct dirent *de;
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				fchownat(dirfd(d), de->d_name, sn->uid, (gid_t)-1, AT_SYMLINK_NOFOLLOW);
		closedir(d);
	}
	return 0;
}

static int write_pid_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	int rc = write(fd, buf, (size_t)n) == n ? 0 : -EIO;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* The net child: never returns. */
static void net_child_main(struct sensor *sn, int errfd, const sigset_t *oldmask,
			   pid_t parent)
{
	net_child = true;
	if (errfd != STDERR_FILENO) {
		dup2(errfd, STDERR_FILENO);
		close(errfd);
	}
	/* A parent slow to read (syslog stalled) costs log lines, never a
	 * stalled capture. */
	fcntl(STDERR_FILENO, F_SETFL, fcntl(STDERR_FILENO, F_GETFL) | O_NONBLOCK);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* The parent handles reloads (it restarts this child). */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	/* Scripts are reaped with waitpid. */
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	stop_flag = hup_flag = chld_flag = 0;
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	/* The parent gone, the child finishes its files and ends. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(1);       /* it died before the line above */

	struct vg_err e = { 0 };
	bool scripts = has_scripts(sn->cfg);
	/* chroot into the spool when nothing outside it is needed: no
	 * scripts (/bin/sh), the status file in the spool, and root to do
	 * it.  The logs are already open.  Local time is read now, before
	 * /etc/localtime goes out of sight. */
	tzset();
	bool chrooted = sn->drop_user && !scripts && sn->spool_dir && !sn->o->status;
	struct ps_drop d = { .switch_user = sn->drop_user, .uid = sn->uid, .gid = sn->gid,
			     .chroot_dir = chrooted ? sn->spool_dir : NULL };
	/* A documented test hook (docs/sensor-hardening.md): harmless, it
	 * only makes this child die by its own filter. */
	bool forbidden = getenv("VIGIA_TEST_FORBIDDEN_SYSCALL") != NULL;
	int status = 1;
	if (ps_drop(&d, &e) < 0) {
		fprintf(stderr, PROG ": %s\n", e.msg);
		_exit(1);
	}
	if (chrooted) {
		sn->status_path = "/status.json";
		sn->spool_dir = "/";
	}
	if (make_stack(sn, &e) < 0 || (sn->spool_dir && open_spool(sn, sn->spool_dir, &e) < 0)) {
		fprintf(stderr, PROG ": %s\n", e.msg);
		_exit(1);
	}
	if (ps_seccomp(scripts, getenv("VIGIA_SECCOMP_DEBUG") != NULL, &e) < 0) {
		fprintf(stderr, PROG ": %s\n", e.msg);
		_exit(1);
	}
	fprintf(stderr, PROG ": net: pid %ld uid %u gid %u%s%s, no capabilities, seccomp filter on\n",
		(long)getpid(), (unsigned)getuid(), (unsigned)getgid(),
		chrooted ? ", chroot " : "", chrooted ? d.chroot_dir : "");
	if (forbidden) {
		fprintf(stderr, PROG ": net: VIGIA_TEST_FORBIDDEN_SYSCALL: calling socket()\n");
		int fd = socket(AF_INET, SOCK_DGRAM, 0);
		/* Only reached if the filter let it through. */
		fprintf(stderr, PROG ": socket() was allowed (fd %d): the seccomp filter failed\n",
			fd);
		_exit(3);
	}
	status = run_live(sn);
	status = close_records(sn, status);
	afp_close(sn->live);
	/* _exit: nothing at exit (a sanitizer's leak check would need
	 * system calls the filter forbids); everything is closed above. */
	_exit(status);
}

static int live_open_capture(struct sensor *sn, const char *iface)
{
	/* AF_PACKET rather than libpcap: it tells which frames carry
	 * checksums left to offload (live-afp.h).  VIGIA_AFP_NORING: the
	 * recvmsg/sendto fallback, for tests and the bench. */
	struct vg_err ae = { 0 };
	if (afp_open_flags(&sn->live, iface, AFP_RING_DEFAULT,
			   getenv("VIGIA_AFP_NORING") ? AFP_NO_RING : 0, &ae) < 0) {
		plog(LOG_ERR, "%s", ae.msg);
		return -1;
	}
	return 0;
}

/* Open what the child needs and fork it; its pid, or -1. */
static pid_t start_child(struct sensor *sn, const char *iface, struct relay *r,
			 const sigset_t *oldmask)
{
	resolve_paths(sn);
	struct vg_err e = { 0 };
	if (make_stack_prepare(sn, &e) < 0) {
		plog(LOG_ERR, "%s", e.msg);
		return -1;
	}
	if (prepare_spool(sn) < 0)
		return -1;
	sn->conn_log = open_log(sn->conn_log_path);
	sn->svc_log = open_log(sn->svc_log_path);
	if ((sn->conn_log_path && !sn->conn_log) || (sn->svc_log_path && !sn->svc_log)) {
		close_records(sn, 0);
		return -1;
	}
	if (live_open_capture(sn, iface) < 0) {
		close_records(sn, 0);
		return -1;
	}
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		plog(LOG_ERR, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		plog(LOG_ERR, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		net_child_main(sn, pfd[1], oldmask, parent);
	}
	close(pfd[1]);
	r->fd = pfd[0];
	r->len = 0;
	/* The child holds its own copies of the logs and the capture. */
	if (sn->conn_log && sn->conn_log != stdout)
		fclose(sn->conn_log);
	if (sn->svc_log && sn->svc_log != stdout)
		fclose(sn->svc_log);
	sn->conn_log = sn->svc_log = NULL;
	afp_close(sn->live);
	sn->live = NULL;
	return pid;
}

/* Wait for the child to end, relaying its messages; its wait status.  A
 * child that has not finished its files within CHILD_STOP_S (stuck, or
 * no longer ours to trust) is killed. */
#define CHILD_STOP_S 20
static int wait_child(pid_t pid, struct relay *r, const sigset_t *waitmask)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bool killed = false;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (!killed && t.tv_sec - t0.tv_sec >= CHILD_STOP_S) {
			plog(LOG_ERR, "net child %ld still running %d s after SIGTERM: SIGKILL",
			     (long)pid, CHILD_STOP_S);
			kill(pid, SIGKILL);
			killed = true;
		}
		int st;
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid) {
			while (relay_read(r))
				;
			return st;
		}
		if (w < 0 && errno != EINTR)
			return -1;
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 100000000 };
		if (ppoll(&p, r->fd >= 0 ? 1 : 0, &ts, waitmask) > 0)
			relay_read(r);
	}
}

static void describe_exit(int st, char *buf, size_t len)
{
	if (WIFSIGNALED(st))
		snprintf(buf, len, "killed by signal %d (%s)%s", WTERMSIG(st),
			 strsignal(WTERMSIG(st)),
			 WTERMSIG(st) == SIGSYS ? ": a system call outside its seccomp filter" : "");
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
}

static int live_main(struct sensor *sn)
{
	const struct opts *o = sn->o;
	const char *iface = o->iface ? o->iface : sn->cfg->interface;
	if (!iface) {
		fprintf(stderr, PROG ": no interface: give -i IFACE or 'vigia interface' in %s\n",
			o->conf);
		return 2;
	}
	if (geteuid() == 0) {
		/* The net child runs as `vigia user`, else nobody; never root. */
		const char *user = sn->cfg->user ? sn->cfg->user : "nobody";
		errno = 0;
		struct passwd *pw = getpwnam(user);
		if (!pw) {
			fprintf(stderr, PROG ": %s: vigia user '%s': %s\n", o->conf, user,
				errno ? strerror(errno) : "no such user");
			return 2;
		}
		if (pw->pw_uid == 0 || pw->pw_gid == 0) {
			fprintf(stderr, PROG ": %s: vigia user '%s' is root: the process that "
				"parses packets must not be\n", o->conf, user);
			return 2;
		}
		sn->drop_user = true;
		sn->uid = pw->pw_uid;
		sn->gid = pw->pw_gid;
	}
	if (!o->foreground) {
		if (daemon(1, 0) < 0) {
			fprintf(stderr, PROG ": daemon: %s\n", strerror(errno));
			return 1;
		}
		log_stderr = false;
	}
	const char *pid_file = o->pid_file ? o->pid_file : (o->foreground ? NULL : PID_DEFAULT);
	if (pid_file) {
		int rc = write_pid_file(pid_file);
		if (rc < 0) {
			plog(LOG_ERR, "%s: %s", pid_file, strerror(-rc));
			return 1;
		}
	}
	/* Signals are taken only inside ppoll: no flag is missed. */
	sigset_t block, oldmask, waitmask;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &oldmask);
	waitmask = oldmask;
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGHUP);
	sigdelset(&waitmask, SIGCHLD);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	struct relay r = { .fd = -1 };
	int status = 0;
	pid_t child = start_child(sn, iface, &r, &oldmask);
	if (child < 0) {
		status = 1;
		goto out;
	}
	plog(LOG_NOTICE, "started on %s, net child %ld", iface, (long)child);
	for (;;) {
		struct pollfd p = { .fd = r.fd, .events = POLLIN };
		int n = ppoll(&p, r.fd >= 0 ? 1 : 0, NULL, &waitmask);
		if (n > 0)
			relay_read(&r);
		if (stop_flag) {
			kill(child, SIGTERM);
			int st = wait_child(child, &r, &waitmask);
			char why[160];
			describe_exit(st, why, sizeof why);
			plog(LOG_NOTICE, "stopping: net child %s", why);
			status = st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : 1;
			break;
		}
		if (chld_flag) {
			chld_flag = 0;
			int st;
			if (waitpid(child, &st, WNOHANG) == child) {
				while (relay_read(&r))
					;
				char why[160];
				describe_exit(st, why, sizeof why);
				plog(LOG_CRIT, "net child %ld %s; stopping", (long)child, why);
				status = 1;
				break;
			}
		}
		if (hup_flag) {
			hup_flag = 0;
			/* Validate first: a broken configuration leaves the
			 * running one in place. */
			struct sc_config *nc = NULL;
			struct vg_err e = { 0 };
			if (load_config(o, &nc, &e) < 0) {
				plog(LOG_ERR, "SIGHUP: %s: keeping the running configuration", e.msg);
				continue;
			}
			const char *niface = o->iface ? o->iface : nc->interface;
			if (!niface) {
				plog(LOG_ERR, "SIGHUP: %s: no interface: keeping the running "
				     "configuration", o->conf);
				sc_config_free(nc);
				continue;
			}
			kill(child, SIGTERM);
			int st = wait_child(child, &r, &waitmask);
			chld_flag = 0;
			sc_config_free(sn->cfg);
			sn->cfg = nc;
			iface = niface;
			if (!sn->osdb) {
				for (size_t i = 0; i < nc->ntmpls && !sn->osdb; i++)
					if (nc->tmpls[i].personality &&
					    nmdb_load(&sn->osdb, NMDB_DEFAULT_PATH, &e) < 0)
						break;
			}
			child = start_child(sn, iface, &r, &oldmask);
			if (child < 0) {
				plog(LOG_CRIT, "SIGHUP: cannot restart the net child; stopping");
				status = 1;
				break;
			}
			char why[160];
			describe_exit(st, why, sizeof why);
			plog(LOG_NOTICE, "SIGHUP: configuration reloaded, logs reopened; old net "
			     "child %s, new net child %ld", why, (long)child);
		}
	}
out:
	if (r.fd >= 0)
		close(r.fd);
	if (pid_file)
		unlink(pid_file);
	return status;
}

/* --- main ----------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct opts o;
	memset(&o, 0, sizeof o);
	if (parse_args(argc, argv, &o) < 0)
		return 2;
	struct sensor sn;
	memset(&sn, 0, sizeof sn);
	sn.o = &o;
	struct vg_err e = { 0 };
	/* Spool files are group-readable and the manifest group-writable: the
	 * gateway runs as the collection user, a member of the spool's group,
	 * and rewrites MANIFEST when it acks.  Nothing is world-readable. */
	umask(0007);
	openlog(PROG, LOG_PID, LOG_DAEMON);
	if (load_config(&o, &sn.cfg, &e) < 0) {
		fprintf(stderr, PROG ": %s\n", e.msg);
		return 2;
	}
	if (sn.cfg->networks.n == 0 && sn.cfg->nbinds == 0)
		fprintf(stderr, PROG ": warning: no claimed network and no bind: nothing to answer for\n");

	/* The p0f database is optional: without it [OS] stays empty. */
	const char *fpdb = o.p0f_db ? o.p0f_db : FP_DEFAULT_DB;
	if (o.p0f_db || access(fpdb, R_OK) == 0) {
		if (fp_db_load(&sn.fp, fpdb, &e) < 0) {
			fprintf(stderr, PROG ": %s (no [OS] field)\n", e.msg);
			sn.fp = NULL;
		}
	}

	/* nmap's OS database, when a template names a personality.  Without
	 * it the personalities keep only TTL, DF and window (stack.h). */
	for (size_t i = 0; i < sn.cfg->ntmpls && !sn.osdb; i++) {
		if (!sn.cfg->tmpls[i].personality)
			continue;
		if (nmdb_load(&sn.osdb, NMDB_DEFAULT_PATH, &e) < 0) {
			fprintf(stderr, PROG ": warning: %s: personalities limited to TTL, DF "
				"and window (install nmap)\n", e.msg);
			break;
		}
	}

	int status = 0;
	if (!o.replay) {
		status = live_main(&sn);
		goto out;
	}

	resolve_paths(&sn);
	if (sn.spool_dir) {
		mkdir(sn.spool_dir, 0750);
		if (open_spool(&sn, sn.spool_dir, &e) < 0) {
			fprintf(stderr, PROG ": %s\n", e.msg);
			status = 1;
			goto out;
		}
	}
	sn.conn_log = open_log(sn.conn_log_path);
	sn.svc_log = open_log(sn.svc_log_path);
	if ((sn.conn_log_path && !sn.conn_log) || (sn.svc_log_path && !sn.svc_log)) {
		status = 1;
		goto out;
	}
	if (make_stack_prepare(&sn, &e) < 0) {
		fprintf(stderr, PROG ": %s\n", e.msg);
		status = 2;
		goto out;
	}
	if (make_stack(&sn, &e) < 0) {
		fprintf(stderr, PROG ": %s\n", e.msg);
		status = 1;
		goto out;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A script that exits while we write to it must not end the sensor. */
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	status = run_replay(&sn);

out:
	status = close_records(&sn, status);
	if (sn.out) {
		pcap_dump_flush(sn.out);
		pcap_dump_close(sn.out);
	}
	if (sn.out_pcap)
		pcap_close(sn.out_pcap);
	afp_close(sn.live);
	stack_free(sn.stack);
	nmdb_free(sn.osdb);
	fp_db_free(sn.fp);
	sc_config_free(sn.cfg);
	return status;
}
