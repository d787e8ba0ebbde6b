/* configMapGenerator and secretGenerator as kustomize v5.5 runs them: the
 * key/value loader (api/kv), the generators (api/internal/generators), the
 * ConfigMap/Secret data encoding (kyaml/yaml/datamap.go), the `behavior:
 * merge` of resource.go and the name hash (api/hasher). */
#include <stdio.h>
#include <string.h>

#include "codec/codec.h"
#include "kustomize/ks.h"

/* kyaml's encodeBase64 cuts encodings of this length or more into lines. */
#define B64_LINE_LEN 70
/* bufio.Scanner's MaxScanTokenSize: kustomize reads env files with one. */
#define ENV_LINE_MAX 65536
/* k8s validation.DNS1123SubdomainMaxLength, the longest data key. */
#define KEY_MAX_LEN 253

/* ---- small text helpers ------------------------------------------------- */

/* Go's unicode.IsSpace. */
static bool is_unicode_space(uint32_t c)
{
	switch (c) {
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
	case ' ':
	case 0x85:
	case 0xa0:
	case 0x1680:
	case 0x2028:
	case 0x2029:
	case 0x202f:
	case 0x205f:
	case 0x3000: return true;
	default: return c >= 0x2000 && c <= 0x200a;
	}
}

/* Appends s the way Go's %q prints it, close enough for error messages. */
static void append_quoted(struct sl_buf *b, const char *s, size_t len)
{
	sl_buf_append(b, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			sl_buf_printf(b, "\\%c", c);
		else if (c == '\n')
			sl_buf_append(b, "\\n", 2);
		else if (c == '\t')
			sl_buf_append(b, "\\t", 2);
		else if (c < 0x20 || c == 0x7f)
			sl_buf_printf(b, "\\x%02x", c);
		else
			sl_buf_append(b, &s[i], 1);
	}
	sl_buf_append(b, "\"", 1);
}

/* Go's fmt %v of a []string: "[a b c]". */
static void append_go_list(struct sl_buf *b, const struct sl_node *seq, const char *extra)
{
	bool first = true;
	sl_buf_append(b, "[", 1);
	for (size_t i = 0; seq && i < seq->seq.len; i++, first = false)
		sl_buf_printf(b, "%s%s", first ? "" : " ", sl_node_str(seq->seq.items[i]) ?: "");
	if (extra)
		sl_buf_printf(b, "%s%s", first ? "" : " ", extra);
	sl_buf_append(b, "]", 1);
}

/* kyaml's GetValue on a map value: the text of a scalar, "" for anything
 * else. Our model has lost a float's original spelling; %.17g is close. */
static char *scalar_text(const struct sl_node *n)
{
	switch (n ? n->type : SL_NODE_NULL) {
	case SL_NODE_STR: return sl_strndup(n->str.ptr, n->str.len);
	case SL_NODE_BOOL: return sl_strdup(n->b ? "true" : "false");
	case SL_NODE_INT: return sl_asprintf("%lld", (long long)n->i);
	case SL_NODE_UINT: return sl_asprintf("%llu", (unsigned long long)n->u);
	case SL_NODE_FLOAT: return sl_asprintf("%.17g", n->f);
	default: return sl_strdup("");
	}
}

/* ---- strict decoding of the generator arguments ------------------------- */

/* kustomize decodes kustomization.yaml with encoding/json and unknown
 * fields refused; these produce its messages. */

static const char *json_kind(const struct sl_node *n)
{
	switch (n->type) {
	case SL_NODE_BOOL: return "bool";
	case SL_NODE_INT:
	case SL_NODE_UINT:
	case SL_NODE_FLOAT: return "number";
	case SL_NODE_STR: return "string";
	case SL_NODE_SEQ: return "array";
	case SL_NODE_MAP: return "object";
	default: return "null";
	}
}

/* Where a value sits, for messages: Go's struct type and the field path. */
struct field_ctx {
	const char *go_struct; /* "ConfigMapArgs" */
	const char *path;      /* "configMapGenerator" */
};

static int type_error(const struct field_ctx *ctx, const char *field, const struct sl_node *n,
                      const char *go_type, struct sl_error *err)
{
	return sl_error_set(
	    err, SL_EINVAL, "json: cannot unmarshal %s into Go struct field %s.%s%s%s of type %s",
	    json_kind(n), ctx->go_struct, ctx->path, *ctx->path ? "." : "", field, go_type);
}

