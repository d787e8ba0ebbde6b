/* oci — the OCI side of sluice: references, Flux's artifact format,
 * manifests, a registry client over libcurl with docker-compatible auth,
 * and the push/pull of artifacts built on them.
 *
 * Ownership: structs filled by the parse and new functions are released
 * with the matching free or clear function (NULL-safe). A struct sl_registry owns one curl handle
 * and so one connection pool; it is not thread-safe, use one per thread. Nothing here prints;
 * progress and warnings go through callbacks. */
#ifndef SLUICE_OCI_H
#define SLUICE_OCI_H

#include <jansson.h>

#include "base/base.h"
#include "codec/codec.h"

/* ---- media types and caps -------------------------------------------- */

#define SL_MT_OCI_MANIFEST      "application/vnd.oci.image.manifest.v1+json"
#define SL_MT_OCI_INDEX         "application/vnd.oci.image.index.v1+json"
#define SL_MT_DOCKER_MANIFEST   "application/vnd.docker.distribution.manifest.v2+json"
#define SL_MT_DOCKER_LIST       "application/vnd.docker.distribution.manifest.list.v2+json"
#define SL_MT_FLUX_CONFIG       "application/vnd.cncf.flux.config.v1+json"
#define SL_MT_FLUX_CONTENT      "application/vnd.cncf.flux.content.v1.tar+gzip"
#define SL_MT_OCI_LAYER_GZIP    "application/vnd.oci.image.layer.v1.tar+gzip"
#define SL_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

#define SL_ANNOTATION_CREATED  "org.opencontainers.image.created"
#define SL_ANNOTATION_SOURCE   "org.opencontainers.image.source"
#define SL_ANNOTATION_REVISION "org.opencontainers.image.revision"

#define SL_MAX_MANIFEST_BYTES       (4 * 1024 * 1024)
#define SL_MAX_TOKEN_RESPONSE_BYTES (64 * 1024)
#define SL_MAX_ERROR_BODY_BYTES     (64 * 1024)
#define SL_MAX_HELPER_OUTPUT_BYTES  (64 * 1024)
#define SL_HELPER_TIMEOUT_MS        (60 * 1000) /* a credential helper must answer in time */
#define SL_MAX_DOCKER_CONFIG_BYTES  (4 * 1024 * 1024)
#define SL_MAX_SOURCEIGNORE_BYTES   (1024 * 1024)

/* ---- references ------------------------------------------------------- */

/* oci://host[:port]/path[:tag][@sha256:hex] */
struct sl_oci_ref {
	char *registry;   /* "127.0.0.1:5000", "index.docker.io" */
	char *repository; /* "manifests/podinfo", "library/nginx" */
	char *tag;        /* "latest" when neither tag nor digest was given */
	char *digest;     /* "sha256:<hex>" or NULL */
	char *text;       /* as typed, without "oci://" */
};

/* require_repo_only: a tag or digest is an error (list). */
int sl_oci_ref_parse(const char *url, struct sl_oci_ref *ret, struct sl_error *err);
void sl_oci_ref_clear(struct sl_oci_ref *ref);
/* The distribution spec's tag grammar: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
bool sl_oci_tag_valid(const char *tag);
/* "registry/repository" */
char *sl_oci_ref_repo_name(const struct sl_oci_ref *ref);
/* Whether the text named a tag (ref->tag is "latest" also when it did not). */
bool sl_oci_ref_has_tag(const struct sl_oci_ref *ref);
/* The tag or digest to ask the registry for: digest wins over tag. */
const char *sl_oci_ref_reference(const struct sl_oci_ref *ref);

/* ---- manifests -------------------------------------------------------- */

struct sl_descriptor {
	char *media_type;
	char *digest;
	uint64_t size;
};

struct sl_manifest {
	char *media_type;
	struct sl_descriptor config;
	struct sl_descriptor *layers;
	size_t n_layers;
	json_t *annotations; /* object, possibly empty; owned */
};

/* Flux's config blob since v2.9 (ggcr ≥ 0.21.6): the empty image config. */
extern const char SL_FLUX_CONFIG_BLOB[];

