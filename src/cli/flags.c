/* Flags with spf13/pflag's syntax, since Flux users' scripts are written
 * for it: --name=value, --name value, -n value, -nvalue, booleans with an
 * optional =true|false, string slices split on commas (CSV) or repeated. */
#include <string.h>

#include "cli/cli.h"

struct global_flags g_flags;

static struct flag global_flags[] = {
    {"timeout", 0, FLAG_DURATION, &g_flags.timeout_ms, "5m0s",
     "timeout for this operation; 0 means no timeout"},
    {"namespace", 'n', FLAG_STRING, &g_flags.namespace_, "flux-system",
     "the namespace scope for this operation"},
    {"kubeconfig", 0, FLAG_STRING, &g_flags.kubeconfig, "",
     "path to the kubeconfig file (not used by artifact commands)"},
    {"context", 0, FLAG_STRING, &g_flags.context, "",
     "kubernetes context to use (not used by artifact commands)"},
    {"debug", 0, FLAG_BOOL, &g_flags.debug, "false",
     "print retries and other detail of the registry conversation to stderr"},
    {"help", 'h', FLAG_BOOL, &g_flags.help, "false", "help for this command"},
    {0},
};

static int set_value(struct flag *f, const char *value, struct sl_error *err)
{
	f->changed = true;
	switch (f->type) {
	case FLAG_STRING: {
		char **t = f->target;
		free(*t);
		*t = sl_strdup(value);
		return 0;
	}
	case FLAG_BOOL: {
		bool *t = f->target;
		if (!strcmp(value, "true") || !strcmp(value, "1") || !strcmp(value, "t") ||
		    !strcmp(value, "TRUE") || !strcmp(value, "True"))
			*t = true;
		else if (!strcmp(value, "false") || !strcmp(value, "0") || !strcmp(value, "f") ||
		         !strcmp(value, "FALSE") || !strcmp(value, "False"))
			*t = false;
		else
			return sl_error_set(
			    err, SL_EINVAL,
			    "invalid argument \"%s\" for \"--%s\" flag: strconv.ParseBool: "
			    "parsing \"%s\": invalid syntax",
			    value, f->name, value);
		return 0;
	}
	case FLAG_STRING_CSV: {
		struct sl_strv *t = f->target;
		_cleanup_free_ char *copy = sl_strdup(value);
		for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save))
			sl_strv_push(t, tok);
		return 0;
	}
	case FLAG_STRING_ARRAY: sl_strv_push(f->target, value); return 0;
	case FLAG_DURATION: {
		int r = sl_duration_parse(value, f->target, err);
		if (r < 0)
			return sl_error_wrap(err, r, "invalid argument \"%s\" for \"--%s\" flag",
			                     value, f->name);
		return 0;
	}
	}
	return 0;
}

static void apply_default(struct flag *f)
{
	if (!f->def)
		return;
	switch (f->type) {
	case FLAG_STRING: *(char **)f->target = sl_strdup(f->def); break;
	case FLAG_BOOL: *(bool *)f->target = strcmp(f->def, "true") == 0; break;
	case FLAG_STRING_CSV: {
		_cleanup_free_ char *copy = sl_strdup(f->def);
		for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save))
			sl_strv_push(f->target, tok);
		break;
	}
	case FLAG_STRING_ARRAY: break;
	case FLAG_DURATION: sl_duration_parse(f->def, f->target, NULL); break;
	}
}

static struct flag *find_long(struct flag *flags, const char *name, size_t len)
{
	for (struct flag *set[] = {flags, global_flags}, **s = set; s < set + 2; s++)
		for (struct flag *f = *s; f->name; f++)
			if (strlen(f->name) == len && strncmp(f->name, name, len) == 0)
				return f;
	return NULL;
}

static struct flag *find_short(struct flag *flags, char c)
{
	for (struct flag *set[] = {flags, global_flags}, **s = set; s < set + 2; s++)
		for (struct flag *f = *s; f->name; f++)
			if (f->shorthand == c)
				return f;
	return NULL;
}

