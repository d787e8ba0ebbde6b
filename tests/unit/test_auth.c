/* Authentication inputs: WWW-Authenticate challenges (RFC 7235), Flux's
 * --creds forms (spec §5.1) and docker's config.json keychain (spec §5.2),
 * including credential helpers run from a temp PATH. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "oci/oci.h"
#include "testlib.h"

/* ---- WWW-Authenticate ------------------------------------------------- */

struct challenge_case {
	const char *header;
	const char *scheme, *realm, *service, *scope, *error;
};

static bool same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static void run_challenge_table(const struct challenge_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct challenge_case *c = &cases[i];
		struct sl_auth_challenge ch = {0};
		struct sl_error err = {0};
		if (sl_auth_challenge_parse(c->header, &ch, &err) != 0)
			fail_msg("%s: %s", c->header, err.msg);
		bool ok = same(ch.scheme, c->scheme) && same(ch.realm, c->realm) &&
		          same(ch.service, c->service) && same(ch.scope, c->scope) &&
		          same(ch.error, c->error);
		char got[1024];
		snprintf(got, sizeof(got), "scheme=%s realm=%s service=%s scope=%s error=%s",
		         ch.scheme ? ch.scheme : "(null)", ch.realm ? ch.realm : "(null)",
		         ch.service ? ch.service : "(null)", ch.scope ? ch.scope : "(null)",
		         ch.error ? ch.error : "(null)");
		sl_auth_challenge_clear(&ch);
		if (!ok)
			fail_msg("%s: %s", c->header, got);
	}
}

static void challenge_parses_bearer_with_quoted_params(void **state)
{
	(void)state;
	static const struct challenge_case cases[] = {
	    {"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
	     "scope=\"repository:library/nginx:pull\"",
	     "bearer", "https://auth.docker.io/token", "registry.docker.io",
	     "repository:library/nginx:pull", NULL},
	    {"Bearer realm=\"https://ghcr.io/token\",service=\"ghcr.io\","
	     "scope=\"repository:org/app:pull,push\",error=\"insufficient_scope\"",
	     "bearer", "https://ghcr.io/token", "ghcr.io", "repository:org/app:pull,push",
	     "insufficient_scope"},
	    {"Bearer realm=\"\"", "bearer", "", NULL, NULL, NULL},
	};
	run_challenge_table(cases, SL_ARRAY_SIZE(cases));
}

static void challenge_parses_unquoted_token_values(void **state)
{
	(void)state;
	static const struct challenge_case cases[] = {
	    {"Bearer realm=https://r.example/token,service=registry.example,"
	     "scope=repository:a/b:pull",
	     "bearer", "https://r.example/token", "registry.example", "repository:a/b:pull", NULL},
	    {"Bearer realm=https://r/t, service=\"s\"", "bearer", "https://r/t", "s", NULL, NULL},
	};
	run_challenge_table(cases, SL_ARRAY_SIZE(cases));
}

static void challenge_unescapes_quoted_pairs(void **state)
{
	(void)state;
	static const struct challenge_case cases[] = {
	    {"Bearer realm=\"https://x/t\\\"oken\",service=\"a\\\\b\"", "bearer",
	     "https://x/t\"oken", "a\\b", NULL, NULL},
	    {"Bearer realm=\"\\a\\b\\c\"", "bearer", "abc", NULL, NULL, NULL},
	};
	run_challenge_table(cases, SL_ARRAY_SIZE(cases));
}

static void challenge_parses_basic_realm(void **state)
{
	(void)state;
	static const struct challenge_case cases[] = {
	    {"Basic realm=\"Registry Realm\"", "basic", "Registry Realm", NULL, NULL, NULL},
	    {"Basic", "basic", NULL, NULL, NULL, NULL},
	    {"basic realm=x", "basic", "x", NULL, NULL, NULL},
	};
	run_challenge_table(cases, SL_ARRAY_SIZE(cases));
}

static void challenge_scheme_and_param_names_are_case_insensitive(void **state)
{
	(void)state;
	static const struct challenge_case cases[] = {
	    {"BEARER Realm=\"r\",SERVICE=\"s\",Scope=\"x\"", "bearer", "r", "s", "x", NULL},
	    {"bAsIc REALM=\"r\"", "basic", "r", NULL, NULL, NULL},
	};
	run_challenge_table(cases, SL_ARRAY_SIZE(cases));
}

static void challenge_tolerates_whitespace_and_empty_list_elements(void **state)
{
	(void)state;
	static const struct challenge_case cases[] = {
	    {"  Bearer   realm = \"r\" ,  service =\t\"s\"  ", "bearer", "r", "s", NULL, NULL},
	    {"Bearer realm=\"r\",, ,service=\"s\"", "bearer", "r", "s", NULL, NULL},
	    {"Bearer realm=\"r\",foo=\"bar\",service=\"s\"", "bearer", "r", "s", NULL, NULL},
	};
	run_challenge_table(cases, SL_ARRAY_SIZE(cases));
}

