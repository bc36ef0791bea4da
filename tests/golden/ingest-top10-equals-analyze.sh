#!/bin/bash
# The database's top 10 of every category (tcp/udp ports, countries, OSes,
# Windows and other OSes; packets and bytes) equals `vigia analyze --json`
# on the same files: with --archive/--db (every packet counts) over a
# generated day cut into files plus real captures, and with a config whose
# sensors' honeypot networks filter the packets.  Re-ingesting changes
# nothing.
. "$(dirname "$0")/lib.sh"
DBTOP="$B/tests/vigia-test-db-top"

# Sensor s1: one generated day, cut into ~2 MB files: sources and their OS
# labels carry from file to file.
day=$T/arch/s1/2026/11/01
mkdir -p "$day" "$T/cut"
"$GEN" --packets 150000 --seed 5 --sources 3000 --quiet --out "$T/day.pcap"
tcpdump -Z "$(id -un)" -r "$T/day.pcap" -w "$T/cut/part" -C 2 2>/dev/null
i=0
for f in $(ls "$T/cut" | LC_ALL=C sort -V); do
	mv "$T/cut/$f" "$day/$(printf '%02d' $i).pcap"
	i=$((i + 1))
done
[ "$i" -ge 4 ] && ok "the day was cut into $i files" || fail "only $i files"
zstd -q --rm "$day/01.pcap" && gzip "$day/02.pcap"
# Sensor s2: real captures (real OS fingerprints, tunnels, IPv6).
mkdir -p "$T/arch/s2/2026/11/01"
for p in osfingerprinting nmap_80_vanilla synscan telnet bruteforce; do
	cp "$D/pcaps/$p.pcap" "$T/arch/s2/2026/11/01/$p.pcap"
done

# Ingest's order: time order across sensors (YYYY/MM/DD/NAME, then sensor).
order() {
	(cd "$T/arch" && find . -type f | sed 's|^\./||' |
		awk -F/ '{ s = $1; sub(/^[^\/]*\//, ""); print $0 "\t" s }' | LC_ALL=C sort |
		awk -F'\t' -v a="$T/arch" '{ print a "/" $2 "/" $1 }')
}
mapfile -t FILES < <(order)

compare() { # what, db, analyze json
	"$DBTOP" "$2" >"$T/db.json" || { fail "$1: db-top failed"; return; }
	jq -S '.categories | map_values(.top)' "$3" >"$T/a.json"
	jq -S . "$T/db.json" >"$T/d.json"
	if cmp -s "$T/a.json" "$T/d.json"; then
		ok "$1: all 12 top-10 views equal analyze's"
	else
		fail "$1: top 10 differ"; diff "$T/a.json" "$T/d.json" | head -20
	fi
	for v in tcp_port_packets country_bytes os_packets windows_os_packets; do
		[ "$(jq ".$v | length" "$T/d.json")" -ge 2 ] || fail "$1: $v is empty"
	done
}

# 1. No config: every packet counts.
set +e
"$VIGIA" ingest --quiet --archive "$T/arch" --db "$T/a.db" "${RIR_ARGS[@]}"
rc=$?
"$VIGIA" analyze --quiet "${RIR_ARGS[@]}" --json "$T/an.json" "${FILES[@]}"
arc=$?
set -e
[ $rc -eq $arc ] && ok "ingest exit status $rc as analyze's" || fail "ingest $rc, analyze $arc"
compare "no config" "$T/a.db" "$T/an.json"
[ "$(sqlite3 "$T/a.db" "select sum(packets) from bin where category='country'")" = \
  "$(jq .packets "$T/an.json")" ] && ok "bins sum to analyze's packets" || fail "bin packet sum"
[ "$(sqlite3 "$T/a.db" "select sum(packets) from source_day")" = "$(jq .packets "$T/an.json")" ] &&
	ok "source_day sums to analyze's packets" || fail "source_day packet sum"
[ "$(sqlite3 "$T/a.db" "select count(*) from file")" = "${#FILES[@]}" ] &&
	ok "one file row per file" || fail "file rows"

# Re-ingesting changes nothing.
dump() { sqlite3 "$1" "select * from bin order by 1,2,3,4; select * from source_day order by 1,2;
	select * from host_os order by 1; select id,sensor_id,path,sha256,size,kind,status,message,
	frames,packets,bytes,first_ns,last_ns from file order by id; select * from sensor;
	select * from os_label order by 1; select * from meta order by 1"; }
dump "$T/a.db" >"$T/before"
set +e; out=$("$VIGIA" ingest --archive "$T/arch" --db "$T/a.db" "${RIR_ARGS[@]}"); set -e
dump "$T/a.db" >"$T/after"
cmp -s "$T/before" "$T/after" && ok "re-ingesting changes nothing" || fail "re-ingest changed the db"
grep -q "0 files stored.*${#FILES[@]} already stored" <<<"$out" && ok "rerun reports all as already stored" ||
	fail "rerun summary: $out"

# 2. A config: s1's honeypot networks filter; s2 counts only 192.168.0.0/16.
cat >"$T/vigia.conf" <<CONF
archive $T/arch
database $T/c.db
sensor s1 {
  id 4
  host 127.0.0.1
  identity /nonexistent
  known-hosts /nonexistent
  network ${HONEYNETS[*]}
}
sensor s2 {
  id 9
  host 127.0.0.1
  identity /nonexistent
  known-hosts /nonexistent
  network 192.168.0.0/16
}
CONF
set +e
"$VIGIA" ingest --quiet --config "$T/vigia.conf" "${RIR_ARGS[@]}" --sensor s1
rc=$?
"$VIGIA" analyze --quiet "${RIR_ARGS[@]}" "${HN_ARGS[@]}" --json "$T/an1.json" "$day"/*
set -e
[ $rc -eq 0 ] && ok "config ingest of s1 exits 0" || fail "config ingest exit $rc"
compare "config, s1's networks" "$T/c.db" "$T/an1.json"
[ "$(sqlite3 "$T/c.db" "select group_concat(id || '=' || name) from sensor")" = "4=s1" ] &&
	ok "sensor ids come from the config" || fail "sensor ids"
"$DBTOP" "$T/c.db" 0 9999999999 9 >"$T/none.json"
[ "$(jq '.tcp_port_packets | length' "$T/none.json")" = 1 ] && ok "sensor 9 has nothing yet" ||
	fail "sensor filter"
finish
