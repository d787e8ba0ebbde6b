/* Finding, reading and checking kustomization files. kustomize decodes the
 * file strictly into its Go struct (sigs.k8s.io/yaml: YAML -> JSON ->
 * struct), so an unknown field or a value of the wrong JSON type fails the
 * build; this file reproduces that with a table of fields and types. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kustomize/kbuild.h"

static const char *const kustomization_names[] = {"kustomization.yaml", "kustomization.yml",
                                                  "Kustomization"};

/* Go's filepath.Clean, in place: one slash between elements, no "."
 * elements, "x/.." removed where x is not "..", "/.." is "/". */
static char *path_clean(char *path)
{
	bool rooted = path[0] == '/';
	char *out = path, *w = path;
	const char *r = path;
	if (rooted)
		*w++ = '/', r++;
	char *floor = w; /* ".." may not remove what is before this */
	while (*r) {
		const char *end = strchr(r, '/');
		size_t len = end ? (size_t)(end - r) : strlen(r);
		if (len == 0 || (len == 1 && r[0] == '.')) {
			/* empty or "." element: skip */
		} else if (len == 2 && r[0] == '.' && r[1] == '.') {
			if (w > floor) {
				/* back over the last element */
				while (w > floor && w[-1] != '/')
					w--;
				if (w > floor)
					w--;
			} else if (!rooted) {
				if (w > out)
					*w++ = '/';
				*w++ = '.', *w++ = '.';
				floor = w;
			}
		} else {
			if (w > out && w[-1] != '/')
				*w++ = '/';
			memmove(w, r, len);
			w += len;
		}
		r += len;
		if (*r == '/')
			r++;
	}
	if (w == out)
		*w++ = '.';
	*w = '\0';
	return out;
}

char *ks_path_join(const char *dir, const char *rel)
{
	if (rel[0] == '/' || !*dir)
		return path_clean(sl_strdup(rel));
	return path_clean(sl_asprintf("%s/%s", dir, rel));
}

int ks_find_kustomization(const char *dir, char **ret_path, struct sl_error *err)
{
	char *found = NULL;
	for (size_t i = 0; i < SL_ARRAY_SIZE(kustomization_names); i++) {
		_cleanup_free_ char *p = ks_path_join(dir, kustomization_names[i]);
		struct stat st;
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			if (found) {
				free(found);
				return sl_error_set(err, SL_EINVAL,
				                    "Found multiple kustomization files under: %s",
				                    dir);
			}
			found = TAKE_PTR(p);
		}
	}
	*ret_path = found;
	return 0;
}

/* What a field's value must be, as Go's JSON decoder would insist. */
enum field_type {
	FT_STRING,
	FT_BOOL,
	FT_INT,
	FT_MAP,         /* any map */
	FT_STRING_MAP,  /* map of strings */
	FT_STRING_LIST, /* list of strings */
	FT_LIST,        /* list of anything (checked by its consumer) */
	FT_LIST_OF_MAPS,
	FT_ANY,
};

struct field {
	const char *name;
	enum field_type type;
	const struct field *entry; /* for FT_LIST_OF_MAPS / FT_MAP: the fields of each map */
	bool unsupported;          /* known to kustomize, refused by sluice */
};

