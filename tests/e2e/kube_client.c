/* Drives src/kube against the real API server of scripts/testenv, one
 * scenario per command; tests/e2e/kube_client.sh runs them and checks
 * the results with kubectl too.
 *
 *   kube_client [--kubeconfig PATH] [--in-cluster ROOT] COMMAND NAMESPACE
 *
 * Each command prints what it saw and exits 0, or prints "FAIL: reason"
 * and exits 1. Waits are on conditions with deadlines, never bare sleeps. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kube/kube.h"
#include "kube/kube_internal.h"

static const char *ns;
static struct sl_kube_config *cfg;

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("FAIL: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout);
	exit(1);
}

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			die(__VA_ARGS__);                                                          \
	} while (0)

/* The error of MUST and MUST_FAIL: one per thread rather than a 2 KiB
 * struct in every block of the long scenario functions. */
static __thread struct sl_error must_err;

/* A call that must succeed. */
#define MUST(call)                                                                                 \
	do {                                                                                       \
		struct sl_error *err = &must_err;                                                  \
		sl_error_clear(err);                                                               \
		int r_ = (call);                                                                   \
		if (r_ < 0)                                                                        \
			die("%s: %d %s", #call, r_, must_err.msg);                                 \
	} while (0)

/* A call that must fail with code. */
#define MUST_FAIL(code, call)                                                                      \
	do {                                                                                       \
		struct sl_error *err = &must_err;                                                  \
		sl_error_clear(err);                                                               \
		int r_ = (call);                                                                   \
		if (r_ != (code))                                                                  \
			die("%s: got %d (%s), want %s", #call, r_, must_err.msg, #code);           \
		printf("  refused as expected: %s\n", must_err.msg);                               \
	} while (0)

static struct sl_kube *client(const atomic_bool *stop)
{
	struct sl_kube *k = NULL;
	struct sl_kube_client_opts o = {.field_manager = "kube-client-e2e", .stop = stop};
	MUST(sl_kube_new(cfg, &o, &k, err));
	return k;
}

static const char *str_at(const json_t *obj, const char *a, const char *b)
{
	const char *s = json_string_value(json_object_get(json_object_get(obj, a), b));
	return s ? s : "";
}

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr);
	CHECK(doc, "bad JSON in the test: %s", jerr.text);
	return doc;
}

static json_t *configmap(const char *name, const char *key, const char *value)
{
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind",
	                 "ConfigMap", "metadata", "name", name, "namespace", ns, "labels", "e2e",
	                 "kube-client", "data", key, value);
}

/* ---- connect: config, TLS, HTTP/2, connection reuse --------------------- */

static int cmd_connect(void)
{
	_cleanup_(sl_kube_freep) struct sl_kube *k = client(NULL);
	_cleanup_(json_decrefp) json_t *version = NULL;
	MUST(sl_kube_request(k, "GET", "/version", NULL, NULL, 0, &version, err));
	long http_version = 0;
	curl_easy_getinfo(k->curl, CURLINFO_HTTP_VERSION, &http_version);
	CHECK(sl_startswith(cfg->server, "http://") || http_version == CURL_HTTP_VERSION_2_0,
	      "not HTTP/2 over TLS (curl version code %ld)", http_version);
	_cleanup_(json_decrefp) json_t *nsobj = NULL;
	MUST(sl_kube_get(k, &sl_kube_res_namespaces, NULL, ns, &nsobj, err));
	long connects = -1;
	curl_easy_getinfo(k->curl, CURLINFO_NUM_CONNECTS, &connects);
	CHECK(connects == 0, "the second request opened %ld new connection(s)", connects);
	printf("server %s (%s), HTTP/2, connection reused, namespace %s, default namespace %s\n",
	       json_string_value(json_object_get(version, "gitVersion")), cfg->origin,
	       str_at(nsobj, "metadata", "name"), cfg->namespace);
	return 0;
}

/* ---- pagination ---------------------------------------------------------- */

static int cmd_pagination(void)
{
	_cleanup_(sl_kube_freep) struct sl_kube *k = client(NULL);
	enum { N = 250 };
	for (int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof(name), "page-%03d", i);
		_cleanup_(json_decrefp) json_t *cm = configmap(name, "i", name);
		json_object_set_new(json_object_get(json_object_get(cm, "metadata"), "labels"),
		                    "page", json_string("yes"));
		MUST(sl_kube_create(k, &sl_kube_res_configmaps, NULL, cm, NULL, NULL, err));
	}
	/* One page by hand: the server does page at 100. */
	_cleanup_(json_decrefp) json_t *page = NULL;
	_cleanup_free_ char *path =
	    sl_asprintf("/api/v1/namespaces/%s/configmaps?labelSelector=page%%3Dyes&limit=100", ns);
	MUST(sl_kube_request(k, "GET", path, NULL, NULL, SL_KUBE_MAX_RESPONSE, &page, err));
	CHECK(json_array_size(json_object_get(page, "items")) == 100, "first page has %zu items",
	      json_array_size(json_object_get(page, "items")));
	CHECK(*str_at(page, "metadata", "continue"), "no continue token after 100 of %d", N);

	struct sl_kube_list l = {0};
	struct sl_kube_list_opts lo = {.label_selector = "page=yes", .limit = 100};
	MUST(sl_kube_list(k, &sl_kube_res_configmaps, ns, &lo, &l, err));
	CHECK(json_array_size(l.items) == N, "listed %zu, want %d", json_array_size(l.items), N);
	CHECK(l.resource_version && *l.resource_version, "no resourceVersion");
	for (size_t i = 0; i < N; i++) {
		json_t *it = json_array_get(l.items, i);
		char want[32];
		snprintf(want, sizeof(want), "page-%03zu", i);
		CHECK(strcmp(str_at(it, "metadata", "name"), want) == 0, "item %zu is %s", i,
		      str_at(it, "metadata", "name"));
		CHECK(strcmp(json_string_value(json_object_get(it, "kind")), "ConfigMap") == 0 &&
		          strcmp(json_string_value(json_object_get(it, "apiVersion")), "v1") == 0,
		      "item %zu lacks kind/apiVersion", i);
	}
	printf("listed %d ConfigMaps in pages of 100 at resourceVersion %s\n", N,
	       l.resource_version);
	sl_kube_list_clear(&l);
	return 0;
}

/* ---- create / update / patch / apply / delete -------------------------- */

