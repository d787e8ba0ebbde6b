#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/kubecmd.h"
#include "controller/ocirepository.h"

int cli_check_namespace(struct sl_error *err)
{
	const char *ns = g_flags.namespace_;
	if (!ns || !cli_dns1123(ns, 63, false))
		return sl_error_set(err, SL_EINVAL,
		                    "invalid namespace \"%s\": must be a lowercase RFC 1123 label",
		                    ns ? ns : "");
	return 0;
}

int cli_kube_open(struct sl_kube **ret, struct sl_error *err)
{
	struct sl_kube_config_opts kopts = {
	    .kubeconfig = g_flags.kubeconfig && *g_flags.kubeconfig ? g_flags.kubeconfig : NULL,
	    .context = g_flags.context && *g_flags.context ? g_flags.context : NULL,
	};
	_cleanup_(sl_kube_config_freep) struct sl_kube_config *cfg = NULL;
	int r = sl_kube_config_load(&kopts, &cfg, err);
	if (r < 0)
		return r;
	/* One request never outlives the whole command's --timeout. */
	struct sl_kube_client_opts copts = {
	    .field_manager = CLI_FIELD_MANAGER,
	    .timeout_ms =
	        g_flags.timeout_ms > 0 && g_flags.timeout_ms < 60000 ? g_flags.timeout_ms : 0,
	};
	return sl_kube_new(cfg, &copts, ret, err);
}

int64_t cli_deadline(void)
{
	return g_flags.timeout_ms > 0 ? sl_now_ms() + g_flags.timeout_ms : INT64_MAX;
}

bool cli_poll_sleep(int64_t deadline)
{
	int64_t now = sl_now_ms();
	if (now >= deadline)
		return false;
	int64_t ms = deadline - now < CLI_POLL_INTERVAL_MS ? deadline - now : CLI_POLL_INTERVAL_MS;
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0)
		;
	return true;
}

const char *cli_timeout_text(void)
{
	static char text[64];
	cli_go_duration(g_flags.timeout_ms, text);
	return text;
}

static void log_line(const char *symbol, const char *fmt, va_list ap)
{
	char line[SL_ERROR_MAX];
	vsnprintf(line, sizeof(line), fmt, ap);
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	fprintf(stderr, "%s %s\n", symbol, line);
}

void cli_log_waiting(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line("◎", fmt, ap);
	va_end(ap);
}

void cli_log_generate(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line("✚", fmt, ap);
	va_end(ap);
}

int cli_confirm(const char *question, const char *silent_flag, struct sl_error *err)
{
	if (!isatty(STDIN_FILENO))
		return sl_error_set(err, SL_EINVAL,
		                    "cannot ask \"%s\": stdin is not a terminal (pass %s to go "
		                    "ahead without confirmation)",
		                    question, silent_flag);
	fprintf(stderr, "? %s [y/N] ", question);
	fflush(stderr);
	char answer[64] = "";
	if (!fgets(answer, sizeof(answer), stdin))
		answer[0] = '\0';
	answer[strcspn(answer, "\r\n")] = '\0';
	if (strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0)
		return 0;
	return sl_error_set(err, SL_EINVAL, "aborting");
}

char *cli_object_subject(const json_t *obj)
{
	const char *kind = cli_json_str(obj, "kind", NULL);
	const char *ns = cli_json_str(obj, "metadata", "namespace", NULL);
	const char *name = cli_json_str(obj, "metadata", "name", NULL);
	if (ns && *ns)
		return sl_asprintf("%s/%s/%s", kind ? kind : "", ns, name ? name : "");
	return sl_asprintf("%s/%s", kind ? kind : "", name ? name : "");
}

int cli_apply(struct sl_kube *k, const json_t *obj, const char **ret_action, json_t **ret_obj,
              struct sl_error *err)
{
	_cleanup_free_ char *subject = cli_object_subject(obj);
	struct sl_kube_resource res;
	int r = sl_kube_resource_of(k, obj, &res, err);
	if (r < 0)
		return sl_error_wrap(err, r, "applying %s", subject);
	const char *ns = res.namespaced ? cli_json_str(obj, "metadata", "namespace", NULL) : NULL;
	const char *name = cli_json_str(obj, "metadata", "name", NULL);
	if (!name)
		return sl_error_set(err, SL_EINVAL, "applying %s: no metadata.name", subject);
	/* Flux's change set tells created from configured from unchanged; the
	 * resourceVersion before and after says the same. */
	_cleanup_(json_decrefp) json_t *before = NULL;
	r = sl_kube_get(k, &res, ns, name, &before, err);
	if (r < 0 && r != SL_ENOTFOUND)
		return sl_error_wrap(err, r, "applying %s", subject);
	sl_error_clear(err);
	struct sl_kube_write_opts opts = {.field_manager = CLI_FIELD_MANAGER, .force = true};
	_cleanup_(json_decrefp) json_t *after = NULL;
	r = sl_kube_apply(k, &res, obj, &opts, &after, err);
	if (r < 0)
		return sl_error_wrap(err, r, "applying %s", subject);
	if (ret_action) {
		const char *rv0 = cli_json_str(before, "metadata", "resourceVersion", NULL);
		const char *rv1 = cli_json_str(after, "metadata", "resourceVersion", NULL);
		*ret_action = !before                               ? "created"
		              : rv0 && rv1 && strcmp(rv0, rv1) == 0 ? "unchanged"
		                                                    : "configured";
	}
	if (ret_obj)
		*ret_obj = TAKE_PTR(after);
	return 0;
}

