/* session.c - one generator over a shared model: the LSTM forward step, the heads, the metric
 * clock, sampling and the history of the melody. Stepping is lazy: the step that predicts an event needs that event's
 * position, so it runs when the logits are asked for (or when an event is fed without them),
 * and reads the committed state while writing the other half of a double buffer. Asking again
 * before a commit recomputes from the committed state, so every event costs exactly one LSTM
 * step and the state never drifts. The history is a ring of the latest events; the network
 * state, the motif memory and the copy guard's intervals are all derived from it, and are
 * rebuilt from its latest MN_SESSION_REPLAY events when it moves to another session or loses
 * its latest events (the rebuild waits for the next call that steps, so that a batch of changes
 * costs one). */
#include "session.h"
#include "copyidx.h"
#include "matvec.h"
#include "motif.h"
#include "vmath.h"

#include <math.h>
#include <string.h>

#define MN_SESSION_MAX_STARTS 256

struct mn_session {
    mn_model *model;             /* one reference held */
    const mn_model_config *cfg;
    const mn_weights *w;
    const mn_step_mats *mats;    /* the matrices in their stored type (f32, bf16, int8) */
    int L, H, E, in0, n_dur;

    mn_sampler sampler;
    mn_rng rng;
    mn_motif motif;              /* the melody so far, for repeating its motifs */
    mn_motif_params mp;          /* how its proposals are mixed in (the model's, or built in) */
    int iv[MN_COPY_DEPTH];       /* the melody's latest intervals (rests skipped), oldest first */
    int n_iv, last_note;         /* intervals held; pitch of the last note (-1: none yet) */
    double guard_bits;           /* copy guard: sum of -log2 (share of the odds it left) */
    size_t guard_events;         /* events sampled under the guard */
    int n_start;                 /* first-note places of the model's data (start_metre) */
    int start_bar[MN_SESSION_MAX_STARTS], start_pos[MN_SESSION_MAX_STARTS];
    double start_w[MN_SESSION_MAX_STARTS];

    int pos, bar;                /* clock: onset of the next event, ticks since the bar line */
    int prev_pitch, prev_dur;    /* input tokens: the last committed event (BOS after reset) */

    int cur;                     /* index of the committed half of h/c */
    float *h[2], *c[2];          /* [L, H] each: committed state and pending step */
    int pending;                 /* the step for the next event has run into h/c[!cur] */
    int pending_pos;             /* position (ticks) that step used */
    int heads_done;              /* pitch logits of the pending step are computed */

    float *x;                    /* [in0] layer-0 input */
    float *gates;                /* [4H] */
    float *bias;                 /* [L, 4H] b_ih + b_hh */
    float *pitch_logits;         /* [MN_N_PITCH] */
    float *dur_in;               /* [H + E] h_top | emb_pitch[pitch] */
    float *dur_logits;           /* [n_dur] */
    float *scratch;              /* [2 * max(MN_N_PITCH, n_dur)] for the sampler */
    float *mix;                  /* [max(MN_N_PITCH, n_dur)] logits mixed with a motif */
    void *block;                 /* the one allocation behind all buffers above */

    mn_hist_entry hist[MN_SESSION_HIST]; /* ring: the melody's latest events */
    size_t hist_head, hist_n;    /* index of the oldest; events held */
    long n_notes;                /* sampled events since the last reset */
    int stale;                   /* the network must be rebuilt from the history */
};

/*=== life cycle =============================================================================*/

/* Reads the model's "start_metre": space-separated BAR:POS:COUNT entries, the bar length and
 * first-note position (ticks) of the tunes it was fitted on and how many began so. */
