/* The "extract" half of OCIRepository's layer handling: an extracted tree
 * re-archived as Flux's Storage.Archive writes it, filtered by the ignore
 * rules source-controller builds (sourceignore.LoadIgnorePatterns plus
 * spec.ignore, scoped to the tree's root: paths are matched relative to
 * it). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "base/crypto_loader.h"
#include "controller/storage_internal.h"

/* fluxcd/pkg/sourceignore: ExcludeVCS, then ExcludeExt, ExcludeCI and
 * ExcludeExtra, which only apply when no pattern was given at all. */
static const char VCS_PATTERNS[] = ".git/\n.gitignore\n.gitmodules\n.gitattributes\n";
static const char DEFAULT_PATTERNS[] =
    "*.jpg\n*.jpeg\n*.gif\n*.png\n*.wmv\n*.flv\n*.tar.gz\n*.zip\n"
    ".github/\n.circleci/\n.travis.yml\n.gitlab-ci.yml\nappveyor.yml\n.drone.yml\n"
    "cloudbuild.yaml\ncodeship-services.yml\ncodeship-steps.yml\n"
    "**/.goreleaser.yml\n**/.sops.yaml\n**/.flux.yaml\n";

#define IGNORE_FILE           ".sourceignore"
#define MAX_IGNORE_FILE_BYTES (1024 * 1024)
#define MAX_DEPTH             128
#define DIR_MODE              0750
#define FILE_MODE             0600
#define EXE_FILE_MODE         0700

/* ---- ignore rules ------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_dir(const char *path, struct sl_strv *ret, struct sl_error *err)
{
	DIR *d = opendir(path);
	if (!d)
		return sl_error_errno(err, errno, SL_EIO, "reading directory %s", path);
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			sl_strv_push(ret, de->d_name);
		errno = 0;
	}
	int e = errno;
	closedir(d);
	if (e)
		return sl_error_errno(err, e, SL_EIO, "reading directory %s", path);
	if (ret->len)
		qsort(ret->items, ret->len, sizeof(char *), cmp_names);
	return 0;
}

/* A directory name as a literal glob segment. */
static int append_literal(struct sl_buf *out, const char *s)
{
	int r = 0;
	for (const char *p = s; *p && r == 0; p++) {
		/* '!' and '#' only mean something first on a line; escaping
		 * them there and the glob characters everywhere is enough. */
		if (strchr("*?[\\", *p) || (p == s && strchr("!#", *p)))
			r = sl_buf_append(out, "\\", 1);
		if (r == 0)
			r = sl_buf_append(out, p, 1);
	}
	return r;
}

/* One pattern of a .sourceignore in directory domain ("a/b"), rewritten to
 * match from the root as go-git matches it within its domain: a pattern
 * with a '/' is anchored at the domain, one without matches any component
 * below it. */
static int append_scoped(struct sl_buf *out, const char *line, size_t len, const char *domain)
{
	_cleanup_free_ char *p = sl_strndup(line, len);
	char *s = p;
	bool inclusion = *s == '!';
	if (inclusion)
		s++;
	size_t n = strlen(s);
	if (!sl_endswith(s, "\\ "))
		while (n && s[n - 1] == ' ')
			s[--n] = '\0';
	bool dir_only = n && s[n - 1] == '/';
	if (dir_only)
		s[--n] = '\0';
	/* An empty pattern matches no name in go-git; rewritten it would match
	 * the whole domain. */
	if (!n)
		return 0;
	int r = inclusion ? sl_buf_append(out, "!", 1) : 0;
	if (r == 0)
		r = append_literal(out, domain);
	if (r == 0)
		r = sl_buf_printf(out, "/%s%s%s\n", strchr(s, '/') ? "" : "**/", s,
		                  dir_only ? "/" : "");
	return r;
}

/* Appends the pattern lines of text (comments and blank lines skipped, as
 * ReadPatterns does); *ret_any is set when there was one. */
static int append_patterns(struct sl_buf *out, const char *text, const char *domain, bool *ret_any)
{
	for (const char *line = text; *line;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		if (len && line[len - 1] == '\r')
			len--;
		bool blank = true;
		for (size_t i = 0; i < len; i++)
			if (!strchr(" \t\v\f\r", line[i]))
				blank = false;
		if (!blank && line[0] != '#') {
			int r = domain ? append_scoped(out, line, len, domain)
			               : sl_buf_append(out, line, len);
			if (r == 0 && !domain)
				r = sl_buf_append(out, "\n", 1);
			if (r < 0)
				return r;
			*ret_any = true;
		}
		if (!eol)
			break;
		line = eol + 1;
	}
	return 0;
}

