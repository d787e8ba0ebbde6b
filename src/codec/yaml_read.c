/* sl_yaml_parse: a YAML stream read the way kustomize reads a file.
 *
 * kustomize (kyaml) splits a stream into documents at `---` lines itself,
 * decodes each piece with go-yaml v3 (keeping the first document of a
 * piece), expands anchors and merge keys, and later round-trips every
 * object through go-yaml v3's encoder and decoder. We follow the same
 * path: read_stream cuts the pieces, libyaml's event parser (go-yaml v3's
 * parser is a port of it) reads each into a raw tree (struct rnode, the
 * equivalent of a yaml.Node), and yaml_convert.c turns that tree into
 * sl_node values by go-yaml v3's rules.
 *
 * The caps are enforced while reading events, on sizes computed bottom-up
 * (an alias adds the size of its anchor), so a billion laughs fails before
 * anything is expanded. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "codec/yaml.h"
#include "codec/yaml_tree.h"

/* ---- errors ------------------------------------------------------------ */

int yt_fail(struct yt_reader *rd, int code, uint32_t line, const char *fmt, ...)
{
	char msg[SL_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sl_error_set(rd->err, code, "%s:%u: %s", rd->name, line, msg);
}

static uint32_t count_lines(const char *s, size_t n)
{
	uint32_t lines = 0;
	const char *end = s + n, *p = s;
	while ((p = memchr(p, '\n', (size_t)(end - p)))) {
		lines++;
		p++;
	}
	return lines;
}

/* A libyaml error in go-yaml v3's words: "yaml: line N: problem", with the
 * line of the construct being scanned (an unterminated quote names the line
 * it opened on) as go-yaml picks it. Reader errors (bad UTF-8, control
 * characters) carry a byte offset instead of a mark. */
static int libyaml_error(struct yt_reader *rd, const yaml_parser_t *p, const char *piece,
                         size_t len)
{
	if (p->error == YAML_MEMORY_ERROR)
		return sl_error_set(rd->err, SL_ENOMEM, "%s: out of memory", rd->name);
	const char *problem = p->problem ? p->problem : "unknown problem parsing YAML content";
	if (p->error == YAML_READER_ERROR) {
		uint32_t line = rd->line0 + 1;
		size_t end = p->problem_offset < len ? p->problem_offset : len;
		line += count_lines(piece, end);
		return yt_fail(rd, SL_EINVAL, line, "yaml: %s", problem);
	}
	yaml_mark_t mark = p->problem_mark;
	if (p->error == YAML_SCANNER_ERROR && p->context)
		mark = p->context_mark;
	uint32_t line = rd->line0 + (uint32_t)mark.line + 1;
	return yt_fail(rd, SL_EINVAL, line, "yaml: line %u: %s", line, problem);
}

/* ---- arena ------------------------------------------------------------- */

#define ARENA_BLOCK (64u << 10)

struct yt_block {
	struct yt_block *next;
	size_t used, size;
	max_align_t data[];
};

void *yt_alloc(struct yt_reader *rd, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	struct yt_block *b = rd->blocks;
	if (!b || b->size - b->used < n) {
		size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		b = sl_xmalloc(sizeof(*b) + size);
		b->next = rd->blocks;
		b->used = 0;
		b->size = size;
		rd->blocks = b;
	}
	void *p = (unsigned char *)b->data + b->used;
	b->used += n;
	return p;
}

static char *arena_strndup(struct yt_reader *rd, const char *s, size_t n)
{
	char *c = yt_alloc(rd, n + 1);
	memcpy(c, s, n);
	c[n] = '\0';
	return c;
}

#define GROW(items, n, cap)                                                                        \
	do {                                                                                       \
		if ((n) == (cap)) {                                                                \
			(cap) = (cap) ? (cap)*2 : 64;                                              \
			(items) = sl_xrealloc((items), (cap) * sizeof(*(items)));                  \
		}                                                                                  \
	} while (0)

/* Forgets the piece just read: its raw tree, scalars and anchors. */
static void reset_piece(struct yt_reader *rd)
{
	for (size_t i = 0; i < rd->n_scalars; i++)
		free(rd->scalars[i]->value);
	rd->n_scalars = 0;
	/* one standard block is kept for the next piece: streams of many small
	 * documents would otherwise allocate one per document */
	struct yt_block *keep = NULL;
	while (rd->blocks) {
		struct yt_block *next = rd->blocks->next;
		if (!keep && rd->blocks->size == ARENA_BLOCK)
			keep = rd->blocks;
		else
			free(rd->blocks);
		rd->blocks = next;
	}
	if (keep) {
		keep->next = NULL;
		keep->used = 0;
	}
	rd->blocks = keep;
	yt_strmap_clear(&rd->anchors);
	rd->n_pending = 0;
	rd->n_frames = 0;
}

static void reader_done(struct yt_reader *rd)
{
	reset_piece(rd);
	free(rd->blocks);
	free(rd->scalars);
	free(rd->pending);
	free(rd->frames);
	yt_strmap_free(&rd->anchors);
}

/* ---- events into a raw tree -------------------------------------------- */

static uint32_t mark_line(const struct yt_reader *rd, const yaml_mark_t *m)
{
	return rd->line0 + (uint32_t)m->line + 1;
}

/* Whether the next node is a key of the map being read. */
static bool at_key(const struct yt_reader *rd)
{
	if (!rd->n_frames)
		return false;
	const struct yt_frame *f = &rd->frames[rd->n_frames - 1];
	return f->node->kind == R_MAP && (rd->n_pending - f->start) % 2 == 0;
}

/* Counts n more nodes of the stream against SL_YAML_MAX_NODES. */
static int count_nodes(struct yt_reader *rd, uint32_t n, uint32_t line, bool alias)
{
	rd->nodes += n;
	if (rd->nodes <= SL_YAML_MAX_NODES)
		return 0;
	return yt_fail(rd, SL_ELIMIT, line, "yaml: %s more than %u nodes%s",
	               alias ? "document contains excessive aliasing:" : "the stream has",
	               SL_YAML_MAX_NODES, alias ? " once aliases are expanded" : "");
}

static struct rnode *rnode_new(struct yt_reader *rd, enum rkind kind, const yaml_mark_t *m)
{
	struct rnode *rn = yt_alloc(rd, sizeof(*rn));
	memset(rn, 0, sizeof(*rn));
	rn->kind = kind;
	rn->line = mark_line(rd, m);
	rn->merge = -1;
	return rn;
}

static void push_pending(struct yt_reader *rd, struct rnode *rn)
{
	GROW(rd->pending, rd->n_pending, rd->cap_pending);
	rd->pending[rd->n_pending++] = rn;
}

/* go-yaml's short tags: "tag:yaml.org,2002:int" is "!!int"; the
 * non-specific "!" is no tag at all. */
static const char *short_tag(struct yt_reader *rd, const yaml_char_t *tag)
{
	static const char prefix[] = "tag:yaml.org,2002:";
	const char *t = (const char *)tag;
	if (!t || !*t || strcmp(t, "!") == 0)
		return NULL;
	if (strncmp(t, prefix, sizeof(prefix) - 1) != 0)
		return arena_strndup(rd, t, strlen(t));
	const char *suffix = t + sizeof(prefix) - 1;
	size_t n = strlen(suffix);
	char *s = yt_alloc(rd, n + 3);
	memcpy(s, "!!", 2);
	memcpy(s + 2, suffix, n + 1);
	return s;
}

static void set_anchor(struct yt_reader *rd, const yaml_char_t *anchor, struct rnode *rn)
{
	if (!anchor)
		return;
	const char *name = (const char *)anchor;
	size_t n = strlen(name);
	bool found;
	struct yt_slot *slot = yt_strmap_insert(&rd->anchors, name, n, &found);
	if (!found)
		slot->key = arena_strndup(rd, name, n);
	slot->value = rn;
	rn->anchored = true;
}

static int on_scalar(struct yt_reader *rd, yaml_event_t *e)
{
	struct rnode *rn = rnode_new(rd, R_SCALAR, &e->start_mark);
	rn->style = (uint8_t)e->data.scalar.style;
	rn->tag = short_tag(rd, e->data.scalar.tag);
	rn->len = e->data.scalar.length;
	if (e->data.scalar.value[rn->len] == '\0') {
		/* libyaml's buffer is malloc'ed and NUL-terminated: take it
		 * (yaml_event_delete frees NULL just fine) */
		rn->value = (char *)e->data.scalar.value;
		e->data.scalar.value = NULL;
	} else {
		rn->value = sl_strndup((const char *)e->data.scalar.value, rn->len);
	}
	GROW(rd->scalars, rd->n_scalars, rd->cap_scalars);
	rd->scalars[rd->n_scalars++] = rn;
	rn->size = 1;
	if (!at_key(rd)) {
		int r = count_nodes(rd, 1, rn->line, false);
		if (r < 0)
			return r;
	}
	set_anchor(rd, e->data.scalar.anchor, rn);
	push_pending(rd, rn);
	return 0;
}

static int on_alias(struct yt_reader *rd, const yaml_event_t *e)
{
	const char *name = (const char *)e->data.alias.anchor;
	uint32_t line = mark_line(rd, &e->start_mark);
	struct yt_slot *slot = yt_strmap_get(&rd->anchors, name, strlen(name));
	if (!slot)
		return yt_fail(rd, SL_EINVAL, line, "yaml: unknown anchor '%s' referenced", name);
	struct rnode *target = slot->value;
	if (target->open)
		return yt_fail(rd, SL_EINVAL, line, "yaml: anchor '%s' value contains itself",
		               name);
	bool key = at_key(rd);
	if (key && target->kind != R_SCALAR)
		return yt_fail(rd, SL_EINVAL, line, "yaml: invalid map key: the %s of anchor '%s'",
		               target->kind == R_MAP ? "map" : "list", name);
	if (rd->n_frames + target->height > SL_YAML_MAX_DEPTH)
		return yt_fail(rd, SL_ELIMIT, line,
		               "yaml: alias '%s' nests collections deeper than %u levels", name,
		               SL_YAML_MAX_DEPTH);
	if (!key) {
		int r = count_nodes(rd, target->size, line, true);
		if (r < 0)
			return r;
	}
	struct rnode *rn = rnode_new(rd, R_ALIAS, &e->start_mark);
	rn->target = target;
	rn->size = target->size;
	rn->height = target->height;
	push_pending(rd, rn);
	return 0;
}

static int on_collection_start(struct yt_reader *rd, const yaml_event_t *e, enum rkind kind)
{
	uint32_t line = mark_line(rd, &e->start_mark);
	if (at_key(rd))
		return yt_fail(rd, SL_EINVAL, line,
		               "yaml: invalid map key: a %s (keys must be strings)",
		               kind == R_MAP ? "map" : "list");
	if (rd->n_frames + 1 > SL_YAML_MAX_DEPTH)
		return yt_fail(rd, SL_ELIMIT, line,
		               "yaml: collections nested deeper than %u levels", SL_YAML_MAX_DEPTH);
	int r = count_nodes(rd, 1, line, false);
	if (r < 0)
		return r;
	struct rnode *rn = rnode_new(rd, kind, &e->start_mark);
	const yaml_char_t *anchor;
	if (kind == R_MAP) {
		rn->flow = e->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
		anchor = e->data.mapping_start.anchor;
	} else {
		rn->flow = e->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
		anchor = e->data.sequence_start.anchor;
	}
	rn->open = true;
	set_anchor(rd, anchor, rn);
	push_pending(rd, rn);
	GROW(rd->frames, rd->n_frames, rd->cap_frames);
	rd->frames[rd->n_frames++] = (struct yt_frame){rn, rd->n_pending};
	return 0;
}

static int on_collection_end(struct yt_reader *rd)
{
	struct yt_frame f = rd->frames[--rd->n_frames];
	struct rnode *rn = f.node;
	rn->len = rd->n_pending - f.start;
	rn->kids = yt_alloc(rd, (rn->len ? rn->len : 1) * sizeof(*rn->kids));
	memcpy(rn->kids, rd->pending + f.start, rn->len * sizeof(*rn->kids));
	rd->n_pending = f.start;
	uint32_t height = 0;
	uint64_t size = 1;
	for (size_t i = 0; i < rn->len; i++) {
		const struct rnode *kid = rn->kids[i];
		if (kid->height > height)
			height = kid->height;
		if (rn->kind == R_SEQ || i % 2)
			size += kid->size;
	}
	rn->height = height + 1;
	/* every value was counted in rd->nodes, which is capped */
	rn->size = (uint32_t)size;
	rn->open = false;
	return rn->kind == R_MAP ? yt_check_map(rd, rn) : 0;
}

/* Reads one event; *done once the first document (or the stream) ends. */
static int on_event(struct yt_reader *rd, yaml_event_t *e, struct rnode **root, bool *done)
{
	switch (e->type) {
	case YAML_SCALAR_EVENT: return on_scalar(rd, e);
	case YAML_ALIAS_EVENT: return on_alias(rd, e);
	case YAML_SEQUENCE_START_EVENT: return on_collection_start(rd, e, R_SEQ);
	case YAML_MAPPING_START_EVENT: return on_collection_start(rd, e, R_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: return on_collection_end(rd);
	case YAML_DOCUMENT_END_EVENT:
		*root = rd->n_pending ? rd->pending[0] : NULL;
		*done = true;
		return 0;
	case YAML_STREAM_END_EVENT: *done = true; return 0;
	default: return 0;
	}
}

/* kyaml drops a document whose root is null: empty, comments only, `~`,
 * `null`, or anything tagged !!null. */
static bool null_document(const struct rnode *root)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	if (root->kind != R_SCALAR)
		return false;
	if (root->tag)
		return strcmp(root->tag, "!!null") == 0;
	if (root->style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < SL_ARRAY_SIZE(nulls); i++)
		if (strcmp(root->value, nulls[i]) == 0 && strlen(nulls[i]) == root->len)
			return true;
	return false;
}

/* Reads the first document of one piece of the stream into docs. */
static int read_piece(struct yt_reader *rd, const char *piece, size_t len, struct sl_node *docs)
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return sl_error_set(rd->err, SL_ENOMEM, "%s: out of memory", rd->name);
	yaml_parser_set_input_string(&parser, (const unsigned char *)piece, len);
	struct rnode *root = NULL;
	bool done = false;
	int r = 0;
	while (r == 0 && !done) {
		yaml_event_t e;
		if (!yaml_parser_parse(&parser, &e)) {
			r = libyaml_error(rd, &parser, piece, len);
			break;
		}
		r = on_event(rd, &e, &root, &done);
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&parser);
	if (r == 0 && root && !null_document(root)) {
		struct sl_node *doc = NULL;
		r = yt_convert(rd, root, &doc);
		if (r == 0)
			sl_node_seq_push(docs, doc);
	}
	reset_piece(rd);
	return r;
}

