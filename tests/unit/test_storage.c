/* Artifact storage (spec/source-controller.md §2): Flux's layout and URLs,
 * atomic writes, digests, locks, garbage collection, the re-packed
 * artifact; the HTTP servers (§5, §8) spoken to over plain sockets; the
 * Prometheus registry and its text format. */
#include <arpa/inet.h>
#include <dirent.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <cmocka.h>

#include "controller/httpd.h"
#include "controller/metrics.h"
#include "controller/storage.h"
#include "testlib.h"

#define ADV     "source-controller.flux-system.svc.cluster.local."
#define KIND    "OCIRepository"
#define FILE_A  "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.tar.gz"
#define FILE_B  "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.tar.gz"
#define OBJ_DIR "ocirepository/default/podinfo"

/* ---- helpers ------------------------------------------------------------ */

static struct sl_storage *new_storage(const char *tmp, const char *adv, int64_t ttl_ms,
                                      unsigned records)
{
	char *root = tl_own(tl_path(tmp, "data"));
	mkdir(root, 0700);
	struct sl_storage_opts o = {.path = root,
	                            .adv_addr = adv,
	                            .retention_ttl_ms = ttl_ms,
	                            .retention_records = records};
	struct sl_storage *s = NULL;
	struct sl_error err = {0};
	if (sl_storage_new(&o, &s, &err) < 0)
		fail_msg("sl_storage_new: %s", err.msg);
	return s;
}

static struct sl_storage_dir *lock_podinfo(struct sl_storage *s)
{
	struct sl_storage_dir *d = NULL;
	struct sl_error err = {0};
	if (sl_storage_lock(s, KIND, "default", "podinfo", true, &d, &err) < 0)
		fail_msg("sl_storage_lock: %s", err.msg);
	return d;
}

/* Deterministic bytes that do not compress to nothing. */
static unsigned char *noise(size_t n, unsigned seed)
{
	unsigned char *p = tl_own(malloc(n ? n : 1));
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
	return p;
}

static int fd_with(const char *tmp, const void *data, size_t len)
{
	char *p = tl_own(tl_path(tmp, "src-bytes"));
	tl_write_file(p, data, len);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void store_bytes(struct sl_storage_dir *d, const char *tmp, const char *file,
                        const void *data, size_t len, struct sl_artifact *ret)
{
	struct sl_error err = {0};
	int fd = fd_with(tmp, data, len);
	int r = sl_storage_store(d, file, fd, 0, NULL, ret, &err);
	close(fd);
	if (r < 0)
		fail_msg("sl_storage_store: %s", err.msg);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of a directory, sorted and comma-joined ("" when empty). */
static char *listing(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return tl_own(strdup("<missing>"));
	char *names[64];
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < 64)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(char *), cmp_str);
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 1;
	char *out = tl_own(calloc(1, len));
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(out, ",");
		strcat(out, names[i]);
		free(names[i]);
	}
	return out;
}

static char *obj_dir(const struct sl_storage *s)
{
	return tl_own(tl_path(sl_storage_root(s), OBJ_DIR));
}

static void digest_of(const void *data, size_t len, char out[SL_DIGEST_STR_LEN])
{
	sl_sha256_portable(data, len, out);
}

/* printf into memory the fixture frees. */
__attribute__((format(printf, 1, 2))) static char *fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s = NULL;
	if (vasprintf(&s, f, ap) < 0)
		abort();
	va_end(ap);
	return tl_own(s);
}

/* ---- names and URLs ----------------------------------------------------- */

static void artifact_path_is_flux_layout(void **state)
{
	(void)state;
	struct sl_error err = {0};
	char *p = NULL;
	assert_int_equal(sl_storage_artifact_path(KIND, "default", "podinfo", FILE_A, &p, &err), 0);
	assert_string_equal(p, OBJ_DIR "/" FILE_A);
	free(p);
	assert_int_equal(
	    sl_storage_artifact_path("HelmChart", "flux-system", "app", "app-1.0.0.tgz", &p, &err),
	    0);
	assert_string_equal(p, "helmchart/flux-system/app/app-1.0.0.tgz");
	free(p);
}

static void artifact_path_rejects_escapes(void **state)
{
	(void)state;
	const char *bad[][4] = {
	    {KIND, "..", "podinfo", FILE_A},  {KIND, "default", "a/b", FILE_A},
	    {KIND, "default", "podinfo", ""}, {KIND, "default", "podinfo", ".hidden"},
	    {"", "default", "podinfo", "f"},  {KIND, "default", "podinfo", "../../etc/passwd"},
	    {KIND, ".", "podinfo", "f"},      {KIND, "default", "podinfo", NULL},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		struct sl_error err = {0};
		char *p = NULL;
		assert_int_equal(
		    sl_storage_artifact_path(bad[i][0], bad[i][1], bad[i][2], bad[i][3], &p, &err),
		    SL_EINVAL);
		assert_null(p);
	}
}

static void file_for_revision_takes_the_digest(void **state)
{
	(void)state;
	const char *cases[][2] = {
	    {"latest@sha256:abc", "sha256:abc.tar.gz"},
	    {"sha256:abc", "sha256:abc.tar.gz"},
	    {"v1.0.0@sha256:0123", "sha256:0123.tar.gz"},
	    {"a@b@sha256:ff", "sha256:ff.tar.gz"},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		char *f = sl_storage_file_for_revision(cases[i][0]);
		assert_string_equal(f, cases[i][1]);
		free(f);
	}
}

static void url_is_built_as_flux_does(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	char *u = sl_storage_url(s, OBJ_DIR "/latest.tar.gz");
	assert_string_equal(u, "http://" ADV "/" OBJ_DIR "/latest.tar.gz");
	free(u);
	u = sl_storage_url(s, "//" OBJ_DIR "/x");
	assert_string_equal(u, "http://" ADV "/" OBJ_DIR "/x");
	free(u);
	sl_storage_free(TAKE_PTR(s));

	s = new_storage(*state, "https://artifacts.example.com:8443", 60000, 2);
	u = sl_storage_url(s, OBJ_DIR "/x");
	assert_string_equal(u, "https://artifacts.example.com:8443/" OBJ_DIR "/x");
	free(u);
	sl_storage_free(TAKE_PTR(s));

	/* No --storage-adv-addr: derived from the default ":9090". */
	s = new_storage(*state, NULL, 60000, 2);
	u = sl_storage_url(s, OBJ_DIR "/x");
	assert_string_equal(u, "http://localhost:9090/" OBJ_DIR "/x");
	free(u);
}

static void default_adv_addr_follows_flux(void **state)
{
	(void)state;
	setenv("HOSTNAME", "source-controller-7d9f", 1);
	const char *cases[][2] = {
	    {":9090", "localhost:9090"},
	    {"0.0.0.0:9090", "source-controller-7d9f:9090"},
	    {"10.1.2.3:9090", "10.1.2.3:9090"},
	    {"[::1]:9090", "[::1]:9090"},
	    {"source-controller:80", "source-controller:80"},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		struct sl_error err = {0};
		char *a = NULL;
		if (sl_storage_default_adv_addr(cases[i][0], &a, &err) < 0)
			fail_msg("%s: %s", cases[i][0], err.msg);
		assert_string_equal(a, cases[i][1]);
		free(a);
	}
	const char *bad[] = {"9090", "a:b:9090", "[::1]9090", "[::1"};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		struct sl_error err = {0};
		char *a = NULL;
		assert_int_equal(sl_storage_default_adv_addr(bad[i], &a, &err), SL_EINVAL);
		assert_non_null(strstr(err.msg, "invalid storage address"));
	}
}

static void storage_requires_an_existing_directory(void **state)
{
	char *missing = tl_own(tl_path(*state, "nope"));
	struct sl_storage_opts o = {.path = missing, .adv_addr = ADV};
	struct sl_storage *s = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_storage_new(&o, &s, &err), SL_EINVAL);
	assert_null(s);
	assert_non_null(strstr(err.msg, "invalid dir path"));
}

/* ---- writing ------------------------------------------------------------ */

