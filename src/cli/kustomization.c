#include <errno.h>
#include <string.h>

#include "cli/cli.h"
#include "kustomize/kustomize.h"

static struct {
	char *path;
	char *kustomization_file;
	bool dry_run;
	bool strict_substitute;
} o;

static struct flag flags[] = {
    {"path", 0, FLAG_STRING, &o.path, "", "path to the directory to build"},
    {"kustomization-file", 0, FLAG_STRING, &o.kustomization_file, "",
     "path to a Flux Kustomization YAML file whose overlays (targetNamespace, patches, "
     "images, postBuild, ...) apply to the build"},
    {"dry-run", 0, FLAG_BOOL, &o.dry_run, "false",
     "accepted for Flux compatibility: sluice never contacts the cluster to build"},
    {"strict-substitute", 0, FLAG_BOOL, &o.strict_substitute, "false",
     "fail when a variable without a default is used in the files but not set"},
    {0},
};

/* The Flux Kustomization in file: the one named name, or the only one. */
static int load_flux_kustomization(const char *file, const char *name, struct sl_node **docs,
                                   const struct sl_node **ret, struct sl_error *err)
{
	int r = sl_yaml_parse_file(file, NULL, docs, err);
	if (r < 0)
		return r;
	const struct sl_node *found = NULL;
	for (size_t i = 0; i < (*docs)->seq.len; i++) {
		const struct sl_node *d = (*docs)->seq.items[i];
		const char *api = sl_node_dig_str(d, "apiVersion", NULL);
		const char *kind = sl_node_dig_str(d, "kind", NULL);
		if (!api || !kind || !sl_startswith(api, "kustomize.toolkit.fluxcd.io/") ||
		    strcmp(kind, "Kustomization") != 0)
			continue;
		const char *n = sl_node_dig_str(d, "metadata", "name", NULL);
		if (name && (!n || strcmp(n, name) != 0))
			continue;
		if (found)
			return sl_error_set(err, SL_EINVAL,
			                    "%s holds several Flux Kustomizations: name the one to "
			                    "build",
			                    file);
		found = d;
	}
	if (!found)
		return name ? sl_error_set(err, SL_ENOTFOUND,
		                           "%s: no Flux Kustomization named \"%s\"", file, name)
		            : sl_error_set(err, SL_ENOTFOUND,
		                           "%s: no kustomize.toolkit.fluxcd.io Kustomization in it",
		                           file);
	*ret = found;
	return 0;
}

static int run(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len > 1)
		return sl_error_set(err, SL_EINVAL, "accepts at most one argument, the name");
	if (!*o.path)
		return sl_error_set(err, SL_EINVAL,
		                    "invalid resource path \"\": --path is required");
	struct sl_kustomize_options opts = {.strict_substitute = o.strict_substitute};
	_cleanup_node_ struct sl_node *docs = NULL;
	if (*o.kustomization_file) {
		int r =
		    load_flux_kustomization(o.kustomization_file, args->len ? args->items[0] : NULL,
		                            &docs, &opts.flux, err);
		if (r < 0)
			return r;
		if (sl_node_dig(opts.flux, "spec", "postBuild", "substituteFrom", NULL))
			sl_log_warning("postBuild.substituteFrom is not read: building without a "
			               "cluster, only postBuild.substitute applies");
	}
	_cleanup_node_ struct sl_node *objects = NULL;
	int r = sl_kustomize_build(o.path, &opts, &objects, err);
	if (r < 0)
		return r;
	_cleanup_buf_ struct sl_buf out;
	sl_buf_init(&out, 0);
	r = sl_kustomize_print(&out, objects, err);
	if (r < 0)
		return r;
	if ((out.len && fwrite(out.data, 1, out.len, stdout) != out.len) || fflush(stdout) != 0)
		return sl_error_errno(err, errno, SL_EIO, "writing the output");
	return 0;
}

int cmd_build_kustomization(int argc, char **argv, struct sl_error *err)
{
	return cli_run("build", "kustomization", flags, argc, argv, run, err);
}
