/* The YAML reader's raw tree into sl_node values, as go-yaml v3 decodes what
 * kustomize hands it: kyaml expands aliases and merge keys on the node tree,
 * then every object goes through go-yaml v3's encoder and decoder. The
 * encoder's choice of style decides a few values (see scalar_value), so
 * an anchored node is converted again for each alias, in the context where
 * that copy lands, rather than copied once converted. */
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <yaml.h>

#include "codec/yaml_resolve.h"
#include "codec/yaml_tree.h"

/* ---- string hash table ------------------------------------------------- */

static uint64_t sip_key[2];
static pthread_once_t sip_key_once = PTHREAD_ONCE_INIT;

static void sip_key_init(void)
{
	if (getrandom(sip_key, sizeof(sip_key), GRND_NONBLOCK) == (ssize_t)sizeof(sip_key))
		return;
	/* no entropy yet (early boot): still better than a constant */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sip_key[0] = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)(uintptr_t)&ts;
	sip_key[1] = (uint64_t)ts.tv_sec * 0xC2B2AE3D27D4EB4Full ^ (uint64_t)getpid();
}

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1, v1 = rotl(v1, 13), v1 ^= v0, v0 = rotl(v0, 32);                          \
		v2 += v3, v3 = rotl(v3, 16), v3 ^= v2;                                             \
		v0 += v3, v3 = rotl(v3, 21), v3 ^= v0;                                             \
		v2 += v1, v1 = rotl(v1, 17), v1 ^= v2, v2 = rotl(v2, 32);                          \
	} while (0)

/* SipHash-1-3. */
static uint64_t str_hash(const char *data, size_t len)
{
	pthread_once(&sip_key_once, sip_key_init);
	const unsigned char *in = (const unsigned char *)data;
	uint64_t k0 = sip_key[0], k1 = sip_key[1];
	uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t m = 0;
		for (int k = 0; k < 8; k++)
			m |= (uint64_t)in[i + k] << (8 * k);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)len << 56;
	for (int k = 0; i + (size_t)k < len; k++)
		b |= (uint64_t)in[i + (size_t)k] << (8 * k);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static size_t probe(const struct yt_strmap *m, const char *key, size_t len, uint64_t hash)
{
	size_t mask = m->cap - 1;
	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		const struct yt_slot *s = &m->slots[i];
		if (!s->key || (s->hash == hash && s->len == len && memcmp(s->key, key, len) == 0))
			return i;
	}
}

static void strmap_grow(struct yt_strmap *m)
{
	struct yt_strmap bigger = {sl_xcalloc(m->cap ? m->cap * 2 : 16, sizeof(struct yt_slot)),
	                           m->cap ? m->cap * 2 : 16, m->len};
	for (size_t i = 0; i < m->cap; i++) {
		const struct yt_slot *s = &m->slots[i];
		if (s->key)
			bigger.slots[probe(&bigger, s->key, s->len, s->hash)] = *s;
	}
	free(m->slots);
	*m = bigger;
}

struct yt_slot *yt_strmap_get(const struct yt_strmap *m, const char *key, size_t len)
{
	if (!m->len)
		return NULL;
	struct yt_slot *s = &m->slots[probe(m, key, len, str_hash(key, len))];
	return s->key ? s : NULL;
}

struct yt_slot *yt_strmap_insert(struct yt_strmap *m, const char *key, size_t len, bool *found)
{
	if ((m->len + 1) * 2 > m->cap)
		strmap_grow(m);
	uint64_t hash = str_hash(key, len);
	struct yt_slot *s = &m->slots[probe(m, key, len, hash)];
	*found = s->key != NULL;
	if (!*found) {
		*s = (struct yt_slot){key, len, hash, NULL};
		m->len++;
	}
	return s;
}

void yt_strmap_clear(struct yt_strmap *m)
{
	yt_strmap_free(m);
}

void yt_strmap_free(struct yt_strmap *m)
{
	free(m->slots);
	*m = (struct yt_strmap){0};
}

/* ---- checks at the end of a map ---------------------------------------- */

/* Go's %#v of a string, shortened (never inside a UTF-8 sequence): for
 * messages. */
