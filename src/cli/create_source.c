/* create source oci: the OCIRepository `flux create source oci` makes.
 * With --export it prints the object as Flux does (sigs.k8s.io/yaml: keys
 * sorted, go-yaml v2 quoting, "---" first, a blank line last); otherwise it
 * server-side applies it and waits, as Flux does, for Ready=True of the
 * current generation and prints the fetched revision. */
#include <string.h>

#include "cli/kubecmd.h"
#include "controller/ocirepository.h"

static struct {
	char *url, *tag, *semver, *digest, *secret_ref, *service_account, *cert_ref;
	char *verify_provider, *verify_secret_ref, *verify_subject, *verify_issuer, *provider;
	struct sl_strv ignore_paths, labels;
	bool insecure, export_;
	int64_t interval_ms, fetch_timeout_ms;
} o;

static struct flag flags[] = {
    {"url", 0, FLAG_STRING, &o.url, "", "the OCI repository URL"},
    {"tag", 0, FLAG_STRING, &o.tag, "", "the OCI artifact tag"},
    {"tag-semver", 0, FLAG_STRING, &o.semver, "", "the OCI artifact tag semver range"},
    {"digest", 0, FLAG_STRING, &o.digest, "", "the OCI artifact digest"},
    {"secret-ref", 0, FLAG_STRING, &o.secret_ref, "",
     "the name of the Kubernetes image pull secret (type 'kubernetes.io/dockerconfigjson')"},
    {"service-account", 0, FLAG_STRING, &o.service_account, "",
     "the name of the Kubernetes service account that refers to an image pull secret"},
    {"cert-ref", 0, FLAG_STRING, &o.cert_ref, "",
     "the name of a secret to use for TLS certificates"},
    {"verify-provider", 0, FLAG_STRING, &o.verify_provider, "",
     "the OCI verification provider name to use for signature verification, available "
     "options are: (cosign, notation)"},
    {"verify-secret-ref", 0, FLAG_STRING, &o.verify_secret_ref, "",
     "the name of a secret to use for signature verification"},
    {"verify-subject", 0, FLAG_STRING, &o.verify_subject, "",
     "regular expression to use for the OIDC subject during signature verification"},
    {"verify-issuer", 0, FLAG_STRING, &o.verify_issuer, "",
     "regular expression to use for the OIDC issuer during signature verification"},
    {"ignore-paths", 0, FLAG_STRING_CSV, &o.ignore_paths, NULL,
     "set paths to ignore resources (can specify multiple paths with commas: path1,path2)"},
    {"provider", 0, FLAG_STRING, &o.provider, "generic",
     "the OCI provider name, available options are: (generic, aws, azure, gcp)"},
    {"insecure", 0, FLAG_BOOL, &o.insecure, "false",
     "for when connecting to a non-TLS registries over plain HTTP"},
    {"interval", 0, FLAG_DURATION, &o.interval_ms, "1m0s", "source sync interval"},
    {"fetch-timeout", 0, FLAG_DURATION, &o.fetch_timeout_ms, NULL,
     "set a timeout for fetch operations performed by source-controller"},
    {"label", 0, FLAG_STRING_CSV, &o.labels, NULL,
     "set labels on the resource (can specify multiple labels with commas: "
     "label1=value1,label2=value2)"},
    {"export", 0, FLAG_BOOL, &o.export_, "false", "export in YAML format to stdout"},
    {0},
};

static int check_choice(const char *flag, const char *what, const char *value,
                        const char *const *choices, const char *listed, struct sl_error *err)
{
	if (!*value)
		return sl_error_set(err, SL_EINVAL,
		                    "invalid argument \"\" for \"--%s\" flag: no %s given, please "
		                    "specify the %s name",
		                    flag, what, what);
	for (const char *const *c = choices; *c; c++)
		if (strcmp(value, *c) == 0)
			return 0;
	return sl_error_set(err, SL_EINVAL,
	                    "invalid argument \"%s\" for \"--%s\" flag: %s '%s' is not supported, "
	                    "must be one of: %s",
	                    value, flag, what, value, listed);
}

