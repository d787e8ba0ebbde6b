/* controller — the runtime every reconciler runs on, with no Kubernetes I/O:
 * a work queue with client-go's semantics (a key queued at most once, never
 * processed by two workers at a time, delayed adds, per-key exponential
 * failure backoff), a clock tests can drive, a pool of worker threads that
 * applies controller-runtime's rules to each reconcile's result, and the
 * helpers Flux's reconcilers share: interval jitter, reconcile requests
 * (reconcile.fluxcd.io/requestedAt), conditions over jansson objects with
 * Flux's summary rules, and status merge patches that are empty when
 * nothing changed.
 *
 * Ownership: objects made by *_new / *_start are released by the matching
 * *_free, which accepts NULL. A key handed out by sl_workqueue_get() belongs
 * to the queue and stays valid until sl_workqueue_done() for it. JSON
 * helpers borrow their arguments; those returning json_t * hand out a new
 * reference. Allocation failure aborts, as everywhere in sluice.
 *
 * Thread-safety: the clock, the work queue and the worker pool may be used
 * from any number of threads. The JSON helpers touch only the objects they
 * are given, which the caller must not share while they run (a reconciler
 * edits its own deep copy of a status, never the cached object). Nothing
 * here prints. */
#ifndef SLUICE_CONTROLLER_H
#define SLUICE_CONTROLLER_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* ---- clock ----------------------------------------------------------- */

/* Monotonic time for deadlines and durations, wall time for timestamps.
 * Everything in this module that waits or stamps takes a clock, so tests
 * run on a fake one and never sleep. A NULL clock means sl_clock_real(). */
struct sl_clock;

#define SL_NS_PER_MS     INT64_C(1000000)
#define SL_NS_PER_S      INT64_C(1000000000)
#define SL_DEADLINE_NONE INT64_MAX
/* "2006-01-02T15:04:05Z" plus NUL. */
#define SL_RFC3339_LEN 32

/* CLOCK_MONOTONIC and the system clock. Shared, never freed. */
struct sl_clock *sl_clock_real(void);
/* A clock that stands still until sl_clock_fake_advance() moves it. */
struct sl_clock *sl_clock_fake_new(int64_t mono_ns, int64_t wall_s);
/* Moves a fake clock forward and wakes whatever waits on it. Must not be
 * called with a mutex attached to the clock held. */
void sl_clock_fake_advance(struct sl_clock *c, int64_t ns);
/* NULL and the real clock are accepted and left alone. */
void sl_clock_free(struct sl_clock *c);

int64_t sl_clock_now_ns(struct sl_clock *c);
/* Seconds since the Unix epoch. */
int64_t sl_clock_wall_s(struct sl_clock *c);
/* The wall time as Kubernetes writes metav1.Time: UTC, whole seconds. */
void sl_clock_rfc3339(struct sl_clock *c, char out[SL_RFC3339_LEN]);

/* Initialises cond for sl_clock_wait_until (timed waits on CLOCK_MONOTONIC). */
void sl_clock_cond_init(pthread_cond_t *cond);
/* With mu held, waits on cond until it is signalled or the clock reaches
 * deadline_ns (SL_DEADLINE_NONE: no deadline); may return spuriously, so
 * callers loop on their predicate. On a fake clock only cond and
 * sl_clock_fake_advance() end the wait, and the latter only for a cond
 * registered with sl_clock_attach(). */
void sl_clock_wait_until(struct sl_clock *c, pthread_cond_t *cond, pthread_mutex_t *mu,
                         int64_t deadline_ns);
/* Registers (mu, cond) so a fake clock's advance broadcasts cond under mu;
 * no-op on the real clock. Detach before destroying either. */
void sl_clock_attach(struct sl_clock *c, pthread_mutex_t *mu, pthread_cond_t *cond);
void sl_clock_detach(struct sl_clock *c, pthread_cond_t *cond);

/* ---- work queue ------------------------------------------------------ */

