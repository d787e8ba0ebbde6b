#include <regex.h>
#include <string.h>
#include <wchar.h>

#include "cli/cli.h"
#include "cli/fluxout.h"

static struct {
	char *filter_semver, *filter_regex, *output;
	struct cli_remote remote;
} o;

static struct flag flags[] = {
    {"filter-semver", 0, FLAG_STRING, &o.filter_semver, "",
     "list only tags that are versions matching this semver constraint"},
    {"filter-regex", 0, FLAG_STRING, &o.filter_regex, "",
     "list only tags matching this regular expression (POSIX extended, unanchored)"},
    CLI_REMOTE_FLAGS(o.remote),
    {"output", 'o', FLAG_STRING, &o.output, "", "print json or yaml instead of a table"},
    {0},
};

struct row {
	char *tag, *artifact, *digest, *source, *revision, *created;
};

static int cmp_desc(const void *a, const void *b)
{
	return -strcmp(*(char *const *)a, *(char *const *)b);
}

/* cosign keeps signatures, attestations and SBOMs in tags of their own. */
static bool is_cosign_tag(const char *t)
{
	return sl_endswith(t, ".sig") || sl_endswith(t, ".att") || sl_endswith(t, ".sbom");
}

static void pad(const char *s, size_t width)
{
	fputs(s, stdout);
	for (size_t w = cli_display_width(s); w < width; w++)
		fputc(' ', stdout);
}

/* Flux's table (tablewriter, no borders, tab padding): every cell padded to
 * its column, a tab after each, the last header cell closed by a space. */
static void print_table(const struct row *rows, size_t n)
{
	static const char *const header[] = {"ARTIFACT", "DIGEST", "SOURCE", "REVISION"};
	size_t width[4];
	for (int c = 0; c < 4; c++)
		width[c] = strlen(header[c]);
	for (size_t i = 0; i < n; i++) {
		const char *cells[] = {rows[i].artifact, rows[i].digest, rows[i].source,
		                       rows[i].revision};
		for (int c = 0; c < 4; c++)
			if (cli_display_width(cells[c]) > width[c])
				width[c] = cli_display_width(cells[c]);
	}
	for (int c = 0; c < 4; c++) {
		pad(header[c], width[c]);
		fputs(c < 3 ? "\t" : " \n", stdout);
	}
	for (size_t i = 0; i < n; i++) {
		const char *cells[] = {rows[i].artifact, rows[i].digest, rows[i].source,
		                       rows[i].revision};
		for (int c = 0; c < 4; c++) {
			pad(cells[c], width[c]);
			fputc('\t', stdout);
		}
		fputc('\n', stdout);
	}
}

static void print_data(const struct row *rows, size_t n, bool json)
{
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "tag",
			                                     rows[i].tag, "digest", rows[i].digest,
			                                     "source", rows[i].source, "revision",
			                                     rows[i].revision, "created",
			                                     rows[i].created));
		char *text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", text);
		free(text);
		json_decref(arr);
		return;
	}
	if (n == 0) {
		printf("[]\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *keys[] = {"created", "digest", "revision", "source", "tag"};
		const char *vals[] = {rows[i].created, rows[i].digest, rows[i].revision,
		                      rows[i].source, rows[i].tag};
		for (int k = 0; k < 5; k++) {
			printf("%s%s: ", k == 0 ? "- " : "  ", keys[k]);
			cli_yaml_scalar(stdout, vals[k]);
			fputc('\n', stdout);
		}
	}
}

static const char *annotation(const json_t *doc, const char *key)
{
	const char *v =
	    json_string_value(json_object_get(json_object_get(doc, "annotations"), key));
	return v ? v : "";
}

/* Registries get every manifest at once over curl multi; a layout is a
 * local directory, read one file after another. */
static int fetch_manifests(const struct cli_target *t, const char **refs, size_t n,
                           struct sl_manifest_fetch *out, struct sl_error *err)
{
	if (t->registry)
		return sl_registry_manifests_get_many(t->registry, t->ref.repository, refs, n, out,
		                                      err);
	for (size_t i = 0; i < n; i++) {
		sl_buf_init(&out[i].body, SL_MAX_MANIFEST_BYTES);
		int r = sl_endpoint_manifest_get(&t->ep, refs[i], &out[i].body,
		                                 &out[i].content_type, out[i].digest, err);
		if (r < 0)
			return sl_error_wrap(err, r, "fetching manifest %s", refs[i]);
		out[i].done = true;
	}
	return 0;
}

