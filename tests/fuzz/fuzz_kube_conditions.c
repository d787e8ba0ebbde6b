/* The controller's status logic (src/controller, conditions.c and status.c):
 * what a reconciler does to an object's status before writing it back to
 * Kubernetes. The input is up to three texts split at lines "===":
 *   1. an old status, JSON;
 *   2. a new status, JSON;
 *   3. operations, one a line, run on a copy of the old status:
 *        gen N                          the stamp's generation from now on
 *        set TYPE STATUS REASON MESSAGE  sl_condition_set (STATUS True,
 *                                        False, anything else Unknown)
 *        long TYPE N                    set with a message of 32256 + N % 1024
 *                                       bytes (-N: with an invalid byte);
 *                                       the first one only
 *        del TYPE                       sl_condition_delete
 *        reconciling REASON MESSAGE     sl_condition_mark_reconciling
 *        stalled REASON MESSAGE         sl_condition_mark_stalled
 *        summarize TARGET [types=A,B] [neg=C,D] [bip=E]
 *        flux                           Ready as source-controller summarizes it
 *
 * Merge patches: for any two JSON values, sl_json_merge_diff(old, new) is
 * NULL exactly when they are equal once null members are dropped (null and
 * absent read the same in a merge patch), and applying it to old as RFC 7386
 * says (implemented here) gives new, null members aside; nothing in it is
 * there for nothing; its arguments are left alone; sl_status_patch wraps
 * the same diff in {"status": ...}. This is checked on (old, new), (new,
 * old), and on the status before and after the operations.
 *
 * Conditions: after a set the list is sorted (Stalled, Reconciling, Ready,
 * then highest observedGeneration, then type) and stays so through
 * deletions; a list unique by type stays unique; a set condition reads back
 * with its status, reason, observedGeneration and its message (cleaned to
 * valid UTF-8, cut to 32768 bytes ending in "..."), a new
 * lastTransitionTime exactly when status, reason or message changed, and a
 * second identical set changes nothing; a delete removes that type only and
 * an empty list goes; a summary follows Flux's polarity groups (a failure in
 * scope makes a positive target False, with the reason of a failing
 * condition; a False bipolar condition wins); nothing in scope changes
 * nothing; a status that is not an object is never touched. */
#include <jansson.h>

#include "codec/codec.h"
#include "controller/controller.h"
#include "fuzz.h"

#define NOW "2024-05-06T07:08:09Z"

/* ---- RFC 7386 ----------------------------------------------------------- */

static json_t *xcheck(json_t *v)
{
	FUZZ_CHECK(v != NULL);
	return v;
}

/* MergePatch(target, patch) of RFC 7386 §2, target borrowed (may be NULL),
 * result new. */
static json_t *merge_apply(const json_t *target, const json_t *patch)
{
	if (!json_is_object(patch))
		return xcheck(json_deep_copy(patch));
	json_t *out =
	    json_is_object(target) ? xcheck(json_deep_copy(target)) : xcheck(json_object());
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)patch, key, v) {
		if (json_is_null(v)) {
			json_object_del(out, key);
			continue;
		}
		json_t *merged = merge_apply(json_object_get(out, key), v);
		json_object_set_new(out, key, merged);
	}
	return out;
}

/* v with null members of objects dropped, recursively through objects;
 * arrays are values of their own in a merge patch, kept as they are. */
static json_t *drop_nulls(const json_t *v)
{
	if (!json_is_object(v))
		return xcheck(json_deep_copy(v));
	json_t *out = xcheck(json_object());
	const char *key;
	json_t *m;
	json_object_foreach ((json_t *)v, key, m) {
		if (!json_is_null(m))
			json_object_set_new(out, key, drop_nulls(m));
	}
	return out;
}

static bool same_but_nulls(const json_t *a, const json_t *b)
{
	json_t *x = drop_nulls(a), *y = drop_nulls(b);
	bool eq = json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return eq;
}

