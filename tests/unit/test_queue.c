/* The controller runtime: work queue, clock, worker pool, jitter, reconcile
 * requests, conditions and status patches. Time is a fake clock wherever a
 * test is about time; threads are real wherever a test is about threads,
 * and then nothing waits on wall-clock time except a safety cap. */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "controller/controller.h"

#define MS         SL_NS_PER_MS
#define START_NS   (INT64_C(1000) * SL_NS_PER_S)
#define START_WALL INT64_C(1767225600) /* 2026-01-01T00:00:00Z */

/* Spins (yielding) until pred holds; fails the test after 30 s instead of
 * hanging it. */
#define WAIT_FOR(pred)                                                                             \
	do {                                                                                       \
		int64_t wait_limit_ = sl_clock_now_ns(NULL) + 30 * SL_NS_PER_S;                    \
		while (!(pred)) {                                                                  \
			assert_true(sl_clock_now_ns(NULL) < wait_limit_);                          \
			sched_yield();                                                             \
		}                                                                                  \
	} while (0)

struct fixture {
	struct sl_clock *clock;
	struct sl_workqueue *q;
};

static int setup_fake(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sl_error err = {0};
	f->clock = sl_clock_fake_new(START_NS, START_WALL);
	struct sl_workqueue_config cfg = {.name = "test", .clock = f->clock};
	if (sl_workqueue_new(&cfg, &f->q, &err) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown_fake(void **state)
{
	struct fixture *f = *state;
	sl_workqueue_free(f->q);
	sl_clock_free(f->clock);
	free(f);
	return 0;
}

/* The next ready key, which must be `want`; "" means none is ready. */
static void expect_next(struct sl_workqueue *q, const char *want)
{
	const char *key = NULL;
	bool got = sl_workqueue_try_get(q, &key);
	if (!*want) {
		if (got)
			fail_msg("expected no ready key, got \"%s\"", key);
		return;
	}
	if (!got)
		fail_msg("expected \"%s\", no key was ready", want);
	assert_string_equal(key, want);
}

static void take_and_done(struct sl_workqueue *q, const char *want)
{
	expect_next(q, want);
	sl_workqueue_done(q, want);
}

/* ---- queue semantics ------------------------------------------------- */

static void add_deduplicates_a_queued_key(void **state)
{
	struct fixture *f = *state;
	sl_workqueue_add(f->q, "default/a");
	sl_workqueue_add(f->q, "default/b");
	sl_workqueue_add(f->q, "default/a");
	assert_int_equal(sl_workqueue_len(f->q), 2);
	take_and_done(f->q, "default/a");
	take_and_done(f->q, "default/b");
	expect_next(f->q, "");
}

static void key_added_while_processing_is_requeued_by_done(void **state)
{
	struct fixture *f = *state;
	sl_workqueue_add(f->q, "default/a");
	expect_next(f->q, "default/a");
	sl_workqueue_add(f->q, "default/a");
	sl_workqueue_add(f->q, "default/a");
	/* Dirty, but not handed to a second worker while the first holds it. */
	assert_int_equal(sl_workqueue_len(f->q), 0);
	expect_next(f->q, "");
	sl_workqueue_done(f->q, "default/a");
	assert_int_equal(sl_workqueue_len(f->q), 1);
	take_and_done(f->q, "default/a");
	expect_next(f->q, "");
}

static void keys_are_handed_out_in_fifo_order(void **state)
{
	struct fixture *f = *state;
	const char *keys[] = {"ns/c", "ns/a", "ns/b", "Kind/ns/d"};
	for (size_t i = 0; i < SL_ARRAY_SIZE(keys); i++)
		sl_workqueue_add(f->q, keys[i]);
	for (size_t i = 0; i < SL_ARRAY_SIZE(keys); i++)
		take_and_done(f->q, keys[i]);
}

static void add_after_orders_keys_by_deadline(void **state)
{
	struct fixture *f = *state;
	sl_workqueue_add_after(f->q, "ns/c", 300);
	sl_workqueue_add_after(f->q, "ns/a", 100);
	sl_workqueue_add_after(f->q, "ns/b", 200);
	expect_next(f->q, "");
	sl_clock_fake_advance(f->clock, 99 * MS);
	expect_next(f->q, "");
	sl_clock_fake_advance(f->clock, 1 * MS);
	take_and_done(f->q, "ns/a");
	expect_next(f->q, "");
	/* Past both remaining deadlines at once: still in deadline order. */
	sl_clock_fake_advance(f->clock, 500 * MS);
	take_and_done(f->q, "ns/b");
	take_and_done(f->q, "ns/c");
	expect_next(f->q, "");
}

static void earlier_deadline_wins_for_one_key(void **state)
{
	struct fixture *f = *state;
	sl_workqueue_add_after(f->q, "ns/a", 500);
	sl_workqueue_add_after(f->q, "ns/a", 100); /* moves it earlier */
	sl_workqueue_add_after(f->q, "ns/b", 100);
	sl_workqueue_add_after(f->q, "ns/b", 500); /* cannot postpone it */
	struct sl_workqueue_stats st;
	sl_workqueue_stats(f->q, &st);
	assert_int_equal(st.delayed, 2);
	sl_clock_fake_advance(f->clock, 100 * MS);
	take_and_done(f->q, "ns/a");
	take_and_done(f->q, "ns/b");
	/* Each ran once: the later deadlines left nothing behind. */
	sl_clock_fake_advance(f->clock, 1000 * MS);
	expect_next(f->q, "");
	sl_workqueue_stats(f->q, &st);
	assert_int_equal(st.keys, 0);
}

static void add_after_ignores_a_key_already_queued(void **state)
{
	struct fixture *f = *state;
	sl_workqueue_add(f->q, "ns/a");
	sl_workqueue_add_after(f->q, "ns/a", 100);
	take_and_done(f->q, "ns/a");
	sl_clock_fake_advance(f->clock, 200 * MS);
	expect_next(f->q, "");
}

static void add_supersedes_a_pending_deadline(void **state)
{
	struct fixture *f = *state;
	sl_workqueue_add_after(f->q, "ns/a", 100);
	sl_workqueue_add(f->q, "ns/a");
	take_and_done(f->q, "ns/a");
	sl_clock_fake_advance(f->clock, 200 * MS);
	expect_next(f->q, "");
}

static void deadline_reached_while_processing_runs_after_done(void **state)
{
	struct fixture *f = *state;
	sl_workqueue_add(f->q, "ns/a");
	expect_next(f->q, "ns/a");
	/* What a worker does with RequeueAfter before calling done(). */
	sl_workqueue_add_after(f->q, "ns/a", 50);
	sl_clock_fake_advance(f->clock, 60 * MS);
	expect_next(f->q, "");
	sl_workqueue_done(f->q, "ns/a");
	take_and_done(f->q, "ns/a");
}

static void zero_delay_add_after_is_an_add(void **state)
{
	struct fixture *f = *state;
	sl_workqueue_add_after(f->q, "ns/a", 0);
	sl_workqueue_add_after(f->q, "ns/b", -5);
	take_and_done(f->q, "ns/a");
	take_and_done(f->q, "ns/b");
}

static void backoff_doubles_to_the_cap_and_forget_resets_it(void **state)
{
	(void)state;
	struct sl_clock *clock = sl_clock_fake_new(START_NS, START_WALL);
	struct sl_workqueue *q = NULL;
	struct sl_error err = {0};
	/* Flux's defaults: 750ms doubling to 15m. */
	struct sl_workqueue_config cfg = {.clock = clock};
	assert_int_equal(sl_workqueue_new(&cfg, &q, &err), 0);

	const int64_t want[] = {750,   1500,   3000,   6000,   12000,  24000,  48000,
	                        96000, 192000, 384000, 768000, 900000, 900000, 900000};
	for (size_t i = 0; i < SL_ARRAY_SIZE(want); i++) {
		assert_int_equal(sl_workqueue_num_requeues(q, "ns/a"), i);
		assert_int_equal(sl_workqueue_add_rate_limited(q, "ns/a"), want[i]);
		/* Ready exactly after the delay, not a millisecond earlier. */
		sl_clock_fake_advance(clock, (want[i] - 1) * MS);
		expect_next(q, "");
		sl_clock_fake_advance(clock, 1 * MS);
		take_and_done(q, "ns/a");
	}
	/* Backoff is per key. */
	assert_int_equal(sl_workqueue_add_rate_limited(q, "ns/b"), 750);
	sl_workqueue_forget(q, "ns/a");
	assert_int_equal(sl_workqueue_num_requeues(q, "ns/a"), 0);
	assert_int_equal(sl_workqueue_add_rate_limited(q, "ns/a"), 750);
	assert_int_equal(sl_workqueue_num_requeues(q, "ns/b"), 1);

	sl_workqueue_free(q);
	sl_clock_free(clock);
}

static void retry_delays_are_validated(void **state)
{
	(void)state;
	struct sl_workqueue *q = NULL;
	struct sl_error err = {0};
	struct sl_workqueue_config bad_order = {.min_retry_delay_ms = 1000,
	                                        .max_retry_delay_ms = 10};
	assert_int_equal(sl_workqueue_new(&bad_order, &q, &err), SL_EINVAL);
	assert_non_null(strstr(err.msg, "maximum retry delay"));
	struct sl_workqueue_config negative = {.min_retry_delay_ms = -1};
	assert_int_equal(sl_workqueue_new(&negative, &q, &err), SL_EINVAL);
	assert_null(q);
	/* NULL config: Flux's defaults. */
	assert_int_equal(sl_workqueue_new(NULL, &q, &err), 0);
	assert_int_equal(sl_workqueue_add_rate_limited(q, "k"), 750);
	sl_workqueue_free(q);
}

static void memory_is_bounded_by_the_keys_in_use(void **state)
{
	struct fixture *f = *state;
	char key[32];
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 5000; i++) {
			snprintf(key, sizeof(key), "ns/k%d", i);
			sl_workqueue_add(f->q, key);
		}
		const char *k;
		while (sl_workqueue_try_get(f->q, &k))
			sl_workqueue_done(f->q, k);
	}
	struct sl_workqueue_stats st;
	sl_workqueue_stats(f->q, &st);
	assert_int_equal(st.keys, 0);
	/* A key backing off is remembered until forgotten. */
	sl_workqueue_add_rate_limited(f->q, "ns/x");
	sl_clock_fake_advance(f->clock, 1000 * MS);
	take_and_done(f->q, "ns/x");
	sl_workqueue_stats(f->q, &st);
	assert_int_equal(st.keys, 1);
	sl_workqueue_forget(f->q, "ns/x");
	sl_workqueue_stats(f->q, &st);
	assert_int_equal(st.keys, 0);
}

