/* test_train.c - the trainer: finite-difference gradients of every tensor, the loss and every
 * gradient against a PyTorch fixture, learning a simple pattern that the exported model then
 * generates, validation figures that agree with the session's scoring, exact resume from a
 * checkpoint, no allocation in a training step, and fine-tuning: the schedule chosen for a corpus, the too-short-run warning, the held-out split
 * and starting from a model's weights. */
#include "testutil.h"

#include <math.h>

#include "model.h"
#include "session.h"
#include "train.h"

/* A melody from pitches and durations (ticks); positions follow from a bar of bar_ticks. */
static void make_melody(mn_melody *m, const int *pitch, const int *dur, size_t n, int bar_ticks)
{
    mn_melody_init(m);
    int pos = 0;
    for (size_t i = 0; i < n; i++) {
        mn_event e = {pitch[i], pitch[i] == MN_REST ? 0 : 90, dur[i], pos, bar_ticks};
        assert_int_equal(mn_melody_push(m, &e, NULL), MN_OK);
        pos = (pos + dur[i]) % bar_ticks;
    }
}

/* Short irregular tunes with rests, three durations and positions beyond n_pos. No tune is
 * longer than 4 events, so every window of 5 events per stream holds a tune start after its
 * first position, and tunes that straddle windows use the carried state. */
static size_t small_corpus(mn_melody *mels, size_t max)
{
    static const int p[][7] = {{60, 62, MN_REST, 64, 0, 0, 0},
                               {70, 67, 65, 64, 0, 0, 0},
                               {55, MN_REST, 57, 59, 0, 0, 0},
                               {72, 71, 0, 0, 0, 0, 0},
                               {61, 66, 68, 0, 0, 0, 0}};
    static const int d[][7] = {{6, 12, 6, 24, 0, 0, 0},
                               {12, 12, 6, 24, 0, 0, 0},
                               {24, 6, 6, 12, 0, 0, 0},
                               {6, 24, 0, 0, 0, 0, 0},
                               {12, 6, 12, 0, 0, 0, 0}};
    static const size_t n[] = {4, 4, 4, 2, 3};
    size_t k = sizeof n / sizeof n[0];
    assert_true(k <= max);
    for (size_t i = 0; i < k; i++) make_melody(&mels[i], p[i], d[i], n[i], 48);
    return k;
}

static void free_corpus(mn_melody *mels, size_t n)
{
    for (size_t i = 0; i < n; i++) mn_melody_free(&mels[i]);
}

static void tiny_config(mn_train_config *c)
{
    mn_train_config_default(c);
    c->model.n_layers = 2;
    c->model.n_hidden = 5;
    c->model.n_embed = 3;
    c->model.n_pos = 4;
    c->max_durations = 3;
    c->batch = 2;
    c->seq = 5;
    c->warmup = 0;
    c->seed = 7;
}

/*=== (a) gradients ==========================================================================*/

