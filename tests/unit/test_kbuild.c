/* The build engine's own helpers: paths joined and cleaned as Go's
 * filepath.Join does (kustomize's error messages and ids depend on it), and
 * which resource entries count as remote (refused, never fetched). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kustomize/kbuild.h"
#include "testlib.h"

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

/* A build confined to a root reads nothing outside it: not through an
 * absolute path, not through "..", not through a symlink; inside is fine. */
static void confined_builds_stay_inside_the_root(void **state)
{
	const char *tmp = *state;
	char root[512], app[512], outside[512], file[600];
	snprintf(root, sizeof(root), "%s/root", tmp);
	snprintf(app, sizeof(app), "%s/root/app", tmp);
	snprintf(outside, sizeof(outside), "%s/outside", tmp);
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(app, 0755), 0);
	assert_int_equal(mkdir(outside, 0755), 0);
	snprintf(file, sizeof(file), "%s/secret.txt", outside);
	tl_write_file(file, "s3cret", 6);
	snprintf(file, sizeof(file), "%s/ok.txt", root);
	tl_write_file(file, "fine", 4);
	snprintf(file, sizeof(file), "%s/link.txt", app);
	char target[600];
	snprintf(target, sizeof(target), "%s/secret.txt", outside);
	assert_int_equal(symlink(target, file), 0);
	const char *cases[][2] = {
	    {"files:\n  - /etc/hostname", "is not in or below"},
	    {"files:\n  - ../../outside/secret.txt", "is not in or below"},
	    {"files:\n  - link.txt", "is not in or below"},
	    {"files:\n  - ../ok.txt", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char k[512];
		snprintf(k, sizeof(k), "configMapGenerator:\n- name: c\n  %s\n", cases[i][0]);
		snprintf(file, sizeof(file), "%s/kustomization.yaml", app);
		tl_write_file(file, k, strlen(k));
		struct sl_kustomize_options opts = {.root = root};
		struct sl_node *objects = NULL;
		struct sl_error err = {0};
		int r = sl_kustomize_build(app, &opts, &objects, &err);
		if (cases[i][1]) {
			if (r != SL_EINVAL || !strstr(err.msg, cases[i][1]))
				fail_msg("case %zu: %d %s", i, r, err.msg);
		} else if (r != 0) {
			fail_msg("case %zu: %s", i, err.msg);
		}
		sl_node_free(objects);
	}
	/* Unconfined, as kubectl kustomize: the same absolute path builds. */
	snprintf(file, sizeof(file), "%s/kustomization.yaml", app);
	tl_write_file(
	    file, "configMapGenerator:\n- name: c\n  files:\n  - ../../outside/secret.txt\n",
	    strlen("configMapGenerator:\n- name: c\n  files:\n  - ../../outside/secret.txt\n"));
	struct sl_node *objects = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_kustomize_build(app, NULL, &objects, &err), 0);
	sl_node_free(objects);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(path_join_cleans_like_go),
	    cmocka_unit_test(remote_entries_are_recognised),
	    cmocka_unit_test_setup_teardown(confined_builds_stay_inside_the_root, tl_setup_tmpdir,
	                                    tl_teardown_tmpdir),
	};
	return cmocka_run_group_tests_name("kbuild", tests, NULL, NULL);
}