struct sl_annotation {
	char *key;
	char *value;
};

/* Serialises an image manifest exactly as Go's encoding/json writes ggcr's
 * v1.Manifest (compact, Flux's field order, annotation keys sorted). */
int sl_manifest_build(const struct sl_descriptor *config, const struct sl_descriptor *layer,
                      const struct sl_annotation *annotations, size_t n_annotations,
                      struct sl_buf *out);
/* Parses an image manifest. content_type (from the response) is used when
 * the document has no mediaType. Indexes are refused with SL_EUNSUPPORTED. */
int sl_manifest_parse(const char *data, size_t len, const char *content_type,
                      struct sl_manifest *ret, struct sl_error *err);
void sl_manifest_clear(struct sl_manifest *m);
/* For an index: the digest of the linux/amd64 child, or the only child. */
int sl_index_pick(const char *data, size_t len, char ret_digest[SL_DIGEST_STR_LEN],
                  struct sl_error *err);
bool sl_media_type_is_index(const char *media_type);
/* RFC 6838 type/subtype: what may go into a Content-Type header. */
bool sl_media_type_valid(const char *media_type);

/* ---- credentials ------------------------------------------------------ */

struct sl_creds {
	char *username;
	char *password;
	char *identity_token; /* refresh token from a helper or "identitytoken" */
	char *registry_token; /* sent as Bearer as is (--creds without ':') */
};

void sl_creds_clear(struct sl_creds *c);
bool sl_creds_empty(const struct sl_creds *c);
/* Flux's --creds: "user:pass" is Basic, a string without ':' is a registry
 * token, "user:" means anonymous. */
void sl_creds_from_flag(const char *flag, struct sl_creds *ret);
/* Docker's keychain: $DOCKER_CONFIG/config.json or ~/.docker/config.json,
 * credHelpers, credsStore (docker-credential-<name> get) and auths, tried
 * for "registry/repository" then "registry". Absent config is anonymous. */
int sl_creds_from_docker_config(const struct sl_oci_ref *ref, struct sl_creds *ret,
                                struct sl_error *err);
/* The parsing half, for tests and fuzzing: looks key up in a config.json
 * text without running helpers; *ret_helper gets a helper name if one is
 * configured for key (caller frees). */
int sl_docker_config_lookup(const char *json_text, size_t len, const char *key,
                            struct sl_creds *ret, char **ret_helper, struct sl_error *err);

/* ---- WWW-Authenticate ------------------------------------------------- */

struct sl_auth_challenge {
	char *scheme; /* lowercased: "basic", "bearer" */
	char *realm;
	char *service;
	char *scope;
	char *error;
};

/* Parses the first challenge of a header value (RFC 7235 auth-params with
 * quoted strings). */
int sl_auth_challenge_parse(const char *header, struct sl_auth_challenge *ret,
                            struct sl_error *err);
void sl_auth_challenge_clear(struct sl_auth_challenge *c);

/* ---- registry client -------------------------------------------------- */

typedef void (*sl_progress_fn)(void *userdata, const char *what, uint64_t done, uint64_t total);

struct sl_registry_opts {
	const struct sl_creds *creds; /* NULL or empty: anonymous */
	bool insecure;                /* skip TLS verification, allow plain HTTP */
	const char *ca_file;          /* PEM CA added to the system trust store */
	/* A client certificate for registries that ask for one (mutual TLS):
	 * PEM text, both or neither. Kept in memory only, never written out. */
	const char *client_cert_pem;
	const char *client_key_pem;
	/* A proxy for every request of this client, instead of the one the
	 * environment names (HTTPS_PROXY, NO_PROXY): "http://", "https://" or
	 * "socks5h://host:port"; credentials apart, never in the URL. */
	const char *proxy_url;
	const char *proxy_username;
	const char *proxy_password;
	int64_t timeout_ms; /* whole-command deadline; 0 = none */
	const char *user_agent;
	sl_progress_fn progress;
	void *progress_userdata;
	int max_retries; /* for 429, 5xx and dropped connections; default 3 */
	bool push;       /* ask for push access from the first request: one token, not two */
};

