/* JSON patches (RFC 6902) as kustomize v5.5.0 applies them: through
 * gopkg.in/evanphx/json-patch.v4, whose behaviour and messages are kept:
 * the root cannot be a target (path "" is "missing"), a path without a
 * leading "/" names a field of the root, replace on a missing field of an
 * existing map adds it, copy from a missing field copies null, negative
 * indices count from the end, and a failing op stops the patch. The ops run on a copy; *obj changes
 * only when all succeed. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "kustomize/ks.h"

#define MISSING   "missing value"
#define BAD_INDEX "invalid index referenced"

/* RFC 6901: ~1 is '/', then ~0 is '~'. */
static char *decode_token(const char *s, size_t len)
{
	char *out = sl_xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '~' && i + 1 < len && (s[i + 1] == '0' || s[i + 1] == '1')) {
			out[n++] = s[i + 1] == '1' ? '/' : '~';
			i++;
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
	return out;
}

/* Go's strconv.Atoi: optional sign, decimal digits, nothing else. */
static bool parse_index(const char *s, long long *ret)
{
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (!*p)
		return false;
	for (const char *q = p; *q; q++)
		if (*q < '0' || *q > '9')
			return false;
	errno = 0;
	long long v = strtoll(s, NULL, 10);
	if (errno)
		return false;
	*ret = v;
	return true;
}

static int atoi_error(struct sl_error *err, const char *key)
{
	return sl_error_set(err, SL_EINVAL, "strconv.Atoi: parsing \"%s\": invalid syntax", key);
}

/* The value under key in a map or list container; NULL when missing. For
 * lists, a bad or out-of-range index is an error. */
static int container_get(struct sl_node *con, const char *key, struct sl_node **ret,
                         struct sl_error *err)
{
	*ret = NULL;
	if (con->type == SL_NODE_MAP) {
		*ret = sl_node_map_get(con, key);
		return 0;
	}
	long long idx;
	if (!parse_index(key, &idx))
		return atoi_error(err, key);
	long long len = (long long)con->seq.len;
	if (idx >= len || idx < -len)
		return sl_error_set(err, SL_EINVAL,
		                    "Unable to access invalid index: %lld: " BAD_INDEX, idx);
	*ret = con->seq.items[idx < 0 ? idx + len : idx];
	return 0;
}

/* The container of the last token of path and that token, decoded; NULL
 * when some step is missing, null or a scalar. */
static struct sl_node *find_object(struct sl_node *doc, const char *path, char **ret_key)
{
	*ret_key = NULL;
	const char *slash = strchr(path, '/');
	if (!slash)
		return NULL;
	const char *part = slash + 1;
	for (;;) {
		const char *next = strchr(part, '/');
		if (!next)
			break;
		_cleanup_free_ char *key = decode_token(part, (size_t)(next - part));
		struct sl_error ignored;
		struct sl_node *child;
		if (container_get(doc, key, &child, &ignored) < 0 || !child)
			return NULL;
		if (child->type != SL_NODE_MAP && child->type != SL_NODE_SEQ)
			return NULL;
		doc = child;
		part = next + 1;
	}
	*ret_key = decode_token(part, strlen(part));
	return doc;
}

/* Inserts val (taken) at key: a map field (replacing), a list index
 * (0..len, negative from the end) or "-" (append). */
static int container_add(struct sl_node *con, const char *key, struct sl_node *val,
                         struct sl_error *err)
{
	if (con->type == SL_NODE_MAP) {
		sl_node_map_set(con, key, val);
		return 0;
	}
	if (strcmp(key, "-") == 0) {
		sl_node_seq_push(con, val);
		return 0;
	}
	long long idx;
	if (!parse_index(key, &idx)) {
		sl_node_free(val);
		atoi_error(err, key);
		return sl_error_wrap(err, SL_EINVAL, "value was not a proper array index: '%s'",
		                     key);
	}
	long long size = (long long)con->seq.len + 1;
	if (idx >= size || idx < -size) {
		sl_node_free(val);
		return sl_error_set(err, SL_EINVAL,
		                    "Unable to access invalid index: %lld: " BAD_INDEX, idx);
	}
	if (idx < 0)
		idx += size;
	sl_node_seq_insert(con, (size_t)idx, val);
	return 0;
}

/* Takes the value at key out of the container into *ret (NULL: free it). */
static int container_remove(struct sl_node *con, const char *key, struct sl_node **ret,
                            struct sl_error *err)
{
	struct sl_node *taken;
	if (con->type == SL_NODE_MAP) {
		if (sl_node_map_index(con, key, strlen(key)) < 0)
			return sl_error_set(err, SL_EINVAL,
			                    "Unable to remove nonexistent key: %s: " MISSING, key);
		taken = sl_node_map_take(con, key);
	} else {
		long long idx;
		if (!parse_index(key, &idx))
			return atoi_error(err, key);
		long long len = (long long)con->seq.len;
		if (idx >= len || idx < -len)
			return sl_error_set(err, SL_EINVAL,
			                    "Unable to access invalid index: %lld: " BAD_INDEX,
			                    idx);
		if (idx < 0)
			idx += len;
		taken = sl_node_seq_take(con, (size_t)idx);
	}
	if (ret)
		*ret = taken;
	else
		sl_node_free(taken);
	return 0;
}

