/* Leader election on a coordination.k8s.io/v1 Lease, after client-go's
 * leaderelection.tryAcquireOrRenew: expiry is judged on our own clock from
 * when we last saw the record change, and every write carries the
 * resourceVersion it was based on. */
#include <string.h>

#include "kube/kube_internal.h"

struct sl_kube_lease {
	char *ns;
	char *name;
	char *identity;
	int duration_s;
	/* the record as last seen, and when (monotonic) it last changed */
	char *observed_record;
	char *observed_holder;
	int64_t observed_at_ms;
	/* the Lease as we last wrote it, while we hold it */
	json_t *ours;
	int64_t renewed_at_ms;
};

struct sl_kube_lease *sl_kube_lease_new(const char *ns, const char *name, const char *identity,
                                        int duration_seconds)
{
	struct sl_kube_lease *l = sl_xcalloc(1, sizeof(*l));
	l->ns = sl_strdup(ns);
	l->name = sl_strdup(name);
	l->identity = sl_strdup(identity);
	l->duration_s = duration_seconds > 0 ? duration_seconds : 15;
	l->observed_holder = sl_strdup("");
	return l;
}

struct sl_kube_lease *sl_kube_lease_free(struct sl_kube_lease *l)
{
	if (!l)
		return NULL;
	free(l->ns);
	free(l->name);
	free(l->identity);
	free(l->observed_record);
	free(l->observed_holder);
	json_decref(l->ours);
	free(l);
	return NULL;
}

const char *sl_kube_lease_holder(const struct sl_kube_lease *l)
{
	return l->observed_holder;
}

int64_t sl_kube_lease_renewed_at(const struct sl_kube_lease *l)
{
	return l->renewed_at_ms;
}

static const char *holder_of(const json_t *lease)
{
	const char *h =
	    json_string_value(json_object_get(json_object_get(lease, "spec"), "holderIdentity"));
	return h ? h : "";
}

/* Notes the record of lease; restarts the expiry clock when it changed. */
static void observe(struct sl_kube_lease *l, const json_t *lease, int64_t now_ms)
{
	char *record = json_dumps(json_object_get(lease, "spec"), JSON_COMPACT | JSON_SORT_KEYS);
	if (!record)
		record = sl_strdup("");
	if (!l->observed_record || strcmp(record, l->observed_record) != 0) {
		free(l->observed_record);
		l->observed_record = record;
		l->observed_at_ms = now_ms;
	} else {
		free(record);
	}
	free(l->observed_holder);
	l->observed_holder = sl_strdup(holder_of(lease));
}

static void held_by_us(struct sl_kube_lease *l, json_t *lease, int64_t now_ms)
{
	observe(l, lease, now_ms);
	json_decref(l->ours);
	l->ours = lease;
	l->renewed_at_ms = now_ms;
}

static void lost(struct sl_kube_lease *l)
{
	json_decref(l->ours);
	l->ours = NULL;
}

/* The spec we write: ours now, renewed now. */
static json_t *claimed(const struct sl_kube_lease *l, const json_t *current, const char *now)
{
	json_t *lease = json_deep_copy(current);
	json_t *spec = json_object_get(lease, "spec");
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(lease, "spec", spec);
	}
	bool ours = strcmp(holder_of(current), l->identity) == 0;
	if (!ours) {
		json_int_t transitions =
		    json_integer_value(json_object_get(spec, "leaseTransitions"));
		json_object_set_new(spec, "acquireTime", json_string(now));
		json_object_set_new(spec, "leaseTransitions", json_integer(transitions + 1));
	}
	json_object_set_new(spec, "holderIdentity", json_string(l->identity));
	json_object_set_new(spec, "leaseDurationSeconds", json_integer(l->duration_s));
	json_object_set_new(spec, "renewTime", json_string(now));
	return lease;
}

