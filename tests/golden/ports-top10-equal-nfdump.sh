#!/bin/bash
# Acceptance 1 (issue 2): the TCP and UDP destination-port top 10, in bytes
# and in packets, equal what nfpcapd + nfdump report for the same capture.
# nfdump ranks its own flows; we compare values per key, and let keys that
# tie at equal values swap places.
source "$(dirname "$0")/lib.sh"

"$GEN" --packets 300000 --seed 7 --out "$T/day.pcap" > /dev/null
"$VIGIA" analyze --quiet --no-p0f "${HN_ARGS[@]}" --json "$T/a.json" "$T/day.pcap"

mkdir "$T/nf"
nfpcapd -r "$T/day.pcap" -w "$T/nf" > "$T/nfpcapd.log" 2>&1 || { cat "$T/nfpcapd.log"; fail "nfpcapd"; }
filter_hn=$(printf 'dst net %s or ' "${HONEYNETS[@]}")
filter_hn="(${filter_hn% or })"

for proto in tcp udp; do
	for m in bytes packets; do
		# All keys, so that any of our keys can be looked up.
		nfdump -R "$T/nf" -q -o csv -s "dstport/$m" -n 0 "proto $proto and $filter_hn" \
			| awk -F, -v m="$m" 'NR > 1 && $5 ~ /^[0-9]+$/ { print $5 "," (m == "bytes" ? $10 : $8) }' \
			> "$T/nf-$proto-$m.csv"
		[ -s "$T/nf-$proto-$m.csv" ] || fail "nfdump gave no $proto $m statistics"
		jq -r --arg c "${proto}_port_$m" --arg m "$m" \
			'.categories[$c].top[] | select(.key != "Others") | "\(.key),\(.[$m])"' "$T/a.json" > "$T/v-$proto-$m.csv"
		# 1. our value for each of our keys equals nfdump's for that key
		bad=$(awk -F, 'NR == FNR { nf[$1] = $2; next } !($1 in nf) || nf[$1] != $2 { print $1 ": vigia " $2 ", nfdump " ($1 in nf ? nf[$1] : "absent") }' \
			"$T/nf-$proto-$m.csv" "$T/v-$proto-$m.csv")
		[ -z "$bad" ] && ok "$proto $m: every top-10 key has nfdump's value" || fail "$proto $m: $bad"
		# 2. the ten largest values are the same list
		ours=$(cut -d, -f2 "$T/v-$proto-$m.csv" | tr '\n' ' ')
		theirs=$(cut -d, -f2 "$T/nf-$proto-$m.csv" | sort -rn | awk 'NR <= 10' | tr '\n' ' ')
		[ "$ours" = "$theirs" ] && ok "$proto $m top-10 values: $ours" || fail "$proto $m top 10: vigia [$ours] nfdump [$theirs]"
	done
done
echo "vigia tcp_port_bytes top 10:"; cat "$T/v-tcp-bytes.csv" | tr '\n' ' '; echo
finish
