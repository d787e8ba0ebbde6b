#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "controller/ocirepository.h"
#include "controller/ocisource.h"
#include "sign/sign.h"

const struct sl_kube_resource sl_kube_res_ocirepositories = {
    .group = "source.toolkit.fluxcd.io",
    .version = "v1",
    .resource = "ocirepositories",
    .kind = "OCIRepository",
    .namespaced = true,
};

/* source-controller's condition types besides Ready/Reconciling/Stalled. */
#define COND_FETCH_FAILED       "FetchFailed"
#define COND_ARTIFACT_IN_STORE  "ArtifactInStorage"
#define COND_ARTIFACT_OUTDATED  "ArtifactOutdated"
#define COND_STORAGE_FAILED     "StorageOperationFailed"
#define COND_SOURCE_VERIFIED    "SourceVerified"
#define REASON_NEW_REVISION     "NewRevision"
#define REASON_DIR_CREATION     "DirectoryCreationFailed"
#define REASON_ARCHIVE_FAILED   "ArchiveOperationFailed"
#define ANNOTATION_REVISION     "source.toolkit.fluxcd.io/revision"
#define ANNOTATION_DIGEST       "source.toolkit.fluxcd.io/digest"
#define OCI_SOURCE_ANNOTATION   "org.opencontainers.image.source"
#define OCI_REVISION_ANNOTATION "org.opencontainers.image.revision"

/* Ready's summary (§3): these types, by priority; the first five and
 * Stalled/Reconciling are negative; SourceVerified is bipolar. */
static const char *const summary_types[] = {
    COND_STORAGE_FAILED,  COND_FETCH_FAILED, COND_ARTIFACT_OUTDATED, COND_ARTIFACT_IN_STORE,
    COND_SOURCE_VERIFIED, SL_COND_STALLED,   SL_COND_RECONCILING,    NULL};
static const char *const summary_negative[] = {COND_STORAGE_FAILED,    COND_FETCH_FAILED,
                                               COND_ARTIFACT_OUTDATED, SL_COND_STALLED,
                                               SL_COND_RECONCILING,    NULL};
static const char *const summary_bipolar[] = {COND_SOURCE_VERIFIED, NULL};

/* One reconcile's working state. */
struct run {
	struct sl_ocirepo_worker *w;
	const char *ns, *name;
	json_t *obj;        /* a deep copy of the cached object */
	json_t *old_status; /* as read */
	json_t *status;     /* being built */
	struct sl_cond_stamp st;
};

static const char *obj_str(const json_t *obj, const char *a, const char *b)
{
	const json_t *v = json_object_get(obj, a);
	if (b)
		v = json_object_get(v, b);
	return json_string_value(v);
}

static void record_event(struct run *run, const char *type, const char *reason, const char *message,
                         const json_t *annotations)
{
	struct sl_kube_event ev = {
	    .object = run->obj,
	    .type = type,
	    .reason = reason,
	    .message = message,
	    .annotations = annotations,
	};
	struct sl_error err = {0};
	if (sl_kube_record_event(run->w->kube, run->w->rc->recorder, &ev, &err) < 0)
		sl_log_debug("%s/%s: recording event %s: %s", run->ns, run->name, reason, err.msg);
}

/* Writes what changed in status since the last write; nothing when the
 * status is as read (DESIGN.md: writes are the cost). */
static int patch_status(struct run *run, struct sl_error *err)
{
	return sl_status_write(run->w->kube, &sl_kube_res_ocirepositories, run->ns, run->name,
	                       SL_SOURCE_CONTROLLER, &run->old_status, run->status, err);
}

static bool has_finalizer(const json_t *obj)
{
	const json_t *list = json_object_get(json_object_get(obj, "metadata"), "finalizers");
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v)
		if (strcmp(json_string_value(v) ?: "", SL_FLUX_FINALIZER) == 0)
			return true;
	return false;
}

/* Adds or removes our finalizer with a merge patch that carries the
 * resourceVersion read, so a concurrent change makes it fail (and retry)
 * rather than drop someone else's finalizer. */
static int set_finalizer(struct run *run, bool present, struct sl_error *err)
{
	const json_t *meta = json_object_get(run->obj, "metadata");
	json_t *list = json_array();
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(meta, "finalizers"), i, v) {
		if (strcmp(json_string_value(v) ?: "", SL_FLUX_FINALIZER) != 0)
			json_array_append(list, v);
	}
	if (present)
		json_array_append_new(list, json_string(SL_FLUX_FINALIZER));
	json_t *patch = json_pack("{s:{s:o,s:O}}", "metadata", "finalizers", list,
	                          "resourceVersion", json_object_get(meta, "resourceVersion"));
	struct sl_kube_write_opts opts = {.field_manager = SL_SOURCE_CONTROLLER};
	int r = sl_kube_patch(run->w->kube, &sl_kube_res_ocirepositories, run->ns, run->name,
	                      SL_KUBE_PATCH_MERGE, patch, &opts, NULL, err);
	json_decref(patch);
	if (r < 0 && !(r == SL_ENOTFOUND && !present))
		return sl_error_wrap(err, r, "%s the finalizer of %s/%s",
		                     present ? "adding" : "removing", run->ns, run->name);
	return 0;
}

