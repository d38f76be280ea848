/* test_model.c - the model file: one named test per loader rule over the hostile fixtures
 * (tests/fixtures/hostile, made by tests/reference/make_hostile.py), each asserting the status,
 * that the message names the file and the fault, and that nothing leaks; plus the canonical
 * layout, save/load round trip, the in-place and copy paths, metadata and reference counting. */
#include "testutil.h"

#include "model.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>

#define HOSTILE_DIR "tests/fixtures/hostile/"

/* Live-block counting allocator: a failed load must free everything it allocated. */
static long live_blocks;
static void *live_malloc(size_t n, void *ctx) { (void)ctx; live_blocks++; return malloc(n); }
static void *live_realloc(void *p, size_t n, void *ctx)
{
    (void)ctx;
    if (!p) live_blocks++;
    return realloc(p, n);
}
static void live_free(void *p, void *ctx) { (void)ctx; live_blocks--; free(p); }
static const mn_allocator live_alloc = {live_malloc, live_realloc, live_free, NULL};

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Loads a hostile file from disk and from memory: both must fail with status and a message
 * that starts with the name given and contains each of the fragments. */
static void expect_refused(const char *file, mn_status want, const char *frag1, const char *frag2)
{
    char rel[256], path[1024], err[MN_ERR_LEN];
    snprintf(rel, sizeof rel, HOSTILE_DIR "%s", file);
    mn_test_path(path, sizeof path, rel);
    mn_set_allocator(&live_alloc);
    live_blocks = 0;
    mn_model *m = (mn_model *)&m; /* must be reset to NULL */
    memset(err, 0, sizeof err);
    mn_status st = mn_model_load(path, &m, err);
    long left = live_blocks;
    mn_set_allocator(NULL);
    printf("    %s: %s\n", file, err);
    assert_null(m);
    if (st != want) fail_msg("%s: status %s, expected %s (%s)", file, mn_status_name(st),
                             mn_status_name(want), err);
    assert_int_equal(left, 0);
    assert_memory_equal(err, path, strlen(path));
    if (!strstr(err, frag1)) fail_msg("%s: message '%s' lacks '%s'", file, err, frag1);
    if (frag2 && !strstr(err, frag2)) fail_msg("%s: message '%s' lacks '%s'", file, err, frag2);

    size_t len;
    unsigned char *buf = slurp(path, &len);
    /* an exactly sized copy, so that a read past the end is caught by ASan */
    unsigned char *exact = malloc(len ? len : 1);
    memcpy(exact, buf, len);
    mn_set_allocator(&live_alloc);
    live_blocks = 0;
    m = (mn_model *)&m;
    st = mn_model_load_memory(exact, len, file, &m, err);
    left = live_blocks;
    mn_set_allocator(NULL);
    assert_null(m);
    assert_int_equal(st, want);
    assert_int_equal(left, 0);
    assert_memory_equal(err, file, strlen(file));
    assert_non_null(strstr(err, frag1));
    free(exact);
    free(buf);
}

