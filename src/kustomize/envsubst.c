/* The substitution language of Flux's post-build step: fluxcd/pkg/envsubst
 * (a fork of drone/envsubst), applied to text.
 *
 * The parser is a port of the fork's scanner and recursive-descent parser,
 * quirks included (its `width` bookkeeping, escapes removed from the buffer
 * in place, a NUL byte ending the text), so that odd input comes out as it
 * does in Flux. The text is parsed whole before anything is evaluated:
 * a syntax error anywhere wins over an unset variable. */
#include <locale.h>
#include <pthread.h>
#include <string.h>
#include <wctype.h>

#include "codec/codec.h"
#include "kustomize/ks.h"

/* Nesting of ${...} inside ${...}: Go's goroutine stacks grow, ours do
 * not, so deeper input is refused. */
#define ENVSUBST_MAX_DEPTH 256

/* The names kustomize-controller accepts (Go regexp, ASCII classes). */
#define VAR_NAME_REGEX "^[_[:alpha:]][_[:alpha:][:digit:]]*$"

/* ---- runes -------------------------------------------------------------- */

/* Go's utf8.DecodeRune: an invalid or truncated sequence is U+FFFD of
 * length 1 with *ok false. */
static uint32_t decode_rune(const unsigned char *s, size_t len, size_t *ret_len, bool *ok)
{
	uint32_t c;
	size_t n = sl_utf8_decode((const char *)s, len, &c);
	*ok = n != 0;
	*ret_len = n ? n : 1;
	return n ? c : 0xfffd;
}

static int append_rune(struct sl_buf *b, uint32_t c)
{
	unsigned char u[4];
	size_t n;
	if (c >= 0xd800 && c <= 0xdfff)
		c = 0xfffd;
	if (c < 0x80) {
		u[0] = (unsigned char)c, n = 1;
	} else if (c < 0x800) {
		u[0] = (unsigned char)(0xc0 | c >> 6), n = 2;
	} else if (c < 0x10000) {
		u[0] = (unsigned char)(0xe0 | c >> 12), n = 3;
	} else if (c < 0x110000) {
		u[0] = (unsigned char)(0xf0 | c >> 18), n = 4;
	} else {
		return append_rune(b, 0xfffd);
	}
	for (size_t i = 1; i < n; i++)
		u[i] = (unsigned char)(0x80 | ((c >> (6 * (n - 1 - i))) & 0x3f));
	return sl_buf_append(b, u, n);
}

/* Unicode letters, digits and case mappings come from the C.UTF-8
 * locale's tables (the same simple mappings Go's unicode package uses);
 * without that locale, non-ASCII letters count as letters and keep their
 * case. */
static locale_t utf8_locale;
static pthread_once_t utf8_locale_once = PTHREAD_ONCE_INIT;

