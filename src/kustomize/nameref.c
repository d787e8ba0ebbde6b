/* kustomize's name reference fix-up (api/internal/accumulator's
 * nameReferenceTransformer and api/filters/nameref): once at the end of a
 * build, every field that names another object of the build gets that
 * object's final name. The referrer fields are kustomize v5's
 * nameReference table, plus what a kustomization's `crds:` declares. */
#include <string.h>

#include "kustomize/fieldspec.h"
#include "kustomize/ks.h"

/* ---- kustomize's nameReference table ------------------------------------ */

/* A referral target and the fields that may name one. */
struct backref {
	const char *group, *version, *kind;
	const struct ks_fieldspec *specs;
	size_t n;
};

#define POD_CONFIGMAPS(version, kind, spec)                                                        \
	{NULL, version, kind, spec "/volumes/configMap/name", false},                              \
	    {NULL, version, kind, spec "/containers/env/valueFrom/configMapKeyRef/name", false},   \
	    {NULL, version, kind, spec "/initContainers/env/valueFrom/configMapKeyRef/name",       \
	     false},                                                                               \
	    {NULL, version, kind, spec "/containers/envFrom/configMapRef/name", false},            \
	    {NULL, version, kind, spec "/initContainers/envFrom/configMapRef/name", false},        \
	{                                                                                          \
		NULL, version, kind, spec "/volumes/projected/sources/configMap/name", false       \
	}

#define POD_SECRETS(version, kind, spec)                                                           \
	{NULL, version, kind, spec "/volumes/secret/secretName", false},                           \
	    {NULL, version, kind, spec "/containers/env/valueFrom/secretKeyRef/name", false},      \
	    {NULL, version, kind, spec "/initContainers/env/valueFrom/secretKeyRef/name", false},  \
	    {NULL, version, kind, spec "/containers/envFrom/secretRef/name", false},               \
	    {NULL, version, kind, spec "/initContainers/envFrom/secretRef/name", false},           \
	    {NULL, version, kind, spec "/imagePullSecrets/name", false},                           \
	{                                                                                          \
		NULL, version, kind, spec "/volumes/projected/sources/secret/name", false          \
	}

/* The pod-spec kinds kustomize lists for ServiceAccounts, PVCs and
 * PriorityClasses (no ReplicaSet, no PodTemplate). */
#define POD_SPEC_FIELD(field)                                                                      \
	{NULL, NULL, "Pod", "spec/" field, false},                                                 \
	    {NULL, NULL, "StatefulSet", "spec/template/spec/" field, false},                       \
	    {NULL, NULL, "Deployment", "spec/template/spec/" field, false},                        \
	    {NULL, NULL, "ReplicationController", "spec/template/spec/" field, false},             \
	    {NULL, NULL, "CronJob", "spec/jobTemplate/spec/template/spec/" field, false},          \
	    {NULL, NULL, "Job", "spec/template/spec/" field, false},                               \
	{                                                                                          \
		NULL, NULL, "DaemonSet", "spec/template/spec/" field, false                        \
	}

static const struct ks_fieldspec hpa_refs[] = {
    {NULL, NULL, "HorizontalPodAutoscaler", "spec/scaleTargetRef/name", false},
};

static const struct ks_fieldspec configmap_refs[] = {
    POD_CONFIGMAPS("v1", "Pod", "spec"),
    POD_CONFIGMAPS(NULL, "PodTemplate", "template/spec"),
    POD_CONFIGMAPS(NULL, "Deployment", "spec/template/spec"),
    POD_CONFIGMAPS(NULL, "ReplicaSet", "spec/template/spec"),
    POD_CONFIGMAPS(NULL, "DaemonSet", "spec/template/spec"),
    POD_CONFIGMAPS(NULL, "StatefulSet", "spec/template/spec"),
    POD_CONFIGMAPS(NULL, "Job", "spec/template/spec"),
    POD_CONFIGMAPS(NULL, "CronJob", "spec/jobTemplate/spec/template/spec"),
    {NULL, NULL, "Node", "spec/configSource/configMap", false},
    {NULL, NULL, "Role", "rules/resourceNames", false},
    {NULL, NULL, "ClusterRole", "rules/resourceNames", false},
    {NULL, NULL, "Ingress",
     "metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap", false},
};