/* A string field: NULL when absent or null. */
static int decode_string(const struct field_ctx *ctx, const char *field, const struct sl_node *n,
                         const char **ret, struct sl_error *err)
{
	if (n->type == SL_NODE_NULL)
		return 0;
	if (n->type != SL_NODE_STR)
		return type_error(ctx, field, n, "string", err);
	*ret = n->str.ptr;
	return 0;
}

/* A []string field (null items read as ""): the sequence, or NULL. */
static int decode_string_list(const struct field_ctx *ctx, const char *field,
                              const struct sl_node *n, const struct sl_node **ret,
                              struct sl_error *err)
{
	if (n->type == SL_NODE_NULL)
		return 0;
	if (n->type != SL_NODE_SEQ)
		return type_error(ctx, field, n, "[]string", err);
	for (size_t i = 0; i < n->seq.len; i++) {
		const struct sl_node *item = n->seq.items[i];
		if (item->type != SL_NODE_STR && item->type != SL_NODE_NULL)
			return type_error(ctx, field, item, "string", err);
	}
	*ret = n;
	return 0;
}

/* A map[string]string field (null values read as ""): the map, or NULL. */
static int decode_string_map(const struct field_ctx *ctx, const char *field,
                             const struct sl_node *n, const struct sl_node **ret,
                             struct sl_error *err)
{
	if (n->type == SL_NODE_NULL)
		return 0;
	if (n->type != SL_NODE_MAP)
		return type_error(ctx, field, n, "map[string]string", err);
	for (size_t i = 0; i < n->map.len; i++) {
		const struct sl_node *v = n->map.items[i].value;
		if (v->type != SL_NODE_STR && v->type != SL_NODE_NULL)
			return type_error(ctx, field, v, "string", err);
	}
	*ret = n;
	return 0;
}

static int decode_bool(const struct field_ctx *ctx, const char *field, const struct sl_node *n,
                       bool *ret, struct sl_error *err)
{
	if (n->type == SL_NODE_NULL)
		return 0;
	if (n->type != SL_NODE_BOOL)
		return type_error(ctx, field, n, "bool", err);
	*ret = n->b;
	return 0;
}

struct gen_options {
	const struct sl_node *labels;      /* map of strings, or NULL */
	const struct sl_node *annotations; /* map of strings, or NULL */
	bool disable_hash;
	bool immutable;
};

/* types.GeneratorOptions at ctx (the struct that holds the `options` or
 * `generatorOptions` field named field). */
static int decode_options(const struct field_ctx *ctx, const char *field, const struct sl_node *n,
                          struct gen_options *ret, struct sl_error *err)
{
	if (!n || n->type == SL_NODE_NULL)
		return 0;
	if (n->type != SL_NODE_MAP)
		return type_error(ctx, field, n, "types.GeneratorOptions", err);
	_cleanup_free_ char *path =
	    *ctx->path ? sl_asprintf("%s.%s", ctx->path, field) : sl_strdup(field);
	const struct field_ctx inner = {"GeneratorOptions", path};
	for (size_t i = 0; i < n->map.len; i++) {
		const char *key = n->map.items[i].key;
		const struct sl_node *v = n->map.items[i].value;
		int r;
		if (strcmp(key, "labels") == 0)
			r = decode_string_map(&inner, key, v, &ret->labels, err);
		else if (strcmp(key, "annotations") == 0)
			r = decode_string_map(&inner, key, v, &ret->annotations, err);
		else if (strcmp(key, "disableNameSuffixHash") == 0)
			r = decode_bool(&inner, key, v, &ret->disable_hash, err);
		else if (strcmp(key, "immutable") == 0)
			r = decode_bool(&inner, key, v, &ret->immutable, err);
		else
			r = sl_error_set(err, SL_EINVAL, "json: unknown field \"%s\"", key);
		if (r < 0)
			return r;
	}
	return 0;
}

/* One configMapGenerator/secretGenerator entry (types.ConfigMapArgs or
 * types.SecretArgs). */
struct gen_args {
	const char *name, *namespace, *behavior, *type, *env;
	const struct sl_node *literals, *files, *envs;
	struct gen_options options;
};

