/* Extraction that cannot write outside its target: every path is resolved
 * component by component with openat(O_NOFOLLOW) below a directory fd, ".."
 * and absolute names are refused, and no symlink is ever created, so no
 * later entry can be redirected through one. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "codec/codec.h"

bool sl_is_gzip_file(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char magic[2];
	return fd >= 0 && read(fd, magic, 2) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

/* Splits name into components in place, rejecting what could escape. */
static int split_name(char *name, char **parts, size_t max, size_t *ret_n, struct sl_error *err)
{
	size_t n = 0;
	for (char *save = NULL, *tok = strtok_r(name, "/", &save); tok;
	     tok = strtok_r(NULL, "/", &save)) {
		if (strcmp(tok, ".") == 0)
			continue;
		if (strcmp(tok, "..") == 0)
			return sl_error_set(err, SL_EINVAL, "contains a \"..\" component");
		if (n == max)
			return sl_error_set(err, SL_ELIMIT, "is nested too deeply");
		parts[n++] = tok;
	}
	*ret_n = n;
	return 0;
}

/* Opens (creating when asked) the directory parts[0..n) below root_fd. */
static int open_dir_chain(int root_fd, char **parts, size_t n, mode_t mode, struct sl_error *err)
{
	int fd = dup(root_fd);
	if (fd < 0)
		return sl_error_errno(err, errno, SL_EIO, "opening directory");
	for (size_t i = 0; i < n; i++) {
		if (mkdirat(fd, parts[i], mode) < 0 && errno != EEXIST) {
			int e = errno;
			close(fd);
			return sl_error_errno(err, e, SL_EIO, "creating directory %s", parts[i]);
		}
		int next = openat(fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		if (next < 0)
			return sl_error_errno(err, e, SL_EIO, "opening directory %s", parts[i]);
		fd = next;
	}
	return fd;
}

static int write_entry_data(struct sl_tar_reader *t, int fd, uint64_t *total,
                            const struct sl_extract_limits *limits, struct sl_error *err)
{
	/* On the heap, not thread-local: 128 KiB of static TLS per module made
	 * every thread of the controller carry it, and broke small stacks. */
	enum { CHUNK = 128 * 1024 };
	_cleanup_free_ char *chunk = sl_xmalloc(CHUNK);
	for (;;) {
		ssize_t n = sl_tar_read(t, chunk, CHUNK, err);
		if (n == 0)
			return 0;
		if (n < 0)
			return SL_EINVAL;
		*total += (uint64_t)n;
		if (limits && limits->max_total_bytes && *total > limits->max_total_bytes)
			return sl_error_set(err, SL_ELIMIT,
			                    "content exceeds the extraction limit of %llu bytes",
			                    (unsigned long long)limits->max_total_bytes);
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, chunk + off, (size_t)(n - off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return sl_error_errno(err, errno, SL_EIO, "writing");
			}
			off += w;
		}
	}
}

static int extract_entry(struct sl_tar_reader *t, const struct sl_tar_header *h, int root_fd,
                         uint64_t *total, const struct sl_extract_limits *limits,
                         sl_extract_warn_fn warn, void *userdata, struct sl_error *err)
{
	const char *raw = h->name;
	if (!raw || !*raw)
		return sl_error_set(err, SL_EINVAL, "tar entry with an empty name");
	if (raw[0] == '/' || strchr(raw, '\\'))
		return sl_error_set(err, SL_EINVAL, "tar entry \"%s\" has an invalid name", raw);

	_cleanup_free_ char *name = sl_strdup(raw);
	char *parts[128];
	size_t n = 0;
	if (split_name(name, parts, SL_ARRAY_SIZE(parts), &n, err) < 0)
		return sl_error_wrap(err, SL_EINVAL, "tar entry \"%s\"", raw);

	mode_t type = h->type;
	mode_t perm = h->mode & 0777;
	if (h->hardlink)
		return sl_error_set(err, SL_EUNSUPPORTED, "tar entry \"%s\" is a hard link", raw);

	if (type == S_IFLNK) {
		if (warn)
			warn(userdata, "skipped symlink %s -> %s", raw,
			     h->linkname ? h->linkname : "");
		return 0;
	}
	if (type == S_IFDIR) {
		/* The owner always keeps access, as Flux does (perm|0700). */
		int fd = open_dir_chain(root_fd, parts, n, perm | 0700, err);
		if (fd < 0)
			return sl_error_wrap(err, fd, "tar entry \"%s\"", raw);
		int r = n ? fchmod(fd, perm | 0700) : 0;
		close(fd);
		return r < 0 ? sl_error_errno(err, errno, SL_EIO, "setting mode of %s", raw) : 0;
	}
	if (type != S_IFREG)
		return sl_error_set(err, SL_EUNSUPPORTED,
		                    "tar entry \"%s\" has an unsupported type (0%o)", raw, type);
	if (n == 0)
		return sl_error_set(err, SL_EINVAL, "tar entry \"%s\" names the root as a file",
		                    raw);

	_cleanup_close_ int dir = open_dir_chain(root_fd, parts, n - 1, 0750, err);
	if (dir < 0)
		return sl_error_wrap(err, dir, "tar entry \"%s\"", raw);
	_cleanup_close_ int fd =
	    openat(dir, parts[n - 1], O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, perm);
	if (fd < 0)
		return sl_error_errno(err, errno, SL_EIO, "creating %s", raw);
	int r = write_entry_data(t, fd, total, limits, err);
	if (r < 0)
		return sl_error_wrap(err, r, "extracting %s", raw);
	return 0;
}

int sl_tar_extract(int tgz_fd, const char *dest_dir, const struct sl_extract_limits *limits,
                   sl_extract_warn_fn warn, void *userdata, struct sl_error *err)
{
	_cleanup_close_ int root_fd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return sl_error_errno(err, errno, SL_EIO, "opening %s", dest_dir);

	_cleanup_(sl_tar_reader_freep) struct sl_tar_reader *t = NULL;
	int r = sl_tar_reader_new(tgz_fd, &t, err);
	if (r < 0)
		return r;
	uint64_t total = 0, entries = 0;
	for (;;) {
		const struct sl_tar_header *h;
		r = sl_tar_next(t, &h, err);
		if (r <= 0)
			return r;
		if (limits && limits->max_entries && ++entries > limits->max_entries)
			return sl_error_set(err, SL_ELIMIT, "tarball has more than %llu entries",
			                    (unsigned long long)limits->max_entries);
		r = extract_entry(t, h, root_fd, &total, limits, warn, userdata, err);
		if (r < 0)
			return r;
	}
}
