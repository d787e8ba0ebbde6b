/* base: Go durations, bounded buffers, base64, RFC 3339 validation, error
 * chains and sha256 digests. Expected values for durations, timestamps and
 * base64 were checked against Go 1.26 (time.ParseDuration, time.Parse with
 * time.RFC3339, encoding/base64.StdEncoding). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"

/* Collects failing rows so one run shows all of them. */
struct report {
	size_t failures;
	char text[4096];
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

/* ---- durations ------------------------------------------------------- */

static const struct {
	const char *text;
	int64_t ms;
} good_durations[] = {
    {"0", 0},
    {"+0", 0},
    {"-0", 0},
    {"0s", 0},
    {"300ms", 300},
    {"1m30s", 90000},
    {"2h", 7200000},
    {"1h30m", 5400000},
    {"1h30m15s", 5415000},
    {"1.5s", 1500},
    {"1.5h", 5400000},
    {".5s", 500},
    {"1.s", 1000},
    {"5m", 300000},
    {"1000ms", 1000},
    {"2562047h", INT64_C(9223369200000)},
};

static void duration_parses_go_forms(void **state)
{
	(void)state;
	struct report rep = {0};
	for (size_t i = 0; i < SL_ARRAY_SIZE(good_durations); i++) {
		struct sl_error err = {0};
		int64_t ms = -42;
		int r = sl_duration_parse(good_durations[i].text, &ms, &err);
		if (r != 0 || ms != good_durations[i].ms)
			report_add(&rep, "\"%s\": r=%d ms=%lld (want %lld) err=%s",
			           good_durations[i].text, r, (long long)ms,
			           (long long)good_durations[i].ms, err.msg);
	}
	report_check(&rep);
}

/* Go parses the integer and fraction exactly; a binary floating point
 * product would turn 2.3s into 2299ms. */
static void duration_decimal_fractions_are_exact(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int64_t ms;
	} cases[] = {
	    {"1.001s", 1001}, {"2.3s", 2300}, {"0.3s", 300},    {"4.1s", 4100},
	    {"0.7s", 700},    {"1.1s", 1100}, {"0.29s", 290},   {"8.2s", 8200},
	    {"1.15s", 1150},  {"9.7s", 9700}, {"0.001h", 3600}, {"0.1m", 6000},
	};
	struct report rep = {0};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		struct sl_error err = {0};
		int64_t ms = -42;
		int r = sl_duration_parse(cases[i].text, &ms, &err);
		if (r != 0 || ms != cases[i].ms)
			report_add(&rep, "\"%s\": r=%d ms=%lld (want %lld) err=%s", cases[i].text,
			           r, (long long)ms, (long long)cases[i].ms, err.msg);
	}
	report_check(&rep);
}

static void duration_accepts_every_go_unit(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int64_t ms;
	} cases[] = {
	    {"2000000ns", 2}, {"3000us", 3}, {"4000\xc2\xb5s", 4}, {"5000\xce\xbcs", 5},
	    {"6ms", 6},       {"7s", 7000},  {"8m", 480000},       {"9h", 32400000},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		struct sl_error err = {0};
		int64_t ms = -42;
		int r = sl_duration_parse(cases[i].text, &ms, &err);
		if (r != 0 || ms != cases[i].ms)
			fail_msg("\"%s\": r=%d ms=%lld (want %lld)", cases[i].text, r,
			         (long long)ms, (long long)cases[i].ms);
	}
}

/* A positive duration below a millisecond still means "almost no time",
 * never "no timeout". */
static void duration_below_a_millisecond_rounds_up_to_one(void **state)
{
	(void)state;
	struct sl_error err = {0};
	int64_t ms = -42;
	assert_int_equal(sl_duration_parse("500us", &ms, &err), 0);
	assert_int_equal(ms, 1);
	assert_int_equal(sl_duration_parse("1ns", &ms, &err), 0);
	assert_int_equal(ms, 1);
}

