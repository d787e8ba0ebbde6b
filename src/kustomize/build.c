/* The build: kustomize's KustTarget.AccumulateTarget, recursively over
 * bases and components, then what kustomize does once at the top (hash
 * suffixes, name references, order) and Flux's post-build steps.
 *
 * Per kustomization, in kustomize's order: resources (files and bases),
 * crds, components (applied onto the same accumulation), generators, then
 * the builtin transformers: patchesStrategicMerge, patches, namespace,
 * namePrefix/nameSuffix, labels + commonLabels, commonAnnotations,
 * patchesJson6902, replicas, images. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "kustomize/kbuild.h"

/* Kustomizations nested in one another (bases, components): far beyond any
 * real layout, well within the stack. */
#define KS_MAX_DEPTH 64

struct build {
	const struct sl_kustomize_options *opts;
	struct sl_strv stack; /* real paths of the kustomizations being built */
	struct ks_nameref_extra *extra;
	struct sl_node *sort_options; /* the root kustomization's */
};

/* ---- resources and resource maps ------------------------------------- */

struct ks_resource *ks_resource_new(struct sl_node *obj)
{
	struct ks_resource *r = sl_xcalloc(1, sizeof(*r));
	r->obj = obj;
	return r;
}

struct ks_resource *ks_resource_free(struct ks_resource *r)
{
	if (!r)
		return NULL;
	sl_node_free(r->obj);
	sl_strv_free(&r->prev_names);
	sl_strv_free(&r->prev_namespaces);
	free(r);
	return NULL;
}

void ks_resmap_push(struct ks_resmap *m, struct ks_resource *r)
{
	if (m->len == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->items = sl_xrealloc(m->items, m->cap * sizeof(*m->items));
	}
	m->items[m->len++] = r;
}

static void resmap_remove(struct ks_resmap *m, size_t i)
{
	ks_resource_free(m->items[i]);
	memmove(&m->items[i], &m->items[i + 1], (m->len - i - 1) * sizeof(*m->items));
	m->len--;
}

void ks_resmap_clear(struct ks_resmap *m)
{
	for (size_t i = 0; i < m->len; i++)
		ks_resource_free(m->items[i]);
	free(m->items);
	*m = (struct ks_resmap){0};
}

static void resmap_clearp(struct ks_resmap *m)
{
	ks_resmap_clear(m);
}

static bool resource_cluster_scoped(const struct ks_resource *r)
{
	const char *group, *version, *kind;
	size_t group_len;
	ks_resource_gvk(r, &group, &group_len, &version, &kind);
	return ks_kind_is_cluster_scoped(group, group_len, version, kind);
}

/* kustomize's ResId.EffectiveNamespace: "" means "default". */
static const char *effective_ns(const char *ns)
{
	return ns && *ns ? ns : "default";
}

bool ks_resource_had_name(const struct ks_resource *r, const char *name, const char *ns,
                          bool check_ns)
{
	for (size_t i = 0; i <= r->prev_names.len; i++) {
		const char *n =
		    i < r->prev_names.len ? r->prev_names.items[i] : ks_resource_name(r);
		if (strcmp(n, name) != 0)
			continue;
		if (!check_ns || resource_cluster_scoped(r))
			return true;
		const char *s =
		    i < r->prev_names.len ? r->prev_namespaces.items[i] : ks_resource_namespace(r);
		if (strcmp(effective_ns(s), effective_ns(ns)) == 0)
			return true;
	}
	return false;
}

/* kustomize's ResId text: Kind.version.group/name.namespace. */
static char *resource_id(const struct ks_resource *r)
{
	const char *group, *version, *kind;
	size_t group_len;
	ks_resource_gvk(r, &group, &group_len, &version, &kind);
	const char *ns = ks_resource_namespace(r);
	return sl_asprintf("%s.%s.%.*s/%s.%s", kind, *version ? version : "[noVer]",
	                   group_len ? (int)group_len : 7, group_len ? group : "[noGrp]",
	                   ks_resource_name(r), *ns && !resource_cluster_scoped(r) ? ns : "[noNs]");
}

static bool same_gvk(const struct ks_resource *a, const struct ks_resource *b)
{
	const char *ga, *va, *ka, *gb, *vb, *kb;
	size_t la, lb;
	ks_resource_gvk(a, &ga, &la, &va, &ka);
	ks_resource_gvk(b, &gb, &lb, &vb, &kb);
	return la == lb && memcmp(ga, gb, la) == 0 && strcmp(va, vb) == 0 && strcmp(ka, kb) == 0;
}

