#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "codec/yaml.h"

static struct sl_node *node_new(enum sl_node_type type)
{
	struct sl_node *n = sl_xcalloc(1, sizeof(*n));
	n->type = type;
	return n;
}

struct sl_node *sl_node_new_null(void)
{
	return node_new(SL_NODE_NULL);
}

struct sl_node *sl_node_new_bool(bool b)
{
	struct sl_node *n = node_new(SL_NODE_BOOL);
	n->b = b;
	return n;
}

struct sl_node *sl_node_new_int(int64_t i)
{
	struct sl_node *n = node_new(SL_NODE_INT);
	n->i = i;
	return n;
}

struct sl_node *sl_node_new_uint(uint64_t u)
{
	/* Keep one representation per value: INT whenever it fits. */
	if (u <= INT64_MAX)
		return sl_node_new_int((int64_t)u);
	struct sl_node *n = node_new(SL_NODE_UINT);
	n->u = u;
	return n;
}

struct sl_node *sl_node_new_float(double f)
{
	struct sl_node *n = node_new(SL_NODE_FLOAT);
	n->f = f;
	return n;
}

struct sl_node *sl_node_new_str_take(char *s, size_t len)
{
	struct sl_node *n = node_new(SL_NODE_STR);
	n->str.ptr = s;
	n->str.len = len;
	return n;
}

struct sl_node *sl_node_new_strn(const char *s, size_t len)
{
	char *copy = sl_xmalloc(len + 1);
	memcpy(copy, s, len);
	copy[len] = '\0';
	return sl_node_new_str_take(copy, len);
}

struct sl_node *sl_node_new_str(const char *s)
{
	return sl_node_new_strn(s, strlen(s));
}

struct sl_node *sl_node_new_seq(void)
{
	return node_new(SL_NODE_SEQ);
}

struct sl_node *sl_node_new_map(void)
{
	return node_new(SL_NODE_MAP);
}

/* Frees what n holds, leaving the shell. */
static void node_clear(struct sl_node *n)
{
	switch (n->type) {
	case SL_NODE_STR: free(n->str.ptr); break;
	case SL_NODE_SEQ:
		for (size_t i = 0; i < n->seq.len; i++)
			sl_node_free(n->seq.items[i]);
		free(n->seq.items);
		break;
	case SL_NODE_MAP:
		for (size_t i = 0; i < n->map.len; i++) {
			free(n->map.items[i].key);
			sl_node_free(n->map.items[i].value);
		}
		free(n->map.items);
		break;
	default: break;
	}
	enum sl_node_type t = n->type;
	uint32_t line = n->line;
	memset(n, 0, sizeof(*n));
	n->type = t;
	n->line = line;
}

struct sl_node *sl_node_free(struct sl_node *n)
{
	if (!n)
		return NULL;
	node_clear(n);
	free(n);
	return NULL;
}

struct sl_node *sl_node_copy(const struct sl_node *n)
{
	if (!n)
		return NULL;
	struct sl_node *c;
	switch (n->type) {
	case SL_NODE_STR: c = sl_node_new_strn(n->str.ptr, n->str.len); break;
	case SL_NODE_SEQ:
		c = node_new(SL_NODE_SEQ);
		if (n->seq.len) {
			c->seq.items = sl_xmalloc(n->seq.len * sizeof(*c->seq.items));
			c->seq.cap = n->seq.len;
			for (size_t i = 0; i < n->seq.len; i++)
				c->seq.items[i] = sl_node_copy(n->seq.items[i]);
			c->seq.len = n->seq.len;
		}
		break;
	case SL_NODE_MAP:
		c = node_new(SL_NODE_MAP);
		if (n->map.len) {
			c->map.items = sl_xmalloc(n->map.len * sizeof(*c->map.items));
			c->map.cap = n->map.len;
			for (size_t i = 0; i < n->map.len; i++) {
				const struct sl_node_pair *p = &n->map.items[i];
				char *key = sl_xmalloc(p->key_len + 1);
				memcpy(key, p->key, p->key_len + 1);
				c->map.items[i] =
				    (struct sl_node_pair){key, p->key_len, sl_node_copy(p->value)};
			}
			c->map.len = n->map.len;
		}
		break;
	default:
		c = node_new(n->type);
		*c = *n;
		break;
	}
	c->line = n->line;
	c->plain = n->plain;
	c->empty = n->empty;
	return c;
}

