/* OpenSSL on first use: one forwarder per OpenSSL function sluice calls, and
 * the dlopen() of the library each comes from. See crypto_loader.h for why. */
#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/crypto_loader.h"

/* Every OpenSSL function sluice calls, by the library that defines it. A new
 * one goes here and gets a forwarder below; until it does, the link fails. */
#define LIBCRYPTO_FUNCTIONS(X)                                                                     \
	X(EVP_MD_CTX_new)                                                                          \
	X(EVP_MD_CTX_free)                                                                         \
	X(EVP_sha256)                                                                              \
	X(EVP_DigestInit_ex)                                                                       \
	X(EVP_DigestUpdate)                                                                        \
	X(EVP_DigestFinal_ex)                                                                      \
	X(PEM_read_X509)                                                                           \
	X(X509_free)                                                                               \
	X(X509_STORE_add_cert)                                                                     \
	X(EVP_Digest)                                                                              \
	X(EVP_PKEY_free)                                                                           \
	X(EVP_PKEY_is_a)                                                                           \
	X(EVP_PKEY_get_bits)                                                                       \
	X(EVP_PKEY_get_group_name)                                                                 \
	X(EVP_PKEY_get_utf8_string_param)                                                          \
	X(EVP_PKEY_get0_type_name)                                                                 \
	X(EVP_PKEY_CTX_new_from_name)                                                              \
	X(EVP_PKEY_CTX_new_from_pkey)                                                              \
	X(EVP_PKEY_CTX_free)                                                                       \
	X(EVP_PKEY_CTX_set_group_name)                                                             \
	X(EVP_PKEY_keygen_init)                                                                    \
	X(EVP_PKEY_generate)                                                                       \
	X(EVP_PKEY_pairwise_check)                                                                 \
	X(EVP_DigestSignInit)                                                                      \
	X(EVP_DigestSign)                                                                          \
	X(EVP_DigestVerifyInit)                                                                    \
	X(EVP_DigestVerify)                                                                        \
	X(d2i_PUBKEY)                                                                              \
	X(i2d_PUBKEY)                                                                              \
	X(d2i_PublicKey)                                                                           \
	X(EVP_PKEY2PKCS8)                                                                          \
	X(EVP_PKCS82PKEY)                                                                          \
	X(d2i_PKCS8_PRIV_KEY_INFO)                                                                 \
	X(i2d_PKCS8_PRIV_KEY_INFO)                                                                 \
	X(PKCS8_PRIV_KEY_INFO_free)                                                                \
	X(ERR_peek_last_error)                                                                     \
	X(ERR_reason_error_string)                                                                 \
	X(ERR_clear_error)
#define LIBSSL_FUNCTIONS(X) X(SSL_CTX_get_cert_store)

/* A library's functions, typed by OpenSSL's own prototypes, and the outcome
 * of loading it. Written once by its load function; pthread_once orders that
 * write before every later read. */
#define DECLARE_POINTER(name) __typeof__(name) *name;
static struct {
	LIBCRYPTO_FUNCTIONS(DECLARE_POINTER)
	bool loaded;
	char error[1024];
	pthread_once_t once;
} crypto = {.once = PTHREAD_ONCE_INIT};
static struct {
	LIBSSL_FUNCTIONS(DECLARE_POINTER)
	bool loaded;
	char error[1024];
	pthread_once_t once;
} ssl = {.once = PTHREAD_ONCE_INIT};
#undef DECLARE_POINTER

/* Opens soname, or returns NULL with why (and what sluice needs it for) in
 * error. RTLD_NOW: a missing symbol of its own dependencies fails here, not
 * in the middle of a hash. RTLD_LOCAL: its symbols stay out of the global
 * scope, so nothing loaded later binds to them; dlsym on the handle still
 * finds the library's own functions, never the forwarders of the same name.
 * libcurl's own libssl and libcrypto, loaded before or after, are the same
 * objects: the dynamic loader maps a soname once. */
static void *open_library(const char *soname, const char *purpose, char *error, size_t size)
{
	void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		snprintf(error, size,
		         "cannot load %s, which sluice needs %s (Debian package libssl3): %s",
		         soname, purpose, dlerror());
	return lib;
}

