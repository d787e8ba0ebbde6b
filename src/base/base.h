/* base — errors, ownership helpers, bounded buffers, logging, durations,
 * filesystem and hashing primitives every other sluice module builds on.
 *
 * Ownership: functions named *_new or *_dup hand out memory the caller frees;
 * destructors accept NULL. Errors: fallible functions return 0 or a negative
 * value and fill a caller-owned struct sl_error. Nothing in base prints
 * except the sl_log_* family, which only the CLI and controller top level
 * call. Thread-safety: everything is reentrant except the log settings,
 * which are set once at start-up. */
#ifndef SLUICE_BASE_H
#define SLUICE_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

/* ---- ownership ------------------------------------------------------- */

static inline void sl_freep(void *p)
{
	free(*(void **)p);
}
static inline void sl_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void sl_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_(f)     __attribute__((cleanup(f)))
#define _cleanup_free_   _cleanup_(sl_freep)
#define _cleanup_close_  _cleanup_(sl_closep)
#define _cleanup_fclose_ _cleanup_(sl_fclosep)

/* Hands ownership out of a cleanup-managed variable. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _taken = (p);                                                        \
		(p) = NULL;                                                                        \
		_taken;                                                                            \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _taken = (fd);                                                                 \
		(fd) = -1;                                                                         \
		_taken;                                                                            \
	})

#define SL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- errors ---------------------------------------------------------- */

#define SL_ERROR_MAX 2048

/* Error codes are negative; the message carries the detail. */
enum {
	SL_EINVAL = -1, /* bad input: flags, references, files, responses */
	SL_EIO = -2,    /* local filesystem */
	SL_ENET = -3,   /* transport: connection, TLS, timeout */
	SL_EHTTP = -4,  /* the server answered with an error status */
	SL_EAUTH = -5,  /* authentication or authorization refused */
	SL_ENOTFOUND = -6,
	SL_EDIGEST = -7, /* content does not match its digest */
	SL_ELIMIT = -8,  /* a cap was exceeded */
	SL_ENOMEM = -9,
	SL_EUNSUPPORTED = -10,
};

struct sl_error {
	int code;
	int http_status; /* when code == SL_EHTTP or SL_EAUTH */
	char msg[SL_ERROR_MAX];
};

