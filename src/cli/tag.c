#include <string.h>

#include "cli/cli.h"

static struct {
	struct sl_strv tags;
	char *creds, *provider, *ca_file;
	bool insecure;
} o;

static struct flag flags[] = {
    {"tag", 0, FLAG_STRING_CSV, &o.tags, NULL, "tag to add; repeat or separate with commas"},
    {"creds", 0, FLAG_STRING, &o.creds, "",
     "credentials for OCI registry in the format <username>[:<password>]"},
    {"provider", 0, FLAG_STRING, &o.provider, "generic",
     "the OCI provider name, available options are: (generic, aws, azure, gcp)"},
    {"insecure-registry", 0, FLAG_BOOL, &o.insecure, "false",
     "allows the registry to be reached without TLS verification or over plain HTTP"},
    {"ca-file", 0, FLAG_STRING, &o.ca_file, "",
     "PEM file of a CA to trust in addition to the system's (also: SSL_CERT_FILE)"},
    {0},
};

static int run(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "artifact name is required");
	if (o.tags.len == 0)
		return sl_error_set(err, SL_EINVAL, "--tag is required");
	int r = cli_provider_check(o.provider, err);
	if (r < 0)
		return r;
	/* Flux leaves tag names to the registry; checking them first means no
	 * tag is applied when a later one in the list is invalid. */
	for (size_t i = 0; i < o.tags.len; i++)
		if (!sl_oci_tag_valid(o.tags.items[i]))
			return sl_error_set(err, SL_EINVAL,
			                    "invalid tag \"%s\": tags are 1-128 characters of "
			                    "[A-Za-z0-9_.-], not starting with '.' or '-'",
			                    o.tags.items[i]);

	_cleanup_(sl_oci_ref_clear) struct sl_oci_ref ref = {0};
	r = sl_oci_ref_parse(args->items[0], &ref, err);
	if (r < 0)
		return r;
	_cleanup_(sl_creds_clear) struct sl_creds creds = {0};
	r = cli_resolve_creds(&ref, o.creds, o.provider, &creds, err);
	if (r < 0)
		return r;
	struct sl_registry_opts ropts;
	cli_registry_opts(&ropts, &creds, o.insecure, o.ca_file);
	ropts.push = true;
	_cleanup_(sl_registry_freep) struct sl_registry *reg = NULL;
	r = sl_registry_new(ref.registry, &ropts, &reg, err);
	if (r < 0)
		return r;

	sl_log_action("tagging artifact");
	/* The same manifest bytes under each new tag: no blob moves, and the
	 * digest stays what was signed. Fetched once, not once per tag. */
	_cleanup_buf_ struct sl_buf manifest;
	sl_buf_init(&manifest, SL_MAX_MANIFEST_BYTES);
	_cleanup_free_ char *content_type = NULL;
	char digest[SL_DIGEST_STR_LEN];
	r = sl_registry_manifest_get(reg, ref.repository, sl_oci_ref_reference(&ref), &manifest,
	                             &content_type, digest, err);
	if (r < 0)
		return sl_error_wrap(err, r, "tagging artifact failed");
	if (!content_type || !*content_type) {
		free(content_type);
		content_type = sl_strdup(SL_MT_OCI_MANIFEST);
	}
	_cleanup_free_ char *repo = sl_oci_ref_repo_name(&ref);
	for (size_t i = 0; i < o.tags.len; i++) {
		r = sl_registry_manifest_put(reg, ref.repository, o.tags.items[i], content_type,
		                             manifest.data, manifest.len, err);
		if (r < 0)
			return sl_error_wrap(err, r, "tagging artifact failed");
		sl_log_success("artifact tagged as %s:%s", repo, o.tags.items[i]);
	}
	return 0;
}

int cmd_tag_artifact(int argc, char **argv, struct sl_error *err)
{
	_cleanup_(sl_strv_free) struct sl_strv args = {0};
	int r = flags_parse(flags, argc, argv, &args, err);
	if (r == 0 && g_flags.help)
		flags_print_help(cli_find_command("tag", "artifact"), flags);
	else if (r == 0)
		r = run(&args, err);
	flags_free(flags);
	return r;
}
