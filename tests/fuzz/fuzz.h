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

#endif