static void metrics_count_adds_latency_and_work(void **state)
{
	struct fixture *f = *state;
	sl_workqueue_add(f->q, "ns/a");
	sl_workqueue_add(f->q, "ns/a"); /* deduplicated: not an add */
	sl_workqueue_add_after(f->q, "ns/b", 1000);
	struct sl_workqueue_stats st;
	sl_workqueue_stats(f->q, &st);
	assert_string_equal(st.name, "test");
	assert_int_equal(st.adds_total, 1);
	assert_int_equal(st.retries_total, 1);
	assert_int_equal(st.depth, 1);
	assert_int_equal(st.delayed, 1);

	sl_clock_fake_advance(f->clock, 2 * MS);
	expect_next(f->q, "ns/a");
	sl_clock_fake_advance(f->clock, 3 * SL_NS_PER_S);
	sl_workqueue_stats(f->q, &st);
	assert_int_equal(st.processing, 1);
	assert_true(st.unfinished_work_seconds > 2.99 && st.unfinished_work_seconds < 3.01);
	assert_true(st.longest_running_processor_seconds > 2.99);
	sl_workqueue_done(f->q, "ns/a");
	/* ns/b became ready at its deadline, 2 s before it is taken. */
	expect_next(f->q, "ns/b");
	sl_workqueue_done(f->q, "ns/b");

	sl_workqueue_stats(f->q, &st);
	assert_int_equal(st.adds_total, 2);
	assert_int_equal(st.depth, 0);
	assert_int_equal(st.queue_duration.count, 2);
	assert_true(st.queue_duration.sum > 2.0039 && st.queue_duration.sum < 2.0041);
	/* 2 ms is in the 10 ms bucket, 2.002 s in the 10 s one (cumulative). */
	assert_int_equal(st.queue_duration.cumulative[5], 0);
	assert_int_equal(st.queue_duration.cumulative[6], 1);
	assert_int_equal(st.queue_duration.cumulative[9], 2);
	assert_int_equal(st.work_duration.count, 2);
	assert_int_equal(st.work_duration.cumulative[0], 1); /* 0 s */
	assert_int_equal(st.work_duration.cumulative[8], 1);
	assert_int_equal(st.work_duration.cumulative[9], 2); /* 3 s */
	assert_int_equal(st.work_duration.cumulative[SL_WORKQUEUE_BUCKETS - 1], 2);
	assert_true(sl_workqueue_bucket_bounds[0] == 1e-8);
	assert_true(sl_workqueue_bucket_bounds[SL_WORKQUEUE_BUCKETS - 1] == 1e3);
}

/* ---- blocking get, shutdown, idle ------------------------------------ */

struct getter {
	pthread_t thread;
	struct sl_workqueue *q;
	_Atomic int state; /* 0 waiting, 1 got a key, 2 told to stop */
	char key[64];
};

static void *getter_main(void *arg)
{
	struct getter *g = arg;
	const char *key;
	if (sl_workqueue_get(g->q, &key)) {
		snprintf(g->key, sizeof(g->key), "%s", key);
		sl_workqueue_done(g->q, key);
		atomic_store(&g->state, 1);
	} else {
		atomic_store(&g->state, 2);
	}
	return NULL;
}

static uint64_t waiters(struct sl_workqueue *q)
{
	struct sl_workqueue_stats st;
	sl_workqueue_stats(q, &st);
	return st.waiters;
}

static void blocked_get_wakes_at_a_fake_deadline(void **state)
{
	struct fixture *f = *state;
	struct getter g = {.q = f->q};
	pthread_create(&g.thread, NULL, getter_main, &g);
	WAIT_FOR(waiters(f->q) == 1);
	sl_workqueue_add_after(f->q, "ns/late", 1000);
	sl_workqueue_add_after(f->q, "ns/soon", 10);
	/* The getter re-arms for the earlier deadline, and only time moves it. */
	sl_clock_fake_advance(f->clock, 9 * MS);
	assert_int_equal(atomic_load(&g.state), 0);
	sl_clock_fake_advance(f->clock, 1 * MS);
	pthread_join(g.thread, NULL);
	assert_int_equal(atomic_load(&g.state), 1);
	assert_string_equal(g.key, "ns/soon");
}

static void shutdown_wakes_every_blocked_getter(void **state)
{
	struct fixture *f = *state;
	struct getter g[4];
	sl_workqueue_add_after(f->q, "ns/later", 60000); /* one of them watches it */
	for (size_t i = 0; i < SL_ARRAY_SIZE(g); i++) {
		g[i] = (struct getter){.q = f->q};
		pthread_create(&g[i].thread, NULL, getter_main, &g[i]);
	}
	WAIT_FOR(waiters(f->q) == SL_ARRAY_SIZE(g));
	sl_workqueue_shutdown(f->q);
	for (size_t i = 0; i < SL_ARRAY_SIZE(g); i++) {
		pthread_join(g[i].thread, NULL);
		assert_int_equal(atomic_load(&g[i].state), 2);
	}
	assert_true(sl_workqueue_shutting_down(f->q));
	/* Adds are refused from now on; get() answers at once. */
	sl_workqueue_add(f->q, "ns/a");
	assert_int_equal(sl_workqueue_add_rate_limited(f->q, "ns/b"), 0);
	const char *key;
	assert_false(sl_workqueue_get(f->q, &key));
	assert_int_equal(sl_workqueue_len(f->q), 0);
}