struct id_key {
	char *key;
	size_t index;
};

static int compare_id_keys(const void *pa, const void *pb)
{
	const struct id_key *a = pa, *b = pb;
	int c = strcmp(a->key, b->key);
	return c ? c : (a->index > b->index) - (a->index < b->index);
}

int ks_resmap_check_unique(const struct ks_resmap *m, const char *what, struct sl_error *err)
{
	if (m->len < 2)
		return 0;
	struct id_key *keys = sl_xcalloc(m->len, sizeof(*keys));
	for (size_t i = 0; i < m->len; i++) {
		const struct ks_resource *r = m->items[i];
		const char *group, *version, *kind;
		size_t group_len;
		ks_resource_gvk(r, &group, &group_len, &version, &kind);
		keys[i].index = i;
		keys[i].key = sl_asprintf(
		    "%s\x1f%.*s\x1f%s\x1f%s\x1f%s", kind, (int)group_len, group, version,
		    ks_resource_name(r),
		    resource_cluster_scoped(r) ? "" : effective_ns(ks_resource_namespace(r)));
	}
	qsort(keys, m->len, sizeof(*keys), compare_id_keys);
	int r = 0;
	for (size_t i = 1; i < m->len && r == 0; i++) {
		if (strcmp(keys[i - 1].key, keys[i].key) != 0)
			continue;
		_cleanup_free_ char *id = resource_id(m->items[keys[i].index]);
		r = sl_error_set(err, SL_EINVAL, "%s: %s", what, id);
	}
	for (size_t i = 0; i < m->len; i++)
		free(keys[i].key);
	free(keys);
	return r;
}

#define ALREADY_REGISTERED "may not add resource with an already registered id"

/* Appends r (taken); the caller checks the ids with ks_resmap_check_unique
 * once the batch is in: checking each append is quadratic. */
static void resmap_append(struct ks_resmap *m, struct ks_resource *r)
{
	ks_resmap_push(m, r);
}

/* ---- loading resource files ------------------------------------------ */

static int add_object(struct ks_resmap *ra, struct sl_node *obj, const char *path,
                      struct sl_error *err)
{
	_cleanup_node_ struct sl_node *owned = obj;
	if (obj->type != SL_NODE_MAP)
		return sl_error_set(err, SL_EINVAL, "%s:%u: a resource must be a map, not a %s",
		                    path, obj->line, sl_node_type_name(obj->type));
	const char *kind = sl_node_dig_str(obj, "kind", NULL);
	if (!kind || !*kind)
		return sl_error_set(err, SL_EINVAL, "%s:%u: missing kind in object", path,
		                    obj->line);
	/* kustomize expands a v1 List (any kind ending in List with items)
	 * into its items. */
	struct sl_node *items = sl_node_map_get(obj, "items");
	if (sl_endswith(kind, "List") && items && (items->type == SL_NODE_SEQ)) {
		while (items->seq.len) {
			int r = add_object(ra, sl_node_seq_take(items, 0), path, err);
			if (r < 0)
				return r;
		}
		return 0;
	}
	struct sl_node *meta = sl_node_map_get(obj, "metadata");
	if (meta && meta->type != SL_NODE_MAP)
		return sl_error_set(err, SL_EINVAL, "%s:%u: metadata must be a map", path,
		                    obj->line);
	const char *name = sl_node_dig_str(obj, "metadata", "name", NULL);
	if (!name || !*name)
		return sl_error_set(err, SL_EINVAL,
		                    "%s:%u: missing metadata.name in object of kind %s", path,
		                    obj->line, kind);
	resmap_append(ra, ks_resource_new(TAKE_PTR(owned)));
	return 0;
}