static void duration_rejects_malformed_text(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "",     "1",     "s",       "1x",          "-",        "+",    ".s",   "1..5s", "1e3s",
	    "1E3s", "0x10s", " 1s",     "1s ",         "1h-1m",    "ms",   "1 s",  "1sm",   "h1",
	    "1.5",  "1,5s",  "1_000ms", "9999999999h", "2562048h", "infs", "nans", "1s2",
	};
	struct report rep = {0};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		struct sl_error err = {0};
		int64_t ms = -42;
		int r = sl_duration_parse(bad[i], &ms, &err);
		if (r != SL_EINVAL)
			report_add(&rep, "\"%s\" was accepted: r=%d ms=%lld", bad[i], r,
			           (long long)ms);
		else if (err.code != SL_EINVAL || !strstr(err.msg, "duration"))
			report_add(&rep, "\"%s\": error not set: code=%d msg=%s", bad[i], err.code,
			           err.msg);
		else if (ms != -42)
			report_add(&rep, "\"%s\": out-parameter clobbered on failure", bad[i]);
	}
	report_check(&rep);
}

/* ---- bounded buffers ------------------------------------------------- */

static void buf_append_up_to_the_cap_succeeds(void **state)
{
	(void)state;
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 8);
	assert_int_equal(sl_buf_append(&b, "1234", 4), 0);
	assert_int_equal(sl_buf_append(&b, "5678", 4), 0);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "12345678");
}

static void buf_append_past_the_cap_fails_without_truncating(void **state)
{
	(void)state;
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 8);
	assert_int_equal(sl_buf_append(&b, "123456", 6), 0);
	assert_int_equal(sl_buf_append(&b, "789", 3), SL_ELIMIT);
	assert_int_equal(b.len, 6);
	assert_string_equal(b.data, "123456");
	/* One byte more than the cap in a single append, on an empty buffer. */
	_cleanup_buf_ struct sl_buf c;
	sl_buf_init(&c, 8);
	assert_int_equal(sl_buf_append(&c, "123456789", 9), SL_ELIMIT);
	assert_int_equal(c.len, 0);
}

static void buf_append_rejects_sizes_that_would_wrap(void **state)
{
	(void)state;
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 16);
	assert_int_equal(sl_buf_append(&b, "abc", 3), 0);
	/* Never read: the cap check must come before any copy. */
	assert_int_equal(sl_buf_append(&b, "x", SIZE_MAX), SL_ELIMIT);
	assert_int_equal(sl_buf_append(&b, "x", SIZE_MAX - 1), SL_ELIMIT);
	assert_int_equal(b.len, 3);
}

static void buf_printf_respects_the_cap(void **state)
{
	(void)state;
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 10);
	assert_int_equal(sl_buf_printf(&b, "%d-%s", 42, "abc"), 0);
	assert_string_equal(b.data, "42-abc");
	assert_int_equal(sl_buf_printf(&b, "%s", "toolong"), SL_ELIMIT);
	assert_int_equal(b.len, 6);
	assert_string_equal(b.data, "42-abc");
	assert_int_equal(sl_buf_printf(&b, "%s", "wxyz"), 0);
	assert_string_equal(b.data, "42-abcwxyz");
}

static void buf_without_cap_grows_for_our_own_data(void **state)
{
	(void)state;
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 0);
	char chunk[1000];
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 1000; i++)
		assert_int_equal(sl_buf_append(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(b.len, 1000000);
	assert_int_equal(b.data[b.len], '\0');
	assert_true(b.cap > b.len);
}

static void buf_is_always_nul_terminated(void **state)
{
	(void)state;
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 0);
	assert_int_equal(sl_buf_append(&b, "abc", 3), 0);
	assert_int_equal(b.data[3], '\0');
	assert_int_equal(sl_buf_append(&b, "", 0), 0);
	assert_int_equal(b.data[3], '\0');
	assert_int_equal(sl_buf_append(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "abca\0b", 7);
}

static void buf_reset_empties_and_keeps_the_cap(void **state)
{
	(void)state;
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 4);
	assert_int_equal(sl_buf_append(&b, "abcd", 4), 0);
	sl_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(sl_buf_append(&b, "wxyz", 4), 0);
	assert_int_equal(sl_buf_append(&b, "!", 1), SL_ELIMIT);
}

static void buf_steal_hands_data_out_and_resets(void **state)
{
	(void)state;
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, 32);
	assert_int_equal(sl_buf_append(&b, "hello", 5), 0);
	_cleanup_free_ char *s = sl_buf_steal(&b);
	assert_string_equal(s, "hello");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 32);
	/* Stealing from an empty buffer yields "" rather than NULL. */
	_cleanup_free_ char *e = sl_buf_steal(&b);
	assert_non_null(e);
	assert_string_equal(e, "");
}

