/* train.h - the trainer: truncated BPTT over B token streams (shuffled, transposition-augmented
 * tunes), a batched forward/backward of the model of model.h/session.h over gemm.h's products,
 * AdamW with gradient clipping and a warm-up/decay schedule, batched validation in bits/event
 * (DESIGN.md definition), and versioned checkpoints that resume a run exactly.
 * Every buffer is allocated in mn_trainer_new; a training step allocates nothing. */
#ifndef MN_TRAIN_H
#define MN_TRAIN_H

#include <stdatomic.h>

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

/* Sets the window instead of next_window, from B*T entries each in time-major order (n = t*B
 * + b): the input tokens (previous pitch 0..129 with MN_PITCH_BOS at a tune start, previous
 * duration token 0..ND with ND at a tune start, position class 0..n_pos-1, 0 without
 * positions), the targets (pitch 0..128, duration token 0..ND-1) and reset (1: a tune starts
 * here, the state is zero). With dropout the masks are left as they were. MN_ERR_ARG naming
 * the first value out of range; the window is unchanged then. For tests that compare with a
 * reference on a given window. */
mn_status mn_trainer_set_window(mn_trainer *t, const int *in_pitch, const int *in_dur,
                                const int *in_pos, const int *tg_pitch, const int *tg_dur,
                                const uint8_t *reset, char *err);

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

/*=== fine-tuning ============================================================================*/

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

/*=== the training run =======================================================================*/

/* The policy of a run (mn_train_run): how long, when to stop early, how often to checkpoint. */
typedef struct {
    int epochs;            /* run until this many epochs are done in all (progress.epoch) */
    int patience;          /* stop after this many epochs without improvement (0: off); only
                            * with a valid set */
    double ckpt_every_s;   /* within an epoch, checkpoint at least this often (<= 0: only at
                            * epoch ends and on a stop) */
    const char *checkpoint; /* checkpoint file, or NULL: none is written */
    int score_start;       /* 1: a run that has taken no step scores its starting weights first
                            * (epoch 0, e.g. a parent to beat): they are the best until an epoch
                            * beats them */
} mn_train_run_config;

/* After each step. */
typedef struct {
    int epoch;             /* epoch under way, 1-based */
    uint64_t done;         /* its steps done (1..steps_per_epoch) */
    uint64_t steps_per_epoch;
    double loss_ema;       /* running train loss, nats/event */
    double loss_mean;      /* at a log point: mean loss since the last one, nats/event */
    int log_point;         /* 1 every tenth of an epoch (not at its last step) */
    float lr;              /* learning rate the step used */
    double tok_s;          /* events per second of this run so far */
    double eta_s;          /* seconds to the end of the epoch at that rate */
} mn_train_step_info;

/* After each epoch's validation (and for the starting weights: epoch 0). */
typedef struct {
    int epoch;             /* epochs done (0: the starting weights) */
    int have_valid;        /* 0: no valid set (bits are 0; every epoch counts as the best) */
    double bits_pitch, bits_dur; /* valid bits/event */
    int improved;          /* the best so far: the callbacks' best() follows */
    double train_loss;     /* mean train loss since the last log point, nats/event */
    float lr;              /* learning rate of the next step */
    double tok_s;          /* events per second of this run so far */
} mn_train_epoch_info;

typedef enum {
    MN_TRAIN_CKPT_TIMED,   /* within an epoch (ckpt_every_s) */
    MN_TRAIN_CKPT_EPOCH,   /* after an epoch */
    MN_TRAIN_CKPT_STOP,    /* the run was stopped */
} mn_train_ckpt_why;

/* What the caller sees of a run; every member may be NULL. A callback returning non-MN_OK
 * (with err filled) ends the run with that status. They run on the thread of mn_train_run. */
typedef struct {
    void *ctx;
    void (*step)(void *ctx, mn_trainer *t, const mn_train_step_info *s);
    mn_status (*epoch)(void *ctx, mn_trainer *t, const mn_train_epoch_info *e, char *err);
    /* the trainer holds the best weights so far (after epoch(), when e->improved): keep them */
    mn_status (*best)(void *ctx, mn_trainer *t, const mn_train_epoch_info *e, char *err);
    /* a checkpoint was just written */
    mn_status (*checkpoint)(void *ctx, mn_trainer *t, mn_train_ckpt_why why, char *err);
} mn_train_callbacks;

typedef enum {
    MN_TRAIN_END_EPOCHS = 0, /* all epochs done */
    MN_TRAIN_END_PATIENCE,   /* no improvement for `patience` epochs */
    MN_TRAIN_END_STOPPED,    /* *stop was set: a checkpoint was saved (when there is a file) */
} mn_train_end;

typedef struct {
    mn_train_end end;
    double start_valid;    /* valid total bits/event of the starting weights (score_start and
                            * a valid set), else 0 */
    uint64_t run_steps;    /* steps taken by this call */
} mn_train_result;

/* Runs the epochs of rc on trainer t from where its progress stands (a new or a resumed run):
 * steps, after each epoch a validation on valid[n_valid] (none when n_valid is 0) that keeps
 * progress.best_valid and bad_epochs, the best weights handed to cb->best, checkpoints after
 * each epoch, every rc->ckpt_every_s and on a stop, and early stopping on patience. *stop
 * (may be NULL) is read between steps: any thread or a signal handler may set it. Returns MN_OK
 * with *res filled when the run ended as res->end says, else the first failure (validation,
 * checkpoint or a callback) with err filled; progress says how far it got. */
mn_status mn_train_run(mn_trainer *t, const mn_train_run_config *rc, const mn_melody *valid,
                       size_t n_valid, const mn_train_callbacks *cb, const atomic_int *stop,
                       mn_train_result *res, char *err);

/* Splits n melodies into views of the training ones (*train, n - k of them) and k held out
 * (*held), chosen by mn_train_holdout_pick(n, k, seed); held_idx (may be NULL) receives the
 * indices of the held-out ones in order. The views share the melodies' events; free both
 * arrays with mn_free. MN_ERR_NOMEM or MN_OK. */
mn_status mn_train_holdout_split(const mn_melody *mels, size_t n, size_t k, uint64_t seed,
                                 mn_melody **train, mn_melody **held, size_t *held_idx,
                                 char *err);

#endif
