/* kustomize's output order (sortOptions): "legacy" — a stable sort by kind
 * rank, then GROUP_VERSION_KIND, namespace and name — or "fifo". */
#include <string.h>

#include "kustomize/kbuild.h"

static const char *const default_first[] = {
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
};
static const char *const default_last[] = {"MutatingWebhookConfiguration",
                                           "ValidatingWebhookConfiguration"};

struct sort_key {
	struct ks_resource *res;
	size_t index; /* input position: the sort is stable */
	long rank;    /* < 0: orderFirst, 0: others, > 0: orderLast */
	char *gvk;    /* GROUP_VERSION_KIND with ~G/~V/~K for empty parts */
	const char *ns;
	const char *name;
};

struct ranks {
	const char *const *first;
	size_t n_first;
	const char *const *last;
	size_t n_last;
};

static long kind_rank(const struct ranks *rk, const char *kind)
{
	for (size_t i = 0; i < rk->n_first; i++)
		if (strcmp(rk->first[i], kind) == 0)
			return (long)i - (long)rk->n_first;
	for (size_t i = 0; i < rk->n_last; i++)
		if (strcmp(rk->last[i], kind) == 0)
			return (long)i + 1;
	return 0;
}

static int compare_keys(const void *pa, const void *pb)
{
	const struct sort_key *a = pa, *b = pb;
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	int c = strcmp(a->gvk, b->gvk);
	if (c)
		return c;
	/* No namespace sorts after every namespace. */
	c = strcmp(*a->ns ? a->ns : "~X", *b->ns ? b->ns : "~X");
	if (c)
		return c;
	c = strcmp(a->name, b->name);
	if (c)
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* A sequence of strings from sortOptions, as a C array (borrowed). */
static const char **string_list(const struct sl_node *seq, size_t *n)
{
	*n = seq && seq->type == SL_NODE_SEQ ? seq->seq.len : 0;
	const char **out = sl_xcalloc(*n + 1, sizeof(*out));
	for (size_t i = 0; i < *n; i++)
		out[i] = sl_node_str(seq->seq.items[i]) ? sl_node_str(seq->seq.items[i]) : "";
	return out;
}

int ks_sort(struct ks_resmap *m, const struct sl_node *sort_options, struct sl_error *err)
{
	const char *order = sl_node_dig_str(sort_options, "order", NULL);
	if (order && strcmp(order, "fifo") == 0)
		return 0;
	if (order && *order && strcmp(order, "legacy") != 0)
		return sl_error_set(err, SL_EINVAL,
		                    "sortOptions.order \"%s\": must be legacy or fifo", order);
	struct ranks rk = {default_first, SL_ARRAY_SIZE(default_first), default_last,
	                   SL_ARRAY_SIZE(default_last)};
	_cleanup_free_ const char **first = NULL, **last = NULL;
	const struct sl_node *legacy = sl_node_dig(sort_options, "legacySortOptions", NULL);
	if (legacy) {
		first = string_list(sl_node_map_get(legacy, "orderFirst"), &rk.n_first);
		last = string_list(sl_node_map_get(legacy, "orderLast"), &rk.n_last);
		rk.first = first;
		rk.last = last;
	}
	struct sort_key *keys = sl_xcalloc(m->len ? m->len : 1, sizeof(*keys));
	for (size_t i = 0; i < m->len; i++) {
		const char *group, *version, *kind;
		size_t group_len;
		ks_resource_gvk(m->items[i], &group, &group_len, &version, &kind);
		keys[i] = (struct sort_key){
		    .res = m->items[i],
		    .index = i,
		    .rank = kind_rank(&rk, kind),
		    .gvk = sl_asprintf("%.*s_%s_%s", group_len ? (int)group_len : 2,
		                       group_len ? group : "~G", *version ? version : "~V",
		                       *kind ? kind : "~K"),
		    .ns = ks_resource_namespace(m->items[i]),
		    .name = ks_resource_name(m->items[i]),
		};
	}
	qsort(keys, m->len, sizeof(*keys), compare_keys);
	for (size_t i = 0; i < m->len; i++) {
		m->items[i] = keys[i].res;
		free(keys[i].gvk);
	}
	free(keys);
	return 0;
}
