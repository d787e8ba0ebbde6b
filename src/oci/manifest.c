#include <ctype.h>
#include <string.h>

#include "oci/oci.h"

const char SL_FLUX_CONFIG_BLOB[] =
    "{\"architecture\":\"\",\"created\":\"0001-01-01T00:00:00Z\",\"os\":\"\",\"rootfs\":{"
    "\"type\":\"layers\",\"diff_ids\":null},\"config\":{}}";

bool sl_media_type_valid(const char *mt)
{
	/* RFC 6838: type "/" subtype, each 1-127 restricted-name characters. */
	static const char allowed[] = "!#$&^_.+-";
	const char *slash = mt ? strchr(mt, '/') : NULL;
	if (!slash || slash == mt || !slash[1] || slash - mt > 127 || strlen(slash + 1) > 127)
		return false;
	for (const char *p = mt; *p; p++)
		if (p != slash && !isalnum((unsigned char)*p) && !strchr(allowed, *p))
			return false;
	return true;
}

bool sl_media_type_is_index(const char *media_type)
{
	return media_type && (strcmp(media_type, SL_MT_OCI_INDEX) == 0 ||
	                      strcmp(media_type, SL_MT_DOCKER_LIST) == 0);
}

static int append_descriptor(struct sl_buf *b, const struct sl_descriptor *d)
{
	int r = sl_buf_append(b, "{\"mediaType\":", 13);
	r = r ?: sl_json_append_go_string(b, d->media_type);
	r = r ?: sl_buf_printf(b, ",\"size\":%llu,\"digest\":", (unsigned long long)d->size);
	r = r ?: sl_json_append_go_string(b, d->digest);
	return r ?: sl_buf_append(b, "}", 1);
}

static int cmp_annotation(const void *a, const void *b)
{
	return strcmp(((const struct sl_annotation *)a)->key,
	              ((const struct sl_annotation *)b)->key);
}

int sl_manifest_build(const struct sl_descriptor *config, const struct sl_descriptor *layer,
                      const struct sl_annotation *annotations, size_t n_annotations,
                      struct sl_buf *out)
{
	/* Go's json.Marshal of a map sorts keys bytewise. */
	struct sl_annotation *sorted = sl_xcalloc(n_annotations, sizeof(*sorted));
	if (n_annotations) {
		memcpy(sorted, annotations, n_annotations * sizeof(*sorted));
		qsort(sorted, n_annotations, sizeof(*sorted), cmp_annotation);
	}

	int r = sl_buf_printf(
	    out, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":", SL_MT_OCI_MANIFEST);
	r = r ?: append_descriptor(out, config);
	r = r ?: sl_buf_append(out, ",\"layers\":[", 11);
	r = r ?: append_descriptor(out, layer);
	r = r ?: sl_buf_append(out, "]", 1);
	if (!r && n_annotations) {
		r = sl_buf_append(out, ",\"annotations\":{", 16);
		for (size_t i = 0; !r && i < n_annotations; i++) {
			if (i)
				r = sl_buf_append(out, ",", 1);
			r = r ?: sl_json_append_go_string(out, sorted[i].key);
			r = r ?: sl_buf_append(out, ":", 1);
			r = r ?: sl_json_append_go_string(out, sorted[i].value);
		}
		r = r ?: sl_buf_append(out, "}", 1);
	}
	r = r ?: sl_buf_append(out, "}", 1);
	free(sorted);
	return r;
}

static void descriptor_clear(struct sl_descriptor *d)
{
	free(d->media_type);
	free(d->digest);
	*d = (struct sl_descriptor){0};
}

void sl_manifest_clear(struct sl_manifest *m)
{
	free(m->media_type);
	descriptor_clear(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		descriptor_clear(&m->layers[i]);
	free(m->layers);
	json_decref(m->annotations);
	*m = (struct sl_manifest){0};
}

static int parse_descriptor(const json_t *obj, const char *what, struct sl_descriptor *ret,
                            struct sl_error *err)
{
	if (!json_is_object(obj))
		return sl_error_set(err, SL_EINVAL, "%s is not an object", what);
	const json_t *mt = json_object_get(obj, "mediaType");
	const json_t *digest = json_object_get(obj, "digest");
	const json_t *size = json_object_get(obj, "size");
	if (!json_is_string(mt) || !sl_media_type_valid(json_string_value(mt)))
		return sl_error_set(err, SL_EINVAL, "%s has no valid mediaType", what);
	if (!json_is_string(digest) || !sl_digest_valid(json_string_value(digest)))
		return sl_error_set(err, SL_EINVAL, "%s has no valid sha256 digest", what);
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return sl_error_set(err, SL_EINVAL, "%s has no valid size", what);
	ret->media_type = sl_strdup(json_string_value(mt));
	ret->digest = sl_strdup(json_string_value(digest));
	ret->size = (uint64_t)json_integer_value(size);
	return 0;
}

static int load_json(const char *data, size_t len, json_t **ret, struct sl_error *err)
{
	json_error_t jerr;
	json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return sl_error_set(err, SL_EINVAL, "invalid JSON at line %d: %s", jerr.line,
		                    jerr.text);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return sl_error_set(err, SL_EINVAL, "not a JSON object");
	}
	*ret = doc;
	return 0;
}

