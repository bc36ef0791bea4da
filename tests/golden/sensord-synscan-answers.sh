#!/bin/bash
# Acceptance 1 of issue 3: replaying the real nmap SYN scan, with the
# scan's target bound to a template with 21, 22 and 80 open and the rest
# closed, gives a SYN-ACK for every SYN to an open port, a RST/ACK for every
# other SYN, and nothing else.  Counted and matched with tcpdump.
source "$(dirname "$0")/lib.sh"
SD="$B/src/sensord/vigia-sensord"
IN="$D/pcaps/synscan.pcap"
TARGET=64.13.134.52

# The target is the address that receives the scan's SYNs.
top=$(tcpdump -nr "$IN" 'tcp[13] == 2' 2>/dev/null | awk '{print $5}' | sed 's/\.[0-9]*:$//' |
	sort | uniq -c | sort -rn | head -1 | awk '{print $2}')
[ "$top" = "$TARGET" ] && ok "scan target is $TARGET" || fail "scan target is '$top', expected $TARGET"

cat > "$T/a1.conf" <<CONF
create target
set target personality "Linux 2.6.32"
set target default tcp action closed
add target tcp port 21 open
add target tcp port 22 open
add target tcp port 80 open
bind $TARGET target
CONF
"$SD" -f "$T/a1.conf" --replay "$IN" --write "$T/out.pcap" -l "$T/conn.log" --seed 1 \
	--status "$T/status.json" 2> "$T/err" || { cat "$T/err"; fail "vigia-sensord exit status"; }

OPEN="(dst port 21 or dst port 22 or dst port 80)"
syn_open=$(tcpdump -nr "$IN" "dst host $TARGET and tcp[13] == 2 and $OPEN" 2>/dev/null | wc -l)
syn_all=$(tcpdump -nr "$IN" "dst host $TARGET and tcp[13] & 2 != 0" 2>/dev/null | wc -l)
syn_other=$((syn_all - syn_open))
out_all=$(tcpdump -nr "$T/out.pcap" 2>/dev/null | wc -l)
synack=$(tcpdump -nr "$T/out.pcap" "src host $TARGET and tcp[13] == 18" 2>/dev/null | wc -l)
rst=$(tcpdump -nr "$T/out.pcap" "src host $TARGET and tcp[13] == 20" 2>/dev/null | wc -l)
echo "in: $syn_open SYNs to open ports, $syn_other to others; out: $synack SYN-ACK, $rst RST/ACK, $out_all in all"
[ "$syn_open" -gt 0 ] && [ "$syn_other" -gt 1000 ] || fail "the capture is not the expected scan"
[ "$synack" -eq "$syn_open" ] && ok "a SYN-ACK for every SYN to 21/22/80" || fail "SYN-ACKs $synack != SYNs $syn_open"
[ "$rst" -eq "$syn_other" ] && ok "a RST/ACK for every other SYN" || fail "RSTs $rst != SYNs $syn_other"
[ "$out_all" -eq $((synack + rst)) ] && ok "nothing else sent" || fail "$out_all packets sent, expected $((synack + rst))"

# Each answer matches its SYN: ports swapped, ack = seq + 1.
tcpdump -Snr "$IN" "dst host $TARGET and tcp[13] == 2" 2>/dev/null |
	awk '{split($3,s,"."); split($5,d,"."); sub(":","",d[5]); for(i=1;i<=NF;i++) if($i=="seq") {q=$(i+1); sub(",","",q)}; printf "%s %s %.0f\n", s[5], d[5], q+1}' |
	sort > "$T/want"
tcpdump -Snr "$T/out.pcap" "src host $TARGET" 2>/dev/null |
	awk '{split($3,s,"."); split($5,d,"."); sub(":","",d[5]); for(i=1;i<=NF;i++) if($i=="ack") {a=$(i+1); sub(",","",a)}; print d[5], s[5], a}' |
	sort > "$T/got"
cmp -s "$T/want" "$T/got" && ok "every reply answers its SYN (ports, ack = seq + 1)" ||
	{ diff "$T/want" "$T/got" | head; fail "replies do not match the SYNs"; }

bad=$(tcpdump -vvnr "$T/out.pcap" 2>/dev/null | grep -c incorrect || true)
[ "$bad" -eq 0 ] && ok "tcpdump finds every checksum correct" || fail "$bad incorrect checksums"
ttl=$(tcpdump -vnr "$T/out.pcap" 2>/dev/null | grep -c 'ttl 64,' || true)
[ "$ttl" -eq "$out_all" ] && ok "replies carry the Linux template's TTL 64" || fail "$ttl of $out_all with TTL 64"
grep -q '"packets_sent": '"$out_all" "$T/status.json" && ok "status.json counts what was sent" ||
	fail "status.json: $(cat "$T/status.json")"
finish
