/* OCI image layouts (image-spec image-layout.md), compatible with what
 * skopeo's oci: transport (containers/image) reads and writes:
 *
 *   - skopeo writes oci-layout as {"imageLayoutVersion": "1.0.0"} (with a
 *     space) and an index.json without mediaType when it creates one, and
 *     keeps a mediaType it finds; so we parse both, and write the mediaType;
 *   - it writes descriptors as mediaType, digest, size, annotations, with
 *     no platform, and so do we;
 *   - when it moves a tag it strips the ref.name from the old entry and
 *     keeps that entry; we replace the entry in place instead, and name an
 *     unnamed entry of the same manifest rather than add a duplicate;
 *   - it resolves a tag to the first entry carrying that ref.name.
 *
 * Every path is opened relative to the layout's directory fd. Temp files
 * live in the directory they will be renamed into, so the rename is atomic. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "base/crypto_loader.h"
#include "oci/oci.h"

#define MAX_OCI_LAYOUT_FILE_BYTES (64 * 1024)
#define COPY_CHUNK                (128 * 1024)

struct sl_layout {
	char *path;
	int dir_fd;
	int blob_dir_fd; /* blobs/sha256, opened (and created) when first written */
	json_t *index;
};

const char *sl_layout_path(const struct sl_layout *l)
{
	return l->path;
}

void sl_layout_free(struct sl_layout *l)
{
	if (!l)
		return;
	if (l->dir_fd >= 0)
		close(l->dir_fd);
	if (l->blob_dir_fd >= 0)
		close(l->blob_dir_fd);
	json_decref(l->index);
	free(l->path);
	free(l);
}

/* ---- files ------------------------------------------------------------ */

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t read_some(int fd, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(fd, buf, len);
		if (n >= 0 || errno != EINTR)
			return n;
	}
}

static int read_at(int dir_fd, const char *name, const char *shown, size_t max, struct sl_buf *out,
                   struct sl_error *err)
{
	_cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return sl_error_errno(err, errno, errno == ENOENT ? SL_ENOTFOUND : SL_EIO,
		                      "reading %s", shown);
	char chunk[16384];
	for (;;) {
		ssize_t n = read_some(fd, chunk, sizeof(chunk));
		if (n < 0)
			return sl_error_errno(err, errno, SL_EIO, "reading %s", shown);
		if (n == 0)
			return 0;
		if (out->len + (size_t)n > max || sl_buf_append(out, chunk, (size_t)n) < 0)
			return sl_error_set(err, SL_ELIMIT, "reading %s: larger than %zu bytes",
			                    shown, max);
	}
}

/* ".sluice-tmp-<16 hex>": hidden, and never a valid blob name. */
static void tmp_name(char out[32])
{
	uint64_t x = 0;
	if (getrandom(&x, sizeof(x), 0) != sizeof(x))
		x = (uint64_t)sl_now_ms() ^ ((uint64_t)getpid() << 32);
	snprintf(out, 32, ".sluice-tmp-%016llx", (unsigned long long)x);
}

/* A file being written in dir_fd: anonymous (O_TMPFILE) where the
 * filesystem allows, so a crash mid-write leaves nothing; else a hidden
 * name, removed on failure. */
struct tmp_file {
	int dir_fd;
	int fd;
	char name[32]; /* empty while anonymous */
};

static void tmp_discard(struct tmp_file *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->name[0])
		unlinkat(t->dir_fd, t->name, 0);
	t->fd = -1;
	t->name[0] = '\0';
}