int sl_manifest_parse(const char *data, size_t len, const char *content_type,
                      struct sl_manifest *ret, struct sl_error *err)
{
	_cleanup_(json_decrefp) json_t *doc = NULL;
	int r = load_json(data, len, &doc, err);
	if (r < 0)
		return r;

	const json_t *mt = json_object_get(doc, "mediaType");
	const char *media_type = json_is_string(mt) ? json_string_value(mt) : content_type;
	if (media_type && *media_type && !sl_media_type_valid(media_type))
		return sl_error_set(err, SL_EINVAL, "invalid mediaType");
	if (sl_media_type_is_index(media_type) || json_object_get(doc, "manifests"))
		return sl_error_set(err, SL_EUNSUPPORTED, "is an index, not an image manifest");
	if (json_integer_value(json_object_get(doc, "schemaVersion")) != 2)
		return sl_error_set(err, SL_EINVAL, "schemaVersion is not 2");

	struct sl_manifest m = {.media_type = sl_strdup(media_type ? media_type : "")};
	r = parse_descriptor(json_object_get(doc, "config"), "config", &m.config, err);
	const json_t *layers = json_object_get(doc, "layers");
	if (r == 0 && !json_is_array(layers))
		r = sl_error_set(err, SL_EINVAL, "layers is not an array");
	if (r == 0) {
		m.n_layers = json_array_size(layers);
		m.layers = sl_xcalloc(m.n_layers, sizeof(*m.layers));
		for (size_t i = 0; r == 0 && i < m.n_layers; i++) {
			char what[32];
			snprintf(what, sizeof(what), "layer %zu", i);
			r = parse_descriptor(json_array_get(layers, i), what, &m.layers[i], err);
		}
	}
	json_t *ann = json_object_get(doc, "annotations");
	if (r == 0 && ann && !json_is_object(ann))
		r = sl_error_set(err, SL_EINVAL, "annotations is not an object");
	if (r < 0) {
		sl_manifest_clear(&m);
		return r;
	}
	m.annotations = ann ? json_incref(ann) : json_object();
	*ret = m;
	return 0;
}

int sl_index_pick(const char *data, size_t len, char ret_digest[SL_DIGEST_STR_LEN],
                  struct sl_error *err)
{
	_cleanup_(json_decrefp) json_t *doc = NULL;
	int r = load_json(data, len, &doc, err);
	if (r < 0)
		return r;
	const json_t *manifests = json_object_get(doc, "manifests");
	if (!json_is_array(manifests) || json_array_size(manifests) == 0)
		return sl_error_set(err, SL_EINVAL, "index has no manifests");
	size_t idx;
	const json_t *child, *chosen = NULL;
	json_array_foreach (manifests, idx, child) {
		const json_t *platform = json_object_get(child, "platform");
		const char *os = json_string_value(json_object_get(platform, "os"));
		const char *arch = json_string_value(json_object_get(platform, "architecture"));
		if (os && arch && strcmp(os, "linux") == 0 && strcmp(arch, "amd64") == 0) {
			chosen = child;
			break;
		}
	}
	if (!chosen && json_array_size(manifests) == 1)
		chosen = json_array_get(manifests, 0);
	if (!chosen)
		return sl_error_set(err, SL_EINVAL, "index has no linux/amd64 manifest");
	const char *digest = json_string_value(json_object_get(chosen, "digest"));
	if (!digest || !sl_digest_valid(digest))
		return sl_error_set(err, SL_EINVAL, "index entry has no valid digest");
	snprintf(ret_digest, SL_DIGEST_STR_LEN, "%s", digest);
	return 0;
}
