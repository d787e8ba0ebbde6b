/* gitignore patterns with the semantics of Flux's sourceignore matcher
 * (fluxcd/pkg/sourceignore, a go-git fork): simple patterns match any path
 * component, patterns with a '/' match component by component with "**"
 * spanning directories, the last matching pattern decides. */
#include <string.h>

#include "codec/codec.h"

struct pattern {
	char **segments; /* split on '/'; a leading "" anchors at the root */
	size_t n;
	bool inclusion;
	bool dir_only;
	bool is_glob;
};

struct sl_ignore {
	struct pattern *patterns;
	size_t n;
};

struct sl_ignore *sl_ignore_new(void)
{
	return sl_xcalloc(1, sizeof(struct sl_ignore));
}

void sl_ignore_free(struct sl_ignore *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < ig->n; i++) {
		for (size_t k = 0; k < ig->patterns[i].n; k++)
			free(ig->patterns[i].segments[k]);
		free(ig->patterns[i].segments);
	}
	free(ig->patterns);
	free(ig);
}

static void add_pattern(struct sl_ignore *ig, const char *line, size_t len)
{
	_cleanup_free_ char *p = sl_strndup(line, len);
	struct pattern pat = {0};
	char *s = p;
	if (*s == '!') {
		pat.inclusion = true;
		s++;
	}
	size_t n = strlen(s);
	if (!sl_endswith(s, "\\ "))
		while (n && s[n - 1] == ' ')
			s[--n] = '\0';
	if (n && s[n - 1] == '/') {
		pat.dir_only = true;
		s[--n] = '\0';
	}
	pat.is_glob = strchr(s, '/') != NULL;
	for (char *seg = s;;) {
		char *slash = strchr(seg, '/');
		pat.segments = sl_xrealloc(pat.segments, (pat.n + 1) * sizeof(char *));
		pat.segments[pat.n++] =
		    slash ? sl_strndup(seg, (size_t)(slash - seg)) : sl_strdup(seg);
		if (!slash)
			break;
		seg = slash + 1;
	}
	ig->patterns = sl_xrealloc(ig->patterns, (ig->n + 1) * sizeof(*ig->patterns));
	ig->patterns[ig->n++] = pat;
}

void sl_ignore_add_lines(struct sl_ignore *ig, const char *text)
{
	for (const char *line = text; *line;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		size_t trimmed = len;
		if (trimmed && line[trimmed - 1] == '\r')
			trimmed--;
		bool blank = true;
		for (size_t i = 0; i < trimmed; i++)
			if (line[i] != ' ' && line[i] != '\t')
				blank = false;
		if (!blank && line[0] != '#')
			add_pattern(ig, line, trimmed);
		if (!eol)
			break;
		line = eol + 1;
	}
}

/* Decodes one UTF-8 character; invalid bytes decode as U+FFFD of length 1,
 * as Go's utf8.DecodeRuneInString does. s is NUL-terminated. */
static uint32_t decode_rune(const char *s, size_t *ret_len)
{
	return sl_utf8_decode_go(s, strnlen(s, 4), ret_len);
}

/* Go's getEsc: one class endpoint, maybe escaped; '-' and ']' may not
 * appear unescaped and the class must go on after it. Returns -1 when the
 * pattern is malformed. */
static int class_endpoint(const char **pp, uint32_t *ret)
{
	const char *p = *pp;
	if (!*p || *p == '-' || *p == ']')
		return -1;
	if (*p == '\\' && !*++p)
		return -1;
	size_t n;
	uint32_t r = decode_rune(p, &n);
	if (r == 0xfffd && n == 1 && (unsigned char)*p >= 0x80)
		return -1;
	p += n;
	if (!*p)
		return -1;
	*ret = r;
	*pp = p;
	return 0;
}

/* One bracket expression at *pp (after '[') against character c.
 * Returns 1 match, 0 no match, -1 malformed. */
static int match_class(const char **pp, uint32_t c)
{
	const char *p = *pp;
	bool negated = false;
	if (*p == '^') {
		negated = true;
		p++;
	}
	bool matched = false;
	for (int nrange = 0;; nrange++) {
		if (*p == ']' && nrange > 0) {
			p++;
			break;
		}
		uint32_t lo, hi;
		if (class_endpoint(&p, &lo) < 0)
			return -1;
		hi = lo;
		if (*p == '-') {
			p++;
			if (class_endpoint(&p, &hi) < 0)
				return -1;
		}
		if (lo <= c && c <= hi)
			matched = true;
	}
	*pp = p;
	return matched != negated;
}

