#!/bin/bash
# The JSON document has the documented shape (docs/analyze-json.md), and
# its numbers are consistent: every frame is accounted for once, each
# category's series sum to its totals, top 10 + Others = the category, and
# the CSV files hold the same numbers as the JSON.
source "$(dirname "$0")/lib.sh"

"$GEN" --packets 200000 --seed 3 --out "$T/day.pcap" > /dev/null
"$VIGIA" analyze --quiet "${HN_ARGS[@]}" "${RIR_ARGS[@]}" --bin 600 \
	--json "$T/a.json" --csv "$T/csv" --sources "$T/src.csv" "$T/day.pcap"
J="$T/a.json"

check() { # description, jq expression that must be true
	if [ "$(jq "$2" "$J")" = true ]; then ok "$1"; else fail "$1 ($2)"; fi
}
check "top-level fields" '(.packets|type) == "number" and (.bytes|type) == "number" and (.first|type) == "string" and (.last|type) == "string" and .bin_seconds == 600'
check "every frame accounted once" '.input.frames == .packets + .input.not_honeynet + .input.non_ip + .input.unsupported + .input.bad + .input.fragments_merged + .input.fragments_incomplete'
check "some traffic was not to the honeynets" '.input.not_honeynet > 0'
for c in tcp_port udp_port country os windows_os other_os; do
	for m in bytes packets; do
		cat="${c}_$m"
		check "$cat present with at most 10 keys and Others last" \
			"(.categories[\"$cat\"].top | length) <= 11 and (.categories[\"$cat\"].top[-1].key == \"Others\")"
		check "$cat series: one per top entry, each .bins long" \
			".bins as \$b | (.categories[\"$cat\"].series | keys | length) == (.categories[\"$cat\"].top | length) and ([.categories[\"$cat\"].series[] | length == \$b] | all)"
		check "$cat: each key's series sums to its total" \
			"[.categories[\"$cat\"].top[] as \$t | (.categories[\"$cat\"].series[\$t.key] | add) == \$t.$m] | all"
		check "$cat: ranked by $m" \
			"[.categories[\"$cat\"].top[:-1][].$m] as \$v | \$v == (\$v | sort | reverse)"
		# CSV: the per-bin columns sum to the JSON totals.
		csv_sum=$(awk -F, 'NR > 1 { for (i = 2; i <= NF; i++) s += $i } END { printf "%d", s }' "$T/csv/$cat.csv")
		json_sum=$(jq "[.categories[\"$cat\"].top[].$m] | add" "$J")
		[ "$csv_sum" = "$json_sum" ] && ok "$cat.csv sums to $json_sum" || fail "$cat.csv sums to $csv_sum, JSON $json_sum"
	done
done
check "tcp + udp + icmp + other = packets" '.protocols.tcp + .protocols.udp + .protocols.icmp + .protocols.other == .packets'
check "country and os categories cover all packets" '([.categories.country_packets.top[].packets] | add) == .packets and ([.categories.os_packets.top[].packets] | add) == .packets'
check "windows + other OS = all OS" '([.categories.windows_os_bytes.top[].bytes] | add) + ([.categories.other_os_bytes.top[].bytes] | add) == .bytes'
check "some SYNs were fingerprinted" '.fingerprint.syns_matched > 0'
check "countries were found" '[.categories.country_packets.top[].key | select(. != "--" and . != "Others")] | length >= 5'
# Per-source CSV sums to the same packets.
src_sum=$(awk -F, 'NR > 1 { s += $4 } END { printf "%d", s }' "$T/src.csv")
[ "$src_sum" = "$(jq .packets "$J")" ] && ok "sources.csv sums to the packets" || fail "sources.csv sums to $src_sum"
head -1 "$T/src.csv" | grep -qx 'ip,country,os,packets,bytes,first,last' && ok "sources.csv header" || fail "sources.csv header"
finish