/* Keys are opaque strings ("namespace/name", perhaps with a kind prefix).
 * The rules, client-go's:
 *  - a key waits in the queue at most once: adding a queued key is a no-op;
 *  - a key handed to a worker is never handed to another until the first
 *    calls done(); if it is added meanwhile it is marked dirty and queued
 *    again by done();
 *  - add_after() makes a key ready at a deadline; of two deadlines for one
 *    key the earlier wins, and a key already waiting to run now ignores it;
 *  - add_rate_limited() is add_after() with the key's next backoff delay,
 *    min_retry_delay * 2^failures capped at max_retry_delay; forget()
 *    resets the count.
 * One deliberate difference: add() cancels a pending deadline for the key,
 * since the run it causes sets the key's next deadline itself; client-go
 * keeps both and runs the key twice. Memory is proportional to the keys
 * that are queued, delayed, being processed or backing off. */
struct sl_workqueue;

/* Flux's --min-retry-delay and --max-retry-delay. */
#define SL_MIN_RETRY_DELAY_MS_DEFAULT 750
#define SL_MAX_RETRY_DELAY_MS_DEFAULT (15 * 60 * 1000)
/* Longer delays are refused: nothing in Flux waits this long. */
#define SL_RETRY_DELAY_MS_MAX (INT64_C(366) * 24 * 3600 * 1000)

struct sl_workqueue_config {
	const char *name;           /* the "name" label of the workqueue_* metrics */
	struct sl_clock *clock;     /* NULL: the real clock */
	int64_t min_retry_delay_ms; /* 0: SL_MIN_RETRY_DELAY_MS_DEFAULT */
	int64_t max_retry_delay_ms; /* 0: SL_MAX_RETRY_DELAY_MS_DEFAULT */
};

int sl_workqueue_new(const struct sl_workqueue_config *cfg, struct sl_workqueue **ret,
                     struct sl_error *err);
/* Only once no thread uses the queue any more (stop the pool first). */
void sl_workqueue_free(struct sl_workqueue *q);
static inline void sl_workqueue_freep(struct sl_workqueue **q)
{
	sl_workqueue_free(*q);
}

/* All adds are ignored once the queue is shutting down. */
void sl_workqueue_add(struct sl_workqueue *q, const char *key);
/* delay_ms <= 0 is add(). */
void sl_workqueue_add_after(struct sl_workqueue *q, const char *key, int64_t delay_ms);
/* Returns the delay chosen (0 when shutting down). */
int64_t sl_workqueue_add_rate_limited(struct sl_workqueue *q, const char *key);
void sl_workqueue_forget(struct sl_workqueue *q, const char *key);
/* Failures recorded since the last forget(). */
unsigned sl_workqueue_num_requeues(struct sl_workqueue *q, const char *key);

/* Blocks until a key is ready, then marks it processing and returns true
 * with *ret_key valid until done(). Returns false once the queue is shutting
 * down, even if keys are still queued: shutdown means stop taking work. */
bool sl_workqueue_get(struct sl_workqueue *q, const char **ret_key);
/* As get() without blocking: false when no key is ready right now. */
bool sl_workqueue_try_get(struct sl_workqueue *q, const char **ret_key);
/* Ends the processing of key; queues it again if it was added meanwhile. */
void sl_workqueue_done(struct sl_workqueue *q, const char *key);

/* Wakes every blocked get() (they return false) and refuses further adds;
 * keys being processed may still be done(). Idempotent. */
void sl_workqueue_shutdown(struct sl_workqueue *q);
bool sl_workqueue_shutting_down(struct sl_workqueue *q);
/* Waits until no key is being processed or the queue's clock reaches
 * deadline_ns; returns whether the queue is idle. */
bool sl_workqueue_wait_idle(struct sl_workqueue *q, int64_t deadline_ns);
struct sl_clock *sl_workqueue_clock(struct sl_workqueue *q);

/* Keys ready to be handed out now. */
size_t sl_workqueue_len(struct sl_workqueue *q);

