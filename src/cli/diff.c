/* diff artifact: Flux compares gzip digests, which differ between any two
 * gzip encoders and so between any two tools; sluice compares what the
 * artifacts hold — names, types, modes and bytes — and says what differs. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cli/cli.h"

extern char **environ;

#define DEFAULT_MAX_SIZE "2GiB"

static struct {
	struct cli_source src;
	struct cli_remote remote;
	char *max_size;
	bool unified;
} o;

static struct flag flags[] = {
    {"path", 0, FLAG_STRING, &o.src.path, "", "path to the local directory or file to compare"},
    CLI_SOURCE_FLAGS(o.src),
    {"unified", 'u', FLAG_BOOL, &o.unified, "false", "print a unified diff of changed files"},
    CLI_REMOTE_FLAGS(o.remote),
    {"max-size", 0, FLAG_STRING, &o.max_size, DEFAULT_MAX_SIZE,
     "refuse remote layers, and content, larger than this"},
    {0},
};

static const char *type_name(mode_t type)
{
	switch (type) {
	case S_IFREG: return "file";
	case S_IFDIR: return "directory";
	case S_IFLNK: return "symlink";
	default: return "special file";
	}
}

enum change { SAME, ADDED, REMOVED, CHANGED };

struct change_list {
	size_t added, removed, changed;
	struct sl_strv files; /* regular files to show with --unified */
};

/* Prints one line per difference, from the remote to the local side. */
static void compare(const struct sl_tar_index *remote, const struct sl_tar_index *local,
                    struct change_list *out)
{
	size_t i = 0, j = 0;
	while (i < remote->n || j < local->n) {
		const struct sl_tar_entry *a = i < remote->n ? &remote->entries[i] : NULL;
		const struct sl_tar_entry *b = j < local->n ? &local->entries[j] : NULL;
		int c = !a ? 1 : !b ? -1 : strcmp(a->name, b->name);
		if (c < 0) {
			printf("- %s\n", a->name);
			out->removed++;
			if (a->type == S_IFREG)
				sl_strv_push(&out->files, a->name);
			i++;
			continue;
		}
		if (c > 0) {
			printf("+ %s\n", b->name);
			out->added++;
			if (b->type == S_IFREG)
				sl_strv_push(&out->files, b->name);
			j++;
			continue;
		}
		i++, j++;
		/* The root's mode says more about how a tree was made than about
		 * its content. */
		if (strcmp(a->name, ".") == 0)
			continue;
		char what[128] = "";
		if (a->type != b->type) {
			snprintf(what, sizeof(what), "%s -> %s", type_name(a->type),
			         type_name(b->type));
		} else {
			bool content = a->type == S_IFREG && strcmp(a->digest, b->digest) != 0;
			bool mode = a->mode != b->mode;
			if (content && mode)
				snprintf(what, sizeof(what), "content, mode %04o -> %04o", a->mode,
				         b->mode);
			else if (content)
				snprintf(what, sizeof(what), "content");
			else if (mode)
				snprintf(what, sizeof(what), "mode %04o -> %04o", a->mode, b->mode);
		}
		if (*what) {
			printf("~ %s (%s)\n", a->name, what);
			out->changed++;
			if (a->type == S_IFREG && b->type == S_IFREG &&
			    strcmp(a->digest, b->digest))
				sl_strv_push(&out->files, a->name);
		}
	}
}

static int run_diff(const char *left, const char *right, const char *name)
{
	_cleanup_free_ char *la = sl_asprintf("a/%s", name);
	_cleanup_free_ char *lb = sl_asprintf("b/%s", name);
	char *argv[] = {"diff", "-u",         "--label",     la,  "--label",
	                lb,     (char *)left, (char *)right, NULL};
	fflush(stdout);
	pid_t pid;
	if (posix_spawnp(&pid, "diff", NULL, NULL, argv, environ) != 0)
		return -1;
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* diff exits 1 when the files differ: that is the expected case. */
	return WIFEXITED(status) && WEXITSTATUS(status) <= 1 ? 0 : -1;
}

static int extract_to(int fd, const char *dir, uint64_t max, struct sl_error *err)
{
	struct sl_extract_limits limits = {.max_total_bytes = max, .max_entries = 1000000};
	if (lseek(fd, 0, SEEK_SET) < 0)
		return sl_error_errno(err, errno, SL_EIO, "rewinding");
	return sl_tar_extract(fd, dir, &limits, NULL, NULL, err);
}

