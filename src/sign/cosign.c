/* Where cosign keeps signatures in a registry, and the decision whether an
 * artifact is signed by one of a set of keys (spec §C.2–§C.4). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "codec/codec.h"
#include "oci/oci.h"
#include "sign/sign.h"

#define OCI_CONFIG_MT "application/vnd.oci.image.config.v1+json"

char *sl_cosign_signature_tag(const char *manifest_digest)
{
	return sl_asprintf("sha256-%s.sig", manifest_digest + strlen("sha256:"));
}

char *sl_cosign_referrers_tag(const char *manifest_digest)
{
	return sl_asprintf("sha256-%s", manifest_digest + strlen("sha256:"));
}

void sl_cosign_verified_clear(struct sl_cosign_verified *v)
{
	free(v->signature_location);
	free(v->rejections);
	free(v->docker_reference);
	json_decref(v->annotations);
	*v = (struct sl_cosign_verified){0};
}

/* A small blob (a payload, a bundle) into memory, digest and size checked
 * by the registry client as it arrives. The size comes from a descriptor
 * the registry gave us, so it is capped before anything is fetched. */
static int fetch_small_blob(struct sl_registry *r, const char *repo, const char *digest,
                            uint64_t size, struct sl_buf *out, struct sl_error *err)
{
	if (size > SL_MAX_SIGNATURE_PAYLOAD_BYTES)
		return sl_error_set(err, SL_ELIMIT,
		                    "blob %s is %llu bytes, more than the %d allowed", digest,
		                    (unsigned long long)size, SL_MAX_SIGNATURE_PAYLOAD_BYTES);
	_cleanup_close_ int fd = memfd_create("sluice-signature", MFD_CLOEXEC);
	if (fd < 0)
		return sl_error_errno(err, errno, SL_EIO, "memfd_create");
	int rc = sl_registry_blob_fetch(r, repo, digest, size, fd, err);
	if (rc < 0)
		return rc;
	sl_buf_reset(out);
	char chunk[16384];
	if (lseek(fd, 0, SEEK_SET) < 0)
		return sl_error_errno(err, errno, SL_EIO, "reading blob %s", digest);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0)
			return sl_error_errno(err, errno, SL_EIO, "reading blob %s", digest);
		if (n == 0)
			break;
		if (sl_buf_append(out, chunk, (size_t)n))
			return sl_error_set(err, SL_ELIMIT, "blob %s is too large", digest);
	}
	return 0;
}

/* ---- signing ---------------------------------------------------------- */

/* One layer of a `.sig` manifest. */
struct sig_layer {
	char *media_type;
	char *digest;
	uint64_t size;
	char *signature;     /* base64, the annotation; NULL: not a signature */
	json_t *annotations; /* NULL when the layer has none */
};

static void sig_layers_free(struct sig_layer *layers, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(layers[i].media_type);
		free(layers[i].digest);
		free(layers[i].signature);
		json_decref(layers[i].annotations);
	}
	free(layers);
}

/* The layers of a signature manifest. For verification (keep_all false)
 * only simple-signing layers with a signature annotation, the first
 * SL_MAX_SIGNATURES_PER_ARTIFACT of them: signatures pile up (every keyless
 * CI run adds one) and the oldest come first. For signing (keep_all) every
 * layer, since the manifest is rewritten with one more and nothing already
 * there may be lost; a layer that cannot be carried over is an error. */