static int check_flags(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "name is required");
	const char *name = args->items[0];
	if (!*o.url)
		return sl_error_set(err, SL_EINVAL, "url is required");
	if (!*o.semver && !*o.tag && !*o.digest)
		return sl_error_set(err, SL_EINVAL, "--tag, --tag-semver or --digest is required");
	if (!cli_dns1123(name, 253, true))
		return sl_error_set(err, SL_EINVAL,
		                    "invalid name \"%s\": must be a lowercase RFC 1123 subdomain",
		                    name);
	int r = cli_check_namespace(err);
	if (r < 0)
		return r;
	/* The CRD's pattern; saying so here beats the API server's 422. */
	if (!sl_startswith(o.url, "oci://") || !o.url[6])
		return sl_error_set(err, SL_EINVAL,
		                    "invalid url \"%s\": must be in the format "
		                    "'oci://<domain>/<org>/<repo>'",
		                    o.url);
	static const char *const providers[] = {"generic", "aws", "azure", "gcp", NULL};
	r = check_choice("provider", "source OCI provider", o.provider, providers,
	                 "generic, aws, azure, gcp", err);
	if (r < 0)
		return r;
	if (*o.verify_provider) {
		static const char *const verifiers[] = {"cosign", "notation", NULL};
		r = check_choice("verify-provider", "source OCI verify provider", o.verify_provider,
		                 verifiers, "cosign, notation", err);
		if (r < 0)
			return r;
	} else if (*o.verify_secret_ref) {
		return sl_error_set(err, SL_EINVAL,
		                    "a verification provider must be specified when a secret is "
		                    "specified");
	} else if (*o.verify_subject || *o.verify_issuer) {
		return sl_error_set(err, SL_EINVAL,
		                    "a verification provider must be specified when OIDC issuer "
		                    "and subject are specified");
	}
	if (o.interval_ms < 0 || o.fetch_timeout_ms < 0)
		return sl_error_set(err, SL_EINVAL,
		                    "--interval and --fetch-timeout cannot be "
		                    "negative");
	for (size_t i = 0; i < o.labels.len; i++) {
		const char *eq = strchr(o.labels.items[i], '=');
		if (!eq || eq == o.labels.items[i] || strchr(eq + 1, '='))
			return sl_error_set(err, SL_EINVAL,
			                    "invalid label format '%s', must be key=value",
			                    o.labels.items[i]);
	}
	return 0;
}

static json_t *local_ref(const char *name)
{
	return json_pack("{s:s}", "name", name);
}

