/* The Kubernetes client's pure parts: kubeconfig loading and merging,
 * in-cluster configuration, the request of every verb, Status errors, the
 * watch stream parser and the informer's relist diff. The API server
 * itself is tests/e2e/kube_client.sh's business. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "kube/kube.h"
#include "kube/kube_internal.h"

/* ---- helpers ------------------------------------------------------------ */

static char *tmp_dir(void)
{
	char *dir = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_mkdtemp("sluice-kube-test", &dir, &err), 0);
	return dir;
}

static void write_file(const char *dir, const char *name, const char *content)
{
	_cleanup_free_ char *path = sl_asprintf("%s/%s", dir, name);
	_cleanup_free_ char *parent = sl_strdup(path);
	*strrchr(parent, '/') = '\0';
	struct sl_error err = {0};
	assert_int_equal(sl_mkdir_p(parent, 0755, &err), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

/* Replaces a file by renaming a new one over it, as kubelet rotates
 * projected tokens: a new inode. */
static void replace_file(const char *dir, const char *name, const char *content)
{
	_cleanup_free_ char *tmp_name = sl_asprintf("%s.new", name);
	write_file(dir, tmp_name, content);
	_cleanup_free_ char *from = sl_asprintf("%s/%s", dir, tmp_name);
	_cleanup_free_ char *to = sl_asprintf("%s/%s", dir, name);
	assert_int_equal(rename(from, to), 0);
}

static void clear_env(void)
{
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

static void assert_blob(const struct sl_kube_blob *b, const char *want)
{
	assert_non_null(b->data);
	assert_int_equal(b->len, strlen(want));
	assert_memory_equal(b->data, want, b->len);
}

/* ---- kubeconfig: a table ----------------------------------------------------- */

enum kc_mode { KC_FLAG, KC_ENV, KC_HOME };

struct kc_case {
	const char *name;
	enum kc_mode mode;
	const char *a, *b; /* contents of <dir>/a and <dir>/b (HOME: a is ~/.kube/config) */
	const char *env;   /* KC_ENV: names in dir separated by ':' */
	const char *context, *namespace;
	/* expectations; NULL: must be NULL (strings) */
	int code;
	const char *error, *error_not;
	const char *server, *want_ns, *want_context, *want_user;
	const char *ca_data, *ca_file, *cert_data, *key_data, *cert_file, *key_file;
	const char *token, *token_file, *username, *password, *tls_server_name;
	bool insecure;
};

#define CLUSTER_A                                                                                  \
	"clusters:\n"                                                                              \
	"- name: a\n"                                                                              \
	"  cluster:\n"                                                                             \
	"    server: https://a.example:6443/\n"                                                    \
	"    certificate-authority-data: Y2EtYnl0ZXM=\n"
#define USER_CERT                                                                                  \
	"users:\n"                                                                                 \
	"- name: admin\n"                                                                          \
	"  user:\n"                                                                                \
	"    client-certificate-data: Y2VydA==\n"                                                  \
	"    client-key-data: a2V5\n"
#define CONTEXT_A                                                                                  \
	"contexts:\n"                                                                              \
	"- name: ctx-a\n"                                                                          \
	"  context: {cluster: a, user: admin, namespace: team}\n"

static const struct kc_case kc_cases[] = {
    {
        .name = "one file with embedded data",
        .mode = KC_FLAG,
        .a = CLUSTER_A USER_CERT CONTEXT_A "current-context: ctx-a\n",
        .server = "https://a.example:6443",
        .want_ns = "team",
        .want_context = "ctx-a",
        .want_user = "admin",
        .ca_data = "ca-bytes",
        .cert_data = "cert",
        .key_data = "key",
    },
    {
        .name = "relative paths are resolved against the kubeconfig's directory",
        .mode = KC_FLAG,
        .a = "clusters:\n"
             "- name: a\n"
             "  cluster: {server: 'http://127.0.0.1:8080', certificate-authority: ca.pem}\n"
             "users:\n"
             "- name: u\n"
             "  user: {client-certificate: sub/cert.pem, client-key: sub/key.pem}\n"
             "contexts:\n"
             "- {name: c, context: {cluster: a, user: u}}\n"
             "current-context: c\n",
        .server = "http://127.0.0.1:8080",
        .want_ns = "default",
        .want_context = "c",
        .want_user = "u",
        .ca_file = "ca.pem",
        .cert_file = "sub/cert.pem",
        .key_file = "sub/key.pem",
    },
    {
        .name = "KUBECONFIG: the first definition of a name wins",
        .mode = KC_ENV,
        .env = "a:b",
        .a = "clusters:\n- {name: c1, cluster: {server: 'https://first'}}\n",
        .b = "clusters:\n- {name: c1, cluster: {server: 'https://second'}}\n"
             "users:\n- {name: u, user: {token: from-b}}\n"
             "contexts:\n- {name: x, context: {cluster: c1, user: u}}\n"
             "current-context: x\n",
        .server = "https://first",
        .want_ns = "default",
        .want_context = "x",
        .want_user = "u",
        .token = "from-b",
    },
    {
        .name = "KUBECONFIG: current-context from the first file that sets one",
        .mode = KC_ENV,
        .env = "a:b",
        .a = "current-context: one\n",
        .b = "clusters:\n- {name: c1, cluster: {server: 'https://one'}}\n"
             "- {name: c2, cluster: {server: 'https://two'}}\n"
             "contexts:\n- {name: one, context: {cluster: c1}}\n"
             "- {name: two, context: {cluster: c2}}\n"
             "current-context: two\n",
        .server = "https://one",
        .want_ns = "default",
        .want_context = "one",
    },
    {
        .name = "KUBECONFIG: missing files are skipped",
        .mode = KC_ENV,
        .env = "missing::a",
        .a = CLUSTER_A USER_CERT CONTEXT_A "current-context: ctx-a\n",
        .server = "https://a.example:6443",
        .want_ns = "team",
        .want_context = "ctx-a",
        .want_user = "admin",
        .ca_data = "ca-bytes",
        .cert_data = "cert",
        .key_data = "key",
    },
    {
        .name = "KUBECONFIG: no file exists",
        .mode = KC_ENV,
        .env = "missing",
        .code = SL_EINVAL,
        .error = "none of these files exists",
    },
    {
        .name = "--context picks another context, --namespace overrides its namespace",
        .mode = KC_FLAG,
        .a = CLUSTER_A USER_CERT CONTEXT_A
        "- {name: other, context: {cluster: a, namespace: elsewhere}}\n"
        "current-context: ctx-a\n",
        .context = "other",
        .namespace = "from-flag",
        .server = "https://a.example:6443",
        .want_ns = "from-flag",
        .want_context = "other",
        .ca_data = "ca-bytes",
    },
    {
        .name = "~/.kube/config when nothing else is said",
        .mode = KC_HOME,
        .a = CLUSTER_A USER_CERT CONTEXT_A "current-context: ctx-a\n",
        .server = "https://a.example:6443",
        .want_ns = "team",
        .want_context = "ctx-a",
        .want_user = "admin",
        .ca_data = "ca-bytes",
        .cert_data = "cert",
        .key_data = "key",
    },
    {
        .name = "token file, basic auth, insecure, tls-server-name",
        .mode = KC_FLAG,
        .a = "clusters:\n"
             "- name: a\n"
             "  cluster:\n"
             "    server: https://10.0.0.1\n"
             "    insecure-skip-tls-verify: true\n"
             "    tls-server-name: kubernetes.default\n"
             "users:\n"
             "- {name: u, user: {tokenFile: token, username: bob, password: hunter2}}\n"
             "contexts:\n- {name: c, context: {cluster: a, user: u}}\n"
             "current-context: c\n",
        .server = "https://10.0.0.1",
        .want_ns = "default",
        .want_context = "c",
        .want_user = "u",
        .token_file = "token",
        .username = "bob",
        .password = "hunter2",
        .tls_server_name = "kubernetes.default",
        .insecure = true,
    },
    {
        .name = "exec credential plugins are refused, naming the user",
        .mode = KC_FLAG,
        .a = CLUSTER_A "users:\n- name: eks-user\n  user:\n    exec:\n"
                       "      apiVersion: client.authentication.k8s.io/v1\n"
                       "      command: aws\n"
                       "contexts:\n- {name: c, context: {cluster: a, "
                       "user: eks-user}}\ncurrent-context: c\n",
        .code = SL_EUNSUPPORTED,
        .error = "user \"eks-user\"",
    },
    {
        .name = "auth-provider plugins are refused, naming the user",
        .mode = KC_FLAG,
        .a = CLUSTER_A "users:\n- name: gke\n  user:\n    auth-provider: {name: gcp}\n"
                       "contexts:\n- {name: c, context: {cluster: a, user: gke}}\n"
                       "current-context: c\n",
        .code = SL_EUNSUPPORTED,
        .error = "user \"gke\" (",
    },
    {
        .name = "bad key data is refused without echoing it",
        .mode = KC_FLAG,
        .a = CLUSTER_A "users:\n- {name: u, user: {client-certificate-data: Y2VydA==, "
                       "client-key-data: c2VjcmV0a2V5!}}\n"
                       "contexts:\n- {name: c, context: {cluster: a, user: u}}\n"
                       "current-context: c\n",
        .code = SL_EINVAL,
        .error = "client-key-data is not valid base64",
        .error_not = "c2VjcmV0",
    },
    {
        .name = "a client certificate without its key is refused",
        .mode = KC_FLAG,
        .a = CLUSTER_A "users:\n- {name: u, user: {client-certificate-data: Y2VydA==}}\n"
                       "contexts:\n- {name: c, context: {cluster: a, user: u}}\n"
                       "current-context: c\n",
        .code = SL_EINVAL,
        .error = "no client key",
    },
    {
        .name = "an unknown --context is an error",
        .mode = KC_FLAG,
        .a = CLUSTER_A CONTEXT_A "current-context: ctx-a\n",
        .context = "nope",
        .code = SL_EINVAL,
        .error = "context \"nope\" not found",
    },
    {
        .name = "no current-context is an error",
        .mode = KC_FLAG,
        .a = CLUSTER_A CONTEXT_A,
        .code = SL_EINVAL,
        .error = "no current-context",
    },
    {
        .name = "a context naming a missing cluster is an error",
        .mode = KC_FLAG,
        .a = CONTEXT_A "current-context: ctx-a\n",
        .code = SL_EINVAL,
        .error = "cluster \"a\" not found",
    },
    {
        .name = "a token of the wrong type is refused without echoing it",
        .mode = KC_FLAG,
        .a = CLUSTER_A "users:\n- {name: u, user: {token: [s3cr3t]}}\n"
                       "contexts:\n- {name: c, context: {cluster: a, user: u}}\n"
                       "current-context: c\n",
        .code = SL_EINVAL,
        .error = "token must be a string",
        .error_not = "s3cr3t",
    },
};

static void expect_str(const char *what, const char *got, const char *want)
{
	if (!want) {
		if (got)
			fail_msg("%s: got \"%s\", want none", what, got);
		return;
	}
	if (!got || strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", what, got ? got : "(null)", want);
}

static void expect_path(const char *what, const char *dir, const char *got, const char *rel)
{
	_cleanup_free_ char *want = rel ? sl_asprintf("%s/%s", dir, rel) : NULL;
	expect_str(what, got, want);
}

static void run_kc_case(const struct kc_case *c)
{
	clear_env();
	_cleanup_free_ char *dir = tmp_dir();
	/* Files the cases point at. */
	write_file(dir, "ca.pem", "CA\n");
	write_file(dir, "sub/cert.pem", "CERT\n");
	write_file(dir, "sub/key.pem", "KEY\n");
	write_file(dir, "token", "tok\n");
	struct sl_kube_config_opts opts = {.context = c->context, .namespace = c->namespace};
	_cleanup_free_ char *flag = NULL;
	_cleanup_free_ char *old_home = getenv("HOME") ? sl_strdup(getenv("HOME")) : NULL;
	_cleanup_free_ char *home = sl_asprintf("%s/home", dir);
	assert_int_equal(mkdir(home, 0755), 0);
	setenv("HOME", home, 1);
	if (c->mode == KC_HOME) {
		write_file(home, ".kube/config", c->a);
	} else {
		if (c->a)
			write_file(dir, "a", c->a);
		if (c->b)
			write_file(dir, "b", c->b);
	}
	if (c->mode == KC_FLAG) {
		flag = sl_asprintf("%s/a", dir);
		opts.kubeconfig = flag;
	} else if (c->mode == KC_ENV) {
		struct sl_buf env;
		sl_buf_init(&env, 0);
		_cleanup_free_ char *names = sl_strdup(c->env);
		for (char *p = names, *next; p; p = next) {
			next = strchr(p, ':');
			if (next)
				*next++ = '\0';
			if (*p)
				sl_buf_printf(&env, "%s/%s", dir, p);
			if (next)
				sl_buf_append(&env, ":", 1);
		}
		setenv("KUBECONFIG", env.data, 1);
		sl_buf_free(&env);
	}

	struct sl_kube_config *cfg = NULL;
	struct sl_error err = {0};
	int r = sl_kube_config_load(&opts, &cfg, &err);
	if (old_home)
		setenv("HOME", old_home, 1);
	clear_env();
	if (c->code) {
		if (r != c->code)
			fail_msg("%s: got %d (%s), want %d", c->name, r, err.msg, c->code);
		assert_null(cfg);
		assert_contains(err.msg, c->error);
		if (c->error_not && strstr(err.msg, c->error_not))
			fail_msg("%s: the error shows a secret: %s", c->name, err.msg);
	} else {
		if (r != 0)
			fail_msg("%s: %s", c->name, err.msg);
		expect_str("server", cfg->server, c->server);
		expect_str("namespace", cfg->namespace, c->want_ns);
		expect_str("context", cfg->context, c->want_context);
		expect_str("user", cfg->user, c->want_user);
		if (c->ca_data)
			assert_blob(&cfg->ca_data, c->ca_data);
		else
			assert_null(cfg->ca_data.data);
		if (c->cert_data)
			assert_blob(&cfg->client_cert_data, c->cert_data);
		if (c->key_data)
			assert_blob(&cfg->client_key_data, c->key_data);
		expect_path("ca_file", dir, cfg->ca_file, c->ca_file);
		expect_path("client_cert_file", dir, cfg->client_cert_file, c->cert_file);
		expect_path("client_key_file", dir, cfg->client_key_file, c->key_file);
		expect_path("token_file", dir, cfg->token_file, c->token_file);
		expect_str("token", cfg->token, c->token);
		expect_str("username", cfg->username, c->username);
		expect_str("password", cfg->password, c->password);
		expect_str("tls_server_name", cfg->tls_server_name, c->tls_server_name);
		assert_int_equal(cfg->insecure_skip_tls_verify, c->insecure);
		/* A copy is a deep copy. */
		struct sl_kube_config *copy = sl_kube_config_dup(cfg);
		expect_str("copy server", copy->server, cfg->server);
		assert_ptr_not_equal(copy->server, cfg->server);
		sl_kube_config_free(copy);
	}
	sl_kube_config_free(cfg);
	sl_rm_rf(dir);
}

static void kubeconfig_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < SL_ARRAY_SIZE(kc_cases); i++) {
		print_message("# kubeconfig: %s\n", kc_cases[i].name);
		run_kc_case(&kc_cases[i]);
	}
}

static void kubeconfig_flag_must_exist(void **state)
{
	(void)state;
	clear_env();
	struct sl_kube_config *cfg = NULL;
	struct sl_error err = {0};
	struct sl_kube_config_opts opts = {.kubeconfig = "/nonexistent/kubeconfig"};
	assert_int_equal(sl_kube_config_load(&opts, &cfg, &err), SL_EIO);
	assert_contains(err.msg, "/nonexistent/kubeconfig");
}

/* ---- in-cluster ------------------------------------------------------------ */

#define SA "var/run/secrets/kubernetes.io/serviceaccount"

static void in_cluster_reads_the_service_account(void **state)
{
	(void)state;
	clear_env();
	_cleanup_free_ char *root = tmp_dir();
	write_file(root, SA "/token", "tok-1\n");
	write_file(root, SA "/ca.crt", "CA\n");
	write_file(root, SA "/namespace", "flux-system\n");
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	struct sl_kube_config *cfg = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_kube_config_in_cluster(root, &cfg, &err), 0);
	assert_string_equal(cfg->server, "https://10.96.0.1:443");
	assert_string_equal(cfg->namespace, "flux-system");
	_cleanup_free_ char *tok = sl_asprintf("%s/" SA "/token", root);
	_cleanup_free_ char *ca = sl_asprintf("%s/" SA "/ca.crt", root);
	assert_string_equal(cfg->token_file, tok);
	assert_string_equal(cfg->ca_file, ca);
	assert_null(cfg->token); /* read per request, so rotation works */
	cfg = sl_kube_config_free(cfg);

	/* IPv6 service hosts get brackets; a missing namespace file means
	 * "default". */
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	_cleanup_free_ char *ns_file = sl_asprintf("%s/" SA "/namespace", root);
	unlink(ns_file);
	assert_int_equal(sl_kube_config_in_cluster(root, &cfg, &err), 0);
	assert_string_equal(cfg->server, "https://[fd00::1]:443");
	assert_string_equal(cfg->namespace, "default");
	cfg = sl_kube_config_free(cfg);

	/* Without any kubeconfig, loading falls back to in-cluster. */
	_cleanup_free_ char *old_home = getenv("HOME") ? sl_strdup(getenv("HOME")) : NULL;
	setenv("HOME", root, 1);
	struct sl_kube_config_opts opts = {.in_cluster_root = root, .namespace = "ns"};
	assert_int_equal(sl_kube_config_load(&opts, &cfg, &err), 0);
	assert_string_equal(cfg->origin, "in-cluster configuration");
	assert_string_equal(cfg->namespace, "ns");
	cfg = sl_kube_config_free(cfg);
	if (old_home)
		setenv("HOME", old_home, 1);

	/* No token: an error naming the file. */
	unlink(tok);
	assert_int_equal(sl_kube_config_in_cluster(root, &cfg, &err), SL_EIO);
	assert_contains(err.msg, "token");
	clear_env();
	assert_int_equal(sl_kube_config_in_cluster(root, &cfg, &err), SL_EINVAL);
	assert_contains(err.msg, "KUBERNETES_SERVICE_HOST");
	sl_rm_rf(root);
}

static void token_file_is_read_again_when_it_changes(void **state)
{
	(void)state;
	_cleanup_free_ char *dir = tmp_dir();
	write_file(dir, "token", "first\n");
	struct sl_kube_config cfg = {
	    .server = (char *)"https://127.0.0.1:1",
	    .namespace = (char *)"default",
	};
	cfg.token_file = sl_asprintf("%s/token", dir);
	struct sl_kube *k = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_kube_new(&cfg, NULL, &k, &err), 0);
	const char *tok = NULL;
	assert_int_equal(kube_bearer_token(k, false, &tok, &err), 0);
	assert_string_equal(tok, "first");
	replace_file(dir, "token", "second\n");
	assert_int_equal(kube_bearer_token(k, false, &tok, &err), 0);
	assert_string_equal(tok, "second");
	/* An empty token file is an error that shows no token. */
	replace_file(dir, "token", "\n");
	assert_int_equal(kube_bearer_token(k, false, &tok, &err), SL_EAUTH);
	assert_contains(err.msg, "is empty");
	sl_kube_free(k);
	free(cfg.token_file);
	sl_rm_rf(dir);
}

