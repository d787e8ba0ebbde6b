/* WWW-Authenticate: scheme followed by comma-separated auth-params whose
 * values are tokens or quoted strings (RFC 7235 §2.1, RFC 7230 §3.2.6). */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "oci/oci.h"

#define MAX_PARAM_BYTES 8192

void sl_auth_challenge_clear(struct sl_auth_challenge *c)
{
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	*c = (struct sl_auth_challenge){0};
}

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

/* Reads a token or quoted-string value at *p into out. */
static int read_value(const char **p, struct sl_buf *out, struct sl_error *err)
{
	const char *s = *p;
	if (*s == '"') {
		s++;
		while (*s && *s != '"') {
			if (*s == '\\' && s[1])
				s++;
			if (sl_buf_append(out, s, 1) < 0)
				return sl_error_set(err, SL_ELIMIT,
				                    "authentication challenge too long");
			s++;
		}
		if (*s != '"')
			return sl_error_set(
			    err, SL_EINVAL,
			    "unterminated quoted string in authentication challenge");
		s++;
	} else {
		const char *start = s;
		while (*s && *s != ',' && *s != ' ' && *s != '\t')
			s++;
		if (sl_buf_append(out, start, (size_t)(s - start)) < 0)
			return sl_error_set(err, SL_ELIMIT, "authentication challenge too long");
	}
	*p = s;
	return 0;
}

int sl_auth_challenge_parse(const char *header, struct sl_auth_challenge *ret, struct sl_error *err)
{
	struct sl_auth_challenge c = {0};
	const char *p = header;
	skip_ws(&p);
	const char *start = p;
	while (*p && *p != ' ' && *p != '\t' && *p != ',')
		p++;
	if (p == start)
		return sl_error_set(err, SL_EINVAL, "empty authentication challenge");
	c.scheme = sl_strndup(start, (size_t)(p - start));
	for (char *s = c.scheme; *s; s++)
		*s = (char)tolower((unsigned char)*s);

	_cleanup_buf_ struct sl_buf value;
	sl_buf_init(&value, MAX_PARAM_BYTES);
	for (;;) {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		const char *key = p;
		while (*p && *p != '=' && *p != ' ' && *p != '\t' && *p != ',')
			p++;
		size_t key_len = (size_t)(p - key);
		skip_ws(&p);
		if (*p != '=')
			break; /* a second challenge or a token68: the first one is complete */
		p++;
		skip_ws(&p);
		sl_buf_reset(&value);
		int r = read_value(&p, &value, err);
		if (r < 0) {
			sl_auth_challenge_clear(&c);
			return r;
		}
		char **slot = NULL;
		if (key_len == 5 && strncasecmp(key, "realm", 5) == 0)
			slot = &c.realm;
		else if (key_len == 7 && strncasecmp(key, "service", 7) == 0)
			slot = &c.service;
		else if (key_len == 5 && strncasecmp(key, "scope", 5) == 0)
			slot = &c.scope;
		else if (key_len == 5 && strncasecmp(key, "error", 5) == 0)
			slot = &c.error;
		if (slot) {
			free(*slot);
			*slot = sl_strdup(value.data ? value.data : "");
		}
	}
	*ret = c;
	return 0;
}
