/* test_atom.c - atoms from the command's words, what a message quotes of them, and the
 * messages that are not settings: melodies, listen, note and seed. */
#include "testutil.h"

#include "atom.h"

#include <math.h>

/* The words as atoms, into a[] (at most 300). */
static int atoms(const char *words, mn_atom *a)
{
    static char buf[4096];
    int n = 0;
    snprintf(buf, sizeof buf, "%s", words);
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w && n < 300;
         w = strtok_r(NULL, " ", &save))
        mn_atom_from_word(&a[n++], w);
    return n;
}

static void test_words(void **state)
{
    (void)state;
    static const struct {
        const char *word;
        int number;
        double f;
    } c[] = {{"60", 1, 60},      {"-1", 1, -1},       {"0.5", 1, 0.5},  {"1e-3", 1, 1e-3},
             {"+2", 1, 2},       {".5", 1, 0.5},      {"foo", 0, 0},    {"nan", 0, 0},
             {"inf", 0, 0},      {"0x10", 0, 0},      {"1e400", 0, 0},  {"", 0, 0},
             {"-", 0, 0},        {"1e", 0, 0},        {"60:0.5", 0, 0}, {"e", 0, 0}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        mn_atom a;
        mn_atom_from_word(&a, c[i].word);
        if (c[i].number) {
            assert_int_equal(a.type, MN_ATOM_FLOAT);
            assert_true(a.f == c[i].f);
        } else {
            if (a.type != MN_ATOM_SYMBOL) fail_msg("'%s' read as a number", c[i].word);
            assert_string_equal(a.s, c[i].word);
        }
    }
    mn_atom a;
    mn_atom_set_symbol(&a, NULL);
    assert_string_equal(a.s, "");
}

static void test_got(void **state)
{
    (void)state;
    mn_atom a;
    char buf[64];
    mn_atom_set_float(&a, 2.5);
    assert_string_equal(mn_atom_got(&a, buf, sizeof buf), "2.5");
    mn_atom_set_float(&a, 1.0 / 24);
    assert_string_equal(mn_atom_got(&a, buf, sizeof buf), "0.0416667");
    mn_atom_set_symbol(&a, "foo");
    assert_string_equal(mn_atom_got(&a, buf, sizeof buf), "'foo'");
    mn_atom_set_symbol(&a, "a b,c;d$1\\");
    assert_string_equal(mn_atom_got(&a, buf, sizeof buf), "'a\\ b\\,c\\;d\\$1\\\\'");
    mn_atom_set_symbol(&a, "two\nlines\x1b[2J");
    assert_string_equal(mn_atom_got(&a, buf, sizeof buf), "'two?lines?[2J'");
    char small[6];
    mn_atom_set_symbol(&a, "abcdefgh");
    mn_atom_got(&a, small, sizeof small);
    assert_true(strlen(small) < sizeof small);
    int v;
    mn_atom_set_float(&a, 7);
    assert_true(mn_atom_int(&a, 0, 11, &v) && v == 7);
    mn_atom_set_float(&a, 7.5);
    assert_false(mn_atom_int(&a, 0, 11, &v));
    mn_atom_set_float(&a, NAN);
    assert_false(mn_atom_int(&a, 0, 11, &v));
    mn_atom_set_symbol(&a, "7");
    assert_false(mn_atom_int(&a, 0, 11, &v));
}

