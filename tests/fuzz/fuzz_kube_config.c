/* sl_kube_config_load on kubeconfig files. The input is up to three texts
 * split at lines "===":
 *   1. the file a;
 *   2. when present, the file b: both are then loaded through
 *      $KUBECONFIG=a:missing:b and merged as kubectl merges them; else a
 *      alone is loaded as --kubeconfig;
 *   3. options: a first word for --context, a second for --namespace.
 * The files live in a directory made once in $TMPDIR, next to files a
 * kubeconfig may name with relative paths (ca.pem, cert.pem, key.pem,
 * token).
 *
 * Each input is loaded twice. First as written: a failure says why with a
 * known code and hands nothing out; a success is a usable configuration
 * (an http(s) server without a trailing '/', a namespace, absolute file
 * paths, a client certificate only with its key) whose copy is equal to
 * it. Then, rewritten as JSON with every value under a secret key (token,
 * password, client-key-data) made a canary (when the input holds no canary
 * of its own and its first documents print as JSON): the error, if any,
 * must show no canary (kubeconfigs get pasted into bug reports with their
 * messages), and a loaded token, password or key is the canary itself. */
#include "codec/yaml.h"
#include "fuzz.h"
#include "kube/kube.h"

#define CANARY_TOKEN     "Sl.CanaryToken.8e1f"
#define CANARY_PASSWORD  "Sl.CanaryPassword.5b2c"
#define CANARY_KEY       "Sl.CanaryPrivateKey.37d0" /* decoded client-key-data */
#define CANARY_KEY_B64   "U2wuQ2FuYXJ5UHJpdmF0ZUtleS4zN2Qw"
#define CANARY_KEY_BAD   "SlCanaryKeyNotBase64!" /* for values that were not base64 */
#define CANARY_KEY_BAD_S "SlCanaryKeyNotBase64"

static const char *const canaries[] = {
    CANARY_TOKEN, CANARY_PASSWORD, CANARY_KEY, CANARY_KEY_B64, CANARY_KEY_BAD_S, "Canary",
};

static char *dir, *path_a, *path_b, *env_ab;

