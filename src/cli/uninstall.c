/* uninstall: flux2's uninstall.go for what `sluice install` applies —
 * confirm unless --silent (or --dry-run); delete the components (the install
 * objects in reverse order, CRDs and Namespace aside); strip the finalizers
 * of every Kustomization and OCIRepository in the cluster, so their
 * deletion cannot hang for want of a running controller (and no
 * Kustomization prunes what it applied: uninstalling leaves the workloads
 * running, as in Flux); delete the CRDs (and with them every object of
 * their kinds); delete the Namespace unless --keep-namespace.
 *
 * Like Flux it goes on after a failed deletion and does not wait for the
 * objects to be gone; unlike Flux it exits 1 when anything failed. */
#include <string.h>

#include "cli/kubecmd.h"

static struct {
	bool keep_namespace, dry_run, silent;
} o;

static struct flag flags[] = {
    {"keep-namespace", 0, FLAG_BOOL, &o.keep_namespace, "false", "skip namespace deletion"},
    {"dry-run", 0, FLAG_BOOL, &o.dry_run, "false", "only print the objects that would be deleted"},
    {"silent", 's', FLAG_BOOL, &o.silent, "false",
     "delete components without asking for confirmation"},
    {0},
};

struct tally {
	unsigned failed;
	struct sl_error first;
};

static void failed(struct tally *t, const struct sl_error *e, const char *what)
{
	sl_log_failure("%s failed: %s", what, e->msg);
	if (!t->failed++)
		t->first = *e;
}

static const char *dry_suffix(void)
{
	return o.dry_run ? " (dry run)" : "";
}

/* Deletes obj; a missing object (or kind) is nothing to report. */
static void delete_object(struct sl_kube *k, const json_t *obj, struct tally *t)
{
	_cleanup_free_ char *subject = cli_object_subject(obj);
	_cleanup_free_ char *what = sl_asprintf("%s deletion", subject);
	struct sl_error e = {0};
	struct sl_kube_resource res;
	int r = sl_kube_resource_of(k, obj, &res, &e);
	if (r == SL_ENOTFOUND)
		return;
	if (r < 0) {
		failed(t, &e, what);
		return;
	}
	const char *ns = res.namespaced ? cli_json_str(obj, "metadata", "namespace", NULL) : NULL;
	const char *name = cli_json_str(obj, "metadata", "name", NULL);
	struct sl_kube_delete_opts opts = {.dry_run = o.dry_run};
	r = sl_kube_delete(k, &res, ns, name, &opts, &e);
	if (r == SL_ENOTFOUND)
		return;
	if (r < 0)
		failed(t, &e, what);
	else
		sl_log_success("%s deleted%s", subject, dry_suffix());
}

static void remove_finalizers(struct sl_kube *k, const struct cli_flux_kind *fk, struct tally *t)
{
	struct sl_error e = {0};
	_cleanup_(sl_kube_list_clear) struct sl_kube_list list = {0};
	int r = sl_kube_list(k, fk->res, NULL, NULL, &list, &e);
	if (r == SL_ENOTFOUND) /* the CRD is gone already */
		return;
	if (r < 0) {
		_cleanup_free_ char *what = sl_asprintf("listing %ss", fk->kind);
		failed(t, &e, what);
		return;
	}
	_cleanup_(json_decrefp) json_t *body = json_pack("{s:{s:n}}", "metadata", "finalizers");
	struct sl_kube_write_opts opts = {.dry_run = o.dry_run};
	size_t i;
	const json_t *obj;
	json_array_foreach (list.items, i, obj) {
		const json_t *fin = json_object_get(json_object_get(obj, "metadata"), "finalizers");
		if (json_array_size(fin) == 0)
			continue;
		const char *ns = cli_json_str(obj, "metadata", "namespace", NULL);
		const char *name = cli_json_str(obj, "metadata", "name", NULL);
		_cleanup_free_ char *subject = sl_asprintf("%s/%s/%s", fk->kind, ns, name);
		r = sl_kube_patch(k, fk->res, ns, name, SL_KUBE_PATCH_MERGE, body, &opts, NULL, &e);
		if (r == SL_ENOTFOUND)
			continue;
		if (r < 0) {
			_cleanup_free_ char *what = sl_asprintf("%s removing finalizers", subject);
			failed(t, &e, what);
			continue;
		}
		sl_log_success("%s finalizers deleted%s", subject, dry_suffix());
	}
}

static bool is_kind(const json_t *obj, const char *kind)
{
	const char *k = cli_json_str(obj, "kind", NULL);
	return k && strcmp(k, kind) == 0;
}

static int run(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len > 0)
		return sl_error_set(err, SL_EINVAL,
		                    "unknown command \"%s\" for \"sluice uninstall\"",
		                    args->items[0]);
	int r = cli_check_namespace(err);
	if (r < 0)
		return r;
	if (!o.dry_run && !o.silent &&
	    (r = cli_confirm("Are you sure you want to delete sluice and its custom resource "
	                     "definitions",
	                     "--silent", err)) < 0)
		return r;
	/* Only the namespace shapes the names; the other values are install's
	 * defaults. */
	const char *ns = g_flags.namespace_;
	const struct cli_install_params p = {
	    .ns = ns,
	    .registry = "ghcr.io/sluice-project",
	    .log_level = "info",
	    .cluster_domain = "cluster.local",
	    .watch_all_namespaces = true,
	};
	_cleanup_(json_decrefp) json_t *objects = NULL;
	if ((r = cli_install_objects(&p, &objects, err)) < 0)
		return r;
	_cleanup_(sl_kube_freep) struct sl_kube *k = NULL;
	if ((r = cli_kube_open(&k, err)) < 0)
		return r;

	struct tally t = {0};
	size_t n = json_array_size(objects);
	sl_log_action("deleting components in %s namespace", ns);
	for (size_t i = n; i-- > 0;) {
		const json_t *obj = json_array_get(objects, i);
		if (!is_kind(obj, "CustomResourceDefinition") && !is_kind(obj, "Namespace"))
			delete_object(k, obj, &t);
	}
	sl_log_action("deleting toolkit.fluxcd.io finalizers in all namespaces");
	/* Flux's order: sources, then appliers. */
	remove_finalizers(k, &cli_kind_ocirepository, &t);
	remove_finalizers(k, &cli_kind_kustomization, &t);
	sl_log_action("deleting toolkit.fluxcd.io custom resource definitions");
	for (size_t i = n; i-- > 0;)
		if (is_kind(json_array_get(objects, i), "CustomResourceDefinition"))
			delete_object(k, json_array_get(objects, i), &t);
	if (!o.keep_namespace)
		for (size_t i = n; i-- > 0;)
			if (is_kind(json_array_get(objects, i), "Namespace"))
				delete_object(k, json_array_get(objects, i), &t);
	if (t.failed)
		return sl_error_set(err, t.first.code ? t.first.code : SL_EHTTP,
		                    "uninstall failed: %u operation%s failed, the first: %s",
		                    t.failed, t.failed == 1 ? "" : "s", t.first.msg);
	sl_log_success("uninstall finished");
	return 0;
}

int cmd_uninstall(int argc, char **argv, struct sl_error *err)
{
	return cli_run("uninstall", NULL, flags, argc, argv, run, err);
}
