/* The fieldSpec walk of kustomize's api/filters/fieldspec, and resource
 * ids as kustomize prints them. */
#include <string.h>

#include "kustomize/fieldspec.h"

void ks_gvk_of(const struct sl_node *obj, struct ks_gvk *ret)
{
	const char *api = sl_node_dig_str(obj, "apiVersion", NULL);
	const char *kind = sl_node_dig_str(obj, "kind", NULL);
	if (!api)
		api = "";
	const char *slash = strchr(api, '/');
	*ret = (struct ks_gvk){
	    .group = slash ? api : "",
	    .group_len = slash ? (size_t)(slash - api) : 0,
	    .version = slash ? slash + 1 : api,
	    .kind = kind ? kind : "",
	};
}

bool ks_gvk_selected(const struct ks_gvk *gvk, const char *group, const char *version,
                     const char *kind)
{
	if (group && *group &&
	    (strlen(group) != gvk->group_len || memcmp(group, gvk->group, gvk->group_len) != 0))
		return false;
	if (version && *version && strcmp(version, gvk->version) != 0)
		return false;
	if (kind && *kind && strcmp(kind, gvk->kind) != 0)
		return false;
	return true;
}

bool ks_gvk_equal(const struct ks_gvk *a, const struct ks_gvk *b)
{
	return a->group_len == b->group_len && memcmp(a->group, b->group, a->group_len) == 0 &&
	       strcmp(a->version, b->version) == 0 && strcmp(a->kind, b->kind) == 0;
}

bool ks_fieldspec_applies(const struct ks_fieldspec *fs, const struct sl_node *obj)
{
	struct ks_gvk gvk;
	ks_gvk_of(obj, &gvk);
	return ks_gvk_selected(&gvk, fs->group, fs->version, fs->kind);
}

/* kustomize's splitPath: "/" separates keys unless escaped as "\/". */
static void split_path(const char *path, struct sl_strv *ret)
{
	struct sl_buf seg;
	sl_buf_init(&seg, 0);
	for (const char *p = path;; p++) {
		if (*p == '\\' && p[1] == '/') {
			sl_buf_append(&seg, "/", 1);
			p++;
		} else if (*p == '/' || *p == '\0') {
			sl_strv_push(ret, seg.data ? seg.data : "");
			sl_buf_reset(&seg);
			if (*p == '\0')
				break;
		} else {
			sl_buf_append(&seg, p, 1);
		}
	}
	sl_buf_free(&seg);
}

struct walk {
	const struct ks_fieldspec *fs;
	struct sl_strv segs;
	enum ks_create_kind kind;
	ks_fieldspec_fn fn;
	void *ctx;
};

static int walk_node(struct walk *w, struct sl_node *node, size_t i, struct sl_error *err);

static struct sl_node *new_created(struct walk *w, size_t i)
{
	if (i + 1 < w->segs.len || w->kind == KS_CREATE_MAP)
		return sl_node_new_map();
	return sl_node_new_str("");
}

/* The key segs[i] of a map: found, created, or (missing) nothing to do. */
static int walk_field(struct walk *w, struct sl_node *map, size_t i, struct sl_error *err)
{
	const char *seg = w->segs.items[i];
	size_t len = strlen(seg);
	bool is_seq = len >= 2 && strcmp(seg + len - 2, "[]") == 0;
	if (is_seq)
		len -= 2;
	bool create = w->fs->create && w->kind != KS_CREATE_NONE && !is_seq;
	struct sl_node *child = sl_node_map_getn(map, seg, len);
	if (!child) {
		if (!create)
			return 0;
		child = sl_node_map_setn(map, seg, len, new_created(w, i));
	} else if (child->type == SL_NODE_NULL) {
		/* kustomize turns a null into what it would have created (an
		 * empty list for a "[]" key); a null it may not create is
		 * nothing to change. */
		if (is_seq) {
			sl_node_replace(child, sl_node_new_seq());
			return 0;
		}
		if (!create)
			return 0;
		sl_node_replace(child, new_created(w, i));
	}
	return walk_node(w, child, i + 1, err);
}

static int walk_node(struct walk *w, struct sl_node *node, size_t i, struct sl_error *err)
{
	if (i == w->segs.len)
		return w->fn(node, w->ctx, err);
	switch (node->type) {
	case SL_NODE_SEQ:
		/* The rest of the path applies to every element. */
		for (size_t k = 0; k < node->seq.len; k++) {
			int r = walk_node(w, node->seq.items[k], i, err);
			if (r < 0)
				return r;
		}
		return 0;
	case SL_NODE_MAP: return walk_field(w, node, i, err);
	default:
		return sl_error_set(err, SL_EINVAL,
		                    "at path '%s': expected sequence or mapping node, found %s",
		                    w->fs->path, sl_node_type_name(node->type));
	}
}

int ks_fieldspec_walk(struct sl_node *obj, const struct ks_fieldspec *fs, enum ks_create_kind kind,
                      ks_fieldspec_fn fn, void *ctx, struct sl_error *err)
{
	struct walk w = {.fs = fs, .kind = kind, .fn = fn, .ctx = ctx};
	split_path(fs->path, &w.segs);
	int r = walk_node(&w, obj, 0, err);
	sl_strv_free(&w.segs);
	return r;
}

char *ks_resid_string(const struct sl_node *obj)
{
	struct ks_gvk gvk;
	ks_gvk_of(obj, &gvk);
	const char *name = sl_node_dig_str(obj, "metadata", "name", NULL);
	const char *ns = sl_node_dig_str(obj, "metadata", "namespace", NULL);
	return sl_asprintf("%s.%s.%.*s/%s.%s", *gvk.kind ? gvk.kind : "[noKind]",
	                   *gvk.version ? gvk.version : "[noVer]",
	                   gvk.group_len ? (int)gvk.group_len : 7,
	                   gvk.group_len ? gvk.group : "[noGrp]", name && *name ? name : "[noName]",
	                   ns && *ns ? ns : "[noNs]");
}