static void test_pitches(void **state)
{
    (void)state;
    mn_atom a[300];
    int out[MN_LIST_MAX], n = -1;
    char err[MN_ERR_LEN];
    int k = atoms("60 62 64 0 127", a);
    assert_int_equal(mn_atoms_pitches(k, a, out, &n, err), MN_OK);
    assert_int_equal(n, 5);
    assert_true(out[0] == 60 && out[3] == 0 && out[4] == 127);
    assert_int_equal(mn_atoms_pitches(0, a, out, &n, err), MN_OK);
    assert_int_equal(n, 0);
    static const struct {
        const char *words, *err;
    } bad[] = {
        {"60 foo", "a melody is MIDI pitches 0..127, got 'foo' at 2"},
        {"300", "a melody is MIDI pitches 0..127, got '300' at 1"},
        {"60 62 60.5", "a melody is MIDI pitches 0..127, got '60.5' at 3"},
        {"-1", "a melody is MIDI pitches 0..127, got '-1' at 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int j = 0; j < MN_LIST_MAX; j++) out[j] = -7;
        n = -1;
        k = atoms(bad[i].words, a);
        assert_int_equal(mn_atoms_pitches(k, a, out, &n, err), MN_ERR_ARG);
        assert_string_equal(err, bad[i].err);
        assert_true(n == -1 && out[0] == -7); /* nothing written */
    }
    for (int j = 0; j < 257; j++) mn_atom_set_float(&a[j], 60);
    assert_int_equal(mn_atoms_pitches(256, a, out, &n, err), MN_OK);
    assert_int_equal(mn_atoms_pitches(257, a, out, &n, err), MN_ERR_ARG);
    assert_string_equal(err, "a melody holds at most 256 pitches, got 257");
}

static void test_listen_note_seed(void **state)
{
    (void)state;
    mn_atom a[8];
    char err[MN_ERR_LEN];
    mn_event e;
    assert_int_equal(mn_atoms_listen(atoms("60", a), a, &e, err), MN_OK);
    assert_true(e.pitch == 60 && e.velocity == MN_DEFAULT_VELOCITY && e.dur_ticks == MN_TPQ);
    assert_int_equal(mn_atoms_listen(atoms("61 0.5", a), a, &e, err), MN_OK);
    assert_true(e.pitch == 61 && e.dur_ticks == MN_TPQ / 2 && e.pos_ticks == 0);
    assert_int_equal(mn_atoms_listen(atoms("61 64", a), a, &e, err), MN_OK);
    assert_int_equal(e.dur_ticks, MN_MAX_DUR_TICKS);
    static const struct {
        const char *words, *err;
    } lbad[] = {
        {"200", "listen expects a MIDI pitch 0..127, got 200"},
        {"foo", "listen expects a MIDI pitch 0..127, got 'foo'"},
        {"60 foo", "listen expects a duration in beats, got 'foo'"},
        {"60 0", "listen expects a duration of 0.0416667..64 beats, got 0 (for a player's "
                 "note-on and note-off use note PITCH VELOCITY)"},
        {"60 65", "listen expects a duration of 0.0416667..64 beats, got 65 (for a player's "
                  "note-on and note-off use note PITCH VELOCITY)"},
        {"", "usage: listen PITCH [DURATION_BEATS]"},
        {"60 1 2", "usage: listen PITCH [DURATION_BEATS]"},
    };
    for (size_t i = 0; i < sizeof lbad / sizeof lbad[0]; i++) {
        e.pitch = -7;
        assert_int_equal(mn_atoms_listen(atoms(lbad[i].words, a), a, &e, err), MN_ERR_ARG);
        assert_string_equal(err, lbad[i].err);
        assert_int_equal(e.pitch, -7);
    }

    int p = -7, v = -7;
    assert_int_equal(mn_atoms_note(atoms("60 0", a), a, &p, &v, err), MN_OK);
    assert_true(p == 60 && v == 0);
    p = v = -7;
    assert_int_equal(mn_atoms_note(atoms("60", a), a, &p, &v, err), MN_ERR_ARG);
    assert_string_equal(err, "usage: note PITCH VELOCITY (0..127; velocity 0 = note-off)");
    assert_int_equal(mn_atoms_note(atoms("200 100", a), a, &p, &v, err), MN_ERR_ARG);
    assert_string_equal(err, "note expects a MIDI pitch 0..127, got 200");
    assert_int_equal(mn_atoms_note(atoms("60 -1", a), a, &p, &v, err), MN_ERR_ARG);
    assert_string_equal(err, "note expects a velocity 0..127 (0 = note-off), got -1");
    assert_true(p == -7 && v == -7);

    uint64_t seed = 77;
    assert_int_equal(mn_atoms_seed("seed", atoms("4294967295", a), a, &seed, err), MN_OK);
    assert_true(seed == 4294967295ull);
    assert_int_equal(mn_atoms_seed("seed", atoms("0", a), a, &seed, err), MN_OK);
    assert_true(seed == 0);
    seed = 77;
    const char *sbad[] = {"-1", "1.5", "foo", "", "4294967296"};
    for (size_t i = 0; i < sizeof sbad / sizeof sbad[0]; i++) {
        assert_int_equal(mn_atoms_seed("randomseed", atoms(sbad[i], a), a, &seed, err),
                         MN_ERR_ARG);
        assert_string_equal(err, "randomseed expects an integer seed >= 0");
    }
    assert_int_equal(mn_atoms_seed("seed", atoms("60 62", a), a, &seed, err), MN_ERR_ARG);
    assert_string_equal(err, "seed expects one integer seed >= 0 (a melody is a list or prime "
                             "P1 P2 ...)");
    assert_true(seed == 77);
}

static void test_generate_answer_info(void **state)
{
    (void)state;
    mn_atom a[8];
    char err[MN_ERR_LEN];
    int n = -7;
    assert_int_equal(mn_atoms_generate(atoms("1", a), a, &n, err), MN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(mn_atoms_generate(atoms("1024", a), a, &n, err), MN_OK);
    assert_int_equal(n, 1024);
    const char *gbad[] = {"0", "1025", "2.5", "foo", "", "3 4"};
    for (size_t i = 0; i < sizeof gbad / sizeof gbad[0]; i++) {
        n = -7;
        assert_int_equal(mn_atoms_generate(atoms(gbad[i], a), a, &n, err), MN_ERR_ARG);
        assert_string_equal(err, "generate expects a count 1..1024");
        assert_int_equal(n, -7);
    }

    double beats = -7;
    int notes = -7;
    assert_int_equal(mn_atoms_answer(atoms("4", a), a, &beats, &notes, err), MN_OK);
    assert_true(beats == 4 && notes == 0);
    assert_int_equal(mn_atoms_answer(atoms("0.5 1024", a), a, &beats, &notes, err), MN_OK);
    assert_true(beats == 0.5 && notes == 1024);
    const char *abad[] = {"-1", "64.5", "2 foo", "2 1.5", "2 1025", "", "1 2 3", "foo"};
    for (size_t i = 0; i < sizeof abad / sizeof abad[0]; i++) {
        beats = notes = -7;
        assert_int_equal(mn_atoms_answer(atoms(abad[i], a), a, &beats, &notes, err),
                         MN_ERR_ARG);
        assert_string_equal(err, "usage: answer BEATS [NOTES] (BEATS of silence 0..64, 0 = off; "
                                 "NOTES 0..1024, 0 = until the player plays)");
        assert_true(beats == -7 && notes == -7);
    }

    int post = -7;
    const char *key = "x";
    assert_int_equal(mn_atoms_info(0, a, &post, &key, err), MN_OK);
    assert_true(post == 0 && key == NULL);
    assert_int_equal(mn_atoms_info(atoms("post seed", a), a, &post, &key, err), MN_OK);
    assert_true(post == 1 && !strcmp(key, "seed"));
    assert_int_equal(mn_atoms_info(atoms("seed", a), a, &post, &key, err), MN_OK);
    assert_true(post == 0 && !strcmp(key, "seed"));
    assert_int_equal(mn_atoms_info(atoms("post", a), a, &post, &key, err), MN_OK);
    assert_true(post == 1 && key == NULL);
    const char *ibad[] = {"foo bar", "3", "seed post", "post post x"};
    for (size_t i = 0; i < sizeof ibad / sizeof ibad[0]; i++) {
        post = -7;
        assert_int_equal(mn_atoms_info(atoms(ibad[i], a), a, &post, &key, err), MN_ERR_ARG);
        assert_string_equal(err, "usage: info [post] [KEY]");
        assert_int_equal(post, -7);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_got),
        cmocka_unit_test(test_pitches),
        cmocka_unit_test(test_listen_note_seed),
        cmocka_unit_test(test_generate_answer_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
