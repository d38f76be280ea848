/* base.h - status codes, error messages, the allocation hook and file reading and writing
 * shared by every core module. Every fallible core call returns an mn_status and, on failure,
 * writes one line naming the thing and the fault into a caller-owned buffer of MN_ERR_LEN bytes
 * (which may be NULL). */
#ifndef MN_BASE_H
#define MN_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MN_ERR_LEN 256
/* A message about a file names it whole, or when longer than this as "..." and its last
 * MN_SHOWN_PATH bytes, so that the fault still fits after it. */
#define MN_SHOWN_PATH 150

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

/* Whole-file reading: every reader of a file (model, MIDI, n-gram, copy index, checkpoint,
 * logs, lists) goes through here, so that each fault reads the same wherever it happens. Each
 * message names the path (shortened as MN_SHOWN_PATH says) and the fault:
 *   MN_ERR_ARG     "no file name to read"
 *   MN_ERR_IO      "<path>: cannot open: <strerror>"   (No such file or directory, Permission
 *                                                       denied, ...)
 *   MN_ERR_IO      "<path>: cannot read: it is a folder"
 *   MN_ERR_IO      "<path>: cannot read: not a regular file" (a pipe, device or socket: never
 *                  read, so that a pipe nobody writes to cannot hang a loader thread and an
 *                  endless device cannot fill memory)
 *   MN_ERR_LIMIT   "<path>: <n> bytes, larger than the limit of <max_bytes>"
 *   MN_ERR_FORMAT  "<path>: the file is empty"          (only with MN_READ_NONEMPTY)
 *   MN_ERR_NOMEM   "<path>: out of memory for <n> bytes"
 *   MN_ERR_IO      "<path>: cannot read: <strerror>", or that the file shrank or grew while
 *                  being read
 * On MN_ERR_IO, errno holds the cause (ENOENT when the file does not exist). */
#define MN_READ_NONEMPTY 1 /* flags: an empty file is an error */

/* An open file of known size, read by offset. mn_infile_open opens path, checks that it is a
 * regular file of at most max_bytes bytes and fills f (f->fd = -1 on failure, when
 * mn_infile_close is a no-op). f->path is the caller's string, not copied. */
typedef struct {
    int fd;
    size_t size;      /* bytes, as the file was when opened */
    const char *path; /* for messages; not owned */
} mn_infile;

mn_status mn_infile_open(mn_infile *f, const char *path, size_t max_bytes, int flags, char *err);
/* Reads exactly n bytes at offset off into dst; fewer (the file shrank) is an error. */
mn_status mn_infile_pread(mn_infile *f, void *dst, size_t n, size_t off, char *err);
/* Reads the whole file, f->size bytes, into dst; an error if it shrank or grew since it was
 * opened (what was read is then not one version of the file). */
mn_status mn_infile_read_all(mn_infile *f, void *dst, char *err);
void mn_infile_close(mn_infile *f);

/* Reads the whole file at path into a new buffer of *len bytes plus a terminating NUL (so that
 * text can be used as a string), which the caller frees with mn_free. On failure *buf is NULL,
 * *len 0 and err holds one of the messages above. */
mn_status mn_read_file(const char *path, size_t max_bytes, int flags, uint8_t **buf,
                       size_t *len, char *err);

#endif
