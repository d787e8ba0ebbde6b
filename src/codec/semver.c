/* Semantic versions and constraints as Masterminds/semver v3.5 reads them
 * (version.go, constraints.go), which is what Flux's source-controller,
 * image-reflector-controller and CLI link. Masterminds is defined by Go
 * regular expressions; each is matched here by a hand-written scanner that
 * accepts exactly the same strings and splits them the same way, with the
 * reasoning next to it. */
#include <string.h>

#include "codec/codec.h"

/* ---- characters ------------------------------------------------------ */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* [0-9A-Za-z-]: prerelease and metadata identifiers */
static bool is_ident_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

/* Go's RE2 \s is ASCII [\t\n\f\r ] (no \v) */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* Masterminds writes a constraint's version segment as [0-9|x|X|\*]+: the
 * '|' is a literal member of the class, so "1|2" gets past the grammar and
 * is refused only later, when the version is parsed. */
static bool is_segment_char(char c)
{
	return is_digit(c) || c == 'x' || c == 'X' || c == '*' || c == '|';
}

static bool is_op_char(char c)
{
	return c && strchr("=!<>~^", c);
}

static size_t skip_space(const char *s, size_t n, size_t i)
{
	while (i < n && is_space(s[i]))
		i++;
	return i;
}

/* strconv.ParseUint(s, 10, 64): digits only, at least one, no overflow. */
static bool parse_u64(const char *s, size_t n, uint64_t *ret)
{
	if (n == 0)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = v;
	return true;
}

/* Go's %q, near enough for error messages: printable ASCII as is, the rest
 * escaped, so a hostile tag cannot put control characters in a status. */
static char *quote(const char *s, size_t n)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	sl_buf_append(&b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			sl_buf_printf(&b, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			sl_buf_append(&b, &s[i], 1);
		else
			sl_buf_printf(&b, "\\x%02x", c);
	}
	sl_buf_append(&b, "\"", 1);
	return sl_buf_steal(&b);
}

/* Consumes ident(\.ident)* greedily from s[*i]; false when not even one
 * identifier starts there. */
static bool scan_identifiers(const char *s, size_t n, size_t *i)
{
	size_t k = *i;
	if (k >= n || !is_ident_char(s[k]))
		return false;
	for (;;) {
		while (k < n && is_ident_char(s[k]))
			k++;
		if (k + 1 < n && s[k] == '.' && is_ident_char(s[k + 1]))
			k++;
		else
			break;
	}
	*i = k;
	return true;
}

/* ---- versions -------------------------------------------------------- */

/* Where the parts of a version sit in its text; ranges are [start, end). */
struct version_layout {
	size_t num[3][2];
	size_t n_num;
	size_t pre[2];  /* without the '-'; empty when absent */
	size_t meta[2]; /* without the '+'; empty when absent */
};

/* Masterminds' loose version regex, anchored at both ends:
 *   ^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-IDENTS)?(\+IDENTS)?$
 * None of the parts can contain the character that starts the next one,
 * so a left-to-right scan decides the match and its groups. */
static bool scan_version(const char *s, size_t n, struct version_layout *l)
{
	memset(l, 0, sizeof(*l));
	size_t i = 0;
	if (i < n && s[i] == 'v')
		i++;
	for (size_t k = 0; k < 3; k++) {
		if (k > 0) {
			if (i >= n || s[i] != '.')
				break;
			i++;
		}
		size_t start = i;
		while (i < n && is_digit(s[i]))
			i++;
		if (i == start)
			return false;
		l->num[k][0] = start;
		l->num[k][1] = i;
		l->n_num = k + 1;
	}
	if (i < n && s[i] == '-') {
		l->pre[0] = ++i;
		if (!scan_identifiers(s, n, &i))
			return false;
		l->pre[1] = i;
	}
	if (i < n && s[i] == '+') {
		l->meta[0] = ++i;
		if (!scan_identifiers(s, n, &i))
			return false;
		l->meta[1] = i;
	}
	return i == n;
}

/* semver.org: numeric prerelease identifiers have no leading zeros. The
 * regex already limited the characters; build metadata has no such rule. */
static bool prerelease_valid(const char *s, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		bool numeric = true;
		for (size_t k = start; k < i; k++)
			numeric = numeric && is_digit(s[k]);
		if (numeric && i - start > 1 && s[start] == '0')
			return false;
		start = i + 1;
	}
	return true;
}

