#!/bin/bash
# Issue 8: `vigia ingest` classifies in the same pass as it counts.  The
# incidents of the real Blaster and SSH brute-force captures land in the
# database with the file's transaction, each signature's packets feed early
# warning's "sig" key, a re-run adds nothing, and re-classifying the day
# from the archive (`vigia incidents --db`) gives the same incidents.
. "$(dirname "$0")/lib.sh"
export VIGIA_RULES="$S/rules/vigia.rules"
mkdir -p "$T/arch/s1/2003/08/12" "$T/arch/s1/2015/03/30"
cp "$D/pcaps/blaster.pcap" "$T/arch/s1/2003/08/12/"
cp "$D/pcaps/sshguess.pcap" "$T/arch/s1/2015/03/30/"
q() { sqlite3 "$T/v.db" "$1"; }

"$VIGIA" ingest --archive "$T/arch" --db "$T/v.db" >"$T/out" 2>"$T/err" ||
	fail "ingest failed: $(cat "$T/err")"
grep -q "incident update.* merged (rules and detectors" "$T/out" && ok "ingest reports its incidents" ||
	fail "summary: $(cat "$T/out")"
[ "$(q "select count(*) from incident where ip = '10.234.0.239' and name = 'Blaster' and category = 'worm'")" = 1 ] &&
	ok "Blaster incident stored by ingest" || fail "no Blaster incident: $(q 'select ip, name from incident')"
[ "$(q "select count(*) from incident where ip = '192.168.56.1' and name = 'SSH brute force'")" = 1 ] &&
	ok "SSH brute force incident stored by ingest" || fail "no SSH brute force incident"
n=$(q "select count(*) from evidence e join incident i on e.incident_id = i.id where i.name = 'Blaster'")
[ "${n:-0}" -ge 1 ] && ok "evidence stored ($n rows)" || fail "no evidence"
[ "$(q "select count(*) from ew_bin where kind = 'sig' and key = 'Blaster'")" -ge 1 ] &&
	ok "Blaster packets feed the early-warning sig key" || fail "no sig key: $(q 'select distinct kind, key from ew_bin limit 20')"

before=$(q "select name, ip, count, first_seen, last_seen from incident order by 1, 2")
"$VIGIA" ingest --quiet --archive "$T/arch" --db "$T/v.db" 2>"$T/err2" || fail "re-run failed"
[ "$(q "select name, ip, count, first_seen, last_seen from incident order by 1, 2")" = "$before" ] &&
	ok "re-running ingest adds nothing" || fail "re-run changed the incidents"

# the day re-classified from the archive: the same incidents, counts included
bl=$(q "select count, first_seen, last_seen from incident where name = 'Blaster'")
"$VIGIA" incidents -q --db "$T/v.db" --archive "$T/arch" --day 2003-08-12 --rules "$VIGIA_RULES" \
	>/dev/null 2>"$T/err3" || fail "incidents --db failed: $(cat "$T/err3")"
[ "$(q "select count, first_seen, last_seen from incident where name = 'Blaster'")" = "$bl" ] &&
	ok "vigia incidents --db agrees with ingest ($bl)" ||
	fail "re-classified Blaster differs: $(q "select count, first_seen, last_seen from incident where name = 'Blaster'") vs $bl"

# without classification nothing is looked for
rm -f "$T/n.db"
"$VIGIA" ingest --quiet --no-classify --archive "$T/arch" --db "$T/n.db" 2>/dev/null || fail "--no-classify failed"
[ "$(sqlite3 "$T/n.db" "select count(*) from incident")" = 0 ] && ok "--no-classify stores no incident" ||
	fail "--no-classify stored incidents"
finish
