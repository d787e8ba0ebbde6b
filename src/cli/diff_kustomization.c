/* diff kustomization: what the controller would change if a Kustomization
 * built a local directory — Flux's `flux diff kustomization`. The build is
 * the controller's own (sl_ks_build_dir), each object goes through a
 * server-side dry run (sl_ks_dry_run: nothing is written), and objects of
 * the Kustomization's inventory that the build no longer has are reported
 * as deletions when it prunes. Exit 0 with no changes, 1 with any. */
#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/kubecmd.h"
#include "codec/yaml.h"
#include "controller/kustomization.h"

extern char **environ;

static struct {
	char *path;
	char *kustomization_file;
} o;

static struct flag flags[] = {
    {"path", 0, FLAG_STRING, &o.path, "", "path to the directory to build (required)"},
    {"kustomization-file", 0, FLAG_STRING, &o.kustomization_file, "",
     "a Flux Kustomization YAML file to use instead of the cluster's object"},
    {0},
};

/* The Kustomization named name in file (JSON), with -n as its namespace
 * when it names none. */
static int kustomization_from_file(const char *file, const char *name, json_t **ret,
                                   struct sl_error *err)
{
	_cleanup_node_ struct sl_node *docs = NULL;
	int r = sl_yaml_parse_file(file, NULL, &docs, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < docs->seq.len; i++) {
		const struct sl_node *d = docs->seq.items[i];
		const char *api = sl_node_dig_str(d, "apiVersion", NULL);
		const char *kind = sl_node_dig_str(d, "kind", NULL);
		const char *n = sl_node_dig_str(d, "metadata", "name", NULL);
		if (!api || !kind || !n || !sl_startswith(api, "kustomize.toolkit.fluxcd.io/") ||
		    strcmp(kind, "Kustomization") != 0 || strcmp(n, name) != 0)
			continue;
		_cleanup_buf_ struct sl_buf text;
		sl_buf_init(&text, 0);
		if ((r = sl_json_emit(&text, d, err)) < 0)
			return r;
		json_t *obj = json_loadb(text.data, text.len, 0, NULL);
		json_t *meta = json_object_get(obj, "metadata");
		if (!json_string_value(json_object_get(meta, "namespace")))
			json_object_set_new(meta, "namespace", json_string(g_flags.namespace_));
		*ret = obj;
		return 0;
	}
	return sl_error_set(err, SL_ENOTFOUND, "%s: no Flux Kustomization named \"%s\"", file,
	                    name);
}

/* What a reader compares: no server bookkeeping, no status. */
static json_t *for_display(const json_t *obj)
{
	json_t *c = json_deep_copy(obj);
	json_t *meta = json_object_get(c, "metadata");
	static const char *const noise[] = {"managedFields", "resourceVersion",   "uid",
	                                    "generation",    "creationTimestamp", "selfLink"};
	for (size_t i = 0; i < SL_ARRAY_SIZE(noise); i++)
		json_object_del(meta, noise[i]);
	json_object_del(c, "status");
	return c;
}

static int write_yaml(const json_t *obj, const char *path, struct sl_error *err)
{
	_cleanup_(json_decrefp) json_t *shown = for_display(obj);
	_cleanup_free_ char *text = json_dumps(shown, JSON_COMPACT);
	_cleanup_node_ struct sl_node *docs = NULL;
	int r = sl_yaml_parse(text, strlen(text), "object", &docs, err);
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, 0);
	if (r == 0 && docs->seq.len == 1)
		r = sl_yaml_emit(&out, docs->seq.items[0], err);
	if (r < 0)
		return r;
	FILE *f = fopen(path, "w");
	if (!f)
		return sl_error_errno(err, errno, SL_EIO, "writing %s", path);
	bool ok = fwrite(out.data, 1, out.len, f) == out.len;
	ok &= fclose(f) == 0;
	return ok ? 0 : sl_error_errno(err, errno, SL_EIO, "writing %s", path);
}

/* A unified diff of the live object and what applying would make of it. */
static int print_drift(const json_t *live, const json_t *dry, const char *subject,
                       struct sl_error *err)
{
	char dir[] = "/tmp/sluice-diff-XXXXXX";
	if (!mkdtemp(dir))
		return sl_error_errno(err, errno, SL_EIO, "creating a temporary directory");
	_cleanup_free_ char *a = sl_asprintf("%s/live.yaml", dir);
	_cleanup_free_ char *b = sl_asprintf("%s/merged.yaml", dir);
	int r = write_yaml(live, a, err);
	r = r ?: write_yaml(dry, b, err);
	if (r == 0) {
		_cleanup_free_ char *la = sl_asprintf("%s (live)", subject);
		_cleanup_free_ char *lb = sl_asprintf("%s (after apply)", subject);
		char *argv[] = {"diff", "-u", "--label", la, "--label", lb, a, b, NULL};
		fflush(stdout);
		pid_t pid;
		int status = 0;
		if (posix_spawnp(&pid, "diff", NULL, NULL, argv, environ) != 0)
			r = sl_error_errno(err, errno, SL_EIO, "running diff");
		else
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
	}
	unlink(a);
	unlink(b);
	rmdir(dir);
	return r;
}

