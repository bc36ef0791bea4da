/* gen-syn-flood.c: a SYN flood as a capture, for the sensor's benches.
 *
 *   vigia-gen-syn-flood --count N --out FILE.pcap [--rate PPS] [--net A.B.C.0]
 *                       [--port P] [--seed S]
 *
 * N SYNs, each from a different spoofed IPv4 source (the i-th source is
 * i times an odd constant modulo 2^32, a bijection, so no two repeat), to
 * a random address of the /24 NET (default 192.0.2.0) on port P (default
 * 80), spaced 1/PPS apart (default 300000 per second).  Frames are built
 * by hand with correct checksums; libpcap writes the file (ns stamps). */
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint16_t sum16(const uint8_t *b, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static uint64_t rng;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

int main(int argc, char **argv)
{
	uint64_t count = 1000000, rate = 300000, seed = 1;
	const char *out = NULL;
	unsigned a = 192, b = 0, c = 2, port = 80;
	static const struct option lo[] = {
		{ "count", required_argument, NULL, 'n' }, { "out", required_argument, NULL, 'o' },
		{ "rate", required_argument, NULL, 'r' },  { "net", required_argument, NULL, 'N' },
		{ "port", required_argument, NULL, 'p' },  { "seed", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "n:o:r:N:p:s:", lo, NULL)) != -1) {
		switch (opt) {
		case 'n': count = strtoull(optarg, NULL, 0); break;
		case 'o': out = optarg; break;
		case 'r': rate = strtoull(optarg, NULL, 0); break;
		case 'p': port = (unsigned)strtoul(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'N':
			if (sscanf(optarg, "%u.%u.%u", &a, &b, &c) != 3 || a > 255 || b > 255 || c > 255) {
				fprintf(stderr, "gen-syn-flood: --net: expected A.B.C.0, got '%s'\n", optarg);
				return 2;
			}
			break;
		default:
			fprintf(stderr, "usage: vigia-gen-syn-flood --count N --out FILE [--rate PPS] "
					"[--net A.B.C.0] [--port P] [--seed S]\n");
			return 2;
		}
	}
	if (!out || !rate || port > 65535) {
		fprintf(stderr, "gen-syn-flood: --out FILE is required (rate > 0, port <= 65535)\n");
		return 2;
	}
	rng = seed * 0x9e3779b97f4a7c15ull | 1;
	pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535,
							    PCAP_TSTAMP_PRECISION_NANO);
	pcap_dumper_t *d = dead ? pcap_dump_open(dead, out) : NULL;
	if (!d) {
		fprintf(stderr, "gen-syn-flood: cannot write %s: %s\n", out,
			dead ? pcap_geterr(dead) : "out of memory");
		return 1;
	}
	uint8_t f[78];
	memset(f, 0, sizeof f);
	static const uint8_t dmac[6] = { 0x02, 0x76, 0x67, 0, 0, 1 };
	static const uint8_t smac[6] = { 0x00, 0x16, 0x3e, 0x5a, 0x5a, 0x01 };
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	put16(f + 12, 0x0800);
	uint8_t *ip = f + 14, *th = f + 34;
	/* a Linux-like SYN: mss, sackOK, timestamps, nop, wscale */
	static const uint8_t opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1,
					  0, 0, 0, 0, 1, 3, 3, 7 };
	uint64_t t0 = 1700000000ull * 1000000000ull;
	for (uint64_t i = 0; i < count; i++) {
		uint32_t src = (uint32_t)((i + 1) * 0x9e3779b1u);
		if ((src >> 24) == a)   /* never from inside a claimed /8 */
			src ^= 0x80000000u;
		ip[0] = 0x45;
		ip[1] = 0;
		put16(ip + 2, 60);
		put16(ip + 4, rnd());
		put16(ip + 6, 0x4000);
		ip[8] = 64;
		ip[9] = 6;
		put16(ip + 10, 0);
		put32(ip + 12, src);
		ip[16] = (uint8_t)a;
		ip[17] = (uint8_t)b;
		ip[18] = (uint8_t)c;
		ip[19] = (uint8_t)(1 + rnd() % 254);
		put16(ip + 10, sum16(ip, 20, 0));
		put16(th, 1024 + rnd() % 64000);
		put16(th + 2, port);
		put32(th + 4, rnd());
		put32(th + 8, 0);
		th[12] = 10 << 4;
		th[13] = 0x02;
		put16(th + 14, 64240);
		put16(th + 16, 0);
		put16(th + 18, 0);
		memcpy(th + 20, opts, 20);
		uint32_t ps = 0;
		for (int k = 12; k < 20; k += 2)
			ps += (uint32_t)(ip[k] << 8 | ip[k + 1]);
		ps += 6 + 40;
		put16(th + 16, sum16(th, 40, ps));
		uint64_t ts = t0 + i * 1000000000ull / rate;
		struct pcap_pkthdr h;
		h.ts.tv_sec = (time_t)(ts / 1000000000ull);
		h.ts.tv_usec = (suseconds_t)(ts % 1000000000ull);
		h.caplen = h.len = 74;
		pcap_dump((u_char *)d, &h, f);
	}
	pcap_dump_close(d);
	pcap_close(dead);
	return 0;
}
