#!/bin/bash
# Benchmark of issue 2: a generated day of >= 10 million packets, analysed
# side by side by
#   - tcpdump -r -w /dev/null        (the reading ceiling)
#   - vigia analyze, every category, OS (p0f db) and country (5 RIR files)
#   - nfpcapd -r + nfdump -s dstport (ports only)
#   - p0f -r                          (OS only)
# printing wall time, packets/s and peak memory of each.  Figures go to
# bench/out/results-analyze.txt; bench/README.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKETS=${PACKETS:-10000000}
OUT=bench/out
mkdir -p "$OUT"
B=build
[ -x "$B/vigia" ] || make build
DAY="$OUT/day-$PACKETS.pcap"
RES="$OUT/results-analyze.txt"

if [ ! -f "$DAY" ]; then
	echo "generating $PACKETS packets -> $DAY"
	/usr/bin/time -f "generator: %e s, %M KiB peak" "$B/bench/vigia-gen-day" --packets "$PACKETS" --seed 1 \
		--rir tests/data/rir --out "$DAY"
fi
RIR=()
for f in tests/data/rir/delegated-*; do RIR+=(--rir "$f"); done
HN=(--honeynet 192.0.2.0/24 --honeynet 198.51.100.0/24 --honeynet 203.0.113.0/24)

# run NAME CMD...: CPU seconds (user+sys, all threads), wall seconds and
# peak RSS of CMD, best of $REPEAT.  CPU time is the figure that counts on
# a shared machine: "Mpps/core" = packets / CPU seconds.
REPEAT=${REPEAT:-3}
printf '%-34s %9s %9s %10s %10s\n' "tool" "CPU s" "wall s" "Mpps/core" "peak MiB" | tee "$RES"
run() {
	local name=$1; shift
	local best="" bwall="" mem=0
	for _ in $(seq "$REPEAT"); do
		/usr/bin/time -f "%U %S %e %M" -o "$OUT/time.txt" "$@" > /dev/null 2> "$OUT/stderr.txt" || true
		read -r u sy w kb < <(tail -1 "$OUT/time.txt")
		local c; c=$(awk "BEGIN{print $u + $sy}")
		if [ -z "$best" ] || awk "BEGIN{exit !($c < $best)}"; then best=$c; bwall=$w; fi
		[ "$kb" -gt "$mem" ] && mem=$kb
	done
	printf '%-34s %9.2f %9.2f %10.2f %10.1f\n' "$name" "$best" "$bwall" \
		"$(awk "BEGIN{print $PACKETS / $best / 1e6}")" "$(awk "BEGIN{print $mem / 1024}")" | tee -a "$RES"
}

run "tcpdump -r -w /dev/null" tcpdump -r "$DAY" -w /dev/null
run "vigia analyze (all categories)" "$B/vigia" analyze --quiet "${HN[@]}" "${RIR[@]}" --json "$OUT/analysis.json" "$DAY"
run "vigia analyze (ports only)" "$B/vigia" analyze --quiet --no-p0f "${HN[@]}" --json "$OUT/analysis-ports.json" "$DAY"
rm -rf "$OUT/nf"; mkdir -p "$OUT/nf"
nfrun() { rm -rf "$OUT/nf"/*; nfpcapd -r "$DAY" -w "$OUT/nf" && nfdump -R "$OUT/nf" -s dstport/bytes -n 10 'proto tcp'; }
export -f nfrun; export OUT DAY
run "nfpcapd -r + nfdump -s dstport" bash -c nfrun
[ -f "$DAY.zst" ] || zstd -q -T0 -3 "$DAY" -o "$DAY.zst"
run "vigia analyze (all, zstd input)" "$B/vigia" analyze --quiet "${HN[@]}" "${RIR[@]}" --json "$OUT/analysis-zst.json" "$DAY.zst"
cmp -s <(jq -S 'del(.input.files)' "$OUT/analysis.json") <(jq -S 'del(.input.files)' "$OUT/analysis-zst.json") \
	|| echo "WARNING: the zstd input gave a different analysis" | tee -a "$RES"
REPEAT=1 run "p0f -r" p0f -r "$DAY" -o "$OUT/p0f.log"
rm -f "$OUT/p0f.log"
echo "(vigia analyze: $(jq -r '"\(.packets) packets counted, \(.fingerprint.syns_matched)/\(.fingerprint.syns) SYNs fingerprinted, \(.fingerprint.hosts) sources"' "$OUT/analysis.json"))" | tee -a "$RES"
"$B/bench/vigia-bench-geo" tests/data/rir/delegated-* 2>&1 | tail -3 | tee -a "$RES" || true
