/* kustomize's field transformers (namespace, namePrefix/nameSuffix,
 * labels, commonAnnotations) and the name reference fix-up, on object
 * trees built from JSON (single quotes stand for double quotes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "kustomize/kbuild.h"

/* ---- trees from JSON, and back for messages ------------------------------ */

static struct sl_node *from_json(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		struct sl_node *m = sl_node_new_map();
		const char *k;
		json_t *v;
		json_object_foreach ((json_t *)j, k, v)
			sl_node_map_set(m, k, from_json(v));
		return m;
	}
	case JSON_ARRAY: {
		struct sl_node *s = sl_node_new_seq();
		for (size_t i = 0; i < json_array_size(j); i++)
			sl_node_seq_push(s, from_json(json_array_get(j, i)));
		return s;
	}
	case JSON_STRING: return sl_node_new_str(json_string_value(j));
	case JSON_INTEGER: return sl_node_new_int(json_integer_value(j));
	case JSON_REAL: return sl_node_new_float(json_real_value(j));
	case JSON_TRUE: return sl_node_new_bool(true);
	case JSON_FALSE: return sl_node_new_bool(false);
	default: return sl_node_new_null();
	}
}

static json_t *to_json(const struct sl_node *n)
{
	switch (n->type) {
	case SL_NODE_MAP: {
		json_t *o = json_object();
		for (size_t i = 0; i < n->map.len; i++)
			json_object_set_new(o, n->map.items[i].key, to_json(n->map.items[i].value));
		return o;
	}
	case SL_NODE_SEQ: {
		json_t *a = json_array();
		for (size_t i = 0; i < n->seq.len; i++)
			json_array_append_new(a, to_json(n->seq.items[i]));
		return a;
	}
	case SL_NODE_STR: return json_string(n->str.ptr);
	case SL_NODE_INT: return json_integer(n->i);
	case SL_NODE_BOOL: return json_boolean(n->b);
	case SL_NODE_FLOAT: return json_real(n->f);
	default: return json_null();
	}
}

/* JSON with ' for " (the tests hold no apostrophes). */
static struct sl_node *J(const char *text)
{
	char *s = strdup(text);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	json_error_t e;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &e);
	if (!j)
		fail_msg("bad test JSON (%s): %s", e.text, s);
	free(s);
	struct sl_node *n = from_json(j);
	json_decref(j);
	return n;
}

static void assert_tree(const struct sl_node *got, const char *want_text)
{
	struct sl_node *want = J(want_text);
	if (!sl_node_equal(got, want)) {
		json_t *g = to_json(got), *w = to_json(want);
		char *gs = json_dumps(g, JSON_SORT_KEYS | JSON_INDENT(1));
		char *ws = json_dumps(w, JSON_SORT_KEYS | JSON_INDENT(1));
		print_error("got:\n%s\nwant:\n%s\n", gs, ws);
		free(gs), free(ws), json_decref(g), json_decref(w);
		sl_node_free(want);
		fail();
	}
	sl_node_free(want);
}

/* A resource map of the JSON objects given, in order (NULL-terminated). */
static struct ks_resmap *resmap(const char *first, ...)
{
	struct ks_resmap *m = calloc(1, sizeof(*m));
	va_list ap;
	va_start(ap, first);
	for (const char *t = first; t; t = va_arg(ap, const char *))
		ks_resmap_push(m, ks_resource_new(J(t)));
	va_end(ap);
	return m;
}

static void resmap_free(struct ks_resmap *m)
{
	ks_resmap_clear(m);
	free(m);
}

static struct sl_node *obj(struct ks_resmap *m, size_t i)
{
	return m->items[i]->obj;
}

static void assert_ok(int r, const struct sl_error *err)
{
	if (r < 0)
		fail_msg("unexpected error %d: %s", r, err->msg);
}

/* Applies the namespace, affixes and the fix-up, as a one-level build. */
static void build(struct ks_resmap *m, const char *ns, const char *prefix, const char *suffix)
{
	struct sl_error err = {0};
	if (ns)
		assert_ok(ks_apply_namespace(m, ns, &err), &err);
	if (prefix || suffix)
		assert_ok(ks_apply_name_affixes(m, prefix, suffix, &err), &err);
	assert_ok(ks_fix_name_references(m, NULL, &err), &err);
}

/* ---- namespace ------------------------------------------------------------ */

static void namespace_sets_namespaced_kinds_and_skips_cluster_scoped(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'a'}}",
	    "{'apiVersion':'v1','kind':'Service','metadata':{'name':'s','namespace':'old'}}",
	    "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'ClusterRole','metadata':{'name':'"
	    "c'}}",
	    "{'apiVersion':'storage.k8s.io/v1','kind':'StorageClass','metadata':{'name':'sc'}}",
	    "{'apiVersion':'v1','kind':'PersistentVolume','metadata':{'name':'pv'}}",
	    "{'apiVersion':'apiextensions.k8s.io/v1','kind':'CustomResourceDefinition','metadata':{"
	    "'name':'x.example.com'}}",
	    NULL);
	build(m, "team", NULL, NULL);
	assert_tree(obj(m, 0), "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'a',"
	                       "'namespace':'team'}}");
	assert_tree(obj(m, 1), "{'apiVersion':'v1','kind':'Service','metadata':{'name':'s',"
	                       "'namespace':'team'}}");
	for (size_t i = 2; i < 6; i++)
		assert_null(sl_node_dig(obj(m, i), "metadata", "namespace", NULL));
	resmap_free(m);
}