static int cmd_crud(void)
{
	_cleanup_(sl_kube_freep) struct sl_kube *k = client(NULL);
	const struct sl_kube_resource *cms = &sl_kube_res_configmaps;
	_cleanup_(json_decrefp) json_t *cm = configmap("crud", "a", "1");
	_cleanup_(json_decrefp) json_t *created = NULL;
	MUST(sl_kube_create(k, cms, NULL, cm, NULL, &created, err));
	CHECK(*str_at(created, "metadata", "uid"), "created object has no uid");
	MUST_FAIL(SL_KUBE_EEXISTS, sl_kube_create(k, cms, NULL, cm, NULL, NULL, err));

	/* Dry run changes nothing. */
	_cleanup_(json_decrefp) json_t *dry = configmap("crud-dry", "a", "1");
	struct sl_kube_write_opts dry_run = {.dry_run = true};
	MUST(sl_kube_create(k, cms, NULL, dry, &dry_run, NULL, err));
	MUST_FAIL(SL_ENOTFOUND, sl_kube_get(k, cms, ns, "crud-dry", &(json_t *){NULL}, err));

	/* Update (PUT) with the resourceVersion read; then a stale one. */
	_cleanup_(json_decrefp) json_t *got = NULL;
	MUST(sl_kube_get(k, cms, ns, "crud", &got, err));
	_cleanup_(json_decrefp) json_t *stale = json_deep_copy(got);
	json_object_set_new(json_object_get(got, "data"), "a", json_string("2"));
	_cleanup_(json_decrefp) json_t *updated = NULL;
	MUST(sl_kube_update(k, cms, got, NULL, &updated, err));
	CHECK(strcmp(str_at(updated, "data", "a"), "2") == 0, "update not applied");
	json_object_set_new(json_object_get(stale, "data"), "a", json_string("stale"));
	MUST_FAIL(SL_KUBE_ECONFLICT, sl_kube_update(k, cms, stale, NULL, NULL, err));

	/* Merge patch, JSON patch, strategic merge patch. */
	_cleanup_(json_decrefp) json_t *merge = parse("{\"data\":{\"b\":\"merged\",\"a\":null}}");
	_cleanup_(json_decrefp) json_t *patched = NULL;
	MUST(sl_kube_patch(k, cms, ns, "crud", SL_KUBE_PATCH_MERGE, merge, NULL, &patched, err));
	CHECK(strcmp(str_at(patched, "data", "b"), "merged") == 0 &&
	          !json_object_get(json_object_get(patched, "data"), "a"),
	      "merge patch not applied");
	_cleanup_(json_decrefp) json_t *jp =
	    parse("[{\"op\":\"add\",\"path\":\"/data/c\",\"value\":\"json-patched\"}]");
	json_decref(patched);
	patched = NULL;
	MUST(sl_kube_patch(k, cms, ns, "crud", SL_KUBE_PATCH_JSON, jp, NULL, &patched, err));
	CHECK(strcmp(str_at(patched, "data", "c"), "json-patched") == 0, "JSON patch not applied");
	_cleanup_(json_decrefp) json_t *bad_jp =
	    parse("[{\"op\":\"test\",\"path\":\"/data/c\",\"value\":\"other\"}]");
	MUST_FAIL(SL_KUBE_EINVALID,
	          sl_kube_patch(k, cms, ns, "crud", SL_KUBE_PATCH_JSON, bad_jp, NULL, NULL, err));
	_cleanup_(json_decrefp) json_t *smp =
	    parse("{\"metadata\":{\"labels\":{\"smp\":\"yes\"}}}");
	MUST(sl_kube_patch(k, cms, ns, "crud", SL_KUBE_PATCH_STRATEGIC, smp, NULL, NULL, err));

	/* Server-side apply: ours, then another manager's conflict, then force. */
	_cleanup_(json_decrefp) json_t *applied_cm = configmap("applied", "owner", "first");
	_cleanup_(json_decrefp) json_t *applied = NULL;
	MUST(sl_kube_apply(k, cms, applied_cm, NULL, &applied, err));
	json_t *mf = json_array_get(
	    json_object_get(json_object_get(applied, "metadata"), "managedFields"), 0);
	CHECK(strcmp(json_string_value(json_object_get(mf, "manager")), "kube-client-e2e") == 0 &&
	          strcmp(json_string_value(json_object_get(mf, "operation")), "Apply") == 0,
	      "managedFields: %s", json_dumps(mf, JSON_COMPACT));
	MUST(sl_kube_apply(k, cms, applied_cm, NULL, NULL, err)); /* idempotent */
	_cleanup_(json_decrefp) json_t *rival = configmap("applied", "owner", "second");
	struct sl_kube_write_opts other = {.field_manager = "someone-else"};
	MUST_FAIL(SL_KUBE_ECONFLICT, sl_kube_apply(k, cms, rival, &other, NULL, err));
	other.force = true;
	_cleanup_(json_decrefp) json_t *forced = NULL;
	MUST(sl_kube_apply(k, cms, rival, &other, &forced, err));
	CHECK(strcmp(str_at(forced, "data", "owner"), "second") == 0, "force apply not applied");

	/* Delete: a wrong precondition is a conflict; then gone for good. */
	struct sl_kube_delete_opts wrong = {.precondition_uid = "00000000-0000-0000-0000-0000000"
	                                                        "00000"};
	MUST_FAIL(SL_KUBE_ECONFLICT, sl_kube_delete(k, cms, ns, "crud", &wrong, err));
	struct sl_kube_delete_opts right = {.precondition_uid = str_at(created, "metadata", "uid"),
	                                    .propagation_policy = "Background"};
	MUST(sl_kube_delete(k, cms, ns, "crud", &right, err));
	MUST_FAIL(SL_ENOTFOUND, sl_kube_get(k, cms, ns, "crud", &(json_t *){NULL}, err));
	MUST_FAIL(SL_ENOTFOUND, sl_kube_delete(k, cms, ns, "crud", NULL, err));
	printf("create, update, conflict, merge/JSON/strategic patch, apply, force, delete: ok\n");
	return 0;
}

/* ---- a CRD with a status subresource, and discovery --------------------- */

static const char crd_json[] =
    "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
    "\"metadata\":{\"name\":\"gadgets.kube-client.e2e.sluice.dev\"},\"spec\":{\"group\":"
    "\"kube-client.e2e.sluice.dev\",\"scope\":\"Namespaced\",\"names\":{\"plural\":\"gadgets\","
    "\"singular\":\"gadget\",\"kind\":\"Gadget\"},\"versions\":[{\"name\":\"v1\",\"served\":true,"
    "\"storage\":true,\"subresources\":{\"status\":{}},\"schema\":{\"openAPIV3Schema\":{"
    "\"type\":\"object\",\"properties\":{\"spec\":{\"type\":\"object\",\"properties\":{\"size\":"
    "{\"type\":\"integer\"}}},\"status\":{\"type\":\"object\",\"properties\":{\"phase\":{"
    "\"type\":\"string\"},\"observed\":{\"type\":\"integer\"}}}}}}}]}}";

