/* The Kustomization reconciler: see kustomization.h, and the spec's §2
 * (build), §3 (apply), §4 (prune), §5 (wait) and §6 (loop, conditions,
 * events). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec/codec.h"
#include "codec/yaml.h"
#include "controller/apply.h"
#include "controller/kustomization.h"
#include "controller/ocirepository.h"
#include "kustomize/kustomize.h"
#include "oci/oci.h"

const struct sl_kube_resource sl_kube_res_kustomizations = {
    .group = "kustomize.toolkit.fluxcd.io",
    .version = "v1",
    .resource = "kustomizations",
    .kind = SL_KS_KIND,
    .namespaced = true,
};

#define COND_HEALTHY "Healthy"

/* Flux's reasons (kustomize-controller api/v1). */
#define REASON_SUCCEEDED       "ReconciliationSucceeded"
#define REASON_FAILED          "ReconciliationFailed"
#define REASON_ARTIFACT_FAILED "ArtifactFailed"
#define REASON_BUILD_FAILED    "BuildFailed"
#define REASON_PRUNE_FAILED    "PruneFailed"
#define REASON_HEALTH_FAILED   "HealthCheckFailed"
#define REASON_DEPENDENCY      "DependencyNotReady"
#define REASON_DIR_FAILED      "DirCreationFailed"
#define REASON_UNSUPPORTED     "UnsupportedField"
#define ANN_REVISION           "kustomize.toolkit.fluxcd.io/revision"
#define ANN_ORIGIN_REVISION    "kustomize.toolkit.fluxcd.io/originRevision"
#define ORIGIN_REVISION_KEY    "org.opencontainers.image.revision"
/* Stage waits (pkg/ssa DefaultApplyOptions). */
#define STAGE_WAIT_MS (60 * 1000)

/* ---- the object being reconciled ------------------------------------------ */

struct ks_spec {
	int64_t interval_ms, retry_ms, timeout_ms;
	bool prune, wait, force, suspend;
	const char *path, *source_kind, *source_name, *source_ns;
	const json_t *health_checks, *depends_on, *substitute_from;
	const char *service_account; /* NULL or "": the controller's identity */
};

struct run {
	struct sl_ks_worker *w;
	/* Applies, prunes and health checks go through this: the worker's
	 * client, impersonating spec.serviceAccountName when set. Status,
	 * events, finalizers and substituteFrom use w->kube, the controller's
	 * own identity, as in Flux. */
	struct sl_kube *kube;
	const char *ns, *name;
	json_t *obj;        /* a private copy */
	json_t *status;     /* what the status becomes */
	json_t *old_status; /* what the API server has */
	struct sl_cond_stamp st;
	struct ks_spec spec;
	/* Copies: the informer may drop the source object it came from while
	 * a health check waits. */
	char *revision;        /* the source artifact's */
	char *origin_revision; /* its metadata's, or NULL */
	int64_t started_ns;
};

static const char *obj_str(const json_t *obj, const char *a, const char *b)
{
	const json_t *v = json_object_get(obj, a);
	if (b)
		v = json_object_get(v, b);
	return json_string_value(v);
}

static int64_t generation_of(const json_t *obj)
{
	return json_integer_value(json_object_get(json_object_get(obj, "metadata"), "generation"));
}

static void event_annotations(struct run *run, json_t *ann)
{
	if (run->revision)
		json_object_set_new(ann, ANN_REVISION, json_string(run->revision));
	if (run->origin_revision)
		json_object_set_new(ann, ANN_ORIGIN_REVISION, json_string(run->origin_revision));
}

/* Flux's event(): the reason is the Ready condition's at the time. */
static void record_event(struct run *run, const char *type, const char *reason, const char *message,
                         bool commit_status)
{
	json_t *ann = json_object();
	event_annotations(run, ann);
	if (commit_status)
		json_object_set_new(ann, "kustomize.toolkit.fluxcd.io/commit_status",
		                    json_string("update"));
	struct sl_kube_event ev = {
	    .object = run->obj,
	    .type = type,
	    .reason = reason,
	    .message = message,
	    .annotations = ann,
	};
	struct sl_error err = {0};
	if (sl_kube_record_event(run->w->kube, run->w->rc->recorder, &ev, &err) < 0)
		sl_log_debug("%s/%s: recording event %s: %s", run->ns, run->name, reason, err.msg);
	json_decref(ann);
}

static const char *ready_reason(struct run *run)
{
	const char *r = sl_condition_reason(run->status, SL_COND_READY);
	return r && *r ? r : "info";
}

/* Writes what changed in status since the last write; nothing when the
 * status is as read (DESIGN.md: writes are the cost). */
static int patch_status(struct run *run, struct sl_error *err)
{
	return sl_status_write(run->w->kube, &sl_kube_res_kustomizations, run->ns, run->name,
	                       SL_KS_STATUS_MANAGER, &run->old_status, run->status, err);
}

static void patch_status_best_effort(struct run *run)
{
	struct sl_error err = {0};
	if (patch_status(run, &err) < 0)
		sl_log_debug("%s", err.msg);
}

static bool has_finalizer(const json_t *obj)
{
	const json_t *f = json_object_get(json_object_get(obj, "metadata"), "finalizers");
	size_t i;
	const json_t *v;
	json_array_foreach (f, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), SL_FLUX_FINALIZER) == 0)
			return true;
	return false;
}

static int set_finalizer(struct run *run, bool present, struct sl_error *err)
{
	const json_t *old = json_object_get(json_object_get(run->obj, "metadata"), "finalizers");
	json_t *list = json_array();
	size_t i;
	const json_t *v;
	json_array_foreach (old, i, v)
		if (!json_is_string(v) || strcmp(json_string_value(v), SL_FLUX_FINALIZER) != 0)
			json_array_append(list, (json_t *)v);
	if (present)
		json_array_append_new(list, json_string(SL_FLUX_FINALIZER));
	const char *rv = obj_str(json_object_get(run->obj, "metadata"), "resourceVersion", NULL);
	json_t *patch =
	    json_pack("{s:{s:o, s:s?}}", "metadata", "finalizers", list, "resourceVersion", rv);
	struct sl_kube_write_opts opts = {.field_manager = SL_KS_STATUS_MANAGER};
	int r = sl_kube_patch(run->w->kube, &sl_kube_res_kustomizations, run->ns, run->name,
	                      SL_KUBE_PATCH_MERGE, patch, &opts, NULL, err);
	json_decref(patch);
	if (r == SL_ENOTFOUND && !present)
		return 0;
	return r < 0 ? sl_error_wrap(err, r, "%s finalizer", present ? "adding" : "removing") : 0;
}

/* ---- identity -------------------------------------------------------------- */

/* The client applies go through: the worker's own, or one impersonating
 * system:serviceaccount:<ns>:<sa> (Flux's multi-tenancy lockdown). */
