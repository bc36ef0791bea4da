#!/bin/bash
# Issue 4, acceptance 7 and the hardening/daemon duties, live in network
# namespaces:
#   - the process that parses packets runs as a non-root uid with every
#     capability set empty, no_new_privs, under seccomp, chrooted;
#   - a forbidden system call (socket()) kills it under the filter;
#   - amplification: a flood to an amplifying UDP service from one source
#     gets a capped number of replies, counted, and a second source is
#     still served; the per-source packet cap likewise;
#   - ARP: an address a third host really uses is released and logged;
#   - SIGHUP reloads (a bad configuration is refused and the running one
#     kept), SIGTERM completes the current pcap file into MANIFEST with a
#     matching hash; as a daemon the pid file comes and goes.
. "$(dirname "$0")/lib.sh"
need_root_and_tools nmap ping nc python3 sha256sum

NS_O="vgown$$"
hardening_cleanup() {
	local rc=$?
	ip netns del "$NS_O" 2>/dev/null
	[ -f "$T/daemon.pid" ] && kill -KILL "$(cat "$T/daemon.pid")" 2>/dev/null
	(exit $rc)
	netns_cleanup
}
trap hardening_cleanup EXIT
O() { ip netns exec "$NS_O" "$@"; }

write_conf() {
	cat >"$T/honeyd.conf" <<CONF
create default
set default default tcp action closed
set default default udp action closed
set default default icmp action open

create win
set win personality "Microsoft Windows XP SP2 or SP3"
add win tcp port 80 http-iis
add win udp port 1434 mssql-resolver
$1
bind $NET.10 win
vigia max-pps-per-source 200
CONF
}
write_conf ""

netns_setup
# A third host on the sensor's segment: the attacker's side becomes a
# bridge that also holds the "owner" namespace, which really uses $NET.77.
ip netns add "$NS_O"
A ip addr del 198.18.0.1/30 dev va
A ip link add br0 type bridge
A ip link set va master br0
ip link add vo$$ type veth peer name vb$$
ip link set vo$$ netns "$NS_O"
ip link set vb$$ netns "$NS_A"
A ip link set vb$$ master br0
A ip link set vb$$ up
A ip link set br0 up
A ip addr add 198.18.0.1/30 dev br0
A ip addr add 198.18.2.1/32 dev br0      # a second source address
A ip route add "$NET.0/24" via 198.18.0.2
O ip link set lo up
O ip link set vo$$ up
OWNER_MAC=$(O cat /sys/class/net/vo$$/address)

start_sensord "$T/honeyd.conf"
PARENT=$SENSORD_PID
# The child of a process, from /proc (no dependency on procps).
child_of() {
	local d
	for d in /proc/[0-9]*; do
		[ "$(awk '/^PPid:/ {print $2}' "$d/status" 2>/dev/null)" = "$1" ] && { echo "${d#/proc/}"; return; }
	done
	true
}
CHILD=$(child_of "$PARENT")
[ -n "$CHILD" ] || { fail "no net child under $PARENT"; cat "$T/sensord.out"; exit 1; }

# --- 7: privileges of the process that parses packets -------------------------
st=/proc/$CHILD/status
echo "net child $CHILD:"
grep -E '^(Uid|Gid|Groups|Cap...|NoNewPrivs|Seccomp):' "$st" | sed 's/^/  /'
read -r _ ru eu su fu < <(grep '^Uid:' "$st")
[ "$ru" != 0 ] && [ "$eu" != 0 ] && [ "$su" != 0 ] && [ "$fu" != 0 ] &&
	ok "uids are $ru/$eu/$su/$fu, not root" || fail "uids: $ru/$eu/$su/$fu"
read -r _ rg eg sg fg < <(grep '^Gid:' "$st")
[ "$rg" != 0 ] && [ "$eg" != 0 ] && [ "$sg" != 0 ] && [ "$fg" != 0 ] &&
	ok "gids are not root" || fail "gids: $rg/$eg/$sg/$fg"
[ -z "$(grep '^Groups:' "$st" | cut -f2 | tr -d ' ')" ] && ok "no supplementary groups" ||
	fail "groups: $(grep '^Groups:' "$st")"
for c in CapInh CapPrm CapEff CapBnd CapAmb; do
	v=$(grep "^$c:" "$st" | awk '{print $2}')
	[ "$v" = 0000000000000000 ] && ok "$c empty" || fail "$c = $v"
done
[ "$(grep '^NoNewPrivs:' "$st" | awk '{print $2}')" = 1 ] && ok "no_new_privs set" ||
	fail "NoNewPrivs: $(grep '^NoNewPrivs:' "$st")"
