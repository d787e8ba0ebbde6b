/* Discovery: which resource (plural, scope) serves a kind, from the
 * server's APIResourceList of each group/version, cached per client. */
#include <string.h>

#include "kube/kube_internal.h"

struct gv_resource {
	char *kind;
	char *plural;
	bool namespaced;
};

struct kube_gv {
	char *group;
	char *version;
	struct gv_resource *items;
	size_t len;
};

static void gv_clear(struct kube_gv *gv)
{
	for (size_t i = 0; i < gv->len; i++) {
		free(gv->items[i].kind);
		free(gv->items[i].plural);
	}
	free(gv->items);
	free(gv->group);
	free(gv->version);
	*gv = (struct kube_gv){0};
}

void kube_discovery_free(struct sl_kube *k)
{
	for (size_t i = 0; i < k->n_gvs; i++)
		gv_clear(&k->gvs[i]);
	free(k->gvs);
	k->gvs = NULL;
	k->n_gvs = 0;
}

void sl_kube_discovery_reset(struct sl_kube *k)
{
	kube_discovery_free(k);
}

static struct kube_gv *gv_find(struct sl_kube *k, const char *group, const char *version)
{
	for (size_t i = 0; i < k->n_gvs; i++)
		if (strcmp(k->gvs[i].group, group) == 0 && strcmp(k->gvs[i].version, version) == 0)
			return &k->gvs[i];
	return NULL;
}

void kube_discovery_forget(struct sl_kube *k, const char *group, const char *version)
{
	struct kube_gv *gv = gv_find(k, group, version);
	if (!gv)
		return;
	gv_clear(gv);
	*gv = k->gvs[--k->n_gvs];
}

/* GET /api/v1 or /apis/<group>/<version> into the cache. */
static int gv_fetch(struct sl_kube *k, const char *group, const char *version, struct kube_gv **ret,
                    struct sl_error *err)
{
	_cleanup_free_ char *path =
	    *group ? sl_asprintf("/apis/%s/%s", group, version) : sl_asprintf("/api/%s", version);
	struct kube_call call = {
	    .method = "GET",
	    .path = path,
	    .idempotent = true,
	    .max_response = SL_KUBE_MAX_OBJECT_RESPONSE,
	};
	_cleanup_(json_decrefp) json_t *doc = NULL;
	int r = kube_perform(k, &call, NULL, &doc, err);
	if (r < 0)
		return r;
	json_t *resources = json_object_get(doc, "resources");
	if (!json_is_array(resources))
		return sl_error_set(err, SL_EINVAL, "discovery of %s%s%s: no resources list", group,
		                    *group ? "/" : "", version);
	kube_discovery_forget(k, group, version);
	k->gvs = sl_xrealloc(k->gvs, (k->n_gvs + 1) * sizeof(*k->gvs));
	struct kube_gv *gv = &k->gvs[k->n_gvs++];
	*gv = (struct kube_gv){.group = sl_strdup(group), .version = sl_strdup(version)};
	gv->items = sl_xcalloc(json_array_size(resources) + 1, sizeof(*gv->items));
	size_t i;
	json_t *res;
	json_array_foreach (resources, i, res) {
		const char *name = json_string_value(json_object_get(res, "name"));
		const char *kind = json_string_value(json_object_get(res, "kind"));
		/* "deployments/status" and friends are subresources. */
		if (!name || !kind || strchr(name, '/'))
			continue;
		gv->items[gv->len++] = (struct gv_resource){
		    .kind = sl_strdup(kind),
		    .plural = sl_strdup(name),
		    .namespaced = json_is_true(json_object_get(res, "namespaced")),
		};
	}
	*ret = gv;
	return 0;
}

static const struct gv_resource *gv_kind(const struct kube_gv *gv, const char *kind)
{
	for (size_t i = 0; gv && i < gv->len; i++)
		if (strcmp(gv->items[i].kind, kind) == 0)
			return &gv->items[i];
	return NULL;
}

int sl_kube_discover(struct sl_kube *k, const char *api_version, const char *kind,
                     struct sl_kube_resource *ret, struct sl_error *err)
{
	struct sl_kube_resource res;
	int r = sl_kube_resource_set(&res, api_version, kind, "", false, err);
	if (r < 0)
		return r;
	if (!kind || !*kind)
		return sl_error_set(err, SL_EINVAL, "apiVersion %s: no kind", api_version);
	struct kube_gv *gv = gv_find(k, res.group, res.version);
	const struct gv_resource *found = gv_kind(gv, kind);
	if (!found) {
		/* Not cached, or cached before its CRD was installed. */
		r = gv_fetch(k, res.group, res.version, &gv, err);
		if (r == SL_ENOTFOUND)
			return sl_error_set(
			    err, SL_ENOTFOUND,
			    "no kind %s in apiVersion %s: the server does not serve "
			    "%s (is its CRD installed?)",
			    kind, api_version, api_version);
		if (r < 0)
			return sl_error_wrap(err, r, "discovering %s %s", api_version, kind);
		found = gv_kind(gv, kind);
	}
	if (!found)
		return sl_error_set(err, SL_ENOTFOUND,
		                    "no kind %s in apiVersion %s (is its CRD installed?)", kind,
		                    api_version);
	r = sl_kube_resource_set(ret, api_version, kind, found->plural, found->namespaced, err);
	return r;
}

int sl_kube_resource_of(struct sl_kube *k, const json_t *obj, struct sl_kube_resource *ret,
                        struct sl_error *err)
{
	const char *api_version = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	if (!api_version || !kind)
		return sl_error_set(err, SL_EINVAL, "the object has no apiVersion or kind");
	return sl_kube_discover(k, api_version, kind, ret, err);
}