static int select_identity(struct run *run, const char *service_account, struct sl_error *err)
{
	run->kube = run->w->kube;
	if (!service_account || !*service_account)
		return 0;
	/* A DNS-1123 subdomain and nothing else: the name goes into an HTTP
	 * header, and the controller is cluster-admin. */
	size_t len = strlen(service_account);
	bool valid = len <= 253 && isalnum((unsigned char)service_account[0]) &&
	             isalnum((unsigned char)service_account[len - 1]);
	for (const char *c = service_account; valid && *c; c++)
		valid =
		    (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.';
	if (!valid)
		return sl_error_set(err, SL_EINVAL,
		                    "invalid spec.serviceAccountName: not a valid service account "
		                    "name");
	if (!run->w->kube_as) {
		struct sl_kube_client_opts opts = {.field_manager = SL_KUSTOMIZE_CONTROLLER};
		int r = sl_kube_new(sl_kube_config_of(run->w->kube), &opts, &run->w->kube_as, err);
		if (r < 0)
			return sl_error_wrap(err, r, "failed to build kube client");
	}
	_cleanup_free_ char *user =
	    sl_asprintf("system:serviceaccount:%s:%s", run->ns, service_account);
	int r = sl_kube_set_impersonation(run->w->kube_as, user, err);
	if (r < 0)
		return r;
	run->kube = run->w->kube_as;
	return 0;
}

/* ---- spec ------------------------------------------------------------------ */

static int parse_duration_field(const json_t *spec, const char *field, int64_t def, int64_t *ret,
                                struct sl_error *err)
{
	const char *text = json_string_value(json_object_get(spec, field));
	if (!text || !*text) {
		*ret = def;
		return 0;
	}
	if (sl_duration_parse(text, ret, err) < 0 || *ret < 0)
		return sl_error_set(err, SL_EINVAL, "invalid %s '%s'", field, text);
	return 0;
}

/* Fields sluice does not implement yet fail the reconcile by name rather
 * than being ignored: a Kustomization that asks for impersonation or
 * decryption must never be applied without it. */
static const char *const unsupported_fields[] = {
    "kubeConfig",
    "decryption",
    "healthCheckExprs",
    "ignore",
};

/* Flux's GetTimeout(): spec.timeout, else interval - 30s, at least 30s. */
static int get_timeout(const json_t *spec, int64_t interval_ms, int64_t *ret, struct sl_error *err)
{
	int64_t def = interval_ms - 30000 > 30000 ? interval_ms - 30000 : 30000;
	return parse_duration_field(spec, "timeout", def, ret, err);
}

static int parse_spec(struct run *run, struct sl_error *err)
{
	const json_t *spec = json_object_get(run->obj, "spec");
	struct ks_spec *s = &run->spec;
	int r = parse_duration_field(spec, "interval", 0, &s->interval_ms, err);
	r = r ?: parse_duration_field(spec, "retryInterval", s->interval_ms, &s->retry_ms, err);
	r = r ?: get_timeout(spec, s->interval_ms, &s->timeout_ms, err);
	if (r < 0)
		return r;
	s->prune = json_is_true(json_object_get(spec, "prune"));
	s->wait = json_is_true(json_object_get(spec, "wait"));
	s->force = json_is_true(json_object_get(spec, "force"));
	s->suspend = json_is_true(json_object_get(spec, "suspend"));
	s->path = obj_str(spec, "path", NULL);
	const json_t *src = json_object_get(spec, "sourceRef");
	s->source_kind = obj_str(src, "kind", NULL);
	s->source_name = obj_str(src, "name", NULL);
	s->source_ns = obj_str(src, "namespace", NULL);
	if (!s->source_ns || !*s->source_ns)
		s->source_ns = run->ns;
	s->health_checks = json_object_get(spec, "healthChecks");
	s->depends_on = json_object_get(spec, "dependsOn");
	s->substitute_from = json_object_get(json_object_get(spec, "postBuild"), "substituteFrom");
	s->service_account = obj_str(spec, "serviceAccountName", NULL);
	if (!s->source_kind || !s->source_name)
		return sl_error_set(err, SL_EINVAL, "spec.sourceRef needs a kind and a name");
	for (size_t i = 0; i < SL_ARRAY_SIZE(unsupported_fields); i++) {
		const json_t *v = json_object_get(spec, unsupported_fields[i]);
		if (v && !json_is_null(v) && !(json_is_string(v) && !*json_string_value(v)) &&
		    !(json_is_array(v) && json_array_size(v) == 0))
			return sl_error_set(err, SL_EUNSUPPORTED,
			                    "spec.%s is not supported by sluice yet: refusing to "
			                    "apply without it",
			                    unsupported_fields[i]);
	}
	return 0;
}

/* ---- failure bookkeeping ---------------------------------------------------- */

struct ks_failure {
	const char *reason;
	int64_t requeue_ms; /* 0: retryInterval */
	bool quiet;         /* no event */
	struct sl_error err;
};

static int fail(struct ks_failure *f, const char *reason, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct ks_failure *f, const char *reason, int code, const char *fmt, ...)
{
	f->reason = reason;
	va_list ap;
	va_start(ap, fmt);
	char msg[SL_ERROR_MAX];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sl_error_set(&f->err, code, "%s", msg);
}

/* ---- dependencies ------------------------------------------------------------ */

static int check_dependencies(struct run *run, struct ks_failure *f)
{
	size_t i;
	const json_t *dep;
	json_array_foreach (run->spec.depends_on, i, dep) {
		const char *name = obj_str(dep, "name", NULL);
		const char *ns = obj_str(dep, "namespace", NULL);
		if (!ns || !*ns)
			ns = run->ns;
		if (!name)
			continue;
		json_t *d = sl_kube_informer_get(run->w->rc->informer, ns, name);
		int r = 0;
		if (!d) {
			r = fail(f, REASON_DEPENDENCY, SL_ENOTFOUND, "dependency '%s/%s' not found",
			         ns, name);
		} else {
			const json_t *status = json_object_get(d, "status");
			bool ready =
			    json_array_size(json_object_get(status, "conditions")) > 0 &&
			    generation_of(d) ==
			        json_integer_value(json_object_get(status, "observedGeneration")) &&
			    sl_condition_is_true(status, SL_COND_READY);
			const json_t *dsrc =
			    json_object_get(json_object_get(d, "spec"), "sourceRef");
			const char *dsrc_ns = obj_str(dsrc, "namespace", NULL);
			bool same_source =
			    obj_str(dsrc, "kind", NULL) && obj_str(dsrc, "name", NULL) &&
			    strcmp(obj_str(dsrc, "kind", NULL), run->spec.source_kind) == 0 &&
			    strcmp(obj_str(dsrc, "name", NULL), run->spec.source_name) == 0 &&
			    strcmp(dsrc_ns && *dsrc_ns ? dsrc_ns : ns, run->spec.source_ns) == 0;
			const char *applied = obj_str(status, "lastAppliedRevision", NULL);
			if (!ready)
				r = fail(f, REASON_DEPENDENCY, SL_EINVAL,
				         "dependency '%s/%s' is not ready", ns, name);
			else if (same_source && run->revision &&
			         (!applied || strcmp(applied, run->revision) != 0))
				r = fail(f, REASON_DEPENDENCY, SL_EINVAL,
				         "dependency '%s/%s' revision is not up to date", ns, name);
		}
		json_decref(d);
		if (r < 0) {
			f->requeue_ms = run->w->rc->requeue_dependency_ms;
			return r;
		}
	}
	return 0;
}

/* ---- the artifact ------------------------------------------------------------ */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void remove_tree(char **dir)
{
	if (*dir) {
		nftw(*dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(*dir);
	}
}

/* The artifact URL with its host replaced by $SOURCE_CONTROLLER_LOCALHOST
 * when set: Flux's way to reach a source-controller from outside the
 * cluster (or through a port-forward). */
static char *source_url(const char *url)
{
	const char *host = getenv("SOURCE_CONTROLLER_LOCALHOST");
	const char *scheme_end = strstr(url, "://");
	if (!host || !*host || !scheme_end)
		return sl_strdup(url);
	const char *path = strchr(scheme_end + 3, '/');
	return sl_asprintf("%.*s%s%s", (int)(scheme_end + 3 - url), url, host, path ? path : "");
}

/* The source's artifact, digest verified, extracted into a new temporary
 * directory (*ret_dir). */
static int fetch_artifact(struct run *run, const json_t *artifact, char **ret_dir,
                          struct ks_failure *f)
{
	struct sl_ks_reconciler *rc = run->w->rc;
	const char *path = obj_str(artifact, "path", NULL);
	const char *digest = obj_str(artifact, "digest", NULL);
	const char *url = obj_str(artifact, "url", NULL);
	if (!digest || !*digest)
		return fail(f, REASON_ARTIFACT_FAILED, SL_EINVAL, "empty digest");
	struct sl_error err = {0};
	_cleanup_close_ int fd = -1;
	int r;
	if (rc->storage && path && sl_storage_exists(rc->storage, path)) {
		/* Stored by this process: read it where it lies. */
		r = sl_storage_verify(rc->storage, path, digest, &err);
		if (r == 0)
			r = sl_storage_open(rc->storage, path, &fd, &err);
		if (r < 0)
			return fail(f, REASON_ARTIFACT_FAILED, r, "failed to verify archive: %s",
			            err.msg);
	} else if (url && *url) {
		/* Another controller's (another shard, Flux's source-controller):
		 * over HTTP, as kustomize-controller fetches, digest checked. */
		_cleanup_free_ char *fetch_url = source_url(url);
		fd = sl_tmpfile(&err);
		r = fd < 0 ? fd
		           : sl_http_fetch_verified(fetch_url, digest, rc->max_artifact_bytes,
		                                    run->spec.timeout_ms, fd, &err);
		if (r == SL_ENOTFOUND) {
			f->requeue_ms = rc->requeue_dependency_ms;
			return fail(f, REASON_ARTIFACT_FAILED, r,
			            "Source is not ready, artifact not found, retrying in %llds",
			            (long long)(rc->requeue_dependency_ms / 1000));
		}
		if (r == SL_EDIGEST)
			return fail(f, REASON_ARTIFACT_FAILED, r, "failed to verify archive: %s",
			            err.msg);
		if (r < 0)
			return fail(f, REASON_ARTIFACT_FAILED, r, "%s", err.msg);
	} else {
		f->requeue_ms = rc->requeue_dependency_ms;
		return fail(f, REASON_ARTIFACT_FAILED, SL_ENOTFOUND,
		            "Source is not ready, artifact not found, retrying in %llds",
		            (long long)(rc->requeue_dependency_ms / 1000));
	}
	_cleanup_free_ char *dir = sl_asprintf("%s/kustomization-XXXXXX", sl_tmpdir());
	if (!mkdtemp(dir))
		return fail(f, REASON_DIR_FAILED, SL_EIO, "tmp dir error: %s", strerror(errno));
	struct sl_extract_limits limits = {.max_total_bytes = rc->max_artifact_bytes};
	r = sl_tar_extract(fd, dir, &limits, NULL, NULL, &err);
	if (r < 0) {
		remove_tree(&dir);
		dir = NULL;
		return fail(f, REASON_ARTIFACT_FAILED, r, "failed to extract archive: %s", err.msg);
	}
	*ret_dir = TAKE_PTR(dir);
	return 0;
}

/* ---- build ---------------------------------------------------------------------- */

static struct sl_node *json_to_node(const json_t *v, struct sl_error *err)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text) {
		sl_error_set(err, SL_ENOMEM, "encoding JSON");
		return NULL;
	}
	struct sl_node *docs = NULL;
	int r = sl_yaml_parse(text, strlen(text), "object", &docs, err);
	free(text);
	if (r < 0)
		return NULL;
	struct sl_node *doc = sl_node_seq_take(docs, 0);
	sl_node_free(docs);
	return doc;
}

