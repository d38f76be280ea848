/* cmd_copyindex.c - `melodynet copy-index`: builds the copy guard's index (copyidx.h) of a
 * model's training tunes, writes it beside the output model and names it in the model's
 * "copy_index" metadata; and `melodynet similar`: the training tunes that share the longest
 * verbatim interval runs with a melody. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "copyidx.h"
#include "data.h"
#include "json.h"
#include "midi.h"
#include "model.h"
#include "report.h"

static void help_index(FILE *f)
{
    fprintf(f,
        "usage: melodynet copy-index [-m MODEL] TRAIN... -o OUT.mnet\n\n"
        "Builds the copy guard's index of the tunes a model was trained on (TRAIN: MIDI files,\n"
        "folders or .txt lists) and writes OUT.mnet, a copy of MODEL whose copy_index metadata\n"
        "names the index, written beside it as OUT.mncopy: the interval strings of the tunes\n"
        "(one byte per interval) and their names. Loading the model loads the index; then\n"
        "`generate --max-copy K` (Pd: novelty K) never extends a run of intervals found\n"
        "verbatim in one of these tunes beyond K, and `similar` lists the tunes a melody\n"
        "shares runs with. OUT may be MODEL itself.\n\n"
        "  -m, --model FILE   model (default: the bundled model)\n"
        "  -o, --output FILE  the model file to write\n");
}

static void help_similar(FILE *f)
{
    fprintf(f,
        "usage: melodynet similar FILE.mid... [-m MODEL] [-n N] [--track N] [--channel N]\n\n"
        "Checks a melody (each FILE in turn) against the tunes of the model's copy index (see copy-index): the N\n"
        "training tunes (default 10) sharing the longest runs of consecutive intervals with it,\n"
        "verbatim (transposition does not hide a copy: intervals are compared), longest first,\n"
        "with the run's length and where it starts in the melody and in the tune (as note\n"
        "numbers, 1 = the first note; rests are skipped).\n\n"
        "  -m, --model FILE   model whose copy index to use (default: the bundled model)\n"
        "  -n N               tunes to list (default 10)\n"
        "  --json             one JSON object per file instead of the table\n");
}

/* Loads the model and its copy index, or prints why not. */
static mn_model *load_model(const char *verb, const char *path, char *buf, size_t n)
{
    char err[MN_ERR_LEN];
    if (!path && !(path = mn_cli_default_model(buf, n))) {
        fprintf(stderr, "melodynet %s: no model given (-m) and no bundled model found\n", verb);
        return NULL;
    }
    mn_model *m;
    if (mn_model_load(path, &m, err)) {
        fprintf(stderr, "melodynet %s: %s\n", verb, err);
        return NULL;
    }
    return m;
}

