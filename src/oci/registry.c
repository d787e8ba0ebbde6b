/* The distribution API on top of the transport: manifests and blobs,
 * monolithic or chunked uploads, downloads verified while they stream. */
#include <errno.h>
#include <string.h>

#include "oci/oci.h"
#include "oci/registry_internal.h"

int sl_registry_manifest_head(struct sl_registry *r, const char *repo, const char *reference,
                              char ret_digest[SL_DIGEST_STR_LEN], struct sl_error *err)
{
	int rc = reg_ping(r, err);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *url =
	    sl_asprintf("%s/v2/%s/manifests/%s", r->base_url, repo, reference);
	_cleanup_free_ char *scope = reg_scope(r, repo, false);
	struct request rq = {.method = "HEAD",
	                     .url = url,
	                     .scope = scope,
	                     .accept = REG_MANIFEST_ACCEPT,
	                     .body_fd = -1,
	                     .follow_redirects = true};
	struct response rs = {0};
	static const long ok404[] = {404, 0};
	rc = reg_perform(r, &rq, &rs, true, ok404, err);
	if (rc < 0)
		return rc;
	if (rs.status == 404) {
		reg_response_clear(&rs);
		return sl_error_set(err, SL_ENOTFOUND, "%s:%s not found", repo, reference);
	}
	bool have = rs.docker_digest && sl_digest_valid(rs.docker_digest);
	if (have)
		snprintf(ret_digest, SL_DIGEST_STR_LEN, "%s", rs.docker_digest);
	reg_response_clear(&rs);
	if (have)
		return 0;
	/* No digest header: hash the manifest itself. */
	_cleanup_buf_ struct sl_buf body;
	sl_buf_init(&body, SL_MAX_MANIFEST_BYTES);
	return sl_registry_manifest_get(r, repo, reference, &body, NULL, ret_digest, err);
}

int sl_registry_manifest_get(struct sl_registry *r, const char *repo, const char *reference,
                             struct sl_buf *out, char **ret_content_type,
                             char ret_digest[SL_DIGEST_STR_LEN], struct sl_error *err)
{
	int rc = reg_ping(r, err);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *url =
	    sl_asprintf("%s/v2/%s/manifests/%s", r->base_url, repo, reference);
	_cleanup_free_ char *scope = reg_scope(r, repo, false);
	if (out->max == 0 || out->max > SL_MAX_MANIFEST_BYTES)
		out->max = SL_MAX_MANIFEST_BYTES;
	struct request rq = {.method = "GET",
	                     .url = url,
	                     .scope = scope,
	                     .accept = REG_MANIFEST_ACCEPT,
	                     .out = out,
	                     .body_fd = -1,
	                     .follow_redirects = true};
	struct response rs = {0};
	rc = reg_perform(r, &rq, &rs, true, NULL, err);
	if (rc < 0) {
		if (rc == SL_ELIMIT)
			sl_error_set(err, SL_ELIMIT, "manifest %s:%s is larger than %d bytes", repo,
			             reference, SL_MAX_MANIFEST_BYTES);
		reg_response_clear(&rs);
		return rc;
	}
	sl_sha256_digest(out->data ? out->data : "", out->len, ret_digest);
	if (sl_digest_valid(reference) && strcmp(reference, ret_digest) != 0) {
		reg_response_clear(&rs);
		return sl_error_set(err, SL_EDIGEST,
		                    "manifest digest mismatch: asked for %s, received %s",
		                    reference, ret_digest);
	}
	if (ret_content_type)
		*ret_content_type = TAKE_PTR(rs.content_type);
	reg_response_clear(&rs);
	return 0;
}