static void store_writes_file_digest_and_size(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	size_t len = 300 * 1024 + 7;
	unsigned char *data = noise(len, 1);
	struct sl_artifact a = {0};
	store_bytes(d, *state, FILE_A, data, len, &a);

	char want[SL_DIGEST_STR_LEN];
	digest_of(data, len, want);
	assert_string_equal(a.digest, want);
	assert_int_equal(a.size, len);
	assert_string_equal(a.path, OBJ_DIR "/" FILE_A);
	assert_string_equal(a.url, "http://" ADV "/" OBJ_DIR "/" FILE_A);
	assert_true(sl_time_rfc3339_valid(a.last_update_time));

	char *dir = obj_dir(s);
	assert_string_equal(listing(dir), FILE_A);
	struct stat st;
	assert_int_equal(stat(tl_own(tl_path(dir, FILE_A)), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	size_t got_len;
	unsigned char *got = tl_own(tl_read_file(tl_own(tl_path(dir, FILE_A)), &got_len));
	assert_int_equal(got_len, len);
	assert_memory_equal(got, data, len);
	assert_true(sl_storage_exists(s, a.path));
	sl_artifact_clear(&a);
}

static void failed_store_keeps_previous_file(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	store_bytes(d, *state, FILE_A, "old", 3, NULL);
	char *path = tl_own(tl_path(obj_dir(s), FILE_A));

	/* Past the cap: fails half way through the copy. */
	size_t len = 1024 * 1024;
	unsigned char *data = noise(len, 2);
	int fd = fd_with(*state, data, len);
	struct sl_error err = {0};
	assert_int_equal(sl_storage_store(d, FILE_A, fd, len / 2, NULL, NULL, &err), SL_ELIMIT);
	close(fd);
	assert_string_equal(listing(obj_dir(s)), FILE_A);
	size_t got_len;
	assert_string_equal(tl_own(tl_read_file(path, &got_len)), "old");

	/* Every byte written, then the digest does not match. */
	char wrong[SL_DIGEST_STR_LEN];
	digest_of("other", 5, wrong);
	fd = fd_with(*state, data, len);
	assert_int_equal(sl_storage_store(d, FILE_A, fd, 0, wrong, NULL, &err), SL_EDIGEST);
	close(fd);
	assert_string_equal(listing(obj_dir(s)), FILE_A);
	assert_string_equal(tl_own(tl_read_file(path, &got_len)), "old");

	/* The right digest goes through. */
	char right[SL_DIGEST_STR_LEN];
	digest_of(data, len, right);
	fd = fd_with(*state, data, len);
	struct sl_artifact a = {0};
	assert_int_equal(sl_storage_store(d, FILE_A, fd, 0, right, &a, &err), 0);
	close(fd);
	assert_string_equal(a.digest, right);
	unsigned char *got = tl_own(tl_read_file(path, &got_len));
	assert_int_equal(got_len, len);
	assert_memory_equal(got, data, len);
	sl_artifact_clear(&a);
}

struct store_job {
	struct sl_storage_dir *d;
	int fd;
	uint64_t max;
	int result;
	struct sl_error err;
	atomic_bool done;
};

static void *store_thread(void *arg)
{
	struct store_job *j = arg;
	j->result = sl_storage_store(j->d, FILE_B, j->fd, j->max, NULL, NULL, &j->err);
	atomic_store(&j->done, true);
	return NULL;
}

static bool has_staged_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	bool found = false;
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] == '.' && strstr(de->d_name, FILE_B)) {
			struct stat st;
			char *p = tl_path(dir, de->d_name);
			found = stat(p, &st) == 0 && st.st_size > 0;
			free(p);
		}
	if (d)
		closedir(d);
	return found;
}

static void partial_write_is_never_visible(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	struct store_job job = {.d = d, .fd = pipefd[0], .max = 512 * 1024};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, store_thread, &job), 0);

	/* Half the bytes in: the writer is blocked reading the rest. */
	unsigned char *data = noise(256 * 1024, 3);
	for (size_t off = 0; off < 256 * 1024;) {
		ssize_t n = write(pipefd[1], data + off, 256 * 1024 - off);
		assert_true(n > 0);
		off += (size_t)n;
	}
	char *dir = obj_dir(s);
	for (int i = 0; i < 200 && !has_staged_bytes(dir); i++)
		usleep(10 * 1000);
	assert_true(has_staged_bytes(dir));
	assert_false(sl_storage_exists(s, OBJ_DIR "/" FILE_B));
	int fd = -1;
	assert_int_equal(sl_storage_open(s, OBJ_DIR "/" FILE_B, &fd, NULL), SL_ENOTFOUND);

	/* Then more than the cap: the write fails and leaves nothing. */
	unsigned char *more = noise(512 * 1024, 4);
	fcntl(pipefd[1], F_SETFL, O_NONBLOCK);
	for (size_t off = 0; off < 512 * 1024 && !atomic_load(&job.done);) {
		ssize_t n = write(pipefd[1], more + off, 512 * 1024 - off);
		if (n > 0)
			off += (size_t)n;
		else
			usleep(1000); /* full: the reader is busy, or gave up */
	}
	close(pipefd[1]);
	pthread_join(t, NULL);
	close(pipefd[0]);
	assert_int_equal(job.result, SL_ELIMIT);
	assert_string_equal(listing(dir), "");
}

/* ---- locking ------------------------------------------------------------ */

struct lock_job {
	struct sl_storage *s;
	atomic_bool locked;
	bool dir_exists;
	int result;
};

static void *lock_thread(void *arg)
{
	struct lock_job *j = arg;
	struct sl_storage_dir *d = NULL;
	j->result = sl_storage_lock(j->s, KIND, "default", "podinfo", true, &d, NULL);
	atomic_store(&j->locked, true);
	if (d) {
		char *p = tl_path(sl_storage_root(j->s), OBJ_DIR);
		struct stat st;
		j->dir_exists = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
		free(p);
		/* A write lands in the directory the lock holds. */
		j->result = sl_storage_symlink_latest(d, FILE_B, NULL, NULL);
	}
	sl_storage_unlock(d);
	return NULL;
}

static void lock_excludes_other_threads(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	struct sl_storage_dir *d = lock_podinfo(s);
	struct lock_job job = {.s = s};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, lock_thread, &job), 0);
	usleep(100 * 1000);
	assert_false(atomic_load(&job.locked));
	sl_storage_unlock(d);
	pthread_join(t, NULL);
	assert_true(atomic_load(&job.locked));
	assert_int_equal(job.result, 0);
}

static void lock_waiter_follows_a_removed_directory(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	struct sl_storage_dir *d = lock_podinfo(s);
	store_bytes(d, *state, FILE_A, "a", 1, NULL);
	struct lock_job job = {.s = s};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, lock_thread, &job), 0);
	usleep(50 * 1000);
	struct sl_error err = {0};
	assert_int_equal(sl_storage_dir_remove(d, &err), 0);
	/* A removed directory takes no more writes. */
	assert_int_equal(sl_storage_store(d, FILE_A, -1, 0, NULL, NULL, &err), SL_EINVAL);
	sl_storage_unlock(d);
	pthread_join(t, NULL);
	/* The waiter locked a fresh directory at the real path. */
	assert_int_equal(job.result, 0);
	assert_true(job.dir_exists);
	assert_string_equal(listing(obj_dir(s)), "latest.tar.gz");
}

static void delete_removes_the_object_directory(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	struct sl_storage_dir *d = lock_podinfo(s);
	store_bytes(d, *state, FILE_A, "a", 1, NULL);
	assert_int_equal(sl_storage_symlink_latest(d, FILE_A, NULL, NULL), 0);
	sl_storage_unlock(d);

	struct sl_error err = {0};
	assert_int_equal(sl_storage_delete(s, KIND, "default", "podinfo", &err), 0);
	assert_string_equal(listing(obj_dir(s)), "<missing>");
	assert_string_equal(listing(tl_own(tl_path(sl_storage_root(s), "ocirepository/default"))),
	                    "");
	/* Deleting what is gone is fine; locking it without create is not. */
	assert_int_equal(sl_storage_delete(s, KIND, "default", "podinfo", &err), 0);
	struct sl_storage_dir *none = NULL;
	assert_int_equal(sl_storage_lock(s, KIND, "default", "podinfo", false, &none, &err),
	                 SL_ENOTFOUND);
	assert_null(none);
}

/* ---- reading ------------------------------------------------------------ */

static void symlink_latest_points_at_the_current_file(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	store_bytes(d, *state, FILE_A, "first", 5, NULL);
	char *url = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_storage_symlink_latest(d, FILE_A, &url, &err), 0);
	assert_string_equal(url, "http://" ADV "/" OBJ_DIR "/latest.tar.gz");
	free(url);
	store_bytes(d, *state, FILE_B, "second", 6, NULL);
	assert_int_equal(sl_storage_symlink_latest(d, FILE_B, NULL, &err), 0);

	char target[4096];
	char *link = tl_own(tl_path(obj_dir(s), "latest.tar.gz"));
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, tl_own(tl_path(obj_dir(s), FILE_B)));
	assert_string_equal(listing(obj_dir(s)), "latest.tar.gz," FILE_A "," FILE_B);

	int fd = -1;
	assert_int_equal(sl_storage_open(s, OBJ_DIR "/latest.tar.gz", &fd, &err), 0);
	char buf[16] = {0};
	assert_int_equal(read(fd, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "second");
	close(fd);
	/* As Flux's ArtifactExist: a symlink is not an artifact. */
	assert_false(sl_storage_exists(s, OBJ_DIR "/latest.tar.gz"));
}

/* A file outside the root, and ways of pointing at it from inside. */
static void plant_escapes(const struct sl_storage *s, const char *tmp)
{
	char *secret = tl_own(tl_path(tmp, "secret"));
	tl_write_file(secret, "SECRET", 6);
	char *dir = obj_dir(s);
	assert_int_equal(symlink(secret, tl_own(tl_path(dir, "evil.tar.gz"))), 0);
	assert_int_equal(symlink("../podinfo/x", tl_own(tl_path(dir, "rel.tar.gz"))), 0);
	assert_int_equal(symlink(tmp, tl_own(tl_path(sl_storage_root(s), "ocirepository/default/"
	                                                                 "linked"))),
	                 0);
	assert_int_equal(mkfifo(tl_own(tl_path(dir, "fifo.tar.gz")), 0600), 0);
	tl_write_file(tl_own(tl_path(dir, ".hidden")), "hidden", 6);
}

