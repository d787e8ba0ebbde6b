/* kyaml's list operations, as the strategic merge walker (smp.c) uses
 * them: ElementSetter, ElementMatcher and FieldMatcher on sequences, and
 * the walker's bookkeeping of merge key values (elementValues,
 * mergeValues, validateKeys), ported with their quirks; and the scalar
 * text kyaml compares, which they are all about. */
#include <stdio.h>
#include <string.h>

#include "kustomize/smp_internal.h"

/* ---- node helpers --------------------------------------------------------- */

static const char *keep_text(struct merge *m, char *s)
{
	sl_strv_push(&m->texts, s);
	free(s);
	return m->texts.items[m->texts.len - 1];
}

static const char *float_text(struct merge *m, double f)
{
	char buf[64];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, f);
		if (strtod(buf, NULL) == f)
			break;
	}
	return keep_text(m, sl_strdup(buf));
}

/* The text kyaml compares: a scalar's value as written, "" for maps and
 * lists. Numbers come back in their canonical spelling (`0x1F` is "31"). */
const char *ks_smp_text(struct merge *m, const struct sl_node *n)
{
	if (!n)
		return "";
	switch (n->type) {
	case SL_NODE_STR: return n->str.ptr;
	case SL_NODE_NULL: return null_is_empty(n) ? "" : "null";
	case SL_NODE_BOOL: return n->b ? "true" : "false";
	case SL_NODE_INT: return keep_text(m, sl_asprintf("%lld", (long long)n->i));
	case SL_NODE_UINT: return keep_text(m, sl_asprintf("%llu", (unsigned long long)n->u));
	case SL_NODE_FLOAT: return float_text(m, n->f);
	default: return "";
	}
}

/* Go's strconv.ParseInt(s, 0, 64) and YAML's float syntax, roughly: what
 * a plain scalar needs to read as a number. */
static bool looks_numeric(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	if (s[0] == '0' && s[1] && strchr("xXoObB", s[1])) {
		const char *digits = strchr("xX", s[1])   ? "0123456789abcdefABCDEF_"
		                     : strchr("oO", s[1]) ? "01234567_"
		                                          : "01_";
		return s[2] && strspn(s + 2, digits) == strlen(s + 2);
	}
	size_t n = strspn(s, "0123456789_");
	bool digits = n > 0 && s[0] != '_';
	s += n;
	if (*s == '.') {
		size_t f = strspn(s + 1, "0123456789_");
		digits = digits || f > 0;
		s += 1 + f;
	}
	if (!digits)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		size_t e = strspn(s, "0123456789");
		if (!e)
			return false;
		s += e;
	}
	return *s == '\0';
}

/* Whether a string of the object was certainly written quoted (or as a
 * block): written plain it would read as something else. kyaml gives a
 * patch scalar that replaces it the same style, so a number or a bool
 * patched over "1" or "true" comes out a string. Strings that would read
 * the same plain are taken as plain (the model keeps no style). */
bool ks_smp_written_quoted(const struct sl_node *n)
{
	static const char *const words[] = {
	    "~",     "null",  "Null",  "NULL",  "true",  "True", "TRUE", "false", "False", "FALSE",
	    "y",     "Y",     "yes",   "Yes",   "YES",   "n",    "N",    "no",    "No",    "NO",
	    "on",    "On",    "ON",    "off",   "Off",   "OFF",  ".inf", ".Inf",  ".INF",  "-.inf",
	    "-.Inf", "-.INF", "+.inf", "+.Inf", "+.INF", ".nan", ".NaN", ".NAN",
	};
	const char *s = n->str.ptr;
	size_t len = n->str.len;
	if (len == 0 || strlen(s) != len || strpbrk(s, "\n\t\r"))
		return true;
	if (s[0] == ' ' || s[len - 1] == ' ' || s[len - 1] == ':')
		return true;
	if (strchr("[]{}#&*!|>'\"%@`,", s[0]) || (strchr("-?:", s[0]) && (len == 1 || s[1] == ' ')))
		return true;
	if (strstr(s, ": ") || strstr(s, " #"))
		return true;
	for (size_t i = 0; i < SL_ARRAY_SIZE(words); i++)
		if (strcmp(s, words[i]) == 0)
			return true;
	/* a date: YYYY-M-D... reads as a timestamp */
	if (len >= 8 && strspn(s, "0123456789") == 4 && s[4] == '-')
		return true;
	return looks_numeric(s);
}

/* yaml.NewScalarRNode(text): a plain scalar, typed as YAML reads it back
 * (only integers and strings occur as merge key values). */