static int decode_args(bool secret, const struct sl_node *args, struct gen_args *ret,
                       struct sl_error *err)
{
	const char *section = secret ? "secretGenerator" : "configMapGenerator";
	if (!args || args->type == SL_NODE_NULL)
		return 0;
	if (args->type != SL_NODE_MAP)
		return type_error(&(struct field_ctx){"Kustomization", ""}, section, args,
		                  secret ? "types.SecretArgs" : "types.ConfigMapArgs", err);
	const struct field_ctx ctx = {secret ? "SecretArgs" : "ConfigMapArgs", section};
	for (size_t i = 0; i < args->map.len; i++) {
		const char *key = args->map.items[i].key;
		const struct sl_node *v = args->map.items[i].value;
		int r;
		if (strcmp(key, "name") == 0)
			r = decode_string(&ctx, key, v, &ret->name, err);
		else if (strcmp(key, "namespace") == 0)
			r = decode_string(&ctx, key, v, &ret->namespace, err);
		else if (strcmp(key, "behavior") == 0)
			r = decode_string(&ctx, key, v, &ret->behavior, err);
		else if (strcmp(key, "literals") == 0)
			r = decode_string_list(&ctx, key, v, &ret->literals, err);
		else if (strcmp(key, "files") == 0)
			r = decode_string_list(&ctx, key, v, &ret->files, err);
		else if (strcmp(key, "envs") == 0)
			r = decode_string_list(&ctx, key, v, &ret->envs, err);
		else if (strcmp(key, "env") == 0)
			r = decode_string(&ctx, key, v, &ret->env, err);
		else if (strcmp(key, "options") == 0)
			r = decode_options(&ctx, key, v, &ret->options, err);
		else if (secret && strcmp(key, "type") == 0)
			r = decode_string(&ctx, key, v, &ret->type, err);
		else
			r = sl_error_set(err, SL_EINVAL, "json: unknown field \"%s\"", key);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- key/value pairs (api/kv) -------------------------------------------- */

struct kv {
	char *key;
	char *value; /* may hold NUL bytes (file content) */
	size_t value_len;
};

struct kv_list {
	struct kv *items;
	size_t len, cap;
};

static void kv_push(struct kv_list *l, char *key, char *value, size_t value_len)
{
	if (l->len == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->items = sl_xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	l->items[l->len++] = (struct kv){key, value, value_len};
}

static void kv_list_free(struct kv_list *l)
{
	for (size_t i = 0; i < l->len; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
}

/* k8s validation's hasChDirPrefix. */
static const char *chdir_prefix_error(const char *k)
{
	if (strcmp(k, ".") == 0)
		return "must not be '.'";
	if (strcmp(k, "..") == 0)
		return "must not be '..'";
	if (sl_startswith(k, ".."))
		return "must not start with '..'";
	return NULL;
}

static bool is_key_char(char c, bool digits)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.' ||
	       c == '_' || (digits && c >= '0' && c <= '9');
}

/* kustomize's FieldValidator: `"KEY" is not a valid key name: ERR;ERR`,
 * with k8s validation's IsEnvVarName (env_name) or IsConfigMapKey. */
static int validate_key(const char *k, bool env_name, struct sl_error *err)
{
	_cleanup_buf_ struct sl_buf errs;
	sl_buf_init(&errs, 0);
	size_t len = strlen(k);
	bool ok = len > 0;
	for (size_t i = 0; i < len && ok; i++)
		ok = is_key_char(k[i], !env_name || i > 0);
	if (!env_name && len > KEY_MAX_LEN)
		sl_buf_printf(&errs, "must be no more than %d characters", KEY_MAX_LEN);
	if (!ok && env_name)
		sl_buf_printf(&errs,
		              "%sa valid environment variable name must consist of "
		              "alphabetic characters, digits, '_', '-', or '.', and must not "
		              "start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or "
		              "'MyEnvName1', regex used for validation is "
		              "'[-._a-zA-Z][-._a-zA-Z0-9]*')",
		              errs.len ? ";" : "");
	else if (!ok)
		sl_buf_printf(&errs,
		              "%sa valid config key must consist of alphanumeric characters, "
		              "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
		              "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
		              errs.len ? ";" : "");
	const char *chdir = chdir_prefix_error(k);
	if (chdir)
		sl_buf_printf(&errs, "%s%s", errs.len ? ";" : "", chdir);
	if (!errs.len)
		return 0;
	_cleanup_buf_ struct sl_buf q;
	sl_buf_init(&q, 0);
	append_quoted(&q, k, len);
	return sl_error_set(err, SL_EINVAL, "%s is not a valid key name: %s", q.data, errs.data);
}

static char *join_path(const char *dir, const char *path)
{
	if (path[0] == '/' || !dir || !*dir)
		return sl_strdup(path);
	return sl_asprintf("%s/%s", dir, path);
}

/* A generator source file, relative to dir (absolute paths and `..` are
 * fine: Flux builds with LoadRestrictionsNone). */
static int read_source(const char *dir, const char *path, struct sl_buf *out, struct sl_error *err)
{
	/* kustomize would fetch these; sluice never touches the network */
	if (sl_startswith(path, "http://") || sl_startswith(path, "https://"))
		return sl_error_set(err, SL_EUNSUPPORTED, "%s: remote files are not supported",
		                    path);
	if (!*path)
		return sl_error_set(err, SL_EINVAL, "empty file path");
	_cleanup_free_ char *full = join_path(dir, path);
	int r = ks_path_confined(full, err);
	return r < 0 ? r : sl_read_file(full, SL_YAML_MAX_BYTES, out, err);
}

/* kv.keyValuesFromLine: one env file line; a NULL *ret_key for a blank or
 * comment line. */
static int env_line(const char *line, size_t len, bool first, char **ret_key, char **ret_value,
                    struct sl_error *err)
{
	*ret_key = NULL;
	if (!sl_utf8_valid(line, len))
		return sl_error_set(err, SL_EINVAL, "line has invalid utf8 bytes");
	if (first && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3, len -= 3;
	while (len) {
		size_t n;
		uint32_t c = sl_utf8_decode_go(line, len, &n);
		if (!is_unicode_space(c))
			break;
		line += n, len -= n;
	}
	if (!len || line[0] == '#')
		return 0;
	const char *eq = memchr(line, '=', len);
	size_t key_len = eq ? (size_t)(eq - line) : len;
	_cleanup_free_ char *key = sl_strndup(line, key_len);
	/* a NUL byte is valid UTF-8 but never a valid name */
	if (strlen(key) != key_len)
		return sl_error_set(err, SL_EINVAL, "key holds a NUL byte");
	int r = validate_key(key, true, err);
	if (r < 0)
		return r;
	/* `KEY` without `=` is KEY="" since kustomize v5 (before, it read the
	 * process environment) */
	*ret_value = eq ? sl_strndup(eq + 1, len - key_len - 1) : sl_strdup("");
	*ret_key = TAKE_PTR(key);
	return 0;
}

/* kv.keyValuesFromLines: bufio.Scanner lines, "\r\n" taken as "\n". */
static int env_lines(const char *name, const char *data, size_t len, struct kv_list *out,
                     struct sl_error *err)
{
	size_t pos = 0;
	for (unsigned lineno = 1; pos < len; lineno++) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) : len;
		const char *line = data + pos;
		size_t line_len = end - pos;
		/* The scanner stops at a line it cannot buffer and kustomize
		 * never asks for its error: the rest of the file is ignored. */
		if (line_len >= ENV_LINE_MAX)
			break;
		pos = nl ? end + 1 : len;
		if (line_len && line[line_len - 1] == '\r')
			line_len--;
		char *key, *value;
		int r = env_line(line, line_len, lineno == 1, &key, &value, err);
		if (r < 0)
			return sl_error_wrap(err, r, "%s:%u", name, lineno);
		if (key)
			kv_push(out, key, value, strlen(value));
	}
	return 0;
}

static int load_env_files(const char *dir, const struct gen_args *a, struct kv_list *out,
                          struct sl_error *err)
{
	size_t n = a->envs ? a->envs->seq.len : 0;
	/* the legacy `env` comes after `envs` (FixKustomizationPostUnmarshalling) */
	for (size_t i = 0; i < n + (a->env ? 1 : 0); i++) {
		const char *path = i < n ? sl_node_str(a->envs->seq.items[i]) ?: "" : a->env;
		_cleanup_buf_ struct sl_buf content;
		sl_buf_init(&content, SL_YAML_MAX_BYTES);
		int r = read_source(dir, path, &content, err);
		if (r >= 0)
			r = env_lines(path, content.data, content.len, out, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* kv.removeQuotes: one pair of matching surrounding quotes goes. */
static char *remove_quotes(const char *v)
{
	size_t len = strlen(v);
	if (len && v[0] == v[len - 1] && (v[0] == '"' || v[0] == '\''))
		/* a lone quote makes kustomize panic (str[1:0]); "" here */
		return len == 1 ? sl_strdup("") : sl_strndup(v + 1, len - 2);
	return sl_strdup(v);
}

static int load_literals(const struct gen_args *a, struct kv_list *out, struct sl_error *err)
{
	for (size_t i = 0; a->literals && i < a->literals->seq.len; i++) {
		const char *src = sl_node_str(a->literals->seq.items[i]) ?: "";
		const char *eq = strchr(src, '=');
		if (!eq || eq == src)
			return sl_error_set(err, SL_EINVAL,
			                    "invalid literal source %s, expected key=value", src);
		char *value = remove_quotes(eq + 1);
		kv_push(out, sl_strndup(src, (size_t)(eq - src)), value, strlen(value));
	}
	return 0;
}

/* Go's path.Base. */
static char *path_base(const char *p)
{
	size_t len = strlen(p);
	if (!len)
		return sl_strdup(".");
	while (len > 1 && p[len - 1] == '/')
		len--;
	if (len == 1 && p[0] == '/')
		return sl_strdup("/");
	size_t start = len;
	while (start && p[start - 1] != '/')
		start--;
	return sl_strndup(p + start, len - start);
}

/* generators.ParseFileSource: `path` (key: its base name) or `key=path`. */
static int parse_file_source(const char *src, char **ret_key, char **ret_path, struct sl_error *err)
{
	const char *eq = strchr(src, '=');
	if (!eq) {
		*ret_key = path_base(src);
		*ret_path = sl_strdup(src);
		return 0;
	}
	if (strchr(eq + 1, '='))
		return sl_error_set(err, SL_EINVAL,
		                    "source %s: key names or file paths cannot contain '='", src);
	if (eq == src)
		return sl_error_set(err, SL_EINVAL, "key name for file path %s missing", eq + 1);
	if (!eq[1])
		return sl_error_set(err, SL_EINVAL, "file path for key name %.*s missing",
		                    (int)(eq - src), src);
	*ret_key = sl_strndup(src, (size_t)(eq - src));
	*ret_path = sl_strdup(eq + 1);
	return 0;
}

static int load_files(const char *dir, const struct gen_args *a, struct kv_list *out,
                      struct sl_error *err)
{
	for (size_t i = 0; a->files && i < a->files->seq.len; i++) {
		_cleanup_free_ char *key = NULL, *path = NULL;
		int r =
		    parse_file_source(sl_node_str(a->files->seq.items[i]) ?: "", &key, &path, err);
		if (r < 0)
			return r;
		struct sl_buf content;
		sl_buf_init(&content, SL_YAML_MAX_BYTES);
		r = read_source(dir, path, &content, err);
		if (r < 0) {
			sl_buf_free(&content);
			return r;
		}
		size_t len = content.len;
		kv_push(out, TAKE_PTR(key), sl_buf_steal(&content), len);
	}
	return 0;
}

/* kv.loader.Load (env files, then literals, then files) and
 * generators.makeValidatedDataMap (valid keys, each once). */
static int load_pairs(const char *dir, const char *name, const struct gen_args *a,
                      struct kv_list *out, struct sl_error *err)
{
	_cleanup_buf_ struct sl_buf what;
	sl_buf_init(&what, 0);
	int r = load_env_files(dir, a, out, err);
	if (r < 0) {
		append_go_list(&what, a->envs, a->env);
		return sl_error_wrap(err, r, "loading KV pairs: env source files: %s", what.data);
	}
	r = load_literals(a, out, err);
	if (r < 0) {
		append_go_list(&what, a->literals, NULL);
		return sl_error_wrap(err, r, "loading KV pairs: literal sources %s", what.data);
	}
	r = load_files(dir, a, out, err);
	if (r < 0) {
		append_go_list(&what, a->files, NULL);
		return sl_error_wrap(err, r, "loading KV pairs: file sources: %s", what.data);
	}
	for (size_t i = 0; i < out->len; i++) {
		r = validate_key(out->items[i].key, false, err);
		if (r < 0)
			return r;
		for (size_t j = 0; j < i; j++)
			if (strcmp(out->items[j].key, out->items[i].key) == 0)
				/* kustomize says "configmap" for Secrets too */
				return sl_error_set(err, SL_EINVAL,
				                    "configmap %s illegally repeats the key `%s`",
				                    name, out->items[i].key);
	}
	return 0;
}

/* ---- building the object (kyaml datamap.go, generators/utils.go) --------- */

/* kyaml's encodeBase64: standard base64, and from 70 characters on, lines
 * of 70 each ending in "\n" (so it prints as a literal block). */
static struct sl_node *base64_node(const void *data, size_t len)
{
	_cleanup_free_ char *enc = sl_base64_encode(data, len);
	size_t n = strlen(enc);
	if (n < B64_LINE_LEN)
		return sl_node_new_strn(enc, n);
	size_t lines = (n + B64_LINE_LEN - 1) / B64_LINE_LEN;
	char *out = sl_xmalloc(n + lines + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i += B64_LINE_LEN) {
		size_t chunk = n - i < B64_LINE_LEN ? n - i : B64_LINE_LEN;
		memcpy(out + k, enc + i, chunk);
		k += chunk;
		out[k++] = '\n';
	}
	out[k] = '\0';
	return sl_node_new_str_take(out, k);
}

/* The map under key, replacing whatever else is there. */
static struct sl_node *map_field(struct sl_node *obj, const char *key)
{
	struct sl_node *m = sl_node_map_ensure_map(obj, key);
	return m ? m : sl_node_map_set(obj, key, sl_node_new_map());
}

/* makeConfigMapValueRNode: UTF-8 text goes to data, anything else to
 * binaryData, base64-encoded. */
static void set_configmap_value(struct sl_node *obj, const char *key, const char *v, size_t len)
{
	if (sl_utf8_valid(v, len))
		sl_node_map_set(map_field(obj, "data"), key, sl_node_new_strn(v, len));
	else
		sl_node_map_set(map_field(obj, "binaryData"), key, base64_node(v, len));
}

/* metadata.labels or .annotations from generatorOptions and the entry's
 * options, the entry's value winning (types.MergeGlobalOptionsIntoLocal;
 * its flags are OR-ed in ks_generate). */
static void set_string_pairs(struct sl_node *obj, const char *field, const struct sl_node *global,
                             const struct sl_node *local)
{
	const struct sl_node *maps[] = {global, local};
	for (size_t m = 0; m < SL_ARRAY_SIZE(maps); m++)
		for (size_t i = 0; maps[m] && i < maps[m]->map.len; i++) {
			const struct sl_node_pair *p = &maps[m]->map.items[i];
			struct sl_node *meta = map_field(obj, "metadata");
			sl_node_map_setn(map_field(meta, field), p->key, p->key_len,
			                 sl_node_new_str(sl_node_str(p->value) ?: ""));
		}
}

int ks_generate(bool secret, const struct sl_node *args, const struct sl_node *global_options,
                const char *dir, struct sl_node **ret_obj, bool *ret_add_hash, struct sl_error *err)
{
	struct gen_args a = {0};
	struct gen_options global = {0};
	int r = decode_args(secret, args, &a, err);
	if (r >= 0)
		r = decode_options(&(struct field_ctx){"Kustomization", ""}, "generatorOptions",
		                   global_options, &global, err);
	if (r < 0)
		return r;
	if (!a.name || !*a.name)
		return sl_error_set(err, SL_EINVAL, "%s: a %s must have a name",
		                    secret ? "secretGenerator" : "configMapGenerator",
		                    secret ? "secret" : "configmap");

	_cleanup_(kv_list_free) struct kv_list pairs = {0};
	r = load_pairs(dir, a.name, &a, &pairs, err);
	if (r < 0)
		return r;

	_cleanup_node_ struct sl_node *obj = sl_node_new_map();
	sl_node_map_set(obj, "apiVersion", sl_node_new_str("v1"));
	sl_node_map_set(obj, "kind", sl_node_new_str(secret ? "Secret" : "ConfigMap"));
	struct sl_node *meta = sl_node_map_set(obj, "metadata", sl_node_new_map());
	sl_node_map_set(meta, "name", sl_node_new_str(a.name));
	if (a.namespace && *a.namespace)
		sl_node_map_set(meta, "namespace", sl_node_new_str(a.namespace));
	if (secret) {
		sl_node_map_set(obj, "type",
		                sl_node_new_str(a.type && *a.type ? a.type : "Opaque"));
		/* LoadMapIntoSecretData creates `data` even when empty */
		struct sl_node *data = sl_node_map_set(obj, "data", sl_node_new_map());
		for (size_t i = 0; i < pairs.len; i++)
			sl_node_map_set(
			    data, pairs.items[i].key,
			    base64_node(pairs.items[i].value, pairs.items[i].value_len));
	} else {
		for (size_t i = 0; i < pairs.len; i++)
			set_configmap_value(obj, pairs.items[i].key, pairs.items[i].value,
			                    pairs.items[i].value_len);
	}
	set_string_pairs(obj, "labels", global.labels, a.options.labels);
	set_string_pairs(obj, "annotations", global.annotations, a.options.annotations);
	if (a.options.immutable || global.immutable)
		sl_node_map_set(obj, "immutable", sl_node_new_bool(true));

	*ret_add_hash = !(a.options.disable_hash || global.disable_hash);
	*ret_obj = TAKE_PTR(obj);
	return 0;
}

/* ---- behavior: merge (api/resource/resource.go) ------------------------- */

/* mergeStringMaps(a, b): b's values win; every value as its text. */
static struct sl_node *merge_string_maps(const struct sl_node *a, const struct sl_node *b)
{
	struct sl_node *m = sl_node_new_map();
	const struct sl_node *maps[] = {a, b};
	for (size_t k = 0; k < SL_ARRAY_SIZE(maps); k++)
		for (size_t i = 0; maps[k] && maps[k]->type == SL_NODE_MAP && i < maps[k]->map.len;
		     i++) {
			const struct sl_node_pair *p = &maps[k]->map.items[i];
			char *text = scalar_text(p->value);
			sl_node_map_setn(m, p->key, p->key_len,
			                 sl_node_new_str_take(text, strlen(text)));
		}
	return m;
}

/* Sets obj[field] to m, or removes the field when m is empty (kyaml's
 * Clear-then-set of SetLabels, SetDataMap, SetBinaryDataMap). Takes m. */
static void set_or_clear(struct sl_node *obj, const char *field, struct sl_node *m)
{
	if (m->map.len)
		sl_node_map_set(obj, field, m);
	else {
		sl_node_map_del(obj, field);
		sl_node_free(m);
	}
}

static void copy_or_clear(struct sl_node *dst, const char *field, const struct sl_node *src)
{
	const struct sl_node *v = sl_node_map_get(src, field);
	if (v && v->type != SL_NODE_NULL)
		sl_node_map_set(dst, field, sl_node_copy(v));
	else
		sl_node_map_del(dst, field);
}

/* The generated object (overlay) replaces the one it merges into (base),
 * keeping base's name and namespace, the union of labels, annotations,
 * data and binaryData (overlay's values win); every other field (type,
 * immutable) is overlay's. */
int ks_generator_merge(struct sl_node *base, const struct sl_node *overlay, struct sl_error *err)
{
	if (!base || base->type != SL_NODE_MAP || !overlay || overlay->type != SL_NODE_MAP)
		return sl_error_set(err, SL_EINVAL, "merging generated objects: not objects");
	const struct sl_node *base_meta = sl_node_map_get(base, "metadata");
	const struct sl_node *over_meta = sl_node_map_get(overlay, "metadata");

	_cleanup_node_ struct sl_node *merged = sl_node_copy(overlay);
	struct sl_node *meta = map_field(merged, "metadata");
	set_or_clear(meta, "labels",
	             merge_string_maps(sl_node_map_get(base_meta, "labels"),
	                               sl_node_map_get(over_meta, "labels")));
	set_or_clear(meta, "annotations",
	             merge_string_maps(sl_node_map_get(base_meta, "annotations"),
	                               sl_node_map_get(over_meta, "annotations")));
	copy_or_clear(meta, "name", base_meta);
	copy_or_clear(meta, "namespace", base_meta);

	_cleanup_node_ struct sl_node *data =
	    merge_string_maps(sl_node_map_get(base, "data"), sl_node_map_get(overlay, "data"));
	sl_node_map_del(merged, "data");
	for (size_t i = 0; i < data->map.len; i++) {
		const struct sl_node *v = data->map.items[i].value;
		set_configmap_value(merged, data->map.items[i].key, v->str.ptr, v->str.len);
	}
	set_or_clear(merged, "binaryData",
	             merge_string_maps(sl_node_map_get(base, "binaryData"),
	                               sl_node_map_get(overlay, "binaryData")));
	sl_node_replace(base, TAKE_PTR(merged));
	return 0;
}

/* ---- the name hash (api/hasher) ----------------------------------------- */

/* A Go JSON string of s (which may hold NUL bytes). */
static int append_json_string(struct sl_buf *b, const char *s, size_t len)
{
	if (strlen(s) == len)
		return sl_json_append_go_string(b, s);
	int r = sl_buf_append(b, "\"", 1);
	for (size_t i = 0; r >= 0 && i <= len;) {
		size_t seg = strnlen(s + i, len - i);
		_cleanup_buf_ struct sl_buf q;
		sl_buf_init(&q, 0);
		_cleanup_free_ char *part = sl_strndup(s + i, seg);
		r = sl_json_append_go_string(&q, part);
		if (r >= 0)
			r = sl_buf_append(b, q.data + 1, q.len - 2);
		i += seg;
		if (r >= 0 && i < len)
			r = sl_buf_append(b, "\\u0000", 6);
		i++;
	}
	return r < 0 ? r : sl_buf_append(b, "\"", 1);
}

static int cmp_pairs(const void *a, const void *b)
{
	const struct sl_node_pair *x = *(const struct sl_node_pair *const *)a;
	const struct sl_node_pair *y = *(const struct sl_node_pair *const *)b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);
	return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* hasher.getNodeValues for one field: "" when absent, a scalar's text as
 * a string, a map as a JSON object (keys sorted, as json.Marshal of a
 * map[string]interface{} prints it), anything else null. */
static int append_hash_value(struct sl_buf *b, const struct sl_node *n, struct sl_error *err)
{
	if (!n || n->type == SL_NODE_NULL)
		return sl_buf_append(b, "\"\"", 2);
	if (n->type == SL_NODE_SEQ)
		return sl_buf_append(b, "null", 4);
	if (n->type != SL_NODE_MAP) {
		_cleanup_free_ char *text = scalar_text(n);
		return append_json_string(b, text,
		                          n->type == SL_NODE_STR ? n->str.len : strlen(text));
	}
	_cleanup_free_ const struct sl_node_pair **sorted =
	    sl_xcalloc(n->map.len ? n->map.len : 1, sizeof(*sorted));
	for (size_t i = 0; i < n->map.len; i++)
		sorted[i] = &n->map.items[i];
	qsort(sorted, n->map.len, sizeof(*sorted), cmp_pairs);
	int r = sl_buf_append(b, "{", 1);
	for (size_t i = 0; r >= 0 && i < n->map.len; i++) {
		const struct sl_node *v = sorted[i]->value;
		if (i)
			r = sl_buf_append(b, ",", 1);
		if (r >= 0)
			r = append_json_string(b, sorted[i]->key, sorted[i]->key_len);
		if (r >= 0)
			r = sl_buf_append(b, ":", 1);
		if (r < 0)
			break;
		if (v->type == SL_NODE_STR)
			r = append_json_string(b, v->str.ptr, v->str.len);
		else
			r = sl_json_emit(b, v, err);
	}
	return r < 0 ? r : sl_buf_append(b, "}", 1);
}

#define APPEND_LITERAL(b, text) sl_buf_append(b, text, sizeof(text) - 1)

/* The JSON kustomize hashes. Its lookup of "metadata/name" is a single
 * path element that never matches, so the name is always "". */
static int hash_input(const struct sl_node *obj, const char *kind, struct sl_buf *b,
                      struct sl_error *err)
{
	const struct sl_node *data = sl_node_map_get(obj, "data");
	int r = 0;
	if (strcmp(kind, "ConfigMap") == 0) {
		const struct sl_node *bin = sl_node_map_get(obj, "binaryData");
		APPEND_LITERAL(b, "{");
		if (bin && bin->type == SL_NODE_MAP) {
			APPEND_LITERAL(b, "\"binaryData\":");
			r = append_hash_value(b, bin, err);
			APPEND_LITERAL(b, ",");
		}
		APPEND_LITERAL(b, "\"data\":");
		if (r >= 0)
			r = append_hash_value(b, data, err);
		APPEND_LITERAL(b, ",\"kind\":\"ConfigMap\",\"name\":\"\"}");
		return r;
	}
	const struct sl_node *string_data = sl_node_map_get(obj, "stringData");
	APPEND_LITERAL(b, "{\"data\":");
	r = append_hash_value(b, data, err);
	APPEND_LITERAL(b, ",\"kind\":\"Secret\",\"name\":\"\",");
	if (r >= 0 && string_data && string_data->type == SL_NODE_MAP) {
		APPEND_LITERAL(b, "\"stringData\":");
		r = append_hash_value(b, string_data, err);
		APPEND_LITERAL(b, ",");
	}
	APPEND_LITERAL(b, "\"type\":");
	if (r >= 0)
		r = append_hash_value(b, sl_node_map_get(obj, "type"), err);
	APPEND_LITERAL(b, "}");
	return r;
}

int ks_generator_hash(const struct sl_node *obj, char out[11], struct sl_error *err)
{
	const char *kind = sl_node_dig_str(obj, "kind", NULL);
	if (!kind || (strcmp(kind, "ConfigMap") != 0 && strcmp(kind, "Secret") != 0))
		return sl_error_set(err, SL_EINVAL, "hashing %s: only ConfigMaps and Secrets are",
		                    kind ? kind : "an object without kind");
	_cleanup_buf_ struct sl_buf json;
	sl_buf_init(&json, 0);
	int r = hash_input(obj, kind, &json, err);
	if (r < 0)
		return sl_error_wrap(err, r, "hashing %s", kind);
	char digest[SL_DIGEST_STR_LEN];
	sl_sha256_digest(json.data, json.len, digest);
	/* hasher.encode: the first 10 hex digits, with the ones that could
	 * spell words or look like numbers swapped for letters */
	for (size_t i = 0; i < 10; i++) {
		char c = digest[7 + i];
		switch (c) {
		case '0': c = 'g'; break;
		case '1': c = 'h'; break;
		case '3': c = 'k'; break;
		case 'a': c = 'm'; break;
		case 'e': c = 't'; break;
		default: break;
		}
		out[i] = c;
	}
	out[10] = '\0';
	return 0;
}
