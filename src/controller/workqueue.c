/* The work queue: one entry per key in a hash table, threaded onto an
 * intrusive FIFO (ready keys), a min-heap by deadline (delayed keys) and a
 * list (keys being processed), so memory follows the number of distinct
 * keys and an entry is freed as soon as it has no state left.
 *
 * Waiting: getters block on `ready`, except at most one, the timer waiter,
 * which sleeps on `timer` until the heap's first deadline and promotes what
 * is due. Whoever changes what a waiter is waiting for wakes the right one:
 * a new ready key wakes a getter, a new first deadline wakes the timer
 * waiter (or a getter to become it), and a getter leaving with work still
 * around passes the baton. Deadlines are promoted lazily, by whoever holds
 * the lock next, with the deadline itself as the time the key became ready,
 * so the queue-latency figures stay honest. */
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include "controller/controller.h"

#define NOT_IN_HEAP SIZE_MAX
#define MIN_BUCKETS 64

struct entry {
	struct entry *hnext;         /* hash chain */
	struct entry *fnext;         /* FIFO */
	struct entry *pprev, *pnext; /* processing list */
	size_t heap_index;           /* NOT_IN_HEAP unless delayed */
	int64_t deadline_ns;         /* when delayed */
	int64_t ready_ns;            /* when it became dirty */
	int64_t started_ns;          /* when handed out */
	uint64_t hash;
	unsigned failures;
	bool dirty;      /* must run (again); queued in the FIFO unless processing */
	bool processing; /* handed out, done() not yet called */
	char key[];
};

struct histogram {
	uint64_t count;
	double sum;
	uint64_t buckets[SL_WORKQUEUE_BUCKETS]; /* non-cumulative */
};

struct sl_workqueue {
	pthread_mutex_t mu;
	pthread_cond_t ready; /* getters without a deadline */
	pthread_cond_t timer; /* the one getter watching the first deadline */
	pthread_cond_t idle;  /* wait_idle() */
	struct sl_clock *clock;
	char *name;
	int64_t min_delay_ms, max_delay_ms;

	struct entry **buckets;
	size_t n_buckets, n_entries;

	struct entry *fifo_head, *fifo_tail;
	size_t fifo_len;
	struct entry **heap;
	size_t heap_len, heap_cap;
	struct entry *processing;
	size_t n_processing, n_dirty;

	unsigned n_waiting;
	bool timer_waiter;
	bool shutting_down;

	uint64_t adds_total, retries_total;
	struct histogram queue_duration, work_duration;
};

/* controller-runtime: prometheus.ExponentialBuckets(10e-9, 10, 12). */
const double sl_workqueue_bucket_bounds[SL_WORKQUEUE_BUCKETS] = {
    1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000,
};

static void observe(struct histogram *h, int64_t ns)
{
	double v = ns > 0 ? (double)ns / 1e9 : 0;
	h->count++;
	h->sum += v;
	for (size_t i = 0; i < SL_WORKQUEUE_BUCKETS; i++) {
		if (v <= sl_workqueue_bucket_bounds[i]) {
			h->buckets[i]++;
			break;
		}
	}
}

static void histogram_export(const struct histogram *h, struct sl_histogram *out)
{
	out->count = h->count;
	out->sum = h->sum;
	uint64_t acc = 0;
	for (size_t i = 0; i < SL_WORKQUEUE_BUCKETS; i++) {
		acc += h->buckets[i];
		out->cumulative[i] = acc;
	}
}

/* ---- hash table ------------------------------------------------------ */

static uint64_t hash_key(const char *key)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 1099511628211ull;
	}
	return h;
}

static void rehash(struct sl_workqueue *q, size_t n_buckets)
{
	struct entry **buckets = sl_xcalloc(n_buckets, sizeof(*buckets));
	for (size_t i = 0; i < q->n_buckets; i++) {
		struct entry *e = q->buckets[i];
		while (e) {
			struct entry *next = e->hnext;
			size_t b = e->hash & (n_buckets - 1);
			e->hnext = buckets[b];
			buckets[b] = e;
			e = next;
		}
	}
	free(q->buckets);
	q->buckets = buckets;
	q->n_buckets = n_buckets;
}

