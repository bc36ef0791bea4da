#!/bin/bash
# The main job on the embedded default: generate a day of honeypot traffic,
# analyse it with the real RIR files and Debian's p0f database, and leave
# the results in ./out/.  `make demo` runs scripts/demo-alliance.sh, the
# whole alliance; without root that script runs this one, then the central
# pipeline on a generated archive.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${VIGIA_BUILDDIR:-build}
OUT=${VIGIA_DEMO_OUT:-out}
mkdir -p "$OUT"
HONEYNETS=(--honeynet 192.0.2.0/24 --honeynet 198.51.100.0/24 --honeynet 203.0.113.0/24)
RIR=()
for f in tests/data/rir/delegated-*; do RIR+=(--rir "$f"); done

echo "== 1/3 generating a sample day of honeypot traffic (2,000,000 packets)"
"$B/bench/vigia-gen-day" --packets 2000000 --seed 1 --out "$OUT/sample-day.pcap"

echo "== 2/3 analysing it: top ports, countries, OSes"
rc=0
"$B/vigia" analyze "${HONEYNETS[@]}" "${RIR[@]}" \
	--json "$OUT/analysis.json" --csv "$OUT/csv" --sources "$OUT/sources.csv" \
	"$OUT/sample-day.pcap" || rc=$?
[ $rc -le 2 ] || exit $rc

echo
echo "== 3/3 analysing the real captures bundled in tests/data/pcaps"
"$B/vigia" analyze "${RIR[@]}" --json "$OUT/real-captures.json" --quiet tests/data/pcaps
echo "   $(jq -r '"\(.input.frames) frames in \(.input.files) files, \(.packets) IP packets, \(.input.bad) damaged"' "$OUT/real-captures.json")"
echo
echo "Results:"
echo "  $OUT/analysis.json      the JSON document (docs/analyze-json.md)"
echo "  $OUT/csv/               one CSV per category, and top.csv"
echo "  $OUT/sources.csv        per-source activity"
echo "  $OUT/real-captures.json the same analysis of the bundled real captures"
