/* create secret oci: the kubernetes.io/dockerconfigjson Secret an
 * OCIRepository's secretRef names: with --export in the exact YAML Flux
 * prints, otherwise server-side applied to the cluster (its data being
 * what the exported stringData becomes once stored). */
#include <string.h>

#include "cli/kubecmd.h"

static struct {
	char *url, *username, *password;
	bool export_;
} o;

static struct flag flags[] = {
    {"url", 0, FLAG_STRING, &o.url, "", "oci repository address e.g ghcr.io/stefanprodan/charts"},
    {"username", 'u', FLAG_STRING, &o.username, "", "basic authentication username"},
    {"password", 'p', FLAG_STRING, &o.password, "", "basic authentication password"},
    {"export", 0, FLAG_BOOL, &o.export_, "false", "export in YAML format to stdout"},
    {0},
};

/* go-yaml v2 writes this value single-quoted (it starts with '{'), with
 * embedded quotes doubled. */
static void single_quoted(struct sl_buf *b, const char *s)
{
	sl_buf_append(b, "'", 1);
	for (; *s; s++)
		sl_buf_append(b, *s == '\'' ? "''" : s, 1 + (*s == '\''));
	sl_buf_append(b, "'", 1);
}

static int print_export(const char *name, const char *ns, const struct sl_buf *json,
                        struct sl_error *err)
{
	_cleanup_buf_ struct sl_buf yaml;
	sl_buf_init(&yaml, 0);
	sl_buf_printf(&yaml,
	              "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\n"
	              "stringData:\n  .dockerconfigjson: ",
	              name, ns);
	single_quoted(&yaml, json->data);
	sl_buf_printf(&yaml, "\ntype: kubernetes.io/dockerconfigjson\n\n");
	bool ok = fwrite(yaml.data, 1, yaml.len, stdout) == yaml.len && fflush(stdout) == 0;
	explicit_bzero(yaml.data, yaml.len);
	return ok ? 0 : sl_error_set(err, SL_EIO, "writing the Secret to stdout");
}

static int apply_secret(const char *name, const char *ns, const struct sl_buf *json,
                        struct sl_error *err)
{
	_cleanup_(sl_kube_freep) struct sl_kube *k = NULL;
	int r = cli_kube_open(&k, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *data = sl_base64_encode(json->data, json->len);
	_cleanup_(json_decrefp) json_t *secret =
	    json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:{s:s}}", "apiVersion", "v1", "kind",
	              "Secret", "metadata", "name", name, "namespace", ns, "type",
	              "kubernetes.io/dockerconfigjson", "data", ".dockerconfigjson", data);
	explicit_bzero(data, strlen(data));
	if ((r = cli_apply(k, secret, NULL, NULL, err)) < 0)
		return r;
	sl_log_action("oci secret '%s' created in '%s' namespace", name, ns);
	return 0;
}

static int run(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "name is required");
	const char *name = args->items[0];
	if (!*o.url)
		return sl_error_set(err, SL_EINVAL, "--url is required");
	if (!*o.username)
		return sl_error_set(err, SL_EINVAL, "--username is required");
	if (!*o.password)
		return sl_error_set(err, SL_EINVAL, "--password is required");
	if (!cli_dns1123(name, 253, true))
		return sl_error_set(err, SL_EINVAL,
		                    "invalid name \"%s\": must be a lowercase RFC 1123 subdomain",
		                    name);
	const char *ns = g_flags.namespace_;
	int r = cli_check_namespace(err);
	if (r < 0)
		return r;
	/* Flux checks the address as an image reference. */
	_cleanup_(sl_oci_ref_clear) struct sl_oci_ref ref = {0};
	_cleanup_free_ char *as_ref = sl_asprintf("oci://%s", o.url);
	if (sl_oci_ref_parse(as_ref, &ref, err) < 0)
		return sl_error_set(err, SL_EINVAL, "error parsing url: '%s'", o.url);

	_cleanup_free_ char *pair = sl_asprintf("%s:%s", o.username, o.password);
	_cleanup_free_ char *auth = sl_base64_encode(pair, strlen(pair));
	_cleanup_buf_ struct sl_buf json;
	sl_buf_init(&json, 0);
	sl_buf_append(&json, "{\"auths\":{", 10);
	sl_json_append_go_string(&json, o.url);
	sl_buf_append(&json, ":{\"username\":", 13);
	sl_json_append_go_string(&json, o.username);
	sl_buf_append(&json, ",\"password\":", 12);
	sl_json_append_go_string(&json, o.password);
	sl_buf_append(&json, ",\"auth\":", 8);
	sl_json_append_go_string(&json, auth);
	sl_buf_append(&json, "}}}", 3);

	r = o.export_ ? print_export(name, ns, &json, err) : apply_secret(name, ns, &json, err);
	explicit_bzero(pair, strlen(pair));
	explicit_bzero(json.data, json.len);
	return r;
}

int cmd_create_secret_oci(int argc, char **argv, struct sl_error *err)
{
	return cli_run("create", "secret oci", flags, argc, argv, run, err);
}