/* ---- one operation ---------------------------------------------------- */

struct op {
	const char *name;
	const struct sl_node *map;
	const char *path; /* NULL: missing */
	const char *from;
};

/* A copy of the op's value; null when it has none. */
static struct sl_node *op_value(const struct op *op)
{
	const struct sl_node *v = sl_node_map_get(op->map, "value");
	return v ? sl_node_copy(v) : sl_node_new_null();
}

static int op_add(struct sl_node *doc, const struct op *op, struct sl_error *err)
{
	if (!op->path)
		return sl_error_set(err, SL_EINVAL,
		                    "add operation failed to decode path: " MISSING);
	_cleanup_free_ char *key = NULL;
	struct sl_node *con = find_object(doc, op->path, &key);
	if (!con)
		return sl_error_set(
		    err, SL_EINVAL,
		    "add operation does not apply: doc is missing path: \"%s\": " MISSING,
		    op->path);
	int r = container_add(con, key, op_value(op), err);
	if (r < 0)
		return sl_error_wrap(err, r, "error in add for path: '%s'", op->path);
	return 0;
}

static int op_remove(struct sl_node *doc, const struct op *op, struct sl_error *err)
{
	if (!op->path)
		return sl_error_set(err, SL_EINVAL,
		                    "remove operation failed to decode path: " MISSING);
	_cleanup_free_ char *key = NULL;
	struct sl_node *con = find_object(doc, op->path, &key);
	if (!con)
		return sl_error_set(
		    err, SL_EINVAL,
		    "remove operation does not apply: doc is missing path: \"%s\": " MISSING,
		    op->path);
	int r = container_remove(con, key, NULL, err);
	if (r < 0)
		return sl_error_wrap(err, r, "error in remove for path: '%s'", op->path);
	return 0;
}

static int op_replace(struct sl_node *doc, const struct op *op, struct sl_error *err)
{
	if (!op->path)
		return sl_error_set(
		    err, SL_EINVAL,
		    "replace operation failed to decode path: operation missing path "
		    "field: " MISSING);
	_cleanup_free_ char *key = NULL;
	struct sl_node *con = find_object(doc, op->path, &key);
	if (!con)
		return sl_error_set(
		    err, SL_EINVAL,
		    "replace operation does not apply: doc is missing path: %s: " MISSING,
		    op->path);
	if (con->type == SL_NODE_MAP) {
		/* json-patch v4 finds every map key, so a new one is added */
		sl_node_map_set(con, key, op_value(op));
		return 0;
	}
	struct sl_node *old;
	struct sl_error ignored;
	if (container_get(con, key, &old, &ignored) < 0)
		return sl_error_set(
		    err, SL_EINVAL,
		    "replace operation does not apply: doc is missing key: %s: " MISSING, op->path);
	long long idx;
	parse_index(key, &idx);
	if (idx < 0)
		idx += (long long)con->seq.len;
	sl_node_free(con->seq.items[idx]);
	con->seq.items[idx] = op_value(op);
	return 0;
}

static int op_move(struct sl_node *doc, const struct op *op, struct sl_error *err)
{
	if (!op->from)
		return sl_error_set(err, SL_EINVAL,
		                    "move operation failed to decode from: operation, missing from "
		                    "field: " MISSING);
	_cleanup_free_ char *key = NULL;
	struct sl_node *con = find_object(doc, op->from, &key);
	if (!con)
		return sl_error_set(
		    err, SL_EINVAL,
		    "move operation does not apply: doc is missing from path: %s: " MISSING,
		    op->from);
	_cleanup_node_ struct sl_node *val = NULL;
	int r = container_remove(con, key, &val, err);
	if (r < 0)
		return sl_error_wrap(err, r, "error in move for path: '%s'", key);
	if (!op->path)
		return sl_error_set(err, SL_EINVAL,
		                    "move operation failed to decode path: operation missing path "
		                    "field: " MISSING);
	_cleanup_free_ char *to_key = NULL;
	con = find_object(doc, op->path, &to_key);
	if (!con)
		return sl_error_set(
		    err, SL_EINVAL,
		    "move operation does not apply: doc is missing destination path: %s: " MISSING,
		    op->path);
	r = container_add(con, to_key, TAKE_PTR(val), err);
	if (r < 0)
		return sl_error_wrap(err, r, "error in move for path: '%s'", op->path);
	return 0;
}

