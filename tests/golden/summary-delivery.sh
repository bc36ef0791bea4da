#!/bin/bash
# `vigia summary` through a real SMTP server (Postfix's smtp-sink on a
# loopback port) with real GnuPG keys (issue 7, acceptance 1-3):
# - each of three members receives one RFC 3156 message that decrypts
#   with the member's key, carries the alliance's good signature, and
#   whose totals and top ports equal the database's (`vigia analyze` on
#   the same files);
# - a member with an expired key and one with a missing key receive
#   nothing, and the run names each;
# - no honeypot address, in any textual form, is in any decrypted message
#   nor in any line the runs print;
# - a rerun sends nothing more; --outbox writes an encrypted Maildir.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/summary-lib.sh"

P=$(free_port)
start_sink "$T/sink" "$P"
write_config "smtp://127.0.0.1:$P" 2 "member old { address old@four.test; key $EXPIRED }
member gone { address gone@five.test; key 0123456789ABCDEF0123456789ABCDEF01234567 }"

set +e
"$VIGIA" summary --config "$T/vigia.conf" --day "$DAY" >"$T/out1" 2>"$T/err1"
rc=$?
set -e
cat "$T/out1" "$T/err1"
[ "$rc" -eq 2 ] && ok "exit status 2 when members were skipped" || fail "exit status $rc, expected 2"
grep -q "^sent one <cert@one.test> <vigia\." "$T/out1" && grep -q "^sent two " "$T/out1" &&
	grep -q "^sent three " "$T/out1" && ok "the run reports the three members sent" ||
	fail "members not reported as sent"
grep -q "old: NOT sent (no usable key):.*expired" "$T/err1" &&
	ok "the expired key is reported" || fail "the expired key is not reported"
grep -q "gone: NOT sent (no usable key):.*no key" "$T/err1" &&
	ok "the missing key is reported" || fail "the missing key is not reported"
[ -z "$(msgs_for "$T/sink" old@four.test)" ] && [ -z "$(msgs_for "$T/sink" gone@five.test)" ] &&
	ok "the members without a usable key received nothing" || fail "something went to old or gone"
n=$(ls "$T/sink" | wc -l)
[ "$n" -eq 3 ] && ok "three messages received" || fail "$n messages received, expected 3"

