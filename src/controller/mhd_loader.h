/* mhd_loader — libmicrohttpd, loaded on first use rather than at start-up.
 *
 * Only `sluice controller` serves HTTP, but every sluice process would map
 * libmicrohttpd and its dependency tree (gnutls, nettle, gmp, p11-kit, ...)
 * if the binary linked it: measured on Debian 12, about 2.8 MiB of resident
 * memory and 1.5 ms more per process start. mhd_loader.c instead defines
 * each libmicrohttpd function sluice calls, under its own name and
 * signature, the way curl_loader.c does for libcurl: the first call
 * dlopen()s libmicrohttpd.so.12 once and every call forwards to the real
 * function. A libmicrohttpd function with no forwarder yet fails the link.
 *
 * When the library cannot be loaded the forwarders fail the way
 * libmicrohttpd reports failure (NULL, MHD_NO) and sl_mhd_available() says
 * why; httpd.c checks it before starting a server.
 *
 * Thread-safety: loading happens once (pthread_once); everything here may
 * be called from any thread. The library is never unloaded. */
#ifndef SLUICE_CONTROLLER_MHD_LOADER_H
#define SLUICE_CONTROLLER_MHD_LOADER_H

#include "base/base.h"

/* Debian's libmicrohttpd12. */
#define SL_LIBMHD_SONAME "libmicrohttpd.so.12"

/* Loads libmicrohttpd if it is not loaded yet. Returns 0, or SL_EIO with
 * *err naming the library and dlerror()'s reason. */
int sl_mhd_available(struct sl_error *err);

#endif