/* Only the first challenge counts; a second one's params must not leak in. */
static void challenge_takes_the_first_of_several(void **state)
{
	(void)state;
	static const struct challenge_case cases[] = {
	    {"Basic realm=\"first\", Bearer realm=\"second\",service=\"s\"", "basic", "first", NULL,
	     NULL, NULL},
	    {"Bearer realm=\"a\",service=\"b\", Basic realm=\"c\"", "bearer", "a", "b", NULL, NULL},
	    {"Basic, Bearer realm=\"evil\"", "basic", NULL, NULL, NULL, NULL},
	    {"Newauth realm=\"apps\", type=1, title=\"Login\", Basic realm=\"simple\"", "newauth",
	     "apps", NULL, NULL, NULL},
	};
	run_challenge_table(cases, SL_ARRAY_SIZE(cases));
}

static void challenge_rejects_empty_and_unterminated_headers(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "",
	    "   ",
	    "\t",
	    ",",
	    "Bearer realm=\"unterminated",
	    "Bearer realm=\"ends with backslash\\",
	    "Bearer realm=\"r\",service=\"",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		struct sl_auth_challenge ch;
		memset(&ch, 0x5a, sizeof(ch));
		struct sl_auth_challenge copy = ch;
		struct sl_error err = {0};
		int r = sl_auth_challenge_parse(bad[i], &ch, &err);
		if (r == 0) {
			sl_auth_challenge_clear(&ch);
			fail_msg("accepted \"%s\"", bad[i]);
		}
		assert_int_equal(r, SL_EINVAL);
		assert_memory_equal(&ch, &copy, sizeof(ch));
	}
}

/* Garbage never yields a usable challenge: either an error, or a scheme
 * that is neither basic nor bearer and no realm to send credentials to. */
static void challenge_garbage_yields_nothing_usable(void **state)
{
	(void)state;
	static const char *garbage[] = {
	    "realm=\"https://evil/token\"",
	    "\"Bearer\" realm=\"https://evil/token\"",
	    "=",
	    "==",
	    "\x01\x02\x03",
	    "Bearer=realm",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(garbage); i++) {
		struct sl_auth_challenge ch = {0};
		struct sl_error err = {0};
		if (sl_auth_challenge_parse(garbage[i], &ch, &err) < 0)
			continue;
		bool usable =
		    (strcmp(ch.scheme, "bearer") == 0 || strcmp(ch.scheme, "basic") == 0) &&
		    ch.realm != NULL;
		char scheme[128];
		snprintf(scheme, sizeof(scheme), "%s", ch.scheme);
		sl_auth_challenge_clear(&ch);
		if (usable)
			fail_msg("\"%s\" parsed as a usable %s challenge", garbage[i], scheme);
	}
}

static void challenge_caps_param_values(void **state)
{
	(void)state;
	size_t n = 20000;
	char *header = malloc(n + 64);
	int off = snprintf(header, n + 64, "Bearer realm=\"");
	memset(header + off, 'r', n);
	strcpy(header + off + n, "\"");
	struct sl_auth_challenge ch = {0};
	struct sl_error err = {0};
	int r = sl_auth_challenge_parse(header, &ch, &err);
	free(header);
	if (r == 0)
		sl_auth_challenge_clear(&ch);
	assert_int_equal(r, SL_ELIMIT);
}

static void challenge_clear_is_idempotent(void **state)
{
	(void)state;
	struct sl_auth_challenge ch = {0};
	struct sl_error err = {0};
	assert_int_equal(sl_auth_challenge_parse("Bearer realm=\"r\"", &ch, &err), 0);
	sl_auth_challenge_clear(&ch);
	assert_null(ch.scheme);
	sl_auth_challenge_clear(&ch);
}

/* ---- --creds ---------------------------------------------------------- */

static void creds_flag_user_colon_pass_is_basic(void **state)
{
	(void)state;
	struct sl_creds c;
	sl_creds_from_flag("user:pass", &c);
	assert_string_equal(c.username, "user");
	assert_string_equal(c.password, "pass");
	assert_null(c.registry_token);
	assert_null(c.identity_token);
	assert_false(sl_creds_empty(&c));
	sl_creds_clear(&c);

	/* split on the first ':' only */
	sl_creds_from_flag("user:pa:ss", &c);
	assert_string_equal(c.username, "user");
	assert_string_equal(c.password, "pa:ss");
	sl_creds_clear(&c);
}

