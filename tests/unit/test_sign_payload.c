/* Signature documents: the simple-signing payload must be byte for byte what
 * cosign (Go's encoding/json) signs, and the parsers must refuse what a
 * verifier cannot trust, saying why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "sign/sign.h"

#define HEX    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIGEST "sha256:" HEX
#define OTHER  "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* ---- simple signing ---------------------------------------------------- */

static void payload_is_what_cosign_signs(void **state)
{
	(void)state;
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, 0);
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_payload_build("127.0.0.1:5000/app", DIGEST, NULL, &out, &err),
	                 0);
	assert_string_equal(out.data,
	                    "{\"critical\":{\"identity\":{\"docker-reference\":"
	                    "\"127.0.0.1:5000/app\"},\"image\":{\"docker-manifest-digest\":"
	                    "\"" DIGEST "\"},\"type\":\"cosign container image "
	                    "signature\"},\"optional\":null}");
}

static void payload_annotations_are_sorted_and_go_escaped(void **state)
{
	(void)state;
	json_t *ann = json_pack("{s:s, s:s}", "zeta", "a<b", "alpha", "x&y");
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, 0);
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_payload_build("r/a", DIGEST, ann, &out, &err), 0);
	assert_non_null(
	    strstr(out.data, "\"optional\":{\"alpha\":\"x\\u0026y\",\"zeta\":\"a\\u003cb\"}}"));
	json_decref(ann);

	ann = json_pack("{s:i}", "n", 1);
	sl_buf_reset(&out);
	assert_int_equal(sl_cosign_payload_build("r/a", DIGEST, ann, &out, &err), SL_EINVAL);
	assert_non_null(strstr(err.msg, "annotation n is not a string"));
	json_decref(ann);
}

static void payload_build_refuses_a_non_digest(void **state)
{
	(void)state;
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, 0);
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_payload_build("r/a", "latest", NULL, &out, &err), SL_EINVAL);
}

static void payload_round_trips(void **state)
{
	(void)state;
	json_t *ann = json_pack("{s:s}", "env", "prod");
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, 0);
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_payload_build("ghcr.io/org/app", DIGEST, ann, &out, &err), 0);
	struct sl_cosign_payload p;
	assert_int_equal(sl_cosign_payload_parse(out.data, out.len, &p, &err), 0);
	assert_string_equal(p.docker_reference, "ghcr.io/org/app");
	assert_string_equal(p.manifest_digest, DIGEST);
	assert_string_equal(p.type, SL_COSIGN_PAYLOAD_TYPE);
	assert_true(json_equal(p.optional, ann));
	sl_cosign_payload_clear(&p);
	json_decref(ann);
}

