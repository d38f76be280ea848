/* test_midi.c - Standard MIDI File reader and writer: hand-built files for each parsing rule,
 * the one-line reduction, rounding to 24 ticks per quarter and metric positions; the committed
 * fixtures in tests/fixtures/midi (corpus-like tunes and hostile files); truncation and mutation
 * sweeps (run them under ASan); and write/read round trips. */
#include "testutil.h"

#include <math.h>
#include <sys/stat.h>

#include "midi.h"

/*=== building files =========================================================================*/

/* An element >= V(0) is written as a variable-length number; anything else is one byte. */
#define V(x) (0x10000000 | (x))
#define NON(ch, p, v) (0x90 | (ch)), (p), (v)
#define NOFF(ch, p) (0x80 | (ch)), (p), 0
#define TEMPO(us) 0xFF, 0x51, 3, ((us) >> 16) & 0xFF, ((us) >> 8) & 0xFF, (us) & 0xFF
#define TSIG(n, dd) 0xFF, 0x58, 4, (n), (dd), 24, 8
#define KEYSIG(sf, mi) 0xFF, 0x59, 2, (sf), (mi)
#define EOT 0xFF, 0x2F, 0

typedef struct {
    uint8_t b[8192];
    size_t n;
} smf;

static void smf_bytes(smf *s, const void *p, size_t n)
{
    assert_true(s->n + n <= sizeof s->b);
    memcpy(s->b + s->n, p, n);
    s->n += n;
}

static void smf_be(smf *s, uint32_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        uint8_t c = (uint8_t)(v >> (8 * i));
        smf_bytes(s, &c, 1);
    }
}

static void smf_header(smf *s, int format, int n_tracks, int division)
{
    s->n = 0;
    smf_bytes(s, "MThd", 4);
    smf_be(s, 6, 4);
    smf_be(s, (uint32_t)format, 2);
    smf_be(s, (uint32_t)n_tracks, 2);
    smf_be(s, (uint32_t)division, 2);
}

static void smf_track_ints(smf *s, const int *v, size_t n)
{
    smf_bytes(s, "MTrk", 4);
    size_t at = s->n;
    smf_be(s, 0, 4);
    for (size_t i = 0; i < n; i++) {
        if (v[i] >= V(0)) {
            uint32_t x = (uint32_t)v[i] & 0x0FFFFFFF;
            uint8_t tmp[4];
            int k = 0;
            tmp[3] = x & 0x7F;
            k = 1;
            while (x >>= 7) {
                tmp[3 - k] = (uint8_t)(0x80 | (x & 0x7F));
                k++;
            }
            smf_bytes(s, tmp + 4 - k, (size_t)k);
        } else {
            uint8_t c = (uint8_t)v[i];
            smf_bytes(s, &c, 1);
        }
    }
    uint32_t len = (uint32_t)(s->n - at - 4);
    for (int i = 0; i < 4; i++) s->b[at + (size_t)i] = (uint8_t)(len >> (24 - 8 * i));
}

#define TRACK(s, ...)                                                                          \
    do {                                                                                       \
        const int b_[] = {__VA_ARGS__};                                                        \
        smf_track_ints((s), b_, sizeof b_ / sizeof b_[0]);                                     \
    } while (0)

/* Expected event: pitch, velocity, dur_ticks, pos_ticks, bar_ticks. */
typedef struct {
    int pitch, vel, dur, pos, bar;
} ev;

#define R MN_REST

static void check_events(const mn_melody *m, const ev *want, size_t n)
{
    for (size_t i = 0; i < m->n && i < n; i++) {
        const mn_event *e = &m->ev[i];
        if (e->pitch != want[i].pitch || e->velocity != want[i].vel ||
            e->dur_ticks != want[i].dur || e->pos_ticks != want[i].pos ||
            e->bar_ticks != want[i].bar) {
            print_error("event %zu: got pitch %d vel %d dur %d pos %d bar %d, expected "
                        "%d %d %d %d %d\n", i, e->pitch, e->velocity, e->dur_ticks, e->pos_ticks,
                        e->bar_ticks, want[i].pitch, want[i].vel, want[i].dur, want[i].pos,
                        want[i].bar);
            fail();
        }
    }
    assert_int_equal(m->n, n);
}

static mn_status read_smf(const smf *s, const mn_midi_options *o, mn_melody *m, char *err)
{
    err[0] = '\0';
    return mn_midi_read_memory(s->b, s->n, "t.mid", o, m, err);
}

static void expect_ok(const smf *s, const mn_midi_options *o, mn_melody *m)
{
    char err[MN_ERR_LEN];
    mn_status st = read_smf(s, o, m, err);
    if (st != MN_OK) print_error("unexpected error: %s\n", err);
    assert_int_equal(st, MN_OK);
}

/* Reads s expecting failure with code, and a message naming the file and containing what. */
static void expect_fail(const smf *s, mn_status code, const char *what)
{
    char err[MN_ERR_LEN];
    mn_melody m;
    mn_status st = read_smf(s, NULL, &m, err);
    if (st != code) print_error("status %d, expected %d: %s\n", st, code, err);
    assert_int_equal(st, code);
    assert_non_null(strstr(err, "t.mid"));
    if (!strstr(err, what)) print_error("message \"%s\" lacks \"%s\"\n", err, what);
    assert_non_null(strstr(err, what));
    assert_int_equal(m.n, 0);
    assert_null(m.ev);
}

/*=== parsing ================================================================================*/

/* Format 0 at division 96: running status, note-on velocity 0 as note-off, tempo, 3/4. */
static void test_format0_running_status(void **state)
{
    (void)state;
    smf s;
    smf_header(&s, 0, 1, 96);
    TRACK(&s, 0, TEMPO(600000), 0, TSIG(3, 2), 0, KEYSIG(0xFE, 1),
          0, NON(0, 60, 80), V(96), 60, 0,  /* running status: velocity 0 ends the note */
          0, 62, 70, V(48), 62, 0,          /* eighth */
          V(48), 64, 100, V(144), 64, 0,    /* eighth rest, then a dotted quarter */
          0, EOT);
    mn_melody m;
    expect_ok(&s, NULL, &m);
    const ev want[] = {{60, 80, 24, 0, 72}, {62, 70, 12, 24, 72}, {R, 0, 12, 36, 72},
                       {64, 100, 36, 48, 72}};
    check_events(&m, want, 4);
    assert_true(fabs(m.bpm - 100.0) < 1e-9);
    assert_int_equal(m.ts_num, 3);
    assert_int_equal(m.ts_den, 4);
    assert_string_equal(m.name, "t"); /* no track name: the stem of the name given */
    mn_melody_free(&m);
}

