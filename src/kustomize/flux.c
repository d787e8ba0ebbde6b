/* What Flux's kustomize-controller does around a kustomize build
 * (pkg/kustomize/kustomize_generator.go, kustomize_varsub.go; spec
 * kustomize-controller.md §2): generate a kustomization.yaml when the path
 * has none, overlay the Kustomization's spec onto the root kustomization,
 * and after the build set commonMetadata and substitute variables. */
#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <string.h>
#include <sys/stat.h>

#include "kustomize/kbuild.h"

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Flux's generated kustomization: every .yaml/.yml file under dir, and
 * every sub-directory that holds a kustomization (not descended), in
 * lexical order, as "./rel/path". */
static int walk(const char *root, const char *rel, struct sl_node *resources, int depth,
                struct sl_error *err)
{
	if (depth > 64)
		return sl_error_set(err, SL_ELIMIT, "%s: directories nested too deep", root);
	_cleanup_free_ char *dir = *rel ? ks_path_join(root, rel) : sl_strdup(root);
	DIR *d = opendir(dir);
	if (!d)
		return sl_error_errno(err, errno, SL_EIO, "reading %s", dir);
	struct sl_strv names = {0};
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			sl_strv_push(&names, e->d_name);
	closedir(d);
	qsort(names.items, names.len, sizeof(*names.items), strcmp_ptr);
	int r = 0;
	for (size_t i = 0; r == 0 && i < names.len; i++) {
		_cleanup_free_ char *child_rel =
		    *rel ? sl_asprintf("%s/%s", rel, names.items[i]) : sl_strdup(names.items[i]);
		_cleanup_free_ char *child = ks_path_join(root, child_rel);
		struct stat st;
		if (lstat(child, &st) < 0) {
			r = sl_error_errno(err, errno, SL_EIO, "%s", child);
		} else if (S_ISDIR(st.st_mode)) {
			_cleanup_free_ char *kfile = NULL;
			r = ks_find_kustomization(child, &kfile, err);
			if (r == 0 && kfile)
				sl_node_seq_push(
				    resources, sl_node_new_str_take(sl_asprintf("./%s", child_rel),
				                                    strlen(child_rel) + 2));
			else if (r == 0)
				r = walk(root, child_rel, resources, depth + 1, err);
		} else if (S_ISREG(st.st_mode) && (sl_endswith(names.items[i], ".yaml") ||
		                                   sl_endswith(names.items[i], ".yml"))) {
			_cleanup_node_ struct sl_node *docs = NULL;
			r = sl_yaml_parse_file(child, NULL, &docs, err);
			if (r < 0)
				r = sl_error_wrap(
				    err, r, "failed to decode Kubernetes YAML from %s", child);
			else
				sl_node_seq_push(
				    resources, sl_node_new_str_take(sl_asprintf("./%s", child_rel),
				                                    strlen(child_rel) + 2));
		}
	}
	sl_strv_free(&names);
	return r;
}

static struct sl_node *generate(const char *dir, struct sl_error *err)
{
	_cleanup_node_ struct sl_node *k = sl_node_new_map();
	sl_node_map_set(k, "apiVersion", sl_node_new_str("kustomize.config.k8s.io/v1beta1"));
	sl_node_map_set(k, "kind", sl_node_new_str("Kustomization"));
	struct sl_node *resources = sl_node_map_set(k, "resources", sl_node_new_seq());
	if (walk(dir, "", resources, 0, err) < 0)
		return NULL;
	/* Flux's trick against kustomize's "kustomization is empty" error. */
	if (resources->seq.len == 0)
		sl_node_map_set(k, "namespace", sl_node_new_str("_placeholder"));
	return TAKE_PTR(k);
}

static struct sl_node *list_field(struct sl_node *k, const char *field)
{
	struct sl_node *v = sl_node_map_get(k, field);
	if (!v || v->type != SL_NODE_SEQ)
		v = sl_node_map_set(k, field, sl_node_new_seq());
	return v;
}

/* images merge by name: newName overwritten when set; newTag and digest
 * replaced together when either is set; else the entry is appended. */
