/* The images and replicas transformers. */
#include <string.h>

#include "kustomize/kbuild.h"

/* Splits an image reference into name, tag and digest the way kustomize's
 * image.Split does: the digest follows '@', the tag the last ':' that has
 * no '/' after it. Lengths into the original string. */
struct image_parts {
	size_t name_len;
	const char *tag;
	size_t tag_len;
	const char *digest;
};

static void image_split(const char *image, struct image_parts *p)
{
	const char *at = strchr(image, '@');
	size_t end = at ? (size_t)(at - image) : strlen(image);
	p->digest = at ? at + 1 : NULL;
	p->tag = NULL;
	p->tag_len = 0;
	p->name_len = end;
	for (size_t i = end; i-- > 0;) {
		if (image[i] == '/')
			break;
		if (image[i] == ':') {
			p->name_len = i;
			p->tag = image + i + 1;
			p->tag_len = end - i - 1;
			break;
		}
	}
}

static void update_image(struct sl_node *container, const struct sl_node *spec)
{
	struct sl_node *image = sl_node_map_get(container, "image");
	const char *value = sl_node_str(image);
	const char *want = sl_node_dig_str(spec, "name", NULL);
	if (!value || !want)
		return;
	struct image_parts p;
	image_split(value, &p);
	if (strlen(want) != p.name_len || memcmp(value, want, p.name_len) != 0)
		return;
	const char *new_name = sl_node_dig_str(spec, "newName", NULL);
	const char *new_tag = sl_node_dig_str(spec, "newTag", NULL);
	const char *digest = sl_node_dig_str(spec, "digest", NULL);
	struct sl_buf out;
	sl_buf_init(&out, 0);
	if (new_name && *new_name)
		sl_buf_printf(&out, "%s", new_name);
	else
		sl_buf_append(&out, value, p.name_len);
	/* A new tag or digest replaces both the old tag and the old digest. */
	bool new_tag_set = new_tag && *new_tag, digest_set = digest && *digest;
	if (new_tag_set || digest_set) {
		if (new_tag_set)
			sl_buf_printf(&out, ":%s", new_tag);
		if (digest_set)
			sl_buf_printf(&out, "@%s", digest);
	} else {
		if (p.tag)
			sl_buf_printf(&out, ":%.*s", (int)p.tag_len, p.tag);
		if (p.digest)
			sl_buf_printf(&out, "@%s", p.digest);
	}
	size_t len = out.len;
	sl_node_map_set(container, "image", sl_node_new_str_take(sl_buf_steal(&out), len));
}

/* kustomize updates the image of every entry of any `containers` or
 * `initContainers` list, at any depth, in any kind. It runs one pass per
 * images entry; applying the entries in order to each container in one
 * walk gives the same result. */
static void walk_images(struct sl_node *n, const struct sl_node *images)
{
	if (n->type == SL_NODE_SEQ) {
		for (size_t i = 0; i < n->seq.len; i++)
			walk_images(n->seq.items[i], images);
		return;
	}
	if (n->type != SL_NODE_MAP)
		return;
	for (size_t i = 0; i < n->map.len; i++) {
		struct sl_node_pair *p = &n->map.items[i];
		if ((strcmp(p->key, "containers") == 0 || strcmp(p->key, "initContainers") == 0) &&
		    p->value->type == SL_NODE_SEQ) {
			for (size_t j = 0; j < p->value->seq.len; j++)
				for (size_t k = 0; k < images->seq.len; k++)
					if (p->value->seq.items[j]->type == SL_NODE_MAP)
						update_image(p->value->seq.items[j],
						             images->seq.items[k]);
		}
		walk_images(p->value, images);
	}
}

int ks_apply_images(struct ks_resmap *m, const struct sl_node *images, struct sl_error *err)
{
	for (size_t i = 0; i < images->seq.len; i++)
		if (!sl_node_dig_str(images->seq.items[i], "name", NULL))
			return sl_error_set(err, SL_EINVAL, "images[%zu]: name is required", i);
	for (size_t j = 0; j < m->len; j++)
		walk_images(m->items[j]->obj, images);
	return 0;
}

static const char *const replica_kinds[] = {"Deployment", "StatefulSet", "ReplicaSet",
                                            "ReplicationController"};

int ks_apply_replicas(struct ks_resmap *m, const struct sl_node *replicas, struct sl_error *err)
{
	for (size_t i = 0; i < replicas->seq.len; i++) {
		const struct sl_node *spec = replicas->seq.items[i];
		const char *name = sl_node_dig_str(spec, "name", NULL);
		const struct sl_node *count = sl_node_map_get(spec, "count");
		if (!name)
			return sl_error_set(err, SL_EINVAL, "replicas[%zu]: name is required", i);
		bool found = false;
		for (size_t j = 0; j < m->len; j++) {
			struct ks_resource *r = m->items[j];
			const char *kind = sl_node_dig_str(r->obj, "kind", NULL);
			bool kind_ok = false;
			for (size_t k = 0; kind && k < SL_ARRAY_SIZE(replica_kinds); k++)
				kind_ok |= strcmp(kind, replica_kinds[k]) == 0;
			if (!kind_ok || !ks_resource_had_name(r, name, NULL, false))
				continue;
			found = true;
			struct sl_node *s = sl_node_map_ensure_map(r->obj, "spec");
			if (!s)
				return sl_error_set(err, SL_EINVAL, "%s %s: spec is not a map",
				                    kind, name);
			sl_node_map_set(s, "replicas",
			                count ? sl_node_copy(count) : sl_node_new_int(0));
		}
		if (!found)
			return sl_error_set(
			    err, SL_EINVAL,
			    "resource with name %s does not match a config with the "
			    "following GVK [Deployment.[noVer].[noGrp] "
			    "StatefulSet.[noVer].[noGrp] ReplicaSet.[noVer].[noGrp] "
			    "ReplicationController.[noVer].[noGrp]]",
			    name);
	}
	return 0;
}
