/* Credentials the way docker and Flux find them: --creds first, then the
 * docker config's credHelpers, credsStore and auths for the repository and
 * then for the registry host. Secrets live only in struct sl_creds and in
 * request headers; no error message built here contains one. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "oci/oci.h"

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void sl_creds_clear(struct sl_creds *c)
{
	free(c->username);
	free_secret(c->password);
	free_secret(c->identity_token);
	free_secret(c->registry_token);
	*c = (struct sl_creds){0};
}

bool sl_creds_empty(const struct sl_creds *c)
{
	return !c || (!(c->username && c->password) && !c->identity_token && !c->registry_token);
}

void sl_creds_from_flag(const char *flag, struct sl_creds *ret)
{
	*ret = (struct sl_creds){0};
	if (!flag || !*flag)
		return;
	const char *colon = strchr(flag, ':');
	if (!colon) {
		ret->registry_token = sl_strdup(flag);
		return;
	}
	/* "user:" carries no password: go-containerregistry sends nothing. */
	if (colon == flag || !colon[1])
		return;
	ret->username = sl_strndup(flag, (size_t)(colon - flag));
	ret->password = sl_strdup(colon + 1);
}

/* "https://host:port/v1/" -> "host:port" */
static char *host_of(const char *key)
{
	const char *s = strstr(key, "://");
	s = s ? s + 3 : key;
	size_t n = strcspn(s, "/");
	return sl_strndup(s, n);
}

static int creds_from_auth_entry(const json_t *entry, const char *key, struct sl_creds *ret,
                                 struct sl_error *err)
{
	const char *auth = json_string_value(json_object_get(entry, "auth"));
	const char *user = json_string_value(json_object_get(entry, "username"));
	const char *pass = json_string_value(json_object_get(entry, "password"));
	const char *identity = json_string_value(json_object_get(entry, "identitytoken"));
	const char *regtoken = json_string_value(json_object_get(entry, "registrytoken"));
	struct sl_creds c = {0};
	if (auth && *auth) {
		_cleanup_free_ char *decoded = NULL;
		if (sl_base64_decode(auth, &decoded) < 0)
			return sl_error_set(err, SL_EINVAL,
			                    "docker config: auths[\"%s\"].auth is not valid base64",
			                    key);
		char *colon = strchr(decoded, ':');
		if (!colon || colon == decoded) {
			explicit_bzero(decoded, strlen(decoded));
			return sl_error_set(
			    err, SL_EINVAL,
			    "docker config: auths[\"%s\"].auth is not user:password", key);
		}
		c.username = sl_strndup(decoded, (size_t)(colon - decoded));
		c.password = sl_strdup(colon + 1);
		explicit_bzero(decoded, strlen(decoded));
	} else if (user && pass && *user) {
		c.username = sl_strdup(user);
		c.password = sl_strdup(pass);
	}
	if (identity && *identity)
		c.identity_token = sl_strdup(identity);
	if (regtoken && *regtoken)
		c.registry_token = sl_strdup(regtoken);
	*ret = c;
	return 0;
}

static bool valid_helper_name(const char *name)
{
	if (!*name)
		return false;
	for (const char *p = name; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && !strchr("-_.", *p))
			return false;
	return true;
}

int sl_docker_config_lookup(const char *json_text, size_t len, const char *key,
                            struct sl_creds *ret, char **ret_helper, struct sl_error *err)
{
	*ret = (struct sl_creds){0};
	*ret_helper = NULL;
	json_error_t jerr;
	_cleanup_(json_decrefp) json_t *doc = json_loadb(json_text, len, 0, &jerr);
	if (!doc || !json_is_object(doc))
		return sl_error_set(err, SL_EINVAL, "docker config: invalid JSON at line %d: %s",
		                    doc ? 1 : jerr.line, doc ? "not an object" : jerr.text);