int sl_registry_referrers_get(struct sl_registry *r, const char *repo, const char *digest,
                              struct sl_buf *out, struct sl_error *err)
{
	if (!sl_digest_valid(digest))
		return sl_error_set(err, SL_EINVAL, "not a sha256 digest: %s", digest);
	int rc = reg_ping(r, err);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *url = sl_asprintf("%s/v2/%s/referrers/%s", r->base_url, repo, digest);
	_cleanup_free_ char *scope = reg_scope(r, repo, false);
	if (out->max == 0 || out->max > SL_MAX_MANIFEST_BYTES)
		out->max = SL_MAX_MANIFEST_BYTES;
	struct request rq = {.method = "GET",
	                     .url = url,
	                     .scope = scope,
	                     .accept = SL_MT_OCI_INDEX,
	                     .out = out,
	                     .body_fd = -1,
	                     .follow_redirects = true};
	struct response rs = {0};
	/* Registries without the API answer 404 (the spec's word) or, in the
	 * wild, 400 or 405 for a path they do not route. */
	static const long unsupported[] = {400, 404, 405, 0};
	rc = reg_perform(r, &rq, &rs, true, unsupported, err);
	long status = rs.status;
	reg_response_clear(&rs);
	if (rc == SL_ELIMIT)
		return sl_error_set(err, SL_ELIMIT, "referrers of %s@%s are larger than %d bytes",
		                    repo, digest, SL_MAX_MANIFEST_BYTES);
	if (rc < 0)
		return rc;
	if (status != 200) {
		sl_buf_reset(out);
		return sl_error_set(err, SL_EUNSUPPORTED, "%s has no referrers API (HTTP %ld)",
		                    r->base_url, status);
	}
	return 0;
}

int sl_registry_manifest_put(struct sl_registry *r, const char *repo, const char *reference,
                             const char *media_type, const void *data, size_t len,
                             struct sl_error *err)
{
	int rc = reg_ping(r, err);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *url =
	    sl_asprintf("%s/v2/%s/manifests/%s", r->base_url, repo, reference);
	_cleanup_free_ char *scope = reg_scope(r, repo, true);
	_cleanup_buf_ struct sl_buf body;
	sl_buf_init(&body, SL_MAX_ERROR_BODY_BYTES);
	struct request rq = {.method = "PUT",
	                     .url = url,
	                     .scope = scope,
	                     .content_type = media_type,
	                     .body = data,
	                     .body_len = len,
	                     .has_body = true,
	                     .body_fd = -1,
	                     .out = &body};
	struct response rs = {0};
	rc = reg_perform(r, &rq, &rs, true, NULL, err);
	reg_response_clear(&rs);
	return rc;
}

int sl_registry_blob_exists(struct sl_registry *r, const char *repo, const char *digest,
                            bool *ret_exists, struct sl_error *err)
{
	int rc = reg_ping(r, err);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *url = sl_asprintf("%s/v2/%s/blobs/%s", r->base_url, repo, digest);
	_cleanup_free_ char *scope = reg_scope(r, repo, false);
	struct request rq = {
	    .method = "HEAD", .url = url, .scope = scope, .body_fd = -1, .follow_redirects = true};
	struct response rs = {0};
	static const long ok404[] = {404, 0};
	rc = reg_perform(r, &rq, &rs, true, ok404, err);
	*ret_exists = rc == 0 && rs.status == 200;
	reg_response_clear(&rs);
	return rc;
}

/* Resolves a Location header against the registry's base URL. */
static char *resolve_location(struct sl_registry *r, const char *location)
{
	if (sl_startswith(location, "http://") || sl_startswith(location, "https://"))
		return sl_strdup(location);
	if (location[0] == '/')
		return sl_asprintf("%s%s", r->base_url, location);
	return sl_asprintf("%s/%s", r->base_url, location);
}

