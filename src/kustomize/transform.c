/* kustomize's field transformers: namespace, namePrefix/nameSuffix,
 * labels/commonLabels and commonAnnotations, each driven by the fieldSpec
 * table kustomize v5 builds in (api/internal/konfig/builtinpluginconsts)
 * and with the special cases of its filters (api/filters/namespace,
 * labels, annotations, prefix, suffix). */
#include <string.h>

#include "kustomize/fieldspec.h"
#include "kustomize/ks.h"

/* ---- tables ------------------------------------------------------------ */

/* metadataLabelsFieldSpecs: where `labels` with includeTemplates (and,
 * below, commonLabels) write besides selectors. */
static const struct ks_fieldspec template_labels[] = {
    {NULL, NULL, NULL, "metadata/labels", true},
    {NULL, "v1", "ReplicationController", "spec/template/metadata/labels", true},
    {NULL, NULL, "Deployment", "spec/template/metadata/labels", true},
    {NULL, NULL, "ReplicaSet", "spec/template/metadata/labels", true},
    {NULL, NULL, "DaemonSet", "spec/template/metadata/labels", true},
    {"apps", NULL, "StatefulSet", "spec/template/metadata/labels", true},
    {"apps", NULL, "StatefulSet", "spec/volumeClaimTemplates[]/metadata/labels", true},
    {"batch", NULL, "Job", "spec/template/metadata/labels", true},
    {"batch", NULL, "CronJob", "spec/jobTemplate/metadata/labels", true},
    {"batch", NULL, "CronJob", "spec/jobTemplate/spec/template/metadata/labels", true},
};

#define POD_AFFINITY_SELECTORS(group, kind)                                                        \
	{group, NULL, kind,                                                                        \
	 "spec/template/spec/affinity/podAffinity/"                                                \
	 "preferredDuringSchedulingIgnoredDuringExecution/"                                        \
	 "podAffinityTerm/labelSelector/matchLabels",                                              \
	 false},                                                                                   \
	    {group, NULL, kind,                                                                    \
	     "spec/template/spec/affinity/podAffinity/"                                            \
	     "requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",           \
	     false},                                                                               \
	    {group, NULL, kind,                                                                    \
	     "spec/template/spec/affinity/podAntiAffinity/"                                        \
	     "preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/"      \
	     "matchLabels",                                                                        \
	     false},                                                                               \
	    {group, NULL, kind,                                                                    \
	     "spec/template/spec/affinity/podAntiAffinity/"                                        \
	     "requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",           \
	     false},                                                                               \
	{                                                                                          \
		group, NULL, kind,                                                                 \
		    "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",      \
		    false                                                                          \
	}

/* commonLabelFieldSpecs without its metadataLabelsFieldSpecs tail: the
 * selectors. A Job's selector is only updated when it has one; custom
 * resources match none of these rows. */
static const struct ks_fieldspec selector_labels[] = {
    {NULL, "v1", "Service", "spec/selector", true},
    {NULL, "v1", "ReplicationController", "spec/selector", true},
    {NULL, NULL, "Deployment", "spec/selector/matchLabels", true},
    POD_AFFINITY_SELECTORS("apps", "Deployment"),
    {NULL, NULL, "ReplicaSet", "spec/selector/matchLabels", true},
    {NULL, NULL, "DaemonSet", "spec/selector/matchLabels", true},
    {"apps", NULL, "StatefulSet", "spec/selector/matchLabels", true},
    POD_AFFINITY_SELECTORS("apps", "StatefulSet"),
    {"batch", NULL, "Job", "spec/selector/matchLabels", false},
    {"batch", NULL, "CronJob", "spec/jobTemplate/spec/selector/matchLabels", false},
    {"policy", NULL, "PodDisruptionBudget", "spec/selector/matchLabels", false},
    {"networking.k8s.io", NULL, "NetworkPolicy", "spec/podSelector/matchLabels", false},
    {"networking.k8s.io", NULL, "NetworkPolicy", "spec/ingress/from/podSelector/matchLabels",
     false},
    {"networking.k8s.io", NULL, "NetworkPolicy", "spec/egress/to/podSelector/matchLabels", false},
};

