/* sl_yaml_parse: YAML read the way `kubectl kustomize` reads it (kyaml's
 * document splitting, go-yaml v3's resolution and decoding, the round trip
 * through go-yaml v3's emitter). The expectations follow go-yaml v3.0.1 and
 * the corpus in tests/data/kustomize (070-084, 102, 103, 121-123); see its
 * README, "Observed kubectl kustomize output rules", §1, §4, §5 and §7. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "codec/yaml.h"
#include "testlib.h"

/* ---- helpers --------------------------------------------------------- */

/* The last parse: freed by the next one or by teardown, so a failed
 * assertion (which longjmps) leaks nothing. */
static struct sl_node *held, *kept;
static struct sl_error err;

static int free_held(void **state)
{
	(void)state;
	held = sl_node_free(held);
	kept = sl_node_free(kept);
	tl_free_owned();
	return 0;
}

/* The documents of text, which must parse. */
static struct sl_node *docs_of(const char *text, size_t len)
{
	held = sl_node_free(held);
	memset(&err, 0, sizeof(err));
	int r = sl_yaml_parse(text, len, "in.yaml", &held, &err);
	if (r < 0)
		fail_msg("%s: unexpected error: %s", text, err.msg);
	assert_non_null(held);
	assert_int_equal(held->type, SL_NODE_SEQ);
	return held;
}

static struct sl_node *parse(const char *text)
{
	return docs_of(text, strlen(text));
}

/* The one document of text. */
static struct sl_node *doc_of(const char *text)
{
	struct sl_node *docs = parse(text);
	if (docs->seq.len != 1)
		fail_msg("%s: %zu documents, want 1", text, docs->seq.len);
	return docs->seq.items[0];
}

/* The error text must give, with its code. */
static const char *error_of_len(const char *text, size_t len, int *ret_code)
{
	held = sl_node_free(held);
	memset(&err, 0, sizeof(err));
	struct sl_node *docs = NULL;
	int r = sl_yaml_parse(text, len, "in.yaml", &docs, &err);
	if (r == 0) {
		held = docs;
		fail_msg("%s: parsed, want an error", text);
	}
	assert_null(docs);
	assert_true(err.msg[0] != '\0');
	if (ret_code)
		*ret_code = r;
	return err.msg;
}

static const char *error_of(const char *text)
{
	return error_of_len(text, strlen(text), NULL);
}

static void check_contains(const char *what, const char *msg, const char *part)
{
	if (!strstr(msg, part))
		fail_msg("%s: error \"%s\" lacks \"%s\"", what, msg, part);
}

/* doc["v"] of "v: TEXT". */
static const struct sl_node *value_of(const char *text)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "v: %s\n", text);
	const struct sl_node *v = sl_node_map_get(doc_of(buf), "v");
	if (!v)
		fail_msg("%s: no value", text);
	return v;
}

/* An expected value. */
struct want {
	enum sl_node_type type;
	bool b;
	int64_t i;
	uint64_t u;
	double f;
	const char *s;
};

#define W_NULL                                                                                     \
	{                                                                                          \
		SL_NODE_NULL, false, 0, 0, 0, NULL                                                 \
	}
#define W_BOOL(x)                                                                                  \
	{                                                                                          \
		SL_NODE_BOOL, x, 0, 0, 0, NULL                                                     \
	}
#define W_INT(x)                                                                                   \
	{                                                                                          \
		SL_NODE_INT, false, x, 0, 0, NULL                                                  \
	}
#define W_UINT(x)                                                                                  \
	{                                                                                          \
		SL_NODE_UINT, false, 0, x, 0, NULL                                                 \
	}
#define W_FLT(x)                                                                                   \
	{                                                                                          \
		SL_NODE_FLOAT, false, 0, 0, x, NULL                                                \
	}
#define W_STR(x)                                                                                   \
	{                                                                                          \
		SL_NODE_STR, false, 0, 0, 0, x                                                     \
	}

static void check_value(const char *what, const struct sl_node *n, const struct want *w)
{
	if (n->type != w->type)
		fail_msg("%s: a %s, want a %s", what, sl_node_type_name(n->type),
		         sl_node_type_name(w->type));
	switch (w->type) {
	case SL_NODE_BOOL:
		if (n->b != w->b)
			fail_msg("%s: %d, want %d", what, n->b, w->b);
		break;
	case SL_NODE_INT:
		if (n->i != w->i)
			fail_msg("%s: %lld, want %lld", what, (long long)n->i, (long long)w->i);
		break;
	case SL_NODE_UINT:
		if (n->u != w->u)
			fail_msg("%s: %llu, want %llu", what, (unsigned long long)n->u,
			         (unsigned long long)w->u);
		break;
	case SL_NODE_FLOAT:
		if (isnan(w->f) ? !isnan(n->f) : memcmp(&n->f, &w->f, sizeof(double)) != 0)
			fail_msg("%s: %.17g, want %.17g", what, n->f, w->f);
		break;
	case SL_NODE_STR:
		if (n->str.len != strlen(w->s) || memcmp(n->str.ptr, w->s, n->str.len) != 0)
			fail_msg("%s: \"%s\", want \"%s\"", what, n->str.ptr, w->s);
		break;
	default: break;
	}
}

struct scalar_case {
	const char *text;
	struct want want;
};

static void run_scalars(const struct scalar_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check_value(cases[i].text, value_of(cases[i].text), &cases[i].want);
}

/* Both documents parse and hold the same value (maps as sets). */
static void check_same_doc(const char *text, const char *want_text)
{
	kept = sl_node_free(kept);
	kept = sl_node_copy(doc_of(text));
	const struct sl_node *want = doc_of(want_text);
	if (!sl_node_equal(kept, want))
		fail_msg("%s: does not read as %s", text, want_text);
}

struct error_case {
	const char *text;
	const char *want; /* a part of the message */
};

static void run_errors(const struct error_case *cases, size_t n, int want_code)
{
	for (size_t i = 0; i < n; i++) {
		int code;
		const char *msg = error_of_len(cases[i].text, strlen(cases[i].text), &code);
		check_contains(cases[i].text, msg, cases[i].want);
		if (want_code && code != want_code)
			fail_msg("%s: code %d, want %d", cases[i].text, code, want_code);
	}
}

