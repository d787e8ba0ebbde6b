/* Private to the strategic merge patch (smp.c, smp_lists.c, schema.c).
 *
 * The schema part: which lists of the built-in Kubernetes types merge
 * (x-kubernetes-patch-strategy "merge") and by which keys
 * (x-kubernetes-list-map-keys, else x-kubernetes-patch-merge-key; none: a
 * set of scalars, like finalizers), from the Kubernetes v1.21.2 schema
 * kustomize v5.5.0 embeds (kyaml/openapi/kubernetesapi/v1_21_2). Static,
 * read-only, thread-safe.
 *
 * The merge part: the state of one merge and kyaml's list operations
 * (ElementSetter, ElementMatcher, the walker's merge key bookkeeping) the
 * walker is built on. */
#ifndef SLUICE_KUSTOMIZE_SMP_INTERNAL_H
#define SLUICE_KUSTOMIZE_SMP_INTERNAL_H

#include <stdbool.h>

#include "kustomize/ks.h"

#define KS_SCHEMA_MAX_KEYS 2

struct ks_schema_field;

/* An object (fields) or a list (merge, keys, items). A schema without
 * fields and without merge stands for a value of a known type in which no
 * list merges: lists in it are replaced, maps merged. */
struct ks_schema {
	const struct ks_schema_field *fields;     /* the fields that matter; {NULL} ends */
	bool merge;                               /* a list merged element by element */
	const char *keys[KS_SCHEMA_MAX_KEYS + 1]; /* its merge keys, NULL-terminated */
	const struct ks_schema *items;            /* its elements; NULL: plain */
};

struct ks_schema_field {
	const char *name;
	const struct ks_schema *schema;
};

/* Known type, nothing inside merges. */
extern const struct ks_schema ks_schema_plain;

/* The schema of a built-in type, or NULL for anything else (custom
 * resources). Matched on the exact apiVersion and kind, as kustomize does. */
const struct ks_schema *ks_schema_for_type(const char *api_version, const char *kind);
/* A field of an object schema: its schema, or ks_schema_plain. */
const struct ks_schema *ks_schema_field(const struct ks_schema *s, const char *name);
/* The elements of a merging list: their schema, or ks_schema_plain. */
const struct ks_schema *ks_schema_items(const struct ks_schema *s);

/* ---- one merge ------------------------------------------------------------ */

#define MAX_KEYS KS_SCHEMA_MAX_KEYS

/* Values of the merge keys of one list element, as text. */
struct tuple {
	const char *v[MAX_KEYS];
	size_t n;
};

struct tuples {
	struct tuple *items;
	size_t len, cap;
};

struct merge {
	struct sl_node **pool; /* every node of both trees and made since (smp.c) */
	size_t npool, cap;
	struct sl_strv texts; /* strings the tuples point to */
	struct sl_buf path;   /* field path of the walk, for messages */
	struct sl_error *err;
};

static inline bool missing_or_null(const struct sl_node *n)
{
	return !n || n->type == SL_NODE_NULL;
}

static inline bool empty_map(const struct sl_node *n)
{
	return missing_or_null(n) || (n->type == SL_NODE_MAP && n->map.len == 0);
}

static inline bool is_scalar(const struct sl_node *n)
{
	return n->type != SL_NODE_MAP && n->type != SL_NODE_SEQ;
}

/* A null read from a key without a value (`key:`) rather than written
 * (`null`, `~`): kyaml drops such fields of the object when it merges a
 * map, and keeps written nulls. The reader marks them (sl_node.empty); a
 * null made by code counts as written. */
static inline bool null_is_empty(const struct sl_node *n)
{
	return n->type == SL_NODE_NULL && n->empty;
}

static inline const char *class_name(const struct sl_node *n)
{
	return n->type == SL_NODE_MAP ? "map" : n->type == SL_NODE_SEQ ? "list" : "scalar";
}

/* ---- scalars (smp_lists.c) ----------------------------------------------- */

/* The text kyaml compares: a scalar's value as written, "" for maps and
 * lists. Valid until the merge ends. */
const char *ks_smp_text(struct merge *m, const struct sl_node *n);
/* Whether a string of the object was certainly written quoted. */
bool ks_smp_written_quoted(const struct sl_node *n);
/* yaml.NewScalarRNode(text), typed as YAML reads it back. */
struct sl_node *ks_smp_scalar_from_text(const char *t);
/* "PATH: wrong node kind: expected WANT but got ..." in m->err. */
int ks_smp_kind_error(struct merge *m, const char *want, const struct sl_node *got);

/* ---- kyaml's list operations (smp_lists.c) ------------------------------ */

/* ElementSetter: replaces the elements whose keys have the values by elem
 * (appended when none has), or removes them when elem is NULL. Null and {}
 * elements are dropped on the way. */
int ks_smp_element_set(struct merge *m, struct sl_node *list, struct sl_node *elem,
                       const char *const *keys, size_t nkeys, const char *const *values,
                       size_t nvalues);
/* ElementMatcher: the first map element whose keys have the values
 * (keys[0] "": the first element whose text is values[0]). */
struct sl_node *ks_smp_element_find(struct merge *m, struct sl_node *list, const char *const *keys,
                                    size_t nkeys, const char *const *values, size_t nvalues);
/* The key values of every element of both lists, the patch's first,
 * each once. */
void ks_smp_element_values(struct merge *m, struct sl_node *dest, struct sl_node *origin,
                           const char *const *keys, size_t nkeys, struct tuples *ret);
/* The elements of two lists of scalars (finalizers), the patch's first. */
void ks_smp_primitive_values(struct merge *m, struct sl_node *dest, struct sl_node *origin,
                             struct tuples *ret);
/* Multi-key lists: values that differ only by missing keys become one. */
void ks_smp_merge_values(struct tuples *ts);
/* kyaml's validateKeys: the keys that have a value in some element of
 * all, and the values of values for those keys. */
void ks_smp_validate_keys(const struct tuple *all, size_t nall, const struct tuple *values,
                          const char *const *keys, size_t nkeys, struct tuple *ret_keys,
                          struct tuple *ret_values);

#endif