static int create_lease(struct sl_kube *k, struct sl_kube_lease *l, const char *now, int64_t now_ms,
                        bool *ret_held, struct sl_error *err)
{
	_cleanup_(json_decrefp) json_t *lease = json_pack(
	    "{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:i, s:s, s:s, s:i}}", "apiVersion",
	    "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", l->name, "namespace",
	    l->ns, "spec", "holderIdentity", l->identity, "leaseDurationSeconds", l->duration_s,
	    "acquireTime", now, "renewTime", now, "leaseTransitions", 0);
	json_t *stored = NULL;
	int r = sl_kube_create(k, &sl_kube_res_leases, l->ns, lease, NULL, &stored, err);
	if (r == SL_KUBE_EEXISTS) /* another candidate was faster */
		return 0;
	if (r < 0)
		return r;
	held_by_us(l, stored, now_ms);
	*ret_held = true;
	return 0;
}

static int update_lease(struct sl_kube *k, struct sl_kube_lease *l, const json_t *current,
                        const char *now, int64_t now_ms, bool *ret_held, struct sl_error *err)
{
	_cleanup_(json_decrefp) json_t *lease = claimed(l, current, now);
	json_t *stored = NULL;
	int r = sl_kube_update(k, &sl_kube_res_leases, lease, NULL, &stored, err);
	if (r == SL_KUBE_ECONFLICT) /* changed since we read it: try again later */
		return 0;
	if (r < 0)
		return r;
	held_by_us(l, stored, now_ms);
	*ret_held = true;
	return 0;
}

static int try_once(struct sl_kube *k, struct sl_kube_lease *l, bool *ret_held,
                    struct sl_error *err)
{
	char now[40];
	kube_time_micro_now(now);
	int64_t now_ms = sl_now_ms();
	int r;

	/* Holding it: renew on what we wrote last, without reading first. */
	if (l->ours) {
		r = update_lease(k, l, l->ours, now, now_ms, ret_held, err);
		if (r < 0 || *ret_held)
			return r;
	}

	_cleanup_(json_decrefp) json_t *current = NULL;
	r = sl_kube_get(k, &sl_kube_res_leases, l->ns, l->name, &current, err);
	if (r == SL_ENOTFOUND)
		return create_lease(k, l, now, now_ms, ret_held, err);
	if (r < 0)
		return r;
	observe(l, current, now_ms);
	const char *holder = holder_of(current);
	json_int_t duration = json_integer_value(
	    json_object_get(json_object_get(current, "spec"), "leaseDurationSeconds"));
	if (duration <= 0)
		duration = l->duration_s;
	if (*holder && strcmp(holder, l->identity) != 0 &&
	    l->observed_at_ms + (int64_t)duration * 1000 > now_ms)
		return 0; /* someone else's, and not expired */
	return update_lease(k, l, current, now, now_ms, ret_held, err);
}

int sl_kube_lease_try(struct sl_kube *k, struct sl_kube_lease *l, bool *ret_held,
                      struct sl_error *err)
{
	*ret_held = false;
	int r = try_once(k, l, ret_held, err);
	if (!*ret_held)
		lost(l);
	if (r < 0)
		return sl_error_wrap(err, r, "lease %s/%s", l->ns, l->name);
	return 0;
}

int sl_kube_lease_release(struct sl_kube *k, struct sl_kube_lease *l, struct sl_error *err)
{
	if (!l->ours)
		return 0;
	char now[40];
	kube_time_micro_now(now);
	_cleanup_(json_decrefp) json_t *lease = json_deep_copy(l->ours);
	json_t *spec = json_object_get(lease, "spec");
	/* client-go's release: nobody's, expiring in a second. */
	json_object_set_new(spec, "holderIdentity", json_string(""));
	json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
	json_object_set_new(spec, "acquireTime", json_string(now));
	json_object_set_new(spec, "renewTime", json_string(now));
	int r = sl_kube_update(k, &sl_kube_res_leases, lease, NULL, NULL, err);
	lost(l);
	free(l->observed_holder);
	l->observed_holder = sl_strdup("");
	l->renewed_at_ms = 0;
	/* A conflict means it changed hands already: nothing left to give up. */
	if (r < 0 && r != SL_KUBE_ECONFLICT)
		return sl_error_wrap(err, r, "releasing lease %s/%s", l->ns, l->name);
	return 0;
}
