/* The kustomize engine's parsers of patch-time input, on one input split at
 * lines "===" into three texts:
 *   1. a label selector (ks_label_selector_parse), matched against fixed
 *      labels;
 *   2. a Flux substitution template (ks_envsubst, strict and not);
 *   3. a YAML stream whose first document is an object and each later one
 *      a patch: a map is a strategic merge patch, a sequence a JSON 6902
 *      patch; the result is printed as kubectl kustomize would.
 * Failures must say why; a failed JSON 6902 patch leaves the object as it
 * was; substitution of a text without `$`, `\` or NUL is the identity;
 * printing never crashes. */
#include "codec/yaml.h"
#include "fuzz.h"
#include "kustomize/ks.h"

static struct sl_node *labels, *vars;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	labels = sl_node_new_map();
	sl_node_map_set(labels, "app", sl_node_new_str("web"));
	sl_node_map_set(labels, "tier", sl_node_new_str("front"));
	vars = sl_node_new_map();
	sl_node_map_set(vars, "app", sl_node_new_str("podinfo"));
	sl_node_map_set(vars, "replicas", sl_node_new_str("3"));
	sl_node_map_set(vars, "empty", sl_node_new_str(""));
	return 0;
}

static void fuzz_selector(const char *text)
{
	struct ks_label_selector *s = NULL;
	struct sl_error err = {0};
	int r = ks_label_selector_parse(text, &s, &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, err);
		return;
	}
	(void)ks_label_selector_match(s, labels);
	(void)ks_label_selector_match(s, NULL);
	ks_label_selector_free(s);
}

static void fuzz_envsubst(const char *text, size_t len)
{
	for (int strict = 0; strict < 2; strict++) {
		struct sl_buf out;
		sl_buf_init(&out, 1 << 20);
		struct sl_error err = {0};
		int r = ks_envsubst(text, len, vars, strict, &out, &err);
		if (r < 0)
			FUZZ_CHECK_ERROR(r, err);
		else if (!memchr(text, '$', len) && !memchr(text, '\\', len) &&
		         !memchr(text, 0, len))
			FUZZ_CHECK(out.len == len &&
			           memcmp(out.data ? out.data : "", text, len) == 0);
		sl_buf_free(&out);
	}
}

static void check_round_trip(const struct sl_node *obj)
{
	struct sl_buf out;
	sl_buf_init(&out, 8 << 20);
	struct sl_error err = {0};
	int r = sl_yaml_emit(&out, obj, &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, err);
		sl_buf_free(&out);
		return;
	}
	sl_buf_free(&out);
}

static void fuzz_patches(const char *text, size_t len)
{
	struct sl_node *docs = NULL;
	struct sl_error err = {0};
	int r = sl_yaml_parse(text, len, "fuzz", &docs, &err);
	if (r < 0) {
		FUZZ_CHECK_ERROR(r, err);
		return;
	}
	if (docs->seq.len == 0 || docs->seq.items[0]->type != SL_NODE_MAP) {
		sl_node_free(docs);
		return;
	}
	struct sl_node *obj = sl_node_copy(docs->seq.items[0]);
	for (size_t i = 1; i < docs->seq.len && obj; i++) {
		const struct sl_node *patch = docs->seq.items[i];
		struct sl_error perr = {0};
		if (patch->type == SL_NODE_SEQ) {
			struct sl_node *before = sl_node_copy(obj);
			r = ks_json6902_apply(&obj, patch, &perr);
			if (r < 0) {
				FUZZ_CHECK_ERROR(r, perr);
				FUZZ_CHECK(sl_node_equal(obj, before));
			}
			sl_node_free(before);
		} else if (patch->type == SL_NODE_MAP) {
			bool deleted = false;
			r = ks_smp_apply(obj, patch, false, false, &deleted, &perr);
			if (r < 0)
				FUZZ_CHECK_ERROR(r, perr);
			else if (deleted)
				break;
		}
	}
	check_round_trip(obj);
	sl_node_free(obj);
	sl_node_free(docs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	const char *parts[3] = {text, "", ""};
	size_t lens[3] = {size, 0, 0};
	size_t n = 1;
	for (char *p = text; n < 3 && (p = strstr(p, "\n===\n"));) {
		lens[n - 1] = (size_t)(p - parts[n - 1]);
		*p = '\0';
		parts[n] = p + 5;
		lens[n] = size - (size_t)(parts[n] - text);
		p += 5;
		n++;
	}
	if (!memchr(parts[0], '\0', lens[0]))
		fuzz_selector(parts[0]);
	fuzz_envsubst(parts[1], lens[1]);
	fuzz_patches(parts[2], lens[2]);
	free(text);
	return 0;
}
