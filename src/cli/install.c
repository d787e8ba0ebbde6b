/* install: the controller's manifests — Namespace, CRDs, RBAC, Service,
 * Deployment — as one YAML stream in apply order, with Flux's install flags
 * filled in. The manifests are the YAML files of config/, embedded at build time
 * (scripts/embed-files); their ${NAME} variables are the only thing this
 * file changes in them. Applying them needs the Kubernetes client; until
 * then --export is required and the stream goes to kubectl. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "cli/cli.h"
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

/* RFC 1123: a label (namespaces), or dot-separated labels (domains). */
static bool dns1123(const char *s, size_t max, bool dots)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool edge = i == 0 || i == n - 1 || (dots && (s[i - 1] == '.' || s[i + 1] == '.'));
		if (islower((unsigned char)c) || isdigit((unsigned char)c))
			continue;
		if (edge || !(c == '-' || (dots && c == '.')))
			return false;
	}
	return true;
}

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
	if (!dns1123(ns, 63, false))
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
	if (!dns1123(o.cluster_domain, 253, true))
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

static int run(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len > 0)
		return sl_error_set(err, SL_EINVAL, "unknown command \"%s\" for \"sluice install\"",
		                    args->items[0]);
	int r = check_flags(err);
	if (r < 0)
		return r;
	if (!o.export_)
		return sl_error_set(
		    err, SL_EUNSUPPORTED,
		    "sluice cannot apply the manifests itself yet (that needs the controller's "
		    "Kubernetes client): run 'sluice install --export | kubectl apply "
		    "--server-side -f -'");

	const struct var vars[] = {
	    {"NAMESPACE", g_flags.namespace_},
	    {"VERSION", SLUICE_VERSION},
	    {"REGISTRY", o.registry},
	    {"CLUSTER_DOMAIN", o.cluster_domain},
	    {"LOG_LEVEL", o.log_level},
	    {"WATCH_ALL_NAMESPACES", o.watch_all_namespaces ? "true" : "false"},
	    {0},
	};
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, 0);
	sl_buf_printf(&out, "# sluice v%s install manifests for namespace %s\n", SLUICE_VERSION,
	              g_flags.namespace_);
	for (const struct cli_embedded_file *f = cli_config_files; f->name; f++) {
		r = expand(&out, f, vars, err);
		if (r < 0)
			return r;
	}
	if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
		return sl_error_errno(err, errno, SL_EIO, "writing the manifests to stdout");
	return 0;
}

int cmd_install(int argc, char **argv, struct sl_error *err)
{
	return cli_run("install", NULL, flags, argc, argv, run, err);
}
