/* Safe extraction: hostile tarballs crafted here byte by byte (USTAR
 * headers + zlib) must be refused without writing outside the target, and
 * Flux's own artifacts must extract with their modes. Every test extracts
 * into <tmp>/dest, so an escape lands in <tmp> where it can be seen. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "codec/codec.h"
#include "testlib.h"

#define BLOCK 512

/* ---- crafting tarballs ------------------------------------------------ */

struct raw_entry {
	const char *name;
	/* '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' dir,
	 * '6' fifo, 'x' PAX extended header, 'L' GNU long name */
	char type;
	mode_t mode;
	const char *data;
	size_t len;
	const char *link;
};

static void put_octal(unsigned char *field, size_t width, unsigned long long v)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%0*llo", (int)(width - 1), v);
	memcpy(field, tmp, width - 1);
	field[width - 1] = 0;
}

static bool has_data(char type)
{
	return type == '0' || type == 'x' || type == 'L';
}

static void raw_header(unsigned char *blk, const struct raw_entry *e)
{
	memset(blk, 0, BLOCK);
	memcpy(blk, e->name, strnlen(e->name, 100));
	put_octal(blk + 100, 8, e->mode);
	put_octal(blk + 108, 8, 0);
	put_octal(blk + 116, 8, 0);
	put_octal(blk + 124, 12, has_data(e->type) ? e->len : 0);
	put_octal(blk + 136, 12, 0);
	blk[156] = (unsigned char)e->type;
	if (e->link)
		memcpy(blk + 157, e->link, strnlen(e->link, 100));
	memcpy(blk + 257,
	       "ustar\0"
	       "00",
	       8);
	put_octal(blk + 329, 8, 0);
	put_octal(blk + 337, 8, 0);
	memset(blk + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < BLOCK; i++)
		sum += blk[i];
	char tmp[16];
	snprintf(tmp, sizeof(tmp), "%06o", sum);
	memcpy(blk + 148, tmp, 6);
	blk[154] = 0;
	blk[155] = ' ';
}

/* An uncompressed tar stream of entries plus the two-block trailer. */
static unsigned char *raw_tar(const struct raw_entry *e, size_t n, size_t *ret_len)
{
	size_t cap = 2 * BLOCK;
	for (size_t i = 0; i < n; i++)
		cap += BLOCK + (has_data(e[i].type) ? (e[i].len + BLOCK - 1) / BLOCK * BLOCK : 0);
	unsigned char *buf = calloc(1, cap);
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		raw_header(buf + off, &e[i]);
		off += BLOCK;
		if (has_data(e[i].type) && e[i].len) {
			memcpy(buf + off, e[i].data, e[i].len);
			off += (e[i].len + BLOCK - 1) / BLOCK * BLOCK;
		}
	}
	*ret_len = cap;
	return buf;
}

/* Writes bytes to <dir>/in and returns an fd reading them. */
static int input_fd(const char *dir, const void *data, size_t len)
{
	char *path = tl_own(tl_path(dir, "in"));
	tl_write_file(path, data, len);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

struct warnings {
	int count;
	char last[512];
};

static void record_warning(void *userdata, const char *fmt, ...)
{
	struct warnings *w = userdata;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->last, sizeof(w->last), fmt, ap);
	va_end(ap);
	w->count++;
}

struct result {
	int r;
	struct sl_error err;
	struct warnings warn;
};

/* Extracts bytes (already gzip-compressed or not, as given) into
 * <dir>/dest, which it creates empty. */
static void extract_bytes(const char *dir, const void *data, size_t len,
                          const struct sl_extract_limits *limits, struct result *res)
{
	*res = (struct result){0};
	char *dest = tl_own(tl_path(dir, "dest"));
	assert_int_equal(mkdir(dest, 0700), 0);
	int fd = input_fd(dir, data, len);
	res->r = sl_tar_extract(fd, dest, limits, record_warning, &res->warn, &res->err);
	close(fd);
}

