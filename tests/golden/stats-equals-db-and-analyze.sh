#!/bin/bash
# vigia stats (issue 6), acceptance 1: for a generated day ingested into
# the database, every graph's CSV sums exactly to the database's totals
# (per key and in all), and every view's top 10 equals `vigia analyze
# --json` on the same files.  Also: the same with --tz (a day of another
# zone sums the database over that zone's day), regenerating one day
# leaves the other day untouched, and a reader never sees a day half
# written while it is regenerated.
. "$(dirname "$0")/lib.sh"

day=$T/arch/s1/2026/11/01
mkdir -p "$day" "$T/cut" "$T/arch/s1/2026/11/02"
"$GEN" --packets 200000 --seed 17 --quiet --out "$T/day.pcap"
tcpdump -Z "$(id -un)" -r "$T/day.pcap" -w "$T/cut/part" -C 4 2>/dev/null
i=0
for f in $(ls "$T/cut" | LC_ALL=C sort -V); do
	mv "$T/cut/$f" "$day/$(printf '%02d' $i).pcap"
	i=$((i + 1))
done
[ "$i" -ge 3 ] && ok "the day was cut into $i files" || fail "only $i files"
"$GEN" --packets 20000 --seed 18 --day 2026-11-02 --quiet --out "$T/arch/s1/2026/11/02/a.pcap"

