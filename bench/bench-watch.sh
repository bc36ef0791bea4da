#!/bin/bash
# Benchmark of issue 9 (acceptance 1): the early-warning detector on 8
# generated days of per-bin series with injected outbreaks
# (bench/ew-eval.c).  SEEDS=N changes the number of generated weeks
# (default 40); the figures go to bench/out/results-watch.txt and
# bench/README.md records a run.  Exit status 1 when a target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${SEEDS:-40}
OUT=bench/out
mkdir -p "$OUT"
B=build
[ -x "$B/bench/vigia-ew-eval" ] || make build
/usr/bin/time -f "ew-eval: %e s wall, %U s user, %M KiB peak" \
	"$B/bench/vigia-ew-eval" -s "$SEEDS" 2>&1 | tee "$OUT/results-watch.txt"