struct sl_registry;

int sl_registry_new(const char *host, const struct sl_registry_opts *opts, struct sl_registry **ret,
                    struct sl_error *err);
void sl_registry_free(struct sl_registry *r);
/* Starts a new whole-operation deadline (opts.timeout_ms's meaning; 0:
 * none), for a client kept across operations (the controller's). */
void sl_registry_set_deadline(struct sl_registry *r, int64_t timeout_ms);
static inline void sl_registry_freep(struct sl_registry **r)
{
	sl_registry_free(*r);
}

/* HEAD a manifest: SL_ENOTFOUND when absent. ret_digest from the
 * Docker-Content-Digest header (falls back to a GET when missing). */
int sl_registry_manifest_head(struct sl_registry *r, const char *repo, const char *reference,
                              char ret_digest[SL_DIGEST_STR_LEN], struct sl_error *err);
/* GET a manifest into out (capped at SL_MAX_MANIFEST_BYTES); ret_digest is
 * the sha256 of the bytes received; when reference is a digest, they must
 * match it. ret_content_type may be NULL. */
int sl_registry_manifest_get(struct sl_registry *r, const char *repo, const char *reference,
                             struct sl_buf *out, char **ret_content_type,
                             char ret_digest[SL_DIGEST_STR_LEN], struct sl_error *err);
int sl_registry_manifest_put(struct sl_registry *r, const char *repo, const char *reference,
                             const char *media_type, const void *data, size_t len,
                             struct sl_error *err);
/* GET the OCI 1.1 referrers of digest: an image index into out (capped at
 * SL_MAX_MANIFEST_BYTES). SL_EUNSUPPORTED when the registry has no
 * referrers API, so the caller can fall back to the referrers tag schema. */
int sl_registry_referrers_get(struct sl_registry *r, const char *repo, const char *digest,
                              struct sl_buf *out, struct sl_error *err);
int sl_registry_blob_exists(struct sl_registry *r, const char *repo, const char *digest,
                            bool *ret_exists, struct sl_error *err);
/* Uploads size bytes read from fd (from its start) as blob digest:
 * monolithic below a threshold, chunked above. */
int sl_registry_blob_upload_fd(struct sl_registry *r, const char *repo, const char *digest, int fd,
                               uint64_t size, struct sl_error *err);
int sl_registry_blob_upload_bytes(struct sl_registry *r, const char *repo, const char *digest,
                                  const void *data, size_t len, struct sl_error *err);
/* Cross-repository mount of a blob the registry already holds in
 * from_repo: *ret_mounted false means upload it instead. */
int sl_registry_blob_mount(struct sl_registry *r, const char *repo, const char *digest,
                           const char *from_repo, bool *ret_mounted, struct sl_error *err);
/* Streams a blob into fd, verifying size and digest as it arrives. */
int sl_registry_blob_fetch(struct sl_registry *r, const char *repo, const char *digest,
                           uint64_t expected_size, int fd, struct sl_error *err);

/* Fetches many manifests of one repository concurrently. out[i] gets the
 * bytes, content type and digest of references[i]; a failure of any is an
 * error for the whole call. Free each with sl_manifest_fetch_clear. */
struct sl_manifest_fetch {
	struct sl_buf body;
	char *content_type;
	char digest[SL_DIGEST_STR_LEN];
	bool done;
};
int sl_registry_manifests_get_many(struct sl_registry *r, const char *repo,
                                   const char *const *references, size_t n,
                                   struct sl_manifest_fetch *out, struct sl_error *err);
void sl_manifest_fetch_clear(struct sl_manifest_fetch *f);

/* Every tag of a repository, following the Link header's pages. */
int sl_registry_list_tags(struct sl_registry *r, const char *repo, struct sl_strv *ret,
                          struct sl_error *err);

/* ---- plain HTTP downloads (http_fetch.c) ------------------------------ */

