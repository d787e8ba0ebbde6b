#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "sign/sign.h"

static struct {
	struct cli_source src;
	struct cli_remote remote;
	char *source, *revision, *output, *sign_key;
	struct sl_strv annotations;
	bool reproducible;
} o;

static struct flag flags[] = {
    {"path", 'f', FLAG_STRING, &o.src.path, "",
     "path to the directory or file to push, or - for stdin"},
    {"source", 0, FLAG_STRING, &o.source, "", "the source address, e.g. the Git URL (required)"},
    {"revision", 0, FLAG_STRING, &o.revision, "",
     "the source revision in the format '<branch|tag>@sha1:<commit-sha>' (required)"},
    CLI_REMOTE_FLAGS(o.remote),
    CLI_SOURCE_FLAGS(o.src),
    {"annotations", 'a', FLAG_STRING_ARRAY, &o.annotations, NULL,
     "set custom OCI annotations in the format '<key>=<value>'"},
    {"output", 'o', FLAG_STRING, &o.output, "",
     "the format in which the artifact digest should be printed, can be 'json' or 'yaml'"},
    {"sign-key", 0, FLAG_STRING, &o.sign_key, "",
     "sign the pushed artifact with this cosign private key (password: $COSIGN_PASSWORD or a "
     "prompt), as sign artifact does"},
    {"reproducible", 0, FLAG_BOOL, &o.reproducible, "false",
     "ensure reproducible image digests by setting the created timestamp to "
     "'1970-01-01T00:00:00Z'"},
    {0},
};

static void print_result(const struct cli_target *t, const char *digest)
{
	const char *repo = t->name;
	_cleanup_free_ char *url = sl_asprintf("%s%s@%s", t->path ? "" : "oci://", repo, digest);
	if (strcmp(o.output, "json") == 0) {
		struct sl_buf b;
		sl_buf_init(&b, 0);
		sl_buf_append(&b, "{\n  \"url\": ", 11);
		sl_json_append_go_string(&b, url);
		sl_buf_append(&b, ",\n  \"repository\": ", 18);
		sl_json_append_go_string(&b, repo);
		sl_buf_append(&b, ",\n  \"tag\": ", 11);
		sl_json_append_go_string(&b, t->tag);
		sl_buf_append(&b, ",\n  \"digest\": ", 14);
		sl_json_append_go_string(&b, digest);
		sl_buf_append(&b, "\n}\n", 3);
		fwrite(b.data, 1, b.len, stdout);
		sl_buf_free(&b);
	} else if (strcmp(o.output, "yaml") == 0) {
		/* sigs.k8s.io/yaml sorts keys. */
		fputs("digest: ", stdout);
		cli_yaml_scalar(stdout, digest);
		fputs("\nrepository: ", stdout);
		cli_yaml_scalar(stdout, repo);
		fputs("\ntag: ", stdout);
		cli_yaml_scalar(stdout, t->tag);
		fputs("\nurl: ", stdout);
		cli_yaml_scalar(stdout, url);
		fputs("\n", stdout);
	} else {
		sl_log_success("artifact successfully pushed to %s@%s", repo, digest);
	}
}