static const struct ks_fieldspec secret_refs[] = {
    POD_SECRETS("v1", "Pod", "spec"),
    POD_SECRETS(NULL, "PodTemplate", "template/spec"),
    POD_SECRETS(NULL, "Deployment", "spec/template/spec"),
    POD_SECRETS(NULL, "ReplicaSet", "spec/template/spec"),
    POD_SECRETS(NULL, "DaemonSet", "spec/template/spec"),
    POD_SECRETS(NULL, "StatefulSet", "spec/template/spec"),
    POD_SECRETS(NULL, "Job", "spec/template/spec"),
    POD_SECRETS(NULL, "CronJob", "spec/jobTemplate/spec/template/spec"),
    {NULL, NULL, "Ingress", "spec/tls/secretName", false},
    {NULL, NULL, "Ingress", "metadata/annotations/ingress.kubernetes.io\\/auth-secret", false},
    {NULL, NULL, "Ingress", "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret",
     false},
    {NULL, NULL, "Ingress", "metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret",
     false},
    {NULL, NULL, "ServiceAccount", "imagePullSecrets/name", false},
    {NULL, NULL, "StorageClass", "parameters/secretName", false},
    {NULL, NULL, "StorageClass", "parameters/adminSecretName", false},
    {NULL, NULL, "StorageClass", "parameters/userSecretName", false},
    {NULL, NULL, "StorageClass", "parameters/secretRef", false},
    {NULL, NULL, "Role", "rules/resourceNames", false},
    {NULL, NULL, "ClusterRole", "rules/resourceNames", false},
    {"serving.knative.dev", "v1", "Service",
     "spec/template/spec/containers/env/valueFrom/secretKeyRef/name", false},
    {NULL, NULL, "PersistentVolume", "spec/azureFile/secretName", false},
};

static const struct ks_fieldspec service_refs[] = {
    {"apps", NULL, "StatefulSet", "spec/serviceName", false},
    {NULL, NULL, "Ingress", "spec/rules/http/paths/backend/serviceName", false},
    {NULL, NULL, "Ingress", "spec/backend/serviceName", false},
    {NULL, NULL, "Ingress", "spec/rules/http/paths/backend/service/name", false},
    {NULL, NULL, "Ingress", "spec/defaultBackend/service/name", false},
    {"apiregistration.k8s.io", NULL, "APIService", "spec/service/name", false},
    /* A {name, namespace} map: both come from the Service. */
    {"admissionregistration.k8s.io", NULL, "ValidatingWebhookConfiguration",
     "webhooks/clientConfig/service", false},
    {"admissionregistration.k8s.io", NULL, "MutatingWebhookConfiguration",
     "webhooks/clientConfig/service", false},
};

static const struct ks_fieldspec role_refs[] = {
    {"rbac.authorization.k8s.io", NULL, "RoleBinding", "roleRef/name", false},
};

static const struct ks_fieldspec clusterrole_refs[] = {
    {"rbac.authorization.k8s.io", NULL, "RoleBinding", "roleRef/name", false},
    {"rbac.authorization.k8s.io", NULL, "ClusterRoleBinding", "roleRef/name", false},
};

static const struct ks_fieldspec serviceaccount_refs[] = {
    /* Each subject as a {name, namespace} map, whatever its kind. */
    {"rbac.authorization.k8s.io", NULL, "RoleBinding", "subjects", false},
    {"rbac.authorization.k8s.io", NULL, "ClusterRoleBinding", "subjects", false},
    POD_SPEC_FIELD("serviceAccountName"),
};

static const struct ks_fieldspec pvc_refs[] = {
    POD_SPEC_FIELD("volumes/persistentVolumeClaim/claimName"),
};

static const struct ks_fieldspec pv_refs[] = {
    {NULL, NULL, "PersistentVolumeClaim", "spec/volumeName", false},
    {NULL, NULL, "ClusterRole", "rules/resourceNames", false},
};

static const struct ks_fieldspec storageclass_refs[] = {
    {NULL, NULL, "PersistentVolume", "spec/storageClassName", false},
    {NULL, NULL, "PersistentVolumeClaim", "spec/storageClassName", false},
    {NULL, NULL, "StatefulSet", "spec/volumeClaimTemplates/spec/storageClassName", false},
};

static const struct ks_fieldspec priorityclass_refs[] = {
    POD_SPEC_FIELD("priorityClassName"),
};

static const struct ks_fieldspec ingressclass_refs[] = {
    {NULL, NULL, "Ingress", "spec/ingressClassName", false},
};

