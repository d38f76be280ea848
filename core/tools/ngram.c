/* ngram.c - the n-gram baseline: two interpolated modified Kneser-Ney models (Chen & Goodman,
 * three discounts per order from count-of-counts), one over pitches and one over duration
 * tokens, kept in open-addressing hash tables of integer counts so that adding a melody, and
 * scoring an event, cost a few hash probes per order.
 *
 * An n-gram is a tuple of small symbols packed one byte each (symbol + 1, oldest first, in the
 * most significant byte), so a tuple of up to 8 symbols is one uint64 and its length is the
 * number of non-zero bytes. The pitch model's tuples are (previous pitches..., pitch); the
 * duration model's are (previous duration tokens..., feature of this event's pitch, duration
 * token): the pitch feature is the most recent context symbol, so it is the last one given up
 * when backing off. A tune starts with one BOS symbol.
 *
 * Kneser-Ney counts: a tuple of the full order, or one that starts with BOS (nothing can
 * precede it), keeps its raw count; every other tuple counts its distinct left extensions.
 * Both are kept up to date as tuples are added: when a tuple is seen for the first time, its
 * suffix gains one left extension. So the saved file holds only the raw-counted tuples, and
 * loading adds them back the same way, which rebuilds every derived count consistently. */
#include "ngram.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Context symbol the duration model sees for the event's own pitch: FEAT_BASE + 1 for a rest,
 * FEAT_BASE for a note. On both corpora's valid splits this scored better than the pitch itself
 * (order 4, duration bits: Nottingham 1.127 vs 1.138, Essen 1.552 vs 1.562): the pitch splits
 * the duration counts too thinly. Symbols up to FEAT_BASE + 128 stay valid in the key layout. */
#define DUR_BOS MN_MAX_DUR          /* 64: start of a tune in the duration model */
#define FEAT_BASE (MN_MAX_DUR + 1)  /* 65, 66: note, rest */
#define N_FEAT 2

#define MAX_COUNT (1u << 30)        /* largest raw count a file may hold */
#if SIZE_MAX > 0xFFFFFFFFu
#define MAX_FILE_BYTES ((size_t)1 << 32) /* 4 GiB */
#else
#define MAX_FILE_BYTES SIZE_MAX
#endif

static const char magic[8] = {'M', 'N', 'N', 'G', 'R', 'A', 'M', '\0'};
#define FILE_VERSION 1

/*=== hash tables ============================================================================*/

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct {
    uint64_t total;       /* sum of the counts of tuples (h, w) */
    uint32_t n[3];        /* how many w have count 1, 2, and 3 or more */
} ctx_stats;

/* key -> count for tuples; key -> stats for contexts. Key 0 (the empty tuple) marks a free
 * slot, so the empty context lives outside the table. cap is a power of two, kept at most half
 * full so probes stay short. */
typedef struct {
    uint64_t *keys;       /* [cap] */
    uint32_t *count;      /* [cap], tuple tables */
    ctx_stats *stats;     /* [cap], context tables */
    size_t cap, used;
} table;

static void table_free(table *t)
{
    mn_free(t->keys);
    mn_free(t->count);
    mn_free(t->stats);
    memset(t, 0, sizeof *t);
}

static size_t table_slot(const table *t, uint64_t key)
{
    size_t mask = t->cap - 1, i = (size_t)mix(key) & mask;
    while (t->keys[i] && t->keys[i] != key) i = (i + 1) & mask;
    return i;
}

/* Makes room for `more` insertions without further allocation. */
static mn_status table_reserve(table *t, size_t more, int is_ctx)
{
    size_t need = t->used + more, cap = t->cap ? t->cap : 1024;
    if (need > SIZE_MAX / 4) return MN_ERR_NOMEM;
    while (cap < 2 * need) cap *= 2;
    if (cap == t->cap) return MN_OK;
    table n = {0};
    n.cap = cap;
    n.keys = mn_calloc(cap, sizeof *n.keys);
    if (is_ctx) n.stats = mn_calloc(cap, sizeof *n.stats);
    else n.count = mn_calloc(cap, sizeof *n.count);
    if (!n.keys || (is_ctx ? !n.stats : !n.count)) {
        table_free(&n);
        return MN_ERR_NOMEM;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->keys[i]) continue;
        size_t j = table_slot(&n, t->keys[i]);
        n.keys[j] = t->keys[i];
        if (is_ctx) n.stats[j] = t->stats[i];
        else n.count[j] = t->count[i];
    }
    n.used = t->used;
    table_free(t);
    *t = n;
    return MN_OK;
}