static void extract_raw(const char *dir, const struct raw_entry *e, size_t n,
                        const struct sl_extract_limits *limits, struct result *res)
{
	size_t tar_len = 0, gz_len = 0;
	unsigned char *tar = tl_own(raw_tar(e, n, &tar_len));
	unsigned char *gz = tl_own(tl_gzip(tar, tar_len, &gz_len));
	assert_non_null(gz);
	extract_bytes(dir, gz, gz_len, limits, res);
}

static bool exists(const char *dir, const char *name)
{
	char *p = tl_own(tl_path(dir, name));
	struct stat st;
	return lstat(p, &st) == 0;
}

static mode_t mode_of(const char *dir, const char *name)
{
	char *p = tl_own(tl_path(dir, name));
	struct stat st;
	if (lstat(p, &st) < 0)
		fail_msg("%s is missing", p);
	return st.st_mode;
}

static bool dest_is_empty(const char *dir)
{
	char *dest = tl_own(tl_path(dir, "dest"));
	DIR *d = opendir(dest);
	if (!d)
		return false;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n == 0;
}

#define FILE_ENTRY(n, d)                                                                           \
	{                                                                                          \
		(n), '0', 0644, (d), sizeof(d) - 1, NULL                                           \
	}

/* ---- the happy path --------------------------------------------------- */

/* Builds a Flux-style tarball with the sluice writer. */
struct w_entry {
	const char *name;
	mode_t mode;
	bool is_dir;
	const char *data;
};

static unsigned char *written_tgz(const char *dir, const struct w_entry *e, size_t n,
                                  size_t *ret_len)
{
	struct sl_error err = {0};
	char *path = tl_own(tl_path(dir, "w.tgz"));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	struct sl_tgz_writer *w = NULL;
	assert_int_equal(sl_tgz_writer_new(fd, &w, &err), 0);
	for (size_t i = 0; i < n; i++) {
		if (e[i].is_dir) {
			assert_int_equal(sl_tgz_add_dir(w, e[i].name, e[i].mode, &err), 0);
			continue;
		}
		char *src = tl_own(tl_path(dir, "src"));
		tl_write_file(src, e[i].data, strlen(e[i].data));
		int sfd = open(src, O_RDONLY | O_CLOEXEC);
		assert_int_equal(
		    sl_tgz_add_file(w, e[i].name, e[i].mode, sfd, strlen(e[i].data), &err), 0);
		close(sfd);
	}
	uint64_t size;
	char digest[SL_DIGEST_STR_LEN];
	assert_int_equal(sl_tgz_finish(w, &size, digest, &err), 0);
	sl_tgz_writer_free(w);
	close(fd);
	unsigned char *data = tl_read_file(path, ret_len);
	assert_non_null(data);
	return data;
}

static void assert_file_content(const char *dir, const char *name, const char *want)
{
	char *p = tl_own(tl_path(dir, name));
	size_t len = 0;
	unsigned char *got = tl_own(tl_read_file(p, &len));
	if (!got)
		fail_msg("%s is missing", p);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(got, want, len);
}

static void extract_writes_files_and_dirs_with_their_modes(void **state)
{
	const char *dir = *state;
	const struct w_entry e[] = {
	    {".", 0755, true, NULL},
	    {"deploy", 0750, true, NULL},
	    {"deploy/app.yaml", 0644, false, "kind: ConfigMap\n"},
	    {"bin/run.sh", 0755, false, "#!/bin/sh\n"}, /* parent has no entry of its own */
	    {"private", 0600, false, "secret\n"},
	    {"empty", 0644, false, ""},
	};
	size_t len = 0;
	unsigned char *tgz = tl_own(written_tgz(dir, e, SL_ARRAY_SIZE(e), &len));
	mode_t old = umask(022);
	struct result res;
	extract_bytes(dir, tgz, len, NULL, &res);
	umask(old);
	if (res.r != 0)
		fail_msg("extract: %s", res.err.msg);
	char *dest = tl_own(tl_path(dir, "dest"));
	assert_file_content(dest, "deploy/app.yaml", "kind: ConfigMap\n");
	assert_file_content(dest, "bin/run.sh", "#!/bin/sh\n");
	assert_file_content(dest, "private", "secret\n");
	assert_file_content(dest, "empty", "");
	assert_int_equal(mode_of(dest, "deploy"), S_IFDIR | 0750);
	assert_int_equal(mode_of(dest, "deploy/app.yaml"), S_IFREG | 0644);
	assert_int_equal(mode_of(dest, "bin/run.sh"), S_IFREG | 0755);
	assert_int_equal(mode_of(dest, "private"), S_IFREG | 0600);
	assert_int_equal(mode_of(dest, "bin") & S_IFMT, S_IFDIR);
	assert_int_equal(res.warn.count, 0);
}