static int parse_annotations(struct sl_annotation **ret, size_t *ret_n, struct sl_error *err)
{
	char created[32];
	if (o.reproducible)
		snprintf(created, sizeof(created), "1970-01-01T00:00:00Z");
	else
		sl_time_rfc3339_now(created);

	size_t n = 3;
	struct sl_annotation *a = sl_xcalloc(3 + o.annotations.len, sizeof(*a));
	a[0] = (struct sl_annotation){sl_strdup(SL_ANNOTATION_CREATED), sl_strdup(created)};
	a[1] = (struct sl_annotation){sl_strdup(SL_ANNOTATION_SOURCE), sl_strdup(o.source)};
	a[2] = (struct sl_annotation){sl_strdup(SL_ANNOTATION_REVISION), sl_strdup(o.revision)};
	int r = 0;
	for (size_t i = 0; i < o.annotations.len; i++) {
		const char *kv = o.annotations.items[i];
		const char *eq = strchr(kv, '=');
		/* Flux splits on '=' and wants exactly two parts. */
		if (!eq || eq == kv || strchr(eq + 1, '=')) {
			r = sl_error_set(err, SL_EINVAL,
			                 "invalid annotation %s, must be in the format key=value",
			                 kv);
			break;
		}
		_cleanup_free_ char *key = sl_strndup(kv, (size_t)(eq - kv));
		size_t k = 0;
		while (k < n && strcmp(a[k].key, key) != 0)
			k++;
		if (k == n)
			a[n++].key = sl_strdup(key);
		free(a[k].value);
		a[k].value = sl_strdup(eq + 1);
	}
	if (r == 0) {
		/* An emptied created annotation falls back to the computed time. */
		if (!*a[0].value) {
			free(a[0].value);
			a[0].value = sl_strdup(created);
		}
		if (!sl_time_rfc3339_valid(a[0].value))
			r = sl_error_set(err, SL_EINVAL, "invalid created timestamp \"%s\"",
			                 a[0].value);
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			free(a[i].key), free(a[i].value);
		free(a);
		return r;
	}
	*ret = a;
	*ret_n = n;
	return 0;
}

static void annotations_free(struct sl_annotation *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i].key), free(a[i].value);
	free(a);
}

static int run(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "artifact URL is required");
	if (!*o.source)
		return sl_error_set(err, SL_EINVAL, "--source is required");
	if (!*o.revision)
		return sl_error_set(err, SL_EINVAL, "--revision is required");
	if (!*o.src.path)
		return sl_error_set(err, SL_EINVAL, "invalid path \"\"");
	int r = cli_check_output_format(o.output, err);
	if (r == 0)
		r = cli_provider_check(o.remote.provider, err);
	if (r < 0)
		return r;

	_cleanup_(cli_target_clear) struct cli_target t = {0};
	r = cli_target_parse(args->items[0], &t, err);
	if (r < 0)
		return r;
	if (t.digest)
		return sl_error_set(err, SL_EINVAL,
		                    "cannot push to a digest reference (%s): give a tag instead",
		                    args->items[0]);
	r = cli_source_check(&o.src, err);
	if (r < 0)
		return r;
	/* The key opens before anything is uploaded: a wrong password leaves
	 * the registry untouched rather than holding an unsigned artifact. */
	_cleanup_(sl_cosign_key_freep) struct sl_cosign_key *key = NULL;
	if (*o.sign_key) {
		if (t.path)
			return sl_error_set(
			    err, SL_EUNSUPPORTED,
			    "--sign-key needs a registry: an OCI image layout cannot "
			    "hold cosign signatures");
		r = cli_load_private_key(o.sign_key, &key, err);
		if (r < 0)
			return r;
	}
	struct sl_annotation *annotations = NULL;
	size_t n_annotations = 0;
	r = parse_annotations(&annotations, &n_annotations, err);
	if (r < 0)
		return r;

	_cleanup_close_ int fd = -1;
	uint64_t size;
	char layer_digest[SL_DIGEST_STR_LEN];
	struct sl_push_result result;
	r = cli_source_build_tmpfile(&o.src, &fd, &size, layer_digest, err);
	if (r == 0)
		r = cli_target_open(&t, &o.remote, NULL, true, err);
	if (r == 0) {
		if (!*o.output)
			sl_log_action("pushing artifact to %s",
			              t.path ? args->items[0] : t.ref.text);
		r = sl_artifact_push(&t.ep, t.tag, fd, size, layer_digest, annotations,
		                     n_annotations, &result, err);
		cli_progress_done();
		if (r < 0)
			sl_error_wrap(err, r, "pushing artifact failed");
	}
	annotations_free(annotations, n_annotations);
	if (r < 0)
		return r;
	if (result.skipped)
		sl_log_debug("%s already holds %s: nothing uploaded", t.name, result.digest);
	print_result(&t, result.digest);
	if (key) {
		sl_log_action("signing %s@%s", t.name, result.digest);
		r = cli_sign_digest(&t, result.digest, key, NULL, err);
	}
	return r;
}

int cmd_push_artifact(int argc, char **argv, struct sl_error *err)
{
	return cli_run("push", "artifact", flags, argc, argv, run, err);
}
