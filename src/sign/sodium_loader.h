/* sodium_loader — libsodium, loaded on first use rather than at start-up.
 *
 * Only cosign key files need libsodium (scrypt and NaCl secretbox around the
 * private key, spec §C.1), so sluice does not link it: like
 * base/crypto_loader.c for OpenSSL, sodium_loader.c defines each libsodium
 * function keys.c calls, under libsodium's own name and signature; the first
 * call dlopen()s libsodium.so.23 once, runs sodium_init(), and every call
 * forwards to the real function. A libsodium function with no forwarder yet
 * fails the link, which is the reminder to add one.
 *
 * When the library cannot be loaded the forwarders fail the way libsodium
 * reports failure (-1), except randombytes_buf(), which has no way to fail
 * and aborts rather than hand out predictable bytes, and sodium_memzero(),
 * which still zeroes. Callers check sl_sodium_available() first: it says
 * why.
 *
 * Thread-safety: loading happens once (pthread_once); everything here may be
 * called from any thread. The library is never unloaded. */
#ifndef SLUICE_SIGN_SODIUM_LOADER_H
#define SLUICE_SIGN_SODIUM_LOADER_H

#include "base/base.h"

/* Debian's libsodium23. */
#define SL_LIBSODIUM_SONAME "libsodium.so.23"

/* Loads and initialises libsodium if that is not done yet. Returns 0, or
 * SL_EIO with *err naming libsodium.so.23, the Debian package and why. */
int sl_sodium_available(struct sl_error *err);

#endif