#define HOSTILE(rule, status, f1, f2)                                                              \
    static void test_hostile_##rule(void **state)                                                  \
    {                                                                                              \
        (void)state;                                                                               \
        expect_refused(#rule ".mnet", status, f1, f2);                                             \
    }

HOSTILE(empty_file, MN_ERR_FORMAT, "empty", NULL)
HOSTILE(truncated_header_len, MN_ERR_FORMAT, "truncated", NULL)
HOSTILE(truncated, MN_ERR_FORMAT, "past the end", "head.dur")
HOSTILE(header_len_past_end, MN_ERR_FORMAT, "header length", "past the end")
HOSTILE(header_too_large, MN_ERR_LIMIT, "header length", "limit")
HOSTILE(bad_json, MN_ERR_FORMAT, "bad header", "JSON")
HOSTILE(not_object, MN_ERR_FORMAT, "header is a JSON array", NULL)
HOSTILE(no_metadata, MN_ERR_FORMAT, "no __metadata__", NULL)
HOSTILE(wrong_format, MN_ERR_FORMAT, "format is \"safetensors\"", NULL)
HOSTILE(wrong_version, MN_ERR_FORMAT, "version is \"2\"", NULL)
HOSTILE(wrong_ticks_per_quarter, MN_ERR_FORMAT, "ticks_per_quarter", "480")
HOSTILE(huge_dims, MN_ERR_LIMIT, "n_hidden", "1..4096")
HOSTILE(zero_layers, MN_ERR_LIMIT, "n_layers", "\"0\"")
HOSTILE(bad_integer, MN_ERR_LIMIT, "n_embed", "2x")
HOSTILE(bad_durations, MN_ERR_FORMAT, "durations", "ascending")
HOSTILE(durations_garbage, MN_ERR_FORMAT, "durations", "comma-separated")
HOSTILE(missing_durations, MN_ERR_FORMAT, "no durations", NULL)
HOSTILE(meta_not_string, MN_ERR_FORMAT, "metadata n_pos is a number", NULL)
HOSTILE(too_many_meta, MN_ERR_LIMIT, "metadata entries", NULL)
HOSTILE(missing_tensor, MN_ERR_FORMAT, "missing tensor head.dur.b", NULL)
HOSTILE(extra_tensor, MN_ERR_FORMAT, "unknown tensor lstm.2.w_ih", NULL)
HOSTILE(duplicate_tensor, MN_ERR_FORMAT, "duplicate tensor head.dur.b", NULL)
HOSTILE(wrong_dtype, MN_ERR_FORMAT, "tensor emb.dur has dtype F16, expected F32", NULL)
HOSTILE(dtype_with_nul, MN_ERR_FORMAT, "tensor emb.dur has a dtype holding a NUL byte", NULL)
HOSTILE(wrong_shape, MN_ERR_FORMAT, "tensor emb.pitch has a shape other than [130, 2]", NULL)
HOSTILE(ndim_3, MN_ERR_FORMAT, "tensor lstm.0.w_ih has 3 dims, expected 2", NULL)
HOSTILE(dim_u64_max, MN_ERR_FORMAT, "tensor lstm.0.w_hh has a shape other than [16, 4]", NULL)
HOSTILE(offset_past_end, MN_ERR_FORMAT, "tensor head.dur.b data ends", "past the end")
HOSTILE(offset_u64_max, MN_ERR_FORMAT, "tensor head.dur.b data ends", "past the end")
HOSTILE(offsets_reversed, MN_ERR_FORMAT, "tensor emb.dur data_offsets begin after", NULL)
HOSTILE(size_mismatch, MN_ERR_FORMAT, "tensor emb.pos holds 28 bytes, its shape needs 32", NULL)
HOSTILE(offsets_not_integers, MN_ERR_FORMAT, "tensor emb.pos has no data_offsets", NULL)
HOSTILE(overlapping_offsets, MN_ERR_FORMAT, "tensors emb.pitch and emb.dur overlap", NULL)
HOSTILE(nan_weight, MN_ERR_FORMAT, "tensor lstm.1.w_hh has a non-finite value (nan) at index 5",
        NULL)
HOSTILE(inf_weight, MN_ERR_FORMAT, "tensor head.pitch.b has a non-finite value (inf) at index 128",
        NULL)
HOSTILE(trailing_bytes, MN_ERR_FORMAT, "64 bytes after the last tensor", NULL)
HOSTILE(data_gap, MN_ERR_FORMAT, "tensor emb.dur starts at byte 1044", "expected 1040")
HOSTILE(header_len_short, MN_ERR_FORMAT, "1 bytes after the last tensor", NULL)
HOSTILE(leading_zero_integer, MN_ERR_LIMIT, "n_hidden is \"04\"", NULL)
HOSTILE(leading_zero_duration, MN_ERR_FORMAT, "durations", "leading zero")
HOSTILE(invalid_utf8, MN_ERR_FORMAT, "bad header", "invalid UTF-8")
HOSTILE(huge_weights, MN_ERR_FORMAT, "pitch logit of inf at step 1", NULL)
HOSTILE(pitch_bias_minus_1e30, MN_ERR_FORMAT, "pitch logit of -1e+30", NULL)
HOSTILE(bad_checksum, MN_ERR_FORMAT, "does not match its checksum", "damaged")
HOSTILE(checksum_not_hex, MN_ERR_FORMAT, "data_fnv1a64", "16 lowercase hex digits")

static const char *const covered[] = {
    "empty_file", "truncated_header_len", "truncated", "header_len_past_end", "header_too_large",
    "bad_json", "not_object", "no_metadata", "wrong_format", "wrong_version",
    "wrong_ticks_per_quarter", "huge_dims", "zero_layers", "bad_integer", "bad_durations",
    "durations_garbage", "missing_durations", "meta_not_string", "too_many_meta",
    "missing_tensor", "extra_tensor", "duplicate_tensor", "wrong_dtype", "dtype_with_nul", "wrong_shape", "ndim_3",
    "dim_u64_max", "offset_past_end", "offset_u64_max", "offsets_reversed", "size_mismatch",
    "offsets_not_integers", "overlapping_offsets", "nan_weight", "inf_weight", "ok_base",
    "ok_unaligned", "ok_shuffled", "trailing_bytes", "data_gap", "header_len_short",
    "leading_zero_integer", "leading_zero_duration", "invalid_utf8", "huge_weights",
    "pitch_bias_minus_1e30", "bad_checksum", "checksum_not_hex", "ok_checksum", "ok_escapes",
};

/* Every fixture in the folder has a test here, so a new rule cannot go unchecked. */
static void test_every_fixture_is_covered(void **state)
{
    (void)state;
    char path[1024];
    DIR *d = opendir(mn_test_path(path, sizeof path, HOSTILE_DIR));
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".mnet") != 0) continue;
        int found = 0;
        for (size_t i = 0; i < sizeof covered / sizeof *covered; i++)
            found |= strlen(covered[i]) == len - 5 && !strncmp(covered[i], e->d_name, len - 5);
        if (!found) fail_msg("%s has no test", e->d_name);
        n++;
    }
    closedir(d);
    assert_int_equal(n, (int)(sizeof covered / sizeof *covered));
}