	const char *helper =
	    json_string_value(json_object_get(json_object_get(doc, "credHelpers"), key));
	if (!helper)
		helper = json_string_value(json_object_get(doc, "credsStore"));
	if (helper && *helper) {
		if (!valid_helper_name(helper))
			return sl_error_set(err, SL_EINVAL,
			                    "docker config: invalid credential helper name \"%s\"",
			                    helper);
		*ret_helper = sl_strdup(helper);
		return 0;
	}

	const json_t *auths = json_object_get(doc, "auths");
	if (!json_is_object(auths))
		return 0;
	const json_t *entry = json_object_get(auths, key);
	const char *entry_key = key;
	if (!entry) {
		const char *k;
		const json_t *v;
		json_object_foreach ((json_t *)auths, k, v) {
			_cleanup_free_ char *h = host_of(k);
			if (strcmp(h, key) == 0) {
				entry = v;
				entry_key = k;
				break;
			}
		}
	}
	if (!entry)
		return 0;
	if (!json_is_object(entry))
		return sl_error_set(err, SL_EINVAL, "docker config: auths[\"%s\"] is not an object",
		                    entry_key);
	return creds_from_auth_entry(entry, entry_key, ret, err);
}

/* Runs "docker-credential-<helper> get" with server on stdin. Returns 0
 * with empty creds when the helper has none for server. */
