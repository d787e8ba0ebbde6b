/* sl_semver_parse and sl_semver_constraint_parse: the input up to the first
 * NUL is one text, the rest another (the same text twice when there is no
 * NUL); each is parsed as a version and as a constraint. Failures must say
 * why and leave the out-parameter alone; precedence must be reflexive and
 * antisymmetric; a version must satisfy the constraints built from it by
 * the operators that include it, and fail those that exclude it. */
#include "codec/codec.h"
#include "fuzz.h"

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static bool parse_version(const char *text, struct sl_semver *ret)
{
	struct sl_semver v, sentinel;
	memset(&v, 0xa5, sizeof(v));
	memcpy(&sentinel, &v, sizeof(v));
	struct sl_error err = {0};
	int r = sl_semver_parse(text, &v, &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, err);
		FUZZ_CHECK(memcmp(&v, &sentinel, sizeof(v)) == 0);
		FUZZ_CHECK(!sl_semver_is_flux_version(text));
		return false;
	}
	FUZZ_CHECK(r == 0);
	FUZZ_CHECK(strlen(text) <= SL_SEMVER_MAX_VERSION_BYTES);
	FUZZ_CHECK(strcmp(v.original, text) == 0);
	FUZZ_CHECK(!v.pre || (*v.pre && strstr(text, v.pre)));
	FUZZ_CHECK(!v.meta || (*v.meta && strstr(text, v.meta)));
	FUZZ_CHECK(sl_semver_compare(&v, &v) == 0);
	const char *dot = strchr(text, '.');
	FUZZ_CHECK(sl_semver_is_flux_version(text) == (dot && strchr(dot + 1, '.')));
	*ret = v;
	return true;
}

static struct sl_semver_constraint *parse_constraint(const char *text)
{
	struct sl_semver_constraint *sentinel = (struct sl_semver_constraint *)&sentinel;
	struct sl_semver_constraint *c = sentinel;
	struct sl_error err = {0};
	int r = sl_semver_constraint_parse(text, &c, &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, err);
		FUZZ_CHECK(c == sentinel);
		return NULL;
	}
	FUZZ_CHECK(r == 0 && c != NULL && c != sentinel);
	FUZZ_CHECK(strlen(text) <= SL_SEMVER_MAX_CONSTRAINT_BYTES);
	return c;
}

/* Every version text is also a constraint version; with room for the
 * ".0.0" a partial version grows by, "<op><text>" parses. */
static void check_built_constraints(const struct sl_semver *v)
{
	static const struct {
		const char *op;
		bool includes;
	} ops[] = {
	    {"", true},  {"=", true},  {">=", true}, {"=>", true},  {"<=", true}, {"=<", true},
	    {"~", true}, {"~>", true}, {"^", true},  {"!=", false}, {"<", false}, {">", false},
	};
	if (strlen(v->original) > SL_SEMVER_MAX_VERSION_BYTES - 4)
		return;
	for (size_t i = 0; i < SL_ARRAY_SIZE(ops); i++) {
		_cleanup_free_ char *text = sl_asprintf("%s%s", ops[i].op, v->original);
		struct sl_semver_constraint *c = parse_constraint(text);
		if (!c)
			fprintf(stderr, "fuzz: constraint %s does not parse\n", text);
		FUZZ_CHECK(c != NULL);
		if (sl_semver_constraint_check(c, v) != ops[i].includes)
			fprintf(stderr, "fuzz: %s %s %s\n", text,
			        ops[i].includes ? "rejects" : "accepts", v->original);
		FUZZ_CHECK(sl_semver_constraint_check(c, v) == ops[i].includes);
		sl_semver_constraint_free(c);
	}
}

static void check_against(const struct sl_semver_constraint *c, const struct sl_semver *v)
{
	static const char *fixed[] = {"0.0.0", "1.2.3", "1.2.3-rc.1", "2.0.0-0", "v10.20.30+b"};
	if (!c)
		return;
	if (v)
		(void)sl_semver_constraint_check(c, v);
	for (size_t i = 0; i < SL_ARRAY_SIZE(fixed); i++) {
		struct sl_semver f;
		FUZZ_CHECK(sl_semver_parse(fixed[i], &f, NULL) == 0);
		(void)sl_semver_constraint_check(c, &f);
		sl_semver_clear(&f);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	const uint8_t *nul = memchr(data, '\0', size);
	size_t a_len = nul ? (size_t)(nul - data) : size;
	_cleanup_free_ char *a = fuzz_cstr(data, a_len);
	_cleanup_free_ char *b = nul ? fuzz_cstr(nul + 1, size - a_len - 1) : sl_strdup(a);

	struct sl_semver va = {0}, vb = {0};
	bool has_a = parse_version(a, &va);
	bool has_b = parse_version(b, &vb);
	if (has_a && has_b) {
		int ab = sign(sl_semver_compare(&va, &vb));
		FUZZ_CHECK(ab == -sign(sl_semver_compare(&vb, &va)));
	}
	if (has_a)
		check_built_constraints(&va);

	struct sl_semver_constraint *ca = parse_constraint(a);
	struct sl_semver_constraint *cb = parse_constraint(b);
	check_against(cb, has_a ? &va : NULL);
	check_against(ca, has_b ? &vb : NULL);

	const char *tags[] = {a, b};
	size_t index = SIZE_MAX;
	int r = sl_semver_latest(tags, 2, cb, &index);
	FUZZ_CHECK(r == 0 || r == SL_ENOTFOUND);
	if (r == 0) {
		FUZZ_CHECK(index < 2);
		FUZZ_CHECK(sl_semver_is_flux_version(tags[index]));
	} else {
		FUZZ_CHECK(index == SIZE_MAX);
	}

	sl_semver_constraint_free(ca);
	sl_semver_constraint_free(cb);
	sl_semver_clear(&va);
	sl_semver_clear(&vb);
	sl_semver_clear(&va); /* clearing twice is harmless */
	return 0;
}
