/* Reading gzip-compressed tarballs: the USTAR, PAX and GNU header forms Go's
 * archive/tar (and so Flux) and the usual tools write, streamed through
 * zlib with fixed buffers. Names and sizes are validated here; what an
 * extractor does with them is its own business. Replaces libarchive, whose
 * dozen format back ends (and libxml2, ICU and libstdc++ behind them) cost
 * 3 MiB of resident memory in every sluice process for two formats used. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "codec/codec.h"

#define BLOCK               512
#define IN_CHUNK            (64 * 1024)
#define MAX_EXTENDED_HEADER (1024 * 1024) /* PAX records and GNU long names */
#define MAX_NAME            4096

struct sl_tar_reader {
	int fd;
	z_stream z;
	bool z_ready, z_end, eof;
	unsigned char in[IN_CHUNK];
	uint64_t entry_left; /* data bytes of the current entry not yet read */
	uint64_t entry_pad;  /* padding after them */
	bool finished;
	struct sl_tar_header hdr;
};

/* ---- the decompressed byte stream ------------------------------------ */

static int refill(struct sl_tar_reader *t, struct sl_error *err)
{
	ssize_t n;
	do
		n = read(t->fd, t->in, sizeof(t->in));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sl_error_errno(err, errno, SL_EIO, "reading tarball");
	t->z.next_in = t->in;
	t->z.avail_in = (uInt)n;
	if (n == 0)
		t->eof = true;
	return 0;
}

/* Fills buf with up to len decompressed bytes; 0 at the end of the stream.
 * Concatenated gzip members are read as one stream, as gzip -d does. */