static void creds_flag_without_colon_is_a_registry_token(void **state)
{
	(void)state;
	struct sl_creds c;
	sl_creds_from_flag("ghp_token123", &c);
	assert_string_equal(c.registry_token, "ghp_token123");
	assert_null(c.username);
	assert_null(c.password);
	assert_false(sl_creds_empty(&c));
	sl_creds_clear(&c);
}

/* go-containerregistry sends Basic only with both parts: "user:" and
 * ":pass" are anonymous. */
static void creds_flag_with_an_empty_part_is_anonymous(void **state)
{
	(void)state;
	static const char *anonymous[] = {"user:", ":pass", ":", ""};
	for (size_t i = 0; i < SL_ARRAY_SIZE(anonymous); i++) {
		struct sl_creds c;
		memset(&c, 0x5a, sizeof(c));
		sl_creds_from_flag(anonymous[i], &c);
		if (!sl_creds_empty(&c) || c.username || c.password || c.registry_token ||
		    c.identity_token)
			fail_msg("\"%s\" is not anonymous", anonymous[i]);
		sl_creds_clear(&c);
	}
	struct sl_creds c;
	sl_creds_from_flag(NULL, &c);
	assert_true(sl_creds_empty(&c));
}

static void creds_empty_needs_a_complete_credential(void **state)
{
	(void)state;
	assert_true(sl_creds_empty(NULL));
	struct sl_creds c = {0};
	assert_true(sl_creds_empty(&c));
	c.username = "u";
	assert_true(sl_creds_empty(&c));
	c.password = "p";
	assert_false(sl_creds_empty(&c));
	struct sl_creds t = {.identity_token = "x"};
	assert_false(sl_creds_empty(&t));
	struct sl_creds r = {.registry_token = "x"};
	assert_false(sl_creds_empty(&r));
}

/* ---- docker config: parsing -------------------------------------------- */

#define B64_USER_PASS  "dXNlcjpwYXNz"     /* user:pass */
#define B64_USER_PA_SS "dXNlcjpwYTpzcw==" /* user:pa:ss */

struct lookup {
	int r;
	struct sl_creds creds;
	char *helper;
	struct sl_error err;
};

static void do_lookup(const char *json, const char *key, struct lookup *l)
{
	memset(l, 0, sizeof(*l));
	l->r = sl_docker_config_lookup(json, strlen(json), key, &l->creds, &l->helper, &l->err);
}

static void lookup_clear(struct lookup *l)
{
	sl_creds_clear(&l->creds);
	free(l->helper);
	l->helper = NULL;
}

static void docker_config_decodes_base64_auth(void **state)
{
	(void)state;
	struct lookup l;
	do_lookup("{\"auths\":{\"ghcr.io\":{\"auth\":\"" B64_USER_PASS "\"}}}", "ghcr.io", &l);
	assert_int_equal(l.r, 0);
	assert_null(l.helper);
	assert_string_equal(l.creds.username, "user");
	assert_string_equal(l.creds.password, "pass");
	lookup_clear(&l);

	do_lookup("{\"auths\":{\"ghcr.io\":{\"auth\":\"" B64_USER_PA_SS "\"}}}", "ghcr.io", &l);
	assert_int_equal(l.r, 0);
	assert_string_equal(l.creds.username, "user");
	assert_string_equal(l.creds.password, "pa:ss");
	lookup_clear(&l);
}

static void docker_config_reads_username_and_password_fields(void **state)
{
	(void)state;
	struct lookup l;
	do_lookup("{\"auths\":{\"ghcr.io\":{\"username\":\"u\",\"password\":\"p\"}}}", "ghcr.io",
	          &l);
	assert_int_equal(l.r, 0);
	assert_string_equal(l.creds.username, "u");
	assert_string_equal(l.creds.password, "p");
	lookup_clear(&l);

	/* an empty "auth" does not hide the explicit fields */
	do_lookup("{\"auths\":{\"ghcr.io\":{\"auth\":\"\",\"username\":\"u\",\"password\":\"p\"}}}",
	          "ghcr.io", &l);
	assert_int_equal(l.r, 0);
	assert_string_equal(l.creds.username, "u");
	lookup_clear(&l);
}

static void docker_config_reads_identity_tokens(void **state)
{
	(void)state;
	struct lookup l;
	do_lookup("{\"auths\":{\"r.example\":{\"auth\":\"" B64_USER_PASS
	          "\",\"identitytoken\":\"refresh-me\"}}}",
	          "r.example", &l);
	assert_int_equal(l.r, 0);
	assert_string_equal(l.creds.identity_token, "refresh-me");
	assert_string_equal(l.creds.username, "user");
	lookup_clear(&l);

	do_lookup("{\"auths\":{\"r.example\":{\"identitytoken\":\"only\"}}}", "r.example", &l);
	assert_int_equal(l.r, 0);
	assert_string_equal(l.creds.identity_token, "only");
	assert_false(sl_creds_empty(&l.creds));
	lookup_clear(&l);
}

