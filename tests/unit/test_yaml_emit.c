/* sl_yaml_emit and sl_json_emit: YAML exactly as `kubectl kustomize` prints
 * an object (Go's JSON, read back and re-emitted by go-yaml v2) and Go's
 * encoding/json text. Expected values come from kubectl's output in
 * tests/data/kustomize (cases 070-084) and the rules its README writes down. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "codec/yaml.h"

/* ---- helpers ----------------------------------------------------------- */

static char *emit(const struct sl_node *n)
{
	struct sl_error err = {0};
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 0);
	if (sl_yaml_emit(&b, n, &err) < 0)
		fail_msg("sl_yaml_emit failed: %s", err.msg);
	return sl_buf_steal(&b);
}

static void expect_yaml(const struct sl_node *n, const char *want, const char *what)
{
	_cleanup_free_ char *got = emit(n);
	if (strcmp(got, want) != 0)
		fail_msg("%s:\n--- got\n%s--- want\n%s---", what, got, want);
}

static struct sl_node *map_of(const char *key, struct sl_node *value)
{
	struct sl_node *m = sl_node_new_map();
	sl_node_map_set(m, key, value);
	return m;
}

/* Checks each value printed as the value of key "k": "k: " + want + "\n"
 * (want may span lines). */
struct scalar_case {
	const char *in;
	const char *want;
};

static void run_strings(const struct scalar_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_node_ struct sl_node *doc = map_of("k", sl_node_new_str(cases[i].in));
		_cleanup_free_ char *want = sl_asprintf("k: %s\n", cases[i].want);
		expect_yaml(doc, want, cases[i].in);
	}
}

/* ---- key order (README rule 3) ----------------------------------------- */

static void keys_sort_in_go_yaml_v2_natural_order(void **state)
{
	(void)state;
	/* 076's keys as kubectl printed them, in its order */
	static const struct scalar_case keys[] = {
	    {"_underscore", "_underscore"},
	    {"0", "\"0\""},
	    {"9", "\"9\""},
	    {"10", "\"10\""},
	    {"010", "\"010\""},
	    {"Alpha", "Alpha"},
	    {"Zeta", "Zeta"},
	    {"a-b", "a-b"},
	    {"a.b", "a.b"},
	    {"a_b", "a_b"},
	    {"a10", "a10"},
	    {"a1b", "a1b"},
	    {"aB", "aB"},
	    {"ab", "ab"},
	    {"alpha", "alpha"},
	    {"eclair", "eclair"},
	    {"item", "item"},
	    {"item1", "item1"},
	    {"item1-b", "item1-b"},
	    {"item9", "item9"},
	    {"item09", "item09"},
	    {"item10", "item10"},
	    {"v1.2.9", "v1.2.9"},
	    {"v1.2.10", "v1.2.10"},
	    {"x1", "x1"},
	    {"x1y2", "x1y2"},
	    {"x1y10", "x1y10"},
	    {"x01", "x01"},
	    {"x001", "x001"},
	    {"zeta", "zeta"},
	    {"zz", "zz"},
	    {"\xc3\xa9"
	     "clair",
	     "\xc3\xa9"
	     "clair"},
	    {"\xce\xa9", "\xce\xa9"},
	};
	_cleanup_node_ struct sl_node *m = sl_node_new_map();
	_cleanup_buf_ struct sl_buf want;
	sl_buf_init(&want, 0);
	for (size_t i = SL_ARRAY_SIZE(keys); i-- > 0;)
		sl_node_map_set(m, keys[i].in, sl_node_new_str("v"));
	for (size_t i = 0; i < SL_ARRAY_SIZE(keys); i++)
		sl_buf_printf(&want, "%s: v\n", keys[i].want);
	expect_yaml(m, want.data, "076 key order");
}

static void keys_starting_with_punctuation_sort_first(void **state)
{
	(void)state;
	/* 075's keys: non-letters by code point, then digit runs by value */
	static const struct scalar_case keys[] = {
	    {"", "\"\""},
	    {" leading space", "' leading space'"},
	    {"!bang", "'!bang'"},
	    {"\"dquote", "'\"dquote'"},
	    {"#hash-first", "'#hash-first'"},
	    {"&amp", "'&amp'"},
	    {"'quote", "'''quote'"},
	    {"*star", "'*star'"},
	    {"- dash-space", "'- dash-space'"},
	    {"-dash-first", "-dash-first"},
	    {"=", "="},
	    {"?question", "?question"},
	    {"@at", "'@at'"},
	    {"[bracket]", "'[bracket]'"},
	    {"`tick", "'`tick'"},
	    {"{brace}", "'{brace}'"},
	    {"~", "\"~\""},
	    {"0x10", "\"0x10\""},
	    {"1", "\"1\""},
	    {"1.5", "\"1.5\""},
	    {"12:30", "\"12:30\""},
	    {"2024-01-01", "\"2024-01-01\""},
	    {"app.kubernetes.io/name", "app.kubernetes.io/name"},
	    {"key #hash", "'key #hash'"},
	    {"key: with colon", "'key: with colon'"},
	    {"n", "\"n\""},
	    {"null", "\"null\""},
	    {"off", "\"off\""},
	    {"on", "\"on\""},
	    {"tab\tkey", "\"tab\\tkey\""},
	    {"trailing space ", "'trailing space '"},
	    {"true", "\"true\""},
	    {"with space", "with space"},
	    {"y", "\"y\""},
	    {"yes", "\"yes\""},
	};
	_cleanup_node_ struct sl_node *m = sl_node_new_map();
	_cleanup_buf_ struct sl_buf want;
	sl_buf_init(&want, 0);
	for (size_t i = SL_ARRAY_SIZE(keys); i-- > 0;)
		sl_node_map_set(m, keys[i].in, sl_node_new_str("v"));
	for (size_t i = 0; i < SL_ARRAY_SIZE(keys); i++)
		sl_buf_printf(&want, "%s: v\n", keys[i].want);
	expect_yaml(m, want.data, "075 key order");
}

