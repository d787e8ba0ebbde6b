/* kustomize generators (configMapGenerator/secretGenerator) and Flux's
 * post-build substitution. Generator inputs and expected names come from
 * the differential corpus (tests/data/kustomize/040-048, printed by
 * kubectl kustomize v5.5.0); envsubst rows come from fluxcd/pkg/envsubst's
 * own tests plus the parser's quirks read from its source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "codec/yaml.h"
#include "kustomize/ks.h"
#include "testlib.h"

/* Collects failing rows so one run shows all of them. */
struct report {
	size_t failures;
	char text[8192];
};

static void report_add(struct report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void report_add(struct report *rep, const char *fmt, ...)
{
	size_t len = strlen(rep->text);
	va_list ap;
	va_start(ap, fmt);
	if (len < sizeof(rep->text) - 4) {
		rep->text[len++] = '\n';
		rep->text[len++] = ' ';
		rep->text[len++] = ' ';
		vsnprintf(rep->text + len, sizeof(rep->text) - len, fmt, ap);
	}
	va_end(ap);
	rep->failures++;
}

static void report_check(const struct report *rep)
{
	if (rep->failures)
		fail_msg("%zu rows wrong:%s", rep->failures, rep->text);
}

/* ---- building nodes ------------------------------------------------------ */

static struct sl_node *seq_of(const char *const *items)
{
	struct sl_node *s = sl_node_new_seq();
	for (size_t i = 0; items[i]; i++)
		sl_node_seq_push(s, sl_node_new_str(items[i]));
	return s;
}
#define STRS(...) seq_of((const char *const[]){__VA_ARGS__, NULL})

static struct sl_node *map_of(const char *const *kv)
{
	struct sl_node *m = sl_node_new_map();
	for (size_t i = 0; kv[i]; i += 2)
		sl_node_map_set(m, kv[i], sl_node_new_str(kv[i + 1]));
	return m;
}
#define PAIRS(...) map_of((const char *const[]){__VA_ARGS__, NULL})

/* Sets key to value (taken) in m and returns m, to chain. */
static struct sl_node *with(struct sl_node *m, const char *key, struct sl_node *value)
{
	sl_node_map_set(m, key, value);
	return m;
}

static struct sl_node *named(const char *name)
{
	return with(sl_node_new_map(), "name", sl_node_new_str(name));
}

/* ---- files --------------------------------------------------------------- */

static void write_at(const char *dir, const char *name, const void *data, size_t len)
{
	const char *slash = strrchr(name, '/');
	if (slash) {
		char *parent = NULL;
		if (asprintf(&parent, "%s/%.*s", dir, (int)(slash - name), name) < 0)
			abort();
		mkdir(parent, 0755);
		free(parent);
	}
	char *path = tl_path(dir, name);
	tl_write_file(path, data, len);
	free(path);
}
#define WRITE(dir, name, text) write_at(dir, name, text, sizeof(text) - 1)

static const char app_properties[] = "# application settings\nserver.port=8080\n"
                                     "server.host=0.0.0.0\nfeature.flags=a,b,c\n";
static const char nginx_conf[] = "server {\n    listen 80;\n    location / {\n        root   "
                                 "/usr/share/nginx/html;\n        index  index.html;\n    }\n}\n";
static const char unicode_txt[] = "Gr\xc3\xbc\xc3\x9f"
                                  "e aus K\xc3\xb6ln \xe2\x80\x94 "
                                  "\xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x9a\x80\n";
static const char logo_bin[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\xff\xfe";
static const char base_env[] = "# comment lines and blank lines are skipped\n\n"
                               "DATABASE_HOST=db.internal\nDATABASE_PORT=5432\n"
                               "  INDENTED_KEY=kept\nQUOTED_VALUE=\"quotes are kept\"\n"
                               "TRAILING_SPACE=value   \nEQUALS_IN_VALUE=a=b\nEMPTY_VALUE=\n";

/* The files of case 040. */
static void write_040(const char *dir)
{
	WRITE(dir, "config/app.properties", app_properties);
	WRITE(dir, "config/nginx-default.conf", nginx_conf);
	WRITE(dir, "config/no-trailing-newline.txt", "no newline at the end");
	WRITE(dir, "config/unicode.txt", unicode_txt);
	WRITE(dir, "config/logo.bin", logo_bin);
	unsigned char blob[80];
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (unsigned char)(0x80 + i);
	write_at(dir, "config/blob.bin", blob, sizeof(blob));
	WRITE(dir, "config/base.env", base_env);
	WRITE(dir, "config/extra.env", "EXTRA=from-second-file\n");
}

/* ---- running the generator ----------------------------------------------- */

/* ks_generate that must succeed; takes args. */
static struct sl_node *generate(bool secret, struct sl_node *args, const struct sl_node *global,
                                const char *dir, bool *ret_add_hash)
{
	struct sl_error err = {0};
	struct sl_node *obj = NULL;
	bool add_hash = false;
	int r = ks_generate(secret, args, global, dir, &obj, &add_hash, &err);
	sl_node_free(args);
	if (r < 0)
		fail_msg("ks_generate: %s", err.msg);
	if (ret_add_hash)
		*ret_add_hash = add_hash;
	return obj;
}

/* ks_generate that must fail; takes args; the message must hold want. */
static void generate_fails(bool secret, struct sl_node *args, const struct sl_node *global,
                           const char *dir, const char *want, struct report *rep)
{
	struct sl_error err = {0};
	struct sl_node *obj = NULL;
	bool add_hash = false;
	int r = ks_generate(secret, args, global, dir, &obj, &add_hash, &err);
	sl_node_free(args);
	if (r >= 0)
		report_add(rep, "want failure with \"%s\", got success", want);
	else if (!strstr(err.msg, want))
		report_add(rep, "want \"%s\" in: %s", want, err.msg);
	sl_node_free(obj);
}

static const char *value_at(const struct sl_node *obj, const char *field, const char *key)
{
	return sl_node_dig_str(obj, field, key, NULL);
}

static void assert_hash(const struct sl_node *obj, const char *want)
{
	char hash[11];
	struct sl_error err = {0};
	if (ks_generator_hash(obj, hash, &err) < 0)
		fail_msg("ks_generator_hash: %s", err.msg);
	assert_string_equal(hash, want);
}

struct kv_row {
	const char *key, *value;
};

static void check_values(const struct sl_node *obj, const char *field, const struct kv_row *rows,
                         size_t n)
{
	struct report rep = {0};
	const struct sl_node *m = sl_node_map_get(obj, field);
	if (!m || m->type != SL_NODE_MAP)
		fail_msg("no %s map", field);
	if (m->map.len != n)
		report_add(&rep, "%s has %zu keys, want %zu", field, m->map.len, n);
	for (size_t i = 0; i < n; i++) {
		const char *got = value_at(obj, field, rows[i].key);
		if (!got || strcmp(got, rows[i].value) != 0)
			report_add(&rep, "%s.%s = \"%s\", want \"%s\"", field, rows[i].key,
			           got ? got : "(none)", rows[i].value);
	}
	report_check(&rep);
}

/* ---- generator sources ---------------------------------------------------- */

static void configmap_files_key_by_basename_or_given_key(void **state)
{
	write_040(*state);
	bool add_hash;
	struct sl_node *obj =
	    generate(false,
	             with(named("from-files"), "files",
	                  STRS("config/app.properties", "nginx.conf=config/nginx-default.conf",
	                       "config/no-trailing-newline.txt", "config/unicode.txt",
	                       "config/logo.bin", "config/blob.bin")),
	             NULL, *state, &add_hash);
	static const struct kv_row data[] = {
	    {"app.properties", app_properties},
	    {"nginx.conf", nginx_conf},
	    {"no-trailing-newline.txt", "no newline at the end"},
	    {"unicode.txt", unicode_txt},
	};
	check_values(obj, "data", data, SL_ARRAY_SIZE(data));
	assert_true(add_hash);
	assert_string_equal(sl_node_dig_str(obj, "apiVersion", NULL), "v1");
	assert_string_equal(sl_node_dig_str(obj, "kind", NULL), "ConfigMap");
	assert_string_equal(sl_node_dig_str(obj, "metadata", "name", NULL), "from-files");
	assert_null(sl_node_dig(obj, "metadata", "namespace", NULL));
	assert_null(sl_node_dig(obj, "type", NULL));
	sl_node_free(obj);
}

static void configmap_binary_files_go_to_binarydata_wrapped_at_70(void **state)
{
	write_040(*state);
	struct sl_node *obj =
	    generate(false,
	             with(named("from-files"), "files",
	                  STRS("config/app.properties", "nginx.conf=config/nginx-default.conf",
	                       "config/no-trailing-newline.txt", "config/unicode.txt",
	                       "config/logo.bin", "config/blob.bin")),
	             NULL, *state, NULL);
	static const struct kv_row binary[] = {
	    {"logo.bin", "iVBORw0KGgoAAAANSUhEUgAAAAH//g=="},
	    {"blob.bin", "gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp+goaKjpKWmp6ipqqusra6vsLGys7\n"
	                 "S1tre4ubq7vL2+v8DBwsPExcbHyMnKy8zNzs8=\n"},
	};
	check_values(obj, "binaryData", binary, SL_ARRAY_SIZE(binary));
	/* 040 expected.yaml: from-files-6hhthm527f */
	assert_hash(obj, "6hhthm527f");
	sl_node_free(obj);
}

static void configmap_literals_strip_one_pair_of_quotes(void **state)
{
	struct sl_node *obj =
	    generate(false,
	             with(named("from-literals"), "literals",
	                  STRS("PLAIN=value", "WITH_SPACES=hello world", "WITH_EQUALS=a=b=c",
	                       "QUOTED=\"double quoted\"", "SINGLE='single quoted'",
	                       "EMPTY=", "NUMBER=42", "BOOL=true", "MULTI=line1\\nline2")),
	             NULL, *state, NULL);
	static const struct kv_row data[] = {
	    {"PLAIN", "value"},
	    {"WITH_SPACES", "hello world"},
	    {"WITH_EQUALS", "a=b=c"},
	    {"QUOTED", "double quoted"},
	    {"SINGLE", "single quoted"},
	    {"EMPTY", ""},
	    {"NUMBER", "42"},
	    {"BOOL", "true"},
	    {"MULTI", "line1\\nline2"},
	};
	check_values(obj, "data", data, SL_ARRAY_SIZE(data));
	/* 040 expected.yaml: from-literals-7952g7gd26 */
	assert_hash(obj, "7952g7gd26");
	sl_node_free(obj);
}

static const struct {
	const char *literal, *value;
} quote_rows[] = {
    {"k=\"a\"", "a"},
    {"k='a'", "a"},
    {"k=\"a'", "\"a'"},
    {"k=this is a 'test'", "this is a 'test'"},
    {"k='test'.", "'test'."},
    {"k=\"\"", ""},
    {"k=\"", ""}, /* kustomize panics here; we give "" */
    {"k='a\"b'", "a\"b"},
    {"k=\"\"a\"\"", "\"a\""},
};

static void literal_quotes_removed_only_when_matching(void **state)
{
	struct report rep = {0};
	for (size_t i = 0; i < SL_ARRAY_SIZE(quote_rows); i++) {
		struct sl_node *obj =
		    generate(false, with(named("q"), "literals", STRS(quote_rows[i].literal)), NULL,
		             *state, NULL);
		const char *got = value_at(obj, "data", "k");
		if (!got || strcmp(got, quote_rows[i].value) != 0)
			report_add(&rep, "%s: got \"%s\", want \"%s\"", quote_rows[i].literal,
			           got ? got : "(none)", quote_rows[i].value);
		sl_node_free(obj);
	}
	report_check(&rep);
}

static void configmap_env_files_skip_comments_and_keep_values(void **state)
{
	write_040(*state);
	struct sl_node *obj = generate(
	    false, with(named("from-envs"), "envs", STRS("config/base.env", "config/extra.env")),
	    NULL, *state, NULL);
	static const struct kv_row data[] = {
	    {"DATABASE_HOST", "db.internal"},
	    {"DATABASE_PORT", "5432"},
	    {"INDENTED_KEY", "kept"},
	    {"QUOTED_VALUE", "\"quotes are kept\""},
	    {"TRAILING_SPACE", "value   "},
	    {"EQUALS_IN_VALUE", "a=b"},
	    {"EMPTY_VALUE", ""},
	    {"EXTRA", "from-second-file"},
	};
	check_values(obj, "data", data, SL_ARRAY_SIZE(data));
	/* 040 expected.yaml: from-envs-m99d56d64m */
	assert_hash(obj, "m99d56d64m");
	sl_node_free(obj);
}

static const struct {
	const char *what;
	const char *content;
	const char *key, *value; /* NULL key: must fail with value in the message */
} env_rows[] = {
    {"CRLF line ends", "A=1\r\nB=x\r\n", "A", "1"},
    {"CRLF line ends (2nd)", "A=1\r\nB=x\r\n", "B", "x"},
    {"BOM on the first line",
     "\xef\xbb\xbf"
     "A=1\n",
     "A", "1"},
    {"key without = is empty", "A\n", "A", ""},
    {"leading NBSP trimmed", "\xc2\xa0\tA=1\n", "A", "1"},
    {"value spaces kept", "# c\n  \nA= x \n", "A", " x "},
    {"no final newline", "A=last", "A", "last"},
    {"dots and dashes", "my.env-name=1\n", "my.env-name", "1"},
    {"space in key", "A B=1\n", NULL, "\"A B\" is not a valid key name"},
    {"trailing space in key", "A =1\n", NULL, "\"A \" is not a valid key name"},
    {"leading digit", "1A=1\n", NULL, "must not start with a digit"},
    {"empty key", "=x\n", NULL, "is not a valid key name"},
    {"invalid UTF-8", "A=\xff\n", NULL, "invalid utf8"},
    {"BOM on a later line",
     "A=1\n\xef\xbb\xbf"
     "B=2\n",
     NULL, "is not a valid key name"},
    {"error names file and line", "A=1\nB C=2\n", NULL, "x.env:2"},
};

static void env_file_lines_follow_kustomize(void **state)
{
	struct report rep = {0};
	for (size_t i = 0; i < SL_ARRAY_SIZE(env_rows); i++) {
		write_at(*state, "x.env", env_rows[i].content, strlen(env_rows[i].content));
		struct sl_node *args = with(named("e"), "envs", STRS("x.env"));
		if (!env_rows[i].key) {
			generate_fails(false, args, NULL, *state, env_rows[i].value, &rep);
			continue;
		}
		struct sl_node *obj = generate(false, args, NULL, *state, NULL);
		const char *got = value_at(obj, "data", env_rows[i].key);
		if (!got || strcmp(got, env_rows[i].value) != 0)
			report_add(&rep, "%s: %s = \"%s\", want \"%s\"", env_rows[i].what,
			           env_rows[i].key, got ? got : "(none)", env_rows[i].value);
		sl_node_free(obj);
	}
	report_check(&rep);
}

static void legacy_env_field_is_read_after_envs(void **state)
{
	WRITE(*state, "a.env", "A=1\n");
	WRITE(*state, "b.env", "B=2\n");
	struct sl_node *obj = generate(
	    false, with(with(named("e"), "env", sl_node_new_str("b.env")), "envs", STRS("a.env")),
	    NULL, *state, NULL);
	static const struct kv_row data[] = {{"A", "1"}, {"B", "2"}};
	check_values(obj, "data", data, SL_ARRAY_SIZE(data));
	sl_node_free(obj);

	struct report rep = {0};
	WRITE(*state, "c.env", "A=3\n");
	generate_fails(
	    false, with(with(named("e"), "env", sl_node_new_str("c.env")), "envs", STRS("a.env")),
	    NULL, *state, "illegally repeats the key `A`", &rep);
	report_check(&rep);
}

static void env_lines_of_64k_or_more_end_the_file(void **state)
{
	/* bufio.Scanner stops there and kustomize ignores its error */
	size_t big = 65536;
	char *content = tl_own(malloc(big + 64));
	memcpy(content, "A=1\nB=", 6);
	memset(content + 6, 'x', big);
	memcpy(content + 6 + big, "\nC=3\n", 6);
	write_at(*state, "big.env", content, strlen(content));
	struct sl_node *obj =
	    generate(false, with(named("e"), "envs", STRS("big.env")), NULL, *state, NULL);
	static const struct kv_row data[] = {{"A", "1"}};
	check_values(obj, "data", data, SL_ARRAY_SIZE(data));
	sl_node_free(obj);
}

static void file_sources_in_every_form(void **state)
{
	WRITE(*state, "dir/f.txt", "F");
	char *abs = tl_own(tl_path(*state, "dir/f.txt"));
	char *abs_src = tl_own(tl_path("abs", abs));
	abs_src[3] = '='; /* "abs=/tmp/.../dir/f.txt" */
	mkdir(tl_own(tl_path(*state, "sub")), 0755);
	struct sl_node *obj =
	    generate(false, with(named("f"), "files", STRS("dir/f.txt", "k=dir/f.txt", abs_src)),
	             NULL, *state, NULL);
	static const struct kv_row data[] = {{"f.txt", "F"}, {"k", "F"}, {"abs", "F"}};
	check_values(obj, "data", data, SL_ARRAY_SIZE(data));
	sl_node_free(obj);

	/* `..` is fine: Flux builds with LoadRestrictionsNone */
	char *sub = tl_own(tl_path(*state, "sub"));
	obj = generate(false, with(named("f"), "files", STRS("up=../dir/f.txt")), NULL, sub, NULL);
	assert_string_equal(value_at(obj, "data", "up"), "F");
	sl_node_free(obj);
}

static const struct {
	const char *source, *want;
} bad_file_sources[] = {
    {"=dir/f.txt", "key name for file path dir/f.txt missing"},
    {"k=", "file path for key name k missing"},
    {"a=b=c", "cannot contain '='"},
    {"config/app.toml", "config/app.toml"},
    {"https://example.com/x", "remote files are not supported"},
    {"dir", "Is a directory"},
    {"bad key=dir/f.txt", "\"bad key\" is not a valid key name"},
};

static void file_sources_refused_with_reasons(void **state)
{
	WRITE(*state, "dir/f.txt", "F");
	struct report rep = {0};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad_file_sources); i++)
		generate_fails(false, with(named("f"), "files", STRS(bad_file_sources[i].source)),
		               NULL, *state, bad_file_sources[i].want, &rep);
	report_check(&rep);
}

