/* codec — formats sluice reads and writes: Flux's deterministic tar+gzip
 * stream, safe tarball extraction, gitignore-style ignore patterns, and the
 * JSON text rules Go uses (so manifests hash the same as Flux's).
 *
 * Ownership: writers and matchers are created with *_new and released with
 * *_free (NULL-safe). Nothing here prints; warnings reach the caller through
 * callbacks. Thread-safety: objects are not shared between threads. */
#ifndef SLUICE_CODEC_H
#define SLUICE_CODEC_H

#include <sys/stat.h>

#include "base/base.h"

/* ---- tar + gzip writer (Flux's artifact format) ---------------------- */

/* Streams tar entries through gzip into fd while hashing the compressed
 * bytes, so the layer digest is known the moment the file is complete and
 * memory stays constant. Headers follow Go's archive/tar as Flux uses it:
 * USTAR when the name fits, PAX otherwise; uid/gid 0, empty user and group
 * names, mtime 0, permission bits only. */
struct sl_tgz_writer;

int sl_tgz_writer_new(int fd, struct sl_tgz_writer **ret, struct sl_error *err);
int sl_tgz_add_dir(struct sl_tgz_writer *w, const char *name, mode_t mode, struct sl_error *err);
/* Copies size bytes from src_fd; fails if the file changes size meanwhile. */
int sl_tgz_add_file(struct sl_tgz_writer *w, const char *name, mode_t mode, int src_fd,
                    uint64_t size, struct sl_error *err);
/* A regular file whose content is in memory. */
int sl_tgz_add_bytes(struct sl_tgz_writer *w, const char *name, mode_t mode, const void *data,
                     size_t len, struct sl_error *err);
/* Writes the tar trailer and gzip footer. Returns the compressed size and
 * "sha256:<hex>" digest of everything written to fd. */
int sl_tgz_finish(struct sl_tgz_writer *w, uint64_t *ret_size, char ret_digest[SL_DIGEST_STR_LEN],
                  struct sl_error *err);
/* Called every few MiB of input with the bytes archived so far. */
void sl_tgz_set_progress(struct sl_tgz_writer *w,
                         void (*fn)(void *userdata, const char *what, uint64_t done,
                                    uint64_t total),
                         void *userdata);
void sl_tgz_writer_free(struct sl_tgz_writer *w);
static inline void sl_tgz_writer_freep(struct sl_tgz_writer **w)
{
	sl_tgz_writer_free(*w);
}

/* ---- tar + gzip reader ------------------------------------------------ */

/* One entry's header. type is S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR, S_IFBLK
 * or S_IFIFO; 0 with hardlink or unknown set otherwise. */
struct sl_tar_header {
	char *name;
	char *linkname;
	mode_t type;
	mode_t mode; /* permission bits (07777) */
	uint64_t size;
	bool hardlink;
	bool unknown;
};

struct sl_tar_reader;
/* fd must hold gzip data (concatenated members are read as one stream). */
int sl_tar_reader_new(int fd, struct sl_tar_reader **ret, struct sl_error *err);
/* 1 with *ret pointing at the next header (valid until the next call), 0
 * at the end of the archive (after the gzip CRC is checked), <0 on error. */
int sl_tar_next(struct sl_tar_reader *t, const struct sl_tar_header **ret, struct sl_error *err);
/* The current entry's data: bytes read, 0 at its end, <0 on error. */
ssize_t sl_tar_read(struct sl_tar_reader *t, void *buf, size_t len, struct sl_error *err);
void sl_tar_reader_free(struct sl_tar_reader *t);
static inline void sl_tar_reader_freep(struct sl_tar_reader **t)
{
	sl_tar_reader_free(*t);
}

/* ---- safe extraction ------------------------------------------------- */

struct sl_extract_limits {
	uint64_t max_total_bytes; /* sum of regular file sizes; 0 = no cap */
	uint64_t max_entries;     /* 0 = no cap */
};

/* Called for entries that are skipped rather than extracted (symlinks). */
typedef void (*sl_extract_warn_fn)(void *userdata, const char *fmt, ...);

/* Extracts the gzip-compressed tarball read from tgz_fd into dest_dir, which must
 * be an empty directory sluice created (so nothing in it can be a symlink
 * planted by someone else). Names are validated: no absolute paths, no ".."
 * components, no backslashes; symlinks are skipped and reported through
 * warn; hard links, devices and FIFOs are refused. On error dest_dir may
 * hold partial content: the caller owns cleaning it. */
int sl_tar_extract(int tgz_fd, const char *dest_dir, const struct sl_extract_limits *limits,
                   sl_extract_warn_fn warn, void *userdata, struct sl_error *err);

/* What a tarball holds, sorted by name ("./" prefixes and trailing slashes
 * dropped), with the sha256 of every regular file. */
struct sl_tar_entry {
	char *name;
	mode_t type; /* AE_IFREG, AE_IFDIR, AE_IFLNK, ... (S_IFMT values) */
	mode_t mode; /* permission bits */
	uint64_t size;
	char digest[SL_DIGEST_STR_LEN]; /* regular files only */
};
struct sl_tar_index {
	struct sl_tar_entry *entries;
	size_t n;
};
int sl_tar_index_read(int tgz_fd, const struct sl_extract_limits *limits, struct sl_tar_index **ret,
                      struct sl_error *err);
void sl_tar_index_free(struct sl_tar_index *idx);
static inline void sl_tar_index_freep(struct sl_tar_index **idx)
{
	sl_tar_index_free(*idx);
}