static json_t *node_to_json(const struct sl_node *n, struct sl_error *err)
{
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 0);
	if (sl_json_emit(&b, n, err) < 0)
		return NULL;
	json_error_t jerr;
	json_t *v = json_loadb(b.data, b.len, 0, &jerr);
	if (!v)
		sl_error_set(err, SL_EINVAL, "re-reading a built object: %s", jerr.text);
	return v;
}

/* postBuild.substituteFrom: the ConfigMaps' and Secrets' data in ns, in
 * order, later ones winning, as a map node (NULL when there are none). */
static int substitute_vars(struct sl_kube *k, const char *ns, const json_t *refs,
                           struct sl_node **ret, struct sl_error *err)
{
	*ret = NULL;
	if (!json_array_size(refs))
		return 0;
	struct sl_node *vars = sl_node_new_map();
	size_t i;
	const json_t *ref;
	json_array_foreach (refs, i, ref) {
		const char *kind = obj_str(ref, "kind", NULL);
		const char *name = obj_str(ref, "name", NULL);
		bool optional = json_is_true(json_object_get(ref, "optional"));
		bool secret = kind && strcmp(kind, "Secret") == 0;
		if (!kind || !name)
			continue;
		json_t *obj = NULL;
		int r = sl_kube_get(k, secret ? &sl_kube_res_secrets : &sl_kube_res_configmaps, ns,
		                    name, &obj, err);
		if (r == SL_ENOTFOUND && optional)
			continue;
		if (r < 0) {
			sl_node_free(vars);
			return sl_error_wrap(err, r, "substitute from '%s/%s' error", kind, name);
		}
		const char *key;
		const json_t *value;
		json_object_foreach (json_object_get(obj, "data"), key, value) {
			const char *text = json_string_value(value);
			if (!text)
				continue;
			char *decoded = NULL;
			ssize_t n =
			    secret ? sl_base64_decode(text, &decoded) : (ssize_t)strlen(text);
			if (n < 0) {
				free(decoded);
				continue;
			}
			sl_node_map_set(vars, key,
			                sl_node_new_strn(secret ? decoded : text, (size_t)n));
			free(decoded);
		}
		json_decref(obj);
	}
	*ret = vars;
	return 0;
}

int sl_ks_build_dir(struct sl_kube *k, const json_t *ks, const char *root, const char *dir,
                    json_t **ret_objects, struct sl_error *err)
{
	const json_t *meta = json_object_get(ks, "metadata");
	const char *ks_name = obj_str(meta, "name", NULL);
	const char *ks_ns = obj_str(meta, "namespace", NULL);
	_cleanup_node_ struct sl_node *flux = json_to_node(ks, err);
	if (!flux)
		return sl_error_wrap(err, err->code, "reading the Kustomization");
	_cleanup_node_ struct sl_node *vars = NULL;
	const json_t *refs = json_object_get(
	    json_object_get(json_object_get(ks, "spec"), "postBuild"), "substituteFrom");
	int r = substitute_vars(k, ks_ns, refs, &vars, err);
	if (r < 0)
		return r;
	/* Strict substitution: kustomize-controller's default since 1.9. */
	struct sl_kustomize_options opts = {
	    .flux = flux, .substitute_from = vars, .strict_substitute = true, .root = root};
	_cleanup_node_ struct sl_node *objects = NULL;
	r = sl_kustomize_build(dir, &opts, &objects, err);
	if (r < 0)
		return sl_error_wrap(err, r, "kustomize build failed");
	json_t *built = node_to_json(objects, err);
	if (!built || !json_is_array(built)) {
		json_decref(built);
		return sl_error_wrap(err, SL_EINVAL, "kustomize build failed");
	}
	json_t *out = json_array();
	size_t i;
	json_t *obj;
	json_array_foreach (built, i, obj) {
		/* kustomize's own Kustomization objects are not applied (Flux's
		 * ReadObjects drops them). */
		const char *api = obj_str(obj, "apiVersion", NULL);
		if (api && sl_startswith(api, "kustomize.config.k8s.io/"))
			continue;
		json_t *m = json_object_get(obj, "metadata");
		if (!json_is_object(m) || !obj_str(m, "name", NULL) ||
		    !obj_str(obj, "kind", NULL) || !api) {
			json_decref(built);
			json_decref(out);
			return sl_error_set(
			    err, SL_EINVAL,
			    "failed to decode Kubernetes apiVersion, kind and name from "
			    "object %zu of the build",
			    i);
		}
		json_t *labels = json_object_get(m, "labels");
		if (!json_is_object(labels)) {
			labels = json_object();
			json_object_set_new(m, "labels", labels);
		}
		if (ks_name && ks_ns) {
			json_object_set_new(labels, SL_KS_LABEL_NAME, json_string(ks_name));
			json_object_set_new(labels, SL_KS_LABEL_NAMESPACE, json_string(ks_ns));
		}
		sl_apply_normalize(obj);
		json_array_append(out, obj);
	}
	json_decref(built);
	*ret_objects = out;
	return 0;
}

/* Builds the artifact's path with the Kustomization's overlays: a JSON
 * array of objects in kustomize's order. */
static int build(struct run *run, const char *root, json_t **ret, struct ks_failure *f)
{
	const char *rel = run->spec.path && *run->spec.path ? run->spec.path : ".";
	/* securejoin: the path stays inside the artifact. */
	if (rel[0] == '/' || strstr(rel, "..")) {
		for (const char *p = rel; *p;) {
			const char *slash = strchr(p, '/');
			size_t n = slash ? (size_t)(slash - p) : strlen(p);
			if (n == 2 && strncmp(p, "..", 2) == 0)
				return fail(f, REASON_ARTIFACT_FAILED, SL_EINVAL,
				            "kustomization path '%s' leaves the artifact", rel);
			p += n + (slash ? 1 : 0);
		}
	}
	_cleanup_free_ char *dir = sl_asprintf("%s/%s", root, rel[0] == '/' ? rel + 1 : rel);
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return fail(f, REASON_ARTIFACT_FAILED, SL_ENOTFOUND,
		            "kustomization path not found: stat %s: no such file or directory",
		            dir);
	if (run->revision)
		json_object_set_new(run->status, "lastAttemptedRevision",
		                    json_string(run->revision));

	struct sl_error err = {0};
	int r = sl_ks_build_dir(run->w->kube, run->obj, root, dir, ret, &err);
	if (r < 0)
		return fail(f, REASON_BUILD_FAILED, r, "%s", err.msg);
	return 0;
}

/* ---- apply ------------------------------------------------------------------------ */

struct change {
	struct sl_object_ref ref;
	enum sl_change_action action;
	json_t *desired; /* the object as applied (owner labels set) */
	struct sl_kube_resource res;
};

struct change_set {
	struct change *items;
	size_t n;
};

static void change_set_clear(struct change_set *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		sl_object_ref_clear(&cs->items[i].ref);
		json_decref(cs->items[i].desired);
	}
	free(cs->items);
	*cs = (struct change_set){0};
}

static int cmp_change(const void *a, const void *b)
{
	return sl_apply_order_cmp(&((const struct change *)a)->ref,
	                          &((const struct change *)b)->ref);
}

/* "<Kind>/<ns>/<name> <action>" lines for the actions that changed
 * something (or every line with all). */
