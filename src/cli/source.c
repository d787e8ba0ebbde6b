/* --path and its companions: what push, build and diff share to turn a
 * directory, a file or stdin into Flux's layer. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

int cli_source_check(const struct cli_source *src, struct sl_error *err)
{
	if (!src->path || !*src->path)
		return sl_error_set(err, SL_EINVAL, "invalid path \"\"");
	if (strcmp(src->path, "-") == 0)
		return 0;
	struct stat st;
	if (stat(src->path, &st) < 0)
		return sl_error_errno(
		    err, errno, SL_EINVAL,
		    "invalid path '%s', must point to an existing directory or file", src->path);
	return 0;
}

/* Writes buffered bytes, holding back trailing CR/LF until more content
 * proves they are not trailing (Flux trims them from stdin). */
static int copy_trimmed(int in, int out, struct sl_error *err)
{
	char chunk[65536];
	size_t held = 0; /* newline bytes not yet written */
	char held_bytes[65536];
	for (;;) {
		ssize_t n = read(in, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sl_error_errno(err, errno, SL_EIO, "reading stdin");
		if (n == 0)
			return 0;
		size_t end = (size_t)n;
		while (end && (chunk[end - 1] == '\n' || chunk[end - 1] == '\r'))
			end--;
		if (end && held) {
			if (write(out, held_bytes, held) != (ssize_t)held)
				return sl_error_errno(err, errno, SL_EIO, "staging stdin");
			held = 0;
		}
		if (end && write(out, chunk, end) != (ssize_t)end)
			return sl_error_errno(err, errno, SL_EIO, "staging stdin");
		size_t tail = (size_t)n - end;
		if (held + tail > sizeof(held_bytes)) {
			/* A long run of blank lines inside the content: it is content. */
			if (write(out, held_bytes, held) != (ssize_t)held)
				return sl_error_errno(err, errno, SL_EIO, "staging stdin");
			held = 0;
		}
		memcpy(held_bytes + held, chunk + end, tail);
		held += tail;
	}
}

/* Stdin becomes one file, stdin.yaml (mode 0600, trailing newlines trimmed
 * as Flux does). Flux names it randomly; a fixed name keeps stdin pushes
 * reproducible. */
static int stage_stdin(char **ret_dir, char **ret_file, struct sl_error *err)
{
	_cleanup_free_ char *dir = NULL;
	int r = sl_mkdtemp("sluice-stdin", &dir, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *file = sl_asprintf("%s/stdin.yaml", dir);
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		r = sl_error_errno(err, errno, SL_EIO, "staging stdin");
	else
		r = copy_trimmed(0, fd, err);
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		sl_rm_rf(dir);
		return r;
	}
	*ret_dir = TAKE_PTR(dir);
	*ret_file = TAKE_PTR(file);
	return 0;
}

int cli_source_build(const struct cli_source *src, int out_fd, uint64_t *ret_size,
                     char ret_digest[SL_DIGEST_STR_LEN], struct sl_error *err)
{
	_cleanup_free_ char *stdin_dir = NULL, *stdin_file = NULL;
	const char *path = src->path;
	if (strcmp(path, "-") == 0) {
		int r = stage_stdin(&stdin_dir, &stdin_file, err);
		if (r < 0)
			return r;
		path = stdin_file;
	}
	_cleanup_(sl_ignore_freep) struct sl_ignore *ignore = sl_ignore_new();
	for (size_t i = 0; i < src->ignore_paths.len; i++)
		sl_ignore_add_lines(ignore, src->ignore_paths.items[i]);
	for (size_t i = 0; i < src->add_ignore_paths.len; i++)
		sl_ignore_add_lines(ignore, src->add_ignore_paths.items[i]);
	struct sl_build_opts bopts = {.ignore = ignore,
	                              .resolve_symlinks = src->resolve_symlinks,
	                              .read_sourceignore = true,
	                              .warn = cli_warn,
	                              .progress = cli_progress()};
	int r = sl_artifact_build(path, &bopts, out_fd, ret_size, ret_digest, err);
	cli_progress_done();
	if (stdin_dir)
		sl_rm_rf(stdin_dir);
	if (r < 0)
		return sl_error_wrap(err, r, "building artifact failed");
	return 0;
}

int cli_source_build_tmpfile(const struct cli_source *src, int *ret_fd, uint64_t *ret_size,
                             char ret_digest[SL_DIGEST_STR_LEN], struct sl_error *err)
{
	/* An unlinked temp file: streamed out, never held in memory, and gone
	 * whatever happens. */
	int fd = sl_tmpfile(err);
	if (fd < 0)
		return fd;
	int r = cli_source_build(src, fd, ret_size, ret_digest, err);
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}
