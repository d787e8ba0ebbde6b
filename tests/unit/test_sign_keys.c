/* cosign key files and signature primitives (sign/keys.c, spec §C.1): keys
 * sluice writes read back, keys and signatures real cosign wrote read and
 * verify, and every malformed input refused with a reason. Fixtures from
 * other tools were made once and are embedded: cosign v2.6.5
 * `generate-key-pair` and `sign-blob --tlog-upload=false` (password "pw"),
 * and the openssl 3.0 CLI (`genpkey`, `dgst -sha256 -sign`,
 * `pkeyutl -sign -rawin`). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "sign/sign.h"
#include "testlib.h"

/* What every signature fixture signs. */
static const char message[] = "sluice signs this";

/* cosign v2.6.5: COSIGN_PASSWORD=pw cosign generate-key-pair (N=65536). */
static const char cosign_key[] =
    "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
    "eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjo2NTUzNiwiciI6\n"
    "OCwicCI6MX0sInNhbHQiOiJ4bU9zNno1WTBneUkybGtDalRwOVRkQnlkSVRxL05t\n"
    "aGtKT3ZYbHZDc1RBPSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94\n"
    "Iiwibm9uY2UiOiJtVFNyN1FHeG52RTRBKzN0UlprWTEvRlkydStCQVh3ZyJ9LCJj\n"
    "aXBoZXJ0ZXh0IjoiR1dQMEgrTi9pMXFGa05HSVpob3h3MXdMOXhYbFZHWFJwSTl2\n"
    "ZE41MUtMb2dzUTRqc2hKbVVXMTluTk9FSXN2NnpXSG1YWkYySXA0VWgxQjdoUUhj\n"
    "NUtmS0NUdjd2dlVXY0RjLzFSQkgvd2NENkJWQjFOWU9IYlVUTFdsWlF3c2x5eFFL\n"
    "RGVNYzRmNHlzQWNGa25Eb1E2N0prVTJuUk5ibFlNTExERitFaTlrai8wNitER3E2\n"
    "SEptblFNTmdNTzZiKzNNUDJmN2QvSEMyZFE9PSJ9\n"
    "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
static const char cosign_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEELtNiahum9MRXBZN5/4UrhTJZkWB\n"
    "dHYnj9c0sEAW30ZAVjkuR5JAyBYMz1Eu5I3HJngjCDFvvDjjiXuzgCTJlQ==\n"
    "-----END PUBLIC KEY-----\n";
/* cosign sign-blob --key cosign.key --tlog-upload=false of message. */
static const char cosign_sig_b64[] =
    "MEQCICE9zHO+8fkwGFTH+0tI2/ukPUJdsfD8iLfd+VT41eFYAiAW14a4Z4uafHp/PuQgzupYiNHqNZPhEKnpvKgKfTr1"
    "fw==";
/* openssl pkey -pubin -in cosign.pub -outform DER | openssl dgst -sha256 -binary | base64 */
static const char cosign_pub_hint[] = "RKrEqH9325GOZFZKoj23od4PoMZSkDJDechoEmU9o0g=";

/* openssl genpkey RSA 2048; rsa -RSAPublicKey_out (PKCS#1) and pkey -pubout
 * (PKIX) of the same key; dgst -sha256 -sign of message. */
static const char rsa_pkcs1_pub[] =
    "-----BEGIN RSA PUBLIC KEY-----\n"
    "MIIBCgKCAQEAtPwRKP0pmnfCO87ao1WQ8TjApomy2T/cDOiMPYhp3Dds/X22IT9L\n"
    "pKfbIn9brikp/fbtG8p3Tza4s01qPgsdQtoktL0bUEGp8q4A1OdSI2c4o3SJ4/EQ\n"
    "HgxLuqrAEjVw3uljOAun6sQ6ZlCkWaaeq0Q5uMSCfdlFey36hbSv5p/GSP/yx/sH\n"
    "NUaRvweO9Oeqyh564aZv3GGCgycMciXU/356eFXIZmH3qG8KAbZthWnrDdDlLa/V\n"
    "7vWEtbmVgAVPfqfF01Rr8NkrWUvlbZ+D48uG5RcYOAKRIZEdgAsn8tUhhjpacUiF\n"
    "E4sCl78C0qBChUWbP9szqJSOLRmq1qQo1wIDAQAB\n"
    "-----END RSA PUBLIC KEY-----\n";
static const char rsa_spki_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtPwRKP0pmnfCO87ao1WQ\n"
    "8TjApomy2T/cDOiMPYhp3Dds/X22IT9LpKfbIn9brikp/fbtG8p3Tza4s01qPgsd\n"
    "QtoktL0bUEGp8q4A1OdSI2c4o3SJ4/EQHgxLuqrAEjVw3uljOAun6sQ6ZlCkWaae\n"
    "q0Q5uMSCfdlFey36hbSv5p/GSP/yx/sHNUaRvweO9Oeqyh564aZv3GGCgycMciXU\n"
    "/356eFXIZmH3qG8KAbZthWnrDdDlLa/V7vWEtbmVgAVPfqfF01Rr8NkrWUvlbZ+D\n"
    "48uG5RcYOAKRIZEdgAsn8tUhhjpacUiFE4sCl78C0qBChUWbP9szqJSOLRmq1qQo\n"
    "1wIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
