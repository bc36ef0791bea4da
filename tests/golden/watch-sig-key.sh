#!/bin/bash
# Issue 9: signature/incident keys ("sig") and holder-ASN keys ("asn") in
# `vigia watch`.  A background day and, a day later, an outbreak of 8
# sources on three sensors are ingested; the outbreak's rows are copied to
# the key sig "Worm-X" (a name no rule has: the background's own
# signatures, e.g. Slammer, are fed by ingest and are not new) exactly as
# ingest's incident feed (ew_acc_sig) would write them for those packets.
# Watch raises one alert for the signature, new, rendered as "sig:Worm-X"
# in the JSON line and in the mail a member decrypts.  The outbreak's sources lie in 177.32.0.0/14
# (LACNIC holder 99822, AS28351 and AS28573): when ingest feeds the ASN
# key, its row is AS28351, the lowest.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/watch-lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq missing"; exit 77; }
PORT=61998
for s in 1 2 3; do
	mkdir -p "$T/arch/s$s/2026/11/01" "$T/arch/s$s/2026/11/02"
	"$GEN" --day 2026-11-01 --packets 3000 --sources 100 --seed $((s * 7)) --quiet \
		--out "$T/arch/s$s/2026/11/01/00.pcap"
done
python3 - "$T/arch" "$PORT" <<'PY'
import struct, sys
arch, port = sys.argv[1], int(sys.argv[2])
t0 = 1793620800  # 2026-11-02T12:00:00Z
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def udp(src, dst, sport, dport):
    u = struct.pack('!HHHH', sport, dport, 8 + 4, 0) + b'\x04\x01\x01\x01'
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(u), 1, 0, 64, 17, 0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return b'\0\1\2\3\4\5\0\6\7\x08\x09\x0a\x08\x00' + ip + u
nets = {1: (192, 0, 2), 2: (198, 51, 100), 3: (203, 0, 113)}
for s in (1, 2, 3):
    with open('%s/s%d/2026/11/02/outbreak.pcap' % (arch, s), 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        recs = [(t0 + i * 30 + j * 3 + s, udp((177, 33, 7, i + 1), nets[s] + (10,), 40000 + i, port))
                for i in range(8) for j in range(3)]
        for t, p in sorted(recs):
            f.write(struct.pack('<IIII', t, 0, len(p), len(p)) + p)
PY
"$VIGIA" ingest --quiet --no-p0f --archive "$T/arch" --db "$T/v.db" "${RIR_ARGS[@]}" ||
	fail "ingest exit $?"
q() { python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); r = c.execute(sys.argv[2]).fetchone(); c.commit(); print(r[0] if r else "")' "$T/v.db" "$1"; }
ni=$(q "select count(*) from ew_bin where kind = 'sig'")
[ "$ni" -gt 0 ] && ok "ingest fed $ni sig rows of the rules' incidents" || fail "ingest fed no sig row"
q "insert into ew_bin select 'sig', 'Worm-X', start, packets, sketch, sensors, nets from ew_bin
   where kind = 'port' and key = '$PORT/udp'" >/dev/null
n=$(q "select count(*) from ew_bin where kind = 'sig' and key = 'Worm-X'")
[ "$n" -ge 1 ] && ok "the outbreak's bins as sig Worm-X ($n)" || fail "$n sig rows"
# The ASN key: the holder's lowest AS.
k=$(q "select group_concat(distinct key) from ew_bin where kind = 'asn' and start >= 1793620800")
[ "$k" = AS28351 ] && ok "the outbreak's holder ASN is AS28351" || fail "asn keys '$k'"

# Mail: the alliance's and a member's keys in a temporary GNUPGHOME.
watch_mail_setup

"$VIGIA" watch --db "$T/v.db" --alerts "$T/alerts.jsonl" --no-syslog --catch-up 48 \
	"${MAIL_ARGS[@]}" || fail "watch failed"
cat "$T/alerts.jsonl"
ns=$(jq -s 'map(select(.event == "alert" and .kind == "sig" and .key == "Worm-X")) | length' "$T/alerts.jsonl")
[ "$ns" = 1 ] && ok "exactly one alert for sig Worm-X" || fail "$ns Worm-X alerts"
A=$(jq -c 'select(.event == "alert" and .kind == "sig" and .key == "Worm-X")' "$T/alerts.jsonl" | head -n 1)
check() { # description jq-expression
	if [ "$(jq -r "$2" <<<"$A")" = true ]; then ok "$1"; else fail "$1: $A"; fi
}
check "key and label" '.key == "Worm-X" and .label == "sig:Worm-X"'
check "condition: a new signature" '.conditions | index("new") != null'
check "began at the outbreak's first bin" '.began == "2026-11-02T12:00:00Z"'
check "sources, sensors and first network" '.sources == 8 and .sensors == 3 and (.networks | index("177.33.0.0/16") != null)'

if [ ${#MAIL_ARGS[@]} -gt 0 ]; then
	found=0
	for m in "$T"/outbox/new/*; do
		sed -n '/^-----BEGIN PGP MESSAGE-----/,/^-----END PGP MESSAGE-----/p' "$m" |
			tr -d '\r' >"$T/msg.asc"
		gpg --batch --decrypt "$T/msg.asc" >"$T/plain.txt" 2>/dev/null || continue
		grep -q 'vigia early warning: sig:Worm-X (new' "$T/plain.txt" && found=$((found + 1))
	done
	[ "$found" = 1 ] && ok "one mail reads 'sig:Worm-X (new...' once decrypted" ||
		fail "$found mails name sig:Worm-X"
	grep -l 'Worm-X' "$T"/outbox/new/* >/dev/null 2>&1 && fail "the name shows in clear" ||
		ok "the name is not in clear"
fi
finish
