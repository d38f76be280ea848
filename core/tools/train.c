/* train.c - the trainer of train.h. Sections: RNG, configuration, corpus tokens and streams,
 * buffers, forward (layer-0 tables, LSTM layers, heads), backward (the same in reverse),
 * optimizer, the training step, evaluation, export, checkpoints and fine-tuning.
 *
 * Layout of a window: position n = t*B + b (time-major), so the rows of one time step are
 * contiguous and the recurrent product of a step is one [B,H] x [H,4H] product (gemm.h); everything
 * else (input projections, heads and all weight gradients) is one product over the B*T
 * positions. */
#include "train.h"
#include "gemm.h"
#include "sampler.h"
#include "vmath.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/*=== RNG ====================================================================================*/

/* The trainer draws from its own mn_rng streams (init, shuffles, dropout), so its state can be
 * checkpointed and no other module's generator is disturbed. */
static double rng_normal(mn_rng *r)
{
    double u = mn_rng_uniform(r), v = mn_rng_uniform(r);
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

static uint64_t rng_below(mn_rng *r, uint64_t n)
{
    return (uint64_t)(mn_rng_uniform(r) * (double)n);
}

/*=== configuration ==========================================================================*/

void mn_train_config_default(mn_train_config *c)
{
    memset(c, 0, sizeof *c);
    c->model.n_layers = 2;
    c->model.n_hidden = 256;
    c->model.n_embed = 64;
    c->model.n_pos = 192;
    c->max_durations = 32;
    c->batch = 32;
    c->seq = 64;
    c->lr = 2e-3f;
    c->lr_decay = 0.7f;
    c->warmup = 200;
    c->weight_decay = 0.01f;
    c->clip = 1.0f;
    c->dropout = 0.0f;
    c->beta1 = 0.9f;
    c->beta2 = 0.999f;
    c->eps = 1e-8f;
    c->seed = 1;
    c->augment = 1;
}

mn_status mn_train_config_validate(const mn_train_config *c, char *err)
{
    const mn_model_config *m = &c->model;
    if (m->n_layers < 1 || m->n_layers > MN_MAX_LAYERS)
        return mn_errf(err, MN_ERR_ARG, "train: %d layers, expected 1..%d", m->n_layers,
                       MN_MAX_LAYERS);
    if (m->n_hidden < 1 || m->n_hidden > MN_MAX_HIDDEN)
        return mn_errf(err, MN_ERR_ARG, "train: hidden size %d, expected 1..%d", m->n_hidden,
                       MN_MAX_HIDDEN);
    if (m->n_embed < 1 || m->n_embed > MN_MAX_EMBED)
        return mn_errf(err, MN_ERR_ARG, "train: embedding size %d, expected 1..%d", m->n_embed,
                       MN_MAX_EMBED);
    if (m->n_pos < 0 || m->n_pos > MN_MAX_POS)
        return mn_errf(err, MN_ERR_ARG, "train: %d positions, expected 0..%d", m->n_pos,
                       MN_MAX_POS);
    if (m->dur.n) {
        mn_status st = mn_durtable_validate(&m->dur, err);
        if (st) return st;
    }
    if (c->max_durations < 1 || c->max_durations > MN_MAX_DUR)
        return mn_errf(err, MN_ERR_ARG, "train: %d durations, expected 1..%d", c->max_durations,
                       MN_MAX_DUR);
    if (c->batch < 1 || c->batch > MN_TRAIN_MAX_BATCH)
        return mn_errf(err, MN_ERR_ARG, "train: batch %d, expected 1..%d", c->batch,
                       MN_TRAIN_MAX_BATCH);
    if (c->seq < 1 || c->seq > MN_TRAIN_MAX_SEQ)
        return mn_errf(err, MN_ERR_ARG, "train: window %d, expected 1..%d", c->seq,
                       MN_TRAIN_MAX_SEQ);
    if (!(c->lr > 0 && c->lr < 10))
        return mn_errf(err, MN_ERR_ARG, "train: learning rate %g, expected (0, 10)", c->lr);
    if (!(c->lr_decay > 0 && c->lr_decay <= 1))
        return mn_errf(err, MN_ERR_ARG, "train: lr decay %g, expected (0, 1]", c->lr_decay);
    if (c->warmup < 0)
        return mn_errf(err, MN_ERR_ARG, "train: warm-up %d steps, expected >= 0", c->warmup);
    if (!(c->weight_decay >= 0 && c->weight_decay < 1))
        return mn_errf(err, MN_ERR_ARG, "train: weight decay %g, expected [0, 1)",
                       c->weight_decay);
    if (!(c->clip == c->clip))
        return mn_errf(err, MN_ERR_ARG, "train: clip is not a number");
    if (!(c->dropout >= 0 && c->dropout <= 0.9f))
        return mn_errf(err, MN_ERR_ARG, "train: dropout %g, expected 0..0.9", c->dropout);
    if (!(c->beta1 >= 0 && c->beta1 < 1 && c->beta2 >= 0 && c->beta2 < 1 && c->eps > 0))
        return mn_errf(err, MN_ERR_ARG, "train: Adam betas in [0, 1) and eps > 0 expected");
    return MN_OK;
}

/*=== trainer state ==========================================================================*/

typedef struct {
    size_t off;  /* first event in the token arrays */
    uint32_t n;  /* events */
    int lo, hi;  /* lowest and highest note (lo > hi when the tune has only rests) */
} tune;

/* One stream of the batch: the item (tune and shift) it is in and the next event in it. */
typedef struct {
    uint32_t item; /* encoded tune << 4 | (shift - MN_TRAIN_SHIFT_LO); ITEM_NONE before any */
    uint32_t off;
} stream;

#define ITEM_NONE UINT32_MAX
#define ITEM_TUNE(it) ((it) >> 4)
#define ITEM_SHIFT(it) ((int)((it) & 15u) + MN_TRAIN_SHIFT_LO)

/* Activations of one LSTM layer over a window. */
typedef struct {
    float *gates;  /* [TB, 4H] activated gates i, f, g, o */
    float *c;      /* [TB, H] cell state */
    float *tc;     /* [TB, H] tanh(c) */
    float *h;      /* [TB, H] output */
    float *hin;    /* [TB, H] previous hidden state as used (zero at a tune start) */
    float *cin;    /* [TB, H] previous cell state as used */
    float *mask;   /* [TB, H] dropout mask on h, 0 or 1/(1-p) (l < L-1 with dropout), or NULL */
    float *hd;     /* [TB, H] h * mask, the input of layer l+1 (NULL: h is used) */
    float *carry_h, *carry_c; /* [B, H] state after the last training window */
    float *eval_h, *eval_c;   /* [B, H] the same for evaluation */
} lstm_acts;

struct mn_trainer {
    mn_train_config cfg;
    mn_train_progress prog;
    int L, H, E, ND, NP, I0, B, T;
    size_t n_params;
    float *params, *grads, *adam_m, *adam_v; /* [n_params] each, canonical layout */
    mn_weights w, gw;   /* pointers into params and grads */
    size_t decay_off[2 * MN_MAX_LAYERS + 2], decay_len[2 * MN_MAX_LAYERS + 2];
    int n_decay;        /* weight matrices, which get weight decay */

    /* training tokens */
    uint8_t *tok_pitch; /* [n_tok] 0..127, MN_REST */
    uint8_t *tok_dur;   /* [n_tok] duration token */
    uint16_t *tok_pos;  /* [n_tok] position class, min(pos_ticks, n_pos - 1) */
    size_t n_tok;
    tune *tunes;
    size_t n_tunes;
    uint64_t fingerprint;
    uint32_t *items;    /* [n_items] this pass's shuffled (tune, shift) list */
    size_t n_items;
    uint64_t epoch_events;
    uint64_t list_epoch; /* which shuffle items holds */
    size_t list_pos;     /* next item to hand out */
    stream *streams;     /* [B] */
    mn_rng rng;       /* dropout masks */

    /* the window, [TB] each */
    int *in_p, *in_d, *in_q, *tg_p, *tg_d;
    uint8_t *reset;      /* 1: a tune starts here (state zeroed, BOS input) */
    uint8_t *valid;      /* 1: the position counts (evaluation pads the last windows) */
    double *loss_p, *loss_d; /* [TB] nats */

    /* activations and scratch (one arena) */
    float *arena;
    lstm_acts act[MN_MAX_LAYERS];
    float *tab_p, *tab_d, *tab_q;    /* [130, 4H], [ND+1, 4H], [NP, 4H]: emb @ W_ih0 block^T */
    float *dtab_p, *dtab_d, *dtab_q; /* their gradients */
    float *bsum;        /* [4H] b_ih + b_hh of the current layer */
    float *logit_p;     /* [TB, 129] pitch logits, then their gradient */
    float *logit_d;     /* [TB, ND] duration logits, then their gradient */
    float *ep;          /* [TB, E] emb_pitch[target pitch], input of the duration head */
    float *dep;         /* [TB, E] its gradient */
    float *dh, *dh2;    /* [TB, H] gradient at the output of the current / lower layer */
    float *dgates;      /* [TB, 4H] gradient at the gate pre-activations */
    float *dh_rec, *dc_rec; /* [B, H] gradient flowing to the previous time step */
};

const mn_train_config *mn_trainer_config(const mn_trainer *t) { return &t->cfg; }
mn_train_progress *mn_trainer_progress(mn_trainer *t) { return &t->prog; }
size_t mn_trainer_n_params(const mn_trainer *t) { return t->n_params; }
float *mn_trainer_params(mn_trainer *t) { return t->params; }
float *mn_trainer_grads(mn_trainer *t) { return t->grads; }
uint64_t mn_trainer_epoch_events(const mn_trainer *t) { return t->epoch_events; }

uint64_t mn_trainer_steps_per_epoch(const mn_trainer *t)
{
    uint64_t tb = (uint64_t)t->B * (uint64_t)t->T;
    uint64_t s = (t->epoch_events + tb - 1) / tb;
    return s ? s : 1;
}

static float lr_at(const mn_trainer *t, uint64_t step)
{
    double lr = t->cfg.lr;
    if (t->cfg.warmup > 0 && step < (uint64_t)t->cfg.warmup)
        lr *= (double)(step + 1) / (double)t->cfg.warmup;
    uint64_t epoch = step / mn_trainer_steps_per_epoch(t);
    lr *= pow(t->cfg.lr_decay, (double)epoch);
    return (float)lr;
}

float mn_trainer_lr(const mn_trainer *t) { return lr_at(t, t->prog.step); }

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/*=== tokens, items and streams ==============================================================*/

/* Whether a tune with notes lo..hi (lo > hi: only rests) is used under shift s. */
static int shift_fits(int augment, int lo, int hi, int s)
{
    if (!augment) return s == 0;
    if (lo > hi) return s == 0; /* only rests: one copy */
    return lo + s >= 0 && hi + s <= 127;
}

static int shift_ok(const mn_trainer *t, const tune *u, int s)
{
    return shift_fits(t->cfg.augment, u->lo, u->hi, s);
}

/* Fills items with the canonical (tune, shift) list and shuffles it with the seed of pass e,
 * so any pass can be rebuilt from (seed, e) alone (checkpoints store only e and a position). */
static void items_build(mn_trainer *t, uint64_t e)
{
    size_t k = 0;
    for (size_t i = 0; i < t->n_tunes; i++)
        for (int s = MN_TRAIN_SHIFT_LO; s <= MN_TRAIN_SHIFT_HI; s++)
            if (shift_ok(t, &t->tunes[i], s))
                t->items[k++] = (uint32_t)(i << 4) | (uint32_t)(s - MN_TRAIN_SHIFT_LO);
    mn_rng r;
    mn_rng_seed(&r, t->cfg.seed ^ (0x5851f42d4c957f2dull * (e + 1)));
    for (size_t i = k; i > 1; i--) {
        size_t j = (size_t)rng_below(&r, i);
        uint32_t x = t->items[i - 1];
        t->items[i - 1] = t->items[j];
        t->items[j] = x;
    }
    t->list_epoch = e;
    t->list_pos = 0;
}

static uint32_t next_item(mn_trainer *t)
{
    if (t->list_pos >= t->n_items) items_build(t, t->list_epoch + 1);
    return t->items[t->list_pos++];
}

/* Input and target tokens of event j of a tune under a shift. */
static void put_event(mn_trainer *t, size_t n, const tune *u, int shift, uint32_t j,
                      const uint8_t *pitch, const uint8_t *dur, const uint16_t *pos)
{
    int p = pitch[u->off + j];
    t->tg_p[n] = p == MN_REST ? p : p + shift;
    t->tg_d[n] = dur[u->off + j];
    t->in_q[n] = t->NP ? pos[u->off + j] : 0;
    if (j == 0) {
        t->in_p[n] = MN_PITCH_BOS;
        t->in_d[n] = t->ND;
        t->reset[n] = 1;
    } else {
        int q = pitch[u->off + j - 1];
        t->in_p[n] = q == MN_REST ? q : q + shift;
        t->in_d[n] = dur[u->off + j - 1];
        t->reset[n] = 0;
    }
    t->valid[n] = 1;
}

void mn_trainer_next_window(mn_trainer *t)
{
    const int B = t->B, T = t->T;
    for (int b = 0; b < B; b++) {
        stream *s = &t->streams[b];
        for (int i = 0; i < T; i++) {
            if (s->item == ITEM_NONE || s->off >= t->tunes[ITEM_TUNE(s->item)].n) {
                s->item = next_item(t);
                s->off = 0;
            }
            put_event(t, (size_t)i * B + b, &t->tunes[ITEM_TUNE(s->item)], ITEM_SHIFT(s->item),
                      s->off++, t->tok_pitch, t->tok_dur, t->tok_pos);
        }
    }
    /* dropout masks, drawn here so that forward_backward is a pure function of the window */
    size_t nh = (size_t)B * T * t->H;
    float keep = 1.0f - t->cfg.dropout, scale = 1.0f / keep;
    for (int l = 0; l < t->L - 1; l++) {
        float *m = t->act[l].mask;
        if (!m) continue;
        for (size_t i = 0; i < nh; i++) m[i] = mn_rng_uniform(&t->rng) < keep ? scale : 0.0f;
    }
}

mn_status mn_trainer_set_window(mn_trainer *t, const int *in_pitch, const int *in_dur,
                                const int *in_pos, const int *tg_pitch, const int *tg_dur,
                                const uint8_t *reset, char *err)
{
    size_t TB = (size_t)t->B * t->T;
    int np = t->NP ? t->NP : 1;
    for (size_t n = 0; n < TB; n++)
        if (in_pitch[n] < 0 || in_pitch[n] > MN_PITCH_BOS || in_dur[n] < 0 ||
            in_dur[n] > t->ND || in_pos[n] < 0 || in_pos[n] >= np || tg_pitch[n] < 0 ||
            tg_pitch[n] > MN_REST || tg_dur[n] < 0 || tg_dur[n] >= t->ND)
            return mn_errf(err, MN_ERR_ARG, "train: window position %zu holds a token out of "
                           "range", n);
    for (size_t n = 0; n < TB; n++) {
        t->in_p[n] = in_pitch[n], t->in_d[n] = in_dur[n], t->in_q[n] = in_pos[n];
        t->tg_p[n] = tg_pitch[n], t->tg_d[n] = tg_dur[n];
        t->reset[n] = reset[n] != 0;
        t->valid[n] = 1;
    }
    return MN_OK;
}

/* Token arrays for melodies (the training corpus or a validation set). Skips empty melodies.
 * Returns MN_ERR_NOMEM or MN_OK; *n_tunes may be 0. */
static mn_status tokenize(const mn_model_config *mc, const mn_melody *mels, size_t n_mels,
                          uint8_t **pitch, uint8_t **dur, uint16_t **pos, tune **tunes,
                          size_t *n_tunes, size_t *n_tok, char *err)
{
    size_t total = 0, nt = 0;
    for (size_t i = 0; i < n_mels; i++)
        if (mels[i].n) {
            total += mels[i].n;
            nt++;
        }
    *pitch = mn_malloc(total);
    *dur = mn_malloc(total);
    *pos = mn_malloc(total * sizeof **pos);
    *tunes = mn_malloc(nt * sizeof **tunes);
    if (!*pitch || !*dur || !*pos || !*tunes) {
        mn_free(*pitch), mn_free(*dur), mn_free(*pos), mn_free(*tunes);
        *pitch = *dur = NULL, *pos = NULL, *tunes = NULL;
        return mn_errf(err, MN_ERR_NOMEM, "train: out of memory for %zu events", total);
    }
    size_t k = 0, u = 0;
    for (size_t i = 0; i < n_mels; i++) {
        const mn_melody *m = &mels[i];
        if (!m->n) continue;
        if (m->n > UINT32_MAX / 2) return mn_errf(err, MN_ERR_LIMIT, "train: tune too long");
        tune *tu = &(*tunes)[u++];
        tu->off = k;
        tu->n = (uint32_t)m->n;
        tu->lo = 128, tu->hi = -1;
        for (size_t j = 0; j < m->n; j++, k++) {
            const mn_event *e = &m->ev[j];
            int p = mn_is_pitch(e->pitch) ? e->pitch : MN_REST;
            if (p != MN_REST) {
                if (p < tu->lo) tu->lo = p;
                if (p > tu->hi) tu->hi = p;
            }
            (*pitch)[k] = (uint8_t)p;
            (*dur)[k] = (uint8_t)mn_durtable_index(&mc->dur, e->dur_ticks);
            int q = e->pos_ticks < 0 ? 0 : e->pos_ticks;
            if (mc->n_pos > 0 && q > mc->n_pos - 1) q = mc->n_pos - 1;
            (*pos)[k] = (uint16_t)(mc->n_pos > 0 ? q : 0);
        }
    }
    *n_tunes = nt;
    *n_tok = total;
    return MN_OK;
}

/*=== buffers ================================================================================*/

/* Carves n floats (rounded up to 64 bytes) from *p; with *p NULL only counts. */
static float *carve(float **p, size_t *used, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    float *r = *p ? *p + *used : NULL;
    *used += n;
    return r;
}

static size_t layout_arena(mn_trainer *t, float *base)
{
    float *p = base;
    size_t used = 0, B = t->B, TB = (size_t)t->B * t->T, H = t->H, G = 4 * H, E = t->E;
    for (int l = 0; l < t->L; l++) {
        lstm_acts *a = &t->act[l];
        a->gates = carve(&p, &used, TB * G);
        a->c = carve(&p, &used, TB * H);
        a->tc = carve(&p, &used, TB * H);
        a->h = carve(&p, &used, TB * H);
        a->hin = carve(&p, &used, TB * H);
        a->cin = carve(&p, &used, TB * H);
        int drop = l < t->L - 1 && t->cfg.dropout > 0;
        a->mask = drop ? carve(&p, &used, TB * H) : NULL;
        a->hd = drop ? carve(&p, &used, TB * H) : NULL;
        a->carry_h = carve(&p, &used, B * H);
        a->carry_c = carve(&p, &used, B * H);
        a->eval_h = carve(&p, &used, B * H);
        a->eval_c = carve(&p, &used, B * H);
    }
    t->tab_p = carve(&p, &used, MN_N_PITCH_IN * G);
    t->tab_d = carve(&p, &used, (size_t)(t->ND + 1) * G);
    t->tab_q = carve(&p, &used, (size_t)(t->NP ? t->NP : 1) * G);
    t->dtab_p = carve(&p, &used, MN_N_PITCH_IN * G);
    t->dtab_d = carve(&p, &used, (size_t)(t->ND + 1) * G);
    t->dtab_q = carve(&p, &used, (size_t)(t->NP ? t->NP : 1) * G);
    t->bsum = carve(&p, &used, G);
    t->logit_p = carve(&p, &used, TB * MN_N_PITCH);
    t->logit_d = carve(&p, &used, TB * t->ND);
    t->ep = carve(&p, &used, TB * E);
    t->dep = carve(&p, &used, TB * E);
    t->dh = carve(&p, &used, TB * H);
    t->dh2 = carve(&p, &used, TB * H);
    t->dgates = carve(&p, &used, TB * G);
    t->dh_rec = carve(&p, &used, B * H);
    t->dc_rec = carve(&p, &used, B * H);
    return used;
}

static float *mut(const float *p) { return (float *)(uintptr_t)p; }

/* PyTorch's defaults: embeddings N(0, 1); LSTM weights and biases U(-1/sqrt(H), 1/sqrt(H));
 * linear layers U(-1/sqrt(in), 1/sqrt(in)) for weights and biases. */
static void init_params(mn_trainer *t)
{
    mn_rng r;
    mn_rng_seed(&r, t->cfg.seed);
    const mn_weights *w = &t->w;
    size_t E = t->E, H = t->H, G = 4 * H;
    float *p;
    size_t n;
#define FILL_N(ptr, count) \
    for (p = mut(ptr), n = (count); n--; p++) *p = (float)rng_normal(&r)
#define FILL_U(ptr, count, k) \
    for (p = mut(ptr), n = (count); n--; p++) *p = (float)((2 * mn_rng_uniform(&r) - 1) * (k))
    FILL_N(w->emb_pitch, MN_N_PITCH_IN * E);
    FILL_N(w->emb_dur, (size_t)(t->ND + 1) * E);
    if (t->NP) FILL_N(w->emb_pos, (size_t)t->NP * E);
    double k = 1.0 / sqrt((double)H);
    for (int l = 0; l < t->L; l++) {
        size_t in = l ? H : (size_t)t->I0;
        FILL_U(w->lstm[l].w_ih, G * in, k);
        FILL_U(w->lstm[l].w_hh, G * H, k);
        FILL_U(w->lstm[l].b_ih, G, k);
        FILL_U(w->lstm[l].b_hh, G, k);
    }
    FILL_U(w->head_pitch_w, MN_N_PITCH * H, k);
    FILL_U(w->head_pitch_b, MN_N_PITCH, k);
    double kd = 1.0 / sqrt((double)(H + E));
    FILL_U(w->head_dur_w, (size_t)t->ND * (H + E), kd);
    FILL_U(w->head_dur_b, (size_t)t->ND, kd);
#undef FILL_N
#undef FILL_U
}

void mn_trainer_free(mn_trainer *t)
{
    if (!t) return;
    mn_free(t->params);
    mn_free(t->tok_pitch);
    mn_free(t->tok_dur);
    mn_free(t->tok_pos);
    mn_free(t->tunes);
    mn_free(t->items);
    mn_free(t->streams);
    mn_free(t->in_p);
    mn_free(t->reset);
    mn_free(t->loss_p);
    mn_free(t->arena);
    mn_free(t);
}

mn_status mn_trainer_new(const mn_train_config *cfg, const mn_melody *mels, size_t n_mels,
                         mn_trainer **out, char *err)
{
    *out = NULL;
    mn_status st = mn_train_config_validate(cfg, err);
    if (st) return st;
    mn_trainer *t = mn_calloc(1, sizeof *t);
    if (!t) return mn_errf(err, MN_ERR_NOMEM, "train: out of memory");
    t->cfg = *cfg;
    mn_model_config *mc = &t->cfg.model;
    if (!mc->dur.n) {
        st = mn_durtable_build(&mc->dur, mels, n_mels, cfg->max_durations, err);
        if (st) goto fail;
    }
    if ((st = mn_model_config_validate(mc, err))) goto fail;
    t->L = mc->n_layers, t->H = mc->n_hidden, t->E = mc->n_embed;
    t->ND = mc->dur.n, t->NP = mc->n_pos, t->I0 = mn_model_input_size(mc);
    t->B = cfg->batch, t->T = cfg->seq;

    st = tokenize(mc, mels, n_mels, &t->tok_pitch, &t->tok_dur, &t->tok_pos, &t->tunes,
                  &t->n_tunes, &t->n_tok, err);
    if (st) goto fail;
    if (!t->n_tunes) {
        st = mn_errf(err, MN_ERR_EMPTY, "train: no melody with events to train on");
        goto fail;
    }
    if (t->n_tunes > (UINT32_MAX >> 4)) {
        st = mn_errf(err, MN_ERR_LIMIT, "train: %zu tunes, at most %u", t->n_tunes,
                     UINT32_MAX >> 4);
        goto fail;
    }
    uint64_t fp = 0xcbf29ce484222325ull;
    fp = fnv1a(fp, t->tok_pitch, t->n_tok);
    fp = fnv1a(fp, t->tok_dur, t->n_tok);
    fp = fnv1a(fp, t->tok_pos, t->n_tok * sizeof *t->tok_pos);
    for (size_t i = 0; i < t->n_tunes; i++) fp = fnv1a(fp, &t->tunes[i].n, sizeof t->tunes[i].n);
    t->fingerprint = fp;

    for (size_t i = 0; i < t->n_tunes; i++)
        for (int s = MN_TRAIN_SHIFT_LO; s <= MN_TRAIN_SHIFT_HI; s++)
            if (shift_ok(t, &t->tunes[i], s)) {
                t->n_items++;
                t->epoch_events += t->tunes[i].n;
            }
    t->items = mn_malloc(t->n_items * sizeof *t->items);
    t->streams = mn_malloc((size_t)t->B * sizeof *t->streams);

    size_t TB = (size_t)t->B * t->T;
    t->in_p = mn_malloc(5 * TB * sizeof *t->in_p);
    t->reset = mn_malloc(2 * TB);
    t->loss_p = mn_malloc(2 * TB * sizeof *t->loss_p);
    t->n_params = mn_model_param_count(mc);
    t->params = mn_calloc(4 * t->n_params, sizeof *t->params);
    size_t n_arena = layout_arena(t, NULL);
    t->arena = mn_calloc(n_arena, sizeof *t->arena);
    if (!t->items || !t->streams || !t->in_p || !t->reset || !t->loss_p || !t->params ||
        !t->arena) {
        st = mn_errf(err, MN_ERR_NOMEM, "train: out of memory for the buffers");
        goto fail;
    }
    layout_arena(t, t->arena);
    t->in_d = t->in_p + TB, t->in_q = t->in_p + 2 * TB;
    t->tg_p = t->in_p + 3 * TB, t->tg_d = t->in_p + 4 * TB;
    t->valid = t->reset + TB;
    t->loss_d = t->loss_p + TB;
    t->grads = t->params + t->n_params;
    t->adam_m = t->params + 2 * t->n_params;
    t->adam_v = t->params + 3 * t->n_params;
    mn_weights_point(mc, t->params, &t->w);
    mn_weights_point(mc, t->grads, &t->gw);

    /* weight matrices get weight decay; biases and embeddings do not */
    const mn_weights *w = &t->w;
    size_t G = 4 * (size_t)t->H;
#define DECAY(ptr, count) \
    (t->decay_off[t->n_decay] = (size_t)((ptr) - t->params), t->decay_len[t->n_decay++] = (count))
    for (int l = 0; l < t->L; l++) {
        DECAY(w->lstm[l].w_ih, G * (size_t)(l ? t->H : t->I0));
        DECAY(w->lstm[l].w_hh, G * (size_t)t->H);
    }
    DECAY(w->head_pitch_w, (size_t)MN_N_PITCH * t->H);
    DECAY(w->head_dur_w, (size_t)t->ND * (t->H + t->E));
#undef DECAY

    init_params(t);
    for (int b = 0; b < t->B; b++) t->streams[b].item = ITEM_NONE, t->streams[b].off = 0;
    items_build(t, 0);
    mn_rng_seed(&t->rng, cfg->seed ^ 0xd1b54a32d192ed03ull);
    *out = t;
    return MN_OK;
fail:
    mn_trainer_free(t);
    return st;
}

/*=== forward ================================================================================*/

/* Layer 0's input is a sum of three embedding rows, so its input projection is a sum of three
 * rows of tables: tab_p[v] = W_ih0[:, 0:E] @ emb_pitch[v] (+ both biases), tab_d, tab_q the
 * same for the duration and position blocks. Building them costs (130 + ND+1 + NP) rows per
 * step instead of B*T.
 * tab_p [130, 4H], tab_d [ND+1, 4H], tab_q [NP, 4H]; gates [TB, 4H]. */
static void input0_forward(mn_trainer *t, float *gates)
{
    const mn_weights *w = &t->w;
    const int E = t->E, G = 4 * t->H, I0 = t->I0, TB = t->B * t->T;
    const float *W = w->lstm[0].w_ih;
    mn_gemm(MN_GEMM_N, MN_GEMM_T, MN_N_PITCH_IN, G, E, 1.0f, w->emb_pitch,
                E, W, I0, 0.0f, t->tab_p, G);
    mn_gemm(MN_GEMM_N, MN_GEMM_T, t->ND + 1, G, E, 1.0f, w->emb_dur, E,
                W + E, I0, 0.0f, t->tab_d, G);
    if (t->NP)
        mn_gemm(MN_GEMM_N, MN_GEMM_T, t->NP, G, E, 1.0f, w->emb_pos, E,
                    W + 2 * E, I0, 0.0f, t->tab_q, G);
    for (int v = 0; v < MN_N_PITCH_IN; v++) {
        float *row = t->tab_p + (size_t)v * G;
        for (int j = 0; j < G; j++) row[j] += w->lstm[0].b_ih[j] + w->lstm[0].b_hh[j];
    }
    for (int n = 0; n < TB; n++) {
        float *g = gates + (size_t)n * G;
        const float *a = t->tab_p + (size_t)t->in_p[n] * G;
        const float *b = t->tab_d + (size_t)t->in_d[n] * G;
        if (t->NP) {
            const float *c = t->tab_q + (size_t)t->in_q[n] * G;
            for (int j = 0; j < G; j++) g[j] = a[j] + b[j] + c[j];
        } else {
            for (int j = 0; j < G; j++) g[j] = a[j] + b[j];
        }
    }
}

/* LSTM layer l over the window (PyTorch equations, gates i, f, g, o):
 *   a = W_ih x + b_ih + W_hh h' + b_hh; c = f*c' + i*g; h = o*tanh(c)
 * x [TB, in] (NULL for layer 0: the tables above), h', c' the previous state: the carried
 * state at t = 0, zero at a tune start. */
static void lstm_forward(mn_trainer *t, int l, const float *x, int eval)
{
    lstm_acts *a = &t->act[l];
    const mn_weights *w = &t->w;
    const int B = t->B, T = t->T, H = t->H, G = 4 * H, TB = B * T;
    if (l == 0) {
        input0_forward(t, a->gates);
    } else {
        for (int j = 0; j < G; j++) t->bsum[j] = w->lstm[l].b_ih[j] + w->lstm[l].b_hh[j];
        for (int n = 0; n < TB; n++) memcpy(a->gates + (size_t)n * G, t->bsum, G * sizeof(float));
        mn_gemm(MN_GEMM_N, MN_GEMM_T, TB, G, H, 1.0f, x, H,
                    w->lstm[l].w_ih, H, 1.0f, a->gates, G);
    }
    float *carry_h = eval ? a->eval_h : a->carry_h, *carry_c = eval ? a->eval_c : a->carry_c;
    for (int s = 0; s < T; s++) {
        size_t row = (size_t)s * B;
        float *hp = a->hin + row * H, *cp = a->cin + row * H;
        const float *src_h = s ? a->h + (row - B) * H : carry_h;
        const float *src_c = s ? a->c + (row - B) * H : carry_c;
        for (int b = 0; b < B; b++) {
            if (t->reset[row + b]) {
                memset(hp + (size_t)b * H, 0, H * sizeof(float));
                memset(cp + (size_t)b * H, 0, H * sizeof(float));
            } else {
                memcpy(hp + (size_t)b * H, src_h + (size_t)b * H, H * sizeof(float));
                memcpy(cp + (size_t)b * H, src_c + (size_t)b * H, H * sizeof(float));
            }
        }
        float *g = a->gates + row * G;
        mn_gemm(MN_GEMM_N, MN_GEMM_T, B, G, H, 1.0f, hp, H,
                    w->lstm[l].w_hh, H, 1.0f, g, G);
        for (int b = 0; b < B; b++) {
            /* the gates are replaced by their activations, which backward reads */
            float *gb = g + (size_t)b * G;
            mn_lstm_cell(H, gb, cp + (size_t)b * H, a->c + (row + b) * H, a->h + (row + b) * H,
                         gb, a->tc + (row + b) * H);
        }
    }
    /* the state after the window carries into the next one */
    size_t last = (size_t)(T - 1) * B * H;
    memcpy(carry_h, a->h + last, (size_t)B * H * sizeof(float));
    memcpy(carry_c, a->c + last, (size_t)B * H * sizeof(float));
    if (a->hd && !eval) {
        size_t nh = (size_t)TB * H;
        for (size_t i = 0; i < nh; i++) a->hd[i] = a->h[i] * a->mask[i];
    }
}

/* Softmax cross-entropy of one row in place: returns -log p[k] (nats) and, when grad, leaves
 * (p - onehot(k)) * scale in the row. */
static double softmax_ce(float *x, int n, int k, int grad, float scale)
{
    float mx = x[0];
    for (int j = 1; j < n; j++)
        if (x[j] > mx) mx = x[j];
    double sum = 0;
    for (int j = 0; j < n; j++) sum += (double)expf(x[j] - mx);
    double loss = log(sum) - (double)(x[k] - mx);
    if (grad) {
        float inv = (float)(1.0 / sum);
        for (int j = 0; j < n; j++) x[j] = expf(x[j] - mx) * inv * scale;
        x[k] -= scale;
    }
    return loss;
}

/* Heads over the top layer's output htop [TB, H]:
 *   pitch logits [TB, 129] = htop @ Wp^T + bp
 *   dur logits [TB, ND] = [htop | emb_pitch[target pitch]] @ Wd^T + bd
 * Writes the per-position losses and, when grad, the logit gradients of the mean loss. */
static void heads_forward(mn_trainer *t, const float *htop, int grad)
{
    const mn_weights *w = &t->w;
    const int TB = t->B * t->T, H = t->H, E = t->E, ND = t->ND, HE = H + E;
    mn_gemm(MN_GEMM_N, MN_GEMM_T, TB, MN_N_PITCH, H, 1.0f, htop, H,
                w->head_pitch_w, H, 0.0f, t->logit_p, MN_N_PITCH);
    for (int n = 0; n < TB; n++) {
        memcpy(t->ep + (size_t)n * E, w->emb_pitch + (size_t)t->tg_p[n] * E, E * sizeof(float));
        float *lp = t->logit_p + (size_t)n * MN_N_PITCH, *ld = t->logit_d + (size_t)n * ND;
        for (int j = 0; j < MN_N_PITCH; j++) lp[j] += w->head_pitch_b[j];
        for (int j = 0; j < ND; j++) ld[j] = w->head_dur_b[j];
    }
    mn_gemm(MN_GEMM_N, MN_GEMM_T, TB, ND, H, 1.0f, htop, H, w->head_dur_w,
                HE, 1.0f, t->logit_d, ND);
    mn_gemm(MN_GEMM_N, MN_GEMM_T, TB, ND, E, 1.0f, t->ep, E,
                w->head_dur_w + H, HE, 1.0f, t->logit_d, ND);
    float scale = 1.0f / (float)TB;
    for (int n = 0; n < TB; n++) {
        t->loss_p[n] = softmax_ce(t->logit_p + (size_t)n * MN_N_PITCH, MN_N_PITCH, t->tg_p[n],
                                  grad, scale);
        t->loss_d[n] = softmax_ce(t->logit_d + (size_t)n * ND, ND, t->tg_d[n], grad, scale);
    }
}

/* Input of layer l > 0: the output of layer l-1, through its dropout mask when training. */
static const float *layer_input(const mn_trainer *t, int l, int eval)
{
    const lstm_acts *a = &t->act[l - 1];
    return a->hd && !eval ? a->hd : a->h;
}

static void forward(mn_trainer *t, int eval)
{
    for (int l = 0; l < t->L; l++)
        lstm_forward(t, l, l ? layer_input(t, l, eval) : NULL, eval);
    heads_forward(t, t->act[t->L - 1].h, !eval);
}

/*=== backward ===============================================================================*/

/* Backward of the heads: logit gradients -> weight gradients, emb_pitch (through the duration
 * head's input) and dh [TB, H] at the top layer's output. */
static void heads_backward(mn_trainer *t, const float *htop)
{
    const mn_weights *w = &t->w;
    mn_weights *gw = &t->gw;
    const int TB = t->B * t->T, H = t->H, E = t->E, ND = t->ND, HE = H + E;
    mn_gemm(MN_GEMM_T, MN_GEMM_N, MN_N_PITCH, H, TB, 1.0f, t->logit_p,
                MN_N_PITCH, htop, H, 1.0f, mut(gw->head_pitch_w), H);
    mn_gemm(MN_GEMM_T, MN_GEMM_N, ND, H, TB, 1.0f, t->logit_d, ND, htop,
                H, 1.0f, mut(gw->head_dur_w), HE);
    mn_gemm(MN_GEMM_T, MN_GEMM_N, ND, E, TB, 1.0f, t->logit_d, ND, t->ep,
                E, 1.0f, mut(gw->head_dur_w) + H, HE);
    float *gbp = mut(gw->head_pitch_b), *gbd = mut(gw->head_dur_b);
    for (int n = 0; n < TB; n++) {
        const float *lp = t->logit_p + (size_t)n * MN_N_PITCH, *ld = t->logit_d + (size_t)n * ND;
        for (int j = 0; j < MN_N_PITCH; j++) gbp[j] += lp[j];
        for (int j = 0; j < ND; j++) gbd[j] += ld[j];
    }
    mn_gemm(MN_GEMM_N, MN_GEMM_N, TB, E, ND, 1.0f, t->logit_d, ND,
                w->head_dur_w + H, HE, 0.0f, t->dep, E);
    float *gep = mut(gw->emb_pitch);
    for (int n = 0; n < TB; n++) {
        float *dst = gep + (size_t)t->tg_p[n] * E;
        const float *src = t->dep + (size_t)n * E;
        for (int j = 0; j < E; j++) dst[j] += src[j];
    }
    mn_gemm(MN_GEMM_N, MN_GEMM_N, TB, H, MN_N_PITCH, 1.0f, t->logit_p,
                MN_N_PITCH, w->head_pitch_w, H, 0.0f, t->dh, H);
    mn_gemm(MN_GEMM_N, MN_GEMM_N, TB, H, ND, 1.0f, t->logit_d, ND,
                w->head_dur_w, HE, 1.0f, t->dh, H);
}

/* Backward of layer 0's input tables: dgates [TB, 4H] -> table gradients (scatter) -> W_ih0,
 * the embeddings and the biases. */
static void input0_backward(mn_trainer *t, const float *dg)
{
    const mn_weights *w = &t->w;
    mn_weights *gw = &t->gw;
    const int E = t->E, G = 4 * t->H, I0 = t->I0, TB = t->B * t->T;
    size_t np = t->NP ? (size_t)t->NP : 1;
    memset(t->dtab_p, 0, (size_t)MN_N_PITCH_IN * G * sizeof(float));
    memset(t->dtab_d, 0, (size_t)(t->ND + 1) * G * sizeof(float));
    memset(t->dtab_q, 0, np * G * sizeof(float));
    for (int n = 0; n < TB; n++) {
        const float *src = dg + (size_t)n * G;
        float *a = t->dtab_p + (size_t)t->in_p[n] * G, *b = t->dtab_d + (size_t)t->in_d[n] * G;
        for (int j = 0; j < G; j++) a[j] += src[j], b[j] += src[j];
        if (t->NP) {
            float *c = t->dtab_q + (size_t)t->in_q[n] * G;
            for (int j = 0; j < G; j++) c[j] += src[j];
        }
    }
    /* every position adds exactly one tab_p row, so the biases' gradient is its row sum */
    float *gbi = mut(gw->lstm[0].b_ih), *gbh = mut(gw->lstm[0].b_hh);
    for (int v = 0; v < MN_N_PITCH_IN; v++) {
        const float *row = t->dtab_p + (size_t)v * G;
        for (int j = 0; j < G; j++) gbi[j] += row[j], gbh[j] += row[j];
    }
    const float *W = w->lstm[0].w_ih;
    float *gW = mut(gw->lstm[0].w_ih);
    mn_gemm(MN_GEMM_T, MN_GEMM_N, G, E, MN_N_PITCH_IN, 1.0f, t->dtab_p, G,
                w->emb_pitch, E, 1.0f, gW, I0);
    mn_gemm(MN_GEMM_N, MN_GEMM_N, MN_N_PITCH_IN, E, G, 1.0f, t->dtab_p,
                G, W, I0, 1.0f, mut(gw->emb_pitch), E);
    mn_gemm(MN_GEMM_T, MN_GEMM_N, G, E, t->ND + 1, 1.0f, t->dtab_d, G,
                w->emb_dur, E, 1.0f, gW + E, I0);
    mn_gemm(MN_GEMM_N, MN_GEMM_N, t->ND + 1, E, G, 1.0f, t->dtab_d, G,
                W + E, I0, 1.0f, mut(gw->emb_dur), E);
    if (t->NP) {
        mn_gemm(MN_GEMM_T, MN_GEMM_N, G, E, t->NP, 1.0f, t->dtab_q, G,
                    w->emb_pos, E, 1.0f, gW + 2 * E, I0);
        mn_gemm(MN_GEMM_N, MN_GEMM_N, t->NP, E, G, 1.0f, t->dtab_q, G,
                    W + 2 * E, I0, 1.0f, mut(gw->emb_pos), E);
    }
}

/* Backward of LSTM layer l: dh [TB, H] at its output (from above, all time steps) -> dgates
 * [TB, 4H] step by step from t = T-1 (truncated: nothing flows in from the next window, and
 * nothing flows back across a tune start), then the weight gradients as sgemms over all
 * positions and, for l > 0, the gradient at the input x [TB, H] into dx. */
static void lstm_backward(mn_trainer *t, int l, const float *x, const float *dh, float *dx)
{
    lstm_acts *a = &t->act[l];
    const mn_weights *w = &t->w;
    mn_weights *gw = &t->gw;
    const int B = t->B, T = t->T, H = t->H, G = 4 * H, TB = B * T;
    float *dh_rec = t->dh_rec, *dc_rec = t->dc_rec, *dg = t->dgates;
    memset(dh_rec, 0, (size_t)B * H * sizeof(float));
    memset(dc_rec, 0, (size_t)B * H * sizeof(float));
    for (int s = T - 1; s >= 0; s--) {
        size_t row = (size_t)s * B;
        for (int b = 0; b < B; b++) {
            size_t n = row + b;
            const float *gi = a->gates + n * G, *gf = gi + H, *gg = gi + 2 * H, *go = gi + 3 * H;
            const float *tc = a->tc + n * H, *cp = a->cin + n * H, *dhn = dh + n * H;
            float *di = dg + n * G, *df = di + H, *dgg = di + 2 * H, *dob = di + 3 * H;
            float *dhr = dh_rec + (size_t)b * H, *dcr = dc_rec + (size_t)b * H;
            int cut = t->reset[n];
            for (int j = 0; j < H; j++) {
                float dhv = dhn[j] + dhr[j];
                float o_ = go[j], i_ = gi[j], f_ = gf[j], g_ = gg[j], tcj = tc[j];
                float dcv = dhv * o_ * (1.0f - tcj * tcj) + dcr[j];
                dob[j] = dhv * tcj * o_ * (1.0f - o_);
                di[j] = dcv * g_ * i_ * (1.0f - i_);
                dgg[j] = dcv * i_ * (1.0f - g_ * g_);
                df[j] = dcv * cp[j] * f_ * (1.0f - f_);
                dcr[j] = cut ? 0.0f : dcv * f_;
            }
        }
        mn_gemm(MN_GEMM_N, MN_GEMM_N, B, H, G, 1.0f, dg + row * G, G,
                    w->lstm[l].w_hh, H, 0.0f, dh_rec, H);
        for (int b = 0; b < B; b++)
            if (t->reset[row + b]) memset(dh_rec + (size_t)b * H, 0, H * sizeof(float));
    }
    mn_gemm(MN_GEMM_T, MN_GEMM_N, G, H, TB, 1.0f, dg, G, a->hin, H, 1.0f,
                mut(gw->lstm[l].w_hh), H);
    if (l == 0) {
        input0_backward(t, dg);
        return;
    }
    float *gbi = mut(gw->lstm[l].b_ih), *gbh = mut(gw->lstm[l].b_hh);
    for (int n = 0; n < TB; n++) {
        const float *src = dg + (size_t)n * G;
        for (int j = 0; j < G; j++) gbi[j] += src[j];
    }
    for (int j = 0; j < G; j++) gbh[j] += gbi[j];
    mn_gemm(MN_GEMM_T, MN_GEMM_N, G, H, TB, 1.0f, dg, G, x, H, 1.0f,
                mut(gw->lstm[l].w_ih), H);
    mn_gemm(MN_GEMM_N, MN_GEMM_N, TB, H, G, 1.0f, dg, G,
                w->lstm[l].w_ih, H, 0.0f, dx, H);
    const float *m = t->act[l - 1].mask;
    if (m) {
        size_t nh = (size_t)TB * H;
        for (size_t i = 0; i < nh; i++) dx[i] *= m[i];
    }
}

static void backward(mn_trainer *t)
{
    memset(t->grads, 0, t->n_params * sizeof(float));
    heads_backward(t, t->act[t->L - 1].h);
    float *dh = t->dh, *dx = t->dh2;
    for (int l = t->L - 1; l >= 0; l--) {
        lstm_backward(t, l, l ? layer_input(t, l, 0) : NULL, dh, dx);
        float *tmp = dh;
        dh = dx, dx = tmp;
    }
}

static double mean_loss(const mn_trainer *t)
{
    size_t TB = (size_t)t->B * t->T;
    double s = 0;
    for (size_t n = 0; n < TB; n++) s += t->loss_p[n] + t->loss_d[n];
    return s / (double)TB;
}

/* The carried state is restored afterwards, so repeated calls see the same window. */
double mn_trainer_forward_backward(mn_trainer *t)
{
    size_t bh = (size_t)t->B * t->H * sizeof(float);
    /* forward overwrites the carry with the window's last state: keep the old one in the eval
     * slots (evaluation resets them anyway) */
    for (int l = 0; l < t->L; l++) {
        memcpy(t->act[l].eval_h, t->act[l].carry_h, bh);
        memcpy(t->act[l].eval_c, t->act[l].carry_c, bh);
    }
    forward(t, 0);
    backward(t);
    for (int l = 0; l < t->L; l++) {
        memcpy(t->act[l].carry_h, t->act[l].eval_h, bh);
        memcpy(t->act[l].carry_c, t->act[l].eval_c, bh);
    }
    return mean_loss(t);
}

/*=== optimizer ==============================================================================*/

static void adamw(mn_trainer *t, float lr)
{
    const mn_train_config *c = &t->cfg;
    size_t n = t->n_params;
    float *g = t->grads, *p = t->params, *m = t->adam_m, *v = t->adam_v;
    if (c->clip > 0) {
        double ss = 0;
        for (size_t i = 0; i < n; i++) ss += (double)g[i] * g[i];
        double norm = sqrt(ss);
        if (norm > c->clip) {
            float s = (float)(c->clip / norm);
            for (size_t i = 0; i < n; i++) g[i] *= s;
        }
    }
    double step = (double)(t->prog.step + 1);
    float b1 = c->beta1, b2 = c->beta2;
    float bc1 = (float)(1.0 - pow(b1, step)), bc2 = (float)(1.0 - pow(b2, step));
    float a = lr / bc1, rb2 = 1.0f / sqrtf(bc2);
    for (int k = 0; k < t->n_decay; k++) {
        float f = 1.0f - lr * c->weight_decay, *q = p + t->decay_off[k];
        for (size_t i = 0; i < t->decay_len[k]; i++) q[i] *= f;
    }
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        p[i] -= a * m[i] / (sqrtf(v[i]) * rb2 + c->eps);
    }
}

