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
	double ns;
} units[] = {
	{"ns", 1},      {"us", 1e3},      {"µs", 1e3},       {"μs", 1e3},
	{"ms", 1e6},    {"s", 1e9},       {"m", 60e9},       {"h", 3600e9},
};

int sl_duration_parse(const char *text, int64_t *ret_ms, struct sl_error *err)
{
	const char *p = text;
	bool negative = false;
	if (*p == '+' || *p == '-')
		negative = *p++ == '-';
	if (strcmp(p, "0") == 0) {
		*ret_ms = 0;
		return 0;
	}
	if (!*p)
		return sl_error_set(err, SL_EINVAL, "invalid duration \"%s\"", text);

	double total_ns = 0;
	while (*p) {
		if (!isdigit((unsigned char)*p) && *p != '.')
			return sl_error_set(err, SL_EINVAL, "invalid duration \"%s\"", text);
		char *end;
		double v = strtod(p, &end);
		if (end == p)
			return sl_error_set(err, SL_EINVAL, "invalid duration \"%s\"", text);
		p = end;
		size_t best = 0;
		double unit_ns = 0;
		for (size_t i = 0; i < SL_ARRAY_SIZE(units); i++) {
			size_t n = strlen(units[i].name);
			if (n > best && strncmp(p, units[i].name, n) == 0) {
				best = n;
				unit_ns = units[i].ns;
			}
		}
		if (!best)
			return sl_error_set(err, SL_EINVAL, "missing unit in duration \"%s\"", text);
		p += best;
		total_ns += v * unit_ns;
		if (total_ns > 9.2e18)
			return sl_error_set(err, SL_EINVAL, "invalid duration \"%s\"", text);
	}
	if (negative)
		return sl_error_set(err, SL_EINVAL, "negative duration \"%s\"", text);
	int64_t ms = (int64_t)(total_ns / 1e6);
	/* A positive duration below a millisecond still means "almost no time",
	 * not "no timeout". */
	if (ms == 0 && total_ns > 0)
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
	if (*p == '.') {
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
	       digits(p + 4, 2, &om) && p[6] == '\0' && oh < 24 && om < 60;
}
