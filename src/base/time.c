#include <ctype.h>
#include <string.h>
#include <time.h>

#include "base.h"

int64_t sl_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sl_time_rfc3339_now(char out[32])
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Go's units, in nanoseconds. */
static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
    {"ns", 1},       {"us", 1000},         {"\u00b5s", 1000},     {"\u03bcs", 1000},
    {"ms", 1000000}, {"s", 1000000000ull}, {"m", 60000000000ull}, {"h", 3600000000000ull},
};

#define DURATION_MAX ((uint64_t)1 << 63)

/* time.ParseDuration, in integers as Go does it: [-+]?([0-9]*(\.[0-9]*)?unit)+ */
int sl_duration_parse(const char *text, int64_t *ret_ms, struct sl_error *err)
{
	const char *s = text;
	bool negative = false;
	if (*s == '+' || *s == '-')
		negative = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ret_ms = 0;
		return 0;
	}
	if (!*s)
		return sl_error_set(err, SL_EINVAL, "invalid duration \"%s\"", text);

	uint64_t total = 0;
	while (*s) {
		if (*s != '.' && !isdigit((unsigned char)*s))
			return sl_error_set(err, SL_EINVAL, "invalid duration \"%s\"", text);
		uint64_t v = 0;
		const char *start = s;
		for (; isdigit((unsigned char)*s); s++) {
			if (v > DURATION_MAX / 10)
				return sl_error_set(err, SL_EINVAL, "invalid duration \"%s\"",
				                    text);
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > DURATION_MAX)
				return sl_error_set(err, SL_EINVAL, "invalid duration \"%s\"",
				                    text);
		}
		bool pre = s != start, post = false;
		uint64_t frac = 0, scale = 1;
		if (*s == '.') {
			start = ++s;
			bool overflow = false;
			for (; isdigit((unsigned char)*s); s++) {
				/* Digits past what fits in 63 bits cannot change the result. */
				if (overflow || frac > (DURATION_MAX - 1) / 10) {
					overflow = true;
					continue;
				}
				frac = frac * 10 + (uint64_t)(*s - '0');
				scale *= 10;
			}
			post = s != start;
		}
		if (!pre && !post)
			return sl_error_set(err, SL_EINVAL, "invalid duration \"%s\"", text);
		start = s;
		while (*s && *s != '.' && !isdigit((unsigned char)*s))
			s++;
		if (s == start)
			return sl_error_set(err, SL_EINVAL, "missing unit in duration \"%s\"",
			                    text);
		uint64_t unit = 0;
		for (size_t i = 0; i < SL_ARRAY_SIZE(units); i++)
			if (strlen(units[i].name) == (size_t)(s - start) &&
			    strncmp(start, units[i].name, (size_t)(s - start)) == 0)
				unit = units[i].ns;
		if (!unit)
			return sl_error_set(err, SL_EINVAL,
			                    "unknown unit \"%.*s\" in duration \"%s\"",
			                    (int)(s - start), start, text);
		if (v > DURATION_MAX / unit)
			return sl_error_set(err, SL_EINVAL, "invalid duration \"%s\"", text);
		v *= unit;
		if (frac > 0) {
			v += (uint64_t)((double)frac * ((double)unit / (double)scale));
			if (v > DURATION_MAX)
				return sl_error_set(err, SL_EINVAL, "invalid duration \"%s\"",
				                    text);
		}
		total += v;
		if (total > DURATION_MAX)
			return sl_error_set(err, SL_EINVAL, "invalid duration \"%s\"", text);
	}
	if (total == DURATION_MAX || (negative && total))
		return sl_error_set(err, SL_EINVAL, "%s duration \"%s\"",
		                    negative ? "negative" : "invalid", text);
	int64_t ms = (int64_t)(total / 1000000);
	/* A positive duration below a millisecond still means "almost no time",
	 * not "no timeout". */
	if (ms == 0 && total > 0)
		ms = 1;
	*ret_ms = ms;
	return 0;
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool sl_time_rfc3339_valid(const char *t)
{
	int year, mon, day, hh, mm, ss;
	if (strlen(t) < 20)
		return false;
	if (!digits(t, 4, &year) || t[4] != '-' || !digits(t + 5, 2, &mon) || t[7] != '-' ||
	    !digits(t + 8, 2, &day) || t[10] != 'T' || !digits(t + 11, 2, &hh) || t[13] != ':' ||
	    !digits(t + 14, 2, &mm) || t[16] != ':' || !digits(t + 17, 2, &ss))
		return false;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] || hh > 23 || mm > 59 || ss > 59)
		return false;
	if (mon == 2 && day == 29 && !((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
		return false;
	const char *p = t + 19;
	/* Go's parser takes a comma before the fraction too. */
	if (*p == '.' || *p == ',') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (strcmp(p, "Z") == 0)
		return true;
	int oh, om;
	return (p[0] == '+' || p[0] == '-') && digits(p + 1, 2, &oh) && p[3] == ':' &&
	       digits(p + 4, 2, &om) && p[6] == '\0' && oh <= 24 && om < 60;
}
