/* The registry client's transport: one libcurl easy handle per client (so
 * one connection pool, HTTP/2 where TLS offers it), docker's auth dance —
 * ping /v2/, Basic or Bearer from the challenge, tokens cached per scope
 * and refreshed when a 401 asks for a wider one — and retries with backoff
 * on 429, 5xx and dropped connections. */
#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/crypto_loader.h"
#include "config.h"
#include "oci/curl_loader.h"
#include "oci/oci.h"
#include "oci/registry_internal.h"

void reg_response_clear(struct response *rs)
{
	free(rs->location);
	free(rs->content_type);
	free(rs->docker_digest);
	free(rs->www_authenticate);
	free(rs->retry_after);
	free(rs->link);
	*rs = (struct response){0};
}

/* ---- curl plumbing ---------------------------------------------------- */

size_t reg_on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct response *rs = userdata;
	size_t len = size * nmemb;
	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new response (after a redirect or 100-continue): start over. */
		reg_response_clear(rs);
		return len;
	}
	const char *colon = memchr(data, ':', len);
	if (!colon)
		return len;
	size_t name_len = (size_t)(colon - data);
	const char *v = colon + 1;
	size_t vlen = len - name_len - 1;
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	if (vlen > MAX_HEADER_VALUE)
		return len;
	static const struct {
		const char *name;
		size_t off;
	} wanted[] = {
	    {"location", offsetof(struct response, location)},
	    {"content-type", offsetof(struct response, content_type)},
	    {"docker-content-digest", offsetof(struct response, docker_digest)},
	    {"www-authenticate", offsetof(struct response, www_authenticate)},
	    {"retry-after", offsetof(struct response, retry_after)},
	    {"link", offsetof(struct response, link)},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(wanted); i++) {
		if (strlen(wanted[i].name) == name_len &&
		    strncasecmp(data, wanted[i].name, name_len) == 0) {
			char **slot = (char **)((char *)rs + wanted[i].off);
			/* Keep the first challenge when several are sent. */
			if (*slot && wanted[i].off == offsetof(struct response, www_authenticate))
				break;
			free(*slot);
			*slot = sl_strndup(v, vlen);
			break;
		}
	}
	return len;
}

static size_t on_body_to_buf(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct sl_buf *b = userdata;
	size_t len = size * nmemb;
	/* Returning less than len aborts the transfer: that is how caps bite. */
	return sl_buf_append(b, data, len) < 0 ? 0 : len;
}

static size_t on_body_discard(char *data, size_t size, size_t nmemb, void *userdata)
{
	(void)data, (void)userdata;
	return size * nmemb;
}

struct fd_source {
	int fd;
	uint64_t offset;
	uint64_t left;
};

static size_t on_read_fd(char *buffer, size_t size, size_t nitems, void *userdata)
{
	struct fd_source *src = userdata;
	size_t want = size * nitems;
	if (want > src->left)
		want = (size_t)src->left;
	if (!want)
		return 0;
	ssize_t n;
	do
		n = pread(src->fd, buffer, want, (off_t)src->offset);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return CURL_READFUNC_ABORT;
	src->offset += (uint64_t)n;
	src->left -= (uint64_t)n;
	return (size_t)n;
}

struct mem_source {
	const char *data;
	size_t left;
};

static size_t on_read_mem(char *buffer, size_t size, size_t nitems, void *userdata)
{
	struct mem_source *src = userdata;
	size_t n = size * nitems < src->left ? size * nitems : src->left;
	memcpy(buffer, src->data, n);
	src->data += n;
	src->left -= n;
	return n;
}

struct progress_ctx {
	struct sl_registry *r;
	const char *what;
	bool upload;
	uint64_t base, total;
};

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	(void)dltotal, (void)ultotal;
	struct progress_ctx *p = userdata;
	uint64_t now = p->base + (uint64_t)(p->upload ? ulnow : dlnow);
	p->r->opts.progress(p->r->opts.progress_userdata, p->what, now, p->total);
	return 0;
}

/* Adds the CA in --ca-file to the system store rather than replacing it. */
static CURLcode on_ssl_ctx(CURL *curl, void *ssl_ctx, void *userdata)
{
	(void)curl;
	const char *path = userdata;
	/* NULL when libssl.so.3 cannot be loaded (crypto_loader.h), which cannot
	 * happen while libcurl, linked against it, runs this callback. */
	X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);
	if (!store)
		return CURLE_SSL_CACERT_BADFILE;
	FILE *f = fopen(path, "r");
	if (!f)
		return CURLE_SSL_CACERT_BADFILE;
	int added = 0;
	X509 *cert;
	while ((cert = PEM_read_X509(f, NULL, NULL, NULL))) {
		if (X509_STORE_add_cert(store, cert) == 1)
			added++;
		X509_free(cert);
	}
	fclose(f);
	return added ? CURLE_OK : CURLE_SSL_CACERT_BADFILE;
}

