/* Ignore patterns (.sourceignore / --ignore-paths) and the glob matcher
 * under them. Input: pattern lines, a NUL, then a path. Without a NUL the
 * whole input is patterns and a few typical paths are matched.
 * sl_glob_match is held to Go's filepath.Match (fuzz_go_match.h) on every
 * single path component, the contract codec.h states. */
#include "codec/codec.h"
#include "fuzz.h"
#include "fuzz_go_match.h"

static const char *const default_paths[] = {
    "a", "a/b", "dir/file.txt", "src/x/y/z.go", ".git/config", "deploy/app.yaml",
};

static void match_path(const struct sl_ignore *ig, const struct sl_ignore *empty, const char *path)
{
	bool as_file = sl_ignore_match(ig, path, false);
	bool as_dir = sl_ignore_match(ig, path, true);
	/* matching is a pure function of its inputs */
	FUZZ_CHECK(sl_ignore_match(ig, path, false) == as_file);
	FUZZ_CHECK(sl_ignore_match(ig, path, true) == as_dir);
	/* the root never matches; no patterns never match */
	if (!*path || strcmp(path, ".") == 0)
		FUZZ_CHECK(!as_file && !as_dir);
	FUZZ_CHECK(!sl_ignore_match(empty, path, false));
	FUZZ_CHECK(!sl_ignore_match(NULL, path, true));
}

static void print_hex(const char *what, const char *s)
{
	fprintf(stderr, "fuzz: %s (%zu bytes):", what, strlen(s));
	for (const unsigned char *u = (const unsigned char *)s; *u; u++)
		fprintf(stderr, " %02x", *u);
	fprintf(stderr, "\n");
}

/* name is one path component (no '/'). */
static void check_glob(const char *pattern, const char *name)
{
	bool got = sl_glob_match(pattern, name);
	FUZZ_CHECK(sl_glob_match(pattern, name) == got);
	int want = go_filepath_match(pattern, name);
	if (got != (want == 1)) {
		print_hex("pattern", pattern);
		print_hex("name", name);
		fprintf(stderr, "fuzz: sl_glob_match: %s, Go's filepath.Match: %s\n",
		        got ? "true" : "false",
		        want < 0 ? "ErrBadPattern"
		        : want   ? "true"
		                 : "false");
	}
	FUZZ_CHECK(got == (want == 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 16 * 1024)
		return 0;
	_cleanup_free_ char *text = fuzz_cstr(data, size);
	size_t text_len = strlen(text);
	const char *path = text_len < size ? text + text_len + 1 : NULL;

	_cleanup_(sl_ignore_freep) struct sl_ignore *ig = sl_ignore_new();
	_cleanup_(sl_ignore_freep) struct sl_ignore *empty = sl_ignore_new();
	FUZZ_CHECK(ig && empty);
	sl_ignore_add_lines(ig, text);
	bool inclusion = sl_ignore_has_inclusion(ig);
	FUZZ_CHECK(!inclusion || strchr(text, '!'));
	FUZZ_CHECK(!sl_ignore_has_inclusion(empty));

	if (path) {
		match_path(ig, empty, path);
	} else {
		for (size_t i = 0; i < SL_ARRAY_SIZE(default_paths); i++)
			match_path(ig, empty, default_paths[i]);
	}

	/* The first pattern line as a filepath.Match glob, against each
	 * component of the path. */
	const char *eol = strchr(text, '\n');
	_cleanup_free_ char *glob = sl_strndup(text, eol ? (size_t)(eol - text) : text_len);
	_cleanup_free_ char *name = sl_strdup(path ? path : "dir/file.txt");
	for (char *save = NULL, *c = strtok_r(name, "/", &save); c; c = strtok_r(NULL, "/", &save))
		check_glob(glob, c);
	return 0;
}