/* The numeric value as a long double for cross-type comparison; exact for
 * every int64, uint64 and double on x86-64 (64-bit mantissa). */
static bool node_number(const struct sl_node *n, long double *v)
{
	switch (n->type) {
	case SL_NODE_INT: *v = n->i; return true;
	case SL_NODE_UINT: *v = n->u; return true;
	case SL_NODE_FLOAT: *v = n->f; return true;
	default: return false;
	}
}

bool sl_node_equal(const struct sl_node *a, const struct sl_node *b)
{
	if (!a || !b)
		return a == b;
	long double x, y;
	if (node_number(a, &x) && node_number(b, &y))
		return x == y;
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case SL_NODE_NULL: return true;
	case SL_NODE_BOOL: return a->b == b->b;
	case SL_NODE_STR:
		return a->str.len == b->str.len && memcmp(a->str.ptr, b->str.ptr, a->str.len) == 0;
	case SL_NODE_SEQ:
		if (a->seq.len != b->seq.len)
			return false;
		for (size_t i = 0; i < a->seq.len; i++)
			if (!sl_node_equal(a->seq.items[i], b->seq.items[i]))
				return false;
		return true;
	case SL_NODE_MAP:
		if (a->map.len != b->map.len)
			return false;
		for (size_t i = 0; i < a->map.len; i++) {
			const struct sl_node_pair *p = &a->map.items[i];
			struct sl_node *other = sl_node_map_getn(b, p->key, p->key_len);
			if (!other || !sl_node_equal(p->value, other))
				return false;
		}
		return true;
	default: return false;
	}
}

void sl_node_replace(struct sl_node *dst, struct sl_node *src)
{
	node_clear(dst);
	*dst = *src;
	free(src);
}

void sl_node_seq_insert(struct sl_node *seq, size_t index, struct sl_node *item)
{
	if (seq->seq.len == seq->seq.cap) {
		seq->seq.cap = seq->seq.cap ? seq->seq.cap * 2 : 4;
		seq->seq.items =
		    sl_xrealloc(seq->seq.items, seq->seq.cap * sizeof(*seq->seq.items));
	}
	if (index > seq->seq.len)
		index = seq->seq.len;
	memmove(&seq->seq.items[index + 1], &seq->seq.items[index],
	        (seq->seq.len - index) * sizeof(*seq->seq.items));
	seq->seq.items[index] = item;
	seq->seq.len++;
}

void sl_node_seq_push(struct sl_node *seq, struct sl_node *item)
{
	sl_node_seq_insert(seq, seq->seq.len, item);
}

struct sl_node *sl_node_seq_take(struct sl_node *seq, size_t index)
{
	if (index >= seq->seq.len)
		return NULL;
	struct sl_node *item = seq->seq.items[index];
	memmove(&seq->seq.items[index], &seq->seq.items[index + 1],
	        (seq->seq.len - index - 1) * sizeof(*seq->seq.items));
	seq->seq.len--;
	return item;
}

ssize_t sl_node_map_index(const struct sl_node *map, const char *key, size_t key_len)
{
	if (!map || map->type != SL_NODE_MAP)
		return -1;
	for (size_t i = 0; i < map->map.len; i++) {
		const struct sl_node_pair *p = &map->map.items[i];
		if (p->key_len == key_len && memcmp(p->key, key, key_len) == 0)
			return (ssize_t)i;
	}
	return -1;
}

