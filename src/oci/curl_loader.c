/* libcurl on first use: one forwarder per libcurl function sluice calls, and
 * the dlopen() they share. See curl_loader.h for why. */

/* typecheck-gcc.h turns curl_easy_setopt & co. into statement-expression
 * macros, which would rewrite the definitions and calls below. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "oci/curl_loader.h"

/* Every libcurl function sluice calls. A new one goes here and gets a
 * forwarder below; until it does, the link fails. */
#define CURL_FUNCTIONS(X)                                                                          \
	X(curl_global_init)                                                                        \
	X(curl_free)                                                                               \
	X(curl_slist_append)                                                                       \
	X(curl_slist_free_all)                                                                     \
	X(curl_easy_init)                                                                          \
	X(curl_easy_cleanup)                                                                       \
	X(curl_easy_reset)                                                                         \
	X(curl_easy_setopt)                                                                        \
	X(curl_easy_getinfo)                                                                       \
	X(curl_easy_perform)                                                                       \
	X(curl_easy_strerror)                                                                      \
	X(curl_easy_escape)                                                                        \
	X(curl_multi_init)                                                                         \
	X(curl_multi_cleanup)                                                                      \
	X(curl_multi_setopt)                                                                       \
	X(curl_multi_add_handle)                                                                   \
	X(curl_multi_remove_handle)                                                                \
	X(curl_multi_perform)                                                                      \
	X(curl_multi_poll)                                                                         \
	X(curl_multi_info_read)                                                                    \
	X(curl_url)                                                                                \
	X(curl_url_cleanup)                                                                        \
	X(curl_url_set)                                                                            \
	X(curl_url_get)

/* The library's functions, typed by curl.h's own prototypes. Written once by
 * load(); pthread_once orders that write before every later read. */
static struct {
#define DECLARE_POINTER(name) __typeof__(name) *name;
	CURL_FUNCTIONS(DECLARE_POINTER)
#undef DECLARE_POINTER
} real;
static bool loaded;
static char load_error[1024];
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
	/* RTLD_NOW: a missing symbol fails here, not in the middle of a
	 * transfer. RTLD_LOCAL: its symbols stay out of the global scope, so
	 * nothing loaded later binds to them; dlsym on the handle still finds
	 * libcurl's own functions, never the forwarders of the same name. */
	void *lib = dlopen(SL_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(load_error, sizeof(load_error),
		         "cannot load " SL_LIBCURL_SONAME
		         ", which sluice needs to talk to registries (Debian package libcurl4): %s",
		         dlerror());
		return;
	}
#define RESOLVE(name)                                                                              \
	real.name = (__typeof__(real.name))dlsym(lib, #name);                                      \
	if (!real.name) {                                                                          \
		snprintf(load_error, sizeof(load_error),                                           \
		         "loading " SL_LIBCURL_SONAME ": it has no " #name                         \
		         " (a libcurl older than sluice needs?): %s",                              \
		         dlerror());                                                               \
		goto fail;                                                                         \
	}
	CURL_FUNCTIONS(RESOLVE)
#undef RESOLVE
	loaded = true;
	return;
fail:
	memset(&real, 0, sizeof(real));
	dlclose(lib);
}

static bool ready(void)
{
	pthread_once(&load_once, load);
	return loaded;
}

int sl_curl_available(struct sl_error *err)
{
	if (ready())
		return 0;
	return sl_error_set(err, SL_EIO, "%s", load_error);
}

/* ---- the variadic ones ------------------------------------------------ */

/* curl_easy_setopt and curl_multi_setopt take exactly one argument after the
 * option, of the type the option's number encodes (curl.h's CURLOPTTYPE_*
 * ranges, shared by easy and multi options): long, object pointer, function
 * pointer, curl_off_t, or struct curl_blob pointer. A forwarder cannot pass a
 * va_list on, so it reads that one argument as its type and passes it as that
 * type. Function pointers travel as void (*)(void) and libcurl reads them back
 * as its callback type; C leaves that to the ABI, and on the LP64 ABIs sluice
 * builds for (x86-64, aarch64) every one of these kinds is a single
 * integer-register-sized value passed the same way. The assert keeps the
 * build on such ABIs. */
_Static_assert(sizeof(long) == sizeof(void *) && sizeof(curl_off_t) == sizeof(void *) &&
                   sizeof(void (*)(void)) == sizeof(void *),
               "the curl_*_setopt forwarders assume LP64: long, pointers and curl_off_t of one "
               "width");

typedef void (*any_function)(void);

enum arg_kind { ARG_LONG, ARG_POINTER, ARG_FUNCTION, ARG_OFF_T };

static enum arg_kind option_arg_kind(int option)
{
	if (option < CURLOPTTYPE_OBJECTPOINT)
		return ARG_LONG;
	if (option < CURLOPTTYPE_FUNCTIONPOINT)
		return ARG_POINTER;
	if (option < CURLOPTTYPE_OFF_T)
		return ARG_FUNCTION;
	if (option < CURLOPTTYPE_BLOB)
		return ARG_OFF_T;
	return ARG_POINTER; /* CURLOPTTYPE_BLOB: struct curl_blob * */
}

