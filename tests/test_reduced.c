/* test_reduced.c - models with bf16 and int8 weight matrices: mn_model_save_as writes them, the
 * loader reads them with the same validation as f32 files (and the rules of their own: a scale
 * per int8 row, finite and positive; reduced types only for the step matrices; int8 in
 * -127..127), and a session on them plays close to the f32 model. */
#include "testutil.h"

#include <math.h>

#include "matvec.h"
#include "model.h"
#include "session.h"

/* The session's pitch and duration logits over a fixed melody, for comparing models. */
static void logits_of(mn_model *m, float *out, int steps)
{
    mn_session *s;
    char err[MN_ERR_LEN];
    assert_int_equal(mn_session_new(m, 1, &s, err), MN_OK);
    int n_dur = mn_model_cfg(m)->dur.n;
    for (int k = 0; k < steps; k++) {
        int pos, bar;
        mn_session_clock(s, &pos, &bar);
        memcpy(out, mn_session_pitch_logits(s, pos, bar), MN_N_PITCH * sizeof *out);
        out += MN_N_PITCH;
        int p = 60 + (k * 5) % 12;
        memcpy(out, mn_session_dur_logits(s, p), (size_t)n_dur * sizeof *out);
        out += n_dur;
        mn_event e = {p, 90, MN_TPQ, pos, bar};
        mn_session_commit(s, &e);
    }
    mn_session_free(s);
}

static void test_round_trip(void **state)
{
    (void)state;
    char src[512], path[256], err[MN_ERR_LEN];
    mn_model *f32;
    assert_int_equal(mn_model_load(mn_test_path(src, sizeof src, "tests/fixtures/ref/small.mnet"),
                                   &f32, err), MN_OK);
    assert_int_equal(mn_model_wtype(f32), MN_WEIGHTS_F32);
    const mn_model_config *cfg = mn_model_cfg(f32);
    size_t n = mn_model_n_params(f32);
    const int steps = 12, per = MN_N_PITCH + cfg->dur.n;
    float *ref = malloc((size_t)steps * per * sizeof *ref);
    float *got = malloc((size_t)steps * per * sizeof *got);
    assert_true(ref && got);
    logits_of(f32, ref, steps);
    const mn_wtype types[] = {MN_WEIGHTS_BF16, MN_WEIGHTS_I8};
    for (int t = 0; t < 2; t++) {
        mn_test_tmpfile(path, sizeof path, ".mnet");
        const char *const meta[][2] = {{"name", "reduced"}};
        assert_int_equal(mn_model_save_as(path, cfg, mn_model_params(f32), types[t], meta, 1, err),
                         MN_OK);
        mn_model *m;
        if (mn_model_load(path, &m, err) != MN_OK) fail_msg("%s", err);
        assert_int_equal(mn_model_wtype(m), types[t]);
        assert_string_equal(mn_model_meta(m, "name"), "reduced");
        /* the float view: each weight within its type's rounding of the f32 value */
        const float *a = mn_model_params(f32), *b = mn_model_params(m);
        double worst = 0;
        for (size_t k = 0; k < n; k++) {
            double d = fabs((double)a[k] - b[k]);
            if (d > worst) worst = d;
            if (types[t] == MN_WEIGHTS_BF16) assert_true(d <= fabs(a[k]) / 256.0 + 1e-30);
        }
        /* int8: half a step of the row's scale, max|w|/127, at most */
        if (types[t] == MN_WEIGHTS_I8) {
            double mx = 0;
            for (size_t k = 0; k < n; k++) mx = fmax(mx, fabs(a[k]));
            assert_true(worst <= mx / 127 / 2 * 1.0001);
        }
        logits_of(m, got, steps);
        double max_err = 0;
        for (int k = 0; k < steps * per; k++) max_err = fmax(max_err, fabs(got[k] - ref[k]));
        print_message("    %s: max weight error %.3g, max logit error %.3g over %d steps\n",
                      types[t] == MN_WEIGHTS_BF16 ? "bf16" : "int8", worst, max_err, steps);
        assert_true(max_err < 0.05);
        /* the file is smaller by the matrices' bytes */
        assert_true(mn_model_file_size(m) < mn_model_file_size(f32));
        mn_model_free(m);
        unlink(path);
    }
    free(ref);
    free(got);
    mn_model_free(f32);
}

/*=== hand-built files =======================================================================*/

enum { BAD_NONE, BAD_NO_SCALE, BAD_SCALE_ON_F32, BAD_EMBED_BF16, BAD_I8_MIN, BAD_SCALE_ZERO,
       BAD_SCALE_NAN, BAD_SCALE_SHAPE, BAD_DTYPE_F16 };

/* A tiny model (L1 H4 E2, no position, 2 durations) written by hand: the first LSTM matrix as
 * I8 with its scale, the second as BF16, the rest F32, then one fault. */