/* Format 1 with a conductor track; a pickup; a longer header; an unknown chunk; sysex. */
static void test_format1_pickup_meta(void **state)
{
    (void)state;
    smf s;
    s.n = 0;
    smf_bytes(&s, "MThd", 4);
    smf_be(&s, 8, 4); /* two extra header bytes, skipped */
    smf_be(&s, 1, 2);
    smf_be(&s, 2, 2);
    smf_be(&s, 480, 2);
    smf_be(&s, 0xABCD, 2);
    smf_bytes(&s, "XFIH\0\0\0\3abc", 11); /* unknown chunk, skipped */
    TRACK(&s, 0, 0xFF, 0x03, 5, 'j', 'i', 'g', ' ', '1', 0, TSIG(6, 3), 0, KEYSIG(1, 0),
          0, TEMPO(500000), 0, EOT);
    TRACK(&s, 0, 0xFF, 0x03, 6, 'm', 'e', 'l', 'o', 'd', 'y',
          0, 0xF0, 3, 0x7E, 0x7F, 0xF7,                 /* sysex */
          V(1200), NON(1, 62, 90), V(240), NOFF(1, 62), /* eighth pickup at 1200 of 1440 */
          0, NON(1, 67, 90), V(720), NOFF(1, 67),
          0, 0xF7, 1, 0x00,                              /* escape sysex */
          V(240), NON(1, 69, 91), V(480), NOFF(1, 69),
          0, EOT);
    mn_melody m;
    expect_ok(&s, NULL, &m);
    const ev want[] = {{62, 90, 12, 60, 72}, {67, 90, 36, 0, 72}, {R, 0, 12, 36, 72},
                       {69, 91, 24, 48, 72}};
    check_events(&m, want, 4);
    assert_string_equal(m.name, "jig 1");
    assert_int_equal(m.ts_num, 6);
    assert_int_equal(m.ts_den, 8);
    assert_true(fabs(m.bpm - 120.0) < 1e-9);
    mn_melody_free(&m);
}

/* Bar lines re-anchor at each time-signature change, even one that falls mid-bar. */
static void test_time_signature_change(void **state)
{
    (void)state;
    smf s;
    smf_header(&s, 1, 2, 480);
    /* 4/4 (bar 96) until quarter 4, 3/4 (72) until quarter 7 + an eighth, then 5/8 (60) */
    TRACK(&s, 0, TSIG(4, 2), V(1920), TSIG(3, 2), V(1680), TSIG(5, 3), 0, EOT);
    TRACK(&s, V(1440), NON(0, 60, 90), V(480), NOFF(0, 60),     /* quarter 3 of bar 0 */
          0, NON(0, 62, 90), V(960), NOFF(0, 62),               /* first 3/4 bar */
          0, NON(0, 64, 90), V(480), NOFF(0, 64),
          0, NON(0, 65, 90), V(240), NOFF(0, 65),               /* ends on the 5/8 anchor */
          0, NON(0, 67, 90), V(1200), NOFF(0, 67),              /* a whole 5/8 bar */
          0, NON(0, 69, 90), V(240), NOFF(0, 69), 0, EOT);
    mn_melody m;
    expect_ok(&s, NULL, &m);
    const ev want[] = {{60, 90, 24, 72, 96}, {62, 90, 48, 0, 72}, {64, 90, 24, 48, 72},
                       {65, 90, 12, 0, 72}, {67, 90, 60, 0, 60}, {69, 90, 12, 0, 60}};
    check_events(&m, want, 6);
    assert_int_equal(m.ts_num, 4);
    assert_int_equal(m.ts_den, 4);
    mn_melody_free(&m);
}

/* Highest-note rule: a higher note cuts the line, a lower or equal one is dropped, chords keep
 * the top note, and a rest appears when the line falls silent. */
static void test_highest_note_line(void **state)
{
    (void)state;
    smf s;
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, NON(0, 60, 90),              /* 0: 60 [0, 480) */
          V(240), NON(0, 64, 91),             /* 240: 64 [240, 720) cuts 60 */
          V(240), NOFF(0, 60), 0, NON(0, 62, 92), /* 480: 62 [480, 960) under 64: dropped */
          V(120), NON(1, 64, 93),             /* 600: 64 on another channel, equal: dropped */
          V(120), NOFF(0, 64), 0, NOFF(1, 64), /* 720: line silent, 62 still sounds */
          V(240), NOFF(0, 62),
          0, NON(0, 60, 94), 0, NON(0, 67, 95), 0, NON(0, 64, 96), /* 960: chord, 67 wins */
          V(480), NOFF(0, 60), 0, NOFF(0, 67), 0, NOFF(0, 64),
          0, NON(0, 55, 97), V(480), NOFF(0, 55), 0, EOT); /* 1440: line silent: 55 enters */
    mn_melody m;
    expect_ok(&s, NULL, &m);
    const ev want[] = {{60, 90, 12, 0, 96}, {64, 91, 24, 12, 96}, {R, 0, 12, 36, 96},
                       {67, 95, 24, 48, 96}, {55, 97, 24, 72, 96}};
    check_events(&m, want, 5);
    mn_melody_free(&m);
}

/* Pairing: a re-struck pitch ends the sounding one, unmatched note-offs are ignored, notes
 * open at the end of a track close there, zero-length notes vanish. */
static void test_note_pairing(void **state)
{
    (void)state;
    smf s;
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, NOFF(0, 50),                    /* nothing open: ignored */
          0, NON(0, 60, 90), V(240), NON(0, 60, 91), /* re-strike at 240 */
          V(240), NOFF(0, 60), 0, NOFF(0, 60),   /* the second off matches nothing */
          0, NON(0, 70, 92), 0, NOFF(0, 70),     /* zero length: dropped */
          0, NON(0, 62, 93), V(480), 0xFF, 0x01, 1, 'x', /* text event; 62 still open */
          V(480), EOT);                           /* 62 closes at 1440 */
    mn_melody m;
    expect_ok(&s, NULL, &m);
    const ev want[] = {{60, 90, 12, 0, 96}, {60, 91, 12, 12, 96}, {62, 93, 48, 24, 96}};
    check_events(&m, want, 3);
    mn_melody_free(&m);

    /* no end-of-track event: open notes end with the last event of the chunk */
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, NON(0, 60, 90), V(960), 0xFF, 0x01, 0);
    expect_ok(&s, NULL, &m);
    const ev want2[] = {{60, 90, 48, 0, 96}};
    check_events(&m, want2, 1);
    mn_melody_free(&m);
}

