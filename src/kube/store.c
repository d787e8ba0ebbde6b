/* The informer's cache: namespace/name → object, a jansson object used as
 * the hash map, behind a read-write lock. Each object is kept frozen: its
 * compact JSON text, deflated against the first object the store saw (a
 * jansson string holding the bytes). A tree costs about 9.5 KiB for a
 * typical 1.7 KB trimmed OCIRepository, its text 2.2 KiB with the
 * allocator's share, the frozen text 200 bytes: objects of one kind are
 * mostly the same field names and values, which the dictionary holds once.
 * The cache is most of a controller's memory (bench/README.md, finding 1);
 * freezing costs ~20 us per event, thawing less.
 * Readers get a fresh tree parsed from the text, theirs to keep or change
 * (the reconcilers copied the cached tree anyway). Handlers run
 * after the change is visible and outside the lock, so they may read the
 * cache. There is one writer, the informer's thread: what it read under the
 * read lock cannot change before it takes the write lock. A relist is built
 * a page at a time into texts and keys (struct kube_store_relist), so that
 * a list's trees are never alive all at once, and swapped in whole. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "kube/kube_internal.h"

/* Raw deflate (no zlib header or checksum: the text is checked as JSON
 * when thawed), an 8 KiB window: dictionary and object must fit in it for
 * the one to be found in the other, and the state stays at 48 KiB. */
#define FREEZE_WINDOW_BITS 13
#define FREEZE_MEM_LEVEL   6
#define FREEZE_DICT_MAX    ((1u << FREEZE_WINDOW_BITS) - 262u)
/* A frozen text: the text's length, 4 bytes little-endian, then the
 * deflated text. Cached objects are capped by the watch (SL_KUBE_MAX_*),
 * far below 4 GiB. */
#define FROZEN_HEADER 4

void kube_store_init(struct kube_store *s)
{
	*s = (struct kube_store){.objects = json_object()};
	pthread_rwlock_init(&s->lock, NULL);
}

void kube_store_destroy(struct kube_store *s)
{
	json_decref(s->objects);
	s->objects = NULL;
	free(s->dict);
	s->dict = NULL;
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

/* The tree a frozen text stands for; NULL only for NULL. Frozen texts are
 * what this file wrote from what jansson wrote, so thawing cannot fail but
 * for memory: fatal in sluice. */
json_t *kube_store_thaw(const struct kube_store *s, const json_t *frozen)
{
	if (!frozen)
		return NULL;
	const unsigned char *in = (const unsigned char *)json_string_value(frozen);
	size_t in_len = json_string_length(frozen);
	if (in_len < FROZEN_HEADER)
		abort();
	size_t len = (size_t)in[0] | (size_t)in[1] << 8 | (size_t)in[2] << 16 | (size_t)in[3] << 24;
	_cleanup_free_ char *text = sl_xmalloc(len ? len : 1);
	z_stream z = {0};
	if (inflateInit2(&z, -FREEZE_WINDOW_BITS) != Z_OK)
		abort();
	if (s->dict_len &&
	    inflateSetDictionary(&z, (const Bytef *)s->dict, (uInt)s->dict_len) != Z_OK)
		abort();
	z.next_in = (Bytef *)(in + FROZEN_HEADER);
	z.avail_in = (uInt)(in_len - FROZEN_HEADER);
	z.next_out = (Bytef *)text;
	z.avail_out = (uInt)len;
	int zr = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if (zr != Z_STREAM_END || z.avail_out != 0)
		abort();
	json_t *obj = json_loadb(text, len, JSON_ALLOW_NUL, NULL);
	if (!obj)
		abort();
	return obj;
}

static json_t *freeze(struct kube_store *s, const json_t *obj)
{
	size_t len = json_dumpb(obj, NULL, 0, JSON_COMPACT);
	_cleanup_free_ char *text = sl_xmalloc(len ? len : 1);
	json_dumpb(obj, text, len, JSON_COMPACT);
	if (len > UINT32_MAX)
		abort();
	/* The first object becomes the dictionary (its tail, if long): the
	 * store's later objects are of its kind. Readers only thaw texts
	 * stored after this, under the lock that publishes them. */
	if (!s->dict) {
		s->dict_len = len < FREEZE_DICT_MAX ? len : FREEZE_DICT_MAX;
		s->dict = sl_xmalloc(s->dict_len ? s->dict_len : 1);
		memcpy(s->dict, text + (len - s->dict_len), s->dict_len);
	}
	z_stream z = {0};
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -FREEZE_WINDOW_BITS,
	                 FREEZE_MEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	if (s->dict_len &&
	    deflateSetDictionary(&z, (const Bytef *)s->dict, (uInt)s->dict_len) != Z_OK)
		abort();
	size_t cap = FROZEN_HEADER + deflateBound(&z, (uLong)len);
	_cleanup_free_ unsigned char *out = sl_xmalloc(cap);
	out[0] = (unsigned char)len;
	out[1] = (unsigned char)(len >> 8);
	out[2] = (unsigned char)(len >> 16);
	out[3] = (unsigned char)(len >> 24);
	z.next_in = (Bytef *)text;
	z.avail_in = (uInt)len;
	z.next_out = out + FROZEN_HEADER;
	z.avail_out = (uInt)(cap - FROZEN_HEADER);
	int zr = deflate(&z, Z_FINISH);
	size_t out_len = cap - z.avail_out;
	deflateEnd(&z);
	if (zr != Z_STREAM_END)
		abort();
	json_t *str = json_stringn_nocheck((const char *)out, out_len);
	if (!str)
		abort();
	return str;
}

json_t *kube_store_get(struct kube_store *s, const char *key)
{
	pthread_rwlock_rdlock(&s->lock);
	json_t *text = json_incref(json_object_get(s->objects, key));
	pthread_rwlock_unlock(&s->lock);
	json_t *obj = kube_store_thaw(s, text);
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
	json_t *text = freeze(s, obj);
	pthread_rwlock_wrlock(&s->lock);
	json_t *old_text = json_incref(json_object_get(s->objects, key));
	json_object_set_new(s->objects, key, text);
	pthread_rwlock_unlock(&s->lock);
	if (old_text && h->on_update) {
		json_t *old = kube_store_thaw(s, old_text);
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
static bool rv_changed(const struct kube_store *s, const json_t *old_text, const json_t *text,
                       const json_t *obj)
{
	if (json_equal(old_text, text))
		return false;
	_cleanup_(json_decrefp) json_t *old = kube_store_thaw(s, old_text);
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
		json_t *text = freeze(s, obj);
		json_object_set_new(rl->fresh, key, text);
		json_t *old_text = json_object_get(s->objects, key);
		if (!old_text || rv_changed(s, old_text, text, obj))
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
			    kube_store_thaw(s, json_object_get(fresh, key));
			h->on_add(h->userdata, obj);
		} else if (old_text && h->on_update) {
			_cleanup_(json_decrefp) json_t *old = kube_store_thaw(s, old_text);
			_cleanup_(json_decrefp) json_t *obj =
			    kube_store_thaw(s, json_object_get(fresh, key));
			h->on_update(h->userdata, old, obj);
		}
	}
	/* Whatever the cache held that the list does not: deleted while we
	 * were not watching. */
	const char *key;
	json_t *text;
	json_object_foreach (old_objects, key, text) {
		if (!json_object_get(fresh, key) && h->on_delete) {
			_cleanup_(json_decrefp) json_t *last = kube_store_thaw(s, text);
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
