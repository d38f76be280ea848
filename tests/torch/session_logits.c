/* session_logits.c - the C side of tests/torch/run.sh: loads a model, reads MIDI files with the
 * trainer's data pipeline (mn_corpus_load, as `melodynet prep` does) and runs each tune through
 * an mn_session from its start, printing for every event the pitch logits and the duration
 * logits given the true pitch, to compare with PyTorch on the same events.
 *
 *   session_logits MODEL DATA...
 * prints "tune I events N" per tune, then per event "p" + 129 logits and "d" + n_dur logits. */
#include <stdio.h>

#include "data.h"
#include "model.h"
#include "session.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: session_logits MODEL DATA...\n");
        return 2;
    }
    char err[MN_ERR_LEN];
    mn_model *m;
    if (mn_model_load(argv[1], &m, err)) {
        fprintf(stderr, "session_logits: %s\n", err);
        return 1;
    }
    mn_corpus c;
    if (mn_corpus_load(&c, (const char *const *)argv + 2, (size_t)argc - 2, NULL, NULL, NULL,
                       err)) {
        fprintf(stderr, "session_logits: %s\n", err);
        mn_corpus_free(&c);
        mn_model_free(m);
        return 1;
    }
    mn_session *s;
    if (mn_session_new(m, 1, &s, err)) {
        fprintf(stderr, "session_logits: %s\n", err);
        mn_corpus_free(&c);
        mn_model_free(m);
        return 1;
    }
    int n_dur = mn_model_cfg(m)->dur.n;
    for (size_t i = 0; i < c.n; i++) {
        const mn_melody *mel = &c.mels[i];
        printf("tune %zu events %zu\n", i, mel->n);
        mn_session_reset(s);
        for (size_t j = 0; j < mel->n; j++) {
            const mn_event *e = &mel->ev[j];
            const float *pl = mn_session_pitch_logits(s, e->pos_ticks, e->bar_ticks);
            printf("p");
            for (int k = 0; k < MN_N_PITCH; k++) printf(" %.9g", pl[k]);
            const float *dl = mn_session_dur_logits(s, e->pitch);
            printf("\nd");
            for (int k = 0; k < n_dur; k++) printf(" %.9g", dl[k]);
            printf("\n");
            mn_session_commit(s, e);
        }
    }
    mn_session_free(s);
    mn_corpus_free(&c);
    mn_model_free(m);
    return 0;
}
