/* go-yaml v3's scalar resolution (resolve.go) and the pieces of Go it leans
 * on: strconv.ParseInt/ParseUint/ParseFloat syntax, time.Parse of the
 * timestamp layouts, and the folded-scalar writer of its emitter. */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/base.h"
#include "codec/yaml_resolve.h"

/* ---- Go's strconv ------------------------------------------------------ */

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/* strconv.ParseUint(s, base, 64) for text without underscores. */
static bool go_parse_uint(const char *s, size_t n, int base, uint64_t *ret)
{
	if (n == 0)
		return false;
	if (base == 0) {
		/* 0b, 0o, 0x need a digit after them; a bare leading 0 is octal */
		char prefix = n >= 3 && s[0] == '0' ? (char)(s[1] | 0x20) : 0;
		if (prefix == 'b' || prefix == 'o' || prefix == 'x') {
			base = prefix == 'b' ? 2 : prefix == 'o' ? 8 : 16;
			s += 2, n -= 2;
		} else if (s[0] == '0') {
			base = 8;
			s++, n--;
		} else {
			base = 10;
		}
	}
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		int d = digit_value(s[i]);
		if (d >= base)
			return false;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*ret = v;
	return true;
}

/* strconv.ParseInt of (neg ? "-" : "") + s, where s has had its sign taken. */
static bool go_int_from(bool neg, const char *s, size_t n, int base, int64_t *ret)
{
	uint64_t u;
	if (!go_parse_uint(s, n, base, &u))
		return false;
	if (!neg && u > (uint64_t)INT64_MAX)
		return false;
	if (neg && u > (uint64_t)INT64_MAX + 1)
		return false;
	*ret = neg ? (int64_t)(0 - u) : (int64_t)u;
	return true;
}

static bool go_parse_int(const char *s, size_t n, int base, int64_t *ret)
{
	bool neg = n > 0 && s[0] == '-';
	if (n > 0 && (s[0] == '+' || s[0] == '-'))
		s++, n--;
	return go_int_from(neg, s, n, base, ret);
}

static locale_t c_numeric;
static pthread_once_t c_numeric_once = PTHREAD_ONCE_INIT;

static void c_numeric_init(void)
{
	c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* A correctly rounded decimal (text already checked, NUL-terminated),
 * whatever LC_NUMERIC the program runs under. False on overflow, which
 * Go's ParseFloat reports as an error; underflow to zero is fine. */
static bool parse_decimal(const char *text, double *ret)
{
	pthread_once(&c_numeric_once, c_numeric_init);
	double d = c_numeric ? strtod_l(text, NULL, c_numeric) : strtod(text, NULL);
	if (isinf(d))
		return false;
	*ret = d;
	return true;
}

static size_t skip_digits(const char *s, size_t n, size_t *i)
{
	size_t start = *i;
	while (*i < n && s[*i] >= '0' && s[*i] <= '9')
		(*i)++;
	return *i - start;
}

/* resolve.go's yamlStyleFloat:
 * ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_style_float(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i < n && s[i] == '.') {
		i++;
		if (!skip_digits(s, n, &i))
			return false;
	} else {
		if (!skip_digits(s, n, &i))
			return false;
		if (i < n && s[i] == '.') {
			i++;
			skip_digits(s, n, &i);
		}
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!skip_digits(s, n, &i))
			return false;
	}
	return i == n;
}

/* strconv's underscoreOK for decimal text: every '_' sits between digits. */
static bool underscores_ok(const char *s, size_t n)
{
	char saw = '^';
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			saw = '0';
		} else if (s[i] == '_') {
			if (saw != '0')
				return false;
			saw = '_';
		} else {
			if (saw == '_')
				return false;
			saw = '!';
		}
	}
	return saw != '_';
}

