/* A Prometheus registry small enough to read in one sitting. Series live in
 * a chained hash table per family keyed by their label values; rendering
 * takes the registry's mutex, sorts, and prints. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "controller/metrics.h"

enum family_type { COUNTER, GAUGE, HISTOGRAM };

/* One allocation per series: the struct, its label values' pointers, the
 * histogram's buckets and the values' text. Flux's per-object families
 * make four series an object; as seven allocations each they were the
 * controller's largest per-object cost after the cache. */
struct series {
	struct series *next;
	uint64_t hash;
	double value;      /* counter, gauge */
	double sum;        /* histogram */
	uint64_t count;    /* histogram */
	uint64_t *buckets; /* histogram, per bound, not cumulative; in the block */
	char *values[];    /* n_labels, pointing into the block */
};

struct sl_metric {
	struct sl_metrics *m;
	enum family_type type;
	char *name;
	char *help;
	char **labels;
	size_t n_labels;
	size_t order[SL_METRICS_MAX_LABELS]; /* label indexes sorted by name */
	double *bounds;
	size_t n_bounds;
	struct series **table;
	size_t table_size; /* a power of two */
	size_t n_series;
};

struct sl_metrics {
	pthread_mutex_t lock;
	struct sl_metric **families;
	size_t n;
};

struct sl_metrics *sl_metrics_new(void)
{
	struct sl_metrics *m = sl_xcalloc(1, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

static void series_free(struct series *s)
{
	free(s);
}

static void family_free(struct sl_metric *f)
{
	for (size_t i = 0; i < f->table_size; i++)
		for (struct series *s = f->table[i], *next; s; s = next) {
			next = s->next;
			series_free(s);
		}
	for (size_t i = 0; i < f->n_labels; i++)
		free(f->labels[i]);
	free(f->labels);
	free(f->table);
	free(f->bounds);
	free(f->name);
	free(f->help);
	free(f);
}

void sl_metrics_free(struct sl_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		family_free(m->families[i]);
	free(m->families);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* ---- registration ------------------------------------------------------- */

static bool name_valid(const char *s, bool colon_ok)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || (colon_ok && c == ':')))
			return false;
	}
	return true;
}

static int check_labels(const char *name, const char *const *labels, size_t n, bool histogram,
                        struct sl_error *err)
{
	if (n > SL_METRICS_MAX_LABELS)
		return sl_error_set(err, SL_EINVAL, "metric %s: more than %d labels", name,
		                    SL_METRICS_MAX_LABELS);
	for (size_t i = 0; i < n; i++) {
		/* "__" names are reserved for Prometheus itself. */
		if (!name_valid(labels[i], false) || sl_startswith(labels[i], "__") ||
		    (histogram && strcmp(labels[i], "le") == 0))
			return sl_error_set(err, SL_EINVAL, "metric %s: invalid label name \"%s\"",
			                    name, labels[i] ? labels[i] : "");
		for (size_t k = 0; k < i; k++)
			if (strcmp(labels[i], labels[k]) == 0)
				return sl_error_set(err, SL_EINVAL,
				                    "metric %s: label \"%s\" given twice", name,
				                    labels[i]);
	}
	return 0;
}

