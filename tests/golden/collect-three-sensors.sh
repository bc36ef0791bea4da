#!/bin/bash
# Issue 5, acceptance 1: three simulated sensors (own sshd, host key,
# gateway key, spool from vigia-sensord --replay) are collected; the
# archive holds every completed file byte for byte, never a .part, and a
# second run fetches nothing.  The sensors' manifests then say "archived".
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sensors-lib.sh"
sensors_init
P=$((22000 + RANDOM % 500))
make_spool "$T/spool-a" "$D/pcaps/sshguess.pcap"
make_spool "$T/spool-b" "$D/pcaps/bruteforce.pcap" "$D/pcaps/telnet.pcap"
make_spool "$T/spool-c" "$D/pcaps/synscan.pcap" "$D/pcaps/tcp_0_1000_20190821.pcap"
# a file being written: listed nowhere, must never be taken
cp "$T/spool-a/pcap/$(ls "$T/spool-a/pcap" | head -1)" "$T/spool-a/pcap/29991231T235900Z.pcap.part"
spool_perms "$T/spool-a"
start_sensor a $P "$T/spool-a"
start_sensor b $((P + 1)) "$T/spool-b"
start_sensor c $((P + 2)) "$T/spool-c"
add_sensor_config a 1 $P host-key
add_sensor_config b 2 $((P + 1)) host-key
add_sensor_config c 3 $((P + 2)) known-hosts

for s in a b c; do
	n=$(wc -l < "$T/spool-$s/MANIFEST")
	[ "$n" -ge 2 ] || fail "spool $s has only $n completed files (rotation too coarse?)"
done

if "$VIGIA" collect --config "$T/vigia.conf" > "$T/out1" 2> "$T/err1"; then
	ok "first collect exits 0"
else
	fail "first collect exit status $?"; cat "$T/out1" "$T/err1"
fi
cat "$T/out1"
for s in a b c; do
	archive_matches_spool $s "$T/spool-$s" && ok "sensor $s: archive equals the spool" \
		|| fail "sensor $s: archive differs"
	grep -q ' new$' "$T/spool-$s/MANIFEST" && fail "sensor $s: manifest still has new files after ack" \
		|| ok "sensor $s: every file acked (archived in the manifest)"
done
find "$T/archive" -name '*.part*' | grep -q . && fail "a .part file reached the archive" \
	|| ok "no .part file in the archive"
n=$(find "$T/archive" -name '*.pcap.zst' | wc -l)
m=$(cat "$T"/spool-?/MANIFEST | wc -l)
[ "$n" -eq "$m" ] && ok "$n files archived = $m manifest lines" || fail "$n archived, $m listed"

"$VIGIA" collect --config "$T/vigia.conf" > "$T/out2" 2>&1 || fail "second collect failed"
fetched=$(awk '$1 ~ /^[abc]$/ {s += $5} END {print s + 0}' "$T/out2")
[ "$fetched" -eq 0 ] && ok "second run fetches nothing" || { fail "second run fetched $fetched"; cat "$T/out2"; }

# the gateway refuses to serve the file being written
if ssh -i "$T/central_key" -p $P -o BatchMode=yes -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile=/dev/null -l vigia-test 127.0.0.1 \
	"rsync --server --sender -te.LsfxCIvu . pcap/29991231T235900Z.pcap.part" </dev/null >/dev/null 2>&1; then
	fail "gateway served a .part file"
else
	ok "gateway refuses a .part file"
fi
finish