/* ---- secrets and base64 ---------------------------------------------------- */

#define A51 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void secret_values_base64_wrapped_at_70_columns(void **state)
{
	bool add_hash;
	struct sl_node *obj =
	    generate(true,
	             with(named("sizes"), "literals",
	                  STRS("empty=", "len51=" A51, "len52=" A51 "a", "len105=" A51 A51 "aaa",
	                       "len106=" A51 A51 "aaaa", "unicode=p\xc3\xa4ssw\xc3\xb6rd")),
	             NULL, *state, &add_hash);
	static const struct kv_row data[] = {
	    {"empty", ""},
	    {"len51", "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh"},
	    {"len52", "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYQ\n"
	              "==\n"},
	    {"len105", "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYW\n"
	               "FhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh\n"},
	    {"len106", "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYW\n"
	               "FhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh\n"
	               "YQ==\n"},
	    {"unicode", "cMOkc3N3w7ZyZA=="},
	};
	check_values(obj, "data", data, SL_ARRAY_SIZE(data));
	assert_string_equal(sl_node_dig_str(obj, "type", NULL), "Opaque");
	assert_string_equal(sl_node_dig_str(obj, "kind", NULL), "Secret");
	assert_true(add_hash);
	/* 043 expected.yaml: sizes-ck7bb79ttf */
	assert_hash(obj, "ck7bb79ttf");
	sl_node_free(obj);
}

