/* event.c - melody buffers, duration tables and note lists. */
#include "event.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void mn_melody_init(mn_melody *m)
{
    memset(m, 0, sizeof *m);
    m->bpm = 120.0;
    m->ts_num = 4;
    m->ts_den = 4;
}

void mn_melody_free(mn_melody *m)
{
    if (!m) return;
    mn_free(m->ev);
    m->ev = NULL;
    m->n = m->cap = 0;
}

mn_status mn_melody_push(mn_melody *m, const mn_event *e, char *err)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof *m->ev) return mn_errf(err, MN_ERR_NOMEM, "melody too long");
        mn_event *ev = mn_realloc(m->ev, cap * sizeof *ev);
        if (!ev) return mn_errf(err, MN_ERR_NOMEM, "out of memory for %zu events", cap);
        m->ev = ev;
        m->cap = cap;
    }
    m->ev[m->n++] = *e;
    return MN_OK;
}

int mn_event_next_pos(const mn_event *e)
{
    int bar = e->bar_ticks > 0 ? e->bar_ticks : MN_DEFAULT_BAR_TICKS;
    long p = ((long)e->pos_ticks + (long)e->dur_ticks) % bar;
    return (int)(p < 0 ? p + bar : p);
}

int mn_durtable_index(const mn_durtable *t, int dur_ticks)
{
    if (dur_ticks < 1) dur_ticks = 1;
    int best = 0;
    double best_d = INFINITY;
    double l = log((double)dur_ticks);
    for (int i = 0; i < t->n; i++) {
        double d = fabs(log((double)t->ticks[i]) - l);
        if (d < best_d - 1e-12) {
            best_d = d;
            best = i;
        }
    }
    return best;
}

mn_status mn_durtable_validate(const mn_durtable *t, char *err)
{
    if (t->n < 1 || t->n > MN_MAX_DUR)
        return mn_errf(err, MN_ERR_FORMAT, "duration table has %d entries, expected 1..%d", t->n,
                       MN_MAX_DUR);
    for (int i = 0; i < t->n; i++) {
        if (t->ticks[i] < 1 || t->ticks[i] > MN_MAX_DUR_TICKS)
            return mn_errf(err, MN_ERR_FORMAT, "duration table entry %d is %d ticks, expected 1..%d",
                           i, t->ticks[i], MN_MAX_DUR_TICKS);
        if (i > 0 && t->ticks[i] <= t->ticks[i - 1])
            return mn_errf(err, MN_ERR_FORMAT, "duration table is not strictly ascending at entry %d",
                           i);
    }
    return MN_OK;
}

mn_status mn_durtable_build(mn_durtable *t, const mn_melody *mels, size_t n_mels, int max_entries,
                            char *err)
{
    if (max_entries < 1 || max_entries > MN_MAX_DUR)
        return mn_errf(err, MN_ERR_ARG, "duration table size %d, expected 1..%d", max_entries,
                       MN_MAX_DUR);
    size_t *count = mn_calloc(MN_MAX_DUR_TICKS + 1, sizeof *count);
    if (!count) return mn_errf(err, MN_ERR_NOMEM, "out of memory");
    size_t total = 0;
    for (size_t i = 0; i < n_mels; i++)
        for (size_t j = 0; j < mels[i].n; j++) {
            int d = mels[i].ev[j].dur_ticks;
            if (d < 1) d = 1;
            if (d > MN_MAX_DUR_TICKS) d = MN_MAX_DUR_TICKS;
            count[d]++;
            total++;
        }
    if (!total) {
        mn_free(count);
        return mn_errf(err, MN_ERR_EMPTY, "no events to build a duration table from");
    }
    t->n = 0;
    for (int k = 0; k < max_entries; k++) {
        int best = 0;
        for (int d = 1; d <= MN_MAX_DUR_TICKS; d++)
            if (count[d] > (best ? count[best] : 0)) best = d;
        if (!best) break;
        t->ticks[t->n++] = best;
        count[best] = 0;
    }
    mn_free(count);
    /* sort ascending (n <= 64: insertion sort) */
    for (int i = 1; i < t->n; i++) {
        int v = t->ticks[i], j = i - 1;
        while (j >= 0 && t->ticks[j] > v) {
            t->ticks[j + 1] = t->ticks[j];
            j--;
        }
        t->ticks[j + 1] = v;
    }
    return MN_OK;
}