struct sl_node *sl_node_map_getn(const struct sl_node *map, const char *key, size_t key_len)
{
	ssize_t i = sl_node_map_index(map, key, key_len);
	return i < 0 ? NULL : map->map.items[i].value;
}

struct sl_node *sl_node_map_get(const struct sl_node *map, const char *key)
{
	return sl_node_map_getn(map, key, strlen(key));
}

struct sl_node *sl_node_map_setn(struct sl_node *map, const char *key, size_t key_len,
                                 struct sl_node *value)
{
	ssize_t i = sl_node_map_index(map, key, key_len);
	if (i >= 0) {
		sl_node_free(map->map.items[i].value);
		map->map.items[i].value = value;
		return value;
	}
	if (map->map.len == map->map.cap) {
		map->map.cap = map->map.cap ? map->map.cap * 2 : 4;
		map->map.items =
		    sl_xrealloc(map->map.items, map->map.cap * sizeof(*map->map.items));
	}
	char *copy = sl_xmalloc(key_len + 1);
	memcpy(copy, key, key_len);
	copy[key_len] = '\0';
	map->map.items[map->map.len++] = (struct sl_node_pair){copy, key_len, value};
	return value;
}

struct sl_node *sl_node_map_set(struct sl_node *map, const char *key, struct sl_node *value)
{
	return sl_node_map_setn(map, key, strlen(key), value);
}

struct sl_node *sl_node_map_take(struct sl_node *map, const char *key)
{
	ssize_t i = sl_node_map_index(map, key, strlen(key));
	if (i < 0)
		return NULL;
	struct sl_node *value = map->map.items[i].value;
	free(map->map.items[i].key);
	memmove(&map->map.items[i], &map->map.items[i + 1],
	        (map->map.len - (size_t)i - 1) * sizeof(*map->map.items));
	map->map.len--;
	return value;
}

bool sl_node_map_del(struct sl_node *map, const char *key)
{
	struct sl_node *v = sl_node_map_take(map, key);
	if (!v)
		return sl_node_map_index(map, key, strlen(key)) >= 0;
	sl_node_free(v);
	return true;
}

struct sl_node *sl_node_map_ensure_map(struct sl_node *map, const char *key)
{
	struct sl_node *v = sl_node_map_get(map, key);
	if (v && v->type == SL_NODE_MAP)
		return v;
	if (v && v->type != SL_NODE_NULL)
		return NULL;
	return sl_node_map_set(map, key, sl_node_new_map());
}

const char *sl_node_str(const struct sl_node *n)
{
	return n && n->type == SL_NODE_STR ? n->str.ptr : NULL;
}

static struct sl_node *node_vdig(const struct sl_node *n, va_list ap)
{
	const char *key;
	while (n && (key = va_arg(ap, const char *)))
		n = n->type == SL_NODE_MAP ? sl_node_map_get(n, key) : NULL;
	return (struct sl_node *)n;
}

struct sl_node *sl_node_dig(const struct sl_node *n, ...)
{
	va_list ap;
	va_start(ap, n);
	struct sl_node *r = node_vdig(n, ap);
	va_end(ap);
	return r;
}

const char *sl_node_dig_str(const struct sl_node *n, ...)
{
	va_list ap;
	va_start(ap, n);
	struct sl_node *r = node_vdig(n, ap);
	va_end(ap);
	return sl_node_str(r);
}

const char *sl_node_type_name(enum sl_node_type t)
{
	switch (t) {
	case SL_NODE_NULL: return "null";
	case SL_NODE_BOOL: return "bool";
	case SL_NODE_INT:
	case SL_NODE_UINT: return "integer";
	case SL_NODE_FLOAT: return "number";
	case SL_NODE_STR: return "string";
	case SL_NODE_SEQ: return "list";
	case SL_NODE_MAP: return "map";
	}
	return "?";
}