/* The figures controller-runtime exports as workqueue_*{name=...}. The
 * histograms use its buckets, ExponentialBuckets(10e-9, 10, 12). */
#define SL_WORKQUEUE_BUCKETS 12
extern const double sl_workqueue_bucket_bounds[SL_WORKQUEUE_BUCKETS];

struct sl_histogram {
	uint64_t count;
	double sum;                                /* seconds */
	uint64_t cumulative[SL_WORKQUEUE_BUCKETS]; /* observations <= each bound */
};

struct sl_workqueue_stats {
	const char *name;                         /* valid while the queue lives */
	uint64_t depth;                           /* workqueue_depth: keys waiting to run */
	uint64_t adds_total;                      /* workqueue_adds_total */
	uint64_t retries_total;                   /* workqueue_retries_total */
	struct sl_histogram queue_duration;       /* workqueue_queue_duration_seconds */
	struct sl_histogram work_duration;        /* workqueue_work_duration_seconds */
	double unfinished_work_seconds;           /* workqueue_unfinished_work_seconds */
	double longest_running_processor_seconds; /* workqueue_longest_running_processor_seconds */
	/* Beyond controller-runtime's set: */
	uint64_t delayed;    /* keys waiting for a deadline */
	uint64_t processing; /* keys handed out and not yet done */
	uint64_t keys;       /* keys the queue holds memory for */
	uint64_t waiters;    /* threads blocked in get() */
};

void sl_workqueue_stats(struct sl_workqueue *q, struct sl_workqueue_stats *out);

/* ---- worker pool ----------------------------------------------------- */

/* What a reconcile asks for next, read only when it returns 0:
 *  - requeue_after_ms > 0: run again after that long (the jittered
 *    interval); the key's failure backoff is forgotten;
 *  - requeue: run again after the key's backoff delay;
 *  - neither: forget the key until something adds it.
 * A reconcile returning <0 is retried with backoff whatever it set, as
 * controller-runtime does. */
struct sl_reconcile_result {
	int64_t requeue_after_ms;
	bool requeue;
};

typedef int (*sl_reconcile_fn)(void *ctx, const char *key, struct sl_reconcile_result *out,
                               struct sl_error *err);

#define SL_WORKER_STACK_DEFAULT (256 * 1024)
/* Thread names are "<name>-<n>", cut to the kernel's 15 characters. */
#define SL_WORKER_NAME_MAX 15

struct sl_worker_pool_config {
	const char *name;  /* thread names; NULL: "worker" */
	unsigned workers;  /* --concurrent: at least 1 */
	size_t stack_size; /* 0: SL_WORKER_STACK_DEFAULT */
	sl_reconcile_fn reconcile;
	void *ctx;
	/* Optional per-worker state (a libcurl handle, say): made in
	 * sl_worker_pool_start() for worker index, released by
	 * sl_worker_pool_free(); the worker passes it to reconcile in place of
	 * ctx. A failure fails the start. */
	int (*worker_init)(void *ctx, unsigned index, void **ret_worker_ctx, struct sl_error *err);
	void (*worker_fini)(void *worker_ctx);
	/* Optional: told (with ctx, not the per-worker state) about each
	 * failed reconcile and the delay before its retry, on the worker's
	 * thread; the pool itself prints nothing. */
	void (*on_error)(void *ctx, const char *key, const struct sl_error *err, int64_t retry_ms);
};

/* The figures controller-runtime exports as controller_runtime_*. */
struct sl_worker_pool_stats {
	unsigned workers;       /* controller_runtime_max_concurrent_reconciles */
	unsigned active;        /* controller_runtime_active_workers */
	uint64_t success;       /* controller_runtime_reconcile_total{result="success"} */
	uint64_t error;         /* ...{result="error"}, and reconcile_errors_total */
	uint64_t requeue;       /* ...{result="requeue"} */
	uint64_t requeue_after; /* ...{result="requeue_after"} */
};

