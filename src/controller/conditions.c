/* Conditions as fluxcd/pkg's runtime/conditions keeps them (setter.go,
 * merge.go, merge_strategies.go), over status.conditions in jansson. */
#include <stdarg.h>
#include <string.h>

#include "codec/codec.h"
#include "controller/controller.h"

static json_t *jcheck(json_t *v)
{
	if (!v)
		abort(); /* out of memory: fatal in sluice */
	return v;
}

const char *sl_cond_status_str(enum sl_cond_status s)
{
	switch (s) {
	case SL_COND_TRUE: return "True";
	case SL_COND_FALSE: return "False";
	case SL_COND_UNKNOWN: break;
	}
	return "Unknown";
}

void sl_cond_stamp_init(struct sl_cond_stamp *st, const json_t *obj, struct sl_clock *clock)
{
	json_t *g = json_object_get(json_object_get(obj, "metadata"), "generation");
	st->generation = json_is_integer(g) ? (int64_t)json_integer_value(g) : 0;
	sl_clock_rfc3339(clock, st->now);
}

static json_t *conditions_of(const json_t *status)
{
	json_t *list = json_object_get(status, "conditions");
	return json_is_array(list) ? list : NULL;
}

static const char *field(const json_t *cond, const char *name)
{
	const char *s = json_string_value(json_object_get(cond, name));
	return s ? s : "";
}

static int64_t observed_generation(const json_t *cond)
{
	json_t *g = json_object_get(cond, "observedGeneration");
	return json_is_integer(g) ? (int64_t)json_integer_value(g) : 0;
}

static size_t find_index(const json_t *list, const char *type)
{
	size_t i;
	json_t *c;
	json_array_foreach (list, i, c) {
		if (strcmp(field(c, "type"), type) == 0)
			return i;
	}
	return SIZE_MAX;
}

json_t *sl_condition_get(const json_t *status, const char *type)
{
	json_t *list = conditions_of(status);
	size_t i = list ? find_index(list, type) : SIZE_MAX;
	return i == SIZE_MAX ? NULL : json_array_get(list, i);
}

static bool has_status(const json_t *status, const char *type, const char *value)
{
	json_t *c = sl_condition_get(status, type);
	return c && strcmp(field(c, "status"), value) == 0;
}

bool sl_condition_is_true(const json_t *status, const char *type)
{
	return has_status(status, type, "True");
}

bool sl_condition_is_false(const json_t *status, const char *type)
{
	return has_status(status, type, "False");
}

bool sl_condition_is_unknown(const json_t *status, const char *type)
{
	return !sl_condition_get(status, type) || has_status(status, type, "Unknown");
}

const char *sl_condition_reason(const json_t *status, const char *type)
{
	return field(sl_condition_get(status, type), "reason");
}

const char *sl_condition_message(const json_t *status, const char *type)
{
	return field(sl_condition_get(status, type), "message");
}

/* The message as the API will hold it: invalid UTF-8 replaced by U+FFFD
 * (what Go's encoding/json writes), then cut to SL_CONDITION_MESSAGE_MAX
 * bytes ending in "..." (trimConditionMessage), on a character boundary. */
static char *clean_message(const char *msg)
{
	size_t len = strlen(msg);
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 0);
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = sl_utf8_decode(msg + i, len - i, &cp);
		if (n == 0) {
			sl_buf_append(&b, "\xef\xbf\xbd", 3);
			i++;
		} else {
			sl_buf_append(&b, msg + i, n);
			i += n;
		}
	}
	if (b.len > SL_CONDITION_MESSAGE_MAX) {
		size_t cut = SL_CONDITION_MESSAGE_MAX - 3;
		while (cut > 0 && ((unsigned char)b.data[cut] & 0xc0) == 0x80)
			cut--;
		b.len = cut;
		b.data[cut] = 0;
		sl_buf_append(&b, "...", 3);
	}
	return sl_buf_steal(&b);
}

/* Flux's lexicographicLess: Stalled, Reconciling, Ready first; then the
 * highest observedGeneration; then by type. */
static int weight(const char *type)
{
	if (strcmp(type, SL_COND_STALLED) == 0)
		return 0;
	if (strcmp(type, SL_COND_RECONCILING) == 0)
		return 1;
	if (strcmp(type, SL_COND_READY) == 0)
		return 2;
	return 3;
}