static void buf_free_accepts_a_never_used_buffer(void **state)
{
	(void)state;
	struct sl_buf b;
	sl_buf_init(&b, 100);
	sl_buf_free(&b);
	sl_buf_free(&b);
	assert_null(b.data);
}

/* ---- base64 ---------------------------------------------------------- */

static const struct {
	const char *plain;
	const char *encoded;
} b64_vectors[] = {
    /* RFC 4648 §10 */
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
    {"user:pass", "dXNlcjpwYXNz"},
};

static void base64_encodes_rfc4648_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < SL_ARRAY_SIZE(b64_vectors); i++) {
		_cleanup_free_ char *e =
		    sl_base64_encode(b64_vectors[i].plain, strlen(b64_vectors[i].plain));
		assert_string_equal(e, b64_vectors[i].encoded);
	}
}

static void base64_decodes_rfc4648_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < SL_ARRAY_SIZE(b64_vectors); i++) {
		_cleanup_free_ char *d = NULL;
		ssize_t n = sl_base64_decode(b64_vectors[i].encoded, &d);
		if (n != (ssize_t)strlen(b64_vectors[i].plain) || !d ||
		    strcmp(d, b64_vectors[i].plain) != 0)
			fail_msg("\"%s\": n=%zd decoded=\"%s\"", b64_vectors[i].encoded, n,
			         d ? d : "(null)");
	}
}

static void base64_round_trips_binary_with_nul_bytes(void **state)
{
	(void)state;
	unsigned char bin[256];
	for (int i = 0; i < 256; i++)
		bin[i] = (unsigned char)(255 - i);
	for (size_t len = 0; len <= sizeof(bin); len += 37) {
		_cleanup_free_ char *e = sl_base64_encode(bin, len);
		assert_int_equal(strlen(e), 4 * ((len + 2) / 3));
		_cleanup_free_ char *d = NULL;
		ssize_t n = sl_base64_decode(e, &d);
		assert_int_equal(n, (ssize_t)len);
		assert_memory_equal(d, bin, len);
		assert_int_equal(d[n], '\0');
	}
}

/* Bytes with the high bits set exercise every sextet, '+' and '/'. */
static void base64_encodes_binary_vectors(void **state)
{
	(void)state;
	static const struct {
		const char *bytes;
		size_t len;
		const char *encoded;
	} vectors[] = {
	    /* RFC 4648 §9 */
	    {"\x14\xfb\x9c\x03\xd9\x7e", 6, "FPucA9l+"},
	    {"\x14\xfb\x9c\x03\xd9", 5, "FPucA9k="},
	    {"\x14\xfb\x9c\x03", 4, "FPucAw=="},
	    /* checked with Python's base64.b64encode */
	    {"\x00", 1, "AA=="},
	    {"\x00\x00", 2, "AAA="},
	    {"\x00\x00\x00", 3, "AAAA"},
	    {"\xff\xfe\xfd", 3, "//79"},
	    {"\xfb\xff", 2, "+/8="},
	    {"\xfb\xef\xbe", 3, "++++"},
	};
	struct report rep = {0};
	for (size_t i = 0; i < SL_ARRAY_SIZE(vectors); i++) {
		_cleanup_free_ char *e = sl_base64_encode(vectors[i].bytes, vectors[i].len);
		if (strcmp(e, vectors[i].encoded) != 0)
			report_add(&rep, "row %zu: got \"%s\", want \"%s\"", i, e,
			           vectors[i].encoded);
	}
	report_check(&rep);
}

static void base64_decode_rejects_malformed_input(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "Zg=",              /* not a multiple of 4 */
	    "Zm9v!A==",         /* character outside the alphabet */
	    "Z===",             /* too much padding */
	    "====",             /* padding only */
	    "Zg==Zg==",         /* padding in the middle */
	    " Zg=",             /* whitespace */
	    "Zg= ",     "YQ=a", /* data after padding */
	    "Zm9-",             /* URL alphabet */
	    "Zm9_",
	};
	struct report rep = {0};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		char *d = NULL;
		ssize_t n = sl_base64_decode(bad[i], &d);
		free(d);
		if (n >= 0)
			report_add(&rep, "\"%s\" decoded to %zd bytes", bad[i], n);
	}
	report_check(&rep);
}