struct sl_worker_pool;

/* Starts cfg->workers threads pulling keys from q, which the pool borrows.
 * Async signals (SIGTERM, SIGINT, ...) are blocked in the workers so they
 * reach the thread that waits for them. */
int sl_worker_pool_start(struct sl_workqueue *q, const struct sl_worker_pool_config *cfg,
                         struct sl_worker_pool **ret, struct sl_error *err);
/* Graceful stop: shuts the queue down, lets running reconciles finish, and
 * waits for the workers until deadline_ns on the queue's clock. Returns 0
 * when all have exited; SL_ELIMIT when some are still reconciling, which
 * are left running (exit the process, or sl_worker_pool_free() to wait). */
int sl_worker_pool_stop(struct sl_worker_pool *p, int64_t deadline_ns, struct sl_error *err);
/* Stops without a deadline if need be, joins the threads, releases the
 * per-worker state. */
void sl_worker_pool_free(struct sl_worker_pool *p);
static inline void sl_worker_pool_freep(struct sl_worker_pool **p)
{
	sl_worker_pool_free(*p);
}
void sl_worker_pool_stats(struct sl_worker_pool *p, struct sl_worker_pool_stats *out);

/* ---- interval jitter ------------------------------------------------- */

/* Flux's --interval-jitter-percentage: a successful reconcile requeues after
 * interval * (1 + p/100 * U(-1, 1)), so objects created together drift
 * apart instead of hitting the registry in step. */
#define SL_INTERVAL_JITTER_PERCENT_DEFAULT 5

/* Flux accepts 0 <= percent < 100. */
int sl_jitter_check_percent(int percent, struct sl_error *err);
/* The jittered interval for u in [-1, 1]; never below 0. */
int64_t sl_jitter_apply_ms(int64_t interval_ms, int percent, double u);
/* As sl_jitter_apply_ms with u drawn uniformly per call; thread-safe. */
int64_t sl_jitter_interval_ms(int64_t interval_ms, int percent);

/* ---- reconcile requests ---------------------------------------------- */

/* `flux reconcile` sets this annotation to a fresh value; the controller
 * copies it to status.lastHandledReconcileAt once it has acted on it. */
#define SL_ANNOTATION_REQUESTED_AT "reconcile.fluxcd.io/requestedAt"

/* The annotation's value, borrowed from obj; NULL when absent. */
const char *sl_reconcile_requested_at(const json_t *obj);
/* Whether obj carries a request it has not handled yet: the annotation is
 * set and differs from status.lastHandledReconcileAt. */
bool sl_reconcile_request_pending(const json_t *obj);
/* Records the request in status.lastHandledReconcileAt, as Flux does at the
 * end of every reconcile (success or not) when the annotation is set. */
void sl_status_record_reconcile_request(json_t *status, const json_t *obj);
/* Flux's watch predicates GenerationChanged OR ReconcileRequested: whether
 * an update from old_obj to new_obj should queue the object. Changes to
 * status, labels or other annotations should not. */
bool sl_reconcile_update_wanted(const json_t *old_obj, const json_t *new_obj);

/* ---- conditions ------------------------------------------------------ */

/* metav1.Condition entries of status.conditions, kept the way fluxcd/pkg's
 * runtime/conditions keeps them: one entry per type; observedGeneration
 * stamped on every set; lastTransitionTime changing only when status,
 * reason or message change; messages cut to 32768 bytes ending in "...";
 * sorted Stalled, Reconciling, Ready, then by observedGeneration
 * (highest first), then by type; an empty list is removed. */
#define SL_COND_READY       "Ready"
#define SL_COND_RECONCILING "Reconciling"
#define SL_COND_STALLED     "Stalled"
#define SL_COND_HEALTHY     "Healthy"

#define SL_REASON_PROGRESSING            "Progressing"
#define SL_REASON_PROGRESSING_WITH_RETRY "ProgressingWithRetry"
#define SL_REASON_SUCCEEDED              "Succeeded"
#define SL_REASON_FAILED                 "Failed"