static uint32_t table_count(const table *t, uint64_t key)
{
    if (!t->cap) return 0;
    size_t i = table_slot(t, key);
    return t->keys[i] ? t->count[i] : 0;
}

static const ctx_stats *table_stats(const table *t, uint64_t key)
{
    if (!t->cap) return NULL;
    size_t i = table_slot(t, key);
    return t->keys[i] ? &t->stats[i] : NULL;
}

/*=== one Kneser-Ney model ===================================================================*/

typedef struct {
    int order;                  /* longest tuple */
    int vocab;                  /* predicted tokens 0..vocab-1 */
    int bos;                    /* the symbol that starts a tune */
    table grams;                /* tuple -> count (raw or continuation, see top) */
    table ctxs;                 /* context -> stats over its tuples */
    ctx_stats ctx0;             /* the empty context: stats over the unigrams */
    uint64_t coc[MN_NGRAM_MAX_ORDER + 1][5]; /* [len][c]: tuples of len with count c (1..4) */
    double disc[MN_NGRAM_MAX_ORDER + 1][4];  /* [len][c]: discount for count c (1, 2, 3+) */
} kn;

static int key_len(uint64_t key)
{
    int n = 0;
    while (key) {
        n++;
        key >>= 8;
    }
    return n;
}

static uint64_t key_suffix(uint64_t key, int len) /* drops the oldest symbol */
{
    return len <= 1 ? 0 : key & ((1ull << (8 * (len - 1))) - 1);
}

static int key_first(uint64_t key, int len) { return (int)((key >> (8 * (len - 1))) & 0xFF) - 1; }

static uint64_t key_pack(const int *sym, int n)
{
    uint64_t k = 0;
    for (int i = 0; i < n; i++) k = (k << 8) | (uint64_t)(sym[i] + 1);
    return k;
}

/* A tuple keeps its raw count when nothing can extend it to the left. */
static int key_is_raw(const kn *m, uint64_t key, int len)
{
    return len == m->order || key_first(key, len) == m->bos;
}

static void kn_init(kn *m, int order, int vocab, int bos)
{
    memset(m, 0, sizeof *m);
    m->order = order;
    m->vocab = vocab;
    m->bos = bos;
}

static void kn_free(kn *m)
{
    table_free(&m->grams);
    table_free(&m->ctxs);
}

static mn_status kn_reserve(kn *m, size_t tuples)
{
    size_t more = tuples * (size_t)m->order;
    if (table_reserve(&m->grams, more, 0) != MN_OK) return MN_ERR_NOMEM;
    return table_reserve(&m->ctxs, more, 1);
}

static void bucket_move(uint32_t n[3], uint64_t from, uint64_t to)
{
    if (from) n[from >= 3 ? 2 : from - 1]--;
    n[to >= 3 ? 2 : to - 1]++;
}

/* Adds inc to a tuple's count; room must have been reserved (at most len insertions into each
 * table). A tuple seen for the first time gives its suffix one more left extension. */
static void kn_bump(kn *m, uint64_t key, int len, uint32_t inc)
{
    for (;;) {
        size_t i = table_slot(&m->grams, key);
        if (!m->grams.keys[i]) {
            m->grams.keys[i] = key;
            m->grams.count[i] = 0;
            m->grams.used++;
        }
        uint64_t old = m->grams.count[i], now = old + inc;
        m->grams.count[i] = (uint32_t)now;
        if (old >= 1 && old <= 4) m->coc[len][old]--;
        if (now <= 4) m->coc[len][now]++;

        ctx_stats *st = &m->ctx0;
        if (len > 1) {
            uint64_t ck = key >> 8;
            size_t j = table_slot(&m->ctxs, ck);
            if (!m->ctxs.keys[j]) {
                m->ctxs.keys[j] = ck;
                memset(&m->ctxs.stats[j], 0, sizeof m->ctxs.stats[j]);
                m->ctxs.used++;
            }
            st = &m->ctxs.stats[j];
        }
        st->total += inc;
        bucket_move(st->n, old, now);

        if (old || len == 1) return;
        key = key_suffix(key, len);
        len--;
        inc = 1;
    }
}

