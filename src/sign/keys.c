/* cosign's key files and the raw signature primitives: see sign.h, and spec
 * §C.1 for the file formats. The encrypted private key is what
 * go-securesystemslib's encrypted.Encrypt writes (cosign's
 * pkg/cosign/keys.go), byte for byte; PEM is read by our own small reader
 * and written the way Go's encoding/pem writes it. */
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <string.h>

#include "base/crypto_loader.h"
#include "sign/sign.h"
#include "sign/sodium_loader.h"

struct sl_cosign_key {
	EVP_PKEY *pkey;
	bool is_private;
	bool ed25519; /* signs the message itself, not its SHA-256 */
};

/* go-securesystemslib's encrypted package: a 32-byte salt, scrypt with r=8,
 * p=1 into a 32-byte secretbox key, a 24-byte nonce. */
#define SALT_BYTES     32
#define SCRYPT_R       8
#define SCRYPT_P       1
#define KDF_NAME       "scrypt"
#define CIPHER_NAME    "nacl/secretbox"
#define PUBLIC_PEM     "PUBLIC KEY"
#define RSA_PUBLIC_PEM "RSA PUBLIC KEY"
/* Longest PEM type we name in a message; real ones are under 32. */
#define PEM_TYPE_MAX 64
/* Larger RSA keys only cost time: OpenSSL refuses them too. */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384

static const char *const wrong_password = "wrong password or corrupted key";

/* ---- ownership ----------------------------------------------------------- */

static void evp_pkey_freep(EVP_PKEY **p)
{
	if (*p)
		EVP_PKEY_free(*p);
}

static void evp_pkey_ctx_freep(EVP_PKEY_CTX **p)
{
	if (*p)
		EVP_PKEY_CTX_free(*p);
}

static void evp_md_ctx_freep(EVP_MD_CTX **p)
{
	if (*p)
		EVP_MD_CTX_free(*p);
}

static void pkcs8_freep(PKCS8_PRIV_KEY_INFO **p)
{
	if (*p)
		PKCS8_PRIV_KEY_INFO_free(*p);
}

/* Heap bytes that hold a secret (a private key's DER): zeroed, then freed. */
struct secret {
	unsigned char *data;
	size_t len;
};

static void secret_clear(struct secret *s)
{
	if (s->data) {
		sodium_memzero(s->data, s->len);
		free(s->data);
	}
	*s = (struct secret){0};
}

static void wipe_key(unsigned char (*key)[crypto_secretbox_KEYBYTES])
{
	sodium_memzero(*key, sizeof(*key));
}

/* ---- errors -------------------------------------------------------------- */

/* Sets the message, with the reason OpenSSL queued appended when there is
 * one, and empties the queue so the next failure does not inherit it. */
static int openssl_fail(struct sl_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int openssl_fail(struct sl_error *err, int code, const char *fmt, ...)
{
	char what[SL_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;
	ERR_clear_error();
	if (reason)
		return sl_error_set(err, code, "%s: %s", what, reason);
	return sl_error_set(err, code, "%s", what);
}

/* ---- the key object ------------------------------------------------------- */

static struct sl_cosign_key *key_new(EVP_PKEY *pkey, bool is_private)
{
	struct sl_cosign_key *k = sl_xcalloc(1, sizeof(*k));
	k->pkey = pkey;
	k->is_private = is_private;
	k->ed25519 = EVP_PKEY_is_a(pkey, "ED25519");
	return k;
}

void sl_cosign_key_free(struct sl_cosign_key *k)
{
	if (!k)
		return;
	evp_pkey_freep(&k->pkey);
	free(k);
}

/* The curve of an EC key as OpenSSL names it ("prime256v1"), or "". */
static void group_name(const EVP_PKEY *pkey, char name[64])
{
	size_t len = 0;
	if (EVP_PKEY_get_group_name(pkey, name, 64, &len) != 1)
		name[0] = '\0';
	ERR_clear_error();
}

static bool is_p256(const EVP_PKEY *pkey)
{
	char curve[64];
	if (!EVP_PKEY_is_a(pkey, "EC"))
		return false;
	group_name(pkey, curve);
	return strcmp(curve, "prime256v1") == 0;
}

/* What verifiers accept (spec §C.4: sigstore's LoadVerifier): ECDSA on the
 * NIST curves, RSA (PKCS#1 v1.5), Ed25519. */
static int check_public_key(const EVP_PKEY *pkey, struct sl_error *err)
{
	if (EVP_PKEY_is_a(pkey, "EC")) {
		char curve[64];
		group_name(pkey, curve);
		if (strcmp(curve, "prime256v1") != 0 && strcmp(curve, "secp384r1") != 0 &&
		    strcmp(curve, "secp521r1") != 0)
			return sl_error_set(
			    err, SL_EUNSUPPORTED,
			    "unsupported ECDSA curve %s (want P-256, P-384 or P-521)",
			    curve[0] ? curve : "(unnamed)");
		return 0;
	}
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		int bits = EVP_PKEY_get_bits(pkey);
		if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)
			return sl_error_set(err, SL_EUNSUPPORTED,
			                    "unsupported RSA key of %d bits (want %d to %d)", bits,
			                    RSA_MIN_BITS, RSA_MAX_BITS);
		return 0;
	}
	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return 0;
	const char *type = EVP_PKEY_get0_type_name(pkey);
	return sl_error_set(err, SL_EUNSUPPORTED,
	                    "unsupported key type %s (want ECDSA, RSA or Ed25519)",
	                    type ? type : "(unknown)");
}

