/* Printing the document model: YAML byte for byte as `kubectl kustomize`
 * prints an object, and Go's encoding/json text.
 *
 * kustomize prints yaml.JSONToYAML(json.Marshal(object)): Go's JSON, read
 * back by go-yaml v2 (YAML 1.1) and written by go-yaml v2's emitter. We go
 * straight from the tree, reproducing what that round trip observably does
 * (tests/data/kustomize/README.md, "Observed kubectl kustomize output
 * rules"): the JSON step's failures and number normalisation, the keys
 * go-yaml v2 drops or re-sorts, and its emitter's layout decisions, which
 * this file makes for collections and yaml_emit_scalar.c for scalars. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "codec/codec.h"
#include "codec/yaml.h"
#include "codec/yaml_emit_private.h"

/* Trees deeper than the reader ever builds are refused, not recursed into. */
#define EMIT_MAX_DEPTH (2 * SL_YAML_MAX_DEPTH)

/* ---- sorting ------------------------------------------------------------- */

typedef bool (*less_fn)(const void *ctx, size_t a, size_t b);

/* A merge sort of indices: O(n log n), and safe with go-yaml's key order,
 * which is not transitive for some key sets (where any result will do). */
static void sort_indices(size_t *idx, size_t *tmp, size_t n, less_fn less, const void *ctx)
{
	if (n < 2)
		return;
	size_t half = n / 2, i = 0, j = half, k = 0;
	sort_indices(idx, tmp, half, less, ctx);
	sort_indices(idx + half, tmp, n - half, less, ctx);
	while (i < half && j < n)
		tmp[k++] = less(ctx, idx[j], idx[i]) ? idx[j++] : idx[i++];
	while (i < half)
		tmp[k++] = idx[i++];
	while (j < n)
		tmp[k++] = idx[j++];
	memcpy(idx, tmp, n * sizeof(*idx));
}

/* Go's order of map keys: bytewise. */
static bool pair_less(const struct sl_node_pair *a, const struct sl_node_pair *b)
{
	size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
	int c = memcmp(a->key, b->key, n);
	return c < 0 || (c == 0 && a->key_len < b->key_len);
}

static bool bytes_less(const void *ctx, size_t ia, size_t ib)
{
	const struct sl_node_pair *items = ctx;
	return pair_less(&items[ia], &items[ib]);
}

/* ---- go-yaml v2's key order (sorter.go) ----------------------------------- */

struct key {
	const char *text; /* as go-yaml v2 reads it back from the JSON */
	size_t len;
	const struct sl_node_pair *pair;
	char *owned; /* text, when it differs from the node's key */
	uint32_t *runes;
	size_t nrunes;
	const struct sl_node *value;
};

/* Letters sort by code point after every non-letter; runs of digits sort by
 * value, then the shorter run (fewer leading zeros) first. */
static bool key_less(const void *ctx, size_t ia, size_t ib)
{
	const struct key *a = (const struct key *)ctx + ia, *b = (const struct key *)ctx + ib;
	const uint32_t *ar = a->runes, *br = b->runes;
	for (size_t i = 0; i < a->nrunes && i < b->nrunes; i++) {
		if (ar[i] == br[i])
			continue;
		bool al = sl_unicode_is_letter(ar[i]), bl = sl_unicode_is_letter(br[i]);
		if (al && bl)
			return ar[i] < br[i];
		if (al || bl)
			return bl;
		/* Go's int64 arithmetic, wrapping on overflow like Go's */
		uint64_t an = 0, bn = 0;
		if (ar[i] == '0' || br[i] == '0') {
			for (size_t j = i; j-- > 0 && sl_unicode_is_digit(ar[j]);) {
				if (ar[j] != '0') {
					an = bn = 1;
					break;
				}
			}
		}
		size_t ai = i, bi = i;
		for (; ai < a->nrunes && sl_unicode_is_digit(ar[ai]); ai++)
			an = an * 10 + (uint64_t)(int64_t)((int32_t)ar[ai] - '0');
		for (; bi < b->nrunes && sl_unicode_is_digit(br[bi]); bi++)
			bn = bn * 10 + (uint64_t)(int64_t)((int32_t)br[bi] - '0');
		if (an != bn)
			return (int64_t)an < (int64_t)bn;
		if (ai != bi)
			return ai < bi;
		return ar[i] < br[i];
	}
	return a->nrunes < b->nrunes;
}

/* Decodes valid UTF-8 into out; returns the number of runes. */
static size_t to_runes(const char *s, size_t n, uint32_t *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t count = 0;
	for (size_t i = 0; i < n;) {
		size_t w = yaml_width(u[i]);
		uint32_t c = w == 1 ? u[i] : u[i] & (0x7f >> w);
		for (size_t k = 1; k < w && i + k < n; k++)
			c = (c << 6) | (u[i + k] & 0x3f);
		out[count++] = c;
		i += w;
	}
	return count;
}