static int read_ignore_file(const char *dir, struct sl_buf *text, struct sl_error *err)
{
	_cleanup_free_ char *path = sl_asprintf("%s/" IGNORE_FILE, dir);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && (errno == ENOENT || errno == ELOOP))
		return 0; /* absent; a symlink is never followed out of the tree */
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return sl_error_errno(err, errno, SL_EIO, "reading %s", path);
	if (!S_ISREG(st.st_mode))
		return sl_error_set(err, SL_EINVAL, "reading %s: not a regular file", path);
	char chunk[8192];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sl_error_errno(err, errno, SL_EIO, "reading %s", path);
		if (n == 0)
			return 0;
		if (sl_buf_append(text, chunk, (size_t)n) < 0)
			return sl_error_set(err, SL_ELIMIT, "%s is larger than %d bytes", path,
			                    MAX_IGNORE_FILE_BYTES);
	}
}

/* sourceignore.LoadIgnorePatterns: this directory's file, then each
 * subdirectory's (sorted, ".git" skipped), depth first. */
static int collect_patterns(const char *abs, const char *rel, size_t depth, struct sl_buf *out,
                            bool *ret_any, struct sl_error *err)
{
	if (depth > MAX_DEPTH)
		return sl_error_set(err, SL_ELIMIT, "%s: directories nested deeper than %d", abs,
		                    MAX_DEPTH);
	_cleanup_buf_ struct sl_buf text;
	sl_buf_init(&text, MAX_IGNORE_FILE_BYTES);
	int r = read_ignore_file(abs, &text, err);
	if (r == 0 && text.data)
		r = append_patterns(out, text.data, rel, ret_any);
	if (r < 0)
		return r;

	_cleanup_(sl_strv_free) struct sl_strv names = {0};
	r = list_dir(abs, &names, err);
	for (size_t i = 0; r == 0 && i < names.len; i++) {
		if (strcmp(names.items[i], ".git") == 0)
			continue;
		_cleanup_free_ char *child = sl_asprintf("%s/%s", abs, names.items[i]);
		struct stat st;
		if (lstat(child, &st) < 0)
			return sl_error_errno(err, errno, SL_EIO, "reading %s", child);
		if (!S_ISDIR(st.st_mode))
			continue;
		_cleanup_free_ char *child_rel =
		    rel ? sl_asprintf("%s/%s", rel, names.items[i]) : sl_strdup(names.items[i]);
		r = collect_patterns(child, child_rel, depth + 1, out, ret_any, err);
	}
	return r;
}

int sl_storage_load_ignore(const char *dir, const char *spec_ignore, struct sl_ignore **ret,
                           struct sl_error *err)
{
	_cleanup_buf_ struct sl_buf patterns;
	sl_buf_init(&patterns, 0);
	bool any = false;
	int r = collect_patterns(dir, NULL, 0, &patterns, &any, err);
	if (r == 0 && spec_ignore)
		r = append_patterns(&patterns, spec_ignore, NULL, &any);
	if (r < 0)
		return sl_error_wrap(err, r, "failed to load source ignore patterns");

	struct sl_ignore *ig = sl_ignore_new();
	sl_ignore_add_lines(ig, VCS_PATTERNS);
	sl_ignore_add_lines(ig, any ? patterns.data : DEFAULT_PATTERNS);
	*ret = ig;
	return 0;
}

/* ---- archiving ---------------------------------------------------------- */

struct walk {
	const struct sl_ignore *ignore;
	struct sl_tgz_writer *w;
	bool may_prune; /* no "!" pattern: nothing below an excluded dir comes back */
};