static int parse_sig_manifest(const char *data, size_t len, bool keep_all, struct sig_layer **ret,
                              size_t *ret_n, struct sl_error *err)
{
	json_error_t jerr;
	_cleanup_(json_decrefp) json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(doc))
		return sl_error_set(err, SL_EINVAL, "signature manifest is not a JSON object");
	const json_t *layers = json_object_get(doc, "layers");
	if (!json_is_array(layers))
		return sl_error_set(err, SL_EINVAL, "signature manifest has no layers");
	struct sig_layer *out = sl_xcalloc(json_array_size(layers) + 1, sizeof(*out));
	size_t n = 0, i;
	const json_t *layer;
	json_array_foreach (layers, i, layer) {
		if (!keep_all && n == SL_MAX_SIGNATURES_PER_ARTIFACT)
			break;
		const char *mt = json_string_value(json_object_get(layer, "mediaType"));
		const char *digest = json_string_value(json_object_get(layer, "digest"));
		const json_t *size = json_object_get(layer, "size");
		json_t *ann = json_object_get(layer, "annotations");
		const char *sig =
		    json_string_value(json_object_get(ann, SL_COSIGN_SIGNATURE_ANNOTATION));
		bool usable = mt && sl_media_type_valid(mt) && digest && sl_digest_valid(digest) &&
		              json_is_integer(size) && json_integer_value(size) >= 0 &&
		              (!ann || json_is_object(ann));
		bool signature = usable && strcmp(mt, SL_COSIGN_SIMPLESIGNING_MT) == 0 && sig;
		if (keep_all && !usable) {
			sig_layers_free(out, n);
			return sl_error_set(
			    err, SL_EINVAL,
			    "signature manifest layer %zu is malformed: not rewriting "
			    "it",
			    i);
		}
		if (!keep_all && !signature)
			continue;
		out[n].media_type = sl_strdup(mt);
		out[n].digest = sl_strdup(digest);
		out[n].size = (uint64_t)json_integer_value(size);
		out[n].signature = signature ? sl_strdup(sig) : NULL;
		out[n].annotations = ann ? json_incref(ann) : NULL;
		n++;
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

static int append_go_annotations(struct sl_buf *out, const json_t *ann)
{
	/* Go's map marshalling: keys sorted bytewise. */
	size_t n = json_object_size(ann);
	const char **keys = sl_xcalloc(n + 1, sizeof(*keys));
	size_t i = 0;
	const char *key;
	const json_t *value;
	json_object_foreach ((json_t *)ann, key, value)
		if (json_is_string(value))
			keys[i++] = key;
	n = i;
	for (size_t a = 1; a < n; a++) /* insertion sort: a handful of keys */
		for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
			const char *t = keys[b];
			keys[b] = keys[b - 1];
			keys[b - 1] = t;
		}
	int r = sl_buf_puts(out, "{");
	for (i = 0; r == 0 && i < n; i++) {
		r = i ? sl_buf_puts(out, ",") : 0;
		r = r ?: sl_json_append_go_string(out, keys[i]);
		r = r ?: sl_buf_puts(out, ":");
		r = r
		        ?: sl_json_append_go_string(
		               out, json_string_value(json_object_get(ann, keys[i])));
	}
	free(keys);
	return r ?: sl_buf_puts(out, "}");
}

/* The image config go-containerregistry's mutate.Append writes for cosign's
 * signature image: empty, with one diff_id and one history entry a layer. */
static int build_sig_config(const struct sig_layer *layers, size_t n, struct sl_buf *out)
{
	int r = sl_buf_puts(out, "{\"architecture\":\"\",\"created\":\"0001-01-01T00:00:00Z\","
	                         "\"history\":[");
	for (size_t i = 0; r == 0 && i < n; i++)
		r = sl_buf_printf(out, "%s{\"created\":\"0001-01-01T00:00:00Z\"}", i ? "," : "");
	r = r ?: sl_buf_puts(out, "],\"os\":\"\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[");
	for (size_t i = 0; r == 0 && i < n; i++)
		r = sl_buf_printf(out, "%s\"%s\"", i ? "," : "", layers[i].digest);
	return r ?: sl_buf_puts(out, "]},\"config\":{}}");
}

