/* `sluice controller`: Flux's source-controller for OCIRepository and
 * kustomize-controller for Kustomization, in and out of the cluster, with
 * Flux's flags. Per kind an informer feeds a rate-limited work queue and a
 * fixed pool of workers reconciles; a new OCIRepository revision queues its
 * Kustomizations at once; artifacts, metrics and health are served over
 * HTTP; SIGTERM/SIGINT stop it gracefully. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "controller/httpd.h"
#include "controller/kustomization.h"
#include "controller/ocirepository.h"

static struct {
	char *storage_path, *storage_addr, *storage_adv_addr, *metrics_addr, *health_addr;
	char *concurrent, *log_level, *log_encoding, *watch_label_selector;
	char *retention_records, *jitter, *max_artifact_mib;
	int64_t retention_ttl_ms, min_retry_ms, max_retry_ms, graceful_ms, requeue_dependency_ms;
	bool watch_all_namespaces, leader_election;
	char *events_addr, *leader_id;
} o;

static struct flag flags[] = {
    {"storage-path", 0, FLAG_STRING, &o.storage_path, "/data",
     "the local storage path for artifacts"},
    {"storage-addr", 0, FLAG_STRING, &o.storage_addr, ":9090",
     "the address the static file server binds to"},
    {"storage-adv-addr", 0, FLAG_STRING, &o.storage_adv_addr, "",
     "the advertised address of the static file server"},
    {"metrics-addr", 0, FLAG_STRING, &o.metrics_addr, ":8080",
     "the address the metric endpoint binds to"},
    {"health-addr", 0, FLAG_STRING, &o.health_addr, ":9440",
     "the address the health endpoint binds to"},
    {"concurrent", 0, FLAG_STRING, &o.concurrent, "2", "the number of concurrent reconciles"},
    {"log-level", 0, FLAG_STRING, &o.log_level, "info",
     "log verbosity level: debug, info or error"},
    {"log-encoding", 0, FLAG_STRING, &o.log_encoding, "json", "log encoding: json or console"},
    {"watch-all-namespaces", 0, FLAG_BOOL, &o.watch_all_namespaces, "true",
     "watch for resources in all namespaces; if false, only in RUNTIME_NAMESPACE"},
    {"watch-label-selector", 0, FLAG_STRING, &o.watch_label_selector, "",
     "watch only resources matching this label selector (sharding)"},
    {"enable-leader-election", 0, FLAG_BOOL, &o.leader_election, "false",
     "elect a leader with a Lease so that only one replica reconciles"},
    {"leader-election-id", 0, FLAG_STRING, &o.leader_id, "source-controller-leader-election",
     "the name of the Lease"},
    {"artifact-retention-ttl", 0, FLAG_DURATION, &o.retention_ttl_ms, "60s",
     "how long an artifact other than the current one is kept"},
    {"artifact-max-size", 0, FLAG_STRING, &o.max_artifact_mib, "2048",
     "the largest artifact layer, and the most it may extract to, in MiB (0: no limit)"},
    {"artifact-retention-records", 0, FLAG_STRING, &o.retention_records, "2",
     "how many artifacts (the current one included) are kept per object"},
    {"min-retry-delay", 0, FLAG_DURATION, &o.min_retry_ms, "750ms",
     "the first delay before a failed reconcile is retried"},
    {"max-retry-delay", 0, FLAG_DURATION, &o.max_retry_ms, "15m",
     "the longest delay before a failed reconcile is retried"},
    {"interval-jitter-percentage", 0, FLAG_STRING, &o.jitter, "5",
     "the percentage of jitter applied to each object's interval"},
    {"graceful-shutdown-timeout", 0, FLAG_DURATION, &o.graceful_ms, "600s",
     "how long running reconciles may take to finish on SIGTERM"},
    {"requeue-dependency", 0, FLAG_DURATION, &o.requeue_dependency_ms, "30s",
     "how long a Kustomization waits before retrying when its source or a dependency is not "
     "ready"},
    {"events-addr", 0, FLAG_STRING, &o.events_addr, "",
     "notification-controller's address (accepted; not used yet)"},
    {0},
};

/* ---- logging: controller-runtime's JSON lines, or console ------------- */

