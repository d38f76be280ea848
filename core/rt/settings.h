/* settings.h - the settings of generation that a user sets, and the one vocabulary for them:
 * a table gives each setting its name (the Pd method) and the command's option, the values it
 * takes, and parses them from atoms (atom.h) into an mn_settings, with one error text per
 * rule. The Pd methods and the options of `melodynet generate` both go through it, so they
 * accept and refuse the same values with the same words. No allocation. */
#ifndef MN_SETTINGS_H
#define MN_SETTINGS_H

#include <stddef.h>

#include "atom.h"
#include "base.h"
#include "sampler.h"

#define MN_BPM_DEFAULT 120.0   /* quarter notes per minute */
#define MN_LEGATO_DEFAULT 0.8

typedef struct {
    mn_sampler sampler;  /* what the core sampler uses */
    double bpm;          /* quarter notes per minute; a beat is a quarter note */
    double legato;       /* part of a note's inter-onset time it sounds, (0, 1]: the gate of
                          * [melodynet~], the duration_ms both objects send for [makenote] */
} mn_settings;

/* mn_sampler_default, MN_BPM_DEFAULT, MN_LEGATO_DEFAULT. */
void mn_settings_default(mn_settings *st);

typedef enum { MN_FIELD_FLOAT, MN_FIELD_DOUBLE, MN_FIELD_INT } mn_field_type;

typedef struct mn_setting mn_setting;

/* Parses argc atoms as set's values into st; see mn_setting_parse. */
typedef mn_status (*mn_setting_parse_fn)(const mn_setting *set, const char *as, int argc,
                                         const mn_atom *argv, mn_settings *st, char *err);

struct mn_setting {
    const char *name;     /* the Pd method, and the word messages name it by: "topk" */
    const char *option;   /* the option of `melodynet generate` ("--top-k"), NULL if none */
    const char *usage;    /* its arguments, for "usage: NAME USAGE" */
    int min_args, max_args; /* how many values (scale: any number of pitch classes, -1) */
    const char *noun;     /* what one value is: "a number", "a MIDI pitch" */
    int integer;          /* whole numbers only */
    double lo, hi;        /* every value in lo..hi */
    int lo_open;          /* lo itself refused: (lo, hi] */
    const char *note;     /* said after the range ("(0 = off)"), or NULL */
    mn_setting_parse_fn parse;
    mn_field_type type;   /* of the fields */
    size_t field;         /* offsetof(mn_settings, ...) of the value (the lower one of two) */
    size_t field_hi;      /* of the upper value of a pair (range, velocity), else = field */
};

/* Every setting, in the order help texts list them; *n gets the count. */
const mn_setting *mn_settings_table(size_t *n);

/* The setting of a Pd method name, or NULL. */
const mn_setting *mn_setting_find(const char *name);

/* What one value of set is, as error messages say it: "a number in (0, 100]",
 * "an integer 0..129 (0 = off)". Returns buf. */
const char *mn_setting_values(const mn_setting *set, char *buf, size_t n);

/* Parses argv as set's values into st. `as` is what the user typed to name it (the Pd method
 * or the command's option; NULL: set->name) and starts every message. On success the sampler
 * settings validate and MN_OK comes back; else MN_ERR_ARG with one line in err and st
 * unchanged. The rules and their words:
 *   a count of values outside min_args..max_args  "usage: AS USAGE"
 *   a value that is not one                       "AS expects VALUES, got X"
 *   a pair out of order (range, velocity)         "AS expects LO <= HI, got LO HI"
 * and for scale: "usage: ...", a root (mn_settings_root), a name (mn_scale_mask) or pitch
 * classes ("AS expects pitch classes 0..11, got X"). */
mn_status mn_setting_parse(const mn_setting *set, const char *as, int argc,
                           const mn_atom *argv, mn_settings *st, char *err);

/* The root of a scale: a pitch class 0..11 or a note name, a letter A..G in either case with
 * an optional accidental: '#' or 's' sharp, 'b' flat (either case), so "Cb" is 11 and "Cs" 1.
 * On failure "AS expects a root 0..11 or a note name (C, F#, Bb), got X". */
mn_status mn_settings_root(const char *as, const mn_atom *a, int *root, char *err);

/* After set changed st: whether the setting acts otherwise than asked (a scale with no pitch
 * in the range, which the sampler then ignores; velocity plus accent past 127, held at 127).
 * Returns 1 with one line in msg (MN_ERR_LEN bytes), else 0. */
int mn_setting_warning(const mn_setting *set, const mn_settings *st, char *msg);

#endif