static const char docker_config[] =
    "{\"auths\":{\"registry.example.com\":{\"username\":\"robot\",\"password\":\"p4ss\","
    "\"auth\":\"cm9ib3Q6cDRzcw==\"}}}\n";
static const char ssh_key[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACBmYWtlLWtleS1mb3ItdGVzdHMtb25seS0wMDAwMDAwMDAwAAAAlAAAAA==\n"
    "-----END OPENSSH PRIVATE KEY-----\n";

static void secret_from_files_keeps_its_type(void **state)
{
	WRITE(*state, "docker-config.json", docker_config);
	WRITE(*state, "id_ed25519", ssh_key);
	struct sl_node *obj = generate(
	    true,
	    with(with(named("registry"), "type", sl_node_new_str("kubernetes.io/dockerconfigjson")),
	         "files", STRS(".dockerconfigjson=docker-config.json")),
	    NULL, *state, NULL);
	static const struct kv_row registry[] = {
	    {".dockerconfigjson",
	     "eyJhdXRocyI6eyJyZWdpc3RyeS5leGFtcGxlLmNvbSI6eyJ1c2VybmFtZSI6InJvYm90Ii\n"
	     "wicGFzc3dvcmQiOiJwNHNzIiwiYXV0aCI6ImNtOWliM1E2Y0RSemN3PT0ifX19Cg==\n"},
	};
	check_values(obj, "data", registry, SL_ARRAY_SIZE(registry));
	assert_string_equal(sl_node_dig_str(obj, "type", NULL), "kubernetes.io/dockerconfigjson");
	assert_hash(obj, "4m8tm7kmbc"); /* 043: registry-4m8tm7kmbc */
	sl_node_free(obj);

	obj = generate(true,
	               with(with(named("ssh"), "type", sl_node_new_str("kubernetes.io/ssh-auth")),
	                    "files", STRS("ssh-privatekey=id_ed25519")),
	               NULL, *state, NULL);
	assert_hash(obj, "6g2hgm82mk"); /* 043: ssh-6g2hgm82mk */
	sl_node_free(obj);
}

/* ---- hashes ------------------------------------------------------------------ */

static void hash_covers_kind_data_and_type_only(void **state)
{
	/* 044 expected.yaml */
	struct sl_node *obj = generate(
	    false, with(named("html"), "literals", STRS("snippet=<a href=\"/?a=1&b=2\">link</a>")),
	    NULL, *state, NULL);
	assert_hash(obj, "tbdc648t98");
	sl_node_free(obj);

	obj = generate(false,
	               with(with(named("labelled"), "options",
	                         with(sl_node_new_map(), "labels", PAIRS("a", "b"))),
	                    "literals", STRS("snippet=same")),
	               NULL, *state, NULL);
	assert_string_equal(sl_node_dig_str(obj, "metadata", "labels", "a", NULL), "b");
	assert_hash(obj, "2h5cgmtfbh");
	sl_node_free(obj);

	obj = generate(false,
	               with(with(named("unlabelled"), "namespace", sl_node_new_str("elsewhere")),
	                    "literals", STRS("snippet=same")),
	               NULL, *state, NULL);
	assert_hash(obj, "2h5cgmtfbh"); /* namespace and name do not count either */
	sl_node_free(obj);

	obj = generate(true,
	               with(with(named("typed"), "type", sl_node_new_str("example.com/custom")),
	                    "literals", STRS("snippet=same")),
	               NULL, *state, NULL);
	assert_hash(obj, "7b8996fhbc");
	sl_node_free(obj);
}

static void empty_configmap_has_no_data_and_empty_secret_has_empty_data(void **state)
{
	struct sl_node *obj = generate(false, named("empty"), NULL, *state, NULL);
	assert_null(sl_node_map_get(obj, "data"));
	assert_null(sl_node_map_get(obj, "binaryData"));
	assert_hash(obj, "6ct58987ht"); /* 044: ConfigMap empty-6ct58987ht */
	sl_node_free(obj);

	obj = generate(true, named("empty"), NULL, *state, NULL);
	const struct sl_node *data = sl_node_map_get(obj, "data");
	assert_non_null(data);
	assert_int_equal(data->type, SL_NODE_MAP);
	assert_int_equal(data->map.len, 0);
	assert_hash(obj, "46f8b28mk5"); /* 044: Secret empty-46f8b28mk5 */
	sl_node_free(obj);
}

static void hash_refuses_other_kinds(void **state)
{
	(void)state;
	struct sl_node *obj = with(sl_node_new_map(), "kind", sl_node_new_str("Deployment"));
	char hash[11];
	struct sl_error err = {0};
	assert_true(ks_generator_hash(obj, hash, &err) < 0);
	assert_non_null(strstr(err.msg, "Deployment"));
	sl_node_free(obj);
}

/* ---- options ------------------------------------------------------------------ */

static struct sl_node *global_042(void)
{
	return with(
	    with(with(with(sl_node_new_map(), "disableNameSuffixHash", sl_node_new_bool(true)),
	              "labels",
	              PAIRS("generated", "true", "app.kubernetes.io/managed-by", "kustomize")),
	         "annotations", PAIRS("note", "from generatorOptions")),
	    "immutable", sl_node_new_bool(true));
}

static void global_options_apply_to_every_generator(void **state)
{
	struct sl_node *global = global_042();
	bool add_hash = true;
	struct sl_node *obj = generate(false, with(named("no-hash"), "literals", STRS("a=1")),
	                               global, *state, &add_hash);
	assert_false(add_hash);
	assert_string_equal(sl_node_dig_str(obj, "metadata", "labels", "generated", NULL), "true");
	assert_string_equal(
	    sl_node_dig_str(obj, "metadata", "labels", "app.kubernetes.io/managed-by", NULL),
	    "kustomize");
	assert_string_equal(sl_node_dig_str(obj, "metadata", "annotations", "note", NULL),
	                    "from generatorOptions");
	const struct sl_node *immutable = sl_node_map_get(obj, "immutable");
	assert_non_null(immutable);
	assert_int_equal(immutable->type, SL_NODE_BOOL);
	assert_true(immutable->b);
	sl_node_free(obj);
	sl_node_free(global);
}

static void generator_false_cannot_undo_global_true_and_its_values_win(void **state)
{
	struct sl_node *global = global_042();
	bool add_hash = true;
	struct sl_node *opts =
	    with(with(with(sl_node_new_map(), "disableNameSuffixHash", sl_node_new_bool(false)),
	              "labels", PAIRS("per-generator", "yes")),
	         "annotations", PAIRS("note", "per-generator wins"));
	struct sl_node *obj = generate(
	    false, with(with(named("with-hash"), "options", opts), "literals", STRS("a=1")), global,
	    *state, &add_hash);
	assert_false(add_hash);
	const struct sl_node *labels = sl_node_dig(obj, "metadata", "labels", NULL);
	assert_int_equal(labels->map.len, 3);
	assert_string_equal(sl_node_dig_str(labels, "per-generator", NULL), "yes");
	assert_string_equal(sl_node_dig_str(labels, "generated", NULL), "true");
	assert_string_equal(sl_node_dig_str(obj, "metadata", "annotations", "note", NULL),
	                    "per-generator wins");
	sl_node_free(obj);

	obj = generate(
	    true,
	    with(
	        with(with(named("token"), "type", sl_node_new_str("bootstrap.kubernetes.io/token")),
	             "options", with(sl_node_new_map(), "immutable", sl_node_new_bool(false))),
	        "literals", STRS("token-id=abcdef", "token-secret=0123456789abcdef")),
	    global, *state, &add_hash);
	assert_true(sl_node_map_get(obj, "immutable")->b);
	assert_string_equal(sl_node_dig_str(obj, "type", NULL), "bootstrap.kubernetes.io/token");
	assert_string_equal(value_at(obj, "data", "token-secret"), "MDEyMzQ1Njc4OWFiY2RlZg==");
	sl_node_free(obj);
	sl_node_free(global);
}

static void generator_options_alone_and_no_options(void **state)
{
	bool add_hash = false;
	struct sl_node *obj =
	    generate(false,
	             with(with(named("plain"), "namespace", sl_node_new_str("shop")), "literals",
	                  STRS("a=1")),
	             NULL, *state, &add_hash);
	assert_true(add_hash);
	assert_null(sl_node_dig(obj, "metadata", "labels", NULL));
	assert_null(sl_node_dig(obj, "metadata", "annotations", NULL));
	assert_null(sl_node_map_get(obj, "immutable"));
	assert_string_equal(sl_node_dig_str(obj, "metadata", "namespace", NULL), "shop");
	sl_node_free(obj);

	obj = generate(
	    false,
	    with(with(named("own"), "options",
	              with(with(sl_node_new_map(), "disableNameSuffixHash", sl_node_new_bool(true)),
	                   "immutable", sl_node_new_bool(true))),
	         "literals", STRS("a=1")),
	    NULL, *state, &add_hash);
	assert_false(add_hash);
	assert_true(sl_node_map_get(obj, "immutable")->b);
	sl_node_free(obj);
}

/* ---- errors ------------------------------------------------------------------- */

static void generator_errors_name_the_problem(void **state)
{
	const char *dir = *state;
	struct report rep = {0};
	WRITE(dir, "base.env", base_env);
	WRITE(dir, "extra.env", "DATABASE_PORT=6432\nEXTRA=from-second-file\n");

	/* 046: the same key from two env files */
	generate_fails(false, with(named("settings"), "envs", STRS("base.env", "extra.env")), NULL,
	               dir, "configmap settings illegally repeats the key `DATABASE_PORT`", &rep);
	/* the same key from a literal and a file */
	generate_fails(
	    false,
	    with(with(named("s"), "literals", STRS("base.env=x")), "files", STRS("base.env")), NULL,
	    dir, "illegally repeats the key `base.env`", &rep);
	/* 048: a missing file */
	generate_fails(false, with(named("settings"), "files", STRS("config/app.toml")), NULL, dir,
	               "config/app.toml", &rep);
	generate_fails(false, with(named("settings"), "files", STRS("config/app.toml")), NULL, dir,
	               "loading KV pairs: file sources: [config/app.toml]", &rep);
	generate_fails(false, with(named("s"), "envs", STRS("nope.env")), NULL, dir, "nope.env",
	               &rep);
	generate_fails(true, with(named("s"), "env", sl_node_new_str("nope.env")), NULL, dir,
	               "env source files: [nope.env]", &rep);
	generate_fails(false, with(named("s"), "literals", STRS("novalue")), NULL, dir,
	               "invalid literal source novalue, expected key=value", &rep);
	generate_fails(false, with(named("s"), "literals", STRS("=v")), NULL, dir,
	               "invalid literal source =v", &rep);
	generate_fails(false, with(named("s"), "literals", STRS("a b=1")), NULL, dir,
	               "\"a b\" is not a valid key name: a valid config key must consist of "
	               "alphanumeric characters",
	               &rep);
	generate_fails(false, with(named("s"), "literals", STRS("..=1")), NULL, dir,
	               "must not be '..'", &rep);
	generate_fails(false, with(named("s"), "literals", STRS("..a=1")), NULL, dir,
	               "must not start with '..'", &rep);
	char long_key[300];
	memset(long_key, 'k', 254);
	memcpy(long_key + 254, "=1", 3);
	generate_fails(false, with(named("s"), "literals", STRS(long_key)), NULL, dir,
	               "must be no more than 253 characters", &rep);
	generate_fails(false, with(sl_node_new_map(), "literals", STRS("a=1")), NULL, dir,
	               "must have a name", &rep);
	generate_fails(true, named(""), NULL, dir, "a secret must have a name", &rep);
	report_check(&rep);
}

static void generator_fields_decoded_strictly(void **state)
{
	const char *dir = *state;
	struct report rep = {0};
	struct sl_node *number_list = sl_node_new_seq();
	sl_node_seq_push(number_list, sl_node_new_int(42));
	generate_fails(false, with(named("s"), "literals", number_list), NULL, dir,
	               "json: cannot unmarshal number into Go struct field "
	               "ConfigMapArgs.configMapGenerator.literals of type string",
	               &rep);
	generate_fails(
	    true, with(named("s"), "files", sl_node_new_str("a.txt")), NULL, dir,
	    "cannot unmarshal string into Go struct field SecretArgs.secretGenerator.files "
	    "of type []string",
	    &rep);
	generate_fails(false, with(named("s"), "literal", STRS("a=1")), NULL, dir,
	               "json: unknown field \"literal\"", &rep);
	generate_fails(false, with(named("s"), "type", sl_node_new_str("Opaque")), NULL, dir,
	               "json: unknown field \"type\"", &rep);
	generate_fails(
	    false,
	    with(named("s"), "options",
	         with(sl_node_new_map(), "disableNameSuffixHash", sl_node_new_str("yes"))),
	    NULL, dir,
	    "cannot unmarshal string into Go struct field "
	    "GeneratorOptions.configMapGenerator.options.disableNameSuffixHash of type "
	    "bool",
	    &rep);
	generate_fails(false,
	               with(named("s"), "options",
	                    with(sl_node_new_map(), "labels",
	                         with(sl_node_new_map(), "n", sl_node_new_int(1)))),
	               NULL, dir, "of type string", &rep);
	struct sl_node *global = with(sl_node_new_map(), "labelz", PAIRS("a", "b"));
	generate_fails(false, named("s"), global, dir, "json: unknown field \"labelz\"", &rep);
	sl_node_free(global);
	global = sl_node_new_str("x");
	generate_fails(false, named("s"), global, dir,
	               "Go struct field Kustomization.generatorOptions of type "
	               "types.GeneratorOptions",
	               &rep);
	sl_node_free(global);
	generate_fails(false, sl_node_new_str("x"), NULL, dir,
	               "Go struct field Kustomization.configMapGenerator of type "
	               "types.ConfigMapArgs",
	               &rep);
	report_check(&rep);

	/* null is Go's zero value: fine wherever it appears */
	struct sl_node *obj = generate(false,
	                               with(with(with(named("n"), "literals", sl_node_new_null()),
	                                         "options", sl_node_new_null()),
	                                    "behavior", sl_node_new_null()),
	                               NULL, dir, NULL);
	assert_null(sl_node_map_get(obj, "data"));
	sl_node_free(obj);
}

/* ---- behavior: merge ---------------------------------------------------------- */

static void merge_overlays_data_and_keeps_base_identity(void **state)
{
	/* 041: base settings in namespace shop, overlay merges into it */
	struct sl_node *base =
	    generate(false, with(named("settings"), "literals", STRS("LOG_LEVEL=info", "CACHE=on")),
	             NULL, *state, NULL);
	sl_node_map_set(sl_node_map_get(base, "metadata"), "namespace", sl_node_new_str("shop"));
	sl_node_map_set(sl_node_map_get(base, "metadata"), "labels",
	                PAIRS("a", "base", "b", "base"));
	struct sl_node *overlay =
	    generate(false,
	             with(with(with(named("settings"), "namespace", sl_node_new_str("shop")),
	                       "literals", STRS("LOG_LEVEL=debug", "TRACING=on")),
	                  "options", with(sl_node_new_map(), "labels", PAIRS("b", "overlay"))),
	             NULL, *state, NULL);
	/* the base may already carry a prefix: the merge keeps its name */
	sl_node_map_set(sl_node_map_get(base, "metadata"), "name", sl_node_new_str("p-settings"));

	struct sl_error err = {0};
	assert_int_equal(ks_generator_merge(base, overlay, &err), 0);
	static const struct kv_row data[] = {
	    {"CACHE", "on"}, {"LOG_LEVEL", "debug"}, {"TRACING", "on"}};
	check_values(base, "data", data, SL_ARRAY_SIZE(data));
	assert_string_equal(sl_node_dig_str(base, "metadata", "name", NULL), "p-settings");
	assert_string_equal(sl_node_dig_str(base, "metadata", "namespace", NULL), "shop");
	assert_string_equal(sl_node_dig_str(base, "metadata", "labels", "a", NULL), "base");
	assert_string_equal(sl_node_dig_str(base, "metadata", "labels", "b", NULL), "overlay");
	assert_hash(base, "4928hc64mm"); /* 041: settings-4928hc64mm */
	sl_node_free(base);
	sl_node_free(overlay);
}

static void merge_of_secrets_merges_encoded_values(void **state)
{
	struct sl_node *base = generate(
	    true, with(named("db"), "literals", STRS("username=app", "password=base-password")),
	    NULL, *state, NULL);
	struct sl_node *overlay =
	    generate(true,
	             with(with(named("db"), "namespace", sl_node_new_str("shop")), "literals",
	                  STRS("password=overlay-password")),
	             NULL, *state, NULL);
	struct sl_error err = {0};
	assert_int_equal(ks_generator_merge(base, overlay, &err), 0);
	static const struct kv_row data[] = {{"username", "YXBw"},
	                                     {"password", "b3ZlcmxheS1wYXNzd29yZA=="}};
	check_values(base, "data", data, SL_ARRAY_SIZE(data));
	/* the base had no namespace here: the merged object has none */
	assert_null(sl_node_dig(base, "metadata", "namespace", NULL));
	assert_string_equal(sl_node_dig_str(base, "type", NULL), "Opaque");
	assert_hash(base, "tt89f7g9gg"); /* 041: db-tt89f7g9gg */
	sl_node_free(base);
	sl_node_free(overlay);
}

static void merge_replaces_a_file_key_and_takes_overlay_fields(void **state)
{
	/* 045: the overlay's backup.sh replaces the base's */
	WRITE(*state, "base/backup.sh",
	      "#!/bin/sh\nset -eu\npg_dump \"$DATABASE_URL\" | gzip > /backup/dump.sql.gz\n");
	WRITE(*state, "overlay/backup.sh",
	      "#!/bin/sh\nset -eu\npg_dump --no-owner \"$DATABASE_URL\" | zstd > "
	      "/backup/dump.sql.zst\n");
	char *base_dir = tl_own(tl_path(*state, "base"));
	char *overlay_dir = tl_own(tl_path(*state, "overlay"));
	struct sl_node *base = generate(false, with(named("scripts"), "files", STRS("backup.sh")),
	                                NULL, base_dir, NULL);
	struct sl_node *overlay =
	    generate(false,
	             with(with(named("scripts"), "files", STRS("backup.sh")), "options",
	                  with(sl_node_new_map(), "immutable", sl_node_new_bool(true))),
	             NULL, overlay_dir, NULL);
	struct sl_error err = {0};
	assert_int_equal(ks_generator_merge(base, overlay, &err), 0);
	assert_non_null(strstr(value_at(base, "data", "backup.sh"), "zstd"));
	assert_true(sl_node_map_get(base, "immutable")->b);
	assert_hash(base, "89mfb4826c"); /* 045: nightly-scripts-89mfb4826c */
	sl_node_free(base);
	sl_node_free(overlay);

	struct sl_node *s3 =
	    generate(true, with(named("s3"), "literals", STRS("AWS_ACCESS_KEY_ID=AKIAEXAMPLE")),
	             NULL, *state, NULL);
	assert_hash(s3, "8gt9m97bk8"); /* 045: nightly-s3-8gt9m97bk8 */
	sl_node_free(s3);
}

static void merge_of_empty_maps_drops_the_fields(void **state)
{
	struct sl_node *base = generate(false, named("e"), NULL, *state, NULL);
	struct sl_node *overlay = generate(false, named("e"), NULL, *state, NULL);
	struct sl_error err = {0};
	assert_int_equal(ks_generator_merge(base, overlay, &err), 0);
	assert_null(sl_node_map_get(base, "data"));
	assert_null(sl_node_map_get(base, "binaryData"));
	assert_null(sl_node_dig(base, "metadata", "labels", NULL));
	assert_hash(base, "6ct58987ht");
	sl_node_free(base);
	sl_node_free(overlay);
}

/* ---- envsubst ------------------------------------------------------------------- */

struct subst_row {
	const char *vars[8]; /* name, value, ..., NULL */
	const char *in;
	const char *out; /* NULL: must fail with err in the message */
	const char *err;
};

static void run_subst_rows(const struct subst_row *rows, size_t n, bool strict)
{
	struct report rep = {0};
	for (size_t i = 0; i < n; i++) {
		struct sl_node *vars = map_of(rows[i].vars);
		struct sl_buf out;
		sl_buf_init(&out, 0);
		struct sl_error err = {0};
		int r = ks_envsubst(rows[i].in, strlen(rows[i].in), vars, strict, &out, &err);
		if (rows[i].out && r < 0)
			report_add(&rep, "%s: failed: %s", rows[i].in, err.msg);
		else if (rows[i].out && strcmp(out.data ? out.data : "", rows[i].out) != 0)
			report_add(&rep, "%s: got \"%s\", want \"%s\"", rows[i].in,
			           out.data ? out.data : "", rows[i].out);
		else if (!rows[i].out && r >= 0)
			report_add(&rep, "%s: want failure, got \"%s\"", rows[i].in,
			           out.data ? out.data : "");
		else if (!rows[i].out && !strstr(err.msg, rows[i].err))
			report_add(&rep, "%s: want \"%s\" in: %s", rows[i].in, rows[i].err,
			           err.msg);
		sl_buf_free(&out);
		sl_node_free(vars);
	}
	report_check(&rep);
}

/* fluxcd/pkg/envsubst TestExpand (non-strict mapping). */
static const struct subst_row flux_expand_rows[] = {
    {{NULL}, "abcdEFGH28ij", "abcdEFGH28ij", NULL},
    {{"var01", "abcdEFGH28ij", NULL}, "${#var01}", "12", NULL},
    {{"var01", "abcdEFGH28ij", NULL}, "${var01^}", "AbcdEFGH28ij", NULL},
    {{"var01", "abcdEFGH28ij", NULL}, "${var01^^}", "ABCDEFGH28IJ", NULL},
    {{"var01", "ABCDEFGH28IJ", NULL}, "${var01,}", "aBCDEFGH28IJ", NULL},
    {{"var01", "ABCDEFGH28IJ", NULL}, "${var01,,}", "abcdefgh28ij", NULL},
    {{"path_name", "/home/bozo/ideas/thoughts.for.today", NULL},
     "${path_name:11}",
     "ideas/thoughts.for.today",
     NULL},
    {{"path_name", "/home/bozo/ideas/thoughts.for.today", NULL},
     "${path_name:11:5}",
     "ideas",
     NULL},
    {{"var", "abc", NULL}, "${var=xyz}", "abc", NULL},
    {{NULL}, "${var=xyz}", "xyz", NULL},
    {{"default_var", "foo", NULL}, "something ${var=${default_var}}", "something foo", NULL},
    {{"default_var", "foo1", NULL}, "foo: ${var=${default_var}-suffix}", "foo: foo1-suffix", NULL},
    {{"default_var", "foo1", NULL},
     "foo: ${var=prefix${default_var}-suffix}",
     "foo: prefixfoo1-suffix",
     NULL},
    {{NULL}, "${var:=xyz}", "xyz", NULL},
    {{"stringZ", "abcABC123ABCabc", NULL}, "${stringZ/%abc/XYZ}", "abcABC123ABCXYZ", NULL},
    {{"stringZ", "abcABC123ABCabc", NULL}, "${stringZ/#abc/XYZ}", "XYZABC123ABCabc", NULL},
    {{"stringZ", "somevalue", NULL}, "${stringZ/#/prefix-}", "prefix-somevalue", NULL},
    {{"stringZ", "somevalue", NULL}, "${stringZ/%/-suffix}", "somevalue-suffix", NULL},
    {{"stringZ", "abcABC123ABCabc", NULL}, "${stringZ//abc/xyz}", "xyzABC123ABCxyz", NULL},
    {{"stringZ", "abcABC123ABCabc", NULL}, "${stringZ/abc/xyz}", "xyzABC123ABCabc", NULL},
    {{"filename", "bash.string.txt", NULL}, "${filename#*.}", "string.txt", NULL},
    {{"filename", "path/to/file", NULL}, "${filename#*/}", "to/file", NULL},
    {{"filename", "/path/to/file", NULL}, "${filename#*/}", "path/to/file", NULL},
    {{"filename", "bash.string.txt", NULL}, "${filename##*.}", "txt", NULL},
    {{"filename", "path/to/file", NULL}, "${filename##*/}", "file", NULL},
    {{"filename", "/path/to/file", NULL}, "${filename##*/}", "file", NULL},
    {{"filename", "bash.string.txt", NULL}, "${filename%.*}", "bash.string", NULL},
    {{"filename", "bash.string.txt", NULL}, "${filename%%.*}", "bash", NULL},
    {{"var01", "abcdEFGH28ij", NULL}, "${var=${var01^^}}", "ABCDEFGH28IJ", NULL},
    {{"var01", "abcdEFGH28ij", NULL}, "$${var01}", "${var01}", NULL},
    {{"var01", "abcdEFGH28ij", NULL},
     "some text ${var01}$${var$${var01}$var01${var01}",
     "some text abcdEFGH28ij${var${var01}$var01abcdEFGH28ij",
     NULL},
    {{"default_var", "foo", NULL},
     "something $${var=${default_var}}",
     "something ${var=foo}",
     NULL},
    {{"stringZ", "foo/bar", NULL}, "${stringZ/\\//-}", "foo-bar", NULL},
    {{"stringZ", "foo/bar/baz", NULL}, "${stringZ//\\//-}", "foo-bar-baz", NULL},
    {{"default_var", "foo", NULL},
     "\\\\something ${var=${default_var}}",
     "\\\\something foo",
     NULL},
    {{"stringZ", "foo.bar", NULL}, "${stringZ/./}", "foobar", NULL},
};

static void envsubst_operators_match_flux(void **state)
{
	(void)state;
	run_subst_rows(flux_expand_rows, SL_ARRAY_SIZE(flux_expand_rows), false);
}

/* What the fork's parser and functions do beyond its own tests. */
static const struct subst_row quirk_rows[] = {
    /* only ${...} is recognised; $$ is one $ */
    {{"var", "v", NULL}, "$var ${var}", "$var v", NULL},
    {{NULL}, "$$", "$", NULL},
    {{NULL}, "$$$", "$$", NULL},
    {{"x", "1", NULL}, "$$${x}", "$1", NULL},
    {{NULL}, "a$", "a$", NULL},
    {{NULL}, "cost: $5 {x} }", "cost: $5 {x} }", NULL},
    /* defaults: `:+` and `:?` parse but act as `:-` */
    {{"x", "set", NULL}, "${x:+alt}", "set", NULL},
    {{"x", "", NULL}, "${x:+alt}", "alt", NULL},
    {{NULL}, "${x:?oops}", "oops", NULL},
    {{"x", "", NULL}, "${x=d}", "d", NULL},
    {{NULL}, "${x:-}", "", NULL},
    {{NULL}, "${a:-${b:-${c:-deep}}}", "deep", NULL},
    {{"c", "C", NULL}, "${a:-x${b:-${c}}y}", "xCy", NULL},
    {{NULL}, "${x:-a}b}", "ab}", NULL},
    /* substrings count bytes */
    {{"x", "abcde", NULL}, "${x:1:-1}", "bcd", NULL},
    {{"x", "abcde", NULL}, "${x:-2}", "abcde", NULL},
    {{"x", "abcde", NULL}, "${x: -2}", "abcde", NULL},
    {{"x", "abcde", NULL}, "${x:-2:1}", "abcde", NULL},
    {{"x", "abcde", NULL}, "${x:10}", "", NULL},
    {{"x", "abcde", NULL}, "${x:1:100}", "bcde", NULL},
    {{"x", "abcde", NULL}, "${x:3:-3}", "", NULL},
    {{"x", "abcde", NULL}, "${x:${n}}", "abcde", NULL},
    {{"x", "abcde", "n", "2", NULL}, "${x:${n}:2}", "cd", NULL},
    {{"x", "h\xc3\xa9llo", NULL}, "${#x}", "6", NULL},
    /* replace */
    {{"x", "banana", NULL}, "${x/a/}", "bnana", NULL},
    {{"x", "banana", NULL}, "${x//a/}", "bnn", NULL},
    {{"x", "banana", NULL}, "${x//an/${y:-AN}}", "bANANa", NULL},
    {{"x", "ab", NULL}, "${x///-}", "-a-b-", NULL}, /* empty pattern: Go inserts */
    {{"x", "a/b", NULL}, "${x/\\\\/x}", "a/b", NULL},
    {{"x", "a\\b", NULL}, "${x/\\\\/-}", "a-b", NULL},
    {{"x", "a$b", NULL}, "${x/$$/-}", "a-b", NULL},
    {{"x", "abc", NULL}, "${x/#b/X}", "abc", NULL},
    {{"x", "abc", NULL}, "${x/#a/}", "abc", NULL},
    /* remove with patterns: ? and [] classes, * crosses / */
    {{"x", "a1b2c3", NULL}, "${x#?[0-9]}", "b2c3", NULL},
    {{"x", "a1b2c3", NULL}, "${x##*[0-9]}", "", NULL},
    {{"x", "a1b2c3", NULL}, "${x%[!0-9]*}", "a1b2c3", NULL},
    /* suffix patterns are matched reversed: classes do not survive it */
    {{"x", "a1b2c3", NULL}, "${x%[^0-9]*}", "a1b2c3", NULL},
    {{"x", "a1b2c3", NULL}, "${x%?3}", "a1b2", NULL},
    {{"x", "a1b2c3", NULL}, "${x#[}", "a1b2c3", NULL},
    {{"x", "x.tar.gz", NULL}, "${x%.*.*}", "x", NULL},
    {{"x", "a*b", NULL}, "${x#a\\*}", "b", NULL},
    /* case */
    {{"x", "\xc3\xa9lan", NULL}, "${x^}", "\xc3\x89lan", NULL},
    {{"x", "\xc3\xa9t\xc3\xa9", NULL}, "${x^^}", "\xc3\x89T\xc3\x89", NULL},
    {{"x", "ABC", NULL}, "${x,^}", "ABC", NULL},
    /* syntax errors, with the fork's messages */
    {{NULL}, "${}", NULL, "variable substitution failed: unable to parse variable name"},
    {{NULL}, "${", NULL, "unable to parse variable name"},
    {{"x", "1", NULL}, "${x", NULL, "missing closing brace"},
    {{"x", "1", NULL}, "${x-d}", NULL, "missing closing brace"},
    {{"x", "1", NULL}, "${x+d}", NULL, "missing closing brace"},
    {{"x", "1", NULL}, "${x }", NULL, "missing closing brace"},
    {{"x", "1", NULL}, "${x:}", NULL, "unable to parse substitution within function"},
    {{"x", "1", NULL}, "${x#}", NULL, "unable to parse substitution within function"},
    {{"x", "1", NULL}, "${#}", NULL, "bad substitution"},
    {{"x", "1", NULL}, "${#x:-1}", NULL, "bad substitution"},
    {{"x", "1", NULL}, "${x/a}", NULL, "bad substitution"},
    {{"x", "1", NULL}, "${x:-abc", NULL, "unable to parse substitution within function"},
    {{"x", "1", NULL}, "ok ${x} then ${x", NULL, "missing closing brace"},
};

static void envsubst_follows_the_fork_on_edge_cases(void **state)
{
	(void)state;
	run_subst_rows(quirk_rows, SL_ARRAY_SIZE(quirk_rows), false);
}

/* fluxcd/pkg/envsubst TestExpandStrict, and eager argument evaluation. */
static const struct subst_row strict_rows[] = {
    {{NULL}, "abcdEFGH28ij", "abcdEFGH28ij", NULL},
    {{"foo", "bar", NULL}, "${foo}", "bar", NULL},
    {{"foo", "", NULL}, "${foo}", "", NULL},
    {{NULL}, "${missing}", NULL, "variable not set (strict mode): \"missing\""},
    {{"foo", "bar", NULL}, "${missing:=default}", "default", NULL},
    {{NULL}, "${#missing}", NULL, "variable not set (strict mode): \"missing\""},
    {{NULL}, "${missing^}", NULL, "variable not set"},
    {{NULL}, "${missing^^}", NULL, "variable not set"},
    {{NULL}, "${missing,}", NULL, "variable not set"},
    {{NULL}, "${missing,,}", NULL, "variable not set"},
    {{NULL}, "${missing:0}", NULL, "variable not set"},
    {{NULL}, "${missing:0:10}", NULL, "variable not set"},
    {{NULL}, "${missing/pattern/replacement}", NULL, "variable not set"},
    {{NULL}, "${missing//pattern/replacement}", NULL, "variable not set"},
    {{NULL}, "${missing/#pattern/replacement}", NULL, "variable not set"},
    {{NULL}, "${missing/%pattern/replacement}", NULL, "variable not set"},
    {{NULL}, "${missing#pattern}", NULL, "variable not set"},
    {{NULL}, "${missing##pattern}", NULL, "variable not set"},
    {{NULL}, "${missing%pattern}", NULL, "variable not set"},
    {{NULL}, "${missing%%pattern}", NULL, "variable not set"},
    {{NULL}, "${missing:-fallback}", "fallback", NULL},
    {{NULL}, "${missing:=assigned}", "assigned", NULL},
    {{NULL}, "${missing=assigned}", "assigned", NULL},
    {{NULL}, "${missing:+alt}", "alt", NULL},
    {{NULL}, "${missing:?alt}", "alt", NULL},
    /* arguments are evaluated even when the value makes them unused */
    {{"set", "1", NULL}, "${set:-${missing}}", NULL, "\"missing\""},
    {{NULL}, "${a:-${b:-fine}}", "fine", NULL},
    {{NULL}, "$$missing $${missing}", "$missing ${missing}", NULL},
    /* the whole text is parsed first: a syntax error wins */
    {{NULL}, "${missing} ${x", NULL, "missing closing brace"},
};

static void envsubst_strict_mode_fails_on_unset_variables(void **state)
{
	(void)state;
	run_subst_rows(strict_rows, SL_ARRAY_SIZE(strict_rows), true);
}

static void envsubst_non_strict_unset_is_empty(void **state)
{
	(void)state;
	static const struct subst_row rows[] = {
	    {{NULL}, "a${missing}b", "ab", NULL},
	    {{NULL}, "${#missing}", "0", NULL},
	    {{NULL}, "${missing^^}", "", NULL},
	};
	run_subst_rows(rows, SL_ARRAY_SIZE(rows), false);
	struct sl_buf out;
	sl_buf_init(&out, 0);
	struct sl_error err = {0};
	assert_int_equal(ks_envsubst("x${a}", 5, NULL, true, &out, &err) < 0, 1);
	assert_int_equal(ks_envsubst("x${a}", 5, NULL, false, &out, &err), 0);
	assert_string_equal(out.data, "x");
	sl_buf_free(&out);
}

static void envsubst_validates_variable_names(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		bool ok;
	} rows[] = {
	    {"A", true},    {"_a1", true}, {"cluster_name", true}, {"1abc", false}, {"a-b", false},
	    {"a.b", false}, {"", false},   {"\xc3\xa9", false},    {"a b", false},
	};
	struct report rep = {0};
	for (size_t i = 0; i < SL_ARRAY_SIZE(rows); i++) {
		struct sl_node *vars = PAIRS(rows[i].name, "v");
		struct sl_buf out;
		sl_buf_init(&out, 0);
		struct sl_error err = {0};
		int r = ks_envsubst("text", 4, vars, false, &out, &err);
		if ((r == 0) != rows[i].ok)
			report_add(&rep, "\"%s\": r=%d %s", rows[i].name, r, err.msg);
		else if (!rows[i].ok && !strstr(err.msg, "var name is invalid, must match "
		                                         "'^[_[:alpha:]][_[:alpha:][:digit:]]*$'"))
			report_add(&rep, "\"%s\": message %s", rows[i].name, err.msg);
		sl_buf_free(&out);
		sl_node_free(vars);
	}
	report_check(&rep);

	struct sl_node *vars = with(sl_node_new_map(), "n", sl_node_new_int(1));
	struct sl_buf out;
	sl_buf_init(&out, 0);
	struct sl_error err = {0};
	assert_true(ks_envsubst("${n}", 4, vars, false, &out, &err) < 0);
	sl_buf_free(&out);
	sl_node_free(vars);
}