static int load_resource_file(struct ks_resmap *ra, const char *path, struct sl_error *err)
{
	_cleanup_node_ struct sl_node *docs = NULL;
	int r = ks_path_confined(path, err);
	if (r < 0)
		return r;
	r = sl_yaml_parse_file(path, NULL, &docs, err);
	if (r < 0)
		return r;
	while (docs->seq.len) {
		r = add_object(ra, sl_node_seq_take(docs, 0), path, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- patches --------------------------------------------------------- */

/* kustomize reads JSON 6902 patches with sigs.k8s.io/yaml, a YAML 1.1
 * reader: a plain `yes` or `on` in a value is a bool there. */
static void retype_yaml11(struct sl_node *n)
{
	if (n->type == SL_NODE_STR && n->plain) {
		struct sl_node *typed = ks_yaml11_resolve(n->str.ptr, n->str.len);
		if (typed)
			sl_node_replace(n, typed);
	} else if (n->type == SL_NODE_SEQ) {
		for (size_t i = 0; i < n->seq.len; i++)
			retype_yaml11(n->seq.items[i]);
	} else if (n->type == SL_NODE_MAP) {
		for (size_t i = 0; i < n->map.len; i++)
			retype_yaml11(n->map.items[i].value);
	}
}

/* The documents of a patch given inline (text) or as a file (path). */
static int patch_docs_raw(const char *dir, const char *path, const char *text,
                          struct sl_node **ret_docs, struct sl_error *err)
{
	if (path && text)
		return sl_error_set(err, SL_EINVAL, "a patch has both path and patch");
	if (path) {
		_cleanup_free_ char *full = ks_path_join(dir, path);
		struct stat st;
		if (stat(full, &st) < 0)
			return sl_error_errno(err, errno, SL_EINVAL,
			                      "failed to get the patch file from path(%s): %s",
			                      path, full);
		int r = ks_path_confined(full, err);
		return r < 0 ? r : sl_yaml_parse_file(full, NULL, ret_docs, err);
	}
	if (!text)
		return sl_error_set(err, SL_EINVAL, "a patch needs path or patch");
	return sl_yaml_parse(text, strlen(text), "inline patch", ret_docs, err);
}

static void note_rename(struct ks_resource *res, const char *old_name, const char *old_ns)
{
	if (strcmp(old_name, ks_resource_name(res)) != 0 ||
	    strcmp(old_ns, ks_resource_namespace(res)) != 0) {
		sl_strv_push(&res->prev_names, old_name);
		sl_strv_push(&res->prev_namespaces, old_ns);
	}
}

static int patch_docs(const char *dir, const char *path, const char *text,
                      struct sl_node **ret_docs, struct sl_error *err)
{
	int r = patch_docs_raw(dir, path, text, ret_docs, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < (*ret_docs)->seq.len; i++)
		if ((*ret_docs)->seq.items[i]->type == SL_NODE_SEQ)
			retype_yaml11((*ret_docs)->seq.items[i]);
	return 0;
}

/* Applies one patch document to resource i; removes it when the patch
 * deletes it. Returns 1 when removed. */
static int apply_one(struct ks_resmap *ra, size_t i, const struct sl_node *patch, bool allow_name,
                     bool allow_kind, bool legacy, struct sl_error *err)
{
	struct ks_resource *res = ra->items[i];
	_cleanup_free_ char *old_name = sl_strdup(ks_resource_name(res));
	_cleanup_free_ char *old_ns = sl_strdup(ks_resource_namespace(res));
	int r;
	if (patch->type == SL_NODE_SEQ) {
		/* kustomize's PatchTransformer records the id before a JSON 6902
		 * patch, which also leaves the object an annotations map: an
		 * `add /metadata/annotations/x` works on an object that had none.
		 * (The legacy patchesJson6902 does neither.) */
		if (!legacy) {
			sl_strv_push(&res->prev_names, old_name);
			sl_strv_push(&res->prev_namespaces, old_ns);
			struct sl_node *meta = sl_node_map_ensure_map(res->obj, "metadata");
			if (meta)
				sl_node_map_ensure_map(meta, "annotations");
		}
		r = ks_json6902_apply(&res->obj, patch, err);
		if (r == 0 && !legacy)
			return 0;
	} else {
		bool deleted = false;
		r = ks_smp_apply(res->obj, patch, allow_name, allow_kind, &deleted, err);
		if (r == 0 && deleted) {
			resmap_remove(ra, i);
			return 1;
		}
	}
	if (r < 0) {
		_cleanup_free_ char *id = resource_id(res);
		return sl_error_wrap(err, r, "patching %s", id);
	}
	note_rename(res, old_name, old_ns);
	return 0;
}

/* A strategic merge patch without a target: the one resource that ever had
 * the patch's gvk, name and namespace. */
static int apply_untargeted(struct ks_resmap *ra, const struct sl_node *patch, bool allow_name,
                            bool allow_kind, struct sl_error *err)
{
	if (patch->type != SL_NODE_MAP)
		return sl_error_set(err, SL_EINVAL,
		                    "a JSON 6902 patch needs a target (patches[].target)");
	struct ks_resource probe = {.obj = (struct sl_node *)patch};
	const char *name = ks_resource_name(&probe);
	const char *ns = ks_resource_namespace(&probe);
	ssize_t found = -1;
	size_t matches = 0;
	for (size_t i = 0; i < ra->len; i++) {
		if (!ks_resource_had_name(ra->items[i], name, ns, true) ||
		    !same_gvk(ra->items[i], &probe))
			continue;
		if (matches++ == 0)
			found = (ssize_t)i;
	}
	if (matches != 1) {
		_cleanup_free_ char *id = resource_id(&probe);
		return sl_error_set(
		    err, SL_EINVAL,
		    "no resource matches strategic merge patch \"%s\"%s: no matches "
		    "for Id %s; failed to find unique target for patch %s",
		    id, matches > 1 ? " (several do)" : "", id, id);
	}
	int r = apply_one(ra, (size_t)found, patch, allow_name, allow_kind, false, err);
	return r < 0 ? r : 0;
}

static int apply_targeted(struct ks_resmap *ra, const struct sl_node *target_map,
                          const struct sl_node *patch, bool allow_name, bool allow_kind,
                          bool legacy, struct sl_error *err)
{
	struct ks_target *t = NULL;
	int r = ks_target_parse(target_map, &t, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ra->len;) {
		struct ks_resource *res = ra->items[i];
		const char *orig_name =
		    res->prev_names.len ? res->prev_names.items[0] : ks_resource_name(res);
		const char *orig_ns = res->prev_names.len ? res->prev_namespaces.items[0]
		                                          : ks_resource_namespace(res);
		if (!ks_target_match(t, res->obj, orig_name, orig_ns)) {
			i++;
			continue;
		}
		r = apply_one(ra, i, patch, allow_name, allow_kind, legacy, err);
		if (r < 0)
			break;
		if (r == 0)
			i++;
		r = 0;
	}
	ks_target_free(t);
	return r;
}

static int run_patches(struct ks_resmap *ra, const struct ks_kfile *kf, struct sl_error *err)
{
	/* patchesStrategicMerge: each entry a file, or inline YAML. */
	const struct sl_node *psm = sl_node_map_get(kf->k, "patchesStrategicMerge");
	for (size_t i = 0; psm && psm->type == SL_NODE_SEQ && i < psm->seq.len; i++) {
		const char *entry = sl_node_str(psm->seq.items[i]);
		_cleanup_free_ char *full = ks_path_join(kf->dir, entry);
		struct stat st;
		bool is_file = !strchr(entry, '\n') && stat(full, &st) == 0;
		_cleanup_node_ struct sl_node *docs = NULL;
		int r =
		    patch_docs(kf->dir, is_file ? entry : NULL, is_file ? NULL : entry, &docs, err);
		for (size_t d = 0; r == 0 && d < docs->seq.len; d++)
			r = apply_untargeted(ra, docs->seq.items[d], false, false, err);
		if (r < 0)
			return sl_error_wrap(err, r, "%s: patchesStrategicMerge[%zu]", kf->path, i);
	}
	const struct sl_node *patches = sl_node_map_get(kf->k, "patches");
	for (size_t i = 0; patches && patches->type == SL_NODE_SEQ && i < patches->seq.len; i++) {
		const struct sl_node *p = patches->seq.items[i];
		const struct sl_node *target = sl_node_map_get(p, "target");
		bool allow_name = false, allow_kind = false;
		const struct sl_node *o = sl_node_dig(p, "options", "allowNameChange", NULL);
		allow_name = o && o->type == SL_NODE_BOOL && o->b;
		o = sl_node_dig(p, "options", "allowKindChange", NULL);
		allow_kind = o && o->type == SL_NODE_BOOL && o->b;
		_cleanup_node_ struct sl_node *docs = NULL;
		int r = patch_docs(kf->dir, sl_node_dig_str(p, "path", NULL),
		                   sl_node_dig_str(p, "patch", NULL), &docs, err);
		for (size_t d = 0; r == 0 && d < docs->seq.len; d++) {
			const struct sl_node *doc = docs->seq.items[d];
			if (target && target->type == SL_NODE_MAP)
				r = apply_targeted(ra, target, doc, allow_name, allow_kind, false,
				                   err);
			else
				r = apply_untargeted(ra, doc, allow_name, allow_kind, err);
		}
		if (r < 0)
			return sl_error_wrap(err, r, "%s: patches[%zu]", kf->path, i);
	}
	return 0;
}

static int run_json6902(struct ks_resmap *ra, const struct ks_kfile *kf, struct sl_error *err)
{
	const struct sl_node *list = sl_node_map_get(kf->k, "patchesJson6902");
	for (size_t i = 0; list && list->type == SL_NODE_SEQ && i < list->seq.len; i++) {
		const struct sl_node *p = list->seq.items[i];
		const struct sl_node *target = sl_node_map_get(p, "target");
		_cleanup_node_ struct sl_node *docs = NULL;
		int r = 0;
		if (!target || target->type != SL_NODE_MAP)
			r = sl_error_set(err, SL_EINVAL, "a target is required");
		if (r == 0)
			r = patch_docs(kf->dir, sl_node_dig_str(p, "path", NULL),
			               sl_node_dig_str(p, "patch", NULL), &docs, err);
		for (size_t d = 0; r == 0 && d < docs->seq.len; d++) {
			if (docs->seq.items[d]->type != SL_NODE_SEQ)
				r = sl_error_set(err, SL_EINVAL,
				                 "not a list of JSON 6902 operations");
			else
				r = apply_targeted(ra, target, docs->seq.items[d], false, false,
				                   true, err);
		}
		if (r < 0)
			return sl_error_wrap(err, r, "%s: patchesJson6902[%zu]", kf->path, i);
	}
	return 0;
}

/* ---- generators ------------------------------------------------------ */

static int run_generator(struct ks_resmap *ra, const struct ks_kfile *kf, bool secret,
                         const struct sl_node *args, struct sl_error *err)
{
	_cleanup_node_ struct sl_node *obj = NULL;
	bool add_hash = false;
	int r = ks_generate(secret, args, sl_node_map_get(kf->k, "generatorOptions"), kf->dir, &obj,
	                    &add_hash, err);
	if (r < 0)
		return r;
	const char *behavior = sl_node_dig_str(args, "behavior", NULL);
	bool merge = behavior && strcmp(behavior, "merge") == 0;
	bool replace = behavior && strcmp(behavior, "replace") == 0;
	struct ks_resource probe = {.obj = obj};
	ssize_t found = -1;
	for (size_t i = 0; i < ra->len; i++) {
		if (!ks_resource_had_name(ra->items[i], ks_resource_name(&probe),
		                          ks_resource_namespace(&probe), true) ||
		    !same_gvk(ra->items[i], &probe))
			continue;
		if (found >= 0) {
			_cleanup_free_ char *id = resource_id(&probe);
			return sl_error_set(err, SL_EINVAL,
			                    "merging from generator: %s matches several resources",
			                    id);
		}
		found = (ssize_t)i;
	}
	/* Any behavior but merge and replace is kustomize's "create". */
	if (!merge && !replace) {
		if (found >= 0) {
			_cleanup_free_ char *id = resource_id(&probe);
			return sl_error_set(err, SL_EINVAL,
			                    "generator: id %s exists; behavior must be merge or "
			                    "replace",
			                    id);
		}
		struct ks_resource *res = ks_resource_new(TAKE_PTR(obj));
		res->generated = true;
		res->hash_suffix = add_hash;
		resmap_append(ra, res);
		return 0;
	}
	if (found < 0) {
		_cleanup_free_ char *id = resource_id(&probe);
		return sl_error_set(err, SL_EINVAL,
		                    "merging from generator: id %s does not exist; cannot merge or "
		                    "replace",
		                    id);
	}
	struct ks_resource *old = ra->items[found];
	/* replace keeps the old metadata (labels, annotations merged, name,
	 * namespace) and takes only the new data. */
	if (replace) {
		sl_node_map_del(old->obj, "data");
		sl_node_map_del(old->obj, "binaryData");
	}
	r = ks_generator_merge(old->obj, obj, err);
	if (r < 0)
		return r;
	/* The name gets a hash only when neither side disabled it. */
	old->generated = true;
	old->hash_suffix = old->hash_suffix && add_hash;
	return 0;
}

static int run_generators(struct ks_resmap *ra, const struct ks_kfile *kf, struct sl_error *err)
{
	static const char *const fields[] = {"configMapGenerator", "secretGenerator"};
	for (size_t f = 0; f < SL_ARRAY_SIZE(fields); f++) {
		const struct sl_node *list = sl_node_map_get(kf->k, fields[f]);
		for (size_t i = 0; list && list->type == SL_NODE_SEQ && i < list->seq.len; i++) {
			int r = run_generator(ra, kf, f == 1, list->seq.items[i], err);
			if (r < 0)
				return sl_error_wrap(err, r, "%s: %s[%zu]", kf->path, fields[f], i);
		}
	}
	_cleanup_free_ char *what = sl_asprintf("%s: generators: " ALREADY_REGISTERED, kf->path);
	return ks_resmap_check_unique(ra, what, err);
}

/* ---- transformers ---------------------------------------------------- */

static int run_transformers(struct ks_resmap *ra, const struct ks_kfile *kf, struct sl_error *err)
{
	const struct sl_node *k = kf->k;
	int r = run_patches(ra, kf, err);
	if (r < 0)
		return r;
	const char *ns = sl_node_dig_str(k, "namespace", NULL);
	if (ns && *ns && (r = ks_apply_namespace(ra, ns, err)) < 0)
		return sl_error_wrap(err, r, "%s: namespace", kf->path);
	const char *prefix = sl_node_dig_str(k, "namePrefix", NULL);
	const char *suffix = sl_node_dig_str(k, "nameSuffix", NULL);
	if (((prefix && *prefix) || (suffix && *suffix)) &&
	    (r = ks_apply_name_affixes(ra, prefix, suffix, err)) < 0)
		return sl_error_wrap(err, r, "%s: namePrefix/nameSuffix", kf->path);
	const struct sl_node *labels = sl_node_map_get(k, "labels");
	for (size_t i = 0; labels && labels->type == SL_NODE_SEQ && i < labels->seq.len; i++) {
		const struct sl_node *l = labels->seq.items[i];
		const struct sl_node *sel = sl_node_map_get(l, "includeSelectors");
		const struct sl_node *tpl = sl_node_map_get(l, "includeTemplates");
		const struct sl_node *pairs = sl_node_map_get(l, "pairs");
		if (!pairs || pairs->type != SL_NODE_MAP)
			continue;
		r = ks_apply_labels(ra, pairs, sel && sel->type == SL_NODE_BOOL && sel->b,
		                    tpl && tpl->type == SL_NODE_BOOL && tpl->b,
		                    sl_node_map_get(l, "fields"), err);
		if (r < 0)
			return sl_error_wrap(err, r, "%s: labels[%zu]", kf->path, i);
	}
	const struct sl_node *common = sl_node_map_get(k, "commonLabels");
	if (common && common->type == SL_NODE_MAP && common->map.len &&
	    (r = ks_apply_labels(ra, common, true, true, NULL, err)) < 0)
		return sl_error_wrap(err, r, "%s: commonLabels", kf->path);
	const struct sl_node *annotations = sl_node_map_get(k, "commonAnnotations");
	if (annotations && annotations->type == SL_NODE_MAP && annotations->map.len &&
	    (r = ks_apply_annotations(ra, annotations, err)) < 0)
		return sl_error_wrap(err, r, "%s: commonAnnotations", kf->path);
	if ((r = run_json6902(ra, kf, err)) < 0)
		return r;
	const struct sl_node *replicas = sl_node_map_get(k, "replicas");
	if (replicas && replicas->type == SL_NODE_SEQ &&
	    (r = ks_apply_replicas(ra, replicas, err)) < 0)
		return sl_error_wrap(err, r, "%s: replicas", kf->path);
	const struct sl_node *images = sl_node_map_get(k, "images");
	if (images && images->type == SL_NODE_SEQ && (r = ks_apply_images(ra, images, err)) < 0)
		return sl_error_wrap(err, r, "%s: images", kf->path);
	return 0;
}

/* ---- accumulation ---------------------------------------------------- */

static int accumulate(struct build *b, const char *dir, bool want_component, bool is_root,
                      struct ks_resmap *ra, struct sl_error *err);

static int accumulate_resources(struct build *b, const struct ks_kfile *kf, const char *field,
                                struct ks_resmap *ra, struct sl_error *err)
{
	const struct sl_node *list = sl_node_map_get(kf->k, field);
	for (size_t i = 0; list && list->type == SL_NODE_SEQ && i < list->seq.len; i++) {
		const char *entry = sl_node_str(list->seq.items[i]);
		_cleanup_free_ char *path = ks_path_join(kf->dir, entry);
		struct stat st;
		int r;
		if (stat(path, &st) < 0) {
			if (errno == ENOENT && ks_looks_remote(entry))
				r = sl_error_set(err, SL_EUNSUPPORTED,
				                 "remote bases are not supported: %s", entry);
			else
				r = sl_error_errno(err, errno, SL_EINVAL, "%s", path);
		} else if (S_ISDIR(st.st_mode)) {
			_cleanup_(resmap_clearp) struct ks_resmap sub = {0};
			r = accumulate(b, path, false, false, &sub, err);
			for (size_t j = 0; r == 0 && j < sub.len; j++) {
				resmap_append(ra, sub.items[j]);
				sub.items[j] = NULL;
			}
		} else {
			r = load_resource_file(ra, path, err);
		}
		if (r < 0)
			return sl_error_wrap(err, r, "%s: accumulating resources from '%s'",
			                     kf->path, entry);
	}
	_cleanup_free_ char *what =
	    sl_asprintf("%s: accumulating resources: " ALREADY_REGISTERED, kf->path);
	return ks_resmap_check_unique(ra, what, err);
}

static int accumulate_components(struct build *b, const struct ks_kfile *kf, struct ks_resmap *ra,
                                 struct sl_error *err)
{
	const struct sl_node *list = sl_node_map_get(kf->k, "components");
	for (size_t i = 0; list && list->type == SL_NODE_SEQ && i < list->seq.len; i++) {
		const char *entry = sl_node_str(list->seq.items[i]);
		_cleanup_free_ char *path = ks_path_join(kf->dir, entry);
		struct stat st;
		int r;
		if (stat(path, &st) < 0)
			r = ks_looks_remote(entry) && errno == ENOENT
			        ? sl_error_set(err, SL_EUNSUPPORTED,
			                       "remote components are not supported: %s", entry)
			        : sl_error_errno(err, errno, SL_EINVAL, "%s", path);
		else if (!S_ISDIR(st.st_mode))
			r = sl_error_set(err, SL_EINVAL, "%s: a component must be a directory",
			                 path);
		else
			r = accumulate(b, path, true, false, ra, err);
		if (r < 0)
			return sl_error_wrap(err, r, "%s: accumulating components from '%s'",
			                     kf->path, entry);
	}
	return 0;
}

static int load_crds(struct build *b, const struct ks_kfile *kf, struct sl_error *err)
{
	const struct sl_node *list = sl_node_map_get(kf->k, "crds");
	for (size_t i = 0; list && list->type == SL_NODE_SEQ && i < list->seq.len; i++) {
		_cleanup_free_ char *path = ks_path_join(kf->dir, sl_node_str(list->seq.items[i]));
		_cleanup_node_ struct sl_node *docs = NULL;
		int r = ks_path_confined(path, err);
		if (r == 0)
			r = sl_yaml_parse_file(path, NULL, &docs, err);
		for (size_t d = 0; r == 0 && d < docs->seq.len; d++)
			r = ks_nameref_extra_add_crd(&b->extra, docs->seq.items[d], err);
		if (r < 0)
			return sl_error_wrap(err, r, "%s: crds", kf->path);
	}
	return 0;
}

static int open_kustomization(struct build *b, const char *dir, bool is_root, struct ks_kfile **ret,
                              struct sl_error *err)
{
	struct stat st;
	if (stat(dir, &st) < 0)
		return sl_error_errno(err, errno, SL_EINVAL, "%s", dir);
	if (!S_ISDIR(st.st_mode))
		return sl_error_set(err, SL_EINVAL, "%s: not a directory", dir);
	int r = ks_path_confined(dir, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = NULL;
	r = ks_find_kustomization(dir, &path, err);
	if (r < 0)
		return r;
	_cleanup_node_ struct sl_node *k = NULL;
	if (path) {
		r = ks_path_confined(path, err);
		if (r == 0)
			r = ks_kfile_read(path, &k, err);
		if (r < 0)
			return r;
	} else if (!(is_root && b->opts && b->opts->flux)) {
		return sl_error_set(err, SL_EINVAL,
		                    "unable to find one of 'kustomization.yaml', "
		                    "'kustomization.yml' or 'Kustomization' in directory '%s'",
		                    dir);
	}
	if (is_root && b->opts && b->opts->flux) {
		r = ks_flux_overlay(dir, b->opts->flux, &k, err);
		if (r < 0)
			return r;
		if (!path)
			path = ks_path_join(dir, "kustomization.yaml");
	}
	return ks_kfile_make(dir, path, TAKE_PTR(k), ret, err);
}

static int accumulate(struct build *b, const char *dir, bool want_component, bool is_root,
                      struct ks_resmap *ra, struct sl_error *err)
{
	_cleanup_(ks_kfile_freep) struct ks_kfile *kf = NULL;
	int r = open_kustomization(b, dir, is_root, &kf, err);
	if (r < 0)
		return r;
	if (want_component && !kf->component)
		return sl_error_set(err, SL_EINVAL,
		                    "expected kind 'Component' for path '%s' but got "
		                    "'Kustomization'",
		                    dir);
	if (!want_component && kf->component)
		return sl_error_set(err, SL_EINVAL,
		                    "expected kind != 'Component' for path '%s': a Component "
		                    "belongs in components, not resources",
		                    dir);
	char real[PATH_MAX];
	if (!realpath(dir, real))
		return sl_error_errno(err, errno, SL_EIO, "%s", dir);
	for (size_t i = 0; i < b->stack.len; i++)
		if (strcmp(b->stack.items[i], real) == 0)
			return sl_error_set(
			    err, SL_EINVAL,
			    "cycle detected: '%s' includes itself through its bases", dir);
	if (b->stack.len >= KS_MAX_DEPTH)
		return sl_error_set(err, SL_ELIMIT,
		                    "%s: bases and components nested more than %d deep", dir,
		                    KS_MAX_DEPTH);
	if (is_root)
		b->sort_options = sl_node_copy(sl_node_map_get(kf->k, "sortOptions"));
	sl_strv_push(&b->stack, real);
	if ((r = accumulate_resources(b, kf, "bases", ra, err)) == 0 &&
	    (r = accumulate_resources(b, kf, "resources", ra, err)) == 0 &&
	    (r = load_crds(b, kf, err)) == 0 && (r = accumulate_components(b, kf, ra, err)) == 0 &&
	    (r = run_generators(ra, kf, err)) == 0)
		r = run_transformers(ra, kf, err);
	b->stack.len--;
	free(b->stack.items[b->stack.len]);
	return r;
}

/* kustomize appends the content hashes once, at the very end. */
static int add_hashes(struct ks_resmap *ra, struct sl_error *err)
{
	for (size_t i = 0; i < ra->len; i++) {
		struct ks_resource *res = ra->items[i];
		if (!res->hash_suffix)
			continue;
		char hash[11];
		int r = ks_generator_hash(res->obj, hash, err);
		if (r < 0)
			return r;
		_cleanup_free_ char *name = sl_asprintf("%s-%s", ks_resource_name(res), hash);
		ks_resource_rename(res, name, NULL);
	}
	return 0;
}

int sl_kustomize_build(const char *dir, const struct sl_kustomize_options *opts,
                       struct sl_node **ret_objects, struct sl_error *err)
{
	struct build b = {.opts = opts};
	_cleanup_(resmap_clearp) struct ks_resmap ra = {0};
	char root[PATH_MAX];
	if (opts && opts->root) {
		if (!realpath(opts->root, root))
			return sl_error_errno(err, errno, SL_EIO, "%s", opts->root);
		ks_confine(root);
	}
	int r = accumulate(&b, dir, false, true, &ra, err);
	ks_confine(NULL);
	if (r == 0)
		r = add_hashes(&ra, err);
	if (r == 0)
		r = ks_fix_name_references(&ra, b.extra, err);
	if (r == 0)
		r = ks_sort(&ra, b.sort_options, err);
	if (r == 0 && opts && opts->flux)
		r = ks_flux_post_build(&ra, opts->flux, opts->substitute_from,
		                       opts->strict_substitute, err);
	sl_strv_free(&b.stack);
	ks_nameref_extra_free(b.extra);
	sl_node_free(b.sort_options);
	if (r < 0)
		return r;
	struct sl_node *out = sl_node_new_seq();
	for (size_t i = 0; i < ra.len; i++) {
		sl_node_seq_push(out, ra.items[i]->obj);
		ra.items[i]->obj = NULL;
	}
	*ret_objects = out;
	return 0;
}

int sl_kustomize_print(struct sl_buf *out, const struct sl_node *objects, struct sl_error *err)
{
	for (size_t i = 0; i < objects->seq.len; i++) {
		if (i > 0 && sl_buf_append(out, "---\n", 4) < 0)
			return sl_error_set(err, SL_ELIMIT, "output too large");
		int r = sl_yaml_emit(out, objects->seq.items[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}