static int build_sig_manifest(const struct sig_layer *layers, size_t n, const char *config_digest,
                              size_t config_size, struct sl_buf *out)
{
	int r = sl_buf_printf(out,
	                      "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
	                      "\"%s\",\"size\":%zu,\"digest\":\"%s\"},\"layers\":[",
	                      SL_MT_OCI_MANIFEST, OCI_CONFIG_MT, config_size, config_digest);
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = sl_buf_printf(out, "%s{\"mediaType\":", i ? "," : "");
		r = r ?: sl_json_append_go_string(out, layers[i].media_type);
		r = r
		        ?: sl_buf_printf(out, ",\"size\":%llu,\"digest\":\"%s\"",
		                         (unsigned long long)layers[i].size, layers[i].digest);
		if (layers[i].annotations) {
			r = r ?: sl_buf_puts(out, ",\"annotations\":");
			r = r ?: append_go_annotations(out, layers[i].annotations);
		}
		r = r ?: sl_buf_puts(out, "}");
	}
	return r ?: sl_buf_puts(out, "]}");
}

int sl_cosign_sign_legacy(struct sl_registry *r, const char *repo, const char *manifest_digest,
                          const struct sl_cosign_key *key, const struct sl_cosign_sign_opts *opts,
                          struct sl_cosign_sign_result *ret, struct sl_error *err)
{
	*ret = (struct sl_cosign_sign_result){0};
	_cleanup_buf_ struct sl_buf payload;
	sl_buf_init(&payload, SL_MAX_SIGNATURE_PAYLOAD_BYTES);
	int rc = sl_cosign_payload_build(opts->docker_reference, manifest_digest, opts->annotations,
	                                 &payload, err);
	if (rc < 0)
		return rc;
	char payload_digest[SL_DIGEST_STR_LEN];
	sl_sha256_digest(payload.data, payload.len, payload_digest);

	_cleanup_free_ char *tag = sl_cosign_signature_tag(manifest_digest);
	snprintf(ret->signature_tag, sizeof(ret->signature_tag), "%s", tag);

	/* The signatures already there stay: cosign appends. */
	_cleanup_buf_ struct sl_buf existing;
	sl_buf_init(&existing, SL_MAX_MANIFEST_BYTES);
	char existing_digest[SL_DIGEST_STR_LEN];
	struct sig_layer *layers = NULL;
	size_t n = 0;
	rc = sl_registry_manifest_get(r, repo, tag, &existing, NULL, existing_digest, err);
	if (rc == SL_ENOTFOUND) {
		layers = sl_xcalloc(1, sizeof(*layers));
		rc = 0;
	} else if (rc == 0) {
		rc = parse_sig_manifest(existing.data, existing.len, true, &layers, &n, err);
		if (rc < 0)
			sl_error_wrap(err, rc, "existing signatures in %s:%s", repo, tag);
	} else {
		sl_error_wrap(err, rc, "reading existing signatures %s:%s", repo, tag);
	}
	if (rc < 0)
		return rc;

	/* A signature by this key over this very payload is already there (ECDSA
	 * signatures differ each time, so compare by verifying, as cosign's
	 * duplicate detector does). */
	for (size_t i = 0; i < n; i++) {
		if (!layers[i].signature || strcmp(layers[i].digest, payload_digest) != 0)
			continue;
		_cleanup_free_ char *sig = NULL;
		ssize_t sig_len = sl_base64_decode(layers[i].signature, &sig);
		struct sl_error ignored = {0};
		if (sig_len > 0 && sl_cosign_verify_bytes(key, payload.data, payload.len, sig,
		                                          (size_t)sig_len, &ignored) == 0) {
			ret->already_signed = true;
			snprintf(ret->signature_manifest_digest, SL_DIGEST_STR_LEN, "%s",
			         existing_digest);
			sig_layers_free(layers, n);
			return 0;
		}
	}

	_cleanup_buf_ struct sl_buf sig;
	sl_buf_init(&sig, 0);
	rc = sl_cosign_sign_bytes(key, payload.data, payload.len, &sig, err);
	if (rc < 0) {
		sig_layers_free(layers, n);
		return rc;
	}
	layers = sl_xrealloc(layers, (n + 1) * sizeof(*layers));
	layers[n] = (struct sig_layer){.media_type = sl_strdup(SL_COSIGN_SIMPLESIGNING_MT),
	                               .digest = sl_strdup(payload_digest),
	                               .size = payload.len,
	                               .signature = sl_base64_encode(sig.data, sig.len),
	                               .annotations = json_object()};
	json_object_set_new(layers[n].annotations, SL_COSIGN_SIGNATURE_ANNOTATION,
	                    json_string(layers[n].signature));
	n++;