static void docker_config_matches_keys_by_hostname(void **state)
{
	(void)state;
	static const struct {
		const char *auth_key;
		const char *lookup_key;
	} cases[] = {
	    {"https://index.docker.io/v1/", "https://index.docker.io/v1/"},
	    {"https://ghcr.io/v1/", "ghcr.io"},
	    {"https://ghcr.io", "ghcr.io"},
	    {"http://localhost:5000", "localhost:5000"},
	    {"https://registry.example.com:8443/v2/", "registry.example.com:8443"},
	    {"ghcr.io/org/app", "ghcr.io/org/app"},
	    {"ghcr.io/org/app", "ghcr.io"}, /* docker strips the path too */
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		char json[512];
		snprintf(json, sizeof(json),
		         "{\"auths\":{\"%s\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		         cases[i].auth_key);
		struct lookup l;
		do_lookup(json, cases[i].lookup_key, &l);
		bool ok = l.r == 0 && l.creds.username && strcmp(l.creds.username, "user") == 0;
		lookup_clear(&l);
		if (!ok)
			fail_msg("auths key \"%s\" not found for \"%s\"", cases[i].auth_key,
			         cases[i].lookup_key);
	}
}

static void docker_config_hostname_match_needs_the_same_host_and_port(void **state)
{
	(void)state;
	static const struct {
		const char *auth_key;
		const char *lookup_key;
	} cases[] = {
	    {"https://ghcr.io.evil.com/v1/", "ghcr.io"},
	    {"https://evil.com/ghcr.io", "ghcr.io"},
	    {"localhost:5000", "localhost"},
	    {"localhost", "localhost:5000"},
	    {"ghcr.io", "ghcr.io/org/app"},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		char json[512];
		snprintf(json, sizeof(json),
		         "{\"auths\":{\"%s\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		         cases[i].auth_key);
		struct lookup l;
		do_lookup(json, cases[i].lookup_key, &l);
		bool leaked = l.creds.username != NULL;
		lookup_clear(&l);
		if (leaked)
			fail_msg("auths key \"%s\" used for \"%s\"", cases[i].auth_key,
			         cases[i].lookup_key);
	}
}

static void docker_config_exact_key_wins_over_hostname_match(void **state)
{
	(void)state;
	struct lookup l;
	do_lookup(
	    "{\"auths\":{\"https://ghcr.io/v1/\":{\"username\":\"legacy\",\"password\":\"p\"},"
	    "\"ghcr.io\":{\"username\":\"exact\",\"password\":\"p\"}}}",
	    "ghcr.io", &l);
	assert_int_equal(l.r, 0);
	assert_string_equal(l.creds.username, "exact");
	lookup_clear(&l);
}

static void docker_config_without_a_match_is_anonymous(void **state)
{
	(void)state;
	static const char *docs[] = {
	    "{}",
	    "{\"auths\":{}}",
	    "{\"auths\":{\"other.io\":{\"auth\":\"" B64_USER_PASS "\"}}}",
	    "{\"auths\":[]}",
	    "{\"credHelpers\":{\"other.io\":\"gcloud\"}}",
	    "{\"auths\":{\"ghcr.io\":{}}}",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(docs); i++) {
		struct lookup l;
		do_lookup(docs[i], "ghcr.io", &l);
		if (l.r != 0 || l.helper || !sl_creds_empty(&l.creds))
			fail_msg("%s: r=%d helper=%s", docs[i], l.r, l.helper ? l.helper : "-");
		lookup_clear(&l);
	}
}

static void docker_config_cred_helper_for_the_key_wins(void **state)
{
	(void)state;
	struct lookup l;
	const char *doc =
	    "{\"credsStore\":\"desktop\","
	    "\"credHelpers\":{\"123.dkr.ecr.us-east-1.amazonaws.com\":\"ecr-login\"},"
	    "\"auths\":{\"123.dkr.ecr.us-east-1.amazonaws.com\":{\"auth\":\"" B64_USER_PASS "\"}}}";
	do_lookup(doc, "123.dkr.ecr.us-east-1.amazonaws.com", &l);
	assert_int_equal(l.r, 0);
	assert_string_equal(l.helper, "ecr-login");
	assert_true(sl_creds_empty(&l.creds));
	lookup_clear(&l);

	/* another key falls back to the store */
	do_lookup(doc, "ghcr.io", &l);
	assert_int_equal(l.r, 0);
	assert_string_equal(l.helper, "desktop");
	lookup_clear(&l);
}

/* docker: a configured store serves every key, even one also in auths. */
static void docker_config_creds_store_wins_over_auths(void **state)
{
	(void)state;
	struct lookup l;
	do_lookup("{\"credsStore\":\"pass\",\"auths\":{\"ghcr.io\":{\"auth\":\"" B64_USER_PASS
	          "\"}}}",
	          "ghcr.io", &l);
	assert_int_equal(l.r, 0);
	assert_string_equal(l.helper, "pass");
	assert_null(l.creds.username);
	lookup_clear(&l);
}

/* docker: credHelpers[key] == "" selects the file store, not credsStore. */
static void docker_config_empty_cred_helper_means_the_auths_file(void **state)
{
	(void)state;
	struct lookup l;
	do_lookup("{\"credsStore\":\"desktop\",\"credHelpers\":{\"ghcr.io\":\"\"},"
	          "\"auths\":{\"ghcr.io\":{\"auth\":\"" B64_USER_PASS "\"}}}",
	          "ghcr.io", &l);
	assert_int_equal(l.r, 0);
	assert_null(l.helper);
	assert_string_equal(l.creds.username, "user");
	lookup_clear(&l);
}

static void docker_config_rejects_invalid_json(void **state)
{
	(void)state;
	static const char *bad[] = {"", "{", "not json", "[]", "\"x\"", "{\"auths\":{}} x"};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		struct lookup l;
		do_lookup(bad[i], "ghcr.io", &l);
		if (l.r != SL_EINVAL)
			fail_msg("\"%s\": r=%d", bad[i], l.r);
		assert_null(l.helper);
		assert_true(sl_creds_empty(&l.creds));
		lookup_clear(&l);
	}
}

static void docker_config_rejects_invalid_auth_entries(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "{\"auths\":{\"ghcr.io\":{\"auth\":\"!!!notbase64\"}}}",
	    "{\"auths\":{\"ghcr.io\":{\"auth\":\"dXNlcg\"}}}",               /* bad padding */
	    "{\"auths\":{\"ghcr.io\":{\"auth\":\"bm9jb2xvbnNlY3JldA==\"}}}", /* nocolonsecret */
	    "{\"auths\":{\"ghcr.io\":{\"auth\":\"OnNlY3JldHBhc3M=\"}}}",     /* :secretpass */
	    "{\"auths\":{\"ghcr.io\":\"" B64_USER_PASS "\"}}",
	    "{\"auths\":{\"ghcr.io\":[]}}",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		struct lookup l;
		do_lookup(bad[i], "ghcr.io", &l);
		if (l.r != SL_EINVAL)
			fail_msg("%s: r=%d", bad[i], l.r);
		/* nothing secret in the message */
		if (strstr(l.err.msg, "secret") || strstr(l.err.msg, B64_USER_PASS))
			fail_msg("%s: message leaks the secret: %s", bad[i], l.err.msg);
		assert_true(sl_creds_empty(&l.creds));
		lookup_clear(&l);
	}
}

