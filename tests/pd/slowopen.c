/* slowopen.c - an LD_PRELOAD library for the Pd tests: a file that takes as long to open as the
 * test wants, as on a slow network share. open() and fopen() of a path containing
 * $MN_SLOWOPEN_MARK, called on any thread but the process's main one (Pd's scheduler), wait
 * until the path $MN_SLOWOPEN_GATE exists; the first thing they do is create GATE.waiting, so
 * that the test knows a thread is held up. After MN_SLOWOPEN_LIMIT_S seconds of waiting
 * (default 20) they go on and print "slowopen: gave up waiting for GATE" on stderr, which a
 * test's golden output never contains. Build: cc -shared -fPIC slowopen.c -o slowopen.so -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef int (*open_fn)(const char *, int, ...);
typedef FILE *(*fopen_fn)(const char *, const char *);
static open_fn real_open, real_open64;
static fopen_fn real_fopen, real_fopen64;

static void slowopen_init(void);

static void slowopen_wait(const char *path)
{
    const char *mark = getenv("MN_SLOWOPEN_MARK"), *gate = getenv("MN_SLOWOPEN_GATE");
    if (!path || !mark || !*mark || !gate || !strstr(path, mark)) return;
    if (syscall(SYS_gettid) == getpid()) return;
    const char *lim = getenv("MN_SLOWOPEN_LIMIT_S");
    long ms = (lim ? atol(lim) : 20) * 1000;
    /* tell the test that a thread is waiting: GATE.waiting */
    char waiting[4096];
    snprintf(waiting, sizeof waiting, "%s.waiting", gate);
    int fd = real_open(waiting, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) close(fd);
    struct stat st;
    struct timespec tick = {0, 1000000};
    for (long i = 0; i < ms; i++) {
        if (stat(gate, &st) == 0) return;
        nanosleep(&tick, NULL);
    }
    fprintf(stderr, "slowopen: gave up waiting for %s\n", gate);
}

/* resolved once at load, before any thread runs */
__attribute__((constructor)) static void slowopen_init(void)
{
    real_open = (open_fn)dlsym(RTLD_NEXT, "open");
    real_open64 = (open_fn)dlsym(RTLD_NEXT, "open64");
    real_fopen = (fopen_fn)dlsym(RTLD_NEXT, "fopen");
    real_fopen64 = (fopen_fn)dlsym(RTLD_NEXT, "fopen64");
}

#define SLOWOPEN_OPEN(name)                                                                  \
    int name(const char *path, int flags, ...)                                               \
    {                                                                                        \
        mode_t mode = 0;                                                                     \
        if (flags & (O_CREAT | O_TMPFILE)) {                                                 \
            va_list ap;                                                                      \
            va_start(ap, flags);                                                             \
            mode = (mode_t)va_arg(ap, int);                                                  \
            va_end(ap);                                                                      \
        }                                                                                    \
        if (!real_##name) slowopen_init();                                                   \
        slowopen_wait(path);                                                                 \
        return real_##name(path, flags, mode);                                               \
    }
SLOWOPEN_OPEN(open)
SLOWOPEN_OPEN(open64)

#define SLOWOPEN_FOPEN(name)                                                                 \
    FILE *name(const char *path, const char *mode)                                           \
    {                                                                                        \
        if (!real_##name) slowopen_init();                                                   \
        slowopen_wait(path);                                                                 \
        return real_##name(path, mode);                                                      \
    }
SLOWOPEN_FOPEN(fopen)
SLOWOPEN_FOPEN(fopen64)
