#!/bin/bash
# The live sensor under a SYN flood and under HTTP load, in network
# namespaces (issue 4, acceptance 8).  Root only.
#
#   sudo bash bench/bench-sensor-live.sh            (release build in build/)
#   RATES="100000 300000" STEP=5 BUILD=build bash bench/bench-sensor-live.sh
#
# Set-up (tests/netns/lib.sh): an attacker namespace and a sensor namespace
# joined by a veth pair, 198.18.1.0/24 routed to the sensor.  CPU 0 sends,
# CPU 1 runs the sensor (taskset), so "one core" is the sensor's.
#
# SYN flood: trafgen (netsniff-ng) offers SYNs to port 80 of random
# addresses of the /24 from random spoofed sources of 198.19.0.0/16, for
# STEP seconds at each rate; trafgen holds the rate, hping3 cannot.
# Counted on the veth pair: offered = frames the attacker's veth sent,
# answered = frames it received back (the SYN-ACKs: the attacker's kernel
# drops them, since the spoofed sources are not its own).  The sensor's
# CPU comes from /proc/PID/stat (user + system, its own core), its memory
# from VmRSS, the capture ring's drops from its status.json.
#
# HTTP: wrk with 200 connections, each request on a new connection
# (Connection: close), to the built-in HTTP service.
#
# The sensor's output caps (max-pps, max-pps-per-source: hardening) are
# lifted in the bench's configuration: wrk's 200 clients share one source
# address, and the flood is what is being measured.
#
# Every namespace and process is removed on exit.  All traffic stays on
# the veth pair between the two namespaces.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export VIGIA_SRCDIR=${VIGIA_SRCDIR:-$(dirname "$here")}
export VIGIA_BUILDDIR=${VIGIA_BUILDDIR:-$VIGIA_SRCDIR/${BUILD:-build}}
. "$VIGIA_SRCDIR/tests/netns/lib.sh"
need_root_and_tools trafgen wrk ethtool taskset
RATES=${RATES:-"10000 50000 100000 200000 300000 400000"}
STEP=${STEP:-5}
HTTP_SECONDS=${HTTP_SECONDS:-10}
HZ=$(getconf CLK_TCK)

cat >"$T/honeyd.conf" <<CONF
vigia status-interval 1
vigia max-pps 100000000
vigia max-pps-per-source 100000000
vigia max-connections 65536
create default
set default personality "Linux 2.6.32"
set default default tcp action closed
set default default udp action closed
set default default icmp action open
add default tcp port 80 http-apache
CONF

netns_setup
# Over veth the receiving namespace's processing of a frame runs in the
# sender's context: by default the attacker's kernel dropping the SYN-ACKs
# (to spoofed sources) is billed to the sensor's core.  RPS=1 sends it to
# CPU 0 instead (less CPU per SYN for the sensor, but a busy CPU 0 then
# holds the sensor's send buffers and batches time out: bench/README.md).
[ "${RPS:-0}" = 1 ] && A sh -c 'echo 1 > /sys/class/net/va/queues/rx-0/rps_cpus'
# The sensor answers on CPU 1; trafgen and the veth's receive work for
# the flood run on CPU 0.
ip netns exec "$NS_S" taskset -c 1 "$SENSORD" -f "$T/honeyd.conf" -i vs -d \
	--spool "$T/spool" --seed 1 "$NET.0/24" >"$T/sensord.out" 2>&1 &
SENSORD_PID=$!
for _ in $(seq 100); do
	[ -s "$T/spool/status.json" ] && break
	kill -0 "$SENSORD_PID" 2>/dev/null || { cat "$T/sensord.out"; exit 1; }
	sleep 0.1
done
[ -s "$T/spool/status.json" ] || { echo "sensor did not start"; cat "$T/sensord.out"; exit 1; }

va_mac=$(A cat /sys/class/net/va/address)
vs_mac=$(SNS cat /sys/class/net/vs/address)
cat >"$T/syn.cfg" <<CFG
{ eth(da=$vs_mac, sa=$va_mac),
  ipv4(sa=198.19.0.1, sa[2]=drnd(), sa[3]=drnd(), da=$NET.1, da[3]=drnd(1, 254), df, ttl=64),
  tcp(sp=drnd(1024, 65000), dp=80, seq=drnd(), syn, win=64240) }
