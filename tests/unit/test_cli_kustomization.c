/* cli/fluxout for Kustomizations: what `sluice get kustomizations` and
 * `sluice trace` print without a cluster — Flux's get row (revision from
 * status.lastAppliedRevision, shortened), Go's time.Time.String() of a
 * condition's lastTransitionTime, and flux trace's report byte for byte as
 * flux2's text/template writes it (a blank line first, 17-column labels,
 * the blank line a missing origin annotation leaves). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/fluxout.h"

#define HEX64 "6c959c51ccbb952e5fe4737563338a0aaf975675dcf812912cf09e5463181871"

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	if (!v)
		fail_msg("bad test JSON: %s: %s", e.text, text);
	return v;
}

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static void row_shows_the_applied_revision_shortened(void **state)
{
	(void)state;
	json_t *ks = parse("{\"metadata\": {\"name\": \"podinfo\", \"namespace\": \"apps\"},"
	                   " \"spec\": {\"suspend\": true},"
	                   " \"status\": {\"lastAppliedRevision\": \"latest@sha256:" HEX64 "\","
	                   "  \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\","
	                   "   \"message\": \"Applied revision: latest@sha256:" HEX64 "\"}]}}");
	struct sl_strv cells = {0};
	cli_flux_row(ks, cli_json_str(ks, "status", "lastAppliedRevision", NULL), true, &cells);
	assert_int_equal(cells.len, 6);
	assert_string_equal(cells.items[0], "apps");
	assert_string_equal(cells.items[1], "podinfo");
	assert_string_equal(cells.items[2], "latest@sha256:6c959c51");
	assert_string_equal(cells.items[3], "True");
	assert_string_equal(cells.items[4], "True");
	assert_string_equal(cells.items[5], "Applied revision: latest@sha256:6c959c51");
	sl_strv_free(&cells);
	json_decref(ks);

	/* Never reconciled: no revision, Flux's "waiting to be reconciled". */
	json_t *fresh = parse("{\"metadata\": {\"name\": \"podinfo-staging\"}, \"spec\": {},"
	                      " \"status\": {\"observedGeneration\": -1}}");
	cli_flux_row(fresh, NULL, false, &cells);
	assert_int_equal(cells.len, 5);
	assert_string_equal(cells.items[0], "podinfo-staging");
	assert_string_equal(cells.items[1], "");
	assert_string_equal(cells.items[2], "False");
	assert_string_equal(cells.items[3], "False");
	assert_string_equal(cells.items[4], "waiting to be reconciled");
	sl_strv_free(&cells);
	json_decref(fresh);
}

/* The same table printer as get sources oci, with the Kustomization row. */
static void table_prints_fluxs_kustomization_columns(void **state)
{
	(void)state;
	static const char *const header[] = {"Name", "Revision", "Suspended", "Ready", "Message"};
	json_t *ks = parse("{\"metadata\": {\"name\": \"podinfo\"}, \"spec\": {},"
	                   " \"status\": {\"lastAppliedRevision\": \"6.3.5@sha256:" HEX64 "\","
	                   "  \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\","
	                   "   \"message\": \"Applied revision: 6.3.5@sha256:" HEX64 "\"}]}}");
	struct sl_strv cells = {0};
	cli_flux_row(ks, cli_json_str(ks, "status", "lastAppliedRevision", NULL), false, &cells);
	struct sl_buf b;
	sl_buf_init(&b, 0);
	cli_table_print(&b, header, 5, (const char *const *)cells.items, 1);
	assert_string_equal(b.data, "NAME   \tREVISION             \tSUSPENDED\tREADY\tMESSAGE"
	                            "                                 \n"
	                            "podinfo\t6.3.5@sha256:6c959c51\tFalse    \tTrue \tApplied "
	                            "revision: 6.3.5@sha256:6c959c51\t\n");
	sl_buf_free(&b);
	sl_strv_free(&cells);
	json_decref(ks);
}

