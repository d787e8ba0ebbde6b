/* The documents a registry hands the signature verifier: simple-signing
 * payloads, Sigstore bundles and the in-toto statements inside them. Each
 * parser gets the same bytes; a payload that parses must rebuild, with
 * sl_cosign_payload_build, into a payload that parses to the same fields. */
#include "fuzz.h"
#include "sign/sign.h"

static void payload(const char *data, size_t len)
{
	struct sl_cosign_payload p;
	struct sl_error err = {0};
	int r = sl_cosign_payload_parse(data, len, &p, &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, err);
		return;
	}
	FUZZ_CHECK(p.docker_reference && p.manifest_digest && p.type);
	FUZZ_CHECK(!p.optional || json_is_object(p.optional));
	if (sl_digest_valid(p.manifest_digest)) {
		_cleanup_buf_ struct sl_buf out;
		sl_buf_init(&out, 0);
		struct sl_error berr = {0};
		r = sl_cosign_payload_build(p.docker_reference, p.manifest_digest, p.optional, &out,
		                            &berr);
		/* Non-string annotation values are refused by the builder. */
		if (r == 0) {
			struct sl_cosign_payload again;
			r = sl_cosign_payload_parse(out.data, out.len, &again, &berr);
			if (r < 0)
				fprintf(stderr, "fuzz: rebuilt payload does not parse: %s\n%s\n",
				        berr.msg, out.data);
			FUZZ_CHECK(r == 0);
			FUZZ_CHECK(strcmp(again.manifest_digest, p.manifest_digest) == 0);
			FUZZ_CHECK(strcmp(again.type, SL_COSIGN_PAYLOAD_TYPE) == 0);
			sl_cosign_payload_clear(&again);
		} else {
			FUZZ_CHECK_ERROR(r, berr);
		}
	}
	sl_cosign_payload_clear(&p);
	FUZZ_CHECK(p.docker_reference == NULL && p.optional == NULL);
}

static void bundle(const char *data, size_t len)
{
	struct sl_cosign_bundle b;
	struct sl_error err = {0};
	int r = sl_cosign_bundle_parse(data, len, &b, &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, err);
		return;
	}
	FUZZ_CHECK(b.media_type && b.payload_type);
	FUZZ_CHECK(b.n_signatures > 0 && b.n_signatures <= SL_MAX_SIGNATURES_PER_ARTIFACT);
	for (size_t i = 0; i < b.n_signatures; i++)
		FUZZ_CHECK(b.signatures[i] && b.signature_lens[i] > 0);
	_cleanup_buf_ struct sl_buf pae;
	sl_buf_init(&pae, 0);
	FUZZ_CHECK(sl_dsse_pae(b.payload_type, b.payload ? (const void *)b.payload : "",
	                       b.payload_len, &pae) == 0);
	FUZZ_CHECK(pae.len >= b.payload_len + 6);
	bool names = false;
	struct sl_error serr = {0};
	r = sl_intoto_names_digest(
	    b.payload ? (const void *)b.payload : "", b.payload_len,
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000", &names,
	    &serr);
	if (r < 0)
		FUZZ_CHECK_ERROR(r, serr);
	sl_cosign_bundle_clear(&b);
}

static void statement(const char *data, size_t len)
{
	bool names = true;
	struct sl_error err = {0};
	int r = sl_intoto_names_digest(
	    data, len, "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    &names, &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, err);
		FUZZ_CHECK(!names);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	json_object_seed(1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > SL_MAX_SIGNATURE_PAYLOAD_BYTES + 16)
		return 0;
	char *text = sl_xmalloc(size ? size : 1);
	memcpy(text, data, size);
	payload(text, size);
	bundle(text, size);
	statement(text, size);
	free(text);
	return 0;
}
