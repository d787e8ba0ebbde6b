/* sl_storage_repack both ways on an arbitrary byte stream: from memory and
 * through a temp directory on disk. The memory path must either leave a
 * layer to the disk or make the very bytes the disk makes; the two must
 * agree on success or failure too.
 *
 * Inputs go in as fuzz_extract's do (fuzz_write_tar_input). */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <zlib.h>

#include "codec/codec.h"
#include "controller/storage.h"
#include "fuzz.h"

#define LIMIT_BYTES   (1024 * 1024)
#define LIMIT_ENTRIES 1000
#define FILE_DISK     "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd.tar.gz"
#define FILE_MEMORY   "sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.tar.gz"

static int input_fd = -1;
static char *base_dir;
static struct sl_storage *storage;
static struct sl_storage_dir *dir;

static void cleanup(void)
{
	sl_storage_unlock(dir);
	sl_storage_free(storage);
	if (base_dir)
		sl_rm_rf(base_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	input_fd = memfd_create("fuzz-repack-input", MFD_CLOEXEC);
	FUZZ_CHECK(input_fd >= 0);
	struct sl_error err = {0};
	if (sl_mkdtemp("sluice-fuzz-repack", &base_dir, &err) < 0) {
		fprintf(stderr, "fuzz: %s\n", err.msg);
		abort();
	}
	/* The disk path's temp directories go below base_dir too. */
	setenv("TMPDIR", base_dir, 1);
	_cleanup_free_ char *root = sl_asprintf("%s/data", base_dir);
	FUZZ_CHECK(mkdir(root, 0700) == 0);
	struct sl_storage_opts o = {
	    .path = root, .retention_ttl_ms = 60000, .retention_records = 2};
	FUZZ_CHECK(sl_storage_new(&o, &storage, &err) == 0);
	FUZZ_CHECK(sl_storage_lock(storage, "ocirepository", "fuzz", "repack", true, &dir, &err) ==
	           0);
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 2 * 1024 * 1024)
		return 0;
	fuzz_write_tar_input(input_fd, data, size);
	const char *spec_ignore = size && data[size - 1] & 1 ? "*.yaml\n!keep/**\n" : NULL;
	struct sl_repack_opts disk = {
	    .ignore = spec_ignore,
	    .limits = {.max_total_bytes = LIMIT_BYTES, .max_entries = LIMIT_ENTRIES},
	    .on_disk = true,
	};
	bool in_memory = false;
	struct sl_repack_opts memory = disk;
	memory.on_disk = false;
	memory.ret_in_memory = &in_memory;

	struct sl_artifact a = {0}, b = {0};
	struct sl_error err_a = {0}, err_b = {0};
	int ra = sl_storage_repack(dir, FILE_DISK, input_fd, &disk, &a, &err_a);
	FUZZ_CHECK(lseek(input_fd, 0, SEEK_SET) == 0);
	int rb = sl_storage_repack(dir, FILE_MEMORY, input_fd, &memory, &b, &err_b);
	if ((ra < 0) != (rb < 0))
		fprintf(stderr, "fuzz: disk %d (%s), memory %d (%s, in memory %d)\n", ra, err_a.msg,
		        rb, err_b.msg, in_memory);
	FUZZ_CHECK((ra < 0) == (rb < 0));
	if (ra == 0) {
		if (strcmp(a.digest, b.digest) != 0)
			fprintf(stderr, "fuzz: disk %s, memory %s (in memory %d)\n", a.digest,
			        b.digest, in_memory);
		FUZZ_CHECK(strcmp(a.digest, b.digest) == 0);
		FUZZ_CHECK(a.size == b.size);
	} else {
		/* A failure is always the disk path's own. */
		FUZZ_CHECK(!in_memory);
	}
	sl_artifact_clear(&a);
	sl_artifact_clear(&b);
	struct sl_error err = {0};
	_cleanup_free_ char *pa = sl_asprintf("%s/" FILE_DISK, sl_storage_dir_path(dir));
	_cleanup_free_ char *pb = sl_asprintf("%s/" FILE_MEMORY, sl_storage_dir_path(dir));
	sl_storage_remove(storage, pa, &err);
	sl_storage_remove(storage, pb, &err);
	return 0;
}