/* Loads and initialises libcurl and libcrypto once per process. */
int sl_http_init(struct sl_error *err);
/* GETs url (http or https, redirects followed) into fd from its start,
 * at most max_bytes (0: no cap), verifying that the bytes hash to digest
 * ("sha256:<hex>"): SL_EDIGEST "computed digest doesn't match provided
 * '<digest>'" when not, SL_ENOTFOUND on 404, SL_EHTTP for another status.
 * Connection errors and 5xx are retried (3 attempts); the whole call is
 * bounded by timeout_ms (0: none). How consumers fetch a source
 * controller's artifacts (Flux's pkg/http/fetch). */
int sl_http_fetch_verified(const char *url, const char *digest, uint64_t max_bytes,
                           int64_t timeout_ms, int fd, struct sl_error *err);

/* ---- endpoints: a registry repository or an OCI image layout ----------- */

struct sl_endpoint {
	struct sl_registry *registry; /* with repository */
	const char *repository;
	struct sl_layout *layout; /* or this */
};
int sl_endpoint_manifest_get(const struct sl_endpoint *ep, const char *reference,
                             struct sl_buf *body, char **content_type,
                             char digest[SL_DIGEST_STR_LEN], struct sl_error *err);
/* The digest a tag names; SL_ENOTFOUND when absent. */
int sl_endpoint_manifest_head(const struct sl_endpoint *ep, const char *reference,
                              char ret_digest[SL_DIGEST_STR_LEN], struct sl_error *err);
/* A tag reference tags the manifest; a digest reference only stores it. */
int sl_endpoint_manifest_put(const struct sl_endpoint *ep, const char *reference,
                             const char *media_type, const struct sl_buf *body, const char *digest,
                             struct sl_error *err);
int sl_endpoint_blob_exists(const struct sl_endpoint *ep, const char *digest, bool *ret,
                            struct sl_error *err);
/* An fd at the start of the blob's bytes, verified against digest and size. */
int sl_endpoint_blob_open(const struct sl_endpoint *ep, const char *digest, uint64_t size,
                          int *ret_fd, struct sl_error *err);
int sl_endpoint_blob_put_fd(const struct sl_endpoint *ep, const char *digest, int fd, uint64_t size,
                            struct sl_error *err);
int sl_endpoint_blob_put_bytes(const struct sl_endpoint *ep, const char *digest, const void *data,
                               size_t len, struct sl_error *err);
int sl_endpoint_list_tags(const struct sl_endpoint *ep, struct sl_strv *ret, struct sl_error *err);

/* ---- artifacts (Flux's format) ---------------------------------------- */

/* Flux's default --ignore-paths. */
extern const char SL_DEFAULT_IGNORE_PATHS[];

typedef void (*sl_warn_fn)(void *userdata, const char *fmt, ...);

struct sl_build_opts {
	struct sl_ignore *ignore; /* may be NULL; .sourceignore lines are added to it */
	bool resolve_symlinks;
	bool read_sourceignore;  /* honour <dir>/.sourceignore */
	sl_warn_fn warn;         /* skipped symlinks and other notes */
	sl_progress_fn progress; /* bytes archived so far (total 0: unknown) */
	void *userdata;
};

/* Writes the tar+gzip of path (directory or file) to out_fd. */
int sl_artifact_build(const char *path, const struct sl_build_opts *opts, int out_fd,
                      uint64_t *ret_size, char ret_digest[SL_DIGEST_STR_LEN], struct sl_error *err);

struct sl_push_result {
	char digest[SL_DIGEST_STR_LEN]; /* manifest digest */
	bool skipped;                   /* the registry already had this manifest */
};

/* Uploads config, layer (from layer_fd) and manifest for ref. */
int sl_artifact_push(const struct sl_endpoint *ep, const char *tag, int layer_fd,
                     uint64_t layer_size, const char *layer_digest,
                     const struct sl_annotation *annotations, size_t n_annotations,
                     struct sl_push_result *ret, struct sl_error *err);

struct sl_pull_opts {
	uint64_t max_layer_bytes;   /* compressed size cap */
	uint64_t max_extract_bytes; /* extracted size cap */
	sl_warn_fn warn;
	void *userdata;
};

