/* The client's transport: one libcurl easy handle per client (so one
 * connection to the API server, HTTP/2 where TLS offers it), the TLS and
 * credentials of its config, JSON requests with capped answers, and
 * retries with backoff on 429, 5xx and lost connections. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "kube/kube_internal.h"
#include "oci/curl_loader.h"

#define DEFAULT_TIMEOUT_MS  (60 * 1000)
#define DEFAULT_MAX_RETRIES 5
#define BACKOFF_BASE_MS     200
#define BACKOFF_MAX_MS      (10 * 1000)
#define RETRY_AFTER_MAX_S   60

bool kube_stopped(const struct sl_kube *k)
{
	return k->stop && atomic_load(k->stop);
}

bool kube_sleep(const struct sl_kube *k, int64_t ms)
{
	int64_t end = sl_now_ms() + ms;
	for (;;) {
		if (kube_stopped(k))
			return false;
		int64_t left = end - sl_now_ms();
		if (left <= 0)
			return true;
		if (left > 50)
			left = 50;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = left * 1000000};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
}

/* ---- construction ------------------------------------------------------- */

/* With tls-server-name, requests go to https://<name>:<port> and curl's
 * CONNECT_TO sends them to the real host: SNI and certificate checks then
 * use the name, as Go's tls.Config.ServerName does. */