static void build_three_tracks(smf *s)
{
    smf_header(s, 1, 3, 480);
    TRACK(s, 0, TSIG(2, 2), 0, EOT);
    TRACK(s, 0, NON(0, 48, 90), V(960), NOFF(0, 48), 0, EOT);
    TRACK(s, 0, NON(1, 72, 91), 0, NON(2, 76, 92), V(480), NOFF(1, 72), 0, NOFF(2, 76),
          0, NON(1, 74, 93), V(480), NOFF(1, 74), 0, EOT);
}

static void test_track_channel_selection(void **state)
{
    (void)state;
    smf s;
    build_three_tracks(&s);
    mn_melody m;
    mn_midi_options o;
    mn_midi_options_default(&o);
    assert_int_equal(o.track, -1);
    assert_int_equal(o.channel, -1);

    expect_ok(&s, &o, &m); /* all: 76 over 48, then 74 over 48 */
    const ev all[] = {{76, 92, 24, 0, 48}, {74, 93, 24, 24, 48}};
    check_events(&m, all, 2);
    mn_melody_free(&m);

    o.track = 1;
    expect_ok(&s, &o, &m);
    const ev t1[] = {{48, 90, 48, 0, 48}};
    check_events(&m, t1, 1);
    mn_melody_free(&m);

    o.track = -1;
    o.channel = 1;
    expect_ok(&s, &o, &m);
    const ev c1[] = {{72, 91, 24, 0, 48}, {74, 93, 24, 24, 48}};
    check_events(&m, c1, 2);
    mn_melody_free(&m);

    o.track = 2;
    o.channel = 2;
    expect_ok(&s, &o, &m);
    const ev t2c2[] = {{76, 92, 24, 0, 48}};
    check_events(&m, t2c2, 1);
    mn_melody_free(&m);

    /* a readable selection with no notes succeeds empty; tempo and metre still come through */
    o.track = 0;
    o.channel = -1;
    expect_ok(&s, &o, &m);
    assert_int_equal(m.n, 0);
    assert_int_equal(m.ts_num, 2);
    mn_melody_free(&m);
    o.track = 1;
    o.channel = 5;
    expect_ok(&s, &o, &m);
    assert_int_equal(m.n, 0);
    mn_melody_free(&m);

    char err[MN_ERR_LEN];
    o.track = 3;
    o.channel = -1;
    assert_int_equal(read_smf(&s, &o, &m, err), MN_ERR_ARG);
    assert_non_null(strstr(err, "track 3"));
    o.track = -1;
    o.channel = 16;
    assert_int_equal(read_smf(&s, &o, &m, err), MN_ERR_ARG);
    assert_non_null(strstr(err, "channel 16"));
    o.channel = -2;
    assert_int_equal(read_smf(&s, &o, &m, err), MN_ERR_ARG);
    o.channel = -1;
    o.track = -7;
    assert_int_equal(read_smf(&s, &o, &m, err), MN_ERR_ARG);
}

/* Onsets and offsets are rounded, so triplets at any division land on whole ticks. */
static void test_divisions_rounding(void **state)
{
    (void)state;
    smf s;
    mn_melody m;

    /* 1024 per quarter: quarter triplets at 0, 341, 683, then eighth triplets 1024.. 1536 */
    smf_header(&s, 0, 1, 1024);
    TRACK(&s, 0, NON(0, 60, 90), V(341), NOFF(0, 60), 0, NON(0, 62, 90), V(342), NOFF(0, 62),
          0, NON(0, 64, 90), V(341), NOFF(0, 64),
          0, NON(0, 65, 90), V(171), NOFF(0, 65), 0, NON(0, 67, 90), V(170), NOFF(0, 67),
          0, NON(0, 69, 90), V(171), NOFF(0, 69), 0, EOT);
    expect_ok(&s, NULL, &m);
    const ev w1024[] = {{60, 90, 8, 0, 96}, {62, 90, 8, 8, 96}, {64, 90, 8, 16, 96},
                        {65, 90, 4, 24, 96}, {67, 90, 4, 28, 96}, {69, 90, 4, 32, 96}};
    check_events(&m, w1024, 6);
    mn_melody_free(&m);

    /* 96 per quarter: sixteenth triplets of 16 ticks, then a dotted eighth */
    smf_header(&s, 0, 1, 96);
    TRACK(&s, 0, NON(0, 60, 90), V(16), NOFF(0, 60), 0, NON(0, 61, 90), V(16), NOFF(0, 61),
          0, NON(0, 62, 90), V(16), NOFF(0, 62), 0, NON(0, 63, 90), V(72), NOFF(0, 63), 0, EOT);
    expect_ok(&s, NULL, &m);
    const ev w96[] = {{60, 90, 4, 0, 96}, {61, 90, 4, 4, 96}, {62, 90, 4, 8, 96},
                      {63, 90, 18, 12, 96}};
    check_events(&m, w96, 4);
    mn_melody_free(&m);

    /* 480: a 5-tick gap rounds away; a 5-tick note gets one tick, or gives way to a note at
     * its rounded onset */
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, NON(0, 60, 90), V(475), NOFF(0, 60), V(5), NON(0, 62, 90), V(480), NOFF(0, 62),
          0, NON(0, 64, 90), V(5), NOFF(0, 64), V(235), NON(0, 65, 90), V(5), NOFF(0, 65),
          0, NON(0, 67, 90), V(475), NOFF(0, 67), 0, EOT);
    expect_ok(&s, NULL, &m);
    const ev w480[] = {{60, 90, 24, 0, 96}, {62, 90, 24, 24, 96}, {64, 90, 1, 48, 96},
                       {R, 0, 11, 49, 96}, {67, 90, 24, 60, 96}};
    check_events(&m, w480, 5);
    mn_melody_free(&m);
}

/* Notes and rests longer than MN_MAX_DUR_TICKS are clamped; positions stay exact. */
static void test_long_durations_clamped(void **state)
{
    (void)state;
    smf s;
    smf_header(&s, 0, 1, 24);
    TRACK(&s, 0, NON(0, 60, 90), V(2000), NOFF(0, 60), V(3001), NON(0, 62, 90), V(24),
          NOFF(0, 62), 0, EOT);
    mn_melody m;
    expect_ok(&s, NULL, &m);
    const ev want[] = {{60, 90, MN_MAX_DUR_TICKS, 0, 96}, {R, 0, MN_MAX_DUR_TICKS, 2000 % 96, 96},
                       {62, 90, 24, 5001 % 96, 96}};
    check_events(&m, want, 3);
    mn_melody_free(&m);
}