/* ---- DER ------------------------------------------------------------------ */

/* The SubjectPublicKeyInfo of pkey; caller frees *ret. */
static int spki_der(EVP_PKEY *pkey, unsigned char **ret, size_t *ret_len, struct sl_error *err)
{
	int n = i2d_PUBKEY(pkey, NULL);
	if (n <= 0)
		return openssl_fail(err, SL_EINVAL, "encoding the public key");
	_cleanup_free_ unsigned char *der = sl_xmalloc((size_t)n);
	unsigned char *p = der;
	if (i2d_PUBKEY(pkey, &p) != n)
		return openssl_fail(err, SL_EINVAL, "encoding the public key");
	*ret_len = (size_t)n;
	*ret = TAKE_PTR(der);
	return 0;
}

/* The PKCS#8 PrivateKeyInfo of pkey, what Go's x509.MarshalPKCS8PrivateKey
 * writes. */
static int pkcs8_der(EVP_PKEY *pkey, struct secret *ret, struct sl_error *err)
{
	_cleanup_(pkcs8_freep) PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pkey);
	if (!p8)
		return openssl_fail(err, SL_EINVAL, "encoding the private key as PKCS#8");
	int n = i2d_PKCS8_PRIV_KEY_INFO(p8, NULL);
	if (n <= 0)
		return openssl_fail(err, SL_EINVAL, "encoding the private key as PKCS#8");
	_cleanup_(secret_clear) struct secret der = {sl_xmalloc((size_t)n), (size_t)n};
	unsigned char *p = der.data;
	if (i2d_PKCS8_PRIV_KEY_INFO(p8, &p) != n)
		return openssl_fail(err, SL_EINVAL, "encoding the private key as PKCS#8");
	*ret = der;
	der = (struct secret){0};
	return 0;
}

/* An EC key's string parameter, or "" when it has none. */
static void ec_param(const EVP_PKEY *pkey, const char *name, char value[32])
{
	if (EVP_PKEY_get_utf8_string_param(pkey, name, value, 32, NULL) != 1)
		value[0] = '\0';
	ERR_clear_error();
}

/* Go's x509.ParsePKIXPublicKey only takes a named curve and an uncompressed
 * point; OpenSSL takes (and writes back) the other forms too. */
static int check_ec_form(const EVP_PKEY *pkey, struct sl_error *err)
{
	char encoding[32], format[32];
	ec_param(pkey, OSSL_PKEY_PARAM_EC_ENCODING, encoding);
	ec_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, format);
	if (strcmp(encoding, OSSL_PKEY_EC_ENCODING_GROUP) != 0)
		return sl_error_set(err, SL_EINVAL,
		                    "PEM " PUBLIC_PEM ": explicit curve parameters, where cosign "
		                    "names the curve");
	if (strcmp(format, OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) != 0)
		return sl_error_set(err, SL_EINVAL,
		                    "PEM " PUBLIC_PEM ": a %s point, where cosign writes it "
		                    "uncompressed",
		                    format[0] ? format : "non-standard");
	return 0;
}

