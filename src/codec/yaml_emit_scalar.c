/* Strings as `kubectl kustomize` prints them: what survives Go's JSON text
 * and go-yaml v2's reading of it, the style go-yaml v2's encoder asks for
 * (double-quoted when the plain text would read back as another type under
 * YAML 1.1, literal when it holds a newline, else plain), the downgrades its
 * emitter's scalar analysis imposes, and the four writers with their
 * folding at column 80. See tests/data/kustomize/README.md, rules 8-12. */
#include <string.h>

#include "codec/codec.h"
#include "codec/yaml_emit_private.h"

/* ---- what reaches the emitter ------------------------------------------- */

/* The code point at s (n > 0 bytes left) and its length, or 0 when the byte
 * at s does not start a valid UTF-8 sequence (Go then reads U+FFFD). */
static size_t decode_utf8(const unsigned char *s, size_t n, uint32_t *ret)
{
	return sl_utf8_decode((const char *)s, n, ret);
}

static bool is_nel(const char *s, size_t n, size_t i)
{
	return i + 1 < n && (unsigned char)s[i] == 0xc2 && (unsigned char)s[i + 1] == 0x85;
}

int sl_yaml_string_prepare(const char *s, size_t n, struct sl_buf *scratch, const char **ret,
                           size_t *ret_len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		uint32_t c = 0;
		size_t w = u[i] < 0x80 ? 1 : decode_utf8(u + i, n - i, &c);
		if (w == 0 || (w == 2 && c == 0x85))
			break;
		i += w;
	}
	if (i == n) {
		*ret = s, *ret_len = n;
		return 0;
	}
	while (i > 0 && s[i - 1] == ' ')
		i--; /* spaces before a NEL belong to its fold */

	sl_buf_reset(scratch);
	int r = sl_buf_append(scratch, s, i);
	while (r == 0 && i < n) {
		if (s[i] == ' ' || is_nel(s, n, i)) {
			/* go-yaml's double-quoted scanner: the spaces before the
			 * first break are dropped, those after it skipped; one
			 * break folds into a space, k > 1 breaks into k-1. */
			size_t j = i, breaks = 0;
			while (j < n && (s[j] == ' ' || is_nel(s, n, j))) {
				if (s[j] == ' ') {
					j++;
				} else {
					breaks++;
					j += 2;
				}
			}
			if (breaks == 0)
				r = sl_buf_append(scratch, s + i, j - i);
			else if (breaks == 1)
				r = sl_buf_append(scratch, " ", 1);
			for (size_t k = 1; r == 0 && k < breaks; k++)
				r = sl_buf_append(scratch, "\n", 1);
			i = j;
			continue;
		}
		uint32_t c;
		size_t w = decode_utf8(u + i, n - i, &c);
		if (w == 0) {
			r = sl_buf_append(scratch, "\xef\xbf\xbd", 3);
			i++;
		} else {
			r = sl_buf_append(scratch, s + i, w);
			i += w;
		}
	}
	if (r < 0)
		return r;
	*ret = scratch->data, *ret_len = scratch->len;
	return 0;
}

/* go-yaml v2's reader refuses these characters in its input; Go's JSON
 * escapes C0 controls and U+2028/U+2029 but writes these raw. */
static bool refused_by_reader(uint32_t c)
{
	return c == 0x7f || (c >= 0x80 && c <= 0x9f && c != 0x85) || c == 0xfffe || c == 0xffff;
}

int sl_yaml_string_check(const char *s, size_t n, struct sl_error *err)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		if (s[i] == ' ' || is_nel(s, n, i)) {
			/* After a NEL that no blank follows, go-yaml's scanner is
			 * at column 0, where a document marker ends the scalar. */
			bool at_column_0 = false;
			while (i < n && (s[i] == ' ' || is_nel(s, n, i))) {
				at_column_0 = s[i] != ' ';
				i += at_column_0 ? 2 : 1;
			}
			if (at_column_0 && n - i >= 4 &&
			    (memcmp(s + i, "---", 3) == 0 || memcmp(s + i, "...", 3) == 0) &&
			    (s[i + 3] == ' ' || is_nel(s, n, i + 3)))
				return sl_error_set(err, SL_EINVAL,
				                    "yaml: found unexpected document indicator");
			continue;
		}
		uint32_t c = 0;
		size_t w = decode_utf8(u + i, n - i, &c);
		if (w > 0 && refused_by_reader(c))
			return sl_error_set(err, SL_EINVAL,
			                    "yaml: control characters are not allowed");
		i += w ? w : 1;
	}
	return 0;
}

