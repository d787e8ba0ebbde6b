/* Ignore patterns with the semantics of Flux's sourceignore matcher (spec
 * §3.3, a go-git gitignore fork) and sl_glob_match as Go's filepath.Match
 * (expected values checked against Go 1.26). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "codec/codec.h"
#include "oci/oci.h"

enum { F = 0, D = 1 }; /* is_dir */

struct ignore_case {
	const char *patterns;
	const char *path;
	int is_dir;
	bool ignored;
};

/* Runs a table; reports every failing row at once. */
static void run_ignore_table(const struct ignore_case *cases, size_t n)
{
	char report[4096] = "";
	size_t failures = 0;
	for (size_t i = 0; i < n; i++) {
		struct sl_ignore *ig = sl_ignore_new();
		sl_ignore_add_lines(ig, cases[i].patterns);
		bool got = sl_ignore_match(ig, cases[i].path, cases[i].is_dir);
		sl_ignore_free(ig);
		if (got != cases[i].ignored) {
			failures++;
			size_t len = strlen(report);
			snprintf(report + len, sizeof(report) - len,
			         "\n  patterns \"%s\" path \"%s\"%s: got %s", cases[i].patterns,
			         cases[i].path, cases[i].is_dir ? " (dir)" : "",
			         got ? "ignored" : "kept");
		}
	}
	if (failures)
		fail_msg("%zu of %zu rows wrong:%s", failures, n, report);
}

static void ignore_simple_pattern_matches_any_component(void **state)
{
	(void)state;
	static const struct ignore_case cases[] = {
	    {"*.zip", "a.zip", F, true},
	    {"*.zip", "dir/a.zip", F, true},
	    {"*.zip", "x.zip/file.yaml", F, true}, /* everything under a dir named x.zip */
	    {"*.zip", "a.zipx", F, false},
	    {"*.zip", "A.ZIP", F, false}, /* case-sensitive */
	    {"foo", "foo", F, true},
	    {"foo", "foo", D, true},
	    {"foo", "a/foo/b", F, true},
	    {"foo", "foobar", F, false},
	    {"foo", "a/barfoo", F, false},
	    {"f?o", "fxo", F, true},
	    {"f?o", "fo", F, false},
	    {"[ab]*", "deploy/base", F, true},
	    {"*", "anything/at/all", F, true},
	};
	run_ignore_table(cases, SL_ARRAY_SIZE(cases));
}

static void ignore_dir_only_pattern_skips_files_of_that_name(void **state)
{
	(void)state;
	static const struct ignore_case cases[] = {
	    {".git/", ".git", D, true},
	    {".git/", ".git/config", F, true},
	    {".git/", ".git/objects/ab/cdef", F, true},
	    {".git/", ".git", F, false}, /* a submodule's .git file is kept */
	    {".git/", "sub/.git", F, false},
	    {".git/", "sub/.git", D, true},
	    {"build/", "build/x/y", F, true},
	    {"build/", "src/build", F, false},
	    {"build/", "src/build", D, true},
	    {"build/", "builder", D, false},
	};
	run_ignore_table(cases, SL_ARRAY_SIZE(cases));
}

static void ignore_pattern_with_slash_matches_from_the_root(void **state)
{
	(void)state;
	static const struct ignore_case cases[] = {
	    {"a/b", "a/b", F, true},
	    {"a/b", "a/b/c", F, true}, /* all segments consumed: deeper paths match */
	    {"a/b", "c/a/b", F, false},
	    {"a/b", "a/bc", F, false},
	    {"a/b", "a", D, false},
	    {"a/*.yaml", "a/f.yaml", F, true},
	    {"a/*.yaml", "a/b/f.yaml", F, false},
	    {"a/*.yaml", "b/a/f.yaml", F, false},
	    {"a/b/", "a/b", F, false},
	    {"a/b/", "a/b", D, true},
	    {"a/b/", "a/b/c", F, true},
	};
	run_ignore_table(cases, SL_ARRAY_SIZE(cases));
}