static void remove_dir(void)
{
	if (dir)
		sl_rm_rf(dir);
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(fwrite(data, 1, len, f) == len);
	FUZZ_CHECK(fclose(f) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	struct sl_error err = {0};
	if (sl_mkdtemp("sluice-fuzz-kubeconfig", &dir, &err) < 0) {
		fprintf(stderr, "fuzz: %s\n", err.msg);
		abort();
	}
	atexit(remove_dir);
	static const char *const helpers[] = {"ca.pem", "cert.pem", "key.pem", "token"};
	for (size_t i = 0; i < SL_ARRAY_SIZE(helpers); i++) {
		char *p = sl_asprintf("%s/%s", dir, helpers[i]);
		write_file(p, "x\n", 2);
		free(p);
	}
	path_a = sl_asprintf("%s/a", dir);
	path_b = sl_asprintf("%s/b", dir);
	env_ab = sl_asprintf("%s:%s/missing:%s", path_a, dir, path_b);
	/* Only the files given: no in-cluster fallback, no ~/.kube/config.
	 * --kubeconfig ignores $KUBECONFIG, so it is set once for all (setenv
	 * per input would allocate, and libFuzzer would run each input twice
	 * to look for a leak). */
	setenv("KUBECONFIG", env_ab, 1);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	setenv("HOME", dir, 1);
	return 0;
}

struct options {
	char *context, *namespace;
};

static bool blob_equal(const struct sl_kube_blob *a, const struct sl_kube_blob *b)
{
	if (!a->data || !b->data)
		return !a->data && !b->data && !a->len && !b->len;
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

static bool str_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_path(const char *p)
{
	if (p && dir[0] == '/')
		FUZZ_CHECK(p[0] == '/');
}

static void check_config(const struct sl_kube_config *c, const struct options *o)
{
	FUZZ_CHECK(c->origin && c->context && c->cluster && c->server && c->namespace);
	FUZZ_CHECK(sl_startswith(c->server, "https://") || sl_startswith(c->server, "http://"));
	FUZZ_CHECK(!sl_endswith(c->server, "/"));
	FUZZ_CHECK(*c->namespace);
	if (o->namespace)
		FUZZ_CHECK(strcmp(c->namespace, o->namespace) == 0);
	if (o->context)
		FUZZ_CHECK(strcmp(c->context, o->context) == 0);
	check_path(c->ca_file);
	check_path(c->client_cert_file);
	check_path(c->client_key_file);
	check_path(c->token_file);
	/* data wins over files */
	FUZZ_CHECK(!(c->ca_data.data && c->ca_file));
	FUZZ_CHECK(!(c->client_cert_data.data && c->client_cert_file));
	FUZZ_CHECK(!(c->client_key_data.data && c->client_key_file));
	FUZZ_CHECK(!(c->token && c->token_file));
	bool cert = c->client_cert_data.data || c->client_cert_file;
	bool key = c->client_key_data.data || c->client_key_file;
	FUZZ_CHECK(cert == key);
	/* empty strings read as absent */
	FUZZ_CHECK(!c->token || *c->token);
	FUZZ_CHECK(!c->password || *c->password);
	FUZZ_CHECK(!c->user || *c->user);

	struct sl_kube_config *d = sl_kube_config_dup(c);
	FUZZ_CHECK(d != NULL && d != c);
	FUZZ_CHECK(str_equal(d->origin, c->origin) && str_equal(d->context, c->context) &&
	           str_equal(d->cluster, c->cluster) && str_equal(d->user, c->user) &&
	           str_equal(d->server, c->server) && str_equal(d->namespace, c->namespace) &&
	           str_equal(d->ca_file, c->ca_file) &&
	           str_equal(d->tls_server_name, c->tls_server_name) &&
	           str_equal(d->proxy_url, c->proxy_url) &&
	           str_equal(d->client_cert_file, c->client_cert_file) &&
	           str_equal(d->client_key_file, c->client_key_file) &&
	           str_equal(d->token, c->token) && str_equal(d->token_file, c->token_file) &&
	           str_equal(d->username, c->username) && str_equal(d->password, c->password));
	FUZZ_CHECK(d->insecure_skip_tls_verify == c->insecure_skip_tls_verify);
	FUZZ_CHECK(blob_equal(&d->ca_data, &c->ca_data));
	FUZZ_CHECK(blob_equal(&d->client_cert_data, &c->client_cert_data));
	FUZZ_CHECK(blob_equal(&d->client_key_data, &c->client_key_data));
	FUZZ_CHECK(!d->server || d->server != c->server);
	sl_kube_config_free(d);
}

/* Writes the files and loads them; returns the code, *ret the config. */
static int load(const char *a, size_t a_len, const char *b, size_t b_len, bool two,
                const struct options *o, struct sl_kube_config **ret, struct sl_error *err)
{
	write_file(path_a, a, a_len);
	struct sl_kube_config_opts opts = {.context = o->context, .namespace = o->namespace};
	if (two)
		write_file(path_b, b, b_len);
	else
		opts.kubeconfig = path_a;
	struct sl_kube_config *sentinel = (struct sl_kube_config *)&sentinel;
	*ret = sentinel;
	*err = (struct sl_error){0};
	int r = sl_kube_config_load(&opts, ret, err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, *err);
		FUZZ_CHECK(r == SL_EINVAL || r == SL_EIO || r == SL_ELIMIT || r == SL_EUNSUPPORTED);
		FUZZ_CHECK(*ret == sentinel); /* ret_* untouched on failure */
		*ret = NULL;
		return r;
	}
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(*ret != sentinel && *ret != NULL);
	check_config(*ret, o);
	return 0;
}

/* ---- the canary pass ---------------------------------------------------- */

static bool is_base64(const char *s)
{
	size_t n = strlen(s);
	char *clean = sl_xmalloc(n + 1), *data = NULL;
	size_t m = 0;
	for (; *s; s++)
		if (*s != '\n' && *s != '\r' && *s != ' ')
			clean[m++] = *s;
	clean[m] = '\0';
	bool ok = sl_base64_decode(clean, &data) >= 0;
	free(data);
	free(clean);
	return ok;
}

static void replace_strings(struct sl_node *n, const char *canary)
{
	switch (n->type) {
	case SL_NODE_STR: sl_node_replace(n, sl_node_new_str(canary)); break;
	case SL_NODE_SEQ:
		for (size_t i = 0; i < n->seq.len; i++)
			replace_strings(n->seq.items[i], canary);
		break;
	case SL_NODE_MAP:
		for (size_t i = 0; i < n->map.len; i++)
			replace_strings(n->map.items[i].value, canary);
		break;
	default: break;
	}
}

/* Every value under a secret key, wherever it is, becomes a canary. */
static void plant_canaries(struct sl_node *n)
{
	if (n->type == SL_NODE_SEQ) {
		for (size_t i = 0; i < n->seq.len; i++)
			plant_canaries(n->seq.items[i]);
		return;
	}
	if (n->type != SL_NODE_MAP)
		return;
	for (size_t i = 0; i < n->map.len; i++) {
		const char *key = n->map.items[i].key;
		struct sl_node *v = n->map.items[i].value;
		if (strcmp(key, "token") == 0)
			replace_strings(v, CANARY_TOKEN);
		else if (strcmp(key, "password") == 0)
			replace_strings(v, CANARY_PASSWORD);
		else if (strcmp(key, "client-key-data") == 0)
			replace_strings(v, v->type == SL_NODE_STR && !is_base64(v->str.ptr)
			                       ? CANARY_KEY_BAD
			                       : CANARY_KEY_B64);
		else
			plant_canaries(v);
	}
}

static bool mentions_canary(const char *s, size_t len)
{
	for (size_t i = 0; i < SL_ARRAY_SIZE(canaries); i++)
		if (memmem(s, len, canaries[i], strlen(canaries[i])))
			return true;
	return false;
}

/* The first document of text with canaries, as JSON (which is YAML); NULL
 * when there is none to make. */
static char *with_canaries(const char *text, size_t len, size_t *ret_len)
{
	struct sl_node *docs = NULL;
	struct sl_error err = {0};
	if (sl_yaml_parse(text, len, "fuzz", &docs, &err) < 0)
		return NULL;
	char *out = NULL;
	struct sl_buf b;
	sl_buf_init(&b, 0);
	if (docs->seq.len == 0) {
		out = sl_strdup("");
		*ret_len = 0;
	} else if (sl_json_emit(&b, docs->seq.items[0], &err) == 0 &&
	           !mentions_canary(b.data, b.len)) {
		/* Checked on the values as parsed too: YAML escapes can spell
		 * a canary that the text does not show. */
		sl_buf_reset(&b);
		plant_canaries(docs->seq.items[0]);
		if (sl_json_emit(&b, docs->seq.items[0], &err) == 0) {
			*ret_len = b.len;
			out = sl_buf_steal(&b);
		}
	}
	sl_buf_free(&b);
	sl_node_free(docs);
	return out;
}

static void canary_pass(const uint8_t *input, size_t size, const char *a, size_t a_len,
                        const char *b, size_t b_len, bool two, const struct options *o)
{
	/* An input that holds a canary already (libFuzzer learns strings from
	 * comparisons) could echo it legitimately, as a name. */
	if (mentions_canary((const char *)input, size))
		return;
	size_t ca_len = 0, cb_len = 0;
	char *ca = with_canaries(a, a_len, &ca_len);
	char *cb = two ? with_canaries(b, b_len, &cb_len) : NULL;
	if (!ca || (two && !cb)) {
		free(ca);
		free(cb);
		return;
	}
	struct sl_kube_config *c = NULL;
	struct sl_error err;
	int r = load(ca, ca_len, cb, cb_len, two, o, &c, &err);
	if (r < 0) {
		for (size_t i = 0; i < SL_ARRAY_SIZE(canaries); i++)
			if (strstr(err.msg, canaries[i])) {
				fprintf(stderr, "fuzz: a secret in the error: %s\n", err.msg);
				FUZZ_CHECK(!"the error shows a secret");
			}
	} else {
		FUZZ_CHECK(!c->token || strcmp(c->token, CANARY_TOKEN) == 0);
		FUZZ_CHECK(!c->password || strcmp(c->password, CANARY_PASSWORD) == 0);
		FUZZ_CHECK(!c->client_key_data.data ||
		           (c->client_key_data.len == strlen(CANARY_KEY) &&
		            memcmp(c->client_key_data.data, CANARY_KEY, strlen(CANARY_KEY)) == 0));
		sl_kube_config_free(c);
	}
	free(ca);
	free(cb);
}

/* ---- the input ------------------------------------------------------------ */

static char *next_word(char **p)
{
	char *s = *p + strspn(*p, " \t\r\n");
	if (!*s)
		return NULL;
	size_t n = strcspn(s, " \t\r\n");
	*p = s + n + (s[n] != '\0');
	s[n] = '\0';
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	const char *parts[3] = {text, "", ""};
	size_t lens[3] = {size, 0, 0};
	size_t n = 1;
	for (char *p = text; n < 3 && (p = memmem(p, size - (size_t)(p - text), "\n===\n", 5));) {
		lens[n - 1] = (size_t)(p - parts[n - 1]);
		*p = '\0';
		parts[n] = p + 5;
		lens[n] = size - (size_t)(parts[n] - text);
		p += 5;
		n++;
	}
	bool two = n >= 2;
	struct options o = {0};
	if (n == 3) {
		char *opt = sl_strndup(parts[2], lens[2]), *p = opt;
		char *ctx = next_word(&p), *ns = next_word(&p);
		o.context = ctx ? sl_strdup(ctx) : NULL;
		o.namespace = ns ? sl_strdup(ns) : NULL;
		free(opt);
	}

	struct sl_kube_config *c = NULL;
	struct sl_error err;
	if (load(parts[0], lens[0], parts[1], lens[1], two, &o, &c, &err) == 0)
		sl_kube_config_free(c);
	canary_pass(data, size, parts[0], lens[0], parts[1], lens[1], two, &o);

	free(o.context);
	free(o.namespace);
	free(text);
	return 0;
}
