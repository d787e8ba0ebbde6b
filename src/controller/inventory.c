/* Object references and inventory ids as cli-utils writes them
 * (pkg/object/objmetadata.go), and the inventory diffing of
 * kustomize-controller's internal/inventory/inventory.go: which objects of
 * the last inventory a new apply no longer has, and so prune deletes. */
#include <string.h>

#include "controller/apply.h"

static json_t *jcheck(json_t *v)
{
	if (!v)
		abort(); /* out of memory: fatal in sluice */
	return v;
}

void sl_object_ref_clear(struct sl_object_ref *ref)
{
	if (!ref)
		return;
	free(ref->namespace_);
	free(ref->name);
	free(ref->group);
	free(ref->kind);
	free(ref->version);
	*ref = (struct sl_object_ref){0};
}

static const char *nonempty_string(const json_t *v)
{
	const char *s = json_string_value(v);
	return s && *s ? s : NULL;
}

/* apimachinery's ParseGroupVersion: "v1" is the core group, "g/v" splits
 * at the slash, anything with more slashes is not a group version. */
static int split_api_version(const char *api_version, char **ret_group, char **ret_version,
                             struct sl_error *err)
{
	const char *slash = strchr(api_version, '/');
	if (!slash) {
		*ret_group = sl_strdup("");
		*ret_version = sl_strdup(api_version);
		return 0;
	}
	if (strchr(slash + 1, '/'))
		return sl_error_set(err, SL_EINVAL, "unexpected apiVersion \"%s\"", api_version);
	*ret_group = sl_strndup(api_version, (size_t)(slash - api_version));
	*ret_version = sl_strdup(slash + 1);
	return 0;
}

int sl_object_ref_from_json(const json_t *obj, struct sl_object_ref *ret, struct sl_error *err)
{
	if (!json_is_object(obj))
		return sl_error_set(err, SL_EINVAL, "object is not a JSON object");
	const char *api_version = nonempty_string(json_object_get(obj, "apiVersion"));
	if (!api_version)
		return sl_error_set(err, SL_EINVAL, "object has no apiVersion");
	const char *kind = nonempty_string(json_object_get(obj, "kind"));
	if (!kind)
		return sl_error_set(err, SL_EINVAL, "object has no kind");
	json_t *metadata = json_object_get(obj, "metadata");
	const char *name = nonempty_string(json_object_get(metadata, "name"));
	if (!name)
		return sl_error_set(err, SL_EINVAL, "%s has no metadata.name", kind);
	json_t *ns = json_object_get(metadata, "namespace");
	if (ns && !json_is_string(ns) && !json_is_null(ns))
		return sl_error_set(err, SL_EINVAL, "%s/%s: metadata.namespace is not a string",
		                    kind, name);

	struct sl_object_ref ref = {0};
	int r = split_api_version(api_version, &ref.group, &ref.version, err);
	if (r < 0)
		return sl_error_wrap(err, r, "%s/%s", kind, name);
	ref.kind = sl_strdup(kind);
	ref.name = sl_strdup(name);
	ref.namespace_ = sl_strdup(json_is_string(ns) ? json_string_value(ns) : "");
	*ret = ref;
	return 0;
}

