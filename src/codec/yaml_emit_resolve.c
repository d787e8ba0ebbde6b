/* go-yaml v2's YAML 1.1 resolver (resolve.go), asked one question: would
 * this text, written plain, read back as something other than a string?
 * Its encoder double-quotes the strings for which it would: bools in all
 * their YAML 1.1 spellings, nulls, integers in Go's base-0 syntax once
 * underscores are removed, floats, timestamps, and base-60 numbers (which it
 * quotes though it no longer reads them). Every Go parser it leans on
 * (strconv.ParseInt/ParseUint/ParseFloat, time.Parse) is reproduced for the
 * inputs that reach it here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/yaml_emit_private.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* strconv's underscoreOK: '_' only between digits (a base prefix counts as
 * a digit). */
static bool underscore_ok(const char *s, size_t n)
{
	char saw = '^';
	size_t i = 0;
	if (n >= 1 && (s[0] == '-' || s[0] == '+'))
		i = 1;
	bool hex = false;
	if (n - i >= 2 && s[i] == '0' && s[i + 1] && strchr("bBoOxX", s[i + 1])) {
		hex = (s[i + 1] | 0x20) == 'x';
		i += 2;
		saw = '0';
	}
	for (; i < n; i++) {
		char c = s[i];
		if (is_digit(c) || (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')) {
			saw = '0';
		} else if (c == '_') {
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

/* Whether a decimal number (syntax already checked) is beyond float64:
 * strconv.ParseFloat's ErrRange. Read without a decimal point so that the
 * locale does not matter. */
static bool decimal_overflows(const char *s, size_t n)
{
	/* s = 0.DIGITS * 10^(dp + exp), DIGITS without leading zeros */
	char *digits = sl_xmalloc(n + 32);
	size_t nd = 0, i = 0;
	long dp = 0, exp = 0;
	bool sawdot = false;
	if (s[0] == '+' || s[0] == '-')
		i++;
	for (; i < n && s[i] != 'e' && s[i] != 'E'; i++) {
		if (s[i] == '.') {
			sawdot = true;
		} else if (is_digit(s[i]) && nd == 0 && s[i] == '0') {
			dp -= sawdot;
		} else if (is_digit(s[i])) {
			digits[nd++] = s[i];
			dp += !sawdot;
		}
	}
	if (i < n) {
		i++;
		bool neg = s[i] == '-';
		for (; i < n; i++)
			if (is_digit(s[i]) && exp < 100000)
				exp = exp * 10 + (s[i] - '0');
		if (neg)
			exp = -exp;
	}
	bool over = false;
	if (nd > 0) {
		snprintf(digits + nd, 32, "e%ld", dp + exp - (long)nd);
		over = isinf(strtod(digits, NULL));
	}
	free(digits);
	return over;
}

/* strconv.ParseFloat(s, 64) succeeds, for the decimal syntax (the only one
 * that reaches it here: hex floats and "inf" never do). */
static bool go_parse_float_ok(const char *s, size_t n)
{
	size_t i = 0;
	bool sawdot = false, sawdigits = false, underscores = false;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < n; i++) {
		if (s[i] == '_')
			underscores = true;
		else if (s[i] == '.' && !sawdot)
			sawdot = true;
		else if (is_digit(s[i]))
			sawdigits = true;
		else
			break;
	}
	if (!sawdigits)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !is_digit(s[i]))
			return false;
		for (; i < n && (is_digit(s[i]) || s[i] == '_'); i++)
			underscores |= s[i] == '_';
	}
	if (i != n || (underscores && !underscore_ok(s, n)))
		return false;
	return !decimal_overflows(s, n);
}

/* go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_float_syntax(const char *s, size_t n)
{
	size_t i = 0, start;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i < n && s[i] == '.') {
		for (start = ++i; i < n && is_digit(s[i]); i++)
			;
		if (i == start)
			return false;
	} else {
		for (start = i; i < n && is_digit(s[i]); i++)
			;
		if (i == start)
			return false;
		if (i < n && s[i] == '.')
			for (i++; i < n && is_digit(s[i]); i++)
				;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (start = i; i < n && is_digit(s[i]); i++)
			;
		if (i == start)
			return false;
	}
	return i == n;
}

/* strconv.ParseUint(s, base, 64) for base 0 (prefix decides) or 2. */
static bool go_parse_uint(const char *s, size_t n, unsigned base, uint64_t *ret)
{
	size_t i = 0;
	if (n == 0)
		return false;
	if (base == 0) {
		base = 10;
		if (s[0] == '0') {
			char p = n >= 3 ? (char)(s[1] | 0x20) : 0;
			base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 8;
			i = p == 'x' || p == 'o' || p == 'b' ? 2 : 1;
		}
	}
	uint64_t v = 0;
	for (; i < n; i++) {
		char c = s[i], lc = (char)(c | 0x20);
		unsigned d = is_digit(c)              ? (unsigned)(c - '0')
		             : lc >= 'a' && lc <= 'z' ? (unsigned)(lc - 'a' + 10)
		                                      : 99;
		if (d >= base || __builtin_mul_overflow(v, base, &v) ||
		    __builtin_add_overflow(v, d, &v))
			return false;
	}
	*ret = v;
	return true;
}

/* strconv.ParseInt(s, base, 64) succeeds, or ParseUint does. */
static bool go_parse_int(const char *s, size_t n, unsigned base)
{
	uint64_t v;
	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		if (!go_parse_uint(s + 1, n - 1, base, &v))
			return false;
		return v <= (uint64_t)INT64_MAX + (s[0] == '-');
	}
	return go_parse_uint(s, n, base, &v);
}