/* ---- requests of every verb --------------------------------------------------- */

static const struct sl_kube_resource widgets = {
    .group = "e2e.sluice.dev", .version = "v1", .resource = "widgets", .namespaced = true};

struct call_case {
	const char *name;
	enum kube_verb verb;
	const struct sl_kube_resource *res;
	const char *ns, *obj;
	struct kube_params p;
	const char *method, *path, *content_type;
	bool idempotent;
	size_t max;
};

static const struct call_case call_cases[] = {
    {"get",
     KUBE_GET,
     &sl_kube_res_configmaps,
     "default",
     "cm",
     {0},
     "GET",
     "/api/v1/namespaces/default/configmaps/cm",
     NULL,
     true,
     SL_KUBE_MAX_OBJECT_RESPONSE},
    {"get of a cluster-scoped resource ignores the namespace",
     KUBE_GET,
     &sl_kube_res_namespaces,
     "ignored",
     "flux-system",
     {0},
     "GET",
     "/api/v1/namespaces/flux-system",
     NULL,
     true,
     SL_KUBE_MAX_OBJECT_RESPONSE},
    {"list of all namespaces, paged, with selectors",
     KUBE_LIST,
     &widgets,
     NULL,
     NULL,
     {.label_selector = "app in (a,b),!x",
      .field_selector = "metadata.name=w1",
      .limit = 100,
      .continue_token = "eyJ2Ijoi+/="},
     "GET",
     "/apis/e2e.sluice.dev/v1/widgets?labelSelector=app%20in%20%28a%2Cb%29%2C%21x"
     "&fieldSelector=metadata.name%3Dw1&limit=100&continue=eyJ2Ijoi%2B%2F%3D",
     NULL,
     true,
     SL_KUBE_MAX_RESPONSE},
    {"list in a namespace from the cache",
     KUBE_LIST,
     &sl_kube_res_configmaps,
     "ns",
     NULL,
     {.resource_version = "0"},
     "GET",
     "/api/v1/namespaces/ns/configmaps?resourceVersion=0",
     NULL,
     true,
     SL_KUBE_MAX_RESPONSE},
    {"watch with bookmarks from a resourceVersion",
     KUBE_WATCH,
     &widgets,
     "ns",
     NULL,
     {.resource_version = "1234", .timeout_seconds = 290, .label_selector = "a=b"},
     "GET",
     "/apis/e2e.sluice.dev/v1/namespaces/ns/widgets?watch=true&allowWatchBookmarks=true"
     "&labelSelector=a%3Db&resourceVersion=1234&timeoutSeconds=290",
     NULL,
     true,
     SL_KUBE_MAX_WATCH_EVENT},
    {"create",
     KUBE_CREATE,
     &sl_kube_res_configmaps,
     "ns",
     NULL,
     {.field_manager = "sluice"},
     "POST",
     "/api/v1/namespaces/ns/configmaps?fieldManager=sluice",
     "application/json",
     false,
     SL_KUBE_MAX_OBJECT_RESPONSE},
    {"update of the status subresource",
     KUBE_UPDATE,
     &widgets,
     "ns",
     "w1",
     {.subresource = "status", .field_manager = "m"},
     "PUT",
     "/apis/e2e.sluice.dev/v1/namespaces/ns/widgets/w1/status?fieldManager=m",
     "application/json",
     true,
     SL_KUBE_MAX_OBJECT_RESPONSE},
    {"merge patch of status",
     KUBE_PATCH_MERGE,
     &widgets,
     "ns",
     "w1",
     {.subresource = "status"},
     "PATCH",
     "/apis/e2e.sluice.dev/v1/namespaces/ns/widgets/w1/status",
     "application/merge-patch+json",
     true,
     SL_KUBE_MAX_OBJECT_RESPONSE},
    {"JSON patch, dry run",
     KUBE_PATCH_JSON,
     &sl_kube_res_configmaps,
     "ns",
     "cm",
     {.dry_run = true},
     "PATCH",
     "/api/v1/namespaces/ns/configmaps/cm?dryRun=All",
     "application/json-patch+json",
     false,
     SL_KUBE_MAX_OBJECT_RESPONSE},
    {"strategic merge patch",
     KUBE_PATCH_STRATEGIC,
     &sl_kube_res_configmaps,
     "ns",
     "cm",
     {0},
     "PATCH",
     "/api/v1/namespaces/ns/configmaps/cm",
     "application/strategic-merge-patch+json",
     false,
     SL_KUBE_MAX_OBJECT_RESPONSE},
    {"server-side apply, forced",
     KUBE_APPLY,
     &widgets,
     "ns",
     "w1",
     {.field_manager = "kustomize-controller", .force = true},
     "PATCH",
     "/apis/e2e.sluice.dev/v1/namespaces/ns/widgets/w1?fieldManager=kustomize-controller"
     "&force=true",
     "application/apply-patch+yaml",
     true,
     SL_KUBE_MAX_OBJECT_RESPONSE},
    {"delete",
     KUBE_DELETE,
     &sl_kube_res_crds,
     NULL,
     "widgets.e2e.sluice.dev",
     {0},
     "DELETE",
     "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.e2e.sluice.dev",
     "application/json",
     true,
     SL_KUBE_MAX_OBJECT_RESPONSE},
    {"names are percent-encoded",
     KUBE_GET,
     &sl_kube_res_configmaps,
     "ns",
     "a:b@c",
     {0},
     "GET",
     "/api/v1/namespaces/ns/configmaps/a%3Ab%40c",
     NULL,
     true,
     SL_KUBE_MAX_OBJECT_RESPONSE},
};

