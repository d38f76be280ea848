/* finetune.c - the fine-tuning run of finetune.h. */
#include "finetune.h"
#include "data.h"
#include "sha256.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

typedef struct {
    const mn_finetune_job *job;
    int epochs;
    float *best;           /* [n_params] the best weights so far */
    double best_bits[2];   /* their valid figures */
    int best_epoch;
} ft_run;

static void ft_step(void *ctx, mn_trainer *t, const mn_train_step_info *s)
{
    (void)t;
    ft_run *r = ctx;
    if (!r->job->progress || !s->log_point) return;
    mn_finetune_progress p = {s->epoch, r->epochs,
                              (double)s->done / (double)s->steps_per_epoch,
                              s->loss_ema / M_LN2, 0, 0};
    r->job->progress(r->job->ctx, &p);
}

static mn_status ft_epoch(void *ctx, mn_trainer *t, const mn_train_epoch_info *e, char *err)
{
    (void)err;
    ft_run *r = ctx;
    if (r->job->progress && e->epoch > 0) {
        mn_finetune_progress p = {e->epoch, r->epochs, 1.0,
                                  mn_trainer_progress(t)->last_loss / M_LN2, 1,
                                  e->bits_pitch + e->bits_dur};
        r->job->progress(r->job->ctx, &p);
    }
    return MN_OK;
}

static mn_status ft_best(void *ctx, mn_trainer *t, const mn_train_epoch_info *e, char *err)
{
    (void)err;
    ft_run *r = ctx;
    memcpy(r->best, mn_trainer_params(t), mn_trainer_n_params(t) * sizeof *r->best);
    r->best_bits[0] = e->bits_pitch, r->best_bits[1] = e->bits_dur;
    r->best_epoch = e->epoch;
    return MN_OK;
}

/* "a b c" of the arguments, into buf (truncated at n bytes). */
static void join_args(const char *const *v, size_t k, char *buf, size_t n)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < k && at + 1 < n; i++)
        at += (size_t)snprintf(buf + at, n - at, "%s%s", i ? " " : "", v[i]);
}

/* The metadata of the result, as `melodynet train --init` writes it. */
static mn_status ft_encode(const mn_model *parent, const mn_finetune_job *job, const char *name,
                           const mn_train_config *cfg, const float *params, const ft_run *r,
                           const char *valid_data, int have_valid, mn_model **out, char *err)
{
    char date[32], epochs[32], params_n[32], sp[32], sd[32], st_[32], sha[65] = "";
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(epochs, sizeof epochs, "%d", r->best_epoch);
    snprintf(params_n, sizeof params_n, "%zu", mn_model_param_count(&cfg->model));
    snprintf(sp, sizeof sp, "%.4f", r->best_bits[0]);
    snprintf(sd, sizeof sd, "%.4f", r->best_bits[1]);
    snprintf(st_, sizeof st_, "%.4f", r->best_bits[0] + r->best_bits[1]);
    char e2[MN_ERR_LEN];
    if (mn_sha256_file(mn_model_path(parent), sha, e2)) sha[0] = '\0'; /* not from a file */
    char data_text[4096];
    join_args(job->data, job->n_data, data_text, sizeof data_text);
    const char *pp = mn_model_meta(parent, "parent_train_data"), *pt = mn_model_meta(parent,
                                                                                      "train_data");
    char parent_data[8192];
    snprintf(parent_data, sizeof parent_data, "%s%s%s", pp ? pp : "", pp && *pp && pt && *pt ?
             " " : "", pt ? pt : "");
    const char *lic = mn_model_meta(parent, "license");
    const char *meta[14][2] = {{"train_data", data_text},
                               {"train_command", job->command ? job->command : "fine-tuning"},
                               {"train_date", date},
                               {"epochs", epochs},
                               {"params", params_n},
                               {"license", "unspecified"},
                               {"valid_data", valid_data},
                               {"valid_bits_pitch", sp},
                               {"valid_bits_duration", sd},
                               {"valid_bits_total", st_}};
    size_t n_meta = have_valid ? 10 : 6;
    meta[n_meta][0] = "parent_model", meta[n_meta++][1] = mn_model_path(parent);
    meta[n_meta][0] = "parent_sha256", meta[n_meta++][1] = sha;
    meta[n_meta][0] = "parent_train_data", meta[n_meta++][1] = parent_data;
    meta[n_meta][0] = "parent_license", meta[n_meta++][1] = lic ? lic : "unspecified";
    uint8_t *bytes;
    size_t len;
    mn_status st = mn_model_encode(name, &cfg->model, params, MN_WEIGHTS_F32, meta, n_meta,
                                   &bytes, &len, err);
    if (st) return st;
    st = mn_model_load_memory(bytes, len, name, out, err);
    mn_free(bytes);
    return st;
}