static const struct field image_fields[] = {
    {"name", FT_STRING, NULL, false},     {"newName", FT_STRING, NULL, false},
    {"newTag", FT_STRING, NULL, false},   {"digest", FT_STRING, NULL, false},
    {"tagSuffix", FT_STRING, NULL, true}, {NULL, 0, NULL, false},
};
static const struct field replica_fields[] = {
    {"name", FT_STRING, NULL, false},
    {"count", FT_INT, NULL, false},
    {NULL, 0, NULL, false},
};
static const struct field selector_fields[] = {
    {"group", FT_STRING, NULL, false},
    {"version", FT_STRING, NULL, false},
    {"kind", FT_STRING, NULL, false},
    {"name", FT_STRING, NULL, false},
    {"namespace", FT_STRING, NULL, false},
    {"labelSelector", FT_STRING, NULL, false},
    {"annotationSelector", FT_STRING, NULL, false},
    {NULL, 0, NULL, false},
};
static const struct field patch_option_fields[] = {
    {"allowNameChange", FT_BOOL, NULL, false},
    {"allowKindChange", FT_BOOL, NULL, false},
    {NULL, 0, NULL, false},
};
static const struct field patch_fields[] = {
    {"path", FT_STRING, NULL, false},
    {"patch", FT_STRING, NULL, false},
    {"target", FT_MAP, selector_fields, false},
    {"options", FT_MAP, patch_option_fields, false},
    {NULL, 0, NULL, false},
};
static const struct field json6902_fields[] = {
    {"path", FT_STRING, NULL, false},
    {"patch", FT_STRING, NULL, false},
    {"target", FT_MAP, selector_fields, false},
    {NULL, 0, NULL, false},
};
static const struct field label_fields[] = {
    {"pairs", FT_STRING_MAP, NULL, false},
    {"includeSelectors", FT_BOOL, NULL, false},
    {"includeTemplates", FT_BOOL, NULL, false},
    {"fields", FT_LIST, NULL, false},
    {NULL, 0, NULL, false},
};
static const struct field generator_option_fields[] = {
    {"labels", FT_STRING_MAP, NULL, false},
    {"annotations", FT_STRING_MAP, NULL, false},
    {"disableNameSuffixHash", FT_BOOL, NULL, false},
    {"immutable", FT_BOOL, NULL, false},
    {NULL, 0, NULL, false},
};
static const struct field generator_fields[] = {
    {"name", FT_STRING, NULL, false},
    {"namespace", FT_STRING, NULL, false},
    {"behavior", FT_STRING, NULL, false},
    {"files", FT_STRING_LIST, NULL, false},
    {"literals", FT_STRING_LIST, NULL, false},
    {"envs", FT_STRING_LIST, NULL, false},
    {"env", FT_STRING, NULL, false},
    {"type", FT_STRING, NULL, false},
    {"options", FT_MAP, generator_option_fields, false},
    {NULL, 0, NULL, false},
};
static const struct field legacy_sort_fields[] = {
    {"orderFirst", FT_STRING_LIST, NULL, false},
    {"orderLast", FT_STRING_LIST, NULL, false},
    {NULL, 0, NULL, false},
};
static const struct field sort_fields[] = {
    {"order", FT_STRING, NULL, false},
    {"legacySortOptions", FT_MAP, legacy_sort_fields, false},
    {NULL, 0, NULL, false},
};

static const struct field kustomization_fields[] = {
    {"apiVersion", FT_STRING, NULL, false},
    {"kind", FT_STRING, NULL, false},
    {"metadata", FT_MAP, NULL, false},
    {"resources", FT_STRING_LIST, NULL, false},
    {"bases", FT_STRING_LIST, NULL, false},
    {"components", FT_STRING_LIST, NULL, false},
    {"crds", FT_STRING_LIST, NULL, false},
    {"namespace", FT_STRING, NULL, false},
    {"namePrefix", FT_STRING, NULL, false},
    {"nameSuffix", FT_STRING, NULL, false},
    {"commonLabels", FT_STRING_MAP, NULL, false},
    {"labels", FT_LIST_OF_MAPS, label_fields, false},
    {"commonAnnotations", FT_STRING_MAP, NULL, false},
    {"images", FT_LIST_OF_MAPS, image_fields, false},
    {"replicas", FT_LIST_OF_MAPS, replica_fields, false},
    {"patches", FT_LIST_OF_MAPS, patch_fields, false},
    {"patchesStrategicMerge", FT_STRING_LIST, NULL, false},
    {"patchesJson6902", FT_LIST_OF_MAPS, json6902_fields, false},
    {"configMapGenerator", FT_LIST_OF_MAPS, generator_fields, false},
    {"secretGenerator", FT_LIST_OF_MAPS, generator_fields, false},
    {"generatorOptions", FT_MAP, generator_option_fields, false},
    {"sortOptions", FT_MAP, sort_fields, false},
    /* Known to kustomize, not (yet) to sluice: refused by name. */
    {"generators", FT_LIST, NULL, true},
    {"transformers", FT_LIST, NULL, true},
    {"validators", FT_LIST, NULL, true},
    {"helmCharts", FT_LIST, NULL, true},
    {"helmGlobals", FT_MAP, NULL, true},
    {"helmChartInflationGenerator", FT_LIST, NULL, true},
    {"replacements", FT_LIST, NULL, true},
    {"vars", FT_LIST, NULL, true},
    {"openapi", FT_MAP, NULL, true},
    {"configurations", FT_STRING_LIST, NULL, true},
    {"buildMetadata", FT_STRING_LIST, NULL, true},
    {NULL, 0, NULL, false},
};