static void keys_are_not_special_by_name(void **state)
{
	(void)state;
	_cleanup_node_ struct sl_node *m = sl_node_new_map();
	sl_node_map_set(m, "type", sl_node_new_str("Opaque"));
	sl_node_map_set(m, "metadata", map_of("name", sl_node_new_str("s")));
	sl_node_map_set(m, "kind", sl_node_new_str("Secret"));
	sl_node_map_set(m, "data", sl_node_new_map());
	sl_node_map_set(m, "apiVersion", sl_node_new_str("v1"));
	expect_yaml(m,
	            "apiVersion: v1\n"
	            "data: {}\n"
	            "kind: Secret\n"
	            "metadata:\n"
	            "  name: s\n"
	            "type: Opaque\n",
	            "object keys");
}

/* ---- numbers (rule 6) --------------------------------------------------- */

struct float_case {
	double in;
	const char *want;
};

static void run_floats(const struct float_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_node_ struct sl_node *doc = map_of("x", sl_node_new_float(cases[i].in));
		_cleanup_free_ char *want = sl_asprintf("x: %s\n", cases[i].want);
		expect_yaml(doc, want, cases[i].want);
	}
}

static void integral_floats_print_as_integers(void **state)
{
	(void)state;
	static const struct float_case cases[] = {
	    {1.0, "1"},
	    {1e3, "1000"},
	    {1.5e3, "1500"},
	    {8080.0, "8080"},
	    {-0.0, "0"},
	    {0.0, "0"},
	    {1e9, "1000000000"},
	    {0.99999999999999999, "1"},
	    {-42.0, "-42"},
	    {9007199254740993.0, "9007199254740992"},
	    /* JSON writes 2^63 with its shortest digits padded with zeros:
	     * 9223372036854776000, which go-yaml reads as a uint64 */
	    {9223372036854775808.0, "9223372036854776000"},
	};
	run_floats(cases, SL_ARRAY_SIZE(cases));
}

static void other_floats_print_in_go_g_format(void **state)
{
	(void)state;
	static const struct float_case cases[] = {
	    {0.5, "0.5"},
	    {-1.5, "-1.5"},
	    {0.1, "0.1"},
	    {0.0001, "0.0001"},
	    {0.00001, "1e-05"},
	    {1.5e-7, "1.5e-07"},
	    {1e-7, "1e-07"},
	    {0.000001, "1e-06"},
	    {123456.5, "123456.5"},
	    {1234567.5, "1.2345675e+06"},
	    {123456789.123, "1.23456789123e+08"},
	    {3.14159265358979323846, "3.141592653589793"},
	    {1.0 / 3.0, "0.3333333333333333"},
	    {6.0221409e+23, "6.0221409e+23"},
	    {1e20, "1e+20"},
	    {1e21, "1e+21"},
	    {18446744073709551616.0, "1.8446744073709552e+19"},
	    {-9223372036854775809.0, "-9.223372036854776e+18"},
	    {5e-324, "5e-324"},
	    {1.7976931348623157e308, "1.7976931348623157e+308"},
	    {2.2250738585072014e-308, "2.2250738585072014e-308"},
	    {100.25, "100.25"},
	};
	run_floats(cases, SL_ARRAY_SIZE(cases));
}

static void integers_print_in_decimal_to_the_extremes(void **state)
{
	(void)state;
	_cleanup_node_ struct sl_node *m = sl_node_new_map();
	sl_node_map_set(m, "a", sl_node_new_int(INT64_MIN));
	sl_node_map_set(m, "b", sl_node_new_int(INT64_MAX));
	sl_node_map_set(m, "c", sl_node_new_uint(UINT64_MAX));
	sl_node_map_set(m, "d", sl_node_new_uint((uint64_t)INT64_MAX + 1));
	sl_node_map_set(m, "e", sl_node_new_int(0));
	sl_node_map_set(m, "f", sl_node_new_bool(true));
	sl_node_map_set(m, "g", sl_node_new_bool(false));
	sl_node_map_set(m, "h", sl_node_new_null());
	expect_yaml(m,
	            "a: -9223372036854775808\n"
	            "b: 9223372036854775807\n"
	            "c: 18446744073709551615\n"
	            "d: 9223372036854775808\n"
	            "e: 0\n"
	            "f: true\n"
	            "g: false\n"
	            "h: null\n",
	            "scalars");
}

static void nonfinite_floats_fail_like_go_json_and_print_nothing(void **state)
{
	(void)state;
	static const struct {
		double f;
		const char *msg;
	} cases[] = {
	    {INFINITY, "json: unsupported value: +Inf"},
	    {-INFINITY, "json: unsupported value: -Inf"},
	    {NAN, "json: unsupported value: NaN"},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		_cleanup_node_ struct sl_node *doc =
		    map_of("spec", map_of("v", sl_node_new_float(cases[i].f)));
		struct sl_error err = {0};
		_cleanup_buf_ struct sl_buf b;
		sl_buf_init(&b, 0);
		sl_buf_append(&b, "before\n", 7);
		assert_true(sl_yaml_emit(&b, doc, &err) < 0);
		assert_string_equal(err.msg, cases[i].msg);
		assert_string_equal(b.data, "before\n");
	}
}

/* ---- string styles (rule 8) --------------------------------------------- */