static void namespace_makes_custom_resources_namespaced(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap("{'apiVersion':'example.com/"
	                             "v1','kind':'Widget','metadata':{'name':'w','namespace':'x'}}",
	                             NULL);
	build(m, "team", NULL, NULL);
	assert_string_equal(ks_resource_namespace(m->items[0]), "team");
	resmap_free(m);
}

static void namespace_renames_core_namespace_objects_only(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    "{'apiVersion':'v1','kind':'Namespace','metadata':{'name':'cert-manager'}}",
	    "{'apiVersion':'example.com/v1','kind':'Namespace','metadata':{'name':'other'}}", NULL);
	build(m, "certs", NULL, NULL);
	assert_tree(obj(m, 0),
	            "{'apiVersion':'v1','kind':'Namespace','metadata':{'name':'certs'}}");
	/* Not the core kind: a namespaced custom resource. */
	assert_string_equal(ks_resource_name(m->items[1]), "other");
	assert_string_equal(ks_resource_namespace(m->items[1]), "certs");
	assert_int_equal(m->items[0]->prev_names.len, 1);
	assert_string_equal(m->items[0]->prev_names.items[0], "cert-manager");
	resmap_free(m);
}

static void namespace_records_every_resource_in_history(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'a','namespace':'x'}}",
	    "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'ClusterRole','metadata':{'name':'"
	    "c'}}",
	    NULL);
	struct sl_error err = {0};
	assert_ok(ks_apply_namespace(m, "team", &err), &err);
	for (size_t i = 0; i < 2; i++)
		assert_int_equal(m->items[i]->prev_names.len, 1);
	assert_string_equal(m->items[0]->prev_namespaces.items[0], "x");
	assert_string_equal(m->items[1]->prev_namespaces.items[0], "");
	resmap_free(m);
}

/* kubectl kustomize 011: subjects named "default" take the namespace;
 * ServiceAccount subjects follow a ServiceAccount of the build; the rest
 * stay as they are. */
static void namespace_moves_subjects_named_default_or_in_the_build(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    "{'apiVersion':'v1','kind':'ServiceAccount','metadata':{'name':'builder','namespace':"
	    "'ci'}}",
	    "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'RoleBinding','metadata':{'name':"
	    "'b'},'subjects':[{'kind':'ServiceAccount','name':'builder','namespace':'ci'},"
	    "{'kind':'ServiceAccount','name':'default','namespace':'kube-system'},"
	    "{'kind':'ServiceAccount','name':'no-namespace'},"
	    "{'kind':'ServiceAccount','name':'elsewhere','namespace':'other'},"
	    "{'kind':'Group','name':'default'}]}",
	    "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'ClusterRoleBinding','metadata':{"
	    "'name':'v'},'subjects':[{'kind':'ServiceAccount','name':'builder','namespace':'ci'}]}",
	    NULL);
	build(m, "team-a", NULL, NULL);
	assert_tree(sl_node_map_get(obj(m, 1), "subjects"),
	            "[{'kind':'ServiceAccount','name':'builder','namespace':'team-a'},"
	            "{'kind':'ServiceAccount','name':'default','namespace':'team-a'},"
	            "{'kind':'ServiceAccount','name':'no-namespace'},"
	            "{'kind':'ServiceAccount','name':'elsewhere','namespace':'other'},"
	            "{'kind':'Group','name':'default','namespace':'team-a'}]");
	assert_tree(sl_node_map_get(obj(m, 2), "subjects"),
	            "[{'kind':'ServiceAccount','name':'builder','namespace':'team-a'}]");
	assert_null(sl_node_dig(obj(m, 2), "metadata", "namespace", NULL));
	resmap_free(m);
}

static void namespace_sets_apiservice_and_webhook_service_namespaces(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    "{'apiVersion':'apiregistration.k8s.io/v1','kind':'APIService','metadata':{'name':"
	    "'v1.m'},'spec':{'service':{'name':'metrics','namespace':'kube-system'}}}",
	    "{'apiVersion':'v1','kind':'Service','metadata':{'name':'hook','namespace':'old'}}",
	    "{'apiVersion':'admissionregistration.k8s.io/v1','kind':'"
	    "ValidatingWebhookConfiguration','metadata':{'name':'hook'},'webhooks':[{'name':'w',"
	    "'clientConfig':{'service':{'name':'hook','namespace':'old','path':'/v'}}},"
	    "{'name':'u','clientConfig':{'url':'https://x'}}]}",
	    NULL);
	build(m, "team", NULL, NULL);
	assert_tree(sl_node_dig(obj(m, 0), "spec", NULL),
	            "{'service':{'name':'metrics','namespace':'team'}}");
	assert_null(sl_node_dig(obj(m, 0), "metadata", "namespace", NULL));
	assert_tree(sl_node_map_get(obj(m, 2), "webhooks"),
	            "[{'name':'w','clientConfig':{'service':{'name':'hook','namespace':'team',"
	            "'path':'/v'}}},{'name':'u','clientConfig':{'url':'https://x'}}]");
	resmap_free(m);
}

static void namespace_fails_when_two_objects_get_the_same_id(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'a','namespace':'x'}}",
	    "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'a','namespace':'y'}}", NULL);
	struct sl_error err = {0};
	assert_true(ks_apply_namespace(m, "z", &err) < 0);
	assert_non_null(strstr(err.msg, "ID conflict"));
	assert_non_null(strstr(err.msg, "ConfigMap.v1.[noGrp]/a.z"));
	resmap_free(m);
}

/* ---- namePrefix / nameSuffix ---------------------------------------------- */

