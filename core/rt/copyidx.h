/* copyidx.h - the copy guard's index: the interval strings of a set of training tunes, with
 * their names, and a suffix array over them built at load time. It answers exactly (no hashing)
 * whether a string of up to MN_COPY_DEPTH intervals occurs verbatim in one tune, which
 * intervals would extend a given run into one, and which tunes share the longest runs with a
 * melody. The file holds only the intervals (one byte each) and the names, so it stays small;
 * the model names it in its "copy_index" metadata and mn_model_load loads it beside the model.
 *
 * File layout (little endian): "MNCOPY1\n", u32 n_tunes, u32 n_text, u32 names_bytes, then
 * n_text int8 symbols (intervals -127..127; -128 ends each tune, n_tunes of them, the last
 * symbol is one), then names_bytes bytes holding n_tunes NUL-terminated names. */
#ifndef MN_COPYIDX_H
#define MN_COPYIDX_H

#include <stddef.h>
#include <stdint.h>

#include "base.h"
#include "event.h"

#define MN_COPY_DEPTH 64            /* the suffix array is sorted by this many symbols */
#define MN_COPY_MAX_K (MN_COPY_DEPTH - 2) /* longest run --max-copy may allow */
#define MN_COPY_MAX_TEXT (64u << 20) /* symbols an index may hold */
#define MN_COPY_MAX_NAMES (64u << 20)

typedef struct mn_copyidx mn_copyidx;

/* Builds an index of the intervals of the tunes (rests skipped, as in report.h). names[t]
 * (NULL: each melody's name) names tune t; a name is cut at 255 bytes. */
mn_status mn_copyidx_build(const mn_melody *tunes, size_t n, const char *const *names,
                           mn_copyidx **out, char *err);

/* Reads and validates an index file (or bytes in memory; name is used in messages). */
mn_status mn_copyidx_load(const char *path, mn_copyidx **out, char *err);
mn_status mn_copyidx_load_memory(const void *buf, size_t len, const char *name,
                                 mn_copyidx **out, char *err);
mn_status mn_copyidx_save(const mn_copyidx *ix, const char *path, char *err);
void mn_copyidx_free(mn_copyidx *ix); /* NULL is a no-op */

size_t mn_copyidx_n_tunes(const mn_copyidx *ix);
size_t mn_copyidx_n_intervals(const mn_copyidx *ix);  /* intervals over all tunes */
size_t mn_copyidx_file_bytes(const mn_copyidx *ix);   /* size of its file */
const char *mn_copyidx_name(const mn_copyidx *ix, size_t tune);

/* Whether the intervals w[0..len) (len <= MN_COPY_DEPTH) occur in one tune. */
int mn_copyidx_contains(const mn_copyidx *ix, const int *w, int len);

/* For a melody whose last intervals are hist[0..k) (k <= MN_COPY_DEPTH - 1): sets
 * next[iv + 127] (iv = -127..127) to 1 when hist followed by iv occurs in one tune, else 0.
 * Returns how many are set. No allocation. */
int mn_copyidx_next(const mn_copyidx *ix, const int *hist, int k, unsigned char next[255]);

typedef struct {
    size_t len;         /* intervals in the run */
    size_t query_start; /* where it starts in the query's intervals */
    size_t tune;        /* the training tune holding it */
    size_t tune_start;  /* where it starts in that tune's intervals */
} mn_copy_run;

/* The tunes sharing the longest verbatim runs with the intervals iv[0..n): for each start in
 * the query, the longest run beginning there and the tunes holding it; then the longest run of
 * each tune, longest first, at most max of them (ties: the lower tune first; within a tune
 * the earliest query start). Returns how many were written. Allocates scratch; 0 also when out of memory. */
size_t mn_copyidx_similar(const mn_copyidx *ix, const int *iv, size_t n, mn_copy_run *out,
                          size_t max);

#endif