static mn_status parse_starts(mn_session *s, const char *txt, const char *name, char *err)
{
    s->n_start = 0;
    if (!txt) return MN_OK;
    const char *p = txt;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        char *end;
        long v[3];
        for (int i = 0; i < 3; i++) {
            v[i] = strtol(p, &end, 10);
            if (end == p || (i < 2 && *end != ':') || (i == 2 && *end && *end != ' '))
                return mn_errf(err, MN_ERR_FORMAT, "%s: metadata start_metre: entry %d is not "
                               "BAR:POS:COUNT", name, s->n_start + 1);
            p = end + (i < 2);
        }
        if (v[0] < 1 || v[0] > MN_MAX_BAR_TICKS || v[1] < 0 || v[1] >= v[0] || v[2] < 1 ||
            v[2] > 1000000000L)
            return mn_errf(err, MN_ERR_FORMAT, "%s: metadata start_metre: entry %d (%ld:%ld:%ld) "
                           "out of range", name, s->n_start + 1, v[0], v[1], v[2]);
        if (s->n_start == MN_SESSION_MAX_STARTS)
            return mn_errf(err, MN_ERR_LIMIT, "%s: metadata start_metre: more than %d entries",
                           name, MN_SESSION_MAX_STARTS);
        s->start_bar[s->n_start] = (int)v[0];
        s->start_pos[s->n_start] = (int)v[1];
        s->start_w[s->n_start] = (double)v[2];
        s->n_start++;
    }
    return MN_OK;
}

mn_status mn_session_new(mn_model *model, uint64_t seed, mn_session **out, char *err)
{
    *out = NULL;
    if (!model) return mn_errf(err, MN_ERR_ARG, "session: no model");
    mn_session *s = mn_calloc(1, sizeof *s);
    if (!s) return mn_errf(err, MN_ERR_NOMEM, "session: out of memory");
    const char *mpt = mn_model_meta(model, "motif_params");
    char e2[MN_ERR_LEN];
    mn_motif_params_default(&s->mp);
    if (mpt && mn_motif_params_parse(mpt, &s->mp, e2)) {
        mn_free(s);
        return mn_errf(err, MN_ERR_FORMAT, "%s: metadata motif_params: %s", mn_model_path(model),
                       e2);
    }
    if (parse_starts(s, mn_model_meta(model, "start_metre"), mn_model_path(model), err)) {
        mn_free(s);
        return MN_ERR_FORMAT;
    }
    s->cfg = mn_model_cfg(model);
    s->w = mn_model_weights(model);
    s->mats = mn_model_step_mats(model);
    s->L = s->cfg->n_layers;
    s->H = s->cfg->n_hidden;
    s->E = s->cfg->n_embed;
    s->in0 = mn_model_input_size(s->cfg);
    s->n_dur = s->cfg->dur.n;
    size_t LH = (size_t)s->L * (size_t)s->H, H4 = 4 * (size_t)s->H;
    size_t n_scr = 2 * (size_t)(s->n_dur > MN_N_PITCH ? s->n_dur : MN_N_PITCH);
    size_t sizes[] = {LH, LH, LH, LH, (size_t)s->in0, H4, (size_t)s->L * H4, MN_N_PITCH,
                      (size_t)(s->H + s->E), (size_t)s->n_dur, n_scr, n_scr / 2};
    float **dst[] = {&s->h[0], &s->h[1], &s->c[0], &s->c[1], &s->x, &s->gates, &s->bias,
                     &s->pitch_logits, &s->dur_in, &s->dur_logits, &s->scratch, &s->mix};
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) total += (sizes[i] + 15) & ~(size_t)15;
    s->block = mn_malloc(total * sizeof(float) + 64);
    if (!s->block) {
        mn_free(s);
        return mn_errf(err, MN_ERR_NOMEM, "session: out of memory for %zu floats", total);
    }
    /* each buffer on a 64-byte boundary, for the vector kernels */
    float *p = (float *)(((uintptr_t)s->block + 63) & ~(uintptr_t)63);
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        *dst[i] = p;
        p += (sizes[i] + 15) & ~(size_t)15;
    }
    for (int l = 0; l < s->L; l++)
        for (size_t k = 0; k < H4; k++)
            s->bias[l * H4 + k] = s->w->lstm[l].b_ih[k] + s->w->lstm[l].b_hh[k];
    s->model = mn_model_retain(model);
    mn_sampler_default(&s->sampler);
    mn_rng_seed(&s->rng, seed);
    s->bar = MN_DEFAULT_BAR_TICKS;
    mn_session_reset(s);
    *out = s;
    return MN_OK;
}

