/* delete source oci: flux2's delete.go — confirm unless --silent, delete —
 * and then, unlike Flux, wait (bounded by --timeout) until the object is
 * gone, so that a script may reuse the name at once. While the controller
 * runs, that is as long as its finalizer takes to remove the artifacts. */
#include <string.h>

#include "cli/kubecmd.h"
#include "controller/ocirepository.h"

static struct {
	bool silent;
} o;

static struct flag flags[] = {
    {"silent", 's', FLAG_BOOL, &o.silent, "false",
     "delete resource without asking for confirmation"},
    {0},
};

static int wait_gone(struct sl_kube *k, const char *ns, const char *name, struct sl_error *err)
{
	int64_t deadline = cli_deadline();
	for (;;) {
		_cleanup_(json_decrefp) json_t *obj = NULL;
		int r = sl_kube_get(k, &sl_kube_res_ocirepositories, ns, name, &obj, err);
		if (r == SL_ENOTFOUND) {
			sl_error_clear(err);
			return 0;
		}
		if (r < 0)
			return r;
		if (!cli_poll_sleep(deadline)) {
			_cleanup_free_ char *finalizers = json_dumps(
			    json_object_get(json_object_get(obj, "metadata"), "finalizers"),
			    JSON_COMPACT | JSON_ENCODE_ANY);
			return sl_error_set(err, SL_ENET,
			                    "timed out after %s waiting for %s %s/%s to be deleted "
			                    "(finalizers: %s): is the controller running?",
			                    cli_timeout_text(), SL_OCIREPO_KIND, ns, name,
			                    finalizers ? finalizers : "none");
		}
	}
}

static int run(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "source oci name is required");
	const char *name = args->items[0], *ns = g_flags.namespace_;
	int r = cli_check_namespace(err);
	if (r < 0)
		return r;
	_cleanup_(sl_kube_freep) struct sl_kube *k = NULL;
	if ((r = cli_kube_open(&k, err)) < 0)
		return r;
	_cleanup_(json_decrefp) json_t *obj = NULL;
	if ((r = cli_ocirepo_get(k, ns, name, &obj, err)) < 0)
		return r;
	if (!o.silent && (r = cli_confirm("Are you sure you want to delete this source oci",
	                                  "--silent", err)) < 0)
		return r;

	sl_log_action("deleting source oci %s in %s namespace", name, ns);
	r = sl_kube_delete(k, &sl_kube_res_ocirepositories, ns, name, NULL, err);
	if (r < 0 && r != SL_ENOTFOUND)
		return r;
	sl_error_clear(err);
	if ((r = wait_gone(k, ns, name, err)) < 0)
		return r;
	sl_log_success("source oci deleted");
	return 0;
}

int cmd_delete_source_oci(int argc, char **argv, struct sl_error *err)
{
	return cli_run("delete", "source oci", flags, argc, argv, run, err);
}
