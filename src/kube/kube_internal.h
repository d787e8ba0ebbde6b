/* kube_internal — what the files of src/kube share, and the pure pieces the
 * unit tests drive directly: request shapes per verb (url.c), Kubernetes
 * Status errors (status.c), the watch stream parser (watch.c) and the
 * informer's store with its relist diff (store.c). Not a public contract. */
#ifndef SLUICE_KUBE_INTERNAL_H
#define SLUICE_KUBE_INTERNAL_H

#include <curl/curl.h>
#include <pthread.h>
#include <sys/stat.h>

#include "kube/kube.h"

/* Error bodies are Status objects: small. */
#define KUBE_MAX_ERROR_BODY (64u << 10)

/* ---- the client (client.c) --------------------------------------------- */

struct kube_gv; /* discovery.c */

struct kube_recent_event; /* event.c */

struct sl_kube {
	struct sl_kube_config *cfg;
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
	char *user_agent;
	char *field_manager;
	char *impersonate_user; /* sent as Impersonate-User; NULL: none */
	char *base_url;         /* server, with tls_server_name as its host when set */
	struct curl_slist *connect_to;
	int64_t timeout_ms;
	int max_retries;
	const atomic_bool *stop;
	/* config token_file: its last content and identity */
	char *file_token;
	struct stat file_token_st;
	struct sl_error token_error; /* why the token could not be read */
	/* discovery cache */
	struct kube_gv *gvs;
	size_t n_gvs;
};

bool kube_stopped(const struct sl_kube *k);
/* The bearer token to send (NULL: none): the config's, or the token
 * file's, read again when the file changed or force is set. */
int kube_bearer_token(struct sl_kube *k, bool force, const char **ret, struct sl_error *err);
/* Sleeps ms, waking early (false) when the stop flag is set. */
bool kube_sleep(const struct sl_kube *k, int64_t ms);

/* ---- request shapes (url.c) -------------------------------------------- */

enum kube_verb {
	KUBE_GET,
	KUBE_LIST,
	KUBE_WATCH,
	KUBE_CREATE,
	KUBE_UPDATE,
	KUBE_PATCH_MERGE,
	KUBE_PATCH_JSON,
	KUBE_PATCH_STRATEGIC,
	KUBE_APPLY,
	KUBE_DELETE,
};

/* Everything a verb may put in its query string. */
struct kube_params {
	const char *subresource;
	const char *field_manager;
	bool force;
	bool dry_run;
	const char *label_selector;
	const char *field_selector;
	unsigned limit;
	const char *continue_token;
	const char *resource_version;
	int timeout_seconds;
};

struct kube_call {
	const char *method;
	char *path; /* path and query, owned */
	const char *content_type;
	bool idempotent; /* may be sent again after a lost connection or a 5xx */
	size_t max_response;
	/* for messages and discovery invalidation */
	const struct sl_kube_resource *res;
};

/* The request of verb on res: "/api/v1/namespaces/ns/configmaps/name",
 * "/apis/group/version/...", with the query its params call for. ns is
 * required for item verbs and creates of namespaced resources, optional
 * for list and watch, ignored for cluster-scoped ones; names "." and ".."
 * and names with '/' or '%' are refused. */
int kube_call_build(enum kube_verb verb, const struct sl_kube_resource *res, const char *ns,
                    const char *name, const struct kube_params *p, struct kube_call *ret,
                    struct sl_error *err);
void kube_call_clear(struct kube_call *c);
/* Appends "&key=value" (or "?key=value" when first), value percent-encoded. */
void kube_query_add(struct sl_buf *b, const char *key, const char *value);

/* Runs call with body (may be NULL), retrying as call->idempotent allows.
 * ret_doc (may be NULL) gets the parsed answer. */
int kube_perform(struct sl_kube *k, const struct kube_call *call, const json_t *body,
                 json_t **ret_doc, struct sl_error *err);

/* One attempt of a request on k's handle, the body going to sink (or to
 * out when sink is NULL). Fills *ret_status (0 when nothing came back),
 * *ret_retry_after_s (-1 when absent) and returns the curl code:
 * CURLE_FILESIZE_EXCEEDED when the answer outgrew out's cap,
 * CURLE_LOGIN_DENIED when the token file could not be read. */
struct kube_transfer {
	const char *method;
	const char *path;
	const char *content_type;
	const char *body;
	size_t body_len;
	curl_write_callback sink;
	void *sink_data;
	struct sl_buf *out;
	int64_t timeout_ms; /* 0: none */
};
CURLcode kube_transfer(struct sl_kube *k, const struct kube_transfer *t, long *ret_status,
                       long *ret_retry_after_s);
/* Whether an attempt that ended with code (CURLE_OK: with HTTP status)
 * may be sent again: 429 whatever the verb; 5xx and lost connections only
 * for idempotent requests; a connection never made always. */
bool kube_retryable(CURLcode code, long status, bool idempotent);
/* The pause before attempt+1: 200 ms doubling up to 10 s, ±20% (from
 * seed), or Retry-After seconds (at most 60). */