/* bpm is the tempo in force at the first note; bar lengths are clamped. */
static void test_tempo_and_odd_metres(void **state)
{
    (void)state;
    smf s;
    mn_melody m;
    smf_header(&s, 1, 2, 480);
    TRACK(&s, 0, TEMPO(500000), V(480), TEMPO(1000000), V(960), TEMPO(250000), 0, EOT);
    TRACK(&s, V(960), NON(0, 60, 90), V(480), NOFF(0, 60), 0, EOT);
    expect_ok(&s, NULL, &m);
    assert_true(fabs(m.bpm - 60.0) < 1e-9);
    mn_melody_free(&m);

    /* a tempo only after the first note: the file's first tempo; a zero tempo is ignored */
    smf_header(&s, 1, 2, 480);
    TRACK(&s, 0, TEMPO(0), V(960), TEMPO(400000), 0, EOT);
    TRACK(&s, 0, NON(0, 60, 90), V(480), NOFF(0, 60), 0, EOT);
    expect_ok(&s, NULL, &m);
    assert_true(fabs(m.bpm - 150.0) < 1e-9);
    mn_melody_free(&m);

    /* 40/4 clamps to MN_MAX_BAR_TICKS; 3/64 gives 4 ticks; 0/4 and x/256 are ignored */
    smf_header(&s, 0, 1, 24);
    TRACK(&s, 0, TSIG(0, 2), 0, TSIG(3, 8), 0, TSIG(40, 2), 0, NON(0, 60, 90), V(24),
          NOFF(0, 60), 0, TSIG(3, 6), 0, NON(0, 62, 90), V(6), NOFF(0, 62), 0, EOT);
    expect_ok(&s, NULL, &m);
    const ev want[] = {{60, 90, 24, 0, MN_MAX_BAR_TICKS}, {62, 90, 6, 0, 4}};
    check_events(&m, want, 2);
    assert_int_equal(m.ts_num, 40);
    assert_int_equal(m.ts_den, 4);
    mn_melody_free(&m);
}

/* A file without notes reads fine and empty; its track name becomes the name. */
static void test_no_notes(void **state)
{
    (void)state;
    smf s;
    smf_header(&s, 1, 1, 480);
    TRACK(&s, 0, 0xFF, 0x03, 4, ' ', 'a', 'b', ' ', 0, TSIG(3, 2), 0, EOT);
    mn_melody m;
    expect_ok(&s, NULL, &m);
    assert_int_equal(m.n, 0);
    assert_string_equal(m.name, "ab");
    assert_int_equal(m.ts_num, 3);
    assert_true(fabs(m.bpm - 120.0) < 1e-9);
    mn_melody_free(&m);

    /* one empty track chunk */
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, EOT);
    expect_ok(&s, NULL, &m);
    assert_int_equal(m.n, 0);
    mn_melody_free(&m);
}

/* Track names are cleaned of control bytes and cut without splitting a UTF-8 character. */
static void test_track_name_cleaning(void **state)
{
    (void)state;
    smf s;
    int t[400];
    size_t n = 0;
    t[n++] = 0;
    t[n++] = 0xFF;
    t[n++] = 0x03;
    t[n++] = V(2 + 2 * 100);
    t[n++] = 'a';
    t[n++] = '\n';
    for (int i = 0; i < 100; i++) {
        t[n++] = 0xC3; /* é */
        t[n++] = 0xA9;
    }
    t[n++] = 0;
    t[n++] = 0xFF;
    t[n++] = 0x2F;
    t[n++] = 0;
    smf_header(&s, 0, 1, 480);
    smf_track_ints(&s, t, n);
    mn_melody m;
    expect_ok(&s, NULL, &m);
    size_t len = strlen(m.name);
    assert_true(len < sizeof m.name);
    assert_memory_equal(m.name, "a \xC3\xA9", 4);
    assert_int_equal(len % 2, 0); /* "a " then whole two-byte characters */
    mn_melody_free(&m);
}

/*=== hostile input ==========================================================================*/

static void test_hostile_headers(void **state)
{
    (void)state;
    smf s;
    s.n = 0;
    expect_fail(&s, MN_ERR_FORMAT, "truncated");
    smf_header(&s, 1, 1, 480);
    s.n = 13;
    expect_fail(&s, MN_ERR_FORMAT, "truncated");
    smf_header(&s, 1, 1, 480);
    TRACK(&s, 0, EOT);
    memcpy(s.b, "MTrk", 4);
    expect_fail(&s, MN_ERR_FORMAT, "MThd");
    smf_header(&s, 1, 1, 480);
    s.b[7] = 5; /* header length 5 */
    TRACK(&s, 0, EOT);
    expect_fail(&s, MN_ERR_FORMAT, "header length 5");
    smf_header(&s, 1, 1, 480);
    s.b[4] = 0x7F; /* header length past the end */
    TRACK(&s, 0, EOT);
    expect_fail(&s, MN_ERR_FORMAT, "past the end");
    smf_header(&s, 2, 1, 480);
    TRACK(&s, 0, EOT);
    expect_fail(&s, MN_ERR_FORMAT, "format 2");
    smf_header(&s, 7, 1, 480);
    TRACK(&s, 0, EOT);
    expect_fail(&s, MN_ERR_FORMAT, "format 7");
    smf_header(&s, 1, 0, 480);
    expect_fail(&s, MN_ERR_FORMAT, "no tracks");
    smf_header(&s, 1, 65535, 480);
    TRACK(&s, 0, EOT);
    expect_fail(&s, MN_ERR_LIMIT, "65535 tracks");
    smf_header(&s, 1, 3, 480); /* declares 3, holds 1 */
    TRACK(&s, 0, EOT);
    expect_fail(&s, MN_ERR_FORMAT, "declares 3 tracks");
    smf_header(&s, 1, 1, 0xE728);
    TRACK(&s, 0, EOT);
    expect_fail(&s, MN_ERR_FORMAT, "SMPTE");
    smf_header(&s, 1, 1, 0);
    TRACK(&s, 0, EOT);
    expect_fail(&s, MN_ERR_FORMAT, "division");
    smf_header(&s, 1, 1, 480);
    TRACK(&s, 0, EOT);
    s.b[14 + 4] = 0x10; /* chunk length past the end */
    expect_fail(&s, MN_ERR_FORMAT, "chunk length");
    smf_header(&s, 1, 1, 480);
    smf_bytes(&s, "MTr", 3); /* a chunk header cut short */
    expect_fail(&s, MN_ERR_FORMAT, "file ends");
}

