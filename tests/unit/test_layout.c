/* OCI image layouts: the directory format of image-spec image-layout.md as
 * skopeo's oci: transport reads and writes it, the atomicity of blob and
 * index.json writes, tamper detection, and oci-layout:// references. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include "oci/oci.h"
#include "testlib.h"

#define HEX64  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIGEST "sha256:" HEX64

/* ---- helpers ---------------------------------------------------------- */

static struct sl_layout *open_ok(const char *path, bool create)
{
	struct sl_layout *l = NULL;
	struct sl_error err = {0};
	if (sl_layout_open(path, create, &l, &err) != 0)
		fail_msg("opening %s: %s", path, err.msg);
	return l;
}

/* Stores a manifest document as a blob; returns its size. */
static uint64_t put_manifest(struct sl_layout *l, const char *text, char digest[SL_DIGEST_STR_LEN])
{
	struct sl_error err = {0};
	sl_sha256_digest(text, strlen(text), digest);
	if (sl_layout_blob_put_bytes(l, digest, text, strlen(text), &err) != 0)
		fail_msg("putting %s: %s", digest, err.msg);
	return strlen(text);
}

static void tag_ok(struct sl_layout *l, const char *tag, const char *digest, uint64_t size)
{
	struct sl_error err = {0};
	if (sl_layout_tag(l, tag, digest, SL_MT_OCI_MANIFEST, size, &err) != 0)
		fail_msg("tagging %s: %s", tag, err.msg);
}

/* A Flux artifact (config, gzip layer of text, manifest) stored in l and
 * tagged; the manifest digest goes to ret_digest. */
static void put_artifact(struct sl_layout *l, const char *tag, const char *text,
                         char ret_digest[SL_DIGEST_STR_LEN])
{
	struct sl_error err = {0};
	char config_digest[SL_DIGEST_STR_LEN], layer_digest[SL_DIGEST_STR_LEN];
	size_t config_len = strlen(SL_FLUX_CONFIG_BLOB), layer_len = 0;
	unsigned char *layer = tl_own(tl_gzip(text, strlen(text), &layer_len));
	sl_sha256_digest(SL_FLUX_CONFIG_BLOB, config_len, config_digest);
	sl_sha256_digest(layer, layer_len, layer_digest);
	assert_int_equal(
	    sl_layout_blob_put_bytes(l, config_digest, SL_FLUX_CONFIG_BLOB, config_len, &err), 0);
	assert_int_equal(sl_layout_blob_put_bytes(l, layer_digest, layer, layer_len, &err), 0);
	struct sl_descriptor config = {(char *)SL_MT_FLUX_CONFIG, config_digest, config_len};
	struct sl_descriptor content = {(char *)SL_MT_FLUX_CONTENT, layer_digest, layer_len};
	struct sl_annotation ann[] = {{(char *)SL_ANNOTATION_SOURCE, (char *)"test"}};
	_cleanup_buf_ struct sl_buf m;
	sl_buf_init(&m, 0);
	assert_int_equal(sl_manifest_build(&config, &content, ann, 1, &m), 0);
	put_manifest(l, m.data, ret_digest);
	tag_ok(l, tag, ret_digest, m.len);
}

static json_t *load_json(const char *dir, const char *name)
{
	_cleanup_free_ char *p = tl_path(dir, name);
	json_error_t jerr;
	json_t *doc = json_load_file(p, 0, &jerr);
	if (!doc)
		fail_msg("%s: %s", p, jerr.text);
	return doc;
}

/* Names in dir other than "." and "..", for "nothing left behind". */
static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		fail_msg("opendir %s", dir);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void write_layout(const char *dir, const char *oci_layout, const char *index)
{
	_cleanup_free_ char *a = tl_path(dir, "oci-layout");
	_cleanup_free_ char *b = tl_path(dir, "index.json");
	tl_write_file(a, oci_layout, strlen(oci_layout));
	tl_write_file(b, index, strlen(index));
}

/* ---- create and open -------------------------------------------------- */

static void layout_create_writes_oci_layout_empty_index_and_blob_dir(void **state)
{
	_cleanup_free_ char *dir = tl_path(*state, "new/nested/layout");
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(dir, true);
	assert_string_equal(sl_layout_path(l), dir);

	_cleanup_(json_decrefp) json_t *version = load_json(dir, "oci-layout");
	assert_string_equal(json_string_value(json_object_get(version, "imageLayoutVersion")),
	                    "1.0.0");
	_cleanup_(json_decrefp) json_t *index = load_json(dir, "index.json");
	assert_int_equal(json_integer_value(json_object_get(index, "schemaVersion")), 2);
	assert_string_equal(json_string_value(json_object_get(index, "mediaType")),
	                    SL_MT_OCI_INDEX);
	assert_true(json_is_array(json_object_get(index, "manifests")));
	assert_int_equal(json_array_size(json_object_get(index, "manifests")), 0);
	_cleanup_free_ char *blobs = tl_path(dir, "blobs/sha256");
	struct stat st;
	assert_int_equal(stat(blobs, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* nothing but the three entries of the spec */
	assert_int_equal(count_entries(dir), 3);
}

static void layout_create_keeps_an_existing_layout_and_its_tags(void **state)
{
	char digest[SL_DIGEST_STR_LEN];
	{
		_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
		tag_ok(l, "v1", digest, put_manifest(l, "{\"schemaVersion\":2}", digest));
	}
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	struct sl_layout_descriptor d;
	struct sl_error err = {0};
	assert_int_equal(sl_layout_resolve(l, "v1", &d, &err), 0);
	assert_string_equal(d.digest, digest);
}

static void layout_create_completes_an_interrupted_create(void **state)
{
	/* oci-layout is written first; a crash before index.json leaves this */
	_cleanup_free_ char *p = tl_path(*state, "oci-layout");
	tl_write_file(p, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	struct sl_layout *l = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_layout_open(*state, false, &l, &err), SL_EINVAL);
	_cleanup_free_ char *want =
	    sl_asprintf("%s is not an OCI image layout: no index.json file", (char *)*state);
	assert_string_equal(err.msg, want);
	assert_null(l);
	l = open_ok(*state, true);
	sl_layout_free(l);
	l = open_ok(*state, false);
	sl_layout_free(l);
}

static void layout_open_refuses_a_directory_without_oci_layout(void **state)
{
	_cleanup_free_ char *idx = tl_path(*state, "index.json");
	tl_write_file(idx, "{\"schemaVersion\":2,\"manifests\":[]}", 34);
	struct sl_layout *l = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_layout_open(*state, false, &l, &err), SL_EINVAL);
	_cleanup_free_ char *want =
	    sl_asprintf("%s is not an OCI image layout: no oci-layout file", (char *)*state);
	assert_string_equal(err.msg, want);
	assert_null(l);
}

static void layout_open_refuses_a_missing_directory_without_creating_it(void **state)
{
	_cleanup_free_ char *dir = tl_path(*state, "absent");
	struct sl_layout *l = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_layout_open(dir, false, &l, &err), SL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "is not an OCI image layout"));
	struct stat st;
	assert_int_equal(stat(dir, &st), -1);
}