static struct entry *lookup(struct sl_workqueue *q, const char *key)
{
	uint64_t h = hash_key(key);
	for (struct entry *e = q->buckets[h & (q->n_buckets - 1)]; e; e = e->hnext)
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static struct entry *lookup_or_create(struct sl_workqueue *q, const char *key)
{
	struct entry *e = lookup(q, key);
	if (e)
		return e;
	size_t len = strlen(key);
	e = sl_xcalloc(1, sizeof(*e) + len + 1);
	memcpy(e->key, key, len + 1);
	e->hash = hash_key(key);
	e->heap_index = NOT_IN_HEAP;
	if (q->n_entries + 1 > q->n_buckets)
		rehash(q, q->n_buckets * 2);
	size_t b = e->hash & (q->n_buckets - 1);
	e->hnext = q->buckets[b];
	q->buckets[b] = e;
	q->n_entries++;
	return e;
}

/* Frees an entry that no longer records anything. */
static void release_if_unused(struct sl_workqueue *q, struct entry *e)
{
	if (e->dirty || e->processing || e->heap_index != NOT_IN_HEAP || e->failures)
		return;
	struct entry **pp = &q->buckets[e->hash & (q->n_buckets - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	free(e);
	q->n_entries--;
	if (q->n_buckets > MIN_BUCKETS && q->n_entries < q->n_buckets / 8)
		rehash(q, q->n_buckets / 2);
}

/* ---- deadline heap --------------------------------------------------- */

static void heap_place(struct sl_workqueue *q, size_t i, struct entry *e)
{
	q->heap[i] = e;
	e->heap_index = i;
}

static void sift_up(struct sl_workqueue *q, size_t i)
{
	struct entry *e = q->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (q->heap[parent]->deadline_ns <= e->deadline_ns)
			break;
		heap_place(q, i, q->heap[parent]);
		i = parent;
	}
	heap_place(q, i, e);
}

static void sift_down(struct sl_workqueue *q, size_t i)
{
	struct entry *e = q->heap[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= q->heap_len)
			break;
		if (child + 1 < q->heap_len &&
		    q->heap[child + 1]->deadline_ns < q->heap[child]->deadline_ns)
			child++;
		if (e->deadline_ns <= q->heap[child]->deadline_ns)
			break;
		heap_place(q, i, q->heap[child]);
		i = child;
	}
	heap_place(q, i, e);
}

static void heap_push(struct sl_workqueue *q, struct entry *e)
{
	if (q->heap_len == q->heap_cap) {
		q->heap_cap = q->heap_cap ? 2 * q->heap_cap : 16;
		q->heap = sl_xrealloc(q->heap, q->heap_cap * sizeof(*q->heap));
	}
	heap_place(q, q->heap_len++, e);
	sift_up(q, e->heap_index);
}

static void heap_remove(struct sl_workqueue *q, struct entry *e)
{
	size_t i = e->heap_index;
	e->heap_index = NOT_IN_HEAP;
	struct entry *last = q->heap[--q->heap_len];
	if (last != e) {
		heap_place(q, i, last);
		sift_up(q, i);
		sift_down(q, last->heap_index);
	}
	/* Give memory back once the heap is mostly empty. */
	if (q->heap_cap > 64 && q->heap_len < q->heap_cap / 4) {
		q->heap_cap /= 2;
		q->heap = sl_xrealloc(q->heap, q->heap_cap * sizeof(*q->heap));
	}
}

/* ---- FIFO and waking ------------------------------------------------- */

static void fifo_push(struct sl_workqueue *q, struct entry *e)
{
	e->fnext = NULL;
	if (q->fifo_tail)
		q->fifo_tail->fnext = e;
	else
		q->fifo_head = e;
	q->fifo_tail = e;
	q->fifo_len++;
}

static struct entry *fifo_pop(struct sl_workqueue *q)
{
	struct entry *e = q->fifo_head;
	q->fifo_head = e->fnext;
	if (!q->fifo_head)
		q->fifo_tail = NULL;
	e->fnext = NULL;
	q->fifo_len--;
	return e;
}

/* A key became ready: one getter is enough. */
static void wake_for_ready(struct sl_workqueue *q)
{
	if (q->n_waiting)
		pthread_cond_signal(&q->ready);
	else if (q->timer_waiter)
		pthread_cond_signal(&q->timer);
}

/* The first deadline moved earlier: the timer waiter must re-arm, or a
 * getter must become the timer waiter. */
static void wake_for_deadline(struct sl_workqueue *q)
{
	if (q->timer_waiter)
		pthread_cond_signal(&q->timer);
	else if (q->n_waiting)
		pthread_cond_signal(&q->ready);
}

/* ---- the queue's rules ----------------------------------------------- */

static void mark_dirty(struct sl_workqueue *q, struct entry *e, int64_t ready_ns)
{
	if (e->dirty)
		return;
	/* Running now supersedes running later: the run sets the next deadline. */
	if (e->heap_index != NOT_IN_HEAP)
		heap_remove(q, e);
	e->dirty = true;
	e->ready_ns = ready_ns;
	q->n_dirty++;
	q->adds_total++;
	if (!e->processing) {
		fifo_push(q, e);
		wake_for_ready(q);
	}
}

static void promote_due(struct sl_workqueue *q, int64_t now)
{
	while (q->heap_len && q->heap[0]->deadline_ns <= now) {
		struct entry *e = q->heap[0];
		heap_remove(q, e);
		mark_dirty(q, e, e->deadline_ns);
	}
}

static void schedule(struct sl_workqueue *q, struct entry *e, int64_t deadline_ns)
{
	if (e->dirty)
		return; /* it runs sooner than any deadline */
	if (e->heap_index != NOT_IN_HEAP) {
		if (deadline_ns >= e->deadline_ns)
			return; /* the earlier deadline wins */
		e->deadline_ns = deadline_ns;
		sift_up(q, e->heap_index);
	} else {
		e->deadline_ns = deadline_ns;
		heap_push(q, e);
	}
	if (e->heap_index == 0)
		wake_for_deadline(q);
}

static int64_t backoff_ms(const struct sl_workqueue *q, unsigned failures)
{
	int64_t d = q->min_delay_ms;
	for (unsigned i = 0; i < failures && d < q->max_delay_ms; i++)
		d *= 2; /* cannot overflow: d < max <= SL_RETRY_DELAY_MS_MAX */
	return d < q->max_delay_ms ? d : q->max_delay_ms;
}

static void start_processing(struct sl_workqueue *q, struct entry *e, int64_t now)
{
	e->dirty = false;
	q->n_dirty--;
	e->processing = true;
	e->started_ns = now;
	e->pprev = NULL;
	e->pnext = q->processing;
	if (q->processing)
		q->processing->pprev = e;
	q->processing = e;
	q->n_processing++;
	observe(&q->queue_duration, now - e->ready_ns);
}

/* ---- public API ------------------------------------------------------ */

int sl_workqueue_new(const struct sl_workqueue_config *cfg, struct sl_workqueue **ret,
                     struct sl_error *err)
{
	int64_t min = cfg && cfg->min_retry_delay_ms ? cfg->min_retry_delay_ms
	                                             : SL_MIN_RETRY_DELAY_MS_DEFAULT;
	int64_t max = cfg && cfg->max_retry_delay_ms ? cfg->max_retry_delay_ms
	                                             : SL_MAX_RETRY_DELAY_MS_DEFAULT;
	if (min <= 0 || min > SL_RETRY_DELAY_MS_MAX)
		return sl_error_set(err, SL_EINVAL, "invalid minimum retry delay %" PRId64 "ms",
		                    min);
	if (max < min || max > SL_RETRY_DELAY_MS_MAX)
		return sl_error_set(err, SL_EINVAL,
		                    "invalid maximum retry delay %" PRId64
		                    "ms: must be between the minimum (%" PRId64 "ms) and a year",
		                    max, min);

