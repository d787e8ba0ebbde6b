/* Shared helpers for the libFuzzer targets in tests/fuzz/: turning the raw
 * input into C strings, and invariant checks that abort loudly so libFuzzer
 * saves the input. Each target includes this once; nothing here is linked
 * into sluice. */
#ifndef SLUICE_FUZZ_H
#define SLUICE_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the code under test does not hold: report and abort, so
 * libFuzzer records the input as a crash. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz: %s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* A failing call must say why: a negative code and a non-empty message. */
#define FUZZ_CHECK_ERROR(r, err)                                                                   \
	do {                                                                                       \
		FUZZ_CHECK((r) < 0);                                                               \
		FUZZ_CHECK((err).msg[0] != '\0');                                                  \
		FUZZ_CHECK(memchr((err).msg, '\0', sizeof((err).msg)) != NULL);                    \
	} while (0)

/* The input as a NUL-terminated string; it ends at the first NUL byte. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = sl_xmalloc(size + 1);
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Puts a tarball input into fd (truncated first) and rewinds it. Inputs
 * that are not gzip are raw tar streams, compressed here, so the fuzzer
 * mutates tar headers directly instead of breaking deflate streams. */
static inline void fuzz_write_tar_input(int fd, const uint8_t *data, size_t size)
{
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
		FUZZ_CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
	} else {
		z_stream z = {0};
		FUZZ_CHECK(deflateInit2(&z, 1, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
		size_t cap = deflateBound(&z, (uLong)size);
		unsigned char *out = sl_xmalloc(cap);
		z.next_in = (Bytef *)data;
		z.avail_in = (uInt)size;
		z.next_out = out;
		z.avail_out = (uInt)cap;
		FUZZ_CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
		size_t n = cap - z.avail_out;
		deflateEnd(&z);
		FUZZ_CHECK(pwrite(fd, out, n, 0) == (ssize_t)n);
		free(out);
	}
	FUZZ_CHECK(lseek(fd, 0, SEEK_SET) == 0);
}

#endif
