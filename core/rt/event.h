/* event.h - the event representation every module shares (see DESIGN.md): a monophonic melody
 * is a sequence of events, each a pitch (MIDI 0-127) or a rest, a duration in ticks at MN_TPQ
 * ticks per quarter note, and the metric position of its onset. Also the duration table that
 * maps durations to model tokens, and a growable melody buffer. */
#ifndef MN_EVENT_H
#define MN_EVENT_H

#include "base.h"

#define MN_TPQ 24            /* ticks per quarter note of the event representation */
#define MN_REST 128          /* pitch value of a rest */
#define MN_N_PITCH 129       /* classes of the pitch head: MIDI 0..127 and MN_REST */
#define MN_PITCH_BOS 129     /* input-only pitch token that starts every sequence */
#define MN_N_PITCH_IN 130    /* rows of the pitch embedding: MN_N_PITCH classes + BOS */
#define MN_MAX_DUR 64        /* most entries a duration table may hold */
#define MN_MAX_DUR_TICKS (MN_TPQ * 64) /* longest duration representable (16 whole notes) */
#define MN_DEFAULT_BAR_TICKS (4 * MN_TPQ) /* 4/4 when a file gives no time signature */
#define MN_MAX_BAR_TICKS (MN_TPQ * 32)
#define MN_DEFAULT_VELOCITY 90 /* of a note that names none: seeds, note lists, generated notes */

/* A MIDI pitch 0..127 (anything else, MN_REST included, is a rest). */
static inline int mn_is_pitch(int pitch) { return pitch >= 0 && pitch <= 127; }

typedef struct {
    int pitch;     /* 0..127, or MN_REST */
    int velocity;  /* 1..127 for a note, 0 for a rest */
    int dur_ticks; /* duration, 1..MN_MAX_DUR_TICKS ticks at MN_TPQ */
    int pos_ticks; /* onset, ticks since the last bar line, 0..bar_ticks-1 */
    int bar_ticks; /* length of the bar holding the onset, 1..MN_MAX_BAR_TICKS */
} mn_event;

/* A melody: events plus what the source said about tempo and metre. Owns ev. */
typedef struct {
    mn_event *ev;       /* [n] */
    size_t n, cap;
    double bpm;         /* tempo at the first event (quarter notes per minute), 120 if none */
    int ts_num, ts_den; /* first time signature, 4/4 if none */
    char name[128];     /* tune name (track name or file stem), may be empty */
} mn_melody;

void mn_melody_init(mn_melody *m);
void mn_melody_free(mn_melody *m); /* frees ev, leaves m empty and reusable; NULL is a no-op */
mn_status mn_melody_push(mn_melody *m, const mn_event *e, char *err);

/* Metric position after an event: (pos + dur) mod bar. */
int mn_event_next_pos(const mn_event *e);

/* Duration table: the durations the model knows, in ascending ticks. */
typedef struct {
    int n;                      /* entries, 1..MN_MAX_DUR */
    int ticks[MN_MAX_DUR];      /* strictly ascending, each 1..MN_MAX_DUR_TICKS */
} mn_durtable;

/* Index of the entry nearest to dur_ticks (by ratio, so 7 maps to 6 rather than 8 only when
 * closer in log time; ties go to the shorter). Always returns 0..n-1 for a valid table. */
int mn_durtable_index(const mn_durtable *t, int dur_ticks);

/* Checks a table read from an untrusted source. */
mn_status mn_durtable_validate(const mn_durtable *t, char *err);

/* Builds a table of the max_entries most frequent durations over the melodies (ties to the
 * shorter), sorted ascending. Fails with MN_ERR_EMPTY when there are no events. */
mn_status mn_durtable_build(mn_durtable *t, const mn_melody *mels, size_t n_mels,
                            int max_entries, char *err);

/* Ticks of a span of ms at bpm quarter notes per minute, rounded to the nearest tick and
 * clamped to 0..MN_MAX_DUR_TICKS (0 for a bpm <= 0 or a span that is not a number). */
int mn_event_ms_ticks(double ms, double bpm);

/* Milliseconds of dur_ticks at bpm quarter notes per minute (bpm > 0). */
double mn_event_ticks_ms(int dur_ticks, double bpm);

/* A note someone played, as the events a melody holds (what `note PITCH VELOCITY` feeds):
 * held_ticks from its onset to its release, ioi_ticks from its onset to the next onset (< 0:
 * none, the note ends at its release). The silence between the release and the next onset is
 * a rest when it lasts at least an eighth note (MN_TPQ / 2) and at least half as long as the
 * note sounded; a shorter silence is articulation and the note lasts until the next onset.
 * Durations are the entries of table t nearest to them (mn_durtable_index); the rest is what
 * the next onset leaves after the quantised note, quantised in turn, and is left out when that
 * is less than half the table's shortest entry. Writes the note and maybe a rest to out, with
 * bar_ticks 0 (a session places them on its own clock, so the metric position follows), and
 * returns how many (1 or 2). pitch outside 0..127 is a rest. */
int mn_event_from_heard(const mn_durtable *t, int pitch, int velocity, int held_ticks,
                        int ioi_ticks, mn_event out[2]);
/* Parses a note list such as "60 62:0.5 rest 64:2" (tokens separated by blanks or commas):
 * each a MIDI number 0..127 or `rest` (`r`), optionally `:BEATS` for its length in quarter
 * notes, 1/24..64 (default 1), rounded to ticks. Appends the events to out (velocity
 * MN_DEFAULT_VELOCITY for a note, 0 for a rest; pos_ticks and bar_ticks 0: the clock places
 * them when they are fed).
 * On failure out is left as it was and err names the token and the fault. */
mn_status mn_parse_notes(const char *s, mn_melody *out, char *err);

/* Named pitch for messages: "C4", "F#5", "rest". buf needs 8 bytes. */
const char *mn_pitch_name(int pitch, char buf[8]);

/* Name of pitch class pc (0..11, C = 0, sharps: "C", "C#", ... "B"); "?" outside. */
const char *mn_pitch_class_name(int pc);

#endif
