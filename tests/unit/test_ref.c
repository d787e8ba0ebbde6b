/* oci:// references: go-containerregistry's rules as Flux applies them
 * (spec §5.4), plus sluice's documented difference that a bare "localhost"
 * first component is a registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "oci/oci.h"

#define HEX64  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIGEST "sha256:" HEX64

struct good_ref {
	const char *url;
	const char *registry;
	const char *repository;
	const char *tag;    /* NULL when a digest is given */
	const char *digest; /* NULL when absent */
};

static const struct good_ref good_refs[] = {
    /* plain registries, tags and the implicit "latest" */
    {"oci://ghcr.io/org/app:v1.0.0", "ghcr.io", "org/app", "v1.0.0", NULL},
    {"oci://ghcr.io/org/app", "ghcr.io", "org/app", "latest", NULL},
    {"oci://ghcr.io/org/team/app:1.2.3-rc.1", "ghcr.io", "org/team/app", "1.2.3-rc.1", NULL},
    {"oci://registry.example.com/a/b/c/d:x_Y.z-9", "registry.example.com", "a/b/c/d", "x_Y.z-9",
     NULL},
    /* registries with ports */
    {"oci://127.0.0.1:5000/app:v1", "127.0.0.1:5000", "app", "v1", NULL},
    {"oci://localhost:5000/manifests/podinfo", "localhost:5000", "manifests/podinfo", "latest",
     NULL},
    {"oci://registry.example.com:443/org/app:7", "registry.example.com:443", "org/app", "7", NULL},
    {"oci://[::1]:5000/app:v1", "[::1]:5000", "app", "v1", NULL},
    /* sluice's deliberate difference: localhost alone is a registry */
    {"oci://localhost/app", "localhost", "app", "latest", NULL},
    {"oci://localhost/org/app:v2", "localhost", "org/app", "v2", NULL},
    /* Docker Hub normalisation */
    {"oci://docker.io/nginx", "index.docker.io", "library/nginx", "latest", NULL},
    {"oci://docker.io/library/nginx:1.27", "index.docker.io", "library/nginx", "1.27", NULL},
    {"oci://docker.io/org/app:v1", "index.docker.io", "org/app", "v1", NULL},
    {"oci://index.docker.io/nginx:stable", "index.docker.io", "library/nginx", "stable", NULL},
    {"oci://nginx", "index.docker.io", "library/nginx", "latest", NULL},
    {"oci://nginx:1.27", "index.docker.io", "library/nginx", "1.27", NULL},
    {"oci://org/app:v2", "index.docker.io", "org/app", "v2", NULL},
    {"oci://org/team/app", "index.docker.io", "org/team/app", "latest", NULL},
    /* digests; a tag beside a digest is ignored */
    {"oci://ghcr.io/org/app@" DIGEST, "ghcr.io", "org/app", NULL, DIGEST},
    {"oci://ghcr.io/org/app:v1@" DIGEST, "ghcr.io", "org/app", NULL, DIGEST},
    {"oci://localhost:5000/app@" DIGEST, "localhost:5000", "app", NULL, DIGEST},
    {"oci://docker.io/nginx@" DIGEST, "index.docker.io", "library/nginx", NULL, DIGEST},
    /* repository separators of the distribution grammar */
    {"oci://ghcr.io/my-app__x.y/z_w:t", "ghcr.io", "my-app__x.y/z_w", "t", NULL},
    {"oci://ghcr.io/a---b/c", "ghcr.io", "a---b/c", "latest", NULL},
    /* tags may start with '_' and be 128 characters long */
    {"oci://ghcr.io/org/app:_x", "ghcr.io", "org/app", "_x", NULL},
    {"oci://ghcr.io/org/app:"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "ghcr.io", "org/app",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     NULL},
};