static void shutdown_stops_handing_out_queued_keys_but_lets_work_finish(void **state)
{
	struct fixture *f = *state;
	sl_workqueue_add(f->q, "ns/a");
	sl_workqueue_add(f->q, "ns/b");
	expect_next(f->q, "ns/a");
	sl_workqueue_shutdown(f->q);
	expect_next(f->q, "");
	/* In-flight work is not idle until it is done. */
	assert_false(sl_workqueue_wait_idle(f->q, sl_clock_now_ns(f->clock)));
	sl_workqueue_done(f->q, "ns/a");
	assert_true(sl_workqueue_wait_idle(f->q, SL_DEADLINE_NONE));
}

struct doer {
	struct sl_workqueue *q;
	const char *key;
};

static void *done_main(void *arg)
{
	struct doer *d = arg;
	sl_workqueue_done(d->q, d->key);
	return NULL;
}

static void wait_idle_returns_when_the_last_key_is_done(void **state)
{
	struct fixture *f = *state;
	sl_workqueue_add(f->q, "ns/a");
	expect_next(f->q, "ns/a");
	struct doer d = {f->q, "ns/a"};
	pthread_t t;
	pthread_create(&t, NULL, done_main, &d);
	assert_true(sl_workqueue_wait_idle(f->q, SL_DEADLINE_NONE));
	pthread_join(t, NULL);
}

/* ---- concurrency: one key, one worker -------------------------------- */

#define HAMMER_KEYS 6

struct hammer {
	struct sl_workqueue *q;
	_Atomic int in_flight[HAMMER_KEYS];
	_Atomic int processed[HAMMER_KEYS];
	_Atomic int violations;
	_Atomic int total;
};

#define HAMMER_RUNS 20000

static const char *hammer_key(int i)
{
	static const char *const keys[HAMMER_KEYS] = {"ns/a", "ns/b", "ns/c",
	                                              "ns/d", "ns/e", "Kind/ns/f"};
	return keys[i];
}

static int hammer_index(const char *key)
{
	for (int i = 0; i < HAMMER_KEYS; i++)
		if (strcmp(key, hammer_key(i)) == 0)
			return i;
	return -1;
}

/* The part under test: nobody else may be holding this key. */
static void hammer_process(struct hammer *h, const char *key, unsigned *seed)
{
	int i = hammer_index(key);
	if (i < 0) {
		atomic_fetch_add(&h->violations, 1);
		return;
	}
	if (atomic_fetch_add(&h->in_flight[i], 1) != 0)
		atomic_fetch_add(&h->violations, 1);
	for (int spin = rand_r(seed) % 50; spin > 0; spin--)
		sched_yield();
	atomic_fetch_add(&h->processed[i], 1);
	atomic_fetch_sub(&h->in_flight[i], 1);
	atomic_fetch_add(&h->total, 1);
}

/* Adds until the workers have processed HAMMER_RUNS keys in all, yielding
 * after each add so that adds land while keys are being processed. */
static void *hammer_producer(void *arg)
{
	struct hammer *h = arg;
	unsigned seed = (unsigned)(uintptr_t)&seed;
	int64_t limit = sl_clock_now_ns(NULL) + 30 * SL_NS_PER_S;
	while (atomic_load(&h->total) < HAMMER_RUNS && sl_clock_now_ns(NULL) < limit) {
		const char *key = hammer_key(rand_r(&seed) % HAMMER_KEYS);
		switch (rand_r(&seed) % 4) {
		case 0: sl_workqueue_add_after(h->q, key, rand_r(&seed) % 3); break;
		case 1: sl_workqueue_add_rate_limited(h->q, key); break;
		default: sl_workqueue_add(h->q, key); break;
		}
		sched_yield();
	}
	return NULL;
}

static void *hammer_worker(void *arg)
{
	struct hammer *h = arg;
	unsigned seed = (unsigned)(uintptr_t)&seed;
	const char *key;
	while (sl_workqueue_get(h->q, &key)) {
		hammer_process(h, key, &seed);
		/* Workers add their own key too, as a reconcile touching its
		 * object would through the watch. */
		if (rand_r(&seed) % 8 == 0)
			sl_workqueue_add(h->q, key);
		sl_workqueue_forget(h->q, key);
		sl_workqueue_done(h->q, key);
	}
	return NULL;
}

static bool quiescent(struct sl_workqueue *q)
{
	struct sl_workqueue_stats st;
	sl_workqueue_stats(q, &st);
	return st.depth == 0 && st.delayed == 0 && st.processing == 0;
}

static void no_key_is_processed_twice_at_once(void **state)
{
	(void)state;
	struct hammer h = {0};
	struct sl_error err = {0};
	struct sl_workqueue_config cfg = {.min_retry_delay_ms = 1, .max_retry_delay_ms = 2};
	assert_int_equal(sl_workqueue_new(&cfg, &h.q, &err), 0);
	pthread_t workers[8], producers[3];
	for (size_t i = 0; i < SL_ARRAY_SIZE(workers); i++)
		pthread_create(&workers[i], NULL, hammer_worker, &h);
	for (size_t i = 0; i < SL_ARRAY_SIZE(producers); i++)
		pthread_create(&producers[i], NULL, hammer_producer, &h);
	for (size_t i = 0; i < SL_ARRAY_SIZE(producers); i++)
		pthread_join(producers[i], NULL);
	WAIT_FOR(quiescent(h.q));
	sl_workqueue_shutdown(h.q);
	for (size_t i = 0; i < SL_ARRAY_SIZE(workers); i++)
		pthread_join(workers[i], NULL);

	assert_int_equal(atomic_load(&h.violations), 0);
	assert_true(atomic_load(&h.total) >= HAMMER_RUNS);
	for (int i = 0; i < HAMMER_KEYS; i++)
		assert_true(atomic_load(&h.processed[i]) > 0);
	struct sl_workqueue_stats st;
	sl_workqueue_stats(h.q, &st);
	assert_int_equal(st.keys, 0);
	sl_workqueue_free(h.q);
}

/* ---- worker pool ----------------------------------------------------- */

/* Each key's name says what its reconcile returns, run by run. */
struct script {
	const char *key;
	const char *results; /* one letter per run: o ok, e error, r requeue, a after */
	_Atomic int runs;
	_Atomic int in_flight;
};

struct pool_test {
	struct script *scripts;
	size_t n_scripts;
	_Atomic int violations;
	_Atomic int errors_reported;
	_Atomic int64_t retry_sum;
	_Atomic int inits, finis;
	int worker_ctx_tag[8];
	_Atomic int wrong_ctx;
};

static int scripted_reconcile(void *ctx, const char *key, struct sl_reconcile_result *out,
                              struct sl_error *err)
{
	struct pool_test *t = *(struct pool_test **)ctx;
	struct script *s = NULL;
	for (size_t i = 0; i < t->n_scripts; i++)
		if (strcmp(t->scripts[i].key, key) == 0)
			s = &t->scripts[i];
	if (!s) {
		atomic_fetch_add(&t->violations, 1);
		return 0;
	}
	if (atomic_fetch_add(&s->in_flight, 1) != 0)
		atomic_fetch_add(&t->violations, 1);
	int run = atomic_fetch_add(&s->runs, 1);
	char what = s->results[run] ? s->results[run] : 'x';
	int r = 0;
	switch (what) {
	case 'o': break;
	case 'e': r = sl_error_set(err, SL_ENET, "%s: run %d failed", key, run); break;
	case 'r': out->requeue = true; break;
	case 'a': out->requeue_after_ms = 1; break;
	default: atomic_fetch_add(&t->violations, 1); break; /* one run too many */
	}
	atomic_fetch_sub(&s->in_flight, 1);
	return r;
}

/* Each worker gets a pointer to the shared test, wrapped so reconcile can
 * check it got its own worker state. */
