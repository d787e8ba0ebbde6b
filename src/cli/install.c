/* install: the controller's manifests — Namespace, CRDs, RBAC, Service,
 * Deployment — in apply order, with Flux's install flags filled in. The
 * manifests are the YAML files of config/, embedded at build time
 * (scripts/embed-files); their ${NAME} variables are the only thing this
 * file changes in them. --export prints them as one YAML stream; otherwise
 * they are applied server-side as `flux install` does: the CRDs and the
 * Namespace first, then, once every CRD is Established, the rest in order;
 * then the controller's Deployment is awaited. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "cli/kubecmd.h"
#include "config.h"

static struct {
	char *registry, *log_level, *cluster_domain;
	bool export_, watch_all_namespaces;
} o;

static struct flag flags[] = {
    {"export", 0, FLAG_BOOL, &o.export_, "false", "write the install manifests to stdout and exit"},
    {"registry", 0, FLAG_STRING, &o.registry, "ghcr.io/sluice-project",
     "container registry where the sluice image is published"},
    {"watch-all-namespaces", 0, FLAG_BOOL, &o.watch_all_namespaces, "true",
     "watch for custom resources in all namespaces, if set to false it will only watch the "
     "namespace where sluice is installed"},
    {"log-level", 0, FLAG_STRING, &o.log_level, "info",
     "log level, available options are: (debug, info, error)"},
    {"cluster-domain", 0, FLAG_STRING, &o.cluster_domain, "cluster.local",
     "internal cluster domain"},
    {0},
};

struct var {
	const char *name;
	const char *value;
};

/* A registry host with an optional repository path, as in an image name:
 * "ghcr.io/org", "127.0.0.1:5000". Nothing that could break out of YAML. */
static bool registry_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 200 || s[0] == '/' || s[n - 1] == '/' || strstr(s, "//"))
		return false;
	for (const char *p = s; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    !strchr("._-:/", *p))
			return false;
	return true;
}

static int check_flags(struct sl_error *err)
{
	const char *ns = g_flags.namespace_;
	if (!cli_dns1123(ns, 63, false))
		return sl_error_set(err, SL_EINVAL,
		                    "invalid namespace \"%s\": must be a lowercase RFC 1123 label",
		                    ns);
	if (strcmp(o.log_level, "debug") && strcmp(o.log_level, "info") &&
	    strcmp(o.log_level, "error"))
		return sl_error_set(
		    err, SL_EINVAL,
		    "invalid argument \"%s\" for \"--log-level\" flag: unsupported log "
		    "level '%s', must be one of: debug, info, error",
		    o.log_level, o.log_level);
	if (!registry_valid(o.registry))
		return sl_error_set(err, SL_EINVAL,
		                    "invalid registry \"%s\": want a host with an optional path, "
		                    "e.g. ghcr.io/sluice-project",
		                    o.registry);
	if (!cli_dns1123(o.cluster_domain, 253, true))
		return sl_error_set(err, SL_EINVAL,
		                    "invalid cluster domain \"%s\": must be a lowercase RFC 1123 "
		                    "subdomain",
		                    o.cluster_domain);
	return 0;
}

/* Appends file's text with every ${NAME} replaced. A name without a value
 * is a defect in config/ (scripts/embed-files only checks the syntax). */
static int expand(struct sl_buf *out, const struct cli_embedded_file *file, const struct var *vars,
                  struct sl_error *err)
{
	const char *p = file->data;
	for (const char *d; (d = strstr(p, "${"));) {
		sl_buf_append(out, p, d - p);
		const char *name = d + 2, *end = strchr(name, '}');
		const struct var *v = vars;
		while (end && v->name &&
		       (strlen(v->name) != (size_t)(end - name) ||
		        strncmp(v->name, name, end - name) != 0))
			v++;
		if (!end || !v->name)
			return sl_error_set(err, SL_EINVAL, "config/%s: no value for %.*s",
			                    file->name, end ? (int)(end + 1 - d) : 2, d);
		sl_buf_append(out, v->value, strlen(v->value));
		p = end + 1;
	}
	sl_buf_append(out, p, strlen(p));
	return 0;
}

