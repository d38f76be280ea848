/* motif.c - the melody's own memory (see motif.h). */
#include "motif.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYM_START 1000 /* the first note of a melody: no interval */
#define SYM_REST 1001

static int32_t pack(int iv, int dur_tok) { return (int32_t)((iv + 2048) << 8 | (dur_tok & 0xff)); }

void mn_motif_reset(mn_motif *m)
{
    m->n = 0;
    m->last_note = -1;
    m->run = 0;
    m->pcs = 0;
}

void mn_motif_push(mn_motif *m, int pitch, int dur_tok)
{
    if (m->n == MN_MOTIF_HIST) {
        memmove(m->sym, m->sym + MN_MOTIF_HIST / 2, (MN_MOTIF_HIST / 2) * sizeof *m->sym);
        m->n = MN_MOTIF_HIST / 2;
    }
    int iv;
    if (!mn_is_pitch(pitch)) {
        iv = SYM_REST;
    } else {
        iv = m->last_note < 0 ? SYM_START : pitch - m->last_note;
        m->run = pitch == m->last_note ? m->run + 1 : 1;
        m->last_note = pitch;
        m->pcs |= (uint16_t)(1u << (pitch % 12));
    }
    m->sym[m->n++] = pack(iv, dur_tok);
}

int mn_motif_propose(const mn_motif *m, int *pitch, int *dur_tok)
{
    int dist;
    return mn_motif_propose_at(m, pitch, dur_tok, &dist);
}

int mn_motif_propose_at(const mn_motif *m, int *pitch, int *dur_tok, int *dist)
{
    const int32_t *s = m->sym;
    int n = m->n, best_k = 0, best_j = -1;
    /* for each earlier end j (most recent first), the length of the common suffix of s[..j)
     * and s[..n); keep the longest */
    for (int j = n - 1; j >= 1 && best_k < MN_MOTIF_MAX_K; j--) {
        int k = 0;
        while (k < MN_MOTIF_MAX_K && k < j && s[j - 1 - k] == s[n - 1 - k]) k++;
        if (k > best_k) {
            best_k = k;
            best_j = j;
        }
    }
    if (!best_k) return 0;
    *dist = n - best_j;
    int iv = (s[best_j] >> 8) - 2048;
    *dur_tok = s[best_j] & 0xff;
    if (iv == SYM_REST) {
        *pitch = MN_REST;
    } else {
        if (iv == SYM_START || m->last_note < 0) return 0;
        int p = m->last_note + iv;
        if (!mn_is_pitch(p) || !(m->pcs >> (p % 12) & 1)) return 0;
        *pitch = p;
    }
    return best_k;
}

float mn_motif_weight(int k)
{
    /* share of probability given to the proposal by match length (the last entry: 16 or
     * more): the weights of a model whose metadata holds no motif_params (the bundled model
     * carries its own, written by `melodynet fit-motif`). Maximum-likelihood weights of the
     * Nottingham and Essen valid splits, made non-decreasing so that a longer match is never
     * trusted less than a shorter one. */
    static const float w[MN_MOTIF_MAX_K + 1] = {0.0f,  0.055f, 0.23f, 0.475f, 0.68f, 0.765f,
                                                0.80f, 0.83f,  0.85f, 0.86f,  0.87f, 0.87f,
                                                0.88f, 0.88f,  0.89f, 0.89f,  0.95f};
    return k < 0 ? 0 : w[k > MN_MOTIF_MAX_K ? MN_MOTIF_MAX_K : k];
}

/*=== parameters =============================================================================*/

void mn_motif_params_default(mn_motif_params *p)
{
    for (int k = 1; k <= MN_MOTIF_MAX_K; k++) {
        float w = mn_motif_weight(k);
        p->far[k - 1] = w;
        p->near[k - 1] = w < MN_MOTIF_NEAR_CAP ? w : MN_MOTIF_NEAR_CAP;
    }
    p->veto = 0;
    for (int r = 0; r < MN_MOTIF_RUNS; r++) p->cap[r] = 1;
}