static ssize_t zread(struct sl_tar_reader *t, void *buf, size_t len, struct sl_error *err)
{
	t->z.next_out = buf;
	t->z.avail_out = (uInt)len;
	while (t->z.avail_out > 0) {
		if (t->z_end) {
			if (t->z.avail_in == 0 && !t->eof && refill(t, err) < 0)
				return -1;
			if (t->z.avail_in == 0)
				break;
			/* Another member follows. */
			if (inflateReset(&t->z) != Z_OK)
				return sl_error_set(err, SL_EINVAL,
				                    "reading tarball: gzip reset failed");
			t->z_end = false;
		}
		if (t->z.avail_in == 0) {
			if (t->eof)
				return sl_error_set(err, SL_EINVAL,
				                    "reading tarball: truncated gzip stream");
			if (refill(t, err) < 0)
				return -1;
			continue;
		}
		int zr = inflate(&t->z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			t->z_end = true;
			continue;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			return sl_error_set(err, SL_EINVAL, "reading tarball: %s",
			                    t->z.msg ? t->z.msg : "invalid gzip data");
	}
	return (ssize_t)(len - t->z.avail_out);
}

static int zread_full(struct sl_tar_reader *t, void *buf, size_t len, bool *ret_eof,
                      struct sl_error *err)
{
	ssize_t n = zread(t, buf, len, err);
	if (n < 0)
		return -1;
	*ret_eof = n == 0;
	if (n != 0 && (size_t)n != len)
		return sl_error_set(err, SL_EINVAL, "reading tarball: unexpected end of archive");
	return 0;
}

static int zskip(struct sl_tar_reader *t, uint64_t n, struct sl_error *err)
{
	unsigned char scratch[4096];
	while (n) {
		size_t want = n < sizeof(scratch) ? (size_t)n : sizeof(scratch);
		ssize_t got = zread(t, scratch, want, err);
		if (got < 0)
			return -1;
		if (got == 0)
			return sl_error_set(err, SL_EINVAL,
			                    "reading tarball: unexpected end of archive");
		n -= (uint64_t)got;
	}
	return 0;
}

/* ---- header fields ---------------------------------------------------- */

static int parse_number(const unsigned char *field, size_t width, uint64_t *ret)
{
	/* GNU base-256: the high bit of the first byte set, big-endian rest. */
	if (field[0] & 0x80) {
		if (field[0] & 0x40)
			return -1; /* negative */
		uint64_t v = field[0] & 0x3f;
		for (size_t i = 1; i < width; i++) {
			if (v >> 56)
				return -1;
			v = (v << 8) | field[i];
		}
		*ret = v;
		return 0;
	}
	size_t i = 0;
	while (i < width && (field[i] == ' ' || field[i] == '\0'))
		i++;
	uint64_t v = 0;
	bool digits = false;
	for (; i < width && field[i] >= '0' && field[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v * 8 + (uint64_t)(field[i] - '0');
		digits = true;
	}
	for (; i < width; i++)
		if (field[i] != ' ' && field[i] != '\0')
			return -1;
	*ret = digits ? v : 0;
	return 0;
}

static bool checksum_ok(const unsigned char *blk)
{
	uint64_t want;
	if (parse_number(blk + 148, 8, &want) < 0)
		return false;
	/* Both the unsigned sum and the old signed-char sum are accepted. */
	uint64_t usum = 0;
	int64_t ssum = 0;
	for (int i = 0; i < BLOCK; i++) {
		unsigned char c = (i >= 148 && i < 156) ? ' ' : blk[i];
		usum += c;
		ssum += (signed char)c;
	}
	return want == usum || (int64_t)want == ssum;
}

static bool all_zero(const unsigned char *blk)
{
	for (int i = 0; i < BLOCK; i++)
		if (blk[i])
			return false;
	return true;
}

static char *field_string(const unsigned char *field, size_t width)
{
	size_t n = strnlen((const char *)field, width);
	return sl_strndup((const char *)field, n);
}

/* PAX records "<len> <key>=<value>\n"; path, linkpath and size matter. */
static int parse_pax(const char *data, size_t len, char **path, char **linkpath, uint64_t *size,
                     bool *has_size, struct sl_error *err)
{
	size_t off = 0;
	while (off < len) {
		size_t rec_len = 0, i = off;
		while (i < len && data[i] >= '0' && data[i] <= '9' && rec_len < len)
			rec_len = rec_len * 10 + (size_t)(data[i++] - '0');
		if (i >= len || data[i] != ' ' || rec_len == 0 || rec_len > len - off ||
		    data[off + rec_len - 1] != '\n')
			return sl_error_set(err, SL_EINVAL,
			                    "reading tarball: malformed PAX record");
		const char *kv = data + i + 1;
		const char *end = data + off + rec_len - 1;
		const char *eq = memchr(kv, '=', (size_t)(end - kv));
		if (!eq)
			return sl_error_set(err, SL_EINVAL,
			                    "reading tarball: malformed PAX record");
		size_t klen = (size_t)(eq - kv), vlen = (size_t)(end - eq - 1);
		if (memchr(eq + 1, '\0', vlen))
			return sl_error_set(err, SL_EINVAL, "reading tarball: NUL in a PAX value");
		if (klen == 4 && !memcmp(kv, "path", 4)) {
			free(*path);
			*path = sl_strndup(eq + 1, vlen);
		} else if (klen == 8 && !memcmp(kv, "linkpath", 8)) {
			free(*linkpath);
			*linkpath = sl_strndup(eq + 1, vlen);
		} else if (klen == 4 && !memcmp(kv, "size", 4)) {
			_cleanup_free_ char *v = sl_strndup(eq + 1, vlen);
			char *stop;
			errno = 0;
			unsigned long long s = strtoull(v, &stop, 10);
			if (!*v || *stop || errno)
				return sl_error_set(err, SL_EINVAL,
				                    "reading tarball: bad PAX size");
			*size = s;
			*has_size = true;
		}
		off += rec_len;
	}
	return 0;
}

/* Reads an extended header's data (PAX or GNU long name) into memory. */
static int read_extended(struct sl_tar_reader *t, uint64_t size, char **ret, struct sl_error *err)
{
	if (size > MAX_EXTENDED_HEADER)
		return sl_error_set(err, SL_ELIMIT,
		                    "reading tarball: extended header of %llu bytes",
		                    (unsigned long long)size);
	char *data = sl_xmalloc((size_t)size + 1);
	bool eof;
	if (zread_full(t, data, (size_t)size, &eof, err) < 0 || (size && eof) ||
	    zskip(t, (BLOCK - size % BLOCK) % BLOCK, err) < 0) {
		free(data);
		if (size && eof)
			sl_error_set(err, SL_EINVAL, "reading tarball: unexpected end of archive");
		return -1;
	}
	data[size] = '\0';
	*ret = data;
	return 0;
}

static void header_clear(struct sl_tar_header *h)
{
	free(h->name);
	free(h->linkname);
	*h = (struct sl_tar_header){0};
}

/* ---- public ----------------------------------------------------------- */

int sl_tar_reader_new(int fd, struct sl_tar_reader **ret, struct sl_error *err)
{
	struct sl_tar_reader *t = sl_xcalloc(1, sizeof(*t));
	t->fd = fd;
	if (inflateInit2(&t->z, 16 + 15) != Z_OK) {
		free(t);
		return sl_error_set(err, SL_ENOMEM, "initialising zlib");
	}
	t->z_ready = true;
	int r = refill(t, err);
	if (r == 0 && (t->z.avail_in < 2 || t->in[0] != 0x1f || t->in[1] != 0x8b))
		r = sl_error_set(err, SL_EINVAL, "reading tarball: not gzip-compressed");
	if (r < 0) {
		sl_tar_reader_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

void sl_tar_reader_free(struct sl_tar_reader *t)
{
	if (!t)
		return;
	if (t->z_ready)
		inflateEnd(&t->z);
	header_clear(&t->hdr);
	free(t);
}

int sl_tar_next(struct sl_tar_reader *t, const struct sl_tar_header **ret, struct sl_error *err)
{
	if (t->finished)
		return 0;
	if (zskip(t, t->entry_left + t->entry_pad, err) < 0)
		return -1;
	t->entry_left = t->entry_pad = 0;
	header_clear(&t->hdr);

	_cleanup_free_ char *long_name = NULL, *long_link = NULL, *pax_path = NULL,
	                    *pax_link = NULL;
	uint64_t pax_size = 0;
	bool has_pax_size = false;
	for (int extended = 0;; extended++) {
		if (extended > 8)
			return sl_error_set(err, SL_EINVAL,
			                    "reading tarball: too many extended headers");
		unsigned char blk[BLOCK];
		bool eof;
		if (zread_full(t, blk, BLOCK, &eof, err) < 0)
			return -1;
		if (eof || all_zero(blk)) {
			/* The end: two zero blocks (or one, or none, before EOF). Drain
			 * the rest so the gzip trailer's CRC is checked. */
			if (!eof && zread_full(t, blk, BLOCK, &eof, err) < 0)
				return -1;
			for (;;) {
				unsigned char rest[4096];
				ssize_t n = zread(t, rest, sizeof(rest), err);
				if (n < 0)
					return -1;
				if (n == 0)
					break;
			}
			t->finished = true;
			return 0;
		}
		if (!checksum_ok(blk))
			return sl_error_set(err, SL_EINVAL,
			                    "reading tarball: invalid header checksum");
		uint64_t size, mode;
		if (parse_number(blk + 124, 12, &size) < 0 || parse_number(blk + 100, 8, &mode) < 0)
			return sl_error_set(err, SL_EINVAL,
			                    "reading tarball: invalid header field");
		char flag = (char)blk[156];
		if (flag == 'x' || flag == 'g' || flag == 'L' || flag == 'K') {
			_cleanup_free_ char *data = NULL;
			if (read_extended(t, size, &data, err) < 0)
				return -1;
			if (flag == 'x' && parse_pax(data, (size_t)size, &pax_path, &pax_link,
			                             &pax_size, &has_pax_size, err) < 0)
				return -1;
			if (flag == 'L') {
				free(long_name);
				long_name = sl_strdup(data);
			} else if (flag == 'K') {
				free(long_link);
				long_link = sl_strdup(data);
			}
			continue;
		}

		bool posix = memcmp(blk + 257, "ustar\0", 6) == 0;
		char *name;
		if (pax_path)
			name = TAKE_PTR(pax_path);
		else if (long_name)
			name = TAKE_PTR(long_name);
		else if (posix && blk[345]) {
			_cleanup_free_ char *prefix = field_string(blk + 345, 155);
			_cleanup_free_ char *base = field_string(blk, 100);
			name = sl_asprintf("%s/%s", prefix, base);
		} else {
			name = field_string(blk, 100);
		}
		if (strlen(name) > MAX_NAME) {
			free(name);
			return sl_error_set(err, SL_ELIMIT,
			                    "reading tarball: name longer than %d bytes", MAX_NAME);
		}
		t->hdr.name = name;
		t->hdr.linkname = pax_link    ? TAKE_PTR(pax_link)
		                  : long_link ? TAKE_PTR(long_link)
		                              : field_string(blk + 157, 100);
		if (has_pax_size)
			size = pax_size;
		t->hdr.mode = (mode_t)(mode & 07777);
		switch (flag) {
		case '0':
		case '\0':
		case '7':
			t->hdr.type = sl_endswith(name, "/") && flag == '\0' ? S_IFDIR : S_IFREG;
			break;
		case '1':
			t->hdr.type = 0;
			t->hdr.hardlink = true;
			break;
		case '2': t->hdr.type = S_IFLNK; break;
		case '3': t->hdr.type = S_IFCHR; break;
		case '4': t->hdr.type = S_IFBLK; break;
		case '5': t->hdr.type = S_IFDIR; break;
		case '6': t->hdr.type = S_IFIFO; break;
		default:
			t->hdr.type = 0;
			t->hdr.unknown = true;
			break;
		}
		/* Only regular files carry data that counts; skip anything else's. */
		if (t->hdr.type == S_IFREG) {
			t->hdr.size = size;
		} else if (t->hdr.type == S_IFDIR || t->hdr.type == S_IFLNK || t->hdr.hardlink) {
			size = 0; /* their size field is meaningless; GNU tar writes 0 */
		}
		t->entry_left = size;
		t->entry_pad = (BLOCK - size % BLOCK) % BLOCK;
		*ret = &t->hdr;
		return 1;
	}
}

ssize_t sl_tar_read(struct sl_tar_reader *t, void *buf, size_t len, struct sl_error *err)
{
	if (len > t->entry_left)
		len = (size_t)t->entry_left;
	if (len == 0)
		return 0;
	ssize_t n = zread(t, buf, len, err);
	if (n < 0)
		return -1;
	if (n == 0)
		return sl_error_set(err, SL_EINVAL, "reading tarball: unexpected end of archive");
	t->entry_left -= (uint64_t)n;
	return n;
}