static mn_model *load_ok(const char *rel)
{
    char path[1024], err[MN_ERR_LEN];
    mn_model *m = NULL;
    mn_status st = mn_model_load(mn_test_path(path, sizeof path, rel), &m, err);
    if (st != MN_OK) fail_msg("%s", err);
    assert_non_null(m);
    return m;
}

/* The valid tiny model loads, in place and through both copy paths, to the same parameters. */
static void test_ok_variants_agree(void **state)
{
    (void)state;
    mn_model *a = load_ok(HOSTILE_DIR "ok_base.mnet");
    mn_model *b = load_ok(HOSTILE_DIR "ok_unaligned.mnet");
    mn_model *c = load_ok(HOSTILE_DIR "ok_shuffled.mnet");
    const mn_model_config *cfg = mn_model_cfg(a);
    assert_int_equal(cfg->n_layers, 2);
    assert_int_equal(cfg->n_hidden, 4);
    assert_int_equal(cfg->n_embed, 2);
    assert_int_equal(cfg->n_pos, 4);
    assert_int_equal(cfg->dur.n, 3);
    assert_int_equal(cfg->dur.ticks[2], 24);
    size_t n = mn_model_n_params(a);
    assert_int_equal(n, mn_model_param_count(cfg));
    assert_int_equal(mn_model_n_params(b), n);
    assert_int_equal(mn_model_n_params(c), n);
    assert_memory_equal(mn_model_params(a), mn_model_params(b), n * sizeof(float));
    assert_memory_equal(mn_model_params(a), mn_model_params(c), n * sizeof(float));
    /* the aligned file is used in place: params point into the mapping, 64 bytes in */
    assert_int_equal((uintptr_t)mn_model_params(a) % 64, 0);
    assert_int_equal((uintptr_t)mn_model_params(b) % 4, 0);
    const mn_weights *w = mn_model_weights(c);
    assert_ptr_equal(w->emb_pitch, mn_model_params(c));
    assert_ptr_equal(w->head_dur_b + 3, mn_model_params(c) + n);
    assert_string_equal(mn_model_meta(a, "name"), "hostile base");
    mn_model_free(a);
    mn_model_free(b);
    mn_model_free(c);
}