static int pool_worker_init(void *ctx, unsigned index, void **ret, struct sl_error *err)
{
	(void)err;
	struct pool_test *t = ctx;
	struct pool_test **slot = malloc(sizeof(*slot));
	*slot = t;
	t->worker_ctx_tag[index] = 1;
	atomic_fetch_add(&t->inits, 1);
	*ret = slot;
	return 0;
}

static void pool_worker_fini(void *worker_ctx)
{
	struct pool_test *t = *(struct pool_test **)worker_ctx;
	atomic_fetch_add(&t->finis, 1);
	free(worker_ctx);
}

static void pool_on_error(void *ctx, const char *key, const struct sl_error *err, int64_t retry_ms)
{
	struct pool_test *t = ctx;
	if (!strstr(err->msg, key) || err->code != SL_ENET)
		atomic_fetch_add(&t->wrong_ctx, 1);
	atomic_fetch_add(&t->errors_reported, 1);
	atomic_fetch_add(&t->retry_sum, retry_ms);
}

static bool scripts_finished(struct pool_test *t)
{
	for (size_t i = 0; i < t->n_scripts; i++)
		if (atomic_load(&t->scripts[i].runs) < (int)strlen(t->scripts[i].results))
			return false;
	return true;
}

static void worker_pool_acts_on_each_reconcile_result(void **state)
{
	(void)state;
	struct script scripts[] = {
	    {.key = "ns/ok", .results = "o"},
	    {.key = "ns/fails-once", .results = "eo"},
	    {.key = "ns/fails-twice", .results = "eeo"},
	    {.key = "ns/requeue", .results = "ro"},
	    {.key = "ns/requeue-after", .results = "ao"},
	    {.key = "ns/mixed", .results = "eaeo"},
	};
	struct pool_test t = {.scripts = scripts, .n_scripts = SL_ARRAY_SIZE(scripts)};
	struct sl_error err = {0};
	struct sl_workqueue *q = NULL;
	struct sl_workqueue_config qcfg = {
	    .name = "ocirepository", .min_retry_delay_ms = 1, .max_retry_delay_ms = 8};
	assert_int_equal(sl_workqueue_new(&qcfg, &q, &err), 0);
	struct sl_worker_pool_config pcfg = {
	    .name = "ocirepository-worker",
	    .workers = 4,
	    .reconcile = scripted_reconcile,
	    .ctx = &t,
	    .worker_init = pool_worker_init,
	    .worker_fini = pool_worker_fini,
	    .on_error = pool_on_error,
	};
	struct sl_worker_pool *p = NULL;
	assert_int_equal(sl_worker_pool_start(q, &pcfg, &p, &err), 0);
	assert_int_equal(atomic_load(&t.inits), 4);
	for (size_t i = 0; i < SL_ARRAY_SIZE(scripts); i++)
		sl_workqueue_add(q, scripts[i].key);

	WAIT_FOR(scripts_finished(&t));
	WAIT_FOR(quiescent(q));
	int64_t deadline = sl_clock_now_ns(NULL) + 30 * SL_NS_PER_S;
	assert_int_equal(sl_worker_pool_stop(p, deadline, &err), 0);

	for (size_t i = 0; i < SL_ARRAY_SIZE(scripts); i++)
		assert_int_equal(atomic_load(&scripts[i].runs), (int)strlen(scripts[i].results));
	assert_int_equal(atomic_load(&t.violations), 0);
	assert_int_equal(atomic_load(&t.wrong_ctx), 0);
	/* Retries wait 1, 1, 2 ms (fails-once, fails-twice), then 1 and 1 for
	 * mixed: its RequeueAfter in between forgot the first failure. */
	assert_int_equal(atomic_load(&t.errors_reported), 5);
	assert_int_equal(atomic_load(&t.retry_sum), 1 + 1 + 2 + 1 + 1);

	struct sl_worker_pool_stats ps;
	sl_worker_pool_stats(p, &ps);
	assert_int_equal(ps.workers, 4);
	assert_int_equal(ps.active, 0);
	assert_int_equal(ps.success, 6);
	assert_int_equal(ps.error, 5);
	assert_int_equal(ps.requeue, 1);
	assert_int_equal(ps.requeue_after, 2);
	/* Every key ended in success, so nothing is remembered. */
	struct sl_workqueue_stats qs;
	sl_workqueue_stats(q, &qs);
	assert_int_equal(qs.keys, 0);
	assert_string_equal(qs.name, "ocirepository");

	sl_worker_pool_free(p);
	assert_int_equal(atomic_load(&t.finis), 4);
	sl_workqueue_free(q);
}

#define POOL_KEYS 200

struct counting {
	_Atomic int runs[POOL_KEYS];
	_Atomic int in_flight[POOL_KEYS];
	_Atomic int violations;
	_Atomic int total;
};

static int counting_reconcile(void *ctx, const char *key, struct sl_reconcile_result *out,
                              struct sl_error *err)
{
	(void)out;
	(void)err;
	struct counting *c = ctx;
	int i = atoi(key + 3);
	if (i < 0 || i >= POOL_KEYS) {
		atomic_fetch_add(&c->violations, 1);
		return 0;
	}
	if (atomic_fetch_add(&c->in_flight[i], 1) != 0)
		atomic_fetch_add(&c->violations, 1);
	sched_yield();
	atomic_fetch_add(&c->runs[i], 1);
	atomic_fetch_sub(&c->in_flight[i], 1);
	atomic_fetch_add(&c->total, 1);
	return 0;
}

static void worker_pool_runs_every_key_once_when_added_once(void **state)
{
	(void)state;
	struct counting c = {0};
	struct sl_error err = {0};
	struct sl_workqueue *q = NULL;
	assert_int_equal(sl_workqueue_new(NULL, &q, &err), 0);
	struct sl_worker_pool_config cfg = {
	    .workers = 8, .stack_size = 64 * 1024, .reconcile = counting_reconcile, .ctx = &c};
	struct sl_worker_pool *p = NULL;
	assert_int_equal(sl_worker_pool_start(q, &cfg, &p, &err), 0);
	char key[16];
	for (int i = 0; i < POOL_KEYS; i++) {
		snprintf(key, sizeof(key), "ns/%d", i);
		sl_workqueue_add(q, key);
	}
	WAIT_FOR(atomic_load(&c.total) == POOL_KEYS);
	assert_int_equal(sl_worker_pool_stop(p, SL_DEADLINE_NONE, &err), 0);
	for (int i = 0; i < POOL_KEYS; i++)
		assert_int_equal(atomic_load(&c.runs[i]), 1);
	assert_int_equal(atomic_load(&c.violations), 0);
	sl_worker_pool_free(p);
	sl_workqueue_free(q);
}

struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool entered, open, finished;
};

static int gated_reconcile(void *ctx, const char *key, struct sl_reconcile_result *out,
                           struct sl_error *err)
{
	(void)key;
	(void)out;
	(void)err;
	struct gate *g = ctx;
	pthread_mutex_lock(&g->mu);
	g->entered = true;
	pthread_cond_broadcast(&g->cond);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->mu);
	g->finished = true;
	pthread_mutex_unlock(&g->mu);
	return 0;
}

