/* UTF-8 decoding with Go's rules: shortest form only, no surrogates,
 * nothing above U+10FFFF. One decoder for every module that must see text
 * the way Go (and so Flux and kustomize) does. */
#include "codec/codec.h"

size_t sl_utf8_decode(const char *s, size_t len, uint32_t *ret_cp)
{
	const unsigned char *u = (const unsigned char *)s;
	if (len == 0)
		return 0;
	if (u[0] < 0x80) {
		*ret_cp = u[0];
		return 1;
	}
	size_t n;
	uint32_t c, min;
	if ((u[0] & 0xe0) == 0xc0)
		n = 2, c = u[0] & 0x1f, min = 0x80;
	else if ((u[0] & 0xf0) == 0xe0)
		n = 3, c = u[0] & 0x0f, min = 0x800;
	else if ((u[0] & 0xf8) == 0xf0)
		n = 4, c = u[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (u[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*ret_cp = c;
	return n;
}

uint32_t sl_utf8_decode_go(const char *s, size_t len, size_t *ret_width)
{
	uint32_t c;
	size_t n = sl_utf8_decode(s, len, &c);
	*ret_width = n ? n : 1;
	return n ? c : 0xfffd;
}

bool sl_utf8_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t n = sl_utf8_decode(s + i, len - i, &c);
		if (!n)
			return false;
		i += n;
	}
	return true;
}
