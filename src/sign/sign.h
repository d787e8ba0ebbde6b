/* sign — cosign-compatible keys, signatures and their verification.
 *
 * Three layers, one file each:
 *   keys.c     cosign's key files and the raw signature primitives: ECDSA
 *              P-256 key pairs, `cosign.key` (scrypt + NaCl secretbox around
 *              PKCS#8 DER, inside PEM "ENCRYPTED SIGSTORE PRIVATE KEY"),
 *              `cosign.pub` (PEM PKIX), sign and verify over SHA-256.
 *              OpenSSL through base/crypto_loader, libsodium through
 *              sign/sodium_loader: both loaded on first use.
 *   payload.c  the documents signatures travel in: the simple-signing
 *              payload (legacy), the Sigstore bundle v0.3 with its DSSE
 *              envelope and in-toto statement (cosign v3). Pure parsing and
 *              building, no I/O: what the fuzz target feeds.
 *   cosign.c   where signatures live in a registry and the verification
 *              policy: writes the legacy `sha256-<hex>.sig` tag; finds
 *              bundles through the referrers API or the `sha256-<hex>` tag
 *              schema, and legacy signatures through the `.sig` tag.
 *
 * Facts: /work/shared/spec/notification-image-cosign.md §C. */
#ifndef SLUICE_SIGN_H
#define SLUICE_SIGN_H

#include <jansson.h>

#include "base/base.h"

struct sl_registry;

/* ---- keys (keys.c) ---------------------------------------------------- */

#define SL_COSIGN_PRIVATE_PEM_TYPE        "ENCRYPTED SIGSTORE PRIVATE KEY"
#define SL_COSIGN_PRIVATE_PEM_TYPE_LEGACY "ENCRYPTED COSIGN PRIVATE KEY"
/* Key files are small; anything larger is not a key. */
#define SL_MAX_KEY_FILE_BYTES (64 * 1024)
/* scrypt cost written into new keys: 2^15 is what every cosign release
 * reads (old ones accept nothing else); cosign >= 2.2 writes 2^16. */
#define SL_COSIGN_SCRYPT_N 32768

/* A key: private (can sign and verify) or public (verifies). */
struct sl_cosign_key;
void sl_cosign_key_free(struct sl_cosign_key *k);
static inline void sl_cosign_key_freep(struct sl_cosign_key **k)
{
	sl_cosign_key_free(*k);
}
#define _cleanup_cosign_key_ _cleanup_(sl_cosign_key_freep)

/* A fresh ECDSA P-256 key pair. */
int sl_cosign_key_generate(struct sl_cosign_key **ret, struct sl_error *err);

/* cosign.key's text: PEM type SL_COSIGN_PRIVATE_PEM_TYPE around the JSON
 * {"kdf":{"name":"scrypt","params":{"N":..,"r":8,"p":1},"salt":b64(32)},
 *  "cipher":{"name":"nacl/secretbox","nonce":b64(24)},"ciphertext":b64}
 * sealing the PKCS#8 DER private key under scrypt(password, salt, N=
 * SL_COSIGN_SCRYPT_N, r=8, p=1, 32 bytes). The password may be empty.
 * Both exports reset out first. */
int sl_cosign_key_export_private(const struct sl_cosign_key *k, const char *password,
                                 struct sl_buf *out, struct sl_error *err);
/* cosign.pub's text: PEM "PUBLIC KEY" (DER SubjectPublicKeyInfo). */
int sl_cosign_key_export_public(const struct sl_cosign_key *k, struct sl_buf *out,
                                struct sl_error *err);

/* Reads an encrypted private key (either PEM type above; scrypt N of 2^15,
 * 2^16 or 2^17 with r=8, p=1; nacl/secretbox with a 24-byte nonce; anything
 * else refused naming what: SL_EUNSUPPORTED; malformed: SL_EINVAL; only
 * ECDSA P-256 private keys, which is what cosign generates — an RSA or
 * Ed25519 key brought in with `cosign import-key-pair` is refused by
 * name). A wrong password gives SL_EAUTH with
 * "wrong password or corrupted key" — the two cannot be told apart. */
