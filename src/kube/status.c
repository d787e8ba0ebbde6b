/* Kubernetes answers failures with a Status object (metav1.Status): a
 * machine-readable reason, a message for people, the HTTP code. This turns
 * one into a sluice error whose code callers can test. */
#include <string.h>

#include "kube/kube_internal.h"

int kube_status_code(const char *reason, long http_status)
{
	static const struct {
		const char *reason;
		int code;
	} reasons[] = {
	    {"NotFound", SL_ENOTFOUND},      {"AlreadyExists", SL_KUBE_EEXISTS},
	    {"Conflict", SL_KUBE_ECONFLICT}, {"Gone", SL_KUBE_EGONE},
	    {"Expired", SL_KUBE_EGONE},      {"Invalid", SL_KUBE_EINVALID},
	    {"Unauthorized", SL_EAUTH},      {"Forbidden", SL_EAUTH},
	};
	for (size_t i = 0; reason && i < SL_ARRAY_SIZE(reasons); i++)
		if (strcmp(reason, reasons[i].reason) == 0)
			return reasons[i].code;
	switch (http_status) {
	case 401:
	case 403: return SL_EAUTH;
	case 404: return SL_ENOTFOUND;
	case 409: return SL_KUBE_ECONFLICT;
	case 410: return SL_KUBE_EGONE;
	case 422: return SL_KUBE_EINVALID;
	default: return SL_EHTTP;
	}
}

static const char *status_text(long status)
{
	switch (status) {
	case 400: return "BadRequest";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "NotFound";
	case 405: return "MethodNotAllowed";
	case 406: return "NotAcceptable";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "RequestEntityTooLarge";
	case 415: return "UnsupportedMediaType";
	case 422: return "Invalid";
	case 429: return "TooManyRequests";
	case 500: return "InternalError";
	case 503: return "ServiceUnavailable";
	case 504: return "Timeout";
	default: return "";
	}
}

/* Printable text of an answer that is not a Status (a proxy's HTML page,
 * "404 page not found"): its first line, shortened. */
static void plain_detail(const char *body, size_t len, char *out, size_t size)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 1 < size && n < 200; i++) {
		char c = body[i];
		if (c == '\n' || c == '\r')
			break;
		out[n++] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	out[n] = '\0';
}

int kube_status_error(const char *method, const char *url, long http_status, const char *body,
                      size_t body_len, struct kube_status *ret_status, struct sl_error *err)
{
	struct kube_status st = {.code = http_status};
	char message[1536] = "";
	json_t *doc = body && body_len ? json_loadb(body, body_len, 0, NULL) : NULL;
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	if (kind && strcmp(kind, "Status") == 0) {
		const char *reason = json_string_value(json_object_get(doc, "reason"));
		const char *msg = json_string_value(json_object_get(doc, "message"));
		json_int_t code = json_integer_value(json_object_get(doc, "code"));
		if (reason)
			snprintf(st.reason, sizeof(st.reason), "%s", reason);
		if (msg)
			snprintf(message, sizeof(message), "%s", msg);
		if (code > 0)
			st.code = (long)code;
		const char *name =
		    json_string_value(json_object_get(json_object_get(doc, "details"), "name"));
		st.names_object = name && *name;
	} else if (body && body_len) {
		plain_detail(body, body_len, message, sizeof(message));
	}
	json_decref(doc);
	if (!*st.reason)
		snprintf(st.reason, sizeof(st.reason), "%s", status_text(st.code));
	int code = kube_status_code(st.reason, st.code);
	sl_error_set(err, code, "%s %s: %ld%s%s%s%s", method, url, st.code, *st.reason ? " " : "",
	             st.reason, *message ? ": " : "", message);
	if (err)
		err->http_status = (int)http_status;
	if (ret_status)
		*ret_status = st;
	return code;
}