static void ignore_leading_slash_anchors_at_the_root(void **state)
{
	(void)state;
	static const struct ignore_case cases[] = {
	    {"/x", "x", F, true},           {"/x", "x/y", F, true},
	    {"/x", "a/x", F, false},        {"/x/", "x", D, true},
	    {"/x/", "x", F, false},         {"/x/", "x/y", F, true},
	    {"/*.yaml", "a.yaml", F, true}, {"/*.yaml", "d/a.yaml", F, false},
	    {"/a/b", "a/b", F, true},       {"/a/b", "z/a/b", F, false},
	};
	run_ignore_table(cases, SL_ARRAY_SIZE(cases));
}

static void ignore_double_star_spans_directories(void **state)
{
	(void)state;
	static const struct ignore_case cases[] = {
	    {"**/foo", "foo", F, true},
	    {"**/foo", "a/foo", F, true},
	    {"**/foo", "a/b/foo", F, true},
	    {"**/foo", "a/foo/c", F, true},
	    {"**/foo", "a/foox", F, false},
	    {"a/**/b", "a/b", F, true},
	    {"a/**/b", "a/x/b", F, true},
	    {"a/**/b", "a/x/y/b", F, true},
	    {"a/**/b", "a/x/y/c", F, false},
	    {"a/**/b", "b", F, false},
	    {"a/**/b", "z/a/x/b", F, false},
	    {"a/**", "a/x", F, true}, /* a trailing ** matches everything below */
	    {"a/**", "a/x/y", F, true},
	    {"a/**", "b/x", F, false},
	    {"**/*.yaml", "deep/x/f.yaml", F, true},
	    {"**/*.yaml", "f.yml", F, false},
	    {"a/**/b/", "a/x/b", F, false},
	    {"a/**/b/", "a/x/b", D, true},
	    {"a/**/b/", "a/x/b/c", F, true},
	    /* "**" mixed with other text in a segment never matches */
	    {"a**/b", "a/b", F, false},
	    {"a**/b", "ax/b", F, false},
	    {"x/**b", "x/b", F, false},
	    {"x/**b", "x/ab", F, false},
	    /* rows from fluxcd/pkg's own pattern tests */
	    {"/*lue/vol?ano/**", "value/volcano", F, true},
	    {"/*lue/**/vol?ano", "value/volcano", F, true},
	    {"**/*lue/vol?ano/", "head/value/volcano", F, false},
	    {"**/*lue/vol?ano/", "head/value/volcano/tail", F, true},
	    {"**/android/**/GeneratedPluginRegistrant.java",
	     "packages/flutter_tools/lib/src/android/gradle.dart", F, false},
	    {"/value/**/v[ou]l[", "value/head/vol[", F, false},
	};
	run_ignore_table(cases, SL_ARRAY_SIZE(cases));
}

static void ignore_last_matching_pattern_decides(void **state)
{
	(void)state;
	static const struct ignore_case cases[] = {
	    {"*.yaml\n!keep.yaml", "keep.yaml", F, false},
	    {"*.yaml\n!keep.yaml", "other.yaml", F, true},
	    {"*.yaml\n!keep.yaml", "dir/keep.yaml", F, false},
	    {"!keep.yaml\n*.yaml", "keep.yaml", F, true}, /* evaluated last to first */
	    {"foo\n!foo\nfoo", "foo", F, true},
	    {"foo\n!foo", "foo", F, false},
	    {"!foo", "foo", F, false},
	    {"!foo", "bar", F, false},
	    /* excluded directories are still walked: "!" re-includes inside */
	    {"dir/\n!dir/keep.txt", "dir/keep.txt", F, false},
	    {"dir/\n!dir/keep.txt", "dir/other.txt", F, true},
	    {"dir/\n!dir/keep.txt", "dir", D, true},
	    {"*\n!*.yaml", "a.yaml", F, false},
	    {"*\n!*.yaml", "a.txt", F, true},
	};
	run_ignore_table(cases, SL_ARRAY_SIZE(cases));
}