static int finalize(struct run *run, struct sl_error *err)
{
	int r = sl_storage_delete(run->w->rc->storage, "ocirepository", run->ns, run->name, err);
	if (r < 0) {
		record_event(run, "Warning", "GarbageCollectionFailed", err->msg, NULL);
		return r;
	}
	record_event(run, "Normal", "GarbageCollectionSucceeded",
	             "garbage collected artifacts for deleted resource", NULL);
	if (run->w->rc->gotk)
		sl_gotk_delete(run->w->rc->gotk, SL_OCIREPO_KIND, run->ns, run->name);
	return set_finalizer(run, false, err);
}

/* ---- credentials from Secrets ------------------------------------------- */

/* The value of key in a Secret's data, decoded; NULL when absent. */
static char *secret_value(const json_t *secret, const char *key, size_t *ret_len)
{
	const char *b64 = obj_str(secret, "data", key);
	if (!b64)
		return NULL;
	char *out = NULL;
	ssize_t n = sl_base64_decode(b64, &out);
	if (n < 0)
		return NULL;
	*ret_len = (size_t)n;
	return out;
}

static int get_secret(struct run *run, const char *name, json_t **ret, struct sl_source_error *serr)
{
	struct sl_error err = {0};
	if (sl_kube_get(run->w->kube, &sl_kube_res_secrets, run->ns, name, ret, &err) < 0) {
		serr->reason = SL_REASON_AUTH_FAILED;
		serr->stalling = false;
		return sl_error_set(&serr->err, err.code,
		                    "failed to get credential: failed to get secret '%s/%s': %s",
		                    run->ns, name, err.msg);
	}
	return 0;
}

struct registry_auth {
	struct sl_creds creds;
	char *ca_file;                      /* a temp file holding certSecretRef's ca.crt */
	char *cert_pem, *key_pem;           /* certSecretRef's client certificate, or NULL */
	char tls_digest[SL_DIGEST_STR_LEN]; /* of certSecretRef's content, "" without one */
	char *proxy_url, *proxy_username, *proxy_password; /* proxySecretRef's */
	char proxy_digest[SL_DIGEST_STR_LEN];              /* of them, "" without one */
};

static void registry_auth_clear(struct registry_auth *a)
{
	sl_creds_clear(&a->creds);
	if (a->ca_file) {
		unlink(a->ca_file);
		free(a->ca_file);
	}
	free(a->cert_pem);
	if (a->key_pem) {
		explicit_bzero(a->key_pem, strlen(a->key_pem));
		free(a->key_pem);
	}
	free(a->proxy_url);
	free(a->proxy_username);
	if (a->proxy_password) {
		explicit_bzero(a->proxy_password, strlen(a->proxy_password));
		free(a->proxy_password);
	}
	memset(a, 0, sizeof(*a));
}

struct sl_ocirepo_registry_cache {
	struct sl_registry *reg;
	struct registry_auth auth; /* keeps the CA file the client reads */
	char key[SL_DIGEST_STR_LEN];
};

void sl_ocirepo_worker_clear(struct sl_ocirepo_worker *w)
{
	if (!w->registry)
		return;
	sl_registry_free(w->registry->reg);
	registry_auth_clear(&w->registry->auth);
	free(w->registry);
	w->registry = NULL;
}

/* What makes two clients interchangeable: registry, TLS and credentials
 * (hashed: the key never holds a secret in the clear). */
/* The sha256 of parts (NULL as ""), each ended by a NUL; the buffer that
 * held them, passwords and keys among them, is zeroed before it goes. */
static void secret_digest(const char *const *parts, size_t n, char out[SL_DIGEST_STR_LEN])
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	for (size_t i = 0; i < n; i++)
		sl_buf_append(&b, parts[i] ? parts[i] : "", (parts[i] ? strlen(parts[i]) : 0) + 1);
	sl_sha256_digest(b.data ? b.data : "", b.len, out);
	if (b.data)
		explicit_bzero(b.data, b.len);
	sl_buf_free(&b);
}

static void registry_key(const struct sl_ocirepo_spec *spec, const struct registry_auth *a,
                         char out[SL_DIGEST_STR_LEN])
{
	const char *parts[] = {spec->ref.registry,      a->creds.username,
	                       a->creds.password,       a->creds.identity_token,
	                       a->creds.registry_token, a->tls_digest,
	                       a->proxy_digest,         spec->insecure ? "insecure" : "secure"};
	secret_digest(parts, SL_ARRAY_SIZE(parts), out);
}

/* A certSecretRef value: the key, else its deprecated name (Flux reads
 * certFile, keyFile and caFile as fallbacks). PEM is text: a NUL would cut
 * it short where libcurl reads it, so it is refused. */
static int tls_value(struct run *run, const struct sl_ocirepo_spec *spec, const json_t *secret,
                     const char *key, const char *legacy, char **ret, size_t *ret_len,
                     struct sl_source_error *serr)
{
	const char *name = obj_str(secret, "data", key) ? key : legacy;
	*ret = secret_value(secret, name, ret_len);
	if (!*ret && obj_str(secret, "data", name)) {
		serr->reason = SL_REASON_AUTH_FAILED;
		return sl_error_set(&serr->err, SL_EINVAL,
		                    "failed to generate transport for '%s': secret '%s/%s': %s is "
		                    "not base64",
		                    spec->url, run->ns, spec->cert_secret_ref, name);
	}
	if (*ret && memchr(*ret, '\0', *ret_len)) {
		serr->reason = SL_REASON_AUTH_FAILED;
		return sl_error_set(&serr->err, SL_EINVAL,
		                    "failed to generate transport for '%s': secret '%s/%s': %s is "
		                    "not PEM",
		                    spec->url, run->ns, spec->cert_secret_ref, name);
	}
	return 0;
}

