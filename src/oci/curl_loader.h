/* curl_loader — libcurl, loaded on first use rather than at start-up.
 *
 * sluice does not link libcurl: mapping it and its dependency tree (gnutls,
 * krb5, ldap, nghttp2, ssh2, ...) costs a process about 4.5 MiB of resident
 * memory, and many sluice commands never touch the network (version, build,
 * the kustomize engine, anything on an OCI image layout). curl_loader.c
 * instead defines each libcurl function sluice calls, under libcurl's own
 * name and signature; the first call of any of them dlopen()s libcurl.so.4
 * once and every call forwards to the real function. Code keeps including
 * <curl/curl.h> and calling curl_* as usual; a libcurl function with no
 * forwarder yet fails the link, which is the reminder to add one.
 *
 * When the library cannot be loaded, the forwarders fail the way libcurl
 * reports failure (NULL, CURLE_FAILED_INIT, CURLM_INTERNAL_ERROR,
 * CURLUE_BAD_HANDLE) and sl_curl_available() says why: callers check it
 * before their first curl call so the user sees that reason rather than a
 * bare "initialising libcurl".
 *
 * Thread-safety: loading happens once (pthread_once); everything here may be
 * called from any thread. The library is never unloaded. */
#ifndef SLUICE_OCI_CURL_LOADER_H
#define SLUICE_OCI_CURL_LOADER_H

#include "base/base.h"

/* The library's soname: the ABI of Debian's libcurl4 (OpenSSL flavour). */
#define SL_LIBCURL_SONAME "libcurl.so.4"

/* Loads libcurl if it is not loaded yet. Returns 0, or SL_EIO with *err
 * naming libcurl.so.4 and dlerror()'s reason. */
int sl_curl_available(struct sl_error *err);

#endif
