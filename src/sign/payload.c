/* The documents cosign signatures travel in: the simple-signing payload of
 * the legacy format and the Sigstore bundle of cosign v3. Parsing only
 * trusts structure: whether a signature verifies is cosign.c's business. */
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "sign/sign.h"

/* ---- simple signing ---------------------------------------------------- */

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A JSON object of strings as Go's json.Marshal writes a map[string]any:
 * keys sorted bytewise. Values other than strings are refused: cosign's
 * annotations are `-a key=value` strings. */
static int append_go_string_map(struct sl_buf *out, const json_t *map, struct sl_error *err)
{
	size_t n = json_object_size(map);
	const char **keys = sl_xcalloc(n ? n : 1, sizeof(*keys));
	size_t i = 0;
	const char *key;
	const json_t *value;
	json_object_foreach ((json_t *)map, key, value) {
		if (!json_is_string(value)) {
			free(keys);
			return sl_error_set(err, SL_EINVAL, "annotation %s is not a string", key);
		}
		keys[i++] = key;
	}
	qsort(keys, n, sizeof(*keys), cmp_key);
	int r = sl_buf_puts(out, "{");
	for (i = 0; r == 0 && i < n; i++) {
		if (i)
			r = sl_buf_puts(out, ",");
		r = r ?: sl_json_append_go_string(out, keys[i]);
		r = r ?: sl_buf_puts(out, ":");
		r = r
		        ?: sl_json_append_go_string(
		               out, json_string_value(json_object_get(map, keys[i])));
	}
	r = r ?: sl_buf_puts(out, "}");
	free(keys);
	return r ? sl_error_set(err, r, "payload too large") : 0;
}

int sl_cosign_payload_build(const char *docker_reference, const char *manifest_digest,
                            const json_t *optional, struct sl_buf *out, struct sl_error *err)
{
	if (!sl_digest_valid(manifest_digest))
		return sl_error_set(err, SL_EINVAL, "not a sha256 digest: %s", manifest_digest);
	int r = sl_buf_puts(out, "{\"critical\":{\"identity\":{\"docker-reference\":");
	r = r ?: sl_json_append_go_string(out, docker_reference);
	r = r ?: sl_buf_puts(out, "},\"image\":{\"docker-manifest-digest\":");
	r = r ?: sl_json_append_go_string(out, manifest_digest);
	r = r ?: sl_buf_printf(out, "},\"type\":\"%s\"},\"optional\":", SL_COSIGN_PAYLOAD_TYPE);
	if (r)
		return sl_error_set(err, r, "payload too large");
	if (optional && json_object_size(optional)) {
		r = append_go_string_map(out, optional, err);
		if (r)
			return r;
	} else if (sl_buf_puts(out, "null")) {
		return sl_error_set(err, SL_ELIMIT, "payload too large");
	}
	return sl_buf_puts(out, "}") ? sl_error_set(err, SL_ELIMIT, "payload too large") : 0;
}

void sl_cosign_payload_clear(struct sl_cosign_payload *p)
{
	free(p->docker_reference);
	free(p->manifest_digest);
	free(p->type);
	json_decref(p->optional);
	*p = (struct sl_cosign_payload){0};
}

/* Whether any object in v has two keys equal but for ASCII case: each
 * object's keys lowercased into a hash set, so a hostile payload with many
 * keys costs linear time. Nesting is bounded by jansson's parser. */