struct sl_pull_result {
	char digest[SL_DIGEST_STR_LEN]; /* manifest digest */
	char *source;                   /* annotations, may be NULL */
	char *revision;
	char *created;
};
void sl_pull_result_clear(struct sl_pull_result *p);

/* What a reference points to, without downloading the content. */
struct sl_artifact_info {
	char digest[SL_DIGEST_STR_LEN]; /* manifest digest */
	char *layer_digest;             /* the content layer */
	uint64_t layer_size;
	char *source, *revision, *created; /* annotations, may be NULL */
};
/* Fetches the manifest (following an index) and picks the content layer:
 * Flux's content type first, then a standard tar+gzip layer. */
int sl_artifact_resolve(const struct sl_endpoint *ep, const char *reference,
                        struct sl_artifact_info *ret, struct sl_error *err);
void sl_artifact_info_clear(struct sl_artifact_info *info);
/* Streams the content layer into an unlinked temp file (size and digest
 * verified, gzip magic checked); ret_fd is open at its start. */
int sl_artifact_download(const struct sl_endpoint *ep, const struct sl_artifact_info *info,
                         uint64_t max_bytes, int *ret_fd, struct sl_error *err);

/* Copies src_reference (tag or digest; image manifest or index) to dst,
 * under dst_tag or, when NULL, under the source's reference. Blobs the
 * destination has are skipped, mounted when same_registry, else streamed
 * with their digests verified. with_signatures also copies cosign's
 * sha256-<hex>{.sig,.att,.sbom,} tags. Manifest bytes, and so the digest,
 * are unchanged. */
struct sl_copy_stats {
	char digest[SL_DIGEST_STR_LEN];
	size_t manifests, blobs_copied, blobs_mounted, blobs_skipped, signatures;
	uint64_t bytes;
};
int sl_artifact_copy(const struct sl_endpoint *src, const char *src_reference,
                     const struct sl_endpoint *dst, const char *dst_tag, bool same_registry,
                     bool with_signatures, struct sl_copy_stats *ret, struct sl_error *err);

/* Fetches ref's manifest and content layer, verifies every digest, and only
 * then merges the extracted files into out_dir (created if missing). A
 * failure leaves out_dir as it was. */
int sl_artifact_pull(const struct sl_endpoint *ep, const char *reference, const char *out_dir,
                     const struct sl_pull_opts *opts, struct sl_pull_result *ret,
                     struct sl_error *err);

/* ---- OCI image layouts ---- */

/* A directory in the OCI image layout format (image-spec image-layout.md):
 * an `oci-layout` file, `index.json` (an image index whose manifests[]
 * carry tags in their org.opencontainers.image.ref.name annotation) and
 * blobs/sha256/<hex>, read and written the way `skopeo copy oci:DIR:TAG`
 * does. Blobs go to a temp file in blobs/sha256, are verified against their
 * digest and size, and only then appear under their final name; index.json
 * is replaced atomically (temp file, fsync, rename) under an flock on the
 * directory, so a crash never leaves a broken layout and two sluice
 * processes tagging at once lose nothing.
 *
 * Ownership: a struct sl_layout owns a directory fd and index.json as last
 * read (at open, refreshed by sl_layout_tag); free it with sl_layout_free.
 * Not thread-safe: one per thread. */

#define SL_LAYOUT_SCHEME          "oci-layout://"
#define SL_MAX_LAYOUT_INDEX_BYTES (16 * 1024 * 1024)
#define SL_ANNOTATION_REF_NAME    "org.opencontainers.image.ref.name"
/* RFC 6838: a type and a subtype of at most 127 characters each. */
#define SL_LAYOUT_MEDIA_TYPE_MAX 256
/* For sl_layout_blob_verify: any size will do. */
#define SL_LAYOUT_ANY_SIZE UINT64_MAX

struct sl_layout;

/* A manifest descriptor from index.json; no memory to release. */
struct sl_layout_descriptor {
	char digest[SL_DIGEST_STR_LEN];
	char media_type[SL_LAYOUT_MEDIA_TYPE_MAX];
	uint64_t size;
};