mn_status mn_motif_params_validate(const mn_motif_params *p, char *err)
{
    for (int k = 0; k < MN_MOTIF_MAX_K; k++) {
        if (!(p->far[k] >= 0 && p->far[k] < 1))
            return mn_errf(err, MN_ERR_FORMAT, "motif far weight %d is %g, expected 0 <= w < 1",
                           k + 1, (double)p->far[k]);
        if (!(p->near[k] >= 0 && p->near[k] <= MN_MOTIF_NEAR_CAP))
            return mn_errf(err, MN_ERR_FORMAT, "motif near weight %d is %g, expected 0..%g",
                           k + 1, (double)p->near[k], (double)MN_MOTIF_NEAR_CAP);
    }
    if (!(p->veto >= 0 && p->veto < 1))
        return mn_errf(err, MN_ERR_FORMAT, "motif veto is %g, expected 0 <= v < 1",
                       (double)p->veto);
    for (int r = 0; r < MN_MOTIF_RUNS; r++)
        if (!(p->cap[r] > 0 && p->cap[r] <= 1))
            return mn_errf(err, MN_ERR_FORMAT, "motif repeat cap %d is %g, expected 0 < c <= 1",
                           r + 1, (double)p->cap[r]);
    return MN_OK;
}

/* Reads exactly n comma-separated finite numbers from s (up to a space or the end). */
static const char *parse_list(const char *s, float *out, int n, const char *key, char *err)
{
    for (int i = 0; i < n; i++) {
        char *end;
        double v = strtod(s, &end);
        if (end == s || !isfinite(v)) {
            mn_errf(err, MN_ERR_FORMAT, "motif params: %s entry %d is not a number", key, i + 1);
            return NULL;
        }
        out[i] = (float)v;
        s = end;
        if (i + 1 < n) {
            if (*s != ',') {
                mn_errf(err, MN_ERR_FORMAT, "motif params: %s has %d entries, expected %d", key,
                        i + 1, n);
                return NULL;
            }
            s++;
        }
    }
    if (*s && *s != ' ') {
        mn_errf(err, MN_ERR_FORMAT, "motif params: %s has more than %d entries", key, n);
        return NULL;
    }
    return s;
}

mn_status mn_motif_params_parse(const char *s, mn_motif_params *p, char *err)
{
    mn_motif_params q;
    int seen[4] = {0};
    static const char *const keys[4] = {"far", "near", "veto", "cap"};
    float *dst[4] = {q.far, q.near, &q.veto, q.cap};
    static const int len[4] = {MN_MOTIF_MAX_K, MN_MOTIF_MAX_K, 1, MN_MOTIF_RUNS};
    if (!s) return mn_errf(err, MN_ERR_FORMAT, "motif params: none");
    while (*s) {
        while (*s == ' ') s++;
        if (!*s) break;
        int k = 0;
        for (; k < 4; k++) {
            size_t l = strlen(keys[k]);
            if (!strncmp(s, keys[k], l) && s[l] == '=') break;
        }
        if (k == 4) return mn_errf(err, MN_ERR_FORMAT, "motif params: unknown key at \"%.20s\"", s);
        if (seen[k]++) return mn_errf(err, MN_ERR_FORMAT, "motif params: %s given twice", keys[k]);
        s = parse_list(s + strlen(keys[k]) + 1, dst[k], len[k], keys[k], err);
        if (!s) return MN_ERR_FORMAT;
    }
    for (int k = 0; k < 4; k++)
        if (!seen[k]) return mn_errf(err, MN_ERR_FORMAT, "motif params: no %s", keys[k]);
    mn_status st = mn_motif_params_validate(&q, err);
    if (st) return st;
    *p = q;
    return MN_OK;
}

