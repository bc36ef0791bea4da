#!/bin/bash
# Issue 3, Honeyd-style external scripts, live: nc against script ports of
# vigia-sensord in a network namespace.  The TCP script greets with
# Honeyd's environment, echoes a line and exits, and the sensor closes the
# connection after its output; its stderr reaches the service log; a
# script that sleeps is killed at the wall-clock limit and its connection
# closed; a UDP script's reply is cut to the request's size.
. "$(dirname "$0")/lib.sh"
need_root_and_tools nc timeout

cat >"$T/echo.sh" <<'SH'
echo "HELLO $HONEYD_IP_SRC $HONEYD_DST_PORT"
echo "started for $HONEYD_IP_SRC" >&2
read line
echo "ECHO $line"
SH
printf 'echo sleeping\nexec sleep 30\n' >"$T/sleep.sh"
cat >"$T/udp.sh" <<'SH'
cat >/dev/null
head -c 3000 /dev/zero | tr '\0' U
SH
chmod 644 "$T"/*.sh

cat >"$T/honeyd.conf" <<CONF
create web
set web default tcp action closed
add web tcp port 7 "sh echo.sh"
add web tcp port 8 "sh sleep.sh"
add web udp port 53 "sh udp.sh"
bind $NET.10 web
vigia script-time 2
CONF

netns_setup
start_sensord "$T/honeyd.conf" -s "$T/svc.log"

# --- a dialogue: banner, echo, closed by the sensor ---------------------------
# bash's /dev/tcp keeps our side open; cat ends only when the sensor's FIN
# arrives (or at the timeout).
start=$(date +%s.%N)
A timeout 6 bash -c "exec 3<>/dev/tcp/$NET.10/7; sleep 0.5; echo 'knock knock' >&3; cat <&3" \
	>"$T/echo.out" 2>&1 || true
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
cat "$T/echo.out"
grep -q "^HELLO 198.18.0.1 7$" "$T/echo.out" && ok "banner with HONEYD_IP_SRC and HONEYD_DST_PORT" ||
	fail "no banner: $(od -c "$T/echo.out" | head -3)"
grep -q "^ECHO knock knock$" "$T/echo.out" && ok "the line sent is echoed" || fail "no echo"
awk -v t="$took" 'BEGIN { exit !(t < 4) }' &&
	ok "the sensor closed the connection when the script exited (${took}s)" ||
	fail "the connection stayed open ${took}s"

# --- the wall-clock limit --------------------------------------------------------
start=$(date +%s.%N)
A timeout 8 bash -c "exec 3<>/dev/tcp/$NET.10/8; cat <&3" >"$T/sleep.out" 2>&1 || true
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
grep -q sleeping "$T/sleep.out" && ok "the sleeping script answered" || fail "no answer from sleep.sh"
awk -v t="$took" 'BEGIN { exit !(t >= 1.8 && t < 5) }' &&
	ok "killed at the 2 s wall-clock limit, connection closed (${took}s)" ||
	fail "the sleeping script's connection lasted ${took}s"

# --- UDP: no amplification -------------------------------------------------------------
printf 'seventeen bytes!!' | A nc -u -w 2 "$NET.10" 53 >"$T/udp.out" 2>&1 || true
n=$(wc -c <"$T/udp.out")
[ "$n" -eq 17 ] && grep -q '^UUUU' "$T/udp.out" && ok "UDP reply cut to the request's 17 bytes" ||
	fail "UDP reply of $n bytes: $(head -c 40 "$T/udp.out")"

sleep 1
stop_sensord
grep -q "198.18.0.1 [0-9]* $NET.10 7: |started for 198.18.0.1|" "$T/svc.log" &&
	ok "the script's stderr is in the service log" || { cat "$T/svc.log"; fail "stderr not logged"; }
grep -q "wall-clock limit of 2 s" "$T/svc.log" && ok "the kill is in the service log" ||
	fail "kill not logged"
grep -q '"started": 3' "$T/spool/status.json" && grep -q '"timeouts": 1' "$T/spool/status.json" &&
	grep -q '"udp_truncated": 1' "$T/spool/status.json" && ok "status.json counts the scripts" ||
	fail "status.json: $(grep -A9 '"scripts"' "$T/spool/status.json")"
finish