static void affixes_skip_namespaces_crds_and_apiservices(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    "{'apiVersion':'v1','kind':'Namespace','metadata':{'name':'ns'}}",
	    "{'apiVersion':'apiextensions.k8s.io/v1','kind':'CustomResourceDefinition','metadata':{"
	    "'name':'w.example.com'}}",
	    "{'apiVersion':'apiregistration.k8s.io/"
	    "v1','kind':'APIService','metadata':{'name':'v1.m'}"
	    "}",
	    "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'ClusterRole','metadata':{'name':'"
	    "c'}}",
	    "{'apiVersion':'example.com/v1','kind':'Widget','metadata':{'name':'w'}}", NULL);
	build(m, NULL, "p-", "-s");
	const char *want[] = {"ns", "w.example.com", "v1.m", "p-c-s", "p-w-s"};
	for (size_t i = 0; i < SL_ARRAY_SIZE(want); i++) {
		assert_string_equal(ks_resource_name(m->items[i]), want[i]);
		/* No build annotation is left behind. */
		assert_null(sl_node_dig(obj(m, i), "metadata", "annotations", NULL));
	}
	resmap_free(m);
}

static void affixes_record_prefix_then_suffix_in_history(void **state)
{
	(void)state;
	struct ks_resmap *m =
	    resmap("{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'app'}}", NULL);
	struct sl_error err = {0};
	assert_ok(ks_apply_name_affixes(m, "team-", NULL, &err), &err);
	assert_ok(ks_apply_name_affixes(m, "prod-", "-v2", &err), &err);
	struct ks_resource *r = m->items[0];
	assert_string_equal(ks_resource_name(r), "prod-team-app-v2");
	assert_int_equal(r->prev_names.len, 3);
	assert_string_equal(r->prev_names.items[0], "app");
	assert_string_equal(r->prev_names.items[1], "team-app");
	assert_string_equal(r->prev_names.items[2], "prod-team-app");
	resmap_free(m);
}

/* ---- labels and annotations ------------------------------------------------ */

static const char *const pairs_json = "{'app.kubernetes.io/part-of':'shop','version':'1.0'}";
#define L "'app.kubernetes.io/part-of':'shop','version':'1.0'"

static void apply_labels(struct ks_resmap *m, bool selectors, bool templates, const char *fields)
{
	struct sl_node *pairs = J(pairs_json);
	struct sl_node *f = fields ? J(fields) : NULL;
	struct sl_error err = {0};
	assert_ok(ks_apply_labels(m, pairs, selectors, templates, f, &err), &err);
	sl_node_free(pairs);
	sl_node_free(f);
}

static void common_labels_reach_selectors_and_templates(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'d'},'spec':{"
	    "'selector':{'matchLabels':{'app':'d'}},'template':{'metadata':{'labels':{'app':'d'}}}}"
	    "}",
	    "{'apiVersion':'v1','kind':'Service','metadata':{'name':'s'},'spec':{'ports':[]}}",
	    "{'apiVersion':'apps/v1','kind':'StatefulSet','metadata':{'name':'db'},'spec':{"
	    "'selector':{'matchLabels':{'app':'db'}},'template':{'spec':{}},"
	    "'volumeClaimTemplates':[{'metadata':{'name':'data'}}]}}",
	    "{'apiVersion':'apps/"
	    "v1','kind':'ReplicaSet','metadata':{'name':'rs'},'spec':{'selector':"
	    "{'matchExpressions':[{'key':'app','operator':'In','values':['rs']}]}}}",
	    NULL);
	apply_labels(m, true, true, NULL);
	assert_tree(
	    obj(m, 0),
	    "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'d','labels':{" L
	    "}},'spec':{'selector':{'matchLabels':{'app':'d'," L
	    "}},'template':{'metadata':{'labels':{'app':'d'," L "}}}}}");
	/* A Service selector is created when missing. */
	assert_tree(obj(m, 1),
	            "{'apiVersion':'v1','kind':'Service','metadata':{'name':'s','labels':{" L
	            "}},'spec':{'ports':[],'selector':{" L "}}}");
	assert_tree(sl_node_map_get(obj(m, 2), "spec"),
	            "{'selector':{'matchLabels':{'app':'db'," L "}},'template':{'metadata':{"
	            "'labels':{" L "}},'spec':{}},'volumeClaimTemplates':[{'metadata':{'name':"
	            "'data','labels':{" L "}}}]}");
	/* matchLabels created next to matchExpressions. */
	assert_tree(sl_node_dig(obj(m, 3), "spec", "selector", NULL),
	            "{'matchExpressions':[{'key':'app','operator':'In','values':['rs']}],"
	            "'matchLabels':{" L "}}");
	resmap_free(m);
}

static void common_labels_leave_job_selector_absent(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    "{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':'j'},'spec':{'template':{"
	    "'spec':{'restartPolicy':'Never'}}}}",
	    NULL);
	apply_labels(m, true, true, NULL);
	assert_tree(obj(m, 0), "{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':'j',"
	                       "'labels':{" L "}},'spec':{'template':{'metadata':{'labels':{" L
	                       "}},'spec':{'restartPolicy':'Never'}}}}");
	resmap_free(m);
}