static const char rsa_sig_b64[] =
    "HngYQINPG0Y7Ho/ZnbtC/LKwssEi+TW+Mnluq+At2r0a3PYzEJ01B/adVC7lDU5C4c3KrgI/j+SjXbJ/AUL6Kilnm4VT"
    "jk9EHGCckS8LhhQ4yUSF5msvnOv0qorqmt29cAigEMuATxsMvoVmJbolaaHLJ0ZPb3SfRtRhQcFelgdMgyzMdGn+c6Br"
    "cBDkVEGYR+7yeTTy1/YpNojuqoQ2rzlLbK2Ht0u6qWzg8YpJuP+cnQNDOgjWyn9LOrXwKYzHrN+5gWE5DPOAyLxVP2u1"
    "JhSGixJP6V1GVvr2pwXmOkEHoV60GhafwEst+r5kq8Otki0Y8bUkWZW5sWqpAQTJyQ==";

/* openssl genpkey ED25519; pkeyutl -sign -rawin of message; its PKCS#8. */
static const char ed25519_pub[] = "-----BEGIN PUBLIC KEY-----\n"
                                  "MCowBQYDK2VwAyEADILkjRJ64hxgDNDS8Y5SboHUjuFRKWSKBnnz57sXKRI=\n"
                                  "-----END PUBLIC KEY-----\n";
static const char ed25519_sig_b64[] =
    "rdZx1pO9iP3PmMYijeqQE7ppntXQLifECmr5ms32rpqmiaSAeAUz2Q9ekG6WG"
    "h+nX6VsgU96D4D4tQ0l+5auDg==";
static const char ed25519_pkcs8_b64[] =
    "MC4CAQAwBQYDK2VwBCIEIPMJaTCQMOImdEsRiWo6My4K05RM8TADZU9qOlA2Ri3M";

/* openssl genpkey EC P-384; dgst -sha256 -sign of message (cosign hashes
 * with SHA-256 whatever the curve). */
static const char p384_pub[] = "-----BEGIN PUBLIC KEY-----\n"
                               "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEJOSoLbBrQgDS7JrjWwQ2qvfCERE7ep9l\n"
                               "C81mpR3uOZj84LAACvI+OC0qitvWJduRBfMyBXFUeKpaXz2myULaPJlwA+l45s3u\n"
                               "a63k+kFxeGERfzSaxd1yTxNlQ4tk+2wT\n"
                               "-----END PUBLIC KEY-----\n";
static const char p384_sig_b64[] =
    "MGYCMQDp+41ZRbh7V12P+cTkHU2I3RFiS8K5SAgQUzMiLyG6cSteRNek1osdhvCx"
    "bdeGfnECMQDrT1FELAE0pyIQ7740zIAn34hWDUlTWNK3roSVZM9r95JdXE//VWd6"
    "CxMXdbDnC78=";
/* The same P-384 key with explicit curve parameters (openssl ec
 * -param_enc explicit): Go's x509 refuses it. */
static const char p384_explicit_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBzDCCAWQGByqGSM49AgEwggFXAgEBMDwGByqGSM49AQECMQD/////////////\n"
    "/////////////////////////////v////8AAAAAAAAAAP////8wewQw////////\n"
    "//////////////////////////////////7/////AAAAAAAAAAD////8BDCzMS+n\n"
    "4j7n5JiOBWvj+C0ZGB2cbv6BQRIDFAiPUBOHWsZWOY2KLtGdKoXI7dPsKu8DFQCj\n"
    "NZJqoxmieh0AiWpnc6SCes2scwRhBKqHyiK+iwU3jrHHHvMgrXRuHTtii6ebmFn3\n"
    "QeCCVCo4VQLyXb9VKWw6VF44cnYKtzYX3kqWJixvXZ6Yv5KS3Cn49B29KJoUfOna\n"
    "MRO18LjACmCxzh1+gZ16Qx18kOoOXwIxAP//////////////////////////////\n"
    "/8djTYH0Ny3fWBoNskiwp3rs7BlqzMUpcwIBAQNiAAQk5KgtsGtCANLsmuNbBDaq\n"
    "98IRETt6n2ULzWalHe45mPzgsAAK8j44LSqK29Yl25EF8zIFcVR4qlpfPabJQto8\n"
    "mXAD6Xjmze5rreT6QXF4YRF/NJrF3XJPE2VDi2T7bBM=\n"
    "-----END PUBLIC KEY-----\n";
/* The P-384 key with its point compressed (openssl ec -conv_form
 * compressed), and the RSA key without the NULL parameters its algorithm
 * identifier must carry: Go's x509 refuses both. */
static const char p384_compressed_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MEYwEAYHKoZIzj0CAQYFK4EEACIDMgADJOSoLbBrQgDS7JrjWwQ2qvfCERE7ep9l\n"
    "C81mpR3uOZj84LAACvI+OC0qitvWJduR\n"
    "-----END PUBLIC KEY-----\n";
