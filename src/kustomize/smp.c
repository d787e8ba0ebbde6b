/* Strategic merge patches as kustomize v5.5.0 applies them: kyaml's merge2
 * walker (sigs.k8s.io/kustomize/kyaml/yaml/walk) with the patch as origin,
 * the object as destination and "prepend" list order, followed by the
 * patch transformer's restoring of kind, name and namespace.
 *
 * The walker is ported step by step, quirks included, because its output
 * depends on them: which element of a list a patch element lands on, what
 * an element lacking part of a multi-field key does, that null and {}
 * elements vanish from a list it rewrites, that `key:` (no value) fields
 * of the object disappear while `key: null` ones stay.
 *
 * kyaml shares nodes freely between the two trees while it merges (a patch
 * value is put into the object, a list is rebuilt from nodes of both).
 * Here, every node of both trees, and every node made during the merge,
 * is registered in a pool; the merge moves raw pointers around without
 * freeing anything; at the end the result is made a tree again (a node
 * reached twice is copied the second time) and the pool nodes it does not
 * use are freed. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kustomize/smp_internal.h"

enum directive { PATCH_MERGE, PATCH_REPLACE, PATCH_DELETE, PATCH_UNKNOWN };

static int walk(struct merge *m, struct sl_node *dest, struct sl_node *origin,
                const struct ks_schema *schema, struct sl_node **ret);

/* ---- the pool ------------------------------------------------------------ */

static struct sl_node *track(struct merge *m, struct sl_node *n)
{
	if (m->npool == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->pool = sl_xrealloc(m->pool, m->cap * sizeof(*m->pool));
	}
	m->pool[m->npool++] = n;
	return n;
}

static void track_tree(struct merge *m, struct sl_node *n)
{
	track(m, n);
	if (n->type == SL_NODE_SEQ)
		for (size_t i = 0; i < n->seq.len; i++)
			track_tree(m, n->seq.items[i]);
	else if (n->type == SL_NODE_MAP)
		for (size_t i = 0; i < n->map.len; i++)
			track_tree(m, n->map.items[i].value);
}

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (struct sl_node *const *)a;
	uintptr_t y = (uintptr_t) * (struct sl_node *const *)b;
	return x < y ? -1 : x > y;
}

static ssize_t pool_index(const struct merge *m, const struct sl_node *n)
{
	struct sl_node *const *hit = bsearch(&n, m->pool, m->npool, sizeof(*m->pool), ptr_cmp);
	return hit ? hit - m->pool : -1;
}

/* Makes the tree under *slot own each node once: a node met again is
 * replaced by a copy. */
static void adopt(const struct merge *m, bool *kept, struct sl_node **slot)
{
	struct sl_node *n = *slot;
	ssize_t i = pool_index(m, n);
	if (i < 0)
		return; /* a copy made here: owned already */
	if (kept[i]) {
		*slot = sl_node_copy(n);
		return;
	}
	kept[i] = true;
	if (n->type == SL_NODE_SEQ)
		for (size_t k = 0; k < n->seq.len; k++)
			adopt(m, kept, &n->seq.items[k]);
	else if (n->type == SL_NODE_MAP)
		for (size_t k = 0; k < n->map.len; k++)
			adopt(m, kept, &n->map.items[k].value);
}

/* Frees a node's own storage, not its children. */
static void free_shallow(struct sl_node *n)
{
	if (n->type == SL_NODE_STR) {
		free(n->str.ptr);
	} else if (n->type == SL_NODE_SEQ) {
		free(n->seq.items);
	} else if (n->type == SL_NODE_MAP) {
		for (size_t i = 0; i < n->map.len; i++)
			free(n->map.items[i].key);
		free(n->map.items);
	}
	free(n);
}

/* Makes obj's tree own its nodes again and frees every other pool node.
 * kustomize keeps the object's own root whatever the merge returns (a
 * `$patch: replace` of the whole object changes nothing). */
static void finish(struct merge *m, struct sl_node *obj)
{
	qsort(m->pool, m->npool, sizeof(*m->pool), ptr_cmp);
	_cleanup_free_ bool *kept = sl_xcalloc(m->npool ? m->npool : 1, sizeof(bool));
	struct sl_node *root = obj;
	adopt(m, kept, &root);
	for (size_t i = 0; i < m->npool; i++)
		if (!kept[i])
			free_shallow(m->pool[i]);
	free(m->pool);
	m->pool = NULL;
	m->npool = m->cap = 0;
}

/* Appends ".field" to the path; returns the old length. */
static size_t path_push_field(struct merge *m, const char *field)
{
	size_t old = m->path.len;
	sl_buf_printf(&m->path, "%s%s", old ? "." : "", field);
	return old;
}

