/* Where the API server is and who we are to it: kubeconfig files, merged
 * the way kubectl merges $KUBECONFIG, or the pod's service account. */
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>

#include "codec/yaml.h"
#include "kube/kube_internal.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

static void blob_clear(struct sl_kube_blob *b, bool secret)
{
	if (b->data && secret)
		explicit_bzero(b->data, b->len);
	free(b->data);
	*b = (struct sl_kube_blob){0};
}

static void free_secret(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

struct sl_kube_config *sl_kube_config_free(struct sl_kube_config *c)
{
	if (!c)
		return NULL;
	free(c->origin);
	free(c->context);
	free(c->cluster);
	free(c->user);
	free(c->server);
	free(c->namespace);
	free(c->ca_file);
	blob_clear(&c->ca_data, false);
	free(c->tls_server_name);
	free(c->proxy_url);
	free(c->client_cert_file);
	free(c->client_key_file);
	blob_clear(&c->client_cert_data, false);
	blob_clear(&c->client_key_data, true);
	free_secret(c->token);
	free(c->token_file);
	free(c->username);
	free_secret(c->password);
	free(c);
	return NULL;
}

static char *dup_or_null(const char *s)
{
	return s ? sl_strdup(s) : NULL;
}

static struct sl_kube_blob blob_dup(const struct sl_kube_blob *b)
{
	struct sl_kube_blob out = {0};
	if (b->data) {
		out.data = sl_xmalloc(b->len + 1);
		memcpy(out.data, b->data, b->len);
		out.data[b->len] = '\0';
		out.len = b->len;
	}
	return out;
}

struct sl_kube_config *sl_kube_config_dup(const struct sl_kube_config *c)
{
	if (!c)
		return NULL;
	struct sl_kube_config *d = sl_xcalloc(1, sizeof(*d));
	d->origin = dup_or_null(c->origin);
	d->context = dup_or_null(c->context);
	d->cluster = dup_or_null(c->cluster);
	d->user = dup_or_null(c->user);
	d->server = dup_or_null(c->server);
	d->namespace = dup_or_null(c->namespace);
	d->ca_file = dup_or_null(c->ca_file);
	d->ca_data = blob_dup(&c->ca_data);
	d->insecure_skip_tls_verify = c->insecure_skip_tls_verify;
	d->tls_server_name = dup_or_null(c->tls_server_name);
	d->proxy_url = dup_or_null(c->proxy_url);
	d->client_cert_file = dup_or_null(c->client_cert_file);
	d->client_key_file = dup_or_null(c->client_key_file);
	d->client_cert_data = blob_dup(&c->client_cert_data);
	d->client_key_data = blob_dup(&c->client_key_data);
	d->token = dup_or_null(c->token);
	d->token_file = dup_or_null(c->token_file);
	d->username = dup_or_null(c->username);
	d->password = dup_or_null(c->password);
	return d;
}

/* ---- small readers ------------------------------------------------------ */

static char *trim_dup(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
	               s[len - 1] == '\r'))
		len--;
	return sl_strndup(s, len);
}

/* A small file's content, surrounding whitespace trimmed. */
static int read_trimmed(const char *path, char **ret, struct sl_error *err)
{
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, SL_KUBE_MAX_CREDENTIAL_FILE);
	int r = sl_read_file(path, SL_KUBE_MAX_CREDENTIAL_FILE, &b, err);
	if (r < 0)
		return r;
	*ret = trim_dup(b.data ? b.data : "", b.len);
	if (b.data)
		explicit_bzero(b.data, b.len);
	return 0;
}

static int check_readable(const char *path, const char *what, struct sl_error *err)
{
	if (access(path, R_OK) < 0)
		return sl_error_errno(err, errno, SL_EIO, "%s %s", what, path);
	return 0;
}

/* ---- in-cluster --------------------------------------------------------- */