static void docker_config_rejects_unsafe_helper_names(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "../../bin/sh", "a/b", "x y", "a;b", "$(id)", "\xc3\xa9", "a\nb", "`id`",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		json_t *doc = json_pack("{s:{s:s}}", "credHelpers", "ghcr.io", bad[i]);
		char *text = json_dumps(doc, 0);
		json_decref(doc);
		struct lookup l;
		do_lookup(text, "ghcr.io", &l);
		free(text);
		if (l.r != SL_EINVAL || l.helper) {
			lookup_clear(&l);
			fail_msg("helper name \"%s\" accepted", bad[i]);
		}
		lookup_clear(&l);

		doc = json_pack("{s:s}", "credsStore", bad[i]);
		text = json_dumps(doc, 0);
		json_decref(doc);
		do_lookup(text, "ghcr.io", &l);
		free(text);
		if (l.r != SL_EINVAL || l.helper) {
			lookup_clear(&l);
			fail_msg("credsStore \"%s\" accepted", bad[i]);
		}
		lookup_clear(&l);
	}
}

static void docker_config_accepts_real_helper_names(void **state)
{
	(void)state;
	static const char *good[] = {"desktop", "ecr-login",     "gcloud",  "osxkeychain",
	                             "pass",    "secretservice", "acr-env", "my_helper.v2"};
	for (size_t i = 0; i < SL_ARRAY_SIZE(good); i++) {
		char json[256];
		snprintf(json, sizeof(json), "{\"credsStore\":\"%s\"}", good[i]);
		struct lookup l;
		do_lookup(json, "ghcr.io", &l);
		bool ok = l.r == 0 && l.helper && strcmp(l.helper, good[i]) == 0;
		lookup_clear(&l);
		if (!ok)
			fail_msg("helper \"%s\" refused", good[i]);
	}
}

/* ---- docker config: the keychain with files and helpers ----------------- */

struct env_fixture {
	char *dir;
	char *saved[5];
};

static const char *env_names[] = {"HOME", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR",
                                  "PATH"};