static bool crd_established(struct sl_kube *k)
{
	_cleanup_(json_decrefp) json_t *crd = NULL;
	struct sl_error err = {0};
	if (sl_kube_get(k, &sl_kube_res_crds, NULL, "gadgets.kube-client.e2e.sluice.dev", &crd,
	                &err) < 0)
		return false;
	size_t i;
	json_t *c;
	json_array_foreach (json_object_get(json_object_get(crd, "status"), "conditions"), i, c)
		if (strcmp(json_string_value(json_object_get(c, "type")), "Established") == 0 &&
		    strcmp(json_string_value(json_object_get(c, "status")), "True") == 0)
			return true;
	return false;
}

static void poll_pause(void)
{
	struct timespec ts = {0, 50 * 1000000};
	nanosleep(&ts, NULL);
}

static int cmd_status(void)
{
	_cleanup_(sl_kube_freep) struct sl_kube *k = client(NULL);
	_cleanup_(json_decrefp) json_t *crd = parse(crd_json);
	MUST(sl_kube_apply(k, &sl_kube_res_crds, crd, NULL, NULL, err));
	int64_t deadline = sl_now_ms() + 30000;
	while (!crd_established(k)) {
		CHECK(sl_now_ms() < deadline, "CRD not Established within 30 s");
		poll_pause();
	}
	/* Discovery may lag Established a moment; a miss refetches. */
	struct sl_kube_resource gadgets;
	struct sl_error derr = {0};
	while (sl_kube_discover(k, "kube-client.e2e.sluice.dev/v1", "Gadget", &gadgets, &derr) <
	       0) {
		CHECK(sl_now_ms() < deadline, "Gadget not discovered within 30 s: %s", derr.msg);
		poll_pause();
	}
	CHECK(strcmp(gadgets.resource, "gadgets") == 0 && gadgets.namespaced,
	      "discovered %s namespaced=%d", gadgets.resource, gadgets.namespaced);
	struct sl_kube_resource cm_res;
	MUST(sl_kube_discover(k, "v1", "ConfigMap", &cm_res, err));
	CHECK(strcmp(cm_res.resource, "configmaps") == 0 && cm_res.namespaced, "core discovery");
	struct sl_kube_resource ns_res;
	MUST(sl_kube_discover(k, "v1", "Namespace", &ns_res, err));
	CHECK(!ns_res.namespaced, "Namespace is cluster-scoped");
	MUST_FAIL(SL_ENOTFOUND, sl_kube_discover(k, "v1", "NoSuchKind", &ns_res, err));
	MUST_FAIL(SL_ENOTFOUND, sl_kube_discover(k, "nope.example/v9", "X", &ns_res, err));

	_cleanup_(json_decrefp) json_t *g =
	    json_pack("{s:s, s:s, s:{s:s}, s:{s:i}}", "apiVersion", "kube-client.e2e.sluice.dev/v1",
	              "kind", "Gadget", "metadata", "name", "g1", "spec", "size", 3);
	_cleanup_(json_decrefp) json_t *stored = NULL;
	MUST(sl_kube_create(k, &gadgets, ns, g, NULL, &stored, err));

	/* PUT on /status: status changes, spec changes are ignored. */
	json_object_set_new(stored, "status", json_pack("{s:s}", "phase", "Pending"));
	json_object_set_new(json_object_get(stored, "spec"), "size", json_integer(99));
	struct sl_kube_write_opts status = {.subresource = "status"};
	_cleanup_(json_decrefp) json_t *after = NULL;
	MUST(sl_kube_update(k, &gadgets, stored, &status, &after, err));
	CHECK(strcmp(str_at(after, "status", "phase"), "Pending") == 0, "status not updated");
	CHECK(json_integer_value(json_object_get(json_object_get(after, "spec"), "size")) == 3,
	      "a status update changed the spec");
	/* Merge patch on /status. */
	_cleanup_(json_decrefp) json_t *sp =
	    parse("{\"status\":{\"phase\":\"Ready\",\"observed\":1}}");
	_cleanup_(json_decrefp) json_t *patched = NULL;
	MUST(sl_kube_patch(k, &gadgets, ns, "g1", SL_KUBE_PATCH_MERGE, sp, &status, &patched, err));
	CHECK(strcmp(str_at(patched, "status", "phase"), "Ready") == 0, "status patch");
	/* An update of the object itself leaves the status alone. */
	json_object_set_new(json_object_get(patched, "status"), "phase", json_string("Ignored"));
	json_object_set_new(json_object_get(patched, "spec"), "size", json_integer(5));
	_cleanup_(json_decrefp) json_t *main_update = NULL;
	MUST(sl_kube_update(k, &gadgets, patched, NULL, &main_update, err));
	CHECK(strcmp(str_at(main_update, "status", "phase"), "Ready") == 0 &&
	          json_integer_value(
	              json_object_get(json_object_get(main_update, "spec"), "size")) == 5,
	      "main resource update touched status or missed spec");
	/* Server-side apply of the status subresource. */
	_cleanup_(json_decrefp) json_t *sa =
	    json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s}}", "apiVersion",
	              "kube-client.e2e.sluice.dev/v1", "kind", "Gadget", "metadata", "name", "g1",
	              "namespace", ns, "status", "phase", "Applied");
	_cleanup_(json_decrefp) json_t *sa_out = NULL;
	struct sl_kube_write_opts sa_opts = {.subresource = "status", .force = true};
	MUST(sl_kube_apply(k, &gadgets, sa, &sa_opts, &sa_out, err));
	CHECK(strcmp(str_at(sa_out, "status", "phase"), "Applied") == 0, "status apply");

	/* Delete the CRD: the next call on the resource gets a 404 for the
	 * resource itself, which drops the cached mapping. */
	MUST(sl_kube_delete(k, &sl_kube_res_crds, NULL, "gadgets.kube-client.e2e.sluice.dev", NULL,
	                    err));
	deadline = sl_now_ms() + 60000;
	for (;;) {
		struct sl_error e = {0};
		json_t *x = NULL;
		int r = sl_kube_get(k, &gadgets, ns, "g1", &x, &e);
		json_decref(x);
		struct sl_kube_resource again;
		if (r == SL_ENOTFOUND && sl_kube_discover(k, "kube-client.e2e.sluice.dev/v1",
		                                          "Gadget", &again, &e) == SL_ENOTFOUND) {
			printf("  after the CRD went: %s\n", e.msg);
			break;
		}
		CHECK(sl_now_ms() < deadline, "the Gadget kind is still served 60 s after deleting "
		                              "its CRD");
		poll_pause();
	}
	printf("CRD status subresource: PUT, merge patch, apply; discovery and its "
	       "invalidation: ok\n");
	return 0;
}

