/* mail-pgp.c: OpenPGP with GPGME (mail-pgp.h). */
#include "mail-pgp.h"

#include <errno.h>
#include <gpgme.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mail_pgp {
	gpgme_ctx_t ctx;
	gpgme_key_t signer;
	char *home;
	char fpr[64];
};

static int gerr(struct vg_err *err, gpgme_error_t e, const char *home, const char *what,
		const char *key)
{
	return vg_err_set(err, -EIO, "keyring %s: %s%s%s: %s", home, what, key ? " " : "",
			  key ? key : "", gpgme_strerror(e));
}

/* Why a key is not usable for `enc` (encryption) or signing, or NULL. */
static const char *unusable(gpgme_key_t k, bool enc, int *code)
{
	*code = -EKEYREJECTED;
	if (k->revoked) {
		*code = -EKEYREVOKED;
		return "revoked";
	}
	if (k->expired) {
		*code = -EKEYEXPIRED;
		return "expired";
	}
	if (k->disabled)
		return "disabled";
	if (k->invalid)
		return "invalid";
	bool any_expired = false, any_revoked = false;
	for (gpgme_subkey_t s = k->subkeys; s; s = s->next) {
		if (!(enc ? s->can_encrypt : s->can_sign))
			continue;
		if (s->revoked) {
			any_revoked = true;
			continue;
		}
		if (s->expired) {
			any_expired = true;
			continue;
		}
		if (s->disabled || s->invalid)
			continue;
		if (!enc && !s->secret)
			continue;
		return NULL;
	}
	if (any_expired) {
		*code = -EKEYEXPIRED;
		return "expired";
	}
	if (any_revoked) {
		*code = -EKEYREVOKED;
		return "revoked";
	}
	return enc ? "without an encryption subkey" : "without a secret signing subkey";
}

/* Exactly one key matching `pattern`; a second match is ambiguous (an
 * administrator's mistake that could send to the wrong institution). */
static int find_key(struct mail_pgp *p, const char *pattern, bool secret, gpgme_key_t *out,
		struct vg_err *err)
{
	*out = NULL;
	gpgme_error_t e = gpgme_op_keylist_start(p->ctx, pattern, secret);
	if (e)
		return gerr(err, e, p->home, "listing keys for", pattern);
	gpgme_key_t k, first = NULL;
	int n = 0;
	while (!(e = gpgme_op_keylist_next(p->ctx, &k))) {
		if (n++ == 0)
			first = k;
		else
			gpgme_key_unref(k);
	}
	gpgme_op_keylist_end(p->ctx);
	if (gpg_err_code(e) != GPG_ERR_EOF) {
		if (first)
			gpgme_key_unref(first);
		return gerr(err, e, p->home, "listing keys for", pattern);
	}
	if (n == 0)
		return vg_err_set(err, -ENOKEY, "keyring %s: no %skey '%s'", p->home,
				  secret ? "secret " : "", pattern);
	if (n > 1) {
		gpgme_key_unref(first);
		return vg_err_set(err, -ENOKEY, "keyring %s: '%s' names %d keys; give the fingerprint",
				  p->home, pattern, n);
	}
	*out = first;
	return 0;
}

