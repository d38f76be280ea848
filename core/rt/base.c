/* base.c - allocation hook, error formatting and atomic file writing. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

uint64_t mn_fnv1a64(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/*=== atomic writes ==========================================================================*/

/* path as shown in a message: whole when short, else its last part, so that the fault still
 * fits in MN_ERR_LEN after it */
#define SHOWN_PATH MN_SHOWN_PATH
static const char *shown(const char *path, char buf[SHOWN_PATH + 4])
{
    size_t n = strlen(path);
    if (n <= SHOWN_PATH) return path;
    snprintf(buf, SHOWN_PATH + 4, "...%s", path + n - SHOWN_PATH);
    return buf;
}

/* The file a write to path lands in: path with its symbolic links followed (dangling ones
 * too, so that the link keeps pointing at the new file), at most 40 of them. */
static char *resolve_target(const char *path, char *err)
{
    char sp[SHOWN_PATH + 4];
    char *p = mn_strdup(path);
    if (!p) {
        mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", shown(path, sp));
        return NULL;
    }
    for (int hops = 0;; hops++) {
        struct stat sb;
        if (lstat(p, &sb) != 0 || !S_ISLNK(sb.st_mode)) return p;
        if (hops == 40) {
            mn_errf(err, MN_ERR_IO, "%s: cannot write: %s", shown(path, sp), strerror(ELOOP));
            mn_free(p);
            return NULL;
        }
        size_t cap = (size_t)sb.st_size + 1 > 256 ? (size_t)sb.st_size + 1 : 256;
        char *link = mn_malloc(cap);
        ssize_t n = link ? readlink(p, link, cap) : -1;
        if (n < 0 || (size_t)n >= cap) {
            int e = link ? (n < 0 ? errno : ENAMETOOLONG) : ENOMEM;
            mn_errf(err, MN_ERR_IO, "%s: cannot read the link: %s", shown(path, sp), strerror(e));
            mn_free(link);
            mn_free(p);
            return NULL;
        }
        link[n] = 0;
        const char *slash = strrchr(p, '/');
        if (link[0] == '/' || !slash) {
            mn_free(p);
            p = link;
        } else {
            size_t dl = (size_t)(slash - p) + 1, ln = strlen(link);
            char *q = mn_malloc(dl + ln + 1);
            if (!q) {
                mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", shown(path, sp));
                mn_free(link);
                mn_free(p);
                return NULL;
            }
            memcpy(q, p, dl);
            memcpy(q + dl, link, ln + 1);
            mn_free(link);
            mn_free(p);
            p = q;
        }
    }
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The temporary file is "<folder of the target>/.mn-XXXXXX": short, so that any legal target
 * name works, and hidden. *tmp holds its name, then (after the NUL) the resolved target. */
FILE *mn_atomic_open(const char *path, char **tmp, char *err)
{
    *tmp = NULL;
    char sp[SHOWN_PATH + 4];
    if (!path || !*path) {
        mn_errf(err, MN_ERR_ARG, "no file name to write");
        return NULL;
    }
    char *target = resolve_target(path, err);
    if (!target) return NULL;
    struct stat tsb;
    int exists = stat(target, &tsb) == 0;
    if (exists && !S_ISREG(tsb.st_mode)) {
        mn_errf(err, MN_ERR_IO, "%s: cannot write: %s", shown(path, sp),
                S_ISDIR(tsb.st_mode) ? "it is a folder" : "not a regular file");
        mn_free(target);
        return NULL;
    }
    const char *slash = strrchr(target, '/');
    size_t dl = slash ? (size_t)(slash - target) + 1 : 0, tl = strlen(target);
    char *t = mn_malloc(dl + 11 + tl + 1); /* <folder>/.mn-XXXXXX NUL <target> NUL */
    if (!t) {
        mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", shown(path, sp));
        mn_free(target);
        return NULL;
    }
    memcpy(t, target, dl);
    memcpy(t + dl + 11, target, tl + 1);
    mn_free(target);
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static _Atomic uint64_t counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 16) ^
                 (uint64_t)(uintptr_t)t ^ (counter++ << 48);
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        uint64_t r = splitmix64(&x);
        memcpy(t + dl, ".mn-", 4);
        for (int i = 0; i < 6; i++, r /= 62) t[dl + 4 + i] = alnum[r % 62];
        t[dl + 10] = 0;
        /* 0666: the process umask decides, as for any file a program creates */
        fd = open(t, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        mn_errf(err, MN_ERR_IO, "%s: cannot create a temporary file in its folder: %s",
                shown(path, sp), strerror(errno));
        mn_free(t);
        return NULL;
    }
    if (exists) {
        /* replacing a file keeps its owner (when allowed) and permissions */
        if (fchown(fd, tsb.st_uid, tsb.st_gid) != 0) { /* not ours to give: keep ours */ }
        (void)fchmod(fd, tsb.st_mode & 07777);
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        mn_errf(err, MN_ERR_IO, "%s: cannot write: %s", shown(path, sp), strerror(errno));
        close(fd);
        unlink(t);
        mn_free(t);
        return NULL;
    }
    *tmp = t;
    errno = 0; /* so that mn_atomic_close sees the cause of a failed write, not an older one */
    return f;
}

