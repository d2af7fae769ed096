/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer targets: each file defines LLVMFuzzerTestOneInput() for one
 * input cgsentry reads (tools/fuzz.sh builds and runs them with clang).
 * driver.c gives the same targets a main() that replays files, so the
 * seed corpora and every crash turned regression run in the ordinary test
 * build (unit.fuzz-replay) without libFuzzer.
 */
#ifndef CGSENTRY_FUZZ_H
#define CGSENTRY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (inputs with a NUL byte are cut
 * there, as a C reader of text would). Free it. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);

        if (s) {
                memcpy(s, data, size);
                s[size] = '\0';
        }
        return s;
}

#endif