static int compare_conditions(const void *pa, const void *pb)
{
	const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
	int wa = weight(field(a, "type")), wb = weight(field(b, "type"));
	if (wa != wb)
		return wa < wb ? -1 : 1;
	if (wa == 3) {
		int64_t ga = observed_generation(a), gb = observed_generation(b);
		if (ga != gb)
			return ga > gb ? -1 : 1;
	}
	return strcmp(field(a, "type"), field(b, "type"));
}

static void sort_conditions(json_t *list)
{
	size_t n = json_array_size(list);
	if (n < 2)
		return;
	json_t **items = sl_xcalloc(n, sizeof(*items));
	for (size_t i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(list, i));
	qsort(items, n, sizeof(*items), compare_conditions);
	json_array_clear(list);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, items[i]);
	free(items);
}

/* metav1.Condition's field order; observedGeneration is omitempty. */
static json_t *new_condition(const char *type, const char *status, int64_t generation,
                             const char *time, const char *reason, const char *message)
{
	json_t *c = jcheck(json_object());
	json_object_set_new(c, "type", jcheck(json_string(type)));
	json_object_set_new(c, "status", jcheck(json_string(status)));
	if (generation)
		json_object_set_new(c, "observedGeneration", jcheck(json_integer(generation)));
	json_object_set_new(c, "lastTransitionTime", jcheck(json_string(time)));
	json_object_set_new(c, "reason", jcheck(json_string(reason)));
	json_object_set_new(c, "message", jcheck(json_string(message)));
	return c;
}

static void set_condition(json_t *status, const struct sl_cond_stamp *st, const char *type,
                          const char *cond_status, const char *reason, const char *raw_message)
{
	if (!json_is_object(status))
		return;
	_cleanup_free_ char *message = clean_message(raw_message);
	json_t *list = conditions_of(status);
	if (!list) {
		list = jcheck(json_array());
		json_object_set_new(status, "conditions", list);
	}
	size_t i = find_index(list, type);
	if (i == SIZE_MAX) {
		json_array_append_new(list, new_condition(type, cond_status, st->generation,
		                                          st->now, reason, message));
	} else {
		json_t *old = json_array_get(list, i);
		bool same = strcmp(field(old, "status"), cond_status) == 0 &&
		            strcmp(field(old, "reason"), reason) == 0 &&
		            strcmp(field(old, "message"), message) == 0;
		if (!same)
			json_array_set_new(list, i,
			                   new_condition(type, cond_status, st->generation, st->now,
			                                 reason, message));
		else if (observed_generation(old) != st->generation)
			/* A new generation alone keeps the transition time. */
			json_array_set_new(list, i,
			                   new_condition(type, cond_status, st->generation,
			                                 field(old, "lastTransitionTime"), reason,
			                                 message));
	}
	sort_conditions(list);
}

static void set_conditionv(json_t *status, const struct sl_cond_stamp *st, const char *type,
                           enum sl_cond_status s, const char *reason, const char *fmt, va_list ap)
{
	_cleanup_free_ char *message = NULL;
	if (vasprintf(&message, fmt, ap) < 0)
		abort();
	set_condition(status, st, type, sl_cond_status_str(s), reason ? reason : "", message);
}

void sl_condition_set(json_t *status, const struct sl_cond_stamp *st, const char *type,
                      enum sl_cond_status s, const char *reason, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_conditionv(status, st, type, s, reason, fmt, ap);
	va_end(ap);
}

void sl_condition_delete(json_t *status, const char *type)
{
	json_t *list = conditions_of(status);
	if (!list)
		return;
	size_t i = find_index(list, type);
	if (i != SIZE_MAX)
		json_array_remove(list, i);
	/* Go's omitempty: an empty list is no list. */
	if (json_array_size(list) == 0)
		json_object_del(status, "conditions");
}

void sl_condition_mark_reconciling(json_t *status, const struct sl_cond_stamp *st,
                                   const char *reason, const char *fmt, ...)
{
	sl_condition_delete(status, SL_COND_STALLED);
	va_list ap;
	va_start(ap, fmt);
	set_conditionv(status, st, SL_COND_RECONCILING, SL_COND_TRUE, reason, fmt, ap);
	va_end(ap);
}