static void extract_reads_pax_long_and_non_ascii_names(void **state)
{
	const char *dir = *state;
	char long_name[300];
	memset(long_name, 'x', 150);
	long_name[150] = '\0';
	char path[320];
	snprintf(path, sizeof(path), "d/%s", long_name);
	const struct w_entry e[] = {
	    {"caf\xc3\xa9.yaml", 0644, false, "accent\n"},
	    {path, 0644, false, "long\n"},
	};
	size_t len = 0;
	unsigned char *tgz = tl_own(written_tgz(dir, e, SL_ARRAY_SIZE(e), &len));
	struct result res;
	extract_bytes(dir, tgz, len, NULL, &res);
	if (res.r != 0)
		fail_msg("extract: %s", res.err.msg);
	char *dest = tl_own(tl_path(dir, "dest"));
	assert_file_content(dest, "caf\xc3\xa9.yaml", "accent\n");
	assert_file_content(dest, path, "long\n");
	/* no stray PaxHeaders entries */
	assert_false(exists(dest, "PaxHeaders.0"));
	assert_false(exists(dest, "d/PaxHeaders.0"));
}

static void extract_accepts_dot_slash_prefixed_names(void **state)
{
	const char *dir = *state;
	const struct raw_entry e[] = {
	    {"./", '5', 0755, NULL, 0, NULL},
	    {"./deploy/", '5', 0755, NULL, 0, NULL},
	    FILE_ENTRY("./deploy/app.yaml", "x: 1\n"),
	};
	struct result res;
	extract_raw(dir, e, SL_ARRAY_SIZE(e), NULL, &res);
	if (res.r != 0)
		fail_msg("extract: %s", res.err.msg);
	char *dest = tl_own(tl_path(dir, "dest"));
	assert_file_content(dest, "deploy/app.yaml", "x: 1\n");
}

/* Flux: MkdirAll(perm|0700) — the owner can always enter and write. */
static void extract_directories_always_keep_owner_rwx(void **state)
{
	const char *dir = *state;
	const struct raw_entry e[] = {
	    {"ro", '5', 0500, NULL, 0, NULL},
	    FILE_ENTRY("ro/f", "data"),
	};
	struct result res;
	extract_raw(dir, e, SL_ARRAY_SIZE(e), NULL, &res);
	if (res.r != 0)
		fail_msg("extract: %s", res.err.msg);
	char *dest = tl_own(tl_path(dir, "dest"));
	assert_int_equal(mode_of(dest, "ro"), S_IFDIR | 0700);
	assert_file_content(dest, "ro/f", "data");
}

static void extract_drops_setuid_setgid_and_sticky_bits(void **state)
{
	const char *dir = *state;
	const struct raw_entry e[] = {
	    {"suid", '0', 04755, "x", 1, NULL},
	    {"sgid", '0', 02755, "x", 1, NULL},
	    {"sticky", '5', 01777, NULL, 0, NULL},
	};
	mode_t old = umask(0);
	struct result res;
	extract_raw(dir, e, SL_ARRAY_SIZE(e), NULL, &res);
	umask(old);
	if (res.r != 0)
		fail_msg("extract: %s", res.err.msg);
	char *dest = tl_own(tl_path(dir, "dest"));
	assert_int_equal(mode_of(dest, "suid"), S_IFREG | 0755);
	assert_int_equal(mode_of(dest, "sgid"), S_IFREG | 0755);
	assert_int_equal(mode_of(dest, "sticky"), S_IFDIR | 0777);
}