static int add_family(struct sl_metrics *m, enum family_type type, const char *name,
                      const char *help, const char *const *labels, size_t n_labels,
                      const double *bounds, size_t n_bounds, struct sl_metric **ret,
                      struct sl_error *err)
{
	if (!name_valid(name, true))
		return sl_error_set(err, SL_EINVAL, "invalid metric name \"%s\"", name ? name : "");
	int r = check_labels(name, labels, n_labels, type == HISTOGRAM, err);
	if (r < 0)
		return r;
	if (type == HISTOGRAM) {
		if (n_bounds > SL_METRICS_MAX_BUCKETS)
			return sl_error_set(err, SL_EINVAL, "metric %s: more than %d buckets", name,
			                    SL_METRICS_MAX_BUCKETS);
		for (size_t i = 0; i < n_bounds; i++)
			if (isnan(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
				return sl_error_set(err, SL_EINVAL,
				                    "metric %s: bucket bounds must increase", name);
	}

	struct sl_metric *f = sl_xcalloc(1, sizeof(*f));
	f->m = m;
	f->type = type;
	f->name = sl_strdup(name);
	f->help = sl_strdup(help ? help : "");
	f->n_labels = n_labels;
	f->labels = sl_xcalloc(n_labels ? n_labels : 1, sizeof(char *));
	for (size_t i = 0; i < n_labels; i++) {
		f->labels[i] = sl_strdup(labels[i]);
		/* Insertion sort: client_golang prints labels by name. */
		size_t k = i;
		for (; k > 0 && strcmp(labels[f->order[k - 1]], labels[i]) > 0; k--)
			f->order[k] = f->order[k - 1];
		f->order[k] = i;
	}
	/* client_golang always ends with +Inf; a given +Inf is not repeated. */
	if (n_bounds && isinf(bounds[n_bounds - 1]) && bounds[n_bounds - 1] > 0)
		n_bounds--;
	f->n_bounds = n_bounds;
	f->bounds = sl_xcalloc(n_bounds ? n_bounds : 1, sizeof(double));
	if (n_bounds)
		memcpy(f->bounds, bounds, n_bounds * sizeof(double));
	f->table_size = 16;
	f->table = sl_xcalloc(f->table_size, sizeof(struct series *));

	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->families[i]->name, name) == 0) {
			pthread_mutex_unlock(&m->lock);
			family_free(f);
			return sl_error_set(err, SL_EINVAL, "metric %s registered twice", name);
		}
	m->families = sl_xrealloc(m->families, (m->n + 1) * sizeof(*m->families));
	m->families[m->n++] = f;
	pthread_mutex_unlock(&m->lock);
	*ret = f;
	return 0;
}

int sl_metrics_counter(struct sl_metrics *m, const char *name, const char *help,
                       const char *const *labels, size_t n_labels, struct sl_metric **ret,
                       struct sl_error *err)
{
	return add_family(m, COUNTER, name, help, labels, n_labels, NULL, 0, ret, err);
}

int sl_metrics_gauge(struct sl_metrics *m, const char *name, const char *help,
                     const char *const *labels, size_t n_labels, struct sl_metric **ret,
                     struct sl_error *err)
{
	return add_family(m, GAUGE, name, help, labels, n_labels, NULL, 0, ret, err);
}

int sl_metrics_histogram(struct sl_metrics *m, const char *name, const char *help,
                         const char *const *labels, size_t n_labels, const double *bounds,
                         size_t n_bounds, struct sl_metric **ret, struct sl_error *err)
{
	return add_family(m, HISTOGRAM, name, help, labels, n_labels, bounds, n_bounds, ret, err);
}

/* ---- series ------------------------------------------------------------- */

static uint64_t hash_values(const struct sl_metric *f, const char *const *values)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	for (size_t i = 0; i < f->n_labels; i++) {
		for (const char *p = values[i] ? values[i] : ""; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
		h = (h ^ 0xff) * 0x100000001b3ull; /* 0xff never occurs in UTF-8 */
	}
	return h;
}

static bool values_equal(const struct sl_metric *f, const struct series *s,
                         const char *const *values)
{
	for (size_t i = 0; i < f->n_labels; i++)
		if (strcmp(s->values[i], values[i] ? values[i] : "") != 0)
			return false;
	return true;
}

static void grow(struct sl_metric *f)
{
	size_t size = f->table_size * 2;
	struct series **table = sl_xcalloc(size, sizeof(*table));
	for (size_t i = 0; i < f->table_size; i++)
		for (struct series *s = f->table[i], *next; s; s = next) {
			next = s->next;
			s->next = table[s->hash & (size - 1)];
			table[s->hash & (size - 1)] = s;
		}
	free(f->table);
	f->table = table;
	f->table_size = size;
}

