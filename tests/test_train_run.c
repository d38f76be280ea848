/* test_train_run.c - the training policy of mn_train_run on the fixture tunes: every epoch is
 * validated and the weights handed to best() are those of the best epoch; patience stops a run
 * whose epochs do not beat its starting weights, which stay the best; the stop flag ends a run
 * between steps with a checkpoint, and the run resumed from it ends with the weights and
 * figures of a run that was never stopped; timed checkpoints come within an epoch. */
#include "testutil.h"

#include <math.h>

#include "data.h"
#include "gemm.h"
#include "train.h"

static const char *const tunes[] = {"tests/fixtures/midi/jig_68.mid",
                                    "tests/fixtures/midi/reel_pickup.mid",
                                    "tests/fixtures/midi/waltz_change.mid"};

/* The fixture tunes: train on [first, first + n), the rest of the three as valid. */
static void load(mn_corpus *c)
{
    char buf[3][512];
    const char *args[3];
    for (int i = 0; i < 3; i++) args[i] = mn_test_path(buf[i], sizeof buf[i], tunes[i]);
    char err[MN_ERR_LEN];
    assert_int_equal(mn_corpus_load(c, args, 3, NULL, NULL, NULL, err), MN_OK);
    assert_int_equal(c->n, 3);
}

static void tiny_config(mn_train_config *c)
{
    mn_train_config_default(c);
    c->model.n_layers = 1;
    c->model.n_hidden = 8;
    c->model.n_embed = 4;
    c->model.n_pos = 8;
    c->max_durations = 6;
    c->batch = 2;
    c->seq = 8;
    c->warmup = 2;
    c->lr = 0.02f;
    c->seed = 5;
}

/* What the callbacks saw. */
typedef struct {
    int n_epoch, n_best, n_steps, n_ckpt[3];
    double totals[64];          /* valid total of each epoch callback, in order */
    int epochs[64];
    float *best;                /* the weights best() was handed last */
    size_t n_params;
    int best_epoch;
    int stop_at;                /* set the stop flag after this many steps (0: never) */
    atomic_int *stop;
} seen;

static void on_step(void *ctx, mn_trainer *t, const mn_train_step_info *s)
{
    seen *v = ctx;
    v->n_steps++;
    assert_true(s->done >= 1 && s->done <= s->steps_per_epoch);
    assert_int_equal(s->epoch, mn_trainer_progress(t)->epoch + 1);
    assert_true(isfinite(s->loss_ema) && s->lr > 0);
    if (v->stop_at && v->n_steps == v->stop_at) atomic_store(v->stop, 1);
}

static mn_status on_epoch(void *ctx, mn_trainer *t, const mn_train_epoch_info *e, char *err)
{
    (void)t, (void)err;
    seen *v = ctx;
    assert_true(v->n_epoch < 64);
    v->epochs[v->n_epoch] = e->epoch;
    v->totals[v->n_epoch++] = e->bits_pitch + e->bits_dur;
    return MN_OK;
}

static mn_status on_best(void *ctx, mn_trainer *t, const mn_train_epoch_info *e, char *err)
{
    (void)err;
    seen *v = ctx;
    assert_true(e->improved);
    v->n_best++;
    v->best_epoch = e->epoch;
    v->n_params = mn_trainer_n_params(t);
    if (!v->best) v->best = malloc(v->n_params * sizeof *v->best);
    assert_non_null(v->best);
    memcpy(v->best, mn_trainer_params(t), v->n_params * sizeof *v->best);
    return MN_OK;
}

static mn_status on_ckpt(void *ctx, mn_trainer *t, mn_train_ckpt_why why, char *err)
{
    (void)t, (void)err;
    seen *v = ctx;
    v->n_ckpt[why]++;
    return MN_OK;
}

static mn_train_callbacks callbacks(seen *v)
{
    return (mn_train_callbacks){v, on_step, on_epoch, on_best, on_ckpt};
}