/* Syncs the folder holding name, so that a rename in it survives a crash. File systems that
 * cannot sync a folder say EINVAL (or ENOTSUP); that is not an error. */
static int sync_folder(const char *name)
{
    const char *slash = strrchr(name, '/');
    char dot[] = ".", *dir = dot;
    if (slash) {
        size_t n = slash == name ? 1 : (size_t)(slash - name);
        if (!(dir = mn_malloc(n + 1))) return ENOMEM;
        memcpy(dir, name, n);
        dir[n] = 0;
    }
    int e = 0, fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) e = errno;
    else if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP) e = errno;
    if (fd >= 0) close(fd);
    if (dir != dot) mn_free(dir);
    return e;
}

mn_status mn_atomic_close(FILE *f, char *tmp, const char *path, int ok, char *err)
{
    char sp[SHOWN_PATH + 4];
    const char *target = tmp + strlen(tmp) + 1;
    /* the cause of a write that failed just before this call (a full disk: ENOSPC) */
    int e = !ok && ferror(f) ? errno : 0;
    if (!ok && ferror(f) && !e && fflush(f) != 0) e = errno;
    if (ok && (fflush(f) != 0 || fsync(fileno(f)) != 0)) ok = 0, e = errno;
    if (fclose(f) != 0 && ok) ok = 0, e = errno;
    mn_status st = MN_OK;
    if (!ok) {
        st = mn_errf(err, MN_ERR_IO, "%s: write failed: %s", shown(path, sp),
                     strerror(e ? e : EIO));
        unlink(tmp);
    } else if (rename(tmp, target) != 0) {
        st = mn_errf(err, MN_ERR_IO, "%s: cannot rename the temporary file into place: %s",
                     shown(path, sp), strerror(errno));
        unlink(tmp);
    } else if ((e = sync_folder(target)) != 0) {
        st = mn_errf(err, MN_ERR_IO, "%s: written, but its folder could not be synced: %s",
                     shown(path, sp), strerror(e));
    }
    mn_free(tmp);
    return st;
}

mn_status mn_atomic_check(const char *path, char *err)
{
    char *tmp;
    FILE *f = mn_atomic_open(path, &tmp, err);
    if (!f) return MN_ERR_IO;
    fclose(f);
    unlink(tmp);
    mn_free(tmp);
    return MN_OK;
}

/*=== reading files ==========================================================================*/

/* mn_errf for an I/O fault whose cause is e, leaving errno = e for the caller */
#define IO_FAIL(e, ...) (mn_errf(err, MN_ERR_IO, __VA_ARGS__), errno = (e), MN_ERR_IO)

