/* kustomize — a build engine that prints what `kubectl kustomize` prints,
 * plus the overlays and post-build substitution Flux's kustomize-controller
 * applies on top.
 *
 * sl_kustomize_build reads a directory's kustomization (and everything it
 * references, from the local filesystem only: remote bases, Helm charts and
 * plugins are refused with an error naming the feature and the file) and
 * returns the resulting objects in output order. Files may be anywhere on
 * disk (Flux's LoadRestrictionsNone) unless options->root confines them.
 * The caller owns the result.
 * Thread-safety: builds are independent; nothing global is mutated. */
#ifndef SLUICE_KUSTOMIZE_H
#define SLUICE_KUSTOMIZE_H

#include "base/base.h"
#include "codec/yaml.h"

struct sl_kustomize_options {
	/* A Flux Kustomization object (kustomize.toolkit.fluxcd.io v1 or
	 * v1beta2) whose spec overlays the build as kustomize-controller does,
	 * or NULL for a plain kustomize build. */
	const struct sl_node *flux;
	/* Variables for post-build substitution on top of the Flux object's
	 * spec.postBuild.substitute (substituteFrom resolved by the caller), a
	 * map of strings, or NULL. */
	const struct sl_node *substitute_from;
	/* Post-build substitution fails on a variable that is not set and has
	 * no default (kustomize-controller's StrictPostBuildSubstitutions). */
	bool strict_substitute;
	/* When set, every file and directory the build reads must resolve
	 * (symlinks followed) in or below this directory: an artifact's
	 * kustomization cannot read the controller's own files (its token).
	 * NULL: anywhere, as `kubectl kustomize` with LoadRestrictionsNone. */
	const char *root;
};

/* Builds dir. *ret_objects: a sequence of objects in kustomize's output
 * order. */
int sl_kustomize_build(const char *dir, const struct sl_kustomize_options *opts,
                       struct sl_node **ret_objects, struct sl_error *err);

/* Appends the objects as `kubectl kustomize` prints them: each document
 * from sl_yaml_emit, joined by "---\n". Nothing for an empty sequence. */
int sl_kustomize_print(struct sl_buf *out, const struct sl_node *objects, struct sl_error *err);

#endif