CFG

ctr() { A cat "/sys/class/net/va/statistics/$1"; }
# The sensor's processes: the privileged parent and the net child that
# answers (privilege separation), and any script children.
spids() { echo "$SENSORD_PID" $(pgrep -P "$SENSORD_PID" || true); }
cpu_ticks() { local p t=0; for p in $(spids); do
	t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $t; }
rss_kib() { local p t=0; for p in $(spids); do
	t=$((t + $(awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0))); done; echo $t; }
json_num() { grep -o "\"$1\": [0-9]*" "$T/spool/status.json" | head -1 | grep -o '[0-9]*$'; }

echo "# vigia-sensord live SYN flood: $STEP s per step, sensor on CPU 1, VIGIA_AFP=${VIGIA_AFP:-}"
echo "# load before: $(cut -d" " -f1-3 /proc/loadavg)"
echo "# $(uname -r), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
printf '%-8s %9s %9s %9s %9s %7s %6s %7s %7s %8s\n' rate/s offered answered offer/s answer/s \
	loss% cpu% us/SYN capdrop rss_KiB
for rate in $RATES; do
	n=$((rate * STEP))
	tx0=$(ctr tx_packets); rx0=$(ctr rx_packets); d0=$(json_num capture_drops)
	A taskset -c 0 trafgen -o va -i "$T/syn.cfg" -P1 -b "${rate}pps" -n "$n" -C -q \
		>"$T/trafgen.out" 2>&1 &
	tg=$!
	# Rates and CPU over a steady window inside the step (trafgen's
	# start-up excluded); loss over the whole step.
	sleep 1
	wtx0=$(ctr tx_packets); wrx0=$(ctr rx_packets); c0=$(cpu_ticks); t0=$(date +%s.%N)
	sleep $((STEP - 2))
	wtx1=$(ctr tx_packets); wrx1=$(ctr rx_packets); c1=$(cpu_ticks); t1=$(date +%s.%N)
	wait "$tg" || true
	sleep 1.2   # the last SYN-ACKs, and a status.json written after them
	tx1=$(ctr tx_packets); rx1=$(ctr rx_packets); d1=$(json_num capture_drops)
	offered=$((tx1 - tx0)); answered=$((rx1 - rx0))
	read -r loss cpu ops aps us < <(awk -v o="$offered" -v a="$answered" -v c="$((c1 - c0))" \
		-v hz="$HZ" -v t0="$t0" -v t1="$t1" -v wo="$((wtx1 - wtx0))" -v wa="$((wrx1 - wrx0))" 'BEGIN {
			d = t1 - t0; l = o ? (o - a) * 100 / o : 0; if (l < 0) l = 0
			printf "%.3f %.1f %.0f %.0f %.2f\n", l, c / hz * 100 / d, wo / d, wa / d,
				wa ? c / hz * 1e6 / wa : 0 }')
	printf '%-8s %9s %9s %9s %9s %7s %6s %7s %7s %8s\n' "$rate" "$offered" "$answered" "$ops" \
		"$aps" "$loss" "$cpu" "$us" "$((d1 - d0))" "$(rss_kib)"
done
echo "# drops on the veth: attacker rx_dropped $(ctr rx_dropped), sensor rx_dropped" \
	"$(SNS cat /sys/class/net/vs/statistics/rx_dropped)"
cp "$T/spool/status.json" "$T/status-syn.json"

echo "# HTTP: wrk -c200 -t2 -d${HTTP_SECONDS}s -H 'Connection: close' (CPU 0), sensor on CPU 1"
c0=$(cpu_ticks)
A taskset -c 0 wrk -c200 -t2 -d"${HTTP_SECONDS}s" -H 'Connection: close' "http://$NET.10/" \
	>"$T/wrk.out" 2>&1 || true
c1=$(cpu_ticks)
cat "$T/wrk.out"
awk -v c="$((c1 - c0))" -v hz="$HZ" -v d="$HTTP_SECONDS" \
	'BEGIN { printf "# sensor CPU during wrk: %.1f%% of one core\n", c / hz * 100 / d }'
sleep 1.2
echo "# sensor RSS after: $(rss_kib) KiB; status:"
grep -E '"(capture_drops|connections_total|connection_cap_hits|tcp_bad_cookie|send_errors)"' \
	"$T/spool/status.json"