/* ---- names that try to escape ----------------------------------------- */

static void assert_refused_name(const char *dir, const char *name, const char *escape)
{
	const struct raw_entry e[] = {{name, '0', 0644, "pwned", 5, NULL}};
	struct result res;
	extract_raw(dir, e, 1, NULL, &res);
	if (res.r >= 0)
		fail_msg("\"%s\" was extracted", name);
	assert_int_equal(res.err.code, res.r);
	assert_true(res.err.msg[0] != '\0');
	if (escape && exists(dir, escape))
		fail_msg("\"%s\" escaped to %s/%s", name, dir, escape);
	assert_true(dest_is_empty(dir));
}

static void extract_rejects_parent_traversal(void **state)
{
	assert_refused_name(*state, "../escaped", "escaped");
}

static void extract_rejects_nested_parent_traversal(void **state)
{
	assert_refused_name(*state, "a/../../escaped", "escaped");
}

static void extract_rejects_traversal_hidden_after_dot_segments(void **state)
{
	assert_refused_name(*state, "./a/./../../escaped", "escaped");
}

static void extract_rejects_any_dot_dot_component(void **state)
{
	assert_refused_name(*state, "a/..", NULL);
}

static void extract_rejects_absolute_paths(void **state)
{
	const char *dir = *state;
	/* An absolute name pointing into our temp dir, so an escape is
	 * harmless and visible. */
	char *abs = tl_own(tl_path(dir, "escaped"));
	if (strlen(abs) >= 100)
		skip();
	assert_refused_name(dir, abs, "escaped");
}

static void extract_rejects_backslash_names(void **state)
{
	assert_refused_name(*state, "..\\escaped", NULL);
}

static void extract_rejects_backslash_inside_a_name(void **state)
{
	assert_refused_name(*state, "deploy\\app.yaml", NULL);
}

/* A PAX "path" record (length counting itself, as formatPAXRecord). */
static char *pax_record(const char *key, const char *value)
{
	size_t size = strlen(key) + strlen(value) + 3;
	char digits[32];
	size += (size_t)snprintf(digits, sizeof(digits), "%zu", size);
	char *rec = NULL;
	if (asprintf(&rec, "%zu %s=%s\n", size, key, value) < 0)
		abort();
	if (strlen(rec) != size) {
		size = strlen(rec);
		free(rec);
		if (asprintf(&rec, "%zu %s=%s\n", size, key, value) < 0)
			abort();
	}
	return tl_own(rec);
}

/* The USTAR name looks harmless; the PAX record that overrides it does not. */
static void extract_rejects_traversal_hidden_in_a_pax_path(void **state)
{
	const char *dir = *state;
	const char *rec = pax_record("path", "../escaped");
	const struct raw_entry e[] = {
	    {"PaxHeaders.0/benign", 'x', 0644, rec, strlen(rec), NULL},
	    FILE_ENTRY("benign", "pwned"),
	};
	struct result res;
	extract_raw(dir, e, SL_ARRAY_SIZE(e), NULL, &res);
	assert_true(res.r < 0);
	assert_false(exists(dir, "escaped"));
	assert_true(dest_is_empty(dir));
}

static void extract_rejects_traversal_hidden_in_a_gnu_long_name(void **state)
{
	const char *dir = *state;
	const char *name = "../escaped";
	const struct raw_entry e[] = {
	    {"././@LongLink", 'L', 0644, name, strlen(name) + 1, NULL},
	    FILE_ENTRY("benign", "pwned"),
	};
	struct result res;
	extract_raw(dir, e, SL_ARRAY_SIZE(e), NULL, &res);
	assert_true(res.r < 0);
	assert_false(exists(dir, "escaped"));
	assert_true(dest_is_empty(dir));
}