static int upload_once(struct sl_registry *r, const char *repo, const char *digest, int fd,
                       const void *data, uint64_t size, struct sl_error *err)
{
	_cleanup_free_ char *scope = reg_scope(r, repo, true);
	_cleanup_free_ char *start = sl_asprintf("%s/v2/%s/blobs/uploads/", r->base_url, repo);
	_cleanup_free_ char *label = sl_asprintf("uploading %s", digest);
	_cleanup_buf_ struct sl_buf body;
	sl_buf_init(&body, SL_MAX_ERROR_BODY_BYTES);
	struct request post = {
	    .method = "POST", .url = start, .scope = scope, .body_fd = -1, .out = &body};
	struct response rs = {0};
	int rc = reg_perform(r, &post, &rs, true, NULL, err);
	if (rc < 0)
		return rc;
	if (!rs.location) {
		reg_response_clear(&rs);
		return sl_error_set(err, SL_EHTTP, "POST %s: no Location in the response", start);
	}
	_cleanup_free_ char *location = resolve_location(r, rs.location);
	reg_response_clear(&rs);
	if (sl_startswith(r->base_url, "https://") && sl_startswith(location, "http://"))
		return sl_error_set(err, SL_EHTTP,
		                    "POST %s: the registry sent the upload to plain HTTP; refusing",
		                    start);

	uint64_t offset = 0;
	if (size > MONOLITHIC_MAX) {
		/* Chunked: PATCH each piece with its Content-Range, follow the new
		 * Location each time, then close with an empty PUT. */
		while (offset < size) {
			uint64_t n = size - offset < CHUNK_SIZE ? size - offset : CHUNK_SIZE;
			char range[64];
			snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)offset,
			         (unsigned long long)(offset + n - 1));
			struct request patch = {.method = "PATCH",
			                        .url = location,
			                        .scope = scope,
			                        .content_type = "application/octet-stream",
			                        .content_range = range,
			                        .body_fd = fd,
			                        .body_offset = offset,
			                        .body_size = n,
			                        .has_body = true,
			                        .out = &body,
			                        .progress_what = label,
			                        .progress_base = offset,
			                        .progress_total = size};
			rc = reg_perform(r, &patch, &rs, false, NULL, err);
			if (rc < 0)
				return rc;
			if (rs.location) {
				free(location);
				location = resolve_location(r, rs.location);
			}
			reg_response_clear(&rs);
			offset += n;
		}
	}
	_cleanup_free_ char *put_url =
	    sl_asprintf("%s%cdigest=%s", location, strchr(location, '?') ? '&' : '?', digest);
	bool with_body = offset < size;
	struct request put = {.method = "PUT",
	                      .url = put_url,
	                      .scope = scope,
	                      .content_type = "application/octet-stream",
	                      .body_fd = fd,
	                      .body = data,
	                      .body_len = data ? (size_t)size : 0,
	                      .body_offset = 0,
	                      .body_size = with_body ? size : 0,
	                      .has_body = with_body,
	                      .out = &body,
	                      .progress_what = with_body ? label : NULL,
	                      .progress_total = size};
	rc = reg_perform(r, &put, &rs, false, NULL, err);
	reg_response_clear(&rs);
	return rc;
}

static int upload(struct sl_registry *r, const char *repo, const char *digest, int fd,
                  const void *data, uint64_t size, struct sl_error *err)
{
	int rc = reg_ping(r, err);
	if (rc < 0)
		return rc;
	for (int attempt = 0;; attempt++) {
		rc = upload_once(r, repo, digest, fd, data, size, err);
		bool transient = rc == SL_ENET || (rc == SL_EHTTP && err->http_status >= 500);
		if (rc == 0 || !transient || attempt >= r->opts.max_retries ||
		    reg_remaining_ms(r) <= 0)
			break;
		sl_log_debug("uploading %s: %s; restarting the upload", digest, err->msg);
		reg_backoff(r, attempt, NULL);
	}
	if (rc < 0)
		return sl_error_wrap(err, rc, "uploading blob %s", digest);
	return 0;
}

int sl_registry_blob_upload_fd(struct sl_registry *r, const char *repo, const char *digest, int fd,
                               uint64_t size, struct sl_error *err)
{
	return upload(r, repo, digest, fd, NULL, size, err);
}

int sl_registry_blob_upload_bytes(struct sl_registry *r, const char *repo, const char *digest,
                                  const void *data, size_t len, struct sl_error *err)
{
	return upload(r, repo, digest, -1, data, len, err);
}

struct blob_sink {
	int fd;
	uint64_t written;
	uint64_t expected;
	struct sl_sha256 *hash;
	bool too_big;
	int io_errno;
	struct sl_buf *errbody; /* error responses land here instead */
	struct response *rs;
	CURL *curl;
};

