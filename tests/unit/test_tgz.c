/* The tar+gzip writer: Go archive/tar's header layout as Flux produces it
 * (spec §3.4), Go's gzip header, determinism, and the digest it reports.
 * Reference hashes of whole tar streams were produced with Go 1.26's
 * archive/tar writing the same entries with Flux's sanitised headers
 * (uid/gid 0, no user/group names, zero mtime, permission bits only). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "codec/codec.h"
#include "testlib.h"

#define BLOCK 512

struct entry {
	const char *name;
	mode_t mode;
	bool is_dir;
	const char *data; /* NULL for directories */
	size_t len;
};

struct built {
	unsigned char *gz;
	size_t gz_len;
	unsigned char *tar;
	size_t tar_len;
	uint64_t size;
	char digest[SL_DIGEST_STR_LEN];
};

/* The buffers belong to the fixture (tl_own); this only forgets them. */
static void built_free(struct built *b)
{
	*b = (struct built){0};
}

/* Writes entries with sl_tgz_writer into <dir>/<out>, then reads the file
 * back and inflates it. */
static void build(const char *dir, const char *out, const struct entry *e, size_t n,
                  struct built *ret)
{
	struct sl_error err = {0};
	char *path = tl_own(tl_path(dir, out));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	struct sl_tgz_writer *w = NULL;
	if (sl_tgz_writer_new(fd, &w, &err) < 0)
		fail_msg("sl_tgz_writer_new: %s", err.msg);
	for (size_t i = 0; i < n; i++) {
		int r;
		if (e[i].is_dir) {
			r = sl_tgz_add_dir(w, e[i].name, e[i].mode, &err);
		} else {
			char *src = tl_own(tl_path(dir, "src"));
			tl_write_file(src, e[i].data, e[i].len);
			int sfd = open(src, O_RDONLY | O_CLOEXEC);
			assert_true(sfd >= 0);
			r = sl_tgz_add_file(w, e[i].name, e[i].mode, sfd, e[i].len, &err);
			close(sfd);
		}
		if (r < 0)
			fail_msg("adding %s: %s", e[i].name, err.msg);
	}
	if (sl_tgz_finish(w, &ret->size, ret->digest, &err) < 0)
		fail_msg("sl_tgz_finish: %s", err.msg);
	sl_tgz_writer_free(w);
	close(fd);
	ret->gz = tl_own(tl_read_file(path, &ret->gz_len));
	assert_non_null(ret->gz);
	ret->tar = tl_own(tl_gunzip(ret->gz, ret->gz_len, &ret->tar_len));
	if (!ret->tar)
		fail_msg("output is not one complete gzip member");
}

/* The portable SHA-256: a second implementation beside the OpenSSL one the
 * writer hashes with, so the two check each other. */
static void sha256_hex(const void *data, size_t len, char out[65])
{
	char digest[SL_DIGEST_STR_LEN];
	sl_sha256_portable(data, len, digest);
	memcpy(out, digest + 7, 65);
}