mn_status mn_infile_open(mn_infile *f, const char *path, size_t max_bytes, int flags, char *err)
{
    char sp[SHOWN_PATH + 4];
    *f = (mn_infile){-1, 0, path};
    if (!path || !*path) return mn_errf(err, MN_ERR_ARG, "no file name to read");
    /* O_NONBLOCK: opening a pipe nobody writes to returns at once (it is refused below) */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return IO_FAIL(e, "%s: cannot open: %s", shown(path, sp), strerror(e));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return IO_FAIL(e, "%s: cannot open: %s", shown(path, sp), strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        int dir = S_ISDIR(sb.st_mode);
        return IO_FAIL(dir ? EISDIR : EINVAL, "%s: cannot read: %s", shown(path, sp),
                       dir ? "it is a folder" : "not a regular file");
    }
    if ((uint64_t)sb.st_size > max_bytes) {
        close(fd);
        return mn_errf(err, MN_ERR_LIMIT, "%s: %llu bytes, larger than the limit of %zu",
                       shown(path, sp), (unsigned long long)sb.st_size, max_bytes);
    }
    if (sb.st_size == 0 && (flags & MN_READ_NONEMPTY)) {
        close(fd);
        return mn_errf(err, MN_ERR_FORMAT, "%s: the file is empty", shown(path, sp));
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    f->fd = fd;
    f->size = (size_t)sb.st_size;
    return MN_OK;
}

/* Reads up to n bytes at off; the count read, or -1 with errno set. */
static ssize_t pread_full(int fd, uint8_t *dst, size_t n, size_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, dst + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

mn_status mn_infile_pread(mn_infile *f, void *dst, size_t n, size_t off, char *err)
{
    char sp[SHOWN_PATH + 4];
    ssize_t got = pread_full(f->fd, dst, n, off);
    if (got < 0) {
        int e = errno;
        return IO_FAIL(e, "%s: cannot read: %s", shown(f->path, sp), strerror(e));
    }
    if ((size_t)got < n)
        return IO_FAIL(EIO, "%s: cannot read: the file shrank from %zu to %zu bytes while being "
                       "read", shown(f->path, sp), f->size, off + (size_t)got);
    return MN_OK;
}

mn_status mn_infile_read_all(mn_infile *f, void *dst, char *err)
{
    char sp[SHOWN_PATH + 4];
    mn_status st = mn_infile_pread(f, dst, f->size, 0, err);
    if (st) return st;
    uint8_t extra;
    ssize_t r = pread_full(f->fd, &extra, 1, f->size);
    if (r < 0) {
        int e = errno;
        return IO_FAIL(e, "%s: cannot read: %s", shown(f->path, sp), strerror(e));
    }
    if (r > 0)
        return IO_FAIL(EIO, "%s: cannot read: the file grew past %zu bytes while being read",
                       shown(f->path, sp), f->size);
    return MN_OK;
}

void mn_infile_close(mn_infile *f)
{
    if (f->fd >= 0) {
        int e = errno; /* closing a file that was only read keeps the cause of a failure */
        close(f->fd);
        errno = e;
    }
    f->fd = -1;
}

mn_status mn_read_file(const char *path, size_t max_bytes, int flags, uint8_t **buf,
                       size_t *len, char *err)
{
    char sp[SHOWN_PATH + 4];
    *buf = NULL;
    *len = 0;
    mn_infile f;
    mn_status st = mn_infile_open(&f, path, max_bytes, flags, err);
    if (st) return st;
    uint8_t *b = f.size < SIZE_MAX ? mn_malloc(f.size + 1) : NULL;
    if (!b) {
        mn_infile_close(&f);
        return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory for %zu bytes", shown(path, sp),
                       f.size);
    }
    st = mn_infile_read_all(&f, b, err);
    mn_infile_close(&f);
    if (st) {
        int e = errno;
        mn_free(b);
        errno = e;
        return st;
    }
    b[f.size] = 0;
    *buf = b;
    *len = f.size;
    return MN_OK;
}