static void envsubst_strips_newlines_from_values(void **state)
{
	(void)state;
	static const struct subst_row rows[] = {
	    {{"A", "a\nb\n", NULL}, "[${A}]", "[ab]", NULL},
	    {{"A", "\n", NULL}, "${A:-empty}", "empty", NULL},
	};
	run_subst_rows(rows, SL_ARRAY_SIZE(rows), true);
}

static void envsubst_stops_at_a_nul_byte_like_the_fork(void **state)
{
	(void)state;
	struct sl_node *vars = PAIRS("x", "1");
	struct sl_buf out;
	sl_buf_init(&out, 0);
	struct sl_error err = {0};
	assert_int_equal(ks_envsubst("a${x}\0${x}b", 11, vars, false, &out, &err), 0);
	assert_string_equal(out.data, "a1");
	sl_buf_free(&out);
	sl_node_free(vars);
}

static void envsubst_refuses_deep_nesting_and_respects_the_cap(void **state)
{
	(void)state;
	struct sl_buf text, out;
	sl_buf_init(&text, 0);
	for (int i = 0; i < 300; i++)
		sl_buf_printf(&text, "${a%d:-", i);
	sl_buf_append(&text, "x", 1);
	for (int i = 0; i < 300; i++)
		sl_buf_append(&text, "}", 1);
	sl_buf_init(&out, 0);
	struct sl_error err = {0};
	assert_true(ks_envsubst(text.data, text.len, NULL, false, &out, &err) < 0);
	assert_non_null(strstr(err.msg, "nested"));
	sl_buf_free(&out);
	sl_buf_free(&text);

	/* the output's cap holds for what substitution makes */
	struct sl_node *vars =
	    PAIRS("x", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	sl_buf_init(&out, 64);
	assert_true(ks_envsubst("${x}", 4, vars, false, &out, &err) < 0);
	assert_int_equal(out.len, 0);
	sl_buf_free(&out);
	sl_node_free(vars);
}

/* ---- substitute_object -------------------------------------------------------- */

static struct sl_node *configmap(const char *name)
{
	return with(with(with(with(sl_node_new_map(), "apiVersion", sl_node_new_str("v1")), "kind",
	                      sl_node_new_str("ConfigMap")),
	                 "metadata", with(sl_node_new_map(), "name", sl_node_new_str(name))),
	            "data", PAIRS("greeting", "${GREETING}", "count", "${COUNT}"));
}

static void substitute_object_skipped_when_disabled(void **state)
{
	(void)state;
	const char *fields[] = {"labels", "annotations"};
	struct sl_node *vars = PAIRS("GREETING", "hi");
	for (size_t i = 0; i < SL_ARRAY_SIZE(fields); i++) {
		struct sl_node *obj = configmap("cm");
		sl_node_map_set(sl_node_map_get(obj, "metadata"), fields[i],
		                PAIRS("kustomize.toolkit.fluxcd.io/substitute", "disabled"));
		struct sl_node *before = obj, *copy = sl_node_copy(obj);
		struct sl_error err = {0};
		/* strict, with COUNT unset: would fail if it ran */
		assert_int_equal(ks_substitute_object(&obj, vars, true, &err), 0);
		assert_ptr_equal(obj, before);
		assert_true(sl_node_equal(obj, copy));
		sl_node_free(copy);
		sl_node_free(obj);
	}
	sl_node_free(vars);
}

/* Flux re-reads the substituted text: a plain ${N} becomes what its value
 * reads as (YAML 1.1: yes is a bool), a quoted "${N}" stays a string. */
static void substitute_object_retypes_plain_values_only(void **state)
{
	(void)state;
	static const char doc[] = "apiVersion: v1\n"
	                          "kind: Thing\n"
	                          "metadata:\n"
	                          "  name: ${NAME}-cm\n"
	                          "spec:\n"
	                          "  greeting: ${GREETING}\n"
	                          "  quoted: \"${COUNT}\"\n"
	                          "  count: ${COUNT}\n"
	                          "  flag: ${FLAG}\n"
	                          "  untouched: yes\n"
	                          "  structure: ${STRUCT}\n";
	struct sl_node *vars = PAIRS("GREETING", "hello world", "COUNT", "42", "FLAG", "yes",
	                             "NAME", "app", "STRUCT", "a: b");
	struct sl_node *docs = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_yaml_parse(doc, sizeof(doc) - 1, "doc", &docs, &err), 0);
	struct sl_node *obj = sl_node_seq_take(docs, 0);
	sl_node_free(docs);
	int r = ks_substitute_object(&obj, vars, true, &err);
	if (r < 0)
		fail_msg("ks_substitute_object: %s", err.msg);
	assert_string_equal(sl_node_dig_str(obj, "metadata", "name", NULL), "app-cm");
	assert_string_equal(sl_node_dig_str(obj, "spec", "greeting", NULL), "hello world");
	assert_string_equal(sl_node_dig_str(obj, "spec", "quoted", NULL), "42");
	const struct sl_node *count = sl_node_dig(obj, "spec", "count", NULL);
	assert_int_equal(count->type, SL_NODE_INT);
	assert_int_equal(count->i, 42);
	const struct sl_node *flag = sl_node_dig(obj, "spec", "flag", NULL);
	assert_int_equal(flag->type, SL_NODE_BOOL);
	assert_true(flag->b);
	/* sluice, unlike Flux, leaves values no variable touched alone */
	assert_string_equal(sl_node_dig_str(obj, "spec", "untouched", NULL), "yes");
	/* and never turns a value into YAML structure */
	assert_string_equal(sl_node_dig_str(obj, "spec", "structure", NULL), "a: b");
	sl_node_free(obj);
	sl_node_free(vars);
}