/* certSecretRef (Flux's pkg/runtime/secrets): tls.crt and tls.key, both or
 * neither, and/or ca.crt, which is added to the system trust store. */
static int load_tls(struct run *run, const struct sl_ocirepo_spec *spec, const json_t *secret,
                    struct registry_auth *a, struct sl_source_error *serr)
{
	size_t cert_len = 0, key_len = 0, ca_len = 0;
	_cleanup_free_ char *cert = NULL, *ca = NULL;
	char *key = NULL;
	int r = tls_value(run, spec, secret, "tls.crt", "certFile", &cert, &cert_len, serr);
	if (r == 0)
		r = tls_value(run, spec, secret, "tls.key", "keyFile", &key, &key_len, serr);
	if (r == 0)
		r = tls_value(run, spec, secret, "ca.crt", "caFile", &ca, &ca_len, serr);
	if (r == 0 && !cert != !key) {
		serr->reason = SL_REASON_AUTH_FAILED;
		r = sl_error_set(&serr->err, SL_EINVAL,
		                 "failed to generate transport for '%s': secret '%s/%s' must hold "
		                 "both tls.crt and tls.key, or neither",
		                 spec->url, run->ns, spec->cert_secret_ref);
	}
	if (r == 0 && !cert && !ca) {
		serr->reason = SL_REASON_AUTH_FAILED;
		r = sl_error_set(
		    &serr->err, SL_EINVAL,
		    "failed to generate transport for '%s': secret '%s/%s' has neither "
		    "ca.crt nor tls.crt and tls.key",
		    spec->url, run->ns, spec->cert_secret_ref);
	}
	if (r == 0 && ca) {
		_cleanup_free_ char *path = sl_asprintf("%s/sluice-ca-XXXXXX", sl_tmpdir());
		_cleanup_close_ int fd = mkostemp(path, O_CLOEXEC);
		if (fd < 0 || write(fd, ca, ca_len) != (ssize_t)ca_len) {
			serr->reason = SL_REASON_AUTH_FAILED;
			if (fd >= 0)
				unlink(path);
			r = sl_error_errno(&serr->err, errno, SL_EIO, "writing the CA of '%s'",
			                   spec->url);
		} else {
			a->ca_file = TAKE_PTR(path);
		}
	}
	if (r == 0) {
		/* What makes two clients' TLS the same, hashed with the rest of
		 * the registry key (registry_key). */
		const char *parts[] = {cert, key, ca};
		secret_digest(parts, SL_ARRAY_SIZE(parts), a->tls_digest);
		a->cert_pem = TAKE_PTR(cert);
		a->key_pem = TAKE_PTR(key);
	}
	if (key) {
		explicit_bzero(key, key_len);
		free(key);
	}
	return r;
}

/* spec.serviceAccountName: the ServiceAccount's imagePullSecrets join the
 * keychain, as in Flux; every one must exist, and the first whose
 * .dockerconfigjson has credentials for the registry is used unless
 * secretRef gave some already. */
static int load_pull_secrets(struct run *run, const struct sl_ocirepo_spec *spec,
                             struct registry_auth *a, struct sl_source_error *serr)
{
	_cleanup_(json_decrefp) json_t *sa = NULL;
	struct sl_error err = {0};
	if (sl_kube_get(run->w->kube, &sl_kube_res_serviceaccounts, run->ns, spec->service_account,
	                &sa, &err) < 0) {
		serr->reason = SL_REASON_AUTH_FAILED;
		return sl_error_set(&serr->err, err.code,
		                    "failed to get credential: failed to get service account "
		                    "'%s/%s': %s",
		                    run->ns, spec->service_account, err.msg);
	}
	size_t i;
	json_t *ref;
	json_array_foreach (json_object_get(sa, "imagePullSecrets"), i, ref) {
		const char *name = json_string_value(json_object_get(ref, "name"));
		if (!name || !*name)
			continue;
		_cleanup_(json_decrefp) json_t *secret = NULL;
		int r = get_secret(run, name, &secret, serr);
		if (r < 0)
			return r;
		if (!sl_creds_empty(&a->creds))
			continue;
		size_t len = 0;
		_cleanup_free_ char *config = secret_value(secret, ".dockerconfigjson", &len);
		_cleanup_free_ char *helper = NULL;
		struct sl_creds creds = {0};
		if (config &&
		    sl_docker_config_lookup(config, len, spec->ref.registry, &creds, &helper,
		                            &err) == 0 &&
		    !sl_creds_empty(&creds)) {
			a->creds = creds;
			continue;
		}
		sl_creds_clear(&creds);
	}
	return 0;
}

/* The proxy URL libcurl is given for a proxySecretRef address: http,
 * https or socks5 (which, as Go's dialer does, leaves names to the proxy:
 * curl's socks5h), at most 2048 characters, printable, with a host. NULL
 * when it is none of that; the address itself may hold credentials, so
 * no message repeats it. */
