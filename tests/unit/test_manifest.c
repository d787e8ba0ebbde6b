/* Manifests: the bytes sluice writes must be the bytes Go's encoding/json
 * writes for ggcr's v1.Manifest (spec §2.1; expected strings produced with
 * Go 1.26), and what it reads must be validated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "oci/oci.h"

#define CONFIG_DIGEST "sha256:5b943e2b943f6c81dbbd4e2eca5121f4fcc39139e3d1219d6d89bd925b77d9fe"
#define HEX64         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define LAYER_DIGEST  "sha256:" HEX64
#define OTHER_DIGEST  "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static const struct sl_descriptor flux_config = {
    .media_type = SL_MT_FLUX_CONFIG, .digest = CONFIG_DIGEST, .size = 115};
static const struct sl_descriptor flux_layer = {
    .media_type = SL_MT_FLUX_CONTENT, .digest = LAYER_DIGEST, .size = 1234};

#define MANIFEST_HEAD                                                                              \
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","       \
	"\"config\":{\"mediaType\":\"application/vnd.cncf.flux.config.v1+json\",\"size\":115,"     \
	"\"digest\":\"" CONFIG_DIGEST "\"},\"layers\":[{\"mediaType\":"                            \
	"\"application/vnd.cncf.flux.content.v1.tar+gzip\",\"size\":1234,\"digest\":"              \
	"\"" LAYER_DIGEST "\"}]"

/* ---- building --------------------------------------------------------- */

static void flux_config_blob_is_the_115_byte_empty_image_config(void **state)
{
	(void)state;
	assert_int_equal(strlen(SL_FLUX_CONFIG_BLOB), 115);
	char d[SL_DIGEST_STR_LEN];
	sl_sha256_digest(SL_FLUX_CONFIG_BLOB, strlen(SL_FLUX_CONFIG_BLOB), d);
	assert_string_equal(d, CONFIG_DIGEST);
}

static void manifest_build_matches_the_spec_example_byte_for_byte(void **state)
{
	(void)state;
	/* given unsorted: the output sorts keys as Go does for a map */
	const struct sl_annotation ann[] = {
	    {SL_ANNOTATION_SOURCE, "https://github.com/org/repo"},
	    {SL_ANNOTATION_CREATED, "2026-08-07T10:00:00Z"},
	    {SL_ANNOTATION_REVISION, "main@sha1:0123456789abcdef0123456789abcdef01234567"},
	};
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, SL_MAX_MANIFEST_BYTES);
	assert_int_equal(sl_manifest_build(&flux_config, &flux_layer, ann, 3, &out), 0);
	assert_string_equal(out.data, MANIFEST_HEAD
	                    ",\"annotations\":{"
	                    "\"org.opencontainers.image.created\":\"2026-08-07T10:00:00Z\","
	                    "\"org.opencontainers.image.revision\":"
	                    "\"main@sha1:0123456789abcdef0123456789abcdef01234567\","
	                    "\"org.opencontainers.image.source\":"
	                    "\"https://github.com/org/repo\"}}");
	char d[SL_DIGEST_STR_LEN];
	sl_sha256_digest(out.data, out.len, d);
	assert_string_equal(
	    d, "sha256:85ceeb93e956fb3ed25ea91a42f55c7ef3f651fc89f4d9efcf2c88ab22ff7a48");
}

static void manifest_build_escapes_annotations_as_go_does(void **state)
{
	(void)state;
	const struct sl_annotation ann[] = {
	    {"z", "a<b>&c"},
	    {"B", "quote\" back\\ nl\n tab\t cr\r bs\b ff\f esc\x1b del\x7f"},
	    {"a", "line\xe2\x80\xa8para\xe2\x80\xa9"},
	    {"\xc3\xa9", "bad \xff\xfe utf8 \xc3 end \xe2\x82 x \xed\xa0\x80 y \xf0\x9f\x98\x80 ok "
	                 "\xc0\x80"},
	    {"k<>&", "v"},
	};
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, SL_MAX_MANIFEST_BYTES);
	assert_int_equal(
	    sl_manifest_build(&flux_config, &flux_layer, ann, SL_ARRAY_SIZE(ann), &out), 0);
	assert_string_equal(
	    out.data, MANIFEST_HEAD
	    ",\"annotations\":{\"B\":\"quote\\\" back\\\\ nl\\n tab\\t cr\\r bs\\b ff\\f "
	    "esc\\u001b del\x7f\",\"a\":\"line\\u2028para\\u2029\",\"k\\u003c\\u003e\\u0026\":"
	    "\"v\",\"z\":\"a\\u003cb\\u003e\\u0026c\",\"\xc3\xa9\":\"bad \\ufffd\\ufffd utf8 "
	    "\\ufffd end \\ufffd\\ufffd x \\ufffd\\ufffd\\ufffd y \xf0\x9f\x98\x80 ok "
	    "\\ufffd\\ufffd\"}}");
	char d[SL_DIGEST_STR_LEN];
	sl_sha256_digest(out.data, out.len, d);
	assert_string_equal(
	    d, "sha256:9821d6e2d3c99bd675afcb52b30290197cdbc688a620f9ad96908510258c4eea");
}