/* ---- requests --------------------------------------------------------- */

/* A client that will push asks for push access on reads too, so one token
 * serves the whole conversation. */
char *reg_scope(struct sl_registry *r, const char *repo, bool push)
{
	return sl_asprintf("repository:%s:%s", repo, push || r->opts.push ? "pull,push" : "pull");
}

const char *reg_base_url(struct sl_registry *r)
{
	return r->base_url;
}

int64_t reg_remaining_ms(struct sl_registry *r)
{
	return r->deadline_ms ? r->deadline_ms - sl_now_ms() : INT64_MAX;
}

static char *display_url(const char *url);

static int timeout_error(struct sl_registry *r, const struct request *rq, struct sl_error *err)
{
	_cleanup_free_ char *url = display_url(rq->url);
	return sl_error_set(err, SL_ENET, "%s %s: timeout exceeded (--timeout %llds)", rq->method,
	                    url, (long long)(r->opts.timeout_ms / 1000));
}

static const char *token_for(struct sl_registry *r, const char *scope)
{
	for (size_t i = 0; i < r->n_tokens; i++)
		if (strcmp(r->tokens[i].scope, scope ? scope : "") == 0)
			return r->tokens[i].value;
	return NULL;
}

/* scheme://host:port of url, lowercased, with the default port filled in;
 * NULL when url does not parse. *ret_userinfo tells whether it named a user. */
static char *url_origin(const char *url, bool *ret_userinfo)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *out = NULL;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		out = sl_asprintf("%s://%s:%s", scheme, host, port);
		for (char *c = out; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	if (ret_userinfo)
		*ret_userinfo = u && curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK;
	curl_free(scheme), curl_free(host), curl_free(port), curl_free(user);
	curl_url_cleanup(u);
	return out;
}

/* Credentials go only where they were meant to: the registry itself. */
static bool same_origin(struct sl_registry *r, const char *url)
{
	if (!r->base_url)
		return false;
	_cleanup_free_ char *a = url_origin(url, NULL);
	_cleanup_free_ char *b = url_origin(r->base_url, NULL);
	return a && b && strcmp(a, b) == 0;
}

void reg_configure_handle(struct sl_registry *r, CURL *c, char errbuf[CURL_ERROR_SIZE])
{
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, r->user_agent);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
	/* A connection that moves less than 1 byte/s for a minute is dead. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	int64_t left = reg_remaining_ms(r);
	if (left != INT64_MAX)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(left > 0 ? left : 1));
	if (r->opts.insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	/* Go honours SSL_CERT_FILE/SSL_CERT_DIR as the trust store; so do we. */
	const char *cert_file = getenv("SSL_CERT_FILE");
	const char *cert_dir = getenv("SSL_CERT_DIR");
	if (cert_file && *cert_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, cert_file);
	if (cert_dir && *cert_dir)
		curl_easy_setopt(c, CURLOPT_CAPATH, cert_dir);
	if (r->ca_file) {
		curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
		curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, r->ca_file);
	}
	if (r->client_cert_pem && r->client_key_pem) {
		/* Blobs, not files: the private key never touches the disk. */
		struct curl_blob cert = {r->client_cert_pem, strlen(r->client_cert_pem),
		                         CURL_BLOB_COPY};
		struct curl_blob key = {r->client_key_pem, strlen(r->client_key_pem),
		                        CURL_BLOB_COPY};
		curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
		curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
		curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (r->proxy_url) {
		curl_easy_setopt(c, CURLOPT_PROXY, r->proxy_url);
		/* "" proxies every host: an explicit proxy overrides NO_PROXY
		 * as it does in Go's http.ProxyURL. */
		curl_easy_setopt(c, CURLOPT_NOPROXY, "");
		if (r->proxy_username)
			curl_easy_setopt(c, CURLOPT_PROXYUSERNAME, r->proxy_username);
		if (r->proxy_password)
			curl_easy_setopt(c, CURLOPT_PROXYPASSWORD, r->proxy_password);
	}
}

char *reg_auth_header(struct sl_registry *r, const char *scope)
{
	if (r->creds.registry_token)
		return sl_asprintf("Authorization: Bearer %s", r->creds.registry_token);
	if (r->auth == AUTH_BASIC && r->creds.username && r->creds.password) {
		_cleanup_free_ char *pair =
		    sl_asprintf("%s:%s", r->creds.username, r->creds.password);
		_cleanup_free_ char *b64 = sl_base64_encode(pair, strlen(pair));
		explicit_bzero(pair, strlen(pair));
		char *h = sl_asprintf("Authorization: Basic %s", b64);
		explicit_bzero(b64, strlen(b64));
		return h;
	}
	if (r->auth == AUTH_BEARER) {
		const char *tok = token_for(r, scope);
		if (tok)
			return sl_asprintf("Authorization: Bearer %s", tok);
	}
	return NULL;
}

