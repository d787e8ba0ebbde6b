/* kube — a small Kubernetes API client for `sluice controller` and the CLI:
 * kubeconfig and in-cluster configuration, a REST client over libcurl whose
 * objects are jansson values (no generated types), discovery of kinds into
 * resources, watches and an informer cache, Flux-style events and
 * coordination.k8s.io Leases for leader election.
 *
 * Ownership: a struct sl_kube_config comes from sl_kube_config_load and goes
 * with sl_kube_config_free; a client or informer copies what it needs, so the
 * config may be freed once they exist. Every json_t handed out through a
 * ret_* parameter or returned is a new reference the caller decrefs; json_t
 * arguments are borrowed and never modified. Objects in an informer's cache
 * are shared between threads and immutable: readers get a reference and must
 * not change it. Destructors accept NULL and return NULL.
 *
 * Errors: functions return 0 or a negative code (base.h's, or SL_KUBE_E*
 * below) and fill struct sl_error; for an answer of the API server,
 * err->http_status holds the HTTP status and the message carries the
 * Kubernetes Status reason and message. Nothing secret (tokens, keys,
 * passwords) ever appears in an error.
 *
 * Thread-safety: a struct sl_kube owns one libcurl easy handle, so one
 * connection to the API server (HTTP/2 when the server offers it over TLS)
 * reused by every request; it is not thread-safe: use one per thread. A
 * config may be read by several threads. An informer runs on its own thread
 * with its own client and its cache may be read from any thread; its
 * handlers run on the informer's thread. A recorder may be shared. Nothing
 * here prints. */
#ifndef SLUICE_KUBE_H
#define SLUICE_KUBE_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* ---- caps ------------------------------------------------------------- */

/* One response of a list call (one page of SL_KUBE_DEFAULT_PAGE_SIZE items,
 * or a whole list when the server ignores the limit). */
#define SL_KUBE_MAX_RESPONSE (64u << 20)
/* One object, a Status or a discovery document. etcd stores at most
 * 1.5 MiB per object by default; the rest is headroom for big CRDs. */
#define SL_KUBE_MAX_OBJECT_RESPONSE (8u << 20)
/* One event (one line) of a watch stream. */
#define SL_KUBE_MAX_WATCH_EVENT (16u << 20)
/* One kubeconfig file. */
#define SL_KUBE_MAX_KUBECONFIG (16u << 20)
/* A token file, a service account's CA or namespace file. */
#define SL_KUBE_MAX_CREDENTIAL_FILE (1u << 20)
/* Items asked per page of a list when the caller does not say. */
#define SL_KUBE_DEFAULT_PAGE_SIZE 500
/* The same for an informer's list. client-go asks 500 there too, but it
 * caches typed objects; sluice's cache keeps compact JSON text (some
 * 1.3 KB per OCIRepository), while a page in flight is a jansson tree of
 * some 14 KiB per object (2 KB as listed, managedFields included). A
 * relist holds one page of trees at a time: at 500 that page (7 MB)
 * outweighs a cache of five thousand objects and is the controller's peak;
 * at 100 it is 1.4 MB, for 10 requests per thousand objects instead of 2,
 * all on the informer's one kept-alive connection. (Peak heap of a
 * controller started over 1000 OCIRepositories: 14.8 MB listing them
 * whole, 9.1 MB by pages of 500, 3.8 MB by pages of 100.) */
#define SL_KUBE_INFORMER_PAGE_SIZE 100

/* ---- errors ----------------------------------------------------------- */

/* Besides base.h's codes: 404 NotFound is SL_ENOTFOUND, 401 and 403 are
 * SL_EAUTH, other failures of the server SL_EHTTP. */
enum {
	SL_KUBE_ECONFLICT = -100, /* 409 Conflict: stale resourceVersion, field manager conflict */
	SL_KUBE_EEXISTS = -101,   /* 409 AlreadyExists */
	SL_KUBE_EGONE = -102,     /* 410 Gone or Expired: the resourceVersion is too old, relist */
	SL_KUBE_EINVALID = -103,  /* 422 Invalid: the object fails validation */
	SL_KUBE_ECANCELED = -104, /* the stop flag was set */
};

/* ---- configuration ---------------------------------------------------- */

struct sl_kube_blob {
	char *data;
	size_t len;
};