/* ggcr's Annotations field is omitempty. */
static void manifest_build_omits_empty_annotations(void **state)
{
	(void)state;
	static const struct sl_annotation none[1] = {{NULL, NULL}};
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, SL_MAX_MANIFEST_BYTES);
	assert_int_equal(sl_manifest_build(&flux_config, &flux_layer, none, 0, &out), 0);
	assert_string_equal(out.data, MANIFEST_HEAD "}");
}

/* No annotations may also be passed as (NULL, 0). Registered last: under
 * UBSan with halt_on_error a failure here ends the program. */
static void manifest_build_accepts_null_when_there_are_no_annotations(void **state)
{
	(void)state;
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, SL_MAX_MANIFEST_BYTES);
	assert_int_equal(sl_manifest_build(&flux_config, &flux_layer, NULL, 0, &out), 0);
	assert_string_equal(out.data, MANIFEST_HEAD "}");
}

static const struct sl_annotation no_annotations[1] = {{NULL, NULL}};

static void manifest_build_writes_sizes_as_integers(void **state)
{
	(void)state;
	const struct sl_descriptor big = {
	    .media_type = SL_MT_FLUX_CONTENT, .digest = LAYER_DIGEST, .size = UINT64_C(8589934592)};
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, SL_MAX_MANIFEST_BYTES);
	assert_int_equal(sl_manifest_build(&flux_config, &big, no_annotations, 0, &out), 0);
	assert_non_null(strstr(out.data, "\"size\":8589934592,"));
}

static void manifest_build_reports_a_full_buffer(void **state)
{
	(void)state;
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, 64);
	assert_int_equal(sl_manifest_build(&flux_config, &flux_layer, no_annotations, 0, &out),
	                 SL_ELIMIT);
}

/* ---- parsing ---------------------------------------------------------- */

