/* main.c - the `melodynet` command: dispatches to one verb per file (cmd_*.c) and holds the
 * helpers they share (option parsing, finding the bundled model). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "gemm.h"

#define MN_VERSION "0.1"

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} verb;

static const verb verbs[] = {
    {"info", mn_cmd_info, "describe a model file: architecture, parameters, durations, metadata"},
    {"generate", mn_cmd_generate, "generate a melody (stdout: one event per line; -o writes MIDI)"},
    {"eval", mn_cmd_eval, "bits per event of a model (and the Markov baseline) on MIDI files"},
    {"train", mn_cmd_train, "train a model on MIDI files"},
    {"prep", mn_cmd_prep, "write MIDI files' events as a token file (for train/torch)"},
    {"roll", mn_cmd_roll, "draw a MIDI file as a piano roll (SVG)"},
    {"report", mn_cmd_report, "creativity versus imitation figures of generated melodies"},
    {"convert", mn_cmd_convert, "rewrite a model with bf16 or int8 weight matrices"},
    {"fit-motif", mn_cmd_fitmotif, "fit a model's motif memory on held-out tunes (into a copy)"},
    {"copy-index", mn_cmd_copyindex, "index a model's training tunes for the copy guard"},
    {"similar", mn_cmd_similar, "training tunes sharing the longest interval runs with a melody"},
    {"bench", mn_cmd_bench, "step latency of a model (median, p99) against the memory bound"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: melodynet VERB [options]   (melodynet VERB --help for each verb)\n\n");
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(f, "\nmelodynet %s - a small neural melody generator (see README.md)\n", MN_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("melodynet %s\n", MN_VERSION);
        return 0;
    }
    mn_gemm_use(mn_gemm_openblas); /* the trainer's products: OpenBLAS in the command */
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        if (!strcmp(argv[1], verbs[i].name)) return verbs[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "melodynet: unknown verb '%s' (melodynet --help lists the verbs)\n", argv[1]);
    return 2;
}

int mn_cli_int(const char *verb, const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "melodynet %s: %s expects an integer in %ld..%ld, got '%s'\n", verb, opt, lo,
                hi, s ? s : "(nothing)");
        return -1;
    }
    *out = v;
    return 0;
}

int mn_cli_float(const char *verb, const char *opt, const char *s, double lo, double hi,
                 double *out)
{
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || !*s || *end || errno || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "melodynet %s: %s expects a number in %g..%g, got '%s'\n", verb, opt, lo, hi,
                s ? s : "(nothing)");
        return -1;
    }
    *out = v;
    return 0;
}

static int readable(const char *p) { return access(p, R_OK) == 0; }

const char *mn_cli_default_model(char *buf, size_t n)
{
    /* MELODYNET_MODEL overrides; else models/ beside the binary's folder (bin/../models, the
     * source tree), then the install prefixes. */
    const char *env = getenv("MELODYNET_MODEL");
    if (env && *env) {
        snprintf(buf, n, "%s", env);
        return buf;
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            static const char *rel[] = {"/../models/default.mnet", "/models/default.mnet",
                                        "/../share/melodynet/models/default.mnet",
                                        "/../../models/default.mnet"};
            for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
                snprintf(buf, n, "%s%s", exe, rel[i]);
                if (readable(buf)) return buf;
            }
        }
    }
    static const char *abs_paths[] = {"/usr/local/share/melodynet/models/default.mnet",
                                      "/usr/share/melodynet/models/default.mnet"};
    for (size_t i = 0; i < sizeof abs_paths / sizeof *abs_paths; i++)
        if (readable(abs_paths[i])) {
            snprintf(buf, n, "%s", abs_paths[i]);
            return buf;
        }
    return NULL;
}

int mn_cli_model_out_files(const char *verb, int argc, char **argv, void (*help)(FILE *),
                           const char *no_files, const char **model, const char **out,
                           const char **files, size_t *n_files)
{
    *n_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help(stdout);
            return -1;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model") || !strcmp(a, "-o") ||
                   !strcmp(a, "--output")) {
            if (!v) {
                fprintf(stderr, "melodynet %s: %s needs a value\n", verb, a);
                return 2;
            }
            if (a[1] == 'm' || a[2] == 'm') *model = v;
            else *out = v;
            i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "melodynet %s: unknown option '%s' (see --help)\n", verb, a);
            return 2;
        } else {
            files[(*n_files)++] = a;
        }
    }
    if (!*n_files || !*out) {
        fprintf(stderr, "melodynet %s: %s (see --help)\n", verb,
                !*n_files ? no_files : "no output file given (-o)");
        return 2;
    }
    return 0;
}
