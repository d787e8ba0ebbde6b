/* kstatus's Compute (cli-utils pkg/kstatus/status: status.go, generic.go,
 * core.go) with Flux's Job reader (fluxcd/pkg runtime/statusreaders/job.go)
 * and its Ready-condition rule for custom resources: whether an object in
 * the cluster has reached the state its spec asks for. Messages follow
 * kstatus's word for word where it has one.
 *
 * Where kstatus fails with an error (a field of the wrong type, a Pod phase
 * it does not know), the result is Unknown, which is what the status poller
 * reports for such an object. A JSON null reads as an absent field. */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "controller/apply.h"

const char *sl_kstatus_name(enum sl_kstatus status)
{
	switch (status) {
	case SL_KSTATUS_IN_PROGRESS: return "InProgress";
	case SL_KSTATUS_FAILED: return "Failed";
	case SL_KSTATUS_CURRENT: return "Current";
	case SL_KSTATUS_TERMINATING: return "Terminating";
	case SL_KSTATUS_NOT_FOUND: return "NotFound";
	case SL_KSTATUS_UNKNOWN: break;
	}
	return "Unknown";
}

/* The object being computed and what Compute decided about it. */
struct kobj {
	const json_t *obj;
	const json_t *status;     /* NULL when absent */
	const json_t *conditions; /* an array, or NULL */
	char group[256];
	const char *kind;
};

struct result {
	enum sl_kstatus status;
	char *message;
};