static int print_unified(int remote_fd, int local_fd, const struct change_list *changes,
                         uint64_t max, struct sl_error *err)
{
	_cleanup_free_ char *tmp = NULL;
	int r = sl_mkdtemp("sluice-diff", &tmp, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *ra = sl_asprintf("%s/remote", tmp);
	_cleanup_free_ char *lb = sl_asprintf("%s/local", tmp);
	if (mkdir(ra, 0700) < 0 || mkdir(lb, 0700) < 0)
		r = sl_error_errno(err, errno, SL_EIO, "creating %s", tmp);
	if (r == 0)
		r = extract_to(remote_fd, ra, max, err);
	if (r == 0)
		r = extract_to(local_fd, lb, max, err);
	for (size_t i = 0; r == 0 && i < changes->files.len; i++) {
		const char *name = changes->files.items[i];
		_cleanup_free_ char *left = sl_asprintf("%s/%s", ra, name);
		_cleanup_free_ char *right = sl_asprintf("%s/%s", lb, name);
		if (access(left, F_OK) != 0) {
			free(left);
			left = sl_strdup("/dev/null");
		}
		if (access(right, F_OK) != 0) {
			free(right);
			right = sl_strdup("/dev/null");
		}
		if (run_diff(left, right, name) < 0)
			r = sl_error_set(err, SL_EIO, "running diff -u on %s", name);
	}
	sl_rm_rf(tmp);
	return r;
}

static int run(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "artifact URL is required");
	int r = cli_source_check(&o.src, err);
	if (r < 0)
		return r;
	uint64_t max;
	r = cli_parse_size(o.max_size, &max, err);
	if (r < 0)
		return sl_error_wrap(err, r, "--max-size");
	_cleanup_(cli_target_clear) struct cli_target t = {0};
	r = cli_target_parse(args->items[0], &t, err);
	if (r < 0)
		return r;

	_cleanup_close_ int local_fd = -1;
	uint64_t local_size;
	char local_digest[SL_DIGEST_STR_LEN];
	r = cli_source_build_tmpfile(&o.src, &local_fd, &local_size, local_digest, err);
	if (r < 0)
		return r;

	r = cli_target_open(&t, &o.remote, NULL, false, err);
	if (r < 0)
		return r;
	_cleanup_(sl_artifact_info_clear) struct sl_artifact_info info = {0};
	r = sl_artifact_resolve(&t.ep, cli_target_reference(&t), &info, err);
	if (r < 0)
		return sl_error_wrap(err, r, "fetching the remote artifact failed");
	/* Same layer bytes: nothing to download. */
	if (strcmp(info.layer_digest, local_digest) == 0) {
		sl_log_success("no changes detected");
		return 0;
	}
	_cleanup_close_ int remote_fd = -1;
	r = sl_artifact_download(&t.ep, &info, max, &remote_fd, err);
	cli_progress_done();
	if (r < 0)
		return sl_error_wrap(err, r, "fetching the remote artifact failed");

	struct sl_extract_limits limits = {.max_total_bytes = max, .max_entries = 1000000};
	_cleanup_(sl_tar_index_freep) struct sl_tar_index *remote = NULL, *local = NULL;
	r = sl_tar_index_read(remote_fd, &limits, &remote, err);
	if (r < 0)
		return sl_error_wrap(err, r, "reading the remote artifact");
	if (lseek(local_fd, 0, SEEK_SET) < 0)
		return sl_error_errno(err, errno, SL_EIO, "rewinding the local artifact");
	r = sl_tar_index_read(local_fd, &limits, &local, err);
	if (r < 0)
		return sl_error_wrap(err, r, "reading the local artifact");

	struct change_list changes = {0};
	compare(remote, local, &changes);
	if (changes.added + changes.removed + changes.changed == 0) {
		sl_strv_free(&changes.files);
		sl_log_success("no changes detected (the layers differ only in compression)");
		return 0;
	}
	if (o.unified)
		r = print_unified(remote_fd, local_fd, &changes, max, err);
	size_t added = changes.added, removed = changes.removed, changed = changes.changed;
	sl_strv_free(&changes.files);
	if (r < 0)
		return r;
	return sl_error_set(err, SL_EINVAL,
	                    "the remote artifact contents differs from the local one (%zu added, "
	                    "%zu removed, %zu changed)",
	                    added, removed, changed);
}

int cmd_diff_artifact(int argc, char **argv, struct sl_error *err)
{
	return cli_run("diff", "artifact", flags, argc, argv, run, err);
}