/* ---- the tree ------------------------------------------------------------ */

static void emit_node(struct yaml_emitter *e, const struct sl_node *n, bool mapping_context);

static void emit_empty(struct yaml_emitter *e, const char *open, const char *close)
{
	yaml_write_indicator(e, open, true, true, false);
	yaml_write_indicator(e, close, false, false, false);
}

/* Under a map key a sequence is not indented: its `- ` starts at the key's
 * column (go-yaml's "indentless" sequence). */
static void emit_seq(struct yaml_emitter *e, const struct sl_node *n, bool mapping_context)
{
	if (n->seq.len == 0) {
		emit_empty(e, "[", "]");
		return;
	}
	int saved = e->indent;
	yaml_increase_indent(e, false, mapping_context && !e->indention);
	for (size_t i = 0; i < n->seq.len && e->r == 0; i++) {
		yaml_write_indent(e);
		yaml_write_indicator(e, "-", true, false, true);
		emit_node(e, n->seq.items[i], false);
	}
	e->indent = saved;
}

static void emit_pair(struct yaml_emitter *e, const struct key *k)
{
	yaml_write_indent(e);
	/* go-yaml writes a key longer than 128 bytes, or with a line break,
	 * as a complex key: `? key` then `: value` */
	if (k->len <= 128 && !sl_yaml_string_multiline(k->text, k->len)) {
		sl_yaml_emit_string(e, k->text, k->len, true);
		yaml_write_indicator(e, ":", false, false, false);
	} else {
		yaml_write_indicator(e, "?", true, false, true);
		sl_yaml_emit_string(e, k->text, k->len, false);
		yaml_write_indent(e);
		yaml_write_indicator(e, ":", true, false, true);
	}
	emit_node(e, k->value, true);
}

/* Collects the keys as go-yaml v2 sees them. Returns how many remain. */
static size_t collect_keys(struct yaml_emitter *e, const struct sl_node *n, struct key *keys)
{
	size_t count = 0;
	for (size_t i = 0; i < n->map.len; i++) {
		const struct sl_node_pair *p = &n->map.items[i];
		const char *text;
		size_t len;
		int r = sl_yaml_string_prepare(p->key, p->key_len, &e->scratch, &text, &len);
		if (r < 0) {
			e->r = r;
			break;
		}
		/* kustomize's round trip loses a "<<" key and its value, however
		 * it was quoted (README rule 12) */
		if (len == 2 && memcmp(text, "<<", 2) == 0)
			continue;
		struct key *k = &keys[count++];
		*k = (struct key){.text = text, .len = len, .pair = p, .value = p->value};
		if (text != p->key) {
			k->owned = sl_xmalloc(len + 1);
			memcpy(k->owned, text, len);
			k->owned[len] = '\0';
			k->text = k->owned;
		}
	}
	return count;
}

/* Keys that differed only in invalid UTF-8 or NEL spacing are one key once
 * JSON has printed them; go-yaml keeps the value that came last in JSON's
 * bytewise order. Sorting put such keys next to each other. Returns how
 * many of order remain. */
static size_t drop_duplicates(struct key *keys, size_t *order, size_t count)
{
	size_t kept = 0;
	for (size_t i = 0; i < count; i++) {
		struct key *k = &keys[order[i]];
		if (kept > 0) {
			struct key *prev = &keys[order[kept - 1]];
			if (prev->len == k->len && memcmp(prev->text, k->text, k->len) == 0) {
				if (pair_less(prev->pair, k->pair))
					order[kept - 1] = order[i];
				continue;
			}
		}
		order[kept++] = order[i];
	}
	return kept;
}

static void emit_map(struct yaml_emitter *e, const struct sl_node *n)
{
	struct key *keys = sl_xcalloc(n->map.len + 1, sizeof(*keys));
	size_t count = collect_keys(e, n, keys), total = 0;
	for (size_t i = 0; i < count; i++)
		total += keys[i].len;
	uint32_t *runes = sl_xmalloc((total + 1) * sizeof(*runes));
	size_t *order = sl_xmalloc((2 * count + 1) * sizeof(*order));
	for (size_t i = 0, used = 0; i < count; i++) {
		keys[i].runes = runes + used;
		keys[i].nrunes = to_runes(keys[i].text, keys[i].len, keys[i].runes);
		used += keys[i].nrunes;
		order[i] = i;
	}
	sort_indices(order, order + count, count, key_less, keys);
	size_t shown = drop_duplicates(keys, order, count);

	if (shown == 0 && e->r == 0) {
		emit_empty(e, "{", "}");
	} else {
		int saved = e->indent;
		yaml_increase_indent(e, false, false);
		for (size_t i = 0; i < shown && e->r == 0; i++)
			emit_pair(e, &keys[order[i]]);
		e->indent = saved;
	}

	for (size_t i = 0; i < count; i++)
		free(keys[i].owned);
	free(order);
	free(runes);
	free(keys);
}