/* ---- watch --------------------------------------------------------------- */

struct watch_log {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char text[8192];
	int bookmarks;
	int rc;
	bool done;
	struct sl_error err;
	struct sl_kube *k;
	const char *from_rv;
	int timeout_s;
};

static int on_watch_event(void *userdata, const struct sl_kube_watch_event *ev,
                          struct sl_error *err)
{
	(void)err;
	struct watch_log *w = userdata;
	static const char *names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK"};
	pthread_mutex_lock(&w->mu);
	if (ev->type == SL_KUBE_BOOKMARK) {
		w->bookmarks++;
	} else {
		size_t len = strlen(w->text);
		snprintf(w->text + len, sizeof(w->text) - len, "%s %s=%s;", names[ev->type],
		         str_at(ev->object, "metadata", "name"), str_at(ev->object, "data", "v"));
	}
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

static void *watch_thread(void *arg)
{
	struct watch_log *w = arg;
	struct sl_kube_watch_opts o = {
	    .resource_version = w->from_rv,
	    .label_selector = "e2e=watch",
	    .timeout_seconds = w->timeout_s,
	};
	struct sl_error err = {0};
	int r = sl_kube_watch(w->k, &sl_kube_res_configmaps, ns, &o, on_watch_event, w, &err);
	pthread_mutex_lock(&w->mu);
	w->rc = r;
	w->err = err;
	w->done = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Waits until pred holds or the deadline passes; the lock is held. */
static bool wait_until(struct watch_log *w, bool (*pred)(struct watch_log *), int64_t ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000)
		until.tv_sec++, until.tv_nsec -= 1000000000;
	while (!pred(w))
		if (pthread_cond_timedwait(&w->cv, &w->mu, &until) != 0)
			return pred(w);
	return true;
}

static bool saw_delete(struct watch_log *w)
{
	return strstr(w->text, "DELETED w1=") != NULL;
}

static bool saw_w2(struct watch_log *w)
{
	return strstr(w->text, "ADDED w2=") != NULL;
}

static bool ended(struct watch_log *w)
{
	return w->done;
}

static bool has_bookmark_or_ended(struct watch_log *w)
{
	return w->bookmarks > 0 || w->done;
}

static int cmd_watch(void)
{
	_cleanup_(sl_kube_freep) struct sl_kube *k = client(NULL);
	struct sl_kube_list l = {0};
	struct sl_kube_list_opts lo = {.label_selector = "e2e=watch"};
	MUST(sl_kube_list(k, &sl_kube_res_configmaps, ns, &lo, &l, err));

	atomic_bool stop = false;
	struct watch_log w = {.mu = PTHREAD_MUTEX_INITIALIZER,
	                      .cv = PTHREAD_COND_INITIALIZER,
	                      .k = client(&stop),
	                      .from_rv = l.resource_version,
	                      .timeout_s = 6};
	pthread_t t;
	pthread_create(&t, NULL, watch_thread, &w);

	_cleanup_(json_decrefp) json_t *cm = json_pack(
	    "{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
	    "metadata", "name", "w1", "labels", "e2e", "watch", "data", "v", "1");
	MUST(sl_kube_create(k, &sl_kube_res_configmaps, ns, cm, NULL, NULL, err));
	_cleanup_(json_decrefp) json_t *p = parse("{\"data\":{\"v\":\"2\"}}");
	MUST(sl_kube_patch(k, &sl_kube_res_configmaps, ns, "w1", SL_KUBE_PATCH_MERGE, p, NULL, NULL,
	                   err));
	MUST(sl_kube_delete(k, &sl_kube_res_configmaps, ns, "w1", NULL, err));
	pthread_mutex_lock(&w.mu);
	bool deleted = wait_until(&w, saw_delete, 10000);
	pthread_mutex_unlock(&w.mu);

	/* The server sends a bookmark about 2 s before timeoutSeconds, but
	 * only once its cache has seen something newer than what this
	 * watcher got: write outside the selector (never shown) until it
	 * comes or the watch ends. */
	_cleanup_(json_decrefp) json_t *other = configmap("unwatched", "v", "0");
	MUST(sl_kube_create(k, &sl_kube_res_configmaps, ns, other, NULL, NULL, err));
	bool bookmark = false, finished = false;
	int64_t deadline = sl_now_ms() + 20000;
	for (int i = 1; !bookmark && !finished && sl_now_ms() < deadline; i++) {
		_cleanup_(json_decrefp) json_t *poke = json_pack(
		    "{s:{s:{s:s}}}", "metadata", "labels", "poke", i % 2 ? "odd" : "even");
		MUST(sl_kube_patch(k, &sl_kube_res_configmaps, ns, "unwatched", SL_KUBE_PATCH_MERGE,
		                   poke, NULL, NULL, err));
		pthread_mutex_lock(&w.mu);
		wait_until(&w, has_bookmark_or_ended, 300);
		bookmark = w.bookmarks > 0;
		finished = w.done;
		pthread_mutex_unlock(&w.mu);
	}
	pthread_mutex_lock(&w.mu);
	finished = wait_until(&w, ended, 15000);
	pthread_mutex_unlock(&w.mu);
	pthread_join(t, NULL);
	CHECK(deleted, "no DELETED event; saw: %s (rc %d %s)", w.text, w.rc, w.err.msg);
	CHECK(strcmp(w.text, "ADDED w1=1;MODIFIED w1=2;DELETED w1=2;") == 0, "events: %s", w.text);
	CHECK(bookmark, "no BOOKMARK event within the watch's 6 s");
	CHECK(finished && w.rc == 0, "the watch did not end cleanly at timeoutSeconds: %d %s", w.rc,
	      w.err.msg);
	printf("watch: %s %d bookmark(s), ended cleanly at timeoutSeconds\n", w.text, w.bookmarks);

	/* A long watch stops within a second or two of the stop flag. */
	w.done = false;
	w.timeout_s = 300;
	w.text[0] = '\0';
	pthread_create(&t, NULL, watch_thread, &w);
	_cleanup_(json_decrefp) json_t *cm2 = json_pack(
	    "{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
	    "metadata", "name", "w2", "labels", "e2e", "watch", "data", "v", "1");
	MUST(sl_kube_create(k, &sl_kube_res_configmaps, ns, cm2, NULL, NULL, err));
	/* Streaming (it saw w2), then stopped. */
	pthread_mutex_lock(&w.mu);
	bool streaming = wait_until(&w, saw_w2, 10000);
	pthread_mutex_unlock(&w.mu);
	CHECK(streaming, "the second watch never saw w2: %s", w.text);
	int64_t t0;
	atomic_store(&stop, true);
	t0 = sl_now_ms();
	pthread_mutex_lock(&w.mu);
	finished = wait_until(&w, ended, 5000);
	pthread_mutex_unlock(&w.mu);
	CHECK(finished, "the watch did not stop within 5 s of the stop flag");
	pthread_join(t, NULL);
	CHECK(w.rc == SL_KUBE_ECANCELED, "stopped watch returned %d (%s)", w.rc, w.err.msg);
	printf("watch stopped %lld ms after the stop flag: %s\n", (long long)(sl_now_ms() - t0),
	       w.err.msg);
	sl_kube_free(w.k);
	sl_kube_list_clear(&l);
	return 0;
}

/* ---- Gone ---------------------------------------------------------------- */

static int ignore_event(void *userdata, const struct sl_kube_watch_event *ev, struct sl_error *err)
{
	(void)userdata, (void)ev, (void)err;
	return 0;
}

/* etcd's current revision, compacted: $KC_ETCD_URL is the test etcd. */
static size_t to_buf(char *data, size_t size, size_t nmemb, void *userdata)
{
	return sl_buf_append(userdata, data, size * nmemb) < 0 ? 0 : size * nmemb;
}

static json_t *etcd_post(const char *path, const char *body)
{
	const char *base = getenv("KC_ETCD_URL");
	CHECK(base && *base, "KC_ETCD_URL is not set");
	_cleanup_free_ char *url = sl_asprintf("%s%s", base, path);
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, 1 << 20);
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_buf);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	CURLcode code = curl_easy_perform(c);
	curl_easy_cleanup(c);
	CHECK(code == CURLE_OK, "POST %s: %s", url, curl_easy_strerror(code));
	json_t *doc = json_loadb(out.data ? out.data : "", out.len, 0, NULL);
	CHECK(doc, "POST %s: not JSON", url);
	return doc;
}