/* Appends "[key=value]" to the path; returns the old length. */
static size_t path_push_element(struct merge *m, const char *key, const char *value)
{
	size_t old = m->path.len;
	sl_buf_printf(&m->path, "[%s=%s]", key, value);
	return old;
}

static void path_pop(struct merge *m, size_t old)
{
	m->path.len = old;
	m->path.data[old] = '\0';
}

/* Sets key to value in a map without freeing what it replaces (pool). */
static void field_set(struct sl_node *map, const char *key, size_t len, struct sl_node *value)
{
	ssize_t i = sl_node_map_index(map, key, len);
	if (i >= 0) {
		map->map.items[i].value = value;
		return;
	}
	sl_node_map_setn(map, key, len, value);
}

static void field_clear(struct sl_node *map, const char *key, size_t len)
{
	ssize_t i = sl_node_map_index(map, key, len);
	if (i < 0)
		return;
	free(map->map.items[i].key);
	memmove(&map->map.items[i], &map->map.items[i + 1],
	        (map->map.len - (size_t)i - 1) * sizeof(*map->map.items));
	map->map.len--;
}

/* ---- directives ------------------------------------------------------------- */

static int mapping_directive(struct merge *m, struct sl_node *patch, struct sl_error *err,
                             enum directive *ret)
{
	struct sl_node *v = sl_node_map_get(patch, "$patch");
	*ret = PATCH_MERGE;
	if (!v)
		return 0;
	const char *t = ks_smp_text(m, v);
	if (strcmp(t, "delete") == 0)
		*ret = PATCH_DELETE;
	else if (strcmp(t, "replace") == 0)
		*ret = PATCH_REPLACE;
	else if (strcmp(t, "merge") != 0) {
		*ret = PATCH_UNKNOWN;
		return sl_error_set(err, SL_EINVAL, "unknown patch strategy '%s'", t);
	}
	field_clear(patch, "$patch", strlen("$patch"));
	return 0;
}

/* A list's directive is an element that is only `$patch: ...`. */
static int sequence_directive(struct merge *m, struct sl_node *patch, struct sl_error *err,
                              enum directive *ret)
{
	*ret = PATCH_MERGE;
	struct sl_node *holder = NULL;
	for (size_t i = 0; i < patch->seq.len && !holder; i++) {
		struct sl_node *item = patch->seq.items[i];
		if (item->type == SL_NODE_MAP && sl_node_map_get(item, "$patch"))
			holder = item;
	}
	if (!holder || holder->map.len > 1)
		return 0;
	const char *t = ks_smp_text(m, sl_node_map_get(holder, "$patch"));
	if (strcmp(t, "delete") == 0)
		*ret = PATCH_DELETE;
	else if (strcmp(t, "replace") == 0)
		*ret = PATCH_REPLACE;
	else if (strcmp(t, "merge") != 0) {
		*ret = PATCH_UNKNOWN;
		return sl_error_set(err, SL_EINVAL, "unknown patch strategy '%s'", t);
	}
	const char *key = "$patch";
	return ks_smp_element_set(m, patch, NULL, &key, 1, &t, 1);
}

/* Reads (and removes) the patch's directive; err may be a scratch one. */
static int directive(struct merge *m, struct sl_node *patch, struct sl_error *err,
                     enum directive *ret)
{
	*ret = PATCH_MERGE;
	if (!patch)
		return 0;
	if (patch->type == SL_NODE_MAP)
		return mapping_directive(m, patch, err, ret);
	if (patch->type == SL_NODE_SEQ)
		return sequence_directive(m, patch, err, ret);
	*ret = PATCH_UNKNOWN;
	return sl_error_set(err, SL_EINVAL,
	                    "no implemented strategic merge patch strategy for %s '%s'",
	                    sl_node_type_name(patch->type), ks_smp_text(m, patch));
}

/* ---- the walk ------------------------------------------------------------------ */

static const struct ks_schema *get_schema(struct sl_node *dest, struct sl_node *origin,
                                          const struct ks_schema *schema)
{
	if (schema)
		return schema;
	/* Outside any known type, a map with its own apiVersion and kind is
	 * looked up (kyaml's GetSchema at every level). */
	struct sl_node *sources[2] = {dest, origin};
	for (size_t i = 0; i < 2; i++) {
		const char *av = sl_node_dig_str(sources[i], "apiVersion", NULL);
		const char *kind = sl_node_dig_str(sources[i], "kind", NULL);
		if (!av || !*av || !kind || !*kind)
			continue;
		const struct ks_schema *s = ks_schema_for_type(av, kind);
		if (s)
			return s;
	}
	return NULL;
}