static void utf8_locale_init(void)
{
	utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static locale_t get_utf8_locale(void)
{
	pthread_once(&utf8_locale_once, utf8_locale_init);
	return utf8_locale;
}

/* Go's unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'. */
static bool is_ident_rune(uint32_t r)
{
	if (r < 0x80)
		return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') ||
		       r == '_';
	if (r == 0xfffd)
		return false;
	locale_t loc = get_utf8_locale();
	return loc ? iswalnum_l((wint_t)r, loc) != 0 : true;
}

static uint32_t to_case(uint32_t r, bool upper)
{
	if (r < 0x80) {
		if (upper && r >= 'a' && r <= 'z')
			return r - 32;
		if (!upper && r >= 'A' && r <= 'Z')
			return r + 32;
		return r;
	}
	locale_t loc = get_utf8_locale();
	if (!loc)
		return r;
	wint_t m = upper ? towupper_l((wint_t)r, loc) : towlower_l((wint_t)r, loc);
	return m < 0x110000 ? (uint32_t)m : r;
}

/* ---- scanner (parse/scan.go) -------------------------------------------- */

enum token { TOK_ILLEGAL, TOK_EOF, TOK_IDENT, TOK_LBRACK, TOK_RBRACK };

enum {
	SCAN_IDENT = 1 << 0,
	SCAN_LBRACK = 1 << 1,
	SCAN_RBRACK = 1 << 2,
	SCAN_ESCAPE = 1 << 3,
};

enum {
	ESC_DOLLAR = 1 << 0,
	ESC_BACKSLASH = 1 << 1,
	ESC_ALL = ESC_DOLLAR | ESC_BACKSLASH,
};

/* Go's scanner's eof: rune(0), which a NUL byte in the text also is. */
#define RUNE_EOF 0u

typedef bool (*accept_fn)(uint32_t r, size_t i);

struct scanner {
	char *buf; /* a copy: escape characters are cut out of it */
	size_t len;
	size_t pos, start, width;
	unsigned mode, escape;
	accept_fn accept;
};

static uint32_t sc_read(struct scanner *s)
{
	if (s->pos >= s->len) {
		s->width = 0;
		return RUNE_EOF;
	}
	bool ok;
	uint32_t r = decode_rune((unsigned char *)s->buf + s->pos, s->len - s->pos, &s->width, &ok);
	s->pos += s->width;
	return r;
}

/* Steps back by the width of the last rune read, or peeked: Go's scanner
 * does the same, which a few parse paths depend on. */
static void sc_unread(struct scanner *s)
{
	s->pos = s->width > s->pos ? 0 : s->pos - s->width;
}

/* Removes the byte before pos (an escape character) from the buffer. */
static void sc_skip(struct scanner *s)
{
	memmove(s->buf + s->pos - 1, s->buf + s->pos, s->len - s->pos);
	s->len--;
	s->buf[s->len] = '\0';
}

static uint32_t sc_peek(struct scanner *s)
{
	uint32_t r = sc_read(s);
	sc_unread(s);
	return r;
}

static bool sc_lbrack(struct scanner *s, uint32_t r)
{
	if (!(s->mode & SCAN_LBRACK))
		return false;
	if (r == '$') {
		if (sc_read(s) == '{')
			return true;
		sc_unread(s);
	}
	return false;
}

static bool sc_rbrack(struct scanner *s, uint32_t r)
{
	return (s->mode & SCAN_RBRACK) && r == '}';
}

static bool sc_escaped(struct scanner *s, uint32_t r)
{
	if (!(s->mode & SCAN_ESCAPE))
		return false;
	if (r == '$' && (s->escape & ESC_DOLLAR) && sc_peek(s) == '$')
		return true;
	if (r == '\\' && (s->escape & ESC_BACKSLASH)) {
		uint32_t next = sc_peek(s);
		return next == '/' || next == '\\';
	}
	return false;
}

static bool sc_ident(struct scanner *s, uint32_t r)
{
	if (!(s->mode & SCAN_IDENT))
		return false;
	if (sc_escaped(s, r))
		sc_skip(s);
	else if (!s->accept(r, s->pos - s->start))
		return false;
	for (;;) {
		r = sc_read(s);
		if (r == RUNE_EOF) {
			sc_unread(s);
			break;
		}
		if (sc_lbrack(s, r)) {
			sc_unread(s);
			sc_unread(s);
			break;
		}
		if (sc_escaped(s, r)) {
			sc_skip(s);
			continue;
		}
		if (!s->accept(r, s->pos - s->start)) {
			sc_unread(s);
			break;
		}
	}
	return true;
}

static enum token sc_scan(struct scanner *s)
{
	s->start = s->pos;
	uint32_t r = sc_read(s);
	if (r == RUNE_EOF)
		return TOK_EOF;
	if (sc_lbrack(s, r))
		return TOK_LBRACK;
	if (sc_rbrack(s, r))
		return TOK_RBRACK;
	if (sc_ident(s, r))
		return TOK_IDENT;
	return TOK_ILLEGAL;
}

static char *sc_string(const struct scanner *s, size_t *ret_len)
{
	size_t end = s->pos < s->len ? s->pos : s->len;
	size_t start = s->start < end ? s->start : end;
	*ret_len = end - start;
	return sl_strndup(s->buf + start, end - start);
}

static bool accept_rune(uint32_t r, size_t i)
{
	(void)r, (void)i;
	return true;
}
static bool accept_ident(uint32_t r, size_t i)
{
	(void)i;
	return is_ident_rune(r);
}
static bool accept_colon(uint32_t r, size_t i)
{
	(void)i;
	return r == ':';
}
static bool accept_one_hash(uint32_t r, size_t i)
{
	return r == '#' && i == 1;
}
static bool accept_not_closing(uint32_t r, size_t i)
{
	(void)i;
	return r != '}';
}
static bool accept_hash_func(uint32_t r, size_t i)
{
	return r == '#' && i < 3;
}
static bool accept_percent_func(uint32_t r, size_t i)
{
	return r == '%' && i < 3;
}
static bool accept_default_func(uint32_t r, size_t i)
{
	return (i == 1 && r == ':') || (i == 2 && (r == '=' || r == '-' || r == '?' || r == '+'));
}
static bool accept_replace_func(uint32_t r, size_t i)
{
	return (i == 1 && r == '/') || (i == 2 && (r == '/' || r == '#' || r == '%'));
}
static bool accept_one_equal(uint32_t r, size_t i)
{
	return i == 1 && r == '=';
}
static bool accept_one_colon(uint32_t r, size_t i)
{
	return i == 1 && r == ':';
}
static bool reject_colon_close(uint32_t r, size_t i)
{
	(void)i;
	return r != ':' && r != '}';
}
static bool accept_slash(uint32_t r, size_t i)
{
	(void)i;
	return r == '/';
}
static bool accept_not_slash(uint32_t r, size_t i)
{
	(void)i;
	return r != '/';
}
static bool accept_casing_func(uint32_t r, size_t i)
{
	return (r == ',' || r == '^') && i < 3;
}

/* ---- parse tree (parse/node.go) ----------------------------------------- */

struct env_node;

struct env_list {
	struct env_node **items;
	size_t len, cap;
};

struct env_node {
	bool func;
	char *text; /* text node */
	size_t text_len;
	char *param;          /* function: the variable */
	char *name;           /* function: the operator ("" for ${var}) */
	struct env_list args; /* function: its arguments */
};

static void env_list_clear(struct env_list *l);

static struct env_node *env_node_free(struct env_node *n)
{
	if (n) {
		free(n->text);
		free(n->param);
		free(n->name);
		env_list_clear(&n->args);
		free(n);
	}
	return NULL;
}

static void env_list_clear(struct env_list *l)
{
	for (size_t i = 0; i < l->len; i++)
		env_node_free(l->items[i]);
	free(l->items);
	*l = (struct env_list){0};
}

static void env_list_push(struct env_list *l, struct env_node *n)
{
	if (l->len == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->items = sl_xrealloc(l->items, l->cap * sizeof(*l->items));
	}
	l->items[l->len++] = n;
}

static struct env_node *text_node(const struct scanner *s)
{
	struct env_node *n = sl_xcalloc(1, sizeof(*n));
	n->text = sc_string(s, &n->text_len);
	return n;
}

static struct env_node *func_node(const char *param)
{
	struct env_node *n = sl_xcalloc(1, sizeof(*n));
	n->func = true;
	n->param = sl_strdup(param);
	n->name = sl_strdup("");
	return n;
}

static void set_func_name(struct env_node *n, const struct scanner *s)
{
	size_t len;
	free(n->name);
	n->name = sc_string(s, &len);
}

/* ---- parser (parse/parse.go) -------------------------------------------- */

/* The fork's error values, by their messages. */
#define ERR_BAD_SUBSTITUTION "bad substitution"
#define ERR_MISSING_BRACE    "missing closing brace"
#define ERR_VARIABLE_NAME    "unable to parse variable name"
#define ERR_FUNC_SUBST       "unable to parse substitution within function"
#define ERR_DEFAULT_FUNC     "unable to parse default function"

struct parser {
	struct scanner s;
	unsigned depth;
	const char *error; /* one of ERR_*, set on failure */
};

static int fail(struct parser *p, const char *what)
{
	p->error = what;
	return -1;
}

static int parse_func(struct parser *p, struct env_node **ret);

static int consume_rbrack(struct parser *p)
{
	p->s.mode = SCAN_RBRACK;
	return sc_scan(&p->s) == TOK_RBRACK ? 0 : fail(p, ERR_BAD_SUBSTITUTION);
}

static int parse_param(struct parser *p, accept_fn accept, unsigned mode, struct env_node **ret)
{
	p->s.accept = accept;
	p->s.mode = mode | SCAN_LBRACK;
	switch (sc_scan(&p->s)) {
	case TOK_LBRACK: return parse_func(p, ret);
	case TOK_IDENT:
	case TOK_RBRACK: *ret = text_node(&p->s); return 0;
	default: return fail(p, ERR_FUNC_SUBST);
	}
}

/* Parses one argument into node's list. */
static int parse_arg(struct parser *p, struct env_node *node, accept_fn accept, unsigned mode)
{
	struct env_node *arg = NULL;
	int r = parse_param(p, accept, mode, &arg);
	if (r < 0)
		return r;
	env_list_push(&node->args, arg);
	return 0;
}

/* ${param:offset} and ${param:offset:length} */
static int parse_substr_func(struct parser *p, struct env_node *node)
{
	struct scanner *s = &p->s;
	s->accept = accept_one_colon;
	s->mode = SCAN_IDENT;
	if (sc_scan(s) != TOK_IDENT)
		return fail(p, ERR_BAD_SUBSTITUTION);
	set_func_name(node, s);
	int r = parse_arg(p, node, reject_colon_close, SCAN_IDENT);
	if (r < 0)
		return r;
	s->accept = accept_colon;
	s->mode = SCAN_IDENT | SCAN_RBRACK;
	switch (sc_scan(s)) {
	case TOK_RBRACK: return 0;
	case TOK_IDENT: break;
	default: return fail(p, ERR_BAD_SUBSTITUTION);
	}
	r = parse_arg(p, node, accept_not_closing, SCAN_IDENT);
	return r < 0 ? r : consume_rbrack(p);
}

/* ${param#word} ${param##word} ${param%word} ${param%%word} */
static int parse_remove_func(struct parser *p, struct env_node *node, accept_fn accept)
{
	struct scanner *s = &p->s;
	s->accept = accept;
	s->mode = SCAN_IDENT;
	if (sc_scan(s) != TOK_IDENT)
		return fail(p, ERR_BAD_SUBSTITUTION);
	set_func_name(node, s);
	int r = parse_arg(p, node, accept_not_closing, SCAN_IDENT);
	return r < 0 ? r : consume_rbrack(p);
}

/* ${param/pattern/string} ${param//pattern/string} ${param/#pattern/string}
 * ${param/%pattern/string}; `\/` and `\\` are escapes in the arguments. */
static int parse_replace_func(struct parser *p, struct env_node *node)
{
	struct scanner *s = &p->s;
	s->accept = accept_replace_func;
	s->mode = SCAN_IDENT;
	if (sc_scan(s) != TOK_IDENT)
		return fail(p, ERR_BAD_SUBSTITUTION);
	set_func_name(node, s);
	int r = 0;
	if (sc_peek(s) == '/') {
		/* an empty pattern (${param/#/string}) */
		struct env_node *empty = sl_xcalloc(1, sizeof(*empty));
		empty->text = sl_strdup("");
		env_list_push(&node->args, empty);
	} else {
		r = parse_arg(p, node, accept_not_slash, SCAN_IDENT | SCAN_ESCAPE);
	}
	if (r < 0)
		return r;
	s->accept = accept_slash;
	s->mode = SCAN_IDENT;
	if (sc_scan(s) != TOK_IDENT)
		return fail(p, ERR_BAD_SUBSTITUTION);
	if (sc_peek(s) == '}')
		return consume_rbrack(p);
	r = parse_arg(p, node, accept_not_closing, SCAN_IDENT | SCAN_ESCAPE);
	return r < 0 ? r : consume_rbrack(p);
}

/* ${param=word} ${param:=word} ${param:-word} ${param:?word} ${param:+word}:
 * the word is any run of text and nested ${...} up to the closing brace. */
static int parse_default_func(struct parser *p, struct env_node *node)
{
	struct scanner *s = &p->s;
	s->accept = sc_peek(s) == '=' ? accept_one_equal : accept_default_func;
	s->mode = SCAN_IDENT;
	if (sc_scan(s) != TOK_IDENT)
		return fail(p, ERR_DEFAULT_FUNC);
	set_func_name(node, s);
	for (;;) {
		if (sc_peek(s) == '}')
			return consume_rbrack(p);
		int r = parse_arg(p, node, accept_not_closing, SCAN_IDENT);
		if (r < 0)
			return r;
	}
}

static int parse_default_or_substr(struct parser *p, struct env_node *node)
{
	struct scanner *s = &p->s;
	sc_read(s);
	uint32_t r = sc_peek(s);
	sc_unread(s);
	if (r == '=' || r == '-' || r == '?' || r == '+')
		return parse_default_func(p, node);
	return parse_substr_func(p, node);
}

/* ${param,} ${param,,} ${param^} ${param^^} */
static int parse_casing_func(struct parser *p, struct env_node *node)
{
	struct scanner *s = &p->s;
	s->accept = accept_casing_func;
	s->mode = SCAN_IDENT;
	if (sc_scan(s) != TOK_IDENT)
		return fail(p, ERR_BAD_SUBSTITUTION);
	set_func_name(node, s);
	return consume_rbrack(p);
}

/* ${#param} */
static int parse_len_func(struct parser *p, struct env_node **ret)
{
	struct scanner *s = &p->s;
	s->accept = accept_one_hash;
	s->mode = SCAN_IDENT;
	if (sc_scan(s) != TOK_IDENT)
		return fail(p, ERR_BAD_SUBSTITUTION);
	size_t len;
	_cleanup_free_ char *name = sc_string(s, &len);
	s->accept = accept_ident;
	s->mode = SCAN_IDENT;
	if (sc_scan(s) != TOK_IDENT)
		return fail(p, ERR_BAD_SUBSTITUTION);
	_cleanup_free_ char *param = sc_string(s, &len);
	struct env_node *node = func_node(param);
	free(node->name);
	node->name = TAKE_PTR(name);
	if (consume_rbrack(p) < 0) {
		env_node_free(node);
		return -1;
	}
	*ret = node;
	return 0;
}

/* After `${`. */
static int parse_func_body(struct parser *p, struct env_node **ret)
{
	struct scanner *s = &p->s;
	s->escape = ESC_ALL;
	if (sc_peek(s) == '#')
		return parse_len_func(p, ret);

	s->accept = accept_ident;
	s->mode = SCAN_IDENT;
	if (sc_scan(s) != TOK_IDENT)
		return fail(p, ERR_VARIABLE_NAME);
	size_t len;
	_cleanup_free_ char *name = sc_string(s, &len);
	struct env_node *node = func_node(name);
	int r;
	switch (sc_peek(s)) {
	case ':': r = parse_default_or_substr(p, node); break;
	case '=': r = parse_default_func(p, node); break;
	case ',':
	case '^': r = parse_casing_func(p, node); break;
	case '/': r = parse_replace_func(p, node); break;
	case '#': r = parse_remove_func(p, node, accept_hash_func); break;
	case '%': r = parse_remove_func(p, node, accept_percent_func); break;
	default:
		/* ${var}; anything else there (`${var-x}`, `${var+x}`, a
		 * space) is not an operator the fork knows */
		s->accept = accept_ident;
		s->mode = SCAN_RBRACK;
		r = sc_scan(s) == TOK_RBRACK ? 0 : fail(p, ERR_MISSING_BRACE);
	}
	if (r < 0) {
		env_node_free(node);
		return r;
	}
	*ret = node;
	return 0;
}

static int parse_func(struct parser *p, struct env_node **ret)
{
	if (p->depth >= ENVSUBST_MAX_DEPTH)
		return fail(p, "substitutions nested too deeply");
	p->depth++;
	int r = parse_func_body(p, ret);
	p->depth--;
	return r;
}

/* parseAny as a loop: text runs and ${...} in order. */
static int parse_text(struct parser *p, struct env_list *out)
{
	struct scanner *s = &p->s;
	for (;;) {
		s->accept = accept_rune;
		s->mode = SCAN_IDENT | SCAN_LBRACK | SCAN_ESCAPE;
		s->escape = ESC_DOLLAR;
		struct env_node *n = NULL;
		switch (sc_scan(s)) {
		case TOK_IDENT: env_list_push(out, text_node(s)); break;
		case TOK_EOF: return 0;
		case TOK_LBRACK:
			if (parse_func(p, &n) < 0)
				return -1;
			env_list_push(out, n);
			break;
		default: return fail(p, ERR_BAD_SUBSTITUTION);
		}
	}
}

/* ---- the substitution functions (funcs.go) ------------------------------- */

struct str {
	const char *p;
	size_t len;
};

/* Go's strconv.Atoi on a 64-bit platform. */
static bool go_atoi(struct str s, int64_t *ret)
{
	size_t i = 0;
	bool neg = false;
	if (s.len && (s.p[0] == '+' || s.p[0] == '-'))
		neg = s.p[i++] == '-';
	if (i == s.len)
		return false;
	uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		unsigned d = (unsigned)(s.p[i] - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* ${var:pos} and ${var:pos:len}, in bytes, as the fork's toSubstr. */
static int to_substr(struct sl_buf *out, struct str s, const struct str *args, size_t nargs)
{
	int64_t pos, length, n = (int64_t)s.len;
	if (!nargs || !go_atoi(args[0], &pos))
		return sl_buf_append(out, s.p, s.len);
	if (pos < 0) {
		pos = n + pos;
		if (pos < 0)
			pos = 0;
	}
	if (nargs == 1)
		return pos < n ? sl_buf_append(out, s.p + pos, (size_t)(n - pos)) : 0;
	if (!go_atoi(args[1], &length))
		return sl_buf_append(out, s.p, s.len);
	if (length < 0) {
		/* counts back from the end: ${var:1:-1} drops both ends */
		int64_t end = n + length;
		if (end < pos)
			return 0;
		return sl_buf_append(out, s.p + pos, (size_t)(end - pos));
	}
	if (length >= n - pos)
		return pos < n ? sl_buf_append(out, s.p + pos, (size_t)(n - pos)) : 0;
	return sl_buf_append(out, s.p + pos, (size_t)length);
}

static const char *find(struct str s, struct str what)
{
	if (!what.len)
		return s.p;
	return memmem(s.p, s.len, what.p, what.len);
}

/* Go's strings.Replace(s, old, new, n) for n = 1 or -1 (all). An empty
 * old inserts new before every rune and at the end. */
static int go_replace(struct sl_buf *out, struct str s, struct str old, struct str repl, bool all)
{
	size_t start = 0;
	int r = 0;
	for (size_t i = 0; r >= 0; i++) {
		if (i > 0 && !all)
			break;
		size_t j;
		if (!old.len) {
			if (i > 0) {
				if (start >= s.len)
					break;
				size_t w;
				bool ok;
				decode_rune((const unsigned char *)s.p + start, s.len - start, &w,
				            &ok);
				j = start + w;
			} else {
				j = start;
			}
		} else {
			const char *hit = find((struct str){s.p + start, s.len - start}, old);
			if (!hit)
				break;
			j = (size_t)(hit - s.p);
		}
		r = sl_buf_append(out, s.p + start, j - start);
		if (r >= 0)
			r = sl_buf_append(out, repl.p, repl.len);
		start = j + old.len;
	}
	return r < 0 ? r : sl_buf_append(out, s.p + start, s.len - start);
}

/* The fork's path.Match: Go's old path.Match with '/' not special, so `*`
 * and `?` match it too. 1 match, 0 no match, -1 malformed pattern. */
static int get_esc(struct str *chunk, uint32_t *ret)
{
	if (!chunk->len || chunk->p[0] == '-' || chunk->p[0] == ']')
		return -1;
	if (chunk->p[0] == '\\') {
		chunk->p++, chunk->len--;
		if (!chunk->len)
			return -1;
	}
	size_t n;
	bool ok;
	*ret = decode_rune((const unsigned char *)chunk->p, chunk->len, &n, &ok);
	chunk->p += n, chunk->len -= n;
	if ((!ok && n == 1 && *ret == 0xfffd) || !chunk->len)
		return -1;
	return 0;
}

/* matchChunk: 1 with *rest set, 0, or -1. */
static int match_chunk(struct str chunk, struct str s, struct str *rest)
{
	while (chunk.len) {
		if (!s.len)
			return 0;
		switch (chunk.p[0]) {
		case '[': {
			size_t n;
			bool ok;
			uint32_t r = decode_rune((const unsigned char *)s.p, s.len, &n, &ok);
			s.p += n, s.len -= n;
			chunk.p++, chunk.len--;
			if (!chunk.len)
				return -1;
			bool negated = chunk.p[0] == '^';
			if (negated)
				chunk.p++, chunk.len--;
			bool match = false;
			for (size_t nrange = 0;; nrange++) {
				if (chunk.len && chunk.p[0] == ']' && nrange > 0) {
					chunk.p++, chunk.len--;
					break;
				}
				uint32_t lo, hi;
				if (get_esc(&chunk, &lo) < 0)
					return -1;
				hi = lo;
				if (chunk.p[0] == '-') {
					chunk.p++, chunk.len--;
					if (get_esc(&chunk, &hi) < 0)
						return -1;
				}
				if (lo <= r && r <= hi)
					match = true;
			}
			if (match == negated)
				return 0;
			break;
		}
		case '?': {
			size_t n;
			bool ok;
			decode_rune((const unsigned char *)s.p, s.len, &n, &ok);
			s.p += n, s.len -= n;
			chunk.p++, chunk.len--;
			break;
		}
		case '\\':
			chunk.p++, chunk.len--;
			if (!chunk.len)
				return -1;
			/* fall through */
		default:
			if (chunk.p[0] != s.p[0])
				return 0;
			s.p++, s.len--;
			chunk.p++, chunk.len--;
		}
	}
	*rest = s;
	return 1;
}

/* scanChunk: leading stars, then up to the next star outside [...]. */
static void scan_chunk(struct str *pattern, bool *star, struct str *chunk)
{
	*star = false;
	while (pattern->len && pattern->p[0] == '*')
		pattern->p++, pattern->len--, *star = true;
	bool inrange = false;
	size_t i;
	for (i = 0; i < pattern->len; i++) {
		char c = pattern->p[i];
		if (c == '\\') {
			if (i + 1 < pattern->len)
				i++;
		} else if (c == '[') {
			inrange = true;
		} else if (c == ']') {
			inrange = false;
		} else if (c == '*' && !inrange) {
			break;
		}
	}
	*chunk = (struct str){pattern->p, i};
	pattern->p += i, pattern->len -= i;
}

static int glob_match(struct str pattern, struct str name)
{
	while (pattern.len) {
		bool star;
		struct str chunk, rest;
		scan_chunk(&pattern, &star, &chunk);
		if (star && !chunk.len)
			return 1;
		int m = match_chunk(chunk, name, &rest);
		if (m > 0 && (!rest.len || pattern.len)) {
			name = rest;
			continue;
		}
		if (m < 0)
			return -1;
		bool found = false;
		for (size_t i = 0; star && i < name.len; i++) {
			m = match_chunk(chunk, (struct str){name.p + i + 1, name.len - i - 1},
			                &rest);
			if (m > 0) {
				if (!pattern.len && rest.len)
					continue;
				name = rest;
				found = true;
				break;
			}
			if (m < 0)
				return -1;
		}
		if (!found)
			return 0;
	}
	return name.len == 0;
}

/* trimShortest / trimLongest: the shortest (longest) non-empty prefix of
 * s the pattern matches is cut; a malformed pattern leaves s alone. */
static struct str trim_prefix(struct str s, struct str pattern, bool longest)
{
	size_t cut = 0;
	for (size_t i = 0; i < s.len; i++) {
		int m = glob_match(pattern, (struct str){s.p, s.len - i});
		if (m < 0)
			return s;
		if (m > 0) {
			cut = s.len - i;
			if (longest)
				break;
		}
	}
	return (struct str){s.p + cut, s.len - cut};
}

/* Go's reverse: by runes, invalid bytes becoming U+FFFD. */
static char *reverse_runes(struct str s, size_t *ret_len)
{
	uint32_t *runes = sl_xcalloc(s.len ? s.len : 1, sizeof(*runes));
	size_t n_runes = 0;
	for (size_t i = 0; i < s.len;) {
		size_t n;
		bool ok;
		runes[n_runes++] = decode_rune((const unsigned char *)s.p + i, s.len - i, &n, &ok);
		i += n;
	}
	struct sl_buf b;
	sl_buf_init(&b, 0);
	while (n_runes)
		append_rune(&b, runes[--n_runes]);
	free(runes);
	*ret_len = b.len;
	return sl_buf_steal(&b);
}

static int trim_func(struct sl_buf *out, struct str s, struct str pattern, bool suffix,
                     bool longest)
{
	if (!suffix) {
		struct str t = trim_prefix(s, pattern, longest);
		return sl_buf_append(out, t.p, t.len);
	}
	size_t rs_len, rp_len, back_len;
	_cleanup_free_ char *rs = reverse_runes(s, &rs_len);
	_cleanup_free_ char *rp = reverse_runes(pattern, &rp_len);
	struct str t = trim_prefix((struct str){rs, rs_len}, (struct str){rp, rp_len}, longest);
	_cleanup_free_ char *back = reverse_runes(t, &back_len);
	return sl_buf_append(out, back, back_len);
}

/* strings.ToUpper/ToLower (all), or unicode.ToUpper/ToLower of the first
 * rune only; invalid bytes that get mapped become U+FFFD, as in Go. */
static int case_func(struct sl_buf *out, struct str s, bool upper, bool first_only)
{
	for (size_t i = 0; i < s.len;) {
		size_t n;
		bool ok;
		uint32_t c = decode_rune((const unsigned char *)s.p + i, s.len - i, &n, &ok);
		int r = append_rune(out, to_case(c, upper));
		if (r < 0)
			return r;
		i += n;
		if (first_only)
			return sl_buf_append(out, s.p + i, s.len - i);
	}
	return 0;
}

static bool has_prefix(struct str s, struct str p)
{
	return s.len >= p.len && memcmp(s.p, p.p, p.len) == 0;
}

static bool has_suffix(struct str s, struct str p)
{
	return s.len >= p.len && memcmp(s.p + s.len - p.len, p.p, p.len) == 0;
}

/* lookupFunc and the function it picks, applied to the variable's value. */
static int apply_func(struct sl_buf *out, const char *name, struct str v, const struct str *args,
                      size_t nargs)
{
	struct str none = {"", 0};
	if (!strcmp(name, ","))
		return case_func(out, v, false, true);
	if (!strcmp(name, ",,"))
		return case_func(out, v, false, false);
	if (!strcmp(name, "^"))
		return case_func(out, v, true, true);
	if (!strcmp(name, "^^"))
		return case_func(out, v, true, false);
	if (!strcmp(name, "#") && !nargs)
		return sl_buf_printf(out, "%zu", v.len);
	if (!strcmp(name, "#") || !strcmp(name, "##"))
		return trim_func(out, v, args[0], false, name[1] == '#');
	if (!strcmp(name, "%") || !strcmp(name, "%%"))
		return nargs ? trim_func(out, v, args[0], true, name[1] == '%')
		             : sl_buf_append(out, v.p, v.len);
	if (!strcmp(name, ":"))
		return to_substr(out, v, args, nargs);
	if (!strcmp(name, "/#")) {
		if (nargs != 2 || !has_prefix(v, args[0]))
			return sl_buf_append(out, v.p, v.len);
		return go_replace(out, v, args[0], args[1], false);
	}
	if (!strcmp(name, "/%")) {
		if (nargs != 2 || !has_suffix(v, args[0]))
			return sl_buf_append(out, v.p, v.len);
		int r = sl_buf_append(out, v.p, v.len - args[0].len);
		return r < 0 ? r : sl_buf_append(out, args[1].p, args[1].len);
	}
	if (!strcmp(name, "/") || !strcmp(name, "//")) {
		if (!nargs)
			return sl_buf_append(out, v.p, v.len);
		return go_replace(out, v, args[0], nargs > 1 ? args[1] : none, name[1] == '/');
	}
	/* toDefault, for "", "=", ":=", ":-" and also ":?", ":+", which the
	 * fork parses but treats as plain defaults: the value when non-empty,
	 * else the arguments joined */
	if (v.len || !nargs)
		return sl_buf_append(out, v.p, v.len);
	for (size_t i = 0; i < nargs; i++) {
		int r = sl_buf_append(out, args[i].p, args[i].len);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- evaluation (template.go) ------------------------------------------- */

struct eval_ctx {
	const struct sl_node *vars;
	bool strict;
	size_t max; /* cap of every intermediate buffer: the output's */
	struct sl_error *err;
};

/* Operators that supply their own value for an unset variable, which
 * strict mode lets through. */
static bool is_default_op(const char *name)
{
	static const char *const ops[] = {"-", "+", "=", "?", ":-", ":+", ":=", ":?"};
	for (size_t i = 0; i < SL_ARRAY_SIZE(ops); i++)
		if (!strcmp(name, ops[i]))
			return true;
	return false;
}

static int eval_list(struct eval_ctx *c, const struct env_list *l, struct sl_buf *out);

static int eval_node(struct eval_ctx *c, const struct env_node *n, struct sl_buf *out)
{
	if (!n->func) {
		int r = sl_buf_append(out, n->text, n->text_len);
		return r < 0 ? sl_error_set(c->err, r, "output larger than %zu bytes", c->max) : 0;
	}
	struct sl_buf *bufs = sl_xcalloc(n->args.len ? n->args.len : 1, sizeof(*bufs));
	struct str *args = sl_xcalloc(n->args.len ? n->args.len : 1, sizeof(*args));
	_cleanup_free_ char *value = NULL;
	int r = 0;
	for (size_t i = 0; i < n->args.len; i++)
		sl_buf_init(&bufs[i], c->max);
	for (size_t i = 0; r >= 0 && i < n->args.len; i++) {
		r = eval_node(c, n->args.items[i], &bufs[i]);
		args[i] = (struct str){bufs[i].data ? bufs[i].data : "", bufs[i].len};
	}
	if (r < 0)
		goto done;

	const struct sl_node *v = c->vars ? sl_node_map_get(c->vars, n->param) : NULL;
	if (!v && c->strict && !is_default_op(n->name)) {
		r = sl_error_set(c->err, SL_EINVAL, "variable not set (strict mode): \"%s\"",
		                 n->param);
		goto done;
	}
	/* kustomize-controller strips newlines from every value */
	size_t vlen = 0;
	value = sl_xmalloc(v ? v->str.len + 1 : 1);
	for (size_t i = 0; v && i < v->str.len; i++)
		if (v->str.ptr[i] != '\n')
			value[vlen++] = v->str.ptr[i];
	value[vlen] = '\0';
	r = apply_func(out, n->name, (struct str){value, vlen}, args, n->args.len);
	if (r < 0)
		r = sl_error_set(c->err, r, "output larger than %zu bytes", c->max);
done:
	for (size_t i = 0; i < n->args.len; i++)
		sl_buf_free(&bufs[i]);
	free(bufs);
	free(args);
	return r;
}

static int eval_list(struct eval_ctx *c, const struct env_list *l, struct sl_buf *out)
{
	for (size_t i = 0; i < l->len; i++) {
		int r = eval_node(c, l->items[i], out);
		if (r < 0)
			return r;
	}
	return 0;
}

/* kustomize-controller's varsubRegex. */
static bool valid_var_name(const char *s)
{
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
		if (!alpha && (i == 0 || c < '0' || c > '9'))
			return false;
	}
	return s[0] != '\0';
}

static int check_vars(const struct sl_node *vars, struct sl_error *err)
{
	if (!vars || vars->type == SL_NODE_NULL)
		return 0;
	if (vars->type != SL_NODE_MAP)
		return sl_error_set(err, SL_EINVAL, "substitution variables: a %s, not a map",
		                    sl_node_type_name(vars->type));
	for (size_t i = 0; i < vars->map.len; i++) {
		const struct sl_node_pair *p = &vars->map.items[i];
		if (strlen(p->key) != p->key_len || !valid_var_name(p->key))
			return sl_error_set(err, SL_EINVAL,
			                    "'%s' var name is invalid, must match '%s'", p->key,
			                    VAR_NAME_REGEX);
		if (p->value->type != SL_NODE_STR)
			return sl_error_set(err, SL_EINVAL, "variable %s: a %s, not a string",
			                    p->key, sl_node_type_name(p->value->type));
	}
	return 0;
}

int ks_envsubst(const char *text, size_t len, const struct sl_node *vars, bool strict,
                struct sl_buf *out, struct sl_error *err)
{
	int r = check_vars(vars, err);
	if (r < 0)
		return r;
	struct parser p = {.s = {.buf = sl_xmalloc(len + 1), .len = len}};
	memcpy(p.s.buf, text, len);
	p.s.buf[len] = '\0';
	struct env_list root = {0};
	r = parse_text(&p, &root);
	free(p.s.buf);
	if (r < 0) {
		env_list_clear(&root);
		return sl_error_set(err, SL_EINVAL, "variable substitution failed: %s", p.error);
	}
	struct eval_ctx c = {vars && vars->type == SL_NODE_MAP ? vars : NULL, strict, out->max,
	                     err};
	size_t mark = out->len;
	r = eval_list(&c, &root, out);
	env_list_clear(&root);
	if (r < 0) {
		/* nothing half-written */
		out->len = mark;
		if (out->data)
			out->data[mark] = '\0';
		return sl_error_wrap(err, r, "variable substitution failed");
	}
	return 0;
}