static void extract_refuses_absurdly_deep_paths(void **state)
{
	const char *dir = *state;
	char deep[1024] = "";
	for (int i = 0; i < 200; i++)
		strcat(deep, "d/");
	strcat(deep, "f");
	const char *rec = pax_record("path", deep);
	const struct raw_entry e[] = {
	    {"PaxHeaders.0/f", 'x', 0644, rec, strlen(rec), NULL},
	    FILE_ENTRY("f", "deep"),
	};
	struct result res;
	extract_raw(dir, e, SL_ARRAY_SIZE(e), NULL, &res);
	assert_true(res.r < 0);
}

static void extract_rejects_an_entry_without_a_name(void **state)
{
	const struct raw_entry e[] = {FILE_ENTRY("", "anonymous")};
	struct result res;
	extract_raw(*state, e, 1, NULL, &res);
	assert_true(res.r < 0);
	assert_true(dest_is_empty(*state));
}

/* ---- entry types ------------------------------------------------------ */

static void extract_skips_symlinks_with_a_warning(void **state)
{
	const char *dir = *state;
	const struct raw_entry e[] = {
	    {"link", '2', 0777, NULL, 0, "/etc/passwd"},
	    FILE_ENTRY("after", "still here"),
	};
	struct result res;
	extract_raw(dir, e, SL_ARRAY_SIZE(e), NULL, &res);
	if (res.r != 0)
		fail_msg("extract: %s", res.err.msg);
	char *dest = tl_own(tl_path(dir, "dest"));
	assert_false(exists(dest, "link"));
	assert_int_equal(res.warn.count, 1);
	assert_non_null(strstr(res.warn.last, "link"));
	assert_file_content(dest, "after", "still here");
}

/* With the symlink skipped, a later entry through it lands in a real
 * directory inside the target, never at the link's destination. */
static void extract_never_writes_through_a_skipped_symlink(void **state)
{
	const char *dir = *state;
	char *outside = tl_own(tl_path(dir, "outside"));
	assert_int_equal(mkdir(outside, 0700), 0);
	const struct raw_entry e[] = {
	    {"evil", '2', 0777, NULL, 0, outside},
	    FILE_ENTRY("evil/x", "pwned"),
	};
	struct result res;
	extract_raw(dir, e, SL_ARRAY_SIZE(e), NULL, &res);
	assert_false(exists(outside, "x"));
	if (res.r != 0)
		fail_msg("extract: %s", res.err.msg);
	char *dest = tl_own(tl_path(dir, "dest"));
	assert_int_equal(mode_of(dest, "evil") & S_IFMT, S_IFDIR);
	assert_file_content(dest, "evil/x", "pwned");
}

static void assert_refused_type(const char *dir, const struct raw_entry *e, size_t n,
                                const char *not_created)
{
	struct result res;
	extract_raw(dir, e, n, NULL, &res);
	if (res.r >= 0)
		fail_msg("entry of type '%c' was accepted", e[n - 1].type);
	assert_int_equal(res.r, SL_EUNSUPPORTED);
	char *dest = tl_own(tl_path(dir, "dest"));
	assert_false(exists(dest, not_created));
}

static void extract_refuses_hard_links(void **state)
{
	const struct raw_entry e[] = {
	    FILE_ENTRY("target", "data"),
	    {"hard", '1', 0644, NULL, 0, "target"},
	};
	assert_refused_type(*state, e, SL_ARRAY_SIZE(e), "hard");
}

static void extract_refuses_hard_links_to_outside_paths(void **state)
{
	const struct raw_entry e[] = {{"hard", '1', 0644, NULL, 0, "/etc/passwd"}};
	assert_refused_type(*state, e, 1, "hard");
}

static void extract_refuses_character_devices(void **state)
{
	const struct raw_entry e[] = {{"null", '3', 0666, NULL, 0, NULL}};
	assert_refused_type(*state, e, 1, "null");
}

static void extract_refuses_block_devices(void **state)
{
	const struct raw_entry e[] = {{"sda", '4', 0660, NULL, 0, NULL}};
	assert_refused_type(*state, e, 1, "sda");
}

