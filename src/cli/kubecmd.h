/* cli/kubecmd — what the commands that talk to a cluster share (kubecmd.c):
 * the client built from --kubeconfig/--context, the --timeout deadline and
 * polling, Flux's "◎"/"✚" lines and confirmation prompt, server-side apply
 * reported as kubectl and Flux report it, and the reads and waits of Flux
 * objects (OCIRepositories, Kustomizations) behind get, create, reconcile,
 * suspend, resume and delete. The install manifests as objects come from
 * install.c; reconcile, suspend and resume themselves from reconcile.c.
 *
 * Like every cli/ helper, these run on the main thread only. */
#ifndef SLUICE_CLI_KUBECMD_H
#define SLUICE_CLI_KUBECMD_H

#include <jansson.h>

#include "cli/cli.h"
#include "cli/fluxout.h"
#include "kube/kube.h"

/* The field manager of every write the CLI makes. */
#define CLI_FIELD_MANAGER "sluice"
/* Flux's reconcile.fluxcd.io/requestedAt (meta.ReconcileRequestAnnotation). */
#define CLI_RECONCILE_ANNOTATION "reconcile.fluxcd.io/requestedAt"
/* How often waits look at the object again. */
#define CLI_POLL_INTERVAL_MS 500

/* -n must be a DNS-1123 label, as Flux's root command checks. */
int cli_check_namespace(struct sl_error *err);
/* A client for --kubeconfig/--context (else $KUBECONFIG, ~/.kube/config,
 * the in-cluster service account), writing as CLI_FIELD_MANAGER. */
int cli_kube_open(struct sl_kube **ret, struct sl_error *err);

/* sl_now_ms() + --timeout; INT64_MAX when --timeout is 0 (no timeout). */
int64_t cli_deadline(void);
/* Sleeps one poll interval (less when the deadline is nearer); false once
 * the deadline has passed. */
bool cli_poll_sleep(int64_t deadline);
/* --timeout as Go prints it ("5m0s"). */
const char *cli_timeout_text(void);

/* Flux's Waitingf ("◎ ...") and Generatef ("✚ ...") lines on stderr. */
void cli_log_waiting(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_log_generate(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Asks "question [y/N]" on stderr and reads the answer from stdin. 0 on
 * y/yes; SL_EINVAL "aborting" otherwise; SL_EINVAL naming the flag that
 * skips the question (silent_flag, e.g. "--silent") when stdin is not a
 * terminal, since nobody could answer. */
int cli_confirm(const char *question, const char *silent_flag, struct sl_error *err);

/* "Kind/namespace/name", or "Kind/name" for a cluster-scoped object, as
 * Flux's change sets name objects. Caller frees. */
char *cli_object_subject(const json_t *obj);

/* Server-side apply (forced, CLI_FIELD_MANAGER) of obj, whose resource is
 * discovered from its apiVersion and kind. *ret_action (may be NULL) says
 * what happened as Flux's change set does: "created", "configured" or
 * "unchanged". ret_obj (may be NULL) gets the stored object. */
int cli_apply(struct sl_kube *k, const json_t *obj, const char **ret_action, json_t **ret_obj,
              struct sl_error *err);

/* A Flux kind the cluster commands read, write and wait on. */
struct cli_flux_kind {
	const struct sl_kube_resource *res;
	const char *kind;  /* "Kustomization" */
	const char *api;   /* its apiVersion: "kustomize.toolkit.fluxcd.io/v1" */
	const char *human; /* Flux's name in suspend/resume lines: "kustomization" */
};
extern const struct cli_flux_kind cli_kind_ocirepository;
extern const struct cli_flux_kind cli_kind_kustomization;
/* The Kustomization resource (kustomize.toolkit.fluxcd.io/v1, namespaced). */
extern const struct sl_kube_resource cli_res_kustomizations;

/* The object ns/name of kind fk. A 404 says which of the object and its
 * API is missing: client-go's `kustomizations.kustomize.toolkit.fluxcd.io
 * "x" not found`, or that the cluster does not serve the kind. */
int cli_flux_get(struct sl_kube *k, const struct cli_flux_kind *fk, const char *ns,
                 const char *name, json_t **ret_obj, struct sl_error *err);
/* Explains an SL_ENOTFOUND of a list or write of fk's objects the same way
 * (name NULL for a list); other errors are returned unchanged. */
int cli_flux_not_found(struct sl_kube *k, const struct cli_flux_kind *fk, int r, const char *name,
                       struct sl_error *err);
/* Polls ns/name until cli_flux_readiness says Ready (0; ret_obj, which
 * may be NULL, gets the object) or failed (SL_EINVAL with the Ready
 * message, and no other SL_EINVAL), or --timeout passes (SL_ENET saying
 * what was awaited). */
int cli_flux_wait(struct sl_kube *k, const struct cli_flux_kind *fk, const char *ns,
                  const char *name, const char *requested_at, json_t **ret_obj,
                  struct sl_error *err);

/* The same for OCIRepositories. */
int cli_ocirepo_get(struct sl_kube *k, const char *ns, const char *name, json_t **ret_obj,
                    struct sl_error *err);
int cli_ocirepo_not_found(struct sl_kube *k, int r, const char *name, struct sl_error *err);
int cli_ocirepo_wait(struct sl_kube *k, const char *ns, const char *name, const char *requested_at,
                     json_t **ret_obj, struct sl_error *err);
/* Flux's reconcile request value: now as RFC 3339 with nanoseconds. */
void cli_reconcile_request_value(char out[64]);

/* The install manifests of install.c, rendered for these values and parsed
 * into JSON objects in apply order. */
struct cli_install_params {
	const char *ns, *registry, *log_level, *cluster_domain;
	bool watch_all_namespaces;
};
int cli_install_objects(const struct cli_install_params *p, json_t **ret_objects,
                        struct sl_error *err);

#endif