static char *proxy_url_for(const char *address)
{
	static const struct {
		const char *given, *curl;
	} schemes[] = {
	    {"http://", "http://"}, {"https://", "https://"}, {"socks5://", "socks5h://"}};
	size_t len = strlen(address);
	if (len == 0 || len > 2048)
		return NULL;
	for (const char *p = address; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f)
			return NULL;
	for (size_t i = 0; i < SL_ARRAY_SIZE(schemes); i++) {
		size_t n = strlen(schemes[i].given);
		const char *host = address + n;
		if (strncasecmp(address, schemes[i].given, n) == 0 && *host && *host != '/')
			return sl_asprintf("%s%s", schemes[i].curl, host);
	}
	return NULL;
}

/* proxySecretRef (Flux's pkg/runtime/secrets): address, and optionally
 * username and password; it replaces the environment's proxy. */
static int load_proxy(struct run *run, const struct sl_ocirepo_spec *spec, const json_t *secret,
                      struct registry_auth *a, struct sl_source_error *serr)
{
	size_t len = 0;
	_cleanup_free_ char *address = secret_value(secret, "address", &len);
	if (!address) {
		serr->reason = SL_REASON_AUTH_FAILED;
		return sl_error_set(&serr->err, SL_EINVAL,
		                    "failed to get proxy address: secret '%s/%s': key 'address' "
		                    "not found",
		                    run->ns, spec->proxy_secret_ref);
	}
	a->proxy_url = memchr(address, '\0', len) ? NULL : proxy_url_for(address);
	if (!a->proxy_url) {
		serr->reason = SL_REASON_AUTH_FAILED;
		return sl_error_set(
		    &serr->err, SL_EINVAL,
		    "failed to get proxy address: secret '%s/%s': 'address' must be "
		    "an http, https or socks5 URL with a host, at most 2048 "
		    "characters",
		    run->ns, spec->proxy_secret_ref);
	}
	a->proxy_username = secret_value(secret, "username", &len);
	a->proxy_password = secret_value(secret, "password", &len);
	const char *parts[] = {a->proxy_url, a->proxy_username, a->proxy_password};
	secret_digest(parts, SL_ARRAY_SIZE(parts), a->proxy_digest);
	return 0;
}