struct sl_node *ks_smp_scalar_from_text(const char *t)
{
	char *end;
	long long v = strtoll(t, &end, 10);
	if (*t && *end == '\0' && (t[0] != '0' || t[1] == '\0') && t[0] != '+')
		return sl_node_new_int(v);
	return sl_node_new_str(t);
}

int ks_smp_kind_error(struct merge *m, const char *want, const struct sl_node *got)
{
	sl_error_set(m->err, SL_EINVAL, "wrong node kind: expected %s but got %s", want,
	             class_name(got));
	if (m->path.len && m->path.data)
		sl_error_wrap(m->err, SL_EINVAL, "%s", m->path.data);
	return SL_EINVAL;
}
/* ---- kyaml's list matchers -------------------------------------------------- */

/* FieldMatcher on one element: the value of field name when it matches
 * value. With require false (kyaml's StringValue) an empty value matches
 * any; name "" compares a scalar element itself. */
static int field_match(struct merge *m, struct sl_node *elem, const char *name, const char *value,
                       bool require, struct sl_node **ret)
{
	*ret = NULL;
	if (missing_or_null(elem))
		return 0;
	if (!*name) {
		if (!is_scalar(elem))
			return ks_smp_kind_error(m, "scalar", elem);
		if (strcmp(ks_smp_text(m, elem), value) == 0)
			*ret = elem;
		return 0;
	}
	if (elem->type != SL_NODE_MAP)
		return ks_smp_kind_error(m, "map", elem);
	struct sl_node *v = sl_node_map_get(elem, name);
	if (v && (!(require || *value) || strcmp(ks_smp_text(m, v), value) == 0))
		*ret = v;
	return 0;
}

/* kyaml's ElementSetter: replaces the elements whose keys have the values
 * by elem (appended when none has), or removes them when elem is NULL.
 * Null and {} elements are dropped on the way. */
int ks_smp_element_set(struct merge *m, struct sl_node *list, struct sl_node *elem,
                       const char *const *keys, size_t nkeys, const char *const *values,
                       size_t nvalues)
{
	static const char *const no_key[] = {""};
	if (nkeys == 0) {
		keys = no_key;
		nkeys = 1;
	}
	if (list->type != SL_NODE_SEQ)
		return ks_smp_kind_error(m, "list", list);
	bool mapping_setter = *keys[0] && nvalues > 0 && *values[0];
	size_t cap = list->seq.len + 1;
	struct sl_node **out = sl_xmalloc(cap * sizeof(*out));
	size_t nout = 0;
	bool matched = false;
	for (size_t i = 0; i < list->seq.len; i++) {
		struct sl_node *item = list->seq.items[i];
		if (empty_map(item))
			continue;
		if (item->type != SL_NODE_MAP && mapping_setter) {
			out[nout++] = item;
			continue;
		}
		/* as kyaml: a key without a value reuses the previous match */
		struct sl_node *val = NULL;
		bool found = true;
		for (size_t j = 0; j < nkeys; j++) {
			if (j < nvalues) {
				int r = field_match(m, item, keys[j], values[j], false, &val);
				if (r < 0) {
					free(out);
					return r;
				}
			}
			if (!val) {
				found = false;
				break;
			}
		}
		if (!found) {
			if (nvalues > 0)
				out[nout++] = item;
			continue;
		}
		matched = true;
		if (elem)
			out[nout++] = elem;
	}
	free(list->seq.items);
	list->seq.items = out;
	list->seq.len = nout;
	list->seq.cap = cap;
	if (!missing_or_null(elem) && !matched)
		sl_node_seq_push(list, elem);
	return 0;
}

/* kyaml's ElementList: the first map element whose keys have the values
 * (keys[0] "": the first element whose text is values[0]). */
struct sl_node *ks_smp_element_find(struct merge *m, struct sl_node *list, const char *const *keys,
                                    size_t nkeys, const char *const *values, size_t nvalues)
{
	if (!list || list->type != SL_NODE_SEQ)
		return NULL;
	if (nkeys == 0 || !*keys[0]) {
		const char *want = nvalues ? values[0] : "";
		for (size_t i = 0; i < list->seq.len; i++)
			if (strcmp(ks_smp_text(m, list->seq.items[i]), want) == 0)
				return list->seq.items[i];
		return NULL;
	}
	for (size_t i = 0; i < list->seq.len; i++) {
		struct sl_node *item = list->seq.items[i];
		if (item->type != SL_NODE_MAP)
			continue;
		if (nkeys != nvalues)
			return NULL;
		bool all = true;
		for (size_t k = 0; all && k < nkeys; k++) {
			struct sl_node *v;
			field_match(m, item, keys[k], values[k], true, &v);
			all = v != NULL;
		}
		if (all)
			return item;
	}
	return NULL;
}

/* ---- merge key values --------------------------------------------------------- */