/* The object as Flux builds it; keys in any order, the printers sort. */
static json_t *build_object(const char *name)
{
	json_t *meta = json_pack("{s:s, s:s}", "name", name, "namespace", g_flags.namespace_);
	if (o.labels.len) {
		json_t *labels = json_object();
		for (size_t i = 0; i < o.labels.len; i++) {
			const char *l = o.labels.items[i];
			const char *eq = strchr(l, '=');
			_cleanup_free_ char *key = sl_strndup(l, (size_t)(eq - l));
			json_object_set_new(labels, key, json_string(eq + 1));
		}
		json_object_set_new(meta, "labels", labels);
	}
	char interval[64];
	cli_go_duration(o.interval_ms, interval);
	/* Flux's CLI starts --provider at "generic", and omitempty keeps it. */
	json_t *spec = json_pack("{s:s, s:s, s:s}", "provider", o.provider, "url", o.url,
	                         "interval", interval);
	if (o.insecure)
		json_object_set_new(spec, "insecure", json_true());
	json_t *ref = json_object();
	if (*o.digest)
		json_object_set_new(ref, "digest", json_string(o.digest));
	if (*o.semver)
		json_object_set_new(ref, "semver", json_string(o.semver));
	if (*o.tag)
		json_object_set_new(ref, "tag", json_string(o.tag));
	json_object_set_new(spec, "ref", ref);
	if (o.ignore_paths.len) {
		struct sl_buf ignore;
		sl_buf_init(&ignore, 0);
		for (size_t i = 0; i < o.ignore_paths.len; i++)
			sl_buf_printf(&ignore, "%s%s", i ? "\n" : "", o.ignore_paths.items[i]);
		json_object_set_new(spec, "ignore", json_string(ignore.data ? ignore.data : ""));
		sl_buf_free(&ignore);
	}
	if (o.fetch_timeout_ms > 0) {
		char timeout[64];
		cli_go_duration(o.fetch_timeout_ms, timeout);
		json_object_set_new(spec, "timeout", json_string(timeout));
	}
	if (*o.service_account)
		json_object_set_new(spec, "serviceAccountName", json_string(o.service_account));
	if (*o.secret_ref)
		json_object_set_new(spec, "secretRef", local_ref(o.secret_ref));
	if (*o.cert_ref)
		json_object_set_new(spec, "certSecretRef", local_ref(o.cert_ref));
	if (*o.verify_provider) {
		json_t *verify = json_pack("{s:s}", "provider", o.verify_provider);
		if (*o.verify_secret_ref)
			json_object_set_new(verify, "secretRef", local_ref(o.verify_secret_ref));
		if (*o.verify_subject || *o.verify_issuer)
			json_object_set_new(verify, "matchOIDCIdentity",
			                    json_pack("[{s:s, s:s}]", "issuer", o.verify_issuer,
			                              "subject", o.verify_subject));
		json_object_set_new(spec, "verify", verify);
	}
	return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", SL_OCIREPO_API, "kind",
	                 SL_OCIREPO_KIND, "metadata", meta, "spec", spec);
}

/* printExport: "---", the YAML, and the blank line fmt.Println adds. */
static int print_export(const json_t *obj, struct sl_error *err)
{
	_cleanup_node_ struct sl_node *doc = cli_node_from_json(obj);
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, 0);
	sl_buf_append(&out, "---\n", 4);
	int r = sl_yaml_emit(&out, doc, err);
	if (r < 0)
		return r;
	sl_buf_append(&out, "\n", 1);
	if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
		return sl_error_set(err, SL_EIO, "writing to stdout");
	return 0;
}

static int run(const struct sl_strv *args, struct sl_error *err)
{
	int r = check_flags(args, err);
	if (r < 0)
		return r;
	const char *name = args->items[0], *ns = g_flags.namespace_;
	_cleanup_(json_decrefp) json_t *obj = build_object(name);
	if (o.export_)
		return print_export(obj, err);

	_cleanup_(sl_kube_freep) struct sl_kube *k = NULL;
	if ((r = cli_kube_open(&k, err)) < 0)
		return r;
	sl_log_action("applying %s", SL_OCIREPO_KIND);
	const char *action = NULL;
	r = cli_apply(k, obj, &action, NULL, err);
	if (r < 0)
		return cli_ocirepo_not_found(k, r, NULL, err);
	if (strcmp(action, "created") == 0)
		sl_log_success("%s created", SL_OCIREPO_KIND);
	else
		sl_log_success("%s updated", SL_OCIREPO_KIND);

	cli_log_waiting("waiting for %s reconciliation", SL_OCIREPO_KIND);
	_cleanup_(json_decrefp) json_t *ready = NULL;
	if ((r = cli_ocirepo_wait(k, ns, name, NULL, &ready, err)) < 0)
		return r;
	sl_log_success("%s reconciliation completed", SL_OCIREPO_KIND);
	const char *revision = cli_json_str(ready, "status", "artifact", "revision", NULL);
	if (!revision)
		return sl_error_set(err, SL_EINVAL, "no artifact was found");
	sl_log_success("fetched revision: %s", revision);
	return 0;
}

int cmd_create_source_oci(int argc, char **argv, struct sl_error *err)
{
	o.interval_ms = o.fetch_timeout_ms = 0;
	return cli_run("create", "source oci", flags, argc, argv, run, err);
}
