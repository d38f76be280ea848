/* train.h - the trainer: truncated BPTT over B token streams (shuffled, transposition-augmented
 * tunes), a batched forward/backward of the model of model.h/session.h over gemm.h's products,
 * AdamW with gradient clipping and a warm-up/decay schedule, batched validation in bits/event
 * (DESIGN.md definition), and versioned checkpoints that resume a run exactly.
 * Every buffer is allocated in mn_trainer_new; a training step allocates nothing. */
#ifndef MN_TRAIN_H
#define MN_TRAIN_H

#include "base.h"
#include "event.h"
#include "model.h"

#define MN_TRAIN_SHIFT_LO (-6)      /* transpositions tried for each tune, in semitones */
#define MN_TRAIN_SHIFT_HI 5
#define MN_TRAIN_MAX_BATCH 4096
#define MN_TRAIN_MAX_SEQ 4096

typedef struct {
    mn_model_config model; /* sizes and duration table (dur.n == 0: built from the corpus) */
    int max_durations;     /* entries of a table built from the corpus (default 32) */
    int batch;             /* B streams (default 32) */
    int seq;               /* T events per window (default 64) */
    float lr;              /* peak learning rate (default 2e-3) */
    float lr_decay;        /* lr factor per epoch after the first (default 0.7) */
    int warmup;            /* steps of linear warm-up (default 200) */
    float weight_decay;    /* decoupled, on weight matrices only (default 0.01) */
    float clip;            /* gradient-norm clip, <= 0 off (default 1) */
    float dropout;         /* between LSTM layers, 0..0.9 (default 0) */
    float beta1, beta2, eps; /* Adam (0.9, 0.999, 1e-8) */
    uint64_t seed;         /* initialisation, shuffles and dropout (default 1) */
    int augment;           /* 1: every transposition MN_TRAIN_SHIFT_LO..HI in range (default) */
} mn_train_config;

/* Defaults as listed above, for the default model (L=2, H=256, E=64, n_pos=192). */
void mn_train_config_default(mn_train_config *c);

/* Checks a configuration (sizes, ranges). */
mn_status mn_train_config_validate(const mn_train_config *c, char *err);

/* Counters of a run, saved in checkpoints. The trainer updates step; the rest belongs to the
 * caller's loop (epochs done, best valid figure, epochs without improvement, wall time). */
typedef struct {
    uint64_t step;         /* optimizer steps taken */
    int epoch;             /* epochs completed */
    double best_valid;     /* best valid total bits/event so far (0: none yet) */
    int bad_epochs;        /* epochs since the best */
    double elapsed_s;      /* training time so far */
    double last_loss;      /* running train loss (nats/event) */
} mn_train_progress;

typedef struct mn_trainer mn_trainer;

/* Builds a trainer over the melodies (copied into token form; mels may be freed afterwards).
 * Builds the duration table from mels when cfg->model.dur.n == 0. Initialises the parameters
 * from cfg->seed (PyTorch's default initialisation). Melodies with no events are ignored;
 * MN_ERR_EMPTY when none is left. */
mn_status mn_trainer_new(const mn_train_config *cfg, const mn_melody *mels, size_t n_mels,
                         mn_trainer **out, char *err);
void mn_trainer_free(mn_trainer *t); /* NULL is a no-op */

const mn_train_config *mn_trainer_config(const mn_trainer *t); /* with the final dur table */
mn_train_progress *mn_trainer_progress(mn_trainer *t);          /* caller may edit its fields */
size_t mn_trainer_n_params(const mn_trainer *t);
float *mn_trainer_params(mn_trainer *t);   /* canonical flat layout of model.h */
float *mn_trainer_grads(mn_trainer *t);    /* same layout; the last forward_backward */
uint64_t mn_trainer_epoch_events(const mn_trainer *t); /* augmented events per epoch */
uint64_t mn_trainer_steps_per_epoch(const mn_trainer *t); /* ceil(epoch events / (B*T)) */
float mn_trainer_lr(const mn_trainer *t);  /* learning rate of the next step */

/* One optimizer step: next window of B x T events, forward, backward, clip, AdamW, carry the
 * recurrent state. Writes the window's mean loss in nats/event (pitch + duration) to *loss.
 * Allocates nothing. */
void mn_trainer_step(mn_trainer *t, double *loss);

