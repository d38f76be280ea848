/* fuzz_message.c - libFuzzer harness for the Pd messages' arguments as core parses them
 * (atom.h, settings.h): every setting of the table (temperature ... novelty, scale names,
 * roots and pitch-class sets included), melodies, listen, note, seed, generate, answer and
 * info. Input: one byte that picks the message, then atoms separated by blanks: a word or
 * number as typed (read as the command reads its words, mn_atom_from_word), or 'f' and 4 raw
 * bytes for any Pd float (NaN, infinities and denormals included).
 * Checks: a refused message leaves the settings and outputs as they were and says why in one
 * line that starts with the message's name (or "usage:"); accepted settings validate, hold
 * values in the table's range, and parse the same again when written back as atoms (the same
 * with the command's word form); the other messages' accepted values are in range;
 * mn_atom_got stays inside buffers of any size. */
#include "atom.h"
#include "settings.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_check.h"

#define MAX_ATOMS 300

/* The setting's stored value(s) as doubles. */
static void field_values(const mn_setting *set, const mn_settings *st, double *lo, double *hi)
{
    const char *p = (const char *)st;
    size_t f[2] = {set->field, set->field_hi};
    double *out[2] = {lo, hi};
    for (int i = 0; i < 2; i++) {
        switch (set->type) {
        case MN_FIELD_FLOAT: *out[i] = *(const float *)(p + f[i]); break;
        case MN_FIELD_DOUBLE: *out[i] = *(const double *)(p + f[i]); break;
        case MN_FIELD_INT: *out[i] = *(const int *)(p + f[i]); break;
        }
    }
}

/* The message said why, in one line, naming what it is about. */
static void check_error(const char *err, const char *name)
{
    FUZZ_CHECK(err[0] && !strchr(err, '\n'), "message '%s'", err);
    FUZZ_CHECK(!strncmp(err, name, strlen(name)) || !strncmp(err, "usage: ", 7)
                   || !strncmp(err, "scale '", 7) || !strncmp(err, "a melody", 8),
               "'%s' does not name %s", err, name);
}