static void open_refuses_paths_leaving_the_object(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	store_bytes(d, *state, FILE_A, "a", 1, NULL);
	plant_escapes(s, *state);
	const struct {
		const char *path;
		int code;
	} cases[] = {
	    {"../data/" OBJ_DIR "/" FILE_A, SL_EINVAL},
	    {OBJ_DIR "/../podinfo/" FILE_A, SL_EINVAL},
	    {"/" OBJ_DIR "/" FILE_A, SL_EINVAL},
	    {OBJ_DIR "/./" FILE_A, SL_EINVAL},
	    {OBJ_DIR, SL_EINVAL},
	    {OBJ_DIR "/" FILE_A "/x", SL_EINVAL},
	    {OBJ_DIR "/.hidden", SL_EINVAL},
	    {OBJ_DIR "/evil.tar.gz", SL_EINVAL},
	    {OBJ_DIR "/rel.tar.gz", SL_EINVAL},
	    {"ocirepository/default/linked/secret", SL_ENOTFOUND},
	    {OBJ_DIR "/fifo.tar.gz", SL_ENOTFOUND},
	    {OBJ_DIR "/missing.tar.gz", SL_ENOTFOUND},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		int fd = -1;
		struct sl_error err = {0};
		int r = sl_storage_open(s, cases[i].path, &fd, &err);
		if (r != cases[i].code)
			fail_msg("%s: got %d (%s), want %d", cases[i].path, r, err.msg,
			         cases[i].code);
		assert_int_equal(fd, -1);
	}
}

static void verify_detects_tampering(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	struct sl_artifact a = {0};
	store_bytes(d, *state, FILE_A, "content", 7, &a);
	struct sl_error err = {0};
	assert_int_equal(sl_storage_verify(s, a.path, a.digest, &err), 0);

	tl_write_file(tl_own(tl_path(obj_dir(s), FILE_A)), "c0ntent", 7);
	assert_int_equal(sl_storage_verify(s, a.path, a.digest, &err), SL_EDIGEST);
	assert_non_null(strstr(err.msg, "computed digest doesn't match"));
	assert_int_equal(sl_storage_verify(s, a.path, "md5:abc", &err), SL_EUNSUPPORTED);

	assert_int_equal(sl_storage_remove(s, a.path, &err), 0);
	assert_int_equal(sl_storage_verify(s, a.path, a.digest, &err), SL_ENOTFOUND);
	assert_false(sl_storage_exists(s, a.path));
	assert_int_equal(sl_storage_remove(s, a.path, &err), 0);
	assert_int_equal(sl_storage_remove(s, "../x/y/z", &err), SL_EINVAL);
	sl_artifact_clear(&a);
}

/* ---- garbage collection ------------------------------------------------- */

static void make_file(const char *dir, const char *name, int age_s)
{
	char *p = tl_own(tl_path(dir, name));
	tl_write_file(p, name, strlen(name));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct timespec times[2] = {{.tv_sec = now.tv_sec - age_s}, {.tv_sec = now.tv_sec - age_s}};
	assert_int_equal(utimensat(AT_FDCWD, p, times, AT_SYMLINK_NOFOLLOW), 0);
}

static char *joined(const struct sl_strv *v)
{
	size_t len = 1;
	for (size_t i = 0; i < v->len; i++)
		len += strlen(v->items[i]) + 1;
	char *out = tl_own(calloc(1, len));
	for (size_t i = 0; i < v->len; i++) {
		if (i)
			strcat(out, ",");
		strcat(out, v->items[i]);
	}
	return out;
}

static void gc_keeps_the_newest_records(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 3600000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	char *dir = obj_dir(s);
	make_file(dir, "a.tar.gz", 50);
	make_file(dir, "b.tar.gz", 40);
	make_file(dir, "c.tar.gz", 30);
	make_file(dir, "d.tar.gz", 20);
	make_file(dir, "e.tar.gz", 10);
	_cleanup_(sl_strv_free) struct sl_strv deleted = {0};
	struct sl_error err = {0};
	assert_int_equal(sl_storage_gc(d, "e.tar.gz", &deleted, &err), 0);
	assert_string_equal(joined(&deleted), "a.tar.gz,b.tar.gz,c.tar.gz");
	assert_string_equal(listing(dir), "d.tar.gz,e.tar.gz");
	/* Nothing more to do the second time. */
	assert_int_equal(sl_storage_gc(d, "e.tar.gz", NULL, &err), 0);
	assert_string_equal(listing(dir), "d.tar.gz,e.tar.gz");
}

static void gc_never_removes_the_current_artifact(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 3600000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	char *dir = obj_dir(s);
	make_file(dir, "a.tar.gz", 50);
	make_file(dir, "b.tar.gz", 40);
	make_file(dir, "c.tar.gz", 30);
	struct sl_error err = {0};
	/* The oldest is current: it stays and counts as one of the two. */
	assert_int_equal(sl_storage_gc(d, "a.tar.gz", NULL, &err), 0);
	assert_string_equal(listing(dir), "a.tar.gz,c.tar.gz");
}

static void gc_removes_expired_artifacts(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 5);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	char *dir = obj_dir(s);
	make_file(dir, "old1.tar.gz", 120);
	make_file(dir, "old2.tar.gz", 90);
	make_file(dir, "new.tar.gz", 5);
	make_file(dir, "current.tar.gz", 300);
	_cleanup_(sl_strv_free) struct sl_strv deleted = {0};
	struct sl_error err = {0};
	assert_int_equal(sl_storage_gc(d, "current.tar.gz", &deleted, &err), 0);
	assert_string_equal(joined(&deleted), "old1.tar.gz,old2.tar.gz");
	assert_string_equal(listing(dir), "current.tar.gz,new.tar.gz");
}

static void gc_skips_links_and_locks_and_clears_stale_writes(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 3600000, 1);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	char *dir = obj_dir(s);
	make_file(dir, "garbage.tar.gz", 30);
	make_file(dir, "garbage.tar.gz.lock", 30);
	make_file(dir, "keep.tar.gz.lock", 300);
	make_file(dir, "current.tar.gz", 10);
	make_file(dir, ".current.tar.gz.tmp-1-1", 1);
	assert_int_equal(symlink("current.tar.gz", tl_own(tl_path(dir, "latest.tar.gz"))), 0);
	struct sl_error err = {0};
	assert_int_equal(sl_storage_gc(d, "current.tar.gz", NULL, &err), 0);
	assert_string_equal(listing(dir), "current.tar.gz,keep.tar.gz.lock,latest.tar.gz");
}

/* ---- re-packing --------------------------------------------------------- */

struct tar_entry {
	char *name;
	mode_t type;
	mode_t mode;
	char *data;
};

struct tar_list {
	struct tar_entry e[64];
	size_t n;
};

/* Reads an artifact back with the codec's reader. */
static void read_artifact(const char *path, struct tar_list *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	struct sl_tar_reader *t = NULL;
	struct sl_error err = {0};
	assert_int_equal(sl_tar_reader_new(fd, &t, &err), 0);
	out->n = 0;
	for (;;) {
		const struct sl_tar_header *h;
		int r = sl_tar_next(t, &h, &err);
		if (r < 0)
			fail_msg("reading %s: %s", path, err.msg);
		if (r == 0)
			break;
		assert_true(out->n < SL_ARRAY_SIZE(out->e));
		struct tar_entry *e = &out->e[out->n++];
		e->name = tl_own(strdup(h->name));
		e->type = h->type;
		e->mode = h->mode;
		e->data = tl_own(calloc(1, h->size + 1));
		for (size_t got = 0; got < h->size;) {
			ssize_t n = sl_tar_read(t, e->data + got, h->size - got, &err);
			assert_true(n > 0);
			got += (size_t)n;
		}
	}
	sl_tar_reader_free(t);
	close(fd);
}

static char *entry_names(const struct tar_list *l)
{
	char *out = tl_own(calloc(1, 4096));
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			strcat(out, ",");
		strcat(out, l->e[i].name);
	}
	return out;
}

static const struct tar_entry *find_entry(const struct tar_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->e[i].name, name) == 0)
			return &l->e[i];
	fail_msg("no entry %s", name);
	return NULL;
}

static void write_tree_file(const char *root, const char *rel, const char *text, mode_t mode)
{
	char path[4096], dir[4096];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	struct sl_error err = {0};
	assert_int_equal(sl_mkdir_p(dir, 0755, &err), 0);
	tl_write_file(path, text, strlen(text));
	assert_int_equal(chmod(path, mode), 0);
}

/* The tree of a typical Flux artifact plus what the defaults drop. */
static char *sample_tree(const char *tmp)
{
	char *src = tl_own(tl_path(tmp, "tree"));
	write_tree_file(src, "b.yaml", "b", 0644);
	write_tree_file(src, "a/run.sh", "#!/bin/sh\n", 0755);
	write_tree_file(src, "a/x.yaml", "x", 0640);
	write_tree_file(src, "a.yaml", "a", 0600);
	write_tree_file(src, ".git/config", "[core]", 0644);
	write_tree_file(src, "logo.png", "png", 0644);
	write_tree_file(src, ".github/workflows/ci.yml", "on: push", 0644);
	assert_int_equal(symlink("/etc/passwd", tl_own(tl_path(src, "link.yaml"))), 0);
	assert_int_equal(mkfifo(tl_own(tl_path(src, "fifo")), 0600), 0);
	return src;
}