static void gate_wait_entered(struct gate *g)
{
	pthread_mutex_lock(&g->mu);
	while (!g->entered)
		pthread_cond_wait(&g->cond, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

static void *gate_open_main(void *arg)
{
	struct gate *g = arg;
	pthread_mutex_lock(&g->mu);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

static void worker_pool_stop_waits_for_a_running_reconcile(void **state)
{
	struct fixture *f = *state;
	struct gate g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
	struct sl_error err = {0};
	struct sl_worker_pool_config cfg = {.workers = 2, .reconcile = gated_reconcile, .ctx = &g};
	struct sl_worker_pool *p = NULL;
	assert_int_equal(sl_worker_pool_start(f->q, &cfg, &p, &err), 0);
	sl_workqueue_add(f->q, "ns/slow");
	gate_wait_entered(&g);
	pthread_t opener;
	pthread_create(&opener, NULL, gate_open_main, &g);
	/* A fake clock never reaches this deadline: only the reconcile
	 * finishing ends the wait. */
	int64_t deadline = sl_clock_now_ns(f->clock) + SL_NS_PER_S;
	assert_int_equal(sl_worker_pool_stop(p, deadline, &err), 0);
	assert_true(g.finished);
	pthread_join(opener, NULL);
	sl_worker_pool_free(p);
}

static void worker_pool_stop_gives_up_at_the_deadline(void **state)
{
	struct fixture *f = *state;
	struct gate g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
	struct sl_error err = {0};
	struct sl_worker_pool_config cfg = {.workers = 1, .reconcile = gated_reconcile, .ctx = &g};
	struct sl_worker_pool *p = NULL;
	assert_int_equal(sl_worker_pool_start(f->q, &cfg, &p, &err), 0);
	sl_workqueue_add(f->q, "ns/stuck");
	gate_wait_entered(&g);
	int64_t deadline = sl_clock_now_ns(f->clock) + 5 * SL_NS_PER_S;
	sl_clock_fake_advance(f->clock, 5 * SL_NS_PER_S);
	assert_int_equal(sl_worker_pool_stop(p, deadline, &err), SL_ELIMIT);
	assert_string_equal(err.msg, "1 of 1 workers still reconciling at the shutdown deadline");
	assert_false(g.finished);
	/* The queue refuses new work meanwhile; free waits for the straggler. */
	sl_workqueue_add(f->q, "ns/new");
	assert_int_equal(sl_workqueue_len(f->q), 0);
	gate_open_main(&g);
	sl_worker_pool_free(p);
	assert_true(g.finished);
}

static int failing_init(void *ctx, unsigned index, void **ret, struct sl_error *err)
{
	struct pool_test *t = ctx;
	if (index == 2)
		return sl_error_set(err, SL_ENOMEM, "no curl handle");
	return pool_worker_init(t, index, ret, err);
}

static void worker_pool_start_fails_cleanly(void **state)
{
	struct fixture *f = *state;
	struct pool_test t = {0};
	struct sl_error err = {0};
	struct sl_worker_pool *p = NULL;
	struct sl_worker_pool_config none = {.workers = 0, .reconcile = scripted_reconcile};
	assert_int_equal(sl_worker_pool_start(f->q, &none, &p, &err), SL_EINVAL);
	struct sl_worker_pool_config cfg = {.workers = 4,
	                                    .reconcile = scripted_reconcile,
	                                    .ctx = &t,
	                                    .worker_init = failing_init,
	                                    .worker_fini = pool_worker_fini};
	assert_int_equal(sl_worker_pool_start(f->q, &cfg, &p, &err), SL_ENOMEM);
	assert_string_equal(err.msg, "preparing worker 2: no curl handle");
	assert_null(p);
	/* The two workers prepared were released. */
	assert_int_equal(atomic_load(&t.inits), 2);
	assert_int_equal(atomic_load(&t.finis), 2);
}

/* ---- clock, jitter, reconcile requests ------------------------------- */

static void fake_clock_moves_only_when_told(void **state)
{
	(void)state;
	struct sl_clock *c = sl_clock_fake_new(5 * SL_NS_PER_S + 600 * MS, START_WALL);
	char text[SL_RFC3339_LEN];
	sl_clock_rfc3339(c, text);
	assert_string_equal(text, "2026-01-01T00:00:00Z");
	assert_int_equal(sl_clock_now_ns(c), 5 * SL_NS_PER_S + 600 * MS);
	/* Wall time follows whole seconds of monotonic time. */
	sl_clock_fake_advance(c, 300 * MS);
	assert_int_equal(sl_clock_wall_s(c), START_WALL);
	sl_clock_fake_advance(c, 100 * MS);
	assert_int_equal(sl_clock_wall_s(c), START_WALL + 1);
	sl_clock_fake_advance(c, 3661 * SL_NS_PER_S);
	sl_clock_rfc3339(c, text);
	assert_string_equal(text, "2026-01-01T01:01:02Z");
	sl_clock_free(c);
	/* The real clock is monotonic and its wall time is today's. */
	int64_t a = sl_clock_now_ns(NULL), b = sl_clock_now_ns(sl_clock_real());
	assert_true(b >= a);
	assert_true(sl_clock_wall_s(NULL) > START_WALL - 366 * 24 * 3600);
	sl_clock_free(sl_clock_real()); /* harmless */
}

static void jitter_stays_within_the_percentage(void **state)
{
	(void)state;
	const struct {
		int64_t interval;
		int percent;
		double u;
		int64_t want;
	} cases[] = {
	    {60000, 5, -1, 57000}, {60000, 5, 1, 63000},    {60000, 5, 0, 60000},
	    {60000, 0, 1, 60000},  {60000, 10, 0.5, 63000}, {0, 5, 1, 0},
	    {1, 5, -1, 0}, /* 0.95 ms truncates to 0, like Go's Duration */
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++)
		assert_int_equal(
		    sl_jitter_apply_ms(cases[i].interval, cases[i].percent, cases[i].u),
		    cases[i].want);

	bool below = false, above = false;
	for (int i = 0; i < 10000; i++) {
		int64_t d = sl_jitter_interval_ms(600000, SL_INTERVAL_JITTER_PERCENT_DEFAULT);
		assert_true(d >= 570000 && d <= 630000);
		below |= d < 600000 - 15000;
		above |= d > 600000 + 15000;
	}
	assert_true(below && above);

	struct sl_error err = {0};
	assert_int_equal(sl_jitter_check_percent(5, &err), 0);
	assert_int_equal(sl_jitter_check_percent(0, &err), 0);
	assert_int_equal(sl_jitter_check_percent(99, &err), 0);
	assert_int_equal(sl_jitter_check_percent(100, &err), SL_EINVAL);
	assert_int_equal(sl_jitter_check_percent(-1, &err), SL_EINVAL);
}

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);
	if (!v)
		fail_msg("bad test JSON: %s: %s", jerr.text, text);
	return v;
}

static void reconcile_request_is_pending_until_handled(void **state)
{
	(void)state;
	json_auto_t *obj = parse("{\"metadata\":{\"generation\":2,\"annotations\":"
	                         "{\"reconcile.fluxcd.io/requestedAt\":\"t1\"}},"
	                         "\"status\":{\"lastHandledReconcileAt\":\"t0\"}}");
	assert_string_equal(sl_reconcile_requested_at(obj), "t1");
	assert_true(sl_reconcile_request_pending(obj));
	json_t *status = json_object_get(obj, "status");
	sl_status_record_reconcile_request(status, obj);
	assert_string_equal(json_string_value(json_object_get(status, "lastHandledReconcileAt")),
	                    "t1");
	assert_false(sl_reconcile_request_pending(obj));

	json_auto_t *plain = parse("{\"metadata\":{\"generation\":1},\"status\":{}}");
	assert_null(sl_reconcile_requested_at(plain));
	assert_false(sl_reconcile_request_pending(plain));
	sl_status_record_reconcile_request(json_object_get(plain, "status"), plain);
	assert_int_equal(json_object_size(json_object_get(plain, "status")), 0);
}

static void updates_trigger_on_generation_or_new_request_only(void **state)
{
	(void)state;
	const struct {
		const char *old_obj, *new_obj;
		bool want;
	} cases[] = {
	    {"{\"metadata\":{\"generation\":1}}", "{\"metadata\":{\"generation\":2}}", true},
	    {"{\"metadata\":{\"generation\":1}}",
	     "{\"metadata\":{\"generation\":1,\"labels\":{\"a\":\"b\"}},\"status\":{\"x\":1}}",
	     false},
	    {"{\"metadata\":{\"generation\":1}}",
	     "{\"metadata\":{\"generation\":1,\"annotations\":"
	     "{\"reconcile.fluxcd.io/requestedAt\":\"t1\"}}}",
	     true},
	    {"{\"metadata\":{\"generation\":1,\"annotations\":"
	     "{\"reconcile.fluxcd.io/requestedAt\":\"t1\"}}}",
	     "{\"metadata\":{\"generation\":1,\"annotations\":"
	     "{\"reconcile.fluxcd.io/requestedAt\":\"t2\"}}}",
	     true},
	    {"{\"metadata\":{\"generation\":1,\"annotations\":"
	     "{\"reconcile.fluxcd.io/requestedAt\":\"t1\"}}}",
	     "{\"metadata\":{\"generation\":1,\"annotations\":"
	     "{\"reconcile.fluxcd.io/requestedAt\":\"t1\",\"other\":\"x\"}}}",
	     false},
	    {"{\"metadata\":{\"generation\":1,\"annotations\":"
	     "{\"reconcile.fluxcd.io/requestedAt\":\"t1\"}}}",
	     "{\"metadata\":{\"generation\":1}}", false},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		json_auto_t *o = parse(cases[i].old_obj);
		json_auto_t *n = parse(cases[i].new_obj);
		if (sl_reconcile_update_wanted(o, n) != cases[i].want)
			fail_msg("case %zu: want %d", i, cases[i].want);
	}
}

/* ---- conditions ------------------------------------------------------ */

static struct sl_cond_stamp stamp(int64_t generation, const char *now)
{
	struct sl_cond_stamp st = {.generation = generation};
	snprintf(st.now, sizeof(st.now), "%s", now);
	return st;
}

static void expect_condition(const json_t *status, const char *type, const char *cond_status,
                             const char *reason, const char *message, int64_t generation,
                             const char *time)
{
	json_t *c = sl_condition_get(status, type);
	if (!c)
		fail_msg("no %s condition", type);
	assert_string_equal(json_string_value(json_object_get(c, "status")), cond_status);
	assert_string_equal(sl_condition_reason(status, type), reason);
	assert_string_equal(sl_condition_message(status, type), message);
	assert_int_equal(json_integer_value(json_object_get(c, "observedGeneration")), generation);
	assert_string_equal(json_string_value(json_object_get(c, "lastTransitionTime")), time);
}

static void condition_transition_time_follows_flux(void **state)
{
	(void)state;
	const char *T0 = "2026-01-01T00:00:00Z", *T1 = "2026-01-01T00:01:00Z",
	           *T2 = "2026-01-01T00:02:00Z", *T3 = "2026-01-01T00:03:00Z",
	           *T4 = "2026-01-01T00:04:00Z", *T5 = "2026-01-01T00:05:00Z";
	const struct {
		int64_t generation;
		const char *now;
		enum sl_cond_status status;
		const char *reason, *message;
		/* expected afterwards */
		const char *want_status;
		int64_t want_generation;
		const char *want_time;
	} steps[] = {
	    /* new: stamped now */
	    {1, T0, SL_COND_TRUE, "Succeeded", "stored", "True", 1, T0},
	    /* same state later: time kept */
	    {1, T1, SL_COND_TRUE, "Succeeded", "stored", "True", 1, T0},
	    /* new generation alone: generation moves, time kept */
	    {2, T2, SL_COND_TRUE, "Succeeded", "stored", "True", 2, T0},
	    /* message change: a transition */
	    {2, T3, SL_COND_TRUE, "Succeeded", "stored again", "True", 2, T3},
	    /* reason change: a transition */
	    {2, T4, SL_COND_TRUE, "Other", "stored again", "True", 2, T4},
	    /* status change: a transition */
	    {3, T5, SL_COND_FALSE, "Other", "stored again", "False", 3, T5},
	};
	json_auto_t *status = json_object();
	for (size_t i = 0; i < SL_ARRAY_SIZE(steps); i++) {
		struct sl_cond_stamp st = stamp(steps[i].generation, steps[i].now);
		sl_condition_set(status, &st, "ArtifactInStorage", steps[i].status, steps[i].reason,
		                 "%s", steps[i].message);
		expect_condition(status, "ArtifactInStorage", steps[i].want_status, steps[i].reason,
		                 steps[i].message, steps[i].want_generation, steps[i].want_time);
	}
	assert_int_equal(json_array_size(json_object_get(status, "conditions")), 1);
}

static void conditions_are_sorted_as_flux_sorts_them(void **state)
{
	(void)state;
	json_auto_t *status = json_object();
	struct sl_cond_stamp g1 = stamp(1, "2026-01-01T00:00:00Z");
	struct sl_cond_stamp g3 = stamp(3, "2026-01-01T00:00:00Z");
	sl_condition_set(status, &g1, "Foo", SL_COND_TRUE, "R", "m");
	sl_condition_set(status, &g1, SL_COND_READY, SL_COND_TRUE, "R", "m");
	sl_condition_set(status, &g3, "Zed", SL_COND_TRUE, "R", "m");
	sl_condition_set(status, &g1, "Abc", SL_COND_TRUE, "R", "m");
	sl_condition_set(status, &g1, SL_COND_STALLED, SL_COND_TRUE, "R", "m");
	sl_condition_set(status, &g1, SL_COND_RECONCILING, SL_COND_TRUE, "R", "m");
	const char *want[] = {"Stalled", "Reconciling", "Ready", "Zed", "Abc", "Foo"};
	json_t *list = json_object_get(status, "conditions");
	assert_int_equal(json_array_size(list), SL_ARRAY_SIZE(want));
	for (size_t i = 0; i < SL_ARRAY_SIZE(want); i++)
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(list, i), "type")), want[i]);
	/* metav1.Condition's field order. */
	char *text = json_dumps(json_array_get(list, 0), 0);
	assert_string_equal(text,
	                    "{\"type\": \"Stalled\", \"status\": \"True\", "
	                    "\"observedGeneration\": 1, \"lastTransitionTime\": "
	                    "\"2026-01-01T00:00:00Z\", \"reason\": \"R\", \"message\": \"m\"}");
	free(text);
}

