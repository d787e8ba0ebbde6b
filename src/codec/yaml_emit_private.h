/* codec/yaml_emit_private.h — what the files of the YAML printer share; not
 * a public header.
 *
 * The printer reproduces go-yaml v2's emitter (emitterc.go) as
 * sigs.k8s.io/yaml drives it for `kubectl kustomize`: block style, indent 2,
 * best width 80, unicode output. yaml_emit.c walks the tree (documents,
 * sequences, maps, key order), yaml_emit_scalar.c chooses and writes scalar
 * styles with yaml_emit_resolve.c telling which strings would read back as
 * another type, gofloat.c prints float64 the way Go does, and
 * unicode_class.c answers unicode.IsLetter/IsDigit for the key order.
 *
 * The emitter state mirrors go-yaml's fields of the same names, so that its
 * column-based decisions (where to break a line, whether a `- ` or a `: `
 * needs a space before it) come out the same. */
#ifndef SLUICE_CODEC_YAML_EMIT_PRIVATE_H
#define SLUICE_CODEC_YAML_EMIT_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

#define YAML_BEST_INDENT 2
#define YAML_BEST_WIDTH  80

struct yaml_emitter {
	struct sl_buf *out;
	int r;                 /* first output error; once set nothing more is written */
	int indent;            /* columns of the current block; -1 before the root node */
	int column;            /* characters (not bytes) already on the current line */
	bool whitespace;       /* the last thing written acts as a space */
	bool indention;        /* nothing but indentation on the current line yet */
	struct sl_buf scratch; /* one scalar's text as go-yaml reads it back */
};

/* ---- output primitives (go-yaml's put, write, write_indent, ...) ---------- */

/* Length of the UTF-8 sequence led by c; the text is valid UTF-8 by now. */
static inline size_t yaml_width(unsigned char c)
{
	if ((c & 0x80) == 0)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	if ((c & 0xf8) == 0xf0)
		return 4;
	return 1;
}

static inline void yaml_append(struct yaml_emitter *e, const void *p, size_t n)
{
	if (e->r == 0)
		e->r = sl_buf_append(e->out, p, n);
}

static inline void yaml_put(struct yaml_emitter *e, char c)
{
	yaml_append(e, &c, 1);
	e->column++;
}

static inline void yaml_put_break(struct yaml_emitter *e)
{
	yaml_append(e, "\n", 1);
	e->column = 0;
}

/* Copies the character at s[*i] and steps over it: one column. */
static inline void yaml_write(struct yaml_emitter *e, const char *s, size_t *i)
{
	size_t w = yaml_width((unsigned char)s[*i]);
	yaml_append(e, s + *i, w);
	e->column++;
	*i += w;
}

/* Starts a new line at the current indentation unless the line holds only
 * what that indentation needs already. */
static inline void yaml_write_indent(struct yaml_emitter *e)
{
	int indent = e->indent < 0 ? 0 : e->indent;
	if (!e->indention || e->column > indent || (e->column == indent && !e->whitespace))
		yaml_put_break(e);
	while (e->column < indent)
		yaml_put(e, ' ');
	e->whitespace = true;
	e->indention = true;
}

/* An ASCII indicator ("-", "?", ":", "[", "|", ...). */
static inline void yaml_write_indicator(struct yaml_emitter *e, const char *ind,
                                        bool need_whitespace, bool is_whitespace, bool is_indention)
{
	if (need_whitespace && !e->whitespace)
		yaml_put(e, ' ');
	for (; *ind; ind++)
		yaml_put(e, *ind);
	e->whitespace = is_whitespace;
	e->indention = e->indention && is_indention;
}

static inline void yaml_increase_indent(struct yaml_emitter *e, bool flow, bool indentless)
{
	if (e->indent < 0)
		e->indent = flow ? YAML_BEST_INDENT : 0;
	else if (!indentless)
		e->indent += YAML_BEST_INDENT;
}

/* ---- strings (yaml_emit_scalar.c) --------------------------------------- */

/* What go-yaml v2 reads back from Go's JSON text of s: each invalid UTF-8
 * byte is U+FFFD, and raw NEL characters (which Go's JSON does not escape)
 * are line breaks folded with the spaces around them. *ret points into s
 * when nothing changes, else into scratch. Returns 0 or an sl_buf error. */
int sl_yaml_string_prepare(const char *s, size_t len, struct sl_buf *scratch, const char **ret,
                           size_t *ret_len);
/* Fails like go-yaml v2 reading the JSON text of s would: U+007F, C1
 * controls other than NEL, U+FFFE and U+FFFF are refused, and so is a NEL
 * followed by a document marker. */
int sl_yaml_string_check(const char *s, size_t len, struct sl_error *err);
/* Whether a prepared string has a line break (go-yaml's "multiline"). */
bool sl_yaml_string_multiline(const char *s, size_t len);
/* Writes a prepared string in the style go-yaml v2 picks for it, as a key
 * (simple_key) or any other node. */
void sl_yaml_emit_string(struct yaml_emitter *e, const char *s, size_t len, bool simple_key);
/* Writes a plain scalar that needs no analysis: null, true, 42, 1.5e-07. */
void sl_yaml_emit_plain(struct yaml_emitter *e, const char *text);

/* ---- the YAML 1.1 resolver (yaml_emit_resolve.c) ------------------------ */

/* Whether go-yaml v2's encoder double-quotes s because its plain text would
 * read back as a bool, null, number or timestamp (or is a base-60 number). */
bool sl_yaml_plain_is_not_string(const char *s, size_t len);

/* ---- numbers (gofloat.c) ------------------------------------------------ */

#define SL_GOFLOAT_MAX 40

/* x as `kubectl kustomize` prints it: Go's JSON text read back by go-yaml
 * v2, so integral values that fit int64/uint64 print as integers and the
 * rest as strconv.FormatFloat(x, 'g', -1, 64). Returns <0 for inf/nan. */
int sl_gofloat_yaml(double x, char out[SL_GOFLOAT_MAX]);
/* x as Go's encoding/json writes a float64. Returns <0 for inf/nan. */
int sl_gofloat_json(double x, char out[SL_GOFLOAT_MAX]);
/* "+Inf", "-Inf" or "NaN", as Go's error messages name them. */
const char *sl_gofloat_nonfinite_name(double x);

/* ---- Unicode classes (unicode_class.c) ---------------------------------- */

bool sl_unicode_is_letter(uint32_t c);
bool sl_unicode_is_digit(uint32_t c);

#endif
