#!/bin/bash
# Issue 9: `vigia collect --watch` is collect + ingest + watch in one run.
# One simulated sensor (own sshd, gateway key; sensors-lib.sh) whose spool
# holds a quiet day of SSH probes and, two days later, an outbreak of 8
# sources on a port never seen before.  One `collect --watch` archives the
# files, ingests them (the database holds every archived file and their
# early-warning rows) and watches: exactly one alert, the new port, with
# the right start.  A second run fetches, ingests and alerts nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sensors-lib.sh"
need python3 jq
sensors_init
P=$((22600 + RANDOM % 400))
PORT=61999

# 2026-11-01 10:00Z: 10 sources probe 22/tcp.  2026-11-03 12:00Z: 8
# sources from 177.33.7.0/24 (LACNIC, BR, holder 99822) SYN to $PORT/tcp
# for 10 minutes.  Honeypot: 192.0.2.10 (the sensor's network).
python3 - "$T" "$PORT" <<'PY'
import struct, sys
out, port = sys.argv[1], int(sys.argv[2])
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def syn(src, dst, sport, dport):
    tcp = struct.pack('!HHIIBBHHH', sport, dport, 1, 0, 5 << 4, 0x02, 1024, 0, 0)
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return b'\0\1\2\3\4\5\0\6\7\x08\x09\x0a\x08\x00' + ip + tcp
def write(name, recs):
    with open(name, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for t, p in sorted(recs):
            f.write(struct.pack('<IIII', t, 0, len(p), len(p)) + p)
bg = 1793527200      # 2026-11-01T10:00:00Z
write(out + '/bg.pcap', [(bg + i * 7, syn((198, 18, 0, i + 1), (192, 0, 2, 10), 50000 + i, 22))
                         for i in range(10)])
t0 = 1793707200      # 2026-11-03T12:00:00Z
write(out + '/ob.pcap', [(t0 + i * 60 + j * 5, syn((177, 33, 7, i + 1), (192, 0, 2, 10), 40000 + i, port))
                         for i in range(8) for j in range(3)])
PY
make_spool "$T/spool-a" "$T/bg.pcap" "$T/ob.pcap"
start_sensor a $P "$T/spool-a"
add_sensor_config a 1 $P host-key

set +e
"$VIGIA" collect --config "$T/vigia.conf" --quiet --watch --no-p0f \
	--rir "$D/rir/delegated-lacnic-extended-20240104" --alerts "$T/alerts.jsonl" --no-syslog \
	--base-url https://stats.example.org >"$T/out1" 2>"$T/err1"
rc=$?
set -e
[ $rc -eq 0 ] && ok "collect --watch exits 0" || { fail "collect --watch exit $rc"; cat "$T/out1" "$T/err1"; }
archive_matches_spool a "$T/spool-a" && ok "collected: the archive equals the spool" \
	|| fail "the archive differs from the spool"

q() { python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(c.execute(sys.argv[2]).fetchone()[0])' "$T/vigia.db" "$1"; }
narch=$(find "$T/archive/a" -name '*.pcap.zst' | wc -l)
nfile=$(q "select count(*) from file")
[ "$narch" -ge 2 ] && [ "$nfile" = "$narch" ] && ok "ingested: $nfile files in the database = $narch archived" \
	|| fail "$nfile files in the database, $narch archived"
np=$(q "select count(*) from ew_bin where kind = 'port' and key = '$PORT/tcp'")
[ "$np" -ge 2 ] && ok "ingested: early-warning rows for $PORT/tcp" || fail "$np rows for $PORT/tcp"
nc=$(q "select count(*) from ew_bin where kind = 'country' and key = 'BR'")
[ "$nc" -ge 1 ] && ok "ingest got the --rir file (country BR rows)" || fail "no BR rows"
wl=$(q "select value from meta where key = 'ew_last_bin'")
[ "$wl" = "$(q "select max(start) from ew_bin")" ] && ok "watched up to the last bin ($wl)" \
	|| fail "ew_last_bin '$wl'"

cat "$T/alerts.jsonl"
na=$(jq -s 'map(select(.event == "alert")) | length' "$T/alerts.jsonl")
[ "$na" = 1 ] && ok "exactly one alert" || fail "$na alerts"
A=$(jq -c 'select(.event == "alert")' "$T/alerts.jsonl" | head -n 1)
check() { # description jq-expression
	if [ "$(jq -r "$2" <<<"$A")" = true ]; then ok "$1"; else fail "$1: $A"; fi
}
check "the alert is the new port" ".kind == \"port\" and .key == \"$PORT/tcp\" and .label == \"port:$PORT/tcp\""
check "condition: a new key" '.conditions | index("new") != null'
check "began at the outbreak's first bin" '.began == "2026-11-03T12:00:00Z"'
check "its sources and first network" '.sources >= 5 and .sources <= 8 and (.networks | index("177.33.0.0/16") != null)'
check "the link is the day page" '.link == "https://stats.example.org/day/2026-11-03/"'
lines=$(wc -l <"$T/alerts.jsonl")

set +e
"$VIGIA" collect --config "$T/vigia.conf" --watch --no-p0f --alerts "$T/alerts.jsonl" \
	--no-syslog >"$T/out2" 2>"$T/err2"
rc=$?
set -e
[ $rc -eq 0 ] && ok "second collect --watch exits 0" || { fail "second run exit $rc"; cat "$T/out2" "$T/err2"; }
fetched=$(awk '$1 == "a" {print $5}' "$T/out2")
[ "$fetched" = 0 ] && ok "second run fetches nothing" || fail "second run fetched '$fetched'"
[ "$(q "select count(*) from file")" = "$nfile" ] && ok "second run ingests nothing new" \
	|| fail "the database's files changed"
[ "$(wc -l <"$T/alerts.jsonl")" = "$lines" ] && ok "second run raises nothing again" \
	|| fail "the second run added alert lines"

# Options for the later steps are refused without the step.
set +e
"$VIGIA" collect --config "$T/vigia.conf" --alerts "$T/x" >/dev/null 2>&1
rc=$?
set -e
[ $rc -eq 1 ] && ok "--alerts without --watch is a usage error" || fail "exit $rc"
finish
