/* generate-key-pair, sign artifact, verify artifact, and the signing half of
 * push artifact --sign-key: cosign's keyed workflow, interchangeable with
 * cosign itself (sign/sign.h; spec §C). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/kubecmd.h"
#include "codec/codec.h"
#include "sign/sign.h"

#define MAX_PASSWORD_BYTES 4096

/* ---- passwords -------------------------------------------------------- */

static void password_freep(char **p)
{
	if (*p) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
	}
}

/* One line from the terminal with echo off, without its newline. */
static int prompt_tty(int tty, const char *prompt, char **ret, struct sl_error *err)
{
	struct termios saved, quiet;
	bool restore = tcgetattr(tty, &saved) == 0;
	if (restore) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(tty, TCSAFLUSH, &quiet);
	}
	dprintf(tty, "%s", prompt);
	char line[MAX_PASSWORD_BYTES];
	size_t len = 0;
	int r = 0;
	for (;;) {
		char c;
		ssize_t n = read(tty, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n' || c == '\r')
			break;
		if (len + 1 >= sizeof(line)) {
			r = sl_error_set(err, SL_ELIMIT, "password longer than %d bytes",
			                 MAX_PASSWORD_BYTES - 1);
			break;
		}
		line[len++] = c;
	}
	dprintf(tty, "\n");
	if (restore)
		tcsetattr(tty, TCSAFLUSH, &saved);
	if (r == 0)
		*ret = sl_strndup(line, len);
	explicit_bzero(line, sizeof(line));
	return r;
}

/* cosign's order: $COSIGN_PASSWORD when set (empty is a password too), else
 * a prompt on the terminal (twice when creating a key), else all of stdin as
 * is — a trailing newline included, as cosign reads it, so a key made with
 * `echo pw | cosign generate-key-pair` opens here with the same pipe. */
int cli_read_password(bool confirm, char **ret, struct sl_error *err)
{
	const char *env = getenv("COSIGN_PASSWORD");
	if (env) {
		*ret = sl_strdup(env);
		return 0;
	}
	if (isatty(STDIN_FILENO)) {
		_cleanup_close_ int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
		if (tty < 0)
			return sl_error_errno(err, errno, SL_EIO,
			                      "opening the terminal for a password");
		_cleanup_(password_freep) char *first = NULL;
		_cleanup_(password_freep) char *again = NULL;
		int r = prompt_tty(tty, "Enter password for private key: ", &first, err);
		if (r == 0 && confirm)
			r = prompt_tty(tty, "Enter password for private key again: ", &again, err);
		if (r == 0 && confirm && strcmp(first, again) != 0)
			r = sl_error_set(err, SL_EINVAL, "passwords do not match");
		if (r < 0)
			return r;
		*ret = TAKE_PTR(first);
		return 0;
	}
	/* One allocation of the maximum size: a growing buffer would leave
	 * copies of the password behind in freed memory. */
	char *in = sl_xmalloc(MAX_PASSWORD_BYTES + 1);
	size_t len = 0;
	int r = 0;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, in + len, MAX_PASSWORD_BYTES + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = sl_error_errno(err, errno, SL_EIO, "reading the password from stdin");
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > MAX_PASSWORD_BYTES) {
			r = sl_error_set(err, SL_ELIMIT, "password on stdin longer than %d bytes",
			                 MAX_PASSWORD_BYTES);
			break;
		}
	}
	if (r < 0) {
		explicit_bzero(in, MAX_PASSWORD_BYTES + 1);
		free(in);
		return r;
	}
	in[len] = '\0';
	*ret = in;
	return 0;
}

int cli_load_private_key(const char *path, struct sl_cosign_key **ret, struct sl_error *err)
{
	_cleanup_buf_ struct sl_buf pem;
	sl_buf_init(&pem, SL_MAX_KEY_FILE_BYTES);
	int r = sl_read_file(path, SL_MAX_KEY_FILE_BYTES, &pem, err);
	if (r < 0)
		return sl_error_wrap(err, r, "reading the private key");
	_cleanup_(password_freep) char *password = NULL;
	r = cli_read_password(false, &password, err);
	if (r == 0)
		r = sl_cosign_key_load_private(pem.data, pem.len, password, ret, err);
	explicit_bzero(pem.data, pem.len);
	return r < 0 ? sl_error_wrap(err, r, "%s", path) : 0;
}

/* ---- generate-key-pair ------------------------------------------------ */

