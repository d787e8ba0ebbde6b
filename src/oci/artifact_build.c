/* Directory or file -> Flux's tar+gzip layer. Entries are walked
 * depth-first with names sorted bytewise, the root first as ".", only
 * regular files and directories archived (Flux's pkg/oci Build). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "base/crypto_loader.h"
#include "oci/oci.h"

const char SL_DEFAULT_IGNORE_PATHS[] = ".git/\n.gitignore\n.gitmodules\n.gitattributes\n*.jpg\n"
                                       "*.jpeg\n*.gif\n*.png\n*.wmv\n*.flv\n*.tar.gz\n*.zip\n";

#define MAX_DEPTH 128

struct walk {
	const struct sl_build_opts *opts;
	struct sl_tgz_writer *w;
	bool may_prune; /* no "!" pattern exists, so excluded dirs can be skipped */
	struct {
		dev_t dev;
		ino_t ino;
	} stack[MAX_DEPTH]; /* directories being walked, to break symlink cycles */
	size_t depth;
};

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

static void warn(const struct walk *wk, const char *fmt, const char *a, const char *b)
{
	if (wk->opts->warn)
		wk->opts->warn(wk->opts->userdata, fmt, a, b);
}

static int add_file(struct walk *wk, const char *abs, const char *rel, const struct stat *st,
                    mode_t mode, struct sl_error *err)
{
	_cleanup_close_ int fd = open(abs, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sl_error_errno(err, errno, SL_EIO, "opening %s", abs);
	return sl_tgz_add_file(wk->w, rel, mode, fd, (uint64_t)st->st_size, err);
}

static int walk_dir(struct walk *wk, const char *abs, const char *rel, struct sl_error *err);

static int walk_entry(struct walk *wk, const char *abs, const char *rel, struct sl_error *err)
{
	struct stat st;
	if (lstat(abs, &st) < 0)
		return sl_error_errno(err, errno, SL_EIO, "reading %s", abs);
	if (S_ISLNK(st.st_mode)) {
		if (!wk->opts->resolve_symlinks) {
			char target[4096];
			ssize_t n = readlink(abs, target, sizeof(target) - 1);
			target[n > 0 ? n : 0] = '\0';
			warn(wk,
			     "skipped symlink %s -> %s (use --resolve-symlinks to include its "
			     "target)",
			     rel, target);
			return 0;
		}
		if (stat(abs, &st) < 0)
			return sl_error_errno(err, errno, SL_EIO, "resolving symlink %s", abs);
	}
	bool is_dir = S_ISDIR(st.st_mode);
	if (!is_dir && !S_ISREG(st.st_mode)) {
		warn(wk, "skipped %s: %s", rel, "not a regular file or directory");
		return 0;
	}
	bool excluded = sl_ignore_match(wk->opts->ignore, rel, is_dir);
	if (is_dir) {
		if (excluded && wk->may_prune)
			return 0;
		for (size_t i = 0; i < wk->depth; i++)
			if (wk->stack[i].dev == st.st_dev && wk->stack[i].ino == st.st_ino) {
				warn(wk, "skipped %s: %s", rel, "symlink cycle");
				return 0;
			}
		if (!excluded) {
			int r = sl_tgz_add_dir(wk->w, rel, st.st_mode, err);
			if (r < 0)
				return r;
		}
		return walk_dir(wk, abs, rel, err);
	}
	if (excluded)
		return 0;
	return add_file(wk, abs, rel, &st, st.st_mode, err);
}

static int walk_dir(struct walk *wk, const char *abs, const char *rel, struct sl_error *err)
{
	struct stat st;
	if (stat(abs, &st) < 0)
		return sl_error_errno(err, errno, SL_EIO, "reading %s", abs);
	if (wk->depth == MAX_DEPTH)
		return sl_error_set(err, SL_ELIMIT, "%s: directories nested deeper than %d", abs,
		                    MAX_DEPTH);
	wk->stack[wk->depth].dev = st.st_dev;
	wk->stack[wk->depth].ino = st.st_ino;
	wk->depth++;

	_cleanup_(sl_strv_free) struct sl_strv names = {0};
	int r = list_dir(abs, &names, err);
	for (size_t i = 0; r == 0 && i < names.len; i++) {
		_cleanup_free_ char *child_abs = sl_asprintf("%s/%s", abs, names.items[i]);
		_cleanup_free_ char *child_rel =
		    rel ? sl_asprintf("%s/%s", rel, names.items[i]) : sl_strdup(names.items[i]);
		r = walk_entry(wk, child_abs, child_rel, err);
	}
	wk->depth--;
	return r;
}

int sl_artifact_build(const char *path, const struct sl_build_opts *opts, int out_fd,
                      uint64_t *ret_size, char ret_digest[SL_DIGEST_STR_LEN], struct sl_error *err)
{
	struct stat st;
	if ((opts->resolve_symlinks ? stat(path, &st) : lstat(path, &st)) < 0)
		return sl_error_errno(err, errno, SL_EIO, "reading %s", path);
	if (S_ISLNK(st.st_mode) && stat(path, &st) < 0)
		return sl_error_errno(err, errno, SL_EIO, "resolving symlink %s", path);

	/* The layer is hashed as it is written, with libcrypto, which sluice
	 * loads on first use (crypto_loader.h): say now if it cannot. */
	int r = sl_crypto_available(err);
	if (r < 0)
		return r;
	_cleanup_(sl_tgz_writer_freep) struct sl_tgz_writer *w = NULL;
	r = sl_tgz_writer_new(out_fd, &w, err);
	if (r < 0)
		return r;
	if (opts->progress)
		sl_tgz_set_progress(w, opts->progress, opts->userdata);

	/* .sourceignore joins the patterns given on the command line; its lines
	 * come last so they win, as a file next to the content should. */
	if (S_ISDIR(st.st_mode) && opts->read_sourceignore && opts->ignore) {
		_cleanup_free_ char *p = sl_asprintf("%s/.sourceignore", path);
		_cleanup_buf_ struct sl_buf text;
		sl_buf_init(&text, SL_MAX_SOURCEIGNORE_BYTES);
		struct stat ist;
		if (stat(p, &ist) == 0) {
			r = sl_read_file(p, text.max, &text, err);
			if (r < 0)
				return r;
			if (text.data)
				sl_ignore_add_lines(opts->ignore, text.data);
		}
	}

	struct walk wk = {
	    .opts = opts, .w = w, .may_prune = !sl_ignore_has_inclusion(opts->ignore)};
	if (S_ISDIR(st.st_mode)) {
		r = sl_tgz_add_dir(w, ".", st.st_mode, err);
		if (r == 0)
			r = walk_dir(&wk, path, NULL, err);
	} else if (S_ISREG(st.st_mode)) {
		/* A single file is archived the way Flux ≥ 2.9 does it: copied into a
		 * fresh temp directory (mode 0700) under its own name, so the mode it
		 * gets there is its mode minus the umask. */
		mode_t mask = umask(0);
		umask(mask);
		const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		r = sl_tgz_add_dir(w, ".", 0700, err);
		if (r == 0 && !sl_ignore_match(opts->ignore, base, false))
			r = add_file(&wk, path, base, &st, st.st_mode & ~mask, err);
	} else {
		return sl_error_set(err, SL_EINVAL, "%s is neither a regular file nor a directory",
		                    path);
	}
	if (r < 0)
		return r;
	return sl_tgz_finish(w, ret_size, ret_digest, err);
}
