/* Flux's artifact storage: names, atomic writes, per-object locks, GC. Every
 * path below the root is walked component by component with O_NOFOLLOW
 * from a directory fd, so neither a request nor a stored status can lead
 * the controller outside the root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "base/crypto_loader.h"
#include "controller/httpd.h"
#include "controller/storage_internal.h"

struct sl_storage {
	char *root; /* absolute, symlinks resolved */
	int root_fd;
	char *adv_addr;
	int64_t ttl_ms;
	unsigned records;
};

#define COPY_CHUNK (128 * 1024)
/* The path depth of every stored file: kind/namespace/name/file. */
#define PATH_DEPTH 4

bool storage_name_valid(const char *name)
{
	return name && *name && *name != '.' && !strchr(name, '/') && strlen(name) <= NAME_MAX;
}

int sl_storage_new(const struct sl_storage_opts *opts, struct sl_storage **ret,
                   struct sl_error *err)
{
	struct stat st;
	if (!opts->path || !*opts->path || stat(opts->path, &st) < 0 || !S_ISDIR(st.st_mode))
		return sl_error_set(err, SL_EINVAL, "invalid dir path: %s",
		                    opts->path ? opts->path : "");
	if (opts->retention_ttl_ms < 0)
		return sl_error_set(err, SL_EINVAL, "artifact retention TTL must not be negative");
	_cleanup_free_ char *root = realpath(opts->path, NULL);
	if (!root)
		return sl_error_errno(err, errno, SL_EIO, "resolving %s", opts->path);
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sl_error_errno(err, errno, SL_EIO, "opening %s", root);

	_cleanup_free_ char *adv = NULL;
	if (opts->adv_addr && *opts->adv_addr) {
		adv = sl_strdup(opts->adv_addr);
	} else if (sl_storage_default_adv_addr(SL_STORAGE_DEFAULT_ADDR, &adv, err) < 0) {
		close(fd);
		return err->code;
	}
	struct sl_storage *s = sl_xcalloc(1, sizeof(*s));
	s->root = TAKE_PTR(root);
	s->root_fd = fd;
	s->adv_addr = TAKE_PTR(adv);
	s->ttl_ms = opts->retention_ttl_ms;
	s->records = opts->retention_records;
	*ret = s;
	return 0;
}

void sl_storage_free(struct sl_storage *s)
{
	if (!s)
		return;
	close(s->root_fd);
	free(s->root);
	free(s->adv_addr);
	free(s);
}

const char *sl_storage_root(const struct sl_storage *s)
{
	return s->root;
}

int sl_storage_default_adv_addr(const char *storage_addr, char **ret, struct sl_error *err)
{
	_cleanup_free_ char *host = NULL, *port = NULL;
	if (sl_split_host_port(storage_addr, &host, &port, err) < 0)
		return sl_error_wrap(err, SL_EINVAL, "invalid storage address \"%s\"",
		                     storage_addr);
	if (!*host) {
		free(host);
		host = sl_strdup("localhost");
	} else if (strcmp(host, "0.0.0.0") == 0) {
		free(host);
		const char *env = getenv("HOSTNAME");
		if (env && *env) {
			host = sl_strdup(env);
		} else {
			char name[HOST_NAME_MAX + 1] = {0};
			if (gethostname(name, sizeof(name) - 1) < 0)
				return sl_error_errno(
				    err, errno, SL_EINVAL,
				    "0.0.0.0 specified in storage addr but hostname "
				    "is invalid");
			host = sl_strdup(name);
		}
	}
	/* Go's JoinHostPort brackets any host with a colon (IPv6). */
	*ret = strchr(host, ':') ? sl_asprintf("[%s]:%s", host, port)
	                         : sl_asprintf("%s:%s", host, port);
	return 0;
}

/* ---- names and URLs --------------------------------------------------- */

