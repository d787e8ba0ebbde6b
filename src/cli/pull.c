#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

#define DEFAULT_MAX_SIZE "2GiB"

static struct {
	struct cli_remote remote;
	char *output, *max_size;
} o;

static struct flag flags[] = {
    {"output", 'o', FLAG_STRING, &o.output, "",
     "path where the artifact content should be extracted (created if missing)"},
    CLI_REMOTE_FLAGS(o.remote),
    {"max-size", 0, FLAG_STRING, &o.max_size, DEFAULT_MAX_SIZE,
     "refuse layers, and extracted content, larger than this"},
    {0},
};

static int run(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "artifact URL is required");
	if (!*o.output)
		return sl_error_set(err, SL_EINVAL, "output path cannot be empty");
	struct stat st;
	if (stat(o.output, &st) == 0 && !S_ISDIR(st.st_mode))
		return sl_error_set(err, SL_EINVAL, "invalid output path \"%s\": not a directory",
		                    o.output);
	uint64_t max_size;
	int r = cli_parse_size(o.max_size, &max_size, err);
	if (r < 0)
		return sl_error_wrap(err, r, "--max-size");

	_cleanup_(cli_target_clear) struct cli_target t = {0};
	r = cli_target_parse(args->items[0], &t, err);
	if (r == 0)
		r = cli_target_open(&t, &o.remote, NULL, false, err);
	if (r < 0)
		return r;
	sl_log_action("pulling artifact from %s", t.path ? args->items[0] : t.ref.text);
	struct sl_pull_opts popts = {
	    .max_layer_bytes = max_size, .max_extract_bytes = max_size, .warn = cli_warn};
	_cleanup_(sl_pull_result_clear) struct sl_pull_result result = {0};
	r = sl_artifact_pull(&t.ep, cli_target_reference(&t), o.output, &popts, &result, err);
	cli_progress_done();
	if (r < 0)
		return sl_error_wrap(err, r, "pulling artifact failed");
	if (result.source)
		sl_log_success("source %s", result.source);
	if (result.revision)
		sl_log_success("revision %s", result.revision);
	sl_log_success("digest %s@%s", t.name, result.digest);
	sl_log_success("artifact content extracted to %s", o.output);
	return 0;
}

int cmd_pull_artifact(int argc, char **argv, struct sl_error *err)
{
	return cli_run("pull", "artifact", flags, argc, argv, run, err);
}