static void layout_create_refuses_a_non_empty_directory_that_is_not_a_layout(void **state)
{
	_cleanup_free_ char *f = tl_path(*state, "kustomization.yaml");
	tl_write_file(f, "resources: []\n", 14);
	struct sl_layout *l = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_layout_open(*state, true, &l, &err), SL_EINVAL);
	assert_non_null(strstr(err.msg, "not empty"));
	/* the user's directory is left exactly as it was */
	assert_int_equal(count_entries(*state), 1);
}

static void layout_open_accepts_skopeo_files_and_1x_versions(void **state)
{
	static const char *versions[] = {
	    "{\"imageLayoutVersion\": \"1.0.0\"}", /* skopeo 1.9 writes a space */
	    "{\"imageLayoutVersion\":\"1.0.0\"}",
	    "{\"imageLayoutVersion\":\"1.1.0\"}",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(versions); i++) {
		/* skopeo's own index.json: no mediaType */
		write_layout(*state, versions[i], "{\"schemaVersion\":2,\"manifests\":[]}");
		sl_layout_free(open_ok(*state, false));
	}
}

static void layout_open_refuses_unsupported_layout_versions(void **state)
{
	static const char *bad[] = {
	    "{\"imageLayoutVersion\":\"2.0.0\"}", "{\"imageLayoutVersion\":\"0.9.0\"}",
	    "{\"imageLayoutVersion\":\"1.0\"}",   "{\"imageLayoutVersion\":\"1.0.0-rc1\"}",
	    "{\"imageLayoutVersion\":\"1..0\"}",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		write_layout(*state, bad[i], "{\"schemaVersion\":2,\"manifests\":[]}");
		struct sl_layout *l = NULL;
		struct sl_error err = {0};
		if (sl_layout_open(*state, false, &l, &err) != SL_EUNSUPPORTED)
			fail_msg("%s accepted (%s)", bad[i], err.msg);
		assert_non_null(strstr(err.msg, "unsupported imageLayoutVersion"));
	}
	static const char *malformed[] = {"", "[]", "{}", "{\"imageLayoutVersion\":1}"};
	for (size_t i = 0; i < SL_ARRAY_SIZE(malformed); i++) {
		write_layout(*state, malformed[i], "{\"schemaVersion\":2,\"manifests\":[]}");
		struct sl_layout *l = NULL;
		struct sl_error err = {0};
		if (sl_layout_open(*state, true, &l, &err) != SL_EINVAL)
			fail_msg("oci-layout \"%s\" accepted", malformed[i]);
	}
}

static void layout_open_refuses_a_malformed_index(void **state)
{
	static const char *bad[] = {
	    "",
	    "not json",
	    "[]",
	    "{\"manifests\":[]}",
	    "{\"schemaVersion\":1,\"manifests\":[]}",
	    "{\"schemaVersion\":\"2\",\"manifests\":[]}",
	    "{\"schemaVersion\":2}",
	    "{\"schemaVersion\":2,\"manifests\":{}}",
	    "{\"schemaVersion\":2,\"mediaType\":\"" SL_MT_OCI_MANIFEST "\",\"manifests\":[]}",
	    "{\"schemaVersion\":2,\"manifests\":[],\"manifests\":[]}",
	    "{\"schemaVersion\":2,\"manifests\":[1]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"" DIGEST "\",\"size\":1}]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"size\":1}]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" DIGEST
	    "\"}]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" DIGEST
	    "\",\"size\":-1}]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"sha256:"
	    "ABC\",\"size\":1}]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"nocolon\","
	    "\"size\":1}]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" DIGEST
	    "\",\"size\":1,\"annotations\":[]}]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"a/b\",\"digest\":\"" DIGEST
	    "\",\"size\":1,\"annotations\":{\"" SL_ANNOTATION_REF_NAME "\":7}}]}",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		write_layout(*state, "{\"imageLayoutVersion\":\"1.0.0\"}", bad[i]);
		struct sl_layout *l = NULL;
		struct sl_error err = {0};
		int r = sl_layout_open(*state, true, &l, &err);
		if (r != SL_EINVAL) {
			sl_layout_free(l);
			fail_msg("index.json \"%s\" accepted (r=%d)", bad[i], r);
		}
		assert_non_null(strstr(err.msg, "index.json"));
	}
}

static void layout_open_refuses_an_index_over_the_cap(void **state)
{
	write_layout(*state, "{\"imageLayoutVersion\":\"1.0.0\"}", "");
	_cleanup_free_ char *idx = tl_path(*state, "index.json");
	assert_int_equal(truncate(idx, SL_MAX_LAYOUT_INDEX_BYTES + 1), 0);
	struct sl_layout *l = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_layout_open(*state, false, &l, &err), SL_ELIMIT);
	assert_non_null(strstr(err.msg, "larger than"));
}

