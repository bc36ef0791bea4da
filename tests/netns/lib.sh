# Shared set-up of the network-namespace tests (sourced).
#
#   attacker ns  va (198.18.0.1/30) --veth-- vs (198.18.0.2/30)  sensor ns
#   route 198.18.1.0/24 via 198.18.0.2
#
# The honeynet is routed to the sensor's side of the link, so the attacker
# never ARPs for a virtual host: the sensor's kernel answers ARP for the
# next hop, and vigia-sensord captures the frames for 198.18.1.0/24 that
# its kernel, not forwarding, drops.  198.18.0.0/15 is the RFC 2544
# benchmarking range: it exists only inside these namespaces.
#
# Every namespace, and every process started in one, is removed on exit,
# whatever the outcome.
set -euo pipefail
B=${VIGIA_BUILDDIR:?run through meson test}
S=${VIGIA_SRCDIR:?}
SENSORD="$B/src/sensord/vigia-sensord"
NET=198.18.1
T=$(mktemp -d)
chmod 755 "$T"
NS_A="vgatk$$"
NS_S="vgsen$$"
SENSORD_PID=
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
finish() {
	[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
	echo "all checks passed"
}

netns_cleanup() {
	local rc=$?
	set +e
	if [ -n "$SENSORD_PID" ] && kill -0 "$SENSORD_PID" 2>/dev/null; then
		kill -TERM "$SENSORD_PID"
		for _ in $(seq 50); do kill -0 "$SENSORD_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$SENSORD_PID" 2>/dev/null
	fi
	for ns in "$NS_A" "$NS_S"; do
		if ip netns list | grep -qw "$ns"; then
			for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
			ip netns del "$ns"
		fi
	done
	rm -rf "$T"
	exit $rc
}
trap netns_cleanup EXIT
trap 'exit 130' INT TERM

# These tests build namespaces and capture on interfaces: root only.  A
# missing privilege or tool fails loudly rather than passing unnoticed.
need_root_and_tools() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "FAIL: $(basename "$0") needs root (network namespaces); CI runs it as root"
		exit 1
	fi
	local t
	for t in ip "$@"; do
		command -v "$t" >/dev/null || { echo "FAIL: '$t' is not installed"; exit 1; }
	done
	[ -x "$SENSORD" ] || { echo "FAIL: $SENSORD not built"; exit 1; }
}

A() { ip netns exec "$NS_A" "$@"; }
SNS() { ip netns exec "$NS_S" "$@"; }

netns_setup() {
	ip netns add "$NS_A"
	ip netns add "$NS_S"
	ip link add va type veth peer name vs
	ip link set va netns "$NS_A"
	ip link set vs netns "$NS_S"
	A ip link set lo up
	SNS ip link set lo up
	A ip addr add 198.18.0.1/30 dev va
	SNS ip addr add 198.18.0.2/30 dev vs
	A ip link set va up
	SNS ip link set vs up
	A ip route add "$NET.0/24" via 198.18.0.2
	# The sensor's kernel must stay silent for the honeynet: no
	# forwarding, and no ICMP redirects or unreachables of its own.
	SNS sysctl -qw net.ipv4.ip_forward=0
	SNS sysctl -qw net.ipv4.conf.all.send_redirects=0
	# No segmentation offload towards the sensor: it sees what a NIC would.
	A ethtool -K va tso off gso off gro off >/dev/null 2>&1 || true
	# Checksum offload stays ON: the attacker's kernel leaves TCP/UDP
	# checksums of curl's and nc's segments unfinished over veth, and the
	# sensor must take them on the kernel's word (PACKET_AUXDATA) while
	# still verifying checksums (Honeyd needed `ethtool -K ... tx off`).
	A ethtool -K va tx on >/dev/null 2>&1 || true
	SNS ethtool -K vs gro off >/dev/null 2>&1 || true
}

# start_sensord CONF [EXTRA ARGS...]: run vigia-sensord live in the sensor
# namespace, records under $T/spool, and wait until it captures.
start_sensord() {
	local conf=$1
	shift
	mkdir -p "$T/spool"
	# Not through SNS: a function run in the background is a subshell,
	# and $! must be the sensor itself.
	ip netns exec "$NS_S" "$SENSORD" -f "$conf" -i vs -d --spool "$T/spool" -l "$T/conn.log" \
		--seed 1 "$@" "$NET.0/24" >"$T/sensord.out" 2>&1 &
	SENSORD_PID=$!
	for _ in $(seq 100); do
		[ -s "$T/spool/status.json" ] && return 0
		kill -0 "$SENSORD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "FAIL: vigia-sensord did not start:"
	cat "$T/sensord.out"
	exit 1
}

stop_sensord() {
	[ -n "$SENSORD_PID" ] || return 0
	kill -TERM "$SENSORD_PID"
	local rc=0
	wait "$SENSORD_PID" || rc=$?
	SENSORD_PID=
	if [ "$rc" -ne 0 ]; then
		fail "vigia-sensord exited with status $rc"
		cat "$T/sensord.out"
	fi
}
