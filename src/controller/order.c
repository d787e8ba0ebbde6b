/* The order kustomize-controller applies in: the stages of pkg/ssa's
 * ApplyAllStaged (utils/is.go) and the ReconcileOrder sort (sort.go); the
 * normalisation of pkg/ssa/normalize before apply; change-set lines
 * (changeset.go); and the owner labels and annotations, whose values Flux
 * compares ignoring case. */
#include <string.h>
#include <strings.h>

#include "controller/apply.h"

static json_t *jcheck(json_t *v)
{
	if (!v)
		abort(); /* out of memory: fatal in sluice */
	return v;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* ---- stages and order --------------------------------------------------- */

/* utils.IsClusterDefinition: kinds are matched ignoring case there. */
static bool is_cluster_definition(const char *group, const char *kind)
{
	if (strcasecmp(kind, "CustomResourceDefinition") == 0)
		return strcmp(group, "apiextensions.k8s.io") == 0;
	if (strcasecmp(kind, "Namespace") == 0)
		return group[0] == '\0';
	if (strcasecmp(kind, "ClusterRole") == 0)
		return strcmp(group, "rbac.authorization.k8s.io") == 0;
	return false;
}

enum sl_apply_stage sl_apply_stage_of(const char *group, const char *kind)
{
	group = or_empty(group);
	kind = or_empty(kind);
	if (is_cluster_definition(group, kind))
		return SL_STAGE_DEFINITIONS;
	/* utils.IsClassDefinition: StorageClass, IngressClass, GatewayClass... */
	if (sl_endswith(kind, "Class"))
		return SL_STAGE_CLASSES;
	return SL_STAGE_REST;
}

/* ReconcileOrder's kind2index: the first kinds get negative indexes, every
 * other kind 0, the webhook configurations 1 and 2 (the index is by kind
 * alone, whatever the group). */
static int kind_index(const char *kind)
{
	static const char *const first[] = {
	    "CustomResourceDefinition",
	    "Namespace",
	    "ClusterRole",
	    "ClusterClass",
	    "RuntimeClass",
	    "PriorityClass",
	    "StorageClass",
	    "VolumeSnapshotClass",
	    "IngressClass",
	    "GatewayClass",
	    "ClusterRoleBinding",
	    "ResourceQuota",
	    "ServiceAccount",
	    "Role",
	    "RoleBinding",
	    "ConfigMap",
	    "Secret",
	    "Service",
	    "LimitRange",
	    "Deployment",
	    "StatefulSet",
	    "CronJob",
	    "PodDisruptionBudget",
	};
	static const char *const last[] = {
	    "MutatingWebhookConfiguration",
	    "ValidatingWebhookConfiguration",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(first); i++)
		if (strcmp(kind, first[i]) == 0)
			return (int)i - (int)SL_ARRAY_SIZE(first);
	for (size_t i = 0; i < SL_ARRAY_SIZE(last); i++)
		if (strcmp(kind, last[i]) == 0)
			return (int)i + 1;
	return 0;
}

int sl_apply_order_cmp(const struct sl_object_ref *a, const struct sl_object_ref *b)
{
	int ia = kind_index(or_empty(a->kind)), ib = kind_index(or_empty(b->kind));
	if (ia != ib)
		return ia < ib ? -1 : 1;
	int r = strcmp(or_empty(a->group), or_empty(b->group));
	if (r == 0)
		r = strcmp(or_empty(a->kind), or_empty(b->kind));
	if (r == 0)
		r = strcmp(or_empty(a->namespace_), or_empty(b->namespace_));
	if (r == 0)
		r = strcmp(or_empty(a->name), or_empty(b->name));
	return r;
}

/* ---- normalisation ------------------------------------------------------ */

/* The object's group and kind from apiVersion and kind; false when either
 * is not a string. */
static bool group_kind(const json_t *obj, char *group, size_t group_size, const char **ret_kind)
{
	const char *api_version = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	if (!api_version || !kind)
		return false;
	const char *slash = strchr(api_version, '/');
	size_t len = slash ? (size_t)(slash - api_version) : 0;
	if (len >= group_size)
		return false; /* no group we normalise is that long */
	memcpy(group, api_version, len);
	group[len] = '\0';
	*ret_kind = kind;
	return true;
}

/* ports[].protocol defaults to TCP: the API server fills it in, so an
 * applied object without it would always look drifted
 * (kubernetes-sigs/structured-merge-diff#130, kubernetes#98576). */
static void default_protocols(json_t *ports)
{
	size_t i;
	json_t *port;
	json_array_foreach (ports, i, port) {
		if (!json_is_object(port))
			continue;
		json_t *protocol = json_object_get(port, "protocol");
		if (!protocol || json_is_null(protocol) ||
		    (json_is_string(protocol) && json_string_length(protocol) == 0))
			json_object_set_new(port, "protocol", jcheck(json_string("TCP")));
	}
}

static void normalize_pod_spec(json_t *spec)
{
	static const char *const lists[] = {"containers", "initContainers", "ephemeralContainers"};
	if (!json_is_object(spec))
		return;
	for (size_t l = 0; l < SL_ARRAY_SIZE(lists); l++) {
		json_t *containers = json_object_get(spec, lists[l]);
		size_t i;
		json_t *c;
		json_array_foreach (containers, i, c) {
			json_t *ports = json_object_get(c, "ports");
			if (json_is_object(c) && json_is_array(ports))
				default_protocols(ports);
		}
	}
}

/* The value at a path of object keys, or NULL. */
static json_t *dig(json_t *v, const char *const *path, size_t n)
{
	for (size_t i = 0; i < n && v; i++)
		v = json_object_get(v, path[i]);
	return v;
}

/* kubernetes#108008: stringData is write-only, merged into data by the API
 * server, so Flux merges it first (stringData wins) and drops it. Only a
 * stringData of strings and a data object (or none) are touched. */
static void normalize_secret(json_t *secret)
{
	json_t *string_data = json_object_get(secret, "stringData");
	if (!json_is_object(string_data))
		return;
	json_t *data = json_object_get(secret, "data");
	if (data && !json_is_null(data) && !json_is_object(data))
		return;
	const char *key;
	json_t *value;
	json_object_foreach (string_data, key, value) {
		if (!json_is_string(value))
			return;
	}
	if (json_object_size(string_data) > 0 && !json_is_object(data)) {
		data = jcheck(json_object());
		json_object_set_new(secret, "data", data);
	}
	json_object_foreach (string_data, key, value) {
		char *encoded =
		    sl_base64_encode(json_string_value(value), json_string_length(value));
		json_object_set_new(data, key, jcheck(json_string(encoded)));
		free(encoded);
	}
	json_object_del(secret, "stringData");
}

/* The typed part of normalize.UnstructuredWithScheme: what it does to the
 * built-in kinds it converts. */
static void normalize_typed(json_t *obj)
{
	char group[32];
	const char *kind;
	if (!group_kind(obj, group, sizeof(group), &kind))
		return;
	static const char *const template_spec[] = {"spec", "template", "spec"};
	static const char *const cronjob_spec[] = {"spec", "jobTemplate", "spec", "template",
	                                           "spec"};
	bool apps = strcmp(group, "apps") == 0, batch = strcmp(group, "batch") == 0,
	     core = group[0] == '\0';
	if (core && strcmp(kind, "Pod") == 0) {
		normalize_pod_spec(json_object_get(obj, "spec"));
	} else if ((apps && (strcmp(kind, "Deployment") == 0 || strcmp(kind, "StatefulSet") == 0 ||
	                     strcmp(kind, "DaemonSet") == 0 || strcmp(kind, "ReplicaSet") == 0)) ||
	           (batch && strcmp(kind, "Job") == 0)) {
		normalize_pod_spec(dig(obj, template_spec, SL_ARRAY_SIZE(template_spec)));
	} else if (batch && strcmp(kind, "CronJob") == 0) {
		normalize_pod_spec(dig(obj, cronjob_spec, SL_ARRAY_SIZE(cronjob_spec)));
	} else if (core && strcmp(kind, "Service") == 0) {
		json_t *ports = json_object_get(json_object_get(obj, "spec"), "ports");
		if (json_is_array(ports))
			default_protocols(ports);
	} else if (core && strcmp(kind, "Secret") == 0) {
		normalize_secret(obj);
	}
}

void sl_apply_normalize(json_t *obj)
{
	if (!json_is_object(obj))
		return;
	normalize_typed(obj);
	/* kstatus reads a CRD's status (Established, NamesAccepted), so
	 * utils.IsCRD objects keep theirs. */
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *api_version = json_string_value(json_object_get(obj, "apiVersion"));
	bool crd = kind && api_version && strcasecmp(kind, "CustomResourceDefinition") == 0 &&
	           sl_startswith(api_version, "apiextensions.k8s.io/");
	if (!crd)
		json_object_del(obj, "status");
}

/* ---- change sets and owner metadata -------------------------------------- */

const char *sl_change_action_name(enum sl_change_action action)
{
	switch (action) {
	case SL_CHANGE_CREATED: return "created";
	case SL_CHANGE_CONFIGURED: return "configured";
	case SL_CHANGE_UNCHANGED: return "unchanged";
	case SL_CHANGE_DELETED: return "deleted";
	case SL_CHANGE_SKIPPED: return "skipped";
	case SL_CHANGE_UNKNOWN: break;
	}
	return "unknown";
}

char *sl_change_subject(const struct sl_object_ref *ref)
{
	const char *ns = or_empty(ref->namespace_);
	if (!*ns)
		return sl_asprintf("%s/%s", or_empty(ref->kind), or_empty(ref->name));
	return sl_asprintf("%s/%s/%s", or_empty(ref->kind), ns, or_empty(ref->name));
}

static const char *metadata_value(const json_t *obj, const char *map, const char *key)
{
	json_t *m = json_object_get(json_object_get(obj, "metadata"), map);
	const char *v = json_string_value(json_object_get(m, key));
	/* Flux reads a missing and an empty value alike (labels[key] != ""). */
	return v && *v ? v : NULL;
}

const char *sl_object_label_or_annotation(const json_t *obj, const char *key)
{
	const char *v = metadata_value(obj, "labels", key);
	return v ? v : metadata_value(obj, "annotations", key);
}

bool sl_object_marked(const json_t *obj, const char *key, const char *value)
{
	/* utils.AnyInMetadata: the label or the annotation may carry the mark;
	 * a label with another value does not hide a matching annotation. */
	const char *label = metadata_value(obj, "labels", key);
	const char *annotation = metadata_value(obj, "annotations", key);
	return (label && strcasecmp(label, value) == 0) ||
	       (annotation && strcasecmp(annotation, value) == 0);
}