const char *mn_motif_params_format(const mn_motif_params *p, char *buf, size_t n)
{
    const float *src[4] = {p->far, p->near, &p->veto, p->cap};
    static const char *const keys[4] = {"far", "near", "veto", "cap"};
    static const int cnt[4] = {MN_MOTIF_MAX_K, MN_MOTIF_MAX_K, 1, MN_MOTIF_RUNS};
    size_t len = 0;
    buf[0] = '\0';
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < cnt[k]; i++) {
            int w = i ? snprintf(buf + len, n - len, ",%.4g", (double)src[k][i])
                      : snprintf(buf + len, n - len, "%s%s=%.4g", k ? " " : "", keys[k],
                                 (double)src[k][i]);
            if (w < 0 || (size_t)w >= n - len) return buf;
            len += (size_t)w;
        }
    return buf;
}

double mn_motif_lambda(const mn_motif_params *p, int k, int dist)
{
    if (k <= 0) return 0;
    int i = (k > MN_MOTIF_MAX_K ? MN_MOTIF_MAX_K : k) - 1;
    if (dist > MN_MOTIF_NEAR) return p->far[i];
    if (k >= 2 * dist) return 0; /* the figure would sound a fourth time in a row */
    return p->near[i];
}

double mn_motif_repeat_cap(const mn_motif_params *p, int run)
{
    if (run <= 0) return 1;
    return p->cap[(run > MN_MOTIF_RUNS ? MN_MOTIF_RUNS : run) - 1];
}

/*=== fitting ================================================================================*/

/* Log-likelihood (nats) of the events of one bucket under weight lam. */
static double bucket_ll(const mn_motif_obs *const *ob, size_t n, double lam)
{
    double ll = 0;
    for (size_t i = 0; i < n; i++)
        ll += log((1 - lam) * ob[i]->q + (ob[i]->hit ? lam : 0) + 1e-300);
    return ll;
}

/* The weight in [0, hi] that maximises the bucket's likelihood (concave: bisection on the
 * derivative). */
static double fit_bucket(const mn_motif_obs *const *ob, size_t n, double hi)
{
    if (!n) return 0;
    double lo = 0, up = hi;
    for (int it = 0; it < 60; it++) {
        double lam = 0.5 * (lo + up), d = 0;
        for (size_t i = 0; i < n; i++) {
            double q = ob[i]->q, den = (1 - lam) * q + (ob[i]->hit ? lam : 0);
            d += ((ob[i]->hit ? 1 : 0) - q) / (den > 1e-300 ? den : 1e-300);
        }
        if (d > 0) lo = lam;
        else up = lam;
    }
    return 0.5 * (lo + up);
}

/* Fits far and near for one veto; returns the log-likelihood (nats) of all events. */
static double fit_weights(const mn_motif_obs *obs, size_t n, double veto, mn_motif_params *p,
                          const mn_motif_obs **scratch)
{
    double ll = 0;
    for (int near = 0; near < 2; near++)
        for (int k = 1; k <= MN_MOTIF_MAX_K; k++) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++) {
                const mn_motif_obs *o = &obs[i];
                int kk = o->k > MN_MOTIF_MAX_K ? MN_MOTIF_MAX_K : o->k;
                if (kk != k || (o->dist <= MN_MOTIF_NEAR) != near || o->q_prop < veto) continue;
                if (near && o->k >= 2 * o->dist) continue;
                scratch[m++] = o;
            }
            double hi = near ? MN_MOTIF_NEAR_CAP : 0.99;
            double lam = fit_bucket(scratch, m, hi);
            (near ? p->near : p->far)[k - 1] = (float)lam;
            ll += bucket_ll(scratch, m, (float)lam);
        }
    /* events with no weight: the network alone */
    for (size_t i = 0; i < n; i++) {
        const mn_motif_obs *o = &obs[i];
        if (mn_motif_lambda(p, o->k, o->dist) > 0 && o->q_prop >= veto) continue;
        ll += log(o->q + 1e-300);
    }
    return ll;
}