/* ---- the stream, cut as kyaml cuts it ---------------------------------- */

/* Go's unicode.IsSpace for the rune at s (of n bytes); its width in *w. */
static bool go_space(const unsigned char *s, size_t n, size_t *w)
{
	*w = 1;
	if (s[0] && strchr(" \t\n\v\f\r", s[0]))
		return true;
	if (n >= 2 && s[0] == 0xC2 && (s[1] == 0x85 || s[1] == 0xA0)) {
		*w = 2;
		return true;
	}
	if (n < 3 || (s[0] & 0xF0) != 0xE0)
		return false;
	*w = 3;
	uint32_t c = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
	return c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
	       c == 0x202F || c == 0x205F || c == 0x3000;
}

/* kyaml's splitDocuments: a line starting with `---` separates documents
 * when what follows on it is blank or a comment, and fails otherwise. */
static bool separator_ok(const char *rest, size_t n)
{
	const unsigned char *s = (const unsigned char *)rest;
	size_t i = 0, w;
	while (i < n && go_space(s + i, n - i, &w))
		i += w;
	return i == n || s[i] == '#';
}

/* The separators of the stream: offsets of the '\n' before each `---` line
 * and of the '\n' that ends it. kyaml's regexp `\n---.*\n` does not
 * overlap: a line right after a separator cannot be one. */