/* ---- tags ------------------------------------------------------------- */

static void layout_tag_then_resolve_by_tag_and_by_digest(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	char digest[SL_DIGEST_STR_LEN];
	uint64_t size = put_manifest(l, "{\"schemaVersion\":2,\"layers\":[]}", digest);
	tag_ok(l, "v1.0.0", digest, size);

	struct sl_layout_descriptor d;
	struct sl_error err = {0};
	assert_int_equal(sl_layout_resolve(l, "v1.0.0", &d, &err), 0);
	assert_string_equal(d.digest, digest);
	assert_string_equal(d.media_type, SL_MT_OCI_MANIFEST);
	assert_int_equal(d.size, size);
	assert_int_equal(sl_layout_resolve(l, digest, &d, &err), 0);
	assert_string_equal(d.digest, digest);

	/* on disk, in the shape skopeo writes (plus the index mediaType) */
	_cleanup_(json_decrefp) json_t *index = load_json(*state, "index.json");
	json_t *e = json_array_get(json_object_get(index, "manifests"), 0);
	assert_string_equal(json_string_value(json_object_get(e, "mediaType")), SL_MT_OCI_MANIFEST);
	assert_string_equal(json_string_value(json_object_get(e, "digest")), digest);
	assert_int_equal(json_integer_value(json_object_get(e, "size")), size);
	assert_string_equal(json_string_value(json_object_get(json_object_get(e, "annotations"),
	                                                      SL_ANNOTATION_REF_NAME)),
	                    "v1.0.0");
	assert_null(json_object_get(e, "platform"));

	/* and a fresh handle sees the same */
	_cleanup_(sl_layout_freep) struct sl_layout *again = open_ok(*state, false);
	assert_int_equal(sl_layout_resolve(again, "v1.0.0", &d, &err), 0);
	assert_string_equal(d.digest, digest);
}

static void layout_resolve_reports_unknown_tags_and_digests_as_not_found(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	struct sl_layout_descriptor d;
	struct sl_error err = {0};
	assert_int_equal(sl_layout_resolve(l, "v9", &d, &err), SL_ENOTFOUND);
	_cleanup_free_ char *want =
	    sl_asprintf("tag v9 not found in OCI image layout %s", (char *)*state);
	assert_string_equal(err.msg, want);
	assert_int_equal(sl_layout_resolve(l, DIGEST, &d, &err), SL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "manifest " DIGEST " not found"));
	assert_int_equal(sl_layout_resolve(l, "sha256:abc", &d, &err), SL_EINVAL);
	assert_non_null(strstr(err.msg, "invalid digest"));
}

static void layout_resolve_finds_an_untagged_manifest_blob_by_digest(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	char digest[SL_DIGEST_STR_LEN];
	uint64_t size = put_manifest(
	    l, "{\"schemaVersion\":2,\"mediaType\":\"" SL_MT_OCI_INDEX "\",\"manifests\":[]}",
	    digest);
	struct sl_layout_descriptor d;
	struct sl_error err = {0};
	assert_int_equal(sl_layout_resolve(l, digest, &d, &err), 0);
	assert_string_equal(d.media_type, SL_MT_OCI_INDEX);
	assert_int_equal(d.size, size);

	/* a blob that is not a manifest cannot be resolved as one */
	char other[SL_DIGEST_STR_LEN];
	put_manifest(l, "just bytes", other);
	assert_int_equal(sl_layout_resolve(l, other, &d, &err), SL_EINVAL);
	assert_non_null(strstr(err.msg, "is not a manifest"));
}

static void layout_tag_replaces_the_entry_in_place_and_keeps_others(void **state)
{
	write_layout(*state, "{\"imageLayoutVersion\":\"1.0.0\"}",
	             "{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{\"keep\":\"me\"}}");
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, false);
	char d1[SL_DIGEST_STR_LEN], d2[SL_DIGEST_STR_LEN], d3[SL_DIGEST_STR_LEN];
	uint64_t s1 = put_manifest(l, "{\"n\":1}", d1);
	uint64_t s2 = put_manifest(l, "{\"n\":2}", d2);
	uint64_t s3 = put_manifest(l, "{\"n\":33}", d3);
	tag_ok(l, "a", d1, s1);
	tag_ok(l, "b", d2, s2);
	tag_ok(l, "a", d3, s3);

	_cleanup_(json_decrefp) json_t *index = load_json(*state, "index.json");
	json_t *m = json_object_get(index, "manifests");
	assert_int_equal(json_array_size(m), 2);
	json_t *first = json_array_get(m, 0), *second = json_array_get(m, 1);
	assert_string_equal(json_string_value(json_object_get(first, "digest")), d3);
	assert_int_equal(json_integer_value(json_object_get(first, "size")), s3);
	assert_string_equal(json_string_value(json_object_get(second, "digest")), d2);
	/* fields sluice does not know about survive */
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(index, "annotations"), "keep")),
	    "me");

	struct sl_layout_descriptor d;
	struct sl_error err = {0};
	assert_int_equal(sl_layout_resolve(l, "a", &d, &err), 0);
	assert_string_equal(d.digest, d3);
	assert_int_equal(sl_layout_resolve(l, "b", &d, &err), 0);
	assert_string_equal(d.digest, d2);
}

