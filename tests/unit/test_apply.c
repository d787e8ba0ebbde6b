/* controller/apply: inventory ids as cli-utils writes and reads them, the
 * stale objects prune deletes and their order, the apply stages and
 * ReconcileOrder, Flux's normalisation before apply, change-set subjects,
 * owner marks, and kstatus's verdict for every kind and rule of
 * spec/kustomize-controller.md §5. Objects are written as JSON with single
 * quotes (none of the texts needs one) to keep the tables readable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "controller/apply.h"

/* ---- helpers ------------------------------------------------------------ */

/* JSON from text with ' for ". */
static json_t *J(const char *text)
{
	_cleanup_free_ char *dq = sl_strdup(text);
	for (char *c = dq; *c; c++)
		if (*c == '\'')
			*c = '"';
	json_error_t jerr;
	json_t *v = json_loads(dq, JSON_DECODE_ANY, &jerr);
	if (!v)
		fail_msg("bad test JSON (%s): %s", jerr.text, text);
	return v;
}

static void assert_json_equal(const json_t *got, const char *want_text, const char *what)
{
	json_t *want = J(want_text);
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY);
		char *w = json_dumps(want, JSON_SORT_KEYS | JSON_ENCODE_ANY);
		fail_msg("%s:\n got  %s\n want %s", what, g, w);
	}
	json_decref(want);
}

#define REF(ns, n, g, k, v)                                                                        \
	((struct sl_object_ref){.namespace_ = (char *)(ns),                                        \
	                        .name = (char *)(n),                                               \
	                        .group = (char *)(g),                                              \
	                        .kind = (char *)(k),                                               \
	                        .version = (char *)(v)})

static void assert_ref(const struct sl_object_ref *got, const struct sl_object_ref *want,
                       const char *what)
{
	const char *g[] = {got->namespace_, got->name, got->group, got->kind, got->version};
	const char *w[] = {want->namespace_, want->name, want->group, want->kind, want->version};
	static const char *const field[] = {"namespace", "name", "group", "kind", "version"};
	for (size_t i = 0; i < SL_ARRAY_SIZE(g); i++) {
		if (!g[i] != !w[i] || (g[i] && strcmp(g[i], w[i]) != 0))
			fail_msg("%s: %s is \"%s\", want \"%s\"", what, field[i],
			         g[i] ? g[i] : "(null)", w[i] ? w[i] : "(null)");
	}
}

static char *now_plus(long seconds, const char *fmt)
{
	time_t t = time(NULL) + seconds;
	struct tm tm;
	gmtime_r(&t, &tm);
	char buf[64];
	strftime(buf, sizeof(buf), fmt, &tm);
	return sl_strdup(buf);
}

/* ---- inventory ids -------------------------------------------------------- */

static const struct {
	const char *ns, *name, *group, *kind, *id;
} id_cases[] = {
    {"default", "podinfo", "", "Service", "default_podinfo__Service"},
    {"", "apps", "", "Namespace", "_apps__Namespace"},
    {"default", "podinfo", "apps", "Deployment", "default_podinfo_apps_Deployment"},
    {"", "widgets.example.com", "apiextensions.k8s.io", "CustomResourceDefinition",
     "_widgets.example.com_apiextensions.k8s.io_CustomResourceDefinition"},
    /* RBAC names keep their ':' as "__" */
    {"", "system:controller:foo", "rbac.authorization.k8s.io", "ClusterRole",
     "_system__controller__foo_rbac.authorization.k8s.io_ClusterRole"},
    {"", "system:auth", "rbac.authorization.k8s.io", "ClusterRoleBinding",
     "_system__auth_rbac.authorization.k8s.io_ClusterRoleBinding"},
    {"kube-system", "ext:reader", "rbac.authorization.k8s.io", "Role",
     "kube-system_ext__reader_rbac.authorization.k8s.io_Role"},
    {"kube-system", "ext:reader", "rbac.authorization.k8s.io", "RoleBinding",
     "kube-system_ext__reader_rbac.authorization.k8s.io_RoleBinding"},
    /* ... but only RBAC kinds in the RBAC group */
    {"", "a:b", "example.com", "ClusterRole", "_a:b_example.com_ClusterRole"},
    {"ns", "a:b", "example.com", "Widget", "ns_a:b_example.com_Widget"},
    {"", "a:b", "rbac.authorization.k8s.io", "Other", "_a:b_rbac.authorization.k8s.io_Other"},
};

static void inventory_id_matches_cli_utils(void **state)
{
	(void)state;
	for (size_t i = 0; i < SL_ARRAY_SIZE(id_cases); i++) {
		struct sl_object_ref ref = REF(id_cases[i].ns, id_cases[i].name, id_cases[i].group,
		                               id_cases[i].kind, "v1");
		_cleanup_free_ char *id = sl_inventory_id(&ref);
		if (strcmp(id, id_cases[i].id) != 0)
			fail_msg("id of %s/%s: got %s, want %s", id_cases[i].kind, id_cases[i].name,
			         id, id_cases[i].id);

		/* and reads back to the same reference, version aside */
		struct sl_object_ref back = {0};
		struct sl_error err = {0};
		if (sl_inventory_id_parse(id, &back, &err) < 0)
			fail_msg("parsing %s: %s", id, err.msg);
		struct sl_object_ref want = ref;
		want.version = NULL;
		assert_ref(&back, &want, id);
		sl_object_ref_clear(&back);
	}
}

static void inventory_id_parse_decodes_colons_for_every_kind(void **state)
{
	(void)state;
	static const struct {
		const char *id;
		struct sl_object_ref want;
	} cases[] = {
	    {"ns_a__b_example.com_Widget", REF("ns", "a:b", "example.com", "Widget", NULL)},
	    {"_a__b__c__Namespace", REF("", "a:b:c", "", "Namespace", NULL)},
	    {"ns_a___g_K", REF("ns", "a:", "g", "K", NULL)},
	    {"ns_n__K", REF("ns", "n", "", "K", NULL)},
	    {"_n__K", REF("", "n", "", "K", NULL)},
	    {"a.b-c_x.y_g.io_Kind", REF("a.b-c", "x.y", "g.io", "Kind", NULL)},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		struct sl_object_ref got = {0};
		struct sl_error err = {0};
		if (sl_inventory_id_parse(cases[i].id, &got, &err) < 0)
			fail_msg("parsing %s: %s", cases[i].id, err.msg);
		assert_ref(&got, &cases[i].want, cases[i].id);
		sl_object_ref_clear(&got);
	}
}

static void inventory_id_parse_rejects_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",             /* no separator at all */
	    "nounderscore", /* idem */
	    "ns_onlyname",  /* no kind separator after the namespace... */
	    "ns_name_kind", /* ...or no group separator */
	    "ns_a_b_g_K",   /* a '_' left in the name: too many fields */
	    "ns_a___b_g_K", /* "a:_b" */
	    "ns___g_K",     /* name "_" */
	    "ns__g_K",      /* empty name */
	    "ns_n_g_",      /* empty kind */
	    "___",          /* empty everything */
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		struct sl_object_ref got = REF("untouched", NULL, NULL, NULL, NULL);
		struct sl_error err = {0};
		int r = sl_inventory_id_parse(bad[i], &got, &err);
		if (r != SL_EINVAL)
			fail_msg("parsing \"%s\" returned %d, want SL_EINVAL", bad[i], r);
		assert_true(err.msg[0] != '\0');
		assert_string_equal(got.namespace_, "untouched"); /* not clobbered */
	}
	struct sl_object_ref got = {0};
	struct sl_error err = {0};
	assert_int_equal(sl_inventory_id_parse(NULL, &got, &err), SL_EINVAL);
}

static void object_ref_from_json_reads_identity(void **state)
{
	(void)state;
	static const struct {
		const char *obj;
		struct sl_object_ref want;
	} ok[] = {
	    {"{'apiVersion':'v1','kind':'Service','metadata':{'name':'podinfo','namespace':'apps'}"
	     "}",
	     REF("apps", "podinfo", "", "Service", "v1")},
	    {"{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'x','namespace':'d'}}",
	     REF("d", "x", "apps", "Deployment", "v1")},
	    {"{'apiVersion':'v1','kind':'Namespace','metadata':{'name':'apps'}}",
	     REF("", "apps", "", "Namespace", "v1")},
	    {"{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'ClusterRole',"
	     "'metadata':{'name':'system:x','namespace':null}}",
	     REF("", "system:x", "rbac.authorization.k8s.io", "ClusterRole", "v1")},
	    {"{'apiVersion':'example.com/v1beta2','kind':'Widget','metadata':{'name':'w'}}",
	     REF("", "w", "example.com", "Widget", "v1beta2")},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(ok); i++) {
		json_t *obj = J(ok[i].obj);
		struct sl_object_ref ref = {0};
		struct sl_error err = {0};
		if (sl_object_ref_from_json(obj, &ref, &err) < 0)
			fail_msg("%s: %s", ok[i].obj, err.msg);
		assert_ref(&ref, &ok[i].want, ok[i].obj);
		sl_object_ref_clear(&ref);
		json_decref(obj);
	}

	static const struct {
		const char *obj, *msg;
	} bad[] = {
	    {"{'kind':'Service','metadata':{'name':'a'}}", "no apiVersion"},
	    {"{'apiVersion':'','kind':'Service','metadata':{'name':'a'}}", "no apiVersion"},
	    {"{'apiVersion':'v1','metadata':{'name':'a'}}", "no kind"},
	    {"{'apiVersion':'v1','kind':'Service','metadata':{}}", "Service has no metadata.name"},
	    {"{'apiVersion':'v1','kind':'Service'}", "Service has no metadata.name"},
	    {"{'apiVersion':'v1','kind':'Service','metadata':{'name':7}}", "no metadata.name"},
	    {"{'apiVersion':'a/b/c','kind':'Service','metadata':{'name':'a'}}", "apiVersion"},
	    {"{'apiVersion':'v1','kind':'Service','metadata':{'name':'a','namespace':1}}",
	     "metadata.namespace"},
	    {"['not','an','object']", "not a JSON object"},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		json_t *obj = J(bad[i].obj);
		struct sl_object_ref ref = {0};
		struct sl_error err = {0};
		assert_int_equal(sl_object_ref_from_json(obj, &ref, &err), SL_EINVAL);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("%s: message \"%s\" lacks \"%s\"", bad[i].obj, err.msg,
			         bad[i].msg);
		assert_null(ref.name);
		json_decref(obj);
	}
	struct sl_object_ref ref = {0};
	struct sl_error err = {0};
	assert_int_equal(sl_object_ref_from_json(NULL, &ref, &err), SL_EINVAL);
}