static void strings_that_read_back_as_other_types_are_double_quoted(void **state)
{
	(void)state;
	static const struct scalar_case cases[] = {
	    {"yes", "\"yes\""},
	    {"Yes", "\"Yes\""},
	    {"YES", "\"YES\""},
	    {"no", "\"no\""},
	    {"on", "\"on\""},
	    {"Off", "\"Off\""},
	    {"y", "\"y\""},
	    {"N", "\"N\""},
	    {"true", "\"true\""},
	    {"False", "\"False\""},
	    {"null", "\"null\""},
	    {"NULL", "\"NULL\""},
	    {"~", "\"~\""},
	    {"", "\"\""},
	    {"42", "\"42\""},
	    {"-7", "\"-7\""},
	    {"+1", "\"+1\""},
	    {"-0", "\"-0\""},
	    {"0123", "\"0123\""},
	    {"1_000", "\"1_000\""},
	    {"1__0", "\"1__0\""},
	    {"1_", "\"1_\""},
	    {"0o17", "\"0o17\""},
	    {"0x1F", "\"0x1F\""},
	    {"0x_1F", "\"0x_1F\""},
	    {"0b101", "\"0b101\""},
	    {"1.0", "\"1.0\""},
	    {"0.", "\"0.\""},
	    {".5", "\".5\""},
	    {"1e3", "\"1e3\""},
	    {"1.0e+3", "\"1.0e+3\""},
	    {"1.5E3", "\"1.5E3\""},
	    {"08", "\"08\""},
	    {".inf", "\".inf\""},
	    {".NaN", "\".NaN\""},
	    {"-.inf", "\"-.inf\""},
	    {"+.INF", "\"+.INF\""},
	    {"12:30", "\"12:30\""},
	    {"1:20.5", "\"1:20.5\""},
	    {"190:20:30", "\"190:20:30\""},
	    {"2024-01-15", "\"2024-01-15\""},
	    {"2024-1-1", "\"2024-1-1\""},
	    {"2024-02-29", "\"2024-02-29\""},
	    {"2024-01-15T10:00:00Z", "\"2024-01-15T10:00:00Z\""},
	    {"2024-01-15t10:00:00+05:30", "\"2024-01-15t10:00:00+05:30\""},
	    {"2024-01-15 10:00:00.5", "\"2024-01-15 10:00:00.5\""},
	    {"2024-01-15T10:00:00,123456789Z", "\"2024-01-15T10:00:00,123456789Z\""},
	    {"9223372036854775808", "\"9223372036854775808\""},
	    {"18446744073709551616", "\"18446744073709551616\""},
	    {"0xFFFFFFFFFFFFFFFF", "\"0xFFFFFFFFFFFFFFFF\""},
	    {".5_5", "\".5_5\""},
	    /* go-yaml's extra binary parse takes a sign after the prefix */
	    {"0b-101", "\"0b-101\""},
	};
	run_strings(cases, SL_ARRAY_SIZE(cases));
}

static void strings_that_stay_strings_are_plain(void **state)
{
	(void)state;
	static const struct scalar_case cases[] = {
	    {"hello", "hello"},
	    {"1.2.3", "1.2.3"},
	    {"v1.0", "v1.0"},
	    {"1e", "1e"},
	    {"0x", "0x"},
	    {"_1", "_1"},
	    {"~user", "~user"},
	    {"-flag", "-flag"},
	    {"?question", "?question"},
	    {":x", ":x"},
	    {"a:b", "a:b"},
	    {"=", "="},
	    {"<<", "<<"},
	    {".", "."},
	    {"a, b", "a, b"},
	    {"it's", "it's"},
	    {"say \"hi\"", "say \"hi\""},
	    {"C:\\path\\to", "C:\\path\\to"},
	    {"a#b", "a#b"},
	    {"http://example.com:8080/path?q=1#frag", "http://example.com:8080/path?q=1#frag"},
	    {"<>&", "<>&"},
	    {"2024-13-45", "2024-13-45"},
	    {"2023-02-29", "2023-02-29"},
	    {"2024-01-15T25:00:00Z", "2024-01-15T25:00:00Z"},
	    {"2024-01-15 10:00:00Z", "2024-01-15 10:00:00Z"},
	    {"2024-03-01 12:30:00 +1", "2024-03-01 12:30:00 +1"},
	    {"1e400", "1e400"}, /* beyond float64: ParseFloat fails */
	    {"0x10000000000000000", "0x10000000000000000"},
	    {"+0x8000000000000000", "+0x8000000000000000"},
	    {"12:60", "12:60"},
	    {"inf", "inf"},
	    {"nan", "nan"},
	    {"Grüße", "Grüße"},
	    {"a\xc2\xa0"
	     "b",
	     "a\xc2\xa0"
	     "b"},                            /* NBSP is printable */
	    {"\xef\xbf\xbd", "\xef\xbf\xbd"}, /* U+FFFD too */
	};
	run_strings(cases, SL_ARRAY_SIZE(cases));
}

static void strings_with_indicators_are_single_quoted(void **state)
{
	(void)state;
	static const struct scalar_case cases[] = {
	    {"&anchor", "'&anchor'"},
	    {"*alias", "'*alias'"},
	    {"!important", "'!important'"},
	    {"@handle", "'@handle'"},
	    {"`cmd`", "'`cmd`'"},
	    {"%d", "'%d'"},
	    {"|", "'|'"},
	    {">", "'>'"},
	    {"{a: 1}", "'{a: 1}'"},
	    {"[1, 2]", "'[1, 2]'"},
	    {",x", "',x'"},
	    {"#not-a-comment", "'#not-a-comment'"},
	    {"value #not-a-comment", "'value #not-a-comment'"},
	    {"a: b", "'a: b'"},
	    {"trailing:", "'trailing:'"},
	    {"-", "'-'"},
	    {"- item", "'- item'"},
	    {"?", "'?'"},
	    {"? x", "'? x'"},
	    {": x", "': x'"},
	    {"---", "'---'"},
	    {"...", "'...'"},
	    {"--- x", "'--- x'"},
	    {" leading", "' leading'"},
	    {"trailing ", "'trailing '"},
	    {"'quoted'", "'''quoted'''"},
	    {"\"quoted\"", "'\"quoted\"'"},
	};
	run_strings(cases, SL_ARRAY_SIZE(cases));
}