/* ---- RFC 3339 -------------------------------------------------------- */

static void rfc3339_accepts_what_go_accepts(void **state)
{
	(void)state;
	static const char *good[] = {
	    "2026-08-07T10:00:00Z",        "2026-08-07T10:00:00+09:00",
	    "2026-08-07T10:00:00-05:30",   "2026-08-07T10:00:00.123456789Z",
	    "2026-08-07T10:00:00.5+01:00", "2024-02-29T00:00:00Z",
	    "2000-02-29T00:00:00Z",        "1970-01-01T00:00:00-00:00",
	    "1970-01-01T00:00:00Z",        "0000-01-01T00:00:00Z",
	    "9999-12-31T23:59:59Z",        "2026-08-07T10:00:00+23:59",
	};
	struct report rep = {0};
	for (size_t i = 0; i < SL_ARRAY_SIZE(good); i++)
		if (!sl_time_rfc3339_valid(good[i]))
			report_add(&rep, "\"%s\" rejected", good[i]);
	report_check(&rep);
}

static void rfc3339_rejects_what_go_rejects(void **state)
{
	(void)state;
	static const char *bad[] = {
	    "",
	    "2026-08-07",
	    "2026-08-07 10:00:00Z",
	    "2026-08-07t10:00:00Z",
	    "2026-08-07T10:00:00z",
	    "2026-08-07T10:00:00",
	    "2026-13-01T00:00:00Z",
	    "2026-00-10T00:00:00Z",
	    "2026-08-00T00:00:00Z",
	    "2026-02-30T00:00:00Z",
	    "2026-04-31T00:00:00Z",
	    "2023-02-29T00:00:00Z",
	    "1900-02-29T00:00:00Z",
	    "2026-08-07T24:00:00Z",
	    "2026-08-07T10:60:00Z",
	    "2026-08-07T10:00:60Z",
	    "2026-08-07T10:00:00+0900",
	    "2026-08-07T10:00:00+09",
	    "2026-08-07T10:00:00.Z",
	    "2026-08-07T10:00:00Z ",
	    " 2026-08-07T10:00:00Z",
	    "26-08-07T10:00:00Z",
	    "2026-8-7T10:00:00Z",
	    "2026-08-07T10:00:00ZZ",
	    "2026-08-07T10:00:00UTC",
	    "abcd-ef-ghTij:kl:mnZ",
	};
	struct report rep = {0};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++)
		if (sl_time_rfc3339_valid(bad[i]))
			report_add(&rep, "\"%s\" accepted", bad[i]);
	report_check(&rep);
}

/* Go's time.Parse falls back to its general parser when the RFC 3339 fast
 * path fails, and that parser takes a comma before the fraction and an
 * offset hour of 24 (checked with Go 1.26). Flux accepts these as the
 * created annotation, so a drop-in must as well. */
static void rfc3339_accepts_go_general_parser_forms(void **state)
{
	(void)state;
	static const char *good[] = {
	    "2026-08-07T10:00:00,5Z",
	    "2026-08-07T10:00:00+24:00",
	};
	struct report rep = {0};
	for (size_t i = 0; i < SL_ARRAY_SIZE(good); i++)
		if (!sl_time_rfc3339_valid(good[i]))
			report_add(&rep, "\"%s\" rejected", good[i]);
	report_check(&rep);
}

static void rfc3339_now_is_valid_utc_with_second_precision(void **state)
{
	(void)state;
	char now[32];
	sl_time_rfc3339_now(now);
	assert_int_equal(strlen(now), 20);
	assert_int_equal(now[19], 'Z');
	assert_true(sl_time_rfc3339_valid(now));
}

/* ---- errors ---------------------------------------------------------- */