/* ---- inventories ------------------------------------------------------------ */

static void inventory_records_id_and_version(void **state)
{
	(void)state;
	json_t *inv = sl_inventory_new();
	assert_json_equal(inv, "{'entries':[]}", "new inventory");
	struct sl_object_ref svc = REF("default", "podinfo", "", "Service", "v1");
	struct sl_object_ref ns = REF("", "podinfo", "", "Namespace", "v1");
	struct sl_object_ref dep = REF("default", "podinfo", "apps", "Deployment", "v1");
	struct sl_object_ref cr = REF("", "a:b", "rbac.authorization.k8s.io", "ClusterRole", "v1");
	sl_inventory_add(inv, &svc);
	sl_inventory_add(inv, &ns);
	sl_inventory_add(inv, &dep);
	sl_inventory_add(inv, &cr);
	assert_json_equal(inv,
	                  "{'entries':["
	                  "{'id':'default_podinfo__Service','v':'v1'},"
	                  "{'id':'_podinfo__Namespace','v':'v1'},"
	                  "{'id':'default_podinfo_apps_Deployment','v':'v1'},"
	                  "{'id':'_a__b_rbac.authorization.k8s.io_ClusterRole','v':'v1'}]}",
	                  "inventory in change-set order");
	json_decref(inv);
}