static void check_gradients(int dropout)
{
    mn_melody mels[8];
    size_t n = small_corpus(mels, 8);
    mn_train_config cfg;
    tiny_config(&cfg);
    cfg.dropout = dropout ? 0.3f : 0.0f;
    mn_trainer *t;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_trainer_new(&cfg, mels, n, &t, err), MN_OK);
    free_corpus(mels, n);
    assert_int_equal(mn_trainer_config(t)->model.dur.n, 3);
    /* a few steps first, so that the carried state is not zero and the weights have moved */
    for (int i = 0; i < 3; i++) mn_trainer_step(t, NULL);
    mn_trainer_next_window(t);

    size_t np = mn_trainer_n_params(t);
    float *p = mn_trainer_params(t);
    double l0 = mn_trainer_forward_backward(t);
    assert_true(isfinite(l0) && l0 > 0);
    float *g = malloc(np * sizeof *g);
    assert_non_null(g);
    memcpy(g, mn_trainer_grads(t), np * sizeof *g);

    const mn_model_config *mc = &mn_trainer_config(t)->model;
    int n_tensors = mn_model_tensor_info(mc, -1, NULL, NULL, NULL, NULL);
    double worst = 0;
    for (int k = 0; k < n_tensors; k++) {
        char name[48];
        int shape[2], ndim;
        size_t off;
        mn_model_tensor_info(mc, k, name, shape, &ndim, &off);
        size_t len = (size_t)shape[0] * (ndim == 2 ? (size_t)shape[1] : 1);
        /* the entries with the largest gradients, and a spread of others */
        size_t pick[12];
        int n_pick = 0;
        for (int r = 0; r < 6; r++) {
            size_t best = off;
            float bv = -1;
            for (size_t i = off; i < off + len; i++) {
                int taken = 0;
                for (int q = 0; q < n_pick; q++) taken |= pick[q] == i;
                if (!taken && fabsf(g[i]) > bv) bv = fabsf(g[i]), best = i;
            }
            pick[n_pick++] = best;
        }
        for (int r = 0; r < 6; r++) pick[n_pick++] = off + (size_t)((r * 7919u) % len);
        float gmax = 0;
        for (size_t i = off; i < off + len; i++) gmax = fmaxf(gmax, fabsf(g[i]));
        assert_true(gmax > 0); /* every tensor gets a gradient */
        for (int q = 0; q < n_pick; q++) {
            size_t i = pick[q];
            float keep = p[i], eps = 1e-2f;
            p[i] = keep + eps;
            double lp = mn_trainer_forward_backward(t);
            p[i] = keep - eps;
            double lm = mn_trainer_forward_backward(t);
            p[i] = keep;
            double num = (lp - lm) / (2.0 * eps);
            double ana = g[i];
            double rel = fabs(num - ana) / fmax(fmax(fabs(num), fabs(ana)), 1e-2);
            if (rel > worst) worst = rel;
            if (rel > 1e-2)
                fail_msg("%s[%zu]: analytic %.6g, numeric %.6g", name, i - off, ana, num);
        }
    }
    print_message("gradient check (dropout %d): worst relative error %.3g\n", dropout, worst);
    /* the parameters are back where they were */
    assert_true(fabs(mn_trainer_forward_backward(t) - l0) < 1e-9);
    free(g);
    mn_trainer_free(t);
}

static void test_gradients(void **state)
{
    (void)state;
    check_gradients(0);
}

static void test_gradients_dropout(void **state)
{
    (void)state;
    check_gradients(1);
}

/* The loss and every gradient against PyTorch (float64 on the same float32 weights) on one
 * given window with tune starts inside it: tests/fixtures/ref/train_grads.txt, written by
 * tests/reference/make_train_grads.py. |got - ref| <= atol + rtol |ref| per entry, with atol
 * a small fraction of the tensor's largest gradient (float32 sums over the window). */
