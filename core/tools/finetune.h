/* finetune.h - a fine-tuning run as `melodynet train DATA --init PARENT` makes it when given no
 * other option, in one call for [melodynet]'s `learn`: reads the data (MIDI files, folders,
 * lists: data.h), holds 10% of the tunes out for validation (chosen by the seed; none with one
 * tune), takes the schedule the command chooses (train.h's mn_train_finetune_schedule), runs it
 * through mn_train_run with the parent scored first, and returns the best weights as a model in
 * memory whose metadata records the parent and both corpora. It prints nothing and calls only
 * core, so it may run on any thread. */
#ifndef MN_FINETUNE_H
#define MN_FINETUNE_H

#include <stdatomic.h>

#include "model.h"
#include "train.h"

typedef struct {
    int epoch, epochs;     /* epoch under way (1-based), of */
    double fraction;       /* of it done, 0..1 */
    double loss_bits;      /* running train loss, bits/event */
    int validated;         /* 1: an epoch was just validated (valid_bits holds its figure) */
    double valid_bits;     /* its valid total bits/event (0 without a held-out set) */
} mn_finetune_progress;

typedef struct {
    const char *const *data; /* files, folders or lists to learn from */
    size_t n_data;
    int epochs;            /* 0: the schedule's choice */
    uint64_t seed;         /* held-out split, shuffles */
    const char *command;   /* train_command metadata (what started the run) */
    void (*progress)(void *ctx, const mn_finetune_progress *p); /* at each tenth of an epoch
                            * and after each validation; may be NULL */
    void *ctx;
} mn_finetune_job;

typedef struct {
    mn_model *model;       /* the best weights (the parent's when no epoch beat them); the
                            * caller frees it. NULL on failure */
    int stopped;           /* *stop ended the run (the best so far is in model) */
    int epochs, epochs_planned;
    uint64_t steps;
    size_t n_tunes, n_held, n_skipped; /* tunes read, held out of them, files skipped */
    double parent_valid, best_valid; /* valid total bits/event (0: no tune held out) */
    char schedule[MN_TRAIN_REASON_LEN]; /* why the schedule */
} mn_finetune_result;

/* Fine-tunes parent (only read; it must stay alive during the call) on job's data. *stop (may
 * be NULL) ends the run between steps with the best weights so far. The model is named name in
 * messages ("learned:..."). MN_ERR_EMPTY when the data holds no tune, MN_ERR_ARG for a parent
 * the trainer cannot start from, else as mn_train_run; res->model is NULL then. */
mn_status mn_finetune_run(const mn_model *parent, const mn_finetune_job *job, const char *name,
                          const atomic_int *stop, mn_finetune_result *res, char *err);

#endif