static int run_helper(const char *helper, const char *server, struct sl_creds *ret,
                      struct sl_error *err)
{
	_cleanup_free_ char *prog = sl_asprintf("docker-credential-%s", helper);
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return sl_error_errno(err, errno, SL_EIO, "running %s", prog);
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return sl_error_errno(err, errno, SL_EIO, "running %s", prog);
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		return sl_error_errno(err, e, SL_EIO, "running %s", prog);
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, 2);
		execlp(prog, prog, "get", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	/* The server URL is short; a pipe buffer always holds it. A helper that
	 * exits without reading must not kill us with SIGPIPE. */
	struct sigaction ignore = {.sa_handler = SIG_IGN}, saved;
	sigaction(SIGPIPE, &ignore, &saved);
	ssize_t wn = write(in[1], server, strlen(server));
	(void)wn;
	close(in[1]);
	sigaction(SIGPIPE, &saved, NULL);

	_cleanup_buf_ struct sl_buf buf;
	sl_buf_init(&buf, SL_MAX_HELPER_OUTPUT_BYTES);
	bool too_big = false, timed_out = false;
	char chunk[4096];
	/* SLUICE_CREDENTIAL_HELPER_TIMEOUT (a Go duration) for slow keychains. */
	int64_t timeout_ms = SL_HELPER_TIMEOUT_MS;
	const char *env = getenv("SLUICE_CREDENTIAL_HELPER_TIMEOUT");
	if (env && *env && (sl_duration_parse(env, &timeout_ms, NULL) < 0 || timeout_ms <= 0))
		timeout_ms = SL_HELPER_TIMEOUT_MS;
	int64_t deadline = sl_now_ms() + timeout_ms;
	for (;;) {
		/* A helper waiting on a keychain prompt nobody answers must not hang
		 * the command forever. */
		int64_t left = deadline - sl_now_ms();
		struct pollfd pfd = {.fd = out[0], .events = POLLIN};
		int pr = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		ssize_t n = read(out[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (sl_buf_append(&buf, chunk, (size_t)n) < 0)
			too_big = true;
	}
	close(out[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		return sl_error_set(err, SL_EAUTH,
		                    "%s get: no answer within %lld ms "
		                    "(SLUICE_CREDENTIAL_HELPER_TIMEOUT)",
		                    prog, (long long)timeout_ms);
	if (too_big) {
		if (buf.data)
			explicit_bzero(buf.data, buf.len);
		return sl_error_set(err, SL_ELIMIT, "%s get: output larger than %d bytes", prog,
		                    SL_MAX_HELPER_OUTPUT_BYTES);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			return sl_error_set(err, SL_EINVAL,
			                    "credential helper %s not found in PATH", prog);
		if (buf.data && strstr(buf.data, "credentials not found"))
			return 0;
		/* Helper output on failure is an error text, never a secret, but keep
		 * it short. */
		char msg[201] = "";
		if (buf.data)
			snprintf(msg, sizeof(msg), "%s", buf.data);
		msg[strcspn(msg, "\n")] = '\0';
		return sl_error_set(err, SL_EAUTH, "%s get failed (exit %d)%s%s", prog,
		                    WIFEXITED(status) ? WEXITSTATUS(status) : -1, *msg ? ": " : "",
		                    msg);
	}
	json_error_t jerr;
	_cleanup_(json_decrefp) json_t *doc =
	    json_loadb(buf.data ? buf.data : "", buf.len, 0, &jerr);
	if (buf.data)
		explicit_bzero(buf.data, buf.len);
	if (!json_is_object(doc))
		return sl_error_set(err, SL_EINVAL, "%s get: output is not a JSON object", prog);
	const char *user = json_string_value(json_object_get(doc, "Username"));
	const char *secret = json_string_value(json_object_get(doc, "Secret"));
	*ret = (struct sl_creds){0};
	if (!secret || !*secret)
		return 0;
	/* docker's convention: user "<token>" means the secret is an identity token. */
	if (user && strcmp(user, "<token>") == 0) {
		ret->identity_token = sl_strdup(secret);
	} else if (user && *user) {
		ret->username = sl_strdup(user);
		ret->password = sl_strdup(secret);
	}
	return 0;
}

static bool file_exists(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0;
}

/* Which auth file applies, following go-containerregistry's keychain. */
static char *docker_config_path(void)
{
	const char *home = getenv("HOME");
	const char *docker_config = getenv("DOCKER_CONFIG");
	_cleanup_free_ char *home_cfg = home ? sl_asprintf("%s/.docker/config.json", home) : NULL;
	_cleanup_free_ char *env_cfg =
	    docker_config && *docker_config ? sl_asprintf("%s/config.json", docker_config) : NULL;
	if (file_exists(home_cfg) || file_exists(env_cfg))
		return env_cfg ? TAKE_PTR(env_cfg) : TAKE_PTR(home_cfg);
	const char *registry_auth = getenv("REGISTRY_AUTH_FILE");
	if (registry_auth && *registry_auth)
		return sl_strdup(registry_auth);
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg && *xdg) {
		char *p = sl_asprintf("%s/containers/auth.json", xdg);
		if (file_exists(p))
			return p;
		free(p);
	}
	return NULL;
}

int sl_creds_from_docker_config(const struct sl_oci_ref *ref, struct sl_creds *ret,
                                struct sl_error *err)
{
	*ret = (struct sl_creds){0};
	_cleanup_free_ char *path = docker_config_path();
	if (!path || !file_exists(path))
		return 0;
	_cleanup_buf_ struct sl_buf text;
	sl_buf_init(&text, SL_MAX_DOCKER_CONFIG_BYTES);
	int r = sl_read_file(path, SL_MAX_DOCKER_CONFIG_BYTES, &text, err);
	if (r < 0)
		return r;

	bool hub = strcmp(ref->registry, "index.docker.io") == 0;
	_cleanup_free_ char *repo_key = sl_oci_ref_repo_name(ref);
	const char *keys[] = {repo_key, hub ? "https://index.docker.io/v1/" : ref->registry};
	for (size_t i = 0; i < SL_ARRAY_SIZE(keys); i++) {
		_cleanup_free_ char *helper = NULL;
		struct sl_creds c;
		r = sl_docker_config_lookup(text.data ? text.data : "{}", text.len, keys[i], &c,
		                            &helper, err);
		if (r == 0 && helper)
			r = run_helper(helper, keys[i], &c, err);
		if (r < 0) {
			if (text.data)
				explicit_bzero(text.data, text.len);
			return sl_error_wrap(err, r, "reading credentials from %s", path);
		}
		if (!sl_creds_empty(&c)) {
			*ret = c;
			break;
		}
		sl_creds_clear(&c);
	}
	if (text.data)
		explicit_bzero(text.data, text.len);
	return 0;
}