/* ---- scalars (§5, §6) ------------------------------------------------- */

static void plain_scalars_resolve_as_go_yaml_v3(void **state)
{
	(void)state;
	static const struct scalar_case cases[] = {
	    /* YAML 1.2 booleans only */
	    {"true", W_BOOL(true)},
	    {"True", W_BOOL(true)},
	    {"TRUE", W_BOOL(true)},
	    {"false", W_BOOL(false)},
	    {"False", W_BOOL(false)},
	    {"FALSE", W_BOOL(false)},
	    {"tRUE", W_STR("tRUE")},
	    {"yes", W_STR("yes")},
	    {"no", W_STR("no")},
	    {"on", W_STR("on")},
	    {"off", W_STR("off")},
	    {"y", W_STR("y")},
	    {"n", W_STR("n")},
	    {"Yes", W_STR("Yes")},
	    /* nulls */
	    {"~", W_NULL},
	    {"null", W_NULL},
	    {"Null", W_NULL},
	    {"NULL", W_NULL},
	    {"", W_NULL},
	    {"nULL", W_STR("nULL")},
	    /* the merge key is a string anywhere but a key */
	    {"<<", W_STR("<<")},
	    {"other", W_STR("other")},
	};
	run_scalars(cases, SL_ARRAY_SIZE(cases));
}

static void integers_use_go_parseint_syntax(void **state)
{
	(void)state;
	static const struct scalar_case cases[] = {
	    {"0", W_INT(0)},
	    {"-0", W_INT(0)},
	    {"+1", W_INT(1)},
	    {"42", W_INT(42)},
	    {"00", W_INT(0)},
	    {"0755", W_INT(493)}, /* legacy octal */
	    {"012", W_INT(10)},
	    {"0o17", W_INT(15)},
	    {"0O17", W_INT(15)},
	    {"0x1F", W_INT(31)},
	    {"0X1f", W_INT(31)},
	    {"+0x1F", W_INT(31)},
	    {"0b101", W_INT(5)},
	    {"0B101", W_INT(5)},
	    {"-0b101", W_INT(-5)},
	    {"-0o17", W_INT(-15)},
	    /* resolve.go's prefix fallbacks take a sign after the prefix */
	    {"0b-101", W_INT(-5)},
	    {"0o-17", W_INT(-15)},
	    /* every underscore goes before parsing */
	    {"1_000_000", W_INT(1000000)},
	    {"0x_1F", W_INT(31)},
	    {"1__0", W_INT(10)},
	    {"1_", W_INT(1)},
	    {"0_7", W_INT(7)},
	    {"_1", W_STR("_1")},
	    {"9007199254740993", W_INT(9007199254740993)},
	    {"9223372036854775807", W_INT(INT64_MAX)},
	    {"-9223372036854775808", W_INT(INT64_MIN)},
	    {"-0x8000000000000000", W_INT(INT64_MIN)},
	    /* past int64: uint64, then float */
	    {"9223372036854775808", W_UINT(9223372036854775808u)},
	    {"18446744073709551615", W_UINT(UINT64_MAX)},
	    {"0xFFFFFFFFFFFFFFFF", W_UINT(UINT64_MAX)},
	    {"0b1111111111111111111111111111111111111111111111111111111111111111",
	     W_UINT(UINT64_MAX)},
	    {"0o1777777777777777777777", W_UINT(UINT64_MAX)},
	    {"18446744073709551616", W_FLT(18446744073709551616.0)},
	    {"+18446744073709551615", W_FLT(18446744073709551615.0)}, /* ParseUint takes no sign */
	    {"-9223372036854775809", W_FLT(-9223372036854775809.0)},
	    {"0x10000000000000000", W_STR("0x10000000000000000")},
	    {"0x", W_STR("0x")},
	    {"0o", W_STR("0o")},
	    {"0b", W_STR("0b")},
	    {"0x1p3", W_STR("0x1p3")},
	    {"+", W_STR("+")},
	    {"--1", W_STR("--1")},
	    {"1,000", W_STR("1,000")},
	    {"12:30", W_STR("12:30")}, /* no sexagesimal */
	    {"1.2.3", W_STR("1.2.3")},
	    {"v1.0", W_STR("v1.0")},
	};
	run_scalars(cases, SL_ARRAY_SIZE(cases));
}

static void floats_match_the_yaml_float_syntax(void **state)
{
	(void)state;
	static const struct scalar_case cases[] = {
	    {"08", W_FLT(8)}, /* not octal, but a float */
	    {"09.5", W_FLT(9.5)},
	    {"1.0", W_FLT(1)},
	    {"1.", W_FLT(1)},
	    {".5", W_FLT(0.5)},
	    {"+.5", W_FLT(0.5)},
	    {"-.5", W_FLT(-0.5)},
	    {"-1.5", W_FLT(-1.5)},
	    {"1e3", W_FLT(1000)},
	    {"1E+3", W_FLT(1000)},
	    {"1.5e-7", W_FLT(1.5e-7)},
	    {"6.0221409e+23", W_FLT(6.0221409e+23)},
	    {"0.99999999999999999", W_FLT(1)},
	    {"-0.0", W_FLT(-0.0)},
	    {"1_000.5", W_FLT(1000.5)},
	    {".5_5", W_FLT(0.55)},
	    {"1e-400", W_FLT(0)},      /* underflow is zero */
	    {"1e400", W_STR("1e400")}, /* overflow is an error: a string */
	    {".5e400", W_STR(".5e400")},
	    {"._5", W_STR("._5")},
	    {".5_", W_STR(".5_")},
	    {".e5", W_STR(".e5")},
	    {".", W_STR(".")},
	    {"1e", W_STR("1e")},
	    {".inf", W_FLT(INFINITY)},
	    {".Inf", W_FLT(INFINITY)},
	    {"+.INF", W_FLT(INFINITY)},
	    {"-.inf", W_FLT(-INFINITY)},
	    {".nan", W_FLT(NAN)},
	    {".NaN", W_FLT(NAN)},
	    {".NAN", W_FLT(NAN)},
	    {".nAn", W_STR(".nAn")},
	    {"inf", W_STR("inf")},
	    {"-inf", W_STR("-inf")},
	    {"NaN", W_STR("NaN")},
	    {"Infinity", W_STR("Infinity")},
	};
	run_scalars(cases, SL_ARRAY_SIZE(cases));
}

