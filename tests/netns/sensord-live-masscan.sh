#!/bin/bash
# Issue 4, acceptance 3, live in network namespaces: masscan over the whole
# /24 finds every virtual host's open ports, and nothing else.
#
# masscan has its own TCP/IP stack: it neither routes nor ARPs through the
# kernel, so it is given the attacker's veth (--adapter), its address and
# MAC, and the MAC of the next hop (--router-mac: the sensor side of the
# link, where 198.18.1.0/24 is routed).  Its SYN-ACKs come back to an
# address the attacker's kernel owns, which answers them with RSTs; that
# does not change what masscan saw.  The rate is modest: 2,000 probes/s.
. "$(dirname "$0")/lib.sh"
need_root_and_tools masscan ethtool

PORTS=21,22,23,25,80,110,135,139,143,443,445,1433,3128,3389,8080
cat >"$T/honeyd.conf" <<CONF
create default
set default default tcp action closed
set default default udp action closed
set default default icmp action open

create win
set win personality "Microsoft Windows Server 2003 SP1 or SP2"
set win default tcp action closed
add win tcp port 80 http-iis
add win tcp port 135 open
add win tcp port 139 smb
add win tcp port 445 smb
add win tcp port 1433 mssql
add win tcp port 3389 open

create lin
set lin personality "Linux 2.6.18"
set lin default tcp action closed
add lin tcp port 21 ftp
add lin tcp port 22 ssh
add lin tcp port 25 smtp
add lin tcp port 80 http-apache
add lin tcp port 110 pop3
add lin tcp port 143 imap

create proxy
set proxy default tcp action reset
add proxy tcp port 3128 proxy
add proxy tcp port 8080 proxy
add proxy tcp port 443 block

bind $NET.10 win
bind $NET.11 win
bind $NET.20 lin
bind $NET.21 lin
bind $NET.200 proxy
CONF
# What masscan must find: host port, sorted.
{
	for h in 10 11; do for p in 80 135 139 445 1433 3389; do echo "$NET.$h $p"; done; done
	for h in 20 21; do for p in 21 22 25 80 110 143; do echo "$NET.$h $p"; done; done
	for p in 3128 8080; do echo "$NET.200 $p"; done
} | sort >"$T/expected"

netns_setup
start_sensord "$T/honeyd.conf"
va_mac=$(A cat /sys/class/net/va/address)
vs_mac=$(SNS cat /sys/class/net/vs/address)
# 256 addresses x 15 ports at 2,000/s: about 2 s, then 3 s for the last
# answers.  Two retries against a lost probe.
A masscan "$NET.0/24" -p"$PORTS" --rate 2000 --retries 2 --wait 3 \
	--adapter va --adapter-ip 198.18.0.1 --adapter-mac "$va_mac" --router-mac "$vs_mac" \
	-oL "$T/masscan.list" >"$T/masscan.out" 2>&1 || { cat "$T/masscan.out"; fail "masscan failed"; }
# -oL lines: "open tcp PORT ADDR TIMESTAMP"
awk '$1 == "open" && $2 == "tcp" { print $4, $3 }' "$T/masscan.list" | sort -u >"$T/found"
echo "masscan found $(wc -l <"$T/found") open ports on $(cut -d' ' -f1 "$T/found" | sort -u | wc -l) hosts"
if diff -u "$T/expected" "$T/found" >"$T/diff"; then
	ok "masscan over $NET.0/24 finds exactly the $(wc -l <"$T/expected") configured open ports of the 5 virtual hosts"
else
	cat "$T/diff"
	fail "masscan's open ports differ from the configuration"
fi
stop_sensord
# The sensor saw the whole sweep: one SYN per address and port at least.
rx=$(grep -o '"packets_received": [0-9]*' "$T/spool/status.json" | grep -o '[0-9]*$')
[ "${rx:-0}" -ge $((256 * 15)) ] && ok "the sensor received the sweep ($rx frames)" ||
	fail "the sensor received only ${rx:-0} frames of a $((256 * 15))-probe sweep"
finish