/* Where to reach the API server and as whom, resolved from a kubeconfig
 * context or the pod's service account. File paths are absolute (relative
 * ones in a kubeconfig are resolved against that file's directory). */
struct sl_kube_config {
	char *origin;  /* for messages: "kubeconfig /path, context x" or "in-cluster" */
	char *context; /* kubeconfig context name; NULL in-cluster */
	char *cluster; /* kubeconfig cluster name; NULL in-cluster */
	char *user;    /* kubeconfig user name; NULL in-cluster */
	char *server;  /* "https://host:port[/prefix]", no trailing '/' */
	char *namespace;
	/* TLS: a CA (file or PEM data) replaces the system's trust store. */
	char *ca_file;
	struct sl_kube_blob ca_data;
	bool insecure_skip_tls_verify;
	char *tls_server_name; /* verify and send SNI for this name instead of the host */
	char *proxy_url;
	char *client_cert_file, *client_key_file;
	struct sl_kube_blob client_cert_data, client_key_data; /* PEM; data wins over files */
	/* Credentials, secret: never printed. token wins over token_file; the
	 * file is read again whenever it changes (projected service account
	 * tokens rotate). */
	char *token;
	char *token_file;
	char *username, *password;
};

struct sl_kube_config_opts {
	/* --kubeconfig: this one file, which must exist. NULL: $KUBECONFIG
	 * (files separated by ':', merged as kubectl does: the first
	 * definition of a cluster, user or context name wins, current-context
	 * from the first file that sets one; missing files are skipped), else
	 * ~/.kube/config when it exists, else the in-cluster configuration
	 * when KUBERNETES_SERVICE_HOST is set. */
	const char *kubeconfig;
	const char *context;   /* --context: instead of current-context */
	const char *namespace; /* --namespace: instead of the context's (else "default") */
	bool in_cluster;       /* the service account, whatever kubeconfigs exist */
	/* Prefix of /var/run/secrets/kubernetes.io/serviceaccount, for tests;
	 * NULL or "" for the real one. */
	const char *in_cluster_root;
};

/* Resolves the configuration to talk to. Users with `exec` or
 * `auth-provider` are refused (SL_EUNSUPPORTED) naming the user. */
int sl_kube_config_load(const struct sl_kube_config_opts *opts, struct sl_kube_config **ret,
                        struct sl_error *err);
/* The service account's configuration: https://$KUBERNETES_SERVICE_HOST:
 * $KUBERNETES_SERVICE_PORT, root/var/run/secrets/kubernetes.io/
 * serviceaccount/{token,ca.crt,namespace}. root may be NULL. */
int sl_kube_config_in_cluster(const char *root, struct sl_kube_config **ret, struct sl_error *err);
struct sl_kube_config *sl_kube_config_dup(const struct sl_kube_config *c);
struct sl_kube_config *sl_kube_config_free(struct sl_kube_config *c);
static inline void sl_kube_config_freep(struct sl_kube_config **c)
{
	sl_kube_config_free(*c);
}

/* ---- the client -------------------------------------------------------- */

struct sl_kube;

struct sl_kube_client_opts {
	const char *user_agent;    /* NULL: "sluice/<version>" */
	const char *field_manager; /* NULL: "sluice"; writes name it unless told otherwise */
	int64_t timeout_ms;        /* per request attempt, watches excepted; 0: 60 s */
	int max_retries;           /* on 429, 5xx, lost connections; 0: 5; <0: none */
	/* When set (by another thread), transfers and backoff sleeps end with
	 * SL_KUBE_ECANCELED within about a second. May be NULL. */
	const atomic_bool *stop;
};

int sl_kube_new(const struct sl_kube_config *cfg, const struct sl_kube_client_opts *opts,
                struct sl_kube **ret, struct sl_error *err);
struct sl_kube *sl_kube_free(struct sl_kube *k);
static inline void sl_kube_freep(struct sl_kube **k)
{
	sl_kube_free(*k);
}
const struct sl_kube_config *sl_kube_config_of(const struct sl_kube *k);
/* Acts as user (Impersonate-User, e.g. "system:serviceaccount:ns:name")
 * from the next request on; NULL or "" acts as the config's identity. The
 * config's identity needs the impersonate verb on that user. A name with
 * control characters is refused (SL_EINVAL), the identity unchanged. */