/* PEM "PUBLIC KEY": exactly one DER SubjectPublicKeyInfo, in the one
 * encoding DER allows: re-encoding and comparing catches what Go's
 * x509.ParsePKIXPublicKey refuses and OpenSSL may take, such as an RSA key
 * without its NULL parameters. */
static int parse_spki(const unsigned char *der, size_t len, EVP_PKEY **ret, struct sl_error *err)
{
	const unsigned char *p = der;
	_cleanup_(evp_pkey_freep) EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, (long)len);
	if (!pkey)
		return openssl_fail(err, SL_EINVAL,
		                    "PEM " PUBLIC_PEM ": malformed DER SubjectPublicKeyInfo");
	if (p != der + len)
		return sl_error_set(err, SL_EINVAL,
		                    "PEM " PUBLIC_PEM ": %zu bytes after the DER "
		                    "SubjectPublicKeyInfo",
		                    (size_t)(der + len - p));
	_cleanup_free_ unsigned char *again = NULL;
	size_t again_len = 0;
	int r = spki_der(pkey, &again, &again_len, err);
	if (r < 0)
		return r;
	if (again_len != len || memcmp(again, der, len) != 0)
		return sl_error_set(err, SL_EINVAL,
		                    "PEM " PUBLIC_PEM ": the SubjectPublicKeyInfo is not in the "
		                    "form keys are written in");
	if (EVP_PKEY_is_a(pkey, "EC")) {
		r = check_ec_form(pkey, err);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(pkey);
	return 0;
}

/* PEM "RSA PUBLIC KEY": a PKCS#1 RSAPublicKey. */
static int parse_pkcs1(const unsigned char *der, size_t len, EVP_PKEY **ret, struct sl_error *err)
{
	const unsigned char *p = der;
	_cleanup_(evp_pkey_freep) EVP_PKEY *pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
	if (!pkey)
		return openssl_fail(err, SL_EINVAL,
		                    "PEM " RSA_PUBLIC_PEM ": malformed DER PKCS#1 RSAPublicKey");
	if (p != der + len)
		return sl_error_set(err, SL_EINVAL,
		                    "PEM " RSA_PUBLIC_PEM ": %zu bytes after the DER RSAPublicKey",
		                    (size_t)(der + len - p));
	*ret = TAKE_PTR(pkey);
	return 0;
}

/* ---- PEM ------------------------------------------------------------------ */

/* One decoded PEM block. */
struct pem_block {
	char type[PEM_TYPE_MAX + 1];
	unsigned char *bytes;
	size_t len;
};

static void pem_block_clear(struct pem_block *b)
{
	free(b->bytes);
	*b = (struct pem_block){0};
}

/* The first "-----BEGIN " at the start of a line of [start, end) at or after
 * from, as Go's pem.Decode looks for it; NULL if none. */
static const char *find_marker(const char *start, const char *from, const char *end,
                               const char *marker)
{
	size_t n = strlen(marker);
	while (from < end) {
		const char *hit = memmem(from, (size_t)(end - from), marker, n);
		if (!hit)
			return NULL;
		if (hit == start || hit[-1] == '\n')
			return hit;
		from = hit + 1;
	}
	return NULL;
}

/* The end of the line at p (its '\n', or end). */
static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? nl : end;
}

/* The line [p, eol) without the trailing spaces, tabs and '\r' Go's
 * pem.Decode ignores: its new end. */
static const char *trim_right(const char *p, const char *eol)
{
	while (eol > p && (eol[-1] == ' ' || eol[-1] == '\t' || eol[-1] == '\r'))
		eol--;
	return eol;
}

/* Reads "<marker><TYPE>-----" at p into type. Returns false when the line is
 * not one, or its type is empty, too long or not printable ASCII. */
