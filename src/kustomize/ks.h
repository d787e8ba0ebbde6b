/* kustomize internals: the pieces the build engine (build.c) is made of.
 * Each function works on sl_node trees (codec/yaml.h) and never prints;
 * errors say what is wrong in kustomize's words where kustomize has them.
 * Not a public contract: only src/kustomize and its unit tests use this. */
#ifndef SLUICE_KUSTOMIZE_KS_H
#define SLUICE_KUSTOMIZE_KS_H

#include <regex.h>
#include <stdbool.h>

#include "base/base.h"
#include "codec/yaml.h"

/* ---- strategic merge patch (smp.c) -------------------------------------- */

/* Applies a strategic merge patch to obj in place, as kustomize's patch
 * transformer does: the merge keys and list strategies of the built-in
 * Kubernetes types chosen by obj's apiVersion/kind (custom resources: maps
 * merge, lists are replaced), `null` deletes, `$patch: delete|replace`
 * directives. *ret_deleted is set when the patch deletes the whole object
 * (`$patch: delete` at its top). The patch's apiVersion, kind and
 * metadata.name/namespace are not applied unless allow_name_change /
 * allow_kind_change say so. */
int ks_smp_apply(struct sl_node *obj, const struct sl_node *patch, bool allow_name_change,
                 bool allow_kind_change, bool *ret_deleted, struct sl_error *err);

/* ---- JSON 6902 (json6902.c) --------------------------------------------- */

/* Applies a JSON patch (a sequence of operation maps: add, remove, replace,
 * move, copy, test; RFC 6901 pointers with ~0/~1) to *obj. Replaces *obj
 * when an op targets the root. Errors name the op and the path. */
int ks_json6902_apply(struct sl_node **obj, const struct sl_node *ops, struct sl_error *err);

/* ---- selectors (selector.c) --------------------------------------------- */

/* A Kubernetes label selector in its text form: `a=b,c!=d,e in (x,y),
 * f notin (z),g,!h` (also `==`). */
struct ks_label_selector;
int ks_label_selector_parse(const char *text, struct ks_label_selector **ret, struct sl_error *err);
/* labels: a map of strings, or NULL for none. */
bool ks_label_selector_match(const struct ks_label_selector *s, const struct sl_node *labels);
struct ks_label_selector *ks_label_selector_free(struct ks_label_selector *s);

/* A patch target (`patches[].target`, `patchesJson6902[].target`,
 * replicas/images do not use it): group, version, kind, name, namespace
 * as anchored regular expressions (Go RE2 syntax as far as POSIX ERE can
 * express it), labelSelector, annotationSelector. */
struct ks_target;
int ks_target_parse(const struct sl_node *target_map, struct ks_target **ret, struct sl_error *err);
/* kustomize's ResMap.Select: the name matches the original or the current
 * name, the namespace the original or the current one (empty = none);
 * group/version/kind match the current apiVersion/kind (an empty group or
 * version in the target matches any). */
bool ks_target_match(const struct ks_target *t, const struct sl_node *obj, const char *orig_name,
                     const char *orig_namespace);
struct ks_target *ks_target_free(struct ks_target *t);

/* ---- generators (generator.c) ------------------------------------------- */

/* Builds the ConfigMap (secret=false) or Secret described by one
 * configMapGenerator/secretGenerator entry (args), reading files, envs and
 * literals relative to dir, with the kustomization's generatorOptions
 * (global_options, may be NULL) and the entry's own options applied. The
 * object has its plain name (no hash). *ret_add_hash says whether the
 * name gets the content hash (disableNameSuffixHash not set). */
int ks_generate(bool secret, const struct sl_node *args, const struct sl_node *global_options,
                const char *dir, struct sl_node **ret_obj, bool *ret_add_hash,
                struct sl_error *err);
/* behavior: merge — overlay's data/binaryData/labels/annotations (and type)
 * merged into base, in place. */
int ks_generator_merge(struct sl_node *base, const struct sl_node *overlay, struct sl_error *err);
/* The 10-character suffix kustomize appends to a generated ConfigMap's or
 * Secret's name (sha256 of its Go JSON encoding, encoded the way kustomize
 * encodes it). */
int ks_generator_hash(const struct sl_node *obj, char out[11], struct sl_error *err);

/* ---- post-build substitution (substitute.c) ----------------------------- */

/* Flux's envsubst on YAML text (drone/envsubst semantics: ${var},
 * ${var:=default}, ${var:-default}, ${var:+alt}, ${#var}, ... and `$$`
 * escapes). vars: a map of strings. strict: an undefined variable without
 * a default is an error naming it. */
int ks_envsubst(const char *text, size_t len, const struct sl_node *vars, bool strict,
                struct sl_buf *out, struct sl_error *err);
/* Flux's per-object substitution: skipped when the object's label or
 * annotation kustomize.toolkit.fluxcd.io/substitute is "disabled"; else the
 * object is printed as YAML, substituted, and read back (replacing *obj). */