static void unprintable_characters_force_double_quotes_with_escapes(void **state)
{
	(void)state;
	static const struct scalar_case cases[] = {
	    {"a\tb", "\"a\\tb\""},
	    {"a\ab", "\"a\\ab\""},
	    {"a\x1b"
	     "b",
	     "\"a\\eb\""},
	    {"a\bb\vc\fd", "\"a\\bb\\vc\\fd\""},
	    {"a\rb", "\"a\\rb\""},
	    {"a\x01"
	     "b",
	     "\"a\\x01b\""},
	    {"\xf0\x9f\x8e\x89", "\"\\U0001F389\""},
	    {"deploy \xf0\x9f\x9a\x80 done \xe2\x9c\x85",
	     "\"deploy \\U0001F680 done \xe2\x9c\x85\""},
	    {"say \"hi\"\t", "\"say \\\"hi\\\"\\t\""},
	    {"back\\slash\t", "\"back\\\\slash\\t\""},
	    {"zero\xef\xbb\xbfwidth", "\"zero\\uFEFFwidth\""},
	    /* a string starting with U+FEFF has every character escaped */
	    {"\xef\xbb\xbf"
	     "bom",
	     "\"\\uFEFF\\x62\\x6F\\x6D\""},
	    {"\xef\xbb\xbf"
	     "a b\xc3\xa9",
	     "\"\\uFEFF\\x61\\x20\\x62\\xE9\""},
	};
	run_strings(cases, SL_ARRAY_SIZE(cases));
}

static void strings_keep_a_nul_and_escape_it(void **state)
{
	(void)state;
	_cleanup_node_ struct sl_node *doc = map_of("k", sl_node_new_strn("a\0b", 3));
	expect_yaml(doc, "k: \"a\\0b\"\n", "NUL");
}

static void line_separators_force_single_quotes_and_indent_the_next_line(void **state)
{
	(void)state;
	/* 073: the separator is written raw and ends the line for the emitter */
	_cleanup_node_ struct sl_node *doc =
	    map_of("data", map_of("line-separator", sl_node_new_str("a\xe2\x80\xa8"
	                                                            "b")));
	expect_yaml(doc, "data:\n  line-separator: 'a\xe2\x80\xa8    b'\n", "LS");
	_cleanup_node_ struct sl_node *ps = map_of("k", sl_node_new_str("a\xe2\x80\xa9"
	                                                                "b"));
	expect_yaml(ps, "k: 'a\xe2\x80\xa9  b'\n", "PS");
}

static void nel_reads_back_as_a_folded_space(void **state)
{
	(void)state;
	static const struct scalar_case cases[] = {
	    {"a\xc2\x85"
	     "b",
	     "a b"},
	    {"a  \xc2\x85  b", "a b"}, /* blanks around the break go */
	    {"a\xc2\x85\xc2\x85"
	     "b",
	     "|-\n  a\n  b"}, /* two breaks keep one */
	    {"a\xc2\x85\xc2\x85\xc2\x85"
	     "b",
	     "|-\n  a\n\n  b"},
	    {"\xc2\x85"
	     "x",
	     "' x'"},
	};
	run_strings(cases, SL_ARRAY_SIZE(cases));
}

static void invalid_utf8_bytes_become_replacement_characters(void **state)
{
	(void)state;
	static const struct scalar_case cases[] = {
	    {"a\xff"
	     "b",
	     "a\xef\xbf\xbd"
	     "b"},
	    {"\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd"},
	    {"\xc0\x80", "\xef\xbf\xbd\xef\xbf\xbd"},                 /* overlong */
	    {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
	};
	run_strings(cases, SL_ARRAY_SIZE(cases));
}

static void characters_go_yaml_refuses_fail_the_print(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "a\x7f"
	    "b",
	    "a\xc2\x80"
	    "b",
	    "a\xc2\x9f"
	    "b",
	    "a\xef\xbf\xbe"
	    "b",
	    "\xef\xbf\xbf",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		_cleanup_node_ struct sl_node *doc = map_of("k", sl_node_new_str(bad[i]));
		struct sl_error err = {0};
		_cleanup_buf_ struct sl_buf b;
		sl_buf_init(&b, 0);
		assert_true(sl_yaml_emit(&b, doc, &err) < 0);
		assert_string_equal(err.msg, "yaml: control characters are not allowed");
		assert_int_equal(b.len, 0);
	}
	/* in a key too */
	_cleanup_node_ struct sl_node *key = map_of("a\x7f", sl_node_new_null());
	struct sl_error err = {0};
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 0);
	assert_true(sl_yaml_emit(&b, key, &err) < 0);
}

static void a_document_marker_after_nel_fails_like_go_yaml(void **state)
{
	(void)state;
	_cleanup_node_ struct sl_node *bad = map_of("k", sl_node_new_str("a\xc2\x85--- b"));
	struct sl_error err = {0};
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 0);
	assert_true(sl_yaml_emit(&b, bad, &err) < 0);
	assert_string_equal(err.msg, "yaml: found unexpected document indicator");
	/* a blank after the break moves the marker off column 0 */
	_cleanup_node_ struct sl_node *fine = map_of("k", sl_node_new_str("a\xc2\x85 --- b"));
	expect_yaml(fine, "k: a --- b\n", "marker after a blank");
}

/* ---- folding at column 80 (rule 10) ------------------------------------- */

static char *repeat(const char *unit, size_t n, const char *tail)
{
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 0);
	for (size_t i = 0; i < n; i++)
		sl_buf_printf(&b, "%s", unit);
	sl_buf_printf(&b, "%s", tail);
	return sl_buf_steal(&b);
}

static void plain_strings_fold_at_a_space_past_column_80(void **state)
{
	(void)state;
	/* "  bNN: " is 7 columns; a space at column 80 stays, at 81 breaks */
	struct {
		const char *key, *unit;
		size_t n;
		bool folds;
	} cases[] = {
	    {"b80", "p", 73, false},
	    {"b81", "q", 74, true},
	    {"u80", "\xc3\xa9", 73, false}, /* columns count characters */
	    {"u81", "\xc3\xa9", 74, true},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *run = repeat(cases[i].unit, cases[i].n, "");
		_cleanup_free_ char *value = sl_asprintf("%s tail", run);
		_cleanup_node_ struct sl_node *doc =
		    map_of("spec", map_of(cases[i].key, sl_node_new_str(value)));
		_cleanup_free_ char *want = sl_asprintf("spec:\n  %s: %s%stail\n", cases[i].key,
		                                        run, cases[i].folds ? "\n    " : " ");
		expect_yaml(doc, want, cases[i].key);
	}
}