static const char rsa_no_null_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIDALBgkqhkiG9w0BAQEDggEPADCCAQoCggEBALT8ESj9KZp3wjvO2qNVkPE4\n"
    "wKaJstk/3AzojD2Iadw3bP19tiE/S6Sn2yJ/W64pKf327RvKd082uLNNaj4LHULa\n"
    "JLS9G1BBqfKuANTnUiNnOKN0iePxEB4MS7qqwBI1cN7pYzgLp+rEOmZQpFmmnqtE\n"
    "ObjEgn3ZRXst+oW0r+afxkj/8sf7BzVGkb8HjvTnqsoeeuGmb9xhgoMnDHIl1P9+\n"
    "enhVyGZh96hvCgG2bYVp6w3Q5S2v1e71hLW5lYAFT36nxdNUa/DZK1lL5W2fg+PL\n"
    "huUXGDgCkSGRHYALJ/LVIYY6WnFIhROLApe/AtKgQoVFmz/bM6iUji0ZqtakKNcC\n"
    "AwEAAQ==\n"
    "-----END PUBLIC KEY-----\n";
/* openssl genpkey RSA 1024 and EC secp256k1: keys verifiers do not take. */
static const char rsa1024_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCx2ahHnl49S22PaJSUeHJ8vtlf\n"
    "Bh0ui+usoyeD3FwKlBRMoFfEoJHmQIpju9TmTaJioZfWr4xC0zmvyy8HZnZFmcC6\n"
    "vvkxFZMUXrBcDnz08Vi/C3z89+x3EUPxomJuDMrwLpyUuC7JQoQNBltDcNlU2Rxy\n"
    "XJsBxAIyw10h1BrMJQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
static const char secp256k1_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEY8TH8uzNQDaMlZdJEukc1rKk/zHiFNWu\n"
    "Y22kWXx+WsERNwXJnjSHJPTPzULAImw05T7IKBNbyUSgTxRWtXNUFQ==\n"
    "-----END PUBLIC KEY-----\n";

/* ---- helpers ------------------------------------------------------------- */

static struct sl_cosign_key *load_public(const char *pem)
{
	struct sl_cosign_key *k = NULL;
	struct sl_error err = {0};
	if (sl_cosign_key_load_public(pem, strlen(pem), &k, &err) != 0)
		fail_msg("loading public key: %s", err.msg);
	return k;
}

static struct sl_cosign_key *load_private(const char *pem, const char *password)
{
	struct sl_cosign_key *k = NULL;
	struct sl_error err = {0};
	if (sl_cosign_key_load_private(pem, strlen(pem), password, &k, &err) != 0)
		fail_msg("loading private key: %s", err.msg);
	return k;
}

static unsigned char *unbase64(const char *text, size_t *ret_len)
{
	char *bytes = NULL;
	ssize_t n = sl_base64_decode(text, &bytes);
	assert_true(n >= 0);
	*ret_len = (size_t)n;
	return tl_own(bytes);
}

static void assert_verifies(const struct sl_cosign_key *k, const char *sig_b64)
{
	size_t len = 0;
	unsigned char *sig = unbase64(sig_b64, &len);
	struct sl_error err = {0};
	if (sl_cosign_verify_bytes(k, message, strlen(message), sig, len, &err) != 0)
		fail_msg("verifying: %s", err.msg);
}

static char *export_private(const struct sl_cosign_key *k, const char *password)
{
	struct sl_buf out;
	sl_buf_init(&out, 0);
	struct sl_error err = {0};
	if (sl_cosign_key_export_private(k, password, &out, &err) != 0)
		fail_msg("exporting private key: %s", err.msg);
	return tl_own(sl_buf_steal(&out));
}

static char *export_public(const struct sl_cosign_key *k)
{
	struct sl_buf out;
	sl_buf_init(&out, 0);
	struct sl_error err = {0};
	if (sl_cosign_key_export_public(k, &out, &err) != 0)
		fail_msg("exporting public key: %s", err.msg);
	return tl_own(sl_buf_steal(&out));
}

/* The body of a PEM block, decoded (the JSON of a cosign.key). */
static char *pem_body(const char *pem)
{
	const char *body = strchr(pem, '\n') + 1;
	const char *end = strstr(body, "-----END ");
	assert_non_null(end);
	char *b64 = tl_own(calloc(1, (size_t)(end - body) + 1));
	size_t n = 0;
	for (const char *p = body; p < end; p++)
		if (*p != '\n')
			b64[n++] = *p;
	size_t len = 0;
	return (char *)unbase64(b64, &len);
}

/* A PEM block of type around bytes, 64 columns as Go writes it. */
static char *make_pem(const char *type, const void *bytes, size_t len)
{
	char *b64 = tl_own(sl_base64_encode(bytes, len));
	struct sl_buf out;
	sl_buf_init(&out, 0);
	sl_buf_printf(&out, "-----BEGIN %s-----\n", type);
	for (size_t i = 0; i < strlen(b64); i += 64)
		sl_buf_printf(&out, "%.64s\n", b64 + i);
	sl_buf_printf(&out, "-----END %s-----\n", type);
	return tl_own(sl_buf_steal(&out));
}

/* text with the first occurrence of from replaced by to. */
static char *replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	if (!at)
		fail_msg("'%s' not in '%s'", from, text);
	char *out = NULL;
	if (asprintf(&out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from)) < 0)
		abort();
	return tl_own(out);
}

/* A cosign.key around der, sealed the way go-securesystemslib does, built
 * here from libsodium directly (the primitives, through sluice's loader, not
 * keys.c): for DER and scrypt costs sluice itself never writes. */
