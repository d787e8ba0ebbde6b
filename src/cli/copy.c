#include <string.h>

#include "cli/cli.h"

static struct {
	struct cli_remote remote;
	char *src_creds, *dest_creds, *output;
	bool with_signatures;
} o;

static struct flag flags[] = {
    {"with-signatures", 0, FLAG_BOOL, &o.with_signatures, "false",
     "also copy cosign signatures, attestations and SBOMs (sha256-<hex>.sig, ...)"},
    {"src-creds", 0, FLAG_STRING, &o.src_creds, "", "credentials for the source registry"},
    {"dest-creds", 0, FLAG_STRING, &o.dest_creds, "", "credentials for the destination registry"},
    CLI_REMOTE_FLAGS(o.remote),
    {"output", 'o', FLAG_STRING, &o.output, "", "print the result as json or yaml"},
    {0},
};

static int run(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len < 2)
		return sl_error_set(err, SL_EINVAL, "source and destination URLs are required");
	int r = cli_check_output_format(o.output, err);
	if (r < 0)
		return r;
	_cleanup_(cli_target_clear) struct cli_target src = {0}, dst = {0};
	r = cli_target_parse(args->items[0], &src, err);
	if (r == 0)
		r = cli_target_parse(args->items[1], &dst, err);
	if (r < 0)
		return r;
	if (dst.digest)
		return sl_error_set(
		    err, SL_EINVAL,
		    "the destination is named by tag, not digest: the digest is the "
		    "source's");
	/* No destination tag: keep the source's. */
	const char *dst_tag = dst.has_tag ? dst.tag : src.digest && !src.has_tag ? NULL : src.tag;
	r = cli_target_open(&src, &o.remote, o.src_creds, false, err);
	if (r == 0)
		r = cli_target_open(&dst, &o.remote, o.dest_creds, true, err);
	if (r < 0)
		return r;
	bool same_registry = !src.path && !dst.path && !strcmp(src.ref.registry, dst.ref.registry);

	if (!*o.output)
		sl_log_action("copying artifact from %s to %s", args->items[0], args->items[1]);
	struct sl_copy_stats stats;
	r = sl_artifact_copy(&src.ep, cli_target_reference(&src), &dst.ep, dst_tag, same_registry,
	                     o.with_signatures, &stats, err);
	cli_progress_done();
	if (r < 0)
		return sl_error_wrap(err, r, "copying artifact failed");
	const char *scheme = dst.path ? "" : "oci://";
	if (!strcmp(o.output, "json")) {
		printf("{\n  \"url\": \"%s%s@%s\",\n  \"repository\": \"%s\",\n  \"tag\": \"%s\",\n"
		       "  \"digest\": \"%s\",\n  \"blobsCopied\": %zu,\n  \"blobsMounted\": %zu,\n"
		       "  \"blobsSkipped\": %zu,\n  \"signatures\": %zu\n}\n",
		       scheme, dst.name, stats.digest, dst.name, dst_tag ? dst_tag : "",
		       stats.digest, stats.blobs_copied, stats.blobs_mounted, stats.blobs_skipped,
		       stats.signatures);
	} else if (!strcmp(o.output, "yaml")) {
		printf("blobsCopied: %zu\nblobsMounted: %zu\nblobsSkipped: %zu\ndigest: %s\n"
		       "repository: %s\nsignatures: %zu\ntag: ",
		       stats.blobs_copied, stats.blobs_mounted, stats.blobs_skipped, stats.digest,
		       dst.name, stats.signatures);
		cli_yaml_scalar(stdout, dst_tag ? dst_tag : "");
		printf("\nurl: %s%s@%s\n", scheme, dst.name, stats.digest);
	} else {
		sl_log_success(
		    "artifact copied to %s@%s (%zu blobs copied, %zu mounted, %zu already "
		    "there%s)",
		    dst.name, stats.digest, stats.blobs_copied, stats.blobs_mounted,
		    stats.blobs_skipped,
		    o.with_signatures
		        ? (stats.signatures ? ", signatures copied" : ", no signatures found")
		        : "");
	}
	return 0;
}

int cmd_copy_artifact(int argc, char **argv, struct sl_error *err)
{
	return cli_run("copy", "artifact", flags, argc, argv, run, err);
}