void mn_session_free(mn_session *s)
{
    if (!s) return;
    mn_model_free(s->model);
    mn_free(s->block);
    mn_free(s);
}

mn_model *mn_session_model(const mn_session *s) { return s->model; }
mn_sampler *mn_session_sampler(mn_session *s) { return &s->sampler; }
mn_rng *mn_session_rng(mn_session *s) { return &s->rng; }
void mn_session_seed(mn_session *s, uint64_t seed) { mn_rng_seed(&s->rng, seed); }

/*=== clock ==================================================================================*/

static int clamp_bar(int bar)
{
    if (bar <= 0) return MN_DEFAULT_BAR_TICKS;
    return bar > MN_MAX_BAR_TICKS ? MN_MAX_BAR_TICKS : bar;
}

static int wrap_pos(int pos, int bar)
{
    int p = pos % bar;
    return p < 0 ? p + bar : p;
}

/* The network, motif memory and copy-guard state of an empty melody; the clock at pos 0. */
static void clear_state(mn_session *s)
{
    size_t LH = (size_t)s->L * (size_t)s->H;
    memset(s->h[s->cur], 0, LH * sizeof(float));
    memset(s->c[s->cur], 0, LH * sizeof(float));
    s->prev_pitch = MN_PITCH_BOS;
    s->prev_dur = s->n_dur; /* BOS row of emb.dur */
    mn_motif_reset(&s->motif);
    s->n_iv = 0;
    s->last_note = -1;
    s->pending = 0;
    s->heads_done = 0;
    s->pos = 0;
    s->stale = 0;
}

void mn_session_reset(mn_session *s)
{
    clear_state(s);
    s->hist_head = s->hist_n = 0;
    s->n_notes = 0;
}

void mn_session_set_clock(mn_session *s, int pos_ticks, int bar_ticks)
{
    s->bar = clamp_bar(bar_ticks);
    s->pos = wrap_pos(pos_ticks, s->bar);
}

int mn_session_draw_start(mn_session *s)
{
    double total = 0;
    for (int i = 0; i < s->n_start; i++) total += s->start_w[i];
    if (!(total > 0)) return 0;
    double u = mn_rng_uniform(&s->rng) * total;
    int i = 0;
    for (; i + 1 < s->n_start && u >= s->start_w[i]; i++) u -= s->start_w[i];
    mn_session_set_clock(s, s->start_pos[i], s->start_bar[i]);
    return 1;
}

const mn_motif_params *mn_session_motif_params(const mn_session *s) { return &s->mp; }

void mn_session_clock(const mn_session *s, int *pos_ticks, int *bar_ticks)
{
    if (pos_ticks) *pos_ticks = s->pos;
    if (bar_ticks) *bar_ticks = s->bar;
}

/*=== forward ================================================================================*/

/* One LSTM step over all layers for an event at pos_ticks: reads the committed half, writes
 * the other. PyTorch's equations: gates = W_ih x + b_ih + W_hh h + b_hh, rows (i, f, g, o);
 * c' = f c + i g; h' = o tanh(c'). */
