/* base.h - status codes, error messages and the allocation hook shared by every core module.
 * Every fallible core call returns an mn_status and, on failure, writes one line naming the
 * thing and the fault into a caller-owned buffer of MN_ERR_LEN bytes (which may be NULL). */
#ifndef MN_BASE_H
#define MN_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MN_ERR_LEN 256

typedef enum {
    MN_OK = 0,
    MN_ERR_IO,       /* a file could not be opened, read, mapped or written */
    MN_ERR_FORMAT,   /* input bytes are malformed (model file, MIDI file, JSON) */
    MN_ERR_LIMIT,    /* a size or count is beyond a sane limit */
    MN_ERR_ARG,      /* a caller passed a bad argument */
    MN_ERR_NOMEM,    /* allocation failed */
    MN_ERR_EMPTY,    /* a valid input that holds nothing usable (e.g. a MIDI file with no notes) */
} mn_status;

/* Allocation hook. Core allocates only through these so that tests can count allocations
 * (and assert none happen in a step). mn_free(NULL) is a no-op. The hook is process-wide and
 * meant to be set once, before any other core call (tests only). */
typedef struct {
    void *(*malloc_fn)(size_t n, void *ctx);
    void *(*realloc_fn)(void *p, size_t n, void *ctx);
    void (*free_fn)(void *p, void *ctx);
    void *ctx;
} mn_allocator;

void mn_set_allocator(const mn_allocator *a); /* NULL restores the libc allocator */
void *mn_malloc(size_t n);
void *mn_calloc(size_t count, size_t size);   /* zeroed; NULL on overflow or failure */
void *mn_realloc(void *p, size_t n);
void mn_free(void *p);
char *mn_strdup(const char *s);

/* Writes printf-style text into err (if non-NULL, MN_ERR_LEN bytes) and returns code. */
mn_status mn_errf(char *err, mn_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

const char *mn_status_name(mn_status s);

/* FNV-1a, 64 bits, over n bytes, continuing from h (MN_FNV1A64_INIT to start): the checksum of
 * model files and checkpoints. */
#define MN_FNV1A64_INIT 0xcbf29ce484222325ull
uint64_t mn_fnv1a64(uint64_t h, const void *p, size_t n);

/* Atomic file writing, so that a failed or interrupted write never leaves a partial file.
 * mn_atomic_open creates a fresh temporary file (".mn-XXXXXX") in the folder of the file path
 * names (symbolic links followed: the link keeps pointing at the new file) and returns it open
 * for writing, with its bookkeeping in *tmp (NULL and an error naming path on failure, also
 * when the target is a folder or not a regular file). A new file gets mode 0666 less the
 * umask; a replaced one keeps its permissions (and owner, where allowed).
 * mn_atomic_close flushes, fsyncs and closes it; when ok is set and all of that worked, it
 * renames the file over the target and fsyncs the folder, otherwise it removes it. A caller
 * whose write failed calls it right away, so that the error names the cause (e.g. "No space
 * left on device"). Either way *tmp is freed; the target is unchanged on failure.
 * mn_atomic_check does the first half and removes the file again: whether path can be
 * written, before long work whose result goes there. */
FILE *mn_atomic_open(const char *path, char **tmp, char *err);
mn_status mn_atomic_close(FILE *f, char *tmp, const char *path, int ok, char *err);
mn_status mn_atomic_check(const char *path, char *err);

#endif
