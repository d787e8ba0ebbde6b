/* The shape of each request: method, path, query and content type per verb,
 * as the Kubernetes REST API lays resources out. Pure: no I/O. */
#include <string.h>

#include "kube/kube_internal.h"

#define RES(g, v, r, k, ns)                                                                        \
	{                                                                                          \
		.group = g, .version = v, .resource = r, .kind = k, .namespaced = ns               \
	}

const struct sl_kube_resource sl_kube_res_configmaps =
    RES("", "v1", "configmaps", "ConfigMap", true);
const struct sl_kube_resource sl_kube_res_secrets = RES("", "v1", "secrets", "Secret", true);
const struct sl_kube_resource sl_kube_res_serviceaccounts =
    RES("", "v1", "serviceaccounts", "ServiceAccount", true);
const struct sl_kube_resource sl_kube_res_namespaces =
    RES("", "v1", "namespaces", "Namespace", false);
const struct sl_kube_resource sl_kube_res_events = RES("", "v1", "events", "Event", true);
const struct sl_kube_resource sl_kube_res_leases =
    RES("coordination.k8s.io", "v1", "leases", "Lease", true);
const struct sl_kube_resource sl_kube_res_crds = RES(
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false);

static int copy_field(char *dst, size_t size, const char *src, const char *what,
                      struct sl_error *err)
{
	size_t len = src ? strlen(src) : 0;
	if (len >= size)
		return sl_error_set(err, SL_EINVAL, "%s \"%.80s...\" is longer than %zu bytes",
		                    what, src, size - 1);
	memcpy(dst, src ? src : "", len);
	dst[len] = '\0';
	return 0;
}

int sl_kube_resource_set(struct sl_kube_resource *ret, const char *api_version, const char *kind,
                         const char *plural, bool namespaced, struct sl_error *err)
{
	if (!api_version || !*api_version)
		return sl_error_set(err, SL_EINVAL, "no apiVersion");
	struct sl_kube_resource r = {.namespaced = namespaced};
	const char *slash = strchr(api_version, '/');
	int rc;
	if (slash) {
		if (slash == api_version || !slash[1] || strchr(slash + 1, '/'))
			return sl_error_set(err, SL_EINVAL,
			                    "apiVersion \"%s\" is not group/version", api_version);
		size_t glen = (size_t)(slash - api_version);
		if (glen >= sizeof(r.group))
			return sl_error_set(err, SL_EINVAL,
			                    "apiVersion \"%.80s...\": group too long", api_version);
		memcpy(r.group, api_version, glen);
		r.group[glen] = '\0';
		rc = copy_field(r.version, sizeof(r.version), slash + 1, "version", err);
	} else {
		rc = copy_field(r.version, sizeof(r.version), api_version, "version", err);
	}
	if (rc < 0 || (rc = copy_field(r.kind, sizeof(r.kind), kind, "kind", err)) < 0 ||
	    (rc = copy_field(r.resource, sizeof(r.resource), plural, "resource", err)) < 0)
		return rc;
	*ret = r;
	return 0;
}

/* RFC 3986 unreserved characters pass; everything else is %XX. */
static void append_escaped(struct sl_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			sl_buf_append(b, s, 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			sl_buf_append(b, e, 3);
		}
	}
}

void kube_query_add(struct sl_buf *b, const char *key, const char *value)
{
	sl_buf_append(b, memchr(b->data ? b->data : "", '?', b->len) ? "&" : "?", 1);
	append_escaped(b, key);
	sl_buf_append(b, "=", 1);
	append_escaped(b, value);
}

/* A path segment from outside (namespace, name, subresource). */
static int check_segment(const char *s, const char *what, struct sl_error *err)
{
	if (!s || !*s)
		return sl_error_set(err, SL_EINVAL, "no %s given", what);
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strpbrk(s, "/%?#"))
		return sl_error_set(err, SL_EINVAL, "%s \"%s\" is not a valid path segment", what,
		                    s);
	return 0;
}

static int append_path(struct sl_buf *b, const struct sl_kube_resource *res, const char *ns,
                       const char *name, const char *subresource, struct sl_error *err)
{
	int r;
	if ((r = check_segment(res->version, "API version", err)) < 0 ||
	    (r = check_segment(res->resource, "resource", err)) < 0)
		return r;
	if (*res->group) {
		if ((r = check_segment(res->group, "API group", err)) < 0)
			return r;
		sl_buf_printf(b, "/apis/%s/%s", res->group, res->version);
	} else {
		sl_buf_printf(b, "/api/%s", res->version);
	}
	if (res->namespaced && ns) {
		sl_buf_append(b, "/namespaces/", 12);
		append_escaped(b, ns);
	}
	sl_buf_printf(b, "/%s", res->resource);
	if (name) {
		sl_buf_append(b, "/", 1);
		append_escaped(b, name);
		if (subresource)
			sl_buf_printf(b, "/%s", subresource);
	}
	return 0;
}