static void request_of_every_verb(void **state)
{
	(void)state;
	for (size_t i = 0; i < SL_ARRAY_SIZE(call_cases); i++) {
		const struct call_case *c = &call_cases[i];
		struct kube_call call;
		struct sl_error err = {0};
		int r = kube_call_build(c->verb, c->res, c->ns, c->obj, &c->p, &call, &err);
		if (r != 0)
			fail_msg("%s: %s", c->name, err.msg);
		expect_str(c->name, call.method, c->method);
		expect_str(c->name, call.path, c->path);
		expect_str(c->name, call.content_type, c->content_type);
		if (call.idempotent != c->idempotent)
			fail_msg("%s: idempotent %d", c->name, call.idempotent);
		assert_int_equal(call.max_response, c->max);
		kube_call_clear(&call);
	}
}

static void request_refuses_bad_names(void **state)
{
	(void)state;
	struct {
		enum kube_verb verb;
		const struct sl_kube_resource *res;
		const char *ns, *name;
		struct kube_params p;
		const char *error;
	} cases[] = {
	    {KUBE_GET, &sl_kube_res_configmaps, "ns", "../secrets/x", {0}, "not a valid path"},
	    {KUBE_GET, &sl_kube_res_configmaps, "ns", "..", {0}, "not a valid path"},
	    {KUBE_GET, &sl_kube_res_configmaps, "ns", "", {0}, "no object name"},
	    {KUBE_DELETE, &sl_kube_res_configmaps, NULL, "cm", {0}, "no namespace"},
	    {KUBE_CREATE, &sl_kube_res_configmaps, NULL, NULL, {0}, "no namespace"},
	    {KUBE_GET, &sl_kube_res_configmaps, "a/b", "cm", {0}, "not a valid path"},
	    {KUBE_APPLY, &sl_kube_res_configmaps, "ns", "cm", {0}, "field manager"},
	    {KUBE_PATCH_MERGE,
	     &sl_kube_res_configmaps,
	     "ns",
	     "cm",
	     {.subresource = "a/b"},
	     "not a valid path"},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		struct kube_call call;
		struct sl_error err = {0};
		int r = kube_call_build(cases[i].verb, cases[i].res, cases[i].ns, cases[i].name,
		                        &cases[i].p, &call, &err);
		assert_int_equal(r, SL_EINVAL);
		assert_contains(err.msg, cases[i].error);
	}
}

