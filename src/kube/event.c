/* core/v1 Events as client-go's recorder writes them for Flux's
 * controllers (fluxcd/pkg runtime/events): involvedObject from the object,
 * source and reporting component, annotations on the Event's metadata, and
 * client-go's deduplication of identical events into a count. */
#include <string.h>
#include <time.h>

#include "codec/codec.h"
#include "kube/kube_internal.h"

/* Identical events remembered for counting; client-go's logger keeps 4096
 * but one sluice process records few distinct events per object. */
#define RECENT_EVENTS 256

struct recent {
	char *key; /* what makes events identical */
	char *namespace;
	char *name; /* the Event object's */
	int64_t count;
	uint64_t used; /* for eviction */
};

struct sl_kube_recorder {
	char *component;
	char *instance;
	pthread_mutex_t mu;
	struct recent recent[RECENT_EVENTS];
	uint64_t clock;
};

void kube_time_micro_now(char out[40])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 40 - n, ".%06dZ", (int)(ts.tv_nsec / 1000) % 1000000);
}

struct sl_kube_recorder *sl_kube_recorder_new(const char *component, const char *instance)
{
	struct sl_kube_recorder *rec = sl_xcalloc(1, sizeof(*rec));
	rec->component = sl_strdup(component && *component ? component : "sluice");
	rec->instance = instance && *instance ? sl_strdup(instance) : NULL;
	pthread_mutex_init(&rec->mu, NULL);
	return rec;
}

static void recent_clear(struct recent *r)
{
	free(r->key);
	free(r->namespace);
	free(r->name);
	*r = (struct recent){0};
}

struct sl_kube_recorder *sl_kube_recorder_free(struct sl_kube_recorder *rec)
{
	if (!rec)
		return NULL;
	for (size_t i = 0; i < RECENT_EVENTS; i++)
		recent_clear(&rec->recent[i]);
	pthread_mutex_destroy(&rec->mu);
	free(rec->component);
	free(rec->instance);
	free(rec);
	return NULL;
}

static const char *str_or(const json_t *v, const char *dflt)
{
	const char *s = json_string_value(v);
	return s ? s : dflt;
}

/* client-go's ObjectReference of the object. */
static json_t *involved_object(const json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	json_t *ref = json_object();
	static const char *top[] = {"kind", "apiVersion"};
	static const char *from_meta[] = {"namespace", "name", "uid", "resourceVersion"};
	json_object_set_new(ref, "kind", json_string(str_or(json_object_get(obj, top[0]), "")));
	for (size_t i = 0; i < SL_ARRAY_SIZE(from_meta); i++) {
		const char *v = json_string_value(json_object_get(meta, from_meta[i]));
		if (v && *v)
			json_object_set_new(ref, from_meta[i], json_string(v));
	}
	const char *api_version = json_string_value(json_object_get(obj, top[1]));
	if (api_version)
		json_object_set_new(ref, "apiVersion", json_string(api_version));
	return ref;
}

static char *event_key(const struct sl_kube_recorder *rec, const json_t *ref,
                       const struct sl_kube_event *ev)
{
	/* client-go's getEventKey: source, involved object, type, reason,
	 * message. */
	return sl_asprintf(
	    "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", rec->component,
	    rec->instance ? rec->instance : "", str_or(json_object_get(ref, "kind"), ""),
	    str_or(json_object_get(ref, "namespace"), ""), str_or(json_object_get(ref, "name"), ""),
	    str_or(json_object_get(ref, "uid"), ""), str_or(json_object_get(ref, "apiVersion"), ""),
	    ev->type, ev->reason, ev->message);
}

static struct recent *recent_find(struct sl_kube_recorder *rec, const char *key)
{
	for (size_t i = 0; i < RECENT_EVENTS; i++)
		if (rec->recent[i].key && strcmp(rec->recent[i].key, key) == 0)
			return &rec->recent[i];
	return NULL;
}

static struct recent *recent_slot(struct sl_kube_recorder *rec)
{
	struct recent *oldest = &rec->recent[0];
	for (size_t i = 0; i < RECENT_EVENTS; i++) {
		if (!rec->recent[i].key)
			return &rec->recent[i];
		if (rec->recent[i].used < oldest->used)
			oldest = &rec->recent[i];
	}
	recent_clear(oldest);
	return oldest;
}

static int validate(const struct sl_kube_event *ev, struct sl_error *err)
{
	if (!ev || !json_is_object(ev->object))
		return sl_error_set(err, SL_EINVAL, "recording an event: no involved object");
	if (!ev->type || (strcmp(ev->type, "Normal") != 0 && strcmp(ev->type, "Warning") != 0))
		return sl_error_set(err, SL_EINVAL,
		                    "recording an event: type must be Normal or Warning");
	if (!ev->reason || !*ev->reason || !ev->message)
		return sl_error_set(err, SL_EINVAL, "recording an event: no reason or message");
	const char *name =
	    json_string_value(json_object_get(json_object_get(ev->object, "metadata"), "name"));
	if (!name || !*name)
		return sl_error_set(err, SL_EINVAL, "recording an event: the object has no name");
	return 0;
}