static void test_gradients_torch(void **state)
{
    (void)state;
    char buf[512];
    FILE *f = fopen(mn_test_path(buf, sizeof buf, "tests/fixtures/ref/train_grads.txt"), "r");
    assert_non_null(f);
    int ver, L, H, E, NP, ND, B, T;
    assert_int_equal(fscanf(f, "melodynet-ref-train-grads %d config %d %d %d %d %d window %d %d",
                            &ver, &L, &H, &E, &NP, &ND, &B, &T), 8);
    assert_int_equal(ver, 1);
    mn_train_config cfg;
    tiny_config(&cfg);
    cfg.model.n_layers = L, cfg.model.n_hidden = H, cfg.model.n_embed = E, cfg.model.n_pos = NP;
    cfg.model.dur.n = ND;
    for (int i = 0; i < ND; i++) cfg.model.dur.ticks[i] = 6 << i;
    cfg.max_durations = ND;
    cfg.batch = B, cfg.seq = T;
    mn_melody mels[8];
    size_t n = small_corpus(mels, 8);
    mn_trainer *t;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_trainer_new(&cfg, mels, n, &t, err), MN_OK);
    free_corpus(mels, n);

    size_t TB = (size_t)B * T;
    int *col = malloc(5 * TB * sizeof *col);
    uint8_t *reset = malloc(TB);
    assert_non_null(col), assert_non_null(reset);
    for (size_t r = 0; r < TB; r++) {
        int v[6];
        assert_int_equal(fscanf(f, " row %d %d %d %d %d %d", &v[0], &v[1], &v[2], &v[3], &v[4],
                                &v[5]), 6);
        reset[r] = (uint8_t)v[0];
        for (int k = 0; k < 5; k++) col[k * TB + r] = v[k + 1];
    }
    assert_int_equal(mn_trainer_set_window(t, col, col + TB, col + 2 * TB, col + 3 * TB,
                                           col + 4 * TB, reset, err), MN_OK);
    /* out-of-range tokens are refused */
    col[3 * TB + 1] = 129;
    assert_int_equal(mn_trainer_set_window(t, col, col + TB, col + 2 * TB, col + 3 * TB,
                                           col + 4 * TB, reset, err), MN_ERR_ARG);
    double ref_loss;
    assert_int_equal(fscanf(f, " loss %lf", &ref_loss), 1);

    /* the weights, then the reference gradients, tensor by tensor */
    size_t np = mn_trainer_n_params(t);
    float *p = mn_trainer_params(t);
    double *gref = malloc(np * sizeof *gref);
    assert_non_null(gref);
    const mn_model_config *mc = &mn_trainer_config(t)->model;
    int n_tensors = mn_model_tensor_info(mc, -1, NULL, NULL, NULL, NULL);
    size_t offs[32], lens[32];
    char names[32][48];
    assert_true(n_tensors <= 32);
    for (int k = 0; k < n_tensors; k++) {
        int shape[2], ndim;
        mn_model_tensor_info(mc, k, names[k], shape, &ndim, &offs[k]);
        lens[k] = (size_t)shape[0] * (ndim == 2 ? (size_t)shape[1] : 1);
        char name[48];
        size_t len;
        assert_int_equal(fscanf(f, " tensor %47s %zu w", name, &len), 2);
        assert_string_equal(name, names[k]);
        assert_int_equal(len, lens[k]);
        for (size_t i = 0; i < len; i++) assert_int_equal(fscanf(f, "%f", &p[offs[k] + i]), 1);
        assert_int_equal(fscanf(f, " g"), 0);
        for (size_t i = 0; i < len; i++) assert_int_equal(fscanf(f, "%lf", &gref[offs[k] + i]), 1);
    }
    fclose(f);
    /* the refused window left the one set before */
    double loss = mn_trainer_forward_backward(t);
    print_message("loss: C %.9f, PyTorch %.9f\n", loss, ref_loss);
    assert_true(fabs(loss - ref_loss) <= 1e-6 * fabs(ref_loss));

    const float *g = mn_trainer_grads(t);
    const double rtol = 1e-5, afrac = 1e-5;
    double worst = 0;
    for (int k = 0; k < n_tensors; k++) {
        double gmax = 0, terr = 0;
        for (size_t i = offs[k]; i < offs[k] + lens[k]; i++) gmax = fmax(gmax, fabs(gref[i]));
        assert_true(gmax > 0); /* every tensor gets a gradient */
        for (size_t i = offs[k]; i < offs[k] + lens[k]; i++) {
            double e = fabs(g[i] - gref[i]), tol = afrac * gmax + rtol * fabs(gref[i]);
            if (e > tol)
                fail_msg("%s[%zu]: C %.9g, PyTorch %.9g (error %.3g, tolerance %.3g)", names[k],
                         i - offs[k], g[i], gref[i], e, tol);
            terr = fmax(terr, e / gmax);
        }
        worst = fmax(worst, terr);
    }
    print_message("gradients against PyTorch: %d tensors, worst error %.3g of the tensor's "
                  "largest gradient\n", n_tensors, worst);
    free(gref), free(col), free(reset);
    mn_trainer_free(t);
}

/*=== (b) learning a pattern =================================================================*/

/* Scales up and down in eighth notes, a half note at the end. */
static const int scale_pitch[] = {60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60};
#define SCALE_N (sizeof scale_pitch / sizeof scale_pitch[0])

static void scale_corpus(mn_melody *mels, size_t n_mels, int reps)
{
    int pitch[SCALE_N * 4], dur[SCALE_N * 4];
    assert_true(reps <= 4);
    for (size_t i = 0; i < n_mels; i++) {
        size_t k = 0;
        for (int r = 0; r < reps; r++)
            for (size_t j = 0; j < SCALE_N; j++, k++) {
                pitch[k] = scale_pitch[j];
                dur[k] = j == SCALE_N - 1 ? 24 : 12;
            }
        make_melody(&mels[i], pitch, dur, k, 96);
    }
}