static void archive(struct sl_storage_dir *d, const char *file, const char *src,
                    const char *spec_ignore, struct sl_artifact *ret)
{
	struct sl_error err = {0};
	struct sl_ignore *ig = NULL;
	if (sl_storage_load_ignore(src, spec_ignore, &ig, &err) < 0)
		fail_msg("sl_storage_load_ignore: %s", err.msg);
	int r = sl_storage_archive(d, file, src, ig, ret, &err);
	sl_ignore_free(ig);
	if (r < 0)
		fail_msg("sl_storage_archive: %s", err.msg);
}

static void archive_matches_flux_layout_and_is_deterministic(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	char *src = sample_tree(*state);
	struct sl_artifact a = {0}, b = {0};
	archive(d, FILE_A, src, NULL, &a);

	char *path = tl_own(tl_path(obj_dir(s), FILE_A));
	struct tar_list l;
	read_artifact(path, &l);
	assert_string_equal(entry_names(&l), ".,a,a/run.sh,a/x.yaml,a.yaml,b.yaml");
	assert_int_equal(find_entry(&l, ".")->type, S_IFDIR);
	assert_int_equal(find_entry(&l, ".")->mode, 0750);
	assert_int_equal(find_entry(&l, "a")->mode, 0750);
	assert_int_equal(find_entry(&l, "a/run.sh")->mode, 0700);
	assert_int_equal(find_entry(&l, "a/x.yaml")->mode, 0600);
	assert_int_equal(find_entry(&l, "a.yaml")->mode, 0600);
	assert_string_equal(find_entry(&l, "a/run.sh")->data, "#!/bin/sh\n");

	size_t len;
	unsigned char *bytes = tl_own(tl_read_file(path, &len));
	char want[SL_DIGEST_STR_LEN];
	digest_of(bytes, len, want);
	assert_string_equal(a.digest, want);
	assert_int_equal(a.size, len);

	/* Times and modes beyond the exec bit change nothing. */
	struct timespec old[2] = {{.tv_sec = 12345}, {.tv_sec = 12345}};
	utimensat(AT_FDCWD, tl_own(tl_path(src, "b.yaml")), old, 0);
	chmod(tl_own(tl_path(src, "a/x.yaml")), 0400);
	archive(d, FILE_B, src, NULL, &b);
	assert_string_equal(a.digest, b.digest);
	sl_artifact_clear(&a);
	sl_artifact_clear(&b);
}

static void spec_ignore_replaces_the_defaults(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	char *src = sample_tree(*state);
	archive(d, FILE_A, src, "# only yaml goes\n\n*.yaml\r\n", NULL);
	struct tar_list l;
	read_artifact(tl_own(tl_path(obj_dir(s), FILE_A)), &l);
	/* .github and *.png are back; .git stays out whatever the patterns. */
	assert_string_equal(
	    entry_names(&l),
	    ".,.github,.github/workflows,.github/workflows/ci.yml,a,a/run.sh,logo.png");
}

static void sourceignore_files_are_scoped_to_their_directory(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	char *src = tl_own(tl_path(*state, "tree"));
	write_tree_file(src, ".sourceignore", "# root rules\n\n/top-only.txt\n", 0644);
	write_tree_file(src, "top-only.txt", "t", 0644);
	write_tree_file(src, "other.txt", "o", 0644);
	write_tree_file(src, "img.png", "p", 0644);
	write_tree_file(src, "sub/.sourceignore", "*.txt\n!keep.txt\n/anchored.md\n[x\n", 0644);
	write_tree_file(src, "sub/x.txt", "x", 0644);
	write_tree_file(src, "sub/keep.txt", "k", 0644);
	write_tree_file(src, "sub/anchored.md", "a", 0644);
	write_tree_file(src, "sub/deeper/y.txt", "y", 0644);
	write_tree_file(src, "sub/deeper/anchored.md", "a", 0644);
	write_tree_file(src, "el*se/z.txt", "z", 0644);
	write_tree_file(src, "el*se/.sourceignore", "z.txt\n", 0644);
	write_tree_file(src, "elxse/z.txt", "z", 0644);
	archive(d, FILE_A, src, NULL, NULL);
	struct tar_list l;
	read_artifact(tl_own(tl_path(obj_dir(s), FILE_A)), &l);
	/* The patterns found drop the defaults (img.png stays); sub's rules
	 * stop at sub; a directory named with glob characters is literal. */
	assert_string_equal(entry_names(&l),
	                    ".,.sourceignore,el*se,el*se/.sourceignore,elxse,elxse/z.txt,img.png,"
	                    "other.txt,sub,sub/.sourceignore,sub/deeper,sub/deeper/anchored.md,"
	                    "sub/keep.txt");
}