/* The typed value a plain scalar's text reads as under YAML 1.1 (what
 * sigs.k8s.io/yaml reads: yes/no/on/off/y/n are bools), or NULL when it is
 * a string. */
struct sl_node *ks_yaml11_resolve(const char *text, size_t len);
int ks_substitute_object(struct sl_node **obj, const struct sl_node *vars, bool strict,
                         struct sl_error *err);

/* ---- resources (build.c) ------------------------------------------------ */

/* One object of a build with the ids it had: kustomize matches patches,
 * replicas, generator merges and name references against any of them. */
struct ks_resource {
	struct sl_node *obj; /* owned; its current name/namespace live here */
	/* Every name/namespace the object had before the current one, oldest
	 * first ([0] = as loaded or generated); "" for no namespace. Same
	 * length. Appended by ks_resource_rename. */
	struct sl_strv prev_names;
	struct sl_strv prev_namespaces;
	bool generated;   /* from a configMapGenerator/secretGenerator */
	bool hash_suffix; /* generated, and gets the content hash at the end */
};

struct ks_resmap {
	struct ks_resource **items;
	size_t len, cap;
};

/* Fails when two objects have the same current id (group, version, kind,
 * name, namespace with "" = "default"): "WHAT: <id>". O(n log n). */
int ks_resmap_check_unique(const struct ks_resmap *m, const char *what, struct sl_error *err);
/* The object's current metadata.name / metadata.namespace ("" if none). */
const char *ks_resource_name(const struct ks_resource *r);
const char *ks_resource_namespace(const struct ks_resource *r);
/* Records the current name and namespace in the history, then sets the new
 * ones (NULL keeps one; "" for namespace removes it). */
void ks_resource_rename(struct ks_resource *r, const char *name, const char *ns);
/* The object's group ("" for core), version and kind. */
void ks_resource_gvk(const struct ks_resource *r, const char **group, size_t *group_len,
                     const char **version, const char **kind);
/* Whether group/version/kind is cluster-scoped as kustomize knows it (the
 * built-in API it embeds, exact versions; everything else is namespaced). */
bool ks_kind_is_cluster_scoped(const char *group, size_t group_len, const char *version,
                               const char *kind);

/* ---- field transformers (transform.c) ----------------------------------- */

/* namespace: as kustomize's NamespaceTransformer (cluster-scoped kinds
 * skipped, Namespace objects renamed, RoleBinding/ClusterRoleBinding
 * ServiceAccount subjects, webhook and APIService service namespaces). */
int ks_apply_namespace(struct ks_resmap *m, const char *ns, struct sl_error *err);
/* namePrefix/nameSuffix (either may be NULL or ""): every object but
 * Namespaces and CRDs renamed, recorded with ks_resource_rename. */
int ks_apply_name_affixes(struct ks_resmap *m, const char *prefix, const char *suffix,
                          struct sl_error *err);
/* commonLabels (include_selectors=true, include_templates=true) and
 * `labels` entries: pairs is a map of strings; fields an optional sequence
 * of extra fieldSpecs ({path, kind, group, version, create}). */
int ks_apply_labels(struct ks_resmap *m, const struct sl_node *pairs, bool include_selectors,
                    bool include_templates, const struct sl_node *fields, struct sl_error *err);
/* commonAnnotations: metadata and templates. */
int ks_apply_annotations(struct ks_resmap *m, const struct sl_node *pairs, struct sl_error *err);

/* ---- name references (nameref.c) ---------------------------------------- */

/* Extra reference rules from a kustomization's `crds:` files (OpenAPI
 * definitions with x-kubernetes-object-ref-api-version/kind). */
struct ks_nameref_extra;
int ks_nameref_extra_add_crd(struct ks_nameref_extra **extra, const struct sl_node *doc,
                             struct sl_error *err);
struct ks_nameref_extra *ks_nameref_extra_free(struct ks_nameref_extra *extra);
/* kustomize's FixBackReferences: every reference (ConfigMap/Secret in pod
 * specs, ServiceAccounts, PVCs, roleRefs, Services, ...) whose value is a
 * name some object of the referenced kind had (in its history) is set to
 * that object's current name, namespaces permitting. Run once, at the end
 * of the build, after hashes were appended. */
int ks_fix_name_references(struct ks_resmap *m, const struct ks_nameref_extra *extra,
                           struct sl_error *err);

/* ---- confinement (kfile.c) ---- */

/* Confines the calling thread's build to root (a realpath; NULL: none). */
void ks_confine(const char *root);
/* 0 when path resolves (symlinks followed) in or below the confining root,
 * or nothing confines the build, or path does not exist (the caller's own
 * error says so); else SL_EINVAL with kustomize's "security; file ... is
 * not in or below ..." message. */
int ks_path_confined(const char *path, struct sl_error *err);

#endif