static void extract_refuses_fifos(void **state)
{
	const struct raw_entry e[] = {{"pipe", '6', 0644, NULL, 0, NULL}};
	assert_refused_type(*state, e, 1, "pipe");
}

/* ---- limits ----------------------------------------------------------- */

static void extract_stops_when_content_exceeds_max_total_bytes(void **state)
{
	const char *dir = *state;
	char data[600];
	memset(data, 'd', sizeof(data));
	const struct raw_entry e[] = {
	    {"one", '0', 0644, data, sizeof(data), NULL},
	    {"two", '0', 0644, data, sizeof(data), NULL},
	};
	const struct sl_extract_limits limits = {.max_total_bytes = 1000};
	struct result res;
	extract_raw(dir, e, SL_ARRAY_SIZE(e), &limits, &res);
	assert_int_equal(res.r, SL_ELIMIT);
	assert_non_null(strstr(res.err.msg, "1000"));
}

static void extract_allows_content_of_exactly_max_total_bytes(void **state)
{
	const char *dir = *state;
	char data[600];
	memset(data, 'd', sizeof(data));
	const struct raw_entry e[] = {
	    {"one", '0', 0644, data, sizeof(data), NULL},
	    {"two", '0', 0644, data, sizeof(data), NULL},
	};
	const struct sl_extract_limits limits = {.max_total_bytes = 1200};
	struct result res;
	extract_raw(dir, e, SL_ARRAY_SIZE(e), &limits, &res);
	if (res.r != 0)
		fail_msg("extract: %s", res.err.msg);
}

/* A single entry that declares more than the cap is refused even when
 * the cap falls inside its first read chunk. */
static void extract_refuses_one_file_larger_than_max_total_bytes(void **state)
{
	const char *dir = *state;
	char data[2048];
	memset(data, 'd', sizeof(data));
	const struct raw_entry e[] = {{"big", '0', 0644, data, sizeof(data), NULL}};
	const struct sl_extract_limits limits = {.max_total_bytes = 100};
	struct result res;
	extract_raw(dir, e, 1, &limits, &res);
	assert_int_equal(res.r, SL_ELIMIT);
}

static void extract_stops_past_max_entries(void **state)
{
	const char *dir = *state;
	const struct raw_entry e[] = {
	    FILE_ENTRY("a", "1"),
	    FILE_ENTRY("b", "2"),
	    FILE_ENTRY("c", "3"),
	};
	const struct sl_extract_limits limits = {.max_entries = 2};
	struct result res;
	extract_raw(dir, e, SL_ARRAY_SIZE(e), &limits, &res);
	assert_int_equal(res.r, SL_ELIMIT);
	char *dest = tl_own(tl_path(dir, "dest"));
	assert_false(exists(dest, "c"));
}

static void extract_allows_exactly_max_entries(void **state)
{
	const char *dir = *state;
	const struct raw_entry e[] = {
	    FILE_ENTRY("a", "1"),
	    FILE_ENTRY("b", "2"),
	    FILE_ENTRY("c", "3"),
	};
	const struct sl_extract_limits limits = {.max_entries = 3};
	struct result res;
	extract_raw(dir, e, SL_ARRAY_SIZE(e), &limits, &res);
	if (res.r != 0)
		fail_msg("extract: %s", res.err.msg);
}

/* Skipped symlinks still count as entries: a tarball of a million links
 * must not be free to read. */
static void extract_counts_skipped_symlinks_as_entries(void **state)
{
	const char *dir = *state;
	const struct raw_entry e[] = {
	    {"l1", '2', 0777, NULL, 0, "x"},
	    {"l2", '2', 0777, NULL, 0, "x"},
	    {"l3", '2', 0777, NULL, 0, "x"},
	};
	const struct sl_extract_limits limits = {.max_entries = 2};
	struct result res;
	extract_raw(dir, e, SL_ARRAY_SIZE(e), &limits, &res);
	assert_int_equal(res.r, SL_ELIMIT);
}

/* ---- conflicting entries ---------------------------------------------- */