static void common_labels_touch_only_metadata_of_custom_resources(void **state)
{
	(void)state;
	struct ks_resmap *m =
	    resmap("{'apiVersion':'example.com/v1','kind':'Thing','metadata':{'name':'t'},'spec':{"
	           "'selector':{'matchLabels':{'app':'t'}},'template':{'metadata':{}}}}",
	           NULL);
	apply_labels(m, true, true, NULL);
	assert_tree(
	    obj(m, 0),
	    "{'apiVersion':'example.com/v1','kind':'Thing','metadata':{'name':'t','labels':{" L
	    "}},'spec':{'selector':{'matchLabels':{'app':'t'}},'template':{'metadata':{}}}}");
	resmap_free(m);
}

static void common_labels_update_existing_network_policy_pod_selectors(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    "{'apiVersion':'networking.k8s.io/v1','kind':'NetworkPolicy','metadata':{'name':'n'},"
	    "'spec':{'podSelector':{'matchLabels':{'app':'db'}},'ingress':[{'from':[{'podSelector':"
	    "{'matchLabels':{'app':'api'}}},{'namespaceSelector':{'matchLabels':{'team':'x'}}}]}]}"
	    "}",
	    NULL);
	apply_labels(m, true, true, NULL);
	assert_tree(sl_node_map_get(obj(m, 0), "spec"),
	            "{'podSelector':{'matchLabels':{'app':'db'," L "}},'ingress':[{'from':[{"
	            "'podSelector':{'matchLabels':{'app':'api'," L "}}},{'namespaceSelector':{"
	            "'matchLabels':{'team':'x'}}}]}]}");
	resmap_free(m);
}

static const char *const cronjob =
    "{'apiVersion':'batch/v1','kind':'CronJob','metadata':{'name':'c'},'spec':{'jobTemplate':{"
    "'spec':{'template':{'spec':{}}}}}}";
static const char *const deployment =
    "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'d'},'spec':{'selector':{"
    "'matchLabels':{'app':'d'}},'template':{'metadata':{'labels':{'app':'d'}}}}}";

static void labels_without_options_touch_metadata_only(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(deployment, cronjob, NULL);
	apply_labels(m, false, false, NULL);
	assert_tree(sl_node_map_get(obj(m, 0), "spec"),
	            "{'selector':{'matchLabels':{'app':'d'}},'template':{'metadata':{'labels':{"
	            "'app':'d'}}}}");
	assert_tree(sl_node_dig(obj(m, 0), "metadata", "labels", NULL), "{" L "}");
	assert_tree(sl_node_map_get(obj(m, 1), "spec"), "{'jobTemplate':{'spec':{'template':{"
	                                                "'spec':{}}}}}");
	resmap_free(m);
}

static void labels_include_templates_but_not_selectors(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(deployment, cronjob, NULL);
	apply_labels(m, false, true, NULL);
	assert_tree(sl_node_map_get(obj(m, 0), "spec"),
	            "{'selector':{'matchLabels':{'app':'d'}},'template':{'metadata':{'labels':{"
	            "'app':'d'," L "}}}}");
	/* A CronJob's two templates. */
	assert_tree(sl_node_map_get(obj(m, 1), "spec"),
	            "{'jobTemplate':{'metadata':{'labels':{" L "}},'spec':{'template':{'metadata':"
	            "{'labels':{" L "}},'spec':{}}}}}");
	resmap_free(m);
}

static void labels_custom_fields_are_created(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(deployment, cronjob, NULL);
	apply_labels(m, false, false,
	             "[{'path':'spec/extra/labels','kind':'Deployment','create':true},"
	             "{'path':'spec/missing/labels','kind':'CronJob'}]");
	assert_tree(sl_node_dig(obj(m, 0), "spec", "extra", NULL), "{'labels':{" L "}}");
	assert_null(sl_node_dig(obj(m, 1), "spec", "missing", NULL));
	resmap_free(m);
}

static void labels_refuse_values_that_are_not_strings(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(deployment, NULL);
	struct sl_node *pairs = J("{'version':1}");
	struct sl_error err = {0};
	assert_true(ks_apply_labels(m, pairs, true, true, NULL, &err) < 0);
	assert_non_null(strstr(err.msg, "version"));
	sl_node_free(pairs);
	resmap_free(m);
}

static void annotations_reach_metadata_and_pod_templates(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    deployment, cronjob,
	    "{'apiVersion':'v1','kind':'Service','metadata':{'name':'s'},'spec':{'selector':{}}}",
	    NULL);
	struct sl_node *pairs = J("{'owner':'team','empty':null}");
	struct sl_error err = {0};
	assert_ok(ks_apply_annotations(m, pairs, &err), &err);
	sl_node_free(pairs);
	const char *a = "{'owner':'team','empty':''}";
	assert_tree(sl_node_dig(obj(m, 0), "metadata", "annotations", NULL), a);
	assert_tree(sl_node_dig(obj(m, 0), "spec", "template", "metadata", "annotations", NULL), a);
	assert_tree(sl_node_dig(obj(m, 1), "spec", "jobTemplate", "metadata", "annotations", NULL),
	            a);
	assert_tree(sl_node_dig(obj(m, 1), "spec", "jobTemplate", "spec", "template", "metadata",
	                        "annotations", NULL),
	            a);
	assert_tree(sl_node_map_get(obj(m, 2), "spec"), "{'selector':{}}");
	resmap_free(m);
}

/* ---- name references --------------------------------------------------------- */

static const char *const refs_configmap =
    "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'settings'}}";
static const char *const refs_secret =
    "{'apiVersion':'v1','kind':'Secret','metadata':{'name':'creds'}}";

