/* atom.c - message arguments as numbers and words, and the messages that are not settings
 * (see atom.h). */
#include "atom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mn_atom_set_float(mn_atom *a, double f)
{
    a->type = MN_ATOM_FLOAT;
    a->f = f;
    a->s = "";
}

void mn_atom_set_symbol(mn_atom *a, const char *s)
{
    a->type = MN_ATOM_SYMBOL;
    a->f = 0;
    a->s = s ? s : "";
}

void mn_atom_from_word(mn_atom *a, const char *word)
{
    if (!word) word = "";
    /* only decimal forms: strtod alone would also take "nan", "inf" and hexadecimal */
    int decimal = *word && strspn(word, "0123456789+-.eE") == strlen(word)
                  && strpbrk(word, "0123456789");
    if (decimal) {
        char *end;
        double f = strtod(word, &end);
        if (*end == '\0' && isfinite(f)) {
            mn_atom_set_float(a, f);
            return;
        }
    }
    mn_atom_set_symbol(a, word);
}

const char *mn_atom_got(const mn_atom *a, char *buf, size_t n)
{
    if (n == 0) return buf;
    if (a->type == MN_ATOM_FLOAT) {
        snprintf(buf, n, "%g", a->f);
        return buf;
    }
    size_t j = 0;
    if (j + 1 < n) buf[j++] = '\'';
    for (const char *c = a->s; *c && j + 3 < n; c++) {
        unsigned char u = (unsigned char)*c;
        if (strchr(" ,;\\$", *c)) buf[j++] = '\\';
        buf[j++] = u < 0x20 || u == 0x7f ? '?' : *c; /* the message stays one line */
    }
    if (j + 1 < n) buf[j++] = '\'';
    buf[j] = '\0';
    return buf;
}

int mn_atom_int(const mn_atom *a, double lo, double hi, int *out)
{
    if (a->type != MN_ATOM_FLOAT || a->f != floor(a->f) || !(a->f >= lo && a->f <= hi)) return 0;
    *out = (int)a->f;
    return 1;
}

/* "SEL expects WHAT, got X" for argv[i] (or "got nothing" past the end). */
static mn_status expects(char *err, const char *sel, const char *what, int argc,
                         const mn_atom *argv, int i)
{
    char got[96];
    if (i < argc) mn_atom_got(&argv[i], got, sizeof got);
    else snprintf(got, sizeof got, "nothing");
    return mn_errf(err, MN_ERR_ARG, "%s expects %s, got %s", sel, what, got);
}

mn_status mn_atoms_pitches(int argc, const mn_atom *argv, int *out, int *n, char *err)
{
    if (argc > MN_LIST_MAX)
        return mn_errf(err, MN_ERR_ARG, "a melody holds at most %d pitches, got %d", MN_LIST_MAX,
                       argc);
    for (int i = 0; i < argc; i++) {
        int p;
        if (!mn_atom_int(&argv[i], 0, 127, &p)) {
            /* the number quoted too: the position names the atom */
            char got[96];
            mn_atom one = argv[i];
            if (one.type == MN_ATOM_FLOAT) {
                snprintf(got, sizeof got, "'%g'", one.f);
            } else {
                mn_atom_got(&one, got, sizeof got);
            }
            return mn_errf(err, MN_ERR_ARG, "a melody is MIDI pitches 0..127, got %s at %d", got,
                           i + 1);
        }
    }
    for (int i = 0; i < argc; i++) out[i] = (int)argv[i].f;
    *n = argc;
    return MN_OK;
}