static int find_separators(struct yt_reader *rd, const char *data, size_t len, size_t **ret,
                           size_t *ret_n)
{
	size_t *seps = NULL, n = 0, cap = 0, pos = 0;
	uint32_t line = 1;
	size_t counted = 0;
	const char *hit;
	while (pos < len && (hit = memmem(data + pos, len - pos, "\n---", 4))) {
		size_t at = (size_t)(hit - data);
		const char *eol = memchr(hit + 4, '\n', len - at - 4);
		if (!eol)
			break;
		size_t end = (size_t)(eol - data);
		if (!separator_ok(hit + 4, end - at - 4)) {
			for (; counted <= at; counted++)
				line += data[counted] == '\n';
			size_t shown = end - at - 1;
			while (shown > 3 && strchr(" \t\r", data[at + shown]))
				shown--;
			free(seps);
			return yt_fail(rd, SL_EINVAL, line, "invalid document separator: %.*s",
			               (int)(shown > 80 ? 80 : shown), data + at + 1);
		}
		if (n + 2 > cap) {
			cap = cap ? cap * 2 : 16;
			seps = sl_xrealloc(seps, cap * sizeof(*seps));
		}
		seps[n++] = at;
		seps[n++] = end;
		pos = end + 1;
	}
	*ret = seps;
	*ret_n = n;
	return 0;
}