static int op_test(struct sl_node *doc, const struct op *op, struct sl_error *err)
{
	if (!op->path)
		return sl_error_set(err, SL_EINVAL,
		                    "test operation failed to decode path: operation missing path "
		                    "field: " MISSING);
	_cleanup_free_ char *key = NULL;
	struct sl_node *con = find_object(doc, op->path, &key);
	if (!con)
		return sl_error_set(err, SL_EINVAL,
		                    "test operation does not apply: is missing path: %s: " MISSING,
		                    op->path);
	struct sl_node *val;
	int r = container_get(con, key, &val, err);
	if (r < 0)
		return sl_error_wrap(err, r, "error in test for path: '%s'", op->path);
	const struct sl_node *want = sl_node_map_get(op->map, "value");
	bool ok;
	if (!val || val->type == SL_NODE_NULL)
		ok = !want || want->type == SL_NODE_NULL;
	else
		ok = want && sl_node_equal(val, want);
	if (!ok)
		return sl_error_set(err, SL_EINVAL, "testing value %s failed: test failed",
		                    op->path);
	return 0;
}

static int op_copy(struct sl_node *doc, const struct op *op, struct sl_error *err)
{
	if (!op->from)
		return sl_error_set(err, SL_EINVAL,
		                    "copy operation failed to decode from: operation, missing from "
		                    "field: " MISSING);
	_cleanup_free_ char *key = NULL;
	struct sl_node *con = find_object(doc, op->from, &key);
	if (!con)
		return sl_error_set(
		    err, SL_EINVAL,
		    "copy operation does not apply: doc is missing from path: %s: " MISSING,
		    op->from);
	struct sl_node *val;
	int r = container_get(con, key, &val, err);
	if (r < 0)
		return sl_error_wrap(err, r, "error in copy for from: '%s'", op->from);
	if (!op->path)
		return sl_error_set(err, SL_EINVAL,
		                    "copy operation failed to decode path: " MISSING);
	_cleanup_free_ char *to_key = NULL;
	con = find_object(doc, op->path, &to_key);
	if (!con)
		return sl_error_set(
		    err, SL_EINVAL,
		    "copy operation does not apply: doc is missing destination path: %s: " MISSING,
		    op->path);
	/* a missing map field copies as null */
	r = container_add(con, to_key, val ? sl_node_copy(val) : sl_node_new_null(), err);
	if (r < 0)
		return sl_error_wrap(err, r, "error while adding value during copy");
	return 0;
}

/* A string member; NULL when missing or not a string (json-patch reports
 * both as a path it failed to decode). */
static const char *op_string(const struct sl_node *map, const char *field)
{
	return sl_node_str(sl_node_map_get(map, field));
}

static int apply_op(struct sl_node *doc, const struct sl_node *map, struct sl_error *err)
{
	struct op op = {.map = map};
	const struct sl_node *name = sl_node_map_get(map, "op");
	op.name = name && name->type == SL_NODE_STR ? name->str.ptr : "unknown";
	op.path = op_string(map, "path");
	op.from = op_string(map, "from");
	if (strcmp(op.name, "add") == 0)
		return op_add(doc, &op, err);
	if (strcmp(op.name, "remove") == 0)
		return op_remove(doc, &op, err);
	if (strcmp(op.name, "replace") == 0)
		return op_replace(doc, &op, err);
	if (strcmp(op.name, "move") == 0)
		return op_move(doc, &op, err);
	if (strcmp(op.name, "test") == 0)
		return op_test(doc, &op, err);
	if (strcmp(op.name, "copy") == 0)
		return op_copy(doc, &op, err);
	return sl_error_set(err, SL_EINVAL, "Unexpected kind: %s", op.name);
}

int ks_json6902_apply(struct sl_node **obj, const struct sl_node *ops, struct sl_error *err)
{
	if (ops->type != SL_NODE_SEQ)
		return sl_error_set(
		    err, SL_EINVAL,
		    "json: cannot unmarshal %s into Go value of type jsonpatch.Patch",
		    sl_node_type_name(ops->type));
	for (size_t i = 0; i < ops->seq.len; i++)
		if (ops->seq.items[i]->type != SL_NODE_MAP)
			return sl_error_set(
			    err, SL_EINVAL,
			    "json: cannot unmarshal %s into Go value of type jsonpatch.Operation",
			    sl_node_type_name(ops->seq.items[i]->type));
	if ((*obj)->type != SL_NODE_MAP && (*obj)->type != SL_NODE_SEQ)
		return sl_error_set(err, SL_EINVAL,
		                    "a JSON patch applies to a map or a list, not a %s",
		                    sl_node_type_name((*obj)->type));
	_cleanup_node_ struct sl_node *doc = sl_node_copy(*obj);
	for (size_t i = 0; i < ops->seq.len; i++) {
		int r = apply_op(doc, ops->seq.items[i], err);
		if (r < 0)
			return r;
	}
	sl_node_replace(*obj, TAKE_PTR(doc));
	return 0;
}
