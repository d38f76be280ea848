/* cmd_bench.c - `melodynet bench`: the latency of one generation step (median and p99 over many
 * steps, weights warm in cache) beside the memory-bandwidth lower bound measured in the same run:
 * the time to read the weights one step touches, once, at the rate this machine streams them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "cli.h"
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


int mn_cmd_bench(int argc, char **argv)
{
    const char *model_path = NULL;
    long steps = 5000;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: melodynet bench [-m MODEL] [--steps N] [--json]\n\n"
                   "Times N generation steps (sample one event and feed it back) of a model with\n"
                   "its weights warm in cache, one thread, and prints the median and p99 step time\n"
                   "next to the memory-bandwidth lower bound measured in the same run. A benchmark:\n"
                   "figures vary between runs and machines; compare ratios.\n");
            return 0;
        } else if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && v) {
            model_path = v;
            i++;
        } else if (!strcmp(a, "--steps") && v) {
            if (mn_cli_int("bench", a, v, 100, 100000000, &steps)) return 2;
            i++;
        } else if (!strcmp(a, "--json")) {
            json = 1;
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
    mn_event e;
    for (int i = 0; i < 500; i++) mn_session_sample(s, &e); /* warm caches and branch predictors */
    for (long i = 0; i < steps; i++) {
        if (i % 256 == 0) mn_session_reset(s); /* keep the melody state in a typical range */
        double t0 = now_us();
        mn_session_sample(s, &e);
        t[i] = now_us() - t0;
    }
    qsort(t, (size_t)steps, sizeof *t, cmp_double);
    double median = t[steps / 2], p99 = t[(size_t)(steps * 0.99)];

    /* memory bound: best of many warm passes over the weights a step reads */
    const mn_model_config *c = mn_model_cfg(m);
    size_t bytes = step_bytes(c);
    size_t nf = mn_model_n_params(m) < bytes / 4 ? mn_model_n_params(m) : bytes / 4;
    const float *p = mn_model_params(m);
    volatile float sink = 0;
    double best = INFINITY;
    for (int r = 0; r < 200; r++) {
        double t0 = now_us();
        sink += cblas_sasum((int)nf, p, 1); /* OpenBLAS's SIMD read loop */
        double dt = now_us() - t0;
        if (dt < best) best = dt;
    }
    (void)sink;
    double bound = best * ((double)bytes / (nf * 4.0));
    double gbs = bytes / (bound * 1e3);
    if (json) {
        printf("{\"model\":\"%s\",\"steps\":%ld,\"median_us\":%.3f,\"p99_us\":%.3f,"
               "\"step_bytes\":%zu,\"bound_us\":%.3f,\"bandwidth_gb_s\":%.2f,"
               "\"median_over_bound\":%.3f,\"p99_over_median\":%.3f}\n",
               model_path, steps, median, p99, bytes, bound, gbs, median / bound, p99 / median);
    } else {
        printf("model          %s (%d x %d, %zu params)\n", model_path, c->n_layers, c->n_hidden,
               mn_model_n_params(m));
        printf("step           median %.2f us, p99 %.2f us over %ld steps (p99/median %.2f)\n",
               median, p99, steps, p99 / median);
        printf("memory bound   %.2f us to read %zu bytes at %.1f GB/s (warm)\n", bound, bytes, gbs);
        printf("ratio          median / bound = %.2f\n", median / bound);
    }
    free(t);
    mn_session_free(s);
    mn_model_free(m);
    return 0;
}
