/* Copying an artifact between endpoints — registry repositories and OCI
 * image layouts, in any direction: every blob the destination lacks
 * (mounted across repositories when both live on one registry, else
 * streamed with its digest verified), then the manifest bytes unchanged,
 * so the digest — and any signature over it — survives the trip. */
#include <string.h>

#include "oci/oci.h"

#define MAX_INDEX_CHILDREN 256

struct copy_ctx {
	const struct sl_endpoint *src, *dst;
	bool same_registry;
	struct sl_copy_stats *stats;
};

static int copy_blob(struct copy_ctx *c, const char *digest, uint64_t size, struct sl_error *err)
{
	bool exists;
	int rc = sl_endpoint_blob_exists(c->dst, digest, &exists, err);
	if (rc < 0)
		return rc;
	if (exists) {
		c->stats->blobs_skipped++;
		return 0;
	}
	if (c->same_registry && strcmp(c->src->repository, c->dst->repository) != 0) {
		bool mounted;
		rc = sl_registry_blob_mount(c->dst->registry, c->dst->repository, digest,
		                            c->src->repository, &mounted, err);
		if (rc < 0)
			return rc;
		if (mounted) {
			c->stats->blobs_mounted++;
			return 0;
		}
	}
	_cleanup_close_ int fd = -1;
	rc = sl_endpoint_blob_open(c->src, digest, size, &fd, err);
	if (rc == 0)
		rc = sl_endpoint_blob_put_fd(c->dst, digest, fd, size, err);
	if (rc == 0) {
		c->stats->blobs_copied++;
		c->stats->bytes += size;
	}
	return rc;
}

static int copy_manifest(struct copy_ctx *c, const char *reference, const char *dst_reference,
                         int depth, char ret_digest[SL_DIGEST_STR_LEN], struct sl_error *err);

static int copy_index_children(struct copy_ctx *c, const struct sl_buf *body, int depth,
                               struct sl_error *err)
{
	json_t *doc = json_loadb(body->data, body->len, 0, NULL);
	json_t *children = json_object_get(doc, "manifests");
	if (!json_is_array(children) || json_array_size(children) > MAX_INDEX_CHILDREN) {
		json_decref(doc);
		return sl_error_set(err, SL_EINVAL, "index has no usable manifests list");
	}
	int rc = 0;
	size_t i;
	json_t *child;
	json_array_foreach (children, i, child) {
		const char *digest = json_string_value(json_object_get(child, "digest"));
		if (!digest || !sl_digest_valid(digest)) {
			rc = sl_error_set(err, SL_EINVAL, "index entry %zu has no valid digest", i);
			break;
		}
		char got[SL_DIGEST_STR_LEN];
		rc = copy_manifest(c, digest, digest, depth + 1, got, err);
		if (rc < 0)
			break;
	}
	json_decref(doc);
	return rc;
}

static int copy_manifest(struct copy_ctx *c, const char *reference, const char *dst_reference,
                         int depth, char ret_digest[SL_DIGEST_STR_LEN], struct sl_error *err)
{
	if (depth > 2)
		return sl_error_set(err, SL_EINVAL, "indexes nested too deeply");
	_cleanup_buf_ struct sl_buf body;
	sl_buf_init(&body, SL_MAX_MANIFEST_BYTES);
	_cleanup_free_ char *content_type = NULL;
	int rc = sl_endpoint_manifest_get(c->src, reference, &body, &content_type, ret_digest, err);
	if (rc < 0)
		return rc;
	struct sl_manifest m = {0};
	rc = sl_manifest_parse(body.data, body.len, content_type, &m, err);
	if (rc == SL_EUNSUPPORTED) {
		sl_error_clear(err);
		rc = copy_index_children(c, &body, depth, err);
	} else if (rc == 0) {
		rc = copy_blob(c, m.config.digest, m.config.size, err);
		for (size_t i = 0; rc == 0 && i < m.n_layers; i++)
			rc = copy_blob(c, m.layers[i].digest, m.layers[i].size, err);
	}
	const char *media_type = content_type && *content_type   ? content_type
	                         : m.media_type && *m.media_type ? m.media_type
	                                                         : SL_MT_OCI_MANIFEST;
	if (rc == 0)
		rc = sl_endpoint_manifest_put(c->dst, dst_reference, media_type, &body, ret_digest,
		                              err);
	sl_manifest_clear(&m);
	if (rc == 0)
		c->stats->manifests++;
	return rc;
}

int sl_artifact_copy(const struct sl_endpoint *src, const char *src_reference,
                     const struct sl_endpoint *dst, const char *dst_tag, bool same_registry,
                     bool with_signatures, struct sl_copy_stats *ret, struct sl_error *err)
{
	*ret = (struct sl_copy_stats){0};
	struct copy_ctx c = {.src = src, .dst = dst, .same_registry = same_registry, .stats = ret};
	int rc = copy_manifest(&c, src_reference, dst_tag ? dst_tag : src_reference, 0, ret->digest,
	                       err);
	if (rc < 0 || !with_signatures)
		return rc;
	/* cosign's tag schema: signatures, attestations and SBOMs next to the
	 * artifact, and cosign 3's referrers-tag index. */
	static const char *const suffixes[] = {".sig", ".att", ".sbom", ""};
	const char *hex = ret->digest + strlen("sha256:");
	for (size_t i = 0; i < SL_ARRAY_SIZE(suffixes); i++) {
		_cleanup_free_ char *tag = sl_asprintf("sha256-%s%s", hex, suffixes[i]);
		char digest[SL_DIGEST_STR_LEN];
		rc = sl_endpoint_manifest_head(src, tag, digest, err);
		bool present = rc == 0;
		if (rc == SL_ENOTFOUND) {
			sl_error_clear(err);
			rc = 0;
		}
		if (rc == 0 && present)
			rc = copy_manifest(&c, tag, tag, 0, digest, err);
		if (rc < 0)
			return sl_error_wrap(err, rc, "copying %s", tag);
		ret->signatures += present;
	}
	return 0;
}