static void test_learns_pattern(void **state)
{
    (void)state;
    mn_melody mels[4];
    scale_corpus(mels, 4, 3);
    mn_train_config cfg;
    mn_train_config_default(&cfg);
    cfg.model.n_layers = 1;
    cfg.model.n_hidden = 32;
    cfg.model.n_embed = 8;
    cfg.model.n_pos = 96;
    cfg.batch = 4;
    cfg.seq = 16;
    cfg.warmup = 10;
    cfg.lr = 1e-2f;
    cfg.lr_decay = 1.0f;
    cfg.augment = 0;
    mn_trainer *t;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_trainer_new(&cfg, mels, 4, &t, err), MN_OK);
    double loss = 0;
    for (int i = 0; i < 400; i++) mn_trainer_step(t, &loss);
    print_message("pattern: loss after 400 steps %.4f nats/event\n", loss);
    assert_true(loss < 0.05);
    double bp, bd;
    size_t ne;
    assert_int_equal(mn_trainer_evaluate(t, mels, 4, &bp, &bd, &ne, err), MN_OK);
    assert_int_equal(ne, 4 * 3 * SCALE_N);
    assert_true(bp < 0.1 && bd < 0.1);

    char path[64];
    mn_test_tmpfile(path, sizeof path, ".mnet");
    const char *meta[1][2] = {{"license", "test"}};
    assert_int_equal(mn_trainer_export(t, path, meta, 1, err), MN_OK);
    mn_model *m;
    assert_int_equal(mn_model_load(path, &m, err), MN_OK);
    assert_string_equal(mn_model_meta(m, "license"), "test");
    mn_session *s;
    assert_int_equal(mn_session_new(m, 3, &s, err), MN_OK);
    mn_session_sampler(s)->temperature = 0.05f;
    mn_session_sampler(s)->motif = 0; /* what the network learned, without the motif memory */
    mn_session_reset(s);
    for (size_t k = 0; k < 2 * SCALE_N; k++) {
        mn_event e;
        mn_session_sample(s, &e);
        assert_int_equal(e.pitch, scale_pitch[k % SCALE_N]);
        assert_int_equal(e.dur_ticks, k % SCALE_N == SCALE_N - 1 ? 24 : 12);
    }
    mn_session_free(s);
    mn_model_free(m);
    unlink(path);
    free_corpus(mels, 4);
    mn_trainer_free(t);
}

/*=== validation agrees with the session's scoring ===========================================*/

static void test_evaluate_matches_session(void **state)
{
    (void)state;
    mn_melody mels[8];
    size_t n = small_corpus(mels, 8);
    mn_train_config cfg;
    tiny_config(&cfg);
    cfg.model.n_hidden = 16;
    cfg.model.n_embed = 6;
    cfg.batch = 3; /* fewer streams than tunes, and padding at the end */
    mn_trainer *t;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_trainer_new(&cfg, mels, n, &t, err), MN_OK);
    for (int i = 0; i < 20; i++) mn_trainer_step(t, NULL);
    double bp, bd;
    size_t ne;
    assert_int_equal(mn_trainer_evaluate(t, mels, n, &bp, &bd, &ne, err), MN_OK);

    char path[64];
    mn_test_tmpfile(path, sizeof path, ".mnet");
    assert_int_equal(mn_trainer_export(t, path, NULL, 0, err), MN_OK);
    mn_model *m;
    assert_int_equal(mn_model_load(path, &m, err), MN_OK);
    mn_session *s;
    assert_int_equal(mn_session_new(m, 1, &s, err), MN_OK);
    mn_session_sampler(s)->motif = 0; /* the trainer scores the network alone */
    double sp = 0, sd = 0;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        mn_session_reset(s);
        for (size_t j = 0; j < mels[i].n; j++, count++) {
            double a, b;
            mn_session_score(s, &mels[i].ev[j], &a, &b, NULL);
            sp += a, sd += b;
        }
    }
    assert_int_equal(ne, count);
    print_message("valid bits: trainer %.6f + %.6f, session %.6f + %.6f\n", bp, bd, sp / count,
                  sd / count);
    assert_true(fabs(bp - sp / count) < 1e-4);
    assert_true(fabs(bd - sd / count) < 1e-4);
    mn_session_free(s);
    mn_model_free(m);
    unlink(path);
    free_corpus(mels, n);
    mn_trainer_free(t);
}

/*=== (c) resume =============================================================================*/