static void lstm_step(mn_session *s, int pos_ticks)
{
    const mn_weights *w = s->w;
    int E = s->E, H = s->H, H4 = 4 * H;
    memcpy(s->x, w->emb_pitch + (size_t)s->prev_pitch * E, (size_t)E * sizeof(float));
    memcpy(s->x + E, w->emb_dur + (size_t)s->prev_dur * E, (size_t)E * sizeof(float));
    if (s->cfg->n_pos > 0) {
        int pc = pos_ticks < 0 ? 0 : pos_ticks >= s->cfg->n_pos ? s->cfg->n_pos - 1 : pos_ticks;
        memcpy(s->x + 2 * E, w->emb_pos + (size_t)pc * E, (size_t)E * sizeof(float));
    }
    int old = s->cur, nw = !s->cur;
    const float *in = s->x;
    for (int l = 0; l < s->L; l++) {
        const float *h_old = s->h[old] + (size_t)l * H, *c_old = s->c[old] + (size_t)l * H;
        float *h_new = s->h[nw] + (size_t)l * H, *c_new = s->c[nw] + (size_t)l * H;
        float *g = s->gates;
        /* one pass over the rows of W_ih and W_hh together */
        mn_matvec_mat(H4, &s->mats->lstm[l].w_ih, in, &s->mats->lstm[l].w_hh, h_old,
                      s->bias + (size_t)l * H4, g);
        mn_lstm_cell(H, g, c_old, c_new, h_new, NULL, NULL);
        in = h_new;
    }
    s->pending = 1;
    s->pending_pos = pos_ticks;
    s->heads_done = 0;
}

static const float *top_hidden(const mn_session *s)
{
    return s->h[!s->cur] + (size_t)(s->L - 1) * s->H;
}

/* Makes sure the pending step exists for an event at pos_ticks. */
static void ensure_step(mn_session *s, int pos_ticks)
{
    if (!s->pending || s->pending_pos != pos_ticks) lstm_step(s, pos_ticks);
}

static void sync(mn_session *s);

const float *mn_session_pitch_logits(mn_session *s, int pos_ticks, int bar_ticks)
{
    sync(s);
    int bar = clamp_bar(bar_ticks);
    int pos = wrap_pos(pos_ticks, bar);
    ensure_step(s, pos);
    if (!s->heads_done) {
        mn_matvec_mat(MN_N_PITCH, &s->mats->head_pitch_w, top_hidden(s), NULL, NULL,
                      s->w->head_pitch_b, s->pitch_logits);
        s->heads_done = 1;
    }
    return s->pitch_logits;
}

const float *mn_session_dur_logits(mn_session *s, int pitch)
{
    sync(s);
    if (!s->pending) lstm_step(s, s->pos);
    if (pitch < 0 || pitch > MN_REST) pitch = MN_REST;
    int H = s->H, E = s->E;
    memcpy(s->dur_in, top_hidden(s), (size_t)H * sizeof(float));
    memcpy(s->dur_in + H, s->w->emb_pitch + (size_t)pitch * E, (size_t)E * sizeof(float));
    mn_matvec_mat(s->n_dur, &s->mats->head_dur_w, s->dur_in, NULL, NULL, s->w->head_dur_b,
                  s->dur_logits);
    return s->dur_logits;
}

/*=== events =================================================================================*/

/* Position and bar an event is read at: its own when bar_ticks > 0, else the clock's. */
static void event_place(const mn_session *s, const mn_event *e, int *pos, int *bar)
{
    if (e->bar_ticks > 0) {
        *bar = clamp_bar(e->bar_ticks);
        *pos = wrap_pos(e->pos_ticks, *bar);
    } else {
        *bar = s->bar;
        *pos = s->pos;
    }
}

static int pitch_token(int pitch) { return mn_is_pitch(pitch) ? pitch : MN_REST; }

/* Records an event (placed) in the history, as sampled or fed with the PRNG state before it. */
static void hist_record(mn_session *s, const mn_event *placed, const mn_rng *before, int sampled)
{
    mn_hist_entry *h;
    if (s->hist_n < MN_SESSION_HIST) {
        h = &s->hist[(s->hist_head + s->hist_n++) % MN_SESSION_HIST];
    } else {
        h = &s->hist[s->hist_head];
        s->hist_head = (s->hist_head + 1) % MN_SESSION_HIST;
    }
    h->ev = *placed;
    h->rng = *before;
    h->sampled = sampled;
    if (sampled) s->n_notes++;
}

/* Feeds an event whose place is already known: runs the step if needed, commits the state,
 * makes the event the next input and moves the clock past it. With rec set, records it in the
 * history as rec says (its sampled flag and PRNG state; the event recorded is e, placed). */