static void strings_without_single_spaces_never_fold(void **state)
{
	(void)state;
	_cleanup_free_ char *long_word = repeat("a", 150, "");
	_cleanup_free_ char *doubled =
	    repeat("c", 75, "  two  spaces  between  words  here  and  more");
	_cleanup_node_ struct sl_node *doc = sl_node_new_map();
	sl_node_map_set(doc, "a", sl_node_new_str(long_word));
	sl_node_map_set(doc, "b", sl_node_new_str(doubled));
	_cleanup_free_ char *want = sl_asprintf("a: %s\nb: %s\n", long_word, doubled);
	expect_yaml(doc, want, "no single spaces");
}

static void continuation_lines_indent_under_the_key_or_the_dash(void **state)
{
	(void)state;
	const char *text = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do "
	                   "eiusmod tempor incididunt ut labore et dolore magna aliqua ut enim "
	                   "ad minim veniam quis nostrud exercitation ullamco laboris nisi ut "
	                   "aliquip";
	_cleanup_node_ struct sl_node *list = sl_node_new_seq();
	sl_node_seq_push(list, sl_node_new_str(text));
	struct sl_node *inner = sl_node_new_seq();
	sl_node_seq_push(inner, sl_node_new_str(text));
	sl_node_seq_push(list, inner);
	_cleanup_node_ struct sl_node *doc = map_of("spec", map_of("list", TAKE_PTR(list)));
	expect_yaml(
	    doc,
	    "spec:\n"
	    "  list:\n"
	    "  - lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod "
	    "tempor incididunt\n"
	    "    ut labore et dolore magna aliqua ut enim ad minim veniam quis nostrud "
	    "exercitation\n"
	    "    ullamco laboris nisi ut aliquip\n"
	    "  - - lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod "
	    "tempor\n"
	    "      incididunt ut labore et dolore magna aliqua ut enim ad minim veniam quis "
	    "nostrud\n"
	    "      exercitation ullamco laboris nisi ut aliquip\n",
	    "072 list");
}

static void quoted_strings_fold_but_never_at_their_first_or_last_character(void **state)
{
	(void)state;
	const char *text = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do "
	                   "eiusmod tempor incididunt ut labore et dolore magna aliqua ut enim "
	                   "ad minim veniam quis nostrud exercitation ullamco laboris nisi ut "
	                   "aliquip";
	_cleanup_free_ char *single = sl_asprintf("@%s", text);
	_cleanup_free_ char *dbl = sl_asprintf("%s\tand a tab", text);
	_cleanup_free_ char *trailing = sl_asprintf("%s ", text);
	_cleanup_node_ struct sl_node *spec = sl_node_new_map();
	sl_node_map_set(spec, "needs-double-quotes", sl_node_new_str(dbl));
	sl_node_map_set(spec, "needs-single-quotes", sl_node_new_str(single));
	sl_node_map_set(spec, "trailing-space-long", sl_node_new_str(trailing));
	_cleanup_node_ struct sl_node *doc = map_of("spec", TAKE_PTR(spec));
	expect_yaml(
	    doc,
	    "spec:\n"
	    "  needs-double-quotes: \"lorem ipsum dolor sit amet consectetur adipiscing elit sed\n"
	    "    do eiusmod tempor incididunt ut labore et dolore magna aliqua ut enim ad minim\n"
	    "    veniam quis nostrud exercitation ullamco laboris nisi ut aliquip\\tand a tab\"\n"
	    "  needs-single-quotes: '@lorem ipsum dolor sit amet consectetur adipiscing elit sed\n"
	    "    do eiusmod tempor incididunt ut labore et dolore magna aliqua ut enim ad minim\n"
	    "    veniam quis nostrud exercitation ullamco laboris nisi ut aliquip'\n"
	    "  trailing-space-long: 'lorem ipsum dolor sit amet consectetur adipiscing elit sed\n"
	    "    do eiusmod tempor incididunt ut labore et dolore magna aliqua ut enim ad minim\n"
	    "    veniam quis nostrud exercitation ullamco laboris nisi ut aliquip '\n",
	    "quoted folding");
}

static void double_quoted_fold_before_a_second_space_escapes_it(void **state)
{
	(void)state;
	_cleanup_free_ char *xs = repeat("x", 80, "");
	_cleanup_free_ char *value = sl_asprintf("\t%s  y", xs);
	_cleanup_node_ struct sl_node *doc = map_of("k", sl_node_new_str(value));
	_cleanup_free_ char *want = sl_asprintf("k: \"\\t%s\n  \\ y\"\n", xs);
	expect_yaml(doc, want, "escaped space");
}

static void simple_keys_are_never_folded(void **state)
{
	(void)state;
	_cleanup_free_ char *key =
	    repeat("k", 70, " key that is itself long enough to be folded maybe");
	_cleanup_node_ struct sl_node *doc = map_of(key, sl_node_new_str("lorem ipsum dolor"));
	_cleanup_free_ char *want = sl_asprintf("%s: lorem\n  ipsum dolor\n", key);
	expect_yaml(doc, want, "long simple key");
}

/* ---- block scalars (rule 9) --------------------------------------------- */

