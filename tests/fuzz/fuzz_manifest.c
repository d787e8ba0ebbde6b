/* sl_manifest_parse and sl_index_pick on whatever a registry returns as a
 * manifest, and the round trip a pull-then-push relies on: a parsed
 * single-layer manifest rebuilt with sl_manifest_build parses back to the
 * same descriptors and annotations. */
#include "fuzz.h"
#include "oci/oci.h"

static void check_descriptor(const struct sl_descriptor *d)
{
	FUZZ_CHECK(d->media_type != NULL);
	FUZZ_CHECK(d->digest != NULL && sl_digest_valid(d->digest));
}

static void check_same_descriptor(const struct sl_descriptor *a, const struct sl_descriptor *b)
{
	FUZZ_CHECK(strcmp(a->media_type, b->media_type) == 0);
	FUZZ_CHECK(strcmp(a->digest, b->digest) == 0);
	FUZZ_CHECK(a->size == b->size);
}

/* Rebuilds m (one layer) and parses the result again. */
static void round_trip(const struct sl_manifest *m)
{
	size_t n = json_object_size(m->annotations);
	struct sl_annotation *ann = sl_xcalloc(n ? n : 1, sizeof(*ann));
	size_t n_ann = 0;
	const char *key;
	json_t *value;
	json_object_foreach (m->annotations, key, value) {
		if (!json_is_string(value))
			continue;
		ann[n_ann].key = (char *)key;
		ann[n_ann].value = (char *)json_string_value(value);
		n_ann++;
	}

	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, 0);
	/* no annotations: NULL, as a caller with none would pass */
	int r = sl_manifest_build(&m->config, &m->layers[0], n_ann ? ann : NULL, n_ann, &out);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(out.data && out.len == strlen(out.data));

	struct sl_manifest again;
	struct sl_error err = {0};
	r = sl_manifest_parse(out.data, out.len, NULL, &again, &err);
	if (r < 0)
		fprintf(stderr, "fuzz: rebuilt manifest does not parse: %s\n%s\n", err.msg,
		        out.data);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(strcmp(again.media_type, SL_MT_OCI_MANIFEST) == 0);
	FUZZ_CHECK(again.n_layers == 1);
	check_same_descriptor(&again.config, &m->config);
	check_same_descriptor(&again.layers[0], &m->layers[0]);
	FUZZ_CHECK(json_object_size(again.annotations) == n_ann);
	for (size_t i = 0; i < n_ann; i++) {
		const char *v = json_string_value(json_object_get(again.annotations, ann[i].key));
		FUZZ_CHECK(v && strcmp(v, ann[i].value) == 0);
	}
	sl_manifest_clear(&again);
	free(ann);
}

static void parse(const char *data, size_t len, const char *content_type)
{
	struct sl_manifest m, sentinel;
	memset(&m, 0x3c, sizeof(m));
	memcpy(&sentinel, &m, sizeof(m));
	struct sl_error err = {0};
	int r = sl_manifest_parse(data, len, content_type, &m, &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, err);
		FUZZ_CHECK(memcmp(&m, &sentinel, sizeof(m)) == 0);
		return;
	}
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(m.media_type != NULL && !sl_media_type_is_index(m.media_type));
	FUZZ_CHECK(json_is_object(m.annotations));
	check_descriptor(&m.config);
	FUZZ_CHECK(m.n_layers == 0 || m.layers != NULL);
	for (size_t i = 0; i < m.n_layers; i++)
		check_descriptor(&m.layers[i]);
	if (m.n_layers == 1)
		round_trip(&m);
	sl_manifest_clear(&m);
	FUZZ_CHECK(m.media_type == NULL && m.layers == NULL && m.annotations == NULL);
}

static void pick(const char *data, size_t len)
{
	char digest[SL_DIGEST_STR_LEN];
	memset(digest, 'x', sizeof(digest));
	struct sl_error err = {0};
	int r = sl_index_pick(data, len, digest, &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, err);
		return;
	}
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(memchr(digest, '\0', sizeof(digest)) != NULL);
	FUZZ_CHECK(sl_digest_valid(digest));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	json_object_seed(1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > SL_MAX_MANIFEST_BYTES)
		return 0;
	/* Exactly size bytes, not NUL-terminated, as the registry client hands
	 * over a response body by length. */
	char *text = sl_xmalloc(size ? size : 1);
	memcpy(text, data, size);
	parse(text, size, NULL);
	parse(text, size, SL_MT_OCI_MANIFEST);
	parse(text, size, SL_MT_DOCKER_MANIFEST);
	parse(text, size, SL_MT_OCI_INDEX);
	pick(text, size);
	free(text);
	return 0;
}