static void manifest_parse_reads_back_what_build_wrote(void **state)
{
	(void)state;
	const struct sl_annotation ann[] = {
	    {SL_ANNOTATION_SOURCE, "https://github.com/org/repo"},
	    {SL_ANNOTATION_REVISION, "v1<&>"},
	};
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, SL_MAX_MANIFEST_BYTES);
	assert_int_equal(sl_manifest_build(&flux_config, &flux_layer, ann, 2, &out), 0);
	struct sl_manifest m = {0};
	struct sl_error err = {0};
	if (sl_manifest_parse(out.data, out.len, NULL, &m, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(m.media_type, SL_MT_OCI_MANIFEST);
	assert_string_equal(m.config.media_type, SL_MT_FLUX_CONFIG);
	assert_string_equal(m.config.digest, CONFIG_DIGEST);
	assert_int_equal(m.config.size, 115);
	assert_int_equal(m.n_layers, 1);
	assert_string_equal(m.layers[0].media_type, SL_MT_FLUX_CONTENT);
	assert_string_equal(m.layers[0].digest, LAYER_DIGEST);
	assert_int_equal(m.layers[0].size, 1234);
	assert_string_equal(
	    json_string_value(json_object_get(m.annotations, SL_ANNOTATION_REVISION)), "v1<&>");
	assert_string_equal(json_string_value(json_object_get(m.annotations, SL_ANNOTATION_SOURCE)),
	                    "https://github.com/org/repo");
	sl_manifest_clear(&m);
	sl_manifest_clear(&m);
}

static void manifest_parse_accepts_docker_v2_and_several_layers(void **state)
{
	(void)state;
	const char *doc =
	    "{\"schemaVersion\":2,\"mediaType\":\"" SL_MT_DOCKER_MANIFEST "\","
	    "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\","
	    "\"size\":7,\"digest\":\"" OTHER_DIGEST "\"},"
	    "\"layers\":[{\"mediaType\":\"" SL_MT_DOCKER_LAYER_GZIP "\",\"size\":1,"
	    "\"digest\":\"" LAYER_DIGEST "\"},{\"mediaType\":\"" SL_MT_OCI_LAYER_GZIP
	    "\",\"size\":2,\"digest\":\"" OTHER_DIGEST "\"}]}";
	struct sl_manifest m = {0};
	struct sl_error err = {0};
	if (sl_manifest_parse(doc, strlen(doc), NULL, &m, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(m.media_type, SL_MT_DOCKER_MANIFEST);
	assert_int_equal(m.n_layers, 2);
	assert_int_equal(m.layers[1].size, 2);
	assert_string_equal(m.layers[1].digest, OTHER_DIGEST);
	/* no annotations: an empty object, never NULL */
	assert_true(json_is_object(m.annotations));
	assert_int_equal(json_object_size(m.annotations), 0);
	sl_manifest_clear(&m);
}

static void manifest_parse_takes_the_media_type_from_the_response_when_absent(void **state)
{
	(void)state;
	const char *doc =
	    "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/c\",\"size\":0,"
	    "\"digest\":\"" CONFIG_DIGEST "\"},\"layers\":[]}";
	struct sl_manifest m = {0};
	struct sl_error err = {0};
	assert_int_equal(sl_manifest_parse(doc, strlen(doc), SL_MT_OCI_MANIFEST, &m, &err), 0);
	assert_string_equal(m.media_type, SL_MT_OCI_MANIFEST);
	assert_int_equal(m.n_layers, 0);
	sl_manifest_clear(&m);
	assert_int_equal(sl_manifest_parse(doc, strlen(doc), NULL, &m, &err), 0);
	assert_string_equal(m.media_type, "");
	sl_manifest_clear(&m);
}

static void manifest_parse_uses_only_len_bytes(void **state)
{
	(void)state;
	char doc[512];
	int n =
	    snprintf(doc, sizeof(doc),
	             "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/c\",\"size\":0,"
	             "\"digest\":\"" CONFIG_DIGEST "\"},\"layers\":[]}GARBAGE");
	struct sl_manifest m = {0};
	struct sl_error err = {0};
	assert_int_equal(sl_manifest_parse(doc, (size_t)n - 7, NULL, &m, &err), 0);
	sl_manifest_clear(&m);
	assert_int_equal(sl_manifest_parse(doc, (size_t)n, NULL, &m, &err), SL_EINVAL);
}

#define GOOD_CONFIG                                                                                \
	"\"config\":{\"mediaType\":\"application/c\",\"size\":1,\"digest\":\"" CONFIG_DIGEST "\"}"
#define GOOD_LAYERS "\"layers\":[{\"mediaType\":\"l\",\"size\":1,\"digest\":\"" LAYER_DIGEST "\"}]"

static void manifest_parse_rejects_malformed_documents(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "",
	    "not json",
	    "{",
	    "[]",
	    "\"string\"",
	    "null",
	    "{}",
	    "{\"schemaVersion\":1," GOOD_CONFIG "," GOOD_LAYERS "}",
	    "{\"schemaVersion\":\"2\"," GOOD_CONFIG "," GOOD_LAYERS "}",
	    "{\"schemaVersion\":2.0," GOOD_CONFIG "," GOOD_LAYERS "}",
	    "{" GOOD_CONFIG "," GOOD_LAYERS "}",
	    "{\"schemaVersion\":2," GOOD_LAYERS "}",
	    "{\"schemaVersion\":2,\"config\":[]," GOOD_LAYERS "}",
	    "{\"schemaVersion\":2,\"config\":{\"size\":1,\"digest\":\"" CONFIG_DIGEST
	    "\"}," GOOD_LAYERS "}",
	    "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/"
	    "c\",\"size\":1}," GOOD_LAYERS "}",
	    "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/"
	    "c\",\"size\":1,\"digest\":"
	    "\"sha256:abc\"}," GOOD_LAYERS "}",
	    "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/"
	    "c\",\"size\":1,\"digest\":"
	    "\"sha512:" HEX64 HEX64 "\"}," GOOD_LAYERS "}",
	    "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/"
	    "c\",\"size\":-1,\"digest\":"
	    "\"" CONFIG_DIGEST "\"}," GOOD_LAYERS "}",
	    "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/"
	    "c\",\"size\":\"1\",\"digest\":"
	    "\"" CONFIG_DIGEST "\"}," GOOD_LAYERS "}",
	    "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/"
	    "c\",\"size\":1.5,\"digest\":"
	    "\"" CONFIG_DIGEST "\"}," GOOD_LAYERS "}",
	    "{\"schemaVersion\":2," GOOD_CONFIG "}",
	    "{\"schemaVersion\":2," GOOD_CONFIG ",\"layers\":{}}",
	    "{\"schemaVersion\":2," GOOD_CONFIG ",\"layers\":[1]}",
	    "{\"schemaVersion\":2," GOOD_CONFIG ",\"layers\":[{\"mediaType\":\"l\",\"size\":1,"
	    "\"digest\":\"md5:x\"}]}",
	    "{\"schemaVersion\":2," GOOD_CONFIG "," GOOD_LAYERS ",\"annotations\":[]}",
	    "{\"schemaVersion\":2," GOOD_CONFIG "," GOOD_LAYERS ",\"annotations\":\"x\"}",
	    "{\"schemaVersion\":2,\"schemaVersion\":2," GOOD_CONFIG "," GOOD_LAYERS "}",
	    "{\"schemaVersion\":2," GOOD_CONFIG "," GOOD_LAYERS "} trailing",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		struct sl_manifest m;
		memset(&m, 0x5a, sizeof(m));
		struct sl_manifest copy = m;
		struct sl_error err = {0};
		int r = sl_manifest_parse(bad[i], strlen(bad[i]), NULL, &m, &err);
		if (r == 0) {
			sl_manifest_clear(&m);
			fail_msg("accepted: %s", bad[i]);
		}
		if (r != SL_EINVAL || err.code != SL_EINVAL || !err.msg[0])
			fail_msg("r=%d code=%d msg=\"%s\" for %s", r, err.code, err.msg, bad[i]);
		if (memcmp(&m, &copy, sizeof(m)) != 0)
			fail_msg("out-parameter clobbered for %s", bad[i]);
	}
}

static void manifest_parse_refuses_indexes(void **state)
{
	(void)state;
	static const struct {
		const char *doc;
		const char *content_type;
	} cases[] = {
	    {"{\"schemaVersion\":2,\"mediaType\":\"" SL_MT_OCI_INDEX "\",\"manifests\":[]}", NULL},
	    {"{\"schemaVersion\":2,\"mediaType\":\"" SL_MT_DOCKER_LIST "\",\"manifests\":[]}",
	     NULL},
	    /* no mediaType: the response's Content-Type decides */
	    {"{\"schemaVersion\":2,\"manifests\":[]}", SL_MT_OCI_INDEX},
	    {"{\"schemaVersion\":2," GOOD_CONFIG "," GOOD_LAYERS "}", SL_MT_DOCKER_LIST},
	    /* no type anywhere: a "manifests" array gives it away */
	    {"{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"m\",\"size\":1,\"digest\":"
	     "\"" LAYER_DIGEST "\"}]}",
	     NULL},
	    {"{\"schemaVersion\":2,\"manifests\":[]}", SL_MT_OCI_MANIFEST},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		struct sl_manifest m = {0};
		struct sl_error err = {0};
		int r = sl_manifest_parse(cases[i].doc, strlen(cases[i].doc), cases[i].content_type,
		                          &m, &err);
		if (r != SL_EUNSUPPORTED) {
			if (r == 0)
				sl_manifest_clear(&m);
			fail_msg("r=%d for %s (%s)", r, cases[i].doc,
			         cases[i].content_type ? cases[i].content_type : "no content type");
		}
	}
}

static void media_type_is_index_knows_oci_and_docker_lists(void **state)
{
	(void)state;
	assert_true(sl_media_type_is_index(SL_MT_OCI_INDEX));
	assert_true(sl_media_type_is_index(SL_MT_DOCKER_LIST));
	assert_false(sl_media_type_is_index(SL_MT_OCI_MANIFEST));
	assert_false(sl_media_type_is_index(SL_MT_DOCKER_MANIFEST));
	assert_false(sl_media_type_is_index(""));
	assert_false(sl_media_type_is_index(NULL));
	assert_false(sl_media_type_is_index(SL_MT_OCI_INDEX "; charset=utf-8"));
}

/* ---- index child selection -------------------------------------------- */

#define CHILD(digest, os, arch)                                                                    \
	"{\"mediaType\":\"" SL_MT_OCI_MANIFEST "\",\"size\":10,\"digest\":\"" digest               \
	"\",\"platform\":{\"os\":\"" os "\",\"architecture\":\"" arch "\"}}"

static void index_pick_prefers_linux_amd64(void **state)
{
	(void)state;
	const char *doc =
	    "{\"schemaVersion\":2,\"mediaType\":\"" SL_MT_OCI_INDEX
	    "\",\"manifests\":[" CHILD(OTHER_DIGEST, "linux", "arm64") "," CHILD(
	        CONFIG_DIGEST, "windows", "amd64") "," CHILD(LAYER_DIGEST, "linux", "amd64") "]}";
	char digest[SL_DIGEST_STR_LEN] = "";
	struct sl_error err = {0};
	if (sl_index_pick(doc, strlen(doc), digest, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(digest, LAYER_DIGEST);
}

static void index_pick_takes_the_only_child(void **state)
{
	(void)state;
	const char *doc = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" SL_MT_OCI_MANIFEST
	                  "\",\"size\":10,\"digest\":\"" OTHER_DIGEST "\"}]}";
	char digest[SL_DIGEST_STR_LEN] = "";
	struct sl_error err = {0};
	assert_int_equal(sl_index_pick(doc, strlen(doc), digest, &err), 0);
	assert_string_equal(digest, OTHER_DIGEST);
}

static void index_pick_fails_without_a_usable_child(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "not json",
	    "[]",
	    "{\"schemaVersion\":2}",
	    "{\"schemaVersion\":2,\"manifests\":[]}",
	    "{\"schemaVersion\":2,\"manifests\":{}}",
	    "{\"schemaVersion\":2,\"manifests\":[" CHILD(OTHER_DIGEST, "linux", "arm64") "," CHILD(
	        LAYER_DIGEST, "linux", "s390x") "]}",
	    "{\"schemaVersion\":2,\"manifests\":[" CHILD("sha256:short", "linux", "amd64") "]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"size\":1}]}",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		char digest[SL_DIGEST_STR_LEN] = "untouched";
		struct sl_error err = {0};
		int r = sl_index_pick(bad[i], strlen(bad[i]), digest, &err);
		if (r != SL_EINVAL)
			fail_msg("r=%d digest=%s for %s", r, digest, bad[i]);
		assert_string_equal(digest, "untouched");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(flux_config_blob_is_the_115_byte_empty_image_config),
	    cmocka_unit_test(manifest_build_matches_the_spec_example_byte_for_byte),
	    cmocka_unit_test(manifest_build_escapes_annotations_as_go_does),
	    cmocka_unit_test(manifest_build_omits_empty_annotations),
	    cmocka_unit_test(manifest_build_writes_sizes_as_integers),
	    cmocka_unit_test(manifest_build_reports_a_full_buffer),
	    cmocka_unit_test(manifest_parse_reads_back_what_build_wrote),
	    cmocka_unit_test(manifest_parse_accepts_docker_v2_and_several_layers),
	    cmocka_unit_test(manifest_parse_takes_the_media_type_from_the_response_when_absent),
	    cmocka_unit_test(manifest_parse_uses_only_len_bytes),
	    cmocka_unit_test(manifest_parse_rejects_malformed_documents),
	    cmocka_unit_test(manifest_parse_refuses_indexes),
	    cmocka_unit_test(media_type_is_index_knows_oci_and_docker_lists),
	    cmocka_unit_test(index_pick_prefers_linux_amd64),
	    cmocka_unit_test(index_pick_takes_the_only_child),
	    cmocka_unit_test(index_pick_fails_without_a_usable_child),
	    cmocka_unit_test(manifest_build_accepts_null_when_there_are_no_annotations),
	};
	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