int mn_cmd_copyindex(int argc, char **argv)
{
    const char *model_path = NULL, *out_path = NULL;
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    size_t n_files = 0;
    int rc = 2;
    mn_corpus c = {0};
    mn_model *model = NULL;
    mn_copyidx *ix = NULL;
    const char *(*meta)[2] = NULL;
    char *ix_path = NULL;
    char err[MN_ERR_LEN], buf[4096];
    if (!files) return 1;
    int parsed = mn_cli_model_out_files("copy-index", argc, argv, help_index, "no training tunes given", &model_path,
                                        &out_path, files, &n_files);
    if (parsed) {
        rc = parsed < 0 ? 0 : parsed;
        goto done;
    }
    rc = 1;
    if (!(model = load_model("copy-index", model_path, buf, sizeof buf))) goto done;
    mn_midi_options mopt;
    mn_midi_options_default(&mopt);
    if (mn_corpus_load(&c, files, n_files, &mopt, NULL, NULL, err)) {
        fprintf(stderr, "melodynet copy-index: %s\n", err);
        goto done;
    }
    if (c.n_skipped)
        fprintf(stderr, "melodynet copy-index: skipped %zu of %zu files (first: %s: %s)\n",
                c.n_skipped, c.n + c.n_skipped, c.skipped[0].path, c.skipped[0].reason);
    /* names: the file's stem, with the tune's own name when it has another */
    char **names = calloc(c.n ? c.n : 1, sizeof *names);
    if (!names) goto nomem;
    for (size_t t = 0; t < c.n; t++) {
        const char *p = c.paths[t], *b = strrchr(p, '/');
        b = b ? b + 1 : p;
        size_t l = strlen(b);
        const char *dot = strrchr(b, '.');
        if (dot && dot != b) l = (size_t)(dot - b);
        const char *own = c.mels[t].name;
        size_t len = l + strlen(own) + 8;
        if (!(names[t] = malloc(len))) break;
        if (*own && (strlen(own) != l || strncmp(own, b, l)))
            snprintf(names[t], len, "%.*s: %s", (int)l, b, own);
        else
            snprintf(names[t], len, "%.*s", (int)l, b);
    }
    mn_status st = names[c.n ? c.n - 1 : 0] || !c.n
                       ? mn_copyidx_build(c.mels, c.n, (const char *const *)names, &ix, err)
                       : MN_ERR_NOMEM;
    for (size_t t = 0; t < c.n; t++) free(names[t]);
    free(names);
    if (st) {
        if (st == MN_ERR_NOMEM) goto nomem;
        fprintf(stderr, "melodynet copy-index: %s\n", err);
        goto done;
    }
    /* OUT.mnet -> OUT.mncopy, beside it */
    size_t ol = strlen(out_path);
    if (!(ix_path = malloc(ol + 8))) goto nomem;
    memcpy(ix_path, out_path, ol + 1);
    char *dot = strrchr(ix_path, '.'), *slash = strrchr(ix_path, '/');
    if (dot && (!slash || dot > slash + 1)) *dot = '\0';
    strcat(ix_path, ".mncopy");
    const char *ix_name = strrchr(ix_path, '/') ? strrchr(ix_path, '/') + 1 : ix_path;
    if (mn_copyidx_save(ix, ix_path, err)) {
        fprintf(stderr, "melodynet copy-index: %s\n", err);
        goto done;
    }
    size_t n_old = mn_model_meta_count(model), n_meta = 0;
    if (!(meta = malloc((n_old + 1) * sizeof *meta))) goto nomem;
    for (size_t i = 0; i < n_old; i++) {
        const char *k, *v;
        mn_model_meta_at(model, i, &k, &v);
        if (strcmp(k, "copy_index")) {
            meta[n_meta][0] = k;
            meta[n_meta++][1] = v;
        }
    }
    meta[n_meta][0] = "copy_index";
    meta[n_meta++][1] = ix_name;
    if (mn_model_save(out_path, mn_model_cfg(model), mn_model_params(model),
                      (const char *const(*)[2])meta, n_meta, err)) {
        fprintf(stderr, "melodynet copy-index: %s\n", err);
        goto done;
    }
    printf("indexed %zu tunes, %zu intervals: %s, %zu bytes\nwrote %s (copy_index %s)\n",
           mn_copyidx_n_tunes(ix), mn_copyidx_n_intervals(ix), ix_path,
           mn_copyidx_file_bytes(ix), out_path, ix_name);
    rc = 0;
    goto done;
nomem:
    fprintf(stderr, "melodynet copy-index: out of memory\n");
done:
    free(meta);
    free(ix_path);
    mn_copyidx_free(ix);
    mn_model_free(model);
    mn_corpus_free(&c);
    free(files);
    return rc;
}