static void ignore_lines_follow_gitignore_text_rules(void **state)
{
	(void)state;
	static const struct ignore_case cases[] = {
	    /* comments and blank lines are skipped */
	    {"# comment\n\n   \n\t\n*.log", "# comment", F, false},
	    {"# comment\n\n   \n*.log", "x.log", F, true},
	    {"#*.log", "x.log", F, false},
	    {"\\#foo", "#foo", F, true},
	    {"\\!important", "!important", F, true},
	    /* trailing spaces are trimmed unless escaped */
	    {"foo   ", "foo", F, true},
	    {"foo\\ ", "foo ", F, true},
	    {"foo\\ ", "foo", F, false},
	    /* leading spaces are part of the pattern */
	    {" foo", "foo", F, false},
	    /* CRLF line ends */
	    {"foo\r\nbar\r\n", "foo", F, true},
	    {"foo\r\nbar\r\n", "bar", F, true},
	    /* no trailing newline on the last line */
	    {"a\nb", "b", F, true},
	};
	run_ignore_table(cases, SL_ARRAY_SIZE(cases));
}

static void ignore_never_matches_the_root(void **state)
{
	(void)state;
	struct sl_ignore *ig = sl_ignore_new();
	sl_ignore_add_lines(ig, "*\n**\n.\n/\n");
	assert_false(sl_ignore_match(ig, ".", true));
	assert_false(sl_ignore_match(ig, "", true));
	assert_true(sl_ignore_match(ig, "x", false));
	sl_ignore_free(ig);
	sl_ignore_free(NULL);
}

static void ignore_without_patterns_keeps_everything(void **state)
{
	(void)state;
	struct sl_ignore *ig = sl_ignore_new();
	assert_false(sl_ignore_match(ig, "a", false));
	sl_ignore_add_lines(ig, "");
	sl_ignore_add_lines(ig, "# only a comment\n\n");
	assert_false(sl_ignore_match(ig, "a", false));
	assert_false(sl_ignore_match(ig, "# only a comment", false));
	assert_false(sl_ignore_has_inclusion(ig));
	sl_ignore_free(ig);
}

static void ignore_patterns_accumulate_across_calls(void **state)
{
	(void)state;
	struct sl_ignore *ig = sl_ignore_new();
	sl_ignore_add_lines(ig, "*.yaml");
	sl_ignore_add_lines(ig, "!keep.yaml");
	assert_true(sl_ignore_match(ig, "a.yaml", false));
	assert_false(sl_ignore_match(ig, "keep.yaml", false));
	sl_ignore_free(ig);
}

static void ignore_has_inclusion_reports_negated_patterns(void **state)
{
	(void)state;
	struct sl_ignore *ig = sl_ignore_new();
	sl_ignore_add_lines(ig, SL_DEFAULT_IGNORE_PATHS);
	assert_false(sl_ignore_has_inclusion(ig));
	sl_ignore_add_lines(ig, "\\!literal");
	assert_false(sl_ignore_has_inclusion(ig));
	sl_ignore_add_lines(ig, "!keep.png");
	assert_true(sl_ignore_has_inclusion(ig));
	sl_ignore_free(ig);
	assert_false(sl_ignore_has_inclusion(NULL));
}

static void ignore_default_list_is_fluxs(void **state)
{
	(void)state;
	assert_string_equal(SL_DEFAULT_IGNORE_PATHS, ".git/\n.gitignore\n.gitmodules\n"
	                                             ".gitattributes\n*.jpg\n*.jpeg\n*.gif\n"
	                                             "*.png\n*.wmv\n*.flv\n*.tar.gz\n*.zip\n");
}

