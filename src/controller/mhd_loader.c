/* libmicrohttpd on first use: one forwarder per function sluice calls, and
 * the dlopen() they share. See mhd_loader.h for why. */
#include <dlfcn.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "controller/mhd_loader.h"

/* Every libmicrohttpd function sluice calls; MHD_start_daemon reaches the
 * library as MHD_start_daemon_va. */
#define MHD_FUNCTIONS(X)                                                                           \
	X(MHD_start_daemon_va)                                                                     \
	X(MHD_stop_daemon)                                                                         \
	X(MHD_quiesce_daemon)                                                                      \
	X(MHD_get_daemon_info)                                                                     \
	X(MHD_lookup_connection_value)                                                             \
	X(MHD_queue_response)                                                                      \
	X(MHD_create_response_from_buffer)                                                         \
	X(MHD_create_response_from_fd_at_offset64)                                                 \
	X(MHD_add_response_header)                                                                 \
	X(MHD_destroy_response)

/* Written once by load(); pthread_once orders that before every read. */
static struct {
#define DECLARE_POINTER(name) __typeof__(name) *name;
	MHD_FUNCTIONS(DECLARE_POINTER)
#undef DECLARE_POINTER
} real;
static bool loaded;
static char load_error[1024];
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
	/* RTLD_LOCAL: dlsym on the handle finds the library's own functions,
	 * never the forwarders of the same name. */
	void *lib = dlopen(SL_LIBMHD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(load_error, sizeof(load_error),
		         "cannot load " SL_LIBMHD_SONAME
		         ", which the controller needs to serve HTTP (Debian package "
		         "libmicrohttpd12): %s",
		         dlerror());
		return;
	}
#define RESOLVE(name)                                                                              \
	real.name = (__typeof__(real.name))dlsym(lib, #name);                                      \
	if (!real.name) {                                                                          \
		snprintf(load_error, sizeof(load_error),                                           \
		         "loading " SL_LIBMHD_SONAME ": it has no " #name ": %s", dlerror());      \
		goto fail;                                                                         \
	}
	MHD_FUNCTIONS(RESOLVE)
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

int sl_mhd_available(struct sl_error *err)
{
	if (ready())
		return 0;
	return sl_error_set(err, SL_EIO, "%s", load_error);
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	if (!ready())
		return NULL;
	va_list ap;
	va_start(ap, dh_cls);
	struct MHD_Daemon *d = real.MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

/* Only the info types without arguments are forwarded (sluice asks for
 * MHD_DAEMON_INFO_CURRENT_CONNECTIONS): a va_list cannot be passed on. */
const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *daemon,
                                                enum MHD_DaemonInfoType info_type, ...)
{
	return ready() ? real.MHD_get_daemon_info(daemon, info_type) : NULL;
}

void MHD_stop_daemon(struct MHD_Daemon *daemon)
{
	if (ready())
		real.MHD_stop_daemon(daemon);
}

MHD_socket MHD_quiesce_daemon(struct MHD_Daemon *daemon)
{
	return ready() ? real.MHD_quiesce_daemon(daemon) : MHD_INVALID_SOCKET;
}

const char *MHD_lookup_connection_value(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                                        const char *key)
{
	return ready() ? real.MHD_lookup_connection_value(connection, kind, key) : NULL;
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *connection, unsigned int status_code,
                                   struct MHD_Response *response)
{
	return ready() ? real.MHD_queue_response(connection, status_code, response) : MHD_NO;
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
                                                     enum MHD_ResponseMemoryMode mode)
{
	return ready() ? real.MHD_create_response_from_buffer(size, buffer, mode) : NULL;
}

struct MHD_Response *MHD_create_response_from_fd_at_offset64(uint64_t size, int fd, uint64_t offset)
{
	return ready() ? real.MHD_create_response_from_fd_at_offset64(size, fd, offset) : NULL;
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *response, const char *header,
                                        const char *content)
{
	return ready() ? real.MHD_add_response_header(response, header, content) : MHD_NO;
}

void MHD_destroy_response(struct MHD_Response *response)
{
	if (ready())
		real.MHD_destroy_response(response);
}