/* Reads the first bytes of a file to tell gzip from anything else. */
bool sl_is_gzip_file(const char *path);

/* ---- ignore patterns (gitignore syntax, Flux's matcher) -------------- */

/* Patterns are matched last to first and the first match decides, as in
 * Flux's sourceignore (a go-git fork); excluded directories are still walked
 * so a later "!pattern" can re-include a file inside them. */
struct sl_ignore;

struct sl_ignore *sl_ignore_new(void);
/* Adds newline-separated patterns; comments and blank lines are skipped. */
void sl_ignore_add_lines(struct sl_ignore *ig, const char *text);
/* path is relative to the root, '/'-separated, without "./"; the root
 * itself never matches. */
bool sl_ignore_match(const struct sl_ignore *ig, const char *path, bool is_dir);
/* True when some pattern re-includes ("!"): excluded directories must then
 * still be walked. */
bool sl_ignore_has_inclusion(const struct sl_ignore *ig);
void sl_ignore_free(struct sl_ignore *ig);
static inline void sl_ignore_freep(struct sl_ignore **ig)
{
	sl_ignore_free(*ig);
}

/* Go's filepath.Match for one path component; malformed patterns never match. */
bool sl_glob_match(const char *pattern, const char *name);

/* ---- UTF-8 as Go reads it (utf8.c) ----------------------------------- */

/* The code point at s and the length of its UTF-8 sequence, or 0 when s
 * (len bytes available) does not start a valid, complete, shortest-form
 * sequence of a Unicode scalar value. */
size_t sl_utf8_decode(const char *s, size_t len, uint32_t *ret_cp);
/* Go's utf8.DecodeRune: an invalid sequence is U+FFFD, 1 byte wide. */
uint32_t sl_utf8_decode_go(const char *s, size_t len, size_t *ret_width);
/* Go's utf8.Valid. */
bool sl_utf8_valid(const char *s, size_t len);

/* ---- JSON text as Go's encoding/json writes it ----------------------- */

/* Appends s as a JSON string literal with Go's escaping: <, >, & as \u003c,
 * \u003e, \u0026; U+2028/2029 escaped; invalid UTF-8 as \ufffd. */
int sl_json_append_go_string(struct sl_buf *b, const char *s);

/* ---- semver ---------------------------------------------------------- */

/* Versions and constraints with the semantics of Masterminds/semver v3.5
 * (what Flux's controllers and CLI link), plus fluxcd/pkg's rule for which
 * tags count as versions at all. Versions and constraints are immutable
 * once parsed and may be read from several threads. */

/* Masterminds' own caps (MaxVersionLen, MaxConstraintLen,
 * MaxConstraintGroups): longer input is refused by Flux, so by us too. */
#define SL_SEMVER_MAX_VERSION_BYTES    256
#define SL_SEMVER_MAX_CONSTRAINT_BYTES 512
#define SL_SEMVER_MAX_GROUPS           32

struct sl_semver {
	uint64_t major, minor, patch;
	char *pre;      /* prerelease without the '-'; NULL when absent */
	char *meta;     /* build metadata without the '+'; NULL when absent */
	char *original; /* the text as given: what Flux reports as the tag */
};

/* Masterminds' NewVersion: "v" (lowercase only) prefix optional, minor and
 * patch optional (0), leading zeros allowed in them, numeric prerelease
 * identifiers without leading zeros, each number fits uint64. Fills *ret
 * (cleared with sl_semver_clear) only on success. */
int sl_semver_parse(const char *text, struct sl_semver *ret, struct sl_error *err);
/* Frees the strings and zeroes v; harmless on a zeroed or cleared v. */
void sl_semver_clear(struct sl_semver *v);
/* Precedence: <0, 0 or >0. Build metadata is ignored, so versions that
 * differ only in it (or in "v" or leading zeros) compare equal. */
int sl_semver_compare(const struct sl_semver *a, const struct sl_semver *b);
/* fluxcd/pkg ParseVersion: the tag has at least two dots and parses, so
 * "1.2", "v5" and "latest" are not versions for Flux but "1.2-rc.1" is. */
bool sl_semver_is_flux_version(const char *tag);

/* A constraint: "||"-separated groups of comparisons joined by whitespace
 * or commas ("^1.2", ">= 1.0, < 2.0-0", "1.2.x", "1.0 - 2.0"). A version
 * with a prerelease satisfies a group only when some comparison in that
 * group names a prerelease. */
struct sl_semver_constraint;

int sl_semver_constraint_parse(const char *text, struct sl_semver_constraint **ret,
                               struct sl_error *err);
bool sl_semver_constraint_check(const struct sl_semver_constraint *c, const struct sl_semver *v);
void sl_semver_constraint_free(struct sl_semver_constraint *c);
static inline void sl_semver_constraint_freep(struct sl_semver_constraint **c)
{
	sl_semver_constraint_free(*c);
}

/* The tag OCIRepository and ImagePolicy resolve a semver range to: among
 * the tags that are Flux versions and satisfy c (every version when c is
 * NULL), the one of highest precedence; ties (1.0.0, v1.0.0, 1.0.0+b) go to
 * the greatest byte string, whatever the order of tags. Returns 0 with
 * *ret_index set, or SL_ENOTFOUND when no tag qualifies. */
int sl_semver_latest(const char *const *tags, size_t n, const struct sl_semver_constraint *c,
                     size_t *ret_index);

/* ---- end semver ------------------------------------------------------ */

#endif
