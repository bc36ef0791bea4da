#!/bin/bash
# Run every test: the Meson suites under ASan+UBSan (build-asan/), the
# classifier's threads under TSan (build-tsan/), then each libFuzzer
# harness for a bounded time on a scratch copy of its seed corpus.
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

# The classifier's worker threads under ThreadSanitizer: its unit tests
# (one thread, one worker, three shards) and two ingest runs.  setarch -R:
# TSan needs the address layout it knows, whatever the kernel's ASLR.
tsan_run() {
	local name=$1; shift
	if TSAN_OPTIONS="halt_on_error=1 exitcode=66" setarch "$(uname -m)" -R "$@" \
		> build-tsan/tsan-test.log 2>&1; then
		echo "ok   tsan/$name"
		passed=$((passed + 1))
	else
		echo "FAIL tsan/$name"
		tail -40 build-tsan/tsan-test.log
		failed=$((failed + 1))
	fi
}
if [ -x build-tsan/tests/test-rules ] && [ -x build-tsan/vigia ]; then
	tsan_run unit/rules env VIGIA_SRCDIR="$PWD" VIGIA_TESTDATA="$PWD/tests/data" \
		VIGIA_RULES="$PWD/rules/vigia.rules" build-tsan/tests/test-rules
	for g in ingest-classifies-incidents watch-sig-key; do
		tsan_run "golden/$g" env VIGIA_BUILDDIR="$PWD/build-tsan" VIGIA_SRCDIR="$PWD" \
			VIGIA_TESTDATA="$PWD/tests/data" bash "tests/golden/$g.sh"
	done
else
	echo "FAIL tsan: build-tsan/ is missing (make tsan)"
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