static size_t on_blob_data(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct blob_sink *s = userdata;
	size_t len = size * nmemb;
	long status = 0;
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status >= 300) {
		sl_buf_append(s->errbody, data, len); /* capped; the rest is dropped */
		return len;
	}
	if (s->written + len > s->expected) {
		s->too_big = true;
		return 0;
	}
	sl_sha256_update(s->hash, data, len);
	for (size_t off = 0; off < len;) {
		ssize_t n = write(s->fd, data + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			s->io_errno = errno;
			return 0;
		}
		off += (size_t)n;
	}
	s->written += len;
	return len;
}

int sl_registry_blob_fetch(struct sl_registry *r, const char *repo, const char *digest,
                           uint64_t expected_size, int fd, struct sl_error *err)
{
	int rc = reg_ping(r, err);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *url = sl_asprintf("%s/v2/%s/blobs/%s", r->base_url, repo, digest);
	_cleanup_free_ char *scope = reg_scope(r, repo, false);
	_cleanup_free_ char *label = sl_asprintf("downloading %s", digest);
	_cleanup_(sl_sha256_freep) struct sl_sha256 *hash = sl_sha256_new();
	_cleanup_buf_ struct sl_buf errbody;
	sl_buf_init(&errbody, SL_MAX_ERROR_BODY_BYTES);

	for (int attempt = 0;; attempt++) {
		if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
			return sl_error_errno(err, errno, SL_EIO, "preparing download of %s",
			                      digest);
		sl_sha256_reset(hash);
		sl_buf_reset(&errbody);
		struct response rs = {0};
		struct blob_sink sink = {.fd = fd,
		                         .expected = expected_size,
		                         .hash = hash,
		                         .errbody = &errbody,
		                         .rs = &rs,
		                         .curl = r->curl};
		struct request rq = {.method = "GET",
		                     .url = url,
		                     .scope = scope,
		                     .body_fd = -1,
		                     .sink = on_blob_data,
		                     .sink_data = &sink,
		                     .follow_redirects = true,
		                     .progress_what = label,
		                     .progress_total = expected_size,
		                     .err_out = &errbody};
		/* Retries happen here, not in reg_perform: each attempt must start
		 * from an empty file and a fresh hash. */
		rc = reg_perform(r, &rq, &rs, false, NULL, err);
		bool transient =
		    (rc == SL_ENET ||
		     (rc < 0 && (err->http_status == 429 || err->http_status >= 500))) &&
		    reg_remaining_ms(r) > 0;
		_cleanup_free_ char *retry_after =
		    rs.retry_after ? sl_strdup(rs.retry_after) : NULL;
		reg_response_clear(&rs);
		if (sink.too_big)
			return sl_error_set(err, SL_EDIGEST,
			                    "blob %s: registry sent more than the %llu bytes the "
			                    "manifest declares",
			                    digest, (unsigned long long)expected_size);
		if (sink.io_errno)
			return sl_error_errno(err, sink.io_errno, SL_EIO, "writing blob %s",
			                      digest);
		if (rc < 0) {
			if (transient && attempt < r->opts.max_retries) {
				sl_log_debug("fetching blob %s: %s; retrying", digest, err->msg);
				reg_backoff(r, attempt, retry_after);
				continue;
			}
			return sl_error_wrap(err, rc, "fetching blob %s", digest);
		}
		if (sink.written != expected_size) {
			if (attempt < r->opts.max_retries && reg_remaining_ms(r) > 0) {
				/* Truncated response: a dropped connection looks like this. */
				reg_backoff(r, attempt, NULL);
				continue;
			}
			return sl_error_set(
			    err, SL_EDIGEST,
			    "blob %s: received %llu bytes, the manifest declares %llu", digest,
			    (unsigned long long)sink.written, (unsigned long long)expected_size);
		}
		char got[SL_DIGEST_STR_LEN];
		sl_sha256_final(hash, got);
		if (strcmp(got, digest) != 0)
			return sl_error_set(
			    err, SL_EDIGEST,
			    "blob digest mismatch: expected %s, received content with %s", digest,
			    got);
		return 0;
	}
}

