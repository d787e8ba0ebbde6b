/* The worker pool: --concurrent threads with small stacks, each looping
 * get → reconcile → act on the result → done, with controller-runtime's
 * rules (reconcileHandler in its controller.go) for what the result means. */
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "controller/controller.h"

struct worker {
	struct sl_worker_pool *pool;
	pthread_t thread;
	bool started;
	void *ctx; /* what reconcile gets: the per-worker state or the pool's ctx */
	void *worker_ctx;
	bool has_worker_ctx;
};

struct sl_worker_pool {
	struct sl_workqueue *queue;
	struct sl_worker_pool_config cfg;
	struct worker *workers;
	unsigned n_workers;

	pthread_mutex_t mu;
	pthread_cond_t exited;
	unsigned running; /* threads that have not left their loop */
	bool joined;

	_Atomic unsigned active;
	_Atomic uint64_t n_success, n_error, n_requeue, n_requeue_after;
};

static void process(struct worker *w, const char *key)
{
	struct sl_worker_pool *p = w->pool;
	struct sl_reconcile_result res = {0};
	struct sl_error err = {0};

	atomic_fetch_add(&p->active, 1);
	int r = p->cfg.reconcile(w->ctx, key, &res, &err);
	atomic_fetch_sub(&p->active, 1);

	if (r < 0) {
		int64_t retry_ms = sl_workqueue_add_rate_limited(p->queue, key);
		atomic_fetch_add(&p->n_error, 1);
		if (p->cfg.on_error)
			p->cfg.on_error(p->cfg.ctx, key, &err, retry_ms);
	} else if (res.requeue_after_ms > 0) {
		/* A requested interval is not a failure: the backoff starts over. */
		sl_workqueue_forget(p->queue, key);
		sl_workqueue_add_after(p->queue, key, res.requeue_after_ms);
		atomic_fetch_add(&p->n_requeue_after, 1);
	} else if (res.requeue) {
		sl_workqueue_add_rate_limited(p->queue, key);
		atomic_fetch_add(&p->n_requeue, 1);
	} else {
		sl_workqueue_forget(p->queue, key);
		atomic_fetch_add(&p->n_success, 1);
	}
	/* Last: the key must not be handed to another worker before its next
	 * run is scheduled. */
	sl_workqueue_done(p->queue, key);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct sl_worker_pool *p = w->pool;
	const char *key;
	while (sl_workqueue_get(p->queue, &key))
		process(w, key);
	pthread_mutex_lock(&p->mu);
	p->running--;
	pthread_cond_broadcast(&p->exited);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static size_t stack_size(size_t wanted)
{
	long min = sysconf(_SC_THREAD_STACK_MIN);
	long page = sysconf(_SC_PAGESIZE);
	size_t size = wanted ? wanted : SL_WORKER_STACK_DEFAULT;
	if (min > 0 && size < (size_t)min)
		size = (size_t)min;
	if (page > 0)
		size = (size + (size_t)page - 1) / (size_t)page * (size_t)page;
	return size;
}

static void join_all(struct sl_worker_pool *p)
{
	if (p->joined)
		return;
	for (unsigned i = 0; i < p->n_workers; i++)
		if (p->workers[i].started)
			pthread_join(p->workers[i].thread, NULL);
	p->joined = true;
}

/* Async signals are for the main thread's sigwait or handler; workers
 * inherit a mask without them. Synchronous ones (SIGSEGV, ...) stay open so
 * crashes still reach their handlers. */
static void block_async_signals(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	static const int sigs[] = {SIGTERM, SIGINT,  SIGHUP,  SIGQUIT,
	                           SIGUSR1, SIGUSR2, SIGCHLD, SIGALRM};
	for (size_t i = 0; i < SL_ARRAY_SIZE(sigs); i++)
		sigaddset(&set, sigs[i]);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

static int start_threads(struct sl_worker_pool *p, const char *name, struct sl_error *err)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	int r = pthread_attr_setstacksize(&attr, stack_size(p->cfg.stack_size));
	if (r != 0) {
		pthread_attr_destroy(&attr);
		return sl_error_errno(err, r, SL_EINVAL, "setting worker stack size");
	}
	sigset_t old;
	block_async_signals(&old);
	int ret = 0;
	for (unsigned i = 0; i < p->n_workers; i++) {
		struct worker *w = &p->workers[i];
		pthread_mutex_lock(&p->mu);
		p->running++;
		pthread_mutex_unlock(&p->mu);
		r = pthread_create(&w->thread, &attr, worker_main, w);
		if (r != 0) {
			pthread_mutex_lock(&p->mu);
			p->running--;
			pthread_mutex_unlock(&p->mu);
			ret = sl_error_errno(err, r, SL_ENOMEM, "starting worker %u of %u", i + 1,
			                     p->n_workers);
			break;
		}
		w->started = true;
		char thread_name[SL_WORKER_NAME_MAX + 1];
		snprintf(thread_name, sizeof(thread_name), "%s-%u", name, i);
		pthread_setname_np(w->thread, thread_name);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return ret;
}

static void release_workers(struct sl_worker_pool *p)
{
	if (p->cfg.worker_fini)
		for (unsigned i = 0; i < p->n_workers; i++)
			if (p->workers[i].has_worker_ctx)
				p->cfg.worker_fini(p->workers[i].worker_ctx);
	free(p->workers);
	pthread_cond_destroy(&p->exited);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

int sl_worker_pool_start(struct sl_workqueue *q, const struct sl_worker_pool_config *cfg,
                         struct sl_worker_pool **ret, struct sl_error *err)
{
	if (!cfg->reconcile)
		return sl_error_set(err, SL_EINVAL, "worker pool without a reconcile function");
	if (cfg->workers < 1 || cfg->workers > 4096)
		return sl_error_set(err, SL_EINVAL,
		                    "invalid number of workers %u: must be between 1 and 4096",
		                    cfg->workers);

	struct sl_worker_pool *p = sl_xcalloc(1, sizeof(*p));
	p->queue = q;
	p->cfg = *cfg;
	p->cfg.name = NULL; /* borrowed: only used to name the threads */
	p->n_workers = cfg->workers;
	p->workers = sl_xcalloc(p->n_workers, sizeof(*p->workers));
	pthread_mutex_init(&p->mu, NULL);
	sl_clock_cond_init(&p->exited);

	for (unsigned i = 0; i < p->n_workers; i++) {
		struct worker *w = &p->workers[i];
		w->pool = p;
		w->ctx = cfg->ctx;
		if (!cfg->worker_init)
			continue;
		int r = cfg->worker_init(cfg->ctx, i, &w->worker_ctx, err);
		if (r < 0) {
			release_workers(p);
			return sl_error_wrap(err, r, "preparing worker %u", i);
		}
		w->has_worker_ctx = true;
		w->ctx = w->worker_ctx;
	}

	int r = start_threads(p, cfg->name ? cfg->name : "worker", err);
	if (r < 0) {
		sl_workqueue_shutdown(q);
		join_all(p);
		release_workers(p);
		return r;
	}
	sl_clock_attach(sl_workqueue_clock(q), &p->mu, &p->exited);
	*ret = p;
	return 0;
}

int sl_worker_pool_stop(struct sl_worker_pool *p, int64_t deadline_ns, struct sl_error *err)
{
	struct sl_clock *clock = sl_workqueue_clock(p->queue);
	sl_workqueue_shutdown(p->queue);
	pthread_mutex_lock(&p->mu);
	while (p->running && sl_clock_now_ns(clock) < deadline_ns)
		sl_clock_wait_until(clock, &p->exited, &p->mu, deadline_ns);
	unsigned running = p->running;
	pthread_mutex_unlock(&p->mu);
	if (running)
		return sl_error_set(err, SL_ELIMIT,
		                    "%u of %u workers still reconciling at the shutdown deadline",
		                    running, p->n_workers);
	join_all(p);
	return 0;
}

void sl_worker_pool_free(struct sl_worker_pool *p)
{
	if (!p)
		return;
	sl_workqueue_shutdown(p->queue);
	join_all(p);
	sl_clock_detach(sl_workqueue_clock(p->queue), &p->exited);
	release_workers(p);
}

void sl_worker_pool_stats(struct sl_worker_pool *p, struct sl_worker_pool_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->workers = p->n_workers;
	out->active = atomic_load(&p->active);
	out->success = atomic_load(&p->n_success);
	out->error = atomic_load(&p->n_error);
	out->requeue = atomic_load(&p->n_requeue);
	out->requeue_after = atomic_load(&p->n_requeue_after);
}
