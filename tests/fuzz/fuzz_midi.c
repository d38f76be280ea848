/* fuzz_midi.c - libFuzzer harness for the MIDI reader and writer. Any bytes must read or fail
 * cleanly under a few track/channel selections; a melody read must satisfy event.h's
 * invariants; written back and read again it must give the same notes, rests and metre, with
 * positions that follow from the first one. */
#include "base.h"
#include "event.h"
#include "midi.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"

static void check_events(const mn_melody *m, const char *what)
{
    FUZZ_CHECK(m->n == 0 || m->ev != NULL, "%s: %zu events without storage", what, m->n);
    FUZZ_CHECK(m->bpm > 0 && isfinite(m->bpm), "%s: bpm %g", what, m->bpm);
    FUZZ_CHECK(m->ts_num >= 1 && m->ts_num <= 255 && m->ts_den >= 1 && m->ts_den <= 128 &&
               (m->ts_den & (m->ts_den - 1)) == 0, "%s: time signature %d/%d", what, m->ts_num,
               m->ts_den);
    FUZZ_CHECK(memchr(m->name, '\0', sizeof m->name) != NULL, "%s: name not terminated", what);
    for (size_t i = 0; i < m->n; i++) {
        const mn_event *e = &m->ev[i];
        int rest = e->pitch == MN_REST;
        FUZZ_CHECK(rest || (e->pitch >= 0 && e->pitch <= 127), "%s: event %zu pitch %d", what, i,
                   e->pitch);
        FUZZ_CHECK(rest ? e->velocity == 0 : (e->velocity >= 1 && e->velocity <= 127),
                   "%s: event %zu velocity %d", what, i, e->velocity);
        FUZZ_CHECK(e->dur_ticks >= 1 && e->dur_ticks <= MN_MAX_DUR_TICKS,
                   "%s: event %zu duration %d", what, i, e->dur_ticks);
        FUZZ_CHECK(e->bar_ticks >= 1 && e->bar_ticks <= MN_MAX_BAR_TICKS,
                   "%s: event %zu bar %d", what, i, e->bar_ticks);
        FUZZ_CHECK(e->pos_ticks >= 0 && e->pos_ticks < e->bar_ticks,
                   "%s: event %zu position %d in a bar of %d", what, i, e->pos_ticks, e->bar_ticks);
        /* a line starts and ends on a note and never holds two rests in a row */
        if (rest) {
            FUZZ_CHECK(i > 0 && i + 1 < m->n, "%s: rest at the edge (event %zu of %zu)", what, i,
                       m->n);
            FUZZ_CHECK(m->ev[i - 1].pitch != MN_REST, "%s: two rests at %zu", what, i);
        }
    }
}

static void round_trip(const mn_melody *a)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    char err[MN_ERR_LEN] = "";
    mn_status s = mn_midi_write_memory(a, &buf, &len, err);
    if (s == MN_ERR_LIMIT) return; /* a very long piece cannot be one MIDI file */
    FUZZ_CHECK(s == MN_OK, "write failed: %s", err);

    mn_melody b;
    s = mn_midi_read_memory(buf, len, "written", NULL, &b, err);
    FUZZ_CHECK(s == MN_OK, "reading the written file failed: %s", err);
    check_events(&b, "reread");
    FUZZ_CHECK(b.n == a->n, "%zu events written, %zu read back", a->n, b.n);
    FUZZ_CHECK(b.bpm == a->bpm, "bpm %.17g written, %.17g read back", a->bpm, b.bpm);
    FUZZ_CHECK(b.ts_num == a->ts_num && b.ts_den == a->ts_den, "metre %d/%d written, %d/%d read",
               a->ts_num, a->ts_den, b.ts_num, b.ts_den);
    FUZZ_CHECK(strcmp(a->name, b.name) == 0, "name \"%s\" written, \"%s\" read back", a->name,
               b.name);
    for (size_t i = 0; i < a->n; i++) {
        const mn_event *x = &a->ev[i], *y = &b.ev[i];
        FUZZ_CHECK(x->pitch == y->pitch && x->velocity == y->velocity &&
                   x->dur_ticks == y->dur_ticks, "event %zu: wrote %d/%d/%d, read %d/%d/%d", i,
                   x->pitch, x->velocity, x->dur_ticks, y->pitch, y->velocity, y->dur_ticks);
        /* one metre from tick 0: the first onset keeps its place, the rest follow from it */
        if (i == 0) {
            FUZZ_CHECK(y->bar_ticks != x->bar_ticks || y->pos_ticks == x->pos_ticks,
                       "first position %d written, %d read", x->pos_ticks, y->pos_ticks);
        } else {
            const mn_event *p = &b.ev[i - 1];
            FUZZ_CHECK(y->bar_ticks == p->bar_ticks, "event %zu: bar %d after %d", i, y->bar_ticks,
                       p->bar_ticks);
            FUZZ_CHECK(y->pos_ticks == mn_event_next_pos(p), "event %zu: position %d, expected %d",
                       i, y->pos_ticks, mn_event_next_pos(p));
        }
    }
    mn_melody_free(&b);
    mn_free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const mn_midi_options opts[] = {{-1, -1}, {1, -1}, {-1, 0}, {0, 9}};
    for (size_t k = 0; k < sizeof opts / sizeof *opts; k++) {
        mn_melody m;
        char err[MN_ERR_LEN] = "";
        mn_status s = mn_midi_read_memory(data, size, "fuzz.mid", &opts[k], &m, err);
        if (s != MN_OK) {
            FUZZ_CHECK(err[0] != '\0', "failure %s without a message", mn_status_name(s));
            FUZZ_CHECK(m.n == 0 && m.ev == NULL, "failure left %zu events", m.n);
            FUZZ_CHECK(s == MN_ERR_FORMAT || s == MN_ERR_LIMIT || s == MN_ERR_ARG ||
                       s == MN_ERR_NOMEM, "status %s", mn_status_name(s));
            if (k == 0) return 0; /* other selections fail the same way */
            continue;
        }
        check_events(&m, "read");
        if (k == 0) round_trip(&m);
        mn_melody_free(&m);
    }
    return 0;
}
