/* Watches: the API server streams one JSON event per line ({"type":
 * "ADDED", "object": {...}}) for as long as the request lasts. The parser
 * takes the stream in whatever pieces the network delivers, caps each
 * event, and turns ERROR events (a Status) into errors: code 410 means the
 * resourceVersion we watched from is gone and the caller must relist. */
#include <string.h>

#include "kube/kube_internal.h"

void kube_watch_parser_init(struct kube_watch_parser *p, size_t max_event, sl_kube_watch_fn fn,
                            void *userdata)
{
	*p = (struct kube_watch_parser){
	    .max_event = max_event ? max_event : SL_KUBE_MAX_WATCH_EVENT,
	    .fn = fn,
	    .userdata = userdata,
	};
	sl_buf_init(&p->line, p->max_event);
}

void kube_watch_parser_free(struct kube_watch_parser *p)
{
	sl_buf_free(&p->line);
}

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/* An ERROR event's object is a Status. */
static int error_event(const json_t *status, struct sl_error *err)
{
	const char *reason = json_string_value(json_object_get(status, "reason"));
	const char *message = json_string_value(json_object_get(status, "message"));
	long code = (long)json_integer_value(json_object_get(status, "code"));
	int rc = kube_status_code(reason, code);
	if (code == 410)
		rc = SL_KUBE_EGONE;
	else if (rc == SL_EHTTP && code == 0)
		rc = SL_EINVAL;
	sl_error_set(err, rc, "watch: ERROR event: %ld %s: %s", code, reason ? reason : "",
	             message ? message : "");
	if (err)
		err->http_status = (int)code;
	return rc;
}

static int deliver(struct kube_watch_parser *p, const char *line, size_t len, struct sl_error *err)
{
	if (blank(line, len))
		return 0;
	json_error_t jerr;
	/* JSON_ALLOW_NUL: one annotation holding "\u0000" must not stall the
	 * stream for every object (see kube_perform). */
	_cleanup_(json_decrefp) json_t *ev = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
	if (!ev)
		return sl_error_set(err, SL_EINVAL, "watch: malformed event: %s", jerr.text);
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object");
	if (!type || !json_is_object(obj))
		return sl_error_set(err, SL_EINVAL, "watch: an event without type or object");
	static const struct {
		const char *name;
		enum sl_kube_event_type type;
	} types[] = {
	    {"ADDED", SL_KUBE_ADDED},
	    {"MODIFIED", SL_KUBE_MODIFIED},
	    {"DELETED", SL_KUBE_DELETED},
	    {"BOOKMARK", SL_KUBE_BOOKMARK},
	};
	if (strcmp(type, "ERROR") == 0)
		return error_event(obj, err);
	for (size_t i = 0; i < SL_ARRAY_SIZE(types); i++) {
		if (strcmp(type, types[i].name) != 0)
			continue;
		const char *rv = json_string_value(
		    json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
		struct sl_kube_watch_event e = {
		    .type = types[i].type,
		    .object = obj,
		    .resource_version = rv ? rv : "",
		};
		p->events++;
		return p->fn(p->userdata, &e, err);
	}
	return sl_error_set(err, SL_EINVAL, "watch: unknown event type \"%.40s\"", type);
}

static int too_big(const struct kube_watch_parser *p, struct sl_error *err)
{
	return sl_error_set(err, SL_ELIMIT, "watch: an event is larger than %zu bytes",
	                    p->max_event);
}

int kube_watch_parser_feed(struct kube_watch_parser *p, const char *data, size_t len,
                           struct sl_error *err)
{
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t piece = nl ? (size_t)(nl - data) : len;
		int r;
		if (nl && p->line.len == 0) {
			/* A whole event in the chunk: parse it in place. */
			if (piece > p->max_event)
				return too_big(p, err);
			r = deliver(p, data, piece, err);
		} else {
			if (p->line.len + piece > p->max_event ||
			    sl_buf_append(&p->line, data, piece) < 0)
				return too_big(p, err);
			if (!nl)
				return 0;
			r = deliver(p, p->line.data, p->line.len, err);
			sl_buf_reset(&p->line);
		}
		if (r < 0)
			return r;
		data += piece + 1;
		len -= piece + 1;
	}
	return 0;
}