static void test_canonical_layout(void **state)
{
    (void)state;
    mn_model_config cfg = {2, 5, 3, 7, {4, {6, 12, 24, 48}}};
    assert_int_equal(mn_model_config_validate(&cfg, NULL), MN_OK);
    assert_int_equal(mn_model_input_size(&cfg), 9);
    char name[48];
    int shape[2], ndim;
    size_t off;
    int count = mn_model_tensor_info(&cfg, -1, name, shape, &ndim, &off);
    assert_int_equal(count, 3 + 8 + 4);
    size_t expect = 0;
    static const char *names[] = {"emb.pitch", "emb.dur", "emb.pos", "lstm.0.w_ih", "lstm.0.w_hh",
                                  "lstm.0.b_ih", "lstm.0.b_hh", "lstm.1.w_ih", "lstm.1.w_hh",
                                  "lstm.1.b_ih", "lstm.1.b_hh", "head.pitch.w", "head.pitch.b",
                                  "head.dur.w", "head.dur.b"};
    static const int shapes[][3] = {{2, 130, 3}, {2, 5, 3}, {2, 7, 3}, {2, 20, 9}, {2, 20, 5},
                                    {1, 20, 0}, {1, 20, 0}, {2, 20, 5}, {2, 20, 5}, {1, 20, 0},
                                    {1, 20, 0}, {2, 129, 5}, {1, 129, 0}, {2, 4, 8}, {1, 4, 0}};
    for (int i = 0; i < count; i++) {
        assert_int_equal(mn_model_tensor_info(&cfg, i, name, shape, &ndim, &off), count);
        assert_string_equal(name, names[i]);
        assert_int_equal(ndim, shapes[i][0]);
        assert_int_equal(shape[0], shapes[i][1]);
        if (ndim == 2) assert_int_equal(shape[1], shapes[i][2]);
        assert_int_equal(off, expect);
        expect += (size_t)shape[0] * (size_t)(ndim == 2 ? shape[1] : 1);
    }
    assert_int_equal(mn_model_param_count(&cfg), expect);

    float *p = calloc(expect, sizeof *p);
    mn_weights w;
    mn_weights_point(&cfg, p, &w);
    assert_ptr_equal(w.emb_pitch, p);
    assert_ptr_equal(w.emb_dur, p + 390);
    assert_ptr_equal(w.emb_pos, p + 390 + 15);
    assert_ptr_equal(w.lstm[0].w_ih, p + 390 + 15 + 21);
    assert_ptr_equal(w.head_dur_b, p + expect - 4);
    cfg.n_pos = 0;
    assert_int_equal(mn_model_input_size(&cfg), 6);
    mn_weights_point(&cfg, p, &w);
    assert_null(w.emb_pos);
    assert_ptr_equal(w.lstm[0].w_ih, p + 390 + 15);
    free(p);

    cfg.n_hidden = MN_MAX_HIDDEN + 1;
    assert_int_not_equal(mn_model_config_validate(&cfg, NULL), MN_OK);
    assert_int_equal(mn_model_param_count(&cfg), 0);
    cfg.n_hidden = 5;
    cfg.dur.ticks[2] = 6;
    assert_int_not_equal(mn_model_config_validate(&cfg, NULL), MN_OK);
}

