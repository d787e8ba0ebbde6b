#include <string.h>

#include "base.h"

static void *oom(void)
{
	fputs("sluice: out of memory\n", stderr);
	abort();
}

void *sl_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	return p ? p : oom();
}

void *sl_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	return p ? p : oom();
}

void *sl_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	return q ? q : oom();
}

char *sl_strdup(const char *s)
{
	char *d = strdup(s ? s : "");
	return d ? d : oom();
}

char *sl_strndup(const char *s, size_t n)
{
	char *d = strndup(s, n);
	return d ? d : oom();
}

char *sl_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? oom() : s;
}

bool sl_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool sl_endswith(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 4648 §4: each 3 bytes become 4 characters; a last group of 1 or 2
 * bytes is padded with '=' to 4. */
char *sl_base64_encode(const void *data, size_t len)
{
	const unsigned char *in = data;
	char *out = sl_xmalloc(4 * ((len + 2) / 3) + 1);
	char *o = out;
	for (size_t i = 0; i < len; i += 3) {
		size_t n = len - i < 3 ? len - i : 3;
		uint32_t group = (uint32_t)in[i] << 16;
		if (n > 1)
			group |= (uint32_t)in[i + 1] << 8;
		if (n > 2)
			group |= in[i + 2];
		*o++ = b64_alphabet[group >> 18];
		*o++ = b64_alphabet[group >> 12 & 63];
		*o++ = n > 1 ? b64_alphabet[group >> 6 & 63] : '=';
		*o++ = n > 2 ? b64_alphabet[group & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict like Go's base64.StdEncoding: padded quads, '=' only at the end. */
ssize_t sl_base64_decode(const char *text, char **ret)
{
	size_t len = strlen(text);
	if (len % 4 != 0)
		return -1;
	unsigned char *out = sl_xmalloc(len / 4 * 3 + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i += 4) {
		bool last = i + 4 == len;
		int v[4];
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			char c = text[i + k];
			if (c == '=' && last && k >= 2 && (k == 3 || text[i + 3] == '=')) {
				v[k] = 0;
				pad++;
				continue;
			}
			v[k] = b64_value(c);
			if (v[k] < 0 || pad) {
				free(out);
				return -1;
			}
		}
		uint32_t quad = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
		                (uint32_t)v[3];
		out[n++] = (unsigned char)(quad >> 16);
		if (pad < 2)
			out[n++] = (unsigned char)(quad >> 8);
		if (pad < 1)
			out[n++] = (unsigned char)quad;
	}
	out[n] = '\0';
	*ret = (char *)out;
	return (ssize_t)n;
}

void sl_strv_push(struct sl_strv *v, const char *s)
{
	v->items = sl_xrealloc(v->items, (v->len + 2) * sizeof(char *));
	v->items[v->len++] = sl_strdup(s);
	v->items[v->len] = NULL;
}

void sl_strv_free(struct sl_strv *v)
{
	for (size_t i = 0; i < v->len; i++)
		free(v->items[i]);
	free(v->items);
	*v = (struct sl_strv){0};
}