static bool has_case_duplicates(const json_t *v)
{
	size_t i;
	const json_t *item;
	if (json_is_array(v)) {
		json_array_foreach ((json_t *)v, i, item)
			if (has_case_duplicates(item))
				return true;
		return false;
	}
	if (!json_is_object(v))
		return false;
	json_t *lowered = json_object();
	bool dup = false;
	const char *key;
	json_object_foreach ((json_t *)v, key, item) {
		char *lower = sl_strdup(key);
		for (char *c = lower; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		dup = json_object_get(lowered, lower) != NULL;
		json_object_set_new(lowered, lower, json_null());
		free(lower);
		if (dup || has_case_duplicates(item)) {
			dup = true;
			break;
		}
	}
	json_decref(lowered);
	return dup;
}

static json_t *parse_json(const char *data, size_t len, size_t max, const char *what,
                          struct sl_error *err)
{
	if (len > max) {
		sl_error_set(err, SL_ELIMIT, "%s is larger than %zu bytes", what, max);
		return NULL;
	}
	json_error_t jerr;
	/* Duplicate keys, and keys equal but for case (Go's encoding/json
	 * matches them case-insensitively), could let sluice and cosign read
	 * different documents out of the same signed bytes: refuse them. NUL
	 * inside strings is refused by jansson's default for the same reason. */
	json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		sl_error_set(err, SL_EINVAL, "%s is not JSON: %s", what, jerr.text);
	else if (!json_is_object(doc)) {
		json_decref(doc);
		doc = NULL;
		sl_error_set(err, SL_EINVAL, "%s is not a JSON object", what);
	} else if (has_case_duplicates(doc)) {
		json_decref(doc);
		doc = NULL;
		sl_error_set(err, SL_EINVAL, "%s has keys that differ only in case", what);
	}
	return doc;
}

/* The string at a path of object keys, or NULL. */
static const char *string_at(const json_t *obj, const char *const *path, size_t n)
{
	for (size_t i = 0; i < n && obj; i++)
		obj = json_object_get(obj, path[i]);
	return json_is_string(obj) ? json_string_value(obj) : NULL;
}

int sl_cosign_payload_parse(const char *data, size_t len, struct sl_cosign_payload *ret,
                            struct sl_error *err)
{
	json_t *doc =
	    parse_json(data, len, SL_MAX_SIGNATURE_PAYLOAD_BYTES, "simple-signing payload", err);
	if (!doc)
		return err->code;
	int r = 0;
	struct sl_cosign_payload p = {0};
	const json_t *critical = json_object_get(doc, "critical");
	const char *reference =
	    string_at(critical, (const char *[]){"identity", "docker-reference"}, 2);
	const char *digest =
	    string_at(critical, (const char *[]){"image", "docker-manifest-digest"}, 2);
	const char *type = string_at(critical, (const char *[]){"type"}, 1);
	const json_t *optional = json_object_get(doc, "optional");
	if (!json_is_object(critical))
		r = sl_error_set(err, SL_EINVAL,
		                 "simple-signing payload has no \"critical\" object");
	else if (!digest)
		r = sl_error_set(
		    err, SL_EINVAL,
		    "simple-signing payload has no critical.image.docker-manifest-digest");
	else if (!type)
		r = sl_error_set(err, SL_EINVAL, "simple-signing payload has no critical.type");
	else if (optional && !json_is_null(optional) && !json_is_object(optional))
		r = sl_error_set(
		    err, SL_EINVAL,
		    "simple-signing payload's \"optional\" is neither null nor an object");
	if (r == 0) {
		p.docker_reference = sl_strdup(reference ? reference : "");
		p.manifest_digest = sl_strdup(digest);
		p.type = sl_strdup(type);
		p.optional = json_is_object(optional) ? json_incref((json_t *)optional) : NULL;
		*ret = p;
	}
	json_decref(doc);
	return r;
}

/* ---- Sigstore bundle, DSSE, in-toto ------------------------------------- */

void sl_cosign_bundle_clear(struct sl_cosign_bundle *b)
{
	free(b->media_type);
	free(b->payload_type);
	free(b->payload);
	for (size_t i = 0; i < b->n_signatures; i++)
		free(b->signatures[i]);
	free(b->signatures);
	free(b->signature_lens);
	free(b->key_hint);
	*b = (struct sl_cosign_bundle){0};
}

/* Bundle media types are "application/vnd.dev.sigstore.bundle.v0.N+json"
 * (v0.3 on) or "...bundle+json;version=0.N" (v0.1, v0.2). Returns the minor
 * version of a 0.N bundle, 100 for anything 1.x and later, or -1. */
static int bundle_version(const char *media_type)
{
	const char *rest = media_type + strlen(SL_SIGSTORE_BUNDLE_MT_PREFIX);
	unsigned major, minor;
	int used = 0;
	if (sscanf(rest, ".v%u.%u+json%n", &major, &minor, &used) == 2 && rest[used] == '\0')
		return major > 0 ? 100 : (int)minor;
	if (sscanf(rest, "+json;version=%u.%u%n", &major, &minor, &used) == 2 && rest[used] == '\0')
		return major > 0 ? 100 : (int)minor;
	return -1;
}

/* Decodes base64 text into a fresh buffer; -1 on malformed input. */
static ssize_t decode_b64(const char *text, unsigned char **ret)
{
	char *out = NULL;
	ssize_t n = sl_base64_decode(text, &out);
	if (n < 0) {
		free(out);
		return -1;
	}
	*ret = (unsigned char *)out;
	return n;
}

int sl_cosign_bundle_parse(const char *data, size_t len, struct sl_cosign_bundle *ret,
                           struct sl_error *err)
{
	json_t *doc = parse_json(data, len, SL_MAX_SIGNATURE_PAYLOAD_BYTES, "Sigstore bundle", err);
	if (!doc)
		return err->code;
	int r = 0;
	struct sl_cosign_bundle b = {0};
	const char *mt = string_at(doc, (const char *[]){"mediaType"}, 1);
	const json_t *envelope = json_object_get(doc, "dsseEnvelope");
	const json_t *sigs = json_object_get(envelope, "signatures");
	const char *payload = string_at(envelope, (const char *[]){"payload"}, 1);
	const char *payload_type = string_at(envelope, (const char *[]){"payloadType"}, 1);
	if (!mt || !sl_startswith(mt, SL_SIGSTORE_BUNDLE_MT_PREFIX))
		r = sl_error_set(err, SL_EINVAL, "not a Sigstore bundle (mediaType %s)",
		                 mt ? mt : "missing");
	else if (bundle_version(mt) < 3)
		r = sl_error_set(err, SL_EUNSUPPORTED,
		                 "Sigstore bundle %s is older than v0.3, which cosign v3 writes",
		                 mt);
	else if (!envelope && json_object_get(doc, "messageSignature"))
		r = sl_error_set(err, SL_EUNSUPPORTED,
		                 "Sigstore bundle signs a blob (messageSignature), not an image");
	else if (!json_is_object(envelope))
		r = sl_error_set(err, SL_EINVAL, "Sigstore bundle has no dsseEnvelope");
	else if (!payload || !payload_type)
		r = sl_error_set(err, SL_EINVAL, "DSSE envelope has no payload or payloadType");
	else if (!json_is_array(sigs) || json_array_size(sigs) == 0)
		r = sl_error_set(err, SL_EINVAL, "DSSE envelope has no signatures");
	else if (json_array_size(sigs) > SL_MAX_SIGNATURES_PER_ARTIFACT)
		r = sl_error_set(err, SL_ELIMIT, "DSSE envelope has more than %d signatures",
		                 SL_MAX_SIGNATURES_PER_ARTIFACT);
	if (r == 0) {
		b.media_type = sl_strdup(mt);
		b.payload_type = sl_strdup(payload_type);
		ssize_t n = decode_b64(payload, &b.payload);
		if (n < 0)
			r = sl_error_set(err, SL_EINVAL, "DSSE payload is not base64");
		else
			b.payload_len = (size_t)n;
	}
	if (r == 0) {
		b.n_signatures = json_array_size(sigs);
		b.signatures = sl_xcalloc(b.n_signatures, sizeof(*b.signatures));
		b.signature_lens = sl_xcalloc(b.n_signatures, sizeof(*b.signature_lens));
		for (size_t i = 0; r == 0 && i < b.n_signatures; i++) {
			const char *sig =
			    string_at(json_array_get(sigs, i), (const char *[]){"sig"}, 1);
			ssize_t n = sig ? decode_b64(sig, &b.signatures[i]) : -1;
			if (n <= 0)
				r = sl_error_set(err, SL_EINVAL,
				                 "DSSE signature %zu is missing or not base64", i);
			else
				b.signature_lens[i] = (size_t)n;
		}
	}
	if (r == 0) {
		const char *hint = string_at(
		    doc, (const char *[]){"verificationMaterial", "publicKey", "hint"}, 3);
		b.key_hint = hint ? sl_strdup(hint) : NULL;
		*ret = b;
	} else {
		sl_cosign_bundle_clear(&b);
	}
	json_decref(doc);
	return r;
}

int sl_dsse_pae(const char *payload_type, const void *payload, size_t len, struct sl_buf *out)
{
	size_t type_len = strlen(payload_type);
	int r = sl_buf_printf(out, "DSSEv1 %zu %s %zu ", type_len, payload_type, len);
	return r ?: sl_buf_append(out, payload, len);
}

int sl_intoto_names_digest(const void *statement, size_t len, const char *manifest_digest,
                           bool *ret, struct sl_error *err)
{
	*ret = false;
	if (!sl_digest_valid(manifest_digest))
		return sl_error_set(err, SL_EINVAL, "not a sha256 digest: %s", manifest_digest);
	json_t *doc =
	    parse_json(statement, len, SL_MAX_SIGNATURE_PAYLOAD_BYTES, "in-toto statement", err);
	if (!doc)
		return err->code;
	int r = 0;
	const char *type = string_at(doc, (const char *[]){"_type"}, 1);
	const json_t *subjects = json_object_get(doc, "subject");
	if (!type || !sl_startswith(type, "https://in-toto.io/Statement/"))
		r = sl_error_set(err, SL_EINVAL, "not an in-toto statement (_type %s)",
		                 type ? type : "missing");
	else if (!json_is_array(subjects))
		r = sl_error_set(err, SL_EINVAL, "in-toto statement has no subject list");
	const char *hex = manifest_digest + strlen("sha256:");
	size_t i;
	const json_t *subject;
	if (r == 0)
		json_array_foreach (subjects, i, subject) {
			const char *sha =
			    string_at(subject, (const char *[]){"digest", "sha256"}, 2);
			/* Hex digests compare case-insensitively: in-toto allows either. */
			if (sha && strlen(sha) == 64 && strncasecmp(sha, hex, 64) == 0)
				*ret = true;
		}
	json_decref(doc);
	return r;
}

bool sl_intoto_has_predicate(const void *statement, size_t len, const char *predicate_type)
{
	struct sl_error err = {0};
	json_t *doc =
	    parse_json(statement, len, SL_MAX_SIGNATURE_PAYLOAD_BYTES, "in-toto statement", &err);
	const char *type = string_at(doc, (const char *[]){"predicateType"}, 1);
	bool same = type && strcmp(type, predicate_type) == 0;
	json_decref(doc);
	return same;
}