/* The parts of a step, for tests: fill the next window from the streams (and draw the dropout
 * masks); run forward and backward on it from the carried state, leaving the gradients in
 * mn_trainer_grads and returning the mean loss (nats/event) without changing the parameters
 * or the carried state. */
void mn_trainer_next_window(mn_trainer *t);
double mn_trainer_forward_backward(mn_trainer *t);

/* Validation per DESIGN.md: each melody with events from its start with the state reset, in
 * its original key; writes the mean over all events of -log2 p(pitch) and -log2 p(dur | pitch).
 * Uses the trainer's buffers (batched); does not touch the training state. Allocates. */
mn_status mn_trainer_evaluate(mn_trainer *t, const mn_melody *mels, size_t n_mels,
                              double *bits_pitch, double *bits_dur, size_t *n_events,
                              char *err);

/* Writes the current parameters as a model file (mn_model_save) with the metadata given. */
mn_status mn_trainer_export(mn_trainer *t, const char *path, const char *const (*meta)[2],
                            size_t n_meta, char *err);

/* Checkpoints: a versioned binary file with the configuration, a fingerprint of the training
 * tokens, parameters, Adam moments, progress, stream positions, carried state and RNG state.
 * Save writes a temporary file and renames it. Load checks everything against the file size
 * and the trainer (same configuration and data, else an error naming the mismatch) and
 * leaves the trainer untouched on failure. mn_train_checkpoint_config reads only the
 * configuration, to build a trainer to load into. */
mn_status mn_trainer_checkpoint_save(const mn_trainer *t, const char *path, char *err);
mn_status mn_trainer_checkpoint_load(mn_trainer *t, const char *path, char *err);
mn_status mn_train_checkpoint_config(const char *path, mn_train_config *cfg, char *err);

/* ---- fine-tuning ---- */

/* Copies a model's weights into the trainer, to fine-tune it (the Adam moments and carried
 * state stay as they are: zero in a new trainer). The model's sizes and duration table must
 * equal the trainer's, else MN_ERR_ARG naming the first difference; the trainer is unchanged
 * on failure. */
mn_status mn_trainer_init_from_model(mn_trainer *t, const mn_model *m, char *err);

/* Steps per epoch that mn_trainer_new(cfg, mels) would give, without building the trainer
 * (cfg->batch, cfg->seq and cfg->augment are used). At least 1. */
uint64_t mn_train_steps_per_epoch(const mn_train_config *cfg, const mn_melody *mels,
                                  size_t n_mels);

/* Tunes to hold out for validation when a run has no valid set: 10% of n_tunes, at least 1,
 * and 0 when n_tunes < 2 (nothing would be left to train on). */
size_t mn_train_holdout_count(size_t n_tunes);

/* Marks k of n tunes as held out (held[i] = 1, else 0), chosen by a shuffle seeded by seed:
 * the same (n, k, seed) always gives the same tunes. */
void mn_train_holdout_pick(size_t n, size_t k, uint64_t seed, uint8_t *held);

#define MN_TRAIN_REASON_LEN 256

typedef struct {
    float lr;        /* peak learning rate */
    float lr_decay;  /* factor per epoch after the first */
    int warmup;      /* steps */
    int epochs;      /* at most this many */
    int patience;    /* epochs without improvement before stopping */
    char reason[MN_TRAIN_REASON_LEN]; /* one line: why these values */
} mn_train_schedule;

/* The schedule of a fine-tuning run on n_tunes training tunes of steps_per_epoch steps each:
 * a twentieth of the from-scratch peak rate with a gentler decay (the parent is already near a
 * minimum, and a small corpus is soon overfitted), enough epochs for about MN_TRAIN_FT_STEPS
 * steps (3..30) stopped early by validation (patience 2), and a warm-up of a quarter epoch, at
 * most 50 steps and at most a tenth of the run. epochs > 0 fixes the number of epochs (the
 * warm-up still fits the run). */
#define MN_TRAIN_FT_STEPS 400
void mn_train_finetune_schedule(size_t n_tunes, uint64_t steps_per_epoch, int epochs,
                                mn_train_schedule *s);

/* Whether a run of `epochs` epochs of steps_per_epoch steps is too short for c's schedule
 * (it ends before its warm-up does, so the learning rate never reaches its peak): returns 1
 * and writes one line saying so into msg (MN_TRAIN_REASON_LEN bytes), else 0. */
int mn_train_schedule_warning(const mn_train_config *c, uint64_t steps_per_epoch, int epochs,
                              char *msg);

#endif