static void error_wrap_builds_a_chain_outermost_first(void **state)
{
	(void)state;
	struct sl_error err = {0};
	assert_int_equal(sl_error_set(&err, SL_EAUTH, "%d Unauthorized", 401), SL_EAUTH);
	assert_int_equal(sl_error_wrap(&err, SL_EIO, "uploading layer"), SL_EAUTH);
	assert_int_equal(sl_error_wrap(&err, SL_EINVAL, "pushing %s", "oci://h/r:t"), SL_EAUTH);
	assert_string_equal(err.msg, "pushing oci://h/r:t: uploading layer: 401 Unauthorized");
	/* The innermost code wins: it knew best what failed. */
	assert_int_equal(err.code, SL_EAUTH);
}

static void error_wrap_of_an_empty_error_has_no_separator(void **state)
{
	(void)state;
	struct sl_error err = {0};
	assert_int_equal(sl_error_wrap(&err, SL_EIO, "context"), SL_EIO);
	assert_string_equal(err.msg, "context");
	assert_int_equal(err.code, SL_EIO);
}

static void error_errno_appends_strerror(void **state)
{
	(void)state;
	struct sl_error err = {0};
	assert_int_equal(sl_error_errno(&err, ENOENT, SL_EIO, "opening %s", "x.yaml"), SL_EIO);
	char want[256];
	snprintf(want, sizeof(want), "opening x.yaml: %s", strerror(ENOENT));
	assert_string_equal(err.msg, want);
	assert_int_equal(err.code, SL_EIO);
}

static void error_wrap_keeps_the_prefix_when_the_message_is_full(void **state)
{
	(void)state;
	struct sl_error err = {0};
	char big[SL_ERROR_MAX + 100];
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sl_error_set(&err, SL_EIO, "%s", big);
	assert_int_equal(strlen(err.msg), SL_ERROR_MAX - 1);
	sl_error_wrap(&err, SL_EIO, "outer");
	assert_int_equal(strlen(err.msg), SL_ERROR_MAX - 1);
	assert_true(sl_startswith(err.msg, "outer: mmm"));

	/* A prefix longer than the whole buffer is cut, never overflowed. */
	sl_error_wrap(&err, SL_EIO, "%s", big);
	assert_int_equal(strlen(err.msg), SL_ERROR_MAX - 1);
}

static void error_functions_accept_null(void **state)
{
	(void)state;
	assert_int_equal(sl_error_set(NULL, SL_EIO, "x"), SL_EIO);
	assert_int_equal(sl_error_wrap(NULL, SL_ENET, "x"), SL_ENET);
	assert_int_equal(sl_error_errno(NULL, EPERM, SL_EAUTH, "x"), SL_EAUTH);
	sl_error_clear(NULL);
}

static void error_clear_resets_code_status_and_message(void **state)
{
	(void)state;
	struct sl_error err = {0};
	sl_error_set(&err, SL_EHTTP, "boom");
	err.http_status = 500;
	sl_error_clear(&err);
	assert_int_equal(err.code, 0);
	assert_int_equal(err.http_status, 0);
	assert_string_equal(err.msg, "");
	/* After clearing, a wrap takes its own code again. */
	sl_error_wrap(&err, SL_ENET, "ctx");
	assert_int_equal(err.code, SL_ENET);
}

/* ---- sha256 ---------------------------------------------------------- */