/* The series for values, created at zero; called with the lock held. */
static struct series *lookup(struct sl_metric *f, const char *const *values)
{
	uint64_t h = hash_values(f, values);
	for (struct series *s = f->table[h & (f->table_size - 1)]; s; s = s->next)
		if (s->hash == h && values_equal(f, s, values))
			return s;
	if (f->n_series >= f->table_size)
		grow(f);
	size_t head = sizeof(struct series) + f->n_labels * sizeof(char *);
	size_t n_buckets = f->type == HISTOGRAM ? f->n_bounds : 0;
	size_t size = head + n_buckets * sizeof(uint64_t);
	for (size_t i = 0; i < f->n_labels; i++)
		size += strlen(values[i] ? values[i] : "") + 1;
	struct series *s = sl_xcalloc(1, size);
	s->hash = h;
	/* head is a multiple of 8 (the struct is, and so are pointers). */
	s->buckets = n_buckets ? (uint64_t *)((char *)s + head) : NULL;
	char *text = (char *)s + head + n_buckets * sizeof(uint64_t);
	for (size_t i = 0; i < f->n_labels; i++) {
		const char *v = values[i] ? values[i] : "";
		size_t len = strlen(v) + 1;
		memcpy(text, v, len);
		s->values[i] = text;
		text += len;
	}
	size_t slot = h & (f->table_size - 1);
	s->next = f->table[slot];
	f->table[slot] = s;
	f->n_series++;
	return s;
}

void sl_metric_add(struct sl_metric *f, const char *const *values, double v)
{
	if (f->type == HISTOGRAM || (f->type == COUNTER && !(v >= 0)))
		return;
	pthread_mutex_lock(&f->m->lock);
	lookup(f, values)->value += v;
	pthread_mutex_unlock(&f->m->lock);
}

void sl_metric_set(struct sl_metric *f, const char *const *values, double v)
{
	if (f->type != GAUGE)
		return;
	pthread_mutex_lock(&f->m->lock);
	lookup(f, values)->value = v;
	pthread_mutex_unlock(&f->m->lock);
}

void sl_metric_observe(struct sl_metric *f, const char *const *values, double v)
{
	if (f->type != HISTOGRAM)
		return;
	pthread_mutex_lock(&f->m->lock);
	struct series *s = lookup(f, values);
	/* The first bound at or above v, as client_golang's sort.SearchFloat64s. */
	for (size_t i = 0; i < f->n_bounds; i++)
		if (v <= f->bounds[i]) {
			s->buckets[i]++;
			break;
		}
	s->sum += v;
	s->count++;
	pthread_mutex_unlock(&f->m->lock);
}

size_t sl_metric_delete(struct sl_metric *f, const char *const *values)
{
	size_t n = 0;
	pthread_mutex_lock(&f->m->lock);
	for (size_t slot = 0; slot < f->table_size; slot++)
		for (struct series **pp = &f->table[slot]; *pp;) {
			struct series *s = *pp;
			bool match = true;
			for (size_t i = 0; match && i < f->n_labels; i++)
				match = !values[i] || strcmp(s->values[i], values[i]) == 0;
			if (!match) {
				pp = &s->next;
				continue;
			}
			*pp = s->next;
			series_free(s);
			f->n_series--;
			n++;
		}
	pthread_mutex_unlock(&f->m->lock);
	return n;
}

/* ---- rendering ---------------------------------------------------------- */

/* Go's fmt.Print of a float64: strconv 'g' with the shortest digits that
 * read back as v, exponent form below 1e-4 and from 1e+06 on. */