	_cleanup_buf_ struct sl_buf config, manifest;
	sl_buf_init(&config, 0);
	sl_buf_init(&manifest, 0);
	char config_digest[SL_DIGEST_STR_LEN];
	rc = build_sig_config(layers, n, &config);
	if (rc == 0) {
		sl_sha256_digest(config.data, config.len, config_digest);
		rc = build_sig_manifest(layers, n, config_digest, config.len, &manifest);
	}
	sig_layers_free(layers, n);
	if (rc < 0)
		return sl_error_set(err, rc, "building the signature manifest");

	rc = sl_registry_blob_upload_bytes(r, repo, payload_digest, payload.data, payload.len, err);
	rc = rc
	         ?: sl_registry_blob_upload_bytes(r, repo, config_digest, config.data, config.len,
	                                          err);
	rc = rc
	         ?: sl_registry_manifest_put(r, repo, tag, SL_MT_OCI_MANIFEST, manifest.data,
	                                     manifest.len, err);
	if (rc < 0)
		return sl_error_wrap(err, rc, "writing the signature %s:%s", repo, tag);
	sl_sha256_digest(manifest.data, manifest.len, ret->signature_manifest_digest);
	return 0;
}

/* ---- verification ----------------------------------------------------- */

/* Why candidates were turned down, for the error when none verifies. */
struct rejections {
	struct sl_buf text;
	size_t count;
};

/* Appends text with control characters replaced: parts of it come from
 * the registry and end up on a terminal. */
static void append_printable(struct sl_buf *b, const char *text)
{
	for (const unsigned char *c = (const unsigned char *)text; *c; c++)
		(void)sl_buf_append(b, *c < 0x20 || *c == 0x7f ? "?" : (const char *)c, 1);
}

static void reject(struct rejections *rj, const char *what, const char *why)
{
	rj->count++;
	if (rj->count > 8) /* enough to see the pattern */
		return;
	if (rj->text.len)
		(void)sl_buf_puts(&rj->text, "; ");
	append_printable(&rj->text, what);
	(void)sl_buf_puts(&rj->text, ": ");
	append_printable(&rj->text, why);
}

struct bundle_candidate {
	char *manifest_digest;
	struct sl_cosign_bundle bundle;
};

/* The descriptors of the referrers of digest: the API's answer, or else
 * the referrers tag schema's index. No referrers at all is an empty list. */
static int list_referrers(struct sl_registry *r, const char *repo, const char *digest, json_t **ret,
                          struct sl_error *err)
{
	_cleanup_buf_ struct sl_buf index;
	sl_buf_init(&index, SL_MAX_MANIFEST_BYTES);
	int rc = sl_registry_referrers_get(r, repo, digest, &index, err);
	if (rc == SL_EUNSUPPORTED) {
		_cleanup_free_ char *tag = sl_cosign_referrers_tag(digest);
		char got[SL_DIGEST_STR_LEN];
		rc = sl_registry_manifest_get(r, repo, tag, &index, NULL, got, err);
		if (rc == SL_ENOTFOUND) {
			*ret = json_array();
			return 0;
		}
	}
	if (rc < 0)
		return rc;
	json_error_t jerr;
	_cleanup_(json_decrefp) json_t *doc = json_loadb(index.data, index.len, 0, &jerr);
	json_t *manifests = json_object_get(doc, "manifests");
	if (!json_is_object(doc) ||
	    !(json_is_array(manifests) || json_is_null(manifests) || !manifests))
		return sl_error_set(err, SL_EINVAL, "the referrers of %s are not an image index",
		                    digest);
	*ret = json_is_array(manifests) ? json_incref(manifests) : json_array();
	return 0;
}

/* Referrer manifests are small (cosign's is under 1 KiB): a cap far below
 * the 4 MiB of an image manifest bounds what a hostile index can make us
 * read. */
#define MAX_REFERRER_MANIFEST_BYTES (64 * 1024)