static void quoted_and_block_scalars_are_strings(void **state)
{
	(void)state;
	static const struct scalar_case cases[] = {
	    {"'true'", W_STR("true")},
	    {"\"1\"", W_STR("1")},
	    {"\"~\"", W_STR("~")},
	    {"''", W_STR("")},
	    {"\"2024-03-01\"", W_STR("2024-03-01")},
	    {"|\n  1\n", W_STR("1\n")},
	    {">-\n  true\n", W_STR("true")},
	    {"\"a\\0b\"", W_STR("a")}, /* compared up to the NUL; length checked below */
	    {"\"caf\\u00e9 \\u2603\"", W_STR("caf\xc3\xa9 \xe2\x98\x83")},
	    {"\"a\\u007fb\"", W_STR("a\x7f"
	                            "b")}, /* escaped: the emitter refuses it later */
	    {"\"line1\\nline2\\n\\ttabbed\\n\"", W_STR("line1\nline2\n\ttabbed\n")},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		const struct sl_node *v = value_of(cases[i].text);
		if (strcmp(cases[i].text, "\"a\\0b\"") == 0) {
			assert_int_equal(v->type, SL_NODE_STR);
			assert_int_equal(v->str.len, 3);
			assert_memory_equal(v->str.ptr, "a\0b", 4);
			continue;
		}
		check_value(cases[i].text, v, &cases[i].want);
	}
}

static void explicit_tags_decode_as_go_yaml_v3(void **state)
{
	(void)state;
	static const struct scalar_case cases[] = {
	    {"!!str 1", W_STR("1")},
	    {"!!str true", W_STR("true")},
	    {"!!int \"12\"", W_INT(12)},
	    {"!!int 0x10", W_INT(16)},
	    {"!!float 1", W_FLT(1)},
	    {"!!float '2.5'", W_FLT(2.5)},
	    {"!!bool true", W_BOOL(true)},
	    {"!!null ~", W_NULL},
	    {"!!null ''", W_NULL},
	    {"!!timestamp 2024-01-01", W_STR("2024-01-01T00:00:00Z")},
	    {"!!timestamp '2024-01-01'", W_STR("2024-01-01T00:00:00Z")},
	    {"!!binary aGVsbG8=", W_STR("hello")},
	    {"!!binary |\n  aGVs\n  bG8=\n", W_STR("hello")},
	    {"!!binary ''", W_STR("")},
	    {"!custom 12", W_STR("12")},
	    {"!!map 12", W_STR("12")},
	    {"!!merge x", W_STR("x")},
	    {"!<tag:example.com,2000:x> 12", W_STR("12")},
	    /* the non-specific tag is no tag */
	    {"! 12", W_INT(12)},
	    {"! '12'", W_STR("12")},
	};
	run_scalars(cases, SL_ARRAY_SIZE(cases));
}

static void explicit_tags_refuse_values_of_another_type(void **state)
{
	(void)state;
	static const struct error_case cases[] = {
	    {"v: !!int 1.5\n", "in.yaml:1: yaml: cannot decode !!float `1.5` as a !!int"},
	    {"v: !!bool yes\n", "cannot decode !!str `yes` as a !!bool"},
	    {"v: !!null 0\n", "cannot decode !!int `0` as a !!null"},
	    {"v: !!timestamp 2024-13-01\n", "cannot decode !!str `2024-13-01` as a !!timestamp"},
	    /* only an int64 converts to a float */
	    {"v: !!float 18446744073709551615\n", "cannot decode !!int"},
	    {"a: 1\nv: !!binary '%%%'\n",
	     "in.yaml:2: yaml: !!binary value contains invalid base64"},
	    {"v: !!binary aGVsbG8\n", "invalid base64"},
	};
	run_errors(cases, SL_ARRAY_SIZE(cases), SL_EINVAL);
}

/* Flux's post-build substitution re-reads a string that was written
 * unquoted (sl_node.plain), so `${N}` may become a number. */
static void plain_strings_are_marked_for_substitution(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		bool plain;
	} cases[] = {
	    {"${COUNT}", true}, {"a b", true},       {"'${COUNT}'", false},
	    {"\"x\"", false},   {"|\n  x\n", false}, {">\n  x\n", false},
	    {"!!str x", false}, {"! x", true},       {"2024-03-01", false},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		const struct sl_node *v = value_of(cases[i].text);
		if (v->plain != cases[i].plain)
			fail_msg("%s: plain %d, want %d", cases[i].text, v->plain, cases[i].plain);
	}
	struct sl_node *doc = doc_of("a: &a x\nb: *a\nc: [y, 'z']\n");
	assert_true(sl_node_map_get(doc, "b")->plain);
	assert_true(sl_node_dig(doc, "c", NULL)->seq.items[0]->plain);
	assert_false(sl_node_dig(doc, "c", NULL)->seq.items[1]->plain);
}

/* ---- timestamps (§7) --------------------------------------------------- */