static void merge_images(struct sl_node *k, const struct sl_node *images)
{
	struct sl_node *list = list_field(k, "images");
	for (size_t i = 0; i < images->seq.len; i++) {
		const struct sl_node *img = images->seq.items[i];
		const char *name = sl_node_dig_str(img, "name", NULL);
		struct sl_node *existing = NULL;
		for (size_t j = 0; name && j < list->seq.len; j++) {
			const char *n = sl_node_dig_str(list->seq.items[j], "name", NULL);
			if (n && strcmp(n, name) == 0)
				existing = list->seq.items[j];
		}
		if (!existing || existing->type != SL_NODE_MAP) {
			sl_node_seq_push(list, sl_node_copy(img));
			continue;
		}
		const char *new_name = sl_node_dig_str(img, "newName", NULL);
		const char *new_tag = sl_node_dig_str(img, "newTag", NULL);
		const char *digest = sl_node_dig_str(img, "digest", NULL);
		if (new_name && *new_name)
			sl_node_map_set(existing, "newName", sl_node_new_str(new_name));
		if ((new_tag && *new_tag) || (digest && *digest)) {
			sl_node_map_set(existing, "newTag",
			                sl_node_new_str(new_tag ? new_tag : ""));
			sl_node_map_set(existing, "digest", sl_node_new_str(digest ? digest : ""));
		}
	}
}

static int json_string(const struct sl_node *n, struct sl_node **ret, struct sl_error *err)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	int r = sl_json_emit(&b, n, err);
	if (r < 0) {
		sl_buf_free(&b);
		return r;
	}
	size_t len = b.len;
	*ret = sl_node_new_str_take(sl_buf_steal(&b), len);
	return 0;
}

int ks_flux_overlay(const char *dir, const struct sl_node *flux, struct sl_node **k,
                    struct sl_error *err)
{
	if (!*k) {
		*k = generate(dir, err);
		if (!*k)
			return err->code ? err->code : SL_EINVAL;
	}
	const struct sl_node *spec = sl_node_map_get(flux, "spec");
	if (!spec || spec->type != SL_NODE_MAP)
		return 0;
	static const struct {
		const char *flux, *kustomize;
	} overrides[] = {{"targetNamespace", "namespace"},
	                 {"namePrefix", "namePrefix"},
	                 {"nameSuffix", "nameSuffix"}};
	for (size_t i = 0; i < SL_ARRAY_SIZE(overrides); i++) {
		const char *v = sl_node_dig_str(spec, overrides[i].flux, NULL);
		if (v && *v)
			sl_node_map_set(*k, overrides[i].kustomize, sl_node_new_str(v));
	}
	const struct sl_node *patches = sl_node_map_get(spec, "patches");
	for (size_t i = 0; patches && patches->type == SL_NODE_SEQ && i < patches->seq.len; i++)
		sl_node_seq_push(list_field(*k, "patches"), sl_node_copy(patches->seq.items[i]));
	const struct sl_node *components = sl_node_map_get(spec, "components");
	const struct sl_node *ignore_missing = sl_node_map_get(spec, "ignoreMissingComponents");
	for (size_t i = 0; components && components->type == SL_NODE_SEQ && i < components->seq.len;
	     i++) {
		const char *c = sl_node_str(components->seq.items[i]);
		if (!c)
			continue;
		if (c[0] == '/' || ks_looks_remote(c))
			return sl_error_set(err, SL_EINVAL,
			                    "component path '%s' must be local and relative", c);
		_cleanup_free_ char *path = ks_path_join(dir, c);
		struct stat st;
		if (ignore_missing && ignore_missing->type == SL_NODE_BOOL && ignore_missing->b &&
		    stat(path, &st) < 0)
			continue;
		sl_node_seq_push(list_field(*k, "components"), sl_node_new_str(c));
	}
	const struct sl_node *images = sl_node_map_get(spec, "images");
	if (images && images->type == SL_NODE_SEQ)
		merge_images(*k, images);
	/* v1beta2's legacy patch fields. */
	const struct sl_node *psm = sl_node_map_get(spec, "patchesStrategicMerge");
	for (size_t i = 0; psm && psm->type == SL_NODE_SEQ && i < psm->seq.len; i++) {
		struct sl_node *text = NULL;
		int r = json_string(psm->seq.items[i], &text, err);
		if (r < 0)
			return r;
		sl_node_seq_push(list_field(*k, "patchesStrategicMerge"), text);
	}
	const struct sl_node *pj = sl_node_map_get(spec, "patchesJson6902");
	for (size_t i = 0; pj && pj->type == SL_NODE_SEQ && i < pj->seq.len; i++) {
		const struct sl_node *p = pj->seq.items[i];
		struct sl_node *entry = sl_node_new_map();
		sl_node_seq_push(list_field(*k, "patchesJson6902"), entry);
		const struct sl_node *target = sl_node_map_get(p, "target");
		if (target)
			sl_node_map_set(entry, "target", sl_node_copy(target));
		const struct sl_node *ops = sl_node_map_get(p, "patch");
		if (ops) {
			struct sl_node *text = NULL;
			int r = json_string(ops, &text, err);
			if (r < 0)
				return r;
			sl_node_map_set(entry, "patch", text);
		}
	}
	return 0;
}

