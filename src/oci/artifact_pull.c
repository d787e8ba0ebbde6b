/* Pull: manifest (digest checked) -> content layer streamed to an unlinked
 * temp file with its digest checked -> extracted into a staging directory
 * inside the output -> merged into place. Nothing reaches the output
 * directory before every check has passed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "oci/oci.h"

void sl_pull_result_clear(struct sl_pull_result *p)
{
	free(p->source);
	free(p->revision);
	free(p->created);
	*p = (struct sl_pull_result){0};
}

static const struct sl_descriptor *content_layer(const struct sl_manifest *m, struct sl_error *err)
{
	if (m->n_layers == 0) {
		sl_error_set(err, SL_EINVAL, "no layers found in artifact");
		return NULL;
	}
	static const char *const accepted[] = {SL_MT_FLUX_CONTENT, SL_MT_OCI_LAYER_GZIP,
	                                       SL_MT_DOCKER_LAYER_GZIP};
	for (size_t k = 0; k < SL_ARRAY_SIZE(accepted); k++)
		for (size_t i = 0; i < m->n_layers; i++)
			if (strcmp(m->layers[i].media_type, accepted[k]) == 0)
				return &m->layers[i];
	sl_error_set(err, SL_EINVAL, "no layer of type %s found in artifact (first layer is %s)",
	             SL_MT_FLUX_CONTENT, m->layers[0].media_type);
	return NULL;
}

static char *annotation(const struct sl_manifest *m, const char *key)
{
	const char *v = json_string_value(json_object_get(m->annotations, key));
	return v && *v ? sl_strdup(v) : NULL;
}

static int fetch_manifest(const struct sl_endpoint *ep, const char *reference,
                          struct sl_manifest *ret, char ret_digest[SL_DIGEST_STR_LEN],
                          struct sl_error *err)
{
	_cleanup_buf_ struct sl_buf body;
	sl_buf_init(&body, SL_MAX_MANIFEST_BYTES);
	_cleanup_free_ char *content_type = NULL;
	int rc = sl_endpoint_manifest_get(ep, reference, &body, &content_type, ret_digest, err);
	if (rc < 0)
		return rc;
	rc = sl_manifest_parse(body.data, body.len, content_type, ret, err);
	if (rc == SL_EUNSUPPORTED) {
		/* An index: follow its linux/amd64 (or only) child, as Flux does. */
		char child[SL_DIGEST_STR_LEN];
		rc = sl_index_pick(body.data, body.len, child, err);
		if (rc < 0)
			return sl_error_wrap(err, rc, "manifest %s", reference);
		free(content_type);
		content_type = NULL;
		rc = sl_endpoint_manifest_get(ep, child, &body, &content_type, ret_digest, err);
		if (rc < 0)
			return rc;
		rc = sl_manifest_parse(body.data, body.len, content_type, ret, err);
	}
	if (rc < 0)
		return sl_error_wrap(err, rc, "manifest %s", reference);
	return 0;
}

static void warn_bridge(void *userdata, const char *fmt, ...)
{
	const struct sl_pull_opts *opts = userdata;
	if (!opts->warn)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	opts->warn(opts->userdata, "%s", line);
}