static bool tuple_equal(const struct tuple *a, const struct tuple *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

static void tuples_add_unique(struct tuples *ts, const struct tuple *t)
{
	if (t->n == 0)
		return;
	for (size_t i = 0; i < ts->len; i++)
		if (tuple_equal(&ts->items[i], t))
			return;
	if (ts->len == ts->cap) {
		ts->cap = ts->cap ? ts->cap * 2 : 8;
		ts->items = sl_xrealloc(ts->items, ts->cap * sizeof(*ts->items));
	}
	ts->items[ts->len++] = *t;
}

static bool nil_or_empty(const struct sl_node *n)
{
	return missing_or_null(n) || (n->type == SL_NODE_MAP && n->map.len == 0) ||
	       (n->type == SL_NODE_SEQ && n->seq.len == 0);
}

/* The key values of every element, the patch's elements first. */
void ks_smp_element_values(struct merge *m, struct sl_node *dest, struct sl_node *origin,
                           const char *const *keys, size_t nkeys, struct tuples *ret)
{
	struct sl_node *sources[2] = {origin, dest};
	for (size_t s = 0; s < 2; s++) {
		struct sl_node *src = sources[s];
		if (!src || src->type != SL_NODE_SEQ)
			continue;
		for (size_t i = 0; i < src->seq.len; i++) {
			struct sl_node *item = src->seq.items[i];
			struct tuple t = {.n = nkeys};
			for (size_t k = 0; k < nkeys; k++) {
				struct sl_node *f = item->type == SL_NODE_MAP
				                        ? sl_node_map_get(item, keys[k])
				                        : NULL;
				t.v[k] = nil_or_empty(f) ? "" : ks_smp_text(m, f);
			}
			tuples_add_unique(ret, &t);
		}
	}
}

/* The elements of a list of scalars (finalizers), the patch's first. */
void ks_smp_primitive_values(struct merge *m, struct sl_node *dest, struct sl_node *origin,
                             struct tuples *ret)
{
	struct sl_node *sources[2] = {origin, dest};
	for (size_t s = 0; s < 2; s++) {
		struct sl_node *src = sources[s];
		if (!src || src->type != SL_NODE_SEQ)
			continue;
		for (size_t i = 0; i < src->seq.len; i++) {
			struct tuple t = {.v = {ks_smp_text(m, src->seq.items[i])}, .n = 1};
			tuples_add_unique(ret, &t);
		}
	}
}

/* kyaml's match: same length, one value in common, the others equal or
 * one of them empty. */
static bool tuple_match(const struct tuple *a, const struct tuple *b, struct tuple *res)
{
	if (a->n != b->n)
		return false;
	bool common = false;
	res->n = a->n;
	for (size_t i = 0; i < a->n; i++) {
		if (strcmp(a->v[i], b->v[i]) == 0) {
			common = true;
			res->v[i] = a->v[i];
		} else if (*a->v[i] && *b->v[i]) {
			return false;
		} else {
			res->v[i] = *a->v[i] ? a->v[i] : b->v[i];
		}
	}
	return common;
}

/* Multi-key lists: values that differ only by missing keys are the same
 * element (a port without protocol and the same port with one). */
void ks_smp_merge_values(struct tuples *ts)
{
	for (size_t i = 0; i < ts->len; i++) {
		struct tuple a = ts->items[i];
		for (size_t j = 0; j < ts->len; j++) {
			struct tuple res;
			if (tuple_match(&a, &ts->items[j], &res)) {
				ts->items[i] = res;
				ts->items[j] = res;
			}
		}
	}
}

/* kyaml's validateKeys: keys that have a value in some element, and the
 * values of those keys. */
void ks_smp_validate_keys(const struct tuple *all, size_t nall, const struct tuple *values,
                          const char *const *keys, size_t nkeys, struct tuple *ret_keys,
                          struct tuple *ret_values)
{
	bool in_set[MAX_KEYS] = {false};
	bool any = false;
	for (size_t t = 0; t < nall; t++)
		for (size_t i = 0; i < all[t].n && i < nkeys; i++)
			if (*all[t].v[i])
				in_set[i] = any = true;
	*ret_keys = (struct tuple){.n = 0};
	*ret_values = (struct tuple){.n = 0};
	if (!any) {
		for (size_t i = 0; i < nkeys; i++)
			ret_keys->v[ret_keys->n++] = keys[i];
		*ret_values = *values;
		return;
	}
	for (size_t i = 0; i < nkeys; i++)
		if (in_set[i])
			ret_keys->v[ret_keys->n++] = keys[i];
	for (size_t i = 0; i < values->n; i++)
		if (*values->v[i] || (i < nkeys && in_set[i]))
			ret_values->v[ret_values->n++] = values->v[i];
}
