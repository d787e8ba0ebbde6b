/* sl_tar_extract on an arbitrary byte stream. Whatever the archive says,
 * nothing may land outside the destination, no symlink or special file may
 * appear, and the bytes written stay under the cap.
 *
 * Layout, created once per process in $TMPDIR:
 *   base/in-XXXXXX/root   <- dest_dir for one input
 * so an entry escaping by one or two levels shows up as an extra name in
 * in-XXXXXX or in base, which are checked after every input. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zlib.h>

#include "codec/codec.h"
#include "fuzz.h"

#define LIMIT_BYTES   (1024 * 1024)
#define LIMIT_ENTRIES 1000

static int input_fd = -1;
static char *base_dir;

static void remove_base(void)
{
	if (base_dir)
		sl_rm_rf(base_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	input_fd = memfd_create("fuzz-extract-input", MFD_CLOEXEC);
	if (input_fd < 0) {
		perror("memfd_create");
		abort();
	}
	struct sl_error err = {0};
	if (sl_mkdtemp("sluice-fuzz-extract", &base_dir, &err) < 0) {
		fprintf(stderr, "fuzz: %s\n", err.msg);
		abort();
	}
	atexit(remove_base);
	return 0;
}

static void warn(void *userdata, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	++*(int *)userdata;
}

/* Asserts that dir holds exactly one entry, named only. */
static void check_only_entry(const char *dir, const char *only)
{
	DIR *d = opendir(dir);
	FUZZ_CHECK(d != NULL);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strcmp(de->d_name, only) != 0)
			fprintf(stderr, "fuzz: unexpected entry %s/%s\n", dir, de->d_name);
		FUZZ_CHECK(strcmp(de->d_name, only) == 0);
		n++;
	}
	closedir(d);
	FUZZ_CHECK(n == 1);
}

/* Walks the extracted tree without following anything; returns the sum of
 * regular file sizes. */
static uint64_t check_tree(int dir_fd, int depth)
{
	FUZZ_CHECK(depth < 200);
	DIR *d = fdopendir(dir_fd);
	FUZZ_CHECK(d != NULL);
	uint64_t total = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct stat st;
		FUZZ_CHECK(fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0);
		if (S_ISREG(st.st_mode)) {
			FUZZ_CHECK(st.st_nlink == 1); /* no hard links */
			total += (uint64_t)st.st_size;
		} else {
			/* only files and directories: no symlink, device, FIFO */
			FUZZ_CHECK(S_ISDIR(st.st_mode));
			int sub = openat(dirfd(d), de->d_name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			FUZZ_CHECK(sub >= 0);
			total += check_tree(sub, depth + 1);
		}
	}
	closedir(d);
	return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4 * 1024 * 1024)
		return 0;
	fuzz_write_tar_input(input_fd, data, size);

	_cleanup_free_ char *dir = sl_asprintf("%s/in-XXXXXX", base_dir);
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	_cleanup_free_ char *root = sl_asprintf("%s/root", dir);
	FUZZ_CHECK(mkdir(root, 0700) == 0);

	struct sl_extract_limits limits = {.max_total_bytes = LIMIT_BYTES,
	                                   .max_entries = LIMIT_ENTRIES};
	struct sl_error err = {0};
	int warnings = 0;
	int r = sl_tar_extract(input_fd, root, &limits, warn, &warnings, &err);
	if (r < 0)
		FUZZ_CHECK_ERROR(r, err);
	else
		FUZZ_CHECK(r == 0);

	check_only_entry(base_dir, strrchr(dir, '/') + 1);
	check_only_entry(dir, "root");
	int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	FUZZ_CHECK(root_fd >= 0);
	FUZZ_CHECK(check_tree(root_fd, 0) <= LIMIT_BYTES);

	FUZZ_CHECK(sl_rm_rf(dir) == 0);
	FUZZ_CHECK(access(dir, F_OK) < 0 && errno == ENOENT);
	return 0;
}