/* Prints the similar runs of one file; returns 0, or 1 when it cannot be read. */
static int similar_one(const char *in, const mn_midi_options *opt, const mn_model *model,
                       const mn_copyidx *ix, long top, int json)
{
    char err[MN_ERR_LEN];
    mn_melody m;
    if (mn_midi_read_file(in, opt, &m, err)) {
        fprintf(stderr, "melodynet similar: %s\n", err);
        return 1;
    }
    int *iv = malloc((m.n ? m.n : 1) * sizeof *iv);
    mn_copy_run *runs = malloc((size_t)top * sizeof *runs);
    if (!iv || !runs) {
        fprintf(stderr, "melodynet similar: out of memory\n");
        free(iv);
        free(runs);
        mn_melody_free(&m);
        return 1;
    }
    size_t n_iv = mn_report_intervals(&m, iv);
    size_t k = mn_copyidx_similar(ix, iv, n_iv, runs, (size_t)top);
    if (json) {
        printf("{\"file\":");
        mn_json_fput_str(stdout, in);
        printf(",\"intervals\":%zu,\"tunes\":%zu,\"runs\":[", n_iv, mn_copyidx_n_tunes(ix));
        for (size_t j = 0; j < k; j++) {
            printf("%s{\"length\":%zu,\"melody_note\":%zu,\"tune\":", j ? "," : "", runs[j].len,
                   runs[j].query_start + 1);
            mn_json_fput_str(stdout, mn_copyidx_name(ix, runs[j].tune));
            printf(",\"tune_note\":%zu}", runs[j].tune_start + 1);
        }
        printf("]}\n");
    } else {
        printf("%s: %zu intervals, against %zu training tunes (%s)\n", in, n_iv,
               mn_copyidx_n_tunes(ix), mn_model_meta(model, "copy_index"));
        printf("%6s  %12s  %10s  %s\n", "run", "melody note", "tune note", "tune");
        for (size_t j = 0; j < k; j++)
            printf("%6zu  %12zu  %10zu  %s\n", runs[j].len, runs[j].query_start + 1,
                   runs[j].tune_start + 1, mn_copyidx_name(ix, runs[j].tune));
        if (!k) printf("no interval of this melody occurs in the training tunes\n");
    }
    free(iv);
    free(runs);
    mn_melody_free(&m);
    return 0;
}

int mn_cmd_similar(int argc, char **argv)
{
    const char *model_path = NULL;
    const char **in = calloc((size_t)argc + 1, sizeof *in);
    size_t n_in = 0;
    long top = 10, l;
    int json = 0;
    if (!in) return 1;
    mn_midi_options opt;
    mn_midi_options_default(&opt);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(a, "-m") || !strcmp(a, "--model") || !strcmp(a, "-n") ||
                    !strcmp(a, "--track") || !strcmp(a, "--channel");
        int bad = 0;
        if (takes && !v) {
            fprintf(stderr, "melodynet similar: %s needs a value\n", a);
            bad = 1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help_similar(stdout);
            free(in);
            return 0;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            model_path = v;
        } else if (!strcmp(a, "-n")) {
            bad = mn_cli_int("similar", a, v, 1, 1000, &top);
        } else if (!strcmp(a, "--track")) {
            bad = mn_cli_int("similar", a, v, 0, MN_MIDI_MAX_TRACKS - 1, &l);
            opt.track = (int)l;
        } else if (!strcmp(a, "--channel")) {
            bad = mn_cli_int("similar", a, v, 1, 16, &l);
            opt.channel = (int)l - 1;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "melodynet similar: unknown option '%s' (see --help)\n", a);
            bad = 1;
        } else {
            in[n_in++] = a;
        }
        if (bad) {
            free(in);
            return 2;
        }
        if (takes) i++;
    }
    if (!n_in) {
        fprintf(stderr, "melodynet similar: no MIDI file given (see --help)\n");
        free(in);
        return 2;
    }
    char buf[4096];
    mn_model *model = load_model("similar", model_path, buf, sizeof buf);
    int rc = 1;
    const char *why = "";
    const mn_copyidx *ix = model ? mn_model_copyidx(model, &why) : NULL;
    if (model && !ix) {
        fprintf(stderr, "melodynet similar: %s (melodynet copy-index builds one)\n", why);
    } else if (model) {
        rc = 0;
        for (size_t i = 0; i < n_in; i++) {
            if (i && !json) printf("\n");
            if (similar_one(in[i], &opt, model, ix, top, json)) rc = 1;
        }
    }
    mn_model_free(model);
    free(in);
    return rc;
}