static void test_resume(void **state)
{
    (void)state;
    mn_melody mels[8];
    size_t n = small_corpus(mels, 8);
    mn_train_config cfg;
    tiny_config(&cfg);
    cfg.dropout = 0.2f;
    cfg.warmup = 3;
    char err[MN_ERR_LEN];
    enum { N = 7, M = 9 };
    double ref[N + M], got[N + M];
    mn_trainer *a;
    assert_int_equal(mn_trainer_new(&cfg, mels, n, &a, err), MN_OK);
    for (int i = 0; i < N + M; i++) mn_trainer_step(a, &ref[i]);

    char path[64];
    mn_test_tmpfile(path, sizeof path, ".ckpt");
    mn_trainer *b;
    assert_int_equal(mn_trainer_new(&cfg, mels, n, &b, err), MN_OK);
    for (int i = 0; i < N; i++) mn_trainer_step(b, &got[i]);
    mn_trainer_progress(b)->best_valid = 3.25;
    assert_int_equal(mn_trainer_checkpoint_save(b, path, err), MN_OK);
    mn_trainer_free(b);

    mn_train_config cfg2;
    assert_int_equal(mn_train_checkpoint_config(path, &cfg2, err), MN_OK);
    assert_int_equal(cfg2.model.dur.n, 3);
    mn_trainer *c;
    assert_int_equal(mn_trainer_new(&cfg2, mels, n, &c, err), MN_OK);
    assert_int_equal(mn_trainer_checkpoint_load(c, path, err), MN_OK);
    assert_int_equal(mn_trainer_progress(c)->step, N);
    assert_true(mn_trainer_progress(c)->best_valid == 3.25);
    for (int i = N; i < N + M; i++) mn_trainer_step(c, &got[i]);
    for (int i = 0; i < N + M; i++) assert_true(got[i] == ref[i]);
    assert_memory_equal(mn_trainer_params(a), mn_trainer_params(c),
                        mn_trainer_n_params(a) * sizeof(float));

    /* a checkpoint of other data or a damaged file is refused and changes nothing */
    mn_melody other[1];
    static const int op[] = {60, 61, 62}, od[] = {6, 12, 24};
    make_melody(&other[0], op, od, 3, 48);
    mn_trainer *d;
    assert_int_equal(mn_trainer_new(&cfg2, other, 1, &d, err), MN_OK);
    assert_int_not_equal(mn_trainer_checkpoint_load(d, path, err), MN_OK);
    assert_non_null(strstr(err, "other training data"));
    assert_int_equal(mn_trainer_progress(d)->step, 0);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 100, SEEK_SET);
    fputc(0x5a, f);
    fclose(f);
    assert_int_equal(mn_trainer_checkpoint_load(c, path, err), MN_ERR_FORMAT);
    assert_non_null(strstr(err, "checksum"));
    assert_int_equal(mn_trainer_progress(c)->step, N + M);
    mn_trainer_free(d);
    mn_melody_free(&other[0]);

    unlink(path);
    free_corpus(mels, n);
    mn_trainer_free(a);
    mn_trainer_free(c);
}

/*=== (d) no allocation in a step ============================================================*/

static void test_step_allocates_nothing(void **state)
{
    (void)state;
    mn_test_count_allocs();
    mn_melody mels[8];
    size_t n = small_corpus(mels, 8);
    mn_train_config cfg;
    tiny_config(&cfg);
    cfg.dropout = 0.1f;
    mn_trainer *t;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_trainer_new(&cfg, mels, n, &t, err), MN_OK);
    size_t before = mn_test_alloc_count;
    double loss;
    /* enough steps to pass several reshuffles of the item list */
    for (int i = 0; i < 50; i++) mn_trainer_step(t, &loss);
    assert_int_equal(mn_test_alloc_count, before);
    assert_true(isfinite(loss));
    free_corpus(mels, n);
    mn_trainer_free(t);
    mn_set_allocator(NULL);
}

/*=== configuration and input errors =========================================================*/

static void test_bad_input(void **state)
{
    (void)state;
    mn_train_config cfg;
    tiny_config(&cfg);
    char err[MN_ERR_LEN];
    mn_trainer *t = (mn_trainer *)1;
    mn_melody empty;
    mn_melody_init(&empty);
    assert_int_equal(mn_trainer_new(&cfg, &empty, 1, &t, err), MN_ERR_EMPTY);
    assert_null(t);
    cfg.batch = 0;
    assert_int_equal(mn_trainer_new(&cfg, &empty, 1, &t, err), MN_ERR_ARG);
    assert_non_null(strstr(err, "batch"));
    mn_train_config c2;
    assert_int_equal(mn_train_checkpoint_config("/nonexistent/x.ckpt", &c2, err), MN_ERR_IO);
    char path[64];
    mn_test_tmpfile(path, sizeof path, ".ckpt");
    assert_int_equal(mn_test_write(path, "MNTRAIN\0\1\0\0\0garbage-garbage", 27), 0);
    assert_int_equal(mn_train_checkpoint_config(path, &c2, err), MN_ERR_FORMAT);
    unlink(path);
    mn_trainer_free(NULL);
}

