/* midi.c - Standard MIDI File reader and writer (see midi.h).
 *
 * Reading. The file is parsed whole from memory; every length, count and offset is checked
 * against the buffer and the limits in midi.h, and a malformed file yields one line naming the
 * file, the track and the byte offset of the fault. Accepted: formats 0 and 1 with a
 * ticks-per-quarter division. Format 2 (independent sequences with their own timelines) is
 * refused, since its tracks do not share one time line; SMPTE divisions are refused too.
 * Unknown chunk types are skipped, as are extra bytes of a longer MThd and data after the
 * declared tracks; a format 0 file with several tracks is read like format 1. Sysex and key
 * signatures are skipped; tempo, time signatures and track names are read from every track
 * whatever the selection. Asking for a track the file does not have is MN_ERR_ARG.
 *
 * Notes. Within a track, a note-on opens (channel, pitch); a note-off or a note-on of velocity 0
 * closes it; a note-off with nothing open is ignored; a note-on of a pitch already open on that
 * channel first closes the open one; notes still open at the end of the track close there.
 * Zero-length notes are dropped. Only notes of the selected track and channel are kept.
 *
 * One line (DESIGN.md: the highest sounding note). The kept notes are sorted by onset, higher
 * pitch first at equal onsets. A note enters the line if it starts when no line note sounds, or
 * if it is higher than the sounding line note, which is then cut at this onset; a note lower
 * than or equal to the sounding line note is dropped. So of notes struck together the highest
 * wins, and a lower voice never interrupts a held melody note.
 *
 * Events. Onsets and offsets (not durations, so that nothing drifts) are rounded to the nearest
 * tick at MN_TPQ. A note that rounds to zero length gets one tick; if the next note then rounds
 * to the same onset, the short note (under half a tick) is dropped in its favour. Gaps between
 * line notes become MN_REST events (a gap that rounds to zero disappears); silence before the
 * first note is not an event. Each event's metric position comes from the time-signature map:
 * bar lines are counted from tick 0 and re-anchored at each change; bar_ticks is
 * num * 4 * MN_TPQ / den clamped to 1..MN_MAX_BAR_TICKS (4/4 before the first signature). A
 * signature with numerator 0 or a denominator above 128 is ignored. Durations longer than
 * MN_MAX_DUR_TICKS are clamped (positions stay exact, being taken from absolute time).
 * bpm is the tempo in force at the first note (the first tempo of the file when none precedes
 * it, 120 when the file has none); ts_num/ts_den the first time signature; name the first
 * non-empty track name, else the file's stem.
 *
 * Writing. SMF format 1 at MN_MIDI_WRITE_TPQ: track 0 holds the name (when set), tempo and time
 * signature; track 1, named "melody", the notes on channel 0. The first event starts at its
 * pos_ticks, so a pickup keeps its place in the bar; rests are gaps. */
#include "midi.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIDI_MAX_META 1000000u /* tempo or time-signature events kept from one file */
#define MIDI_VLQ_MAX 0x0FFFFFFFu

void mn_midi_options_default(mn_midi_options *o)
{
    o->track = -1;
    o->channel = -1;
}

/*=== reader state ===========================================================================*/

typedef struct {
    int64_t on, off;   /* source ticks; off < 0 while the note is open */
    uint8_t pitch, vel;
} midi_note;

typedef struct {
    int64_t tick;  /* source ticks */
    uint32_t seq;  /* file order, so that sorting by tick is stable */
    uint32_t value; /* tempo: microseconds per quarter; time signature: num << 8 | log2(den) */
} midi_meta;

typedef struct {
    const uint8_t *buf;
    size_t len;
    const char *name;
    char *err;
    mn_midi_options opt;
    int division;                /* ticks per quarter note of the file */
    midi_note *notes;            /* [n_notes] kept notes */
    size_t n_notes, cap_notes;
    midi_meta *tempo, *ts;       /* [n_tempo], [n_ts] */
    size_t n_tempo, cap_tempo, n_ts, cap_ts;
    uint32_t seq;
    char track_name[sizeof(((mn_melody *)0)->name)];
    int32_t open[16][128];       /* index into notes of the open note, -1 if none */
    mn_midi_stats *stats;        /* filled by build_melody when non-NULL */
} midi_reader;