static void ignore_default_list_excludes_vcs_and_binaries(void **state)
{
	(void)state;
	static const struct {
		const char *path;
		int is_dir;
		bool ignored;
	} cases[] = {
	    {".git", D, true},
	    {".git/HEAD", F, true},
	    {".git/refs/heads/main", F, true},
	    {".git", F, false}, /* submodule pointer file */
	    {".gitignore", F, true},
	    {"sub/.gitignore", F, true},
	    {".gitmodules", F, true},
	    {".gitattributes", F, true},
	    {"img/logo.png", F, true},
	    {"a.jpg", F, true},
	    {"b.jpeg", F, true},
	    {"c.gif", F, true},
	    {"d.wmv", F, true},
	    {"e.flv", F, true},
	    {"x.tar.gz", F, true},
	    {"a.zip", F, true},
	    {"photo.JPG", F, false},
	    {"artifact.tgz", F, false}, /* not in Flux's defaults */
	    {"x.gz", F, false},
	    {".github/workflows/ci.yaml", F, false},
	    {".github", D, false},
	    {"deploy/app.yaml", F, false},
	    {"kustomization.yaml", F, false},
	    {".", D, false},
	};
	struct sl_ignore *ig = sl_ignore_new();
	sl_ignore_add_lines(ig, SL_DEFAULT_IGNORE_PATHS);
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		bool got = sl_ignore_match(ig, cases[i].path, cases[i].is_dir);
		if (got != cases[i].ignored) {
			sl_ignore_free(ig);
			fail_msg("%s%s: got %s", cases[i].path, cases[i].is_dir ? " (dir)" : "",
			         got ? "ignored" : "kept");
		}
	}
	sl_ignore_free(ig);
}

/* ---- sl_glob_match ---------------------------------------------------- */