static int load_auth(struct run *run, const struct sl_ocirepo_spec *spec, struct registry_auth *a,
                     struct sl_source_error *serr)
{
	if (spec->secret_ref) {
		_cleanup_(json_decrefp) json_t *secret = NULL;
		int r = get_secret(run, spec->secret_ref, &secret, serr);
		if (r < 0)
			return r;
		size_t len = 0;
		_cleanup_free_ char *config = secret_value(secret, ".dockerconfigjson", &len);
		_cleanup_free_ char *helper = NULL;
		struct sl_error err = {0};
		if (!config || sl_docker_config_lookup(config, len, spec->ref.registry, &a->creds,
		                                       &helper, &err) < 0) {
			serr->reason = SL_REASON_AUTH_FAILED;
			return sl_error_set(
			    &serr->err, SL_EAUTH,
			    "failed to get credential: secret '%s/%s' has no usable "
			    ".dockerconfigjson%s%s",
			    run->ns, spec->secret_ref, err.msg[0] ? ": " : "", err.msg);
		}
	}
	if (spec->service_account && *spec->service_account) {
		int r = load_pull_secrets(run, spec, a, serr);
		if (r < 0)
			return r;
	}
	if (spec->cert_secret_ref) {
		_cleanup_(json_decrefp) json_t *secret = NULL;
		int r = get_secret(run, spec->cert_secret_ref, &secret, serr);
		if (r < 0)
			return r;
		r = load_tls(run, spec, secret, a, serr);
		if (r < 0)
			return r;
	}
	if (spec->proxy_secret_ref) {
		_cleanup_(json_decrefp) json_t *secret = NULL;
		int r = get_secret(run, spec->proxy_secret_ref, &secret, serr);
		if (r == 0)
			r = load_proxy(run, spec, secret, a, serr);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- the reconcile -------------------------------------------------------- */

static int64_t generation_of(const json_t *obj)
{
	return json_integer_value(json_object_get(json_object_get(obj, "metadata"), "generation"));
}

static bool same_json(const json_t *a, const json_t *b)
{
	if (!a || json_is_null(a))
		return !b || json_is_null(b);
	return b && json_equal(a, b);
}

/* The content configuration is unchanged: spec.ignore and
 * spec.layerSelector as they were when the artifact was made. */
static bool content_config_unchanged(const json_t *obj, const json_t *status)
{
	const json_t *spec = json_object_get(obj, "spec");
	return same_json(json_object_get(spec, "ignore"),
	                 json_object_get(status, "observedIgnore")) &&
	       same_json(json_object_get(spec, "layerSelector"),
	                 json_object_get(status, "observedLayerSelector"));
}

static void summarize(struct run *run)
{
	struct sl_summary_opts opts = {summary_types, summary_negative, summary_bipolar};
	sl_conditions_summarize(run->status, &run->st, SL_COND_READY, &opts);
}

/* Checks the stored artifact: gone or corrupt means it is made again. */
static void check_storage(struct run *run)
{
	const char *path = obj_str(run->status, "artifact", "path");
	if (!path)
		return;
	struct sl_error err = {0};
	const char *digest = obj_str(run->status, "artifact", "digest");
	int r = sl_storage_verify(run->w->rc->storage, path, digest ? digest : "", &err);
	if (r == 0)
		return;
	if (r == SL_EDIGEST) {
		char msg[SL_ERROR_MAX + 64];
		snprintf(msg, sizeof(msg), "failed to verify integrity of artifact: %s", err.msg);
		record_event(run, "Warning", "ArtifactVerificationFailed", msg, NULL);
		sl_storage_remove(run->w->rc->storage, path, &err);
	}
	json_object_del(run->status, "artifact");
	json_object_del(run->status, "url");
	sl_condition_delete(run->status, COND_ARTIFACT_IN_STORE);
}

/* The NewArtifact event's message (§4). */
static char *artifact_message(const char *revision, const char *url, const json_t *annotations)
{
	const char *src = json_string_value(json_object_get(annotations, OCI_SOURCE_ANNOTATION));
	const char *rev = json_string_value(json_object_get(annotations, OCI_REVISION_ANNOTATION));
	if (src && rev)
		return sl_asprintf("stored artifact with revision '%s' from '%s', origin source "
		                   "'%s', origin revision '%s'",
		                   revision, url, src, rev);
	return sl_asprintf("stored artifact with revision '%s' from '%s'", revision, url);
}

/* Downloads and stores a new artifact, sets status.artifact and status.url. */
static int store_artifact(struct run *run, struct sl_registry *reg,
                          const struct sl_ocirepo_spec *spec, const struct sl_ocirepo_revision *rev,
                          struct sl_source_error *serr)
{
	struct sl_ocirepo_fetch fetched = {0};
	_cleanup_close_ int fd = -1;
	int r = sl_ocirepo_fetch_layer(reg, spec, rev, run->w->rc->max_layer_bytes, &fd, &fetched,
	                               serr);
	if (r < 0)
		return r;
	struct sl_storage_dir *dir = NULL;
	struct sl_artifact art = {0};
	_cleanup_free_ char *file = sl_storage_file_for_revision(rev->revision);
	_cleanup_free_ char *latest_url = NULL;
	struct sl_error err = {0};
	r = sl_storage_lock(run->w->rc->storage, "ocirepository", run->ns, run->name, true, &dir,
	                    &err);
	if (r < 0) {
		sl_condition_set(run->status, &run->st, COND_STORAGE_FAILED, SL_COND_TRUE,
		                 REASON_DIR_CREATION, "%s", err.msg);
		serr->reason = REASON_DIR_CREATION;
		sl_error_set(&serr->err, r, "%s", err.msg);
		sl_ocirepo_fetch_clear(&fetched);
		return r;
	}
	if (spec->layer_copy) {
		r = sl_storage_store(dir, file, fd, run->w->rc->max_layer_bytes,
		                     fetched.layer_digest, &art, &err);
	} else {
		struct sl_repack_opts opts = {
		    .ignore = spec->ignore,
		    .limits = {.max_total_bytes = run->w->rc->max_layer_bytes},
		};
		r = sl_storage_repack(dir, file, fd, &opts, &art, &err);
	}
	if (r == 0)
		r = sl_storage_symlink_latest(dir, file, &latest_url, &err);
	if (r == 0)
		sl_storage_gc(dir, file, NULL, &err);
	sl_storage_unlock(dir);
	if (r < 0) {
		const char *reason =
		    spec->layer_copy ? SL_REASON_LAYER_FAILED : REASON_ARCHIVE_FAILED;
		sl_condition_set(run->status, &run->st, COND_STORAGE_FAILED, SL_COND_TRUE, reason,
		                 "unable to archive artifact to storage: %s", err.msg);
		serr->reason = reason;
		sl_error_set(&serr->err, r, "unable to archive artifact to storage: %s", err.msg);
		sl_ocirepo_fetch_clear(&fetched);
		sl_artifact_clear(&art);
		return r;
	}
	const char *old_digest = obj_str(run->status, "artifact", "digest");
	bool new_digest = !old_digest || strcmp(old_digest, art.digest) != 0;
	json_t *artifact =
	    json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:O}", "digest", art.digest, "lastUpdateTime",
	              art.last_update_time, "path", art.path, "revision", rev->revision, "url",
	              art.url, "size", (json_int_t)art.size, "metadata", fetched.annotations);
	json_object_set_new(run->status, "artifact", artifact);
	json_object_set_new(run->status, "url", json_string(latest_url));
	const json_t *spec_json = json_object_get(run->obj, "spec");
	if (json_object_get(spec_json, "ignore"))
		json_object_set(run->status, "observedIgnore",
		                json_object_get(spec_json, "ignore"));
	else
		json_object_del(run->status, "observedIgnore");
	if (json_object_get(spec_json, "layerSelector"))
		json_object_set(run->status, "observedLayerSelector",
		                json_object_get(spec_json, "layerSelector"));
	else
		json_object_del(run->status, "observedLayerSelector");
	if (new_digest) {
		_cleanup_free_ char *msg =
		    artifact_message(rev->revision, spec->url, fetched.annotations);
		json_t *ann = json_pack("{s:s,s:s}", ANNOTATION_REVISION, rev->revision,
		                        ANNOTATION_DIGEST, art.digest);
		record_event(run, "Normal", "NewArtifact", msg, ann);
		json_decref(ann);
	}
	sl_ocirepo_fetch_clear(&fetched);
	sl_artifact_clear(&art);
	return 0;
}

/* reconcileSource + reconcileArtifact. Returns 0, or <0 with serr set. */
/* The worker's registry client for spec: the kept one when registry,
 * TLS and credentials are the same, else a new one (kept for next time). */
