/* The controller's HTTP listeners. The artifact server answers like Go's
 * http.FileServer over --storage-path (what Flux runs): GET and HEAD,
 * Content-Length, Last-Modified, If-Modified-Since, single byte ranges,
 * 400 for ".." — but it serves only stored artifact files, never directory
 * listings, dot files, or symlinks other than latest.tar.gz. */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "controller/httpd.h"
#include "controller/mhd_loader.h"

enum server_kind { ARTIFACTS, METRICS, HEALTH };

struct sl_httpd {
	struct MHD_Daemon *daemon;
	enum server_kind kind;
	const struct sl_storage *storage;
	struct sl_metrics *metrics;
	atomic_bool ready;
	uint16_t port;
};

/* ---- addresses ---------------------------------------------------------- */

int sl_split_host_port(const char *addr, char **ret_host, char **ret_port, struct sl_error *err)
{
	const char *host, *host_end, *colon;
	if (addr[0] == '[') {
		host = addr + 1;
		host_end = strchr(addr, ']');
		if (!host_end)
			return sl_error_set(err, SL_EINVAL, "address %s: missing ']' in address",
			                    addr);
		if (host_end[1] != ':')
			return sl_error_set(err, SL_EINVAL, "address %s: missing port in address",
			                    addr);
		colon = host_end + 1;
	} else {
		host = addr;
		colon = strrchr(addr, ':');
		if (!colon)
			return sl_error_set(err, SL_EINVAL, "address %s: missing port in address",
			                    addr);
		host_end = colon;
		if (memchr(addr, ':', (size_t)(colon - addr)))
			return sl_error_set(err, SL_EINVAL,
			                    "address %s: too many colons in address", addr);
	}
	if (memchr(host, '[', (size_t)(host_end - host)) || strchr(colon + 1, '[') ||
	    strchr(colon + 1, ']') || memchr(host, ']', (size_t)(host_end - host)))
		return sl_error_set(err, SL_EINVAL, "address %s: unexpected bracket in address",
		                    addr);
	*ret_host = sl_strndup(host, (size_t)(host_end - host));
	*ret_port = sl_strdup(colon + 1);
	return 0;
}

static int listen_on(const struct addrinfo *ai, bool dual_stack, const char *addr,
                     struct sl_error *err)
{
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return sl_error_errno(err, errno, SL_ENET, "listen tcp %s", addr);
	int one = 1, zero = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual_stack ? &zero : &one, sizeof(int));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
		int e = errno;
		close(fd);
		return sl_error_errno(err, e, SL_ENET, "listen tcp %s", addr);
	}
	return fd;
}

int sl_httpd_listen(const char *addr, struct sl_error *err)
{
	_cleanup_free_ char *host = NULL, *port = NULL;
	int r = sl_split_host_port(addr, &host, &port, err);
	if (r < 0)
		return r;
	bool numeric = *port != '\0';
	for (const char *p = port; *p; p++)
		numeric = numeric && *p >= '0' && *p <= '9';
	if (!*port) {
		free(port);
		port = sl_strdup("0");
	} else if (numeric && (strlen(port) > 5 || atoi(port) > 65535)) {
		return sl_error_set(err, SL_EINVAL, "listen tcp %s: invalid port", addr);
	}

	/* An empty host, like Go's, means every address: IPv6 with IPv4
	 * mapped when the kernel has IPv6, plain IPv4 otherwise. */
	int families[] = {AF_INET6, AF_INET};
	size_t n_families = *host ? 1 : 2;
	for (size_t i = 0; i < n_families; i++) {
		struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
		hints.ai_family = *host ? AF_UNSPEC : families[i];
		struct addrinfo *list = NULL;
		int gr = getaddrinfo(*host ? host : NULL, port, &hints, &list);
		if (gr != 0) {
			if (!*host && i + 1 < n_families)
				continue;
			return sl_error_set(err, SL_EINVAL, "listen tcp %s: %s", addr,
			                    gai_strerror(gr));
		}
		/* A name with several addresses: Go listens on one, IPv4 first. */
		const struct addrinfo *pick = list;
		for (const struct addrinfo *ai = list; ai; ai = ai->ai_next)
			if (ai->ai_family == AF_INET) {
				pick = ai;
				break;
			}
		bool wildcard = false;
		if (pick->ai_family == AF_INET6) {
			const struct sockaddr_in6 *sa = (const void *)pick->ai_addr;
			wildcard = IN6_IS_ADDR_UNSPECIFIED(&sa->sin6_addr);
		}
		struct sl_error e2 = {0};
		int fd = listen_on(pick, wildcard, addr, &e2);
		freeaddrinfo(list);
		if (fd >= 0)
			return fd;
		if (!*host && i + 1 < n_families)
			continue;
		if (err)
			*err = e2;
		return fd;
	}
	return sl_error_set(err, SL_ENET, "listen tcp %s: no usable address", addr);
}