/* A raw ustar header, for entries the sluice writer never produces. */
static void tar_add(struct sl_buf *b, const char *name, char type, unsigned mode, const char *data,
                    const char *link)
{
	unsigned char blk[512] = {0};
	size_t size = data ? strlen(data) : 0;
	snprintf((char *)blk, 100, "%s", name);
	snprintf((char *)blk + 100, 8, "%07o", mode);
	snprintf((char *)blk + 108, 8, "%07o", 0);
	snprintf((char *)blk + 116, 8, "%07o", 0);
	snprintf((char *)blk + 124, 12, "%011o", (unsigned)size);
	snprintf((char *)blk + 136, 12, "%011o", 0);
	blk[156] = (unsigned char)type;
	if (link)
		snprintf((char *)blk + 157, 100, "%s", link);
	memcpy(blk + 257,
	       "ustar\0"
	       "00",
	       8);
	memset(blk + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += blk[i];
	snprintf((char *)blk + 148, 8, "%06o", sum);
	blk[155] = ' ';
	assert_int_equal(sl_buf_append(b, blk, 512), 0);
	if (size) {
		static const unsigned char zeros[512];
		assert_int_equal(sl_buf_append(b, data, size), 0);
		if (size % 512)
			assert_int_equal(sl_buf_append(b, zeros, 512 - size % 512), 0);
	}
}

static int layer_fd(const char *tmp, struct sl_buf *tar)
{
	static const unsigned char zeros[1024];
	assert_int_equal(sl_buf_append(tar, zeros, sizeof(zeros)), 0);
	size_t gz_len = 0;
	unsigned char *gz = tl_own(tl_gzip(tar->data, tar->len, &gz_len));
	assert_non_null(gz);
	return fd_with(tmp, gz, gz_len);
}

static int warnings;
static void count_warning(void *userdata, const char *fmt, ...)
{
	(void)userdata;
	(void)fmt;
	warnings++;
}

static void repack_turns_a_layer_into_the_flux_artifact(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	_cleanup_buf_ struct sl_buf tar;
	sl_buf_init(&tar, 0);
	tar_add(&tar, "z.yaml", '0', 0644, "kind: z\n", NULL);
	tar_add(&tar, "./dir/", '5', 0755, NULL, NULL);
	tar_add(&tar, "dir/a.yaml", '0', 0755, "kind: a\n", NULL);
	tar_add(&tar, "dir/link", '2', 0777, NULL, "/etc/passwd");
	tar_add(&tar, "dir/skip.txt", '0', 0644, "skip\n", NULL);
	int fd = layer_fd(*state, &tar);
	struct sl_repack_opts opts = {.ignore = "*.txt", .warn = count_warning};
	struct sl_artifact a = {0};
	struct sl_error err = {0};
	warnings = 0;
	setenv("TMPDIR", *state, 1);
	int r = sl_storage_repack(d, FILE_A, fd, &opts, &a, &err);
	unsetenv("TMPDIR");
	close(fd);
	if (r < 0)
		fail_msg("sl_storage_repack: %s", err.msg);
	assert_int_equal(warnings, 1);
	struct tar_list l;
	read_artifact(tl_own(tl_path(obj_dir(s), FILE_A)), &l);
	assert_string_equal(entry_names(&l), ".,dir,dir/a.yaml,z.yaml");
	assert_int_equal(find_entry(&l, "dir/a.yaml")->mode, 0700);
	assert_int_equal(find_entry(&l, "z.yaml")->mode, 0600);
	assert_string_equal(find_entry(&l, "z.yaml")->data, "kind: z\n");
	assert_string_equal(a.path, OBJ_DIR "/" FILE_A);
	/* The temp tree is gone. */
	assert_string_equal(listing(*state), "data,src-bytes");
	sl_artifact_clear(&a);
}

static void repack_rejects_traversal_and_stores_nothing(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	_cleanup_buf_ struct sl_buf tar;
	sl_buf_init(&tar, 0);
	tar_add(&tar, "ok.yaml", '0', 0644, "ok\n", NULL);
	tar_add(&tar, "../evil.yaml", '0', 0644, "evil\n", NULL);
	int fd = layer_fd(*state, &tar);
	struct sl_error err = {0};
	setenv("TMPDIR", *state, 1);
	int r = sl_storage_repack(d, FILE_A, fd, NULL, NULL, &err);
	unsetenv("TMPDIR");
	close(fd);
	assert_int_equal(r, SL_EINVAL);
	assert_non_null(strstr(err.msg, "extracting layer"));
	assert_string_equal(listing(obj_dir(s)), "");
	assert_string_equal(listing(*state), "data,src-bytes");
}

/* The in-memory repack against the disk one, on layers drawn at random
 * from names that sort and match in tricky ways: the archives must be the
 * same bytes, and plain layers must take the memory path. */
static const char *const tricky_names[] = {
    "a",     "a.b", "a-b",           "A",    "_", "b",   "\xc3\xa9",   ".git", ".github",
    "x.png", "sub", ".sourceignore", "deep", "z", "a b", ".flux.yaml",
};
static const char *const ignore_texts[] = {
    "*.b\n", "!a.b\n", "sub/\n", "# comment\n\n/a\n", "deep/**/z\n!deep/z\n", "a b\n",
};

static uint32_t rng_next(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return *state >> 8;
}

static void random_layer(uint32_t *rng, struct sl_buf *tar, bool *ret_plain)
{
	static const unsigned modes[] = {0644, 0755, 0744, 0600, 0700, 0611, 0640};
	*ret_plain = true;
	size_t n = 1 + rng_next(rng) % 14;
	for (size_t i = 0; i < n; i++) {
		char name[128] = "";
		size_t depth = 1 + rng_next(rng) % 3;
		for (size_t k = 0; k < depth; k++) {
			const char *part =
			    tricky_names[rng_next(rng) % SL_ARRAY_SIZE(tricky_names)];
			/* A .sourceignore directory is an error on disk: keep it a file. */
			if (k + 1 < depth && strcmp(part, ".sourceignore") == 0)
				part = "sub";
			size_t len = strlen(name);
			snprintf(name + len, sizeof(name) - len, "%s%s%s",
			         k == 0 && rng_next(rng) % 5 == 0 ? "./" : "", k ? "/" : "", part);
		}
		bool dir = rng_next(rng) % 4 == 0;
		const char *leaf = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
		if (strcmp(leaf, ".sourceignore") == 0)
			dir = false;
		if (dir) {
			strcat(name, "/");
			tar_add(tar, name, '5', 0755, NULL, NULL);
			continue;
		}
		const char *data = strcmp(leaf, ".sourceignore") == 0
		                       ? ignore_texts[rng_next(rng) % SL_ARRAY_SIZE(ignore_texts)]
		                       : (rng_next(rng) % 3 ? "kind: x\n" : NULL);
		tar_add(tar, name, '0', modes[rng_next(rng) % SL_ARRAY_SIZE(modes)], data, NULL);
	}
	/* Names given twice, or as a file and a directory, make the disk
	 * path judge: the caller learns it from ret_in_memory. */
	(void)ret_plain;
}

static void repack_from_memory_matches_the_disk_bytes(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	setenv("TMPDIR", *state, 1);
	uint32_t rng = 20261128;
	unsigned in_memory_count = 0, both_failed = 0;
	for (int round = 0; round < 300; round++) {
		_cleanup_buf_ struct sl_buf tar;
		sl_buf_init(&tar, 0);
		bool plain;
		random_layer(&rng, &tar, &plain);
		int fd = layer_fd(*state, &tar);
		tl_free_owned(); /* 300 rounds would overflow the owned list */
		const char *spec_ignore = round % 3 == 0 ? "*.yaml\n!sub/**\n" : NULL;
		bool in_memory = false;
		struct sl_repack_opts disk_opts = {.ignore = spec_ignore, .on_disk = true};
		struct sl_repack_opts mem_opts = {.ignore = spec_ignore,
		                                  .ret_in_memory = &in_memory};
		struct sl_artifact a = {0}, b = {0};
		struct sl_error err_a = {0}, err_b = {0};
		int ra = sl_storage_repack(d, FILE_A, fd, &disk_opts, &a, &err_a);
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		int rb = sl_storage_repack(d, FILE_B, fd, &mem_opts, &b, &err_b);
		close(fd);
		if (ra != rb)
			fail_msg("round %d: disk %d (%s), memory %d (%s)", round, ra, err_a.msg, rb,
			         err_b.msg);
		if (ra < 0) {
			/* Both failed: the memory path left it to the disk. */
			assert_false(in_memory);
			assert_string_equal(err_a.msg, err_b.msg);
			both_failed++;
		} else {
			if (strcmp(a.digest, b.digest) != 0)
				fail_msg("round %d: disk %s, memory %s", round, a.digest, b.digest);
			in_memory_count += in_memory;
		}
		sl_artifact_clear(&a);
		sl_artifact_clear(&b);
	}
	unsetenv("TMPDIR");
	/* Most random layers are plain; the rest exercised the fallback. */
	assert_true(in_memory_count > 150);
	print_message("repack: %u of 300 from memory, %u failed on both paths\n", in_memory_count,
	              both_failed);
}

static void repack_falls_back_to_disk_for_what_memory_does_not_model(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	setenv("TMPDIR", *state, 1);
	static const struct {
		const char *name;
		char type;
		unsigned mode;
		bool in_memory;
	} cases[] = {
	    {"plain.yaml", '0', 0644, true},
	    {"link", '2', 0777, false},            /* a symlink: the disk path warns */
	    {"unreadable.yaml", '0', 0200, false}, /* the owner may not read it */
	    {"group-exec.yaml", '0', 0611, true},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		_cleanup_buf_ struct sl_buf tar;
		sl_buf_init(&tar, 0);
		tar_add(&tar, "base.yaml", '0', 0644, "kind: base\n", NULL);
		tar_add(&tar, cases[i].name, cases[i].type, cases[i].mode,
		        cases[i].type == '0' ? "kind: x\n" : NULL,
		        cases[i].type == '2' ? "base.yaml" : NULL);
		int fd = layer_fd(*state, &tar);
		bool in_memory = true;
		struct sl_repack_opts opts = {.ret_in_memory = &in_memory};
		struct sl_artifact a = {0};
		struct sl_error err = {0};
		int r = sl_storage_repack(d, FILE_A, fd, &opts, &a, &err);
		close(fd);
		if (r < 0)
			fail_msg("%s: %s", cases[i].name, err.msg);
		if (in_memory != cases[i].in_memory)
			fail_msg("%s: in memory %d, expected %d", cases[i].name, in_memory,
			         cases[i].in_memory);
		sl_artifact_clear(&a);
	}
	unsetenv("TMPDIR");
}

/* ---- HTTP, over plain sockets -------------------------------------------- */

struct response {
	int status;
	char *head; /* status line and headers */
	unsigned char *body;
	size_t body_len;
};

static int connect_to(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_all(int fd, const char *text)
{
	size_t len = strlen(text);
	while (len) {
		ssize_t n = send(fd, text, len, MSG_NOSIGNAL);
		if (n <= 0)
			return; /* the server may have closed on us: the read says */
		text += n;
		len -= (size_t)n;
	}
}

static void parse_response(unsigned char *buf, size_t len, struct response *r)
{
	*r = (struct response){.status = -1};
	unsigned char *end = memmem(buf, len, "\r\n\r\n", 4);
	if (!end)
		return;
	r->head = tl_own(strndup((char *)buf, (size_t)(end - buf) + 2));
	sscanf(r->head, "HTTP/1.%*d %d", &r->status);
	r->body = end + 4;
	r->body_len = len - (size_t)(end + 4 - buf);
}

/* One request on a fresh connection; reads to EOF. */
static struct response http(uint16_t port, const char *method, const char *target,
                            const char *extra_headers)
{
	int fd = connect_to(port);
	send_all(fd, fmt("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n", method,
	                 target, extra_headers ? extra_headers : ""));
	size_t cap = 1024 * 1024, len = 0;
	unsigned char *buf = tl_own(malloc(cap));
	for (;;) {
		assert_true(len < cap);
		ssize_t n = read(fd, buf + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	struct response r;
	parse_response(buf, len, &r);
	return r;
}

/* The value of a header, or NULL. */
static const char *header(const struct response *r, const char *name)
{
	if (!r->head)
		return NULL;
	size_t n = strlen(name);
	for (const char *line = strstr(r->head, "\r\n"); line && line[2];
	     line = strstr(line + 2, "\r\n")) {
		const char *h = line + 2;
		if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
			const char *v = h + n + 1;
			while (*v == ' ')
				v++;
			return tl_own(strndup(v, strcspn(v, "\r")));
		}
	}
	return NULL;
}

static struct sl_httpd *start_artifacts(const struct sl_storage *s,
                                        const struct sl_httpd_limits *limits)
{
	struct sl_httpd *h = NULL;
	struct sl_error err = {0};
	if (sl_httpd_start_artifacts("127.0.0.1:0", s, limits, &h, &err) < 0)
		fail_msg("sl_httpd_start_artifacts: %s", err.msg);
	assert_true(sl_httpd_port(h) > 0);
	return h;
}

static void http_serves_artifacts_as_flux_does(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	size_t len = 200 * 1024 + 3;
	unsigned char *data = noise(len, 5);
	struct sl_artifact a = {0};
	store_bytes(d, *state, FILE_A, data, len, &a);
	assert_int_equal(sl_storage_symlink_latest(d, FILE_A, NULL, NULL), 0);
	_cleanup_(sl_httpd_stopp) struct sl_httpd *h = start_artifacts(s, NULL);
	uint16_t port = sl_httpd_port(h);

	struct response r = http(port, "GET", "/" OBJ_DIR "/" FILE_A, NULL);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, len);
	char got[SL_DIGEST_STR_LEN];
	digest_of(r.body, r.body_len, got);
	assert_string_equal(got, a.digest);
	char want_len[32];
	snprintf(want_len, sizeof(want_len), "%zu", len);
	assert_string_equal(header(&r, "Content-Length"), want_len);
	assert_string_equal(header(&r, "Content-Type"), "application/gzip");
	assert_string_equal(header(&r, "Accept-Ranges"), "bytes");
	assert_null(header(&r, "ETag")); /* Go's FileServer sends none */
	struct stat st;
	assert_int_equal(stat(tl_own(tl_path(obj_dir(s), FILE_A)), &st), 0);
	char date[64];
	struct tm tm;
	gmtime_r(&st.st_mtime, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	assert_string_equal(header(&r, "Last-Modified"), date);

	/* latest.tar.gz, and the colon percent-encoded as clients may. */
	r = http(port, "GET", "/" OBJ_DIR "/latest.tar.gz", NULL);
	assert_int_equal(r.status, 200);
	digest_of(r.body, r.body_len, got);
	assert_string_equal(got, a.digest);
	r = http(port, "GET", fmt("/" OBJ_DIR "/sha256%%3A%s", FILE_A + 7), NULL);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, len);

	r = http(port, "HEAD", "/" OBJ_DIR "/" FILE_A, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Length"), want_len);
	assert_int_equal(r.body_len, 0);

	/* Flux's readiness probe. */
	r = http(port, "GET", "/", NULL);
	assert_int_equal(r.status, 200);
	sl_artifact_clear(&a);
}

static void http_answers_404_and_405(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	store_bytes(d, *state, FILE_A, "a", 1, NULL);
	tl_write_file(tl_own(tl_path(obj_dir(s), ".hidden")), "hidden", 6);
	_cleanup_(sl_httpd_stopp) struct sl_httpd *h = start_artifacts(s, NULL);
	uint16_t port = sl_httpd_port(h);
	const char *missing[] = {
	    "/" OBJ_DIR "/" FILE_B,     "/" OBJ_DIR "/",        "/" OBJ_DIR,
	    "/ocirepository",           "/" OBJ_DIR "/.hidden", "/" OBJ_DIR "//" FILE_A,
	    "/" OBJ_DIR "/" FILE_A "/",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(missing); i++) {
		struct response r = http(port, "GET", missing[i], NULL);
		if (r.status != 404)
			fail_msg("%s: HTTP %d", missing[i], r.status);
	}
	struct response r = http(port, "POST", "/" OBJ_DIR "/" FILE_A, "Content-Length: 4\r\n");
	assert_int_equal(r.status, 405);
	assert_string_equal(header(&r, "Allow"), "GET, HEAD");
	r = http(port, "DELETE", "/" OBJ_DIR "/" FILE_A, NULL);
	assert_int_equal(r.status, 405);
	assert_true(sl_storage_exists(s, OBJ_DIR "/" FILE_A));
}

static void http_refuses_traversal(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	store_bytes(d, *state, FILE_A, "a", 1, NULL);
	plant_escapes(s, *state);
	_cleanup_(sl_httpd_stopp) struct sl_httpd *h = start_artifacts(s, NULL);
	uint16_t port = sl_httpd_port(h);
	const struct {
		const char *target;
		int status;
	} cases[] = {
	    {"/../secret", 400},
	    {"/ocirepository/../../secret", 400},
	    {"/%2e%2e/secret", 400},
	    {"/ocirepository/%2E%2E/%2e%2e/%2e%2e/secret", 400},
	    {"/" OBJ_DIR "/..%2f..%2f..%2f..%2fsecret", 400},
	    {"/" OBJ_DIR "/..%5c..%5csecret", 400},
	    {"/" OBJ_DIR "/evil.tar.gz", 404},
	    {"/" OBJ_DIR "/rel.tar.gz", 404},
	    {"/ocirepository/default/linked/secret", 404},
	    {"/" OBJ_DIR "/fifo.tar.gz", 404},
	    {"/" OBJ_DIR "/%2e%2e%2fpodinfo%2f" FILE_A, 400},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		struct response r = http(port, "GET", cases[i].target, NULL);
		if (r.status != cases[i].status)
			fail_msg("%s: HTTP %d, want %d", cases[i].target, r.status,
			         cases[i].status);
		assert_null(memmem(r.body, r.body_len, "SECRET", 6));
	}
}

static void http_ranges_and_conditional_requests(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	_cleanup_(sl_storage_unlockp) struct sl_storage_dir *d = lock_podinfo(s);
	const char *text = "0123456789abcdefghij";
	store_bytes(d, *state, FILE_A, text, 20, NULL);
	_cleanup_(sl_httpd_stopp) struct sl_httpd *h = start_artifacts(s, NULL);
	uint16_t port = sl_httpd_port(h);
	const char *target = "/" OBJ_DIR "/" FILE_A;

	struct response r = http(port, "GET", target, "Range: bytes=2-5\r\n");
	assert_int_equal(r.status, 206);
	assert_string_equal(header(&r, "Content-Range"), "bytes 2-5/20");
	assert_int_equal(r.body_len, 4);
	assert_memory_equal(r.body, "2345", 4);
	r = http(port, "GET", target, "Range: bytes=-3\r\n");
	assert_int_equal(r.status, 206);
	assert_memory_equal(r.body, "hij", 3);
	r = http(port, "GET", target, "Range: bytes=18-99\r\n");
	assert_int_equal(r.status, 206);
	assert_string_equal(header(&r, "Content-Range"), "bytes 18-19/20");
	r = http(port, "GET", target, "Range: bytes=20-\r\n");
	assert_int_equal(r.status, 416);
	assert_string_equal(header(&r, "Content-Range"), "bytes */20");
	r = http(port, "GET", target, "Range: bytes=0-1,4-5\r\n");
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 20);

	r = http(port, "GET", target, NULL);
	const char *modified = header(&r, "Last-Modified");
	assert_non_null(modified);
	r = http(port, "GET", target, fmt("If-Modified-Since: %s\r\n", modified));
	assert_int_equal(r.status, 304);
	assert_int_equal(r.body_len, 0);
	r = http(port, "GET", target, "If-Modified-Since: Mon, 01 Jan 1990 00:00:00 GMT\r\n");
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 20);
}

/* Reads one response with a Content-Length body, leaving the connection
 * open. Returns the status. */
static int read_one_response(int fd)
{
	char buf[4096];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		char *cl = strcasestr(buf, "Content-Length:");
		if (end && cl && len >= (size_t)(end + 4 - buf) + (size_t)atoi(cl + 15))
			break;
	}
	int status = -1;
	sscanf(buf, "HTTP/1.%*d %d", &status);
	return status;
}