	struct sl_workqueue *q = sl_xcalloc(1, sizeof(*q));
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->ready, NULL);
	sl_clock_cond_init(&q->timer);
	sl_clock_cond_init(&q->idle);
	q->clock = cfg && cfg->clock ? cfg->clock : sl_clock_real();
	q->name = sl_strdup(cfg && cfg->name ? cfg->name : "");
	q->min_delay_ms = min;
	q->max_delay_ms = max;
	q->n_buckets = MIN_BUCKETS;
	q->buckets = sl_xcalloc(q->n_buckets, sizeof(*q->buckets));
	sl_clock_attach(q->clock, &q->mu, &q->timer);
	sl_clock_attach(q->clock, &q->mu, &q->idle);
	*ret = q;
	return 0;
}

void sl_workqueue_free(struct sl_workqueue *q)
{
	if (!q)
		return;
	sl_clock_detach(q->clock, &q->timer);
	sl_clock_detach(q->clock, &q->idle);
	for (size_t i = 0; i < q->n_buckets; i++) {
		struct entry *e = q->buckets[i];
		while (e) {
			struct entry *next = e->hnext;
			free(e);
			e = next;
		}
	}
	free(q->buckets);
	free(q->heap);
	free(q->name);
	pthread_cond_destroy(&q->ready);
	pthread_cond_destroy(&q->timer);
	pthread_cond_destroy(&q->idle);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

void sl_workqueue_add(struct sl_workqueue *q, const char *key)
{
	pthread_mutex_lock(&q->mu);
	if (!q->shutting_down)
		mark_dirty(q, lookup_or_create(q, key), sl_clock_now_ns(q->clock));
	pthread_mutex_unlock(&q->mu);
}

static void add_after_locked(struct sl_workqueue *q, struct entry *e, int64_t delay_ms)
{
	int64_t now = sl_clock_now_ns(q->clock);
	q->retries_total++;
	if (delay_ms <= 0) {
		mark_dirty(q, e, now);
		return;
	}
	if (delay_ms > SL_RETRY_DELAY_MS_MAX)
		delay_ms = SL_RETRY_DELAY_MS_MAX;
	schedule(q, e, now + delay_ms * SL_NS_PER_MS);
}

void sl_workqueue_add_after(struct sl_workqueue *q, const char *key, int64_t delay_ms)
{
	pthread_mutex_lock(&q->mu);
	if (!q->shutting_down) {
		struct entry *e = lookup_or_create(q, key);
		add_after_locked(q, e, delay_ms);
		release_if_unused(q, e);
	}
	pthread_mutex_unlock(&q->mu);
}

int64_t sl_workqueue_add_rate_limited(struct sl_workqueue *q, const char *key)
{
	int64_t delay = 0;
	pthread_mutex_lock(&q->mu);
	if (!q->shutting_down) {
		struct entry *e = lookup_or_create(q, key);
		delay = backoff_ms(q, e->failures);
		if (e->failures < UINT_MAX)
			e->failures++;
		add_after_locked(q, e, delay);
	}
	pthread_mutex_unlock(&q->mu);
	return delay;
}

void sl_workqueue_forget(struct sl_workqueue *q, const char *key)
{
	pthread_mutex_lock(&q->mu);
	struct entry *e = lookup(q, key);
	if (e) {
		e->failures = 0;
		release_if_unused(q, e);
	}
	pthread_mutex_unlock(&q->mu);
}

unsigned sl_workqueue_num_requeues(struct sl_workqueue *q, const char *key)
{
	pthread_mutex_lock(&q->mu);
	struct entry *e = lookup(q, key);
	unsigned n = e ? e->failures : 0;
	pthread_mutex_unlock(&q->mu);
	return n;
}

/* Takes the next ready key, if any; with q->mu held. */
static bool take_ready(struct sl_workqueue *q, const char **ret_key)
{
	int64_t now = sl_clock_now_ns(q->clock);
	promote_due(q, now);
	if (!q->fifo_head)
		return false;
	struct entry *e = fifo_pop(q);
	start_processing(q, e, now);
	*ret_key = e->key;
	/* Pass the baton: more ready keys, or deadlines nobody watches. */
	if (q->n_waiting && (q->fifo_head || (q->heap_len && !q->timer_waiter)))
		pthread_cond_signal(&q->ready);
	return true;
}

bool sl_workqueue_get(struct sl_workqueue *q, const char **ret_key)
{
	bool got = false;
	pthread_mutex_lock(&q->mu);
	while (!q->shutting_down) {
		if (take_ready(q, ret_key)) {
			got = true;
			break;
		}
		if (q->heap_len && !q->timer_waiter) {
			q->timer_waiter = true;
			sl_clock_wait_until(q->clock, &q->timer, &q->mu, q->heap[0]->deadline_ns);
			q->timer_waiter = false;
		} else {
			q->n_waiting++;
			pthread_cond_wait(&q->ready, &q->mu);
			q->n_waiting--;
		}
	}
	pthread_mutex_unlock(&q->mu);
	return got;
}

bool sl_workqueue_try_get(struct sl_workqueue *q, const char **ret_key)
{
	pthread_mutex_lock(&q->mu);
	bool got = !q->shutting_down && take_ready(q, ret_key);
	pthread_mutex_unlock(&q->mu);
	return got;
}

void sl_workqueue_done(struct sl_workqueue *q, const char *key)
{
	pthread_mutex_lock(&q->mu);
	struct entry *e = lookup(q, key);
	if (e && e->processing) {
		e->processing = false;
		if (e->pprev)
			e->pprev->pnext = e->pnext;
		else
			q->processing = e->pnext;
		if (e->pnext)
			e->pnext->pprev = e->pprev;
		e->pprev = e->pnext = NULL;
		q->n_processing--;
		observe(&q->work_duration, sl_clock_now_ns(q->clock) - e->started_ns);
		if (e->dirty) {
			fifo_push(q, e);
			wake_for_ready(q);
		}
		if (!q->n_processing)
			pthread_cond_broadcast(&q->idle);
		release_if_unused(q, e);
	}
	pthread_mutex_unlock(&q->mu);
}

void sl_workqueue_shutdown(struct sl_workqueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->shutting_down = true;
	pthread_cond_broadcast(&q->ready);
	pthread_cond_broadcast(&q->timer);
	pthread_cond_broadcast(&q->idle);
	pthread_mutex_unlock(&q->mu);
}

bool sl_workqueue_shutting_down(struct sl_workqueue *q)
{
	pthread_mutex_lock(&q->mu);
	bool down = q->shutting_down;
	pthread_mutex_unlock(&q->mu);
	return down;
}

bool sl_workqueue_wait_idle(struct sl_workqueue *q, int64_t deadline_ns)
{
	pthread_mutex_lock(&q->mu);
	while (q->n_processing && sl_clock_now_ns(q->clock) < deadline_ns)
		sl_clock_wait_until(q->clock, &q->idle, &q->mu, deadline_ns);
	bool idle = q->n_processing == 0;
	pthread_mutex_unlock(&q->mu);
	return idle;
}

struct sl_clock *sl_workqueue_clock(struct sl_workqueue *q)
{
	return q->clock;
}

size_t sl_workqueue_len(struct sl_workqueue *q)
{
	pthread_mutex_lock(&q->mu);
	promote_due(q, sl_clock_now_ns(q->clock));
	size_t n = q->fifo_len;
	pthread_mutex_unlock(&q->mu);
	return n;
}

void sl_workqueue_stats(struct sl_workqueue *q, struct sl_workqueue_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&q->mu);
	int64_t now = sl_clock_now_ns(q->clock);
	promote_due(q, now);
	out->name = q->name;
	/* client-go counts a key from add() to get(), dirty-while-processing
	 * ones included. */
	out->depth = q->n_dirty;
	out->adds_total = q->adds_total;
	out->retries_total = q->retries_total;
	histogram_export(&q->queue_duration, &out->queue_duration);
	histogram_export(&q->work_duration, &out->work_duration);
	for (struct entry *e = q->processing; e; e = e->pnext) {
		double secs = (double)(now - e->started_ns) / 1e9;
		out->unfinished_work_seconds += secs;
		if (secs > out->longest_running_processor_seconds)
			out->longest_running_processor_seconds = secs;
	}
	out->delayed = q->heap_len;
	out->processing = q->n_processing;
	out->keys = q->n_entries;
	out->waiters = q->n_waiting + (q->timer_waiter ? 1 : 0);
	pthread_mutex_unlock(&q->mu);
}