void mn_trainer_step(mn_trainer *t, double *loss)
{
    mn_trainer_next_window(t);
    forward(t, 0);
    backward(t);
    double l = mean_loss(t);
    adamw(t, lr_at(t, t->prog.step));
    t->prog.step++;
    t->prog.last_loss = l;
    if (loss) *loss = l;
}

/*=== evaluation =============================================================================*/

mn_status mn_trainer_evaluate(mn_trainer *t, const mn_melody *mels, size_t n_mels,
                              double *bits_pitch, double *bits_dur, size_t *n_events, char *err)
{
    uint8_t *pitch, *dur;
    uint16_t *pos;
    tune *tunes;
    size_t n_tunes, n_tok;
    mn_status st = tokenize(&t->cfg.model, mels, n_mels, &pitch, &dur, &pos, &tunes, &n_tunes,
                            &n_tok, err);
    if (st) return st;
    stream *ss = mn_malloc((size_t)t->B * sizeof *ss);
    if (!ss) {
        mn_free(pitch), mn_free(dur), mn_free(pos), mn_free(tunes);
        return mn_errf(err, MN_ERR_NOMEM, "train: out of memory");
    }
    const int B = t->B, T = t->T;
    size_t next = 0, done = 0;
    for (int b = 0; b < B; b++) ss[b].item = ITEM_NONE, ss[b].off = 0;
    double sp = 0, sd = 0;
    size_t count = 0;
    while (done < n_tok) {
        for (int b = 0; b < B; b++) {
            stream *s = &ss[b];
            for (int i = 0; i < T; i++) {
                size_t n = (size_t)i * B + b;
                if (s->item == ITEM_NONE || s->off >= tunes[s->item].n) {
                    if (next < n_tunes) {
                        s->item = (uint32_t)next++;
                        s->off = 0;
                    } else {
                        /* no tune left for this stream: padding that counts for nothing */
                        s->item = ITEM_NONE;
                        t->in_p[n] = MN_PITCH_BOS, t->in_d[n] = t->ND, t->in_q[n] = 0;
                        t->tg_p[n] = MN_REST, t->tg_d[n] = 0;
                        t->reset[n] = 1, t->valid[n] = 0;
                        continue;
                    }
                }
                put_event(t, n, &tunes[s->item], 0, s->off++, pitch, dur, pos);
            }
        }
        forward(t, 1);
        size_t TB = (size_t)B * T;
        for (size_t n = 0; n < TB; n++)
            if (t->valid[n]) sp += t->loss_p[n], sd += t->loss_d[n], count++;
        done = count;
    }
    mn_free(ss);
    mn_free(pitch), mn_free(dur), mn_free(pos), mn_free(tunes);
    if (!count) return mn_errf(err, MN_ERR_EMPTY, "train: no validation events");
    const double ln2 = 0.6931471805599453;
    *bits_pitch = sp / (double)count / ln2;
    *bits_dur = sd / (double)count / ln2;
    if (n_events) *n_events = count;
    return MN_OK;
}