int sl_kube_set_impersonation(struct sl_kube *k, const char *user, struct sl_error *err);

/* A kind of object as the REST API addresses it. Fixed-size fields so it
 * can be copied and initialised statically; longer names are refused. */
struct sl_kube_resource {
	char group[254];   /* "" for the core group */
	char version[64];  /* "v1" */
	char resource[64]; /* the plural: "configmaps" */
	char kind[64];     /* "ConfigMap"; informative, may be "" */
	bool namespaced;
};

extern const struct sl_kube_resource sl_kube_res_configmaps;
extern const struct sl_kube_resource sl_kube_res_secrets;
extern const struct sl_kube_resource sl_kube_res_serviceaccounts;
extern const struct sl_kube_resource sl_kube_res_namespaces;
extern const struct sl_kube_resource sl_kube_res_events;
extern const struct sl_kube_resource sl_kube_res_leases;
extern const struct sl_kube_resource sl_kube_res_crds;

/* Fills ret from "group/version" (or "v1" for the core group), a kind, the
 * plural and the scope, without asking the server (sl_kube_discover asks);
 * SL_EINVAL on a malformed apiVersion or a name too long for the struct. */
int sl_kube_resource_set(struct sl_kube_resource *ret, const char *api_version, const char *kind,
                         const char *plural, bool namespaced, struct sl_error *err);

/* Sends one request. path is absolute and may hold a query ("/version",
 * "/api/v1/namespaces?limit=1"); body (may be NULL) goes as JSON with
 * content_type (NULL: application/json). The answer, when ret_doc is not
 * NULL and the server sent a body, is parsed as JSON (at most max_response
 * bytes, 0: SL_KUBE_MAX_OBJECT_RESPONSE). GET, HEAD, PUT and DELETE are
 * retried on 5xx and lost connections; every verb on 429.
 *
 * Every operation below retries the same way: reads, PUT, DELETE, merge
 * patches and server-side apply as idempotent; POST, JSON and strategic
 * patches only on 429 or a connection never made. Note that libcurl
 * itself sends any request once more when a reused keep-alive connection
 * closes without a byte of answer (it takes it for a stale connection), so
 * a create may then fail with SL_KUBE_EEXISTS although it happened. */
int sl_kube_request(struct sl_kube *k, const char *method, const char *path,
                    const char *content_type, const json_t *body, size_t max_response,
                    json_t **ret_doc, struct sl_error *err);

/* ---- discovery ---------------------------------------------------------- */

/* Resolves apiVersion + kind to its resource (plural, scope) from the
 * server's /api/v1 or /apis/<group>/<version>, cached per client. A kind
 * the cache does not know makes one more lookup (a CRD just installed);
 * SL_ENOTFOUND when the server does not serve it. An operation that gets a
 * 404 for the resource itself (not for an object) drops that group/version
 * from the cache. */
int sl_kube_discover(struct sl_kube *k, const char *api_version, const char *kind,
                     struct sl_kube_resource *ret, struct sl_error *err);
/* sl_kube_discover for an object's apiVersion and kind. */
int sl_kube_resource_of(struct sl_kube *k, const json_t *obj, struct sl_kube_resource *ret,
                        struct sl_error *err);
void sl_kube_discovery_reset(struct sl_kube *k);
/* Resolves a resource as kubectl's command line names it: a plural
 * ("deployments"), singular ("deployment"), kind ("Deployment", any case)
 * or short name ("deploy", "ks"), optionally qualified by its group
 * ("deployments.apps") or version and group ("deployments.v1.apps").
 * Unqualified names are looked up in the core group first, then in the
 * groups in the order the server lists them, at each group's preferred
 * version, as kubectl's RESTMapper prefers them; full names win over
 * short names within a group. Costs one GET /apis, plus one discovery
 * request per group/version not cached yet. SL_ENOTFOUND: kubectl's "the
 * server doesn't have a resource type". */
int sl_kube_resolve(struct sl_kube *k, const char *arg, struct sl_kube_resource *ret,
                    struct sl_error *err);

/* ---- operations ------------------------------------------------------- */

/* Namespaces: for a namespaced resource, ns NULL means the object's
 * metadata.namespace (writes) or the config's namespace; ns is ignored for
 * cluster-scoped resources. */

int sl_kube_get(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                const char *name, json_t **ret_obj, struct sl_error *err);