static int keychain_setup(void **state)
{
	struct env_fixture *f = calloc(1, sizeof(*f));
	void *dir = NULL;
	if (tl_setup_tmpdir(&dir) < 0)
		return -1;
	f->dir = dir;
	for (size_t i = 0; i < SL_ARRAY_SIZE(env_names); i++) {
		const char *v = getenv(env_names[i]);
		f->saved[i] = v ? strdup(v) : NULL;
	}
	/* HOME without a .docker, nothing else configured */
	setenv("HOME", f->dir, 1);
	unsetenv("DOCKER_CONFIG");
	unsetenv("REGISTRY_AUTH_FILE");
	unsetenv("XDG_RUNTIME_DIR");
	*state = f;
	return 0;
}

static int keychain_teardown(void **state)
{
	struct env_fixture *f = *state;
	for (size_t i = 0; i < SL_ARRAY_SIZE(env_names); i++) {
		if (f->saved[i])
			setenv(env_names[i], f->saved[i], 1);
		else
			unsetenv(env_names[i]);
		free(f->saved[i]);
	}
	void *dir = f->dir;
	tl_teardown_tmpdir(&dir);
	free(f);
	return 0;
}

/* Writes <dir>/docker/config.json and points DOCKER_CONFIG at it. */
static void write_docker_config(struct env_fixture *f, const char *json)
{
	char *cfg_dir = tl_own(tl_path(f->dir, "docker"));
	mkdir(cfg_dir, 0700);
	char *cfg = tl_own(tl_path(cfg_dir, "config.json"));
	tl_write_file(cfg, json, strlen(json));
	setenv("DOCKER_CONFIG", cfg_dir, 1);
}

/* Installs docker-credential-<name> as a shell script in <dir>/bin, first
 * on PATH. The script logs each server URL it is asked about. */
static void install_helper(struct env_fixture *f, const char *name, const char *body)
{
	char *bin = tl_own(tl_path(f->dir, "bin"));
	mkdir(bin, 0700);
	char file[64];
	snprintf(file, sizeof(file), "docker-credential-%s", name);
	char *path = tl_own(tl_path(bin, file));
	char *log = tl_own(tl_path(f->dir, "helper.log"));
	char script[2048];
	snprintf(script, sizeof(script),
	         "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nread -r server\n"
	         "echo \"$server\" >> '%s'\n%s\n",
	         log, body);
	tl_write_file(path, script, strlen(script));
	chmod(path, 0755);
	char pathvar[4096];
	snprintf(pathvar, sizeof(pathvar), "%s:%s", bin,
	         f->saved[4] ? f->saved[4] : "/usr/bin:/bin");
	setenv("PATH", pathvar, 1);
}

static char *helper_log(struct env_fixture *f)
{
	char *log = tl_own(tl_path(f->dir, "helper.log"));
	size_t len = 0;
	unsigned char *data = tl_read_file(log, &len);
	return data ? (char *)data : strdup("");
}

static void parse_ref(const char *url, struct sl_oci_ref *ref)
{
	struct sl_error err = {0};
	if (sl_oci_ref_parse(url, ref, &err) != 0)
		fail_msg("%s: %s", url, err.msg);
}

static void keychain_without_config_is_anonymous(void **state)
{
	(void)state;
	struct sl_oci_ref ref = {0};
	parse_ref("oci://ghcr.io/org/app:v1", &ref);
	struct sl_creds c;
	struct sl_error err = {0};
	assert_int_equal(sl_creds_from_docker_config(&ref, &c, &err), 0);
	assert_true(sl_creds_empty(&c));
	sl_oci_ref_clear(&ref);
}

