#!/bin/bash
# vigia stats (issue 6), acceptance 3: no honeypot address (in any of its
# textual forms), sensor name, institution or city appears in any file of
# the site (PNG text chunks and SVG included).  The scanner is first
# shown to catch planted leaks, so that a pass means something.
. "$(dirname "$0")/lib.sh"
SCAN="$S/tests/golden/stats-scan-leaks.py"

mkdir -p "$T/arch/ufx-recife-hp01/2026/11/01" "$T/arch/ufx-manaus-hp02/2026/11/01"
"$GEN" --packets 100000 --seed 23 --quiet --out "$T/arch/ufx-recife-hp01/2026/11/01/a.pcap"
"$GEN" --packets 50000 --seed 24 --quiet --out "$T/arch/ufx-manaus-hp02/2026/11/01/b.pcap"
cat >"$T/vigia.conf" <<CONF
archive $T/arch
database $T/c.db
sensor ufx-recife-hp01 {
  id 3
  institution "Universidade Federal Exemplar de Pernambuco"
  city "Recife"
  host 127.0.0.1
  identity /nonexistent
  known-hosts /nonexistent
  network 192.0.2.0/24 198.51.100.0/24 2001:db8::/64
}
sensor ufx-manaus-hp02 {
  id 5
  institution "Instituto Amazonico de Testes"
  city "Manaus"
  host 127.0.0.1
  identity /nonexistent
  known-hosts /nonexistent
  network 203.0.113.0/24
}
CONF
"$VIGIA" ingest --quiet --config "$T/vigia.conf" "${RIR_ARGS[@]}" || fail "ingest failed"
[ "$(sqlite3 "$T/c.db" 'select sum(packets) from bin where category = "country"')" -gt 50000 ] &&
	ok "both sensors ingested, filtered by their networks" || fail "ingest counted too little"
out=$("$VIGIA" stats --config "$T/vigia.conf" --out "$T/site" 2>&1) || fail "stats: $out"
ok "$out"

# The scanner catches what it should.
cp -r "$T/site" "$T/planted"
printf 'x 5.2.0.192.in-addr.arpa y\n' >"$T/planted/day/2026-11-01/a.txt"
printf 'x 3325256721 y\n' >"$T/planted/day/2026-11-01/b.txt"    # 198.51.100.17
printf 'by recife ok\n' >"$T/planted/c.txt"
printf '<svg><title>UFX-MANAUS-HP02</title></svg>' >"$T/planted/d.svg"
printf '2001:0db8:0000:0000::1' >"$T/planted/e.json"
python3 - "$T/planted/f.png" <<'PY'
import struct, sys, zlib
def chunk(t, b):
    return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
png += chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"host 203.0.113.9"))
png += chunk(b"IDAT", zlib.compress(b"\0\0")) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
set +e
python3 "$SCAN" "$T/vigia.conf" "$T/planted" >"$T/planted.out"
rc=$?
set -e
n=$(grep -c '^LEAK' "$T/planted.out" || true)
[ $rc = 1 ] && [ "$n" = 6 ] && ok "the scanner finds all 6 planted leaks (reverse DNS, integer, city, name, IPv6, PNG zTXt)" ||
	{ fail "scanner on planted leaks: rc $rc, $n hits"; cat "$T/planted.out"; }

set +e
python3 "$SCAN" "$T/vigia.conf" "$T/site" >"$T/scan.out"
rc=$?
set -e
[ $rc = 0 ] && ok "$(tail -1 "$T/scan.out")" || { fail "leaks in the site:"; head -20 "$T/scan.out"; }
nf=$(find "$T/site" -type f | wc -l)
[ "$nf" -gt 150 ] && ok "$nf files scanned (every graph, page and data file)" || fail "only $nf files"
finish