/* The text without its underscores, NUL-terminated; buf when it fits. */
static char *strip_underscores(const char *s, size_t n, char *buf, size_t buf_size, size_t *ret_n)
{
	char *out = n < buf_size ? buf : sl_xmalloc(n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '_')
			out[k++] = s[i];
	out[k] = '\0';
	*ret_n = k;
	return out;
}

/* strconv.ParseFloat of text starting with '.': Go's float literal syntax
 * (underscores between digits allowed), e.g. ".5", ".5e3", ".5_5". */
static bool go_parse_float_dot(const char *s, size_t n, double *ret)
{
	size_t i = 1, digits = 0;
	for (; i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'); i++)
		digits += s[i] != '_';
	if (!digits)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return false;
		while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			i++;
	}
	if (i != n || !underscores_ok(s, n))
		return false;
	char buf[128];
	size_t k;
	char *text = strip_underscores(s, n, buf, sizeof(buf), &k);
	bool ok = parse_decimal(text, ret);
	if (text != buf)
		free(text);
	return ok;
}

/* ---- Go's time.Parse --------------------------------------------------- */

struct go_time {
	int year, month, day, hour, min, sec;
	long nsec;
	int offset_min; /* east of UTC */
};

/* time's getnum: one or two digits (two when fixed). */
static bool get_num(const char *s, size_t n, size_t *i, bool fixed, int *ret)
{
	if (*i >= n || s[*i] < '0' || s[*i] > '9')
		return false;
	if (*i + 1 >= n || s[*i + 1] < '0' || s[*i + 1] > '9') {
		if (fixed)
			return false;
		*ret = s[(*i)++] - '0';
		return true;
	}
	*ret = (s[*i] - '0') * 10 + (s[*i + 1] - '0');
	*i += 2;
	return true;
}

static bool take(const char *s, size_t n, size_t *i, char c)
{
	if (*i >= n || s[*i] != c)
		return false;
	(*i)++;
	return true;
}

static int days_in(int month, int year)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
	return month == 2 && leap ? 29 : days[month - 1];
}

/* ".999999999": a ',' or '.' then any number of digits, nine counted. */
static void parse_fraction(const char *s, size_t n, size_t *i, long *nsec)
{
	if (*i + 1 >= n || (s[*i] != '.' && s[*i] != ',') || s[*i + 1] < '0' || s[*i + 1] > '9')
		return;
	(*i)++;
	long v = 0;
	int used = 0;
	for (; *i < n && s[*i] >= '0' && s[*i] <= '9'; (*i)++)
		if (used < 9)
			v = v * 10 + (s[*i] - '0'), used++;
	for (; used < 9; used++)
		v *= 10;
	*nsec = v;
}

/* "Z07:00": Z, or a sign and hh:mm (hours up to 24, minutes up to 60). */
static bool parse_zone(const char *s, size_t n, size_t *i, int *offset_min)
{
	if (*i < n && s[*i] == 'Z') {
		(*i)++;
		*offset_min = 0;
		return true;
	}
	if (n - *i < 6 || s[*i + 3] != ':')
		return false;
	char sign = s[*i];
	size_t h = *i + 1, m = *i + 4;
	int hh, mm;
	if (!get_num(s, n, &h, true, &hh) || !get_num(s, n, &m, true, &mm))
		return false;
	if (hh > 24 || mm > 60 || (sign != '+' && sign != '-'))
		return false;
	*offset_min = (sign == '-' ? -1 : 1) * (hh * 60 + mm);
	*i += 6;
	return true;
}

enum { LAYOUT_T, LAYOUT_LOWER_T, LAYOUT_SPACE, LAYOUT_DATE };

/* time.Parse with go-yaml v3's layouts: "2006-1-2T15:4:5.999999999Z07:00",
 * the same with 't', "2006-1-2 15:4:5.999999999" and "2006-1-2". */