static bool result(struct result *res, enum sl_kstatus status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets *res; returns true so that rules read `return result(...)`. */
static bool result(struct result *res, enum sl_kstatus status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		abort(); /* out of memory: fatal in sluice */
	va_end(ap);
	free(res->message);
	res->status = status;
	res->message = msg;
	return true;
}

/* ---- field access (kstatus's GetIntField / GetStringField) -------------- */

static const json_t *field(const json_t *v, const char *a, const char *b, const char *c)
{
	const char *path[] = {a, b, c};
	for (size_t i = 0; i < SL_ARRAY_SIZE(path) && path[i] && v; i++)
		v = json_object_get(v, path[i]);
	return json_is_null(v) ? NULL : v;
}

/* An integer field, or def when absent or not an integer. */
static int64_t int_field(const json_t *obj, const char *a, const char *b, const char *c,
                         int64_t def)
{
	const json_t *v = field(obj, a, b, c);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

static const char *string_field(const json_t *obj, const char *a, const char *b, const char *c,
                                const char *def)
{
	const char *s = json_string_value(field(obj, a, b, c));
	return s ? s : def;
}

static const char *cond_str(const json_t *cond, const char *name)
{
	const char *s = json_string_value(json_object_get(cond, name));
	return s ? s : "";
}

/* The first condition of type with the given status (any status if NULL). */
static const json_t *find_condition(const struct kobj *o, const char *type, const char *status)
{
	size_t i;
	json_t *c;
	json_array_foreach (o->conditions, i, c) {
		if (strcmp(cond_str(c, "type"), type) == 0 &&
		    (!status || strcmp(cond_str(c, "status"), status) == 0))
			return c;
	}
	return NULL;
}

/* ---- the shape kstatus needs, else Unknown ------------------------------ */

static bool string_or_absent(const json_t *v)
{
	return !v || json_is_null(v) || json_is_string(v);
}

/* GetObjectWithConditions converts status.conditions to typed conditions;
 * a conversion error fails Compute. */
static bool conditions_typed(const json_t *conditions)
{
	if (!conditions || json_is_null(conditions))
		return true;
	if (!json_is_array(conditions))
		return false;
	size_t i;
	json_t *c;
	json_array_foreach (conditions, i, c) {
		if (json_is_null(c))
			continue;
		if (!json_is_object(c))
			return false;
		static const char *const fields[] = {"type", "status", "reason", "message"};
		for (size_t f = 0; f < SL_ARRAY_SIZE(fields); f++)
			if (!string_or_absent(json_object_get(c, fields[f])))
				return false;
	}
	return true;
}

/* An object Compute cannot read: Unknown, and no rule runs. */
static bool unreadable(struct result *res, const char *why)
{
	result(res, SL_KSTATUS_UNKNOWN, "%s", why);
	return false;
}

/* Fills *o from obj; false (with res Unknown) when obj has not the shape
 * kstatus reads. */
static bool load(struct kobj *o, const json_t *obj, struct result *res)
{
	*o = (struct kobj){.obj = obj};
	if (!obj)
		return unreadable(res, "no object");
	if (!json_is_object(obj))
		return unreadable(res, "object is not a JSON object");
	const json_t *metadata = field(obj, "metadata", NULL, NULL);
	if (metadata && !json_is_object(metadata))
		return unreadable(res, "metadata is not an object");
	o->status = field(obj, "status", NULL, NULL);
	if (o->status && !json_is_object(o->status))
		return unreadable(res, "status is not an object");
	const json_t *conditions = field(o->status, "conditions", NULL, NULL);
	if (!conditions_typed(conditions))
		return unreadable(res, "status.conditions are not conditions");
	o->conditions = json_is_array(conditions) ? conditions : NULL;
	o->kind = string_field(obj, "kind", NULL, NULL, "");
	const char *api_version = string_field(obj, "apiVersion", NULL, NULL, "");
	const char *slash = strchr(api_version, '/');
	size_t len = slash ? (size_t)(slash - api_version) : 0;
	if (len >= sizeof(o->group))
		len = sizeof(o->group) - 1; /* longer than any group we know */
	memcpy(o->group, api_version, len);
	o->group[len] = '\0';
	return true;
}

static bool is(const struct kobj *o, const char *group, const char *kind)
{
	return strcmp(o->group, group) == 0 && strcmp(o->kind, kind) == 0;
}

/* ---- generic checks (generic.go) ---------------------------------------- */

static bool generic_checks(const struct kobj *o, struct result *res)
{
	const json_t *deletion = field(o->obj, "metadata", "deletionTimestamp", NULL);
	if (deletion && !json_is_string(deletion))
		return result(res, SL_KSTATUS_UNKNOWN,
		              "looking up metadata.deletionTimestamp from resource: not a string");
	if (deletion && json_string_length(deletion) > 0)
		return result(res, SL_KSTATUS_TERMINATING, "Resource scheduled for deletion");

	const json_t *generation = field(o->obj, "metadata", "generation", NULL);
	if (generation && !json_is_integer(generation))
		return result(res, SL_KSTATUS_UNKNOWN,
		              "looking up metadata.generation from resource: not an integer");
	if (generation) {
		const json_t *observed = field(o->status, "observedGeneration", NULL, NULL);
		if (observed && !json_is_integer(observed))
			return result(res, SL_KSTATUS_UNKNOWN,
			              "looking up status.observedGeneration from resource: not an "
			              "integer");
		if (observed && json_integer_value(observed) != json_integer_value(generation))
			return result(res, SL_KSTATUS_IN_PROGRESS,
			              "%s generation is %" JSON_INTEGER_FORMAT
			              ", but latest observed generation is %" JSON_INTEGER_FORMAT,
			              o->kind, json_integer_value(generation),
			              json_integer_value(observed));
	}

	/* The first of Reconciling=True and Stalled=True decides. */
	size_t i;
	json_t *c;
	json_array_foreach (o->conditions, i, c) {
		if (strcmp(cond_str(c, "status"), "True") != 0)
			continue;
		if (strcmp(cond_str(c, "type"), "Reconciling") == 0)
			return result(res, SL_KSTATUS_IN_PROGRESS, "%s", cond_str(c, "message"));
		if (strcmp(cond_str(c, "type"), "Stalled") == 0)
			return result(res, SL_KSTATUS_FAILED, "%s", cond_str(c, "message"));
	}
	return false;
}

/* ---- the kinds kstatus knows (core.go) ---------------------------------- */

static bool deployment(const struct kobj *o, struct result *res)
{
	const json_t *obj = o->obj;
	/* Without progressDeadlineSeconds (or with MaxInt32, which the
	 * deployment controller treats alike) no Progressing condition ever
	 * comes, so the Deployment counts as progressing. */
	bool progressing =
	    int_field(obj, "spec", "progressDeadlineSeconds", NULL, INT32_MAX) == INT32_MAX;
	bool available = false;
	size_t i;
	json_t *c;
	json_array_foreach (o->conditions, i, c) {
		const char *type = cond_str(c, "type"), *status = cond_str(c, "status");
		if (strcmp(type, "Progressing") == 0) {
			if (strcmp(cond_str(c, "reason"), "ProgressDeadlineExceeded") == 0)
				return result(res, SL_KSTATUS_FAILED, "Progress deadline exceeded");
			if (strcmp(status, "True") == 0 &&
			    strcmp(cond_str(c, "reason"), "NewReplicaSetAvailable") == 0)
				progressing = true;
		} else if (strcmp(type, "Available") == 0 && strcmp(status, "True") == 0) {
			available = true;
		}
	}

	int64_t spec = int_field(obj, "spec", "replicas", NULL, 1);
	int64_t replicas = int_field(o->status, "replicas", NULL, NULL, 0);
	int64_t updated = int_field(o->status, "updatedReplicas", NULL, NULL, 0);
	int64_t ready = int_field(o->status, "readyReplicas", NULL, NULL, 0);
	int64_t avail = int_field(o->status, "availableReplicas", NULL, NULL, 0);
	if (spec > replicas)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Replicas: %" PRId64 "/%" PRId64,
		              replicas, spec);
	if (spec > updated)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Updated: %" PRId64 "/%" PRId64, updated,
		              spec);
	if (replicas > spec)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Pending termination: %" PRId64,
		              replicas - spec);
	if (updated > avail)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Available: %" PRId64 "/%" PRId64, avail,
		              updated);
	if (spec > ready)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Ready: %" PRId64 "/%" PRId64, ready,
		              spec);
	if (!progressing)
		return result(res, SL_KSTATUS_IN_PROGRESS, "ReplicaSet not Available");
	if (!available)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Deployment not Available");
	return result(res, SL_KSTATUS_CURRENT, "Deployment is available. Replicas: %" PRId64,
	              replicas);
}