static int setup_base_url(struct sl_kube *k, struct sl_error *err)
{
	const struct sl_kube_config *c = k->cfg;
	if (!c->tls_server_name) {
		k->base_url = sl_strdup(c->server);
		return 0;
	}
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	int r = 0;
	if (!u || curl_url_set(u, CURLUPART_URL, c->server, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		r = sl_error_set(err, SL_EINVAL, "%s: server \"%s\" is not a valid URL", c->origin,
		                 c->server);
	} else {
		size_t plen = strlen(path);
		while (plen && path[plen - 1] == '/')
			plen--;
		k->base_url = sl_asprintf("%s://%s:%s%.*s", scheme, c->tls_server_name, port,
		                          (int)plen, path);
		_cleanup_free_ char *map =
		    sl_asprintf("%s:%s:%s:%s", c->tls_server_name, port, host, port);
		k->connect_to = curl_slist_append(NULL, map);
	}
	curl_free(scheme), curl_free(host), curl_free(port), curl_free(path);
	curl_url_cleanup(u);
	return r;
}

int sl_kube_new(const struct sl_kube_config *cfg, const struct sl_kube_client_opts *opts,
                struct sl_kube **ret, struct sl_error *err)
{
	static const struct sl_kube_client_opts none = {0};
	if (!opts)
		opts = &none;
	int r = sl_curl_available(err);
	if (r < 0)
		return r;
	if (!cfg || !cfg->server)
		return sl_error_set(err, SL_EINVAL, "Kubernetes client: no server configured");
	_cleanup_(sl_kube_freep) struct sl_kube *k = sl_xcalloc(1, sizeof(*k));
	k->cfg = sl_kube_config_dup(cfg);
	k->curl = curl_easy_init();
	if (!k->curl)
		return sl_error_set(err, SL_ENOMEM, "initialising libcurl");
	k->user_agent =
	    opts->user_agent ? sl_strdup(opts->user_agent) : sl_strdup("sluice/" SLUICE_VERSION);
	k->field_manager = sl_strdup(opts->field_manager ? opts->field_manager : "sluice");
	k->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	k->max_retries = opts->max_retries > 0   ? opts->max_retries
	                 : opts->max_retries < 0 ? 0
	                                         : DEFAULT_MAX_RETRIES;
	k->stop = opts->stop;
	r = setup_base_url(k, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(k);
	return 0;
}

struct sl_kube *sl_kube_free(struct sl_kube *k)
{
	if (!k)
		return NULL;
	if (k->curl)
		curl_easy_cleanup(k->curl);
	curl_slist_free_all(k->connect_to);
	kube_discovery_free(k);
	if (k->file_token)
		explicit_bzero(k->file_token, strlen(k->file_token));
	free(k->file_token);
	free(k->user_agent);
	free(k->field_manager);
	free(k->impersonate_user);
	free(k->base_url);
	sl_kube_config_free(k->cfg);
	free(k);
	return NULL;
}

const struct sl_kube_config *sl_kube_config_of(const struct sl_kube *k)
{
	return k->cfg;
}

/* ---- credentials --------------------------------------------------------- */

/* The bearer token: the config's, or the token file's content, read again
 * whenever the file changed (kubelet swaps projected tokens by renaming a
 * symlinked directory, which changes the inode). */
int kube_bearer_token(struct sl_kube *k, bool force, const char **ret, struct sl_error *err)
{
	*ret = k->cfg->token;
	if (k->cfg->token || !k->cfg->token_file)
		return 0;
	struct stat st;
	if (stat(k->cfg->token_file, &st) < 0)
		return sl_error_errno(err, errno, SL_EIO, "token file %s", k->cfg->token_file);
	bool changed = !k->file_token || st.st_ino != k->file_token_st.st_ino ||
	               st.st_dev != k->file_token_st.st_dev ||
	               st.st_size != k->file_token_st.st_size ||
	               st.st_mtim.tv_sec != k->file_token_st.st_mtim.tv_sec ||
	               st.st_mtim.tv_nsec != k->file_token_st.st_mtim.tv_nsec;
	if (changed || force) {
		_cleanup_buf_ struct sl_buf b;
		sl_buf_init(&b, SL_KUBE_MAX_CREDENTIAL_FILE);
		int r = sl_read_file(k->cfg->token_file, SL_KUBE_MAX_CREDENTIAL_FILE, &b, err);
		if (r < 0)
			return sl_error_wrap(err, r, "token file");
		size_t len = b.len;
		while (len && (b.data[len - 1] == '\n' || b.data[len - 1] == '\r' ||
		               b.data[len - 1] == ' '))
			len--;
		if (k->file_token)
			explicit_bzero(k->file_token, strlen(k->file_token));
		free(k->file_token);
		k->file_token = sl_strndup(b.data ? b.data : "", len);
		if (b.data)
			explicit_bzero(b.data, b.len);
		k->file_token_st = st;
		if (!*k->file_token)
			return sl_error_set(err, SL_EAUTH, "token file %s is empty",
			                    k->cfg->token_file);
	}
	*ret = k->file_token;
	return 0;
}

/* ---- one transfer --------------------------------------------------------- */

struct response_headers {
	long retry_after_s;
};

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct response_headers *h = userdata;
	size_t len = size * nmemb;
	static const char name[] = "retry-after:";
	if (len > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
		char v[32];
		size_t n = len - (sizeof(name) - 1);
		if (n >= sizeof(v))
			n = sizeof(v) - 1;
		memcpy(v, data + sizeof(name) - 1, n);
		v[n] = '\0';
		char *end;
		long s = strtol(v, &end, 10);
		/* Only delta-seconds; the API server never sends an HTTP date. */
		if (end != v && s >= 0)
			h->retry_after_s = s;
	} else if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		h->retry_after_s = -1; /* a new response after a 100 Continue */
	}
	return len;
}

struct body_sink {
	struct sl_buf *buf;
	bool overflow;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct body_sink *s = userdata;
	size_t len = size * nmemb;
	/* Returning less than len aborts the transfer: that is how caps bite. */
	if (sl_buf_append(s->buf, data, len) < 0) {
		s->overflow = true;
		return 0;
	}
	return len;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return kube_stopped(userdata) ? 1 : 0;
}