static struct {
	char *prefix;
	bool force;
} gen;

static struct flag gen_flags[] = {
    {"output-key-prefix", 0, FLAG_STRING, &gen.prefix, "cosign",
     "name of the key files: <prefix>.key and <prefix>.pub"},
    {"force", 0, FLAG_BOOL, &gen.force, "false", "overwrite existing key files"},
    {0},
};

/* Writes a whole file or nothing: a temporary file beside it, renamed (or,
 * unless overwrite, hard-linked, which fails if the name exists — no check-
 * then-write race) into place. */
static int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                             bool overwrite, struct sl_error *err)
{
	_cleanup_free_ char *tmp = sl_asprintf("%s.tmpXXXXXX", path);
	_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return sl_error_errno(err, errno, SL_EIO, "creating %s", tmp);
	int r = 0;
	const char *p = data;
	size_t left = len;
	if (fchmod(fd, mode) < 0)
		r = sl_error_errno(err, errno, SL_EIO, "chmod %s", tmp);
	while (r == 0 && left) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = sl_error_errno(err, errno, SL_EIO, "writing %s", tmp);
		else
			p += n, left -= (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = sl_error_errno(err, errno, SL_EIO, "fsync %s", tmp);
	if (r == 0 && overwrite && rename(tmp, path) < 0)
		r = sl_error_errno(err, errno, SL_EIO, "renaming %s to %s", tmp, path);
	if (r == 0 && !overwrite && link(tmp, path) < 0)
		r = errno == EEXIST
		        ? sl_error_set(err, SL_EINVAL,
		                       "%s already exists (use --force to overwrite it, or "
		                       "--output-key-prefix for another name)",
		                       path)
		        : sl_error_errno(err, errno, SL_EIO, "creating %s", path);
	if (r < 0 || !overwrite)
		unlink(tmp);
	return r;
}

static int run_generate(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len > 0)
		return sl_error_set(err, SL_EINVAL, "unexpected argument %s", args->items[0]);
	if (!*gen.prefix)
		return sl_error_set(err, SL_EINVAL, "--output-key-prefix must not be empty");
	_cleanup_free_ char *key_path = sl_asprintf("%s.key", gen.prefix);
	_cleanup_free_ char *pub_path = sl_asprintf("%s.pub", gen.prefix);
	struct stat st;
	/* Ask before the password prompt, not after. */
	if (!gen.force && lstat(key_path, &st) == 0) {
		_cleanup_free_ char *q = sl_asprintf("%s exists. Overwrite", key_path);
		int r = cli_confirm(q, "--force", err);
		if (r < 0)
			return r;
		gen.force = true;
	}
	_cleanup_(password_freep) char *password = NULL;
	_cleanup_(sl_cosign_key_freep) struct sl_cosign_key *key = NULL;
	_cleanup_buf_ struct sl_buf priv, pub;
	sl_buf_init(&priv, 0);
	sl_buf_init(&pub, 0);
	int r = cli_read_password(true, &password, err);
	r = r ?: sl_cosign_key_generate(&key, err);
	r = r ?: sl_cosign_key_export_private(key, password, &priv, err);
	r = r ?: sl_cosign_key_export_public(key, &pub, err);
	r = r ?: write_file_atomic(key_path, priv.data, priv.len, 0600, gen.force, err);
	r = r ?: write_file_atomic(pub_path, pub.data, pub.len, 0644, true, err);
	if (priv.data)
		explicit_bzero(priv.data, priv.len);
	if (r < 0)
		return r;
	sl_log_success("private key written to %s", key_path);
	sl_log_success("public key written to %s", pub_path);
	return 0;
}

int cmd_generate_key_pair(int argc, char **argv, struct sl_error *err)
{
	return cli_run("generate-key-pair", NULL, gen_flags, argc, argv, run_generate, err);
}

/* ---- sign artifact ---------------------------------------------------- */

int cli_parse_key_values(const struct sl_strv *kvs, json_t **ret, struct sl_error *err)
{
	json_t *obj = json_object();
	for (size_t i = 0; i < kvs->len; i++) {
		const char *kv = kvs->items[i];
		const char *eq = strchr(kv, '=');
		if (!eq || eq == kv) {
			json_decref(obj);
			return sl_error_set(
			    err, SL_EINVAL,
			    "invalid annotation %s, must be in the format key=value", kv);
		}
		_cleanup_free_ char *key = sl_strndup(kv, (size_t)(eq - kv));
		json_object_set_new(obj, key, json_string(eq + 1));
	}
	*ret = obj;
	return 0;
}

