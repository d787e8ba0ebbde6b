/* A line-by-line port of Go 1.26's path/filepath.Match (match.go, Unix
 * separator), the oracle fuzz_ignore compares sl_glob_match against. Kept
 * deliberately literal, byte offsets and all, so any difference is in
 * sluice's matcher, not here. */
#ifndef SLUICE_FUZZ_GO_MATCH_H
#define SLUICE_FUZZ_GO_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define GO_RUNE_ERROR 0xfffd

struct go_str {
	const char *p;
	size_t n;
};

static inline void go_advance(struct go_str *s, size_t k)
{
	s->p += k;
	s->n -= k;
}

/* utf8.DecodeRuneInString */
static int32_t go_decode_rune(struct go_str s, size_t *ret_width)
{
	const unsigned char *u = (const unsigned char *)s.p;
	if (s.n == 0) {
		*ret_width = 0;
		return GO_RUNE_ERROR;
	}
	unsigned char b0 = u[0];
	if (b0 < 0x80) {
		*ret_width = 1;
		return b0;
	}
	size_t size;
	unsigned char lo = 0x80, hi = 0xbf;
	if (b0 >= 0xc2 && b0 <= 0xdf)
		size = 2;
	else if (b0 >= 0xe0 && b0 <= 0xef)
		size = 3;
	else if (b0 >= 0xf0 && b0 <= 0xf4)
		size = 4;
	else
		size = 0;
	if (b0 == 0xe0)
		lo = 0xa0;
	else if (b0 == 0xed)
		hi = 0x9f;
	else if (b0 == 0xf0)
		lo = 0x90;
	else if (b0 == 0xf4)
		hi = 0x8f;
	*ret_width = 1;
	if (size == 0 || s.n < size || u[1] < lo || u[1] > hi)
		return GO_RUNE_ERROR;
	for (size_t i = 2; i < size; i++)
		if (u[i] < 0x80 || u[i] > 0xbf)
			return GO_RUNE_ERROR;
	int32_t r = size == 2 ? b0 & 0x1f : size == 3 ? b0 & 0x0f : b0 & 0x07;
	for (size_t i = 1; i < size; i++)
		r = (r << 6) | (u[i] & 0x3f);
	*ret_width = size;
	return r;
}

/* getEsc: 0, or -1 for ErrBadPattern */
static int go_get_esc(struct go_str *chunk, int32_t *ret)
{
	if (chunk->n == 0 || chunk->p[0] == '-' || chunk->p[0] == ']')
		return -1;
	if (chunk->p[0] == '\\') {
		go_advance(chunk, 1);
		if (chunk->n == 0)
			return -1;
	}
	size_t w;
	int32_t r = go_decode_rune(*chunk, &w);
	bool bad = r == GO_RUNE_ERROR && w == 1;
	go_advance(chunk, w);
	if (chunk->n == 0)
		bad = true;
	*ret = r;
	return bad ? -1 : 0;
}

/* scanChunk */
static void go_scan_chunk(struct go_str *pattern, bool *ret_star, struct go_str *ret_chunk)
{
	bool star = false;
	while (pattern->n > 0 && pattern->p[0] == '*') {
		go_advance(pattern, 1);
		star = true;
	}
	bool inrange = false;
	size_t i;
	for (i = 0; i < pattern->n; i++) {
		char ch = pattern->p[i];
		if (ch == '\\') {
			if (i + 1 < pattern->n)
				i++;
		} else if (ch == '[') {
			inrange = true;
		} else if (ch == ']') {
			inrange = false;
		} else if (ch == '*' && !inrange) {
			break;
		}
	}
	*ret_star = star;
	*ret_chunk = (struct go_str){pattern->p, i};
	go_advance(pattern, i);
}

/* matchChunk: 1 ok (*rest set), 0 no match, -1 ErrBadPattern */
static int go_match_chunk(struct go_str chunk, struct go_str s, struct go_str *rest)
{
	bool failed = false;
	while (chunk.n > 0) {
		failed = failed || s.n == 0;
		switch (chunk.p[0]) {
		case '[': {
			int32_t r = 0;
			if (!failed) {
				size_t w;
				r = go_decode_rune(s, &w);
				go_advance(&s, w);
			}
			go_advance(&chunk, 1);
			bool negated = false;
			if (chunk.n > 0 && chunk.p[0] == '^') {
				negated = true;
				go_advance(&chunk, 1);
			}
			bool match = false;
			for (int nrange = 0;; nrange++) {
				if (chunk.n > 0 && chunk.p[0] == ']' && nrange > 0) {
					go_advance(&chunk, 1);
					break;
				}
				int32_t lo, hi;
				if (go_get_esc(&chunk, &lo) < 0)
					return -1;
				hi = lo;
				if (chunk.p[0] == '-') {
					go_advance(&chunk, 1);
					if (go_get_esc(&chunk, &hi) < 0)
						return -1;
				}
				match = match || (lo <= r && r <= hi);
			}
			failed = failed || match == negated;
			break;
		}
		case '?':
			if (!failed) {
				failed = s.p[0] == '/';
				size_t w;
				go_decode_rune(s, &w);
				go_advance(&s, w);
			}
			go_advance(&chunk, 1);
			break;
		case '\\':
			go_advance(&chunk, 1);
			if (chunk.n == 0)
				return -1;
			/* fallthrough */
		default:
			if (!failed) {
				failed = chunk.p[0] != s.p[0];
				go_advance(&s, 1);
			}
			go_advance(&chunk, 1);
		}
	}
	if (failed)
		return 0;
	*rest = s;
	return 1;
}

/* Match: 1 matched, 0 not, -1 ErrBadPattern */
static int go_filepath_match(const char *pattern_text, const char *name_text)
{
	struct go_str pattern = {pattern_text, strlen(pattern_text)};
	struct go_str name = {name_text, strlen(name_text)};
	while (pattern.n > 0) {
		bool star;
		struct go_str chunk, t;
		go_scan_chunk(&pattern, &star, &chunk);
		if (star && chunk.n == 0)
			return memchr(name.p, '/', name.n) ? 0 : 1;
		int r = go_match_chunk(chunk, name, &t);
		if (r == 1 && (t.n == 0 || pattern.n > 0)) {
			name = t;
			continue;
		}
		if (r < 0)
			return -1;
		bool found = false;
		for (size_t i = 0; star && i < name.n && name.p[i] != '/'; i++) {
			struct go_str skipped = {name.p + i + 1, name.n - i - 1};
			r = go_match_chunk(chunk, skipped, &t);
			if (r == 1) {
				if (pattern.n == 0 && t.n > 0)
					continue;
				name = t;
				found = true;
				break;
			}
			if (r < 0)
				return -1;
		}
		if (found)
			continue;
		return 0;
	}
	return name.n == 0;
}

#endif
