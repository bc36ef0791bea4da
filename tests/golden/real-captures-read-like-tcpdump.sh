#!/bin/bash
# Acceptance 4 (issue 2): every real capture is read without error, the
# VLAN, DLT_NULL and GRE/ERSPAN ones included, and the frame count equals
# `tcpdump -r FILE | wc -l`.  Compressed copies read the same.
source "$(dirname "$0")/lib.sh"

n=0
for f in "$D"/pcaps/*.pcap; do
	name=$(basename "$f")
	want=$(tcpdump -nr "$f" 2>/dev/null | wc -l)
	rc=0
	"$VIGIA" analyze --quiet --json "$T/$name.json" "$f" 2> "$T/$name.err" || rc=$?
	[ "$rc" -eq 0 ] || fail "$name: exit status $rc: $(cat "$T/$name.err")"
	got=$(jq '.input.frames' "$T/$name.json")
	bad=$(jq '.input.bad + .input.unsupported + .input.files_bad' "$T/$name.json")
	[ "$got" = "$want" ] && [ "$bad" = 0 ] && ok "$name: $got frames, as tcpdump" \
		|| fail "$name: vigia $got frames ($bad bad/unsupported), tcpdump $want"
	n=$((n + 1))
done
[ "$n" -ge 15 ] || fail "only $n captures found in $D/pcaps"

# Specific link layers and tunnels decode to what they carry.
j="$T/bug-5437-02_mirai_jaws_gre-erspan.pcap.json"
[ "$(jq '.categories.tcp_port_packets.top[] | select(.key == "80") | .packets' "$j")" -gt 0 ] \
	&& ok "Mirai GRE/ERSPAN: inner TCP to port 80 counted" || fail "Mirai GRE/ERSPAN inner port 80 not counted"
j="$T/connect-with-header.pcap.json"
[ "$(jq '.packets' "$j")" = "$(jq '.input.frames' "$j")" ] \
	&& ok "DLT_NULL: every frame is an IP packet" || fail "DLT_NULL frames not all decoded"
j="$T/tcp_0_1000_20190821.pcap.json"
[ "$(jq '.protocols.tcp' "$j")" -ge 1000 ] \
	&& ok "802.1Q masscan capture: $(jq '.protocols.tcp' "$j") TCP packets" || fail "VLAN-tagged TCP not decoded"

# A whole directory, and gzip/zstd copies, give the same totals.
"$VIGIA" analyze --quiet --json "$T/dir.json" "$D/pcaps"
mkdir "$T/z"
for f in "$D"/pcaps/*.pcap; do
	b=$(basename "$f")
	case $((RANDOM % 2)) in
	0) gzip -c "$f" > "$T/z/$b.gz" ;;
	*) zstd -q -c "$f" > "$T/z/$b.zst" ;;
	esac
done
"$VIGIA" analyze --quiet --json "$T/z.json" "$T/z"
for k in .input.frames .packets .bytes; do
	a=$(jq "$k" "$T/dir.json"); b=$(jq "$k" "$T/z.json")
	[ "$a" = "$b" ] && ok "compressed copies: $k = $a" || fail "compressed copies: $k $b != $a"
done
finish
