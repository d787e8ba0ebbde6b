#include <ctype.h>
#include <string.h>

#include "cli/cli.h"
#include "config.h"

int cli_provider_check(const char *provider, struct sl_error *err)
{
	if (!provider || !*provider)
		return sl_error_set(err, SL_EINVAL,
		                    "invalid argument \"\" for \"--provider\" flag: no source OCI "
		                    "provider given, please specify the OCI provider name");
	if (strcmp(provider, "generic") == 0)
		return 0;
	if (strcmp(provider, "aws") == 0 || strcmp(provider, "azure") == 0 ||
	    strcmp(provider, "gcp") == 0)
		return sl_error_set(err, SL_EUNSUPPORTED,
		                    "--provider %s is not supported by sluice yet: log in with the "
		                    "cloud's docker credential helper or pass --creds",
		                    provider);
	return sl_error_set(err, SL_EINVAL,
	                    "invalid argument \"%s\" for \"--provider\" flag: source OCI provider "
	                    "'%s' is not supported, must be one of: generic, aws, azure, gcp",
	                    provider, provider);
}

int cli_run(const char *verb, const char *noun, struct flag *flags, int argc, char **argv,
            int (*run)(const struct sl_strv *args, struct sl_error *err), struct sl_error *err)
{
	_cleanup_(sl_strv_free) struct sl_strv args = {0};
	int r = flags_parse(flags, argc, argv, &args, err);
	sl_log_set_debug(g_flags.debug);
	if (r == 0 && g_flags.help)
		flags_print_help(cli_find_command(verb, noun), flags);
	else if (r == 0)
		r = run(&args, err);
	flags_free(flags);
	return r;
}

int cli_check_output_format(const char *format, struct sl_error *err)
{
	if (*format && strcmp(format, "json") != 0 && strcmp(format, "yaml") != 0)
		return sl_error_set(err, SL_EINVAL,
		                    "invalid output format \"%s\", must be one of: json, yaml",
		                    format);
	return 0;
}

int cli_remote_open(const struct cli_remote *rm, const struct sl_oci_ref *ref, const char *creds,
                    bool push, struct sl_registry **ret, struct sl_error *err)
{
	int r = cli_provider_check(rm->provider, err);
	if (r < 0)
		return r;
	if (!creds || !*creds)
		creds = rm->creds;
	/* The client keeps its own copy of the credentials. */
	_cleanup_(sl_creds_clear) struct sl_creds c = {0};
	if (creds && *creds) {
		sl_log_action("logging in to registry with credentials");
		sl_creds_from_flag(creds, &c);
	} else {
		r = sl_creds_from_docker_config(ref, &c, err);
		if (r < 0)
			return r;
	}
	struct sl_registry_opts opts = {
	    .creds = &c,
	    .insecure = rm->insecure,
	    .ca_file = rm->ca_file && *rm->ca_file ? rm->ca_file : NULL,
	    .timeout_ms = g_flags.timeout_ms,
	    .user_agent = "sluice/" SLUICE_VERSION,
	    .progress = cli_progress(),
	    .push = push,
	};
	return sl_registry_new(ref->registry, &opts, ret, err);
}

void cli_target_clear(struct cli_target *t)
{
	sl_oci_ref_clear(&t->ref);
	free(t->path), free(t->tag), free(t->digest), free(t->name);
	sl_registry_free(t->registry);
	sl_layout_free(t->layout);
	*t = (struct cli_target){0};
}

int cli_target_parse(const char *url, struct cli_target *t, struct sl_error *err)
{
	if (url && sl_layout_ref_is(url)) {
		int r = sl_layout_ref_parse(url, &t->path, &t->tag, &t->digest, err);
		if (r < 0)
			return r;
		const char *rest = url + strlen(SL_LAYOUT_SCHEME);
		const char *slash = strrchr(rest, '/');
		const char *colon = strrchr(slash ? slash : rest, ':');
		/* The parser fills in "latest"; a tag counts only when written. */
		t->has_tag = t->tag && colon && !strncmp(colon + 1, t->tag, strlen(t->tag));
		t->name = sl_asprintf("%s%s", SL_LAYOUT_SCHEME, t->path);
		return 0;
	}
	int r = sl_oci_ref_parse(url, &t->ref, err);
	if (r < 0)
		return r;
	t->tag = t->ref.digest ? NULL : sl_strdup(t->ref.tag);
	t->digest = t->ref.digest ? sl_strdup(t->ref.digest) : NULL;
	t->has_tag = sl_oci_ref_has_tag(&t->ref);
	t->name = sl_oci_ref_repo_name(&t->ref);
	return 0;
}

int cli_target_open(struct cli_target *t, const struct cli_remote *rm, const char *creds,
                    bool write, struct sl_error *err)
{
	if (t->path) {
		int r = sl_layout_open(t->path, write, &t->layout, err);
		t->ep = (struct sl_endpoint){.layout = t->layout};
		return r;
	}
	int r = cli_remote_open(rm, &t->ref, creds, write, &t->registry, err);
	t->ep = (struct sl_endpoint){.registry = t->registry, .repository = t->ref.repository};
	return r;
}

