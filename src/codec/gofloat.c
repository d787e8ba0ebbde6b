/* Go's text for a float64, without Go: the shortest decimal digits that read
 * back as the same value (strconv's precision -1), laid out as
 * strconv.FormatFloat's 'e', 'f' and 'g' formats and encoding/json do.
 *
 * The digits come from printf's correctly rounded "%.*e" at growing
 * precision, checked by reading them back with strtod. Both are used without
 * a decimal point (the digits are collected, and read back as an integer
 * mantissa with an exponent), so the process locale cannot change them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/yaml_emit_private.h"

/* x = 0.d[0]d[1]...d[nd-1] * 10^dp, d without trailing zeros. */
struct decimal {
	char d[24];
	int nd;
	int dp;
};

/* Whether the nd digits d, the first of which stands for 10^exp10, read
 * back as x. */
static bool reads_back(const char *d, int nd, int exp10, double x)
{
	char text[48];
	snprintf(text, sizeof(text), "%.*se%d", nd, d, exp10 - (nd - 1));
	return strtod(text, NULL) == x;
}

/* The nd-digit decimal next to d (up or down), adjusting *exp10 when it
 * crosses a power of ten. */
static void step(char *d, int nd, int dir, int *exp10)
{
	int i = nd - 1;
	if (dir > 0) {
		for (; i >= 0 && d[i] == '9'; i--)
			d[i] = '0';
		if (i >= 0) {
			d[i]++;
		} else {
			d[0] = '1';
			(*exp10)++;
		}
		return;
	}
	for (; i >= 0 && d[i] == '0'; i--)
		d[i] = '9';
	d[i]--; /* d[0] is never '0', so i >= 0 */
	if (d[0] == '0') {
		memset(d, '9', (size_t)nd);
		(*exp10)--;
	}
}

/* The shortest digits of x > 0 that read back as x; among several of that
 * length the closest to x, as Go's shortest formatting picks. The nearest
 * decimal of a length is tried first; when it falls outside the interval
 * that reads back as x (which is lopsided at powers of two) only its
 * neighbour on the other side of x can be inside. */
static void shortest(double x, struct decimal *out)
{
	for (int prec = 1; prec <= 17; prec++) {
		char text[40], d[24];
		int nd = 0;
		snprintf(text, sizeof(text), "%.*e", prec - 1, x);
		const char *p = text;
		for (; *p && *p != 'e'; p++)
			if (*p >= '0' && *p <= '9')
				d[nd++] = *p;
		int exp10 = *p ? atoi(p + 1) : 0;
		bool found = reads_back(d, nd, exp10, x);
		for (int dir = 1; !found && dir >= -1; dir -= 2) {
			char alt[24];
			int alt_exp = exp10;
			memcpy(alt, d, (size_t)nd);
			step(alt, nd, dir, &alt_exp);
			if (reads_back(alt, nd, alt_exp, x)) {
				memcpy(d, alt, (size_t)nd);
				exp10 = alt_exp;
				found = true;
			}
		}
		if (!found && prec < 17)
			continue;
		while (nd > 1 && d[nd - 1] == '0')
			nd--;
		memcpy(out->d, d, (size_t)nd);
		out->nd = nd;
		out->dp = exp10 + 1;
		return;
	}
}

/* strconv's %e with the shortest digits: 1e-05, 1.5e+06, 6.0221409e+23. */
static void fmt_e(char *p, bool neg, const struct decimal *g)
{
	if (neg)
		*p++ = '-';
	*p++ = g->d[0];
	if (g->nd > 1) {
		*p++ = '.';
		memcpy(p, g->d + 1, (size_t)g->nd - 1);
		p += g->nd - 1;
	}
	*p++ = 'e';
	int exp = g->dp - 1;
	*p++ = exp < 0 ? '-' : '+';
	if (exp < 0)
		exp = -exp;
	if (exp >= 100)
		*p++ = (char)('0' + exp / 100);
	*p++ = (char)('0' + exp / 10 % 10);
	*p++ = (char)('0' + exp % 10);
	*p = '\0';
}

/* strconv's %f with the shortest digits: 0.0001, 123456.5, 100000. */
static void fmt_f(char *p, bool neg, const struct decimal *g)
{
	if (neg)
		*p++ = '-';
	if (g->dp > 0) {
		int m = g->nd < g->dp ? g->nd : g->dp;
		memcpy(p, g->d, (size_t)m);
		p += m;
		for (; m < g->dp; m++)
			*p++ = '0';
	} else {
		*p++ = '0';
	}
	int prec = g->nd - g->dp;
	if (prec > 0) {
		*p++ = '.';
		for (int i = 1; i <= prec; i++) {
			int j = g->dp + i - 1;
			*p++ = j >= 0 && j < g->nd ? g->d[j] : '0';
		}
	}
	*p = '\0';
}

/* Whether the integer text (optional '-', digits) fits int64, or uint64
 * when positive: what strconv.ParseInt, then ParseUint, accept. */
static bool fits_go_int(const char *text)
{
	bool neg = *text == '-';
	uint64_t v = 0;
	for (const char *p = text + neg; *p; p++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			return false;
	}
	return neg ? v <= (uint64_t)INT64_MAX + 1 : true;
}

const char *sl_gofloat_nonfinite_name(double x)
{
	if (isnan(x))
		return "NaN";
	return x > 0 ? "+Inf" : "-Inf";
}

int sl_gofloat_yaml(double x, char out[SL_GOFLOAT_MAX])
{
	if (!isfinite(x))
		return SL_EINVAL;
	if (x == 0) {
		strcpy(out, "0"); /* "-0" from JSON reads back as the integer 0 */
		return 0;
	}
	struct decimal g;
	bool neg = signbit(x);
	double abs = fabs(x);
	shortest(abs, &g);
	/* JSON writes an integral value below 1e21 as plain digits; go-yaml
	 * reads those back as an integer whenever one holds them. */
	if (abs < 1e21 && g.dp >= g.nd) {
		fmt_f(out, neg, &g);
		if (fits_go_int(out))
			return 0;
	}
	/* Otherwise go-yaml reads back the same float64 and prints it with
	 * strconv.FormatFloat(x, 'g', -1, 64). */
	int exp = g.dp - 1;
	if (exp < -4 || exp >= 6)
		fmt_e(out, neg, &g);
	else
		fmt_f(out, neg, &g);
	return 0;
}

int sl_gofloat_json(double x, char out[SL_GOFLOAT_MAX])
{
	if (!isfinite(x))
		return SL_EINVAL;
	if (x == 0) {
		strcpy(out, signbit(x) ? "-0" : "0");
		return 0;
	}
	struct decimal g;
	double abs = fabs(x);
	shortest(abs, &g);
	/* encoding/json: %f between 1e-6 and 1e21, else %e with a one-digit
	 * negative exponent ("1e-7", but "1e+21"). */
	if (abs >= 1e-6 && abs < 1e21) {
		fmt_f(out, signbit(x), &g);
		return 0;
	}
	fmt_e(out, signbit(x), &g);
	size_t n = strlen(out);
	if (n >= 4 && out[n - 4] == 'e' && out[n - 3] == '-' && out[n - 2] == '0') {
		out[n - 2] = out[n - 1];
		out[n - 1] = '\0';
	}
	return 0;
}
