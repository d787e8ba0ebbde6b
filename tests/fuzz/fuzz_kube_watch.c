/* The watch stream parser (kube_watch_parser_*), on what an API server (or
 * anything between it and us) may send back to a watch request.
 *
 * The input is a 16-byte header, then the stream:
 *   bytes 0-1   the event cap, little-endian (0: SL_KUBE_MAX_WATCH_EVENT)
 *   byte  2     the event at which the callback fails (0: never)
 *   byte  3     bit 0: also feed the stream one byte at a time
 *   bytes 4-15  six little-endian split points (taken modulo the stream's
 *               length + 1, then sorted)
 * The stream is parsed whole (one feed, then finish), then cut at the split
 * points, each piece in a buffer of its own size so that a read past a
 * piece is caught. How the network cuts a stream must not matter: every
 * way of feeding it delivers the same events (type, resourceVersion,
 * object) and ends with the same code and message. Besides: a failure says
 * why; nothing is delivered after one, and the callback's own failure is
 * what comes back; every event delivered has an object and a type the
 * stream named, and its resourceVersion is the object's; an ERROR event
 * with code 410 (or reason Gone or Expired) is SL_KUBE_EGONE, with
 * http_status 410 for code 410; an event longer than the cap is never
 * delivered, and one in the stream means the stream fails. */
#include <jansson.h>

#include "fuzz.h"
#include "kube/kube_internal.h"

#define HEADER 16

struct run {
	json_t *events; /* [type, resourceVersion, object] each */
	unsigned fail_at;
	size_t max_event; /* as the parser applies it */
	bool failed;      /* the callback failed: nothing may follow */
};

static int on_event(void *userdata, const struct sl_kube_watch_event *ev, struct sl_error *err)
{
	struct run *run = userdata;
	FUZZ_CHECK(!run->failed);
	FUZZ_CHECK(ev->type == SL_KUBE_ADDED || ev->type == SL_KUBE_MODIFIED ||
	           ev->type == SL_KUBE_DELETED || ev->type == SL_KUBE_BOOKMARK);
	FUZZ_CHECK(json_is_object(ev->object));
	FUZZ_CHECK(ev->resource_version != NULL);
	const char *rv = json_string_value(
	    json_object_get(json_object_get(ev->object, "metadata"), "resourceVersion"));
	FUZZ_CHECK(strcmp(ev->resource_version, rv ? rv : "") == 0);
	json_t *item = json_pack("[isO]", (int)ev->type, ev->resource_version, ev->object);
	FUZZ_CHECK(item != NULL);
	json_array_append_new(run->events, item);
	if (run->fail_at && json_array_size(run->events) == run->fail_at) {
		run->failed = true;
		return sl_error_set(err, SL_EIO, "fuzz: callback failed at event %u", run->fail_at);
	}
	return 0;
}

struct outcome {
	int rc;
	struct sl_error err;
	json_t *events;
	uint64_t counted; /* the parser's own count */
};

static void check_outcome(const struct outcome *o, const struct run *run)
{
	FUZZ_CHECK(o->counted == json_array_size(o->events));
	if (o->rc == 0) {
		FUZZ_CHECK(!run->failed);
		return;
	}
	FUZZ_CHECK_ERROR(o->rc, o->err);
	FUZZ_CHECK(o->err.code == o->rc);
	if (run->failed) {
		/* The callback's failure, as it made it. */
		FUZZ_CHECK(o->rc == SL_EIO);
		FUZZ_CHECK(sl_startswith(o->err.msg, "fuzz: callback failed"));
		return;
	}
	FUZZ_CHECK(sl_startswith(o->err.msg, "watch: "));
	if (o->rc == SL_ELIMIT)
		FUZZ_CHECK(strstr(o->err.msg, "larger than"));
	/* Gone comes only from an ERROR event: code 410, or reason Gone or
	 * Expired whatever the code says. */
	if (o->rc == SL_KUBE_EGONE)
		FUZZ_CHECK(strstr(o->err.msg, "ERROR event") &&
		           (o->err.http_status == 410 || strstr(o->err.msg, " Gone: ") ||
		            strstr(o->err.msg, " Expired: ")));
	if (o->rc < 0 && sl_startswith(o->err.msg, "watch: ERROR event: 410 "))
		FUZZ_CHECK(o->rc == SL_KUBE_EGONE && o->err.http_status == 410);
}