static void go_quote(char *out, size_t size, const char *s, size_t n)
{
	size_t k = 0;
	out[k++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (k + 12 >= size) {
			while (k > 1 && ((unsigned char)out[k - 1] & 0xC0) == 0x80)
				k--;
			if (k > 1 && (unsigned char)out[k - 1] >= 0xC0)
				k--;
			k += (size_t)snprintf(out + k, size - k, "...");
			break;
		}
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\t': esc = "\\t"; break;
		case '\r': esc = "\\r"; break;
		}
		if (esc)
			k += (size_t)snprintf(out + k, size - k, "%s", esc);
		else if (c < 0x20 || c == 0x7f)
			k += (size_t)snprintf(out + k, size - k, "\\x%02x", c);
		else
			out[k++] = (char)c;
	}
	snprintf(out + k, size - k, "\"");
}

/* kyaml takes a key tagged !!merge (a plain `<<` gets that tag) as a merge. */
static bool is_merge_key(const struct rnode *k)
{
	if (k->tag)
		return strcmp(k->tag, "!!merge") == 0;
	return k->style == YAML_PLAIN_SCALAR_STYLE && k->len == 2 && memcmp(k->value, "<<", 2) == 0;
}

static int check_merge_value(struct yt_reader *rd, const struct rnode *value, uint32_t line)
{
	const struct rnode *v = rnode_deref(value);
	bool ok = v->kind == R_MAP;
	if (v->kind == R_SEQ) {
		ok = true;
		for (size_t i = 0; i < v->len; i++)
			ok = ok && rnode_deref(v->kids[i])->kind == R_MAP;
	}
	if (ok)
		return 0;
	return yt_fail(rd, SL_EINVAL, line,
	               "yaml: map merge requires map or sequence of maps as the value");
}

static int duplicate_key(struct yt_reader *rd, const struct rnode *first, const struct rnode *again)
{
	const struct rnode *k = rnode_deref(again);
	char quoted[160];
	go_quote(quoted, sizeof(quoted), k->value, k->len);
	return yt_fail(rd, SL_EINVAL, again->line, "mapping key %s already defined at line %u",
	               quoted, first->line);
}

/* go-yaml v3 refuses a map holding the same key text twice (whatever the
 * keys resolve to); keys that merges bring in do not count. */
static int check_duplicates(struct yt_reader *rd, const struct rnode *map)
{
	size_t n = map->len / 2;
	if (n <= 16) {
		for (size_t j = 1; j < n; j++) {
			const struct rnode *b = rnode_deref(map->kids[2 * j]);
			for (size_t i = 0; i < j; i++) {
				const struct rnode *a = rnode_deref(map->kids[2 * i]);
				if (a->len == b->len && memcmp(a->value, b->value, a->len) == 0)
					return duplicate_key(rd, map->kids[2 * i],
					                     map->kids[2 * j]);
			}
		}
		return 0;
	}
	struct yt_strmap seen = {0};
	int r = 0;
	for (size_t j = 0; j < n && r == 0; j++) {
		const struct rnode *b = rnode_deref(map->kids[2 * j]);
		bool found;
		struct yt_slot *s = yt_strmap_insert(&seen, b->value, b->len, &found);
		if (found)
			r = duplicate_key(rd, s->value, map->kids[2 * j]);
		else
			s->value = map->kids[2 * j];
	}
	yt_strmap_free(&seen);
	return r;
}

int yt_check_map(struct yt_reader *rd, struct rnode *map)
{
	for (size_t i = 0; i + 1 < map->len; i += 2) {
		const struct rnode *k = rnode_deref(map->kids[i]);
		if (!is_merge_key(k))
			continue;
		if (map->merge >= 0)
			return duplicate_key(rd, map->kids[map->merge], map->kids[i]);
		map->merge = (int32_t)i;
		int r = check_merge_value(rd, map->kids[i + 1], map->kids[i]->line);
		if (r < 0)
			return r;
	}
	return check_duplicates(rd, map);
}

/* ---- scalars ----------------------------------------------------------- */

