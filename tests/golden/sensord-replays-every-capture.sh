#!/bin/bash
# Acceptance 5 of issue 3 (second half): every real capture replayed
# through the sensor, with every address claimed so that every packet
# reaches the responder, ends cleanly: exit status 0, no sanitizer report,
# an output tcpdump reads with every checksum correct, a log hl-log can
# read back (checked by the unit tests) and a status file.
source "$(dirname "$0")/lib.sh"
SD="$B/src/sensord/vigia-sensord"
cat > "$T/all.conf" <<CONF
create default
set default personality "Microsoft Windows XP Professional SP1"
set default default tcp action closed
set default default udp action closed
add default tcp port 21 open
add default tcp port 22 open
add default tcp port 23 open
add default tcp port 25 open
add default tcp port 80 open
add default tcp port 110 open
add default tcp port 135 open
add default tcp port 139 open
add default tcp port 143 open
add default tcp port 443 open
add default tcp port 445 open
add default tcp port 1080 proxy
add default tcp port 1433 open
add default tcp port 3128 proxy
add default tcp port 5900 open
add default tcp port 8080 proxy
add default udp port 137 open
add default udp port 1434 open
add default udp port 53 block
CONF
n=0
for f in "$D"/pcaps/*; do
	name=$(basename "$f")
	for mode in check nocheck; do
		extra=()
		[ $mode = nocheck ] && extra=(--no-checksum-check)
		rm -f "$T/out.pcap" "$T/conn.log" "$T/svc.log"
		if "$SD" -f "$T/all.conf" --replay "$f" --write "$T/out.pcap" -l "$T/conn.log" \
			-s "$T/svc.log" --seed 7 --status "$T/status.json" "${extra[@]}" 0.0.0.0/0 \
			> "$T/stdout" 2> "$T/err"; then
			:
		else
			fail "$name ($mode): exit status $?: $(head -5 "$T/err")"
			continue
		fi
		if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T/err"; then
			fail "$name ($mode): sanitizer report"; head -20 "$T/err"; continue
		fi
		sent=$(tcpdump -nr "$T/out.pcap" 2>/dev/null | wc -l)
		bad=$(tcpdump -vvnr "$T/out.pcap" 2>/dev/null | grep -c incorrect || true)
		[ "$bad" -eq 0 ] || fail "$name ($mode): $bad replies with incorrect checksums"
		grep -q '"packets_received"' "$T/status.json" || fail "$name ($mode): no status.json"
		lines=$(wc -l < "$T/conn.log")
		echo "$name ($mode): $sent packets sent, $lines log lines"
		n=$((n + 1))
	done
done
[ "$n" -ge 2 ] && ok "$n replays ended cleanly" || fail "only $n replays"
finish