static void ref_parses_valid_references(void **state)
{
	(void)state;
	for (size_t i = 0; i < SL_ARRAY_SIZE(good_refs); i++) {
		const struct good_ref *g = &good_refs[i];
		struct sl_oci_ref ref = {0};
		struct sl_error err = {0};
		int r = sl_oci_ref_parse(g->url, &ref, &err);
		if (r != 0)
			fail_msg("%s: %s", g->url, err.msg);
		if (strcmp(ref.registry, g->registry) != 0 ||
		    strcmp(ref.repository, g->repository) != 0)
			fail_msg("%s: registry=%s repository=%s", g->url, ref.registry,
			         ref.repository);
		if ((g->tag == NULL) != (ref.tag == NULL) ||
		    (g->tag && strcmp(g->tag, ref.tag) != 0))
			fail_msg("%s: tag=%s (want %s)", g->url, ref.tag ? ref.tag : "(null)",
			         g->tag ? g->tag : "(null)");
		if ((g->digest == NULL) != (ref.digest == NULL) ||
		    (g->digest && strcmp(g->digest, ref.digest) != 0))
			fail_msg("%s: digest=%s", g->url, ref.digest ? ref.digest : "(null)");
		assert_string_equal(ref.text, g->url + strlen("oci://"));
		sl_oci_ref_clear(&ref);
	}
}

static void ref_repo_name_joins_normalised_registry_and_repository(void **state)
{
	(void)state;
	struct sl_oci_ref ref = {0};
	struct sl_error err = {0};
	assert_int_equal(sl_oci_ref_parse("oci://docker.io/nginx:1", &ref, &err), 0);
	_cleanup_free_ char *name = sl_oci_ref_repo_name(&ref);
	assert_string_equal(name, "index.docker.io/library/nginx");
	/* text stays as typed, not normalised */
	assert_string_equal(ref.text, "docker.io/nginx:1");
	sl_oci_ref_clear(&ref);
}

static void ref_reference_prefers_digest_over_tag(void **state)
{
	(void)state;
	struct sl_oci_ref ref = {0};
	struct sl_error err = {0};
	assert_int_equal(sl_oci_ref_parse("oci://ghcr.io/org/app:v1@" DIGEST, &ref, &err), 0);
	assert_string_equal(sl_oci_ref_reference(&ref), DIGEST);
	sl_oci_ref_clear(&ref);
	assert_int_equal(sl_oci_ref_parse("oci://ghcr.io/org/app:v1", &ref, &err), 0);
	assert_string_equal(sl_oci_ref_reference(&ref), "v1");
	sl_oci_ref_clear(&ref);
	assert_int_equal(sl_oci_ref_parse("oci://ghcr.io/org/app", &ref, &err), 0);
	assert_string_equal(sl_oci_ref_reference(&ref), "latest");
	sl_oci_ref_clear(&ref);
}

static void ref_requires_the_oci_scheme(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "ghcr.io/org/app",        "https://ghcr.io/org/app", "OCI://ghcr.io/org/app",
	    "oci:/ghcr.io/org/app",   "oci:ghcr.io/org/app",     "",
	    " oci://ghcr.io/org/app",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		struct sl_oci_ref ref = {0};
		struct sl_error err = {0};
		if (sl_oci_ref_parse(bad[i], &ref, &err) != SL_EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_string_equal(err.msg, "URL must be in format 'oci://<domain>/<org>/<repo>'");
	}
	struct sl_oci_ref ref = {0};
	struct sl_error err = {0};
	assert_int_equal(sl_oci_ref_parse(NULL, &ref, &err), SL_EINVAL);
}

