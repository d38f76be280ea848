/* test_settings.c - the settings table: every entry's limits, both ends of each range, one
 * error text per rule whatever the setting is called by, roots and scales, warnings, and a
 * refused message leaving the settings as they were. */
#include "testutil.h"

#include "settings.h"

#include <math.h>

/* Parses the words of a message into *st as Pd would receive them. */
static mn_status parse(const char *name, const char *as, const char *words, mn_settings *st,
                       char *err)
{
    static char buf[512];
    mn_atom a[32];
    int n = 0;
    snprintf(buf, sizeof buf, "%s", words);
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w && n < 32;
         w = strtok_r(NULL, " ", &save))
        mn_atom_from_word(&a[n++], w);
    const mn_setting *set = mn_setting_find(name);
    assert_non_null(set);
    return mn_setting_parse(set, as, n, a, st, err);
}

static void expect_ok(const char *name, const char *words, mn_settings *st)
{
    char err[MN_ERR_LEN] = "";
    if (parse(name, NULL, words, st, err) != MN_OK) fail_msg("%s %s: %s", name, words, err);
}

/* Refused with exactly want (the name as typed included), st unchanged. */
static void expect_err(const char *name, const char *as, const char *words, const char *want)
{
    mn_settings st, before;
    mn_settings_default(&st);
    before = st;
    char err[MN_ERR_LEN] = "";
    assert_int_equal(parse(name, as, words, &st, err), MN_ERR_ARG);
    if (strcmp(err, want)) fail_msg("%s %s: '%s', expected '%s'", name, words, err, want);
    assert_memory_equal(&st, &before, sizeof st);
}

static void test_table_names_and_defaults(void **state)
{
    (void)state;
    size_t n;
    const mn_setting *t = mn_settings_table(&n);
    const char *names[] = {"temperature", "topk", "topp", "scale", "range", "rest", "bpm",
                           "velocity", "accent", "motif", "legato", "novelty"};
    assert_int_equal(n, sizeof names / sizeof names[0]);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(t[i].name, names[i]);
        assert_ptr_equal(mn_setting_find(names[i]), &t[i]);
        assert_non_null(t[i].usage);
        assert_non_null(t[i].parse);
    }
    assert_null(mn_setting_find("tempo"));
    assert_null(mn_setting_find(NULL));
    mn_settings st;
    mn_settings_default(&st);
    assert_true(st.bpm == MN_BPM_DEFAULT && st.legato == MN_LEGATO_DEFAULT);
    assert_int_equal(st.sampler.velocity_lo, MN_DEFAULT_VELOCITY);
    assert_int_equal(st.sampler.velocity_hi, MN_DEFAULT_VELOCITY);
}

