/* trace: flux2's trace.go for objects Kustomizations apply — which
 * Kustomization manages an object (its kustomize.toolkit.fluxcd.io/name
 * and /namespace labels, or those of the first owner up its
 * ownerReferences that has them), from which source and revision, and the
 * status of both, as Flux's report (fluxout.c). Objects are named as
 * kubectl names them (`<resource> <name>...` or `<resource>/<name>...`,
 * kinds and short names from the server's discovery, -n else the
 * kubeconfig context's namespace), or by --kind and --api-version.
 *
 * Like Flux it traces every object it can and reports each failure as
 * "failed to trace <Kind>/<name> in namespace <ns>: <why>"; unlike Flux,
 * which exits 0 whatever happened, it exits 1 when any object could not
 * be traced. */
#include <string.h>

#include "cli/kubecmd.h"

#define KS_GROUP   "kustomize.toolkit.fluxcd.io"
#define HELM_GROUP "helm.toolkit.fluxcd.io"
/* How far up ownerReferences a manager is looked for: Pod, ReplicaSet,
 * Deployment is three; a cycle must not loop. */
#define MAX_OWNER_DEPTH 16

static struct {
	char *kind, *api_version;
} o;

static struct flag flags[] = {
    {"kind", 0, FLAG_STRING, &o.kind, "", "the Kubernetes object kind, e.g. Deployment"},
    {"api-version", 0, FLAG_STRING, &o.api_version, "",
     "the Kubernetes object API version, e.g. 'apps/v1'"},
    {0},
};

/* An object to trace and the kind its Object line names. */
struct target {
	json_t *obj;
	char *kind;
};

struct targets {
	struct target *items;
	size_t len;
};

static void targets_clear(struct targets *t)
{
	for (size_t i = 0; i < t->len; i++) {
		json_decref(t->items[i].obj);
		free(t->items[i].kind);
	}
	free(t->items);
	*t = (struct targets){0};
}

static void targets_add(struct targets *t, json_t *obj, const char *kind)
{
	t->items = sl_xrealloc(t->items, (t->len + 1) * sizeof(*t->items));
	t->items[t->len++] = (struct target){.obj = obj, .kind = sl_strdup(kind ? kind : "")};
}

/* GET ns/name of res; a 404 reads as client-go's `deployments.apps "x"
 * not found`. */
static int get_object(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                      const char *name, json_t **ret, struct sl_error *err)
{
	int r = sl_kube_get(k, res, res->namespaced ? ns : NULL, name, ret, err);
	if (r == SL_ENOTFOUND)
		return sl_error_set(err, r, "%s%s%s \"%s\" not found", res->resource,
		                    *res->group ? "." : "", res->group, name);
	return r;
}

/* --kind and --api-version: one object, named by the first argument; the
 * Object line keeps the kind as given, as Flux's does. */
static int collect_static(struct sl_kube *k, const struct sl_strv *args, const char *ns,
                          struct targets *ret, struct sl_error *err)
{
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "object name is required");
	if (!*o.kind)
		return sl_error_set(err, SL_EINVAL, "object kind is required (--kind)");
	if (!*o.api_version)
		return sl_error_set(err, SL_EINVAL,
		                    "object apiVersion is required (--api-version)");
	struct sl_kube_resource want;
	int r = sl_kube_resource_set(&want, o.api_version, o.kind, "", false, err);
	if (r < 0)
		return sl_error_wrap(err, r, "invalid apiVersion");
	_cleanup_free_ char *arg = *want.group
	                               ? sl_asprintf("%s.%s.%s", o.kind, want.version, want.group)
	                               : sl_strdup(o.kind);
	struct sl_kube_resource res;
	r = sl_kube_resolve(k, arg, &res, err);
	if (r == 0 &&
	    (strcmp(res.group, want.group) != 0 || strcmp(res.version, want.version) != 0))
		r = sl_error_set(err, SL_ENOTFOUND, "no matches for kind \"%s\" in version \"%s\"",
		                 o.kind, o.api_version);
	json_t *obj = NULL;
	if (r == 0)
		r = get_object(k, &res, ns, args->items[0], &obj, err);
	if (r < 0)
		return sl_error_wrap(err, r, "failed to find object");
	targets_add(ret, obj, o.kind);
	return 0;
}