static void fuzz_setting(const mn_setting *set, int argc, const mn_atom *argv)
{
    mn_settings st, before;
    mn_settings_default(&st);
    before = st;
    char err[MN_ERR_LEN] = "";
    mn_status rc = mn_setting_parse(set, NULL, argc, argv, &st, err);
    if (rc != MN_OK) {
        FUZZ_CHECK(rc == MN_ERR_ARG, "%s: status %s", set->name, mn_status_name(rc));
        FUZZ_CHECK(!memcmp(&st, &before, sizeof st), "%s: a refused message changed settings",
                   set->name);
        check_error(err, set->name);
        /* named as the command names it, the same words after the name */
        if (set->option) {
            char err2[MN_ERR_LEN] = "";
            FUZZ_CHECK(mn_setting_parse(set, set->option, argc, argv, &st, err2) == MN_ERR_ARG,
                       "%s refused, %s accepted", set->name, set->option);
            size_t na = strlen(set->name), nb = strlen(set->option);
            const char *e1 = err, *e2 = err2;
            if (!strncmp(e1, "usage: ", 7) && !strncmp(e2, "usage: ", 7)) e1 += 7, e2 += 7;
            /* (a message cut at MN_ERR_LEN is compared as far as both go) */
            size_t cut = strlen(err2) + 1 >= MN_ERR_LEN ? strlen(err2 + nb) : (size_t)-1;
            if (!strncmp(e1, set->name, na) && !strncmp(e2, set->option, nb))
                FUZZ_CHECK(!strncmp(e1 + na, e2 + nb, cut), "'%s' and '%s' differ", err, err2);
            else if (strncmp(e1, set->name, na))
                FUZZ_CHECK(!strcmp(err, err2), "'%s' and '%s' differ", err, err2);
        }
        return;
    }
    FUZZ_CHECK(mn_sampler_validate(&st.sampler, err) == MN_OK, "%s: accepted settings do not "
               "validate: %s", set->name, err);
    FUZZ_CHECK(st.bpm >= 1 && st.bpm <= 1000 && st.legato > 0 && st.legato <= 1,
               "%s: bpm %g legato %g", set->name, st.bpm, st.legato);
    char msg[MN_ERR_LEN];
    if (mn_setting_warning(set, &st, msg)) FUZZ_CHECK(msg[0], "%s: an empty warning", set->name);

    /* written back as atoms, the same settings */
    mn_atom back[16];
    int nb = 0;
    char words[16][32];
    if (!strcmp(set->name, "scale")) {
        if (!st.sampler.scale_on) {
            mn_atom_set_symbol(&back[nb++], "off");
        } else {
            for (int k = 0; k < 12; k++)
                if (st.sampler.scale_mask >> k & 1) mn_atom_set_float(&back[nb++], k);
        }
    } else {
        double lo, hi;
        field_values(set, &st, &lo, &hi);
        if (set->integer)
            FUZZ_CHECK(lo == floor(lo) && hi == floor(hi), "%s: %g %g", set->name, lo, hi);
        FUZZ_CHECK((set->lo_open ? lo > set->lo : lo >= set->lo) && hi <= set->hi && lo <= hi,
                   "%s: %g..%g outside the table's range", set->name, lo, hi);
        mn_atom_set_float(&back[nb++], lo);
        if (set->field_hi != set->field) mn_atom_set_float(&back[nb++], hi);
    }
    mn_settings again;
    mn_settings_default(&again);
    FUZZ_CHECK(mn_setting_parse(set, NULL, nb, back, &again, err) == MN_OK,
               "%s written back refused: %s", set->name, err);
    FUZZ_CHECK(!memcmp(&again.sampler, &st.sampler, sizeof st.sampler) && again.bpm == st.bpm
                   && again.legato == st.legato, "%s: written back, other settings", set->name);
    /* the command's words for the same values (numbers printed in full) */
    for (int i = 0; i < nb; i++) {
        if (back[i].type == MN_ATOM_FLOAT) snprintf(words[i], sizeof words[i], "%.17g", back[i].f);
        else snprintf(words[i], sizeof words[i], "%s", back[i].s);
        mn_atom_from_word(&back[i], words[i]);
    }
    mn_settings_default(&again);
    FUZZ_CHECK(mn_setting_parse(set, set->option, nb, back, &again, err) == MN_OK,
               "%s as words refused: %s", set->name, err);
    FUZZ_CHECK(!memcmp(&again.sampler, &st.sampler, sizeof st.sampler) && again.bpm == st.bpm
                   && again.legato == st.legato, "%s: as words, other settings", set->name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t n_set;
    const mn_setting *table = mn_settings_table(&n_set);
    int which = data[0] % (int)(n_set + 8);
    data++;
    size--;

    /* the atoms; words point into one NUL-separated copy of the input */
    static char text[8192];
    static mn_atom argv[MAX_ATOMS];
    if (size >= sizeof text) return 0;
    int argc = 0;
    size_t t = 0;
    for (size_t i = 0; i < size && argc < MAX_ATOMS;) {
        if (data[i] == ' ' || data[i] == '\t') {
            i++;
            continue;
        }
        if (data[i] == 'f' && i + 5 <= size) {
            float f;
            memcpy(&f, data + i + 1, 4);
            mn_atom_set_float(&argv[argc++], f);
            i += 5;
            continue;
        }
        char *w = text + t;
        while (i < size && data[i] != ' ' && data[i] != '\t') {
            text[t++] = data[i] ? (char)data[i] : '?';
            i++;
        }
        text[t++] = '\0';
        mn_atom_from_word(&argv[argc++], w);
    }

    /* what a message quotes of an atom fits any buffer */
    for (int i = 0; i < argc && i < 4; i++) {
        char small[7], big[600];
        mn_atom_got(&argv[i], small, sizeof small);
        FUZZ_CHECK(memchr(small, '\0', sizeof small) != NULL, "unterminated");
        mn_atom_got(&argv[i], big, sizeof big);
        FUZZ_CHECK(strlen(big) < sizeof big, "unterminated");
        int root = -1;
        char err[MN_ERR_LEN] = "";
        if (mn_settings_root("root", &argv[i], &root, err) == MN_OK)
            FUZZ_CHECK(root >= 0 && root <= 11, "root %d", root);
        else
            FUZZ_CHECK(root == -1 && !strncmp(err, "root expects", 12), "root: '%s'", err);
    }

    char err[MN_ERR_LEN] = "";
    if (which < (int)n_set) {
        fuzz_setting(&table[which], argc, argv);
        return 0;
    }
    switch (which - (int)n_set) {
    case 0: {
        int out[MN_LIST_MAX], n = -1;
        for (int i = 0; i < MN_LIST_MAX; i++) out[i] = -7;
        if (mn_atoms_pitches(argc, argv, out, &n, err) == MN_OK) {
            FUZZ_CHECK(n == argc && n <= MN_LIST_MAX, "%d pitches of %d", n, argc);
            for (int i = 0; i < n; i++)
                FUZZ_CHECK(mn_is_pitch(out[i]) && out[i] == argv[i].f, "pitch %d", out[i]);
        } else {
            FUZZ_CHECK(n == -1 && out[0] == -7, "a refused melody wrote pitches");
            check_error(err, "a melody");
        }
        break;
    }
    case 1: {
        mn_event e = {-7, -7, -7, -7, -7};
        if (mn_atoms_listen(argc, argv, &e, err) == MN_OK) {
            FUZZ_CHECK(mn_is_pitch(e.pitch) && e.velocity == MN_DEFAULT_VELOCITY
                           && e.dur_ticks >= 1 && e.dur_ticks <= MN_MAX_DUR_TICKS
                           && e.pos_ticks == 0 && e.bar_ticks == 0,
                       "listen: %d %d %d", e.pitch, e.velocity, e.dur_ticks);
        } else {
            FUZZ_CHECK(e.pitch == -7 && e.dur_ticks == -7, "a refused listen wrote the event");
            check_error(err, "listen");
        }
        break;
    }
    case 2: {
        int p = -7, v = -7;
        if (mn_atoms_note(argc, argv, &p, &v, err) == MN_OK)
            FUZZ_CHECK(mn_is_pitch(p) && v >= 0 && v <= 127, "note %d %d", p, v);
        else {
            FUZZ_CHECK(p == -7 && v == -7, "a refused note wrote");
            check_error(err, "note");
        }
        break;
    }
    case 3: {
        uint64_t seed = 77;
        if (mn_atoms_seed("seed", argc, argv, &seed, err) == MN_OK)
            FUZZ_CHECK(argc == 1 && seed <= 4294967295ull && (double)seed == argv[0].f,
                       "seed %llu", (unsigned long long)seed);
        else {
            FUZZ_CHECK(seed == 77, "a refused seed wrote");
            check_error(err, "seed");
        }
        break;
    }
    case 5: {
        int n = -7;
        if (mn_atoms_generate(argc, argv, &n, err) == MN_OK)
            FUZZ_CHECK(argc == 1 && n >= 1 && n <= MN_GENERATE_MAX && n == argv[0].f,
                       "generate %d", n);
        else {
            FUZZ_CHECK(n == -7, "a refused generate wrote");
            check_error(err, "generate");
        }
        break;
    }
    case 6: {
        double beats = -7;
        int notes = -7;
        if (mn_atoms_answer(argc, argv, &beats, &notes, err) == MN_OK)
            FUZZ_CHECK(beats >= 0 && beats <= 64 && notes >= 0 && notes <= MN_GENERATE_MAX,
                       "answer %g %d", beats, notes);
        else {
            FUZZ_CHECK(beats == -7 && notes == -7, "a refused answer wrote");
            check_error(err, "answer");
        }
        break;
    }
    case 7: {
        int post = -7;
        const char *key = "?";
        if (mn_atoms_info(argc, argv, &post, &key, err) == MN_OK)
            FUZZ_CHECK((post == 0 || post == 1) && argc == post + (key != NULL),
                       "info: post %d key %s of %d atoms", post, key ? key : "none", argc);
        else {
            FUZZ_CHECK(post == -7, "a refused info wrote");
            check_error(err, "info");
        }
        break;
    }
    case 4:
    default: {
        /* a setting by its name, as Pd dispatches a message: the first atom is the selector */
        if (argc < 1 || argv[0].type != MN_ATOM_SYMBOL) break;
        const mn_setting *set = mn_setting_find(argv[0].s);
        if (set) {
            FUZZ_CHECK(!strcmp(set->name, argv[0].s), "found %s for %s", set->name, argv[0].s);
            fuzz_setting(set, argc - 1, argv + 1);
        }
        break;
    }
    }
    return 0;
}