const char *cli_target_reference(const struct cli_target *t)
{
	return t->digest ? t->digest : t->tag;
}

static struct {
	bool active;
	int64_t last_ms;
} progress;

static void human(uint64_t n, char *out, size_t len)
{
	if (n >= 1024ull * 1024 * 1024)
		snprintf(out, len, "%.1f GiB", (double)n / (1024.0 * 1024 * 1024));
	else if (n >= 1024 * 1024)
		snprintf(out, len, "%.1f MiB", (double)n / (1024.0 * 1024));
	else
		snprintf(out, len, "%.1f KiB", (double)n / 1024.0);
}

static void on_progress(void *userdata, const char *what, uint64_t done, uint64_t total)
{
	(void)userdata;
	/* Only worth a line for transfers that take a moment; redraw at most
	 * ten times a second. A total of 0 means "not known yet". */
	if (total && total < 4 * 1024 * 1024)
		return;
	int64_t now = sl_now_ms();
	if (progress.active && now - progress.last_ms < 100 && done < total)
		return;
	progress.last_ms = now;
	progress.active = true;
	char a[32], b[32];
	human(done, a, sizeof(a));
	human(total, b, sizeof(b));
	/* "uploading sha256:0123456789ab…": enough of the digest to tell blobs apart. */
	if (total)
		fprintf(stderr, "\r\033[K  %.*s… %s / %s (%d%%)", (int)strcspn(what, ":") + 13,
		        what, a, b, (int)(done * 100 / total));
	else
		fprintf(stderr, "\r\033[K  %s… %s", what, a);
	fflush(stderr);
}

void cli_progress_done(void)
{
	if (progress.active) {
		fprintf(stderr, "\r\033[K");
		progress.active = false;
	}
}

sl_progress_fn cli_progress(void)
{
	const char *no_progress = getenv("SLUICE_NO_PROGRESS");
	if (isatty(2) && !g_flags.debug && !(no_progress && *no_progress))
		return on_progress;
	return NULL;
}

int cli_parse_size(const char *text, uint64_t *ret, struct sl_error *err)
{
	char *end;
	double v = strtod(text, &end);
	/* Digits only: strtod would also take "nan", "inf" and hex. */
	if (end == text || v < 0 || !isdigit((unsigned char)text[0]) || v > 1e18)
		return sl_error_set(err, SL_EINVAL, "invalid size \"%s\"", text);
	static const struct {
		const char *suffix;
		double mult;
	} units[] = {{"", 1},
	             {"B", 1},
	             {"KiB", 1024.0},
	             {"MiB", 1048576.0},
	             {"GiB", 1073741824.0},
	             {"KB", 1e3},
	             {"MB", 1e6},
	             {"GB", 1e9},
	             {"K", 1024.0},
	             {"M", 1048576.0},
	             {"G", 1073741824.0}};
	for (size_t i = 0; i < SL_ARRAY_SIZE(units); i++)
		if (strcmp(end, units[i].suffix) == 0) {
			*ret = (uint64_t)(v * units[i].mult);
			return 0;
		}
	return sl_error_set(err, SL_EINVAL, "invalid size \"%s\" (use bytes or KiB, MiB, GiB)",
	                    text);
}

void cli_warn(void *userdata, const char *fmt, ...)
{
	(void)userdata;
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	cli_progress_done();
	sl_log_warning("%s", line);
}

/* Strings go-yaml v2 would read back as something else get double quotes. */
static bool needs_quotes(const char *s)
{
	static const char *const special[] = {
	    "",      "~",     "null", "Null",  "NULL",  "true",  "True", "TRUE", "false",
	    "False", "FALSE", "y",    "Y",     "yes",   "Yes",   "YES",  "n",    "N",
	    "no",    "No",    "NO",   "on",    "On",    "ON",    "off",  "Off",  "OFF",
	    ".inf",  ".Inf",  ".INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"};
	for (size_t i = 0; i < SL_ARRAY_SIZE(special); i++)
		if (strcmp(s, special[i]) == 0)
			return true;
	char *end;
	strtod(s, &end);
	if (*end == '\0')
		return true;
	/* YAML 1.1 timestamps (2026-01-02, 2026-01-02T03:04:05Z) */
	if (strlen(s) >= 10 && s[4] == '-' && s[7] == '-' && strspn(s, "0123456789") == 4)
		return true;
	if (strchr("-?:,[]{}#&*!|>'\"%@` ", s[0]))
		return true;
	if (strstr(s, ": ") || strstr(s, " #") || sl_endswith(s, ":") || sl_endswith(s, " "))
		return true;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20)
			return true;
	return false;
}

void cli_yaml_scalar(FILE *out, const char *s)
{
	if (!needs_quotes(s)) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if ((unsigned char)*p < 0x20)
			fprintf(out, "\\x%02x", (unsigned char)*p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}