static void resource_from_api_version(void **state)
{
	(void)state;
	struct sl_kube_resource r;
	struct sl_error err = {0};
	assert_int_equal(sl_kube_resource_set(&r, "source.toolkit.fluxcd.io/v1", "OCIRepository",
	                                      "ocirepositories", true, &err),
	                 0);
	assert_string_equal(r.group, "source.toolkit.fluxcd.io");
	assert_string_equal(r.version, "v1");
	assert_string_equal(r.kind, "OCIRepository");
	assert_string_equal(r.resource, "ocirepositories");
	assert_true(r.namespaced);
	assert_int_equal(sl_kube_resource_set(&r, "v1", "ConfigMap", "configmaps", true, &err), 0);
	assert_string_equal(r.group, "");
	assert_string_equal(r.version, "v1");
	assert_int_equal(sl_kube_resource_set(&r, "a/b/c", "X", "", true, &err), SL_EINVAL);
	assert_int_equal(sl_kube_resource_set(&r, "/v1", "X", "", true, &err), SL_EINVAL);
	assert_int_equal(sl_kube_resource_set(&r, "", "X", "", true, &err), SL_EINVAL);
}

/* ---- Status errors ------------------------------------------------------------ */

static void status_errors_carry_reason_and_code(void **state)
{
	(void)state;
	struct {
		long http;
		const char *body;
		int code;
		const char *message;
		bool names_object;
	} cases[] = {
	    {404,
	     "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":"
	     "\"configmaps \\\"x\\\" not found\",\"reason\":\"NotFound\",\"details\":{\"name\":"
	     "\"x\",\"kind\":\"configmaps\"},\"code\":404}",
	     SL_ENOTFOUND, "GET https://k/api/v1/x: 404 NotFound: configmaps \"x\" not found",
	     true},
	    {404,
	     "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"the server could not find "
	     "the requested resource\",\"reason\":\"NotFound\",\"details\":{},\"code\":404}",
	     SL_ENOTFOUND, "404 NotFound: the server could not find the requested resource", false},
	    {404, "404 page not found\n", SL_ENOTFOUND, ": 404 NotFound: 404 page not found",
	     false},
	    {409,
	     "{\"kind\":\"Status\",\"reason\":\"AlreadyExists\",\"message\":\"leases.coordination."
	     "k8s"
	     ".io \\\"l\\\" already exists\",\"code\":409}",
	     SL_KUBE_EEXISTS, "409 AlreadyExists: leases", false},
	    {409,
	     "{\"kind\":\"Status\",\"reason\":\"Conflict\",\"message\":\"Operation cannot be "
	     "fulfilled on leases\",\"code\":409}",
	     SL_KUBE_ECONFLICT, "409 Conflict: Operation cannot be fulfilled", false},
	    {410,
	     "{\"kind\":\"Status\",\"reason\":\"Expired\",\"message\":\"too old\",\"code\":410}",
	     SL_KUBE_EGONE, "410 Expired: too old", false},
	    {410, "{\"kind\":\"Status\",\"reason\":\"Gone\",\"message\":\"gone\",\"code\":410}",
	     SL_KUBE_EGONE, "410 Gone: gone", false},
	    {422, "{\"kind\":\"Status\",\"reason\":\"Invalid\",\"message\":\"spec.size: Invalid\"}",
	     SL_KUBE_EINVALID, "422 Invalid: spec.size: Invalid", false},
	    {403,
	     "{\"kind\":\"Status\",\"reason\":\"Forbidden\",\"message\":\"User \\\"x\\\" cannot get"
	     "\",\"code\":403}",
	     SL_EAUTH, "403 Forbidden: User", false},
	    {401, "", SL_EAUTH, ": 401 Unauthorized", false},
	    {500, "<html>\x01oops</html>\nmore", SL_EHTTP, "500 InternalError: <html>?oops</html>",
	     false},
	    {429, "{\"kind\":\"Status\",\"reason\":\"TooManyRequests\",\"code\":429}", SL_EHTTP,
	     "429 TooManyRequests", false},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		struct sl_error err = {0};
		struct kube_status st;
		int r = kube_status_error("GET", "https://k/api/v1/x", cases[i].http, cases[i].body,
		                          strlen(cases[i].body), &st, &err);
		if (r != cases[i].code)
			fail_msg("case %zu: code %d, want %d (%s)", i, r, cases[i].code, err.msg);
		assert_int_equal(err.code, cases[i].code);
		assert_int_equal(err.http_status, cases[i].http);
		assert_contains(err.msg, cases[i].message);
		assert_int_equal(st.names_object, cases[i].names_object);
	}
}

