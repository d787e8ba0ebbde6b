/* controller/httpd — the controller's three HTTP listeners, on libmicrohttpd:
 *
 *   artifacts (--storage-addr, :9090)  GET/HEAD of stored files, as Flux's
 *                                      http.FileServer serves them (§5)
 *   metrics   (--metrics-addr, :8080)  GET /metrics, Prometheus text format
 *   health    (--health-addr, :9440)   GET /healthz (alive), /readyz (ready)
 *
 * Each listener runs one internal polling thread (epoll) that serves every
 * connection; file bodies go out with sendfile, so memory stays flat
 * whatever the artifact's size. Connections are capped in number and closed
 * after a spell of inactivity; request headers are capped in size; request
 * bodies are never read.
 *
 * libmicrohttpd is loaded when the first server starts (mhd_loader.h), so
 * processes that serve nothing never map it. Its own threads block SIGPIPE;
 * a process that hosts these servers should ignore SIGPIPE anyway.
 *
 * Ownership: a struct sl_httpd borrows the storage or metrics it serves,
 * which must outlive it. sl_httpd_set_ready may be called from any thread.
 * Nothing here prints. */
#ifndef SLUICE_CONTROLLER_HTTPD_H
#define SLUICE_CONTROLLER_HTTPD_H

#include <sys/socket.h>

#include "base/base.h"
#include "controller/metrics.h"
#include "controller/storage.h"

/* controller-runtime's defaults for the flags. */
#define SL_HTTPD_DEFAULT_METRICS_ADDR ":8080"
#define SL_HTTPD_DEFAULT_HEALTH_ADDR  ":9440"

#define SL_HTTPD_DEFAULT_MAX_CONNECTIONS 64
#define SL_HTTPD_DEFAULT_IDLE_TIMEOUT_S  30
/* Request line plus headers, per connection. */
#define SL_HTTPD_MAX_REQUEST_BYTES (16 * 1024)
/* How long sl_httpd_stop lets in-flight responses finish (Flux: 5 s). */
#define SL_HTTPD_SHUTDOWN_GRACE_MS 5000

struct sl_httpd_limits {
	unsigned max_connections; /* 0: SL_HTTPD_DEFAULT_MAX_CONNECTIONS */
	unsigned idle_timeout_s;  /* 0: SL_HTTPD_DEFAULT_IDLE_TIMEOUT_S */
};

/* Go's net.SplitHostPort: "host:port", "[v6]:port", ":port". Callers free
 * both strings. */
int sl_split_host_port(const char *addr, char **ret_host, char **ret_port, struct sl_error *err);

/* Binds and listens on addr the way Go's net.Listen("tcp", addr) does: an
 * empty host is every address (IPv6 and IPv4), "0.0.0.0" every IPv4 one, a
 * name is resolved (IPv4 preferred), port 0 picks a free port. Returns the
 * listening socket or <0. */
int sl_httpd_listen(const char *addr, struct sl_error *err);

struct sl_httpd;

int sl_httpd_start_artifacts(const char *addr, const struct sl_storage *storage,
                             const struct sl_httpd_limits *limits, struct sl_httpd **ret,
                             struct sl_error *err);
int sl_httpd_start_metrics(const char *addr, struct sl_metrics *metrics,
                           const struct sl_httpd_limits *limits, struct sl_httpd **ret,
                           struct sl_error *err);
/* /readyz answers 500 until sl_httpd_set_ready(h, true). */
int sl_httpd_start_health(const char *addr, const struct sl_httpd_limits *limits,
                          struct sl_httpd **ret, struct sl_error *err);
void sl_httpd_set_ready(struct sl_httpd *h, bool ready);

/* The port actually bound (useful after ":0"). */
uint16_t sl_httpd_port(const struct sl_httpd *h);
/* Stops accepting, lets responses in flight finish for up to grace_ms,
 * then closes everything. NULL-safe. */
void sl_httpd_stop(struct sl_httpd *h, int64_t grace_ms);
static inline void sl_httpd_stopp(struct sl_httpd **h)
{
	sl_httpd_stop(*h, 0);
}

#endif
