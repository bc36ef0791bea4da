/* contact-net.h: the two registry protocols, as clients (issue 8).
 *
 * whois (RFC 3912): one TCP connection per query, the query and CRLF out,
 * the answer until the server closes.  RDAP (RFC 7480): an HTTP GET with
 * libcurl.  Both bound the time spent and the bytes read; both answer
 * into a malloc'ed, NUL-terminated buffer. */
#ifndef VIGIA_CONTACT_NET_H
#define VIGIA_CONTACT_NET_H

#include <stddef.h>
#include <stdint.h>

#include "vg-err.h"

/* Query `host`:`port` for `query`; at most `max` bytes are kept (a longer
 * answer is -EFBIG); `timeout_ms` bounds connect and each read. */
int contact_whois_query(const char *host, uint16_t port, const char *query,
			unsigned timeout_ms, size_t max, char **out, size_t *outlen,
			struct vg_err *err);

/* GET `url` (http or https, redirects followed up to 5 times within those
 * schemes).  404 is 0 with *outlen 0 and *status 404; other non-2xx are
 * -EIO. */
int contact_http_get(const char *url, unsigned timeout_ms, size_t max, char **out,
		     size_t *outlen, long *status, struct vg_err *err);

#endif
