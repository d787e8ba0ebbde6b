/* semver: Masterminds/semver v3.5 versions and constraints with fluxcd/pkg's
 * three-dot-parts rule (spec: notification-image-cosign.md §D). Every
 * expectation in these tables was produced by the real Masterminds v3.5.0
 * and fluxcd/pkg/version v0.16.0, including the corners that surprise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "codec/codec.h"

#define U64_MAX_TEXT "18446744073709551615"
#define U64_OVER     "18446744073709551616"

/* ---- versions -------------------------------------------------------- */

struct good_version {
	const char *text;
	uint64_t major, minor, patch;
	const char *pre;  /* NULL when absent */
	const char *meta; /* NULL when absent */
};

static const struct good_version good_versions[] = {
    {"1.2.3", 1, 2, 3, NULL, NULL},
    {"v1.2.3", 1, 2, 3, NULL, NULL},
    /* missing minor and patch are 0 */
    {"1.2", 1, 2, 0, NULL, NULL},
    {"1", 1, 0, 0, NULL, NULL},
    {"v5", 5, 0, 0, NULL, NULL},
    {"1-rc", 1, 0, 0, "rc", NULL},
    {"1+b", 1, 0, 0, NULL, "b"},
    {"1.2-rc.1", 1, 2, 0, "rc.1", NULL},
    /* leading zeros in the numbers are coerced away */
    {"01.02.03", 1, 2, 3, NULL, NULL},
    {"v2025.02.03-rc.1", 2025, 2, 3, "rc.1", NULL},
    {"1.2.3-rc.1+build.5", 1, 2, 3, "rc.1", "build.5"},
    {"1.0.0-0", 1, 0, 0, "0", NULL},
    {"1.0.0-x-y-z.--", 1, 0, 0, "x-y-z.--", NULL},
    /* leading zeros are fine in metadata and in alphanumeric identifiers */
    {"1.0.0+001", 1, 0, 0, NULL, "001"},
    {"1.0.0-alpha+001", 1, 0, 0, "alpha", "001"},
    {"1.0.0-00a", 1, 0, 0, "00a", NULL},
    {"1.2.3+b-", 1, 2, 3, NULL, "b-"},
    /* a numeric identifier too large for uint64 is still valid */
    {"1.0.0-99999999999999999999", 1, 0, 0, "99999999999999999999", NULL},
    {U64_MAX_TEXT "." U64_MAX_TEXT "." U64_MAX_TEXT, UINT64_MAX, UINT64_MAX, UINT64_MAX, NULL,
     NULL},
    {"0.0.0", 0, 0, 0, NULL, NULL},
};

static void expect_same_string(const char *what, const char *text, const char *got,
                               const char *want)
{
	if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
		fail_msg("%s: %s = %s, want %s", text, what, got ? got : "(null)",
		         want ? want : "(null)");
}

static void semver_parses_masterminds_versions(void **state)
{
	(void)state;
	for (size_t i = 0; i < SL_ARRAY_SIZE(good_versions); i++) {
		const struct good_version *g = &good_versions[i];
		struct sl_semver v = {0};
		struct sl_error err = {0};
		if (sl_semver_parse(g->text, &v, &err) != 0)
			fail_msg("%s: %s", g->text, err.msg);
		if (v.major != g->major || v.minor != g->minor || v.patch != g->patch)
			fail_msg("%s: parsed as %lu.%lu.%lu", g->text, (unsigned long)v.major,
			         (unsigned long)v.minor, (unsigned long)v.patch);
		expect_same_string("pre", g->text, v.pre, g->pre);
		expect_same_string("meta", g->text, v.meta, g->meta);
		/* Flux reports the tag as written */
		assert_string_equal(v.original, g->text);
		sl_semver_clear(&v);
	}
}