int cli_sign_digest(struct cli_target *t, const char *digest, const struct sl_cosign_key *key,
                    const json_t *annotations, struct sl_error *err)
{
	if (!t->registry)
		return sl_error_set(
		    err, SL_EUNSUPPORTED,
		    "signing an OCI image layout is not supported: sign in a registry");
	_cleanup_free_ char *reference = sl_oci_ref_repo_name(&t->ref);
	struct sl_cosign_sign_opts opts = {.docker_reference = reference,
	                                   .annotations = annotations};
	struct sl_cosign_sign_result result;
	int r =
	    sl_cosign_sign_legacy(t->registry, t->ref.repository, digest, key, &opts, &result, err);
	if (r < 0)
		return sl_error_wrap(err, r, "signing %s@%s failed", t->name, digest);
	if (result.already_signed)
		sl_log_success("%s@%s is already signed with this key (%s:%s)", t->name, digest,
		               t->name, result.signature_tag);
	else
		sl_log_success("signature written to %s:%s", t->name, result.signature_tag);
	return 0;
}

static struct {
	char *key;
	struct sl_strv annotations;
	struct cli_remote remote;
} sg;

static struct flag sign_flags[] = {
    {"key", 0, FLAG_STRING, &sg.key, "", "path to the private key (cosign.key) (required)"},
    {"annotations", 'a', FLAG_STRING_ARRAY, &sg.annotations, NULL,
     "extra key=value pairs to sign, in the payload's \"optional\" section"},
    CLI_REMOTE_FLAGS(sg.remote),
    {0},
};

static int run_sign(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "artifact URL is required");
	if (!*sg.key)
		return sl_error_set(err, SL_EINVAL, "--key is required");
	_cleanup_(json_decrefp) json_t *annotations = NULL;
	int r = cli_parse_key_values(&sg.annotations, &annotations, err);
	if (r < 0)
		return r;
	_cleanup_(cli_target_clear) struct cli_target t = {0};
	r = cli_target_parse(args->items[0], &t, err);
	if (r == 0 && t.path)
		r = sl_error_set(
		    err, SL_EUNSUPPORTED,
		    "signing an OCI image layout is not supported: sign in a registry");
	if (r < 0)
		return r;
	_cleanup_(sl_cosign_key_freep) struct sl_cosign_key *key = NULL;
	r = cli_load_private_key(sg.key, &key, err);
	if (r == 0)
		r = cli_target_open(&t, &sg.remote, NULL, true, err);
	if (r < 0)
		return r;
	char digest[SL_DIGEST_STR_LEN];
	if (t.digest) {
		snprintf(digest, sizeof(digest), "%s", t.digest);
	} else {
		/* Sign what the tag names now, by digest: the tag may move later,
		 * the signature stays with this content. */
		r = sl_registry_manifest_head(t.registry, t.ref.repository, t.tag, digest, err);
		if (r < 0)
			return sl_error_wrap(err, r, "resolving %s:%s", t.name, t.tag);
	}
	sl_log_action("signing %s@%s", t.name, digest);
	return cli_sign_digest(&t, digest, key, annotations, err);
}

int cmd_sign_artifact(int argc, char **argv, struct sl_error *err)
{
	return cli_run("sign", "artifact", sign_flags, argc, argv, run_sign, err);
}

/* ---- verify artifact -------------------------------------------------- */

static struct {
	struct sl_strv keys;
	char *output;
	struct cli_remote remote;
} vf;

static struct flag verify_flags[] = {
    {"key", 0, FLAG_STRING_ARRAY, &vf.keys, NULL,
     "path to a public key (cosign.pub); repeat to accept any of several (required)"},
    {"output", 'o', FLAG_STRING, &vf.output, "", "print what was verified as 'json' or 'yaml'"},
    CLI_REMOTE_FLAGS(vf.remote),
    {0},
};

static void key_array_free(struct sl_cosign_key **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sl_cosign_key_free(keys[i]);
	free(keys);
}

