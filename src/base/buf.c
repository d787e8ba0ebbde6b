#include <string.h>

#include "base.h"

void sl_buf_init(struct sl_buf *b, size_t max)
{
	*b = (struct sl_buf){.max = max};
}

void sl_buf_free(struct sl_buf *b)
{
	free(b->data);
	*b = (struct sl_buf){.max = b->max};
}

static int reserve(struct sl_buf *b, size_t extra)
{
	if (b->max && (extra > b->max || b->len > b->max - extra))
		return SL_ELIMIT;
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p)
		return SL_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int sl_buf_append(struct sl_buf *b, const void *data, size_t len)
{
	int r = reserve(b, len);
	if (r < 0)
		return r;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int sl_buf_printf(struct sl_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return SL_EINVAL;
	int r = reserve(b, (size_t)n);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void sl_buf_reset(struct sl_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *sl_buf_steal(struct sl_buf *b)
{
	char *d = b->data ? b->data : sl_strdup("");
	*b = (struct sl_buf){.max = b->max};
	return d;
}

int sl_buf_puts(struct sl_buf *b, const char *s)
{
	return sl_buf_append(b, s, strlen(s));
}