static void timestamps_become_rfc3339_strings(void **state)
{
	(void)state;
	static const struct scalar_case cases[] = {
	    {"2024-03-01", W_STR("2024-03-01T00:00:00Z")},
	    {"2024-3-1", W_STR("2024-03-01T00:00:00Z")},
	    {"2024-03-01T12:30:00Z", W_STR("2024-03-01T12:30:00Z")},
	    {"2024-03-01t12:30:00-05:00", W_STR("2024-03-01T12:30:00-05:00")},
	    {"2024-03-01T12:30:00+01:00", W_STR("2024-03-01T12:30:00+01:00")},
	    {"2024-03-01 12:30:00", W_STR("2024-03-01T12:30:00Z")},
	    {"2024-03-01   12:30:00", W_STR("2024-03-01T12:30:00Z")},
	    {"2024-03-01 12:30:00.50", W_STR("2024-03-01T12:30:00.5Z")},
	    {"2024-03-01 12:30:00,5", W_STR("2024-03-01T12:30:00.5Z")},
	    {"2024-03-01T12:30:00.123456789Z", W_STR("2024-03-01T12:30:00.123456789Z")},
	    {"2024-03-01T12:30:00.1234567891Z", W_STR("2024-03-01T12:30:00.123456789Z")},
	    {"2024-03-01T12:30:00.000Z", W_STR("2024-03-01T12:30:00Z")},
	    {"2024-1-2T3:4:5Z", W_STR("2024-01-02T03:04:05Z")},
	    {"2024-03-01T12:30:00+00:00", W_STR("2024-03-01T12:30:00Z")},
	    {"2024-03-01T12:30:00-00:00", W_STR("2024-03-01T12:30:00Z")},
	    {"2024-03-01T12:30:00+01:60", W_STR("2024-03-01T12:30:00+02:00")},
	    {"2024-02-29", W_STR("2024-02-29T00:00:00Z")},
	    {"2000-02-29", W_STR("2000-02-29T00:00:00Z")},
	    {"0000-01-01", W_STR("0000-01-01T00:00:00Z")},
	    /* what time.Parse refuses stays the text it was */
	    {"1900-02-29", W_STR("1900-02-29")},
	    {"2023-02-29", W_STR("2023-02-29")},
	    {"2024-13-45", W_STR("2024-13-45")},
	    {"2024-00-10", W_STR("2024-00-10")},
	    {"2024-03-32", W_STR("2024-03-32")},
	    {"2024-003-01", W_STR("2024-003-01")},
	    {"2024-03-01 12:30:00 +1", W_STR("2024-03-01 12:30:00 +1")},
	    {"2024-03-01T12:30:00", W_STR("2024-03-01T12:30:00")},
	    {"2024-03-01T24:00:00Z", W_STR("2024-03-01T24:00:00Z")},
	    {"2024-03-01T12:60:00Z", W_STR("2024-03-01T12:60:00Z")},
	    {"2024-03-01T12:30:60Z", W_STR("2024-03-01T12:30:60Z")},
	    {"2024-03-01T12:30:00z", W_STR("2024-03-01T12:30:00z")},
	    {"2024-03-01T12:30:00+25:00", W_STR("2024-03-01T12:30:00+25:00")},
	    {"2024-03-01 12:30", W_STR("2024-03-01 12:30")},
	    {"2024-03-01x", W_STR("2024-03-01x")},
	    {"24-03-01", W_STR("24-03-01")},
	    {"12024-03-01", W_STR("12024-03-01")},
	    {"2024.03.01", W_STR("2024.03.01")},
	};
	run_scalars(cases, SL_ARRAY_SIZE(cases));
}

/* time.Parse takes a 24-hour offset; Go's JSON encoding of the time does not. */
static void timestamps_with_a_day_long_offset_fail(void **state)
{
	(void)state;
	const char *msg = error_of("a: 1\nv: 2024-03-01T12:30:00+24:00\n");
	check_contains("offset", msg, "in.yaml:2: json:");
	check_contains("offset", msg, "timezone hour outside of range");
}

/* go-yaml v3's encoder single-quotes a plain date-time in a flow
 * collection (':' is a flow indicator), so it reads back as a string;
 * a date alone is still a timestamp. What counts is where each copy of an
 * anchored value lands. */
static void flow_collections_keep_date_times_as_written(void **state)
{
	(void)state;
	check_same_doc("v: [2024-03-01, 2024-03-01T12:30:00Z, 2024-03-01 12:30:00, "
	               "2024-03-01t12:30:00.50-05:00]\n",
	               "v: ['2024-03-01T00:00:00Z', '2024-03-01T12:30:00Z', '2024-03-01 12:30:00', "
	               "'2024-03-01t12:30:00.50-05:00']\n");
	check_same_doc("v: {at: 2024-03-01 12:30:00.50, on: 2024-03-01}\n",
	               "v: {at: '2024-03-01 12:30:00.50', on: '2024-03-01T00:00:00Z'}\n");
	check_same_doc("v: [[{a: 2024-03-01 12:30:00}]]\n", "v: [[{a: '2024-03-01 12:30:00'}]]\n");
	check_same_doc("t: &t 2024-03-01 12:30:00\nf: [*t]\n",
	               "t: '2024-03-01T12:30:00Z'\nf: ['2024-03-01 12:30:00']\n");
	check_same_doc("f: [&t 2024-03-01 12:30:00]\nb: *t\n",
	               "f: ['2024-03-01 12:30:00']\nb: '2024-03-01T12:30:00Z'\n");
	/* a block map copied into a flow one is written in flow style */
	check_same_doc("b: &b\n  at: 2024-03-01 12:30:00\nf: [*b]\n",
	               "b: {at: '2024-03-01T12:30:00Z'}\nf: [{at: '2024-03-01 12:30:00'}]\n");
	/* an explicit tag is written out and honoured */
	check_same_doc("f: [!!timestamp 2024-03-01 12:30:00]\n", "f: ['2024-03-01T12:30:00Z']\n");
	/* a date-time key in a flow map is a string key */
	check_same_doc("f: {2024-01-01T10:00:00Z: x}\n", "f: {'2024-01-01T10:00:00Z': x}\n");
}

/* The encoder writes an empty plain scalar '' in a flow collection and as a
 * key: it reads back as "", not null. */
static void empty_plain_scalars_in_flow_read_as_empty_strings(void **state)
{
	(void)state;
	check_same_doc("v: {a: , b}\n", "v: {a: '', b: ''}\n");
	check_same_doc("v: [a: ]\n", "v: [{a: ''}]\n");
	check_same_doc("v: [null, ~, '']\n", "v: [~, ~, '']\n");
	check_same_doc("v:\n", "v: ~\n");
	check_same_doc("v:\n- \n", "v: [~]\n");
	check_same_doc("? \n: x\n", "'': x\n");
	check_same_doc("e: &e\nf: [*e]\n", "e: ~\nf: ['']\n");
	check_same_doc("f: [!!null '']\n", "f: [~]\n");
}

/* ---- folded scalars (§5) ------------------------------------------------ */

/* go-yaml v3's emitter writes a folded scalar with an extra line break
 * after each line that is not more-indented (it checks the start of the
 * whole value instead of the next line), and reading that back adds a
 * `\n` before more-indented lines and one at the end of a kept scalar. */
