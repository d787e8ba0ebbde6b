/* codec/yaml — the document model of Kubernetes configuration, and the YAML
 * and JSON codecs that read and print it the way kustomize and kubectl do.
 *
 * The model (struct sl_node) is a tree of plain values: null, bool, signed
 * and unsigned 64-bit integers, doubles, strings (length-counted, may hold
 * NUL, always NUL-terminated too), sequences and maps. Maps keep their
 * insertion order and have string keys only: Kubernetes objects are JSON,
 * and kustomize fails on any other key. A node owns its children; a node is
 * owned by exactly one parent (aliases are expanded into copies at read time,
 * so a tree never shares nodes).
 *
 * Reading (yaml_read.c) follows go-yaml v3, the reader kustomize uses:
 * YAML 1.2-ish plain scalar resolution (true/false only, no yes/no), Go
 * integer syntax incl. legacy octal, timestamps re-printed as RFC 3339
 * strings, anchors/aliases/merge keys expanded. Printing (yaml_emit.c)
 * reproduces what `kubectl kustomize` prints for an object: the JSON round
 * trip kustomize does (numbers normalized) and go-yaml v2's emitter (sorted
 * keys, quoting, folding at 80 columns, literal blocks).
 *
 * Thread-safety: a tree is not synchronized; distinct trees are independent.
 * Nothing here prints. */
#ifndef SLUICE_CODEC_YAML_H
#define SLUICE_CODEC_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* Caps on what one YAML stream may make us build. */
#define SL_YAML_MAX_BYTES (64u << 20) /* one file */
#define SL_YAML_MAX_DEPTH 512         /* nesting of collections */
#define SL_YAML_MAX_NODES (4u << 20)  /* nodes per stream, aliases expanded */

enum sl_node_type {
	SL_NODE_NULL,
	SL_NODE_BOOL,
	SL_NODE_INT,   /* fits int64 */
	SL_NODE_UINT,  /* > INT64_MAX, fits uint64 */
	SL_NODE_FLOAT, /* finite or not: the emitter refuses inf/nan like Go's JSON */
	SL_NODE_STR,
	SL_NODE_SEQ,
	SL_NODE_MAP,
};

struct sl_node;

struct sl_node_pair {
	char *key; /* NUL-terminated; key_len excludes the NUL */
	size_t key_len;
	struct sl_node *value;
};

struct sl_node {
	enum sl_node_type type;
	/* 1-based line in the source it was read from (saturates at 2^30);
	 * 0 = made here. */
	uint32_t line : 30;
	/* A string that was a plain (unquoted, non-block) scalar in the source:
	 * Flux's post-build substitution re-reads such values, so "${N}"
	 * stays a string while ${N} may become a number. */
	uint32_t plain : 1;
	/* A null written as nothing (`key:`), not as `null` or `~`: kustomize's
	 * strategic merge drops such fields from the objects it patches. */
	uint32_t empty : 1;
	union {
		bool b;
		int64_t i;
		uint64_t u;
		double f;
		struct {
			char *ptr;
			size_t len;
		} str;
		struct {
			struct sl_node **items;
			size_t len, cap;
		} seq;
		struct {
			struct sl_node_pair *items;
			size_t len, cap;
		} map;
	};
};

/* ---- construction and ownership (node.c) -------------------------------- */

struct sl_node *sl_node_new_null(void);
struct sl_node *sl_node_new_bool(bool b);
struct sl_node *sl_node_new_int(int64_t i);
struct sl_node *sl_node_new_uint(uint64_t u);
struct sl_node *sl_node_new_float(double f);
struct sl_node *sl_node_new_str(const char *s); /* copies */
struct sl_node *sl_node_new_strn(const char *s, size_t len);
/* Takes ownership of a malloc'ed NUL-terminated string of length len. */
struct sl_node *sl_node_new_str_take(char *s, size_t len);
struct sl_node *sl_node_new_seq(void);
struct sl_node *sl_node_new_map(void);

/* Frees a node and everything under it; accepts NULL, returns NULL. */
struct sl_node *sl_node_free(struct sl_node *n);
static inline void sl_node_freep(struct sl_node **n)
{
	sl_node_free(*n);
}
#define _cleanup_node_ _cleanup_(sl_node_freep)

/* A deep copy (line numbers kept). */
struct sl_node *sl_node_copy(const struct sl_node *n);
/* Deep equality of values. Maps compare as sets of pairs (order ignored);
 * an int and a uint or float of the same value are equal. */