mn_status mn_finetune_run(const mn_model *parent, const mn_finetune_job *job, const char *name,
                          const atomic_int *stop, mn_finetune_result *res, char *err)
{
    memset(res, 0, sizeof *res);
    mn_corpus c;
    mn_midi_options mo;
    mn_midi_options_default(&mo);
    mn_status st = mn_corpus_load(&c, job->data, job->n_data, &mo, NULL, NULL, err);
    res->n_skipped = c.n_skipped;
    if (st) {
        mn_corpus_free(&c);
        return st;
    }
    res->n_tunes = c.n;
    mn_train_config cfg;
    mn_train_config_default(&cfg);
    cfg.model = *mn_model_cfg(parent);
    cfg.max_durations = cfg.model.dur.n;
    cfg.seed = job->seed;

    mn_melody *tm = c.mels, *vm = NULL;
    size_t n_tm = c.n, n_vm = 0, n_held = mn_train_holdout_count(c.n);
    size_t *held_idx = NULL;
    char *valid_data = NULL;
    mn_trainer *t = NULL;
    ft_run r = {job, 0, NULL, {0, 0}, 0};
    if (n_held) {
        held_idx = mn_malloc(n_held * sizeof *held_idx);
        if (!held_idx) {
            st = mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", name);
            goto done;
        }
        if ((st = mn_train_holdout_split(c.mels, c.n, n_held, job->seed, &tm, &vm, held_idx,
                                         err)))
            goto done;
        n_tm = c.n - n_held, n_vm = n_held;
        size_t len = 64;
        for (size_t i = 0; i < n_held; i++) len += strlen(c.paths[held_idx[i]]) + 1;
        if (!(valid_data = mn_malloc(len))) {
            st = mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", name);
            goto done;
        }
        size_t k = (size_t)snprintf(valid_data, len, "held out (seed %llu):",
                                    (unsigned long long)job->seed);
        for (size_t i = 0; i < n_held; i++)
            k += (size_t)snprintf(valid_data + k, len - k, " %s", c.paths[held_idx[i]]);
    }
    res->n_held = n_held;
    mn_train_schedule fs;
    mn_train_finetune_schedule(n_tm, mn_train_steps_per_epoch(&cfg, tm, n_tm), job->epochs, &fs);
    cfg.lr = fs.lr, cfg.lr_decay = fs.lr_decay, cfg.warmup = fs.warmup;
    snprintf(res->schedule, sizeof res->schedule, "%s", fs.reason);
    res->epochs_planned = r.epochs = fs.epochs;
    if ((st = mn_trainer_new(&cfg, tm, n_tm, &t, err)) ||
        (st = mn_trainer_init_from_model(t, parent, err)))
        goto done;
    size_t np = mn_trainer_n_params(t);
    if (!(r.best = mn_malloc(np * sizeof *r.best))) {
        st = mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    memcpy(r.best, mn_trainer_params(t), np * sizeof *r.best); /* the parent, until beaten */
    mn_train_callbacks cb = {&r, ft_step, ft_epoch, ft_best, NULL};
    mn_train_run_config rc = {fs.epochs, fs.patience, 0, NULL, 1};
    mn_train_result tr;
    if ((st = mn_train_run(t, &rc, vm, n_vm, &cb, stop, &tr, err))) goto done;
    mn_train_progress *p = mn_trainer_progress(t);
    res->stopped = tr.end == MN_TRAIN_END_STOPPED;
    res->epochs = p->epoch;
    res->steps = p->step;
    res->parent_valid = tr.start_valid;
    res->best_valid = n_vm ? p->best_valid : 0;
    st = ft_encode(parent, job, name, mn_trainer_config(t), r.best, &r,
                   valid_data ? valid_data : "", n_vm > 0, &res->model, err);
done:
    mn_free(r.best);
    mn_free(valid_data);
    mn_free(held_idx);
    if (n_held && tm != c.mels) mn_free(tm), mn_free(vm);
    mn_trainer_free(t);
    mn_corpus_free(&c);
    return st;
}
