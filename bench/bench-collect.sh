#!/bin/bash
# Issue 5 §5: collection and ingest throughput for N simulated sensors (20
# by default) with one hour of traffic each, and the delay from a packet
# captured to it counted in the database.
#
#   sudo bench/bench-collect.sh [BUILDDIR] [SENSORS] [PACKETS_PER_HOUR]
#
# Each sensor is an sshd on 127.0.0.1 with the gateway key and its own
# spool.  The hour of traffic is vigia-gen-day's synthetic day squeezed
# into one hour (timestamps scaled by 1/24), replayed through vigia-sensord
# with `vigia rotate 2m`: 30 files per sensor, as with a 2-minute
# collection interval.  Phases:
#   1. bulk: collect + ingest the whole hour of all sensors at once;
#   2. steady state: each sensor completes one more 2-minute file, and one
#      cycle (collect + ingest) is timed: that cycle's length plus the file
#      period plus the collection interval bound the capture-to-database
#      delay.
set -euo pipefail
S=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$S/build}" && pwd)
N=${2:-20}
PKTS=${3:-300000}
export VIGIA_BUILDDIR=$B VIGIA_SRCDIR=$S VIGIA_TESTDATA=$S/tests/data
D=$VIGIA_TESTDATA
VIGIA="$B/vigia"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
calc() { awk "BEGIN { printf \"%.2f\", $* }"; }
ok() { echo "ok: $*"; }
T=$(mktemp -d)
source "$S/tests/golden/sensors-lib.sh"
sensors_init
sed -i "s/^parallel .*/parallel ${PARALLEL:-8}/" "$T/vigia.conf"
P=$((24000 + RANDOM % 400))

# one hour: a generated day with its timestamps squeezed 24-fold
"$B/bench/vigia-gen-day" --packets $((PKTS * 2)) --day 2026-01-05 --quiet --out "$T/day.pcap"
python3 - "$T/day.pcap" "$T" <<'PY'
import struct, sys
src, out = sys.argv[1], sys.argv[2]
data = open(src, 'rb').read()
magic = data[:4]
e = '<' if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
ns = magic in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
unit = 10**9 if ns else 10**6
hdr = data[:24]
off, recs = 24, []
while off + 16 <= len(data):
    sec, frac, incl, orig = struct.unpack(e + 'IIII', data[off:off + 16])
    recs.append((sec * unit + frac, data[off + 8:off + 16 + incl]))
    off += 16 + incl
t0 = recs[0][0]
# two hours: the first is the bulk hour, the second the steady-state files
for k, name in ((0, 'hour1.pcap'), (1, 'hour2.pcap')):
    with open(out + '/' + name, 'wb') as f:
        f.write(hdr)
        half = recs[k * len(recs) // 2:(k + 1) * len(recs) // 2]
        base = half[0][0]
        for t, rest in half:
            t2 = t0 + k * 3600 * unit + (t - base) * 2 // 24
            f.write(struct.pack(e + 'II', t2 // unit, t2 % unit) + rest)
PY
cat > "$T/sensor.conf" <<'CONF'
create default
set default default tcp action closed
add default tcp port 22 open
add default tcp port 80 open
vigia rotate 2m
CONF

echo "preparing $N sensors ($PKTS packets in their hour each)..."
for i in $(seq "$N"); do
	sp="$T/spool-$i"
	mkdir -p "$sp"
	"$SD" -f "$T/sensor.conf" --replay "$T/hour1.pcap" --write /dev/null --spool "$sp" \
		-l "$sp/honeyd.log" 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 >/dev/null 2>&1
	spool_perms "$sp"
	start_sensor "s$i" $((P + i)) "$sp"
	add_sensor_config "s$i" "$i" $((P + i))
done
sed -i 's|^  network 192.0.2.0/24$|  network 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24|' "$T/vigia.conf"
files=$(cat "$T"/spool-*/MANIFEST | wc -l)
bytes=$(du -cb "$T"/spool-*/pcap | tail -1 | cut -f1)
echo "$N sensors, $files files, $((bytes / 1048576)) MiB in their spools"

t0=$(date +%s.%N)
"$VIGIA" collect --config "$T/vigia.conf" --quiet > "$T/collect1.out" 2>&1 || { fail "bulk collect"; tail -5 "$T/collect1.out"; }
t1=$(date +%s.%N)
"$VIGIA" ingest --config "$T/vigia.conf" --no-p0f --quiet > "$T/ingest1.out" 2>&1 || { fail "bulk ingest"; tail -5 "$T/ingest1.out"; }
t2=$(date +%s.%N)
zbytes=$(du -cb "$T/archive"/s* | tail -1 | cut -f1)
c1=$(calc "$t1 - $t0"); i1=$(calc "$t2 - $t1")
echo "bulk hour: collect $c1 s ($(calc "$bytes / 1048576 / $c1") MiB/s, $(calc "$files / $c1") files/s), ingest $i1 s ($(calc "$bytes / 1048576 / $i1") MiB/s); archive $((zbytes / 1048576)) MiB compressed"

# steady state: one more 2-minute file per sensor, then one cycle
for i in $(seq "$N"); do
	sp="$T/spool-$i"
	python3 - "$T/hour2.pcap" "$T/next.pcap" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
e = '<' if data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
off, out, first = 24, [data[:24]], None
while off + 16 <= len(data):
    sec, frac, incl, orig = struct.unpack(e + 'IIII', data[off:off + 16])
    first = sec if first is None else first
    if sec - first >= 150:
        break
    out.append(data[off:off + 16 + incl])
    off += 16 + incl
open(sys.argv[2], 'wb').write(b''.join(out))
PY
	"$SD" -f "$T/sensor.conf" --replay "$T/next.pcap" --write /dev/null --spool "$sp" \
		-l "$sp/honeyd.log" 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 >/dev/null 2>&1
	spool_perms "$sp"
done
t0=$(date +%s.%N)
"$VIGIA" collect --config "$T/vigia.conf" --quiet > "$T/collect2.out" 2>&1 || { fail "cycle collect"; tail -5 "$T/collect2.out"; }
t1=$(date +%s.%N)
"$VIGIA" ingest --config "$T/vigia.conf" --no-p0f --quiet > "$T/ingest2.out" 2>&1 || { fail "cycle ingest"; tail -5 "$T/ingest2.out"; }
t2=$(date +%s.%N)
c2=$(calc "$t1 - $t0"); i2=$(calc "$t2 - $t1")
new=$(awk '$1 ~ /^s[0-9]+$/ {s += $5} END {print s + 0}' "$T/collect2.out")
echo "steady cycle: $new new files; collect $c2 s, ingest $i2 s"
delay=$(calc "120 + 120 + $c2 + $i2")
echo "capture-to-database delay, worst case: 120 s (file period) + 120 s (collection interval) + $(calc "$c2 + $i2") s (cycle) = $delay s (target < 300 s)"
[ "$(calc "$delay < 300")" = 1.00 ] && ok "delay under 5 minutes" || fail "delay $delay s"
for i in 1 $N; do
	archive_matches_spool "s$i" "$T/spool-$i" || fail "s$i archive differs"
done
[ "$fails" -eq 0 ] || exit 1
