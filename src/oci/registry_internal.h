/* Requests for other oci/ files (tag listing, catalog) that need the
 * client's auth and retries but no dedicated call yet. */
#ifndef SLUICE_OCI_REGISTRY_INTERNAL_H
#define SLUICE_OCI_REGISTRY_INTERNAL_H

#include "oci/oci.h"

struct sl_registry_response {
	long status;
	char *content_type;
	char *docker_digest;
};

/* path is "/v2/..." or an absolute URL; a 404 is returned as status. */
int sl_registry_request(struct sl_registry *r, const char *method, const char *path,
                        const char *repo, bool push, const char *accept, struct sl_buf *out,
                        struct sl_registry_response *ret, struct sl_error *err);

#endif