static void test_save_load_round_trip(void **state)
{
    (void)state;
    mn_model_config cfg = {1, 3, 2, 0, {2, {12, 24}}};
    size_t n = mn_model_param_count(&cfg);
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = (float)((int)(i * 7919 % 201) - 100) / 37.0f;
    const char *const meta[][2] = {{"name", "tiny \"quoted\" \\ tab\t"},
                                   {"train_data", "Nottingham, ONNE"},
                                   {"format", "ignored: the writer sets it"},
                                   {"unicode", "\xc3\xa9t\xc3\xa9"},
                                   {"controls", "del\x7f c1\xc2\x85 nbsp\xc2\xa0"}};
    char path[256], err[MN_ERR_LEN];
    mn_test_tmpfile(path, sizeof path, ".mnet");
    mn_set_allocator(&live_alloc);
    live_blocks = 0;
    mn_status st = mn_model_save(path, &cfg, p, meta, 5, err);
    long left = live_blocks;
    mn_set_allocator(NULL);
    if (st != MN_OK) fail_msg("%s", err);
    assert_int_equal(left, 0);

    mn_model *m = NULL;
    assert_int_equal(mn_model_load(path, &m, err), MN_OK);
    assert_string_equal(mn_model_path(m), path);
    assert_int_equal(mn_model_n_params(m), n);
    assert_memory_equal(mn_model_params(m), p, n * sizeof *p);
    /* data section 64-byte aligned and used in place */
    assert_int_equal((uintptr_t)mn_model_params(m) % 64, 0);
    assert_int_equal(mn_model_file_size(m) % 4, 0);
    assert_int_equal(mn_model_file_size(m), (mn_model_file_size(m) - n * 4 + 63) / 64 * 64 + n * 4);
    assert_string_equal(mn_model_meta(m, "name"), meta[0][1]);
    assert_string_equal(mn_model_meta(m, "train_data"), meta[1][1]);
    assert_string_equal(mn_model_meta(m, "unicode"), meta[3][1]);
    assert_string_equal(mn_model_meta(m, "controls"), meta[4][1]);
    assert_string_equal(mn_model_meta(m, "format"), "melodynet");
    assert_string_equal(mn_model_meta(m, "durations"), "12,24");
    assert_string_equal(mn_model_meta(m, "n_pos"), "0");
    assert_null(mn_model_meta(m, "absent"));
    assert_int_equal(mn_model_meta_count(m), 9 + 4);
    /* the writer's checksum: FNV-1a 64 of the data section, as written */
    char want[17];
    snprintf(want, sizeof want, "%016llx",
             (unsigned long long)mn_fnv1a64(MN_FNV1A64_INIT, p, n * sizeof *p));
    assert_string_equal(mn_model_meta(m, MN_MODEL_CHECKSUM_KEY), want);
    int seen_name = 0;
    for (size_t i = 0; i < mn_model_meta_count(m); i++) {
        const char *k, *v;
        mn_model_meta_at(m, i, &k, &v);
        assert_non_null(k);
        assert_non_null(v);
        seen_name |= !strcmp(k, "name") && !strcmp(v, meta[0][1]);
    }
    assert_true(seen_name);
    const char *k = "x", *v = "y";
    mn_model_meta_at(m, 99, &k, &v);
    assert_null(k);
    assert_null(v);
    assert_null(mn_model_weights(m)->emb_pos);
    mn_model_free(m);

    /* the same bytes from memory */
    size_t len;
    unsigned char *buf = slurp(path, &len);
    /* the header escapes controls as every JSON writer does (DEL and C1 too), not raw */
    const char esc[] = "\"del\\u007f c1\\u0085 nbsp\xc2\xa0\"";
    assert_non_null(memmem(buf, len, esc, strlen(esc)));
    assert_int_equal(mn_model_load_memory(buf, len, "mem.mnet", &m, err), MN_OK);
    free(buf); /* the model holds its own copy */
    assert_memory_equal(mn_model_params(m), p, n * sizeof *p);
    assert_string_equal(mn_model_path(m), "mem.mnet");
    mn_model_free(m);

    /* a non-finite parameter is refused and the old file stays */
    p[5] = NAN;
    assert_int_equal(mn_model_save(path, &cfg, p, NULL, 0, err), MN_ERR_ARG);
    assert_non_null(strstr(err, "non-finite"));
    assert_int_equal(mn_model_load(path, &m, err), MN_OK);
    mn_model_free(m);
    unlink(path);
    free(p);
}

/* Weights whose products can overflow a float are refused: an LSTM weight of 3e38, a pitch
 * bias of -1e30, a duration head weight times a pitch embedding of 1e20 each. Large but harmless
 * weights still load. */
static void test_weights_too_large_refused(void **state)
{
    (void)state;
    mn_model_config cfg = {1, 3, 2, 0, {2, {12, 24}}};
    size_t n = mn_model_param_count(&cfg);
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = (float)((int)(i * 7919 % 201) - 100) / 37.0f;
    mn_weights w;
    mn_weights_point(&cfg, p, &w);
    size_t hh = (size_t)(w.lstm[0].w_hh - p), pb = (size_t)(w.head_pitch_b - p);
    size_t dw = (size_t)(w.head_dur_w - p) + 3, ep = (size_t)(w.emb_pitch - p) + 2 * 5;
    char path[256], err[MN_ERR_LEN];
    mn_test_tmpfile(path, sizeof path, ".mnet");
    static const struct {
        float v1, v2;
        const char *where;
    } cases[] = {{3e38f, 0, "an LSTM layer"}, {0, -1e30f, "head.pitch"}, {0, 0, "head.dur"}};
    for (int c = 0; c < 4; c++) {
        float *q = malloc(n * sizeof *q);
        memcpy(q, p, n * sizeof *q);
        if (c == 0) q[hh] = cases[c].v1;
        if (c == 1) q[pb] = cases[c].v2;
        if (c == 2) q[dw] = 1e20f, q[ep] = 1e20f; /* input H of head.dur: emb.pitch column 0 */
        if (c == 3) q[hh] = 1e3f, q[pb] = -1e4f, q[dw] = 1e3f, q[ep] = 1e3f;
        assert_int_equal(mn_model_save(path, &cfg, q, NULL, 0, err), MN_OK);
        mn_model *m = NULL;
        mn_status st = mn_model_load(path, &m, err);
        if (c < 3) {
            assert_int_equal(st, MN_ERR_FORMAT);
            assert_null(m);
            /* a pitch bias of -1e30 and a 1e20 duration input already fail the load check,
             * which runs first and names the logit; the bound check refuses the 3e38 recurrent
             * weight, which saturated gates hide from the load check's steps */
            int by_check = (c == 1 && strstr(err, "pitch logit of -1e+30 at step 1 of the load "
                                                  "check")) ||
                           (c == 2 && strstr(err, "duration logit of") &&
                            strstr(err, "of the load check"));
            if (!by_check && (!strstr(err, "weights too large") || !strstr(err, cases[c].where)))
                fail_msg("case %d: %s", c, err);
            assert_non_null(strstr(err, path));
        } else {
            if (st != MN_OK) fail_msg("harmless large weights refused: %s", err);
            mn_model_free(m);
        }
        free(q);
    }
    unlink(path);
    free(p);
}