static bool parse_layout(const char *s, size_t n, int layout, struct go_time *t)
{
	size_t i = 4;
	memset(t, 0, sizeof(*t));
	t->year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	if (!take(s, n, &i, '-') || !get_num(s, n, &i, false, &t->month) || t->month < 1 ||
	    t->month > 12 || !take(s, n, &i, '-') || !get_num(s, n, &i, false, &t->day))
		return false;
	if (layout != LAYOUT_DATE) {
		if (layout == LAYOUT_SPACE) {
			/* a space in a layout matches a run of spaces */
			if (i >= n || s[i] != ' ')
				return false;
			while (i < n && s[i] == ' ')
				i++;
		} else if (!take(s, n, &i, layout == LAYOUT_T ? 'T' : 't')) {
			return false;
		}
		if (!get_num(s, n, &i, false, &t->hour) || t->hour > 23 || !take(s, n, &i, ':') ||
		    !get_num(s, n, &i, false, &t->min) || t->min > 59 || !take(s, n, &i, ':') ||
		    !get_num(s, n, &i, false, &t->sec) || t->sec > 59)
			return false;
		parse_fraction(s, n, &i, &t->nsec);
		if (layout != LAYOUT_SPACE && !parse_zone(s, n, &i, &t->offset_min))
			return false;
	}
	return i == n && t->day >= 1 && t->day <= days_in(t->month, t->year);
}

/* Go's time.Time JSON: RFC 3339 with the fraction's trailing zeros
 * dropped, Z for a zero offset. */
static void format_time(const struct go_time *t, struct yr_value *out)
{
	char frac[12] = "";
	if (t->nsec) {
		snprintf(frac, sizeof(frac), ".%09ld", t->nsec);
		size_t k = strlen(frac);
		while (frac[k - 1] == '0')
			frac[--k] = '\0';
	}
	char zone[8] = "Z";
	if (t->offset_min) {
		int a = abs(t->offset_min);
		snprintf(zone, sizeof(zone), "%c%02d:%02d", t->offset_min < 0 ? '-' : '+',
		         a / 60 % 100, a % 60);
	}
	snprintf(out->time, sizeof(out->time), "%04d-%02d-%02dT%02d:%02d:%02d%s%s", t->year,
	         t->month, t->day, t->hour, t->min, t->sec, frac, zone);
	out->time_unencodable = abs(t->offset_min) / 60 >= 24;
}

bool sl_yaml_parse_timestamp(const char *s, size_t n, struct yr_value *out)
{
	/* resolve.go's quick check: all forms start with YYYY- */
	if (n < 5 || s[4] != '-')
		return false;
	for (int k = 0; k < 4; k++)
		if (s[k] < '0' || s[k] > '9')
			return false;
	struct go_time t;
	for (int layout = LAYOUT_T; layout <= LAYOUT_DATE; layout++) {
		if (parse_layout(s, n, layout, &t)) {
			out->kind = YR_TIME;
			format_time(&t, out);
			return true;
		}
	}
	return false;
}

/* ---- resolve.go -------------------------------------------------------- */

#define FIXED(text, kind, v)                                                                       \
	{                                                                                          \
		text, sizeof(text) - 1, kind, v                                                    \
	}

/* resolve.go's resolveMap; v is the bool, or the sign of an infinity (0 is
 * NaN) for floats. */
static const struct {
	const char *text;
	size_t len;
	enum yr_kind kind;
	int v;
} resolve_table[] = {
    FIXED("true", YR_BOOL, 1),    FIXED("True", YR_BOOL, 1),    FIXED("TRUE", YR_BOOL, 1),
    FIXED("false", YR_BOOL, 0),   FIXED("False", YR_BOOL, 0),   FIXED("FALSE", YR_BOOL, 0),
    FIXED("", YR_NULL, 0),        FIXED("~", YR_NULL, 0),       FIXED("null", YR_NULL, 0),
    FIXED("Null", YR_NULL, 0),    FIXED("NULL", YR_NULL, 0),    FIXED(".nan", YR_FLOAT, 0),
    FIXED(".NaN", YR_FLOAT, 0),   FIXED(".NAN", YR_FLOAT, 0),   FIXED(".inf", YR_FLOAT, 1),
    FIXED(".Inf", YR_FLOAT, 1),   FIXED(".INF", YR_FLOAT, 1),   FIXED("+.inf", YR_FLOAT, 1),
    FIXED("+.Inf", YR_FLOAT, 1),  FIXED("+.INF", YR_FLOAT, 1),  FIXED("-.inf", YR_FLOAT, -1),
    FIXED("-.Inf", YR_FLOAT, -1), FIXED("-.INF", YR_FLOAT, -1),
};