static int read_stream(struct yt_reader *rd, const char *data, size_t len, struct sl_node *docs)
{
	_cleanup_free_ size_t *seps = NULL;
	size_t n_seps = 0;
	int r = find_separators(rd, data, len, &seps, &n_seps);
	if (r < 0)
		return r;
	size_t start = 0;
	for (size_t i = 0; i <= n_seps; i += 2) {
		/* a piece keeps the '\n' before its separator, as kyaml adds it back */
		size_t end = i < n_seps ? seps[i] + 1 : len;
		r = read_piece(rd, data + start, end - start, docs);
		if (r < 0)
			return r;
		if (i < n_seps) {
			rd->line0 += count_lines(data + start, seps[i + 1] + 1 - start);
			start = seps[i + 1] + 1;
		}
	}
	return 0;
}

int sl_yaml_parse(const char *data, size_t len, const char *name, struct sl_node **ret_docs,
                  struct sl_error *err)
{
	if (!name)
		name = "<input>";
	if (len > SL_YAML_MAX_BYTES)
		return sl_error_set(err, SL_ELIMIT, "%s: larger than %u bytes", name,
		                    SL_YAML_MAX_BYTES);
	_cleanup_(reader_done) struct yt_reader rd = {.name = name, .err = err};
	_cleanup_node_ struct sl_node *docs = sl_node_new_seq();
	int r = read_stream(&rd, data ? data : "", len, docs);
	if (r < 0)
		return r;
	*ret_docs = TAKE_PTR(docs);
	return 0;
}

int sl_yaml_parse_file(const char *path, const char *display_name, struct sl_node **ret_docs,
                       struct sl_error *err)
{
	_cleanup_buf_ struct sl_buf buf;
	sl_buf_init(&buf, SL_YAML_MAX_BYTES);
	int r = sl_read_file(path, SL_YAML_MAX_BYTES, &buf, err);
	if (r < 0)
		return r;
	return sl_yaml_parse(buf.data, buf.len, display_name ? display_name : path, ret_docs, err);
}