static void extract_fails_on_a_dir_where_a_file_was(void **state)
{
	const char *dir = *state;
	const struct raw_entry e[] = {
	    FILE_ENTRY("x", "file"),
	    {"x", '5', 0755, NULL, 0, NULL},
	};
	struct result res;
	extract_raw(dir, e, SL_ARRAY_SIZE(e), NULL, &res);
	assert_true(res.r < 0);
	char *dest = tl_own(tl_path(dir, "dest"));
	assert_int_equal(mode_of(dest, "x") & S_IFMT, S_IFREG);
}

static void extract_fails_on_a_file_below_a_file(void **state)
{
	const char *dir = *state;
	const struct raw_entry e[] = {
	    FILE_ENTRY("x", "file"),
	    FILE_ENTRY("x/y", "child"),
	};
	struct result res;
	extract_raw(dir, e, SL_ARRAY_SIZE(e), NULL, &res);
	assert_true(res.r < 0);
}

static void extract_fails_on_a_file_where_a_dir_was(void **state)
{
	const char *dir = *state;
	const struct raw_entry e[] = {
	    {"x", '5', 0755, NULL, 0, NULL},
	    FILE_ENTRY("x", "file"),
	};
	struct result res;
	extract_raw(dir, e, SL_ARRAY_SIZE(e), NULL, &res);
	assert_true(res.r < 0);
	char *dest = tl_own(tl_path(dir, "dest"));
	assert_int_equal(mode_of(dest, "x") & S_IFMT, S_IFDIR);
}

static void extract_later_file_replaces_an_earlier_one(void **state)
{
	const char *dir = *state;
	const struct raw_entry e[] = {
	    FILE_ENTRY("x", "first, longer content"),
	    FILE_ENTRY("x", "second"),
	};
	struct result res;
	extract_raw(dir, e, SL_ARRAY_SIZE(e), NULL, &res);
	if (res.r != 0)
		fail_msg("extract: %s", res.err.msg);
	char *dest = tl_own(tl_path(dir, "dest"));
	assert_file_content(dest, "x", "second");
}

/* ---- not a gzip tarball ----------------------------------------------- */

static void extract_rejects_text_input(void **state)
{
	const char *text = "apiVersion: v1\nkind: ConfigMap\n";
	struct result res;
	extract_bytes(*state, text, strlen(text), NULL, &res);
	assert_int_equal(res.r, SL_EINVAL);
	assert_true(dest_is_empty(*state));
}

static void extract_rejects_an_uncompressed_tarball(void **state)
{
	const struct raw_entry e[] = {FILE_ENTRY("plain", "not gzipped")};
	size_t len = 0;
	unsigned char *tar = tl_own(raw_tar(e, 1, &len));
	struct result res;
	extract_bytes(*state, tar, len, NULL, &res);
	assert_int_equal(res.r, SL_EINVAL);
	assert_true(dest_is_empty(*state));
}

/* Flux: gzip.NewReader fails with "requires gzip-compressed body" whatever
 * the tar inside would have been. */
static void extract_rejects_an_uncompressed_empty_tarball(void **state)
{
	unsigned char zeros[2 * BLOCK] = {0};
	struct result res;
	extract_bytes(*state, zeros, sizeof(zeros), NULL, &res);
	assert_int_equal(res.r, SL_EINVAL);
}

static void extract_rejects_empty_input(void **state)
{
	struct result res;
	extract_bytes(*state, "", 0, NULL, &res);
	assert_int_equal(res.r, SL_EINVAL);
}

static void extract_rejects_a_truncated_tarball(void **state)
{
	char data[4096];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + i / 13);
	const struct raw_entry e[] = {{"f", '0', 0644, data, sizeof(data), NULL}};
	size_t tar_len = 0, gz_len = 0;
	unsigned char *tar = tl_own(raw_tar(e, 1, &tar_len));
	unsigned char *gz = tl_own(tl_gzip(tar, tar_len, &gz_len));
	struct result res;
	extract_bytes(*state, gz, gz_len / 2, NULL, &res);
	assert_true(res.r < 0);
}