/* Sets the message; returns code so callers can `return sl_error_set(...)`. */
int sl_error_set(struct sl_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes "context: " to the message already in err; returns code. */
int sl_error_wrap(struct sl_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* As sl_error_set with ": strerror(errno_value)" appended. */
int sl_error_errno(struct sl_error *err, int errno_value, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sl_error_clear(struct sl_error *err);

/* ---- bounded buffers ------------------------------------------------- */

/* A growable byte buffer that refuses to grow past max (0 = unbounded,
 * only for data we produce ourselves). Always NUL-terminated. */
struct sl_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

void sl_buf_init(struct sl_buf *b, size_t max);
void sl_buf_free(struct sl_buf *b);
/* Returns 0, or SL_ELIMIT when len would exceed max, SL_ENOMEM. */
int sl_buf_append(struct sl_buf *b, const void *data, size_t len);
int sl_buf_printf(struct sl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* sl_buf_append of a NUL-terminated string, without counting by hand. */
int sl_buf_puts(struct sl_buf *b, const char *s);
void sl_buf_reset(struct sl_buf *b);
/* Gives the data away (caller frees) and resets the buffer. */
char *sl_buf_steal(struct sl_buf *b);
#define _cleanup_buf_ _cleanup_(sl_buf_free)

/* ---- strings --------------------------------------------------------- */

/* Never returns NULL: aborts on out-of-memory, which sluice treats as fatal. */
char *sl_strdup(const char *s);
char *sl_strndup(const char *s, size_t n);
char *sl_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *sl_xmalloc(size_t n);
void *sl_xcalloc(size_t n, size_t size);
void *sl_xrealloc(void *p, size_t n);
bool sl_startswith(const char *s, const char *prefix);
bool sl_endswith(const char *s, const char *suffix);
/* Standard base64 (RFC 4648 with padding). Caller frees. */
char *sl_base64_encode(const void *data, size_t len);
/* Returns the decoded length or -1 on malformed input; *ret is NUL-terminated. */
ssize_t sl_base64_decode(const char *text, char **ret);
/* A list of strings, owned. */
struct sl_strv {
	char **items;
	size_t len;
};
void sl_strv_push(struct sl_strv *v, const char *s);
void sl_strv_free(struct sl_strv *v);

/* ---- logging --------------------------------------------------------- */

/* Flux's CLI lines on stderr: "► action", "✔ success", "✗ failure",
 * "⚠️ warning"; debug lines only when enabled. */
void sl_log_set_debug(bool on);
void sl_log_action(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sl_log_success(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sl_log_failure(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sl_log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sl_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- time ------------------------------------------------------------ */

/* Parses a Go duration ("300ms", "1m30s", "2h", "0"). Returns 0 or SL_EINVAL. */
int sl_duration_parse(const char *text, int64_t *ret_ms, struct sl_error *err);
/* Milliseconds on a monotonic clock. */
int64_t sl_now_ms(void);
/* The current UTC time as RFC 3339 with second precision ("...Z"). */
void sl_time_rfc3339_now(char out[32]);
/* Accepts RFC 3339 as Go's time.Parse(time.RFC3339) does. */
bool sl_time_rfc3339_valid(const char *text);

/* ---- filesystem ------------------------------------------------------ */

/* mkdir -p with mode for each created component. */
int sl_mkdir_p(const char *path, mode_t mode, struct sl_error *err);
/* Removes a file or a whole tree; missing is fine. Never follows symlinks. */
int sl_rm_rf(const char *path);
/* Reads a whole file of at most max bytes. */
int sl_read_file(const char *path, size_t max, struct sl_buf *out, struct sl_error *err);
/* A temp directory under $TMPDIR (or /tmp) named prefix-XXXXXX. Caller frees. */
int sl_mkdtemp(const char *prefix, char **ret_path, struct sl_error *err);
const char *sl_tmpdir(void);
/* An anonymous read-write file in sl_tmpdir(): gone when closed, whatever
 * happens. Returns the fd or <0. */
int sl_tmpfile(struct sl_error *err);
/* sl_tmpfile for content of at most size bytes: in memory (memfd) up to
 * SL_TMPFILE_MEM_MAX, so a small download costs no inode and no disk
 * write, on disk beyond. */
#define SL_TMPFILE_MEM_MAX (8u << 20)
int sl_tmpfile_for(uint64_t size, struct sl_error *err);

/* ---- sha256 ---------------------------------------------------------- */

#define SL_DIGEST_HEX_LEN 64
/* "sha256:" + 64 hex + NUL */
#define SL_DIGEST_STR_LEN 72

/* A streaming hasher: OpenSSL's, loaded on first use (crypto_loader.h), for
 * layers and blobs of any size. sl_sha256_new() prints why and aborts when
 * libcrypto.so.3 cannot be loaded; callers that can return an error call
 * sl_crypto_available() (base/crypto_loader.h) first. */
struct sl_sha256;
struct sl_sha256 *sl_sha256_new(void);
void sl_sha256_update(struct sl_sha256 *h, const void *data, size_t len);
/* Writes "sha256:<hex>" into out and frees nothing; the hasher may be reused
 * only after sl_sha256_reset. */
void sl_sha256_final(struct sl_sha256 *h, char out[SL_DIGEST_STR_LEN]);
void sl_sha256_reset(struct sl_sha256 *h);
void sl_sha256_free(struct sl_sha256 *h);
static inline void sl_sha256_freep(struct sl_sha256 **h)
{
	sl_sha256_free(*h);
}
/* Inputs up to this size are hashed by portable code, never loading
 * libcrypto: every manifest and config, and every kustomize generator hash,
 * since Kubernetes caps a ConfigMap or Secret at 1 MiB. At ~260 MB/s that is
 * at most 4 ms, about what loading libcrypto (2 ms, 2 MiB of RSS) and hashing
 * at SHA-NI speed would cost. */
#define SL_SHA256_PORTABLE_MAX (1024 * 1024)
/* One-shot digest: portable up to SL_SHA256_PORTABLE_MAX, OpenSSL beyond. */
void sl_sha256_digest(const void *data, size_t len, char out[SL_DIGEST_STR_LEN]);
/* The portable FIPS 180-4 code sl_sha256_digest uses, for any length. */
void sl_sha256_portable(const void *data, size_t len, char out[SL_DIGEST_STR_LEN]);
/* "sha256:" followed by exactly 64 lowercase hex digits. */
bool sl_digest_valid(const char *digest);

#endif
