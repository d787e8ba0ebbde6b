/* cli/fluxout: what `sluice get/create/reconcile source oci` print and
 * decide without a cluster — Flux's table and TruncateHex (the golden file
 * of flux2's get_oci test), Go's duration and RFC 3339 nano strings, an
 * object as YAML, and when a Flux object counts as reconciled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/fluxout.h"

#define HEX64 "6c959c51ccbb952e5fe4737563338a0aaf975675dcf812912cf09e5463181871"
#define HEX40 "dbdb109711ffb3be77504d2670dbe13c24dd63d8"
#define HEX39 "dbdb109711ffb3be77504d2670dbe13c24dd63d"

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	if (!v)
		fail_msg("bad test JSON: %s: %s", e.text, text);
	return v;
}

static void truncate_hex_cuts_whole_hex_words_of_40_to_128(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"6.3.5@sha256:" HEX64, "6.3.5@sha256:6c959c51"},
	    {"stored artifact for digest 'latest@sha256:" HEX64 "'",
	     "stored artifact for digest 'latest@sha256:6c959c51'"},
	    {"main/" HEX40, "main/dbdb1097"},
	    {HEX40 " and " HEX64, "dbdb1097 and 6c959c51"},
	    /* 39 digits, 129 digits: no match */
	    {"sha256:" HEX39, "sha256:" HEX39},
	    {HEX64 HEX64 "a", HEX64 HEX64 "a"},
	    /* exactly 128 */
	    {HEX64 HEX64, "6c959c51"},
	    /* not a whole word: a letter, a digit run continuing, '_' */
	    {"g" HEX64, "g" HEX64},
	    {HEX64 "_x", HEX64 "_x"},
	    /* upper case is not hex to Flux */
	    {"6C959C51CCBB952E5FE4737563338A0AAF975675DCF812912CF09E5463181871",
	     "6C959C51CCBB952E5FE4737563338A0AAF975675DCF812912CF09E5463181871"},
	    /* non-ASCII bytes are boundaries */
	    {"\xc3\xa9" HEX40 "\xc3\xa9", "\xc3\xa9"
	                                  "dbdb1097"
	                                  "\xc3\xa9"},
	    {"", ""},
	    {"no hex here", "no hex here"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = cli_truncate_hex(cases[i].in);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got, cases[i].want);
		free(got);
	}
}

/* flux2 cmd/flux/testdata/oci/get_oci.golden, byte for byte. */
static void table_matches_fluxs_golden_file(void **state)
{
	(void)state;
	static const char *const header[] = {"Name", "Revision", "Suspended", "Ready", "Message"};
	static const char *const cells[] = {"thrfg", "6.3.5@sha256:6c959c51", "False", "True",
	                                    "stored artifact for digest '6.3.5@sha256:6c959c51'"};
	struct sl_buf b;
	sl_buf_init(&b, 0);
	cli_table_print(&b, header, 5, cells, 1);
	assert_string_equal(b.data, "NAME \tREVISION             \tSUSPENDED\tREADY\tMESSAGE    "
	                            "                                        \n"
	                            "thrfg\t6.3.5@sha256:6c959c51\tFalse    \tTrue \tstored "
	                            "artifact for digest '6.3.5@sha256:6c959c51'\t\n");
	sl_buf_free(&b);
}

static void table_without_header_or_rows(void **state)
{
	(void)state;
	static const char *const header[] = {"Name", "Ready"};
	static const char *const cells[] = {"a", "True", "longer-name", "False"};
	struct sl_buf b;
	sl_buf_init(&b, 0);
	cli_table_print(&b, NULL, 2, cells, 2);
	assert_string_equal(b.data, "a          \tTrue \t\nlonger-name\tFalse\t\n");
	sl_buf_reset(&b);
	cli_table_print(&b, header, 2, NULL, 0);
	assert_string_equal(b.data, "NAME\tREADY \n");
	sl_buf_free(&b);
}

static void go_duration_strings(void **state)
{
	(void)state;
	static const struct {
		int64_t ms;
		const char *want;
	} cases[] = {
	    {0, "0s"},
	    {1, "1ms"},
	    {999, "999ms"},
	    {1000, "1s"},
	    {1500, "1.5s"},
	    {1250, "1.25s"},
	    {1001, "1.001s"},
	    {60000, "1m0s"},
	    {90000, "1m30s"},
	    {600000, "10m0s"},
	    {3600000, "1h0m0s"},
	    {5400000, "1h30m0s"},
	    {86400000, "24h0m0s"},
	    {-60000, "-1m0s"},
	    {61500, "1m1.5s"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char got[64];
		cli_go_duration(cases[i].ms, got);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%lld ms: got %s, want %s", (long long)cases[i].ms, got,
			         cases[i].want);
	}
}