[ "$(grep '^Seccomp:' "$st" | awk '{print $2}')" = 2 ] && ok "seccomp filter mode" ||
	fail "Seccomp: $(grep '^Seccomp:' "$st")"
root=$(readlink "/proc/$CHILD/root")
[ "$root" = "$(readlink -f "$T/spool")" ] && ok "chrooted in the spool ($root)" ||
	fail "root of the net child: $root"
# The parent holds the privileges and never reads a packet.
[ "$(grep '^Uid:' "/proc/$PARENT/status" | awk '{print $2}')" = 0 ] &&
	ok "the parent is the privileged one (uid 0)" || fail "parent uid"

# The net child still does its work.
A ping -c 1 -W 2 "$NET.10" >/dev/null && ok "ping answered by the unprivileged child" ||
	fail "no ping reply"
A curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$NET.10/" | grep -q 200 &&
	ok "HTTP answered" || fail "no HTTP answer"

# --- amplification: SSRP (1434/udp) answers ~90 bytes to a 1-byte request ---------
cat >"$T/flood.py" <<'PY'
import socket, sys, time
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.settimeout(0.01)
got = 0
for i in range(n):
    s.sendto(b"\x02", (dst, 1434))
    try:
        while True:
            s.recv(2048)
            got += 1
    except socket.timeout:
        pass
end = time.time() + 1.0
s.settimeout(0.2)
while time.time() < end:
    try:
        s.recv(2048); got += 1
    except socket.timeout:
        pass
print(got)
PY
got1=$(A python3 "$T/flood.py" 198.18.0.1 "$NET.10" 60)
got2=$(A python3 "$T/flood.py" 198.18.2.1 "$NET.10" 1)
echo "SSRP replies: first source $got1 of 60 requests, second source $got2 of 1"
[ "$got1" -ge 1 ] && [ "$got1" -le 8 ] && ok "amplifying replies to one source capped ($got1 of 60)" ||
	fail "amplifying replies to one source: $got1 of 60 (expected 1..8)"
[ "$got2" = 1 ] && ok "a second source is still served" || fail "second source got $got2 replies"

# --- per-source packet cap: a fast SYN scan from one source -------------------------
A nmap -n -Pn -sS -p 1-3000 --min-rate 5000 --max-retries 0 "$NET.10" >/dev/null 2>&1 || true
A nc -z -w 3 -s 198.18.2.1 "$NET.10" 80 && ok "second source connects during/after a flood" ||
	fail "second source could not connect to port 80"

# --- ARP: the owner namespace really uses $NET.77 ----------------------------------
A ping -c 1 -W 2 "$NET.77" >/dev/null && ok "$NET.77 answered while unclaimed by anyone" ||
	fail "$NET.77 not answered before the conflict"
O ip addr add "$NET.77/24" dev vo$$
# Its kernel asks for $NET.78 (a sensor address) from $NET.77: the sensor
# sees the address in use by another MAC and lets it go.
O ping -c 1 -W 2 "$NET.78" >/dev/null && ok "the owner reaches $NET.78 (the sensor answers ARP for it)" ||
	fail "the owner got no answer from $NET.78"
for _ in $(seq 30); do grep -q "ARP: $NET.77 is in use" "$T/sensord.out" && break; sleep 0.1; done
grep -q "ARP: $NET.77 is in use by $OWNER_MAC: released" "$T/sensord.out" &&
	ok "release of $NET.77 logged: $(grep -o "ARP: $NET.77.*" "$T/sensord.out")" ||
	fail "no release logged for $NET.77 ($OWNER_MAC)"
A ping -c 2 -W 1 "$NET.77" >/dev/null 2>&1 && fail "$NET.77 still answered after release" ||
	ok "$NET.77 no longer answered by the sensor"
A ping -c 1 -W 2 "$NET.78" >/dev/null && ok "other addresses still answered" ||
	fail "$NET.78 not answered"

sleep 5.5   # status-interval
python3 - "$T/spool/status.json" <<'PY' >"$T/status.txt" || fail "status.json counters"
import json, sys
s = json.load(open(sys.argv[1]))
d = s["dropped"]
print("dropped:", json.dumps(d), "arp_released:", s["arp_released"])
assert d["amplification"] >= 50, "amplification"
assert d["max_pps_per_source"] > 0, "max_pps_per_source"
assert s["arp_released"] == 1, "arp_released"
assert d["released_address"] >= 1, "released_address"
PY
cat "$T/status.txt"
grep -q dropped "$T/status.txt" && ok "status.json counts what was dropped"

# --- SIGHUP: reload; a broken configuration keeps the running one ---------------------
write_conf "add win tcp port 8080 open"
kill -HUP "$PARENT"
for _ in $(seq 100); do grep -q "configuration reloaded" "$T/sensord.out" && break; sleep 0.1; done
grep -q "configuration reloaded" "$T/sensord.out" && ok "SIGHUP: configuration reloaded" ||
	fail "no reload logged"