static void semver_rejects_malformed_versions(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "",
	    "v",
	    "vv1",
	    "V1.2.3", /* only a lowercase v */
	    "=1.2.3",
	    "latest",
	    "1.x",
	    "1.2.3.4",
	    "1..2",
	    "1.2.",
	    "-1.2.3",
	    " 1.2.3",
	    "1.2.3 ",
	    "1.2.3\n",
	    "1.2.3-",
	    "1.2.3+",
	    "1.0.0-+b",
	    "1.2.3-rc.",
	    "1.0.0-rc.1.",
	    "1.2.3-rc..1",
	    "1.2.3+a..b",
	    "1.2.3-rc_1",
	    "1.2.3+build_1",
	    "1.2.3-\xc3\xa9",
	    "1.2.3-01", /* numeric prerelease identifiers have no leading zero */
	    "1.0.0-rc.00",
	    U64_OVER ".0.0",
	    "1." U64_OVER,
	    "1.2." U64_OVER,
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		struct sl_semver v = {0};
		struct sl_error err = {0};
		int r = sl_semver_parse(bad[i], &v, &err);
		if (r == 0) {
			sl_semver_clear(&v);
			fail_msg("\"%s\" accepted", bad[i]);
		}
		if (r != SL_EINVAL || err.code != SL_EINVAL ||
		    !sl_startswith(err.msg, "version \""))
			fail_msg("\"%s\": r=%d message \"%s\"", bad[i], r, err.msg);
	}
}

static void semver_error_names_the_version_without_control_characters(void **state)
{
	(void)state;
	struct sl_semver v = {0};
	struct sl_error err = {0};
	assert_int_equal(sl_semver_parse("1.0\n\"x\"", &v, &err), SL_EINVAL);
	assert_string_equal(err.msg, "version \"1.0\\x0a\\\"x\\\"\": invalid semantic version");
	assert_int_equal(sl_semver_parse("1.0.0-01", &v, &err), SL_EINVAL);
	assert_string_equal(err.msg, "version \"1.0.0-01\": prerelease segment starts with 0");
	assert_int_equal(sl_semver_parse(U64_OVER ".0.0", &v, &err), SL_EINVAL);
	assert_string_equal(err.msg, "version \"" U64_OVER ".0.0\": version segment out of range");
}

static void semver_refuses_versions_longer_than_256_bytes(void **state)
{
	(void)state;
	char text[300];
	memset(text, 'a', sizeof(text));
	memcpy(text, "1.0.0-", 6);
	text[SL_SEMVER_MAX_VERSION_BYTES] = '\0';
	struct sl_semver v = {0};
	struct sl_error err = {0};
	assert_int_equal(sl_semver_parse(text, &v, &err), 0);
	assert_int_equal(strlen(v.original), 256);
	sl_semver_clear(&v);

	memset(text, 'a', sizeof(text));
	memcpy(text, "1.0.0-", 6);
	text[SL_SEMVER_MAX_VERSION_BYTES + 1] = '\0';
	assert_int_equal(sl_semver_parse(text, &v, &err), SL_ELIMIT);
	assert_string_equal(err.msg, "version string is too long (max 256 bytes)");
	assert_false(sl_semver_is_flux_version(text));
}

static void semver_parse_leaves_the_out_parameter_alone_on_failure(void **state)
{
	(void)state;
	struct sl_semver v;
	memset(&v, 0x5a, sizeof(v));
	struct sl_semver copy = v;
	struct sl_error err = {0};
	assert_int_equal(sl_semver_parse("1.2.3-01", &v, &err), SL_EINVAL);
	assert_memory_equal(&v, &copy, sizeof(v));
}

static void semver_clear_is_idempotent(void **state)
{
	(void)state;
	struct sl_semver v = {0};
	sl_semver_clear(&v);
	assert_int_equal(sl_semver_parse("1.2.3-rc+b", &v, NULL), 0);
	sl_semver_clear(&v);
	assert_null(v.pre);
	assert_null(v.meta);
	assert_null(v.original);
	sl_semver_clear(&v);
	sl_semver_clear(NULL);
}

/* ---- precedence ------------------------------------------------------ */

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static int compare_texts(const char *a, const char *b)
{
	struct sl_semver va = {0}, vb = {0};
	struct sl_error err = {0};
	if (sl_semver_parse(a, &va, &err) < 0 || sl_semver_parse(b, &vb, &err) < 0)
		fail_msg("%s / %s: %s", a, b, err.msg);
	int d = sl_semver_compare(&va, &vb);
	sl_semver_clear(&va);
	sl_semver_clear(&vb);
	return sign(d);
}

static void semver_orders_the_semver_org_chain(void **state)
{
	(void)state;
	static const char *chain[] = {
	    "1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
	    "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",       "1.0.0",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(chain); i++) {
		for (size_t j = 0; j < SL_ARRAY_SIZE(chain); j++) {
			int want = (i > j) - (i < j);
			int got = compare_texts(chain[i], chain[j]);
			if (got != want)
				fail_msg("compare(%s, %s) = %d, want %d", chain[i], chain[j], got,
				         want);
		}
	}
}

