#!/bin/bash
# Issue 4, acceptance 4 and 6: nmap -O against ten virtual hosts, each with
# one of the ten personalities of the issue, names the configured
# personality (first guess or a perfect match) for at least 8 of them; and
# p0f, run on the sensor's own packet log, labels each personality's
# SYN+ACKs consistently (one label per personality).
. "$(dirname "$0")/lib.sh"
need_root_and_tools nmap p0f ethtool

# Exact nmap-os-db names (Debian's nmap 7.93).
PERS=(
	"Microsoft Windows XP SP2 or SP3"
	"Microsoft Windows 7"
	"Microsoft Windows Server 2003 SP2"
	"Microsoft Windows 10"
	"Linux 2.6.32"
	"Linux 4.4"
	"FreeBSD 8.2-RELEASE"
	"OpenBSD 4.3"
	"Cisco C3620 router (IOS 12.3)"
	"HP LaserJet 4250 (JetDirect) printer"
)
{
	echo "create default"
	echo "set default default tcp action closed"
	for i in "${!PERS[@]}"; do
		echo "create p$i"
		echo "set p$i personality \"${PERS[$i]}\""
		echo "set p$i default tcp action closed"
		echo "set p$i default udp action closed"
		echo "add p$i tcp port 80 open"
		echo "add p$i tcp port 22 open"
		echo "bind $NET.$((20 + i)) p$i"
	done
} >"$T/honeyd.conf"

netns_setup
start_sensord "$T/honeyd.conf"

targets=()
for i in "${!PERS[@]}"; do targets+=("$NET.$((20 + i))"); done
A nmap -n -Pn -O -p 22,80,81 --osscan-guess --max-os-tries 2 -oN "$T/os.txt" \
	"${targets[@]}" >"$T/os.out" 2>&1 || { cat "$T/os.out"; fail "nmap -O failed"; }

named=0
printf '%-40s %s\n' "personality" "nmap's guess"
for i in "${!PERS[@]}"; do
	ip="$NET.$((20 + i))"
	# The host's section of the normal output.
	sec=$(awk -v h="Nmap scan report for $ip" '$0==h{p=1;next} /^Nmap scan report/{p=0} p' "$T/os.txt")
	details=$(echo "$sec" | sed -n 's/^OS details: //p')
	guesses=$(echo "$sec" | sed -n 's/^Aggressive OS guesses: //p')
	first=${guesses%%, *}
	if [ -n "$details" ]; then
		shown="perfect: $details"
	else
		shown="first guess: ${first:-none}"
	fi
	printf '%-40s %s\n' "${PERS[$i]}" "$shown"
	hit=0
	if [ -n "$details" ]; then
		# A perfect match lists every entry that matched.
		echo ", $details," | grep -qF ", ${PERS[$i]}," && hit=1
	fi
	[ "${first% (*}" = "${PERS[$i]}" ] && hit=1
	named=$((named + hit))
done
echo "nmap -O named the configured personality for $named of ${#PERS[@]}"
[ "$named" -ge 8 ] && ok "nmap -O: $named of 10 personalities named" ||
	fail "nmap -O: only $named of 10 personalities named (need 8)"

# Ordinary connections, as a client makes them: p0f judges these
# SYN+ACKs (its database describes replies to common clients, not to
# nmap's probes).  Fixed source ports tell them apart in the log.
# Every personality's SYN-ACK must also be one a client completes.
connected=0
for i in "${!PERS[@]}"; do
	for k in 1 2 3; do
		if A nc -z -w 2 -p $((41000 + i * 10 + k)) "$NET.$((20 + i))" 80; then
			connected=$((connected + 1))
		fi
	done
done
[ "$connected" -eq $((3 * ${#PERS[@]})) ] &&
	ok "a client completes the handshake with every personality ($connected connections)" ||
	fail "only $connected of $((3 * ${#PERS[@]})) connections completed"

stop_sensord

# --- p0f on the sensor's packet log ---------------------------------------------------
# After a clean stop every packet file is complete: SPOOL/pcap/*.pcap.
pcaps=$(ls "$T"/spool/pcap/*.pcap 2>/dev/null || true)
if [ -z "$pcaps" ]; then
	fail "no completed packet file in the spool: $(ls -R "$T/spool")"
	finish
fi
: >"$T/p0f.log"
for f in $pcaps; do
	p0f -r "$f" -o "$T/p0f.part" >/dev/null 2>&1 || fail "p0f -r $f"
	cat "$T/p0f.part" >>"$T/p0f.log"
	rm -f "$T/p0f.part"
done
consistent=0
for i in "${!PERS[@]}"; do
	ip="$NET.$((20 + i))"
	labels=$(grep "mod=syn+ack" "$T/p0f.log" | grep "srv=$ip/" | grep -E 'cli=198\.18\.0\.1/410[0-9][1-3]\|' | sed -n 's/.*|os=\([^|]*\)|.*/\1/p' |
		sort | uniq -c | sort -rn)
	n=$(echo "$labels" | grep -c . || true)
	printf '%-40s p0f: %s\n' "${PERS[$i]}" "$(echo "$labels" | tr '\n' ';' | tr -s ' ')"
	# One label per personality, and a named system of the right family.
	fam=$(echo "${PERS[$i]}" | awk '{print ($1 == "Microsoft") ? $2 : $1}')
	case "$fam" in Cisco | HP) fam= ;; esac
	if [ "$n" -eq 1 ] && { [ -z "$fam" ] || echo "$labels" | grep -qE "\?\?\?|$fam"; }; then
		consistent=$((consistent + 1))
	fi
done
[ "$consistent" -eq ${#PERS[@]} ] && ok "p0f gives one label per personality, of the right family when named" ||
	fail "p0f: $consistent of ${#PERS[@]} personalities got a single consistent label"
finish