static void test_hostile_events(void **state)
{
    (void)state;
    smf s;
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, NON(0, 60, 90), 0, EOT);
    expect_fail(&s, MN_ERR_FORMAT, "longer than 4 bytes");
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, NON(0, 60, 90), 0x81);
    expect_fail(&s, MN_ERR_FORMAT, "truncated");
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, NON(0, 60, 90), 0x10);
    expect_fail(&s, MN_ERR_FORMAT, "missing");
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, 60, 90, 0, EOT);
    expect_fail(&s, MN_ERR_FORMAT, "running status");
    /* a meta or sysex event before any channel status does not make one */
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, 0xFF, 0x01, 0, 0, 60, 90, 0, EOT);
    expect_fail(&s, MN_ERR_FORMAT, "running status");
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, 0xF0, 1, 0xF7, 0, 60, 90, 0, EOT);
    expect_fail(&s, MN_ERR_FORMAT, "running status");
    /* nor does one in an earlier track */
    smf_header(&s, 1, 2, 480);
    TRACK(&s, 0, NON(0, 60, 90), V(480), 60, 0, 0, EOT);
    TRACK(&s, 0, 62, 90, V(480), 62, 0, 0, EOT);
    expect_fail(&s, MN_ERR_FORMAT, "running status");
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, 0x90, 60);
    expect_fail(&s, MN_ERR_FORMAT, "channel message truncated");
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, 0x90, 60, 0xC0, 0, EOT);
    expect_fail(&s, MN_ERR_FORMAT, "top bit");
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, 0xF4, 0, EOT);
    expect_fail(&s, MN_ERR_FORMAT, "0xF4");
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, 0xFF, 0x51, 3, 7, 0xA1);
    expect_fail(&s, MN_ERR_FORMAT, "meta event of 3 bytes");
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, 0xFF);
    expect_fail(&s, MN_ERR_FORMAT, "meta event truncated");
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, 0xFF, 0x51, 2, 7, 0xA1, 0, EOT);
    expect_fail(&s, MN_ERR_FORMAT, "tempo");
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, 0xFF, 0x58, 2, 4, 2, 0, EOT);
    expect_fail(&s, MN_ERR_FORMAT, "time signature");
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, 0xF0, V(1000), 1, 2, 3);
    expect_fail(&s, MN_ERR_FORMAT, "sysex");
    /* the error names the track */
    smf_header(&s, 1, 2, 480);
    TRACK(&s, 0, EOT);
    TRACK(&s, 0, 0xF5, 0, EOT);
    expect_fail(&s, MN_ERR_FORMAT, "track 1");
}

/* The committed hostile files: each fails with one line naming the file, and leaks nothing. */
static void test_hostile_fixtures(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        mn_status code;
        const char *what;
    } cases[] = {
        {"empty", MN_ERR_FORMAT, "the file is empty"},
        {"truncated_header", MN_ERR_FORMAT, "truncated"},
        {"bad_magic", MN_ERR_FORMAT, "MThd"},
        {"chunk_past_end", MN_ERR_FORMAT, "chunk length"},
        {"vlq_too_long", MN_ERR_FORMAT, "longer than 4 bytes"},
        {"running_status", MN_ERR_FORMAT, "running status"},
        {"smpte", MN_ERR_FORMAT, "SMPTE"},
        {"zero_tracks", MN_ERR_FORMAT, "no tracks"},
        {"many_tracks", MN_ERR_LIMIT, "tracks"},
        {"truncated_meta", MN_ERR_FORMAT, "meta event"},
        {"format2", MN_ERR_FORMAT, "format 2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char rel[128], path[1024], err[MN_ERR_LEN] = "";
        snprintf(rel, sizeof rel, "tests/fixtures/midi/hostile_%s.mid", cases[i].file);
        mn_test_path(path, sizeof path, rel);
        mn_melody m;
        mn_status st = mn_midi_read_file(path, NULL, &m, err);
        if (st != cases[i].code || !strstr(err, cases[i].what) || !strstr(err, path))
            print_error("%s: status %d: %s\n", cases[i].file, st, err);
        assert_int_equal(st, cases[i].code);
        assert_non_null(strstr(err, path));
        assert_non_null(strstr(err, cases[i].what));
        assert_null(strchr(err, '\n'));
        assert_int_equal(m.n, 0);
        assert_null(m.ev);
    }
    char err[MN_ERR_LEN];
    mn_melody m;
    assert_int_equal(mn_midi_read_file("/nonexistent/x.mid", NULL, &m, err), MN_ERR_IO);
    assert_string_equal(err, "/nonexistent/x.mid: cannot open: No such file or directory");
    assert_int_equal(mn_midi_read_file("/tmp", NULL, &m, err), MN_ERR_IO);
    assert_string_equal(err, "/tmp: cannot read: it is a folder");
    assert_int_equal(mn_midi_read_memory(NULL, 10, "x", NULL, &m, err), MN_ERR_ARG);
    assert_int_equal(mn_midi_read_memory(NULL, 0, "x", NULL, &m, err), MN_ERR_FORMAT);
    /* the message buffer is optional */
    static const uint8_t smpte[] = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0xE7, 0x28};
    assert_int_equal(mn_midi_read_memory(smpte, sizeof smpte, NULL, NULL, &m, NULL), MN_ERR_FORMAT);
    assert_int_equal(mn_midi_read_memory(smpte, sizeof smpte, "x", NULL, NULL, err), MN_ERR_ARG);
}

