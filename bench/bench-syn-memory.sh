#!/bin/bash
# Acceptance 6 of issue 3: replaying 1 million SYNs from 1 million spoofed
# sources through vigia-sensord keeps peak memory under 64 MiB (half-open
# connections cost nothing: SYN cookies).  Also reports SYNs per CPU-second
# through the whole program (replay, logs, output file) and through the
# responder alone.  Release build (build/).  Exit status 1 if the memory
# bound or the reply count fails.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-1000000}
LIMIT_KIB=$((64 * 1024))
B=build
[ -x "$B/src/sensord/vigia-sensord" ] && [ -x "$B/bench/vigia-gen-syn-flood" ] || make build
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat > "$T/flood.conf" <<CONF
create default
set default personality "Linux 2.6.32"
set default default tcp action closed
add default tcp port 80 open
CONF
"$B/bench/vigia-gen-syn-flood" --count "$COUNT" --rate 300000 --net 192.0.2.0 --port 80 --out "$T/flood.pcap"
srcs=$(tcpdump -nr "$T/flood.pcap" 2>/dev/null | awk '{print $3}' | sed 's/\.[0-9]*$//' | sort -u | wc -l)
echo "input: $COUNT SYNs from $srcs distinct sources, at 300000/s of packet time"

P0F=()
[ -r /etc/p0f/p0f.fp ] && P0F=(--p0f-db /etc/p0f/p0f.fp)
/usr/bin/time -f "%e %U %S %M" -o "$T/time" "$B/src/sensord/vigia-sensord" -f "$T/flood.conf" \
	--replay "$T/flood.pcap" --write "$T/out.pcap" -l "$T/conn.log" --status "$T/status.json" \
	"${P0F[@]}" 192.0.2.0/24
read -r wall user sys kib < "$T/time"
replies=$(tcpdump -nr "$T/out.pcap" 'tcp[13] == 18' 2>/dev/null | wc -l)
cpu=$(awk "BEGIN{print $user + $sys}")
printf 'vigia-sensord --replay: %d SYN-ACKs, %.2f s CPU (%.2f s wall), %.0f SYN/s per CPU-second, peak RSS %.1f MiB\n' \
	"$replies" "$cpu" "$wall" "$(awk "BEGIN{print $COUNT / $cpu}")" "$(awk "BEGIN{print $kib / 1024}")"
echo "(with the connection log, the output pcap and p0f on every SYN)"
P0F_DB=${P0F[1]:-} "$B/src/sensord/vigia-bench-stack-syn" "$T/flood.conf" "$T/flood.pcap" 192.0.2.0/24 |
	sed 's/^/responder alone, p0f on: /'
"$B/src/sensord/vigia-bench-stack-syn" "$T/flood.conf" "$T/flood.pcap" 192.0.2.0/24 |
	sed 's/^/responder alone, p0f off: /'
status=0
[ "$replies" -eq "$COUNT" ] || { echo "FAIL: $replies SYN-ACKs for $COUNT SYNs"; status=1; }
[ "$kib" -lt "$LIMIT_KIB" ] && echo "ok: peak memory $kib KiB < 64 MiB" ||
	{ echo "FAIL: peak memory $kib KiB >= 64 MiB"; status=1; }
exit $status
