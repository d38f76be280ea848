/* midi.h - Standard MIDI File reading and writing. The reader parses formats 0 and 1 (running
 * status, meta and sysex events, tempo, time and key signatures, note-on velocity 0 as
 * note-off), reduces the chosen notes to one line (DESIGN.md: the highest sounding note) and
 * converts them to events at MN_TPQ with rests and metric positions. The writer stores a
 * melody as format 1 with tempo, time signature and the notes. Every file is treated as hostile:
 * lengths and counts are checked against the buffer and the limits below. */
#ifndef MN_MIDI_H
#define MN_MIDI_H

#include "base.h"
#include "event.h"

#define MN_MIDI_MAX_FILE_BYTES (64u << 20) /* larger files are refused */
#define MN_MIDI_MAX_TRACKS 1024
#define MN_MIDI_MAX_NOTES (4u << 20)        /* notes kept from one file */
#define MN_MIDI_WRITE_TPQ 480               /* division of written files */

typedef struct {
    int track;   /* -1: all tracks; else the 0-based track index (MTrk chunk order) */
    int channel; /* -1: all channels; else 0..15 */
} mn_midi_options;

void mn_midi_options_default(mn_midi_options *o);

/* Reads a file into a melody (initialised here; on failure left empty and freed). A readable
 * file with no notes (after track/channel selection) succeeds with out->n == 0; callers decide
 * whether that matters. name in messages is the path. */
mn_status mn_midi_read_file(const char *path, const mn_midi_options *opt, mn_melody *out,
                            char *err);
mn_status mn_midi_read_memory(const uint8_t *buf, size_t len, const char *name,
                              const mn_midi_options *opt, mn_melody *out, char *err);

/* What the reduction to one line kept: notes of positive length read (after track/channel
 * selection), and notes in the melody (a note cut short by a higher one counts as kept). */
typedef struct {
    size_t notes_in, notes_kept;
} mn_midi_stats;

/* Same as the readers above, also writing *stats (zero on failure; NULL: not wanted). */
mn_status mn_midi_read_file_stats(const char *path, const mn_midi_options *opt, mn_melody *out,
                                  mn_midi_stats *stats, char *err);
mn_status mn_midi_read_memory_stats(const uint8_t *buf, size_t len, const char *name,
                                    const mn_midi_options *opt, mn_melody *out,
                                    mn_midi_stats *stats, char *err);

/* Writes the melody (rests become gaps) as an SMF format 1 file: track 0 tempo (m->bpm) and
 * time signature (m->ts_num/ts_den), track 1 named "melody" with the notes on channel 0.
 * Written to a temporary file and renamed, so a failure leaves no partial file. */
mn_status mn_midi_write_file(const char *path, const mn_melody *m, char *err);

/* Same into a malloc'd (mn_malloc) buffer that the caller frees with mn_free. */
mn_status mn_midi_write_memory(const mn_melody *m, uint8_t **buf, size_t *len, char *err);

#endif