static void format_float(double v, char out[40])
{
	if (isnan(v)) {
		strcpy(out, "NaN");
		return;
	}
	if (isinf(v)) {
		strcpy(out, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		strcpy(out, signbit(v) ? "-0" : "0");
		return;
	}
	char text[40];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(text, sizeof(text), "%.*e", prec - 1, v);
		if (strtod(text, NULL) == v)
			break;
	}
	/* text is "[-]d[.ddd]e[+-]XX": collect the digits and exponent. */
	char digits[24];
	int nd = 0;
	const char *p = text;
	bool neg = *p == '-';
	if (neg)
		p++;
	for (; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	int exp = atoi(p + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	char *o = out;
	if (neg)
		*o++ = '-';
	if (exp < -4 || exp >= 6) {
		*o++ = digits[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, digits + 1, (size_t)nd - 1);
			o += nd - 1;
		}
		sprintf(o, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
		return;
	}
	int dp = exp + 1; /* digits before the point */
	if (dp <= 0) {
		*o++ = '0';
		*o++ = '.';
		for (int i = 0; i < -dp; i++)
			*o++ = '0';
		memcpy(o, digits, (size_t)nd);
		o += nd;
	} else {
		for (int i = 0; i < dp; i++)
			*o++ = i < nd ? digits[i] : '0';
		if (nd > dp) {
			*o++ = '.';
			memcpy(o, digits + dp, (size_t)(nd - dp));
			o += nd - dp;
		}
	}
	*o = '\0';
}

static int append_escaped(struct sl_buf *out, const char *s, bool quote)
{
	int r = 0;
	for (; *s && r == 0; s++) {
		if (*s == '\\')
			r = sl_buf_append(out, "\\\\", 2);
		else if (*s == '\n')
			r = sl_buf_append(out, "\\n", 2);
		else if (quote && *s == '"')
			r = sl_buf_append(out, "\\\"", 2);
		else
			r = sl_buf_append(out, s, 1);
	}
	return r;
}

/* name{a="x",b="y"[,le="bound"]} value */
static int render_sample(struct sl_buf *out, const struct sl_metric *f, const struct series *s,
                         const char *suffix, const char *le, double value)
{
	int r = sl_buf_printf(out, "%s%s", f->name, suffix);
	if (r == 0 && (f->n_labels || le)) {
		r = sl_buf_append(out, "{", 1);
		for (size_t k = 0; r == 0 && k < f->n_labels; k++) {
			size_t i = f->order[k];
			r = sl_buf_printf(out, "%s%s=\"", k ? "," : "", f->labels[i]);
			if (r == 0)
				r = append_escaped(out, s->values[i], true);
			if (r == 0)
				r = sl_buf_append(out, "\"", 1);
		}
		if (r == 0 && le)
			r = sl_buf_printf(out, "%sle=\"%s\"", f->n_labels ? "," : "", le);
		if (r == 0)
			r = sl_buf_append(out, "}", 1);
	}
	char num[40];
	format_float(value, num);
	return r ? r : sl_buf_printf(out, " %s\n", num);
}

static int cmp_series(const void *a, const void *b, void *family)
{
	const struct sl_metric *f = family;
	const struct series *x = *(struct series *const *)a, *y = *(struct series *const *)b;
	for (size_t k = 0; k < f->n_labels; k++) {
		size_t i = f->order[k];
		int c = strcmp(x->values[i], y->values[i]);
		if (c)
			return c;
	}
	return 0;
}

static int cmp_family(const void *a, const void *b)
{
	return strcmp((*(struct sl_metric *const *)a)->name, (*(struct sl_metric *const *)b)->name);
}

static int render_family(struct sl_buf *out, const struct sl_metric *f)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};
	struct series **all = sl_xcalloc(f->n_series, sizeof(*all));
	size_t n = 0;
	for (size_t slot = 0; slot < f->table_size; slot++)
		for (struct series *s = f->table[slot]; s; s = s->next)
			all[n++] = s;
	qsort_r(all, n, sizeof(*all), cmp_series, (void *)f);

	int r = sl_buf_printf(out, "# HELP %s ", f->name);
	if (r == 0)
		r = append_escaped(out, f->help, false);
	if (r == 0)
		r = sl_buf_printf(out, "\n# TYPE %s %s\n", f->name, types[f->type]);
	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct series *s = all[i];
		if (f->type != HISTOGRAM) {
			r = render_sample(out, f, s, "", NULL, s->value);
			continue;
		}
		uint64_t cumulative = 0;
		for (size_t b = 0; r == 0 && b < f->n_bounds; b++) {
			char le[40];
			format_float(f->bounds[b], le);
			cumulative += s->buckets[b];
			r = render_sample(out, f, s, "_bucket", le, (double)cumulative);
		}
		if (r == 0)
			r = render_sample(out, f, s, "_bucket", "+Inf", (double)s->count);
		if (r == 0)
			r = render_sample(out, f, s, "_sum", NULL, s->sum);
		if (r == 0)
			r = render_sample(out, f, s, "_count", NULL, (double)s->count);
	}
	free(all);
	return r;
}