/* The limits of midi.h: file size (checked before reading) and notes kept. */
static void test_limits(void **state)
{
    (void)state;
    char path[64], err[MN_ERR_LEN];
    mn_melody m;
    mn_test_tmpfile(path, sizeof path, ".mid");
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), (off_t)MN_MIDI_MAX_FILE_BYTES + 1), 0); /* sparse */
    fclose(f);
    assert_int_equal(mn_midi_read_file(path, NULL, &m, err), MN_ERR_LIMIT);
    char want[MN_ERR_LEN];
    snprintf(want, sizeof want, "%s: %u bytes, larger than the limit of %u", path,
             MN_MIDI_MAX_FILE_BYTES + 1, MN_MIDI_MAX_FILE_BYTES);
    assert_string_equal(err, want);
    unlink(path);

    /* MN_MIDI_MAX_NOTES + 1 note-ons in running status: 3 bytes each */
    size_t n_notes = (size_t)MN_MIDI_MAX_NOTES + 1, body = 4 + 3 * (n_notes - 1) + 4;
    size_t len = 14 + 8 + body;
    uint8_t *b = malloc(len);
    assert_non_null(b);
    memcpy(b, "MThd\0\0\0\6\0\0\0\1\x01\xE0MTrk", 18);
    for (int i = 0; i < 4; i++) b[18 + i] = (uint8_t)(body >> (24 - 8 * i));
    uint8_t *p = b + 22;
    memcpy(p, "\0\x90\x3C\x40", 4);
    p += 4;
    for (size_t i = 1; i < n_notes; i++) {
        p[0] = 1;
        p[1] = (uint8_t)(i % 128);
        p[2] = 0x40;
        p += 3;
    }
    memcpy(p, "\0\xFF\x2F\0", 4);
    assert_int_equal((size_t)(p + 4 - b), len);
    assert_int_equal(mn_midi_read_memory(b, len, "big.mid", NULL, &m, err), MN_ERR_LIMIT);
    assert_non_null(strstr(err, "notes"));
    assert_null(m.ev);
    /* one note fewer is fine: the highest-note line of a rising and falling run */
    memcpy(b + len - 7, "\0\xFF\x2F\0", 4);
    for (int i = 0; i < 4; i++) b[18 + i] = (uint8_t)((body - 3) >> (24 - 8 * i));
    assert_int_equal(mn_midi_read_memory(b, len - 3, "big.mid", NULL, &m, err), MN_OK);
    assert_true(m.n > 0);
    mn_melody_free(&m);
    free(b);
}

/* A file using most features, for the sweeps. */
static void build_rich(smf *s)
{
    smf_header(s, 1, 3, 480);
    TRACK(s, 0, 0xFF, 0x03, 2, 'h', 'i', 0, TSIG(6, 3), 0, TEMPO(450000), 0, KEYSIG(2, 0),
          V(2880), TSIG(2, 2), 0, EOT);
    TRACK(s, V(240), NON(0, 60, 90), V(240), 62, 91, V(100), 0x80, 60, 0, V(140), 0x90, 62, 0,
          0, 0xF0, 2, 1, 0xF7, 0, 0xC0, 5, 0, 0xB0, 7, 100, V(480), NON(0, 67, 99),
          V(3000), EOT);
    TRACK(s, 0, 0xFF, 0x03, 1, 'x', V(120), NON(3, 72, 80), V(120), NON(3, 48, 80),
          V(600), NOFF(3, 72), 0, 0xE3, 0, 64, V(2000), EOT);
}

/* Every prefix of a valid file, and many single-byte mutations, must read or fail cleanly
 * (the sanitizers catch out-of-bounds reads and leaks). */
static void test_truncation_and_mutation_sweep(void **state)
{
    (void)state;
    smf s;
    build_rich(&s);
    mn_melody m;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_midi_read_memory(s.b, s.n, "rich", NULL, &m, err), MN_OK);
    assert_true(m.n >= 3);
    mn_melody_free(&m);

    size_t n_fail = 0;
    for (size_t len = 0; len < s.n; len++) {
        uint8_t *copy = malloc(len ? len : 1); /* exact size, so ASan sees any overread */
        memcpy(copy, s.b, len);
        err[0] = '\0';
        mn_status st = mn_midi_read_memory(copy, len, "rich", NULL, &m, err);
        if (st == MN_OK) {
            mn_melody_free(&m);
        } else {
            n_fail++;
            assert_true(err[0] != '\0');
            assert_null(m.ev);
        }
        free(copy);
    }
    assert_true(n_fail > 0);

    uint32_t rng = 12345;
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t *copy = malloc(s.n);
        memcpy(copy, s.b, s.n);
        int edits = 1 + iter % 3;
        for (int k = 0; k < edits; k++) {
            rng = rng * 1664525u + 1013904223u;
            size_t at = (rng >> 8) % s.n;
            rng = rng * 1664525u + 1013904223u;
            copy[at] = (uint8_t)(rng >> 24);
        }
        mn_status st = mn_midi_read_memory(copy, s.n, "rich", NULL, &m, err);
        if (st == MN_OK) {
            for (size_t i = 0; i < m.n; i++) {
                const mn_event *e = &m.ev[i];
                assert_true(e->pitch >= 0 && e->pitch <= MN_REST);
                assert_true(e->dur_ticks >= 1 && e->dur_ticks <= MN_MAX_DUR_TICKS);
                assert_true(e->bar_ticks >= 1 && e->bar_ticks <= MN_MAX_BAR_TICKS);
                assert_true(e->pos_ticks >= 0 && e->pos_ticks < e->bar_ticks);
                assert_true(e->pitch == MN_REST ? e->velocity == 0
                                                : e->velocity >= 1 && e->velocity <= 127);
            }
            mn_melody_free(&m);
        } else {
            assert_null(m.ev);
        }
        free(copy);
    }
}

/*=== fixtures ===============================================================================*/

static void read_fixture(const char *stem, mn_melody *m)
{
    char rel[128], path[1024], err[MN_ERR_LEN];
    snprintf(rel, sizeof rel, "tests/fixtures/midi/%s.mid", stem);
    mn_test_path(path, sizeof path, rel);
    mn_status st = mn_midi_read_file(path, NULL, m, err);
    if (st) print_error("%s\n", err);
    assert_int_equal(st, MN_OK);
}

static void test_fixture_reel_pickup(void **state)
{
    (void)state;
    mn_melody m;
    read_fixture("reel_pickup", &m);
    const ev want[] = {{74, 90, 12, 72, 96}, {76, 90, 12, 84, 96}, {79, 90, 24, 0, 96},
                       {78, 90, 12, 24, 96}, {76, 90, 12, 36, 96}, {74, 90, 24, 48, 96},
                       {R, 0, 24, 72, 96},   {71, 90, 12, 0, 96},  {72, 90, 12, 12, 96},
                       {74, 90, 12, 24, 96}, {76, 90, 12, 36, 96}, {79, 90, 18, 48, 96},
                       {78, 90, 6, 66, 96},  {79, 90, 24, 72, 96}, {67, 90, 96, 0, 96}};
    check_events(&m, want, sizeof want / sizeof want[0]);
    assert_string_equal(m.name, "reel_pickup");
    assert_int_equal(m.ts_num, 4);
    assert_int_equal(m.ts_den, 4);
    assert_true(fabs(m.bpm - 120.0) < 1e-9);
    mn_melody_free(&m);
}