#define SL_CONDITION_MESSAGE_MAX 32768

enum sl_cond_status {
	SL_COND_TRUE,
	SL_COND_FALSE,
	SL_COND_UNKNOWN,
};
/* "True", "False", "Unknown". */
const char *sl_cond_status_str(enum sl_cond_status s);

/* What a set stamps on a condition: the object's metadata.generation and
 * the current time. Taken once per reconcile, so that every condition set
 * in it carries the same time. */
struct sl_cond_stamp {
	int64_t generation;
	char now[SL_RFC3339_LEN];
};
void sl_cond_stamp_init(struct sl_cond_stamp *st, const json_t *obj, struct sl_clock *clock);

/* The entry of that type in status.conditions, borrowed; NULL when absent. */
json_t *sl_condition_get(const json_t *status, const char *type);
bool sl_condition_is_true(const json_t *status, const char *type);
bool sl_condition_is_false(const json_t *status, const char *type);
/* Also true when the condition is absent, as in Flux. */
bool sl_condition_is_unknown(const json_t *status, const char *type);
/* "" when absent. */
const char *sl_condition_reason(const json_t *status, const char *type);
const char *sl_condition_message(const json_t *status, const char *type);

/* Sets the condition (created with status.conditions if need be). The
 * message is a printf format; invalid UTF-8 in it becomes U+FFFD. */
void sl_condition_set(json_t *status, const struct sl_cond_stamp *st, const char *type,
                      enum sl_cond_status s, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void sl_condition_delete(json_t *status, const char *type);
/* Reconciling=True and no Stalled: the start of a run. */
void sl_condition_mark_reconciling(json_t *status, const struct sl_cond_stamp *st,
                                   const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Stalled=True and no Reconciling: a terminal error, no retry. */
void sl_condition_mark_stalled(json_t *status, const struct sl_cond_stamp *st, const char *reason,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* How Flux summarizes conditions into one (Ready). Lists end with NULL. */
struct sl_summary_opts {
	/* Types in scope, by priority; NULL: every type but the target. */
	const char *const *types;
	/* Types that are True when something is wrong (Reconciling, Stalled,
	 * FetchFailed, ...). */
	const char *const *negative;
	/* Types that may be True or False meaningfully (SourceVerified): if one
	 * is False, the target is False with its reason and message. */
	const char *const *bipolar;
};

/* Sets target from the conditions in scope: they are grouped by status and
 * polarity, the groups ranked True-negative > False-positive >
 * True-positive > False-negative > Unknown; the top group gives the status
 * (inverted when its polarity is negative) and its first type by priority
 * gives reason and message. So a failure makes Ready=False with that
 * failure's reason and message. Nothing in scope: target is left as is. */
void sl_conditions_summarize(json_t *status, const struct sl_cond_stamp *st, const char *target,
                             const struct sl_summary_opts *opts);

/* ---- status patches -------------------------------------------------- */

/* The JSON merge patch (RFC 7386) that turns old into new, as a new
 * reference, or NULL when they are equal. Arrays are replaced whole; a key
 * gone from new (or null in it) is null in the patch. */
json_t *sl_json_merge_diff(const json_t *old, const json_t *new_);
/* The body of a merge patch to the /status subresource, {"status": diff},
 * or NULL when nothing changed, so the reconciler skips the write. A NULL
 * old_status is an empty one. */
json_t *sl_status_patch(const json_t *old_status, const json_t *new_status);

struct sl_kube;
struct sl_kube_resource;
/* Writes what changed from *old_status to status as that merge patch on
 * the object's /status subresource, as field_manager; no request when
 * nothing changed. On success *old_status becomes a copy of status (what
 * the API server now has). */
int sl_status_write(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                    const char *name, const char *field_manager, json_t **old_status,
                    const json_t *status, struct sl_error *err);

#endif
