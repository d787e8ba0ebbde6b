/* The build engine's own helpers: paths joined and cleaned as Go's
 * filepath.Join does (kustomize's error messages and ids depend on it), and
 * which resource entries count as remote (refused, never fetched). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kustomize/kbuild.h"

static void path_join_cleans_like_go(void **state)
{
	(void)state;
	static const struct {
		const char *dir, *rel, *want;
	} rows[] = {
	    {"input", "deployment.yaml", "input/deployment.yaml"},
	    {"input", "./deployment.yaml", "input/deployment.yaml"},
	    {"input/", "a//b.yaml", "input/a/b.yaml"},
	    {"input/overlays/prod", "../../base", "input/base"},
	    {"input", "../../x", "../x"},
	    {"d0/../d1", "../d2", "d2"},
	    {".", "a", "a"},
	    {".", ".", "."},
	    {"a", "..", "."},
	    {"../a", "../../b", "../../b"},
	    {"input", "/abs/path.yaml", "/abs/path.yaml"},
	    {"/", "..", "/"},
	    {"/srv/app", "../x/./y/", "/srv/x/y"},
	    {"", "rel", "rel"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *got = ks_path_join(rows[i].dir, rows[i].rel);
		if (strcmp(got, rows[i].want) != 0)
			fail_msg("join(%s, %s) = %s, want %s", rows[i].dir, rows[i].rel, got,
			         rows[i].want);
		free(got);
	}
}

static void remote_entries_are_recognised(void **state)
{
	(void)state;
	static const char *const remote[] = {
	    "https://github.com/org/repo//deploy?ref=v1",
	    "http://example.com/x",
	    "git::https://example.com/repo.git",
	    "ssh://git@github.com/org/repo",
	    "git@github.com:org/repo.git",
	    "github.com/org/repo/deploy",
	    "gitlab.example.com/group/repo/path",
	    "repo//path?ref=main",
	};
	static const char *const local[] = {
	    "deployment.yaml", "../base",  "./overlays/prod", "/abs/dir",
	    "v1.2/manifests",  "app.yaml", "dir.with.dots/x",
	};
	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++)
		if (!ks_looks_remote(remote[i]))
			fail_msg("%s should be remote", remote[i]);
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (ks_looks_remote(local[i]))
			fail_msg("%s should be local", local[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(path_join_cleans_like_go),
	    cmocka_unit_test(remote_entries_are_recognised),
	};
	return cmocka_run_group_tests_name("kbuild", tests, NULL, NULL);
}