static int assign(struct flag *f, const char *inline_value, int *i, int argc, char **argv,
                  const char *shown, struct sl_error *err)
{
	if (f->type == FLAG_STRING_CSV && !f->changed) {
		/* The first explicit use replaces the default. */
		sl_strv_free(f->target);
	}
	if (inline_value)
		return set_value(f, inline_value, err);
	if (f->type == FLAG_BOOL)
		return set_value(f, "true", err);
	if (*i + 1 >= argc)
		return sl_error_set(err, SL_EINVAL, "flag needs an argument: %s", shown);
	return set_value(f, argv[++*i], err);
}

int flags_parse(struct flag *flags, int argc, char **argv, struct sl_strv *ret_args,
                struct sl_error *err)
{
	for (struct flag *set[] = {flags, global_flags}, **s = set; s < set + 2; s++)
		for (struct flag *f = *s; f->name; f++)
			if (!f->changed)
				apply_default(f);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			for (i++; i < argc; i++)
				sl_strv_push(ret_args, argv[i]);
			break;
		}
		if (sl_startswith(a, "--")) {
			const char *name = a + 2;
			const char *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			struct flag *f = find_long(flags, name, len);
			if (!f)
				return sl_error_set(err, SL_EINVAL, "unknown flag: --%.*s",
				                    (int)len, name);
			_cleanup_free_ char *shown = sl_asprintf("--%s", f->name);
			int r = assign(f, eq ? eq + 1 : NULL, &i, argc, argv, shown, err);
			if (r < 0)
				return r;
		} else if (a[0] == '-' && a[1] && strcmp(a, "-") != 0) {
			for (const char *c = a + 1; *c; c++) {
				struct flag *f = find_short(flags, *c);
				if (!f)
					return sl_error_set(err, SL_EINVAL,
					                    "unknown shorthand flag: '%c' in %s",
					                    *c, a);
				char shown[8];
				snprintf(shown, sizeof(shown), "-%c", *c);
				if (f->type == FLAG_BOOL && c[1] != '=') {
					int r = assign(f, NULL, &i, argc, argv, shown, err);
					if (r < 0)
						return r;
					continue;
				}
				const char *rest = c[1] == '=' ? c + 2 : (c[1] ? c + 1 : NULL);
				int r = assign(f, rest, &i, argc, argv, shown, err);
				if (r < 0)
					return r;
				break;
			}
		} else {
			sl_strv_push(ret_args, a);
		}
	}
	return 0;
}

bool flag_changed(const struct flag *flags, const char *name)
{
	for (const struct flag *f = flags; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f->changed;
	return false;
}

bool flag_global_changed(const char *name)
{
	return flag_changed(global_flags, name);
}

void flags_free(struct flag *flags)
{
	for (struct flag *set[] = {flags, global_flags}, **s = set; s < set + 2; s++)
		for (struct flag *f = *s; f->name; f++) {
			if (f->type == FLAG_STRING) {
				free(*(char **)f->target);
				*(char **)f->target = NULL;
			} else if (f->type == FLAG_STRING_CSV || f->type == FLAG_STRING_ARRAY) {
				sl_strv_free(f->target);
			}
			f->changed = false;
		}
}

static const char *type_name(enum flag_type t)
{
	switch (t) {
	case FLAG_STRING: return "string";
	case FLAG_BOOL: return "";
	case FLAG_STRING_CSV: return "strings";
	case FLAG_STRING_ARRAY: return "stringArray";
	case FLAG_DURATION: return "duration";
	}
	return "";
}

static void print_flags(const struct flag *flags)
{
	for (const struct flag *f = flags; f->name; f++) {
		char left[64];
		if (f->shorthand)
			snprintf(left, sizeof(left), "  -%c, --%s %s", f->shorthand, f->name,
			         type_name(f->type));
		else
			snprintf(left, sizeof(left), "      --%s %s", f->name, type_name(f->type));
		printf("%-34s %s", left, f->usage);
		if (f->def && *f->def && strcmp(f->def, "false") != 0)
			printf(" (default %s%s%s)", f->type == FLAG_STRING ? "\"" : "", f->def,
			       f->type == FLAG_STRING ? "\"" : "");
		printf("\n");
	}
}

void flags_print_help(const struct command *cmd, const struct flag *flags)
{
	printf("%s\n\nUsage:\n  %s\n", cmd->summary, cmd->usage);
	if (cmd->examples)
		printf("\nExamples:\n%s\n", cmd->examples);
	printf("\nFlags:\n");
	print_flags(flags);
	printf("\nGlobal Flags:\n");
	print_flags(global_flags);
}