static void name_references_follow_renames_in_pod_specs(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    refs_configmap, refs_secret,
	    "{'apiVersion':'v1','kind':'PersistentVolumeClaim','metadata':{'name':'cache'}}",
	    "{'apiVersion':'v1','kind':'ServiceAccount','metadata':{'name':'runner'}}",
	    "{'apiVersion':'apps/v1','kind':'StatefulSet','metadata':{'name':'web'},'spec':{"
	    "'template':{'spec':{'serviceAccountName':'runner','imagePullSecrets':[{'name':'creds'}"
	    ","
	    "{'name':'not-in-build'}],'containers':[{'name':'c','env':[{'name':'A','valueFrom':{"
	    "'configMapKeyRef':{'name':'settings','key':'k'}}},{'name':'B','valueFrom':{"
	    "'secretKeyRef':{'name':'creds','key':'k'}}},{'name':'C','valueFrom':{"
	    "'configMapKeyRef':{'name':'external','key':'x'}}},{'name':'D','value':'settings'}],"
	    "'envFrom':[{'configMapRef':{'name':'settings'}},{'secretRef':{'name':'creds'}}]}],"
	    "'volumes':[{'name':'p','projected':{'sources':[{'configMap':{'name':'settings'}},"
	    "{'secret':{'name':'creds'}}]}},{'name':'s','secret':{'secretName':'creds'}},"
	    "{'name':'v','persistentVolumeClaim':{'claimName':'cache'}}]}}}}",
	    NULL);
	build(m, NULL, "pre-", "-suf");
	assert_tree(
	    sl_node_dig(obj(m, 4), "spec", "template", "spec", NULL),
	    "{'serviceAccountName':'pre-runner-suf','imagePullSecrets':[{'name':"
	    "'pre-creds-suf'},{'name':'not-in-build'}],'containers':[{'name':'c','env':[{"
	    "'name':'A','valueFrom':{'configMapKeyRef':{'name':'pre-settings-suf','key':'k'}}"
	    "},{'name':'B','valueFrom':{'secretKeyRef':{'name':'pre-creds-suf','key':'k'}}},"
	    "{'name':'C','valueFrom':{'configMapKeyRef':{'name':'external','key':'x'}}},"
	    "{'name':'D','value':'settings'}],'envFrom':[{'configMapRef':{'name':"
	    "'pre-settings-suf'}},{'secretRef':{'name':'pre-creds-suf'}}]}],'volumes':[{"
	    "'name':'p','projected':{'sources':[{'configMap':{'name':'pre-settings-suf'}},"
	    "{'secret':{'name':'pre-creds-suf'}}]}},{'name':'s','secret':{'secretName':"
	    "'pre-creds-suf'}},{'name':'v','persistentVolumeClaim':{'claimName':"
	    "'pre-cache-suf'}}]}");
	resmap_free(m);
}

/* The node at a "|"-separated path of keys and list indexes. */
static const struct sl_node *at(const struct sl_node *n, const char *path)
{
	char *copy = strdup(path), *save = NULL;
	for (char *seg = strtok_r(copy, "|", &save); n && seg; seg = strtok_r(NULL, "|", &save)) {
		if (n->type == SL_NODE_SEQ) {
			size_t i = strtoul(seg, NULL, 10);
			n = i < n->seq.len ? n->seq.items[i] : NULL;
		} else {
			n = sl_node_map_get(n, seg);
		}
	}
	free(copy);
	return n;
}

/* One row per referrer field of kustomize's nameReference table: the
 * referral target "t" gets the prefix p-, and so does the reference. */
static void name_references_follow_each_referrer_field(void **state)
{
	(void)state;
	static const struct {
		const char *target, *referrer, *path;
	} rows[] = {
	    {"'v1','kind':'ConfigMap'",
	     "'v1','kind':'Pod','spec':{'initContainers':[{'envFrom':[{'configMapRef':{'name':'t'}}"
	     "]}]}",
	     "spec|initContainers|0|envFrom|0|configMapRef|name"},
	    {"'v1','kind':'ConfigMap'",
	     "'v1','kind':'PodTemplate','template':{'spec':{'volumes':[{'configMap':{'name':'t'}}]}"
	     "}",
	     "template|spec|volumes|0|configMap|name"},
	    {"'v1','kind':'ConfigMap'",
	     "'rbac.authorization.k8s.io/v1','kind':'Role','rules':[{'resourceNames':['x','t']}]",
	     "rules|0|resourceNames|1"},
	    {"'v1','kind':'ConfigMap'",
	     "'networking.k8s.io/v1','kind':'Ingress','metadata':{'name':'r','annotations':{"
	     "'nginx.ingress.kubernetes.io/fastcgi-params-configmap':'t'}}",
	     "metadata|annotations|nginx.ingress.kubernetes.io/fastcgi-params-configmap"},
	    {"'v1','kind':'Secret'",
	     "'apps/v1','kind':'DaemonSet','spec':{'template':{'spec':{'imagePullSecrets':[{'name':"
	     "'t'}]}}}",
	     "spec|template|spec|imagePullSecrets|0|name"},
	    {"'v1','kind':'Secret'",
	     "'v1','kind':'ServiceAccount','imagePullSecrets':[{'name':'t'}]",
	     "imagePullSecrets|0|name"},
	    {"'v1','kind':'Secret'",
	     "'storage.k8s.io/v1','kind':'StorageClass','parameters':{'adminSecretName':'t'}",
	     "parameters|adminSecretName"},
	    {"'v1','kind':'Service'",
	     "'apiregistration.k8s.io/v1','kind':'APIService','spec':{'service':{'name':'t'}}",
	     "spec|service|name"},
	    {"'v1','kind':'Service'",
	     "'extensions/v1beta1','kind':'Ingress','spec':{'backend':{'serviceName':'t'}}",
	     "spec|backend|serviceName"},
	    {"'v1','kind':'PersistentVolume'",
	     "'v1','kind':'PersistentVolumeClaim','spec':{'volumeName':'t'}", "spec|volumeName"},
	    {"'storage.k8s.io/v1','kind':'StorageClass'",
	     "'apps/v1','kind':'StatefulSet','spec':{'volumeClaimTemplates':[{'spec':{"
	     "'storageClassName':'t'}}]}",
	     "spec|volumeClaimTemplates|0|spec|storageClassName"},
	    {"'apps/v1','kind':'Deployment'",
	     "'autoscaling/v2','kind':'HorizontalPodAutoscaler','spec':{'scaleTargetRef':{'name':"
	     "'t'}}",
	     "spec|scaleTargetRef|name"},
	    {"'admissionregistration.k8s.io/v1','kind':'ValidatingAdmissionPolicy'",
	     "'admissionregistration.k8s.io/v1','kind':'ValidatingAdmissionPolicyBinding','spec':{"
	     "'policyName':'t'}",
	     "spec|policyName"},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(rows); i++) {
		char *target = NULL, *referrer = NULL;
		assert_true(asprintf(&target, "{'apiVersion':%s,'metadata':{'name':'t'}}",
		                     rows[i].target) > 0);
		assert_true(asprintf(&referrer, "{'metadata':{'name':'r'},'apiVersion':%s}",
		                     rows[i].referrer) > 0);
		/* A row's own metadata (it comes last) replaces the default. */
		struct sl_node *ref = J(referrer);
		struct ks_resmap *m = resmap(target, "{}", NULL);
		sl_node_free(m->items[1]->obj);
		m->items[1]->obj = ref;
		build(m, NULL, "p-", NULL);
		const char *got = sl_node_str(at(obj(m, 1), rows[i].path));
		if (!got || strcmp(got, "p-t") != 0)
			fail_msg("row %zu (%s): got %s", i, rows[i].path, got ? got : "(none)");
		resmap_free(m);
		free(target);
		free(referrer);
	}
}

