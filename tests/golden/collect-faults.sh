#!/bin/bash
# Issue 5, acceptance 2: faults during collection, each with nothing lost
# and nothing counted twice: a sensor down, a transfer cut in the middle, a
# corrupted file (hash mismatch), a full disk on the central side, and the
# gateway key used for forbidden commands.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sensors-lib.sh"
sensors_init
P=$((22500 + RANDOM % 400))

# A spool of incompressible files, listed like sensord lists them.
fake_spool() {
	local dir=$1 n=$2 kib=$3 i name
	mkdir -p "$dir/pcap"
	: > "$dir/MANIFEST"
	for i in $(seq "$n"); do
		name=$(printf 'pcap/20240101T%02d0000Z.pcap' "$i")
		head -c $((kib * 1024)) /dev/urandom > "$dir/$name"
		echo "$(sha256sum "$dir/$name" | cut -d' ' -f1) $(stat -c %s "$dir/$name") $name 2024-01-01T$(printf %02d "$i"):00:00Z new" >> "$dir/MANIFEST"
	done
	spool_perms "$dir"
}
collect() { "$VIGIA" collect --config "$T/vigia.conf" "$@" > "$T/out" 2>&1; }
row() { awk -v s="$1" '$1 == s' "$T/out"; }

make_spool "$T/spool-up" "$D/pcaps/sshguess.pcap"
make_spool "$T/spool-down" "$D/pcaps/telnet.pcap"
start_sensor up $P "$T/spool-up"
start_sensor down $((P + 1)) "$T/spool-down"
add_sensor_config up 1 $P
add_sensor_config down 2 $((P + 1))

# --- a sensor down ---
stop_sensor down
if collect; then fail "collect with a sensor down exits 0"; else ok "collect with a sensor down exits $?"; fi
row down | grep -q FAIL && row down | grep -qi 'manifest' && ok "the down sensor is reported: $(row down | cut -c1-120)" \
	|| { fail "down sensor not reported"; cat "$T/out"; }
row up | grep -q ' ok ' && archive_matches_spool up "$T/spool-up" && ok "the other sensor is collected" \
	|| fail "the other sensor was not collected"
start_sensor down $((P + 1)) "$T/spool-down"
collect && archive_matches_spool down "$T/spool-down" && ok "back up: collected on the next run" \
	|| { fail "not collected after coming back"; cat "$T/out"; }

# --- a transfer cut in the middle ---
fake_spool "$T/spool-big" 1 6144
start_sensor big $((P + 2)) "$T/spool-big"
add_sensor_config big 3 $((P + 2))
"$VIGIA" collect --config "$T/vigia.conf" --sensor big --bwlimit 1000 > "$T/out" 2>&1 &
vpid=$!
sleep 2.5
# cut the connection: the ssh under rsync under the worker under vigia
descend() { local p; for p in $(pgrep -P "$1"); do echo "$p"; descend "$p"; done; }
cut=0
for p in $(descend $vpid); do
	[ "$(cat /proc/$p/comm 2>/dev/null)" = ssh ] && { kill -9 "$p"; cut=1; }
done
wait $vpid && fail "a cut transfer exits 0" || ok "a cut transfer is reported (exit $?)"
[ $cut -eq 1 ] || fail "no ssh process found to cut"
part=$(find "$T/archive/.staging/big" -type f -path '*.rsync-partial*' -printf '%s\n' | head -1)
[ -n "$part" ] && [ "$part" -gt 0 ] && [ "$part" -lt $((6144 * 1024)) ] \
	&& ok "partial transfer kept for resumption ($part bytes)" || fail "no partial file kept (${part:-none})"
[ -z "$(find "$T/archive/big" -name '*.zst')" ] && ok "nothing placed from the cut transfer" \
	|| fail "a cut transfer placed a file"
grep -q ' new$' "$T/spool-big/MANIFEST" && ok "the sensor still holds it as new" || fail "acked a cut transfer"
collect --sensor big && archive_matches_spool big "$T/spool-big" && ok "resumed and complete on the next run" \
	|| { fail "not complete after resumption"; cat "$T/out"; }

# --- a corrupted file ---
fake_spool "$T/spool-bad" 3 64
start_sensor bad $((P + 3)) "$T/spool-bad"
add_sensor_config bad 4 $((P + 3))
f="$T/spool-bad/pcap/20240101T020000Z.pcap"
cp "$f" "$T/good.pcap"
printf 'X' | dd of="$f" bs=1 seek=1000 conv=notrunc status=none
if collect --sensor bad; then fail "a hash mismatch exits 0"; else ok "a hash mismatch exits $?"; fi
grep -q 'does not match' "$T/out" && ok "mismatch reported" || { fail "mismatch not reported"; cat "$T/out"; }
q=$(find "$T/archive/.quarantine/bad" -type f | wc -l)
[ "$q" -eq 1 ] && ok "the bad file is quarantined" || fail "$q files in quarantine"
[ ! -e "$T/archive/bad/2024/01/01/20240101T020000Z.pcap.zst" ] && ok "the bad file is not archived" \
	|| fail "the bad file was archived"
