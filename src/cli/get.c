/* get sources oci and get kustomizations: Flux's tables (flux2 get.go,
 * get_source_oci.go, get_kustomization.go) — NAME REVISION SUSPENDED READY
 * MESSAGE, NAMESPACE first with -A, hex runs shortened as utils.TruncateHex
 * does — plus `-o json|yaml` printing the objects as kubectl does. The
 * kinds differ only in where the revision is. */
#include <string.h>

#include "cli/kubecmd.h"

struct listable {
	const struct cli_flux_kind *fk;
	const char *(*revision)(const json_t *obj);
};

static const char *artifact_revision(const json_t *obj)
{
	return cli_json_str(obj, "status", "artifact", "revision", NULL);
}

static const char *applied_revision(const json_t *obj)
{
	return cli_json_str(obj, "status", "lastAppliedRevision", NULL);
}

static const struct listable oci = {&cli_kind_ocirepository, artifact_revision};
static const struct listable kustomizations = {&cli_kind_kustomization, applied_revision};

static struct {
	bool all_namespaces, no_header, watch;
	char *status_selector, *label_selector, *output;
} o;

static struct flag flags[] = {
    {"all-namespaces", 'A', FLAG_BOOL, &o.all_namespaces, "false",
     "list the requested object(s) across all namespaces"},
    {"no-header", 0, FLAG_BOOL, &o.no_header, "false", "skip the header when printing the results"},
    {"status-selector", 0, FLAG_STRING, &o.status_selector, "",
     "specify the status condition name and the desired state to filter the get result, e.g. "
     "ready=false"},
    {"label-selector", 'l', FLAG_STRING, &o.label_selector, "",
     "filter objects by label selector, e.g. app=podinfo,tier!=db"},
    {"watch", 'w', FLAG_BOOL, &o.watch, "false",
     "After listing/getting the requested object, watch for changes."},
    {"output", 'o', FLAG_STRING, &o.output, "",
     "print the objects as json or yaml instead of the table"},
    {0},
};

struct selector {
	char *type, *status; /* NULL: no filter */
};

static int parse_selector(struct selector *s, struct sl_error *err)
{
	if (!*o.status_selector)
		return 0;
	const char *eq = strchr(o.status_selector, '=');
	if (!eq)
		return sl_error_set(err, SL_EINVAL,
		                    "expected status selector in type=status format, but found: %s",
		                    o.status_selector);
	s->type = sl_strndup(o.status_selector, (size_t)(eq - o.status_selector));
	s->status = sl_strdup(eq + 1);
	return 0;
}

static void selector_clear(struct selector *s)
{
	free(s->type);
	free(s->status);
}

static const char *const header_ns[] = {"Namespace", "Name",  "Revision",
                                        "Suspended", "Ready", "Message"};

static void print_rows(const struct listable *l, const json_t *items, const struct selector *sel,
                       bool header)
{
	_cleanup_(sl_strv_free) struct sl_strv cells = {0};
	size_t n_rows = 0, i;
	const json_t *item;
	json_array_foreach (items, i, item) {
		if (sel->type && !cli_status_matches(item, sel->type, sel->status))
			continue;
		cli_flux_row(item, l->revision(item), o.all_namespaces, &cells);
		n_rows++;
	}
	size_t n_cols = o.all_namespaces ? 6 : 5;
	const char *const *hdr = header && !o.no_header ? header_ns + 6 - n_cols : NULL;
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, 0);
	cli_table_print(&out, hdr, n_cols, (const char *const *)cells.items, n_rows);
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	fflush(stdout);
}

static void strip_managed_fields(json_t *items)
{
	size_t i;
	json_t *item;
	json_array_foreach (items, i, item)
		json_object_del(json_object_get(item, "metadata"), "managedFields");
}

/* kubectl's -o: the object when one was named, else a v1 List of those
 * the status selector keeps. */
static int print_objects(const struct listable *l, json_t *all, const struct selector *sel,
                         bool named, struct sl_error *err)
{
	_cleanup_(json_decrefp) json_t *items = json_array();
	size_t i;
	json_t *item;
	json_array_foreach (all, i, item) {
		if (!sel->type || cli_status_matches(item, sel->type, sel->status))
			json_array_append(items, item);
	}
	strip_managed_fields(items);
	if (named && json_array_size(items) == 0)
		return sl_error_set(err, SL_ENOTFOUND,
		                    "%s object '%s' does not match --status-selector", l->fk->kind,
		                    cli_json_str(json_array_get(all, 0), "metadata", "name", NULL));
	_cleanup_(json_decrefp) json_t *doc =
	    named ? json_incref(json_array_get(items, 0))
	          : json_pack("{s:s, s:O, s:s, s:{s:s}}", "apiVersion", "v1", "items", items,
	                      "kind", "List", "metadata", "resourceVersion", "");
	if (strcmp(o.output, "json") == 0) {
		_cleanup_free_ char *text = json_dumps(doc, JSON_INDENT(4) | JSON_SORT_KEYS);
		if (!text)
			return sl_error_set(err, SL_ENOMEM, "encoding the objects as JSON");
		printf("%s\n", text);
		return 0;
	}
	_cleanup_node_ struct sl_node *node = cli_node_from_json(doc);
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, 0);
	int r = sl_yaml_emit(&out, node, err);
	if (r < 0)
		return r;
	fwrite(out.data, 1, out.len, stdout);
	return 0;
}