/* kustomize's table spells IngressClass's group with its version, so an
 * ingressClassName never follows a rename. */
static void name_references_leave_ingress_class_names(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    "{'apiVersion':'networking.k8s.io/"
	    "v1','kind':'IngressClass','metadata':{'name':'nginx'}}",
	    "{'apiVersion':'networking.k8s.io/v1','kind':'Ingress','metadata':{'name':'i'},'spec':{"
	    "'ingressClassName':'nginx'}}",
	    NULL);
	build(m, NULL, "p-", NULL);
	assert_string_equal(ks_resource_name(m->items[0]), "p-nginx");
	assert_string_equal(sl_node_dig_str(obj(m, 1), "spec", "ingressClassName", NULL), "nginx");
	resmap_free(m);
}

static void name_references_follow_cronjob_hpa_and_class_references(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    refs_configmap,
	    "{'apiVersion':'storage.k8s.io/v1','kind':'StorageClass','metadata':{'name':'fast'}}",
	    "{'apiVersion':'scheduling.k8s.io/v1','kind':'PriorityClass','metadata':{'name':'hi'}}",
	    "{'apiVersion':'v1','kind':'PersistentVolumeClaim','metadata':{'name':'c'},'spec':{"
	    "'storageClassName':'fast'}}",
	    "{'apiVersion':'batch/"
	    "v1','kind':'CronJob','metadata':{'name':'r'},'spec':{'jobTemplate':"
	    "{'spec':{'template':{'spec':{'priorityClassName':'hi','containers':[{'name':'c',"
	    "'envFrom':[{'configMapRef':{'name':'settings'}}]}]}}}}}}",
	    "{'apiVersion':'apps/v1','kind':'StatefulSet','metadata':{'name':'web'},'spec':{"
	    "'serviceName':'web'}}",
	    "{'apiVersion':'v1','kind':'Service','metadata':{'name':'web'}}",
	    "{'apiVersion':'autoscaling/"
	    "v2','kind':'HorizontalPodAutoscaler','metadata':{'name':'h'},"
	    "'spec':{'scaleTargetRef':{'apiVersion':'apps/v1','kind':'StatefulSet','name':'web'}}}",
	    "{'apiVersion':'networking.k8s.io/v1','kind':'Ingress','metadata':{'name':'i'},'spec':{"
	    "'defaultBackend':{'service':{'name':'web'}},'tls':[{'secretName':'settings'}],"
	    "'rules':[{'http':{'paths':[{'backend':{'service':{'name':'web'}}}]}}]}}",
	    NULL);
	build(m, NULL, "p-", NULL);
	assert_string_equal(sl_node_dig_str(obj(m, 3), "spec", "storageClassName", NULL), "p-fast");
	assert_tree(sl_node_dig(obj(m, 4), "spec", "jobTemplate", "spec", "template", "spec", NULL),
	            "{'priorityClassName':'p-hi','containers':[{'name':'c','envFrom':[{"
	            "'configMapRef':{'name':'p-settings'}}]}]}");
	assert_string_equal(sl_node_dig_str(obj(m, 5), "spec", "serviceName", NULL), "p-web");
	assert_string_equal(sl_node_dig_str(obj(m, 7), "spec", "scaleTargetRef", "name", NULL),
	                    "p-web");
	/* A Secret is what tls names: the ConfigMap "settings" does not count. */
	assert_tree(sl_node_map_get(obj(m, 8), "spec"),
	            "{'defaultBackend':{'service':{'name':'p-web'}},'tls':[{'secretName':"
	            "'settings'}],'rules':[{'http':{'paths':[{'backend':{'service':{'name':'p-web'"
	            "}}}]}}]}");
	resmap_free(m);
}

