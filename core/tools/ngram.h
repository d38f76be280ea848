/* ngram.h - the variable-order Markov baseline: interpolated Kneser-Ney n-grams over the same
 * events as the network. p(pitch | previous pitches) and p(duration token | previous duration
 * tokens, this pitch), both up to order `order`. Counts are added one melody at a time, so it
 * learns online in microseconds per event; it can be saved and loaded. Scores follow DESIGN.md's
 * bits/event definition and so compare with the network's. */
#ifndef MN_NGRAM_H
#define MN_NGRAM_H

#include "base.h"
#include "event.h"

#define MN_NGRAM_MAX_ORDER 8

/* Order 4 scored best on the valid splits (pitch bits/event, trained on each train split, orders
 * 3..6): Nottingham 2.739 / 2.735 / 2.847 / 2.891, Essen 2.933 / 2.833 / 2.813 / 2.814. Longer
 * contexts overfit Nottingham, whose repeats are played out. */
#define MN_NGRAM_DEFAULT_ORDER 4

typedef struct mn_ngram mn_ngram;

/* New empty model of the given order (1..MN_NGRAM_MAX_ORDER) over the duration table dur
 * (copied). */
mn_status mn_ngram_new(int order, const mn_durtable *dur, mn_ngram **out, char *err);
void mn_ngram_free(mn_ngram *g); /* NULL is a no-op */

const mn_durtable *mn_ngram_durtable(const mn_ngram *g);
int mn_ngram_order(const mn_ngram *g);

/* Adds the counts of a melody (the events in order, from the start of the tune). */
mn_status mn_ngram_add(mn_ngram *g, const mn_melody *m, char *err);

/* Scores event t of m given events 0..t-1 of m: -log2 p(pitch), -log2 p(duration token |
 * pitch), and the most likely pitch. Outputs may be NULL. */
void mn_ngram_score(const mn_ngram *g, const mn_melody *m, size_t t, double *bits_pitch,
                    double *bits_dur, int *argmax_pitch);

/* Distribution of the next pitch after the pitches hist[0..n_hist-1] (most recent last):
 * writes probs[MN_N_PITCH] summing to 1. Used for generating from the baseline. */
void mn_ngram_pitch_probs(const mn_ngram *g, const int *hist, size_t n_hist, float *probs);

/* Distribution of the duration token of an event of pitch `pitch` after duration tokens
 * hist[0..n_hist-1]: writes probs[dur.n]. */
void mn_ngram_dur_probs(const mn_ngram *g, const int *hist, size_t n_hist, int pitch,
                        float *probs);

/* Save and load (a small versioned binary format, validated on load like any hostile file). */
mn_status mn_ngram_save(const mn_ngram *g, const char *path, char *err);
mn_status mn_ngram_load(const char *path, mn_ngram **out, char *err);

#endif