static char *seal(const char *password, unsigned n, const void *der, size_t len)
{
	unsigned char salt[32], nonce[24], key[32];
	memset(salt, 7, sizeof(salt));
	memset(nonce, 9, sizeof(nonce));
	assert_int_equal(crypto_pwhash_scryptsalsa208sha256_ll((const uint8_t *)password,
	                                                       strlen(password), salt, sizeof(salt),
	                                                       n, 8, 1, key, sizeof(key)),
	                 0);
	unsigned char *box = tl_own(malloc(16 + len));
	assert_int_equal(crypto_secretbox_easy(box, der, len, nonce, key), 0);
	char *json = NULL;
	char *salt64 = tl_own(sl_base64_encode(salt, sizeof(salt)));
	char *nonce64 = tl_own(sl_base64_encode(nonce, sizeof(nonce)));
	char *box64 = tl_own(sl_base64_encode(box, 16 + len));
	if (asprintf(&json,
	             "{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":%u,\"r\":8,\"p\":1},"
	             "\"salt\":\"%s\"},\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"%s\"},"
	             "\"ciphertext\":\"%s\"}",
	             n, salt64, nonce64, box64) < 0)
		abort();
	tl_own(json);
	return make_pem(SL_COSIGN_PRIVATE_PEM_TYPE, json, strlen(json));
}

/* text with every "\n" turned into "\r\n". */
static char *crlf(const char *text)
{
	struct sl_buf out;
	sl_buf_init(&out, 0);
	for (const char *p = text; *p; p++)
		sl_buf_append(&out, *p == '\n' ? "\r\n" : p, *p == '\n' ? 2 : 1);
	return tl_own(sl_buf_steal(&out));
}

/* The DER the cosign fixture's box holds, opened with libsodium directly. */
static unsigned char *cosign_fixture_der(size_t *ret_len)
{
	json_error_t jerr;
	json_t *doc = json_loads(pem_body(cosign_key), 0, &jerr);
	assert_non_null(doc);
	size_t salt_len, nonce_len, box_len;
	unsigned char *salt = unbase64(
	    json_string_value(json_object_get(json_object_get(doc, "kdf"), "salt")), &salt_len);
	unsigned char *nonce =
	    unbase64(json_string_value(json_object_get(json_object_get(doc, "cipher"), "nonce")),
	             &nonce_len);
	unsigned char *box =
	    unbase64(json_string_value(json_object_get(doc, "ciphertext")), &box_len);
	json_decref(doc);
	unsigned char key[32];
	assert_int_equal(crypto_pwhash_scryptsalsa208sha256_ll((const uint8_t *)"pw", 2, salt,
	                                                       salt_len, 65536, 8, 1, key, 32),
	                 0);
	unsigned char *der = tl_own(malloc(box_len - 16));
	assert_int_equal(crypto_secretbox_open_easy(der, box, box_len, nonce, key), 0);
	*ret_len = box_len - 16;
	return der;
}

struct refusal {
	const char *name;
	const char *pem;
	int code;
	const char *says;
};

static void assert_public_refused(const struct refusal *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sl_cosign_key *k = (struct sl_cosign_key *)&k;
		struct sl_error err = {0};
		int r = sl_cosign_key_load_public(cases[i].pem, strlen(cases[i].pem), &k, &err);
		if (r != cases[i].code || !strstr(err.msg, cases[i].says))
			fail_msg("%s: got %d '%s', want %d '%s'", cases[i].name, r, err.msg,
			         cases[i].code, cases[i].says);
		/* nothing handed out on failure */
		assert_ptr_equal(k, (struct sl_cosign_key *)&k);
	}
}

static void assert_private_refused(const struct refusal *cases, size_t n, const char *password)
{
	for (size_t i = 0; i < n; i++) {
		struct sl_cosign_key *k = NULL;
		struct sl_error err = {0};
		int r = sl_cosign_key_load_private(cases[i].pem, strlen(cases[i].pem), password, &k,
		                                   &err);
		if (r != cases[i].code || !strstr(err.msg, cases[i].says))
			fail_msg("%s: got %d '%s', want %d '%s'", cases[i].name, r, err.msg,
			         cases[i].code, cases[i].says);
		assert_null(k);
	}
}

/* ---- keys sluice writes ---------------------------------------------------- */

static void generated_key_signs_and_verifies_through_its_files(void **state)
{
	(void)state;
	struct sl_cosign_key *k = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_key_generate(&k, &err), 0);
	char *key_pem = export_private(k, "correct horse");
	char *pub_pem = export_public(k);
	sl_cosign_key_free(k);

	struct sl_cosign_key *priv = load_private(key_pem, "correct horse");
	struct sl_buf sig;
	sl_buf_init(&sig, 0);
	assert_int_equal(sl_cosign_sign_bytes(priv, message, strlen(message), &sig, &err), 0);
	/* what the private key publishes is what was exported */
	assert_string_equal(export_public(priv), pub_pem);
	sl_cosign_key_free(priv);

	struct sl_cosign_key *pub = load_public(pub_pem);
	assert_int_equal(
	    sl_cosign_verify_bytes(pub, message, strlen(message), sig.data, sig.len, &err), 0);
	sl_cosign_key_free(pub);
	sl_buf_free(&sig);
}

static void wrong_password_is_eauth_and_never_echoed(void **state)
{
	(void)state;
	struct sl_cosign_key *k = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_key_generate(&k, &err), 0);
	char *pem = export_private(k, "s3cret-right");
	sl_cosign_key_free(k);

	k = NULL;
	int r = sl_cosign_key_load_private(pem, strlen(pem), "s3cret-wrong", &k, &err);
	assert_int_equal(r, SL_EAUTH);
	assert_string_equal(err.msg, "wrong password or corrupted key");
	assert_null(k);
}