static void stale_objects_are_old_minus_new_in_reverse_apply_order(void **state)
{
	(void)state;
	json_t *old =
	    J("{'entries':["
	      "{'id':'apps_web_apps_Deployment','v':'v1'},"
	      "{'id':'_apps__Namespace','v':'v1'},"
	      "{'id':'_widgets.example.com_apiextensions.k8s.io_CustomResourceDefinition',"
	      "'v':'v1'},"
	      "{'id':'apps_cfg__ConfigMap','v':'v1'},"
	      "{'id':'apps_w1_example.com_Widget','v':'v1alpha1'},"
	      "{'id':'_hook_admissionregistration.k8s.io_ValidatingWebhookConfiguration',"
	      "'v':'v1'},"
	      "{'id':'_system__x_rbac.authorization.k8s.io_ClusterRole','v':'v1'},"
	      "{'id':'apps_svc__Service','v':'v1'},"
	      "{'id':'apps_a__b_example.com_Widget','v':'v1'},"
	      "{'id':'not-an-id','v':'v1'},"
	      "{'v':'v1'},"
	      "{'id':42},"
	      "'junk',"
	      "{'id':'apps_cfg__ConfigMap','v':'v1'}]}");
	/* The Deployment moved to another version: same object, not stale.
	 * The Service stays. The Widget "a:b" is the one old spelt "a__b". */
	json_t *new = J("{'entries':["
	                "{'id':'apps_web_apps_Deployment','v':'v2'},"
	                "{'id':'apps_svc__Service','v':'v1'},"
	                "{'id':'apps_a:b_example.com_Widget','v':'v1'}]}");
	struct sl_object_ref *stale = NULL;
	size_t n = 0;
	struct sl_error err = {0};
	assert_int_equal(sl_inventory_stale(old, new, &stale, &n, &err), 0);
	const struct sl_object_ref want[] = {
	    REF("", "hook", "admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "v1"),
	    REF("apps", "w1", "example.com", "Widget", "v1alpha1"),
	    REF("apps", "cfg", "", "ConfigMap", "v1"),
	    REF("", "system:x", "rbac.authorization.k8s.io", "ClusterRole", "v1"),
	    REF("", "apps", "", "Namespace", "v1"),
	    REF("", "widgets.example.com", "apiextensions.k8s.io", "CustomResourceDefinition",
	        "v1"),
	};
	if (n != SL_ARRAY_SIZE(want))
		fail_msg("%zu stale objects, want %zu", n, SL_ARRAY_SIZE(want));
	for (size_t i = 0; i < n; i++) {
		char what[32];
		snprintf(what, sizeof(what), "stale[%zu]", i);
		assert_ref(&stale[i], &want[i], what);
		sl_object_ref_clear(&stale[i]);
	}
	free(stale);

	/* Nothing new: everything old is stale; nothing old: nothing is. */
	assert_int_equal(sl_inventory_stale(new, NULL, &stale, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(stale[0].kind, "Widget"); /* reverse order: other kinds... */
	assert_string_equal(stale[1].kind, "Deployment");
	assert_string_equal(stale[1].version, "v2");
	assert_string_equal(stale[2].kind, "Service"); /* ...before the Service */
	for (size_t i = 0; i < n; i++)
		sl_object_ref_clear(&stale[i]);
	free(stale);
	assert_int_equal(sl_inventory_stale(NULL, new, &stale, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(stale);
	json_t *empty = J("{}");
	assert_int_equal(sl_inventory_stale(empty, new, &stale, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sl_inventory_stale(new, new, &stale, &n, &err), 0);
	assert_int_equal(n, 0);

	/* An inventory that is not one is an error, not an empty set. */
	json_t *bad = J("{'entries':{}}");
	json_t *arr = J("[]");
	assert_int_equal(sl_inventory_stale(bad, new, &stale, &n, &err), SL_EINVAL);
	assert_int_equal(sl_inventory_stale(old, arr, &stale, &n, &err), SL_EINVAL);
	assert_non_null(strstr(err.msg, "new inventory"));
	json_decref(bad);
	json_decref(arr);
	json_decref(empty);
	json_decref(old);
	json_decref(new);
}

static void union_keeps_a_first_and_adds_what_b_has_more(void **state)
{
	(void)state;
	json_t *a = J("{'entries':["
	              "{'id':'apps_web_apps_Deployment','v':'v1'},"
	              "{'id':'apps_a__b_example.com_Widget','v':'v1'},"
	              "{'id':'apps_web_apps_Deployment','v':'v1'}]}");
	json_t *b = J("{'entries':["
	              "{'id':'_apps__Namespace','v':'v1'},"
	              "{'id':'apps_web_apps_Deployment','v':'v2'},"
	              "{'id':'apps_a:b_example.com_Widget','v':'v2'},"
	              "{'id':'weird','v':'v1'},"
	              "{'id':'weird','v':'v1'},"
	              "{'v':'v1'},"
	              "{'id':'apps_svc__Service','v':'v1'}]}");
	json_t *u = sl_inventory_union(a, b);
	assert_json_equal(u,
	                  "{'entries':["
	                  "{'id':'apps_web_apps_Deployment','v':'v1'},"
	                  "{'id':'apps_a__b_example.com_Widget','v':'v1'},"
	                  "{'id':'_apps__Namespace','v':'v1'},"
	                  "{'id':'weird','v':'v1'},"
	                  "{'id':'apps_svc__Service','v':'v1'}]}",
	                  "union");
	json_decref(u);
	u = sl_inventory_union(NULL, b);
	assert_int_equal(json_array_size(json_object_get(u, "entries")), 5);
	json_decref(u);
	u = sl_inventory_union(NULL, NULL);
	assert_json_equal(u, "{'entries':[]}", "union of nothing");
	json_decref(u);
	/* the inputs are left alone */
	assert_int_equal(json_array_size(json_object_get(a, "entries")), 3);
	json_decref(a);
	json_decref(b);
}

/* ---- stages and order ------------------------------------------------------- */

static void stage_of_follows_apply_all_staged(void **state)
{
	(void)state;
	static const struct {
		const char *group, *kind;
		enum sl_apply_stage want;
	} cases[] = {
	    {"apiextensions.k8s.io", "CustomResourceDefinition", SL_STAGE_DEFINITIONS},
	    {"", "Namespace", SL_STAGE_DEFINITIONS},
	    {"rbac.authorization.k8s.io", "ClusterRole", SL_STAGE_DEFINITIONS},
	    {"example.com", "CustomResourceDefinition", SL_STAGE_REST},
	    {"example.com", "Namespace", SL_STAGE_REST},
	    {"example.com", "ClusterRole", SL_STAGE_REST},
	    {"rbac.authorization.k8s.io", "ClusterRoleBinding", SL_STAGE_REST},
	    {"rbac.authorization.k8s.io", "Role", SL_STAGE_REST},
	    {"storage.k8s.io", "StorageClass", SL_STAGE_CLASSES},
	    {"networking.k8s.io", "IngressClass", SL_STAGE_CLASSES},
	    {"gateway.networking.k8s.io", "GatewayClass", SL_STAGE_CLASSES},
	    {"cluster.x-k8s.io", "ClusterClass", SL_STAGE_CLASSES},
	    {"example.com", "WidgetClass", SL_STAGE_CLASSES},
	    {"example.com", "Classy", SL_STAGE_REST},
	    {"", "Service", SL_STAGE_REST},
	    {"apps", "Deployment", SL_STAGE_REST},
	    {NULL, NULL, SL_STAGE_REST},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		enum sl_apply_stage got = sl_apply_stage_of(cases[i].group, cases[i].kind);
		if (got != cases[i].want)
			fail_msg("stage of %s/%s: %d, want %d",
			         cases[i].group ? cases[i].group : "-",
			         cases[i].kind ? cases[i].kind : "-", got, cases[i].want);
	}
}

static const struct sl_object_ref sorted_refs[] = {
    REF("", "widgets.example.com", "apiextensions.k8s.io", "CustomResourceDefinition", "v1"),
    REF("", "apps", "", "Namespace", "v1"),
    REF("", "zeta", "", "Namespace", "v1"),
    REF("", "a:b", "rbac.authorization.k8s.io", "ClusterRole", "v1"),
    REF("", "c", "cluster.x-k8s.io", "ClusterClass", "v1"),
    REF("", "gvisor", "node.k8s.io", "RuntimeClass", "v1"),
    REF("", "high", "scheduling.k8s.io", "PriorityClass", "v1"),
    REF("", "fast", "storage.k8s.io", "StorageClass", "v1"),
    REF("", "snap", "snapshot.storage.k8s.io", "VolumeSnapshotClass", "v1"),
    REF("", "nginx", "networking.k8s.io", "IngressClass", "v1"),
    REF("", "gw", "gateway.networking.k8s.io", "GatewayClass", "v1"),
    REF("", "a:b", "rbac.authorization.k8s.io", "ClusterRoleBinding", "v1"),
    REF("apps", "quota", "", "ResourceQuota", "v1"),
    REF("apps", "sa", "", "ServiceAccount", "v1"),
    REF("apps", "r", "rbac.authorization.k8s.io", "Role", "v1"),
    REF("apps", "r", "rbac.authorization.k8s.io", "RoleBinding", "v1"),
    REF("apps", "a", "", "ConfigMap", "v1"),
    REF("apps", "b", "", "ConfigMap", "v1"),
    REF("other", "a", "", "ConfigMap", "v1"),
    REF("apps", "s", "", "Secret", "v1"),
    REF("apps", "svc", "", "Service", "v1"),
    REF("apps", "lr", "", "LimitRange", "v1"),
    REF("apps", "web", "apps", "Deployment", "v1"),
    REF("apps", "web", "example.com", "Deployment", "v1"), /* same index, later group */
    REF("apps", "db", "apps", "StatefulSet", "v1"),
    REF("apps", "nightly", "batch", "CronJob", "v1"),
    REF("apps", "pdb", "policy", "PodDisruptionBudget", "v1"),
    /* every other kind: by group, then kind */
    REF("apps", "data", "", "PersistentVolumeClaim", "v1"),
    REF("apps", "p", "", "Pod", "v1"),
    REF("apps", "agent", "apps", "DaemonSet", "v1"),
    REF("apps", "web", "autoscaling", "HorizontalPodAutoscaler", "v2"),
    REF("apps", "w", "example.com", "Widget", "v1"),
    REF("flux-system", "apps", "kustomize.toolkit.fluxcd.io", "Kustomization", "v1"),
    REF("", "hook", "admissionregistration.k8s.io", "MutatingWebhookConfiguration", "v1"),
    REF("", "hook", "admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "v1"),
};

static int order_qsort_cmp(const void *a, const void *b)
{
	return sl_apply_order_cmp(a, b);
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void apply_order_is_reconcile_order(void **state)
{
	(void)state;
	size_t n = SL_ARRAY_SIZE(sorted_refs);
	struct sl_object_ref refs[SL_ARRAY_SIZE(sorted_refs)];
	for (uint32_t seed = 1; seed <= 20; seed++) {
		memcpy(refs, sorted_refs, sizeof(refs));
		uint32_t x = seed * 2654435761u;
		for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates */
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			size_t j = x % (i + 1);
			struct sl_object_ref t = refs[i];
			refs[i] = refs[j];
			refs[j] = t;
		}
		qsort(refs, n, sizeof(refs[0]), order_qsort_cmp);
		for (size_t i = 0; i < n; i++) {
			if (sl_apply_order_cmp(&refs[i], &sorted_refs[i]) != 0)
				fail_msg("seed %u: position %zu is %s/%s/%s, want %s/%s/%s", seed,
				         i, refs[i].group, refs[i].kind, refs[i].name,
				         sorted_refs[i].group, sorted_refs[i].kind,
				         sorted_refs[i].name);
		}
	}
	/* a total order: reflexive and antisymmetric */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			assert_int_equal(sign(sl_apply_order_cmp(&sorted_refs[i], &sorted_refs[j])),
			                 i == j ? 0 : (i < j ? -1 : 1));
}

/* ---- normalisation ---------------------------------------------------------- */

static void normalize_matches_flux(void **state)
{
	(void)state;
	static const struct {
		const char *what, *in, *want;
	} cases[] = {
	    {"Deployment container ports get TCP, set protocols stay, status goes",
	     "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'a'},"
	     "'spec':{'template':{'spec':{"
	     "'containers':[{'name':'c','ports':[{'containerPort':80},"
	     "{'containerPort':53,'protocol':'UDP'},{'containerPort':81,'protocol':''}]}],"
	     "'initContainers':[{'name':'i','ports':[{'containerPort':1}]}],"
	     "'ephemeralContainers':[{'name':'e','ports':[{'containerPort':2}]}]}}},"
	     "'status':{'replicas':1}}",
	     "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'a'},"
	     "'spec':{'template':{'spec':{"
	     "'containers':[{'name':'c','ports':[{'containerPort':80,'protocol':'TCP'},"
	     "{'containerPort':53,'protocol':'UDP'},{'containerPort':81,'protocol':'TCP'}]}],"
	     "'initContainers':[{'name':'i','ports':[{'containerPort':1,'protocol':'TCP'}]}],"
	     "'ephemeralContainers':[{'name':'e','ports':[{'containerPort':2,'protocol':'TCP'}]}]"
	     "}}}}"},
	    {"Pod: spec",
	     "{'apiVersion':'v1','kind':'Pod','spec':{'containers':[{'ports':[{'containerPort':1}]}"
	     "]}}",
	     "{'apiVersion':'v1','kind':'Pod','spec':{'containers':[{'ports':[{'containerPort':1,"
	     "'protocol':'TCP'}]}]}}"},
	    {"StatefulSet",
	     "{'apiVersion':'apps/v1','kind':'StatefulSet','spec':{'template':{'spec':{"
	     "'containers':[{'ports':[{'containerPort':1}]}]}}}}",
	     "{'apiVersion':'apps/v1','kind':'StatefulSet','spec':{'template':{'spec':{"
	     "'containers':[{'ports':[{'containerPort':1,'protocol':'TCP'}]}]}}}}"},
	    {"DaemonSet",
	     "{'apiVersion':'apps/v1','kind':'DaemonSet','spec':{'template':{'spec':{"
	     "'containers':[{'ports':[{'containerPort':1}]}]}}}}",
	     "{'apiVersion':'apps/v1','kind':'DaemonSet','spec':{'template':{'spec':{"
	     "'containers':[{'ports':[{'containerPort':1,'protocol':'TCP'}]}]}}}}"},
	    {"ReplicaSet",
	     "{'apiVersion':'apps/v1','kind':'ReplicaSet','spec':{'template':{'spec':{"
	     "'containers':[{'ports':[{'containerPort':1}]}]}}}}",
	     "{'apiVersion':'apps/v1','kind':'ReplicaSet','spec':{'template':{'spec':{"
	     "'containers':[{'ports':[{'containerPort':1,'protocol':'TCP'}]}]}}}}"},
	    {"Job",
	     "{'apiVersion':'batch/v1','kind':'Job','spec':{'template':{'spec':{"
	     "'containers':[{'ports':[{'containerPort':1}]}]}}}}",
	     "{'apiVersion':'batch/v1','kind':'Job','spec':{'template':{'spec':{"
	     "'containers':[{'ports':[{'containerPort':1,'protocol':'TCP'}]}]}}}}"},
	    {"CronJob: spec.jobTemplate.spec.template.spec",
	     "{'apiVersion':'batch/v1','kind':'CronJob','spec':{'jobTemplate':{'spec':{'template':{"
	     "'spec':{'containers':[{'ports':[{'containerPort':1}]}]}}}}}}",
	     "{'apiVersion':'batch/v1','kind':'CronJob','spec':{'jobTemplate':{'spec':{'template':{"
	     "'spec':{'containers':[{'ports':[{'containerPort':1,'protocol':'TCP'}]}]}}}}}}"},
	    {"Service ports",
	     "{'apiVersion':'v1','kind':'Service','spec':{'ports':[{'port':80},"
	     "{'port':53,'protocol':'UDP'}]},'status':{'loadBalancer':{}}}",
	     "{'apiVersion':'v1','kind':'Service','spec':{'ports':[{'port':80,'protocol':'TCP'},"
	     "{'port':53,'protocol':'UDP'}]}}"},
	    {"a Deployment of another group is not a workload",
	     "{'apiVersion':'example.com/v1','kind':'Deployment','spec':{'template':{'spec':{"
	     "'containers':[{'ports':[{'containerPort':1}]}]}}},'status':{}}",
	     "{'apiVersion':'example.com/v1','kind':'Deployment','spec':{'template':{'spec':{"
	     "'containers':[{'ports':[{'containerPort':1}]}]}}}}"},
	    {"a Pod template in a Service is not looked at",
	     "{'apiVersion':'v1','kind':'Service','spec':{'template':{'spec':{"
	     "'containers':[{'ports':[{'containerPort':1}]}]}}}}",
	     "{'apiVersion':'v1','kind':'Service','spec':{'template':{'spec':{"
	     "'containers':[{'ports':[{'containerPort':1}]}]}}}}"},
	    {"Secret stringData merges into data, stringData wins",
	     "{'apiVersion':'v1','kind':'Secret','data':{'a':'b2xk','keep':'eA=='},"
	     "'stringData':{'a':'new','b':'hello'}}",
	     "{'apiVersion':'v1','kind':'Secret','data':{'a':'bmV3','keep':'eA==',"
	     "'b':'aGVsbG8='}}"},
	    {"Secret stringData without data",
	     "{'apiVersion':'v1','kind':'Secret','stringData':{'k':''}}",
	     "{'apiVersion':'v1','kind':'Secret','data':{'k':''}}"},
	    {"Secret empty stringData just goes",
	     "{'apiVersion':'v1','kind':'Secret','stringData':{}}",
	     "{'apiVersion':'v1','kind':'Secret'}"},
	    {"Secret stringData with a non-string is left alone",
	     "{'apiVersion':'v1','kind':'Secret','stringData':{'a':'x','n':1}}",
	     "{'apiVersion':'v1','kind':'Secret','stringData':{'a':'x','n':1}}"},
	    {"Secret data that is not an object is left alone",
	     "{'apiVersion':'v1','kind':'Secret','data':'x','stringData':{'a':'x'}}",
	     "{'apiVersion':'v1','kind':'Secret','data':'x','stringData':{'a':'x'}}"},
	    {"a CRD keeps its status",
	     "{'apiVersion':'apiextensions.k8s.io/v1','kind':'CustomResourceDefinition',"
	     "'status':{'conditions':[]}}",
	     "{'apiVersion':'apiextensions.k8s.io/v1','kind':'CustomResourceDefinition',"
	     "'status':{'conditions':[]}}"},
	    {"a CRD of another group does not",
	     "{'apiVersion':'example.com/v1','kind':'CustomResourceDefinition','status':{}}",
	     "{'apiVersion':'example.com/v1','kind':'CustomResourceDefinition'}"},
	    {"odd shapes are left alone",
	     "{'apiVersion':'apps/v1','kind':'Deployment','spec':{'template':{'spec':{"
	     "'containers':[7,{'ports':'x'},{'ports':[1,{'protocol':5},{'protocol':null}]}],"
	     "'initContainers':{}}}}}",
	     "{'apiVersion':'apps/v1','kind':'Deployment','spec':{'template':{'spec':{"
	     "'containers':[7,{'ports':'x'},{'ports':[1,{'protocol':5},{'protocol':'TCP'}]}],"
	     "'initContainers':{}}}}}"},
	    {"a spec that is not an object",
	     "{'apiVersion':'v1','kind':'Pod','spec':'x','status':1}",
	     "{'apiVersion':'v1','kind':'Pod','spec':'x'}"},
	    {"no apiVersion: only status goes",
	     "{'kind':'Service','spec':{'ports':[{'port':1}]},'status':{}}",
	     "{'kind':'Service','spec':{'ports':[{'port':1}]}}"},
	    {"Service ports not a list", "{'apiVersion':'v1','kind':'Service','spec':{'ports':{}}}",
	     "{'apiVersion':'v1','kind':'Service','spec':{'ports':{}}}"},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		json_t *obj = J(cases[i].in);
		sl_apply_normalize(obj);
		assert_json_equal(obj, cases[i].want, cases[i].what);
		json_decref(obj);
	}
	/* not objects at all */
	sl_apply_normalize(NULL);
	json_t *arr = J("[{'status':1}]");
	sl_apply_normalize(arr);
	assert_json_equal(arr, "[{'status':1}]", "an array");
	json_decref(arr);
}

/* ---- change sets and marks ------------------------------------------------- */

static void change_subjects_and_actions(void **state)
{
	(void)state;
	static const struct {
		struct sl_object_ref ref;
		const char *want;
	} cases[] = {
	    {REF("default", "podinfo", "", "Service", "v1"), "Service/default/podinfo"},
	    {REF("", "apps", "", "Namespace", "v1"), "Namespace/apps"},
	    {REF("", "system:x", "rbac.authorization.k8s.io", "ClusterRole", "v1"),
	     "ClusterRole/system:x"},
	    {REF(NULL, "w", "example.com", "Widget", "v1"), "Widget/w"},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *s = sl_change_subject(&cases[i].ref);
		assert_string_equal(s, cases[i].want);
	}
	assert_string_equal(sl_change_action_name(SL_CHANGE_CREATED), "created");
	assert_string_equal(sl_change_action_name(SL_CHANGE_CONFIGURED), "configured");
	assert_string_equal(sl_change_action_name(SL_CHANGE_UNCHANGED), "unchanged");
	assert_string_equal(sl_change_action_name(SL_CHANGE_DELETED), "deleted");
	assert_string_equal(sl_change_action_name(SL_CHANGE_SKIPPED), "skipped");
	assert_string_equal(sl_change_action_name(SL_CHANGE_UNKNOWN), "unknown");
	assert_string_equal(sl_change_action_name((enum sl_change_action)99), "unknown");
}

static void marks_are_labels_or_annotations_ignoring_case(void **state)
{
	(void)state;
	static const struct {
		const char *obj, *key, *value, *want_value;
		bool want_marked;
	} cases[] = {
	    {"{'metadata':{'labels':{'kustomize.toolkit.fluxcd.io/prune':'disabled'}}}",
	     SL_KS_ANN_PRUNE, "disabled", "disabled", true},
	    {"{'metadata':{'annotations':{'kustomize.toolkit.fluxcd.io/prune':'Disabled'}}}",
	     SL_KS_ANN_PRUNE, "disabled", "Disabled", true},
	    {"{'metadata':{'annotations':{'kustomize.toolkit.fluxcd.io/ssa':'IGNORE'}}}",
	     SL_KS_ANN_SSA, "Ignore", "IGNORE", true},
	    {"{'metadata':{'annotations':{'kustomize.toolkit.fluxcd.io/ssa':'ifnotpresent'}}}",
	     SL_KS_ANN_SSA, "IfNotPresent", "ifnotpresent", true},
	    {"{'metadata':{'annotations':{'kustomize.toolkit.fluxcd.io/ssa':'Merge'}}}",
	     SL_KS_ANN_SSA, "Ignore", "Merge", false},
	    /* the label is read first, but an annotation still marks */
	    {"{'metadata':{'labels':{'kustomize.toolkit.fluxcd.io/reconcile':'enabled'},"
	     "'annotations':{'kustomize.toolkit.fluxcd.io/reconcile':'disabled'}}}",
	     SL_KS_ANN_RECONCILE, "disabled", "enabled", true},
	    /* an empty label is no label */
	    {"{'metadata':{'labels':{'kustomize.toolkit.fluxcd.io/force':''},"
	     "'annotations':{'kustomize.toolkit.fluxcd.io/force':'Enabled'}}}",
	     SL_KS_ANN_FORCE, "enabled", "Enabled", true},
	    {"{'metadata':{'labels':{'kustomize.toolkit.fluxcd.io/name':'apps',"
	     "'kustomize.toolkit.fluxcd.io/namespace':'flux-system'}}}",
	     SL_KS_LABEL_NAMESPACE, "flux-system", "flux-system", true},
	    /* the key is matched exactly */
	    {"{'metadata':{'labels':{'Kustomize.toolkit.fluxcd.io/prune':'disabled'}}}",
	     SL_KS_ANN_PRUNE, "disabled", NULL, false},
	    {"{'metadata':{'labels':{'kustomize.toolkit.fluxcd.io/prune':false}}}", SL_KS_ANN_PRUNE,
	     "disabled", NULL, false},
	    {"{'metadata':{'labels':[]}}", SL_KS_ANN_PRUNE, "disabled", NULL, false},
	    {"{'metadata':'x'}", SL_KS_ANN_PRUNE, "disabled", NULL, false},
	    {"{}", SL_KS_ANN_PRUNE, "disabled", NULL, false},
	    {"[]", SL_KS_ANN_PRUNE, "disabled", NULL, false},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		json_t *obj = J(cases[i].obj);
		const char *v = sl_object_label_or_annotation(obj, cases[i].key);
		if (!v != !cases[i].want_value || (v && strcmp(v, cases[i].want_value) != 0))
			fail_msg("%s: value %s, want %s", cases[i].obj, v ? v : "NULL",
			         cases[i].want_value ? cases[i].want_value : "NULL");
		if (sl_object_marked(obj, cases[i].key, cases[i].value) != cases[i].want_marked)
			fail_msg("%s: marked %s=%s is not %d", cases[i].obj, cases[i].key,
			         cases[i].value, cases[i].want_marked);
		json_decref(obj);
	}
	assert_null(sl_object_label_or_annotation(NULL, SL_KS_ANN_PRUNE));
	assert_false(sl_object_marked(NULL, SL_KS_ANN_PRUNE, "disabled"));
}

/* ---- kstatus -------------------------------------------------------------- */

struct kcase {
	const char *what;
	const char *obj; /* NULL: no object */
	enum sl_kstatus want;
	const char *message; /* NULL: not checked */
};

static void check_kcases(const struct kcase *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *obj = cases[i].obj ? J(cases[i].obj) : NULL;
		char *msg = NULL;
		enum sl_kstatus got = sl_kstatus_compute(obj, &msg);
		assert_non_null(msg);
		if (got != cases[i].want)
			fail_msg("%s: %s (\"%s\"), want %s", cases[i].what, sl_kstatus_name(got),
			         msg, sl_kstatus_name(cases[i].want));
		if (cases[i].message && strcmp(msg, cases[i].message) != 0)
			fail_msg("%s: message \"%s\", want \"%s\"", cases[i].what, msg,
			         cases[i].message);
		/* the message is optional and does not change the verdict */
		assert_int_equal(sl_kstatus_compute(obj, NULL), got);
		free(msg);
		json_decref(obj);
	}
}

static void kstatus_names(void **state)
{
	(void)state;
	assert_string_equal(sl_kstatus_name(SL_KSTATUS_IN_PROGRESS), "InProgress");
	assert_string_equal(sl_kstatus_name(SL_KSTATUS_FAILED), "Failed");
	assert_string_equal(sl_kstatus_name(SL_KSTATUS_CURRENT), "Current");
	assert_string_equal(sl_kstatus_name(SL_KSTATUS_TERMINATING), "Terminating");
	assert_string_equal(sl_kstatus_name(SL_KSTATUS_NOT_FOUND), "NotFound");
	assert_string_equal(sl_kstatus_name(SL_KSTATUS_UNKNOWN), "Unknown");
}

#define DEPLOY_READY                                                                               \
	"'status':{'observedGeneration':1,'replicas':2,'updatedReplicas':2,'readyReplicas':2,"     \
	"'availableReplicas':2,'conditions':[{'type':'Available','status':'True'},"                \
	"{'type':'Progressing','status':'True','reason':'NewReplicaSetAvailable'}]}"

static void kstatus_generic_checks_come_first(void **state)
{
	(void)state;
	static const struct kcase cases[] = {
	    {"no object", NULL, SL_KSTATUS_UNKNOWN, NULL},
	    {"an array", "[1,2]", SL_KSTATUS_UNKNOWN, NULL},
	    {"a string", "'Deployment'", SL_KSTATUS_UNKNOWN, NULL},
	    {"deletionTimestamp wins over a ready Deployment",
	     "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'generation':1,"
	     "'deletionTimestamp':'2024-01-01T00:00:00Z'},'spec':{'replicas':2}," DEPLOY_READY "}",
	     SL_KSTATUS_TERMINATING, "Resource scheduled for deletion"},
	    {"deletionTimestamp on a custom resource",
	     "{'apiVersion':'example.com/v1','kind':'Widget',"
	     "'metadata':{'deletionTimestamp':'2024-01-01T00:00:00Z'}}",
	     SL_KSTATUS_TERMINATING, NULL},
	    {"an empty deletionTimestamp is none",
	     "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'deletionTimestamp':''}}",
	     SL_KSTATUS_CURRENT, NULL},
	    {"observedGeneration behind generation",
	     "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'generation':2},"
	     "'spec':{'replicas':2}," DEPLOY_READY "}",
	     SL_KSTATUS_IN_PROGRESS,
	     "Deployment generation is 2, but latest observed generation is 1"},
	    {"observedGeneration behind on a custom resource",
	     "{'apiVersion':'example.com/v1','kind':'Widget','metadata':{'generation':5},"
	     "'status':{'observedGeneration':4,'conditions':[{'type':'Ready','status':'True'}]}}",
	     SL_KSTATUS_IN_PROGRESS, "Widget generation is 5, but latest observed generation is 4"},
	    {"no observedGeneration: the check is skipped",
	     "{'apiVersion':'example.com/v1','kind':'Widget','metadata':{'generation':5}}",
	     SL_KSTATUS_CURRENT, "Resource is current"},
	    {"no generation: the check is skipped",
	     "{'apiVersion':'example.com/v1','kind':'Widget','status':{'observedGeneration':5}}",
	     SL_KSTATUS_CURRENT, NULL},
	    {"Reconciling=True",
	     "{'apiVersion':'example.com/v1','kind':'Widget','status':{'conditions':["
	     "{'type':'Ready','status':'True'},"
	     "{'type':'Reconciling','status':'True','message':'working on it'}]}}",
	     SL_KSTATUS_IN_PROGRESS, "working on it"},
	    {"Stalled=True",
	     "{'apiVersion':'example.com/v1','kind':'Widget','status':{'conditions':["
	     "{'type':'Stalled','status':'True','reason':'Bad','message':'gave up'}]}}",
	     SL_KSTATUS_FAILED, "gave up"},
	    {"Stalled=True on a built-in kind",
	     "{'apiVersion':'v1','kind':'ConfigMap','status':{'conditions':["
	     "{'type':'Stalled','status':'True','message':'no'}]}}",
	     SL_KSTATUS_FAILED, "no"},
	    {"the first of Stalled and Reconciling decides",
	     "{'apiVersion':'example.com/v1','kind':'Widget','status':{'conditions':["
	     "{'type':'Stalled','status':'True','message':'s'},"
	     "{'type':'Reconciling','status':'True','message':'r'}]}}",
	     SL_KSTATUS_FAILED, "s"},
	    {"Reconciling and Stalled False are nothing",
	     "{'apiVersion':'example.com/v1','kind':'Widget','status':{'conditions':["
	     "{'type':'Stalled','status':'False'},{'type':'Reconciling','status':'False'}]}}",
	     SL_KSTATUS_CURRENT, NULL},
	    {"a generation that is not an integer",
	     "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'generation':'2'}}",
	     SL_KSTATUS_UNKNOWN, NULL},
	    {"an observedGeneration that is not an integer",
	     "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'generation':2},"
	     "'status':{'observedGeneration':2.0}}",
	     SL_KSTATUS_UNKNOWN, NULL},
	    {"a deletionTimestamp that is not a string",
	     "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'deletionTimestamp':1}}",
	     SL_KSTATUS_UNKNOWN, NULL},
	    {"conditions that are not a list",
	     "{'apiVersion':'v1','kind':'ConfigMap','status':{'conditions':{}}}",
	     SL_KSTATUS_UNKNOWN, NULL},
	    {"a condition that is not an object",
	     "{'apiVersion':'v1','kind':'ConfigMap','status':{'conditions':[1]}}",
	     SL_KSTATUS_UNKNOWN, NULL},
	    {"a condition status that is not a string",
	     "{'apiVersion':'v1','kind':'ConfigMap','status':{'conditions':[{'type':'Ready',"
	     "'status':true}]}}",
	     SL_KSTATUS_UNKNOWN, NULL},
	    {"a status that is not an object", "{'apiVersion':'v1','kind':'ConfigMap','status':[]}",
	     SL_KSTATUS_UNKNOWN, NULL},
	    {"metadata that is not an object",
	     "{'apiVersion':'v1','kind':'ConfigMap','metadata':1}", SL_KSTATUS_UNKNOWN, NULL},
	    {"null fields are absent",
	     "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'deletionTimestamp':null,"
	     "'generation':null},'status':{'conditions':null}}",
	     SL_KSTATUS_CURRENT, NULL},
	};
	check_kcases(cases, SL_ARRAY_SIZE(cases));
}

static void kstatus_deployment(void **state)
{
	(void)state;
#define DEP(spec, status)                                                                          \
	"{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web','generation':1},"    \
	"'spec':" spec ",'status':" status "}"
#define AVAILABLE  "{'type':'Available','status':'True'}"
#define PROGRESSED "{'type':'Progressing','status':'True','reason':'NewReplicaSetAvailable'}"
	static const struct kcase cases[] = {
	    {"available",
	     DEP("{'replicas':2,'progressDeadlineSeconds':600}",
	         "{'replicas':2,'updatedReplicas':2,'readyReplicas':2,'availableReplicas':"
	         "2,'conditions':[" AVAILABLE "," PROGRESSED "]}"),
	     SL_KSTATUS_CURRENT, "Deployment is available. Replicas: 2"},
	    {"no deadline: no Progressing condition needed",
	     DEP("{'replicas':1}", "{'replicas':1,'updatedReplicas':1,'readyReplicas':1,"
	                           "'availableReplicas':1,'conditions':[" AVAILABLE "]}"),
	     SL_KSTATUS_CURRENT, "Deployment is available. Replicas: 1"},
	    {"a MaxInt32 deadline is no deadline",
	     DEP("{'progressDeadlineSeconds':2147483647}",
	         "{'replicas':1,'updatedReplicas':1,'readyReplicas':1,"
	         "'availableReplicas':1,'conditions':[" AVAILABLE "]}"),
	     SL_KSTATUS_CURRENT, NULL},
	    {"extensions/v1beta1 too",
	     "{'apiVersion':'extensions/v1beta1','kind':'Deployment','spec':{'replicas':2},"
	     "'status':{'replicas':1}}",
	     SL_KSTATUS_IN_PROGRESS, "Replicas: 1/2"},
	    {"progress deadline exceeded",
	     DEP("{'replicas':2,'progressDeadlineSeconds':600}",
	         "{'replicas':2,'updatedReplicas':1,'conditions':[" AVAILABLE ","
	         "{'type':'Progressing','status':'False','reason':'ProgressDeadlineExceeded'}]}"),
	     SL_KSTATUS_FAILED, "Progress deadline exceeded"},
	    {"too few replicas", DEP("{'replicas':2}", "{'replicas':1}"), SL_KSTATUS_IN_PROGRESS,
	     "Replicas: 1/2"},
	    {"spec.replicas defaults to 1", DEP("{}", "{}"), SL_KSTATUS_IN_PROGRESS,
	     "Replicas: 0/1"},
	    {"too few updated", DEP("{'replicas':2}", "{'replicas':2,'updatedReplicas':0}"),
	     SL_KSTATUS_IN_PROGRESS, "Updated: 0/2"},
	    {"old pods terminating",
	     DEP("{'replicas':2}", "{'replicas':3,'updatedReplicas':2,'availableReplicas':2}"),
	     SL_KSTATUS_IN_PROGRESS, "Pending termination: 1"},
	    {"too few available",
	     DEP("{'replicas':2}", "{'replicas':2,'updatedReplicas':2,'availableReplicas':1}"),
	     SL_KSTATUS_IN_PROGRESS, "Available: 1/2"},
	    {"too few ready",
	     DEP("{'replicas':2}", "{'replicas':2,'updatedReplicas':2,'availableReplicas':2,"
	                           "'readyReplicas':1}"),
	     SL_KSTATUS_IN_PROGRESS, "Ready: 1/2"},
	    {"deadline set but not progressed",
	     DEP("{'replicas':1,'progressDeadlineSeconds':600}",
	         "{'replicas':1,'updatedReplicas':1,'readyReplicas':1,'availableReplicas':1,"
	         "'conditions':[" AVAILABLE ",{'type':'Progressing','status':'True',"
	         "'reason':'ReplicaSetUpdated'}]}"),
	     SL_KSTATUS_IN_PROGRESS, "ReplicaSet not Available"},
	    {"not Available",
	     DEP("{'replicas':1}", "{'replicas':1,'updatedReplicas':1,'readyReplicas':1,"
	                           "'availableReplicas':1,'conditions':[{'type':'Available',"
	                           "'status':'False'}]}"),
	     SL_KSTATUS_IN_PROGRESS, "Deployment not Available"},
	    {"zero replicas", DEP("{'replicas':0}", "{'conditions':[" AVAILABLE "]}"),
	     SL_KSTATUS_CURRENT, "Deployment is available. Replicas: 0"},
	    {"a Deployment of another group follows the Ready rule",
	     "{'apiVersion':'example.com/v1','kind':'Deployment','spec':{'replicas':2}}",
	     SL_KSTATUS_CURRENT, "Resource is current"},
	    {"replicas of the wrong type read as defaults",
	     DEP("{'replicas':'2'}", "{'replicas':'x'}"), SL_KSTATUS_IN_PROGRESS, "Replicas: 0/1"},
	};
#undef DEP
	check_kcases(cases, SL_ARRAY_SIZE(cases));
}

static void kstatus_statefulset(void **state)
{
	(void)state;
#define STS(spec, status)                                                                          \
	"{'apiVersion':'apps/v1','kind':'StatefulSet','spec':" spec ",'status':" status "}"
	static const struct kcase cases[] = {
	    {"OnDelete", STS("{'replicas':3,'updateStrategy':{'type':'OnDelete'}}", "{}"),
	     SL_KSTATUS_CURRENT, "StatefulSet is using the ondelete update strategy"},
	    {"too few replicas", STS("{'replicas':3}", "{'replicas':1}"), SL_KSTATUS_IN_PROGRESS,
	     "Replicas: 1/3"},
	    {"too few ready", STS("{'replicas':3}", "{'replicas':3,'readyReplicas':2}"),
	     SL_KSTATUS_IN_PROGRESS, "Ready: 2/3"},
	    {"extra pods", STS("{'replicas':2}", "{'replicas':3,'readyReplicas':3}"),
	     SL_KSTATUS_IN_PROGRESS, "Pending termination: 1"},
	    {"partition rolling out",
	     STS("{'replicas':3,'updateStrategy':{'rollingUpdate':{'partition':1}}}",
	         "{'replicas':3,'readyReplicas':3,'updatedReplicas':1}"),
	     SL_KSTATUS_IN_PROGRESS, "updated: 1/2"},
	    {"partition rolled out",
	     STS("{'replicas':3,'updateStrategy':{'rollingUpdate':{'partition':1}}}",
	         "{'replicas':3,'readyReplicas':3,'updatedReplicas':2,'currentRevision':'a',"
	         "'updateRevision':'b'}"),
	     SL_KSTATUS_CURRENT, "Partition rollout complete. updated: 2"},
	    {"too few current",
	     STS("{'replicas':3}", "{'replicas':3,'readyReplicas':3,'currentReplicas':2}"),
	     SL_KSTATUS_IN_PROGRESS, "current: 2/3"},
	    {"revisions differ",
	     STS("{'replicas':3}", "{'replicas':3,'readyReplicas':3,'currentReplicas':3,"
	                           "'currentRevision':'a','updateRevision':'b'}"),
	     SL_KSTATUS_IN_PROGRESS, "Waiting for updated revision to match current"},
	    {"rolled out",
	     STS("{'replicas':3}", "{'replicas':3,'readyReplicas':3,'currentReplicas':3,"
	                           "'currentRevision':'a','updateRevision':'a'}"),
	     SL_KSTATUS_CURRENT, "All replicas scheduled as expected. Replicas: 3"},
	    {"spec.replicas defaults to 1", STS("{}", "{}"), SL_KSTATUS_IN_PROGRESS,
	     "Replicas: 0/1"},
	    {"Stalled fails it",
	     STS("{}", "{'conditions':[{'type':'Stalled','status':'True','message':'m'}]}"),
	     SL_KSTATUS_FAILED, "m"},
	};
#undef STS
	check_kcases(cases, SL_ARRAY_SIZE(cases));
}

static void kstatus_daemonset(void **state)
{
	(void)state;
#define DS(meta, status)                                                                           \
	"{'apiVersion':'apps/v1','kind':'DaemonSet','metadata':" meta ",'status':" status "}"
	static const struct kcase cases[] = {
	    {"no generation", DS("{}", "{'observedGeneration':1}"), SL_KSTATUS_IN_PROGRESS,
	     "DaemonSet metadata.generation not found"},
	    {"no observedGeneration", DS("{'generation':1}", "{}"), SL_KSTATUS_IN_PROGRESS,
	     "DaemonSet status.observedGeneration not found"},
	    {"no desiredNumberScheduled", DS("{'generation':1}", "{'observedGeneration':1}"),
	     SL_KSTATUS_IN_PROGRESS, "Missing .status.desiredNumberScheduled"},
	    {"too few current",
	     DS("{'generation':1}", "{'observedGeneration':1,'desiredNumberScheduled':2,"
	                            "'currentNumberScheduled':1}"),
	     SL_KSTATUS_IN_PROGRESS, "Current: 1/2"},
	    {"too few updated",
	     DS("{'generation':1}", "{'observedGeneration':1,'desiredNumberScheduled':2,"
	                            "'currentNumberScheduled':2,'updatedNumberScheduled':1}"),
	     SL_KSTATUS_IN_PROGRESS, "Updated: 1/2"},
	    {"too few available",
	     DS("{'generation':1}", "{'observedGeneration':1,'desiredNumberScheduled':2,"
	                            "'currentNumberScheduled':2,'updatedNumberScheduled':2,"
	                            "'numberAvailable':1}"),
	     SL_KSTATUS_IN_PROGRESS, "Available: 1/2"},
	    {"too few ready",
	     DS("{'generation':1}", "{'observedGeneration':1,'desiredNumberScheduled':2,"
	                            "'currentNumberScheduled':2,'updatedNumberScheduled':2,"
	                            "'numberAvailable':2,'numberReady':1}"),
	     SL_KSTATUS_IN_PROGRESS, "Ready: 1/2"},
	    {"all scheduled",
	     DS("{'generation':1}", "{'observedGeneration':1,'desiredNumberScheduled':2,"
	                            "'currentNumberScheduled':2,'updatedNumberScheduled':2,"
	                            "'numberAvailable':2,'numberReady':2}"),
	     SL_KSTATUS_CURRENT, "All replicas scheduled as expected. Replicas: 2"},
	    {"zero nodes",
	     DS("{'generation':1}", "{'observedGeneration':1,'desiredNumberScheduled':0}"),
	     SL_KSTATUS_CURRENT, "All replicas scheduled as expected. Replicas: 0"},
	    {"Stalled fails it",
	     DS("{}", "{'conditions':[{'type':'Stalled','status':'True','message':'m'}]}"),
	     SL_KSTATUS_FAILED, "m"},
	};
#undef DS
	check_kcases(cases, SL_ARRAY_SIZE(cases));
}

static void kstatus_replicaset(void **state)
{
	(void)state;
#define RS(spec, status)                                                                           \
	"{'apiVersion':'apps/v1','kind':'ReplicaSet','spec':" spec ",'status':" status "}"
	static const struct kcase cases[] = {
	    {"ReplicaFailure",
	     RS("{'replicas':1}", "{'replicas':1,'fullyLabeledReplicas':1,'availableReplicas':1,"
	                          "'readyReplicas':1,'conditions':[{'type':'ReplicaFailure',"
	                          "'status':'True'}]}"),
	     SL_KSTATUS_IN_PROGRESS, "Replica Failure condition. Check Pods"},
	    {"too few labelled", RS("{'replicas':2}", "{'replicas':2,'fullyLabeledReplicas':1}"),
	     SL_KSTATUS_IN_PROGRESS, "Labelled: 1/2"},
	    {"too few available",
	     RS("{'replicas':2}", "{'replicas':2,'fullyLabeledReplicas':2,'availableReplicas':1}"),
	     SL_KSTATUS_IN_PROGRESS, "Available: 1/2"},
	    {"too few ready",
	     RS("{'replicas':2}", "{'replicas':2,'fullyLabeledReplicas':2,'availableReplicas':2,"
	                          "'readyReplicas':1}"),
	     SL_KSTATUS_IN_PROGRESS, "Ready: 1/2"},
	    {"extra pods",
	     RS("{'replicas':2}", "{'replicas':3,'fullyLabeledReplicas':2,'availableReplicas':2,"
	                          "'readyReplicas':2}"),
	     SL_KSTATUS_IN_PROGRESS, "Pending termination: 1"},
	    {"available",
	     RS("{'replicas':2}", "{'replicas':2,'fullyLabeledReplicas':2,'availableReplicas':2,"
	                          "'readyReplicas':2,'conditions':[{'type':'ReplicaFailure',"
	                          "'status':'False'}]}"),
	     SL_KSTATUS_CURRENT, "ReplicaSet is available. Replicas: 2"},
	    {"Stalled fails it",
	     RS("{}", "{'conditions':[{'type':'Stalled','status':'True','message':'m'}]}"),
	     SL_KSTATUS_FAILED, "m"},
	};
#undef RS
	check_kcases(cases, SL_ARRAY_SIZE(cases));
}

static void kstatus_job_waits_for_completion(void **state)
{
	(void)state;
#define JOB(spec, status)                                                                          \
	"{'apiVersion':'batch/v1','kind':'Job','spec':" spec ",'status':" status "}"
	static const struct kcase cases[] = {
	    {"suspended", JOB("{'suspend':true}", "{}"), SL_KSTATUS_CURRENT, "Job is suspended"},
	    {"complete",
	     JOB("{}", "{'succeeded':1,'conditions':[{'type':'Complete','status':'True'}]}"),
	     SL_KSTATUS_CURRENT, "Job Completed. succeeded: 1/1"},
	    {"complete, completions from parallelism",
	     JOB("{'parallelism':3}",
	         "{'succeeded':3,'conditions':[{'type':'Complete','status':'True'}]}"),
	     SL_KSTATUS_CURRENT, "Job Completed. succeeded: 3/3"},
	    {"failed",
	     JOB("{'completions':2}",
	         "{'failed':6,'conditions':[{'type':'Failed','status':'True'}]}"),
	     SL_KSTATUS_FAILED, "Job Failed. failed: 6/2"},
	    {"running: InProgress, unlike upstream kstatus",
	     JOB("{}", "{'startTime':'2024-01-01T00:00:00Z','active':1}"), SL_KSTATUS_IN_PROGRESS,
	     "Job in progress"},
	    {"not started", JOB("{}", "{}"), SL_KSTATUS_IN_PROGRESS, "Job in progress"},
	    {"conditions not True do not count",
	     JOB("{}", "{'conditions':[{'type':'Complete','status':'False'},"
	               "{'type':'Failed','status':'Unknown'}]}"),
	     SL_KSTATUS_IN_PROGRESS, "Job in progress"},
	    {"suspend false", JOB("{'suspend':false}", "{}"), SL_KSTATUS_IN_PROGRESS, NULL},
	    {"a Job of another group follows the Ready rule",
	     "{'apiVersion':'example.com/v1','kind':'Job','status':{}}", SL_KSTATUS_CURRENT, NULL},
	};
#undef JOB
	check_kcases(cases, SL_ARRAY_SIZE(cases));
}

static void kstatus_pod(void **state)
{
	(void)state;
#define POD(status) "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'p'},'status':" status "}"
#define UNSCHEDULABLE(extra)                                                                       \
	"{'type':'PodScheduled','status':'False','reason':'Unschedulable'" extra "}"
	static const struct kcase cases[] = {
	    {"succeeded", POD("{'phase':'Succeeded'}"), SL_KSTATUS_CURRENT,
	     "Pod has completed successfully"},
	    {"failed phase is Current", POD("{'phase':'Failed'}"), SL_KSTATUS_CURRENT,
	     "Pod has completed, but not successfully"},
	    {"running and ready",
	     POD("{'phase':'Running','conditions':[{'type':'Ready','status':'True'}]}"),
	     SL_KSTATUS_CURRENT, "Pod is Ready"},
	    {"running, not ready",
	     POD("{'phase':'Running','conditions':[{'type':'Ready','status':'False'}],"
	         "'containerStatuses':[{'name':'app','state':{'running':{}}}]}"),
	     SL_KSTATUS_IN_PROGRESS, "Pod is running but is not Ready"},
	    {"crash looping",
	     POD("{'phase':'Running','containerStatuses':["
	         "{'name':'app','state':{'waiting':{'reason':'CrashLoopBackOff'}}},"
	         "{'name':'ok','state':{'running':{}}},"
	         "{'name':'side','state':{'waiting':{'reason':'CrashLoopBackOff'}}},"
	         "{'state':{'waiting':{'reason':'CrashLoopBackOff'}}},"
	         "{'name':'odd','state':7}]}"),
	     SL_KSTATUS_FAILED, "Containers in CrashLoop state: app,side"},
	    {"waiting for another reason",
	     POD("{'phase':'Running','containerStatuses':["
	         "{'name':'app','state':{'waiting':{'reason':'ImagePullBackOff'}}}]}"),
	     SL_KSTATUS_IN_PROGRESS, "Pod is running but is not Ready"},
	    {"unschedulable long ago",
	     POD("{'phase':'Pending','conditions':[" UNSCHEDULABLE(
	         ",'lastTransitionTime':'2020-01-01T00:00:00Z'") "]}"),
	     SL_KSTATUS_FAILED, "Pod could not be scheduled"},
	    {"unschedulable with no time at all",
	     POD("{'phase':'Pending','conditions':[" UNSCHEDULABLE("") "]}"), SL_KSTATUS_FAILED,
	     "Pod could not be scheduled"},
	    {"not scheduled for another reason",
	     POD("{'phase':'Pending','conditions':[{'type':'PodScheduled','status':'False',"
	         "'reason':'SchedulerError'}]}"),
	     SL_KSTATUS_IN_PROGRESS, "Pod is in the Pending phase"},
	    {"pending", POD("{'phase':'Pending'}"), SL_KSTATUS_IN_PROGRESS,
	     "Pod is in the Pending phase"},
	    {"no phase yet", POD("{}"), SL_KSTATUS_IN_PROGRESS, "Pod phase not available"},
	    {"no status at all", "{'apiVersion':'v1','kind':'Pod'}", SL_KSTATUS_IN_PROGRESS,
	     "Pod phase not available"},
	    {"a phase kstatus does not know", POD("{'phase':'Unknown'}"), SL_KSTATUS_UNKNOWN,
	     "unknown phase Unknown"},
	};
	check_kcases(cases, SL_ARRAY_SIZE(cases));

	/* The 15 s window counts from the condition's lastTransitionTime (else
	 * creationTimestamp), against the clock. */
	_cleanup_free_ char *now = now_plus(0, "%Y-%m-%dT%H:%M:%SZ");
	_cleanup_free_ char *now_cet = now_plus(3600, "%Y-%m-%dT%H:%M:%S.123+01:00");
	_cleanup_free_ char *now_pst = now_plus(-8 * 3600, "%Y-%m-%dT%H:%M:%S-08:00");
	_cleanup_free_ char *old = now_plus(-60, "%Y-%m-%dT%H:%M:%SZ");
	_cleanup_free_ char *old_cet = now_plus(3600 - 60, "%Y-%m-%dT%H:%M:%S+01:00");
	const struct {
		const char *what, *transition, *created;
		enum sl_kstatus want;
	} timed[] = {
	    {"unschedulable just now", now, NULL, SL_KSTATUS_IN_PROGRESS},
	    {"unschedulable just now, +01:00 with a fraction", now_cet, NULL,
	     SL_KSTATUS_IN_PROGRESS},
	    {"unschedulable just now, -08:00", now_pst, NULL, SL_KSTATUS_IN_PROGRESS},
	    {"unschedulable a minute ago", old, now, SL_KSTATUS_FAILED},
	    {"unschedulable a minute ago, +01:00", old_cet, NULL, SL_KSTATUS_FAILED},
	    {"no transition time: created just now", NULL, now, SL_KSTATUS_IN_PROGRESS},
	    {"no transition time: created a minute ago", NULL, old, SL_KSTATUS_FAILED},
	    {"a transition time that is no time", "yesterday", now, SL_KSTATUS_IN_PROGRESS},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(timed); i++) {
		_cleanup_free_ char *lt =
		    timed[i].transition
		        ? sl_asprintf(",'lastTransitionTime':'%s'", timed[i].transition)
		        : sl_strdup("");
		_cleanup_free_ char *ct =
		    timed[i].created ? sl_asprintf("'creationTimestamp':'%s'", timed[i].created)
		                     : sl_strdup("");
		_cleanup_free_ char *text = sl_asprintf(
		    "{'apiVersion':'v1','kind':'Pod','metadata':{%s},'status':{'phase':'Pending',"
		    "'conditions':[{'type':'PodScheduled','status':'False','reason':'Unschedulable'"
		    "%s}]}}",
		    ct, lt);
		const struct kcase c = {timed[i].what, text, timed[i].want,
		                        timed[i].want == SL_KSTATUS_FAILED
		                            ? "Pod could not be scheduled"
		                            : "Pod has not been scheduled"};
		check_kcases(&c, 1);
	}
#undef POD
#undef UNSCHEDULABLE
}

static void kstatus_service_pvc_crd(void **state)
{
	(void)state;
	static const struct kcase cases[] = {
	    {"ClusterIP Service",
	     "{'apiVersion':'v1','kind':'Service','spec':{'clusterIP':'10.0.0.1'}}",
	     SL_KSTATUS_CURRENT, "Service is ready"},
	    {"Service without type", "{'apiVersion':'v1','kind':'Service','spec':{}}",
	     SL_KSTATUS_CURRENT, "Service is ready"},
	    {"LoadBalancer without a cluster IP",
	     "{'apiVersion':'v1','kind':'Service','spec':{'type':'LoadBalancer'}}",
	     SL_KSTATUS_IN_PROGRESS, "ClusterIP not set. Service type: LoadBalancer"},
	    {"LoadBalancer with an empty cluster IP",
	     "{'apiVersion':'v1','kind':'Service','spec':{'type':'LoadBalancer','clusterIP':''}}",
	     SL_KSTATUS_IN_PROGRESS, NULL},
	    {"LoadBalancer with a cluster IP, no ingress yet",
	     "{'apiVersion':'v1','kind':'Service','spec':{'type':'LoadBalancer',"
	     "'clusterIP':'10.0.0.1'},'status':{'loadBalancer':{}}}",
	     SL_KSTATUS_CURRENT, "Service is ready"},
	    {"Service Stalled",
	     "{'apiVersion':'v1','kind':'Service','status':{'conditions':[{'type':'Stalled',"
	     "'status':'True','message':'m'}]}}",
	     SL_KSTATUS_FAILED, "m"},

	    {"PVC bound",
	     "{'apiVersion':'v1','kind':'PersistentVolumeClaim','status':{'phase':'Bound'}}",
	     SL_KSTATUS_CURRENT, "PVC is Bound"},
	    {"PVC pending",
	     "{'apiVersion':'v1','kind':'PersistentVolumeClaim','status':{'phase':'Pending'}}",
	     SL_KSTATUS_IN_PROGRESS, "PVC is not Bound. phase: Pending"},
	    {"PVC without status", "{'apiVersion':'v1','kind':'PersistentVolumeClaim'}",
	     SL_KSTATUS_IN_PROGRESS, "PVC is not Bound. phase: unknown"},
	    {"PVC Stalled",
	     "{'apiVersion':'v1','kind':'PersistentVolumeClaim','status':{'phase':'Pending',"
	     "'conditions':[{'type':'Stalled','status':'True','message':'m'}]}}",
	     SL_KSTATUS_FAILED, "m"},

#define CRD(conds)                                                                                 \
	"{'apiVersion':'apiextensions.k8s.io/v1','kind':'CustomResourceDefinition',"               \
	"'status':{'conditions':" conds "}}"
	    {"CRD established",
	     CRD("[{'type':'NamesAccepted','status':'True'},{'type':'Established','status':'True'}"
	         "]"),
	     SL_KSTATUS_CURRENT, "CRD is established"},
	    {"CRD names not accepted",
	     CRD("[{'type':'NamesAccepted','status':'False','reason':'MultipleNamesNotAllowed',"
	         "'message':'plural is taken'},{'type':'Established','status':'False',"
	         "'reason':'NotAccepted'}]"),
	     SL_KSTATUS_FAILED, "plural is taken"},
	    {"CRD installing",
	     CRD("[{'type':'Established','status':'False','reason':'Installing'}]"),
	     SL_KSTATUS_IN_PROGRESS, "Install in progress"},
	    {"CRD not established for another reason",
	     CRD("[{'type':'Established','status':'False','reason':'NotAccepted','message':'no'}]"),
	     SL_KSTATUS_FAILED, "no"},
	    {"CRD without conditions", CRD("[]"), SL_KSTATUS_IN_PROGRESS, "Install in progress"},
	    {"CRD established Unknown", CRD("[{'type':'Established','status':'Unknown'}]"),
	     SL_KSTATUS_IN_PROGRESS, "Install in progress"},
#undef CRD
	};
	check_kcases(cases, SL_ARRAY_SIZE(cases));
}

static void kstatus_always_current_kinds(void **state)
{
	(void)state;
	static const struct kcase cases[] = {
	    {"Secret", "{'apiVersion':'v1','kind':'Secret'}", SL_KSTATUS_CURRENT,
	     "Resource is always ready"},
	    {"ConfigMap", "{'apiVersion':'v1','kind':'ConfigMap'}", SL_KSTATUS_CURRENT,
	     "Resource is always ready"},
	    {"CronJob", "{'apiVersion':'batch/v1','kind':'CronJob','status':{'active':[{}]}}",
	     SL_KSTATUS_CURRENT, "Resource is always ready"},
	    {"PodDisruptionBudget",
	     "{'apiVersion':'policy/"
	     "v1','kind':'PodDisruptionBudget','status':{'disruptionsAllowed':0}}",
	     SL_KSTATUS_CURRENT, "AllowedDisruptions has been computed."},
	    /* Ready=False does not matter to a kind with its own rule */
	    {"ConfigMap with Ready=False",
	     "{'apiVersion':'v1','kind':'ConfigMap','status':{'conditions':[{'type':'Ready',"
	     "'status':'False'}]}}",
	     SL_KSTATUS_CURRENT, "Resource is always ready"},
	    {"but generation still counts",
	     "{'apiVersion':'policy/v1','kind':'PodDisruptionBudget','metadata':{'generation':3},"
	     "'status':{'observedGeneration':2}}",
	     SL_KSTATUS_IN_PROGRESS,
	     "PodDisruptionBudget generation is 3, but latest observed generation is 2"},
	};
	check_kcases(cases, SL_ARRAY_SIZE(cases));
}

static void kstatus_custom_resources_follow_ready(void **state)
{
	(void)state;
#define CR(status) "{'apiVersion':'example.com/v1','kind':'Widget','status':" status "}"
	static const struct kcase cases[] = {
	    {"Ready=True", CR("{'conditions':[{'type':'Ready','status':'True'}]}"),
	     SL_KSTATUS_CURRENT, "Resource is Ready"},
	    {"Ready=False is InProgress, not Failed",
	     CR("{'conditions':[{'type':'Ready','status':'False','reason':'Err',"
	        "'message':'artifact not found'}]}"),
	     SL_KSTATUS_IN_PROGRESS, "artifact not found"},
	    {"Ready=Unknown", CR("{'conditions':[{'type':'Ready','status':'Unknown'}]}"),
	     SL_KSTATUS_IN_PROGRESS, "Ready condition is Unknown"},
	    {"no Ready condition", CR("{'conditions':[{'type':'Other','status':'False'}]}"),
	     SL_KSTATUS_CURRENT, "Resource is current"},
	    {"no status", "{'apiVersion':'example.com/v1','kind':'Widget'}", SL_KSTATUS_CURRENT,
	     "Resource is current"},
	    {"Stalled fails",
	     CR("{'conditions':[{'type':'Ready','status':'False'},"
	        "{'type':'Stalled','status':'True','message':'stuck'}]}"),
	     SL_KSTATUS_FAILED, "stuck"},
	    {"a Kustomization ready",
	     "{'apiVersion':'kustomize.toolkit.fluxcd.io/v1','kind':'Kustomization',"
	     "'metadata':{'generation':2},'status':{'observedGeneration':2,"
	     "'conditions':[{'type':'Ready','status':'True','reason':'ReconciliationSucceeded'}]}}",
	     SL_KSTATUS_CURRENT, "Resource is Ready"},
	    {"no apiVersion or kind", "{}", SL_KSTATUS_CURRENT, "Resource is current"},
	    {"a core-group Pod without apiVersion is still a Pod", "{'kind':'Pod'}",
	     SL_KSTATUS_IN_PROGRESS, "Pod phase not available"},
	};
#undef CR
	check_kcases(cases, SL_ARRAY_SIZE(cases));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(inventory_id_matches_cli_utils),
	    cmocka_unit_test(inventory_id_parse_decodes_colons_for_every_kind),
	    cmocka_unit_test(inventory_id_parse_rejects_malformed),
	    cmocka_unit_test(object_ref_from_json_reads_identity),
	    cmocka_unit_test(inventory_records_id_and_version),
	    cmocka_unit_test(stale_objects_are_old_minus_new_in_reverse_apply_order),
	    cmocka_unit_test(union_keeps_a_first_and_adds_what_b_has_more),
	    cmocka_unit_test(stage_of_follows_apply_all_staged),
	    cmocka_unit_test(apply_order_is_reconcile_order),
	    cmocka_unit_test(normalize_matches_flux),
	    cmocka_unit_test(change_subjects_and_actions),
	    cmocka_unit_test(marks_are_labels_or_annotations_ignoring_case),
	    cmocka_unit_test(kstatus_names),
	    cmocka_unit_test(kstatus_generic_checks_come_first),
	    cmocka_unit_test(kstatus_deployment),
	    cmocka_unit_test(kstatus_statefulset),
	    cmocka_unit_test(kstatus_daemonset),
	    cmocka_unit_test(kstatus_replicaset),
	    cmocka_unit_test(kstatus_job_waits_for_completion),
	    cmocka_unit_test(kstatus_pod),
	    cmocka_unit_test(kstatus_service_pvc_crd),
	    cmocka_unit_test(kstatus_always_current_kinds),
	    cmocka_unit_test(kstatus_custom_resources_follow_ready),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