static bool resolve_fixed(const char *s, size_t n, struct yr_value *out)
{
	if (n > 5)
		return false;
	for (size_t k = 0; k < SL_ARRAY_SIZE(resolve_table); k++) {
		if (resolve_table[k].len != n || memcmp(resolve_table[k].text, s, n) != 0)
			continue;
		out->kind = resolve_table[k].kind;
		int v = resolve_table[k].v;
		if (out->kind == YR_BOOL)
			out->b = v;
		else if (out->kind == YR_FLOAT)
			out->f = v ? v * INFINITY : NAN;
		return true;
	}
	return false;
}

/* resolve.go's "0b"/"-0b"/"0o"/"-0o" fallbacks, reached when ParseInt with
 * base 0 failed: they take a sign after the prefix ("0b-101" is -5). */
static bool resolve_prefixed(const char *p, size_t n, struct yr_value *out)
{
	for (int base = 2; base <= 8; base += 6) {
		char letter = base == 2 ? 'b' : 'o';
		if (n >= 2 && p[0] == '0' && p[1] == letter) {
			if (go_parse_int(p + 2, n - 2, base, &out->i)) {
				out->kind = YR_INT;
				return true;
			}
			if (go_parse_uint(p + 2, n - 2, base, &out->u)) {
				out->kind = YR_UINT;
				return true;
			}
			return false;
		}
		if (n >= 3 && p[0] == '-' && p[1] == '0' && p[2] == letter) {
			if (!go_int_from(true, p + 3, n - 3, base, &out->i))
				return false;
			out->kind = YR_INT;
			return true;
		}
	}
	return false;
}

/* An int, uint, float or timestamp starting with a digit or a sign. */
static void resolve_number(const char *s, size_t n, bool try_time, struct yr_value *out)
{
	if (try_time && sl_yaml_parse_timestamp(s, n, out))
		return;
	char buf[128];
	size_t pn;
	char *p = strip_underscores(s, n, buf, sizeof(buf), &pn);
	if (go_parse_int(p, pn, 0, &out->i))
		out->kind = YR_INT;
	else if (go_parse_uint(p, pn, 0, &out->u))
		out->kind = YR_UINT;
	else if (yaml_style_float(p, pn) && parse_decimal(p, &out->f))
		out->kind = YR_FLOAT;
	else
		resolve_prefixed(p, pn, out);
	if (p != buf)
		free(p);
}

/* resolve() without a tag: the first character hints at what it may be
 * ("<<" is a string here: only the parser makes a plain << a merge key). */
static void resolve_text(const char *s, size_t n, bool try_time, struct yr_value *out)
{
	out->kind = YR_STR;
	char c = n ? s[0] : 0;
	bool sign = c == '+' || c == '-', digit = c >= '0' && c <= '9';
	if (n && !sign && !digit && c != '.' && (!c || !strchr("yYnNtTfFoO~", c)))
		return;
	if (resolve_fixed(s, n, out))
		return;
	if (c == '.') {
		double f;
		if (go_parse_float_dot(s, n, &f))
			out->kind = YR_FLOAT, out->f = f;
	} else if (sign || digit) {
		resolve_number(s, n, try_time, out);
	}
}