static void empty_password_seals_and_opens(void **state)
{
	(void)state;
	struct sl_cosign_key *k = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_key_generate(&k, &err), 0);
	char *pem = export_private(k, "");
	sl_cosign_key_free(k);

	sl_cosign_key_free(load_private(pem, ""));
	k = NULL;
	assert_int_equal(sl_cosign_key_load_private(pem, strlen(pem), "x", &k, &err), SL_EAUTH);
	assert_null(k);
}

static void tampered_ciphertext_is_eauth(void **state)
{
	(void)state;
	struct sl_cosign_key *k = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_key_generate(&k, &err), 0);
	char *json = pem_body(export_private(k, "pw"));
	sl_cosign_key_free(k);

	/* flip one base64 digit in the middle of the ciphertext */
	char *ct = strstr(json, "\"ciphertext\":\"") + strlen("\"ciphertext\":\"") + 40;
	*ct = *ct == 'A' ? 'B' : 'A';
	char *pem = make_pem(SL_COSIGN_PRIVATE_PEM_TYPE, json, strlen(json));
	k = NULL;
	assert_int_equal(sl_cosign_key_load_private(pem, strlen(pem), "pw", &k, &err), SL_EAUTH);
	assert_string_equal(err.msg, "wrong password or corrupted key");
}

static void export_writes_the_json_go_writes(void **state)
{
	(void)state;
	struct sl_cosign_key *k = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_key_generate(&k, &err), 0);
	char *json = pem_body(export_private(k, "pw"));
	sl_cosign_key_free(k);

	/* Field order and spacing of Go's encoding/json on
	 * go-securesystemslib's struct, as in the cosign fixture. */
	static const char head[] = "{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":32768,\"r\":8,"
	                           "\"p\":1},\"salt\":\"";
	assert_true(sl_startswith(json, head));
	assert_non_null(strstr(json, "\"},\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\""));
	assert_non_null(strstr(json, "\"},\"ciphertext\":\""));
	assert_true(sl_endswith(json, "\"}"));
	assert_null(strchr(json, ' '));
	assert_null(strchr(json, '\n'));

	json_error_t jerr;
	json_t *doc = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	assert_non_null(doc);
	json_t *kdf = json_object_get(doc, "kdf"), *cipher = json_object_get(doc, "cipher");
	assert_int_equal(json_object_size(doc), 3);
	assert_int_equal(json_object_size(kdf), 3);
	assert_int_equal(json_object_size(cipher), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(kdf, "params"), "N")),
	                 SL_COSIGN_SCRYPT_N);
	size_t salt_len, nonce_len, ct_len;
	unbase64(json_string_value(json_object_get(kdf, "salt")), &salt_len);
	unbase64(json_string_value(json_object_get(cipher, "nonce")), &nonce_len);
	unbase64(json_string_value(json_object_get(doc, "ciphertext")), &ct_len);
	json_decref(doc);
	assert_int_equal(salt_len, 32);
	assert_int_equal(nonce_len, 24);
	/* tag + PKCS#8 of a P-256 key: the size cosign's own box has */
	size_t fixture_len = 0;
	cosign_fixture_der(&fixture_len);
	assert_int_equal(ct_len, 16 + fixture_len);
}

/* Go's encoding/pem: BEGIN line, base64 lines of exactly 64 columns but the
 * last, END line, a final newline, nothing else. */
static void assert_go_pem_layout(const char *pem, const char *type)
{
	char begin[128], end[128];
	snprintf(begin, sizeof(begin), "-----BEGIN %s-----\n", type);
	snprintf(end, sizeof(end), "-----END %s-----\n", type);
	assert_true(sl_startswith(pem, begin));
	assert_true(sl_endswith(pem, end));
	assert_null(strchr(pem, '\r'));
	const char *p = pem + strlen(begin);
	const char *stop = pem + strlen(pem) - strlen(end);
	size_t lines = 0;
	while (p < stop) {
		const char *nl = strchr(p, '\n');
		size_t len = (size_t)(nl - p);
		if (nl + 1 < stop)
			assert_int_equal(len, 64);
		else
			assert_true(len > 0 && len <= 64);
		p = nl + 1;
		lines++;
	}
	assert_true(lines > 1);
}

static void export_writes_pem_as_go_does(void **state)
{
	(void)state;
	struct sl_cosign_key *k = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_key_generate(&k, &err), 0);
	assert_go_pem_layout(export_private(k, "pw"), SL_COSIGN_PRIVATE_PEM_TYPE);
	assert_go_pem_layout(export_public(k), "PUBLIC KEY");
	sl_cosign_key_free(k);
	/* and byte for byte what cosign wrote for its own key */
	k = load_public(cosign_pub);
	assert_string_equal(export_public(k), cosign_pub);
	sl_cosign_key_free(k);
}

static void exports_are_fresh_each_time(void **state)
{
	(void)state;
	struct sl_cosign_key *a = NULL, *b = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_key_generate(&a, &err), 0);
	assert_int_equal(sl_cosign_key_generate(&b, &err), 0);
	assert_string_not_equal(export_public(a), export_public(b));
	/* a new salt and nonce per export */
	assert_string_not_equal(export_private(a, "pw"), export_private(a, "pw"));
	sl_cosign_key_free(a);
	sl_cosign_key_free(b);
}