static void multiline_strings_print_as_literal_blocks(void **state)
{
	(void)state;
	static const struct scalar_case cases[] = {
	    {"first\nsecond\n", "|\n  first\n  second"},
	    {"first\nsecond", "|-\n  first\n  second"},
	    {"first\nsecond\n\n\n", "|+\n  first\n  second\n\n"},
	    {"a\n\n", "|+\n  a\n"},
	    {"\n", "|2+\n"},
	    {" indented first\nsecond\n", "|2\n   indented first\n  second"},
	    {"\nafter a blank line\n", "|2\n\n  after a blank line"},
	    {"  two\n", "|2\n    two"},
	    {"a\n\nb\n", "|\n  a\n\n  b"},
	    {"a\n b\n", "|\n  a\n   b"},
	    {"key: value\n# not a comment\n", "|\n  key: value\n  # not a comment"},
	    {"premi\xc3\xa8re ligne\ndeuxi\xc3\xa8me ligne\n",
	     "|\n  premi\xc3\xa8re ligne\n  deuxi\xc3\xa8me ligne"},
	};
	run_strings(cases, SL_ARRAY_SIZE(cases));
}

static void multiline_strings_block_style_cannot_hold_are_double_quoted(void **state)
{
	(void)state;
	static const struct scalar_case cases[] = {
	    {"trailing spaces   \nnext\n", "\"trailing spaces   \\nnext\\n\""},
	    {"line1\nline2\n\ttabbed\n", "\"line1\\nline2\\n\\ttabbed\\n\""},
	    {"windows\r\nline endings\r\n", "\"windows\\r\\nline endings\\r\\n\""},
	    {"first line\nsecond \xf0\x9f\x9a\x80 line\n",
	     "\"first line\\nsecond \\U0001F680 line\\n\""},
	    {"ends with space\nx ", "\"ends with space\\nx \""},
	    {"true\n", "|\n  true"},
	};
	run_strings(cases, SL_ARRAY_SIZE(cases));
}

static void literal_blocks_are_never_folded(void **state)
{
	(void)state;
	_cleanup_free_ char *line = repeat("word ", 30, "end\nsecond\n");
	_cleanup_node_ struct sl_node *doc = map_of("k", sl_node_new_str(line));
	_cleanup_free_ char *first = repeat("word ", 30, "end");
	_cleanup_free_ char *want = sl_asprintf("k: |\n  %s\n  second\n", first);
	expect_yaml(doc, want, "long literal line");
}

static void a_keep_block_ends_the_document_with_its_own_newlines(void **state)
{
	(void)state;
	_cleanup_node_ struct sl_node *doc = map_of("z", sl_node_new_str("a\n\n"));
	expect_yaml(doc, "z: |+\n  a\n\n", "keep at end");
	_cleanup_node_ struct sl_node *strip = map_of("z", sl_node_new_str("a\nb"));
	expect_yaml(strip, "z: |-\n  a\n  b\n", "strip at end");
}

/* ---- keys (rule 12) ----------------------------------------------------- */

static void keys_over_128_bytes_are_complex_keys(void **state)
{
	(void)state;
	_cleanup_free_ char *k128 = repeat("k", 128, "");
	_cleanup_free_ char *k129 = repeat("k", 129, "");
	_cleanup_free_ char *e64 = repeat("\xc3\xa9", 64, "");
	_cleanup_free_ char *e65 = repeat("\xc3\xa9", 65, "");
	_cleanup_node_ struct sl_node *doc = sl_node_new_map();
	sl_node_map_set(doc, k128, sl_node_new_str("a"));
	sl_node_map_set(doc, k129, sl_node_new_str("b"));
	sl_node_map_set(doc, e64, sl_node_new_str("c"));
	sl_node_map_set(doc, e65, sl_node_new_str("d"));
	_cleanup_free_ char *want =
	    sl_asprintf("%s: a\n? %s\n: b\n%s: c\n? %s\n: d\n", k128, k129, e64, e65);
	expect_yaml(doc, want, "long keys");
}

static void multiline_keys_are_complex_literal_keys(void **state)
{
	(void)state;
	_cleanup_node_ struct sl_node *doc =
	    map_of("spec", map_of("multi\nline", sl_node_new_str("t")));
	expect_yaml(doc, "spec:\n  ? |-\n    multi\n    line\n  : t\n", "multi-line key");
}

static void complex_keys_fold_and_take_collection_values(void **state)
{
	(void)state;
	_cleanup_free_ char *key = repeat("word ", 29, "");
	_cleanup_free_ char *k129 = repeat("k", 129, "");
	_cleanup_node_ struct sl_node *doc = sl_node_new_map();
	sl_node_map_set(doc, key, sl_node_new_str("folded"));
	struct sl_node *list = sl_node_new_seq();
	sl_node_seq_push(list, sl_node_new_str("x"));
	sl_node_seq_push(list, sl_node_new_str("z"));
	struct sl_node *inner = map_of("a", sl_node_new_int(1));
	sl_node_map_set(inner, "b", list);
	sl_node_map_set(doc, k129, inner);
	_cleanup_free_ char *want = sl_asprintf(
	    "? %s\n: a: 1\n  b:\n  - x\n  - z\n"
	    "? 'word word word word word word word word word word word word word word word "
	    "word\n  word word word word word word word word word word word word word '\n"
	    ": folded\n",
	    k129);
	expect_yaml(doc, want, "complex keys");
}

static void a_merge_key_and_its_value_disappear(void **state)
{
	(void)state;
	_cleanup_node_ struct sl_node *doc = sl_node_new_map();
	sl_node_map_set(doc, "<<", sl_node_new_str("not-a-merge"));
	sl_node_map_set(doc, "=", sl_node_new_str("equals"));
	sl_node_map_set(doc, "only", map_of("<<", map_of("a", sl_node_new_int(1))));
	expect_yaml(doc, "=: equals\nonly: {}\n", "<< key");
}