#define LONG_TAG_129                                                                               \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"                         \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define REPO_128                                                                                   \
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" \
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void ref_rejects_every_malformed_form(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "oci://",
	    "oci://ghcr.io/",
	    "oci://ghcr.io/a",        /* repository shorter than 2 */
	    "oci://ghcr.io/org/app:", /* empty tag */
	    "oci://ghcr.io/org/app@", /* empty digest */
	    "oci://ghcr.io/org/app@sha256:abc",
	    "oci://ghcr.io/org/app@sha256:" HEX64 "0",
	    "oci://ghcr.io/org/app@sha512:" HEX64 HEX64,
	    "oci://ghcr.io/org/"
	    "app@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	    "oci://ghcr.io/org/app@" DIGEST "@" DIGEST,
	    "oci://ghcr.io/org/app@" DIGEST ":v1",
	    "oci://ghcr.io/org/App", /* uppercase repository */
	    "oci://ghcr.io/org/app:v1:v2",
	    "oci://ghcr.io/org/app:-v1",      /* tag must not start with '-' */
	    "oci://ghcr.io/org/app:.v1",      /* or '.' */
	    "oci://ghcr.io/org/app:v1+build", /* '+' is not a tag character */
	    "oci://ghcr.io/org/app:v/1",
	    "oci://ghcr.io/org/app:" LONG_TAG_129,
	    "oci://ghcr.io//app",
	    "oci://ghcr.io/org//app",
	    "oci://ghcr.io/org/app/",
	    "oci://ghcr.io/-org/app",
	    "oci://ghcr.io/org-/app",
	    "oci://ghcr.io/org./app",
	    "oci://ghcr.io/org/.app",
	    "oci://ghcr.io/org/a..b",
	    "oci://ghcr.io/org/a___b",
	    "oci://ghcr.io/org/app name",
	    "oci://ghcr.io/org/app#frag",
	    "oci://ghcr.io/org/app?x=1",
	    "oci://ghcr.io/org/app\n",
	    "oci://ghcr.io/" REPO_128 "/" REPO_128, /* 257 characters */
	    "oci://:5000/app",
	    "oci://host:/app",
	    "oci://host:abc/app",
	    "oci://host:50:00/app",
	    "oci://gh cr.io/app",
	    "oci://[::1/app",
	    "oci://[::1]x/app",
	    "oci://[::1]:/app",
	    "oci://[::g]:5000/app",
	    "oci://user@ghcr.io/org/app",
	    "oci://ghcr.io/org/app:tag@",
	    "oci://docker.io/",
	    "oci://docker.io/Nginx",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		struct sl_oci_ref ref = {0};
		struct sl_error err = {0};
		int r = sl_oci_ref_parse(bad[i], &ref, &err);
		if (r == 0) {
			char got[512];
			snprintf(got, sizeof(got), "%s / %s : %s @ %s", ref.registry,
			         ref.repository, ref.tag ? ref.tag : "-",
			         ref.digest ? ref.digest : "-");
			sl_oci_ref_clear(&ref);
			fail_msg("\"%s\" accepted as %s", bad[i], got);
		}
		if (r != SL_EINVAL || err.code != SL_EINVAL)
			fail_msg("\"%s\": r=%d code=%d", bad[i], r, err.code);
		char want[1024];
		snprintf(want, sizeof(want), "'%s' invalid URL: ", bad[i]);
		if (!sl_startswith(err.msg, want))
			fail_msg("\"%s\": message \"%s\"", bad[i], err.msg);
	}
}

static void ref_repository_of_255_characters_is_the_maximum(void **state)
{
	(void)state;
	char repo[256];
	memset(repo, 'r', 255);
	repo[255] = '\0';
	repo[100] = '/';
	char url[512];
	snprintf(url, sizeof(url), "oci://ghcr.io/%s:v1", repo);
	struct sl_oci_ref ref = {0};
	struct sl_error err = {0};
	assert_int_equal(sl_oci_ref_parse(url, &ref, &err), 0);
	assert_int_equal(strlen(ref.repository), 255);
	sl_oci_ref_clear(&ref);

	snprintf(url, sizeof(url), "oci://ghcr.io/%sr:v1", repo);
	assert_int_equal(sl_oci_ref_parse(url, &ref, &err), SL_EINVAL);
}

static void ref_parse_leaves_the_out_parameter_alone_on_failure(void **state)
{
	(void)state;
	struct sl_oci_ref ref;
	memset(&ref, 0x5a, sizeof(ref));
	struct sl_oci_ref copy = ref;
	struct sl_error err = {0};
	assert_int_equal(sl_oci_ref_parse("oci://ghcr.io/org/App", &ref, &err), SL_EINVAL);
	assert_memory_equal(&ref, &copy, sizeof(ref));
}

static void ref_clear_is_idempotent(void **state)
{
	(void)state;
	struct sl_oci_ref ref = {0};
	struct sl_error err = {0};
	assert_int_equal(sl_oci_ref_parse("oci://ghcr.io/org/app:v1", &ref, &err), 0);
	sl_oci_ref_clear(&ref);
	assert_null(ref.registry);
	assert_null(ref.tag);
	sl_oci_ref_clear(&ref);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ref_parses_valid_references),
	    cmocka_unit_test(ref_repo_name_joins_normalised_registry_and_repository),
	    cmocka_unit_test(ref_reference_prefers_digest_over_tag),
	    cmocka_unit_test(ref_requires_the_oci_scheme),
	    cmocka_unit_test(ref_rejects_every_malformed_form),
	    cmocka_unit_test(ref_repository_of_255_characters_is_the_maximum),
	    cmocka_unit_test(ref_parse_leaves_the_out_parameter_alone_on_failure),
	    cmocka_unit_test(ref_clear_is_idempotent),
	};
	return cmocka_run_group_tests_name("ref", tests, NULL, NULL);
}