static void emit_node(struct yaml_emitter *e, const struct sl_node *n, bool mapping_context)
{
	char text[SL_GOFLOAT_MAX];
	if (!n) {
		sl_yaml_emit_plain(e, "null");
		return;
	}
	switch (n->type) {
	case SL_NODE_NULL: sl_yaml_emit_plain(e, "null"); break;
	case SL_NODE_BOOL: sl_yaml_emit_plain(e, n->b ? "true" : "false"); break;
	case SL_NODE_INT:
		snprintf(text, sizeof(text), "%" PRId64, n->i);
		sl_yaml_emit_plain(e, text);
		break;
	case SL_NODE_UINT:
		snprintf(text, sizeof(text), "%" PRIu64, n->u);
		sl_yaml_emit_plain(e, text);
		break;
	case SL_NODE_FLOAT:
		/* non-finite values were refused before printing began */
		if (sl_gofloat_yaml(n->f, text) == 0)
			sl_yaml_emit_plain(e, text);
		break;
	case SL_NODE_STR: {
		const char *s;
		size_t len;
		int r = sl_yaml_string_prepare(n->str.ptr, n->str.len, &e->scratch, &s, &len);
		if (r < 0)
			e->r = r;
		else
			sl_yaml_emit_string(e, s, len, false);
		break;
	}
	case SL_NODE_SEQ: emit_seq(e, n, mapping_context); break;
	case SL_NODE_MAP: emit_map(e, n); break;
	}
}

/* ---- what fails before anything is printed ------------------------------- */

struct check {
	bool nonfinite; /* Go's JSON encoding fails */
	int yaml_r;     /* go-yaml v2's reading of the JSON fails (err set) */
};

static int check_tree(const struct sl_node *n, int depth, struct check *c, struct sl_error *err)
{
	if (!n)
		return 0;
	if (depth > EMIT_MAX_DEPTH)
		return sl_error_set(err, SL_ELIMIT, "printing YAML: nesting deeper than %d levels",
		                    EMIT_MAX_DEPTH);
	switch (n->type) {
	case SL_NODE_FLOAT: c->nonfinite |= !isfinite(n->f); break;
	case SL_NODE_STR:
		if (c->yaml_r == 0)
			c->yaml_r = sl_yaml_string_check(n->str.ptr, n->str.len, err);
		break;
	case SL_NODE_SEQ:
		for (size_t i = 0; i < n->seq.len; i++) {
			int r = check_tree(n->seq.items[i], depth + 1, c, err);
			if (r < 0)
				return r;
		}
		break;
	case SL_NODE_MAP:
		for (size_t i = 0; i < n->map.len; i++) {
			const struct sl_node_pair *p = &n->map.items[i];
			if (c->yaml_r == 0)
				c->yaml_r = sl_yaml_string_check(p->key, p->key_len, err);
			int r = check_tree(p->value, depth + 1, c, err);
			if (r < 0)
				return r;
		}
		break;
	default: break;
	}
	return 0;
}

/* An sl_buf failure while printing what. */
static int output_error(int r, const struct sl_buf *out, const char *what, struct sl_error *err)
{
	if (r == SL_ELIMIT)
		return sl_error_set(err, r, "printing %s: output larger than %zu bytes", what,
		                    out->max);
	return sl_error_set(err, r, "printing %s: out of memory", what);
}

int sl_yaml_emit(struct sl_buf *out, const struct sl_node *doc, struct sl_error *err)
{
	struct check c = {0};
	int r = check_tree(doc, 0, &c, err);
	if (r < 0)
		return r;
	if (c.nonfinite) {
		/* the JSON encoding fails first, naming the first bad value in
		 * its (sorted) order: let it */
		_cleanup_buf_ struct sl_buf json;
		sl_buf_init(&json, 0);
		r = sl_json_emit(&json, doc, err);
		return r < 0 ? r : sl_error_set(err, SL_EINVAL, "json: unsupported value");
	}
	if (c.yaml_r < 0)
		return c.yaml_r;

	struct yaml_emitter e = {.out = out, .indent = -1, .whitespace = true, .indention = true};
	sl_buf_init(&e.scratch, 0);
	size_t start = out->len;
	emit_node(&e, doc, false);
	yaml_write_indent(&e); /* the document's end */
	sl_buf_free(&e.scratch);
	if (e.r < 0) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		return output_error(e.r, out, "YAML", err);
	}
	return 0;
}