static int days_in_month(int month, int year)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
	return month == 2 && leap ? 29 : days[month - 1];
}

/* Go's time.Parse getnum: one or two digits (exactly two when fixed). */
static bool getnum(const char *s, size_t n, size_t *i, bool fixed, int *ret)
{
	if (*i >= n || !is_digit(s[*i]))
		return false;
	if (*i + 1 >= n || !is_digit(s[*i + 1])) {
		if (fixed)
			return false;
		*ret = s[(*i)++] - '0';
		return true;
	}
	*ret = (s[*i] - '0') * 10 + (s[*i + 1] - '0');
	*i += 2;
	return true;
}

/* go-yaml v2's parseTimestamp: time.Parse with "2006-1-2T15:4:5.999999999Z07:00",
 * the same with 't', "2006-1-2 15:4:5.999999999" and "2006-1-2". */
static bool is_timestamp(const char *s, size_t n)
{
	size_t i = 0;
	int month, day, hour, min, sec, tzh, tzm;
	if (n < 5 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]) || !is_digit(s[3]) ||
	    s[4] != '-')
		return false;
	int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	i = 5;
	if (!getnum(s, n, &i, false, &month) || i >= n || s[i++] != '-' ||
	    !getnum(s, n, &i, false, &day))
		return false;
	if (month < 1 || month > 12 || day < 1 || day > days_in_month(month, year))
		return false;
	if (i == n)
		return true;
	char sep = s[i++];
	if (sep != 'T' && sep != 't' && sep != ' ')
		return false;
	if (!getnum(s, n, &i, false, &hour) || hour > 23 || i >= n || s[i++] != ':' ||
	    !getnum(s, n, &i, false, &min) || min > 59 || i >= n || s[i++] != ':' ||
	    !getnum(s, n, &i, false, &sec) || sec > 59)
		return false;
	if (i + 1 < n && (s[i] == '.' || s[i] == ',') && is_digit(s[i + 1]))
		for (i++; i < n && is_digit(s[i]); i++)
			;
	if (sep == ' ')
		return i == n;
	if (i < n && s[i] == 'Z')
		return i + 1 == n;
	if (n - i != 6 || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':')
		return false;
	i++;
	if (!getnum(s, n, &i, true, &tzh) || s[i++] != ':' || !getnum(s, n, &i, true, &tzm))
		return false;
	return tzh <= 24 && tzm <= 60;
}

/* go-yaml v2's isBase60Float: [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)? */
static bool is_base60_float(const char *s, size_t n)
{
	size_t i = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i >= n || !is_digit(s[i]))
		return false;
	for (i++; i < n && (is_digit(s[i]) || s[i] == '_'); i++)
		;
	bool groups = false;
	while (i < n && s[i] == ':') {
		i++;
		if (i + 1 < n && s[i] >= '0' && s[i] <= '5' && is_digit(s[i + 1]))
			i += 2;
		else if (i < n && is_digit(s[i]))
			i++;
		else
			return false;
		groups = true;
	}
	if (!groups)
		return false;
	if (i < n && s[i] == '.')
		for (i++; i < n && (is_digit(s[i]) || s[i] == '_'); i++)
			;
	return i == n;
}

/* Whether go-yaml v2's resolve("", s) gives anything but a string: bools
 * (y/yes/on/...), nulls, ints (underscores removed), floats, timestamps. */
static bool resolves_to_other_type(const char *s, size_t n)
{
	static const char *const words[] = {
	    "y",    "Y",    "yes",   "Yes",   "YES",   "true",  "True",  "TRUE",  "on",    "On",
	    "ON",   "n",    "N",     "no",    "No",    "NO",    "false", "False", "FALSE", "off",
	    "Off",  "OFF",  "~",     "null",  "Null",  "NULL",  ".nan",  ".NaN",  ".NAN",  ".inf",
	    ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
	};
	if (n == 0)
		return true;
	char c = s[0];
	bool number = is_digit(c) || c == '+' || c == '-';
	if (!number && c != '.' && (c == '\0' || !strchr("yYnNtTfFoO~", c)))
		return false;
	for (size_t k = 0; k < SL_ARRAY_SIZE(words); k++)
		if (strlen(words[k]) == n && memcmp(words[k], s, n) == 0)
			return true;
	if (c == '.')
		return go_parse_float_ok(s, n);
	if (!number)
		return false;
	if (is_timestamp(s, n))
		return true;

	char small[64];
	char *plain = n < sizeof(small) ? small : sl_xmalloc(n + 1);
	size_t pn = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '_')
			plain[pn++] = s[i];
	bool other =
	    go_parse_int(plain, pn, 0) ||
	    (yaml_float_syntax(plain, pn) && go_parse_float_ok(plain, pn)) ||
	    /* ParseInt(plain[2:], 2, 64) takes a sign after the prefix */
	    (pn > 2 && plain[0] == '0' && plain[1] == 'b' && go_parse_int(plain + 2, pn - 2, 2));
	if (plain != small)
		free(plain);
	return other;
}

bool sl_yaml_plain_is_not_string(const char *s, size_t n)
{
	return resolves_to_other_type(s, n) || is_base60_float(s, n);
}