/* Whether a referrers index descriptor may be a Sigstore bundle: its
 * artifactType says so, or says nothing useful (absent, or the empty
 * config's type that some registries report in its place). */
static bool may_be_bundle(const char *artifact_type)
{
	return !artifact_type || !*artifact_type ||
	       sl_startswith(artifact_type, SL_SIGSTORE_BUNDLE_MT_PREFIX) ||
	       strcmp(artifact_type, SL_OCI_EMPTY_MT) == 0;
}

/* The referrers that are Sigstore bundles v0.3+, fetched and parsed: at most
 * SL_MAX_SIGNATURES_PER_ARTIFACT descriptors are examined, each once.
 * Referrers of other kinds (SBOMs, attestations of something else) are
 * skipped without a fetch when their descriptor says what they are. A
 * discovery failure is returned; the caller falls back to legacy
 * signatures, as cosign and Flux do. */
static int collect_bundles(struct sl_registry *r, const char *repo, const char *digest,
                           struct bundle_candidate **ret, size_t *ret_n, struct rejections *rj,
                           struct sl_error *err)
{
	_cleanup_(json_decrefp) json_t *referrers = NULL;
	int rc = list_referrers(r, repo, digest, &referrers, err);
	if (rc < 0)
		return rc;
	struct bundle_candidate *out = sl_xcalloc(SL_MAX_SIGNATURES_PER_ARTIFACT + 1, sizeof(*out));
	_cleanup_(json_decrefp) json_t *seen = json_object();
	size_t n = 0, examined = 0, i;
	const json_t *desc;
	json_array_foreach (referrers, i, desc) {
		const char *at = json_string_value(json_object_get(desc, "artifactType"));
		const char *ref_digest = json_string_value(json_object_get(desc, "digest"));
		if (!may_be_bundle(at) || !ref_digest || !sl_digest_valid(ref_digest) ||
		    json_object_get(seen, ref_digest))
			continue;
		if (examined++ == SL_MAX_SIGNATURES_PER_ARTIFACT) {
			reject(rj, "referrers", "more than 64 candidates: the rest were not read");
			break;
		}
		json_object_set_new(seen, ref_digest, json_true());
		_cleanup_buf_ struct sl_buf body;
		sl_buf_init(&body, MAX_REFERRER_MANIFEST_BYTES);
		char got[SL_DIGEST_STR_LEN];
		rc = sl_registry_manifest_get(r, repo, ref_digest, &body, NULL, got, err);
		if (rc < 0) {
			sl_error_wrap(err, rc, "referrer %s", ref_digest);
			break;
		}
		_cleanup_(json_decrefp) json_t *m = json_loadb(body.data, body.len, 0, NULL);
		const json_t *layers = json_object_get(m, "layers");
		const json_t *layer = json_array_get(layers, 0);
		const char *mt = json_string_value(json_object_get(layer, "mediaType"));
		const char *blob = json_string_value(json_object_get(layer, "digest"));
		const json_t *size = json_object_get(layer, "size");
		if (json_array_size(layers) != 1 || !mt ||
		    !sl_startswith(mt, SL_SIGSTORE_BUNDLE_MT_PREFIX) || !blob ||
		    !sl_digest_valid(blob) || !json_is_integer(size) ||
		    json_integer_value(size) < 0)
			continue;
		rc =
		    fetch_small_blob(r, repo, blob, (uint64_t)json_integer_value(size), &body, err);
		if (rc < 0) {
			sl_error_wrap(err, rc, "bundle of referrer %s", ref_digest);
			break;
		}
		struct sl_error perr = {0};
		if (sl_cosign_bundle_parse(body.data, body.len, &out[n].bundle, &perr) < 0) {
			reject(rj, ref_digest, perr.msg);
			continue;
		}
		out[n++].manifest_digest = sl_strdup(ref_digest);
	}
	if (rc < 0) {
		for (i = 0; i < n; i++) {
			free(out[i].manifest_digest);
			sl_cosign_bundle_clear(&out[i].bundle);
		}
		free(out);
		return rc;
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

static bool bundle_verifies(const struct sl_cosign_bundle *b, const struct sl_cosign_key *key,
                            const char *digest, const char **why)
{
	if (strcmp(b->payload_type, SL_INTOTO_PAYLOAD_TYPE) != 0) {
		*why = "its DSSE payload is not an in-toto statement";
		return false;
	}
	_cleanup_buf_ struct sl_buf pae;
	sl_buf_init(&pae, 0);
	if (sl_dsse_pae(b->payload_type, b->payload, b->payload_len, &pae) < 0) {
		*why = "out of memory";
		return false;
	}
	bool signed_by_key = false;
	for (size_t i = 0; i < b->n_signatures && !signed_by_key; i++) {
		struct sl_error ignored = {0};
		signed_by_key = sl_cosign_verify_bytes(key, pae.data, pae.len, b->signatures[i],
		                                       b->signature_lens[i], &ignored) == 0;
	}
	if (!signed_by_key) {
		*why = "its signature does not verify with the key";
		return false;
	}
	bool names = false;
	struct sl_error serr = {0};
	if (sl_intoto_names_digest(b->payload, b->payload_len, digest, &names, &serr) < 0 ||
	    !names) {
		*why = "its statement does not name the digest verified";
		return false;
	}
	/* An attestation (an SBOM, a scan report) signed by the same key is
	 * not a signature of approval: cosign sign writes this predicate. */
	if (!sl_intoto_has_predicate(b->payload, b->payload_len, SL_COSIGN_SIGN_PREDICATE)) {
		*why = "it is an attestation, not a signature (predicateType is "
		       "not " SL_COSIGN_SIGN_PREDICATE ")";
		return false;
	}
	return true;
}

static int verify_bundles(const struct bundle_candidate *bundles, size_t n,
                          struct sl_cosign_key *const *keys, size_t n_keys, const char *digest,
                          struct sl_cosign_verified *ret, struct rejections *rj)
{
	for (size_t b = 0; b < n; b++) {
		const char *why = "no keys";
		for (size_t k = 0; k < n_keys; k++) {
			if (bundle_verifies(&bundles[b].bundle, keys[k], digest, &why)) {
				*ret = (struct sl_cosign_verified){
				    .format = SL_COSIGN_BUNDLE,
				    .key_index = k,
				    .signature_location = sl_strdup(bundles[b].manifest_digest)};
				return 0;
			}
		}
		reject(rj, bundles[b].manifest_digest, why);
	}
	return SL_ENOTFOUND;
}

static int verify_legacy(struct sl_registry *r, const char *repo, const char *digest,
                         struct sl_cosign_key *const *keys, size_t n_keys,
                         struct sl_cosign_verified *ret, struct rejections *rj,
                         struct sl_error *err)
{
	_cleanup_free_ char *tag = sl_cosign_signature_tag(digest);
	_cleanup_buf_ struct sl_buf body;
	sl_buf_init(&body, SL_MAX_MANIFEST_BYTES);
	char got[SL_DIGEST_STR_LEN];
	int rc = sl_registry_manifest_get(r, repo, tag, &body, NULL, got, err);
	if (rc == SL_ENOTFOUND) {
		reject(rj, tag, "no such tag");
		return SL_ENOTFOUND;
	}
	if (rc < 0)
		return sl_error_wrap(err, rc, "reading signatures %s:%s", repo, tag);
	struct sig_layer *layers = NULL;
	size_t n = 0;
	rc = parse_sig_manifest(body.data, body.len, false, &layers, &n, err);
	if (rc < 0)
		return sl_error_wrap(err, rc, "%s:%s", repo, tag);
	if (n == 0)
		reject(rj, tag, "holds no simple-signing layer with a signature");
	rc = SL_ENOTFOUND;
	for (size_t i = 0; i < n && rc == SL_ENOTFOUND; i++) {
		_cleanup_free_ char *what = sl_asprintf("%s layer %zu", tag, i);
		int f = fetch_small_blob(r, repo, layers[i].digest, layers[i].size, &body, err);
		if (f < 0) {
			rc = sl_error_wrap(err, f, "%s", what);
			break;
		}
		_cleanup_free_ char *sig = NULL;
		ssize_t sig_len = sl_base64_decode(layers[i].signature, &sig);
		if (sig_len <= 0) {
			reject(rj, what, "its signature annotation is not base64");
			continue;
		}
		size_t k;
		for (k = 0; k < n_keys; k++) {
			struct sl_error ignored = {0};
			if (sl_cosign_verify_bytes(keys[k], body.data, body.len, sig,
			                           (size_t)sig_len, &ignored) == 0)
				break;
		}
		if (k == n_keys) {
			reject(rj, what, "its signature does not verify with the key");
			continue;
		}
		/* The signature is good; the payload must be about this artifact
		 * (Flux skips this check, cosign's CLI does it too). */
		struct sl_cosign_payload p = {0};
		struct sl_error perr = {0};
		if (sl_cosign_payload_parse(body.data, body.len, &p, &perr) < 0) {
			reject(rj, what, perr.msg);
			continue;
		}
		if (strcmp(p.type, SL_COSIGN_PAYLOAD_TYPE) != 0) {
			reject(rj, what, "its payload is not a cosign container image signature");
		} else if (strcmp(p.manifest_digest, digest) != 0) {
			_cleanup_free_ char *why =
			    sl_asprintf("its payload signs another digest, %s", p.manifest_digest);
			reject(rj, what, why);
		} else {
			*ret = (struct sl_cosign_verified){.format = SL_COSIGN_LEGACY,
			                                   .key_index = k,
			                                   .signature_location = sl_strdup(tag),
			                                   .docker_reference =
			                                       TAKE_PTR(p.docker_reference),
			                                   .annotations = TAKE_PTR(p.optional)};
			rc = 0;
		}
		sl_cosign_payload_clear(&p);
	}
	sig_layers_free(layers, n);
	return rc;
}

int sl_cosign_verify(struct sl_registry *r, const char *registry_host, const char *repo,
                     const char *manifest_digest, struct sl_cosign_key *const *keys, size_t n_keys,
                     struct sl_cosign_verified *ret, struct sl_error *err)
{
	*ret = (struct sl_cosign_verified){0};
	if (!sl_digest_valid(manifest_digest))
		return sl_error_set(err, SL_EINVAL, "not a sha256 digest: %s", manifest_digest);
	struct rejections rj = {0};
	sl_buf_init(&rj.text, 0);
	struct bundle_candidate *bundles = NULL;
	size_t n_bundles = 0;
	int rc = collect_bundles(r, repo, manifest_digest, &bundles, &n_bundles, &rj, err);
	if (rc < 0 && rc != SL_ENOMEM) {
		/* Bundles cannot be listed: legacy signatures still can vouch. */
		reject(&rj, "referrers", err->msg);
		rc = 0;
	}
	if (rc == 0 && n_keys == 0)
		rc = SL_ENOTFOUND;
	else if (rc == 0 && n_bundles > 0)
		/* Where bundles exist only they count, as in cosign v3 and Flux:
		 * a stale legacy signature cannot vouch for what a bundle refuses. */
		rc = verify_bundles(bundles, n_bundles, keys, n_keys, manifest_digest, ret, &rj);
	else if (rc == 0)
		rc = verify_legacy(r, repo, manifest_digest, keys, n_keys, ret, &rj, err);
	for (size_t i = 0; i < n_bundles; i++) {
		free(bundles[i].manifest_digest);
		sl_cosign_bundle_clear(&bundles[i].bundle);
	}
	free(bundles);
	if (rc == SL_ENOTFOUND) {
		/* Flux's message exactly (it reaches status conditions and alerts);
		 * the reasons travel separately. */
		sl_error_set(err, SL_ENOTFOUND, "no matching signatures were found for '%s/%s@%s'",
		             registry_host, repo, manifest_digest);
		ret->rejections = rj.text.len ? sl_buf_steal(&rj.text) : sl_strdup("no signatures");
	}
	sl_buf_free(&rj.text);
	return rc;
}
