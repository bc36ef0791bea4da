#!/bin/bash
# Issue 4, acceptance 5, live in network namespaces: `nmap -sV` on the
# emulated services names the product each template claims.  The offline
# check against nmap-service-probes is tests/unit/test-svc-nmap.c; this one
# runs the real nmap, over TCP, against the live sensor, and fails on any
# match that names a honeypot.
. "$(dirname "$0")/lib.sh"
need_root_and_tools nmap ethtool

cat >"$T/honeyd.conf" <<CONF
create default
set default default tcp action closed
set default default udp action closed
set default default icmp action open

create win
set win personality "Microsoft Windows Server 2003 SP1 or SP2"
set win default tcp action closed
add win tcp port 80 http-iis
add win tcp port 139 smb
add win tcp port 445 smb
add win tcp port 1433 mssql

create lin
set lin personality "Linux 2.6.18"
set lin default tcp action closed
add lin tcp port 21 ftp
add lin tcp port 22 ssh
add lin tcp port 23 telnet
add lin tcp port 25 smtp
add lin tcp port 80 http-apache
add lin tcp port 110 pop3
add lin tcp port 143 imap
add lin tcp port 3128 proxy

bind $NET.10 win
bind $NET.20 lin
CONF
# host port service product-substring
cat >"$T/expected" <<EXP
$NET.10 80 http Microsoft IIS httpd
$NET.10 139 netbios-ssn Microsoft Windows netbios-ssn
$NET.10 445 microsoft-ds Microsoft Windows
$NET.10 1433 ms-sql-s Microsoft SQL Server
$NET.20 21 ftp vsftpd
$NET.20 22 ssh OpenSSH
$NET.20 23 telnet Linux telnetd
$NET.20 25 smtp Postfix smtpd
$NET.20 80 http Apache httpd
$NET.20 110 pop3 Dovecot pop3d
$NET.20 143 imap Dovecot imapd
$NET.20 3128 http-proxy Squid http proxy
EXP

netns_setup
start_sensord "$T/honeyd.conf"
A nmap -n -Pn -sV -p 80,139,445,1433 -oX "$T/win.xml" "$NET.10" >"$T/win.out" 2>&1 ||
	fail "nmap -sV $NET.10 failed"
A nmap -n -Pn -sV -p 21,22,23,25,80,110,143,3128 -oX "$T/lin.xml" "$NET.20" >"$T/lin.out" 2>&1 ||
	fail "nmap -sV $NET.20 failed"
cat "$T/win.out" "$T/lin.out" | grep -E '^[0-9]+/tcp'

# One line per port from the XML: host port service product version.
for x in "$T/win.xml" "$T/lin.xml"; do
	host=$(grep -o '<address addr="[0-9.]*"' "$x" | head -1 | cut -d'"' -f2)
	grep -o '<port protocol="tcp" portid="[0-9]*">.*</port>' "$x" | while read -r p; do
		port=$(echo "$p" | grep -o 'portid="[0-9]*"' | cut -d'"' -f2)
		name=$(echo "$p" | grep -o '<service name="[^"]*"' | cut -d'"' -f2)
		prod=$(echo "$p" | grep -o 'product="[^"]*"' | cut -d'"' -f2)
		echo "$host|$port|$name|$prod"
	done
done >"$T/found"

while read -r host port service product; do
	got=$(grep "^$host|$port|" "$T/found" || true)
	gsvc=$(echo "$got" | cut -d'|' -f3)
	gprod=$(echo "$got" | cut -d'|' -f4)
	if [ "$gsvc" = "$service" ] && [[ "$gprod" == *"$product"* ]]; then
		ok "$host:$port nmap -sV: $gsvc, $gprod"
	else
		fail "$host:$port nmap -sV: '$gsvc' '$gprod', expected '$service' '$product'"
	fi
done <"$T/expected"
if grep -qi 'honey' "$T/found"; then
	grep -i honey "$T/found"
	fail "nmap named a honeypot"
else
	ok "no service named as a honeypot"
fi
stop_sensord
finish