static void semver_compares_like_masterminds(void **state)
{
	(void)state;
	static const struct {
		const char *a, *b;
		int want;
	} pairs[] = {
	    /* spelling and metadata never count */
	    {"1.0.0", "v1.0.0", 0},
	    {"1.0.0", "1.0.0+b", 0},
	    {"1.0.0", "01.00.000", 0},
	    {"1.0.0-rc.1+x", "1.0.0-rc.1+y", 0},
	    {"1.2", "1.2.0", 0},
	    /* numbers compare as numbers */
	    {"2.0.0", "1.99.99", 1},
	    {"1.10.0", "1.9.0", 1},
	    {U64_MAX_TEXT ".0.0", "18446744073709551614.9.9", 1},
	    {"1.0.0-2", "1.0.0-10", -1},
	    /* a release outranks its prereleases, not earlier releases */
	    {"1", "1.0.0-0", 1},
	    {"1.0.0-rc", "0.9.9", 1},
	    /* numeric < alphanumeric; alphanumerics by ASCII bytes */
	    {"1.0.0-1", "1.0.0-1a", -1},
	    {"1.0.0--", "1.0.0-0", 1},
	    {"1.0.0-a10", "1.0.0-a9", -1},
	    {"1.0.0-A", "1.0.0-a", -1},
	    /* a shorter identifier list is lower */
	    {"1.0.0-alpha", "1.0.0-alpha.0", -1},
	    /* Masterminds quirk: a numeric identifier beyond uint64 compares as
	     * text, so above every number and by bytes against words */
	    {"1.0.0-99999999999999999999", "1.0.0-5", 1},
	    {"1.0.0-99999999999999999999", "1.0.0-a", -1},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(pairs); i++) {
		int got = compare_texts(pairs[i].a, pairs[i].b);
		int back = compare_texts(pairs[i].b, pairs[i].a);
		if (got != pairs[i].want || back != -pairs[i].want)
			fail_msg("compare(%s, %s) = %d / %d, want %d", pairs[i].a, pairs[i].b, got,
			         back, pairs[i].want);
	}
}

/* ---- which tags are versions for Flux -------------------------------- */

static void semver_flux_versions_need_three_dot_parts(void **state)
{
	(void)state;
	static const struct {
		const char *tag;
		bool want;
	} tags[] = {
	    {"1.2.3", true},
	    {"v1.2.3", true},
	    {"01.02.03", true},
	    {"1.2-rc.1", true}, /* the dots may sit in the prerelease */
	    {"1-rc.1.2", true},
	    {"1+b.c", false}, /* one dot: the metadata's dots count too */
	    {"v2025.02.03-rc.1", true},
	    {"1.2.3+b-", true},
	    {"1.2", false},
	    {"v5", false},
	    {"1", false},
	    {"1-rc", false},
	    {"latest", false},
	    {"", false},
	    {"1.2.3.4", false}, /* three parts, but Masterminds refuses it */
	    {"a.b.c", false},
	    {"1.2.3-01", false},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(tags); i++) {
		if (sl_semver_is_flux_version(tags[i].tag) != tags[i].want)
			fail_msg("is_flux_version(\"%s\") != %d", tags[i].tag, tags[i].want);
	}
}

/* ---- constraints ----------------------------------------------------- */

struct check_row {
	const char *constraint;
	const char *match;    /* space-separated versions that satisfy it */
	const char *no_match; /* and versions that do not */
};