static bool statefulset(const struct kobj *o, struct result *res)
{
	const json_t *obj = o->obj;
	if (strcmp(string_field(obj, "spec", "updateStrategy", "type", ""), "OnDelete") == 0)
		return result(res, SL_KSTATUS_CURRENT,
		              "StatefulSet is using the ondelete update strategy");

	int64_t spec = int_field(obj, "spec", "replicas", NULL, 1);
	int64_t ready = int_field(o->status, "readyReplicas", NULL, NULL, 0);
	int64_t current = int_field(o->status, "currentReplicas", NULL, NULL, 0);
	int64_t updated = int_field(o->status, "updatedReplicas", NULL, NULL, 0);
	int64_t replicas = int_field(o->status, "replicas", NULL, NULL, 0);
	const json_t *rolling = field(obj, "spec", "updateStrategy", "rollingUpdate");
	int64_t partition = int_field(rolling, "partition", NULL, NULL, -1);

	if (spec > replicas)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Replicas: %" PRId64 "/%" PRId64,
		              replicas, spec);
	if (spec > ready)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Ready: %" PRId64 "/%" PRId64, ready,
		              spec);
	if (replicas > spec)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Pending termination: %" PRId64,
		              replicas - spec);
	if (partition != -1) {
		if (updated < spec - partition)
			return result(res, SL_KSTATUS_IN_PROGRESS, "updated: %" PRId64 "/%" PRId64,
			              updated, spec - partition);
		return result(res, SL_KSTATUS_CURRENT,
		              "Partition rollout complete. updated: %" PRId64, updated);
	}
	if (spec > current)
		return result(res, SL_KSTATUS_IN_PROGRESS, "current: %" PRId64 "/%" PRId64, current,
		              spec);
	if (strcmp(string_field(o->status, "currentRevision", NULL, NULL, ""),
	           string_field(o->status, "updateRevision", NULL, NULL, "")) != 0)
		return result(res, SL_KSTATUS_IN_PROGRESS,
		              "Waiting for updated revision to match current");
	return result(res, SL_KSTATUS_CURRENT,
	              "All replicas scheduled as expected. Replicas: %" PRId64, replicas);
}

