#include <errno.h>
#include <string.h>

#include "base.h"

int sl_error_set(struct sl_error *err, int code, const char *fmt, ...)
{
	if (!err)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->code = code;
	return code;
}

int sl_error_wrap(struct sl_error *err, int code, const char *fmt, ...)
{
	if (!err)
		return code;
	char prefix[SL_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);

	/* Shift the existing message right and put the prefix in front. */
	size_t plen = strlen(prefix);
	size_t mlen = strlen(err->msg);
	size_t sep = mlen ? 2 : 0;
	if (plen + sep >= sizeof(err->msg))
		plen = sizeof(err->msg) - sep - 1;
	size_t keep = mlen;
	if (plen + sep + keep >= sizeof(err->msg))
		keep = sizeof(err->msg) - plen - sep - 1;
	memmove(err->msg + plen + sep, err->msg, keep);
	memcpy(err->msg, prefix, plen);
	if (sep)
		memcpy(err->msg + plen, ": ", 2);
	err->msg[plen + sep + keep] = '\0';
	/* Keep the most specific code: the inner layer knew best what failed. */
	if (err->code == 0)
		err->code = code;
	return err->code;
}

int sl_error_errno(struct sl_error *err, int errno_value, int code, const char *fmt, ...)
{
	if (!err)
		return code;
	char prefix[SL_ERROR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	return sl_error_set(err, code, "%s: %s", prefix, strerror(errno_value));
}

void sl_error_clear(struct sl_error *err)
{
	if (!err)
		return;
	err->code = 0;
	err->http_status = 0;
	err->msg[0] = '\0';
}
