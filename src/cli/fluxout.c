#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#include "cli/fluxout.h"

/* Go's regexp \w: ASCII letters, digits and '_'; every other byte (UTF-8
 * continuation bytes included) is a word boundary. */
static bool is_word(unsigned char c)
{
	return isalnum(c) || c == '_';
}

static bool is_lower_hex(unsigned char c)
{
	return isdigit(c) || (c >= 'a' && c <= 'f');
}

/* A hex run can only end at \b where the word ends, and only start where
 * it starts, so each whole word either matches (all [a-f0-9], 40..128
 * long) or is left alone. */
char *cli_truncate_hex(const char *s)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	const char *p = s;
	while (*p) {
		if (!is_word((unsigned char)*p)) {
			sl_buf_append(&b, p++, 1);
			continue;
		}
		const char *start = p;
		bool hex = true;
		for (; *p && is_word((unsigned char)*p); p++)
			hex = hex && is_lower_hex((unsigned char)*p);
		size_t len = (size_t)(p - start);
		sl_buf_append(&b, start, hex && len >= 40 && len <= 128 ? 8 : len);
	}
	return sl_buf_steal(&b);
}

size_t cli_display_width(const char *s)
{
	size_t n = mbstowcs(NULL, s, 0);
	if (n == (size_t)-1)
		return strlen(s);
	wchar_t *w = sl_xcalloc(n + 1, sizeof(wchar_t));
	mbstowcs(w, s, n + 1);
	int width = wcswidth(w, n);
	free(w);
	return width < 0 ? strlen(s) : (size_t)width;
}

static void pad_cell(struct sl_buf *out, const char *s, size_t width)
{
	sl_buf_append(out, s, strlen(s));
	for (size_t w = cli_display_width(s); w < width; w++)
		sl_buf_append(out, " ", 1);
}

void cli_table_print(struct sl_buf *out, const char *const *header, size_t n_cols,
                     const char *const *cells, size_t n_rows)
{
	size_t *width = sl_xcalloc(n_cols ? n_cols : 1, sizeof(size_t));
	char **upper = sl_xcalloc(n_cols ? n_cols : 1, sizeof(char *));
	for (size_t c = 0; header && c < n_cols; c++) {
		upper[c] = sl_strdup(header[c]);
		for (char *p = upper[c]; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		width[c] = cli_display_width(upper[c]);
	}
	for (size_t r = 0; r < n_rows; r++)
		for (size_t c = 0; c < n_cols; c++) {
			size_t w = cli_display_width(cells[r * n_cols + c]);
			if (w > width[c])
				width[c] = w;
		}
	if (header) {
		for (size_t c = 0; c < n_cols; c++) {
			pad_cell(out, upper[c], width[c]);
			sl_buf_append(out, c + 1 < n_cols ? "\t" : " \n", c + 1 < n_cols ? 1 : 2);
		}
	}
	for (size_t r = 0; r < n_rows; r++) {
		for (size_t c = 0; c < n_cols; c++) {
			pad_cell(out, cells[r * n_cols + c], width[c]);
			sl_buf_append(out, "\t", 1);
		}
		sl_buf_append(out, "\n", 1);
	}
	for (size_t c = 0; header && c < n_cols; c++)
		free(upper[c]);
	free(upper);
	free(width);
}

void cli_go_duration(int64_t ms, char out[64])
{
	if (ms == 0) {
		snprintf(out, 64, "0s");
		return;
	}
	const char *sign = ms < 0 ? "-" : "";
	uint64_t u = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
	if (u < 1000) {
		snprintf(out, 64, "%s%llums", sign, (unsigned long long)u);
		return;
	}
	uint64_t h = u / 3600000, m = u / 60000 % 60, s = u / 1000 % 60, frac = u % 1000;
	char secs[24];
	if (frac) {
		char digits[4];
		snprintf(digits, sizeof(digits), "%03llu", (unsigned long long)frac);
		for (int i = 2; i > 0 && digits[i] == '0'; i--)
			digits[i] = '\0';
		snprintf(secs, sizeof(secs), "%llu.%ss", (unsigned long long)s, digits);
	} else {
		snprintf(secs, sizeof(secs), "%llus", (unsigned long long)s);
	}
	if (h)
		snprintf(out, 64, "%s%lluh%llum%s", sign, (unsigned long long)h,
		         (unsigned long long)m, secs);
	else if (m)
		snprintf(out, 64, "%s%llum%s", sign, (unsigned long long)m, secs);
	else
		snprintf(out, 64, "%s%s", sign, secs);
}

void cli_rfc3339_nano(const struct timespec *t, char out[64])
{
	struct tm tm;
	time_t sec = t->tv_sec;
	localtime_r(&sec, &tm);
	size_t n = strftime(out, 64, "%Y-%m-%dT%H:%M:%S", &tm);
	if (t->tv_nsec > 0) {
		char frac[24];
		snprintf(frac, sizeof(frac), ".%09ld", (long)t->tv_nsec);
		for (size_t i = strlen(frac) - 1; frac[i] == '0'; i--)
			frac[i] = '\0';
		n += (size_t)snprintf(out + n, 64 - n, "%s", frac);
	}
	long off = tm.tm_gmtoff;
	if (off == 0) {
		snprintf(out + n, 64 - n, "Z");
		return;
	}
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	snprintf(out + n, 64 - n, "%c%02ld:%02ld", sign, off / 3600, off / 60 % 60);
}

bool cli_dns1123(const char *s, size_t max, bool dots)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool edge = i == 0 || i == n - 1 || (dots && (s[i - 1] == '.' || s[i + 1] == '.'));
		if (islower((unsigned char)c) || isdigit((unsigned char)c))
			continue;
		if (edge || !(c == '-' || (dots && c == '.')))
			return false;
	}
	return true;
}