static void layout_tag_names_an_unnamed_entry_skopeo_left_behind(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	char d1[SL_DIGEST_STR_LEN];
	uint64_t s1 = put_manifest(l, "{\"n\":1}", d1);
	/* skopeo strips ref.name from the entry a tag moved away from */
	_cleanup_free_ char *index = sl_asprintf(
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\","
	    "\"size\":%llu}]}",
	    SL_MT_OCI_MANIFEST, d1, (unsigned long long)s1);
	_cleanup_free_ char *p = tl_path(*state, "index.json");
	tl_write_file(p, index, strlen(index));
	_cleanup_(sl_layout_freep) struct sl_layout *fresh = open_ok(*state, false);
	tag_ok(fresh, "again", d1, s1);
	_cleanup_(json_decrefp) json_t *doc = load_json(*state, "index.json");
	assert_int_equal(json_array_size(json_object_get(doc, "manifests")), 1);
	struct sl_layout_descriptor d;
	struct sl_error err = {0};
	assert_int_equal(sl_layout_resolve(fresh, "again", &d, &err), 0);
	assert_string_equal(d.digest, d1);
}

static void layout_tag_resolves_duplicates_to_the_first_entry_and_cleans_them(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	char d1[SL_DIGEST_STR_LEN], d2[SL_DIGEST_STR_LEN], d3[SL_DIGEST_STR_LEN];
	uint64_t s1 = put_manifest(l, "{\"n\":1}", d1);
	uint64_t s2 = put_manifest(l, "{\"n\":2}", d2);
	uint64_t s3 = put_manifest(l, "{\"n\":3}", d3);
	_cleanup_free_ char *index =
	    sl_asprintf("{\"schemaVersion\":2,\"manifests\":["
	                "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%llu,"
	                "\"annotations\":{\"" SL_ANNOTATION_REF_NAME "\":\"t\"}},"
	                "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%llu,"
	                "\"annotations\":{\"" SL_ANNOTATION_REF_NAME "\":\"t\"}}]}",
	                SL_MT_OCI_MANIFEST, d1, (unsigned long long)s1, SL_MT_OCI_MANIFEST, d2,
	                (unsigned long long)s2);
	_cleanup_free_ char *p = tl_path(*state, "index.json");
	tl_write_file(p, index, strlen(index));
	_cleanup_(sl_layout_freep) struct sl_layout *fresh = open_ok(*state, false);
	struct sl_layout_descriptor d;
	struct sl_error err = {0};
	assert_int_equal(sl_layout_resolve(fresh, "t", &d, &err), 0);
	assert_string_equal(d.digest, d1); /* skopeo's choice too */
	tag_ok(fresh, "t", d3, s3);
	_cleanup_(sl_strv_free) struct sl_strv tags = {0};
	assert_int_equal(sl_layout_list_tags(fresh, &tags, &err), 0);
	assert_int_equal(tags.len, 1);
	assert_int_equal(sl_layout_resolve(fresh, "t", &d, &err), 0);
	assert_string_equal(d.digest, d3);
	/* the stale duplicate keeps its entry but loses the name */
	_cleanup_(json_decrefp) json_t *doc = load_json(*state, "index.json");
	json_t *m = json_object_get(doc, "manifests");
	assert_int_equal(json_array_size(m), 2);
	json_t *stale = json_array_get(m, 1);
	assert_string_equal(json_string_value(json_object_get(stale, "digest")), d2);
	assert_null(json_object_get(stale, "annotations"));
}

static void layout_tag_refuses_bad_input_and_absent_manifests(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	char digest[SL_DIGEST_STR_LEN];
	uint64_t size = put_manifest(l, "{}", digest);
	struct sl_error err = {0};
	assert_int_equal(sl_layout_tag(l, "-bad", digest, SL_MT_OCI_MANIFEST, size, &err),
	                 SL_EINVAL);
	assert_non_null(strstr(err.msg, "invalid tag"));
	assert_int_equal(sl_layout_tag(l, "a/b", digest, SL_MT_OCI_MANIFEST, size, &err),
	                 SL_EINVAL);
	assert_int_equal(sl_layout_tag(l, "v1", "sha256:abc", SL_MT_OCI_MANIFEST, size, &err),
	                 SL_EINVAL);
	assert_int_equal(sl_layout_tag(l, "v1", digest, "", size, &err), SL_EINVAL);
	assert_int_equal(sl_layout_tag(l, "v1", DIGEST, SL_MT_OCI_MANIFEST, 2, &err), SL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "is not stored in OCI image layout"));
	assert_int_equal(sl_layout_tag(l, "v1", digest, SL_MT_OCI_MANIFEST, size + 1, &err),
	                 SL_EINVAL);
	_cleanup_(json_decrefp) json_t *doc = load_json(*state, "index.json");
	assert_int_equal(json_array_size(json_object_get(doc, "manifests")), 0);
}

static void layout_tag_replaces_index_json_by_rename_not_in_place(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	_cleanup_free_ char *idx = tl_path(*state, "index.json");
	size_t before_len = 0;
	unsigned char *before = tl_own(tl_read_file(idx, &before_len));
	/* a reader holding the old file keeps seeing a whole, valid index */
	_cleanup_close_ int old_fd = open(idx, O_RDONLY | O_CLOEXEC);
	assert_true(old_fd >= 0);
	char digest[SL_DIGEST_STR_LEN];
	tag_ok(l, "v1", digest, put_manifest(l, "{}", digest));

	char buf[4096];
	ssize_t n = pread(old_fd, buf, sizeof(buf), 0);
	assert_int_equal(n, (ssize_t)before_len);
	assert_memory_equal(buf, before, before_len);
	size_t after_len = 0;
	unsigned char *after = tl_own(tl_read_file(idx, &after_len));
	assert_non_null(strstr((char *)after, "\"v1\""));
	/* no temporary file left next to it */
	assert_int_equal(count_entries(*state), 3);
}