# What the database says, and independently `vigia analyze` on the day's
# files, each sensor's file with its own honeynet.
D0=$(date -u -d "$DAY" +%s)
total=$(sqlite3 "$T/vigia.db" "SELECT SUM(packets) FROM bin WHERE category = 'country'
	AND start >= $D0 AND start < $D0 + 86400")
atotal=0
i=0
for net in 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24; do
	i=$((i + 1))
	"$VIGIA" analyze --quiet --json - --honeynet "$net" "${RIR_ARGS[@]}" \
		"$T/arch/s$i/2026/11/01/"*.pcap >"$T/a$i.json"
	atotal=$((atotal + $(jq .packets "$T/a$i.json")))
done
[ "$total" -eq "$atotal" ] && [ "$total" -gt 0 ] &&
	ok "database and analyze agree: $total packets this day" ||
	fail "database $total packets, analyze $atotal"
sqlite3 -separator ' ' "$T/vigia.db" "SELECT key, SUM(packets) AS p FROM bin
	WHERE category = 'tcp_port' AND start >= $D0 AND start < $D0 + 86400
	GROUP BY key ORDER BY p DESC" >"$T/db-tcp"

fmt() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
for who in one:cert@one.test two:csirt@two.test three:soc@three.test; do
	name=${who%%:*} addr=${who#*:}
	f=$(msgs_for "$T/sink" "$addr")
	[ "$(echo "$f" | grep -c .)" -eq 1 ] || { fail "$name: $(echo "$f" | grep -c .) messages"; continue; }
	grep -q '^Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";' "$f" &&
		grep -q '^Version: 1' "$f" && grep -q '^Message-ID: <vigia\.' "$f" &&
		grep -Eq '^Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} ' "$f" &&
		ok "$name: RFC 3156 envelope, Message-ID and Date" || fail "$name: envelope"
	# plaintext never travels: nothing but the armour after the headers
	grep -q "Top TCP" "$f" && fail "$name: plaintext on the wire"
	gpg --batch --status-fd 3 --decrypt "$f" >"$T/$name.eml" 3>"$T/$name.status" 2>/dev/null ||
		{ fail "$name: does not decrypt"; continue; }
	grep -q "GOODSIG" "$T/$name.status" && grep -q "VALIDSIG $ALLIANCE" "$T/$name.status" &&
		ok "$name: decrypts, good signature by the alliance's key" || fail "$name: signature"
	python3 - "$T/$name.eml" "$T/$name" <<'PY'
import email, sys
m = email.message_from_file(open(sys.argv[1]))
assert m.get_content_type() == "multipart/alternative", m.get_content_type()
parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in m.walk()
         if not p.is_multipart()}
open(sys.argv[2] + ".txt", "w").write(parts["text/plain"])
open(sys.argv[2] + ".html", "w").write(parts["text/html"])
PY
	[ -s "$T/$name.txt" ] && [ -s "$T/$name.html" ] && ok "$name: text/plain and text/html parts" ||
		{ fail "$name: parts"; continue; }
	grep -Eq "^packets +$(fmt "$total") " "$T/$name.txt" &&
		ok "$name: total packets $(fmt "$total") as in the database" ||
		fail "$name: total packets differ from the database's $total"
done

# Top TCP ports of the message against the database: the same counts in
# the same order, and each port's count is the database's for that port.
if [ -s "$T/one.txt" ]; then
	awk '/^Top TCP destination ports/{f=1;next} f&&/^ *[0-9]+ +[0-9]+ /{gsub(",","",$3); print $2, $3} f&&/^$/{exit}' \
		"$T/one.txt" >"$T/mail-tcp"
	good=1
	[ "$(wc -l <"$T/mail-tcp")" -eq 10 ] || good=0
	[ "$(cut -d' ' -f2 "$T/mail-tcp")" = "$(head -10 "$T/db-tcp" | cut -d' ' -f2)" ] || good=0
	while read -r port pk; do
		grep -qx "$port $pk" "$T/db-tcp" || good=0
	done <"$T/mail-tcp"
	[ "$good" -eq 1 ] && ok "top 10 TCP ports equal the database's: $(cut -d' ' -f1 "$T/mail-tcp" | tr '\n' ' ')" ||
		fail "top TCP ports differ: $(tr '\n' ' ' <"$T/mail-tcp") vs $(head -10 "$T/db-tcp" | tr '\n' ' ')"
fi

# Acceptance 3: no honeypot address in any form in any plaintext or log.
# The honeypots that received packets this day, in many spellings.
python3 - "$T" <<'PY' >"$T/forms"
import ipaddress, sys
for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"):
    n = ipaddress.ip_network(net)
    for a in list(n)[1:]:
        i = int(a)
        print(str(a))
        print(str(i))
        print("%08x" % i)
        print("0x%08X" % i)
        print(str(ipaddress.IPv6Address("::ffff:" + str(a))))
        print(ipaddress.IPv6Address("::ffff:" + str(a)).exploded)
        o = str(a).split(".")
        print(".".join("%03d" % int(x) for x in o))
PY
# the check itself must see a leak
[ "$(printf 'a 192.0.2.77 b\nc000024d\n3221226061\n::ffff:c000:24d\n' | grep -c -w -F -i -f "$T/forms")" -eq 4 ] ||
	fail "the leak check does not see planted leaks"
# -w: a form must stand alone (a port 1921 is not 192.0.2.1)
hits=$(cat "$T"/one.txt "$T"/two.txt "$T"/three.txt "$T"/one.html "$T"/two.html "$T"/three.html \
	"$T/out1" "$T/err1" | grep -o -w -F -i -f "$T/forms" | sort -u | head -5 || true)
[ -z "$hits" ] && ok "no honeypot address in any form in the plaintexts and the run's output" ||
	fail "honeypot addresses leaked: $hits"
grep -q "^ *[0-9]*  hp-1\.77 " "$T/one.txt" && grep -q "\[sensor alpha\]" "$T/one.txt" &&
	grep -q "hp-1\.77" "$T/one.html" &&
	ok "the honeypot and the sensor among the top sources appear as hp-1.77 and [sensor alpha]" ||
	fail "the secret sources are not shown as tokens"
grep -q "10\.99\.0\." "$T/one.txt" "$T/one.html" "$T/out1" "$T/err1" &&
	fail "a sensor address leaked" || ok "no sensor address in the plaintexts or the output"
grep -q "^alpha " "$T/one.txt" && grep -q "^beta " "$T/one.txt" && grep -q "^gamma " "$T/one.txt" &&
	ok "sensors appear by their public names" || fail "public names missing"

# A rerun sends nothing more.
"$VIGIA" summary --config "$T/vigia.conf" --day "$DAY" --member one --member two \
	--member three >"$T/out2" 2>"$T/err2"
n=$(ls "$T/sink" | wc -l)
[ "$n" -eq 3 ] && grep -c "^already-sent" "$T/out2" | grep -qx 3 &&
	ok "the rerun sends nothing and reports the three as already sent" ||
	fail "rerun: $n messages now; $(cat "$T/out2")"

# --outbox: the same, encrypted, into a Maildir, as its own channel.
"$VIGIA" summary --config "$T/vigia.conf" --day "$DAY" --member one --outbox "$T/md" \
	>"$T/out3" 2>"$T/err3"
f=$(ls "$T"/md/new/* 2>/dev/null)
[ "$(echo "$f" | grep -c .)" -eq 1 ] && [ -z "$(ls "$T/md/tmp")" ] &&
	grep -q "BEGIN PGP MESSAGE" "$f" && ! grep -q "Top TCP" "$f" &&
	gpg --batch --decrypt "$f" 2>/dev/null | grep -q "multipart/alternative" &&
	ok "--outbox writes one encrypted message into new/" || fail "--outbox"
# STARTTLS required but smtp-sink offers none: fail closed, no retry
# (permanent), nothing received, nothing recorded.
sed -i 's/starttls try/starttls required/' "$T/vigia.conf"
before=$(ls "$T/sink" | wc -l)
set +e
"$VIGIA" summary --config "$T/vigia.conf" --day 2026-10-31 --member one >"$T/out4" 2>"$T/err4"
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "one: NOT sent: smtp .*SSL" "$T/err4" && ! grep -q "attempt 1" "$T/err4" &&
	[ "$(ls "$T/sink" | wc -l)" -eq "$before" ] &&
	[ "$(sqlite3 "$T/vigia.db" "SELECT COUNT(*) FROM mail_sent WHERE member = 'one'")" -eq 1 ] &&
	ok "STARTTLS required and not offered: nothing sent, reported, not retried" ||
	{ cat "$T/err4"; fail "STARTTLS required (exit $rc)"; }
stop_sink
finish