static void http_caps_connections_and_idle_time(void **state)
{
	_cleanup_(sl_storage_freep) struct sl_storage *s = new_storage(*state, ADV, 60000, 2);
	struct sl_httpd_limits limits = {.max_connections = 1, .idle_timeout_s = 1};
	_cleanup_(sl_httpd_stopp) struct sl_httpd *h = start_artifacts(s, &limits);
	uint16_t port = sl_httpd_port(h);

	/* A keeps the only slot (keep-alive after one request)... */
	int a = connect_to(port);
	send_all(a, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(read_one_response(a), 200);
	/* ...so B waits unanswered... */
	int b = connect_to(port);
	send_all(b, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	struct timeval short_wait = {.tv_usec = 300 * 1000};
	setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &short_wait, sizeof(short_wait));
	char c;
	assert_int_equal(read(b, &c, 1), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);

	/* ...until the server closes A, idle past the timeout... */
	int64_t start = sl_now_ms();
	assert_int_equal(read(a, &c, 1), 0);
	assert_true(sl_now_ms() - start < 4000);
	close(a);

	/* ...and B gets its turn. */
	struct timeval long_wait = {.tv_sec = 5};
	setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &long_wait, sizeof(long_wait));
	assert_int_equal(read_one_response(b), 200);
	close(b);
}

static void health_reports_liveness_and_readiness(void **state)
{
	(void)state;
	struct sl_httpd *h = NULL;
	struct sl_error err = {0};
	if (sl_httpd_start_health("127.0.0.1:0", NULL, &h, &err) < 0)
		fail_msg("sl_httpd_start_health: %s", err.msg);
	uint16_t port = sl_httpd_port(h);
	struct response r = http(port, "GET", "/healthz", NULL);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 2);
	assert_memory_equal(r.body, "ok", 2);
	r = http(port, "GET", "/readyz", NULL);
	assert_int_equal(r.status, 500);
	sl_httpd_set_ready(h, true);
	r = http(port, "GET", "/readyz", NULL);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body, "ok", 2);
	sl_httpd_set_ready(h, false);
	r = http(port, "GET", "/readyz", NULL);
	assert_int_equal(r.status, 500);
	r = http(port, "GET", "/metrics", NULL);
	assert_int_equal(r.status, 404);
	/* A graceful stop with nothing in flight returns at once. */
	int64_t start = sl_now_ms();
	sl_httpd_stop(h, SL_HTTPD_SHUTDOWN_GRACE_MS);
	assert_true(sl_now_ms() - start < 1000);
}

