/* mail-pgp.h: signing and encrypting the summary with GPGME.
 *
 * The keyring is a GNUPGHOME directory named by the config: the alliance's
 * secret key (without passphrase, or with gpg-agent holding it) and the
 * members' public keys.  The administrator vouches for the keys by
 * putting them there, so the web of trust is not consulted (always-trust)
 * but each key must be usable: present, not expired, revoked, disabled or
 * invalid, with an encryption-capable subkey.  A member whose key is not
 * usable gets nothing: there is no clear-text fallback. */
#ifndef VIGIA_MAIL_PGP_H
#define VIGIA_MAIL_PGP_H

#include <stddef.h>

#include "vg-err.h"

struct mail_pgp;

/* Open the keyring and find the signing key (a usable key with a secret
 * signing subkey).  Errors name the keyring and the key. */
int mail_pgp_open(const char *gnupghome, const char *sign_key, struct mail_pgp **out,
		  struct vg_err *err);
void mail_pgp_close(struct mail_pgp *p);

/* Fingerprint of the signing key. */
const char *mail_pgp_signer(const struct mail_pgp *p);

/* Whether `key` (fingerprint or user id) names exactly one usable
 * encryption key.  0 usable; -ENOKEY missing (or ambiguous);
 * -EKEYEXPIRED expired; -EKEYREVOKED revoked; -EKEYREJECTED disabled,
 * invalid or unable to encrypt.  err says which, naming the key. */
int mail_pgp_check_recipient(struct mail_pgp *p, const char *key, struct vg_err *err);

/* Sign with the alliance's key and encrypt to `key` in one OpenPGP message
 * (RFC 3156 6.2, combined method), ASCII armoured.  malloc'ed. */
int mail_pgp_sign_encrypt(struct mail_pgp *p, const char *key, const char *data, size_t len,
			  char **armored, size_t *alen, struct vg_err *err);

#endif