/* cli-utils' RBACGroupKind: the kinds whose names may hold ':'. */
static bool is_rbac_kind(const char *group, const char *kind)
{
	static const char *const kinds[] = {"Role", "ClusterRole", "RoleBinding",
	                                    "ClusterRoleBinding"};
	if (!group || strcmp(group, "rbac.authorization.k8s.io") != 0 || !kind)
		return false;
	for (size_t i = 0; i < SL_ARRAY_SIZE(kinds); i++)
		if (strcmp(kind, kinds[i]) == 0)
			return true;
	return false;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

char *sl_inventory_id(const struct sl_object_ref *ref)
{
	const char *name = or_empty(ref->name);
	_cleanup_free_ char *encoded = NULL;
	if (is_rbac_kind(ref->group, ref->kind) && strchr(name, ':')) {
		/* Each ':' grows into "__". */
		encoded = sl_xmalloc(2 * strlen(name) + 1);
		char *o = encoded;
		for (const char *c = name; *c; c++) {
			if (*c == ':') {
				*o++ = '_';
				*o++ = '_';
			} else {
				*o++ = *c;
			}
		}
		*o = '\0';
		name = encoded;
	}
	return sl_asprintf("%s_%s_%s_%s", or_empty(ref->namespace_), name, or_empty(ref->group),
	                   or_empty(ref->kind));
}

/* s with every "__" read as ':' (left to right, as strings.ReplaceAll). */
static char *decode_colons(const char *s, size_t len)
{
	char *out = sl_xmalloc(len + 1), *o = out;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '_' && i + 1 < len && s[i + 1] == '_') {
			*o++ = ':';
			i++;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static const char *memrchr_before(const char *begin, const char *end, char c)
{
	for (const char *p = end; p > begin; p--)
		if (p[-1] == c)
			return p - 1;
	return NULL;
}

int sl_inventory_id_parse(const char *id, struct sl_object_ref *ret, struct sl_error *err)
{
	if (!id)
		return sl_error_set(err, SL_EINVAL, "no inventory id");
	const char *end = id + strlen(id);
	const char *ns_end = strchr(id, '_');
	if (!ns_end)
		return sl_error_set(err, SL_EINVAL, "unable to parse inventory id \"%s\"", id);
	const char *rest = ns_end + 1;
	const char *kind_sep = memrchr_before(rest, end, '_');
	if (!kind_sep)
		return sl_error_set(err, SL_EINVAL, "unable to parse inventory id \"%s\"", id);
	const char *group_sep = memrchr_before(rest, kind_sep, '_');
	if (!group_sep)
		return sl_error_set(err, SL_EINVAL, "unable to parse inventory id \"%s\"", id);

	_cleanup_free_ char *name = decode_colons(rest, (size_t)(group_sep - rest));
	if (strchr(name, '_'))
		return sl_error_set(err, SL_EINVAL, "inventory id \"%s\" has too many fields", id);
	if (!*name)
		return sl_error_set(err, SL_EINVAL, "inventory id \"%s\" has an empty name", id);
	if (!kind_sep[1])
		return sl_error_set(err, SL_EINVAL, "inventory id \"%s\" has an empty kind", id);

	*ret = (struct sl_object_ref){
	    .namespace_ = sl_strndup(id, (size_t)(ns_end - id)),
	    .name = TAKE_PTR(name),
	    .group = sl_strndup(group_sep + 1, (size_t)(kind_sep - group_sep - 1)),
	    .kind = sl_strdup(kind_sep + 1),
	    .version = NULL,
	};
	return 0;
}

json_t *sl_inventory_new(void)
{
	json_t *inv = jcheck(json_object());
	json_object_set_new(inv, "entries", jcheck(json_array()));
	return inv;
}

static json_t *entry_new(const char *id, const char *version)
{
	json_t *e = jcheck(json_object());
	json_object_set_new(e, "id", jcheck(json_string(id)));
	json_object_set_new(e, "v", jcheck(json_string(or_empty(version))));
	return e;
}

void sl_inventory_add(json_t *inventory, const struct sl_object_ref *ref)
{
	json_t *entries = json_object_get(inventory, "entries");
	if (!json_is_array(entries)) {
		entries = jcheck(json_array());
		json_object_set_new(inventory, "entries", entries);
	}
	_cleanup_free_ char *id = sl_inventory_id(ref);
	json_array_append_new(entries, entry_new(id, ref->version));
}

/* An inventory's entries; NULL (no inventory) has none. */
static int entries_of(const json_t *inventory, const char *which, json_t **ret,
                      struct sl_error *err)
{
	*ret = NULL;
	if (!inventory || json_is_null(inventory))
		return 0;
	if (!json_is_object(inventory))
		return sl_error_set(err, SL_EINVAL, "%s inventory is not an object", which);
	json_t *entries = json_object_get(inventory, "entries");
	if (entries && !json_is_null(entries) && !json_is_array(entries))
		return sl_error_set(err, SL_EINVAL, "%s inventory's entries are not a list", which);
	*ret = json_is_array(entries) ? entries : NULL;
	return 0;
}

/* What identifies an entry regardless of how its id spells a ':': the
 * parsed fields joined by '_', which none of them can contain once parsed;
 * NULL for an entry without a well-formed id. */
static char *entry_key(const json_t *entry, struct sl_object_ref *ret_ref)
{
	const char *id = json_string_value(json_object_get(entry, "id"));
	struct sl_object_ref ref = {0};
	struct sl_error err = {0};
	if (!id || sl_inventory_id_parse(id, &ref, &err) < 0)
		return NULL;
	char *key = sl_asprintf("%s_%s_%s_%s", ref.namespace_, ref.name, ref.group, ref.kind);
	if (ret_ref)
		*ret_ref = ref;
	else
		sl_object_ref_clear(&ref);
	return key;
}

static int strcmp_p(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted set of entry keys, for membership tests in O(log n). */
struct key_set {
	char **keys;
	size_t n;
};

static void key_set_free(struct key_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->keys[i]);
	free(s->keys);
	*s = (struct key_set){0};
}

static void key_set_from(struct key_set *s, const json_t *entries)
{
	*s = (struct key_set){0};
	size_t n = json_array_size(entries);
	if (!n)
		return;
	s->keys = sl_xcalloc(n, sizeof(*s->keys));
	size_t i;
	json_t *e;
	json_array_foreach (entries, i, e) {
		char *key = entry_key(e, NULL);
		if (key)
			s->keys[s->n++] = key;
	}
	qsort(s->keys, s->n, sizeof(*s->keys), strcmp_p);
}

static bool key_set_has(const struct key_set *s, const char *key)
{
	return s->n && bsearch(&key, s->keys, s->n, sizeof(*s->keys), strcmp_p);
}

static void key_set_add(struct key_set *s, char *key)
{
	/* Insertion keeps the order; callers add at most a few thousand. */
	s->keys = sl_xrealloc(s->keys, (s->n + 1) * sizeof(*s->keys));
	size_t at = s->n;
	while (at > 0 && strcmp(s->keys[at - 1], key) > 0)
		at--;
	memmove(s->keys + at + 1, s->keys + at, (s->n - at) * sizeof(*s->keys));
	s->keys[at] = key;
	s->n++;
}

static int reverse_apply_order_cmp(const void *a, const void *b)
{
	return sl_apply_order_cmp(b, a);
}

int sl_inventory_stale(const json_t *old_inventory, const json_t *new_inventory,
                       struct sl_object_ref **ret, size_t *ret_n, struct sl_error *err)
{
	json_t *old_entries, *new_entries;
	int r = entries_of(old_inventory, "old", &old_entries, err);
	if (r < 0)
		return r;
	r = entries_of(new_inventory, "new", &new_entries, err);
	if (r < 0)
		return r;

	struct key_set keep;
	key_set_from(&keep, new_entries);
	/* Seen old entries join the set, so a duplicate is reported once. */
	size_t cap = json_array_size(old_entries), n = 0;
	struct sl_object_ref *stale = cap ? sl_xcalloc(cap, sizeof(*stale)) : NULL;
	size_t i;
	json_t *e;
	json_array_foreach (old_entries, i, e) {
		struct sl_object_ref ref;
		char *key = entry_key(e, &ref);
		if (!key)
			continue; /* malformed: nothing we could delete */
		if (key_set_has(&keep, key)) {
			free(key);
			sl_object_ref_clear(&ref);
			continue;
		}
		key_set_add(&keep, key);
		const char *v = json_string_value(json_object_get(e, "v"));
		ref.version = sl_strdup(or_empty(v));
		stale[n++] = ref;
	}
	key_set_free(&keep);

	/* Prune deletes in reverse apply order: dependents before what they
	 * depend on (workloads before their Namespace and CRDs). */
	if (n > 1)
		qsort(stale, n, sizeof(*stale), reverse_apply_order_cmp);
	if (n == 0) {
		free(stale);
		stale = NULL;
	}
	*ret = stale;
	*ret_n = n;
	return 0;
}

/* The entry's key, or for an entry whose id does not parse, the id itself
 * marked so it cannot collide with a parsed one; NULL without an id. */
static char *union_key(const json_t *entry)
{
	char *key = entry_key(entry, NULL);
	if (key)
		return key;
	const char *id = json_string_value(json_object_get(entry, "id"));
	return id ? sl_asprintf("\x01%s", id) : NULL;
}

static void union_append(json_t *out, struct key_set *seen, const json_t *inventory)
{
	json_t *entries = json_object_get(inventory, "entries");
	size_t i;
	json_t *e;
	json_array_foreach (entries, i, e) {
		char *key = union_key(e);
		if (!key)
			continue;
		if (key_set_has(seen, key)) {
			free(key);
			continue;
		}
		key_set_add(seen, key);
		json_array_append_new(out, jcheck(json_deep_copy(e)));
	}
}

json_t *sl_inventory_union(const json_t *a, const json_t *b)
{
	json_t *inv = sl_inventory_new();
	json_t *out = json_object_get(inv, "entries");
	struct key_set seen = {0};
	union_append(out, &seen, a);
	union_append(out, &seen, b);
	key_set_free(&seen);
	return inv;
}