/* ---- Go's encoding/json -------------------------------------------------- */

struct json_out {
	struct sl_buf *b;
	size_t start;
	struct sl_error *err;
};

/* Every failure below sets err through here or sl_error_set. */
static int json_append(struct json_out *o, const char *s, size_t len)
{
	int r = sl_buf_append(o->b, s, len);
	return r < 0 ? output_error(r, o->b, "JSON", o->err) : 0;
}

/* A Go string literal; the shared helper stops at NUL, which Go writes as
 * \u0000. */
static int json_string(struct json_out *o, const char *s, size_t len)
{
	if (!memchr(s, '\0', len)) {
		int r = sl_json_append_go_string(o->b, s);
		return r < 0 ? output_error(r, o->b, "JSON", o->err) : 0;
	}
	_cleanup_buf_ struct sl_buf part;
	sl_buf_init(&part, 0);
	int r = json_append(o, "\"", 1);
	for (size_t i = 0; r == 0 && i <= len;) {
		size_t seg = strlen(s + i); /* up to a NUL or the end */
		sl_buf_reset(&part);
		if (sl_json_append_go_string(&part, s + i) < 0)
			return output_error(SL_ENOMEM, o->b, "JSON", o->err);
		r = json_append(o, part.data + 1, part.len - 2);
		i += seg + 1;
		if (r == 0 && i <= len)
			r = json_append(o, "\\u0000", 6);
	}
	return r < 0 ? r : json_append(o, "\"", 1);
}

static int json_node(struct json_out *o, const struct sl_node *n, int depth);

static int json_seq(struct json_out *o, const struct sl_node *n, int depth)
{
	int r = json_append(o, "[", 1);
	for (size_t i = 0; r == 0 && i < n->seq.len; i++) {
		if (i > 0)
			r = json_append(o, ",", 1);
		if (r == 0)
			r = json_node(o, n->seq.items[i], depth + 1);
	}
	return r < 0 ? r : json_append(o, "]", 1);
}

/* Go sorts map keys bytewise. */
static int json_map(struct json_out *o, const struct sl_node *n, int depth)
{
	_cleanup_free_ size_t *order = sl_xmalloc((2 * n->map.len + 1) * sizeof(*order));
	for (size_t i = 0; i < n->map.len; i++)
		order[i] = i;
	sort_indices(order, order + n->map.len, n->map.len, bytes_less, n->map.items);
	int r = json_append(o, "{", 1);
	for (size_t i = 0; r == 0 && i < n->map.len; i++) {
		const struct sl_node_pair *p = &n->map.items[order[i]];
		if (i > 0)
			r = json_append(o, ",", 1);
		if (r == 0)
			r = json_string(o, p->key, p->key_len);
		if (r == 0)
			r = json_append(o, ":", 1);
		if (r == 0)
			r = json_node(o, p->value, depth + 1);
	}
	return r < 0 ? r : json_append(o, "}", 1);
}

static int json_node(struct json_out *o, const struct sl_node *n, int depth)
{
	char text[SL_GOFLOAT_MAX];
	if (depth > EMIT_MAX_DEPTH)
		return sl_error_set(o->err, SL_ELIMIT,
		                    "printing JSON: nesting deeper than %d levels", EMIT_MAX_DEPTH);
	if (!n)
		return json_append(o, "null", 4);
	switch (n->type) {
	case SL_NODE_NULL: return json_append(o, "null", 4);
	case SL_NODE_BOOL: return n->b ? json_append(o, "true", 4) : json_append(o, "false", 5);
	case SL_NODE_INT: snprintf(text, sizeof(text), "%" PRId64, n->i); break;
	case SL_NODE_UINT: snprintf(text, sizeof(text), "%" PRIu64, n->u); break;
	case SL_NODE_FLOAT:
		if (sl_gofloat_json(n->f, text) < 0)
			return sl_error_set(o->err, SL_EINVAL, "json: unsupported value: %s",
			                    sl_gofloat_nonfinite_name(n->f));
		break;
	case SL_NODE_STR: return json_string(o, n->str.ptr, n->str.len);
	case SL_NODE_SEQ: return json_seq(o, n, depth);
	case SL_NODE_MAP: return json_map(o, n, depth);
	}
	return json_append(o, text, strlen(text));
}

int sl_json_emit(struct sl_buf *out, const struct sl_node *n, struct sl_error *err)
{
	struct json_out o = {.b = out, .start = out->len, .err = err};
	int r = json_node(&o, n, 0);
	if (r < 0) {
		out->len = o.start;
		if (out->data)
			out->data[o.start] = '\0';
	}
	return r;
}