bool sl_yaml_tag_resolvable(const char *tag)
{
	static const char *const tags[] = {"!!str",   "!!bool", "!!int",
	                                   "!!float", "!!null", "!!timestamp"};
	if (!tag)
		return true;
	for (size_t k = 0; k < SL_ARRAY_SIZE(tags); k++)
		if (strcmp(tag, tags[k]) == 0)
			return true;
	return false;
}

static const char *kind_tag(enum yr_kind kind)
{
	switch (kind) {
	case YR_NULL: return "!!null";
	case YR_BOOL: return "!!bool";
	case YR_INT:
	case YR_UINT: return "!!int";
	case YR_FLOAT: return "!!float";
	case YR_TIME: return "!!timestamp";
	case YR_STR: break;
	}
	return "!!str";
}

/* text for a message: at most 64 bytes, cut between characters, control
 * characters as '?'. */
static void show_text(char *out, size_t size, const char *s, size_t n)
{
	size_t k = n > 64 ? 64 : n;
	while (k < n && k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
		k--;
	size_t i = 0;
	for (; i < k && i + 4 < size; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	snprintf(out + i, size - i, "%s", k < n ? "..." : "");
}

int sl_yaml_resolve(const char *tag, const char *s, size_t n, struct yr_value *out, char *msg,
                    size_t msg_size)
{
	out->kind = YR_STR;
	out->time_unencodable = false;
	if (tag && strcmp(tag, "!!str") == 0)
		return 0;
	resolve_text(s, n, !tag || strcmp(tag, "!!timestamp") == 0, out);
	if (!tag || strcmp(tag, kind_tag(out->kind)) == 0)
		return 0;
	if (strcmp(tag, "!!float") == 0 && out->kind == YR_INT) {
		out->kind = YR_FLOAT;
		out->f = (double)out->i;
		return 0;
	}
	char shown[80];
	show_text(shown, sizeof(shown), s, n);
	snprintf(msg, msg_size, "cannot decode %s `%s` as a %s", kind_tag(out->kind), shown, tag);
	return -1;
}

/* ---- folded scalars through go-yaml v3's emitter ----------------------- */

static size_t break_width(const unsigned char *v, size_t n, size_t i)
{
	if (i >= n)
		return 0;
	if (v[i] == '\n' || v[i] == '\r')
		return 1;
	if (v[i] == 0xC2 && i + 1 < n && v[i + 1] == 0x85)
		return 2;
	if (v[i] == 0xE2 && i + 2 < n && v[i + 1] == 0x80 && (v[i + 2] == 0xA8 || v[i + 2] == 0xA9))
		return 3;
	return 0;
}

static size_t char_width(unsigned char c)
{
	return (c & 0x80) == 0 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
}

/* emitterc.go's is_printable (the emitter runs with unicode on). */
static bool v3_printable(const unsigned char *v, size_t n, size_t i)
{
	unsigned char b0 = v[i], b1 = i + 1 < n ? v[i + 1] : 0, b2 = i + 2 < n ? v[i + 2] : 0;
	return b0 == 0x0A || (b0 >= 0x20 && b0 <= 0x7E) || (b0 == 0xC2 && b1 >= 0xA0) ||
	       (b0 > 0xC2 && b0 < 0xED) || (b0 == 0xED && b1 < 0xA0) || b0 == 0xEE ||
	       (b0 == 0xEF && !(b1 == 0xBB && b2 == 0xBF) &&
	        !(b1 == 0xBF && (b2 == 0xBE || b2 == 0xBF)));
}

/* yaml_emitter_analyze_scalar's block_allowed, and whether it is multiline. */
static bool v3_block_allowed(const unsigned char *v, size_t n, bool *multiline)
{
	bool prev_space = false;
	*multiline = false;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i += char_width(v[i])) {
		if (v[i] != '\t' && !v3_printable(v, n, i))
			return false;
		if (v[i] == ' ') {
			if (i + 1 == n)
				return false; /* trailing space */
			prev_space = true;
		} else if (break_width(v, n, i)) {
			if (prev_space)
				return false; /* space before a break */
			*multiline = true;
			prev_space = false;
		} else {
			prev_space = false;
		}
	}
	return true;
}

/* yaml_emitter_write_block_scalar_hints: indentation and chomping. */
static void folded_header(struct sl_buf *out, const unsigned char *v, size_t n)
{
	sl_buf_append(out, "--- >", 5);
	if (v[0] == ' ' || break_width(v, n, 0))
		sl_buf_append(out, "2", 1);
	size_t last = n - 1;
	while (last > 0 && (v[last] & 0xC0) == 0x80)
		last--;
	if (!break_width(v, n, last)) {
		sl_buf_append(out, "-", 1);
	} else if (last == 0) {
		sl_buf_append(out, "+", 1);
	} else {
		size_t prev = last - 1;
		while (prev > 0 && (v[prev] & 0xC0) == 0x80)
			prev--;
		if (break_width(v, n, prev))
			sl_buf_append(out, "+", 1);
	}
	sl_buf_append(out, "\n", 1);
}

/* yaml_emitter_write_folded_scalar, bug included: it decides whether a line
 * break needs a second one by looking at the start of the whole value
 * (k := 0) instead of the text after the break, so every break after a
 * non-indented line is doubled, even before a more-indented line or at the
 * end. Long lines are not folded here: a fold reads back as the space it
 * replaced. */
static void folded_body(struct sl_buf *out, const unsigned char *v, size_t n)
{
	size_t k = 0, w;
	while ((w = break_width(v, n, k)))
		k += w;
	bool doubles = k < n && v[k] != ' ' && v[k] != '\t';
	bool breaks = true, leading_spaces = true;
	for (size_t i = 0; i < n;) {
		if ((w = break_width(v, n, i))) {
			if (!breaks && !leading_spaces && v[i] == '\n' && doubles)
				sl_buf_append(out, "\n", 1);
			sl_buf_append(out, v + i, w);
			i += w;
			breaks = true;
			continue;
		}
		if (breaks) {
			sl_buf_append(out, "  ", 2);
			leading_spaces = v[i] == ' ' || v[i] == '\t';
		}
		w = char_width(v[i]);
		if (i + w > n)
			w = n - i;
		sl_buf_append(out, v + i, w);
		i += w;
		breaks = false;
	}
}

/* Reads back the one scalar of a document; NULL on any error. */
static char *read_back(const char *text, size_t len, size_t *ret_len)
{
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p))
		return NULL;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	char *value = NULL;
	for (;;) {
		yaml_event_t e;
		if (!yaml_parser_parse(&p, &e))
			break;
		bool done = e.type == YAML_STREAM_END_EVENT || e.type == YAML_SCALAR_EVENT;
		if (e.type == YAML_SCALAR_EVENT) {
			value = sl_xmalloc(e.data.scalar.length + 1);
			memcpy(value, e.data.scalar.value, e.data.scalar.length + 1);
			*ret_len = e.data.scalar.length;
		}
		yaml_event_delete(&e);
		if (done)
			break;
	}
	yaml_parser_delete(&p);
	return value;
}

char *sl_yaml_folded_round_trip(const char *value, size_t len, bool flow, bool key, size_t *ret_len)
{
	const unsigned char *v = (const unsigned char *)value;
	bool multiline;
	/* v3 writes a folded scalar double-quoted in a flow collection, as a
	 * simple key (one line, at most 128 bytes), or when its analysis
	 * forbids a block scalar: then the value survives as it is. */
	if (flow || !v3_block_allowed(v, len, &multiline) || (key && !multiline && len <= 128))
		return NULL;
	_cleanup_buf_ struct sl_buf text;
	sl_buf_init(&text, 0);
	folded_header(&text, v, len);
	folded_body(&text, v, len);
	return read_back(text.data, text.len, ret_len);
}
