/* fuzz_session.c - structure-aware libFuzzer harness for sessions over valid but unusual models.
 * Mutating a real .mnet file rarely gives a file that loads with other sizes, so here the input
 * chooses the architecture (1..3 layers, tiny to small hidden and embedding sizes, with and
 * without positions, 1..12 durations) and the weights (raw floats up to 1e38, or small
 * integers), and the harness writes the file image itself. It must load (unless its weights
 * are so large that a step could overflow, which the loader refuses), and the session over it
 * must pass the checks of fuzz_model.h. */
#include "fuzz_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    char *p;
    size_t n, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    if (!t->p) {
        t->cap = 4096;
        t->p = malloc(t->cap);
        FUZZ_CHECK(t->p != NULL, "out of memory");
    }
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(t->p + t->n, t->cap - t->n, fmt, ap);
        va_end(ap);
        FUZZ_CHECK(k >= 0, "format failed");
        if ((size_t)k < t->cap - t->n) {
            t->n += (size_t)k;
            return;
        }
        t->cap = t->cap * 2 + (size_t)k + 64;
        t->p = realloc(t->p, t->cap);
        FUZZ_CHECK(t->p != NULL, "out of memory");
    }
}

static uint8_t next(const uint8_t **d, size_t *n)
{
    if (!*n) return 0;
    (*n)--;
    return *(*d)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t h = fuzz_hash(data, size);
    const uint8_t *d = data;
    size_t n = size;
    mn_model_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.n_layers = 1 + next(&d, &n) % 3;
    cfg.n_hidden = 1 + next(&d, &n) % 40;
    cfg.n_embed = 1 + next(&d, &n) % 12;
    cfg.n_pos = next(&d, &n) % 40;
    int n_dur = 1 + next(&d, &n) % 12, ticks = 0;
    for (int i = 0; i < n_dur; i++) {
        ticks += 1 + next(&d, &n) % 200;
        if (ticks > MN_MAX_DUR_TICKS) break;
        cfg.dur.ticks[cfg.dur.n++] = ticks;
    }
    int mode = next(&d, &n) % 3;
    char err[MN_ERR_LEN] = "";
    FUZZ_CHECK(mn_model_config_validate(&cfg, err) == MN_OK, "harness config: %s", err);

    /* weights: the rest of the input, repeated to fill */
    size_t n_params = mn_model_param_count(&cfg);
    float *w = malloc(n_params * sizeof *w + 1);
    FUZZ_CHECK(w != NULL, "out of memory");
    for (size_t i = 0; i < n_params; i++) {
        float v = 0.0f;
        if (n > 0) {
            if (mode == 0 && n >= 4) { /* raw floats, any finite value */
                uint32_t u = (uint32_t)d[(4 * i) % (n - n % 4)] |
                             (uint32_t)d[(4 * i + 1) % (n - n % 4)] << 8 |
                             (uint32_t)d[(4 * i + 2) % (n - n % 4)] << 16 |
                             (uint32_t)d[(4 * i + 3) % (n - n % 4)] << 24;
                memcpy(&v, &u, 4);
                if (!isfinite(v)) v = (u >> 31) ? -3e38f : 3e38f;
            } else { /* small values, as a trained model has */
                v = (float)(int8_t)d[i % n] / (mode == 1 ? 16.0f : 1.0f);
            }
        }
        w[i] = v;
    }

    /* the file image: 8-byte header length, JSON header, tensors in canonical order */
    text hd = {0};
    put(&hd, "{\"__metadata__\":{\"format\":\"%s\",\"version\":\"%d\",\"ticks_per_quarter\":\"%d\","
        "\"n_layers\":\"%d\",\"n_hidden\":\"%d\",\"n_embed\":\"%d\",\"n_pos\":\"%d\","
        "\"durations\":\"", MN_MODEL_FORMAT, MN_MODEL_VERSION, MN_TPQ, cfg.n_layers,
        cfg.n_hidden, cfg.n_embed, cfg.n_pos);
    for (int i = 0; i < cfg.dur.n; i++) put(&hd, i ? ",%d" : "%d", cfg.dur.ticks[i]);
    put(&hd, "\"}");
    int count = mn_model_tensor_info(&cfg, -1, NULL, NULL, NULL, NULL);
    for (int i = 0; i < count; i++) {
        char name[48];
        int shape[2], ndim;
        size_t off, next_off;
        mn_model_tensor_info(&cfg, i, name, shape, &ndim, &off);
        if (i + 1 < count) mn_model_tensor_info(&cfg, i + 1, NULL, NULL, NULL, &next_off);
        else next_off = n_params;
        put(&hd, ",\"%s\":{\"dtype\":\"F32\",\"shape\":", name);
        if (ndim == 2) put(&hd, "[%d,%d]", shape[0], shape[1]);
        else put(&hd, "[%d]", shape[0]);
        put(&hd, ",\"data_offsets\":[%zu,%zu]}", off * 4, next_off * 4);
    }
    put(&hd, "}");
    size_t len = 8 + hd.n + n_params * 4;
    uint8_t *img = malloc(len);
    FUZZ_CHECK(img != NULL, "out of memory");
    for (int i = 0; i < 8; i++) img[i] = (uint8_t)((uint64_t)hd.n >> (8 * i));
    memcpy(img + 8, hd.p, hd.n);
    memcpy(img + 8 + hd.n, w, n_params * 4); /* little-endian hosts only, like the fuzz build */

    mn_model *m = NULL;
    mn_status st = mn_model_load_memory(img, len, "built.mnet", &m, err);
    if (st != MN_OK && !(st == MN_ERR_FORMAT && strstr(err, "of the load check"))) {
        /* only weights whose products may overflow are refused: with every |weight| <= M, no
         * pre-activation or logit exceeds M * ((in0 + E) * M + 2 * H + 2) */
        double M = 0;
        for (size_t i = 0; i < n_params; i++) M = fmax(M, fabs(w[i]));
        double most = M * ((mn_model_input_size(&cfg) + cfg.n_embed) * M + 2.0 * cfg.n_hidden +
                           2);
        FUZZ_CHECK(st == MN_ERR_FORMAT && strstr(err, "weights too large") && most >= 1e30,
                   "a valid model with weights up to %g did not load: %s", M, err);
    }
    if (st != MN_OK) {
        /* a well-formed file whose weights would not play music (logits beyond the limit,
         * or pitch logits all equal, or products that could overflow) is refused by design */
        free(img);
        free(hd.p);
        free(w);
        return 0;
    }
    FUZZ_CHECK(st == MN_OK, "a valid model did not load: %s", err);
    check_config(m);
    FUZZ_CHECK(memcmp(mn_model_params(m), w, n_params * 4) == 0, "weights changed on load");
    run_session(m, h);
    mn_model_free(m);
    free(img);
    free(hd.p);
    free(w);
    return 0;
}
