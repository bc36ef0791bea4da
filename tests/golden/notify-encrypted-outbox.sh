#!/bin/bash
# vigia notify (issue 8): a contact whose key the alliance table gives gets
# a PGP/MIME message, signed with the alliance's key and encrypted to its
# own, here written to an --outbox Maildir; it decrypts to the evidence and
# the signature verifies.  A contact whose key is missing gets nothing.
. "$(dirname "$0")/lib.sh"
command -v gpg >/dev/null || { echo "SKIP: gpg missing"; exit 77; }
. "$(dirname "$0")/notify-lib.sh"
export GNUPGHOME="$T/gnupg"
mkdir -m 700 "$GNUPGHOME"
cleanup() {
	stop_registries
	gpgconf --homedir "$GNUPGHOME" --kill all 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
gen_key() { # uid
	gpg --batch --quiet --passphrase '' --quick-gen-key "$1" ed25519 sign,cert 1y 2>/dev/null
	local fpr
	fpr=$(gpg --batch --with-colons --list-keys "$1" 2>/dev/null | awk -F: '$1=="fpr"{print $10; exit}')
	gpg --batch --quiet --passphrase '' --quick-add-key "$fpr" cv25519 encr 1y 2>/dev/null
	echo "$fpr"
}
ALLIANCE=$(gen_key "Vigia Alliance <vigia@alliance.test>")
RNP=$(gen_key "CERT RNP <cert@rnp.test>")
[ -n "$ALLIANCE" ] && [ -n "$RNP" ] || { echo "FAIL: key generation"; exit 1; }
start_registries
write_config smtp://127.0.0.1:1
# the alliance's contact now has a key, and a second one a key nobody has
sed -i "s|  contact 200.128.0.0/16 cert@rnp.test|  contact 200.128.1.10/32 cert@rnp.test key $RNP\n  contact 200.128.1.11/32 nokey@rnp.test key 0000000000000000000000000000000000000000|" "$T/vigia.conf"
sed -i "s|  from vigia@alliance.test|  from vigia@alliance.test\n  keyring $GNUPGHOME\n  sign-key $ALLIANCE|" "$T/vigia.conf"
seed_db

rc=0
"$VIGIA" notify --config "$T/vigia.conf" --day $DAY --outbox "$T/outbox" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 2 ] && ok "exit 2: one contact could not be served" || fail "exit $rc: $(cat "$T/out" "$T/err")"
grep -q "nokey@rnp.test: NOT sent" "$T/err" && ok "no usable key: not sent" || fail "$(cat "$T/err")"
n=$(find "$T/outbox/new" -type f | wc -l)
[ "$n" -eq 2 ] && ok "two messages in the outbox" || fail "$n messages"
f=$(grep -l "^To: cert@rnp.test" "$T"/outbox/new/* | head -1)
[ -n "$f" ] || { fail "no message to cert@rnp.test"; finish; }
grep -q 'multipart/encrypted; protocol="application/pgp-encrypted"' "$f" && ok "PGP/MIME" ||
	fail "not PGP/MIME: $(head -20 "$f")"
grep -q "200.128.1.10" "$f" && fail "source address readable outside the encryption"
python3 - "$f" "$T/armored" <<'PY'
import sys
t = open(sys.argv[1]).read()
a = t[t.index("-----BEGIN PGP MESSAGE-----"):t.index("-----END PGP MESSAGE-----") + 25]
open(sys.argv[2], "w").write(a)
PY
gpg --batch --status-fd 3 --decrypt "$T/armored" >"$T/plain" 3>"$T/status" 2>/dev/null || fail "decryption failed"
grep -q "GOODSIG" "$T/status" && grep -q "VALIDSIG $ALLIANCE" "$T/status" &&
	ok "signed by the alliance key" || fail "signature: $(cat "$T/status")"
python3 - "$T/plain" <<'PY' && ok "decrypted text has evidence and guidance" || fail "decrypted content"
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
t = m.get_body(("plain",)).get_content()
assert "200.128.1.10" in t and "SQL Slammer worm propagation" in t, t
assert "2026-11-01 10:00:00 UTC" in t and "hp-1.17" in t and "Service Pack 3a" in t
assert "200.128.1.11" not in t
PY
# the contact found through RDAP has no known key: a signed clear message
g=$(grep -l "^To: operacion.redes@TRIARA.COM" "$T"/outbox/new/* | head -1)
python3 - "$g" "$T/signed" "$T/sig.asc" <<'PY' && ok "RDAP contact: multipart/signed" || fail "not multipart/signed"
import re, sys
raw = open(sys.argv[1], "rb").read()
m = re.search(rb'multipart/signed; micalg=pgp-[a-z0-9]+;\r\n protocol="application/pgp-signature"; boundary="([^"]+)"', raw)
assert m, raw[:600]
b = b"--" + m.group(1)
parts = raw.split(b"\r\n" + b)
first = raw.index(b + b"\r\n") + len(b) + 2
signed = raw[first:raw.index(b"\r\n" + b, first)]
sig = parts[2][parts[2].index(b"-----BEGIN PGP SIGNATURE"):]
sig = sig[:sig.index(b"-----END PGP SIGNATURE-----") + 27]
open(sys.argv[2], "wb").write(signed)
open(sys.argv[3], "wb").write(sig)
PY
gpg --batch --status-fd 3 --verify "$T/sig.asc" "$T/signed" 3>"$T/vstatus" 2>/dev/null &&
	grep -q "VALIDSIG $ALLIANCE" "$T/vstatus" && ok "its signature verifies" ||
	fail "signature: $(cat "$T/vstatus")"
python3 "$S/tests/golden/stats-scan-leaks.py" "$T/vigia.conf" "$T/outbox" >"$T/leaks" &&
	ok "no honeypot address in the outbox" || fail "leaks: $(cat "$T/leaks")"
finish
