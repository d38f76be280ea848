/* atom.h - the arguments of a message without Pd: each one a number or a word, as Pd's atoms
 * are, and the parsing of the message arguments of [melodynet] and [melodynet~] that are not
 * settings (settings.h has those): melodies, `listen`, `note`, `generate`, `answer`, `info`
 * and `seed`. The externals turn
 * Pd's atoms into these, the command turns its words into them, so both parse alike and the
 * parsers can be tested and fuzzed without Pd. Errors are one line that starts with the
 * message's name ("listen expects a MIDI pitch 0..127, got 200"); a failed parse writes
 * nothing. No allocation. */
#ifndef MN_ATOM_H
#define MN_ATOM_H

#include "base.h"
#include "event.h"

typedef enum { MN_ATOM_FLOAT, MN_ATOM_SYMBOL } mn_atom_type;

typedef struct {
    mn_atom_type type;
    double f;       /* MN_ATOM_FLOAT: the number */
    const char *s;  /* MN_ATOM_SYMBOL: the word, borrowed (never NULL) */
} mn_atom;

void mn_atom_set_float(mn_atom *a, double f);
void mn_atom_set_symbol(mn_atom *a, const char *s); /* s is borrowed; NULL is the empty word */

/* A word of the command line as Pd reads a typed word: a number when the whole word is a
 * finite decimal number ("60", "-1", "0.5", "1e-3"), else a word (borrowed). */
void mn_atom_from_word(mn_atom *a, const char *word);

/* The atom as an error message quotes what it got: a number as Pd prints it (%g), a word in
 * single quotes with the characters Pd escapes (space , ; \ $) escaped and control characters
 * shown as '?', so that the message stays one line. Returns buf. */
const char *mn_atom_got(const mn_atom *a, char *buf, size_t n);

/* The atom as a whole number in lo..hi: 1 with *out set, else 0. */
int mn_atom_int(const mn_atom *a, double lo, double hi, int *out);

#define MN_LIST_MAX 256 /* pitches one melody message (a list, `prime`) may hold */

/* A melody message: MIDI pitches 0..127, at most MN_LIST_MAX. Writes them to out (room for
 * MN_LIST_MAX) and their count to *n. */
mn_status mn_atoms_pitches(int argc, const mn_atom *argv, int *out, int *n, char *err);

/* `listen PITCH [DURATION_BEATS]`: a note of DURATION_BEATS quarter notes (default 1, in
 * 1/MN_TPQ..MN_MAX_DUR_TICKS/MN_TPQ, rounded to ticks) at MN_DEFAULT_VELOCITY; pos_ticks and
 * bar_ticks 0. */
mn_status mn_atoms_listen(int argc, const mn_atom *argv, mn_event *e, char *err);

/* `note PITCH VELOCITY`: 0..127 each, velocity 0 a note-off. */
mn_status mn_atoms_note(int argc, const mn_atom *argv, int *pitch, int *velocity, char *err);

#define MN_GENERATE_MAX 1024 /* notes one `generate N` emits, and one answer plays, at most */

/* `generate N`: a count 1..MN_GENERATE_MAX. */
mn_status mn_atoms_generate(int argc, const mn_atom *argv, int *n, char *err);

/* `answer BEATS [NOTES]`: BEATS of silence 0..64 (0 = off), NOTES 0..MN_GENERATE_MAX (0, the
 * default: until the player plays). */
mn_status mn_atoms_answer(int argc, const mn_atom *argv, double *beats, int *notes, char *err);

/* `info [post] [KEY]`: *post 1 with `post` first, *key the word of KEY (borrowed) or NULL. */
mn_status mn_atoms_info(int argc, const mn_atom *argv, int *post, const char **key, char *err);

/* `seed N`, `randomseed N`, `-seed N` (sel names it): one whole number 0..MN_SEED_MAX. */
#define MN_SEED_MAX 4294967295.0
mn_status mn_atoms_seed(const char *sel, int argc, const mn_atom *argv, uint64_t *seed,
                        char *err);

#endif
