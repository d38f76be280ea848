/* trainer_steps.c - the C trainer's side of tests/torch/run.sh's step-for-step check: builds an
 * mn_trainer on MIDI files with the settings below, writes its initial weights as a model
 * file, then runs K optimizer steps and prints "step,loss,lr" for each (train.py --step-log's
 * format). train.py started from those weights (--init) with the same settings must follow the
 * same curve: same windows, loss, clipping, AdamW and schedule.
 *
 *   trainer_steps INIT.mnet K DATA...
 * Settings: L=2 H=16 E=8 n_pos=24, 32 durations at most, batch 4 x 16, lr 0.01, warm-up 5,
 * lr decay 0.5 per epoch, weight decay 0.1, clip 0.5, no dropout, seed 3. */
#include <stdio.h>
#include <stdlib.h>

#include "data.h"
#include "gemm.h"
#include "train.h"

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: trainer_steps INIT.mnet K DATA...\n");
        return 2;
    }
    mn_gemm_use(mn_gemm_openblas); /* as the command trains */
    long k = atol(argv[2]);
    char err[MN_ERR_LEN];
    mn_corpus c;
    if (mn_corpus_load(&c, (const char *const *)argv + 3, (size_t)argc - 3, NULL, NULL, NULL,
                       err)) {
        fprintf(stderr, "trainer_steps: %s\n", err);
        mn_corpus_free(&c);
        return 1;
    }
    mn_train_config cfg;
    mn_train_config_default(&cfg);
    cfg.model.n_layers = 2, cfg.model.n_hidden = 16, cfg.model.n_embed = 8, cfg.model.n_pos = 24;
    cfg.batch = 4, cfg.seq = 16, cfg.lr = 0.01f, cfg.warmup = 5, cfg.lr_decay = 0.5f;
    cfg.weight_decay = 0.1f, cfg.clip = 0.5f, cfg.seed = 3;
    mn_trainer *t;
    if (mn_trainer_new(&cfg, c.mels, c.n, &t, err) ||
        mn_trainer_export(t, argv[1], NULL, 0, err)) {
        fprintf(stderr, "trainer_steps: %s\n", err);
        mn_corpus_free(&c);
        return 1;
    }
    printf("step,loss,lr\n");
    for (long i = 0; i < k; i++) {
        float lr = mn_trainer_lr(t);
        double loss;
        mn_trainer_step(t, &loss);
        printf("%ld,%.9g,%.9g\n", i + 1, loss, lr);
    }
    mn_trainer_free(t);
    mn_corpus_free(&c);
    return 0;
}