static int visit_map(struct merge *m, struct sl_node *dest, struct sl_node *origin,
                     struct sl_node **ret)
{
	enum directive ps;
	*ret = NULL;
	if (missing_or_null(dest)) {
		struct sl_error ignored;
		directive(m, origin, &ignored, &ps);
		if (ps == PATCH_DELETE)
			return 0;
		/* kyaml keeps a written null the patch does not mention */
		*ret = !origin && dest && !null_is_empty(dest) ? dest : origin;
		return 0;
	}
	if (origin && origin->type == SL_NODE_NULL)
		return 0;
	int r = directive(m, origin, m->err, &ps);
	if (r < 0)
		return r;
	*ret = ps == PATCH_DELETE ? NULL : ps == PATCH_REPLACE ? origin : dest;
	return 0;
}

struct name {
	char *s;
	size_t len;
};

static int name_cmp(const void *a, const void *b)
{
	const struct name *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void add_names(struct name **names, size_t *n, const struct sl_node *map)
{
	if (!map || map->type != SL_NODE_MAP)
		return;
	for (size_t i = 0; i < map->map.len; i++) {
		const struct sl_node_pair *p = &map->map.items[i];
		bool seen = false;
		for (size_t k = 0; k < *n && !seen; k++)
			seen = (*names)[k].len == p->key_len &&
			       memcmp((*names)[k].s, p->key, p->key_len) == 0;
		if (seen)
			continue;
		*names = sl_xrealloc(*names, (*n + 1) * sizeof(**names));
		(*names)[(*n)++] = (struct name){sl_strndup(p->key, p->key_len), p->key_len};
	}
}

static void free_names(struct name *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i].s);
	free(names);
}

static int walk_map(struct merge *m, struct sl_node *dest, struct sl_node *origin,
                    const struct ks_schema *schema, struct sl_node **ret)
{
	struct sl_node *d;
	int r = visit_map(m, dest, origin, &d);
	if (r < 0 || !d) {
		*ret = NULL;
		return r;
	}
	struct name *names = NULL;
	size_t n = 0;
	add_names(&names, &n, d);
	add_names(&names, &n, origin);
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		const char *key = names[i].s;
		size_t len = names[i].len;
		struct sl_node *fd = d->type == SL_NODE_MAP ? sl_node_map_getn(d, key, len) : NULL;
		struct sl_node *fo = origin && origin->type == SL_NODE_MAP
		                         ? sl_node_map_getn(origin, key, len)
		                         : NULL;
		if (!fo && fd && fd->type == SL_NODE_NULL) {
			if (null_is_empty(fd))
				field_clear(d, key, len);
			continue;
		}
		size_t mark = path_push_field(m, key);
		struct sl_node *val;
		r = walk(m, fd, fo, schema ? ks_schema_field(schema, key) : NULL, &val);
		path_pop(m, mark);
		if (r < 0) {
			free_names(names, n);
			return r;
		}
		if (missing_or_null(val))
			field_clear(d, key, len);
		else
			field_set(d, key, len, val);
	}
	free_names(names, n);
	*ret = d;
	return 0;
}

static int visit_list(struct merge *m, struct sl_node *dest, struct sl_node *origin,
                      struct sl_node **ret)
{
	*ret = NULL;
	if (missing_or_null(dest)) {
		*ret = origin;
		return 0;
	}
	if (origin && origin->type == SL_NODE_NULL)
		return 0;
	enum directive ps;
	int r = directive(m, origin, m->err, &ps);
	if (r < 0)
		return r;
	*ret = ps == PATCH_DELETE ? NULL : ps == PATCH_REPLACE ? origin : dest;
	return 0;
}

/* kyaml's appendListNode: the destination's elements go after the
 * patch's, each replacing the element with the same keys. */