static void extract_rejects_a_missing_destination(void **state)
{
	const char *dir = *state;
	char *missing = tl_own(tl_path(dir, "missing"));
	const struct raw_entry e[] = {FILE_ENTRY("a", "1")};
	size_t tar_len = 0, gz_len = 0;
	unsigned char *tar = tl_own(raw_tar(e, 1, &tar_len));
	unsigned char *gz = tl_own(tl_gzip(tar, tar_len, &gz_len));
	int fd = input_fd(dir, gz, gz_len);
	struct sl_error err = {0};
	int r = sl_tar_extract(fd, missing, NULL, NULL, NULL, &err);
	close(fd);
	assert_int_equal(r, SL_EIO);
	assert_false(exists(dir, "missing"));
}

static void is_gzip_file_checks_the_magic_bytes(void **state)
{
	const char *dir = *state;
	char *gz = tl_own(tl_path(dir, "a.gz"));
	char *txt = tl_own(tl_path(dir, "a.txt"));
	char *one = tl_own(tl_path(dir, "one"));
	tl_write_file(gz, "\x1f\x8b\x08\x00", 4);
	tl_write_file(txt, "hello", 5);
	tl_write_file(one, "\x1f", 1);
	assert_true(sl_is_gzip_file(gz));
	assert_false(sl_is_gzip_file(txt));
	assert_false(sl_is_gzip_file(one));
	char *missing = tl_own(tl_path(dir, "missing"));
	assert_false(sl_is_gzip_file(missing));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tl_setup_tmpdir, tl_teardown_tmpdir)
	const struct CMUnitTest tests[] = {
	    T(extract_writes_files_and_dirs_with_their_modes),
	    T(extract_reads_pax_long_and_non_ascii_names),
	    T(extract_accepts_dot_slash_prefixed_names),
	    T(extract_directories_always_keep_owner_rwx),
	    T(extract_drops_setuid_setgid_and_sticky_bits),
	    T(extract_rejects_parent_traversal),
	    T(extract_rejects_nested_parent_traversal),
	    T(extract_rejects_traversal_hidden_after_dot_segments),
	    T(extract_rejects_any_dot_dot_component),
	    T(extract_rejects_absolute_paths),
	    T(extract_rejects_backslash_names),
	    T(extract_rejects_backslash_inside_a_name),
	    T(extract_rejects_traversal_hidden_in_a_pax_path),
	    T(extract_rejects_traversal_hidden_in_a_gnu_long_name),
	    T(extract_refuses_absurdly_deep_paths),
	    T(extract_rejects_an_entry_without_a_name),
	    T(extract_skips_symlinks_with_a_warning),
	    T(extract_never_writes_through_a_skipped_symlink),
	    T(extract_refuses_hard_links),
	    T(extract_refuses_hard_links_to_outside_paths),
	    T(extract_refuses_character_devices),
	    T(extract_refuses_block_devices),
	    T(extract_refuses_fifos),
	    T(extract_stops_when_content_exceeds_max_total_bytes),
	    T(extract_allows_content_of_exactly_max_total_bytes),
	    T(extract_refuses_one_file_larger_than_max_total_bytes),
	    T(extract_stops_past_max_entries),
	    T(extract_allows_exactly_max_entries),
	    T(extract_counts_skipped_symlinks_as_entries),
	    T(extract_fails_on_a_dir_where_a_file_was),
	    T(extract_fails_on_a_file_below_a_file),
	    T(extract_fails_on_a_file_where_a_dir_was),
	    T(extract_later_file_replaces_an_earlier_one),
	    T(extract_rejects_text_input),
	    T(extract_rejects_an_uncompressed_tarball),
	    T(extract_rejects_an_uncompressed_empty_tarball),
	    T(extract_rejects_empty_input),
	    T(extract_rejects_a_truncated_tarball),
	    T(extract_rejects_a_missing_destination),
	    T(is_gzip_file_checks_the_magic_bytes),
	};
#undef T
	return cmocka_run_group_tests_name("extract", tests, NULL, NULL);
}
