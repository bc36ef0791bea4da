#!/bin/bash
# vigia export (issue 8): the day's foreign incidents as CSV and JSON Lines
# with IntelMQ field names; national sources, honeypots and their
# addresses never appear.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/notify-lib.sh"
trap 'stop_registries; rm -rf "$T"' EXIT
RDAP_PORT=1 REFER_PORT=1 WHOIS_PORT=1
write_config smtp://127.0.0.1:1
seed_db

"$VIGIA" export --config "$T/vigia.conf" --day $DAY --format csv --out "$T/feed.csv" 2>"$T/err" ||
	fail "export csv failed: $(cat "$T/err")"
"$VIGIA" export --config "$T/vigia.conf" --day $DAY --format jsonl --out "$T/feed.jsonl" 2>>"$T/err" ||
	fail "export jsonl failed: $(cat "$T/err")"

python3 - "$T/feed.csv" "$T/feed.jsonl" <<'PY' && ok "feed rows and fields" || fail "feed rows and fields"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
want = {"74.125.225.229": ("US", "80", "tcp", "scanner", "masscan SYN scan", "50"),
        "62.239.237.1": ("GB", "135", "tcp", "infected-system",
                         "Blaster worm DCOM ISystemActivator bind", "3")}
got = {r["source.ip"]: (r["source.geolocation.cc"], r["destination.port"], r["protocol.transport"],
                        r["classification.type"], r["classification.identifier"], r["extra.count"])
       for r in rows}
assert got == want, got
for r in rows:
    assert r["feed.name"] == "vigia-test" and r["feed.provider"] == "alliance-test", r
    assert r["time.source"] == "2026-11-01T10:00:00+00:00", r
    assert "destination.ip" not in r
js = [json.loads(l) for l in open(sys.argv[2])]
assert {j["source.ip"] for j in js} == set(want), js
assert all("destination.ip" not in j for j in js)
assert [j for j in js if j["source.ip"] == "74.125.225.229"][0]["extra.ports"] == "80/tcp 443/tcp"
PY
grep -q "^time.source,source.ip,source.geolocation.cc,source.asn,destination.port,protocol.transport,classification.taxonomy,classification.type,classification.identifier,extra.count" "$T/feed.csv" &&
	ok "CSV header" || fail "CSV header: $(head -1 "$T/feed.csv")"
for ip in 200.128.1.10 200.128.1.11 200.57.141.161; do
	grep -q "$ip" "$T/feed.csv" "$T/feed.jsonl" && fail "national source $ip exported"
done
ok "no national source"
mkdir "$T/out" && cp "$T/feed.csv" "$T/feed.jsonl" "$T/err" "$T/out/"
python3 "$S/tests/golden/stats-scan-leaks.py" "$T/vigia.conf" "$T/out" >"$T/leaks" &&
	ok "no honeypot address in any form" || fail "leaks: $(cat "$T/leaks")"
"$VIGIA" export --config "$T/vigia.conf" --day 2026-13-01 2>/dev/null && fail "bad day accepted"
finish