static void folded_scalars_read_as_go_yaml_v3_reads_them(void **state)
{
	(void)state;
	static const struct scalar_case cases[] = {
	    {">\n  folded\n  into one line\n\n  new paragraph\n",
	     W_STR("folded into one line\nnew paragraph\n")},
	    {">-\n  folded\n  strip\n", W_STR("folded strip")},
	    {">+\n  folded keep\n", W_STR("folded keep\n\n\n")},
	    {">\n  normal\n    more indented\n  normal again\n",
	     W_STR("normal\n\n  more indented\nnormal again\n")},
	    {">\n  a\n\n    b\n", W_STR("a\n\n\n  b\n")},
	    /* starting with a space: no line break is doubled */
	    {">2\n   lead\n  x\n", W_STR(" lead\nx\n")},
	    /* a space before a line break: written double-quoted, unchanged */
	    {">\n  a \n\n  b\n", W_STR("a \nb\n")},
	    /* a character outside the BMP: double-quoted too */
	    {">\n  a\n    \xf0\x9f\x9a\x80\n", W_STR("a\n  \xf0\x9f\x9a\x80\n")},
	    {">\n  single\n", W_STR("single\n")},
	    {"|\n  literal\n    more\n", W_STR("literal\n  more\n")},
	};
	run_scalars(cases, SL_ARRAY_SIZE(cases));
	/* in a flow collection the encoder double-quotes it */
	check_same_doc("a: &f >\n  x\n    y\nb: [*f]\n",
	               "a: \"x\\n\\n  y\\n\"\nb: [\"x\\n  y\\n\"]\n");
	/* a multi-line key is written as a `? >` complex key */
	check_same_doc("? >\n  k1\n    k2\n: v\n", "\"k1\\n\\n  k2\\n\": v\n");
	check_same_doc("? >-\n  k\n: v\n", "k: v\n");
}

/* ---- anchors, aliases, merge keys (§4) ---------------------------------- */

static void aliases_are_independent_copies(void **state)
{
	(void)state;
	struct sl_node *doc = doc_of("a: &x {k: v, l: [1, 2]}\nb: *x\nc: *x\n");
	struct sl_node *a = sl_node_map_get(doc, "a"), *b = sl_node_map_get(doc, "b");
	assert_true(sl_node_equal(a, b));
	assert_ptr_not_equal(a, b);
	assert_ptr_not_equal(sl_node_map_get(a, "l"), sl_node_map_get(b, "l"));
	sl_node_map_set(b, "k", sl_node_new_str("changed"));
	assert_string_equal(sl_node_dig_str(doc, "a", "k", NULL), "v");
	assert_string_equal(sl_node_dig_str(doc, "c", "k", NULL), "v");
	/* the copy keeps the anchor's lines */
	assert_int_equal(sl_node_map_get(doc, "c")->line, 1);
	check_same_doc("a: &s plain\nb: *s\nc: &q \"quoted\"\nd: *q\n",
	               "a: plain\nb: plain\nc: quoted\nd: quoted\n");
	/* an anchor may be redefined: aliases see the latest */
	check_same_doc("a: &x 1\nb: *x\nc: &x 2\nd: *x\n", "a: 1\nb: 1\nc: 2\nd: 2\n");
	/* an alias as a key */
	check_same_doc("a: &k name\n*k : value\n", "a: name\nname: value\n");
}

static void merge_keys_follow_go_yaml_v3_precedence(void **state)
{
	(void)state;
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"b: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n", "b: {x: 1, y: 2}\nm: {x: 1, y: 3}\n"},
	    /* explicit keys win wherever they are */
	    {"b: &b {x: 1}\nm: {x: 0, <<: *b}\n", "b: {x: 1}\nm: {x: 0}\n"},
	    /* earlier maps of a list win over later ones */
	    {"a: &a {x: 1}\nb: &b {x: 2, z: 2}\nm:\n  <<: [*a, *b]\n",
	     "a: {x: 1}\nb: {x: 2, z: 2}\nm: {x: 1, z: 2}\n"},
	    {"a: &a {x: 1}\nb: &b {x: 2, z: 2}\nm:\n  <<: [*b, *a]\n",
	     "a: {x: 1}\nb: {x: 2, z: 2}\nm: {x: 2, z: 2}\n"},
	    /* inline maps */
	    {"m:\n  <<: {x: 1}\n  y: 2\n", "m: {x: 1, y: 2}\n"},
	    {"m: {<<: [{x: 1}, {x: 2, y: 2}], z: 3}\n", "m: {x: 1, y: 2, z: 3}\n"},
	    /* a merged map's own merges come along, below its own keys */
	    {"a: &a {x: 1, y: 1}\nb: &b {<<: *a, y: 2}\nm: {<<: *b, z: 3}\n",
	     "a: {x: 1, y: 1}\nb: {x: 1, y: 2}\nm: {x: 1, y: 2, z: 3}\n"},
	    /* nested values are copies too */
	    {"a: &a {n: {k: v}}\nm: {<<: *a}\n", "a: {n: {k: v}}\nm: {n: {k: v}}\n"},
	    /* a quoted << is an ordinary key */
	    {"m: {\"<<\": 1}\n", "m: {'<<': 1}\n"},
	    /* so is a key tagged !!merge, as kyaml looks at the tag */
	    {"a: &a {x: 1}\nm: {!!merge foo: *a}\n", "a: {x: 1}\nm: {x: 1}\n"},
	    /* the corpus case 077 */
	    {"defaults: &defaults\n  adapter: postgres\n  host: localhost\n  port: 5432\n"
	     "overrides: &overrides\n  port: 6432\n"
	     "test:\n  <<: [*overrides, *defaults]\n  database: test\n",
	     "defaults: {adapter: postgres, host: localhost, port: 5432}\n"
	     "overrides: {port: 6432}\n"
	     "test: {adapter: postgres, host: localhost, port: 6432, database: test}\n"},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++)
		check_same_doc(cases[i].text, cases[i].want);
}

static void merge_keys_need_maps(void **state)
{
	(void)state;
	static const struct error_case cases[] = {
	    {"m: {<<: 1}\n", "in.yaml:1: yaml: map merge requires map or sequence of maps"},
	    {"a: &a [1]\nm:\n  <<: *a\n", "in.yaml:3: yaml: map merge requires map"},
	    {"m: {<<: [{x: 1}, 2]}\n", "map merge requires map or sequence of maps"},
	    {"m: {<<: [[{x: 1}]]}\n", "map merge requires map or sequence of maps"},
	    {"m:\n  <<:\n", "map merge requires map or sequence of maps"},
	    {"m:\n  <<: {a: 1}\n  <<: {b: 2}\n",
	     "in.yaml:3: mapping key \"<<\" already defined at line 2"},
	};
	run_errors(cases, SL_ARRAY_SIZE(cases), SL_EINVAL);
}