static const struct check_row check_rows[] = {
    /* exact, with and without "=" */
    {"=1.2.3", "1.2.3 v1.2.3 1.2.3+b", "1.2.4 1.2.3-rc"},
    {"1.2.3", "1.2.3 01.02.03", "1.2.4"},
    {"v1.2.3+meta", "1.2.3 1.2.3+other", ""},
    {"!=1.2.3", "1.2.4", "1.2.3 1.2.4-rc"},
    {">1.2.3", "1.2.4 1.3.0 2.0.0", "1.2.3"},
    {"<1.2.3", "1.2.2 0.0.0", "1.2.3"},
    {">=1.2.3", "1.2.3 9.0.0", "1.2.2"},
    {"=>1.2.3", "1.2.3", "1.2.2"},
    {"<=1.2.3", "1.2.3", "1.2.4"},
    {"=<1.2.3", "1.2.3", "1.2.4"},
    {"~1.2.3", "1.2.3 1.2.9", "1.3.0 1.2.2"},
    {"~>1.2.3", "1.2.3 1.2.9", "1.3.0"},
    {"~1", "1.0.0 1.9.9", "2.0.0 0.9.9"},
    {"~1.2", "1.2.0 1.2.9", "1.3.0"},
    {"~0.0.0", "0.0.0 5.0.0", ""},
    {"^1.2.3", "1.2.3 1.9.0", "2.0.0 1.2.2"},
    {"^1.2", "1.2.0 1.9.9", "2.0.0 1.1.9"},
    {"^0.2.3", "0.2.3 0.2.9", "0.3.0 0.2.2"},
    {"^0.0.3", "0.0.3", "0.0.4 0.0.2"},
    {"^0", "0.0.0 0.9.9", "1.0.0"},
    {"^0.0", "0.0.9", "0.1.0"},
    /* spec §D.4 caveat: "^*" sets no minor/patch-dirty flag, so only 0.0.0 */
    {"^*", "0.0.0", "0.0.1 1.0.0"},
    {"^x", "0.0.0", "2.0.0"},
    /* wildcards and partial versions: "=" becomes "~" */
    {"1.2.x", "1.2.0 1.2.9", "1.3.0 1.1.9"},
    {"1.2", "1.2.0 1.2.9", "1.3.0"},
    {"1.x", "1.0.0 1.9.0", "2.0.0 0.9.0"},
    {"1.X", "1.0.0", "2.0.0"},
    {"1.*", "1.0.0", "2.0.0"},
    {"1", "1.0.0 1.9.0", "2.0.0"},
    {"1.x.x", "1.5.5", "2.0.0"},
    {"*", "0.0.0 99.0.0", "1.1.0-rc.1"},
    {"x", "0.0.0 99.0.0", ""},
    {"X", "3.0.0", ""},
    {"~*", "5.0.0", ""},
    {"6.1.x", "6.1.0 6.1.9", "6.2.0 6.0.9"},
    {"!=1.x", "2.0.0 0.9.0", "1.5.0"},
    {"!=1.2.x", "1.3.0", "1.2.5"},
    {"!=*", "1.0.0 0.0.1", "0.0.0"}, /* Masterminds: "!=*" is "!=0.0.0" */
    {">1", "2.0.0", "1.9.9"},
    {">1.x", "2.0.0", "1.9.9"},
    {">1.2", "1.3.0 2.0.0", "1.2.9"},
    {">*", "0.0.1", "0.0.0"},
    {"<1.2", "1.1.9", "1.2.0"},
    {"<1.x", "0.9.9", "1.0.0"},
    {">=1.2.x", "1.2.0", "1.1.9"},
    {"<=1", "1.9.9", "2.0.0"},
    {"<=1.2", "1.2.9", "1.3.0"},
    {"<=1.x", "1.9.9", "2.0.0"},
    {"<=*", "0.0.9", "0.1.0"}, /* Masterminds: "<=*" is "<=0.0.x" */
    /* hyphen ranges; the upper end is inclusive of its wildcard parts */
    {"1.0 - 2.0", "1.0.0 2.0.9", "2.1.0 0.9.9"},
    {"1.2.3 - 2.3.4", "1.2.3 2.3.4", "2.3.5 1.2.2"},
    {"1.2.3 - 2", "2.9.9", "3.0.0"},
    {"v1.0.0 - v2.0.0", "2.0.0", "2.0.1"},
    {"1.0 - 2.0 || 3.0 - 4.0", "3.5.0", "2.5.0"},
    {"1.0.0-rc - 2.0.0", "1.0.0-rc 1.5.0-beta", "2.0.1"},
    {"1 - 2 || 1 - 2", "1.5.0", "3.0.0"},
    /* AND by whitespace or commas, OR by "||" */
    {">=1.0.0 <2.0.0", "1.0.0 1.9.9", "2.0.0"},
    {">=1.0.0, <2.0.0", "1.5.0", "2.0.0"},
    {">= 1.0.0 , < 2.0.0", "1.5.0", "2.0.0"},
    {">=1.0.0,<2.0.0", "1.5.0", "0.5.0"},
    {" >=1.0.0\t<2.0.0 ", "1.5.0", ""},
    {">=1.0.0 \t\n\f\r <2", "1.5.0", "2.0.0"},
    {"<1.0.0 || >=2.0.0", "0.5.0 2.0.0", "1.5.0"},
    {"1.x || 3.x", "1.5.0 3.5.0", "2.5.0"},
    {"* || x", "7.0.0", ""},
    /* prereleases match only in a group that names one (§D.5) */
    {">=1.0.0", "1.1.0", "1.1.0-rc.1"},
    {">=1.0.0-0", "1.1.0-rc.1 1.0.0-0", ""},
    {">=1.2.3-0 <2.0.0", "1.5.0-beta 2.0.0-rc 1.2.3-alpha", ""},
    {">=1.2.3-0 <2.0.0 || >=3.0.0", "1.5.0-beta", "3.1.0-rc"},
    {">=3.0.0 || >=1.0.0-0", "3.1.0-rc", ""},
    {"^1.x-0", "1.1.0-rc.1 1.0.0-0", "0.9.0 2.0.0-rc"},
    {"~2.0.0-rc", "2.0.0-rc.1 2.0.5", "2.0.0-beta 2.1.0-rc"},
    {"1.2.3-rc", "1.2.3-rc", "1.2.3"},
    {"*-0", "0.0.1-alpha 5.0.0-rc", ""},
    {"!=1.2.x-rc", "1.2.5 1.2.0-rd", "1.2.0-rc"},
    {">=1.0.0-rc+meta", "1.0.0-rc", "1.0.0-beta"},
    /* Masterminds' grammar lets these through: a wildcard makes the rest
     * of the version irrelevant */
    {"x.|", "3.0.0", ""},
    {"1.x.3x", "1.7.0", "2.0.0"},
    {"x.1.2", "9.9.9", ""},
    {U64_MAX_TEXT, U64_MAX_TEXT ".5.0", "1.0.0"},
};