static void public_key_cannot_sign_or_export_private(void **state)
{
	(void)state;
	struct sl_cosign_key *k = load_public(cosign_pub);
	struct sl_buf out;
	sl_buf_init(&out, 0);
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_sign_bytes(k, "x", 1, &out, &err), SL_EINVAL);
	assert_int_equal(out.len, 0);
	assert_int_equal(sl_cosign_key_export_private(k, "pw", &out, &err), SL_EINVAL);
	assert_int_equal(out.len, 0);
	sl_cosign_key_free(k);
	sl_buf_free(&out);
}

/* ---- keys and signatures cosign wrote -------------------------------------- */

static void cosign_key_loads_with_its_password_and_signs(void **state)
{
	(void)state;
	struct sl_cosign_key *priv = load_private(cosign_key, "pw");
	assert_string_equal(export_public(priv), cosign_pub);
	struct sl_buf sig;
	sl_buf_init(&sig, 0);
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_sign_bytes(priv, message, strlen(message), &sig, &err), 0);
	sl_cosign_key_free(priv);

	struct sl_cosign_key *pub = load_public(cosign_pub);
	assert_int_equal(
	    sl_cosign_verify_bytes(pub, message, strlen(message), sig.data, sig.len, &err), 0);
	sl_buf_free(&sig);
	/* cosign's own signature of the same message */
	assert_verifies(pub, cosign_sig_b64);
	sl_cosign_key_free(pub);

	struct sl_cosign_key *k = NULL;
	assert_int_equal(sl_cosign_key_load_private(cosign_key, strlen(cosign_key), "PW", &k, &err),
	                 SL_EAUTH);
}

static void signature_over_other_data_does_not_verify(void **state)
{
	(void)state;
	struct sl_cosign_key *pub = load_public(cosign_pub);
	size_t len = 0;
	unsigned char *sig = unbase64(cosign_sig_b64, &len);
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_verify_bytes(pub, "sluice signs that", 17, sig, len, &err),
	                 SL_EINVAL);
	assert_string_equal(err.msg, "signature does not verify");
	/* malformed signatures are just as wrong */
	assert_int_equal(sl_cosign_verify_bytes(pub, message, strlen(message), sig, len - 1, &err),
	                 SL_EINVAL);
	assert_string_equal(err.msg, "signature does not verify");
	assert_int_equal(sl_cosign_verify_bytes(pub, message, strlen(message), "", 0, &err),
	                 SL_EINVAL);
	assert_int_equal(sl_cosign_verify_bytes(pub, message, strlen(message), "\x30\x00", 2, &err),
	                 SL_EINVAL);
	sig[10] ^= 1;
	assert_int_equal(sl_cosign_verify_bytes(pub, message, strlen(message), sig, len, &err),
	                 SL_EINVAL);
	/* another key's signature */
	struct sl_cosign_key *other = load_public(p384_pub);
	sig[10] ^= 1;
	assert_int_equal(sl_cosign_verify_bytes(other, message, strlen(message), sig, len, &err),
	                 SL_EINVAL);
	sl_cosign_key_free(other);
	sl_cosign_key_free(pub);
}

static void hint_is_base64_sha256_of_the_spki(void **state)
{
	(void)state;
	struct sl_cosign_key *pub = load_public(cosign_pub);
	struct sl_cosign_key *priv = load_private(cosign_key, "pw");
	char *hint = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_key_hint(pub, &hint, &err), 0);
	assert_string_equal(tl_own(hint), cosign_pub_hint);
	assert_int_equal(sl_cosign_key_hint(priv, &hint, &err), 0);
	assert_string_equal(tl_own(hint), cosign_pub_hint);
	sl_cosign_key_free(pub);
	sl_cosign_key_free(priv);
}

static void legacy_pem_type_and_every_scrypt_cost_load(void **state)
{
	(void)state;
	/* cosign < 2.0.1 wrote "ENCRYPTED COSIGN PRIVATE KEY" */
	char *legacy = replace(replace(cosign_key, "SIGSTORE", "COSIGN"), "SIGSTORE", "COSIGN");
	sl_cosign_key_free(load_private(legacy, "pw"));
	size_t len = 0;
	unsigned char *der = cosign_fixture_der(&len);
	static const unsigned costs[] = {32768, 65536, 131072};
	for (size_t i = 0; i < SL_ARRAY_SIZE(costs); i++) {
		struct sl_cosign_key *k = load_private(seal("pw", costs[i], der, len), "pw");
		assert_string_equal(export_public(k), cosign_pub);
		sl_cosign_key_free(k);
	}
}

/* ---- other public keys ------------------------------------------------------ */

static void rsa_pkcs1_and_pkix_keys_verify_openssl_signature(void **state)
{
	(void)state;
	struct sl_cosign_key *k = load_public(rsa_pkcs1_pub);
	assert_verifies(k, rsa_sig_b64);
	/* exported as PKIX, like cosign public-key does */
	assert_string_equal(export_public(k), rsa_spki_pub);
	sl_cosign_key_free(k);
	k = load_public(rsa_spki_pub);
	assert_verifies(k, rsa_sig_b64);
	sl_cosign_key_free(k);
}

static void ed25519_key_verifies_the_message_itself(void **state)
{
	(void)state;
	struct sl_cosign_key *k = load_public(ed25519_pub);
	assert_verifies(k, ed25519_sig_b64);
	size_t len = 0;
	unsigned char *sig = unbase64(ed25519_sig_b64, &len);
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_verify_bytes(k, message, strlen(message) - 1, sig, len, &err),
	                 SL_EINVAL);
	sl_cosign_key_free(k);
}