static bool log_json = true, log_debug = false;
/* Set on SIGTERM/SIGINT and when leadership is lost: long waits end. */
static atomic_bool stopping;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void clog_(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void clog_(const char *level, const char *fmt, ...)
{
	if (strcmp(level, "debug") == 0 && !log_debug)
		return;
	char msg[SL_ERROR_MAX + 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	char ts[32];
	sl_time_rfc3339_now(ts);
	pthread_mutex_lock(&log_lock);
	if (log_json) {
		struct sl_buf b;
		sl_buf_init(&b, 0);
		sl_buf_printf(&b, "{\"level\":\"%s\",\"ts\":\"%s\",\"msg\":", level, ts);
		sl_json_append_go_string(&b, msg);
		sl_buf_append(&b, "}\n", 2);
		fwrite(b.data, 1, b.len, stderr);
		sl_buf_free(&b);
	} else {
		fprintf(stderr, "%s\t%s\t%s\n", ts, level, msg);
	}
	pthread_mutex_unlock(&log_lock);
}

/* ---- the informer feeds the queue ------------------------------------- */

struct app {
	struct sl_workqueue *queue;
	struct sl_ocirepo_reconciler rc;
	struct sl_workqueue *ks_queue;
	struct sl_ks_reconciler ks;
	struct sl_kube_config *kcfg;
};

static char *key_of(const json_t *obj)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	return ns && name ? sl_asprintf("%s/%s", ns, name) : NULL;
}

static void queue_object(struct sl_workqueue *q, const json_t *obj)
{
	_cleanup_free_ char *key = key_of(obj);
	if (key)
		sl_workqueue_add(q, key);
}

/* Flux's predicates (a new generation, a reconcile request), plus
 * deletion: a finalizer must run. */
static bool update_wanted(const json_t *old_obj, const json_t *new_obj)
{
	bool deleting =
	    json_object_get(json_object_get(new_obj, "metadata"), "deletionTimestamp") &&
	    !json_object_get(json_object_get(old_obj, "metadata"), "deletionTimestamp");
	return deleting || sl_reconcile_update_wanted(old_obj, new_obj);
}

static void on_add(void *userdata, json_t *obj)
{
	struct app *app = userdata;
	queue_object(app->queue, obj);
}

static void on_update(void *userdata, json_t *old_obj, json_t *new_obj)
{
	struct app *app = userdata;
	if (update_wanted(old_obj, new_obj))
		queue_object(app->queue, new_obj);
	/* A new artifact revision: its Kustomizations at once, not at their
	 * interval (kustomize-controller's source watch). */
	if (app->ks.informer && sl_ks_source_revision_changed(old_obj, new_obj)) {
		const json_t *meta = json_object_get(new_obj, "metadata");
		const char *ns = json_string_value(json_object_get(meta, "namespace"));
		const char *name = json_string_value(json_object_get(meta, "name"));
		struct sl_strv keys = {0};
		if (ns && name)
			sl_ks_keys_for_source(app->ks.informer, ns, name, &keys);
		const char *revision = json_string_value(json_object_get(
		    json_object_get(json_object_get(new_obj, "status"), "artifact"), "revision"));
		for (size_t i = 0; i < keys.len; i++)
			if (!sl_ks_at_revision(app->ks.informer, keys.items[i], revision))
				sl_workqueue_add(app->ks_queue, keys.items[i]);
		sl_strv_free(&keys);
	}
}

static void on_informer_error(void *userdata, const struct sl_error *err)
{
	(void)userdata;
	clog_("error", "watching OCIRepositories: %s", err->msg);
}

static void on_ks_add(void *userdata, json_t *obj)
{
	struct app *app = userdata;
	queue_object(app->ks_queue, obj);
}

static void on_ks_update(void *userdata, json_t *old_obj, json_t *new_obj)
{
	struct app *app = userdata;
	if (update_wanted(old_obj, new_obj))
		queue_object(app->ks_queue, new_obj);
}

static void on_ks_informer_error(void *userdata, const struct sl_error *err)
{
	(void)userdata;
	clog_("error", "watching Kustomizations: %s", err->msg);
}

/* ---- workers ---------------------------------------------------------- */

static int worker_init(void *ctx, unsigned index, void **ret, struct sl_error *err)
{
	(void)index;
	struct app *app = ctx;
	struct sl_ocirepo_worker *w = sl_xcalloc(1, sizeof(*w));
	w->rc = &app->rc;
	struct sl_kube_client_opts opts = {.field_manager = SL_SOURCE_CONTROLLER};
	int r = sl_kube_new(app->kcfg, &opts, &w->kube, err);
	if (r < 0) {
		free(w);
		return r;
	}
	*ret = w;
	return 0;
}

static void worker_fini(void *worker_ctx)
{
	struct sl_ocirepo_worker *w = worker_ctx;
	sl_ocirepo_worker_clear(w);
	sl_kube_free(w->kube);
	free(w);
}

static void on_reconcile_error(void *ctx, const char *key, const struct sl_error *err,
                               int64_t retry_ms)
{
	(void)ctx;
	clog_("error", "Reconciler error: OCIRepository %s: %s (retrying in %lld ms)", key,
	      err->msg, (long long)retry_ms);
}

static int ks_worker_init(void *ctx, unsigned index, void **ret, struct sl_error *err)
{
	(void)index;
	struct app *app = ctx;
	struct sl_ks_worker *w = sl_xcalloc(1, sizeof(*w));
	w->rc = &app->ks;
	struct sl_kube_client_opts opts = {.field_manager = SL_KUSTOMIZE_CONTROLLER};
	int r = sl_kube_new(app->kcfg, &opts, &w->kube, err);
	if (r < 0) {
		free(w);
		return r;
	}
	*ret = w;
	return 0;
}

static void ks_worker_fini(void *worker_ctx)
{
	struct sl_ks_worker *w = worker_ctx;
	sl_kube_free(w->kube);
	sl_kube_free(w->kube_as);
	free(w);
}

static void on_ks_reconcile_error(void *ctx, const char *key, const struct sl_error *err,
                                  int64_t retry_ms)
{
	(void)ctx;
	clog_("error", "Reconciler error: Kustomization %s: %s (retrying in %lld ms)", key,
	      err->msg, (long long)retry_ms);
}

/* ---- work-queue figures on /metrics ------------------------------------ */

/* controller-runtime's workqueue_* and controller_runtime_* series, copied
 * from the queue's and the pool's counters on every tick of the main loop
 * (counters advance by the delta since the last tick). */
struct queue_metrics {
	struct sl_metric *depth, *adds, *retries, *unfinished, *longest;
	struct sl_metric *reconciles, *active, *max_workers;
};

/* One controller's series: its name label and the counters last copied. */
struct queue_counters {
	const char *name; /* "ocirepository", "kustomization" */
	uint64_t last_adds, last_retries, last_success, last_error, last_requeue, last_after;
};

static int queue_metrics_register(struct sl_metrics *m, struct queue_metrics *qm,
                                  struct sl_error *err)
{
	static const char *const name[] = {"name"};
	static const char *const ctrl[] = {"controller"};
	static const char *const ctrl_result[] = {"controller", "result"};
	int r;
	if ((r = sl_metrics_gauge(m, "workqueue_depth", "Current depth of workqueue", name, 1,
	                          &qm->depth, err)) < 0 ||
	    (r = sl_metrics_counter(m, "workqueue_adds_total",
	                            "Total number of adds handled by workqueue", name, 1, &qm->adds,
	                            err)) < 0 ||
	    (r = sl_metrics_counter(m, "workqueue_retries_total",
	                            "Total number of retries handled by workqueue", name, 1,
	                            &qm->retries, err)) < 0 ||
	    (r = sl_metrics_gauge(m, "workqueue_unfinished_work_seconds",
	                          "How many seconds of work has been done that is in progress",
	                          name, 1, &qm->unfinished, err)) < 0 ||
	    (r = sl_metrics_gauge(m, "workqueue_longest_running_processor_seconds",
	                          "How many seconds has the longest running processor been running",
	                          name, 1, &qm->longest, err)) < 0 ||
	    (r = sl_metrics_counter(m, "controller_runtime_reconcile_total",
	                            "Total number of reconciliations per controller", ctrl_result,
	                            2, &qm->reconciles, err)) < 0 ||
	    (r = sl_metrics_gauge(m, "controller_runtime_active_workers",
	                          "Number of currently used workers per controller", ctrl, 1,
	                          &qm->active, err)) < 0 ||
	    (r = sl_metrics_gauge(m, "controller_runtime_max_concurrent_reconciles",
	                          "Maximum number of concurrent reconciles per controller", ctrl, 1,
	                          &qm->max_workers, err)) < 0)
		return r;
	return 0;
}

static void counter_to(struct sl_metric *f, const char *const *labels, uint64_t now, uint64_t *last)
{
	if (now > *last)
		sl_metric_add(f, labels, (double)(now - *last));
	*last = now;
}

static void queue_metrics_update(struct queue_metrics *qm, struct queue_counters *qc,
                                 struct sl_workqueue *q, struct sl_worker_pool *pool)
{
	struct sl_workqueue_stats qs;
	sl_workqueue_stats(q, &qs);
	const char *const name[] = {qc->name};
	sl_metric_set(qm->depth, name, (double)qs.depth);
	sl_metric_set(qm->unfinished, name, qs.unfinished_work_seconds);
	sl_metric_set(qm->longest, name, qs.longest_running_processor_seconds);
	counter_to(qm->adds, name, qs.adds_total, &qc->last_adds);
	counter_to(qm->retries, name, qs.retries_total, &qc->last_retries);
	struct sl_worker_pool_stats ps;
	sl_worker_pool_stats(pool, &ps);
	sl_metric_set(qm->active, name, ps.active);
	sl_metric_set(qm->max_workers, name, ps.workers);
	const char *const success[] = {qc->name, "success"};
	const char *const error[] = {qc->name, "error"};
	const char *const requeue[] = {qc->name, "requeue"};
	const char *const after[] = {qc->name, "requeue_after"};
	counter_to(qm->reconciles, success, ps.success, &qc->last_success);
	counter_to(qm->reconciles, error, ps.error, &qc->last_error);
	counter_to(qm->reconciles, requeue, ps.requeue, &qc->last_requeue);
	counter_to(qm->reconciles, after, ps.requeue_after, &qc->last_after);
}

/* Gives freed heap back to the system once a burst of reconciles is over:
 * glibc keeps what the workers freed in their arenas, and the cache's
 * allocations pin the tops of them, so without a trim the RSS of the
 * busiest moment stays for good. Called every tick; trims on the first
 * quiet tick after work. */
struct idle_trim {
	uint64_t last_total;
	bool dirty;
};

static void trim_when_idle(struct idle_trim *t, struct sl_worker_pool *const *pools, size_t n)
{
	uint64_t total = 0;
	unsigned active = 0;
	for (size_t i = 0; i < n; i++) {
		if (!pools[i])
			continue;
		struct sl_worker_pool_stats ps;
		sl_worker_pool_stats(pools[i], &ps);
		total += ps.success + ps.error + ps.requeue + ps.requeue_after;
		active += ps.active;
	}
	if (total != t->last_total) {
		t->last_total = total;
		t->dirty = true;
	} else if (t->dirty && active == 0) {
		malloc_trim(0);
		t->dirty = false;
	}
}

/* ---- the command ------------------------------------------------------ */

static int parse_uint(const char *flag, const char *text, unsigned max, unsigned *ret,
                      struct sl_error *err)
{
	char *end;
	unsigned long v = strtoul(text, &end, 10);
	if (!*text || *end || v > max)
		return sl_error_set(err, SL_EINVAL, "invalid argument \"%s\" for \"--%s\" flag",
		                    text, flag);
	*ret = (unsigned)v;
	return 0;
}

/* Waits for a signal or the timeout; true when asked to stop. */
static bool wait_signal(const sigset_t *set, int64_t timeout_ms)
{
	struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000};
	int sig = sigtimedwait(set, NULL, &ts);
	return sig == SIGTERM || sig == SIGINT;
}