/* ---- the watch stream --------------------------------------------------------- */

struct recorded {
	char log[4096];
	int fail_at; /* event number at which the callback fails, 0: never */
	int n;
};

static int record_event(void *userdata, const struct sl_kube_watch_event *ev, struct sl_error *err)
{
	struct recorded *rec = userdata;
	static const char *names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK"};
	const char *name =
	    json_string_value(json_object_get(json_object_get(ev->object, "metadata"), "name"));
	size_t len = strlen(rec->log);
	snprintf(rec->log + len, sizeof(rec->log) - len, "%s %s@%s;", names[ev->type],
	         name ? name : "-", ev->resource_version);
	if (++rec->n == rec->fail_at)
		return sl_error_set(err, SL_EIO, "callback failed");
	return 0;
}

static const char watch_stream[] =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\","
    "\"resourceVersion\":\"10\"},\"data\":{\"k\":\"line\\nbreak\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"11\""
    "}}}\n"
    "\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{"
    "\"resourceVersion\":\"15\"}}}\r\n"
    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"16\"}}"
    "}\n"
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
    "\"Failure\",\"message\":\"too old resource version: 1 (16)\",\"reason\":\"Expired\","
    "\"code\":410}}\n"
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"never\"}}}\n";

static const char watch_log[] = "ADDED a@10;MODIFIED a@11;BOOKMARK -@15;DELETED a@16;";

static int feed_split(const char *data, size_t len, size_t at, size_t max, struct recorded *rec,
                      struct sl_error *err)
{
	struct kube_watch_parser p;
	kube_watch_parser_init(&p, max, record_event, rec);
	int r = kube_watch_parser_feed(&p, data, at, err);
	if (r == 0)
		r = kube_watch_parser_feed(&p, data + at, len - at, err);
	if (r == 0)
		r = kube_watch_parser_finish(&p, err);
	kube_watch_parser_free(&p);
	return r;
}

static void watch_stream_split_at_every_byte(void **state)
{
	(void)state;
	size_t len = strlen(watch_stream);
	for (size_t at = 0; at <= len; at++) {
		struct recorded rec = {0};
		struct sl_error err = {0};
		int r = feed_split(watch_stream, len, at, 0, &rec, &err);
		if (r != SL_KUBE_EGONE)
			fail_msg("split at %zu: %d %s", at, r, err.msg);
		assert_string_equal(rec.log, watch_log);
		assert_contains(err.msg, "too old resource version");
		assert_int_equal(err.http_status, 410);
	}
	/* Byte by byte too. */
	struct recorded rec = {0};
	struct sl_error err = {0};
	struct kube_watch_parser p;
	kube_watch_parser_init(&p, 0, record_event, &rec);
	int r = 0;
	for (size_t i = 0; i < len && r == 0; i++)
		r = kube_watch_parser_feed(&p, watch_stream + i, 1, &err);
	kube_watch_parser_free(&p);
	assert_int_equal(r, SL_KUBE_EGONE);
	assert_string_equal(rec.log, watch_log);
}