static void configure_tls(struct sl_kube *k, CURL *c)
{
	const struct sl_kube_config *cfg = k->cfg;
	if (cfg->insecure_skip_tls_verify) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	/* A CA in the config replaces the system's trust store, as in
	 * client-go; without one, Go's SSL_CERT_FILE/SSL_CERT_DIR apply. */
	if (cfg->ca_data.data) {
		struct curl_blob blob = {cfg->ca_data.data, cfg->ca_data.len, CURL_BLOB_NOCOPY};
		curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
	} else if (cfg->ca_file) {
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_file);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	} else {
		const char *cert_file = getenv("SSL_CERT_FILE");
		const char *cert_dir = getenv("SSL_CERT_DIR");
		if (cert_file && *cert_file)
			curl_easy_setopt(c, CURLOPT_CAINFO, cert_file);
		if (cert_dir && *cert_dir)
			curl_easy_setopt(c, CURLOPT_CAPATH, cert_dir);
	}
	if (cfg->client_cert_data.data) {
		struct curl_blob blob = {cfg->client_cert_data.data, cfg->client_cert_data.len,
		                         CURL_BLOB_NOCOPY};
		curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &blob);
		curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
	} else if (cfg->client_cert_file) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, cfg->client_cert_file);
		curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (cfg->client_key_data.data) {
		struct curl_blob blob = {cfg->client_key_data.data, cfg->client_key_data.len,
		                         CURL_BLOB_NOCOPY};
		curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &blob);
		curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (cfg->client_key_file) {
		curl_easy_setopt(c, CURLOPT_SSLKEY, cfg->client_key_file);
		curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	}
}

static void configure(struct sl_kube *k, CURL *c, struct response_headers *h)
{
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, k->errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, k->user_agent);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 15L);
	/* The API server never redirects a client; credentials stay put. */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	/* Bodies sent here are objects and patches of a few KiB: libcurl's
	 * 64 KiB upload buffer, kept by every handle (one per worker),
	 * would be mostly air. 16 KiB is its minimum. */
	curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
	configure_tls(k, c);
	if (k->cfg->proxy_url)
		curl_easy_setopt(c, CURLOPT_PROXY, k->cfg->proxy_url);
	if (k->connect_to)
		curl_easy_setopt(c, CURLOPT_CONNECT_TO, k->connect_to);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	if (k->stop) {
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, k);
	}
}

CURLcode kube_transfer(struct sl_kube *k, const struct kube_transfer *t, long *ret_status,
                       long *ret_retry_after_s)
{
	CURL *c = k->curl;
	curl_easy_reset(c);
	k->errbuf[0] = '\0';
	struct response_headers h = {.retry_after_s = -1};
	struct body_sink sink = {.buf = t->out};
	*ret_status = 0;
	*ret_retry_after_s = -1;

	const char *token = NULL;
	if (kube_bearer_token(k, false, &token, &k->token_error) < 0)
		return CURLE_LOGIN_DENIED;

	_cleanup_free_ char *url = sl_asprintf("%s%s", k->base_url, t->path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	configure(k, c, &h);
	if (t->timeout_ms > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)t->timeout_ms);
	if (t->sink) {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, t->sink);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, t->sink_data);
	} else {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	}

	struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
	_cleanup_free_ char *auth = token ? sl_asprintf("Authorization: Bearer %s", token) : NULL;
	if (auth)
		headers = curl_slist_append(headers, auth);
	else if (k->cfg->username && k->cfg->password) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, k->cfg->username);
		curl_easy_setopt(c, CURLOPT_PASSWORD, k->cfg->password);
	}
	_cleanup_free_ char *ct =
	    t->content_type ? sl_asprintf("Content-Type: %s", t->content_type) : NULL;
	if (ct)
		headers = curl_slist_append(headers, ct);
	_cleanup_free_ char *as =
	    k->impersonate_user ? sl_asprintf("Impersonate-User: %s", k->impersonate_user) : NULL;
	if (as)
		headers = curl_slist_append(headers, as);
	/* The API server answers at once; waiting for 100-continue costs 1 s. */
	headers = curl_slist_append(headers, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

	if (strcmp(t->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(t->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, t->body ? t->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->body_len);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, t->method);
	}

	CURLcode code = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
	*ret_retry_after_s = h.retry_after_s;
	if (code == CURLE_WRITE_ERROR && sink.overflow)
		code = CURLE_FILESIZE_EXCEEDED;
	curl_slist_free_all(headers);
	if (auth)
		explicit_bzero(auth, strlen(auth));
	/* The handle keeps pointers to options; none may outlive this call. */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	return code;
}