static void keys_that_json_makes_equal_keep_the_last_value(void **state)
{
	(void)state;
	/* both keys print as "a\uFFFD" (or "a b"); go-yaml keeps the value
	 * that came last in JSON's bytewise key order */
	_cleanup_node_ struct sl_node *doc = sl_node_new_map();
	sl_node_map_set(doc, "a\xff", sl_node_new_str("last"));
	sl_node_map_set(doc, "a\xfe", sl_node_new_str("first"));
	sl_node_map_set(doc,
	                "b\xc2\x85"
	                "c",
	                sl_node_new_str("nel"));
	sl_node_map_set(doc, "b c", sl_node_new_str("space"));
	expect_yaml(doc, "a\xef\xbf\xbd: last\nb c: nel\n", "colliding keys");
}

/* ---- collections and documents (rules 1, 4) ----------------------------- */

static void collections_nest_like_go_yaml_v2(void **state)
{
	(void)state;
	_cleanup_node_ struct sl_node *doc = sl_node_new_map();
	struct sl_node *list = sl_node_new_seq();
	sl_node_seq_push(list, sl_node_new_str("a"));
	struct sl_node *item = map_of("name", sl_node_new_str("x"));
	sl_node_map_set(item, "value", sl_node_new_str("v"));
	sl_node_seq_push(list, item);
	struct sl_node *nested = sl_node_new_seq();
	sl_node_seq_push(nested, sl_node_new_str("b"));
	sl_node_seq_push(nested, sl_node_new_str("c"));
	sl_node_seq_push(list, nested);
	sl_node_seq_push(list, sl_node_new_seq());
	sl_node_seq_push(list, sl_node_new_map());
	sl_node_seq_push(list, sl_node_new_null());
	sl_node_seq_push(list, sl_node_new_str("line\n"));
	sl_node_map_set(doc, "list", list);
	sl_node_map_set(doc, "map", map_of("inner", map_of("deep", sl_node_new_int(1))));
	sl_node_map_set(doc, "empty-map", sl_node_new_map());
	sl_node_map_set(doc, "empty-list", sl_node_new_seq());
	sl_node_map_set(doc, "nothing", sl_node_new_null());
	expect_yaml(doc,
	            "empty-list: []\n"
	            "empty-map: {}\n"
	            "list:\n"
	            "- a\n"
	            "- name: x\n"
	            "  value: v\n"
	            "- - b\n"
	            "  - c\n"
	            "- []\n"
	            "- {}\n"
	            "- null\n"
	            "- |\n"
	            "  line\n"
	            "map:\n"
	            "  inner:\n"
	            "    deep: 1\n"
	            "nothing: null\n",
	            "collections");
}

static void documents_of_any_shape_end_with_one_newline(void **state)
{
	(void)state;
	_cleanup_node_ struct sl_node *seq = sl_node_new_seq();
	sl_node_seq_push(seq, map_of("a", sl_node_new_int(1)));
	sl_node_seq_push(seq, sl_node_new_str("b"));
	expect_yaml(seq, "- a: 1\n- b\n", "root sequence");
	_cleanup_node_ struct sl_node *str = sl_node_new_str("hello");
	expect_yaml(str, "hello\n", "root scalar");
	_cleanup_node_ struct sl_node *lit = sl_node_new_str("a\nb\n");
	expect_yaml(lit, "|\n  a\n  b\n", "root literal");
	_cleanup_node_ struct sl_node *empty = sl_node_new_map();
	expect_yaml(empty, "{}\n", "root empty map");
	_cleanup_node_ struct sl_node *null = sl_node_new_null();
	expect_yaml(null, "null\n", "root null");
	expect_yaml(NULL, "null\n", "no node");
}

static void trees_nested_beyond_the_cap_are_refused(void **state)
{
	(void)state;
	_cleanup_node_ struct sl_node *doc = sl_node_new_null();
	for (int i = 0; i < 2 * SL_YAML_MAX_DEPTH + 2; i++)
		doc = map_of("k", doc);
	struct sl_error err = {0};
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 0);
	assert_int_equal(sl_yaml_emit(&b, doc, &err), SL_ELIMIT);
	assert_int_equal(b.len, 0);
	assert_int_equal(sl_json_emit(&b, doc, &err), SL_ELIMIT);
	assert_int_equal(b.len, 0);
}

static void emit_appends_after_existing_content(void **state)
{
	(void)state;
	_cleanup_node_ struct sl_node *doc = map_of("a", sl_node_new_int(1));
	struct sl_error err = {0};
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 0);
	assert_int_equal(sl_yaml_emit(&b, doc, &err), 0);
	assert_int_equal(sl_buf_append(&b, "---\n", 4), 0);
	assert_int_equal(sl_yaml_emit(&b, doc, &err), 0);
	assert_string_equal(b.data, "a: 1\n---\na: 1\n");
}

static void emit_reports_a_full_buffer_and_leaves_it_as_it_was(void **state)
{
	(void)state;
	_cleanup_node_ struct sl_node *doc = map_of("key", sl_node_new_str("a long enough value"));
	struct sl_error err = {0};
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 16);
	assert_int_equal(sl_buf_append(&b, "x", 1), 0);
	assert_int_equal(sl_yaml_emit(&b, doc, &err), SL_ELIMIT);
	assert_string_equal(b.data, "x");
	assert_int_equal(sl_json_emit(&b, doc, &err), SL_ELIMIT);
	assert_string_equal(b.data, "x");
}

/* ---- Go's encoding/json -------------------------------------------------- */

static char *json(const struct sl_node *n)
{
	struct sl_error err = {0};
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 0);
	if (sl_json_emit(&b, n, &err) < 0)
		fail_msg("sl_json_emit failed: %s", err.msg);
	return sl_buf_steal(&b);
}