static unsigned char *build(int bad, size_t *len)
{
    mn_model_config cfg = {1, 4, 2, 0, {2, {12, 24}}};
    int count = mn_model_tensor_info(&cfg, -1, NULL, NULL, NULL, NULL);
    char hdr[8192];
    unsigned char data[65536];
    size_t hn = 0, dn = 0;
    uint64_t rng = 12345;
    hn += (size_t)snprintf(hdr + hn, sizeof hdr - hn,
                           "{\"__metadata__\":{\"format\":\"melodynet\",\"version\":\"1\","
                           "\"n_layers\":\"1\",\"n_hidden\":\"4\",\"n_embed\":\"2\","
                           "\"n_pos\":\"0\",\"ticks_per_quarter\":\"24\",\"durations\":\"12,24\"}");
    for (int i = 0; i < count; i++) {
        char name[48];
        int shape[2], nd;
        mn_model_tensor_info(&cfg, i, name, shape, &nd, NULL);
        size_t nf = (size_t)shape[0] * (nd == 2 ? (size_t)shape[1] : 1);
        const char *dt = "F32";
        if (!strcmp(name, "lstm.0.w_ih")) dt = bad == BAD_SCALE_ON_F32 ? "F32" : "I8";
        if (!strcmp(name, "lstm.0.w_hh")) dt = bad == BAD_DTYPE_F16 ? "F16" : "BF16";
        if (!strcmp(name, "emb.pitch") && bad == BAD_EMBED_BF16) dt = "BF16";
        size_t es = !strcmp(dt, "I8") ? 1 : !strcmp(dt, "F32") ? 4 : 2;
        size_t begin = dn;
        for (size_t k = 0; k < nf; k++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            float v = (float)((int)(rng >> 40) % 2001 - 1000) / 1000.0f;
            if (es == 1) {
                data[dn++] = (unsigned char)(signed char)(bad == BAD_I8_MIN && k == 3
                                                              ? -128 : (int)(v * 127));
            } else if (es == 2) {
                unsigned short h = mn_bf16_from_f32(v);
                data[dn++] = (unsigned char)h, data[dn++] = (unsigned char)(h >> 8);
            } else {
                memcpy(data + dn, &v, 4);
                dn += 4;
            }
        }
        hn += (size_t)snprintf(hdr + hn, sizeof hdr - hn, ",\"%s\":{\"dtype\":\"%s\",\"shape\":",
                               name, dt);
        hn += (size_t)(nd == 2 ? snprintf(hdr + hn, sizeof hdr - hn, "[%d,%d]", shape[0], shape[1])
                               : snprintf(hdr + hn, sizeof hdr - hn, "[%d]", shape[0]));
        hn += (size_t)snprintf(hdr + hn, sizeof hdr - hn, ",\"data_offsets\":[%zu,%zu]}", begin,
                               dn);
        if (!strcmp(name, "lstm.0.w_ih") && bad != BAD_NO_SCALE) {
            int rows = bad == BAD_SCALE_SHAPE ? shape[0] - 1 : shape[0];
            size_t sb = dn;
            for (int r = 0; r < rows; r++) {
                float sc = bad == BAD_SCALE_ZERO && r == 2 ? 0.0f
                           : bad == BAD_SCALE_NAN && r == 1 ? NAN : 0.01f;
                memcpy(data + dn, &sc, 4);
                dn += 4;
            }
            hn += (size_t)snprintf(hdr + hn, sizeof hdr - hn,
                                   ",\"%s.scale\":{\"dtype\":\"F32\",\"shape\":[%d],"
                                   "\"data_offsets\":[%zu,%zu]}", name, rows, sb, dn);
        }
    }
    hn += (size_t)snprintf(hdr + hn, sizeof hdr - hn, "}");
    unsigned char *out = malloc(8 + hn + dn);
    for (int i = 0; i < 8; i++) out[i] = (unsigned char)((uint64_t)hn >> (8 * i));
    memcpy(out + 8, hdr, hn);
    memcpy(out + 8 + hn, data, dn);
    *len = 8 + hn + dn;
    return out;
}

static void expect(int bad, const char *frag)
{
    size_t len;
    unsigned char *img = build(bad, &len);
    mn_model *m = NULL;
    char err[MN_ERR_LEN] = "";
    mn_status st = mn_model_load_memory(img, len, "x.mnet", &m, err);
    free(img);
    if (!frag) {
        if (st != MN_OK) fail_msg("refused: %s", err);
        assert_true(mn_model_wtype(m) != MN_WEIGHTS_F32);
        const mn_step_mats *mt = mn_model_step_mats(m);
        assert_int_equal(mt->lstm[0].w_ih.type, MN_WEIGHTS_I8);
        assert_non_null(mt->lstm[0].w_ih.scale);
        assert_int_equal(mt->lstm[0].w_hh.type, MN_WEIGHTS_BF16);
        assert_int_equal(mt->head_pitch_w.type, MN_WEIGHTS_F32);
        mn_model_free(m);
        return;
    }
    if (st == MN_OK) fail_msg("loaded, expected a refusal with \"%s\"", frag);
    assert_null(m);
    if (!strstr(err, frag)) fail_msg("message \"%s\" lacks \"%s\"", err, frag);
}

static void test_hand_built_mixed_types_load(void **state)
{
    (void)state;
    expect(BAD_NONE, NULL);
}

static void test_hostile_reduced(void **state)
{
    (void)state;
    expect(BAD_NO_SCALE, "tensor lstm.0.w_ih is I8 and has no lstm.0.w_ih.scale");
    expect(BAD_SCALE_ON_F32, "lstm.0.w_ih.scale belongs to an I8 tensor");
    expect(BAD_EMBED_BF16, "tensor emb.pitch has dtype BF16, expected F32");
    expect(BAD_I8_MIN, "holds -128 at index 3");
    expect(BAD_SCALE_ZERO, "expected a finite positive scale");
    expect(BAD_SCALE_NAN, "expected a finite positive scale");
    expect(BAD_SCALE_SHAPE, "tensor lstm.0.w_ih.scale has a shape other than [16]");
    expect(BAD_DTYPE_F16, "tensor lstm.0.w_hh has dtype F16, expected F32, BF16 or I8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_hand_built_mixed_types_load),
        cmocka_unit_test(test_hostile_reduced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
