/* The "extract" half of OCIRepository's layer handling: an extracted tree
 * re-archived as Flux's Storage.Archive writes it, filtered by the ignore
 * rules source-controller builds (sourceignore.LoadIgnorePatterns plus
 * spec.ignore, scoped to the tree's root: paths are matched relative to
 * it). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ---- the trees a walk reads ---------------------------------------------- */

/* What the ignore rules and the archive are made from: a directory on disk,
 * or the regular files and directories of a tarball held in memory. Both
 * answer the same questions, so one walk (below) decides order and
 * filtering for both, and their archives are the same bytes. Paths are
 * relative to the root (NULL: the root itself), components joined by '/'. */
struct tree {
	const char *display; /* the root, for messages */
	/* The names in directory rel, sorted by strcmp as filepath.Walk does. */
	int (*list)(const struct tree *t, const char *rel, struct sl_strv *ret,
	            struct sl_error *err);
	/* S_IFDIR, S_IFREG, or 0 for what the walk leaves out. */
	int (*kind)(const struct tree *t, const char *rel, mode_t *ret, struct sl_error *err);
	/* Appends directory rel's .sourceignore to text; none is no error. */
	int (*read_ignore)(const struct tree *t, const char *rel, struct sl_buf *text,
	                   struct sl_error *err);
	int (*add_file)(const struct tree *t, struct sl_tgz_writer *w, const char *rel,
	                struct sl_error *err);
};

static char *tree_path(const struct tree *t, const char *rel)
{
	return rel ? sl_asprintf("%s/%s", t->display, rel) : sl_strdup(t->display);
}

static char *child_of(const char *rel, const char *name)
{
	return rel ? sl_asprintf("%s/%s", rel, name) : sl_strdup(name);
}

/* -- on disk -- */

static int disk_list(const struct tree *t, const char *rel, struct sl_strv *ret,
                     struct sl_error *err)
{
	_cleanup_free_ char *abs = tree_path(t, rel);
	return list_dir(abs, ret, err);
}

static int disk_kind(const struct tree *t, const char *rel, mode_t *ret, struct sl_error *err)
{
	_cleanup_free_ char *abs = tree_path(t, rel);
	struct stat st;
	if (lstat(abs, &st) < 0)
		return sl_error_errno(err, errno, SL_EIO, "reading %s", abs);
	/* Symlinks, devices, sockets and FIFOs are left out, as
	 * filepath.Walk's Lstat shows them to Flux. */
	*ret = S_ISDIR(st.st_mode) ? S_IFDIR : S_ISREG(st.st_mode) ? S_IFREG : 0;
	return 0;
}

static int disk_read_ignore(const struct tree *t, const char *rel, struct sl_buf *text,
                            struct sl_error *err)
{
	_cleanup_free_ char *abs = tree_path(t, rel);
	return read_ignore_file(abs, text, err);
}

