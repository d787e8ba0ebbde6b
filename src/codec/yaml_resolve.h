/* codec/yaml_resolve — go-yaml v3's scalar rules, for the YAML reader
 * (yaml_read.c) only: what an untagged plain scalar resolves to (null, bool,
 * integer, float, timestamp or string), what an explicit tag does to a
 * value, Go's time.Parse of the timestamp forms v3 accepts, and the change
 * a folded scalar (`>`) goes through when kustomize writes it out with
 * go-yaml v3's emitter and reads it back.
 *
 * Nothing here keeps state; the functions are reentrant. */
#ifndef SLUICE_CODEC_YAML_RESOLVE_H
#define SLUICE_CODEC_YAML_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum yr_kind {
	YR_STR, /* the text itself */
	YR_NULL,
	YR_BOOL,
	YR_INT,
	YR_UINT, /* > INT64_MAX */
	YR_FLOAT,
	YR_TIME, /* time holds it as Go's JSON encoding prints a time.Time */
};

/* Room for "2006-01-02T15:04:05.999999999-07:00" and a NUL. */
#define YR_TIME_MAX 40

struct yr_value {
	enum yr_kind kind;
	union {
		bool b;
		int64_t i;
		uint64_t u;
		double f;
	};
	char time[YR_TIME_MAX];
	/* YR_TIME with a zone offset of 24 hours or more: time.Parse takes it,
	 * Go's JSON encoding of the time refuses it. */
	bool time_unencodable;
};

/* go-yaml v3's resolve(tag, text) followed by its decoding into an
 * interface{}: tag is a short tag or NULL. Tags that do not resolve
 * (custom ones, !!binary, !!map ...) are the caller's business. Returns 0,
 * or -1 with msg set ("cannot decode !!str `abc` as a !!int") when the text
 * is not a value of the tag. */
int sl_yaml_resolve(const char *tag, const char *text, size_t len, struct yr_value *out, char *msg,
                    size_t msg_size);

/* Whether go-yaml v3's resolve() handles tag (NULL = none): "", !!str,
 * !!bool, !!int, !!float, !!null, !!timestamp. */
bool sl_yaml_tag_resolvable(const char *tag);

/* Go's time.Parse of text in the forms go-yaml v3 accepts for a timestamp,
 * printed into out as RFC 3339 with nanoseconds (Go's time.Time JSON). */
bool sl_yaml_parse_timestamp(const char *text, size_t len, struct yr_value *out);

/* The value a folded scalar has after kustomize's round trip through
 * go-yaml v3's emitter, whose folded writer adds a line break before each
 * more-indented line and one after a kept final line (`>+`). value is what
 * a YAML parser read (libyaml folds per the spec). Returns a malloc'ed
 * string (length in *ret_len), or NULL when the value comes back unchanged
 * because v3 would not write it folded: in a flow collection (flow), as a
 * simple key (key, one line of at most 128 bytes), or with characters a
 * block scalar cannot hold. */
char *sl_yaml_folded_round_trip(const char *value, size_t len, bool flow, bool key,
                                size_t *ret_len);

#endif
