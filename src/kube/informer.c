/* The informer: list, then watch from the list's resourceVersion, keeping
 * the store in step; watch again from the last event when the server ends
 * the stream; relist (and diff) on Gone or a dropped stream. One thread,
 * one client. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "kube/kube_internal.h"

#define DEFAULT_MIN_BACKOFF_MS 800
#define DEFAULT_MAX_BACKOFF_MS (30 * 1000)
/* Enough for libcurl, OpenSSL and jansson's recursion on deep objects;
 * the default 8 MiB only costs address space, but say what we need. */
#define INFORMER_STACK_SIZE (1024 * 1024)

struct sl_kube_informer {
	struct sl_kube_config *cfg;
	struct sl_kube_resource res;
	char *ns;
	char *label_selector;
	char *field_selector;
	unsigned page_size;
	int watch_timeout_seconds;
	int64_t min_backoff_ms, max_backoff_ms;
	struct sl_kube_informer_handlers h;

	struct kube_store store;
	atomic_bool stop;
	pthread_t thread;
	bool started;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool synced;

	_Atomic uint64_t lists, watches, gone, errors;
	char *rv; /* the informer thread's: where the next watch starts */
};

static char *dup_nonempty(const char *s)
{
	return s && *s ? sl_strdup(s) : NULL;
}

int sl_kube_informer_new(const struct sl_kube_config *cfg, const struct sl_kube_informer_opts *opts,
                         const struct sl_kube_informer_handlers *handlers,
                         struct sl_kube_informer **ret, struct sl_error *err)
{
	if (!cfg || !opts || !*opts->resource.resource || !*opts->resource.version)
		return sl_error_set(err, SL_EINVAL, "informer: no configuration or resource");
	struct sl_kube_informer *inf = sl_xcalloc(1, sizeof(*inf));
	inf->cfg = sl_kube_config_dup(cfg);
	inf->res = opts->resource;
	inf->ns = opts->resource.namespaced ? dup_nonempty(opts->namespace) : NULL;
	inf->label_selector = dup_nonempty(opts->label_selector);
	inf->field_selector = dup_nonempty(opts->field_selector);
	inf->page_size = opts->page_size;
	inf->watch_timeout_seconds = opts->watch_timeout_seconds;
	inf->min_backoff_ms =
	    opts->min_backoff_ms > 0 ? opts->min_backoff_ms : DEFAULT_MIN_BACKOFF_MS;
	inf->max_backoff_ms =
	    opts->max_backoff_ms > 0 ? opts->max_backoff_ms : DEFAULT_MAX_BACKOFF_MS;
	if (inf->max_backoff_ms < inf->min_backoff_ms)
		inf->max_backoff_ms = inf->min_backoff_ms;
	if (handlers)
		inf->h = *handlers;
	kube_store_init(&inf->store);
	atomic_init(&inf->stop, false);
	pthread_mutex_init(&inf->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&inf->cv, &ca);
	pthread_condattr_destroy(&ca);
	*ret = inf;
	return 0;
}

struct sl_kube_informer *sl_kube_informer_free(struct sl_kube_informer *inf)
{
	if (!inf)
		return NULL;
	sl_kube_informer_stop(inf);
	kube_store_destroy(&inf->store);
	pthread_mutex_destroy(&inf->mu);
	pthread_cond_destroy(&inf->cv);
	sl_kube_config_free(inf->cfg);
	free(inf->ns);
	free(inf->label_selector);
	free(inf->field_selector);
	free(inf->rv);
	free(inf);
	return NULL;
}

/* ---- the loop ------------------------------------------------------------ */

static void report(struct sl_kube_informer *inf, const struct sl_error *err)
{
	atomic_fetch_add(&inf->errors, 1);
	if (inf->h.on_error)
		inf->h.on_error(inf->h.userdata, err);
}

static void set_rv(struct sl_kube_informer *inf, const char *rv)
{
	free(inf->rv);
	inf->rv = sl_strdup(rv);
}

struct relist_pages {
	struct kube_store *store;
	struct kube_store_relist rl;
};