/* Valid total bits/event of weights w on mels, in a trainer of cfg on train. */
static double score(const mn_train_config *cfg, const mn_melody *train, size_t n_train,
                    const float *w, const mn_melody *mels, size_t n)
{
    char err[MN_ERR_LEN];
    mn_trainer *t;
    assert_int_equal(mn_trainer_new(cfg, train, n_train, &t, err), MN_OK);
    memcpy(mn_trainer_params(t), w, mn_trainer_n_params(t) * sizeof *w);
    double bp, bd;
    assert_int_equal(mn_trainer_evaluate(t, mels, n, &bp, &bd, NULL, err), MN_OK);
    mn_trainer_free(t);
    return bp + bd;
}

/* Epochs are validated, the best one is kept, and the run ends after its epochs. */
static void test_best_epoch_kept(void **state)
{
    (void)state;
    mn_corpus c;
    load(&c);
    mn_train_config cfg;
    tiny_config(&cfg);
    char err[MN_ERR_LEN];
    mn_trainer *t;
    assert_int_equal(mn_trainer_new(&cfg, c.mels, 2, &t, err), MN_OK);
    seen v = {0};
    mn_train_callbacks cb = callbacks(&v);
    mn_train_run_config rc = {8, 0, 0, NULL, 0};
    mn_train_result res;
    assert_int_equal(mn_train_run(t, &rc, c.mels + 2, 1, &cb, NULL, &res, err), MN_OK);
    assert_int_equal(res.end, MN_TRAIN_END_EPOCHS);
    mn_train_progress *p = mn_trainer_progress(t);
    assert_int_equal(p->epoch, 8);
    assert_int_equal(v.n_epoch, 8);
    assert_int_equal(v.n_steps, (int)p->step);
    assert_int_equal(p->step, 8 * mn_trainer_steps_per_epoch(t));
    /* best() came exactly at each new minimum, and the last weights it had are the minimum's */
    double best = INFINITY, min = INFINITY;
    int n_best = 0, min_epoch = 0;
    for (int i = 0; i < v.n_epoch; i++) {
        assert_int_equal(v.epochs[i], i + 1);
        if (v.totals[i] < best) best = v.totals[i], n_best++;
        if (v.totals[i] < min) min = v.totals[i], min_epoch = i + 1;
    }
    assert_int_equal(v.n_best, n_best);
    assert_int_equal(v.best_epoch, min_epoch);
    assert_true(p->best_valid == min);
    assert_true(fabs(score(&cfg, c.mels, 2, v.best, c.mels + 2, 1) - min) < 1e-9);
    /* no checkpoint file: no checkpoint callback */
    assert_int_equal(v.n_ckpt[0] + v.n_ckpt[1] + v.n_ckpt[2], 0);
    free(v.best);
    mn_trainer_free(t);
    mn_corpus_free(&c);
}

/* Starting weights that fit the valid tune better than anything the run reaches: scored first
 * (epoch 0), they stay the best, and patience ends the run after that many epochs. */