static void test_save_errors(void **state)
{
    (void)state;
    mn_model_config cfg = {1, 3, 2, 0, {2, {12, 24}}};
    float p[1024] = {0};
    char err[MN_ERR_LEN];
    assert_int_equal(mn_model_save("/nonexistent-dir/x.mnet", &cfg, p, NULL, 0, err), MN_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent-dir/x.mnet"));
    cfg.n_layers = 0;
    assert_int_equal(mn_model_save("/tmp/x.mnet", &cfg, p, NULL, 0, err), MN_ERR_ARG);
    assert_non_null(strstr(err, "n_layers"));
}

static void test_load_missing_file(void **state)
{
    (void)state;
    char err[MN_ERR_LEN];
    mn_model *m = (mn_model *)&m;
    assert_int_equal(mn_model_load("/nonexistent/none.mnet", &m, err), MN_ERR_IO);
    assert_null(m);
    assert_non_null(strstr(err, "/nonexistent/none.mnet"));
    assert_int_equal(mn_model_load("/tmp", &m, err), MN_ERR_IO);
    assert_null(m);
}

static void *retain_release(void *arg)
{
    mn_model *m = arg;
    for (int i = 0; i < 10000; i++) mn_model_free(mn_model_retain(m));
    return NULL;
}

static void test_refcount(void **state)
{
    (void)state;
    mn_set_allocator(&live_alloc);
    live_blocks = 0;
    mn_model *m = load_ok(HOSTILE_DIR "ok_shuffled.mnet");
    assert_true(live_blocks > 0);
    assert_ptr_equal(mn_model_retain(m), m);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, retain_release, m);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    mn_model_free(m);
    assert_true(live_blocks > 0); /* one reference left */
    assert_int_equal(mn_model_cfg(m)->n_hidden, 4);
    mn_model_free(m);
    assert_int_equal(live_blocks, 0);
    mn_set_allocator(NULL);
    mn_model_free(NULL);
    assert_null(mn_model_retain(NULL));
}

/* Every prefix of a valid file is refused cleanly (no crash, no read past the end). */
static void test_every_truncation_refused(void **state)
{
    (void)state;
    char path[1024], err[MN_ERR_LEN];
    size_t len;
    unsigned char *buf = slurp(mn_test_path(path, sizeof path, HOSTILE_DIR "ok_base.mnet"), &len);
    for (size_t k = 0; k < len; k += (k < 600 ? 1 : 97)) {
        unsigned char *b = malloc(k ? k : 1);
        memcpy(b, buf, k);
        mn_model *m = NULL;
        mn_status st = mn_model_load_memory(b, k, "cut.mnet", &m, err);
        if (st == MN_OK) fail_msg("prefix of %zu bytes loaded", k);
        assert_null(m);
        free(b);
    }
    mn_model *m = NULL;
    assert_int_equal(mn_model_load_memory(buf, len, "whole.mnet", &m, err), MN_OK);
    mn_model_free(m);
    free(buf);
}

/* Deterministic byte mutations of a valid file (mostly in the header, where the parser and
 * validator live): each load either succeeds or fails with a message, never crashes, reads
 * nothing past the buffer (ASan) and leaks nothing. */
