/* Flux's artifact tarball, byte for byte as Go's archive/tar lays out the
 * headers (pkg/tar + archive/tar), compressed with zlib at level 6 behind
 * the same 10-byte gzip header Go's compress/gzip writes. The deflate
 * stream is zlib's, not Go's, so digests are stable across sluice runs and
 * machines but differ from a Go-built artifact of the same files. */
#include <errno.h>
#include <string.h>
#include <zlib.h>

#include "codec/codec.h"

#define BLOCK     512
#define OUT_CHUNK (64 * 1024)
/* USTAR's 12-byte octal size field tops out just below 8 GiB. */
#define MAX_ENTRY_SIZE ((uint64_t)077777777777)

struct sl_tgz_writer {
	int fd;
	z_stream z;
	bool z_ready;
	uint32_t crc;
	uint64_t raw_len;
	uint64_t out_len;
	struct sl_sha256 *hash;
	void (*progress)(void *userdata, const char *what, uint64_t done, uint64_t total);
	void *progress_userdata;
	uint64_t progress_next;
	unsigned char out[OUT_CHUNK];
};

#define PROGRESS_STEP (8u << 20)

void sl_tgz_set_progress(struct sl_tgz_writer *w,
                         void (*fn)(void *userdata, const char *what, uint64_t done,
                                    uint64_t total),
                         void *userdata)
{
	w->progress = fn;
	w->progress_userdata = userdata;
	w->progress_next = PROGRESS_STEP;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int emit(struct sl_tgz_writer *w, const void *data, size_t len, struct sl_error *err)
{
	int r = write_all(w->fd, data, len);
	if (r < 0)
		return sl_error_errno(err, -r, SL_EIO, "writing tarball");
	sl_sha256_update(w->hash, data, len);
	w->out_len += len;
	return 0;
}

static int deflate_run(struct sl_tgz_writer *w, const void *data, size_t len, int flush,
                       struct sl_error *err)
{
	w->z.next_in = (Bytef *)data;
	w->z.avail_in = (uInt)len;
	do {
		w->z.next_out = w->out;
		w->z.avail_out = sizeof(w->out);
		int zr = deflate(&w->z, flush);
		if (zr == Z_STREAM_ERROR)
			return sl_error_set(err, SL_EIO, "compressing tarball: zlib stream error");
		size_t have = sizeof(w->out) - w->z.avail_out;
		if (have) {
			int r = emit(w, w->out, have, err);
			if (r < 0)
				return r;
		}
	} while (w->z.avail_out == 0 || (flush == Z_FINISH && w->z.avail_in > 0));
	return 0;
}

static int put(struct sl_tgz_writer *w, const void *data, size_t len, struct sl_error *err)
{
	w->crc = (uint32_t)crc32(w->crc, data, (uInt)len);
	w->raw_len += len;
	if (w->progress && w->raw_len >= w->progress_next) {
		/* The total is unknown while walking: report what is done. */
		w->progress(w->progress_userdata, "archiving", w->raw_len, 0);
		w->progress_next = w->raw_len + PROGRESS_STEP;
	}
	return deflate_run(w, data, len, Z_NO_FLUSH, err);
}

int sl_tgz_writer_new(int fd, struct sl_tgz_writer **ret, struct sl_error *err)
{
	struct sl_tgz_writer *w = sl_xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->hash = sl_sha256_new();
	w->crc = (uint32_t)crc32(0, NULL, 0);
	/* Raw deflate: the gzip framing is ours so it matches Go's header. */
	if (deflateInit2(&w->z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		sl_tgz_writer_free(w);
		return sl_error_set(err, SL_ENOMEM, "initialising gzip");
	}
	w->z_ready = true;
	/* ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown), as Go writes. */
	static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
	int r = emit(w, header, sizeof(header), err);
	if (r < 0) {
		sl_tgz_writer_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

void sl_tgz_writer_free(struct sl_tgz_writer *w)
{
	if (!w)
		return;
	if (w->z_ready)
		deflateEnd(&w->z);
	sl_sha256_free(w->hash);
	free(w);
}

/* Go's formatOctal: zero-padded to the field width minus one, then NUL. */
static void put_octal(unsigned char *field, size_t width, uint64_t v)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%0*llo", (int)(width - 1), (unsigned long long)v);
	memcpy(field, tmp, width - 1);
	field[width - 1] = '\0';
}

/* Go's formatString: copies, NUL-terminates when shorter, truncates when
 * longer (only happens in PAX mode, where the PAX record holds the truth). */
static void put_string(unsigned char *field, size_t width, const char *s)
{
	size_t n = strlen(s);
	memcpy(field, s, n < width ? n : width);
	if (n < width)
		field[n] = '\0';
	/* Go: a cut name must not end in '/', or old readers see a directory. */
	if (n > width && field[width - 1] == '/') {
		size_t k = width - 1;
		while (k > 0 && s[k - 1] == '/')
			k--;
		field[k] = '\0';
	}
}

static void set_ustar_magic(unsigned char *blk)
{
	memcpy(blk + 257, "ustar\0", 6);
	memcpy(blk + 263, "00", 2);
}

static void set_checksum(unsigned char *blk)
{
	memset(blk + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < BLOCK; i++)
		sum += blk[i];
	char tmp[16];
	snprintf(tmp, sizeof(tmp), "%06o", sum & 0777777);
	memcpy(blk + 148, tmp, 6);
	blk[154] = '\0';
	blk[155] = ' ';
}

static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* Go's splitUSTARPath: prefix up to 155 bytes, name up to 100. */
static bool split_ustar(const char *name, size_t *ret_split)
{
	size_t len = strlen(name);
	if (len <= 100 || !is_ascii(name))
		return false;
	size_t limit = len;
	if (limit > 156)
		limit = 156;
	else if (name[limit - 1] == '/')
		limit--;
	ssize_t i = -1;
	for (size_t k = 0; k < limit; k++)
		if (name[k] == '/')
			i = (ssize_t)k;
	if (i <= 0)
		return false;
	size_t nlen = len - (size_t)i - 1;
	if (nlen > 100 || nlen == 0 || (size_t)i > 155)
		return false;
	*ret_split = (size_t)i;
	return true;
}

/* Header fields common to USTAR and PAX main headers (Go's templateV7Plus). */
static void fill_main_header(unsigned char *blk, const char *name, mode_t mode, uint64_t size,
                             char typeflag)
{
	put_string(blk, 100, name);
	put_octal(blk + 100, 8, mode);
	put_octal(blk + 108, 8, 0);
	put_octal(blk + 116, 8, 0);
	put_octal(blk + 124, 12, size);
	put_octal(blk + 136, 12, 0);
	blk[156] = (unsigned char)typeflag;
	put_octal(blk + 329, 8, 0);
	put_octal(blk + 337, 8, 0);
	set_ustar_magic(blk);
}

static int pad_to_block(struct sl_tgz_writer *w, uint64_t size, struct sl_error *err)
{
	static const unsigned char zeros[BLOCK];
	size_t rem = (size_t)(size % BLOCK);
	return rem ? put(w, zeros, BLOCK - rem, err) : 0;
}

static int write_pax_path(struct sl_tgz_writer *w, const char *name, struct sl_error *err)
{
	/* Record "<len> path=<name>\n" where len counts itself (Go's
	 * formatPAXRecord, including its one-step correction). */
	size_t size = strlen(name) + strlen("path") + 3;
	size += (size_t)snprintf(NULL, 0, "%zu", size);
	_cleanup_free_ char *record = sl_asprintf("%zu path=%s\n", size, name);
	if (strlen(record) != size) {
		size = strlen(record);
		free(record);
		record = sl_asprintf("%zu path=%s\n", size, name);
	}

	/* Go names the extended header "<dir>/PaxHeaders.0/<base>", made ASCII
	 * and cut to 100 bytes. */
	const char *slash = strrchr(name, '/');
	_cleanup_free_ char *hdr_name =
	    slash ? sl_asprintf("%.*s/PaxHeaders.0/%s", (int)(slash - name), name, slash + 1)
	          : sl_asprintf("PaxHeaders.0/%s", name);
	size_t j = 0;
	for (size_t i = 0; hdr_name[i]; i++)
		if ((unsigned char)hdr_name[i] < 0x80)
			hdr_name[j++] = hdr_name[i];
	hdr_name[j] = '\0';
	if (j > 100)
		hdr_name[100] = '\0';
	for (size_t n = strlen(hdr_name); n > 0 && hdr_name[n - 1] == '/'; n--)
		hdr_name[n - 1] = '\0';

	unsigned char blk[BLOCK] = {0};
	put_string(blk, 100, hdr_name);
	put_octal(blk + 100, 8, 0);
	put_octal(blk + 108, 8, 0);
	put_octal(blk + 116, 8, 0);
	put_octal(blk + 124, 12, strlen(record));
	put_octal(blk + 136, 12, 0);
	blk[156] = 'x';
	set_ustar_magic(blk);
	set_checksum(blk);
	int r = put(w, blk, BLOCK, err);
	if (r < 0)
		return r;
	r = put(w, record, strlen(record), err);
	if (r < 0)
		return r;
	return pad_to_block(w, strlen(record), err);
}

static int write_header(struct sl_tgz_writer *w, const char *name, mode_t mode, uint64_t size,
                        char typeflag, struct sl_error *err)
{
	if (!*name)
		return sl_error_set(err, SL_EINVAL, "empty tar entry name");
	if (size > MAX_ENTRY_SIZE)
		return sl_error_set(err, SL_ELIMIT, "%s: files of 8 GiB or more are not supported",
		                    name);
	/* Permission bits plus setuid/setgid/sticky, no file type bits. */
	mode &= 07777;
	unsigned char blk[BLOCK] = {0};
	size_t split;
	if (strlen(name) <= 100 && is_ascii(name)) {
		fill_main_header(blk, name, mode, size, typeflag);
	} else if (split_ustar(name, &split)) {
		fill_main_header(blk, name + split + 1, mode, size, typeflag);
		memcpy(blk + 345, name, split);
	} else {
		int r = write_pax_path(w, name, err);
		if (r < 0)
			return r;
		_cleanup_free_ char *ascii = sl_strdup(name);
		size_t j = 0;
		for (size_t i = 0; ascii[i]; i++)
			if ((unsigned char)ascii[i] < 0x80)
				ascii[j++] = ascii[i];
		ascii[j] = '\0';
		fill_main_header(blk, ascii, mode, size, typeflag);
	}
	set_checksum(blk);
	return put(w, blk, BLOCK, err);
}

int sl_tgz_add_dir(struct sl_tgz_writer *w, const char *name, mode_t mode, struct sl_error *err)
{
	return write_header(w, name, mode, 0, '5', err);
}

int sl_tgz_add_file(struct sl_tgz_writer *w, const char *name, mode_t mode, int src_fd,
                    uint64_t size, struct sl_error *err)
{
	int r = write_header(w, name, mode, size, '0', err);
	if (r < 0)
		return r;
	/* On the heap, not thread-local: 128 KiB of static TLS per module made
	 * every thread of the controller carry it, and broke small stacks. */
	enum { CHUNK = 128 * 1024 };
	_cleanup_free_ unsigned char *chunk = sl_xmalloc(CHUNK);
	uint64_t left = size;
	while (left) {
		size_t want = left < CHUNK ? (size_t)left : CHUNK;
		ssize_t n = read(src_fd, chunk, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sl_error_errno(err, errno, SL_EIO, "reading %s", name);
		}
		if (n == 0)
			return sl_error_set(err, SL_EIO, "reading %s: file shrank while archiving",
			                    name);
		r = put(w, chunk, (size_t)n, err);
		if (r < 0)
			return r;
		left -= (uint64_t)n;
	}
	/* The header already promised size bytes: a file that grew since it
	 * was measured would be archived cut short. */
	ssize_t extra;
	do
		extra = read(src_fd, chunk, 1);
	while (extra < 0 && errno == EINTR);
	if (extra > 0)
		return sl_error_set(err, SL_EIO, "reading %s: file grew while archiving", name);
	return pad_to_block(w, size, err);
}

int sl_tgz_add_bytes(struct sl_tgz_writer *w, const char *name, mode_t mode, const void *data,
                     size_t len, struct sl_error *err)
{
	int r = write_header(w, name, mode, len, '0', err);
	if (r == 0 && len)
		r = put(w, data, len, err);
	if (r == 0)
		r = pad_to_block(w, len, err);
	return r;
}

int sl_tgz_finish(struct sl_tgz_writer *w, uint64_t *ret_size, char ret_digest[SL_DIGEST_STR_LEN],
                  struct sl_error *err)
{
	/* Go's tar.Writer.Close: two zero blocks, no padding to a record. */
	static const unsigned char trailer[2 * BLOCK];
	int r = put(w, trailer, sizeof(trailer), err);
	if (r < 0)
		return r;
	r = deflate_run(w, NULL, 0, Z_FINISH, err);
	if (r < 0)
		return r;
	unsigned char footer[8];
	for (int i = 0; i < 4; i++) {
		footer[i] = (unsigned char)(w->crc >> (8 * i));
		footer[4 + i] = (unsigned char)(w->raw_len >> (8 * i));
	}
	r = emit(w, footer, sizeof(footer), err);
	if (r < 0)
		return r;
	*ret_size = w->out_len;
	sl_sha256_final(w->hash, ret_digest);
	return 0;
}
