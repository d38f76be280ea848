/* eval.h - bits per event of the network and of the n-gram baseline over melodies, exactly as
 * DESIGN.md defines them: every event of every melody, each melody from its start with the state
 * reset, in the original key; -log2 p(pitch), -log2 p(duration token | pitch), their sum. */
#ifndef MN_EVAL_H
#define MN_EVAL_H

#include "base.h"
#include "event.h"
#include "ngram.h"
#include "session.h"

typedef struct {
    size_t events;      /* events scored */
    size_t correct;     /* events whose most likely pitch was the true one */
    double sum_pitch;   /* sum of -log2 p(pitch) */
    double sum_dur;     /* sum of -log2 p(duration token | pitch) */
} mn_eval_sums;

/* Adds the scores of one melody under the network (the session is reset first). */
void mn_eval_session(mn_session *s, const mn_melody *m, mn_eval_sums *acc);

/* Adds the scores of one melody under the baseline. */
void mn_eval_ngram(const mn_ngram *g, const mn_melody *m, mn_eval_sums *acc);

/* Means of the sums (0 when nothing was scored). */
double mn_eval_bits_pitch(const mn_eval_sums *a);
double mn_eval_bits_dur(const mn_eval_sums *a);
double mn_eval_accuracy(const mn_eval_sums *a);

#endif