static void layout_tag_keeps_tags_written_by_another_handle(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *a = open_ok(*state, true);
	_cleanup_(sl_layout_freep) struct sl_layout *b = open_ok(*state, false);
	char d1[SL_DIGEST_STR_LEN], d2[SL_DIGEST_STR_LEN];
	tag_ok(a, "one", d1, put_manifest(a, "{\"n\":1}", d1));
	/* b read index.json before "one" existed */
	tag_ok(b, "two", d2, put_manifest(b, "{\"n\":2}", d2));
	_cleanup_(sl_layout_freep) struct sl_layout *c = open_ok(*state, false);
	_cleanup_(sl_strv_free) struct sl_strv tags = {0};
	struct sl_error err = {0};
	assert_int_equal(sl_layout_list_tags(c, &tags, &err), 0);
	assert_int_equal(tags.len, 2);
	assert_string_equal(tags.items[0], "one");
	assert_string_equal(tags.items[1], "two");
}

static void layout_list_tags_follows_index_order_and_skips_unnamed(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	_cleanup_(sl_strv_free) struct sl_strv empty = {0};
	struct sl_error err = {0};
	assert_int_equal(sl_layout_list_tags(l, &empty, &err), 0);
	assert_int_equal(empty.len, 0);
	char d[SL_DIGEST_STR_LEN];
	uint64_t s = put_manifest(l, "{}", d);
	tag_ok(l, "zeta", d, s);
	tag_ok(l, "alpha", d, s);
	tag_ok(l, "latest", d, s);
	_cleanup_(sl_strv_free) struct sl_strv tags = {0};
	assert_int_equal(sl_layout_list_tags(l, &tags, &err), 0);
	assert_int_equal(tags.len, 3);
	assert_string_equal(tags.items[0], "zeta");
	assert_string_equal(tags.items[1], "alpha");
	assert_string_equal(tags.items[2], "latest");
}

/* ---- blobs ------------------------------------------------------------ */

static void layout_blob_put_refuses_a_wrong_digest_and_leaves_nothing(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	_cleanup_free_ char *blobs = tl_path(*state, "blobs/sha256");
	struct sl_error err = {0};
	assert_int_equal(sl_layout_blob_put_bytes(l, DIGEST, "hello", 5, &err), SL_EDIGEST);
	assert_true(sl_startswith(err.msg, "blob " DIGEST " does not match its digest"));
	assert_false(sl_layout_blob_exists(l, DIGEST));

	_cleanup_free_ char *src = tl_path(*state, "source");
	tl_write_file(src, "hello", 5);
	_cleanup_close_ int fd = open(src, O_RDONLY | O_CLOEXEC);
	assert_int_equal(sl_layout_blob_put_fd(l, DIGEST, fd, 5, &err), SL_EDIGEST);
	char right[SL_DIGEST_STR_LEN];
	sl_sha256_digest("hello", 5, right);
	/* right digest, wrong size either way */
	assert_int_equal(sl_layout_blob_put_fd(l, right, fd, 6, &err), SL_EDIGEST);
	assert_non_null(strstr(err.msg, "ended after 5"));
	assert_int_equal(sl_layout_blob_put_fd(l, right, fd, 4, &err), SL_EDIGEST);
	assert_non_null(strstr(err.msg, "longer than 4"));
	assert_int_equal(sl_layout_blob_put_fd(l, "sha256:xyz", fd, 5, &err), SL_EINVAL);
	assert_int_equal(count_entries(blobs), 0);

	/* the fd is read from its start, wherever its offset was */
	assert_int_equal(lseek(fd, 3, SEEK_SET), 3);
	assert_int_equal(sl_layout_blob_put_fd(l, right, fd, 5, &err), 0);
	assert_true(sl_layout_blob_exists(l, right));
	assert_int_equal(count_entries(blobs), 1);
	assert_int_equal(sl_layout_blob_verify(l, right, 5, &err), 0);
}

