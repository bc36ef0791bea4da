# Shared set-up of the summary golden tests (issue 7), sourced after lib.sh:
# three sensors with a few generated days ingested, GnuPG keys for the
# alliance and the members in a temporary GNUPGHOME, and helpers to run
# Postfix's smtp-sink on a loopback port.
SINK=/usr/sbin/smtp-sink
[ -x "$SINK" ] || { echo "SKIP: $SINK missing (Debian package postfix)"; exit 77; }
command -v gpg >/dev/null || { echo "SKIP: gpg missing"; exit 77; }

export GNUPGHOME="$T/gnupg"
mkdir -m 700 "$GNUPGHOME"
SINK_PID=""
stop_sink() {
	if [ -n "$SINK_PID" ]; then
		kill "$SINK_PID" 2>/dev/null || true
		wait "$SINK_PID" 2>/dev/null || true
		SINK_PID=""
	fi
}
cleanup_summary() {
	stop_sink
	[ -n "${PROXY_PID:-}" ] && { kill "$PROXY_PID" 2>/dev/null || true; wait "$PROXY_PID" 2>/dev/null || true; }
	gpgconf --homedir "$GNUPGHOME" --kill all 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup_summary EXIT

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# smtp-sink writing one file per message under DIR; extra options after.
start_sink() { # dir port [options...]
	local dir=$1 port=$2
	shift 2
	mkdir -p "$dir"
	"$SINK" -u "$(id -un)" -d "$dir/%M%S." "$@" "127.0.0.1:$port" 16 &
	SINK_PID=$!
	for _ in $(seq 50); do
		python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "smtp-sink did not start"; return 1
}

gen_key() { # uid expiry [gpg options...]
	local uid=$1 exp=$2
	shift 2
	gpg --batch --quiet --passphrase '' "$@" --quick-gen-key "$uid" ed25519 sign,cert "$exp" 2>/dev/null
	local fpr
	fpr=$(gpg --batch --with-colons --list-keys "$uid" 2>/dev/null | awk -F: '$1=="fpr"{print $10; exit}')
	gpg --batch --quiet --passphrase '' "$@" --quick-add-key "$fpr" cv25519 encr "$exp" 2>/dev/null
	echo "$fpr"
}

ALLIANCE=$(gen_key "Vigia Alliance <vigia@alliance.test>" 1y)
M1=$(gen_key "CERT One <cert@one.test>" 1y)
M2=$(gen_key "CSIRT Two <csirt@two.test>" 1y)
M3=$(gen_key "SOC Three <soc@three.test>" 1y)
# An expired key: made with the clock set years back and one day of life.
EXPIRED=$(gen_key "Old Member <old@four.test>" 1d --faked-system-time 20240101T000000)
[ -n "$ALLIANCE" ] && [ -n "$M1" ] && [ -n "$M2" ] && [ -n "$M3" ] && [ -n "$EXPIRED" ] ||
	{ echo "FAIL: key generation"; exit 1; }

# Three sensors, one honeynet each; days D-7, D-1 and D, each sensor its
# own seed (the same file under two sensors would be skipped as known).
DAY=2026-11-01
mkdir -p "$T/arch"
n=0
for d in 2026-10-25 2026-10-31 2026-11-01; do
	for s in 1 2 3; do
		n=$((n + 1))
		dir="$T/arch/s$s/${d//-//}"
		mkdir -p "$dir"
		"$GEN" --day "$d" --packets 20000 --sources 400 --seed $((n * 7)) --quiet \
			--out "$dir/00.pcap"
	done
done

# Packets whose source is secret, to prove the summary hides it: sensor
# s1's honeypot 192.0.2.77 and s1's own address 10.99.0.1 probing s2's
# honeynet (so both rank among s2's top sources), at noon of $DAY.
python3 - "$T/arch/s2/2026/11/01/01.pcap" <<'PY'
import struct, sys
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
def syn(src, dst, sport, dport):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x02, 1024, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    t = 1793534400
    for i in range(3000):
        for src, n in (("192.0.2.77", 1), ("10.99.0.1", 2)):
            p = syn(src, "198.51.100.%d" % (10 + n), 40000 + i % 1000, 445 if n == 1 else 3389)
            f.write(struct.pack("<IIII", t + i // 10, (i % 10) * 1000, len(p), len(p)) + p)
PY

write_config() { # smtp-url retries [extra members...]
	cat >"$T/vigia.conf" <<CONF
archive $T/arch
database $T/vigia.db
sensor s1 { id 1; public-name "alpha"; host 10.99.0.1; identity k; host-key "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"; network 192.0.2.0/24 }
sensor s2 { id 2; public-name "beta"; host 10.99.0.2; identity k; host-key "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"; network 198.51.100.0/24 }
sensor s3 { id 3; public-name "gamma"; host 10.99.0.3; identity k; host-key "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"; network 203.0.113.0/24 }
mail {
  from vigia@alliance.test
  keyring $GNUPGHOME
  sign-key $ALLIANCE
  smtp $1
  starttls try
  retries $2
  timeout 20s
}
member one { address cert@one.test; key $M1 }
member two { address csirt@two.test; key $M2 }
member three { address soc@three.test; key "soc@three.test" }
${3:-}
CONF
}
write_config smtp://127.0.0.1:1 1
"$VIGIA" ingest --config "$T/vigia.conf" --quiet "${RIR_ARGS[@]}" ||
	{ echo "FAIL: ingest"; exit 1; }

# The received messages (smtp-sink's dump files) of one recipient.
msgs_for() { # dir address
	grep -l -i "^To: $2" "$1"/* 2>/dev/null || true
}