static void p384_key_verifies_sha256_signature(void **state)
{
	(void)state;
	struct sl_cosign_key *k = load_public(p384_pub);
	assert_verifies(k, p384_sig_b64);
	sl_cosign_key_free(k);
}

/* ---- refusals --------------------------------------------------------------- */

static void malformed_public_pems_are_einval(void **state)
{
	(void)state;
	static const char truncated[] =
	    "-----BEGIN PUBLIC KEY-----\n"
	    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEELtNiahum9MRXBZN5/4UrhTJZkWB\n"
	    "-----END PUBLIC KEY-----\n";
	char *trailing = replace(cosign_pub, "lQ==", "lQAA");
	const struct refusal cases[] = {
	    {"empty", "", SL_EINVAL, "no PEM block found"},
	    {"no BEGIN", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n", SL_EINVAL, "no PEM block found"},
	    {"BEGIN not at a line start", " -----BEGIN PUBLIC KEY-----\nAAAA\n", SL_EINVAL,
	     "no PEM block found"},
	    {"certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	     SL_EINVAL, "PEM type CERTIFICATE is not a public key"},
	    {"private key", cosign_key, SL_EINVAL,
	     "PEM type ENCRYPTED SIGSTORE PRIVATE KEY is a private key"},
	    {"bad base64", "-----BEGIN PUBLIC KEY-----\nMFkw*wYH\n-----END PUBLIC KEY-----\n",
	     SL_EINVAL, "malformed base64"},
	    {"unpadded base64", "-----BEGIN PUBLIC KEY-----\nMFkwE\n-----END PUBLIC KEY-----\n",
	     SL_EINVAL, "malformed base64"},
	    {"empty body", "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n", SL_EINVAL,
	     "is empty"},
	    {"truncated DER", truncated, SL_EINVAL, "malformed DER SubjectPublicKeyInfo"},
	    {"trailing DER bytes", trailing, SL_EINVAL, "after the DER SubjectPublicKeyInfo"},
	    {"not DER at all", "-----BEGIN PUBLIC KEY-----\naGVsbG8=\n-----END PUBLIC KEY-----\n",
	     SL_EINVAL, "malformed DER"},
	    {"PKCS#1 that is not",
	     "-----BEGIN RSA PUBLIC KEY-----\naGVsbG8=\n"
	     "-----END RSA PUBLIC KEY-----\n",
	     SL_EINVAL, "malformed DER PKCS#1"},
	    {"no END", "-----BEGIN PUBLIC KEY-----\nAAAA\n", SL_EINVAL, "has no END line"},
	    {"END of another type", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	     SL_EINVAL, "does not end with its END line"},
	    {"BEGIN without dashes", "-----BEGIN PUBLIC KEY\nAAAA\n-----END PUBLIC KEY-----\n",
	     SL_EINVAL, "malformed PEM BEGIN line"},
	    {"headers",
	     "-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n"
	     "-----END PUBLIC KEY-----\n",
	     SL_EINVAL, "has headers"},
	    {"explicit curve parameters", p384_explicit_pub, SL_EINVAL, "explicit curve"},
	    {"compressed point", p384_compressed_pub, SL_EINVAL, "compressed"},
	    {"RSA without NULL parameters", rsa_no_null_pub, SL_EINVAL, "not in the form"},
	};
	assert_public_refused(cases, SL_ARRAY_SIZE(cases));

	/* a second block makes the file ambiguous, whatever it is */
	char *two = tl_own(sl_asprintf("%s%s", cosign_pub, cosign_key));
	char *twice = tl_own(sl_asprintf("%s%s", cosign_pub, rsa_spki_pub));
	const struct refusal more[] = {
	    {"public then private", two, SL_EINVAL,
	     "more than one PEM block: ENCRYPTED SIGSTORE PRIVATE KEY after PUBLIC KEY"},
	    {"two public keys", twice, SL_EINVAL, "more than one PEM block"},
	};
	assert_public_refused(more, SL_ARRAY_SIZE(more));

	/* text around the one block is ignored, as Go's pem.Decode does */
	char *commented =
	    tl_own(sl_asprintf("# the signing key\r\n%s\ntrailing words\n", crlf(cosign_pub)));
	sl_cosign_key_free(load_public(commented));
}

static void unsupported_public_keys_are_refused(void **state)
{
	(void)state;
	const struct refusal cases[] = {
	    {"RSA 1024", rsa1024_pub, SL_EUNSUPPORTED, "RSA key of 1024 bits"},
	    {"secp256k1", secp256k1_pub, SL_EUNSUPPORTED, "unsupported ECDSA curve secp256k1"},
	};
	assert_public_refused(cases, SL_ARRAY_SIZE(cases));
}

static void oversized_key_file_is_elimit(void **state)
{
	(void)state;
	size_t len = SL_MAX_KEY_FILE_BYTES + 1;
	char *big = tl_own(malloc(len));
	memset(big, '\n', len);
	memcpy(big, cosign_pub, strlen(cosign_pub));
	struct sl_cosign_key *k = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_key_load_public(big, len, &k, &err), SL_ELIMIT);
	assert_int_equal(sl_cosign_key_load_private(big, len, "pw", &k, &err), SL_ELIMIT);
	assert_null(k);
}

static void malformed_private_keys_are_refused_naming_what(void **state)
{
	(void)state;
	struct sl_cosign_key *k = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_cosign_key_generate(&k, &err), 0);
	char *json = pem_body(export_private(k, "pw"));
	sl_cosign_key_free(k);
#define SEALED(from, to)                                                                           \
	({                                                                                         \
		char *_j = replace(json, from, to);                                                \
		make_pem(SL_COSIGN_PRIVATE_PEM_TYPE, _j, strlen(_j));                              \
	})
	const char *nonce = strstr(json, "\"nonce\":\"") + strlen("\"nonce\":\"");
	char *nonce_18 = tl_own(sl_strndup(nonce, 24)); /* 18 of the 24 bytes */
	char *nonce_24 = tl_own(sl_strndup(nonce, 32));
	const struct refusal cases[] = {
	    {"public key", cosign_pub, SL_EINVAL,
	     "PEM type PUBLIC KEY is not a cosign private key"},
	    {"unencrypted", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	     SL_EINVAL, "PEM type PRIVATE KEY is not a cosign private key"},
	    {"not JSON", make_pem(SL_COSIGN_PRIVATE_PEM_TYPE, "{\"kdf\":", 7), SL_EINVAL,
	     "not JSON"},
	    {"not an object", make_pem(SL_COSIGN_PRIVATE_PEM_TYPE, "[]", 2), SL_EINVAL,
	     "not a JSON object"},
	    {"kdf", SEALED("\"name\":\"scrypt\"", "\"name\":\"argon2\""), SL_EUNSUPPORTED,
	     "unsupported kdf argon2"},
	    {"N", SEALED("\"N\":32768", "\"N\":16384"), SL_EUNSUPPORTED,
	     "unsupported scrypt parameters N=16384 r=8 p=1"},
	    {"r", SEALED("\"r\":8", "\"r\":16"), SL_EUNSUPPORTED, "N=32768 r=16 p=1"},
	    {"p", SEALED("\"p\":1", "\"p\":2"), SL_EUNSUPPORTED, "N=32768 r=8 p=2"},
	    {"N as a float", SEALED("\"N\":32768", "\"N\":32768.0"), SL_EINVAL,
	     "must hold the integers N, r and p"},
	    {"salt", SEALED("\"salt\":\"", "\"salt\":\"!"), SL_EINVAL, "kdf.salt is not base64"},
	    {"cipher", SEALED("nacl/secretbox", "aes-gcm"), SL_EUNSUPPORTED,
	     "unsupported cipher aes-gcm"},
	    {"nonce size", SEALED(nonce_24, nonce_18), SL_EINVAL, "cipher.nonce has 18 bytes"},
	    {"nonce missing", SEALED("\"nonce\"", "\"Nonce\""), SL_EINVAL,
	     "cipher.nonce is missing"},
	    {"ciphertext", SEALED("\"ciphertext\"", "\"plaintext\""), SL_EINVAL,
	     "ciphertext is missing"},
	    {"duplicate field", SEALED("{\"kdf\"", "{\"cipher\":{},\"kdf\""), SL_EINVAL,
	     "not JSON"},
	};
#undef SEALED
	assert_private_refused(cases, SL_ARRAY_SIZE(cases), "pw");

	/* The box opens, but what it holds is not a key sluice signs with. */
	size_t ed_len = 0;
	unsigned char *ed = unbase64(ed25519_pkcs8_b64, &ed_len);
	const struct refusal sealed[] = {
	    {"Ed25519", seal("pw", 32768, ed, ed_len), SL_EUNSUPPORTED,
	     "unsupported private key type ED25519"},
	    {"not PKCS#8", seal("pw", 32768, "hello", 5), SL_EINVAL, "not DER PKCS#8"},
	};
	assert_private_refused(sealed, SL_ARRAY_SIZE(sealed), "pw");
}