static void watch_stream_failures(void **state)
{
	(void)state;
	struct recorded rec = {0};
	struct sl_error err = {0};
	/* The last event may lack its newline when the stream ends. */
	const char *tail = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"t\","
	                   "\"resourceVersion\":\"3\"}}}";
	assert_int_equal(feed_split(tail, strlen(tail), 10, 0, &rec, &err), 0);
	assert_string_equal(rec.log, "ADDED t@3;");

	/* An event over the cap, whether in one piece or split. */
	const char *big = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"big\"}}}\n";
	for (size_t at = 0; at <= strlen(big); at++) {
		memset(&rec, 0, sizeof(rec));
		assert_int_equal(feed_split(big, strlen(big), at, 20, &rec, &err), SL_ELIMIT);
		assert_contains(err.msg, "larger than 20 bytes");
		assert_string_equal(rec.log, "");
	}

	struct {
		const char *stream;
		int code;
		const char *message;
	} cases[] = {
	    {"{\"type\":\"ADDED\",\"object\":{\"metadata\":{}}}\nnot json\n", SL_EINVAL,
	     "malformed event"},
	    {"{\"type\":\"ADDED\"}\n", SL_EINVAL, "without type or object"},
	    {"{\"type\":\"SURPRISE\",\"object\":{}}\n", SL_EINVAL, "unknown event type"},
	    {"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"reason\":\"InternalError\","
	     "\"message\":\"etcd down\",\"code\":500}}\n",
	     SL_EHTTP, "500 InternalError: etcd down"},
	    {"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"reason\":\"Gone\",\"code\":410}"
	     "}"
	     "\n",
	     SL_KUBE_EGONE, "410 Gone"},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		memset(&rec, 0, sizeof(rec));
		int r = feed_split(cases[i].stream, strlen(cases[i].stream), 0, 0, &rec, &err);
		assert_int_equal(r, cases[i].code);
		assert_contains(err.msg, cases[i].message);
	}

	/* The callback's failure ends the stream with its code. */
	memset(&rec, 0, sizeof(rec));
	rec.fail_at = 2;
	assert_int_equal(feed_split(watch_stream, strlen(watch_stream), 7, 0, &rec, &err), SL_EIO);
	assert_string_equal(rec.log, "ADDED a@10;MODIFIED a@11;");
}

/* ---- the informer's store -------------------------------------------------------- */

struct handler_log {
	char text[2048];
};

static void log_append(struct handler_log *l, const char *what, const json_t *obj)
{
	_cleanup_free_ char *key = kube_store_key(obj);
	const char *rv =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
	size_t len = strlen(l->text);
	snprintf(l->text + len, sizeof(l->text) - len, "%s %s@%s;", what, key, rv ? rv : "");
}

static void on_add(void *userdata, json_t *obj)
{
	log_append(userdata, "add", obj);
}

static void on_update(void *userdata, json_t *old_obj, json_t *new_obj)
{
	struct handler_log *l = userdata;
	const char *old_rv = json_string_value(
	    json_object_get(json_object_get(old_obj, "metadata"), "resourceVersion"));
	size_t len = strlen(l->text);
	snprintf(l->text + len, sizeof(l->text) - len, "update(from %s) ", old_rv);
	log_append(l, "", new_obj);
}

static void on_delete(void *userdata, json_t *obj)
{
	log_append(userdata, "delete", obj);
}

static json_t *obj(const char *ns, const char *name, const char *rv)
{
	json_t *meta = json_pack("{s:s, s:s}", "name", name, "resourceVersion", rv);
	if (ns)
		json_object_set_new(meta, "namespace", json_string(ns));
	return json_pack("{s:s, s:o}", "kind", "ConfigMap", "metadata", meta);
}

static void informer_relist_diff_misses_nothing(void **state)
{
	(void)state;
	struct handler_log log = {0};
	struct sl_kube_informer_handlers h = {
	    .on_add = on_add, .on_update = on_update, .on_delete = on_delete, .userdata = &log};
	struct kube_store s;
	kube_store_init(&s);

	json_t *first = json_pack("[o,o,o,o]", obj("a", "keep", "1"), obj("a", "change", "2"),
	                          obj("b", "vanish", "3"), obj(NULL, "cluster-wide", "4"));
	kube_store_replace(&s, first, &h);
	json_decref(first);
	assert_string_equal(log.text, "add a/keep@1;add a/change@2;add b/vanish@3;"
	                              "add cluster-wide@4;");

	/* Watch events between the lists. */
	log.text[0] = '\0';
	json_t *ev = obj("a", "change", "5");
	kube_store_upsert(&s, ev, &h);
	json_decref(ev);
	ev = obj("a", "watched", "6");
	kube_store_upsert(&s, ev, &h);
	json_decref(ev);
	ev = obj("a", "unknown", "7");
	kube_store_remove(&s, ev, &h); /* not cached: nothing to report */
	json_decref(ev);
	assert_string_equal(log.text, "update(from 2)  a/change@5;add a/watched@6;");

	/* The stream dropped; the relist shows one change, one addition and
	 * two deletions that no watch event told us about. */
	log.text[0] = '\0';
	json_t *second = json_pack("[o,o,o]", obj("a", "keep", "1"), obj("a", "change", "8"),
	                           obj("c", "new", "9"));
	kube_store_replace(&s, second, &h);
	json_decref(second);
	assert_string_equal(log.text,
	                    "update(from 5)  a/change@8;add c/new@9;"
	                    "delete b/vanish@3;delete cluster-wide@4;delete a/watched@6;");

	json_t *got = kube_store_get(&s, "a/change");
	assert_non_null(got);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(got, "metadata"), "resourceVersion")),
	    "8");
	json_decref(got);
	assert_null(kube_store_get(&s, "b/vanish"));
	assert_int_equal(json_object_size(s.objects), 3);

	/* A deletion event removes and reports the final state. */
	log.text[0] = '\0';
	ev = obj("c", "new", "10");
	kube_store_remove(&s, ev, &h);
	json_decref(ev);
	assert_string_equal(log.text, "delete c/new@10;");
	assert_int_equal(json_object_size(s.objects), 2);
	kube_store_destroy(&s);
}

/* The store after a relist of [keep@1, change@2, vanish@3, cluster-wide@4],
 * with the handler log cleared. */
static void store_with_first_list(struct kube_store *s, const struct sl_kube_informer_handlers *h,
                                  struct handler_log *log)
{
	kube_store_init(s);
	json_t *first = json_pack("[o,o,o,o]", obj("a", "keep", "1"), obj("a", "change", "2"),
	                          obj("b", "vanish", "3"), obj(NULL, "cluster-wide", "4"));
	kube_store_replace(s, first, h);
	json_decref(first);
	log->text[0] = '\0';
}