static char *lowercase(const char *s)
{
	char *out = sl_strdup(s);
	for (char *p = out; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return out;
}

int sl_storage_artifact_path(const char *kind, const char *ns, const char *name, const char *file,
                             char **ret, struct sl_error *err)
{
	const char *parts[] = {kind, ns, name, file};
	for (size_t i = 0; i < SL_ARRAY_SIZE(parts); i++)
		if (!storage_name_valid(parts[i]))
			return sl_error_set(err, SL_EINVAL,
			                    "invalid artifact path component \"%s\"",
			                    parts[i] ? parts[i] : "");
	_cleanup_free_ char *lower = lowercase(kind);
	*ret = sl_asprintf("%s/%s/%s/%s", lower, ns, name, file);
	return 0;
}

char *sl_storage_file_for_revision(const char *revision)
{
	const char *at = strrchr(revision, '@');
	return sl_asprintf("%s.tar.gz", at ? at + 1 : revision);
}

char *sl_storage_url(const struct sl_storage *s, const char *rel_path)
{
	while (*rel_path == '/')
		rel_path++;
	if (sl_startswith(s->adv_addr, "http://") || sl_startswith(s->adv_addr, "https://"))
		return sl_asprintf("%s/%s", s->adv_addr, rel_path);
	return sl_asprintf("http://%s/%s", s->adv_addr, rel_path);
}

/* ---- reading ------------------------------------------------------------ */

/* Splits rel into kind/ns/name/file, validating each. */
static int split_rel(const char *rel, char *copy, char *parts[PATH_DEPTH], struct sl_error *err)
{
	size_t n = 0;
	strcpy(copy, rel);
	for (char *p = copy;;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		if (n == PATH_DEPTH || !storage_name_valid(p))
			return sl_error_set(err, SL_EINVAL, "invalid artifact path \"%s\"", rel);
		parts[n++] = p;
		if (!slash)
			break;
		p = slash + 1;
	}
	if (n != PATH_DEPTH)
		return sl_error_set(err, SL_EINVAL, "invalid artifact path \"%s\"", rel);
	return 0;
}

static int errno_to_code(int e)
{
	return e == ENOENT || e == ENOTDIR || e == ELOOP ? SL_ENOTFOUND : SL_EIO;
}

/* Opens the directory holding rel's file; *ret_base points into copy. */
static int open_parent(const struct sl_storage *s, const char *rel, char *copy,
                       const char **ret_base, struct sl_error *err)
{
	char *parts[PATH_DEPTH];
	int r = split_rel(rel, copy, parts, err);
	if (r < 0)
		return r;
	int fd = s->root_fd;
	for (size_t i = 0; i < PATH_DEPTH - 1; i++) {
		int next = openat(fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		if (fd != s->root_fd)
			close(fd);
		if (next < 0)
			return sl_error_errno(err, e, errno_to_code(e), "opening %s", rel);
		fd = next;
	}
	*ret_base = parts[PATH_DEPTH - 1];
	return fd;
}

/* latest.tar.gz points at a file in its own directory, by an absolute path
 * (as Flux writes it) or a bare name; any other target is refused. */
static const char *sibling_target(const char *target, const char *abs_dir)
{
	size_t n = strlen(abs_dir);
	if (strncmp(target, abs_dir, n) == 0 && target[n] == '/')
		target += n + 1;
	return storage_name_valid(target) ? target : NULL;
}

int sl_storage_open(const struct sl_storage *s, const char *rel_path, int *ret_fd,
                    struct sl_error *err)
{
	_cleanup_free_ char *copy = sl_xmalloc(strlen(rel_path) + 1);
	const char *base;
	_cleanup_close_ int dir = open_parent(s, rel_path, copy, &base, err);
	if (dir < 0)
		return dir;
	const int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	_cleanup_close_ int fd = openat(dir, base, flags);
	if (fd < 0 && errno == ELOOP) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(dir, base, target, sizeof(target) - 1);
		if (n < 0)
			return sl_error_errno(err, errno, errno_to_code(errno), "reading %s",
			                      rel_path);
		target[n] = '\0';
		/* copy now reads "kind\0ns\0name\0file": rebuild the directory. */
		_cleanup_free_ char *abs_dir =
		    sl_asprintf("%s/%.*s", s->root, (int)(base - copy - 1), rel_path);
		const char *sibling = sibling_target(target, abs_dir);
		if (!sibling)
			return sl_error_set(err, SL_EINVAL, "%s: symlink leaves its directory",
			                    rel_path);
		fd = openat(dir, sibling, flags);
	}
	if (fd < 0)
		return sl_error_errno(err, errno, errno_to_code(errno), "opening %s", rel_path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sl_error_errno(err, errno, SL_EIO, "reading %s", rel_path);
	if (!S_ISREG(st.st_mode))
		return sl_error_set(err, SL_ENOTFOUND, "%s is not a regular file", rel_path);
	/* O_NONBLOCK only kept a planted FIFO from hanging the open. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

bool sl_storage_exists(const struct sl_storage *s, const char *rel_path)
{
	_cleanup_free_ char *copy = sl_xmalloc(strlen(rel_path) + 1);
	const char *base;
	_cleanup_close_ int dir = open_parent(s, rel_path, copy, &base, NULL);
	struct stat st;
	return dir >= 0 && fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int sl_storage_verify(const struct sl_storage *s, const char *rel_path, const char *digest,
                      struct sl_error *err)
{
	if (!digest || !sl_startswith(digest, "sha256:"))
		return sl_error_set(err, SL_EUNSUPPORTED, "failed to parse artifact digest '%s'",
		                    digest ? digest : "");
	int r = sl_crypto_available(err);
	if (r < 0)
		return r;
	_cleanup_free_ char *copy = sl_xmalloc(strlen(rel_path) + 1);
	const char *base;
	_cleanup_close_ int dir = open_parent(s, rel_path, copy, &base, err);
	if (dir < 0)
		return dir;
	_cleanup_close_ int fd = openat(dir, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return sl_error_errno(err, errno, errno_to_code(errno), "opening %s", rel_path);
	if (!S_ISREG(st.st_mode))
		return sl_error_set(err, SL_ENOTFOUND, "%s is not a regular file", rel_path);

	_cleanup_(sl_sha256_freep) struct sl_sha256 *h = sl_sha256_new();
	_cleanup_free_ char *chunk = sl_xmalloc(COPY_CHUNK);
	for (;;) {
		ssize_t n = read(fd, chunk, COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sl_error_errno(err, errno, SL_EIO, "reading %s", rel_path);
		if (n == 0)
			break;
		sl_sha256_update(h, chunk, (size_t)n);
	}
	char got[SL_DIGEST_STR_LEN];
	sl_sha256_final(h, got);
	if (strcmp(got, digest) != 0)
		return sl_error_set(err, SL_EDIGEST, "computed digest doesn't match '%s'", digest);
	return 0;
}

int sl_storage_remove(const struct sl_storage *s, const char *rel_path, struct sl_error *err)
{
	_cleanup_free_ char *copy = sl_xmalloc(strlen(rel_path) + 1);
	const char *base;
	_cleanup_close_ int dir = open_parent(s, rel_path, copy, &base, err);
	if (dir == SL_ENOTFOUND)
		return 0;
	if (dir < 0)
		return dir;
	if (unlinkat(dir, base, 0) < 0 && errno != ENOENT)
		return sl_error_errno(err, errno, SL_EIO, "removing %s", rel_path);
	return 0;
}

/* ---- locking ------------------------------------------------------------ */

static int open_dir_at(int at, const char *name, bool create, struct sl_error *err)
{
	if (create && mkdirat(at, name, 0700) < 0 && errno != EEXIST)
		return sl_error_errno(err, errno, SL_EIO, "creating directory %s", name);
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return sl_error_errno(err, errno, errno_to_code(errno), "opening directory %s",
		                      name);
	return fd;
}

/* Opens <kind>/<ns> and, below it, <name>. */
static int open_object_dir(const struct sl_storage *s, const char *kind, const char *ns,
                           const char *name, bool create, int *ret_parent, struct sl_error *err)
{
	_cleanup_close_ int kfd = open_dir_at(s->root_fd, kind, create, err);
	if (kfd < 0)
		return kfd;
	_cleanup_close_ int nfd = open_dir_at(kfd, ns, create, err);
	if (nfd < 0)
		return nfd;
	int fd = open_dir_at(nfd, name, create, err);
	if (fd < 0)
		return fd;
	*ret_parent = TAKE_FD(nfd);
	return fd;
}

int sl_storage_lock(const struct sl_storage *s, const char *kind, const char *ns, const char *name,
                    bool create, struct sl_storage_dir **ret, struct sl_error *err)
{
	_cleanup_free_ char *rel = NULL;
	int r = sl_storage_artifact_path(kind, ns, name, "x", &rel, err);
	if (r < 0)
		return r;
	rel[strlen(rel) - 2] = '\0';
	_cleanup_free_ char *lower = lowercase(kind);

	/* Whoever held the lock may have removed the directory meanwhile: a
	 * lock on an unlinked directory protects nothing, so start again. */
	for (int attempt = 0; attempt < 100; attempt++) {
		_cleanup_close_ int parent = -1;
		_cleanup_close_ int fd = open_object_dir(s, lower, ns, name, create, &parent, err);
		if (fd < 0)
			return sl_error_wrap(err, fd, "locking %s", rel);
		while (flock(fd, LOCK_EX) < 0)
			if (errno != EINTR)
				return sl_error_errno(err, errno, SL_EIO, "locking %s", rel);
		struct stat held, now;
		if (fstat(fd, &held) < 0)
			return sl_error_errno(err, errno, SL_EIO, "locking %s", rel);
		if (fstatat(parent, name, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
		    now.st_ino != held.st_ino || now.st_dev != held.st_dev)
			continue;
		struct sl_storage_dir *d = sl_xcalloc(1, sizeof(*d));
		d->s = s;
		d->parent_fd = TAKE_FD(parent);
		d->fd = TAKE_FD(fd);
		d->name = sl_strdup(name);
		d->rel = TAKE_PTR(rel);
		*ret = d;
		return 0;
	}
	return sl_error_set(err, SL_EIO, "locking %s: the directory keeps disappearing", rel);
}

void sl_storage_unlock(struct sl_storage_dir *d)
{
	if (!d)
		return;
	close(d->fd); /* releases the flock */
	close(d->parent_fd);
	free(d->name);
	free(d->rel);
	free(d);
}

const char *sl_storage_dir_path(const struct sl_storage_dir *d)
{
	return d->rel;
}

/* ---- staged writes ------------------------------------------------------ */

void sl_artifact_clear(struct sl_artifact *a)
{
	if (!a)
		return;
	free(a->path);
	free(a->url);
	*a = (struct sl_artifact){0};
}

int staged_open(struct sl_storage_dir *d, const char *file, struct staged_file *ret,
                struct sl_error *err)
{
	static atomic_uint counter;
	if (!storage_name_valid(file))
		return sl_error_set(err, SL_EINVAL, "invalid artifact file name \"%s\"", file);
	if (d->removed)
		return sl_error_set(err, SL_EINVAL, "%s was removed", d->rel);
	/* Hidden: the file server refuses names starting with '.', and GC
	 * removes what a crash left behind. */
	for (int attempt = 0; attempt < 16; attempt++) {
		char *tmp = sl_asprintf(".%s.tmp-%d-%u", file, (int)getpid(),
		                        atomic_fetch_add(&counter, 1));
		int fd = openat(d->fd, tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			*ret = (struct staged_file){.dir_fd = d->fd, .fd = fd, .tmp_name = tmp};
			return 0;
		}
		int e = errno;
		free(tmp);
		if (e != EEXIST)
			return sl_error_errno(err, e, SL_EIO, "creating a temporary file in %s",
			                      d->rel);
	}
	return sl_error_set(err, SL_EIO, "creating a temporary file in %s: name collisions",
	                    d->rel);
}

void staged_abort(struct staged_file *f)
{
	if (f->fd >= 0 && f->tmp_name) {
		close(f->fd);
		unlinkat(f->dir_fd, f->tmp_name, 0);
	}
	free(f->tmp_name);
	*f = (struct staged_file){.fd = -1};
}

int staged_commit(struct sl_storage_dir *d, struct staged_file *f, const char *file,
                  const char *digest, uint64_t size, struct sl_artifact *ret, struct sl_error *err)
{
	if (fsync(f->fd) < 0 || fchmod(f->fd, 0600) < 0)
		return sl_error_errno(err, errno, SL_EIO, "writing %s/%s", d->rel, file);
	if (renameat(f->dir_fd, f->tmp_name, f->dir_fd, file) < 0)
		return sl_error_errno(err, errno, SL_EIO, "renaming into %s/%s", d->rel, file);
	close(f->fd);
	free(f->tmp_name);
	*f = (struct staged_file){.fd = -1};
	/* The rename itself must survive a crash too. */
	if (fsync(d->fd) < 0)
		return sl_error_errno(err, errno, SL_EIO, "syncing %s", d->rel);
	if (ret) {
		sl_artifact_clear(ret);
		ret->path = sl_asprintf("%s/%s", d->rel, file);
		ret->url = sl_storage_url(d->s, ret->path);
		snprintf(ret->digest, sizeof(ret->digest), "%s", digest);
		ret->size = size;
		sl_time_rfc3339_now(ret->last_update_time);
	}
	return 0;
}

static void staged_freep(struct staged_file *f)
{
	staged_abort(f);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int sl_storage_store(struct sl_storage_dir *d, const char *file, int src_fd, uint64_t max_bytes,
                     const char *expected_digest, struct sl_artifact *ret, struct sl_error *err)
{
	int r = sl_crypto_available(err);
	if (r < 0)
		return r;
	_cleanup_(staged_freep) struct staged_file f = {.fd = -1};
	r = staged_open(d, file, &f, err);
	if (r < 0)
		return r;
	_cleanup_(sl_sha256_freep) struct sl_sha256 *h = sl_sha256_new();
	_cleanup_free_ char *chunk = sl_xmalloc(COPY_CHUNK);
	uint64_t size = 0;
	for (;;) {
		ssize_t n = read(src_fd, chunk, COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sl_error_errno(err, errno, SL_EIO, "reading artifact for %s/%s",
			                      d->rel, file);
		if (n == 0)
			break;
		size += (uint64_t)n;
		if (max_bytes && size > max_bytes)
			return sl_error_set(err, SL_ELIMIT, "artifact for %s/%s exceeds %llu bytes",
			                    d->rel, file, (unsigned long long)max_bytes);
		sl_sha256_update(h, chunk, (size_t)n);
		r = write_all(f.fd, chunk, (size_t)n);
		if (r < 0)
			return sl_error_errno(err, -r, SL_EIO, "writing %s/%s", d->rel, file);
	}
	char digest[SL_DIGEST_STR_LEN];
	sl_sha256_final(h, digest);
	if (expected_digest && strcmp(digest, expected_digest) != 0)
		return sl_error_set(err, SL_EDIGEST,
		                    "artifact for %s/%s: computed digest %s "
		                    "doesn't match '%s'",
		                    d->rel, file, digest, expected_digest);
	return staged_commit(d, &f, file, digest, size, ret, err);
}

int sl_storage_symlink_latest(struct sl_storage_dir *d, const char *file, char **ret_url,
                              struct sl_error *err)
{
	static atomic_uint counter;
	if (!storage_name_valid(file))
		return sl_error_set(err, SL_EINVAL, "invalid artifact file name \"%s\"", file);
	if (d->removed)
		return sl_error_set(err, SL_EINVAL, "%s was removed", d->rel);
	_cleanup_free_ char *target = sl_asprintf("%s/%s/%s", d->s->root, d->rel, file);
	_cleanup_free_ char *tmp = sl_asprintf("." SL_STORAGE_LATEST ".tmp-%d-%u", (int)getpid(),
	                                       atomic_fetch_add(&counter, 1));
	if (symlinkat(target, d->fd, tmp) < 0)
		return sl_error_errno(err, errno, SL_EIO, "creating symlink in %s", d->rel);
	if (renameat(d->fd, tmp, d->fd, SL_STORAGE_LATEST) < 0) {
		int e = errno;
		unlinkat(d->fd, tmp, 0);
		return sl_error_errno(err, e, SL_EIO, "updating %s/" SL_STORAGE_LATEST, d->rel);
	}
	if (ret_url) {
		_cleanup_free_ char *rel = sl_asprintf("%s/" SL_STORAGE_LATEST, d->rel);
		*ret_url = sl_storage_url(d->s, rel);
	}
	return 0;
}

/* ---- garbage collection ------------------------------------------------- */

struct gc_file {
	char *name;
	struct timespec mtime;
	bool gone;
};

static int cmp_mtime(const void *a, const void *b)
{
	const struct gc_file *x = a, *y = b;
	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int gc_remove(struct sl_storage_dir *d, struct gc_file *f, struct sl_strv *ret_deleted,
                     struct sl_error *err)
{
	if (unlinkat(d->fd, f->name, 0) < 0 && errno != ENOENT)
		return sl_error_errno(err, errno, SL_EIO, "removing %s/%s", d->rel, f->name);
	/* Flux's per-artifact lock file, should one exist. */
	_cleanup_free_ char *lock = sl_asprintf("%s.lock", f->name);
	unlinkat(d->fd, lock, 0);
	f->gone = true;
	if (ret_deleted)
		sl_strv_push(ret_deleted, f->name);
	return 0;
}

/* The regular artifact files of d, at most SL_STORAGE_GC_FILE_LIMIT;
 * leftovers of interrupted writes are removed on the way. */
static int gc_list(struct sl_storage_dir *d, struct gc_file **ret, size_t *ret_n,
                   struct sl_error *err)
{
	int dup_fd = dup(d->fd);
	DIR *dir = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!dir) {
		if (dup_fd >= 0)
			close(dup_fd);
		return sl_error_errno(err, errno, SL_EIO, "reading %s", d->rel);
	}
	rewinddir(dir);
	struct gc_file *files = NULL;
	size_t n = 0;
	struct dirent *de;
	while (n < SL_STORAGE_GC_FILE_LIMIT && (de = readdir(dir))) {
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    fstatat(d->fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		/* Every dot entry is a staged write: we hold the lock, so no
		 * writer is alive to finish it. */
		if (de->d_name[0] == '.') {
			if (!S_ISDIR(st.st_mode))
				unlinkat(d->fd, de->d_name, 0);
			continue;
		}
		if (!S_ISREG(st.st_mode) || sl_endswith(de->d_name, ".lock"))
			continue;
		files = sl_xrealloc(files, (n + 1) * sizeof(*files));
		files[n++] = (struct gc_file){.name = sl_strdup(de->d_name), .mtime = st.st_mtim};
	}
	closedir(dir);
	*ret = files;
	*ret_n = n;
	return 0;
}

int sl_storage_gc(struct sl_storage_dir *d, const char *current, struct sl_strv *ret_deleted,
                  struct sl_error *err)
{
	if (d->removed)
		return 0;
	struct gc_file *files = NULL;
	size_t n = 0;
	int r = gc_list(d, &files, &n, err);
	if (r < 0)
		return r;
	if (n)
		qsort(files, n, sizeof(*files), cmp_mtime);

	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	size_t left = n;
	int first_error = 0;
	struct sl_error e2 = {0};
	/* Expired first, then the oldest until `records` remain. */
	for (size_t i = 0; i < n; i++) {
		int64_t age_ms = now_ms - ((int64_t)files[i].mtime.tv_sec * 1000 +
		                           files[i].mtime.tv_nsec / 1000000);
		if (current && strcmp(files[i].name, current) == 0)
			continue;
		if (age_ms > d->s->ttl_ms) {
			r = gc_remove(d, &files[i], ret_deleted, first_error ? &e2 : err);
			if (r < 0 && !first_error)
				first_error = r;
			left--;
		}
	}
	for (size_t i = 0; i < n && left > d->s->records; i++) {
		if (files[i].gone || (current && strcmp(files[i].name, current) == 0))
			continue;
		r = gc_remove(d, &files[i], ret_deleted, first_error ? &e2 : err);
		if (r < 0 && !first_error)
			first_error = r;
		left--;
	}
	for (size_t i = 0; i < n; i++)
		free(files[i].name);
	free(files);
	return first_error;
}

/* ---- removal ------------------------------------------------------------ */

int sl_storage_dir_remove(struct sl_storage_dir *d, struct sl_error *err)
{
	if (d->removed)
		return 0;
	_cleanup_free_ char *abs = sl_asprintf("%s/%s", d->s->root, d->rel);
	int dup_fd = dup(d->fd);
	DIR *dir = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!dir) {
		if (dup_fd >= 0)
			close(dup_fd);
		return sl_error_errno(err, errno, SL_EIO, "reading %s", d->rel);
	}
	rewinddir(dir);
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(d->fd, de->d_name, 0) == 0 || errno == ENOENT)
			continue;
		/* A directory nobody should have made: take it with its tree. */
		_cleanup_free_ char *child = sl_asprintf("%s/%s", abs, de->d_name);
		sl_rm_rf(child);
	}
	closedir(dir);
	if (unlinkat(d->parent_fd, d->name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return sl_error_errno(err, errno, SL_EIO, "removing %s", d->rel);
	d->removed = true;
	return 0;
}

int sl_storage_delete(const struct sl_storage *s, const char *kind, const char *ns,
                      const char *name, struct sl_error *err)
{
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = NULL;
	int r = sl_storage_lock(s, kind, ns, name, false, &d, err);
	if (r == SL_ENOTFOUND) {
		sl_error_clear(err);
		return 0;
	}
	if (r < 0)
		return r;
	return sl_storage_dir_remove(d, err);
}