/* What a test handed to tl_own, freed whether it passed or not. */
static int free_owned(void **state)
{
	(void)state;
	tl_free_owned();
	return 0;
}

int main(void)
{
#define T(f) cmocka_unit_test_teardown(f, free_owned)
	const struct CMUnitTest tests[] = {
	    T(generated_key_signs_and_verifies_through_its_files),
	    T(wrong_password_is_eauth_and_never_echoed),
	    T(empty_password_seals_and_opens),
	    T(tampered_ciphertext_is_eauth),
	    T(export_writes_the_json_go_writes),
	    T(export_writes_pem_as_go_does),
	    T(exports_are_fresh_each_time),
	    T(public_key_cannot_sign_or_export_private),
	    T(cosign_key_loads_with_its_password_and_signs),
	    T(signature_over_other_data_does_not_verify),
	    T(hint_is_base64_sha256_of_the_spki),
	    T(legacy_pem_type_and_every_scrypt_cost_load),
	    T(rsa_pkcs1_and_pkix_keys_verify_openssl_signature),
	    T(ed25519_key_verifies_the_message_itself),
	    T(p384_key_verifies_sha256_signature),
	    T(malformed_public_pems_are_einval),
	    T(unsupported_public_keys_are_refused),
	    T(oversized_key_file_is_elimit),
	    T(malformed_private_keys_are_refused_naming_what),
	};
#undef T
	return cmocka_run_group_tests_name("sign_keys", tests, NULL, NULL);
}
