/* Many manifests at once: one curl multi loop with a window of parallel
 * requests over reused connections (multiplexed on HTTP/2), so listing 200
 * tags costs about the time of a handful of round trips. Anything that
 * goes wrong on the fast path is fetched again through the ordinary
 * client, which has the retries and the error messages. */
#include <curl/curl.h>
#include <string.h>

#include "oci/oci.h"
#include "oci/registry_internal.h"

#define WINDOW 16

void sl_manifest_fetch_clear(struct sl_manifest_fetch *f)
{
	sl_buf_free(&f->body);
	free(f->content_type);
	*f = (struct sl_manifest_fetch){0};
}

struct slot {
	CURL *h;
	size_t index;
	struct response rs;
	struct curl_slist *headers;
	char *url;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct sl_buf *b = userdata;
	return sl_buf_append(b, data, size * nmemb) < 0 ? 0 : size * nmemb;
}

static void slot_release(CURLM *m, struct slot *s)
{
	if (s->h) {
		curl_multi_remove_handle(m, s->h);
		curl_easy_cleanup(s->h);
	}
	curl_slist_free_all(s->headers);
	free(s->url);
	reg_response_clear(&s->rs);
	*s = (struct slot){0};
}

static int slot_start(struct sl_registry *r, CURLM *m, struct slot *s, const char *repo,
                      const char *reference, size_t index, struct sl_manifest_fetch *out,
                      const char *auth_header)
{
	s->h = curl_easy_init();
	if (!s->h)
		return -1;
	s->index = index;
	s->url = sl_asprintf("%s/v2/%s/manifests/%s", reg_base_url(r), repo, reference);
	sl_buf_init(&out->body, SL_MAX_MANIFEST_BYTES);
	curl_easy_setopt(s->h, CURLOPT_URL, s->url);
	reg_configure_handle(r, s->h, s->errbuf);
	curl_easy_setopt(s->h, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(s->h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(s->h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(s->h, CURLOPT_HEADERFUNCTION, reg_on_header);
	curl_easy_setopt(s->h, CURLOPT_HEADERDATA, &s->rs);
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(s->h, CURLOPT_WRITEDATA, &out->body);
	s->headers = curl_slist_append(NULL, REG_MANIFEST_ACCEPT);
	if (auth_header)
		s->headers = curl_slist_append(s->headers, auth_header);
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
	return curl_multi_add_handle(m, s->h) == CURLM_OK ? 0 : -1;
}

/* Records a finished transfer; returns true when it needs the slow path. */
static bool slot_finish(struct slot *s, CURLcode code, struct sl_manifest_fetch *out,
                        const char *reference)
{
	long status = 0;
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	if (code != CURLE_OK || status != 200)
		return true;
	sl_sha256_digest(out->body.data ? out->body.data : "", out->body.len, out->digest);
	if (sl_digest_valid(reference) && strcmp(reference, out->digest) != 0)
		return true;
	out->content_type = s->rs.content_type ? sl_strdup(s->rs.content_type) : NULL;
	out->done = true;
	return false;
}

static void multi_cleanupp(CURLM **m)
{
	if (*m)
		curl_multi_cleanup(*m);
}

int sl_registry_manifests_get_many(struct sl_registry *r, const char *repo,
                                   const char *const *references, size_t n,
                                   struct sl_manifest_fetch *out, struct sl_error *err)
{
	if (n == 0)
		return 0;
	/* The first one the ordinary way: it settles the scheme and the token
	 * every parallel request then reuses. */
	int rc = sl_registry_manifest_get(r, repo, references[0], &out[0].body,
	                                  &out[0].content_type, out[0].digest, err);
	if (rc < 0)
		return sl_error_wrap(err, rc, "fetching manifest %s", references[0]);
	out[0].done = true;

	_cleanup_free_ char *scope = reg_scope(r, repo, false);
	_cleanup_free_ char *auth = reg_auth_header(r, scope);
	_cleanup_(multi_cleanupp) CURLM *m = curl_multi_init();
	if (!m)
		return sl_error_set(err, SL_ENOMEM, "initialising libcurl");
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)WINDOW);
	curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);

	struct slot slots[WINDOW] = {0};
	size_t next = 1, running_slots = 0;
	bool *slow = sl_xcalloc(n, sizeof(bool));
	for (;;) {
		for (size_t i = 0; i < WINDOW && next < n; i++) {
			if (slots[i].h)
				continue;
			if (slot_start(r, m, &slots[i], repo, references[next], next, &out[next],
			               auth) < 0) {
				slot_release(m, &slots[i]);
				slow[next] = true;
			} else {
				running_slots++;
			}
			next++;
		}
		if (running_slots == 0 && next >= n)
			break;
		int still;
		if (curl_multi_perform(m, &still) != CURLM_OK)
			break;
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct slot *s;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			size_t idx = s->index;
			if (slot_finish(s, msg->data.result, &out[idx], references[idx]))
				slow[idx] = true;
			slot_release(m, s);
			running_slots--;
		}
		if (reg_remaining_ms(r) <= 0)
			break;
		if (still)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	for (size_t i = 0; i < WINDOW; i++)
		slot_release(m, &slots[i]);

	/* The slow path for whatever the fast one could not settle. */
	rc = 0;
	for (size_t i = 1; i < n && rc == 0; i++) {
		if (out[i].done)
			continue;
		sl_manifest_fetch_clear(&out[i]);
		sl_buf_init(&out[i].body, SL_MAX_MANIFEST_BYTES);
		rc = sl_registry_manifest_get(r, repo, references[i], &out[i].body,
		                              &out[i].content_type, out[i].digest, err);
		if (rc < 0)
			sl_error_wrap(err, rc, "fetching manifest %s", references[i]);
		else
			out[i].done = true;
	}
	free(slow);
	return rc;
}
