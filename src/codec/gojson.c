#include <string.h>

#include "codec/codec.h"

/* Length of the valid UTF-8 sequence at s (NUL-terminated), or 0. */
static size_t utf8_len(const unsigned char *s, uint32_t *cp)
{
	return sl_utf8_decode((const char *)s, strnlen((const char *)s, 4), cp);
}

int sl_json_append_go_string(struct sl_buf *b, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	int r = sl_buf_append(b, "\"", 1);
	while (r == 0 && *s) {
		uint32_t cp;
		size_t n = utf8_len(s, &cp);
		if (n == 0) {
			r = sl_buf_append(b, "\\ufffd", 6);
			s++;
			continue;
		}
		if (n > 1) {
			if (cp == 0x2028 || cp == 0x2029)
				r = sl_buf_printf(b, "\\u%04x", cp);
			else
				r = sl_buf_append(b, s, n);
			s += n;
			continue;
		}
		unsigned char c = *s++;
		switch (c) {
		case '"': r = sl_buf_append(b, "\\\"", 2); break;
		case '\\': r = sl_buf_append(b, "\\\\", 2); break;
		case '\n': r = sl_buf_append(b, "\\n", 2); break;
		case '\r': r = sl_buf_append(b, "\\r", 2); break;
		case '\t': r = sl_buf_append(b, "\\t", 2); break;
		case '\b': r = sl_buf_append(b, "\\b", 2); break;
		case '\f': r = sl_buf_append(b, "\\f", 2); break;
		default:
			if (c < 0x20 || c == '<' || c == '>' || c == '&') {
				char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
				r = sl_buf_append(b, esc, 6);
			} else {
				r = sl_buf_append(b, &c, 1);
			}
		}
	}
	return r ? r : sl_buf_append(b, "\"", 1);
}