const struct sl_kube_resource cli_res_kustomizations = {
    .group = "kustomize.toolkit.fluxcd.io",
    .version = "v1",
    .resource = "kustomizations",
    .kind = "Kustomization",
    .namespaced = true,
};

const struct cli_flux_kind cli_kind_ocirepository = {
    .res = &sl_kube_res_ocirepositories,
    .kind = SL_OCIREPO_KIND,
    .api = SL_OCIREPO_API,
    .human = "source oci",
};

const struct cli_flux_kind cli_kind_kustomization = {
    .res = &cli_res_kustomizations,
    .kind = "Kustomization",
    .api = "kustomize.toolkit.fluxcd.io/v1",
    .human = "kustomization",
};

int cli_flux_not_found(struct sl_kube *k, const struct cli_flux_kind *fk, int r, const char *name,
                       struct sl_error *err)
{
	if (r != SL_ENOTFOUND)
		return r;
	struct sl_kube_resource res;
	struct sl_error derr = {0};
	int d = sl_kube_discover(k, fk->api, fk->kind, &res, &derr);
	if (d == SL_ENOTFOUND)
		return sl_error_set(err, SL_ENOTFOUND,
		                    "the cluster does not serve %s (%s): install the CRD with "
		                    "'sluice install'",
		                    fk->kind, fk->api);
	if (d == 0 && name)
		return sl_error_set(err, SL_ENOTFOUND, "%s.%s \"%s\" not found", fk->res->resource,
		                    fk->res->group, name);
	return r;
}

int cli_flux_get(struct sl_kube *k, const struct cli_flux_kind *fk, const char *ns,
                 const char *name, json_t **ret_obj, struct sl_error *err)
{
	int r = sl_kube_get(k, fk->res, ns, name, ret_obj, err);
	return r < 0 ? cli_flux_not_found(k, fk, r, name, err) : 0;
}

int cli_flux_wait(struct sl_kube *k, const struct cli_flux_kind *fk, const char *ns,
                  const char *name, const char *requested_at, json_t **ret_obj,
                  struct sl_error *err)
{
	int64_t deadline = cli_deadline();
	char awaited[SL_ERROR_MAX / 2];
	for (;;) {
		_cleanup_(json_decrefp) json_t *obj = NULL;
		int r = cli_flux_get(k, fk, ns, name, &obj, err);
		if (r < 0)
			return r == SL_EINVAL ? SL_EHTTP : r;
		const char *msg;
		switch (cli_flux_readiness(obj, requested_at, &msg)) {
		case CLI_READY:
			if (ret_obj)
				*ret_obj = TAKE_PTR(obj);
			return 0;
		case CLI_FAILED:
			if (!*msg)
				return sl_error_set(err, SL_EINVAL, "%s reconciliation failed",
				                    fk->kind);
			return sl_error_set(err, SL_EINVAL, "%s", msg);
		case CLI_PENDING: snprintf(awaited, sizeof(awaited), "%s", msg); break;
		}
		if (!cli_poll_sleep(deadline))
			return sl_error_set(err, SL_ENET,
			                    "timed out after %s waiting for %s %s/%s to be "
			                    "reconciled (%s): is the controller running?",
			                    cli_timeout_text(), fk->kind, ns, name, awaited);
	}
}

int cli_ocirepo_not_found(struct sl_kube *k, int r, const char *name, struct sl_error *err)
{
	return cli_flux_not_found(k, &cli_kind_ocirepository, r, name, err);
}

int cli_ocirepo_get(struct sl_kube *k, const char *ns, const char *name, json_t **ret_obj,
                    struct sl_error *err)
{
	return cli_flux_get(k, &cli_kind_ocirepository, ns, name, ret_obj, err);
}

int cli_ocirepo_wait(struct sl_kube *k, const char *ns, const char *name, const char *requested_at,
                     json_t **ret_obj, struct sl_error *err)
{
	return cli_flux_wait(k, &cli_kind_ocirepository, ns, name, requested_at, ret_obj, err);
}

void cli_reconcile_request_value(char out[64])
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	cli_rfc3339_nano(&now, out);
}