int sl_cosign_key_load_private(const char *pem, size_t len, const char *password,
                               struct sl_cosign_key **ret, struct sl_error *err);
/* Reads a public key: PEM "PUBLIC KEY" (PKIX: ECDSA P-256/384/521, RSA,
 * Ed25519) or "RSA PUBLIC KEY" (PKCS#1). Malformed PEM or DER: SL_EINVAL
 * naming what was wrong. */
int sl_cosign_key_load_public(const char *pem, size_t len, struct sl_cosign_key **ret,
                              struct sl_error *err);

/* Signs SHA-256(data) (ECDSA: ASN.1 DER SEQUENCE{r,s}) into sig, which is
 * reset first. k must be private. */
int sl_cosign_sign_bytes(const struct sl_cosign_key *k, const void *data, size_t len,
                         struct sl_buf *sig, struct sl_error *err);
/* 0 when sig is k's signature of SHA-256(data) (Ed25519: of data itself);
 * SL_EINVAL "signature does not verify" otherwise, also for a malformed
 * signature. */
int sl_cosign_verify_bytes(const struct sl_cosign_key *k, const void *data, size_t len,
                           const void *sig, size_t sig_len, struct sl_error *err);
/* base64(SHA-256(DER SubjectPublicKeyInfo)): a bundle's publicKey.hint. */
int sl_cosign_key_hint(const struct sl_cosign_key *k, char **ret, struct sl_error *err);

/* ---- documents (payload.c) ------------------------------------------- */

#define SL_COSIGN_SIMPLESIGNING_MT     "application/vnd.dev.cosign.simplesigning.v1+json"
#define SL_COSIGN_SIGNATURE_ANNOTATION "dev.cosignproject.cosign/signature"
#define SL_COSIGN_PAYLOAD_TYPE         "cosign container image signature"
#define SL_SIGSTORE_BUNDLE_MT_PREFIX   "application/vnd.dev.sigstore.bundle"
#define SL_SIGSTORE_BUNDLE_V03_MT      "application/vnd.dev.sigstore.bundle.v0.3+json"
#define SL_INTOTO_PAYLOAD_TYPE         "application/vnd.in-toto+json"
#define SL_COSIGN_SIGN_PREDICATE       "https://sigstore.dev/cosign/sign/v1"
#define SL_OCI_EMPTY_MT                "application/vnd.oci.empty.v1+json"
/* Caps on what a registry hands us for a signature document. */
#define SL_MAX_SIGNATURE_PAYLOAD_BYTES (1024 * 1024)
#define SL_MAX_SIGNATURES_PER_ARTIFACT 64

/* The simple-signing payload cosign signs: exactly the bytes Go writes for
 * {"critical":{"identity":{"docker-reference":R},"image":
 *  {"docker-manifest-digest":D},"type":"cosign container image signature"},
 *  "optional":null|{annotations}} — optional may be NULL. */
int sl_cosign_payload_build(const char *docker_reference, const char *manifest_digest,
                            const json_t *optional, struct sl_buf *out, struct sl_error *err);

struct sl_cosign_payload {
	char *docker_reference;
	char *manifest_digest; /* "sha256:<hex>" as written */
	char *type;
	json_t *optional; /* NULL when null or absent */
};
int sl_cosign_payload_parse(const char *data, size_t len, struct sl_cosign_payload *ret,
                            struct sl_error *err);
void sl_cosign_payload_clear(struct sl_cosign_payload *p);

/* A Sigstore bundle (v0.3 and later) carrying a DSSE envelope. */
struct sl_cosign_bundle {
	char *media_type;
	char *payload_type;
	unsigned char *payload; /* the decoded statement */
	size_t payload_len;
	unsigned char **signatures; /* decoded, n_signatures of them */
	size_t *signature_lens;
	size_t n_signatures;
	char *key_hint; /* verificationMaterial.publicKey.hint, or NULL */
};
/* Refuses bundles older than v0.3, message-signature bundles and envelopes
 * without signatures, naming which. */
