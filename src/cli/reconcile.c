/* reconcile, suspend and resume of source oci and kustomization, as
 * flux2's reconcile.go, reconcile_with_source.go, suspend.go and resume.go
 * do them: a reconcile request is the reconcile.fluxcd.io/requestedAt
 * annotation set to the time (RFC 3339 with nanoseconds), handled once
 * status.lastHandledReconcileAt equals it; suspend and resume merge-patch
 * spec.suspend. */
#include <string.h>

#include "cli/kubecmd.h"

/* What differs between the kinds: how Flux reports a successful wait
 * (its successMessage()). */
struct reconcilable {
	const struct cli_flux_kind *fk;
	int (*report)(const json_t *obj, struct sl_error *err);
};

static int report_fetched(const json_t *obj, struct sl_error *err)
{
	const char *revision = cli_json_str(obj, "status", "artifact", "revision", NULL);
	if (!revision)
		return sl_error_set(err, SL_EINVAL, "no artifact was found");
	sl_log_success("fetched revision %s", revision);
	return 0;
}

static int report_applied(const json_t *obj, struct sl_error *err)
{
	(void)err;
	const char *revision = cli_json_str(obj, "status", "lastAppliedRevision", NULL);
	sl_log_success("applied revision %s", revision ? revision : "");
	return 0;
}

static const struct reconcilable oci = {&cli_kind_ocirepository, report_fetched};
static const struct reconcilable kustomization = {&cli_kind_kustomization, report_applied};

static struct flag no_flags[] = {{0}};

static struct {
	bool with_source;
} o;

static struct flag ks_flags[] = {
    {"with-source", 0, FLAG_BOOL, &o.with_source, "false", "reconcile Kustomization source"},
    {0},
};

static int patch(struct sl_kube *k, const struct cli_flux_kind *fk, const char *ns,
                 const char *name, const json_t *body, struct sl_error *err)
{
	int r = sl_kube_patch(k, fk->res, ns, name, SL_KUBE_PATCH_MERGE, body, NULL, NULL, err);
	return r < 0 ? cli_flux_not_found(k, fk, r, name, err) : 0;
}

static bool suspended(const json_t *obj)
{
	return json_is_true(json_object_get(json_object_get(obj, "spec"), "suspend"));
}

/* Sets the reconcile request, saying so as Flux does; requested_at gets
 * its value. */
static int request(struct sl_kube *k, const struct cli_flux_kind *fk, const char *ns,
                   const char *name, char requested_at[64], struct sl_error *err)
{
	sl_log_action("annotating %s %s in %s namespace", fk->kind, name, ns);
	cli_reconcile_request_value(requested_at);
	_cleanup_(json_decrefp) json_t *body = json_pack("{s:{s:{s:s}}}", "metadata", "annotations",
	                                                 CLI_RECONCILE_ANNOTATION, requested_at);
	int r = patch(k, fk, ns, name, body, err);
	if (r < 0)
		return r;
	sl_log_success("%s annotated", fk->kind);
	return 0;
}

/* Waits for the request, then says what Flux says. reconcile_with_source
 * prints no "reconciliation completed" line and names the kind in a
 * failure; reconcile and resume do both the other way round. */
static int await_reconcile(struct sl_kube *k, const struct reconcilable *rc, const char *ns,
                           const char *name, const char *requested_at, bool with_source_style,
                           struct sl_error *err)
{
	cli_log_waiting("waiting for %s reconciliation", rc->fk->kind);
	_cleanup_(json_decrefp) json_t *obj = NULL;
	int r = cli_flux_wait(k, rc->fk, ns, name, requested_at, &obj, err);
	_cleanup_free_ char *failed = sl_asprintf("%s reconciliation failed", rc->fk->kind);
	/* cli_flux_wait says just that when Ready has no message. */
	if (r == SL_EINVAL && with_source_style && strcmp(err->msg, failed) != 0)
		return sl_error_wrap(err, r, "%s", failed);
	if (r < 0)
		return r;
	if (!with_source_style)
		sl_log_success("%s reconciliation completed", rc->fk->kind);
	return rc->report(obj, err);
}

static int open_checked(struct sl_kube **k, struct sl_error *err)
{
	int r = cli_check_namespace(err);
	return r < 0 ? r : cli_kube_open(k, err);
}

/* Flux's reconcileCommand.run for an OCIRepository: also the first half
 * of `reconcile kustomization --with-source`. */
static int reconcile_source(struct sl_kube *k, const char *ns, const char *name,
                            struct sl_error *err)
{
	_cleanup_(json_decrefp) json_t *obj = NULL;
	int r = cli_flux_get(k, oci.fk, ns, name, &obj, err);
	if (r < 0)
		return r;
	if (suspended(obj))
		return sl_error_set(err, SL_EINVAL, "resource is suspended");
	char requested_at[64];
	if ((r = request(k, oci.fk, ns, name, requested_at, err)) < 0)
		return r;
	return await_reconcile(k, &oci, ns, name, requested_at, false, err);
}

static int run_reconcile_source(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "%s name is required", oci.fk->kind);
	_cleanup_(sl_kube_freep) struct sl_kube *k = NULL;
	int r = open_checked(&k, err);
	return r < 0 ? r : reconcile_source(k, g_flags.namespace_, args->items[0], err);
}

/* --with-source: the sourceRef, in its own namespace (the Kustomization's
 * when it names none). sluice serves OCIRepository sources only. */