static void test_patience_keeps_start(void **state)
{
    (void)state;
    mn_corpus c;
    load(&c);
    mn_train_config cfg;
    tiny_config(&cfg);
    char err[MN_ERR_LEN];
    /* a parent that learnt the valid tune itself (tune 2) */
    mn_trainer *parent;
    assert_int_equal(mn_trainer_new(&cfg, c.mels + 2, 1, &parent, err), MN_OK);
    mn_train_run_config prc = {30, 0, 0, NULL, 0};
    mn_train_result res;
    assert_int_equal(mn_train_run(parent, &prc, NULL, 0, NULL, NULL, &res, err), MN_OK);
    size_t np = mn_trainer_n_params(parent);

    /* fine-tuned on the other tunes at a high rate */
    mn_train_config ft = cfg;
    ft.model.dur = mn_trainer_config(parent)->model.dur;
    ft.lr = 0.05f;
    mn_trainer *t;
    assert_int_equal(mn_trainer_new(&ft, c.mels, 2, &t, err), MN_OK);
    memcpy(mn_trainer_params(t), mn_trainer_params(parent), np * sizeof(float));
    seen v = {0};
    mn_train_callbacks cb = callbacks(&v);
    mn_train_run_config rc = {20, 3, 0, NULL, 1};
    assert_int_equal(mn_train_run(t, &rc, c.mels + 2, 1, &cb, NULL, &res, err), MN_OK);
    assert_int_equal(res.end, MN_TRAIN_END_PATIENCE);
    mn_train_progress *p = mn_trainer_progress(t);
    assert_int_equal(p->epoch, 3);
    assert_int_equal(p->bad_epochs, 3);
    assert_int_equal(v.n_epoch, 4);             /* epoch 0 and three more */
    assert_int_equal(v.epochs[0], 0);
    assert_true(res.start_valid == v.totals[0] && p->best_valid == v.totals[0]);
    for (int i = 1; i < 4; i++) assert_true(v.totals[i] >= v.totals[0]);
    assert_int_equal(v.n_best, 1);
    assert_int_equal(v.best_epoch, 0);
    assert_memory_equal(v.best, mn_trainer_params(parent), np * sizeof(float));
    assert_int_equal(v.n_ckpt[MN_TRAIN_CKPT_EPOCH], 0);

    /* without patience the same run goes on to its epochs */
    mn_trainer *u;
    assert_int_equal(mn_trainer_new(&ft, c.mels, 2, &u, err), MN_OK);
    memcpy(mn_trainer_params(u), mn_trainer_params(parent), np * sizeof(float));
    rc.patience = 0, rc.epochs = 5;
    assert_int_equal(mn_train_run(u, &rc, c.mels + 2, 1, NULL, NULL, &res, err), MN_OK);
    assert_int_equal(res.end, MN_TRAIN_END_EPOCHS);
    assert_int_equal(mn_trainer_progress(u)->epoch, 5);
    free(v.best);
    mn_trainer_free(u);
    mn_trainer_free(t);
    mn_trainer_free(parent);
    mn_corpus_free(&c);
}

/* The stop flag ends the run between steps with a checkpoint; resumed from it, the run ends
 * where one that was never stopped does, step for step. */
static void test_stop_checkpoint_resume(void **state)
{
    (void)state;
    mn_corpus c;
    load(&c);
    mn_train_config cfg;
    tiny_config(&cfg);
    cfg.dropout = 0.0f;
    char err[MN_ERR_LEN];
    mn_train_result res;
    enum { EPOCHS = 4 };

    mn_trainer *ref;
    assert_int_equal(mn_trainer_new(&cfg, c.mels, 2, &ref, err), MN_OK);
    seen vr = {0};
    mn_train_callbacks cbr = callbacks(&vr);
    mn_train_run_config rc0 = {EPOCHS, 2, 0, NULL, 0};
    assert_int_equal(mn_train_run(ref, &rc0, c.mels + 2, 1, &cbr, NULL, &res, err), MN_OK);
    mn_train_end ref_end = res.end;
    uint64_t spe = mn_trainer_steps_per_epoch(ref);
    assert_true(spe >= 3);

    char ckpt[64];
    mn_test_tmpfile(ckpt, sizeof ckpt, ".ckpt");
    unlink(ckpt);
    mn_trainer *a;
    assert_int_equal(mn_trainer_new(&cfg, c.mels, 2, &a, err), MN_OK);
    atomic_int stop = 0;
    seen va = {0};
    va.stop = &stop;
    va.stop_at = (int)(spe + spe / 2); /* in the middle of epoch 2 */
    mn_train_callbacks cba = callbacks(&va);
    mn_train_run_config rc = {EPOCHS, 2, 0, ckpt, 0};
    assert_int_equal(mn_train_run(a, &rc, c.mels + 2, 1, &cba, &stop, &res, err), MN_OK);
    assert_int_equal(res.end, MN_TRAIN_END_STOPPED);
    assert_int_equal(mn_trainer_progress(a)->step, (uint64_t)va.stop_at);
    assert_int_equal(mn_trainer_progress(a)->epoch, 1);
    assert_int_equal(va.n_ckpt[MN_TRAIN_CKPT_STOP], 1);
    assert_int_equal(va.n_ckpt[MN_TRAIN_CKPT_EPOCH], 1);
    assert_int_equal(va.n_epoch, 1);
    /* a stop flag set before the run: no step, a checkpoint all the same */
    mn_trainer *s;
    assert_int_equal(mn_trainer_new(&cfg, c.mels, 2, &s, err), MN_OK);
    char ck2[64];
    mn_test_tmpfile(ck2, sizeof ck2, ".ckpt");
    mn_train_run_config rc2 = {EPOCHS, 2, 0, ck2, 0};
    assert_int_equal(mn_train_run(s, &rc2, c.mels + 2, 1, NULL, &stop, &res, err), MN_OK);
    assert_int_equal(res.end, MN_TRAIN_END_STOPPED);
    assert_int_equal(res.run_steps, 0);
    mn_trainer_free(s);
    unlink(ck2);

    /* resume: a new trainer loads the checkpoint and runs on */
    mn_trainer *b;
    mn_train_config cfg2;
    assert_int_equal(mn_train_checkpoint_config(ckpt, &cfg2, err), MN_OK);
    assert_int_equal(mn_trainer_new(&cfg2, c.mels, 2, &b, err), MN_OK);
    assert_int_equal(mn_trainer_checkpoint_load(b, ckpt, err), MN_OK);
    atomic_store(&stop, 0);
    seen vb = {0};
    mn_train_callbacks cbb = callbacks(&vb);
    assert_int_equal(mn_train_run(b, &rc, c.mels + 2, 1, &cbb, &stop, &res, err), MN_OK);
    assert_int_equal(res.end, ref_end);
    mn_train_progress *pb = mn_trainer_progress(b), *pr = mn_trainer_progress(ref);
    assert_int_equal(pb->step, pr->step);
    assert_int_equal(pb->epoch, pr->epoch);
    assert_true(pb->best_valid == pr->best_valid);
    assert_int_equal(pb->bad_epochs, pr->bad_epochs);
    assert_int_equal(va.n_steps + vb.n_steps, vr.n_steps);
    assert_memory_equal(mn_trainer_params(b), mn_trainer_params(ref),
                        mn_trainer_n_params(ref) * sizeof(float));
    /* the epochs after the stop score as the uninterrupted run's did */
    assert_int_equal(va.n_epoch + vb.n_epoch, vr.n_epoch);
    for (int i = 0; i < vb.n_epoch; i++) assert_true(vb.totals[i] == vr.totals[va.n_epoch + i]);
    unlink(ckpt);
    free(va.best), free(vb.best), free(vr.best);
    mn_trainer_free(a);
    mn_trainer_free(b);
    mn_trainer_free(ref);
    mn_corpus_free(&c);
}