static int archive_file(struct walk *wk, const char *abs, const char *rel, struct sl_error *err)
{
	_cleanup_close_ int fd = open(abs, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return sl_error_errno(err, errno, SL_EIO, "opening %s", abs);
	if (!S_ISREG(st.st_mode))
		return sl_error_set(err, SL_EIO, "%s changed while archiving", abs);
	/* Flux keeps one bit of the mode: whether anyone may execute it. */
	mode_t mode = st.st_mode & 0111 ? EXE_FILE_MODE : FILE_MODE;
	return sl_tgz_add_file(wk->w, rel, mode, fd, (uint64_t)st.st_size, err);
}

static int archive_dir(struct walk *wk, const char *abs, const char *rel, size_t depth,
                       struct sl_error *err)
{
	if (depth > MAX_DEPTH)
		return sl_error_set(err, SL_ELIMIT, "%s: directories nested deeper than %d", abs,
		                    MAX_DEPTH);
	_cleanup_(sl_strv_free) struct sl_strv names = {0};
	int r = list_dir(abs, &names, err);
	for (size_t i = 0; r == 0 && i < names.len; i++) {
		_cleanup_free_ char *child = sl_asprintf("%s/%s", abs, names.items[i]);
		_cleanup_free_ char *child_rel =
		    rel ? sl_asprintf("%s/%s", rel, names.items[i]) : sl_strdup(names.items[i]);
		struct stat st;
		if (lstat(child, &st) < 0)
			return sl_error_errno(err, errno, SL_EIO, "reading %s", child);
		/* Symlinks, devices, sockets and FIFOs are left out, as
		 * filepath.Walk's Lstat shows them to Flux. */
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
			continue;
		bool is_dir = S_ISDIR(st.st_mode);
		bool excluded = sl_ignore_match(wk->ignore, child_rel, is_dir);
		if (!is_dir) {
			if (!excluded)
				r = archive_file(wk, child, child_rel, err);
			continue;
		}
		if (!excluded)
			r = sl_tgz_add_dir(wk->w, child_rel, DIR_MODE, err);
		/* Flux skips an excluded directory's entry but still walks it. */
		if (r == 0 && (!excluded || !wk->may_prune))
			r = archive_dir(wk, child, child_rel, depth + 1, err);
	}
	return r;
}

int sl_storage_archive(struct sl_storage_dir *d, const char *file, const char *src_dir,
                       const struct sl_ignore *ignore, struct sl_artifact *ret,
                       struct sl_error *err)
{
	struct stat st;
	if (stat(src_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return sl_error_set(err, SL_EINVAL, "invalid dir path: %s", src_dir);
	int r = sl_crypto_available(err);
	if (r < 0)
		return r;
	struct staged_file f = {.fd = -1};
	r = staged_open(d, file, &f, err);
	if (r < 0)
		return r;
	_cleanup_(sl_tgz_writer_freep) struct sl_tgz_writer *w = NULL;
	r = sl_tgz_writer_new(f.fd, &w, err);
	struct walk wk = {.ignore = ignore, .w = w, .may_prune = !sl_ignore_has_inclusion(ignore)};
	if (r == 0)
		r = sl_tgz_add_dir(w, ".", DIR_MODE, err);
	if (r == 0)
		r = archive_dir(&wk, src_dir, NULL, 0, err);
	uint64_t size = 0;
	char digest[SL_DIGEST_STR_LEN];
	if (r == 0)
		r = sl_tgz_finish(w, &size, digest, err);
	if (r == 0)
		r = staged_commit(d, &f, file, digest, size, ret, err);
	staged_abort(&f);
	if (r < 0)
		return sl_error_wrap(err, r, "archiving %s/%s", sl_storage_dir_path(d), file);
	return 0;
}

int sl_storage_repack(struct sl_storage_dir *d, const char *file, int tgz_fd,
                      const struct sl_repack_opts *opts, struct sl_artifact *ret,
                      struct sl_error *err)
{
	_cleanup_free_ char *tmp = NULL;
	int r = sl_mkdtemp("sluice-repack", &tmp, err);
	if (r < 0)
		return r;
	const struct sl_extract_limits *limits =
	    opts && (opts->limits.max_total_bytes || opts->limits.max_entries) ? &opts->limits
	                                                                       : NULL;
	r = sl_tar_extract(tgz_fd, tmp, limits, opts ? opts->warn : NULL,
	                   opts ? opts->userdata : NULL, err);
	if (r < 0)
		sl_error_wrap(err, r, "extracting layer");
	_cleanup_(sl_ignore_freep) struct sl_ignore *ignore = NULL;
	if (r == 0)
		r = sl_storage_load_ignore(tmp, opts ? opts->ignore : NULL, &ignore, err);
	if (r == 0)
		r = sl_storage_archive(d, file, tmp, ignore, ret, err);
	sl_rm_rf(tmp);
	return r;
}
