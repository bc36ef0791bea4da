#!/bin/bash
# Issue 4, acceptance 1 and 2, live in network namespaces with real tools:
#   nmap -sS -p 1-1024 finds exactly the configured open TCP ports;
#   nmap -sU on a few ports, ping, curl to HTTP and nc to telnet give the
#   configured answers.
. "$(dirname "$0")/lib.sh"
need_root_and_tools nmap ping curl nc ethtool

cat >"$T/honeyd.conf" <<CONF
create default
set default default tcp action closed
set default default udp action closed
set default default icmp action open

create web
set web personality "Microsoft Windows Server 2003 SP1 or SP2"
set web default tcp action closed
set web default udp action closed
add web tcp port 21 ftp
add web tcp port 23 telnet
add web tcp port 80 http-iis
add web tcp port 135 open
add web tcp port 445 smb
add web tcp port 200 block
add web udp port 137 netbios-ns
add web udp port 161 open
add web udp port 162 block
bind $NET.10 web
CONF

netns_setup
start_sensord "$T/honeyd.conf"

# --- 1: SYN scan --------------------------------------------------------------
A nmap -n -Pn -sS -p 1-1024 --max-retries 2 -oG "$T/syn.gnmap" "$NET.10" >"$T/syn.out" 2>&1 ||
	{ cat "$T/syn.out"; fail "nmap -sS failed"; }
open=$(grep -o 'Ports: .*' "$T/syn.gnmap" | tr ',' '\n' | grep '/open/' |
	sed 's/^[^0-9]*//' | cut -d/ -f1 | sort -n | tr '\n' ' ')
filtered=$(grep -o 'Ports: .*' "$T/syn.gnmap" | tr ',' '\n' | grep '/filtered/' |
	sed 's/^[^0-9]*//' | cut -d/ -f1 | tr '\n' ' ')
echo "nmap -sS open ports: $open"
[ "$open" = "21 23 80 135 445 " ] && ok "nmap -sS finds exactly 21 23 80 135 445 open" ||
	fail "nmap -sS open ports: '$open', expected '21 23 80 135 445 '"
[ "$filtered" = "200 " ] && ok "the blocked port 200 is filtered" ||
	fail "filtered ports: '$filtered', expected '200 '"
grep -q 'Ignored State: closed (1018)' "$T/syn.gnmap" && ok "the other 1018 ports are closed" ||
	fail "closed count: $(grep -o 'Ignored State: [^	]*' "$T/syn.gnmap")"

# The default template answers too: a closed port there is closed, not filtered.
A nmap -n -Pn -sS -p 22,80 -oG "$T/def.gnmap" "$NET.77" >/dev/null 2>&1
grep -q '22/closed/tcp.*80/closed/tcp' "$T/def.gnmap" && ok "default template: ports closed" ||
	fail "default template: $(grep Ports "$T/def.gnmap")"

# --- 2: UDP scan ----------------------------------------------------------------
A nmap -n -Pn -sU -p 137,161,162,500 -oG "$T/udp.gnmap" "$NET.10" >"$T/udp.out" 2>&1 ||
	fail "nmap -sU failed"
udp=$(grep -o 'Ports: .*' "$T/udp.gnmap")
echo "nmap -sU: $udp"
echo "$udp" | grep -q '137/open/udp' && ok "udp 137 (netbios-ns answers) is open" ||
	fail "udp 137 not open"
echo "$udp" | grep -q '161/open|filtered/udp' && ok "udp 161 (silent open) is open|filtered" ||
	fail "udp 161 not open|filtered"
echo "$udp" | grep -q '162/open|filtered/udp' && ok "udp 162 (blocked) is open|filtered" ||
	fail "udp 162 not open|filtered"
echo "$udp" | grep -q '500/closed/udp' && ok "udp 500 is closed (port unreachable)" ||
	fail "udp 500 not closed"

# --- ping ---------------------------------------------------------------------
if A ping -c 3 -i 0.2 -W 2 "$NET.10" >"$T/ping.out" 2>&1 &&
	grep -q '3 received' "$T/ping.out"; then
	ok "ping: 3 of 3 echo replies"
else
	cat "$T/ping.out"
	fail "ping"
fi
A ping -c 1 -W 2 "$NET.200" >/dev/null 2>&1 && ok "ping of a default-template address" ||
	fail "ping of a default-template address"

# --- curl to the IIS-like service -------------------------------------------------
if A curl -sS -m 10 -D "$T/http.hdr" -o "$T/http.body" "http://$NET.10/"; then
	grep -qi '^Server: Microsoft-IIS' "$T/http.hdr" && ok "curl: Server: Microsoft-IIS" ||
		{ cat "$T/http.hdr"; fail "curl: no IIS Server header"; }
	[ -s "$T/http.body" ] && ok "curl: a page came back ($(wc -c <"$T/http.body") bytes)" ||
		fail "curl: empty body"
else
	fail "curl to http://$NET.10/ failed"
fi

# --- nc to telnet: a login prompt, and the user name tried is recorded -------------
{ sleep 1; printf 'mallory\r\n'; sleep 1; printf 'hunter2\r\n'; sleep 1; } |
	A nc -w 3 "$NET.10" 23 >"$T/telnet.out" 2>&1 || true
grep -aqi 'login' "$T/telnet.out" && ok "nc to telnet: login prompt" ||
	{ od -c "$T/telnet.out" | head; fail "nc to telnet: no login prompt"; }

stop_sensord
# Checksums were verified, and none of the offloaded ones was refused.
grep -q '"bad_checksum": 0' "$T/spool/status.json" && ok "no frame refused for its checksum" ||
	fail "frames refused for their checksum: $(grep -o '"bad_checksum": [0-9]*' "$T/spool/status.json")"
grep -q 'mallory' "$T/conn.log" && ok "telnet user name recorded in the connection log" ||
	fail "telnet user name not recorded"
grep -q "tcp(6) S 198.18.0.1 [0-9]* $NET.10 80" "$T/conn.log" && ok "HTTP connection logged" ||
	fail "HTTP connection not logged"
finish
