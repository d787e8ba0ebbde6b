#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

#define DEFAULT_MAX_SIZE "2GiB"

static struct {
	char *output, *creds, *provider, *ca_file, *max_size;
	bool insecure;
} o;

static struct flag flags[] = {
    {"output", 'o', FLAG_STRING, &o.output, "",
     "path where the artifact content should be extracted (created if missing)"},
    {"creds", 0, FLAG_STRING, &o.creds, "",
     "credentials for OCI registry in the format <username>[:<password>]"},
    {"provider", 0, FLAG_STRING, &o.provider, "generic",
     "the OCI provider name, available options are: (generic, aws, azure, gcp)"},
    {"insecure-registry", 0, FLAG_BOOL, &o.insecure, "false",
     "allows artifacts to be pulled without TLS verification or over plain HTTP"},
    {"ca-file", 0, FLAG_STRING, &o.ca_file, "",
     "PEM file of a CA to trust in addition to the system's (also: SSL_CERT_FILE)"},
    {"max-size", 0, FLAG_STRING, &o.max_size, DEFAULT_MAX_SIZE,
     "refuse layers, and extracted content, larger than this"},
    {0},
};

int cmd_pull_artifact(int argc, char **argv, struct sl_error *err)
{
	_cleanup_(sl_strv_free) struct sl_strv args = {0};
	int r = flags_parse(flags, argc, argv, &args, err);
	if (r < 0)
		return r;
	if (g_flags.help) {
		flags_print_help(cli_find_command("pull", "artifact"), flags);
		return 0;
	}
	if (args.len < 1)
		return sl_error_set(err, SL_EINVAL, "artifact URL is required");
	if (!*o.output)
		return sl_error_set(err, SL_EINVAL, "output path cannot be empty");
	struct stat st;
	if (stat(o.output, &st) == 0 && !S_ISDIR(st.st_mode))
		return sl_error_set(err, SL_EINVAL, "invalid output path \"%s\": not a directory",
		                    o.output);
	uint64_t max_size;
	r = cli_parse_size(o.max_size, &max_size, err);
	if (r < 0)
		return sl_error_wrap(err, r, "--max-size");
	r = cli_provider_check(o.provider, err);
	if (r < 0)
		return r;

	struct sl_oci_ref ref;
	r = sl_oci_ref_parse(args.items[0], &ref, err);
	if (r < 0)
		return r;
	struct sl_creds creds = {0};
	struct sl_registry *reg = NULL;
	struct sl_pull_result result = {0};
	_cleanup_free_ char *repo = NULL;
	r = cli_resolve_creds(&ref, o.creds, o.provider, &creds, err);
	if (r < 0)
		goto out;
	struct sl_registry_opts ropts;
	cli_registry_opts(&ropts, &creds, o.insecure, o.ca_file);
	r = sl_registry_new(ref.registry, &ropts, &reg, err);
	if (r < 0)
		goto out;
	sl_log_action("pulling artifact from %s", ref.text);
	struct sl_pull_opts popts = {
	    .max_layer_bytes = max_size, .max_extract_bytes = max_size, .warn = cli_warn};
	r = sl_artifact_pull(reg, &ref, o.output, &popts, &result, err);
	cli_progress_done();
	if (r < 0) {
		sl_error_wrap(err, r, "pulling artifact failed");
		goto out;
	}
	if (result.source)
		sl_log_success("source %s", result.source);
	if (result.revision)
		sl_log_success("revision %s", result.revision);
	repo = sl_oci_ref_repo_name(&ref);
	sl_log_success("digest %s@%s", repo, result.digest);
	sl_log_success("artifact content extracted to %s", o.output);
out:
	sl_pull_result_clear(&result);
	sl_registry_free(reg);
	sl_creds_clear(&creds);
	sl_oci_ref_clear(&ref);
	flags_free(flags);
	return r;
}