/* Each numeric setting at both ends of its range and just past them. */
static void test_limits(void **state)
{
    (void)state;
    static const struct {
        const char *name, *in, *out, *values;
    } c[] = {
        {"temperature", "0.000001 100", "0 100.001", "a number in (0, 100]"},
        {"topk", "0 129", "-1 130", "an integer 0..129 (0 = off)"},
        {"topp", "0.000001 1", "0 1.001", "a number in (0, 1]"},
        {"rest", "0 1", "-1 2", "0 or 1"},
        {"bpm", "1 1000", "0.999 1000.5", "a tempo in 1..1000"},
        {"accent", "0 127", "-1 128", "an integer 0..127"},
        {"motif", "0 1", "-0.001 1.001", "a number in 0..1"},
        {"legato", "0.001 1", "0 1.001", "a number in (0, 1]"},
        {"novelty", "0 62", "-1 63", "an integer 0..62"},
        {"range", "0 127", "-1 128", "a MIDI pitch 0..127"},
        {"velocity", "1 127", "0 128", "a velocity 1..127"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char buf[64], w[2][32], want[MN_ERR_LEN], vals[96];
        const mn_setting *set = mn_setting_find(c[i].name);
        assert_string_equal(mn_setting_values(set, vals, sizeof vals), c[i].values);
        int pair = !strcmp(c[i].name, "range");
        sscanf(c[i].in, "%31s %31s", w[0], w[1]);
        for (int k = 0; k < 2; k++) {
            mn_settings st;
            mn_settings_default(&st);
            snprintf(buf, sizeof buf, pair ? "%s %s" : "%s", w[k], w[k]);
            expect_ok(c[i].name, buf, &st);
        }
        sscanf(c[i].out, "%31s %31s", w[0], w[1]);
        for (int k = 0; k < 2; k++) {
            snprintf(buf, sizeof buf, pair ? "%s %s" : "%s", w[k], w[k]);
            snprintf(want, sizeof want, "%s expects %s, got %g", c[i].name, c[i].values,
                     strtod(w[k], NULL));
            expect_err(c[i].name, NULL, buf, want);
        }
    }
    /* a float setting is checked as it is stored: 1e-50 is 0 as a float */
    expect_err("temperature", NULL, "1e-50",
               "temperature expects a number in (0, 100], got 1e-50");
}

static void test_values_land_in_their_fields(void **state)
{
    (void)state;
    mn_settings st;
    mn_settings_default(&st);
    expect_ok("temperature", "0.5", &st);
    expect_ok("topk", "7", &st);
    expect_ok("topp", "0.25", &st);
    expect_ok("range", "40 80", &st);
    expect_ok("rest", "0", &st);
    expect_ok("bpm", "90.5", &st);
    expect_ok("velocity", "60 100", &st);
    expect_ok("accent", "12", &st);
    expect_ok("motif", "0.75", &st);
    expect_ok("legato", "0.5", &st);
    expect_ok("novelty", "3", &st);
    const mn_sampler *s = &st.sampler;
    assert_true(s->temperature == 0.5f && s->top_k == 7 && s->top_p == 0.25f);
    assert_true(s->pitch_lo == 40 && s->pitch_hi == 80 && s->allow_rest == 0);
    assert_true(st.bpm == 90.5 && st.legato == 0.5);
    assert_true(s->velocity_lo == 60 && s->velocity_hi == 100 && s->accent == 12);
    assert_true(s->motif == 0.75f && s->max_copy == 3);
    expect_ok("velocity", "100", &st); /* one value: fixed */
    assert_true(s->velocity_lo == 100 && s->velocity_hi == 100);
}

/* The same rule says the same words, whatever name the setting is called by. */
static void test_one_text_per_rule(void **state)
{
    (void)state;
    expect_err("temperature", NULL, "foo", "temperature expects a number in (0, 100], got 'foo'");
    expect_err("temperature", "--temperature", "foo",
               "--temperature expects a number in (0, 100], got 'foo'");
    expect_err("temperature", "-t", "0", "-t expects a number in (0, 100], got 0");
    expect_err("topk", "--top-k", "2.5", "--top-k expects an integer 0..129 (0 = off), got 2.5");
    expect_err("range", NULL, "72 48", "range expects LO <= HI, got 72 48");
    expect_err("range", "--range", "72 48", "--range expects LO <= HI, got 72 48");
    expect_err("velocity", "--velocity", "120 60", "--velocity expects LO <= HI, got 120 60");
    expect_err("range", NULL, "60", "usage: range LO HI (MIDI pitches 0..127)");
    expect_err("temperature", NULL, "",
               "usage: temperature f (0 < f <= 100; 1 = the model's own odds)");
    expect_err("temperature", NULL, "1 2",
               "usage: temperature f (0 < f <= 100; 1 = the model's own odds)");
    expect_err("velocity", NULL, "1 2 3", "usage: velocity V | velocity LO HI (1..127)");
    expect_err("bpm", NULL, "a,b", "bpm expects a tempo in 1..1000, got 'a\\,b'");
}

static void test_roots(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int pc;
    } ok[] = {{"C", 0},   {"c", 0},   {"C#", 1},  {"Cs", 1},  {"cs", 1},  {"Db", 1},  {"DB", 1},
              {"D", 2},   {"Eb", 3},  {"E", 4},   {"E#", 5},  {"Fb", 4},  {"F#", 6},  {"fs", 6},
              {"Gb", 6},  {"G", 7},   {"Ab", 8},  {"A", 9},   {"Bb", 10}, {"B", 11},  {"Cb", 11},
              {"B#", 0},  {"0", 0},   {"11", 11}, {"5", 5}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        mn_atom a;
        int r = -1;
        char err[MN_ERR_LEN];
        mn_atom_from_word(&a, ok[i].name);
        if (mn_settings_root("root", &a, &r, err) != MN_OK) fail_msg("%s: %s", ok[i].name, err);
        if (r != ok[i].pc) fail_msg("%s: %d, expected %d", ok[i].name, r, ok[i].pc);
    }
    const char *bad[] = {"H", "12", "-1", "1.5", "C##", "Cx", "", "b5", "do"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mn_atom a;
        int r = 99;
        char err[MN_ERR_LEN], got[64], want[MN_ERR_LEN];
        mn_atom_from_word(&a, bad[i]);
        assert_int_equal(mn_settings_root("--root", &a, &r, err), MN_ERR_ARG);
        assert_int_equal(r, 99);
        snprintf(want, sizeof want, "--root expects a root 0..11 or a note name (C, F#, Bb), "
                 "got %s", mn_atom_got(&a, got, sizeof got));
        assert_string_equal(err, want);
    }
}