static void etcd_compact(void)
{
	_cleanup_(json_decrefp) json_t *range = etcd_post("/v3/kv/range", "{\"key\":\"AA==\"}");
	const char *rev =
	    json_string_value(json_object_get(json_object_get(range, "header"), "revision"));
	CHECK(rev, "no etcd revision");
	_cleanup_free_ char *body = sl_asprintf("{\"revision\":\"%s\",\"physical\":true}", rev);
	json_decref(etcd_post("/v3/kv/compaction", body));
	printf("  compacted etcd at revision %s\n", rev);
}

/* Events are served from etcd, not from the API server's watch cache
 * (which answers an old resourceVersion with the current state until it
 * has evicted something): a watch from a revision etcd compacted is Gone. */
static int cmd_gone(void)
{
	_cleanup_(sl_kube_freep) struct sl_kube *k = client(NULL);
	etcd_compact();
	struct sl_kube_watch_opts o = {.resource_version = "1", .timeout_seconds = 10};
	struct sl_error err = {0};
	int r = sl_kube_watch(k, &sl_kube_res_events, ns, &o, ignore_event, NULL, &err);
	CHECK(r == SL_KUBE_EGONE, "watch from resourceVersion 1: %d (%s), want SL_KUBE_EGONE", r,
	      err.msg);
	CHECK(err.http_status == 410, "http_status %d", err.http_status);
	printf("watch from resourceVersion 1: Gone: %s\n", err.msg);
	return 0;
}

/* ---- informer ------------------------------------------------------------ */

struct informer_log {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char text[16384];
	int adds, updates, deletes;
};

static void inf_note(struct informer_log *l, const char *what, json_t *obj)
{
	pthread_mutex_lock(&l->mu);
	size_t len = strlen(l->text);
	if (len < sizeof(l->text) - 200)
		snprintf(l->text + len, sizeof(l->text) - len, "%s %s=%s;", what,
		         str_at(obj, "metadata", "name"), str_at(obj, "data", "v"));
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

static void inf_add(void *u, json_t *obj)
{
	((struct informer_log *)u)->adds++;
	inf_note(u, "add", obj);
}

static void inf_update(void *u, json_t *old_obj, json_t *obj)
{
	(void)old_obj;
	((struct informer_log *)u)->updates++;
	inf_note(u, "update", obj);
}

static void inf_delete(void *u, json_t *obj)
{
	((struct informer_log *)u)->deletes++;
	inf_note(u, "delete", obj);
}

static void inf_error(void *u, const struct sl_error *err)
{
	(void)u;
	printf("  informer error (retried): %s\n", err->msg);
}

static bool inf_wait(struct informer_log *l, const char *needle, int64_t ms)
{
	int64_t deadline = sl_now_ms() + ms;
	pthread_mutex_lock(&l->mu);
	while (!strstr(l->text, needle)) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000000;
		if (until.tv_nsec >= 1000000000)
			until.tv_sec++, until.tv_nsec -= 1000000000;
		pthread_cond_timedwait(&l->cv, &l->mu, &until);
		if (sl_now_ms() > deadline)
			break;
	}
	bool found = strstr(l->text, needle) != NULL;
	pthread_mutex_unlock(&l->mu);
	return found;
}