static void name_references_leave_serviceaccount_secrets_and_custom_resources(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    refs_configmap, refs_secret,
	    "{'apiVersion':'v1','kind':'ServiceAccount','metadata':{'name':'sa'},'secrets':[{'name'"
	    ":"
	    "'creds'}],'imagePullSecrets':[{'name':'creds'}]}",
	    "{'apiVersion':'example.com/v1','kind':'AppConfig','metadata':{'name':'x'},'spec':{"
	    "'configMapRef':{'name':'settings'},'serviceAccountName':'sa'}}",
	    NULL);
	build(m, NULL, "p-", NULL);
	assert_tree(obj(m, 2), "{'apiVersion':'v1','kind':'ServiceAccount','metadata':{'name':"
	                       "'p-sa'},'secrets':[{'name':'creds'}],'imagePullSecrets':[{'name':"
	                       "'p-creds'}]}");
	assert_tree(sl_node_map_get(obj(m, 3), "spec"),
	            "{'configMapRef':{'name':'settings'},'serviceAccountName':'sa'}");
	resmap_free(m);
}

static void name_references_pick_role_or_cluster_role_by_role_ref(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'Role','metadata':{'name':'r'}}",
	    "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'ClusterRole','metadata':{'name':"
	    "'r'}}",
	    "{'apiVersion':'rbac.authorization.k8s.io/v1','kind':'RoleBinding','metadata':{'name':"
	    "'b'},'roleRef':{'apiGroup':'rbac.authorization.k8s.io','kind':'ClusterRole','name':"
	    "'r'}}",
	    NULL);
	struct sl_error err = {0};
	assert_ok(ks_apply_name_affixes(m, "p-", NULL, &err), &err);
	/* Give the two roles different names to see which one is chosen. */
	ks_resource_rename(m->items[1], "p-r-cluster", NULL);
	assert_ok(ks_fix_name_references(m, NULL, &err), &err);
	assert_string_equal(sl_node_dig_str(obj(m, 2), "roleRef", "name", NULL), "p-r-cluster");
	resmap_free(m);
}

static void name_references_stay_within_the_referrer_namespace(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'cfg','namespace':'a'}}",
	    "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'p','namespace':'b'},'spec':{"
	    "'volumes':[{'name':'v','configMap':{'name':'cfg'}}]}}",
	    "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'q','namespace':'a'},'spec':{"
	    "'volumes':[{'name':'v','configMap':{'name':'cfg'}}]}}",
	    NULL);
	build(m, NULL, "x-", NULL);
	assert_string_equal(
	    sl_node_dig_str(sl_node_dig(obj(m, 1), "spec", "volumes", NULL)->seq.items[0],
	                    "configMap", "name", NULL),
	    "cfg");
	assert_string_equal(
	    sl_node_dig_str(sl_node_dig(obj(m, 2), "spec", "volumes", NULL)->seq.items[0],
	                    "configMap", "name", NULL),
	    "x-cfg");
	resmap_free(m);
}

/* Two bases with their own prefixes each hold a ConfigMap "cfg" and a
 * Deployment using it: each Deployment gets its own. */
static void name_references_prefer_candidates_with_the_same_prefixes(void **state)
{
	(void)state;
	const char *cfg = "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'cfg'}}";
	const char *dep = "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'d'},"
	                  "'spec':{'template':{'spec':{'volumes':[{'name':'v','configMap':{'name':"
	                  "'cfg'}}]}}}}";
	struct ks_resmap *a = resmap(cfg, dep, NULL);
	struct ks_resmap *b = resmap(cfg, dep, NULL);
	struct sl_error err = {0};
	assert_ok(ks_apply_name_affixes(a, "a-", NULL, &err), &err);
	assert_ok(ks_apply_name_affixes(b, "b-", NULL, &err), &err);
	struct ks_resmap m = {0};
	for (size_t i = 0; i < 2; i++) {
		ks_resmap_push(&m, a->items[i]);
		ks_resmap_push(&m, b->items[i]);
	}
	a->len = b->len = 0;
	assert_ok(ks_apply_name_affixes(&m, "top-", NULL, &err), &err);
	assert_ok(ks_fix_name_references(&m, NULL, &err), &err);
	/* m: a-cfg, b-cfg, a-d, b-d (all under top-). */
	for (size_t i = 2; i < 4; i++) {
		struct sl_node *vols =
		    sl_node_dig(obj(&m, i), "spec", "template", "spec", "volumes", NULL);
		assert_string_equal(sl_node_dig_str(vols->seq.items[0], "configMap", "name", NULL),
		                    i == 2 ? "top-a-cfg" : "top-b-cfg");
	}
	ks_resmap_clear(&m);
	resmap_free(a);
	resmap_free(b);
}

static void name_references_fail_when_ambiguous(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    refs_configmap, refs_configmap,
	    "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'p'},'spec':{'volumes':[{'name':"
	    "'v','configMap':{'name':'settings'}}]}}",
	    NULL);
	struct sl_error err = {0};
	ks_resource_rename(m->items[0], "one", NULL);
	ks_resource_rename(m->items[1], "two", NULL);
	assert_true(ks_fix_name_references(m, NULL, &err) < 0);
	assert_non_null(strstr(err.msg, "found multiple possible referrals"));
	assert_non_null(strstr(err.msg, "ConfigMap.v1.[noGrp]/one.[noNs]"));
	resmap_free(m);
}