static void reconciling_and_stalled_exclude_each_other(void **state)
{
	(void)state;
	json_auto_t *status = json_object();
	struct sl_cond_stamp st = stamp(4, "2026-01-01T00:00:00Z");
	sl_condition_mark_stalled(status, &st, "URLInvalid", "URL validation failed for '%s'", "x");
	assert_true(sl_condition_is_true(status, SL_COND_STALLED));
	sl_condition_mark_reconciling(status, &st, SL_REASON_PROGRESSING,
	                              "processing object: new generation %d -> %d", 3, 4);
	assert_null(sl_condition_get(status, SL_COND_STALLED));
	assert_string_equal(sl_condition_message(status, SL_COND_RECONCILING),
	                    "processing object: new generation 3 -> 4");
	sl_condition_mark_stalled(status, &st, "URLInvalid", "bad");
	assert_null(sl_condition_get(status, SL_COND_RECONCILING));
	assert_false(sl_condition_is_false(status, SL_COND_STALLED));
	assert_true(sl_condition_is_unknown(status, SL_COND_READY)); /* absent */
	assert_string_equal(sl_condition_reason(status, SL_COND_READY), "");
	/* The last one gone, the list goes too (omitempty). */
	sl_condition_delete(status, SL_COND_STALLED);
	assert_null(json_object_get(status, "conditions"));
	sl_condition_delete(status, SL_COND_STALLED);
}

