#!/bin/bash
# vigia notify (issue 8), end to end: national sources' contacts found
# (the alliance's table, then RDAP against a local server serving the real
# LACNIC answer), one message per contact through a real SMTP server
# (Postfix's smtp-sink), checked for content and for honeypot addresses;
# the history recorded; the next day, the same activity is not notified
# again, and the day after, grown activity is.
. "$(dirname "$0")/lib.sh"
SINK=/usr/sbin/smtp-sink
[ -x "$SINK" ] || { echo "SKIP: $SINK missing (Debian package postfix)"; exit 77; }
. "$(dirname "$0")/notify-lib.sh"
SINK_PID=""
cleanup() {
	[ -n "$SINK_PID" ] && { kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; }
	stop_registries
	rm -rf "$T"
}
trap cleanup EXIT
start_registries
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
mkdir -p "$T/mail"
"$SINK" -u "$(id -un)" -d "$T/mail/%M%S." "127.0.0.1:$PORT" 16 &
SINK_PID=$!
for _ in $(seq 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1',$PORT),1)" 2>/dev/null && break
	sleep 0.1
done
write_config "smtp://127.0.0.1:$PORT"
seed_db

"$VIGIA" notify --config "$T/vigia.conf" --day $DAY >"$T/out1" 2>"$T/err1" ||
	fail "notify failed: $(cat "$T/err1")"
n=$(find "$T/mail" -type f | wc -l)
[ "$n" -eq 2 ] && ok "two messages (two contacts)" || fail "$n messages: $(cat "$T/out1" "$T/err1")"
grep -q "contact 200.128.1.10 cert@rnp.test via alliance" "$T/out1" && ok "alliance table first" ||
	fail "alliance contact: $(cat "$T/out1")"
grep -q "contact 200.57.141.161 operacion.redes@TRIARA.COM via rdap" "$T/out1" && ok "RDAP contact" ||
	fail "RDAP contact: $(cat "$T/out1")"

python3 - "$T/mail" <<'PY' && ok "message content" || fail "message content"
import email, email.policy, glob, sys
msgs = {}
for p in glob.glob(sys.argv[1] + "/*"):
    m = email.message_from_binary_file(open(p, "rb"), policy=email.policy.default)
    msgs[m["To"]] = m
assert set(msgs) == {"cert@rnp.test", "operacion.redes@TRIARA.COM"}, list(msgs)
rnp = msgs["cert@rnp.test"].get_body().get_content()
mx = msgs["operacion.redes@TRIARA.COM"].get_body().get_content()
for m in msgs.values():
    assert m["Message-ID"] and m["From"] == "vigia@alliance.test" and m["Date"]
# one message groups both of the contact's sources and their incidents
assert "200.128.1.10" in rnp and "200.128.1.11" in rnp, rnp
assert "SQL Slammer worm propagation" in rnp and "SSH brute force" in rnp
assert "200.57.141.161" not in rnp and "200.128.1.10" not in mx
# times in UTC with the zone stated, port and protocol, honeypot tokens
assert "2026-11-01 10:00:00 UTC" in rnp and "1434/udp" in rnp and "22/tcp" in rnp
assert "hp-1.17" in rnp and "hp-2.9" in rnp
# guidance in both languages, per category
assert "Service Pack 3a" in rnp and "Isole a máquina" in rnp, rnp      # Slammer, en + pt
assert "fail2ban" in rnp and "Força bruta" in rnp                     # brute force
assert "http_access deny all" in mx and "Procura de proxies abertos" in mx
assert "Slammer" not in mx
# the leaked address in the stored excerpt came out as its token
assert "CONNECT hp-1.3:25" in mx, mx
PY

# every message, the feed and every log line, scanned for honeypot
# addresses in any textual form
"$VIGIA" export --config "$T/vigia.conf" --day $DAY --out "$T/mail/feed.csv" 2>"$T/err-export"
"$VIGIA" notify --config "$T/vigia.conf" --list >"$T/list1" 2>&1 || fail "notify --list failed"
mkdir "$T/scan"
cp "$T"/mail/* "$T/out1" "$T/err1" "$T/list1" "$T/err-export" "$T/scan/"
python3 - "$T/scan" <<'PY'
# the messages are quoted-printable: scan their decoded text as well
import email, email.policy, glob, sys
for p in glob.glob(sys.argv[1] + "/*"):
    try:
        m = email.message_from_binary_file(open(p, "rb"), policy=email.policy.default)
        b = m.get_body()
        if b is not None:
            open(p + ".decoded", "w").write(b.get_content())
    except Exception:
        pass
PY
python3 "$S/tests/golden/stats-scan-leaks.py" "$T/vigia.conf" "$T/scan" >"$T/leaks" &&
	ok "no honeypot address in messages, feed or logs" || fail "leaks: $(cat "$T/leaks")"
# ...and the scanner does see one when it is there
echo "CONNECT 192.0.2.3:25" >"$T/scan/planted"
python3 "$S/tests/golden/stats-scan-leaks.py" "$T/vigia.conf" "$T/scan" >/dev/null &&
	fail "the leak scanner missed a planted address"

# the history: one row per (source, category), with the Message-IDs
rows=$(wc -l <"$T/list1")
[ "$rows" -eq 3 ] && ok "history has 3 rows" || fail "history: $(cat "$T/list1")"
ids=$(awk '{print $NF}' "$T/list1" | sort -u | wc -l)
[ "$ids" -eq 2 ] && ok "two Message-IDs recorded" || fail "Message-IDs: $(cat "$T/list1")"
for f in "$T"/mail/*; do
	mid=$(grep -i -m1 '^Message-ID:' "$f" | awk '{print $2}' | tr -d '\r')
	grep -qF "$mid" "$T/list1" || fail "Message-ID $mid not in the history"
done
grep -q "2026-11-01 200.128.1.10 worm 10 cert@rnp.test alliance smtp" "$T/list1" &&
	ok "history row content" || fail "history row: $(cat "$T/list1")"

# the next day: the same activity, nothing new
before=$(find "$T/mail" -type f | wc -l)
"$VIGIA" notify --config "$T/vigia.conf" --day $DAY1 >"$T/out2" 2>"$T/err2" || fail "notify day 2: $(cat "$T/err2")"
after=$(find "$T/mail" -type f | wc -l)
[ "$after" -eq "$before" ] && ok "second day: not notified again" || fail "second day sent $((after - before))"
grep -q "3 already notified" "$T/err2" && ok "second day: 3 quiet" || fail "day 2: $(cat "$T/err2")"
# the day after: one source's brute force grew tenfold
"$VIGIA" notify --config "$T/vigia.conf" --day $DAY2 >"$T/out3" 2>"$T/err3" || fail "notify day 3: $(cat "$T/err3")"
after3=$(find "$T/mail" -type f | wc -l)
[ "$after3" -eq $((after + 1)) ] && ok "grown activity notified again" || fail "day 3: $(cat "$T/out3" "$T/err3")"
grep -q "sent cert@rnp.test .* (1 incidents)" "$T/out3" && ok "only the grown incident" || fail "day 3: $(cat "$T/out3")"
# registry answers came from the cache after the first day
q=$(grep -c "^rdap " "$T/registry.log" || true)
[ "$q" -eq 1 ] && ok "one RDAP query in three days (cache)" || fail "$q RDAP queries: $(cat "$T/registry.log")"
finish
