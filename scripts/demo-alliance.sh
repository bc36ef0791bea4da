#!/bin/bash
# The main job (issue 10): a whole honeypot alliance on one machine.
#
#   - three sensors, each in its own network namespace with its own /24
#     (10.77.N.0/24), its own templates, personalities and services, and its
#     own sshd holding the central server's key restricted to vigia-gateway;
#   - an attacker namespace with many source addresses, running nmap
#     (-sS, -O, -sV), hping3, masscan, curl, nc, and tcpreplay of the real
#     worm, brute-force and proxy captures of tests/data/pcaps rewritten
#     onto the sensors' addresses (tcprewrite);
#   - a central namespace running the pipeline over ssh: vigia collect,
#     status, ingest, then every later subcommand `vigia help` lists
#     (stats, summary, incidents, export, notify, watch).
#
#            attacker ns  10.66.0.0/24 on lo (the attackers' addresses)
#            a1 |10.76.1.0/30   a2 |10.76.2.0/30   a3 |10.76.3.0/30
#   sensor ns   s1 (10.77.1.0/24)   s2 (10.77.2.0/24)   s3 (10.77.3.0/24)
#            m1 |10.78.1.0/30   m2 |10.78.2.0/30   m3 |10.78.3.0/30
#            central ns: ssh to 10.78.N.2:22 (sshd of sensor N)
#
# Every address lives only inside the namespaces this script creates; no
# packet leaves them.  Everything it started (namespaces, processes, the
# demo's system user if it made one) is removed on exit, Ctrl-C or failure.
#
# Without root it says so and runs the central pipeline on generated and
# bundled captures instead (no namespaces, no ssh).
#
# Environment: VIGIA_BUILDDIR (default build), VIGIA_DEMO_OUT (default out),
# VIGIA_DEMO_SHORT=1 (CI: fewer tools, smaller scans).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
SRC=$PWD
B=${VIGIA_BUILDDIR:-$SRC/build}
OUT=${VIGIA_DEMO_OUT:-$SRC/out}
SHORT=${VIGIA_DEMO_SHORT:-0}
case "$B" in /*) ;; *) B=$SRC/$B ;; esac
case "$OUT" in /*) ;; *) OUT=$SRC/$OUT ;; esac
VIGIA=$B/vigia
SD=$B/src/sensord/vigia-sensord
GW=$B/src/gateway/vigia-gateway
GEN=$B/bench/vigia-gen-day
PCAPS=$SRC/tests/data/pcaps
# the source tree's rules for ingest's classification (an installed vigia
# finds its own)
export VIGIA_RULES=${VIGIA_RULES:-$SRC/rules/vigia.rules}
T0=$(date +%s)
NSTAGES=7

stage_no=0
stage() {
	stage_no=$((stage_no + 1))
	printf '\n== [%d/%d] %s  (%ds)\n' "$stage_no" "$NSTAGES" "$*" $(($(date +%s) - T0))
}
say() { printf '   %s\n' "$*"; }
warn() { printf '   warning: %s\n' "$*" >&2; }
die() { printf 'demo-alliance: %s\n' "$*" >&2; exit 1; }

for f in "$VIGIA" "$GEN"; do
	[ -x "$f" ] || die "$f is not built: run 'make build' first"
done
RIR=()
for f in "$SRC"/tests/data/rir/delegated-*; do RIR+=(--rir "$f"); done
has_cmd() { "$VIGIA" help 2>&1 | grep -q "^  $1 "; }
# True when `vigia CMD --help` mentions OPTION: later subcommands are
# called with the options they have.
has_opt() { "$VIGIA" "$1" --help 2>&1 | grep -q -- "$2"; }

# --- the central pipeline, shared by both modes ------------------------
# central_pipeline RUN CONF ARCHIVE DB DAY HONEYNET...
#   RUN: a command prefix (the central namespace, or nothing)
DONE_SITE="" DONE_SUMMARY="" DONE_FEED="" DONE_NOTIFY="" DONE_WATCH="" DONE_INCIDENTS=""
later_commands() {
	local run=$1 conf=$2 arch=$3 db=$4 day=$5
	shift 5
	local nets=() n rc
	for n in "$@"; do nets+=(--honeynet "$n"); done

	if has_cmd stats; then
		say "vigia stats → $OUT/site/"
		rm -rf "$OUT/site"
		rc=0; $run "$VIGIA" stats --config "$conf" --out "$OUT/site" --quiet || rc=$?
		[ $rc -eq 0 ] && DONE_SITE="$OUT/site/index.html" || warn "vigia stats exit status $rc"
	fi
	if has_cmd summary; then
		say "vigia summary → $OUT/outbox/summary/ (PGP/MIME to the demo members' keys)"
		mkdir -p "$OUT/outbox/summary"
		rc=0; $run env GNUPGHOME="$GNUPGHOME" "$VIGIA" summary --config "$conf" --day "$day" \
			--outbox "$OUT/outbox/summary" --quiet || rc=$?
		[ $rc -le 2 ] && DONE_SUMMARY="$OUT/outbox/summary/" || warn "vigia summary exit status $rc"
	fi
	if has_cmd incidents; then
		local rules=()
		[ -f "$SRC/rules/vigia.rules" ] && rules=(--rules "$SRC/rules/vigia.rules")
		say "vigia incidents → the database and $OUT/outbox/incidents.jsonl"
		mkdir -p "$OUT/outbox"
		rc=0; $run "$VIGIA" incidents --db "$db" --archive "$arch" --day "$day" "${rules[@]}" \
			"${nets[@]}" --jsonl "$OUT/outbox/incidents.jsonl" --quiet || rc=$?
		[ $rc -le 2 ] && DONE_INCIDENTS="$OUT/outbox/incidents.jsonl" || warn "vigia incidents exit status $rc"
	fi
	# export, notify and watch: called with the options their --help names
	# (they were built alongside this script).
	local cmd args
	for cmd in export notify watch; do
		has_cmd $cmd || continue
		if [ $cmd = notify ] && ! grep -q '^national ' "$conf"; then
			say "vigia notify: skipped (no national space in this configuration)"
			continue
		fi
		args=(--config "$conf")
		has_opt $cmd --day && args+=(--day "$day")
		case $cmd in
		export)
			has_opt export --format && args+=(--format jsonl)
			has_opt export --rir && args+=("${RIR[@]}")
			args+=(--out "$OUT/outbox/feed.jsonl") ;;
		*)
			has_opt $cmd --rir && args+=("${RIR[@]}")
			if has_opt $cmd --outbox; then
				args+=(--outbox "$OUT/outbox/$cmd")
			elif has_opt $cmd --out; then
				args+=(--out "$OUT/outbox/$cmd")
			fi ;;
		esac
		say "vigia $cmd ${args[*]:2}" | sed 's/--rir [^ ]* //g' | cut -c1-110
		mkdir -p "$OUT/outbox"
		rc=0; $run env GNUPGHOME="$GNUPGHOME" "$VIGIA" $cmd "${args[@]}" > "$OUT/outbox/$cmd.log" 2>&1 || rc=$?
		if [ $rc -le 2 ]; then
			case $cmd in
			export) DONE_FEED="$OUT/outbox/feed.jsonl" ;;
			notify) [ -n "$(find "$OUT/outbox/notify" -type f 2>/dev/null | head -1)" ] &&
				DONE_NOTIFY="$OUT/outbox/notify/" ||
				warn "vigia notify wrote nothing: $(tail -1 "$OUT/outbox/notify.log")" ;;
			watch) DONE_WATCH="$OUT/outbox/watch.log" ;;
			esac
		else
			warn "vigia $cmd exit status $rc (see $OUT/outbox/$cmd.log)"
		fi
	done
}

# Demo OpenPGP keys: the alliance's signing key and one key per member,
# in a keyring of the demo's own (never the user's).
make_keys() {
	export GNUPGHOME=$1
	mkdir -p "$GNUPGHOME" && chmod 700 "$GNUPGHOME"
	local uid fpr
	for uid in "Vigia Demo Alliance <vigia@alliance.test>" "CERT One <cert@one.test>" \
		"CSIRT Two <csirt@two.test>" "SOC Three <soc@three.test>"; do
		gpg --batch --quiet --passphrase '' --quick-gen-key "$uid" ed25519 sign,cert 1y 2>/dev/null
		fpr=$(gpg --batch --with-colons --list-keys "$uid" 2>/dev/null | awk -F: '$1=="fpr"{print $10; exit}')
		gpg --batch --quiet --passphrase '' --quick-add-key "$fpr" cv25519 encr 1y 2>/dev/null
		echo "$fpr"
	done
}

mail_config() { # keyring alliance-fpr m1 m2 m3
	cat <<CONF
mail {
  from vigia@alliance.test
  keyring $1
  sign-key $2
  smtp smtp://127.0.0.1:1
}
member one { address cert@one.test; key $3 }
member two { address csirt@two.test; key $4 }
member three { address soc@three.test; key $5 }
CONF
}

print_results() {
	echo
	echo "Results (in $(($(date +%s) - T0)) s):"
	[ -n "$DONE_SITE" ] && echo "  site           $DONE_SITE"
	[ -n "${DONE_STATUS:-}" ] && echo "  status page    $DONE_STATUS"
	[ -n "$DONE_SUMMARY" ] && echo "  summary        $DONE_SUMMARY (Maildir, encrypted)"
	[ -n "$DONE_INCIDENTS" ] && echo "  incidents      $DONE_INCIDENTS"
	[ -n "$DONE_FEED" ] && echo "  feed           $DONE_FEED"
	[ -n "$DONE_NOTIFY" ] && echo "  notifications  $DONE_NOTIFY"
	[ -n "$DONE_WATCH" ] && echo "  watch          $DONE_WATCH"
	[ -n "${DONE_DB:-}" ] && echo "  database       $DONE_DB"
	[ -n "${DONE_ARCHIVE:-}" ] && echo "  archive        $DONE_ARCHIVE"
	local c
	for c in stats summary incidents export notify watch; do
		has_cmd $c || echo "  (vigia $c is not built yet: skipped)"
	done
}

# ======================================================================
# Without root: the central pipeline on generated and bundled captures.
# ======================================================================
if [ "$(id -u)" -ne 0 ]; then
	echo "demo-alliance: not root, so no network namespaces, sensors or attacks."
	echo "Running the central pipeline on generated and bundled captures instead."
	echo "(Run 'sudo make demo' for the whole alliance.)"
	NSTAGES=4
	stage "analysing a generated day and the bundled real captures (scripts/demo.sh)"
	bash "$SRC/scripts/demo.sh" | sed 's/^/   /' || die "scripts/demo.sh failed"
	W=$OUT/alliance
	rm -rf "$W" "$OUT/site" "$OUT/outbox"
	mkdir -p "$W/archive"
	DAY=$(date -u +%F)
	stage "an archive of three sensors: one generated day each ($DAY)"
	NETS=(192.0.2.0/24 198.51.100.0/24 203.0.113.0/24)
	for i in 1 2 3; do
		d="$W/archive/s$i/${DAY//-//}"
		mkdir -p "$d"
		"$GEN" --day "$DAY" --packets 100000 --sources 2000 --seed $((i * 7)) \
			--honeynet "${NETS[$((i - 1))]}" --quiet --out "$d/00.pcap" || die "vigia-gen-day failed"
	done
	{
		echo "archive $W/archive"
		echo "database $W/vigia.db"
		for i in 1 2 3; do
			echo "sensor s$i { id $i; host 127.0.0.1; identity none; host-key \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\"; network ${NETS[$((i - 1))]} }"
		done
	} > "$W/vigia.conf"
	export GNUPGHOME=$W/gnupg
	if has_cmd summary && command -v gpg >/dev/null; then
		mapfile -t K < <(make_keys "$GNUPGHOME")
		mail_config "$GNUPGHOME" "${K[@]}" >> "$W/vigia.conf"
	fi
	stage "vigia ingest"
	"$VIGIA" ingest --config "$W/vigia.conf" "${RIR[@]}" || die "vigia ingest failed"
	DONE_DB=$W/vigia.db DONE_ARCHIVE=$W/archive
	stage "the later subcommands present in this build"
	later_commands "" "$W/vigia.conf" "$W/archive" "$W/vigia.db" "$DAY" "${NETS[@]}"
	[ -d "$W/gnupg" ] && gpgconf --homedir "$W/gnupg" --kill all 2>/dev/null
	print_results
	exit 0
fi

# ======================================================================
# As root: the alliance in network namespaces.
# ======================================================================
for f in "$SD" "$GW"; do
	[ -x "$f" ] || die "$f is not built: run 'make build' first"
done
for t in ip sshd ssh ssh-keygen rsync nmap tcpdump; do
	command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || die "'$t' is not installed: run scripts/deps"
done
TOOLS_MISSING=()
for t in hping3 masscan curl nc tcpreplay tcprewrite; do
	command -v "$t" >/dev/null || TOOLS_MISSING+=("$t")
done
[ ${#TOOLS_MISSING[@]} -eq 0 ] || warn "not installed, skipped: ${TOOLS_MISSING[*]} (scripts/deps installs them)"
have() { command -v "$1" >/dev/null; }

P=vgd$$                      # prefix of every namespace and interface
NS_C=${P}c NS_A=${P}a
NSES=()
NSENS=3
TMP=$(mktemp -d /tmp/vigia-demo.XXXXXX)
chmod 755 "$TMP"             # the gateway's user walks to the spools
W=$OUT/alliance
USERS_MADE=()
SUSER=vigia-demo          # runs vigia-sensord's packet-parsing child
DUSER=vigia-demo-collect  # the central server's login on the sensors
GNUPGHOME=$W/gnupg

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	echo
	echo "== cleaning up: processes, namespaces, temporary files"
	# The script's own background jobs (attack groups) first, as groups.
	local j
	for j in $(jobs -p); do kill -TERM -- "-$j" 2>/dev/null || kill -TERM "$j" 2>/dev/null; done
	# Every process in the demo's namespaces: sensord, sshd and its
	# children, gateways, attack tools, gpg-agent.
	local ns p
	for ns in "${NSES[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
	done
	for _ in $(seq 30); do
		local left=0
		for ns in "${NSES[@]}"; do
			[ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && left=1
		done
		[ $left -eq 0 ] && break
		sleep 0.1
	done
	for ns in "${NSES[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	wait 2>/dev/null
	[ -d "$GNUPGHOME" ] && gpgconf --homedir "$GNUPGHOME" --kill all 2>/dev/null
	for u in "${USERS_MADE[@]}"; do userdel "$u" 2>/dev/null; done
	rm -rf "$TMP"
	[ $rc -eq 0 ] || echo "demo-alliance: failed (status $rc); everything it started is removed" >&2
	exit $rc
}
trap cleanup EXIT
trap 'echo; echo "demo-alliance: interrupted"; exit 130' INT TERM

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
mac_of() { ip netns exec "$1" cat "/sys/class/net/$2/address"; }

# ---------------------------------------------------------------------
stage "network: a central, an attacker and $NSENS sensor namespaces"
rm -rf "$W" "$OUT/site" "$OUT/outbox"
mkdir -p "$W/archive" "$OUT"
ip netns add "$NS_C" && NSES+=("$NS_C") || die "ip netns add failed (is this a container without CAP_SYS_ADMIN?)"
ip netns add "$NS_A" && NSES+=("$NS_A") || die "ip netns add failed"
in_ns "$NS_C" ip link set lo up
in_ns "$NS_A" ip link set lo up
# The attackers' many addresses: 10.66.0.1-60, on the attacker's lo.
for k in $(seq 1 60); do echo "addr add 10.66.0.$k/32 dev lo"; done | in_ns "$NS_A" ip -batch -
for i in $(seq 1 $NSENS); do
	ns=${P}s$i
	ip netns add "$ns" && NSES+=("$ns") || die "ip netns add $ns failed"
	in_ns "$ns" ip link set lo up
	# attacker <-> sensor (the honeynet side)
	ip link add "${P}a$i" type veth peer name "${P}h$i" || die "veth failed"
	ip link set "${P}a$i" netns "$NS_A"
	ip link set "${P}h$i" netns "$ns"
	in_ns "$NS_A" ip addr add "10.76.$i.1/30" dev "${P}a$i"
	in_ns "$ns" ip addr add "10.76.$i.2/30" dev "${P}h$i"
	in_ns "$NS_A" ip link set "${P}a$i" up
	in_ns "$ns" ip link set "${P}h$i" up
	in_ns "$NS_A" ip route add "10.77.$i.0/24" via "10.76.$i.2"
	# central <-> sensor (management: ssh only)
	ip link add "${P}c$i" type veth peer name "${P}m$i" || die "veth failed"
	ip link set "${P}c$i" netns "$NS_C"
	ip link set "${P}m$i" netns "$ns"
	in_ns "$NS_C" ip addr add "10.78.$i.1/30" dev "${P}c$i"
	in_ns "$ns" ip addr add "10.78.$i.2/30" dev "${P}m$i"
	in_ns "$NS_C" ip link set "${P}c$i" up
	in_ns "$ns" ip link set "${P}m$i" up
	# The sensor's own kernel stays silent for the honeynet (vigia-sensord
	# answers), and the NIC hands over frames as a real one would.
	in_ns "$ns" sysctl -qw net.ipv4.ip_forward=0
	in_ns "$ns" sysctl -qw net.ipv4.conf.all.send_redirects=0
	in_ns "$NS_A" ethtool -K "${P}a$i" tso off gso off gro off >/dev/null 2>&1
	in_ns "$ns" ethtool -K "${P}h$i" gro off >/dev/null 2>&1
	say "sensor s$i: honeynet 10.77.$i.0/24, ssh at 10.78.$i.2"
done

# ---------------------------------------------------------------------
stage "sensors: configurations, vigia-sensord, sshd with the gateway key"
# As deployed (docs/deploy.md): sensord's own user, and a collection
# user sharing its group, the only account the central key reaches.
if ! id "$SUSER" >/dev/null 2>&1; then
	useradd --system --user-group --no-create-home --home-dir / --shell /usr/sbin/nologin "$SUSER" ||
		die "useradd $SUSER failed"
	USERS_MADE+=("$SUSER")
fi
if ! id "$DUSER" >/dev/null 2>&1; then
	useradd --system --gid "$SUSER" --no-create-home --home-dir / --shell /bin/sh "$DUSER" ||
		die "useradd $DUSER failed"
	USERS_MADE=("$DUSER" "${USERS_MADE[@]}")
fi
usermod -p '*' "$DUSER" 2>/dev/null   # '!' = locked, and sshd refuses it
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -C vigia-central -f "$W/collect_ed25519" || die "ssh-keygen failed"

# Each member's sensor: its own templates, personalities and services.
sensor_conf() {
	case $1 in
	1) cat <<'CONF'
# s1: a university's Windows network, with an open proxy
create default
set default default tcp action closed
set default default udp action closed
set default default icmp action open
create winxp
set winxp personality "Microsoft Windows XP SP2 or SP3"
set winxp ethernet "dell"
add winxp tcp port 80 http-iis
add winxp tcp port 135 open
add winxp tcp port 139 smb
add winxp tcp port 445 smb
add winxp tcp port 1433 mssql
add winxp udp port 1434 mssql-resolver
add winxp udp port 137 netbios-ns
add winxp tcp port 4444 open
create win2003
set win2003 personality "Microsoft Windows Server 2003 SP2"
set win2003 ethernet "hp"
add win2003 tcp port 80 http-iis
add win2003 tcp port 445 smb
add win2003 tcp port 3389 open
create proxy
set proxy personality "Linux 2.6.32"
add proxy tcp port 80 proxy
add proxy tcp port 3128 proxy
add proxy tcp port 8080 proxy
add proxy tcp port 1080 proxy
add proxy tcp port 8124 proxy
bind 10.77.1.10 winxp
bind 10.77.1.11 winxp
bind 10.77.1.20 winxp
bind 10.77.1.12 win2003
bind 10.77.1.31 proxy
bind 10.77.1.32 proxy
CONF
	;;
	2) cat <<'CONF'
# s2: a research centre's Linux servers
create default
set default default tcp action closed
set default default udp action closed
set default default icmp action open
create web
set web personality "Linux 4.4"
add web tcp port 22 ssh
add web tcp port 80 http-apache
add web tcp port 443 open
create mail
set mail personality "Linux 2.6.32"
add mail tcp port 25 smtp
add mail tcp port 110 pop3
add mail tcp port 143 imap
add mail tcp port 22 ssh
create ftp
set ftp personality "FreeBSD 8.2-RELEASE"
add ftp tcp port 21 ftp
add ftp tcp port 22 ssh
bind 10.77.2.10 web
bind 10.77.2.11 web
bind 10.77.2.22 web
bind 10.77.2.25 mail
bind 10.77.2.21 ftp
CONF
	;;
	*) cat <<'CONF'
# s3: a state network's routers, printers and old Unix
create default
set default default tcp action closed
set default default udp action closed
set default default icmp action open
create router
set router personality "Cisco C3620 router (IOS 12.3)"
set router ethernet "cisco"
add router tcp port 23 telnet
add router tcp port 80 http-apache
create printer
set printer personality "HP LaserJet 4250 (JetDirect) printer"
add printer tcp port 80 http-apache
add printer tcp port 9100 open
add printer tcp port 23 telnet
create obsd
set obsd personality "OpenBSD 4.3"
add obsd tcp port 22 ssh
add obsd tcp port 23 telnet
add obsd tcp port 21 ftp
bind 10.77.3.1 router
bind 10.77.3.23 router
bind 10.77.3.40 printer
bind 10.77.3.41 printer
bind 10.77.3.10 obsd
bind 10.77.3.50 obsd
CONF
	;;
	esac
	# A Honeyd-style script service on each sensor (a banner).
	echo "add default tcp port 10000 \"echo 'MiniServ/1.890 ready'\""
	# short periods, so that the demo's files complete while it runs
	echo "vigia rotate 15"
	echo "vigia status-interval 1"
	echo "vigia user $SUSER"
}

declare -A SENSOR_NAME=([1]=unb [2]=cbpf [3]=inpe)
declare -A SENSOR_INST=([1]="Universidade Demo 1" [2]="Centro de Pesquisa Demo 2" [3]="Rede Estadual Demo 3")
{
	echo "# vigia.conf of the demo alliance (scripts/demo-alliance.sh)"
	echo "archive $W/archive"
	echo "database $W/vigia.db"
	echo "parallel 3"
	echo "connect-timeout 5s"
	echo "status {"
	echo "  uptime-warn 0"      # the sensors of a demo are all fresh
	echo "  drops-warn 1000; drops-crit 100000"
	echo "}"
} > "$W/vigia.conf"
# The lab's attacker range gets countries of its own, in a delegation file
# of the demo (RIR format): 10.66.0.0-15 and .48-63 "national" (BR), the
# rest foreign, so that the site's country graphs, the feed (foreign) and
# the notifications (national) all have something to show.
cat > "$W/delegated-demo-lab" <<'RIR'
2|demo|20260101|4|19700101|20260101|+0000
demo|BR|ipv4|10.66.0.0|16|20260101|allocated
demo|CN|ipv4|10.66.0.16|16|20260101|allocated
demo|US|ipv4|10.66.0.32|16|20260101|allocated
demo|BR|ipv4|10.66.0.48|16|20260101|allocated
RIR
RIR+=(--rir "$W/delegated-demo-lab")
echo "national BR" >> "$W/vigia.conf"
for i in $(seq 1 $NSENS); do
	ns=${P}s$i d=$TMP/s$i spool=$TMP/s$i/spool
	mkdir -p "$spool/pcap"
	# The gateway's ack takes MANIFEST.lock for writing: group-writable,
	# whatever umask sensord's child runs with.
	install -m 0660 /dev/null "$spool/MANIFEST.lock"
	chown -R "$SUSER:$SUSER" "$spool"
	chmod 2770 "$spool" "$spool/pcap"
	sensor_conf $i > "$d/honeyd.conf"
	# sensord, live on the honeynet side of the sensor's namespace
	ip netns exec "$ns" "$SD" -f "$d/honeyd.conf" -i "${P}h$i" -d --spool "$spool" \
		-l "$spool/honeyd.log" --pid-file "$d/sensord.pid" --seed "$i" "10.77.$i.0/24" \
		> "$d/sensord.log" 2>&1 &
	# sshd with the central key, forced to the gateway
	ssh-keygen -q -t ed25519 -N '' -C "sensor-$i" -f "$d/host_key"
	echo "restrict,command=\"$GW $spool\" $(cat "$W/collect_ed25519.pub")" > "$d/authorized_keys"
	cat > "$d/sshd_config" <<CONF
Port 22
ListenAddress 10.78.$i.2
HostKey $d/host_key
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers $DUSER
MaxStartups 50
CONF
	ip netns exec "$ns" /usr/sbin/sshd -D -e -f "$d/sshd_config" 2> "$d/sshd.log" &
	cat >> "$W/vigia.conf" <<CONF
sensor ${SENSOR_NAME[$i]} {
  id $i
  institution "${SENSOR_INST[$i]}"
  public-name "sensor-$i"
  host 10.78.$i.2
  user $DUSER
  identity $W/collect_ed25519
  host-key "$(cut -d' ' -f1,2 "$d/host_key.pub")"
  spool $spool
  retention 24h
  network 10.77.$i.0/24
}
CONF
done
for i in $(seq 1 $NSENS); do
	ok=0
	for _ in $(seq 100); do
		if [ -s "$TMP/s$i/spool/status.json" ] &&
			in_ns "$NS_C" bash -c "exec 3<>/dev/tcp/10.78.$i.2/22" 2>/dev/null; then
			ok=1; break
		fi
		sleep 0.1
	done
	[ $ok -eq 1 ] || { cat "$TMP/s$i/sensord.log" "$TMP/s$i/sshd.log" >&2; die "sensor s$i did not start"; }
	say "s$i (${SENSOR_NAME[$i]}): vigia-sensord capturing on ${P}h$i, sshd on 10.78.$i.2:22"
done

if has_cmd summary && command -v gpg >/dev/null; then
	mapfile -t K < <(make_keys "$GNUPGHOME")
	mail_config "$GNUPGHOME" "${K[@]}" >> "$W/vigia.conf"
	say "demo OpenPGP keys: the alliance and three members ($GNUPGHOME)"
	# The contact table: the lab's "national" attackers report to member
	# one's CERT, encrypted to its key.  Every contact is in the table, so
	# notify needs no RDAP or whois (the central namespace has no route out).
	{
		echo "notify {"
		echo "  contact 10.66.0.0/16 abuse@lab.test key ${K[1]}"
		echo "  feed-name \"vigia-demo\""
		# the notices' guidance templates, from the source tree when there
		g=$(find "$SRC" -maxdepth 3 -path "$SRC/build*" -prune -o -name map.txt -path '*guidance*' -print 2>/dev/null | head -1)
		[ -n "$g" ] && echo "  guidance $(dirname "$g")"
		echo "}"
	} >> "$W/vigia.conf"
fi

# ---------------------------------------------------------------------
stage "attacks: real tools from 60 attacker addresses against the three /24s"
A() { ip netns exec "$NS_A" "$@"; }
src() { echo "10.66.0.$1"; }
LOGA=$TMP/attack
mkdir -p "$LOGA"

# Captures rewritten onto the sensors: only the attacker's direction (the
# recorded honeypot's own replies are dropped: the sensor answers live),
# the recorded victim mapped onto a sensor's address, Ethernet addresses
# set for the veth, checksums fixed.
#   capture | recorded victim | sensor | new victim | what
REPLAYS=(
	"blaster.pcap 10.234.2.116 1 10.77.1.20 worm (Blaster, 135 and 4444/tcp)"
	"sshguess.pcap 192.168.56.103 2 10.77.2.22 ssh password guessing"
	"bruteforce.pcap 192.168.56.101 2 10.77.2.21 ftp brute force"
	"proxy.pcap 192.168.56.101 1 10.77.1.31 HTTP proxy request"
	"socks.pcap 60.190.189.214 1 10.77.1.32 SOCKS proxy probing"
	"telnet.pcap 192.168.0.1 3 10.77.3.23 telnet login"
	"synscan.pcap 64.13.134.52 3 10.77.3.50 SYN scan"
)
[ "$SHORT" = 1 ] && REPLAYS=("${REPLAYS[0]}" "${REPLAYS[1]}" "${REPLAYS[3]}")
replay_all() {
	local line cap victim s new what
	for line in "${REPLAYS[@]}"; do
		read -r cap victim s new what <<<"$line"
		tcpdump -Z root -r "$PCAPS/$cap" -w "$LOGA/$cap.in" "ip and dst host $victim" 2>/dev/null || continue
		tcprewrite --infile="$LOGA/$cap.in" --outfile="$LOGA/$cap.re" \
			--dstipmap="$victim/32:$new/32" \
			--enet-smac="$(mac_of "$NS_A" "${P}a$s")" --enet-dmac="$(mac_of "${P}s$s" "${P}h$s")" \
			--fixcsum 2>"$LOGA/$cap.rewrite.err" || { echo "tcprewrite $cap failed"; continue; }
		A tcpreplay -q -i "${P}a$s" --pps=500 "$LOGA/$cap.re" >/dev/null 2>&1 &&
			echo "tcpreplay $cap → $new ($what): $(tcpdump -r "$LOGA/$cap.re" 2>/dev/null | wc -l) packets" ||
			echo "tcpreplay $cap failed"
	done
}

# One attack group per sensor, run at once; each is a process group of its own
# (set -m) so that Ctrl-C and cleanup reach every tool.
attack_sensor() {
	local i=$1 net=10.77.$1 dev=${P}a$1 rmac
	rmac=$(mac_of "${P}s$1" "${P}h$1")
	local s1 s2 s3 s4 s5
	s1=$(src $((i * 10 + 1))) s2=$(src $((i * 10 + 2))) s3=$(src $((i * 10 + 3)))
	s4=$(src $((i * 10 + 4))) s5=$(src $((i * 10 + 5)))
	local hosts ports
	case $i in
	1) hosts="$net.10 $net.12 $net.31"; ports=80,135,139,445,1433,3128,3389 ;;
	2) hosts="$net.10 $net.21 $net.25"; ports=21,22,25,80,110,143 ;;
	*) hosts="$net.10 $net.23 $net.40"; ports=21,22,23,80,9100 ;;
	esac
	if [ "$SHORT" = 1 ]; then
		A nmap -n -Pn -sS -S "$s1" -e "$dev" -p "$ports" --max-retries 1 "$net.1-40" >/dev/null 2>&1 &&
			echo "nmap -sS -p $ports $net.1-40 from $s1"
	else
		A nmap -n -Pn -sS -S "$s1" -e "$dev" --top-ports 200 --max-retries 1 "$net.1-60" >/dev/null 2>&1 &&
			echo "nmap -sS --top-ports 200 $net.1-60 from $s1"
		set -- $hosts
		A nmap -n -Pn -O -S "$s2" -e "$dev" --max-os-tries 1 "$1" "$2" > "$LOGA/nmap-O-$i.txt" 2>&1 &&
			echo "nmap -O $1 $2 from $s2: $(grep -h -m2 -E '^(Running|OS details|Aggressive OS guesses)' "$LOGA/nmap-O-$i.txt" | tr '\n' ' ' | cut -c1-110)"
		A nmap -n -Pn -sV --version-light -S "$s3" -e "$dev" -p "$ports" "$3" > "$LOGA/nmap-sV-$i.txt" 2>&1 &&
			echo "nmap -sV $3 from $s3: $(grep -c '/tcp *open' "$LOGA/nmap-sV-$i.txt") open ports"
	fi
	if have hping3; then
		local n=200
		[ "$SHORT" = 1 ] && n=30
		A hping3 -q -S -p 445 -a "$s4" -c $n -i u2000 "$net.10" >/dev/null 2>&1
		A hping3 -q --udp -p 1434 -a "$s4" -c 20 -i u5000 "$net.10" >/dev/null 2>&1
		A hping3 -q -1 -a "$s5" -c 20 -i u5000 "$net.11" >/dev/null 2>&1
		echo "hping3: SYN flood to $net.10:445, UDP 1434 and ICMP from $s4, $s5"
	fi
	if have masscan && [ "$SHORT" != 1 ]; then
		A masscan "$net.0/24" -p 22,23,80,443,445,3389,8080 --rate 3000 --wait 2 \
			--adapter "$dev" --adapter-ip "$(src $((i * 10 + 6)))" --router-mac "$rmac" \
			> "$LOGA/masscan-$i.txt" 2>&1 &&
			echo "masscan $net.0/24 7 ports: $(grep -c '^Discovered' "$LOGA/masscan-$i.txt") open"
	fi
}

# Application-level attacks: HTTP, the open proxy, logins by hand.
attack_apps() {
	local c
	if have curl; then
		c=$(A curl -s -o /dev/null -w '%{http_code}' --max-time 5 --interface "$(src 51)" \
			"http://10.77.1.10/scripts/..%255c../winnt/system32/cmd.exe?/c+dir")
		echo "curl IIS directory traversal on 10.77.1.10: HTTP $c"
		c=$(A curl -s -o /dev/null -w '%{http_code}' --max-time 5 --interface "$(src 52)" \
			-A "Mozilla/5.0 zgrab/0.x" "http://10.77.2.10/cgi-bin/test.cgi")
		echo "curl Apache CGI probe on 10.77.2.10: HTTP $c"
		# a proxy check: the sensor answers as an open proxy and never relays
		c=$(A curl -s -o /dev/null -w '%{http_code}' --max-time 5 --interface "$(src 53)" \
			-x http://10.77.1.31:3128 "http://proxycheck.example/azenv.php")
		echo "curl through the open proxy 10.77.1.31:3128: HTTP $c (nothing relayed)"
	fi
	if have nc; then
		printf 'USER anonymous\r\nPASS guest@\r\nUSER root\r\nPASS 123456\r\nQUIT\r\n' |
			A nc -s "$(src 54)" -w 3 -q 2 10.77.2.21 21 >/dev/null 2>&1
		echo "nc ftp logins on 10.77.2.21"
		printf 'EHLO spam.example\r\nMAIL FROM:<a@spam.example>\r\nRCPT TO:<b@victim.example>\r\nQUIT\r\n' |
			A nc -s "$(src 55)" -w 3 -q 2 10.77.2.25 25 >/dev/null 2>&1
		echo "nc smtp relay test on 10.77.2.25"
		printf 'root\r\nadmin\r\n' | A nc -s "$(src 56)" -w 3 -q 2 10.77.3.23 23 >/dev/null 2>&1
		echo "nc telnet login on 10.77.3.23"
	fi
}

set -m
ATTACKS=()
for i in $(seq 1 $NSENS); do
	attack_sensor "$i" > "$LOGA/group-$i.out" 2>&1 &
	ATTACKS+=($!)
done
attack_apps > "$LOGA/apps.out" 2>&1 &
ATTACKS+=($!)
if have tcpreplay && have tcprewrite; then
	replay_all > "$LOGA/replay.out" 2>&1 &
	ATTACKS+=($!)
fi
set +m
wait "${ATTACKS[@]}"
cat "$LOGA"/group-*.out "$LOGA/apps.out" "$LOGA/replay.out" 2>/dev/null | sed 's/^/   /'

# ---------------------------------------------------------------------
stage "sensors: waiting for the spool files to complete (15 s periods)"
now=$(date +%s)
sleep $((15 - now % 15 + 2))
for i in $(seq 1 $NSENS); do
	n=$(wc -l < "$TMP/s$i/spool/MANIFEST" 2>/dev/null || echo 0)
	in=$(jq -r '"\(.packets_received) packets received, \(.packets_sent) sent"' "$TMP/s$i/spool/status.json" 2>/dev/null)
	say "s$i: $n completed files, ${in:-?}"
done

# ---------------------------------------------------------------------
stage "central: vigia collect (ssh + rsync through each sensor's gateway)"
C() { ip netns exec "$NS_C" "$@"; }
rc=0; C "$VIGIA" collect --config "$W/vigia.conf" | sed 's/^/   /' || rc=$?
case $rc in
0) ;;
2) warn "vigia collect: some sensor failed (exit status 2)" ;;
*) die "vigia collect failed (exit status $rc)" ;;
esac
DONE_ARCHIVE=$W/archive

# ---------------------------------------------------------------------
stage "central: vigia status (health of every sensor) and vigia ingest"
rc=0; C "$VIGIA" status --config "$W/vigia.conf" --html "$OUT/status.html" | sed 's/^/   /' || rc=$?
C "$VIGIA" status --config "$W/vigia.conf" --json --no-store > "$OUT/status.json" 2>/dev/null
DONE_STATUS=$OUT/status.html
rc=0; C "$VIGIA" ingest --config "$W/vigia.conf" "${RIR[@]}" 2>&1 | sed 's/^/   /' || rc=$?
[ $rc -eq 0 ] || [ $rc -eq 2 ] || die "vigia ingest failed (exit status $rc)"
DONE_DB=$W/vigia.db

# ---------------------------------------------------------------------
stage "central: stats, summary, incidents, export, notify, watch (those built)"
DAY=$(date -u +%F)
NETS=()
for i in $(seq 1 $NSENS); do NETS+=("10.77.$i.0/24"); done
later_commands C "$W/vigia.conf" "$W/archive" "$W/vigia.db" "$DAY" "${NETS[@]}"
print_results
