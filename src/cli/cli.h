/* cli — the sluice command line: a verb-noun dispatcher (main.c), a flag
 * parser with pflag's syntax and Flux's messages (flags.c), helpers every
 * command shares (common.c), and one file per command.
 *
 * Commands return 0 or a negative sl_error code; main prints the error
 * once as "✗ message" and exits 1. Data goes to stdout, the ► ✔ ✗ lines to
 * stderr. */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include "base/base.h"
#include "oci/oci.h"

enum flag_type { FLAG_STRING, FLAG_BOOL, FLAG_STRING_CSV, FLAG_STRING_ARRAY, FLAG_DURATION };

struct flag {
	const char *name;
	char shorthand;
	enum flag_type type;
	void *target;    /* char **, bool *, struct sl_strv *, int64_t * (ms) */
	const char *def; /* default, as shown in --help and applied before parsing */
	const char *usage;
	bool changed;
};

struct command {
	const char *verb;
	const char *noun; /* NULL for single-word commands */
	const char *summary;
	const char *usage;    /* "sluice push artifact oci://URL [flags]" */
	const char *examples; /* indented lines */
	int (*run)(int argc, char **argv, struct sl_error *err);
	const char *aliases; /* other nouns, comma-separated, as Flux's ("ks,kustomization") */
};

/* Global flags every command takes. */
struct global_flags {
	int64_t timeout_ms;
	bool debug;
	char *namespace_;
	char *kubeconfig;
	char *context;
	bool help;
};
extern struct global_flags g_flags;

/* Parses argv against flags (plus the global ones); positional arguments
 * are collected in ret_args. Returns 0, or SL_EINVAL with Flux's wording. */
int flags_parse(struct flag *flags, int argc, char **argv, struct sl_strv *ret_args,
                struct sl_error *err);
void flags_free(struct flag *flags);
void flags_print_help(const struct command *cmd, const struct flag *flags);
/* A flag's name if the user set it. */
bool flag_changed(const struct flag *flags, const char *name);
/* Whether the user set a global flag ("namespace"), for commands whose
 * default differs from the global one. */
bool flag_global_changed(const char *name);

/* Parses flags, answers --help, runs the command, frees the flags. */
int cli_run(const char *verb, const char *noun, struct flag *flags, int argc, char **argv,
            int (*run)(const struct sl_strv *args, struct sl_error *err), struct sl_error *err);

/* How a command reaches a registry: --creds, --provider, --insecure-registry,
 * --ca-file. */
struct cli_remote {
	char *creds, *provider, *ca_file;
	bool insecure;
};
#define CLI_REMOTE_FLAGS(rm)                                                                       \
	{"creds",     0,  FLAG_STRING,                                                             \
	 &(rm).creds, "", "credentials for OCI registry in the format <username>[:<password>]"},   \
	    {"provider",                                                                           \
	     0,                                                                                    \
	     FLAG_STRING,                                                                          \
	     &(rm).provider,                                                                       \
	     "generic",                                                                            \
	     "the OCI provider name, available options are: (generic, aws, azure, gcp)"},          \
	    {"insecure-registry",                                                                  \
	     0,                                                                                    \
	     FLAG_BOOL,                                                                            \
	     &(rm).insecure,                                                                       \
	     "false",                                                                              \
	     "allows the registry to be reached without TLS verification or over plain HTTP"},     \
	{                                                                                          \
		"ca-file", 0, FLAG_STRING, &(rm).ca_file, "",                                      \
		    "PEM file of a CA to trust in addition to the system's (also: SSL_CERT_FILE)"  \
	}
int cli_provider_check(const char *provider, struct sl_error *err);
/* A client for ref's registry with credentials from creds (NULL: the
 * --creds flag), then the docker config; push asks for push access. */
int cli_remote_open(const struct cli_remote *rm, const struct sl_oci_ref *ref, const char *creds,
                    bool push, struct sl_registry **ret, struct sl_error *err);
/* What a command's URL argument names: oci://registry/repository[:tag]
 * [@digest] or oci-layout://PATH[:tag][@digest]. */
struct cli_target {
	struct sl_oci_ref ref; /* a registry's */
	char *path;            /* a layout's */
	char *tag, *digest;    /* either; the parser's default tag is "latest" */
	bool has_tag;          /* the URL named the tag */
	char *name;            /* "registry/repository" or "oci-layout://PATH" */
	struct sl_registry *registry;
	struct sl_layout *layout;
	struct sl_endpoint ep;
};
int cli_target_parse(const char *url, struct cli_target *t, struct sl_error *err);
/* Connects to the registry, or opens the layout (creating it when write). */
int cli_target_open(struct cli_target *t, const struct cli_remote *rm, const char *creds,
                    bool write, struct sl_error *err);
/* The digest, else the tag. */
const char *cli_target_reference(const struct cli_target *t);
void cli_target_clear(struct cli_target *t);