static void rfc3339_nano_trims_the_fraction_and_names_the_zone(void **state)
{
	(void)state;
	char got[64];
	setenv("TZ", "UTC", 1);
	tzset();
	struct timespec t = {.tv_sec = 1777629845, .tv_nsec = 123456780};
	cli_rfc3339_nano(&t, got);
	assert_string_equal(got, "2026-05-01T10:04:05.12345678Z");
	t.tv_nsec = 0;
	cli_rfc3339_nano(&t, got);
	assert_string_equal(got, "2026-05-01T10:04:05Z");
	t.tv_nsec = 5;
	cli_rfc3339_nano(&t, got);
	assert_string_equal(got, "2026-05-01T10:04:05.000000005Z");
	setenv("TZ", "UTC-05:30", 1); /* POSIX: east of Greenwich */
	tzset();
	t.tv_nsec = 500000000;
	cli_rfc3339_nano(&t, got);
	assert_string_equal(got, "2026-05-01T15:34:05.5+05:30");
	setenv("TZ", "UTC+03", 1);
	tzset();
	cli_rfc3339_nano(&t, got);
	assert_string_equal(got, "2026-05-01T07:04:05.5-03:00");
	setenv("TZ", "UTC", 1);
	tzset();
}

static void object_prints_as_kubectl_yaml(void **state)
{
	(void)state;
	json_t *obj =
	    parse("{\"spec\":{\"url\":\"oci://x/y\",\"ref\":{\"semver\":\">=1.0.0\"},"
	          "\"suspend\":false,\"interval\":\"1m0s\",\"count\":3,\"ignore\":\"a\\nb\"},"
	          "\"kind\":\"OCIRepository\",\"apiVersion\":\"v1\",\"list\":[1,null]}");
	struct sl_node *n = cli_node_from_json(obj);
	struct sl_buf b;
	sl_buf_init(&b, 0);
	struct sl_error err = {0};
	assert_int_equal(sl_yaml_emit(&b, n, &err), 0);
	assert_string_equal(b.data, "apiVersion: v1\n"
	                            "kind: OCIRepository\n"
	                            "list:\n"
	                            "- 1\n"
	                            "- null\n"
	                            "spec:\n"
	                            "  count: 3\n"
	                            "  ignore: |-\n"
	                            "    a\n"
	                            "    b\n"
	                            "  interval: 1m0s\n"
	                            "  ref:\n"
	                            "    semver: '>=1.0.0'\n"
	                            "  suspend: false\n"
	                            "  url: oci://x/y\n");
	sl_buf_free(&b);
	sl_node_free(n);
	json_decref(obj);
}

static const char *readiness_name(enum cli_readiness r)
{
	return r == CLI_READY ? "ready" : r == CLI_FAILED ? "failed" : "pending";
}