void sl_condition_mark_stalled(json_t *status, const struct sl_cond_stamp *st, const char *reason,
                               const char *fmt, ...)
{
	sl_condition_delete(status, SL_COND_RECONCILING);
	va_list ap;
	va_start(ap, fmt);
	set_conditionv(status, st, SL_COND_STALLED, SL_COND_TRUE, reason, fmt, ap);
	va_end(ap);
}

/* ---- summary (merge.go) ---------------------------------------------- */

static bool listed(const char *const *list, const char *type)
{
	for (; list && *list; list++)
		if (strcmp(*list, type) == 0)
			return true;
	return false;
}

/* mergePriority: True-negative 0, False-positive 1, True-positive 2,
 * False-negative 3, Unknown 4, anything else 99. */
static int merge_priority(const json_t *cond, const struct sl_summary_opts *o)
{
	const char *s = field(cond, "status");
	bool negative = listed(o->negative, field(cond, "type"));
	if (strcmp(s, "True") == 0)
		return negative ? 0 : 2;
	if (strcmp(s, "False") == 0)
		return negative ? 3 : 1;
	if (strcmp(s, "Unknown") == 0)
		return 4;
	return 99;
}

static bool in_scope(const json_t *cond, const char *target, const struct sl_summary_opts *o)
{
	const char *type = field(cond, "type");
	if (strcmp(type, target) == 0)
		return false;
	return !o->types || listed(o->types, type);
}

/* The condition of the top group that gives the target its reason and
 * message: the first by the priority list, else the first in Set's order. */
static const json_t *first_of_top_group(const json_t *list, const char *target,
                                        const struct sl_summary_opts *o, int top)
{
	size_t i;
	json_t *c;
	for (const char *const *t = o->types; t && *t; t++) {
		json_array_foreach (list, i, c) {
			if (in_scope(c, target, o) && merge_priority(c, o) == top &&
			    strcmp(field(c, "type"), *t) == 0)
				return c;
		}
	}
	const json_t *best = NULL;
	json_array_foreach (list, i, c) {
		if (!in_scope(c, target, o) || merge_priority(c, o) != top)
			continue;
		if (!best || compare_conditions(&c, &best) < 0)
			best = c;
	}
	return best;
}

void sl_conditions_summarize(json_t *status, const struct sl_cond_stamp *st, const char *target,
                             const struct sl_summary_opts *opts)
{
	static const struct sl_summary_opts none;
	const struct sl_summary_opts *o = opts ? opts : &none;
	json_t *list = conditions_of(status);
	int top = INT32_MAX;
	size_t i;
	json_t *c;
	json_array_foreach (list, i, c) {
		if (in_scope(c, target, o)) {
			int p = merge_priority(c, o);
			if (p < top)
				top = p;
		}
	}
	if (top == INT32_MAX)
		return; /* nothing in scope: no summary */

	const json_t *first = first_of_top_group(list, target, o, top);
	/* Copies: setting the target may reorder the list under first. */
	_cleanup_free_ char *reason = sl_strdup(field(first, "reason"));
	_cleanup_free_ char *message = sl_strdup(field(first, "message"));
	bool top_negative = top == 0 || top == 3;
	bool target_negative = listed(o->negative, target);
	const char *result = "Unknown";
	if (top == 0 || top == 2)
		result = top_negative != target_negative ? "False" : "True";
	else if (top == 1 || top == 3)
		result = top_negative != target_negative ? "True" : "False";
	set_condition(status, st, target, result, reason, message);

	/* Bipolarity (source-controller's summarize helper): a False bipolar
	 * condition, a failed verification, is what the target reports. */
	for (const char *const *b = o->bipolar; b && *b; b++) {
		if (strcmp(*b, target) == 0 || !sl_condition_is_false(status, *b))
			continue;
		_cleanup_free_ char *b_reason = sl_strdup(sl_condition_reason(status, *b));
		_cleanup_free_ char *b_message = sl_strdup(sl_condition_message(status, *b));
		set_condition(status, st, target, "False", b_reason, b_message);
		break;
	}
}
