/* controller/ocirepository — the OCIRepository reconciler, source-
 * controller's (../shared/spec/source-controller.md §2–§4): finalizer,
 * suspend, storage checks and garbage collection, the reference resolved
 * with one manifest HEAD, no download when revision and content
 * configuration are unchanged, the layer stored (re-archived or copied),
 * status.artifact and status.url, Flux's conditions and events, one status
 * patch per reconcile (none when nothing changed).
 *
 * The reconciler reads objects from an informer's cache and writes through
 * the per-worker Kubernetes client; it keeps no state between calls but the
 * artifact storage. Shared parts are read-only after set-up. */
#ifndef SLUICE_CONTROLLER_OCIREPOSITORY_H
#define SLUICE_CONTROLLER_OCIREPOSITORY_H

#include "controller/controller.h"
#include "controller/metrics.h"
#include "controller/storage.h"
#include "kube/kube.h"

#define SL_OCIREPO_KIND      "OCIRepository"
#define SL_OCIREPO_API       "source.toolkit.fluxcd.io/v1"
#define SL_FLUX_FINALIZER    "finalizers.fluxcd.io"
#define SL_SOURCE_CONTROLLER "source-controller"

/* The OCIRepository resource (v1, namespaced). */
extern const struct sl_kube_resource sl_kube_res_ocirepositories;

struct sl_ocirepo_reconciler {
	struct sl_storage *storage;
	struct sl_kube_informer *informer; /* of OCIRepositories */
	struct sl_kube_recorder *recorder;
	const struct sl_gotk_metrics *gotk; /* may be NULL */
	struct sl_clock *clock;
	int jitter_percent;
	/* Caps on a layer's compressed size and on what it extracts to (0:
	 * none). Flux has none: a decompression bomb would fill its disk. */
	uint64_t max_layer_bytes;
};

struct sl_ocirepo_registry_cache;

/* The worker_ctx of a pool running sl_ocirepo_reconcile. */
struct sl_ocirepo_worker {
	struct sl_ocirepo_reconciler *rc;
	struct sl_kube *kube;
	/* The last registry client, kept while the next reconcile wants the
	 * same registry with the same credentials: its connection, scheme and
	 * token carry over (no /v2/ ping, no token request). */
	struct sl_ocirepo_registry_cache *registry;
};

/* Releases what a worker keeps between reconciles (not the kube client). */
void sl_ocirepo_worker_clear(struct sl_ocirepo_worker *w);

/* One reconcile of the object named key ("namespace/name"). */
int sl_ocirepo_reconcile(void *worker_ctx, const char *key, struct sl_reconcile_result *out,
                         struct sl_error *err);

#endif