/* Go's name for a JSON value's type in "cannot unmarshal X into ..." */
static const char *json_type(const struct sl_node *n)
{
	switch (n->type) {
	case SL_NODE_STR: return "string";
	case SL_NODE_BOOL: return "bool";
	case SL_NODE_INT:
	case SL_NODE_UINT:
	case SL_NODE_FLOAT: return "number";
	case SL_NODE_SEQ: return "array";
	case SL_NODE_MAP: return "object";
	default: return "null";
	}
}

static int type_error(const char *where, const char *want, const struct sl_node *v,
                      struct sl_error *err)
{
	const char *hint =
	    v->type == SL_NODE_INT || v->type == SL_NODE_FLOAT || v->type == SL_NODE_BOOL
	        ? " (quote it to make it a string)"
	        : "";
	return sl_error_set(err, SL_EINVAL, "%s: cannot use a %s where a %s is needed%s", where,
	                    json_type(v), want, strcmp(want, "string") == 0 ? hint : "");
}

static int check_fields(const struct sl_node *map, const struct field *fields, const char *where,
                        struct sl_error *err);

/* A field sluice refuses, named with the files or entries it lists. */
static int unsupported(const char *field, const struct sl_node *v, struct sl_error *err)
{
	struct sl_buf list;
	sl_buf_init(&list, 0);
	for (size_t i = 0; v->type == SL_NODE_SEQ && i < v->seq.len && list.len < 512; i++) {
		const char *e = sl_node_str(v->seq.items[i]);
		if (!e)
			e = sl_node_dig_str(v->seq.items[i], "name", NULL);
		if (e && !strchr(e, '\n'))
			sl_buf_printf(&list, "%s%s", list.len ? ", " : "", e);
		else
			sl_buf_printf(&list, "%s(inline)", list.len ? ", " : "");
	}
	sl_error_set(err, SL_EUNSUPPORTED,
	             "%s%s%s%s is not supported by sluice (Flux builds with kustomize's builtin "
	             "transformers only: no plugins, no Helm charts)",
	             field, list.len ? " (" : "", list.len ? list.data : "", list.len ? ")" : "");
	sl_buf_free(&list);
	return SL_EUNSUPPORTED;
}

static int check_value(const struct sl_node *v, const struct field *f, const char *where,
                       struct sl_error *err)
{
	/* Go's decoder leaves a field alone for JSON null. */
	if (v->type == SL_NODE_NULL)
		return 0;
	switch (f->type) {
	case FT_STRING: return v->type == SL_NODE_STR ? 0 : type_error(where, "string", v, err);
	case FT_BOOL: return v->type == SL_NODE_BOOL ? 0 : type_error(where, "bool", v, err);
	case FT_INT: return v->type == SL_NODE_INT ? 0 : type_error(where, "integer", v, err);
	case FT_MAP:
		if (v->type != SL_NODE_MAP)
			return type_error(where, "map", v, err);
		return f->entry ? check_fields(v, f->entry, where, err) : 0;
	case FT_STRING_MAP:
		if (v->type != SL_NODE_MAP)
			return type_error(where, "map", v, err);
		for (size_t i = 0; i < v->map.len; i++) {
			const struct sl_node *e = v->map.items[i].value;
			if (e->type != SL_NODE_STR && e->type != SL_NODE_NULL) {
				_cleanup_free_ char *w =
				    sl_asprintf("%s.%s", where, v->map.items[i].key);
				return type_error(w, "string", e, err);
			}
		}
		return 0;
	case FT_STRING_LIST:
	case FT_LIST:
	case FT_LIST_OF_MAPS:
		if (v->type != SL_NODE_SEQ)
			return type_error(where, "list", v, err);
		for (size_t i = 0; i < v->seq.len; i++) {
			const struct sl_node *e = v->seq.items[i];
			_cleanup_free_ char *w = sl_asprintf("%s[%zu]", where, i);
			if (f->type == FT_STRING_LIST && e->type != SL_NODE_STR)
				return type_error(w, "string", e, err);
			if (f->type == FT_LIST_OF_MAPS) {
				if (e->type != SL_NODE_MAP)
					return type_error(w, "map", e, err);
				int r = check_fields(e, f->entry, w, err);
				if (r < 0)
					return r;
			}
		}
		return 0;
	case FT_ANY: return 0;
	}
	return 0;
}