/* ---- responses ---------------------------------------------------------- */

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *resp)
{
	if (!resp)
		return MHD_NO;
	enum MHD_Result r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned status, const char *body)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (resp)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		                        "text/plain; charset=utf-8");
	return queue(c, status, resp);
}

static const char *const WEEKDAYS[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Go's http.TimeFormat, written without the locale. */
static void http_date(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT", WEEKDAYS[tm.tm_wday], tm.tm_mday,
	         MONTHS[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* IMF-fixdate only; the obsolete forms make the condition ignored. */
static bool parse_http_date(const char *s, time_t *ret)
{
	char wday[4], mon[4];
	int day, year, h, m, sec, used = 0;
	if (sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n", wday, &day, mon, &year,
	           &h, &m, &sec, &used) != 7 ||
	    used == 0 || s[used] != '\0')
		return false;
	struct tm tm = {.tm_mday = day,
	                .tm_year = year - 1900,
	                .tm_hour = h,
	                .tm_min = m,
	                .tm_sec = sec,
	                .tm_mon = -1};
	for (int i = 0; i < 12; i++)
		if (strcmp(mon, MONTHS[i]) == 0)
			tm.tm_mon = i;
	if (tm.tm_mon < 0)
		return false;
	*ret = timegm(&tm);
	return true;
}

/* Go's containsDotDot: a ".." element anywhere, '/' or '\' separated. */
static bool contains_dotdot(const char *path)
{
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/\\");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += n;
		if (*p)
			p++;
	}
	return false;
}

static const char *content_type(const char *path)
{
	if (sl_endswith(path, ".gz") || sl_endswith(path, ".tgz"))
		return "application/gzip";
	return "application/octet-stream";
}

/* One "bytes=" range: 1 with *start and *len set, 0 to serve the whole file
 * (several ranges, which we do not split into multipart), -1 unsatisfiable. */
static int parse_range(const char *header, uint64_t size, uint64_t *start, uint64_t *len)
{
	if (!sl_startswith(header, "bytes="))
		return -1;
	const char *spec = header + 6;
	if (strchr(spec, ','))
		return 0;
	while (*spec == ' ')
		spec++;
	char *end;
	errno = 0;
	if (*spec == '-') {
		if (!(spec[1] >= '0' && spec[1] <= '9'))
			return -1;
		unsigned long long n = strtoull(spec + 1, &end, 10);
		if (errno || *end || n == 0 || size == 0)
			return -1;
		*len = n > size ? size : n;
		*start = size - *len;
		return 1;
	}
	if (!(*spec >= '0' && *spec <= '9'))
		return -1;
	unsigned long long a = strtoull(spec, &end, 10);
	if (errno || *end != '-' || a >= size)
		return -1;
	uint64_t last = size - 1;
	if (end[1]) {
		if (!(end[1] >= '0' && end[1] <= '9'))
			return -1;
		unsigned long long b = strtoull(end + 1, &end, 10);
		if (errno || *end || b < a)
			return -1;
		if (b < last)
			last = b;
	}
	*start = a;
	*len = last - a + 1;
	return 1;
}

static enum MHD_Result serve_artifact(struct sl_httpd *h, struct MHD_Connection *c, const char *url)
{
	/* Flux's readiness probe is GET / on this port. */
	if (strcmp(url, "/") == 0)
		return respond_text(c, MHD_HTTP_OK, "ok\n");
	if (contains_dotdot(url))
		return respond_text(c, MHD_HTTP_BAD_REQUEST, "invalid URL path\n");
	if (url[0] != '/')
		return respond_text(c, MHD_HTTP_NOT_FOUND, "404 page not found\n");

	int fd;
	if (sl_storage_open(h->storage, url + 1, &fd, NULL) < 0)
		return respond_text(c, MHD_HTTP_NOT_FOUND, "404 page not found\n");
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "stat failed\n");
	}
	uint64_t size = (uint64_t)st.st_size;
	char modified[32] = "";
	if (st.st_mtime > 0)
		http_date(st.st_mtime, modified);

	const char *ims = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Modified-Since");
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
	time_t since;
	if (*modified && ims && !inm && parse_http_date(ims, &since) && st.st_mtime <= since) {
		close(fd);
		struct MHD_Response *resp =
		    MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		if (resp)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, modified);
		return queue(c, MHD_HTTP_NOT_MODIFIED, resp);
	}

	uint64_t start = 0, len = size;
	int ranged = 0;
	const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
	const char *if_range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Range");
	/* If-Range is honoured for our date; anything else means the whole file. */
	if (range && (!if_range || (*modified && strcmp(if_range, modified) == 0)))
		ranged = parse_range(range, size, &start, &len);
	char content_range[96];
	if (ranged < 0) {
		close(fd);
		snprintf(content_range, sizeof(content_range), "bytes */%llu",
		         (unsigned long long)size);
		static const char body[] = "invalid range: failed to overlap\n";
		struct MHD_Response *resp = MHD_create_response_from_buffer(
		    sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
		if (resp)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
		return queue(c, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp);
	}

	/* MHD owns fd from here and closes it with the response. */
	struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(len, fd, start);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(url));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	if (*modified)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, modified);
	if (ranged > 0) {
		snprintf(content_range, sizeof(content_range), "bytes %llu-%llu/%llu",
		         (unsigned long long)start, (unsigned long long)(start + len - 1),
		         (unsigned long long)size);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
	}
	return queue(c, ranged > 0 ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK, resp);
}

