#!/bin/bash
# Benchmark of issue 8, acceptance 6: the rule matcher's speed on the
# generated day (payload bytes per second with the full rule set), and the
# time classification adds to `vigia analyze`.
#
#   analyze           vigia analyze (ports, countries, p0f OS): the reference
#   engine only       vigia incidents --no-rules --no-detectors: read,
#                     decode, honeynet filter (what classification rides on)
#   + rules           vigia incidents --no-detectors
#   + rules + detect  vigia incidents (the full classifier)
#   analyze+incidents vigia analyze --rules: the analysis and the full
#                     classifier in one pass, as `vigia ingest` runs them
#
# "added" = analyze+incidents - analyze, in CPU seconds; the target is
# added <= 30 % of analyze.  Figures go to bench/out/results-rules.txt;
# bench/README.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKETS=${PACKETS:-10000000}
REPEAT=${REPEAT:-3}
OUT=bench/out
mkdir -p "$OUT"
B=build
[ -x "$B/vigia" ] || make build
DAY="$OUT/day-$PACKETS.pcap"
RES="$OUT/results-rules.txt"
if [ ! -f "$DAY" ]; then
	echo "generating $PACKETS packets -> $DAY"
	"$B/bench/vigia-gen-day" --packets "$PACKETS" --seed 1 --rir tests/data/rir --out "$DAY" --quiet
fi
RIR=()
for f in tests/data/rir/delegated-*; do RIR+=(--rir "$f"); done
HN=(--honeynet 192.0.2.0/24 --honeynet 198.51.100.0/24 --honeynet 203.0.113.0/24)
RULES=(--rules rules/vigia.rules)

# cpu NAME CMD...: best-of-$REPEAT CPU seconds (user + sys) and peak RSS
cpu() {
	local name=$1; shift
	local best="" mem=0
	for _ in $(seq "$REPEAT"); do
		/usr/bin/time -f "%U %S %M" -o "$OUT/time.txt" "$@" > /dev/null 2> "$OUT/stderr-rules.txt" || true
		read -r u s kb < <(tail -1 "$OUT/time.txt")
		local c; c=$(awk "BEGIN{print $u + $s}")
		if [ -z "$best" ] || awk "BEGIN{exit !($c < $best)}"; then best=$c; mem=$kb; fi
	done
	printf '%-22s %8.2f %9d\n' "$name" "$best" "$((mem / 1024))" | tee -a "$RES" >&2
	echo "$best"
}
printf '%-22s %8s %9s\n' "run" "CPU s" "peak MiB" | tee "$RES" >&2
A=$(cpu "analyze" "$B/vigia" analyze --quiet "${HN[@]}" "${RIR[@]}" "$DAY")
E=$(cpu "engine only" "$B/vigia" incidents -q --no-rules --no-detectors "${HN[@]}" "$DAY")
R=$(cpu "+ rules" "$B/vigia" incidents -q --no-detectors "${RULES[@]}" "${HN[@]}" "$DAY")
F=$(cpu "+ rules + detectors" "$B/vigia" incidents "${RULES[@]}" "${HN[@]}" --jsonl "$OUT/incidents.jsonl" "$DAY")
SUMMARY=$(tail -1 "$OUT/stderr-rules.txt")
AI=$(cpu "analyze+incidents" "$B/vigia" analyze --quiet "${HN[@]}" "${RIR[@]}" "${RULES[@]}" "$DAY")
BYTES=$(echo "$SUMMARY" | sed -n 's/.* \([0-9]*\) payload bytes.*/\1/p')
NRULES=$(echo "$SUMMARY" | sed -n 's/.*against \([0-9]*\) rules.*/\1/p')
NINC=$(wc -l < "$OUT/incidents.jsonl")
{
	echo
	echo "$SUMMARY"
	awk -v a="$A" -v e="$E" -v r="$R" -v f="$F" -v ai="$AI" -v b="$BYTES" -v n="$NRULES" -v i="$NINC" 'BEGIN {
		rules = r - e; if (rules <= 0) rules = 0.001
		added = ai - a
		printf "rule matching: %d rules, %.0f MB of payload in %.2f CPU s = %.0f MB/s\n", n, b / 1e6, rules, b / 1e6 / rules
		printf "classification added: %.2f CPU s = %.1f %% of vigia analyze (%.2f s); target <= 30 %%\n", added, 100 * added / a, a
		printf "incidents: %d\n", i
	}'
} | tee -a "$RES"