static void commit_at(mn_session *s, const mn_event *e, int pos, int bar,
                      const mn_hist_entry *rec)
{
    ensure_step(s, pos);
    s->cur = !s->cur;
    s->pending = 0;
    s->heads_done = 0;
    s->prev_pitch = pitch_token(e->pitch);
    s->prev_dur = mn_durtable_index(&s->cfg->dur, e->dur_ticks);
    mn_motif_push(&s->motif, s->prev_pitch, s->prev_dur);
    if (s->prev_pitch < 128) {
        if (s->last_note >= 0) {
            if (s->n_iv == MN_COPY_DEPTH) {
                memmove(s->iv, s->iv + 1, (MN_COPY_DEPTH - 1) * sizeof *s->iv);
                s->n_iv--;
            }
            s->iv[s->n_iv++] = s->prev_pitch - s->last_note;
        }
        s->last_note = s->prev_pitch;
    }
    mn_event placed = *e;
    placed.pos_ticks = pos;
    placed.bar_ticks = bar;
    s->bar = bar;
    s->pos = mn_event_next_pos(&placed);
    if (rec) hist_record(s, &placed, &rec->rng, rec->sampled);
}

/* A history record of a fed event: the PRNG as it is (feeding draws nothing). */
static mn_hist_entry fed_record(const mn_session *s)
{
    mn_hist_entry r;
    memset(&r, 0, sizeof r);
    r.rng = s->rng;
    r.sampled = 0;
    return r;
}

void mn_session_commit(mn_session *s, const mn_event *e)
{
    sync(s);
    int pos, bar;
    event_place(s, e, &pos, &bar);
    mn_hist_entry rec = fed_record(s);
    commit_at(s, e, pos, bar, &rec);
}

void mn_session_feed(mn_session *s, const mn_event *e) { mn_session_commit(s, e); }

/*=== history ================================================================================*/

size_t mn_session_history_len(const mn_session *s) { return s->hist_n; }

const mn_hist_entry *mn_session_history_at(const mn_session *s, size_t i)
{
    return &s->hist[(s->hist_head + i) % MN_SESSION_HIST];
}

long mn_session_notes(const mn_session *s) { return s->n_notes; }

size_t mn_session_sampled(const mn_session *s, mn_event *out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < s->hist_n && k < max; i++) {
        const mn_hist_entry *h = mn_session_history_at(s, i);
        if (h->sampled) out[k++] = h->ev;
    }
    return k;
}

/* Rebuilds the network, motif memory and copy-guard intervals from the latest
 * MN_SESSION_REPLAY events of the history (placed as they were read). */
static void rebuild(mn_session *s)
{
    clear_state(s);
    size_t from = s->hist_n > MN_SESSION_REPLAY ? s->hist_n - MN_SESSION_REPLAY : 0;
    for (size_t i = from; i < s->hist_n; i++) {
        mn_event *e = &s->hist[(s->hist_head + i) % MN_SESSION_HIST].ev;
        int pos, bar;
        event_place(s, e, &pos, &bar);
        commit_at(s, e, pos, bar, NULL);
        e->pos_ticks = pos; /* an appended event is placed now, by the clock */
        e->bar_ticks = bar;
    }
}

static void sync(mn_session *s)
{
    if (s->stale) rebuild(s);
}

void mn_session_replay(mn_session *s) { sync(s); }

void mn_session_adopt(mn_session *dst, const mn_session *src)
{
    if (dst == src) return;
    memcpy(dst->hist, src->hist, sizeof dst->hist);
    dst->hist_head = src->hist_head;
    dst->hist_n = src->hist_n;
    dst->n_notes = src->n_notes;
    dst->rng = src->rng;
    dst->stale = 1;
}

void mn_session_truncate(mn_session *s, size_t n)
{
    if (n > s->hist_n) n = s->hist_n;
    s->stale = 1; /* n = 0 too: the network is rebuilt from the history's latest events */
    if (!n) return;
    s->rng = mn_session_history_at(s, s->hist_n - n)->rng;
    for (size_t i = s->hist_n - n; i < s->hist_n; i++)
        if (mn_session_history_at(s, i)->sampled) s->n_notes--;
    s->hist_n -= n;
}