mn_status mn_motif_fit(const mn_motif_obs *obs, size_t n, mn_motif_params *out,
                       double *bits_net, double *bits_fit, char *err)
{
    if (!n) return mn_errf(err, MN_ERR_EMPTY, "motif fit: no events");
    const mn_motif_obs **scratch = mn_malloc(n * sizeof *scratch);
    if (!scratch) return mn_errf(err, MN_ERR_NOMEM, "motif fit: out of memory");
    double net = 0;
    for (size_t i = 0; i < n; i++) net += log(obs[i].q + 1e-300);
    static const double vetoes[] = {0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2};
    double ll[sizeof vetoes / sizeof *vetoes], best = -INFINITY;
    mn_motif_params p;
    mn_motif_params_default(&p);
    int nv = (int)(sizeof vetoes / sizeof *vetoes);
    for (int v = 0; v < nv; v++) {
        ll[v] = fit_weights(obs, n, vetoes[v], &p, scratch);
        if (ll[v] > best) best = ll[v];
    }
    int pick = 0;
    for (int v = 0; v < nv; v++)
        if ((best - ll[v]) / (double)n / log(2.0) <= 0.01) pick = v;
    double fit = fit_weights(obs, n, vetoes[pick], &p, scratch);
    p.veto = (float)vetoes[pick];
    /* repeat caps: the share of runs of r notes the tunes continue, pooled upward (r, r+1, ...)
     * until 30 runs back it */
    size_t reach[MN_MOTIF_RUNS + 1] = {0}, cont[MN_MOTIF_RUNS + 1] = {0};
    for (size_t i = 0; i < n; i++) {
        int r = obs[i].run;
        if (r <= 0) continue;
        if (r > MN_MOTIF_RUNS) r = MN_MOTIF_RUNS;
        reach[r]++;
        cont[r] += (size_t)obs[i].repeat;
    }
    float share[MN_MOTIF_RUNS];
    for (int r = 1; r <= MN_MOTIF_RUNS; r++) {
        size_t a = 0, c = 0;
        for (int j = r; j <= MN_MOTIF_RUNS && a < 30; j++) {
            a += reach[j];
            c += cont[j];
        }
        double sh = a ? (double)c / (double)a : 1;
        share[r - 1] = (float)(sh > 0.02 ? sh : 0.02);
    }
    /* ... applied from the shortest run on at which they cost the tunes at most 0.002
     * bits/event (shorter runs are the network's: its odds there depend on the tune) */
    double cost[MN_MOTIF_RUNS + 1] = {0}; /* cost[r]: of the caps at run r alone, bits */
    for (size_t i = 0; i < n; i++) {
        const mn_motif_obs *o = &obs[i];
        if (o->run <= 0) continue;
        int r = o->run > MN_MOTIF_RUNS ? MN_MOTIF_RUNS : o->run;
        double lam = o->k && o->q_prop >= p.veto ? mn_motif_lambda(&p, o->k, o->dist) : 0;
        double pr = (1 - lam) * o->q_rep + (o->prop_repeat ? lam : 0);
        double c = share[r - 1];
        if (pr <= c) continue;
        cost[r] += o->repeat ? log2(pr / c) : -log2((1 - c) / (1 - pr));
    }
    int from = MN_MOTIF_RUNS + 1;
    double tail = 0;
    for (int r = MN_MOTIF_RUNS; r >= 1; r--) {
        tail += cost[r];
        if (tail / (double)n > 0.002) break;
        from = r;
    }
    for (int r = 1; r <= MN_MOTIF_RUNS; r++) p.cap[r - 1] = r >= from ? share[r - 1] : 1;
    mn_free(scratch);
    if (bits_net) *bits_net = -net / (double)n / log(2.0);
    if (bits_fit) *bits_fit = -fit / (double)n / log(2.0);
    *out = p;
    return MN_OK;
}
