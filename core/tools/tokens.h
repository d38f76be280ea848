/* tokens.h - the token file (`melodynet prep`): the events of one or two corpora (training and
 * validation) exactly as the trainer tokenizes them, with the duration table and the settings
 * that produced them, so that another trainer (train/torch) sees the same events.
 *
 * Layout, all little-endian (version 1):
 *   "MNTOKENS"                 8 bytes
 *   u32 version                1
 *   u32 ticks_per_quarter      MN_TPQ
 *   i32 shift_lo, shift_hi     transpositions a trainer may apply (MN_TRAIN_SHIFT_LO..HI)
 *   i32 track, channel         MIDI selection used when reading (-1: all)
 *   u32 max_durations          table size asked for (0: the table came from a model)
 *   u32 n_dur                  1..MN_MAX_DUR
 *   u32 dur_ticks[n_dur]       strictly ascending
 *   u32 n_sets                 1 (training) or 2 (training, validation)
 *   then per set:
 *     u32 kind                 0 training, 1 validation
 *     u32 source_bytes         then that many bytes: the data arguments, space-separated
 *     u64 n_tunes, u64 n_events
 *     u32 tune_events[n_tunes] each >= 1, summing to n_events
 *     u8  pitch[n_events]      0..127, 128 = rest
 *     u8  dur[n_events]        duration token, 0..n_dur-1 (mn_durtable_index)
 *     u16 pos[n_events]        onset in ticks since the bar line, 0..MN_MAX_BAR_TICKS-1
 *                              (a model clamps it to n_pos - 1)
 *   u32 crc32                  of every byte before it (the zlib polynomial)
 */
#ifndef MN_TOKENS_H
#define MN_TOKENS_H

#include "base.h"
#include "event.h"
#include "midi.h"

#define MN_TOKENS_MAGIC "MNTOKENS"
#define MN_TOKENS_VERSION 1u

typedef struct {
    const char *source;    /* what named the data (kept as metadata), may be NULL */
    const mn_melody *mels; /* [n]; melodies without events are left out */
    size_t n;
} mn_tokens_set;

/* Writes the token file atomically: train (required) and valid (NULL: none), durations mapped
 * with dur, which must be valid; max_durations and mo are recorded as given (mo NULL: all
 * tracks and channels). MN_ERR_EMPTY when train holds no event, MN_ERR_LIMIT for a tune of
 * 2^32 events or more, MN_ERR_IO when the file cannot be written. */
mn_status mn_tokens_write(const char *path, const mn_durtable *dur, int max_durations,
                          const mn_midi_options *mo, const mn_tokens_set *train,
                          const mn_tokens_set *valid, char *err);

/* CRC-32 (zlib's) of n bytes, continuing from crc (0 to start). */
uint32_t mn_tokens_crc32(uint32_t crc, const void *p, size_t n);

#endif