static const struct ks_fieldspec metadata_labels = {NULL, NULL, NULL, "metadata/labels", true};

/* commonAnnotationFieldSpecs */
static const struct ks_fieldspec annotation_specs[] = {
    {NULL, NULL, NULL, "metadata/annotations", true},
    {NULL, "v1", "ReplicationController", "spec/template/metadata/annotations", true},
    {NULL, NULL, "Deployment", "spec/template/metadata/annotations", true},
    {NULL, NULL, "ReplicaSet", "spec/template/metadata/annotations", true},
    {NULL, NULL, "DaemonSet", "spec/template/metadata/annotations", true},
    {NULL, NULL, "StatefulSet", "spec/template/metadata/annotations", true},
    {"batch", NULL, "Job", "spec/template/metadata/annotations", true},
    {"batch", NULL, "CronJob", "spec/jobTemplate/metadata/annotations", true},
    {"batch", NULL, "CronJob", "spec/jobTemplate/spec/template/metadata/annotations", true},
};

/* namespaceFieldSpecs besides metadata/namespace (set on every namespaced
 * kind) and metadata/name of v1 Namespace objects (renamed), which the
 * filter handles itself. */
static const struct ks_fieldspec namespace_specs[] = {
    {"apiregistration.k8s.io", NULL, "APIService", "spec/service/namespace", true},
    {"apiextensions.k8s.io", NULL, "CustomResourceDefinition",
     "spec/conversion/webhook/clientConfig/service/namespace", false},
};

/* ---- helpers ----------------------------------------------------------- */

static bool kind_is(const struct ks_gvk *gvk, const char *kind)
{
	return strcmp(gvk->kind, kind) == 0;
}

static bool group_is(const struct ks_gvk *gvk, const char *group)
{
	return strlen(group) == gvk->group_len && memcmp(group, gvk->group, gvk->group_len) == 0;
}

static bool obj_is_empty(const struct sl_node *obj)
{
	return !obj || obj->type != SL_NODE_MAP || obj->map.len == 0;
}

