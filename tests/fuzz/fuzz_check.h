/* fuzz_check.h - the invariant check shared by the libFuzzer harnesses: a broken invariant
 * prints what broke and aborts, which libFuzzer records as a crash with its input. */
#ifndef MN_FUZZ_CHECK_H
#define MN_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

/* Run before the abort (libFuzzer then exits without atexit handlers): fuzz_tmp.h removes its
 * folder. */
static void (*fuzz_check_cleanup)(void) __attribute__((unused));

#define FUZZ_CHECK(cond, ...)                                                                  \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__, #cond);       \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
            if (fuzz_check_cleanup) fuzz_check_cleanup();                                      \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

/* FNV-1a over the input: settings derived from it stay the same when an input is replayed. */
static inline uint64_t fuzz_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

#endif
