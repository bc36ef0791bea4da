#!/bin/bash
# Acceptance 3 (issue 2): the country of every source address in a test
# capture equals a direct lookup in the delegation files, done here by an
# independent implementation (a linear scan in Python).
source "$(dirname "$0")/lib.sh"

"$GEN" --packets 100000 --sources 5000 --seed 11 --out "$T/day.pcap" > /dev/null
"$VIGIA" analyze --quiet --no-p0f "${RIR_ARGS[@]}" --sources "$T/src.csv" "$T/day.pcap" "$D/pcaps"
python3 - "$T/src.csv" "$D"/rir/delegated-* <<'PY'
import csv, ipaddress, sys
srcs = list(csv.DictReader(open(sys.argv[1])))
ranges4, ranges6 = [], []
for path in sys.argv[2:]:
    fdate = ''
    for line in open(path, encoding='utf-8', errors='replace'):
        f = line.strip().split('|')
        if not fdate and len(f) >= 3 and f[0][:1].isdigit() and not line.startswith('#'):
            # version|registry|serial|records|startdate|enddate|offset
            fdate = f[5] if len(f) >= 6 and len(f[5]) == 8 and f[5].isdigit() else '0'
            continue
        if len(f) < 7 or line.startswith('#') or f[1] == '*' or f[2] not in ('ipv4', 'ipv6'):
            continue
        cc, status = f[1].upper(), f[6]
        if status not in ('allocated', 'assigned') or cc in ('', 'ZZ'):
            continue
        if f[2] == 'ipv4':
            start = int(ipaddress.IPv4Address(f[3]))
            ranges4.append((start, start + int(f[4]) - 1, cc, fdate))
        else:
            net = ipaddress.IPv6Network(f'{f[3]}/{f[4]}', strict=False)
            ranges6.append((int(net.network_address), int(net.broadcast_address), cc, fdate))
# Sorted by start, with the running maximum of ends: walking back from the
# last range starting at or before x, only ranges with that maximum >= x
# can cover x.  Exact, and fast because nesting is rare.
import bisect
def prepare(table):
    table.sort()
    starts = [r[0] for r in table]
    runmax, m = [], -1
    for r in table:
        m = max(m, r[1]); runmax.append(m)
    return table, starts, runmax
T4, T6 = prepare(ranges4), prepare(ranges6)
def lookup(ip):
    a = ipaddress.ip_address(ip)
    table, starts, runmax = T4 if a.version == 4 else T6
    x = int(a)
    i = bisect.bisect_right(starts, x) - 1
    # The most specific (smallest) covering range wins; between ranges of
    # the same size, the file with the later date.
    best = None
    while i >= 0 and runmax[i] >= x:
        lo, hi, cc, d = table[i]
        if lo <= x <= hi and (best is None or (hi - lo, -int(d or 0)) < best[0]):
            best = ((hi - lo, -int(d or 0)), cc)
        i -= 1
    return best[1] if best else '--'
bad = 0
for row in srcs:
    want = lookup(row['ip'])
    if want != row['country']:
        bad += 1
        if bad <= 10:
            print(f"mismatch {row['ip']}: vigia {row['country']}, files {want}")
known = sum(1 for r in srcs if r['country'] != '--')
print(f"{len(srcs)} sources checked, {known} with a country, {bad} mismatches")
sys.exit(1 if bad or len(srcs) < 1000 or known < len(srcs) // 2 else 0)
PY
finish