/* The text a scalar decodes from, when it is not the raw one. */
struct text {
	const char *s;
	size_t len;
	char *owned;
};

/* !!binary: base64, line breaks ignored, as Go's StdEncoding decodes it. */
static int decode_binary(struct yt_reader *rd, const struct rnode *rn, struct text *t)
{
	_cleanup_free_ char *compact = sl_xmalloc(t->len + 1);
	size_t n = 0;
	bool nul = false;
	for (size_t i = 0; i < t->len; i++) {
		nul |= t->s[i] == '\0';
		if (t->s[i] != '\n' && t->s[i] != '\r')
			compact[n++] = t->s[i];
	}
	compact[n] = '\0';
	char *bytes = NULL;
	ssize_t len = nul ? -1 : sl_base64_decode(compact, &bytes);
	if (len < 0)
		return yt_fail(rd, SL_EINVAL, rn->line,
		               "yaml: !!binary value contains invalid base64 data");
	free(t->owned);
	t->owned = bytes;
	t->s = bytes;
	t->len = (size_t)len;
	return 0;
}

/* What go-yaml v3 decodes a scalar to, after its encoder wrote it out:
 * that encoder writes an empty plain scalar as '' in a flow collection or
 * as a key (it reads back as a string, not null), single-quotes a plain
 * date-time in a flow collection (':' is a flow indicator; it reads back as
 * the string it was), and mangles folded scalars (see
 * sl_yaml_folded_round_trip). */
static int scalar_value(struct yt_reader *rd, const struct rnode *rn, bool flow, bool key,
                        struct yr_value *v, struct text *t)
{
	*t = (struct text){rn->value, rn->len, NULL};
	v->kind = YR_STR;
	if (rn->style == YAML_FOLDED_SCALAR_STYLE) {
		size_t n;
		char *s = sl_yaml_folded_round_trip(rn->value, rn->len, flow, key, &n);
		if (s)
			*t = (struct text){s, n, s};
	}
	if (rn->tag && !sl_yaml_tag_resolvable(rn->tag))
		return strcmp(rn->tag, "!!binary") == 0 ? decode_binary(rd, rn, t) : 0;
	if (!rn->tag && (rn->style != YAML_PLAIN_SCALAR_STYLE || (t->len == 0 && (flow || key))))
		return 0;
	char msg[256];
	if (sl_yaml_resolve(rn->tag, t->s, t->len, v, msg, sizeof(msg)) < 0)
		return yt_fail(rd, SL_EINVAL, rn->line, "yaml: %s", msg);
	if (v->kind == YR_TIME && !rn->tag && flow && memchr(t->s, ':', t->len))
		v->kind = YR_STR;
	if (v->kind == YR_TIME && v->time_unencodable)
		return yt_fail(rd, SL_EINVAL, rn->line,
		               "json: error calling MarshalJSON for type time.Time: "
		               "Time.MarshalJSON: timezone hour outside of range [0,23]");
	return 0;
}

/* The text as a malloc'ed string: taken from the raw node when nothing
 * else will read it (it is not under an anchor). */
static char *take_text(struct rnode *rn, struct text *t, bool shared)
{
	if (t->owned)
		return TAKE_PTR(t->owned);
	if (!shared) {
		rn->value = NULL;
		return (char *)t->s;
	}
	return sl_strndup(t->s, t->len);
}

/* sl_node lines saturate at 2^30 - 1. */
static void set_line(struct sl_node *n, const struct rnode *rn)
{
	n->line = rn->line < (1u << 30) ? rn->line : (1u << 30) - 1;
}

static struct rnode *deref(struct rnode *rn)
{
	return rn->kind == R_ALIAS ? rn->target : rn;
}