static int run(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len != 1)
		return sl_error_set(err, SL_EINVAL, "name is required");
	if (!*o.path)
		return sl_error_set(err, SL_EINVAL,
		                    "invalid resource path \"\": --path is required");
	const char *name = args->items[0];
	int r = cli_check_namespace(err);
	if (r < 0)
		return r;
	_cleanup_(sl_kube_freep) struct sl_kube *k = NULL;
	if ((r = cli_kube_open(&k, err)) < 0)
		return r;
	_cleanup_(json_decrefp) json_t *live_ks = NULL;
	r = sl_kube_get(k, &cli_res_kustomizations, g_flags.namespace_, name, &live_ks, err);
	if (r < 0 && !(r == SL_ENOTFOUND && *o.kustomization_file))
		return sl_error_wrap(err, r, "Kustomization %s/%s", g_flags.namespace_, name);
	_cleanup_(json_decrefp) json_t *ks = NULL;
	if (*o.kustomization_file) {
		if ((r = kustomization_from_file(o.kustomization_file, name, &ks, err)) < 0)
			return r;
	} else {
		ks = json_incref(live_ks);
	}

	_cleanup_(json_decrefp) json_t *objects = NULL;
	if ((r = sl_ks_build_dir(k, ks, NULL, o.path, &objects, err)) < 0)
		return r;
	bool changed = false;
	json_t *inventory = sl_inventory_new();
	size_t i;
	json_t *obj;
	json_array_foreach (objects, i, obj) {
		struct sl_object_ref ref = {0};
		if ((r = sl_object_ref_from_json(obj, &ref, err)) < 0)
			break;
		sl_inventory_add(inventory, &ref);
		_cleanup_free_ char *subject = sl_change_subject(&ref);
		sl_object_ref_clear(&ref);
		struct sl_ks_dry_run d = {0};
		r = sl_ks_dry_run(k, obj, &d, err);
		if (r == 0 && d.action == SL_CHANGE_CREATED) {
			printf("► %s created\n", subject);
			changed = true;
		} else if (r == 0 && d.action == SL_CHANGE_CONFIGURED) {
			printf("► %s drifted\n", subject);
			changed = true;
			r = print_drift(d.live, d.dry, subject, err);
		}
		sl_ks_dry_run_clear(&d);
		if (r < 0)
			break;
	}
	/* What a prune would delete: the cluster's inventory minus the build,
	 * objects still there and still carrying this Kustomization's labels. */
	const json_t *spec = json_object_get(ks, "spec");
	const json_t *old = json_object_get(json_object_get(live_ks, "status"), "inventory");
	struct sl_object_ref *stale = NULL;
	size_t n_stale = 0;
	if (r == 0 && json_is_true(json_object_get(spec, "prune")) && old)
		r = sl_inventory_stale(old, inventory, &stale, &n_stale, err);
	for (size_t s = 0; r == 0 && s < n_stale; s++) {
		struct sl_object_ref *ref = &stale[s];
		_cleanup_free_ char *api = *ref->group
		                               ? sl_asprintf("%s/%s", ref->group, ref->version)
		                               : sl_strdup(ref->version);
		struct sl_kube_resource res;
		json_t *live = NULL;
		struct sl_error e = {0};
		if (sl_kube_discover(k, api, ref->kind, &res, &e) == 0 &&
		    sl_kube_get(k, &res, res.namespaced ? ref->namespace_ : NULL, ref->name, &live,
		                &e) == 0) {
			const char *owner = sl_object_label_or_annotation(live, SL_KS_LABEL_NAME);
			if (owner && strcmp(owner, name) == 0 &&
			    !sl_object_marked(live, SL_KS_ANN_PRUNE, "disabled")) {
				_cleanup_free_ char *subject = sl_change_subject(ref);
				printf("► %s deleted\n", subject);
				changed = true;
			}
		}
		json_decref(live);
	}
	for (size_t s = 0; s < n_stale; s++)
		sl_object_ref_clear(&stale[s]);
	free(stale);
	json_decref(inventory);
	fflush(stdout);
	if (r < 0)
		return r;
	if (changed)
		return sl_error_set(
		    err, SL_EINVAL,
		    "identified at least one change, exiting with non-zero exit code");
	sl_log_success("no changes detected");
	return 0;
}

int cmd_diff_kustomization(int argc, char **argv, struct sl_error *err)
{
	return cli_run("diff", "kustomization", flags, argc, argv, run, err);
}
