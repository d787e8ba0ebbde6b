/* controller/ocisource — the registry half of the OCIRepository reconciler
 * (source-controller's reconcileSource, ../shared/spec/source-controller.md
 * §2): an OCIRepository's spec read and checked, its reference resolved to
 * a revision (`<tag>@sha256:<hex>`, or `sha256:<hex>` for a digest pin) with
 * one manifest HEAD (plus a tag listing for semver), and the selected layer
 * fetched, digest-verified, into a directory (extracted) or a file (copied).
 *
 * Failures carry Flux's condition reason and whether they stall the object
 * (a terminal misconfiguration such as an invalid URL) besides the message.
 * Nothing here talks to the Kubernetes API: credentials come in resolved.
 * Thread-safety: functions are reentrant; a struct sl_registry is not
 * shared between threads. */
#ifndef SLUICE_CONTROLLER_OCISOURCE_H
#define SLUICE_CONTROLLER_OCISOURCE_H

#include <jansson.h>

#include "base/base.h"
#include "oci/oci.h"

/* Flux's reasons (source-controller api/v1/condition_types.go). */
#define SL_REASON_URL_INVALID          "URLInvalid"
#define SL_REASON_AUTH_FAILED          "AuthenticationFailed"
#define SL_REASON_READ_FAILED          "ReadOperationFailed"
#define SL_REASON_PULL_FAILED          "OCIArtifactPullFailed"
#define SL_REASON_LAYER_FAILED         "OCIArtifactLayerOperationFailed"
#define SL_REASON_UNSUPPORTED_PROVIDER "UnsupportedProvider"
#define SL_REASON_VERIFICATION_ERROR   "VerificationError"

/* A failure as a condition sees it. */
struct sl_source_error {
	const char *reason; /* one of SL_REASON_*; static */
	bool stalling;      /* terminal until the spec changes: Stalled=True */
	struct sl_error err;
};

/* An OCIRepository's spec, as the reconciler needs it. Strings are owned. */
struct sl_ocirepo_spec {
	char *url; /* as written, "oci://host/repo" */
	struct sl_oci_ref ref;
	char *tag, *semver, *semver_filter, *digest; /* spec.ref */
	char *layer_media_type;                      /* NULL: the first layer */
	bool layer_copy;                             /* operation: copy */
	char *ignore;                                /* NULL when unset */
	char *provider;                              /* "generic" when unset */
	char *secret_ref, *cert_secret_ref, *proxy_secret_ref, *service_account;
	bool insecure, suspend;
	/* spec.verify: provider NULL when absent ("cosign" by default when
	 * present); keyless without a secretRef. */
	char *verify_provider, *verify_secret_ref;
	bool verify_keyless;
	int64_t interval_ms, timeout_ms;
};

/* Reads obj's spec. An invalid URL, interval or timeout stalls
 * (URLInvalid); so does a cloud provider, until sluice supports them. */
int sl_ocirepo_spec_parse(const json_t *obj, struct sl_ocirepo_spec *ret,
                          struct sl_source_error *serr);
void sl_ocirepo_spec_clear(struct sl_ocirepo_spec *spec);

/* What a spec resolves to. */
struct sl_ocirepo_revision {
	char *tag; /* the tag asked for or chosen by semver; NULL for a digest */
	char digest[SL_DIGEST_STR_LEN]; /* manifest (or index) digest */
	char *revision;                 /* "<tag>@sha256:<hex>" or "sha256:<hex>" */
	/* The manifest's bytes when resolving fetched them whole (a tag
	 * resolved with GET); fetching then does not ask for them again. */
	struct sl_buf manifest;
	char *manifest_type;
};
void sl_ocirepo_revision_clear(struct sl_ocirepo_revision *rev);

/* How the tag is resolved. */
enum sl_ocirepo_resolve_mode {
	/* HEAD: one cheap request when the revision turns out unchanged,
	 * the usual case at an interval. */
	SL_RESOLVE_HEAD,
	/* GET: for a caller that downloads whatever the tag names (nothing
	 * stored yet), it saves the second manifest request. */
	SL_RESOLVE_GET,
};

/* Resolves spec's reference: digest > semver (tags listed, semverFilter,
 * Flux's three-part versions) > tag > "latest". One manifest request for a
 * tag; the digest is the registry's either way (the sha256 of the bytes it
 * serves). */
int sl_ocirepo_resolve(struct sl_registry *reg, const struct sl_ocirepo_spec *spec,
                       enum sl_ocirepo_resolve_mode mode, struct sl_ocirepo_revision *ret,
                       struct sl_source_error *serr);

/* What was fetched. */
struct sl_ocirepo_fetch {
	json_t *annotations; /* the manifest's annotations (an object), owned */
	char *layer_digest;
	uint64_t layer_size;
};
void sl_ocirepo_fetch_clear(struct sl_ocirepo_fetch *f);

/* Fetches the manifest at rev (an index: its linux/amd64 child), selects
 * the layer (layerSelector.mediaType, else the first) and streams it, its
 * digest verified, into an unlinked temp file: *ret_fd is open at its
 * start. At most max_bytes of layer (0: no cap). */
int sl_ocirepo_fetch_layer(struct sl_registry *reg, const struct sl_ocirepo_spec *spec,
                           const struct sl_ocirepo_revision *rev, uint64_t max_bytes, int *ret_fd,
                           struct sl_ocirepo_fetch *ret, struct sl_source_error *serr);

/* sl_ocirepo_fetch_layer, then either extracts the layer (gzip'd tar, Flux's
 * rules) into out_dir or, with layer_copy, writes it unchanged to out_file
 * (through a temp file renamed into place). The reconciler hands the layer
 * to storage itself; this is for tools and tests. */
int sl_ocirepo_fetch(struct sl_registry *reg, const struct sl_ocirepo_spec *spec,
                     const struct sl_ocirepo_revision *rev, const char *out_dir,
                     const char *out_file, uint64_t max_bytes, struct sl_ocirepo_fetch *ret,
                     struct sl_source_error *serr);

#endif
