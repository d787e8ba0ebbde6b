/* libsodium on first use: one forwarder per libsodium function sluice calls,
 * and the dlopen() they share. See sodium_loader.h for why. */
#include <dlfcn.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "sign/sodium_loader.h"

/* Every libsodium function sluice calls. A new one goes here and gets a
 * forwarder below; until it does, the link fails. */
#define LIBSODIUM_FUNCTIONS(X)                                                                     \
	X(crypto_pwhash_scryptsalsa208sha256_ll)                                                   \
	X(crypto_secretbox_easy)                                                                   \
	X(crypto_secretbox_open_easy)                                                              \
	X(randombytes_buf)                                                                         \
	X(sodium_memzero)

/* The functions, typed by libsodium's own prototypes, and the outcome of
 * loading. Written once by load_libsodium; pthread_once orders that write
 * before every later read. */
#define DECLARE_POINTER(name) __typeof__(name) *name;
static struct {
	LIBSODIUM_FUNCTIONS(DECLARE_POINTER)
	bool loaded;
	char error[1024];
	pthread_once_t once;
} sodium = {.once = PTHREAD_ONCE_INIT};
#undef DECLARE_POINTER

/* RTLD_NOW and RTLD_LOCAL for the reasons crypto_loader.c gives: failures
 * show here, and nothing loaded later binds to libsodium's symbols, while
 * dlsym on the handle finds the library's functions, not these forwarders. */
static void load_libsodium(void)
{
	void *lib = dlopen(SL_LIBSODIUM_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(sodium.error, sizeof(sodium.error),
		         "cannot load " SL_LIBSODIUM_SONAME ", which sluice needs for cosign key "
		         "files (Debian package libsodium23): %s",
		         dlerror());
		return;
	}
#define RESOLVE(name)                                                                              \
	sodium.name = (__typeof__(sodium.name))dlsym(lib, #name);                                  \
	if (!sodium.name) {                                                                        \
		snprintf(sodium.error, sizeof(sodium.error),                                       \
		         "loading " SL_LIBSODIUM_SONAME ": it has no " #name ": %s", dlerror());   \
		goto fail;                                                                         \
	}
	LIBSODIUM_FUNCTIONS(RESOLVE)
#undef RESOLVE
	/* sodium_init picks the fastest implementations and seeds the random
	 * generator; it is only ever needed here, so it has no forwarder. */
	__typeof__(sodium_init) *init = (__typeof__(sodium_init) *)dlsym(lib, "sodium_init");
	if (!init) {
		snprintf(sodium.error, sizeof(sodium.error),
		         "loading " SL_LIBSODIUM_SONAME ": it has no sodium_init: %s", dlerror());
		goto fail;
	}
	if (init() < 0) {
		snprintf(sodium.error, sizeof(sodium.error),
		         "loading " SL_LIBSODIUM_SONAME ": sodium_init failed");
		goto fail;
	}
	sodium.loaded = true;
	return;
fail:
#define FORGET(name) sodium.name = NULL;
	LIBSODIUM_FUNCTIONS(FORGET)
#undef FORGET
	dlclose(lib);
}

static bool sodium_ready(void)
{
	pthread_once(&sodium.once, load_libsodium);
	return sodium.loaded;
}

int sl_sodium_available(struct sl_error *err)
{
	if (sodium_ready())
		return 0;
	return sl_error_set(err, SL_EIO, "%s", sodium.error);
}

/* ---- libsodium ---------------------------------------------------------- */

int crypto_pwhash_scryptsalsa208sha256_ll(const uint8_t *passwd, size_t passwdlen,
                                          const uint8_t *salt, size_t saltlen, uint64_t N,
                                          uint32_t r, uint32_t p, uint8_t *buf, size_t buflen)
{
	if (!sodium_ready())
		return -1;
	return sodium.crypto_pwhash_scryptsalsa208sha256_ll(passwd, passwdlen, salt, saltlen, N, r,
	                                                    p, buf, buflen);
}

int crypto_secretbox_easy(unsigned char *c, const unsigned char *m, unsigned long long mlen,
                          const unsigned char *n, const unsigned char *k)
{
	return sodium_ready() ? sodium.crypto_secretbox_easy(c, m, mlen, n, k) : -1;
}

int crypto_secretbox_open_easy(unsigned char *m, const unsigned char *c, unsigned long long clen,
                               const unsigned char *n, const unsigned char *k)
{
	return sodium_ready() ? sodium.crypto_secretbox_open_easy(m, c, clen, n, k) : -1;
}

/* It cannot report failure, and bytes it did not write would become a
 * predictable salt or nonce: without the library, stop. */
void randombytes_buf(void *const buf, const size_t size)
{
	if (!sodium_ready()) {
		fprintf(stderr, "sluice: %s\n", sodium.error);
		abort();
	}
	sodium.randombytes_buf(buf, size);
}

/* Secrets are zeroed whether or not the library loaded. */
void sodium_memzero(void *const pnt, const size_t len)
{
	if (sodium_ready())
		sodium.sodium_memzero(pnt, len);
	else
		explicit_bzero(pnt, len);
}