static int disk_add_file(const struct tree *t, struct sl_tgz_writer *w, const char *rel,
                         struct sl_error *err)
{
	_cleanup_free_ char *abs = tree_path(t, rel);
	_cleanup_close_ int fd = open(abs, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return sl_error_errno(err, errno, SL_EIO, "opening %s", abs);
	if (!S_ISREG(st.st_mode))
		return sl_error_set(err, SL_EIO, "%s changed while archiving", abs);
	/* Flux keeps one bit of the mode: whether anyone may execute it. */
	mode_t mode = st.st_mode & 0111 ? EXE_FILE_MODE : FILE_MODE;
	return sl_tgz_add_file(w, rel, mode, fd, (uint64_t)st.st_size, err);
}

static const struct tree disk_tree = {
    .list = disk_list,
    .kind = disk_kind,
    .read_ignore = disk_read_ignore,
    .add_file = disk_add_file,
};

/* -- in memory -- */

struct mem_node {
	char *name;
	mode_t kind; /* S_IFDIR or S_IFREG */
	bool exec;   /* a file extraction would leave executable */
	char *data;
	size_t len;
	struct mem_node **children; /* sorted by name once the tarball is read */
	size_t n_children, cap;
};

struct mem_tree {
	struct tree t;
	struct mem_node root;
	uint64_t bytes, entries;
};

static void mem_node_clear(struct mem_node *n)
{
	for (size_t i = 0; i < n->n_children; i++) {
		mem_node_clear(n->children[i]);
		free(n->children[i]);
	}
	free(n->children);
	free(n->name);
	free(n->data);
	memset(n, 0, sizeof(*n));
}

static struct mem_node *mem_child(const struct mem_node *dir, const char *name)
{
	/* While the tarball is read: linear, fine for the entry counts the
	 * in-memory path accepts. */
	for (size_t i = 0; i < dir->n_children; i++)
		if (strcmp(dir->children[i]->name, name) == 0)
			return dir->children[i];
	return NULL;
}

/* After mem_sort: the children are in name order. */
static const struct mem_node *mem_find(const struct mem_node *dir, const char *name)
{
	size_t lo = 0, hi = dir->n_children;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, dir->children[mid]->name);
		if (c == 0)
			return dir->children[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static struct mem_node *mem_add_child(struct mem_node *dir, const char *name, mode_t kind)
{
	if (dir->n_children == dir->cap) {
		dir->cap = dir->cap ? 2 * dir->cap : 8;
		dir->children = sl_xrealloc(dir->children, dir->cap * sizeof(*dir->children));
	}
	struct mem_node *n = sl_xcalloc(1, sizeof(*n));
	n->name = sl_strdup(name);
	n->kind = kind;
	dir->children[dir->n_children++] = n;
	return n;
}

static const struct mem_node *mem_lookup(const struct mem_tree *mt, const char *rel)
{
	const struct mem_node *n = &mt->root;
	if (!rel)
		return n;
	_cleanup_free_ char *copy = sl_strdup(rel);
	for (char *save = NULL, *part = strtok_r(copy, "/", &save); part && n;
	     part = strtok_r(NULL, "/", &save))
		n = mem_find(n, part);
	return n;
}

static int mem_list(const struct tree *t, const char *rel, struct sl_strv *ret,
                    struct sl_error *err)
{
	(void)err;
	const struct mem_node *dir = mem_lookup((const struct mem_tree *)t, rel);
	for (size_t i = 0; dir && i < dir->n_children; i++)
		sl_strv_push(ret, dir->children[i]->name);
	return 0;
}

static int mem_kind(const struct tree *t, const char *rel, mode_t *ret, struct sl_error *err)
{
	(void)err;
	const struct mem_node *n = mem_lookup((const struct mem_tree *)t, rel);
	*ret = n ? n->kind : 0;
	return 0;
}

static int mem_read_ignore(const struct tree *t, const char *rel, struct sl_buf *text,
                           struct sl_error *err)
{
	(void)err;
	const struct mem_node *dir = mem_lookup((const struct mem_tree *)t, rel);
	const struct mem_node *f = dir ? mem_find(dir, IGNORE_FILE) : NULL;
	/* Reading the tarball made sure it is a file within the size cap. */
	if (f && f->len && sl_buf_append(text, f->data, f->len) < 0)
		return sl_error_set(err, SL_ELIMIT, "%s is larger than %d bytes", IGNORE_FILE,
		                    MAX_IGNORE_FILE_BYTES);
	return 0;
}

static int mem_add_file(const struct tree *t, struct sl_tgz_writer *w, const char *rel,
                        struct sl_error *err)
{
	const struct mem_node *f = mem_lookup((const struct mem_tree *)t, rel);
	if (!f || f->kind != S_IFREG)
		return sl_error_set(err, SL_EINVAL, "%s: not a file", rel);
	return sl_tgz_add_bytes(w, rel, f->exec ? EXE_FILE_MODE : FILE_MODE, f->data, f->len, err);
}

static const struct tree mem_tree_ops = {
    .list = mem_list,
    .kind = mem_kind,
    .read_ignore = mem_read_ignore,
    .add_file = mem_add_file,
};

/* ---- ignore rules, read from a tree -------------------------------------- */

/* sourceignore.LoadIgnorePatterns: this directory's file, then each
 * subdirectory's (sorted, ".git" skipped), depth first. */
static int collect_patterns(const struct tree *t, const char *rel, size_t depth, struct sl_buf *out,
                            bool *ret_any, struct sl_error *err)
{
	if (depth > MAX_DEPTH) {
		_cleanup_free_ char *abs = tree_path(t, rel);
		return sl_error_set(err, SL_ELIMIT, "%s: directories nested deeper than %d", abs,
		                    MAX_DEPTH);
	}
	_cleanup_buf_ struct sl_buf text;
	sl_buf_init(&text, MAX_IGNORE_FILE_BYTES);
	int r = t->read_ignore(t, rel, &text, err);
	if (r == 0 && text.data)
		r = append_patterns(out, text.data, rel, ret_any);
	if (r < 0)
		return r;

	_cleanup_(sl_strv_free) struct sl_strv names = {0};
	r = t->list(t, rel, &names, err);
	for (size_t i = 0; r == 0 && i < names.len; i++) {
		if (strcmp(names.items[i], ".git") == 0)
			continue;
		_cleanup_free_ char *child_rel = child_of(rel, names.items[i]);
		mode_t kind = 0;
		r = t->kind(t, child_rel, &kind, err);
		if (r == 0 && kind == S_IFDIR)
			r = collect_patterns(t, child_rel, depth + 1, out, ret_any, err);
	}
	return r;
}

static int load_ignore(const struct tree *t, const char *spec_ignore, struct sl_ignore **ret,
                       struct sl_error *err)
{
	_cleanup_buf_ struct sl_buf patterns;
	sl_buf_init(&patterns, 0);
	bool any = false;
	int r = collect_patterns(t, NULL, 0, &patterns, &any, err);
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

int sl_storage_load_ignore(const char *dir, const char *spec_ignore, struct sl_ignore **ret,
                           struct sl_error *err)
{
	struct tree t = disk_tree;
	t.display = dir;
	return load_ignore(&t, spec_ignore, ret, err);
}

/* ---- archiving ---------------------------------------------------------- */

struct walk {
	const struct tree *tree;
	const struct sl_ignore *ignore;
	struct sl_tgz_writer *w;
	bool may_prune; /* no "!" pattern: nothing below an excluded dir comes back */
};

static int archive_dir(struct walk *wk, const char *rel, size_t depth, struct sl_error *err)
{
	const struct tree *t = wk->tree;
	if (depth > MAX_DEPTH) {
		_cleanup_free_ char *abs = tree_path(t, rel);
		return sl_error_set(err, SL_ELIMIT, "%s: directories nested deeper than %d", abs,
		                    MAX_DEPTH);
	}
	_cleanup_(sl_strv_free) struct sl_strv names = {0};
	int r = t->list(t, rel, &names, err);
	for (size_t i = 0; r == 0 && i < names.len; i++) {
		_cleanup_free_ char *child_rel = child_of(rel, names.items[i]);
		mode_t kind = 0;
		r = t->kind(t, child_rel, &kind, err);
		if (r < 0 || kind == 0)
			continue;
		bool is_dir = kind == S_IFDIR;
		bool excluded = sl_ignore_match(wk->ignore, child_rel, is_dir);
		if (!is_dir) {
			if (!excluded)
				r = t->add_file(t, wk->w, child_rel, err);
			continue;
		}
		if (!excluded)
			r = sl_tgz_add_dir(wk->w, child_rel, DIR_MODE, err);
		/* Flux skips an excluded directory's entry but still walks it. */
		if (r == 0 && (!excluded || !wk->may_prune))
			r = archive_dir(wk, child_rel, depth + 1, err);
	}
	return r;
}

static int archive_tree(struct sl_storage_dir *d, const char *file, const struct tree *t,
                        const struct sl_ignore *ignore, struct sl_artifact *ret,
                        struct sl_error *err)
{
	int r = sl_crypto_available(err);
	if (r < 0)
		return r;
	struct staged_file f = {.fd = -1};
	r = staged_open(d, file, &f, err);
	if (r < 0)
		return r;
	_cleanup_(sl_tgz_writer_freep) struct sl_tgz_writer *w = NULL;
	r = sl_tgz_writer_new(f.fd, &w, err);
	struct walk wk = {
	    .tree = t, .ignore = ignore, .w = w, .may_prune = !sl_ignore_has_inclusion(ignore)};
	if (r == 0)
		r = sl_tgz_add_dir(w, ".", DIR_MODE, err);
	if (r == 0)
		r = archive_dir(&wk, NULL, 0, err);
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

int sl_storage_archive(struct sl_storage_dir *d, const char *file, const char *src_dir,
                       const struct sl_ignore *ignore, struct sl_artifact *ret,
                       struct sl_error *err)
{
	struct stat st;
	if (stat(src_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return sl_error_set(err, SL_EINVAL, "invalid dir path: %s", src_dir);
	struct tree t = disk_tree;
	t.display = src_dir;
	return archive_tree(d, file, &t, ignore, ret, err);
}

/* ---- repacking ------------------------------------------------------------ */

/* The in-memory path holds a whole layer's content at once; larger layers,
 * and anything unusual, go through the disk as before. Configuration
 * artifacts are a few hundred KiB at most. */
#define MEM_MAX_BYTES   (8u << 20)
#define MEM_MAX_ENTRIES 4096

static mode_t process_umask = (mode_t)-1;
static pthread_once_t umask_once = PTHREAD_ONCE_INIT;

/* The umask the disk path's files are created under. umask(2) cannot be
 * read without setting it, which would race with other threads. */
static void read_umask(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned mask;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Umask: %o", &mask) == 1)
			process_umask = (mode_t)mask & 0777;
}

static int cmp_nodes(const void *a, const void *b)
{
	return strcmp((*(struct mem_node *const *)a)->name, (*(struct mem_node *const *)b)->name);
}

static void mem_sort(struct mem_node *n)
{
	if (n->n_children)
		qsort(n->children, n->n_children, sizeof(*n->children), cmp_nodes);
	for (size_t i = 0; i < n->n_children; i++)
		mem_sort(n->children[i]);
}

/* Adds one tar entry the way sl_tar_extract would create it. 0, or 1 with
 * *why set when the entry is one the disk path should judge (it errs, warns
 * or does something the memory tree does not model). */
static int mem_add_entry(struct mem_tree *mt, struct sl_tar_reader *tr,
                         const struct sl_tar_header *h, const struct sl_extract_limits *limits,
                         const char **why)
{
	const char *raw = h->name;
	/* Names the disk could not hold (NAME_MAX, PATH_MAX) fail there. */
	if (!raw || !*raw || raw[0] == '/' || strchr(raw, '\\') || strlen(raw) > 2048)
		return *why = "an invalid or long name", 1;
	if (h->hardlink || (h->type != S_IFREG && h->type != S_IFDIR))
		return *why = "an entry that is not a file or directory", 1;
	_cleanup_free_ char *name = sl_strdup(raw);
	char *parts[128];
	size_t n = 0;
	for (char *save = NULL, *tok = strtok_r(name, "/", &save); tok;
	     tok = strtok_r(NULL, "/", &save)) {
		if (strcmp(tok, ".") == 0)
			continue;
		if (strcmp(tok, "..") == 0 || n == SL_ARRAY_SIZE(parts) || strlen(tok) > 255)
			return *why = "a \"..\", too deep or long a name", 1;
		parts[n++] = tok;
	}
	bool is_dir = h->type == S_IFDIR;
	if (!is_dir && n == 0)
		return *why = "a file naming the root", 1;
	struct mem_node *dir = &mt->root;
	size_t n_dirs = is_dir ? n : n - 1;
	for (size_t i = 0; i < n_dirs; i++) {
		/* A directory named .sourceignore is an error on disk. */
		if (strcmp(parts[i], IGNORE_FILE) == 0)
			return *why = "a directory named " IGNORE_FILE, 1;
		struct mem_node *c = mem_child(dir, parts[i]);
		if (!c)
			c = mem_add_child(dir, parts[i], S_IFDIR);
		if (c->kind != S_IFDIR)
			return *why = "a name both a file and a directory", 1;
		dir = c;
	}
	if (is_dir)
		return 0;
	/* Files are created with the entry's bits under the umask; the walk
	 * opens them for reading and keeps only "executable by anyone". */
	mode_t perm = (h->mode & 0777) & ~process_umask;
	if (!(perm & 0400))
		return *why = "a file its owner may not read", 1;
	if (mem_child(dir, parts[n - 1]))
		return *why = "a name given twice", 1;
	if (h->size > MEM_MAX_BYTES - mt->bytes ||
	    (limits && limits->max_total_bytes && mt->bytes + h->size > limits->max_total_bytes))
		return *why = "more content than the in-memory path holds", 1;
	if (strcmp(parts[n - 1], IGNORE_FILE) == 0 && h->size > MAX_IGNORE_FILE_BYTES)
		return *why = "a large " IGNORE_FILE, 1;
	struct mem_node *f = mem_add_child(dir, parts[n - 1], S_IFREG);
	f->exec = perm & 0111;
	f->data = sl_xmalloc(h->size ? h->size : 1);
	struct sl_error err = {0};
	while (f->len < h->size) {
		ssize_t got = sl_tar_read(tr, f->data + f->len, h->size - f->len, &err);
		if (got <= 0)
			return *why = "a read error", 1;
		f->len += (size_t)got;
	}
	mt->bytes += h->size;
	return 0;
}

/* Reads the whole tarball into mt. 0, or 1 with *why when the disk path
 * must do it. */
static int mem_tree_read(int tgz_fd, const struct sl_extract_limits *limits, struct mem_tree *mt,
                         const char **why)
{
	pthread_once(&umask_once, read_umask);
	if (process_umask == (mode_t)-1 || (process_umask & 0700))
		return *why = "an unknown umask", 1;
	struct sl_error err = {0};
	_cleanup_(sl_tar_reader_freep) struct sl_tar_reader *tr = NULL;
	if (sl_tar_reader_new(tgz_fd, &tr, &err) < 0)
		return *why = "a read error", 1;
	for (;;) {
		const struct sl_tar_header *h;
		int r = sl_tar_next(tr, &h, &err);
		if (r < 0)
			return *why = "a read error", 1;
		if (r == 0)
			break;
		if (++mt->entries > MEM_MAX_ENTRIES ||
		    (limits && limits->max_entries && mt->entries > limits->max_entries))
			return *why = "more entries than the in-memory path holds", 1;
		if (mem_add_entry(mt, tr, h, limits, why))
			return 1;
	}
	mem_sort(&mt->root);
	return 0;
}

int sl_storage_repack(struct sl_storage_dir *d, const char *file, int tgz_fd,
                      const struct sl_repack_opts *opts, struct sl_artifact *ret,
                      struct sl_error *err)
{
	const struct sl_extract_limits *limits =
	    opts && (opts->limits.max_total_bytes || opts->limits.max_entries) ? &opts->limits
	                                                                       : NULL;
	const char *spec_ignore = opts ? opts->ignore : NULL;
	if (opts && opts->ret_in_memory)
		*opts->ret_in_memory = false;

	/* First from memory: no temp directory, no inode churn. The archive
	 * is the same bytes either way: one walk reads both trees. */
	const char *why = "asked to";
	if (!opts || !opts->on_disk) {
		struct mem_tree mt = {.t = mem_tree_ops, .root = {.kind = S_IFDIR}};
		mt.t.display = "layer";
		int r = mem_tree_read(tgz_fd, limits, &mt, &why);
		if (r == 0) {
			_cleanup_(sl_ignore_freep) struct sl_ignore *ignore = NULL;
			r = load_ignore(&mt.t, spec_ignore, &ignore, err);
			if (r == 0)
				r = archive_tree(d, file, &mt.t, ignore, ret, err);
			mem_node_clear(&mt.root);
			if (r == 0 && opts && opts->ret_in_memory)
				*opts->ret_in_memory = true;
			return r;
		}
		mem_node_clear(&mt.root);
		sl_log_debug("repacking %s/%s on disk: the layer has %s", sl_storage_dir_path(d),
		             file, why);
		if (lseek(tgz_fd, 0, SEEK_SET) < 0)
			return sl_error_errno(err, errno, SL_EIO, "rewinding the layer");
	}

	_cleanup_free_ char *tmp = NULL;
	int r = sl_mkdtemp("sluice-repack", &tmp, err);
	if (r < 0)
		return r;
	r = sl_tar_extract(tgz_fd, tmp, limits, opts ? opts->warn : NULL,
	                   opts ? opts->userdata : NULL, err);
	if (r < 0)
		sl_error_wrap(err, r, "extracting layer");
	_cleanup_(sl_ignore_freep) struct sl_ignore *ignore = NULL;
	if (r == 0)
		r = sl_storage_load_ignore(tmp, spec_ignore, &ignore, err);
	if (r == 0)
		r = sl_storage_archive(d, file, tmp, ignore, ret, err);
	sl_rm_rf(tmp);
	return r;
}