static void name_references_follow_crds_declared_fields(void **state)
{
	(void)state;
	struct sl_node *doc = J(
	    "{'example.com/v1.MyKind':{'Schema':{'properties':{'apiVersion':{},'kind':{},"
	    "'metadata':{'$ref':'meta.ObjectMeta'},'spec':{'$ref':'example.com/v1.MyKindSpec'}}}},"
	    "'example.com/v1.MyKindSpec':{'Schema':{'properties':{'secretRef':{"
	    "'x-kubernetes-object-ref-api-version':'v1','x-kubernetes-object-ref-kind':'Secret',"
	    "'$ref':'example.com/v1.Ref'},'configMapRef':{'x-kubernetes-object-ref-api-version':"
	    "'v1','x-kubernetes-object-ref-kind':'ConfigMap'},'unrelatedRef':{'$ref':"
	    "'example.com/v1.Ref'}}}}}");
	struct ks_nameref_extra *extra = NULL;
	struct sl_error err = {0};
	assert_ok(ks_nameref_extra_add_crd(&extra, doc, &err), &err);
	sl_node_free(doc);
	struct ks_resmap *m =
	    resmap(refs_configmap, refs_secret,
	           "{'apiVersion':'example.com/v1','kind':'MyKind','metadata':{'name':'k'},'spec':{"
	           "'secretRef':{'name':'creds'},'configMapRef':{'name':'settings'},"
	           "'unrelatedRef':{'name':'settings'}}}",
	           NULL);
	assert_ok(ks_apply_name_affixes(m, "test-", NULL, &err), &err);
	assert_ok(ks_fix_name_references(m, extra, &err), &err);
	assert_tree(sl_node_map_get(obj(m, 2), "spec"),
	            "{'secretRef':{'name':'test-creds'},'configMapRef':{'name':'test-settings'},"
	            "'unrelatedRef':{'name':'settings'}}");
	ks_nameref_extra_free(extra);
	resmap_free(m);
}

static void fix_up_removes_build_annotations_and_emptied_maps(void **state)
{
	(void)state;
	struct ks_resmap *m = resmap(
	    "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'a','annotations':{}}}",
	    "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'b','annotations':{'k':'v'}}"
	    "}",
	    "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'c','annotations':{}}}",
	    NULL);
	struct sl_error err = {0};
	struct ks_resmap first = {0};
	ks_resmap_push(&first, m->items[0]);
	ks_resmap_push(&first, m->items[1]);
	assert_ok(ks_apply_name_affixes(&first, "p-", NULL, &err), &err);
	free(first.items);
	assert_ok(ks_fix_name_references(m, NULL, &err), &err);
	/* kustomize drops an annotations map that only held its bookkeeping;
	 * one it never touched stays. */
	assert_tree(obj(m, 0), "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'p-a'}}");
	assert_tree(obj(m, 1), "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'p-b',"
	                       "'annotations':{'k':'v'}}}");
	assert_tree(obj(m, 2), "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'c',"
	                       "'annotations':{}}}");
	resmap_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(namespace_sets_namespaced_kinds_and_skips_cluster_scoped),
	    cmocka_unit_test(namespace_makes_custom_resources_namespaced),
	    cmocka_unit_test(namespace_renames_core_namespace_objects_only),
	    cmocka_unit_test(namespace_records_every_resource_in_history),
	    cmocka_unit_test(namespace_moves_subjects_named_default_or_in_the_build),
	    cmocka_unit_test(namespace_sets_apiservice_and_webhook_service_namespaces),
	    cmocka_unit_test(namespace_fails_when_two_objects_get_the_same_id),
	    cmocka_unit_test(affixes_skip_namespaces_crds_and_apiservices),
	    cmocka_unit_test(affixes_record_prefix_then_suffix_in_history),
	    cmocka_unit_test(common_labels_reach_selectors_and_templates),
	    cmocka_unit_test(common_labels_leave_job_selector_absent),
	    cmocka_unit_test(common_labels_touch_only_metadata_of_custom_resources),
	    cmocka_unit_test(common_labels_update_existing_network_policy_pod_selectors),
	    cmocka_unit_test(labels_without_options_touch_metadata_only),
	    cmocka_unit_test(labels_include_templates_but_not_selectors),
	    cmocka_unit_test(labels_custom_fields_are_created),
	    cmocka_unit_test(labels_refuse_values_that_are_not_strings),
	    cmocka_unit_test(annotations_reach_metadata_and_pod_templates),
	    cmocka_unit_test(name_references_follow_renames_in_pod_specs),
	    cmocka_unit_test(name_references_follow_each_referrer_field),
	    cmocka_unit_test(name_references_leave_ingress_class_names),
	    cmocka_unit_test(name_references_follow_cronjob_hpa_and_class_references),
	    cmocka_unit_test(name_references_leave_serviceaccount_secrets_and_custom_resources),
	    cmocka_unit_test(name_references_pick_role_or_cluster_role_by_role_ref),
	    cmocka_unit_test(name_references_stay_within_the_referrer_namespace),
	    cmocka_unit_test(name_references_prefer_candidates_with_the_same_prefixes),
	    cmocka_unit_test(name_references_fail_when_ambiguous),
	    cmocka_unit_test(name_references_follow_crds_declared_fields),
	    cmocka_unit_test(fix_up_removes_build_annotations_and_emptied_maps),
	};
	return cmocka_run_group_tests_name("transform", tests, NULL, NULL);
}