/* Needs the YAML emitter. */
static void substitute_object_strict_error_names_the_variable(void **state)
{
	(void)state;
	struct sl_node *vars = PAIRS("GREETING", "hi");
	struct sl_node *obj = configmap("cm");
	struct sl_error err = {0};
	int r = ks_substitute_object(&obj, vars, true, &err);
	sl_node_free(obj);
	sl_node_free(vars);
	assert_true(r < 0);
	if (!strstr(err.msg, "envsubst error: variable substitution failed: variable not set "
	                     "(strict mode): \"COUNT\""))
		fail_msg("message: %s", err.msg);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tl_setup_tmpdir, tl_teardown_tmpdir)
	const struct CMUnitTest tests[] = {
	    T(configmap_files_key_by_basename_or_given_key),
	    T(configmap_binary_files_go_to_binarydata_wrapped_at_70),
	    T(configmap_literals_strip_one_pair_of_quotes),
	    T(literal_quotes_removed_only_when_matching),
	    T(configmap_env_files_skip_comments_and_keep_values),
	    T(env_file_lines_follow_kustomize),
	    T(legacy_env_field_is_read_after_envs),
	    T(env_lines_of_64k_or_more_end_the_file),
	    T(file_sources_in_every_form),
	    T(file_sources_refused_with_reasons),
	    T(secret_values_base64_wrapped_at_70_columns),
	    T(secret_from_files_keeps_its_type),
	    T(hash_covers_kind_data_and_type_only),
	    T(empty_configmap_has_no_data_and_empty_secret_has_empty_data),
	    T(hash_refuses_other_kinds),
	    T(global_options_apply_to_every_generator),
	    T(generator_false_cannot_undo_global_true_and_its_values_win),
	    T(generator_options_alone_and_no_options),
	    T(generator_errors_name_the_problem),
	    T(generator_fields_decoded_strictly),
	    T(merge_overlays_data_and_keeps_base_identity),
	    T(merge_of_secrets_merges_encoded_values),
	    T(merge_replaces_a_file_key_and_takes_overlay_fields),
	    T(merge_of_empty_maps_drops_the_fields),
	    cmocka_unit_test(envsubst_operators_match_flux),
	    cmocka_unit_test(envsubst_follows_the_fork_on_edge_cases),
	    cmocka_unit_test(envsubst_strict_mode_fails_on_unset_variables),
	    cmocka_unit_test(envsubst_non_strict_unset_is_empty),
	    cmocka_unit_test(envsubst_validates_variable_names),
	    cmocka_unit_test(envsubst_strips_newlines_from_values),
	    cmocka_unit_test(envsubst_stops_at_a_nul_byte_like_the_fork),
	    cmocka_unit_test(envsubst_refuses_deep_nesting_and_respects_the_cap),
	    cmocka_unit_test(substitute_object_skipped_when_disabled),
	    cmocka_unit_test(substitute_object_retypes_plain_values_only),
	    cmocka_unit_test(substitute_object_strict_error_names_the_variable),
	};
	return cmocka_run_group_tests_name("generator", tests, NULL, NULL);
}