static int run(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len)
		return sl_error_set(err, SL_EINVAL,
		                    "unknown command \"%s\" for \"sluice controller\"",
		                    args->items[0]);
	if (strcmp(o.log_encoding, "json") != 0 && strcmp(o.log_encoding, "console") != 0)
		return sl_error_set(err, SL_EINVAL, "--log-encoding must be json or console");
	log_json = strcmp(o.log_encoding, "json") == 0;
	log_debug = strcmp(o.log_level, "debug") == 0 || strcmp(o.log_level, "trace") == 0;
	unsigned concurrent = 0, records = 0, jitter = 0, max_mib = 0;
	int r;
	if ((r = parse_uint("concurrent", o.concurrent, 1024, &concurrent, err)) < 0 ||
	    (r = parse_uint("artifact-retention-records", o.retention_records, 1000, &records,
	                    err)) < 0 ||
	    (r = parse_uint("interval-jitter-percentage", o.jitter, 99, &jitter, err)) < 0 ||
	    (r = parse_uint("artifact-max-size", o.max_artifact_mib, 1u << 20, &max_mib, err)) < 0)
		return r;
	if (concurrent == 0)
		return sl_error_set(err, SL_EINVAL, "--concurrent must be at least 1");

	/* Signals go to this thread only: every thread made later inherits
	 * the mask. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	const char *runtime_ns = getenv("RUNTIME_NAMESPACE");
	struct sl_kube_config_opts kopts = {
	    .kubeconfig = g_flags.kubeconfig && *g_flags.kubeconfig ? g_flags.kubeconfig : NULL,
	    .context = g_flags.context && *g_flags.context ? g_flags.context : NULL,
	};
	struct app app = {0};
	_cleanup_(sl_kube_config_freep) struct sl_kube_config *kcfg = NULL;
	if ((r = sl_kube_config_load(&kopts, &kcfg, err)) < 0)
		return r;
	app.kcfg = kcfg;
	const char *own_ns = runtime_ns && *runtime_ns ? runtime_ns : kcfg->namespace;

	_cleanup_free_ char *adv = NULL;
	if (!*o.storage_adv_addr &&
	    (r = sl_storage_default_adv_addr(o.storage_addr, &adv, err)) < 0)
		return r;
	struct sl_storage_opts sopts = {
	    .path = o.storage_path,
	    .adv_addr = *o.storage_adv_addr ? o.storage_adv_addr : adv,
	    .retention_ttl_ms = o.retention_ttl_ms,
	    .retention_records = records,
	};
	_cleanup_(sl_storage_freep) struct sl_storage *storage = NULL;
	if ((r = sl_storage_new(&sopts, &storage, err)) < 0)
		return sl_error_wrap(err, r, "--storage-path %s", o.storage_path);

	_cleanup_(sl_metrics_freep) struct sl_metrics *metrics = sl_metrics_new();
	struct sl_gotk_metrics gotk;
	struct queue_metrics qm = {0};
	struct queue_counters oci_counters = {.name = "ocirepository"};
	struct queue_counters ks_counters = {.name = "kustomization"};
	if ((r = sl_gotk_metrics_register(metrics, &gotk, err)) < 0 ||
	    (r = queue_metrics_register(metrics, &qm, err)) < 0)
		return r;
	_cleanup_(sl_httpd_stopp) struct sl_httpd *artifacts = NULL, *metrics_srv = NULL,
	                                          *health = NULL;
	if ((r = sl_httpd_start_health(o.health_addr, NULL, &health, err)) < 0 ||
	    (r = sl_httpd_start_metrics(o.metrics_addr, metrics, NULL, &metrics_srv, err)) < 0 ||
	    (r = sl_httpd_start_artifacts(o.storage_addr, storage, NULL, &artifacts, err)) < 0)
		return r;

	struct sl_clock *clock = sl_clock_real(); /* static: never freed */
	struct sl_workqueue_config qcfg = {
	    .name = "ocirepository",
	    .min_retry_delay_ms = o.min_retry_ms,
	    .max_retry_delay_ms = o.max_retry_ms,
	};
	_cleanup_(sl_workqueue_freep) struct sl_workqueue *queue = NULL;
	if ((r = sl_workqueue_new(&qcfg, &queue, err)) < 0)
		return r;
	app.queue = queue;
	_cleanup_(sl_kube_recorder_freep) struct sl_kube_recorder *recorder =
	    sl_kube_recorder_new(SL_SOURCE_CONTROLLER, getenv("HOSTNAME"));
	struct sl_workqueue_config ks_qcfg = {
	    .name = "kustomization",
	    .min_retry_delay_ms = o.min_retry_ms,
	    .max_retry_delay_ms = o.max_retry_ms,
	};
	_cleanup_(sl_workqueue_freep) struct sl_workqueue *ks_queue = NULL;
	if ((r = sl_workqueue_new(&ks_qcfg, &ks_queue, err)) < 0)
		return r;
	app.ks_queue = ks_queue;
	_cleanup_(sl_kube_recorder_freep) struct sl_kube_recorder *ks_recorder =
	    sl_kube_recorder_new(SL_KUSTOMIZE_CONTROLLER, getenv("HOSTNAME"));
	app.rc = (struct sl_ocirepo_reconciler){
	    .storage = storage,
	    .recorder = recorder,
	    .gotk = &gotk,
	    .clock = clock,
	    .jitter_percent = (int)jitter,
	    .max_layer_bytes = (uint64_t)max_mib << 20,
	};

	/* Leader election before anything reconciles. */
	_cleanup_(sl_kube_freep) struct sl_kube *kube = NULL;
	struct sl_kube_client_opts copts = {.field_manager = SL_SOURCE_CONTROLLER};
	if ((r = sl_kube_new(kcfg, &copts, &kube, err)) < 0)
		return r;
	_cleanup_(sl_kube_lease_freep) struct sl_kube_lease *lease = NULL;
	if (o.leader_election) {
		char host[256] = "sluice";
		gethostname(host, sizeof(host) - 1);
		_cleanup_free_ char *identity = sl_asprintf("%s_%d", host, (int)getpid());
		lease = sl_kube_lease_new(own_ns, o.leader_id, identity, 15);
		clog_("info", "attempting to acquire leader lease %s/%s...", own_ns, o.leader_id);
		for (;;) {
			bool held = false;
			struct sl_error lerr = {0};
			if (sl_kube_lease_try(kube, lease, &held, &lerr) < 0)
				clog_("error", "leader election: %s", lerr.msg);
			if (held)
				break;
			if (wait_signal(&set, 2000))
				return 0;
		}
		clog_("info", "successfully acquired lease %s/%s", own_ns, o.leader_id);
	}

	struct sl_kube_informer_opts iopts = {
	    .resource = sl_kube_res_ocirepositories,
	    .namespace = o.watch_all_namespaces ? NULL : own_ns,
	    .label_selector = *o.watch_label_selector ? o.watch_label_selector : NULL,
	};
	struct sl_kube_informer_handlers handlers = {
	    .on_add = on_add,
	    .on_update = on_update,
	    .on_error = on_informer_error,
	    .userdata = &app,
	};
	_cleanup_(sl_kube_informer_freep) struct sl_kube_informer *informer = NULL;
	if ((r = sl_kube_informer_new(kcfg, &iopts, &handlers, &informer, err)) < 0)
		return r;
	app.rc.informer = informer;

	/* Kustomizations: their own informer, queue and pool, reading the
	 * OCIRepositories' informer and storage of this same process. */
	app.ks = (struct sl_ks_reconciler){
	    .sources = informer,
	    .storage = storage,
	    .recorder = ks_recorder,
	    .gotk = &gotk,
	    .clock = clock,
	    .jitter_percent = (int)jitter,
	    .requeue_dependency_ms = o.requeue_dependency_ms,
	    .max_artifact_bytes = (uint64_t)max_mib << 20,
	    .stop = &stopping,
	};
	struct sl_kube_informer_opts ks_iopts = {
	    .resource = sl_kube_res_kustomizations,
	    .namespace = o.watch_all_namespaces ? NULL : own_ns,
	    .label_selector = *o.watch_label_selector ? o.watch_label_selector : NULL,
	};
	struct sl_kube_informer_handlers ks_handlers = {
	    .on_add = on_ks_add,
	    .on_update = on_ks_update,
	    .on_error = on_ks_informer_error,
	    .userdata = &app,
	};
	_cleanup_(sl_kube_informer_freep) struct sl_kube_informer *ks_informer = NULL;
	if ((r = sl_kube_informer_new(kcfg, &ks_iopts, &ks_handlers, &ks_informer, err)) < 0)
		return r;
	/* Everything the OCIRepository informer's on_update reads is in place
	 * before either informer runs. */
	app.ks.informer = ks_informer;
	if ((r = sl_kube_informer_start(ks_informer, err)) < 0 ||
	    (r = sl_kube_informer_start(informer, err)) < 0)
		return r;
	struct sl_worker_pool_config ks_pcfg = {
	    .name = "ks",
	    .workers = concurrent,
	    .stack_size = SL_KS_WORKER_STACK,
	    .reconcile = sl_ks_reconcile,
	    .ctx = &app,
	    .worker_init = ks_worker_init,
	    .worker_fini = ks_worker_fini,
	    .on_error = on_ks_reconcile_error,
	};
	/* Started once both caches are filled: a Kustomization reconciled
	 * against an empty source cache would fail and wait a retryInterval. */
	_cleanup_(sl_worker_pool_freep) struct sl_worker_pool *ks_pool = NULL;

	struct sl_worker_pool_config pcfg = {
	    .name = "ocirepo",
	    .workers = concurrent,
	    .reconcile = sl_ocirepo_reconcile,
	    .ctx = &app,
	    .worker_init = worker_init,
	    .worker_fini = worker_fini,
	    .on_error = on_reconcile_error,
	};
	_cleanup_(sl_worker_pool_freep) struct sl_worker_pool *pool = NULL;
	if ((r = sl_worker_pool_start(queue, &pcfg, &pool, err)) < 0)
		return r;
	clog_("info", "Starting workers: controller ocirepository, worker count %u", concurrent);

	bool synced = false;
	int64_t renew_failed_since = 0;
	struct idle_trim trim = {0};
	while (!wait_signal(&set, 2000)) {
		queue_metrics_update(&qm, &oci_counters, queue, pool);
		if (ks_pool)
			queue_metrics_update(&qm, &ks_counters, ks_queue, ks_pool);
		struct sl_worker_pool *const pools[] = {pool, ks_pool};
		trim_when_idle(&trim, pools, SL_ARRAY_SIZE(pools));
		if (!synced && sl_kube_informer_wait_synced(informer, 0)) {
			synced = true;
			sl_httpd_set_ready(health, true);
		}
		if (synced && !ks_pool && sl_kube_informer_wait_synced(ks_informer, 0)) {
			struct sl_error perr = {0};
			if (sl_worker_pool_start(ks_queue, &ks_pcfg, &ks_pool, &perr) < 0)
				return sl_error_set(err, perr.code, "%s", perr.msg);
			clog_("info", "Starting workers: controller kustomization, worker count %u",
			      concurrent);
		}
		if (!lease)
			continue;
		bool held = false;
		struct sl_error lerr = {0};
		if (sl_kube_lease_try(kube, lease, &held, &lerr) == 0 && held) {
			renew_failed_since = 0;
			continue;
		}
		if (!renew_failed_since)
			renew_failed_since = sl_now_ms();
		/* controller-runtime's renew deadline: leadership lost, exit. */
		if (sl_now_ms() - renew_failed_since > 10000) {
			clog_("error", "leader election lost: %s",
			      lerr.msg[0] ? lerr.msg : "lease taken");
			/* Stop applying at once: another replica leads now. The
			 * pools are joined on the way out. */
			atomic_store(&stopping, true);
			sl_workqueue_shutdown(ks_queue);
			sl_workqueue_shutdown(queue);
			return sl_error_set(err, SL_ENET, "leader election lost");
		}
	}
	clog_("info", "Stopping and waiting for workers");
	sl_httpd_set_ready(health, false);
	/* No new work for either controller, and long waits end, before
	 * either pool is waited for. */
	atomic_store(&stopping, true);
	sl_workqueue_shutdown(ks_queue);
	sl_workqueue_shutdown(queue);
	struct sl_error serr = {0};
	int64_t deadline = sl_clock_now_ns(clock) + o.graceful_ms * 1000000;
	if (sl_worker_pool_stop(pool, deadline, &serr) < 0)
		clog_("error", "%s", serr.msg);
	if (ks_pool && sl_worker_pool_stop(ks_pool, deadline, &serr) < 0)
		clog_("error", "%s", serr.msg);
	sl_kube_informer_stop(ks_informer);
	sl_kube_informer_stop(informer);
	if (lease)
		sl_kube_lease_release(kube, lease, &serr);
	clog_("info", "Stopped");
	return 0;
}

int cmd_controller(int argc, char **argv, struct sl_error *err)
{
	return cli_run("controller", NULL, flags, argc, argv, run, err);
}