static int registry_for(struct run *run, const struct sl_ocirepo_spec *spec,
                        struct sl_registry **ret, struct sl_source_error *serr)
{
	struct sl_ocirepo_worker *w = run->w;
	struct registry_auth auth = {0};
	int r = load_auth(run, spec, &auth, serr);
	if (r < 0) {
		registry_auth_clear(&auth);
		return r;
	}
	/* The registry calls of one reconcile share one deadline. */
	int64_t timeout_ms = spec->timeout_ms > 0 ? spec->timeout_ms * 5 : 0;
	char key[SL_DIGEST_STR_LEN];
	registry_key(spec, &auth, key);
	if (w->registry && strcmp(w->registry->key, key) == 0) {
		registry_auth_clear(&auth);
		sl_registry_set_deadline(w->registry->reg, timeout_ms);
		*ret = w->registry->reg;
		return 0;
	}
	sl_ocirepo_worker_clear(w);
	struct sl_registry_opts opts = {
	    .creds = &auth.creds,
	    .insecure = spec->insecure,
	    .ca_file = auth.ca_file,
	    .client_cert_pem = auth.cert_pem,
	    .client_key_pem = auth.key_pem,
	    .proxy_url = auth.proxy_url,
	    .proxy_username = auth.proxy_username,
	    .proxy_password = auth.proxy_password,
	    .timeout_ms = timeout_ms,
	    .user_agent = "flux/v2",
	};
	struct sl_registry *reg = NULL;
	struct sl_error err = {0};
	if (sl_registry_new(spec->ref.registry, &opts, &reg, &err) < 0) {
		registry_auth_clear(&auth);
		serr->reason = SL_REASON_AUTH_FAILED;
		return sl_error_set(&serr->err, err.code,
		                    "failed to generate transport for '%s': %s", spec->url,
		                    err.msg);
	}
	w->registry = sl_xcalloc(1, sizeof(*w->registry));
	w->registry->reg = reg;
	w->registry->auth = auth;
	memcpy(w->registry->key, key, sizeof(key));
	*ret = reg;
	return 0;
}

/* ---- signature verification (spec §2.V) --------------------------------- */

static int verify_failed(struct run *run, const char *provider, const char *message,
                         struct sl_source_error *serr)
{
	serr->reason = SL_REASON_VERIFICATION_ERROR;
	serr->stalling = false;
	sl_error_set(&serr->err, SL_EINVAL,
	             "failed to verify the signature using provider '%s': %s", provider, message);
	sl_condition_set(run->status, &run->st, COND_SOURCE_VERIFIED, SL_COND_FALSE,
	                 SL_REASON_VERIFICATION_ERROR, "%s", serr->err.msg);
	return serr->err.code;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The public keys of the verify Secret: every data key ending in .pub, in
 * name order (Flux walks a Go map: any order; first success wins, so the
 * order only changes which key a log line names). */
static int load_verify_keys(struct run *run, const struct sl_ocirepo_spec *spec,
                            struct sl_cosign_key ***ret, size_t *ret_n, struct sl_error *err)
{
	_cleanup_(json_decrefp) json_t *secret = NULL;
	if (sl_kube_get(run->w->kube, &sl_kube_res_secrets, run->ns, spec->verify_secret_ref,
	                &secret, err) < 0)
		return err->code;
	const json_t *data = json_object_get(secret, "data");
	size_t n = 0;
	const char **names = sl_xcalloc(json_object_size(data) + 1, sizeof(*names));
	const char *key;
	const json_t *value;
	json_object_foreach ((json_t *)data, key, value)
		if (sl_endswith(key, ".pub"))
			names[n++] = key;
	qsort(names, n, sizeof(*names), cmp_str);
	struct sl_cosign_key **keys = sl_xcalloc(n + 1, sizeof(*keys));
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		size_t len = 0;
		_cleanup_free_ char *pem = secret_value(secret, names[i], &len);
		if (!pem)
			r = sl_error_set(err, SL_EINVAL, "secret '%s/%s': %s is not base64",
			                 run->ns, spec->verify_secret_ref, names[i]);
		else if (sl_cosign_key_load_public(pem, len, &keys[i], err) < 0)
			r = sl_error_wrap(err, err->code, "secret '%s/%s' key %s", run->ns,
			                  spec->verify_secret_ref, names[i]);
	}
	free(names);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			sl_cosign_key_free(keys[i]);
		free(keys);
		return r;
	}
	*ret = keys;
	*ret_n = n;
	return 0;
}

/* Verifies rev's digest before anything is pulled, when verification is
 * asked for and the revision or the generation is new to SourceVerified. */
static int verify_source(struct run *run, struct sl_registry *reg,
                         const struct sl_ocirepo_spec *spec, const struct sl_ocirepo_revision *rev,
                         struct sl_source_error *serr)
{
	if (!spec->verify_provider) {
		sl_condition_delete(run->status, COND_SOURCE_VERIFIED);
		return 0;
	}
	const char *stored = obj_str(run->status, "artifact", "revision");
	const json_t *cond = sl_condition_get(run->status, COND_SOURCE_VERIFIED);
	int64_t verified_gen = json_integer_value(json_object_get(cond, "observedGeneration"));
	if (stored && strcmp(stored, rev->revision) == 0 && cond &&
	    verified_gen == generation_of(run->obj))
		return 0;