static int append_list(struct merge *m, struct sl_node *dst, struct sl_node *src,
                       const struct tuple *keys)
{
	size_t n = src->seq.len;
	_cleanup_free_ struct sl_node **elems = sl_xmalloc((n + 1) * sizeof(*elems));
	if (n)
		memcpy(elems, src->seq.items, n * sizeof(*elems));
	for (size_t i = 0; i < n; i++) {
		struct sl_node *elem = elems[i];
		int r;
		if (!*keys->v[0]) {
			const char *t = ks_smp_text(m, elem);
			r = ks_smp_element_set(m, dst, elem, keys->v, 1, &t, 1);
			if (r < 0)
				return r;
			continue;
		}
		struct tuple v = {.n = 0};
		for (size_t k = 0; k < keys->n; k++) {
			struct sl_node *f = NULL;
			if (!missing_or_null(elem)) {
				if (elem->type != SL_NODE_MAP)
					return ks_smp_kind_error(m, "map", elem);
				f = sl_node_map_get(elem, keys->v[k]);
			}
			if (!f) {
				/* as kyaml: appended, and still set below */
				sl_node_seq_push(dst, elem);
				continue;
			}
			v.v[v.n++] = ks_smp_text(m, f);
		}
		if (keys->n > 1) {
			r = ks_smp_element_set(m, dst, NULL, keys->v, keys->n, v.v, v.n);
			if (r < 0)
				return r;
		}
		r = ks_smp_element_set(m, dst, elem, keys->v, keys->n, v.v, v.n);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Merges one element, found by its key values in both lists. */
static int merge_element(struct merge *m, struct sl_node *dest, struct sl_node *origin,
                         const struct ks_schema *schema, struct tuple *vk, struct tuple *vv,
                         struct sl_node *items)
{
	struct tuple k2, v2;
	ks_smp_validate_keys(vv, 1, vv, vk->v, vk->n, &k2, &v2);
	struct sl_node *sd = ks_smp_element_find(m, dest, k2.v, k2.n, v2.v, v2.n);
	struct sl_node *so = ks_smp_element_find(m, origin, k2.v, k2.n, v2.v, v2.n);
	size_t mark = path_push_element(m, vk->v[0], vv->n ? vv->v[0] : "");
	struct sl_node *val;
	int r = walk(m, sd, so, schema, &val);
	path_pop(m, mark);
	if (r < 0)
		return r;
	bool drop = false;
	for (size_t i = 0; i < vk->n; i++) {
		if (empty_map(val)) {
			/* an element the patch deletes */
			r = ks_smp_element_set(m, dest, NULL, vk->v, vk->n, vv->v, vv->n);
			if (r < 0)
				return r;
			drop = true;
		} else if (i < vv->n && *vv->v[i] && *vk->v[i] &&
		           !(val->type == SL_NODE_MAP && sl_node_map_get(val, vk->v[i]))) {
			if (val->type != SL_NODE_MAP)
				return ks_smp_kind_error(m, "map", val);
			sl_node_map_set(val, vk->v[i], track(m, ks_smp_scalar_from_text(vv->v[i])));
		}
	}
	if (drop)
		return 0;
	return ks_smp_element_set(m, items, val, vk->v, vk->n, vv->v, vv->n);
}

/* kyaml's setAssociativeSequenceElements. */
static int merge_elements(struct merge *m, struct tuples *values, const char *const *keys,
                          size_t nkeys, struct sl_node *dest, struct sl_node *origin,
                          const struct ks_schema *schema, struct sl_node **ret)
{
	struct sl_node *items = track(m, sl_node_new_seq());
	const struct ks_schema *item_schema = ks_schema_items(schema);
	if (nkeys > 1)
		ks_smp_merge_values(values);
	struct tuple vk = {.n = 0}, vv = {.n = 0};
	for (size_t i = 0; i < values->len; i++) {
		if (values->items[i].n == 0)
			continue;
		ks_smp_validate_keys(values->items, values->len, &values->items[i], keys, nkeys,
		                     &vk, &vv);
		int r = merge_element(m, dest, origin, item_schema, &vk, &vv, items);
		if (r < 0)
			return r;
	}
	struct sl_node *result = dest;
	if (values->len > 0 && vk.n > 0) {
		int r = append_list(m, items, dest, &vk);
		if (r < 0)
			return r;
		result = items;
	}
	*ret = missing_or_null(result) ? NULL : result;
	return 0;
}

static int walk_assoc(struct merge *m, struct sl_node *dest, struct sl_node *origin,
                      const struct ks_schema *schema, struct sl_node **ret)
{
	struct sl_node *d;
	int r = visit_list(m, dest, origin, &d);
	if (r < 0 || !d) {
		*ret = NULL;
		return r;
	}
	/* from here on, kyaml's sources are (d, origin) */
	size_t nkeys = 0;
	while (nkeys < MAX_KEYS && schema->keys[nkeys])
		nkeys++;
	struct tuples values = {0};
	if (nkeys > 0) {
		ks_smp_element_values(m, d, origin, schema->keys, nkeys, &values);
		r = merge_elements(m, &values, schema->keys, nkeys, d, origin, schema, ret);
	} else {
		static const char *const no_key[] = {""};
		ks_smp_primitive_values(m, d, origin, &values);
		r = merge_elements(m, &values, no_key, 1, d, origin, schema, ret);
	}
	free(values.items);
	return r;
}

static int walk(struct merge *m, struct sl_node *dest, struct sl_node *origin,
                const struct ks_schema *schema, struct sl_node **ret)
{
	*ret = NULL;
	schema = get_schema(dest, origin, schema);
	struct sl_node *first = !missing_or_null(dest)     ? dest
	                        : !missing_or_null(origin) ? origin
	                                                   : NULL;
	if (!first)
		return walk_map(m, dest, origin, schema, ret);
	struct sl_node *sources[2] = {dest, origin};
	for (size_t i = 0; i < 2; i++) {
		struct sl_node *s = sources[i];
		if (missing_or_null(s))
			continue;
		bool same = first->type == SL_NODE_MAP   ? s->type == SL_NODE_MAP
		            : first->type == SL_NODE_SEQ ? s->type == SL_NODE_SEQ
		                                         : is_scalar(s);
		if (!same)
			return ks_smp_kind_error(m, class_name(first), s);
	}
	if (first->type == SL_NODE_MAP)
		return walk_map(m, dest, origin, schema, ret);
	if (first->type == SL_NODE_SEQ) {
		if (schema && schema->merge)
			return walk_assoc(m, dest, origin, schema, ret);
		*ret = origin ? origin : dest; /* lists without a merge strategy: replaced */
		return 0;
	}
	*ret = origin ? origin : dest;
	if (origin && dest && dest->type == SL_NODE_STR && origin->type != SL_NODE_STR &&
	    origin->type != SL_NODE_NULL && ks_smp_written_quoted(dest))
		*ret = track(m, sl_node_new_str(ks_smp_text(m, origin)));
	return 0;
}

/* ---- the patch transformer ------------------------------------------------------ */

static char *dup_str(const struct sl_node *n)
{
	const char *s = sl_node_str(n);
	return sl_strdup(s ? s : "");
}

/* kustomize's Resource.ApplySmPatch: kind and name come back unless the
 * options allow their change; the namespace always does. */
static void restore_identity(struct sl_node *obj, const char *kind, const char *name,
                             const char *ns, bool allow_name_change, bool allow_kind_change)
{
	if (!allow_kind_change)
		sl_node_map_set(obj, "kind", sl_node_new_str(kind));
	struct sl_node *meta = sl_node_map_get(obj, "metadata");
	if (!allow_name_change || *ns) {
		meta = sl_node_map_ensure_map(obj, "metadata");
		if (!meta)
			return;
	}
	if (!allow_name_change)
		sl_node_map_set(meta, "name", sl_node_new_str(name));
	if (*ns)
		sl_node_map_set(meta, "namespace", sl_node_new_str(ns));
	else if (meta && meta->type == SL_NODE_MAP)
		sl_node_map_del(meta, "namespace");
}

int ks_smp_apply(struct sl_node *obj, const struct sl_node *patch, bool allow_name_change,
                 bool allow_kind_change, bool *ret_deleted, struct sl_error *err)
{
	*ret_deleted = false;
	if (obj->type != SL_NODE_MAP || patch->type != SL_NODE_MAP)
		return sl_error_set(err, SL_EINVAL,
		                    "a strategic merge patch and its object must be maps");
	_cleanup_free_ char *kind = dup_str(sl_node_map_get(obj, "kind"));
	_cleanup_free_ char *name = dup_str(sl_node_dig(obj, "metadata", "name", NULL));
	_cleanup_free_ char *ns = dup_str(sl_node_dig(obj, "metadata", "namespace", NULL));

	/* The patch copy gets the object's apiVersion (kustomize's SetGvk
	 * before merging a targeted patch): the apiVersion never changes. */
	struct sl_node *p = sl_node_copy(patch);
	const char *api = sl_node_dig_str(obj, "apiVersion", NULL);
	if (api)
		sl_node_map_set(p, "apiVersion", sl_node_new_str(api));

	struct merge m = {.err = err};
	sl_buf_init(&m.path, 0);
	track_tree(&m, obj);
	track_tree(&m, p);
	struct sl_node *result;
	int r = walk(&m, obj, p, NULL, &result);
	/* On failure obj is left as far as the merge got (a valid tree). */
	finish(&m, obj);
	sl_strv_free(&m.texts);
	sl_buf_free(&m.path);
	if (r < 0)
		return r;
	if (!result || obj->type != SL_NODE_MAP || obj->map.len == 0) {
		*ret_deleted = true;
		return 0;
	}
	restore_identity(obj, kind, name, ns, allow_name_change, allow_kind_change);
	return 0;
}