static int cmd_informer(void)
{
	_cleanup_(sl_kube_freep) struct sl_kube *k = client(NULL);
	_cleanup_(json_decrefp) json_t *pre = json_pack(
	    "{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
	    "metadata", "name", "before", "labels", "e2e", "informer", "data", "v", "0");
	MUST(sl_kube_create(k, &sl_kube_res_configmaps, ns, pre, NULL, NULL, err));

	struct informer_log log = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	struct sl_kube_informer_opts o = {
	    .resource = sl_kube_res_configmaps,
	    .namespace = ns,
	    .label_selector = "e2e=informer",
	    .page_size = 2,
	    .watch_timeout_seconds = 2, /* so it watches again from the last version */
	};
	struct sl_kube_informer_handlers h = {.on_add = inf_add,
	                                      .on_update = inf_update,
	                                      .on_delete = inf_delete,
	                                      .on_error = inf_error,
	                                      .userdata = &log};
	_cleanup_(sl_kube_informer_freep) struct sl_kube_informer *inf = NULL;
	MUST(sl_kube_informer_new(cfg, &o, &h, &inf, err));
	MUST(sl_kube_informer_start(inf, err));
	CHECK(sl_kube_informer_wait_synced(inf, 20000), "informer not synced within 20 s");
	CHECK(inf_wait(&log, "add before=0;", 1000), "initial list not reported: %s", log.text);

	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "inf-%d", i);
		_cleanup_(json_decrefp) json_t *cm =
		    json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind",
		              "ConfigMap", "metadata", "name", name, "labels", "e2e", "informer",
		              "data", "v", "1");
		MUST(sl_kube_create(k, &sl_kube_res_configmaps, ns, cm, NULL, NULL, err));
	}
	CHECK(inf_wait(&log, "add inf-2=1;", 10000), "adds not seen: %s", log.text);
	/* Past a watch timeout: the informer watched again, from where it was. */
	struct sl_kube_informer_stats st;
	int64_t deadline = sl_now_ms() + 15000;
	do {
		sl_kube_informer_stats(inf, &st);
		if (st.watches >= 2)
			break;
		poll_pause();
	} while (sl_now_ms() < deadline);
	CHECK(st.watches >= 2, "no second watch after the first timed out");
	_cleanup_(json_decrefp) json_t *p = parse("{\"data\":{\"v\":\"2\"}}");
	MUST(sl_kube_patch(k, &sl_kube_res_configmaps, ns, "inf-1", SL_KUBE_PATCH_MERGE, p, NULL,
	                   NULL, err));
	MUST(sl_kube_delete(k, &sl_kube_res_configmaps, ns, "inf-0", NULL, err));
	CHECK(inf_wait(&log, "update inf-1=2;", 10000), "update not seen: %s", log.text);
	CHECK(inf_wait(&log, "delete inf-0=1;", 10000), "delete not seen: %s", log.text);

	_cleanup_(json_decrefp) json_t *cached = sl_kube_informer_get(inf, ns, "inf-1");
	CHECK(cached && strcmp(str_at(cached, "data", "v"), "2") == 0, "cache has stale inf-1");
	json_t *gone_obj = sl_kube_informer_get(inf, ns, "inf-0");
	CHECK(!gone_obj, "cache still has inf-0");
	CHECK(sl_kube_informer_size(inf) == 3, "cache holds %zu objects, want 3",
	      sl_kube_informer_size(inf));
	_cleanup_(json_decrefp) json_t *snap = sl_kube_informer_snapshot(inf);
	CHECK(json_array_size(snap) == 3, "snapshot of %zu", json_array_size(snap));

	int64_t t0 = sl_now_ms();
	sl_kube_informer_stop(inf);
	int64_t stop_ms = sl_now_ms() - t0;
	CHECK(stop_ms < 5000, "stopping took %lld ms", (long long)stop_ms);
	sl_kube_informer_stats(inf, &st);
	CHECK(st.lists == 1, "%llu lists: a watch timeout must not relist",
	      (unsigned long long)st.lists);
	printf("informer: %s lists=%llu watches=%llu errors=%llu, stopped in %lld ms\n", log.text,
	       (unsigned long long)st.lists, (unsigned long long)st.watches,
	       (unsigned long long)st.errors, (long long)stop_ms);
	return 0;
}

/* An informer on Events (served from etcd) whose watch restarts from a
 * revision compacted meanwhile: Gone, so it relists and goes on. */
static int cmd_informer_gone(void)
{
	_cleanup_(sl_kube_freep) struct sl_kube *k = client(NULL);
	struct informer_log log = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	struct sl_kube_informer_opts o = {
	    .resource = sl_kube_res_events,
	    .namespace = ns,
	    .watch_timeout_seconds = 2,
	    .min_backoff_ms = 100,
	};
	struct sl_kube_informer_handlers h = {.on_add = inf_add,
	                                      .on_update = inf_update,
	                                      .on_delete = inf_delete,
	                                      .on_error = inf_error,
	                                      .userdata = &log};
	_cleanup_(sl_kube_informer_freep) struct sl_kube_informer *inf = NULL;
	MUST(sl_kube_informer_new(cfg, &o, &h, &inf, err));
	MUST(sl_kube_informer_start(inf, err));
	CHECK(sl_kube_informer_wait_synced(inf, 20000), "informer not synced within 20 s");
	size_t before = sl_kube_informer_size(inf);

	/* A write elsewhere moves etcd past the informer's revision; then
	 * everything before it is compacted away. */
	_cleanup_(json_decrefp) json_t *cm = configmap("compaction-marker", "v", "1");
	MUST(sl_kube_create(k, &sl_kube_res_configmaps, NULL, cm, NULL, NULL, err));
	_cleanup_(json_decrefp) json_t *p = parse("{\"data\":{\"v\":\"2\"}}");
	MUST(sl_kube_patch(k, &sl_kube_res_configmaps, ns, "compaction-marker", SL_KUBE_PATCH_MERGE,
	                   p, NULL, NULL, err));
	etcd_compact();

	struct sl_kube_informer_stats st;
	int64_t deadline = sl_now_ms() + 20000;
	do {
		sl_kube_informer_stats(inf, &st);
		if (st.gone >= 1 && st.lists >= 2)
			break;
		poll_pause();
	} while (sl_now_ms() < deadline);
	CHECK(st.gone >= 1 && st.lists >= 2, "no Gone and relist: gone=%llu lists=%llu",
	      (unsigned long long)st.gone, (unsigned long long)st.lists);

	/* It watches again after the relist: a new Event shows up. */
	_cleanup_(sl_kube_recorder_freep) struct sl_kube_recorder *rec =
	    sl_kube_recorder_new("kube-client-e2e", NULL);
	_cleanup_(json_decrefp) json_t *obj = NULL;
	MUST(sl_kube_get(k, &sl_kube_res_configmaps, ns, "compaction-marker", &obj, err));
	struct sl_kube_event ev = {
	    .object = obj, .type = "Normal", .reason = "AfterGone", .message = "relisted"};
	MUST(sl_kube_record_event(k, rec, &ev, err));
	CHECK(inf_wait(&log, "add compaction-marker.", 10000), "the new Event was not seen: %s",
	      log.text);
	CHECK(sl_kube_informer_size(inf) == before + 1, "cache holds %zu, want %zu",
	      sl_kube_informer_size(inf), before + 1);
	sl_kube_informer_stop(inf);
	sl_kube_informer_stats(inf, &st);
	printf("informer on Events: Gone %llu time(s), %llu lists, %llu watches, then saw the new "
	       "Event\n",
	       (unsigned long long)st.gone, (unsigned long long)st.lists,
	       (unsigned long long)st.watches);
	return 0;
}

/* ---- events ---------------------------------------------------------------- */