grep -q '20240101T020000Z.pcap 2024-01-01T02:00:00Z new' "$T/spool-bad/MANIFEST" && ok "the bad file is not acked" \
	|| fail "the bad file was acked"
grep -c . "$T/archive/bad/.collected" | grep -qx 2 && ok "the two good files are recorded" \
	|| fail "collected state: $(cat "$T/archive/bad/.collected")"
cp "$T/good.pcap" "$f"
collect --sensor bad && archive_matches_spool bad "$T/spool-bad" && ok "re-fetched once repaired" \
	|| { fail "not re-fetched"; cat "$T/out"; }
grep -c . "$T/archive/bad/.collected" | grep -qx 3 && ok "recorded once each" || fail "recorded twice?"

# --- a full disk on the central side ---
fake_spool "$T/spool-full" 4 300
start_sensor full $((P + 4)) "$T/spool-full"
mkdir -p "$T/small"
mount -t tmpfs -o size=1m tmpfs "$T/small" && MOUNTS+=("$T/small") || { echo "SKIP full disk: cannot mount"; }
if mountpoint -q "$T/small"; then
	sed "s|^archive .*|archive $T/small|; s|^database .*|database $T/small.db|" "$T/vigia.conf" > "$T/small.conf"
	add_sensor_config full 5 $((P + 4))
	sed -n '/^sensor full {/,/^}/p' "$T/vigia.conf" >> "$T/small.conf"
	if "$VIGIA" collect --config "$T/small.conf" --sensor full > "$T/out" 2>&1; then
		fail "collect onto a full disk exits 0"
	else
		ok "collect onto a full disk exits $?"
	fi
	grep -qi 'space' "$T/out" && ok "ENOSPC reported: $(grep -io '[^;]*space[^;]*' "$T/out" | head -1 | cut -c1-100)" \
		|| { fail "ENOSPC not reported"; cat "$T/out"; }
	[ -z "$(find "$T/small" -name '.*.zst.*')" ] && ok "no half-placed temporary file" || fail "temporary files left"
	placed=$(find "$T/small/full" -name '*.zst' | wc -l)
	recorded=$(grep -c . "$T/small/full/.collected" 2>/dev/null || echo 0)
	newleft=$(grep -c ' new$' "$T/spool-full/MANIFEST")
	[ "$placed" -eq "$recorded" ] && [ $((placed + newleft)) -eq 4 ] \
		&& ok "placed $placed = recorded $recorded, $newleft still new on the sensor" \
		|| fail "placed $placed, recorded $recorded, $newleft new"
	for z in $(find "$T/small/full" -name '*.zst'); do
		b=$(basename "$z" .zst)
		zstd -dc "$z" | cmp -s - "$T/spool-full/pcap/$b" || fail "$b placed but different"
	done
	mount -o remount,size=64m "$T/small"
	"$VIGIA" collect --config "$T/small.conf" --sensor full > "$T/out" 2>&1 \
		&& ok "room again: the rest is collected" || { fail "not collected with room"; cat "$T/out"; }
	archive_matches_spool full "$T/spool-full" "$T/small" && ok "full: archive equals the spool" \
		|| fail "full: archive differs after the rerun"
	[ "$(grep -c . "$T/small/full/.collected")" -eq 4 ] && ok "each file recorded once" || fail "records: $(wc -l < "$T/small/full/.collected")"
fi

# --- the gateway key used for forbidden commands ---
gssh() { ssh -i "$T/central_key" -p $P -o BatchMode=yes -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -l vigia-test 127.0.0.1 "$@" </dev/null; }
n=0
for cmd in "" "id" "cat /etc/passwd" "sh -c id" "status; id" "status --x" \
	"rsync --server . pcap/" "rsync --server --sender -te.LsfxCIvu . /etc/passwd" \
	"rsync --server --sender -re.LsfxCIvu . pcap" "rsync --server --sender -te.LsfxCIvu --log-file=/tmp/x . MANIFEST" \
	"rsync --server --sender -ste.LsfxCIvu . MANIFEST" "rsync --server --sender -te.LsfxCIvu . ../spool-up/MANIFEST" \
	"ack ../../etc/passwd" "ack MANIFEST" "scp -f /etc/passwd" "internal-sftp"; do
	if out=$(gssh "$cmd" 2>&1); then
		fail "forbidden command allowed: '$cmd': $out"
	else
		n=$((n + 1))
	fi
done
ok "$n forbidden commands refused"
r=$(grep -c 'refused' "$T/sensor-up/gateway.log")
[ "$r" -ge $((n - 1)) ] && ok "refusals logged ($r lines)" || fail "only $r refusals logged"
grep -q 'refused.*cat /etc/passwd' "$T/sensor-up/gateway.log" && ok "the log names the command" \
	|| fail "log lacks the command"
gssh status | grep -q '"sensord"' && ok "status still allowed" || fail "status refused"
finish