/* ---- go-yaml v2's character classes (yamlprivateh.go) ------------------- */

static bool is_space(const char *s, size_t i)
{
	return s[i] == ' ';
}

static bool is_blank(const char *s, size_t i)
{
	return s[i] == ' ' || s[i] == '\t';
}

static bool is_break(const char *s, size_t i)
{
	const unsigned char *u = (const unsigned char *)s + i;
	return u[0] == '\r' || u[0] == '\n' || (u[0] == 0xc2 && u[1] == 0x85) ||
	       (u[0] == 0xe2 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9));
}

static bool is_blankz(const char *s, size_t i)
{
	return is_blank(s, i) || is_break(s, i) || s[i] == '\0';
}

/* Printable for go-yaml v2: LF, ASCII 0x20-0x7E, U+00A0-U+D7FF and
 * U+E000-U+FFFD but not U+FEFF; nothing outside the BMP. */
static bool is_printable(const char *s, size_t i)
{
	const unsigned char *u = (const unsigned char *)s + i;
	return u[0] == 0x0a || (u[0] >= 0x20 && u[0] <= 0x7e) || (u[0] == 0xc2 && u[1] >= 0xa0) ||
	       (u[0] > 0xc2 && u[0] < 0xed) || (u[0] == 0xed && u[1] < 0xa0) || u[0] == 0xee ||
	       (u[0] == 0xef && !(u[1] == 0xbb && u[2] == 0xbf) &&
	        !(u[1] == 0xbf && (u[2] == 0xbe || u[2] == 0xbf)));
}

bool sl_yaml_string_multiline(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i += yaml_width((unsigned char)s[i]))
		if (is_break(s, i))
			return true;
	return false;
}

/* ---- the emitter's scalar analysis (yaml_emitter_analyze_scalar) -------- */

struct analysis {
	bool multiline;
	bool block_plain_allowed;
	bool single_quoted_allowed;
	bool block_allowed;
};

static void analyze(const char *s, size_t n, struct analysis *a)
{
	bool block_indicators = false, line_breaks = false, special = false;
	bool leading_space = false, leading_break = false, trailing_space = false;
	bool trailing_break = false, break_space = false, space_break = false;
	bool previous_space = false, previous_break = false, preceded_by_whitespace = true;

	if (n == 0) {
		*a = (struct analysis){false, true, true, false};
		return;
	}
	if (n >= 3 && (memcmp(s, "---", 3) == 0 || memcmp(s, "...", 3) == 0))
		block_indicators = true;

	for (size_t i = 0, w; i < n; i += w) {
		w = yaml_width((unsigned char)s[i]);
		bool followed_by_whitespace = i + w >= n || is_blank(s, i + w);
		if (i == 0) {
			if (s[i] && strchr("#,[]{}&*!|>'\"%@`", s[i]))
				block_indicators = true;
			else if ((s[i] == '?' || s[i] == ':' || s[i] == '-') &&
			         followed_by_whitespace)
				block_indicators = true;
		} else if ((s[i] == ':' && followed_by_whitespace) ||
		           (s[i] == '#' && preceded_by_whitespace)) {
			block_indicators = true;
		}
		if (!is_printable(s, i))
			special = true;
		if (is_space(s, i)) {
			leading_space |= i == 0;
			trailing_space |= i + w == n;
			break_space |= previous_break;
			previous_space = true;
			previous_break = false;
		} else if (is_break(s, i)) {
			line_breaks = true;
			leading_break |= i == 0;
			trailing_break |= i + w == n;
			space_break |= previous_space;
			previous_space = false;
			previous_break = true;
		} else {
			previous_space = previous_break = false;
		}
		preceded_by_whitespace = is_blankz(s, i);
	}

	a->multiline = line_breaks;
	a->block_plain_allowed = true;
	a->single_quoted_allowed = true;
	a->block_allowed = true;
	if (leading_space || leading_break || trailing_space || trailing_break)
		a->block_plain_allowed = false;
	if (trailing_space)
		a->block_allowed = false;
	if (break_space)
		a->block_plain_allowed = a->single_quoted_allowed = false;
	if (space_break || special)
		a->block_plain_allowed = a->single_quoted_allowed = a->block_allowed = false;
	if (line_breaks || block_indicators)
		a->block_plain_allowed = false;
}