/* n copies of c, owned by the fixture. */
static char *repeat(char c, size_t n)
{
	char *s = tl_own(malloc(n + 1));
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* The checksum field as Go writes it for this block. */
static void expected_checksum(const unsigned char *blk, char out[8])
{
	unsigned sum = 0;
	for (int i = 0; i < BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : blk[i];
	char tmp[16];
	snprintf(tmp, sizeof(tmp), "%06o", sum);
	memcpy(out, tmp, 6);
	out[6] = '\0';
	out[7] = ' ';
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Asserts the header fields every entry shares: uid, gid, mtime, empty
 * linkname/uname/gname, magic, devmajor/devminor and checksum. */
static void assert_common_ustar_fields(const unsigned char *blk)
{
	assert_memory_equal(blk + 108, "0000000\0", 8);      /* uid */
	assert_memory_equal(blk + 116, "0000000\0", 8);      /* gid */
	assert_memory_equal(blk + 136, "00000000000\0", 12); /* mtime */
	assert_true(all_zero(blk + 157, 100));               /* linkname */
	assert_memory_equal(blk + 257, "ustar\0", 6);
	assert_memory_equal(blk + 263, "00", 2);
	assert_true(all_zero(blk + 265, 32));           /* uname */
	assert_true(all_zero(blk + 297, 32));           /* gname */
	assert_memory_equal(blk + 329, "0000000\0", 8); /* devmajor */
	assert_memory_equal(blk + 337, "0000000\0", 8); /* devminor */
	char sum[8];
	expected_checksum(blk, sum);
	assert_memory_equal(blk + 148, sum, 8);
}

/* ---- whole-stream equality with Go ------------------------------------ */

static void tgz_stream_is_byte_identical_to_go_archive_tar(void **state)
{
	char *n100 = repeat('n', 100);
	char *a60 = repeat('a', 60), *b60 = repeat('b', 60), *c50 = repeat('c', 50);
	char *x150 = repeat('x', 150), *a89 = repeat('a', 89);
	char *d512 = repeat('5', 512), *d513 = repeat('6', 513);
	char split_name[256], long_name[256], pax_name[256];
	snprintf(split_name, sizeof(split_name), "%s/%s/%s", a60, b60, c50);
	snprintf(long_name, sizeof(long_name), "d/%s", x150);
	snprintf(pax_name, sizeof(pax_name), "\xc3\xa9%s", a89);
	const struct entry entries[] = {
	    {".", S_IFDIR | 0755, true, NULL, 0},
	    {"deploy", S_IFDIR | 0750, true, NULL, 0},
	    {"deploy/app.yaml", S_IFREG | 0644, false, "hello\n", 6},
	    {"bin/tool", S_IFREG | 04755, false, "x", 1},
	    {"tmp", S_IFDIR | 01777, true, NULL, 0},
	    {n100, S_IFREG | 0600, false, "", 0},
	    {split_name, S_IFREG | 0644, false, "abc", 3},
	    {"deploy/caf\xc3\xa9.yaml", S_IFREG | 0644, false, "\xc3\xa9\n", 3},
	    {long_name, S_IFREG | 0644, false, "z", 1},
	    {pax_name, S_IFREG | 0644, false, "", 0},
	    {"big512", S_IFREG | 0644, false, d512, 512},
	    {"big513", S_IFREG | 0644, false, d513, 513},
	};
	struct built b = {0};
	build(*state, "all.tgz", entries, SL_ARRAY_SIZE(entries), &b);
	char hex[65];
	sha256_hex(b.tar, b.tar_len, hex);
	assert_int_equal(b.tar_len, 14336);
	assert_string_equal(hex,
	                    "8da8af1a83e5b419776fc7865f9e9cd859fae6325be31ed8f733d7f1bedcd52c");
	built_free(&b);
}

/* Where USTAR's prefix/name split works and where Go falls back to PAX:
 * prefix of exactly 155, a '/' just past the 156-byte window, a base of
 * exactly 100 and of 101, a long name without '/', many short segments. */
static void tgz_ustar_split_boundaries_match_go(void **state)
{
	char names[6][300];
	snprintf(names[0], 300, "%s/%s", repeat('p', 155), repeat('n', 100));
	snprintf(names[1], 300, "%s/%s", repeat('p', 156), repeat('n', 10));
	snprintf(names[2], 300, "%s/%s", repeat('p', 50), repeat('n', 100));
	snprintf(names[3], 300, "%s/%s", repeat('p', 50), repeat('n', 101));
	snprintf(names[4], 300, "%s", repeat('q', 101));
	names[5][0] = '\0';
	for (int i = 0; i < 60; i++)
		strcat(names[5], "a/");
	strcat(names[5], "z");
	struct entry e[6];
	for (int i = 0; i < 6; i++) {
		static const char digits[] = "012345";
		e[i] = (struct entry){names[i], S_IFREG | 0644, false, digits + i, 1};
	}
	struct built b = {0};
	build(*state, "b.tgz", e, 6, &b);
	char hex[65];
	sha256_hex(b.tar, b.tar_len, hex);
	assert_int_equal(b.tar_len, 10240);
	assert_string_equal(hex,
	                    "0059ea7ed9a3c5f4c17d83da57b83456e27da77654af582dece01ba99fa1209f");
	built_free(&b);
}

/* ---- gzip framing ----------------------------------------------------- */

static void tgz_gzip_header_is_gos(void **state)
{
	const struct entry e[] = {{"f", S_IFREG | 0644, false, "data", 4}};
	struct built b = {0};
	build(*state, "a.tgz", e, 1, &b);
	static const unsigned char go_header[10] = {0x1f, 0x8b, 0x08, 0x00, 0x00,
	                                            0x00, 0x00, 0x00, 0x00, 0xff};
	assert_true(b.gz_len > 18);
	assert_memory_equal(b.gz, go_header, sizeof(go_header));
	built_free(&b);
}

static void tgz_gzip_trailer_holds_crc32_and_length_of_the_tar(void **state)
{
	const struct entry e[] = {{"f", S_IFREG | 0644, false, "data", 4}};
	struct built b = {0};
	build(*state, "a.tgz", e, 1, &b); /* tl_gunzip already verified one member */
	uint32_t crc = (uint32_t)crc32(crc32(0, NULL, 0), b.tar, (uInt)b.tar_len);
	const unsigned char *t = b.gz + b.gz_len - 8;
	uint32_t got_crc =
	    (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
	uint32_t got_len =
	    (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 | (uint32_t)t[7] << 24;
	assert_int_equal(got_crc, crc);
	assert_int_equal(got_len, (uint32_t)b.tar_len);
	built_free(&b);
}

/* ---- USTAR headers ---------------------------------------------------- */

static void tgz_file_header_follows_go_ustar_layout(void **state)
{
	const struct entry e[] = {{"deploy/app.yaml", S_IFREG | 0644, false, "hello\n", 6}};
	struct built b = {0};
	build(*state, "a.tgz", e, 1, &b);
	const unsigned char *h = b.tar;
	assert_memory_equal(h, "deploy/app.yaml\0", 16);
	assert_true(all_zero(h + 16, 100 - 16));
	assert_memory_equal(h + 100, "0000644\0", 8);
	assert_memory_equal(h + 124, "00000000006\0", 12);
	assert_int_equal(h[156], '0');
	assert_common_ustar_fields(h);
	assert_true(all_zero(h + 345, 155)); /* no prefix */
	assert_true(all_zero(h + 500, 12));
	/* data, NUL-padded to the block */
	assert_memory_equal(h + BLOCK, "hello\n", 6);
	assert_true(all_zero(h + BLOCK + 6, BLOCK - 6));
	built_free(&b);
}

static void tgz_dir_header_has_typeflag_5_and_size_zero(void **state)
{
	const struct entry e[] = {{".", S_IFDIR | 0755, true, NULL, 0}};
	struct built b = {0};
	build(*state, "a.tgz", e, 1, &b);
	const unsigned char *h = b.tar;
	assert_memory_equal(h, ".\0", 2);
	assert_memory_equal(h + 100, "0000755\0", 8);
	assert_memory_equal(h + 124, "00000000000\0", 12);
	assert_int_equal(h[156], '5');
	assert_common_ustar_fields(h);
	/* header, then straight to the trailer */
	assert_int_equal(b.tar_len, 3 * BLOCK);
	built_free(&b);
}

static void tgz_mode_keeps_permission_and_special_bits_only(void **state)
{
	const struct entry e[] = {
	    {"suid", S_IFREG | 04755, false, "", 0},
	    {"sgid", S_IFREG | 02711, false, "", 0},
	    {"sticky", S_IFDIR | 01777, true, NULL, 0},
	    {"private", S_IFREG | 0600, false, "", 0},
	};
	struct built b = {0};
	build(*state, "a.tgz", e, SL_ARRAY_SIZE(e), &b);
	assert_memory_equal(b.tar + 0 * BLOCK + 100, "0004755\0", 8);
	assert_memory_equal(b.tar + 1 * BLOCK + 100, "0002711\0", 8);
	assert_memory_equal(b.tar + 2 * BLOCK + 100, "0001777\0", 8);
	assert_memory_equal(b.tar + 3 * BLOCK + 100, "0000600\0", 8);
	built_free(&b);
}

static void tgz_file_data_is_padded_to_whole_blocks(void **state)
{
	char *d512 = repeat('5', 512), *d513 = repeat('6', 513);
	const struct entry e[] = {
	    {"empty", S_IFREG | 0644, false, "", 0},
	    {"exact", S_IFREG | 0644, false, d512, 512},
	    {"over", S_IFREG | 0644, false, d513, 513},
	};
	struct built b = {0};
	build(*state, "a.tgz", e, SL_ARRAY_SIZE(e), &b);
	/* empty: header only; exact: header + 1 block; over: header + 2 blocks */
	assert_memory_equal(b.tar + 0 * BLOCK, "empty\0", 6);
	assert_memory_equal(b.tar + 1 * BLOCK, "exact\0", 6);
	assert_memory_equal(b.tar + 3 * BLOCK, "over\0", 5);
	assert_memory_equal(b.tar + 3 * BLOCK + 124, "00000001001\0", 12);
	assert_int_equal(b.tar[4 * BLOCK + 512], '6');
	assert_true(all_zero(b.tar + 5 * BLOCK + 1, BLOCK - 1));
	assert_int_equal(b.tar_len, 6 * BLOCK + 2 * BLOCK);
	built_free(&b);
}

static void tgz_trailer_is_exactly_two_zero_blocks(void **state)
{
	struct built b = {0};
	build(*state, "empty.tgz", NULL, 0, &b);
	/* Go's tar.Writer.Close on an empty archive: 1024 zero bytes, no
	 * padding to a 10 KiB record. */
	assert_int_equal(b.tar_len, 2 * BLOCK);
	assert_true(all_zero(b.tar, b.tar_len));
	built_free(&b);

	const struct entry e[] = {{"f", S_IFREG | 0644, false, "1", 1}};
	build(*state, "one.tgz", e, 1, &b);
	assert_int_equal(b.tar_len, 4 * BLOCK);
	assert_true(all_zero(b.tar + 2 * BLOCK, 2 * BLOCK));
	built_free(&b);
}

static void tgz_name_of_100_bytes_fills_the_field_without_nul(void **state)
{
	char *n100 = repeat('n', 100);
	const struct entry e[] = {{n100, S_IFREG | 0644, false, "", 0}};
	struct built b = {0};
	build(*state, "a.tgz", e, 1, &b);
	assert_int_equal(b.tar[156], '0'); /* a plain USTAR entry, no PAX header */
	assert_memory_equal(b.tar, n100, 100);
	assert_memory_equal(b.tar + 100, "0000644\0", 8);
	assert_true(all_zero(b.tar + 345, 155));
	built_free(&b);
}

static void tgz_long_ascii_path_splits_into_ustar_prefix(void **state)
{
	char *a60 = repeat('a', 60), *b60 = repeat('b', 60), *c50 = repeat('c', 50);
	char name[256];
	snprintf(name, sizeof(name), "%s/%s/%s", a60, b60, c50); /* 172 bytes */
	const struct entry e[] = {{name, S_IFREG | 0644, false, "abc", 3}};
	struct built b = {0};
	build(*state, "a.tgz", e, 1, &b);
	const unsigned char *h = b.tar;
	assert_int_equal(h[156], '0');
	/* split at the last '/' within the first 156 bytes */
	assert_memory_equal(h, c50, 50);
	assert_int_equal(h[50], 0);
	assert_memory_equal(h + 345, name, 121);
	assert_int_equal(h[345 + 121], 0);
	assert_common_ustar_fields(h);
	assert_int_equal(b.tar_len, 2 * BLOCK + 2 * BLOCK);
	built_free(&b);
}

/* ---- PAX headers ------------------------------------------------------ */

/* Checks the 'x' header at blk for a record of record_len bytes. */
static void assert_pax_header(const unsigned char *blk, const char *name, size_t record_len)
{
	size_t nlen = strlen(name);
	assert_memory_equal(blk, name, nlen);
	if (nlen < 100)
		assert_int_equal(blk[nlen], 0);
	assert_memory_equal(blk + 100, "0000000\0", 8);
	assert_memory_equal(blk + 108, "0000000\0", 8);
	assert_memory_equal(blk + 116, "0000000\0", 8);
	char size[12];
	snprintf(size, sizeof(size), "%011zo", record_len);
	assert_memory_equal(blk + 124, size, 12);
	assert_memory_equal(blk + 136, "00000000000\0", 12);
	assert_int_equal(blk[156], 'x');
	assert_true(all_zero(blk + 157, 100));
	assert_memory_equal(blk + 257,
	                    "ustar\0"
	                    "00",
	                    8);
	assert_true(all_zero(blk + 265, BLOCK - 265)); /* names, devices, prefix all NUL */
	char sum[8];
	expected_checksum(blk, sum);
	assert_memory_equal(blk + 148, sum, 8);
}

static void tgz_non_ascii_name_gets_a_pax_header(void **state)
{
	const char *name = "deploy/caf\xc3\xa9.yaml";
	const struct entry e[] = {{name, S_IFREG | 0644, false, "\xc3\xa9\n", 3}};
	struct built b = {0};
	build(*state, "a.tgz", e, 1, &b);
	char record[400];
	snprintf(record, sizeof(record), "26 path=%s\n", name);
	assert_int_equal(strlen(record), 26);
	/* <dir>/PaxHeaders.0/<base>, made ASCII */
	assert_pax_header(b.tar, "deploy/PaxHeaders.0/caf.yaml", 26);
	assert_memory_equal(b.tar + BLOCK, record, 26);
	assert_true(all_zero(b.tar + BLOCK + 26, BLOCK - 26));
	/* the main header carries the name with non-ASCII stripped */
	const unsigned char *h = b.tar + 2 * BLOCK;
	assert_memory_equal(h, "deploy/caf.yaml\0", 16);
	assert_memory_equal(h + 100, "0000644\0", 8);
	assert_memory_equal(h + 124, "00000000003\0", 12);
	assert_int_equal(h[156], '0');
	assert_common_ustar_fields(h);
	assert_memory_equal(b.tar + 3 * BLOCK, "\xc3\xa9\n", 3);
	assert_int_equal(b.tar_len, 4 * BLOCK + 2 * BLOCK);
	built_free(&b);
}

static void tgz_unsplittable_long_name_gets_a_pax_header(void **state)
{
	char *x150 = repeat('x', 150);
	char name[256];
	snprintf(name, sizeof(name), "d/%s", x150); /* the base alone exceeds 100 */
	const struct entry e[] = {{name, S_IFREG | 0644, false, "z", 1}};
	struct built b = {0};
	build(*state, "a.tgz", e, 1, &b);
	/* "d/PaxHeaders.0/xxx..." cut to 100 bytes */
	char hdr_name[101];
	snprintf(hdr_name, sizeof(hdr_name), "d/PaxHeaders.0/%s", x150);
	assert_pax_header(b.tar, hdr_name, 162);
	char record[400];
	snprintf(record, sizeof(record), "162 path=%s\n", name);
	assert_int_equal(strlen(record), 162);
	assert_memory_equal(b.tar + BLOCK, record, 162);
	/* main header: the first 100 bytes of the name */
	assert_memory_equal(b.tar + 2 * BLOCK, name, 100);
	assert_int_equal(b.tar[2 * BLOCK + 156], '0');
	built_free(&b);
}

static void tgz_pax_record_length_counts_its_own_digits(void **state)
{
	/* "path" + 91-byte value + 3 = 98; adding two digits makes 100, whose
	 * three digits make the record 101 bytes long (Go's formatPAXRecord). */
	char *a89 = repeat('a', 89);
	char name[128];
	snprintf(name, sizeof(name), "\xc3\xa9%s", a89);
	assert_int_equal(strlen(name), 91);
	const struct entry e[] = {{name, S_IFREG | 0644, false, "", 0}};
	struct built b = {0};
	build(*state, "a.tgz", e, 1, &b);
	char record[400];
	snprintf(record, sizeof(record), "101 path=%s\n", name);
	assert_int_equal(strlen(record), 101);
	assert_memory_equal(b.tar + 124, "00000000145\0", 12); /* 101 in octal */
	assert_memory_equal(b.tar + BLOCK, record, 101);
	built_free(&b);
}

/* Go's formatString: when a cut name ends in '/', the slash (and any run
 * of slashes before it) becomes NUL so old readers do not see a directory. */
static void tgz_pax_main_header_drops_trailing_slash_of_cut_name(void **state)
{
	char *a99 = repeat('a', 99);
	char name[256];
	snprintf(name, sizeof(name), "\xc3\xa9%s/bbbb", a99);
	const struct entry e[] = {{name, S_IFREG | 0644, false, "q", 1}};
	struct built b = {0};
	build(*state, "a.tgz", e, 1, &b);
	const unsigned char *h = b.tar + 2 * BLOCK; /* after 'x' header + record */
	assert_memory_equal(h, a99, 99);
	assert_int_equal(h[99], 0);
	char hex[65];
	sha256_hex(b.tar, b.tar_len, hex);
	assert_string_equal(hex,
	                    "28bd664ac1933922fb7146ddac363a23d35cda20afb3957805784caea8f9c0f1");
	built_free(&b);
}

/* ---- determinism and the reported digest ------------------------------ */

static const struct entry sample[] = {
    {".", S_IFDIR | 0755, true, NULL, 0},
    {"deploy", S_IFDIR | 0755, true, NULL, 0},
    {"deploy/app.yaml", S_IFREG | 0644, false, "apiVersion: v1\nkind: ConfigMap\n", 31},
    {"deploy/kustomization.yaml", S_IFREG | 0644, false, "resources:\n- app.yaml\n", 22},
};

static void tgz_same_input_gives_the_same_digest(void **state)
{
	struct built one = {0}, two = {0};
	build(*state, "one.tgz", sample, SL_ARRAY_SIZE(sample), &one);
	build(*state, "two.tgz", sample, SL_ARRAY_SIZE(sample), &two);
	assert_string_equal(one.digest, two.digest);
	assert_int_equal(one.gz_len, two.gz_len);
	assert_memory_equal(one.gz, two.gz, one.gz_len);
	built_free(&one);
	built_free(&two);
}

static void tgz_different_mode_gives_a_different_digest(void **state)
{
	struct entry changed[SL_ARRAY_SIZE(sample)];
	memcpy(changed, sample, sizeof(sample));
	changed[2].mode = S_IFREG | 0600;
	struct built one = {0}, two = {0};
	build(*state, "one.tgz", sample, SL_ARRAY_SIZE(sample), &one);
	build(*state, "two.tgz", changed, SL_ARRAY_SIZE(changed), &two);
	assert_string_not_equal(one.digest, two.digest);
	built_free(&one);
	built_free(&two);
}

static void tgz_reported_digest_and_size_describe_the_file(void **state)
{
	struct built b = {0};
	build(*state, "a.tgz", sample, SL_ARRAY_SIZE(sample), &b);
	char hex[65], want[SL_DIGEST_STR_LEN];
	sha256_hex(b.gz, b.gz_len, hex);
	snprintf(want, sizeof(want), "sha256:%s", hex);
	assert_string_equal(b.digest, want);
	assert_int_equal(b.size, b.gz_len);
	built_free(&b);
}

/* ---- failures --------------------------------------------------------- */

struct writer_fixture {
	char *dir;
	int out_fd;
	struct sl_tgz_writer *w;
};

static void open_writer(const char *dir, struct writer_fixture *f)
{
	struct sl_error err = {0};
	char *path = tl_own(tl_path(dir, "out.tgz"));
	f->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(f->out_fd >= 0);
	assert_int_equal(sl_tgz_writer_new(f->out_fd, &f->w, &err), 0);
}

static void close_writer(struct writer_fixture *f)
{
	sl_tgz_writer_free(f->w);
	close(f->out_fd);
}

static void tgz_add_file_fails_when_the_source_is_shorter_than_size(void **state)
{
	struct writer_fixture f;
	open_writer(*state, &f);
	char *src = tl_own(tl_path(*state, "short"));
	tl_write_file(src, "abc", 3);
	int sfd = open(src, O_RDONLY | O_CLOEXEC);
	struct sl_error err = {0};
	int r = sl_tgz_add_file(f.w, "short", 0644, sfd, 10, &err);
	close(sfd);
	close_writer(&f);
	assert_true(r < 0);
	assert_non_null(strstr(err.msg, "short"));
}

/* Flux copies with io.Copy into a header of the stat size: a file that
 * grew fails with archive/tar's ErrWriteTooLong. The header documents
 * "fails if the file changes size meanwhile". */
static void tgz_add_file_fails_when_the_source_is_longer_than_size(void **state)
{
	struct writer_fixture f;
	open_writer(*state, &f);
	char *src = tl_own(tl_path(*state, "grown"));
	tl_write_file(src, "abcdefghij", 10);
	int sfd = open(src, O_RDONLY | O_CLOEXEC);
	struct sl_error err = {0};
	int r = sl_tgz_add_file(f.w, "grown", 0644, sfd, 3, &err);
	close(sfd);
	close_writer(&f);
	assert_true(r < 0);
}

static void tgz_rejects_an_empty_entry_name(void **state)
{
	struct writer_fixture f;
	open_writer(*state, &f);
	struct sl_error err = {0};
	assert_int_equal(sl_tgz_add_dir(f.w, "", 0755, &err), SL_EINVAL);
	close_writer(&f);
}

static void tgz_refuses_files_of_8_gib_or_more(void **state)
{
	struct writer_fixture f;
	open_writer(*state, &f);
	struct sl_error err = {0};
	/* the size is checked before anything is read from the (invalid) fd */
	assert_int_equal(sl_tgz_add_file(f.w, "huge", 0644, -1, UINT64_C(8) << 30, &err),
	                 SL_ELIMIT);
	close_writer(&f);
}

static void tgz_write_failure_is_an_io_error(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	struct sl_tgz_writer *w = NULL;
	struct sl_error err = {0};
	/* The gzip header is the first write: EPIPE. */
	int r = sl_tgz_writer_new(fds[1], &w, &err);
	close(fds[1]);
	assert_int_equal(r, SL_EIO);
	assert_null(w);
}

static void tgz_writer_free_accepts_null(void **state)
{
	(void)state;
	sl_tgz_writer_free(NULL);
	struct sl_tgz_writer *w = NULL;
	sl_tgz_writer_freep(&w);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tl_setup_tmpdir, tl_teardown_tmpdir)
	const struct CMUnitTest tests[] = {
	    T(tgz_stream_is_byte_identical_to_go_archive_tar),
	    T(tgz_ustar_split_boundaries_match_go),
	    T(tgz_gzip_header_is_gos),
	    T(tgz_gzip_trailer_holds_crc32_and_length_of_the_tar),
	    T(tgz_file_header_follows_go_ustar_layout),
	    T(tgz_dir_header_has_typeflag_5_and_size_zero),
	    T(tgz_mode_keeps_permission_and_special_bits_only),
	    T(tgz_file_data_is_padded_to_whole_blocks),
	    T(tgz_trailer_is_exactly_two_zero_blocks),
	    T(tgz_name_of_100_bytes_fills_the_field_without_nul),
	    T(tgz_long_ascii_path_splits_into_ustar_prefix),
	    T(tgz_non_ascii_name_gets_a_pax_header),
	    T(tgz_unsplittable_long_name_gets_a_pax_header),
	    T(tgz_pax_record_length_counts_its_own_digits),
	    T(tgz_pax_main_header_drops_trailing_slash_of_cut_name),
	    T(tgz_same_input_gives_the_same_digest),
	    T(tgz_different_mode_gives_a_different_digest),
	    T(tgz_reported_digest_and_size_describe_the_file),
	    T(tgz_add_file_fails_when_the_source_is_shorter_than_size),
	    T(tgz_add_file_fails_when_the_source_is_longer_than_size),
	    T(tgz_rejects_an_empty_entry_name),
	    T(tgz_refuses_files_of_8_gib_or_more),
	    T(tgz_write_failure_is_an_io_error),
	    T(tgz_writer_free_accepts_null),
	};
#undef T
	return cmocka_run_group_tests_name("tgz", tests, NULL, NULL);
}
