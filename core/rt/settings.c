/* settings.c - the settings table and its parsers (see settings.h). */
#include "settings.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void mn_settings_default(mn_settings *st)
{
    mn_sampler_default(&st->sampler);
    st->bpm = MN_BPM_DEFAULT;
    st->legato = MN_LEGATO_DEFAULT;
}

/*=== values =================================================================================*/

const char *mn_setting_values(const mn_setting *set, char *buf, size_t n)
{
    const char *note = set->note ? set->note : "";
    const char *sp = set->note ? " " : "";
    if (!set->noun)
        snprintf(buf, n, "%g or %g%s%s", set->lo, set->hi, sp, note);
    else if (set->integer)
        snprintf(buf, n, "%s %g..%g%s%s", set->noun, set->lo, set->hi, sp, note);
    else if (set->lo_open)
        snprintf(buf, n, "%s in (%g, %g]%s%s", set->noun, set->lo, set->hi, sp, note);
    else
        snprintf(buf, n, "%s in %g..%g%s%s", set->noun, set->lo, set->hi, sp, note);
    return buf;
}

static mn_status expects(const mn_setting *set, const char *as, const mn_atom *a, char *err)
{
    char what[96], got[96];
    return mn_errf(err, MN_ERR_ARG, "%s expects %s, got %s", as,
                   mn_setting_values(set, what, sizeof what), mn_atom_got(a, got, sizeof got));
}

static mn_status usage(const mn_setting *set, const char *as, char *err)
{
    return mn_errf(err, MN_ERR_ARG, "usage: %s %s", as, set->usage);
}

/* One value of set: a number of its kind in its range. */
static int value_ok(const mn_setting *set, const mn_atom *a, double *out)
{
    if (a->type != MN_ATOM_FLOAT) return 0;
    /* a float field is checked as it will be stored: 1e-50 is no temperature above 0 */
    double f = set->type == MN_FIELD_FLOAT ? (double)(float)a->f : a->f;
    if (set->integer && f != floor(f)) return 0;
    if (!(set->lo_open ? f > set->lo : f >= set->lo) || !(f <= set->hi)) return 0;
    *out = f;
    return 1;
}

static void store(const mn_setting *set, size_t field, double v, mn_settings *st)
{
    char *p = (char *)st + field;
    switch (set->type) {
    case MN_FIELD_FLOAT: *(float *)p = (float)v; break;
    case MN_FIELD_DOUBLE: *(double *)p = v; break;
    case MN_FIELD_INT: *(int *)p = (int)v; break;
    }
}

/* One value. */
static mn_status parse_value(const mn_setting *set, const char *as, int argc,
                             const mn_atom *argv, mn_settings *st, char *err)
{
    double v;
    if (argc < set->min_args || argc > set->max_args) return usage(set, as, err);
    if (!value_ok(set, &argv[0], &v)) return expects(set, as, &argv[0], err);
    store(set, set->field, v, st);
    return MN_OK;
}

/* LO HI, or (min_args 1) one value for both. */
static mn_status parse_pair(const mn_setting *set, const char *as, int argc,
                            const mn_atom *argv, mn_settings *st, char *err)
{
    double lo, hi;
    if (argc < set->min_args || argc > set->max_args) return usage(set, as, err);
    if (!value_ok(set, &argv[0], &lo)) return expects(set, as, &argv[0], err);
    hi = lo;
    if (argc == 2 && !value_ok(set, &argv[1], &hi)) return expects(set, as, &argv[1], err);
    if (lo > hi) return mn_errf(err, MN_ERR_ARG, "%s expects LO <= HI, got %g %g", as, lo, hi);
    store(set, set->field, lo, st);
    store(set, set->field_hi, hi, st);
    return MN_OK;
}

/*=== scales =================================================================================*/

