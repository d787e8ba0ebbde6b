/* controller/metrics — a small Prometheus registry: counter, gauge and
 * histogram families with labels, rendered in the text exposition format
 * (version 0.0.4) the way client_golang renders it: families sorted by
 * name, labels by name, series by label values, numbers as Go's fmt prints
 * a float64 ("1", "0.5", "1e+06"), histogram buckets cumulative with a
 * final le="+Inf". A family with no series prints nothing, as in
 * client_golang.
 *
 * Plus Flux's controller metrics (fluxcd/pkg/runtime/metrics):
 * gotk_reconcile_duration_seconds, gotk_reconcile_condition and
 * gotk_suspend_status.
 *
 * Thread-safety: every function may be called from any thread (one mutex
 * per registry; updates are a hash lookup and an add). Families live as
 * long as their registry. Nothing here prints. */
#ifndef SLUICE_CONTROLLER_METRICS_H
#define SLUICE_CONTROLLER_METRICS_H

#include "base/base.h"

#define SL_METRICS_MAX_LABELS   8
#define SL_METRICS_MAX_BUCKETS  64
#define SL_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct sl_metrics;
struct sl_metric; /* one family */

struct sl_metrics *sl_metrics_new(void);
void sl_metrics_free(struct sl_metrics *m);
static inline void sl_metrics_freep(struct sl_metrics **m)
{
	sl_metrics_free(*m);
}

/* Registers a family. Names follow Prometheus' rules, label names may not
 * repeat (nor be "le" for a histogram), and a name is registered once;
 * otherwise SL_EINVAL. Histogram bounds must increase strictly. */
int sl_metrics_counter(struct sl_metrics *m, const char *name, const char *help,
                       const char *const *labels, size_t n_labels, struct sl_metric **ret,
                       struct sl_error *err);
int sl_metrics_gauge(struct sl_metrics *m, const char *name, const char *help,
                     const char *const *labels, size_t n_labels, struct sl_metric **ret,
                     struct sl_error *err);
int sl_metrics_histogram(struct sl_metrics *m, const char *name, const char *help,
                         const char *const *labels, size_t n_labels, const double *bounds,
                         size_t n_bounds, struct sl_metric **ret, struct sl_error *err);

/* values holds one string per label, in the family's label order. A
 * counter only goes up: negative v is ignored. */
void sl_metric_add(struct sl_metric *f, const char *const *values, double v);
/* Gauges only. */
void sl_metric_set(struct sl_metric *f, const char *const *values, double v);
/* Histograms only. */
void sl_metric_observe(struct sl_metric *f, const char *const *values, double v);
/* Removes every series whose label values equal values, where a NULL value
 * matches anything. Returns how many went. */
size_t sl_metric_delete(struct sl_metric *f, const char *const *values);

/* Appends the whole registry in the text format. */
int sl_metrics_render(struct sl_metrics *m, struct sl_buf *out);

/* ---- Flux's controller metrics ----------------------------------------- */

struct sl_gotk_metrics {
	/* {kind,name,namespace}, buckets ExponentialBucketsRange(0.01, 1800, 10) */
	struct sl_metric *reconcile_duration;
	/* {kind,name,namespace,type,status} */
	struct sl_metric *reconcile_condition;
	/* {kind,name,namespace} */
	struct sl_metric *suspend_status;
};

int sl_gotk_metrics_register(struct sl_metrics *m, struct sl_gotk_metrics *ret,
                             struct sl_error *err);
/* Observed once per reconcile, whatever its outcome. */
void sl_gotk_record_duration(const struct sl_gotk_metrics *g, const char *kind, const char *ns,
                             const char *name, double seconds);
/* Flux's RecordCondition: the series for status ("True", "False" or
 * "Unknown") is 1, the other two 0. */
void sl_gotk_record_condition(const struct sl_gotk_metrics *g, const char *kind, const char *ns,
                              const char *name, const char *type, const char *status);
void sl_gotk_record_suspend(const struct sl_gotk_metrics *g, const char *kind, const char *ns,
                            const char *name, bool suspended);
/* Forgets every series of an object (on finalization). */
void sl_gotk_delete(const struct sl_gotk_metrics *g, const char *kind, const char *ns,
                    const char *name);

#endif
