#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <string.h>
#include <sys/stat.h>

#include "codec/codec.h"
#include "controller/ocisource.h"

static int fail(struct sl_source_error *serr, const char *reason, bool stalling, int code,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(struct sl_source_error *serr, const char *reason, bool stalling, int code,
                const char *fmt, ...)
{
	char msg[SL_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	serr->reason = reason;
	serr->stalling = stalling;
	return sl_error_set(&serr->err, code, "%s", msg);
}

/* ---- the spec ---------------------------------------------------------- */

static char *dup_or_null(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s && *s ? sl_strdup(s) : NULL;
}

static char *ref_name(const json_t *spec, const char *field)
{
	return dup_or_null(json_object_get(spec, field), "name");
}

void sl_ocirepo_spec_clear(struct sl_ocirepo_spec *spec)
{
	free(spec->url);
	sl_oci_ref_clear(&spec->ref);
	free(spec->tag);
	free(spec->semver);
	free(spec->semver_filter);
	free(spec->digest);
	free(spec->layer_media_type);
	free(spec->ignore);
	free(spec->provider);
	free(spec->secret_ref);
	free(spec->cert_secret_ref);
	free(spec->proxy_secret_ref);
	free(spec->service_account);
	free(spec->verify_provider);
	free(spec->verify_secret_ref);
	memset(spec, 0, sizeof(*spec));
}

static int parse_duration(const json_t *spec, const char *field, const char *def, int64_t *ret,
                          struct sl_source_error *serr)
{
	const char *text = json_string_value(json_object_get(spec, field));
	if (!text || !*text)
		text = def;
	struct sl_error err = {0};
	if (sl_duration_parse(text, ret, &err) < 0 || *ret < 0)
		return fail(serr, SL_REASON_URL_INVALID, true, SL_EINVAL, "invalid %s '%s': %s",
		            field, text, err.msg);
	return 0;
}

int sl_ocirepo_spec_parse(const json_t *obj, struct sl_ocirepo_spec *ret,
                          struct sl_source_error *serr)
{
	struct sl_ocirepo_spec s = {0};
	const json_t *spec = json_object_get(obj, "spec");
	int r = 0;
	s.url = dup_or_null(spec, "url");
	const json_t *ref = json_object_get(spec, "ref");
	s.tag = dup_or_null(ref, "tag");
	s.semver = dup_or_null(ref, "semver");
	s.semver_filter = dup_or_null(ref, "semverFilter");
	s.digest = dup_or_null(ref, "digest");
	const json_t *layer = json_object_get(spec, "layerSelector");
	s.layer_media_type = dup_or_null(layer, "mediaType");
	const char *op = json_string_value(json_object_get(layer, "operation"));
	s.layer_copy = op && strcmp(op, "copy") == 0;
	s.ignore = json_is_string(json_object_get(spec, "ignore"))
	               ? sl_strdup(json_string_value(json_object_get(spec, "ignore")))
	               : NULL;
	s.provider = dup_or_null(spec, "provider");
	if (!s.provider)
		s.provider = sl_strdup("generic");
	s.secret_ref = ref_name(spec, "secretRef");
	s.cert_secret_ref = ref_name(spec, "certSecretRef");
	s.proxy_secret_ref = ref_name(spec, "proxySecretRef");
	s.service_account = dup_or_null(spec, "serviceAccountName");
	s.insecure = json_is_true(json_object_get(spec, "insecure"));
	s.suspend = json_is_true(json_object_get(spec, "suspend"));
	const json_t *verify = json_object_get(spec, "verify");
	if (json_is_object(verify)) {
		s.verify_provider = dup_or_null(verify, "provider");
		if (!s.verify_provider)
			s.verify_provider = sl_strdup("cosign");
		s.verify_secret_ref = ref_name(verify, "secretRef");
		/* As in Flux: a secretRef means keys, whatever else is set. */
		s.verify_keyless = !s.verify_secret_ref;
	}

	if (op && *op && strcmp(op, "extract") != 0 && strcmp(op, "copy") != 0)
		r = fail(serr, SL_REASON_URL_INVALID, true, SL_EINVAL,
		         "invalid layerSelector.operation '%s': must be extract or copy", op);
	if (r == 0)
		r = parse_duration(spec, "interval", NULL, &s.interval_ms, serr);
	if (r == 0)
		r = parse_duration(spec, "timeout", "60s", &s.timeout_ms, serr);
	if (r == 0 && strcmp(s.provider, "generic") != 0)
		r = fail(serr, SL_REASON_UNSUPPORTED_PROVIDER, true, SL_EUNSUPPORTED,
		         "provider '%s' is not supported yet by sluice: use a secretRef with the "
		         "registry's credentials",
		         s.provider);
	if (r == 0) {
		struct sl_error err = {0};
		if (!s.url || !sl_startswith(s.url, "oci://"))
			r = fail(serr, SL_REASON_URL_INVALID, true, SL_EINVAL,
			         "URL validation failed for '%s': URL must be in format "
			         "'oci://<domain>/<org>/<repo>'",
			         s.url ? s.url : "");
		else if (sl_oci_ref_parse(s.url, &s.ref, &err) < 0)
			r = fail(serr, SL_REASON_URL_INVALID, true, SL_EINVAL,
			         "URL validation failed for '%s': %s", s.url, err.msg);
		else if (s.ref.digest || sl_oci_ref_has_tag(&s.ref))
			r = fail(
			    serr, SL_REASON_URL_INVALID, true, SL_EINVAL,
			    "URL validation failed for '%s': URL must not contain a tag; remove "
			    "':%s'",
			    s.url, s.ref.digest ? s.ref.digest : s.ref.tag);
	}
	if (r == 0 && s.digest && !sl_digest_valid(s.digest))
		r = fail(serr, SL_REASON_URL_INVALID, true, SL_EINVAL,
		         "invalid ref.digest '%s': must be sha256:<64 hex>", s.digest);
	if (r < 0) {
		sl_ocirepo_spec_clear(&s);
		return r;
	}
	*ret = s;
	return 0;
}

/* ---- resolving the reference ------------------------------------------ */

void sl_ocirepo_revision_clear(struct sl_ocirepo_revision *rev)
{
	free(rev->tag);
	free(rev->revision);
	sl_buf_free(&rev->manifest);
	free(rev->manifest_type);
	memset(rev, 0, sizeof(*rev));
}

/* The tag a semver range picks, Flux's way: tags filtered by semverFilter
 * (an unanchored regex), then the highest Flux version in the range. */
static int pick_semver_tag(struct sl_registry *reg, const struct sl_ocirepo_spec *spec,
                           char **ret_tag, struct sl_source_error *serr)
{
	struct sl_strv tags = {0};
	struct sl_error err = {0};
	if (sl_registry_list_tags(reg, spec->ref.repository, &tags, &err) < 0)
		return fail(serr, SL_REASON_READ_FAILED, false, err.code,
		            "failed to determine the artifact tag for '%s': %s", spec->url,
		            err.msg);
	int r = 0;
	const char **kept = sl_xcalloc(tags.len + 1, sizeof(*kept));
	size_t n = 0;
	regex_t re;
	bool have_re = false;
	if (spec->semver_filter) {
		int rc = regcomp(&re, spec->semver_filter, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char why[256];
			regerror(rc, &re, why, sizeof(why));
			r = fail(
			    serr, SL_REASON_READ_FAILED, false, SL_EINVAL,
			    "failed to determine the artifact tag for '%s': semver filter '%s' "
			    "parse error: %s",
			    spec->url, spec->semver_filter, why);
		}
		have_re = rc == 0;
	}
	for (size_t i = 0; r == 0 && i < tags.len; i++)
		if (!have_re || regexec(&re, tags.items[i], 0, NULL, 0) == 0)
			kept[n++] = tags.items[i];
	struct sl_semver_constraint *c = NULL;
	if (r == 0 && sl_semver_constraint_parse(spec->semver, &c, &err) < 0)
		r = fail(serr, SL_REASON_READ_FAILED, false, SL_EINVAL,
		         "failed to determine the artifact tag for '%s': semver '%s' parse error: "
		         "%s",
		         spec->url, spec->semver, err.msg);
	size_t best;
	if (r == 0 && sl_semver_latest(kept, n, c, &best) < 0)
		r = fail(
		    serr, SL_REASON_READ_FAILED, false, SL_ENOTFOUND,
		    "failed to determine the artifact tag for '%s': no match found for semver: "
		    "%s",
		    spec->url, spec->semver);
	if (r == 0)
		*ret_tag = sl_strdup(kept[best]);
	sl_semver_constraint_free(c);
	if (have_re)
		regfree(&re);
	free(kept);
	sl_strv_free(&tags);
	return r;
}

/* GET of the tag: its digest is the sha256 of the bytes, which are kept. */
static int resolve_by_get(struct sl_registry *reg, const struct sl_ocirepo_spec *spec,
                          struct sl_ocirepo_revision *rev, struct sl_error *err)
{
	sl_buf_init(&rev->manifest, SL_MAX_MANIFEST_BYTES);
	int r = sl_registry_manifest_get(reg, spec->ref.repository, rev->tag, &rev->manifest,
	                                 &rev->manifest_type, rev->digest, err);
	/* The same words as the HEAD's: the condition must not depend on
	 * which request found the tag missing. */
	if (r == SL_ENOTFOUND)
		sl_error_set(err, SL_ENOTFOUND, "%s:%s not found", spec->ref.repository, rev->tag);
	return r;
}

int sl_ocirepo_resolve(struct sl_registry *reg, const struct sl_ocirepo_spec *spec,
                       enum sl_ocirepo_resolve_mode mode, struct sl_ocirepo_revision *ret,
                       struct sl_source_error *serr)
{
	struct sl_ocirepo_revision rev = {0};
	if (spec->digest) {
		/* A digest pin needs no registry round trip to name its revision. */
		snprintf(rev.digest, sizeof(rev.digest), "%s", spec->digest);
		rev.revision = sl_strdup(spec->digest);
		*ret = rev;
		return 0;
	}
	int r = 0;
	if (spec->semver)
		r = pick_semver_tag(reg, spec, &rev.tag, serr);
	else
		rev.tag = sl_strdup(spec->tag ? spec->tag : "latest");
	if (r < 0)
		return r;
	struct sl_error err = {0};
	if (mode == SL_RESOLVE_GET ? resolve_by_get(reg, spec, &rev, &err) < 0
	                           : sl_registry_manifest_head(reg, spec->ref.repository, rev.tag,
	                                                       rev.digest, &err) < 0) {
		r = fail(serr, SL_REASON_PULL_FAILED, false, err.code,
		         "failed to determine artifact digest: %s", err.msg);
		sl_ocirepo_revision_clear(&rev);
		return r;
	}
	rev.revision = sl_asprintf("%s@%s", rev.tag, rev.digest);
	*ret = rev;
	return 0;
}

/* ---- fetching ---------------------------------------------------------- */

void sl_ocirepo_fetch_clear(struct sl_ocirepo_fetch *f)
{
	json_decref(f->annotations);
	free(f->layer_digest);
	memset(f, 0, sizeof(*f));
}

/* The image manifest at digest; an index is followed to its linux/amd64
 * child, as go-containerregistry's remote.Image does. */
static int fetch_manifest(struct sl_registry *reg, const struct sl_ocirepo_spec *spec,
                          const struct sl_ocirepo_revision *rev, struct sl_manifest *ret,
                          struct sl_source_error *serr)
{
	char reference[SL_DIGEST_STR_LEN];
	snprintf(reference, sizeof(reference), "%s", rev->digest);
	for (int hops = 0; hops < 2; hops++) {
		_cleanup_buf_ struct sl_buf body;
		sl_buf_init(&body, SL_MAX_MANIFEST_BYTES);
		_cleanup_free_ char *content_type = NULL;
		char got[SL_DIGEST_STR_LEN];
		struct sl_error err = {0};
		/* Resolving may have fetched these very bytes already: their
		 * sha256 is rev->digest. */
		bool prefetched = hops == 0 && rev->manifest.data;
		if (prefetched) {
			if (sl_buf_append(&body, rev->manifest.data, rev->manifest.len) < 0)
				return fail(serr, SL_REASON_PULL_FAILED, false, SL_ELIMIT,
				            "failed to pull artifact from '%s': manifest too large",
				            spec->url);
			content_type = rev->manifest_type ? sl_strdup(rev->manifest_type) : NULL;
		} else if (sl_registry_manifest_get(reg, spec->ref.repository, reference, &body,
		                                    &content_type, got, &err) < 0)
			return fail(serr, SL_REASON_PULL_FAILED, false, err.code,
			            "failed to pull artifact from '%s': %s", spec->url, err.msg);
		json_t *doc = json_loadb(body.data ? body.data : "", body.len, 0, NULL);
		const char *mt = json_string_value(json_object_get(doc, "mediaType"));
		bool index = sl_media_type_is_index(mt ? mt : content_type ? content_type : "");
		json_decref(doc);
		if (index) {
			if (sl_index_pick(body.data, body.len, reference, &err) < 0)
				return fail(serr, SL_REASON_PULL_FAILED, false, err.code,
				            "failed to pull artifact from '%s': %s", spec->url,
				            err.msg);
			continue;
		}
		if (sl_manifest_parse(body.data, body.len, content_type, ret, &err) < 0)
			return fail(serr, SL_REASON_LAYER_FAILED, false, err.code,
			            "failed to parse artifact manifest: %s", err.msg);
		return 0;
	}
	return fail(serr, SL_REASON_PULL_FAILED, false, SL_EINVAL,
	            "failed to pull artifact from '%s': an index inside an index", spec->url);
}

static void ignore_warning(void *userdata, const char *fmt, ...)
{
	(void)userdata, (void)fmt; /* Flux drops symlinks silently too */
}

/* Writes the blob unchanged to path, through a temp file renamed into
 * place: a reader never sees half a layer. */
static int copy_layer(int fd, const char *path, struct sl_error *err)
{
	_cleanup_free_ char *tmp = sl_asprintf("%s.XXXXXX", path);
	_cleanup_close_ int out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0)
		return sl_error_errno(err, errno, SL_EIO, "creating %s", path);
	char buf[65536];
	ssize_t n;
	int r = 0;
	while (r == 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(out, buf, (size_t)n) != n)
			r = sl_error_errno(err, errno, SL_EIO, "writing %s", path);
	}
	if (r == 0 && (fchmod(out, 0600) < 0 || fsync(out) < 0 || rename(tmp, path) < 0))
		r = sl_error_errno(err, errno, SL_EIO, "writing %s", path);
	if (r < 0)
		unlink(tmp);
	return r;
}

