#!/bin/bash
# Legacy inputs: Honeyd connection logs (each S and - line one packet, E
# lines none) and OpenBSD pflog captures (only packets pf logged inbound
# count).  A damaged log line is reported with file and line, the rest of
# the file is stored, and the exit status is 2.
. "$(dirname "$0")/lib.sh"
export TZ=UTC
DBTOP="$B/tests/vigia-test-db-top"

# --- Honeyd logs: real lines of 2008 and of vigia-sensord -----------------
mkdir -p "$T/arch/hd/2008/12/19" "$T/arch/hd/2026/11/28"
grep -v '^#' "$D/honeyd/honeyd_log_lines_2008_from_haskell_parser.txt" >"$T/arch/hd/2008/12/19/honeyd.log"
grep -E '^[0-9]{4}-' "$D/honeyd/log-lines-reference-readme.txt" | gzip >"$T/arch/hd/2026/11/28/honeyd-1.log.gz"
logs=("$T/arch/hd/2008/12/19/honeyd.log" "$T/arch/hd/2026/11/28/honeyd-1.log.gz")
expect() { # awk over the lines: packets per "proto/dport"
	for f in "${logs[@]}"; do zcat -f "$f"; done | awk '
		$3 == "S" || $3 == "-" {
			n++
			if ($2 == "tcp(6)") { p = $7; sub(/:$/, "", p); tcp[p]++ }
		}
		END { print n; for (p in tcp) print "tcp " p " " tcp[p] }' | sort
}
expect >"$T/expect"
set +e
"$VIGIA" ingest --quiet --archive "$T/arch" --db "$T/h.db" "${RIR_ARGS[@]}" 2>"$T/err"
rc=$?
set -e
[ $rc -eq 0 ] && ok "honeyd logs ingest with status 0" || { fail "status $rc"; cat "$T/err"; }
{ sqlite3 "$T/h.db" "select sum(packets) from bin where category = 'country'"
  sqlite3 "$T/h.db" "select 'tcp ' || key || ' ' || sum(packets) from bin where category = 'tcp_port' group by key"
} | sort >"$T/got"
if cmp -s "$T/expect" "$T/got"; then
	ok "packets and TCP ports equal the S and - lines ($(head -1 "$T/got") packets)"
else
	fail "honeyd counts differ"; diff "$T/expect" "$T/got" | head
fi
[ "$(sqlite3 "$T/h.db" "select group_concat(distinct kind) from file")" = honeyd ] &&
	ok "files recorded as kind honeyd" || fail "kind"
# the time of a line is kept (TZ=UTC): 2008-12-19-18:25:03 -> its day row
[ "$(sqlite3 "$T/h.db" "select first_seen from source_day where ip = '124.8.74.33'")" = \
  "$(date -u -d '2008-12-19 18:25:03' +%s)" ] && ok "line times are kept" || fail "line time"

# A damaged line: reported with file and line, the others are stored.
mkdir -p "$T/arch/hd/2008/12/20"
{ echo "2008-12-20-10:00:00.0000 tcp(6) - 10.0.0.1 1000 192.168.1.50 445: 40 S"
  echo "2008-12-20-10:00:01.0000 tcp(6) X 10.0.0.1 1000 192.168.1.50 445"
  echo "2008-12-20-10:00:02.0000 udp(17) - 10.0.0.1 1000 192.168.1.50 1434: 404"
} >"$T/arch/hd/2008/12/20/honeyd.log"
set +e
"$VIGIA" ingest --quiet --archive "$T/arch" --db "$T/h.db" 2>"$T/err"
rc=$?
set -e
[ $rc -eq 2 ] && ok "a damaged line gives status 2" || fail "status $rc"
grep -q "2008/12/20/honeyd.log: line 2: " "$T/err" && ok "the error names file and line" ||
	{ fail "error message"; cat "$T/err"; }
[ "$(sqlite3 "$T/h.db" "select packets || ' ' || status from file where path like '%12/20%'")" = "2 damaged" ] &&
	ok "the good lines are stored, the file marked damaged" || fail "damaged file row"
[ "$(sqlite3 "$T/h.db" "select count(*) from bin where category = 'udp_port' and key = '1434'")" = 1 ] &&
	ok "the line after the damaged one counted" || fail "udp 1434"

# --- pflog: every packet logged twice (in, then out), only "in" counts -----
"$GEN" --packets 20000 --seed 3 --sources 500 --linktype raw --quiet --out "$T/raw.pcap"
python3 - "$T/raw.pcap" "$T/pf.pcap" <<'PY'
import struct, sys
src, dst = sys.argv[1], sys.argv[2]
data = open(src, 'rb').read()
magic = data[:4]
e = '<' if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
out = bytearray(data[:20]) + struct.pack(e + 'I', 117)
off = 24
def hdr(af, direction):
    h = bytearray(64)
    h[0] = 61; h[1] = af; h[2] = 0
    h[4:8] = b'pfl0'
    h[60] = direction
    return bytes(h)
while off + 16 <= len(data):
    ts, us, cap, wire = struct.unpack(e + 'IIII', data[off:off + 16])
    pkt = data[off + 16:off + 16 + cap]
    off += 16 + cap
    af = 24 if pkt and pkt[0] >> 4 == 6 else 2
    for d in (1, 2):
        out += struct.pack(e + 'IIII', ts, us, cap + 64, wire + 64) + hdr(af, d) + pkt
open(dst, 'wb').write(out)
PY
mkdir -p "$T/pfa/gw/2026/11/01"
cp "$T/pf.pcap" "$T/pfa/gw/2026/11/01/pflog0.pcap"
set +e
"$VIGIA" ingest --quiet --archive "$T/pfa" --db "$T/pf.db" "${RIR_ARGS[@]}"
rc=$?
"$VIGIA" analyze --quiet "${RIR_ARGS[@]}" --json "$T/raw.json" "$T/raw.pcap"
set -e
[ $rc -eq 0 ] && ok "pflog ingest status 0" || fail "pflog status $rc"
[ "$(sqlite3 "$T/pf.db" "select kind from file")" = pflog ] && ok "recorded as kind pflog" || fail "kind"
[ "$(sqlite3 "$T/pf.db" "select frames from file")" = $((2 * $(jq .input.frames "$T/raw.json"))) ] &&
	ok "every pflog record was read" || fail "pflog frames"
"$DBTOP" "$T/pf.db" | jq -S . >"$T/d.json"
jq -S '.categories | map_values(.top)' "$T/raw.json" >"$T/a.json"
cmp -s "$T/a.json" "$T/d.json" && ok "pflog counted once per packet: top 10 equal analyze of the raw capture" ||
	{ fail "pflog top 10"; diff "$T/a.json" "$T/d.json" | head; }
finish
