/* codec/yaml_tree — the YAML reader's internals, shared by yaml_read.c
 * (libyaml events into a raw tree, the stream and its caps) and
 * yaml_convert.c (the raw tree into sl_node values by go-yaml v3's rules).
 *
 * A raw node lives in the reader's arena until the piece of the stream it
 * came from has been converted; scalar values are malloc'ed (libyaml's own
 * buffers) and owned by their node until a conversion takes them. Not
 * thread-safe: one reader per sl_yaml_parse call. */
#ifndef SLUICE_CODEC_YAML_TREE_H
#define SLUICE_CODEC_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/yaml.h"

enum rkind { R_SCALAR, R_SEQ, R_MAP, R_ALIAS };

struct rnode {
	enum rkind kind;
	uint8_t style;        /* R_SCALAR: a yaml_scalar_style_t */
	bool flow;            /* R_SEQ, R_MAP: written in flow style */
	bool anchored;        /* named by an anchor: aliases read it again */
	bool open;            /* a collection whose end has not been read yet */
	uint32_t line;        /* 1-based, in the whole stream */
	uint32_t height;      /* levels of collections in it, aliases expanded */
	uint32_t size;        /* sl_nodes it becomes, aliases expanded (keys excluded) */
	int32_t merge;        /* R_MAP: index in kids of its merge key (`<<`), or -1 */
	const char *tag;      /* short form ("!!int", "!foo"), NULL for none */
	char *value;          /* R_SCALAR: NUL-terminated, owned; NULL once taken */
	size_t len;           /* R_SCALAR: bytes of value; collections: kids */
	struct rnode **kids;  /* R_MAP: key, value, key, value ... */
	struct rnode *target; /* R_ALIAS: the anchored node */
};

static inline const struct rnode *rnode_deref(const struct rnode *rn)
{
	return rn->kind == R_ALIAS ? rn->target : rn;
}

/* A string-keyed hash table (open addressing, SipHash with a per-process
 * random key so crafted keys cannot make it quadratic). Keys are not
 * copied. */
struct yt_slot {
	const char *key; /* NULL: empty slot */
	size_t len;
	uint64_t hash;
	void *value;
};

struct yt_strmap {
	struct yt_slot *slots;
	size_t cap, len; /* cap is 0 or a power of two */
};

struct yt_slot *yt_strmap_get(const struct yt_strmap *m, const char *key, size_t len);
/* The slot of key, created (key set, value NULL) unless *found. */
struct yt_slot *yt_strmap_insert(struct yt_strmap *m, const char *key, size_t len, bool *found);
void yt_strmap_clear(struct yt_strmap *m);
void yt_strmap_free(struct yt_strmap *m);

struct yt_frame {
	struct rnode *node;
	size_t start; /* its first kid in pending */
};

struct yt_block;

struct yt_reader {
	const char *name; /* prefixes every error */
	struct sl_error *err;
	uint32_t line0;          /* lines of the stream before the current piece */
	uint64_t nodes;          /* sl_nodes of the stream so far, aliases expanded */
	struct yt_block *blocks; /* arena of the current piece */
	struct rnode **scalars;  /* whose values to free */
	size_t n_scalars, cap_scalars;
	struct rnode **pending; /* kids of the open collections, in order */
	size_t n_pending, cap_pending;
	struct yt_frame *frames; /* open collections */
	size_t n_frames, cap_frames;
	struct yt_strmap anchors; /* name -> struct rnode * */
};

/* Sets "NAME:LINE: message" and returns code. */
int yt_fail(struct yt_reader *rd, int code, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Memory freed with the piece. */
void *yt_alloc(struct yt_reader *rd, size_t n);

/* At the end of a map: duplicate keys, merge keys and their values. */
int yt_check_map(struct yt_reader *rd, struct rnode *map);
/* The document rooted at root as sl_node values. */
int yt_convert(struct yt_reader *rd, const struct rnode *root, struct sl_node **ret);

#endif
