/* controller/apply's pure parts (src/controller, kstatus.c, inventory.c,
 * order.c) on any JSON value, as an object read back from the API server
 * or an inventory from a Kustomization's status would be.
 *
 * kstatus: sl_kstatus_compute answers one of the statuses Compute has
 * (never NotFound, which only a missing object gets), always with a
 * message; anything but an object is Unknown; an object with a
 * deletionTimestamp is Terminating; the message is optional and the object
 * is left alone; the same object gets the same answer (Pods aside, whose
 * answer depends on the clock).
 *
 * References and ids: sl_object_ref_from_json either fails saying why or
 * gives a reference with a name, a kind and a version; its inventory id
 * parses back to the same namespace, name, group and kind whenever none of
 * them holds a '_' (the separator cli-utils cannot escape); any id that
 * parses, written again, parses to the same reference.
 *
 * Inventories: an object with "entries" has no stale objects against
 * itself, and against nothing each of its well-formed ids once, in strictly
 * decreasing apply order; the union with itself repeats no id.
 *
 * Normalisation: on a copy, never touches anything but an object, leaves
 * no status except on a CRD, and a second pass changes nothing. */
#include <jansson.h>
#include <strings.h>

#include "controller/apply.h"
#include "fuzz.h"

static bool has_underscore(const char *s)
{
	return strchr(s, '_') != NULL;
}

static void check_same_ref(const struct sl_object_ref *a, const struct sl_object_ref *b)
{
	FUZZ_CHECK(strcmp(a->namespace_, b->namespace_) == 0);
	FUZZ_CHECK(strcmp(a->name, b->name) == 0);
	FUZZ_CHECK(strcmp(a->group, b->group) == 0);
	FUZZ_CHECK(strcmp(a->kind, b->kind) == 0);
}

/* A parsed id, written and parsed again, is the same reference. */
static void check_id_stable(const char *id)
{
	struct sl_object_ref ref = {0};
	struct sl_error err = {0};
	int r = sl_inventory_id_parse(id, &ref, &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, err);
		FUZZ_CHECK(r == SL_EINVAL);
		return;
	}
	FUZZ_CHECK(ref.version == NULL);
	FUZZ_CHECK(*ref.name && *ref.kind);
	FUZZ_CHECK(!has_underscore(ref.namespace_) && !has_underscore(ref.name) &&
	           !has_underscore(ref.group) && !has_underscore(ref.kind));
	char *again = sl_inventory_id(&ref);
	struct sl_object_ref back = {0};
	FUZZ_CHECK(sl_inventory_id_parse(again, &back, &err) == 0);
	check_same_ref(&ref, &back);
	free(again);
	sl_object_ref_clear(&back);
	sl_object_ref_clear(&ref);
}

static void check_kstatus(const json_t *doc)
{
	json_t *before = json_deep_copy(doc);
	char *msg = NULL;
	enum sl_kstatus st = sl_kstatus_compute(doc, &msg);
	FUZZ_CHECK(st == SL_KSTATUS_IN_PROGRESS || st == SL_KSTATUS_FAILED ||
	           st == SL_KSTATUS_CURRENT || st == SL_KSTATUS_TERMINATING ||
	           st == SL_KSTATUS_UNKNOWN);
	FUZZ_CHECK(msg != NULL);
	if (!json_is_object(doc))
		FUZZ_CHECK(st == SL_KSTATUS_UNKNOWN);
	json_t *meta = json_object_get(doc, "metadata");
	const char *deletion = json_string_value(json_object_get(meta, "deletionTimestamp"));
	if (json_is_object(meta) && deletion && *deletion)
		FUZZ_CHECK(st == SL_KSTATUS_TERMINATING);
	FUZZ_CHECK(json_equal(doc, before));

	const char *kind = json_string_value(json_object_get(doc, "kind"));
	if (!kind || strcmp(kind, "Pod") != 0) {
		char *msg2 = NULL;
		FUZZ_CHECK(sl_kstatus_compute(doc, &msg2) == st);
		FUZZ_CHECK(strcmp(msg, msg2) == 0);
		FUZZ_CHECK(sl_kstatus_compute(doc, NULL) == st);
		free(msg2);
	}
	free(msg);
	json_decref(before);
}

