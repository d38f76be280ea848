/* test_finetune.c - the fine-tuning run of [melodynet]'s learn (finetune.h) on the fixture
 * tunes, from the reference model: the schedule and held-out split `melodynet train --init`
 * chooses, a model never worse than its parent on the held-out tunes, metadata that names the
 * parent (path, SHA-256, corpora) and the data, progress in order, the stop flag (the best so
 * far: the parent's weights before any epoch), and data with no tune refused. */
#include "testutil.h"

#include <math.h>

#include "finetune.h"
#include "gemm.h"
#include "sha256.h"

typedef struct {
    int n, n_valid, last_epoch;
    double last_frac;
    int bad;
} seen;

static void on_progress(void *ctx, const mn_finetune_progress *p)
{
    seen *v = ctx;
    v->n++;
    if (p->epoch < v->last_epoch || p->epoch > p->epochs || !(p->fraction > 0) ||
        p->fraction > 1 || !isfinite(p->loss_bits) || p->loss_bits <= 0)
        v->bad++;
    if (p->epoch == v->last_epoch && !p->validated && p->fraction <= v->last_frac) v->bad++;
    if (p->validated) v->n_valid++, v->last_frac = 0;
    else v->last_frac = p->fraction;
    v->last_epoch = p->epoch;
}

static void test_learn_from_parent(void **state)
{
    (void)state;
    char pbuf[512], dbuf[512], err[MN_ERR_LEN];
    const char *ppath = mn_test_path(pbuf, sizeof pbuf, "tests/fixtures/ref/small.mnet");
    const char *data[1] = {mn_test_path(dbuf, sizeof dbuf, "tests/fixtures/midi")};
    mn_model *parent;
    assert_int_equal(mn_model_load(ppath, &parent, err), MN_OK);
    seen v = {0};
    mn_finetune_job job = {data, 1, 3, 1, "test", on_progress, &v};
    mn_finetune_result r;
    assert_int_equal(mn_finetune_run(parent, &job, "learned:test", NULL, &r, err), MN_OK);
    assert_non_null(r.model);
    assert_false(r.stopped);
    /* the fixtures hold 4 tunes and hostile files, which are skipped */
    assert_int_equal(r.n_tunes, 4);
    assert_true(r.n_skipped > 0);
    assert_int_equal(r.n_held, mn_train_holdout_count(r.n_tunes));
    assert_int_equal(r.epochs_planned, 3);
    assert_true(r.epochs >= 1 && r.epochs <= 3);
    assert_non_null(strstr(r.schedule, "epochs as given"));
    assert_true(r.parent_valid > 0 && r.best_valid > 0 && r.best_valid <= r.parent_valid);
    assert_int_equal(v.bad, 0);
    assert_int_equal(v.n_valid, r.epochs);
    /* the parent's architecture and duration table */
    const mn_model_config *a = mn_model_cfg(parent), *b = mn_model_cfg(r.model);
    assert_int_equal(a->n_layers, b->n_layers);
    assert_int_equal(a->n_hidden, b->n_hidden);
    assert_int_equal(a->dur.n, b->dur.n);
    assert_memory_equal(a->dur.ticks, b->dur.ticks, sizeof a->dur.ticks[0] * (size_t)a->dur.n);
    assert_string_equal(mn_model_path(r.model), "learned:test");
    /* the metadata name the parent and the corpora */
    char sha[65];
    assert_int_equal(mn_sha256_file(ppath, sha, err), MN_OK);
    assert_string_equal(mn_model_meta(r.model, "parent_model"), ppath);
    assert_string_equal(mn_model_meta(r.model, "parent_sha256"), sha);
    assert_string_equal(mn_model_meta(r.model, "train_data"), data[0]);
    assert_string_equal(mn_model_meta(r.model, "train_command"), "test");
    assert_non_null(strstr(mn_model_meta(r.model, "valid_data"), "held out (seed 1): "));
    char total[32];
    snprintf(total, sizeof total, "%.4f", r.best_valid);
    assert_string_equal(mn_model_meta(r.model, "valid_bits_total"), total);
    /* weights that moved (an epoch beat the parent) or are the parent's (none did) */
    size_t np = mn_model_n_params(parent);
    int same = !memcmp(mn_model_params(parent), mn_model_params(r.model), np * sizeof(float));
    assert_int_equal(same, r.best_valid == r.parent_valid);
    mn_model_free(r.model);

    /* stopped before any step: the parent's weights, said to be stopped */
    atomic_int stop = 1;
    assert_int_equal(mn_finetune_run(parent, &job, "learned:stopped", &stop, &r, err), MN_OK);
    assert_true(r.stopped);
    assert_int_equal(r.epochs, 0);
    assert_int_equal(r.steps, 0);
    assert_memory_equal(mn_model_params(parent), mn_model_params(r.model), np * sizeof(float));
    mn_model_free(r.model);

    /* no tune in the data */
    char hbuf[512];
    const char *hostile[1] = {mn_test_path(hbuf, sizeof hbuf,
                                           "tests/fixtures/midi/hostile_empty.mid")};
    mn_finetune_job bad = {hostile, 1, 0, 1, "test", NULL, NULL};
    assert_int_equal(mn_finetune_run(parent, &bad, "learned:none", NULL, &r, err), MN_ERR_EMPTY);
    assert_null(r.model);
    mn_model_free(parent);
}

int main(void)
{
    mn_gemm_use(mn_gemm_portable); /* what [melodynet] trains with */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learn_from_parent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
