/* test_event.c - duration tables, melody buffers and the metric clock helper. */
#include "testutil.h"

#include "event.h"

#include <math.h>

static void test_durtable_index_nearest_in_log_time(void **state)
{
    (void)state;
    mn_durtable t = {.n = 4, .ticks = {6, 12, 24, 48}};
    assert_int_equal(mn_durtable_index(&t, 6), 0);
    assert_int_equal(mn_durtable_index(&t, 24), 2);
    assert_int_equal(mn_durtable_index(&t, 1), 0);     /* below the table */
    assert_int_equal(mn_durtable_index(&t, 0), 0);     /* nonsense clamps to 1 tick */
    assert_int_equal(mn_durtable_index(&t, 1000), 3);  /* above the table */
    assert_int_equal(mn_durtable_index(&t, 16), 1);    /* log(16/12) < log(24/16) */
    assert_int_equal(mn_durtable_index(&t, 18), 2);    /* log(24/18) < log(18/12) */
    mn_durtable u = {.n = 2, .ticks = {8, 32}};
    assert_int_equal(mn_durtable_index(&u, 16), 0);    /* exact tie in log time: the shorter */
}

static void test_durtable_validate(void **state)
{
    (void)state;
    char err[MN_ERR_LEN];
    mn_durtable ok = {.n = 3, .ticks = {3, 6, 12}};
    assert_int_equal(mn_durtable_validate(&ok, err), MN_OK);
    mn_durtable empty = {.n = 0};
    assert_int_equal(mn_durtable_validate(&empty, err), MN_ERR_FORMAT);
    assert_non_null(strstr(err, "0 entries"));
    mn_durtable unsorted = {.n = 3, .ticks = {3, 12, 6}};
    assert_int_equal(mn_durtable_validate(&unsorted, err), MN_ERR_FORMAT);
    assert_non_null(strstr(err, "ascending"));
    mn_durtable zero = {.n = 2, .ticks = {0, 6}};
    assert_int_equal(mn_durtable_validate(&zero, err), MN_ERR_FORMAT);
    mn_durtable huge = {.n = 1, .ticks = {MN_MAX_DUR_TICKS + 1}};
    assert_int_equal(mn_durtable_validate(&huge, err), MN_ERR_FORMAT);
}

static void push(mn_melody *m, int pitch, int dur)
{
    mn_event e = {.pitch = pitch, .velocity = pitch == MN_REST ? 0 : 90, .dur_ticks = dur,
                  .bar_ticks = 96};
    assert_int_equal(mn_melody_push(m, &e, NULL), MN_OK);
}

static void test_durtable_build_most_frequent(void **state)
{
    (void)state;
    char err[MN_ERR_LEN];
    mn_melody m;
    mn_melody_init(&m);
    for (int i = 0; i < 100; i++) push(&m, 60, 12);
    for (int i = 0; i < 50; i++) push(&m, 62, 24);
    for (int i = 0; i < 20; i++) push(&m, MN_REST, 6);
    for (int i = 0; i < 20; i++) push(&m, 64, 48);  /* ties 6: the shorter wins */
    push(&m, 65, 5000);                              /* clamps to the longest representable */
    mn_durtable t;
    assert_int_equal(mn_durtable_build(&t, &m, 1, 3, err), MN_OK);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.ticks[0], 6);
    assert_int_equal(t.ticks[1], 12);
    assert_int_equal(t.ticks[2], 24);
    assert_int_equal(mn_durtable_validate(&t, err), MN_OK);
    assert_int_equal(mn_durtable_build(&t, &m, 1, 64, err), MN_OK);
    assert_int_equal(t.n, 5);
    assert_int_equal(t.ticks[4], MN_MAX_DUR_TICKS);
    assert_int_equal(mn_durtable_build(&t, &m, 1, 0, err), MN_ERR_ARG);
    mn_melody_free(&m);
    assert_int_equal(mn_durtable_build(&t, &m, 1, 4, err), MN_ERR_EMPTY);
    mn_melody_free(&m); /* twice is fine */
    mn_melody_free(NULL);
}

static void test_melody_grows_and_next_pos_wraps(void **state)
{
    (void)state;
    mn_melody m;
    mn_melody_init(&m);
    assert_int_equal(m.ts_num, 4);
    assert_true(m.bpm == 120.0);
    for (int i = 0; i < 1000; i++) push(&m, i % 128, 1 + i % 7);
    assert_int_equal(m.n, 1000);
    assert_int_equal(m.ev[999].pitch, 999 % 128);
    mn_melody_free(&m);
    assert_int_equal(m.n, 0);
    mn_event e = {.pitch = 60, .dur_ticks = 30, .pos_ticks = 80, .bar_ticks = 96};
    assert_int_equal(mn_event_next_pos(&e), 14);
    e.bar_ticks = 0; /* no metre given: 4/4 */
    assert_int_equal(mn_event_next_pos(&e), 14);
    e.dur_ticks = 16;
    assert_int_equal(mn_event_next_pos(&e), 0);
}