/* Modified Kneser-Ney discounts per length from the count-of-counts (Chen & Goodman), clamped so
 * that 0 < D(c) <= c: every context then leaves some mass for its lower order, and a count never
 * goes negative. Sparse statistics fall back to fixed values. */
static void kn_discounts(kn *m)
{
    for (int len = 1; len <= m->order; len++) {
        double n1 = (double)m->coc[len][1], n2 = (double)m->coc[len][2];
        double n3 = (double)m->coc[len][3], n4 = (double)m->coc[len][4];
        double d[4] = {0.0, 0.5, 1.0, 1.5};
        if (n1 > 0 && n2 > 0 && n3 > 0 && n4 > 0) {
            double y = n1 / (n1 + 2 * n2);
            d[1] = 1 - 2 * y * n2 / n1;
            d[2] = 2 - 3 * y * n3 / n2;
            d[3] = 3 - 4 * y * n4 / n3;
        }
        /* keep D1 <= D2 <= D3: where repeats are played out (Nottingham) the count-of-counts
         * of long tuples are lopsided (many 2s, few 3s) and the raw formula gives D3 near 0,
         * which left frequent contexts overconfident (order 6 pitch: 3.33 -> 2.89 bits) */
        if (d[2] < d[1]) d[2] = d[1];
        if (d[3] < d[2]) d[3] = d[2];
        for (int c = 1; c <= 3; c++) {
            if (!(d[c] >= 0.05)) d[c] = 0.05;
            if (d[c] > c) d[c] = c;
            m->disc[len][c] = d[c];
        }
    }
}

static double kn_gamma(const kn *m, const ctx_stats *st, int len)
{
    return (m->disc[len][1] * st->n[0] + m->disc[len][2] * st->n[1] + m->disc[len][3] * st->n[2]) /
           (double)st->total;
}

static const ctx_stats *kn_ctx(const kn *m, uint64_t ck, int len)
{
    if (len == 1) return m->ctx0.total ? &m->ctx0 : NULL;
    const ctx_stats *st = table_stats(&m->ctxs, ck);
    return st && st->total ? st : NULL;
}

/* p(w | ctx[0..n_ctx)), ctx most recent last, n_ctx < order. Interpolated from the uniform
 * distribution up through each longer context that has been seen. */
static double kn_prob(const kn *m, const int *ctx, int n_ctx, int w)
{
    double p = 1.0 / m->vocab;
    for (int len = 1; len <= n_ctx + 1; len++) {
        uint64_t ck = key_pack(ctx + n_ctx - (len - 1), len - 1);
        const ctx_stats *st = kn_ctx(m, ck, len);
        if (!st) break; /* a longer context holding this one as suffix is unseen too */
        uint32_t c = table_count(&m->grams, (ck << 8) | (uint64_t)(w + 1));
        double own = c ? (c - m->disc[len][c >= 3 ? 3 : c]) : 0.0;
        p = own / (double)st->total + kn_gamma(m, st, len) * p;
    }
    return p;
}

/* The whole distribution over the vocabulary, in double. */
static void kn_dist(const kn *m, const int *ctx, int n_ctx, double *p)
{
    for (int w = 0; w < m->vocab; w++) p[w] = 1.0 / m->vocab;
    for (int len = 1; len <= n_ctx + 1; len++) {
        uint64_t ck = key_pack(ctx + n_ctx - (len - 1), len - 1);
        const ctx_stats *st = kn_ctx(m, ck, len);
        if (!st) break;
        double g = kn_gamma(m, st, len), inv = 1.0 / (double)st->total;
        for (int w = 0; w < m->vocab; w++) {
            uint32_t c = table_count(&m->grams, (ck << 8) | (uint64_t)(w + 1));
            double own = c ? (c - m->disc[len][c >= 3 ? 3 : c]) : 0.0;
            p[w] = own * inv + g * p[w];
        }
    }
}

/*=== the two models and their contexts ======================================================*/

struct mn_ngram {
    int order;
    mn_durtable dur;
    kn pitch;   /* tokens 0..MN_N_PITCH-1, BOS MN_PITCH_BOS */
    kn dtok;    /* tokens 0..dur.n-1, BOS DUR_BOS, pitch features FEAT_BASE+ */
    uint8_t tok_of_ticks[MN_MAX_DUR_TICKS + 1]; /* mn_durtable_index, tabulated */
};