static void go_time_is_local_with_offset_and_zone(void **state)
{
	(void)state;
	char got[96];
	set_tz("UTC");
	cli_go_time("2021-07-16T15:42:20Z", got);
	assert_string_equal(got, "2021-07-16 15:42:20 +0000 UTC");
	/* An offset in the text only says which instant it is. */
	cli_go_time("2021-07-16T17:42:20+02:00", got);
	assert_string_equal(got, "2021-07-16 15:42:20 +0000 UTC");
	/* Go prints a fraction without its trailing zeros. */
	cli_go_time("2021-07-16T15:42:20.250Z", got);
	assert_string_equal(got, "2021-07-16 15:42:20.25 +0000 UTC");
	set_tz("CET-1CEST,M3.5.0,M10.5.0/3");
	cli_go_time("2021-07-16T15:42:20Z", got);
	assert_string_equal(got, "2021-07-16 17:42:20 +0200 CEST");
	cli_go_time("2021-01-16T15:42:20Z", got);
	assert_string_equal(got, "2021-01-16 16:42:20 +0100 CET");
	/* A missing or broken time is Go's zero time, which is UTC. */
	cli_go_time(NULL, got);
	assert_string_equal(got, "0001-01-01 00:00:00 +0000 UTC");
	cli_go_time("yesterday", got);
	assert_string_equal(got, "0001-01-01 00:00:00 +0000 UTC");
	cli_go_time("2021-07-16T15:42:20", got);
	assert_string_equal(got, "0001-01-01 00:00:00 +0000 UTC");
	set_tz("UTC");
}

static char *report(const char *kind, const char *obj, const char *ks, const char *source)
{
	json_t *o = parse(obj), *k = parse(ks), *s = source ? parse(source) : NULL;
	struct sl_buf b;
	sl_buf_init(&b, 0);
	cli_trace_report(&b, kind, o, k, s);
	json_decref(o);
	json_decref(k);
	json_decref(s);
	return sl_buf_steal(&b);
}

#define KS_READY                                                                                   \
	"{\"metadata\": {\"name\": \"podinfo\", \"namespace\": \"flux-system\"},"                  \
	" \"spec\": {\"targetNamespace\": \"apps\", \"path\": \"./deploy\","                       \
	"  \"sourceRef\": {\"kind\": \"OCIRepository\", \"name\": \"podinfo\"}},"                  \
	" \"status\": {\"lastAppliedRevision\": \"latest@sha256:" HEX64 "\","                      \
	"  \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\","                           \
	"   \"lastTransitionTime\": \"2021-07-16T15:42:20Z\","                                     \
	"   \"message\": \"Applied revision: latest@sha256:" HEX64 "\"}]}}"

#define KS_BLOCK                                                                                   \
	"---\n"                                                                                    \
	"Kustomization:   podinfo\n"                                                               \
	"Namespace:       flux-system\n"                                                           \
	"Target:          apps\n"                                                                  \
	"Path:            ./deploy\n"                                                              \
	"Revision:        latest@sha256:" HEX64 "\n"                                               \
	"Status:          Last reconciled at 2021-07-16 15:42:20 +0000 UTC\n"                      \
	"Message:         Applied revision: latest@sha256:" HEX64 "\n"