struct sl_kube_list_opts {
	const char *label_selector;
	const char *field_selector;
	unsigned limit; /* page size; 0: SL_KUBE_DEFAULT_PAGE_SIZE */
	/* NULL: the latest state (a quorum read); "0": whatever the API
	 * server's cache holds (cheaper, may be stale). */
	const char *resource_version;
};

struct sl_kube_list {
	json_t *items; /* array of objects, each with apiVersion and kind set */
	char *resource_version;
};

/* Lists every page (following `continue`). For a namespaced resource, ns
 * NULL lists all namespaces. When a continue token expires half-way the
 * list starts over without paging, as client-go's pager does. */
int sl_kube_list(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                 const struct sl_kube_list_opts *opts, struct sl_kube_list *ret,
                 struct sl_error *err);
void sl_kube_list_clear(struct sl_kube_list *l);

/* Gets one page of a list: items is the page's array of objects, each with
 * apiVersion and kind set, borrowed (fn may change them, and json_incref
 * what it keeps). first is set on the first page, and again when the list
 * starts over: fn then drops whatever the pages before gave it. Returns 0
 * to go on, <0 (with *err set) to end the list with that code. */
typedef int (*sl_kube_list_page_fn)(void *userdata, json_t *items, bool first,
                                    struct sl_error *err);

/* sl_kube_list a page at a time, so that only one page is ever parsed: fn
 * gets each page as it arrives. When a continue token expires half-way,
 * the list starts over without paging (fn sees first again, and the whole
 * list as one page). *ret_rv (may be NULL) gets the list's
 * resourceVersion, for a watch to go on from; the caller frees it. What fn
 * got is only complete when this returns 0. */
int sl_kube_list_pages(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                       const struct sl_kube_list_opts *opts, sl_kube_list_page_fn fn,
                       void *userdata, char **ret_rv, struct sl_error *err);

struct sl_kube_write_opts {
	const char *field_manager; /* NULL: the client's */
	bool force;                /* apply: take over fields other managers own */
	bool dry_run;              /* dryRun=All: validated and defaulted, not stored */
	const char *subresource;   /* "status", or NULL for the object itself */
};

/* POST. ret_obj (may be NULL) gets the object as stored. */
int sl_kube_create(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                   const json_t *obj, const struct sl_kube_write_opts *opts, json_t **ret_obj,
                   struct sl_error *err);
/* PUT of the whole object; namespace, name and resourceVersion come from
 * obj, so a stale object fails with SL_KUBE_ECONFLICT. */
int sl_kube_update(struct sl_kube *k, const struct sl_kube_resource *res, const json_t *obj,
                   const struct sl_kube_write_opts *opts, json_t **ret_obj, struct sl_error *err);

enum sl_kube_patch_type {
	SL_KUBE_PATCH_MERGE,     /* application/merge-patch+json (RFC 7386) */
	SL_KUBE_PATCH_JSON,      /* application/json-patch+json (RFC 6902) */
	SL_KUBE_PATCH_STRATEGIC, /* application/strategic-merge-patch+json, built-in kinds */
};

int sl_kube_patch(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                  const char *name, enum sl_kube_patch_type type, const json_t *patch,
                  const struct sl_kube_write_opts *opts, json_t **ret_obj, struct sl_error *err);
/* Server-side apply: PATCH application/apply-patch+yaml with obj as JSON,
 * fieldManager and force from opts (a field manager is required: the
 * client's when opts does not name one). */
int sl_kube_apply(struct sl_kube *k, const struct sl_kube_resource *res, const json_t *obj,
                  const struct sl_kube_write_opts *opts, json_t **ret_obj, struct sl_error *err);

struct sl_kube_delete_opts {
	const char *propagation_policy; /* "Background", "Foreground", "Orphan"; NULL: server's */
	const char *precondition_uid;   /* fail with SL_KUBE_ECONFLICT unless these match */
	const char *precondition_resource_version;
	bool set_grace_period; /* else the object's default */
	int64_t grace_period_seconds;
	bool dry_run;
};

/* SL_ENOTFOUND when there is nothing to delete. opts may be NULL. */
int sl_kube_delete(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                   const char *name, const struct sl_kube_delete_opts *opts, struct sl_error *err);

/* ---- watch -------------------------------------------------------------- */