/* kubectl's `TYPE NAME...` or `TYPE/NAME...`: every object must exist. */
static int collect_dynamic(struct sl_kube *k, const struct sl_strv *args, const char *ns,
                           struct targets *ret, struct sl_error *err)
{
	bool slashed = args->len > 0 && strchr(args->items[0], '/');
	bool ok = slashed ? true : args->len >= 2;
	for (size_t i = 0; ok && i < args->len; i++) {
		const char *slash = strchr(args->items[i], '/');
		ok = slashed
		         ? slash && slash != args->items[i] && slash[1] && !strchr(slash + 1, '/')
		         : !slash;
	}
	if (!ok)
		return sl_error_set(err, SL_EINVAL,
		                    "either `<resource>/<name>` or `<resource> <name>` is required "
		                    "as an argument");
	for (size_t i = slashed ? 0 : 1; i < args->len; i++) {
		const char *item = args->items[i], *slash = strchr(item, '/');
		_cleanup_free_ char *type =
		    slashed ? sl_strndup(item, (size_t)(slash - item)) : sl_strdup(args->items[0]);
		const char *name = slashed ? slash + 1 : item;
		struct sl_kube_resource res;
		int r = sl_kube_resolve(k, type, &res, err);
		json_t *obj = NULL;
		if (r == 0)
			r = get_object(k, &res, ns, name, &obj, err);
		if (r < 0)
			return r;
		targets_add(ret, obj, cli_json_str(obj, "kind", NULL));
	}
	return 0;
}

/* The manager named by obj's <group>/name and <group>/namespace labels
 * (Flux's isManagedByFlux). A missing namespace label means obj's own. */
static bool labelled(const json_t *obj, const char *group, char **ret_ns, char **ret_name)
{
	const json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
	_cleanup_free_ char *name_key = sl_asprintf("%s/name", group);
	_cleanup_free_ char *ns_key = sl_asprintf("%s/namespace", group);
	const char *name = json_string_value(json_object_get(labels, name_key));
	const char *ns = json_string_value(json_object_get(labels, ns_key));
	if (!name || !*name)
		return false;
	if (!ns || !*ns)
		ns = cli_json_str(obj, "metadata", "namespace", NULL);
	*ret_ns = sl_strdup(ns ? ns : "");
	*ret_name = sl_strdup(name);
	return true;
}

/* Flux's isOwnerManagedByFlux: obj's labels, else each owner's in obj's
 * namespace, recursively up the first owner that has owners of its own. An
 * owner that cannot be read ends the search, unmanaged. */
static bool managed_by(struct sl_kube *k, const json_t *obj, const char *group, int depth,
                       char **ret_ns, char **ret_name)
{
	if (labelled(obj, group, ret_ns, ret_name))
		return true;
	if (depth >= MAX_OWNER_DEPTH)
		return false;
	const char *ns = cli_json_str(obj, "metadata", "namespace", NULL);
	size_t i;
	const json_t *ref;
	json_array_foreach (json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i,
	                    ref) {
		const char *api = cli_json_str(ref, "apiVersion", NULL);
		const char *kind = cli_json_str(ref, "kind", NULL);
		const char *name = cli_json_str(ref, "name", NULL);
		struct sl_kube_resource res;
		struct sl_error e = {0};
		_cleanup_(json_decrefp) json_t *owner = NULL;
		if (!api || !kind || !name || sl_kube_discover(k, api, kind, &res, &e) < 0 ||
		    sl_kube_get(k, &res, res.namespaced ? ns : NULL, name, &owner, &e) < 0)
			return false;
		if (labelled(owner, group, ret_ns, ret_name))
			return true;
		if (json_array_size(
		        json_object_get(json_object_get(owner, "metadata"), "ownerReferences")) > 0)
			return managed_by(k, owner, group, depth + 1, ret_ns, ret_name);
	}
	return false;
}

/* The Kustomization's source, in sourceRef.namespace (else the
 * Kustomization's): an OCIRepository or a GitRepository; NULL for other
 * kinds, which get no block in Flux's report either. */
