#!/bin/bash
# Honeyd's config.sample puts scripts on 80, 22 and 23/tcp of its `windows`
# template ("scripts/web.sh", ...), and those scripts do not exist here.
# The sample must load as it is, and replaying the real nmap SYN scan with
# the scan's target bound to `windows` must end cleanly: a SYN-ACK for
# every SYN to a script port (the handshake is answered before any script
# runs), a RST/ACK for every other SYN (the template's default is closed),
# no crash, no sanitizer report, and status.json counting scripts.
source "$(dirname "$0")/lib.sh"
SD="$B/src/sensord/vigia-sensord"
IN="$D/pcaps/synscan.pcap"
TARGET=64.13.134.52

# 1. The sample as it is (it binds 192.168.3.137 only: nothing to answer).
"$SD" -f "$D/honeyd/config.sample" --replay "$IN" --write "$T/out0.pcap" -l "$T/conn0.log" \
	--seed 3 --status "$T/status0.json" 2> "$T/err0" &&
	ok "config.sample loads and the scan replays through it" ||
	{ cat "$T/err0"; fail "vigia-sensord -f config.sample: exit status"; }

# 2. The scan's target bound to the sample's `windows` template.
cp "$D/honeyd/config.sample" "$T/config.sample"
cat > "$T/sensor.conf" <<CONF
include config.sample
bind $TARGET windows
CONF
"$SD" -f "$T/sensor.conf" --replay "$IN" --write "$T/out.pcap" -l "$T/conn.log" -s "$T/svc.log" \
	--seed 3 --status "$T/status.json" 2> "$T/err" ||
	{ cat "$T/err"; fail "vigia-sensord exit status"; }
if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$T/err0" "$T/err"; then
	fail "sanitizer report"; head -20 "$T/err0" "$T/err"
else
	ok "no sanitizer report"
fi

SCRIPTS="(dst port 22 or dst port 23 or dst port 80)"
syn_script=$(tcpdump -nr "$IN" "dst host $TARGET and tcp[13] == 2 and $SCRIPTS" 2>/dev/null | wc -l)
syn_all=$(tcpdump -nr "$IN" "dst host $TARGET and tcp[13] & 2 != 0" 2>/dev/null | wc -l)
synack=$(tcpdump -nr "$T/out.pcap" "src host $TARGET and tcp[13] == 18" 2>/dev/null | wc -l)
rst=$(tcpdump -nr "$T/out.pcap" "src host $TARGET and tcp[13] == 20" 2>/dev/null | wc -l)
echo "SYNs to script ports: $syn_script, to others: $((syn_all - syn_script)); sent: $synack SYN-ACK, $rst RST/ACK"
[ "$syn_script" -gt 0 ] || fail "the scan has no SYN to 22, 23 or 80"
[ "$synack" -eq "$syn_script" ] && ok "a SYN-ACK for every SYN to a script port" ||
	fail "SYN-ACKs $synack != SYNs $syn_script"
[ "$rst" -eq $((syn_all - syn_script)) ] && ok "a RST/ACK for every other SYN" ||
	fail "RSTs $rst != SYNs $((syn_all - syn_script))"
# A SYN scan never completes a handshake: no script ever starts.
grep -q '"scripts"' "$T/status.json" && grep -q '"started": 0' "$T/status.json" &&
	ok "status.json counts scripts (none started)" || fail "status.json: $(cat "$T/status.json")"
finish