static void check_ref(const json_t *doc)
{
	struct sl_object_ref ref = {0};
	struct sl_error err = {0};
	int r = sl_object_ref_from_json(doc, &ref, &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, err);
		FUZZ_CHECK(ref.name == NULL);
		return;
	}
	FUZZ_CHECK(ref.namespace_ && ref.group && ref.version);
	FUZZ_CHECK(ref.name && *ref.name && ref.kind && *ref.kind);
	FUZZ_CHECK(!strchr(ref.group, '/') && !strchr(ref.version, '/'));

	char *id = sl_inventory_id(&ref);
	if (!has_underscore(ref.namespace_) && !has_underscore(ref.name) &&
	    !has_underscore(ref.group) && !has_underscore(ref.kind)) {
		struct sl_object_ref back = {0};
		FUZZ_CHECK(sl_inventory_id_parse(id, &back, &err) == 0);
		check_same_ref(&ref, &back);
		sl_object_ref_clear(&back);
	}
	check_id_stable(id);

	char *subject = sl_change_subject(&ref);
	FUZZ_CHECK(sl_startswith(subject, ref.kind));
	free(subject);
	FUZZ_CHECK(sl_apply_order_cmp(&ref, &ref) == 0);
	enum sl_apply_stage stage = sl_apply_stage_of(ref.group, ref.kind);
	FUZZ_CHECK(stage == SL_STAGE_DEFINITIONS || stage == SL_STAGE_CLASSES ||
	           stage == SL_STAGE_REST);
	free(id);
	sl_object_ref_clear(&ref);
}

static void check_inventory(const json_t *doc)
{
	json_t *entries = json_object_get(doc, "entries");
	if (!json_is_array(entries))
		return;
	struct sl_object_ref *stale = NULL;
	size_t n = 0;
	struct sl_error err = {0};
	FUZZ_CHECK(sl_inventory_stale(doc, doc, &stale, &n, &err) == 0);
	FUZZ_CHECK(n == 0 && stale == NULL);
	FUZZ_CHECK(sl_inventory_stale(doc, NULL, &stale, &n, &err) == 0);
	FUZZ_CHECK(n <= json_array_size(entries));
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(stale[i].version != NULL);
		if (i > 0)
			FUZZ_CHECK(sl_apply_order_cmp(&stale[i - 1], &stale[i]) > 0);
	}
	for (size_t i = 0; i < n; i++)
		sl_object_ref_clear(&stale[i]);
	free(stale);

	json_t *u = sl_inventory_union(doc, doc);
	json_t *ue = json_object_get(u, "entries");
	FUZZ_CHECK(json_array_size(ue) <= json_array_size(entries));
	size_t i;
	json_t *e;
	json_array_foreach (ue, i, e) {
		const char *id = json_string_value(json_object_get(e, "id"));
		FUZZ_CHECK(id != NULL);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(id, json_string_value(json_object_get(
			                          json_array_get(ue, j), "id"))) != 0);
	}
	json_decref(u);
}

static void check_normalize(const json_t *doc)
{
	json_t *copy = json_deep_copy(doc);
	sl_apply_normalize(copy);
	if (!json_is_object(doc)) {
		FUZZ_CHECK(json_equal(copy, doc) || (!copy && !doc));
		json_decref(copy);
		return;
	}
	const char *kind = json_string_value(json_object_get(copy, "kind"));
	const char *api_version = json_string_value(json_object_get(copy, "apiVersion"));
	bool crd = kind && api_version && strcasecmp(kind, "CustomResourceDefinition") == 0 &&
	           sl_startswith(api_version, "apiextensions.k8s.io/");
	if (!crd)
		FUZZ_CHECK(json_object_get(copy, "status") == NULL);
	json_t *again = json_deep_copy(copy);
	sl_apply_normalize(again);
	FUZZ_CHECK(json_equal(again, copy));
	char *msg = NULL;
	sl_kstatus_compute(copy, &msg);
	FUZZ_CHECK(msg != NULL);
	free(msg);
	json_decref(again);
	json_decref(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!doc)
		return 0;
	check_kstatus(doc);
	check_ref(doc);
	if (json_is_string(doc))
		check_id_stable(json_string_value(doc));
	const char *id = json_string_value(json_object_get(doc, "id"));
	if (id)
		check_id_stable(id);
	check_inventory(doc);
	check_normalize(doc);
	json_decref(doc);
	return 0;
}
