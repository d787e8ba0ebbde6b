/* sl_yaml_parse on whatever a repository may hold in a .yaml file. A
 * failure must say why and name the file; a success must be a sequence of
 * documents that respect the node model (NUL-terminated strings, unique map
 * keys, lines inside the input) and the caps (depth, node count), whose deep
 * copy is equal to it and frees cleanly, and which the same input gives
 * again. */
#include <math.h>

#include "codec/yaml.h"
#include "fuzz.h"

struct walk {
	size_t nodes;
	uint32_t max_line;
	bool nan; /* NaN != NaN: equality cannot be checked */
};

static void check_node(const struct sl_node *n, size_t depth, struct walk *w);

static void check_map(const struct sl_node *n, size_t depth, struct walk *w)
{
	FUZZ_CHECK(n->map.len <= n->map.cap);
	FUZZ_CHECK(n->map.len == 0 || n->map.items);
	for (size_t i = 0; i < n->map.len; i++) {
		const struct sl_node_pair *p = &n->map.items[i];
		FUZZ_CHECK(p->key && p->key[p->key_len] == '\0');
		/* keys are unique (quadratic, but fuzz inputs are small) */
		for (size_t j = 0; j < i && n->map.len <= 4096; j++) {
			const struct sl_node_pair *q = &n->map.items[j];
			FUZZ_CHECK(q->key_len != p->key_len || memcmp(q->key, p->key, p->key_len));
		}
		FUZZ_CHECK(sl_node_map_getn(n, p->key, p->key_len) == p->value);
		check_node(p->value, depth + 1, w);
	}
}

static void check_node(const struct sl_node *n, size_t depth, struct walk *w)
{
	FUZZ_CHECK(n != NULL);
	FUZZ_CHECK(++w->nodes <= SL_YAML_MAX_NODES);
	FUZZ_CHECK(n->line >= 1 && n->line <= w->max_line);
	FUZZ_CHECK(!n->plain || n->type == SL_NODE_STR);
	switch (n->type) {
	case SL_NODE_STR: FUZZ_CHECK(n->str.ptr && n->str.ptr[n->str.len] == '\0'); break;
	case SL_NODE_UINT: FUZZ_CHECK(n->u > (uint64_t)INT64_MAX); break;
	case SL_NODE_FLOAT: w->nan |= isnan(n->f); break;
	case SL_NODE_SEQ:
		FUZZ_CHECK(depth < SL_YAML_MAX_DEPTH);
		FUZZ_CHECK(n->seq.len <= n->seq.cap);
		for (size_t i = 0; i < n->seq.len; i++)
			check_node(n->seq.items[i], depth + 1, w);
		break;
	case SL_NODE_MAP:
		FUZZ_CHECK(depth < SL_YAML_MAX_DEPTH);
		check_map(n, depth, w);
		break;
	default: break;
	}
}

static int parse(const char *text, size_t size, struct sl_node **ret)
{
	struct sl_error err = {0};
	*ret = NULL;
	int r = sl_yaml_parse(text, size, "fuzz.yaml", ret, &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, err);
		FUZZ_CHECK(r == SL_EINVAL || r == SL_ELIMIT);
		FUZZ_CHECK(sl_startswith(err.msg, "fuzz.yaml:"));
		FUZZ_CHECK(*ret == NULL);
	}
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exactly size bytes, not NUL-terminated, as a file's content */
	char *text = sl_xmalloc(size ? size : 1);
	memcpy(text, data, size);
	struct sl_node *docs;
	if (parse(text, size, &docs) < 0) {
		free(text);
		return 0;
	}
	FUZZ_CHECK(docs && docs->type == SL_NODE_SEQ);
	/* libyaml counts CR, LF, CRLF, NEL, LS and PS as line breaks, and an
	 * empty value at the very end sits on the line after the last one */
	struct walk w = {0, 2, false};
	for (size_t i = 0; i < size; i++)
		w.max_line += data[i] == '\n' || data[i] == '\r' || data[i] == 0x85 ||
		              (data[i] == 0xe2 && i + 2 < size && data[i + 1] == 0x80 &&
		               (data[i + 2] == 0xa8 || data[i + 2] == 0xa9));
	for (size_t i = 0; i < docs->seq.len; i++) {
		const struct sl_node *doc = docs->seq.items[i];
		/* a null document is dropped */
		FUZZ_CHECK(doc->type != SL_NODE_NULL);
		check_node(doc, 0, &w);
	}
	struct sl_node *copy = sl_node_copy(docs);
	struct sl_node *again;
	FUZZ_CHECK(parse(text, size, &again) == 0);
	if (!w.nan) {
		FUZZ_CHECK(sl_node_equal(copy, docs));
		FUZZ_CHECK(sl_node_equal(again, docs));
	}
	sl_node_free(again);
	sl_node_free(copy);
	sl_node_free(docs);
	free(text);
	return 0;
}