static mn_status grow(midi_reader *r, void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return MN_OK;
    size_t c = *cap ? *cap * 2 : 256;
    if (c < need) c = need;
    if (c > SIZE_MAX / elem) return mn_errf(r->err, MN_ERR_NOMEM, "%s: out of memory", r->name);
    void *q = mn_realloc(*p, c * elem);
    if (!q) return mn_errf(r->err, MN_ERR_NOMEM, "%s: out of memory for %zu items", r->name, c);
    *p = q;
    *cap = c;
    return MN_OK;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

/* Reads a variable-length quantity of at most 4 bytes ending before end. */
static mn_status read_vlq(midi_reader *r, int track, size_t *pos, size_t end, uint32_t *out)
{
    uint32_t v = 0;
    size_t start = *pos;
    for (int i = 0; i < 4; i++) {
        if (*pos >= end)
            return mn_errf(r->err, MN_ERR_FORMAT,
                           "%s: track %d: variable-length number truncated at byte %zu", r->name,
                           track, start);
        uint8_t b = r->buf[(*pos)++];
        v = v << 7 | (b & 0x7F);
        if (!(b & 0x80)) {
            *out = v;
            return MN_OK;
        }
    }
    return mn_errf(r->err, MN_ERR_FORMAT,
                   "%s: track %d: variable-length number longer than 4 bytes at byte %zu", r->name,
                   track, start);
}

static void close_note(midi_reader *r, int ch, int pitch, int64_t t)
{
    int32_t i = r->open[ch][pitch];
    if (i >= 0) {
        r->notes[i].off = t;
        r->open[ch][pitch] = -1;
    }
}

static mn_status add_meta(midi_reader *r, midi_meta **arr, size_t *n, size_t *cap, int64_t tick,
                          uint32_t value)
{
    if (*n >= MIDI_MAX_META)
        return mn_errf(r->err, MN_ERR_LIMIT, "%s: more than %u tempo or time-signature events",
                       r->name, MIDI_MAX_META);
    mn_status s = grow(r, (void **)arr, cap, *n + 1, sizeof **arr);
    if (s) return s;
    (*arr)[(*n)++] = (midi_meta){tick, r->seq++, value};
    return MN_OK;
}

/* Handles one meta event of the given type and data. */
static mn_status read_meta(midi_reader *r, int track, int type, const uint8_t *d, uint32_t n,
                           size_t at, int64_t t)
{
    switch (type) {
    case 0x51: { /* tempo: microseconds per quarter note, 24 bits */
        if (n < 3)
            return mn_errf(r->err, MN_ERR_FORMAT,
                           "%s: track %d: tempo event has %u data bytes, expected 3 at byte %zu",
                           r->name, track, n, at);
        uint32_t usec = (uint32_t)d[0] << 16 | (uint32_t)d[1] << 8 | d[2];
        if (usec == 0) return MN_OK; /* meaningless; the previous tempo stays */
        return add_meta(r, &r->tempo, &r->n_tempo, &r->cap_tempo, t, usec);
    }
    case 0x58: /* time signature: nn dd cc bb */
        if (n < 4)
            return mn_errf(r->err, MN_ERR_FORMAT,
                           "%s: track %d: time signature has %u data bytes, expected 4 at byte %zu",
                           r->name, track, n, at);
        if (d[0] == 0 || d[1] > 7) return MN_OK;
        return add_meta(r, &r->ts, &r->n_ts, &r->cap_ts, t, (uint32_t)d[0] << 8 | d[1]);
    case 0x03: /* track name: the first non-empty one names the tune */
        if (!r->track_name[0]) {
            size_t k = 0;
            for (uint32_t i = 0; i < n && k + 1 < sizeof r->track_name; i++) {
                uint8_t c = d[i];
                r->track_name[k++] = (char)(c < 0x20 || c == 0x7F ? ' ' : c);
            }
            /* do not end on a cut UTF-8 sequence */
            if (k < n) {
                size_t j = k;
                while (j > 0 && ((uint8_t)r->track_name[j - 1] & 0xC0) == 0x80) j--;
                if (j > 0) {
                    uint8_t lead = (uint8_t)r->track_name[j - 1];
                    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
                    if (k - (j - 1) < want) k = j - 1;
                }
            }
            while (k > 0 && r->track_name[k - 1] == ' ') k--;
            size_t s = 0;
            while (s < k && r->track_name[s] == ' ') s++;
            memmove(r->track_name, r->track_name + s, k - s);
            r->track_name[k - s] = '\0';
        }
        return MN_OK;
    default: /* key signature (0x59), text, markers, end of track (handled by the caller)... */
        return MN_OK;
    }
}

/* Parses the MTrk body buf[start..end). */
static mn_status read_track(midi_reader *r, int track, size_t start, size_t end)
{
    bool keep = r->opt.track < 0 || r->opt.track == track;
    size_t p = start;
    int64_t t = 0;
    /* running status: the last channel status byte, 0 until one is seen. Meta and SysEx events
     * leave it in force (the 1.0 spec says they cancel it, but files interrupt running status
     * with them and mido, players and sequencers resume it); a data byte with no channel status
     * seen before it in the track is refused. */
    int running = 0;
    mn_status s;
    memset(r->open, 0xFF, sizeof r->open);

    while (p < end) {
        uint32_t delta;
        if ((s = read_vlq(r, track, &p, end, &delta))) return s;
        t += delta;
        if (p >= end)
            return mn_errf(r->err, MN_ERR_FORMAT, "%s: track %d: event missing after its time "
                           "at byte %zu", r->name, track, p);
        size_t at = p;
        int status = r->buf[p];
        if (status & 0x80) {
            p++;
        } else if (running) {
            status = running;
        } else {
            return mn_errf(r->err, MN_ERR_FORMAT, "%s: track %d: data byte 0x%02X with no status "
                           "(running status unset) at byte %zu", r->name, track, status, at);
        }

        if (status < 0xF0) {
            int kind = status & 0xF0, ch = status & 0x0F;
            int n_data = kind == 0xC0 || kind == 0xD0 ? 1 : 2;
            if (end - p < (size_t)n_data)
                return mn_errf(r->err, MN_ERR_FORMAT, "%s: track %d: channel message truncated "
                               "at byte %zu", r->name, track, at);
            for (int i = 0; i < n_data; i++)
                if (r->buf[p + i] & 0x80)
                    return mn_errf(r->err, MN_ERR_FORMAT, "%s: track %d: data byte 0x%02X has "
                                   "the top bit set at byte %zu", r->name, track, r->buf[p + i],
                                   p + i);
            int pitch = r->buf[p], vel = n_data > 1 ? r->buf[p + 1] : 0;
            p += (size_t)n_data;
            running = status;
            if (!keep || (r->opt.channel >= 0 && r->opt.channel != ch)) continue;
            if (kind == 0x90 && vel > 0) {
                close_note(r, ch, pitch, t); /* re-trigger ends the earlier note */
                if (r->n_notes >= MN_MIDI_MAX_NOTES)
                    return mn_errf(r->err, MN_ERR_LIMIT, "%s: more than %u notes", r->name,
                                   MN_MIDI_MAX_NOTES);
                if ((s = grow(r, (void **)&r->notes, &r->cap_notes, r->n_notes + 1,
                              sizeof *r->notes)))
                    return s;
                r->notes[r->n_notes] = (midi_note){t, -1, (uint8_t)pitch, (uint8_t)vel};
                r->open[ch][pitch] = (int32_t)r->n_notes++;
            } else if (kind == 0x80 || kind == 0x90) {
                close_note(r, ch, pitch, t);
            }
        } else if (status == 0xFF) {
            if (p >= end)
                return mn_errf(r->err, MN_ERR_FORMAT, "%s: track %d: meta event truncated at "
                               "byte %zu", r->name, track, at);
            int type = r->buf[p++];
            uint32_t n;
            if ((s = read_vlq(r, track, &p, end, &n))) return s;
            if (n > end - p)
                return mn_errf(r->err, MN_ERR_FORMAT, "%s: track %d: meta event of %u bytes runs "
                               "past the end of the track at byte %zu", r->name, track, n, at);
            if (type == 0x2F) break; /* end of track: anything after it is ignored */
            if ((s = read_meta(r, track, type, r->buf + p, n, at, t))) return s;
            p += n;
        } else if (status == 0xF0 || status == 0xF7) {
            uint32_t n;
            if ((s = read_vlq(r, track, &p, end, &n))) return s;
            if (n > end - p)
                return mn_errf(r->err, MN_ERR_FORMAT, "%s: track %d: sysex of %u bytes runs past "
                               "the end of the track at byte %zu", r->name, track, n, at);
            p += n;
        } else {
            return mn_errf(r->err, MN_ERR_FORMAT, "%s: track %d: status byte 0x%02X is not "
                           "allowed in a MIDI file at byte %zu", r->name, track, status, at);
        }
    }
    /* a missing end-of-track event is tolerated: open notes end with the last event */
    for (int ch = 0; ch < 16; ch++)
        for (int k = 0; k < 128; k++) close_note(r, ch, k, t);
    return MN_OK;
}

/* Parses the header and every track chunk into r. */
static mn_status read_chunks(midi_reader *r)
{
    const uint8_t *b = r->buf;
    size_t len = r->len;
    if (len < 14 || memcmp(b, "MThd", 4) != 0) {
        if (len >= 4 && memcmp(b, "MThd", 4) != 0)
            return mn_errf(r->err, MN_ERR_FORMAT, "%s: not a MIDI file (no MThd header)", r->name);
        return mn_errf(r->err, MN_ERR_FORMAT, "%s: header truncated (%zu bytes)", r->name, len);
    }
    uint32_t hlen = be32(b + 4);
    if (hlen < 6)
        return mn_errf(r->err, MN_ERR_FORMAT, "%s: header length %u, expected at least 6", r->name,
                       hlen);
    if (hlen > len - 8)
        return mn_errf(r->err, MN_ERR_FORMAT, "%s: header length %u runs past the end of the file",
                       r->name, hlen);
    unsigned format = be16(b + 8), n_tracks = be16(b + 10), division = be16(b + 12);
    if (format == 2)
        return mn_errf(r->err, MN_ERR_FORMAT, "%s: format 2 (independent sequences) is not "
                       "supported, only formats 0 and 1", r->name);
    if (format > 2)
        return mn_errf(r->err, MN_ERR_FORMAT, "%s: unknown format %u", r->name, format);
    if (n_tracks == 0) return mn_errf(r->err, MN_ERR_FORMAT, "%s: header declares no tracks", r->name);
    if (n_tracks > MN_MIDI_MAX_TRACKS)
        return mn_errf(r->err, MN_ERR_LIMIT, "%s: header declares %u tracks, at most %d allowed",
                       r->name, n_tracks, MN_MIDI_MAX_TRACKS);
    if (division & 0x8000)
        return mn_errf(r->err, MN_ERR_FORMAT, "%s: SMPTE time division is not supported, only "
                       "ticks per quarter note", r->name);
    if (division == 0)
        return mn_errf(r->err, MN_ERR_FORMAT, "%s: division of 0 ticks per quarter note", r->name);
    r->division = (int)division;
    if (r->opt.track >= (int)n_tracks)
        return mn_errf(r->err, MN_ERR_ARG, "%s: track %d asked, the file has %u (0..%u)", r->name,
                       r->opt.track, n_tracks, n_tracks - 1);

    size_t p = 8 + (size_t)hlen;
    unsigned track = 0;
    while (track < n_tracks) {
        if (len - p < 8)
            return mn_errf(r->err, MN_ERR_FORMAT, "%s: header declares %u tracks, file ends after "
                           "%u at byte %zu", r->name, n_tracks, track, p);
        uint32_t clen = be32(b + p + 4);
        if (clen > len - p - 8)
            return mn_errf(r->err, MN_ERR_FORMAT, "%s: chunk length %u at byte %zu runs past the "
                           "end of the file (%zu bytes)", r->name, clen, p, len);
        size_t body = p + 8;
        if (memcmp(b + p, "MTrk", 4) == 0) {
            mn_status s = read_track(r, (int)track, body, body + clen);
            if (s) return s;
            track++;
        }
        p = body + clen;
    }
    return MN_OK;
}

/*=== from notes to events ===================================================================*/

static int cmp_note(const void *a, const void *b)
{
    const midi_note *x = a, *y = b;
    if (x->on != y->on) return x->on < y->on ? -1 : 1;
    if (x->pitch != y->pitch) return x->pitch > y->pitch ? -1 : 1;
    if (x->off != y->off) return x->off > y->off ? -1 : 1;
    return (int)y->vel - (int)x->vel;
}

static int cmp_meta(const void *a, const void *b)
{
    const midi_meta *x = a, *y = b;
    if (x->tick != y->tick) return x->tick < y->tick ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Source ticks to MN_TPQ ticks, rounded to nearest (halves up). */
static int64_t to_tpq(int64_t t, int division)
{
    return (t * MN_TPQ + division / 2) / division;
}

static int bar_ticks_of(uint32_t ts)
{
    long bar = (long)(ts >> 8) * 4 * MN_TPQ >> (ts & 0xFF);
    if (bar < 1) bar = 1;
    if (bar > MN_MAX_BAR_TICKS) bar = MN_MAX_BAR_TICKS;
    return (int)bar;
}

/* Time-signature map walker: onsets are asked in ascending order. */
typedef struct {
    const midi_meta *ts;
    size_t n, i;      /* next entry not yet in force */
    int division;
    int64_t anchor;   /* MN_TPQ tick of the bar line the current signature started */
    int bar;
} midi_metre;

static void metre_at(midi_metre *m, int64_t t24, int *pos, int *bar)
{
    while (m->i < m->n && to_tpq(m->ts[m->i].tick, m->division) <= t24) {
        m->anchor = to_tpq(m->ts[m->i].tick, m->division);
        m->bar = bar_ticks_of(m->ts[m->i].value);
        m->i++;
    }
    *bar = m->bar;
    *pos = (int)((t24 - m->anchor) % m->bar);
}

static mn_status push_event(midi_reader *r, mn_melody *out, midi_metre *m, int pitch, int vel,
                            int64_t t24, int64_t dur)
{
    mn_event e;
    e.pitch = pitch;
    e.velocity = vel;
    e.dur_ticks = (int)(dur > MN_MAX_DUR_TICKS ? MN_MAX_DUR_TICKS : dur);
    metre_at(m, t24, &e.pos_ticks, &e.bar_ticks);
    char err[MN_ERR_LEN];
    if (mn_melody_push(out, &e, err))
        return mn_errf(r->err, MN_ERR_NOMEM, "%s: %s", r->name, err);
    return MN_OK;
}

/* Copies the stem of path (no folder, no extension) into dst of n bytes. */
static void file_stem(const char *path, char *dst, size_t n)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t k = strlen(b);
    const char *dot = strrchr(b, '.');
    if (dot && dot != b) k = (size_t)(dot - b);
    if (k >= n) k = n - 1;
    memcpy(dst, b, k);
    dst[k] = '\0';
}

static mn_status build_melody(midi_reader *r, mn_melody *out)
{
    /* drop zero-length notes, then reduce to one line in place */
    size_t n = 0;
    for (size_t i = 0; i < r->n_notes; i++)
        if (r->notes[i].off > r->notes[i].on) r->notes[n++] = r->notes[i];
    if (n > 1) qsort(r->notes, n, sizeof *r->notes, cmp_note);
    size_t line = 0;
    for (size_t i = 0; i < n; i++) {
        midi_note x = r->notes[i];
        if (line > 0 && r->notes[line - 1].off > x.on) {
            midi_note *last = &r->notes[line - 1];
            if (x.pitch <= last->pitch) continue;
            last->off = x.on; /* a higher note cuts the sounding one */
        }
        r->notes[line++] = x;
    }

    if (r->n_ts > 1) qsort(r->ts, r->n_ts, sizeof *r->ts, cmp_meta);
    if (r->n_tempo > 1) qsort(r->tempo, r->n_tempo, sizeof *r->tempo, cmp_meta);

    int64_t first_on = line > 0 ? r->notes[0].on : -1; /* source ticks */

    /* rounded times; a note shorter than half a tick gives way to a note at its rounded onset */
    size_t k = 0;
    for (size_t i = 0; i < line; i++) {
        midi_note x = r->notes[i];
        int64_t on = to_tpq(x.on, r->division), off = to_tpq(x.off, r->division);
        if (off <= on) off = on + 1;
        if (k > 0 && r->notes[k - 1].off > on) k--;
        r->notes[k++] = (midi_note){on, off, x.pitch, x.vel};
    }

    if (r->stats) {
        r->stats->notes_in = n;
        r->stats->notes_kept = k;
    }
    midi_metre m = {r->ts, r->n_ts, 0, r->division, 0, MN_DEFAULT_BAR_TICKS};
    mn_status s;
    for (size_t i = 0; i < k; i++) {
        const midi_note *x = &r->notes[i];
        if (i > 0 && x->on > r->notes[i - 1].off) {
            int64_t t = r->notes[i - 1].off;
            if ((s = push_event(r, out, &m, MN_REST, 0, t, x->on - t))) return s;
        }
        if ((s = push_event(r, out, &m, x->pitch, x->vel, x->on, x->off - x->on))) return s;
    }

    /* the tempo in force at the first note, else the file's first tempo */
    if (r->n_tempo > 0) {
        uint32_t usec = r->tempo[0].value;
        for (size_t i = 1; i < r->n_tempo && r->tempo[i].tick <= first_on; i++)
            usec = r->tempo[i].value;
        out->bpm = 60e6 / usec;
    }
    if (r->n_ts > 0) {
        out->ts_num = (int)(r->ts[0].value >> 8);
        out->ts_den = 1 << (r->ts[0].value & 0xFF);
    }
    if (r->track_name[0])
        snprintf(out->name, sizeof out->name, "%s", r->track_name);
    else
        file_stem(r->name, out->name, sizeof out->name);
    return MN_OK;
}

mn_status mn_midi_read_memory(const uint8_t *buf, size_t len, const char *name,
                              const mn_midi_options *opt, mn_melody *out, char *err)
{
    return mn_midi_read_memory_stats(buf, len, name, opt, out, NULL, err);
}

mn_status mn_midi_read_memory_stats(const uint8_t *buf, size_t len, const char *name,
                                    const mn_midi_options *opt, mn_melody *out,
                                    mn_midi_stats *stats, char *err)
{
    if (stats) memset(stats, 0, sizeof *stats);
    if (!name) name = "MIDI data";
    if (!out) return mn_errf(err, MN_ERR_ARG, "%s: no melody to read into", name);
    mn_melody_init(out);
    if (!buf && len > 0) return mn_errf(err, MN_ERR_ARG, "%s: no buffer", name);
    if (len > MN_MIDI_MAX_FILE_BYTES)
        return mn_errf(err, MN_ERR_LIMIT, "%s: %zu bytes, larger than the %u allowed", name, len,
                       MN_MIDI_MAX_FILE_BYTES);
    mn_midi_options o;
    mn_midi_options_default(&o);
    if (opt) o = *opt;
    if (o.track < -1 || o.track >= MN_MIDI_MAX_TRACKS)
        return mn_errf(err, MN_ERR_ARG, "%s: track %d out of range (-1 for all)", name, o.track);
    if (o.channel < -1 || o.channel > 15)
        return mn_errf(err, MN_ERR_ARG, "%s: channel %d out of range 0..15 (-1 for all)", name,
                       o.channel);

    midi_reader *r = mn_calloc(1, sizeof *r);
    if (!r) return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", name);
    r->buf = buf;
    r->len = len;
    r->name = name;
    r->err = err;
    r->opt = o;
    r->stats = stats;
    mn_status s = read_chunks(r);
    if (!s) s = build_melody(r, out);
    mn_free(r->notes);
    mn_free(r->tempo);
    mn_free(r->ts);
    mn_free(r);
    if (s) {
        mn_melody_free(out);
        mn_melody_init(out);
    }
    return s;
}

/*=== writer =================================================================================*/

typedef struct {
    uint8_t *p;
    size_t n, cap;
    bool failed; /* an allocation failed: later writes are dropped */
} midi_buf;

static void put(midi_buf *b, const void *src, size_t n)
{
    if (b->failed) return;
    if (b->cap - b->n < n) {
        size_t c = b->cap ? b->cap * 2 : 1024;
        while (c - b->n < n) c *= 2;
        uint8_t *q = mn_realloc(b->p, c);
        if (!q) {
            b->failed = true;
            return;
        }
        b->p = q;
        b->cap = c;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put_bytes(midi_buf *b, int n, ...)
{
    uint8_t tmp[16];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) tmp[i] = (uint8_t)va_arg(ap, int);
    va_end(ap);
    put(b, tmp, (size_t)n);
}

static void put_vlq(midi_buf *b, uint32_t v)
{
    uint8_t tmp[4];
    int n = 0;
    tmp[3] = v & 0x7F;
    n = 1;
    while ((v >>= 7) && n < 4) {
        tmp[3 - n] = (uint8_t)(0x80 | (v & 0x7F));
        n++;
    }
    put(b, tmp + 4 - n, (size_t)n);
}

static void put_be32(midi_buf *b, uint32_t v)
{
    put_bytes(b, 4, (int)(v >> 24), (int)(v >> 16 & 0xFF), (int)(v >> 8 & 0xFF), (int)(v & 0xFF));
}

/* Starts an MTrk chunk and returns where its length goes. */
static size_t track_begin(midi_buf *b)
{
    put(b, "MTrk", 4);
    size_t at = b->n;
    put_be32(b, 0);
    return at;
}

static void track_end(midi_buf *b, size_t at)
{
    if (b->failed) return;
    uint32_t n = (uint32_t)(b->n - at - 4);
    b->p[at] = (uint8_t)(n >> 24);
    b->p[at + 1] = (uint8_t)(n >> 16);
    b->p[at + 2] = (uint8_t)(n >> 8);
    b->p[at + 3] = (uint8_t)n;
}

static void put_text(midi_buf *b, int type, const char *s)
{
    size_t n = strlen(s);
    put_bytes(b, 3, 0, 0xFF, type);
    put_vlq(b, (uint32_t)n);
    put(b, s, n);
}

static mn_status check_melody(const mn_melody *m, int *dd, char *err)
{
    if (!(m->bpm > 0) || !isfinite(m->bpm))
        return mn_errf(err, MN_ERR_ARG, "melody tempo %g bpm is not a positive number", m->bpm);
    *dd = -1;
    for (int k = 0; k <= 7; k++)
        if (m->ts_den == 1 << k) *dd = k;
    if (m->ts_num < 1 || m->ts_num > 255 || *dd < 0)
        return mn_errf(err, MN_ERR_ARG, "melody time signature %d/%d is not writable (1..255 over "
                       "a power of two up to 128)", m->ts_num, m->ts_den);
    if (m->n > 0 && !m->ev) return mn_errf(err, MN_ERR_ARG, "melody has %zu events and no data", m->n);
    uint64_t total = m->n > 0 && m->ev[0].pos_ticks > 0 ? (uint64_t)m->ev[0].pos_ticks : 0;
    for (size_t i = 0; i < m->n; i++) {
        const mn_event *e = &m->ev[i];
        if (e->pitch != MN_REST && !mn_is_pitch(e->pitch))
            return mn_errf(err, MN_ERR_ARG, "event %zu: pitch %d is neither 0..127 nor a rest", i,
                           e->pitch);
        if (e->pitch != MN_REST && (e->velocity < 1 || e->velocity > 127))
            return mn_errf(err, MN_ERR_ARG, "event %zu: velocity %d out of 1..127", i,
                           e->velocity);
        if (e->dur_ticks < 1 || e->dur_ticks > MN_MAX_DUR_TICKS)
            return mn_errf(err, MN_ERR_ARG, "event %zu: duration %d ticks out of 1..%d", i,
                           e->dur_ticks, MN_MAX_DUR_TICKS);
        total += (uint64_t)e->dur_ticks;
    }
    /* every delta, and the whole piece, must fit one variable-length number */
    if (total * (MN_MIDI_WRITE_TPQ / MN_TPQ) > MIDI_VLQ_MAX)
        return mn_errf(err, MN_ERR_LIMIT, "melody lasts %llu ticks, too long for a MIDI file",
                       (unsigned long long)total);
    return MN_OK;
}

mn_status mn_midi_write_memory(const mn_melody *m, uint8_t **buf, size_t *len, char *err)
{
    if (!m || !buf || !len) return mn_errf(err, MN_ERR_ARG, "midi write: missing argument");
    *buf = NULL;
    *len = 0;
    int dd = 0;
    mn_status s = check_melody(m, &dd, err);
    if (s) return s;
    const uint32_t scale = MN_MIDI_WRITE_TPQ / MN_TPQ; /* exact: 480 / 24 = 20 */

    midi_buf b = {0};
    put(&b, "MThd", 4);
    put_be32(&b, 6);
    put_bytes(&b, 6, 0, 1, 0, 2, MN_MIDI_WRITE_TPQ >> 8, MN_MIDI_WRITE_TPQ & 0xFF);

    /* conductor: name, tempo, time signature */
    size_t at = track_begin(&b);
    char name[sizeof m->name];
    snprintf(name, sizeof name, "%s", m->name);
    if (name[0]) put_text(&b, 0x03, name);
    long usec = lround(60e6 / m->bpm);
    if (usec < 1) usec = 1;
    if (usec > 0xFFFFFF) usec = 0xFFFFFF;
    put_bytes(&b, 6, 0, 0xFF, 0x51, 3, (int)(usec >> 16), (int)(usec >> 8 & 0xFF));
    put_bytes(&b, 1, (int)(usec & 0xFF));
    put_bytes(&b, 8, 0, 0xFF, 0x58, 4, m->ts_num, dd, 24, 8);
    put_bytes(&b, 4, 0, 0xFF, 0x2F, 0);
    track_end(&b, at);

    /* melody: the first event starts at its place in the bar, rests are gaps */
    at = track_begin(&b);
    put_text(&b, 0x03, "melody");
    uint32_t gap = m->n > 0 && m->ev[0].pos_ticks > 0 ? (uint32_t)m->ev[0].pos_ticks * scale : 0;
    for (size_t i = 0; i < m->n; i++) {
        const mn_event *e = &m->ev[i];
        uint32_t d = (uint32_t)e->dur_ticks * scale;
        if (e->pitch == MN_REST) {
            gap += d;
            continue;
        }
        put_vlq(&b, gap);
        put_bytes(&b, 3, 0x90, e->pitch, e->velocity);
        put_vlq(&b, d);
        put_bytes(&b, 3, 0x80, e->pitch, 0);
        gap = 0;
    }
    put_vlq(&b, gap); /* a trailing rest lengthens the track */
    put_bytes(&b, 3, 0xFF, 0x2F, 0);
    track_end(&b, at);

    if (b.failed) {
        mn_free(b.p);
        return mn_errf(err, MN_ERR_NOMEM, "midi write: out of memory");
    }
    *buf = b.p;
    *len = b.n;
    return MN_OK;
}

mn_status mn_midi_write_file(const char *path, const mn_melody *m, char *err)
{
    if (!path || !path[0]) return mn_errf(err, MN_ERR_ARG, "midi write: no path");
    uint8_t *buf;
    size_t len;
    char e2[MN_ERR_LEN];
    mn_status s = mn_midi_write_memory(m, &buf, &len, e2);
    if (s) return mn_errf(err, s, "%s: %s", path, e2);

    char *tmp;
    FILE *f = mn_atomic_open(path, &tmp, err);
    if (f) s = mn_atomic_close(f, tmp, path, fwrite(buf, 1, len, f) == len, err);
    else s = MN_ERR_IO;
    mn_free(buf);
    return s;
}

mn_status mn_midi_read_file(const char *path, const mn_midi_options *opt, mn_melody *out,
                            char *err)
{
    return mn_midi_read_file_stats(path, opt, out, NULL, err);
}

mn_status mn_midi_read_file_stats(const char *path, const mn_midi_options *opt, mn_melody *out,
                                  mn_midi_stats *stats, char *err)
{
    if (stats) memset(stats, 0, sizeof *stats);
    if (!out) return mn_errf(err, MN_ERR_ARG, "midi read: no melody to read into");
    mn_melody_init(out);
    if (!path) return mn_errf(err, MN_ERR_ARG, "midi read: no path");
    uint8_t *buf;
    size_t len;
    mn_status st = mn_read_file(path, MN_MIDI_MAX_FILE_BYTES, MN_READ_NONEMPTY, &buf, &len, err);
    if (st) return st;
    mn_status s = mn_midi_read_memory_stats(buf, len, path, opt, out, stats, err);
    mn_free(buf);
    return s;
}
