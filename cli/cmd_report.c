/* cmd_report.c - `melodynet report`: creativity versus imitation. Generates N melodies, each
 * from a fresh session state primed with the opening events of a randomly chosen validation
 * tune, and prints style and copy figures of the generated continuations next to the real
 * continuations of the same tunes (reference), both measured against the training tunes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "data.h"
#include "midi.h"
#include "model.h"
#include "report.h"
#include "sampler.h"
#include "session.h"
#include "svg.h"

#define MAX_ARGS 4096
#define MAX_ROLLS 8

static void help(FILE *f)
{
    fprintf(f,
        "usage: melodynet report [-m MODEL] --train FILES... --valid FILES... [options]\n\n"
        "Creativity versus imitation. Melody i (i = 0..N-1) is generated from a fresh state with\n"
        "random seed S+i: the same seed picks a validation tune, whose first P events (--prime)\n"
        "are fed to the model to set key and metre; then LENGTH events are sampled. The primer\n"
        "is not part of the figures. The reference set holds the real continuations: events\n"
        "P..P+LENGTH-1 of the same tunes, so both sets have the same length and context.\n"
        "Figures: in-key rate, pitch span, intervals and durations (with their distance to the\n"
        "training data), rhythm, and the longest run of intervals copied verbatim from one\n"
        "training tune and the share of 8-interval n-grams found in the training data.\n"
        "FILES are MIDI files, folders or .txt lists (one path per line).\n\n"
        "  -m, --model FILE      model file (default: the bundled model)\n"
        "  --train FILES...      training tunes (what copying is measured against)\n"
        "  --valid FILES...      unseen real tunes (primers and reference)\n"
        "  -n N                  melodies to generate (default 100)\n"
        "  --length EVENTS       events per melody after the primer (default 64)\n"
        "  --prime P             primer events (default 4; 0 = start from nothing in 4/4)\n"
        "  --seed S              first random seed (default 1)\n"
        "  -t, --temperature T   sampling temperature (default 1.0)\n"
        "  --top-k K             sample among the K most likely pitches (0 = all)\n"
        "  --top-p P             nucleus sampling mass (1 = off)\n"
        "  --motif F             motif memory, 0..1 (default 1; 0 = the network alone)\n"
        "  --max-copy K          generate under the copy guard (see generate) and report its\n"
        "                        cost: -log2 of the share of the odds it left, per event\n"
        "  --json                print one JSON object instead of the table\n"
        "  --svg DIR             also draw the first few generated melodies as piano rolls\n"
        "  --save DIR            also write every generated melody as DIR/gen_NNNN.mid (and the\n"
        "                        reference continuations as DIR/ref_NNNN.mid), for other tools\n");
}

/* Collects the values after an option up to the next argument starting with '-'. */
static int take_list(int argc, char **argv, int *i, const char **list, size_t *n)
{
    int start = *i;
    while (*i + 1 < argc && (argv[*i + 1][0] != '-' || argv[*i + 1][1] == '\0')) {
        if (*n == MAX_ARGS) {
            fprintf(stderr, "melodynet report: more than %d files after %s\n", MAX_ARGS,
                    argv[start]);
            return -1;
        }
        list[(*n)++] = argv[++*i];
    }
    if (*i == start) {
        fprintf(stderr, "melodynet report: %s needs at least one file, folder or list\n",
                argv[start]);
        return -1;
    }
    return 0;
}

static int load(const char *what, const char **args, size_t n, mn_corpus *c)
{
    char err[MN_ERR_LEN];
    mn_midi_options opt;
    mn_midi_options_default(&opt);
    mn_status st = mn_corpus_load(c, args, n, &opt, NULL, NULL, err);
    if (c->n_skipped)
        fprintf(stderr, "melodynet report: %s: skipped %zu of %zu files (first: %s: %s)\n", what,
                c->n_skipped, c->n + c->n_skipped, c->skipped[0].path, c->skipped[0].reason);
    if (st) {
        fprintf(stderr, "melodynet report: %s: %s\n", what, err);
        return -1;
    }
    return 0;
}

