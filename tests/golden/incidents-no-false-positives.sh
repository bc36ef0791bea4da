#!/bin/bash
# Issue 8 acceptance 2: a generated day of benign-shaped traffic (ICMP
# echo, plain SYNs to unrelated ports, ordinary HTTP GETs) makes no
# incident at all with vigia's rules and the detectors at their defaults.
# And vigia-gen-day's honeypot-shaped day does make incidents of every
# signature category, so the quiet above is not a classifier that says
# nothing.
source "$(dirname "$0")/lib.sh"

python3 - "$T/benign.pcap" <<'PY'
import random, struct, sys
rnd = random.Random(8)
out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
t0 = 1793577600  # 2026-11-02 00:00 UTC
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff
def ip(src, dst, proto, l4):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), rnd.randrange(65536), 0x4000,
                    rnd.choice([48, 52, 64, 116, 128]), proto, 0, bytes(src), bytes(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + l4
def tcp(sp, dp, flags, seq, payload=b""):
    return struct.pack("!HHIIBBHHH", sp, dp, seq, 0 if flags == 2 else 1, 5 << 4, flags,
                       64240, 0, 0) + payload
n = 0
def put(t, pkt):
    global n
    out.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(pkt), len(pkt)) + pkt)
    n += 1
uas = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
       "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "curl/8.4.0", "Wget/1.21.3"]
paths = ["/", "/index.html", "/favicon.ico", "/robots.txt", "/images/logo.png", "/search?q=weather+today",
         "/news/2026/11/article.html", "/css/site.css"]
t = t0
for i in range(3000):
    src = [rnd.choice([31, 45, 89, 177, 200]), rnd.randrange(256), rnd.randrange(256), rnd.randrange(1, 255)]
    dst = [192, 0, 2, rnd.randrange(1, 255)]
    kind = rnd.random()
    t += rnd.uniform(0.5, 50)
    if kind < 0.3:  # pings: 1..3 addresses
        for k in range(rnd.randint(1, 3)):
            d = [192, 0, 2, rnd.randrange(1, 255)]
            body = struct.pack("!BBHHH", 8, 0, 0, rnd.randrange(65536), k) + b"abcdefghijklmnopqrstuvwabcdefghi"
            put(t + k, ip(src, d, 1, body))
    elif kind < 0.6:  # plain SYNs: one or two unrelated ports
        for k in range(rnd.randint(1, 2)):
            port = rnd.choice([8443, 9000, 10443, 5432, 27017, 6379, 8888, 50000])
            put(t + k * 3, ip(src, dst, 6, tcp(rnd.randrange(32768, 61000), port, 2, rnd.randrange(1 << 32))))
    else:  # an ordinary HTTP GET in a session
        sp = rnd.randrange(32768, 61000)
        seq = rnd.randrange(1 << 32)
        put(t, ip(src, dst, 6, tcp(sp, 80, 2, seq)))
        put(t + 0.1, ip(src, dst, 6, tcp(sp, 80, 0x10, seq + 1)))
        req = ("GET %s HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: %s\r\nAccept: */*\r\n"
               "Accept-Language: pt-BR,en;q=0.8\r\nConnection: keep-alive\r\n\r\n" %
               (rnd.choice(paths), rnd.choice(uas))).encode()
        put(t + 0.2, ip(src, dst, 6, tcp(sp, 80, 0x18, seq + 1, req)))
        put(t + 0.4, ip(src, dst, 6, tcp(sp, 80, 0x11, seq + 1 + len(req))))
print(n, file=sys.stderr)
PY
"$VIGIA" incidents "${HN_ARGS[@]}" --rules "$S/rules/vigia.rules" --jsonl "$T/benign.jsonl" \
	"$T/benign.pcap" > /dev/null 2> "$T/err"
n=$(wc -l < "$T/benign.jsonl")
if [ "$n" -eq 0 ]; then
	ok "benign day: no incident ($(cat "$T/err"))"
else
	fail "benign day: $n incidents, e.g. $(head -3 "$T/benign.jsonl")"
fi

# The honeypot-shaped day: every signature category shows up.
"$GEN" --packets 300000 --seed 5 --out "$T/day.pcap" --quiet
"$VIGIA" incidents -q "${HN_ARGS[@]}" --rules "$S/rules/vigia.rules" --jsonl "$T/day.jsonl" \
	"$T/day.pcap" > /dev/null
for want in "worm Slammer" "worm Code Red" "worm Blaster" "worm MyDoom" "worm Nimda" \
	"spam Messenger pop-up spam" "spam open proxy probe" "bot Mirai loader" "scan vertical scan" \
	"scan horizontal scan"; do
	cat=${want%% *}
	name=${want#* }
	c=$(jq -s --arg c "$cat" --arg n "$name" '[.[] | select(."extra.category" == $c and ."classification.identifier" == $n)] | length' "$T/day.jsonl")
	if [ "$c" -gt 0 ]; then ok "generated day: $c $cat / $name"; else fail "generated day: no $cat / $name"; fi
done
if ! grep -qE '"(192\.0\.2|198\.51\.100|203\.0\.113)\.[0-9]+' "$T/day.jsonl"; then
	ok "generated day: no honeypot address in the incidents"
else
	fail "generated day: a honeypot address leaked: $(grep -oE '(192\.0\.2|198\.51\.100|203\.0\.113)\.[0-9]+' "$T/day.jsonl" | head -3)"
fi
finish