static int transfer(struct sl_registry *r, const struct request *rq, struct response *rs,
                    CURLcode *ret_code, char errbuf[CURL_ERROR_SIZE])
{
	CURL *c = r->curl;
	curl_easy_reset(c);
	reg_response_clear(rs);
	errbuf[0] = '\0';
	if (rq->out)
		sl_buf_reset(rq->out);

	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	reg_configure_handle(r, c, errbuf);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, reg_on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, rs);
	if (rq->sink) {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, rq->sink);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, rq->sink_data);
	} else if (rq->out) {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body_to_buf);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, rq->out);
	} else {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body_discard);
	}
	if (rq->follow_redirects) {
		/* curl drops Authorization when a redirect leaves the host. */
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	}

	struct curl_slist *headers = NULL;
	/* An explicit header (the token request's) goes where it was built for;
	 * the registry's own credentials only to the registry's origin, never
	 * to a host an upload Location or a Link header names. */
	_cleanup_free_ char *auth_header = rq->no_auth               ? NULL
	                                   : rq->authorization       ? sl_strdup(rq->authorization)
	                                   : same_origin(r, rq->url) ? reg_auth_header(r, rq->scope)
	                                                             : NULL;
	if (auth_header)
		headers = curl_slist_append(headers, auth_header);
	if (rq->accept)
		headers = curl_slist_append(headers, rq->accept);
	_cleanup_free_ char *ct =
	    rq->content_type ? sl_asprintf("Content-Type: %s", rq->content_type) : NULL;
	if (ct)
		headers = curl_slist_append(headers, ct);
	_cleanup_free_ char *cr =
	    rq->content_range ? sl_asprintf("Content-Range: %s", rq->content_range) : NULL;
	if (cr)
		headers = curl_slist_append(headers, cr);
	/* Registries answer at once; waiting for 100-continue only adds a second. */
	headers = curl_slist_append(headers, "Expect:");

	struct fd_source fsrc = {
	    .fd = rq->body_fd, .offset = rq->body_offset, .left = rq->body_size};
	struct mem_source msrc = {.data = rq->body, .left = rq->body_len};
	if (strcmp(rq->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(rq->method, "GET") != 0) {
		if (rq->has_body || strcmp(rq->method, "PUT") == 0 ||
		    strcmp(rq->method, "PATCH") == 0) {
			curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
			if (rq->body_fd >= 0 && rq->has_body && !rq->body) {
				curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read_fd);
				curl_easy_setopt(c, CURLOPT_READDATA, &fsrc);
				curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
				                 (curl_off_t)rq->body_size);
			} else {
				curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read_mem);
				curl_easy_setopt(c, CURLOPT_READDATA, &msrc);
				curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
				                 (curl_off_t)rq->body_len);
			}
		} else {
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
		}
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

	struct progress_ctx pctx = {.r = r,
	                            .what = rq->progress_what,
	                            .upload = rq->has_body,
	                            .base = rq->progress_base,
	                            .total = rq->progress_total};
	if (rq->progress_what && r->opts.progress) {
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, &pctx);
	}

	*ret_code = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs->status);
	curl_slist_free_all(headers);
	if (auth_header)
		explicit_bzero(auth_header, strlen(auth_header));
	return 0;
}

static bool retryable_curl(CURLcode code)
{
	switch (code) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM: return true;
	default: return false;
	}
}

static bool retryable_status(long status)
{
	return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
	       status == 504;
}

