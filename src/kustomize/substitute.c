/* Flux's post-build substitution, per object.
 *
 * kustomize-controller prints each object with kyaml (which keeps the
 * source's quoting), runs envsubst on the text and reads it back. sluice
 * substitutes each string of the tree instead — the same values where it
 * matters: a quoted "${N}" stays a string; a plain ${N} whose substituted
 * text reads as a number, bool or null becomes one (YAML 1.1 rules, as
 * Flux's re-read uses: `yes`/`on` are bools there). Unlike Flux, a plain
 * string that no variable touched keeps its type, and a substituted value
 * that would read as YAML structure ("a: b") stays a string rather than
 * breaking the document. */
#include <string.h>

#include "kustomize/ks.h"

#define SUBSTITUTE_ANNOTATION "kustomize.toolkit.fluxcd.io/substitute"

static bool substitution_disabled(const struct sl_node *obj)
{
	const char *label = sl_node_dig_str(obj, "metadata", "labels", SUBSTITUTE_ANNOTATION, NULL);
	const char *annotation =
	    sl_node_dig_str(obj, "metadata", "annotations", SUBSTITUTE_ANNOTATION, NULL);
	return (label && !strcmp(label, "disabled")) ||
	       (annotation && !strcmp(annotation, "disabled"));
}

struct sl_node *ks_yaml11_resolve(const char *text, size_t len)
{
	static const char *const yes[] = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON"};
	static const char *const no[] = {"n", "N", "no", "No", "NO", "off", "Off", "OFF"};
	for (size_t i = 0; i < SL_ARRAY_SIZE(yes); i++) {
		if (strlen(yes[i]) == len && memcmp(yes[i], text, len) == 0)
			return sl_node_new_bool(true);
		if (strlen(no[i]) == len && memcmp(no[i], text, len) == 0)
			return sl_node_new_bool(false);
	}
	if (len == 0)
		return sl_node_new_null();
	if (len > 64 || memchr(text, '\n', len))
		return NULL;
	struct sl_error ignored = {0};
	_cleanup_node_ struct sl_node *docs = NULL;
	if (sl_yaml_parse(text, len, "value", &docs, &ignored) < 0)
		return NULL;
	if (docs->seq.len == 0)
		return sl_node_new_null();
	struct sl_node *v = docs->seq.items[0];
	if (docs->seq.len != 1 || v->type == SL_NODE_STR || v->type == SL_NODE_SEQ ||
	    v->type == SL_NODE_MAP)
		return NULL;
	return sl_node_seq_take(docs, 0);
}

static int substitute_string(const char *s, size_t len, const struct sl_node *vars, bool strict,
                             struct sl_buf *out, struct sl_error *err)
{
	sl_buf_reset(out);
	return ks_envsubst(s, len, vars, strict, out, err);
}

static int substitute_tree(struct sl_node *n, const struct sl_node *vars, bool strict,
                           struct sl_buf *tmp, struct sl_error *err)
{
	switch (n->type) {
	case SL_NODE_STR: {
		if (!memchr(n->str.ptr, '$', n->str.len))
			return 0;
		int r = substitute_string(n->str.ptr, n->str.len, vars, strict, tmp, err);
		if (r < 0)
			return r;
		if (tmp->len == n->str.len &&
		    memcmp(tmp->data ? tmp->data : "", n->str.ptr, tmp->len) == 0)
			return 0;
		struct sl_node *typed =
		    n->plain ? ks_yaml11_resolve(tmp->data ? tmp->data : "", tmp->len) : NULL;
		if (!typed)
			typed = sl_node_new_strn(tmp->data ? tmp->data : "", tmp->len);
		typed->line = n->line;
		sl_node_replace(n, typed);
		return 0;
	}
	case SL_NODE_SEQ:
		for (size_t i = 0; i < n->seq.len; i++) {
			int r = substitute_tree(n->seq.items[i], vars, strict, tmp, err);
			if (r < 0)
				return r;
		}
		return 0;
	case SL_NODE_MAP:
		for (size_t i = 0; i < n->map.len; i++) {
			struct sl_node_pair *p = &n->map.items[i];
			if (memchr(p->key, '$', p->key_len)) {
				int r =
				    substitute_string(p->key, p->key_len, vars, strict, tmp, err);
				if (r < 0)
					return r;
				free(p->key);
				p->key_len = tmp->len;
				p->key = sl_strndup(tmp->data ? tmp->data : "", tmp->len);
			}
			int r = substitute_tree(p->value, vars, strict, tmp, err);
			if (r < 0)
				return r;
		}
		return 0;
	default: return 0;
	}
}

int ks_substitute_object(struct sl_node **obj, const struct sl_node *vars, bool strict,
                         struct sl_error *err)
{
	if (substitution_disabled(*obj))
		return 0;
	_cleanup_buf_ struct sl_buf tmp;
	sl_buf_init(&tmp, SL_YAML_MAX_BYTES);
	int r = substitute_tree(*obj, vars, strict, &tmp, err);
	if (r < 0)
		return sl_error_wrap(err, r, "envsubst error");
	return 0;
}