int sl_cosign_bundle_parse(const char *data, size_t len, struct sl_cosign_bundle *ret,
                           struct sl_error *err);
void sl_cosign_bundle_clear(struct sl_cosign_bundle *b);
/* DSSE's pre-authentication encoding: what the envelope's signatures sign. */
int sl_dsse_pae(const char *payload_type, const void *payload, size_t len, struct sl_buf *out);
/* Whether an in-toto v1 statement has a subject whose sha256 digest is the
 * hex of manifest_digest ("sha256:<hex>"). SL_EINVAL when the statement is
 * not one. */
int sl_intoto_names_digest(const void *statement, size_t len, const char *manifest_digest,
                           bool *ret, struct sl_error *err);
/* Whether an in-toto statement's predicateType is exactly predicate_type
 * (false for anything that is not a statement). */
bool sl_intoto_has_predicate(const void *statement, size_t len, const char *predicate_type);

/* ---- registry (cosign.c) ---------------------------------------------- */

/* "sha256-<hex>.sig": where legacy signatures of digest live. */
char *sl_cosign_signature_tag(const char *manifest_digest);
/* "sha256-<hex>": the referrers tag schema's index. */
char *sl_cosign_referrers_tag(const char *manifest_digest);

struct sl_cosign_sign_opts {
	const char *docker_reference; /* "<registry>/<repo>" as cosign writes it */
	const json_t *annotations;    /* the payload's "optional", or NULL */
};
struct sl_cosign_sign_result {
	char signature_tag[SL_DIGEST_STR_LEN + 8];
	char signature_manifest_digest[SL_DIGEST_STR_LEN];
	bool already_signed; /* an identical signature was there: nothing written */
};
/* Signs manifest_digest in repo in cosign's legacy format: the payload as a
 * layer of the `.sig` manifest, appended to the signatures already there
 * (an identical payload + signature is not added twice). */
int sl_cosign_sign_legacy(struct sl_registry *r, const char *repo, const char *manifest_digest,
                          const struct sl_cosign_key *key, const struct sl_cosign_sign_opts *opts,
                          struct sl_cosign_sign_result *ret, struct sl_error *err);

enum sl_cosign_format {
	SL_COSIGN_LEGACY, /* simple-signing payload in the .sig tag */
	SL_COSIGN_BUNDLE, /* Sigstore bundle referrer (cosign v3) */
};
struct sl_cosign_verified {
	enum sl_cosign_format format;
	size_t key_index;         /* which of the keys verified */
	char *signature_location; /* "sha256-<hex>.sig", or the referrer's digest */
	char *docker_reference;   /* legacy only: what the payload names */
	json_t *annotations;      /* legacy: the payload's optional; bundle: NULL */
	/* When nothing verified: what was found and why each was turned down,
	 * control characters replaced (parts come from the registry). */
	char *rejections;
};
void sl_cosign_verified_clear(struct sl_cosign_verified *v);

/* Verifies that manifest_digest in repo carries a signature by one of keys,
 * the way Flux's source-controller decides (spec §C.4), and stricter where
 * that cannot break real cosign output: a bundle's statement and a legacy
 * payload must both name manifest_digest, and a legacy payload must have
 * cosign's type. If any bundle exists only bundles count. Nothing but
 * signature documents is fetched, within caps on their number and sizes.
 * A bundle must carry cosign sign's predicate: attestations made with the
 * same key are not signatures. If the referrers cannot be listed, legacy
 * signatures are checked (as cosign and Flux do). No signature verifying:
 * SL_ENOTFOUND with Flux's message "no matching signatures were found for
 * '<registry>/<repo>@<digest>'", and ret->rejections says why (the caller
 * clears ret in every case). */
int sl_cosign_verify(struct sl_registry *r, const char *registry_host, const char *repo,
                     const char *manifest_digest, struct sl_cosign_key *const *keys, size_t n_keys,
                     struct sl_cosign_verified *ret, struct sl_error *err);

#endif
