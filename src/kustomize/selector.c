/* Patch targets as kustomize's ResMap.Select reads them: group, version,
 * kind, name and namespace are regular expressions matched whole, and the
 * label and annotation selectors follow Kubernetes' label selector syntax
 * (k8s.io/apimachinery/pkg/labels: Parse and Requirement.Matches), with
 * its messages and validation of keys and values. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "kustomize/ks.h"

/* ---- label selectors ------------------------------------------------------ */

enum sel_op { OP_IN, OP_NOT_IN, OP_EXISTS, OP_NOT_EXISTS, OP_GT, OP_LT };

struct requirement {
	char *key;
	enum sel_op op;
	struct sl_strv values;
};

struct ks_label_selector {
	struct requirement *reqs;
	size_t n;
};

enum tok {
	T_END,
	T_IDENT,
	T_OPEN,  /* ( */
	T_CLOSE, /* ) */
	T_COMMA, /* , */
	T_NOT,   /* ! */
	T_EQ,    /* = */
	T_EQEQ,  /* == */
	T_NEQ,   /* != */
	T_GT,    /* > */
	T_LT,    /* < */
	T_IN,    /* in */
	T_NOTIN, /* notin */
};

struct token {
	enum tok tok;
	char *lit;
};

struct lexer {
	struct token *toks;
	size_t n, pos;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_special(char c)
{
	return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

static void lex_push(struct lexer *lx, enum tok t, const char *s, size_t len)
{
	lx->toks = sl_xrealloc(lx->toks, (lx->n + 1) * sizeof(*lx->toks));
	lx->toks[lx->n++] = (struct token){t, sl_strndup(s, len)};
}

/* Splits the whole text into tokens first, as the Kubernetes parser does. */
static void lex(struct lexer *lx, const char *s)
{
	for (;;) {
		while (is_space(*s))
			s++;
		if (!*s)
			break;
		if (is_special(*s)) {
			if ((s[0] == '=' || s[0] == '!') && s[1] == '=') {
				lex_push(lx, s[0] == '=' ? T_EQEQ : T_NEQ, s, 2);
				s += 2;
				continue;
			}
			static const enum tok one[128] = {
			    ['('] = T_OPEN, [')'] = T_CLOSE, [','] = T_COMMA, ['!'] = T_NOT,
			    ['='] = T_EQ,   ['>'] = T_GT,    ['<'] = T_LT,
			};
			lex_push(lx, one[(unsigned char)*s], s, 1);
			s++;
			continue;
		}
		const char *start = s;
		while (*s && !is_space(*s) && !is_special(*s))
			s++;
		size_t len = (size_t)(s - start);
		enum tok t = T_IDENT;
		if (len == 2 && memcmp(start, "in", 2) == 0)
			t = T_IN;
		else if (len == 5 && memcmp(start, "notin", 5) == 0)
			t = T_NOTIN;
		lex_push(lx, t, start, len);
	}
	lex_push(lx, T_END, "", 0);
}

static void lexer_free(struct lexer *lx)
{
	for (size_t i = 0; i < lx->n; i++)
		free(lx->toks[i].lit);
	free(lx->toks);
}

/* In value position the keywords are plain identifiers. */
static struct token *peek(struct lexer *lx)
{
	return &lx->toks[lx->pos];
}

static enum tok peek_value(struct lexer *lx)
{
	enum tok t = peek(lx)->tok;
	return t == T_IN || t == T_NOTIN ? T_IDENT : t;
}

static struct token *next(struct lexer *lx, enum tok *ret, bool values)
{
	struct token *t = &lx->toks[lx->pos];
	if (t->tok != T_END)
		lx->pos++;
	*ret = values && (t->tok == T_IN || t->tok == T_NOTIN) ? T_IDENT : t->tok;
	return t;
}

/* Kubernetes prints the end of the text as '' */
static const char *lit(const struct token *t)
{
	return t->lit;
}

/* validation.IsQualifiedName's name part, and IsValidLabelValue. */
static bool label_name_ok(const char *s, size_t len, size_t max, bool empty_ok)
{
	if (len == 0)
		return empty_ok;
	if (len > max || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* A DNS-1123 subdomain: the prefix of a qualified name. */
static bool dns_subdomain_ok(const char *s, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && c != '-' && c != '.')
			return false;
		if ((i == 0 || i == len - 1) && !alnum)
			return false;
		if (c == '.' && (s[i - 1] == '.' || s[i - 1] == '-' || s[i + 1] == '-'))
			return false;
	}
	return true;
}

static int check_key(const char *key, struct sl_error *err)
{
	const char *slash = strchr(key, '/');
	bool ok;
	if (slash)
		ok = !strchr(slash + 1, '/') && dns_subdomain_ok(key, (size_t)(slash - key)) &&
		     label_name_ok(slash + 1, strlen(slash + 1), 63, false);
	else
		ok = label_name_ok(key, strlen(key), 63, false);
	if (!ok)
		return sl_error_set(
		    err, SL_EINVAL,
		    "invalid label key \"%s\": name part must consist of alphanumeric "
		    "characters, '-', '_' or '.', and must start and end with an "
		    "alphanumeric character",
		    key);
	return 0;
}

static int check_value(const char *key, const char *v, struct sl_error *err)
{
	if (!label_name_ok(v, strlen(v), 63, true))
		return sl_error_set(
		    err, SL_EINVAL,
		    "invalid label value: \"%s\": at key: \"%s\": a valid label must be "
		    "an empty string or consist of alphanumeric characters, '-', '_' or "
		    "'.', and must start and end with an alphanumeric character",
		    v, key);
	return 0;
}

static bool parse_int64(const char *s, long long *ret)
{
	if (!*s)
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || isspace((unsigned char)*s))
		return false;
	*ret = v;
	return true;
}

static void add_value(struct sl_strv *v, const char *s)
{
	for (size_t i = 0; i < v->len; i++)
		if (strcmp(v->items[i], s) == 0)
			return;
	sl_strv_push(v, s);
}

/* "(a, b)" after in/notin; "()" is the set {""}. */
static int parse_values(struct lexer *lx, struct sl_strv *values, struct sl_error *err)
{
	enum tok t;
	struct token *tk = next(lx, &t, true);
	if (t != T_OPEN)
		return sl_error_set(err, SL_EINVAL, "found '%s' expected: '('", lit(tk));
	t = peek_value(lx);
	if (t == T_CLOSE) {
		next(lx, &t, true);
		add_value(values, "");
		return 0;
	}
	if (t != T_IDENT && t != T_COMMA)
		return sl_error_set(err, SL_EINVAL, "found '%s', expected: ',', ')' or identifier",
		                    lit(peek(lx)));
	for (;;) {
		tk = next(lx, &t, true);
		if (t == T_IDENT) {
			add_value(values, tk->lit);
			enum tok t2 = peek_value(lx);
			if (t2 == T_COMMA)
				continue;
			if (t2 == T_CLOSE)
				break;
			return sl_error_set(err, SL_EINVAL, "found '%s', expected: ',' or ')'",
			                    lit(peek(lx)));
		}
		if (t != T_COMMA)
			return sl_error_set(err, SL_EINVAL,
			                    "found '%s', expected: ',', or identifier", lit(tk));
		if (values->len == 0)
			add_value(values, ""); /* "(," */
		enum tok t2 = peek_value(lx);
		if (t2 == T_CLOSE) {
			add_value(values, "");
			break;
		}
		if (t2 == T_COMMA) {
			next(lx, &t2, true);
			add_value(values, "");
		}
	}
	tk = next(lx, &t, true);
	if (t != T_CLOSE)
		return sl_error_set(err, SL_EINVAL, "found '%s', expected: ')'", lit(tk));
	return 0;
}

static int parse_requirement(struct lexer *lx, struct requirement *req, struct sl_error *err)
{
	enum tok t;
	bool negated = false;
	struct token *tk = next(lx, &t, true);
	if (t == T_NOT) {
		negated = true;
		tk = next(lx, &t, true);
	}
	if (t != T_IDENT)
		return sl_error_set(err, SL_EINVAL, "found '%s', expected: identifier", lit(tk));
	int r = check_key(tk->lit, err);
	if (r < 0)
		return r;
	req->key = sl_strdup(tk->lit);
	enum tok after = peek_value(lx);
	if (negated || after == T_END || after == T_COMMA) {
		req->op = negated ? OP_NOT_EXISTS : OP_EXISTS;
		return 0;
	}
	tk = next(lx, &t, false);
	switch (t) {
	case T_IN: req->op = OP_IN; break;
	case T_NOTIN: req->op = OP_NOT_IN; break;
	case T_EQ:
	case T_EQEQ: req->op = OP_IN; break;
	case T_NEQ: req->op = OP_NOT_IN; break;
	case T_GT: req->op = OP_GT; break;
	case T_LT: req->op = OP_LT; break;
	default:
		return sl_error_set(err, SL_EINVAL,
		                    "found '%s', expected: '=', '!=', '==', 'in', notin'", lit(tk));
	}
	if (t == T_IN || t == T_NOTIN) {
		r = parse_values(lx, &req->values, err);
		if (r < 0)
			return r;
	} else {
		enum tok v = peek_value(lx);
		if (v == T_END || v == T_COMMA) {
			add_value(&req->values, "");
		} else {
			tk = next(lx, &v, true);
			if (v != T_IDENT)
				return sl_error_set(err, SL_EINVAL,
				                    "found '%s', expected: identifier", lit(tk));
			add_value(&req->values, tk->lit);
		}
	}
	for (size_t i = 0; i < req->values.len; i++) {
		long long ignored;
		if ((req->op == OP_GT || req->op == OP_LT) &&
		    !parse_int64(req->values.items[i], &ignored))
			return sl_error_set(
			    err, SL_EINVAL,
			    "for 'Gt', 'Lt' operators, the value must be an integer");
		r = check_value(req->key, req->values.items[i], err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_selector(struct lexer *lx, struct ks_label_selector *s, struct sl_error *err)
{
	for (;;) {
		enum tok t = peek_value(lx);
		if (t == T_END)
			return 0;
		if (t != T_IDENT && t != T_NOT)
			return sl_error_set(
			    err, SL_EINVAL,
			    "found '%s', expected: !, identifier, or 'end of string'",
			    lit(peek(lx)));
		s->reqs = sl_xrealloc(s->reqs, (s->n + 1) * sizeof(*s->reqs));
		struct requirement *req = &s->reqs[s->n++];
		*req = (struct requirement){0};
		int r = parse_requirement(lx, req, err);
		if (r < 0)
			return sl_error_wrap(err, r, "unable to parse requirement");
		struct token *tk = next(lx, &t, true);
		if (t == T_END)
			return 0;
		if (t != T_COMMA)
			return sl_error_set(err, SL_EINVAL,
			                    "found '%s', expected: ',' or 'end of string'",
			                    lit(tk));
		enum tok t2 = peek_value(lx);
		if (t2 != T_IDENT && t2 != T_NOT)
			return sl_error_set(err, SL_EINVAL,
			                    "found '%s', expected: identifier after ','",
			                    lit(peek(lx)));
	}
}

int ks_label_selector_parse(const char *text, struct ks_label_selector **ret, struct sl_error *err)
{
	struct ks_label_selector *s = sl_xcalloc(1, sizeof(*s));
	struct lexer lx = {0};
	lex(&lx, text);
	int r = parse_selector(&lx, s, err);
	lexer_free(&lx);
	if (r < 0) {
		ks_label_selector_free(s);
		return sl_error_wrap(err, r, "selector \"%s\"", text);
	}
	*ret = s;
	return 0;
}

/* The labels' value for key as text, or NULL when absent. */
static const char *label_value(const struct sl_node *labels, const char *key, char buf[64])
{
	const struct sl_node *v =
	    labels && labels->type == SL_NODE_MAP ? sl_node_map_get(labels, key) : NULL;
	if (!v)
		return NULL;
	switch (v->type) {
	case SL_NODE_STR: return v->str.ptr;
	case SL_NODE_BOOL: return v->b ? "true" : "false";
	case SL_NODE_INT: snprintf(buf, 64, "%lld", (long long)v->i); return buf;
	case SL_NODE_UINT: snprintf(buf, 64, "%llu", (unsigned long long)v->u); return buf;
	case SL_NODE_FLOAT: snprintf(buf, 64, "%g", v->f); return buf;
	default: return "";
	}
}

static bool requirement_match(const struct requirement *req, const struct sl_node *labels)
{
	char buf[64];
	const char *v = label_value(labels, req->key, buf);
	bool in = false;
	if (v)
		for (size_t i = 0; i < req->values.len && !in; i++)
			in = strcmp(req->values.items[i], v) == 0;
	long long have, want;
	switch (req->op) {
	case OP_IN: return v && in;
	case OP_NOT_IN: return !v || !in;
	case OP_EXISTS: return v != NULL;
	case OP_NOT_EXISTS: return v == NULL;
	case OP_GT:
	case OP_LT:
		if (!v || req->values.len != 1 || !parse_int64(v, &have) ||
		    !parse_int64(req->values.items[0], &want))
			return false;
		return req->op == OP_GT ? have > want : have < want;
	}
	return false;
}

bool ks_label_selector_match(const struct ks_label_selector *s, const struct sl_node *labels)
{
	for (size_t i = 0; i < s->n; i++)
		if (!requirement_match(&s->reqs[i], labels))
			return false;
	return true;
}

struct ks_label_selector *ks_label_selector_free(struct ks_label_selector *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		free(s->reqs[i].key);
		sl_strv_free(&s->reqs[i].values);
	}
	free(s->reqs);
	free(s);
	return NULL;
}

/* ---- targets -------------------------------------------------------------- */

enum { F_GROUP, F_VERSION, F_KIND, F_NAME, F_NAMESPACE, F_COUNT };

static const char *const field_names[F_COUNT] = {"group", "version", "kind", "name", "namespace"};

struct ks_target {
	bool set[F_COUNT]; /* a non-empty regex was given */
	regex_t re[F_COUNT];
	struct ks_label_selector *labels, *annotations;
};

/* Go RE2 syntax POSIX ERE lacks, in the forms patch targets use: (?:...)
 * groups and the \d \w \s classes (and their negations). */
static char *translate_regex(const char *re)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	bool in_class = false;
	for (const char *p = re; *p; p++) {
		if (!in_class && p[0] == '(' && p[1] == '?' && p[2] == ':') {
			sl_buf_append(&b, "(", 1);
			p += 2;
			continue;
		}
		if (p[0] == '\\' && p[1]) {
			const char *cls = NULL;
			switch (p[1]) {
			case 'd': cls = in_class ? "0-9" : "[0-9]"; break;
			case 'w': cls = in_class ? "0-9A-Za-z_" : "[0-9A-Za-z_]"; break;
			case 's': cls = in_class ? " \t\n\f\r\v" : "[ \t\n\f\r\v]"; break;
			case 'D': cls = in_class ? NULL : "[^0-9]"; break;
			case 'W': cls = in_class ? NULL : "[^0-9A-Za-z_]"; break;
			case 'S': cls = in_class ? NULL : "[^ \t\n\f\r\v]"; break;
			default: break;
			}
			if (cls) {
				sl_buf_append(&b, cls, strlen(cls));
			} else if (in_class) {
				/* a bracket expression has no escapes */
				sl_buf_append(&b, p + 1, 1);
			} else {
				sl_buf_append(&b, p, 2);
			}
			p++;
			continue;
		}
		if (!in_class && *p == '[') {
			in_class = true;
			sl_buf_append(&b, p, 1);
			if (p[1] == '^')
				sl_buf_append(&b, ++p, 1);
			if (p[1] == ']')
				sl_buf_append(&b, ++p, 1);
			continue;
		}
		if (in_class && *p == ']')
			in_class = false;
		sl_buf_append(&b, p, 1);
	}
	if (!b.data)
		return sl_strdup("");
	return sl_buf_steal(&b);
}

static int compile_field(struct ks_target *t, int f, const char *pattern, struct sl_error *err)
{
	_cleanup_free_ char *translated = translate_regex(pattern);
	_cleanup_free_ char *anchored = sl_asprintf("^(%s)$", translated);
	int rc = regcomp(&t->re[f], anchored, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char msg[256];
		regerror(rc, &t->re[f], msg, sizeof(msg));
		return sl_error_set(err, SL_EINVAL,
		                    "target %s: invalid regular expression \"%s\": %s",
		                    field_names[f], pattern, msg);
	}
	t->set[f] = true;
	return 0;
}

static int target_string(const struct sl_node *map, const char *key, const char **ret,
                         struct sl_error *err)
{
	const struct sl_node *v = sl_node_map_get(map, key);
	*ret = NULL;
	if (!v || v->type == SL_NODE_NULL)
		return 0;
	if (v->type != SL_NODE_STR)
		return sl_error_set(err, SL_EINVAL, "target %s: expected a string, got a %s", key,
		                    sl_node_type_name(v->type));
	*ret = v->str.ptr;
	return 0;
}

static int target_fill(struct ks_target *t, const struct sl_node *target_map, struct sl_error *err)
{
	if (target_map->type != SL_NODE_MAP)
		return sl_error_set(err, SL_EINVAL, "a patch target must be a map, not a %s",
		                    sl_node_type_name(target_map->type));
	for (int f = 0; f < F_COUNT; f++) {
		const char *s;
		int r = target_string(target_map, field_names[f], &s, err);
		if (r < 0)
			return r;
		if (s && *s && (r = compile_field(t, f, s, err)) < 0)
			return r;
	}
	const char *sel;
	int r = target_string(target_map, "labelSelector", &sel, err);
	if (r >= 0 && sel && *sel)
		r = ks_label_selector_parse(sel, &t->labels, err);
	if (r < 0)
		return sl_error_wrap(err, r, "target labelSelector");
	r = target_string(target_map, "annotationSelector", &sel, err);
	if (r >= 0 && sel && *sel)
		r = ks_label_selector_parse(sel, &t->annotations, err);
	if (r < 0)
		return sl_error_wrap(err, r, "target annotationSelector");
	return 0;
}

int ks_target_parse(const struct sl_node *target_map, struct ks_target **ret, struct sl_error *err)
{
	struct ks_target *t = sl_xcalloc(1, sizeof(*t));
	int r = target_fill(t, target_map, err);
	if (r < 0) {
		ks_target_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

static bool field_match(const struct ks_target *t, int f, const char *s)
{
	return !t->set[f] || regexec(&t->re[f], s, 0, NULL, 0) == 0;
}

/* kustomize's ResId.EffectiveNamespace. */
static const char *effective_namespace(const char *ns, bool cluster_scoped)
{
	if (cluster_scoped)
		return "_non_namespaceable_";
	return !ns || !*ns ? "default" : ns;
}

bool ks_target_match(const struct ks_target *t, const struct sl_node *obj, const char *orig_name,
                     const char *orig_namespace)
{
	const char *api = sl_node_dig_str(obj, "apiVersion", NULL);
	const char *kind = sl_node_dig_str(obj, "kind", NULL);
	const char *name = sl_node_dig_str(obj, "metadata", "name", NULL);
	const char *ns = sl_node_dig_str(obj, "metadata", "namespace", NULL);
	if (!api)
		api = "";
	if (!kind)
		kind = "";
	if (!name)
		name = "";
	const char *slash = strchr(api, '/');
	size_t group_len = slash ? (size_t)(slash - api) : 0;
	_cleanup_free_ char *group = sl_strndup(api, group_len);
	const char *version = slash ? slash + 1 : api;
	bool cluster = ks_kind_is_cluster_scoped(group, group_len, version, kind);

	if (t->set[F_NAMESPACE] &&
	    !(orig_namespace &&
	      field_match(t, F_NAMESPACE, effective_namespace(orig_namespace, cluster))) &&
	    !field_match(t, F_NAMESPACE, effective_namespace(ns, cluster)))
		return false;
	if (t->set[F_NAME] && !(orig_name && field_match(t, F_NAME, orig_name)) &&
	    !field_match(t, F_NAME, name))
		return false;
	if (!field_match(t, F_GROUP, group) || !field_match(t, F_VERSION, version) ||
	    !field_match(t, F_KIND, kind))
		return false;
	if (t->labels &&
	    !ks_label_selector_match(t->labels, sl_node_dig(obj, "metadata", "labels", NULL)))
		return false;
	if (t->annotations &&
	    !ks_label_selector_match(t->annotations,
	                             sl_node_dig(obj, "metadata", "annotations", NULL)))
		return false;
	return true;
}

struct ks_target *ks_target_free(struct ks_target *t)
{
	if (!t)
		return NULL;
	for (int f = 0; f < F_COUNT; f++)
		if (t->set[f])
			regfree(&t->re[f]);
	ks_label_selector_free(t->labels);
	ks_label_selector_free(t->annotations);
	free(t);
	return NULL;
}
