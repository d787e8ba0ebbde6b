#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

static struct {
	struct cli_source src;
	char *output;
} o;

static struct flag flags[] = {
    {"path", 'p', FLAG_STRING, &o.src.path, "",
     "path to the directory or file to package, or - for stdin"},
    {"output", 'o', FLAG_STRING, &o.output, "artifact.tgz", "path of the tarball to write"},
    CLI_SOURCE_FLAGS(o.src),
    {0},
};

/* The tarball appears under its name only when complete: it is written to
 * a temp file beside it and renamed. */
static int build_to(const char *output, struct sl_error *err)
{
	_cleanup_free_ char *tmp = sl_asprintf("%s.XXXXXX", output);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return sl_error_errno(err, errno, SL_EIO, "creating %s", output);
	uint64_t size;
	char digest[SL_DIGEST_STR_LEN];
	int r = cli_source_build(&o.src, fd, &size, digest, err);
	if (r == 0 && fchmod(fd, 0640) < 0)
		r = sl_error_errno(err, errno, SL_EIO, "setting the mode of %s", output);
	if (r == 0 && fsync(fd) < 0)
		r = sl_error_errno(err, errno, SL_EIO, "writing %s", output);
	if (close(fd) < 0 && r == 0)
		r = sl_error_errno(err, errno, SL_EIO, "writing %s", output);
	if (r == 0 && rename(tmp, output) < 0)
		r = sl_error_errno(err, errno, SL_EIO, "renaming %s to %s", tmp, output);
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	sl_log_debug("%s: %llu bytes, %s", output, (unsigned long long)size, digest);
	return 0;
}

static int run(const struct sl_strv *args, struct sl_error *err)
{
	(void)args;
	int r = cli_source_check(&o.src, err);
	if (r < 0)
		return r;
	if (!*o.output)
		return sl_error_set(err, SL_EINVAL, "invalid output path \"\"");
	sl_log_action("building artifact from %s", o.src.path);
	r = build_to(o.output, err);
	if (r < 0)
		return r;
	sl_log_success("artifact created at %s", o.output);
	return 0;
}

int cmd_build_artifact(int argc, char **argv, struct sl_error *err)
{
	return cli_run("build", "artifact", flags, argc, argv, run, err);
}