#define RESOLVE(library, soname, name)                                                             \
	library.name = (__typeof__(library.name))dlsym(lib, #name);                                \
	if (!library.name) {                                                                       \
		snprintf(library.error, sizeof(library.error),                                     \
		         "loading " soname ": it has no " #name " (not OpenSSL 3?): %s",           \
		         dlerror());                                                               \
		goto fail;                                                                         \
	}

static void load_libcrypto(void)
{
	void *lib = open_library(SL_LIBCRYPTO_SONAME,
	                         "to hash layers and blobs and for cosign keys and signatures",
	                         crypto.error, sizeof(crypto.error));
	if (!lib)
		return;
#define RESOLVE_CRYPTO(name) RESOLVE(crypto, SL_LIBCRYPTO_SONAME, name)
	LIBCRYPTO_FUNCTIONS(RESOLVE_CRYPTO)
#undef RESOLVE_CRYPTO
	crypto.loaded = true;
	return;
fail:
#define FORGET(name) crypto.name = NULL;
	LIBCRYPTO_FUNCTIONS(FORGET)
#undef FORGET
	dlclose(lib);
}

static void load_libssl(void)
{
	void *lib =
	    open_library(SL_LIBSSL_SONAME, "to trust a --ca-file", ssl.error, sizeof(ssl.error));
	if (!lib)
		return;
#define RESOLVE_SSL(name) RESOLVE(ssl, SL_LIBSSL_SONAME, name)
	LIBSSL_FUNCTIONS(RESOLVE_SSL)
#undef RESOLVE_SSL
	ssl.loaded = true;
	return;
fail:
#define FORGET(name) ssl.name = NULL;
	LIBSSL_FUNCTIONS(FORGET)
#undef FORGET
	dlclose(lib);
}

static bool crypto_ready(void)
{
	pthread_once(&crypto.once, load_libcrypto);
	return crypto.loaded;
}

static bool ssl_ready(void)
{
	pthread_once(&ssl.once, load_libssl);
	return ssl.loaded;
}

int sl_crypto_available(struct sl_error *err)
{
	if (crypto_ready())
		return 0;
	return sl_error_set(err, SL_EIO, "%s", crypto.error);
}

/* ---- libcrypto ---------------------------------------------------------- */

EVP_MD_CTX *EVP_MD_CTX_new(void)
{
	return crypto_ready() ? crypto.EVP_MD_CTX_new() : NULL;
}

void EVP_MD_CTX_free(EVP_MD_CTX *ctx)
{
	if (crypto_ready())
		crypto.EVP_MD_CTX_free(ctx);
}

const EVP_MD *EVP_sha256(void)
{
	return crypto_ready() ? crypto.EVP_sha256() : NULL;
}

int EVP_DigestInit_ex(EVP_MD_CTX *ctx, const EVP_MD *type, ENGINE *impl)
{
	return crypto_ready() ? crypto.EVP_DigestInit_ex(ctx, type, impl) : 0;
}

int EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *d, size_t cnt)
{
	return crypto_ready() ? crypto.EVP_DigestUpdate(ctx, d, cnt) : 0;
}

int EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s)
{
	return crypto_ready() ? crypto.EVP_DigestFinal_ex(ctx, md, s) : 0;
}

X509 *PEM_read_X509(FILE *out, X509 **x, pem_password_cb *cb, void *u)
{
	return crypto_ready() ? crypto.PEM_read_X509(out, x, cb, u) : NULL;
}

void X509_free(X509 *a)
{
	if (crypto_ready())
		crypto.X509_free(a);
}

int X509_STORE_add_cert(X509_STORE *ctx, X509 *x)
{
	return crypto_ready() ? crypto.X509_STORE_add_cert(ctx, x) : 0;
}

/* cosign keys and signatures (sign/keys.c) */

int EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size,
               const EVP_MD *type, ENGINE *impl)
{
	return crypto_ready() ? crypto.EVP_Digest(data, count, md, size, type, impl) : 0;
}

void EVP_PKEY_free(EVP_PKEY *pkey)
{
	if (crypto_ready())
		crypto.EVP_PKEY_free(pkey);
}

int EVP_PKEY_is_a(const EVP_PKEY *pkey, const char *name)
{
	return crypto_ready() ? crypto.EVP_PKEY_is_a(pkey, name) : 0;
}

int EVP_PKEY_get_bits(const EVP_PKEY *pkey)
{
	return crypto_ready() ? crypto.EVP_PKEY_get_bits(pkey) : 0;
}

int EVP_PKEY_get_group_name(const EVP_PKEY *pkey, char *name, size_t name_sz, size_t *gname_len)
{
	return crypto_ready() ? crypto.EVP_PKEY_get_group_name(pkey, name, name_sz, gname_len) : 0;
}

int EVP_PKEY_get_utf8_string_param(const EVP_PKEY *pkey, const char *key_name, char *str,
                                   size_t max_buf_sz, size_t *out_sz)
{
	return crypto_ready()
	           ? crypto.EVP_PKEY_get_utf8_string_param(pkey, key_name, str, max_buf_sz, out_sz)
	           : 0;
}

const char *EVP_PKEY_get0_type_name(const EVP_PKEY *key)
{
	return crypto_ready() ? crypto.EVP_PKEY_get0_type_name(key) : NULL;
}

EVP_PKEY_CTX *EVP_PKEY_CTX_new_from_name(OSSL_LIB_CTX *libctx, const char *name,
                                         const char *propquery)
{
	return crypto_ready() ? crypto.EVP_PKEY_CTX_new_from_name(libctx, name, propquery) : NULL;
}

EVP_PKEY_CTX *EVP_PKEY_CTX_new_from_pkey(OSSL_LIB_CTX *libctx, EVP_PKEY *pkey,
                                         const char *propquery)
{
	return crypto_ready() ? crypto.EVP_PKEY_CTX_new_from_pkey(libctx, pkey, propquery) : NULL;
}