struct sl_node *cli_node_from_json(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		struct sl_node *map = sl_node_new_map();
		const char *key;
		json_t *val;
		json_object_foreach ((json_t *)v, key, val)
			sl_node_map_set(map, key, cli_node_from_json(val));
		return map;
	}
	case JSON_ARRAY: {
		struct sl_node *seq = sl_node_new_seq();
		size_t i;
		json_t *item;
		json_array_foreach (v, i, item)
			sl_node_seq_push(seq, cli_node_from_json(item));
		return seq;
	}
	case JSON_STRING: return sl_node_new_strn(json_string_value(v), json_string_length(v));
	case JSON_INTEGER: return sl_node_new_int(json_integer_value(v));
	case JSON_REAL: return sl_node_new_float(json_real_value(v));
	case JSON_TRUE: return sl_node_new_bool(true);
	case JSON_FALSE: return sl_node_new_bool(false);
	case JSON_NULL: break;
	}
	return sl_node_new_null();
}

const char *cli_json_str(const json_t *obj, ...)
{
	va_list ap;
	va_start(ap, obj);
	const json_t *v = obj;
	for (const char *key; v && (key = va_arg(ap, const char *));)
		v = json_object_get(v, key);
	va_end(ap);
	return json_string_value(v);
}

const json_t *cli_condition(const json_t *obj, const char *type)
{
	const json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions");
	size_t i;
	const json_t *c;
	json_array_foreach (conds, i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t && strcmp(t, type) == 0)
			return c;
	}
	return NULL;
}

enum cli_readiness cli_flux_readiness(const json_t *obj, const char *requested_at,
                                      const char **ret_message)
{
	const char *unused;
	const char **msg = ret_message ? ret_message : &unused;
	if (requested_at) {
		const char *handled = cli_json_str(obj, "status", "lastHandledReconcileAt", NULL);
		if (!handled || strcmp(handled, requested_at) != 0) {
			*msg = "the reconcile request is not handled yet";
			return CLI_PENDING;
		}
	}
	const json_t *ready = cli_condition(obj, "Ready");
	if (!ready) {
		*msg = "no Ready condition yet";
		return CLI_PENDING;
	}
	json_int_t generation =
	    json_integer_value(json_object_get(json_object_get(obj, "metadata"), "generation"));
	const json_t *observed = json_object_get(ready, "observedGeneration");
	if (!json_is_integer(observed))
		observed = json_object_get(json_object_get(obj, "status"), "observedGeneration");
	if (!json_is_integer(observed) || json_integer_value(observed) != generation) {
		*msg = "the current generation is not reconciled yet";
		return CLI_PENDING;
	}
	const char *status = json_string_value(json_object_get(ready, "status"));
	const char *message = json_string_value(json_object_get(ready, "message"));
	*msg = message ? message : "";
	if (status && strcmp(status, "True") == 0)
		return CLI_READY;
	if (status && strcmp(status, "False") == 0)
		return CLI_FAILED;
	return CLI_PENDING;
}