	if (strcmp(spec->verify_provider, "cosign") != 0)
		return verify_failed(run, spec->verify_provider,
		                     "this provider is not supported by sluice yet", serr);
	if (spec->verify_keyless)
		return verify_failed(run, "cosign keyless",
		                     "keyless verification is not supported yet: set "
		                     "spec.verify.secretRef to a Secret holding the *.pub keys",
		                     serr);
	struct sl_error err = {0};
	struct sl_cosign_key **keys = NULL;
	size_t n_keys = 0;
	int r = load_verify_keys(run, spec, &keys, &n_keys, &err);
	struct sl_cosign_verified v = {0};
	if (r == 0)
		r = sl_cosign_verify(reg, spec->ref.registry, spec->ref.repository, rev->digest,
		                     keys, n_keys, &v, &err);
	for (size_t i = 0; i < n_keys; i++)
		sl_cosign_key_free(keys[i]);
	free(keys);
	if (r < 0) {
		/* The status keeps Flux's message; why each signature was turned
		 * down goes to the log for whoever investigates. */
		if (v.rejections)
			sl_log_debug("%s/%s: %s: %s", run->ns, run->name, err.msg, v.rejections);
		sl_cosign_verified_clear(&v);
		return verify_failed(run, "cosign", err.msg, serr);
	}
	sl_log_debug("%s/%s: %s verified by key %zu (%s)", run->ns, run->name, rev->revision,
	             v.key_index, v.signature_location);
	sl_cosign_verified_clear(&v);
	sl_condition_set(run->status, &run->st, COND_SOURCE_VERIFIED, SL_COND_TRUE,
	                 SL_REASON_SUCCEEDED, "verified signature of revision %s", rev->revision);
	return 0;
}

static int reconcile_source(struct run *run, const struct sl_ocirepo_spec *spec,
                            struct sl_source_error *serr)
{
	/* A failed verification is retried from scratch (Flux's step 1). */
	if (sl_condition_is_false(run->status, COND_SOURCE_VERIFIED))
		sl_condition_delete(run->status, COND_SOURCE_VERIFIED);
	struct sl_registry *reg = NULL;
	int r = registry_for(run, spec, &reg, serr);
	if (r < 0)
		return r;
	struct sl_error err = {0};
	struct sl_ocirepo_revision rev = {0};
	/* With nothing stored yet the tag's manifest is needed whatever it
	 * names: GET it at once instead of HEAD then GET. */
	bool stored_any = obj_str(run->status, "artifact", "revision") != NULL;
	r = sl_ocirepo_resolve(reg, spec, stored_any ? SL_RESOLVE_HEAD : SL_RESOLVE_GET, &rev,
	                       serr);
	if (r < 0) {
		/* The next attempt starts with a fresh client: a registry that
		 * failed may come back with another scheme or token realm. */
		sl_ocirepo_worker_clear(run->w);
		return r;
	}
	const char *stored = obj_str(run->status, "artifact", "revision");
	bool same = stored && strcmp(stored, rev.revision) == 0 &&
	            content_config_unchanged(run->obj, run->status);
	if (!same && stored && strcmp(stored, rev.revision) != 0) {
		sl_condition_set(run->status, &run->st, COND_ARTIFACT_OUTDATED, SL_COND_TRUE,
		                 REASON_NEW_REVISION, "new revision '%s' for '%s'", rev.revision,
		                 spec->url);
		sl_condition_mark_reconciling(run->status, &run->st, SL_REASON_PROGRESSING,
		                              "building artifact: new revision '%s' for '%s'",
		                              rev.revision, spec->url);
		sl_condition_set(
		    run->status, &run->st, SL_COND_READY, SL_COND_UNKNOWN, SL_REASON_PROGRESSING,
		    "building artifact: new revision '%s' for '%s'", rev.revision, spec->url);
		if (patch_status(run, &err) < 0)
			sl_log_debug("%s", err.msg);
	}
	r = verify_source(run, reg, spec, &rev, serr);
	if (r == 0 && !same)
		r = store_artifact(run, reg, spec, &rev, serr);
	if (r < 0 && strcmp(serr->reason, SL_REASON_PULL_FAILED) == 0)
		sl_ocirepo_worker_clear(run->w);
	if (r == 0) {
		sl_condition_delete(run->status, COND_FETCH_FAILED);
		sl_condition_delete(run->status, COND_ARTIFACT_OUTDATED);
		sl_condition_delete(run->status, COND_STORAGE_FAILED);
		sl_condition_set(run->status, &run->st, COND_ARTIFACT_IN_STORE, SL_COND_TRUE,
		                 SL_REASON_SUCCEEDED, "stored artifact for digest '%s'",
		                 rev.revision);
	}
	sl_ocirepo_revision_clear(&rev);
	return r;
}

/* The failure's conditions, event and result (§3: a stall is not retried). */
static void record_failure(struct run *run, const struct sl_source_error *serr)
{
	if (serr->stalling) {
		sl_condition_mark_stalled(run->status, &run->st, serr->reason, "%s", serr->err.msg);
		json_object_set_new(run->status, "observedGeneration",
		                    json_integer(generation_of(run->obj)));
	} else {
		/* Verification has its own condition, SourceVerified. */
		if (strcmp(serr->reason, REASON_DIR_CREATION) != 0 &&
		    strcmp(serr->reason, REASON_ARCHIVE_FAILED) != 0 &&
		    strcmp(serr->reason, SL_REASON_VERIFICATION_ERROR) != 0)
			sl_condition_set(run->status, &run->st, COND_FETCH_FAILED, SL_COND_TRUE,
			                 serr->reason, "%s", serr->err.msg);
		const char *msg = sl_condition_message(run->status, SL_COND_RECONCILING);
		_cleanup_free_ char *keep = sl_strdup(*msg ? msg : "reconciliation in progress");
		sl_condition_mark_reconciling(run->status, &run->st,
		                              SL_REASON_PROGRESSING_WITH_RETRY, "%s", keep);
	}
	summarize(run);
	record_event(run, "Warning", serr->reason, serr->err.msg, NULL);
}