void EVP_PKEY_CTX_free(EVP_PKEY_CTX *ctx)
{
	if (crypto_ready())
		crypto.EVP_PKEY_CTX_free(ctx);
}

int EVP_PKEY_CTX_set_group_name(EVP_PKEY_CTX *ctx, const char *name)
{
	return crypto_ready() ? crypto.EVP_PKEY_CTX_set_group_name(ctx, name) : 0;
}

int EVP_PKEY_keygen_init(EVP_PKEY_CTX *ctx)
{
	return crypto_ready() ? crypto.EVP_PKEY_keygen_init(ctx) : 0;
}

int EVP_PKEY_generate(EVP_PKEY_CTX *ctx, EVP_PKEY **ppkey)
{
	return crypto_ready() ? crypto.EVP_PKEY_generate(ctx, ppkey) : 0;
}

int EVP_PKEY_pairwise_check(EVP_PKEY_CTX *ctx)
{
	return crypto_ready() ? crypto.EVP_PKEY_pairwise_check(ctx) : 0;
}

int EVP_DigestSignInit(EVP_MD_CTX *ctx, EVP_PKEY_CTX **pctx, const EVP_MD *type, ENGINE *e,
                       EVP_PKEY *pkey)
{
	return crypto_ready() ? crypto.EVP_DigestSignInit(ctx, pctx, type, e, pkey) : 0;
}

int EVP_DigestSign(EVP_MD_CTX *ctx, unsigned char *sigret, size_t *siglen, const unsigned char *tbs,
                   size_t tbslen)
{
	return crypto_ready() ? crypto.EVP_DigestSign(ctx, sigret, siglen, tbs, tbslen) : 0;
}

int EVP_DigestVerifyInit(EVP_MD_CTX *ctx, EVP_PKEY_CTX **pctx, const EVP_MD *type, ENGINE *e,
                         EVP_PKEY *pkey)
{
	return crypto_ready() ? crypto.EVP_DigestVerifyInit(ctx, pctx, type, e, pkey) : 0;
}

int EVP_DigestVerify(EVP_MD_CTX *ctx, const unsigned char *sigret, size_t siglen,
                     const unsigned char *tbs, size_t tbslen)
{
	return crypto_ready() ? crypto.EVP_DigestVerify(ctx, sigret, siglen, tbs, tbslen) : 0;
}

EVP_PKEY *d2i_PUBKEY(EVP_PKEY **a, const unsigned char **in, long len)
{
	return crypto_ready() ? crypto.d2i_PUBKEY(a, in, len) : NULL;
}

int i2d_PUBKEY(const EVP_PKEY *a, unsigned char **out)
{
	return crypto_ready() ? crypto.i2d_PUBKEY(a, out) : -1;
}

EVP_PKEY *d2i_PublicKey(int type, EVP_PKEY **a, const unsigned char **pp, long length)
{
	return crypto_ready() ? crypto.d2i_PublicKey(type, a, pp, length) : NULL;
}

PKCS8_PRIV_KEY_INFO *EVP_PKEY2PKCS8(const EVP_PKEY *pkey)
{
	return crypto_ready() ? crypto.EVP_PKEY2PKCS8(pkey) : NULL;
}

EVP_PKEY *EVP_PKCS82PKEY(const PKCS8_PRIV_KEY_INFO *p8)
{
	return crypto_ready() ? crypto.EVP_PKCS82PKEY(p8) : NULL;
}

PKCS8_PRIV_KEY_INFO *d2i_PKCS8_PRIV_KEY_INFO(PKCS8_PRIV_KEY_INFO **a, const unsigned char **in,
                                             long len)
{
	return crypto_ready() ? crypto.d2i_PKCS8_PRIV_KEY_INFO(a, in, len) : NULL;
}

int i2d_PKCS8_PRIV_KEY_INFO(const PKCS8_PRIV_KEY_INFO *a, unsigned char **out)
{
	return crypto_ready() ? crypto.i2d_PKCS8_PRIV_KEY_INFO(a, out) : -1;
}

void PKCS8_PRIV_KEY_INFO_free(PKCS8_PRIV_KEY_INFO *a)
{
	if (crypto_ready())
		crypto.PKCS8_PRIV_KEY_INFO_free(a);
}

unsigned long ERR_peek_last_error(void)
{
	return crypto_ready() ? crypto.ERR_peek_last_error() : 0;
}

const char *ERR_reason_error_string(unsigned long e)
{
	return crypto_ready() ? crypto.ERR_reason_error_string(e) : NULL;
}

void ERR_clear_error(void)
{
	if (crypto_ready())
		crypto.ERR_clear_error();
}

/* ---- libssl ------------------------------------------------------------- */

X509_STORE *SSL_CTX_get_cert_store(const SSL_CTX *ctx)
{
	return ssl_ready() ? ssl.SSL_CTX_get_cert_store(ctx) : NULL;
}