static bool read_marker_line(const char *p, const char *end, const char *marker,
                             char type[PEM_TYPE_MAX + 1], const char **ret_next)
{
	const char *eol = line_end(p, end);
	const char *text_end = trim_right(p, eol);
	p += strlen(marker);
	if (text_end - p < 5 || memcmp(text_end - 5, "-----", 5) != 0)
		return false;
	size_t n = (size_t)(text_end - 5 - p);
	if (n == 0 || n > PEM_TYPE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	memcpy(type, p, n);
	type[n] = '\0';
	*ret_next = eol < end ? eol + 1 : end;
	return true;
}

/* Decodes the one PEM block of text: the block Go's pem.Decode would find
 * first, text before and after it ignored, as Go does, except that a second
 * block is refused: a file that holds two keys is ambiguous. */
static int pem_decode(const char *text, size_t len, struct pem_block *ret, struct sl_error *err)
{
	if (len > SL_MAX_KEY_FILE_BYTES)
		return sl_error_set(err, SL_ELIMIT,
		                    "%zu bytes are more than a key file can be (%d)", len,
		                    SL_MAX_KEY_FILE_BYTES);
	const char *end = text + len;
	const char *begin = find_marker(text, text, end, "-----BEGIN ");
	if (!begin)
		return sl_error_set(err, SL_EINVAL, "no PEM block found");
	struct pem_block b = {0};
	const char *body;
	if (!read_marker_line(begin, end, "-----BEGIN ", b.type, &body))
		return sl_error_set(err, SL_EINVAL, "malformed PEM BEGIN line");
	const char *end_line = find_marker(text, body, end, "-----END ");
	if (!end_line)
		return sl_error_set(err, SL_EINVAL, "PEM block %s has no END line", b.type);
	char end_type[PEM_TYPE_MAX + 1];
	const char *rest;
	if (!read_marker_line(end_line, end, "-----END ", end_type, &rest) ||
	    strcmp(end_type, b.type) != 0)
		return sl_error_set(err, SL_EINVAL, "PEM block %s does not end with its END line",
		                    b.type);
	if (memchr(body, ':', (size_t)(end_line - body)))
		return sl_error_set(err, SL_EINVAL,
		                    "PEM block %s has headers, which key files never have", b.type);

	/* The body is base64 broken into lines: drop the whitespace. */
	_cleanup_free_ char *b64 = sl_xmalloc((size_t)(end_line - body) + 1);
	size_t n = 0;
	for (const char *p = body; p < end_line; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			b64[n++] = *p;
	b64[n] = '\0';
	if (n == 0)
		return sl_error_set(err, SL_EINVAL, "PEM block %s is empty", b.type);
	if (memchr(b64, '\0', n))
		return sl_error_set(err, SL_EINVAL, "PEM block %s: malformed base64", b.type);
	char *bytes = NULL;
	ssize_t decoded = sl_base64_decode(b64, &bytes);
	if (decoded < 0)
		return sl_error_set(err, SL_EINVAL, "PEM block %s: malformed base64", b.type);
	b.bytes = (unsigned char *)bytes;
	b.len = (size_t)decoded;

	const char *next = find_marker(text, rest, end, "-----BEGIN ");
	if (next) {
		char next_type[PEM_TYPE_MAX + 1];
		const char *ignored;
		bool named = read_marker_line(next, end, "-----BEGIN ", next_type, &ignored);
		int r = sl_error_set(err, SL_EINVAL, "more than one PEM block: %s after %s",
		                     named ? next_type : "another", b.type);
		pem_block_clear(&b);
		return r;
	}
	*ret = b;
	return 0;
}

/* Go's pem.Encode: BEGIN line, base64 in lines of 64, END line. */
static int pem_encode(const char *type, const void *bytes, size_t len, struct sl_buf *out,
                      struct sl_error *err)
{
	_cleanup_free_ char *b64 = sl_base64_encode(bytes, len);
	size_t n = strlen(b64);
	sl_buf_reset(out);
	int r = sl_buf_printf(out, "-----BEGIN %s-----\n", type);
	for (size_t i = 0; r >= 0 && i < n; i += 64) {
		r = sl_buf_append(out, b64 + i, n - i < 64 ? n - i : 64);
		if (r >= 0)
			r = sl_buf_append(out, "\n", 1);
	}
	if (r >= 0)
		r = sl_buf_printf(out, "-----END %s-----\n", type);
	if (r < 0)
		return sl_error_set(err, r, "writing PEM %s: the output buffer is too small", type);
	return 0;
}

/* ---- generate, export ----------------------------------------------------- */

int sl_cosign_key_generate(struct sl_cosign_key **ret, struct sl_error *err)
{
	int r = sl_crypto_available(err);
	if (r < 0)
		return r;
	_cleanup_(evp_pkey_ctx_freep) EVP_PKEY_CTX *ctx =
	    EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	_cleanup_(evp_pkey_freep) EVP_PKEY *pkey = NULL;
	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_group_name(ctx, "P-256") != 1 || EVP_PKEY_generate(ctx, &pkey) != 1)
		return openssl_fail(err, SL_EINVAL, "generating an ECDSA P-256 key");
	*ret = key_new(TAKE_PTR(pkey), true);
	return 0;
}

int sl_cosign_key_export_public(const struct sl_cosign_key *k, struct sl_buf *out,
                                struct sl_error *err)
{
	int r = sl_crypto_available(err);
	if (r < 0)
		return r;
	_cleanup_free_ unsigned char *der = NULL;
	size_t len = 0;
	r = spki_der(k->pkey, &der, &len, err);
	if (r < 0)
		return r;
	return pem_encode(PUBLIC_PEM, der, len, out, err);
}

/* scrypt(password, salt, N, r=8, p=1) into key. */
static int derive_key(const char *password, const unsigned char *salt, size_t salt_len, uint64_t n,
                      unsigned char key[crypto_secretbox_KEYBYTES], struct sl_error *err)
{
	if (crypto_pwhash_scryptsalsa208sha256_ll((const uint8_t *)password, strlen(password), salt,
	                                          salt_len, n, SCRYPT_R, SCRYPT_P, key,
	                                          crypto_secretbox_KEYBYTES) != 0)
		return sl_error_set(err, SL_ENOMEM,
		                    "deriving the key from the password (scrypt N=%llu): out of "
		                    "memory?",
		                    (unsigned long long)n);
	return 0;
}

/* The JSON go-securesystemslib's encrypted.Encrypt marshals, byte for byte:
 * Go's encoding/json writes struct fields in declaration order, no spaces,
 * []byte as padded standard base64 (no character of which it escapes). */
static char *sealed_json(const unsigned char *salt, const unsigned char *nonce,
                         const unsigned char *ciphertext, size_t ciphertext_len)
{
	_cleanup_free_ char *salt64 = sl_base64_encode(salt, SALT_BYTES);
	_cleanup_free_ char *nonce64 = sl_base64_encode(nonce, crypto_secretbox_NONCEBYTES);
	_cleanup_free_ char *ct64 = sl_base64_encode(ciphertext, ciphertext_len);
	return sl_asprintf("{\"kdf\":{\"name\":\"" KDF_NAME "\",\"params\":{\"N\":%d,\"r\":%d,"
	                   "\"p\":%d},\"salt\":\"%s\"},\"cipher\":{\"name\":\"" CIPHER_NAME "\","
	                   "\"nonce\":\"%s\"},\"ciphertext\":\"%s\"}",
	                   SL_COSIGN_SCRYPT_N, SCRYPT_R, SCRYPT_P, salt64, nonce64, ct64);
}

int sl_cosign_key_export_private(const struct sl_cosign_key *k, const char *password,
                                 struct sl_buf *out, struct sl_error *err)
{
	if (!k->is_private)
		return sl_error_set(err, SL_EINVAL,
		                    "exporting a private key: this is a public key");
	int r = sl_crypto_available(err);
	if (r < 0)
		return r;
	r = sl_sodium_available(err);
	if (r < 0)
		return r;
	_cleanup_(secret_clear) struct secret der = {0};
	r = pkcs8_der(k->pkey, &der, err);
	if (r < 0)
		return r;

	unsigned char salt[SALT_BYTES], nonce[crypto_secretbox_NONCEBYTES];
	randombytes_buf(salt, sizeof(salt));
	randombytes_buf(nonce, sizeof(nonce));
	_cleanup_(wipe_key) unsigned char key[crypto_secretbox_KEYBYTES];
	r = derive_key(password ? password : "", salt, sizeof(salt), SL_COSIGN_SCRYPT_N, key, err);
	if (r < 0)
		return r;
	/* NaCl's layout, which Go's secretbox.Seal shares: the 16-byte
	 * Poly1305 tag, then the ciphertext. */
	size_t sealed_len = crypto_secretbox_MACBYTES + der.len;
	_cleanup_free_ unsigned char *sealed = sl_xmalloc(sealed_len);
	if (crypto_secretbox_easy(sealed, der.data, der.len, nonce, key) != 0)
		return sl_error_set(err, SL_EINVAL, "encrypting the private key failed");
	_cleanup_free_ char *json = sealed_json(salt, nonce, sealed, sealed_len);
	return pem_encode(SL_COSIGN_PRIVATE_PEM_TYPE, json, strlen(json), out, err);
}

/* ---- load ----------------------------------------------------------------- */

/* What encrypted.Decrypt reads from the JSON inside the PEM block. */
struct sealed {
	uint64_t n;
	unsigned char *salt, *nonce, *ciphertext;
	size_t salt_len, nonce_len, ciphertext_len;
};

static void sealed_clear(struct sealed *s)
{
	free(s->salt);
	free(s->nonce);
	free(s->ciphertext);
	*s = (struct sealed){0};
}

/* obj.name as a decoded base64 string (Go's []byte). */
static int base64_field(const json_t *obj, const char *where, const char *name, unsigned char **ret,
                        size_t *ret_len, struct sl_error *err)
{
	const char *text = json_string_value(json_object_get(obj, name));
	if (!text)
		return sl_error_set(err, SL_EINVAL, "%s%s is missing or not a string", where, name);
	char *bytes = NULL;
	ssize_t n = sl_base64_decode(text, &bytes);
	if (n < 0)
		return sl_error_set(err, SL_EINVAL, "%s%s is not base64", where, name);
	*ret = (unsigned char *)bytes;
	*ret_len = (size_t)n;
	return 0;
}

static const char *string_or(const json_t *v, const char *fallback)
{
	return json_is_string(v) ? json_string_value(v) : fallback;
}

/* The scrypt costs go-securesystemslib's Decrypt accepts; nothing else. */
static int read_kdf(const json_t *kdf, struct sealed *s, struct sl_error *err)
{
	if (!json_is_object(kdf))
		return sl_error_set(err, SL_EINVAL, "kdf is missing or not an object");
	const char *name = string_or(json_object_get(kdf, "name"), "(none)");
	if (strcmp(name, KDF_NAME) != 0)
		return sl_error_set(err, SL_EUNSUPPORTED,
		                    "unsupported kdf %.64s (want " KDF_NAME ")", name);
	const json_t *params = json_object_get(kdf, "params");
	const json_t *n = json_object_get(params, "N"), *r = json_object_get(params, "r"),
	             *p = json_object_get(params, "p");
	if (!json_is_integer(n) || !json_is_integer(r) || !json_is_integer(p))
		return sl_error_set(err, SL_EINVAL, "kdf.params must hold the integers N, r and p");
	json_int_t nv = json_integer_value(n), rv = json_integer_value(r),
	           pv = json_integer_value(p);
	if ((nv != 32768 && nv != 65536 && nv != 131072) || rv != SCRYPT_R || pv != SCRYPT_P)
		return sl_error_set(err, SL_EUNSUPPORTED,
		                    "unsupported scrypt parameters N=%lld r=%lld p=%lld (want N of "
		                    "32768, 65536 or 131072 with r=8, p=1)",
		                    (long long)nv, (long long)rv, (long long)pv);
	s->n = (uint64_t)nv;
	return base64_field(kdf, "kdf.", "salt", &s->salt, &s->salt_len, err);
}

static int read_cipher(const json_t *cipher, struct sealed *s, struct sl_error *err)
{
	if (!json_is_object(cipher))
		return sl_error_set(err, SL_EINVAL, "cipher is missing or not an object");
	const char *name = string_or(json_object_get(cipher, "name"), "(none)");
	if (strcmp(name, CIPHER_NAME) != 0)
		return sl_error_set(err, SL_EUNSUPPORTED,
		                    "unsupported cipher %.64s (want " CIPHER_NAME ")", name);
	int r = base64_field(cipher, "cipher.", "nonce", &s->nonce, &s->nonce_len, err);
	if (r < 0)
		return r;
	if (s->nonce_len != crypto_secretbox_NONCEBYTES)
		return sl_error_set(err, SL_EINVAL, "cipher.nonce has %zu bytes (want %d)",
		                    s->nonce_len, crypto_secretbox_NONCEBYTES);
	return 0;
}

static int read_sealed(const unsigned char *text, size_t len, struct sealed *ret,
                       struct sl_error *err)
{
	json_error_t jerr;
	_cleanup_(json_decrefp) json_t *doc =
	    json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return sl_error_set(err, SL_EINVAL, "the key is not JSON: %s", jerr.text);
	if (!json_is_object(doc))
		return sl_error_set(err, SL_EINVAL, "the key is not a JSON object");
	_cleanup_(sealed_clear) struct sealed s = {0};
	int r = read_kdf(json_object_get(doc, "kdf"), &s, err);
	if (r < 0)
		return r;
	r = read_cipher(json_object_get(doc, "cipher"), &s, err);
	if (r < 0)
		return r;
	r = base64_field(doc, "", "ciphertext", &s.ciphertext, &s.ciphertext_len, err);
	if (r < 0)
		return r;
	if (s.ciphertext_len < crypto_secretbox_MACBYTES)
		return sl_error_set(err, SL_EINVAL, "ciphertext is shorter than its %d-byte tag",
		                    crypto_secretbox_MACBYTES);
	*ret = s;
	s = (struct sealed){0};
	return 0;
}

/* The PKCS#8 DER the box held: an ECDSA P-256 key is all sluice signs with. */
static int parse_pkcs8(const struct secret *der, EVP_PKEY **ret, struct sl_error *err)
{
	const unsigned char *p = der->data;
	_cleanup_(pkcs8_freep) PKCS8_PRIV_KEY_INFO *p8 =
	    d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)der->len);
	if (!p8 || p != der->data + der->len)
		return openssl_fail(err, SL_EINVAL, "the decrypted key is not DER PKCS#8");
	_cleanup_(evp_pkey_freep) EVP_PKEY *pkey = EVP_PKCS82PKEY(p8);
	if (!pkey)
		return openssl_fail(err, SL_EINVAL, "the decrypted PKCS#8 key is malformed");
	if (!is_p256(pkey)) {
		const char *type = EVP_PKEY_get0_type_name(pkey);
		return sl_error_set(err, SL_EUNSUPPORTED,
		                    "unsupported private key type %s (sluice signs with ECDSA "
		                    "P-256 keys)",
		                    type ? type : "(unknown)");
	}
	/* The public point travels next to the scalar; make sure they match,
	 * or sluice would publish a key that does not verify its signatures. */
	_cleanup_(evp_pkey_ctx_freep) EVP_PKEY_CTX *ctx =
	    EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!ctx || EVP_PKEY_pairwise_check(ctx) != 1)
		return openssl_fail(err, SL_EINVAL,
		                    "the decrypted key's public and private halves do not match");
	*ret = TAKE_PTR(pkey);
	return 0;
}

