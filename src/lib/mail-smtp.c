/* mail-smtp.c: SMTP submission with libcurl (mail-smtp.h). */
#include "mail-smtp.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int mail_smtp_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void mail_smtp_global_cleanup(void)
{
	curl_global_cleanup();
}

struct reader {
	const char *p;
	size_t left;
};

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct reader *r = ud;
	size_t n = size * nmemb;
	if (n > r->left)
		n = r->left;
	memcpy(buf, r->p, n);
	r->p += n;
	r->left -= n;
	return n;
}

/* Failures a later attempt may cure. */
static bool transient(CURLcode c, long resp)
{
	if (resp >= 400 && resp < 500)
		return true;
	if (resp >= 500)
		return false;
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_SSL_CONNECT_ERROR:
		return true;
	default:
		return false;
	}
}

int mail_smtp_send(const struct mail_smtp *s, const char *from, const char *rcpt,
		   const char *msg, size_t len, struct vg_err *err)
{
	CURL *c = curl_easy_init();
	if (!c)
		return vg_err_set(err, -ENOMEM, "smtp %s: cannot start libcurl", s->url);
	char from_b[320], rcpt_b[320], errbuf[CURL_ERROR_SIZE] = "";
	snprintf(from_b, sizeof from_b, "<%s>", from);
	snprintf(rcpt_b, sizeof rcpt_b, "<%s>", rcpt);
	struct curl_slist *rl = curl_slist_append(NULL, rcpt_b);
	struct reader rd = {msg, len};
	if (!rl) {
		curl_easy_cleanup(c);
		return vg_err_set(err, -ENOMEM, "smtp %s: out of memory", s->url);
	}
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from_b);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rl);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &rd);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(s->timeout ? s->timeout : 60));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_USE_SSL, s->starttls == CFG_STARTTLS_REQUIRED ? (long)CURLUSESSL_ALL
			 : s->starttls == CFG_STARTTLS_TRY ? (long)CURLUSESSL_TRY : (long)CURLUSESSL_NONE);
	if (s->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
	if (s->user) {
		curl_easy_setopt(c, CURLOPT_USERNAME, s->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, s->password ? s->password : "");
	}
	CURLcode rc = curl_easy_perform(c);
	long resp = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp);
	curl_slist_free_all(rl);
	curl_easy_cleanup(c);
	if (rc == CURLE_OK)
		return 0;
	int code = transient(rc, resp) ? -EAGAIN : -EIO;
	return vg_err_set(err, code, "smtp %s: sending to %s: %s (last reply %ld)%s%s", s->url, rcpt,
			  curl_easy_strerror(rc), resp, errbuf[0] ? ": " : "", errbuf);
}
