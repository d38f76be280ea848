/* cmd_bench.c - `melodynet bench`: the latency of one generation step (median and p99 over many
 * steps) beside the memory-bandwidth lower bounds measured in the same run: the time to read the
 * weights one step touches, once, at the rate this machine streams them from cache (the weights
 * read over and over: hot) and from DRAM (a buffer larger than the last-level cache). --cold
 * reads such a buffer between steps, so each step finds its weights evicted, as a bang does
 * after the audio thread has run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "cli.h"
#include "matvec.h"
#include "model.h"
#include "session.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Bytes of weights one sampling step reads: every LSTM matrix and bias and both heads (the
 * embeddings contribute a few rows only). */
static size_t step_bytes(const mn_model_config *c)
{
    size_t H = (size_t)c->n_hidden, E = (size_t)c->n_embed, in0 = (size_t)mn_model_input_size(c);
    size_t n = 0;
    for (int l = 0; l < c->n_layers; l++) n += 4 * H * ((l ? H : in0) + H + 2);
    n += MN_N_PITCH * (H + 1) + (size_t)c->dur.n * (H + E + 1) + 3 * E;
    return n * sizeof(float);
}


/* Bytes of weights one step reads as the model stores them (bf16 and int8 matrices are
 * smaller), counted like step_bytes. */
static size_t stored_bytes(const mn_model *m)
{
    const mn_model_config *c = mn_model_cfg(m);
    const mn_step_mats *mt = mn_model_step_mats(m);
    size_t H = (size_t)c->n_hidden, E = (size_t)c->n_embed;
    size_t n = 0;
    const mn_mat *all[2 * MN_MAX_LAYERS + 2];
    size_t rows[2 * MN_MAX_LAYERS + 2], k = 0;
    for (int l = 0; l < c->n_layers; l++) {
        all[k] = &mt->lstm[l].w_ih, rows[k++] = 4 * H;
        all[k] = &mt->lstm[l].w_hh, rows[k++] = 4 * H;
    }
    all[k] = &mt->head_pitch_w, rows[k++] = MN_N_PITCH;
    all[k] = &mt->head_dur_w, rows[k++] = (size_t)c->dur.n;
    for (size_t i = 0; i < k; i++) {
        size_t es = all[i]->type == MN_WEIGHTS_BF16 ? 2 : all[i]->type == MN_WEIGHTS_I8 ? 1 : 4;
        n += rows[i] * (size_t)all[i]->cols * es + (all[i]->scale ? rows[i] * 4 : 0);
    }
    /* biases and the embedding rows a step reads stay f32 */
    n += 4 * (2 * (size_t)c->n_layers * 4 * H + MN_N_PITCH + (size_t)c->dur.n + 3 * E);
    return n;
}

