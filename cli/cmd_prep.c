/* cmd_prep.c - `melodynet prep`: reads corpora with the trainer's data pipeline and writes
 * their events as a token file (core/tools/tokens.h), for trainers outside this program
 * (train/torch). The duration table is built from the training data as `train` builds it, or
 * taken from a model. Messages go to stderr; the summary line to stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data.h"
#include "model.h"
#include "tokens.h"

static void help(FILE *f)
{
    fprintf(f,
        "usage: melodynet prep DATA... -o TOKENS [--valid DATA...] [options]\n\n"
        "Writes the events of MIDI files as the trainer sees them (pitch, duration token,\n"
        "metric position, tune boundaries) with their duration table, for train/torch/train.py.\n"
        "DATA are MIDI files, folders (searched recursively) or list files (.txt, one path per\n"
        "line relative to the list). The format is described in core/tools/tokens.h.\n\n"
        "  -o, --output TOKENS    token file to write (required)\n"
        "  --valid DATA...        validation files, stored as a second set with the same table\n"
        "  --max-durations N      entries of the duration table built from DATA (default 32)\n"
        "  --model MODEL          use MODEL's duration table instead ('default': the bundled\n"
        "                         model), to fine-tune or score that model on these tokens\n"
        "  --track N, --channel N which track (0-based) / channel (1-16) of each file to read\n");
}

static char *join(char **v, int n)
{
    size_t len = 1;
    for (int i = 0; i < n; i++) len += strlen(v[i]) + 1;
    char *s = malloc(len);
    if (!s) return NULL;
    s[0] = 0;
    for (int i = 0; i < n; i++) {
        if (i) strcat(s, " ");
        strcat(s, v[i]);
    }
    return s;
}

static int load(mn_corpus *c, char **args, int n, const mn_midi_options *mo, const char *what)
{
    char err[MN_ERR_LEN];
    mn_status st = mn_corpus_load(c, (const char *const *)args, (size_t)n, mo, NULL, NULL, err);
    for (size_t i = 0; i < c->n_skipped && i < 10; i++)
        fprintf(stderr, "melodynet prep: skipped %s: %s\n", c->skipped[i].path,
                c->skipped[i].reason);
    if (c->n_skipped > 10)
        fprintf(stderr, "melodynet prep: ... and %zu more skipped files\n", c->n_skipped - 10);
    if (st) {
        fprintf(stderr, "melodynet prep: %s data: %s\n", what, err);
        return -1;
    }
    fprintf(stderr, "melodynet prep: %s data: %zu tunes, %zu events (%zu files skipped)\n", what,
            c->n, c->n_events, c->n_skipped);
    return 0;
}

int mn_cmd_prep(int argc, char **argv)
{
    const char *V = "prep";
    char **data = calloc((size_t)argc + 1, sizeof *data);
    char **valid = calloc((size_t)argc + 1, sizeof *valid);
    int n_data = 0, n_valid = 0, rc = 2;
    const char *out = NULL, *model_arg = NULL;
    long max_dur = 32, v;
    mn_midi_options mo;
    mn_midi_options_default(&mo);
    mn_corpus tc, vc;
    memset(&tc, 0, sizeof tc);
    memset(&vc, 0, sizeof vc);
    char *tsrc = NULL, *vsrc = NULL;
    if (!data || !valid) {
        fprintf(stderr, "melodynet prep: out of memory\n");
        rc = 1;
        goto done;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help(stdout);
            rc = 0;
            goto done;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--model")) {
            if (!next) {
                fprintf(stderr, "melodynet prep: %s expects a value\n", a);
                goto done;
            }
            if (a[1] == 'o' || a[2] == 'o') out = next;
            else model_arg = next;
            i++;
        } else if (!strcmp(a, "--valid")) {
            while (i + 1 < argc && argv[i + 1][0] != '-') valid[n_valid++] = argv[++i];
            if (!n_valid) {
                fprintf(stderr, "melodynet prep: --valid expects files\n");
                goto done;
            }
        } else if (!strcmp(a, "--max-durations")) {
            if (mn_cli_int(V, a, next, 1, MN_MAX_DUR, &max_dur)) goto done;
            i++;
        } else if (!strcmp(a, "--track")) {
            if (mn_cli_int(V, a, next, 0, 1023, &v)) goto done;
            mo.track = (int)v, i++;
        } else if (!strcmp(a, "--channel")) {
            if (mn_cli_int(V, a, next, 1, 16, &v)) goto done;
            mo.channel = (int)v - 1, i++;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "melodynet prep: unknown option '%s' (see --help)\n", a);
            goto done;
        } else {
            data[n_data++] = argv[i];
        }
    }
    if (!n_data) {
        fprintf(stderr, "melodynet prep: no training data given (see --help)\n");
        goto done;
    }
    if (!out) {
        fprintf(stderr, "melodynet prep: -o TOKENS is required (see --help)\n");
        goto done;
    }
    rc = 1;
    char err[MN_ERR_LEN], buf[4096];
    mn_durtable dur;
    memset(&dur, 0, sizeof dur);
    if (model_arg) {
        const char *path = model_arg;
        if (!strcmp(path, "default") && !(path = mn_cli_default_model(buf, sizeof buf))) {
            fprintf(stderr, "melodynet prep: no bundled model found\n");
            goto done;
        }
        mn_model *m;
        if (mn_model_load(path, &m, err)) {
            fprintf(stderr, "melodynet prep: %s\n", err);
            goto done;
        }
        dur = mn_model_cfg(m)->dur;
        mn_model_free(m);
    }
    if (load(&tc, data, n_data, &mo, "training")) goto done;
    if (n_valid && load(&vc, valid, n_valid, &mo, "validation")) goto done;
    if (!model_arg && mn_durtable_build(&dur, tc.mels, tc.n, (int)max_dur, err)) {
        fprintf(stderr, "melodynet prep: %s\n", err);
        goto done;
    }
    tsrc = join(data, n_data);
    vsrc = n_valid ? join(valid, n_valid) : NULL;
    if (!tsrc || (n_valid && !vsrc)) {
        fprintf(stderr, "melodynet prep: out of memory\n");
        goto done;
    }
    mn_tokens_set ts = {tsrc, tc.mels, tc.n}, vs = {vsrc, vc.mels, vc.n};
    if (mn_tokens_write(out, &dur, model_arg ? 0 : (int)max_dur, &mo, &ts, n_valid ? &vs : NULL,
                        err)) {
        fprintf(stderr, "melodynet prep: %s\n", err);
        goto done;
    }
    printf("%s: %zu training tunes (%zu events)", out, tc.n, tc.n_events);
    if (n_valid) printf(", %zu validation tunes (%zu events)", vc.n, vc.n_events);
    printf(", %d durations%s%s\n", dur.n, model_arg ? " from " : "", model_arg ? model_arg : "");
    rc = 0;
done:
    free(tsrc), free(vsrc);
    mn_corpus_free(&tc);
    mn_corpus_free(&vc);
    free(data);
    free(valid);
    return rc;
}
