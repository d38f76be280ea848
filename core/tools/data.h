/* data.h - corpora for training and evaluation: expands arguments (MIDI files, folders searched
 * recursively, and list files: `.txt` files with one path per line relative to the list's
 * folder) into MIDI paths, reads each into a melody, and records every file skipped with the
 * reason, so callers can report it. */
#ifndef MN_DATA_H
#define MN_DATA_H

#include "base.h"
#include "event.h"
#include "midi.h"

#define MN_DATA_MAX_FILES 1000000
#define MN_DATA_MAX_LIST_BYTES (256u << 20) /* a list file: a million paths of 256 bytes */

typedef struct {
    char *path;   /* the file as named by the argument or the list */
    char *reason; /* one line: why it was skipped */
} mn_skip;

/* Polyphonic input is reduced to its top voice (midi.h). A file whose reduction keeps less than
 * this share of its notes is skipped (it is piano music or a chord track, not a melody); one
 * that keeps more but not all is used and listed in mn_corpus.reduced. */
#define MN_DATA_MIN_KEPT 0.5

typedef struct {
    char *path;        /* the file */
    size_t notes_in;   /* notes it holds (after track/channel selection) */
    size_t notes_kept; /* notes of its top voice, the melody used */
} mn_reduced;

typedef struct {
    mn_melody *mels;  /* [n] melodies read, in argument order (folders sorted by name) */
    char **paths;     /* [n] source path of each melody */
    size_t n;
    mn_skip *skipped; /* [n_skipped] files that could not be used, with the reason */
    size_t n_skipped;
    size_t n_events;  /* total events over mels */
    mn_reduced *reduced; /* [n_reduced] files used whose reduction dropped notes */
    size_t n_reduced;
} mn_corpus;

/* Expands the arguments into paths (owned by the caller: free each with mn_free, then the
 * array). Arguments that do not exist are kept as paths so that loading reports them as
 * skipped. A folder's walk follows symbolic links but enters each folder once and lists each
 * file once (by device and inode), so link loops are harmless; files named by separate
 * arguments or list lines are kept as given. MN_ERR_IO for an unreadable list file or folder,
 * MN_ERR_LIMIT past MN_DATA_MAX_FILES files, a list file larger than MN_DATA_MAX_LIST_BYTES or
 * folders nested more than 64 deep. */
mn_status mn_data_expand(const char *const *args, size_t n_args, char ***paths, size_t *n_paths,
                         char *err);

/* Loads every file the arguments name into c (initialised here). Files that cannot be read, hold
 * no notes, or whose top voice keeps less than MN_DATA_MIN_KEPT of their notes are recorded in
 * c->skipped (the reason says how much was kept), files reduced less in c->reduced; both and do not fail the call; progress, when non-NULL,
 * is called after each file (done, total). Fails only on allocation or expansion errors, or
 * with MN_ERR_EMPTY when no file gave a melody (c still lists the skipped files then). */
mn_status mn_corpus_load(mn_corpus *c, const char *const *args, size_t n_args,
                         const mn_midi_options *opt, void (*progress)(size_t done, size_t total,
                         void *ctx), void *ctx, char *err);
void mn_corpus_free(mn_corpus *c); /* frees everything and leaves c empty; NULL is a no-op */

#endif