static bool daemonset(const struct kobj *o, struct result *res)
{
	/* The generic check skips a missing generation; a DaemonSet the
	 * controller has seen always has both, so here they are required. */
	const json_t *generation = field(o->obj, "metadata", "generation", NULL);
	if (!generation)
		return result(res, SL_KSTATUS_IN_PROGRESS, "%s metadata.generation not found",
		              o->kind);
	if (!field(o->status, "observedGeneration", NULL, NULL))
		return result(res, SL_KSTATUS_IN_PROGRESS, "%s status.observedGeneration not found",
		              o->kind);

	int64_t desired = int_field(o->status, "desiredNumberScheduled", NULL, NULL, -1);
	int64_t current = int_field(o->status, "currentNumberScheduled", NULL, NULL, 0);
	int64_t updated = int_field(o->status, "updatedNumberScheduled", NULL, NULL, 0);
	int64_t avail = int_field(o->status, "numberAvailable", NULL, NULL, 0);
	int64_t ready = int_field(o->status, "numberReady", NULL, NULL, 0);
	if (desired == -1)
		return result(res, SL_KSTATUS_IN_PROGRESS,
		              "Missing .status.desiredNumberScheduled");
	if (desired > current)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Current: %" PRId64 "/%" PRId64, current,
		              desired);
	if (desired > updated)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Updated: %" PRId64 "/%" PRId64, updated,
		              desired);
	if (desired > avail)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Available: %" PRId64 "/%" PRId64, avail,
		              desired);
	if (desired > ready)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Ready: %" PRId64 "/%" PRId64, ready,
		              desired);
	return result(res, SL_KSTATUS_CURRENT,
	              "All replicas scheduled as expected. Replicas: %" PRId64, desired);
}

static bool replicaset(const struct kobj *o, struct result *res)
{
	if (find_condition(o, "ReplicaFailure", "True"))
		return result(res, SL_KSTATUS_IN_PROGRESS, "Replica Failure condition. Check Pods");

	int64_t spec = int_field(o->obj, "spec", "replicas", NULL, 1);
	int64_t replicas = int_field(o->status, "replicas", NULL, NULL, 0);
	int64_t ready = int_field(o->status, "readyReplicas", NULL, NULL, 0);
	int64_t avail = int_field(o->status, "availableReplicas", NULL, NULL, 0);
	int64_t labeled = int_field(o->status, "fullyLabeledReplicas", NULL, NULL, 0);
	if (spec > labeled)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Labelled: %" PRId64 "/%" PRId64,
		              labeled, spec);
	if (spec > avail)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Available: %" PRId64 "/%" PRId64, avail,
		              spec);
	if (spec > ready)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Ready: %" PRId64 "/%" PRId64, ready,
		              spec);
	if (replicas > spec)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Pending termination: %" PRId64,
		              replicas - spec);
	return result(res, SL_KSTATUS_CURRENT, "ReplicaSet is available. Replicas: %" PRId64,
	              replicas);
}

/* Flux's Job reader: unlike upstream kstatus, a Job that is still running
 * is InProgress, so waiting on a Job waits for it to finish. */
static bool job(const struct kobj *o, struct result *res)
{
	const json_t *suspend = field(o->obj, "spec", "suspend", NULL);
	if (json_is_true(suspend))
		return result(res, SL_KSTATUS_CURRENT, "Job is suspended");

	int64_t parallelism = int_field(o->obj, "spec", "parallelism", NULL, 1);
	int64_t completions = int_field(o->obj, "spec", "completions", NULL, parallelism);
	int64_t succeeded = int_field(o->status, "succeeded", NULL, NULL, 0);
	int64_t failed = int_field(o->status, "failed", NULL, NULL, 0);
	size_t i;
	json_t *c;
	json_array_foreach (o->conditions, i, c) {
		if (strcmp(cond_str(c, "status"), "True") != 0)
			continue;
		if (strcmp(cond_str(c, "type"), "Complete") == 0)
			return result(res, SL_KSTATUS_CURRENT,
			              "Job Completed. succeeded: %" PRId64 "/%" PRId64, succeeded,
			              completions);
		if (strcmp(cond_str(c, "type"), "Failed") == 0)
			return result(res, SL_KSTATUS_FAILED,
			              "Job Failed. failed: %" PRId64 "/%" PRId64, failed,
			              completions);
	}
	return result(res, SL_KSTATUS_IN_PROGRESS, "Job in progress");
}

/* Seconds since the epoch of an RFC 3339 time ("2024-05-01T10:00:00Z",
 * with an optional fraction and a Z or ±hh:mm offset); false if it is
 * not one. */
