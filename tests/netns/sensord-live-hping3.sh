#!/bin/bash
# Issue 4, acceptance 2 (with hping3), live in network namespaces: crafted
# probes get the configured answers.
#   SYN to an open port      -> SYN+ACK
#   SYN to a closed port     -> RST+ACK
#   SYN to a "reset" port    -> RST (+ACK: a RST answering a segment
#                               without ACK acknowledges it, RFC 793)
#   SYN to a blocked port    -> nothing
#   UDP to a closed port     -> ICMP port unreachable
#   UDP to the default template's closed port -> ICMP port unreachable
#   ICMP echo                -> echo reply
# and the SYN-ACK carries the personality's TTL and window.
#
# Each capture path of live-afp.c is run: the TPACKET_V3 receive ring with
# sendmmsg (the default), the ring with a TPACKET_V2 TX ring (VIGIA_AFP=
# txring), and the recvmsg/sendto fallback (VIGIA_AFP=noring).
. "$(dirname "$0")/lib.sh"
need_root_and_tools hping3 ethtool

cat >"$T/honeyd.conf" <<CONF
create default
set default default tcp action closed
set default default udp action closed
set default default icmp action open

create web
set web personality "Linux 2.6.18"
set web default tcp action closed
set web default udp action closed
add web tcp port 80 http-apache
add web tcp port 22 ssh
add web tcp port 113 reset
add web tcp port 200 block
bind $NET.10 web
CONF

netns_setup

# hping3 NAME ARGS...: one probe, its output in $T/NAME.out.
probe() {
	local name=$1
	shift
	A hping3 -n -c 1 "$@" >"$T/$name.out" 2>&1 || true
}
expect_flags() {        # name flags what
	if grep -q "flags=$2 " "$T/$1.out"; then
		ok "$3: flags=$2"
	else
		cat "$T/$1.out"
		fail "$3: expected flags=$2"
	fi
}

# The net child (privilege separation) holds the capture; a receive ring
# shows in its memory map as a shared mapping of a socket.
ring_mapped() {
	local c
	for c in $SENSORD_PID $(pgrep -P "$SENSORD_PID"); do
		grep -q 'rw-s .* socket:\[' "/proc/$c/maps" 2>/dev/null && return 0
	done
	return 1
}

for mode in ring txring noring; do
	echo "--- capture path: $mode"
	rm -rf "$T/spool"
	VIGIA_AFP=$mode
	[ "$mode" = ring ] && VIGIA_AFP=
	export VIGIA_AFP
	start_sensord "$T/honeyd.conf"
	if [ "$mode" = noring ]; then
		ring_mapped && fail "$mode: a ring is mapped" || ok "$mode: no ring mapped"
	else
		ring_mapped && ok "$mode: the receive ring is mapped" || fail "$mode: no ring mapped"
	fi
	probe syn80 -S -p 80 "$NET.10"
	expect_flags syn80 SA "SYN to open port 80"
	probe syn22 -S -p 22 "$NET.10"
	expect_flags syn22 SA "SYN to open port 22"
	probe syn81 -S -p 81 "$NET.10"
	expect_flags syn81 RA "SYN to closed port 81"
	probe syn113 -S -p 113 "$NET.10"
	expect_flags syn113 RA "SYN to reset port 113"
	probe syndef -S -p 80 "$NET.99"
	expect_flags syndef RA "SYN to the default template's closed port"

	# The personality shapes the SYN-ACK (Linux 2.6: TTL 64, window 5840).
	line=$(grep 'flags=SA' "$T/syn80.out" || true)
	ttl=$(echo "$line" | grep -o 'ttl=[0-9]*' | cut -d= -f2)
	win=$(echo "$line" | grep -o 'win=[0-9]*' | cut -d= -f2)
	[ "$ttl" = 64 ] && ok "SYN-ACK TTL 64 (Linux)" || fail "SYN-ACK TTL '$ttl', expected 64"
	[ -n "$win" ] && [ "$win" -gt 0 ] && ok "SYN-ACK window $win" || fail "SYN-ACK window '$win'"

	probe syn200 -S -p 200 "$NET.10"
	if grep -q '1 packets received\|flags=' "$T/syn200.out"; then
		cat "$T/syn200.out"
		fail "SYN to blocked port 200 got an answer"
	else
		ok "SYN to blocked port 200: no answer"
	fi

	probe udp500 -2 -p 500 "$NET.10"
	grep -q 'ICMP Port Unreachable' "$T/udp500.out" && ok "UDP to closed port 500: ICMP port unreachable" ||
		{ cat "$T/udp500.out"; fail "UDP to closed port 500: no port unreachable"; }
	probe udpdef -2 -p 53 "$NET.77"
	grep -q 'ICMP Port Unreachable' "$T/udpdef.out" &&
		ok "UDP to the default template: ICMP port unreachable" ||
		{ cat "$T/udpdef.out"; fail "UDP to the default template: no port unreachable"; }

	probe icmp -1 "$NET.10"
	grep -q 'icmp_seq=0' "$T/icmp.out" && ok "ICMP echo: reply" ||
		{ cat "$T/icmp.out"; fail "ICMP echo: no reply"; }

	stop_sensord
	grep -q '"bad_checksum": 0' "$T/spool/status.json" && ok "$mode: no probe refused for its checksum" ||
		fail "$mode: probes refused for their checksum"
done
finish
