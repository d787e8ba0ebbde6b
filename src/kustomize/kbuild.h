/* The build engine's own pieces (build.c, kfile.c, images.c, order.c,
 * flux.c): kustomization files, the accumulation, the output order. */
#ifndef SLUICE_KUSTOMIZE_KBUILD_H
#define SLUICE_KUSTOMIZE_KBUILD_H

#include "kustomize/ks.h"
#include "kustomize/kustomize.h"

/* A kustomization file, read and checked. */
struct ks_kfile {
	char *dir;  /* the directory, as the user's path spells it */
	char *path; /* the file */
	struct sl_node *k;
	bool component;
};

/* dir joined with rel (rel as is when absolute; "./" dropped). */
char *ks_path_join(const char *dir, const char *rel);
/* *ret_path = the kustomization file in dir, or NULL when there is none;
 * fails when there are several. */
int ks_find_kustomization(const char *dir, char **ret_path, struct sl_error *err);
/* Reads a kustomization file: one YAML document. */
int ks_kfile_read(const char *path, struct sl_node **ret_k, struct sl_error *err);
/* Checks k (taken): a map of known fields with the types kustomize's Go
 * struct has. path names it in errors. */
int ks_kfile_make(const char *dir, const char *path, struct sl_node *k, struct ks_kfile **ret,
                  struct sl_error *err);
struct ks_kfile *ks_kfile_free(struct ks_kfile *kf);
static inline void ks_kfile_freep(struct ks_kfile **kf)
{
	ks_kfile_free(*kf);
}
/* Whether a resources/components entry names a remote target. */
bool ks_looks_remote(const char *entry);

/* ---- resource maps (build.c) ---- */
struct ks_resource *ks_resource_new(struct sl_node *obj);
struct ks_resource *ks_resource_free(struct ks_resource *r);
void ks_resmap_push(struct ks_resmap *m, struct ks_resource *r);
void ks_resmap_clear(struct ks_resmap *m);
/* Whether some id r ever had (history or current) equals name in the
 * namespace ns (effective: "" is "default"; ignored for cluster-scoped). */
bool ks_resource_had_name(const struct ks_resource *r, const char *name, const char *ns,
                          bool check_ns);

/* ---- images and replicas (images.c) ---- */
int ks_apply_images(struct ks_resmap *m, const struct sl_node *images, struct sl_error *err);
int ks_apply_replicas(struct ks_resmap *m, const struct sl_node *replicas, struct sl_error *err);

/* ---- output order (order.c) ---- */
/* Sorts as kustomize's legacy order (sort_options NULL or order: legacy,
 * with its orderFirst/orderLast) or keeps the input order (fifo). */
int ks_sort(struct ks_resmap *m, const struct sl_node *sort_options, struct sl_error *err);

/* ---- Flux's overlays (flux.c) ---- */
/* Rewrites (or generates, when *k is NULL) the root kustomization as
 * kustomize-controller does for a Kustomization object's spec. dir is the
 * build root (for the generated file's resource walk). */
int ks_flux_overlay(const char *dir, const struct sl_node *flux, struct sl_node **k,
                    struct sl_error *err);
/* After the build: commonMetadata and post-build substitution. */
int ks_flux_post_build(struct ks_resmap *m, const struct sl_node *flux,
                       const struct sl_node *substitute_from, bool strict, struct sl_error *err);

#endif