static json_int_t int_at(const json_t *obj, const char *section, const char *key, json_int_t def)
{
	const json_t *v = json_object_get(json_object_get(obj, section), key);
	return json_is_integer(v) ? json_integer_value(v) : def;
}

enum cli_readiness cli_deployment_readiness(const json_t *obj, char msg[160])
{
	const json_t *progressing = cli_condition(obj, "Progressing");
	const char *reason = json_string_value(json_object_get(progressing, "reason"));
	if (reason && strcmp(reason, "ProgressDeadlineExceeded") == 0) {
		const char *m = json_string_value(json_object_get(progressing, "message"));
		snprintf(msg, 160, "%s", m ? m : "progress deadline exceeded");
		return CLI_FAILED;
	}
	json_int_t generation = int_at(obj, "metadata", "generation", 0);
	json_int_t want = int_at(obj, "spec", "replicas", 1);
	json_int_t total = int_at(obj, "status", "replicas", 0);
	json_int_t updated = int_at(obj, "status", "updatedReplicas", 0);
	json_int_t ready = int_at(obj, "status", "readyReplicas", 0);
	json_int_t available = int_at(obj, "status", "availableReplicas", 0);
	if (int_at(obj, "status", "observedGeneration", -1) < generation)
		snprintf(msg, 160, "the rollout of generation %lld is not observed yet",
		         (long long)generation);
	else if (updated < want)
		snprintf(msg, 160, "%lld of %lld replicas updated", (long long)updated,
		         (long long)want);
	else if (total > updated)
		snprintf(msg, 160, "%lld old replicas pending termination",
		         (long long)(total - updated));
	else if (available < want || ready < want)
		snprintf(msg, 160, "%lld of %lld updated replicas ready, %lld available",
		         (long long)ready, (long long)want, (long long)available);
	else {
		snprintf(msg, 160, "deployment ready");
		return CLI_READY;
	}
	return CLI_PENDING;
}

void cli_ready_columns(const json_t *obj, const char **ret_status, const char **ret_message)
{
	const json_t *ready = cli_condition(obj, "Ready");
	const char *status = json_string_value(json_object_get(ready, "status"));
	const char *message = json_string_value(json_object_get(ready, "message"));
	if (!ready) {
		status = "False";
		message = "waiting to be reconciled";
	}
	*ret_status = status ? status : "";
	*ret_message = message ? message : "";
}

bool cli_status_matches(const json_t *obj, const char *type, const char *status)
{
	const json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions");
	const json_t *last = NULL;
	size_t i;
	const json_t *c;
	json_array_foreach (conds, i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t && strcasecmp(t, type) == 0)
			last = c;
	}
	const char *s = json_string_value(json_object_get(last, "status"));
	return s && strcasecmp(s, status) == 0;
}

void cli_flux_row(const json_t *obj, const char *revision, bool with_namespace,
                  struct sl_strv *cells)
{
	if (with_namespace) {
		const char *ns = cli_json_str(obj, "metadata", "namespace", NULL);
		sl_strv_push(cells, ns ? ns : "");
	}
	const char *name = cli_json_str(obj, "metadata", "name", NULL);
	sl_strv_push(cells, name ? name : "");
	char *short_rev = cli_truncate_hex(revision ? revision : "");
	sl_strv_push(cells, short_rev);
	free(short_rev);
	bool suspended = json_is_true(json_object_get(json_object_get(obj, "spec"), "suspend"));
	sl_strv_push(cells, suspended ? "True" : "False");
	const char *status, *message;
	cli_ready_columns(obj, &status, &message);
	sl_strv_push(cells, status);
	char *short_msg = cli_truncate_hex(message);
	sl_strv_push(cells, short_msg);
	free(short_msg);
}