void mn_session_append(mn_session *s, const mn_event *e)
{
    int bar = e->bar_ticks > 0 ? clamp_bar(e->bar_ticks) : 0;
    mn_event placed = *e;
    if (bar) placed.pos_ticks = wrap_pos(e->pos_ticks, bar);
    placed.bar_ticks = bar; /* 0: placed by the clock when it is replayed */
    hist_record(s, &placed, &s->rng, 0);
    s->stale = 1;
}

void mn_session_push(mn_session *s, const mn_hist_entry *h)
{
    sync(s);
    int pos, bar;
    event_place(s, &h->ev, &pos, &bar);
    commit_at(s, &h->ev, pos, bar, h);
}

void mn_session_state(const mn_session *s, const float **h, const float **c, size_t *n)
{
    if (h) *h = s->h[s->cur];
    if (c) *c = s->c[s->cur];
    if (n) *n = (size_t)s->L * (size_t)s->H;
}

/* The motif proposal for the next event and its weight (0 when off, nothing matches, the
 * memory would repeat a short figure a fourth time, or the network vetoes the pitch). */
static double motif_proposal(const mn_session *s, const float *pl, int *pitch, int *dur_tok)
{
    if (!(s->sampler.motif > 0)) return 0;
    int dist = 0;
    int k = mn_motif_propose_at(&s->motif, pitch, dur_tok, &dist);
    if (!k || *dur_tok >= s->n_dur) return 0;
    double lam = mn_motif_lambda(&s->mp, k, dist);
    if (lam > 0 && s->mp.veto > 0 &&
        exp2(-mn_neglog2_softmax(pl, MN_N_PITCH, *pitch)) < (double)s->mp.veto)
        return 0;
    return (double)s->sampler.motif * lam;
}

/* The repeat cap for the next note (1: none): the memory's bound on a pitch sounding again
 * after a run of them, scaled with the motif setting like the weights. */
static double repeat_cap(const mn_session *s)
{
    if (!(s->sampler.motif > 0) || s->motif.last_note < 0) return 1;
    double c = mn_motif_repeat_cap(&s->mp, s->motif.run);
    return 1 - (double)s->sampler.motif * (1 - c);
}

/* Lowers logit k so that, after the temperature t, class k holds at most a share c of the
 * distribution (its order among the others is kept; nothing else changes). */
static void cap_logit(float *logits, int n, int k, double c, double t)
{
    double mx = -INFINITY;
    for (int j = 0; j < n; j++)
        if (j != k && logits[j] > mx) mx = logits[j];
    if (mx == -INFINITY) return;
    double z = 0;
    for (int j = 0; j < n; j++)
        if (j != k) z += exp(((double)logits[j] - mx) / t);
    double lse = mx / t + log(z); /* log sum over the others of exp(l / t) */
    double most = t * (log(c / (1 - c)) + lse);
    if (logits[k] > most) logits[k] = (float)most;
}

/* Writes log((1 - lam) softmax(logits)_k + lam [k = hit]) for k < n into out: the network's
 * distribution with a share lam moved to one class, as logits for the sampler. */
static void mix_logits(const float *logits, int n, double lam, int hit, float *out)
{
    float mx = logits[0];
    for (int k = 1; k < n; k++)
        if (logits[k] > mx) mx = logits[k];
    double z = 0;
    for (int k = 0; k < n; k++) z += exp((double)logits[k] - mx);
    for (int k = 0; k < n; k++) {
        double p = (1 - lam) * exp((double)logits[k] - mx) / z + (k == hit ? lam : 0);
        out[k] = p > 1e-300 ? (float)log(p) : -690.0f;
    }
}

/* The copy guard: flags in forbid[MN_N_PITCH] the pitches that would make the latest K + 1
 * intervals a run found in one training tune. Returns 0 when nothing is forbidden. */
