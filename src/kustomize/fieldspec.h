/* kustomize's fieldSpecs: where in an object a transformer writes, as
 * (group, version, kind, path, create) rows, and the walk that finds those
 * places (api/filters/fieldspec). Shared by the field transformers
 * (transform.c) and the name references (nameref.c); private to
 * src/kustomize. Nothing here prints; everything is reentrant. */
#ifndef SLUICE_KUSTOMIZE_FIELDSPEC_H
#define SLUICE_KUSTOMIZE_FIELDSPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "base/base.h"
#include "codec/yaml.h"

/* A row of one of kustomize's tables. NULL or "" in group, version or kind
 * selects any value. path is slash-separated map keys; "\/" is a slash
 * inside a key; a key may end in "[]" (a hint that it holds a list, which
 * also forbids creating it). Lists met on the way are walked element by
 * element whether the path says "[]" or not. */
struct ks_fieldspec {
	const char *group;
	const char *version;
	const char *kind;
	const char *path;
	bool create; /* missing maps on the way (and the last key) are created */
};

/* The object's apiVersion and kind split as kustomize's ResId does. */
struct ks_gvk {
	const char *group; /* not NUL-terminated at group_len */
	size_t group_len;
	const char *version;
	const char *kind;
};

void ks_gvk_of(const struct sl_node *obj, struct ks_gvk *ret);
/* resid.Gvk.IsSelected: every non-empty part of the selector is equal. */
bool ks_gvk_selected(const struct ks_gvk *gvk, const char *group, const char *version,
                     const char *kind);
bool ks_gvk_equal(const struct ks_gvk *a, const struct ks_gvk *b);

/* What the last key of a fieldSpec is created as when create is set. */
enum ks_create_kind {
	KS_CREATE_NONE, /* never create (name references) */
	KS_CREATE_MAP,  /* labels, annotations */
	KS_CREATE_STR,  /* namespace: an empty string, then set */
};

/* Called on each node the path leads to (never NULL; may be any type). */
typedef int (*ks_fieldspec_fn)(struct sl_node *node, void *ctx, struct sl_error *err);

/* Applies fn at every place fs->path leads to in obj, creating what is
 * missing when fs->create and kind allow. Does not check fs's group,
 * version and kind (see ks_fieldspec_applies). Fails, as kustomize does,
 * when the path runs into a scalar. A null on the way counts as missing. */
int ks_fieldspec_walk(struct sl_node *obj, const struct ks_fieldspec *fs, enum ks_create_kind kind,
                      ks_fieldspec_fn fn, void *ctx, struct sl_error *err);
/* Whether fs's group/version/kind select obj's current apiVersion/kind. */
bool ks_fieldspec_applies(const struct ks_fieldspec *fs, const struct sl_node *obj);

/* kustomize's ResId text, "Kind.version.group/name.namespace" with
 * "[noKind]", "[noVer]", "[noGrp]", "[noName]", "[noNs]" for what is
 * missing. Caller frees. */
char *ks_resid_string(const struct sl_node *obj);

/* Build annotations: kustomize keeps each resource's name prefixes and
 * suffixes (comma-separated, innermost first) in these annotations during
 * a build; ks_fix_name_references reads them to choose between candidates
 * and removes every build annotation at the end. */
#define KS_ANNO_PREFIXES "internal.config.kubernetes.io/prefixes"
#define KS_ANNO_SUFFIXES "internal.config.kubernetes.io/suffixes"

#endif