for _ in $(seq 50); do NEW=$(child_of "$PARENT"); [ -n "$NEW" ] && [ "$NEW" != "$CHILD" ] && break; sleep 0.1; done
[ -n "$NEW" ] && [ "$NEW" != "$CHILD" ] && ok "new net child $NEW (was $CHILD), same parent" ||
	fail "net child after SIGHUP: '$NEW'"
sleep 0.5
A nc -z -w 3 "$NET.10" 8080 && ok "the new configuration answers (8080 open)" ||
	fail "8080 not open after reload"
[ "$(wc -l <"$T/spool/MANIFEST")" -ge 1 ] && ok "the old child completed its file into MANIFEST" ||
	fail "MANIFEST empty after reload"
[ "$(grep '^CapEff:' "/proc/$NEW/status" | awk '{print $2}')" = 0000000000000000 ] &&
	ok "the new child has no capabilities either" || fail "new child capabilities"
echo "create broken" >"$T/honeyd.conf"
echo "add broken tcp port 99999 open" >>"$T/honeyd.conf"
kill -HUP "$PARENT"
for _ in $(seq 50); do grep -q "keeping the running configuration" "$T/sensord.out" && break; sleep 0.1; done
grep -q "keeping the running configuration" "$T/sensord.out" &&
	ok "a broken configuration is refused: $(grep -o 'SIGHUP: .*keeping.*' "$T/sensord.out" | head -1)" ||
	fail "broken configuration not reported"
[ "$(child_of "$PARENT")" = "$NEW" ] && ok "the running child is kept" || fail "child changed"
A nc -z -w 3 "$NET.10" 8080 && ok "still answering with the running configuration" ||
	fail "8080 closed after a refused reload"

# --- SIGTERM: the current file is completed, listed, and its hash matches -----------------
stop_sensord
ls "$T/spool/pcap/"*.part >/dev/null 2>&1 && fail "a .part file is left" || ok "no .part file left"
n=$(wc -l <"$T/spool/MANIFEST")
[ "$n" -ge 2 ] && ok "MANIFEST lists $n files (one per child)" || fail "MANIFEST lists $n files"
(cd "$T/spool" && awk '{print $1"  "$3}' MANIFEST | sha256sum -c --quiet) &&
	ok "every MANIFEST hash matches its file" || fail "MANIFEST hashes do not match"
grep -q "stopping: net child exited with status 0" "$T/sensord.out" && ok "clean stop" ||
	fail "stop: $(tail -2 "$T/sensord.out")"

# --- a forbidden system call kills the net child under the filter ---------------------
write_conf ""
mkdir -p "$T/spool2"
rc=0
VIGIA_TEST_FORBIDDEN_SYSCALL=1 timeout 20 ip netns exec "$NS_S" "$SENSORD" -f "$T/honeyd.conf" \
	-i vs -d --spool "$T/spool2" "$NET.0/24" >"$T/forbidden.out" 2>&1 || rc=$?
cat "$T/forbidden.out"
grep -q "net child [0-9]* killed by signal 31" "$T/forbidden.out" &&
	ok "socket() in the net child: killed by SIGSYS" || fail "the forbidden call did not kill the child"
grep -q "socket() was allowed" "$T/forbidden.out" && fail "socket() was allowed"
[ "$rc" = 1 ] && ok "the parent stops (status 1) when its child dies" || fail "parent status $rc"

# --- as a daemon: pid file ------------------------------------------------------------
mkdir -p "$T/spool3"
ip netns exec "$NS_S" "$SENSORD" -f "$T/honeyd.conf" -i vs -p "$T/daemon.pid" \
	--spool "$T/spool3" "$NET.0/24" >"$T/daemon.out" 2>&1 && ok "daemon started and returned" ||
	fail "daemon start: $(cat "$T/daemon.out")"
for _ in $(seq 50); do [ -s "$T/spool3/status.json" ] && break; sleep 0.1; done
DPID=$(cat "$T/daemon.pid" 2>/dev/null || true)
[ -n "$DPID" ] && kill -0 "$DPID" && ok "pid file names the running daemon ($DPID)" ||
	fail "pid file: '$DPID'"
[ -n "$(child_of "$DPID")" ] && ok "daemon has its net child" || fail "daemon has no child"
kill -TERM "$DPID"
for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$DPID" 2>/dev/null && fail "daemon did not stop" || ok "daemon stopped on SIGTERM"
[ -e "$T/daemon.pid" ] && fail "pid file left behind" || ok "pid file removed"
rm -f "$T/daemon.pid"

finish