static int guard_mask(const mn_session *s, const mn_copyidx *ix, int K, unsigned char *forbid)
{
    memset(forbid, 0, MN_N_PITCH);
    if (s->last_note < 0 || s->n_iv < K) return 0; /* no run of K + 1 can form yet */
    unsigned char next[255];
    if (!mn_copyidx_next(ix, s->iv + s->n_iv - K, K, next)) return 0;
    int any = 0;
    for (int p = 0; p < 128; p++) {
        int d = p - s->last_note;
        if (next[d + 127]) forbid[p] = 1, any = 1;
    }
    return any;
}

/* -log2 of the share of the odds (temperature 1, the settings' range, scale and rests) the
 * guard leaves; 0 when it forbids nothing the settings allow. */
static double guard_cost(const mn_session *s, const float *logits, const unsigned char *forbid)
{
    double mx = -INFINITY;
    for (int k = 0; k < MN_N_PITCH; k++)
        if (logits[k] > mx) mx = logits[k];
    double all = 0, left = 0;
    for (int k = 0; k < MN_N_PITCH; k++) {
        if (!mn_sampler_allows(&s->sampler, k)) continue;
        double p = exp((double)logits[k] - mx);
        all += p;
        if (!forbid[k]) left += p;
    }
    return all > 0 && left > 0 ? log2(all / left) : 0;
}

void mn_session_guard_cost(const mn_session *s, double *bits, size_t *events)
{
    if (bits) *bits = s->guard_bits;
    if (events) *events = s->guard_events;
}

mn_status mn_session_sample(mn_session *s, mn_event *out)
{
    sync(s);
    mn_hist_entry rec;
    memset(&rec, 0, sizeof rec);
    rec.rng = s->rng; /* before the draws */
    rec.sampled = 1;
    mn_status status = MN_OK;
    int pos = s->pos, bar = s->bar;
    const float *pl = mn_session_pitch_logits(s, pos, bar);
    int pp = 0, pd = 0;
    double lam = motif_proposal(s, pl, &pp, &pd);
    /* the sampler's temperature, top-k/p and masks act on the mixed distribution */
    const float *use = pl;
    if (lam > 0) {
        mix_logits(pl, MN_N_PITCH, lam, pp, s->mix);
        use = s->mix;
    }
    double cap = repeat_cap(s);
    if (cap < 1) {
        if (use != s->mix) memcpy(s->mix, pl, MN_N_PITCH * sizeof *s->mix);
        cap_logit(s->mix, MN_N_PITCH, s->motif.last_note, cap, (double)s->sampler.temperature);
        use = s->mix;
    }
    int pitch;
    if (s->sampler.max_copy > 0) {
        unsigned char forbid[MN_N_PITCH];
        const mn_copyidx *ix = mn_model_copyidx(s->model, NULL);
        if (!ix) {
            pitch = MN_REST; /* the guard cannot run: silence rather than an unchecked note */
            status = MN_ERR_ARG;
        } else {
            if (guard_mask(s, ix, s->sampler.max_copy, forbid))
                s->guard_bits += guard_cost(s, use, forbid);
            s->guard_events++;
            pitch = mn_sampler_pitch_masked(&s->sampler, &s->rng, use, forbid, s->scratch);
            if (pitch < 0) {
                pitch = MN_REST; /* nothing legal: a rest keeps the guard */
                status = MN_ERR_LIMIT;
            }
        }
    } else {
        pitch = mn_sampler_pitch(&s->sampler, &s->rng, use, s->scratch);
    }
    if (pitch < 0 || pitch > MN_REST) pitch = MN_REST;
    const float *dl = mn_session_dur_logits(s, pitch);
    if (lam > 0 && pitch == pp) {
        /* p(dur | pp) is p_net(dur | pp) plus lam / ((1 - lam) p_net(pp)) at pd, renormalized */
        double pn = exp2(-mn_neglog2_softmax(pl, MN_N_PITCH, pp));
        double share = lam / (lam + (1 - lam) * pn);
        mix_logits(dl, s->n_dur, share, pd, s->mix);
        dl = s->mix;
    }
    int d = mn_sampler_duration(&s->sampler, &s->rng, dl, s->n_dur, s->scratch);
    if (d < 0 || d >= s->n_dur) d = 0;
    mn_event e;
    e.pitch = pitch;
    e.dur_ticks = s->cfg->dur.ticks[d];
    e.velocity = pitch == MN_REST ? 0 : mn_sampler_velocity(&s->sampler, &s->rng, pitch, pos);
    e.pos_ticks = pos;
    e.bar_ticks = bar;
    commit_at(s, &e, pos, bar, &rec);
    if (out) *out = e;
    return status;
}