mn_status mn_settings_root(const char *as, const mn_atom *a, int *root, char *err)
{
    int r = -1;
    if (a->type == MN_ATOM_FLOAT) {
        mn_atom_int(a, 0, 11, &r);
    } else {
        static const int base[7] = {9, 11, 0, 2, 4, 5, 7}; /* A..G */
        const char *n = a->s;
        char c = n[0], acc = c ? n[1] : '\0';
        if (c >= 'a' && c <= 'g') c = (char)(c - 'a' + 'A');
        if (c >= 'A' && c <= 'G' && (acc == '\0' || n[2] == '\0')) {
            if (acc == '\0') r = base[c - 'A'];
            else if (acc == '#' || acc == 's' || acc == 'S') r = (base[c - 'A'] + 1) % 12;
            else if (acc == 'b' || acc == 'B') r = (base[c - 'A'] + 11) % 12;
        }
    }
    if (r < 0) {
        char got[96];
        return mn_errf(err, MN_ERR_ARG, "%s expects a root 0..11 or a note name (C, F#, Bb), "
                       "got %s", as, mn_atom_got(a, got, sizeof got));
    }
    *root = r;
    return MN_OK;
}

/* off | none, NAME [ROOT], or pitch classes. */
static mn_status parse_scale(const mn_setting *set, const char *as, int argc,
                             const mn_atom *argv, mn_settings *st, char *err)
{
    mn_sampler *sp = &st->sampler;
    if (argc < 1) return usage(set, as, err);
    if (argv[0].type == MN_ATOM_SYMBOL
        && (!strcasecmp(argv[0].s, "off") || !strcasecmp(argv[0].s, "none"))) {
        if (argc != 1) return mn_errf(err, MN_ERR_ARG, "usage: %s %s", as, argv[0].s);
        sp->scale_on = 0;
        return MN_OK;
    }
    uint16_t mask = 0;
    if (argv[0].type == MN_ATOM_SYMBOL) {
        int root = 0;
        if (argc > 2) return mn_errf(err, MN_ERR_ARG, "usage: %s NAME [ROOT]", as);
        if (argc == 2) {
            char what[96];
            char name[41]; /* the name as typed, at most 40 bytes, on one line */
            size_t k = 0;
            for (; argv[0].s[k] && k < sizeof name - 1; k++) {
                unsigned char c = (unsigned char)argv[0].s[k];
                name[k] = c < 0x20 || c == 0x7f ? '?' : (char)c;
            }
            name[k] = '\0';
            snprintf(what, sizeof what, "%.40s %s", as, name);
            if (mn_settings_root(what, &argv[1], &root, err)) return MN_ERR_ARG;
        }
        if (mn_scale_mask(argv[0].s, root, &mask, err) != MN_OK) return MN_ERR_ARG;
    } else {
        for (int i = 0; i < argc; i++) {
            int pc;
            if (!mn_atom_int(&argv[i], 0, 11, &pc)) {
                char got[96];
                return mn_errf(err, MN_ERR_ARG, "%s expects pitch classes 0..11, got %s", as,
                               mn_atom_got(&argv[i], got, sizeof got));
            }
            mask |= (uint16_t)(1u << pc);
        }
    }
    sp->scale_on = 1;
    sp->scale_mask = mask;
    return MN_OK;
}

/*=== the table ==============================================================================*/

#define F(member) offsetof(mn_settings, member)
#define S(member) offsetof(mn_settings, sampler.member)

