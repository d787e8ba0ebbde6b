/* sl_docker_config_lookup: a docker config.json (auths, credHelpers,
 * credsStore) looked up for the keys sluice asks for: a registry host, a
 * repository, and Docker Hub's legacy URL key. */
#include "fuzz.h"
#include "oci/oci.h"

static const char *const keys[] = {
    "ghcr.io",
    "ghcr.io/org/app",
    "https://index.docker.io/v1/",
    "127.0.0.1:5000",
};

static bool valid_helper_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_' || ch == '.';
}

static void lookup(const char *text, size_t len, const char *key)
{
	struct sl_creds c;
	char *helper = (char *)"sentinel";
	struct sl_error err = {0};
	int r = sl_docker_config_lookup(text, len, key, &c, &helper, &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, err);
		/* nothing handed out on failure */
		FUZZ_CHECK(helper == NULL);
		FUZZ_CHECK(!c.username && !c.password && !c.identity_token && !c.registry_token);
		return;
	}
	FUZZ_CHECK(r == 0);
	if (helper) {
		/* the name becomes part of a program name run from PATH */
		FUZZ_CHECK(*helper);
		for (const char *p = helper; *p; p++)
			FUZZ_CHECK(valid_helper_char(*p));
		FUZZ_CHECK(sl_creds_empty(&c));
	}
	if (c.username)
		FUZZ_CHECK(c.password != NULL);
	free(helper);
	sl_creds_clear(&c);
	FUZZ_CHECK(sl_creds_empty(&c));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	json_object_seed(1); /* deterministic iteration order over "auths" */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > SL_MAX_DOCKER_CONFIG_BYTES)
		return 0;
	/* Exactly size bytes, not NUL-terminated: a parser reading past len
	 * trips ASan. */
	char *text = sl_xmalloc(size ? size : 1);
	memcpy(text, data, size);
	for (size_t i = 0; i < SL_ARRAY_SIZE(keys); i++)
		lookup(text, size, keys[i]);
	free(text);
	return 0;
}