/* An identical event again: count it on the Event made before, as
 * client-go's eventLogger does. Returns 1 when counted, 0 when there is
 * nothing to count on (never made, or expired: events live an hour). */
static int bump(struct sl_kube *k, struct sl_kube_recorder *rec, const char *key, const char *now,
                struct sl_error *err)
{
	pthread_mutex_lock(&rec->mu);
	struct recent *seen = recent_find(rec, key);
	if (!seen) {
		pthread_mutex_unlock(&rec->mu);
		return 0;
	}
	seen->used = ++rec->clock;
	_cleanup_free_ char *ns = sl_strdup(seen->namespace);
	_cleanup_free_ char *name = sl_strdup(seen->name);
	int64_t count = seen->count + 1;
	pthread_mutex_unlock(&rec->mu);

	_cleanup_(json_decrefp) json_t *patch =
	    json_pack("{s:I, s:s}", "count", (json_int_t)count, "lastTimestamp", now);
	int r = sl_kube_patch(k, &sl_kube_res_events, ns, name, SL_KUBE_PATCH_MERGE, patch, NULL,
	                      NULL, err);
	pthread_mutex_lock(&rec->mu);
	seen = recent_find(rec, key);
	if (seen && r == 0 && seen->count < count)
		seen->count = count;
	if (seen && r == SL_ENOTFOUND)
		recent_clear(seen);
	pthread_mutex_unlock(&rec->mu);
	if (r == SL_ENOTFOUND)
		return 0;
	return r < 0 ? r : 1;
}

/* s with every invalid UTF-8 sequence replaced by U+FFFD, as Go's JSON
 * encoder writes it: error messages cut to a buffer's size may end in half
 * a character, and an event is better sent than lost for it. */
static char *utf8_clean(const char *s)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t n = sl_utf8_decode(s + i, len - i, &c);
		if (n) {
			sl_buf_append(&b, s + i, n);
			i += n;
		} else {
			sl_buf_append(&b, "\xef\xbf\xbd", 3);
			i++;
		}
	}
	return sl_buf_steal(&b);
}

int sl_kube_record_event(struct sl_kube *k, struct sl_kube_recorder *rec,
                         const struct sl_kube_event *given, struct sl_error *err)
{
	_cleanup_free_ char *message = given->message ? utf8_clean(given->message) : NULL;
	_cleanup_free_ char *reason = given->reason ? utf8_clean(given->reason) : NULL;
	struct sl_kube_event clean = *given;
	clean.message = message;
	clean.reason = reason;
	const struct sl_kube_event *ev = &clean;
	int r = validate(ev, err);
	if (r < 0)
		return r;
	_cleanup_(json_decrefp) json_t *ref = involved_object(ev->object);
	_cleanup_free_ char *key = event_key(rec, ref, ev);
	char now[40];
	sl_time_rfc3339_now(now);
	r = bump(k, rec, key, now, err);
	if (r != 0)
		return r < 0 ? sl_error_wrap(err, r, "recording event %s", ev->reason) : 0;

	const char *obj_ns = str_or(json_object_get(ref, "namespace"), "");
	const char *ns = *obj_ns ? obj_ns : "default";
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* client-go: fmt.Sprintf("%v.%x", ref.Name, t.UnixNano()) */
	_cleanup_free_ char *name = sl_asprintf(
	    "%s.%llx", json_string_value(json_object_get(ref, "name")),
	    (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec);
	json_t *meta = json_pack("{s:s, s:s}", "name", name, "namespace", ns);
	if (json_is_object(ev->annotations) && json_object_size(ev->annotations))
		json_object_set_new(meta, "annotations", json_deep_copy(ev->annotations));
	json_t *source = json_pack("{s:s}", "component", rec->component);
	if (rec->instance)
		json_object_set_new(source, "host", json_string(rec->instance));
	_cleanup_(json_decrefp) json_t *event = json_pack(
	    "{s:s, s:s, s:o, s:O, s:s, s:s, s:o, s:s, s:s, s:i, s:s, s:n, s:s, s:s}", "apiVersion",
	    "v1", "kind", "Event", "metadata", meta, "involvedObject", ref, "reason", ev->reason,
	    "message", ev->message, "source", source, "firstTimestamp", now, "lastTimestamp", now,
	    "count", 1, "type", ev->type, "eventTime", "reportingComponent", rec->component,
	    "reportingInstance", rec->instance ? rec->instance : "");
	if (!event)
		return sl_error_set(err, SL_EINVAL, "recording event %s: the message is not UTF-8",
		                    ev->reason);
	r = sl_kube_create(k, &sl_kube_res_events, ns, event, NULL, NULL, err);
	if (r < 0)
		return sl_error_wrap(err, r, "recording event %s", ev->reason);

	pthread_mutex_lock(&rec->mu);
	if (!recent_find(rec, key)) {
		struct recent *slot = recent_slot(rec);
		*slot = (struct recent){
		    .key = TAKE_PTR(key),
		    .namespace = sl_strdup(ns),
		    .name = TAKE_PTR(name),
		    .count = 1,
		    .used = ++rec->clock,
		};
	}
	pthread_mutex_unlock(&rec->mu);
	return 0;
}