int sl_semver_parse(const char *text, struct sl_semver *ret, struct sl_error *err)
{
	size_t n = strlen(text);
	if (n > SL_SEMVER_MAX_VERSION_BYTES)
		return sl_error_set(err, SL_ELIMIT, "version string is too long (max %d bytes)",
		                    SL_SEMVER_MAX_VERSION_BYTES);
	struct version_layout l;
	if (!scan_version(text, n, &l)) {
		_cleanup_free_ char *q = quote(text, n);
		return sl_error_set(err, SL_EINVAL, "version %s: invalid semantic version", q);
	}
	uint64_t num[3] = {0, 0, 0};
	for (size_t k = 0; k < l.n_num; k++) {
		if (!parse_u64(text + l.num[k][0], l.num[k][1] - l.num[k][0], &num[k])) {
			_cleanup_free_ char *q = quote(text, n);
			return sl_error_set(err, SL_EINVAL,
			                    "version %s: version segment out of range", q);
		}
	}
	size_t pre_len = l.pre[1] - l.pre[0];
	if (!prerelease_valid(text + l.pre[0], pre_len)) {
		_cleanup_free_ char *q = quote(text, n);
		return sl_error_set(err, SL_EINVAL, "version %s: prerelease segment starts with 0",
		                    q);
	}
	size_t meta_len = l.meta[1] - l.meta[0];
	*ret = (struct sl_semver){
	    .major = num[0],
	    .minor = num[1],
	    .patch = num[2],
	    .pre = pre_len ? sl_strndup(text + l.pre[0], pre_len) : NULL,
	    .meta = meta_len ? sl_strndup(text + l.meta[0], meta_len) : NULL,
	    .original = sl_strdup(text),
	};
	return 0;
}

void sl_semver_clear(struct sl_semver *v)
{
	if (!v)
		return;
	free(v->pre);
	free(v->meta);
	free(v->original);
	*v = (struct sl_semver){0};
}

/* fluxcd/pkg version.ParseVersion: strings.SplitN(tag, ".", 3) must give
 * three parts before Masterminds is asked. */
static int parse_flux_version(const char *tag, struct sl_semver *ret)
{
	const char *dot = strchr(tag, '.');
	if (!dot || !strchr(dot + 1, '.'))
		return SL_EINVAL;
	return sl_semver_parse(tag, ret, NULL);
}

bool sl_semver_is_flux_version(const char *tag)
{
	struct sl_semver v;
	if (parse_flux_version(tag, &v) < 0)
		return false;
	sl_semver_clear(&v);
	return true;
}

static bool has_pre(const struct sl_semver *v)
{
	return v->pre && *v->pre;
}

static int compare_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

/* Masterminds' comparePrePart, quirks included: an identifier counts as
 * numeric when strconv.ParseUint accepts it, so one too large for uint64
 * compares as text. */
static int compare_identifier(const char *a, size_t an, const char *b, size_t bn)
{
	if (an == bn && memcmp(a, b, an) == 0)
		return 0;
	if (an == 0)
		return -1;
	if (bn == 0)
		return 1;
	uint64_t ai = 0, bi = 0;
	bool a_num = parse_u64(a, an, &ai);
	bool b_num = parse_u64(b, bn, &bi);
	if (!a_num && !b_num) {
		int d = memcmp(a, b, an < bn ? an : bn);
		if (d == 0)
			d = an < bn ? -1 : 1;
		return d > 0 ? 1 : -1;
	}
	if (!b_num)
		return -1; /* numeric < alphanumeric */
	if (!a_num)
		return 1;
	return ai > bi ? 1 : -1;
}

/* Masterminds' comparePrerelease: identifiers left to right, a missing one
 * lower than any present. NULL and "" are both one empty identifier, as
 * strings.Split("", ".") is [""]. */
static int compare_prerelease(const char *a, const char *b)
{
	a = a ? a : "";
	b = b ? b : "";
	for (;;) {
		size_t an = strcspn(a, "."), bn = strcspn(b, ".");
		int d = compare_identifier(a, an, b, bn);
		if (d != 0)
			return d;
		bool a_more = a[an] == '.', b_more = b[bn] == '.';
		if (!a_more && !b_more)
			return 0;
		/* the list that ran out goes on as empty identifiers */
		a = a_more ? a + an + 1 : a + an;
		b = b_more ? b + bn + 1 : b + bn;
	}
}