static void condition_messages_are_trimmed_and_made_utf8(void **state)
{
	(void)state;
	json_auto_t *status = json_object();
	struct sl_cond_stamp st = stamp(1, "2026-01-01T00:00:00Z");
	sl_condition_set(status, &st, SL_COND_READY, SL_COND_FALSE, "Failed", "bad \xff byte");
	assert_string_equal(sl_condition_message(status, SL_COND_READY), "bad \xef\xbf\xbd byte");

	size_t n = SL_CONDITION_MESSAGE_MAX + 100;
	char *long_msg = malloc(n + 1);
	memset(long_msg, 'a', n);
	/* A 2-byte character straddling the cut (at MAX - 3) is dropped whole,
	 * not split into invalid UTF-8. */
	memcpy(long_msg + SL_CONDITION_MESSAGE_MAX - 4, "\xc3\xa9", 2);
	long_msg[n] = 0;
	sl_condition_set(status, &st, SL_COND_READY, SL_COND_FALSE, "Failed", "%s", long_msg);
	const char *msg = sl_condition_message(status, SL_COND_READY);
	assert_int_equal(strlen(msg), SL_CONDITION_MESSAGE_MAX - 1);
	assert_true(sl_endswith(msg, "aa..."));
	/* Just before the cut, it is kept. */
	memset(long_msg, 'a', n);
	memcpy(long_msg + SL_CONDITION_MESSAGE_MAX - 5, "\xc3\xa9", 2);
	sl_condition_set(status, &st, SL_COND_READY, SL_COND_FALSE, "Failed", "%s", long_msg);
	msg = sl_condition_message(status, SL_COND_READY);
	assert_int_equal(strlen(msg), SL_CONDITION_MESSAGE_MAX);
	assert_true(sl_endswith(msg, "a\xc3\xa9..."));
	free(long_msg);

	sl_condition_set(status, &st, SL_COND_READY, SL_COND_FALSE, "Failed", "%s", "exactly fits");
	assert_string_equal(sl_condition_message(status, SL_COND_READY), "exactly fits");
}

/* source-controller's OCIRepository summary. */
static const char *const oci_types[] = {
    "StorageOperationFailed", "FetchFailed", "ArtifactOutdated", "ArtifactInStorage",
    "SourceVerified",         "Stalled",     "Reconciling",      NULL};
static const char *const oci_negative[] = {
    "StorageOperationFailed", "FetchFailed", "ArtifactOutdated", "Stalled", "Reconciling", NULL};
static const char *const oci_bipolar[] = {"SourceVerified", NULL};

static void ready_summary_follows_flux_priorities(void **state)
{
	(void)state;
	const struct sl_summary_opts oci = {oci_types, oci_negative, oci_bipolar};
	const struct sl_summary_opts all = {NULL, oci_negative, NULL};
	struct {
		const char *name;
		const struct sl_summary_opts *opts;
		const char *conditions; /* JSON array */
		const char *want_status, *want_reason, *want_message;
	} cases[] = {
	    {"success", &oci,
	     "[{\"type\":\"ArtifactInStorage\",\"status\":\"True\",\"reason\":\"Succeeded\","
	     "\"message\":\"stored artifact for digest 'latest@sha256:1'\"}]",
	     "True", "Succeeded", "stored artifact for digest 'latest@sha256:1'"},
	    {"a failure wins over progress and success", &oci,
	     "[{\"type\":\"Reconciling\",\"status\":\"True\",\"reason\":\"ProgressingWithRetry\","
	     "\"message\":\"processing\"},"
	     "{\"type\":\"FetchFailed\",\"status\":\"True\",\"reason\":\"OCIArtifactPullFailed\","
	     "\"message\":\"failed to determine artifact digest\"},"
	     "{\"type\":\"ArtifactInStorage\",\"status\":\"True\",\"reason\":\"Succeeded\","
	     "\"message\":\"stored\"}]",
	     "False", "OCIArtifactPullFailed", "failed to determine artifact digest"},
	    {"first failing type by priority", &oci,
	     "[{\"type\":\"FetchFailed\",\"status\":\"True\",\"reason\":\"F\",\"message\":\"f\"},"
	     "{\"type\":\"StorageOperationFailed\",\"status\":\"True\",\"reason\":\"S\","
	     "\"message\":\"s\"}]",
	     "False", "S", "s"},
	    {"still reconciling", &oci,
	     "[{\"type\":\"Reconciling\",\"status\":\"True\",\"reason\":\"Progressing\","
	     "\"message\":\"building artifact\"},"
	     "{\"type\":\"ArtifactInStorage\",\"status\":\"True\",\"reason\":\"Succeeded\","
	     "\"message\":\"stored\"}]",
	     "False", "Progressing", "building artifact"},
	    {"only unknowns", &oci,
	     "[{\"type\":\"ArtifactInStorage\",\"status\":\"Unknown\",\"reason\":\"U\","
	     "\"message\":\"u\"}]",
	     "Unknown", "U", "u"},
	    {"a false negative condition reads as success", &oci,
	     "[{\"type\":\"FetchFailed\",\"status\":\"False\",\"reason\":\"Recovered\","
	     "\"message\":\"ok\"}]",
	     "True", "Recovered", "ok"},
	    {"a failed verification overrides a fetch failure", &oci,
	     "[{\"type\":\"FetchFailed\",\"status\":\"True\",\"reason\":\"F\",\"message\":\"f\"},"
	     "{\"type\":\"SourceVerified\",\"status\":\"False\",\"reason\":\"VerificationError\","
	     "\"message\":\"no matching signatures\"}]",
	     "False", "VerificationError", "no matching signatures"},
	    {"without a priority list, Set's order decides", &all,
	     "[{\"type\":\"Stalled\",\"status\":\"True\",\"reason\":\"URLInvalid\","
	     "\"message\":\"bad url\"},"
	     "{\"type\":\"FetchFailed\",\"status\":\"True\",\"reason\":\"F\",\"message\":\"f\"}]",
	     "False", "URLInvalid", "bad url"},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		json_auto_t *status = json_object();
		json_object_set_new(status, "conditions", parse(cases[i].conditions));
		struct sl_cond_stamp st = stamp(7, "2026-01-01T00:00:00Z");
		sl_conditions_summarize(status, &st, SL_COND_READY, cases[i].opts);
		json_t *ready = sl_condition_get(status, SL_COND_READY);
		if (!ready)
			fail_msg("%s: no Ready", cases[i].name);
		if (strcmp(json_string_value(json_object_get(ready, "status")),
		           cases[i].want_status) != 0 ||
		    strcmp(sl_condition_reason(status, SL_COND_READY), cases[i].want_reason) != 0 ||
		    strcmp(sl_condition_message(status, SL_COND_READY), cases[i].want_message) != 0)
			fail_msg("%s: got Ready=%s %s \"%s\"", cases[i].name,
			         json_string_value(json_object_get(ready, "status")),
			         sl_condition_reason(status, SL_COND_READY),
			         sl_condition_message(status, SL_COND_READY));
		assert_int_equal(json_integer_value(json_object_get(ready, "observedGeneration")),
		                 7);
	}
}

static void summary_of_nothing_in_scope_leaves_ready_alone(void **state)
{
	(void)state;
	const struct sl_summary_opts oci = {oci_types, oci_negative, oci_bipolar};
	json_auto_t *status =
	    parse("{\"conditions\":[{\"type\":\"Healthy\",\"status\":\"False\",\"reason\":\"H\","
	          "\"message\":\"h\"}]}");
	struct sl_cond_stamp st = stamp(1, "2026-01-01T00:00:00Z");
	sl_conditions_summarize(status, &st, SL_COND_READY, &oci);
	assert_null(sl_condition_get(status, SL_COND_READY));
	json_auto_t *empty = json_object();
	sl_conditions_summarize(empty, &st, SL_COND_READY, NULL);
	assert_int_equal(json_object_size(empty), 0);
}

/* ---- status patches -------------------------------------------------- */