/* ---- retries -------------------------------------------------------------- */

/* The request may not have reached the server at all. */
static bool never_sent(CURLcode code)
{
	return code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST;
}

static bool lost_connection(CURLcode code)
{
	switch (code) {
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR: return true;
	default: return false;
	}
}

bool kube_retryable(CURLcode code, long status, bool idempotent)
{
	if (code != CURLE_OK)
		return never_sent(code) || (idempotent && lost_connection(code));
	/* 429: the server did nothing, whatever the verb. */
	if (status == 429)
		return true;
	return idempotent && (status == 500 || status == 502 || status == 503 || status == 504);
}

int64_t kube_backoff_ms(int attempt, long retry_after_s, unsigned seed)
{
	if (retry_after_s > 0)
		return (retry_after_s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : retry_after_s) *
		       1000;
	int64_t ms = BACKOFF_BASE_MS;
	for (int i = 0; i < attempt && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	return ms + (ms / 5) * ((rand_r(&seed) % 21) - 10) / 10;
}

static int64_t backoff_ms(int attempt, long retry_after_s)
{
	return kube_backoff_ms(attempt, retry_after_s, (unsigned)sl_now_ms() ^ (unsigned)attempt);
}

static char *display_url(struct sl_kube *k, const char *path)
{
	return sl_asprintf("%s%.*s", k->base_url, (int)strcspn(path, "?"), path);
}

int kube_curl_error(struct sl_kube *k, const char *method, const char *path, CURLcode code,
                    struct sl_error *err)
{
	_cleanup_free_ char *url = display_url(k, path);
	if (code == CURLE_ABORTED_BY_CALLBACK && kube_stopped(k))
		return sl_error_set(err, SL_KUBE_ECANCELED, "%s %s: canceled", method, url);
	if (code == CURLE_LOGIN_DENIED)
		return sl_error_set(err, SL_EAUTH, "%s %s: %s", method, url, k->token_error.msg);
	const char *hint = "";
	if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE)
		hint = " (check the cluster's certificate-authority in the kubeconfig)";
	else if (code == CURLE_SSL_CERTPROBLEM)
		hint = " (check the user's client-certificate and client-key)";
	return sl_error_set(err, SL_ENET, "%s %s: %s%s", method, url,
	                    *k->errbuf ? k->errbuf : curl_easy_strerror(code), hint);
}