static int check_fields(const struct sl_node *map, const struct field *fields, const char *where,
                        struct sl_error *err)
{
	for (size_t i = 0; i < map->map.len; i++) {
		const struct sl_node_pair *p = &map->map.items[i];
		const struct field *f = fields;
		while (f->name && strcmp(f->name, p->key) != 0)
			f++;
		_cleanup_free_ char *w =
		    *where ? sl_asprintf("%s.%s", where, p->key) : sl_strdup(p->key);
		if (!f->name)
			return sl_error_set(err, SL_EINVAL, "unknown field \"%s\"", w);
		if (f->unsupported && !(p->value->type == SL_NODE_SEQ && p->value->seq.len == 0))
			return unsupported(w, p->value, err);
		int r = check_value(p->value, f, w, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int ks_kfile_make(const char *dir, const char *path, struct sl_node *k, struct ks_kfile **ret,
                  struct sl_error *err)
{
	_cleanup_node_ struct sl_node *owned = k;
	if (k->type != SL_NODE_MAP)
		return sl_error_set(err, SL_EINVAL, "%s: invalid Kustomization: a %s, not a map",
		                    path, sl_node_type_name(k->type));
	int r = check_fields(k, kustomization_fields, "", err);
	if (r < 0)
		return sl_error_wrap(err, r, "%s: invalid Kustomization", path);
	const char *kind = sl_node_dig_str(k, "kind", NULL);
	if (kind && *kind && strcmp(kind, "Kustomization") != 0 && strcmp(kind, "Component") != 0)
		return sl_error_set(err, SL_EINVAL,
		                    "%s: invalid Kustomization: kind \"%s\" (want Kustomization or "
		                    "Component)",
		                    path, kind);
	struct ks_kfile *kf = sl_xcalloc(1, sizeof(*kf));
	kf->dir = sl_strdup(dir);
	kf->path = sl_strdup(path);
	kf->component = kind && strcmp(kind, "Component") == 0;
	kf->k = TAKE_PTR(owned);
	*ret = kf;
	return 0;
}

int ks_kfile_read(const char *path, struct sl_node **ret_k, struct sl_error *err)
{
	_cleanup_node_ struct sl_node *docs = NULL;
	int r = sl_yaml_parse_file(path, NULL, &docs, err);
	if (r < 0)
		return sl_error_wrap(err, r, "invalid Kustomization");
	if (docs->seq.len == 0)
		return sl_error_set(err, SL_EINVAL, "%s is empty", path);
	if (docs->seq.len > 1)
		return sl_error_set(err, SL_EINVAL,
		                    "%s: invalid Kustomization: more than one YAML document", path);
	*ret_k = sl_node_seq_take(docs, 0);
	return 0;
}

struct ks_kfile *ks_kfile_free(struct ks_kfile *kf)
{
	if (!kf)
		return NULL;
	free(kf->dir);
	free(kf->path);
	sl_node_free(kf->k);
	free(kf);
	return NULL;
}

/* kustomize's remote targets: URLs, go-getter forms, ssh and scp-like git
 * addresses, and host.tld/org/repo shorthands. */
bool ks_looks_remote(const char *entry)
{
	static const char *const prefixes[] = {
	    "http://", "https://",    "git::",       "ssh://",        "git@",
	    "gh:",     "github.com/", "gitlab.com/", "bitbucket.org/"};
	for (size_t i = 0; i < SL_ARRAY_SIZE(prefixes); i++)
		if (sl_startswith(entry, prefixes[i]))
			return true;
	if (strstr(entry, "://") || strstr(entry, "?ref=") || strstr(entry, ".git//"))
		return true;
	/* host.tld/org/repo: a first segment with a dot (not "." or ".."),
	 * and at least two more segments. */
	const char *slash = strchr(entry, '/');
	if (!slash || entry[0] == '.' || entry[0] == '/')
		return false;
	if (!memchr(entry, '.', (size_t)(slash - entry)))
		return false;
	const char *second = strchr(slash + 1, '/');
	return second && second[1];
}

/* ---- confinement ------------------------------------------------------ */

/* A pointer, not a buffer: big thread-local storage costs every thread. */
static _Thread_local const char *confine_root;

void ks_confine(const char *root)
{
	confine_root = root;
}

int ks_path_confined(const char *path, struct sl_error *err)
{
	if (!confine_root)
		return 0;
	char real[PATH_MAX];
	if (!realpath(path, real))
		return 0;
	size_t n = strlen(confine_root);
	if (strncmp(real, confine_root, n) == 0 &&
	    (real[n] == '\0' || real[n] == '/' || (n == 1 && confine_root[0] == '/')))
		return 0;
	return sl_error_set(err, SL_EINVAL, "security; file '%s' is not in or below '%s'", path,
	                    confine_root);
}