static void listen_parses_addresses_as_go_does(void **state)
{
	(void)state;
	const char *good[] = {"127.0.0.1:0", ":0", "localhost:0", "0.0.0.0:0", "127.0.0.1:"};
	for (size_t i = 0; i < SL_ARRAY_SIZE(good); i++) {
		struct sl_error err = {0};
		int fd = sl_httpd_listen(good[i], &err);
		if (fd < 0)
			fail_msg("%s: %s", good[i], err.msg);
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
		close(fd);
	}
	const char *bad[] = {"9090", "127.0.0.1:99999",       "127.0.0.1:123456", "a:b:c",
	                     "[::1", "no-such-host.invalid:0"};
	for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
		struct sl_error err = {0};
		int fd = sl_httpd_listen(bad[i], &err);
		if (fd >= 0)
			fail_msg("%s: accepted", bad[i]);
		assert_true(err.msg[0] != '\0');
	}
	/* A port in use is an error naming the address. */
	struct sl_error err = {0};
	int fd = sl_httpd_listen("127.0.0.1:0", &err);
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sa.sin_port));
	assert_true(sl_httpd_listen(addr, &err) < 0);
	assert_non_null(strstr(err.msg, addr));
	close(fd);
}

/* ---- metrics ------------------------------------------------------------ */

/* Every line is a comment, or `name{labels} value` with a number. */
static void assert_exposition_format(const char *text)
{
	regex_t sample, comment;
	assert_int_equal(regcomp(&sample,
	                         "^[a-zA-Z_:][a-zA-Z0-9_:]*"
	                         "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\""
	                         "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\")*\\})? ([^ ]+)$",
	                         REG_EXTENDED),
	                 0);
	assert_int_equal(
	    regcomp(&comment,
	            "^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* "
	            "(counter|gauge|histogram))$",
	            REG_EXTENDED),
	    0);
	char *copy = strdup(text);
	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		regmatch_t m[6];
		if (line[0] == '#') {
			if (regexec(&comment, line, 0, NULL, 0) != 0)
				fail_msg("bad comment line: %s", line);
			continue;
		}
		if (regexec(&sample, line, 6, m, 0) != 0)
			fail_msg("bad sample line: %s", line);
		const char *value = line + m[5].rm_so;
		char *end;
		strtod(value, &end);
		if (*end && strcmp(value, "+Inf") && strcmp(value, "-Inf") && strcmp(value, "NaN"))
			fail_msg("bad value: %s", line);
	}
	free(copy);
	regfree(&sample);
	regfree(&comment);
}

static char *render(struct sl_metrics *m)
{
	struct sl_buf b;
	sl_buf_init(&b, 0);
	assert_int_equal(sl_metrics_render(m, &b), 0);
	return tl_own(b.data ? sl_buf_steal(&b) : strdup(""));
}

static void metrics_render_like_client_golang(void **state)
{
	(void)state;
	_cleanup_(sl_metrics_freep) struct sl_metrics *m = sl_metrics_new();
	struct sl_error err = {0};
	struct sl_metric *c, *g, *unused, *h;
	const char *cl[] = {"zone", "code"}; /* printed sorted: code, zone */
	assert_int_equal(sl_metrics_counter(m, "requests_total", "Requests.\nWith a \\ newline.",
	                                    cl, 2, &c, &err),
	                 0);
	assert_int_equal(sl_metrics_gauge(m, "temperature", "Temperature.", NULL, 0, &g, &err), 0);
	assert_int_equal(sl_metrics_gauge(m, "unused", "Never set.", NULL, 0, &unused, &err), 0);
	const char *hl[] = {"op"};
	const double bounds[] = {0.1, 1, 10};
	assert_int_equal(
	    sl_metrics_histogram(m, "latency_seconds", "Latency.", hl, 1, bounds, 3, &h, &err), 0);

	sl_metric_add(c, (const char *[]){"b", "200"}, 1);
	sl_metric_add(c, (const char *[]){"a", "500"}, 1e6);
	sl_metric_add(c, (const char *[]){"a", "500"}, -5); /* counters only go up */
	sl_metric_add(c, (const char *[]){"a\"q\\\n", "200"}, 0.5);
	sl_metric_set(c, (const char *[]){"b", "200"}, 99); /* not a gauge: ignored */
	sl_metric_set(g, NULL, 3);
	sl_metric_add(g, NULL, -4.5);
	sl_metric_observe(h, (const char *[]){"x"}, 0.05);
	sl_metric_observe(h, (const char *[]){"x"}, 0.5);
	sl_metric_observe(h, (const char *[]){"x"}, 100);
	sl_metric_observe(h, (const char *[]){"y"}, 1);

	char *text = render(m);
	assert_string_equal(text, "# HELP latency_seconds Latency.\n"
	                          "# TYPE latency_seconds histogram\n"
	                          "latency_seconds_bucket{op=\"x\",le=\"0.1\"} 1\n"
	                          "latency_seconds_bucket{op=\"x\",le=\"1\"} 2\n"
	                          "latency_seconds_bucket{op=\"x\",le=\"10\"} 2\n"
	                          "latency_seconds_bucket{op=\"x\",le=\"+Inf\"} 3\n"
	                          "latency_seconds_sum{op=\"x\"} 100.55\n"
	                          "latency_seconds_count{op=\"x\"} 3\n"
	                          "latency_seconds_bucket{op=\"y\",le=\"0.1\"} 0\n"
	                          "latency_seconds_bucket{op=\"y\",le=\"1\"} 1\n"
	                          "latency_seconds_bucket{op=\"y\",le=\"10\"} 1\n"
	                          "latency_seconds_bucket{op=\"y\",le=\"+Inf\"} 1\n"
	                          "latency_seconds_sum{op=\"y\"} 1\n"
	                          "latency_seconds_count{op=\"y\"} 1\n"
	                          "# HELP requests_total Requests.\\nWith a \\\\ newline.\n"
	                          "# TYPE requests_total counter\n"
	                          "requests_total{code=\"200\",zone=\"a\\\"q\\\\\\n\"} 0.5\n"
	                          "requests_total{code=\"200\",zone=\"b\"} 1\n"
	                          "requests_total{code=\"500\",zone=\"a\"} 1e+06\n"
	                          "# HELP temperature Temperature.\n"
	                          "# TYPE temperature gauge\n"
	                          "temperature -1.5\n");
	assert_exposition_format(text);
}

static void metric_values_print_as_go_does(void **state)
{
	(void)state;
	const struct {
		double v;
		const char *text;
	} cases[] = {
	    {0, "0"},
	    {1, "1"},
	    {-1, "-1"},
	    {0.1, "0.1"},
	    {100000, "100000"},
	    {123456, "123456"},
	    {1e6, "1e+06"},
	    {1234567, "1.234567e+06"},
	    {0.0001, "0.0001"},
	    {1e-5, "1e-05"},
	    {2.5e-7, "2.5e-07"},
	    {1e21, "1e+21"},
	    {1e100, "1e+100"},
	    {1799.9999999999982, "1799.9999999999982"},
	    {0.038363583488692544, "0.038363583488692544"},
	    {NAN, "NaN"},
	    {INFINITY, "+Inf"},
	    {-INFINITY, "-Inf"},
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
		_cleanup_(sl_metrics_freep) struct sl_metrics *m = sl_metrics_new();
		struct sl_metric *g;
		assert_int_equal(sl_metrics_gauge(m, "v", "", NULL, 0, &g, NULL), 0);
		sl_metric_set(g, NULL, cases[i].v);
		char *text = render(m);
		char *want = fmt("# HELP v \n# TYPE v gauge\nv %s\n", cases[i].text);
		if (strcmp(text, want) != 0)
			fail_msg("%.17g: got %s", cases[i].v, text);
	}
}

static void metric_registration_is_validated(void **state)
{
	(void)state;
	_cleanup_(sl_metrics_freep) struct sl_metrics *m = sl_metrics_new();
	struct sl_metric *f = NULL;
	struct sl_error err = {0};
	const char *le[] = {"le"};
	const char *dup[] = {"a", "a"};
	const char *bad[] = {"0a"};
	const char *reserved[] = {"__name"};
	const double down[] = {1, 0.5};
	assert_int_equal(sl_metrics_counter(m, "ok_total", "", NULL, 0, &f, &err), 0);
	assert_int_equal(sl_metrics_counter(m, "ok_total", "", NULL, 0, &f, &err), SL_EINVAL);
	assert_int_equal(sl_metrics_counter(m, "1abc", "", NULL, 0, &f, &err), SL_EINVAL);
	assert_int_equal(sl_metrics_counter(m, "a-b", "", NULL, 0, &f, &err), SL_EINVAL);
	assert_int_equal(sl_metrics_gauge(m, "g", "", dup, 2, &f, &err), SL_EINVAL);
	assert_int_equal(sl_metrics_gauge(m, "g", "", bad, 1, &f, &err), SL_EINVAL);
	assert_int_equal(sl_metrics_gauge(m, "g", "", reserved, 1, &f, &err), SL_EINVAL);
	assert_int_equal(sl_metrics_histogram(m, "h", "", le, 1, NULL, 0, &f, &err), SL_EINVAL);
	assert_int_equal(sl_metrics_histogram(m, "h", "", NULL, 0, down, 2, &f, &err), SL_EINVAL);
	assert_int_equal(sl_metrics_gauge(m, "le", "", le, 1, &f, &err), 0); /* fine on a gauge */
	assert_int_equal(sl_metrics_counter(m, "ns:sub_total", "", NULL, 0, &f, &err), 0);
}