/* Whole-pattern syntax check: Go's Match reports a malformed pattern
 * whatever the name, so such a pattern never matches anything. */
static bool glob_valid(const char *p)
{
	while (*p) {
		if (*p == '\\') {
			if (!*++p)
				return false;
			p++;
		} else if (*p == '[') {
			p++;
			if (match_class(&p, 0) < 0)
				return false;
		} else {
			p++;
		}
	}
	return true;
}

/* Matches one non-star token at *pp against the character at *np; advances
 * both on success. */
static bool match_token(const char **pp, const char **np)
{
	const char *p = *pp, *n = *np;
	if (!*n || *n == '/')
		return false;
	size_t len;
	uint32_t c = decode_rune(n, &len);
	if (*p == '?') {
		p++;
	} else if (*p == '[') {
		p++;
		if (match_class(&p, c) != 1)
			return false;
	} else {
		/* Literals compare byte by byte, as in Go's matchChunk. */
		if (*p == '\\')
			p++;
		if (*p != *n)
			return false;
		*pp = p + 1;
		*np = n + 1;
		return true;
	}
	*pp = p;
	*np = n + len;
	return true;
}

/* Go's filepath.Match for one path component, in linear-ish time: on a
 * mismatch only the most recent '*' absorbs one more byte, which is
 * enough because '*' never has to cross a '/' here. */
static bool glob(const char *p, const char *n)
{
	const char *star_p = NULL, *star_n = NULL;
	for (;;) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			star_p = p;
			star_n = n;
			continue;
		}
		if (!*p && !*n)
			return true;
		if (*p && match_token(&p, &n))
			continue;
		if (!star_p || !*star_n || *star_n == '/')
			return false;
		/* Go's Match retries the rest of the pattern at every byte. */
		star_n++;
		p = star_p;
		n = star_n;
	}
}

bool sl_glob_match(const char *pattern, const char *name)
{
	return glob_valid(pattern) && glob(pattern, name);
}

static bool simple_match(const struct pattern *pat, char **path, size_t n, bool is_dir)
{
	for (size_t i = 0; i < n; i++) {
		if (!sl_glob_match(pat->segments[0], path[i]))
			continue;
		if (pat->dir_only && !is_dir && i == n - 1)
			return false;
		return true;
	}
	return false;
}

static bool glob_match(const struct pattern *pat, char **path, size_t n, bool is_dir)
{
	bool matched = false, traverse = false;
	size_t at = 0;
	for (size_t i = 0; i < pat->n; i++) {
		const char *seg = pat->segments[i];
		if (!*seg) {
			traverse = false;
			continue;
		}
		if (strcmp(seg, "**") == 0) {
			if (i == pat->n - 1)
				break;
			traverse = true;
			continue;
		}
		if (strstr(seg, "**"))
			return false;
		if (at == n)
			return false;
		if (traverse) {
			traverse = false;
			while (at < n) {
				const char *e = path[at++];
				if (sl_glob_match(seg, e)) {
					matched = true;
					break;
				} else if (at == n) {
					matched = false;
				}
			}
		} else {
			if (!sl_glob_match(seg, path[at]))
				return false;
			matched = true;
			at++;
		}
	}
	if (matched && pat->dir_only && !is_dir && at == n)
		matched = false;
	return matched;
}

bool sl_ignore_has_inclusion(const struct sl_ignore *ig)
{
	for (size_t i = 0; ig && i < ig->n; i++)
		if (ig->patterns[i].inclusion)
			return true;
	return false;
}

bool sl_ignore_match(const struct sl_ignore *ig, const char *path, bool is_dir)
{
	if (!ig || !ig->n || !*path || strcmp(path, ".") == 0)
		return false;
	_cleanup_free_ char *copy = sl_strdup(path);
	char *parts[256];
	size_t n = 0;
	for (char *save = NULL, *tok = strtok_r(copy, "/", &save); tok;
	     tok = strtok_r(NULL, "/", &save)) {
		if (n == SL_ARRAY_SIZE(parts))
			break;
		parts[n++] = tok;
	}
	for (size_t i = ig->n; i-- > 0;) {
		const struct pattern *pat = &ig->patterns[i];
		bool hit = pat->is_glob ? glob_match(pat, parts, n, is_dir)
		                        : simple_match(pat, parts, n, is_dir);
		if (hit)
			return !pat->inclusion;
	}
	return false;
}
