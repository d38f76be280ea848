/* cmd_fitmotif.c - `melodynet fit-motif`: fits the motif memory's weights, veto and repeat caps
 * (motif.h) for one model on held-out tunes, and the bar lengths and first-note positions those
 * tunes start at, and writes them into a copy of the model as the "motif_params" and
 * "start_metre" metadata. The network's tensors are copied unchanged. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data.h"
#include "model.h"
#include "motif.h"
#include "sampler.h"
#include "session.h"

#define MAX_STARTS 256

static void help(FILE *f)
{
    fprintf(f,
        "usage: melodynet fit-motif [-m MODEL] FILES... -o OUT.mnet\n\n"
        "Fits the motif memory of MODEL on held-out tunes (FILES: MIDI files, folders or .txt\n"
        "lists; use tunes the model was not trained on, e.g. its valid splits) and writes OUT, a\n"
        "copy of MODEL with the fitted values in its metadata:\n"
        "  motif_params  the weight of a proposal by match length, for phrase repeats (far) and\n"
        "                for repeats of the last 8 events (near, at most 0.5), by maximum\n"
        "                likelihood; the veto below which the network's odds for a proposal\n"
        "                give it no weight; and the cap on repeating a pitch after a run of r,\n"
        "                the share of such runs the tunes continue\n"
        "  start_metre   the bar lengths and first-note positions the tunes start at, which\n"
        "                unprimed generation draws from\n"
        "OUT may be MODEL itself (it is replaced atomically).\n\n"
        "  -m, --model FILE   model (default: the bundled model)\n"
        "  -o, --output FILE  the model file to write\n");
}

int mn_cmd_fitmotif(int argc, char **argv)
{
    const char *model_path = NULL, *out_path = NULL;
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    size_t n_files = 0;
    int rc = 2;
    mn_corpus c = {0};
    mn_model *model = NULL;
    mn_session *s = NULL;
    mn_motif_obs *obs = NULL;
    const char *(*meta)[2] = NULL;
    char *fit_data = NULL;
    char err[MN_ERR_LEN], buf[4096];
    if (!files) {
        fprintf(stderr, "melodynet fit-motif: out of memory\n");
        return 1;
    }
    int parsed = mn_cli_model_out_files("fit-motif", argc, argv, help, "no tunes to fit on", &model_path,
                                        &out_path, files, &n_files);
    if (parsed) {
        rc = parsed < 0 ? 0 : parsed;
        goto done;
    }
    rc = 1;
    if (!model_path && !(model_path = mn_cli_default_model(buf, sizeof buf))) {
        fprintf(stderr, "melodynet fit-motif: no model given (-m) and no bundled model found\n");
        goto done;
    }
    mn_midi_options mopt;
    mn_midi_options_default(&mopt);
    if (mn_model_load(model_path, &model, err) || mn_session_new(model, 1, &s, err) ||
        mn_corpus_load(&c, files, n_files, &mopt, NULL, NULL, err)) {
        fprintf(stderr, "melodynet fit-motif: %s\n", err);
        goto done;
    }
    if (c.n_skipped)
        fprintf(stderr, "melodynet fit-motif: skipped %zu of %zu files (first: %s: %s)\n",
                c.n_skipped, c.n + c.n_skipped, c.skipped[0].path, c.skipped[0].reason);
    mn_session_sampler(s)->motif = 0;
    const mn_durtable *dt = &mn_model_cfg(model)->dur;
    obs = malloc((c.n_events ? c.n_events : 1) * sizeof *obs);
    if (!obs) {
        fprintf(stderr, "melodynet fit-motif: out of memory for %zu events\n", c.n_events);
        goto done;
    }
    size_t n_obs = 0;
    int st_bar[MAX_STARTS], st_pos[MAX_STARTS], n_st = 0;
    long st_n[MAX_STARTS];
    for (size_t t = 0; t < c.n; t++) {
        const mn_melody *m = &c.mels[t];
        if (!m->n) continue;
        int bar = m->ev[0].bar_ticks, pos = m->ev[0].pos_ticks, j = 0;
        while (j < n_st && (st_bar[j] != bar || st_pos[j] != pos)) j++;
        if (j == n_st && n_st < MAX_STARTS) {
            st_bar[j] = bar;
            st_pos[j] = pos;
            st_n[j] = 0;
            n_st++;
        }
        if (j < n_st) st_n[j]++;
        mn_session_reset(s);
        mn_motif mo;
        mn_motif_reset(&mo);
        for (size_t i = 0; i < m->n; i++) {
            const mn_event *e = &m->ev[i];
            const float *pl = mn_session_pitch_logits(s, e->pos_ticks, e->bar_ticks);
            int p = mn_is_pitch(e->pitch) ? e->pitch : MN_REST;
            int d = mn_durtable_index(dt, e->dur_ticks);
            mn_motif_obs *o = &obs[n_obs++];
            memset(o, 0, sizeof *o);
            o->q_pitch = exp2(-mn_neglog2_softmax(pl, MN_N_PITCH, p));
            int pp = 0, pd = 0, dist = 0;
            o->k = mn_motif_propose_at(&mo, &pp, &pd, &dist);
            if (o->k && pd >= dt->n) o->k = 0;
            o->dist = dist;
            if (o->k) {
                o->q_prop = exp2(-mn_neglog2_softmax(pl, MN_N_PITCH, pp));
                o->pitch_hit = pp == p;
                o->hit = pp == p && pd == d;
            }
            if (mo.last_note >= 0) {
                o->run = mo.run;
                o->repeat = p == mo.last_note;
                o->prop_repeat = o->k && pp == mo.last_note;
                o->q_rep = exp2(-mn_neglog2_softmax(pl, MN_N_PITCH, mo.last_note));
            }
            const float *dl = mn_session_dur_logits(s, p);
            o->q = o->q_pitch * exp2(-mn_neglog2_softmax(dl, dt->n, d));
            mn_session_commit(s, e);
            mn_motif_push(&mo, p, d);
        }
    }
    mn_motif_params mp;
    double b0, b1;
    if (mn_motif_fit(obs, n_obs, &mp, &b0, &b1, err)) {
        fprintf(stderr, "melodynet fit-motif: %s\n", err);
        goto done;
    }
    char mtxt[MN_MOTIF_PARAMS_TEXT], stxt[MAX_STARTS * 24 + 1];
    mn_motif_params_format(&mp, mtxt, sizeof mtxt);
    size_t len = 0;
    stxt[0] = '\0';
    for (int j = 0; j < n_st; j++)
        len += (size_t)snprintf(stxt + len, sizeof stxt - len, "%s%d:%d:%ld", j ? " " : "",
                                st_bar[j], st_pos[j], st_n[j]);
    size_t fd_len = 1;
    for (size_t i = 0; i < n_files; i++) fd_len += strlen(files[i]) + 1;
    fit_data = malloc(fd_len);
    size_t n_old = mn_model_meta_count(model);
    meta = malloc((n_old + 3) * sizeof *meta);
    if (!fit_data || !meta) {
        fprintf(stderr, "melodynet fit-motif: out of memory\n");
        goto done;
    }
    fit_data[0] = '\0';
    for (size_t i = 0; i < n_files; i++) {
        if (i) strcat(fit_data, " ");
        strcat(fit_data, files[i]);
    }
    size_t n_meta = 0;
    for (size_t i = 0; i < n_old; i++) {
        const char *k, *v;
        mn_model_meta_at(model, i, &k, &v);
        if (!strcmp(k, "motif_params") || !strcmp(k, "start_metre") || !strcmp(k, "motif_data"))
            continue;
        meta[n_meta][0] = k;
        meta[n_meta][1] = v;
        n_meta++;
    }
    meta[n_meta][0] = "motif_params";
    meta[n_meta++][1] = mtxt;
    meta[n_meta][0] = "start_metre";
    meta[n_meta++][1] = stxt;
    meta[n_meta][0] = "motif_data";
    meta[n_meta++][1] = fit_data;
    if (mn_model_save(out_path, mn_model_cfg(model), mn_model_params(model),
                      (const char *const(*)[2])meta, n_meta, err)) {
        fprintf(stderr, "melodynet fit-motif: %s\n", err);
        goto done;
    }
    printf("fitted on %zu tunes, %zu events: network %.4f bits/event, with the memory %.4f "
           "(pitch and duration, before the repeat caps)\n", c.n, n_obs, b0, b1);
    printf("motif_params %s\nstart_metre  %s\nwrote %s\n", mtxt, stxt, out_path);
    rc = 0;
done:
    free(meta);
    free(fit_data);
    free(obs);
    mn_session_free(s);
    mn_model_free(model);
    mn_corpus_free(&c);
    free(files);
    return rc;
}
