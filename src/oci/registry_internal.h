/* Shared between the registry client's files: the transport half
 * (registry_http.c: curl, auth, retries, ping) and the API half
 * (registry.c: manifests and blobs). Nothing outside src/oci includes it. */
#ifndef SLUICE_OCI_REGISTRY_INTERNAL_H
#define SLUICE_OCI_REGISTRY_INTERNAL_H

#include <curl/curl.h>

#include "oci/oci.h"

#define MONOLITHIC_MAX   (32ull * 1024 * 1024)
#define CHUNK_SIZE       (32ull * 1024 * 1024)
#define MAX_TOKENS       8
#define MAX_HEADER_VALUE 8192

enum auth_kind { AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

struct token {
	char *scope;
	char *value;
};

struct sl_registry {
	char *host;
	char *base_url; /* scheme://host, fixed by the first ping */
	CURL *curl;
	struct sl_registry_opts opts;
	struct sl_creds creds;
	char *ca_file;
	char *client_cert_pem, *client_key_pem;
	char *proxy_url, *proxy_username, *proxy_password;
	char *user_agent;
	int64_t deadline_ms; /* monotonic; 0 = none */
	bool pinged;
	enum auth_kind auth;
	struct sl_auth_challenge challenge;
	struct token tokens[MAX_TOKENS];
	size_t n_tokens;
};

struct response {
	long status;
	char *location;
	char *content_type;
	char *docker_digest;
	char *www_authenticate;
	char *retry_after;
	char *link;
};

struct request {
	const char *method; /* GET HEAD PUT POST PATCH */
	const char *url;
	const char *scope;  /* "repository:x:pull" or NULL */
	const char *accept; /* a full "Accept: ..." header or NULL */
	const char *content_type;
	const char *content_range;
	/* Body: bytes, a region of a file, or none. */
	const void *body;
	size_t body_len;
	int body_fd;
	uint64_t body_offset, body_size;
	bool has_body;
	/* Response body: a capped buffer, a custom sink, or discarded. */
	struct sl_buf *out;
	struct sl_buf *err_out; /* where a streamed request's error body goes */
	curl_write_callback sink;
	void *sink_data;
	bool follow_redirects;
	bool no_auth;
	const char *authorization; /* a full "Authorization: ..." header, sent as is */
	const char *progress_what; /* report progress of this transfer */
	uint64_t progress_base, progress_total;
};

void reg_response_clear(struct response *rs);
#define REG_MANIFEST_ACCEPT                                                                        \
	"Accept: " SL_MT_OCI_MANIFEST ", " SL_MT_OCI_INDEX ", " SL_MT_DOCKER_MANIFEST              \
	", " SL_MT_DOCKER_LIST
/* The token scope for repo: pull, or pull,push when pushing or when the
 * client was opened to push. */
char *reg_scope(struct sl_registry *r, const char *repo, bool push);
/* scheme://host once pinged. */
const char *reg_base_url(struct sl_registry *r);
/* Options every handle of this client gets: TLS trust, timeouts, user agent. */
void reg_configure_handle(struct sl_registry *r, CURL *c, char errbuf[CURL_ERROR_SIZE]);
/* "Authorization: ..." for scope with what the client knows now, or NULL. */
char *reg_auth_header(struct sl_registry *r, const char *scope);
/* CURLOPT_HEADERFUNCTION filling a struct response. */
size_t reg_on_header(char *data, size_t size, size_t nmemb, void *userdata);
int64_t reg_remaining_ms(struct sl_registry *r);
/* 250 ms, 1 s, 4 s ... with jitter, or the server's Retry-After. */
void reg_backoff(struct sl_registry *r, int attempt, const char *retry_after);
/* Resolves the scheme and auth kind once per client. */
int reg_ping(struct sl_registry *r, struct sl_error *err);
/* Runs a request with auth and (when retry) retries; rs holds the final
 * response (cleared on failure). Statuses in accept_status (0-terminated)
 * are not errors. */
int reg_perform(struct sl_registry *r, const struct request *rq, struct response *rs, bool retry,
                const long *accept_status, struct sl_error *err);

#endif