static void json_is_compact_with_keys_sorted_bytewise(void **state)
{
	(void)state;
	_cleanup_node_ struct sl_node *doc = sl_node_new_map();
	struct sl_node *list = sl_node_new_seq();
	sl_node_seq_push(list, sl_node_new_bool(true));
	sl_node_seq_push(list, sl_node_new_null());
	sl_node_seq_push(list, sl_node_new_str("x<y>&z"));
	sl_node_map_set(doc, "b", sl_node_new_int(-1));
	sl_node_map_set(doc, "a", list);
	sl_node_map_set(doc, "\xc3\xa9", sl_node_new_map());
	sl_node_map_set(doc, "B", sl_node_new_seq());
	sl_node_map_set(doc, "ab", sl_node_new_uint(UINT64_MAX));
	sl_node_map_set(doc, "<<", sl_node_new_bool(false));
	_cleanup_free_ char *got = json(doc);
	assert_string_equal(got, "{\"\\u003c\\u003c\":false,\"B\":[],\"a\":[true,null,"
	                         "\"x\\u003cy\\u003e\\u0026z\"],\"ab\":18446744073709551615,"
	                         "\"b\":-1,\"\xc3\xa9\":{}}");
}

static void json_formats_floats_like_go(void **state)
{
	(void)state;
	static const struct float_case cases[] = {
	    {1.0, "1"},
	    {-0.0, "-0"},
	    {0.5, "0.5"},
	    {1e-6, "0.000001"},
	    {1e-7, "1e-7"},
	    {1.5e-7, "1.5e-7"},
	    {1e20, "100000000000000000000"},
	    {1e21, "1e+21"},
	    {123456789.123, "123456789.123"},
	    {6.0221409e+23, "6.0221409e+23"},
	    {9223372036854775808.0, "9223372036854776000"},
	    {5e-324, "5e-324"},
	    {1e-100, "1e-100"},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		_cleanup_node_ struct sl_node *n = sl_node_new_float(cases[i].in);
		_cleanup_free_ char *got = json(n);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("row %zu: got %s, want %s", i, got, cases[i].want);
	}
}

static void json_escapes_strings_like_go(void **state)
{
	(void)state;
	_cleanup_node_ struct sl_node *list = sl_node_new_seq();
	sl_node_seq_push(list, sl_node_new_strn("a\0b\0", 4));
	sl_node_seq_push(list, sl_node_new_str("\xff\xe2\x80\xa8\t\""));
	_cleanup_free_ char *got = json(list);
	assert_string_equal(got, "[\"a\\u0000b\\u0000\",\"\\ufffd\\u2028\\t\\\"\"]");
}

static void json_fails_on_nonfinite_values_appending_nothing(void **state)
{
	(void)state;
	_cleanup_node_ struct sl_node *doc = map_of("x", sl_node_new_float(-INFINITY));
	struct sl_error err = {0};
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 0);
	sl_buf_append(&b, "[", 1);
	assert_int_equal(sl_json_emit(&b, doc, &err), SL_EINVAL);
	assert_string_equal(err.msg, "json: unsupported value: -Inf");
	assert_string_equal(b.data, "[");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keys_sort_in_go_yaml_v2_natural_order),
	    cmocka_unit_test(keys_starting_with_punctuation_sort_first),
	    cmocka_unit_test(keys_are_not_special_by_name),
	    cmocka_unit_test(integral_floats_print_as_integers),
	    cmocka_unit_test(other_floats_print_in_go_g_format),
	    cmocka_unit_test(integers_print_in_decimal_to_the_extremes),
	    cmocka_unit_test(nonfinite_floats_fail_like_go_json_and_print_nothing),
	    cmocka_unit_test(strings_that_read_back_as_other_types_are_double_quoted),
	    cmocka_unit_test(strings_that_stay_strings_are_plain),
	    cmocka_unit_test(strings_with_indicators_are_single_quoted),
	    cmocka_unit_test(unprintable_characters_force_double_quotes_with_escapes),
	    cmocka_unit_test(strings_keep_a_nul_and_escape_it),
	    cmocka_unit_test(line_separators_force_single_quotes_and_indent_the_next_line),
	    cmocka_unit_test(nel_reads_back_as_a_folded_space),
	    cmocka_unit_test(invalid_utf8_bytes_become_replacement_characters),
	    cmocka_unit_test(characters_go_yaml_refuses_fail_the_print),
	    cmocka_unit_test(a_document_marker_after_nel_fails_like_go_yaml),
	    cmocka_unit_test(plain_strings_fold_at_a_space_past_column_80),
	    cmocka_unit_test(strings_without_single_spaces_never_fold),
	    cmocka_unit_test(continuation_lines_indent_under_the_key_or_the_dash),
	    cmocka_unit_test(quoted_strings_fold_but_never_at_their_first_or_last_character),
	    cmocka_unit_test(double_quoted_fold_before_a_second_space_escapes_it),
	    cmocka_unit_test(simple_keys_are_never_folded),
	    cmocka_unit_test(multiline_strings_print_as_literal_blocks),
	    cmocka_unit_test(multiline_strings_block_style_cannot_hold_are_double_quoted),
	    cmocka_unit_test(literal_blocks_are_never_folded),
	    cmocka_unit_test(a_keep_block_ends_the_document_with_its_own_newlines),
	    cmocka_unit_test(keys_over_128_bytes_are_complex_keys),
	    cmocka_unit_test(multiline_keys_are_complex_literal_keys),
	    cmocka_unit_test(complex_keys_fold_and_take_collection_values),
	    cmocka_unit_test(a_merge_key_and_its_value_disappear),
	    cmocka_unit_test(keys_that_json_makes_equal_keep_the_last_value),
	    cmocka_unit_test(collections_nest_like_go_yaml_v2),
	    cmocka_unit_test(documents_of_any_shape_end_with_one_newline),
	    cmocka_unit_test(trees_nested_beyond_the_cap_are_refused),
	    cmocka_unit_test(emit_appends_after_existing_content),
	    cmocka_unit_test(emit_reports_a_full_buffer_and_leaves_it_as_it_was),
	    cmocka_unit_test(json_is_compact_with_keys_sorted_bytewise),
	    cmocka_unit_test(json_formats_floats_like_go),
	    cmocka_unit_test(json_escapes_strings_like_go),
	    cmocka_unit_test(json_fails_on_nonfinite_values_appending_nothing),
	};
	return cmocka_run_group_tests_name("yaml_emit", tests, NULL, NULL);
}