/* Checks each version of a space-separated list against c. */
static void expect_checks(const struct sl_semver_constraint *c, const char *constraint,
                          const char *list, bool want)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		struct sl_semver v = {0};
		struct sl_error err = {0};
		if (sl_semver_parse(t, &v, &err) < 0)
			fail_msg("%s: %s", t, err.msg);
		bool got = sl_semver_constraint_check(c, &v);
		sl_semver_clear(&v);
		if (got != want)
			fail_msg("\"%s\" %s %s", constraint, want ? "rejects" : "accepts", t);
	}
}

static void constraint_checks_every_operator(void **state)
{
	(void)state;
	for (size_t i = 0; i < SL_ARRAY_SIZE(check_rows); i++) {
		const struct check_row *row = &check_rows[i];
		struct sl_semver_constraint *c = NULL;
		struct sl_error err = {0};
		if (sl_semver_constraint_parse(row->constraint, &c, &err) != 0)
			fail_msg("\"%s\": %s", row->constraint, err.msg);
		expect_checks(c, row->constraint, row->match, true);
		expect_checks(c, row->constraint, row->no_match, false);
		sl_semver_constraint_free(c);
	}
}

static void constraint_rejects_improper_text(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "",
	    " ",
	    "latest",
	    "1.0.0 || ",
	    "1 || 2 ||",
	    "||1",
	    ">= 1.0 <",
	    "> = 1.0",
	    "=>=1.0",
	    "!1.0",
	    "==1.0",
	    ">1.0<2.0",
	    "V1.0",
	    "^1.2.3.4",
	    "1.x.y",
	    "1.0.0-",
	    "1.0.0+",
	    ">=1.0.0-a..b",
	    "1.0,,2.0",
	    "1.0, ,2.0",
	    ",1.2.3",
	    "1.2.3,",
	    "1.2.3 ,",
	    "1.0.0\v", /* \v is not whitespace to Go's regexp */
	    /* hyphen ranges need whitespace on both sides, and chain no further */
	    "1.0 - ",
	    "1.0 -2.0",
	    "1.0- 2.0",
	    "~1.0 - 2.0",
	    "1.0.0 - 2.0.0 - 3.0.0",
	    "0 - 2 - 3 || 2 - 3",
	    /* well-formed, but the version Masterminds builds does not parse */
	    "1.x|",
	    "1|2",
	    "1 |||2",
	    ">=1.0.0-01",
	    U64_OVER,
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		struct sl_semver_constraint *c = NULL;
		struct sl_error err = {0};
		int r = sl_semver_constraint_parse(bad[i], &c, &err);
		if (r == 0) {
			sl_semver_constraint_free(c);
			fail_msg("\"%s\" accepted", bad[i]);
		}
		if (r != SL_EINVAL || !sl_startswith(err.msg, "improper constraint: \""))
			fail_msg("\"%s\": r=%d message \"%s\"", bad[i], r, err.msg);
	}
}