static int event_pitch(const mn_event *e)
{
    return mn_is_pitch(e->pitch) ? e->pitch : MN_REST;
}

static int pitch_feature(int pitch)
{
    return FEAT_BASE + (mn_is_pitch(pitch) ? 0 : 1);
}

/* Pitch context of a prediction after hist[0..n_hist) (the tune so far, most recent last): the
 * last order-1 pitches, with BOS in front when the whole tune fits. Returns its length. */
static int pitch_context(const mn_ngram *g, const int *hist, size_t n_hist, int *ctx)
{
    int want = g->order - 1, n = 0;
    if ((size_t)want > n_hist) {
        if (want > 0) ctx[n++] = MN_PITCH_BOS;
        want = (int)n_hist;
    }
    for (size_t i = n_hist - (size_t)want; i < n_hist; i++) {
        int p = hist[i];
        ctx[n++] = p >= 0 && p <= 127 ? p : MN_REST;
    }
    return n;
}

/* Duration context: the last order-2 duration tokens (BOS in front when the tune fits), then
 * the pitch feature. Order 1 has no context. */
static int dur_context(const mn_ngram *g, const int *hist, size_t n_hist, int pitch, int *ctx)
{
    if (g->order < 2) return 0;
    int want = g->order - 2, n = 0;
    if ((size_t)want > n_hist) {
        if (want > 0) ctx[n++] = DUR_BOS;
        want = (int)n_hist;
    }
    for (size_t i = n_hist - (size_t)want; i < n_hist; i++) {
        int d = hist[i];
        ctx[n++] = d >= 0 && d < g->dur.n ? d : 0;
    }
    ctx[n++] = pitch_feature(pitch);
    return n;
}

static void ngram_discounts(mn_ngram *g)
{
    kn_discounts(&g->pitch);
    kn_discounts(&g->dtok);
}

mn_status mn_ngram_new(int order, const mn_durtable *dur, mn_ngram **out, char *err)
{
    if (!out) return mn_errf(err, MN_ERR_ARG, "ngram: no output pointer");
    *out = NULL;
    if (order < 1 || order > MN_NGRAM_MAX_ORDER)
        return mn_errf(err, MN_ERR_ARG, "ngram: order %d, expected 1..%d", order,
                       MN_NGRAM_MAX_ORDER);
    if (!dur) return mn_errf(err, MN_ERR_ARG, "ngram: no duration table");
    mn_status st = mn_durtable_validate(dur, err);
    if (st != MN_OK) return st;
    mn_ngram *g = mn_calloc(1, sizeof *g);
    if (!g) return mn_errf(err, MN_ERR_NOMEM, "ngram: out of memory");
    g->order = order;
    g->dur = *dur;
    kn_init(&g->pitch, order, MN_N_PITCH, MN_PITCH_BOS);
    kn_init(&g->dtok, order, dur->n, DUR_BOS);
    for (int d = 0; d <= MN_MAX_DUR_TICKS; d++)
        g->tok_of_ticks[d] = (uint8_t)mn_durtable_index(&g->dur, d);
    ngram_discounts(g);
    *out = g;
    return MN_OK;
}

void mn_ngram_free(mn_ngram *g)
{
    if (!g) return;
    kn_free(&g->pitch);
    kn_free(&g->dtok);
    mn_free(g);
}

const mn_durtable *mn_ngram_durtable(const mn_ngram *g) { return &g->dur; }
int mn_ngram_order(const mn_ngram *g) { return g->order; }

static int event_dur(const mn_ngram *g, const mn_event *e)
{
    int d = e->dur_ticks;
    if (d < 1) d = 1;
    if (d > MN_MAX_DUR_TICKS) d = MN_MAX_DUR_TICKS;
    return g->tok_of_ticks[d];
}

/* Contexts of event t of m, as the *_context functions above build them from a history. */
static int pitch_context_at(const mn_ngram *g, const mn_melody *m, size_t t, int *ctx)
{
    int hist[MN_NGRAM_MAX_ORDER];
    size_t take = t < (size_t)g->order ? t : (size_t)g->order - 1;
    for (size_t i = 0; i < take; i++) hist[i] = event_pitch(&m->ev[t - take + i]);
    /* the cut history keeps "start of tune" right: BOS only when take == t */
    if (take < t) {
        int n = 0;
        for (size_t i = 0; i < take; i++) ctx[n++] = hist[i];
        return n;
    }
    return pitch_context(g, hist, take, ctx);
}

