/* motif.h - the melody's own memory: folk tunes repeat their motifs, and an LSTM trained on
 * 64-event windows forgets them. This module keeps the events of the current melody (as
 * interval-from-the-previous-note and duration-token symbols, so a repeated figure is found
 * also when it is transposed) and proposes the event that followed the longest earlier match of
 * the melody's latest events. The session mixes the proposal into the network's distribution
 * with a weight that grows with the match length (mn_motif_weight). Fixed size, no allocation. */
#ifndef MN_MOTIF_H
#define MN_MOTIF_H

#include <stdint.h>

#include "event.h"

#define MN_MOTIF_HIST 512  /* events remembered (the oldest half is dropped when full) */
#define MN_MOTIF_MAX_K 16  /* longest match looked for, events */

typedef struct {
    int n;                        /* symbols held */
    int32_t sym[MN_MOTIF_HIST];   /* (interval or rest/start mark) and duration token */
    int last_note;                /* pitch of the last note, -1 before the first */
    uint16_t pcs;                 /* pitch classes the melody has used (bit k: class k) */
} mn_motif;

void mn_motif_reset(mn_motif *m);

/* Appends an event: pitch 0..127 or MN_REST, dur_tok its duration token. */
void mn_motif_push(mn_motif *m, int pitch, int dur_tok);

/* Looks for the longest k (<= MN_MOTIF_MAX_K) such that the last k events occurred earlier
 * (the most recent such place wins) and writes the event that followed there: *pitch (the last
 * note's pitch plus the interval, or MN_REST) and *dur_tok. Returns k, or 0 when nothing
 * matches, the proposal falls outside MIDI range, or it would bring a pitch class the melody
 * has not used (a transposed figure leaving the key). */
int mn_motif_propose(const mn_motif *m, int *pitch, int *dur_tok);

/* Weight of a proposal backed by a match of k events (0 for k = 0): the share of the next
 * event's probability given to it. Fitted on held-out folk tunes (see motif.c). */
float mn_motif_weight(int k);

#endif