/* Sets rc to fn(handle, option, <the one variadic argument in ap>). */
#define FORWARD_OPTION(rc, fn, handle, option, ap)                                                 \
	switch (option_arg_kind(option)) {                                                         \
	case ARG_LONG: rc = fn(handle, option, va_arg(ap, long)); break;                           \
	case ARG_POINTER: rc = fn(handle, option, va_arg(ap, void *)); break;                      \
	case ARG_FUNCTION: rc = fn(handle, option, va_arg(ap, any_function)); break;               \
	case ARG_OFF_T: rc = fn(handle, option, va_arg(ap, curl_off_t)); break;                    \
	}

/* The names are parenthesised so curl.h's argument-counting macros of the
 * same name leave the definitions alone. */
CURLcode(curl_easy_setopt)(CURL *curl, CURLoption option, ...)
{
	if (!ready())
		return CURLE_FAILED_INIT;
	CURLcode rc = CURLE_BAD_FUNCTION_ARGUMENT;
	va_list ap;
	va_start(ap, option);
	FORWARD_OPTION(rc, real.curl_easy_setopt, curl, option, ap);
	va_end(ap);
	return rc;
}

CURLMcode(curl_multi_setopt)(CURLM *multi_handle, CURLMoption option, ...)
{
	if (!ready())
		return CURLM_INTERNAL_ERROR;
	CURLMcode rc = CURLM_UNKNOWN_OPTION;
	va_list ap;
	va_start(ap, option);
	FORWARD_OPTION(rc, real.curl_multi_setopt, multi_handle, option, ap);
	va_end(ap);
	return rc;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode(curl_easy_getinfo)(CURL *curl, CURLINFO info, ...)
{
	if (!ready())
		return CURLE_FAILED_INIT;
	va_list ap;
	va_start(ap, info);
	void *out = va_arg(ap, void *);
	va_end(ap);
	return real.curl_easy_getinfo(curl, info, out);
}

/* ---- the rest: plain forwarders --------------------------------------- */

CURLcode curl_global_init(long flags)
{
	return ready() ? real.curl_global_init(flags) : CURLE_FAILED_INIT;
}

void curl_free(void *p)
{
	if (ready())
		real.curl_free(p);
}

struct curl_slist *curl_slist_append(struct curl_slist *list, const char *data)
{
	return ready() ? real.curl_slist_append(list, data) : NULL;
}

void curl_slist_free_all(struct curl_slist *list)
{
	if (ready())
		real.curl_slist_free_all(list);
}

CURL *curl_easy_init(void)
{
	return ready() ? real.curl_easy_init() : NULL;
}

void curl_easy_cleanup(CURL *curl)
{
	if (ready())
		real.curl_easy_cleanup(curl);
}

void curl_easy_reset(CURL *curl)
{
	if (ready())
		real.curl_easy_reset(curl);
}

CURLcode curl_easy_perform(CURL *curl)
{
	return ready() ? real.curl_easy_perform(curl) : CURLE_FAILED_INIT;
}

const char *curl_easy_strerror(CURLcode code)
{
	return ready() ? real.curl_easy_strerror(code) : SL_LIBCURL_SONAME " is not loaded";
}

char *curl_easy_escape(CURL *handle, const char *string, int length)
{
	return ready() ? real.curl_easy_escape(handle, string, length) : NULL;
}

CURLM *curl_multi_init(void)
{
	return ready() ? real.curl_multi_init() : NULL;
}

CURLMcode curl_multi_cleanup(CURLM *multi_handle)
{
	return ready() ? real.curl_multi_cleanup(multi_handle) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_add_handle(CURLM *multi_handle, CURL *curl_handle)
{
	return ready() ? real.curl_multi_add_handle(multi_handle, curl_handle)
	               : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_remove_handle(CURLM *multi_handle, CURL *curl_handle)
{
	return ready() ? real.curl_multi_remove_handle(multi_handle, curl_handle)
	               : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_perform(CURLM *multi_handle, int *running_handles)
{
	return ready() ? real.curl_multi_perform(multi_handle, running_handles)
	               : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_poll(CURLM *multi_handle, struct curl_waitfd extra_fds[],
                          unsigned int extra_nfds, int timeout_ms, int *ret)
{
	return ready() ? real.curl_multi_poll(multi_handle, extra_fds, extra_nfds, timeout_ms, ret)
	               : CURLM_INTERNAL_ERROR;
}

CURLMsg *curl_multi_info_read(CURLM *multi_handle, int *msgs_in_queue)
{
	return ready() ? real.curl_multi_info_read(multi_handle, msgs_in_queue) : NULL;
}

CURLU *curl_url(void)
{
	return ready() ? real.curl_url() : NULL;
}

void curl_url_cleanup(CURLU *handle)
{
	if (ready())
		real.curl_url_cleanup(handle);
}

CURLUcode curl_url_set(CURLU *handle, CURLUPart what, const char *part, unsigned int flags)
{
	return ready() ? real.curl_url_set(handle, what, part, flags) : CURLUE_BAD_HANDLE;
}

/* curl.h declares the handle const from libcurl 8.1 on (same ABI). */
#if LIBCURL_VERSION_NUM >= 0x080100
CURLUcode curl_url_get(const CURLU *handle, CURLUPart what, char **part, unsigned int flags)
#else
CURLUcode curl_url_get(CURLU *handle, CURLUPart what, char **part, unsigned int flags)
#endif
{
	return ready() ? real.curl_url_get(handle, what, part, flags) : CURLUE_BAD_HANDLE;
}