/* The manifests for p, as one YAML stream. */
static int render(const struct cli_install_params *p, struct sl_buf *out, struct sl_error *err)
{
	const struct var vars[] = {
	    {"NAMESPACE", p->ns},
	    {"VERSION", SLUICE_VERSION},
	    {"REGISTRY", p->registry},
	    {"CLUSTER_DOMAIN", p->cluster_domain},
	    {"LOG_LEVEL", p->log_level},
	    {"WATCH_ALL_NAMESPACES", p->watch_all_namespaces ? "true" : "false"},
	    {0},
	};
	sl_buf_printf(out, "# sluice v%s install manifests for namespace %s\n", SLUICE_VERSION,
	              p->ns);
	for (const struct cli_embedded_file *f = cli_config_files; f->name; f++) {
		int r = expand(out, f, vars, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int cli_install_objects(const struct cli_install_params *p, json_t **ret_objects,
                        struct sl_error *err)
{
	_cleanup_buf_ struct sl_buf text;
	sl_buf_init(&text, 0);
	int r = render(p, &text, err);
	if (r < 0)
		return r;
	_cleanup_node_ struct sl_node *docs = NULL;
	if ((r = sl_yaml_parse(text.data, text.len, "install manifests", &docs, err)) < 0)
		return r;
	_cleanup_(json_decrefp) json_t *objects = json_array();
	for (size_t i = 0; i < docs->seq.len; i++) {
		_cleanup_buf_ struct sl_buf json;
		sl_buf_init(&json, 0);
		if ((r = sl_json_emit(&json, docs->seq.items[i], err)) < 0)
			return sl_error_wrap(err, r, "install manifests, document %zu", i + 1);
		json_error_t jerr;
		json_t *obj = json_loadb(json.data, json.len, 0, &jerr);
		if (!json_is_object(obj)) {
			json_decref(obj);
			return sl_error_set(err, SL_EINVAL,
			                    "install manifests, document %zu: not an object",
			                    i + 1);
		}
		json_array_append_new(objects, obj);
	}
	*ret_objects = TAKE_PTR(objects);
	return 0;
}

static bool is_kind(const json_t *obj, const char *kind)
{
	const char *k = cli_json_str(obj, "kind", NULL);
	return k && strcmp(k, kind) == 0;
}

/* Flux's first stage: what everything else may depend on. */
static bool first_stage(const json_t *obj)
{
	return is_kind(obj, "CustomResourceDefinition") || is_kind(obj, "Namespace");
}

static int apply_one(struct sl_kube *k, const json_t *obj, struct sl_error *err)
{
	const char *action;
	int r = cli_apply(k, obj, &action, NULL, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *subject = cli_object_subject(obj);
	fprintf(stderr, "%s %s\n", subject, action);
	return 0;
}

/* Polls the object obj names until ready() says so, or --timeout passes. */
static int await(struct sl_kube *k, const json_t *obj, int64_t deadline,
                 enum cli_readiness (*ready)(const json_t *obj, char msg[160]),
                 struct sl_error *err)
{
	_cleanup_free_ char *subject = cli_object_subject(obj);
	struct sl_kube_resource res;
	int r = sl_kube_resource_of(k, obj, &res, err);
	if (r < 0)
		return sl_error_wrap(err, r, "install failed: %s", subject);
	const char *ns = res.namespaced ? cli_json_str(obj, "metadata", "namespace", NULL) : NULL;
	const char *name = cli_json_str(obj, "metadata", "name", NULL);
	char msg[160] = "";
	for (;;) {
		_cleanup_(json_decrefp) json_t *live = NULL;
		if ((r = sl_kube_get(k, &res, ns, name, &live, err)) < 0)
			return sl_error_wrap(err, r, "install failed: %s", subject);
		switch (ready(live, msg)) {
		case CLI_READY: return 0;
		case CLI_FAILED:
			return sl_error_set(err, SL_EINVAL, "install failed: %s: %s", subject, msg);
		case CLI_PENDING: break;
		}
		if (!cli_poll_sleep(deadline))
			return sl_error_set(err, SL_ENET,
			                    "install failed: %s not ready after %s: %s", subject,
			                    cli_timeout_text(), msg);
	}
}

static enum cli_readiness crd_established(const json_t *crd, char msg[160])
{
	const json_t *c = cli_condition(crd, "Established");
	const char *status = json_string_value(json_object_get(c, "status"));
	snprintf(msg, 160, "not Established");
	return status && strcmp(status, "True") == 0 ? CLI_READY : CLI_PENDING;
}

static int apply_all(const json_t *objects, struct sl_error *err)
{
	_cleanup_(sl_kube_freep) struct sl_kube *k = NULL;
	int r = cli_kube_open(&k, err);
	if (r < 0)
		return r;
	int64_t deadline = cli_deadline();
	size_t i;
	const json_t *obj;
	json_array_foreach (objects, i, obj) {
		if (first_stage(obj) && (r = apply_one(k, obj, err)) < 0)
			return sl_error_wrap(err, r, "install failed");
	}
	json_array_foreach (objects, i, obj) {
		if (is_kind(obj, "CustomResourceDefinition") &&
		    (r = await(k, obj, deadline, crd_established, err)) < 0)
			return r;
	}
	json_array_foreach (objects, i, obj) {
		if (!first_stage(obj) && (r = apply_one(k, obj, err)) < 0)
			return sl_error_wrap(err, r, "install failed");
	}
	cli_log_waiting("verifying installation");
	json_array_foreach (objects, i, obj) {
		if (!is_kind(obj, "Deployment"))
			continue;
		if ((r = await(k, obj, deadline, cli_deployment_readiness, err)) < 0) {
			sl_log_failure("%s: deployment not ready",
			               cli_json_str(obj, "metadata", "name", NULL));
			return r;
		}
		sl_log_success("%s: deployment ready", cli_json_str(obj, "metadata", "name", NULL));
	}
	sl_log_success("install finished");
	return 0;
}

static int run(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len > 0)
		return sl_error_set(err, SL_EINVAL, "unknown command \"%s\" for \"sluice install\"",
		                    args->items[0]);
	int r = check_flags(err);
	if (r < 0)
		return r;
	const struct cli_install_params p = {
	    .ns = g_flags.namespace_,
	    .registry = o.registry,
	    .log_level = o.log_level,
	    .cluster_domain = o.cluster_domain,
	    .watch_all_namespaces = o.watch_all_namespaces,
	};
	if (o.export_) {
		_cleanup_buf_ struct sl_buf out;
		sl_buf_init(&out, 0);
		if ((r = render(&p, &out, err)) < 0)
			return r;
		if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
			return sl_error_errno(err, errno, SL_EIO,
			                      "writing the manifests to stdout");
		return 0;
	}
	cli_log_generate("generating manifests");
	_cleanup_(json_decrefp) json_t *objects = NULL;
	if ((r = cli_install_objects(&p, &objects, err)) < 0)
		return sl_error_wrap(err, r, "install failed");
	sl_log_success("manifests build completed");
	sl_log_action("installing components in %s namespace", g_flags.namespace_);
	return apply_all(objects, err);
}

int cmd_install(int argc, char **argv, struct sl_error *err)
{
	return cli_run("install", NULL, flags, argc, argv, run, err);
}