int sl_semver_compare(const struct sl_semver *a, const struct sl_semver *b)
{
	int d = compare_u64(a->major, b->major);
	if (d == 0)
		d = compare_u64(a->minor, b->minor);
	if (d == 0)
		d = compare_u64(a->patch, b->patch);
	if (d != 0)
		return d;
	bool a_pre = has_pre(a), b_pre = has_pre(b);
	if (!a_pre && !b_pre)
		return 0;
	if (!a_pre)
		return 1; /* a release outranks its prereleases */
	if (!b_pre)
		return -1;
	return compare_prerelease(a->pre, b->pre);
}

/* ---- constraints ----------------------------------------------------- */

enum op { OP_EQUAL, OP_NOT_EQUAL, OP_GT, OP_LT, OP_GE, OP_LE, OP_TILDE, OP_CARET };

static const struct {
	const char *text;
	enum op op;
} ops[] = {
    {"", OP_EQUAL}, {"=", OP_EQUAL}, {"!=", OP_NOT_EQUAL}, {">", OP_GT},
    {"<", OP_LT},   {">=", OP_GE},   {"=>", OP_GE},        {"<=", OP_LE},
    {"=<", OP_LE},  {"~", OP_TILDE}, {"~>", OP_TILDE},     {"^", OP_CARET},
};

/* One comparison. A version with wildcards or missing parts is "dirty":
 * x.y.z with the wildcard parts as 0, and flags saying which were wild. */
struct item {
	enum op op;
	struct sl_semver con;
	bool dirty, minor_dirty, patch_dirty;
};

/* Comparisons joined by AND. */
struct group {
	struct item *items;
	size_t n;
	bool has_pre; /* some item names a prerelease: prereleases may match */
};

struct sl_semver_constraint {
	struct group *groups;
	size_t n;
};

/* A constraint version as Masterminds' cvRegex splits it:
 *   v?(SEG)(\.SEG)?(\.SEG)?(-IDENTS)?(\+IDENTS)?   SEG = [0-9|xX*]+ */
struct cv {
	size_t start, end;
	size_t seg[3][2];
	size_t n_seg;
	size_t pre[2]; /* including the '-', as Masterminds' m[6]; empty when absent */
};

/* Matches cvRegex at s[i] (within s[..n]) the way Go's leftmost-first
 * matcher prefers: every optional part taken when it can be. The parts
 * cannot contain the character that starts the next, so when some match
 * spans exactly s[i..n) this is it. False when nothing matches at i. */
static bool match_cv(const char *s, size_t i, size_t n, struct cv *cv)
{
	memset(cv, 0, sizeof(*cv));
	cv->start = i;
	if (i + 1 < n && s[i] == 'v' && is_segment_char(s[i + 1]))
		i++;
	for (size_t k = 0; k < 3; k++) {
		size_t start = i + (k > 0);
		if (k > 0 && !(i < n && s[i] == '.' && start < n && is_segment_char(s[start])))
			break;
		i = start;
		while (i < n && is_segment_char(s[i]))
			i++;
		if (i == start)
			return false;
		cv->seg[k][0] = start;
		cv->seg[k][1] = i;
		cv->n_seg = k + 1;
	}
	if (i + 1 < n && s[i] == '-' && is_ident_char(s[i + 1])) {
		cv->pre[0] = i++;
		scan_identifiers(s, n, &i);
		cv->pre[1] = i;
	}
	if (i + 1 < n && s[i] == '+' && is_ident_char(s[i + 1])) {
		i++;
		scan_identifiers(s, n, &i);
	}
	cv->end = i;
	return true;
}

/* Exactly one of Masterminds' wildcards x, X and *. */
static bool is_wildcard(const char *s, const size_t range[2])
{
	return range[1] - range[0] == 1 && strchr("xX*", s[range[0]]);
}

/* ---- hyphen ranges --------------------------------------------------- */

struct range_match {
	size_t start, end; /* the whole match, surrounding whitespace included */
	size_t a[2], b[2];
};

/* The leftmost match of `\s*(CV)\s+-\s+(CV)\s*` in s at or after from.
 * The first version is followed by whitespace and contains none, so at any
 * start it spans up to the next whitespace and must match whole; the
 * second takes what the greedy match takes. */
static bool find_range(const char *s, size_t n, size_t from, struct range_match *m)
{
	for (size_t p = from; p < n; p++) {
		size_t q = skip_space(s, n, p);
		size_t w = q;
		while (w < n && !is_space(s[w]))
			w++;
		struct cv a, b;
		if (w == q || w == n || !match_cv(s, q, w, &a) || a.end != w)
			continue;
		size_t r = skip_space(s, n, w);
		if (r == n || s[r] != '-')
			continue;
		size_t r2 = skip_space(s, n, r + 1);
		if (r2 == r + 1 || !match_cv(s, r2, n, &b))
			continue;
		*m = (struct range_match){
		    .start = p,
		    .end = skip_space(s, n, b.end),
		    .a = {q, w},
		    .b = {r2, b.end},
		};
		return true;
	}
	return false;
}

