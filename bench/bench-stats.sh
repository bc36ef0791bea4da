#!/bin/bash
# Issue 6, acceptance 4: regenerating a month of the public site.
#
#   bench/bench-stats.sh [BUILDDIR] [PACKETS_PER_DAY] [DAYS]
#
# A database of DAYS (30) generated days in November 2026, PACKETS_PER_DAY
# (1,000,000) each with their own seed, ingested once (not timed).  Timed:
# `vigia stats --from 2026-11-01 --to 2026-11-DAYS`, which writes every day,
# the 6 ISO weeks touching them and the month: 12 graph sets per period (a
# graph set is one view, e.g. tcp_port_bytes: PNG + SVG + CSV + JSON), plus
# pages.  Run twice: a first build into an empty directory and a
# regeneration over it (every period swapped in anew).  Target: under 30 s
# for 30 days x 11 graph sets (we draw 12).
set -euo pipefail
S=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$S/build}" && pwd)
PKTS=${2:-1000000}
DAYS=${3:-30}
VIGIA="$B/vigia"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
RIR=()
for f in "$S"/tests/data/rir/delegated-*; do RIR+=(--rir "$f"); done

echo "bench-stats: generating and ingesting $DAYS days of $PKTS packets..."
for d in $(seq 1 "$DAYS"); do
	dd=$(printf '%02d' "$d")
	mkdir -p "$T/arch/s1/2026/11/$dd"
	"$B/bench/vigia-gen-day" --packets "$PKTS" --seed "$((100 + d))" --day "2026-11-$dd" \
		--quiet --out "$T/arch/s1/2026/11/$dd/day.pcap" &
	# two generators at a time
	if [ $((d % 2)) = 0 ]; then wait; fi
done
wait
"$VIGIA" ingest --quiet --archive "$T/arch" --db "$T/a.db" "${RIR[@]}"
rm -rf "$T/arch"
rows=$(sqlite3 "$T/a.db" 'select count(*) from bin')
echo "bench-stats: database: $(du -m "$T/a.db" | cut -f1) MB, $rows bin rows"

to=$(printf '2026-11-%02d' "$DAYS")
for run in "first build" "regeneration"; do
	/usr/bin/time -f "%e s wall, %U s user, %M KB max RSS" -o "$T/time" \
		"$VIGIA" stats --db "$T/a.db" --from 2026-11-01 --to "$to" --out "$T/site" >"$T/out"
	echo "bench-stats: $run: $(cat "$T/out")"
	echo "bench-stats: $run: $(cat "$T/time")"
done
wall=$(cut -d' ' -f1 "$T/time")
sets=$(grep -o '[0-9]* graph sets' "$T/out" | cut -d' ' -f1)
day_sets=$((DAYS * 12))
echo "bench-stats: $DAYS days x 12 graph sets = $day_sets day graph sets (+ weeks and month: $sets in all) in $wall s"
awk -v w="$wall" 'BEGIN { exit !(w < 30) }' && echo "bench-stats: PASS (< 30 s)" ||
	{ echo "bench-stats: FAIL (>= 30 s)"; exit 1; }