static bool parse_rfc3339(const char *t, time_t *ret)
{
	if (!t || !sl_time_rfc3339_valid(t))
		return false;
	struct tm tm = {0};
	/* sl_time_rfc3339_valid checked the digits and separators. */
	tm.tm_year = atoi(t) - 1900;
	tm.tm_mon = atoi(t + 5) - 1;
	tm.tm_mday = atoi(t + 8);
	tm.tm_hour = atoi(t + 11);
	tm.tm_min = atoi(t + 14);
	tm.tm_sec = atoi(t + 17);
	time_t secs = timegm(&tm);
	const char *p = t + 19;
	if (*p == '.' || *p == ',')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == '+' || *p == '-') {
		long offset = atol(p + 1) * 3600 + atol(p + 4) * 60;
		secs -= *p == '+' ? offset : -offset;
	}
	*ret = secs;
	return true;
}

/* kstatus's ScheduleWindow: how long a Pod may stay unschedulable before
 * it counts as failed. */
#define SCHEDULE_WINDOW_SECONDS 15

/* Whether an unschedulable Pod is still within the window. kstatus counts
 * from metadata.creationTimestamp; we count from the PodScheduled
 * condition's lastTransitionTime, when the scheduler gave up, falling back
 * to creationTimestamp. A Pod with neither is past the window, as it is for
 * kstatus (a zero creation time). */
static bool within_schedule_window(const struct kobj *o, const json_t *scheduled)
{
	time_t since;
	if (!parse_rfc3339(json_string_value(json_object_get(scheduled, "lastTransitionTime")),
	                   &since) &&
	    !parse_rfc3339(string_field(o->obj, "metadata", "creationTimestamp", NULL, NULL),
	                   &since))
		return false;
	return time(NULL) - SCHEDULE_WINDOW_SECONDS < since;
}

static char *crash_looping_containers(const struct kobj *o)
{
	struct sl_buf names;
	sl_buf_init(&names, 0);
	const json_t *statuses = field(o->status, "containerStatuses", NULL, NULL);
	size_t i;
	json_t *cs;
	json_array_foreach (statuses, i, cs) {
		const char *name = json_string_value(json_object_get(cs, "name"));
		const char *reason = string_field(cs, "state", "waiting", "reason", "");
		if (!name || strcmp(reason, "CrashLoopBackOff") != 0)
			continue;
		if (names.len)
			sl_buf_puts(&names, ",");
		sl_buf_puts(&names, name);
	}
	if (!names.len) {
		sl_buf_free(&names);
		return NULL;
	}
	return sl_buf_steal(&names);
}

static bool pod(const struct kobj *o, struct result *res)
{
	const char *phase = string_field(o->status, "phase", NULL, NULL, "");
	if (strcmp(phase, "Succeeded") == 0)
		return result(res, SL_KSTATUS_CURRENT, "Pod has completed successfully");
	if (strcmp(phase, "Failed") == 0)
		return result(res, SL_KSTATUS_CURRENT, "Pod has completed, but not successfully");
	if (strcmp(phase, "Running") == 0) {
		if (find_condition(o, "Ready", "True"))
			return result(res, SL_KSTATUS_CURRENT, "Pod is Ready");
		_cleanup_free_ char *looping = crash_looping_containers(o);
		if (looping)
			return result(res, SL_KSTATUS_FAILED, "Containers in CrashLoop state: %s",
			              looping);
		return result(res, SL_KSTATUS_IN_PROGRESS, "Pod is running but is not Ready");
	}
	if (strcmp(phase, "Pending") == 0) {
		const json_t *scheduled = find_condition(o, "PodScheduled", "False");
		if (scheduled && strcmp(cond_str(scheduled, "reason"), "Unschedulable") == 0) {
			if (within_schedule_window(o, scheduled))
				return result(res, SL_KSTATUS_IN_PROGRESS,
				              "Pod has not been scheduled");
			return result(res, SL_KSTATUS_FAILED, "Pod could not be scheduled");
		}
		return result(res, SL_KSTATUS_IN_PROGRESS, "Pod is in the Pending phase");
	}
	if (!*phase)
		return result(res, SL_KSTATUS_IN_PROGRESS, "Pod phase not available");
	return result(res, SL_KSTATUS_UNKNOWN, "unknown phase %s", phase);
}

