#include <string.h>

#include "cli/cli.h"

static struct {
	struct sl_strv tags;
	struct cli_remote remote;
} o;

static struct flag flags[] = {
    {"tag", 0, FLAG_STRING_CSV, &o.tags, NULL, "tag to add; repeat or separate with commas"},
    CLI_REMOTE_FLAGS(o.remote),
    {0},
};

static int run(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "artifact name is required");
	if (o.tags.len == 0)
		return sl_error_set(err, SL_EINVAL, "--tag is required");
	/* Flux leaves tag names to the registry; checking them first means no
	 * tag is applied when a later one in the list is invalid. */
	for (size_t i = 0; i < o.tags.len; i++)
		if (!sl_oci_tag_valid(o.tags.items[i]))
			return sl_error_set(err, SL_EINVAL,
			                    "invalid tag \"%s\": tags are 1-128 characters of "
			                    "[A-Za-z0-9_.-], not starting with '.' or '-'",
			                    o.tags.items[i]);

	_cleanup_(cli_target_clear) struct cli_target t = {0};
	int r = cli_target_parse(args->items[0], &t, err);
	if (r == 0)
		r = cli_target_open(&t, &o.remote, NULL, true, err);
	if (r < 0)
		return r;

	sl_log_action("tagging artifact");
	/* The same manifest bytes under each new tag: no blob moves, and the
	 * digest stays what was signed. Fetched once, not once per tag. */
	_cleanup_buf_ struct sl_buf manifest;
	sl_buf_init(&manifest, SL_MAX_MANIFEST_BYTES);
	_cleanup_free_ char *content_type = NULL;
	char digest[SL_DIGEST_STR_LEN];
	r = sl_endpoint_manifest_get(&t.ep, cli_target_reference(&t), &manifest, &content_type,
	                             digest, err);
	if (r < 0)
		return sl_error_wrap(err, r, "tagging artifact failed");
	if (!content_type || !*content_type) {
		free(content_type);
		content_type = sl_strdup(SL_MT_OCI_MANIFEST);
	}
	for (size_t i = 0; i < o.tags.len; i++) {
		r = sl_endpoint_manifest_put(&t.ep, o.tags.items[i], content_type, &manifest,
		                             digest, err);
		if (r < 0)
			return sl_error_wrap(err, r, "tagging artifact failed");
		sl_log_success("artifact tagged as %s:%s", t.name, o.tags.items[i]);
	}
	return 0;
}

int cmd_tag_artifact(int argc, char **argv, struct sl_error *err)
{
	return cli_run("tag", "artifact", flags, argc, argv, run, err);
}
