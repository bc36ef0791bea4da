#!/bin/bash
# Bad input (issue 2): a truncated capture, a garbage file, a missing file
# and a corrupt compressed file are each reported with the file name and
# byte offset; analysis goes on with the rest; the exit status is 2;
# nothing crashes (this runs under ASan+UBSan).
source "$(dirname "$0")/lib.sh"

good="$D/pcaps/synscan.pcap"
size=$(stat -c %s "$good")
head -c $((size - 30)) "$good" > "$T/truncated.pcap"
head -c 5000 /dev/urandom > "$T/garbage.pcap"
zstd -q -c "$good" > "$T/whole.pcap.zst"
head -c 3000 "$T/whole.pcap.zst" > "$T/cut.pcap.zst"

rc=0
"$VIGIA" analyze --quiet --json "$T/a.json" "$T/truncated.pcap" "$T/garbage.pcap" \
	"$T/cut.pcap.zst" "$good" 2> "$T/err" || rc=$?
cat "$T/err"
[ "$rc" -eq 2 ] && ok "exit status 2" || fail "exit status $rc, expected 2"
grep -q "truncated.pcap.*offset [0-9]" "$T/err" && ok "truncated file named with offset" || fail "no offset for the truncated file"
grep -q "garbage.pcap" "$T/err" && ok "garbage file named" || fail "garbage file not named"
grep -q "cut.pcap.zst" "$T/err" && ok "cut zstd file named" || fail "cut zstd file not named"
# The good file and the readable part of the truncated one are counted.
want=$(tcpdump -nr "$good" 2>/dev/null | wc -l)
got=$(jq .input.frames "$T/a.json")
[ "$got" -ge "$want" ] && ok "analysis went on: $got frames counted" || fail "only $got frames counted"
[ "$(jq .input.files_bad "$T/a.json")" -ge 3 ] && ok "3 bad files counted" || fail "bad files not counted"

# A missing file among good ones: reported, the rest analysed, status 2.
rc=0
"$VIGIA" analyze --quiet --json "$T/m.json" "$T/does-not-exist.pcap" "$good" 2> "$T/err2" || rc=$?
[ "$rc" -eq 2 ] && grep -q "does-not-exist.pcap" "$T/err2" && ok "missing file reported" || fail "missing file: rc $rc: $(cat "$T/err2")"
[ "$(jq .input.frames "$T/m.json" 2>/dev/null)" = "$want" ] && ok "good file analysed despite missing one" || fail "good file not analysed after missing one"

# A damaged packet inside a good file: header claims more than captured.
python3 - "$good" "$T/badpkt.pcap" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], 'rb').read())
# First record starts at 24; its frame at 40: Ethernet(14) + IPv4 header.
# Set the IPv4 IHL to 2 (8 bytes): an impossible header length.
data[40 + 14] = 0x42
open(sys.argv[2], 'wb').write(data)
PY
rc=0
"$VIGIA" analyze --quiet --json "$T/b.json" "$T/badpkt.pcap" 2> "$T/err3" || rc=$?
[ "$rc" -eq 2 ] && grep -q "badpkt.pcap: byte offset 54" "$T/err3" && ok "malformed packet reported at byte offset 54" \
	|| fail "malformed packet: rc $rc: $(cat "$T/err3")"
[ "$(jq .input.bad "$T/b.json")" = 1 ] && [ "$(jq .input.frames "$T/b.json")" = "$want" ] \
	&& ok "one bad packet, the rest counted" || fail "bad packet accounting wrong"

# Bad option values are usage errors, not crashes.
rc=0; "$VIGIA" analyze --honeynet 300.1.2.0/24 "$good" 2> "$T/err4" || rc=$?
[ "$rc" -eq 1 ] && grep -q "300.1.2.0" "$T/err4" && ok "bad --honeynet rejected" || fail "bad --honeynet: rc $rc"
printf '2|lacnic|20240104|3|19870101|20240103|-0300\nlacnic|BR|ipv4|200.0.0.0|abc|20000101|allocated\n' > "$T/bad-rir"
rc=0; "$VIGIA" analyze --rir "$T/bad-rir" "$good" 2> "$T/err5" || rc=$?
[ "$rc" -eq 3 ] && grep -q "bad-rir.*line 2" "$T/err5" && ok "bad RIR file: file and line named" || fail "bad RIR: rc $rc: $(cat "$T/err5")"
finish