int sl_ocirepo_fetch_layer(struct sl_registry *reg, const struct sl_ocirepo_spec *spec,
                           const struct sl_ocirepo_revision *rev, uint64_t max_bytes, int *ret_fd,
                           struct sl_ocirepo_fetch *ret, struct sl_source_error *serr)
{
	struct sl_manifest m = {0};
	int r = fetch_manifest(reg, spec, rev, &m, serr);
	if (r < 0)
		return r;
	const struct sl_descriptor *layer = NULL;
	if (m.n_layers == 0) {
		r = fail(serr, SL_REASON_LAYER_FAILED, false, SL_EINVAL,
		         "no layers found in artifact");
	} else if (spec->layer_media_type) {
		for (size_t i = 0; i < m.n_layers && !layer; i++)
			if (strcmp(m.layers[i].media_type, spec->layer_media_type) == 0)
				layer = &m.layers[i];
		if (!layer)
			r = fail(serr, SL_REASON_LAYER_FAILED, false, SL_ENOTFOUND,
			         "failed to find layer with media type '%s' in artifact",
			         spec->layer_media_type);
	} else {
		layer = &m.layers[0];
	}
	if (r == 0 && max_bytes && layer->size > max_bytes)
		r = fail(serr, SL_REASON_LAYER_FAILED, false, SL_ELIMIT,
		         "layer %s is %llu bytes, more than the %llu allowed", layer->digest,
		         (unsigned long long)layer->size, (unsigned long long)max_bytes);
	_cleanup_close_ int fd = -1;
	struct sl_error err = {0};
	if (r == 0 && (fd = sl_tmpfile_for(layer->size, &err)) < 0)
		r = fail(serr, SL_REASON_LAYER_FAILED, false, err.code, "%s", err.msg);
	if (r == 0 && sl_registry_blob_fetch(reg, spec->ref.repository, layer->digest, layer->size,
	                                     fd, &err) < 0)
		r = fail(serr, SL_REASON_PULL_FAILED, false, err.code,
		         "failed to pull artifact from '%s': %s", spec->url, err.msg);
	if (r == 0 && lseek(fd, 0, SEEK_SET) < 0)
		r = fail(serr, SL_REASON_LAYER_FAILED, false, SL_EIO, "rewinding the layer: %s",
		         strerror(errno));
	if (r == 0) {
		ret->annotations = m.annotations ? json_incref(m.annotations) : json_object();
		ret->layer_digest = sl_strdup(layer->digest);
		ret->layer_size = layer->size;
		*ret_fd = TAKE_FD(fd);
	}
	sl_manifest_clear(&m);
	return r;
}

int sl_ocirepo_fetch(struct sl_registry *reg, const struct sl_ocirepo_spec *spec,
                     const struct sl_ocirepo_revision *rev, const char *out_dir,
                     const char *out_file, uint64_t max_bytes, struct sl_ocirepo_fetch *ret,
                     struct sl_source_error *serr)
{
	_cleanup_close_ int fd = -1;
	int r = sl_ocirepo_fetch_layer(reg, spec, rev, max_bytes, &fd, ret, serr);
	if (r < 0)
		return r;
	struct sl_error err = {0};
	if (spec->layer_copy) {
		if (copy_layer(fd, out_file, &err) < 0)
			r = fail(serr, SL_REASON_LAYER_FAILED, false, err.code, "%s", err.msg);
	} else {
		struct sl_extract_limits limits = {.max_total_bytes = 0, .max_entries = 0};
		if (sl_tar_extract(fd, out_dir, &limits, ignore_warning, NULL, &err) < 0)
			r = fail(serr, SL_REASON_LAYER_FAILED, false, err.code,
			         "failed to extract layer contents from artifact: %s", err.msg);
	}
	if (r < 0)
		sl_ocirepo_fetch_clear(ret);
	return r;
}