static int dur_context_at(const mn_ngram *g, const mn_melody *m, size_t t, int *ctx)
{
    if (g->order < 2) return 0;
    int hist[MN_NGRAM_MAX_ORDER];
    size_t want = (size_t)g->order - 2;
    size_t take = t < want ? t : want;
    for (size_t i = 0; i < take; i++) hist[i] = event_dur(g, &m->ev[t - take + i]);
    int pitch = event_pitch(&m->ev[t]);
    if (take < t) {
        int n = 0;
        for (size_t i = 0; i < take; i++) ctx[n++] = hist[i];
        ctx[n++] = pitch_feature(pitch);
        return n;
    }
    return dur_context(g, hist, take, pitch, ctx);
}

mn_status mn_ngram_add(mn_ngram *g, const mn_melody *m, char *err)
{
    if (!g || !m) return mn_errf(err, MN_ERR_ARG, "ngram: no model or melody");
    if (!m->n) return MN_OK;
    if (m->n > SIZE_MAX / 16 / MN_NGRAM_MAX_ORDER)
        return mn_errf(err, MN_ERR_LIMIT, "ngram: melody of %zu events is too long", m->n);
    /* reserve first, so that a failure leaves the counts as they were */
    if (kn_reserve(&g->pitch, m->n) != MN_OK || kn_reserve(&g->dtok, m->n) != MN_OK)
        return mn_errf(err, MN_ERR_NOMEM, "ngram: out of memory adding %zu events", m->n);
    int ctx[MN_NGRAM_MAX_ORDER + 1];
    for (size_t t = 0; t < m->n; t++) {
        int n = pitch_context_at(g, m, t, ctx);
        ctx[n] = event_pitch(&m->ev[t]);
        kn_bump(&g->pitch, key_pack(ctx, n + 1), n + 1, 1);
        n = dur_context_at(g, m, t, ctx);
        ctx[n] = event_dur(g, &m->ev[t]);
        kn_bump(&g->dtok, key_pack(ctx, n + 1), n + 1, 1);
    }
    ngram_discounts(g);
    return MN_OK;
}

static int argmax_f(const double *p, int n)
{
    int best = 0;
    for (int k = 1; k < n; k++)
        if (p[k] > p[best]) best = k;
    return best;
}

void mn_ngram_score(const mn_ngram *g, const mn_melody *m, size_t t, double *bits_pitch,
                    double *bits_dur, int *argmax_pitch)
{
    int ctx[MN_NGRAM_MAX_ORDER + 1];
    int n = pitch_context_at(g, m, t, ctx);
    if (bits_pitch) bits_pitch[0] = -log2(kn_prob(&g->pitch, ctx, n, event_pitch(&m->ev[t])));
    if (argmax_pitch) {
        double p[MN_N_PITCH];
        kn_dist(&g->pitch, ctx, n, p);
        *argmax_pitch = argmax_f(p, MN_N_PITCH);
    }
    if (bits_dur) {
        n = dur_context_at(g, m, t, ctx);
        *bits_dur = -log2(kn_prob(&g->dtok, ctx, n, event_dur(g, &m->ev[t])));
    }
}

void mn_ngram_pitch_probs(const mn_ngram *g, const int *hist, size_t n_hist, float *probs)
{
    int ctx[MN_NGRAM_MAX_ORDER + 1];
    double p[MN_N_PITCH];
    int n = pitch_context(g, hist, n_hist, ctx);
    kn_dist(&g->pitch, ctx, n, p);
    for (int k = 0; k < MN_N_PITCH; k++) probs[k] = (float)p[k];
}

void mn_ngram_dur_probs(const mn_ngram *g, const int *hist, size_t n_hist, int pitch,
                        float *probs)
{
    int ctx[MN_NGRAM_MAX_ORDER + 1];
    double p[MN_MAX_DUR];
    int n = dur_context(g, hist, n_hist, pitch, ctx);
    kn_dist(&g->dtok, ctx, n, p);
    for (int k = 0; k < g->dur.n; k++) probs[k] = (float)p[k];
}

/*=== save and load ==========================================================================*/