static void aliases_need_a_defined_anchor(void **state)
{
	(void)state;
	static const struct error_case cases[] = {
	    {"a: *nope\n", "in.yaml:1: yaml: unknown anchor 'nope' referenced"},
	    {"a: &a [1, *a]\n", "in.yaml:1: yaml: anchor 'a' value contains itself"},
	    {"a: &a {b: *a}\n", "anchor 'a' value contains itself"},
	    /* anchors do not cross documents: kyaml reads each on its own */
	    {"a: &x 1\n---\nb: *x\n", "in.yaml:3: yaml: unknown anchor 'x' referenced"},
	};
	run_errors(cases, SL_ARRAY_SIZE(cases), SL_EINVAL);
}

/* ---- keys (§5) ----------------------------------------------------------- */

static void duplicate_keys_fail_naming_both_lines(void **state)
{
	(void)state;
	static const struct error_case cases[] = {
	    {"a: 1\nb: 2\na: 3\n", "in.yaml:3: mapping key \"a\" already defined at line 1"},
	    {"data:\n  key: one\n  key: two\n",
	     "in.yaml:3: mapping key \"key\" already defined at line 2"},
	    /* go-yaml v3 compares the text, however the keys resolve */
	    {"\"a\": 1\na: 2\n", "in.yaml:2: mapping key \"a\" already defined at line 1"},
	    {"1: a\n'1': b\n", "mapping key \"1\" already defined at line 1"},
	    {"m: {x: 1, x: 2}\n", "in.yaml:1: mapping key \"x\" already defined at line 1"},
	    {"? |\n  a\n: 1\n? |\n  a\n: 2\n", "mapping key \"a\\n\" already defined at line 1"},
	    {"k: &k a\na: 1\n*k : 2\n", "in.yaml:3: mapping key \"a\" already defined at line 2"},
	    {"- a: 1\n  a: 2\n", "in.yaml:2: mapping key"},
	};
	run_errors(cases, SL_ARRAY_SIZE(cases), SL_EINVAL);
	/* merged keys are no duplicates, and other maps do not count */
	check_same_doc("b: &b {a: 1}\nm: {<<: *b, a: 2}\nn: {a: 3}\n",
	               "b: {a: 1}\nm: {a: 2}\nn: {a: 3}\n");
}

/* Past 16 keys duplicates are found with a hash table: still reported. */
static void duplicate_keys_are_found_in_large_maps(void **state)
{
	(void)state;
	struct sl_buf b;
	sl_buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		sl_buf_printf(&b, "key%d: %d\n", i, i);
	sl_buf_printf(&b, "key500: again\n");
	tl_own(b.data);
	const char *msg = error_of(b.data);
	check_contains("large map", msg,
	               "in.yaml:1001: mapping key \"key500\" already defined at line 501");
}

static void large_maps_read_in_linear_time(void **state)
{
	(void)state;
	struct sl_buf b;
	sl_buf_init(&b, 0);
	for (int i = 0; i < 200000; i++)
		sl_buf_printf(&b, "k%d: v\n", i);
	tl_own(b.data);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct sl_node *doc = doc_of(b.data);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(doc->map.len, 200000);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* quadratic duplicate detection would compare 2e10 pairs */
	if (secs > 5)
		fail_msg("200000 keys took %.1fs", secs);
}

static void keys_must_read_as_strings(void **state)
{
	(void)state;
	static const struct error_case cases[] = {
	    {"data:\n  8080: http\n", "in.yaml:2: map key 8080 is an integer, not a string: "
	                              "json: unsupported type: map[interface {}]interface {}"},
	    {"true: x\n", "map key true is a bool, not a string"},
	    {"1.5: x\n", "map key 1.5 is a float"},
	    {".inf: x\n", "map key .inf is a float"},
	    {"~: x\n", "map key ~ is null"},
	    {"null: x\n", "map key null is null"},
	    {"!!null '': x\n", "is null"},
	    {"2024-01-01: x\n", "map key 2024-01-01 is a timestamp"},
	    {"!!int '7': x\n", "map key 7 is an integer"},
	    {"a: &n 1\n*n : x\n", "in.yaml:2: map key 1 is an integer"},
	    {"m: {1: x}\n", "map key 1 is an integer"},
	    {"? [a]\n: x\n", "in.yaml:1: yaml: invalid map key: a list"},
	    {"? {a: 1}\n: x\n", "invalid map key: a map"},
	    {"a: &a {k: v}\n*a : x\n", "in.yaml:2: yaml: invalid map key: the map of anchor 'a'"},
	};
	run_errors(cases, SL_ARRAY_SIZE(cases), SL_EINVAL);
	check_same_doc("'8080': x\n\"true\": y\n<<x: z\n",
	               "\"8080\": x\n\"true\": y\n\"<<x\": z\n");
}

/* ---- characters (§11) ---------------------------------------------------- */

static void control_characters_fail(void **state)
{
	(void)state;
	static const struct error_case cases[] = {
	    {"a: 1\nb: x\x7fy\n", "in.yaml:2: yaml: control characters are not allowed"},
	    {"a: \xef\xbf\xbe\n", "in.yaml:1: yaml: control characters are not allowed"},
	    {"a: \xef\xbf\xbf\n", "control characters are not allowed"},
	    {"a: \xc2\x80\n", "control characters are not allowed"},
	    {"a: \"\x01\"\n", "control characters are not allowed"},
	    {"a: \xff\n", "in.yaml:1: yaml: invalid leading UTF-8 octet"},
	    {"a: \xc3", "incomplete UTF-8 octet sequence"},
	    {"a: \xc3\n", "invalid trailing UTF-8 octet"},
	};
	run_errors(cases, SL_ARRAY_SIZE(cases), SL_EINVAL);
	const char *msg = error_of_len("a: x\0y\n", 7, NULL);
	check_contains("NUL", msg, "control characters are not allowed");
	/* tabs, NEL, LS/PS and BMP private use are characters YAML allows */
	struct sl_node *doc = doc_of("a: \"x\ty\"\nb: '\xee\x80\x80 \xe2\x80\xa8'\n");
	assert_string_equal(sl_node_dig_str(doc, "a", NULL), "x\ty");
}

