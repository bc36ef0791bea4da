#!/bin/bash
# Issue 5, acceptance 3: `vigia status` reports each condition, over real
# sshd + the gateway: a running and then stopped sensord, a full spool file
# system, a skewed clock (libfaketime on the gateway), a stalled capture,
# uncollected data close to retention, and an unreachable sensor; the
# Nagios exit status is the worst state; results are stored and
# `--history` lists the changes of state; --json and --html.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/sensors-lib.sh"
sensors_init
FT=$(ls /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 2>/dev/null || true)
P=$((23000 + RANDOM % 400))
cat >> "$T/vigia.conf" <<'CONF'
status {
  disk-warn 80%
  disk-crit 95%
  clock-warn 0.5s
  clock-crit 2s
  stall-warn 10m
  stall-crit 1h
  backlog-warn 50%
  backlog-crit 90%
  uptime-warn 0
  ntp-unsync warn
}
CONF
status() { "$VIGIA" status --config "$T/vigia.conf" "$@"; }
state() { # SENSOR CHECK -> state from the last --json output
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([s for s in d["sensors"] if s["name"]==sys.argv[2]][0]["checks"][sys.argv[3]]["state"])' "$T/st.json" "$1" "$2"
}
expect() { # SENSOR CHECK STATE
	local got; got=$(state "$1" "$2")
	[ "$got" = "$3" ] && ok "$1 $2 is $3" || fail "$1 $2 is $got, expected $3: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([s for s in d["sensors"] if s["name"]==sys.argv[2]][0]["checks"][sys.argv[3]]["message"])' "$T/st.json" "$1" "$2")"
}

# a live sensord on lo (captures nothing for 192.0.2.0/24): running, healthy
mkdir -p "$T/spool-live"
spool_perms "$T/spool-live"
cat > "$T/live.conf" <<'CONF'
create default
set default default tcp action closed
CONF
"$SD" -f "$T/live.conf" -i lo --spool "$T/spool-live" -d 192.0.2.0/24 > "$T/live.log" 2>&1 &
LIVE=$!
EXTRA_PIDS+=($LIVE)
for i in $(seq 50); do [ -f "$T/spool-live/status.json" ] && break; sleep 0.1; done
start_sensor live $P "$T/spool-live"
add_sensor_config live 1 $P

# stalled capture: a live status.json whose last packet is 2 hours old,
# the lock held as sensord holds it
mkdir -p "$T/spool-stall/pcap"
old=$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)
cat > "$T/spool-stall/status.json" <<JSON
{"version":"0.1.0","mode":"live","start_time":"$old","updated":"$(date -u +%Y-%m-%dT%H:%M:%SZ)",
 "packets_received":10,"capture_drops":5000,"last_packet_time":"$old","spool_bytes":0}
JSON
# and a file completed 23 h ago, still not collected (retention 24 h)
f="$T/spool-stall/pcap/20240101T000000Z.pcap"; head -c 100 /dev/zero > "$f"
echo "$(sha256sum "$f" | cut -d' ' -f1) 100 pcap/20240101T000000Z.pcap $(date -u -d '-23 hours' +%Y-%m-%dT%H:%M:%SZ) new" > "$T/spool-stall/MANIFEST"
: > "$T/spool-stall/LOCK"
spool_perms "$T/spool-stall"
# exec: the pid that holds the lock is the one killed at cleanup
bash -c 'exec 9<>"$1"; flock 9; exec sleep 600' _ "$T/spool-stall/LOCK" &
HOLDER=$!
EXTRA_PIDS+=($HOLDER)
start_sensor stall $((P + 1)) "$T/spool-stall"
add_sensor_config stall 2 $((P + 1))

# full spool file system
mkdir -p "$T/spool-full"
mount -t tmpfs -o size=1m tmpfs "$T/spool-full" && MOUNTS+=("$T/spool-full")
dd if=/dev/zero of="$T/spool-full/filler" bs=64k 2>/dev/null || true
spool_perms "$T/spool-full"
start_sensor full $((P + 2)) "$T/spool-full"
add_sensor_config full 3 $((P + 2))

# skewed clock: the gateway runs under libfaketime, 30 s ahead
mkdir -p "$T/spool-skew"
spool_perms "$T/spool-skew"
if [ -n "$FT" ]; then
	start_sensor skew $((P + 3)) "$T/spool-skew" \
		"env LD_PRELOAD=$FT FAKETIME=+30 ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0"
	add_sensor_config skew 4 $((P + 3))
else
	echo "SKIP skewed clock: libfaketime (Debian package faketime) not installed"
fi

# unreachable: configured, no sshd
ssh-keygen -q -t ed25519 -N '' -f "$T/nohost_key"
mkdir -p "$T/sensor-gone"; cp "$T/nohost_key.pub" "$T/sensor-gone/host_key.pub"
add_sensor_config gone 5 $((P + 4))

rc=0; status --json --html "$T/status.html" > "$T/st.json" || rc=$?
[ $rc -eq 2 ] && ok "exit status 2 (CRIT is the worst)" || fail "exit status $rc, expected 2"
expect live ssh OK
expect live sensord OK
expect live disk OK
expect live capture OK
expect live backlog OK
expect stall capture CRIT
expect stall drops CRIT
expect stall backlog CRIT
expect full disk CRIT
if [ -n "$FT" ]; then
	expect skew clock CRIT
	off=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([s for s in d["sensors"] if s["name"]=="skew"][0]["checks"]["clock"]["value"])' "$T/st.json")
	python3 -c "import sys; sys.exit(0 if 29 < $off < 31 else 1)" && ok "skew measured as $off s" || fail "skew measured as $off s"
	expect live clock OK
fi
expect gone ssh CRIT
expect gone sensord UNKNOWN
grep -q 'class="CRIT"' "$T/status.html" && grep -q '>gone<' "$T/status.html" && ok "HTML page written" \
	|| fail "HTML page lacks the sensors"

# a single healthy sensor: WARN at worst (this machine's kernel is not NTP-synced)
rc=0; status --sensor live > "$T/table" || rc=$?
grep -q 'sensord  OK' "$T/table" && ok "table output" || { fail "table output"; cat "$T/table"; }
[ $rc -le 1 ] && ok "healthy sensor: exit $rc" || { fail "healthy sensor: exit $rc"; cat "$T/table"; }

# stopping sensord is CRIT, and the change is in the history
kill "$LIVE"; wait "$LIVE" 2>/dev/null || true
rc=0; status --sensor live --json > "$T/st.json" || rc=$?
expect live sensord CRIT
[ $rc -eq 2 ] && ok "stopped sensord: exit 2" || fail "stopped sensord: exit $rc"
status --history --sensor live > "$T/hist" || fail "--history failed"
grep -qE 'live +sensord +OK -> CRIT' "$T/hist" && ok "history lists sensord OK -> CRIT" \
	|| { fail "history lacks the change"; cat "$T/hist"; }
n=$(sqlite3 "$T/vigia.db" 'select count(*) from health_check' 2>/dev/null || echo skip)
[ "$n" = skip ] || { [ "$n" -ge 27 ] && ok "$n results stored" || fail "$n results stored"; }
kill "$HOLDER" 2>/dev/null || true
finish