/* Masterminds' rewriteRange: every "A - B" found in the original text
 * becomes ">= A, <= B " (the whitespace around it consumed), each by
 * replacing the first occurrence of the matched text in the text rewritten
 * so far, as strings.Replace(o, match, t, 1) does. */
static char *rewrite_ranges(const char *text)
{
	size_t n = strlen(text);
	char *o = sl_strdup(text);
	struct range_match m;
	for (size_t from = 0; find_range(text, n, from, &m); from = m.end) {
		_cleanup_free_ char *t =
		    sl_asprintf(">= %.*s, <= %.*s ", (int)(m.a[1] - m.a[0]), text + m.a[0],
		                (int)(m.b[1] - m.b[0]), text + m.b[0]);
		size_t mlen = m.end - m.start;
		char *at = memmem(o, strlen(o), text + m.start, mlen);
		if (!at)
			continue; /* cannot happen: the text is still there */
		char *next = sl_asprintf("%.*s%s%s", (int)(at - o), o, t, at + mlen);
		free(o);
		o = next;
	}
	return o;
}

/* ---- groups ---------------------------------------------------------- */

/* Where one comparison sits in a group's text. */
struct item_span {
	enum op op;
	size_t start; /* the operator */
	struct cv cv;
};

static bool lookup_op(const char *s, size_t n, enum op *ret)
{
	for (size_t k = 0; k < SL_ARRAY_SIZE(ops); k++) {
		if (strlen(ops[k].text) == n && memcmp(ops[k].text, s, n) == 0) {
			*ret = ops[k].op;
			return true;
		}
	}
	return false;
}

/* Masterminds validates a group against
 *   ^(\s*OP\s*CV\s*)((?:\s+|,\s*)OP\s*CV\s*)*$
 * and then cuts it into comparisons with `OP\s*CV`. A version can neither
 * contain nor start with an operator character, whitespace or a comma, so
 * an operator is the whole run of operator characters before it, the
 * version the whole run up to the next whitespace or comma, and both
 * regexes see the same comparisons. Returns the number of comparisons in
 * *ret_spans (caller frees), or false when the group is improper. */
static bool scan_group(const char *g, size_t n, struct item_span **ret_spans, size_t *ret_n)
{
	_cleanup_free_ struct item_span *spans = NULL;
	size_t count = 0;
	size_t i = skip_space(g, n, 0);
	for (;;) {
		struct item_span sp = {.start = i};
		while (i < n && is_op_char(g[i]))
			i++;
		if (!lookup_op(g + sp.start, i - sp.start, &sp.op))
			return false;
		i = skip_space(g, n, i);
		size_t w = i;
		while (w < n && !is_space(g[w]) && g[w] != ',')
			w++;
		if (w == i || !match_cv(g, i, w, &sp.cv) || sp.cv.end != w)
			return false;
		spans = sl_xrealloc(spans, (count + 1) * sizeof(*spans));
		spans[count++] = sp;
		i = skip_space(g, n, w);
		if (i == n)
			break;
		/* the version ended at whitespace (now skipped) or a comma */
		if (g[i] == ',')
			i = skip_space(g, n, i + 1);
	}
	*ret_spans = TAKE_PTR(spans);
	*ret_n = count;
	return true;
}

/* Masterminds' parseConstraint: a wildcard or missing part makes the
 * version dirty from there on, the parts after it 0 and its metadata
 * dropped ("1.x+b" is 1.0.0 minor-dirty); a full version is kept as
 * written. */