static const struct ks_fieldspec vap_refs[] = {
    {"admissionregistration.k8s.io", NULL, "ValidatingAdmissionPolicyBinding", "spec/policyName",
     false},
};

#define BACKREF(group, version, kind, specs)                                                       \
	{                                                                                          \
		group, version, kind, specs, SL_ARRAY_SIZE(specs)                                  \
	}

static const struct backref builtin_backrefs[] = {
    BACKREF(NULL, NULL, "Deployment", hpa_refs),
    BACKREF(NULL, NULL, "ReplicationController", hpa_refs),
    BACKREF(NULL, NULL, "ReplicaSet", hpa_refs),
    BACKREF(NULL, NULL, "StatefulSet", hpa_refs),
    BACKREF(NULL, "v1", "ConfigMap", configmap_refs),
    BACKREF(NULL, "v1", "Secret", secret_refs),
    BACKREF(NULL, "v1", "Service", service_refs),
    BACKREF("rbac.authorization.k8s.io", NULL, "Role", role_refs),
    BACKREF("rbac.authorization.k8s.io", NULL, "ClusterRole", clusterrole_refs),
    BACKREF(NULL, "v1", "ServiceAccount", serviceaccount_refs),
    BACKREF(NULL, "v1", "PersistentVolumeClaim", pvc_refs),
    BACKREF(NULL, "v1", "PersistentVolume", pv_refs),
    BACKREF("storage.k8s.io", "v1", "StorageClass", storageclass_refs),
    BACKREF("scheduling.k8s.io", "v1", "PriorityClass", priorityclass_refs),
    /* kustomize's table spells this group with its version, so no
     * IngressClass ever matches: ingressClassName is never updated. */
    BACKREF("networking.k8s.io/v1", "v1", "IngressClass", ingressclass_refs),
    BACKREF("admissionregistration.k8s.io", NULL, "ValidatingAdmissionPolicy", vap_refs),
};

/* ---- crds: ------------------------------------------------------------ */

/* A reference declared by an OpenAPI definition: objects of kind `kind`
 * name a `target_kind` (apiVersion `target_version`) at `path`. */
struct extra_rule {
	char *target_version, *target_kind;
	char *kind, *path;
};

struct ks_nameref_extra {
	struct extra_rule *rules;
	size_t len, cap;
};

/* Nesting of $ref chains followed from one type. */
#define CRD_MAX_DEPTH 64

static void extra_push(struct ks_nameref_extra *x, const char *version, const char *target,
                       const char *kind, const char *path)
{
	for (size_t i = 0; i < x->len; i++)
		if (strcmp(x->rules[i].target_version, version) == 0 &&
		    strcmp(x->rules[i].target_kind, target) == 0 &&
		    strcmp(x->rules[i].kind, kind) == 0 && strcmp(x->rules[i].path, path) == 0)
			return;
	if (x->len == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 8;
		x->rules = sl_xrealloc(x->rules, x->cap * sizeof(*x->rules));
	}
	x->rules[x->len++] = (struct extra_rule){sl_strdup(version), sl_strdup(target),
	                                         sl_strdup(kind), sl_strdup(path)};
}

/* Go's encoding/json matches struct fields case-insensitively, and the
 * OpenAPI definitions' "Schema" is such a field. */
static const struct sl_node *get_fold(const struct sl_node *map, const char *key)
{
	if (!map || map->type != SL_NODE_MAP)
		return NULL;
	const struct sl_node *exact = sl_node_map_get(map, key);
	if (exact)
		return exact;
	for (size_t i = 0; i < map->map.len; i++)
		if (strcasecmp(map->map.items[i].key, key) == 0)
			return map->map.items[i].value;
	return NULL;
}

static const struct sl_node *schema_properties(const struct sl_node *def)
{
	const struct sl_node *props = sl_node_map_get(get_fold(def, "Schema"), "properties");
	return props && props->type == SL_NODE_MAP ? props : NULL;
}

/* An OpenAPI vendor extension of a string value (go-openapi keeps their
 * keys lowercased). */
static const char *extension(const struct sl_node *prop, const char *key)
{
	for (size_t i = 0; i < prop->map.len; i++)
		if (strcasecmp(prop->map.items[i].key, key) == 0)
			return sl_node_str(prop->map.items[i].value);
	return NULL;
}

/* kustomize's loadCrdIntoConfig: the properties of type_name, then the
 * types their $refs name, with the path so far. */