/* A directory stream over a copy of dir_fd, from its first entry. */
static DIR *open_stream(int dir_fd, struct sl_error *err)
{
	int fd = dup(dir_fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		sl_error_errno(err, errno, SL_EIO, "reading staged content");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	/* dup() shares the read position with the caller's fd: start over. */
	rewinddir(d);
	return d;
}

/* Refuses merges that would replace a directory by a file or the reverse:
 * checked for the whole tree before anything moves. */
static int check_merge(int src_dir, int dst_dir, const char *rel, struct sl_error *err)
{
	DIR *d = open_stream(src_dir, err);
	if (!d)
		return SL_EIO;
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat s, t;
		if (fstatat(dirfd(d), de->d_name, &s, AT_SYMLINK_NOFOLLOW) < 0) {
			r = sl_error_errno(err, errno, SL_EIO, "reading staged %s", de->d_name);
			break;
		}
		if (fstatat(dst_dir, de->d_name, &t, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		_cleanup_free_ char *path =
		    rel ? sl_asprintf("%s/%s", rel, de->d_name) : sl_strdup(de->d_name);
		if (S_ISDIR(s.st_mode) != S_ISDIR(t.st_mode) || S_ISLNK(t.st_mode)) {
			r = sl_error_set(err, SL_EIO,
			                 "%s already exists in the output directory as a %s", path,
			                 S_ISLNK(t.st_mode)   ? "symlink"
			                 : S_ISDIR(t.st_mode) ? "directory"
			                                      : "file");
			break;
		}
		if (S_ISDIR(s.st_mode)) {
			int a = openat(dirfd(d), de->d_name,
			               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int b = openat(dst_dir, de->d_name,
			               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (a < 0 || b < 0)
				r = sl_error_errno(err, errno, SL_EIO, "opening %s", path);
			else
				r = check_merge(a, b, path, err);
			if (a >= 0)
				close(a);
			if (b >= 0)
				close(b);
		}
	}
	closedir(d);
	return r;
}

static int merge(int src_dir, int dst_dir, struct sl_error *err)
{
	DIR *d = open_stream(src_dir, err);
	if (!d)
		return SL_EIO;
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat t;
		bool dst_is_dir = fstatat(dst_dir, de->d_name, &t, AT_SYMLINK_NOFOLLOW) == 0 &&
		                  S_ISDIR(t.st_mode);
		if (dst_is_dir) {
			int a = openat(dirfd(d), de->d_name,
			               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int b = openat(dst_dir, de->d_name,
			               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (a < 0 || b < 0)
				r = sl_error_errno(err, errno, SL_EIO, "opening %s", de->d_name);
			else
				r = merge(a, b, err);
			if (a >= 0)
				close(a);
			if (b >= 0)
				close(b);
		} else if (renameat(dirfd(d), de->d_name, dst_dir, de->d_name) < 0) {
			r = sl_error_errno(err, errno, SL_EIO, "moving %s into place", de->d_name);
		}
	}
	closedir(d);
	return r;
}

static int extract_and_merge(int tgz_fd, const char *out_dir, const struct sl_pull_opts *opts,
                             struct sl_error *err)
{
	int rc = sl_mkdir_p(out_dir, 0755, err);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *staging = sl_asprintf("%s/.sluice-pull-XXXXXX", out_dir);
	if (!mkdtemp(staging))
		return sl_error_errno(err, errno, SL_EIO, "creating a staging directory in %s",
		                      out_dir);
	struct sl_extract_limits limits = {.max_total_bytes = opts->max_extract_bytes,
	                                   .max_entries = 1000000};
	rc = sl_tar_extract(tgz_fd, staging, &limits, warn_bridge, (void *)opts, err);
	if (rc == 0) {
		_cleanup_close_ int src = open(staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		_cleanup_close_ int dst = open(out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (src < 0 || dst < 0)
			rc = sl_error_errno(err, errno, SL_EIO, "opening %s", out_dir);
		else
			rc = check_merge(src, dst, NULL, err);
		if (rc == 0)
			rc = merge(src, dst, err);
	} else {
		sl_error_wrap(err, rc, "extracting");
	}
	sl_rm_rf(staging);
	return rc;
}

int sl_artifact_resolve(const struct sl_endpoint *ep, const char *reference,
                        struct sl_artifact_info *ret, struct sl_error *err)
{
	struct sl_manifest m = {0};
	char digest[SL_DIGEST_STR_LEN];
	int rc = fetch_manifest(ep, reference, &m, digest, err);
	if (rc < 0)
		return rc;
	const struct sl_descriptor *layer = content_layer(&m, err);
	if (!layer) {
		sl_manifest_clear(&m);
		return SL_EINVAL;
	}
	*ret = (struct sl_artifact_info){
	    .layer_digest = sl_strdup(layer->digest),
	    .layer_size = layer->size,
	    .source = annotation(&m, SL_ANNOTATION_SOURCE),
	    .revision = annotation(&m, SL_ANNOTATION_REVISION),
	    .created = annotation(&m, SL_ANNOTATION_CREATED),
	};
	snprintf(ret->digest, sizeof(ret->digest), "%s", digest);
	sl_manifest_clear(&m);
	return 0;
}

void sl_artifact_info_clear(struct sl_artifact_info *info)
{
	free(info->layer_digest);
	free(info->source);
	free(info->revision);
	free(info->created);
	*info = (struct sl_artifact_info){0};
}

int sl_artifact_download(const struct sl_endpoint *ep, const struct sl_artifact_info *info,
                         uint64_t max_bytes, int *ret_fd, struct sl_error *err)
{
	if (max_bytes && info->layer_size > max_bytes)
		return sl_error_set(
		    err, SL_ELIMIT,
		    "layer %s is %llu bytes, more than the limit of %llu (--max-size)",
		    info->layer_digest, (unsigned long long)info->layer_size,
		    (unsigned long long)max_bytes);
	_cleanup_close_ int fd = -1;
	int rc = sl_endpoint_blob_open(ep, info->layer_digest, info->layer_size, &fd, err);
	if (rc < 0)
		return rc;
	unsigned char magic[2] = {0};
	if (pread(fd, magic, 2, 0) != 2 || magic[0] != 0x1f || magic[1] != 0x8b)
		return sl_error_set(err, SL_EINVAL, "layer %s is not gzip-compressed",
		                    info->layer_digest);
	if (lseek(fd, 0, SEEK_SET) < 0)
		return sl_error_errno(err, errno, SL_EIO, "rewinding the downloaded layer");
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int sl_artifact_pull(const struct sl_endpoint *ep, const char *reference, const char *out_dir,
                     const struct sl_pull_opts *opts, struct sl_pull_result *ret,
                     struct sl_error *err)
{
	_cleanup_(sl_artifact_info_clear) struct sl_artifact_info info = {0};
	int rc = sl_artifact_resolve(ep, reference, &info, err);
	if (rc < 0)
		return rc;
	_cleanup_close_ int fd = -1;
	rc = sl_artifact_download(ep, &info, opts->max_layer_bytes, &fd, err);
	if (rc < 0)
		return rc;
	rc = extract_and_merge(fd, out_dir, opts, err);
	if (rc < 0)
		return rc;
	*ret = (struct sl_pull_result){
	    .source = TAKE_PTR(info.source),
	    .revision = TAKE_PTR(info.revision),
	    .created = TAKE_PTR(info.created),
	};
	snprintf(ret->digest, sizeof(ret->digest), "%s", info.digest);
	return 0;
}
