/* The verbs of the REST API on objects: get, list (every page at once, or
 * a page at a time), create, update, the patches, server-side apply and
 * delete. */
#include <string.h>

#include "kube/kube_internal.h"

static const char *meta_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

/* The namespace a call on res goes to: the caller's, the object's, the
 * config's. */
static const char *target_ns(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                             const json_t *obj)
{
	if (!res->namespaced)
		return NULL;
	if (ns && *ns)
		return ns;
	const char *m = obj ? meta_str(obj, "namespace") : NULL;
	if (m && *m)
		return m;
	return k->cfg->namespace;
}

static int run(struct sl_kube *k, enum kube_verb verb, const struct sl_kube_resource *res,
               const char *ns, const char *name, const struct kube_params *p, const json_t *body,
               json_t **ret_doc, struct sl_error *err)
{
	struct kube_call call;
	int r = kube_call_build(verb, res, ns, name, p, &call, err);
	if (r < 0)
		return r;
	r = kube_perform(k, &call, body, ret_doc, err);
	kube_call_clear(&call);
	return r;
}

int sl_kube_get(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                const char *name, json_t **ret_obj, struct sl_error *err)
{
	json_t *doc = NULL;
	int r = run(k, KUBE_GET, res, target_ns(k, res, ns, NULL), name, NULL, NULL, &doc, err);
	if (r < 0)
		return r;
	if (!json_is_object(doc)) {
		json_decref(doc);
		return sl_error_set(err, SL_EINVAL,
		                    "getting %s \"%s\": the answer is not an object", res->resource,
		                    name);
	}
	*ret_obj = doc;
	return 0;
}

/* ---- list --------------------------------------------------------------- */

void sl_kube_list_clear(struct sl_kube_list *l)
{
	json_decref(l->items);
	free(l->resource_version);
	*l = (struct sl_kube_list){0};
}

/* List items carry no apiVersion and kind for built-in types; the list
 * does ("ConfigMapList"). Sets them on the page's items, returned
 * borrowed (an empty array when the page has none). */
static int page_items(json_t *page, const struct sl_kube_resource *res, json_t **ret_items,
                      struct sl_error *err)
{
	json_t *list_items = json_object_get(page, "items");
	if (!list_items || json_is_null(list_items)) {
		list_items = json_array();
		json_object_set_new(page, "items", list_items);
	}
	if (!json_is_array(list_items))
		return sl_error_set(err, SL_EINVAL, "listing %s: items is not an array",
		                    res->resource);
	const char *api_version = json_string_value(json_object_get(page, "apiVersion"));
	const char *list_kind = json_string_value(json_object_get(page, "kind"));
	_cleanup_free_ char *kind = list_kind && sl_endswith(list_kind, "List")
	                                ? sl_strndup(list_kind, strlen(list_kind) - 4)
	                                : (*res->kind ? sl_strdup(res->kind) : NULL);
	size_t i;
	json_t *item;
	json_array_foreach (list_items, i, item) {
		if (!json_is_object(item))
			return sl_error_set(err, SL_EINVAL, "listing %s: item %zu is not an object",
			                    res->resource, i);
		if (api_version && !json_object_get(item, "apiVersion"))
			json_object_set_new(item, "apiVersion", json_string(api_version));
		if (kind && !json_object_get(item, "kind"))
			json_object_set_new(item, "kind", json_string(kind));
	}
	*ret_items = list_items;
	return 0;
}

/* One pass over the list, limit items a page (0: one page), each page
 * freed once fn had it. *ret_expired tells a continue token that expired
 * half-way from other failures. */