int kube_watch_parser_finish(struct kube_watch_parser *p, struct sl_error *err)
{
	if (!p->line.len)
		return 0;
	int r = deliver(p, p->line.data, p->line.len, err);
	sl_buf_reset(&p->line);
	return r;
}

/* ---- the request ---------------------------------------------------------- */

struct watch_ctx {
	struct sl_kube *k;
	struct kube_watch_parser parser;
	long status;           /* of the response, once known */
	struct sl_buf errbody; /* a non-200 answer's body */
	int rc;                /* the parser's or callback's failure */
	struct sl_error *err;
};

static size_t on_stream(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct watch_ctx *w = userdata;
	size_t len = size * nmemb;
	if (!w->status)
		curl_easy_getinfo(w->k->curl, CURLINFO_RESPONSE_CODE, &w->status);
	if (w->status != 200) {
		/* An error answer (410 from a server without a watch cache): keep
		 * what fits for the message. */
		if (w->errbody.len < w->errbody.max) {
			size_t room = w->errbody.max - w->errbody.len;
			sl_buf_append(&w->errbody, data, len < room ? len : room);
		}
		return len;
	}
	int r = kube_watch_parser_feed(&w->parser, data, len, w->err);
	if (r < 0) {
		w->rc = r;
		return 0; /* abort the transfer */
	}
	return len;
}

int sl_kube_watch(struct sl_kube *k, const struct sl_kube_resource *res, const char *ns,
                  const struct sl_kube_watch_opts *opts, sl_kube_watch_fn fn, void *userdata,
                  struct sl_error *err)
{
	static const struct sl_kube_watch_opts none = {0};
	const struct sl_kube_watch_opts *o = opts ? opts : &none;
	int timeout_s = o->timeout_seconds > 0 ? o->timeout_seconds : 300;
	struct kube_params p = {
	    .label_selector = o->label_selector,
	    .field_selector = o->field_selector,
	    .resource_version = o->resource_version,
	    .timeout_seconds = timeout_s,
	};
	struct kube_call call;
	int r = kube_call_build(KUBE_WATCH, res, ns, NULL, &p, &call, err);
	if (r < 0)
		return r;

	struct watch_ctx w = {.k = k, .err = err};
	kube_watch_parser_init(&w.parser, o->max_event_bytes, fn, userdata);
	sl_buf_init(&w.errbody, KUBE_MAX_ERROR_BODY);
	struct kube_transfer t = {
	    .method = "GET",
	    .path = call.path,
	    .sink = on_stream,
	    .sink_data = &w,
	    /* The server ends the stream after timeoutSeconds; this only
	     * catches a connection that died silently. */
	    .timeout_ms = ((int64_t)timeout_s + 30) * 1000,
	};
	long status, retry_after;
	CURLcode code = kube_transfer(k, &t, &status, &retry_after);
	_cleanup_free_ char *url =
	    sl_asprintf("%s%.*s", k->base_url, (int)strcspn(call.path, "?"), call.path);
	if (w.rc < 0) {
		r = w.rc;
	} else if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && status != 200)) {
		r = kube_curl_error(k, "WATCH", call.path, code, err);
		if (r == SL_ENET && status == 200)
			sl_error_wrap(err, r, "watch stream dropped");
	} else if (status != 200) {
		r = kube_status_error("WATCH", url, status, w.errbody.data, w.errbody.len, NULL,
		                      err);
	} else {
		r = kube_watch_parser_finish(&w.parser, err);
	}
	kube_watch_parser_free(&w.parser);
	sl_buf_free(&w.errbody);
	kube_call_clear(&call);
	return r;
}
