/* controller/storage — the artifact store source reconcilers write and the
 * artifact HTTP server reads, laid out as Flux's source-controller lays it
 * out (pkg/artifact/storage, spec/source-controller.md §2 and §5):
 *
 *   <root>/<kind lowercase>/<namespace>/<name>/<file>
 *   <root>/<kind lowercase>/<namespace>/<name>/latest.tar.gz -> <root>/.../<file>
 *
 * where <file> is "sha256:<hex>.tar.gz" for an OCIRepository (the digest
 * part of the revision). Artifacts are written to a hidden temp file in the
 * object's directory, fsync'ed and renamed into place, so a reader sees the
 * old file or the complete new one, never a part; the sha256 and size are
 * computed while writing. Garbage collection keeps the newest
 * --artifact-retention-records files that are younger than
 * --artifact-retention-ttl (the current artifact always stays).
 *
 * Locking: writes, GC and removal of an object's directory happen under
 * sl_storage_lock(), an flock(2) on the directory itself (so no lock files
 * appear in the served tree). Readers never lock: renames are atomic and an
 * open file survives its unlinking.
 *
 * Ownership: struct sl_storage is immutable once created and may be shared by
 * every thread; a struct sl_storage_dir belongs to the thread that locked it.
 * Nothing here prints. */
#ifndef SLUICE_CONTROLLER_STORAGE_H
#define SLUICE_CONTROLLER_STORAGE_H

#include "base/base.h"
#include "codec/codec.h"

/* Flux's defaults (pkg/artifact/config/flags.go). */
#define SL_STORAGE_DEFAULT_PATH              "/data"
#define SL_STORAGE_DEFAULT_ADDR              ":9090"
#define SL_STORAGE_DEFAULT_RETENTION_TTL_MS  (60 * 1000)
#define SL_STORAGE_DEFAULT_RETENTION_RECORDS 2
/* The symlink naming an object's current artifact (status.url). */
#define SL_STORAGE_LATEST "latest.tar.gz"
/* GC looks at no more files than this in one directory (Flux's
 * GarbageCountLimit). */
#define SL_STORAGE_GC_FILE_LIMIT 1000

struct sl_storage_opts {
	const char *path;           /* --storage-path; must be an existing directory */
	const char *adv_addr;       /* --storage-adv-addr: host[:port] or http(s)://host[:port];
	                               NULL or "": derived from ":9090" as Flux would */
	int64_t retention_ttl_ms;   /* --artifact-retention-ttl */
	unsigned retention_records; /* --artifact-retention-records */
};

struct sl_storage;

int sl_storage_new(const struct sl_storage_opts *opts, struct sl_storage **ret,
                   struct sl_error *err);
void sl_storage_free(struct sl_storage *s);
static inline void sl_storage_freep(struct sl_storage **s)
{
	sl_storage_free(*s);
}
/* The storage root, absolute and with symlinks resolved. */
const char *sl_storage_root(const struct sl_storage *s);

/* The advertised address Flux derives when --storage-adv-addr is empty
 * (GetAdvertisedAddress): the host of storage_addr, with "" becoming
 * "localhost" and "0.0.0.0" becoming $HOSTNAME (else gethostname()).
 * Caller frees *ret. */
int sl_storage_default_adv_addr(const char *storage_addr, char **ret, struct sl_error *err);

/* ---- names and URLs --------------------------------------------------- */

/* "<kind lowercase>/<namespace>/<name>/<file>". Each part must be a single,
 * non-empty path component that does not start with '.'; anything else is
 * SL_EINVAL. Caller frees *ret. */
int sl_storage_artifact_path(const char *kind, const char *ns, const char *name, const char *file,
                             char **ret, struct sl_error *err);
/* Flux's artifact file name for a revision: the part after the last '@'
 * plus ".tar.gz" ("latest@sha256:ab.." -> "sha256:ab...tar.gz"). */
char *sl_storage_file_for_revision(const char *revision);
/* Flux's SetArtifactURL: "http://<adv-addr>/<path>", or "<adv-addr>/<path>"
 * when the address already carries an http:// or https:// scheme. */
char *sl_storage_url(const struct sl_storage *s, const char *rel_path);

/* ---- reading ------------------------------------------------------------ */

/* Opens "<kind>/<ns>/<name>/<file>" below the root for reading. No
 * component may be "..", start with '.', or be a symlink, except that the
 * file itself may be a symlink to a sibling regular file (latest.tar.gz).
 * SL_EINVAL for a path that tries to leave that shape, SL_ENOTFOUND when
 * there is no such regular file. */
int sl_storage_open(const struct sl_storage *s, const char *rel_path, int *ret_fd,
                    struct sl_error *err);
/* Whether rel_path names a regular file (not a symlink) in storage. */
bool sl_storage_exists(const struct sl_storage *s, const char *rel_path);
/* Hashes the stored file: 0 when it matches digest ("sha256:<hex>"),
 * SL_EDIGEST when not, SL_ENOTFOUND when it is missing. */
int sl_storage_verify(const struct sl_storage *s, const char *rel_path, const char *digest,
                      struct sl_error *err);