static void relist_pages_clear(struct relist_pages *rp)
{
	kube_store_relist_clear(&rp->rl);
}

static int relist_page(void *userdata, json_t *items, bool first, struct sl_error *err)
{
	(void)err;
	struct relist_pages *rp = userdata;
	if (first)
		kube_store_relist_begin(&rp->rl);
	kube_store_relist_add(rp->store, &rp->rl, items);
	return 0;
}

/* Page by page into the relist's texts, so that the list's trees are never
 * all alive at once; the cache only changes, in one swap, once the last
 * page is in. A failed page leaves it as it was, for the next try. */
static int relist(struct sl_kube_informer *inf, struct sl_kube *k, struct sl_error *err)
{
	struct sl_kube_list_opts lo = {
	    .label_selector = inf->label_selector,
	    .field_selector = inf->field_selector,
	    .limit = inf->page_size ? inf->page_size : SL_KUBE_INFORMER_PAGE_SIZE,
	};
	_cleanup_(relist_pages_clear) struct relist_pages rp = {.store = &inf->store};
	_cleanup_free_ char *rv = NULL;
	int r = sl_kube_list_pages(k, &inf->res, inf->ns, &lo, relist_page, &rp, &rv, err);
	if (r < 0)
		return r;
	kube_store_relist_commit(&inf->store, &rp.rl, &inf->h);
	set_rv(inf, rv);
	atomic_fetch_add(&inf->lists, 1);
	pthread_mutex_lock(&inf->mu);
	inf->synced = true;
	pthread_cond_broadcast(&inf->cv);
	pthread_mutex_unlock(&inf->mu);
	return 0;
}

static int on_event(void *userdata, const struct sl_kube_watch_event *ev, struct sl_error *err)
{
	struct sl_kube_informer *inf = userdata;
	switch (ev->type) {
	case SL_KUBE_ADDED:
	case SL_KUBE_MODIFIED: kube_store_upsert(&inf->store, ev->object, &inf->h); break;
	case SL_KUBE_DELETED: kube_store_remove(&inf->store, ev->object, &inf->h); break;
	case SL_KUBE_BOOKMARK: break;
	}
	if (*ev->resource_version)
		set_rv(inf, ev->resource_version);
	if (atomic_load(&inf->stop))
		return sl_error_set(err, SL_KUBE_ECANCELED, "informer stopped");
	return 0;
}

static int watch_timeout(const struct sl_kube_informer *inf)
{
	if (inf->watch_timeout_seconds > 0)
		return inf->watch_timeout_seconds;
	/* client-go spreads its watches over [5, 10) minutes so that a
	 * restarted API server is not hit by all of them at once. */
	unsigned seed = (unsigned)sl_now_ms() ^ (unsigned)(uintptr_t)inf;
	return 300 + rand_r(&seed) % 300;
}

int sl_kube_informer_run(struct sl_kube_informer *inf, struct sl_error *err)
{
	struct sl_kube_client_opts co = {.stop = &inf->stop};
	_cleanup_(sl_kube_freep) struct sl_kube *k = NULL;
	int r = sl_kube_new(inf->cfg, &co, &k, err);
	if (r < 0)
		return r;
	int64_t backoff = inf->min_backoff_ms;
	bool need_list = true;
	while (!atomic_load(&inf->stop)) {
		struct sl_error e = {0};
		if (need_list) {
			r = relist(inf, k, &e);
			if (r == SL_KUBE_ECANCELED)
				break;
			if (r < 0) {
				sl_error_wrap(&e, r, "informer for %s: listing", inf->res.resource);
				report(inf, &e);
				kube_sleep(k, backoff);
				backoff = backoff * 2 > inf->max_backoff_ms ? inf->max_backoff_ms
				                                            : backoff * 2;
				continue;
			}
			need_list = false;
		}
		struct sl_kube_watch_opts wo = {
		    .resource_version = inf->rv,
		    .label_selector = inf->label_selector,
		    .field_selector = inf->field_selector,
		    .timeout_seconds = watch_timeout(inf),
		};
		int64_t started = sl_now_ms();
		r = sl_kube_watch(k, &inf->res, inf->ns, &wo, on_event, inf, &e);
		atomic_fetch_add(&inf->watches, 1);
		if (r == SL_KUBE_ECANCELED)
			break;
		if (r == SL_KUBE_EGONE) {
			atomic_fetch_add(&inf->gone, 1);
			need_list = true;
			continue;
		}
		if (r < 0) {
			/* A dropped stream may have lost events: relist and diff. */
			sl_error_wrap(&e, r, "informer for %s: watching", inf->res.resource);
			report(inf, &e);
			need_list = true;
			kube_sleep(k, backoff);
			backoff =
			    backoff * 2 > inf->max_backoff_ms ? inf->max_backoff_ms : backoff * 2;
			continue;
		}
		/* The server ended the stream. One that ends at once, over and
		 * over, must not turn into a busy loop. */
		if (sl_now_ms() - started < 1000)
			kube_sleep(k, inf->min_backoff_ms);
		else
			backoff = inf->min_backoff_ms;
	}
	return 0;
}

