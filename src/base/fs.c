#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "base.h"

int sl_mkdir_p(const char *path, mode_t mode, struct sl_error *err)
{
	_cleanup_free_ char *copy = sl_strdup(path);
	size_t len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			return sl_error_errno(err, errno, SL_EIO, "creating directory %s", copy);
		*p = '/';
	}
	if (mkdir(copy, mode) < 0) {
		if (errno != EEXIST)
			return sl_error_errno(err, errno, SL_EIO, "creating directory %s", copy);
		struct stat st;
		if (stat(copy, &st) < 0 || !S_ISDIR(st.st_mode))
			return sl_error_set(err, SL_EIO, "%s exists and is not a directory", copy);
	}
	return 0;
}

static int rm_at(int parent_fd, const char *name)
{
	struct stat st;
	if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(parent_fd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int q = rm_at(dirfd(d), de->d_name);
		if (q < 0)
			r = q;
	}
	closedir(d);
	if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

int sl_rm_rf(const char *path)
{
	return rm_at(AT_FDCWD, path);
}

int sl_read_file(const char *path, size_t max, struct sl_buf *out, struct sl_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sl_error_errno(err, errno, SL_EIO, "reading %s", path);
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sl_error_errno(err, errno, SL_EIO, "reading %s", path);
		}
		if (n == 0)
			return 0;
		if (out->len + (size_t)n > max)
			return sl_error_set(err, SL_ELIMIT, "reading %s: larger than %zu bytes",
			                    path, max);
		if (sl_buf_append(out, chunk, (size_t)n) < 0)
			return sl_error_set(err, SL_ELIMIT, "reading %s: larger than %zu bytes",
			                    path, max);
	}
}

const char *sl_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

int sl_mkdtemp(const char *prefix, char **ret_path, struct sl_error *err)
{
	char *path = sl_asprintf("%s/%s-XXXXXX", sl_tmpdir(), prefix);
	if (!mkdtemp(path)) {
		int e = errno;
		sl_error_errno(err, e, SL_EIO, "creating temporary directory in %s", sl_tmpdir());
		free(path);
		return SL_EIO;
	}
	*ret_path = path;
	return 0;
}

int sl_tmpfile_for(uint64_t size, struct sl_error *err)
{
	if (size <= SL_TMPFILE_MEM_MAX) {
		int fd = memfd_create("sluice-tmp", MFD_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	return sl_tmpfile(err);
}

int sl_tmpfile(struct sl_error *err)
{
	const char *dir = sl_tmpdir();
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	/* Filesystems without O_TMPFILE: a named file, unlinked at once. */
	_cleanup_free_ char *path = sl_asprintf("%s/sluice-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return sl_error_errno(err, errno, SL_EIO, "creating a temporary file in %s", dir);
	unlink(path);
	return fd;
}