/* Deletes one stored file (a corrupt artifact); missing is fine. */
int sl_storage_remove(const struct sl_storage *s, const char *rel_path, struct sl_error *err);

/* ---- writing: an object's directory, locked ---------------------------- */

struct sl_storage_dir;

/* Locks <kind>/<ns>/<name>, creating it (mode 0700) when create is set;
 * without create a missing directory is SL_ENOTFOUND. Blocks while another
 * thread or process holds the lock, so a thread must not lock an object it
 * already holds. A waiter whose directory was removed meanwhile locks the
 * new one (or gets SL_ENOTFOUND without create). */
int sl_storage_lock(const struct sl_storage *s, const char *kind, const char *ns, const char *name,
                    bool create, struct sl_storage_dir **ret, struct sl_error *err);
void sl_storage_unlock(struct sl_storage_dir *d);
static inline void sl_storage_unlockp(struct sl_storage_dir **d)
{
	sl_storage_unlock(*d);
}
/* "<kind>/<ns>/<name>", relative to the root. */
const char *sl_storage_dir_path(const struct sl_storage_dir *d);

/* What status.artifact records about a stored file. */
struct sl_artifact {
	char *path; /* relative to the root: "ocirepository/default/app/sha256:...tar.gz" */
	char *url;
	char digest[SL_DIGEST_STR_LEN];
	uint64_t size;
	char last_update_time[32]; /* RFC 3339, UTC */
};
void sl_artifact_clear(struct sl_artifact *a);

/* layerSelector.operation "copy": stores the bytes read from src_fd as
 * <file>, mode 0600. Fails with SL_ELIMIT past max_bytes (0: no cap), and
 * with SL_EDIGEST when expected_digest is given and the bytes do not match
 * it; either way the previous file of that name, if any, is untouched. */
int sl_storage_store(struct sl_storage_dir *d, const char *file, int src_fd, uint64_t max_bytes,
                     const char *expected_digest, struct sl_artifact *ret, struct sl_error *err);

/* The ignore rules source-controller applies when it re-archives an
 * extracted tree: every .sourceignore under dir (depth first, names sorted,
 * ".git" skipped, each file's patterns scoped to its own directory), then
 * spec.ignore (may be NULL). With no pattern at all the VCS and default
 * exclusions apply; with any, the VCS exclusions and those patterns only. */
int sl_storage_load_ignore(const char *dir, const char *spec_ignore, struct sl_ignore **ret,
                           struct sl_error *err);

/* layerSelector.operation "extract", second half: archives src_dir as
 * <file> the way Flux's Storage.Archive does — names sorted depth first from
 * ".", regular files and directories only, entries matching ignore (may be
 * NULL) left out, uid/gid 0, zero times, directories 0750, files 0600 or
 * 0700 when any execute bit is set. The output is deterministic. */
int sl_storage_archive(struct sl_storage_dir *d, const char *file, const char *src_dir,
                       const struct sl_ignore *ignore, struct sl_artifact *ret,
                       struct sl_error *err);

struct sl_repack_opts {
	const char *ignore;              /* spec.ignore; may be NULL */
	struct sl_extract_limits limits; /* zero: no caps, as Flux */
	sl_extract_warn_fn warn;         /* skipped symlinks; may be NULL */
	void *userdata;
	bool on_disk;        /* skip the in-memory path (tests compare the two) */
	bool *ret_in_memory; /* may be NULL: set to whether the memory path made it */
};
/* extract, both halves: the tar+gzip read from tgz_fd (a file: it may be
 * read twice) becomes <file>, with sl_tar_extract's rules, the ignore rules
 * found in it and Flux's archive order. A layer of plain files and
 * directories of at most 8 MiB is read into memory and archived from
 * there; any other is extracted into a temp directory and archived from
 * the disk, which judges what is unusual (errors, warnings). The bytes are
 * the same either way. */
int sl_storage_repack(struct sl_storage_dir *d, const char *file, int tgz_fd,
                      const struct sl_repack_opts *opts, struct sl_artifact *ret,
                      struct sl_error *err);

/* Points latest.tar.gz at <file> (an absolute symlink, replaced atomically)
 * and returns its URL, Flux's status.url. */
int sl_storage_symlink_latest(struct sl_storage_dir *d, const char *file, char **ret_url,
                              struct sl_error *err);

/* Flux's GarbageCollect for this directory: files (not symlinks) older than
 * the retention TTL go, then the oldest until retention_records remain;
 * current (a file name, may be NULL) is never removed and counts as one of
 * the records. Temp files left by a crashed writer go too. The names of the
 * removed artifacts are appended to *ret_deleted when it is not NULL. */
int sl_storage_gc(struct sl_storage_dir *d, const char *current, struct sl_strv *ret_deleted,
                  struct sl_error *err);

/* Removes the locked directory and everything in it; d stays locked (and
 * must still be unlocked) but can no longer be written to. */
int sl_storage_dir_remove(struct sl_storage_dir *d, struct sl_error *err);
/* Lock, remove, unlock: what a deleted object's finalizer does. A missing
 * directory is fine. */
int sl_storage_delete(const struct sl_storage *s, const char *kind, const char *ns,
                      const char *name, struct sl_error *err);

#endif