static int tmp_create(int dir_fd, const char *shown_dir, struct tmp_file *ret, struct sl_error *err)
{
	*ret = (struct tmp_file){.dir_fd = dir_fd, .fd = -1};
	ret->fd = openat(dir_fd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	if (ret->fd >= 0)
		return 0;
	for (int attempt = 0; attempt < 16; attempt++) {
		tmp_name(ret->name);
		ret->fd = openat(dir_fd, ret->name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
		if (ret->fd >= 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	int e = errno;
	ret->name[0] = '\0';
	return sl_error_errno(err, e, SL_EIO, "creating a temporary file in %s", shown_dir);
}

/* Gives an anonymous temp file a hidden name, so it can be renamed. */
static int tmp_link(struct tmp_file *t)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
	for (int attempt = 0; attempt < 16; attempt++) {
		tmp_name(t->name);
		int r = linkat(AT_FDCWD, proc, t->dir_fd, t->name, AT_SYMLINK_FOLLOW);
		if (r < 0 && errno == ENOENT) /* no /proc: needs CAP_DAC_READ_SEARCH */
			r = linkat(t->fd, "", t->dir_fd, t->name, AT_EMPTY_PATH);
		if (r == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	int e = errno;
	t->name[0] = '\0';
	return -e;
}

/* fsyncs the data, renames it to name (replacing what was there) and
 * fsyncs the directory, so the new name survives a crash. */
static int tmp_commit(struct tmp_file *t, const char *name, const char *shown, struct sl_error *err)
{
	if (fsync(t->fd) < 0) {
		int e = errno;
		tmp_discard(t);
		return sl_error_errno(err, e, SL_EIO, "writing %s", shown);
	}
	if (!t->name[0]) {
		int r = tmp_link(t);
		if (r < 0) {
			tmp_discard(t);
			return sl_error_errno(err, -r, SL_EIO, "writing %s", shown);
		}
	}
	if (renameat(t->dir_fd, t->name, t->dir_fd, name) < 0) {
		int e = errno;
		tmp_discard(t);
		return sl_error_errno(err, e, SL_EIO, "renaming into %s", shown);
	}
	t->name[0] = '\0';
	close(t->fd);
	t->fd = -1;
	if (fsync(t->dir_fd) < 0)
		return sl_error_errno(err, errno, SL_EIO, "syncing the directory of %s", shown);
	return 0;
}

static int write_file_atomic(struct sl_layout *l, const char *name, const void *data, size_t len,
                             struct sl_error *err)
{
	_cleanup_free_ char *shown = sl_asprintf("%s/%s", l->path, name);
	struct tmp_file t;
	int r = tmp_create(l->dir_fd, l->path, &t, err);
	if (r < 0)
		return r;
	r = write_all(t.fd, data, len);
	if (r < 0) {
		tmp_discard(&t);
		return sl_error_errno(err, -r, SL_EIO, "writing %s", shown);
	}
	return tmp_commit(&t, name, shown, err);
}

/* ---- oci-layout and index.json ---------------------------------------- */

/* The spec has only ever had 1.0.0; a 1.x is meant to stay readable. */
static bool layout_version_supported(const char *v)
{
	if (!sl_startswith(v, "1."))
		return false;
	int dots = 0;
	for (const char *p = v + 2; *p; p++) {
		if (*p == '.')
			dots++;
		else if (*p < '0' || *p > '9')
			return false;
	}
	return dots == 1 && v[2] != '.' && !sl_endswith(v, ".");
}

static int check_oci_layout_file(struct sl_layout *l, struct sl_error *err)
{
	_cleanup_free_ char *shown = sl_asprintf("%s/oci-layout", l->path);
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, MAX_OCI_LAYOUT_FILE_BYTES);
	int r = read_at(l->dir_fd, "oci-layout", shown, MAX_OCI_LAYOUT_FILE_BYTES, &b, err);
	if (r < 0)
		return r;
	json_error_t jerr;
	_cleanup_(json_decrefp) json_t *doc =
	    json_loadb(b.data ? b.data : "", b.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc || !json_is_object(doc))
		return sl_error_set(err, SL_EINVAL, "%s: not a JSON object%s%s", shown,
		                    doc ? "" : ": ", doc ? "" : jerr.text);
	const char *version = json_string_value(json_object_get(doc, "imageLayoutVersion"));
	if (!version)
		return sl_error_set(err, SL_EINVAL, "%s: imageLayoutVersion is missing", shown);
	if (!layout_version_supported(version))
		return sl_error_set(err, SL_EUNSUPPORTED,
		                    "%s: unsupported imageLayoutVersion \"%s\" (sluice reads 1.x)",
		                    shown, version);
	return 0;
}

static const char *entry_ref_name(const json_t *entry)
{
	return json_string_value(
	    json_object_get(json_object_get(entry, "annotations"), SL_ANNOTATION_REF_NAME));
}

/* Checks the shape of every manifests[] entry up front, so later lookups
 * can trust the fields they read. Digests of other algorithms are allowed
 * (the spec permits sha512) and refused only when used. */
static int validate_entry(const json_t *e, size_t i, const char *shown, struct sl_error *err)
{
	if (!json_is_object(e))
		return sl_error_set(err, SL_EINVAL, "%s: manifests[%zu] is not an object", shown,
		                    i);
	const char *mt = json_string_value(json_object_get(e, "mediaType"));
	if (!mt || !sl_media_type_valid(mt) || strlen(mt) >= SL_LAYOUT_MEDIA_TYPE_MAX)
		return sl_error_set(err, SL_EINVAL, "%s: manifests[%zu] has no valid mediaType",
		                    shown, i);
	const char *digest = json_string_value(json_object_get(e, "digest"));
	if (!digest || !strchr(digest, ':') ||
	    (sl_startswith(digest, "sha256:") && !sl_digest_valid(digest)))
		return sl_error_set(err, SL_EINVAL, "%s: manifests[%zu] has no valid digest", shown,
		                    i);
	const json_t *size = json_object_get(e, "size");
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return sl_error_set(err, SL_EINVAL, "%s: manifests[%zu] has no valid size", shown,
		                    i);
	const json_t *ann = json_object_get(e, "annotations");
	if (ann && !json_is_object(ann) && !json_is_null(ann))
		return sl_error_set(err, SL_EINVAL,
		                    "%s: manifests[%zu].annotations is not an object", shown, i);
	const json_t *name = json_object_get(ann, SL_ANNOTATION_REF_NAME);
	if (name && !json_is_string(name))
		return sl_error_set(err, SL_EINVAL, "%s: manifests[%zu] has a non-string %s", shown,
		                    i, SL_ANNOTATION_REF_NAME);
	return 0;
}

static int validate_index(const json_t *doc, const char *shown, struct sl_error *err)
{
	if (!json_is_object(doc))
		return sl_error_set(err, SL_EINVAL, "%s: not a JSON object", shown);
	const json_t *sv = json_object_get(doc, "schemaVersion");
	if (!json_is_integer(sv) || json_integer_value(sv) != 2)
		return sl_error_set(err, SL_EINVAL, "%s: schemaVersion must be 2", shown);
	/* skopeo writes no mediaType in an index.json it creates. */
	const json_t *mt = json_object_get(doc, "mediaType");
	if (mt && (!json_is_string(mt) || strcmp(json_string_value(mt), SL_MT_OCI_INDEX) != 0))
		return sl_error_set(err, SL_EINVAL, "%s: mediaType must be %s", shown,
		                    SL_MT_OCI_INDEX);
	const json_t *manifests = json_object_get(doc, "manifests");
	if (!json_is_array(manifests))
		return sl_error_set(err, SL_EINVAL, "%s: manifests is not an array", shown);
	size_t i;
	const json_t *e;
	json_array_foreach (manifests, i, e) {
		int r = validate_entry(e, i, shown, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int load_index(struct sl_layout *l, json_t **ret, struct sl_error *err)
{
	_cleanup_free_ char *shown = sl_asprintf("%s/index.json", l->path);
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, SL_MAX_LAYOUT_INDEX_BYTES);
	int r = read_at(l->dir_fd, "index.json", shown, SL_MAX_LAYOUT_INDEX_BYTES, &b, err);
	if (r < 0)
		return r;
	json_error_t jerr;
	_cleanup_(json_decrefp) json_t *doc =
	    json_loadb(b.data ? b.data : "", b.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return sl_error_set(err, SL_EINVAL, "%s: invalid JSON: %s", shown, jerr.text);
	r = validate_index(doc, shown, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(doc);
	return 0;
}

static int store_index(struct sl_layout *l, const json_t *doc, struct sl_error *err)
{
	_cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);
	if (!text)
		return sl_error_set(err, SL_ENOMEM, "serialising %s/index.json", l->path);
	return write_file_atomic(l, "index.json", text, strlen(text), err);
}

static bool exists_at(int dir_fd, const char *name)
{
	struct stat st;
	return fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int mkdir_at(int dir_fd, const char *name, const char *shown, struct sl_error *err)
{
	if (mkdirat(dir_fd, name, 0755) < 0 && errno != EEXIST)
		return sl_error_errno(err, errno, SL_EIO, "creating %s", shown);
	return 0;
}

static int dir_is_empty(int dir_fd, bool *ret)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return -e;
	}
	bool empty = true;
	struct dirent *de;
	while (empty && (de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = false;
	closedir(d);
	*ret = empty;
	return 0;
}

/* oci-layout first: an interrupted create leaves a directory that a retry
 * recognises as its own and completes. */
static int create_layout_files(struct sl_layout *l, struct sl_error *err)
{
	if (!exists_at(l->dir_fd, "oci-layout")) {
		bool empty = false;
		int r = dir_is_empty(l->dir_fd, &empty);
		if (r < 0)
			return sl_error_errno(err, -r, SL_EIO, "reading directory %s", l->path);
		/* Never sprinkle layout files over a directory of someone's files. */
		if (!empty)
			return sl_error_set(err, SL_EINVAL,
			                    "%s is not an OCI image layout and not empty: refusing "
			                    "to create a layout there",
			                    l->path);
		static const char version[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
		r = write_file_atomic(l, "oci-layout", version, strlen(version), err);
		if (r < 0)
			return r;
	}
	_cleanup_free_ char *blobs = sl_asprintf("%s/blobs", l->path);
	_cleanup_free_ char *sha = sl_asprintf("%s/blobs/sha256", l->path);
	int r = mkdir_at(l->dir_fd, "blobs", blobs, err);
	r = r ?: mkdir_at(l->dir_fd, "blobs/sha256", sha, err);
	if (r < 0 || exists_at(l->dir_fd, "index.json"))
		return r;
	_cleanup_(json_decrefp) json_t *empty_index = json_pack(
	    "{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", SL_MT_OCI_INDEX, "manifests");
	if (!empty_index)
		return sl_error_set(err, SL_ENOMEM, "building an empty index");
	return store_index(l, empty_index, err);
}

int sl_layout_open(const char *path, bool create, struct sl_layout **ret, struct sl_error *err)
{
	if (!path || !*path)
		return sl_error_set(err, SL_EINVAL, "the OCI image layout path is empty");
	/* Blobs are hashed as they are read and written, with libcrypto, which
	 * sluice loads on first use (crypto_loader.h): say now if it cannot. */
	int rc = sl_crypto_available(err);
	if (rc < 0)
		return rc;
	if (create) {
		int r = sl_mkdir_p(path, 0755, err);
		if (r < 0)
			return sl_error_wrap(err, r, "creating OCI image layout %s", path);
	}
	struct sl_layout *l = sl_xcalloc(1, sizeof(*l));
	_cleanup_(sl_layout_freep) struct sl_layout *owned = l;
	l->path = sl_strdup(path);
	l->blob_dir_fd = -1;
	l->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->dir_fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return sl_error_set(err, SL_ENOTFOUND,
			                    "%s is not an OCI image layout: no such directory",
			                    path);
		if (e == ENOTDIR)
			return sl_error_set(err, SL_EINVAL,
			                    "%s is not an OCI image layout: not a directory", path);
		return sl_error_errno(err, e, SL_EIO, "opening OCI image layout %s", path);
	}
	int r = 0;
	if (create)
		r = create_layout_files(l, err);
	else if (!exists_at(l->dir_fd, "oci-layout"))
		return sl_error_set(err, SL_EINVAL,
		                    "%s is not an OCI image layout: no oci-layout file", path);
	else if (!exists_at(l->dir_fd, "index.json"))
		return sl_error_set(err, SL_EINVAL,
		                    "%s is not an OCI image layout: no index.json file", path);
	r = r ?: check_oci_layout_file(l, err);
	r = r ?: load_index(l, &l->index, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(owned);
	return 0;
}

/* ---- lookups ---------------------------------------------------------- */

static const char *blob_name(const char *digest, char out[80])
{
	snprintf(out, 80, "blobs/sha256/%s", digest + strlen("sha256:"));
	return out;
}

static int descriptor_of(const json_t *entry, const char *what, struct sl_layout_descriptor *ret,
                         struct sl_error *err)
{
	const char *digest = json_string_value(json_object_get(entry, "digest"));
	if (!sl_digest_valid(digest))
		return sl_error_set(err, SL_EUNSUPPORTED,
		                    "%s points to %s: only sha256 digests are supported", what,
		                    digest);
	struct sl_layout_descriptor d = {
	    .size = (uint64_t)json_integer_value(json_object_get(entry, "size"))};
	snprintf(d.digest, sizeof(d.digest), "%s", digest);
	snprintf(d.media_type, sizeof(d.media_type), "%s",
	         json_string_value(json_object_get(entry, "mediaType")));
	*ret = d;
	return 0;
}

static int open_blob(struct sl_layout *l, const char *digest, int *ret_fd, uint64_t *ret_size,
                     struct sl_error *err)
{
	if (!sl_digest_valid(digest))
		return sl_error_set(err, SL_EINVAL, "invalid blob digest \"%s\"", digest);
	char name[80];
	_cleanup_close_ int fd =
	    openat(l->dir_fd, blob_name(digest, name), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return sl_error_set(err, SL_ENOTFOUND, "blob %s not found in %s", digest,
			                    l->path);
		if (e == ELOOP)
			return sl_error_set(err, SL_EINVAL, "blob %s in %s is a symbolic link",
			                    digest, l->path);
		return sl_error_errno(err, e, SL_EIO, "opening blob %s in %s", digest, l->path);
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sl_error_errno(err, errno, SL_EIO, "opening blob %s in %s", digest, l->path);
	if (!S_ISREG(st.st_mode))
		return sl_error_set(err, SL_EINVAL, "blob %s in %s is not a regular file", digest,
		                    l->path);
	*ret_fd = TAKE_FD(fd);
	*ret_size = (uint64_t)st.st_size;
	return 0;
}

/* Reads a whole blob of at most max bytes and checks it hashes to digest. */
static int read_blob_verified(struct sl_layout *l, const char *digest, size_t max,
                              struct sl_buf *out, struct sl_error *err)
{
	_cleanup_close_ int fd = -1;
	uint64_t size = 0;
	int r = open_blob(l, digest, &fd, &size, err);
	if (r < 0)
		return r;
	if (size > max)
		return sl_error_set(err, SL_ELIMIT, "blob %s in %s is larger than %zu bytes",
		                    digest, l->path, max);
	char chunk[16384];
	for (;;) {
		ssize_t n = read_some(fd, chunk, sizeof(chunk));
		if (n < 0)
			return sl_error_errno(err, errno, SL_EIO, "reading blob %s in %s", digest,
			                      l->path);
		if (n == 0)
			break;
		if (out->len + (size_t)n > max || sl_buf_append(out, chunk, (size_t)n) < 0)
			return sl_error_set(err, SL_ELIMIT,
			                    "blob %s in %s is larger than %zu bytes", digest,
			                    l->path, max);
	}
	char got[SL_DIGEST_STR_LEN];
	sl_sha256_digest(out->data ? out->data : "", out->len, got);
	if (strcmp(got, digest) != 0)
		return sl_error_set(err, SL_EDIGEST,
		                    "blob %s in %s does not match its digest (content is %s)",
		                    digest, l->path, got);
	return 0;
}

/* A digest that index.json does not list may still name a manifest blob
 * (an untagged child of an index, say): its media type comes from the
 * document itself. */
static int describe_manifest_blob(struct sl_layout *l, const char *digest,
                                  struct sl_layout_descriptor *ret, struct sl_error *err)
{
	_cleanup_buf_ struct sl_buf b;
	sl_buf_init(&b, SL_MAX_MANIFEST_BYTES);
	int r = read_blob_verified(l, digest, SL_MAX_MANIFEST_BYTES, &b, err);
	if (r < 0)
		return r;
	_cleanup_(json_decrefp) json_t *doc = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
	const char *mt = json_string_value(json_object_get(doc, "mediaType"));
	if (!mt && json_is_array(json_object_get(doc, "manifests")))
		mt = SL_MT_OCI_INDEX;
	else if (!mt && json_is_object(json_object_get(doc, "config")))
		mt = SL_MT_OCI_MANIFEST;
	if (!mt || !sl_media_type_valid(mt) || strlen(mt) >= SL_LAYOUT_MEDIA_TYPE_MAX)
		return sl_error_set(err, SL_EINVAL, "blob %s in %s is not a manifest", digest,
		                    l->path);
	struct sl_layout_descriptor d = {.size = b.len};
	snprintf(d.digest, sizeof(d.digest), "%s", digest);
	snprintf(d.media_type, sizeof(d.media_type), "%s", mt);
	*ret = d;
	return 0;
}

int sl_layout_resolve(struct sl_layout *l, const char *reference, struct sl_layout_descriptor *ret,
                      struct sl_error *err)
{
	if (!reference || !*reference)
		return sl_error_set(err, SL_EINVAL, "empty reference into %s", l->path);
	const json_t *manifests = json_object_get(l->index, "manifests");
	size_t i;
	const json_t *e;
	if (strchr(reference, ':')) {
		if (!sl_digest_valid(reference))
			return sl_error_set(err, SL_EINVAL,
			                    "invalid digest \"%s\": must be sha256: followed by 64 "
			                    "lowercase hex digits",
			                    reference);
		json_array_foreach (manifests, i, e) {
			if (strcmp(json_string_value(json_object_get(e, "digest")), reference) == 0)
				return descriptor_of(e, reference, ret, err);
		}
		if (!sl_layout_blob_exists(l, reference))
			return sl_error_set(err, SL_ENOTFOUND,
			                    "manifest %s not found in OCI image layout %s",
			                    reference, l->path);
		return describe_manifest_blob(l, reference, ret, err);
	}
	json_array_foreach (manifests, i, e) {
		const char *name = entry_ref_name(e);
		if (name && strcmp(name, reference) == 0) {
			_cleanup_free_ char *what = sl_asprintf("tag %s", reference);
			return descriptor_of(e, what, ret, err);
		}
	}
	return sl_error_set(err, SL_ENOTFOUND, "tag %s not found in OCI image layout %s", reference,
	                    l->path);
}

int sl_layout_manifest_get(struct sl_layout *l, const char *reference, struct sl_buf *out,
                           char **ret_media_type, char ret_digest[SL_DIGEST_STR_LEN],
                           struct sl_error *err)
{
	struct sl_layout_descriptor d;
	int r = sl_layout_resolve(l, reference, &d, err);
	if (r < 0)
		return r;
	size_t max = SL_MAX_MANIFEST_BYTES;
	if (out->max && out->max < max)
		max = out->max;
	if (d.size > max)
		return sl_error_set(err, SL_ELIMIT, "manifest %s in %s is larger than %zu bytes",
		                    reference, l->path, max);
	struct sl_buf b;
	sl_buf_init(&b, max);
	r = read_blob_verified(l, d.digest, max, &b, err);
	if (r == 0 && b.len != d.size)
		r = sl_error_set(err, SL_EDIGEST,
		                 "manifest %s in %s is %zu bytes, but index.json says %llu",
		                 reference, l->path, b.len, (unsigned long long)d.size);
	if (r < 0) {
		sl_buf_free(&b);
		return sl_error_wrap(err, r, "reading manifest %s", reference);
	}
	sl_buf_free(out);
	out->data = b.data;
	out->len = b.len;
	out->cap = b.cap;
	if (ret_media_type)
		*ret_media_type = sl_strdup(d.media_type);
	if (ret_digest)
		memcpy(ret_digest, d.digest, SL_DIGEST_STR_LEN);
	return 0;
}

bool sl_layout_blob_exists(struct sl_layout *l, const char *digest)
{
	if (!sl_digest_valid(digest))
		return false;
	char name[80];
	struct stat st;
	return fstatat(l->dir_fd, blob_name(digest, name), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode);
}

int sl_layout_blob_open(struct sl_layout *l, const char *digest, int *ret_fd, uint64_t *ret_size,
                        struct sl_error *err)
{
	return open_blob(l, digest, ret_fd, ret_size, err);
}

int sl_layout_blob_verify(struct sl_layout *l, const char *digest, uint64_t expected_size,
                          struct sl_error *err)
{
	_cleanup_close_ int fd = -1;
	uint64_t size = 0;
	int r = open_blob(l, digest, &fd, &size, err);
	if (r < 0)
		return r;
	if (expected_size != SL_LAYOUT_ANY_SIZE && size != expected_size)
		return sl_error_set(err, SL_EDIGEST, "blob %s in %s is %llu bytes, expected %llu",
		                    digest, l->path, (unsigned long long)size,
		                    (unsigned long long)expected_size);
	_cleanup_(sl_sha256_freep) struct sl_sha256 *h = sl_sha256_new();
	_cleanup_free_ char *chunk = sl_xmalloc(COPY_CHUNK);
	for (;;) {
		ssize_t n = read_some(fd, chunk, COPY_CHUNK);
		if (n < 0)
			return sl_error_errno(err, errno, SL_EIO, "reading blob %s in %s", digest,
			                      l->path);
		if (n == 0)
			break;
		sl_sha256_update(h, chunk, (size_t)n);
	}
	char got[SL_DIGEST_STR_LEN];
	sl_sha256_final(h, got);
	if (strcmp(got, digest) != 0)
		return sl_error_set(err, SL_EDIGEST,
		                    "blob %s in %s does not match its digest (content is %s)",
		                    digest, l->path, got);
	return 0;
}

/* ---- writing blobs ---------------------------------------------------- */

static int blob_dir(struct sl_layout *l, struct sl_error *err)
{
	if (l->blob_dir_fd >= 0)
		return l->blob_dir_fd;
	_cleanup_free_ char *blobs = sl_asprintf("%s/blobs", l->path);
	_cleanup_free_ char *sha = sl_asprintf("%s/blobs/sha256", l->path);
	int r = mkdir_at(l->dir_fd, "blobs", blobs, err);
	r = r ?: mkdir_at(l->dir_fd, "blobs/sha256", sha, err);
	if (r < 0)
		return r;
	l->blob_dir_fd =
	    openat(l->dir_fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (l->blob_dir_fd < 0)
		return sl_error_errno(err, errno, SL_EIO, "opening %s", sha);
	return l->blob_dir_fd;
}

static bool blob_present_with_size(struct sl_layout *l, const char *digest, uint64_t size)
{
	char name[80];
	struct stat st;
	return fstatat(l->dir_fd, blob_name(digest, name), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode) && (uint64_t)st.st_size == size;
}

/* Streams size bytes from fd into t, hashing them; the source must end
 * exactly there. */
static int copy_hashed(struct sl_layout *l, const char *digest, int fd, uint64_t size,
                       struct tmp_file *t, char got[SL_DIGEST_STR_LEN], struct sl_error *err)
{
	if (lseek(fd, 0, SEEK_SET) < 0 && errno != ESPIPE)
		return sl_error_errno(err, errno, SL_EIO, "reading blob %s", digest);
	_cleanup_(sl_sha256_freep) struct sl_sha256 *h = sl_sha256_new();
	_cleanup_free_ char *chunk = sl_xmalloc(COPY_CHUNK);
	uint64_t done = 0;
	while (done < size) {
		size_t want = size - done < COPY_CHUNK ? (size_t)(size - done) : COPY_CHUNK;
		ssize_t n = read_some(fd, chunk, want);
		if (n < 0)
			return sl_error_errno(err, errno, SL_EIO, "reading blob %s", digest);
		if (n == 0)
			return sl_error_set(
			    err, SL_EDIGEST,
			    "blob %s: expected %llu bytes, the source ended after %llu", digest,
			    (unsigned long long)size, (unsigned long long)done);
		sl_sha256_update(h, chunk, (size_t)n);
		int r = write_all(t->fd, chunk, (size_t)n);
		if (r < 0)
			return sl_error_errno(err, -r, SL_EIO, "writing blob %s into %s", digest,
			                      l->path);
		done += (uint64_t)n;
	}
	char extra;
	ssize_t n = read_some(fd, &extra, 1);
	if (n < 0)
		return sl_error_errno(err, errno, SL_EIO, "reading blob %s", digest);
	if (n > 0)
		return sl_error_set(err, SL_EDIGEST,
		                    "blob %s: the source is longer than %llu bytes", digest,
		                    (unsigned long long)size);
	sl_sha256_final(h, got);
	return 0;
}

static int put_blob(struct sl_layout *l, const char *digest, int fd, const void *data,
                    uint64_t size, struct sl_error *err)
{
	if (!sl_digest_valid(digest))
		return sl_error_set(err, SL_EINVAL, "invalid blob digest \"%s\"", digest);
	if (blob_present_with_size(l, digest, size))
		return 0;
	int dir_fd = blob_dir(l, err);
	if (dir_fd < 0)
		return dir_fd;
	_cleanup_free_ char *shown = sl_asprintf("%s/blobs/sha256", l->path);
	struct tmp_file t;
	int r = tmp_create(dir_fd, shown, &t, err);
	if (r < 0)
		return r;
	char got[SL_DIGEST_STR_LEN];
	if (data) {
		sl_sha256_digest(data, (size_t)size, got);
		r = write_all(t.fd, data, (size_t)size);
		if (r < 0)
			r = sl_error_errno(err, -r, SL_EIO, "writing blob %s into %s", digest,
			                   l->path);
	} else {
		r = copy_hashed(l, digest, fd, size, &t, got, err);
	}
	if (r == 0 && strcmp(got, digest) != 0)
		r = sl_error_set(err, SL_EDIGEST,
		                 "blob %s does not match its digest (content is %s)", digest, got);
	if (r < 0) {
		tmp_discard(&t);
		return r;
	}
	_cleanup_free_ char *final = sl_asprintf("%s/blobs/sha256/%s", l->path, digest + 7);
	return tmp_commit(&t, digest + strlen("sha256:"), final, err);
}

int sl_layout_blob_put_fd(struct sl_layout *l, const char *digest, int fd, uint64_t size,
                          struct sl_error *err)
{
	return put_blob(l, digest, fd, NULL, size, err);
}

int sl_layout_blob_put_bytes(struct sl_layout *l, const char *digest, const void *data, size_t len,
                             struct sl_error *err)
{
	return put_blob(l, digest, -1, data ? data : "", len, err);
}

/* ---- tags ------------------------------------------------------------- */

static json_t *new_entry(const char *tag, const char *digest, const char *media_type, uint64_t size)
{
	return json_pack("{s:s, s:s, s:I, s:{s:s}}", "mediaType", media_type, "digest", digest,
	                 "size", (json_int_t)size, "annotations", SL_ANNOTATION_REF_NAME, tag);
}

static bool entry_is(const json_t *e, const char *digest, const char *media_type, uint64_t size)
{
	return strcmp(json_string_value(json_object_get(e, "digest")), digest) == 0 &&
	       strcmp(json_string_value(json_object_get(e, "mediaType")), media_type) == 0 &&
	       (uint64_t)json_integer_value(json_object_get(e, "size")) == size;
}

static void drop_ref_name(json_t *e)
{
	json_t *ann = json_object_get(e, "annotations");
	json_object_del(ann, SL_ANNOTATION_REF_NAME);
	if (json_is_object(ann) && json_object_size(ann) == 0)
		json_object_del(e, "annotations");
}

/* Points tag at the manifest in doc; *ret_changed is false when it already
 * did, so an unchanged index is not rewritten. */
static int retag(json_t *doc, const char *tag, const char *digest, const char *media_type,
                 uint64_t size, bool *ret_changed)
{
	json_t *manifests = json_object_get(doc, "manifests");
	ssize_t named = -1, unnamed_same = -1;
	size_t i;
	json_t *e;
	json_array_foreach (manifests, i, e) {
		const char *name = entry_ref_name(e);
		if (name && strcmp(name, tag) == 0) {
			if (named < 0)
				named = (ssize_t)i;
		} else if (!name && unnamed_same < 0 && entry_is(e, digest, media_type, size)) {
			unnamed_same = (ssize_t)i;
		}
	}
	if (named >= 0 &&
	    entry_is(json_array_get(manifests, (size_t)named), digest, media_type, size)) {
		*ret_changed = false;
		return 0;
	}
	/* Later entries with the same name never resolve (the first wins);
	 * they lose the name but stay, as skopeo keeps a moved tag's entry. */
	json_array_foreach (manifests, i, e) {
		const char *name = entry_ref_name(e);
		if ((ssize_t)i != named && name && strcmp(name, tag) == 0)
			drop_ref_name(e);
	}
	if (named < 0 && unnamed_same >= 0) {
		json_t *u = json_array_get(manifests, (size_t)unnamed_same);
		json_t *ann = json_object_get(u, "annotations");
		if (!json_is_object(ann)) {
			ann = json_object();
			if (!ann || json_object_set_new(u, "annotations", ann) < 0)
				return SL_ENOMEM;
		}
		if (json_object_set_new(ann, SL_ANNOTATION_REF_NAME, json_string(tag)) < 0)
			return SL_ENOMEM;
		*ret_changed = true;
		return 0;
	}
	json_t *entry = new_entry(tag, digest, media_type, size);
	if (!entry)
		return SL_ENOMEM;
	int r = named >= 0 ? json_array_set_new(manifests, (size_t)named, entry)
	                   : json_array_append_new(manifests, entry);
	if (r < 0)
		return SL_ENOMEM;
	*ret_changed = true;
	return 0;
}

static int tag_locked(struct sl_layout *l, const char *tag, const char *digest,
                      const char *media_type, uint64_t size, struct sl_error *err)
{
	/* Re-read: another process may have tagged since we opened. */
	json_t *fresh = NULL;
	int r = load_index(l, &fresh, err);
	if (r < 0)
		return r;
	_cleanup_(json_decrefp) json_t *doc = fresh;
	bool changed = false;
	r = retag(doc, tag, digest, media_type, size, &changed);
	if (r < 0)
		return sl_error_set(err, r, "updating %s/index.json", l->path);
	if (changed) {
		r = store_index(l, doc, err);
		if (r < 0)
			return r;
	}
	json_decref(l->index);
	l->index = TAKE_PTR(doc);
	return 0;
}

int sl_layout_tag(struct sl_layout *l, const char *tag, const char *manifest_digest,
                  const char *media_type, uint64_t size, struct sl_error *err)
{
	if (!tag || !sl_oci_tag_valid(tag))
		return sl_error_set(err, SL_EINVAL,
		                    "invalid tag \"%s\": must be 1-128 characters of "
		                    "[A-Za-z0-9_.-], not starting with '.' or '-'",
		                    tag ? tag : "");
	if (!sl_digest_valid(manifest_digest))
		return sl_error_set(err, SL_EINVAL, "invalid manifest digest \"%s\"",
		                    manifest_digest ? manifest_digest : "");
	if (!media_type || !*media_type || strlen(media_type) >= SL_LAYOUT_MEDIA_TYPE_MAX)
		return sl_error_set(err, SL_EINVAL, "invalid media type for tag %s", tag);
	/* A tag must never point at content the layout does not hold. */
	if (!sl_layout_blob_exists(l, manifest_digest))
		return sl_error_set(err, SL_ENOTFOUND,
		                    "tagging %s: manifest %s is not stored in OCI image layout %s",
		                    tag, manifest_digest, l->path);
	if (!blob_present_with_size(l, manifest_digest, size))
		return sl_error_set(err, SL_EINVAL,
		                    "tagging %s: manifest %s in %s is not %llu bytes long", tag,
		                    manifest_digest, l->path, (unsigned long long)size);
	if (flock(l->dir_fd, LOCK_EX) < 0)
		return sl_error_errno(err, errno, SL_EIO, "locking %s", l->path);
	int r = tag_locked(l, tag, manifest_digest, media_type, size, err);
	flock(l->dir_fd, LOCK_UN);
	return r;
}

int sl_layout_list_tags(struct sl_layout *l, struct sl_strv *ret, struct sl_error *err)
{
	(void)err;
	struct sl_strv tags = {0};
	size_t i;
	const json_t *e;
	json_array_foreach (json_object_get(l->index, "manifests"), i, e) {
		const char *name = entry_ref_name(e);
		bool seen = false;
		for (size_t j = 0; name && !seen && j < tags.len; j++)
			seen = strcmp(tags.items[j], name) == 0;
		if (name && !seen)
			sl_strv_push(&tags, name);
	}
	*ret = tags;
	return 0;
}

/* ---- references ------------------------------------------------------- */

bool sl_layout_ref_is(const char *url)
{
	return url && sl_startswith(url, SL_LAYOUT_SCHEME);
}

int sl_layout_ref_parse(const char *url, char **ret_path, char **ret_tag, char **ret_digest,
                        struct sl_error *err)
{
	if (!sl_layout_ref_is(url))
		return sl_error_set(
		    err, SL_EINVAL,
		    "URL must be in format 'oci-layout://<path>[:<tag>][@<digest>]'");
	_cleanup_free_ char *rest = sl_strdup(url + strlen(SL_LAYOUT_SCHEME));
	_cleanup_free_ char *tag = NULL, *digest = NULL;
	const char *why = NULL;

	char *at = strrchr(rest, '@');
	if (at && !strchr(at, '/')) {
		*at = '\0';
		if (!sl_digest_valid(at + 1)) {
			why = "the digest must be sha256: followed by 64 lowercase hex digits";
			goto invalid;
		}
		digest = sl_strdup(at + 1);
	}
	char *colon = strrchr(rest, ':');
	if (colon && !strchr(colon, '/')) {
		*colon = '\0';
		if (!sl_oci_tag_valid(colon + 1)) {
			why = "the tag must be 1-128 characters of [A-Za-z0-9_.-], not starting "
			      "with '.' or '-'";
			goto invalid;
		}
		/* As for oci:// references, a digest wins over a tag. */
		if (!digest)
			tag = sl_strdup(colon + 1);
	}
	if (!*rest) {
		why = "the path is missing";
		goto invalid;
	}
	for (const char *p = rest; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			why = "the path contains a control character";
			goto invalid;
		}
	if (!digest && !tag)
		tag = sl_strdup("latest"); /* Flux treats a missing tag as "latest" */
	*ret_path = TAKE_PTR(rest);
	if (ret_tag)
		*ret_tag = TAKE_PTR(tag);
	if (ret_digest)
		*ret_digest = TAKE_PTR(digest);
	return 0;

invalid:
	return sl_error_set(err, SL_EINVAL, "'%s' invalid URL: %s", url, why);
}