int sl_cosign_key_load_private(const char *pem, size_t len, const char *password,
                               struct sl_cosign_key **ret, struct sl_error *err)
{
	int r = sl_crypto_available(err);
	if (r < 0)
		return r;
	r = sl_sodium_available(err);
	if (r < 0)
		return r;
	_cleanup_(pem_block_clear) struct pem_block block = {0};
	r = pem_decode(pem, len, &block, err);
	if (r < 0)
		return r;
	if (strcmp(block.type, SL_COSIGN_PRIVATE_PEM_TYPE) != 0 &&
	    strcmp(block.type, SL_COSIGN_PRIVATE_PEM_TYPE_LEGACY) != 0)
		return sl_error_set(
		    err, SL_EINVAL,
		    "PEM type %s is not a cosign private key (want " SL_COSIGN_PRIVATE_PEM_TYPE ")",
		    block.type);
	_cleanup_(sealed_clear) struct sealed s = {0};
	r = read_sealed(block.bytes, block.len, &s, err);
	if (r < 0)
		return sl_error_wrap(err, r, "PEM %s", block.type);

	_cleanup_(wipe_key) unsigned char key[crypto_secretbox_KEYBYTES];
	r = derive_key(password ? password : "", s.salt, s.salt_len, s.n, key, err);
	if (r < 0)
		return r;
	size_t der_len = s.ciphertext_len - crypto_secretbox_MACBYTES;
	_cleanup_(secret_clear) struct secret der = {sl_xmalloc(der_len ? der_len : 1), der_len};
	if (crypto_secretbox_open_easy(der.data, s.ciphertext, s.ciphertext_len, s.nonce, key) != 0)
		return sl_error_set(err, SL_EAUTH, "%s", wrong_password);
	_cleanup_(evp_pkey_freep) EVP_PKEY *pkey = NULL;
	r = parse_pkcs8(&der, &pkey, err);
	if (r < 0)
		return r;
	*ret = key_new(TAKE_PTR(pkey), true);
	return 0;
}