static void test_fixture_jig_68(void **state)
{
    (void)state;
    mn_melody m;
    read_fixture("jig_68", &m);
    const ev want[] = {{62, 90, 12, 60, 72}, {67, 90, 12, 0, 72},  {71, 90, 12, 12, 72},
                       {67, 90, 12, 24, 72}, {66, 90, 36, 36, 72}, {64, 90, 12, 0, 72},
                       {66, 90, 12, 12, 72}, {67, 90, 12, 24, 72}, {69, 90, 12, 36, 72},
                       {R, 0, 24, 48, 72},   {74, 90, 36, 0, 72},  {71, 90, 24, 36, 72},
                       {69, 90, 12, 60, 72}, {67, 90, 72, 0, 72}};
    check_events(&m, want, sizeof want / sizeof want[0]);
    assert_string_equal(m.name, "jig_68");
    assert_int_equal(m.ts_num, 6);
    assert_int_equal(m.ts_den, 8);
    assert_true(fabs(m.bpm - 100.0) < 1e-9);

    /* the melody track alone, by index and by channel, gives the same line */
    mn_midi_options o;
    mn_midi_options_default(&o);
    o.track = 1;
    o.channel = 0;
    char path[1024], err[MN_ERR_LEN];
    mn_test_path(path, sizeof path, "tests/fixtures/midi/jig_68.mid");
    mn_melody m2;
    assert_int_equal(mn_midi_read_file(path, &o, &m2, err), MN_OK);
    assert_int_equal(m2.n, m.n);
    assert_memory_equal(m2.ev, m.ev, m.n * sizeof *m.ev);
    mn_melody_free(&m2);
    mn_melody_free(&m);
}

static void test_fixture_waltz_change(void **state)
{
    (void)state;
    mn_melody m;
    read_fixture("waltz_change", &m);
    const ev want[] = {{60, 90, 24, 0, 72},  {64, 90, 8, 24, 72},  {65, 90, 8, 32, 72},
                       {67, 90, 8, 40, 72},  {72, 90, 24, 48, 72}, {71, 90, 48, 0, 72},
                       {R, 0, 24, 48, 72},   {69, 90, 24, 0, 48},  {67, 90, 24, 24, 48},
                       {65, 90, 12, 0, 48},  {64, 90, 12, 12, 48}, {62, 90, 24, 24, 48}};
    check_events(&m, want, sizeof want / sizeof want[0]);
    assert_int_equal(m.ts_num, 3);
    assert_int_equal(m.ts_den, 4);
    mn_melody_free(&m);
}

/*=== writer =================================================================================*/

static void make_melody(mn_melody *m)
{
    mn_melody_init(m);
    m->bpm = 90.0;
    m->ts_num = 6;
    m->ts_den = 8;
    snprintf(m->name, sizeof m->name, "round trip");
    const mn_event ev[] = {
        {62, 80, 12, 60, 72}, {67, 100, 36, 0, 72}, {R, 0, 12, 36, 72}, {69, 1, 6, 48, 72},
        {71, 127, 6, 54, 72}, {72, 64, 8, 60, 72},  {74, 64, 4, 68, 72}, {R, 0, 144, 0, 72},
        {0, 90, MN_MAX_DUR_TICKS, 0, 72}, {127, 90, 1, 24, 72},
    };
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++)
        assert_int_equal(mn_melody_push(m, &ev[i], NULL), MN_OK);
}

static void test_write_read_round_trip(void **state)
{
    (void)state;
    mn_melody m, back;
    make_melody(&m);
    uint8_t *buf = NULL;
    size_t len = 0;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_midi_write_memory(&m, &buf, &len, err), MN_OK);
    assert_non_null(buf);
    /* header: format 1, two tracks, 480 per quarter */
    static const uint8_t hdr[] = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 1, 0, 2, 0x01, 0xE0};
    assert_true(len > sizeof hdr);
    assert_memory_equal(buf, hdr, sizeof hdr);
    assert_int_equal(mn_midi_read_memory(buf, len, "mem", NULL, &back, err), MN_OK);
    assert_int_equal(back.n, m.n);
    assert_memory_equal(back.ev, m.ev, m.n * sizeof *m.ev);
    assert_true(fabs(back.bpm - 90.0) < 1e-3);
    assert_int_equal(back.ts_num, 6);
    assert_int_equal(back.ts_den, 8);
    assert_string_equal(back.name, "round trip");

    /* the notes land on channel 0 of track 1, 20 file ticks per event tick */
    mn_midi_options o = {1, 0};
    mn_melody t1;
    assert_int_equal(mn_midi_read_memory(buf, len, "mem", &o, &t1, err), MN_OK);
    assert_int_equal(t1.n, m.n);
    mn_melody_free(&t1);
    mn_free(buf);
    mn_melody_free(&back);

    /* through a file: the temporary file is renamed into place, a new file with the mode
     * the umask leaves (0644 under umask 022) */
    char path[64];
    mn_test_tmpfile(path, sizeof path, ".mid");
    unlink(path);
    mode_t old_mask = umask(022);
    assert_int_equal(mn_midi_write_file(path, &m, err), MN_OK);
    umask(old_mask);
    assert_int_equal(mn_midi_read_file(path, NULL, &back, err), MN_OK);
    assert_int_equal(back.n, m.n);
    assert_memory_equal(back.ev, m.ev, m.n * sizeof *m.ev);
    mn_melody_free(&back);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    unlink(path);

    /* leading and trailing rests are gaps: they do not come back as events */
    mn_melody r;
    mn_melody_init(&r);
    const mn_event rs[] = {{R, 0, 24, 0, 96}, {60, 90, 24, 24, 96}, {R, 0, 24, 48, 96}};
    for (int i = 0; i < 3; i++) assert_int_equal(mn_melody_push(&r, &rs[i], NULL), MN_OK);
    assert_int_equal(mn_midi_write_memory(&r, &buf, &len, err), MN_OK);
    assert_int_equal(mn_midi_read_memory(buf, len, "mem", NULL, &back, err), MN_OK);
    const ev want[] = {{60, 90, 24, 24, 96}};
    check_events(&back, want, 1);
    assert_string_equal(back.name, "melody"); /* no name given: the melody track's */
    mn_free(buf);
    mn_melody_free(&back);
    mn_melody_free(&r);

    /* an empty melody writes a valid file with no notes */
    mn_melody_init(&r);
    assert_int_equal(mn_midi_write_memory(&r, &buf, &len, err), MN_OK);
    assert_int_equal(mn_midi_read_memory(buf, len, "mem", NULL, &back, err), MN_OK);
    assert_int_equal(back.n, 0);
    mn_free(buf);
    mn_melody_free(&back);
    mn_melody_free(&m);
}

/* The fixtures survive read, write, read unchanged. */
/* Meta and sysex events between running-status messages leave the running status in force,
 * as in mido and players: the fixture is jazz-soft's test-running-status-metaevent.mid case, a
 * C-major scale whose note-ons and note-offs after the first are in running status with a text
 * event after each note; the inline file interrupts it with sysex events too. */