int sl_kube_config_in_cluster(const char *root, struct sl_kube_config **ret, struct sl_error *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	if (!host || !*host || !port || !*port)
		return sl_error_set(err, SL_EINVAL,
		                    "in-cluster configuration: KUBERNETES_SERVICE_HOST and "
		                    "KUBERNETES_SERVICE_PORT must be set (not running in a pod?)");
	if (!root)
		root = "";
	_cleanup_(sl_kube_config_freep) struct sl_kube_config *c = sl_xcalloc(1, sizeof(*c));
	c->origin = sl_strdup("in-cluster configuration");
	bool v6 = strchr(host, ':') != NULL;
	c->server = sl_asprintf("https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port);

	c->token_file = sl_asprintf("%s" SA_DIR "/token", root);
	_cleanup_free_ char *token = NULL;
	int r = read_trimmed(c->token_file, &token, err);
	if (r < 0)
		return sl_error_wrap(err, r, "in-cluster configuration: service account token");
	bool empty = !*token;
	free_secret(TAKE_PTR(token));
	if (empty)
		return sl_error_set(err, SL_EINVAL, "in-cluster configuration: %s is empty",
		                    c->token_file);

	/* client-go goes on with the system's trust store when ca.crt is
	 * missing. */
	_cleanup_free_ char *ca = sl_asprintf("%s" SA_DIR "/ca.crt", root);
	if (access(ca, R_OK) == 0)
		c->ca_file = TAKE_PTR(ca);

	_cleanup_free_ char *ns_file = sl_asprintf("%s" SA_DIR "/namespace", root);
	_cleanup_free_ char *ns = NULL;
	struct sl_error ignored = {0};
	if (read_trimmed(ns_file, &ns, &ignored) == 0 && *ns)
		c->namespace = TAKE_PTR(ns);
	else
		c->namespace = sl_strdup("default");
	*ret = TAKE_PTR(c);
	return 0;
}

/* ---- kubeconfig files --------------------------------------------------- */

struct kc_file {
	char *path;
	char *dir;
	struct sl_node *docs;
	const struct sl_node *root; /* NULL: empty file */
};

struct kc_files {
	struct kc_file *items;
	size_t len;
};

static void kc_files_clear(struct kc_files *f)
{
	for (size_t i = 0; i < f->len; i++) {
		free(f->items[i].path);
		free(f->items[i].dir);
		sl_node_free(f->items[i].docs);
	}
	free(f->items);
	*f = (struct kc_files){0};
}

static int kc_load(struct kc_files *f, const char *path, struct sl_error *err)
{
	for (size_t i = 0; i < f->len; i++)
		if (strcmp(f->items[i].path, path) == 0)
			return 0;
	struct stat st;
	if (stat(path, &st) < 0)
		return sl_error_errno(err, errno, SL_EIO, "kubeconfig %s", path);
	if ((uint64_t)st.st_size > SL_KUBE_MAX_KUBECONFIG)
		return sl_error_set(err, SL_ELIMIT, "kubeconfig %s: larger than %u bytes", path,
		                    SL_KUBE_MAX_KUBECONFIG);
	struct sl_node *docs = NULL;
	int r = sl_yaml_parse_file(path, NULL, &docs, err);
	if (r < 0)
		return sl_error_wrap(err, r, "kubeconfig");
	const struct sl_node *root = docs->seq.len ? docs->seq.items[0] : NULL;
	if (root && root->type != SL_NODE_MAP) {
		sl_node_free(docs);
		return sl_error_set(err, SL_EINVAL, "kubeconfig %s: not a map", path);
	}
	f->items = sl_xrealloc(f->items, (f->len + 1) * sizeof(*f->items));
	const char *slash = strrchr(path, '/');
	struct kc_file *kf = &f->items[f->len++];
	kf->path = sl_strdup(path);
	kf->dir =
	    slash ? sl_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : sl_strdup(".");
	kf->docs = docs;
	kf->root = root;
	return 0;
}

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static char *home_dir(void)
{
	const char *home = getenv("HOME");
	if (home && *home)
		return sl_strdup(home);
	struct passwd *pw = getpwuid(getuid());
	return pw && pw->pw_dir ? sl_strdup(pw->pw_dir) : NULL;
}

/* The entry named name in the list key ("clusters", "users", "contexts"),
 * first file first: kubectl's merge lets the first definition win. */
static const struct sl_node *kc_find(const struct kc_files *f, const char *key, const char *name,
                                     const struct kc_file **ret_file)
{
	for (size_t i = 0; i < f->len; i++) {
		const struct sl_node *list = sl_node_map_get(f->items[i].root, key);
		if (!list || list->type != SL_NODE_SEQ)
			continue;
		for (size_t j = 0; j < list->seq.len; j++) {
			const struct sl_node *e = list->seq.items[j];
			const char *n = sl_node_dig_str(e, "name", NULL);
			if (n && strcmp(n, name) == 0) {
				*ret_file = &f->items[i];
				return e;
			}
		}
	}
	return NULL;
}

/* The string under key of map, NULL when absent or empty. */
static int kc_str(const struct sl_node *map, const char *key, const char *what, const char **ret,
                  struct sl_error *err)
{
	*ret = NULL;
	const struct sl_node *v = sl_node_map_get(map, key);
	if (!v || v->type == SL_NODE_NULL)
		return 0;
	if (v->type != SL_NODE_STR)
		return sl_error_set(err, SL_EINVAL, "%s: %s must be a string, not a %s", what, key,
		                    sl_node_type_name(v->type));
	/* A NUL inside would cut the value silently ("https://a\0.evil"). */
	if (strlen(v->str.ptr) != v->str.len)
		return sl_error_set(err, SL_EINVAL, "%s: %s holds a NUL character", what, key);
	*ret = *v->str.ptr ? v->str.ptr : NULL;
	return 0;
}

static int kc_path(const struct kc_file *file, const struct sl_node *map, const char *key,
                   const char *what, char **ret, struct sl_error *err)
{
	const char *p;
	int r = kc_str(map, key, what, &p, err);
	if (r < 0 || !p)
		return r;
	char *full = p[0] == '/' ? sl_strdup(p) : sl_asprintf("%s/%s", file->dir, p);
	r = check_readable(full, what, err);
	if (r < 0) {
		free(full);
		return sl_error_wrap(err, r, "%s", key);
	}
	*ret = full;
	return 0;
}

/* base64 data, as Go's encoding of []byte; line breaks tolerated. */
static int kc_data(const struct sl_node *map, const char *key, const char *what,
                   struct sl_kube_blob *ret, struct sl_error *err)
{
	const char *text;
	int r = kc_str(map, key, what, &text, err);
	if (r < 0 || !text)
		return r;
	_cleanup_free_ char *clean = sl_xmalloc(strlen(text) + 1);
	size_t n = 0;
	for (const char *s = text; *s; s++)
		if (*s != '\n' && *s != '\r' && *s != ' ')
			clean[n++] = *s;
	clean[n] = '\0';
	char *data = NULL;
	ssize_t len = sl_base64_decode(clean, &data);
	explicit_bzero(clean, n);
	if (len < 0) {
		free(data);
		/* Never the value: it may be a private key. */
		return sl_error_set(err, SL_EINVAL, "%s: %s is not valid base64", what, key);
	}
	ret->data = data;
	ret->len = (size_t)len;
	return 0;
}

static int kc_bool(const struct sl_node *map, const char *key, const char *what, bool *ret,
                   struct sl_error *err)
{
	const struct sl_node *v = sl_node_map_get(map, key);
	if (!v || v->type == SL_NODE_NULL)
		return 0;
	if (v->type != SL_NODE_BOOL)
		return sl_error_set(err, SL_EINVAL, "%s: %s must be true or false", what, key);
	*ret = v->b;
	return 0;
}

static int kc_cluster(const struct kc_files *f, const char *name, struct sl_kube_config *c,
                      struct sl_error *err)
{
	const struct kc_file *file;
	const struct sl_node *e = kc_find(f, "clusters", name, &file);
	if (!e)
		return sl_error_set(err, SL_EINVAL, "cluster \"%s\" not found", name);
	_cleanup_free_ char *what = sl_asprintf("cluster \"%s\" (%s)", name, file->path);
	const struct sl_node *cl = sl_node_map_get(e, "cluster");
	if (!cl || cl->type != SL_NODE_MAP)
		return sl_error_set(err, SL_EINVAL, "%s has no cluster map", what);
	const char *server, *tls_name, *proxy;
	int r;
	if ((r = kc_str(cl, "server", what, &server, err)) < 0 ||
	    (r = kc_str(cl, "tls-server-name", what, &tls_name, err)) < 0 ||
	    (r = kc_str(cl, "proxy-url", what, &proxy, err)) < 0 ||
	    (r = kc_bool(cl, "insecure-skip-tls-verify", what, &c->insecure_skip_tls_verify, err)) <
	        0 ||
	    (r = kc_data(cl, "certificate-authority-data", what, &c->ca_data, err)) < 0)
		return r;
	if (!server)
		return sl_error_set(err, SL_EINVAL, "%s has no server", what);
	if (!sl_startswith(server, "https://") && !sl_startswith(server, "http://"))
		return sl_error_set(err, SL_EINVAL, "%s: server \"%s\" is not an http(s) URL", what,
		                    server);
	if (!c->ca_data.data &&
	    (r = kc_path(file, cl, "certificate-authority", what, &c->ca_file, err)) < 0)
		return r;
	size_t len = strlen(server);
	while (len && server[len - 1] == '/')
		len--;
	c->server = sl_strndup(server, len);
	c->tls_server_name = dup_or_null(tls_name);
	c->proxy_url = dup_or_null(proxy);
	return 0;
}

static int kc_user(const struct kc_files *f, const char *name, struct sl_kube_config *c,
                   struct sl_error *err)
{
	const struct kc_file *file;
	const struct sl_node *e = kc_find(f, "users", name, &file);
	if (!e)
		return sl_error_set(err, SL_EINVAL, "user \"%s\" not found", name);
	_cleanup_free_ char *what = sl_asprintf("user \"%s\" (%s)", name, file->path);
	const struct sl_node *u = sl_node_map_get(e, "user");
	if (!u || u->type == SL_NODE_NULL)
		return 0; /* anonymous */
	if (u->type != SL_NODE_MAP)
		return sl_error_set(err, SL_EINVAL, "%s: user must be a map", what);
	if (sl_node_map_get(u, "exec"))
		return sl_error_set(err, SL_EUNSUPPORTED,
		                    "%s authenticates with an exec credential plugin, which sluice "
		                    "does not support: use a token or a client certificate",
		                    what);
	if (sl_node_map_get(u, "auth-provider"))
		return sl_error_set(
		    err, SL_EUNSUPPORTED,
		    "%s authenticates with an auth-provider plugin, which sluice does "
		    "not support: use a token or a client certificate",
		    what);
	const char *token, *username, *password;
	int r;
	if ((r = kc_data(u, "client-certificate-data", what, &c->client_cert_data, err)) < 0 ||
	    (r = kc_data(u, "client-key-data", what, &c->client_key_data, err)) < 0 ||
	    (r = kc_str(u, "token", what, &token, err)) < 0 ||
	    (r = kc_str(u, "username", what, &username, err)) < 0 ||
	    (r = kc_str(u, "password", what, &password, err)) < 0)
		return r;
	if (!c->client_cert_data.data &&
	    (r = kc_path(file, u, "client-certificate", what, &c->client_cert_file, err)) < 0)
		return r;
	if (!c->client_key_data.data &&
	    (r = kc_path(file, u, "client-key", what, &c->client_key_file, err)) < 0)
		return r;
	if (!token && (r = kc_path(file, u, "tokenFile", what, &c->token_file, err)) < 0)
		return r;
	bool has_cert = c->client_cert_data.data || c->client_cert_file;
	bool has_key = c->client_key_data.data || c->client_key_file;
	if (has_cert != has_key)
		return sl_error_set(err, SL_EINVAL, "%s has a client %s but no client %s", what,
		                    has_cert ? "certificate" : "key",
		                    has_cert ? "key" : "certificate");
	c->token = dup_or_null(token);
	c->username = dup_or_null(username);
	c->password = dup_or_null(password);
	return 0;
}

static int kc_resolve(const struct kc_files *f, const struct sl_kube_config_opts *opts,
                      const char *origin, struct sl_kube_config **ret, struct sl_error *err)
{
	const char *ctx_name = opts->context && *opts->context ? opts->context : NULL;
	for (size_t i = 0; !ctx_name && i < f->len; i++) {
		const char *cur = sl_node_dig_str(f->items[i].root, "current-context", NULL);
		if (cur && *cur)
			ctx_name = cur;
	}
	if (!ctx_name)
		return sl_error_set(err, SL_EINVAL, "%s: no current-context set (pass --context)",
		                    origin);
	const struct kc_file *file;
	const struct sl_node *e = kc_find(f, "contexts", ctx_name, &file);
	if (!e)
		return sl_error_set(err, SL_EINVAL, "%s: context \"%s\" not found", origin,
		                    ctx_name);
	const struct sl_node *ctx = sl_node_map_get(e, "context");
	_cleanup_free_ char *what = sl_asprintf("context \"%s\" (%s)", ctx_name, file->path);
	if (!ctx || ctx->type != SL_NODE_MAP)
		return sl_error_set(err, SL_EINVAL, "%s has no context map", what);
	const char *cluster, *user, *ns;
	int r;
	if ((r = kc_str(ctx, "cluster", what, &cluster, err)) < 0 ||
	    (r = kc_str(ctx, "user", what, &user, err)) < 0 ||
	    (r = kc_str(ctx, "namespace", what, &ns, err)) < 0)
		return r;
	if (!cluster)
		return sl_error_set(err, SL_EINVAL, "%s names no cluster", what);

	_cleanup_(sl_kube_config_freep) struct sl_kube_config *c = sl_xcalloc(1, sizeof(*c));
	c->origin = sl_asprintf("%s, context \"%s\"", origin, ctx_name);
	c->context = sl_strdup(ctx_name);
	c->cluster = sl_strdup(cluster);
	c->user = dup_or_null(user);
	if ((r = kc_cluster(f, cluster, c, err)) < 0)
		return sl_error_wrap(err, r, "%s", origin);
	if (user && (r = kc_user(f, user, c, err)) < 0)
		return sl_error_wrap(err, r, "%s", origin);
	c->namespace = sl_strdup(opts->namespace && *opts->namespace ? opts->namespace
	                         : ns                                ? ns
	                                                             : "default");
	*ret = TAKE_PTR(c);
	return 0;
}

int sl_kube_config_load(const struct sl_kube_config_opts *opts, struct sl_kube_config **ret,
                        struct sl_error *err)
{
	static const struct sl_kube_config_opts none = {0};
	if (!opts)
		opts = &none;
	int r;
	if (opts->in_cluster) {
		struct sl_kube_config *c = NULL;
		r = sl_kube_config_in_cluster(opts->in_cluster_root, &c, err);
		if (r < 0)
			return r;
		if (opts->namespace && *opts->namespace) {
			free(c->namespace);
			c->namespace = sl_strdup(opts->namespace);
		}
		*ret = c;
		return 0;
	}

	_cleanup_(kc_files_clear) struct kc_files files = {0};
	_cleanup_free_ char *origin = NULL;
	const char *env = getenv("KUBECONFIG");
	if (opts->kubeconfig && *opts->kubeconfig) {
		r = kc_load(&files, opts->kubeconfig, err);
		if (r < 0)
			return r;
		origin = sl_asprintf("kubeconfig %s", opts->kubeconfig);
	} else if (env && *env) {
		/* kubectl skips the files of $KUBECONFIG that do not exist. */
		_cleanup_free_ char *list = sl_strdup(env);
		char *save = NULL;
		for (char *p = strtok_r(list, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
			if (!file_exists(p))
				continue;
			r = kc_load(&files, p, err);
			if (r < 0)
				return r;
		}
		origin = sl_asprintf("KUBECONFIG=%s", env);
	} else {
		_cleanup_free_ char *home = home_dir();
		_cleanup_free_ char *path = home ? sl_asprintf("%s/.kube/config", home) : NULL;
		if (path && file_exists(path)) {
			r = kc_load(&files, path, err);
			if (r < 0)
				return r;
			origin = sl_asprintf("kubeconfig %s", path);
		}
	}
	if (files.len == 0) {
		const char *host = getenv("KUBERNETES_SERVICE_HOST");
		if (host && *host && !(opts->kubeconfig && *opts->kubeconfig))
			return sl_kube_config_load(
			    &(struct sl_kube_config_opts){.in_cluster = true,
			                                  .namespace = opts->namespace,
			                                  .in_cluster_root = opts->in_cluster_root},
			    ret, err);
		if (origin)
			return sl_error_set(err, SL_EINVAL, "%s: none of these files exists",
			                    origin);
		return sl_error_set(err, SL_EINVAL,
		                    "no Kubernetes configuration: pass --kubeconfig, set "
		                    "KUBECONFIG, or create ~/.kube/config");
	}
	return kc_resolve(&files, opts, origin, ret, err);
}