/* File layout, little-endian:
 *   8 bytes  magic "MNNGRAM\0"
 *   u32      version (1)
 *   u32      order
 *   u32      duration table entries n, then n x u32 ticks
 *   twice (pitch model, then duration model):
 *     u64    number of tuples
 *     tuples: u64 key (symbols + 1, one byte each, oldest in the most significant byte),
 *             u32 raw count
 * Only raw-counted tuples are stored (full order, or starting with BOS); loading adds them
 * back, which rebuilds the continuation counts and statistics. */

static void put_u32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *b, uint64_t v)
{
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *b)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

static uint64_t get_u64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

static int write_model(FILE *f, const kn *m)
{
    uint64_t n = 0;
    for (size_t i = 0; i < m->grams.cap; i++) {
        uint64_t k = m->grams.keys[i];
        if (k && key_is_raw(m, k, key_len(k))) n++;
    }
    uint8_t b[12];
    put_u64(b, n);
    if (fwrite(b, 1, 8, f) != 8) return -1;
    for (size_t i = 0; i < m->grams.cap; i++) {
        uint64_t k = m->grams.keys[i];
        if (!k || !key_is_raw(m, k, key_len(k))) continue;
        put_u64(b, k);
        put_u32(b + 8, m->grams.count[i]);
        if (fwrite(b, 1, 12, f) != 12) return -1;
    }
    return 0;
}

mn_status mn_ngram_save(const mn_ngram *g, const char *path, char *err)
{
    if (!g || !path) return mn_errf(err, MN_ERR_ARG, "ngram: no model or path to save");
    char *tmp;
    FILE *f = mn_atomic_open(path, &tmp, err);
    if (!f) return MN_ERR_IO;
    uint8_t head[20 + 4 * MN_MAX_DUR];
    memcpy(head, magic, 8);
    put_u32(head + 8, FILE_VERSION);
    put_u32(head + 12, (uint32_t)g->order);
    put_u32(head + 16, (uint32_t)g->dur.n);
    for (int i = 0; i < g->dur.n; i++) put_u32(head + 20 + 4 * i, (uint32_t)g->dur.ticks[i]);
    size_t hn = 20 + 4 * (size_t)g->dur.n;
    int bad = fwrite(head, 1, hn, f) != hn || write_model(f, &g->pitch) ||
              write_model(f, &g->dtok);
    return mn_atomic_close(f, tmp, path, !bad, err);
}

/* Is symbol s allowed at position i of a stored tuple of length len? */
static int symbol_ok(const mn_ngram *g, int is_dur, int s, int i, int len)
{
    if (!is_dur) {
        if (i == len - 1) return s >= 0 && s < MN_N_PITCH;
        return (s >= 0 && s < MN_N_PITCH) || (i == 0 && s == MN_PITCH_BOS);
    }
    if (i == len - 1) return s >= 0 && s < g->dur.n;
    if (i == len - 2) return s >= FEAT_BASE && s < FEAT_BASE + N_FEAT;
    return (s >= 0 && s < g->dur.n) || (i == 0 && s == DUR_BOS);
}