/* "" (none), json or yaml; anything else is an error. */
int cli_check_output_format(const char *format, struct sl_error *err);
int cli_parse_size(const char *text, uint64_t *ret, struct sl_error *err);
void cli_warn(void *userdata, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints a YAML scalar the way go-yaml v2 does for plain strings. */
void cli_yaml_scalar(FILE *out, const char *s);
/* The progress printer when stderr is a terminal (and SLUICE_NO_PROGRESS
 * is unset), else NULL. */
sl_progress_fn cli_progress(void);
/* Finishes any progress line so the next log line starts clean. */
void cli_progress_done(void);

/* --path, --ignore-paths, --add-ignore-paths, --resolve-symlinks. */
struct cli_source {
	char *path;
	struct sl_strv ignore_paths, add_ignore_paths;
	bool resolve_symlinks;
};
#define CLI_DEFAULT_IGNORE_PATHS                                                                   \
	".git/"                                                                                    \
	",.gitignore,.gitmodules,.gitattributes,*.jpg,*.jpeg,*.gif,*.png,*.wmv,*.flv,*.tar.gz,"    \
	"*.zip"
/* Flag table entries for the ignore and symlink flags of a struct cli_source. */
#define CLI_SOURCE_FLAGS(src)                                                                      \
	{"ignore-paths",                                                                           \
	 0,                                                                                        \
	 FLAG_STRING_CSV,                                                                          \
	 &(src).ignore_paths,                                                                      \
	 CLI_DEFAULT_IGNORE_PATHS,                                                                 \
	 "set paths to ignore in .gitignore format (the first use replaces the default)"},         \
	    {"add-ignore-paths",                                                                   \
	     0,                                                                                    \
	     FLAG_STRING_CSV,                                                                      \
	     &(src).add_ignore_paths,                                                              \
	     NULL,                                                                                 \
	     "paths to ignore in .gitignore format, in addition to --ignore-paths"},               \
	{                                                                                          \
		"resolve-symlinks", 0, FLAG_BOOL, &(src).resolve_symlinks, "false",                \
		    "include symlinked files and directories by their targets"                     \
	}
/* Flux's checks on --path ("" and a path that does not exist). */
int cli_source_check(const struct cli_source *src, struct sl_error *err);
/* Builds the layer (stdin staged as stdin.yaml) into out_fd. */
int cli_source_build(const struct cli_source *src, int out_fd, uint64_t *ret_size,
                     char ret_digest[SL_DIGEST_STR_LEN], struct sl_error *err);
/* The same into an unlinked temporary file, returned open at ret_fd. */
int cli_source_build_tmpfile(const struct cli_source *src, int *ret_fd, uint64_t *ret_size,
                             char ret_digest[SL_DIGEST_STR_LEN], struct sl_error *err);

int cmd_push_artifact(int argc, char **argv, struct sl_error *err);
int cmd_build_artifact(int argc, char **argv, struct sl_error *err);
int cmd_build_kustomization(int argc, char **argv, struct sl_error *err);
int cmd_tag_artifact(int argc, char **argv, struct sl_error *err);
int cmd_diff_artifact(int argc, char **argv, struct sl_error *err);
int cmd_diff_kustomization(int argc, char **argv, struct sl_error *err);
int cmd_list_artifacts(int argc, char **argv, struct sl_error *err);
int cmd_copy_artifact(int argc, char **argv, struct sl_error *err);
int cmd_create_secret_oci(int argc, char **argv, struct sl_error *err);
int cmd_pull_artifact(int argc, char **argv, struct sl_error *err);
int cmd_install(int argc, char **argv, struct sl_error *err);
int cmd_controller(int argc, char **argv, struct sl_error *err);
int cmd_uninstall(int argc, char **argv, struct sl_error *err);
int cmd_get_sources_oci(int argc, char **argv, struct sl_error *err);
int cmd_create_source_oci(int argc, char **argv, struct sl_error *err);
int cmd_reconcile_source_oci(int argc, char **argv, struct sl_error *err);
int cmd_suspend_source_oci(int argc, char **argv, struct sl_error *err);
int cmd_resume_source_oci(int argc, char **argv, struct sl_error *err);
int cmd_delete_source_oci(int argc, char **argv, struct sl_error *err);
int cmd_get_kustomizations(int argc, char **argv, struct sl_error *err);
int cmd_reconcile_kustomization(int argc, char **argv, struct sl_error *err);
int cmd_suspend_kustomization(int argc, char **argv, struct sl_error *err);
int cmd_resume_kustomization(int argc, char **argv, struct sl_error *err);
int cmd_trace(int argc, char **argv, struct sl_error *err);
int cmd_generate_key_pair(int argc, char **argv, struct sl_error *err);
int cmd_sign_artifact(int argc, char **argv, struct sl_error *err);
int cmd_verify_artifact(int argc, char **argv, struct sl_error *err);

/* ---- signing (sign.c) ---- */
struct sl_cosign_key;
/* A cosign key password: $COSIGN_PASSWORD, else a terminal prompt (twice
 * when confirm), else all of stdin. Caller zeroes and frees. */
int cli_read_password(bool confirm, char **ret, struct sl_error *err);
/* Reads and decrypts cosign.key at path, asking for its password. */
int cli_load_private_key(const char *path, struct sl_cosign_key **ret, struct sl_error *err);
/* key=value strings into a JSON object of strings. */
int cli_parse_key_values(const struct sl_strv *kvs, json_t **ret, struct sl_error *err);
/* Signs digest in t's repository (legacy .sig form) and reports it. */
int cli_sign_digest(struct cli_target *t, const char *digest, const struct sl_cosign_key *key,
                    const json_t *annotations, struct sl_error *err);

/* The install manifests (config/), embedded at build time by
 * scripts/embed-files in the order they apply; a {0} entry ends the list.
 * data is NUL-terminated text with ${NAME} variables (install.c). */
struct cli_embedded_file {
	const char *name; /* path under config/ */
	const char *data;
	size_t len;
};
extern const struct cli_embedded_file cli_config_files[];

extern const struct command cli_commands[];
const struct command *cli_find_command(const char *verb, const char *noun);

#endif
