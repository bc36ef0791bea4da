# Shared helpers of the golden tests (sourced).
# No pipefail: `cmd | head` would fail on SIGPIPE at random; every check
# below tests its own result explicitly.
set -eu
B=${VIGIA_BUILDDIR:?run through meson test}
S=${VIGIA_SRCDIR:?}
D=${VIGIA_TESTDATA:?}
VIGIA="$B/vigia"
GEN="$B/bench/vigia-gen-day"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
finish() { [ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }; echo "all checks passed"; }
RIR_ARGS=()
for f in "$D"/rir/delegated-*; do RIR_ARGS+=(--rir "$f"); done
HONEYNETS=(192.0.2.0/24 198.51.100.0/24 203.0.113.0/24)
HN_ARGS=()
for h in "${HONEYNETS[@]}"; do HN_ARGS+=(--honeynet "$h"); done