static char *change_set_text(const struct change_set *cs, bool all)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	for (size_t i = 0; i < cs->n; i++) {
		enum sl_change_action a = cs->items[i].action;
		if (!all && (a == SL_CHANGE_UNCHANGED || a == SL_CHANGE_SKIPPED))
			continue;
		_cleanup_free_ char *subject = sl_change_subject(&cs->items[i].ref);
		sl_buf_printf(&b, "%s%s %s", b.len ? "\n" : "", subject, sl_change_action_name(a));
	}
	return b.data ? sl_buf_steal(&b) : sl_strdup("");
}

/* The StatusReason and the API server's message from a kube error
 * ("PATCH <url>: 422 Invalid: <message>"), for Flux's wording. */
static void split_kube_error(const char *msg, char *reason, size_t size, const char **ret_message)
{
	*ret_message = msg;
	snprintf(reason, size, "%s", "Unknown");
	const char *p = strstr(msg, ": ");
	while (p) {
		char *end = NULL;
		long code = strtol(p + 2, &end, 10);
		if (code >= 400 && code < 600 && end && *end == ' ') {
			const char *r = end + 1;
			const char *colon = strstr(r, ": ");
			size_t n = colon ? (size_t)(colon - r) : strlen(r);
			snprintf(reason, size, "%.*s", (int)n, r);
			*ret_message = colon ? colon + 2 : "";
			return;
		}
		p = strstr(p + 2, ": ");
	}
}

static bool is_immutable_error(const struct sl_error *err)
{
	return err->code == SL_KUBE_ECONFLICT || err->code == SL_KUBE_EINVALID ||
	       strstr(err->msg, "immutable") != NULL;
}

/* Drift between the live object and what a dry-run apply makes of it:
 * labels, annotations, or anything outside metadata and status. */
static bool drifted(const json_t *existing, const json_t *dry)
{
	const json_t *em = json_object_get(existing, "metadata");
	const json_t *dm = json_object_get(dry, "metadata");
	if (!json_object_get(dm, "resourceVersion"))
		return true;
	const char *fields[] = {"labels", "annotations"};
	for (size_t i = 0; i < 2; i++) {
		const json_t *a = json_object_get(em, fields[i]);
		const json_t *b = json_object_get(dm, fields[i]);
		if ((a && json_object_size(a)) || (b && json_object_size(b)))
			if (!a || !b || !json_equal(a, b))
				return true;
	}
	json_t *x = json_deep_copy(existing), *y = json_deep_copy(dry);
	json_object_del(x, "metadata");
	json_object_del(x, "status");
	json_object_del(y, "metadata");
	json_object_del(y, "status");
	bool diff = !json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return diff;
}

/* Sleeps ms, in slices, waking early (false) when the controller stops:
 * a health check of minutes must not hold up a shutdown. */
static bool sleep_unless_stopping(struct run *run, int64_t ms)
{
	const atomic_bool *stop = run->w->rc->stop;
	while (ms > 0) {
		if (stop && atomic_load(stop))
			return false;
		int64_t slice = ms < 200 ? ms : 200;
		usleep((useconds_t)slice * 1000);
		ms -= slice;
	}
	return !(stop && atomic_load(stop));
}

static int wait_gone(struct run *run, const struct sl_kube_resource *res, const char *ns,
                     const char *name, int64_t timeout_ms)
{
	int64_t deadline = sl_now_ms() + timeout_ms;
	for (;;) {
		json_t *obj = NULL;
		struct sl_error err = {0};
		int r = sl_kube_get(run->kube, res, ns, name, &obj, &err);
		json_decref(obj);
		if (r == SL_ENOTFOUND)
			return 0;
		if (sl_now_ms() > deadline || !sleep_unless_stopping(run, 500))
			return SL_ENET;
	}
}

void sl_ks_dry_run_clear(struct sl_ks_dry_run *d)
{
	json_decref(d->live);
	json_decref(d->dry);
	d->live = d->dry = NULL;
}