/* ---- writers (yaml_emitter_write_*_scalar) ------------------------------ */

static void write_break(struct yaml_emitter *e, const char *s, size_t *i)
{
	if (s[*i] == '\n') {
		yaml_put_break(e);
		(*i)++;
	} else {
		/* CR, NEL, LS and PS are copied raw and end the line */
		yaml_write(e, s, i);
		e->column = 0;
	}
}

/* Folding: at a single space past column 80 (the character after it not a
 * space either), the space becomes a line break and the indentation. */
static void write_plain(struct yaml_emitter *e, const char *s, size_t n, bool allow_breaks)
{
	bool spaces = false, breaks = false;
	if (!e->whitespace)
		yaml_put(e, ' ');
	for (size_t i = 0; i < n;) {
		if (is_space(s, i)) {
			if (allow_breaks && !spaces && e->column > YAML_BEST_WIDTH &&
			    !(i + 1 < n && is_space(s, i + 1))) {
				yaml_write_indent(e);
				i++;
			} else {
				yaml_write(e, s, &i);
			}
			spaces = true;
		} else if (is_break(s, i)) {
			if (!breaks && s[i] == '\n')
				yaml_put_break(e);
			write_break(e, s, &i);
			e->indention = true;
			breaks = true;
		} else {
			if (breaks)
				yaml_write_indent(e);
			yaml_write(e, s, &i);
			e->indention = false;
			spaces = breaks = false;
		}
	}
	e->whitespace = false;
	e->indention = false;
}

static void write_single_quoted(struct yaml_emitter *e, const char *s, size_t n, bool allow_breaks)
{
	bool spaces = false, breaks = false;
	yaml_write_indicator(e, "'", true, false, false);
	for (size_t i = 0; i < n;) {
		if (is_space(s, i)) {
			if (allow_breaks && !spaces && e->column > YAML_BEST_WIDTH && i > 0 &&
			    i < n - 1 && !is_space(s, i + 1)) {
				yaml_write_indent(e);
				i++;
			} else {
				yaml_write(e, s, &i);
			}
			spaces = true;
		} else if (is_break(s, i)) {
			if (!breaks && s[i] == '\n')
				yaml_put_break(e);
			write_break(e, s, &i);
			e->indention = true;
			breaks = true;
		} else {
			if (breaks)
				yaml_write_indent(e);
			if (s[i] == '\'')
				yaml_put(e, '\'');
			yaml_write(e, s, &i);
			e->indention = false;
			spaces = breaks = false;
		}
	}
	yaml_write_indicator(e, "'", false, false, false);
	e->whitespace = false;
	e->indention = false;
}

static void write_escape(struct yaml_emitter *e, uint32_t v)
{
	static const char hex[] = "0123456789ABCDEF";
	char short_form = 0;
	switch (v) {
	case 0x00: short_form = '0'; break;
	case 0x07: short_form = 'a'; break;
	case 0x08: short_form = 'b'; break;
	case 0x09: short_form = 't'; break;
	case 0x0a: short_form = 'n'; break;
	case 0x0b: short_form = 'v'; break;
	case 0x0c: short_form = 'f'; break;
	case 0x0d: short_form = 'r'; break;
	case 0x1b: short_form = 'e'; break;
	case 0x22: short_form = '"'; break;
	case 0x5c: short_form = '\\'; break;
	case 0x85: short_form = 'N'; break;
	case 0xa0: short_form = '_'; break;
	case 0x2028: short_form = 'L'; break;
	case 0x2029: short_form = 'P'; break;
	}
	yaml_put(e, '\\');
	if (short_form) {
		yaml_put(e, short_form);
		return;
	}
	int digits = v <= 0xff ? 2 : v <= 0xffff ? 4 : 8;
	yaml_put(e, digits == 2 ? 'x' : digits == 4 ? 'u' : 'U');
	for (int k = (digits - 1) * 4; k >= 0; k -= 4)
		yaml_put(e, hex[(v >> k) & 0xf]);
}