int sl_cosign_key_load_public(const char *pem, size_t len, struct sl_cosign_key **ret,
                              struct sl_error *err)
{
	int r = sl_crypto_available(err);
	if (r < 0)
		return r;
	_cleanup_(pem_block_clear) struct pem_block block = {0};
	r = pem_decode(pem, len, &block, err);
	if (r < 0)
		return r;
	_cleanup_(evp_pkey_freep) EVP_PKEY *pkey = NULL;
	if (strcmp(block.type, PUBLIC_PEM) == 0)
		r = parse_spki(block.bytes, block.len, &pkey, err);
	else if (strcmp(block.type, RSA_PUBLIC_PEM) == 0)
		r = parse_pkcs1(block.bytes, block.len, &pkey, err);
	else if (strstr(block.type, "PRIVATE KEY"))
		return sl_error_set(err, SL_EINVAL,
		                    "PEM type %s is a private key; a public key is wanted here",
		                    block.type);
	else
		return sl_error_set(err, SL_EINVAL,
		                    "PEM type %s is not a public key (want " PUBLIC_PEM
		                    " or " RSA_PUBLIC_PEM ")",
		                    block.type);
	if (r < 0)
		return r;
	r = check_public_key(pkey, err);
	if (r < 0)
		return r;
	*ret = key_new(TAKE_PTR(pkey), false);
	return 0;
}

