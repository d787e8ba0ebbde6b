/* reconcile, suspend and resume source oci, as flux2's reconcile.go,
 * suspend.go and resume.go do them: a reconcile request is the
 * reconcile.fluxcd.io/requestedAt annotation set to the time (RFC 3339 with
 * nanoseconds), handled once status.lastHandledReconcileAt equals it;
 * suspend and resume merge-patch spec.suspend. */
#include <string.h>

#include "cli/kubecmd.h"
#include "controller/ocirepository.h"

static struct flag no_flags[] = {{0}};

static int patch(struct sl_kube *k, const char *ns, const char *name, const json_t *body,
                 struct sl_error *err)
{
	int r = sl_kube_patch(k, &sl_kube_res_ocirepositories, ns, name, SL_KUBE_PATCH_MERGE, body,
	                      NULL, NULL, err);
	return r < 0 ? cli_ocirepo_not_found(k, r, name, err) : 0;
}

/* Waits for the request, then says what Flux says. */
static int await_reconcile(struct sl_kube *k, const char *ns, const char *name,
                           const char *requested_at, struct sl_error *err)
{
	cli_log_waiting("waiting for %s reconciliation", SL_OCIREPO_KIND);
	_cleanup_(json_decrefp) json_t *obj = NULL;
	int r = cli_ocirepo_wait(k, ns, name, requested_at, &obj, err);
	if (r < 0)
		return r;
	sl_log_success("%s reconciliation completed", SL_OCIREPO_KIND);
	const char *revision = cli_json_str(obj, "status", "artifact", "revision", NULL);
	if (!revision)
		return sl_error_set(err, SL_EINVAL, "no artifact was found");
	sl_log_success("fetched revision %s", revision);
	return 0;
}

static int open_checked(struct sl_kube **k, struct sl_error *err)
{
	int r = cli_check_namespace(err);
	return r < 0 ? r : cli_kube_open(k, err);
}

static int run_reconcile(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "%s name is required", SL_OCIREPO_KIND);
	const char *name = args->items[0], *ns = g_flags.namespace_;
	_cleanup_(sl_kube_freep) struct sl_kube *k = NULL;
	int r = open_checked(&k, err);
	if (r < 0)
		return r;
	_cleanup_(json_decrefp) json_t *obj = NULL;
	if ((r = cli_ocirepo_get(k, ns, name, &obj, err)) < 0)
		return r;
	if (json_is_true(json_object_get(json_object_get(obj, "spec"), "suspend")))
		return sl_error_set(err, SL_EINVAL, "resource is suspended");

	sl_log_action("annotating %s %s in %s namespace", SL_OCIREPO_KIND, name, ns);
	char requested_at[64];
	cli_reconcile_request_value(requested_at);
	_cleanup_(json_decrefp) json_t *body = json_pack("{s:{s:{s:s}}}", "metadata", "annotations",
	                                                 CLI_RECONCILE_ANNOTATION, requested_at);
	if ((r = patch(k, ns, name, body, err)) < 0)
		return r;
	sl_log_success("%s annotated", SL_OCIREPO_KIND);
	return await_reconcile(k, ns, name, requested_at, err);
}

static int run_suspend(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "source oci name is required");
	const char *ns = g_flags.namespace_;
	_cleanup_(sl_kube_freep) struct sl_kube *k = NULL;
	int r = open_checked(&k, err);
	if (r < 0)
		return r;
	_cleanup_(json_decrefp) json_t *body = json_pack("{s:{s:b}}", "spec", "suspend", 1);
	for (size_t i = 0; i < args->len; i++) {
		const char *name = args->items[i];
		_cleanup_(json_decrefp) json_t *obj = NULL;
		if ((r = cli_ocirepo_get(k, ns, name, &obj, err)) < 0)
			return r;
		sl_log_action("suspending source oci %s in %s namespace", name, ns);
		if ((r = patch(k, ns, name, body, err)) < 0)
			return r;
		sl_log_success("source oci suspended");
	}
	return 0;
}

/* Besides unsuspending, resume asks for a reconcile: its wait then sees
 * this reconcile's outcome even when the generation did not change (the
 * object was not suspended), never an older Ready. */
static int run_resume(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "source oci name is required");
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
		if ((r = cli_ocirepo_get(k, ns, name, &obj, err)) < 0)
			return r;
		sl_log_action("resuming source oci %s in %s namespace", name, ns);
		if ((r = patch(k, ns, name, body, err)) < 0)
			return r;
		sl_log_success("source oci resumed");
	}
	for (size_t i = 0; i < args->len; i++)
		if ((r = await_reconcile(k, ns, args->items[i], requested_at, err)) < 0)
			return r;
	return 0;
}

int cmd_reconcile_source_oci(int argc, char **argv, struct sl_error *err)
{
	return cli_run("reconcile", "source oci", no_flags, argc, argv, run_reconcile, err);
}

int cmd_suspend_source_oci(int argc, char **argv, struct sl_error *err)
{
	return cli_run("suspend", "source oci", no_flags, argc, argv, run_suspend, err);
}

int cmd_resume_source_oci(int argc, char **argv, struct sl_error *err)
{
	return cli_run("resume", "source oci", no_flags, argc, argv, run_resume, err);
}