/* Feeds stream cut at cuts[0..ncuts) (sorted offsets), each piece copied to
 * a buffer of exactly its size; then finish. */
static void feed(const uint8_t *stream, size_t len, const size_t *cuts, size_t ncuts,
                 size_t max_event, unsigned fail_at, struct outcome *o)
{
	struct run run = {.events = json_array(), .fail_at = fail_at};
	struct kube_watch_parser p;
	kube_watch_parser_init(&p, max_event, on_event, &run);
	run.max_event = p.max_event;
	*o = (struct outcome){0};
	size_t at = 0;
	int r = 0;
	for (size_t i = 0; i <= ncuts && r == 0; i++) {
		size_t end = i < ncuts ? cuts[i] : len;
		size_t n = end - at;
		char *piece = sl_xmalloc(n ? n : 1);
		if (n)
			memcpy(piece, stream + at, n);
		r = kube_watch_parser_feed(&p, piece, n, &o->err);
		free(piece);
		at = end;
	}
	if (r == 0)
		r = kube_watch_parser_finish(&p, &o->err);
	/* The pending line never outgrows the cap; a finished stream leaves
	 * none. */
	FUZZ_CHECK(p.line.len <= run.max_event);
	if (r == 0)
		FUZZ_CHECK(p.line.len == 0);
	o->rc = r;
	o->events = run.events;
	o->counted = p.events;
	kube_watch_parser_free(&p);
	check_outcome(o, &run);
}

static void check_same(const struct outcome *a, const struct outcome *b)
{
	FUZZ_CHECK(a->rc == b->rc);
	FUZZ_CHECK(json_equal(a->events, b->events));
	if (a->rc < 0) {
		FUZZ_CHECK(strcmp(a->err.msg, b->err.msg) == 0);
		FUZZ_CHECK(a->err.http_status == b->err.http_status);
	}
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* What the cap alone says about a stream: the lines before the first one
 * longer than the cap (each may give at most one event), and whether there
 * is such a line at all (then the stream cannot end well). */
struct cap_view {
	size_t lines_before;
	bool oversized;
};

static struct cap_view cap_view(const uint8_t *s, size_t len, size_t max_event)
{
	struct cap_view v = {0};
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '\n')
			continue;
		if (i == len && i == start)
			break; /* nothing after the last newline */
		if (i - start > max_event) {
			v.oversized = true;
			break;
		}
		v.lines_before++;
		start = i + 1;
	}
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < HEADER)
		return 0;
	size_t max_event = (size_t)data[0] | (size_t)data[1] << 8;
	unsigned fail_at = data[2];
	bool bytewise = data[3] & 1;
	const uint8_t *stream = data + HEADER;
	size_t len = size - HEADER;
	size_t cuts[6];
	for (size_t i = 0; i < 6; i++)
		cuts[i] = ((size_t)data[4 + 2 * i] | (size_t)data[5 + 2 * i] << 8) % (len + 1);
	qsort(cuts, 6, sizeof(*cuts), cmp_size);

	struct outcome whole, split;
	feed(stream, len, NULL, 0, max_event, fail_at, &whole);
	struct cap_view v = cap_view(stream, len, max_event ? max_event : SL_KUBE_MAX_WATCH_EVENT);
	FUZZ_CHECK(json_array_size(whole.events) <= v.lines_before);
	if (v.oversized)
		FUZZ_CHECK(whole.rc < 0);
	if (whole.rc == SL_ELIMIT)
		FUZZ_CHECK(v.oversized);
	feed(stream, len, cuts, 6, max_event, fail_at, &split);
	check_same(&whole, &split);
	json_decref(split.events);

	if (bytewise && len <= 8192) {
		size_t *every = sl_xmalloc((len ? len : 1) * sizeof(*every));
		for (size_t i = 0; i < len; i++)
			every[i] = i;
		struct outcome bytes;
		feed(stream, len, every, len, max_event, fail_at, &bytes);
		check_same(&whole, &bytes);
		json_decref(bytes.events);
		free(every);
	}
	json_decref(whole.events);
	return 0;
}