/* A checkpoint cadence shorter than a step checkpoints within the epoch; a failing checkpoint
 * ends the run with the error. */
static void test_timed_checkpoints(void **state)
{
    (void)state;
    mn_corpus c;
    load(&c);
    mn_train_config cfg;
    tiny_config(&cfg);
    char err[MN_ERR_LEN], ckpt[64];
    mn_test_tmpfile(ckpt, sizeof ckpt, ".ckpt");
    mn_trainer *t;
    assert_int_equal(mn_trainer_new(&cfg, c.mels, 3, &t, err), MN_OK);
    seen v = {0};
    mn_train_callbacks cb = callbacks(&v);
    mn_train_run_config rc = {1, 0, 1e-9, ckpt, 0};
    mn_train_result res;
    assert_int_equal(mn_train_run(t, &rc, NULL, 0, &cb, NULL, &res, err), MN_OK);
    assert_int_equal(v.n_ckpt[MN_TRAIN_CKPT_TIMED], (int)mn_trainer_steps_per_epoch(t));
    assert_int_equal(v.n_ckpt[MN_TRAIN_CKPT_EPOCH], 1);
    /* no valid set: every epoch is the best */
    assert_int_equal(v.n_best, 1);
    unlink(ckpt);
    rc.epochs = 2;
    rc.checkpoint = "/nonexistent-folder/x.ckpt";
    assert_int_not_equal(mn_train_run(t, &rc, NULL, 0, &cb, NULL, &res, err), MN_OK);
    assert_non_null(strstr(err, "nonexistent-folder"));
    free(v.best);
    mn_trainer_free(t);
    mn_corpus_free(&c);
}

int main(void)
{
    mn_gemm_use(mn_gemm_openblas);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_best_epoch_kept),
        cmocka_unit_test(test_patience_keeps_start),
        cmocka_unit_test(test_stop_checkpoint_resume),
        cmocka_unit_test(test_timed_checkpoints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
