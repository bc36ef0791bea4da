#!/bin/bash
# Run every test: the Meson suites under ASan+UBSan (build-asan/), then each
# libFuzzer harness for a bounded time on a scratch copy of its seed corpus.
# Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-30}
passed=0
failed=0

meson test -C build-asan --print-errorlogs --num-processes 2
log=build-asan/meson-logs/testlog.json
if [ -f "$log" ]; then
	p=$(jq -s '[.[] | select(.result == "OK" or .result == "EXPECTEDFAIL")] | length' "$log")
	f=$(jq -s '[.[] | select(.result != "OK" and .result != "EXPECTEDFAIL" and .result != "SKIP")] | length' "$log")
	s=$(jq -s '[.[] | select(.result == "SKIP")] | length' "$log")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$s" -gt 0 ]; then
		echo "meson: $s tests skipped (counted as failures: every test must run in CI)"
		jq -r 'select(.result == "SKIP") | "  skipped: " + .name' < "$log"
		failed=$((failed + s))
	fi
else
	echo "no meson test log: the test run did not happen"
	failed=$((failed + 1))
fi

for h in build-fuzz/fuzz/fuzz-*; do
	[ -f "$h" ] && [ -x "$h" ] || continue
	name=$(basename "$h")
	seeds="fuzz/corpus/${name#fuzz-}"
	scratch=$(mktemp -d)
	[ -d "$seeds" ] && cp -r "$seeds"/. "$scratch"/
	echo "fuzz: $name for ${FUZZ_SECONDS}s on $(ls "$scratch" | wc -l) seeds"
	if "$h" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$scratch/" "$scratch" > "$scratch.log" 2>&1; then
		echo "ok   fuzz/$name ($(grep -o 'exec/s: [0-9]*' "$scratch.log" | tail -1))"
		passed=$((passed + 1))
	else
		echo "FAIL fuzz/$name"
		tail -40 "$scratch.log"
		mkdir -p tests/artifacts && cp "$scratch"/crash-* "$scratch"/leak-* "$scratch"/timeout-* tests/artifacts/ 2>/dev/null
		failed=$((failed + 1))
	fi
	rm -rf "$scratch" "$scratch.log"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
