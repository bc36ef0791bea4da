/* contact-net.c: whois over TCP by hand (a dozen lines of sockets: no
 * Debian library does port-43 whois as a library), RDAP with libcurl. */
#include "contact-net.h"

#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd until the deadline; 0 ready, -ETIMEDOUT, -errno. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = {.fd = fd, .events = ev};
		int r = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static int connect_to(const char *host, uint16_t port, int64_t deadline, struct vg_err *err)
{
	char ps[8];
	snprintf(ps, sizeof ps, "%u", port);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	int g = getaddrinfo(host, ps, &hints, &res);
	if (g)
		return vg_err_set(err, -EHOSTUNREACH, "whois %s:%u: %s", host, port, gai_strerror(g));
	int rc = -ECONNREFUSED;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			rc = -errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
			freeaddrinfo(res);
			return fd;
		}
		if (errno == EINPROGRESS && (rc = wait_fd(fd, POLLOUT, deadline)) == 0) {
			int e = 0;
			socklen_t el = sizeof e;
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
			if (!e) {
				freeaddrinfo(res);
				return fd;
			}
			rc = -e;
		} else if (errno != EINPROGRESS) {
			rc = -errno;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return vg_err_set(err, rc, "whois %s:%u: cannot connect: %s", host, port, strerror(-rc));
}

int contact_whois_query(const char *host, uint16_t port, const char *query,
			unsigned timeout_ms, size_t max, char **out, size_t *outlen,
			struct vg_err *err)
{
	*out = NULL;
	*outlen = 0;
	if (strpbrk(query, "\r\n") || strlen(query) > 256)
		return vg_err_set(err, -EINVAL, "whois %s:%u: refusing query with a line break",
				  host, port);
	int64_t deadline = now_ms() + timeout_ms;
	int fd = connect_to(host, port, deadline, err);
	if (fd < 0)
		return fd;
	char q[300];
	int ql = snprintf(q, sizeof q, "%s\r\n", query);
	size_t sent = 0;
	int rc = 0;
	while (sent < (size_t)ql && rc == 0) {
		ssize_t w = send(fd, q + sent, (size_t)ql - sent, MSG_NOSIGNAL);
		if (w > 0)
			sent += (size_t)w;
		else if (w < 0 && errno == EAGAIN)
			rc = wait_fd(fd, POLLOUT, deadline);
		else if (w < 0 && errno != EINTR)
			rc = -errno;
	}
	char *buf = NULL;
	size_t len = 0, cap = 0;
	while (rc == 0) {
		if (cap - len < 4096 + 1) {
			size_t nc = cap ? cap * 2 : 16384;
			if (nc > max + 4097)
				nc = max + 4097;
			char *nb = realloc(buf, nc);
			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
			cap = nc;
		}
		ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
		if (r > 0) {
			len += (size_t)r;
			if (len > max)
				rc = -EFBIG;
		} else if (r == 0) {
			break;
		} else if (errno == EAGAIN) {
			rc = wait_fd(fd, POLLIN, deadline);
		} else if (errno != EINTR) {
			rc = -errno;
		}
	}
	close(fd);
	if (rc < 0) {
		free(buf);
		if (rc == -EFBIG)
			return vg_err_set(err, rc, "whois %s:%u: answer to %s exceeds %zu bytes", host,
					  port, query, max);
		return vg_err_set(err, rc, "whois %s:%u: after %zu bytes of the answer to %s: %s",
				  host, port, len, query, strerror(-rc));
	}
	if (!buf && !(buf = malloc(1)))
		return vg_err_set(err, -ENOMEM, "whois: out of memory");
	buf[len] = 0;
	*out = buf;
	*outlen = len;
	return 0;
}

struct sink {
	char *buf;
	size_t len, max;
	int over;
};

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
	struct sink *s = ud;
	size_t b = sz * n;
	if (s->len + b > s->max) {
		s->over = 1;
		return 0;
	}
	char *nb = realloc(s->buf, s->len + b + 1);
	if (!nb)
		return 0;
	memcpy(nb + s->len, p, b);
	s->buf = nb;
	s->len += b;
	s->buf[s->len] = 0;
	return b;
}

int contact_http_get(const char *url, unsigned timeout_ms, size_t max, char **out,
		     size_t *outlen, long *status, struct vg_err *err)
{
	*out = NULL;
	*outlen = 0;
	*status = 0;
	CURL *c = curl_easy_init();
	if (!c)
		return vg_err_set(err, -ENOMEM, "rdap %s: cannot start libcurl", url);
	struct sink s = {.max = max};
	struct curl_slist *h = curl_slist_append(NULL, "Accept: application/rdap+json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "vigia/" VIGIA_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
#if CURL_AT_LEAST_VERSION(7, 85, 0)
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
	CURLcode cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (s.over) {
		free(s.buf);
		return vg_err_set(err, -EFBIG, "rdap %s: answer exceeds %zu bytes", url, max);
	}
	if (cc != CURLE_OK) {
		free(s.buf);
		return vg_err_set(err, cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO,
				  "rdap %s: %s", url, curl_easy_strerror(cc));
	}
	if (*status == 404) {
		free(s.buf);
		return 0;
	}
	if (*status < 200 || *status > 299) {
		free(s.buf);
		return vg_err_set(err, -EIO, "rdap %s: HTTP status %ld", url, *status);
	}
	if (!s.buf && !(s.buf = calloc(1, 1)))
		return vg_err_set(err, -ENOMEM, "rdap: out of memory");
	*out = s.buf;
	*outlen = s.len;
	return 0;
}
