/* Drives controller/ocisource against a real registry for
 * tests/integration/ocisource.sh:
 *   ocisource OBJECT_JSON OUT_DIR [OUT_FILE]
 * resolves and fetches the OCIRepository in OBJECT_JSON (a JSON object:
 * {"spec": {...}}) and prints, one per line:
 *   revision=<rev>
 *   annotation.<key>=<value>
 * or, on failure, reason=<reason> stalling=<0|1> and message=<message>,
 * exiting 1. Credentials: SLUICE_TEST_USER / SLUICE_TEST_PASSWORD,
 * SLUICE_TEST_CA (a PEM file). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "controller/ocisource.h"

static int report(const struct sl_source_error *serr)
{
	printf("reason=%s\nstalling=%d\nmessage=%s\n", serr->reason, serr->stalling, serr->err.msg);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s OBJECT_JSON OUT_DIR [OUT_FILE]\n", argv[0]);
		return 2;
	}
	json_error_t jerr;
	json_t *obj = json_loads(argv[1], 0, &jerr);
	if (!obj) {
		fprintf(stderr, "bad JSON: %s\n", jerr.text);
		return 2;
	}
	struct sl_source_error serr = {0};
	struct sl_ocirepo_spec spec;
	int parsed = sl_ocirepo_spec_parse(obj, &spec, &serr);
	json_decref(obj);
	if (parsed < 0)
		return report(&serr);
	struct sl_creds creds = {0};
	if (getenv("SLUICE_TEST_USER")) {
		creds.username = getenv("SLUICE_TEST_USER");
		creds.password = getenv("SLUICE_TEST_PASSWORD");
	}
	struct sl_registry_opts opts = {
	    .creds = &creds,
	    .insecure = spec.insecure,
	    .ca_file = getenv("SLUICE_TEST_CA"),
	    .timeout_ms = spec.timeout_ms,
	    .user_agent = "sluice-test",
	};
	struct sl_registry *reg = NULL;
	struct sl_error err = {0};
	if (sl_registry_new(spec.ref.registry, &opts, &reg, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		sl_ocirepo_spec_clear(&spec);
		return 2;
	}
	struct sl_ocirepo_revision rev = {0};
	struct sl_ocirepo_fetch fetched = {0};
	int rc = 0;
	if (sl_ocirepo_resolve(reg, &spec, SL_RESOLVE_HEAD, &rev, &serr) < 0)
		rc = report(&serr);
	else if (sl_ocirepo_fetch(reg, &spec, &rev, argv[2], argc > 3 ? argv[3] : NULL, 0, &fetched,
	                          &serr) < 0)
		rc = report(&serr);
	if (rc == 0) {
		printf("revision=%s\n", rev.revision);
		const char *key;
		json_t *value;
		json_object_foreach (fetched.annotations, key, value)
			printf("annotation.%s=%s\n", key, json_string_value(value));
	}
	sl_ocirepo_fetch_clear(&fetched);
	sl_ocirepo_revision_clear(&rev);
	sl_registry_free(reg);
	sl_ocirepo_spec_clear(&spec);
	return rc;
}