/* ---- the document stream (§1) -------------------------------------------- */

static void documents_are_split_as_kyaml_splits_them(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		size_t n_docs;
	} cases[] = {
	    {"", 0},
	    {"\n\n", 0},
	    {"# only a comment\n", 0},
	    {"a: 1\n", 1},
	    {"a: 1", 1}, /* no final newline */
	    {"---\na: 1\n", 1},
	    {"---\n---\n# only a comment\n---\na: 1\n---\n\n---\n", 1},
	    {"a: 1\n...\n---\nb: 2\n...\n", 2},
	    {"a: 1\r\n---\r\nb: |\r\n  x\r\n", 2},
	    {"\xef\xbb\xbf"
	     "a: 1\n",
	     1},
	    {"--- # comment\na: 1\n---   # comment\nb: 2\n--- \t\nc: 3\n", 3},
	    /* null documents are dropped */
	    {"~\n", 0},
	    {"a: 1\n---\n~\n---\nnull\n---\nNULL\n---\n!!null x\n", 1},
	    {"--- null\n", 0},
	    /* ... but not a quoted one */
	    {"'null'\n", 1},
	    {"hello\n", 1},
	    {"[]\n", 1},
	    /* kyaml decodes the first document of each piece only */
	    {"a: 1\n...\nb: 2\n", 1},
	    {"a: 1\n...\n]]\n", 1},
	    /* a `---` that is not at the start of a line separates nothing */
	    {"a: |\n  ---\n  x\n", 1},
	    /* after a separator, the next line cannot be one */
	    {"a: 1\n---\n---\nb: 2\n", 2},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		struct sl_node *docs = parse(cases[i].text);
		if (docs->seq.len != cases[i].n_docs)
			fail_msg("%s: %zu documents, want %zu", cases[i].text, docs->seq.len,
			         cases[i].n_docs);
	}
	struct sl_node *docs = parse("a: 1\r\n---\r\nb: |\r\n  x\r\n  y\r\n");
	assert_string_equal(sl_node_dig_str(docs->seq.items[1], "b", NULL), "x\ny\n");
	docs = parse("\xef\xbb\xbf"
	             "a: 1\n");
	assert_non_null(sl_node_map_get(docs->seq.items[0], "a"));
	docs = parse("'null'\n");
	assert_string_equal(sl_node_str(docs->seq.items[0]), "null");
}

static void separators_with_content_fail(void **state)
{
	(void)state;
	static const struct error_case cases[] = {
	    {"a: 1\n--- foo\nb: 2\n", "in.yaml:2: invalid document separator: --- foo"},
	    {"a: 1\n---foo\n", "invalid document separator: ---foo"},
	    {"a: 1\n--- ~\n", "invalid document separator: --- ~"},
	    {"a: 1\n\n\n--- {a: 1}  \r\n", "in.yaml:4: invalid document separator: --- {a: 1}"},
	};
	run_errors(cases, SL_ARRAY_SIZE(cases), SL_EINVAL);
	/* on the first line it is YAML's own document start */
	check_same_doc("--- {a: 1}\n", "a: 1\n");
}

static void empty_input_gives_no_documents(void **state)
{
	(void)state;
	struct sl_node *docs = NULL;
	struct sl_error e = {0};
	assert_int_equal(sl_yaml_parse(NULL, 0, NULL, &docs, &e), 0);
	assert_int_equal(docs->seq.len, 0);
	sl_node_free(docs);
}

/* ---- lines and errors ---------------------------------------------------- */

static void nodes_record_their_line(void **state)
{
	(void)state;
	struct sl_node *docs = parse("# comment\na: 1\nb:\n  c: [1,\n    2]\n---\n\nd: x\n");
	assert_int_equal(docs->seq.len, 2);
	struct sl_node *d0 = docs->seq.items[0], *d1 = docs->seq.items[1];
	assert_int_equal(d0->line, 2);
	assert_int_equal(sl_node_map_get(d0, "a")->line, 2);
	assert_int_equal(sl_node_map_get(d0, "b")->line, 4);
	struct sl_node *c = sl_node_dig(d0, "b", "c", NULL);
	assert_int_equal(c->line, 4);
	assert_int_equal(c->seq.items[1]->line, 5);
	assert_int_equal(d1->line, 8);
	assert_int_equal(sl_node_map_get(d1, "d")->line, 8);
}

static void syntax_errors_name_the_file_and_line(void **state)
{
	(void)state;
	static const struct error_case cases[] = {
	    /* the corpus cases 102 and 103, in kubectl's words */
	    {"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n"
	     "  key: \"unterminated\n  other: value\n",
	     "in.yaml:6: yaml: line 6: found unexpected end of stream"},
	    {"resources:\n- ok.yaml\n  namePrefix: bad-indent-\n",
	     "in.yaml:3: yaml: line 3: mapping values are not allowed in this context"},
	    {"a: 1\nb:\n  c: 1\n d: 2\n", "in.yaml:4: yaml: line 4: did not find expected key"},
	    {"a: [1, 2\n", "in.yaml:"},
	    {"a: \"\\q\"\n", "in.yaml:1: yaml: line 1: found unknown escape character"},
	    {"a:\tb: c\n", "in.yaml:1:"},
	    /* lines count across documents */
	    {"a: 1\n---\nb: 2\n---\nc: 'x\n", "in.yaml:5: yaml: line 5: found unexpected end"},
	};
	run_errors(cases, SL_ARRAY_SIZE(cases), SL_EINVAL);
}

/* ---- caps ---------------------------------------------------------------- */

static void billion_laughs_fail_before_expanding(void **state)
{
	(void)state;
	const char *text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	                   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	                   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	                   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	                   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	                   "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	                   "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
	                   "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int code;
	const char *msg = error_of_len(text, strlen(text), &code);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(code, SL_ELIMIT);
	check_contains("laughs", msg, "in.yaml:7: yaml: document contains excessive aliasing");
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (secs > 0.5)
		fail_msg("billion laughs took %.2fs to fail", secs);
	/* the same shape below the cap is expanded */
	struct sl_node *doc = doc_of("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n");
	assert_int_equal(sl_node_map_get(doc, "c")->seq.items[1]->seq.items[1]->seq.len, 2);
}

