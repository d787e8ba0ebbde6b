/* Discovery: which resource (plural, scope) serves a kind, from the
 * server's APIResourceList of each group/version, cached per client; and
 * which one a kubectl-style resource argument ("deploy", "ks",
 * "deployments.apps") names. */
#include <string.h>
#include <strings.h>

#include "kube/kube_internal.h"

struct gv_resource {
	char *kind;
	char *plural;
	char *singular; /* "" when the server does not say */
	struct sl_strv short_names;
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
		free(gv->items[i].singular);
		sl_strv_free(&gv->items[i].short_names);
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
		const char *singular = json_string_value(json_object_get(res, "singularName"));
		struct gv_resource *item = &gv->items[gv->len++];
		*item = (struct gv_resource){
		    .kind = sl_strdup(kind),
		    .plural = sl_strdup(name),
		    .singular = sl_strdup(singular ? singular : ""),
		    .namespaced = json_is_true(json_object_get(res, "namespaced")),
		};
		size_t j;
		json_t *short_name;
		json_array_foreach (json_object_get(res, "shortNames"), j, short_name)
			if (json_is_string(short_name))
				sl_strv_push(&item->short_names, json_string_value(short_name));
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

/* ---- kubectl's resource arguments ---------------------------------------- */

/* The resource of gv that name names: its plural, singular or kind (any
 * case), else one of its short names. */
static const struct gv_resource *gv_match(const struct kube_gv *gv, const char *name)
{
	for (size_t i = 0; i < gv->len; i++) {
		const struct gv_resource *r = &gv->items[i];
		if (strcasecmp(r->plural, name) == 0 || strcasecmp(r->kind, name) == 0 ||
		    (*r->singular && strcasecmp(r->singular, name) == 0))
			return r;
	}
	for (size_t i = 0; i < gv->len; i++)
		for (size_t j = 0; j < gv->items[i].short_names.len; j++)
			if (strcasecmp(gv->items[i].short_names.items[j], name) == 0)
				return &gv->items[i];
	return NULL;
}

/* Looks name up in group/version (fetched when not cached): 0 and *ret, or
 * SL_ENOTFOUND when the group/version is not served or has no such
 * resource. */
static int lookup_in(struct sl_kube *k, const char *group, const char *version, const char *name,
                     struct sl_kube_resource *ret, struct sl_error *err)
{
	struct kube_gv *gv = gv_find(k, group, version);
	if (!gv) {
		int r = gv_fetch(k, group, version, &gv, err);
		if (r < 0)
			return r;
	}
	const struct gv_resource *found = gv_match(gv, name);
	if (!found)
		return SL_ENOTFOUND;
	_cleanup_free_ char *api =
	    *group ? sl_asprintf("%s/%s", group, version) : sl_strdup(version);
	return sl_kube_resource_set(ret, api, found->kind, found->plural, found->namespaced, err);
}

/* The served groups in the server's order of preference, each with its
 * preferred version: ret gets "group", "version" pairs. */
static int list_groups(struct sl_kube *k, struct sl_strv *ret, struct sl_error *err)
{
	char path[] = "/apis";
	struct kube_call call = {
	    .method = "GET",
	    .path = path,
	    .idempotent = true,
	    .max_response = SL_KUBE_MAX_OBJECT_RESPONSE,
	};
	_cleanup_(json_decrefp) json_t *doc = NULL;
	int r = kube_perform(k, &call, NULL, &doc, err);
	if (r < 0)
		return sl_error_wrap(err, r, "listing the served API groups");
	size_t i;
	json_t *g;
	json_array_foreach (json_object_get(doc, "groups"), i, g) {
		const char *name = json_string_value(json_object_get(g, "name"));
		const char *version = json_string_value(
		    json_object_get(json_object_get(g, "preferredVersion"), "version"));
		if (name && version) {
			sl_strv_push(ret, name);
			sl_strv_push(ret, version);
		}
	}
	return 0;
}

int sl_kube_resolve(struct sl_kube *k, const char *arg, struct sl_kube_resource *ret,
                    struct sl_error *err)
{
	if (!arg || !*arg)
		return sl_error_set(err, SL_EINVAL, "no resource type given");
	_cleanup_(sl_strv_free) struct sl_strv groups = {0};
	int r = list_groups(k, &groups, err);
	if (r < 0)
		return r;
	const char *dot = strchr(arg, '.');
	_cleanup_free_ char *name = dot ? sl_strndup(arg, (size_t)(dot - arg)) : sl_strdup(arg);
	const char *qualifier = dot ? dot + 1 : NULL;
	/* "resource.group" or "resource.version.group": the group named. */
	for (size_t i = 0; qualifier && i < groups.len; i += 2) {
		const char *group = groups.items[i], *version = groups.items[i + 1];
		const char *second_dot = strchr(qualifier, '.');
		if (strcmp(qualifier, group) == 0)
			r = lookup_in(k, group, version, name, ret, err);
		else if (second_dot && strcmp(second_dot + 1, group) == 0) {
			_cleanup_free_ char *v =
			    sl_strndup(qualifier, (size_t)(second_dot - qualifier));
			r = lookup_in(k, group, v, name, ret, err);
		} else
			continue;
		if (r != SL_ENOTFOUND)
			return r;
	}
	/* A bare name: the core group first, then the groups in the server's
	 * order, as kubectl's RESTMapper prefers them. */
	if (!qualifier) {
		r = lookup_in(k, "", "v1", name, ret, err);
		if (r != SL_ENOTFOUND)
			return r;
		for (size_t i = 0; i < groups.len; i += 2) {
			r = lookup_in(k, groups.items[i], groups.items[i + 1], name, ret, err);
			if (r != SL_ENOTFOUND)
				return r;
		}
	}
	return sl_error_set(err, SL_ENOTFOUND, "the server doesn't have a resource type \"%s\"",
	                    arg);
}