static int reconcile_object(struct run *run, struct sl_reconcile_result *out, struct sl_error *err)
{
	struct sl_ocirepo_reconciler *rc = run->w->rc;
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
	struct sl_source_error serr = {0};
	struct sl_ocirepo_spec spec = {0};
	int r = sl_ocirepo_spec_parse(run->obj, &spec, &serr);
	if (r == 0 && spec.suspend) {
		if (rc->gotk)
			sl_gotk_record_suspend(rc->gotk, SL_OCIREPO_KIND, run->ns, run->name, true);
		sl_ocirepo_spec_clear(&spec);
		return 0;
	}
	if (rc->gotk)
		sl_gotk_record_suspend(rc->gotk, SL_OCIREPO_KIND, run->ns, run->name, false);

	int64_t generation = generation_of(run->obj);
	int64_t observed = json_integer_value(json_object_get(run->status, "observedGeneration"));
	if (generation != observed)
		sl_condition_mark_reconciling(run->status, &run->st, SL_REASON_PROGRESSING,
		                              "processing object: new generation %lld -> %lld",
		                              (long long)observed, (long long)generation);
	else
		sl_condition_mark_reconciling(run->status, &run->st, SL_REASON_PROGRESSING,
		                              "reconciliation in progress");
	if (sl_condition_is_unknown(run->status, SL_COND_READY))
		sl_condition_set(run->status, &run->st, SL_COND_READY, SL_COND_UNKNOWN,
		                 SL_REASON_PROGRESSING, "reconciliation in progress");
	/* kstatus readers see a new generation picked up at once; an object
	 * never reconciled before (no conditions yet) gets its first status
	 * with the result instead, one write fewer per new object. */
	bool seen = json_array_size(json_object_get(run->old_status, "conditions")) > 0;
	if (seen && (generation != observed || sl_reconcile_request_pending(run->obj)) &&
	    patch_status(run, err) < 0)
		sl_log_debug("%s", err->msg);

	if (r == 0) {
		check_storage(run);
		r = reconcile_source(run, &spec, &serr);
	}
	if (r < 0) {
		record_failure(run, &serr);
		sl_status_record_reconcile_request(run->status, run->obj);
		int pr = patch_status(run, err);
		sl_ocirepo_spec_clear(&spec);
		if (pr < 0)
			return pr;
		if (serr.stalling)
			return 0;
		sl_error_set(err, r, "%s", serr.err.msg);
		return r;
	}
	sl_condition_delete(run->status, SL_COND_RECONCILING);
	sl_condition_delete(run->status, SL_COND_STALLED);
	summarize(run);
	json_object_set_new(run->status, "observedGeneration", json_integer(generation));
	sl_status_record_reconcile_request(run->status, run->obj);
	r = patch_status(run, err);
	if (r == 0)
		out->requeue_after_ms = sl_jitter_interval_ms(spec.interval_ms, rc->jitter_percent);
	sl_ocirepo_spec_clear(&spec);
	return r;
}

int sl_ocirepo_reconcile(void *worker_ctx, const char *key, struct sl_reconcile_result *out,
                         struct sl_error *err)
{
	struct sl_ocirepo_worker *w = worker_ctx;
	const char *slash = strchr(key, '/');
	if (!slash)
		return sl_error_set(err, SL_EINVAL, "bad key %s", key);
	_cleanup_free_ char *ns = sl_strndup(key, (size_t)(slash - key));
	const char *name = slash + 1;
	json_t *cached = sl_kube_informer_get(w->rc->informer, ns, name);
	if (!cached)
		return 0; /* deleted: the finalizer already ran */
	int64_t start = sl_clock_now_ns(w->rc->clock);
	/* The informer hands out a fresh copy: ours to change. */
	struct run run = {.w = w, .ns = ns, .name = name, .obj = cached};
	json_t *status = json_object_get(run.obj, "status");
	run.old_status = status ? json_deep_copy(status) : json_object();
	run.status = status ? json_deep_copy(status) : json_object();
	sl_cond_stamp_init(&run.st, run.obj, w->rc->clock);
	int r = reconcile_object(&run, out, err);
	if (w->rc->gotk) {
		double secs = (double)(sl_clock_now_ns(w->rc->clock) - start) / 1e9;
		sl_gotk_record_duration(w->rc->gotk, SL_OCIREPO_KIND, ns, name, secs);
		const char *ready = "Unknown";
		if (sl_condition_is_true(run.status, SL_COND_READY))
			ready = "True";
		else if (sl_condition_is_false(run.status, SL_COND_READY))
			ready = "False";
		sl_gotk_record_condition(w->rc->gotk, SL_OCIREPO_KIND, ns, name, SL_COND_READY,
		                         ready);
	}
	json_decref(run.obj);
	json_decref(run.old_status);
	json_decref(run.status);
	return r;
}