#define MAX_TAGS_PAGE_BYTES (16 * 1024 * 1024)
#define MAX_TAGS            100000

/* `<url>; rel="next"` from a Link header, or NULL. */
static char *next_link(const char *link)
{
	if (!link || !strstr(link, "rel=\"next\""))
		return NULL;
	const char *open = strchr(link, '<');
	const char *close = open ? strchr(open, '>') : NULL;
	return close ? sl_strndup(open + 1, (size_t)(close - open - 1)) : NULL;
}

int sl_registry_list_tags(struct sl_registry *r, const char *repo, struct sl_strv *ret,
                          struct sl_error *err)
{
	int rc = reg_ping(r, err);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *scope = reg_scope(r, repo, false);
	_cleanup_free_ char *url = sl_asprintf("%s/v2/%s/tags/list?n=1000", r->base_url, repo);
	_cleanup_buf_ struct sl_buf body;
	sl_buf_init(&body, MAX_TAGS_PAGE_BYTES);
	size_t pages = 0;
	while (url) {
		size_t before = ret->len;
		struct request rq = {.method = "GET",
		                     .url = url,
		                     .scope = scope,
		                     .out = &body,
		                     .body_fd = -1,
		                     .follow_redirects = true};
		struct response rs = {0};
		rc = reg_perform(r, &rq, &rs, true, NULL, err);
		if (rc < 0) {
			reg_response_clear(&rs);
			return sl_error_wrap(err, rc, "listing tags of %s", repo);
		}
		json_t *doc = json_loadb(body.data ? body.data : "", body.len, 0, NULL);
		json_t *tags = json_object_get(doc, "tags");
		if (!json_is_object(doc) || (tags && !json_is_array(tags) && !json_is_null(tags))) {
			json_decref(doc);
			reg_response_clear(&rs);
			return sl_error_set(err, SL_EINVAL,
			                    "listing tags of %s: malformed response", repo);
		}
		size_t i;
		json_t *t;
		json_array_foreach (tags, i, t) {
			if (json_is_string(t) && ret->len < MAX_TAGS)
				sl_strv_push(ret, json_string_value(t));
		}
		json_decref(doc);
		_cleanup_free_ char *next = next_link(rs.link);
		reg_response_clear(&rs);
		_cleanup_free_ char *next_url = next ? resolve_location(r, next) : NULL;
		/* A registry that points at the same page again, or sends empty
		 * pages forever, must not keep us here. */
		bool stuck = next_url &&
		             (strcmp(next_url, url) == 0 || ret->len == before || ++pages > 10000);
		free(url);
		url = stuck ? NULL : TAKE_PTR(next_url);
		if (stuck)
			return sl_error_set(err, SL_EINVAL,
			                    "listing tags of %s: pagination does not end", repo);
		if (ret->len >= MAX_TAGS)
			return sl_error_set(err, SL_ELIMIT, "listing tags of %s: more than %d tags",
			                    repo, MAX_TAGS);
	}
	return 0;
}

int sl_registry_blob_mount(struct sl_registry *r, const char *repo, const char *digest,
                           const char *from_repo, bool *ret_mounted, struct sl_error *err)
{
	*ret_mounted = false;
	int rc = reg_ping(r, err);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *scope = reg_scope(r, repo, true);
	_cleanup_free_ char *url = sl_asprintf("%s/v2/%s/blobs/uploads/?mount=%s&from=%s",
	                                       r->base_url, repo, digest, from_repo);
	_cleanup_buf_ struct sl_buf body;
	sl_buf_init(&body, SL_MAX_ERROR_BODY_BYTES);
	struct request rq = {
	    .method = "POST", .url = url, .scope = scope, .body_fd = -1, .out = &body};
	struct response rs = {0};
	rc = reg_perform(r, &rq, &rs, true, NULL, err);
	/* 201: mounted. 202: the registry opened an upload instead (it could
	 * not or would not mount); the caller uploads, and the abandoned
	 * session is the registry's to expire. */
	*ret_mounted = rc == 0 && rs.status == 201;
	reg_response_clear(&rs);
	return rc;
}