/* ---- after the build ------------------------------------------------- */

static void set_metadata_pairs(struct sl_node *obj, const char *field, const struct sl_node *pairs)
{
	if (!pairs || pairs->type != SL_NODE_MAP || !pairs->map.len)
		return;
	struct sl_node *meta = sl_node_map_ensure_map(obj, "metadata");
	struct sl_node *dst = meta ? sl_node_map_ensure_map(meta, field) : NULL;
	for (size_t i = 0; dst && i < pairs->map.len; i++)
		sl_node_map_setn(dst, pairs->map.items[i].key, pairs->map.items[i].key_len,
		                 sl_node_copy(pairs->map.items[i].value));
}

/* Adds vars from src, values with their newlines stripped (Flux does),
 * names checked against ^[_[:alpha:]][_[:alpha:][:digit:]]*$. */
static int add_vars(struct sl_node *vars, const struct sl_node *src, struct sl_error *err)
{
	for (size_t i = 0; src && src->type == SL_NODE_MAP && i < src->map.len; i++) {
		const struct sl_node_pair *p = &src->map.items[i];
		bool ok = p->key_len > 0 && !(p->key[0] >= '0' && p->key[0] <= '9');
		for (size_t j = 0; ok && j < p->key_len; j++) {
			char c = p->key[j];
			ok = c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			     (c >= 'A' && c <= 'Z');
		}
		if (!ok)
			return sl_error_set(err, SL_EINVAL,
			                    "'%s' var name is invalid, must match "
			                    "'^[_[:alpha:]][_[:alpha:][:digit:]]*$'",
			                    p->key);
		const char *v = sl_node_str(p->value);
		if (!v)
			return sl_error_set(err, SL_EINVAL,
			                    "postBuild.substitute.%s: the value must be a string",
			                    p->key);
		struct sl_buf b;
		sl_buf_init(&b, 0);
		for (size_t j = 0; j < p->value->str.len; j++)
			if (v[j] != '\n')
				sl_buf_append(&b, &v[j], 1);
		size_t len = b.len;
		sl_node_map_setn(vars, p->key, p->key_len,
		                 sl_node_new_str_take(sl_buf_steal(&b), len));
	}
	return 0;
}

static char *object_id(const struct sl_node *obj)
{
	const char *api = sl_node_dig_str(obj, "apiVersion", NULL);
	const char *kind = sl_node_dig_str(obj, "kind", NULL);
	const char *name = sl_node_dig_str(obj, "metadata", "name", NULL);
	api = api ? api : "";
	const char *slash = strchr(api, '/');
	/* Kind.version.group, as Flux's error message spells it. */
	return slash ? sl_asprintf("%s.%s.%.*s/%s", kind ? kind : "", slash + 1, (int)(slash - api),
	                           api, name ? name : "")
	             : sl_asprintf("%s.%s./%s", kind ? kind : "", api, name ? name : "");
}

int ks_flux_post_build(struct ks_resmap *m, const struct sl_node *flux,
                       const struct sl_node *substitute_from, bool strict, struct sl_error *err)
{
	const struct sl_node *spec = sl_node_map_get(flux, "spec");
	const struct sl_node *common = sl_node_map_get(spec, "commonMetadata");
	for (size_t i = 0; common && i < m->len; i++) {
		set_metadata_pairs(m->items[i]->obj, "labels", sl_node_map_get(common, "labels"));
		set_metadata_pairs(m->items[i]->obj, "annotations",
		                   sl_node_map_get(common, "annotations"));
	}
	const struct sl_node *post = sl_node_map_get(spec, "postBuild");
	if (!post || post->type != SL_NODE_MAP)
		return 0;
	_cleanup_node_ struct sl_node *vars = sl_node_new_map();
	int r = add_vars(vars, substitute_from, err);
	if (r == 0)
		r = add_vars(vars, sl_node_map_get(post, "substitute"), err);
	if (r < 0)
		return r;
	const char *strategy = sl_node_dig_str(post, "substituteStrategy", NULL);
	if (vars->map.len == 0 && !(strategy && strcmp(strategy, "Always") == 0))
		return 0;
	for (size_t i = 0; i < m->len; i++) {
		r = ks_substitute_object(&m->items[i]->obj, vars, strict, err);
		if (r < 0) {
			_cleanup_free_ char *id = object_id(m->items[i]->obj);
			return sl_error_wrap(err, r, "post build failed for '%s'", id);
		}
	}
	return 0;
}
