# Shared set-up of the export and notify golden tests (issue 8), sourced
# after lib.sh: a config with two sensors, national codes BR and MX, the
# alliance's own contact for 200.128.0.0/16 and local registries
# (tests/tools/registry-server.py) for everything else; a database whose
# incidents are written directly (the detection has its own tests), for
# day D and the two days after it.
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
SRV_PID=""
stop_registries() {
	if [ -n "$SRV_PID" ]; then
		exec 7>&- || true
		wait "$SRV_PID" 2>/dev/null || true
		SRV_PID=""
	fi
}
# The server runs until its stdin (our fd 7) closes.
start_registries() {
	mkfifo "$T/srv.in"
	python3 "$S/tests/tools/registry-server.py" "$D/whois" "$T/registry.log" <"$T/srv.in" >"$T/srv.out" &
	SRV_PID=$!
	exec 7>"$T/srv.in"
	for _ in $(seq 100); do
		[ -s "$T/srv.out" ] && break
		sleep 0.05
	done
	read -r RDAP_PORT REFER_PORT WHOIS_PORT <"$T/srv.out"
	[ -n "$WHOIS_PORT" ] || { echo "FAIL: registry server did not start"; exit 1; }
}

DAY=2026-11-01
DAY1=2026-11-02
DAY2=2026-11-03

write_config() { # smtp-url
	cat >"$T/vigia.conf" <<CONF
archive $T/arch
database $T/vigia.db
national BR MX
# one directive per line: tests/golden/stats-scan-leaks.py reads the networks
sensor north {
  id 1
  public-name "alpha"
  host 10.99.0.1
  identity k
  host-key "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
  network 192.0.2.0/24
}
sensor south {
  id 2
  public-name "beta"
  host 10.99.0.2
  identity k
  host-key "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
  network 198.51.100.0/24
}
mail {
  from vigia@alliance.test
  smtp $1
  starttls no
  retries 1
  timeout 20s
}
notify {
  contact 200.128.0.0/16 cert@rnp.test
  rdap-server http://127.0.0.1:$RDAP_PORT/rdap/
  whois-server 127.0.0.1:$REFER_PORT
  whois-port $WHOIS_PORT
  rate 100
  quiet-days 7
  guidance $S/templates/guidance
  feed-name vigia-test
  feed-provider alliance-test
}
CONF
}

seed_db() {
	mkdir -p "$T/arch"
	"$VIGIA" notify --config "$T/vigia.conf" --list >/dev/null
	python3 - "$T/vigia.db" <<'PY'
import calendar, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
def setenc(v):
    out, prev = bytearray(), 0
    for i, x in enumerate(sorted(v)):
        gap = x - prev if i else x
        prev = x
        while True:
            b = gap & 0x7f
            gap >>= 7
            out.append(b | (0x80 if gap else 0))
            if not gap:
                break
    return bytes(out)
UDP = 65536
# (ip, country, category, name, taxonomy, type, ports, count, evidence [(line, excerpt)])
rows = [
 ("200.128.1.10", "BR", "worm", "SQL Slammer worm propagation", "malicious-code", "infected-system",
  [UDP + 1434], 10, [("{t} 200.128.1.10:1234 -> hp-1.17:1434/udp len 376", "\\x04\\x01\\x01\\x01")]),
 ("200.128.1.11", "BR", "bruteforce", "SSH brute force", "intrusion-attempts", "brute-force",
  [22], 30, [("{t} 200.128.1.11:40000 -> hp-2.9:22/tcp SYN", "SSH-2.0-libssh")]),
 # a raw honeypot address slipped into an excerpt: the sanitizer must catch it
 ("200.57.141.161", "MX", "spam", "open proxy probe: HTTP CONNECT", "information-gathering", "scanner",
  [8080], 5, [("{t} 200.57.141.161:5555 -> hp-1.3:8080/tcp", "CONNECT 192.0.2.3:25 HTTP/1.0")]),
 ("74.125.225.229", "US", "scan", "masscan SYN scan", "information-gathering", "scanner",
  [80, 443], 50, [("{t} 74.125.225.229:61000 -> hp-1.4:80/tcp SYN", "")]),
 ("62.239.237.1", "GB", "worm", "Blaster worm DCOM ISystemActivator bind", "malicious-code", "infected-system",
  [135], 3, [("{t} 62.239.237.1:1029 -> hp-2.5:135/tcp", "\\x05\\x00\\x0b")]),
 # honeypots seen as sources (their replies): never exported nor notified
 ("192.0.2.5", "--", "scan", "horizontal scan", "information-gathering", "scanner", [23], 7, []),
 ("198.51.100.9", "BR", "scan", "vertical scan", "information-gathering", "scanner", [23], 7, []),
]
def seed(day, scale):
    d0 = calendar.timegm((int(day[:4]), int(day[5:7]), int(day[8:]), 0, 0, 0))
    for ip, cc, cat, name, tax, typ, ports, count, ev in rows:
        count = scale.get(ip, 1) * count
        db.execute("INSERT OR REPLACE INTO source_day VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                   (d0, ip, count, count * 60, d0 + 36000, d0 + 39600, "Linux", cc,
                    len(ports), setenc(ports), 1, "1"))
        cur = db.execute("INSERT INTO incident(day, ip, category, name, taxonomy, type, sid,"
                         " first_seen, last_seen, count, nports, ports, sensors)"
                         " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                         (d0, ip, cat, name, tax, typ, 0, d0 + 36000, d0 + 39600, count,
                          len(ports), setenc(ports), "1"))
        for line, exc in ev:
            t = "%sT10:00:00Z" % day
            db.execute("INSERT INTO evidence VALUES (?,?,?,?,?)",
                       (cur.lastrowid, (d0 + 36000) * 10**9, 1, line.format(t=t), exc))
seed("2026-11-01", {})
seed("2026-11-02", {})                        # the same activity the next day
seed("2026-11-03", {"200.128.1.11": 10})      # one source's brute force grew
db.commit()
PY
}