/*=== fine-tuning: schedule, held-out split, starting from a model ===========================*/

static void test_finetune_schedule(void **state)
{
    (void)state;
    mn_train_config d;
    mn_train_config_default(&d);
    mn_train_schedule s;
    /* 54 tunes of 52 steps: epochs for about MN_TRAIN_FT_STEPS steps, a quarter-epoch warm-up */
    mn_train_finetune_schedule(54, 52, 0, &s);
    assert_true(s.lr < d.lr && fabsf(s.lr - d.lr / 20) < 1e-9f);
    assert_true(s.lr_decay > d.lr_decay && s.lr_decay <= 1);
    assert_int_equal(s.epochs, (MN_TRAIN_FT_STEPS + 51) / 52);
    assert_int_equal(s.warmup, 13);
    assert_int_equal(s.patience, 2);
    assert_non_null(strstr(s.reason, "54 tunes of 52 steps per epoch"));
    assert_non_null(strstr(s.reason, "a quarter epoch"));
    /* a large corpus: at least 3 epochs, warm-up capped at 50 steps */
    mn_train_finetune_schedule(5000, 4000, 0, &s);
    assert_int_equal(s.epochs, 3);
    assert_int_equal(s.warmup, 50);
    assert_non_null(strstr(s.reason, "at most 50 steps"));
    /* a tiny one: at most 30 epochs, and a warm-up of at least one step */
    mn_train_finetune_schedule(2, 1, 0, &s);
    assert_int_equal(s.epochs, 30);
    assert_int_equal(s.warmup, 1);
    assert_non_null(strstr(s.reason, "2 tunes of 1 step per epoch"));
    /* epochs given: the warm-up shrinks to a tenth of the run, and the run is long enough */
    mn_train_finetune_schedule(54, 52, 2, &s);
    assert_int_equal(s.epochs, 2);
    assert_int_equal(s.warmup, 10);
    assert_non_null(strstr(s.reason, "epochs as given"));
    assert_non_null(strstr(s.reason, "a tenth of the run"));
    mn_train_config c = d;
    c.lr = s.lr, c.warmup = s.warmup;
    char msg[MN_TRAIN_REASON_LEN];
    assert_int_equal(mn_train_schedule_warning(&c, 52, s.epochs, msg), 0);
}

static void test_schedule_warning(void **state)
{
    (void)state;
    mn_train_config c;
    mn_train_config_default(&c); /* warm-up 200 steps */
    char msg[MN_TRAIN_REASON_LEN];
    /* 2 epochs of 67 steps (60 tunes): the run ends in the warm-up */
    assert_int_equal(mn_train_schedule_warning(&c, 67, 2, msg), 1);
    print_message("%s\n", msg);
    assert_non_null(strstr(msg, "134 steps"));
    assert_non_null(strstr(msg, "200-step warm-up"));
    assert_non_null(strstr(msg, "--warmup 13"));
    assert_int_equal(mn_train_schedule_warning(&c, 67, 3, msg), 0);
    assert_int_equal(mn_train_schedule_warning(&c, 200, 1, msg), 0);
    c.warmup = 0;
    assert_int_equal(mn_train_schedule_warning(&c, 1, 1, msg), 0);
}

static void test_holdout(void **state)
{
    (void)state;
    assert_int_equal(mn_train_holdout_count(0), 0);
    assert_int_equal(mn_train_holdout_count(1), 0);
    assert_int_equal(mn_train_holdout_count(2), 1);
    assert_int_equal(mn_train_holdout_count(14), 1);
    assert_int_equal(mn_train_holdout_count(15), 2);
    assert_int_equal(mn_train_holdout_count(60), 6);
    assert_int_equal(mn_train_holdout_count(1000), 100);
    uint8_t a[60], b[60], c[60];
    mn_train_holdout_pick(60, 6, 1, a);
    mn_train_holdout_pick(60, 6, 1, b);
    mn_train_holdout_pick(60, 6, 2, c);
    int na = 0, nc = 0;
    for (int i = 0; i < 60; i++) na += a[i], nc += c[i];
    assert_int_equal(na, 6);
    assert_int_equal(nc, 6);
    assert_memory_equal(a, b, 60);
    assert_true(memcmp(a, c, 60) != 0);
    /* over many seeds every tune is held out about equally often */
    int hits[60] = {0};
    for (uint64_t seed = 0; seed < 2000; seed++) {
        mn_train_holdout_pick(60, 6, seed, a);
        for (int i = 0; i < 60; i++) hits[i] += a[i];
    }
    for (int i = 0; i < 60; i++) assert_true(hits[i] > 120 && hits[i] < 280); /* mean 200 */
}