int mn_cmd_bench(int argc, char **argv)
{
    const char *model_path = NULL;
    long steps = 5000;
    int json = 0, cold = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: melodynet bench [-m MODEL] [--steps N] [--cold] [--json]\n\n"
                   "Times N generation steps (sample one event and feed it back) of a model with\n"
                   "its weights warm in cache, one thread, and prints the median and p99 step time\n"
                   "next to the memory-bandwidth lower bounds measured in the same run (weights\n"
                   "read from cache, and from DRAM). --cold evicts the weights before each step by\n"
                   "reading a buffer larger than the cache. A benchmark: figures vary between runs\n"
                   "and machines; compare ratios.\n");
            return 0;
        } else if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && v) {
            model_path = v;
            i++;
        } else if (!strcmp(a, "--steps") && v) {
            if (mn_cli_int("bench", a, v, 100, 100000000, &steps)) return 2;
            i++;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--cold")) {
            cold = 1;
        } else {
            fprintf(stderr, "melodynet bench: unknown or incomplete option '%s'\n", a);
            return 2;
        }
    }
    char buf[4096], err[MN_ERR_LEN];
    if (!model_path && !(model_path = mn_cli_default_model(buf, sizeof buf))) {
        fprintf(stderr, "melodynet bench: no model given (-m) and no bundled model found\n");
        return 1;
    }
    mn_model *m;
    mn_session *s;
    if (mn_model_load(model_path, &m, err)) {
        fprintf(stderr, "melodynet bench: %s\n", err);
        return 1;
    }
    if (mn_session_new(m, 1, &s, err)) {
        fprintf(stderr, "melodynet bench: %s\n", err);
        mn_model_free(m);
        return 1;
    }
    double *t = malloc((size_t)steps * sizeof *t);
    if (!t) {
        fprintf(stderr, "melodynet bench: out of memory\n");
        mn_session_free(s);
        mn_model_free(m);
        return 1;
    }
    /* a buffer four times a large last-level cache: reading it evicts the weights, and the
     * best rate over it is the DRAM read rate */
    size_t n_evict = (size_t)128 << 20 >> 2;
    float *evict = cold ? malloc(n_evict * sizeof *evict) : NULL;
    if (cold && !evict) {
        fprintf(stderr, "melodynet bench: out of memory\n");
        free(t);
        mn_session_free(s);
        mn_model_free(m);
        return 1;
    }
    for (size_t i = 0; evict && i < n_evict; i++) evict[i] = (float)(i & 7);
    volatile float sink = 0;
    if (cold && steps > 500) steps = 500; /* each cold step costs a read of the whole buffer */
    mn_event e;
    for (int i = 0; i < 500; i++) mn_session_sample(s, &e); /* warm caches and branch predictors */
    for (long i = 0; i < steps; i++) {
        if (i % 256 == 0) mn_session_reset(s); /* keep the melody state in a typical range */
        if (evict) sink += cblas_sasum((int)n_evict, evict, 1);
        double t0 = now_us();
        mn_session_sample(s, &e);
        t[i] = now_us() - t0;
    }
    qsort(t, (size_t)steps, sizeof *t, cmp_double);
    double median = t[steps / 2], p99 = t[(size_t)(steps * 0.99)];

    /* memory bounds: best of many passes over the weights a step reads (hot), and over the
     * large buffer (DRAM) */
    const mn_model_config *c = mn_model_cfg(m);
    size_t bytes = step_bytes(c);
    size_t nf = mn_model_n_params(m) < bytes / 4 ? mn_model_n_params(m) : bytes / 4;
    const float *p = mn_model_params(m);
    double best = INFINITY;
    for (int r = 0; r < 200; r++) {
        double t0 = now_us();
        sink += cblas_sasum((int)nf, p, 1); /* OpenBLAS's SIMD read loop */
        double dt = now_us() - t0;
        if (dt < best) best = dt;
    }
    double bound = best * ((double)bytes / (nf * 4.0));
    double gbs = bytes / (bound * 1e3);
    double dram_gbs = 0, dram_bound = 0;
    if (evict) {
        double b = INFINITY;
        for (int r = 0; r < 5; r++) {
            double t0 = now_us();
            sink += cblas_sasum((int)n_evict, evict, 1);
            double dt = now_us() - t0;
            if (dt < b) b = dt;
        }
        dram_gbs = n_evict * 4.0 / (b * 1e3);
        dram_bound = bytes / (dram_gbs * 1e3);
    }
    (void)sink;
    free(evict);
    if (json) {
        mn_wtype wt = mn_model_wtype(m);
        printf("{\"model\":\"%s\",\"layers\":%d,\"hidden\":%d,\"params\":%zu,\"cold\":%s,"
               "\"weights\":\"%s\",\"kernel\":\"%s\",\"steps\":%ld,\"median_us\":%.3f,"
               "\"p99_us\":%.3f,\"step_bytes\":%zu,\"stored_bytes\":%zu,\"bound_us\":%.3f,"
               "\"bandwidth_gb_s\":%.2f,\"median_over_bound\":%.3f,\"p99_over_median\":%.3f",
               model_path, c->n_layers, c->n_hidden, mn_model_n_params(m), cold ? "true" : "false",
               wt == MN_WEIGHTS_BF16 ? "bf16" : wt == MN_WEIGHTS_I8 ? "int8" : "f32",
               mn_matvec_name(mn_matvec_current()), steps, median, p99, bytes, stored_bytes(m),
               bound, gbs, median / bound, p99 / median);
        if (cold)
            printf(",\"dram_gb_s\":%.2f,\"dram_bound_us\":%.3f,\"median_over_dram_bound\":%.3f",
                   dram_gbs, dram_bound, median / dram_bound);
        printf("}\n");
    } else {
        printf("model          %s (%d x %d, %zu params)\n", model_path, c->n_layers, c->n_hidden,
               mn_model_n_params(m));
        printf("step%s      median %.2f us, p99 %.2f us over %ld steps (p99/median %.2f)\n",
               cold ? " (cold)" : "      ", median, p99, steps, p99 / median);
        printf("memory bound   %.2f us to read %zu bytes of f32 at %.1f GB/s (from cache)\n",
               bound, bytes, gbs);
        if (mn_model_wtype(m) != MN_WEIGHTS_F32)
            printf("stored         %zu bytes a step (%s matrices)\n", stored_bytes(m),
                   mn_model_wtype(m) == MN_WEIGHTS_BF16 ? "bf16" : "int8");
        if (cold)
            printf("DRAM bound     %.2f us to read them at %.1f GB/s\n", dram_bound, dram_gbs);
        printf("ratio          median / %s bound = %.2f\n", cold ? "DRAM" : "cache",
               median / (cold ? dram_bound : bound));
    }
    free(t);
    mn_session_free(s);
    mn_model_free(m);
    return 0;
}