static int cmd_events(void)
{
	_cleanup_(sl_kube_freep) struct sl_kube *k = client(NULL);
	_cleanup_(json_decrefp) json_t *cm = configmap("evented", "v", "1");
	_cleanup_(json_decrefp) json_t *obj = NULL;
	MUST(sl_kube_create(k, &sl_kube_res_configmaps, NULL, cm, NULL, &obj, err));
	_cleanup_(sl_kube_recorder_freep) struct sl_kube_recorder *rec =
	    sl_kube_recorder_new("source-controller", "sluice-e2e-host");
	_cleanup_(json_decrefp) json_t *ann =
	    json_pack("{s:s, s:s}", "source.toolkit.fluxcd.io/revision", "latest@sha256:abc",
	              "source.toolkit.fluxcd.io/digest", "sha256:abc");
	struct sl_kube_event ev = {
	    .object = obj,
	    .type = "Normal",
	    .reason = "NewArtifact",
	    .message = "stored artifact with revision 'latest@sha256:abc'",
	    .annotations = ann,
	};
	MUST(sl_kube_record_event(k, rec, &ev, err));
	MUST(sl_kube_record_event(k, rec, &ev, err)); /* counted, not a second Event */
	struct sl_kube_event warn = {
	    .object = obj,
	    .type = "Warning",
	    .reason = "OCIArtifactPullFailed",
	    .message = "failed to pull artifact",
	};
	MUST(sl_kube_record_event(k, rec, &warn, err));
	struct sl_kube_event bad = {.object = obj, .type = "Trace", .reason = "X", .message = ""};
	MUST_FAIL(SL_EINVAL, sl_kube_record_event(k, rec, &bad, err));
	printf("recorded NewArtifact twice and OCIArtifactPullFailed once on ConfigMap %s/evented "
	       "(uid %s)\n",
	       ns, str_at(obj, "metadata", "uid"));
	return 0;
}

/* ---- leases ------------------------------------------------------------------ */

struct race {
	struct sl_kube_lease *lease;
	struct sl_kube *k;
	pthread_barrier_t *go;
	bool held;
	int rc;
};

static void *race_thread(void *arg)
{
	struct race *r = arg;
	struct sl_error err = {0};
	pthread_barrier_wait(r->go);
	r->rc = sl_kube_lease_try(r->k, r->lease, &r->held, &err);
	if (r->rc < 0)
		printf("  race: %s\n", err.msg);
	return NULL;
}

/* Two candidates at once on a new lease: exactly one wins. */
static void lease_race(struct sl_kube *ka, struct sl_kube *kb, int duration)
{
	_cleanup_(sl_kube_lease_freep) struct sl_kube_lease *ra =
	    sl_kube_lease_new(ns, "race", "racer-a", duration);
	_cleanup_(sl_kube_lease_freep) struct sl_kube_lease *rb =
	    sl_kube_lease_new(ns, "race", "racer-b", duration);
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, 2);
	struct race a = {.lease = ra, .k = ka, .go = &go}, b = {.lease = rb, .k = kb, .go = &go};
	pthread_t ta, tb;
	pthread_create(&ta, NULL, race_thread, &a);
	pthread_create(&tb, NULL, race_thread, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&go);
	CHECK(a.rc == 0 && b.rc == 0, "race: errors");
	CHECK(a.held != b.held, "race: a held=%d, b held=%d", a.held, b.held);
	printf("race for a new lease: %s won\n", a.held ? "racer-a" : "racer-b");
}

static int cmd_lease(void)
{
	const int duration = 3;
	_cleanup_(sl_kube_freep) struct sl_kube *ka = client(NULL);
	_cleanup_(sl_kube_freep) struct sl_kube *kb = client(NULL);
	lease_race(ka, kb, duration);

	_cleanup_(sl_kube_lease_freep) struct sl_kube_lease *la =
	    sl_kube_lease_new(ns, "leader", "candidate-a", duration);
	_cleanup_(sl_kube_lease_freep) struct sl_kube_lease *lb =
	    sl_kube_lease_new(ns, "leader", "candidate-b", duration);
	bool held;
	MUST(sl_kube_lease_try(ka, la, &held, err));
	CHECK(held, "a did not acquire a free lease");
	MUST(sl_kube_lease_try(kb, lb, &held, err));
	CHECK(!held, "b acquired a lease a holds");
	CHECK(strcmp(sl_kube_lease_holder(lb), "candidate-a") == 0, "b sees holder %s",
	      sl_kube_lease_holder(lb));
	int64_t b_first_refused = sl_now_ms();
	MUST(sl_kube_lease_try(ka, la, &held, err));
	CHECK(held, "a could not renew");
	b_first_refused = sl_now_ms(); /* the record changed: b's clock restarts */
	MUST(sl_kube_lease_try(kb, lb, &held, err));
	CHECK(!held, "b acquired a lease just renewed");

	/* a stops renewing: b gets it once it has seen the same record for
	 * the lease's duration, not before. */
	int64_t deadline = sl_now_ms() + 20000;
	while (!held) {
		CHECK(sl_now_ms() < deadline, "b never acquired the expired lease");
		struct timespec ts = {0, 200 * 1000000};
		nanosleep(&ts, NULL); /* the retry period of a candidate */
		MUST(sl_kube_lease_try(kb, lb, &held, err));
	}
	int64_t waited = sl_now_ms() - b_first_refused;
	CHECK(waited >= duration * 1000, "b took the lease after %lld ms, before it expired",
	      (long long)waited);
	MUST(sl_kube_lease_try(ka, la, &held, err));
	CHECK(!held && strcmp(sl_kube_lease_holder(la), "candidate-b") == 0,
	      "a still thinks it leads (holder %s)", sl_kube_lease_holder(la));

	/* b releases: a takes it at once. */
	MUST(sl_kube_lease_release(kb, lb, err));
	MUST(sl_kube_lease_try(ka, la, &held, err));
	CHECK(held, "a could not take a released lease");
	_cleanup_(json_decrefp) json_t *lease = NULL;
	MUST(sl_kube_get(ka, &sl_kube_res_leases, ns, "leader", &lease, err));
	json_t *spec = json_object_get(lease, "spec");
	CHECK(json_integer_value(json_object_get(spec, "leaseTransitions")) == 2,
	      "leaseTransitions %lld, want 2",
	      (long long)json_integer_value(json_object_get(spec, "leaseTransitions")));
	CHECK(strcmp(json_string_value(json_object_get(spec, "holderIdentity")), "candidate-a") ==
	          0,
	      "holder");
	const char *renew = json_string_value(json_object_get(spec, "renewTime"));
	CHECK(renew && strlen(renew) == 27, "renewTime %s is not a MicroTime", renew);
	printf("lease: a held, b refused, b took it after %lld ms (duration %d s), released, a "
	       "again; transitions 2, renewTime %s\n",
	       (long long)waited, duration, renew);
	return 0;
}