static int parse_item(const char *g, const struct item_span *sp, struct item *ret,
                      struct sl_error *err)
{
	const struct cv *cv = &sp->cv;
	const char *seg[3];
	int seg_len[3];
	for (size_t k = 0; k < 3; k++) {
		seg[k] = g + cv->seg[k][0];
		seg_len[k] = (int)(cv->seg[k][1] - cv->seg[k][0]);
	}
	int pre_len = (int)(cv->pre[1] - cv->pre[0]);
	const char *pre = g + cv->pre[0];
	struct item it = {.op = sp->op};
	_cleanup_free_ char *ver = NULL;
	if (is_wildcard(g, cv->seg[0])) {
		it.dirty = true;
		ver = sl_asprintf("0.0.0%.*s", pre_len, pre);
	} else if (cv->n_seg < 2 || is_wildcard(g, cv->seg[1])) {
		it.dirty = it.minor_dirty = true;
		ver = sl_asprintf("%.*s.0.0%.*s", seg_len[0], seg[0], pre_len, pre);
	} else if (cv->n_seg < 3 || is_wildcard(g, cv->seg[2])) {
		it.dirty = it.patch_dirty = true;
		ver = sl_asprintf("%.*s.%.*s.0%.*s", seg_len[0], seg[0], seg_len[1], seg[1],
		                  pre_len, pre);
	} else {
		ver = sl_strndup(g + cv->start, cv->end - cv->start);
	}
	int r = sl_semver_parse(ver, &it.con, err);
	if (r < 0) {
		_cleanup_free_ char *q = quote(g + sp->start, cv->end - sp->start);
		return sl_error_wrap(err, SL_EINVAL, "improper constraint: %s", q);
	}
	*ret = it;
	return 0;
}

static void group_clear(struct group *grp)
{
	for (size_t k = 0; k < grp->n; k++)
		sl_semver_clear(&grp->items[k].con);
	free(grp->items);
	*grp = (struct group){0};
}

static int parse_group(const char *g, size_t n, struct group *ret, struct sl_error *err)
{
	_cleanup_free_ struct item_span *spans = NULL;
	size_t count = 0;
	if (!scan_group(g, n, &spans, &count)) {
		_cleanup_free_ char *q = quote(g, n);
		return sl_error_set(err, SL_EINVAL, "improper constraint: %s", q);
	}
	struct group grp = {.items = sl_xcalloc(count, sizeof(struct item))};
	for (size_t k = 0; k < count; k++) {
		int r = parse_item(g, &spans[k], &grp.items[k], err);
		if (r < 0) {
			group_clear(&grp);
			return r;
		}
		grp.n++;
		if (has_pre(&grp.items[k].con))
			grp.has_pre = true;
	}
	*ret = grp;
	return 0;
}

void sl_semver_constraint_free(struct sl_semver_constraint *c)
{
	if (!c)
		return;
	for (size_t k = 0; k < c->n; k++)
		group_clear(&c->groups[k]);
	free(c->groups);
	free(c);
}

int sl_semver_constraint_parse(const char *text, struct sl_semver_constraint **ret,
                               struct sl_error *err)
{
	if (strlen(text) > SL_SEMVER_MAX_CONSTRAINT_BYTES)
		return sl_error_set(err, SL_ELIMIT, "constraint string is too long (max %d bytes)",
		                    SL_SEMVER_MAX_CONSTRAINT_BYTES);
	_cleanup_free_ char *rewritten = rewrite_ranges(text);

	/* strings.Split(c, "||"): "a|||b" is "a" and "|b" */
	size_t n_groups = 1;
	for (const char *p = rewritten; (p = strstr(p, "||")); p += 2)
		n_groups++;
	if (n_groups > SL_SEMVER_MAX_GROUPS)
		return sl_error_set(err, SL_ELIMIT, "too many constraint groups (max %d)",
		                    SL_SEMVER_MAX_GROUPS);

	_cleanup_(sl_semver_constraint_freep) struct sl_semver_constraint *c =
	    sl_xcalloc(1, sizeof(*c));
	c->groups = sl_xcalloc(n_groups, sizeof(struct group));
	const char *g = rewritten;
	for (size_t k = 0; k < n_groups; k++) {
		const char *bar = strstr(g, "||");
		size_t len = bar ? (size_t)(bar - g) : strlen(g);
		int r = parse_group(g, len, &c->groups[k], err);
		if (r < 0)
			return r;
		c->n++;
		if (bar)
			g = bar + 2;
	}
	*ret = TAKE_PTR(c);
	return 0;
}

/* ---- checking -------------------------------------------------------- */

/* The operator functions of constraints.go, branch for branch: their
 * corners are part of what Flux does ("!=*" is "!=0.0.0", "<=*" is
 * "<=0.0.x", and "^*" only matches 0.0.0 because it sets no minor- or
 * patch-dirty flag). */

static bool check_tilde(const struct item *c, const struct sl_semver *v)
{
	const struct sl_semver *con = &c->con;
	if (sl_semver_compare(v, con) < 0)
		return false;
	/* ~0.0.0 accepts everything */
	if (con->major == 0 && con->minor == 0 && con->patch == 0 && !c->minor_dirty &&
	    !c->patch_dirty)
		return true;
	if (v->major != con->major)
		return false;
	return v->minor == con->minor || c->minor_dirty;
}