static void write_double_quoted(struct yaml_emitter *e, const char *s, size_t n, bool allow_breaks)
{
	/* go-yaml v2's is_bom looks at the first character whatever index it
	 * is given: a string starting with U+FEFF has every character escaped */
	bool bom = n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0;
	bool spaces = false;
	yaml_write_indicator(e, "\"", true, false, false);
	for (size_t i = 0; i < n;) {
		if (bom || !is_printable(s, i) || is_break(s, i) || s[i] == '"' || s[i] == '\\') {
			uint32_t v;
			size_t w = decode_utf8((const unsigned char *)s + i, n - i, &v);
			i += w ? w : 1;
			write_escape(e, w ? v : 0xfffd);
			spaces = false;
		} else if (is_space(s, i)) {
			if (allow_breaks && !spaces && e->column > YAML_BEST_WIDTH && i > 0 &&
			    i < n - 1) {
				yaml_write_indent(e);
				if (is_space(s, i + 1))
					yaml_put(e, '\\');
				i++;
			} else {
				yaml_write(e, s, &i);
			}
			spaces = true;
		} else {
			yaml_write(e, s, &i);
			spaces = false;
		}
	}
	yaml_write_indicator(e, "\"", false, false, false);
	e->whitespace = false;
	e->indention = false;
}

/* The character before the one at end, stepping over continuation bytes. */
static size_t previous_char(const char *s, size_t end)
{
	size_t i = end - 1;
	while (i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

static void write_block_hints(struct yaml_emitter *e, const char *s, size_t n)
{
	if (n > 0 && (is_space(s, 0) || is_break(s, 0)))
		yaml_write_indicator(e, "2", false, false, false); /* best indent */
	const char *chomp = NULL;
	if (n == 0) {
		chomp = "-";
	} else {
		size_t i = previous_char(s, n);
		if (!is_break(s, i))
			chomp = "-";
		else if (i == 0 || is_break(s, previous_char(s, i)))
			chomp = "+";
	}
	if (chomp)
		yaml_write_indicator(e, chomp, false, false, false);
}

/* Lines of a literal block are never folded. */
static void write_literal(struct yaml_emitter *e, const char *s, size_t n)
{
	bool breaks = true;
	yaml_write_indicator(e, "|", true, false, false);
	write_block_hints(e, s, n);
	yaml_put_break(e);
	e->indention = true;
	e->whitespace = true;
	for (size_t i = 0; i < n;) {
		if (is_break(s, i)) {
			write_break(e, s, &i);
			e->indention = true;
			breaks = true;
		} else {
			if (breaks)
				yaml_write_indent(e);
			yaml_write(e, s, &i);
			e->indention = false;
			breaks = false;
		}
	}
}

/* ---- style choice ------------------------------------------------------- */

enum style { STYLE_PLAIN, STYLE_SINGLE, STYLE_DOUBLE, STYLE_LITERAL };

void sl_yaml_emit_string(struct yaml_emitter *e, const char *s, size_t n, bool simple_key)
{
	struct analysis a;
	analyze(s, n, &a);

	/* what go-yaml v2's encoder asks for (encode.go stringv) ... */
	enum style style;
	if (sl_yaml_plain_is_not_string(s, n))
		style = STYLE_DOUBLE;
	else if (memchr(s, '\n', n))
		style = STYLE_LITERAL;
	else
		style = STYLE_PLAIN;
	/* ... and what its emitter allows (yaml_emitter_select_scalar_style) */
	if (simple_key && a.multiline)
		style = STYLE_DOUBLE;
	if (style == STYLE_PLAIN && (!a.block_plain_allowed || (n == 0 && simple_key)))
		style = STYLE_SINGLE;
	if (style == STYLE_SINGLE && !a.single_quoted_allowed)
		style = STYLE_DOUBLE;
	if (style == STYLE_LITERAL && (!a.block_allowed || simple_key))
		style = STYLE_DOUBLE;

	int saved = e->indent;
	yaml_increase_indent(e, true, false);
	switch (style) {
	case STYLE_PLAIN: write_plain(e, s, n, !simple_key); break;
	case STYLE_SINGLE: write_single_quoted(e, s, n, !simple_key); break;
	case STYLE_DOUBLE: write_double_quoted(e, s, n, !simple_key); break;
	case STYLE_LITERAL: write_literal(e, s, n); break;
	}
	e->indent = saved;
}

void sl_yaml_emit_plain(struct yaml_emitter *e, const char *text)
{
	int saved = e->indent;
	yaml_increase_indent(e, true, false);
	write_plain(e, text, strlen(text), false);
	e->indent = saved;
}