static void test_random_mutations(void **state)
{
    (void)state;
    char path[1024], err[MN_ERR_LEN];
    size_t len;
    unsigned char *buf = slurp(mn_test_path(path, sizeof path, HOSTILE_DIR "ok_base.mnet"), &len);
    size_t hlen = (size_t)buf[0] | (size_t)buf[1] << 8;
    uint64_t x = 0x9E3779B97F4A7C15u;
    int n_ok = 0, n_bad = 0;
    for (int round = 0; round < 3000; round++) {
        unsigned char *b = malloc(len);
        memcpy(b, buf, len);
        int flips = 1 + round % 3;
        for (int f = 0; f < flips; f++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t at = (x >> 8) % (round % 10 == 0 ? len : 8 + hlen);
            static const unsigned char vals[] = {'"', ',', '[', ']', '{', '}', ':', '0', '9',
                                                 '-', '\\', ' ', 0, 0xff};
            b[at] = round % 2 ? (unsigned char)(x >> 40) : vals[(x >> 32) % sizeof vals];
        }
        mn_model *m = NULL;
        err[0] = '\0';
        mn_set_allocator(&live_alloc);
        live_blocks = 0;
        mn_status st = mn_model_load_memory(b, len, "mut.mnet", &m, err);
        if (st == MN_OK) {
            n_ok++;
            assert_non_null(m);
            mn_model_free(m);
        } else {
            n_bad++;
            assert_null(m);
            assert_true(strncmp(err, "mut.mnet: ", 10) == 0);
        }
        assert_int_equal(live_blocks, 0);
        mn_set_allocator(NULL);
        free(b);
    }
    printf("    %d mutants loaded, %d refused\n", n_ok, n_bad);
    assert_true(n_bad > 1000);
    free(buf);
}

/* Largest single allocation, to see that a refused file was not read whole. */
static size_t max_alloc;
static void *max_malloc(size_t n, void *ctx)
{
    (void)ctx;
    if (n > max_alloc) max_alloc = n;
    return malloc(n);
}
static void *max_realloc(void *p, size_t n, void *ctx)
{
    (void)ctx;
    if (n > max_alloc) max_alloc = n;
    return realloc(p, n);
}
static const mn_allocator max_alloc_hook = {max_malloc, max_realloc, live_free, NULL};

/* A valid model followed by a sparse 1 GB tail is refused from its header, without reading
 * (or allocating room for) the tail. */
static void test_huge_tail_refused_before_reading(void **state)
{
    (void)state;
    char src[1024], path[64], err[MN_ERR_LEN];
    size_t len;
    unsigned char *buf = slurp(mn_test_path(src, sizeof src, HOSTILE_DIR "ok_base.mnet"), &len);
    mn_test_tmpfile(path, sizeof path, ".mnet");
    assert_int_equal(mn_test_write(path, buf, len), 0);
    free(buf);
    assert_int_equal(truncate(path, (off_t)len + (1 << 30)), 0);
    mn_model *m = (mn_model *)&m;
    max_alloc = 0;
    mn_set_allocator(&max_alloc_hook);
    mn_status st = mn_model_load(path, &m, err);
    mn_set_allocator(NULL);
    printf("    %s (largest allocation %zu bytes)\n", err, max_alloc);
    assert_int_equal(st, MN_ERR_FORMAT);
    assert_null(m);
    assert_non_null(strstr(err, "1073741824 bytes after the last tensor"));
    assert_true(max_alloc < (1 << 20));
    unlink(path);
}

/* The load check: a model whose pitch logits are all equal whatever is played (all-zero
 * weights: uniform pitches) is refused; the same model with one pitch bias set plays. The
 * bundled model (which has no checksum) and the reference model load. */
