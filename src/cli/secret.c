/* create secret oci: the kubernetes.io/dockerconfigjson Secret an
 * OCIRepository's secretRef names, in the exact YAML Flux prints. */
#include <ctype.h>
#include <string.h>

#include "cli/cli.h"

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

/* RFC 1123 label (namespaces) or subdomain (names), as Kubernetes checks. */
static bool dns1123(const char *s, size_t max, bool dots)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = islower((unsigned char)c) || isdigit((unsigned char)c);
		bool edge = i == 0 || i == n - 1 || (dots && (s[i - 1] == '.' || s[i + 1] == '.'));
		if (alnum)
			continue;
		if (edge || !(c == '-' || (dots && c == '.')))
			return false;
	}
	return true;
}

/* go-yaml v2 writes this value single-quoted (it starts with '{'), with
 * embedded quotes doubled. */
static void single_quoted(struct sl_buf *b, const char *s)
{
	sl_buf_append(b, "'", 1);
	for (; *s; s++)
		sl_buf_append(b, *s == '\'' ? "''" : s, 1 + (*s == '\''));
	sl_buf_append(b, "'", 1);
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
	if (!dns1123(name, 253, true))
		return sl_error_set(err, SL_EINVAL,
		                    "invalid name \"%s\": must be a lowercase RFC 1123 subdomain",
		                    name);
	const char *ns = g_flags.namespace_;
	if (!dns1123(ns, 63, false))
		return sl_error_set(err, SL_EINVAL,
		                    "invalid namespace \"%s\": must be a lowercase RFC 1123 label",
		                    ns);
	/* Flux checks the address as an image reference. */
	_cleanup_(sl_oci_ref_clear) struct sl_oci_ref ref = {0};
	_cleanup_free_ char *as_ref = sl_asprintf("oci://%s", o.url);
	int r = sl_oci_ref_parse(as_ref, &ref, err);
	if (r < 0)
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

	_cleanup_buf_ struct sl_buf yaml;
	sl_buf_init(&yaml, 0);
	sl_buf_printf(&yaml,
	              "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\n"
	              "stringData:\n  .dockerconfigjson: ",
	              name, ns);
	single_quoted(&yaml, json.data);
	sl_buf_printf(&yaml, "\ntype: kubernetes.io/dockerconfigjson\n\n");
	fwrite(yaml.data, 1, yaml.len, stdout);

	explicit_bzero(pair, strlen(pair));
	explicit_bzero(json.data, json.len);
	explicit_bzero(yaml.data, yaml.len);
	if (!o.export_)
		sl_log_warning("sluice cannot create it in a cluster yet: apply it with "
		               "'kubectl apply -f -', or pass --export to print it silently");
	return 0;
}

int cmd_create_secret_oci(int argc, char **argv, struct sl_error *err)
{
	return cli_run("create", "secret oci", flags, argc, argv, run, err);
}