static int list_pages(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                      const struct sl_kube_list_opts *o, unsigned limit, sl_kube_list_page_fn fn,
                      void *userdata, bool *ret_expired, char **ret_rv, struct sl_error *err)
{
	_cleanup_free_ char *cont = NULL;
	_cleanup_free_ char *rv = NULL;
	*ret_expired = false;
	do {
		/* resourceVersion goes with the first page only: the continue
		 * token carries it afterwards (the server refuses both). */
		struct kube_params p = {
		    .label_selector = o->label_selector,
		    .field_selector = o->field_selector,
		    .limit = limit,
		    .continue_token = cont,
		    .resource_version = cont ? NULL : o->resource_version,
		};
		_cleanup_(json_decrefp) json_t *page = NULL;
		int r = run(k, KUBE_LIST, res, ns, NULL, &p, NULL, &page, err);
		if (r == SL_KUBE_EGONE && cont) {
			*ret_expired = true;
			return r;
		}
		if (r < 0)
			return r;
		if (!json_is_object(page))
			return sl_error_set(err, SL_EINVAL,
			                    "listing %s: the answer is not an object",
			                    res->resource);
		json_t *items = NULL;
		r = page_items(page, res, &items, err);
		if (r < 0)
			return r;
		r = fn(userdata, items, !cont, err);
		if (r < 0)
			return r;
		const char *next = json_string_value(
		    json_object_get(json_object_get(page, "metadata"), "continue"));
		const char *page_rv = json_string_value(
		    json_object_get(json_object_get(page, "metadata"), "resourceVersion"));
		free(rv);
		rv = sl_strdup(page_rv ? page_rv : "");
		free(cont);
		cont = next && *next ? sl_strdup(next) : NULL;
	} while (cont);
	*ret_rv = TAKE_PTR(rv);
	return 0;
}

int sl_kube_list_pages(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                       const struct sl_kube_list_opts *opts, sl_kube_list_page_fn fn,
                       void *userdata, char **ret_rv, struct sl_error *err)
{
	static const struct sl_kube_list_opts none = {0};
	const struct sl_kube_list_opts *o = opts ? opts : &none;
	unsigned limit = o->limit ? o->limit : SL_KUBE_DEFAULT_PAGE_SIZE;
	bool expired;
	_cleanup_free_ char *rv = NULL;
	int r = list_pages(k, res, ns, o, limit, fn, userdata, &expired, &rv, err);
	/* The continue token outlived etcd's compaction: list everything in
	 * one go, as client-go's pager falls back to. That one page holds
	 * the whole list, but only in this rare case. */
	if (r < 0 && expired) {
		sl_log_debug("listing %s: continue token expired, listing without pages",
		             res->resource);
		r = list_pages(k, res, ns, o, 0, fn, userdata, &expired, &rv, err);
	}
	if (r < 0)
		return r;
	if (ret_rv)
		*ret_rv = TAKE_PTR(rv);
	return 0;
}

static int collect_page(void *userdata, json_t *items, bool first, struct sl_error *err)
{
	(void)err;
	json_t *all = userdata;
	if (first)
		json_array_clear(all);
	json_array_extend(all, items);
	return 0;
}

int sl_kube_list(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                 const struct sl_kube_list_opts *opts, struct sl_kube_list *ret,
                 struct sl_error *err)
{
	_cleanup_(json_decrefp) json_t *items = json_array();
	char *rv = NULL;
	int r = sl_kube_list_pages(k, res, ns, opts, collect_page, items, &rv, err);
	if (r < 0)
		return r;
	*ret = (struct sl_kube_list){.items = TAKE_PTR(items), .resource_version = rv};
	return 0;
}

/* ---- writes ------------------------------------------------------------- */

static void write_params(struct sl_kube *k, const struct sl_kube_write_opts *o,
                         struct kube_params *p)
{
	*p = (struct kube_params){
	    .field_manager = o && o->field_manager ? o->field_manager : k->field_manager,
	    .force = o && o->force,
	    .dry_run = o && o->dry_run,
	    .subresource = o ? o->subresource : NULL,
	};
}

static int object_name(const json_t *obj, const char *verb, const struct sl_kube_resource *res,
                       const char **ret, struct sl_error *err)
{
	if (!json_is_object(obj))
		return sl_error_set(err, SL_EINVAL, "%s %s: not an object", verb, res->resource);
	const char *name = meta_str(obj, "name");
	if (!name || !*name)
		return sl_error_set(err, SL_EINVAL, "%s %s: the object has no metadata.name", verb,
		                    res->resource);
	*ret = name;
	return 0;
}