static int run(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "artifact repository URL is required");
	int r = cli_check_output_format(o.output, err);
	if (r < 0)
		return r;
	_cleanup_(cli_target_clear) struct cli_target t = {0};
	r = cli_target_parse(args->items[0], &t, err);
	if (r < 0)
		return r;
	if (t.digest || t.has_tag)
		return sl_error_set(err, SL_EINVAL,
		                    "'%s' is not a repository: leave out the tag or digest",
		                    args->items[0]);
	regex_t re;
	bool have_re = *o.filter_regex;
	if (have_re) {
		int rc = regcomp(&re, o.filter_regex, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char msg[256];
			regerror(rc, &re, msg, sizeof(msg));
			return sl_error_set(err, SL_EINVAL, "regex '%s' parse error: %s",
			                    o.filter_regex, msg);
		}
	}
	_cleanup_(sl_semver_constraint_freep) struct sl_semver_constraint *constraint = NULL;
	if (*o.filter_semver) {
		r = sl_semver_constraint_parse(o.filter_semver, &constraint, err);
		if (r < 0) {
			if (have_re)
				regfree(&re);
			return sl_error_wrap(err, r, "semver '%s' parse error", o.filter_semver);
		}
	}

	_cleanup_(sl_strv_free) struct sl_strv tags = {0};
	r = cli_target_open(&t, &o.remote, NULL, false, err);
	if (r == 0)
		r = sl_endpoint_list_tags(&t.ep, &tags, err);
	if (r < 0) {
		if (have_re)
			regfree(&re);
		return sl_error_wrap(err, r, "listing artifacts failed");
	}

	/* Flux's order: descending by plain string comparison. */
	if (tags.len)
		qsort(tags.items, tags.len, sizeof(char *), cmp_desc);
	const char **selected = sl_xcalloc(tags.len + 1, sizeof(char *));
	size_t n = 0;
	for (size_t i = 0; i < tags.len; i++) {
		const char *tag = tags.items[i];
		if (is_cosign_tag(tag))
			continue;
		if (constraint) {
			struct sl_semver v;
			if (!sl_semver_is_flux_version(tag) || sl_semver_parse(tag, &v, NULL) < 0)
				continue;
			bool ok = sl_semver_constraint_check(constraint, &v);
			sl_semver_clear(&v);
			if (!ok)
				continue;
		}
		if (have_re && regexec(&re, tag, 0, NULL, 0) != 0)
			continue;
		selected[n++] = tag;
	}
	if (have_re)
		regfree(&re);

	struct sl_manifest_fetch *fetched = sl_xcalloc(n + 1, sizeof(*fetched));
	r = fetch_manifests(&t, selected, n, fetched, err);
	struct row *rows = sl_xcalloc(n + 1, sizeof(*rows));
	for (size_t i = 0; r == 0 && i < n; i++) {
		json_t *doc = json_loadb(fetched[i].body.data ? fetched[i].body.data : "",
		                         fetched[i].body.len, 0, NULL);
		if (!json_is_object(doc)) {
			json_decref(doc);
			r = sl_error_set(err, SL_EINVAL, "manifest of tag %s is not a JSON object",
			                 selected[i]);
			break;
		}
		rows[i] = (struct row){
		    .tag = sl_strdup(selected[i]),
		    .artifact = sl_asprintf("%s:%s", t.path ? t.name : t.ref.text, selected[i]),
		    .digest = sl_strdup(fetched[i].digest),
		    .source = sl_strdup(annotation(doc, SL_ANNOTATION_SOURCE)),
		    .revision = sl_strdup(annotation(doc, SL_ANNOTATION_REVISION)),
		    .created = sl_strdup(annotation(doc, SL_ANNOTATION_CREATED)),
		};
		json_decref(doc);
	}
	if (r == 0) {
		if (*o.output)
			print_data(rows, n, strcmp(o.output, "json") == 0);
		else
			print_table(rows, n);
	} else {
		sl_error_wrap(err, r, "listing artifacts failed");
	}
	for (size_t i = 0; i < n; i++) {
		sl_manifest_fetch_clear(&fetched[i]);
		free(rows[i].tag), free(rows[i].artifact), free(rows[i].digest);
		free(rows[i].source), free(rows[i].revision), free(rows[i].created);
	}
	free(rows);
	free(fetched);
	free(selected);
	return r;
}

int cmd_list_artifacts(int argc, char **argv, struct sl_error *err)
{
	return cli_run("list", "artifacts", flags, argc, argv, run, err);
}
