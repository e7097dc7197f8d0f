// A minimal test helper for kiln's C tests: CHECK records a failure with file:line and a
// message and goes on; TEST_MAIN_END prints "N passed, N failed" and returns the exit code.
// Tests that need an absent device call test_skip() (exit 77, ctest's SKIP_RETURN_CODE).
#pragma once

#include <stdio.h>
#include <stdlib.h>

static int test_passed, test_failed;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (cond) {                                                       \
            test_passed++;                                                \
        } else {                                                          \
            test_failed++;                                                \
            fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                 \
            fputc('\n', stderr);                                          \
        }                                                                 \
    } while (0)

static inline int test_finish(const char *name) {
    printf("%s: %d passed, %d failed\n", name, test_passed, test_failed);
    return test_failed ? 1 : 0;
}

static inline void test_skip(const char *why) {
    printf("SKIP: %s\n", why);
    exit(77);
}