bool sl_node_equal(const struct sl_node *a, const struct sl_node *b);
/* Replaces *dst's content with src's, taking src (freed shell). Keeps dst's
 * address valid for parents that point at it. */
void sl_node_replace(struct sl_node *dst, struct sl_node *src);

/* ---- sequences ---------------------------------------------------------- */

/* Appends item, taking ownership. */
void sl_node_seq_push(struct sl_node *seq, struct sl_node *item);
/* Inserts at index (0..len), taking ownership. */
void sl_node_seq_insert(struct sl_node *seq, size_t index, struct sl_node *item);
/* Removes and returns the item at index; the caller owns it. */
struct sl_node *sl_node_seq_take(struct sl_node *seq, size_t index);

/* ---- maps --------------------------------------------------------------- */

/* The value under key, or NULL. Linear search: objects are small. */
struct sl_node *sl_node_map_get(const struct sl_node *map, const char *key);
struct sl_node *sl_node_map_getn(const struct sl_node *map, const char *key, size_t key_len);
/* Index of key, or -1. */
ssize_t sl_node_map_index(const struct sl_node *map, const char *key, size_t key_len);
/* Sets key to value (taking it): replaces an existing value in place (its
 * position kept), else appends. Returns value. */
struct sl_node *sl_node_map_set(struct sl_node *map, const char *key, struct sl_node *value);
struct sl_node *sl_node_map_setn(struct sl_node *map, const char *key, size_t key_len,
                                 struct sl_node *value);
/* Removes key and returns its value (caller owns it), or NULL. */
struct sl_node *sl_node_map_take(struct sl_node *map, const char *key);
/* Removes and frees key's value; true when it was there. */
bool sl_node_map_del(struct sl_node *map, const char *key);
/* The map under key, created (or replacing a null) when absent. NULL when
 * the key holds something that is not a map. */
struct sl_node *sl_node_map_ensure_map(struct sl_node *map, const char *key);

/* ---- convenience readers ------------------------------------------------ */

/* The string value of n, or NULL when n is NULL or not a string. */
const char *sl_node_str(const struct sl_node *n);
/* Follows a NULL-terminated list of map keys: sl_node_dig(obj, "metadata",
 * "name", NULL). NULL when any step is missing or not a map. */
struct sl_node *sl_node_dig(const struct sl_node *n, ...) __attribute__((sentinel));
/* sl_node_str(sl_node_dig(...)). */
const char *sl_node_dig_str(const struct sl_node *n, ...) __attribute__((sentinel));
/* "map", "string", ... for error messages. */
const char *sl_node_type_name(enum sl_node_type t);

/* ---- YAML reading (yaml_read.c) ----------------------------------------- */

/* Parses a YAML stream (several documents, JSON too) the way go-yaml v3
 * does and returns a sequence of its documents. Documents that are empty or
 * hold only comments are dropped; an explicit `null` document too. `name`
 * (a file name) prefixes every error: "NAME:LINE: ...". Fails on syntax
 * errors, duplicate map keys, keys that are not strings, characters YAML
 * forbids, and beyond the SL_YAML_MAX_* caps. */
int sl_yaml_parse(const char *data, size_t len, const char *name, struct sl_node **ret_docs,
                  struct sl_error *err);
/* sl_yaml_parse on a file's content (at most SL_YAML_MAX_BYTES); errors
 * name display_name, or path when it is NULL. */
int sl_yaml_parse_file(const char *path, const char *display_name, struct sl_node **ret_docs,
                       struct sl_error *err);

/* ---- YAML printing (yaml_emit.c) ---------------------------------------- */

/* Appends one document, without any `---`, exactly as `kubectl kustomize`
 * prints an object: the value goes through Go's JSON encoding and back
 * through go-yaml v2 (see tests/data/kustomize/README.md, "Observed kubectl
 * kustomize output rules"). Fails, appending nothing, on values JSON cannot
 * hold (inf, nan) or characters go-yaml v2 refuses (U+007F, U+FFFE, ...). */
int sl_yaml_emit(struct sl_buf *out, const struct sl_node *doc, struct sl_error *err);

/* ---- JSON printing (yaml_emit.c) ---------------------------------------- */

/* Appends n as Go's encoding/json prints a map[string]interface{} tree:
 * compact, map keys sorted bytewise, `<>&` and U+2028/U+2029 escaped,
 * invalid UTF-8 as U+FFFD, floats in Go's format. Fails on inf/nan. */
int sl_json_emit(struct sl_buf *out, const struct sl_node *n, struct sl_error *err);

#endif
