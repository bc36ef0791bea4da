# Simulated sensors for the central server's tests (sourced after lib.sh):
# each sensor is its own sshd on 127.0.0.1, with its own host key, an
# authorized_keys holding the central key restricted to vigia-gateway, and
# its own spool filled by vigia-sensord --replay.  Needs root (sshd), and
# openssh-server, openssh-client, rsync.
#
#   sensors_init                  user, central key, archive, config header
#   make_spool DIR PCAP...        replay captures into a spool (rotate 60 s)
#   start_sensor NAME PORT SPOOL [PREFIX]   PREFIX runs before the gateway
#                                 (e.g. "env LD_PRELOAD=... FAKETIME=+30")
#   add_sensor_config NAME ID PORT [host-key|known-hosts]
#   stop_sensor NAME
# Cleanup (sshd processes, mounts) is registered on EXIT.

GW="$B/src/gateway/vigia-gateway"
SD="$B/src/sensord/vigia-sensord"
SSHD=/usr/sbin/sshd
SENSOR_USER=vigia-test
declare -A SSHD_PID SENSOR_PORT SENSOR_SPOOL
MOUNTS=()
EXTRA_PIDS=()   # other processes a test started (sensord, lock holders)

sensors_cleanup() {
	local n m
	for n in "${EXTRA_PIDS[@]}"; do
		kill "$n" 2>/dev/null || true
	done
	for n in "${!SSHD_PID[@]}"; do
		kill "${SSHD_PID[$n]}" 2>/dev/null || true
	done
	for n in "${!SSHD_PID[@]}"; do
		wait "${SSHD_PID[$n]}" 2>/dev/null || true
	done
	for m in "${MOUNTS[@]}"; do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap sensors_cleanup EXIT

need() {
	for p in "$@"; do
		command -v "$p" >/dev/null || [ -x "$p" ] || { echo "SKIP: $p not installed"; exit 77; }
	done
}

sensors_init() {
	need "$SSHD" ssh rsync ssh-keygen
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: sshd needs root"; exit 77; }
	mkdir -p /run/sshd
	if ! id "$SENSOR_USER" >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir / --shell /bin/sh "$SENSOR_USER"
	fi
	usermod -d / "$SENSOR_USER" >/dev/null 2>&1 || true
	# '!' would mark the account locked and sshd (without PAM) refuses it
	usermod -p '*' "$SENSOR_USER" 2>/dev/null || true
	chmod 755 "$T"
	ssh-keygen -q -t ed25519 -N '' -C vigia-central -f "$T/central_key"
	mkdir -p "$T/archive"
	cat > "$T/vigia.conf" <<CONF
archive $T/archive
database $T/vigia.db
parallel 4
connect-timeout 5
CONF
}

make_spool() {
	local dir=$1; shift
	mkdir -p "$dir"
	cat > "$T/sensor.conf" <<'CONF'
create default
set default default tcp action closed
add default tcp port 22 open
add default tcp port 80 open
vigia rotate 60
CONF
	local f
	for f in "$@"; do
		"$SD" -f "$T/sensor.conf" --replay "$f" --write "$T/replies.pcap" --spool "$dir" \
			-l "$dir/honeyd.log" 0.0.0.0/0 > /dev/null 2> "$T/sd.err" \
			|| { cat "$T/sd.err"; return 1; }
	done
	spool_perms "$dir"
}

# The gateway's user reads the spool and rewrites MANIFEST (ack).
spool_perms() {
	chgrp -R "$SENSOR_USER" "$1"
	chmod 2770 "$1"
	find "$1" -type d -exec chmod g+rwx {} +
	find "$1" -type f -exec chmod g+rw {} +
}

start_sensor() {
	local name=$1 port=$2 spool=$3 prefix=${4:-}
	local d="$T/sensor-$name"
	mkdir -p "$d"
	chmod 755 "$d"
	[ -f "$d/host_key" ] || ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$d/host_key"
	echo "restrict,command=\"$prefix $GW --log $d/gateway.log $spool\" $(cat "$T/central_key.pub")" \
		> "$d/authorized_keys"
	touch "$d/gateway.log"
	chown "$SENSOR_USER" "$d/gateway.log"
	cat > "$d/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $d/host_key
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers $SENSOR_USER
LogLevel VERBOSE
MaxStartups 100
CONF
	"$SSHD" -D -e -f "$d/sshd_config" 2>> "$d/sshd.log" &
	SSHD_PID[$name]=$!
	SENSOR_PORT[$name]=$port
	SENSOR_SPOOL[$name]=$spool
	local i
	for i in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
		sleep 0.05
	done
	echo "sshd for $name did not start:"; cat "$d/sshd.log"; return 1
}

stop_sensor() {
	local name=$1
	kill "${SSHD_PID[$name]}" 2>/dev/null || true
	wait "${SSHD_PID[$name]}" 2>/dev/null || true
	unset "SSHD_PID[$name]"
}

add_sensor_config() {
	local name=$1 id=$2 port=$3 how=${4:-host-key}
	local d="$T/sensor-$name"
	{
		echo "sensor $name {"
		echo "  id $id"
		echo "  institution \"Test institution $id\""
		echo "  host 127.0.0.1"
		echo "  port $port"
		echo "  user $SENSOR_USER"
		echo "  identity $T/central_key"
		if [ "$how" = host-key ]; then
			echo "  host-key \"$(cut -d' ' -f1,2 "$d/host_key.pub")\""
		else
			echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$d/host_key.pub")" > "$d/known_hosts"
			echo "  known-hosts $d/known_hosts"
		fi
		echo "  network 192.0.2.0/24"
		echo "  retention 24h"
		echo "}"
	} >> "$T/vigia.conf"
}

# Every completed spool file of SPOOL is in the archive of SENSOR, and
# decompresses to the same bytes.
archive_matches_spool() {
	local sensor=$1 spool=$2 archive=${3:-$T/archive} f base day bad=0
	for f in "$spool"/pcap/*.pcap; do
		base=$(basename "$f")
		day="${base:0:4}/${base:4:2}/${base:6:2}"
		if ! zstd -dc "$archive/$sensor/$day/$base.zst" 2>/dev/null | cmp -s - "$f"; then
			echo "  $sensor: $base missing or different in the archive"
			bad=1
		fi
	done
	return $bad
}