/* Nothing in the patch is there for nothing: a null only deletes a value
 * old has, a nested patch is never empty, a value always differs from
 * old's. */
static void check_minimal(const json_t *old, const json_t *patch)
{
	const char *key;
	json_t *v;
	json_object_foreach ((json_t *)patch, key, v) {
		json_t *ov = json_is_object(old) ? json_object_get(old, key) : NULL;
		if (json_is_null(v)) {
			FUZZ_CHECK(ov && !json_is_null(ov));
		} else if (json_is_object(v) && json_is_object(ov)) {
			FUZZ_CHECK(json_object_size(v) > 0);
			check_minimal(ov, v);
		} else {
			FUZZ_CHECK(!ov || !json_equal(ov, v));
		}
	}
}

static void check_merge(const json_t *old, const json_t *new_)
{
	json_t *old_copy = xcheck(json_deep_copy(old)), *new_copy = xcheck(json_deep_copy(new_));
	json_t *patch = sl_json_merge_diff(old, new_);
	FUZZ_CHECK(json_equal(old_copy, (json_t *)old) && json_equal(new_copy, (json_t *)new_));
	bool objects = json_is_object(old) && json_is_object(new_);
	if (objects) {
		FUZZ_CHECK((patch == NULL) == same_but_nulls(old, new_));
		FUZZ_CHECK(!patch || json_is_object(patch));
		if (patch)
			check_minimal(old, patch);
	} else {
		FUZZ_CHECK((patch == NULL) == json_equal((json_t *)old, (json_t *)new_));
	}
	json_t *applied = patch ? merge_apply(old, patch) : xcheck(json_deep_copy(old));
	if (!same_but_nulls(applied, new_)) {
		char *p = patch ? json_dumps(patch, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
		fprintf(stderr, "fuzz: the merge patch %s does not give the new value\n",
		        p ? p : "(none)");
		free(p);
		FUZZ_CHECK(!"applying the merge patch to old gives new");
	}
	json_decref(applied);

	if (objects) {
		json_t *body = sl_status_patch(old, new_);
		FUZZ_CHECK((body == NULL) == (patch == NULL));
		if (body) {
			FUZZ_CHECK(json_is_object(body) && json_object_size(body) == 1);
			FUZZ_CHECK(json_equal(json_object_get(body, "status"), patch));
		}
		json_decref(body);
		/* A NULL old status is an empty one. */
		json_t *empty = xcheck(json_object());
		json_t *from_null = sl_status_patch(NULL, new_),
		       *from_empty = sl_status_patch(empty, new_);
		FUZZ_CHECK((from_null == NULL) == (from_empty == NULL));
		FUZZ_CHECK(!from_null || json_equal(from_null, from_empty));
		json_decref(from_null);
		json_decref(from_empty);
		json_decref(empty);
	}
	json_decref(patch);
	json_decref(old_copy);
	json_decref(new_copy);
}

/* ---- conditions as the spec says ---------------------------------------- */

static const char *str_field(const json_t *c, const char *name)
{
	const char *s = json_string_value(json_object_get(c, name));
	return s ? s : "";
}

static int64_t gen_field(const json_t *c)
{
	json_t *g = json_object_get(c, "observedGeneration");
	return json_is_integer(g) ? (int64_t)json_integer_value(g) : 0;
}

static int rank(const char *type)
{
	return strcmp(type, "Stalled") == 0       ? 0
	       : strcmp(type, "Reconciling") == 0 ? 1
	       : strcmp(type, "Ready") == 0       ? 2
	                                          : 3;
}

/* Whether a may come before b in Flux's order. */
static bool in_order(const json_t *a, const json_t *b)
{
	const char *ta = str_field(a, "type"), *tb = str_field(b, "type");
	if (rank(ta) != rank(tb))
		return rank(ta) < rank(tb);
	if (rank(ta) == 3 && gen_field(a) != gen_field(b))
		return gen_field(a) > gen_field(b);
	return strcmp(ta, tb) <= 0;
}

static json_t *list_of(const json_t *status)
{
	json_t *l = json_object_get(status, "conditions");
	return json_is_array(l) ? l : NULL;
}

static bool is_sorted(const json_t *status)
{
	json_t *l = list_of(status);
	for (size_t i = 1; i < json_array_size(l); i++)
		if (!in_order(json_array_get(l, i - 1), json_array_get(l, i)))
			return false;
	return true;
}

/* Every entry an object with a string type, no type twice. */
static bool is_unique(const json_t *status)
{
	json_t *l = list_of(status);
	for (size_t i = 0; i < json_array_size(l); i++) {
		json_t *c = json_array_get(l, i);
		if (!json_is_string(json_object_get(c, "type")))
			return false;
		const char *type = str_field(c, "type");
		for (size_t j = 0; j < i; j++)
			if (strcmp(type, str_field(json_array_get(l, j), "type")) == 0)
				return false;
	}
	return true;
}

/* The message as set: valid UTF-8, at most the cap, msg itself when it was
 * valid and short enough, else cut on a character boundary with "...".
 * (Long messages dominate the time spent here: each is scanned once.) */
static void check_message(const char *got, const char *msg)
{
	size_t len = strlen(got), in = strlen(msg);
	FUZZ_CHECK(len <= SL_CONDITION_MESSAGE_MAX);
	if (!sl_utf8_valid(msg, in)) {
		FUZZ_CHECK(sl_utf8_valid(got, len));
		if (in <= SL_CONDITION_MESSAGE_MAX / 3)
			FUZZ_CHECK(len >= in && len <= 3 * in); /* each bad byte is U+FFFD */
		return;
	}
	if (in <= SL_CONDITION_MESSAGE_MAX) {
		FUZZ_CHECK(strcmp(got, msg) == 0);
		return;
	}
	/* a prefix of msg that ends where a character starts, then "..." */
	FUZZ_CHECK(sl_endswith(got, "..."));
	FUZZ_CHECK(len >= SL_CONDITION_MESSAGE_MAX - 3);
	FUZZ_CHECK(memcmp(got, msg, len - 3) == 0);
	FUZZ_CHECK(((unsigned char)msg[len - 3] & 0xc0) != 0x80);
}

/* The condition of type as it must read after a set. old: the entry before
 * (a copy), NULL when there was none. */
static void check_set(const json_t *status, const json_t *old, const char *type,
                      const char *cstatus, const char *reason, const char *msg, int64_t gen)
{
	json_t *c = sl_condition_get(status, type);
	FUZZ_CHECK(c != NULL);
	FUZZ_CHECK(strcmp(str_field(c, "status"), cstatus) == 0);
	FUZZ_CHECK(strcmp(str_field(c, "reason"), reason) == 0);
	check_message(str_field(c, "message"), msg);
	FUZZ_CHECK(gen_field(c) == gen);
	/* observedGeneration is omitempty */
	FUZZ_CHECK(gen != 0 || !json_object_get(c, "observedGeneration") ||
	           (old && json_equal(c, (json_t *)old)));
	bool same = old && strcmp(str_field(old, "status"), cstatus) == 0 &&
	            strcmp(str_field(old, "reason"), reason) == 0 &&
	            strcmp(str_field(old, "message"), str_field(c, "message")) == 0;
	if (!same)
		FUZZ_CHECK(strcmp(str_field(c, "lastTransitionTime"), NOW) == 0);
	else if (gen_field(old) == gen)
		FUZZ_CHECK(json_equal(c, (json_t *)old)); /* untouched */
	else
		FUZZ_CHECK(strcmp(str_field(c, "lastTransitionTime"),
		                  str_field(old, "lastTransitionTime")) == 0);
}

struct state {
	json_t *status; /* an object */
	struct sl_cond_stamp st;
	bool unique;    /* the list is unique by type: checks by type are exact */
	unsigned longs; /* long messages set so far */
	bool sorted;
};

static void check_list(struct state *s, bool was_set)
{
	json_t *l = json_object_get(s->status, "conditions");
	if (was_set)
		FUZZ_CHECK(json_is_array(l));
	if (json_is_array(l) && (was_set || s->sorted)) {
		if (!is_sorted(s->status)) {
			char *dump = json_dumps(l, JSON_COMPACT);
			fprintf(stderr, "fuzz: conditions not sorted: %s\n", dump);
			free(dump);
		}
		FUZZ_CHECK(is_sorted(s->status));
		s->sorted = true;
	}
	if (s->unique)
		FUZZ_CHECK(is_unique(s->status));
}

static json_t *copy_of(const json_t *status, const char *type)
{
	json_t *c = sl_condition_get(status, type);
	return c ? xcheck(json_deep_copy(c)) : NULL;
}

static void do_set(struct state *s, const char *type, enum sl_cond_status cs, const char *reason,
                   const char *msg)
{
	json_t *old = s->unique ? copy_of(s->status, type) : NULL;
	sl_condition_set(s->status, &s->st, type, cs, reason, "%s", msg);
	check_list(s, true);
	if (s->unique)
		check_set(s->status, old, type, sl_cond_status_str(cs), reason, msg,
		          s->st.generation);
	if (s->unique && strlen(msg) < 4096) {
		/* Setting it again changes nothing (a long message is left out:
		 * cleaning it again is the slowest thing here). */
		json_t *before = xcheck(json_deep_copy(s->status));
		sl_condition_set(s->status, &s->st, type, cs, reason, "%s", msg);
		FUZZ_CHECK(json_equal(before, s->status));
		json_decref(before);
	}
	json_decref(old);
}

static void do_delete(struct state *s, const char *type)
{
	json_t *before = xcheck(json_deep_copy(s->status));
	sl_condition_delete(s->status, type);
	check_list(s, false);
	if (s->unique) {
		FUZZ_CHECK(sl_condition_get(s->status, type) == NULL);
		/* Only that entry went; an empty list goes too. */
		json_t *l = list_of(before);
		size_t i;
		json_t *c;
		json_array_foreach (l, i, c) {
			if (strcmp(str_field(c, "type"), type) == 0) {
				json_array_remove(l, i);
				break;
			}
		}
		if (l && json_array_size(l) == 0)
			json_object_del(before, "conditions");
		FUZZ_CHECK(json_equal(before, s->status));
	}
	json_decref(before);
}

/* mark_reconciling or mark_stalled: that one True, the other gone. */
static void do_mark(struct state *s, bool reconciling, const char *reason, const char *msg)
{
	const char *gone = reconciling ? SL_COND_STALLED : SL_COND_RECONCILING;
	const char *type = reconciling ? SL_COND_RECONCILING : SL_COND_STALLED;
	json_t *old = s->unique ? copy_of(s->status, type) : NULL;
	if (reconciling)
		sl_condition_mark_reconciling(s->status, &s->st, reason, "%s", msg);
	else
		sl_condition_mark_stalled(s->status, &s->st, reason, "%s", msg);
	check_list(s, true);
	if (s->unique) {
		FUZZ_CHECK(sl_condition_get(s->status, gone) == NULL);
		check_set(s->status, old, type, "True", reason, msg, s->st.generation);
	}
	json_decref(old);
}

static bool listed(const char *const *list, const char *type)
{
	for (; list && *list; list++)
		if (strcmp(*list, type) == 0)
			return true;
	return false;
}

/* Flux's groups: 0 something wrong (True-negative), 1 something wrong
 * (False-positive), 2 fine (True-positive), 3 fine (False-negative),
 * 4 Unknown, 99 neither. */
static int group_of(const json_t *c, const struct sl_summary_opts *o)
{
	const char *st = str_field(c, "status");
	bool neg = listed(o->negative, str_field(c, "type"));
	if (strcmp(st, "True") == 0)
		return neg ? 0 : 2;
	if (strcmp(st, "False") == 0)
		return neg ? 3 : 1;
	return strcmp(st, "Unknown") == 0 ? 4 : 99;
}

static bool scoped(const json_t *c, const char *target, const struct sl_summary_opts *o)
{
	const char *type = str_field(c, "type");
	return strcmp(type, target) != 0 && (!o->types || listed(o->types, type));
}

static void do_summarize(struct state *s, const char *target, const struct sl_summary_opts *o)
{
	json_t *before = xcheck(json_deep_copy(s->status));
	json_t *l = list_of(before);
	int top = 1000;
	size_t i;
	json_t *c;
	json_array_foreach (l, i, c) {
		if (scoped(c, target, o) && group_of(c, o) < top)
			top = group_of(c, o);
	}
	/* The bipolar condition that decides, if any. */
	const json_t *bip = NULL;
	for (const char *const *b = o->bipolar; b && *b && !bip; b++) {
		json_t *bc = strcmp(*b, target) ? sl_condition_get(before, *b) : NULL;
		if (bc && strcmp(str_field(bc, "status"), "False") == 0)
			bip = bc;
	}
	json_t *old_target = s->unique ? copy_of(before, target) : NULL;

	sl_conditions_summarize(s->status, &s->st, target, o);

	if (top == 1000) {
		FUZZ_CHECK(json_equal(before, s->status)); /* nothing in scope */
		goto out;
	}
	check_list(s, true);
	if (!s->unique)
		goto out;
	json_t *t = sl_condition_get(s->status, target);
	FUZZ_CHECK(t != NULL);
	if (bip) {
		FUZZ_CHECK(strcmp(str_field(t, "status"), "False") == 0);
		FUZZ_CHECK(strcmp(str_field(t, "reason"), str_field(bip, "reason")) == 0);
		check_message(str_field(t, "message"), str_field(bip, "message"));
		goto out;
	}
	bool wrong = top == 0 || top == 1, fine = top == 2 || top == 3;
	bool target_neg = listed(o->negative, target);
	const char *want = wrong  ? (target_neg ? "True" : "False")
	                   : fine ? (target_neg ? "False" : "True")
	                          : "Unknown";
	FUZZ_CHECK(strcmp(str_field(t, "status"), want) == 0);
	/* The reason and message of a condition of the top group: with a
	 * priority list, the first type of it that has one. */
	const json_t *from = NULL;
	for (const char *const *p = o->types; p && *p && !from; p++) {
		json_t *pc = strcmp(*p, target) ? sl_condition_get(before, *p) : NULL;
		if (pc && group_of(pc, o) == top)
			from = pc;
	}
	bool found = from != NULL;
	json_array_foreach (l, i, c) {
		if (!found && scoped(c, target, o) && group_of(c, o) == top &&
		    strcmp(str_field(c, "reason"), str_field(t, "reason")) == 0)
			found = true;
	}
	FUZZ_CHECK(found);
	if (from) {
		FUZZ_CHECK(strcmp(str_field(t, "reason"), str_field(from, "reason")) == 0);
		check_message(str_field(t, "message"), str_field(from, "message"));
	}
	check_set(s->status, old_target, target, want, str_field(t, "reason"),
	          str_field(t, "message"), s->st.generation);
	/* A second summary changes nothing (left out with a long message, as
	 * in do_set). */
	if (strlen(str_field(t, "message")) < 4096) {
		json_t *once = xcheck(json_deep_copy(s->status));
		sl_conditions_summarize(s->status, &s->st, target, o);
		FUZZ_CHECK(json_equal(once, s->status));
		json_decref(once);
	}
out:
	json_decref(old_target);
	json_decref(before);
}

/* ---- operations ----------------------------------------------------------- */

/* Types and reasons are constants of the controllers: valid UTF-8 without
 * NUL (json_string refuses anything else, and the library aborts). */
static bool name_ok(const char *s)
{
	return sl_utf8_valid(s, strlen(s));
}

/* The next word of *p (NUL-terminated in place), *p moved past it; NULL at
 * the end of the line. What *p points at then is the rest of the line. */
static char *word(char **p)
{
	char *w = *p + strspn(*p, " \t\r");
	if (!*w)
		return NULL;
	char *e = w + strcspn(w, " \t\r");
	*p = *e ? e + 1 : e;
	*e = '\0';
	return w;
}

/* "a,b,c" as a NULL-terminated list of pointers into s. */
static const char **list_words(char *s)
{
	size_t n = 1;
	for (char *p = s; *p; p++)
		n += *p == ',';
	const char **list = sl_xcalloc(n + 1, sizeof(*list));
	size_t i = 0;
	for (char *tok = s, *next; tok; tok = next) {
		next = strchr(tok, ',');
		if (next)
			*next++ = '\0';
		if (name_ok(tok))
			list[i++] = tok;
	}
	return list;
}

static enum sl_cond_status parse_status(const char *s)
{
	return strcmp(s, "True") == 0    ? SL_COND_TRUE
	       : strcmp(s, "False") == 0 ? SL_COND_FALSE
	                                 : SL_COND_UNKNOWN;
}

/* A message of n bytes: two-byte characters, an ASCII byte now and then so
 * the cut may fall inside a character, and a stray continuation byte. */
static char *long_message(size_t n, bool invalid)
{
	char *m = sl_xmalloc(n + 1);
	for (size_t i = 0; i < n;) {
		if (i % 7 == 3 || i + 1 == n) {
			m[i++] = 'a';
		} else {
			m[i++] = (char)0xc3;
			m[i++] = (char)0xa9;
		}
	}
	if (invalid && n > 10)
		m[n / 2] = (char)0x80;
	m[n] = '\0';
	return m;
}

static void run_op(struct state *s, char *line)
{
	char *p = line;
	char *op = word(&p);
	if (!op)
		return;
	char *w[3] = {NULL, NULL, NULL};
	if (strcmp(op, "set") == 0) {
		/* set TYPE STATUS REASON MESSAGE... */
		for (size_t i = 0; i < 3; i++)
			w[i] = word(&p);
		if (w[2] && name_ok(w[0]) && name_ok(w[2]))
			do_set(s, w[0], parse_status(w[1]), w[2], p);
		return;
	}
	if (strcmp(op, "reconciling") == 0 || strcmp(op, "stalled") == 0) {
		/* reconciling REASON MESSAGE... */
		w[0] = word(&p);
		if (w[0] && name_ok(w[0]))
			do_mark(s, op[0] == 'r', w[0], p);
		return;
	}
	for (size_t i = 0; i < 3; i++)
		w[i] = word(&p);
	if (strcmp(op, "gen") == 0 && w[0]) {
		s->st.generation = strtoll(w[0], NULL, 10);
	} else if (strcmp(op, "long") == 0 && w[1] && s->longs++ < 1) {
		/* long TYPE N: N bytes past 32768 - 512, around the cut (to
		 * 32768 + 511); a '-' before N adds an invalid byte. One per
		 * input: it costs as much as thousands of short sets. */
		size_t len = SL_CONDITION_MESSAGE_MAX - 512 +
		             strtoul(w[1] + (w[1][0] == '-'), NULL, 10) % 1024;
		char *m = long_message(len, w[1][0] == '-');
		if (name_ok(w[0]))
			do_set(s, w[0], SL_COND_FALSE, "Long", m);
		free(m);
	} else if (strcmp(op, "del") == 0 && w[0]) {
		do_delete(s, w[0]);
	} else if (strcmp(op, "summarize") == 0 && w[0]) {
		/* summarize TARGET [types=A,B] [neg=C] [bip=D] */
		if (!name_ok(w[0]))
			return;
		const char **lists[3] = {NULL, NULL, NULL};
		static const char *const keys[3] = {"types=", "neg=", "bip="};
		char *opt[8];
		size_t nopt = 0;
		for (size_t i = 1; i < 3 && w[i]; i++)
			opt[nopt++] = w[i];
		for (char *x; nopt < 8 && (x = word(&p));)
			opt[nopt++] = x;
		for (size_t i = 0; i < nopt; i++)
			for (size_t k = 0; k < 3; k++)
				if (sl_startswith(opt[i], keys[k]) && !lists[k])
					lists[k] = list_words(opt[i] + strlen(keys[k]));
		struct sl_summary_opts o = {lists[0], lists[1], lists[2]};
		do_summarize(s, w[0], &o);
		for (size_t k = 0; k < 3; k++)
			free(lists[k]);
	} else if (strcmp(op, "flux") == 0) {
		/* source-controller's OCIRepository summary */
		static const char *const types[] = {"StorageOperationFailed",
		                                    "FetchFailed",
		                                    "ArtifactOutdated",
		                                    "ArtifactInStorage",
		                                    "SourceVerified",
		                                    "Stalled",
		                                    "Reconciling",
		                                    NULL};
		static const char *const neg[] = {"StorageOperationFailed",
		                                  "FetchFailed",
		                                  "ArtifactOutdated",
		                                  "Stalled",
		                                  "Reconciling",
		                                  NULL};
		static const char *const bip[] = {"SourceVerified", NULL};
		struct sl_summary_opts o = {types, neg, bip};
		do_summarize(s, SL_COND_READY, &o);
	}
}

/* The operations on something that is not an object: nothing happens. */
static void run_on_non_object(json_t *v)
{
	json_t *before = xcheck(json_deep_copy(v));
	struct sl_cond_stamp st = {.generation = 1, .now = NOW};
	sl_condition_set(v, &st, "Ready", SL_COND_TRUE, "Succeeded", "ok");
	sl_condition_mark_reconciling(v, &st, "Progressing", "x");
	sl_condition_mark_stalled(v, &st, "Failed", "x");
	sl_condition_delete(v, "Ready");
	sl_conditions_summarize(v, &st, "Ready", NULL);
	FUZZ_CHECK(json_equal(before, v));
	json_decref(before);
}

static void run_ops(const json_t *old, char *ops)
{
	struct state s = {0};
	s.status = json_is_object(old) ? xcheck(json_deep_copy(old)) : xcheck(json_object());
	s.st.generation = 1;
	memcpy(s.st.now, NOW, sizeof(NOW));
	s.unique = is_unique(s.status);
	s.sorted = is_sorted(s.status);
	json_t *start = xcheck(json_deep_copy(s.status));
	for (char *line = ops, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		run_op(&s, line);
	}
	/* The write the reconciler would make. */
	check_merge(start, s.status);
	json_decref(start);
	json_decref(s.status);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	char *parts[3] = {text, NULL, NULL};
	size_t n = 1;
	for (char *p = text; n < 3 && (p = strstr(p, "\n===\n"));) {
		*p = '\0';
		parts[n++] = p + 5;
		p += 5;
	}
	json_t *old = json_loads(parts[0], JSON_DECODE_ANY, NULL);
	json_t *new_ = parts[1] ? json_loads(parts[1], JSON_DECODE_ANY, NULL) : NULL;
	if (old && new_) {
		check_merge(old, new_);
		check_merge(new_, old);
	}
	if (old && !json_is_object(old))
		run_on_non_object(old);
	if (parts[2])
		run_ops(old, parts[2]);
	else if (old)
		check_merge(old, old);
	json_decref(old);
	json_decref(new_);
	free(text);
	return 0;
}