static mn_status read_model(mn_ngram *g, int is_dur, const uint8_t *buf, size_t size,
                            size_t *pos, const char *path, char *err)
{
    const char *what = is_dur ? "duration" : "pitch";
    kn *m = is_dur ? &g->dtok : &g->pitch;
    if (size - *pos < 8)
        return mn_errf(err, MN_ERR_FORMAT, "%s: truncated before the %s tuple count", path, what);
    uint64_t n = get_u64(buf + *pos);
    *pos += 8;
    if (n > (size - *pos) / 12)
        return mn_errf(err, MN_ERR_FORMAT, "%s: truncated: %llu %s tuples need %llu bytes, %zu left",
                       path, (unsigned long long)n, what, (unsigned long long)n * 12,
                       size - *pos);
    for (uint64_t e = 0; e < n; e++) {
        uint64_t key = get_u64(buf + *pos);
        uint32_t count = get_u32(buf + *pos + 8);
        *pos += 12;
        int len = key_len(key);
        if (len < 1 || len > g->order)
            return mn_errf(err, MN_ERR_FORMAT, "%s: %s tuple %llu has length %d, expected 1..%d",
                           path, what, (unsigned long long)e, len, g->order);
        for (int i = 0; i < len; i++) {
            int s = (int)((key >> (8 * (len - 1 - i))) & 0xFF) - 1;
            if (!symbol_ok(g, is_dur, s, i, len))
                return mn_errf(err, MN_ERR_FORMAT, "%s: %s tuple %llu has bad symbol %d at %d",
                               path, what, (unsigned long long)e, s, i);
        }
        if (!key_is_raw(m, key, len))
            return mn_errf(err, MN_ERR_FORMAT,
                           "%s: %s tuple %llu is shorter than the order and not a tune start",
                           path, what, (unsigned long long)e);
        if (count < 1 || count > MAX_COUNT)
            return mn_errf(err, MN_ERR_FORMAT, "%s: %s tuple %llu has count %u, expected 1..%u",
                           path, what, (unsigned long long)e, count, MAX_COUNT);
        if (table_count(&m->grams, key))
            return mn_errf(err, MN_ERR_FORMAT, "%s: %s tuple %llu is a duplicate", path, what,
                           (unsigned long long)e);
        if (kn_reserve(m, 1) != MN_OK)
            return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory for %llu %s tuples", path,
                           (unsigned long long)n, what);
        kn_bump(m, key, len, count);
    }
    return MN_OK;
}

mn_status mn_ngram_load(const char *path, mn_ngram **out, char *err)
{
    if (!path || !out) return mn_errf(err, MN_ERR_ARG, "ngram: no path or output to load");
    *out = NULL;
    uint8_t *buf;
    size_t size;
    mn_status st = mn_read_file(path, MAX_FILE_BYTES, MN_READ_NONEMPTY, &buf, &size, err);
    if (st != MN_OK) return st;

    mn_ngram *g = NULL;
    size_t pos = 20;
    if (size < 8 || memcmp(buf, magic, 8) != 0) {
        st = mn_errf(err, MN_ERR_FORMAT, "%s: not an n-gram file (bad magic)", path);
    } else if (size < 20) {
        st = mn_errf(err, MN_ERR_FORMAT, "%s: truncated header (%zu bytes)", path, size);
    } else if (get_u32(buf + 8) != FILE_VERSION) {
        st = mn_errf(err, MN_ERR_FORMAT, "%s: version %u, expected %d", path, get_u32(buf + 8),
                     FILE_VERSION);
    } else {
        uint32_t order = get_u32(buf + 12), n_dur = get_u32(buf + 16);
        mn_durtable dt;
        memset(&dt, 0, sizeof dt);
        if (order < 1 || order > MN_NGRAM_MAX_ORDER)
            st = mn_errf(err, MN_ERR_FORMAT, "%s: order %u, expected 1..%d", path, order,
                         MN_NGRAM_MAX_ORDER);
        else if (n_dur < 1 || n_dur > MN_MAX_DUR)
            st = mn_errf(err, MN_ERR_FORMAT, "%s: duration table has %u entries, expected 1..%d",
                         path, n_dur, MN_MAX_DUR);
        else if (size - 20 < 4 * (size_t)n_dur)
            st = mn_errf(err, MN_ERR_FORMAT, "%s: truncated duration table", path);
        if (st == MN_OK) {
            dt.n = (int)n_dur;
            for (uint32_t i = 0; i < n_dur; i++) {
                uint32_t v = get_u32(buf + 20 + 4 * i);
                dt.ticks[i] = v > MN_MAX_DUR_TICKS ? -1 : (int)v;
            }
            pos = 20 + 4 * (size_t)n_dur;
            char why[MN_ERR_LEN];
            if (mn_durtable_validate(&dt, why) != MN_OK)
                st = mn_errf(err, MN_ERR_FORMAT, "%s: %s", path, why);
        }
        if (st == MN_OK) st = mn_ngram_new((int)order, &dt, &g, err);
        if (st == MN_OK) st = read_model(g, 0, buf, size, &pos, path, err);
        if (st == MN_OK) st = read_model(g, 1, buf, size, &pos, path, err);
        if (st == MN_OK && pos != size)
            st = mn_errf(err, MN_ERR_FORMAT, "%s: %zu trailing bytes", path, size - pos);
    }
    mn_free(buf);
    if (st != MN_OK) {
        mn_ngram_free(g);
        return st;
    }
    ngram_discounts(g);
    *out = g;
    return MN_OK;
}