enum sl_kube_event_type {
	SL_KUBE_ADDED,
	SL_KUBE_MODIFIED,
	SL_KUBE_DELETED,
	SL_KUBE_BOOKMARK, /* only object.metadata.resourceVersion is meaningful */
};

struct sl_kube_watch_event {
	enum sl_kube_event_type type;
	json_t *object;               /* borrowed; json_incref to keep it */
	const char *resource_version; /* the object's, "" when absent */
};

/* Returns 0 to go on, <0 (with *err set) to end the watch with that code. */
typedef int (*sl_kube_watch_fn)(void *userdata, const struct sl_kube_watch_event *ev,
                                struct sl_error *err);

struct sl_kube_watch_opts {
	/* Events after this version (from a list, or the last event seen).
	 * NULL or "": the server sends the current state as ADDED first. */
	const char *resource_version;
	const char *label_selector;
	const char *field_selector;
	int timeout_seconds;    /* the server ends the stream after this; 0: 300 */
	size_t max_event_bytes; /* 0: SL_KUBE_MAX_WATCH_EVENT */
};

/* Streams events (allowWatchBookmarks=true) to fn until the server ends
 * the stream (0: watch again from the last resourceVersion seen), the
 * resourceVersion is too old (SL_KUBE_EGONE, from a 410 answer or an ERROR
 * event with code 410: relist), the connection drops (SL_ENET), the stop
 * flag is set (SL_KUBE_ECANCELED) or fn fails. Not retried. */
int sl_kube_watch(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                  const struct sl_kube_watch_opts *opts, sl_kube_watch_fn fn, void *userdata,
                  struct sl_error *err);

/* ---- informer ------------------------------------------------------------ */

/* List + watch of one resource into a cache keyed "namespace/name" (or
 * "name" when cluster-scoped): the watch goes on from the list's
 * resourceVersion, from its last event when the server ends it, and
 * relists on Gone or a dropped stream, diffing the new list against the
 * cache so that no addition, change or deletion is missed. */
struct sl_kube_informer;

/* Called on the informer's thread, after the cache changed; objects are
 * borrowed (json_incref to keep one). A relist reports the additions and
 * changes in list order, then the deletions. */
struct sl_kube_informer_handlers {
	void (*on_add)(void *userdata, json_t *obj);
	void (*on_update)(void *userdata, json_t *old_obj, json_t *new_obj);
	void (*on_delete)(void *userdata, json_t *last_known);
	/* A list or watch failed; the informer retries with backoff. */
	void (*on_error)(void *userdata, const struct sl_error *err);
	void *userdata;
};

struct sl_kube_informer_opts {
	struct sl_kube_resource resource;
	const char *namespace; /* NULL: all namespaces */
	const char *label_selector;
	const char *field_selector;
	unsigned page_size;        /* 0: SL_KUBE_INFORMER_PAGE_SIZE */
	int watch_timeout_seconds; /* 0: random in [300, 600) s, as client-go */
	int64_t min_backoff_ms;    /* after a failure; 0: 800 ms, doubling up to... */
	int64_t max_backoff_ms;    /* 0: 30 s */
};

struct sl_kube_informer_stats {
	uint64_t lists;   /* successful (re)lists */
	uint64_t watches; /* watch requests answered */
	uint64_t gone;    /* watches that ended with 410 Gone */
	uint64_t errors;  /* failed lists and watches */
};

int sl_kube_informer_new(const struct sl_kube_config *cfg, const struct sl_kube_informer_opts *opts,
                         const struct sl_kube_informer_handlers *handlers,
                         struct sl_kube_informer **ret, struct sl_error *err);
/* Runs the informer on a thread of its own. */
int sl_kube_informer_start(struct sl_kube_informer *inf, struct sl_error *err);
/* Runs it on the calling thread until sl_kube_informer_stop; returns 0
 * then, or <0 when it cannot even build its client. */
int sl_kube_informer_run(struct sl_kube_informer *inf, struct sl_error *err);
/* Sets the stop flag (the running list or watch is aborted within about a
 * second) and joins the thread sl_kube_informer_start made. Safe from any
 * thread but the informer's own; idempotent. */