static void test_running_status_resumes_after_meta_and_sysex(void **state)
{
    (void)state;
    mn_melody m;
    read_fixture("running_status_meta", &m);
    const ev want[] = {{60, 90, 24, 0, 96},  {62, 90, 24, 24, 96}, {64, 90, 24, 48, 96},
                       {65, 90, 24, 72, 96}, {67, 90, 24, 0, 96},  {69, 90, 24, 24, 96},
                       {71, 90, 24, 48, 96}, {72, 90, 24, 72, 96}};
    check_events(&m, want, sizeof want / sizeof want[0]);
    mn_melody_free(&m);

    smf s;
    smf_header(&s, 0, 1, 480);
    TRACK(&s, 0, NON(0, 60, 90), V(480), 60, 0, 0, 0xF0, 2, 0x43, 0xF7, 0, 62, 90, V(480), 62, 0,
          0, 0xF7, 1, 0x10, 0, 0xFF, 0x01, 1, 'x', 0, 64, 90, V(480), 64, 0, 0, EOT);
    expect_ok(&s, NULL, &m);
    const ev want2[] = {{60, 90, 24, 0, 96}, {62, 90, 24, 24, 96}, {64, 90, 24, 48, 96}};
    check_events(&m, want2, 3);
    mn_melody_free(&m);
}

static void test_fixture_round_trip(void **state)
{
    (void)state;
    const char *stems[] = {"reel_pickup", "jig_68", "waltz_change"};
    for (int i = 0; i < 3; i++) {
        mn_melody a, b;
        read_fixture(stems[i], &a);
        if (i == 2) a.n = 6; /* the writer keeps one metre: compare the part before the change */
        uint8_t *buf;
        size_t len;
        char err[MN_ERR_LEN];
        assert_int_equal(mn_midi_write_memory(&a, &buf, &len, err), MN_OK);
        assert_int_equal(mn_midi_read_memory(buf, len, "mem", NULL, &b, err), MN_OK);
        assert_int_equal(b.n, a.n);
        assert_memory_equal(b.ev, a.ev, a.n * sizeof *a.ev);
        assert_string_equal(b.name, a.name);
        assert_true(fabs(b.bpm - a.bpm) < 1e-3);
        mn_free(buf);
        mn_melody_free(&a);
        mn_melody_free(&b);
    }
}

static void test_write_rejects_bad_melodies(void **state)
{
    (void)state;
    mn_melody m;
    uint8_t *buf = (uint8_t *)&m;
    size_t len = 99;
    char err[MN_ERR_LEN];
    struct {
        int field, value;
        const char *what;
    } cases[] = {
        {0, 128 + 1, "pitch"}, {0, -1, "pitch"}, {1, 0, "velocity"}, {1, 128, "velocity"},
        {2, 0, "duration"},    {2, MN_MAX_DUR_TICKS + 1, "duration"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        make_melody(&m);
        mn_event *e = &m.ev[3];
        if (cases[i].field == 0) e->pitch = cases[i].value;
        if (cases[i].field == 1) e->velocity = cases[i].value;
        if (cases[i].field == 2) e->dur_ticks = cases[i].value;
        assert_int_equal(mn_midi_write_memory(&m, &buf, &len, err), MN_ERR_ARG);
        assert_non_null(strstr(err, "event 3"));
        assert_non_null(strstr(err, cases[i].what));
        assert_null(buf);
        assert_int_equal(len, 0);
        mn_melody_free(&m);
    }
    make_melody(&m);
    m.ts_den = 6;
    assert_int_equal(mn_midi_write_memory(&m, &buf, &len, err), MN_ERR_ARG);
    assert_non_null(strstr(err, "time signature"));
    m.ts_den = 8;
    m.ts_num = 0;
    assert_int_equal(mn_midi_write_memory(&m, &buf, &len, err), MN_ERR_ARG);
    m.ts_num = 6;
    m.bpm = 0;
    assert_int_equal(mn_midi_write_memory(&m, &buf, &len, err), MN_ERR_ARG);
    assert_non_null(strstr(err, "tempo"));
    m.bpm = NAN;
    assert_int_equal(mn_midi_write_memory(&m, &buf, &len, err), MN_ERR_ARG);
    m.bpm = 120;

    /* a failed file write names the path and leaves nothing behind */
    assert_int_equal(mn_midi_write_file("/nonexistent/dir/x.mid", &m, err), MN_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent/dir/x.mid"));
    char path[64];
    mn_test_tmpfile(path, sizeof path, ".mid");
    unlink(path);
    m.ev[0].dur_ticks = 0;
    assert_int_equal(mn_midi_write_file(path, &m, err), MN_ERR_ARG);
    assert_non_null(strstr(err, path));
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);
    mn_melody_free(&m);
}

/* Reading allocates a bounded number of times and frees everything (checked by the count
 * here and by ASan's leak check for the frees). */
static void test_read_allocations(void **state)
{
    (void)state;
    smf s;
    build_rich(&s);
    mn_test_count_allocs();
    mn_test_alloc_count = 0;
    mn_melody m;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_midi_read_memory(s.b, s.n, "rich", NULL, &m, err), MN_OK);
    assert_true(mn_test_alloc_count > 0 && mn_test_alloc_count < 10);
    mn_melody_free(&m);
    mn_set_allocator(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format0_running_status),
        cmocka_unit_test(test_format1_pickup_meta),
        cmocka_unit_test(test_time_signature_change),
        cmocka_unit_test(test_highest_note_line),
        cmocka_unit_test(test_note_pairing),
        cmocka_unit_test(test_track_channel_selection),
        cmocka_unit_test(test_divisions_rounding),
        cmocka_unit_test(test_long_durations_clamped),
        cmocka_unit_test(test_tempo_and_odd_metres),
        cmocka_unit_test(test_no_notes),
        cmocka_unit_test(test_track_name_cleaning),
        cmocka_unit_test(test_hostile_headers),
        cmocka_unit_test(test_hostile_events),
        cmocka_unit_test(test_hostile_fixtures),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_truncation_and_mutation_sweep),
        cmocka_unit_test(test_fixture_reel_pickup),
        cmocka_unit_test(test_fixture_jig_68),
        cmocka_unit_test(test_running_status_resumes_after_meta_and_sysex),
        cmocka_unit_test(test_fixture_waltz_change),
        cmocka_unit_test(test_write_read_round_trip),
        cmocka_unit_test(test_fixture_round_trip),
        cmocka_unit_test(test_write_rejects_bad_melodies),
        cmocka_unit_test(test_read_allocations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
