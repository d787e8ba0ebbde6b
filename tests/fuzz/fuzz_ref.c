/* sl_oci_ref_parse: any text after "oci://" (and the raw text, which must be
 * refused unless it carries the scheme itself). A parsed reference must be
 * complete, and printing it back in canonical form must parse to itself. */
#include "fuzz.h"
#include "oci/oci.h"

static bool nonempty(const char *s)
{
	return s && *s;
}

static void check_canonical(const struct sl_oci_ref *ref)
{
	_cleanup_free_ char *name = sl_oci_ref_repo_name(ref);
	FUZZ_CHECK(name != NULL);
	_cleanup_free_ char *url = ref->digest ? sl_asprintf("oci://%s@%s", name, ref->digest)
	                                       : sl_asprintf("oci://%s:%s", name, ref->tag);
	struct sl_oci_ref again;
	struct sl_error err = {0};
	int r = sl_oci_ref_parse(url, &again, &err);
	if (r < 0)
		fprintf(stderr, "fuzz: canonical form %s does not parse: %s\n", url, err.msg);
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(strcmp(again.registry, ref->registry) == 0);
	FUZZ_CHECK(strcmp(again.repository, ref->repository) == 0);
	FUZZ_CHECK(strcmp(sl_oci_ref_reference(&again), sl_oci_ref_reference(ref)) == 0);
	sl_oci_ref_clear(&again);
}

static void parse_one(const char *url, bool may_succeed)
{
	struct sl_oci_ref ref, sentinel;
	memset(&ref, 0xa5, sizeof(ref));
	memcpy(&sentinel, &ref, sizeof(ref));
	struct sl_error err = {0};
	int r = sl_oci_ref_parse(url, &ref, &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, err);
		/* ret is never clobbered on failure */
		FUZZ_CHECK(memcmp(&ref, &sentinel, sizeof(ref)) == 0);
		return;
	}
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(may_succeed);
	FUZZ_CHECK(nonempty(ref.registry));
	FUZZ_CHECK(nonempty(ref.repository));
	FUZZ_CHECK(nonempty(ref.tag) || nonempty(ref.digest));
	FUZZ_CHECK(ref.text != NULL && strcmp(ref.text, url + strlen("oci://")) == 0);
	FUZZ_CHECK(nonempty(sl_oci_ref_reference(&ref)));
	if (ref.digest)
		FUZZ_CHECK(sl_digest_valid(ref.digest));
	FUZZ_CHECK(ref.repository[0] != '/' && !strstr(ref.repository, "//"));
	check_canonical(&ref);
	sl_oci_ref_clear(&ref);
	FUZZ_CHECK(ref.registry == NULL && ref.text == NULL);
	sl_oci_ref_clear(&ref); /* clearing twice is harmless */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	_cleanup_free_ char *raw = fuzz_cstr(data, size);
	_cleanup_free_ char *url = sl_asprintf("oci://%s", raw);
	parse_one(url, true);
	parse_one(raw, sl_startswith(raw, "oci://"));
	return 0;
}