static void sha256_digest_matches_fips_vectors(void **state)
{
	(void)state;
	char d[SL_DIGEST_STR_LEN];
	sl_sha256_digest("abc", 3, d);
	assert_string_equal(
	    d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sl_sha256_digest("", 0, d);
	assert_string_equal(
	    d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void sha256_streaming_equals_one_shot(void **state)
{
	(void)state;
	struct sl_sha256 *h = sl_sha256_new();
	sl_sha256_update(h, "a", 1);
	sl_sha256_update(h, "bc", 2);
	char d[SL_DIGEST_STR_LEN];
	sl_sha256_final(h, d);
	assert_string_equal(
	    d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sl_sha256_reset(h);
	sl_sha256_final(h, d);
	assert_string_equal(
	    d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sl_sha256_free(h);
	sl_sha256_free(NULL);
}

/* FIPS 180-4's examples (NIST CSRC "Examples with Intermediate Values",
 * SHA256.pdf and SHA2_Additional) through all three ways of hashing: the
 * portable code, the one-shot digest and the OpenSSL streaming hasher. */
static void sha256_all_paths_match_nist_vectors(void **state)
{
	(void)state;
	static const struct {
		const char *message; /* NULL: one million 'a' */
		const char *hex;
	} vectors[] = {
	    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	    /* 448 bits: the padding needs a second block */
	    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	    /* 896 bits */
	    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmno"
	     "pqrl"
	     "mnopqrsmnopqrstnopqrstu",
	     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
	    {NULL, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
	};
	_cleanup_free_ char *million = sl_xmalloc(1000000);
	memset(million, 'a', 1000000);
	struct report rep = {0};
	for (size_t i = 0; i < SL_ARRAY_SIZE(vectors); i++) {
		const char *msg = vectors[i].message ? vectors[i].message : million;
		size_t len = vectors[i].message ? strlen(msg) : 1000000;
		char want[SL_DIGEST_STR_LEN], portable[SL_DIGEST_STR_LEN],
		    oneshot[SL_DIGEST_STR_LEN], streamed[SL_DIGEST_STR_LEN];
		snprintf(want, sizeof(want), "sha256:%s", vectors[i].hex);
		sl_sha256_portable(msg, len, portable);
		sl_sha256_digest(msg, len, oneshot);
		_cleanup_(sl_sha256_freep) struct sl_sha256 *h = sl_sha256_new();
		sl_sha256_update(h, msg, len);
		sl_sha256_final(h, streamed);
		if (strcmp(portable, want) || strcmp(oneshot, want) || strcmp(streamed, want))
			report_add(&rep, "row %zu: portable %s one-shot %s streamed %s", i,
			           portable, oneshot, streamed);
	}
	report_check(&rep);
}

/* Every length a padding rule can treat differently: 0..1000 covers empty,
 * 55/56 (length field fits or spills), 63/64/65 and many blocks; then page
 * sizes and the switch from portable to OpenSSL in sl_sha256_digest. */
static void sha256_portable_agrees_with_openssl_on_every_length(void **state)
{
	(void)state;
	static const size_t more[] = {4095,
	                              4096,
	                              4097,
	                              SL_SHA256_PORTABLE_MAX - 1,
	                              SL_SHA256_PORTABLE_MAX,
	                              SL_SHA256_PORTABLE_MAX + 1,
	                              SL_SHA256_PORTABLE_MAX + 64};
	size_t max = SL_SHA256_PORTABLE_MAX + 64;
	_cleanup_free_ unsigned char *data = sl_xmalloc(max);
	uint32_t x = 2463534242u; /* xorshift32: bytes of every value */
	for (size_t i = 0; i < max; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		data[i] = (unsigned char)x;
	}
	_cleanup_(sl_sha256_freep) struct sl_sha256 *h = sl_sha256_new();
	struct report rep = {0};
	for (size_t k = 0; k <= 1000 + SL_ARRAY_SIZE(more); k++) {
		size_t len = k <= 1000 ? k : more[k - 1001];
		char portable[SL_DIGEST_STR_LEN], oneshot[SL_DIGEST_STR_LEN],
		    streamed[SL_DIGEST_STR_LEN];
		sl_sha256_portable(data, len, portable);
		sl_sha256_digest(data, len, oneshot);
		sl_sha256_reset(h);
		sl_sha256_update(h, data, len);
		sl_sha256_final(h, streamed);
		if (strcmp(portable, streamed) || strcmp(oneshot, streamed))
			report_add(&rep, "length %zu: portable %s one-shot %s OpenSSL %s", len,
			           portable, oneshot, streamed);
	}
	report_check(&rep);
}

static void digest_valid_requires_sha256_and_64_lowercase_hex(void **state)
{
	(void)state;
	const char *hex64 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	char buf[128];
	snprintf(buf, sizeof(buf), "sha256:%s", hex64);
	assert_true(sl_digest_valid(buf));
	snprintf(buf, sizeof(buf), "sha256:%.63s", hex64);
	assert_false(sl_digest_valid(buf));
	snprintf(buf, sizeof(buf), "sha256:%sa", hex64);
	assert_false(sl_digest_valid(buf));
	snprintf(buf, sizeof(buf), "sha512:%s", hex64);
	assert_false(sl_digest_valid(buf));
	snprintf(buf, sizeof(buf), "SHA256:%s", hex64);
	assert_false(sl_digest_valid(buf));
	snprintf(buf, sizeof(buf),
	         "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
	assert_false(sl_digest_valid(buf));
	snprintf(buf, sizeof(buf), "sha256:%.63sg", hex64);
	assert_false(sl_digest_valid(buf));
	assert_false(sl_digest_valid(hex64));
	assert_false(sl_digest_valid(""));
	assert_false(sl_digest_valid("sha256:"));
}

/* ---- strings --------------------------------------------------------- */

static void startswith_and_endswith_compare_bytes(void **state)
{
	(void)state;
	assert_true(sl_startswith("oci://x", "oci://"));
	assert_true(sl_startswith("abc", ""));
	assert_false(sl_startswith("oc", "oci://"));
	assert_true(sl_endswith("x.tar.gz", ".tar.gz"));
	assert_true(sl_endswith("abc", ""));
	assert_false(sl_endswith("gz", ".tar.gz"));
	assert_false(sl_endswith("x.tar.gz ", ".tar.gz"));
}

static void strv_push_copies_and_terminates_with_null(void **state)
{
	(void)state;
	struct sl_strv v = {0};
	char tmp[8] = "one";
	sl_strv_push(&v, tmp);
	strcpy(tmp, "two");
	sl_strv_push(&v, tmp);
	assert_int_equal(v.len, 2);
	assert_string_equal(v.items[0], "one");
	assert_string_equal(v.items[1], "two");
	assert_null(v.items[2]);
	sl_strv_free(&v);
	assert_null(v.items);
	assert_int_equal(v.len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(duration_parses_go_forms),
	    cmocka_unit_test(duration_decimal_fractions_are_exact),
	    cmocka_unit_test(duration_accepts_every_go_unit),
	    cmocka_unit_test(duration_below_a_millisecond_rounds_up_to_one),
	    cmocka_unit_test(duration_rejects_malformed_text),
	    cmocka_unit_test(buf_append_up_to_the_cap_succeeds),
	    cmocka_unit_test(buf_append_past_the_cap_fails_without_truncating),
	    cmocka_unit_test(buf_append_rejects_sizes_that_would_wrap),
	    cmocka_unit_test(buf_printf_respects_the_cap),
	    cmocka_unit_test(buf_without_cap_grows_for_our_own_data),
	    cmocka_unit_test(buf_is_always_nul_terminated),
	    cmocka_unit_test(buf_reset_empties_and_keeps_the_cap),
	    cmocka_unit_test(buf_steal_hands_data_out_and_resets),
	    cmocka_unit_test(buf_free_accepts_a_never_used_buffer),
	    cmocka_unit_test(base64_encodes_rfc4648_vectors),
	    cmocka_unit_test(base64_decodes_rfc4648_vectors),
	    cmocka_unit_test(base64_round_trips_binary_with_nul_bytes),
	    cmocka_unit_test(base64_encodes_binary_vectors),
	    cmocka_unit_test(base64_decode_rejects_malformed_input),
	    cmocka_unit_test(rfc3339_accepts_what_go_accepts),
	    cmocka_unit_test(rfc3339_rejects_what_go_rejects),
	    cmocka_unit_test(rfc3339_accepts_go_general_parser_forms),
	    cmocka_unit_test(rfc3339_now_is_valid_utc_with_second_precision),
	    cmocka_unit_test(error_wrap_builds_a_chain_outermost_first),
	    cmocka_unit_test(error_wrap_of_an_empty_error_has_no_separator),
	    cmocka_unit_test(error_errno_appends_strerror),
	    cmocka_unit_test(error_wrap_keeps_the_prefix_when_the_message_is_full),
	    cmocka_unit_test(error_functions_accept_null),
	    cmocka_unit_test(error_clear_resets_code_status_and_message),
	    cmocka_unit_test(sha256_digest_matches_fips_vectors),
	    cmocka_unit_test(sha256_streaming_equals_one_shot),
	    cmocka_unit_test(sha256_all_paths_match_nist_vectors),
	    cmocka_unit_test(sha256_portable_agrees_with_openssl_on_every_length),
	    cmocka_unit_test(digest_valid_requires_sha256_and_64_lowercase_hex),
	    cmocka_unit_test(startswith_and_endswith_compare_bytes),
	    cmocka_unit_test(strv_push_copies_and_terminates_with_null),
	};
	return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