static void test_pitch_names(void **state)
{
    (void)state;
    char b[8];
    assert_string_equal(mn_pitch_name(60, b), "C4");
    assert_string_equal(mn_pitch_name(61, b), "C#4");
    assert_string_equal(mn_pitch_name(0, b), "C-1");
    assert_string_equal(mn_pitch_name(127, b), "G9");
    assert_string_equal(mn_pitch_name(MN_REST, b), "rest");
    assert_string_equal(mn_pitch_name(-3, b), "?");
}

static void test_ms_ticks(void **state)
{
    (void)state;
    assert_int_equal(mn_event_ms_ticks(500, 120), MN_TPQ);      /* a beat at 120 bpm */
    assert_int_equal(mn_event_ms_ticks(250, 120), MN_TPQ / 2);
    assert_int_equal(mn_event_ms_ticks(1000, 90), 36);          /* 1.5 beats */
    assert_int_equal(mn_event_ms_ticks(10.4, 120), 0);          /* under half a tick */
    assert_int_equal(mn_event_ms_ticks(-5, 120), 0);
    assert_int_equal(mn_event_ms_ticks(1e12, 120), MN_MAX_DUR_TICKS);
    assert_int_equal(mn_event_ms_ticks(500, 0), 0);
    assert_int_equal(mn_event_ms_ticks(NAN, 120), 0);
}

/* the reference fixture's table (tests/fixtures/ref/small.mnet) */
static const mn_durtable ref_table = {.n = 7, .ticks = {3, 6, 12, 18, 24, 36, 48}};

static void test_heard_legato_and_articulation(void **state)
{
    (void)state;
    mn_event e[2];
    /* held almost to the next onset: one note of the inter-onset time */
    assert_int_equal(mn_event_from_heard(&ref_table, 60, 100, 22, 24, e), 1);
    assert_int_equal(e[0].pitch, 60);
    assert_int_equal(e[0].velocity, 100);
    assert_int_equal(e[0].dur_ticks, 24);
    assert_int_equal(e[0].bar_ticks, 0);
    /* a long note and a short gap: articulation, not a rest */
    assert_int_equal(mn_event_from_heard(&ref_table, 62, 80, 44, 48, e), 1);
    assert_int_equal(e[0].dur_ticks, 48);
    /* a gap over an eighth but under half the note: still one note, of the nearest entry */
    assert_int_equal(mn_event_from_heard(&ref_table, 62, 80, 44, 58, e), 1);
    assert_int_equal(e[0].dur_ticks, 48);
    /* onsets at the same time: the shortest entry */
    assert_int_equal(mn_event_from_heard(&ref_table, 64, 80, 0, 0, e), 1);
    assert_int_equal(e[0].dur_ticks, 3);
    /* a velocity out of range is clamped for a note; a pitch out of range is a rest */
    assert_int_equal(mn_event_from_heard(&ref_table, 64, 0, 24, -1, e), 1);
    assert_int_equal(e[0].velocity, 1);
    assert_int_equal(mn_event_from_heard(&ref_table, -1, 90, 24, -1, e), 1);
    assert_int_equal(e[0].pitch, MN_REST);
    assert_int_equal(e[0].velocity, 0);
}

static void test_heard_rests(void **state)
{
    (void)state;
    mn_event e[2];
    /* an eighth and an eighth of silence: note and rest */
    assert_int_equal(mn_event_from_heard(&ref_table, 60, 90, 11, 24, e), 2);
    assert_int_equal(e[0].dur_ticks, 12);
    assert_int_equal(e[1].pitch, MN_REST);
    assert_int_equal(e[1].velocity, 0);
    assert_int_equal(e[1].dur_ticks, 12);
    /* a half note and a beat of silence */
    assert_int_equal(mn_event_from_heard(&ref_table, 60, 90, 46, 72, e), 2);
    assert_int_equal(e[0].dur_ticks, 48);
    assert_int_equal(e[1].dur_ticks, 24);
    /* staccato: the note as held (nearest entry), the rest what the onset leaves */
    assert_int_equal(mn_event_from_heard(&ref_table, 60, 90, 8, 24, e), 2);
    assert_int_equal(e[0].dur_ticks, 6);
    assert_int_equal(e[1].dur_ticks, 18);
    /* a remainder under half the shortest entry is dropped */
    const mn_durtable coarse = {.n = 2, .ticks = {24, 48}};
    assert_int_equal(mn_event_from_heard(&coarse, 60, 90, 12, 25, e), 1);
    assert_int_equal(e[0].dur_ticks, 24);
    /* no next onset: the note as held, never a rest */
    assert_int_equal(mn_event_from_heard(&ref_table, 60, 90, 30, -1, e), 1);
    assert_int_equal(e[0].dur_ticks, 36);
}