static void layout_blob_put_skips_a_blob_already_present(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	char digest[SL_DIGEST_STR_LEN];
	put_manifest(l, "content", digest);
	_cleanup_free_ char *p = tl_path(*state, "blobs/sha256/");
	_cleanup_free_ char *blob = sl_asprintf("%s%s", p, digest + 7);
	struct stat before, after;
	assert_int_equal(stat(blob, &before), 0);
	struct sl_error err = {0};
	/* an fd that cannot be read proves the source is not even touched */
	assert_int_equal(sl_layout_blob_put_fd(l, digest, -1, 7, &err), 0);
	assert_int_equal(sl_layout_blob_put_bytes(l, digest, "content", 7, &err), 0);
	assert_int_equal(stat(blob, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
}

static void layout_blob_put_replaces_a_truncated_blob(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	char digest[SL_DIGEST_STR_LEN];
	sl_sha256_digest("complete", 8, digest);
	_cleanup_free_ char *p = tl_path(*state, "blobs/sha256/");
	_cleanup_free_ char *blob = sl_asprintf("%s%s", p, digest + 7);
	tl_write_file(blob, "comp", 4); /* what a non-atomic writer leaves after a crash */
	struct sl_error err = {0};
	assert_int_equal(sl_layout_blob_put_bytes(l, digest, "complete", 8, &err), 0);
	assert_int_equal(sl_layout_blob_verify(l, digest, 8, &err), 0);
}

static void layout_blob_open_and_verify_detect_tampering(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	char digest[SL_DIGEST_STR_LEN];
	put_manifest(l, "original", digest);
	struct sl_error err = {0};
	_cleanup_close_ int fd = -1;
	uint64_t size = 0;
	assert_int_equal(sl_layout_blob_open(l, digest, &fd, &size, &err), 0);
	assert_int_equal(size, 8);
	char buf[16];
	assert_int_equal(read(fd, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "original", 8);
	assert_int_equal(sl_layout_blob_verify(l, digest, SL_LAYOUT_ANY_SIZE, &err), 0);
	assert_int_equal(sl_layout_blob_verify(l, digest, 9, &err), SL_EDIGEST);

	_cleanup_free_ char *p = tl_path(*state, "blobs/sha256/");
	_cleanup_free_ char *blob = sl_asprintf("%s%s", p, digest + 7);
	tl_write_file(blob, "Original", 8);
	assert_int_equal(sl_layout_blob_verify(l, digest, 8, &err), SL_EDIGEST);
	assert_non_null(strstr(err.msg, "does not match its digest"));

	int fd2 = -1;
	assert_int_equal(sl_layout_blob_open(l, DIGEST, &fd2, &size, &err), SL_ENOTFOUND);
	assert_int_equal(fd2, -1);
}

static void layout_blob_open_refuses_symlinks(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	char digest[SL_DIGEST_STR_LEN];
	sl_sha256_digest("secret", 6, digest);
	_cleanup_free_ char *target = tl_path(*state, "outside");
	tl_write_file(target, "secret", 6);
	_cleanup_free_ char *p = tl_path(*state, "blobs/sha256/");
	_cleanup_free_ char *blob = sl_asprintf("%s%s", p, digest + 7);
	assert_int_equal(symlink(target, blob), 0);
	int fd = -1;
	uint64_t size = 0;
	struct sl_error err = {0};
	assert_int_equal(sl_layout_blob_open(l, digest, &fd, &size, &err), SL_EINVAL);
	assert_non_null(strstr(err.msg, "symbolic link"));
	assert_false(sl_layout_blob_exists(l, digest));
}

/* ---- manifests -------------------------------------------------------- */

static void layout_manifest_get_returns_verified_bytes(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	char digest[SL_DIGEST_STR_LEN];
	put_artifact(l, "v1", "apiVersion: v1\n", digest);
	_cleanup_buf_ struct sl_buf body;
	sl_buf_init(&body, SL_MAX_MANIFEST_BYTES);
	_cleanup_free_ char *mt = NULL;
	char got[SL_DIGEST_STR_LEN];
	struct sl_error err = {0};
	assert_int_equal(sl_layout_manifest_get(l, "v1", &body, &mt, got, &err), 0);
	assert_string_equal(got, digest);
	assert_string_equal(mt, SL_MT_OCI_MANIFEST);
	struct sl_manifest m = {0};
	assert_int_equal(sl_manifest_parse(body.data, body.len, mt, &m, &err), 0);
	assert_string_equal(m.layers[0].media_type, SL_MT_FLUX_CONTENT);
	assert_int_equal(sl_layout_blob_verify(l, m.layers[0].digest, m.layers[0].size, &err), 0);
	sl_manifest_clear(&m);

	/* by digest too, with optional outputs left out */
	assert_int_equal(sl_layout_manifest_get(l, digest, &body, NULL, NULL, &err), 0);
	char again[SL_DIGEST_STR_LEN];
	sl_sha256_digest(body.data, body.len, again);
	assert_string_equal(again, digest);
}

static void layout_manifest_get_detects_a_tampered_manifest(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	char digest[SL_DIGEST_STR_LEN];
	const char *text = "{\"schemaVersion\":2,\"n\":1}";
	tag_ok(l, "v1", digest, put_manifest(l, text, digest));
	_cleanup_free_ char *p = tl_path(*state, "blobs/sha256/");
	_cleanup_free_ char *blob = sl_asprintf("%s%s", p, digest + 7);

	_cleanup_buf_ struct sl_buf body;
	sl_buf_init(&body, 0);
	assert_int_equal(sl_buf_append(&body, "untouched", 9), 0);
	struct sl_error err = {0};
	char got[SL_DIGEST_STR_LEN] = "unchanged";

	/* same size, different bytes */
	tl_write_file(blob, "{\"schemaVersion\":2,\"n\":2}", strlen(text));
	assert_int_equal(sl_layout_manifest_get(l, "v1", &body, NULL, got, &err), SL_EDIGEST);
	assert_non_null(strstr(err.msg, "does not match its digest"));
	assert_true(sl_startswith(err.msg, "reading manifest v1: "));
	assert_string_equal(body.data, "untouched");
	assert_string_equal(got, "unchanged");

	/* different size */
	tl_write_file(blob, "{}", 2);
	assert_int_equal(sl_layout_manifest_get(l, digest, &body, NULL, got, &err), SL_EDIGEST);

	/* gone */
	assert_int_equal(unlink(blob), 0);
	assert_int_equal(sl_layout_manifest_get(l, "v1", &body, NULL, got, &err), SL_ENOTFOUND);
}

static void layout_manifest_get_refuses_a_size_index_json_misstates(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	char digest[SL_DIGEST_STR_LEN];
	uint64_t size = put_manifest(l, "{\"schemaVersion\":2}", digest);
	/* the blob is intact; only the descriptor lies about its size */
	_cleanup_free_ char *index = sl_asprintf(
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\","
	    "\"size\":%llu,\"annotations\":{\"" SL_ANNOTATION_REF_NAME "\":\"v1\"}}]}",
	    SL_MT_OCI_MANIFEST, digest, (unsigned long long)size - 1);
	_cleanup_free_ char *p = tl_path(*state, "index.json");
	tl_write_file(p, index, strlen(index));
	_cleanup_(sl_layout_freep) struct sl_layout *fresh = open_ok(*state, false);
	_cleanup_buf_ struct sl_buf body;
	sl_buf_init(&body, 0);
	struct sl_error err = {0};
	assert_int_equal(sl_layout_manifest_get(fresh, "v1", &body, NULL, NULL, &err), SL_EDIGEST);
	assert_non_null(strstr(err.msg, "index.json says"));
	assert_null(body.data);
}

static void layout_manifest_get_refuses_a_manifest_over_the_cap(void **state)
{
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, true);
	char digest[SL_DIGEST_STR_LEN];
	const char *text = "{\"schemaVersion\":2,\"padding\":\"................\"}";
	tag_ok(l, "v1", digest, put_manifest(l, text, digest));
	_cleanup_buf_ struct sl_buf body;
	sl_buf_init(&body, 16); /* the caller's cap applies when smaller */
	struct sl_error err = {0};
	assert_int_equal(sl_layout_manifest_get(l, "v1", &body, NULL, NULL, &err), SL_ELIMIT);
	assert_non_null(strstr(err.msg, "larger than 16 bytes"));

	/* an index.json claiming a huge size is refused before any read */
	_cleanup_free_ char *index = sl_asprintf(
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\",\"digest\":\"%s\","
	    "\"size\":%d,\"annotations\":{\"" SL_ANNOTATION_REF_NAME "\":\"big\"}}]}",
	    SL_MT_OCI_MANIFEST, digest, SL_MAX_MANIFEST_BYTES + 1);
	_cleanup_free_ char *p = tl_path(*state, "index.json");
	tl_write_file(p, index, strlen(index));
	_cleanup_(sl_layout_freep) struct sl_layout *fresh = open_ok(*state, false);
	sl_buf_init(&body, 0);
	assert_int_equal(sl_layout_manifest_get(fresh, "big", &body, NULL, NULL, &err), SL_ELIMIT);
}

static void layout_manifest_get_refuses_other_digest_algorithms(void **state)
{
	write_layout(*state, "{\"imageLayoutVersion\":\"1.0.0\"}",
	             "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" SL_MT_OCI_MANIFEST
	             "\",\"digest\":\"sha512:" HEX64 HEX64
	             "\",\"size\":2,\"annotations\":{\"" SL_ANNOTATION_REF_NAME "\":\"v1\"}}]}");
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(*state, false);
	struct sl_layout_descriptor d;
	struct sl_error err = {0};
	assert_int_equal(sl_layout_resolve(l, "v1", &d, &err), SL_EUNSUPPORTED);
	assert_non_null(strstr(err.msg, "only sha256"));
}

/* ---- references ------------------------------------------------------- */

struct good_layout_ref {
	const char *url;
	const char *path;
	const char *tag;
	const char *digest;
};

static const struct good_layout_ref good_refs[] = {
    {"oci-layout://./out", "./out", "latest", NULL},
    {"oci-layout://out", "out", "latest", NULL},
    {"oci-layout:///var/lib/layouts/app:v1.2.3", "/var/lib/layouts/app", "v1.2.3", NULL},
    {"oci-layout://dir:latest", "dir", "latest", NULL},
    {"oci-layout://dir@" DIGEST, "dir", NULL, DIGEST},
    {"oci-layout://dir:v1@" DIGEST, "dir", NULL, DIGEST},
    /* ':' and '@' inside the path, before its last '/' */
    {"oci-layout:///tmp/a:b/c", "/tmp/a:b/c", "latest", NULL},
    {"oci-layout:///tmp/a:b/c:t", "/tmp/a:b/c", "t", NULL},
    {"oci-layout://dir:x/", "dir:x/", "latest", NULL},
    {"oci-layout://me@host/dir", "me@host/dir", "latest", NULL},
    {"oci-layout://me@host/dir:v2", "me@host/dir", "v2", NULL},
    {"oci-layout://a:b:c", "a:b", "c", NULL},
    {"oci-layout://../up/layout:_x", "../up/layout", "_x", NULL},
    {"oci-layout:///", "/", "latest", NULL},
};

static void layout_ref_parses_valid_references(void **state)
{
	(void)state;
	for (size_t i = 0; i < SL_ARRAY_SIZE(good_refs); i++) {
		const struct good_layout_ref *g = &good_refs[i];
		char *path = NULL, *tag = NULL, *digest = NULL;
		struct sl_error err = {0};
		if (sl_layout_ref_parse(g->url, &path, &tag, &digest, &err) != 0)
			fail_msg("%s: %s", g->url, err.msg);
		tl_own(path);
		tl_own(tag);
		tl_own(digest);
		if (strcmp(path, g->path) != 0)
			fail_msg("%s: path=%s", g->url, path);
		if ((g->tag == NULL) != (tag == NULL) || (g->tag && strcmp(g->tag, tag) != 0))
			fail_msg("%s: tag=%s", g->url, tag ? tag : "(null)");
		if ((g->digest == NULL) != (digest == NULL) ||
		    (g->digest && strcmp(g->digest, digest) != 0))
			fail_msg("%s: digest=%s", g->url, digest ? digest : "(null)");
		assert_true(sl_layout_ref_is(g->url));
	}
}

static void layout_ref_rejects_malformed_references(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "oci-layout://",
	    "oci-layout://:v1",
	    "oci-layout://@" DIGEST,
	    "oci-layout://dir:",
	    "oci-layout://dir:-v1",
	    "oci-layout://dir:v1+b",
	    "oci-layout://dir@",
	    "oci-layout://dir@sha256:abc",
	    "oci-layout://dir@sha512:" HEX64,
	    "oci-layout://dir@" DIGEST "x",
	    "oci-layout://a@b",
	    "oci-layout://dir\n:v1",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		char *path = NULL, *tag = NULL, *digest = NULL;
		struct sl_error err = {0};
		if (sl_layout_ref_parse(bad[i], &path, &tag, &digest, &err) != SL_EINVAL) {
			free(path);
			free(tag);
			free(digest);
			fail_msg("\"%s\" accepted", bad[i]);
		}
		assert_null(path);
		assert_null(tag);
		assert_null(digest);
		char want[256];
		snprintf(want, sizeof(want), "'%s' invalid URL: ", bad[i]);
		if (!sl_startswith(err.msg, want))
			fail_msg("\"%s\": message \"%s\"", bad[i], err.msg);
	}
	static const char *not_layout[] = {"oci://ghcr.io/app", "oci-layout:/x", "OCI-LAYOUT://x",
	                                   "./dir", ""};
	for (size_t i = 0; i < SL_ARRAY_SIZE(not_layout); i++) {
		char *path = NULL, *tag = NULL, *digest = NULL;
		struct sl_error err = {0};
		assert_false(sl_layout_ref_is(not_layout[i]));
		assert_int_equal(sl_layout_ref_parse(not_layout[i], &path, &tag, &digest, &err),
		                 SL_EINVAL);
		assert_string_equal(
		    err.msg, "URL must be in format 'oci-layout://<path>[:<tag>][@<digest>]'");
	}
	assert_false(sl_layout_ref_is(NULL));
}

/* ---- skopeo ----------------------------------------------------------- */

static bool have_skopeo(void)
{
	return system("command -v skopeo >/dev/null 2>&1") == 0;
}

static void skopeo_ok(const char *args)
{
	_cleanup_free_ char *cmd =
	    sl_asprintf("skopeo --insecure-policy copy -q %s >/dev/null 2>&1", args);
	int rc = system(cmd);
	if (rc != 0)
		fail_msg("%s: exit %d", cmd, rc);
}

/* sluice writes, skopeo copies, sluice reads skopeo's copy, sluice moves a
 * tag in skopeo's layout and skopeo reads that back. */
static void layout_interoperates_with_skopeo_both_ways(void **state)
{
	if (!have_skopeo())
		skip();
	_cleanup_free_ char *ours = tl_path(*state, "ours");
	_cleanup_free_ char *theirs = tl_path(*state, "theirs");
	_cleanup_free_ char *back = tl_path(*state, "back");
	char d1[SL_DIGEST_STR_LEN], d2[SL_DIGEST_STR_LEN];
	{
		_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(ours, true);
		put_artifact(l, "v1", "kind: ConfigMap\n", d1);
		put_artifact(l, "v2", "kind: Secret\n", d2);
	}
	_cleanup_free_ char *a1 = sl_asprintf("oci:%s:v1 oci:%s:v1", ours, theirs);
	skopeo_ok(a1);
	_cleanup_free_ char *a2 = sl_asprintf("oci:%s:v2 oci:%s:v2", ours, theirs);
	skopeo_ok(a2);

	{
		_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(theirs, false);
		_cleanup_buf_ struct sl_buf body;
		sl_buf_init(&body, 0);
		char got[SL_DIGEST_STR_LEN];
		struct sl_error err = {0};
		assert_int_equal(sl_layout_manifest_get(l, "v1", &body, NULL, got, &err), 0);
		assert_string_equal(got, d1);
		struct sl_manifest m = {0};
		assert_int_equal(sl_manifest_parse(body.data, body.len, NULL, &m, &err), 0);
		assert_int_equal(sl_layout_blob_verify(l, m.config.digest, m.config.size, &err), 0);
		assert_int_equal(
		    sl_layout_blob_verify(l, m.layers[0].digest, m.layers[0].size, &err), 0);
		sl_manifest_clear(&m);
		/* move v1 onto v2's manifest in skopeo's layout */
		struct sl_layout_descriptor d;
		assert_int_equal(sl_layout_resolve(l, "v2", &d, &err), 0);
		assert_string_equal(d.digest, d2);
		assert_int_equal(sl_layout_tag(l, "v1", d.digest, d.media_type, d.size, &err), 0);
	}
	_cleanup_free_ char *a3 = sl_asprintf("oci:%s:v1 oci:%s:moved", theirs, back);
	skopeo_ok(a3);
	_cleanup_(sl_layout_freep) struct sl_layout *l = open_ok(back, false);
	struct sl_layout_descriptor d;
	struct sl_error err = {0};
	assert_int_equal(sl_layout_resolve(l, "moved", &d, &err), 0);
	assert_string_equal(d.digest, d2);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, tl_setup_tmpdir, tl_teardown_tmpdir)
	const struct CMUnitTest tests[] = {
	    T(layout_create_writes_oci_layout_empty_index_and_blob_dir),
	    T(layout_create_keeps_an_existing_layout_and_its_tags),
	    T(layout_create_completes_an_interrupted_create),
	    T(layout_open_refuses_a_directory_without_oci_layout),
	    T(layout_open_refuses_a_missing_directory_without_creating_it),
	    T(layout_create_refuses_a_non_empty_directory_that_is_not_a_layout),
	    T(layout_open_accepts_skopeo_files_and_1x_versions),
	    T(layout_open_refuses_unsupported_layout_versions),
	    T(layout_open_refuses_a_malformed_index),
	    T(layout_open_refuses_an_index_over_the_cap),
	    T(layout_tag_then_resolve_by_tag_and_by_digest),
	    T(layout_resolve_reports_unknown_tags_and_digests_as_not_found),
	    T(layout_resolve_finds_an_untagged_manifest_blob_by_digest),
	    T(layout_tag_replaces_the_entry_in_place_and_keeps_others),
	    T(layout_tag_names_an_unnamed_entry_skopeo_left_behind),
	    T(layout_tag_resolves_duplicates_to_the_first_entry_and_cleans_them),
	    T(layout_tag_refuses_bad_input_and_absent_manifests),
	    T(layout_tag_replaces_index_json_by_rename_not_in_place),
	    T(layout_tag_keeps_tags_written_by_another_handle),
	    T(layout_list_tags_follows_index_order_and_skips_unnamed),
	    T(layout_blob_put_refuses_a_wrong_digest_and_leaves_nothing),
	    T(layout_blob_put_skips_a_blob_already_present),
	    T(layout_blob_put_replaces_a_truncated_blob),
	    T(layout_blob_open_and_verify_detect_tampering),
	    T(layout_blob_open_refuses_symlinks),
	    T(layout_manifest_get_returns_verified_bytes),
	    T(layout_manifest_get_detects_a_tampered_manifest),
	    T(layout_manifest_get_refuses_a_size_index_json_misstates),
	    T(layout_manifest_get_refuses_a_manifest_over_the_cap),
	    T(layout_manifest_get_refuses_other_digest_algorithms),
	    T(layout_ref_parses_valid_references),
	    T(layout_ref_rejects_malformed_references),
	    T(layout_interoperates_with_skopeo_both_ways),
	};
#undef T
	return cmocka_run_group_tests_name("layout", tests, NULL, NULL);
}