static enum MHD_Result serve_metrics(struct sl_httpd *h, struct MHD_Connection *c, const char *url)
{
	if (strcmp(url, "/metrics") != 0)
		return respond_text(c, MHD_HTTP_NOT_FOUND, "404 page not found\n");
	struct sl_buf text;
	sl_buf_init(&text, 0);
	if (sl_metrics_render(h->metrics, &text) < 0) {
		sl_buf_free(&text);
		return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		                    "rendering metrics failed\n");
	}
	size_t len = text.len;
	char *body = sl_buf_steal(&text);
	struct MHD_Response *resp =
	    body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
	         : MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, SL_METRICS_CONTENT_TYPE);
	return queue(c, MHD_HTTP_OK, resp);
}

static enum MHD_Result serve_health(struct sl_httpd *h, struct MHD_Connection *c, const char *url)
{
	if (strcmp(url, "/healthz") == 0)
		return respond_text(c, MHD_HTTP_OK, "ok");
	if (strcmp(url, "/readyz") == 0)
		return atomic_load(&h->ready)
		           ? respond_text(c, MHD_HTTP_OK, "ok")
		           : respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "readyz check failed");
	return respond_text(c, MHD_HTTP_NOT_FOUND, "404 page not found\n");
}

static enum MHD_Result refuse(struct MHD_Connection *c, unsigned status, const char *body)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	if (resp && status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	return queue(c, status, resp);
}

/* libmicrohttpd calls this once when the headers are in, and again after
 * the body. No endpoint takes a body: a request announcing one is refused
 * on the first call, which makes libmicrohttpd close the connection rather
 * than read it. The others are answered on the second call, which keeps
 * the connection alive for the next request. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
	(void)version;
	(void)upload_data;
	struct sl_httpd *h = cls;
	if (!*req_cls) {
		static int headers_seen;
		*req_cls = &headers_seen;
		if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
		    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
			return refuse(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
		const char *cl =
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if ((cl && strcmp(cl, "0") != 0) ||
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                MHD_HTTP_HEADER_TRANSFER_ENCODING))
			return refuse(c, MHD_HTTP_BAD_REQUEST, "unexpected request body\n");
		return MHD_YES;
	}
	if (*upload_data_size)
		return MHD_NO; /* a body after all: drop the connection */
	switch (h->kind) {
	case ARTIFACTS: return serve_artifact(h, c, url);
	case METRICS: return serve_metrics(h, c, url);
	case HEALTH: return serve_health(h, c, url);
	}
	return MHD_NO;
}

