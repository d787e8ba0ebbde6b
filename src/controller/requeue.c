/* When to run again: Flux's interval jitter (fluxcd/pkg runtime/jitter)
 * and reconcile requests (runtime/predicates, the requestedAt annotation
 * and status.lastHandledReconcileAt). */
#include <string.h>
#include <sys/random.h>

#include "controller/controller.h"

int sl_jitter_check_percent(int percent, struct sl_error *err)
{
	if (percent < 0 || percent >= 100)
		return sl_error_set(
		    err, SL_EINVAL,
		    "invalid interval jitter percentage %d: must be between 0 and 99", percent);
	return 0;
}

int64_t sl_jitter_apply_ms(int64_t interval_ms, int percent, double u)
{
	if (interval_ms <= 0 || percent <= 0)
		return interval_ms > 0 ? interval_ms : 0;
	if (percent > 99)
		percent = 99;
	if (!(u >= -1))
		u = -1;
	if (u > 1)
		u = 1;
	double d = (double)interval_ms * (1.0 + (double)percent / 100.0 * u);
	if (d >= (double)INT64_MAX)
		return INT64_MAX;
	int64_t r = (int64_t)d; /* Go's time.Duration(float64) truncates too */
	return r > 0 ? r : 0;
}

/* xorshift64*, one state per thread, seeded from the kernel: jitter needs
 * spread, not secrecy, and must not serialize the workers on a lock. */
static _Thread_local uint64_t rng_state;

static uint64_t next_random(void)
{
	if (!rng_state) {
		uint64_t seed = 0;
		if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
			seed = (uint64_t)sl_clock_now_ns(NULL) ^ (uint64_t)(uintptr_t)&seed;
		rng_state = seed ? seed : 0x9e3779b97f4a7c15ull;
	}
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

int64_t sl_jitter_interval_ms(int64_t interval_ms, int percent)
{
	/* 53 random bits → [0, 1) → [-1, 1). */
	double u01 = (double)(next_random() >> 11) / 9007199254740992.0;
	return sl_jitter_apply_ms(interval_ms, percent, 2 * u01 - 1);
}

static const char *object_string(const json_t *obj, const char *section, const char *field)
{
	json_t *parent = json_object_get(obj, section);
	return json_string_value(json_object_get(parent, field));
}

const char *sl_reconcile_requested_at(const json_t *obj)
{
	json_t *metadata = json_object_get(obj, "metadata");
	json_t *annotations = json_object_get(metadata, "annotations");
	return json_string_value(json_object_get(annotations, SL_ANNOTATION_REQUESTED_AT));
}

bool sl_reconcile_request_pending(const json_t *obj)
{
	const char *requested = sl_reconcile_requested_at(obj);
	if (!requested)
		return false;
	const char *handled = object_string(obj, "status", "lastHandledReconcileAt");
	return !handled || strcmp(requested, handled) != 0;
}

void sl_status_record_reconcile_request(json_t *status, const json_t *obj)
{
	const char *requested = sl_reconcile_requested_at(obj);
	if (!requested || !json_is_object(status))
		return;
	json_t *v = json_string(requested);
	if (!v) /* not UTF-8: the API server would not have stored it */
		return;
	json_object_set_new(status, "lastHandledReconcileAt", v);
}

static bool generation(const json_t *obj, json_int_t *ret)
{
	json_t *g = json_object_get(json_object_get(obj, "metadata"), "generation");
	if (!json_is_integer(g))
		return false;
	*ret = json_integer_value(g);
	return true;
}

bool sl_reconcile_update_wanted(const json_t *old_obj, const json_t *new_obj)
{
	if (!old_obj || !new_obj)
		return false;
	/* GenerationChangedPredicate: the spec changed. */
	json_int_t g_old = 0, g_new = 0;
	bool has_old = generation(old_obj, &g_old), has_new = generation(new_obj, &g_new);
	if (has_old != has_new || g_old != g_new)
		return true;
	/* ReconcileRequestedPredicate: a new request; removing one is not. */
	const char *req_new = sl_reconcile_requested_at(new_obj);
	if (!req_new)
		return false;
	const char *req_old = sl_reconcile_requested_at(old_obj);
	return !req_old || strcmp(req_old, req_new) != 0;
}
