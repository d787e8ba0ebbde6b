#include <string.h>

#include "codec/codec.h"

/* Length of the valid UTF-8 sequence at s, or 0 when it is invalid. */
static size_t utf8_len(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t n;
	uint32_t c, min;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
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