static int load_type(struct ks_nameref_extra *x, const struct sl_node *doc, const char *kind,
                     const char *type_name, const char *path, unsigned depth, struct sl_error *err)
{
	const struct sl_node *props = schema_properties(sl_node_map_get(doc, type_name));
	if (!props)
		return 0;
	if (depth > CRD_MAX_DEPTH)
		return sl_error_set(err, SL_ELIMIT, "crds: $ref chain deeper than %d at '%s'",
		                    CRD_MAX_DEPTH, type_name);
	for (size_t i = 0; i < props->map.len; i++) {
		const struct sl_node *prop = props->map.items[i].value;
		if (prop->type != SL_NODE_MAP)
			continue;
		_cleanup_free_ char *here =
		    *path ? sl_asprintf("%s/%s", path, props->map.items[i].key)
		          : sl_strdup(props->map.items[i].key);
		const char *version = extension(prop, "x-kubernetes-object-ref-api-version");
		const char *target = extension(prop, "x-kubernetes-object-ref-kind");
		if (version && target) {
			const char *name_key = extension(prop, "x-kubernetes-object-ref-name-key");
			_cleanup_free_ char *ref_path =
			    sl_asprintf("%s/%s", here, name_key ? name_key : "name");
			extra_push(x, version, target, kind, ref_path);
		}
		const char *ref = sl_node_dig_str(prop, "$ref", NULL);
		if (ref && *ref) {
			int r = load_type(x, doc, kind, ref, here, depth + 1, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int ks_nameref_extra_add_crd(struct ks_nameref_extra **extra, const struct sl_node *doc,
                             struct sl_error *err)
{
	if (!doc || doc->type != SL_NODE_MAP)
		return sl_error_set(
		    err, SL_EINVAL,
		    "unable to parse open API definition: not a map of definitions");
	if (!*extra)
		*extra = sl_xcalloc(1, sizeof(**extra));
	for (size_t i = 0; i < doc->map.len; i++) {
		const struct sl_node_pair *def = &doc->map.items[i];
		if (def->value->type != SL_NODE_MAP)
			return sl_error_set(err, SL_EINVAL,
			                    "unable to parse open API definition: '%s' is a %s, "
			                    "not an object",
			                    def->key, sl_node_type_name(def->value->type));
		const struct sl_node *props = schema_properties(def->value);
		/* Only types that look like Kubernetes objects start a walk;
		 * their kind is the type name after its last dot. */
		if (!props || !sl_node_map_get(props, "kind") ||
		    !sl_node_map_get(props, "apiVersion") || !sl_node_map_get(props, "metadata"))
			continue;
		const char *dot = strrchr(def->key, '.');
		int r = load_type(*extra, doc, dot ? dot + 1 : def->key, def->key, "", 0, err);
		if (r < 0)
			return r;
	}
	return 0;
}

struct ks_nameref_extra *ks_nameref_extra_free(struct ks_nameref_extra *extra)
{
	if (!extra)
		return NULL;
	for (size_t i = 0; i < extra->len; i++) {
		free(extra->rules[i].target_version);
		free(extra->rules[i].target_kind);
		free(extra->rules[i].kind);
		free(extra->rules[i].path);
	}
	free(extra->rules);
	free(extra);
	return NULL;
}

/* ---- the resources as the fix-up sees them ------------------------------ */

struct res_info {
	struct ks_resource *r;
	struct ks_gvk gvk;
	bool cluster;
	char *ns; /* effective namespace, cached: the fix-up changes no namespace */
	struct sl_strv prefixes, suffixes;
	bool referenced;
};

struct fixer {
	struct res_info *res;
	size_t n;
	size_t *subset; /* scratch: the candidates of the current referrer */
	size_t n_subset;
};

/* kustomize's EffectiveNamespace: "" and "default" are the same. */
static const char *effective_ns(const char *ns)
{
	return ns && *ns ? ns : "default";
}

static const char *original_ns(const struct res_info *ri)
{
	const struct ks_resource *r = ri->r;
	return effective_ns(r->prev_namespaces.len ? r->prev_namespaces.items[0]
	                                           : ks_resource_namespace(r));
}

static const char *current_ns(const struct res_info *ri)
{
	return ri->ns;
}

static void split_csv(const char *s, struct sl_strv *ret)
{
	if (!s)
		return;
	for (;;) {
		const char *comma = strchr(s, ',');
		_cleanup_free_ char *item = sl_strndup(s, comma ? (size_t)(comma - s) : strlen(s));
		sl_strv_push(ret, item);
		if (!comma)
			return;
		s = comma + 1;
	}
}

/* kustomize's SameEndingSubSlice: the shorter list ends the longer one;
 * an empty list only matches an empty one. */
static bool same_ending(const struct sl_strv *a, const struct sl_strv *b)
{
	const struct sl_strv *s = a->len <= b->len ? a : b, *l = a->len <= b->len ? b : a;
	if (s->len == 0)
		return l->len == 0;
	size_t diff = l->len - s->len;
	for (size_t i = 0; i < s->len; i++)
		if (strcmp(s->items[i], l->items[i + diff]) != 0)
			return false;
	return true;
}

static bool affixes_equal(const struct res_info *a, const struct res_info *b, bool allow_empty)
{
	bool prefixes = (allow_empty && (!a->prefixes.len || !b->prefixes.len)) ||
	                same_ending(&a->prefixes, &b->prefixes);
	bool suffixes = (allow_empty && (!a->suffixes.len || !b->suffixes.len)) ||
	                same_ending(&a->suffixes, &b->suffixes);
	return prefixes && suffixes;
}

/* SubsetThatCouldBeReferencedByResource: a namespaced referrer sees the
 * cluster-scoped objects, those of its namespace, and (a RoleBinding) the
 * namespaces of its ServiceAccount subjects. */
static void compute_subset(struct fixer *f, size_t referrer)
{
	const struct res_info *ri = &f->res[referrer];
	f->n_subset = 0;
	const struct sl_node *subjects = NULL;
	if (strcmp(ri->gvk.kind, "RoleBinding") == 0)
		subjects = sl_node_map_get(ri->r->obj, "subjects");
	for (size_t i = 0; i < f->n; i++) {
		const struct res_info *c = &f->res[i];
		bool ok = ri->cluster || c->cluster || strcmp(current_ns(ri), current_ns(c)) == 0;
		for (size_t k = 0;
		     !ok && subjects && subjects->type == SL_NODE_SEQ && k < subjects->seq.len;
		     k++) {
			const struct sl_node *s = subjects->seq.items[k];
			const char *ns = sl_node_dig_str(s, "namespace", NULL);
			const char *kind = sl_node_dig_str(s, "kind", NULL);
			ok = ns && kind && strcmp(kind, "ServiceAccount") == 0 &&
			     strcmp(ns, ks_resource_namespace(c->r)) == 0;
		}
		if (ok)
			f->subset[f->n_subset++] = i;
	}
}

/* ---- choosing the referral (nameref's selectReferral) ------------------ */

struct ref {
	struct fixer *f;
	size_t referrer;
	const char *group, *version, *kind; /* the target */
	bool role_ref;                      /* the path is a roleRef: its apiGroup and kind count */
	const char *role_group, *role_kind;
};

static bool had_name(const struct res_info *c, const char *name)
{
	for (size_t i = 0; i < c->r->prev_names.len; i++)
		if (strcmp(c->r->prev_names.items[i], name) == 0)
			return true;
	return false;
}

/* The steps of nameref's selectReferral, in order. */
enum sieve_step {
	SIEVE_PREVIOUS_NAME,   /* some previous id had the name */
	SIEVE_TARGET_KIND,     /* of the target's kind (previous ids keep the group/version) */
	SIEVE_ROLE_REF,        /* what a roleRef's apiGroup and kind say */
	SIEVE_NAMESPACE,       /* sameCurrentNamespaceAsReferrer */
	SIEVE_AFFIXES_OR_NONE, /* the referrer's prefixes/suffixes, or none on either side */
	SIEVE_AFFIXES,         /* exactly the referrer's prefixes/suffixes */
};

static bool sieve_keeps(const struct ref *x, const struct res_info *c, const char *name,
                        enum sieve_step step)
{
	const struct res_info *referrer = &x->f->res[x->referrer];
	switch (step) {
	case SIEVE_PREVIOUS_NAME: return had_name(c, name);
	case SIEVE_TARGET_KIND:
		return c->r->prev_names.len &&
		       ks_gvk_selected(&c->gvk, x->group, x->version, x->kind);
	case SIEVE_ROLE_REF:
		return !x->role_ref ||
		       (c->r->prev_names.len &&
		        ks_gvk_selected(&c->gvk, x->role_group, NULL, x->role_kind));
	case SIEVE_NAMESPACE:
		/* ServiceAccounts pass: a binding may name one elsewhere. */
		return referrer->cluster || c->cluster ||
		       strcmp(c->gvk.kind, "ServiceAccount") == 0 ||
		       strcmp(current_ns(referrer), current_ns(c)) == 0;
	case SIEVE_AFFIXES_OR_NONE: return affixes_equal(c, referrer, true);
	case SIEVE_AFFIXES: return affixes_equal(c, referrer, false);
	}
	return false;
}

/* Keeps the candidates that pass step; returns how many. */
static size_t sieve(const struct ref *x, size_t *cands, size_t n, const char *name,
                    enum sieve_step step)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		bool ok = sieve_keeps(x, &x->f->res[cands[i]], name, step);
		if (ok)
			cands[kept++] = cands[i];
	}
	return kept;
}

static int multiple_referrals(const struct ref *x, const size_t *cands, size_t n,
                              struct sl_error *err)
{
	struct sl_buf ids;
	sl_buf_init(&ids, 0);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *id = ks_resid_string(x->f->res[cands[i]].r->obj);
		sl_buf_printf(&ids, "%s%s", i ? ", " : "", id);
	}
	int r = sl_error_set(err, SL_EINVAL, "found multiple possible referrals: %s",
	                     ids.data ? ids.data : "");
	sl_buf_free(&ids);
	return r;
}

/* Sets *ret to the index of the object old_name refers to, or -1 when
 * none does. cands (scratch, modified) are the candidates. with_ns: the
 * reference also takes the namespace, so candidates that agree on the name
 * but not the namespace are ambiguous. */
static int select_referral(const struct ref *x, const char *old_name, size_t *cands, size_t n,
                           bool with_ns, ssize_t *ret, struct sl_error *err)
{
	*ret = -1;
	for (enum sieve_step step = SIEVE_PREVIOUS_NAME; step <= SIEVE_NAMESPACE; step++)
		n = sieve(x, cands, n, old_name, step);
	if (n > 1) {
		n = sieve(x, cands, n, old_name, SIEVE_AFFIXES_OR_NONE);
		if (n > 1)
			n = sieve(x, cands, n, old_name, SIEVE_AFFIXES);
	}
	if (n == 0)
		return 0;
	const struct ks_resource *first = x->f->res[cands[0]].r;
	for (size_t i = 1; i < n; i++) {
		const struct ks_resource *c = x->f->res[cands[i]].r;
		if (strcmp(ks_resource_name(c), ks_resource_name(first)) != 0 ||
		    (with_ns &&
		     strcmp(ks_resource_namespace(c), ks_resource_namespace(first)) != 0))
			return multiple_referrals(x, cands, n, err);
	}
	*ret = (ssize_t)cands[0];
	x->f->res[cands[0]].referenced = true;
	return 0;
}

/* ---- updating the referrer's fields --------------------------------------- */

static int set_scalar(struct ref *x, struct sl_node *node, struct sl_error *err)
{
	const char *old = sl_node_str(node);
	if (!old)
		return 0; /* only strings name objects */
	struct fixer *f = x->f;
	size_t n = f->n_subset;
	_cleanup_free_ size_t *cands = sl_xcalloc(n + 1, sizeof(*cands));
	memcpy(cands, f->subset, n * sizeof(*cands));
	ssize_t sel;
	int r = select_referral(x, old, cands, n, false, &sel, err);
	if (r < 0 || sel < 0)
		return r;
	const char *name = ks_resource_name(f->res[sel].r);
	if (strcmp(name, old) != 0)
		sl_node_replace(node, sl_node_new_str(name));
	return 0;
}

/* A {name, namespace} map (webhook service, RoleBinding subject): the
 * namespace narrows the candidates, and is rewritten with the name. */
static int set_mapping(struct ref *x, struct sl_node *node, struct sl_error *err)
{
	struct sl_node *name_node = sl_node_map_get(node, "name");
	if (!name_node)
		return sl_error_set(err, SL_EINVAL, "path config error; no 'name' field in node");
	struct fixer *f = x->f;
	_cleanup_free_ size_t *cands = sl_xcalloc(f->n_subset + 1, sizeof(*cands));
	size_t n = 0;
	const struct sl_node *ns_node = sl_node_map_get(node, "namespace");
	if (!ns_node) {
		memcpy(cands, f->subset, f->n_subset * sizeof(*cands));
		n = f->n_subset;
	} else {
		/* Those whose original namespace it is, else those whose
		 * current namespace it is; never cluster-scoped ones. */
		const char *ns = sl_node_str(ns_node) ? sl_node_str(ns_node) : "";
		for (int pass = 0; pass < 2 && n == 0; pass++)
			for (size_t i = 0; i < f->n_subset; i++) {
				const struct res_info *c = &f->res[f->subset[i]];
				if (!c->cluster &&
				    strcmp(pass == 0 ? original_ns(c) : current_ns(c), ns) == 0)
					cands[n++] = f->subset[i];
			}
	}
	const char *old = sl_node_str(name_node) ? sl_node_str(name_node) : "";
	ssize_t sel;
	int r = select_referral(x, old, cands, n, true, &sel, err);
	if (r < 0 || sel < 0)
		return r;
	const char *name = ks_resource_name(f->res[sel].r);
	const char *ns = ks_resource_namespace(f->res[sel].r);
	if (strcmp(name, old) == 0 && !*ns)
		return 0;
	sl_node_map_set(node, "name", sl_node_new_str(name));
	/* An empty namespace is a wildcard here, not "default": keep the
	 * field as it is. */
	if (*ns)
		sl_node_map_set(node, "namespace", sl_node_new_str(ns));
	return 0;
}

static int set_reference(struct sl_node *node, void *ctx, struct sl_error *err)
{
	struct ref *x = ctx;
	switch (node->type) {
	case SL_NODE_NULL: return 0;
	case SL_NODE_MAP: return set_mapping(x, node, err);
	case SL_NODE_SEQ:
		/* Role rules' resourceNames (strings), subjects (maps). */
		for (size_t i = 0; i < node->seq.len; i++) {
			struct sl_node *item = node->seq.items[i];
			int r = 0;
			if (item->type == SL_NODE_MAP)
				r = set_mapping(x, item, err);
			else if (item->type != SL_NODE_SEQ && item->type != SL_NODE_NULL)
				r = set_scalar(x, item, err);
			if (r < 0)
				return r;
		}
		return 0;
	default: return set_scalar(x, node, err);
	}
}

/* Applies one referrer fieldSpec of a target to the referrer x->referrer. */
static int fix_field(struct ref *x, const struct ks_fieldspec *fs, struct sl_error *err)
{
	struct res_info *ri = &x->f->res[x->referrer];
	if (!ks_gvk_selected(&ri->gvk, fs->group, fs->version, fs->kind))
		return 0;
	size_t len = strlen(fs->path);
	x->role_ref = len >= 12 && strcmp(fs->path + len - 12, "roleRef/name") == 0;
	if (x->role_ref) {
		/* Without both, kustomize accepts any candidate. */
		x->role_group = sl_node_dig_str(ri->r->obj, "roleRef", "apiGroup", NULL);
		x->role_kind = sl_node_dig_str(ri->r->obj, "roleRef", "kind", NULL);
		x->role_ref = x->role_group && x->role_kind;
	}
	int r = ks_fieldspec_walk(ri->r->obj, fs, KS_CREATE_NONE, set_reference, x, err);
	if (r < 0) {
		_cleanup_free_ char *id = ks_resid_string(ri->r->obj);
		return sl_error_wrap(err, r, "updating name reference in '%s' field of '%s'",
		                     fs->path, id);
	}
	return 0;
}

/* resid.Gvk.Equals between a crds: target (no group) and a builtin one. */
static bool extra_targets(const struct extra_rule *e, const struct backref *b)
{
	return !b->group && strcmp(e->target_version, b->version ? b->version : "") == 0 &&
	       strcmp(e->target_kind, b->kind) == 0;
}

/* Every rule of the merged table, in kustomize's order: the builtin
 * targets with the crds: rules for the same target appended, then the
 * crds: targets kustomize did not know. */
static int fix_referrer(struct fixer *f, size_t referrer, const struct ks_nameref_extra *extra,
                        struct sl_error *err)
{
	struct ref x = {.f = f, .referrer = referrer};
	size_t n_extra = extra ? extra->len : 0;
	_cleanup_free_ bool *merged = sl_xcalloc(n_extra + 1, sizeof(*merged));
	for (size_t b = 0; b < SL_ARRAY_SIZE(builtin_backrefs); b++) {
		const struct backref *br = &builtin_backrefs[b];
		x.group = br->group, x.version = br->version, x.kind = br->kind;
		for (size_t i = 0; i < br->n; i++) {
			int r = fix_field(&x, &br->specs[i], err);
			if (r < 0)
				return r;
		}
		for (size_t e = 0; e < n_extra; e++) {
			if (!extra_targets(&extra->rules[e], br))
				continue;
			merged[e] = true;
			struct ks_fieldspec fs = {.kind = extra->rules[e].kind,
			                          .path = extra->rules[e].path};
			int r = fix_field(&x, &fs, err);
			if (r < 0)
				return r;
		}
	}
	for (size_t e = 0; e < n_extra; e++) {
		if (merged[e])
			continue;
		x.group = NULL, x.version = extra->rules[e].target_version;
		x.kind = extra->rules[e].target_kind;
		struct ks_fieldspec fs = {.kind = extra->rules[e].kind,
		                          .path = extra->rules[e].path};
		int r = fix_field(&x, &fs, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- build annotations ---------------------------------------------------- */

/* kustomize's BuildAnnotations: internal bookkeeping it strips from the
 * output (ours only use the prefixes and suffixes). */
static const char *const build_annotations[] = {
    "internal.config.kubernetes.io/previousKinds",
    "internal.config.kubernetes.io/previousNames",
    KS_ANNO_PREFIXES,
    KS_ANNO_SUFFIXES,
    "internal.config.kubernetes.io/previousNamespaces",
    "internal.config.kubernetes.io/allowNameChange",
    "internal.config.kubernetes.io/allowKindChange",
    "internal.config.kubernetes.io/refBy",
    "internal.config.kubernetes.io/generatorBehavior",
    "internal.config.kubernetes.io/needsHashSuffix",
};

/* kustomize's RemoveBuildAnnotations. It keeps its bookkeeping in
 * annotations, so an object it ever renamed, generated or counted as
 * referenced ends with no `annotations` at all when only bookkeeping was
 * there (a user's `annotations: {}` included). */
static void remove_build_annotations(struct res_info *ri)
{
	struct sl_node *meta = sl_node_map_get(ri->r->obj, "metadata");
	struct sl_node *annotations = sl_node_map_get(meta, "annotations");
	if (!annotations)
		return;
	bool had = ri->r->prev_names.len > 0 || ri->r->generated || ri->referenced;
	if (annotations->type == SL_NODE_MAP)
		for (size_t i = 0; i < SL_ARRAY_SIZE(build_annotations); i++)
			had |= sl_node_map_del(annotations, build_annotations[i]);
	bool empty = annotations->type == SL_NODE_NULL ||
	             (annotations->type == SL_NODE_MAP && annotations->map.len == 0);
	if (had && empty)
		sl_node_map_del(meta, "annotations");
}

/* ---- the fix-up ----------------------------------------------------------- */

static void fixer_free(struct fixer *f)
{
	for (size_t i = 0; i < f->n; i++) {
		sl_strv_free(&f->res[i].prefixes);
		sl_strv_free(&f->res[i].suffixes);
		free(f->res[i].ns);
	}
	free(f->res);
	free(f->subset);
}

int ks_fix_name_references(struct ks_resmap *m, const struct ks_nameref_extra *extra,
                           struct sl_error *err)
{
	_cleanup_(fixer_free) struct fixer f = {
	    .res = sl_xcalloc(m->len + 1, sizeof(*f.res)),
	    .n = m->len,
	    .subset = sl_xcalloc(m->len + 1, sizeof(*f.subset)),
	};
	for (size_t i = 0; i < m->len; i++) {
		struct res_info *ri = &f.res[i];
		ri->r = m->items[i];
		ks_gvk_of(ri->r->obj, &ri->gvk);
		ri->cluster = ks_kind_is_cluster_scoped(ri->gvk.group, ri->gvk.group_len,
		                                        ri->gvk.version, ri->gvk.kind);
		ri->ns = sl_strdup(effective_ns(ks_resource_namespace(ri->r)));
		split_csv(
		    sl_node_dig_str(ri->r->obj, "metadata", "annotations", KS_ANNO_PREFIXES, NULL),
		    &ri->prefixes);
		split_csv(
		    sl_node_dig_str(ri->r->obj, "metadata", "annotations", KS_ANNO_SUFFIXES, NULL),
		    &ri->suffixes);
	}
	for (size_t i = 0; i < m->len; i++) {
		if (!m->items[i]->obj || m->items[i]->obj->type != SL_NODE_MAP)
			continue;
		compute_subset(&f, i);
		int r = fix_referrer(&f, i, extra, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < m->len; i++)
		remove_build_annotations(&f.res[i]);
	return 0;
}
