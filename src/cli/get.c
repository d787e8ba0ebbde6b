/* get sources oci: Flux's table of OCIRepositories (flux2 get.go,
 * get_source_oci.go) — NAME REVISION SUSPENDED READY MESSAGE, NAMESPACE
 * first with -A, hex runs shortened as utils.TruncateHex does — plus
 * `-o json|yaml` printing the objects as kubectl does. */
#include <string.h>

#include "cli/kubecmd.h"
#include "controller/ocirepository.h"

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

/* Appends the cells of one row to cells: [NAMESPACE] NAME REVISION
 * SUSPENDED READY MESSAGE. */
static void summarise(const json_t *obj, struct sl_strv *cells)
{
	if (o.all_namespaces) {
		const char *ns = cli_json_str(obj, "metadata", "namespace", NULL);
		sl_strv_push(cells, ns ? ns : "");
	}
	const char *name = cli_json_str(obj, "metadata", "name", NULL);
	sl_strv_push(cells, name ? name : "");
	const char *revision = cli_json_str(obj, "status", "artifact", "revision", NULL);
	_cleanup_free_ char *short_rev = cli_truncate_hex(revision ? revision : "");
	sl_strv_push(cells, short_rev);
	bool suspended = json_is_true(json_object_get(json_object_get(obj, "spec"), "suspend"));
	sl_strv_push(cells, suspended ? "True" : "False");
	const char *status, *message;
	cli_ready_columns(obj, &status, &message);
	sl_strv_push(cells, status);
	_cleanup_free_ char *short_msg = cli_truncate_hex(message);
	sl_strv_push(cells, short_msg);
}

static const char *const header_ns[] = {"Namespace", "Name",  "Revision",
                                        "Suspended", "Ready", "Message"};

static void print_rows(const json_t *items, const struct selector *sel, bool header)
{
	_cleanup_(sl_strv_free) struct sl_strv cells = {0};
	size_t n_rows = 0, i;
	const json_t *item;
	json_array_foreach (items, i, item) {
		if (sel->type && !cli_status_matches(item, sel->type, sel->status))
			continue;
		summarise(item, &cells);
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
static int print_objects(json_t *all, const struct selector *sel, bool named, struct sl_error *err)
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
		                    "%s object '%s' does not match --status-selector",
		                    SL_OCIREPO_KIND,
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
	print_rows(one, w->sel, !w->printed_header);
	w->printed_header = true;
	return 0;
}

static int watch(struct sl_kube *k, const char *ns, const struct sl_kube_list_opts *lo,
                 const struct selector *sel, struct sl_error *err)
{
	int64_t deadline = cli_deadline();
	struct watch_state w = {.sel = sel};
	int r = 0;
	while (sl_now_ms() < deadline) {
		int64_t left = deadline == INT64_MAX ? 0 : (deadline - sl_now_ms()) / 1000;
		struct sl_kube_watch_opts wo = {
		    .resource_version = w.resource_version,
		    .label_selector = lo->label_selector,
		    .field_selector = lo->field_selector,
		    .timeout_seconds = deadline == INT64_MAX ? 0 : (int)(left > 0 ? left : 1),
		};
		r = sl_kube_watch(k, &sl_kube_res_ocirepositories, ns, &wo, on_event, &w, err);
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
	return r < 0 ? cli_ocirepo_not_found(k, r, NULL, err) : 0;
}

static int run(const struct sl_strv *args, struct sl_error *err)
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
		return watch(k, ns, &lo, &sel, err);
	_cleanup_(sl_kube_list_clear) struct sl_kube_list list = {0};
	r = sl_kube_list(k, &sl_kube_res_ocirepositories, ns, &lo, &list, err);
	if (r < 0)
		return cli_ocirepo_not_found(k, r, NULL, err);

	_cleanup_free_ char *in = where();
	/* Flux says so and exits 0 even for a name it did not find; a named
	 * object that is missing fails here, so scripts can test for it. */
	if (json_array_size(list.items) == 0 && name)
		return sl_error_set(err, SL_ENOTFOUND, "%s object '%s' not found in %s namespace",
		                    SL_OCIREPO_KIND, name, in);
	if (*o.output)
		return print_objects(list.items, &sel, name != NULL, err);
	if (json_array_size(list.items) == 0) {
		sl_log_failure("no %s objects found in %s namespace", SL_OCIREPO_KIND, in);
		return 0;
	}
	print_rows(list.items, &sel, true);
	return 0;
}

int cmd_get_sources_oci(int argc, char **argv, struct sl_error *err)
{
	return cli_run("get", "sources oci", flags, argc, argv, run, err);
}