/* The three relist tests' start: a store after a first list of four
 * objects, with handlers that log what they are told. */
struct relist_fixture {
	struct handler_log log;
	struct sl_kube_informer_handlers h;
	struct kube_store s;
};

static void relist_fixture_init(struct relist_fixture *f)
{
	*f = (struct relist_fixture){.h = {.on_add = on_add,
	                                   .on_update = on_update,
	                                   .on_delete = on_delete,
	                                   .userdata = &f->log}};
	store_with_first_list(&f->s, &f->h, &f->log);
}

static const char *cached_rv(struct kube_store *s, const char *key, char buf[16])
{
	json_t *got = kube_store_get(s, key);
	const char *rv =
	    json_string_value(json_object_get(json_object_get(got, "metadata"), "resourceVersion"));
	snprintf(buf, 16, "%s", rv ? rv : "-");
	json_decref(got);
	return buf;
}

static void informer_relist_by_pages_reports_as_one_list(void **state)
{
	(void)state;
	struct relist_fixture f;
	relist_fixture_init(&f);
	struct kube_store *s = &f.s;
	char rv[16];

	struct kube_store_relist rl = {0};
	kube_store_relist_begin(&rl);
	/* keep@1 comes back with its members in another order: the same
	 * resourceVersion, so no update although the text differs. */
	json_t *keep = json_pack("{s:{s:s, s:s, s:s}, s:s}", "metadata", "resourceVersion", "1",
	                         "namespace", "a", "name", "keep", "kind", "ConfigMap");
	json_t *page = json_pack("[o,o]", keep, obj("a", "change", "8"));
	kube_store_relist_add(s, &rl, page);
	/* The relist keeps text, not the page's trees: the page can go. */
	assert_int_equal(keep->refcount, 1);
	assert_int_equal(page->refcount, 1);
	json_decref(page);
	/* Nothing is visible or reported before the last page is in. */
	assert_string_equal(f.log.text, "");
	assert_string_equal(cached_rv(s, "a/change", rv), "2");
	assert_string_equal(cached_rv(s, "b/vanish", rv), "3");

	page = json_pack("[o,o]", obj("c", "new", "9"), obj(NULL, "cluster-wide", "4"));
	kube_store_relist_add(s, &rl, page);
	json_decref(page);
	assert_string_equal(f.log.text, "");
	assert_null(kube_store_get(s, "c/new"));

	kube_store_relist_commit(s, &rl, &f.h);
	assert_null(rl.fresh);
	assert_null(rl.changed);
	assert_string_equal(f.log.text,
	                    "update(from 2)  a/change@8;add c/new@9;delete b/vanish@3;");
	assert_string_equal(cached_rv(s, "a/change", rv), "8");
	assert_string_equal(cached_rv(s, "c/new", rv), "9");
	assert_string_equal(cached_rv(s, "a/keep", rv), "1");
	assert_null(kube_store_get(s, "b/vanish"));
	assert_int_equal(json_object_size(s->objects), 4);
	kube_store_relist_clear(&rl); /* after a commit: nothing left to drop */
	kube_store_destroy(s);
}

/* A list whose continue token expired starts over: the pages before are
 * forgotten, as if they had never come. */
static void informer_relist_started_over_forgets_earlier_pages(void **state)
{
	(void)state;
	struct relist_fixture f;
	relist_fixture_init(&f);
	struct kube_store *s = &f.s;

	struct kube_store_relist rl = {0};
	kube_store_relist_begin(&rl);
	json_t *page = json_pack("[o,o]", obj("a", "keep", "1"), obj("d", "half-way", "10"));
	kube_store_relist_add(s, &rl, page);
	json_decref(page);
	kube_store_relist_begin(&rl);
	json_t *all = json_pack("[o,o,o]", obj("a", "keep", "1"), obj("a", "change", "11"),
	                        obj("b", "vanish", "3"));
	kube_store_relist_add(s, &rl, all);
	json_decref(all);
	kube_store_relist_commit(s, &rl, &f.h);
	assert_string_equal(f.log.text, "update(from 2)  a/change@11;delete cluster-wide@4;");
	assert_null(kube_store_get(s, "d/half-way"));
	assert_int_equal(json_object_size(s->objects), 3);
	kube_store_destroy(s);
}

/* A relist that fails half-way is dropped: the cache stays as it was and
 * nothing is reported. */
static void informer_relist_dropped_half_way_changes_nothing(void **state)
{
	(void)state;
	struct relist_fixture f;
	relist_fixture_init(&f);
	struct kube_store *s = &f.s;
	char rv[16];

	struct kube_store_relist rl = {0};
	kube_store_relist_begin(&rl);
	json_t *page = json_pack("[o]", obj("a", "change", "12"));
	kube_store_relist_add(s, &rl, page);
	json_decref(page);
	kube_store_relist_clear(&rl);
	assert_string_equal(f.log.text, "");
	assert_string_equal(cached_rv(s, "a/change", rv), "2");
	assert_int_equal(json_object_size(s->objects), 4);
	kube_store_destroy(s);
}

/* The cache keeps objects frozen (deflated against the first one): every
 * object comes back exactly, whatever its size or likeness to the first,
 * and objects of one kind take a fraction of their text. */
static void store_freezes_objects_and_thaws_them_exactly(void **state)
{
	(void)state;
	struct sl_kube_informer_handlers h = {0};
	struct kube_store s;
	kube_store_init(&s);
	char name[32], rv[16];
	size_t text_bytes = 0;
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "app-%03d", i);
		snprintf(rv, sizeof(rv), "%d", 1000 + i);
		json_t *o = obj("ns", name, rv);
		json_object_set_new(o, "spec",
		                    json_pack("{s:s, s:s, s:{s:s}}", "interval", "10m", "url",
		                              "oci://registry.example.com/team/app", "ref", "tag",
		                              name));
		text_bytes += json_dumpb(o, NULL, 0, JSON_COMPACT);
		kube_store_upsert(&s, o, &h);
		json_decref(o);
	}
	/* Unlike the dictionary: empty, and larger than its window, with
	 * bytes that do not compress and a NUL in a string. */
	json_t *big = obj("ns", "big", "7");
	json_t *data = json_object();
	unsigned seed = 42;
	for (int i = 0; i < 3000; i++) {
		char key[16], value[40];
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(value, sizeof(value), "%08x%08x", (unsigned)rand_r(&seed),
		         (unsigned)rand_r(&seed));
		json_object_set_new(data, key, json_string(value));
	}
	json_object_set_new(data, "nul", json_stringn("a\0b", 3));
	json_object_set_new(big, "data", data);
	kube_store_upsert(&s, big, &h);
	json_t *empty = json_pack("{s:{s:s}}", "metadata", "name", "empty");
	kube_store_upsert(&s, empty, &h);

	json_t *got = kube_store_get(&s, "ns/big");
	assert_true(json_equal(got, big));
	json_decref(got);
	got = kube_store_get(&s, "empty");
	assert_true(json_equal(got, empty));
	json_decref(got);
	got = kube_store_get(&s, "ns/app-123");
	assert_string_equal(json_string_value(json_object_get(json_object_get(got, "spec"), "url")),
	                    "oci://registry.example.com/team/app");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(got, "metadata"), "resourceVersion")),
	    "1123");
	json_decref(got);
	json_decref(big);
	json_decref(empty);

	size_t frozen_bytes = 0;
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "ns/app-%03d", i);
		frozen_bytes += json_string_length(json_object_get(s.objects, name));
	}
	print_message("store: 200 objects, %zu bytes of text, %zu frozen\n", text_bytes,
	              frozen_bytes);
	assert_true(frozen_bytes * 3 < text_bytes);
	kube_store_destroy(&s);
}

