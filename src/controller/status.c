/* Status writes as merge patches (RFC 7386) holding only what changed, so
 * an unchanged status costs no API write at all (DESIGN.md, "Writes are the
 * cost"). */
#include "controller/controller.h"
#include "kube/kube.h"

static json_t *jcheck(json_t *v)
{
	if (!v)
		abort(); /* out of memory: fatal in sluice */
	return v;
}

json_t *sl_json_merge_diff(const json_t *old, const json_t *new_)
{
	if (!json_is_object(old) || !json_is_object(new_)) {
		if (json_equal((json_t *)old, (json_t *)new_))
			return NULL;
		/* A merge patch cannot say "set to null": null deletes. */
		return new_ ? jcheck(json_deep_copy(new_)) : jcheck(json_null());
	}

	json_t *patch = NULL;
	const char *key;
	json_t *old_v, *new_v;
	json_object_foreach ((json_t *)old, key, old_v) {
		new_v = json_object_get(new_, key);
		if ((!new_v || json_is_null(new_v)) && !json_is_null(old_v)) {
			if (!patch)
				patch = jcheck(json_object());
			json_object_set_new(patch, key, jcheck(json_null()));
		}
	}
	json_object_foreach ((json_t *)new_, key, new_v) {
		if (json_is_null(new_v))
			continue; /* handled above: absent and null read the same */
		old_v = json_object_get(old, key);
		json_t *d;
		if (old_v && json_is_object(old_v) && json_is_object(new_v))
			d = sl_json_merge_diff(old_v, new_v);
		else if (old_v && json_equal(old_v, new_v))
			d = NULL;
		else
			d = jcheck(json_deep_copy(new_v));
		if (!d)
			continue;
		if (!patch)
			patch = jcheck(json_object());
		json_object_set_new(patch, key, d);
	}
	return patch;
}

json_t *sl_status_patch(const json_t *old_status, const json_t *new_status)
{
	json_auto_t *empty = NULL;
	if (!old_status)
		old_status = empty = jcheck(json_object());
	json_t *diff = sl_json_merge_diff(old_status, new_status);
	if (!diff)
		return NULL;
	json_t *body = jcheck(json_object());
	json_object_set_new(body, "status", diff);
	return body;
}

int sl_status_write(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                    const char *name, const char *field_manager, json_t **old_status,
                    const json_t *status, struct sl_error *err)
{
	json_t *patch = sl_status_patch(*old_status, status);
	if (!patch)
		return 0;
	struct sl_kube_write_opts opts = {.field_manager = field_manager, .subresource = "status"};
	int r = sl_kube_patch(k, res, ns, name, SL_KUBE_PATCH_MERGE, patch, &opts, NULL, err);
	json_decref(patch);
	if (r < 0)
		return sl_error_wrap(err, r, "patching the status of %s/%s", ns, name);
	json_decref(*old_status);
	*old_status = json_deep_copy(status);
	return 0;
}
