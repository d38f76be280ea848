/* cmd_info.c - `melodynet info MODEL`: architecture, parameter count, duration table and
 * metadata of a model file, or one error line when the file is not a valid model. Text from
 * the file is printed with its control characters escaped. */
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

/* Length of the well-formed UTF-8 sequence at p and its code point, 0 when there is none. */
static size_t utf8_seq(const unsigned char *p, unsigned *cp_out)
{
    unsigned c = p[0], cp, k;
    if (c >= 0xC2 && c <= 0xDF) k = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) k = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) k = 4, cp = c & 0x07;
    else return 0;
    for (unsigned i = 1; i < k; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0; /* also stops at the terminating NUL */
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    *cp_out = cp;
    return k;
}

/* Prints text from a model file so that it cannot drive the terminal: control bytes (C0, DEL)
 * as \xHH (\t, \n, \r by name), C1 controls and the bidirectional overrides and isolates
 * (U+202A..U+202E, U+2066..U+2069) as \uHHHH, a byte that is not part of valid UTF-8 as
 * \xHH, and a backslash as \\, so that what is shown is unambiguous. */
static void print_safe(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned c = *p, cp;
        size_t k;
        if (c == '\\') {
            fputs("\\\\", stdout);
            p++;
        } else if (c >= 0x20 && c < 0x7F) {
            putchar((int)c);
            p++;
        } else if (c == '\t' || c == '\n' || c == '\r') {
            printf("\\%c", c == '\t' ? 't' : c == '\n' ? 'n' : 'r');
            p++;
        } else if (c < 0x80 || !(k = utf8_seq(p, &cp))) {
            printf("\\x%02x", c);
            p++;
        } else {
            if (cp <= 0x9F || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069))
                printf("\\u%04x", cp);
            else
                fwrite(p, 1, k, stdout);
            p += k;
        }
    }
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
               "\"n_pos\":%d,\"ticks_per_quarter\":%d,\"weights\":\"%s\",\"durations\":[",
               mn_model_file_size(m), mn_model_n_params(m), c->n_layers, c->n_hidden, c->n_embed,
               c->n_pos, MN_TPQ,
               mn_model_wtype(m) == MN_WEIGHTS_BF16 ? "bf16"
               : mn_model_wtype(m) == MN_WEIGHTS_I8 ? "int8" : "f32");
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
        printf("model        ");
        print_safe(path);
        putchar('\n');
        printf("file         %zu bytes\n", mn_model_file_size(m));
        printf("architecture %d x LSTM %d, embeddings %d (pitch, duration%s)\n", c->n_layers,
               c->n_hidden, c->n_embed, c->n_pos ? ", metric position" : "");
        printf("parameters   %zu (%.2f MiB of f32)\n", mn_model_n_params(m),
               mn_model_n_params(m) * 4.0 / (1 << 20));
        mn_wtype wt = mn_model_wtype(m);
        printf("weights      %s\n", wt == MN_WEIGHTS_BF16 ? "bf16 matrices (embeddings and biases f32)"
                                   : wt == MN_WEIGHTS_I8 ? "int8 matrices with a scale per row "
                                                           "(embeddings and biases f32)"
                                                         : "f32");
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
            if (skip) continue;
            print_safe(k);
            for (size_t n = strlen(k); n < 12; n++) putchar(' ');
            putchar(' ');
            print_safe(v);
            putchar('\n');
        }
    }
    mn_model_free(m);
    return 0;
}