static void readiness_needs_the_request_handled_and_the_current_generation(void **state)
{
	(void)state;
	static const struct {
		const char *obj, *requested_at;
		enum cli_readiness want;
		const char *message;
	} cases[] = {
	    {"{\"metadata\":{\"generation\":2}}", NULL, CLI_PENDING, NULL},
	    /* Ready for generation 1, the object is at 2 */
	    {"{\"metadata\":{\"generation\":2},\"status\":{\"conditions\":[{\"type\":\"Ready\","
	     "\"status\":\"True\",\"observedGeneration\":1,\"message\":\"old\"}]}}",
	     NULL, CLI_PENDING, NULL},
	    {"{\"metadata\":{\"generation\":2},\"status\":{\"conditions\":[{\"type\":\"Ready\","
	     "\"status\":\"True\",\"observedGeneration\":2,\"message\":\"stored\"}]}}",
	     NULL, CLI_READY, "stored"},
	    /* without the condition's own observedGeneration, the status's counts */
	    {"{\"metadata\":{\"generation\":3},\"status\":{\"observedGeneration\":3,"
	     "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\",\"message\":\"401\"}]}}",
	     NULL, CLI_FAILED, "401"},
	    {"{\"metadata\":{\"generation\":3},\"status\":{\"observedGeneration\":3,"
	     "\"conditions\":[{\"type\":\"Ready\",\"status\":\"Unknown\",\"message\":\"working\"}]}"
	     "}",
	     NULL, CLI_PENDING, "working"},
	    /* a request not handled yet: the old Ready says nothing */
	    {"{\"metadata\":{\"generation\":1},\"status\":{\"lastHandledReconcileAt\":\"t1\","
	     "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"observedGeneration\":1}]}}",
	     "t2", CLI_PENDING, NULL},
	    {"{\"metadata\":{\"generation\":1},\"status\":{\"lastHandledReconcileAt\":\"t2\","
	     "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"observedGeneration\":1}]}}",
	     "t2", CLI_READY, ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *obj = parse(cases[i].obj);
		const char *msg = NULL;
		enum cli_readiness got = cli_flux_readiness(obj, cases[i].requested_at, &msg);
		if (got != cases[i].want)
			fail_msg("case %zu: %s, want %s (%s)", i, readiness_name(got),
			         readiness_name(cases[i].want), msg);
		if (cases[i].message && strcmp(msg, cases[i].message) != 0)
			fail_msg("case %zu: message \"%s\", want \"%s\"", i, msg, cases[i].message);
		json_decref(obj);
	}
}

static void get_columns_and_status_selector(void **state)
{
	(void)state;
	json_t *none = parse("{\"status\":{}}");
	const char *status, *message;
	cli_ready_columns(none, &status, &message);
	assert_string_equal(status, "False");
	assert_string_equal(message, "waiting to be reconciled");
	assert_false(cli_status_matches(none, "ready", "false"));

	json_t *failed = parse("{\"status\":{\"conditions\":[{\"type\":\"Reconciling\",\"status\":"
	                       "\"True\"},{\"type\":\"Ready\",\"status\":\"False\",\"message\":"
	                       "\"pull failed\"}]}}");
	cli_ready_columns(failed, &status, &message);
	assert_string_equal(status, "False");
	assert_string_equal(message, "pull failed");
	assert_true(cli_status_matches(failed, "ready", "false"));
	assert_true(cli_status_matches(failed, "READY", "False"));
	assert_false(cli_status_matches(failed, "ready", "true"));
	assert_true(cli_status_matches(failed, "reconciling", "true"));
	assert_false(cli_status_matches(failed, "stalled", "true"));
	json_decref(none);
	json_decref(failed);
}

static void deployment_is_ready_once_every_replica_is(void **state)
{
	(void)state;
	static const struct {
		const char *obj;
		enum cli_readiness want;
	} cases[] = {
	    {"{\"metadata\":{\"generation\":1},\"spec\":{}}", CLI_PENDING},
	    {"{\"metadata\":{\"generation\":2},\"spec\":{\"replicas\":1},\"status\":{"
	     "\"observedGeneration\":1,\"replicas\":1,\"updatedReplicas\":1,\"readyReplicas\":1,"
	     "\"availableReplicas\":1}}",
	     CLI_PENDING},
	    {"{\"metadata\":{\"generation\":2},\"spec\":{\"replicas\":1},\"status\":{"
	     "\"observedGeneration\":2,\"replicas\":2,\"updatedReplicas\":1,\"readyReplicas\":1,"
	     "\"availableReplicas\":1}}",
	     CLI_PENDING},
	    {"{\"metadata\":{\"generation\":2},\"spec\":{\"replicas\":1},\"status\":{"
	     "\"observedGeneration\":2,\"replicas\":1,\"updatedReplicas\":1,\"readyReplicas\":1,"
	     "\"availableReplicas\":1}}",
	     CLI_READY},
	    {"{\"metadata\":{\"generation\":1},\"spec\":{\"replicas\":0},\"status\":{"
	     "\"observedGeneration\":1}}",
	     CLI_READY},
	    {"{\"metadata\":{\"generation\":1},\"status\":{\"conditions\":[{\"type\":"
	     "\"Progressing\",\"status\":\"False\",\"reason\":\"ProgressDeadlineExceeded\"}]}}",
	     CLI_FAILED},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *obj = parse(cases[i].obj);
		char msg[160];
		enum cli_readiness got = cli_deployment_readiness(obj, msg);
		if (got != cases[i].want)
			fail_msg("case %zu: %s, want %s (%s)", i, readiness_name(got),
			         readiness_name(cases[i].want), msg);
		json_decref(obj);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(truncate_hex_cuts_whole_hex_words_of_40_to_128),
	    cmocka_unit_test(table_matches_fluxs_golden_file),
	    cmocka_unit_test(table_without_header_or_rows),
	    cmocka_unit_test(go_duration_strings),
	    cmocka_unit_test(rfc3339_nano_trims_the_fraction_and_names_the_zone),
	    cmocka_unit_test(object_prints_as_kubectl_yaml),
	    cmocka_unit_test(readiness_needs_the_request_handled_and_the_current_generation),
	    cmocka_unit_test(get_columns_and_status_selector),
	    cmocka_unit_test(deployment_is_ready_once_every_replica_is),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
