/* Helpers shared by the unit tests: a temp directory per test (cmocka
 * setup/teardown), whole-file reads and writes, and gzip inflate. They use
 * libc and zlib directly so a bug in the code under test cannot hide
 * behind its own helpers. */
#ifndef SLUICE_TESTLIB_H
#define SLUICE_TESTLIB_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* Memory a test hands to its fixture: a failed assertion longjmps out of
 * the test, so cleanup attributes never run; whatever is registered here
 * is freed by tl_teardown_tmpdir instead, keeping ASan's leak report for
 * real leaks. */
static void *tl_owned[256];
static size_t tl_n_owned;

static inline void *tl_own(void *p)
{
	if (tl_n_owned == sizeof(tl_owned) / sizeof(tl_owned[0]))
		abort();
	tl_owned[tl_n_owned++] = p;
	return p;
}

static inline void tl_free_owned(void)
{
	while (tl_n_owned)
		free(tl_owned[--tl_n_owned]);
}

/* cmocka setup: *state becomes a fresh directory under $TMPDIR. */
static inline int tl_setup_tmpdir(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char *path = NULL;
	if (asprintf(&path, "%s/sluice-unit-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
		return -1;
	if (!mkdtemp(path)) {
		free(path);
		return -1;
	}
	*state = path;
	return 0;
}

static inline int tl_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		return rmdir(path) < 0 ? -1 : 0;
	return unlink(path) < 0 ? -1 : 0;
}

static inline int tl_open_up(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DNR)
		chmod(path, 0700);
	return 0;
}

static inline void tl_rm_rf(const char *path)
{
	/* Directories first made writable and searchable (pre-order), so that
	 * a test's read-only directory cannot keep its children. */
	nftw(path, tl_open_up, 32, FTW_PHYS);
	nftw(path, tl_rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}

static inline int tl_teardown_tmpdir(void **state)
{
	char *path = *state;
	tl_free_owned();
	if (path) {
		tl_rm_rf(path);
		free(path);
	}
	*state = NULL;
	return 0;
}

/* "<dir>/<name>"; caller frees. */
static inline char *tl_path(const char *dir, const char *name)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

static inline void tl_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n <= 0)
			abort();
		p += n;
		len -= (size_t)n;
	}
	close(fd);
}

/* Whole file, NUL-terminated; NULL when it cannot be read. */
static inline unsigned char *tl_read_file(const char *path, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, len = 0;
	unsigned char *buf = malloc(cap + 1);
	for (;;) {
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			free(buf);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = 0;
	*ret_len = len;
	return buf;
}

/* Inflates one complete gzip member that must span all of data. Returns
 * NULL when the stream is not exactly that (bad CRC, trailing bytes...). */
static inline unsigned char *tl_gunzip(const unsigned char *data, size_t len, size_t *ret_len)
{
	z_stream z = {0};
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return NULL;
	size_t cap = 65536, out_len = 0;
	unsigned char *out = malloc(cap);
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	int zr;
	do {
		if (out_len == cap) {
			cap *= 2;
			out = realloc(out, cap);
		}
		z.next_out = out + out_len;
		z.avail_out = (uInt)(cap - out_len);
		zr = inflate(&z, Z_NO_FLUSH);
		out_len = cap - z.avail_out;
	} while (zr == Z_OK);
	bool ok = zr == Z_STREAM_END && z.avail_in == 0;
	inflateEnd(&z);
	if (!ok) {
		free(out);
		return NULL;
	}
	*ret_len = out_len;
	return out;
}

/* Gzips data as a single member with default settings (used to craft
 * hostile tarballs the sluice writer would never produce). */
static inline unsigned char *tl_gzip(const void *data, size_t len, size_t *ret_len)
{
	z_stream z = {0};
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	size_t cap = deflateBound(&z, (uLong)len) + 64;
	unsigned char *out = malloc(cap);
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	int zr = deflate(&z, Z_FINISH);
	deflateEnd(&z);
	if (zr != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	*ret_len = cap - z.avail_out;
	return out;
}

#endif