static void keychain_reads_auths_for_the_registry(void **state)
{
	struct env_fixture *f = *state;
	write_docker_config(f, "{\"auths\":{\"ghcr.io\":{\"auth\":\"" B64_USER_PASS "\"}}}");
	struct sl_oci_ref ref = {0};
	parse_ref("oci://ghcr.io/org/app:v1", &ref);
	struct sl_creds c;
	struct sl_error err = {0};
	if (sl_creds_from_docker_config(&ref, &c, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(c.username, "user");
	assert_string_equal(c.password, "pass");
	sl_creds_clear(&c);
	sl_oci_ref_clear(&ref);
}

static void keychain_prefers_the_repository_key(void **state)
{
	struct env_fixture *f = *state;
	write_docker_config(f, "{\"auths\":{\"ghcr.io\":{\"username\":\"host\",\"password\":\"p\"},"
	                       "\"ghcr.io/org/app\":{\"username\":\"repo\",\"password\":\"p\"}}}");
	struct sl_oci_ref ref = {0};
	parse_ref("oci://ghcr.io/org/app:v1", &ref);
	struct sl_creds c;
	struct sl_error err = {0};
	assert_int_equal(sl_creds_from_docker_config(&ref, &c, &err), 0);
	assert_string_equal(c.username, "repo");
	sl_creds_clear(&c);
	sl_oci_ref_clear(&ref);
}

static void keychain_uses_the_docker_hub_key_for_docker_io(void **state)
{
	struct env_fixture *f = *state;
	write_docker_config(
	    f, "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"" B64_USER_PASS "\"}}}");
	struct sl_oci_ref ref = {0};
	parse_ref("oci://docker.io/nginx:1", &ref);
	struct sl_creds c;
	struct sl_error err = {0};
	assert_int_equal(sl_creds_from_docker_config(&ref, &c, &err), 0);
	assert_string_equal(c.username, "user");
	sl_creds_clear(&c);
	sl_oci_ref_clear(&ref);
}

static void keychain_reports_invalid_json_with_the_file_name(void **state)
{
	struct env_fixture *f = *state;
	write_docker_config(f, "{not json");
	struct sl_oci_ref ref = {0};
	parse_ref("oci://ghcr.io/org/app:v1", &ref);
	struct sl_creds c;
	struct sl_error err = {0};
	assert_int_equal(sl_creds_from_docker_config(&ref, &c, &err), SL_EINVAL);
	assert_non_null(strstr(err.msg, "config.json"));
	sl_oci_ref_clear(&ref);
}

/* spec §5.2: DOCKER_CONFIG pointing at a directory without config.json is
 * anonymous even when ~/.docker/config.json exists: no fallback. */
static void keychain_docker_config_dir_without_file_is_anonymous(void **state)
{
	struct env_fixture *f = *state;
	char *home_docker = tl_own(tl_path(f->dir, ".docker"));
	mkdir(home_docker, 0700);
	char *home_cfg = tl_own(tl_path(home_docker, "config.json"));
	const char *json = "{\"auths\":{\"ghcr.io\":{\"auth\":\"" B64_USER_PASS "\"}}}";
	tl_write_file(home_cfg, json, strlen(json));
	char *empty = tl_own(tl_path(f->dir, "empty"));
	mkdir(empty, 0700);
	setenv("DOCKER_CONFIG", empty, 1);
	struct sl_oci_ref ref = {0};
	parse_ref("oci://ghcr.io/org/app:v1", &ref);
	struct sl_creds c;
	struct sl_error err = {0};
	assert_int_equal(sl_creds_from_docker_config(&ref, &c, &err), 0);
	assert_true(sl_creds_empty(&c));
	sl_creds_clear(&c);
	sl_oci_ref_clear(&ref);
}

static void keychain_runs_the_helper_for_repository_then_registry(void **state)
{
	struct env_fixture *f = *state;
	write_docker_config(f, "{\"credHelpers\":{\"ghcr.io/org/app\":\"sltest\","
	                       "\"ghcr.io\":\"sltest\"}}");
	install_helper(
	    f, "sltest",
	    "if [ \"$server\" = ghcr.io ]; then\n"
	    "  echo '{\"ServerURL\":\"ghcr.io\",\"Username\":\"hu\",\"Secret\":\"hs\"}'\n"
	    "else\n  echo 'credentials not found in native keychain'; exit 1\nfi");
	struct sl_oci_ref ref = {0};
	parse_ref("oci://ghcr.io/org/app:v1", &ref);
	struct sl_creds c;
	struct sl_error err = {0};
	if (sl_creds_from_docker_config(&ref, &c, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(c.username, "hu");
	assert_string_equal(c.password, "hs");
	char *log = tl_own(helper_log(f));
	assert_string_equal(log, "ghcr.io/org/app\nghcr.io\n");
	sl_creds_clear(&c);
	sl_oci_ref_clear(&ref);
}

static void keychain_helper_token_user_means_identity_token(void **state)
{
	struct env_fixture *f = *state;
	write_docker_config(f, "{\"credsStore\":\"sltest\"}");
	install_helper(
	    f, "sltest",
	    "echo '{\"ServerURL\":\"x\",\"Username\":\"<token>\",\"Secret\":\"refresh\"}'");
	struct sl_oci_ref ref = {0};
	parse_ref("oci://ghcr.io/org/app:v1", &ref);
	struct sl_creds c;
	struct sl_error err = {0};
	if (sl_creds_from_docker_config(&ref, &c, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(c.identity_token, "refresh");
	assert_null(c.username);
	assert_null(c.password);
	sl_creds_clear(&c);
	sl_oci_ref_clear(&ref);
}

static void keychain_helper_not_found_everywhere_is_anonymous(void **state)
{
	struct env_fixture *f = *state;
	write_docker_config(f, "{\"credsStore\":\"sltest\"}");
	install_helper(f, "sltest", "echo 'credentials not found in native keychain'; exit 1");
	struct sl_oci_ref ref = {0};
	parse_ref("oci://ghcr.io/org/app:v1", &ref);
	struct sl_creds c;
	struct sl_error err = {0};
	assert_int_equal(sl_creds_from_docker_config(&ref, &c, &err), 0);
	assert_true(sl_creds_empty(&c));
	sl_oci_ref_clear(&ref);
}

static void keychain_helper_failure_is_an_auth_error(void **state)
{
	struct env_fixture *f = *state;
	write_docker_config(f, "{\"credsStore\":\"sltest\"}");
	install_helper(f, "sltest", "echo 'keychain is locked'; exit 2");
	struct sl_oci_ref ref = {0};
	parse_ref("oci://ghcr.io/org/app:v1", &ref);
	struct sl_creds c;
	struct sl_error err = {0};
	assert_int_equal(sl_creds_from_docker_config(&ref, &c, &err), SL_EAUTH);
	assert_non_null(strstr(err.msg, "docker-credential-sltest"));
	assert_non_null(strstr(err.msg, "keychain is locked"));
	sl_oci_ref_clear(&ref);
}

static void keychain_missing_helper_is_an_error(void **state)
{
	struct env_fixture *f = *state;
	write_docker_config(f, "{\"credsStore\":\"sluice-no-such-helper\"}");
	struct sl_oci_ref ref = {0};
	parse_ref("oci://ghcr.io/org/app:v1", &ref);
	struct sl_creds c;
	struct sl_error err = {0};
	assert_true(sl_creds_from_docker_config(&ref, &c, &err) < 0);
	assert_non_null(strstr(err.msg, "docker-credential-sluice-no-such-helper"));
	sl_oci_ref_clear(&ref);
}

int main(void)
{
#define K(f) cmocka_unit_test_setup_teardown(f, keychain_setup, keychain_teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(challenge_parses_bearer_with_quoted_params),
	    cmocka_unit_test(challenge_parses_unquoted_token_values),
	    cmocka_unit_test(challenge_unescapes_quoted_pairs),
	    cmocka_unit_test(challenge_parses_basic_realm),
	    cmocka_unit_test(challenge_scheme_and_param_names_are_case_insensitive),
	    cmocka_unit_test(challenge_tolerates_whitespace_and_empty_list_elements),
	    cmocka_unit_test(challenge_takes_the_first_of_several),
	    cmocka_unit_test(challenge_rejects_empty_and_unterminated_headers),
	    cmocka_unit_test(challenge_garbage_yields_nothing_usable),
	    cmocka_unit_test(challenge_caps_param_values),
	    cmocka_unit_test(challenge_clear_is_idempotent),
	    cmocka_unit_test(creds_flag_user_colon_pass_is_basic),
	    cmocka_unit_test(creds_flag_without_colon_is_a_registry_token),
	    cmocka_unit_test(creds_flag_with_an_empty_part_is_anonymous),
	    cmocka_unit_test(creds_empty_needs_a_complete_credential),
	    cmocka_unit_test(docker_config_decodes_base64_auth),
	    cmocka_unit_test(docker_config_reads_username_and_password_fields),
	    cmocka_unit_test(docker_config_reads_identity_tokens),
	    cmocka_unit_test(docker_config_matches_keys_by_hostname),
	    cmocka_unit_test(docker_config_hostname_match_needs_the_same_host_and_port),
	    cmocka_unit_test(docker_config_exact_key_wins_over_hostname_match),
	    cmocka_unit_test(docker_config_without_a_match_is_anonymous),
	    cmocka_unit_test(docker_config_cred_helper_for_the_key_wins),
	    cmocka_unit_test(docker_config_creds_store_wins_over_auths),
	    cmocka_unit_test(docker_config_empty_cred_helper_means_the_auths_file),
	    cmocka_unit_test(docker_config_rejects_invalid_json),
	    cmocka_unit_test(docker_config_rejects_invalid_auth_entries),
	    cmocka_unit_test(docker_config_rejects_unsafe_helper_names),
	    cmocka_unit_test(docker_config_accepts_real_helper_names),
	    K(keychain_without_config_is_anonymous),
	    K(keychain_reads_auths_for_the_registry),
	    K(keychain_prefers_the_repository_key),
	    K(keychain_uses_the_docker_hub_key_for_docker_io),
	    K(keychain_reports_invalid_json_with_the_file_name),
	    K(keychain_docker_config_dir_without_file_is_anonymous),
	    K(keychain_runs_the_helper_for_repository_then_registry),
	    K(keychain_helper_token_user_means_identity_token),
	    K(keychain_helper_not_found_everywhere_is_anonymous),
	    K(keychain_helper_failure_is_an_auth_error),
	    K(keychain_missing_helper_is_an_error),
	};
#undef K
	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