/* 250 ms, 1 s, 4 s ... with ±10% jitter, or the server's Retry-After. */
void reg_backoff(struct sl_registry *r, int attempt, const char *retry_after)
{
	int64_t ms = 250;
	for (int i = 0; i < attempt; i++)
		ms *= 4;
	if (retry_after) {
		long s = strtol(retry_after, NULL, 10);
		if (s > 0 && s < 60)
			ms = s * 1000;
	}
	ms += (ms / 10) * ((rand() % 21) - 10) / 10;
	int64_t left = reg_remaining_ms(r);
	if (ms > left)
		ms = left > 0 ? left : 0;
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static const char *status_text(long status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 416: return "Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

/* URL without query: upload locations carry opaque state nobody needs. */
static char *display_url(const char *url)
{
	return sl_strndup(url, strcspn(url, "?"));
}

static int http_error(const struct request *rq, const struct response *rs,
                      const struct sl_buf *body, struct sl_error *err)
{
	_cleanup_free_ char *url = display_url(rq->url);
	char detail[512] = "";
	if (body && body->data && body->len) {
		json_t *doc = json_loadb(body->data, body->len, 0, NULL);
		json_t *first = json_array_get(json_object_get(doc, "errors"), 0);
		const char *code = json_string_value(json_object_get(first, "code"));
		const char *msg = json_string_value(json_object_get(first, "message"));
		if (code || msg)
			snprintf(detail, sizeof(detail), ": %s%s%s", code ? code : "",
			         code && msg ? ": " : "", msg ? msg : "");
		json_decref(doc);
	}
	int code = rs->status == 401 || rs->status == 403 ? SL_EAUTH
	           : rs->status == 404                    ? SL_ENOTFOUND
	                                                  : SL_EHTTP;
	sl_error_set(err, code, "%s %s: %ld %s%s", rq->method, url, rs->status,
	             status_text(rs->status), detail);
	err->http_status = (int)rs->status;
	return code;
}

static int curl_failure(struct sl_registry *r, const struct request *rq, CURLcode code,
                        const char *errbuf, struct sl_error *err)
{
	if (code == CURLE_OPERATION_TIMEDOUT && r->deadline_ms && reg_remaining_ms(r) <= 0)
		return timeout_error(r, rq, err);
	_cleanup_free_ char *url = display_url(rq->url);
	const char *hint = "";
	if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE)
		hint = " (trust the registry's CA with --ca-file or SSL_CERT_FILE, or skip "
		       "verification with --insecure-registry)";
	return sl_error_set(err, SL_ENET, "%s %s: %s%s", rq->method, url,
	                    *errbuf ? errbuf : curl_easy_strerror(code), hint);
}

static int fetch_token(struct sl_registry *r, const char *scopes, const char *key,
                       struct sl_error *err);

/* Runs a request with auth and retries. rs holds the final response. An
 * error status is returned as an error unless accept_status says otherwise
 * (a status the caller handles itself, like 404 on HEAD). */
static int perform(struct sl_registry *r, const struct request *rq, struct response *rs, bool retry,
                   const long *accept_status, struct sl_error *err)
{
	char errbuf[CURL_ERROR_SIZE];
	bool auth_retried = false;
	int max_retries = retry ? r->opts.max_retries : 0;
	_cleanup_buf_ struct sl_buf errbody;
	sl_buf_init(&errbody, SL_MAX_ERROR_BODY_BYTES);

	for (int attempt = 0;; attempt++) {
		if (reg_remaining_ms(r) <= 0)
			return timeout_error(r, rq, err);
		if (r->auth == AUTH_BEARER && !rq->no_auth && !rq->authorization &&
		    !r->creds.registry_token && !token_for(r, rq->scope)) {
			int t = fetch_token(r, rq->scope, rq->scope, err);
			if (t < 0)
				return t;
		}
		CURLcode code;
		struct request q = *rq;
		/* Keep error bodies for the message even when the caller streams. */
		transfer(r, &q, rs, &code, errbuf);
		if (code != CURLE_OK && code != CURLE_WRITE_ERROR) {
			if (retryable_curl(code) && attempt < max_retries) {
				sl_log_debug("%s %.*s: %s, retrying", rq->method,
				             (int)strcspn(rq->url, "?"), rq->url,
				             curl_easy_strerror(code));
				reg_backoff(r, attempt, NULL);
				continue;
			}
			return curl_failure(r, rq, code, errbuf, err);
		}
		if (code == CURLE_WRITE_ERROR && rs->status >= 200 && rs->status < 300) {
			_cleanup_free_ char *url = display_url(rq->url);
			return sl_error_set(err, SL_ELIMIT, "%s %s: response larger than allowed",
			                    rq->method, url);
		}

		if (rs->status == 401 && !auth_retried && !rq->no_auth && !rq->authorization &&
		    rs->www_authenticate) {
			struct sl_auth_challenge ch;
			if (sl_auth_challenge_parse(rs->www_authenticate, &ch, NULL) == 0) {
				auth_retried = true;
				bool can_retry = false;
				if (strcmp(ch.scheme, "bearer") == 0 && ch.realm &&
				    !r->creds.registry_token) {
					sl_auth_challenge_clear(&r->challenge);
					r->challenge = ch;
					r->auth = AUTH_BEARER;
					/* The challenge may ask for a wider scope than ours (a
					 * mount, a catalog): ask for both, keep it under ours. */
					const char *key = rq->scope ? rq->scope : "";
					_cleanup_free_ char *wanted =
					    ch.scope && strcmp(ch.scope, key) != 0
					        ? (*key ? sl_asprintf("%s %s", key, ch.scope)
					                : sl_strdup(ch.scope))
					        : sl_strdup(key);
					int t = fetch_token(r, wanted, key, err);
					if (t < 0)
						return t;
					can_retry = true;
				} else if (strcmp(ch.scheme, "basic") == 0) {
					sl_auth_challenge_clear(&ch);
					can_retry = r->auth != AUTH_BASIC && r->creds.username;
					r->auth = AUTH_BASIC;
				} else {
					sl_auth_challenge_clear(&ch);
				}
				if (can_retry) {
					attempt--;
					continue;
				}
			}
		}
		if (retryable_status(rs->status) && attempt < max_retries) {
			sl_log_debug("%s %.*s: HTTP %ld, retrying", rq->method,
			             (int)strcspn(rq->url, "?"), rq->url, rs->status);
			reg_backoff(r, attempt, rs->retry_after);
			continue;
		}
		if (rs->status >= 200 && rs->status < 300)
			return 0;
		for (const long *s = accept_status; s && *s; s++)
			if (*s == rs->status)
				return 0;
		/* The body went to the caller's sink or buffer; fetch the error text
		 * from there when we can. */
		const struct sl_buf *body = rq->out ? rq->out : rq->err_out;
		int e = http_error(rq, rs, body, err);
		if (rs->status == 401 && sl_creds_empty(&r->creds))
			sl_error_wrap(err, e,
			              "authentication required (no credentials found for %s)",
			              r->host);
		else if (rs->status == 401)
			sl_error_wrap(err, e, "authentication to %s failed", r->host);
		return e;
	}
}

static bool header_safe(const char *v)
{
	return !v || !strpbrk(v, "\r\n");
}

int reg_perform(struct sl_registry *r, const struct request *rq, struct response *rs, bool retry,
                const long *accept_status, struct sl_error *err)
{
	/* Values from manifests and layouts end up in headers: no smuggling. */
	if (!header_safe(rq->content_type) || !header_safe(rq->content_range) ||
	    !header_safe(rq->accept) || !header_safe(rq->authorization))
		return sl_error_set(err, SL_EINVAL, "refusing a header value with a line break");
	int rc = perform(r, rq, rs, retry, accept_status, err);
	/* A failed request hands back no response: nothing for callers to free. */
	if (rc < 0)
		reg_response_clear(rs);
	return rc;
}

/* ---- tokens ----------------------------------------------------------- */

static char *bare_host(const char *host)
{
	if (host[0] == '[')
		return sl_strndup(host + 1, strcspn(host + 1, "]"));
	return sl_strndup(host, strcspn(host, ":"));
}

static bool host_is_loopback(const char *host)
{
	_cleanup_free_ char *h = bare_host(host);
	struct in_addr a4;
	struct in6_addr a6;
	if (strcmp(h, "localhost") == 0 || sl_endswith(h, ".localhost"))
		return true;
	if (inet_pton(AF_INET, h, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

static bool host_is_local(const char *host)
{
	_cleanup_free_ char *h = bare_host(host);
	struct in_addr a4;
	if (host_is_loopback(host))
		return true;
	if (inet_pton(AF_INET, h, &a4) == 1) {
		uint32_t ip = ntohl(a4.s_addr);
		return (ip >> 24) == 10 || (ip >> 20) == 0xac1 || (ip >> 16) == 0xc0a8;
	}
	return false;
}

static char *hostname_of_url(const char *url)
{
	const char *s = strstr(url, "://");
	s = s ? s + 3 : url;
	size_t n = strcspn(s, "/?#");
	_cleanup_free_ char *hostport = sl_strndup(s, n);
	if (hostport[0] == '[')
		return sl_strndup(hostport + 1, strcspn(hostport + 1, "]"));
	return sl_strndup(hostport, strcspn(hostport, ":"));
}

static bool ip_is_private(const char *h)
{
	struct in_addr a4;
	struct in6_addr a6;
	/* inet_aton takes the shorthand forms curl does (127.1, 2130706433). */
	if (inet_aton(h, &a4)) {
		uint32_t ip = ntohl(a4.s_addr);
		return (ip >> 24) == 0 || (ip >> 24) == 10 || (ip >> 24) == 127 ||
		       (ip >> 22) == (100u << 2 | 1) /* 100.64/10 */ || (ip >> 16) == 0xa9fe ||
		       (ip >> 20) == 0xac1 || (ip >> 16) == 0xc0a8;
	}
	if (inet_pton(AF_INET6, h, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			char v4[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &a6.s6_addr[12], v4, sizeof(v4));
			return ip_is_private(v4);
		}
		return IN6_IS_ADDR_LOOPBACK(&a6) || IN6_IS_ADDR_LINKLOCAL(&a6) ||
		       IN6_IS_ADDR_UNSPECIFIED(&a6) || (a6.s6_addr[0] & 0xfe) == 0xfc;
	}
	return strcmp(h, "localhost") == 0 || sl_endswith(h, ".localhost");
}

static int check_realm(struct sl_registry *r, const char *realm, struct sl_error *err)
{
	bool https = sl_startswith(realm, "https://");
	bool http = sl_startswith(realm, "http://");
	if (!https && !(http && (r->opts.insecure || sl_startswith(r->base_url, "http://"))))
		return sl_error_set(err, SL_EAUTH,
		                    "token realm %s must be https for a registry served over TLS",
		                    realm);
	bool userinfo = false;
	_cleanup_free_ char *origin = url_origin(realm, &userinfo);
	if (!origin || userinfo)
		return sl_error_set(err, SL_EAUTH, "token realm %s is not a plain http(s) URL",
		                    realm);
	/* A realm on a private or link-local address is only trusted when it is
	 * the registry's own host: anything else would let a registry aim us
	 * (and the user's password) at the LAN or a metadata service. */
	_cleanup_free_ char *realm_host = hostname_of_url(strstr(origin, "://") + 3);
	_cleanup_free_ char *reg_origin = url_origin(r->base_url, NULL);
	_cleanup_free_ char *reg_host =
	    reg_origin ? hostname_of_url(strstr(reg_origin, "://") + 3) : sl_strdup("");
	if (ip_is_private(realm_host) && strcmp(realm_host, reg_host) != 0)
		return sl_error_set(err, SL_EAUTH,
		                    "token realm %s points to a private address other than the "
		                    "registry",
		                    realm);
	return 0;
}

static void store_token(struct sl_registry *r, const char *scope, const char *value)
{
	for (size_t i = 0; i < r->n_tokens; i++) {
		if (strcmp(r->tokens[i].scope, scope) == 0) {
			free(r->tokens[i].value);
			r->tokens[i].value = sl_strdup(value);
			return;
		}
	}
	if (r->n_tokens == MAX_TOKENS) {
		free(r->tokens[0].scope);
		free(r->tokens[0].value);
		memmove(r->tokens, r->tokens + 1, (MAX_TOKENS - 1) * sizeof(struct token));
		r->n_tokens--;
	}
	r->tokens[r->n_tokens].scope = sl_strdup(scope);
	r->tokens[r->n_tokens++].value = sl_strdup(value);
}

static void append_param(struct sl_buf *b, CURL *esc, const char *key, const char *value)
{
	char *v = curl_easy_escape(esc, value, 0);
	sl_buf_printf(b, "%s%s=%s", b->len ? "&" : "", key, v);
	curl_free(v);
}

/* The token request proper: GET with Basic credentials (docker's token
 * protocol), or POST with a refresh token when the credentials are an
 * identity token (OAuth2, as docker and go-containerregistry do). */
static int request_token(struct sl_registry *r, const char *scopes, bool oauth, struct sl_buf *body,
                         struct sl_error *err)
{
	const struct sl_auth_challenge *ch = &r->challenge;
	_cleanup_buf_ struct sl_buf params;
	sl_buf_init(&params, 0);
	_cleanup_free_ char *scope_list = sl_strdup(scopes ? scopes : "");
	if (oauth) {
		append_param(&params, r->curl, "grant_type", "refresh_token");
		append_param(&params, r->curl, "refresh_token", r->creds.identity_token);
		if (ch->service)
			append_param(&params, r->curl, "service", ch->service);
		if (*scope_list)
			append_param(&params, r->curl, "scope", scope_list);
		append_param(&params, r->curl, "client_id", "sluice");
	} else {
		if (ch->service)
			append_param(&params, r->curl, "service", ch->service);
		/* Scopes are space-separated when merged; each is its own parameter. */
		for (char *save = NULL, *tok = strtok_r(scope_list, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save))
			append_param(&params, r->curl, "scope", tok);
	}
	_cleanup_free_ char *url =
	    oauth ? sl_strdup(ch->realm)
	          : sl_asprintf("%s%c%s", ch->realm, strchr(ch->realm, '?') ? '&' : '?',
	                        params.data ? params.data : "");

	/* The token endpoint takes the user's Basic credentials; it is the one
	 * request that carries them when the registry itself speaks Bearer. A
	 * registry token (--creds without ':') is never sent here, and no
	 * redirect is followed: the realm was checked, where it leads was not. */
	_cleanup_free_ char *basic = NULL;
	if (!oauth && r->creds.username && r->creds.password) {
		_cleanup_free_ char *pair =
		    sl_asprintf("%s:%s", r->creds.username, r->creds.password);
		_cleanup_free_ char *b64 = sl_base64_encode(pair, strlen(pair));
		basic = sl_asprintf("Authorization: Basic %s", b64);
		explicit_bzero(pair, strlen(pair));
		explicit_bzero(b64, strlen(b64));
	}
	struct request rq = {.method = oauth ? "POST" : "GET",
	                     .url = url,
	                     .out = body,
	                     .body_fd = -1,
	                     .authorization = basic,
	                     .no_auth = !basic};
	if (oauth) {
		rq.content_type = "application/x-www-form-urlencoded";
		rq.body = params.data;
		rq.body_len = params.len;
		rq.has_body = true;
	}
	struct response rs = {0};
	int rc = reg_perform(r, &rq, &rs, true, NULL, err);
	reg_response_clear(&rs);
	if (params.data)
		explicit_bzero(params.data, params.len);
	if (basic)
		explicit_bzero(basic, strlen(basic));
	return rc;
}

static int fetch_token(struct sl_registry *r, const char *scopes, const char *key,
                       struct sl_error *err)
{
	int rc = check_realm(r, r->challenge.realm, err);
	if (rc < 0)
		return rc;
	_cleanup_buf_ struct sl_buf body;
	sl_buf_init(&body, SL_MAX_TOKEN_RESPONSE_BYTES);
	bool oauth = r->creds.identity_token != NULL;
	rc = request_token(r, scopes, oauth, &body, err);
	if (rc < 0 && oauth && (err->http_status == 404 || err->http_status == 405)) {
		/* Token servers without OAuth2 support: fall back to docker's GET. */
		sl_error_clear(err);
		rc = request_token(r, scopes, false, &body, err);
	}
	if (rc < 0)
		return sl_error_wrap(err, rc, "fetching a token for %s", r->host);

	json_t *doc = json_loadb(body.data ? body.data : "", body.len, 0, NULL);
	const char *tok = json_string_value(json_object_get(doc, "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(doc, "access_token"));
	bool found = tok && *tok;
	if (found)
		store_token(r, key ? key : "", tok);
	json_decref(doc);
	if (body.data)
		explicit_bzero(body.data, body.len);
	if (!found)
		return sl_error_set(err, SL_EAUTH, "fetching a token for %s: no token in response",
		                    r->host);
	return 0;
}

/* ---- ping ------------------------------------------------------------- */

static int ping_at(struct sl_registry *r, const char *scheme, struct response *rs,
                   CURLcode *ret_code, struct sl_error *err)
{
	free(r->base_url);
	r->base_url = sl_asprintf("%s://%s", scheme, r->host);
	_cleanup_free_ char *url = sl_asprintf("%s/v2/", r->base_url);
	char errbuf[CURL_ERROR_SIZE];
	struct request rq = {.method = "GET", .url = url, .no_auth = true, .body_fd = -1};
	if (reg_remaining_ms(r) <= 0)
		return timeout_error(r, &rq, err);
	transfer(r, &rq, rs, ret_code, errbuf);
	if (*ret_code != CURLE_OK)
		return curl_failure(r, &rq, *ret_code, errbuf, err);
	return 0;
}

int reg_ping(struct sl_registry *r, struct sl_error *err)
{
	if (r->pinged)
		return 0;
	struct response rs = {0};
	CURLcode code;
	int rc;
	if (host_is_loopback(r->host)) {
		/* A registry on loopback is most often plain HTTP (a local
		 * registry:2), and a failed TLS handshake costs loading the whole CA
		 * store. Ask over HTTP first: a TLS server answers that with 400 or
		 * by hanging up, and then TLS gets its turn. */
		rc = ping_at(r, "http", &rs, &code, err);
		bool answered = rc == 0 && (rs.status == 200 || rs.status == 401 ||
		                            retryable_status(rs.status));
		if (!answered && !(rc < 0 && code == CURLE_COULDNT_CONNECT))
			rc = ping_at(r, "https", &rs, &code, err);
	} else {
		rc = ping_at(r, "https", &rs, &code, err);
		/* Plain HTTP only for --insecure-registry and private addresses (as
		 * docker and go-containerregistry do), and never to dodge a
		 * certificate problem on a server that does speak TLS. */
		if (rc < 0 && (r->opts.insecure || host_is_local(r->host)) &&
		    code != CURLE_PEER_FAILED_VERIFICATION && code != CURLE_OPERATION_TIMEDOUT) {
			struct sl_error https_err = *err;
			rc = ping_at(r, "http", &rs, &code, err);
			if (rc < 0 && code == CURLE_COULDNT_CONNECT)
				*err = https_err;
		}
	}
	/* A registry that is restarting refuses connections or answers 5xx for
	 * a moment: retry those like any other request. */
	for (int attempt = 0; attempt < r->opts.max_retries; attempt++) {
		bool refused = rc < 0 && code == CURLE_COULDNT_CONNECT && attempt == 0;
		bool busy = rc == 0 && retryable_status(rs.status);
		if (!refused && !busy)
			break;
		reg_backoff(r, attempt, rs.retry_after);
		rc = ping_at(r, sl_startswith(r->base_url, "https") ? "https" : "http", &rs, &code,
		             err);
	}
	if (rc < 0) {
		reg_response_clear(&rs);
		return sl_error_wrap(err, rc, "connecting to %s", r->host);
	}
	if (rs.status == 401 && rs.www_authenticate) {
		struct sl_auth_challenge ch;
		rc = sl_auth_challenge_parse(rs.www_authenticate, &ch, err);
		if (rc < 0) {
			reg_response_clear(&rs);
			return sl_error_wrap(err, rc, "connecting to %s", r->host);
		}
		if (strcmp(ch.scheme, "bearer") == 0 && ch.realm) {
			r->auth = AUTH_BEARER;
			sl_auth_challenge_clear(&r->challenge);
			r->challenge = ch;
		} else {
			r->auth = strcmp(ch.scheme, "basic") == 0 ? AUTH_BASIC : AUTH_NONE;
			sl_auth_challenge_clear(&ch);
		}
	} else if (rs.status != 200 && rs.status != 401) {
		long status = rs.status;
		reg_response_clear(&rs);
		return sl_error_set(err, SL_EHTTP,
		                    "connecting to %s: GET %s/v2/: %ld %s (not an OCI registry?)",
		                    r->host, r->base_url, status, status_text(status));
	}
	reg_response_clear(&rs);
	r->pinged = true;
	return 0;
}

/* Loads libcurl and libcrypto (for digests of blobs), which sluice does not
 * link (curl_loader.h, crypto_loader.h), and initialises libcurl: once per
 * process, whichever thread gets here first (the controller's workers). */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_init_rc;
static char curl_init_msg[SL_ERROR_MAX];

static void curl_init_once(void)
{
	struct sl_error e = {0};
	int rc = sl_curl_available(&e);
	if (rc == 0)
		rc = sl_crypto_available(&e);
	if (rc == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		rc = sl_error_set(&e, SL_ENOMEM, "initialising libcurl");
	curl_init_rc = rc;
	snprintf(curl_init_msg, sizeof(curl_init_msg), "%s", e.msg);
}

int sl_http_init(struct sl_error *err)
{
	pthread_once(&curl_once, curl_init_once);
	return curl_init_rc < 0 ? sl_error_set(err, curl_init_rc, "%s", curl_init_msg) : 0;
}

int sl_registry_new(const char *host, const struct sl_registry_opts *opts, struct sl_registry **ret,
                    struct sl_error *err)
{
	int ir = sl_http_init(err);
	if (ir < 0)
		return ir;
	struct sl_registry *r = sl_xcalloc(1, sizeof(*r));
	r->host = sl_strdup(host);
	r->opts = *opts;
	if (r->opts.max_retries <= 0)
		r->opts.max_retries = 3;
	r->curl = curl_easy_init();
	if (!r->curl) {
		sl_registry_free(r);
		return sl_error_set(err, SL_ENOMEM, "initialising libcurl");
	}
	if (opts->creds) {
		const struct sl_creds *c = opts->creds;
		r->creds.username = c->username ? sl_strdup(c->username) : NULL;
		r->creds.password = c->password ? sl_strdup(c->password) : NULL;
		r->creds.identity_token = c->identity_token ? sl_strdup(c->identity_token) : NULL;
		r->creds.registry_token = c->registry_token ? sl_strdup(c->registry_token) : NULL;
	}
	r->opts.creds = NULL;
	r->ca_file = opts->ca_file ? sl_strdup(opts->ca_file) : NULL;
	r->opts.ca_file = NULL;
	if (opts->client_cert_pem && opts->client_key_pem) {
		r->client_cert_pem = sl_strdup(opts->client_cert_pem);
		r->client_key_pem = sl_strdup(opts->client_key_pem);
	}
	r->opts.client_cert_pem = r->opts.client_key_pem = NULL;
	r->proxy_url = opts->proxy_url ? sl_strdup(opts->proxy_url) : NULL;
	r->proxy_username = opts->proxy_username ? sl_strdup(opts->proxy_username) : NULL;
	r->proxy_password = opts->proxy_password ? sl_strdup(opts->proxy_password) : NULL;
	r->opts.proxy_url = r->opts.proxy_username = r->opts.proxy_password = NULL;
	r->user_agent = sl_strdup(opts->user_agent ? opts->user_agent : "sluice/" SLUICE_VERSION);
	r->opts.user_agent = NULL;
	r->deadline_ms = opts->timeout_ms > 0 ? sl_now_ms() + opts->timeout_ms : 0;
	*ret = r;
	return 0;
}

void sl_registry_set_deadline(struct sl_registry *r, int64_t timeout_ms)
{
	r->deadline_ms = timeout_ms > 0 ? sl_now_ms() + timeout_ms : 0;
}

void sl_registry_free(struct sl_registry *r)
{
	if (!r)
		return;
	if (r->curl)
		curl_easy_cleanup(r->curl);
	sl_creds_clear(&r->creds);
	sl_auth_challenge_clear(&r->challenge);
	for (size_t i = 0; i < r->n_tokens; i++) {
		free(r->tokens[i].scope);
		explicit_bzero(r->tokens[i].value, strlen(r->tokens[i].value));
		free(r->tokens[i].value);
	}
	free(r->host);
	free(r->base_url);
	free(r->ca_file);
	free(r->client_cert_pem);
	free(r->proxy_url);
	free(r->proxy_username);
	if (r->proxy_password) {
		explicit_bzero(r->proxy_password, strlen(r->proxy_password));
		free(r->proxy_password);
	}
	if (r->client_key_pem) {
		explicit_bzero(r->client_key_pem, strlen(r->client_key_pem));
		free(r->client_key_pem);
	}
	free(r->user_agent);
	free(r);
}