static void constraint_errors_quote_the_offending_group(void **state)
{
	(void)state;
	static const struct {
		const char *text, *msg;
	} cases[] = {
	    {"latest", "improper constraint: \"latest\""},
	    {">=1.0.0 || bad", "improper constraint: \" bad\""},
	    {"1.0.0 || ", "improper constraint: \" \""},
	    /* the group as Masterminds saw it, after rewriting the range */
	    {"1.0 - 2.0 - 3.0", "improper constraint: \">= 1.0, <= 2.0 - 3.0\""},
	    {"1.0\n2.0\x01", "improper constraint: \"1.0\\x0a2.0\\x01\""},
	    {">=1.0.0-01",
	     "improper constraint: \">=1.0.0-01\": version \"1.0.0-01\": prerelease segment "
	     "starts with 0"},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		struct sl_semver_constraint *c = NULL;
		struct sl_error err = {0};
		assert_int_equal(sl_semver_constraint_parse(cases[i].text, &c, &err), SL_EINVAL);
		assert_string_equal(err.msg, cases[i].msg);
	}
	/* ret is not touched on failure */
	struct sl_semver_constraint *sentinel = (struct sl_semver_constraint *)&cases;
	struct sl_semver_constraint *c = sentinel;
	assert_int_equal(sl_semver_constraint_parse("nope", &c, NULL), SL_EINVAL);
	assert_ptr_equal(c, sentinel);
	sl_semver_constraint_free(NULL);
}

static void constraint_caps_length_and_groups_as_masterminds(void **state)
{
	(void)state;
	struct sl_semver_constraint *c = NULL;
	struct sl_error err = {0};

	/* 512 bytes: "1.0.0" and trailing whitespace */
	char text[600];
	memset(text, ' ', sizeof(text));
	memcpy(text, "1.0.0", 5);
	text[SL_SEMVER_MAX_CONSTRAINT_BYTES] = '\0';
	assert_int_equal(sl_semver_constraint_parse(text, &c, &err), 0);
	sl_semver_constraint_free(c);
	text[SL_SEMVER_MAX_CONSTRAINT_BYTES] = ' ';
	text[SL_SEMVER_MAX_CONSTRAINT_BYTES + 1] = '\0';
	assert_int_equal(sl_semver_constraint_parse(text, &c, &err), SL_ELIMIT);
	assert_string_equal(err.msg, "constraint string is too long (max 512 bytes)");

	/* 32 OR groups, not 33 */
	char groups[200] = "1";
	for (int i = 1; i < SL_SEMVER_MAX_GROUPS; i++)
		strcat(groups, "||1");
	assert_int_equal(sl_semver_constraint_parse(groups, &c, &err), 0);
	sl_semver_constraint_free(c);
	strcat(groups, "||1");
	assert_int_equal(sl_semver_constraint_parse(groups, &c, &err), SL_ELIMIT);
	assert_string_equal(err.msg, "too many constraint groups (max 32)");

	/* the version inside obeys the 256-byte cap */
	char item[300];
	memset(item, 'a', sizeof(item));
	memcpy(item, ">=1.0.0-", 8);
	item[8 + 250] = '\0';
	assert_int_equal(sl_semver_constraint_parse(item, &c, &err), 0);
	sl_semver_constraint_free(c);
	item[8 + 250] = 'a';
	item[8 + 251] = '\0';
	assert_true(sl_semver_constraint_parse(item, &c, &err) < 0);
	assert_true(sl_startswith(err.msg, "improper constraint: \">=1.0.0-aaa"));
}

/* ---- latest ---------------------------------------------------------- */

