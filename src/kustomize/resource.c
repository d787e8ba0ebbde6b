/* A resource's identity: name, namespace, their history, group/version/kind
 * and scope, as kustomize's resid package sees them. */
#include <string.h>

#include "kustomize/ks.h"

const char *ks_resource_name(const struct ks_resource *r)
{
	const char *s = sl_node_dig_str(r->obj, "metadata", "name", NULL);
	return s ? s : "";
}

const char *ks_resource_namespace(const struct ks_resource *r)
{
	const char *s = sl_node_dig_str(r->obj, "metadata", "namespace", NULL);
	return s ? s : "";
}

void ks_resource_rename(struct ks_resource *r, const char *name, const char *ns)
{
	sl_strv_push(&r->prev_names, ks_resource_name(r));
	sl_strv_push(&r->prev_namespaces, ks_resource_namespace(r));
	struct sl_node *meta = sl_node_map_ensure_map(r->obj, "metadata");
	if (!meta)
		return; /* refused at load time; never reached */
	if (name)
		sl_node_map_set(meta, "name", sl_node_new_str(name));
	if (ns && *ns)
		sl_node_map_set(meta, "namespace", sl_node_new_str(ns));
	else if (ns)
		sl_node_map_del(meta, "namespace");
}

void ks_resource_gvk(const struct ks_resource *r, const char **group, size_t *group_len,
                     const char **version, const char **kind)
{
	const char *api = sl_node_dig_str(r->obj, "apiVersion", NULL);
	const char *k = sl_node_dig_str(r->obj, "kind", NULL);
	*kind = k ? k : "";
	if (!api)
		api = "";
	const char *slash = strchr(api, '/');
	if (slash) {
		*group = api;
		*group_len = (size_t)(slash - api);
		*version = slash + 1;
	} else {
		*group = "";
		*group_len = 0;
		*version = api;
	}
}

/* The cluster-scoped kinds of the Kubernetes API kustomize v5 embeds (the
 * v1.21.2 OpenAPI), by exact group, version and kind: kustomize takes any
 * other apiVersion of the same kind, and every kind it does not know, as
 * namespaced. */
static const struct {
	const char *group;
	const char *versions; /* space-separated */
	const char *kind;
} cluster_scoped[] = {
    {"", "v1", "ComponentStatus"},
    {"", "v1", "Namespace"},
    {"", "v1", "Node"},
    {"", "v1", "PersistentVolume"},
    {"admissionregistration.k8s.io", "v1 v1beta1", "MutatingWebhookConfiguration"},
    {"admissionregistration.k8s.io", "v1 v1beta1", "ValidatingWebhookConfiguration"},
    {"apiextensions.k8s.io", "v1 v1beta1", "CustomResourceDefinition"},
    {"apiregistration.k8s.io", "v1 v1beta1", "APIService"},
    {"certificates.k8s.io", "v1 v1beta1", "CertificateSigningRequest"},
    {"flowcontrol.apiserver.k8s.io", "v1beta1", "FlowSchema"},
    {"flowcontrol.apiserver.k8s.io", "v1beta1", "PriorityLevelConfiguration"},
    {"networking.k8s.io", "v1 v1beta1", "IngressClass"},
    {"node.k8s.io", "v1 v1beta1", "RuntimeClass"},
    {"policy", "v1beta1", "PodSecurityPolicy"},
    {"rbac.authorization.k8s.io", "v1 v1beta1", "ClusterRole"},
    {"rbac.authorization.k8s.io", "v1 v1beta1", "ClusterRoleBinding"},
    {"scheduling.k8s.io", "v1 v1beta1", "PriorityClass"},
    {"storage.k8s.io", "v1 v1beta1", "CSIDriver"},
    {"storage.k8s.io", "v1 v1beta1", "CSINode"},
    {"storage.k8s.io", "v1 v1beta1", "StorageClass"},
    {"storage.k8s.io", "v1 v1beta1", "VolumeAttachment"},
};

static bool word_in(const char *words, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = words; (p = strstr(p, w)); p += n)
		if ((p == words || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

bool ks_kind_is_cluster_scoped(const char *group, size_t group_len, const char *version,
                               const char *kind)
{
	for (size_t i = 0; i < SL_ARRAY_SIZE(cluster_scoped); i++)
		if (strlen(cluster_scoped[i].group) == group_len &&
		    memcmp(cluster_scoped[i].group, group, group_len) == 0 &&
		    strcmp(cluster_scoped[i].kind, kind) == 0 && *version &&
		    word_in(cluster_scoped[i].versions, version))
			return true;
	return false;
}