int mail_pgp_open(const char *gnupghome, const char *sign_key, struct mail_pgp **out,
		  struct vg_err *err)
{
	*out = NULL;
	if (!gnupghome || !sign_key)
		return vg_err_set(err, -EINVAL, "mail: 'keyring' and 'sign-key' are required to sign");
	/* gpgme_check_version initialises the library; it is idempotent */
	if (!gpgme_check_version(NULL))
		return vg_err_set(err, -EIO, "GPGME failed to initialise");
	gpgme_set_locale(NULL, LC_CTYPE, setlocale(LC_CTYPE, NULL));
	struct mail_pgp *p = calloc(1, sizeof *p);
	if (!p || !(p->home = strdup(gnupghome))) {
		free(p);
		return vg_err_set(err, -ENOMEM, "out of memory");
	}
	gpgme_error_t e = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
	if (!e)
		e = gpgme_new(&p->ctx);
	if (!e)
		e = gpgme_ctx_set_engine_info(p->ctx, GPGME_PROTOCOL_OpenPGP, NULL, gnupghome);
	if (e) {
		int rc = gerr(err, e, gnupghome, "opening", NULL);
		mail_pgp_close(p);
		return rc;
	}
	gpgme_set_armor(p->ctx, 1);
	gpgme_set_pinentry_mode(p->ctx, GPGME_PINENTRY_MODE_LOOPBACK);
	int rc = find_key(p, sign_key, true, &p->signer, err);
	if (rc) {
		mail_pgp_close(p);
		return rc;
	}
	int code;
	const char *why = unusable(p->signer, false, &code);
	if (why) {
		rc = vg_err_set(err, code, "keyring %s: the signing key '%s' is %s", gnupghome,
				sign_key, why);
		mail_pgp_close(p);
		return rc;
	}
	snprintf(p->fpr, sizeof p->fpr, "%s", p->signer->fpr ? p->signer->fpr : "");
	gpgme_signers_clear(p->ctx);
	if ((e = gpgme_signers_add(p->ctx, p->signer))) {
		rc = gerr(err, e, gnupghome, "using the signing key", sign_key);
		mail_pgp_close(p);
		return rc;
	}
	*out = p;
	return 0;
}

void mail_pgp_close(struct mail_pgp *p)
{
	if (!p)
		return;
	if (p->signer)
		gpgme_key_unref(p->signer);
	if (p->ctx)
		gpgme_release(p->ctx);
	free(p->home);
	free(p);
}

const char *mail_pgp_signer(const struct mail_pgp *p)
{
	return p->fpr;
}

static int recipient(struct mail_pgp *p, const char *key, gpgme_key_t *out, struct vg_err *err)
{
	int rc = find_key(p, key, false, out, err);
	if (rc)
		return rc;
	int code;
	const char *why = unusable(*out, true, &code);
	if (why) {
		gpgme_key_unref(*out);
		*out = NULL;
		return vg_err_set(err, code, "keyring %s: key '%s' is %s", p->home, key, why);
	}
	return 0;
}

int mail_pgp_check_recipient(struct mail_pgp *p, const char *key, struct vg_err *err)
{
	gpgme_key_t k;
	int rc = recipient(p, key, &k, err);
	if (!rc)
		gpgme_key_unref(k);
	return rc;
}

int mail_pgp_sign_encrypt(struct mail_pgp *p, const char *key, const char *data, size_t len,
			  char **armored, size_t *alen, struct vg_err *err)
{
	*armored = NULL;
	gpgme_key_t k;
	int rc = recipient(p, key, &k, err);
	if (rc)
		return rc;
	gpgme_data_t in = NULL, outd = NULL;
	gpgme_error_t e = gpgme_data_new_from_mem(&in, data, len, 0);
	if (!e)
		e = gpgme_data_new(&outd);
	gpgme_key_t rcp[2] = {k, NULL};
	/* Trust comes from the administrator placing the key in the keyring:
	 * see the header.  Usability was checked above. */
	if (!e)
		e = gpgme_op_encrypt_sign(p->ctx, rcp, GPGME_ENCRYPT_ALWAYS_TRUST, in, outd);
	if (!e) {
		gpgme_encrypt_result_t er = gpgme_op_encrypt_result(p->ctx);
		gpgme_sign_result_t sr = gpgme_op_sign_result(p->ctx);
		if ((er && er->invalid_recipients) || !sr || sr->invalid_signers || !sr->signatures)
			e = gpg_error(GPG_ERR_UNUSABLE_PUBKEY);
	}
	if (e) {
		rc = gerr(err, e, p->home, "signing and encrypting to", key);
	} else {
		size_t n = 0;
		char *buf = gpgme_data_release_and_get_mem(outd, &n);
		outd = NULL;
		if (!buf || n == 0 || !(*armored = malloc(n + 1))) {
			rc = vg_err_set(err, -ENOMEM, "out of memory encrypting to %s", key);
		} else {
			memcpy(*armored, buf, n);
			(*armored)[n] = '\0';
			*alen = n;
		}
		gpgme_free(buf);
	}
	gpgme_data_release(in);
	if (outd)
		gpgme_data_release(outd);
	gpgme_key_unref(k);
	return rc;
}
