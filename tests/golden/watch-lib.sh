# watch-lib.sh: shared by the golden tests of `vigia watch` (source it after
# lib.sh).  watch_mail_setup writes $T/vigia.conf with three sensors, the
# alliance's and one member's OpenPGP keys in a temporary GNUPGHOME, and
# sets MAIL_ARGS for `vigia watch`; without gpg, MAIL_ARGS stays empty.
watch_mail_setup() {
	MAIL_ARGS=()
	if ! command -v gpg >/dev/null; then
		echo "note: gpg missing: the mail part is not tested"
		return 0
	fi
	export GNUPGHOME="$T/gnupg"
	mkdir -m 700 "$GNUPGHOME"
	trap 'gpgconf --homedir "$GNUPGHOME" --kill all 2>/dev/null || true; rm -rf "$T"' EXIT
	gen_key() { # uid
		gpg --batch --quiet --passphrase '' --quick-gen-key "$1" ed25519 sign,cert 1y 2>/dev/null
		local fpr
		fpr=$(gpg --batch --with-colons --list-keys "$1" 2>/dev/null | awk -F: '$1=="fpr"{print $10; exit}')
		gpg --batch --quiet --passphrase '' --quick-add-key "$fpr" cv25519 encr 1y 2>/dev/null
		echo "$fpr"
	}
	ALLIANCE=$(gen_key "Vigia Alliance <vigia@alliance.test>")
	M1=$(gen_key "CERT One <cert@one.test>")
	local hk='host-key "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"'
	cat >"$T/vigia.conf" <<CONF
archive $T/arch
database $T/v.db
sensor s1 { id 1; host 10.99.0.1; identity k; $hk; network 192.0.2.0/24 }
sensor s2 { id 2; host 10.99.0.2; identity k; $hk; network 198.51.100.0/24 }
sensor s3 { id 3; host 10.99.0.3; identity k; $hk; network 203.0.113.0/24 }
mail {
  from vigia@alliance.test
  keyring $GNUPGHOME
  sign-key $ALLIANCE
}
member one { address cert@one.test; key $M1 }
CONF
	MAIL_ARGS=(--config "$T/vigia.conf" --mail --outbox "$T/outbox")
}
