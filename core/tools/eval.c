/* eval.c - bits per event of the network and of the baseline, per DESIGN.md. */
#include "eval.h"

void mn_eval_session(mn_session *s, const mn_melody *m, mn_eval_sums *acc)
{
    mn_session_reset(s);
    for (size_t t = 0; t < m->n; t++) {
        double bp, bd;
        int am;
        mn_session_score(s, &m->ev[t], &bp, &bd, &am);
        acc->sum_pitch += bp;
        acc->sum_dur += bd;
        acc->correct += am == m->ev[t].pitch;
        acc->events++;
    }
}

void mn_eval_ngram(const mn_ngram *g, const mn_melody *m, mn_eval_sums *acc)
{
    for (size_t t = 0; t < m->n; t++) {
        double bp, bd;
        int am;
        mn_ngram_score(g, m, t, &bp, &bd, &am);
        acc->sum_pitch += bp;
        acc->sum_dur += bd;
        acc->correct += am == m->ev[t].pitch;
        acc->events++;
    }
}

double mn_eval_bits_pitch(const mn_eval_sums *a) { return a->events ? a->sum_pitch / a->events : 0; }
double mn_eval_bits_dur(const mn_eval_sums *a) { return a->events ? a->sum_dur / a->events : 0; }
double mn_eval_accuracy(const mn_eval_sums *a)
{
    return a->events ? (double)a->correct / a->events : 0;
}