/* Parses "2006-01-02T15:04:05[.999999999](Z|±07:00)" into seconds since
 * the epoch and nanoseconds; false when it is not that. */
static bool parse_rfc3339(const char *s, time_t *ret_sec, long *ret_nsec)
{
	struct tm tm = {0};
	const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!p)
		return false;
	long nsec = 0;
	if (*p == '.') {
		int digits = 0;
		for (p++; isdigit((unsigned char)*p); p++, digits++)
			if (digits < 9)
				nsec = nsec * 10 + (*p - '0');
		if (digits == 0)
			return false;
		for (; digits < 9; digits++)
			nsec *= 10;
	}
	long offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || strlen(p) != 6)
			return false;
		offset = (*p == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
		p += 6;
	} else {
		return false;
	}
	if (*p)
		return false;
	*ret_sec = timegm(&tm) - offset;
	*ret_nsec = nsec;
	return true;
}

void cli_go_time(const char *rfc3339, char out[96])
{
	time_t sec;
	long nsec;
	struct tm tm;
	if (!parse_rfc3339(rfc3339, &sec, &nsec) || !localtime_r(&sec, &tm)) {
		snprintf(out, 96, "0001-01-01 00:00:00 +0000 UTC");
		return;
	}
	size_t n = strftime(out, 96, "%Y-%m-%d %H:%M:%S", &tm);
	if (nsec > 0) {
		/* Go's ".999999999": the fraction without its trailing zeros. */
		char frac[24];
		snprintf(frac, sizeof(frac), ".%09ld", nsec);
		for (size_t i = strlen(frac) - 1; frac[i] == '0'; i--)
			frac[i] = '\0';
		n += (size_t)snprintf(out + n, 96 - n, "%s", frac);
	}
	strftime(out + n, 96 - n, " %z %Z", &tm);
}

/* One line of the report: "\n" then the label padded to 17 columns (Flux's
 * template writes each line after the newline that ends the one before). */
static void line(struct sl_buf *out, const char *label, const char *value)
{
	sl_buf_printf(out, "\n%-17s%s", label, value ? value : "");
}

/* The Status and Message lines of a source's Ready condition. */
static void source_status(struct sl_buf *out, const json_t *source)
{
	const json_t *ready = cli_condition(source, "Ready");
	if (!ready) {
		line(out, "Status:", "Unknown");
		return;
	}
	char t[96];
	cli_go_time(json_string_value(json_object_get(ready, "lastTransitionTime")), t);
	const char *status = json_string_value(json_object_get(ready, "status"));
	bool failed = status && strcmp(status, "False") == 0;
	sl_buf_printf(out, "\n%-17s%s %s",
	              "Status:", failed ? "Last reconciliation failed at" : "Last reconciled at",
	              t);
	line(out, "Message:", json_string_value(json_object_get(ready, "message")));
}

