/* cmd_convert.c - `melodynet convert IN -o OUT --dtype f32|bf16|int8`: rewrites a model with its
 * step matrices (LSTM and head weights) stored in another type. The step then streams half
 * (bf16) or a quarter (int8) of the bytes; embeddings and biases stay f32. The metadata is kept,
 * with the source and the type recorded. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "model.h"

int mn_cmd_convert(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *dtype = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: melodynet convert IN.mnet -o OUT.mnet --dtype f32|bf16|int8\n\n"
                   "Writes IN with its LSTM and head weight matrices stored as float32, bfloat16\n"
                   "(rounded to nearest even) or int8 with a scale per row (max|w|/127), the\n"
                   "type a step then reads: bf16 halves and int8 quarters the bytes per step.\n"
                   "Embeddings and biases stay float32; the metadata is kept. The cost in\n"
                   "bits/event is measured by `melodynet eval -m OUT.mnet ...`.\n");
            return 0;
        } else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && v) {
            out = v;
            i++;
        } else if (!strcmp(a, "--dtype") && v) {
            dtype = v;
            i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "melodynet convert: unknown or incomplete option '%s'\n", a);
            return 2;
        } else if (!in) {
            in = a;
        } else {
            fprintf(stderr, "melodynet convert: one input model, got '%s' too\n", a);
            return 2;
        }
    }
    if (!in || !out || !dtype) {
        fprintf(stderr, "melodynet convert: needs IN, -o OUT and --dtype f32|bf16|int8\n");
        return 2;
    }
    mn_wtype wt;
    if (!strcmp(dtype, "f32")) wt = MN_WEIGHTS_F32;
    else if (!strcmp(dtype, "bf16")) wt = MN_WEIGHTS_BF16;
    else if (!strcmp(dtype, "int8")) wt = MN_WEIGHTS_I8;
    else {
        fprintf(stderr, "melodynet convert: --dtype expects f32, bf16 or int8, got '%s'\n", dtype);
        return 2;
    }
    char err[MN_ERR_LEN];
    mn_model *m;
    if (mn_model_load(in, &m, err)) {
        fprintf(stderr, "melodynet convert: %s\n", err);
        return 1;
    }
    /* the source's metadata, then where it came from and in which type */
    size_t n = mn_model_meta_count(m);
    const char *meta[MN_MAX_META + 2][2];
    size_t k = 0;
    for (size_t i = 0; i < n && k < MN_MAX_META; i++) {
        const char *key, *val;
        mn_model_meta_at(m, i, &key, &val);
        if (!strcmp(key, "converted_from") || !strcmp(key, "weights_dtype")) continue;
        meta[k][0] = key;
        meta[k][1] = val;
        k++;
    }
    const char *src = mn_model_meta(m, "converted_from");
    meta[k][0] = "converted_from", meta[k][1] = src ? src : in, k++;
    meta[k][0] = "weights_dtype", meta[k][1] = dtype, k++;
    mn_status st = mn_model_save_as(out, mn_model_cfg(m), mn_model_params(m), wt, meta, k, err);
    if (st == MN_OK) {
        mn_model *check;
        /* read back through the loader: what was written must load and pass its checks */
        if ((st = mn_model_load(out, &check, err)) == MN_OK) {
            printf("melodynet convert: wrote %s (%s weights)\n", out, dtype);
            mn_model_free(check);
        }
    }
    if (st != MN_OK) fprintf(stderr, "melodynet convert: %s\n", err);
    mn_model_free(m);
    return st == MN_OK ? 0 : 1;
}