/* Printable form of s for failure messages: non-ASCII as \xNN. */
static const char *printable(const char *s, char *out, size_t size)
{
	size_t o = 0;
	for (; *s && o + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

struct glob_case {
	const char *pattern;
	const char *name;
	bool match;
};

static void run_glob_table(const struct glob_case *cases, size_t n)
{
	char report[4096] = "";
	size_t failures = 0;
	for (size_t i = 0; i < n; i++) {
		bool got = sl_glob_match(cases[i].pattern, cases[i].name);
		if (got != cases[i].match) {
			failures++;
			size_t len = strlen(report);
			char p[128], nm[128];
			snprintf(report + len, sizeof(report) - len,
			         "\n  Match(\"%s\", \"%s\") = %s",
			         printable(cases[i].pattern, p, sizeof(p)),
			         printable(cases[i].name, nm, sizeof(nm)), got ? "true" : "false");
		}
	}
	if (failures)
		fail_msg("%zu of %zu rows wrong:%s", failures, n, report);
}

static void glob_wildcards_match_like_go_filepath_match(void **state)
{
	(void)state;
	static const struct glob_case cases[] = {
	    {"abc", "abc", true},
	    {"abc", "abd", false},
	    {"abc", "ab", false},
	    {"*", "abc", true},
	    {"*", "", true},
	    {"a*", "a", true},
	    {"a*", "b", false},
	    {"a*c", "abbbc", true},
	    {"a*c", "abbbd", false},
	    {"*c", "c", true},
	    {"a*b*c", "axxbyyc", true},
	    {"a*b*c", "axxbyy", false},
	    {"*.tar.gz", "a.tar.gz", true},
	    {"a?c", "abc", true},
	    {"a?c", "ac", false},
	    {"?", "", false},
	    {"?", "\xc3\xa9", true}, /* '?' takes one character, not one byte */
	    {"a??",
	     "a\xc3\xa9"
	     "b",
	     true},
	    {"*", "a/b", false}, /* '*' never crosses '/' */
	    {"a?b", "a/b", false},
	};
	run_glob_table(cases, SL_ARRAY_SIZE(cases));
}

static void glob_classes_and_escapes_match_like_go(void **state)
{
	(void)state;
	static const struct glob_case cases[] = {
	    {"[abc]", "b", true},         {"[abc]", "d", false},    {"[a-c]", "b", true},
	    {"[a-c]", "d", false},        {"[^a-c]", "d", true},    {"[^a-c]", "b", false},
	    {"[!a]", "!", true}, /* Go negates with '^' only */
	    {"[!a]", "b", false},         {"[a-cx-z]", "y", true},  {"[z-a]", "m", false},
	    {"[\\]]", "]", true},         {"[\\-]", "-", true},     {"[a\\-z]", "-", true},
	    {"[a\\-z]", "b", false},      {"[\\a-\\c]", "b", true}, {"x[0-9][0-9]", "x42", true},
	    {"x[0-9][0-9]", "x4", false}, {"[abc]", "", false},     {"\\*", "*", true},
	    {"\\*", "a", false},          {"\\?", "?", true},       {"\\[", "[", true},
	    {"a\\bc", "abc", true},       {"\\\\", "\\", true},
	};
	run_glob_table(cases, SL_ARRAY_SIZE(cases));
}

/* Go's filepath.Match returns ErrBadPattern for these, and Flux's matcher
 * treats an error as "no match". */
static void glob_malformed_patterns_never_match(void **state)
{
	(void)state;
	static const struct glob_case cases[] =
	    {
	        {"[", "[", false},    {"[a", "a", false},   {"[a-", "a", false},
	        {"[a-b", "a", false}, {"[]", "]", false},   {"[\\", "\\", false},
	        {"\\", "\\", false},  {"a\\", "a", false},  {"a[", "a", false},
	        {"[^", "x", false},   {"[]a]", "a", false}, /* ']' cannot open a class in Go */
	        {"[]a]", "]", false}, {"[-a]", "a", false}, /* nor can '-' start one */
	        {"[-a]", "-", false}, {"[a-]", "a", false}, /* nor end a range */
	        {"[a-]", "-", false},
	    };
	run_glob_table(cases, SL_ARRAY_SIZE(cases));
}

/* Go decodes a rune before matching it against a class. */
static void glob_classes_match_whole_utf8_characters(void **state)
{
	(void)state;
	static const struct glob_case cases[] = {
	    {"[\xc3\xa9]", "\xc3\xa9", true},              /* [é] matches é */
	    {"[^a]", "\xc3\xa9", true},                    /* [^a] matches é */
	    {"x[\xc3\xa0-\xc3\xbf]y", "x\xc3\xa9y", true}, /* [à-ÿ] matches é */
	    {"[\xc3\xa9]", "\xc3", false},
	};
	run_glob_table(cases, SL_ARRAY_SIZE(cases));
}

/* Found by fuzz_ignore: with one recursion per '*', this took exponential
 * time. Go's matcher (and sluice's) only ever backtracks the latest star. */
static void glob_many_stars_do_not_backtrack_exponentially(void **state)
{
	(void)state;
	static const struct glob_case cases[] = {
	    {"*a*a*a*a*a*a*a*a*a*a*b",
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	    {"*a*a*a*a*a*a*a*a*a*a*b",
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", true},
	    {"a*b*c", "axxbyyc", true},
	    {"a*b*c", "axxbyyd", false},
	};
	run_glob_table(cases, SL_ARRAY_SIZE(cases));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ignore_simple_pattern_matches_any_component),
	    cmocka_unit_test(ignore_dir_only_pattern_skips_files_of_that_name),
	    cmocka_unit_test(ignore_pattern_with_slash_matches_from_the_root),
	    cmocka_unit_test(ignore_leading_slash_anchors_at_the_root),
	    cmocka_unit_test(ignore_double_star_spans_directories),
	    cmocka_unit_test(ignore_last_matching_pattern_decides),
	    cmocka_unit_test(ignore_lines_follow_gitignore_text_rules),
	    cmocka_unit_test(ignore_never_matches_the_root),
	    cmocka_unit_test(ignore_without_patterns_keeps_everything),
	    cmocka_unit_test(ignore_patterns_accumulate_across_calls),
	    cmocka_unit_test(ignore_has_inclusion_reports_negated_patterns),
	    cmocka_unit_test(ignore_default_list_is_fluxs),
	    cmocka_unit_test(ignore_default_list_excludes_vcs_and_binaries),
	    cmocka_unit_test(glob_wildcards_match_like_go_filepath_match),
	    cmocka_unit_test(glob_classes_and_escapes_match_like_go),
	    cmocka_unit_test(glob_malformed_patterns_never_match),
	    cmocka_unit_test(glob_classes_match_whole_utf8_characters),
	    cmocka_unit_test(glob_many_stars_do_not_backtrack_exponentially),
	};
	return cmocka_run_group_tests_name("ignore", tests, NULL, NULL);
}