static bool service(const struct kobj *o, struct result *res)
{
	const char *type = string_field(o->obj, "spec", "type", NULL, "ClusterIP");
	const char *cluster_ip = string_field(o->obj, "spec", "clusterIP", NULL, "");
	if (strcmp(type, "LoadBalancer") == 0 && !*cluster_ip)
		return result(res, SL_KSTATUS_IN_PROGRESS,
		              "ClusterIP not set. Service type: LoadBalancer");
	return result(res, SL_KSTATUS_CURRENT, "Service is ready");
}

static bool pvc(const struct kobj *o, struct result *res)
{
	const char *phase = string_field(o->status, "phase", NULL, NULL, "unknown");
	if (strcmp(phase, "Bound") != 0)
		return result(res, SL_KSTATUS_IN_PROGRESS, "PVC is not Bound. phase: %s", phase);
	return result(res, SL_KSTATUS_CURRENT, "PVC is Bound");
}

static bool crd(const struct kobj *o, struct result *res)
{
	size_t i;
	json_t *c;
	json_array_foreach (o->conditions, i, c) {
		const char *type = cond_str(c, "type"), *status = cond_str(c, "status");
		if (strcmp(type, "NamesAccepted") == 0 && strcmp(status, "False") == 0)
			return result(res, SL_KSTATUS_FAILED, "%s", cond_str(c, "message"));
		if (strcmp(type, "Established") == 0) {
			if (strcmp(status, "False") == 0 &&
			    strcmp(cond_str(c, "reason"), "Installing") != 0)
				return result(res, SL_KSTATUS_FAILED, "%s", cond_str(c, "message"));
			if (strcmp(status, "True") == 0)
				return result(res, SL_KSTATUS_CURRENT, "CRD is established");
		}
	}
	return result(res, SL_KSTATUS_IN_PROGRESS, "Install in progress");
}

/* Custom resources: Flux waits for Ready=True where there is a Ready
 * condition; only Stalled=True (above) fails one. */
static bool ready_condition(const struct kobj *o, struct result *res)
{
	const json_t *ready = find_condition(o, "Ready", NULL);
	if (!ready)
		return result(res, SL_KSTATUS_CURRENT, "Resource is current");
	if (strcmp(cond_str(ready, "status"), "True") == 0)
		return result(res, SL_KSTATUS_CURRENT, "Resource is Ready");
	const char *message = cond_str(ready, "message");
	if (*message)
		return result(res, SL_KSTATUS_IN_PROGRESS, "%s", message);
	return result(res, SL_KSTATUS_IN_PROGRESS, "Ready condition is %s",
	              *cond_str(ready, "status") ? cond_str(ready, "status") : "unset");
}

static bool kind_rules(const struct kobj *o, struct result *res)
{
	if (is(o, "apps", "Deployment") || is(o, "extensions", "Deployment"))
		return deployment(o, res);
	if (is(o, "apps", "StatefulSet"))
		return statefulset(o, res);
	if (is(o, "apps", "DaemonSet") || is(o, "extensions", "DaemonSet"))
		return daemonset(o, res);
	if (is(o, "apps", "ReplicaSet") || is(o, "extensions", "ReplicaSet"))
		return replicaset(o, res);
	if (is(o, "batch", "Job"))
		return job(o, res);
	if (is(o, "", "Pod"))
		return pod(o, res);
	if (is(o, "", "Service"))
		return service(o, res);
	if (is(o, "", "PersistentVolumeClaim"))
		return pvc(o, res);
	if (is(o, "apiextensions.k8s.io", "CustomResourceDefinition"))
		return crd(o, res);
	if (is(o, "policy", "PodDisruptionBudget"))
		return result(res, SL_KSTATUS_CURRENT, "AllowedDisruptions has been computed.");
	if (is(o, "", "Secret") || is(o, "", "ConfigMap") || is(o, "batch", "CronJob"))
		return result(res, SL_KSTATUS_CURRENT, "Resource is always ready");
	return ready_condition(o, res);
}

enum sl_kstatus sl_kstatus_compute(const json_t *obj, char **ret_message)
{
	struct result res = {0};
	struct kobj o;
	if (load(&o, obj, &res) && !generic_checks(&o, &res))
		kind_rules(&o, &res);
	if (ret_message)
		*ret_message = TAKE_PTR(res.message);
	free(res.message);
	return res.status;
}
