/* controller/kustomization — the Kustomization reconciler, kustomize-
 * controller's (../shared/spec/kustomize-controller.md §2–§6) for sources
 * of kind OCIRepository stored by the same process: dependencies, the
 * artifact from local storage (digest verified), the kustomize engine with
 * Flux's overlays and post-build substitution, server-side apply in Flux's
 * stages with a dry run first (created / configured / unchanged), a
 * write-ahead inventory, prune, health checks with kstatus rules, Flux's
 * conditions, status fields and events.
 *
 * Like the OCIRepository reconciler it reads objects from informers and
 * writes through the per-worker Kubernetes client; nothing is kept between
 * calls. */
#ifndef SLUICE_CONTROLLER_KUSTOMIZATION_H
#define SLUICE_CONTROLLER_KUSTOMIZATION_H

#include <stdatomic.h>

#include "controller/apply.h"
#include "controller/controller.h"
#include "controller/metrics.h"
#include "controller/storage.h"
#include "kube/kube.h"

#define SL_KS_KIND              "Kustomization"
#define SL_KS_API               "kustomize.toolkit.fluxcd.io/v1"
#define SL_KUSTOMIZE_CONTROLLER "kustomize-controller"
#define SL_KS_STATUS_MANAGER    "gotk-kustomize-controller"
/* A Kustomization's build and health checks need more than the OCIRepository
 * workers' small stacks: the kustomize engine recurses over documents. */
#define SL_KS_WORKER_STACK (8u << 20)

/* The Kustomization resource (v1, namespaced). */
extern const struct sl_kube_resource sl_kube_res_kustomizations;

struct sl_ks_reconciler {
	struct sl_kube_informer *informer; /* of Kustomizations */
	struct sl_kube_informer *sources;  /* of OCIRepositories */
	struct sl_storage *storage;        /* where the sources' artifacts are */
	struct sl_kube_recorder *recorder;
	const struct sl_gotk_metrics *gotk; /* may be NULL */
	struct sl_clock *clock;
	int jitter_percent;
	int64_t requeue_dependency_ms; /* --requeue-dependency: 30 s */
	int64_t health_poll_ms;        /* between health checks: 0 means 2 s */
	uint64_t max_artifact_bytes;   /* what an artifact may extract to; 0: no cap */
	/* Set when the controller stops: waits (health, stages, deletions)
	 * end early. May be NULL. */
	const atomic_bool *stop;
};

/* The worker_ctx of a pool running sl_ks_reconcile. */
struct sl_ks_worker {
	struct sl_ks_reconciler *rc;
	struct sl_kube *kube; /* field manager kustomize-controller */
	/* Made on first use: the same, impersonating a Kustomization's
	 * spec.serviceAccountName. Freed by the pool's worker_fini. */
	struct sl_kube *kube_as;
};

/* One reconcile of the Kustomization named key ("namespace/name"). */
int sl_ks_reconcile(void *worker_ctx, const char *key, struct sl_reconcile_result *out,
                    struct sl_error *err);

/* Builds dir as the reconciler builds a Kustomization's path: ks's overlays
 * (a Flux Kustomization, v1 or v1beta2) and post-build substitution, with
 * substituteFrom's ConfigMaps and Secrets read through k in ks's namespace,
 * strict; with root (an artifact's directory) set, nothing outside root
 * is read. *ret_objects: a JSON array in kustomize's order, without
 * kustomize.config.k8s.io objects, with ks's owner labels, normalised as
 * Flux does before applying. Also for `sluice diff kustomization`. */
int sl_ks_build_dir(struct sl_kube *k, const json_t *ks, const char *root, const char *dir,
                    json_t **ret_objects, struct sl_error *err);

/* What applying one object would do, found without changing anything: the
 * live object, the server-side dry run of the apply (field manager
 * kustomize-controller, forced), and the verdict — skipped (opted out),
 * created, configured (drifted) or unchanged. */
struct sl_ks_dry_run {
	enum sl_change_action action;
	json_t *live; /* NULL when it does not exist */
	json_t *dry;  /* NULL when skipped or failed */
	struct sl_kube_resource res;
	bool immutable; /* failed on an immutable field of a live object */
};
/* Errors carry Flux's "<Kind>/<ns>/<name> dry-run failed (<Reason>): ..."
 * and still fill *ret (live, immutable); clear it in every case. */
int sl_ks_dry_run(struct sl_kube *k, const json_t *desired, struct sl_ks_dry_run *ret,
                  struct sl_error *err);
void sl_ks_dry_run_clear(struct sl_ks_dry_run *d);

/* The keys ("ns/name") of the cached Kustomizations whose sourceRef names
 * the OCIRepository ns/name: what a new artifact revision re-queues. */
void sl_ks_keys_for_source(struct sl_kube_informer *kustomizations, const char *ns,
                           const char *name, struct sl_strv *ret);

/* Whether the cached Kustomization key is Ready or Reconciling with
 * lastAttemptedRevision == revision: Flux does not queue it again for a
 * source change it is already working on or done with. */
bool sl_ks_at_revision(struct sl_kube_informer *kustomizations, const char *key,
                       const char *revision);

/* Whether an OCIRepository update is one Kustomizations react to: an
 * artifact appeared or its revision changed (Flux's
 * SourceRevisionChangePredicate). */
bool sl_ks_source_revision_changed(const json_t *old_source, const json_t *new_source);

#endif