int sl_metrics_render(struct sl_metrics *m, struct sl_buf *out)
{
	pthread_mutex_lock(&m->lock);
	struct sl_metric **sorted = sl_xcalloc(m->n ? m->n : 1, sizeof(*sorted));
	if (m->n)
		memcpy(sorted, m->families, m->n * sizeof(*sorted));
	qsort(sorted, m->n, sizeof(*sorted), cmp_family);
	int r = 0;
	for (size_t i = 0; r == 0 && i < m->n; i++)
		if (sorted[i]->n_series)
			r = render_family(out, sorted[i]);
	pthread_mutex_unlock(&m->lock);
	free(sorted);
	return r;
}

/* ---- Flux's controller metrics ------------------------------------------ */

int sl_gotk_metrics_register(struct sl_metrics *m, struct sl_gotk_metrics *ret,
                             struct sl_error *err)
{
	static const char *const object[] = {"kind", "name", "namespace"};
	static const char *const condition[] = {"kind", "name", "namespace", "type", "status"};
	/* "10 count buckets between 1ms - 1hour", in Flux's own words:
	 * prometheus.ExponentialBucketsRange(10e-3, 1800, 10), that is
	 * 10e-3 * f^i with f = (1800 / 10e-3)^(1/9), written out bit for bit
	 * as glibc's pow computes them. Constants, because pow was sluice's
	 * only use of libm, and loading libm costs every process 0.5 MiB of
	 * RSS (its IFUNC resolvers run at load time). */
	static const double buckets[10] = {
	    0x1.47ae147ae147bp-7, 0x1.3a46440e1f215p-5,  0x1.2d6ad93ed2141p-3, 0x1.211615aa1502cp-1,
	    0x1.15427714769ebp+1, 0x1.09eab4f3f9ee3p+3,  0x1.fe137c27b9a9cp+4, 0x1.e9356ca22d641p+6,
	    0x1.d531e8dd18613p+8, 0x1.c1ffffffffff8p+10,
	};
	struct sl_gotk_metrics g = {0};
	int r = sl_metrics_gauge(
	    m, "gotk_reconcile_condition",
	    "The current condition status of a GitOps Toolkit resource reconciliation.", condition,
	    SL_ARRAY_SIZE(condition), &g.reconcile_condition, err);
	if (r == 0)
		r = sl_metrics_gauge(m, "gotk_suspend_status",
		                     "The current suspend status of a GitOps Toolkit resource.",
		                     object, SL_ARRAY_SIZE(object), &g.suspend_status, err);
	if (r == 0)
		r = sl_metrics_histogram(
		    m, "gotk_reconcile_duration_seconds",
		    "The duration in seconds of a GitOps Toolkit resource reconciliation.", object,
		    SL_ARRAY_SIZE(object), buckets, SL_ARRAY_SIZE(buckets), &g.reconcile_duration,
		    err);
	if (r < 0)
		return r;
	*ret = g;
	return 0;
}

void sl_gotk_record_duration(const struct sl_gotk_metrics *g, const char *kind, const char *ns,
                             const char *name, double seconds)
{
	const char *values[] = {kind, name, ns};
	sl_metric_observe(g->reconcile_duration, values, seconds);
}

void sl_gotk_record_condition(const struct sl_gotk_metrics *g, const char *kind, const char *ns,
                              const char *name, const char *type, const char *status)
{
	static const char *const statuses[] = {"True", "False", "Unknown"};
	for (size_t i = 0; i < SL_ARRAY_SIZE(statuses); i++) {
		const char *values[] = {kind, name, ns, type, statuses[i]};
		sl_metric_set(g->reconcile_condition, values,
		              status && strcmp(status, statuses[i]) == 0 ? 1 : 0);
	}
}

void sl_gotk_record_suspend(const struct sl_gotk_metrics *g, const char *kind, const char *ns,
                            const char *name, bool suspended)
{
	const char *values[] = {kind, name, ns};
	sl_metric_set(g->suspend_status, values, suspended ? 1 : 0);
}

void sl_gotk_delete(const struct sl_gotk_metrics *g, const char *kind, const char *ns,
                    const char *name)
{
	const char *object[] = {kind, name, ns};
	const char *condition[] = {kind, name, ns, NULL, NULL};
	sl_metric_delete(g->reconcile_duration, object);
	sl_metric_delete(g->suspend_status, object);
	sl_metric_delete(g->reconcile_condition, condition);
}