/* Every line of both blocks, as flux trace prints a healthy object. */
static void trace_report_of_a_healthy_object(void **state)
{
	(void)state;
	set_tz("UTC");
	char *got =
	    report("ConfigMap",
	           "{\"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"podinfo-config\","
	           " \"namespace\": \"apps\"}}",
	           KS_READY,
	           "{\"kind\": \"OCIRepository\", \"metadata\": {\"name\": \"podinfo\","
	           " \"namespace\": \"flux-system\"},"
	           " \"spec\": {\"url\": \"oci://ghcr.io/stefanprodan/manifests/podinfo\","
	           "  \"ref\": {\"tag\": \"latest\", \"semver\": \">=1.0.0\"}},"
	           " \"status\": {\"artifact\": {\"revision\": \"latest@sha256:" HEX64 "\","
	           "  \"metadata\": {\"org.opencontainers.image.source\":"
	           "   \"https://github.com/stefanprodan/podinfo\","
	           "   \"org.opencontainers.image.revision\": \"6.7.0@sha1:0123abc\","
	           "   \"org.opencontainers.image.created\": \"2024-01-01T00:00:00Z\"}},"
	           "  \"conditions\": [{\"type\": \"Reconciling\", \"status\": \"False\"},"
	           "   {\"type\": \"Ready\", \"status\": \"True\","
	           "    \"lastTransitionTime\": \"2021-08-01T04:52:56Z\","
	           "    \"message\": \"stored artifact for digest 'latest@sha256:" HEX64 "'\"}]}}");
	assert_string_equal(
	    got, "\n"
	         "Object:          ConfigMap/podinfo-config\n"
	         "Namespace:       apps\n"
	         "Status:          Managed by Flux\n" KS_BLOCK "---\n"
	         "OCIRepository:   podinfo\n"
	         "Namespace:       flux-system\n"
	         "URL:             oci://ghcr.io/stefanprodan/manifests/podinfo\n"
	         "Tag:             latest\n"
	         "Revision:        latest@sha256:" HEX64 "\n"
	         "Origin Revision: 6.7.0@sha1:0123abc\n"
	         "Origin Source:   https://github.com/stefanprodan/podinfo\n"
	         "Status:          Last reconciled at 2021-08-01 04:52:56 +0000 UTC\n"
	         "Message:         stored artifact for digest 'latest@sha256:" HEX64 "'\n");
	free(got);
}

/* A cluster-scoped object has no Namespace line; a Kustomization without a
 * Ready condition says Unknown, its empty Path and Revision stay; a failed
 * source says so; semver is shown as Tag; no artifact, no Revision. */
static void trace_report_of_a_pending_kustomization_and_failed_source(void **state)
{
	(void)state;
	set_tz("UTC");
	char *got = report(
	    "Namespace", "{\"kind\": \"Namespace\", \"metadata\": {\"name\": \"apps\"}}",
	    "{\"metadata\": {\"name\": \"infra\", \"namespace\": \"flux-system\"},"
	    " \"spec\": {\"sourceRef\": {\"kind\": \"OCIRepository\", \"name\": \"infra\"}},"
	    " \"status\": {\"observedGeneration\": -1}}",
	    "{\"kind\": \"OCIRepository\", \"metadata\": {\"name\": \"infra\","
	    " \"namespace\": \"flux-system\"},"
	    " \"spec\": {\"url\": \"oci://ghcr.io/org/infra\", \"ref\": {\"semver\": \"1.x\"}},"
	    " \"status\": {\"conditions\": [{\"type\": \"Ready\", \"status\": \"False\","
	    "  \"lastTransitionTime\": \"2021-08-01T04:52:56Z\","
	    "  \"message\": \"failed to get credential\"}]}}");
	assert_string_equal(got,
	                    "\n"
	                    "Object:          Namespace/apps\n"
	                    "Status:          Managed by Flux\n"
	                    "---\n"
	                    "Kustomization:   infra\n"
	                    "Namespace:       flux-system\n"
	                    "Path:            \n"
	                    "Revision:        \n"
	                    "Status:          Unknown\n"
	                    "---\n"
	                    "OCIRepository:   infra\n"
	                    "Namespace:       flux-system\n"
	                    "URL:             oci://ghcr.io/org/infra\n"
	                    "Tag:             1.x\n"
	                    "Status:          Last reconciliation failed at 2021-08-01 04:52:56 "
	                    "+0000 UTC\n"
	                    "Message:         failed to get credential\n");
	free(got);
}

/* Flux's template writes a newline for each origin annotation and the
 * line only when it has a value: a missing revision leaves a blank line.
 * A digest reference is shown as Digest; a source without Ready is
 * Unknown; a Kustomization's failed Ready still reads "Last reconciled". */