mn_status mn_trainer_export(mn_trainer *t, const char *path, const char *const (*meta)[2],
                            size_t n_meta, char *err)
{
    return mn_model_save(path, &t->cfg.model, t->params, meta, n_meta, err);
}

/*=== checkpoints ============================================================================*/

/* File: "MNTRAIN\0", u32 version, then the fields below in order, all little-endian, and a
 * trailing u64 FNV-1a hash of every byte before it. */
#define CKPT_MAGIC "MNTRAIN"
#define CKPT_VERSION 1u
#define CKPT_MAX_BYTES ((size_t)1 << 34)

typedef struct {
    FILE *f;
    uint64_t hash;
    int bad;
} ckpt_writer;

static void w_bytes(ckpt_writer *w, const void *p, size_t n)
{
    if (w->bad) return;
    w->hash = fnv1a(w->hash, p, n);
    if (fwrite(p, 1, n, w->f) != n) w->bad = 1;
}

static void w_u64(ckpt_writer *w, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    w_bytes(w, b, 8);
}

static void w_u32(ckpt_writer *w, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
    w_bytes(w, b, 4);
}

static void w_i32(ckpt_writer *w, int v) { w_u32(w, (uint32_t)v); }

static void w_f32(ckpt_writer *w, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    w_u32(w, u);
}