static bool check_caret(const struct item *c, const struct sl_semver *v)
{
	const struct sl_semver *con = &c->con;
	if (sl_semver_compare(v, con) < 0)
		return false;
	if (con->major > 0 || c->minor_dirty)
		return v->major == con->major;
	if (v->major > 0)
		return false;
	if (con->minor > 0 || c->patch_dirty)
		return v->minor == con->minor;
	if (v->minor > 0)
		return false;
	return v->patch == con->patch;
}

static bool check_not_equal(const struct item *c, const struct sl_semver *v)
{
	const struct sl_semver *con = &c->con;
	if (c->dirty) {
		if (con->major != v->major)
			return true;
		if (con->minor != v->minor && !c->minor_dirty)
			return true;
		if (c->minor_dirty)
			return false;
		if (con->patch != v->patch && !c->patch_dirty)
			return true;
		if (c->patch_dirty) {
			if (has_pre(v) || has_pre(con))
				return compare_prerelease(v->pre, con->pre) != 0;
			return false;
		}
	}
	return sl_semver_compare(v, con) != 0;
}

static bool check_greater(const struct item *c, const struct sl_semver *v)
{
	const struct sl_semver *con = &c->con;
	if (!c->dirty)
		return sl_semver_compare(v, con) > 0;
	if (v->major != con->major)
		return v->major > con->major;
	if (c->minor_dirty)
		return false; /* 11.1.0 is not > 11 */
	if (c->patch_dirty)
		return v->minor > con->minor;
	return sl_semver_compare(v, con) > 0;
}

static bool check_less_equal(const struct item *c, const struct sl_semver *v)
{
	const struct sl_semver *con = &c->con;
	if (!c->dirty)
		return sl_semver_compare(v, con) <= 0;
	if (v->major > con->major)
		return false;
	return !(v->major == con->major && v->minor > con->minor && !c->minor_dirty);
}

static bool check_item(const struct item *c, const struct sl_semver *v, bool include_pre)
{
	/* Masterminds v3.4+: prereleases only for groups that name one */
	if (has_pre(v) && !include_pre)
		return false;
	switch (c->op) {
	case OP_EQUAL:
		if (c->dirty)
			return check_tilde(c, v);
		return sl_semver_compare(v, &c->con) == 0;
	case OP_NOT_EQUAL: return check_not_equal(c, v);
	case OP_GT: return check_greater(c, v);
	case OP_LT: return sl_semver_compare(v, &c->con) < 0;
	case OP_GE: return sl_semver_compare(v, &c->con) >= 0;
	case OP_LE: return check_less_equal(c, v);
	case OP_TILDE: return check_tilde(c, v);
	case OP_CARET: return check_caret(c, v);
	}
	return false;
}

bool sl_semver_constraint_check(const struct sl_semver_constraint *c, const struct sl_semver *v)
{
	for (size_t k = 0; k < c->n; k++) {
		const struct group *grp = &c->groups[k];
		bool all = true;
		for (size_t i = 0; i < grp->n && all; i++)
			all = check_item(&grp->items[i], v, grp->has_pre);
		if (all)
			return true;
	}
	return false;
}

/* ---- latest ---------------------------------------------------------- */

int sl_semver_latest(const char *const *tags, size_t n, const struct sl_semver_constraint *c,
                     size_t *ret_index)
{
	struct sl_semver best = {0};
	size_t best_index = 0;
	bool found = false;
	for (size_t i = 0; i < n; i++) {
		struct sl_semver v;
		if (!tags[i] || parse_flux_version(tags[i], &v) < 0)
			continue;
		if (c && !sl_semver_constraint_check(c, &v)) {
			sl_semver_clear(&v);
			continue;
		}
		int d = found ? sl_semver_compare(&v, &best) : 1;
		/* Flux's sort leaves equal versions in list order; the greater
		 * text wins here so the answer never depends on that order. */
		if (d > 0 || (d == 0 && strcmp(tags[i], tags[best_index]) > 0)) {
			sl_semver_clear(&best);
			best = v;
			best_index = i;
			found = true;
		} else {
			sl_semver_clear(&v);
		}
	}
	sl_semver_clear(&best);
	if (!found)
		return SL_ENOTFOUND;
	*ret_index = best_index;
	return 0;
}