static int convert_scalar(struct yt_reader *rd, struct rnode *rn, bool flow, bool shared,
                          struct sl_node **ret)
{
	struct yr_value v;
	struct text t;
	int r = scalar_value(rd, rn, flow, false, &v, &t);
	if (r < 0) {
		free(t.owned);
		return r;
	}
	struct sl_node *n;
	switch (v.kind) {
	case YR_NULL:
		n = sl_node_new_null();
		n->empty = t.len == 0 && !rn->tag;
		break;
	case YR_BOOL: n = sl_node_new_bool(v.b); break;
	case YR_INT: n = sl_node_new_int(v.i); break;
	case YR_UINT: n = sl_node_new_uint(v.u); break;
	case YR_FLOAT: n = sl_node_new_float(v.f); break;
	case YR_TIME: n = sl_node_new_str(v.time); break;
	default: n = sl_node_new_str_take(take_text(rn, &t, shared), t.len); break;
	}
	free(t.owned);
	set_line(n, rn);
	/* Flux's substitution re-reads what was written unquoted */
	n->plain = v.kind == YR_STR && rn->style == YAML_PLAIN_SCALAR_STYLE && !rn->tag;
	*ret = n;
	return 0;
}

static const char *kind_name(enum yr_kind kind)
{
	switch (kind) {
	case YR_NULL: return "null";
	case YR_BOOL: return "a bool";
	case YR_INT:
	case YR_UINT: return "an integer";
	case YR_FLOAT: return "a float";
	case YR_TIME: return "a timestamp";
	case YR_STR: break;
	}
	return "a string";
}

static bool plain_token(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return false;
	return true;
}

/* A key as the string it must be: kustomize's objects are JSON, and Go's
 * JSON encoder refuses the map[interface{}]interface{} that go-yaml v3
 * decodes a map with any other key into. */
static int key_string(struct yt_reader *rd, struct rnode *k, bool flow, bool shared, char **ret,
                      size_t *ret_len, bool *ret_changed)
{
	struct rnode *d = deref(k);
	struct yr_value v;
	struct text t;
	int r = scalar_value(rd, d, flow, true, &v, &t);
	if (r == 0 && v.kind != YR_STR) {
		char shown[160];
		go_quote(shown, sizeof(shown), t.s, t.len);
		if (plain_token(t.s, t.len)) /* 8080, not "8080": it is no string */
			snprintf(shown, sizeof(shown), "%.*s", (int)t.len, t.s);
		r = yt_fail(rd, SL_EINVAL, k->line,
		            "map key %s is %s, not a string: "
		            "json: unsupported type: map[interface {}]interface {}",
		            shown, kind_name(v.kind));
	}
	if (r < 0) {
		free(t.owned);
		return r;
	}
	*ret_changed = t.owned != NULL;
	*ret_len = t.len;
	*ret = take_text(d, &t, shared || d->anchored);
	return 0;
}

/* ---- collections ------------------------------------------------------- */

static int convert_node(struct yt_reader *rd, struct rnode *rn, bool flow, bool shared,
                        struct sl_node **ret);
static int convert_map(struct yt_reader *rd, struct rnode *rn, bool flow, bool shared,
                       struct sl_node **ret);

static void map_push(struct sl_node *map, char *key, size_t len, struct sl_node *value)
{
	if (map->map.len == map->map.cap) {
		map->map.cap = map->map.cap ? map->map.cap * 2 : 4;
		map->map.items =
		    sl_xrealloc(map->map.items, map->map.cap * sizeof(*map->map.items));
	}
	map->map.items[map->map.len++] = (struct sl_node_pair){key, len, value};
}

/* Keys that decode to another text than they were written with (!!binary,
 * folded) may collide: the later one wins, as in the Go map v3 fills. */
static void map_dedup(struct sl_node *map)
{
	struct yt_strmap seen = {0};
	size_t kept = 0;
	for (size_t i = 0; i < map->map.len; i++) {
		struct sl_node_pair *p = &map->map.items[i];
		bool found;
		struct yt_slot *s = yt_strmap_insert(&seen, p->key, p->key_len, &found);
		if (!found) {
			s->value = (void *)(uintptr_t)kept;
			map->map.items[kept++] = *p;
			continue;
		}
		struct sl_node_pair *first = &map->map.items[(uintptr_t)s->value];
		sl_node_free(first->value);
		first->value = p->value;
		free(p->key);
	}
	map->map.len = kept;
	yt_strmap_free(&seen);
}