void sl_kube_informer_stop(struct sl_kube_informer *inf);
/* Whether the first list has been stored; waits up to timeout_ms for it. */
bool sl_kube_informer_wait_synced(struct sl_kube_informer *inf, int64_t timeout_ms);
/* A new copy of the cached object (the caller's to change; json_decref
 * it), or NULL. ns is ignored when cluster-scoped. The cache keeps compact
 * JSON text, so each call parses it. */
json_t *sl_kube_informer_get(struct sl_kube_informer *inf, const char *ns, const char *name);
/* A new array of copies of every cached object. */
json_t *sl_kube_informer_snapshot(struct sl_kube_informer *inf);
size_t sl_kube_informer_size(struct sl_kube_informer *inf);
void sl_kube_informer_stats(struct sl_kube_informer *inf, struct sl_kube_informer_stats *ret);
/* Stops it first. */
struct sl_kube_informer *sl_kube_informer_free(struct sl_kube_informer *inf);
static inline void sl_kube_informer_freep(struct sl_kube_informer **inf)
{
	sl_kube_informer_free(*inf);
}

/* ---- events ----------------------------------------------------------- */

/* Records core/v1 Events as client-go's recorder does for Flux: named
 * <object>.<hex nanoseconds>, in the object's namespace ("default" for a
 * cluster-scoped one), source.component and reportingComponent set to the
 * component; an event identical to one this recorder made earlier (same
 * object, type, reason, message) bumps that one's count and lastTimestamp
 * instead. Shareable between threads. */
struct sl_kube_recorder;

/* component: "source-controller"; instance: reportingInstance and
 * source.host, NULL for none (Flux passes the pod's hostname). */
struct sl_kube_recorder *sl_kube_recorder_new(const char *component, const char *instance);
struct sl_kube_recorder *sl_kube_recorder_free(struct sl_kube_recorder *rec);
static inline void sl_kube_recorder_freep(struct sl_kube_recorder **rec)
{
	sl_kube_recorder_free(*rec);
}

struct sl_kube_event {
	/* The involved object: apiVersion, kind, metadata.namespace, name,
	 * uid and resourceVersion are copied from it. */
	const json_t *object;
	const char *type; /* "Normal" or "Warning" */
	const char *reason;
	const char *message;
	/* Optional object of string values, put on the Event's
	 * metadata.annotations ("source.toolkit.fluxcd.io/revision": ...). */
	const json_t *annotations;
};

int sl_kube_record_event(struct sl_kube *k, struct sl_kube_recorder *rec,
                         const struct sl_kube_event *ev, struct sl_error *err);

/* ---- leases ----------------------------------------------------------- */

/* Leader election on a coordination.k8s.io/v1 Lease with client-go's
 * rules: a lease held by someone else is taken only after it has been seen
 * unchanged for leaseDurationSeconds on our own clock (no trust in other
 * clocks); updates carry the resourceVersion read, so of two candidates
 * only one wins (the other gets a 409 and tries again later). The caller
 * calls sl_kube_lease_try every retry period (client-go: 2 s) and stops
 * leading when no try has succeeded for the renew deadline (10 s with a
 * 15 s lease). Not thread-safe. */
struct sl_kube_lease;

struct sl_kube_lease *sl_kube_lease_new(const char *ns, const char *name, const char *identity,
                                        int duration_seconds);
struct sl_kube_lease *sl_kube_lease_free(struct sl_kube_lease *l);
static inline void sl_kube_lease_freep(struct sl_kube_lease **l)
{
	sl_kube_lease_free(*l);
}
/* Acquires the lease, or renews it when we hold it. *ret_held tells
 * whether we hold it now; 0 with *ret_held false when someone else does
 * (or won a race). <0 on errors (not held then). */
int sl_kube_lease_try(struct sl_kube *k, struct sl_kube_lease *l, bool *ret_held,
                      struct sl_error *err);
/* Gives the lease up when we hold it, so another candidate can take it at
 * once: holderIdentity "", leaseDurationSeconds 1. */
int sl_kube_lease_release(struct sl_kube *k, struct sl_kube_lease *l, struct sl_error *err);
/* The holder seen by the last try ("" when none). */
const char *sl_kube_lease_holder(const struct sl_kube_lease *l);
/* Monotonic ms (sl_now_ms) of our last successful acquire or renew, 0 if never. */
int64_t sl_kube_lease_renewed_at(const struct sl_kube_lease *l);

#endif