static void payload_parse_refuses_what_it_cannot_trust(void **state)
{
	(void)state;
	static const struct {
		const char *doc, *message;
	} cases[] = {
	    {"[]", "not a JSON object"},
	    {"{\"critical\":", "not JSON"},
	    {"{\"optional\":null}", "no \"critical\" object"},
	    {"{\"critical\":{\"type\":\"x\"}}", "docker-manifest-digest"},
	    {"{\"critical\":{\"image\":{\"docker-manifest-digest\":\"" DIGEST "\"}}}",
	     "no critical.type"},
	    {"{\"critical\":{\"image\":{\"docker-manifest-digest\":\"" DIGEST "\"},\"type\":\"t\"},"
	     "\"optional\":[1]}",
	     "neither null nor an object"},
	    /* Two digests: which one did the signer mean? */
	    {"{\"critical\":{\"image\":{\"docker-manifest-digest\":\"" DIGEST
	     "\",\"docker-manifest-digest\":\"" OTHER "\"},\"type\":\"t\"}}",
	     "not JSON"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sl_cosign_payload p;
		struct sl_error err = {0};
		int r = sl_cosign_payload_parse(cases[i].doc, strlen(cases[i].doc), &p, &err);
		assert_int_equal(r, SL_EINVAL);
		if (!strstr(err.msg, cases[i].message))
			fail_msg("case %zu: %s", i, err.msg);
	}
}

/* ---- bundles ------------------------------------------------------------ */

#define STATEMENT                                                                                  \
	"{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"digest\":{\"sha256\":"     \
	"\"" HEX                                                                                   \
	"\"}}],\"predicateType\":\"https://sigstore.dev/cosign/sign/v1\",\"predicate\":{}}"

static char *bundle_doc(const char *media_type, const char *statement, const char *sigs)
{
	_cleanup_free_ char *payload = sl_base64_encode(statement, strlen(statement));
	return sl_asprintf(
	    "{\"mediaType\":\"%s\",\"verificationMaterial\":{\"publicKey\":{\"hint\":"
	    "\"aGludA==\"}},\"dsseEnvelope\":{\"payload\":\"%s\",\"payloadType\":"
	    "\"application/vnd.in-toto+json\",\"signatures\":%s}}",
	    media_type, payload, sigs);
}

static void bundle_v03_parses(void **state)
{
	(void)state;
	_cleanup_free_ char *doc =
	    bundle_doc(SL_SIGSTORE_BUNDLE_V03_MT, STATEMENT,
	               "[{\"sig\":\"AQID\"},{\"keyid\":\"\",\"sig\":\"BAU=\"}]");
	struct sl_cosign_bundle b;
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_bundle_parse(doc, strlen(doc), &b, &err), 0);
	assert_string_equal(b.payload_type, SL_INTOTO_PAYLOAD_TYPE);
	assert_int_equal(b.payload_len, strlen(STATEMENT));
	assert_memory_equal(b.payload, STATEMENT, b.payload_len);
	assert_int_equal(b.n_signatures, 2);
	assert_int_equal(b.signature_lens[0], 3);
	assert_memory_equal(b.signatures[1], "\x04\x05", 2);
	assert_string_equal(b.key_hint, "aGludA==");
	sl_cosign_bundle_clear(&b);
}

static void bundle_later_versions_parse(void **state)
{
	(void)state;
	_cleanup_free_ char *doc = bundle_doc("application/vnd.dev.sigstore.bundle.v0.4+json",
	                                      STATEMENT, "[{\"sig\":\"AQID\"}]");
	struct sl_cosign_bundle b;
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_bundle_parse(doc, strlen(doc), &b, &err), 0);
	sl_cosign_bundle_clear(&b);
}

static void bundle_refusals_say_why(void **state)
{
	(void)state;
	struct {
		char *doc;
		int code;
		const char *message;
	} cases[] = {
	    {bundle_doc("application/vnd.dev.sigstore.bundle+json;version=0.2", STATEMENT,
	                "[{\"sig\":\"AQID\"}]"),
	     SL_EUNSUPPORTED, "older than v0.3"},
	    {bundle_doc("application/json", STATEMENT, "[{\"sig\":\"AQID\"}]"), SL_EINVAL,
	     "not a Sigstore bundle"},
	    {bundle_doc(SL_SIGSTORE_BUNDLE_V03_MT, STATEMENT, "[]"), SL_EINVAL, "no signatures"},
	    {bundle_doc(SL_SIGSTORE_BUNDLE_V03_MT, STATEMENT, "[{\"sig\":\"!!\"}]"), SL_EINVAL,
	     "not base64"},
	    {sl_strdup("{\"mediaType\":\"" SL_SIGSTORE_BUNDLE_V03_MT "\",\"messageSignature\":{}}"),
	     SL_EUNSUPPORTED, "signs a blob"},
	    {sl_strdup("{\"mediaType\":\"" SL_SIGSTORE_BUNDLE_V03_MT "\"}"), SL_EINVAL,
	     "no dsseEnvelope"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sl_cosign_bundle b;
		struct sl_error err = {0};
		int r = sl_cosign_bundle_parse(cases[i].doc, strlen(cases[i].doc), &b, &err);
		if (r != cases[i].code || !strstr(err.msg, cases[i].message))
			fail_msg("case %zu: %d %s", i, r, err.msg);
		free(cases[i].doc);
	}
}

static void pae_is_dsse_v1(void **state)
{
	(void)state;
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, 0);
	assert_int_equal(sl_dsse_pae("application/vnd.in-toto+json", "{}", 2, &out), 0);
	assert_string_equal(out.data, "DSSEv1 28 application/vnd.in-toto+json 2 {}");
}