static void test_load_check_refuses_uniform_pitches(void **state)
{
    (void)state;
    mn_model_config cfg = {1, 4, 2, 4, {2, {12, 24}}};
    size_t n = mn_model_param_count(&cfg);
    float *p = calloc(n, sizeof *p);
    char path[64], err[MN_ERR_LEN];
    mn_test_tmpfile(path, sizeof path, ".mnet");
    assert_int_equal(mn_model_save(path, &cfg, p, NULL, 0, err), MN_OK);
    mn_model *m = (mn_model *)&m;
    assert_int_equal(mn_model_load(path, &m, err), MN_ERR_FORMAT);
    printf("    %s\n", err);
    assert_null(m);
    assert_non_null(strstr(err, "pitch logits are all equal at every step"));
    size_t off;
    char name[48];
    int shape[2], nd, count = mn_model_tensor_info(&cfg, -1, name, shape, &nd, &off);
    for (int i = 0; i < count; i++) {
        mn_model_tensor_info(&cfg, i, name, shape, &nd, &off);
        if (!strcmp(name, "head.pitch.b")) p[off + 60] = 1.0f;
    }
    assert_int_equal(mn_model_save(path, &cfg, p, NULL, 0, err), MN_OK);
    assert_int_equal(mn_model_load(path, &m, err), MN_OK);
    mn_model_free(m);
    unlink(path);
    free(p);

    char rel[1024];
    assert_int_equal(mn_model_load(mn_test_path(rel, sizeof rel, "models/default.mnet"), &m, err),
                     MN_OK);
    assert_null(mn_model_meta(m, MN_MODEL_CHECKSUM_KEY));
    mn_model_free(m);
    assert_int_equal(mn_model_load(mn_test_path(rel, sizeof rel, "tests/fixtures/ref/small.mnet"),
                                   &m, err), MN_OK);
    mn_model_free(m);
    m = load_ok(HOSTILE_DIR "ok_checksum.mnet");
    assert_non_null(mn_model_meta(m, MN_MODEL_CHECKSUM_KEY));
    mn_model_free(m);
    m = load_ok(HOSTILE_DIR "ok_escapes.mnet");
    assert_non_null(strchr(mn_model_meta(m, "name"), 0x1b));
    mn_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_empty_file),
        cmocka_unit_test(test_hostile_truncated_header_len),
        cmocka_unit_test(test_hostile_truncated),
        cmocka_unit_test(test_hostile_header_len_past_end),
        cmocka_unit_test(test_hostile_header_too_large),
        cmocka_unit_test(test_hostile_bad_json),
        cmocka_unit_test(test_hostile_not_object),
        cmocka_unit_test(test_hostile_no_metadata),
        cmocka_unit_test(test_hostile_wrong_format),
        cmocka_unit_test(test_hostile_wrong_version),
        cmocka_unit_test(test_hostile_wrong_ticks_per_quarter),
        cmocka_unit_test(test_hostile_huge_dims),
        cmocka_unit_test(test_hostile_zero_layers),
        cmocka_unit_test(test_hostile_bad_integer),
        cmocka_unit_test(test_hostile_bad_durations),
        cmocka_unit_test(test_hostile_durations_garbage),
        cmocka_unit_test(test_hostile_missing_durations),
        cmocka_unit_test(test_hostile_meta_not_string),
        cmocka_unit_test(test_hostile_too_many_meta),
        cmocka_unit_test(test_hostile_missing_tensor),
        cmocka_unit_test(test_hostile_extra_tensor),
        cmocka_unit_test(test_hostile_duplicate_tensor),
        cmocka_unit_test(test_hostile_wrong_dtype),
        cmocka_unit_test(test_hostile_dtype_with_nul),
        cmocka_unit_test(test_hostile_wrong_shape),
        cmocka_unit_test(test_hostile_ndim_3),
        cmocka_unit_test(test_hostile_dim_u64_max),
        cmocka_unit_test(test_hostile_offset_past_end),
        cmocka_unit_test(test_hostile_offset_u64_max),
        cmocka_unit_test(test_hostile_offsets_reversed),
        cmocka_unit_test(test_hostile_size_mismatch),
        cmocka_unit_test(test_hostile_offsets_not_integers),
        cmocka_unit_test(test_hostile_overlapping_offsets),
        cmocka_unit_test(test_hostile_nan_weight),
        cmocka_unit_test(test_hostile_inf_weight),
        cmocka_unit_test(test_hostile_trailing_bytes),
        cmocka_unit_test(test_hostile_data_gap),
        cmocka_unit_test(test_hostile_header_len_short),
        cmocka_unit_test(test_hostile_leading_zero_integer),
        cmocka_unit_test(test_hostile_leading_zero_duration),
        cmocka_unit_test(test_hostile_invalid_utf8),
        cmocka_unit_test(test_hostile_huge_weights),
        cmocka_unit_test(test_hostile_pitch_bias_minus_1e30),
        cmocka_unit_test(test_hostile_bad_checksum),
        cmocka_unit_test(test_hostile_checksum_not_hex),
        cmocka_unit_test(test_every_fixture_is_covered),
        cmocka_unit_test(test_ok_variants_agree),
        cmocka_unit_test(test_canonical_layout),
        cmocka_unit_test(test_save_load_round_trip),
        cmocka_unit_test(test_weights_too_large_refused),
        cmocka_unit_test(test_save_errors),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_every_truncation_refused),
        cmocka_unit_test(test_random_mutations),
        cmocka_unit_test(test_huge_tail_refused_before_reading),
        cmocka_unit_test(test_load_check_refuses_uniform_pitches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