int64_t kube_backoff_ms(int attempt, long retry_after_s, unsigned seed);
/* A failed transfer as an error: canceled, timeout, TLS, connection. */
int kube_curl_error(struct sl_kube *k, const char *method, const char *path, CURLcode code,
                    struct sl_error *err);

/* ---- Status errors (status.c) ------------------------------------------ */

struct kube_status {
	long code;
	char reason[64];
	bool names_object; /* details.name set: a 404 about an object, not a resource */
};

/* Turns an error answer into err: "METHOD URL: CODE Reason: message" with
 * the code from the Status reason (or the HTTP status when the body is not
 * a Status). Returns the code; fills *ret_status when not NULL. */
int kube_status_error(const char *method, const char *url, long http_status, const char *body,
                      size_t body_len, struct kube_status *ret_status, struct sl_error *err);
/* The sl_error code of a Status reason and HTTP code. */
int kube_status_code(const char *reason, long http_status);

/* ---- discovery (discovery.c) ------------------------------------------- */

void kube_discovery_forget(struct sl_kube *k, const char *group, const char *version);
void kube_discovery_free(struct sl_kube *k);

/* ---- the watch stream (watch.c) ---------------------------------------- */

/* Newline-delimited JSON events, fed in arbitrary pieces. */
struct kube_watch_parser {
	struct sl_buf line; /* the incomplete event so far, capped */
	size_t max_event;
	sl_kube_watch_fn fn;
	void *userdata;
	uint64_t events; /* delivered to fn */
};

void kube_watch_parser_init(struct kube_watch_parser *p, size_t max_event, sl_kube_watch_fn fn,
                            void *userdata);
void kube_watch_parser_free(struct kube_watch_parser *p);
/* Delivers every complete event in data. <0 on a malformed or oversized
 * event, an ERROR event (SL_KUBE_EGONE for code 410) or fn's failure; the
 * parser must not be fed after that. */
int kube_watch_parser_feed(struct kube_watch_parser *p, const char *data, size_t len,
                           struct sl_error *err);
/* The stream ended: a last event without its newline is delivered. */
int kube_watch_parser_finish(struct kube_watch_parser *p, struct sl_error *err);

/* ---- the informer's store (store.c) ------------------------------------ */

struct kube_store {
	pthread_rwlock_t lock;
	json_t *objects; /* key → the object's frozen compact JSON (a string) */
	/* The first object's text: the preset dictionary every frozen text
	 * is deflated against. Set once, before any text that needs it is
	 * stored, and never changed. */
	char *dict;
	size_t dict_len;
};

void kube_store_init(struct kube_store *s);
void kube_store_destroy(struct kube_store *s);
/* "namespace/name", or "name" when the object has no namespace. NULL
 * when the object has no name. Caller frees. */
char *kube_store_key(const json_t *obj);
/* An ADDED or MODIFIED event: add or update, calling the handler. */
void kube_store_upsert(struct kube_store *s, json_t *obj,
                       const struct sl_kube_informer_handlers *h);
/* A DELETED event: remove, calling on_delete with obj when it was cached. */
void kube_store_remove(struct kube_store *s, json_t *obj,
                       const struct sl_kube_informer_handlers *h);
/* A relist, built a page at a time so that no page's trees outlive it:
 * the new cache and the keys to report, both as text, never as trees. */
struct kube_store_relist {
	json_t *fresh;   /* key → compact JSON text: the cache to be */
	json_t *changed; /* keys new or with another resourceVersion, list order */
};

/* Starts a relist, or starts it over: drops whatever rl held. */
void kube_store_relist_begin(struct kube_store_relist *rl);
/* Drops rl (the store unchanged); for _cleanup_. */
void kube_store_relist_clear(struct kube_store_relist *rl);
/* One page of the list: its items are trimmed and frozen into rl, and
 * compared with the cache, which does not change. items may be freed
 * afterwards. */
void kube_store_relist_add(struct kube_store *s, struct kube_store_relist *rl, json_t *items);
/* The store becomes what rl holds, in one swap; then on_add for new keys,
 * on_update for keys whose resourceVersion changed (list order), then
 * on_delete for keys that are gone, with their last cached state. Each
 * handler gets trees of its own, thawed for that call. rl is left empty. */
void kube_store_relist_commit(struct kube_store *s, struct kube_store_relist *rl,
                              const struct sl_kube_informer_handlers *h);
/* begin, add and commit of a list in one piece (items are trimmed). */
void kube_store_replace(struct kube_store *s, json_t *items,
                        const struct sl_kube_informer_handlers *h);
/* A new tree of the cached object (caller decrefs), or NULL. */
json_t *kube_store_get(struct kube_store *s, const char *key);
/* The tree of a frozen text (store.objects' values). */
json_t *kube_store_thaw(const struct kube_store *s, const json_t *text);

/* ---- time (event.c) ----------------------------------------------------- */

/* metav1.MicroTime: "2006-01-02T15:04:05.000000Z". */
void kube_time_micro_now(char out[40]);

#endif