int mn_event_ms_ticks(double ms, double bpm)
{
    double ticks = ms * bpm * MN_TPQ / 60000.0;
    if (!(bpm > 0) || !(ticks > 0)) return 0;
    if (ticks >= MN_MAX_DUR_TICKS) return MN_MAX_DUR_TICKS;
    return (int)lrint(ticks);
}

double mn_event_ticks_ms(int dur_ticks, double bpm)
{
    return (double)dur_ticks / MN_TPQ * 60000.0 / bpm;
}

int mn_event_from_heard(const mn_durtable *t, int pitch, int velocity, int held_ticks,
                        int ioi_ticks, mn_event out[2])
{
    int rest = !mn_is_pitch(pitch);
    if (held_ticks < 1) held_ticks = 1;
    if (ioi_ticks >= 0 && held_ticks > ioi_ticks) held_ticks = ioi_ticks > 0 ? ioi_ticks : 1;
    int silence = ioi_ticks >= 0 ? ioi_ticks - held_ticks : 0;
    int with_rest = silence >= MN_TPQ / 2 && 2 * silence >= held_ticks;
    int note_ticks = with_rest || ioi_ticks < 0 ? held_ticks : ioi_ticks;
    memset(out, 0, 2 * sizeof *out);
    out[0].pitch = rest ? MN_REST : pitch;
    out[0].velocity = rest ? 0 : (velocity < 1 ? 1 : velocity > 127 ? 127 : velocity);
    out[0].dur_ticks = t->ticks[mn_durtable_index(t, note_ticks)];
    if (!with_rest) return 1;
    int left = ioi_ticks - out[0].dur_ticks;
    if (2 * left < t->ticks[0]) return 1;
    out[1].pitch = MN_REST;
    out[1].dur_ticks = t->ticks[mn_durtable_index(t, left)];
    return 2;
}

const char *mn_pitch_class_name(int pc)
{
    static const char *names[12] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
    return pc >= 0 && pc < 12 ? names[pc] : "?";
}

const char *mn_pitch_name(int pitch, char buf[8])
{
    if (pitch == MN_REST) snprintf(buf, 8, "rest");
    else if (!mn_is_pitch(pitch)) snprintf(buf, 8, "?");
    else snprintf(buf, 8, "%s%d", mn_pitch_class_name(pitch % 12), pitch / 12 - 1);
    return buf;
}

/* One token of a note list: [start, start + len). */
static mn_status parse_note(const char *tok, size_t len, int index, mn_event *e, char *err)
{
    char buf[64];
    if (len >= sizeof buf)
        return mn_errf(err, MN_ERR_ARG, "note %d: '%.20s...' is too long", index, tok);
    memcpy(buf, tok, len);
    buf[len] = '\0';
    double beats = 1.0;
    char *colon = strchr(buf, ':');
    if (colon) {
        *colon = '\0';
        const char *b = colon + 1;
        char *end;
        errno = 0;
        beats = *b ? strtod(b, &end) : 0;
        if (!*b || *end || errno || !isfinite(beats) || beats < 1.0 / MN_TPQ || beats > 64)
            return mn_errf(err, MN_ERR_ARG, "note %d: duration '%s' is not a number of beats "
                           "in 1/%d..64", index, b, MN_TPQ);
    }
    memset(e, 0, sizeof *e);
    if (!strcasecmp(buf, "rest") || !strcasecmp(buf, "r")) {
        e->pitch = MN_REST;
    } else {
        char *end;
        errno = 0;
        long p = *buf ? strtol(buf, &end, 10) : -1;
        if (!*buf || *end || errno || p < 0 || p > 127)
            return mn_errf(err, MN_ERR_ARG, "note %d: pitch '%s' is not a MIDI number 0..127 "
                           "or rest", index, buf);
        e->pitch = (int)p;
        e->velocity = MN_DEFAULT_VELOCITY;
    }
    e->dur_ticks = (int)(beats * MN_TPQ + 0.5);
    if (e->dur_ticks < 1) e->dur_ticks = 1;
    return MN_OK;
}

mn_status mn_parse_notes(const char *s, mn_melody *out, char *err)
{
    if (!s || !out) return mn_errf(err, MN_ERR_ARG, "notes: nothing to parse");
    size_t n0 = out->n;
    int index = 0;
    for (const char *p = s;;) {
        p += strspn(p, " ,\t");
        if (!*p) return MN_OK;
        size_t len = strcspn(p, " ,\t");
        mn_event e;
        mn_status st = parse_note(p, len, ++index, &e, err);
        if (!st) st = mn_melody_push(out, &e, err);
        if (st) {
            out->n = n0;
            return st;
        }
        p += len;
    }
}
