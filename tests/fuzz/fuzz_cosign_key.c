/* sl_cosign_key_load_public and sl_cosign_key_load_private: a key file a
 * user or a Secret hands sluice, read with one fixed password. Each is our
 * own PEM reader, then DER (OpenSSL) or the encrypted key's JSON. A public
 * key that loads must write out and read back to itself; a private key that
 * opens must sign what its public half verifies. */
#include "fuzz.h"
#include "sign/sign.h"

/* The seeds' password; it is never compared with anything, so the fuzzer
 * cannot learn it, and no message may ever contain it. */
static const char password[] = "fuzz\x01password";
static const char message[] = "sluice signs this";

/* A failed load says why and hands nothing out. */
static void check_failure(int r, const struct sl_error *err, const struct sl_cosign_key *k,
                          const struct sl_cosign_key *sentinel)
{
	FUZZ_CHECK_ERROR(r, *err);
	FUZZ_CHECK(k == sentinel);
	FUZZ_CHECK(strstr(err->msg, password) == NULL);
}

static char *export_public(const struct sl_cosign_key *k)
{
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, SL_MAX_KEY_FILE_BYTES);
	struct sl_error err = {0};
	int r = sl_cosign_key_export_public(k, &out, &err);
	if (r < 0)
		fprintf(stderr, "fuzz: exporting a loaded key: %s\n", err.msg);
	FUZZ_CHECK(r == 0);
	return sl_buf_steal(&out);
}

static void check_public(const char *text, size_t size)
{
	static struct sl_cosign_key *const sentinel = (struct sl_cosign_key *)&sentinel;
	struct sl_cosign_key *k = sentinel;
	struct sl_error err = {0};
	int r = sl_cosign_key_load_public(text, size, &k, &err);
	if (r < 0) {
		check_failure(r, &err, k, sentinel);
		return;
	}
	FUZZ_CHECK(r == 0 && k != NULL && k != sentinel);

	/* written out, read back, written out again: the same text */
	_cleanup_free_ char *once = export_public(k);
	_cleanup_cosign_key_ struct sl_cosign_key *again = NULL;
	r = sl_cosign_key_load_public(once, strlen(once), &again, &err);
	if (r < 0)
		fprintf(stderr, "fuzz: exported key does not load: %s\n", err.msg);
	FUZZ_CHECK(r == 0);
	_cleanup_free_ char *twice = export_public(again);
	FUZZ_CHECK(strcmp(once, twice) == 0);

	_cleanup_free_ char *hint = NULL;
	FUZZ_CHECK(sl_cosign_key_hint(k, &hint, &err) == 0 && hint && *hint);
	/* the input itself is no signature of the message */
	FUZZ_CHECK(sl_cosign_verify_bytes(k, message, strlen(message), text, size, &err) ==
	           SL_EINVAL);
	struct sl_buf sig;
	sl_buf_init(&sig, 0);
	FUZZ_CHECK(sl_cosign_sign_bytes(k, message, strlen(message), &sig, &err) == SL_EINVAL);
	sl_buf_free(&sig);
	sl_cosign_key_free(k);
}

static void check_private(const char *text, size_t size)
{
	static struct sl_cosign_key *const sentinel = (struct sl_cosign_key *)&sentinel;
	struct sl_cosign_key *k = sentinel;
	struct sl_error err = {0};
	int r = sl_cosign_key_load_private(text, size, password, &k, &err);
	if (r < 0) {
		check_failure(r, &err, k, sentinel);
		return;
	}
	FUZZ_CHECK(r == 0 && k != NULL && k != sentinel);

	_cleanup_buf_ struct sl_buf sig;
	sl_buf_init(&sig, 0);
	FUZZ_CHECK(sl_cosign_sign_bytes(k, message, strlen(message), &sig, &err) == 0);
	_cleanup_free_ char *pub_text = export_public(k);
	_cleanup_cosign_key_ struct sl_cosign_key *pub = NULL;
	FUZZ_CHECK(sl_cosign_key_load_public(pub_text, strlen(pub_text), &pub, &err) == 0);
	FUZZ_CHECK(sl_cosign_verify_bytes(pub, message, strlen(message), sig.data, sig.len, &err) ==
	           0);
	sl_cosign_key_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Exactly size bytes, not NUL-terminated: a reader going past len
	 * trips ASan. Past the cap both refuse before reading. */
	if (size > SL_MAX_KEY_FILE_BYTES + 1)
		return 0;
	char *text = sl_xmalloc(size ? size : 1);
	memcpy(text, data, size);
	check_public(text, size);
	check_private(text, size);
	free(text);
	return 0;
}