static void test_scales(void **state)
{
    (void)state;
    mn_settings st;
    mn_settings_default(&st);
    uint16_t dmaj;
    assert_int_equal(mn_scale_mask("major", 2, &dmaj, NULL), MN_OK);
    expect_ok("scale", "major D", &st);
    assert_true(st.sampler.scale_on && st.sampler.scale_mask == dmaj);
    expect_ok("scale", "off", &st);
    assert_false(st.sampler.scale_on);
    expect_ok("scale", "0 4 7", &st);
    assert_true(st.sampler.scale_on && st.sampler.scale_mask == 0x91);
    expect_ok("scale", "NONE", &st);
    assert_false(st.sampler.scale_on);
    uint16_t bmaj;
    assert_int_equal(mn_scale_mask("major", 11, &bmaj, NULL), MN_OK);
    expect_ok("scale", "Major Cb", &st);
    assert_true(st.sampler.scale_mask == bmaj);
    expect_err("scale", NULL, "major H",
               "scale major expects a root 0..11 or a note name (C, F#, Bb), got 'H'");
    expect_err("scale", "--scale", "major 13",
               "--scale major expects a root 0..11 or a note name (C, F#, Bb), got 13");
    expect_err("scale", NULL, "0 12", "scale expects pitch classes 0..11, got 12");
    expect_err("scale", NULL, "", "usage: scale NAME [ROOT] | scale pc1 pc2 ... | scale off");
    expect_err("scale", NULL, "off 3", "usage: scale off");
    expect_err("scale", NULL, "major D E", "usage: scale NAME [ROOT]");
    mn_settings s2;
    mn_settings_default(&s2);
    char err[MN_ERR_LEN];
    assert_int_equal(parse("scale", NULL, "bebop", &s2, err), MN_ERR_ARG);
    assert_non_null(strstr(err, "scale 'bebop' unknown, expected one of: major minor"));
}

/* Found by tests/fuzz/fuzz_message.c (its corpus keeps the inputs): an error quoting a name
 * typed with a newline stays one line, and a long scale name is cut the same whatever the
 * setting is called by, so both sides say the same words. */
static void test_fuzz_findings(void **state)
{
    (void)state;
    mn_settings st;
    mn_settings_default(&st);
    char err[MN_ERR_LEN], err2[MN_ERR_LEN];
    mn_atom a[2];
    mn_atom_set_symbol(&a[0], "maj\nor");
    assert_int_equal(mn_setting_parse(mn_setting_find("scale"), NULL, 1, a, &st, err),
                     MN_ERR_ARG);
    assert_null(strchr(err, '\n'));
    assert_non_null(strstr(err, "scale 'maj?or' unknown"));
    mn_atom_set_symbol(&a[1], "H\n");
    assert_int_equal(mn_setting_parse(mn_setting_find("scale"), NULL, 2, a, &st, err),
                     MN_ERR_ARG);
    assert_string_equal(err, "scale maj?or expects a root 0..11 or a note name (C, F#, Bb), "
                             "got 'H?'");
    char longname[120];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    mn_atom_set_symbol(&a[0], longname);
    mn_atom_set_symbol(&a[1], "H");
    assert_int_equal(mn_setting_parse(mn_setting_find("scale"), NULL, 2, a, &st, err),
                     MN_ERR_ARG);
    assert_int_equal(mn_setting_parse(mn_setting_find("scale"), "--scale", 2, a, &st, err2),
                     MN_ERR_ARG);
    assert_string_equal(err + strlen("scale"), err2 + strlen("--scale"));
}

static void test_warnings(void **state)
{
    (void)state;
    mn_settings st;
    char msg[MN_ERR_LEN];
    mn_settings_default(&st);
    expect_ok("scale", "major", &st);
    assert_int_equal(mn_setting_warning(mn_setting_find("scale"), &st, msg), 0);
    expect_ok("range", "61 61", &st);
    assert_int_equal(mn_setting_warning(mn_setting_find("range"), &st, msg), 1);
    assert_string_equal(msg, "range: the scale (C D E F G A B) has no pitch in the range 61..61, "
                             "so the scale is ignored and any pitch of the range plays until the "
                             "scale or range changes");
    assert_int_equal(mn_setting_warning(mn_setting_find("bpm"), &st, msg), 0);
    mn_settings_default(&st);
    expect_ok("velocity", "60 120", &st);
    expect_ok("accent", "7", &st);
    assert_int_equal(mn_setting_warning(mn_setting_find("accent"), &st, msg), 0);
    expect_ok("accent", "20", &st);
    assert_int_equal(mn_setting_warning(mn_setting_find("accent"), &st, msg), 1);
    assert_string_equal(msg, "accent: velocity 60..120 plus accent 20 passes 127, so accented "
                             "notes are held at 127");
}

static void test_bad_calls(void **state)
{
    (void)state;
    mn_settings st;
    mn_settings_default(&st);
    char err[MN_ERR_LEN];
    assert_int_equal(mn_setting_parse(NULL, NULL, 0, NULL, &st, err), MN_ERR_ARG);
    assert_int_equal(mn_setting_parse(mn_setting_find("bpm"), NULL, 1, NULL, &st, err),
                     MN_ERR_ARG);
    assert_int_equal(mn_setting_parse(mn_setting_find("bpm"), NULL, 0, NULL, NULL, err),
                     MN_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_names_and_defaults),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_values_land_in_their_fields),
        cmocka_unit_test(test_one_text_per_rule),
        cmocka_unit_test(test_roots),
        cmocka_unit_test(test_scales),
        cmocka_unit_test(test_fuzz_findings),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_bad_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