/* Opens the layout at path. With create, a missing directory, oci-layout,
 * blobs/sha256 or index.json is created (an existing non-empty directory
 * that is not a layout is refused rather than adopted). Refuses an
 * unsupported imageLayoutVersion and an index.json that is malformed or
 * larger than SL_MAX_LAYOUT_INDEX_BYTES. */
int sl_layout_open(const char *path, bool create, struct sl_layout **ret, struct sl_error *err);
void sl_layout_free(struct sl_layout *l);
static inline void sl_layout_freep(struct sl_layout **l)
{
	sl_layout_free(*l);
}
/* The path as given to sl_layout_open. */
const char *sl_layout_path(const struct sl_layout *l);

/* reference is a tag (the first manifests[] entry whose ref.name equals it,
 * as skopeo picks) or "sha256:<hex>" (a manifests[] entry with that digest,
 * else a blob holding a manifest or index). SL_ENOTFOUND when absent. */
int sl_layout_resolve(struct sl_layout *l, const char *reference, struct sl_layout_descriptor *ret,
                      struct sl_error *err);
/* Reads the manifest reference names into out (replacing its content; capped
 * at SL_MAX_MANIFEST_BYTES or out->max if smaller) and verifies its size and
 * sha256: a tampered layout is SL_EDIGEST. ret_media_type (caller frees) is
 * the descriptor's media type; it and ret_digest may be NULL. */
int sl_layout_manifest_get(struct sl_layout *l, const char *reference, struct sl_buf *out,
                           char **ret_media_type, char ret_digest[SL_DIGEST_STR_LEN],
                           struct sl_error *err);

bool sl_layout_blob_exists(struct sl_layout *l, const char *digest);
/* Opens a blob for reading (regular files only, symlinks refused); the
 * caller verifies the content as it streams it, or calls
 * sl_layout_blob_verify first. */
int sl_layout_blob_open(struct sl_layout *l, const char *digest, int *ret_fd, uint64_t *ret_size,
                        struct sl_error *err);
/* Hashes a whole blob: SL_EDIGEST when its content or size (unless
 * expected_size is SL_LAYOUT_ANY_SIZE) does not match. */
int sl_layout_blob_verify(struct sl_layout *l, const char *digest, uint64_t expected_size,
                          struct sl_error *err);
/* Stores size bytes read from fd (from its start when it can seek) as blob
 * digest: written to a temp file while hashed, fsynced, and renamed into
 * place only when digest and size match (SL_EDIGEST otherwise, and nothing
 * is left behind). A blob already present with that size is skipped. */
int sl_layout_blob_put_fd(struct sl_layout *l, const char *digest, int fd, uint64_t size,
                          struct sl_error *err);
int sl_layout_blob_put_bytes(struct sl_layout *l, const char *digest, const void *data, size_t len,
                             struct sl_error *err);

/* Points tag at a manifest already stored as a blob of that size: replaces
 * the manifests[] entry named tag in place, or names an unnamed entry for
 * the same manifest (skopeo leaves those behind when it moves a tag), or
 * appends one. Other entries and fields are kept. */
int sl_layout_tag(struct sl_layout *l, const char *tag, const char *manifest_digest,
                  const char *media_type, uint64_t size, struct sl_error *err);
/* The ref.name of every manifests[] entry, in index order, without repeats. */
int sl_layout_list_tags(struct sl_layout *l, struct sl_strv *ret, struct sl_error *err);

/* oci-layout://PATH[:TAG][@sha256:HEX]. The tag is the text after the last
 * ':' when it holds no '/' (so "oci-layout://dir:x/" is the directory
 * "dir:x/"), the digest the text after the last '@' when it holds no '/'.
 * PATH may be relative or absolute. Without tag or digest the tag is
 * "latest"; a tag beside a digest is ignored, as for oci:// references, so
 * exactly one of *ret_tag and *ret_digest is set. Caller frees them. */
int sl_layout_ref_parse(const char *url, char **ret_path, char **ret_tag, char **ret_digest,
                        struct sl_error *err);
bool sl_layout_ref_is(const char *url);

/* ---- end OCI image layouts ---- */

#endif
