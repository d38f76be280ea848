/* cmd_eval.c - `melodynet eval`: bits per event (pitch, duration, total), pitch accuracy, event
 * count and skipped files of a model on MIDI files, and of the n-gram baseline trained on other
 * files, scored on the same events (DESIGN.md's definition). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "data.h"
#include "eval.h"
#include "model.h"
#include "ngram.h"
#include "session.h"

static void help(FILE *f)
{
    fprintf(f,
        "usage: melodynet eval [-m MODEL] [--baseline TRAIN]... [--order N] [--json] FILES...\n\n"
        "Scores MIDI files with a model: bits per event (pitch, duration given pitch, total),\n"
        "pitch accuracy and event count, each file from its start in its own key. FILES are MIDI\n"
        "files, folders (searched recursively) or list files (.txt, one path per line relative\n"
        "to the list's folder). Files that cannot be used are listed with the reason.\n\n"
        "  -m, --model FILE   model (default: the bundled model)\n"
        "  --baseline TRAIN   also score the variable-order Markov baseline trained on TRAIN\n"
        "                     (files, folders or lists; repeatable), on the same events\n"
        "  --order N          order of the baseline (default %d)\n"
        "  --no-motif         skip the second score: the network with the melody's motif\n"
        "                     memory (generation repeats motifs so; see `generate --motif`)\n"
        "  --track N          only this track (0-based) of each file\n"
        "  --channel N        only this channel (1-16)\n"
        "  --json             one JSON object: files, skipped, events, bits_pitch,\n"
        "                     bits_duration, bits_total, accuracy_pitch of the network, and\n"
        "                     the same keys in with_motif and baseline\n",
        MN_NGRAM_DEFAULT_ORDER);
}

static void json_scores(const mn_corpus *c, const mn_eval_sums *a)
{
    printf("\"files\":%zu,\"skipped\":[", c->n);
    for (size_t i = 0; i < c->n_skipped; i++) {
        printf("%s{\"file\":", i ? "," : "");
        mn_json_fput_str(stdout, c->skipped[i].path);
        printf(",\"reason\":");
        mn_json_fput_str(stdout, c->skipped[i].reason);
        printf("}");
    }
    printf("],\"events\":%zu,\"bits_pitch\":%.6f,\"bits_duration\":%.6f,\"bits_total\":%.6f,"
           "\"accuracy_pitch\":%.6f",
           a->events, mn_eval_bits_pitch(a), mn_eval_bits_dur(a),
           mn_eval_bits_pitch(a) + mn_eval_bits_dur(a), mn_eval_accuracy(a));
}

static void text_scores(const char *label, const mn_eval_sums *a)
{
    printf("%-9s pitch %.4f  duration %.4f  total %.4f bits/event   accuracy %.1f%%   (%zu events)\n",
           label, mn_eval_bits_pitch(a), mn_eval_bits_dur(a),
           mn_eval_bits_pitch(a) + mn_eval_bits_dur(a), 100 * mn_eval_accuracy(a), a->events);
}

int mn_cmd_eval(int argc, char **argv)
{
    const char *model_path = NULL;
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    const char **base = calloc((size_t)argc + 1, sizeof *base);
    size_t n_files = 0, n_base = 0;
    long order = MN_NGRAM_DEFAULT_ORDER, l;
    int json = 0, rc = 2, no_motif = 0;
    mn_midi_options mopt;
    mn_midi_options_default(&mopt);
    mn_corpus corpus = {0}, train = {0};
    mn_model *model = NULL;
    mn_session *s = NULL, *sm = NULL;
    mn_ngram *g = NULL;
    char err[MN_ERR_LEN], buf[4096];
    if (!files || !base) {
        fprintf(stderr, "melodynet eval: out of memory\n");
        goto done;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(a, "-m") || !strcmp(a, "--model") || !strcmp(a, "--baseline") ||
                    !strcmp(a, "--order") || !strcmp(a, "--track") || !strcmp(a, "--channel");
        if (takes && !v) {
            fprintf(stderr, "melodynet eval: %s needs a value\n", a);
            goto done;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            help(stdout);
            rc = 0;
            goto done;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            model_path = v;
        } else if (!strcmp(a, "--baseline")) {
            base[n_base++] = v;
        } else if (!strcmp(a, "--order")) {
            if (mn_cli_int("eval", a, v, 1, MN_NGRAM_MAX_ORDER, &order)) goto done;
        } else if (!strcmp(a, "--track")) {
            if (mn_cli_int("eval", a, v, 0, MN_MIDI_MAX_TRACKS - 1, &l)) goto done;
            mopt.track = (int)l;
        } else if (!strcmp(a, "--channel")) {
            if (mn_cli_int("eval", a, v, 1, 16, &l)) goto done;
            mopt.channel = (int)l - 1;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--no-motif")) {
            no_motif = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "melodynet eval: unknown option '%s' (see --help)\n", a);
            goto done;
        } else {
            files[n_files++] = a;
        }
        if (takes) i++;
    }
    if (!n_files) {
        fprintf(stderr, "melodynet eval: no files to score (see --help)\n");
        goto done;
    }
    rc = 1;
    if (!model_path && !(model_path = mn_cli_default_model(buf, sizeof buf))) {
        fprintf(stderr, "melodynet eval: no model given (-m) and no bundled model found\n");
        goto done;
    }
    if (mn_model_load(model_path, &model, err) || mn_session_new(model, 1, &s, err)) {
        fprintf(stderr, "melodynet eval: %s\n", err);
        goto done;
    }
    mn_session_sampler(s)->motif = 0; /* s scores the network alone, sm with motif memory */
    if (!no_motif && mn_session_new(model, 1, &sm, err)) {
        fprintf(stderr, "melodynet eval: %s\n", err);
        goto done;
    }
    mn_status st = mn_corpus_load(&corpus, files, n_files, &mopt, NULL, NULL, err);
    if (st && st != MN_ERR_EMPTY) {
        fprintf(stderr, "melodynet eval: %s\n", err);
        goto done;
    }
    for (size_t i = 0; i < corpus.n_skipped; i++)
        fprintf(stderr, "melodynet eval: skipped %s: %s\n", corpus.skipped[i].path,
                corpus.skipped[i].reason);
    for (size_t i = 0; i < corpus.n_reduced; i++)
        fprintf(stderr, "melodynet eval: %s: polyphonic, scored as its top voice: %zu of %zu "
                        "notes\n", corpus.reduced[i].path, corpus.reduced[i].notes_kept,
                corpus.reduced[i].notes_in);
    if (st == MN_ERR_EMPTY) {
        fprintf(stderr, "melodynet eval: %s\n", err);
        goto done;
    }
    if (n_base) {
        mn_status bs = mn_corpus_load(&train, base, n_base, &mopt, NULL, NULL, err);
        if (bs) {
            fprintf(stderr, "melodynet eval: baseline: %s\n", err);
            goto done;
        }
        if (train.n_skipped)
            fprintf(stderr, "melodynet eval: baseline: skipped %zu of %zu training files\n",
                    train.n_skipped, train.n_skipped + train.n);
        if (mn_ngram_new((int)order, &mn_model_cfg(model)->dur, &g, err)) {
            fprintf(stderr, "melodynet eval: %s\n", err);
            goto done;
        }
        for (size_t i = 0; i < train.n; i++)
            if (mn_ngram_add(g, &train.mels[i], err)) {
                fprintf(stderr, "melodynet eval: baseline: %s\n", err);
                goto done;
            }
    }
    mn_eval_sums net = {0}, mot = {0}, bl = {0};
    for (size_t i = 0; i < corpus.n; i++) {
        mn_eval_session(s, &corpus.mels[i], &net);
        if (sm) mn_eval_session(sm, &corpus.mels[i], &mot);
        if (g) mn_eval_ngram(g, &corpus.mels[i], &bl);
    }
    if (json) {
        printf("{\"model\":");
        mn_json_fput_str(stdout, model_path);
        printf(",");
        json_scores(&corpus, &net);
        if (sm) {
            printf(",\"with_motif\":{");
            json_scores(&corpus, &mot);
            printf("}");
        }
        if (g) {
            printf(",\"baseline\":{\"order\":%ld,\"train_files\":%zu,\"train_events\":%zu,", order,
                   train.n, train.n_events);
            json_scores(&corpus, &bl);
            printf("}");
        }
        printf("}\n");
    } else {
        printf("model     %s\n", model_path);
        printf("files     %zu scored, %zu skipped\n", corpus.n, corpus.n_skipped);
        text_scores("network", &net);
        if (sm) text_scores("+ motifs", &mot);
        if (g) {
            char label[32];
            snprintf(label, sizeof label, "%ld-gram", order);
            text_scores(label, &bl);
            printf("(baseline trained on %zu files, %zu events)\n", train.n, train.n_events);
        }
    }
    rc = 0;
done:
    mn_ngram_free(g);
    mn_session_free(s);
    mn_session_free(sm);
    mn_model_free(model);
    mn_corpus_free(&corpus);
    mn_corpus_free(&train);
    free(files);
    free(base);
    return rc;
}