/* ---- sign, verify, hint ---------------------------------------------------- */

/* cosign hashes with SHA-256 whatever the key (Flux: LoadPublicKeyRaw with
 * crypto.SHA256); Ed25519 signs the message itself. */
static const EVP_MD *digest_of(const struct sl_cosign_key *k)
{
	return k->ed25519 ? NULL : EVP_sha256();
}

int sl_cosign_sign_bytes(const struct sl_cosign_key *k, const void *data, size_t len,
                         struct sl_buf *sig, struct sl_error *err)
{
	sl_buf_reset(sig);
	if (!k->is_private)
		return sl_error_set(err, SL_EINVAL, "signing: this is a public key");
	int r = sl_crypto_available(err);
	if (r < 0)
		return r;
	_cleanup_(evp_md_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t n = 0;
	const unsigned char *tbs = len ? data : (const unsigned char *)"";
	if (!ctx || EVP_DigestSignInit(ctx, NULL, digest_of(k), NULL, k->pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &n, tbs, len) != 1)
		return openssl_fail(err, SL_EINVAL, "signing");
	_cleanup_free_ unsigned char *out = sl_xmalloc(n);
	if (EVP_DigestSign(ctx, out, &n, tbs, len) != 1)
		return openssl_fail(err, SL_EINVAL, "signing");
	r = sl_buf_append(sig, out, n);
	if (r < 0)
		return sl_error_set(err, r, "signing: the signature buffer is too small");
	return 0;
}

int sl_cosign_verify_bytes(const struct sl_cosign_key *k, const void *data, size_t len,
                           const void *sig, size_t sig_len, struct sl_error *err)
{
	int r = sl_crypto_available(err);
	if (r < 0)
		return r;
	_cleanup_(evp_md_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestVerifyInit(ctx, NULL, digest_of(k), NULL, k->pkey) != 1)
		return openssl_fail(err, SL_EINVAL, "verifying a signature");
	const unsigned char *tbs = len ? data : (const unsigned char *)"";
	const unsigned char *s = sig_len ? sig : (const unsigned char *)"";
	int ok = EVP_DigestVerify(ctx, s, sig_len, tbs, len);
	/* A malformed signature queues a DER error: it is just as wrong. */
	ERR_clear_error();
	if (ok != 1)
		return sl_error_set(err, SL_EINVAL, "signature does not verify");
	return 0;
}

int sl_cosign_key_hint(const struct sl_cosign_key *k, char **ret, struct sl_error *err)
{
	int r = sl_crypto_available(err);
	if (r < 0)
		return r;
	_cleanup_free_ unsigned char *der = NULL;
	size_t len = 0;
	r = spki_der(k->pkey, &der, &len, err);
	if (r < 0)
		return r;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	if (EVP_Digest(der, len, md, &md_len, EVP_sha256(), NULL) != 1)
		return openssl_fail(err, SL_EINVAL, "hashing the public key");
	*ret = sl_base64_encode(md, md_len);
	return 0;
}
