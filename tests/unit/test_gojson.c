/* sl_json_append_go_string: JSON string literals exactly as Go 1.26's
 * encoding/json.Marshal writes them (every expected value below is Go's
 * output), so manifests hash the same as Flux's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "codec/codec.h"

struct go_case {
	const char *in;
	const char *out;
};

static void run_table(const struct go_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		_cleanup_buf_ struct sl_buf b;
		sl_buf_init(&b, 0);
		assert_int_equal(sl_json_append_go_string(&b, cases[i].in), 0);
		if (strcmp(b.data, cases[i].out) != 0)
			fail_msg("row %zu: got %s, want %s", i, b.data, cases[i].out);
		assert_int_equal(b.len, strlen(cases[i].out));
	}
}

static void gojson_passes_plain_text_through(void **state)
{
	(void)state;
	static const struct go_case cases[] = {
	    {"", "\"\""},       {"plain", "\"plain\""}, {"sha256:abc", "\"sha256:abc\""},
	    {"a/b", "\"a/b\""},                       /* '/' is not escaped */
	    {"'", "\"'\""},     {"\x7f", "\"\x7f\""}, /* DEL is not escaped */
	    {"~ ", "\"~ \""},
	};
	run_table(cases, SL_ARRAY_SIZE(cases));
}

static void gojson_escapes_html_characters(void **state)
{
	(void)state;
	static const struct go_case cases[] = {
	    {"<>&", "\"\\u003c\\u003e\\u0026\""},
	    {"a<b>&c", "\"a\\u003cb\\u003e\\u0026c\""},
	    {"<script>", "\"\\u003cscript\\u003e\""},
	};
	run_table(cases, SL_ARRAY_SIZE(cases));
}

static void gojson_escapes_quotes_and_backslashes(void **state)
{
	(void)state;
	static const struct go_case cases[] = {
	    {"\"", "\"\\\"\""},
	    {"\\", "\"\\\\\""},
	    {"\"\\/", "\"\\\"\\\\/\""},
	};
	run_table(cases, SL_ARRAY_SIZE(cases));
}

/* Go 1.22+ writes \b and \f short; other controls as \u00XX. */
static void gojson_escapes_control_characters(void **state)
{
	(void)state;
	static const struct go_case cases[] = {
	    {"\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\""}, {"\x01", "\"\\u0001\""}, {"\x1f", "\"\\u001f\""},
	    {"\x1b[0m", "\"\\u001b[0m\""},         {"\x0b", "\"\\u000b\""},
	};
	run_table(cases, SL_ARRAY_SIZE(cases));
}

static void gojson_escapes_line_and_paragraph_separators(void **state)
{
	(void)state;
	static const struct go_case cases[] = {
	    {"\xe2\x80\xa8", "\"\\u2028\""},
	    {"\xe2\x80\xa9", "\"\\u2029\""},
	    {"\xe2\x80\xa8x\xe2\x80\xa9", "\"\\u2028x\\u2029\""},
	    {"\xe2\x80\xa7", "\"\xe2\x80\xa7\""}, /* U+2027 is left alone */
	};
	run_table(cases, SL_ARRAY_SIZE(cases));
}

static void gojson_passes_valid_utf8_through(void **state)
{
	(void)state;
	static const struct go_case cases[] = {
	    {"\xc3\xa9\xe4\xb8\x96", "\"\xc3\xa9\xe4\xb8\x96\""}, /* é世 */
	    {"\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""},         /* U+1F600 */
	    {"\xef\xbf\xbd", "\"\xef\xbf\xbd\""},                 /* a real U+FFFD */
	    {"\xdf\xbf", "\"\xdf\xbf\""},                         /* U+07FF */
	    {"\xe0\xa0\x80", "\"\xe0\xa0\x80\""},                 /* U+0800 */
	    {"\xed\x9f\xbf", "\"\xed\x9f\xbf\""},                 /* U+D7FF */
	    {"\xee\x80\x80", "\"\xee\x80\x80\""},                 /* U+E000 */
	    {"\xf0\x90\x80\x80", "\"\xf0\x90\x80\x80\""},         /* U+10000 */
	    {"\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""},         /* U+10FFFF */
	};
	run_table(cases, SL_ARRAY_SIZE(cases));
}

/* Go replaces each byte that does not start a valid sequence with U+FFFD. */
static void gojson_replaces_each_invalid_byte_with_ufffd(void **state)
{
	(void)state;
	static const struct go_case cases[] = {
	    {"\xff", "\"\\ufffd\""},
	    {"\x80", "\"\\ufffd\""},
	    {"\xc3", "\"\\ufffd\""}, /* truncated */
	    {"a\xc3(b", "\"a\\ufffd(b\""},
	    {"\xe2\x82", "\"\\ufffd\\ufffd\""},
	    {"\xf0\x9f\x98x", "\"\\ufffd\\ufffd\\ufffdx\""},
	    {"\xc0\x80", "\"\\ufffd\\ufffd\""}, /* overlong */
	    {"\xc1\xbf", "\"\\ufffd\\ufffd\""},
	    {"\xe0\x80\x80", "\"\\ufffd\\ufffd\\ufffd\""},
	    {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},            /* surrogate */
	    {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* > U+10FFFF */
	    {"\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},
	    {"\xf8\x88\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\""},
	};
	run_table(cases, SL_ARRAY_SIZE(cases));
}

static void gojson_appends_after_existing_content(void **state)
{
	(void)state;
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 0);
	assert_int_equal(sl_buf_append(&b, "{\"k\":", 5), 0);
	assert_int_equal(sl_json_append_go_string(&b, "v&"), 0);
	assert_string_equal(b.data, "{\"k\":\"v\\u0026\"");
}

static void gojson_reports_a_full_buffer(void **state)
{
	(void)state;
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 8);
	assert_int_equal(sl_json_append_go_string(&b, "abcdef"), 0); /* 8 bytes with quotes */
	assert_string_equal(b.data, "\"abcdef\"");
	sl_buf_reset(&b);
	assert_int_equal(sl_json_append_go_string(&b, "abcdefg"), SL_ELIMIT);
	sl_buf_reset(&b);
	assert_int_equal(sl_json_append_go_string(&b, "<<"), SL_ELIMIT);
	assert_true(b.len <= 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(gojson_passes_plain_text_through),
	    cmocka_unit_test(gojson_escapes_html_characters),
	    cmocka_unit_test(gojson_escapes_quotes_and_backslashes),
	    cmocka_unit_test(gojson_escapes_control_characters),
	    cmocka_unit_test(gojson_escapes_line_and_paragraph_separators),
	    cmocka_unit_test(gojson_passes_valid_utf8_through),
	    cmocka_unit_test(gojson_replaces_each_invalid_byte_with_ufffd),
	    cmocka_unit_test(gojson_appends_after_existing_content),
	    cmocka_unit_test(gojson_reports_a_full_buffer),
	};
	return cmocka_run_group_tests_name("gojson", tests, NULL, NULL);
}
