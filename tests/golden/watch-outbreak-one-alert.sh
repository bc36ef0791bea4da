#!/bin/bash
# Issue 9, acceptance 3: an outbreak on a port never seen before, hitting
# three sensors over a background of generated days, is ingested
# (`vigia ingest --archive --db`) and watched: exactly one alert (a JSON
# line) with its key, start, sources, sensors, first networks and day link,
# then its end; a second watch reports nothing again.  With GnuPG, the
# alert is also mailed (--mail --outbox) to a member, signed and encrypted,
# and the member decrypts it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/watch-lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
PORT=61999

# Background: two days on three sensors, each file its own seed.
n=0
for d in 2026-11-01 2026-11-02; do
	for s in 1 2 3; do
		n=$((n + 1))
		dir="$T/arch/s$s/${d//-//}"
		mkdir -p "$dir"
		"$GEN" --day "$d" --packets 20000 --sources 400 --seed $((n * 11)) --quiet \
			--out "$dir/00.pcap"
	done
done

# The outbreak: 40 sources from two /16s, 2026-11-02 from 12:00:00 UTC for
# 15 minutes, SYNs to port $PORT of every sensor's honeypots.
python3 - "$T/arch" "$PORT" <<'PY'
import struct, sys
arch, port = sys.argv[1], int(sys.argv[2])
t0 = 1793620800  # 2026-11-02T12:00:00Z
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def syn(src, dst, sport, dport):
    tcp = struct.pack('!HHIIBBHHH', sport, dport, 1, 0, 5 << 4, 0x02, 1024, 0, 0)
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return b'\0\1\2\3\4\5\0\6\7\x08\x09\x0a\x08\x00' + ip + tcp
for s in (1, 2, 3):
    with open('%s/s%d/2026/11/02/outbreak.pcap' % (arch, s), 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        recs = []
        for i in range(40):
            src = (45, 33, 7, i + 1) if i < 20 else (185, 220, 9, i + 1)
            for j in range(3):
                t = t0 + i * 20 + j * 2 + s
                recs.append((t, syn(src, (192, 0, 2, 10 + s), 40000 + i, port)))
        for t, p in sorted(recs):
            f.write(struct.pack('<IIII', t, 0, len(p), len(p)) + p)
PY

set +e
"$VIGIA" ingest --quiet --no-p0f --archive "$T/arch" --db "$T/v.db" "${RIR_ARGS[@]}"
rc=$?
set -e
[ $rc -eq 0 ] && ok "ingested" || fail "ingest exit $rc"

# The premise: the port is absent from the background.
seen=$(python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute(\"select count(*) from ew_bin where kind='port' and key=? and start < 1793620800\", (sys.argv[2]+'/tcp',)).fetchone()[0])" "$T/v.db" "$PORT")
[ "$seen" = 0 ] && ok "port $PORT/tcp absent before the outbreak" || fail "port seen $seen times before"

# Mail: the alliance's and a member's keys in a temporary GNUPGHOME.
watch_mail_setup

"$VIGIA" watch --db "$T/v.db" --alerts "$T/alerts.jsonl" --no-syslog \
	--base-url https://stats.example.org/ --catch-up 48 "${MAIL_ARGS[@]}" || fail "watch failed"
cat "$T/alerts.jsonl"
na=$(jq -s 'map(select(.event == "alert")) | length' "$T/alerts.jsonl")
[ "$na" = 1 ] && ok "exactly one alert" || fail "$na alerts"
A=$(jq -c 'select(.event == "alert")' "$T/alerts.jsonl" | head -n 1)
check() { # description jq-expression
	if [ "$(jq -r "$2" <<<"$A")" = true ]; then ok "$1"; else fail "$1: $A"; fi
}
check "key is the port" ".kind == \"port\" and .key == \"$PORT/tcp\""
check "condition: a new key" '.conditions | index("new") != null'
check "began at the first packet's bin" '.began == "2026-11-02T12:00:00Z"'
check "raised within two bins" '.raised_bin <= "2026-11-02T12:05:00Z"'
check "40 distinct sources on 3 sensors at most" '.sources <= 40 and .sources >= 5 and .sensors == 3'
check "first networks are the attackers'" '.networks | index("45.33.0.0/16") != null'
check "no honeypot network named" '[.networks[] | select(startswith("192.0.2."))] | length == 0'
check "link to the day page" '.link == "https://stats.example.org/day/2026-11-02/"'
ne=$(jq -s --argjson id "$(jq .id <<<"$A")" 'map(select(.event == "end" and .id == $id)) | length' "$T/alerts.jsonl")
[ "$ne" = 1 ] && ok "its end is reported once" || fail "$ne ends"
lines=$(wc -l <"$T/alerts.jsonl")

if [ ${#MAIL_ARGS[@]} -gt 0 ]; then
	mapfile -t M < <(grep -l '^Subject: \[vigia\] early-warning alert' "$T"/outbox/new/* 2>/dev/null)
	[ ${#M[@]} = 1 ] && ok "exactly one alert mail" || fail "${#M[@]} alert mails"
	if [ ${#M[@]} -ge 1 ]; then
		grep -q "multipart/encrypted" "${M[0]}" && ok "the mail is PGP/MIME encrypted" ||
			fail "not encrypted"
		grep -q "$PORT" "${M[0]}" && fail "the port shows in clear" || ok "nothing in clear"
		sed -n '/^-----BEGIN PGP MESSAGE-----/,/^-----END PGP MESSAGE-----/p' "${M[0]}" |
			tr -d '\r' >"$T/msg.asc"
		if gpg --batch --status-fd 3 --decrypt "$T/msg.asc" >"$T/plain.txt" 3>"$T/status" 2>/dev/null; then
			ok "the member decrypts it"
		else
			fail "cannot decrypt"
		fi
		grep -q "GOODSIG" "$T/status" && ok "signed by the alliance" || fail "no good signature"
		grep -q "$PORT/tcp" "$T/plain.txt" && ok "the alert is inside" || fail "no alert inside"
	fi
fi

"$VIGIA" watch --db "$T/v.db" --alerts "$T/alerts.jsonl" --no-syslog || fail "second watch failed"
[ "$(wc -l <"$T/alerts.jsonl")" = "$lines" ] && ok "a second watch reports nothing again" ||
	fail "the second watch added lines"

finish