void mn_session_score(mn_session *s, const mn_event *e, double *bits_pitch, double *bits_dur,
                      int *argmax_pitch)
{
    sync(s);
    int pos, bar;
    event_place(s, e, &pos, &bar);
    const float *pl = mn_session_pitch_logits(s, pos, bar);
    int p = pitch_token(e->pitch);
    int pp = 0, pd = 0;
    double lam = motif_proposal(s, pl, &pp, &pd);
    /* p(pitch, dur) = (1 - lam) p_net(pitch) p_net(dur | pitch) + lam [pitch = pp, dur = pd],
     * in the log domain where a term can underflow: bits stay finite for any weights */
    double bp = mn_neglog2_softmax(pl, MN_N_PITCH, p);
    double bits_p = bp;
    if (lam > 0)
        bits_p = p == pp ? -log2((1 - lam) * exp2(-bp) + lam) : bp - log2(1 - lam);
    /* the repeat cap (at temperature 1): the last note's pitch keeps at most cap, the other
     * pitches share the rest in their mixed proportions */
    double cap = repeat_cap(s), pr = 0, bits_pc = bits_p;
    int rep = s->motif.last_note;
    if (cap < 1) {
        pr = (1 - lam) * exp2(-mn_neglog2_softmax(pl, MN_N_PITCH, rep)) + (pp == rep ? lam : 0);
        if (pr > cap) bits_pc = p == rep ? -log2(cap) : bits_p - log2((1 - cap) / (1 - pr));
        else cap = 1;
    }
    if (bits_pitch) *bits_pitch = bits_pc;
    if (argmax_pitch) {
        /* the capped mixture keeps the order of the pitches other than rep: the winner is the
         * network's best of them, the proposal, or rep */
        int best = -1;
        for (int k = 0; k < MN_N_PITCH; k++)
            if ((cap == 1 || k != rep) && (best < 0 || pl[k] > pl[best])) best = k;
        int cand[3] = {best, lam > 0 ? pp : best, cap < 1 ? rep : best};
        double top = -1;
        for (int c = 0; c < 3; c++) {
            int k = cand[c];
            double pk = (1 - lam) * exp2(-mn_neglog2_softmax(pl, MN_N_PITCH, k)) +
                        (lam > 0 && k == pp ? lam : 0);
            if (cap < 1) pk = k == rep ? cap : pk * (1 - cap) / (1 - pr);
            if (pk > top) {
                top = pk;
                *argmax_pitch = k;
            }
        }
    }
    if (bits_dur) {
        const float *dl = mn_session_dur_logits(s, p);
        int d = mn_durtable_index(&s->cfg->dur, e->dur_ticks);
        double bd = mn_neglog2_softmax(dl, s->n_dur, d);
        if (lam > 0 && p == pp) {
            /* -log2 p(dur | pitch) = -log2 p(pitch, dur) + log2 p(pitch) */
            double bits_joint = d == pd ? -log2((1 - lam) * exp2(-bp - bd) + lam)
                                        : bp + bd - log2(1 - lam);
            bd = bits_joint - bits_p;
        }
        *bits_dur = bd;
    }
    mn_hist_entry rec = fed_record(s);
    commit_at(s, e, pos, bar, &rec);
}