static const mn_setting table[] = {
    {"temperature", "--temperature", "f (0 < f <= 100; 1 = the model's own odds)", 1, 1,
     "a number", 0, 0, 100, 1, NULL, parse_value, MN_FIELD_FLOAT, S(temperature), S(temperature)},
    {"topk", "--top-k", "n (0 = off)", 1, 1, "an integer", 1, 0, MN_N_PITCH, 0, "(0 = off)",
     parse_value, MN_FIELD_INT, S(top_k), S(top_k)},
    {"topp", "--top-p", "f (0 < f <= 1; 1 = off)", 1, 1, "a number", 0, 0, 1, 1, NULL,
     parse_value, MN_FIELD_FLOAT, S(top_p), S(top_p)},
    {"scale", "--scale", "NAME [ROOT] | scale pc1 pc2 ... | scale off", 1, -1, NULL, 0, 0, 0, 0,
     NULL, parse_scale, MN_FIELD_INT, S(scale_mask), S(scale_mask)},
    {"range", "--range", "LO HI (MIDI pitches 0..127)", 2, 2, "a MIDI pitch", 1, 0, 127, 0,
     NULL, parse_pair, MN_FIELD_INT, S(pitch_lo), S(pitch_hi)},
    {"rest", NULL, "0|1", 1, 1, NULL, 1, 0, 1, 0, NULL, parse_value, MN_FIELD_INT,
     S(allow_rest), S(allow_rest)},
    {"bpm", "--bpm", "f (quarter notes per minute, 1..1000)", 1, 1, "a tempo", 0, 1, 1000, 0,
     NULL, parse_value, MN_FIELD_DOUBLE, F(bpm), F(bpm)},
    {"velocity", "--velocity", "V | velocity LO HI (1..127)", 1, 2, "a velocity", 1, 1, 127, 0,
     NULL, parse_pair, MN_FIELD_INT, S(velocity_lo), S(velocity_hi)},
    {"accent", NULL, "N (velocity added on the bar's first beat)", 1, 1, "an integer", 1, 0,
     127, 0, NULL, parse_value, MN_FIELD_INT, S(accent), S(accent)},
    {"motif", "--motif", "f (0 = off ... 1 = as in real tunes)", 1, 1, "a number", 0, 0, 1, 0,
     NULL, parse_value, MN_FIELD_FLOAT, S(motif), S(motif)},
    {"legato", NULL, "f (0 < f <= 1)", 1, 1, "a number", 0, 0, 1, 1, NULL, parse_value,
     MN_FIELD_DOUBLE, F(legato), F(legato)},
    {"novelty", "--max-copy", "K (longest run copied from a training tune, 0 = off)", 1, 1,
     "an integer", 1, 0, MN_SAMPLER_MAX_COPY, 0, NULL, parse_value, MN_FIELD_INT, S(max_copy),
     S(max_copy)},
};

#undef F
#undef S

const mn_setting *mn_settings_table(size_t *n)
{
    if (n) *n = sizeof table / sizeof table[0];
    return table;
}

const mn_setting *mn_setting_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(table[i].name, name)) return &table[i];
    return NULL;
}

mn_status mn_setting_parse(const mn_setting *set, const char *as, int argc,
                           const mn_atom *argv, mn_settings *st, char *err)
{
    if (!set || !st || argc < 0 || (argc > 0 && !argv))
        return mn_errf(err, MN_ERR_ARG, "settings: nothing to parse");
    if (!as) as = set->name;
    mn_settings t = *st;
    mn_status s = set->parse(set, as, argc, argv, &t, err);
    if (s == MN_OK) s = mn_sampler_validate(&t.sampler, err);
    if (s != MN_OK) return MN_ERR_ARG;
    *st = t;
    return MN_OK;
}

int mn_setting_warning(const mn_setting *set, const mn_settings *st, char *msg)
{
    const mn_sampler *sp = &st->sampler;
    const char *sel = set->name;
    if ((!strcmp(sel, "scale") || !strcmp(sel, "range")) && sp->scale_on) {
        for (int k = sp->pitch_lo; k <= sp->pitch_hi; k++)
            if (sp->scale_mask >> (k % 12) & 1) return 0;
        char pcs[64];
        size_t len = 0;
        pcs[0] = '\0';
        for (int k = 0; k < 12; k++)
            if (sp->scale_mask & (1u << k))
                len += (size_t)snprintf(pcs + len, sizeof pcs - len, "%s%s", len ? " " : "",
                                        mn_pitch_class_name(k));
        mn_errf(msg, MN_OK, "%s: the scale (%s) has no pitch in the range %d..%d, so the scale "
                "is ignored and any pitch of the range plays until the scale or range changes",
                sel, pcs, sp->pitch_lo, sp->pitch_hi);
        return 1;
    }
    if ((!strcmp(sel, "velocity") || !strcmp(sel, "accent")) && sp->accent > 0
        && sp->velocity_hi + sp->accent > 127) {
        mn_errf(msg, MN_OK, "%s: velocity %d..%d plus accent %d passes 127, so accented notes "
                "are held at 127", sel, sp->velocity_lo, sp->velocity_hi, sp->accent);
        return 1;
    }
    return 0;
}