static void print_verified(const struct cli_target *t, const char *digest,
                           const struct sl_cosign_verified *v)
{
	const char *format = v->format == SL_COSIGN_LEGACY ? "cosign-legacy" : "sigstore-bundle";
	const char *key = vf.keys.items[v->key_index];
	if (!*vf.output) {
		sl_log_success("verified signature of %s@%s with %s (%s, %s)", t->name, digest, key,
		               format, v->signature_location);
		return;
	}
	json_t *doc =
	    json_pack("{s:s, s:s, s:s, s:s, s:s}", "repository", t->name, "digest", digest, "key",
	              key, "format", format, "signature", v->signature_location);
	if (v->docker_reference)
		json_object_set_new(doc, "dockerReference", json_string(v->docker_reference));
	if (v->annotations)
		json_object_set(doc, "annotations", v->annotations);
	if (strcmp(vf.output, "json") == 0) {
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputs("\n", stdout);
	} else {
		const char *k;
		json_t *value;
		json_object_foreach (doc, k, value) {
			if (json_is_object(value)) {
				printf("%s:\n", k);
				const char *ak;
				json_t *av;
				json_object_foreach (value, ak, av) {
					fputs("  ", stdout);
					cli_yaml_scalar(stdout, ak);
					fputs(": ", stdout);
					/* Payload annotations are strings when cosign
					 * writes them; anything else prints as JSON,
					 * which YAML reads. */
					if (json_is_string(av)) {
						cli_yaml_scalar(stdout, json_string_value(av));
					} else {
						char *text =
						    json_dumps(av, JSON_COMPACT | JSON_ENCODE_ANY);
						fputs(text ? text : "null", stdout);
						free(text);
					}
					fputs("\n", stdout);
				}
			} else {
				printf("%s: ", k);
				cli_yaml_scalar(stdout, json_string_value(value));
				fputs("\n", stdout);
			}
		}
	}
	json_decref(doc);
}

static int run_verify(const struct sl_strv *args, struct sl_error *err)
{
	if (args->len < 1)
		return sl_error_set(err, SL_EINVAL, "artifact URL is required");
	if (vf.keys.len == 0)
		return sl_error_set(
		    err, SL_EINVAL,
		    "--key is required (keyless verification is not supported yet)");
	int r = cli_check_output_format(vf.output, err);
	if (r < 0)
		return r;
	_cleanup_(cli_target_clear) struct cli_target t = {0};
	r = cli_target_parse(args->items[0], &t, err);
	if (r == 0 && t.path)
		r = sl_error_set(
		    err, SL_EUNSUPPORTED,
		    "verifying an OCI image layout is not supported: verify in a registry");
	if (r < 0)
		return r;
	/* Keys first: a malformed key is an error before any network traffic. */
	struct sl_cosign_key **keys = sl_xcalloc(vf.keys.len, sizeof(*keys));
	for (size_t i = 0; r == 0 && i < vf.keys.len; i++) {
		_cleanup_buf_ struct sl_buf pem;
		sl_buf_init(&pem, SL_MAX_KEY_FILE_BYTES);
		r = sl_read_file(vf.keys.items[i], SL_MAX_KEY_FILE_BYTES, &pem, err);
		if (r == 0)
			r = sl_cosign_key_load_public(pem.data, pem.len, &keys[i], err);
		if (r < 0)
			sl_error_wrap(err, r, "public key %s", vf.keys.items[i]);
	}
	if (r == 0)
		r = cli_target_open(&t, &vf.remote, NULL, false, err);
	char digest[SL_DIGEST_STR_LEN];
	if (r == 0 && t.digest)
		snprintf(digest, sizeof(digest), "%s", t.digest);
	else if (r == 0) {
		r = sl_registry_manifest_head(t.registry, t.ref.repository, t.tag, digest, err);
		if (r < 0)
			sl_error_wrap(err, r, "resolving %s:%s", t.name, t.tag);
	}
	struct sl_cosign_verified v = {0};
	if (r == 0)
		r = sl_cosign_verify(t.registry, t.ref.registry, t.ref.repository, digest, keys,
		                     vf.keys.len, &v, err);
	key_array_free(keys, vf.keys.len);
	if (r == SL_ENOTFOUND && v.rejections) {
		char flux_message[sizeof(err->msg)];
		snprintf(flux_message, sizeof(flux_message), "%s", err->msg);
		sl_error_set(err, r, "%s: %s", flux_message, v.rejections);
	}
	if (r < 0) {
		sl_cosign_verified_clear(&v);
		return r;
	}
	print_verified(&t, digest, &v);
	sl_cosign_verified_clear(&v);
	return 0;
}

int cmd_verify_artifact(int argc, char **argv, struct sl_error *err)
{
	return cli_run("verify", "artifact", verify_flags, argc, argv, run_verify, err);
}
