/* sl_auth_challenge_parse: a WWW-Authenticate header value as a registry
 * (or anything posing as one) might send it. */
#include <ctype.h>

#include "fuzz.h"
#include "oci/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	_cleanup_free_ char *header = fuzz_cstr(data, size);
	struct sl_auth_challenge c, sentinel;
	memset(&c, 0x5a, sizeof(c));
	memcpy(&sentinel, &c, sizeof(c));
	struct sl_error err = {0};
	int r = sl_auth_challenge_parse(header, &c, &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, err);
		FUZZ_CHECK(memcmp(&c, &sentinel, sizeof(c)) == 0);
		return 0;
	}
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(c.scheme && *c.scheme);
	for (const char *p = c.scheme; *p; p++) {
		FUZZ_CHECK(!isupper((unsigned char)*p));
		FUZZ_CHECK(*p != ' ' && *p != '\t' && *p != ',');
	}
	/* Every parameter came out of the header, so none can be longer. */
	const char *params[] = {c.realm, c.service, c.scope, c.error};
	for (size_t i = 0; i < SL_ARRAY_SIZE(params); i++)
		FUZZ_CHECK(!params[i] || strlen(params[i]) <= strlen(header));
	sl_auth_challenge_clear(&c);
	FUZZ_CHECK(!c.scheme && !c.realm && !c.service && !c.scope && !c.error);
	return 0;
}