static void add_write_params(struct sl_buf *b, const struct kube_params *p)
{
	if (p->dry_run)
		kube_query_add(b, "dryRun", "All");
	if (p->field_manager && *p->field_manager)
		kube_query_add(b, "fieldManager", p->field_manager);
}

void kube_call_clear(struct kube_call *c)
{
	free(c->path);
	*c = (struct kube_call){0};
}

int kube_call_build(enum kube_verb verb, const struct sl_kube_resource *res, const char *ns,
                    const char *name, const struct kube_params *p, struct kube_call *ret,
                    struct sl_error *err)
{
	static const struct kube_params none = {0};
	if (!p)
		p = &none;
	if (ns && !*ns)
		ns = NULL;
	if (!res->namespaced)
		ns = NULL;
	bool item = verb != KUBE_LIST && verb != KUBE_WATCH && verb != KUBE_CREATE;
	int r;
	if (item && (r = check_segment(name, "object name", err)) < 0)
		return r;
	if (res->namespaced && (item || verb == KUBE_CREATE) &&
	    (r = check_segment(ns, "namespace", err)) < 0)
		return sl_error_wrap(err, r, "%s \"%s\"", res->resource, name ? name : "");
	if (ns && (r = check_segment(ns, "namespace", err)) < 0)
		return r;
	if (p->subresource && (r = check_segment(p->subresource, "subresource", err)) < 0)
		return r;

	struct kube_call c = {.res = res, .max_response = SL_KUBE_MAX_OBJECT_RESPONSE};
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 0);
	r = append_path(&b, res, ns, item ? name : NULL, p->subresource, err);
	if (r < 0)
		return r;

	switch (verb) {
	case KUBE_GET:
		c.method = "GET";
		c.idempotent = true;
		break;
	case KUBE_LIST:
	case KUBE_WATCH:
		c.method = "GET";
		c.idempotent = true;
		if (verb == KUBE_WATCH) {
			kube_query_add(&b, "watch", "true");
			kube_query_add(&b, "allowWatchBookmarks", "true");
		}
		if (p->label_selector && *p->label_selector)
			kube_query_add(&b, "labelSelector", p->label_selector);
		if (p->field_selector && *p->field_selector)
			kube_query_add(&b, "fieldSelector", p->field_selector);
		if (p->resource_version && *p->resource_version)
			kube_query_add(&b, "resourceVersion", p->resource_version);
		if (verb == KUBE_WATCH) {
			if (p->timeout_seconds > 0) {
				char t[16];
				snprintf(t, sizeof(t), "%d", p->timeout_seconds);
				kube_query_add(&b, "timeoutSeconds", t);
			}
			c.max_response = SL_KUBE_MAX_WATCH_EVENT;
			break;
		}
		if (p->limit) {
			char l[16];
			snprintf(l, sizeof(l), "%u", p->limit);
			kube_query_add(&b, "limit", l);
		}
		if (p->continue_token && *p->continue_token)
			kube_query_add(&b, "continue", p->continue_token);
		c.max_response = SL_KUBE_MAX_RESPONSE;
		break;
	case KUBE_CREATE:
		c.method = "POST";
		c.content_type = "application/json";
		add_write_params(&b, p);
		break;
	case KUBE_UPDATE:
		c.method = "PUT";
		c.content_type = "application/json";
		c.idempotent = true;
		add_write_params(&b, p);
		break;
	case KUBE_PATCH_MERGE:
	case KUBE_PATCH_JSON:
	case KUBE_PATCH_STRATEGIC:
		c.method = "PATCH";
		/* Applying a merge patch twice gives what applying it once did;
		 * a JSON patch ("add" to "/items/-") or a strategic one with
		 * list directives may not. */
		c.idempotent = verb == KUBE_PATCH_MERGE;
		c.content_type = verb == KUBE_PATCH_MERGE ? "application/merge-patch+json"
		                 : verb == KUBE_PATCH_JSON
		                     ? "application/json-patch+json"
		                     : "application/strategic-merge-patch+json";
		add_write_params(&b, p);
		break;
	case KUBE_APPLY:
		if (!p->field_manager || !*p->field_manager)
			return sl_error_set(err, SL_EINVAL,
			                    "server-side apply needs a field manager");
		c.method = "PATCH";
		/* YAML is a superset of JSON: the body is sent as JSON. */
		c.content_type = "application/apply-patch+yaml";
		c.idempotent = true;
		add_write_params(&b, p);
		if (p->force)
			kube_query_add(&b, "force", "true");
		break;
	case KUBE_DELETE:
		c.method = "DELETE";
		c.content_type = "application/json";
		c.idempotent = true;
		if (p->dry_run)
			kube_query_add(&b, "dryRun", "All");
		break;
	}
	c.path = sl_buf_steal(&b);
	*ret = c;
	return 0;
}
