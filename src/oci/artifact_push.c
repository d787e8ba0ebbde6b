#include <string.h>

#include "oci/oci.h"

int sl_artifact_push(const struct sl_endpoint *ep, const char *tag, int layer_fd,
                     uint64_t layer_size, const char *layer_digest,
                     const struct sl_annotation *annotations, size_t n_annotations,
                     struct sl_push_result *ret, struct sl_error *err)
{
	char config_digest[SL_DIGEST_STR_LEN];
	size_t config_len = strlen(SL_FLUX_CONFIG_BLOB);
	sl_sha256_digest(SL_FLUX_CONFIG_BLOB, config_len, config_digest);

	struct sl_descriptor config = {
	    .media_type = SL_MT_FLUX_CONFIG, .digest = config_digest, .size = config_len};
	struct sl_descriptor layer = {
	    .media_type = SL_MT_FLUX_CONTENT, .digest = (char *)layer_digest, .size = layer_size};
	_cleanup_buf_ struct sl_buf manifest;
	sl_buf_init(&manifest, SL_MAX_MANIFEST_BYTES);
	if (sl_manifest_build(&config, &layer, annotations, n_annotations, &manifest) < 0)
		return sl_error_set(err, SL_ELIMIT, "manifest larger than %d bytes",
		                    SL_MAX_MANIFEST_BYTES);
	char manifest_digest[SL_DIGEST_STR_LEN];
	sl_sha256_digest(manifest.data, manifest.len, manifest_digest);
	*ret = (struct sl_push_result){0};
	snprintf(ret->digest, sizeof(ret->digest), "%s", manifest_digest);

	/* The cheapest question first: the tag may already hold these bytes. */
	char existing[SL_DIGEST_STR_LEN];
	int rc = sl_endpoint_manifest_head(ep, tag, existing, err);
	if (rc == 0 && strcmp(existing, manifest_digest) == 0) {
		ret->skipped = true;
		return 0;
	}
	if (rc < 0 && rc != SL_ENOTFOUND)
		return rc;
	sl_error_clear(err);

	bool exists;
	rc = sl_endpoint_blob_exists(ep, config_digest, &exists, err);
	if (rc == 0 && !exists)
		rc = sl_endpoint_blob_put_bytes(ep, config_digest, SL_FLUX_CONFIG_BLOB, config_len,
		                                err);
	if (rc < 0)
		return sl_error_wrap(err, rc, "uploading config");
	rc = sl_endpoint_blob_exists(ep, layer_digest, &exists, err);
	if (rc == 0 && !exists)
		rc = sl_endpoint_blob_put_fd(ep, layer_digest, layer_fd, layer_size, err);
	if (rc < 0)
		return sl_error_wrap(err, rc, "uploading layer");
	rc = sl_endpoint_manifest_put(ep, tag, SL_MT_OCI_MANIFEST, &manifest, manifest_digest, err);
	if (rc < 0)
		return sl_error_wrap(err, rc, "uploading manifest");
	return 0;
}