int mn_cmd_report(int argc, char **argv)
{
    static const char *train_args[MAX_ARGS], *valid_args[MAX_ARGS];
    size_t n_train_args = 0, n_valid_args = 0;
    const char *model_path = NULL, *svg_dir = NULL, *save_dir = NULL;
    long n = 100, length = 64, prime = 4, top_k = 0, max_copy = 0;
    double temp = 1.0, top_p = 1.0, motif = 1.0;
    unsigned long long seed = 1;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes_value = !strcmp(a, "-m") || !strcmp(a, "--model") || !strcmp(a, "-n") ||
                          !strcmp(a, "--length") || !strcmp(a, "--prime") ||
                          !strcmp(a, "--seed") || !strcmp(a, "-t") ||
                          !strcmp(a, "--temperature") || !strcmp(a, "--top-k") ||
                          !strcmp(a, "--top-p") || !strcmp(a, "--svg") || !strcmp(a, "--motif") ||
                          !strcmp(a, "--max-copy") ||
                          !strcmp(a, "--save");
        if (takes_value && !v) {
            fprintf(stderr, "melodynet report: %s needs a value\n", a);
            return 2;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help(stdout);
            return 0;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            model_path = argv[++i];
        } else if (!strcmp(a, "--train")) {
            if (take_list(argc, argv, &i, train_args, &n_train_args)) return 2;
        } else if (!strcmp(a, "--valid")) {
            if (take_list(argc, argv, &i, valid_args, &n_valid_args)) return 2;
        } else if (!strcmp(a, "-n")) {
            if (mn_cli_int("report", a, argv[++i], 1, 100000, &n)) return 2;
        } else if (!strcmp(a, "--length")) {
            if (mn_cli_int("report", a, argv[++i], 1, 100000, &length)) return 2;
        } else if (!strcmp(a, "--prime")) {
            if (mn_cli_int("report", a, argv[++i], 0, 100000, &prime)) return 2;
        } else if (!strcmp(a, "--seed")) {
            char *end;
            errno = 0;
            seed = strtoull(v, &end, 10);
            i++;
            if (!*v || *end || *v == '-' || errno) {
                fprintf(stderr, "melodynet report: --seed expects a non-negative integer, "
                                "got '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "-t") || !strcmp(a, "--temperature")) {
            if (mn_cli_float("report", a, argv[++i], 1e-3, 100, &temp)) return 2;
        } else if (!strcmp(a, "--top-k")) {
            if (mn_cli_int("report", a, argv[++i], 0, MN_N_PITCH, &top_k)) return 2;
        } else if (!strcmp(a, "--top-p")) {
            if (mn_cli_float("report", a, argv[++i], 1e-6, 1, &top_p)) return 2;
        } else if (!strcmp(a, "--max-copy")) {
            if (mn_cli_int("report", a, argv[++i], 1, MN_SAMPLER_MAX_COPY, &max_copy)) return 2;
        } else if (!strcmp(a, "--motif")) {
            if (mn_cli_float("report", a, argv[++i], 0, 1, &motif)) return 2;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--svg")) {
            svg_dir = argv[++i];
        } else if (!strcmp(a, "--save")) {
            save_dir = argv[++i];
        } else {
            fprintf(stderr, "melodynet report: unknown argument '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!n_train_args || !n_valid_args) {
        fprintf(stderr, "melodynet report: %s\nusage: melodynet report [-m MODEL] --train "
                        "FILES... --valid FILES... [-n N] [--length EVENTS] (see --help)\n",
                !n_train_args ? "no training tunes given (--train)"
                              : "no validation tunes given (--valid)");
        return 2;
    }

    char err[MN_ERR_LEN], buf[4096];
    if (!model_path && !(model_path = mn_cli_default_model(buf, sizeof buf))) {
        fprintf(stderr, "melodynet report: no model given (-m) and no bundled model found\n");
        return 1;
    }
    mn_sampler cfg;
    mn_sampler_default(&cfg);
    cfg.temperature = (float)temp;
    cfg.top_k = (int)top_k;
    cfg.top_p = (float)top_p;
    cfg.motif = (float)motif;
    cfg.max_copy = (int)max_copy;
    if (mn_sampler_validate(&cfg, err)) {
        fprintf(stderr, "melodynet report: %s\n", err);
        return 2;
    }

    int rc = 1;
    mn_corpus train = {0}, valid = {0};
    mn_model *model = NULL;
    mn_session *s = NULL;
    mn_melody *gen = calloc((size_t)n, sizeof *gen), *ref = calloc((size_t)n, sizeof *ref);
    size_t *picked = calloc((size_t)n, sizeof *picked);
    const char **names = NULL;
    size_t guard_rests = 0;
    if (!gen || !ref || !picked) {
        fprintf(stderr, "melodynet report: out of memory\n");
        goto done;
    }
    for (long i = 0; i < n; i++) {
        mn_melody_init(&gen[i]);
        mn_melody_init(&ref[i]);
    }
    if (mn_model_load(model_path, &model, err)) {
        fprintf(stderr, "melodynet report: %s\n", err);
        goto done;
    }
    const char *why;
    if (max_copy && !mn_model_copyidx(model, &why)) {
        fprintf(stderr, "melodynet report: --max-copy needs a copy index: %s\n", why);
        goto done;
    }
    if (load("--train", train_args, n_train_args, &train) ||
        load("--valid", valid_args, n_valid_args, &valid))
        goto done;
    if (mn_session_new(model, seed, &s, err)) {
        fprintf(stderr, "melodynet report: %s\n", err);
        goto done;
    }

    for (long i = 0; i < n; i++) {
        mn_rng pick;
        mn_rng_seed(&pick, seed + (unsigned long long)i);
        size_t k = (size_t)(mn_rng_next(&pick) % valid.n);
        const mn_melody *tune = &valid.mels[k];
        picked[i] = k;
        size_t p = (size_t)prime < tune->n ? (size_t)prime : tune->n;
        mn_session_reset(s);
        mn_session_set_clock(s, 0, MN_DEFAULT_BAR_TICKS);
        mn_session_seed(s, seed + (unsigned long long)i);
        *mn_session_sampler(s) = cfg;
        if (p == 0) mn_session_draw_start(s);
        for (size_t j = 0; j < p; j++) mn_session_feed(s, &tune->ev[j]);
        for (size_t j = p; j < tune->n && j < p + (size_t)length; j++)
            if (mn_melody_push(&ref[i], &tune->ev[j], err)) goto nomem;
        for (long j = 0; j < length; j++) {
            mn_event e;
            if (mn_session_sample(s, &e) == MN_ERR_LIMIT) guard_rests++;
            if (mn_melody_push(&gen[i], &e, err)) goto nomem;
        }
        gen[i].bpm = ref[i].bpm = tune->bpm;
        ref[i].ts_num = tune->ts_num;
        ref[i].ts_den = tune->ts_den;
        /* the metre the melody was generated in: the bar of its last event */
        int bar = gen[i].n ? gen[i].ev[gen[i].n - 1].bar_ticks : MN_DEFAULT_BAR_TICKS;
        gen[i].ts_num = bar % MN_TPQ == 0 ? bar / MN_TPQ : bar / (MN_TPQ / 2);
        gen[i].ts_den = bar % MN_TPQ == 0 ? 4 : 8;
        snprintf(gen[i].name, sizeof gen[i].name, "generated %ld (seed %llu)", i,
                 seed + (unsigned long long)i);
    }

    names = malloc(train.n * sizeof *names);
    if (!names) {
        snprintf(err, sizeof err, "out of memory");
        goto nomem;
    }
    for (size_t t = 0; t < train.n; t++) names[t] = train.paths[t];
    mn_report r;
    if (mn_report_compute(&r, train.mels, train.n, names, ref, (size_t)n, gen, (size_t)n, err)) {
        fprintf(stderr, "melodynet report: %s\n", err);
        goto done;
    }
    double g_bits = 0;
    size_t g_events = 0;
    mn_session_guard_cost(s, &g_bits, &g_events);
    if (json) {
        mn_report_write_json(stdout, &r, "valid", "generated");
        if (max_copy)
            printf("{\"max_copy\": %ld, \"guard_bits_per_event\": %.6g, \"guard_events\": %zu, "
                   "\"guard_rests\": %zu}\n", max_copy, g_events ? g_bits / g_events : 0.0,
                   g_events, guard_rests);
    } else {
        printf("model %s; %ld melodies of %ld events, temperature %g, top-k %ld, top-p %g, "
               "motif %g, seeds %llu..%llu\n", model_path, n, length, temp, top_k, top_p, motif, seed,
               seed + (unsigned long long)n - 1);
        if (prime > 0)
            printf("each primed with the first %ld events of a random valid tune (not counted);"
                   "\nvalid = the real next %ld events of the same tunes\n\n", prime, length);
        else
            printf("unprimed, %s; valid = the first %ld events of random valid tunes\n\n",
                   mn_model_meta(model, "start_metre")
                       ? "each starting at a bar length and position drawn from start_metre"
                       : "from the start of a 4/4 bar", length);
        mn_report_write_text(stdout, &r, "valid", "generated");
        if (max_copy)
            printf("copy guard --max-copy %ld: %.4f pitch bits/event (-log2 of the share of the "
                   "odds it left, over %zu events); %zu rests forced\n", max_copy,
                   g_events ? g_bits / g_events : 0.0, g_events, guard_rests);
    }
    fflush(stdout);

    if (save_dir) {
        if (mkdir(save_dir, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "melodynet report: %s: cannot create: %s\n", save_dir,
                    strerror(errno));
            goto done;
        }
        for (long i = 0; i < n; i++) {
            char path[4096];
            for (int k = 0; k < 2; k++) {
                snprintf(path, sizeof path, "%s/%s_%04ld.mid", save_dir, k ? "ref" : "gen", i);
                mn_melody *m = k ? &ref[i] : &gen[i];
                if (!m->n) continue;
                if (mn_midi_write_file(path, m, err)) {
                    fprintf(stderr, "melodynet report: %s\n", err);
                    goto done;
                }
            }
        }
        fprintf(stderr, "melodynet report: wrote %ld generated melodies to %s\n", n, save_dir);
    }
    if (svg_dir) {
        if (mkdir(svg_dir, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "melodynet report: %s: cannot create: %s\n", svg_dir,
                    strerror(errno));
            goto done;
        }
        for (long i = 0; i < n && i < MAX_ROLLS; i++) {
            char path[4096], title[512];
            snprintf(path, sizeof path, "%s/generated_%02ld.svg", svg_dir, i);
            snprintf(title, sizeof title, "generated %ld (seed %llu), after %ld events of %s", i,
                     seed + (unsigned long long)i, prime, valid.paths[picked[i]]);
            if (mn_svg_piano_roll(&gen[i], title, path, err)) {
                fprintf(stderr, "melodynet report: %s\n", err);
                goto done;
            }
        }
        fprintf(stderr, "melodynet report: wrote %ld piano rolls to %s\n",
                n < MAX_ROLLS ? n : MAX_ROLLS, svg_dir);
    }
    rc = 0;
    goto done;
nomem:
    fprintf(stderr, "melodynet report: %s\n", err);
done:
    if (gen)
        for (long i = 0; i < n; i++) mn_melody_free(&gen[i]);
    if (ref)
        for (long i = 0; i < n; i++) mn_melody_free(&ref[i]);
    free(gen);
    free(ref);
    free(picked);
    free(names);
    mn_session_free(s);
    mn_model_free(model);
    mn_corpus_free(&train);
    mn_corpus_free(&valid);
    return rc;
}
