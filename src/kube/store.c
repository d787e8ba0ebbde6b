/* The informer's cache: namespace/name → object, a jansson object used as
 * the hash map, behind a read-write lock. Each object is kept as its
 * compact JSON text (a jansson string), not as a jansson tree: a tree costs
 * about 9.5 KiB for a typical 1.8 KB trimmed object, the text 2 KiB, and
 * the cache is most of a controller's memory (bench/README.md, finding 1).
 * Readers get a fresh tree parsed from the text, theirs to keep or change
 * (the reconcilers copied the cached tree anyway). Handlers run
 * after the change is visible and outside the lock, so they may read the
 * cache. There is one writer, the informer's thread: what it read under the
 * read lock cannot change before it takes the write lock. A relist is built
 * a page at a time into texts and keys (struct kube_store_relist), so that
 * a list's trees are never alive all at once, and swapped in whole. */
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

/* Whether a listed object differs from its cached text by
 * resourceVersion. Equal texts cannot; others are thawed to compare. */
static bool rv_changed(const json_t *old_text, const json_t *text, const json_t *obj)
{
	if (json_equal(old_text, text))
		return false;
	_cleanup_(json_decrefp) json_t *old = kube_store_thaw(old_text);
	return strcmp(rv_of(old), rv_of(obj)) != 0;
}

void kube_store_relist_begin(struct kube_store_relist *rl)
{
	kube_store_relist_clear(rl);
	rl->fresh = json_object();
	rl->changed = json_array();
}

void kube_store_relist_clear(struct kube_store_relist *rl)
{
	json_decref(rl->fresh);
	json_decref(rl->changed);
	*rl = (struct kube_store_relist){0};
}

void kube_store_relist_add(struct kube_store *s, struct kube_store_relist *rl, json_t *items)
{
	/* The cache only changes on this (the informer's) thread: what the
	 * pages are compared with stays the same from the first to the last. */
	pthread_rwlock_rdlock(&s->lock);
	size_t i;
	json_t *obj;
	json_array_foreach (items, i, obj) {
		_cleanup_free_ char *key = kube_store_key(obj);
		if (!key)
			continue;
		trim_for_cache(obj);
		json_t *text = freeze(obj);
		json_object_set_new(rl->fresh, key, text);
		json_t *old_text = json_object_get(s->objects, key);
		if (!old_text || rv_changed(old_text, text, obj))
			json_array_append_new(rl->changed, json_string(key));
	}
	pthread_rwlock_unlock(&s->lock);
}

void kube_store_relist_commit(struct kube_store *s, struct kube_store_relist *rl,
                              const struct sl_kube_informer_handlers *h)
{
	_cleanup_(json_decrefp) json_t *fresh = TAKE_PTR(rl->fresh);
	_cleanup_(json_decrefp) json_t *changed = TAKE_PTR(rl->changed);
	_cleanup_(json_decrefp) json_t *old_objects = NULL;
	if (!fresh) /* never begun: a list without a page is an empty one */
		fresh = json_object();

	pthread_rwlock_wrlock(&s->lock);
	old_objects = s->objects;
	s->objects = json_incref(fresh);
	pthread_rwlock_unlock(&s->lock);

	/* Both sides are texts from here on: one pair of trees at a time,
	 * thawed for its handler call. */
	size_t i;
	json_t *k;
	json_array_foreach (changed, i, k) {
		const char *key = json_string_value(k);
		json_t *old_text = json_object_get(old_objects, key);
		if (!old_text && h->on_add) {
			_cleanup_(json_decrefp) json_t *obj =
			    kube_store_thaw(json_object_get(fresh, key));
			h->on_add(h->userdata, obj);
		} else if (old_text && h->on_update) {
			_cleanup_(json_decrefp) json_t *old = kube_store_thaw(old_text);
			_cleanup_(json_decrefp) json_t *obj =
			    kube_store_thaw(json_object_get(fresh, key));
			h->on_update(h->userdata, old, obj);
		}
	}
	/* Whatever the cache held that the list does not: deleted while we
	 * were not watching. */
	const char *key;
	json_t *text;
	json_object_foreach (old_objects, key, text) {
		if (!json_object_get(fresh, key) && h->on_delete) {
			_cleanup_(json_decrefp) json_t *last = kube_store_thaw(text);
			h->on_delete(h->userdata, last);
		}
	}
}

void kube_store_replace(struct kube_store *s, json_t *items,
                        const struct sl_kube_informer_handlers *h)
{
	_cleanup_(kube_store_relist_clear) struct kube_store_relist rl = {0};
	kube_store_relist_begin(&rl);
	kube_store_relist_add(s, &rl, items);
	kube_store_relist_commit(s, &rl, h);
}