static int reconcile_source_of(struct sl_kube *k, const json_t *ks, struct sl_error *err)
{
	const json_t *ref = json_object_get(json_object_get(ks, "spec"), "sourceRef");
	const char *kind = cli_json_str(ref, "kind", NULL);
	const char *name = cli_json_str(ref, "name", NULL);
	const char *ns = cli_json_str(ref, "namespace", NULL);
	if (!ns || !*ns)
		ns = cli_json_str(ks, "metadata", "namespace", NULL);
	if (!kind || strcmp(kind, oci.fk->kind) != 0 || !name)
		return sl_error_set(err, SL_EUNSUPPORTED,
		                    "--with-source: the source is a %s; sluice reconciles %s "
		                    "sources only",
		                    kind ? kind : "(kind not set)", oci.fk->kind);
	return reconcile_source(k, ns, name, err);
}

static int run_reconcile_kustomization(const struct sl_strv *args, struct sl_error *err)
{
	const struct reconcilable *rc = &kustomization;
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "%s name is required", rc->fk->kind);
	const char *name = args->items[0], *ns = g_flags.namespace_;
	_cleanup_(sl_kube_freep) struct sl_kube *k = NULL;
	int r = open_checked(&k, err);
	if (r < 0)
		return r;
	_cleanup_(json_decrefp) json_t *obj = NULL;
	if ((r = cli_flux_get(k, rc->fk, ns, name, &obj, err)) < 0)
		return r;
	if (suspended(obj))
		return sl_error_set(err, SL_EINVAL, "resource is suspended");
	if (o.with_source && (r = reconcile_source_of(k, obj, err)) < 0)
		return r;
	char requested_at[64];
	if ((r = request(k, rc->fk, ns, name, requested_at, err)) < 0)
		return r;
	return await_reconcile(k, rc, ns, name, requested_at, true, err);
}

static int suspend(const struct reconcilable *rc, const struct sl_strv *args, struct sl_error *err)
{
	const struct cli_flux_kind *fk = rc->fk;
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "%s name is required", fk->human);
	const char *ns = g_flags.namespace_;
	_cleanup_(sl_kube_freep) struct sl_kube *k = NULL;
	int r = open_checked(&k, err);
	if (r < 0)
		return r;
	_cleanup_(json_decrefp) json_t *body = json_pack("{s:{s:b}}", "spec", "suspend", 1);
	for (size_t i = 0; i < args->len; i++) {
		const char *name = args->items[i];
		_cleanup_(json_decrefp) json_t *obj = NULL;
		if ((r = cli_flux_get(k, fk, ns, name, &obj, err)) < 0)
			return r;
		sl_log_action("suspending %s %s in %s namespace", fk->human, name, ns);
		if ((r = patch(k, fk, ns, name, body, err)) < 0)
			return r;
		sl_log_success("%s suspended", fk->human);
	}
	return 0;
}

/* Besides unsuspending, resume asks for a reconcile: its wait then sees
 * this reconcile's outcome even when the generation did not change (the
 * object was not suspended), never an older Ready. */
static int resume(const struct reconcilable *rc, const struct sl_strv *args, struct sl_error *err)
{
	const struct cli_flux_kind *fk = rc->fk;
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "%s name is required", fk->human);
	const char *ns = g_flags.namespace_;
	_cleanup_(sl_kube_freep) struct sl_kube *k = NULL;
	int r = open_checked(&k, err);
	if (r < 0)
		return r;
	char requested_at[64];
	cli_reconcile_request_value(requested_at);
	_cleanup_(json_decrefp) json_t *body =
	    json_pack("{s:{s:{s:s}}, s:{s:b}}", "metadata", "annotations", CLI_RECONCILE_ANNOTATION,
	              requested_at, "spec", "suspend", 0);
	for (size_t i = 0; i < args->len; i++) {
		const char *name = args->items[i];
		_cleanup_(json_decrefp) json_t *obj = NULL;
		if ((r = cli_flux_get(k, fk, ns, name, &obj, err)) < 0)
			return r;
		sl_log_action("resuming %s %s in %s namespace", fk->human, name, ns);
		if ((r = patch(k, fk, ns, name, body, err)) < 0)
			return r;
		sl_log_success("%s resumed", fk->human);
	}
	for (size_t i = 0; i < args->len; i++)
		if ((r = await_reconcile(k, rc, ns, args->items[i], requested_at, false, err)) < 0)
			return r;
	return 0;
}

static int run_suspend_source(const struct sl_strv *args, struct sl_error *err)
{
	return suspend(&oci, args, err);
}

static int run_resume_source(const struct sl_strv *args, struct sl_error *err)
{
	return resume(&oci, args, err);
}

static int run_suspend_kustomization(const struct sl_strv *args, struct sl_error *err)
{
	return suspend(&kustomization, args, err);
}

static int run_resume_kustomization(const struct sl_strv *args, struct sl_error *err)
{
	return resume(&kustomization, args, err);
}

int cmd_reconcile_source_oci(int argc, char **argv, struct sl_error *err)
{
	return cli_run("reconcile", "source oci", no_flags, argc, argv, run_reconcile_source, err);
}

int cmd_suspend_source_oci(int argc, char **argv, struct sl_error *err)
{
	return cli_run("suspend", "source oci", no_flags, argc, argv, run_suspend_source, err);
}

int cmd_resume_source_oci(int argc, char **argv, struct sl_error *err)
{
	return cli_run("resume", "source oci", no_flags, argc, argv, run_resume_source, err);
}

int cmd_reconcile_kustomization(int argc, char **argv, struct sl_error *err)
{
	return cli_run("reconcile", "kustomization", ks_flags, argc, argv,
	               run_reconcile_kustomization, err);
}

int cmd_suspend_kustomization(int argc, char **argv, struct sl_error *err)
{
	return cli_run("suspend", "kustomization", no_flags, argc, argv, run_suspend_kustomization,
	               err);
}

int cmd_resume_kustomization(int argc, char **argv, struct sl_error *err)
{
	return cli_run("resume", "kustomization", no_flags, argc, argv, run_resume_kustomization,
	               err);
}