int sl_kube_create(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                   const json_t *obj, const struct sl_kube_write_opts *opts, json_t **ret_obj,
                   struct sl_error *err)
{
	if (!json_is_object(obj))
		return sl_error_set(err, SL_EINVAL, "creating %s: not an object", res->resource);
	struct kube_params p;
	write_params(k, opts, &p);
	/* A create names the collection; only the status writes name a
	 * subresource. */
	p.subresource = NULL;
	return run(k, KUBE_CREATE, res, target_ns(k, res, ns, obj), NULL, &p, obj, ret_obj, err);
}

int sl_kube_update(struct sl_kube *k, const struct sl_kube_resource *res, const json_t *obj,
                   const struct sl_kube_write_opts *opts, json_t **ret_obj, struct sl_error *err)
{
	const char *name;
	int r = object_name(obj, "updating", res, &name, err);
	if (r < 0)
		return r;
	struct kube_params p;
	write_params(k, opts, &p);
	return run(k, KUBE_UPDATE, res, target_ns(k, res, NULL, obj), name, &p, obj, ret_obj, err);
}

int sl_kube_patch(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                  const char *name, enum sl_kube_patch_type type, const json_t *patch,
                  const struct sl_kube_write_opts *opts, json_t **ret_obj, struct sl_error *err)
{
	if (!patch)
		return sl_error_set(err, SL_EINVAL, "patching %s \"%s\": no patch", res->resource,
		                    name ? name : "");
	enum kube_verb verb = type == SL_KUBE_PATCH_JSON        ? KUBE_PATCH_JSON
	                      : type == SL_KUBE_PATCH_STRATEGIC ? KUBE_PATCH_STRATEGIC
	                                                        : KUBE_PATCH_MERGE;
	struct kube_params p;
	write_params(k, opts, &p);
	return run(k, verb, res, target_ns(k, res, ns, NULL), name, &p, patch, ret_obj, err);
}

int sl_kube_apply(struct sl_kube *k, const struct sl_kube_resource *res, const json_t *obj,
                  const struct sl_kube_write_opts *opts, json_t **ret_obj, struct sl_error *err)
{
	const char *name;
	int r = object_name(obj, "applying", res, &name, err);
	if (r < 0)
		return r;
	if (!json_string_value(json_object_get(obj, "apiVersion")) ||
	    !json_string_value(json_object_get(obj, "kind")))
		return sl_error_set(err, SL_EINVAL,
		                    "applying %s \"%s\": apiVersion and kind are "
		                    "required",
		                    res->resource, name);
	struct kube_params p;
	write_params(k, opts, &p);
	return run(k, KUBE_APPLY, res, target_ns(k, res, NULL, obj), name, &p, obj, ret_obj, err);
}

int sl_kube_delete(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                   const char *name, const struct sl_kube_delete_opts *opts, struct sl_error *err)
{
	_cleanup_(json_decrefp) json_t *body =
	    json_pack("{s:s, s:s}", "apiVersion", "v1", "kind", "DeleteOptions");
	if (opts && opts->propagation_policy)
		json_object_set_new(body, "propagationPolicy",
		                    json_string(opts->propagation_policy));
	if (opts && opts->set_grace_period)
		json_object_set_new(body, "gracePeriodSeconds",
		                    json_integer(opts->grace_period_seconds));
	if (opts && (opts->precondition_uid || opts->precondition_resource_version)) {
		json_t *pre = json_object();
		if (opts->precondition_uid)
			json_object_set_new(pre, "uid", json_string(opts->precondition_uid));
		if (opts->precondition_resource_version)
			json_object_set_new(pre, "resourceVersion",
			                    json_string(opts->precondition_resource_version));
		json_object_set_new(body, "preconditions", pre);
	}
	/* The API server reads DeleteOptions from the body when there is one
	 * and then ignores ?dryRun: a dry run must say so in the body too. */
	if (opts && opts->dry_run)
		json_object_set_new(body, "dryRun", json_pack("[s]", "All"));
	struct kube_params p = {.dry_run = opts && opts->dry_run};
	return run(k, KUBE_DELETE, res, target_ns(k, res, ns, NULL), name, &p, body, NULL, err);
}