static char *where(void)
{
	return o.all_namespaces ? sl_strdup("any") : sl_asprintf("\"%s\"", g_flags.namespace_);
}

struct watch_state {
	const struct listable *l;
	const struct selector *sel;
	bool printed_header;
	char *resource_version;
};

static int on_event(void *userdata, const struct sl_kube_watch_event *ev, struct sl_error *err)
{
	(void)err;
	struct watch_state *w = userdata;
	free(w->resource_version);
	w->resource_version = sl_strdup(ev->resource_version);
	if (ev->type == SL_KUBE_BOOKMARK)
		return 0;
	_cleanup_(json_decrefp) json_t *one = json_pack("[O]", ev->object);
	/* Flux prints the header with the first event only, each row on its own. */
	print_rows(w->l, one, w->sel, !w->printed_header);
	w->printed_header = true;
	return 0;
}

static int watch(struct sl_kube *k, const struct listable *l, const char *ns,
                 const struct sl_kube_list_opts *lo, const struct selector *sel,
                 struct sl_error *err)
{
	int64_t deadline = cli_deadline();
	struct watch_state w = {.l = l, .sel = sel};
	int r = 0;
	while (sl_now_ms() < deadline) {
		int64_t left = deadline == INT64_MAX ? 0 : (deadline - sl_now_ms()) / 1000;
		struct sl_kube_watch_opts wo = {
		    .resource_version = w.resource_version,
		    .label_selector = lo->label_selector,
		    .field_selector = lo->field_selector,
		    .timeout_seconds = deadline == INT64_MAX ? 0 : (int)(left > 0 ? left : 1),
		};
		r = sl_kube_watch(k, l->fk->res, ns, &wo, on_event, &w, err);
		if (r == SL_KUBE_EGONE) {
			/* Too old to resume: start over from the current state. */
			free(w.resource_version);
			w.resource_version = NULL;
			r = 0;
			continue;
		}
		if (r < 0)
			break;
	}
	free(w.resource_version);
	return r < 0 ? cli_flux_not_found(k, l->fk, r, NULL, err) : 0;
}

static int get(const struct listable *l, const struct sl_strv *args, struct sl_error *err)
{
	int r = cli_check_namespace(err);
	if (r < 0 || (r = cli_check_output_format(o.output, err)) < 0)
		return r;
	if (o.watch && *o.output)
		return sl_error_set(err, SL_EINVAL, "--watch prints the table: drop --output");
	_cleanup_(selector_clear) struct selector sel = {0};
	if ((r = parse_selector(&sel, err)) < 0)
		return r;
	const char *name = args->len ? args->items[0] : NULL;
	_cleanup_free_ char *field_selector = name ? sl_asprintf("metadata.name=%s", name) : NULL;
	struct sl_kube_list_opts lo = {
	    .label_selector = *o.label_selector ? o.label_selector : NULL,
	    .field_selector = field_selector,
	};
	const char *ns = o.all_namespaces ? NULL : g_flags.namespace_;

	_cleanup_(sl_kube_freep) struct sl_kube *k = NULL;
	if ((r = cli_kube_open(&k, err)) < 0)
		return r;
	if (o.watch)
		return watch(k, l, ns, &lo, &sel, err);
	_cleanup_(sl_kube_list_clear) struct sl_kube_list list = {0};
	r = sl_kube_list(k, l->fk->res, ns, &lo, &list, err);
	if (r < 0)
		return cli_flux_not_found(k, l->fk, r, NULL, err);

	_cleanup_free_ char *in = where();
	/* Flux says so and exits 0 even for a name it did not find; a named
	 * object that is missing fails here, so scripts can test for it. */
	if (json_array_size(list.items) == 0 && name)
		return sl_error_set(err, SL_ENOTFOUND, "%s object '%s' not found in %s namespace",
		                    l->fk->kind, name, in);
	if (*o.output)
		return print_objects(l, list.items, &sel, name != NULL, err);
	if (json_array_size(list.items) == 0) {
		sl_log_failure("no %s objects found in %s namespace", l->fk->kind, in);
		return 0;
	}
	print_rows(l, list.items, &sel, true);
	return 0;
}

static int run_sources_oci(const struct sl_strv *args, struct sl_error *err)
{
	return get(&oci, args, err);
}

static int run_kustomizations(const struct sl_strv *args, struct sl_error *err)
{
	return get(&kustomizations, args, err);
}

int cmd_get_sources_oci(int argc, char **argv, struct sl_error *err)
{
	return cli_run("get", "sources oci", flags, argc, argv, run_sources_oci, err);
}

int cmd_get_kustomizations(int argc, char **argv, struct sl_error *err)
{
	return cli_run("get", "kustomizations", flags, argc, argv, run_kustomizations, err);
}