static void w_f64(ckpt_writer *w, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    w_u64(w, u);
}

static void w_f32s(ckpt_writer *w, const float *p, size_t n)
{
    uint8_t buf[4096];
    while (n) {
        size_t k = n < sizeof buf / 4 ? n : sizeof buf / 4;
        for (size_t i = 0; i < k; i++) {
            uint32_t u;
            memcpy(&u, &p[i], 4);
            for (int j = 0; j < 4; j++) buf[4 * i + j] = (uint8_t)(u >> (8 * j));
        }
        w_bytes(w, buf, 4 * k);
        p += k, n -= k;
    }
}

typedef struct {
    const uint8_t *p;
    size_t n, off;
    int bad;
} ckpt_reader;

static const uint8_t *r_take(ckpt_reader *r, size_t n)
{
    if (r->bad || n > r->n - r->off) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *q = r->p + r->off;
    r->off += n;
    return q;
}

static uint64_t r_u64(ckpt_reader *r)
{
    const uint8_t *b = r_take(r, 8);
    uint64_t v = 0;
    if (b)
        for (int i = 0; i < 8; i++) v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static uint32_t r_u32(ckpt_reader *r)
{
    const uint8_t *b = r_take(r, 4);
    uint32_t v = 0;
    if (b)
        for (int i = 0; i < 4; i++) v |= (uint32_t)b[i] << (8 * i);
    return v;
}

static int r_i32(ckpt_reader *r) { return (int)r_u32(r); }

static float r_f32(ckpt_reader *r)
{
    uint32_t u = r_u32(r);
    float v;
    memcpy(&v, &u, 4);
    return v;
}

static double r_f64(ckpt_reader *r)
{
    uint64_t u = r_u64(r);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

static void r_f32s(ckpt_reader *r, float *dst, size_t n)
{
    const uint8_t *b = r_take(r, n * 4);
    if (!b) return;
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
                     (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
        memcpy(&dst[i], &u, 4);
    }
}

static void w_config(ckpt_writer *w, const mn_train_config *c)
{
    const mn_model_config *m = &c->model;
    w_i32(w, m->n_layers), w_i32(w, m->n_hidden), w_i32(w, m->n_embed), w_i32(w, m->n_pos);
    w_i32(w, m->dur.n);
    for (int i = 0; i < m->dur.n; i++) w_i32(w, m->dur.ticks[i]);
    w_i32(w, c->max_durations), w_i32(w, c->batch), w_i32(w, c->seq);
    w_f32(w, c->lr), w_f32(w, c->lr_decay), w_i32(w, c->warmup), w_f32(w, c->weight_decay);
    w_f32(w, c->clip), w_f32(w, c->dropout);
    w_f32(w, c->beta1), w_f32(w, c->beta2), w_f32(w, c->eps);
    w_u64(w, c->seed), w_i32(w, c->augment);
}

static mn_status r_config(ckpt_reader *r, mn_train_config *c, const char *path, char *err)
{
    memset(c, 0, sizeof *c);
    mn_model_config *m = &c->model;
    m->n_layers = r_i32(r), m->n_hidden = r_i32(r), m->n_embed = r_i32(r), m->n_pos = r_i32(r);
    m->dur.n = r_i32(r);
    if (m->dur.n < 1 || m->dur.n > MN_MAX_DUR)
        return mn_errf(err, MN_ERR_FORMAT, "%s: duration table of %d entries, expected 1..%d",
                       path, m->dur.n, MN_MAX_DUR);
    for (int i = 0; i < m->dur.n; i++) m->dur.ticks[i] = r_i32(r);
    c->max_durations = r_i32(r), c->batch = r_i32(r), c->seq = r_i32(r);
    c->lr = r_f32(r), c->lr_decay = r_f32(r), c->warmup = r_i32(r), c->weight_decay = r_f32(r);
    c->clip = r_f32(r), c->dropout = r_f32(r);
    c->beta1 = r_f32(r), c->beta2 = r_f32(r), c->eps = r_f32(r);
    c->seed = r_u64(r), c->augment = r_i32(r);
    if (r->bad) return mn_errf(err, MN_ERR_FORMAT, "%s: truncated configuration", path);
    char e2[MN_ERR_LEN];
    mn_status st = mn_train_config_validate(c, e2);
    if (!st) st = mn_model_config_validate(m, e2);
    if (st) return mn_errf(err, MN_ERR_FORMAT, "%s: bad configuration: %s", path, e2);
    return MN_OK;
}

mn_status mn_trainer_checkpoint_save(const mn_trainer *t, const char *path, char *err)
{
    char *tmp;
    ckpt_writer w = {mn_atomic_open(path, &tmp, err), 0xcbf29ce484222325ull, 0};
    if (!w.f) return MN_ERR_IO;
    w_bytes(&w, CKPT_MAGIC, 8);
    w_u32(&w, CKPT_VERSION);
    w_config(&w, &t->cfg);
    w_u64(&w, t->fingerprint), w_u64(&w, t->n_tunes), w_u64(&w, t->epoch_events);
    const mn_train_progress *p = &t->prog;
    w_u64(&w, p->step), w_i32(&w, p->epoch), w_f64(&w, p->best_valid), w_i32(&w, p->bad_epochs);
    w_f64(&w, p->elapsed_s), w_f64(&w, p->last_loss);
    for (int i = 0; i < 4; i++) w_u64(&w, t->rng.s[i]);
    w_u64(&w, t->list_epoch), w_u64(&w, t->list_pos);
    for (int b = 0; b < t->B; b++) w_u32(&w, t->streams[b].item), w_u32(&w, t->streams[b].off);
    w_u64(&w, t->n_params);
    w_f32s(&w, t->params, t->n_params);
    w_f32s(&w, t->adam_m, t->n_params);
    w_f32s(&w, t->adam_v, t->n_params);
    for (int l = 0; l < t->L; l++) {
        w_f32s(&w, t->act[l].carry_h, (size_t)t->B * t->H);
        w_f32s(&w, t->act[l].carry_c, (size_t)t->B * t->H);
    }
    w_u64(&w, w.hash);
    return mn_atomic_close(w.f, tmp, path, !w.bad, err);
}

/* Reads a whole checkpoint file, checks the magic, version and hash, and parses the config. */
static mn_status ckpt_open(const char *path, uint8_t **buf, ckpt_reader *r, mn_train_config *cfg,
                           char *err)
{
    *buf = NULL;
    uint8_t *b;
    size_t n;
    mn_status st = mn_read_file(path, CKPT_MAX_BYTES, MN_READ_NONEMPTY, &b, &n, err);
    if (st) return st;
    if (n < 20) {
        mn_free(b);
        return mn_errf(err, MN_ERR_FORMAT, "%s: %zu bytes, too short for a checkpoint", path, n);
    }
    if (memcmp(b, CKPT_MAGIC, 8) != 0) {
        st = mn_errf(err, MN_ERR_FORMAT, "%s: not a melodynet training checkpoint", path);
        goto fail;
    }
    size_t body = n - 8;
    ckpt_reader tail = {b + body, 8, 0, 0};
    if (fnv1a(0xcbf29ce484222325ull, b, body) != r_u64(&tail)) {
        st = mn_errf(err, MN_ERR_FORMAT, "%s: checksum mismatch (truncated or damaged)", path);
        goto fail;
    }
    *r = (ckpt_reader){b, body, 8, 0};
    uint32_t ver = r_u32(r);
    if (ver != CKPT_VERSION) {
        st = mn_errf(err, MN_ERR_FORMAT, "%s: checkpoint version %u, expected %u", path, ver,
                     CKPT_VERSION);
        goto fail;
    }
    if ((st = r_config(r, cfg, path, err))) goto fail;
    *buf = b;
    return MN_OK;
fail:
    mn_free(b);
    return st;
}

mn_status mn_train_checkpoint_config(const char *path, mn_train_config *cfg, char *err)
{
    uint8_t *buf;
    ckpt_reader r;
    mn_status st = ckpt_open(path, &buf, &r, cfg, err);
    mn_free(buf);
    return st;
}

static int config_equal(const mn_train_config *a, const mn_train_config *b)
{
    const mn_model_config *x = &a->model, *y = &b->model;
    if (x->n_layers != y->n_layers || x->n_hidden != y->n_hidden || x->n_embed != y->n_embed ||
        x->n_pos != y->n_pos || x->dur.n != y->dur.n)
        return 0;
    for (int i = 0; i < x->dur.n; i++)
        if (x->dur.ticks[i] != y->dur.ticks[i]) return 0;
    return a->batch == b->batch && a->seq == b->seq && a->lr == b->lr &&
           a->lr_decay == b->lr_decay && a->warmup == b->warmup &&
           a->weight_decay == b->weight_decay && a->clip == b->clip && a->dropout == b->dropout &&
           a->beta1 == b->beta1 && a->beta2 == b->beta2 && a->eps == b->eps &&
           a->seed == b->seed && a->augment == b->augment;
}

mn_status mn_trainer_checkpoint_load(mn_trainer *t, const char *path, char *err)
{
    uint8_t *buf;
    ckpt_reader r;
    mn_train_config cfg;
    mn_status st = ckpt_open(path, &buf, &r, &cfg, err);
    if (st) return st;
    if (!config_equal(&cfg, &t->cfg)) {
        st = mn_errf(err, MN_ERR_ARG, "%s: the checkpoint's configuration differs from this run",
                     path);
        goto done;
    }
    uint64_t fp = r_u64(&r), n_tunes = r_u64(&r), epoch_events = r_u64(&r);
    if (fp != t->fingerprint || n_tunes != t->n_tunes || epoch_events != t->epoch_events) {
        st = mn_errf(err, MN_ERR_ARG, "%s: the checkpoint was made from other training data "
                     "(%llu tunes, this run has %zu)", path, (unsigned long long)n_tunes,
                     t->n_tunes);
        goto done;
    }
    mn_train_progress p;
    p.step = r_u64(&r), p.epoch = r_i32(&r), p.best_valid = r_f64(&r), p.bad_epochs = r_i32(&r);
    p.elapsed_s = r_f64(&r), p.last_loss = r_f64(&r);
    mn_rng rng;
    for (int i = 0; i < 4; i++) rng.s[i] = r_u64(&r);
    uint64_t list_epoch = r_u64(&r), list_pos = r_u64(&r);
    size_t streams_at = r.off;
    for (int b = 0; b < t->B; b++) {
        uint32_t item = r_u32(&r), off = r_u32(&r);
        if (r.bad) break;
        if (item != ITEM_NONE &&
            (ITEM_TUNE(item) >= t->n_tunes || off > t->tunes[ITEM_TUNE(item)].n ||
             !shift_ok(t, &t->tunes[ITEM_TUNE(item)], ITEM_SHIFT(item)))) {
            st = mn_errf(err, MN_ERR_FORMAT, "%s: stream %d is at a bad position", path, b);
            goto done;
        }
    }
    uint64_t np = r_u64(&r);
    size_t need = (3 * t->n_params + 2 * (size_t)t->L * t->B * t->H) * 4;
    if (r.bad || np != t->n_params || list_pos > t->n_items || p.epoch < 0 ||
        r.n - r.off != need) {
        st = mn_errf(err, MN_ERR_FORMAT, "%s: inconsistent checkpoint (sizes or counters)", path);
        goto done;
    }
    /* everything checked: now change the trainer */
    r_f32s(&r, t->params, t->n_params);
    r_f32s(&r, t->adam_m, t->n_params);
    r_f32s(&r, t->adam_v, t->n_params);
    for (int l = 0; l < t->L; l++) {
        r_f32s(&r, t->act[l].carry_h, (size_t)t->B * t->H);
        r_f32s(&r, t->act[l].carry_c, (size_t)t->B * t->H);
    }
    ckpt_reader rs = {buf, r.n, streams_at, 0};
    for (int b = 0; b < t->B; b++) t->streams[b].item = r_u32(&rs), t->streams[b].off = r_u32(&rs);
    t->prog = p;
    t->rng = rng;
    items_build(t, list_epoch);
    t->list_pos = (size_t)list_pos;
done:
    mn_free(buf);
    return st;
}

/*=== fine-tuning ============================================================================*/

mn_status mn_trainer_init_from_model(mn_trainer *t, const mn_model *m, char *err)
{
    const mn_model_config *a = mn_model_cfg(m), *b = &t->cfg.model;
    const char *path = mn_model_path(m);
    if (a->n_layers != b->n_layers)
        return mn_errf(err, MN_ERR_ARG, "%s: %d layers, the trainer has %d", path, a->n_layers,
                       b->n_layers);
    if (a->n_hidden != b->n_hidden)
        return mn_errf(err, MN_ERR_ARG, "%s: hidden size %d, the trainer has %d", path,
                       a->n_hidden, b->n_hidden);
    if (a->n_embed != b->n_embed)
        return mn_errf(err, MN_ERR_ARG, "%s: embedding size %d, the trainer has %d", path,
                       a->n_embed, b->n_embed);
    if (a->n_pos != b->n_pos)
        return mn_errf(err, MN_ERR_ARG, "%s: %d positions, the trainer has %d", path, a->n_pos,
                       b->n_pos);
    if (a->dur.n != b->dur.n)
        return mn_errf(err, MN_ERR_ARG, "%s: %d durations, the trainer has %d", path, a->dur.n,
                       b->dur.n);
    for (int i = 0; i < a->dur.n; i++)
        if (a->dur.ticks[i] != b->dur.ticks[i])
            return mn_errf(err, MN_ERR_ARG, "%s: duration %d is %d ticks, the trainer's is %d",
                           path, i, a->dur.ticks[i], b->dur.ticks[i]);
    if (mn_model_n_params(m) != t->n_params)
        return mn_errf(err, MN_ERR_ARG, "%s: %zu parameters, the trainer has %zu", path,
                       mn_model_n_params(m), t->n_params);
    memcpy(t->params, mn_model_params(m), t->n_params * sizeof *t->params);
    return MN_OK;
}

uint64_t mn_train_steps_per_epoch(const mn_train_config *cfg, const mn_melody *mels,
                                  size_t n_mels)
{
    uint64_t events = 0;
    for (size_t i = 0; i < n_mels; i++) {
        const mn_melody *m = &mels[i];
        if (!m->n) continue;
        int lo = 128, hi = -1;
        for (size_t j = 0; j < m->n; j++) {
            int p = m->ev[j].pitch;
            if (!mn_is_pitch(p)) continue;
            if (p < lo) lo = p;
            if (p > hi) hi = p;
        }
        for (int s = MN_TRAIN_SHIFT_LO; s <= MN_TRAIN_SHIFT_HI; s++)
            if (shift_fits(cfg->augment, lo, hi, s)) events += m->n;
    }
    uint64_t b = cfg->batch > 0 ? (uint64_t)cfg->batch : 1, tb = b * (cfg->seq > 0 ? cfg->seq : 1);
    uint64_t steps = (events + tb - 1) / tb;
    return steps ? steps : 1;
}

size_t mn_train_holdout_count(size_t n_tunes)
{
    if (n_tunes < 2) return 0;
    size_t k = (n_tunes + 5) / 10; /* 10%, rounded */
    return k ? k : 1;
}

void mn_train_holdout_pick(size_t n, size_t k, uint64_t seed, uint8_t *held)
{
    if (k > n) k = n;
    memset(held, 0, n);
    /* a partial Fisher-Yates over the indices without an index array: k rounds of picking an
     * unmarked tune uniformly */
    mn_rng r;
    mn_rng_seed(&r, seed ^ 0x9e3779b97f4a7c15ull);
    for (size_t c = 0; c < k; c++) {
        size_t j = (size_t)rng_below(&r, n - c); /* the j-th unmarked tune */
        for (size_t i = 0; i < n; i++)
            if (!held[i] && j-- == 0) {
                held[i] = 1;
                break;
            }
    }
}

void mn_train_finetune_schedule(size_t n_tunes, uint64_t steps_per_epoch, int epochs,
                                mn_train_schedule *s)
{
    mn_train_config d;
    mn_train_config_default(&d);
    uint64_t spe = steps_per_epoch ? steps_per_epoch : 1;
    s->lr = d.lr / 20;
    s->lr_decay = 0.8f;
    s->patience = 2;
    int chosen = epochs <= 0;
    if (chosen) {
        uint64_t e = (MN_TRAIN_FT_STEPS + spe - 1) / spe;
        s->epochs = e < 3 ? 3 : e > 30 ? 30 : (int)e;
    } else {
        s->epochs = epochs;
    }
    uint64_t total = spe * (uint64_t)s->epochs, w = spe / 4;
    const char *why_w = "a quarter epoch";
    if (w > 50) w = 50, why_w = "at most 50 steps";
    if (w > total / 10) w = total / 10, why_w = "a tenth of the run";
    if (w < 1) w = 1, why_w = "at least 1 step";
    s->warmup = (int)w;
    char why_e[64];
    if (chosen)
        snprintf(why_e, sizeof why_e, "epochs for about %d steps (3..30)", MN_TRAIN_FT_STEPS);
    else snprintf(why_e, sizeof why_e, "epochs as given");
    snprintf(s->reason, sizeof s->reason,
             "for %zu tune%s of %llu step%s per epoch: a twentieth of the from-scratch rate, %s, "
             "warm-up %s", n_tunes, n_tunes == 1 ? "" : "s", (unsigned long long)spe,
             spe == 1 ? "" : "s", why_e, why_w);
}

int mn_train_schedule_warning(const mn_train_config *c, uint64_t steps_per_epoch, int epochs,
                              char *msg)
{
    uint64_t total = steps_per_epoch * (uint64_t)(epochs > 0 ? epochs : 0);
    if (c->warmup <= 0 || total >= (uint64_t)c->warmup) return 0;
    uint64_t fit = total / 10 ? total / 10 : 1;
    snprintf(msg, MN_TRAIN_REASON_LEN,
             "warning: %llu steps (%d epoch%s of %llu) end before the %d-step warm-up: the "
             "learning rate never reaches its peak %g (at most %.3g); use --warmup %llu or more "
             "--epochs", (unsigned long long)total, epochs, epochs == 1 ? "" : "s",
             (unsigned long long)steps_per_epoch, c->warmup, c->lr,
             c->lr * (double)total / (double)c->warmup, (unsigned long long)fit);
    return 1;
}

mn_status mn_train_holdout_split(const mn_melody *mels, size_t n, size_t k, uint64_t seed,
                                 mn_melody **train, mn_melody **held, size_t *held_idx,
                                 char *err)
{
    if (k > n) k = n;
    uint8_t *mark = mn_malloc(n ? n : 1);
    *train = mn_malloc((n - k ? n - k : 1) * sizeof **train);
    *held = mn_malloc((k ? k : 1) * sizeof **held);
    if (!mark || !*train || !*held) {
        mn_free(mark), mn_free(*train), mn_free(*held);
        *train = *held = NULL;
        return mn_errf(err, MN_ERR_NOMEM, "train: out of memory for a held-out split");
    }
    mn_train_holdout_pick(n, k, seed, mark);
    size_t a = 0, b = 0;
    for (size_t i = 0; i < n; i++) {
        if (!mark[i]) {
            (*train)[a++] = mels[i];
            continue;
        }
        if (held_idx) held_idx[b] = i;
        (*held)[b++] = mels[i];
    }
    mn_free(mark);
    return MN_OK;
}

/*=== the training run =======================================================================*/

static double run_clock_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int run_stopped(const atomic_int *stop)
{
    return stop && atomic_load_explicit(stop, memory_order_relaxed) != 0;
}

static mn_status run_checkpoint(mn_trainer *t, const mn_train_run_config *rc,
                                const mn_train_callbacks *cb, mn_train_ckpt_why why, char *err)
{
    if (!rc->checkpoint) return MN_OK;
    mn_status st = mn_trainer_checkpoint_save(t, rc->checkpoint, err);
    if (!st && cb->checkpoint) st = cb->checkpoint(cb->ctx, t, why, err);
    return st;
}

static mn_status run_validate(mn_trainer *t, const mn_melody *valid, size_t n_valid,
                              double vb[2], char *err)
{
    size_t ne;
    char e2[MN_ERR_LEN];
    mn_status st = mn_trainer_evaluate(t, valid, n_valid, &vb[0], &vb[1], &ne, e2);
    if (st) mn_errf(err, st, "validation: %s", e2);
    return st;
}

mn_status mn_train_run(mn_trainer *t, const mn_train_run_config *rc, const mn_melody *valid,
                       size_t n_valid, const mn_train_callbacks *cbp, const atomic_int *stop,
                       mn_train_result *res, char *err)
{
    static const mn_train_callbacks none = {0};
    const mn_train_callbacks *cb = cbp ? cbp : &none;
    mn_train_progress *prog = &t->prog;
    const uint64_t spe = mn_trainer_steps_per_epoch(t), tb = (uint64_t)t->B * t->T;
    const int have_valid = n_valid > 0;
    mn_status st = MN_OK;
    memset(res, 0, sizeof *res);
    res->end = MN_TRAIN_END_EPOCHS;
    double run_start = run_clock_s(), elapsed0 = prog->elapsed_s, last_ckpt = run_start;

    if (rc->score_start && have_valid && prog->step == 0) {
        /* the starting weights are the model to beat: what best() keeps is never worse */
        mn_train_epoch_info e = {0, 1, 0, 0, 1, prog->last_loss, mn_trainer_lr(t), 0};
        double vb[2];
        if ((st = run_validate(t, valid, n_valid, vb, err))) return st;
        e.bits_pitch = vb[0], e.bits_dur = vb[1];
        res->start_valid = prog->best_valid = vb[0] + vb[1];
        if (cb->epoch && (st = cb->epoch(cb->ctx, t, &e, err))) return st;
        if (cb->best && (st = cb->best(cb->ctx, t, &e, err))) return st;
    }
    while (prog->epoch < rc->epochs && !run_stopped(stop)) {
        uint64_t start = (uint64_t)prog->epoch * spe, end = start + spe;
        double loss_sum = 0, ema = prog->last_loss, tok_s = 0;
        uint64_t loss_n = 0, log_every = spe >= 10 ? spe / 10 : 1;
        while (prog->step < end && !run_stopped(stop)) {
            mn_train_step_info s;
            s.lr = mn_trainer_lr(t);
            double loss;
            mn_trainer_step(t, &loss);
            res->run_steps++;
            ema = res->run_steps == 1 && ema == 0 ? loss : 0.9 * ema + 0.1 * loss;
            prog->last_loss = ema;
            loss_sum += loss, loss_n++;
            double now = run_clock_s();
            prog->elapsed_s = elapsed0 + (now - run_start);
            tok_s = (double)(res->run_steps * tb) / (now - run_start);
            s.epoch = prog->epoch + 1;
            s.done = prog->step - start;
            s.steps_per_epoch = spe;
            s.loss_ema = ema;
            s.tok_s = tok_s;
            s.eta_s = (double)(end - prog->step) * (double)tb / tok_s;
            s.log_point = s.done % log_every == 0 && prog->step < end;
            s.loss_mean = loss_sum / (double)loss_n;
            if (cb->step) cb->step(cb->ctx, t, &s);
            if (s.log_point) loss_sum = 0, loss_n = 0;
            if (rc->ckpt_every_s > 0 && now - last_ckpt > rc->ckpt_every_s) {
                if ((st = run_checkpoint(t, rc, cb, MN_TRAIN_CKPT_TIMED, err))) return st;
                last_ckpt = now;
            }
        }
        if (run_stopped(stop)) break;
        prog->epoch++;
        mn_train_epoch_info e = {prog->epoch, have_valid, 0, 0, 1,
                                 loss_n ? loss_sum / (double)loss_n : prog->last_loss,
                                 mn_trainer_lr(t), tok_s};
        if (have_valid) {
            double vb[2];
            if ((st = run_validate(t, valid, n_valid, vb, err))) return st;
            double total = vb[0] + vb[1];
            e.bits_pitch = vb[0], e.bits_dur = vb[1];
            e.improved = prog->best_valid == 0 || total < prog->best_valid;
            if (e.improved) prog->best_valid = total, prog->bad_epochs = 0;
            else prog->bad_epochs++;
        }
        if (cb->epoch && (st = cb->epoch(cb->ctx, t, &e, err))) return st;
        if (e.improved && cb->best && (st = cb->best(cb->ctx, t, &e, err))) return st;
        if ((st = run_checkpoint(t, rc, cb, MN_TRAIN_CKPT_EPOCH, err))) return st;
        last_ckpt = run_clock_s();
        if (have_valid && rc->patience > 0 && prog->bad_epochs >= rc->patience) {
            res->end = MN_TRAIN_END_PATIENCE;
            return MN_OK;
        }
    }
    if (run_stopped(stop)) {
        res->end = MN_TRAIN_END_STOPPED;
        if ((st = run_checkpoint(t, rc, cb, MN_TRAIN_CKPT_STOP, err))) return st;
    }
    return MN_OK;
}