static void oci_block(struct sl_buf *out, const json_t *source)
{
	const json_t *spec = json_object_get(source, "spec");
	const json_t *ref = json_object_get(spec, "ref");
	line(out, "OCIRepository:", cli_json_str(source, "metadata", "name", NULL));
	line(out, "Namespace:", cli_json_str(source, "metadata", "namespace", NULL));
	line(out, "URL:", cli_json_str(spec, "url", NULL));
	const char *tag = cli_json_str(ref, "tag", NULL);
	const char *semver = cli_json_str(ref, "semver", NULL);
	const char *digest = cli_json_str(ref, "digest", NULL);
	if (tag && *tag)
		line(out, "Tag:", tag);
	else if (semver && *semver)
		line(out, "Tag:", semver);
	else if (digest && *digest)
		line(out, "Digest:", digest);
	const json_t *artifact = json_object_get(json_object_get(source, "status"), "artifact");
	if (json_is_object(artifact)) {
		line(out, "Revision:", cli_json_str(artifact, "revision", NULL));
		/* Flux ranges over {"Origin Revision: ": revision key, "Origin
		 * Source:   ": source key} in key order, writing a newline for
		 * each and the line only when the metadata has a value. */
		const json_t *metadata = json_object_get(artifact, "metadata");
		static const char *const origin[][2] = {
		    {"Origin Revision: ", "org.opencontainers.image.revision"},
		    {"Origin Source:   ", "org.opencontainers.image.source"},
		};
		for (size_t i = 0; json_object_size(metadata) > 0 && i < 2; i++) {
			const char *v = json_string_value(json_object_get(metadata, origin[i][1]));
			sl_buf_printf(out, "\n%s%s", v && *v ? origin[i][0] : "", v && *v ? v : "");
		}
	}
	source_status(out, source);
}

static void git_block(struct sl_buf *out, const json_t *source)
{
	const json_t *spec = json_object_get(source, "spec");
	const json_t *ref = json_object_get(spec, "ref");
	line(out, "GitRepository:", cli_json_str(source, "metadata", "name", NULL));
	line(out, "Namespace:", cli_json_str(source, "metadata", "namespace", NULL));
	line(out, "URL:", cli_json_str(spec, "url", NULL));
	const char *tag = cli_json_str(ref, "tag", NULL);
	const char *semver = cli_json_str(ref, "semver", NULL);
	const char *branch = cli_json_str(ref, "branch", NULL);
	if (tag && *tag)
		line(out, "Tag:", tag);
	else if (semver && *semver)
		line(out, "Tag:", semver);
	else if (branch && *branch)
		line(out, "Branch:", branch);
	const json_t *artifact = json_object_get(json_object_get(source, "status"), "artifact");
	if (json_is_object(artifact))
		line(out, "Revision:", cli_json_str(artifact, "revision", NULL));
	source_status(out, source);
}

void cli_trace_report(struct sl_buf *out, const char *object_kind, const json_t *obj,
                      const json_t *ks, const json_t *source)
{
	const char *name = cli_json_str(obj, "metadata", "name", NULL);
	const char *ns = cli_json_str(obj, "metadata", "namespace", NULL);
	sl_buf_printf(out, "\n%-17s%s/%s", "Object:", object_kind ? object_kind : "",
	              name ? name : "");
	if (ns && *ns)
		line(out, "Namespace:", ns);
	line(out, "Status:", "Managed by Flux");

	const json_t *spec = json_object_get(ks, "spec");
	sl_buf_printf(out, "\n---");
	line(out, "Kustomization:", cli_json_str(ks, "metadata", "name", NULL));
	line(out, "Namespace:", cli_json_str(ks, "metadata", "namespace", NULL));
	const char *target = cli_json_str(spec, "targetNamespace", NULL);
	if (target && *target)
		line(out, "Target:", target);
	line(out, "Path:", cli_json_str(spec, "path", NULL));
	line(out, "Revision:", cli_json_str(ks, "status", "lastAppliedRevision", NULL));
	const json_t *ready = cli_condition(ks, "Ready");
	if (ready) {
		/* Flux's Kustomization block says "Last reconciled" whatever
		 * the status. */
		char t[96];
		cli_go_time(json_string_value(json_object_get(ready, "lastTransitionTime")), t);
		sl_buf_printf(out, "\n%-17sLast reconciled at %s", "Status:", t);
		line(out, "Message:", json_string_value(json_object_get(ready, "message")));
	} else {
		line(out, "Status:", "Unknown");
	}

	const char *source_kind = cli_json_str(source, "kind", NULL);
	if (source_kind && strcmp(source_kind, "OCIRepository") == 0) {
		sl_buf_printf(out, "\n---");
		oci_block(out, source);
	} else if (source_kind && strcmp(source_kind, "GitRepository") == 0) {
		sl_buf_printf(out, "\n---");
		git_block(out, source);
	}
	sl_buf_append(out, "\n", 1);
}