static int get_source(struct sl_kube *k, const json_t *ks, json_t **ret, struct sl_error *err)
{
	const json_t *ref = json_object_get(json_object_get(ks, "spec"), "sourceRef");
	const char *kind = cli_json_str(ref, "kind", NULL);
	const char *name = cli_json_str(ref, "name", NULL);
	const char *ns = cli_json_str(ref, "namespace", NULL);
	if (!ns || !*ns)
		ns = cli_json_str(ks, "metadata", "namespace", NULL);
	*ret = NULL;
	if (!kind || !name)
		return 0;
	int r;
	if (strcmp(kind, cli_kind_ocirepository.kind) == 0) {
		r = cli_flux_get(k, &cli_kind_ocirepository, ns, name, ret, err);
	} else if (strcmp(kind, "GitRepository") == 0) {
		struct sl_kube_resource res;
		r = sl_kube_discover(k, "source.toolkit.fluxcd.io/v1", kind, &res, err);
		if (r == 0)
			r = get_object(k, &res, ns, name, ret, err);
	} else {
		return 0;
	}
	return r < 0 ? sl_error_wrap(err, r, "failed to find %s", kind) : 0;
}

static int trace_one(struct sl_kube *k, const struct target *t, struct sl_buf *out,
                     struct sl_error *err)
{
	_cleanup_free_ char *ks_ns = NULL, *ks_name = NULL;
	if (!managed_by(k, t->obj, KS_GROUP, 0, &ks_ns, &ks_name)) {
		_cleanup_free_ char *hr_ns = NULL, *hr_name = NULL;
		if (managed_by(k, t->obj, HELM_GROUP, 0, &hr_ns, &hr_name))
			return sl_error_set(err, SL_EUNSUPPORTED,
			                    "object managed by HelmRelease %s/%s: sluice traces "
			                    "Kustomizations only",
			                    hr_ns, hr_name);
		return sl_error_set(err, SL_EINVAL, "object not managed by Flux");
	}
	_cleanup_(json_decrefp) json_t *ks = NULL, *source = NULL;
	int r = cli_flux_get(k, &cli_kind_kustomization, ks_ns, ks_name, &ks, err);
	if (r < 0)
		return sl_error_wrap(err, r, "failed to find kustomization");
	if ((r = get_source(k, ks, &source, err)) < 0)
		return r;
	cli_trace_report(out, t->kind, t->obj, ks, source);
	return 0;
}

/* -n when given; otherwise, unlike Flux's other commands, the kubeconfig
 * context's namespace, as kubectl would look the object up. */
static const char *trace_namespace(struct sl_kube *k)
{
	if (flag_global_changed("namespace"))
		return g_flags.namespace_;
	const char *ns = sl_kube_config_of(k)->namespace;
	return ns && *ns ? ns : "default";
}

static int run(const struct sl_strv *args, struct sl_error *err)
{
	int r;
	if (flag_global_changed("namespace") && (r = cli_check_namespace(err)) < 0)
		return r;
	_cleanup_(sl_kube_freep) struct sl_kube *k = NULL;
	if ((r = cli_kube_open(&k, err)) < 0)
		return r;
	const char *ns = trace_namespace(k);
	_cleanup_(targets_clear) struct targets targets = {0};
	r = *o.kind || *o.api_version ? collect_static(k, args, ns, &targets, err)
	                              : collect_dynamic(k, args, ns, &targets, err);
	if (r < 0)
		return r;
	unsigned failed = 0;
	struct sl_error first = {0};
	for (size_t i = 0; i < targets.len; i++) {
		const struct target *t = &targets.items[i];
		_cleanup_buf_ struct sl_buf out;
		sl_buf_init(&out, 0);
		struct sl_error e = {0};
		r = trace_one(k, t, &out, &e);
		if (r < 0) {
			const char *name = cli_json_str(t->obj, "metadata", "name", NULL);
			const char *obj_ns = cli_json_str(t->obj, "metadata", "namespace", NULL);
			struct sl_error wrapped = {0};
			sl_error_set(&wrapped, r, "failed to trace %s/%s in namespace %s: %s",
			             t->kind, name ? name : "", obj_ns ? obj_ns : "", e.msg);
			if (!failed++)
				first = wrapped;
			/* One object: main reports it, once. */
			if (targets.len > 1) {
				fflush(stdout);
				sl_log_failure("%s", wrapped.msg);
			}
		} else {
			fwrite(out.data, 1, out.len, stdout);
		}
		if (i + 1 < targets.len)
			printf("---\n");
	}
	fflush(stdout);
	if (failed == 0)
		return 0;
	if (targets.len == 1) {
		*err = first;
		return first.code;
	}
	return sl_error_set(err, first.code, "failed to trace %u of %zu objects", failed,
	                    targets.len);
}

int cmd_trace(int argc, char **argv, struct sl_error *err)
{
	return cli_run("trace", NULL, flags, argc, argv, run, err);
}