int sl_ks_dry_run(struct sl_kube *k, const json_t *desired, struct sl_ks_dry_run *ret,
                  struct sl_error *err)
{
	struct sl_ks_dry_run d = {.action = SL_CHANGE_UNKNOWN};
	struct sl_object_ref ref = {0};
	int r = sl_object_ref_from_json(desired, &ref, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *subject = sl_change_subject(&ref);
	r = sl_kube_resource_of(k, desired, &d.res, err);
	if (r < 0) {
		sl_object_ref_clear(&ref);
		return sl_error_wrap(err, r, "%s", subject);
	}
	const char *ns = d.res.namespaced ? ref.namespace_ : NULL;
	if (d.res.namespaced && !*ref.namespace_) {
		sl_object_ref_clear(&ref);
		return sl_error_set(err, SL_EINVAL, "%s namespace not specified", subject);
	}
	r = sl_kube_get(k, &d.res, ns, ref.name, &d.live, err);
	sl_object_ref_clear(&ref);
	if (r < 0 && r != SL_ENOTFOUND)
		return sl_error_wrap(err, r, "%s", subject);
	if ((d.live && (sl_object_marked(d.live, SL_KS_ANN_RECONCILE, "disabled") ||
	                sl_object_marked(d.live, SL_KS_ANN_SSA, "Ignore"))) ||
	    sl_object_marked(desired, SL_KS_ANN_RECONCILE, "disabled") ||
	    sl_object_marked(desired, SL_KS_ANN_SSA, "Ignore") ||
	    (d.live && sl_object_marked(desired, SL_KS_ANN_SSA, "IfNotPresent"))) {
		d.action = SL_CHANGE_SKIPPED;
		*ret = d;
		return 0;
	}
	struct sl_kube_write_opts dry_opts = {
	    .field_manager = SL_KUSTOMIZE_CONTROLLER, .force = true, .dry_run = true};
	r = sl_kube_apply(k, &d.res, desired, &dry_opts, &d.dry, err);
	if (r < 0) {
		d.immutable = d.live && is_immutable_error(err);
		char reason[64];
		const char *message;
		_cleanup_free_ char *copy = sl_strdup(err->msg);
		split_kube_error(copy, reason, sizeof(reason), &message);
		if (r == SL_ENOTFOUND)
			sl_error_set(err, r, "%s not found: %s", subject, message);
		else
			sl_error_set(err, r, "%s dry-run failed (%s): %s", subject, reason,
			             message);
		*ret = d; /* live and immutable, for a caller that recreates */
		return r;
	}
	d.action = !d.live                  ? SL_CHANGE_CREATED
	           : drifted(d.live, d.dry) ? SL_CHANGE_CONFIGURED
	                                    : SL_CHANGE_UNCHANGED;
	*ret = d;
	return 0;
}

/* One object: the dry run (recreating the object when an immutable field
 * changed and force is on), then the apply when it would change anything. */
static int apply_one(struct run *run, struct change *c, struct sl_error *err)
{
	struct sl_kube *k = run->kube;
	struct sl_ks_dry_run d = {0};
	int r = sl_ks_dry_run(k, c->desired, &d, err);
	c->res = d.res;
	if (r == 0 && !c->res.namespaced && *c->ref.namespace_) {
		/* The inventory names cluster-scoped objects without one. */
		free(c->ref.namespace_);
		c->ref.namespace_ = sl_strdup("");
	}
	const char *ns = c->res.namespaced ? c->ref.namespace_ : NULL;
	bool force = run->spec.force || sl_object_marked(c->desired, SL_KS_ANN_FORCE, "enabled") ||
	             (d.live && sl_object_marked(d.live, SL_KS_ANN_FORCE, "enabled"));
	if (r < 0 && d.immutable && force) {
		struct sl_kube_delete_opts del = {.propagation_policy = "Background"};
		r = sl_kube_delete(k, &c->res, ns, c->ref.name, &del, err);
		sl_ks_dry_run_clear(&d);
		if ((r == 0 || r == SL_ENOTFOUND) &&
		    wait_gone(run, &c->res, ns, c->ref.name, run->spec.timeout_ms) == 0) {
			r = sl_ks_dry_run(k, c->desired, &d, err);
		} else if (r == 0) {
			_cleanup_free_ char *subject = sl_change_subject(&c->ref);
			r = sl_error_set(err, SL_ENET, "%s was not deleted in time for recreation",
			                 subject);
		}
	}
	if (r < 0) {
		sl_ks_dry_run_clear(&d);
		return r;
	}
	c->action = d.action;
	sl_ks_dry_run_clear(&d);
	if (c->action != SL_CHANGE_CREATED && c->action != SL_CHANGE_CONFIGURED)
		return 0;
	struct sl_kube_write_opts opts = {.field_manager = SL_KUSTOMIZE_CONTROLLER, .force = true};
	r = sl_kube_apply(k, &c->res, c->desired, &opts, NULL, err);
	if (r < 0) {
		_cleanup_free_ char *subject = sl_change_subject(&c->ref);
		return sl_error_wrap(err, r, "%s apply failed", subject);
	}
	return 0;
}

/* kstatus of the live object; NotFound when it is gone. */
static enum sl_kstatus live_status(struct run *run, const struct change *c, char **ret_message)
{
	json_t *obj = NULL;
	struct sl_error err = {0};
	const char *ns = c->res.namespaced ? c->ref.namespace_ : NULL;
	int r = sl_kube_get(run->kube, &c->res, ns, c->ref.name, &obj, &err);
	if (r == SL_ENOTFOUND) {
		/* A Job with ttlSecondsAfterFinished is deleted once it finished:
		 * gone is done (Flux 1.8). */
		const json_t *ttl = c->desired
		                        ? json_object_get(json_object_get(c->desired, "spec"),
		                                          "ttlSecondsAfterFinished")
		                        : NULL;
		if (ttl && json_is_integer(ttl) && strcmp(c->ref.kind, "Job") == 0 &&
		    strcmp(c->ref.group, "batch") == 0) {
			*ret_message = sl_strdup("finished and deleted after its TTL");
			return SL_KSTATUS_CURRENT;
		}
		*ret_message = sl_strdup("not found");
		return SL_KSTATUS_NOT_FOUND;
	}
	if (r < 0) {
		*ret_message = sl_strdup(err.msg);
		return SL_KSTATUS_UNKNOWN;
	}
	enum sl_kstatus s = sl_kstatus_compute(obj, ret_message);
	json_decref(obj);
	return s;
}

/* Waits until every item is Current, polling; with fail_fast a Failed one
 * ends the wait early (health checks; Flux's stage waits have none).
 * Returns 0, or SL_ENET with Flux's text of what was not ready in
 * *ret_text. */
static int wait_for(struct run *run, const struct change *const *items, size_t n,
                    int64_t timeout_ms, bool fail_fast, char **ret_text)
{
	int64_t poll = run->w->rc->health_poll_ms > 0 ? run->w->rc->health_poll_ms : 2000;
	int64_t deadline = sl_now_ms() + timeout_ms;
	for (;;) {
		struct sl_buf pending;
		sl_buf_init(&pending, 0);
		bool failed = false;
		for (size_t i = 0; i < n; i++) {
			_cleanup_free_ char *msg = NULL;
			enum sl_kstatus s = live_status(run, items[i], &msg);
			if (s == SL_KSTATUS_CURRENT)
				continue;
			failed |= s == SL_KSTATUS_FAILED;
			_cleanup_free_ char *subject = sl_change_subject(&items[i]->ref);
			/* Flux's text: the kstatus message only when the status
			 * could not be read. */
			bool why = s == SL_KSTATUS_UNKNOWN && msg && *msg;
			sl_buf_printf(&pending, "%s%s status: '%s'%s%s", pending.len ? ", " : "",
			              subject, sl_kstatus_name(s), why ? ": " : "", why ? msg : "");
		}
		if (!pending.len)
			return 0;
		int64_t now = sl_now_ms();
		if ((failed && fail_fast) || now >= deadline) {
			*ret_text = sl_asprintf("%s: [%s]",
			                        failed && fail_fast
			                            ? "failed early due to stalled resources"
			                            : "timeout waiting for",
			                        pending.data);
			sl_buf_free(&pending);
			return SL_ENET;
		}
		sl_buf_free(&pending);
		int64_t sleep_ms = deadline - now < poll ? deadline - now : poll;
		if (!sleep_unless_stopping(run, sleep_ms)) {
			*ret_text = sl_strdup("the controller is stopping");
			return SL_ENET;
		}
	}
}

/* Applies the build in Flux's stages; the definitions and classes are
 * waited for before what may depend on them. cs gets every object, in
 * order, with the action taken (unknown for those not reached). */
static int apply_all(struct run *run, json_t *objects, struct change_set *cs, struct ks_failure *f)
{
	size_t n = json_array_size(objects);
	cs->items = sl_xcalloc(n + 1, sizeof(*cs->items));
	struct sl_error err = {0};
	for (size_t i = 0; i < n; i++) {
		json_t *obj = json_array_get(objects, i);
		struct change *c = &cs->items[cs->n];
		if (sl_object_ref_from_json(obj, &c->ref, &err) < 0) {
			return fail(f, REASON_BUILD_FAILED, SL_EINVAL,
			            "failed to decode Kubernetes apiVersion, kind and name: %s",
			            err.msg);
		}
		cs->n++;
		c->desired = json_incref(obj);
		c->action = SL_CHANGE_UNKNOWN;
	}
	qsort(cs->items, cs->n, sizeof(*cs->items), cmp_change);

	for (int stage = SL_STAGE_DEFINITIONS; stage <= SL_STAGE_REST; stage++) {
		const struct change **waits = sl_xcalloc(cs->n + 1, sizeof(*waits));
		size_t n_waits = 0;
		for (size_t i = 0; i < cs->n; i++) {
			struct change *c = &cs->items[i];
			if ((int)sl_apply_stage_of(c->ref.group, c->ref.kind) != stage)
				continue;
			if (apply_one(run, c, &err) < 0) {
				free(waits);
				return fail(f, REASON_FAILED, err.code, "%s", err.msg);
			}
			if (c->action != SL_CHANGE_SKIPPED)
				waits[n_waits++] = c;
		}
		int r = 0;
		_cleanup_free_ char *text = NULL;
		if (stage != SL_STAGE_REST && n_waits)
			r = wait_for(run, waits, n_waits, STAGE_WAIT_MS, false, &text);
		free(waits);
		if (r < 0)
			return fail(f, REASON_FAILED, r, "%s", text);
	}
	return 0;
}

/* ---- inventory and prune ---------------------------------------------------------- */

static json_t *inventory_of(const struct change_set *cs)
{
	json_t *inv = sl_inventory_new();
	for (size_t i = 0; i < cs->n; i++)
		sl_inventory_add(inv, &cs->items[i].ref);
	return inv;
}

static bool inventory_has(const json_t *inventory, const char *id)
{
	size_t i;
	const json_t *e;
	json_array_foreach (json_object_get(inventory, "entries"), i, e) {
		const char *eid = obj_str(e, "id", NULL);
		if (eid && strcmp(eid, id) == 0)
			return true;
	}
	return false;
}

/* Deletes what left the inventory, in reverse apply order, unless it
 * lacks the owner labels (adopted by someone else) or opts out. */
static int prune(struct run *run, const json_t *old_inventory, const json_t *new_inventory,
                 struct change_set *pruned, struct ks_failure *f)
{
	struct sl_object_ref *stale = NULL;
	size_t n = 0;
	struct sl_error err = {0};
	int r = sl_inventory_stale(old_inventory, new_inventory, &stale, &n, &err);
	if (r < 0)
		return fail(f, REASON_PRUNE_FAILED, r, "%s", err.msg);
	pruned->items = sl_xcalloc(n + 1, sizeof(*pruned->items));
	struct sl_buf errors;
	sl_buf_init(&errors, 0);
	for (size_t i = 0; i < n; i++) {
		struct change *c = &pruned->items[pruned->n++];
		c->ref = stale[i];
		c->action = SL_CHANGE_UNKNOWN;
		_cleanup_free_ char *api = *c->ref.group
		                               ? sl_asprintf("%s/%s", c->ref.group, c->ref.version)
		                               : sl_strdup(c->ref.version);
		_cleanup_free_ char *id = sl_inventory_id(&c->ref);
		struct sl_error e = {0};
		r = sl_kube_discover(run->kube, api, c->ref.kind, &c->res, &e);
		if (r < 0) {
			/* A version no longer served is not a deleted object: keep
			 * it owned and say why (Flux fails the same way). */
			sl_buf_printf(&errors, "%s%s delete failed: %s", errors.len ? ";" : "", id,
			              e.msg);
			continue;
		}
		if (!c->res.namespaced && *c->ref.namespace_) {
			/* A cluster-scoped object recorded with a namespace (kustomize
			 * sets one on kinds it does not know): if the new inventory
			 * has it without, it is the same object, not a stale one. */
			struct sl_object_ref same = c->ref;
			same.namespace_ = "";
			_cleanup_free_ char *same_id = sl_inventory_id(&same);
			if (inventory_has(new_inventory, same_id)) {
				c->action = SL_CHANGE_SKIPPED;
				continue;
			}
		}
		json_t *live = NULL;
		const char *ns = c->res.namespaced ? c->ref.namespace_ : NULL;
		r = sl_kube_get(run->kube, &c->res, ns, c->ref.name, &live, &e);
		if (r == SL_ENOTFOUND) {
			c->action = SL_CHANGE_DELETED;
			continue;
		}
		if (r < 0) {
			sl_buf_printf(&errors, "%s%s delete failed: %s", errors.len ? ";" : "", id,
			              e.msg);
			continue;
		}
		/* Labels only, as Flux: an annotation claims nothing. */
		const json_t *labels = json_object_get(json_object_get(live, "metadata"), "labels");
		const char *owner = obj_str(labels, SL_KS_LABEL_NAME, NULL);
		const char *owner_ns = obj_str(labels, SL_KS_LABEL_NAMESPACE, NULL);
		bool ours = owner && owner_ns && strcmp(owner, run->name) == 0 &&
		            strcmp(owner_ns, run->ns) == 0;
		if (!ours || sl_object_marked(live, SL_KS_ANN_PRUNE, "disabled") ||
		    sl_object_marked(live, SL_KS_ANN_RECONCILE, "disabled") ||
		    sl_object_marked(live, SL_KS_ANN_SSA, "Ignore")) {
			c->action = SL_CHANGE_SKIPPED;
			json_decref(live);
			continue;
		}
		json_decref(live);
		struct sl_kube_delete_opts del = {.propagation_policy = "Background"};
		r = sl_kube_delete(run->kube, &c->res, ns, c->ref.name, &del, &e);
		if (r == 0 || r == SL_ENOTFOUND)
			c->action = SL_CHANGE_DELETED;
		else
			sl_buf_printf(&errors, "%s%s delete failed: %s", errors.len ? ";" : "", id,
			              e.msg);
	}
	free(stale);
	if (errors.len) {
		r = fail(f, REASON_PRUNE_FAILED, SL_EHTTP, "delete failed, errors: %s",
		         errors.data);
		sl_buf_free(&errors);
		return r;
	}
	sl_buf_free(&errors);
	return 0;
}

/* ---- finalization ------------------------------------------------------------------- */

static int finalize(struct run *run, struct sl_error *err)
{
	const json_t *spec = json_object_get(run->obj, "spec");
	const char *policy = obj_str(spec, "deletionPolicy", NULL);
	bool prune_on = json_is_true(json_object_get(spec, "prune"));
	bool suspended = json_is_true(json_object_get(spec, "suspend"));
	/* MirrorPrune (the default) follows spec.prune. */
	bool delete_objects = prune_on;
	if (policy && (strcmp(policy, "Delete") == 0 || strcmp(policy, "WaitForTermination") == 0))
		delete_objects = true;
	else if (policy && strcmp(policy, "Orphan") == 0)
		delete_objects = false;
	const json_t *inventory = json_object_get(run->status, "inventory");
	const char *sa = obj_str(spec, "serviceAccountName", NULL);
	int ir = select_identity(run, sa, err);
	if (ir < 0)
		return ir;
	if (delete_objects && !suspended && sa && *sa &&
	    json_array_size(json_object_get(inventory, "entries"))) {
		/* Impersonating a ServiceAccount that is gone would fail every
		 * delete forever: Flux leaves the objects and lets go. */
		struct sl_kube_resource sa_res;
		json_t *sa_obj = NULL;
		struct sl_error e = {0};
		sl_kube_resource_set(&sa_res, "v1", "ServiceAccount", "serviceaccounts", true, &e);
		if (sl_kube_get(run->w->kube, &sa_res, run->ns, sa, &sa_obj, &e) == SL_ENOTFOUND) {
			_cleanup_free_ char *msg =
			    sl_asprintf("unable to prune objects: service account %s/%s not found",
			                run->ns, sa);
			record_event(run, "Warning", REASON_PRUNE_FAILED, msg, false);
			delete_objects = false;
		}
		json_decref(sa_obj);
	}
	if (delete_objects && !suspended &&
	    json_array_size(json_object_get(inventory, "entries"))) {
		struct change_set pruned = {0};
		struct ks_failure f = {0};
		json_t *empty = sl_inventory_new();
		int r = prune(run, inventory, empty, &pruned, &f);
		json_decref(empty);
		if (pruned.n) {
			_cleanup_free_ char *text = change_set_text(&pruned, true);
			record_event(run, "Normal", ready_reason(run), text, false);
		}
		bool wait = r == 0 && policy && strcmp(policy, "WaitForTermination") == 0;
		/* One deadline for all of them. */
		int64_t interval_ms = 0, timeout_ms = 30000;
		struct sl_error derr = {0};
		parse_duration_field(spec, "interval", 0, &interval_ms, &derr);
		get_timeout(spec, interval_ms, &timeout_ms, &derr);
		int64_t deadline = sl_now_ms() + timeout_ms;
		for (size_t i = 0; wait && i < pruned.n; i++) {
			const struct change *c = &pruned.items[i];
			if (c->action != SL_CHANGE_DELETED)
				continue;
			int64_t left = deadline - sl_now_ms();
			if (left <= 0 ||
			    wait_gone(run, &c->res, c->res.namespaced ? c->ref.namespace_ : NULL,
			              c->ref.name, left) < 0) {
				record_event(run, "Warning", REASON_PRUNE_FAILED,
				             "failed to wait for resources termination", false);
				break;
			}
		}
		change_set_clear(&pruned);
		if (r < 0) {
			record_event(run, "Warning", REASON_PRUNE_FAILED,
			             "pruning for deleted resource failed", false);
			return sl_error_set(err, r, "%s", f.err.msg);
		}
	}
	if (run->w->rc->gotk)
		sl_gotk_delete(run->w->rc->gotk, SL_KS_KIND, run->ns, run->name);
	return set_finalizer(run, false, err);
}

/* ---- health -------------------------------------------------------------------------- */

/* The objects to wait for: every applied one with wait, else healthChecks
 * (resolved against the change set, or discovered). The Kustomization
 * itself never (it would wait for its own Ready). */
static int health_targets(struct run *run, struct change_set *cs, struct change_set *extra,
                          const struct change ***ret, size_t *ret_n, struct sl_error *err)
{
	const struct change **out =
	    sl_xcalloc(cs->n + json_array_size(run->spec.health_checks) + 1, sizeof(*out));
	size_t n = 0;
	bool self_kind = false;
	if (run->spec.wait) {
		for (size_t i = 0; i < cs->n; i++) {
			const struct change *c = &cs->items[i];
			self_kind = strcmp(c->ref.kind, SL_KS_KIND) == 0 &&
			            strcmp(c->ref.name, run->name) == 0 &&
			            strcmp(c->ref.namespace_, run->ns) == 0;
			if (c->action != SL_CHANGE_SKIPPED && !self_kind)
				out[n++] = c;
		}
	} else {
		size_t i;
		const json_t *hc;
		extra->items =
		    sl_xcalloc(json_array_size(run->spec.health_checks) + 1, sizeof(*extra->items));
		json_array_foreach (run->spec.health_checks, i, hc) {
			const char *api = obj_str(hc, "apiVersion", NULL);
			const char *kind = obj_str(hc, "kind", NULL);
			const char *name = obj_str(hc, "name", NULL);
			const char *ns = obj_str(hc, "namespace", NULL);
			if (!kind || !name)
				continue;
			struct change *c = &extra->items[extra->n];
			int r = sl_kube_discover(run->kube, api && *api ? api : "apps/v1", kind,
			                         &c->res, err);
			if (r < 0) {
				free(out);
				return sl_error_wrap(err, r, "health check %s/%s", kind, name);
			}
			extra->n++;
			c->ref.kind = sl_strdup(kind);
			c->ref.name = sl_strdup(name);
			c->ref.namespace_ = sl_strdup(ns && *ns ? ns : run->ns);
			c->ref.group = sl_strdup(c->res.group);
			c->ref.version = sl_strdup(c->res.version);
			if (!(strcmp(kind, SL_KS_KIND) == 0 && strcmp(name, run->name) == 0))
				out[n++] = c;
		}
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

static void format_duration(int64_t ms, char *out, size_t size)
{
	if (ms < 1000)
		snprintf(out, size, "%lldms", (long long)ms);
	else if (ms < 60000)
		snprintf(out, size, "%.3gs", (double)ms / 1000);
	else
		snprintf(out, size, "%lldm%llds", (long long)(ms / 60000),
		         (long long)(ms % 60000 / 1000));
}

/* ---- the reconcile -------------------------------------------------------------------- */

static int reconcile_source_and_apply(struct run *run, struct ks_failure *f)
{
	struct sl_ks_reconciler *rc = run->w->rc;
	struct ks_spec *s = &run->spec;
	if (strcmp(s->source_kind, SL_OCIREPO_KIND) != 0)
		return fail(f, REASON_ARTIFACT_FAILED, SL_EUNSUPPORTED,
		            "source kind '%s' is not supported by sluice yet (OCIRepository is)",
		            s->source_kind);
	json_t *source = sl_kube_informer_get(rc->sources, s->source_ns, s->source_name);
	if (!source) {
		/* Not watched here (another shard's label, another namespace
		 * with --watch-all-namespaces=false): read it live. */
		struct sl_error gerr = {0};
		int gr = sl_kube_get(run->w->kube, &sl_kube_res_ocirepositories, s->source_ns,
		                     s->source_name, &source, &gerr);
		if (gr == SL_ENOTFOUND)
			return fail(f, REASON_ARTIFACT_FAILED, SL_ENOTFOUND,
			            "OCIRepository.source.toolkit.fluxcd.io \"%s\" not found",
			            s->source_name);
		if (gr < 0)
			return fail(f, REASON_ARTIFACT_FAILED, gr, "%s", gerr.msg);
	}
	_cleanup_(json_decrefp) json_t *artifact =
	    json_incref(json_object_get(json_object_get(source, "status"), "artifact"));
	json_decref(source);
	if (!json_is_object(artifact)) {
		f->requeue_ms = rc->requeue_dependency_ms;
		f->quiet = true;
		return fail(f, REASON_ARTIFACT_FAILED, SL_ENOTFOUND,
		            "Source artifact not found, retrying in %llds",
		            (long long)(rc->requeue_dependency_ms / 1000));
	}
	const char *rev = obj_str(artifact, "revision", NULL);
	const char *origin =
	    obj_str(json_object_get(artifact, "metadata"), ORIGIN_REVISION_KEY, NULL);
	run->revision = rev ? sl_strdup(rev) : NULL;
	run->origin_revision = origin ? sl_strdup(origin) : NULL;
	int r = check_dependencies(run, f);
	if (r < 0)
		return r;

	char tmo[32];
	format_duration(s->timeout_ms, tmo, sizeof(tmo));
	sl_condition_set(run->status, &run->st, SL_COND_READY, SL_COND_UNKNOWN,
	                 SL_REASON_PROGRESSING, "Reconciliation in progress");
	sl_condition_mark_reconciling(run->status, &run->st, SL_REASON_PROGRESSING,
	                              "Fetching manifests for revision %s with a timeout of %s",
	                              run->revision ? run->revision : "", tmo);
	const char *attempted = obj_str(run->status, "lastAttemptedRevision", NULL);
	bool new_revision = !attempted || !run->revision || strcmp(attempted, run->revision) != 0;
	if (new_revision || generation_of(run->obj) != json_integer_value(json_object_get(
	                                                   run->status, "observedGeneration")))
		patch_status_best_effort(run);

	_cleanup_(remove_tree) char *dir = NULL;
	r = fetch_artifact(run, artifact, &dir, f);
	if (r < 0)
		return r;
	_cleanup_(json_decrefp) json_t *objects = NULL;
	r = build(run, dir, &objects, f);
	if (r < 0)
		return r;
	sl_condition_mark_reconciling(run->status, &run->st, SL_REASON_PROGRESSING,
	                              "Detecting drift for revision %s with a timeout of %s",
	                              run->revision ? run->revision : "", tmo);

	/* Write-ahead inventory (DESIGN.md): what is about to be applied is
	 * recorded before it exists, so a crash mid-apply never leaves objects
	 * that no inventory names and prune cannot find. */
	_cleanup_(json_decrefp) json_t *old_inventory =
	    json_incref(json_object_get(run->status, "inventory"));
	{
		struct change_set planned = {
		    .items = sl_xcalloc(json_array_size(objects) + 1, sizeof(*planned.items))};
		size_t i;
		json_t *obj;
		json_array_foreach (objects, i, obj) {
			struct sl_error e = {0};
			if (sl_object_ref_from_json(obj, &planned.items[planned.n].ref, &e) == 0)
				planned.n++;
		}
		json_t *planned_inv = inventory_of(&planned);
		change_set_clear(&planned);
		json_t *ahead = sl_inventory_union(old_inventory, planned_inv);
		json_decref(planned_inv);
		json_object_set_new(run->status, "inventory", ahead);
		struct sl_error werr = {0};
		if (patch_status(run, &werr) < 0)
			/* Nothing is applied unless its ownership is on record. */
			return fail(f, REASON_FAILED, werr.code, "recording the inventory: %s",
			            werr.msg);
	}

	struct change_set cs = {0};
	r = apply_all(run, objects, &cs, f);
	json_t *new_inventory = inventory_of(&cs);
	if (r < 0) {
		/* Keep everything it may own: the write-ahead union stays. */
		json_decref(new_inventory);
		_cleanup_free_ char *text = change_set_text(&cs, false);
		if (*text) {
			_cleanup_free_ char *first = sl_strdup(f->err.msg);
			sl_error_set(&f->err, f->err.code, "%s\n%s", first, text);
		}
		change_set_clear(&cs);
		return r;
	}
	_cleanup_free_ char *applied = change_set_text(&cs, false);
	if (*applied)
		record_event(run, "Normal", ready_reason(run), applied, false);
	json_object_set(run->status, "inventory", new_inventory);

	if (s->prune) {
		struct change_set pruned = {0};
		r = prune(run, old_inventory, new_inventory, &pruned, f);
		if (pruned.n) {
			_cleanup_free_ char *text = change_set_text(&pruned, true);
			record_event(run, "Normal", ready_reason(run), text, false);
		}
		if (r < 0) {
			/* Since Flux 1.9: what was not confirmed gone stays owned. */
			json_t *keep = sl_inventory_new();
			for (size_t i = 0; i < pruned.n; i++)
				if (pruned.items[i].action != SL_CHANGE_DELETED &&
				    pruned.items[i].action != SL_CHANGE_SKIPPED)
					sl_inventory_add(keep, &pruned.items[i].ref);
			json_object_set_new(run->status, "inventory",
			                    sl_inventory_union(new_inventory, keep));
			json_decref(keep);
		}
		change_set_clear(&pruned);
	}
	json_decref(new_inventory);
	if (r < 0) {
		change_set_clear(&cs);
		return r;
	}

	/* Health. */
	struct change_set extra = {0};
	const struct change **targets = NULL;
	size_t n_targets = 0;
	struct sl_error err = {0};
	r = health_targets(run, &cs, &extra, &targets, &n_targets, &err);
	if (r < 0) {
		change_set_clear(&cs);
		change_set_clear(&extra);
		return fail(f, REASON_HEALTH_FAILED, r, "%s", err.msg);
	}
	if (n_targets == 0) {
		sl_condition_delete(run->status, COND_HEALTHY);
	} else {
		bool was_healthy = sl_condition_is_true(run->status, COND_HEALTHY);
		sl_condition_mark_reconciling(
		    run->status, &run->st, SL_REASON_PROGRESSING,
		    "Running health checks for revision %s with a timeout "
		    "of %s",
		    run->revision ? run->revision : "", tmo);
		sl_condition_set(run->status, &run->st, COND_HEALTHY, SL_COND_UNKNOWN,
		                 SL_REASON_PROGRESSING,
		                 "Running health checks for revision %s with a timeout of %s",
		                 run->revision ? run->revision : "", tmo);
		patch_status_best_effort(run);
		int64_t start = sl_now_ms();
		_cleanup_free_ char *text = NULL;
		r = wait_for(run, targets, n_targets, s->timeout_ms, true, &text);
		char took[32];
		format_duration(sl_now_ms() - start, took, sizeof(took));
		if (r < 0) {
			sl_condition_set(run->status, &run->st, COND_HEALTHY, SL_COND_FALSE,
			                 REASON_HEALTH_FAILED, "%s", text);
			fail(f, REASON_HEALTH_FAILED, r, "health check failed after %s: %s", took,
			     text);
		} else {
			sl_condition_set(run->status, &run->st, COND_HEALTHY, SL_COND_TRUE,
			                 SL_REASON_SUCCEEDED, "Health check passed in %s", took);
			if (!was_healthy || *applied) {
				_cleanup_free_ char *msg =
				    sl_asprintf("Health check passed in %s", took);
				record_event(run, "Normal", ready_reason(run), msg, false);
			}
		}
	}
	free(targets);
	change_set_clear(&extra);
	change_set_clear(&cs);
	return r;
}

static int reconcile_object(struct run *run, struct sl_reconcile_result *out, struct sl_error *err)
{
	struct sl_ks_reconciler *rc = run->w->rc;
	const json_t *meta = json_object_get(run->obj, "metadata");
	if (json_object_get(meta, "deletionTimestamp"))
		return finalize(run, err);
	/* Flux adds the finalizer and requeues, a --min-retry-delay (750 ms)
	 * later for every new object. The patch carries the resourceVersion
	 * read and lands before anything is stored, which is all the
	 * init/delete race asks; so the reconcile goes on at once. */
	if (!has_finalizer(run->obj)) {
		int r = set_finalizer(run, true, err);
		if (r < 0)
			return r;
	}
	struct ks_failure f = {0};
	int r = parse_spec(run, &f.err);
	if (r == 0 && run->spec.suspend) {
		if (rc->gotk)
			sl_gotk_record_suspend(rc->gotk, SL_KS_KIND, run->ns, run->name, true);
		return 0;
	}
	if (rc->gotk)
		sl_gotk_record_suspend(rc->gotk, SL_KS_KIND, run->ns, run->name, false);
	if (r < 0) {
		/* A spec sluice cannot honour: terminal until the spec changes. */
		sl_condition_mark_stalled(run->status, &run->st,
		                          r == SL_EUNSUPPORTED ? REASON_UNSUPPORTED : REASON_FAILED,
		                          "%s", f.err.msg);
		sl_condition_set(run->status, &run->st, SL_COND_READY, SL_COND_FALSE,
		                 r == SL_EUNSUPPORTED ? REASON_UNSUPPORTED : REASON_FAILED, "%s",
		                 f.err.msg);
		json_object_set_new(run->status, "observedGeneration",
		                    json_integer(generation_of(run->obj)));
		sl_status_record_reconcile_request(run->status, run->obj);
		record_event(run, "Warning", ready_reason(run), f.err.msg, false);
		return patch_status(run, err);
	}

	r = select_identity(run, run->spec.service_account, &f.err);
	if (r < 0)
		f.reason = REASON_FAILED;
	else
		r = reconcile_source_and_apply(run, &f);
	sl_status_record_reconcile_request(run->status, run->obj);
	if (r < 0) {
		sl_condition_set(run->status, &run->st, SL_COND_READY, SL_COND_FALSE, f.reason,
		                 "%s", f.err.msg);
		const char *msg = sl_condition_message(run->status, SL_COND_RECONCILING);
		_cleanup_free_ char *keep =
		    sl_strdup(msg && *msg ? msg : "Reconciliation in progress");
		sl_condition_mark_reconciling(run->status, &run->st,
		                              SL_REASON_PROGRESSING_WITH_RETRY, "%s", keep);
		/* Flux's events: dependencies waited for are Normal news; a source
		 * without an artifact yet says nothing (it will have one). */
		if (strcmp(f.reason, REASON_DEPENDENCY) == 0) {
			_cleanup_free_ char *dep_msg = sl_asprintf(
			    "Dependencies do not meet ready condition, retrying in %llds",
			    (long long)(f.requeue_ms / 1000));
			record_event(run, "Normal", REASON_DEPENDENCY, dep_msg, false);
		} else if (!f.quiet) {
			record_event(run, "Warning", ready_reason(run), f.err.msg, false);
		}
		int pr = patch_status(run, err);
		if (pr < 0)
			return pr;
		/* Flux requeues failures at retryInterval, not with backoff. */
		out->requeue_after_ms = f.requeue_ms > 0 ? f.requeue_ms : run->spec.retry_ms;
		return 0;
	}
	sl_condition_set(run->status, &run->st, SL_COND_READY, SL_COND_TRUE, REASON_SUCCEEDED,
	                 "Applied revision: %s", run->revision ? run->revision : "");
	sl_condition_delete(run->status, SL_COND_RECONCILING);
	sl_condition_delete(run->status, SL_COND_STALLED);
	if (run->revision)
		json_object_set_new(run->status, "lastAppliedRevision", json_string(run->revision));
	if (run->origin_revision)
		json_object_set_new(run->status, "lastAppliedOriginRevision",
		                    json_string(run->origin_revision));
	json_object_set_new(run->status, "observedGeneration",
	                    json_integer(generation_of(run->obj)));
	r = patch_status(run, err);
	if (r < 0)
		return r;
	char took[32], next[32];
	format_duration((sl_clock_now_ns(rc->clock) - run->started_ns) / 1000000, took,
	                sizeof(took));
	format_duration(run->spec.interval_ms, next, sizeof(next));
	_cleanup_free_ char *msg =
	    sl_asprintf("Reconciliation finished in %s, next run in %s", took, next);
	record_event(run, "Normal", REASON_SUCCEEDED, msg, true);
	out->requeue_after_ms = sl_jitter_interval_ms(run->spec.interval_ms, rc->jitter_percent);
	return 0;
}

int sl_ks_reconcile(void *worker_ctx, const char *key, struct sl_reconcile_result *out,
                    struct sl_error *err)
{
	struct sl_ks_worker *w = worker_ctx;
	const char *slash = strchr(key, '/');
	if (!slash)
		return sl_error_set(err, SL_EINVAL, "bad key %s", key);
	_cleanup_free_ char *ns = sl_strndup(key, (size_t)(slash - key));
	const char *name = slash + 1;
	/* The live object, not the cache: the cache may not have our own last
	 * status write yet, and a stale inventory would orphan what the last
	 * run created. One GET per reconcile (and no cache read before it,
	 * which would only parse the cached text to throw it away). */
	json_t *cached = NULL;
	int gr = sl_kube_get(w->kube, &sl_kube_res_kustomizations, ns, name, &cached, err);
	if (gr == SL_ENOTFOUND)
		return 0; /* deleted: the finalizer already ran */
	if (gr < 0)
		return gr;
	int64_t start = sl_clock_now_ns(w->rc->clock);
	struct run run = {.w = w,
	                  .kube = w->kube,
	                  .ns = ns,
	                  .name = name,
	                  .obj = json_deep_copy(cached),
	                  .started_ns = start};
	json_decref(cached);
	json_t *status = json_object_get(run.obj, "status");
	run.old_status = status ? json_deep_copy(status) : json_object();
	run.status = status ? json_deep_copy(status) : json_object();
	sl_cond_stamp_init(&run.st, run.obj, w->rc->clock);
	int r = reconcile_object(&run, out, err);
	if (w->rc->gotk) {
		double secs = (double)(sl_clock_now_ns(w->rc->clock) - start) / 1e9;
		sl_gotk_record_duration(w->rc->gotk, SL_KS_KIND, ns, name, secs);
	}
	json_decref(run.obj);
	json_decref(run.old_status);
	json_decref(run.status);
	free(run.revision);
	free(run.origin_revision);
	return r;
}

/* ---- source watch --------------------------------------------------------------------- */

void sl_ks_keys_for_source(struct sl_kube_informer *kustomizations, const char *ns,
                           const char *name, struct sl_strv *ret)
{
	json_t *all = sl_kube_informer_snapshot(kustomizations);
	size_t i;
	const json_t *ks;
	json_array_foreach (all, i, ks) {
		const json_t *meta = json_object_get(ks, "metadata");
		const char *ks_ns = obj_str(meta, "namespace", NULL);
		const char *ks_name = obj_str(meta, "name", NULL);
		const json_t *src = json_object_get(json_object_get(ks, "spec"), "sourceRef");
		const char *kind = obj_str(src, "kind", NULL);
		const char *src_name = obj_str(src, "name", NULL);
		const char *src_ns = obj_str(src, "namespace", NULL);
		if (!ks_ns || !ks_name || !kind || !src_name ||
		    strcmp(kind, SL_OCIREPO_KIND) != 0 || strcmp(src_name, name) != 0 ||
		    strcmp(src_ns && *src_ns ? src_ns : ks_ns, ns) != 0)
			continue;
		_cleanup_free_ char *key = sl_asprintf("%s/%s", ks_ns, ks_name);
		sl_strv_push(ret, key);
	}
	json_decref(all);
}

bool sl_ks_source_revision_changed(const json_t *old_source, const json_t *new_source)
{
	const char *old_rev = obj_str(
	    json_object_get(json_object_get(old_source, "status"), "artifact"), "revision", NULL);
	const char *new_rev = obj_str(
	    json_object_get(json_object_get(new_source, "status"), "artifact"), "revision", NULL);
	if (!new_rev)
		return false;
	return !old_rev || strcmp(old_rev, new_rev) != 0;
}

bool sl_ks_at_revision(struct sl_kube_informer *kustomizations, const char *key,
                       const char *revision)
{
	const char *slash = strchr(key, '/');
	if (!revision || !slash)
		return false;
	_cleanup_free_ char *ns = sl_strndup(key, (size_t)(slash - key));
	json_t *ks = sl_kube_informer_get(kustomizations, ns, slash + 1);
	const json_t *status = json_object_get(ks, "status");
	const char *attempted = obj_str(status, "lastAttemptedRevision", NULL);
	bool at = attempted && strcmp(attempted, revision) == 0 &&
	          (sl_condition_is_true(status, SL_COND_READY) ||
	           sl_condition_is_true(status, SL_COND_RECONCILING));
	json_decref(ks);
	return at;
}