set +e
"$VIGIA" ingest --quiet --archive "$T/arch" --db "$T/a.db" "${RIR_ARGS[@]}"
rc=$?
"$VIGIA" analyze --quiet "${RIR_ARGS[@]}" --json "$T/an.json" $(ls "$day"/* | LC_ALL=C sort)
arc=$?
set -e
[ $rc -eq 0 ] && [ $arc -eq 0 ] && ok "ingest and analyze exit 0" || fail "ingest $rc, analyze $arc"

out=$("$VIGIA" stats --db "$T/a.db" --out "$T/site" 2>&1) || fail "vigia stats failed: $out"
grep -q "2 days, 2 weeks, 1 month; 60 graph sets" <<<"$out" && ok "summary: $out" ||
	fail "summary: $out"
D1=$T/site/day/2026-11-01
VIEWS=$(jq -r '.categories | keys[]' "$T/an.json")
[ "$(wc -w <<<"$VIEWS")" = 12 ] || fail "analyze has not 12 views"

# Sum of a view's measure in the database over [from, to).
dbsum() { # view from to
	local v=$1 cat meas filt=""
	meas=${v##*_}
	[ "$meas" = packets ] || meas=bytes
	cat=${v%_*}
	case $cat in
	windows_os) cat=os; filt="AND key IN (SELECT label FROM os_label WHERE windows = 1)" ;;
	other_os) cat=os; filt="AND key NOT IN (SELECT label FROM os_label WHERE windows = 1)" ;;
	esac
	sqlite3 "$T/a.db" "SELECT COALESCE(SUM($meas), 0) FROM bin WHERE category = '$cat'
		AND start >= $2 AND start < $3 $filt"
}
csvsum() { # file -> total of every value
	awk -F, 'NR > 1 { for (i = 2; i <= NF; i++) s += $i } END { printf "%d\n", s }' "$1"
}

from=$(date -ud 2026-11-01 +%s); to=$((from + 86400))
bad=0
for v in $VIEWS; do
	jq -S .top "$D1/$v.json" >"$T/s.json"
	jq -S ".categories.$v.top" "$T/an.json" >"$T/a.json"
	cmp -s "$T/s.json" "$T/a.json" || { bad=1; fail "$v: top 10 differs from analyze's"; diff "$T/a.json" "$T/s.json" | head; }
	want=$(dbsum "$v" "$from" "$to")
	got=$(csvsum "$D1/$v.csv")
	[ "$want" = "$got" ] || { bad=1; fail "$v: CSV sums to $got, the database to $want"; }
	[ "$want" -gt 0 ] || [ "${v#udp}" != "$v" ] || { bad=1; fail "$v: empty"; }
	# Each column sums to its key's total in the view's measure.
	meas=${v##*_}
	n=$(head -1 "$D1/$v.csv" | awk -F, '{ print NF - 1 }')
	for c in $(seq 2 $((n + 1))); do
		key=$(head -1 "$D1/$v.csv" | cut -d, -f"$c")
		col=$(awk -F, -v c="$c" 'NR > 1 { s += $c } END { printf "%d\n", s }' "$D1/$v.csv")
		exp=$(jq -r --arg k "$key" ".top[] | select(.key == \$k) | .$meas" "$D1/$v.json")
		[ "$col" = "$exp" ] || { bad=1; fail "$v: column $key sums to $col, its total is $exp"; }
	done
	# The JSON series hold the CSV's values.
	[ "$(jq '[.series[][]] | add' "$D1/$v.json")" = "$got" ] || { bad=1; fail "$v: JSON series differ from CSV"; }
	[ "$(jq .bins "$D1/$v.json")" = 288 ] || { bad=1; fail "$v: not 288 bins"; }
done
[ $bad = 0 ] && ok "12 views: top 10 = analyze's, CSV sums = database totals, per key and in all"
# analyze's totals once more, independent of the site's JSON.
[ "$(csvsum "$D1/country_packets.csv")" = "$(jq .packets "$T/an.json")" ] &&
	ok "country_packets.csv sums to analyze's packet count" || fail "country packets vs analyze"

# 2026-11-01 is a Sunday: week 44 holds it, week 45 the next day; the
# month holds both.
for p in "week/2026-W44 $from $to" "week/2026-W45 $to $((to + 86400))" "month/2026-11 0 9999999999"; do
	set -- $p
	w=$(csvsum "$T/site/$1/tcp_port_packets.csv")
	want=$(dbsum tcp_port_packets "$2" "$3")
	[ "$w" = "$want" ] && ok "$1: tcp_port_packets sums to the database ($w)" || fail "$1: $w != $want"
done
[ "$(jq .bin_seconds "$T/site/week/2026-W44/os_packets.json")" = 3600 ] &&
[ "$(jq .bins "$T/site/week/2026-W44/os_packets.json")" = 168 ] &&
[ "$(jq .bin_seconds "$T/site/month/2026-11/os_packets.json")" = 21600 ] &&
	ok "weeks in 1-hour bins, months in 6-hour bins" || fail "week/month bins"

# Pages: index lists both days, every page names its graphs and data.
for d in 2026-11-01 2026-11-02; do
	grep -q "href=\"day/$d/index.html\"" "$T/site/index.html" || fail "index lacks $d"
done
[ "$(grep -o '<img src="[a-z_]*.png"' "$D1/index.html" | wc -l)" = 12 ] &&
[ "$(grep -o 'href="[a-z_]*.csv"' "$D1/index.html" | wc -l)" = 12 ] &&
[ "$(grep -o 'href="[a-z_]*.json"' "$D1/index.html" | wc -l)" = 12 ] &&
	ok "the day page shows 12 graphs with CSV and JSON links" || fail "day page links"
grep -q '445/tcp (microsoft-ds)' "$D1/index.html" && grep -q 'US United States' "$D1/index.html" &&
	ok "labels read '445/tcp (microsoft-ds)', 'US United States'" || fail "labels"
! grep -qi '<script\|https\?://' "$T/site/index.html" "$D1/index.html" &&
	ok "no script and no absolute URL in the pages" || fail "script or URL in pages"

# Another zone: the day of America/Sao_Paulo (UTC-3) is 03:00Z..03:00Z.
"$VIGIA" stats --quiet --db "$T/a.db" --day 2026-11-01 --tz America/Sao_Paulo --out "$T/sp"
f2=$((from + 3 * 3600)); t2=$((f2 + 86400))
[ "$(csvsum "$T/sp/day/2026-11-01/os_bytes.csv")" = "$(dbsum os_bytes $f2 $t2)" ] &&
	ok "--tz America/Sao_Paulo: the day sums the database from 03:00Z to 03:00Z" ||
	fail "tz day sum"
[ "$(jq -r .time_zone "$T/sp/day/2026-11-01/os_bytes.json")" = America/Sao_Paulo ] &&
grep -q 'America/Sao_Paulo' "$T/sp/day/2026-11-01/index.html" &&
	ok "the zone is named in JSON and page" || fail "zone not named"
set +e
"$VIGIA" stats --quiet --db "$T/a.db" --day 2026-11-01 --tz Mars/Olympus --out "$T/x" 2>"$T/err"
rc=$?
set -e
[ $rc = 1 ] && grep -q "Mars/Olympus" "$T/err" && ok "an unknown zone is refused: $(cat "$T/err")" ||
	fail "unknown zone: rc $rc"

# Regenerating one day: the other day's files stay as they were, the
# index is rewritten, and a reader polling the day never sees it partial.
ino2=$(stat -c %i "$T/site/day/2026-11-02/index.html")
reader() {
	local n=0
	while [ ! -e "$T/stop" ]; do
		d=$T/site/day/2026-11-01
		if [ -d "$d" ]; then
			c=$(ls "$d" 2>/dev/null | wc -l)
			# 12 x 4 + index.html + totals.txt.  A listing begun just
			# before a swap reads the old directory while it is being
			# removed: look again by name before calling it partial.
			if [ "$c" != 50 ] || ! tail -c 8 "$d/index.html" 2>/dev/null | grep -q '</html>'; then
				c=$(ls "$d" 2>/dev/null | wc -l)
				[ "$c" = 50 ] || echo "$c" >"$T/partial.$n"
			fi
		else
			echo missing >"$T/partial.$n"
		fi
		n=$((n + 1))
	done
}
reader &
rpid=$!
for k in 1 2 3 4 5; do
	"$VIGIA" stats --quiet --db "$T/a.db" --day 2026-11-01 --out "$T/site"
done
touch "$T/stop"
wait $rpid
np=$(ls "$T" | grep -c '^partial\.' || true)
[ "$np" = 0 ] && ok "5 regenerations under a polling reader: never missing or partial" ||
	fail "$np partial views seen: $(cat "$T"/partial.* | sort | uniq -c | head -3)"
[ "$(stat -c %i "$T/site/day/2026-11-02/index.html")" = "$ino2" ] &&
	ok "regenerating 2026-11-01 left 2026-11-02 untouched" || fail "other day rewritten"
[ -z "$(ls -A "$T/site" | grep staging)" ] && ok "no staging directory left" || fail "staging left"
[ "$(csvsum "$D1/udp_port_packets.csv")" = "$(dbsum udp_port_packets "$from" "$to")" ] &&
	ok "the regenerated day still sums right" || fail "regenerated sums"
finish