static void trace_report_leaves_a_blank_line_for_a_missing_origin(void **state)
{
	(void)state;
	set_tz("UTC");
	char *got = report(
	    "Deployment", "{\"metadata\": {\"name\": \"podinfo\", \"namespace\": \"apps\"}}",
	    "{\"metadata\": {\"name\": \"podinfo\", \"namespace\": \"flux-system\"},"
	    " \"spec\": {\"path\": \"./\"},"
	    " \"status\": {\"conditions\": [{\"type\": \"Ready\", \"status\": \"False\","
	    "  \"lastTransitionTime\": \"2021-07-16T15:42:20Z\","
	    "  \"message\": \"health check failed\"}]}}",
	    "{\"kind\": \"OCIRepository\", \"metadata\": {\"name\": \"podinfo\","
	    " \"namespace\": \"flux-system\"},"
	    " \"spec\": {\"url\": \"oci://r/app\", \"ref\": {\"digest\": \"sha256:" HEX64 "\"}},"
	    " \"status\": {\"artifact\": {\"revision\": \"sha256:" HEX64 "\","
	    "  \"metadata\": {\"org.opencontainers.image.source\": "
	    "\"https://example.com/app\"}}}}");
	assert_string_equal(got,
	                    "\n"
	                    "Object:          Deployment/podinfo\n"
	                    "Namespace:       apps\n"
	                    "Status:          Managed by Flux\n"
	                    "---\n"
	                    "Kustomization:   podinfo\n"
	                    "Namespace:       flux-system\n"
	                    "Path:            ./\n"
	                    "Revision:        \n"
	                    "Status:          Last reconciled at 2021-07-16 15:42:20 +0000 UTC\n"
	                    "Message:         health check failed\n"
	                    "---\n"
	                    "OCIRepository:   podinfo\n"
	                    "Namespace:       flux-system\n"
	                    "URL:             oci://r/app\n"
	                    "Digest:          sha256:" HEX64 "\n"
	                    "Revision:        sha256:" HEX64 "\n"
	                    "\n"
	                    "Origin Source:   https://example.com/app\n"
	                    "Status:          Unknown\n");
	free(got);
}

/* No source block for a Bucket (NULL); the GitRepository block names the
 * branch. */
static void trace_report_other_sources(void **state)
{
	(void)state;
	set_tz("UTC");
	char *got =
	    report("ConfigMap", "{\"metadata\": {\"name\": \"c\", \"namespace\": \"apps\"}}",
	           KS_READY, NULL);
	assert_string_equal(got, "\n"
	                         "Object:          ConfigMap/c\n"
	                         "Namespace:       apps\n"
	                         "Status:          Managed by Flux\n" KS_BLOCK);
	free(got);
	got = report("ConfigMap", "{\"metadata\": {\"name\": \"c\", \"namespace\": \"apps\"}}",
	             KS_READY,
	             "{\"kind\": \"GitRepository\", \"metadata\": {\"name\": \"flux-system\","
	             " \"namespace\": \"flux-system\"},"
	             " \"spec\": {\"url\": \"https://github.com/org/fleet\","
	             "  \"ref\": {\"branch\": \"main\"}},"
	             " \"status\": {\"artifact\": {\"revision\": \"main@sha1:abc\"},"
	             "  \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\","
	             "   \"lastTransitionTime\": \"2021-07-11T00:25:46Z\","
	             "   \"message\": \"stored artifact for revision 'main@sha1:abc'\"}]}}");
	assert_string_equal(got,
	                    "\n"
	                    "Object:          ConfigMap/c\n"
	                    "Namespace:       apps\n"
	                    "Status:          Managed by Flux\n" KS_BLOCK "---\n"
	                    "GitRepository:   flux-system\n"
	                    "Namespace:       flux-system\n"
	                    "URL:             https://github.com/org/fleet\n"
	                    "Branch:          main\n"
	                    "Revision:        main@sha1:abc\n"
	                    "Status:          Last reconciled at 2021-07-11 00:25:46 +0000 UTC\n"
	                    "Message:         stored artifact for revision 'main@sha1:abc'\n");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(row_shows_the_applied_revision_shortened),
	    cmocka_unit_test(table_prints_fluxs_kustomization_columns),
	    cmocka_unit_test(go_time_is_local_with_offset_and_zone),
	    cmocka_unit_test(trace_report_of_a_healthy_object),
	    cmocka_unit_test(trace_report_of_a_pending_kustomization_and_failed_source),
	    cmocka_unit_test(trace_report_leaves_a_blank_line_for_a_missing_origin),
	    cmocka_unit_test(trace_report_other_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
