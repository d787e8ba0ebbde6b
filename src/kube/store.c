/* The informer's cache: namespace/name → object, a jansson object used as
 * the hash map, behind a read-write lock. Each object is kept as its
 * compact JSON text (a jansson string), not as a jansson tree: a tree costs
 * about 9.5 KiB for a typical 1.8 KB trimmed object, the text 2 KiB, and
 * the cache is most of a controller's memory (bench/README.md, finding 1).
 * Readers get a fresh tree parsed from the text, theirs to keep or change
 * (the reconcilers copied the cached tree anyway). Handlers run
 * after the change is visible and outside the lock, so they may read the
 * cache. There is one writer, the informer's thread: what it read under the
 * read lock cannot change before it takes the write lock. */
#include <stdlib.h>
#include <string.h>

#include "kube/kube_internal.h"

void kube_store_init(struct kube_store *s)
{
	pthread_rwlock_init(&s->lock, NULL);
	s->objects = json_object();
}

void kube_store_destroy(struct kube_store *s)
{
	json_decref(s->objects);
	s->objects = NULL;
	pthread_rwlock_destroy(&s->lock);
}

/* client-go's MetaNamespaceKeyFunc. */
char *kube_store_key(const json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name"));
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	if (!name || !*name)
		return NULL;
	return ns && *ns ? sl_asprintf("%s/%s", ns, name) : sl_strdup(name);
}

static const char *rv_of(const json_t *obj)
{
	const char *rv =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
	return rv ? rv : "";
}

/* The tree a cached text stands for; NULL only for NULL. Cached texts are
 * what jansson itself wrote, so parsing cannot fail but for memory. */
json_t *kube_store_thaw(const json_t *text)
{
	if (!text)
		return NULL;
	json_t *obj = json_loadb(json_string_value(text), json_string_length(text), 0, NULL);
	if (!obj)
		abort(); /* out of memory: fatal in sluice */
	return obj;
}

static json_t *freeze(const json_t *obj)
{
	size_t len = json_dumpb(obj, NULL, 0, JSON_COMPACT);
	char *text = sl_xmalloc(len ? len : 1);
	json_dumpb(obj, text, len, JSON_COMPACT);
	json_t *str = json_stringn_nocheck(text, len);
	free(text);
	if (!str)
		abort();
	return str;
}

json_t *kube_store_get(struct kube_store *s, const char *key)
{
	pthread_rwlock_rdlock(&s->lock);
	json_t *text = json_incref(json_object_get(s->objects, key));
	pthread_rwlock_unlock(&s->lock);
	json_t *obj = kube_store_thaw(text);
	json_decref(text);
	return obj;
}

/* What no reconciler reads goes before an object is cached: managedFields
 * (more than half of a typical object) and kubectl's last-applied copy of
 * the whole object. The cache is most of a controller's idle memory. */
static void trim_for_cache(json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	json_object_del(meta, "managedFields");
	json_object_del(json_object_get(meta, "annotations"),
	                "kubectl.kubernetes.io/last-applied-configuration");
}

void kube_store_upsert(struct kube_store *s, json_t *obj, const struct sl_kube_informer_handlers *h)
{
	trim_for_cache(obj);
	_cleanup_free_ char *key = kube_store_key(obj);
	if (!key)
		return;
	json_t *text = freeze(obj);
	pthread_rwlock_wrlock(&s->lock);
	json_t *old_text = json_incref(json_object_get(s->objects, key));
	json_object_set_new(s->objects, key, text);
	pthread_rwlock_unlock(&s->lock);
	if (old_text && h->on_update) {
		json_t *old = kube_store_thaw(old_text);
		h->on_update(h->userdata, old, obj);
		json_decref(old);
	} else if (!old_text && h->on_add) {
		h->on_add(h->userdata, obj);
	}
	json_decref(old_text);
}

void kube_store_remove(struct kube_store *s, json_t *obj, const struct sl_kube_informer_handlers *h)
{
	_cleanup_free_ char *key = kube_store_key(obj);
	if (!key)
		return;
	pthread_rwlock_wrlock(&s->lock);
	bool had = json_object_get(s->objects, key) != NULL;
	json_object_del(s->objects, key);
	pthread_rwlock_unlock(&s->lock);
	if (had && h->on_delete)
		h->on_delete(h->userdata, obj);
}

void kube_store_replace(struct kube_store *s, const json_t *items,
                        const struct sl_kube_informer_handlers *h)
{
	_cleanup_(json_decrefp) json_t *fresh = json_object();
	/* Pairs of (old or null, new) to report, in list order. */
	_cleanup_(json_decrefp) json_t *changes = json_array();
	_cleanup_(json_decrefp) json_t *old_objects = NULL;

	pthread_rwlock_rdlock(&s->lock);
	size_t i;
	json_t *obj;
	json_array_foreach (items, i, obj) {
		_cleanup_free_ char *key = kube_store_key(obj);
		if (!key)
			continue;
		trim_for_cache(obj);
		json_t *old_text = json_object_get(s->objects, key);
		json_object_set_new(fresh, key, freeze(obj));
		if (!old_text) {
			json_array_append_new(changes, json_pack("[n,O]", obj));
			continue;
		}
		json_t *old = kube_store_thaw(old_text);
		if (strcmp(rv_of(old), rv_of(obj)) != 0)
			json_array_append_new(changes, json_pack("[o,O]", old, obj));
		else
			json_decref(old);
	}
	pthread_rwlock_unlock(&s->lock);

	pthread_rwlock_wrlock(&s->lock);
	old_objects = s->objects;
	s->objects = json_incref(fresh);
	pthread_rwlock_unlock(&s->lock);

	json_t *pair;
	json_array_foreach (changes, i, pair) {
		json_t *old = json_array_get(pair, 0);
		json_t *obj_new = json_array_get(pair, 1);
		if (json_is_null(old)) {
			if (h->on_add)
				h->on_add(h->userdata, obj_new);
		} else if (h->on_update) {
			h->on_update(h->userdata, old, obj_new);
		}
	}
	/* Whatever the cache held that the list does not: deleted while we
	 * were not watching. */
	const char *key;
	json_object_foreach (old_objects, key, obj) {
		if (!json_object_get(fresh, key) && h->on_delete) {
			json_t *last = kube_store_thaw(obj);
			h->on_delete(h->userdata, last);
			json_decref(last);
		}
	}
}