/* Handlers get trees of their own, each thawed from the text the cache
 * keeps: trimmed, and theirs to change without touching the cache. */
static void check_trimmed_and_scribble(json_t *o)
{
	assert_null(json_object_get(json_object_get(o, "metadata"), "managedFields"));
	json_object_set_new(json_object_get(o, "metadata"), "resourceVersion",
	                    json_string("scribbled"));
}

static void on_add_scribble(void *userdata, json_t *o)
{
	(*(int *)userdata)++;
	check_trimmed_and_scribble(o);
}

static void on_update_scribble(void *userdata, json_t *old_obj, json_t *new_obj)
{
	(*(int *)userdata)++;
	check_trimmed_and_scribble(old_obj);
	check_trimmed_and_scribble(new_obj);
}

static void informer_relist_handlers_get_their_own_trees(void **state)
{
	(void)state;
	int calls = 0;
	struct sl_kube_informer_handlers h = {
	    .on_add = on_add_scribble, .on_update = on_update_scribble, .userdata = &calls};
	struct kube_store s;
	kube_store_init(&s);
	char rv[16];
	json_t *o = obj("a", "x", "1");
	json_object_set_new(json_object_get(o, "metadata"), "managedFields",
	                    json_pack("[{s:s}]", "manager", "kubectl"));
	json_t *list = json_pack("[o]", o);
	kube_store_replace(&s, list, &h);
	json_decref(list);
	list = json_pack("[o]", obj("a", "x", "2"));
	kube_store_replace(&s, list, &h);
	json_decref(list);
	assert_int_equal(calls, 2);
	assert_string_equal(cached_rv(&s, "a/x", rv), "2");
	kube_store_destroy(&s);
}

/* ---- retries ------------------------------------------------------------------ */

static void retries_depend_on_verb_and_failure(void **state)
{
	(void)state;
	struct {
		CURLcode code;
		long status;
		bool idempotent, retry;
	} cases[] = {
	    {CURLE_OK, 429, false, true}, /* not processed: any verb */
	    {CURLE_OK, 429, true, true},
	    {CURLE_OK, 503, true, true},   /* GET, PUT, DELETE, apply */
	    {CURLE_OK, 503, false, false}, /* POST may have happened */
	    {CURLE_OK, 500, true, true},
	    {CURLE_OK, 504, true, true},
	    {CURLE_OK, 501, true, false},
	    {CURLE_OK, 409, true, false},
	    {CURLE_OK, 404, true, false},
	    {CURLE_OK, 200, true, false},
	    {CURLE_COULDNT_CONNECT, 0, false, true}, /* never sent */
	    {CURLE_GOT_NOTHING, 0, true, true},
	    {CURLE_GOT_NOTHING, 0, false, false},
	    {CURLE_RECV_ERROR, 0, true, true},
	    {CURLE_HTTP2_STREAM, 0, true, true},
	    {CURLE_OPERATION_TIMEDOUT, 0, false, false},
	    {CURLE_PEER_FAILED_VERIFICATION, 0, true, false},
	    {CURLE_ABORTED_BY_CALLBACK, 0, true, false}, /* stopped */
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++)
		if (kube_retryable(cases[i].code, cases[i].status, cases[i].idempotent) !=
		    cases[i].retry)
			fail_msg("case %zu: curl %d, HTTP %ld, idempotent %d: want retry=%d", i,
			         cases[i].code, cases[i].status, cases[i].idempotent,
			         cases[i].retry);
}

static void backoff_doubles_with_jitter_and_honours_retry_after(void **state)
{
	(void)state;
	int64_t base[] = {200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000};
	for (int attempt = 0; attempt < (int)SL_ARRAY_SIZE(base); attempt++) {
		for (unsigned seed = 0; seed < 50; seed++) {
			int64_t ms = kube_backoff_ms(attempt, -1, seed);
			if (ms < base[attempt] * 8 / 10 || ms > base[attempt] * 12 / 10)
				fail_msg("attempt %d: %lld ms, want %lld ±20%%", attempt,
				         (long long)ms, (long long)base[attempt]);
		}
	}
	assert_int_equal(kube_backoff_ms(0, 3, 1), 3000);
	assert_int_equal(kube_backoff_ms(5, 1, 1), 1000);
	assert_int_equal(kube_backoff_ms(0, 3600, 1), 60000); /* capped */
	assert_int_equal(kube_backoff_ms(99, -1, 1) <= 12000, true);
}

static void micro_time_has_microseconds(void **state)
{
	(void)state;
	char t[40];
	kube_time_micro_now(t);
	/* 2006-01-02T15:04:05.000000Z */
	assert_int_equal(strlen(t), 27);
	assert_int_equal(t[19], '.');
	assert_int_equal(t[26], 'Z');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(kubeconfig_table),
	    cmocka_unit_test(kubeconfig_flag_must_exist),
	    cmocka_unit_test(in_cluster_reads_the_service_account),
	    cmocka_unit_test(token_file_is_read_again_when_it_changes),
	    cmocka_unit_test(request_of_every_verb),
	    cmocka_unit_test(request_refuses_bad_names),
	    cmocka_unit_test(resource_from_api_version),
	    cmocka_unit_test(status_errors_carry_reason_and_code),
	    cmocka_unit_test(watch_stream_split_at_every_byte),
	    cmocka_unit_test(watch_stream_failures),
	    cmocka_unit_test(informer_relist_diff_misses_nothing),
	    cmocka_unit_test(informer_relist_by_pages_reports_as_one_list),
	    cmocka_unit_test(informer_relist_started_over_forgets_earlier_pages),
	    cmocka_unit_test(informer_relist_dropped_half_way_changes_nothing),
	    cmocka_unit_test(informer_relist_handlers_get_their_own_trees),
	    cmocka_unit_test(store_freezes_objects_and_thaws_them_exactly),
	    cmocka_unit_test(retries_depend_on_verb_and_failure),
	    cmocka_unit_test(backoff_doubles_with_jitter_and_honours_retry_after),
	    cmocka_unit_test(micro_time_has_microseconds),
	};
	return cmocka_run_group_tests_name("kube", tests, NULL, NULL);
}
