/* oci:// references with go-containerregistry's rules (as Flux parses
 * them), plus one deliberate difference: "localhost" alone counts as a
 * registry, as it does for docker, so oci://localhost/app works. */
#include <ctype.h>
#include <string.h>

#include "oci/oci.h"

void sl_oci_ref_clear(struct sl_oci_ref *ref)
{
	free(ref->registry);
	free(ref->repository);
	free(ref->tag);
	free(ref->digest);
	free(ref->text);
	*ref = (struct sl_oci_ref){0};
}

char *sl_oci_ref_repo_name(const struct sl_oci_ref *ref)
{
	return sl_asprintf("%s/%s", ref->registry, ref->repository);
}

bool sl_oci_ref_has_tag(const struct sl_oci_ref *ref)
{
	const char *slash = strrchr(ref->text, '/');
	const char *start = slash ? slash : ref->text;
	const char *at = strchr(start, '@');
	const char *colon = strchr(start, ':');
	return colon && (!at || colon < at);
}

const char *sl_oci_ref_reference(const struct sl_oci_ref *ref)
{
	return ref->digest ? ref->digest : ref->tag;
}

bool sl_oci_tag_valid(const char *t)
{
	size_t n = strlen(t);
	if (n < 1 || n > 128)
		return false;
	if (!isalnum((unsigned char)t[0]) && t[0] != '_')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)t[i]) && !strchr("_.-", t[i]))
			return false;
	return true;
}

/* Repository path components per the distribution spec:
 * [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* joined by '/'. */
static bool valid_repository(const char *r)
{
	size_t n = strlen(r);
	if (n < 2 || n > 255)
		return false;
	const char *p = r;
	for (;;) {
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p))
			return false;
		while (islower((unsigned char)*p) || isdigit((unsigned char)*p))
			p++;
		if (*p == '\0')
			return true;
		if (*p == '/') {
			p++;
			continue;
		}
		if (*p == '.' || *p == '-' || *p == '_') {
			if (*p == '.')
				p++;
			else if (*p == '_')
				p += p[1] == '_' ? 2 : 1;
			else
				while (*p == '-')
					p++;
			if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p))
				return false;
			continue;
		}
		return false;
	}
}

static bool valid_registry(const char *h)
{
	if (!*h)
		return false;
	if (h[0] == '[') { /* [::1]:5000 */
		const char *close = strchr(h, ']');
		if (!close)
			return false;
		for (const char *p = h + 1; p < close; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return false;
		h = close + 1;
		if (!*h)
			return true;
		if (*h != ':')
			return false;
		h++;
		if (!*h)
			return false;
		for (; *h; h++)
			if (!isdigit((unsigned char)*h))
				return false;
		return true;
	}
	const char *colon = strchr(h, ':');
	for (const char *p = h; *p && p != colon; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
			return false;
	if (colon) {
		if (!colon[1])
			return false;
		for (const char *p = colon + 1; *p; p++)
			if (!isdigit((unsigned char)*p))
				return false;
		if (colon == h)
			return false;
	}
	return true;
}

static bool looks_like_registry(const char *component)
{
	return strchr(component, '.') || strchr(component, ':') || component[0] == '[' ||
	       strcmp(component, "localhost") == 0;
}

int sl_oci_ref_parse(const char *url, struct sl_oci_ref *ret, struct sl_error *err)
{
	if (!url || !sl_startswith(url, "oci://"))
		return sl_error_set(err, SL_EINVAL,
		                    "URL must be in format 'oci://<domain>/<org>/<repo>'");
	const char *s = url + strlen("oci://");
	struct sl_oci_ref ref = {.text = sl_strdup(s)};
	_cleanup_free_ char *rest = sl_strdup(s);
	const char *why = NULL;

	/* Digest: everything after '@'. */
	char *at = strchr(rest, '@');
	if (at) {
		*at = '\0';
		if (!sl_digest_valid(at + 1)) {
			why = "the digest must be sha256: followed by 64 lowercase hex digits";
			goto invalid;
		}
		ref.digest = sl_strdup(at + 1);
	}

	/* Tag: after the last ':' that comes after the last '/'. */
	char *slash = strrchr(rest, '/');
	char *colon = strrchr(rest, ':');
	if (colon && (!slash || colon > slash)) {
		*colon = '\0';
		if (!sl_oci_tag_valid(colon + 1)) {
			why = "the tag must be 1-128 characters of [A-Za-z0-9_.-], not starting "
			      "with '.' or '-'";
			goto invalid;
		}
		/* A tag next to a digest is ignored, as go-containerregistry does. */
		if (!ref.digest)
			ref.tag = sl_strdup(colon + 1);
	}
	if (!ref.digest && !ref.tag)
		ref.tag = sl_strdup("latest");

	slash = strchr(rest, '/');
	if (slash) {
		_cleanup_free_ char *first = sl_strndup(rest, (size_t)(slash - rest));
		if (looks_like_registry(first)) {
			ref.registry = TAKE_PTR(first);
			ref.repository = sl_strdup(slash + 1);
		}
	}
	if (!ref.registry) {
		ref.registry = sl_strdup("index.docker.io");
		ref.repository =
		    strchr(rest, '/') ? sl_strdup(rest) : sl_asprintf("library/%s", rest);
	}
	if (strcmp(ref.registry, "docker.io") == 0) {
		free(ref.registry);
		ref.registry = sl_strdup("index.docker.io");
	}
	if (strcmp(ref.registry, "index.docker.io") == 0 && !strchr(ref.repository, '/')) {
		char *lib = sl_asprintf("library/%s", ref.repository);
		free(ref.repository);
		ref.repository = lib;
	}
	if (!valid_registry(ref.registry)) {
		why = "the registry must be a host name or address with an optional port";
		goto invalid;
	}
	if (!*ref.repository) {
		why = "the repository is missing";
		goto invalid;
	}
	if (!valid_repository(ref.repository)) {
		why = "the repository must be 2-255 characters of lowercase letters, digits and "
		      "separators (. _ __ - /)";
		goto invalid;
	}
	*ret = ref;
	return 0;

invalid:
	sl_oci_ref_clear(&ref);
	return sl_error_set(err, SL_EINVAL, "'%s' invalid URL: %s", url, why);
}