/* "[[[...]]]" nested n deep, or a map chain "a:\n a:\n ..." */
static char *nested(size_t n)
{
	char *s = sl_xmalloc(2 * n + 2);
	memset(s, '[', n);
	memset(s + n, ']', n);
	s[2 * n] = '\n';
	s[2 * n + 1] = '\0';
	return tl_own(s);
}

static void deep_nesting_is_capped(void **state)
{
	(void)state;
	assert_int_equal(doc_of(nested(SL_YAML_MAX_DEPTH))->type, SL_NODE_SEQ);
	int code;
	const char *msg =
	    error_of_len(nested(SL_YAML_MAX_DEPTH + 1), 2 * (SL_YAML_MAX_DEPTH + 1) + 1, &code);
	assert_int_equal(code, SL_ELIMIT);
	check_contains("nesting", msg, "in.yaml:1: yaml: collections nested deeper than 512");
	/* an alias cannot deepen a document past the cap either */
	struct sl_buf b;
	sl_buf_init(&b, 0);
	sl_buf_printf(&b, "a: &deep ");
	for (int i = 0; i < 300; i++)
		sl_buf_append(&b, "[", 1);
	for (int i = 0; i < 300; i++)
		sl_buf_append(&b, "]", 1);
	sl_buf_printf(&b, "\nb: ");
	for (int i = 0; i < 300; i++)
		sl_buf_append(&b, "[", 1);
	sl_buf_printf(&b, "*deep");
	for (int i = 0; i < 300; i++)
		sl_buf_append(&b, "]", 1);
	sl_buf_printf(&b, "\n");
	tl_own(b.data);
	msg = error_of_len(b.data, b.len, &code);
	assert_int_equal(code, SL_ELIMIT);
	check_contains("alias depth", msg,
	               "in.yaml:2: yaml: alias 'deep' nests collections deeper");
}

static void oversized_input_is_refused(void **state)
{
	(void)state;
	char *big = tl_own(calloc(SL_YAML_MAX_BYTES + 1, 1));
	struct sl_node *docs = NULL;
	struct sl_error e = {0};
	assert_int_equal(sl_yaml_parse(big, SL_YAML_MAX_BYTES + 1, "big.yaml", &docs, &e),
	                 SL_ELIMIT);
	assert_null(docs);
	check_contains("size", e.msg, "big.yaml: larger than");
}

/* ---- files ---------------------------------------------------------------- */

static void parse_file_names_the_file_in_errors(void **state)
{
	const char *dir = *state;
	char *good = tl_own(tl_path(dir, "good.yaml")), *bad = tl_own(tl_path(dir, "bad.yaml"));
	tl_write_file(good, "a: 1\n---\nb: 2\n", 14);
	tl_write_file(bad, "a: 1\nb: 'x\n", 11);
	struct sl_node *docs = NULL;
	struct sl_error e = {0};
	assert_int_equal(sl_yaml_parse_file(good, NULL, &docs, &e), 0);
	held = sl_node_free(held);
	held = docs;
	assert_int_equal(docs->seq.len, 2);
	assert_int_equal(sl_yaml_parse_file(bad, "input/bad.yaml", &docs, &e), SL_EINVAL);
	check_contains("display name", e.msg, "input/bad.yaml:2: yaml: line 2:");
	assert_int_equal(sl_yaml_parse_file(bad, NULL, &docs, &e), SL_EINVAL);
	check_contains("path", e.msg, bad);
	char *missing = tl_own(tl_path(dir, "missing.yaml"));
	assert_int_equal(sl_yaml_parse_file(missing, NULL, &docs, &e), SL_EIO);
	check_contains("missing", e.msg, "missing.yaml");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(plain_scalars_resolve_as_go_yaml_v3),
	    cmocka_unit_test(integers_use_go_parseint_syntax),
	    cmocka_unit_test(floats_match_the_yaml_float_syntax),
	    cmocka_unit_test(quoted_and_block_scalars_are_strings),
	    cmocka_unit_test(explicit_tags_decode_as_go_yaml_v3),
	    cmocka_unit_test(explicit_tags_refuse_values_of_another_type),
	    cmocka_unit_test(plain_strings_are_marked_for_substitution),
	    cmocka_unit_test(timestamps_become_rfc3339_strings),
	    cmocka_unit_test(timestamps_with_a_day_long_offset_fail),
	    cmocka_unit_test(flow_collections_keep_date_times_as_written),
	    cmocka_unit_test(empty_plain_scalars_in_flow_read_as_empty_strings),
	    cmocka_unit_test(folded_scalars_read_as_go_yaml_v3_reads_them),
	    cmocka_unit_test(aliases_are_independent_copies),
	    cmocka_unit_test(merge_keys_follow_go_yaml_v3_precedence),
	    cmocka_unit_test(merge_keys_need_maps),
	    cmocka_unit_test(aliases_need_a_defined_anchor),
	    cmocka_unit_test(duplicate_keys_fail_naming_both_lines),
	    cmocka_unit_test(duplicate_keys_are_found_in_large_maps),
	    cmocka_unit_test(large_maps_read_in_linear_time),
	    cmocka_unit_test(keys_must_read_as_strings),
	    cmocka_unit_test(control_characters_fail),
	    cmocka_unit_test(documents_are_split_as_kyaml_splits_them),
	    cmocka_unit_test(separators_with_content_fail),
	    cmocka_unit_test(empty_input_gives_no_documents),
	    cmocka_unit_test(nodes_record_their_line),
	    cmocka_unit_test(syntax_errors_name_the_file_and_line),
	    cmocka_unit_test(billion_laughs_fail_before_expanding),
	    cmocka_unit_test(deep_nesting_is_capped),
	    cmocka_unit_test(oversized_input_is_refused),
	    cmocka_unit_test_setup_teardown(parse_file_names_the_file_in_errors, tl_setup_tmpdir,
	                                    tl_teardown_tmpdir),
	};
	return cmocka_run_group_tests_name("yaml_read", tests, NULL, free_held);
}