static const char *latest(const char *const *tags, size_t n, const char *constraint)
{
	struct sl_semver_constraint *c = NULL;
	struct sl_error err = {0};
	if (constraint && sl_semver_constraint_parse(constraint, &c, &err) < 0)
		fail_msg("\"%s\": %s", constraint, err.msg);
	size_t index = SIZE_MAX;
	int r = sl_semver_latest(tags, n, c, &index);
	sl_semver_constraint_free(c);
	if (r == SL_ENOTFOUND) {
		assert_int_equal(index, SIZE_MAX);
		return NULL;
	}
	assert_int_equal(r, 0);
	assert_true(index < n);
	return tags[index];
}

static void latest_resolves_the_spec_examples(void **state)
{
	(void)state;
	/* notification-image-cosign.md §D.6; the same answers as fluxcd/pkg's
	 * version.Sort over Masterminds v3.5.0 */
	static const char *tags[] = {"1.0.0", "1.1.0-rc.1", "v1.1.0", "1.2", "2.0.0"};
	static const struct {
		const char *constraint, *want;
	} cases[] = {
	    {"*", "2.0.0"},
	    {"~1", "v1.1.0"}, /* "1.2" is not a version for Flux */
	    {">=1.1.0-0 <2.0.0", "v1.1.0"},
	    {"^1.x-0", "v1.1.0"},
	    {"6.1.x", NULL},
	    {"1.x || >=2.0.0-0", "2.0.0"},
	    {"<1.1.0 || 1.1.0-rc.1", "1.1.0-rc.1"},
	    {"1.2", NULL},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		const char *got = latest(tags, SL_ARRAY_SIZE(tags), cases[i].constraint);
		expect_same_string("latest", cases[i].constraint, got, cases[i].want);
	}
}

static void latest_breaks_ties_by_the_greatest_text(void **state)
{
	(void)state;
	/* Flux keeps list order among equal versions; sluice picks the same tag
	 * whatever order the registry lists them in. */
	static const char *orders[][3] = {
	    {"1.0.0", "v1.0.0", "1.0.0+b"},
	    {"v1.0.0", "1.0.0+b", "1.0.0"},
	    {"1.0.0+b", "1.0.0", "v1.0.0"},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(orders); i++)
		assert_string_equal(latest(orders[i], 3, "1.x"), "v1.0.0");
}

static void latest_skips_tags_that_are_not_flux_versions(void **state)
{
	(void)state;
	static const char *tags[] = {"latest", "9",        "v9.1",  "main.sig",
	                             NULL,     "1.0.0-01", "0.1.0", "x.y.z"};
	assert_string_equal(latest(tags, SL_ARRAY_SIZE(tags), "*"), "0.1.0");
	/* without a constraint every version counts, prereleases too */
	static const char *pre[] = {"1.0.0", "2.0.0-rc.1", "1.5"};
	assert_string_equal(latest(pre, SL_ARRAY_SIZE(pre), NULL), "2.0.0-rc.1");
	assert_string_equal(latest(pre, SL_ARRAY_SIZE(pre), "*"), "1.0.0");
	assert_null(latest(tags, 0, "*"));
	assert_null(latest(tags, 5, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(semver_parses_masterminds_versions),
	    cmocka_unit_test(semver_rejects_malformed_versions),
	    cmocka_unit_test(semver_error_names_the_version_without_control_characters),
	    cmocka_unit_test(semver_refuses_versions_longer_than_256_bytes),
	    cmocka_unit_test(semver_parse_leaves_the_out_parameter_alone_on_failure),
	    cmocka_unit_test(semver_clear_is_idempotent),
	    cmocka_unit_test(semver_orders_the_semver_org_chain),
	    cmocka_unit_test(semver_compares_like_masterminds),
	    cmocka_unit_test(semver_flux_versions_need_three_dot_parts),
	    cmocka_unit_test(constraint_checks_every_operator),
	    cmocka_unit_test(constraint_rejects_improper_text),
	    cmocka_unit_test(constraint_errors_quote_the_offending_group),
	    cmocka_unit_test(constraint_caps_length_and_groups_as_masterminds),
	    cmocka_unit_test(latest_resolves_the_spec_examples),
	    cmocka_unit_test(latest_breaks_ties_by_the_greatest_text),
	    cmocka_unit_test(latest_skips_tags_that_are_not_flux_versions),
	};
	return cmocka_run_group_tests_name("semver", tests, NULL, NULL);
}
