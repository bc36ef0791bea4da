#!/bin/bash
# The SMTP server refusing or dropping the connection midway (issue 7,
# acceptance 4): retries within the run, and exactly-once delivery over
# reruns.
# 1. Nothing listens: every member fails, nothing is recorded; the rerun
#    sends all three.
# 2. A proxy in front of smtp-sink drops chosen connections after 2000
#    bytes from the client, in the middle of DATA: with 2 attempts per
#    message, member one fails twice (not recorded), member two's first
#    attempt is dropped and its retry goes through.  The rerun sends only
#    member one's.  Each member ends with exactly one complete message.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/summary-lib.sh"

count_complete() { # dir address: messages whose encrypted part is whole
	local n=0 f
	for f in $(msgs_for "$1" "$2"); do
		grep -q -- "-----END PGP MESSAGE-----" "$f" && gpg --batch --decrypt "$f" >/dev/null 2>&1 &&
			n=$((n + 1))
	done
	echo "$n"
}

# 1. connection refused
DEAD=$(free_port)
write_config "smtp://127.0.0.1:$DEAD" 2
set +e
"$VIGIA" summary --config "$T/vigia.conf" --day "$DAY" >"$T/out1" 2>"$T/err1"
rc=$?
set -e
[ "$rc" -eq 2 ] && [ "$(grep -c 'NOT sent' "$T/err1")" -eq 3 ] &&
	grep -q "attempt 1 of 2 failed" "$T/err1" &&
	ok "refused: all three reported not sent after a retry (exit 2)" ||
	{ cat "$T/out1" "$T/err1"; fail "refused: exit $rc"; }
[ "$(sqlite3 "$T/vigia.db" 'SELECT COUNT(*) FROM mail_sent')" -eq 0 ] &&
	ok "refused: nothing recorded as sent" || fail "refused: sent-log not empty"
P=$(free_port)
start_sink "$T/sink1" "$P"
write_config "smtp://127.0.0.1:$P" 2
"$VIGIA" summary --config "$T/vigia.conf" --day "$DAY" >"$T/out2" 2>"$T/err2" &&
	[ "$(grep -c '^sent ' "$T/out2")" -eq 3 ] && ok "rerun with a server: all three sent" ||
	{ cat "$T/out2" "$T/err2"; fail "rerun after refusal"; }
for a in cert@one.test csirt@two.test soc@three.test; do
	[ "$(count_complete "$T/sink1" "$a")" -eq 1 ] || fail "refused then rerun: $a has not exactly one message"
done
stop_sink
ok "refused then rerun: one message each"

# 2. dropped midway, on a fresh database day (the same day, another sent-log)
sqlite3 "$T/vigia.db" "DELETE FROM mail_sent"
Q=$(free_port)
start_sink "$T/sink2" "$Q"
P=$(free_port)
cat >"$T/proxy.py" <<'PY'
# A TCP proxy that cuts chosen connections (1-based numbers) after the
# client has sent N bytes.  Stops by itself after 120 s.
import socket, sys, threading, time
listen, target, cut, n = int(sys.argv[1]), int(sys.argv[2]), set(map(int, sys.argv[3].split(","))), int(sys.argv[4])
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen)); srv.listen(8); srv.settimeout(1)
log = open(sys.argv[5], "a")
def pipe(a, b, limit, done):
    sent = 0
    try:
        while True:
            d = a.recv(4096)
            if not d: break
            if limit is not None and sent + len(d) >= limit:
                b.sendall(d[:limit - sent]); break
            b.sendall(d); sent += len(d)
    except OSError: pass
    done.set()
def handle(c, k):
    s = socket.create_connection(("127.0.0.1", target))
    done = threading.Event()
    threading.Thread(target=pipe, args=(c, s, n if k in cut else None, done), daemon=True).start()
    threading.Thread(target=pipe, args=(s, c, None, done), daemon=True).start()
    done.wait(60)
    for x in (c, s):
        try: x.shutdown(socket.SHUT_RDWR)
        except OSError: pass
        x.close()
    log.write("conn %d %s\n" % (k, "cut" if k in cut else "whole")); log.flush()
k, end = 0, time.time() + 120
while time.time() < end:
    try: c, _ = srv.accept()
    except socket.timeout: continue
    k += 1
    threading.Thread(target=handle, args=(c, k), daemon=True).start()
PY
python3 "$T/proxy.py" "$P" "$Q" 2,3,4 2000 "$T/proxy.log" &
PROXY_PID=$!
# the readiness probe below is connection 1; then one: 2 (cut), 3 (cut);
# two: 4 (cut), 5; three: 6
for _ in $(seq 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1',$P),1)" 2>/dev/null && break
	sleep 0.1
done
write_config "smtp://127.0.0.1:$P" 2
set +e
"$VIGIA" summary --config "$T/vigia.conf" --day "$DAY" >"$T/out3" 2>"$T/err3"
rc=$?
set -e
cat "$T/out3" "$T/err3" "$T/proxy.log"
sent=$(grep -c '^sent ' "$T/out3" || true)
notsent=$(grep -c 'NOT sent' "$T/err3" || true)
[ "$rc" -eq 2 ] && [ "$sent" -eq 2 ] && [ "$notsent" -eq 1 ] &&
	ok "dropped midway: one member failed after 2 attempts, two sent (one on its retry)" ||
	fail "dropped midway: exit $rc, $sent sent, $notsent not sent"
grep -q "attempt 1 of 2 failed" "$T/err3" && ok "dropped midway: the run retried" ||
	fail "no retry reported"
recorded=$(sqlite3 "$T/vigia.db" 'SELECT COUNT(*) FROM mail_sent')
[ "$recorded" -eq 2 ] && ok "dropped midway: two recorded in the sent-log" ||
	fail "dropped midway: $recorded recorded"
"$VIGIA" summary --config "$T/vigia.conf" --day "$DAY" >"$T/out4" 2>"$T/err4" ||
	{ cat "$T/out4" "$T/err4"; fail "rerun after drops failed"; }
cat "$T/out4" "$T/proxy.log"
[ "$(grep -c '^sent ' "$T/out4")" -eq 1 ] && [ "$(grep -c '^already-sent ' "$T/out4")" -eq 2 ] &&
	ok "rerun: only the failed member's message is sent" || fail "rerun: $(cat "$T/out4")"
for a in cert@one.test csirt@two.test soc@three.test; do
	n=$(count_complete "$T/sink2" "$a")
	[ "$n" -eq 1 ] && ok "exactly one complete message for $a" || fail "$a: $n complete messages"
done
kill "$PROXY_PID" 2>/dev/null || true
wait "$PROXY_PID" 2>/dev/null || true
PROXY_PID=""
stop_sink
finish
