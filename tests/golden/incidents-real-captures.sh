#!/bin/bash
# Issue 8 acceptance 1: vigia's rules and detectors name the activity in
# the real captures with the expected category and name; the evidence
# never shows a honeypot address; `vigia incidents --db` stores a day and
# re-running it gives the same rows.
source "$(dirname "$0")/lib.sh"
P="$D/pcaps"
RULES=(--rules "$S/rules/vigia.rules")

expect() { # capture, source, category, name
	local out="$T/$1.jsonl"
	if ! "$VIGIA" incidents -q "${RULES[@]}" --jsonl "$out" "$P/$1" > /dev/null; then
		fail "$1: vigia incidents failed"
		return
	fi
	if [ "$(jq -s --arg s "$2" --arg c "$3" --arg n "$4" \
		'[.[] | select(."source.ip" == $s and ."extra.category" == $c and ."classification.identifier" == $n)] | length > 0' "$out")" = true ]; then
		ok "$1: $2 is $3 / $4"
	else
		fail "$1: no $3 / $4 incident for $2: $(jq -c '[."source.ip", ."extra.category", ."classification.identifier"]' "$out" | tr '\n' ' ')"
	fi
}

expect blaster.pcap 10.234.0.239 worm Blaster
expect synscan.pcap 172.16.0.8 scan "vertical scan"
expect portscan.pcap 10.100.25.14 scan "vertical scan"
expect sshguess.pcap 192.168.56.1 bruteforce "SSH brute force"
expect bruteforce.pcap 192.168.56.1 bruteforce "FTP brute force"
expect connect-with-header.pcap ::1 spam "open proxy probe"
expect proxy.pcap 192.168.56.1 spam "open proxy probe"
expect socks.pcap 10.0.0.55 spam "open proxy probe"
expect socks-auth.pcap 192.168.0.2 spam "open proxy probe"
expect tcp_0_1000_20190821.pcap 172.31.15.102 scan masscan
expect bug-5437-02_mirai_jaws_gre-erspan.pcap 41.108.52.138 bot "Mirai loader"

# The taxonomy fields are filled from the documented mapping.
if [ "$(jq -s '[.[] | select(."classification.identifier" == "Blaster")][0] | ."classification.taxonomy" == "malicious-code" and ."classification.type" == "infected-system"' "$T/blaster.pcap.jsonl")" = true ]; then
	ok "Blaster maps to malicious-code / infected-system"
else
	fail "Blaster taxonomy"
fi

# Captures of ordinary sessions make no incident.
for f in telnet.pcap nmap_80_vanilla.pcap osfingerprinting.pcap; do
	"$VIGIA" incidents -q "${RULES[@]}" --jsonl "$T/q.jsonl" "$P/$f" > /dev/null || true
	n=$(wc -l < "$T/q.jsonl")
	if [ "$n" -eq 0 ]; then ok "$f: no incident"; else fail "$f: $n incidents: $(cat "$T/q.jsonl")"; fi
done

# Sanitized evidence: with the victim networks as honeynets, no honeypot
# address appears in any textual form we write.
"$VIGIA" incidents -q "${RULES[@]}" --honeynet 10.234.2.0/24 --jsonl "$T/b.jsonl" "$P/blaster.pcap" > /dev/null
"$VIGIA" incidents -q "${RULES[@]}" --honeynet 40.110.35.0/24 --honeynet 126.203.57.0/24 \
	--jsonl "$T/m.jsonl" "$P/bug-5437-02_mirai_jaws_gre-erspan.pcap" > /dev/null
if [ -s "$T/b.jsonl" ] && ! grep -q '10\.234\.2\.116' "$T/b.jsonl" && grep -q 'hp-0\.116' "$T/b.jsonl"; then
	ok "blaster evidence names the honeypot by token only"
else
	fail "blaster evidence: $(cat "$T/b.jsonl")"
fi
if [ -s "$T/m.jsonl" ] && ! grep -qE '40\.110\.35\.23|126\.203\.57\.64' "$T/m.jsonl"; then
	ok "mirai evidence names the honeypots by token only"
else
	fail "mirai evidence: $(cat "$T/m.jsonl")"
fi

# The database: an archive of one day, two sensors; stored, then re-run.
A="$T/archive"
mkdir -p "$A/sensor-a/2003/08/12" "$A/sensor-b/2003/08/12"
cp "$P/blaster.pcap" "$A/sensor-a/2003/08/12/20030812T000000Z.pcap"
cp "$P/blaster.pcap" "$A/sensor-b/2003/08/12/20030812T000000Z.pcap"
for run in 1 2; do
	"$VIGIA" incidents -q "${RULES[@]}" --db "$T/v.db" --archive "$A" --day 2003-08-12 > /dev/null
done
row=$(sqlite3 "$T/v.db" "SELECT ip, category, name, taxonomy, type, count, sensors FROM incident WHERE name = 'Blaster'")
if [ "$row" = "10.234.0.239|worm|Blaster|malicious-code|infected-system|8|1,2" ]; then
	ok "database row: $row"
else
	fail "database row: '$row'"
fi
nev=$(sqlite3 "$T/v.db" "SELECT COUNT(*) FROM evidence")
if [ "$nev" -ge 1 ] && [ "$nev" -le 5 ]; then ok "evidence rows: $nev"; else fail "evidence rows: $nev"; fi

# With the central config: its sensor ids and networks, its archive and
# database, and issue 7's sanitizer on the evidence (every textual form).
cat > "$T/vigia.conf" <<CONF
archive $A
database $T/c.db
sensor sensor-a { id 7; host 10.99.0.1; identity k; host-key "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"; network 10.234.2.0/24 }
sensor sensor-b { id 9; host 10.99.0.2; identity k; host-key "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"; network 10.234.2.0/24 }
CONF
if "$VIGIA" incidents -q "${RULES[@]}" --config "$T/vigia.conf" --day 2003-08-12 > "$T/c.out" 2>&1; then
	row=$(sqlite3 "$T/c.db" "SELECT name, count, sensors FROM incident WHERE name = 'Blaster'")
	lines=$(sqlite3 "$T/c.db" "SELECT line || ' ' || excerpt FROM evidence")
	if [ "$row" = "Blaster|8|7,9" ] && ! echo "$lines" | grep -q '10\.234\.2\.116' &&
		echo "$lines" | grep -q 'hp-7\.116'; then
		ok "--config: sensor ids from the config, evidence by token ($row)"
	else
		fail "--config: row '$row', evidence: $lines"
	fi
else
	fail "--config run: $(cat "$T/c.out")"
fi
finish