static void test_heard_metric_position_follows(void **state)
{
    (void)state;
    /* quarter, quarter, eighth + eighth rest, half: onsets at 0, 24, 48, (60), 72, then 24 */
    const int held[] = {23, 22, 10, 47}, ioi[] = {24, 24, 24, -1};
    const int want_pos[] = {0, 24, 48, 60, 72};
    mn_event e[2];
    int pos = 0, k = 0;
    for (int i = 0; i < 4; i++) {
        int n = mn_event_from_heard(&ref_table, 60 + i, 90, held[i], ioi[i], e);
        for (int j = 0; j < n; j++) {
            assert_int_equal(pos, want_pos[k++]);
            e[j].pos_ticks = pos;
            e[j].bar_ticks = 96;
            pos = mn_event_next_pos(&e[j]);
        }
    }
    assert_int_equal(k, 5);
    assert_int_equal(pos, 24);
}

static void test_parse_notes(void **state)
{
    (void)state;
    char err[MN_ERR_LEN];
    mn_melody m;
    mn_melody_init(&m);
    assert_int_equal(mn_parse_notes("60 62:0.5,rest\t64:2  R:0.25 127:0.0417", &m, err), MN_OK);
    assert_int_equal(m.n, 6);
    const int pitch[] = {60, 62, MN_REST, 64, MN_REST, 127};
    const int dur[] = {24, 12, 24, 48, 6, 1};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(m.ev[i].pitch, pitch[i]);
        assert_int_equal(m.ev[i].dur_ticks, dur[i]);
        assert_int_equal(m.ev[i].velocity, pitch[i] == MN_REST ? 0 : 90);
        assert_int_equal(m.ev[i].pos_ticks, 0);
        assert_int_equal(m.ev[i].bar_ticks, 0);
    }
    /* empty and blank lists give no events */
    assert_int_equal(mn_parse_notes("", &m, err), MN_OK);
    assert_int_equal(mn_parse_notes(" ,\t", &m, err), MN_OK);
    assert_int_equal(m.n, 6);

    /* a bad token fails, names itself, and leaves the melody as it was */
    static const char *const bad[][2] = {
        {"60 200", "note 2: pitch '200'"}, {"60 -1", "pitch '-1'"}, {"x", "pitch 'x'"},
        {"60:", "duration ''"}, {"60:0", "duration '0'"}, {"60:65", "duration '65'"},
        {"60:nan", "duration 'nan'"}, {"60:inf", "duration 'inf'"}, {":1", "pitch ''"},
        {"60:1:2", "duration '1:2'"}, {"99999999999999999999", "pitch"},
        {"rests", "pitch 'rests'"}, {"60 62 64 1e2", "note 4: pitch '1e2'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal(mn_parse_notes(bad[i][0], &m, err), MN_ERR_ARG);
        if (!strstr(err, bad[i][1])) fail_msg("'%s': message '%s'", bad[i][0], err);
        assert_int_equal(m.n, 6);
    }
    char longtok[200];
    memset(longtok, '6', sizeof longtok - 1);
    longtok[sizeof longtok - 1] = '\0';
    assert_int_equal(mn_parse_notes(longtok, &m, err), MN_ERR_ARG);
    assert_non_null(strstr(err, "too long"));
    assert_int_equal(mn_parse_notes(NULL, &m, err), MN_ERR_ARG);
    assert_int_equal(m.n, 6);
    mn_melody_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durtable_index_nearest_in_log_time),
        cmocka_unit_test(test_durtable_validate),
        cmocka_unit_test(test_durtable_build_most_frequent),
        cmocka_unit_test(test_melody_grows_and_next_pos_wraps),
        cmocka_unit_test(test_pitch_names),
        cmocka_unit_test(test_ms_ticks),
        cmocka_unit_test(test_heard_legato_and_articulation),
        cmocka_unit_test(test_heard_rests),
        cmocka_unit_test(test_heard_metric_position_follows),
        cmocka_unit_test(test_parse_notes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
