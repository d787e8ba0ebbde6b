/* crypto_loader — OpenSSL, loaded on first use rather than at start-up.
 *
 * sluice does not link OpenSSL: the dynamic loader's relocations of
 * libcrypto's data alone cost every process about 1.8 MiB of resident memory
 * and a millisecond, and most sluice commands never need it (version, the
 * kustomize engine, whose small hashes and base64 are portable code in
 * sha256.c and str.c). crypto_loader.c instead defines each OpenSSL function
 * sluice calls, under OpenSSL's own name and signature: the first call of a
 * libcrypto function dlopen()s libcrypto.so.3 once, the first call of a
 * libssl one libssl.so.3, and every call forwards to the real function. Code
 * keeps including <openssl/...> and calling it as usual; an OpenSSL function
 * with no forwarder yet fails the link, which is the reminder to add one.
 *
 * What needs it: streaming SHA-256 (layers, blobs: OpenSSL's SHA-NI code is
 * several times faster than portable C), one-shot digests of more than
 * SL_SHA256_PORTABLE_MAX bytes, cosign keys and signatures (sign/keys.c:
 * ECDSA, RSA and Ed25519 through EVP), and the --ca-file callback libcurl
 * runs, by which time libcurl has loaded libssl anyway.
 *
 * When a library cannot be loaded, the forwarders fail the way OpenSSL
 * reports failure (NULL, 0) and sl_crypto_available() says why: callers that
 * can return an error check it before their first hash, so the user reads
 * that reason; sl_sha256_new(), which cannot, prints it and aborts.
 *
 * Thread-safety: each library is loaded once (pthread_once); everything here
 * may be called from any thread. The libraries are never unloaded. */
#ifndef SLUICE_BASE_CRYPTO_LOADER_H
#define SLUICE_BASE_CRYPTO_LOADER_H

#include "base/base.h"

/* The sonames: the ABI of Debian's libssl3 (OpenSSL 3). */
#define SL_LIBCRYPTO_SONAME "libcrypto.so.3"
#define SL_LIBSSL_SONAME    "libssl.so.3"

/* Loads libcrypto if it is not loaded yet. Returns 0, or SL_EIO with *err
 * naming libcrypto.so.3 and dlerror()'s reason. */
int sl_crypto_available(struct sl_error *err);

#endif