static void test_steps_per_epoch(void **state)
{
    (void)state;
    mn_melody mels[8];
    size_t n = small_corpus(mels, 8);
    for (int aug = 0; aug <= 1; aug++) {
        mn_train_config cfg;
        tiny_config(&cfg);
        cfg.augment = aug;
        mn_trainer *t;
        char err[MN_ERR_LEN];
        assert_int_equal(mn_trainer_new(&cfg, mels, n, &t, err), MN_OK);
        assert_int_equal(mn_train_steps_per_epoch(&cfg, mels, n), mn_trainer_steps_per_epoch(t));
        mn_trainer_free(t);
    }
    free_corpus(mels, n);
}

static void test_init_from_model(void **state)
{
    (void)state;
    mn_melody mels[8];
    size_t n = small_corpus(mels, 8);
    mn_train_config cfg;
    tiny_config(&cfg);
    mn_trainer *a, *b, *c;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_trainer_new(&cfg, mels, n, &a, err), MN_OK);
    for (int i = 0; i < 20; i++) mn_trainer_step(a, NULL);
    char path[64];
    mn_test_tmpfile(path, sizeof path, ".mnet");
    assert_int_equal(mn_trainer_export(a, path, NULL, 0, err), MN_OK);
    mn_model *m;
    assert_int_equal(mn_model_load(path, &m, err), MN_OK);
    unlink(path);

    /* a trainer of the model's sizes and table, seeded otherwise, takes its weights */
    mn_train_config fc = cfg;
    fc.model = *mn_model_cfg(m);
    fc.seed = 99;
    assert_int_equal(mn_trainer_new(&fc, mels, n, &b, err), MN_OK);
    assert_int_equal(mn_trainer_init_from_model(b, m, err), MN_OK);
    size_t np = mn_trainer_n_params(a);
    assert_memory_equal(mn_trainer_params(b), mn_trainer_params(a), np * sizeof(float));
    double pa, da, pb, db;
    assert_int_equal(mn_trainer_evaluate(a, mels, n, &pa, &da, NULL, err), MN_OK);
    assert_int_equal(mn_trainer_evaluate(b, mels, n, &pb, &db, NULL, err), MN_OK);
    assert_true(fabs(pa - pb) < 1e-9 && fabs(da - db) < 1e-9);

    /* other sizes or another duration table: refused, the trainer untouched */
    fc.model.n_hidden = 6;
    assert_int_equal(mn_trainer_new(&fc, mels, n, &c, err), MN_OK);
    float first = mn_trainer_params(c)[0];
    assert_int_equal(mn_trainer_init_from_model(c, m, err), MN_ERR_ARG);
    assert_non_null(strstr(err, "hidden size 5, the trainer has 6"));
    assert_true(mn_trainer_params(c)[0] == first);
    mn_trainer_free(c);
    fc.model = *mn_model_cfg(m);
    fc.model.dur.ticks[fc.model.dur.n - 1] += 1;
    assert_int_equal(mn_trainer_new(&fc, mels, n, &c, err), MN_OK);
    assert_int_equal(mn_trainer_init_from_model(c, m, err), MN_ERR_ARG);
    assert_non_null(strstr(err, "duration"));
    mn_trainer_free(c);

    mn_model_free(m);
    mn_trainer_free(a);
    mn_trainer_free(b);
    free_corpus(mels, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients),
        cmocka_unit_test(test_gradients_dropout),
        cmocka_unit_test(test_gradients_torch),
        cmocka_unit_test(test_learns_pattern),
        cmocka_unit_test(test_evaluate_matches_session),
        cmocka_unit_test(test_resume),
        cmocka_unit_test(test_step_allocates_nothing),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_finetune_schedule),
        cmocka_unit_test(test_schedule_warning),
        cmocka_unit_test(test_holdout),
        cmocka_unit_test(test_steps_per_epoch),
        cmocka_unit_test(test_init_from_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
