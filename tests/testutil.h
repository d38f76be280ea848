/* testutil.h - shared helpers for the cmocka tests: paths into the source tree, a counting
 * allocator for "no allocation in a step" checks, and a temporary-file helper. Include after
 * <cmocka.h>'s prerequisites (stdarg.h, stddef.h, setjmp.h, stdint.h). */
#ifndef MN_TESTUTIL_H
#define MN_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base.h"
#include "session.h"

#ifndef MN_SOURCE_DIR
#define MN_SOURCE_DIR "."
#endif

/* Path of a file in the source tree ("tests/fixtures/x"), in a static buffer per call site. */
static inline const char *mn_test_path(char *buf, size_t n, const char *rel)
{
    snprintf(buf, n, "%s/%s", MN_SOURCE_DIR, rel);
    return buf;
}

/* Counting allocator: every allocation through mn_malloc/mn_realloc increments the count. */
static size_t mn_test_alloc_count;
static void *mn_test_malloc(size_t n, void *ctx) { (void)ctx; mn_test_alloc_count++; return malloc(n); }
static void *mn_test_realloc(void *p, size_t n, void *ctx) { (void)ctx; mn_test_alloc_count++; return realloc(p, n); }
static void mn_test_free(void *p, void *ctx) { (void)ctx; free(p); }
static inline void mn_test_count_allocs(void)
{
    static const mn_allocator a = {mn_test_malloc, mn_test_realloc, mn_test_free, NULL};
    mn_set_allocator(&a);
}

/* A fresh temporary file path (the file exists, empty); caller unlinks it. */
static inline const char *mn_test_tmpfile(char *buf, size_t n, const char *suffix)
{
    snprintf(buf, n, "/tmp/mn_test_XXXXXX%s", suffix ? suffix : "");
    int fd = mkstemps(buf, suffix ? (int)strlen(suffix) : 0);
    if (fd >= 0) close(fd);
    return buf;
}

/* Writes bytes to a file; returns 0 on success. */
static inline int mn_test_write(const char *path, const void *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(buf, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

/* n events sampled from s into out. */
static inline void mn_test_sample_n(mn_session *s, mn_event *out, int n)
{
    for (int i = 0; i < n; i++) mn_session_sample(s, &out[i]);
}

/* Fails unless the n events of a and b agree in every field. */
static inline void mn_test_assert_events_equal(const mn_event *a, const mn_event *b, int n)
{
    for (int i = 0; i < n; i++) {
        assert_int_equal(a[i].pitch, b[i].pitch);
        assert_int_equal(a[i].dur_ticks, b[i].dur_ticks);
        assert_int_equal(a[i].velocity, b[i].velocity);
        assert_int_equal(a[i].pos_ticks, b[i].pos_ticks);
        assert_int_equal(a[i].bar_ticks, b[i].bar_ticks);
    }
}

#endif
