#!/bin/bash
# kill -9 at random moments of an ingest, then a rerun, gives exactly the
# same database contents as one uninterrupted run (ingested_at aside), and
# an intact database after every kill.
. "$(dirname "$0")/lib.sh"

# Two sensors, 2 x ~10 files: enough work to be killed in the middle.
for s in 1 2; do
	mkdir -p "$T/cut$s" "$T/arch/s$s/2026/11/0$s"
	"$GEN" --packets 120000 --seed $((s + 20)) --sources 4000 --day 2026-11-0$s --quiet \
		--out "$T/day$s.pcap"
	tcpdump -Z "$(id -un)" -r "$T/day$s.pcap" -w "$T/cut$s/p" -C 1 2>/dev/null
	i=0
	for f in $(ls "$T/cut$s" | LC_ALL=C sort -V); do
		mv "$T/cut$s/$f" "$T/arch/s$s/2026/11/0$s/$(printf '%02d' $i).pcap"
		i=$((i + 1))
	done
done
n=$(find "$T/arch" -type f | wc -l)
[ "$n" -ge 16 ] && ok "$n files to ingest" || fail "only $n files"

ING=("$VIGIA" ingest --quiet --archive "$T/arch" "${RIR_ARGS[@]}")
dump() { # the data tables, canonical order, without ingested_at
	sqlite3 "$1" "select * from bin order by 1,2,3,4; select * from source_day order by 1,2;
	select * from host_os order by 1; select id,sensor_id,path,sha256,size,kind,status,message,
	frames,packets,bytes,first_ns,last_ns from file order by id; select * from sensor order by 1;
	select * from os_label order by 1; select * from meta order by 1; pragma user_version"
}

start=$(date +%s%N)
"${ING[@]}" --db "$T/ref.db"
took_ms=$((($(date +%s%N) - start) / 1000000))
dump "$T/ref.db" >"$T/ref.dump"
[ "$(sqlite3 "$T/ref.db" 'select count(*) from file')" = "$n" ] && ok "uninterrupted run: $n files in ${took_ms} ms" ||
	fail "uninterrupted run stored $(sqlite3 "$T/ref.db" 'select count(*) from file') files"

# Rounds: a fresh database, kills at random moments while work remains,
# then a rerun to the end.
kills=0 partial=0
for round in 1 2 3; do
	rm -f "$T"/k.db*
	for k in 1 2 3; do
		delay_ms=$((RANDOM % (took_ms / 3 > 10 ? took_ms / 3 : 10) + 5))
		"${ING[@]}" --db "$T/k.db" &
		pid=$!
		sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
		kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
		wait "$pid" 2>/dev/null || true
		[ -f "$T/k.db" ] || continue
		got=$(sqlite3 "$T/k.db" 'select count(*) from file' 2>/dev/null || echo 0)
		echo "round $round, kill $k after ${delay_ms} ms: $got/$n files stored"
		[ "$got" -lt "$n" ] && partial=$((partial + 1))
		ic=$(sqlite3 "$T/k.db" 'pragma integrity_check')
		[ "$ic" = ok ] || fail "integrity check after kill $k: $ic"
		# Only whole files are stored: the bins hold exactly the stored files' packets.
		[ "$(sqlite3 "$T/k.db" "select coalesce(sum(packets),0) from file")" = \
		  "$(sqlite3 "$T/k.db" "select coalesce(sum(packets),0) from bin where category='os'")" ] ||
			fail "after kill $k the bins hold part of a file"
	done
	"${ING[@]}" --db "$T/k.db"
	dump "$T/k.db" >"$T/k.dump"
	if cmp -s "$T/ref.dump" "$T/k.dump"; then
		ok "round $round: after the kills and a rerun the database equals the uninterrupted run's"
	else
		fail "round $round: databases differ"; diff "$T/ref.dump" "$T/k.dump" | head
	fi
done
[ "$kills" -ge 6 ] && ok "$kills runs killed with SIGKILL" || fail "only $kills kills landed"
[ "$partial" -ge 3 ] && ok "$partial kills left the ingest unfinished" || fail "only $partial kills landed mid-ingest"
finish
