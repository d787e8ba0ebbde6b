/* An endpoint is where artifacts live: a repository in a registry or an
 * OCI image layout on disk. Commands speak to either through these calls,
 * so every one of them works with or without a registry. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "oci/oci.h"

int sl_endpoint_manifest_get(const struct sl_endpoint *ep, const char *reference,
                             struct sl_buf *body, char **content_type,
                             char digest[SL_DIGEST_STR_LEN], struct sl_error *err)
{
	if (ep->layout)
		return sl_layout_manifest_get(ep->layout, reference, body, content_type, digest,
		                              err);
	return sl_registry_manifest_get(ep->registry, ep->repository, reference, body, content_type,
	                                digest, err);
}

int sl_endpoint_blob_exists(const struct sl_endpoint *ep, const char *digest, bool *ret,
                            struct sl_error *err)
{
	if (ep->layout) {
		*ret = sl_layout_blob_exists(ep->layout, digest);
		return 0;
	}
	return sl_registry_blob_exists(ep->registry, ep->repository, digest, ret, err);
}

int sl_endpoint_blob_open(const struct sl_endpoint *ep, const char *digest, uint64_t size,
                          int *ret_fd, struct sl_error *err)
{
	if (ep->layout) {
		int rc = sl_layout_blob_verify(ep->layout, digest, size, err);
		uint64_t got;
		if (rc == 0)
			rc = sl_layout_blob_open(ep->layout, digest, ret_fd, &got, err);
		return rc;
	}
	int fd = sl_tmpfile(err);
	if (fd < 0)
		return fd;
	int rc = sl_registry_blob_fetch(ep->registry, ep->repository, digest, size, fd, err);
	if (rc == 0 && lseek(fd, 0, SEEK_SET) < 0)
		rc = sl_error_errno(err, errno, SL_EIO, "rewinding blob %s", digest);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*ret_fd = fd;
	return 0;
}

int sl_endpoint_blob_put_fd(const struct sl_endpoint *ep, const char *digest, int fd, uint64_t size,
                            struct sl_error *err)
{
	if (ep->layout)
		return sl_layout_blob_put_fd(ep->layout, digest, fd, size, err);
	return sl_registry_blob_upload_fd(ep->registry, ep->repository, digest, fd, size, err);
}

int sl_endpoint_manifest_put(const struct sl_endpoint *ep, const char *reference,
                             const char *media_type, const struct sl_buf *body, const char *digest,
                             struct sl_error *err)
{
	if (!ep->layout)
		return sl_registry_manifest_put(ep->registry, ep->repository, reference, media_type,
		                                body->data, body->len, err);
	int rc = sl_layout_blob_put_bytes(ep->layout, digest, body->data, body->len, err);
	if (rc == 0 && !sl_digest_valid(reference))
		rc = sl_layout_tag(ep->layout, reference, digest, media_type, body->len, err);
	return rc;
}

int sl_endpoint_blob_put_bytes(const struct sl_endpoint *ep, const char *digest, const void *data,
                               size_t len, struct sl_error *err)
{
	if (ep->layout)
		return sl_layout_blob_put_bytes(ep->layout, digest, data, len, err);
	return sl_registry_blob_upload_bytes(ep->registry, ep->repository, digest, data, len, err);
}

int sl_endpoint_manifest_head(const struct sl_endpoint *ep, const char *reference,
                              char ret_digest[SL_DIGEST_STR_LEN], struct sl_error *err)
{
	if (!ep->layout)
		return sl_registry_manifest_head(ep->registry, ep->repository, reference,
		                                 ret_digest, err);
	struct sl_layout_descriptor d;
	int rc = sl_layout_resolve(ep->layout, reference, &d, err);
	if (rc == 0)
		snprintf(ret_digest, SL_DIGEST_STR_LEN, "%s", d.digest);
	return rc;
}

int sl_endpoint_list_tags(const struct sl_endpoint *ep, struct sl_strv *ret, struct sl_error *err)
{
	if (ep->layout)
		return sl_layout_list_tags(ep->layout, ret, err);
	return sl_registry_list_tags(ep->registry, ep->repository, ret, err);
}
