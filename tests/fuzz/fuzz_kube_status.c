/* kube_status_error, on the body of an error answer of an API server (or of
 * a proxy in front of it). The input is the HTTP status as two
 * little-endian bytes (taken modulo 600), then the body.
 *
 * Whatever the body: the result is a negative code, the one
 * kube_status_code gives for the reason and code it reports; err carries
 * it, the HTTP status as received, and a message that starts with
 * "METHOD URL: CODE"; a body that is not a Status shows at most its first
 * line, printable, in the message; Gone and Expired (or a 410 without a
 * reason) are SL_KUBE_EGONE, which the informer relists on; a NULL
 * ret_status or err changes nothing; the same body gives the same error. */
#include <jansson.h>

#include "fuzz.h"
#include "kube/kube_internal.h"

#define METHOD "PATCH"
#define URL    "https://127.0.0.1:6443/apis/source.toolkit.fluxcd.io/v1/namespaces/ns/x"

static bool is_status(const char *body, size_t len)
{
	if (!len)
		return false;
	json_t *doc = json_loadb(body, len, 0, NULL);
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	bool yes = kind && strcmp(kind, "Status") == 0;
	json_decref(doc);
	return yes;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	long http = ((long)data[0] | (long)data[1] << 8) % 600;
	size_t len = size - 2;
	/* exactly len bytes, as an answer's body */
	char *body = sl_xmalloc(len ? len : 1);
	memcpy(body, data + 2, len);

	struct sl_error err = {0};
	struct kube_status st;
	memset(&st, 0xa5, sizeof(st));
	int r = kube_status_error(METHOD, URL, http, body, len, &st, &err);
	FUZZ_CHECK_ERROR(r, err);
	FUZZ_CHECK(err.code == r);
	FUZZ_CHECK(err.http_status == (int)http);
	FUZZ_CHECK(memchr(st.reason, '\0', sizeof(st.reason)) != NULL);
	FUZZ_CHECK(r == kube_status_code(st.reason, st.code));
	char *prefix = sl_asprintf(METHOD " " URL ": %ld", st.code);
	FUZZ_CHECK(sl_startswith(err.msg, prefix));
	free(prefix);
	if (!is_status(body, len)) {
		/* The HTTP status and its usual reason, then the first line of
		 * the body, printable. */
		FUZZ_CHECK(st.code == http);
		FUZZ_CHECK(!st.names_object);
		for (const char *c = err.msg; *c; c++)
			FUZZ_CHECK(*c >= 0x20 && *c < 0x7f);
		const char *nl = memchr(body, '\n', len);
		size_t first_line = nl ? (size_t)(nl - body) : len;
		FUZZ_CHECK(strlen(err.msg) <= sizeof(METHOD " " URL ": 599 ") + 32 + first_line);
	}
	if (strcmp(st.reason, "Gone") == 0 || strcmp(st.reason, "Expired") == 0 ||
	    (!st.reason[0] && st.code == 410))
		FUZZ_CHECK(r == SL_KUBE_EGONE);
	if (r == SL_KUBE_EGONE)
		FUZZ_CHECK(st.code == 410 || strcmp(st.reason, "Gone") == 0 ||
		           strcmp(st.reason, "Expired") == 0);

	/* Optional outputs are optional; the answer is a function of the body. */
	struct sl_error again = {0};
	FUZZ_CHECK(kube_status_error(METHOD, URL, http, body, len, NULL, &again) == r);
	FUZZ_CHECK(strcmp(again.msg, err.msg) == 0);
	FUZZ_CHECK(kube_status_error(METHOD, URL, http, body, len, NULL, NULL) == r);
	free(body);
	return 0;
}