/* ---- servers ------------------------------------------------------------ */

static int start(const char *addr, enum server_kind kind, const struct sl_httpd_limits *limits,
                 struct sl_httpd **ret, struct sl_httpd *h, struct sl_error *err)
{
	int r = sl_mhd_available(err);
	if (r < 0) {
		free(h);
		return r;
	}
	int fd = sl_httpd_listen(addr, err);
	if (fd < 0) {
		free(h);
		return fd;
	}
	struct sockaddr_storage ss;
	socklen_t ss_len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &ss_len) == 0)
		h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
		                                         : ((struct sockaddr_in *)&ss)->sin_port);
	h->kind = kind;
	unsigned max_conn = limits && limits->max_connections ? limits->max_connections
	                                                      : SL_HTTPD_DEFAULT_MAX_CONNECTIONS;
	unsigned timeout = limits && limits->idle_timeout_s ? limits->idle_timeout_s
	                                                    : SL_HTTPD_DEFAULT_IDLE_TIMEOUT_S;
	/* libmicrohttpd owns the socket it is given, and whether it closes it
	 * when it fails to start is not documented: it gets a duplicate, so
	 * the worst case is a leaked descriptor, never a double close. */
	int given = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (given < 0) {
		int e = errno;
		close(fd);
		free(h);
		return sl_error_errno(err, e, SL_ENET, "listen tcp %s", addr);
	}
	/* No MHD_USE_ERROR_LOG: the library never prints. */
	h->daemon = MHD_start_daemon(
	    MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC, 0, NULL, NULL, on_request, h,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)given, MHD_OPTION_CONNECTION_LIMIT, max_conn,
	    MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)SL_HTTPD_MAX_REQUEST_BYTES, MHD_OPTION_END);
	close(fd);
	if (!h->daemon) {
		free(h);
		return sl_error_set(err, SL_ENET, "starting the HTTP server on %s", addr);
	}
	*ret = h;
	return 0;
}

int sl_httpd_start_artifacts(const char *addr, const struct sl_storage *storage,
                             const struct sl_httpd_limits *limits, struct sl_httpd **ret,
                             struct sl_error *err)
{
	struct sl_httpd *h = sl_xcalloc(1, sizeof(*h));
	h->storage = storage;
	return start(addr, ARTIFACTS, limits, ret, h, err);
}

int sl_httpd_start_metrics(const char *addr, struct sl_metrics *metrics,
                           const struct sl_httpd_limits *limits, struct sl_httpd **ret,
                           struct sl_error *err)
{
	struct sl_httpd *h = sl_xcalloc(1, sizeof(*h));
	h->metrics = metrics;
	return start(addr, METRICS, limits, ret, h, err);
}

int sl_httpd_start_health(const char *addr, const struct sl_httpd_limits *limits,
                          struct sl_httpd **ret, struct sl_error *err)
{
	struct sl_httpd *h = sl_xcalloc(1, sizeof(*h));
	return start(addr, HEALTH, limits, ret, h, err);
}

void sl_httpd_set_ready(struct sl_httpd *h, bool ready)
{
	atomic_store(&h->ready, ready);
}

uint16_t sl_httpd_port(const struct sl_httpd *h)
{
	return h->port;
}

void sl_httpd_stop(struct sl_httpd *h, int64_t grace_ms)
{
	if (!h)
		return;
	if (grace_ms > 0) {
		MHD_socket ls = MHD_quiesce_daemon(h->daemon);
		if (ls != MHD_INVALID_SOCKET)
			close(ls);
		for (int64_t deadline = sl_now_ms() + grace_ms; sl_now_ms() < deadline;) {
			const union MHD_DaemonInfo *info =
			    MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
			if (!info || info->num_connections == 0)
				break;
			struct timespec ts = {.tv_nsec = 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	MHD_stop_daemon(h->daemon);
	free(h);
}
