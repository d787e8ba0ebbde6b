/* controller/apply — the pure parts of kustomize-controller's apply, prune
 * and wait (../shared/spec/kustomize-controller.md §1, §3–§5): object
 * references and inventory ids, apply stages and order, change-set lines,
 * Flux's normalisation before apply, and kstatus's health rules. No I/O:
 * the Kustomization reconciler (kustomization.c) does the API calls.
 *
 *   inventory.c  object references, inventory ids, stale-object diffing
 *   order.c      stages, apply order, normalisation, change-set text
 *   kstatus.c    kstatus Compute for the kinds Flux waits on */
#ifndef SLUICE_CONTROLLER_APPLY_H
#define SLUICE_CONTROLLER_APPLY_H

#include <jansson.h>

#include "base/base.h"

/* ---- object references and inventory (inventory.c) ------------------- */

/* What identifies an object in an inventory (version aside). Strings are
 * owned; namespace_ is "" for cluster-scoped objects, group "" for the
 * core group. */
struct sl_object_ref {
	char *namespace_;
	char *name;
	char *group;
	char *kind;
	char *version; /* the apiVersion's version part: "v1" */
};
void sl_object_ref_clear(struct sl_object_ref *ref);

/* From an object's apiVersion, kind, metadata.name and metadata.namespace.
 * SL_EINVAL naming what is missing. */
int sl_object_ref_from_json(const json_t *obj, struct sl_object_ref *ret, struct sl_error *err);

/* cli-utils' ObjMetadata string: "<namespace>_<name>_<group>_<kind>", with
 * ':' in names of RBAC kinds (Role, ClusterRole, RoleBinding,
 * ClusterRoleBinding in rbac.authorization.k8s.io) written as "__". */
char *sl_inventory_id(const struct sl_object_ref *ref);
/* The inverse (version left NULL): the first '_' ends the namespace, the
 * last starts the kind, the next-to-last starts the group; "__" in the
 * name becomes ':'. SL_EINVAL for a malformed id. */
int sl_inventory_id_parse(const char *id, struct sl_object_ref *ret, struct sl_error *err);

/* An inventory: status.inventory.entries as Flux writes them,
 * [{"id": ..., "v": version}] in change-set order. */
json_t *sl_inventory_new(void);
void sl_inventory_add(json_t *inventory, const struct sl_object_ref *ref);
/* The entries of old whose id (namespace, name, group, kind; version
 * ignored) is not in new, as object references carrying the old entry's
 * version, in reverse apply order (the order prune deletes in). *ret is an
 * owned array of *ret_n references. Malformed old entries are skipped. */
int sl_inventory_stale(const json_t *old_inventory, const json_t *new_inventory,
                       struct sl_object_ref **ret, size_t *ret_n, struct sl_error *err);
/* The union of a and b by id (a's entries first): what a write-ahead
 * inventory records before applying. Returns a new object. */
json_t *sl_inventory_union(const json_t *a, const json_t *b);

/* ---- stages, order, normalisation, change sets (order.c) -------------- */

enum sl_apply_stage {
	SL_STAGE_DEFINITIONS, /* CRDs (apiextensions.k8s.io), Namespaces (v1), ClusterRoles */
	SL_STAGE_CLASSES,     /* any kind whose name ends in "Class" */
	SL_STAGE_REST,
};
enum sl_apply_stage sl_apply_stage_of(const char *group, const char *kind);

/* pkg/ssa's ReconcileOrder: the kinds Flux applies first (CRD, Namespace,
 * ClusterRole, ... PodDisruptionBudget), then the rest, webhook
 * configurations last; ties by group, kind, namespace, name. A qsort
 * comparator over struct sl_object_ref. */
int sl_apply_order_cmp(const struct sl_object_ref *a, const struct sl_object_ref *b);

/* Flux's normalisation before apply, in place: protocol TCP defaulted on
 * container ports (Pod templates of the workload kinds, Pods) and Service
 * ports; a Secret's stringData merged into data (base64); status removed
 * except on CRDs. */
void sl_apply_normalize(json_t *obj);

enum sl_change_action {
	SL_CHANGE_CREATED,
	SL_CHANGE_CONFIGURED,
	SL_CHANGE_UNCHANGED,
	SL_CHANGE_DELETED,
	SL_CHANGE_SKIPPED,
	SL_CHANGE_UNKNOWN,
};
/* "created", "configured", ... */
const char *sl_change_action_name(enum sl_change_action action);
/* "<Kind>/<namespace>/<name>", or "<Kind>/<name>" for cluster-scoped. */
char *sl_change_subject(const struct sl_object_ref *ref);

/* The owner annotations and labels (prefix kustomize.toolkit.fluxcd.io/),
 * compared case-insensitively as Flux does. */
#define SL_KS_LABEL_NAME      "kustomize.toolkit.fluxcd.io/name"
#define SL_KS_LABEL_NAMESPACE "kustomize.toolkit.fluxcd.io/namespace"
#define SL_KS_ANN_PRUNE       "kustomize.toolkit.fluxcd.io/prune"
#define SL_KS_ANN_RECONCILE   "kustomize.toolkit.fluxcd.io/reconcile"
#define SL_KS_ANN_SSA         "kustomize.toolkit.fluxcd.io/ssa"
#define SL_KS_ANN_FORCE       "kustomize.toolkit.fluxcd.io/force"
/* The value of key in obj's labels, else its annotations; NULL if absent. */
const char *sl_object_label_or_annotation(const json_t *obj, const char *key);
/* Whether that value equals value, ignoring ASCII case. */
bool sl_object_marked(const json_t *obj, const char *key, const char *value);

/* ---- kstatus (kstatus.c) ---------------------------------------------- */

enum sl_kstatus {
	SL_KSTATUS_IN_PROGRESS,
	SL_KSTATUS_FAILED,
	SL_KSTATUS_CURRENT,
	SL_KSTATUS_TERMINATING,
	SL_KSTATUS_NOT_FOUND,
	SL_KSTATUS_UNKNOWN,
};
/* "InProgress", "Failed", "Current", "Terminating", "NotFound", "Unknown" */
const char *sl_kstatus_name(enum sl_kstatus status);

/* kstatus Compute with Flux's Job reader (spec §5): the generic checks
 * (deletionTimestamp, observedGeneration, Reconciling/Stalled conditions),
 * then Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, Pod, Service,
 * PersistentVolumeClaim, CustomResourceDefinition, the always-Current kinds,
 * and the Ready-condition rule for everything else. *ret_message (may be
 * NULL) gets kstatus's message, e.g. "Replicas: 1/2"; caller frees. */
enum sl_kstatus sl_kstatus_compute(const json_t *obj, char **ret_message);

#endif