/* Applies fn at every fieldSpec of specs[0..n) that selects obj. */
static int apply_specs(struct sl_node *obj, const struct ks_fieldspec *specs, size_t n,
                       enum ks_create_kind kind, ks_fieldspec_fn fn, void *ctx,
                       struct sl_error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (!ks_fieldspec_applies(&specs[i], obj))
			continue;
		int r = ks_fieldspec_walk(obj, &specs[i], kind, fn, ctx, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- namespace --------------------------------------------------------- */

static int set_namespace(struct sl_node *node, void *ctx, struct sl_error *err)
{
	if (node->type == SL_NODE_MAP || node->type == SL_NODE_SEQ)
		return sl_error_set(err, SL_EINVAL,
		                    "namespace field specs must target scalar nodes, found %s",
		                    sl_node_type_name(node->type));
	sl_node_replace(node, sl_node_new_str(ctx));
	return 0;
}

/* kustomize's default "defaultOnly" subject mode: a subject named
 * "default" gets the namespace, created if absent, whatever its kind.
 * Other ServiceAccount subjects follow their ServiceAccount through the
 * name references at the end of the build, not here. */
static void set_default_subjects(struct sl_node *obj, const char *ns)
{
	struct sl_node *subjects = sl_node_map_get(obj, "subjects");
	if (!subjects || subjects->type != SL_NODE_SEQ)
		return;
	for (size_t i = 0; i < subjects->seq.len; i++) {
		struct sl_node *s = subjects->seq.items[i];
		const char *name = sl_node_dig_str(s, "name", NULL);
		if (s->type == SL_NODE_MAP && name && strcmp(name, "default") == 0)
			sl_node_map_set(s, "namespace", sl_node_new_str(ns));
	}
}

int ks_apply_namespace(struct ks_resmap *m, const char *ns, struct sl_error *err)
{
	if (!ns || !*ns)
		return 0;
	for (size_t i = 0; i < m->len; i++) {
		struct ks_resource *res = m->items[i];
		if (obj_is_empty(res->obj))
			continue;
		struct ks_gvk gvk;
		ks_gvk_of(res->obj, &gvk);
		bool cluster =
		    ks_kind_is_cluster_scoped(gvk.group, gvk.group_len, gvk.version, gvk.kind);
		/* Only the core Namespace kind is renamed to the namespace. */
		const char *api = sl_node_dig_str(res->obj, "apiVersion", NULL);
		bool rename = kind_is(&gvk, "Namespace") && api && strcmp(api, "v1") == 0;
		/* kustomize stores every resource's id before the transformation,
		 * changed or not. */
		ks_resource_rename(res, rename ? ns : NULL, cluster ? NULL : ns);
		if (kind_is(&gvk, "RoleBinding") || kind_is(&gvk, "ClusterRoleBinding"))
			set_default_subjects(res->obj, ns);
		int r = apply_specs(res->obj, namespace_specs, SL_ARRAY_SIZE(namespace_specs),
		                    KS_CREATE_STR, set_namespace, (void *)ns, err);
		if (r < 0)
			return sl_error_wrap(err, r, "namespace transformation failed");
	}
	/* kustomize checks after each object; one check at the end finds the
	 * same conflicts (every namespaced object gets the same namespace)
	 * without the quadratic cost. */
	return ks_resmap_check_unique(m, "namespace transformation produces ID conflict", err);
}

/* ---- namePrefix / nameSuffix ------------------------------------------ */

/* Appends value to a comma-separated build annotation. */
static void append_csv_annotation(struct sl_node *obj, const char *key, const char *value)
{
	struct sl_node *meta = sl_node_map_ensure_map(obj, "metadata");
	struct sl_node *annotations = meta ? sl_node_map_ensure_map(meta, "annotations") : NULL;
	if (!annotations)
		return;
	const char *old = sl_node_dig_str(annotations, key, NULL);
	char *joined = old ? sl_asprintf("%s,%s", old, value) : sl_strdup(value);
	sl_node_map_set(annotations, key, sl_node_new_str_take(joined, strlen(joined)));
}

/* The kinds kustomize's prefix and suffix transformers never rename. */
static bool affix_skipped(const struct ks_gvk *gvk)
{
	return kind_is(gvk, "CustomResourceDefinition") || kind_is(gvk, "Namespace") ||
	       (kind_is(gvk, "APIService") && group_is(gvk, "apiregistration.k8s.io"));
}

/* One of kustomize's two transformers: record the id, then rename. */
static void add_affix(struct ks_resource *res, const char *affix, bool prefix)
{
	append_csv_annotation(res->obj, prefix ? KS_ANNO_PREFIXES : KS_ANNO_SUFFIXES, affix);
	const char *name = sl_node_dig_str(res->obj, "metadata", "name", NULL);
	if (!name) {
		ks_resource_rename(res, NULL, NULL);
		return;
	}
	_cleanup_free_ char *renamed =
	    prefix ? sl_asprintf("%s%s", affix, name) : sl_asprintf("%s%s", name, affix);
	ks_resource_rename(res, renamed, NULL);
}

int ks_apply_name_affixes(struct ks_resmap *m, const char *prefix, const char *suffix,
                          struct sl_error *err)
{
	(void)err;
	for (int pass = 0; pass < 2; pass++) {
		const char *affix = pass == 0 ? prefix : suffix;
		if (!affix || !*affix)
			continue;
		for (size_t i = 0; i < m->len; i++) {
			struct ks_resource *res = m->items[i];
			if (obj_is_empty(res->obj))
				continue;
			struct ks_gvk gvk;
			ks_gvk_of(res->obj, &gvk);
			if (!affix_skipped(&gvk))
				add_affix(res, affix, pass == 0);
		}
	}
	return 0;
}

/* ---- labels and annotations ------------------------------------------- */

/* Checks that pairs is a map of strings (null counts as "", as Go's JSON
 * decoding into map[string]string has it). */
static int check_pairs(const struct sl_node *pairs, const char *what, struct sl_error *err)
{
	if (!pairs || pairs->type != SL_NODE_MAP)
		return sl_error_set(err, SL_EINVAL, "%s must be a map of strings", what);
	for (size_t i = 0; i < pairs->map.len; i++) {
		enum sl_node_type t = pairs->map.items[i].value->type;
		if (t != SL_NODE_STR && t != SL_NODE_NULL)
			return sl_error_set(err, SL_EINVAL,
			                    "%s: the value of '%s' is a %s, not a string", what,
			                    pairs->map.items[i].key, sl_node_type_name(t));
	}
	return 0;
}

static int set_pairs(struct sl_node *node, void *ctx, struct sl_error *err)
{
	const struct sl_node *pairs = ctx;
	if (node->type != SL_NODE_MAP)
		return sl_error_set(err, SL_EINVAL, "wrong node kind: expected a map but got %s",
		                    sl_node_type_name(node->type));
	for (size_t i = 0; i < pairs->map.len; i++) {
		const struct sl_node_pair *p = &pairs->map.items[i];
		const char *v = sl_node_str(p->value);
		sl_node_map_setn(node, p->key, p->key_len, sl_node_new_str(v ? v : ""));
	}
	return 0;
}

/* A `labels[].fields` entry: {path, group, version, kind, create}. */
static int parse_field(const struct sl_node *f, size_t i, struct ks_fieldspec *ret,
                       struct sl_error *err)
{
	const char *path = sl_node_dig_str(f, "path", NULL);
	if (f->type != SL_NODE_MAP || !path || !*path)
		return sl_error_set(err, SL_EINVAL, "fields[%zu]: a fieldSpec needs a path", i);
	const struct sl_node *create = sl_node_map_get(f, "create");
	*ret = (struct ks_fieldspec){
	    .group = sl_node_dig_str(f, "group", NULL),
	    .version = sl_node_dig_str(f, "version", NULL),
	    .kind = sl_node_dig_str(f, "kind", NULL),
	    .path = path,
	    .create = create && create->type == SL_NODE_BOOL && create->b,
	};
	return 0;
}

int ks_apply_labels(struct ks_resmap *m, const struct sl_node *pairs, bool include_selectors,
                    bool include_templates, const struct sl_node *fields, struct sl_error *err)
{
	int r = check_pairs(pairs, "labels", err);
	if (r < 0 || pairs->map.len == 0)
		return r;
	size_t n_fields = fields && fields->type == SL_NODE_SEQ ? fields->seq.len : 0;
	if (fields && fields->type != SL_NODE_SEQ && fields->type != SL_NODE_NULL)
		return sl_error_set(err, SL_EINVAL, "fields must be a list of fieldSpecs");
	_cleanup_free_ struct ks_fieldspec *custom = sl_xcalloc(n_fields + 1, sizeof(*custom));
	for (size_t i = 0; i < n_fields; i++)
		if ((r = parse_field(fields->seq.items[i], i, &custom[i], err)) < 0)
			return r;
	/* kustomize's choice of tables: the custom fields first, then
	 * commonLabels' (selectors and templates), or the templates, or just
	 * metadata/labels. */
	const struct ks_fieldspec *tables[] = {custom, selector_labels, template_labels,
	                                       &metadata_labels};
	size_t sizes[] = {n_fields, SL_ARRAY_SIZE(selector_labels), SL_ARRAY_SIZE(template_labels),
	                  1};
	bool use[] = {true, include_selectors, include_selectors || include_templates,
	              !include_selectors && !include_templates};
	for (size_t i = 0; i < m->len; i++) {
		struct sl_node *obj = m->items[i]->obj;
		if (obj_is_empty(obj))
			continue;
		for (size_t t = 0; t < SL_ARRAY_SIZE(tables); t++) {
			if (!use[t])
				continue;
			r = apply_specs(obj, tables[t], sizes[t], KS_CREATE_MAP, set_pairs,
			                (void *)pairs, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int ks_apply_annotations(struct ks_resmap *m, const struct sl_node *pairs, struct sl_error *err)
{
	int r = check_pairs(pairs, "commonAnnotations", err);
	if (r < 0 || pairs->map.len == 0)
		return r;
	for (size_t i = 0; i < m->len; i++) {
		struct sl_node *obj = m->items[i]->obj;
		if (obj_is_empty(obj))
			continue;
		r = apply_specs(obj, annotation_specs, SL_ARRAY_SIZE(annotation_specs),
		                KS_CREATE_MAP, set_pairs, (void *)pairs, err);
		if (r < 0)
			return r;
	}
	return 0;
}