/* A merge key's maps, first one first: their pairs join map where it does
 * not have the key yet, so explicit keys win over merged ones and earlier
 * maps over later ones (go-yaml v3's decoder). The pairs land in map, so
 * they are converted in map's context, not their source's. */
static int merge_into(struct yt_reader *rd, struct sl_node *map, struct rnode *value, bool flow,
                      bool shared)
{
	struct rnode *src = deref(value);
	shared = shared || src->anchored;
	struct rnode **sources = src->kind == R_MAP ? &src : src->kids;
	size_t n = src->kind == R_MAP ? 1 : src->len;
	struct yt_strmap seen = {0};
	bool found;
	for (size_t i = 0; i < map->map.len; i++)
		yt_strmap_insert(&seen, map->map.items[i].key, map->map.items[i].key_len, &found);
	int r = 0;
	for (size_t k = 0; k < n && r == 0; k++) {
		struct sl_node *part = NULL;
		r = convert_map(rd, deref(sources[k]), flow, shared, &part);
		for (size_t i = 0; r == 0 && i < part->map.len; i++) {
			struct sl_node_pair *p = &part->map.items[i];
			yt_strmap_insert(&seen, p->key, p->key_len, &found);
			if (found) {
				free(p->key);
				sl_node_free(p->value);
			} else {
				map_push(map, p->key, p->key_len, p->value);
			}
		}
		if (part)
			part->map.len = 0;
		sl_node_free(part);
	}
	yt_strmap_free(&seen);
	return r;
}

static int convert_map(struct yt_reader *rd, struct rnode *rn, bool flow, bool shared,
                       struct sl_node **ret)
{
	shared = shared || rn->anchored;
	_cleanup_node_ struct sl_node *map = sl_node_new_map();
	set_line(map, rn);
	if (rn->len) {
		map->map.cap = rn->len / 2;
		map->map.items = sl_xmalloc(map->map.cap * sizeof(*map->map.items));
	}
	bool changed = false;
	for (size_t i = 0; i + 1 < rn->len; i += 2) {
		if ((int32_t)i == rn->merge)
			continue;
		char *key;
		size_t key_len;
		bool key_changed;
		int r = key_string(rd, rn->kids[i], flow, shared, &key, &key_len, &key_changed);
		if (r < 0)
			return r;
		struct sl_node *value;
		r = convert_node(rd, rn->kids[i + 1], flow, shared, &value);
		if (r < 0) {
			free(key);
			return r;
		}
		map_push(map, key, key_len, value);
		changed = changed || key_changed;
	}
	if (changed)
		map_dedup(map);
	if (rn->merge >= 0) {
		int r = merge_into(rd, map, rn->kids[rn->merge + 1], flow, shared);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(map);
	return 0;
}

static int convert_seq(struct yt_reader *rd, struct rnode *rn, bool flow, bool shared,
                       struct sl_node **ret)
{
	_cleanup_node_ struct sl_node *seq = sl_node_new_seq();
	set_line(seq, rn);
	if (rn->len) {
		seq->seq.cap = rn->len;
		seq->seq.items = sl_xmalloc(rn->len * sizeof(*seq->seq.items));
	}
	for (size_t i = 0; i < rn->len; i++) {
		int r = convert_node(rd, rn->kids[i], flow, shared, &seq->seq.items[i]);
		if (r < 0)
			return r;
		seq->seq.len++;
	}
	*ret = TAKE_PTR(seq);
	return 0;
}

/* A collection keeps its own style wherever an alias copies it, and its
 * content is in flow context when it or anything around it is flow. */
static int convert_node(struct yt_reader *rd, struct rnode *rn, bool flow, bool shared,
                        struct sl_node **ret)
{
	rn = deref(rn);
	shared = shared || rn->anchored;
	switch (rn->kind) {
	case R_MAP: return convert_map(rd, rn, flow || rn->flow, shared, ret);
	case R_SEQ: return convert_seq(rd, rn, flow || rn->flow, shared, ret);
	default: return convert_scalar(rd, rn, flow, shared, ret);
	}
}

int yt_convert(struct yt_reader *rd, const struct rnode *root, struct sl_node **ret)
{
	return convert_node(rd, (struct rnode *)root, false, false, ret);
}