/* ---- retries, through tests/e2e/kube_flaky_proxy.py ---------------------- */

/* 429 with Retry-After: 1 on the first request of each path: every verb
 * is retried, after the second the server asked for. */
static int cmd_retry_429(void)
{
	_cleanup_(sl_kube_freep) struct sl_kube *k = client(NULL);
	_cleanup_(json_decrefp) json_t *cm = configmap("retry-429", "v", "1");
	int64_t t0 = sl_now_ms();
	MUST(sl_kube_create(k, &sl_kube_res_configmaps, NULL, cm, NULL, NULL, err));
	int64_t waited = sl_now_ms() - t0;
	CHECK(waited >= 900, "the POST was retried after %lld ms, before Retry-After: 1",
	      (long long)waited);
	_cleanup_(json_decrefp) json_t *got = NULL;
	MUST(sl_kube_get(k, &sl_kube_res_configmaps, ns, "retry-429", &got, err));
	printf("429: POST retried after %lld ms (Retry-After: 1), GET retried\n",
	       (long long)waited);
	return 0;
}

/* 503 on the first request of each path: GET and PUT are retried, a
 * POST is not (the server may have acted on it). */
static int cmd_retry_503(void)
{
	_cleanup_(sl_kube_freep) struct sl_kube *k = client(NULL);
	_cleanup_(json_decrefp) json_t *nsobj = NULL;
	MUST(sl_kube_get(k, &sl_kube_res_namespaces, NULL, ns, &nsobj, err));
	_cleanup_(json_decrefp) json_t *cm = configmap("retry-503", "v", "1");
	MUST_FAIL(SL_EHTTP, sl_kube_create(k, &sl_kube_res_configmaps, NULL, cm, NULL, NULL, err));
	CHECK(must_err.http_status == 503, "http_status %d", must_err.http_status);
	_cleanup_(json_decrefp) json_t *created = NULL;
	MUST(sl_kube_create(k, &sl_kube_res_configmaps, NULL, cm, NULL, &created, err));
	json_object_set_new(json_object_get(created, "data"), "v", json_string("2"));
	MUST(sl_kube_update(k, &sl_kube_res_configmaps, created, NULL, NULL, err));
	printf("503: GET and PUT retried, POST not\n");
	return 0;
}

/* The connection closed without an answer: a GET is sent again, a POST
 * is not. Each on a connection of its own: on a reused keep-alive
 * connection libcurl itself re-sends any request once when the server
 * closes it without a byte of answer (it takes that for a stale
 * connection), whatever the verb. */
static int cmd_retry_drop(void)
{
	_cleanup_(sl_kube_freep) struct sl_kube *k1 = client(NULL);
	_cleanup_(json_decrefp) json_t *nsobj = NULL;
	MUST(sl_kube_get(k1, &sl_kube_res_namespaces, NULL, ns, &nsobj, err));
	_cleanup_(sl_kube_freep) struct sl_kube *k2 = client(NULL);
	_cleanup_(json_decrefp) json_t *cm = configmap("retry-drop", "v", "1");
	MUST_FAIL(SL_ENET, sl_kube_create(k2, &sl_kube_res_configmaps, NULL, cm, NULL, NULL, err));
	MUST(sl_kube_create(k2, &sl_kube_res_configmaps, NULL, cm, NULL, NULL, err));
	_cleanup_(sl_kube_freep) struct sl_kube *k3 = client(NULL);
	MUST(sl_kube_delete(k3, &sl_kube_res_configmaps, ns, "retry-drop", NULL, err));
	printf("dropped connections: GET and DELETE retried, POST not\n");
	return 0;
}

/* ---- errors -------------------------------------------------------------------- */

static int cmd_errors(void)
{
	_cleanup_(sl_kube_freep) struct sl_kube *k = client(NULL);
	/* Forbidden by RBAC? The admin may do anything: use an unknown
	 * namespace for a create (404 on the namespace) and a bad object. */
	_cleanup_(json_decrefp) json_t *cm = configmap("x", "v", "1");
	json_object_del(json_object_get(cm, "metadata"), "namespace");
	MUST_FAIL(SL_ENOTFOUND, sl_kube_create(k, &sl_kube_res_configmaps, "no-such-namespace-e2e",
	                                       cm, NULL, NULL, err));
	_cleanup_(json_decrefp) json_t *bad = configmap("Not_A_Valid_Name", "v", "1");
	MUST_FAIL(SL_KUBE_EINVALID,
	          sl_kube_create(k, &sl_kube_res_configmaps, NULL, bad, NULL, NULL, err));
	return 0;
}

int main(int argc, char **argv)
{
	struct sl_kube_config_opts opts = {0};
	int i = 1;
	for (; i + 1 < argc && sl_startswith(argv[i], "--"); i += 2) {
		if (strcmp(argv[i], "--kubeconfig") == 0)
			opts.kubeconfig = argv[i + 1];
		else if (strcmp(argv[i], "--in-cluster") == 0)
			opts.in_cluster = true, opts.in_cluster_root = argv[i + 1];
		else
			die("unknown flag %s", argv[i]);
	}
	if (argc - i != 2)
		die("usage: kube_client [--kubeconfig PATH] [--in-cluster ROOT] COMMAND NAMESPACE");
	const char *cmd = argv[i];
	ns = argv[i + 1];
	MUST(sl_kube_config_load(&opts, &cfg, err));
	static const struct {
		const char *name;
		int (*fn)(void);
	} cmds[] = {
	    {"connect", cmd_connect},
	    {"pagination", cmd_pagination},
	    {"crud", cmd_crud},
	    {"status", cmd_status},
	    {"watch", cmd_watch},
	    {"gone", cmd_gone},
	    {"informer", cmd_informer},
	    {"informer-gone", cmd_informer_gone},
	    {"events", cmd_events},
	    {"lease", cmd_lease},
	    {"retry-429", cmd_retry_429},
	    {"retry-503", cmd_retry_503},
	    {"retry-drop", cmd_retry_drop},
	    {"errors", cmd_errors},
	};
	int rc = -1;
	for (size_t c = 0; c < SL_ARRAY_SIZE(cmds); c++)
		if (strcmp(cmd, cmds[c].name) == 0)
			rc = cmds[c].fn();
	if (rc < 0)
		die("unknown command %s", cmd);
	sl_kube_config_free(cfg);
	return rc;
}