int kube_perform(struct sl_kube *k, const struct kube_call *call, const json_t *body,
                 json_t **ret_doc, struct sl_error *err)
{
	_cleanup_free_ char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (body && !payload)
		return sl_error_set(err, SL_EINVAL, "%s %s: the body cannot be encoded as JSON",
		                    call->method, call->path);
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, call->max_response ? call->max_response : SL_KUBE_MAX_OBJECT_RESPONSE);
	struct kube_transfer t = {
	    .method = call->method,
	    .path = call->path,
	    .content_type = payload ? call->content_type : NULL,
	    .body = payload,
	    .body_len = payload ? strlen(payload) : 0,
	    .out = &out,
	    .timeout_ms = k->timeout_ms,
	};
	bool token_reread = false;
	for (int attempt = 0;; attempt++) {
		if (kube_stopped(k))
			return kube_curl_error(k, call->method, call->path,
			                       CURLE_ABORTED_BY_CALLBACK, err);
		sl_buf_reset(&out);
		long status, retry_after;
		CURLcode code = kube_transfer(k, &t, &status, &retry_after);
		if (code == CURLE_FILESIZE_EXCEEDED) {
			_cleanup_free_ char *url = display_url(k, call->path);
			return sl_error_set(err, SL_ELIMIT,
			                    "%s %s: the answer is larger than %zu bytes",
			                    call->method, url, out.max);
		}
		if (code != CURLE_OK) {
			if (kube_retryable(code, 0, call->idempotent) && attempt < k->max_retries) {
				sl_log_debug("%s %.*s: %s, retrying", call->method,
				             (int)strcspn(call->path, "?"), call->path,
				             curl_easy_strerror(code));
				kube_sleep(k, backoff_ms(attempt, -1));
				continue;
			}
			return kube_curl_error(k, call->method, call->path, code, err);
		}
		/* A rotated token may have been read a moment too early. */
		if (status == 401 && k->cfg->token_file && !k->cfg->token && !token_reread) {
			token_reread = true;
			const char *ignored;
			if (kube_bearer_token(k, true, &ignored, err) == 0) {
				attempt--;
				continue;
			}
		}
		if (kube_retryable(CURLE_OK, status, call->idempotent) &&
		    attempt < k->max_retries) {
			sl_log_debug("%s %.*s: HTTP %ld, retrying", call->method,
			             (int)strcspn(call->path, "?"), call->path, status);
			kube_sleep(k, backoff_ms(attempt, retry_after));
			continue;
		}
		if (status >= 200 && status < 300) {
			if (!ret_doc)
				return 0;
			json_t *doc = NULL;
			if (out.len) {
				json_error_t jerr;
				/* "\u0000" is valid JSON, and any user may put it in
				 * an annotation: refusing it would stop a whole list
				 * (and an informer) over one object. */
				doc = json_loadb(out.data, out.len, JSON_ALLOW_NUL, &jerr);
				if (!doc) {
					_cleanup_free_ char *url = display_url(k, call->path);
					return sl_error_set(err, SL_EINVAL,
					                    "%s %s: the answer is not JSON: %s",
					                    call->method, url, jerr.text);
				}
			}
			*ret_doc = doc;
			return 0;
		}
		_cleanup_free_ char *url = display_url(k, call->path);
		struct kube_status st;
		int r = kube_status_error(call->method, url, status, out.data, out.len, &st, err);
		/* A 404 for the resource itself: the mapping we used is stale. */
		if (r == SL_ENOTFOUND && !st.names_object && call->res)
			kube_discovery_forget(k, call->res->group, call->res->version);
		return r;
	}
}

int sl_kube_request(struct sl_kube *k, const char *method, const char *path,
                    const char *content_type, const json_t *body, size_t max_response,
                    json_t **ret_doc, struct sl_error *err)
{
	if (!path || path[0] != '/')
		return sl_error_set(err, SL_EINVAL, "request path \"%s\" is not absolute",
		                    path ? path : "");
	_cleanup_free_ char *p = sl_strdup(path);
	struct kube_call call = {
	    .method = method,
	    .path = p,
	    .content_type = content_type ? content_type : "application/json",
	    .idempotent = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
	                  strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0,
	    .max_response = max_response ? max_response : SL_KUBE_MAX_OBJECT_RESPONSE,
	};
	return kube_perform(k, &call, body, ret_doc, err);
}

int sl_kube_set_impersonation(struct sl_kube *k, const char *user, struct sl_error *err)
{
	/* It goes into a header: a CR or LF would add headers of its own
	 * choosing (Impersonate-Group: system:masters). */
	for (const char *c = user; c && *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return sl_error_set(err, SL_EINVAL,
			                    "impersonation: a user name with control characters");
	free(k->impersonate_user);
	k->impersonate_user = user && *user ? sl_strdup(user) : NULL;
	return 0;
}