static void *informer_thread(void *arg)
{
	struct sl_kube_informer *inf = arg;
	struct sl_error err = {0};
	if (sl_kube_informer_run(inf, &err) < 0)
		report(inf, &err);
	return NULL;
}

int sl_kube_informer_start(struct sl_kube_informer *inf, struct sl_error *err)
{
	if (inf->started)
		return sl_error_set(err, SL_EINVAL, "informer for %s: already started",
		                    inf->res.resource);
	atomic_store(&inf->stop, false);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, INFORMER_STACK_SIZE);
	int e = pthread_create(&inf->thread, &attr, informer_thread, inf);
	pthread_attr_destroy(&attr);
	if (e != 0)
		return sl_error_errno(err, e, SL_ENOMEM, "informer for %s: starting its thread",
		                      inf->res.resource);
	inf->started = true;
	return 0;
}

void sl_kube_informer_stop(struct sl_kube_informer *inf)
{
	atomic_store(&inf->stop, true);
	if (inf->started) {
		pthread_join(inf->thread, NULL);
		inf->started = false;
	}
}

bool sl_kube_informer_wait_synced(struct sl_kube_informer *inf, int64_t timeout_ms)
{
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&inf->mu);
	while (!inf->synced)
		if (pthread_cond_timedwait(&inf->cv, &inf->mu, &deadline) == ETIMEDOUT)
			break;
	bool synced = inf->synced;
	pthread_mutex_unlock(&inf->mu);
	return synced;
}

json_t *sl_kube_informer_get(struct sl_kube_informer *inf, const char *ns, const char *name)
{
	if (!name)
		return NULL;
	_cleanup_free_ char *key =
	    inf->res.namespaced && ns && *ns ? sl_asprintf("%s/%s", ns, name) : sl_strdup(name);
	return kube_store_get(&inf->store, key);
}

json_t *sl_kube_informer_snapshot(struct sl_kube_informer *inf)
{
	json_t *out = json_array();
	pthread_rwlock_rdlock(&inf->store.lock);
	const char *key;
	json_t *obj;
	json_t *texts = json_array();
	json_object_foreach (inf->store.objects, key, obj)
		json_array_append(texts, obj);
	pthread_rwlock_unlock(&inf->store.lock);
	/* Parsed outside the lock: the informer is not held up. */
	size_t i;
	json_array_foreach (texts, i, obj)
		json_array_append_new(out, kube_store_thaw(&inf->store, obj));
	json_decref(texts);
	return out;
}

size_t sl_kube_informer_size(struct sl_kube_informer *inf)
{
	pthread_rwlock_rdlock(&inf->store.lock);
	size_t n = json_object_size(inf->store.objects);
	pthread_rwlock_unlock(&inf->store.lock);
	return n;
}

void sl_kube_informer_stats(struct sl_kube_informer *inf, struct sl_kube_informer_stats *ret)
{
	*ret = (struct sl_kube_informer_stats){
	    .lists = atomic_load(&inf->lists),
	    .watches = atomic_load(&inf->watches),
	    .gone = atomic_load(&inf->gone),
	    .errors = atomic_load(&inf->errors),
	};
}
