/* base.c - allocation hook and error formatting. */
#include "base.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void *libc_malloc(size_t n, void *ctx) { (void)ctx; return malloc(n); }
static void *libc_realloc(void *p, size_t n, void *ctx) { (void)ctx; return realloc(p, n); }
static void libc_free(void *p, void *ctx) { (void)ctx; free(p); }

static const mn_allocator libc_allocator = {libc_malloc, libc_realloc, libc_free, NULL};
static mn_allocator current = {libc_malloc, libc_realloc, libc_free, NULL};

void mn_set_allocator(const mn_allocator *a) { current = a ? *a : libc_allocator; }

void *mn_malloc(size_t n) { return current.malloc_fn(n ? n : 1, current.ctx); }

void *mn_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = mn_malloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void *mn_realloc(void *p, size_t n) { return current.realloc_fn(p, n ? n : 1, current.ctx); }

void mn_free(void *p)
{
    if (p) current.free_fn(p, current.ctx);
}

char *mn_strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = mn_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

mn_status mn_errf(char *err, mn_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, MN_ERR_LEN, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *mn_status_name(mn_status s)
{
    switch (s) {
    case MN_OK: return "ok";
    case MN_ERR_IO: return "i/o error";
    case MN_ERR_FORMAT: return "format error";
    case MN_ERR_LIMIT: return "limit exceeded";
    case MN_ERR_ARG: return "bad argument";
    case MN_ERR_NOMEM: return "out of memory";
    case MN_ERR_EMPTY: return "empty";
    }
    return "unknown error";
}

FILE *mn_atomic_open(const char *path, char **tmp, char *err)
{
    *tmp = NULL;
    size_t n = strlen(path);
    char *t = mn_malloc(n + 12);
    if (!t) {
        mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    memcpy(t, path, n);
    memcpy(t + n, ".tmpXXXXXX", 11);
    int fd = mkstemp(t);
    if (fd < 0) {
        mn_errf(err, MN_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
        mn_free(t);
        return NULL;
    }
    (void)fchmod(fd, 0644); /* mkstemp makes the file private; ours are meant to be shared */
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        mn_errf(err, MN_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        close(fd);
        unlink(t);
        mn_free(t);
        return NULL;
    }
    *tmp = t;
    return f;
}

mn_status mn_atomic_close(FILE *f, char *tmp, const char *path, int ok, char *err)
{
    int e = 0;
    if (ok && (fflush(f) != 0 || fsync(fileno(f)) != 0)) ok = 0, e = errno;
    if (fclose(f) != 0 && ok) ok = 0, e = errno;
    mn_status st = MN_OK;
    if (!ok) {
        st = mn_errf(err, MN_ERR_IO, "%s: write failed: %s", path, strerror(e ? e : EIO));
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        st = mn_errf(err, MN_ERR_IO, "%s: cannot rename the temporary file into place: %s",
                     path, strerror(errno));
        unlink(tmp);
    }
    mn_free(tmp);
    return st;
}