static void gotk_metrics_follow_flux(void **state)
{
	(void)state;
	_cleanup_(sl_metrics_freep) struct sl_metrics *m = sl_metrics_new();
	struct sl_gotk_metrics g;
	struct sl_error err = {0};
	assert_int_equal(sl_gotk_metrics_register(m, &g, &err), 0);
	/* Registered, never set: nothing printed, as client_golang does. */
	assert_string_equal(render(m), "");

	sl_gotk_record_duration(&g, KIND, "default", "podinfo", 0.25);
	sl_gotk_record_duration(&g, KIND, "default", "podinfo", 0.5);
	sl_gotk_record_duration(&g, KIND, "flux-system", "other", 3000);
	sl_gotk_record_condition(&g, KIND, "default", "podinfo", "Ready", "True");
	sl_gotk_record_suspend(&g, KIND, "default", "podinfo", true);
	char *text = render(m);
	assert_exposition_format(text);
#define OBJ "kind=\"OCIRepository\",name=\"podinfo\",namespace=\"default\""
	static const char *const want[] = {
	    "# HELP gotk_reconcile_duration_seconds The duration in seconds of a GitOps Toolkit "
	    "resource reconciliation.\n# TYPE gotk_reconcile_duration_seconds histogram\n",
	    "gotk_reconcile_duration_seconds_bucket{" OBJ ",le=\"0.01\"} 0\n",
	    "gotk_reconcile_duration_seconds_bucket{" OBJ ",le=\"0.038363583488692544\"} 0\n",
	    "gotk_reconcile_duration_seconds_bucket{" OBJ ",le=\"0.1471764538093883\"} 0\n",
	    "gotk_reconcile_duration_seconds_bucket{" OBJ ",le=\"0.5646216173286169\"} 2\n",
	    "gotk_reconcile_duration_seconds_bucket{" OBJ ",le=\"1799.9999999999982\"} 2\n",
	    "gotk_reconcile_duration_seconds_bucket{" OBJ ",le=\"+Inf\"} 2\n",
	    "gotk_reconcile_duration_seconds_sum{" OBJ "} 0.75\n",
	    "gotk_reconcile_duration_seconds_count{" OBJ "} 2\n",
	    "gotk_reconcile_duration_seconds_bucket{kind=\"OCIRepository\",name=\"other\","
	    "namespace=\"flux-system\",le=\"+Inf\"} 1\n",
	    "# TYPE gotk_reconcile_condition gauge\n",
	    "gotk_reconcile_condition{" OBJ ",status=\"False\",type=\"Ready\"} 0\n",
	    "gotk_reconcile_condition{" OBJ ",status=\"True\",type=\"Ready\"} 1\n",
	    "gotk_reconcile_condition{" OBJ ",status=\"Unknown\",type=\"Ready\"} 0\n",
	    "gotk_suspend_status{" OBJ "} 1\n",
	};
	for (size_t i = 0; i < SL_ARRAY_SIZE(want); i++)
		if (!strstr(text, want[i]))
			fail_msg("missing %s in:\n%s", want[i], text);
	size_t buckets = 0;
	for (const char *p = text; (p = strstr(p, "_bucket{" OBJ)); p++)
		buckets++;
	assert_int_equal(buckets, 11); /* 10 bounds and +Inf */

	/* Finalization forgets the object, and only it. */
	sl_gotk_delete(&g, KIND, "default", "podinfo");
	text = render(m);
	assert_null(strstr(text, "name=\"podinfo\""));
	assert_non_null(strstr(text, "name=\"other\""));
	assert_null(strstr(text, "gotk_reconcile_condition"));
#undef OBJ
}

struct count_job {
	struct sl_metric *c, *h;
};

static void *count_thread(void *arg)
{
	struct count_job *j = arg;
	for (int i = 0; i < 10000; i++) {
		char name[16];
		snprintf(name, sizeof(name), "o%d", i % 50);
		sl_metric_add(j->c, (const char *[]){name}, 1);
		sl_metric_observe(j->h, (const char *[]){name}, 1);
	}
	return NULL;
}

static void metrics_are_thread_safe(void **state)
{
	(void)state;
	_cleanup_(sl_metrics_freep) struct sl_metrics *m = sl_metrics_new();
	struct count_job j;
	const char *labels[] = {"name"};
	const double b[] = {0.5, 2};
	assert_int_equal(sl_metrics_counter(m, "n_total", "", labels, 1, &j.c, NULL), 0);
	assert_int_equal(sl_metrics_histogram(m, "h", "", labels, 1, b, 2, &j.h, NULL), 0);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, count_thread, &j), 0);
	char *text = NULL;
	for (int i = 0; i < 20; i++)
		text = render(m); /* rendering while others write */
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	text = render(m);
	assert_non_null(strstr(text, "n_total{name=\"o0\"} 800\n"));
	assert_non_null(strstr(text, "n_total{name=\"o49\"} 800\n"));
	assert_non_null(strstr(text, "h_bucket{name=\"o7\",le=\"2\"} 800\n"));
	assert_non_null(strstr(text, "h_count{name=\"o7\"} 800\n"));
}

static void metrics_endpoint_serves_the_registry(void **state)
{
	(void)state;
	_cleanup_(sl_metrics_freep) struct sl_metrics *m = sl_metrics_new();
	struct sl_gotk_metrics g;
	assert_int_equal(sl_gotk_metrics_register(m, &g, NULL), 0);
	sl_gotk_record_duration(&g, KIND, "default", "podinfo", 1.5);
	struct sl_httpd *h = NULL;
	struct sl_error err = {0};
	if (sl_httpd_start_metrics("127.0.0.1:0", m, NULL, &h, &err) < 0)
		fail_msg("sl_httpd_start_metrics: %s", err.msg);
	uint16_t port = sl_httpd_port(h);
	struct response r = http(port, "GET", "/metrics", NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Type"), SL_METRICS_CONTENT_TYPE);
	char *body = fmt("%.*s", (int)r.body_len, (char *)r.body);
	assert_exposition_format(body);
	assert_non_null(strstr(body, "gotk_reconcile_duration_seconds_count{kind=\"OCIRepository\","
	                             "name=\"podinfo\",namespace=\"default\"} 1\n"));
	/* Updates show on the next scrape. */
	sl_gotk_record_duration(&g, KIND, "default", "podinfo", 1.5);
	r = http(port, "GET", "/metrics", NULL);
	assert_non_null(memmem(r.body, r.body_len, "namespace=\"default\"} 3\n", 23));
	r = http(port, "GET", "/healthz", NULL);
	assert_int_equal(r.status, 404);
	sl_httpd_stop(h, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tl_setup_tmpdir, tl_teardown_tmpdir)
	const struct CMUnitTest tests[] = {
	    T(artifact_path_is_flux_layout),
	    T(artifact_path_rejects_escapes),
	    T(file_for_revision_takes_the_digest),
	    T(url_is_built_as_flux_does),
	    T(default_adv_addr_follows_flux),
	    T(storage_requires_an_existing_directory),
	    T(store_writes_file_digest_and_size),
	    T(failed_store_keeps_previous_file),
	    T(partial_write_is_never_visible),
	    T(lock_excludes_other_threads),
	    T(lock_waiter_follows_a_removed_directory),
	    T(delete_removes_the_object_directory),
	    T(symlink_latest_points_at_the_current_file),
	    T(open_refuses_paths_leaving_the_object),
	    T(verify_detects_tampering),
	    T(gc_keeps_the_newest_records),
	    T(gc_never_removes_the_current_artifact),
	    T(gc_removes_expired_artifacts),
	    T(gc_skips_links_and_locks_and_clears_stale_writes),
	    T(archive_matches_flux_layout_and_is_deterministic),
	    T(spec_ignore_replaces_the_defaults),
	    T(sourceignore_files_are_scoped_to_their_directory),
	    T(repack_turns_a_layer_into_the_flux_artifact),
	    T(repack_rejects_traversal_and_stores_nothing),
	    T(repack_from_memory_matches_the_disk_bytes),
	    T(repack_falls_back_to_disk_for_what_memory_does_not_model),
	    T(http_serves_artifacts_as_flux_does),
	    T(http_answers_404_and_405),
	    T(http_refuses_traversal),
	    T(http_ranges_and_conditional_requests),
	    T(http_caps_connections_and_idle_time),
	    T(health_reports_liveness_and_readiness),
	    T(listen_parses_addresses_as_go_does),
	    T(metrics_render_like_client_golang),
	    T(metric_values_print_as_go_does),
	    T(metric_registration_is_validated),
	    T(gotk_metrics_follow_flux),
	    T(metrics_are_thread_safe),
	    T(metrics_endpoint_serves_the_registry),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("storage", tests, NULL, NULL);
}