static void statement_subject_must_name_the_digest(void **state)
{
	(void)state;
	bool names = false;
	struct sl_error err = {0};
	assert_int_equal(sl_intoto_names_digest(STATEMENT, strlen(STATEMENT), DIGEST, &names, &err),
	                 0);
	assert_true(names);
	assert_int_equal(sl_intoto_names_digest(STATEMENT, strlen(STATEMENT), OTHER, &names, &err),
	                 0);
	assert_false(names);
	static const char not_statement[] = "{\"_type\":\"other\",\"subject\":[]}";
	assert_int_equal(
	    sl_intoto_names_digest(not_statement, strlen(not_statement), DIGEST, &names, &err),
	    SL_EINVAL);
	assert_false(names);
}

static void signed_documents_read_one_way_only(void **state)
{
	(void)state;
	/* Go matches keys case-insensitively and would read the second
	 * "critical"; jansson the first. Refused, as are NULs in strings. */
	static const char cased[] =
	    "{\"critical\":{\"image\":{\"docker-manifest-digest\":\"" DIGEST "\"},\"type\":\"t\"},"
	    "\"Critical\":{\"image\":{\"docker-manifest-digest\":\"" OTHER "\"},\"type\":\"t\"}}";
	struct sl_cosign_payload p;
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_payload_parse(cased, strlen(cased), &p, &err), SL_EINVAL);
	assert_non_null(strstr(err.msg, "differ only in case"));
	static const char nul[] = "{\"critical\":{\"image\":{\"docker-manifest-digest\":\"" DIGEST
	                          "\\u0000x\"},\"type\":\"t\"}}";
	assert_int_equal(sl_cosign_payload_parse(nul, strlen(nul), &p, &err), SL_EINVAL);
	bool names = true;
	static const char stmt_nul[] =
	    "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{"
	    "\"digest\":{\"sha256\":\"" HEX "\\u0000x\"}}]}";
	assert_int_equal(sl_intoto_names_digest(stmt_nul, strlen(stmt_nul), DIGEST, &names, &err),
	                 SL_EINVAL);
	assert_false(names);
}

static void only_cosign_sign_statements_are_signatures(void **state)
{
	(void)state;
	assert_true(
	    sl_intoto_has_predicate(STATEMENT, strlen(STATEMENT), SL_COSIGN_SIGN_PREDICATE));
	static const char sbom[] =
	    "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[],"
	    "\"predicateType\":\"https://spdx.dev/Document\",\"predicate\":{}}";
	assert_false(sl_intoto_has_predicate(sbom, strlen(sbom), SL_COSIGN_SIGN_PREDICATE));
	assert_false(sl_intoto_has_predicate("[]", 2, SL_COSIGN_SIGN_PREDICATE));
}

static void signature_tags(void **state)
{
	(void)state;
	_cleanup_free_ char *sig = sl_cosign_signature_tag(DIGEST);
	_cleanup_free_ char *ref = sl_cosign_referrers_tag(DIGEST);
	assert_string_equal(sig, "sha256-" HEX ".sig");
	assert_string_equal(ref, "sha256-" HEX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(payload_is_what_cosign_signs),
	    cmocka_unit_test(payload_annotations_are_sorted_and_go_escaped),
	    cmocka_unit_test(payload_build_refuses_a_non_digest),
	    cmocka_unit_test(payload_round_trips),
	    cmocka_unit_test(payload_parse_refuses_what_it_cannot_trust),
	    cmocka_unit_test(bundle_v03_parses),
	    cmocka_unit_test(bundle_later_versions_parse),
	    cmocka_unit_test(bundle_refusals_say_why),
	    cmocka_unit_test(pae_is_dsse_v1),
	    cmocka_unit_test(statement_subject_must_name_the_digest),
	    cmocka_unit_test(signed_documents_read_one_way_only),
	    cmocka_unit_test(only_cosign_sign_statements_are_signatures),
	    cmocka_unit_test(signature_tags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