mn_status mn_atoms_listen(int argc, const mn_atom *argv, mn_event *e, char *err)
{
    int p;
    double beats = 1;
    if (argc < 1 || argc > 2)
        return mn_errf(err, MN_ERR_ARG, "usage: listen PITCH [DURATION_BEATS]");
    if (!mn_atom_int(&argv[0], 0, 127, &p))
        return expects(err, "listen", "a MIDI pitch 0..127", argc, argv, 0);
    if (argc == 2) {
        if (argv[1].type != MN_ATOM_FLOAT)
            return expects(err, "listen", "a duration in beats", argc, argv, 1);
        beats = argv[1].f;
        if (!(beats >= 1.0 / MN_TPQ && beats <= (double)MN_MAX_DUR_TICKS / MN_TPQ))
            return mn_errf(err, MN_ERR_ARG,
                           "listen expects a duration of %g..%d beats, got %g (for a player's "
                           "note-on and note-off use note PITCH VELOCITY)",
                           1.0 / MN_TPQ, MN_MAX_DUR_TICKS / MN_TPQ, beats);
    }
    memset(e, 0, sizeof *e);
    e->pitch = p;
    e->velocity = MN_DEFAULT_VELOCITY;
    e->dur_ticks = (int)lrint(beats * MN_TPQ);
    if (e->dur_ticks < 1) e->dur_ticks = 1;
    return MN_OK;
}

mn_status mn_atoms_note(int argc, const mn_atom *argv, int *pitch, int *velocity, char *err)
{
    int p, v;
    if (argc != 2)
        return mn_errf(err, MN_ERR_ARG,
                       "usage: note PITCH VELOCITY (0..127; velocity 0 = note-off)");
    if (!mn_atom_int(&argv[0], 0, 127, &p))
        return expects(err, "note", "a MIDI pitch 0..127", argc, argv, 0);
    if (!mn_atom_int(&argv[1], 0, 127, &v))
        return expects(err, "note", "a velocity 0..127 (0 = note-off)", argc, argv, 1);
    *pitch = p;
    *velocity = v;
    return MN_OK;
}

mn_status mn_atoms_generate(int argc, const mn_atom *argv, int *n, char *err)
{
    if (argc != 1 || !mn_atom_int(&argv[0], 1, MN_GENERATE_MAX, n))
        return mn_errf(err, MN_ERR_ARG, "generate expects a count 1..%d", MN_GENERATE_MAX);
    return MN_OK;
}

mn_status mn_atoms_answer(int argc, const mn_atom *argv, double *beats, int *notes, char *err)
{
    int k = 0;
    if (argc < 1 || argc > 2 || argv[0].type != MN_ATOM_FLOAT
        || !(argv[0].f >= 0 && argv[0].f <= 64)
        || (argc == 2 && !mn_atom_int(&argv[1], 0, MN_GENERATE_MAX, &k)))
        return mn_errf(err, MN_ERR_ARG, "usage: answer BEATS [NOTES] (BEATS of silence 0..64, "
                       "0 = off; NOTES 0..%d, 0 = until the player plays)", MN_GENERATE_MAX);
    *beats = argv[0].f;
    *notes = k;
    return MN_OK;
}

mn_status mn_atoms_info(int argc, const mn_atom *argv, int *post, const char **key, char *err)
{
    int p = 0;
    const char *k = NULL;
    for (int i = 0; i < argc; i++) {
        if (argv[i].type != MN_ATOM_SYMBOL)
            return mn_errf(err, MN_ERR_ARG, "usage: info [post] [KEY]");
        if (!strcmp(argv[i].s, "post") && !p && !k) p = 1;
        else if (!k) k = argv[i].s;
        else return mn_errf(err, MN_ERR_ARG, "usage: info [post] [KEY]");
    }
    *post = p;
    *key = k;
    return MN_OK;
}

mn_status mn_atoms_seed(const char *sel, int argc, const mn_atom *argv, uint64_t *seed,
                        char *err)
{
    if (argc != 1 || argv[0].type != MN_ATOM_FLOAT || argv[0].f != floor(argv[0].f)
        || !(argv[0].f >= 0 && argv[0].f <= MN_SEED_MAX)) {
        if (argc > 1)
            return mn_errf(err, MN_ERR_ARG, "%s expects one integer seed >= 0 (a melody is a "
                           "list or prime P1 P2 ...)", sel);
        return mn_errf(err, MN_ERR_ARG, "%s expects an integer seed >= 0", sel);
    }
    *seed = (uint64_t)argv[0].f;
    return MN_OK;
}