static void unchanged_status_produces_no_patch(void **state)
{
	(void)state;
	const struct sl_summary_opts oci = {oci_types, oci_negative, oci_bipolar};
	json_auto_t *obj = parse("{\"metadata\":{\"generation\":3}}");
	json_auto_t *old_status = json_object();
	struct sl_clock *clock = sl_clock_fake_new(START_NS, START_WALL);
	struct sl_cond_stamp st;
	sl_cond_stamp_init(&st, obj, clock);
	assert_int_equal(st.generation, 3);
	assert_string_equal(st.now, "2026-01-01T00:00:00Z");
	sl_condition_set(old_status, &st, "ArtifactInStorage", SL_COND_TRUE, "Succeeded",
	                 "stored artifact for digest '%s'", "latest@sha256:1");
	sl_conditions_summarize(old_status, &st, SL_COND_READY, &oci);
	json_object_set_new(old_status, "observedGeneration", json_integer(3));

	/* The next reconcile, ten minutes later, finds nothing new. */
	sl_clock_fake_advance(clock, 600 * SL_NS_PER_S);
	sl_cond_stamp_init(&st, obj, clock);
	json_auto_t *new_status = json_deep_copy(old_status);
	sl_condition_mark_reconciling(new_status, &st, SL_REASON_PROGRESSING, "reconciling");
	sl_condition_set(new_status, &st, "ArtifactInStorage", SL_COND_TRUE, "Succeeded",
	                 "stored artifact for digest '%s'", "latest@sha256:1");
	sl_condition_delete(new_status, SL_COND_RECONCILING);
	sl_conditions_summarize(new_status, &st, SL_COND_READY, &oci);
	json_object_set_new(new_status, "observedGeneration", json_integer(3));

	assert_null(sl_status_patch(old_status, new_status));
	assert_null(sl_json_merge_diff(old_status, new_status));
	sl_clock_free(clock);
}

static void status_patch_holds_only_what_changed(void **state)
{
	(void)state;
	json_auto_t *old_status =
	    parse("{\"observedGeneration\":1,\"url\":\"http://x/latest.tar.gz\","
	          "\"artifact\":{\"revision\":\"v1\",\"digest\":\"sha256:1\",\"size\":10},"
	          "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}");
	json_auto_t *new_status =
	    parse("{\"observedGeneration\":1,"
	          "\"artifact\":{\"revision\":\"v2\",\"digest\":\"sha256:1\",\"size\":10},"
	          "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}],"
	          "\"lastHandledReconcileAt\":\"t1\"}");
	json_auto_t *patch = sl_status_patch(old_status, new_status);
	json_auto_t *want = parse("{\"status\":{\"url\":null,\"artifact\":{\"revision\":\"v2\"},"
	                          "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}],"
	                          "\"lastHandledReconcileAt\":\"t1\"}}");
	assert_non_null(patch);
	if (!json_equal(patch, want)) {
		char *text = json_dumps(patch, JSON_SORT_KEYS);
		fail_msg("patch %s", text);
	}
	/* A first status: everything, from nothing. */
	json_auto_t *first = sl_status_patch(NULL, new_status);
	assert_true(json_equal(json_object_get(first, "status"), new_status));
	json_auto_t *empty = json_object();
	assert_null(sl_status_patch(NULL, empty));
}

static void merge_diff_table(void **state)
{
	(void)state;
	const struct {
		const char *old_doc, *new_doc, *want; /* want NULL: no patch */
	} cases[] = {
	    {"{}", "{}", NULL},
	    {"{\"a\":1}", "{\"a\":1}", NULL},
	    {"{\"a\":1}", "{\"a\":1.0}", "{\"a\":1.0}"},
	    {"{\"a\":null}", "{}", NULL},
	    {"{}", "{\"a\":null}", NULL},
	    {"{\"a\":1}", "{\"a\":null}", "{\"a\":null}"},
	    {"{\"a\":{\"b\":1,\"c\":2}}", "{\"a\":{\"b\":1}}", "{\"a\":{\"c\":null}}"},
	    {"{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1}}", NULL},
	    {"{\"a\":[1,2]}", "{\"a\":[1,2,3]}", "{\"a\":[1,2,3]}"},
	    {"{\"a\":\"x\"}", "{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1}}"},
	    {"{\"a\":{\"b\":1}}", "{\"a\":\"x\"}", "{\"a\":\"x\"}"},
	    {"{\"a\":{}}", "{\"a\":{\"b\":{\"c\":true}}}", "{\"a\":{\"b\":{\"c\":true}}}"},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		json_auto_t *o = parse(cases[i].old_doc);
		json_auto_t *n = parse(cases[i].new_doc);
		json_auto_t *got = sl_json_merge_diff(o, n);
		if (!cases[i].want) {
			if (got)
				fail_msg("case %zu: want no patch", i);
			continue;
		}
		json_auto_t *want = parse(cases[i].want);
		if (!got || !json_equal(got, want))
			fail_msg("case %zu: wrong patch", i);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(add_deduplicates_a_queued_key, setup_fake,
	                                    teardown_fake),
	    cmocka_unit_test_setup_teardown(key_added_while_processing_is_requeued_by_done,
	                                    setup_fake, teardown_fake),
	    cmocka_unit_test_setup_teardown(keys_are_handed_out_in_fifo_order, setup_fake,
	                                    teardown_fake),
	    cmocka_unit_test_setup_teardown(add_after_orders_keys_by_deadline, setup_fake,
	                                    teardown_fake),
	    cmocka_unit_test_setup_teardown(earlier_deadline_wins_for_one_key, setup_fake,
	                                    teardown_fake),
	    cmocka_unit_test_setup_teardown(add_after_ignores_a_key_already_queued, setup_fake,
	                                    teardown_fake),
	    cmocka_unit_test_setup_teardown(add_supersedes_a_pending_deadline, setup_fake,
	                                    teardown_fake),
	    cmocka_unit_test_setup_teardown(deadline_reached_while_processing_runs_after_done,
	                                    setup_fake, teardown_fake),
	    cmocka_unit_test_setup_teardown(zero_delay_add_after_is_an_add, setup_fake,
	                                    teardown_fake),
	    cmocka_unit_test(backoff_doubles_to_the_cap_and_forget_resets_it),
	    cmocka_unit_test(retry_delays_are_validated),
	    cmocka_unit_test_setup_teardown(memory_is_bounded_by_the_keys_in_use, setup_fake,
	                                    teardown_fake),
	    cmocka_unit_test_setup_teardown(metrics_count_adds_latency_and_work, setup_fake,
	                                    teardown_fake),
	    cmocka_unit_test_setup_teardown(blocked_get_wakes_at_a_fake_deadline, setup_fake,
	                                    teardown_fake),
	    cmocka_unit_test_setup_teardown(shutdown_wakes_every_blocked_getter, setup_fake,
	                                    teardown_fake),
	    cmocka_unit_test_setup_teardown(
	        shutdown_stops_handing_out_queued_keys_but_lets_work_finish, setup_fake,
	        teardown_fake),
	    cmocka_unit_test_setup_teardown(wait_idle_returns_when_the_last_key_is_done, setup_fake,
	                                    teardown_fake),
	    cmocka_unit_test(no_key_is_processed_twice_at_once),
	    cmocka_unit_test(worker_pool_acts_on_each_reconcile_result),
	    cmocka_unit_test(worker_pool_runs_every_key_once_when_added_once),
	    cmocka_unit_test_setup_teardown(worker_pool_stop_waits_for_a_running_reconcile,
	                                    setup_fake, teardown_fake),
	    cmocka_unit_test_setup_teardown(worker_pool_stop_gives_up_at_the_deadline, setup_fake,
	                                    teardown_fake),
	    cmocka_unit_test_setup_teardown(worker_pool_start_fails_cleanly, setup_fake,
	                                    teardown_fake),
	    cmocka_unit_test(fake_clock_moves_only_when_told),
	    cmocka_unit_test(jitter_stays_within_the_percentage),
	    cmocka_unit_test(reconcile_request_is_pending_until_handled),
	    cmocka_unit_test(updates_trigger_on_generation_or_new_request_only),
	    cmocka_unit_test(condition_transition_time_follows_flux),
	    cmocka_unit_test(conditions_are_sorted_as_flux_sorts_them),
	    cmocka_unit_test(reconciling_and_stalled_exclude_each_other),
	    cmocka_unit_test(condition_messages_are_trimmed_and_made_utf8),
	    cmocka_unit_test(ready_summary_follows_flux_priorities),
	    cmocka_unit_test(summary_of_nothing_in_scope_leaves_ready_alone),
	    cmocka_unit_test(unchanged_status_produces_no_patch),
	    cmocka_unit_test(status_patch_holds_only_what_changed),
	    cmocka_unit_test(merge_diff_table),
	};
	return cmocka_run_group_tests_name("queue", tests, NULL, NULL);
}
