/* cmd_info.c - `melodynet info MODEL`: architecture, parameter count, duration table and
 * metadata of a model file, or one error line when the file is not a valid model. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "model.h"

static void help(FILE *f)
{
    fprintf(f, "usage: melodynet info [MODEL] [--json]\n\n"
               "Describes a model file: architecture, parameter count, file size, duration table\n"
               "and training metadata. Without MODEL, the bundled default model. A file that is\n"
               "not a valid model gives one error line and exit status 1.\n");
}

int mn_cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "melodynet info: unknown option '%s'\n", argv[i]);
            return 2;
        } else if (path) {
            fprintf(stderr, "melodynet info: one model at a time ('%s' and '%s')\n", path, argv[i]);
            return 2;
        } else {
            path = argv[i];
        }
    }
    char buf[4096];
    if (!path && !(path = mn_cli_default_model(buf, sizeof buf))) {
        fprintf(stderr, "melodynet info: no model given and no bundled model found\n");
        return 1;
    }
    char err[MN_ERR_LEN];
    mn_model *m;
    if (mn_model_load(path, &m, err)) {
        fprintf(stderr, "melodynet info: %s\n", err);
        return 1;
    }
    const mn_model_config *c = mn_model_cfg(m);
    if (json) {
        printf("{\"path\":");
        mn_json_fput_str(stdout, path);
        printf(",\"file_bytes\":%zu,\"params\":%zu,\"n_layers\":%d,\"n_hidden\":%d,\"n_embed\":%d,"
               "\"n_pos\":%d,\"ticks_per_quarter\":%d,\"durations\":[",
               mn_model_file_size(m), mn_model_n_params(m), c->n_layers, c->n_hidden, c->n_embed,
               c->n_pos, MN_TPQ);
        for (int i = 0; i < c->dur.n; i++) printf("%s%d", i ? "," : "", c->dur.ticks[i]);
        printf("],\"metadata\":{");
        for (size_t i = 0; i < mn_model_meta_count(m); i++) {
            const char *k, *v;
            mn_model_meta_at(m, i, &k, &v);
            printf("%s", i ? "," : "");
            mn_json_fput_str(stdout, k);
            putchar(':');
            mn_json_fput_str(stdout, v);
        }
        printf("}}\n");
    } else {
        printf("model        %s\n", path);
        printf("file         %zu bytes\n", mn_model_file_size(m));
        printf("architecture %d x LSTM %d, embeddings %d (pitch, duration%s)\n", c->n_layers,
               c->n_hidden, c->n_embed, c->n_pos ? ", metric position" : "");
        printf("parameters   %zu (%.2f MiB of f32)\n", mn_model_n_params(m),
               mn_model_n_params(m) * 4.0 / (1 << 20));
        if (c->n_pos) printf("positions    %d (ticks since the bar line)\n", c->n_pos);
        printf("durations    %d tokens, in beats:", c->dur.n);
        for (int i = 0; i < c->dur.n; i++) printf(" %g", (double)c->dur.ticks[i] / MN_TPQ);
        printf("\n");
        /* the architecture keys were shown above */
        static const char *shown[] = {"format", "version", "n_layers", "n_hidden", "n_embed",
                                      "n_pos", "ticks_per_quarter", "durations"};
        for (size_t i = 0; i < mn_model_meta_count(m); i++) {
            const char *k, *v;
            mn_model_meta_at(m, i, &k, &v);
            int skip = 0;
            for (size_t j = 0; j < sizeof shown / sizeof *shown; j++) skip |= !strcmp(k, shown[j]);
            if (!skip) printf("%-12s %s\n", k, v);
        }
    }
    mn_model_free(m);
    return 0;
}
