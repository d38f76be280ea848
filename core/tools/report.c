/* report.c - creativity versus imitation: style figures of melody sets, a suffix automaton
 * over the training tunes' intervals for the copy figures, and the text and JSON writers. */
#include "report.h"
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*=== melody figures =========================================================================*/

static const int major_steps[7] = {0, 2, 4, 5, 7, 9, 11};
static const int minor_steps[7] = {0, 2, 3, 5, 7, 8, 10};

double mn_report_in_key(const mn_melody *m, int *tonic, int *minor)
{
    size_t pc[12] = {0}, notes = 0;
    for (size_t i = 0; i < m->n; i++) {
        int p = m->ev[i].pitch;
        if (!mn_is_pitch(p)) continue;
        pc[p % 12]++;
        notes++;
    }
    if (tonic) *tonic = -1;
    if (minor) *minor = -1;
    if (notes == 0) return -1;
    size_t best = 0;
    /* major first, so a melody that fits a major key and its relative minor equally is major */
    for (int mode = 0; mode < 2; mode++) {
        const int *steps = mode ? minor_steps : major_steps;
        for (int root = 0; root < 12; root++) {
            size_t in = 0;
            for (int k = 0; k < 7; k++) in += pc[(root + steps[k]) % 12];
            if (in > best) {
                best = in;
                if (tonic) *tonic = root;
                if (minor) *minor = mode;
            }
        }
    }
    return (double)best / (double)notes;
}

size_t mn_report_intervals(const mn_melody *m, int *out)
{
    size_t k = 0;
    int prev = -1;
    for (size_t i = 0; i < m->n; i++) {
        int p = m->ev[i].pitch;
        if (!mn_is_pitch(p)) continue;
        if (prev >= 0) out[k++] = p - prev;
        prev = p;
    }
    return k;
}

size_t mn_report_stuck_runs(const mn_melody *m)
{
    size_t runs = 0, run = 0;
    int prev = -1;
    for (size_t i = 0; i < m->n; i++) {
        int p = m->ev[i].pitch;
        if (!mn_is_pitch(p)) continue;
        run = p == prev ? run + 1 : 1;
        prev = p;
        if (run == MN_REPORT_STUCK) runs++;
    }
    return runs;
}

static int same_event(const mn_event *a, const mn_event *b)
{
    int pa = mn_is_pitch(a->pitch) ? a->pitch : MN_REST;
    int pb = mn_is_pitch(b->pitch) ? b->pitch : MN_REST;
    return pa == pb && a->dur_ticks == b->dur_ticks;
}

int mn_report_is_loop(const mn_melody *m)
{
    if (m->n < MN_REPORT_LOOP_SPAN) return 0;
    size_t start = m->n - MN_REPORT_LOOP_SPAN;
    for (size_t p = 1; p <= MN_REPORT_LOOP_PERIOD; p++) {
        size_t i = start + p;
        while (i < m->n && same_event(&m->ev[i], &m->ev[i - p])) i++;
        if (i == m->n) return 1;
    }
    return 0;
}

static const int dur_ticks[MN_REPORT_DUR_BINS] = {3, 4, 6, 8, 9, 12, 16, 18, 24, 36, 48, 72, 96};
static const char *const dur_names[MN_REPORT_DUR_BINS] = {
    "1/32", "1/16 triplet", "1/16", "1/8 triplet", "dotted 1/16", "1/8", "1/4 triplet",
    "dotted 1/8", "1/4", "dotted 1/4", "1/2", "dotted 1/2", "whole and longer",
};

int mn_report_dur_bin(int d)
{
    if (d >= dur_ticks[MN_REPORT_DUR_BINS - 1]) return MN_REPORT_DUR_BINS - 1;
    if (d <= dur_ticks[0]) return 0;
    double l = log((double)d);
    int best = 0;
    double best_d = INFINITY;
    for (int i = 0; i < MN_REPORT_DUR_BINS; i++) {
        double x = fabs(log((double)dur_ticks[i]) - l);
        if (x < best_d - 1e-12) {
            best_d = x;
            best = i;
        }
    }
    return best;
}

const char *mn_report_dur_name(int bin)
{
    return bin >= 0 && bin < MN_REPORT_DUR_BINS ? dur_names[bin] : "?";
}

double mn_report_tv(const double *p, const double *q, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += fabs(p[i] - q[i]);
    return 0.5 * s;
}

double mn_report_js(const double *p, const double *q, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) {
        double m = 0.5 * (p[i] + q[i]);
        if (p[i] > 0) s += 0.5 * p[i] * log2(p[i] / m);
        if (q[i] > 0) s += 0.5 * q[i] * log2(q[i] / m);
    }
    return s < 0 ? 0 : s;
}

/*=== suffix automaton =======================================================================*/

/* Symbols: interval d (-127..127) is d + 127; every tune ends with SEP, which no query holds,
 * so no match can run from one tune into the next. */
#define SEP 255
#define N_SYM 256

struct mn_imitation {
    int32_t *len;      /* [n_states] longest string of the state */
    int32_t *link;     /* [n_states] suffix link, -1 at the root */
    int32_t *firstpos; /* [n_states] end position in the text of its first occurrence */
    int32_t *head;     /* [n_states] first out-edge, -1 for none */
    size_t n_states;
    int32_t *e_to, *e_next; /* [n_edges] edge target and next edge of the same state */
    uint8_t *e_sym;         /* [n_edges] edge symbol */
    size_t n_edges, cap_edges;
    size_t *tune_off; /* [n_tunes] text position of each tune's first interval */
    size_t n_tunes;
};

static int32_t sam_edge(const mn_imitation *ix, int32_t s, int sym)
{
    for (int32_t e = ix->head[s]; e >= 0; e = ix->e_next[e])
        if (ix->e_sym[e] == sym) return e;
    return -1;
}

static int sam_add_edge(mn_imitation *ix, int32_t s, int sym, int32_t to)
{
    if (ix->n_edges == ix->cap_edges) return -1;
    int32_t e = (int32_t)ix->n_edges++;
    ix->e_sym[e] = (uint8_t)sym;
    ix->e_to[e] = to;
    ix->e_next[e] = ix->head[s];
    ix->head[s] = e;
    return 0;
}

static int32_t sam_new_state(mn_imitation *ix, int32_t len, int32_t firstpos)
{
    int32_t s = (int32_t)ix->n_states++;
    ix->len[s] = len;
    ix->link[s] = -1;
    ix->firstpos[s] = firstpos;
    ix->head[s] = -1;
    return s;
}

/* Appends symbol c at text position pos; last is the state of the whole text so far. */
static int sam_extend(mn_imitation *ix, int32_t *last, int c, int32_t pos)
{
    int32_t cur = sam_new_state(ix, ix->len[*last] + 1, pos);
    int32_t p = *last;
    while (p >= 0 && sam_edge(ix, p, c) < 0) {
        if (sam_add_edge(ix, p, c, cur)) return -1;
        p = ix->link[p];
    }
    if (p < 0) {
        ix->link[cur] = 0;
    } else {
        int32_t q = ix->e_to[sam_edge(ix, p, c)];
        if (ix->len[p] + 1 == ix->len[q]) {
            ix->link[cur] = q;
        } else {
            int32_t clone = sam_new_state(ix, ix->len[p] + 1, ix->firstpos[q]);
            for (int32_t e = ix->head[q]; e >= 0; e = ix->e_next[e])
                if (sam_add_edge(ix, clone, ix->e_sym[e], ix->e_to[e])) return -1;
            ix->link[clone] = ix->link[q];
            while (p >= 0) {
                int32_t e = sam_edge(ix, p, c);
                if (e < 0 || ix->e_to[e] != q) break;
                ix->e_to[e] = clone;
                p = ix->link[p];
            }
            ix->link[q] = clone;
            ix->link[cur] = clone;
        }
    }
    *last = cur;
    return 0;
}

void mn_imitation_free(mn_imitation *ix)
{
    if (!ix) return;
    mn_free(ix->len);
    mn_free(ix->link);
    mn_free(ix->firstpos);
    mn_free(ix->head);
    mn_free(ix->e_to);
    mn_free(ix->e_next);
    mn_free(ix->e_sym);
    mn_free(ix->tune_off);
    mn_free(ix);
}

mn_status mn_imitation_new(const mn_melody *train, size_t n_train, mn_imitation **out,
                           char *err)
{
    *out = NULL;
    size_t text_len = 0, longest = 0;
    for (size_t t = 0; t < n_train; t++) {
        size_t notes = 0;
        for (size_t i = 0; i < train[t].n; i++) notes += mn_is_pitch(train[t].ev[i].pitch);
        if (notes >= 2) text_len += notes; /* notes - 1 intervals and a separator */
        if (train[t].n > longest) longest = train[t].n;
    }
    if (text_len == 0)
        return mn_errf(err, MN_ERR_EMPTY, "imitation index: no training tune has two notes");
    if (text_len > MN_REPORT_MAX_TRAIN_INTERVALS)
        return mn_errf(err, MN_ERR_LIMIT, "imitation index: %zu training intervals, more than %u",
                       text_len, MN_REPORT_MAX_TRAIN_INTERVALS);
    mn_imitation *ix = mn_calloc(1, sizeof *ix);
    int *iv = mn_malloc((longest ? longest : 1) * sizeof *iv);
    if (!ix || !iv) goto nomem;
    /* a suffix automaton of a text of N symbols has at most 2N states and 3N transitions;
     * clones copy edges but stay within that count */
    size_t cap_states = 2 * text_len + 2;
    ix->cap_edges = 3 * text_len + 4;
    ix->len = mn_malloc(cap_states * sizeof *ix->len);
    ix->link = mn_malloc(cap_states * sizeof *ix->link);
    ix->firstpos = mn_malloc(cap_states * sizeof *ix->firstpos);
    ix->head = mn_malloc(cap_states * sizeof *ix->head);
    ix->e_to = mn_malloc(ix->cap_edges * sizeof *ix->e_to);
    ix->e_next = mn_malloc(ix->cap_edges * sizeof *ix->e_next);
    ix->e_sym = mn_malloc(ix->cap_edges * sizeof *ix->e_sym);
    ix->tune_off = mn_malloc((n_train ? n_train : 1) * sizeof *ix->tune_off);
    if (!ix->len || !ix->link || !ix->firstpos || !ix->head || !ix->e_to || !ix->e_next ||
        !ix->e_sym || !ix->tune_off)
        goto nomem;
    ix->n_tunes = n_train;
    int32_t last = sam_new_state(ix, 0, -1);
    int32_t pos = 0;
    for (size_t t = 0; t < n_train; t++) {
        ix->tune_off[t] = (size_t)pos;
        size_t k = mn_report_intervals(&train[t], iv);
        if (k == 0) continue;
        for (size_t i = 0; i < k; i++)
            if (sam_extend(ix, &last, iv[i] + 127, pos++)) goto overflow;
        if (sam_extend(ix, &last, SEP, pos++)) goto overflow;
    }
    mn_free(iv);
    *out = ix;
    return MN_OK;
overflow:
    mn_free(iv);
    mn_imitation_free(ix);
    return mn_errf(err, MN_ERR_LIMIT, "imitation index: more transitions than expected");
nomem:
    mn_free(iv);
    mn_imitation_free(ix);
    return mn_errf(err, MN_ERR_NOMEM, "imitation index: out of memory for %zu intervals",
                   text_len);
}

/* Tune holding text position pos: the last tune starting at or before it (tunes without
 * intervals share the start of the next one and are never chosen). */
static size_t tune_at(const mn_imitation *ix, size_t pos)
{
    size_t lo = 0, hi = ix->n_tunes; /* answer in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->tune_off[mid] <= pos) lo = mid;
        else hi = mid;
    }
    return lo;
}

void mn_imitation_match_intervals(const mn_imitation *ix, const int *iv, size_t n,
                                  mn_imitation_match *out)
{
    memset(out, 0, sizeof *out);
    out->n_ngrams = n >= MN_REPORT_NGRAM ? n - MN_REPORT_NGRAM + 1 : 0;
    int32_t s = 0, best_state = 0;
    size_t l = 0, best_end = 0;
    for (size_t i = 0; i < n; i++) {
        if (iv[i] < -127 || iv[i] > 127) { /* cannot occur in the text */
            s = 0;
            l = 0;
            continue;
        }
        int c = iv[i] + 127;
        int32_t e;
        while ((e = sam_edge(ix, s, c)) < 0 && s != 0) {
            s = ix->link[s];
            l = (size_t)ix->len[s];
        }
        if (e >= 0) {
            s = ix->e_to[e];
            l++;
        } else {
            s = 0;
            l = 0;
        }
        /* l is the longest suffix of iv[0..i] found in the text, so the n-gram ending at i is
         * there exactly when l reaches its length */
        if (l >= MN_REPORT_NGRAM) out->ngram_hits++;
        if (l > out->len) {
            out->len = l;
            best_state = s;
            best_end = i;
        }
    }
    if (out->len > 0) {
        /* every string of a state ends where its first occurrence ends */
        size_t start = (size_t)ix->firstpos[best_state] + 1 - out->len;
        out->query_start = best_end + 1 - out->len;
        out->tune = tune_at(ix, start);
        out->tune_start = start - ix->tune_off[out->tune];
    }
}

/*=== sets ===================================================================================*/

mn_status mn_report_set_compute(mn_report_set *out, const mn_melody *mels, size_t n,
                                const mn_report_set *train, const mn_imitation *ix, char *err)
{
    memset(out, 0, sizeof *out);
    out->n_melodies = n;
    out->has_imitation = ix != NULL;
    size_t longest = 1;
    for (size_t k = 0; k < n; k++)
        if (mels[k].n > longest) longest = mels[k].n;
    int *iv = mn_malloc(longest * sizeof *iv);
    if (!iv) return mn_errf(err, MN_ERR_NOMEM, "report: out of memory");
    size_t n_events = 0, n_rests = 0, n_onbeat = 0, with_notes = 0, copied = 0, motifs = 0,
           repeats = 0, pickups = 0;
    double leap_sum = 0;
    out->pitch_lo = out->pitch_hi = -1;
    double bars = 0, in_key = 0, span_sum = 0, copy_share = 0;
    size_t span_count[MN_REPORT_SPAN_BINS] = {0}, iv_count[MN_REPORT_INTERVAL_BINS] = {0},
           dur_count[MN_REPORT_DUR_BINS] = {0};
    for (size_t k = 0; k < n; k++) {
        const mn_melody *m = &mels[k];
        int lo = 128, hi = -1;
        size_t notes = 0;
        for (size_t i = 0; i < m->n; i++) {
            const mn_event *e = &m->ev[i];
            n_events++;
            if (e->bar_ticks > 0) bars += (double)e->dur_ticks / e->bar_ticks;
            if (!mn_is_pitch(e->pitch)) {
                n_rests++;
                continue;
            }
            notes++;
            if (e->pitch < lo) lo = e->pitch;
            if (e->pitch > hi) hi = e->pitch;
            if (e->pos_ticks % MN_TPQ == 0) n_onbeat++;
            dur_count[mn_report_dur_bin(e->dur_ticks)]++;
        }
        out->n_notes += notes;
        out->stuck_runs += mn_report_stuck_runs(m);
        out->loops += (size_t)mn_report_is_loop(m);
        if (notes > 0) {
            with_notes++;
            for (size_t i = 0; i < m->n; i++)
                if (mn_is_pitch(m->ev[i].pitch)) {
                    pickups += m->ev[i].pos_ticks != 0;
                    break;
                }
            if (out->pitch_lo < 0 || lo < out->pitch_lo) out->pitch_lo = lo;
            if (hi > out->pitch_hi) out->pitch_hi = hi;
            in_key += mn_report_in_key(m, NULL, NULL);
            int span = hi - lo;
            span_sum += span;
            span_count[span < MN_REPORT_SPAN_BINS ? span : MN_REPORT_SPAN_BINS - 1]++;
        }
        size_t k_iv = mn_report_intervals(m, iv);
        out->n_intervals += k_iv;
        int leap = 0;
        for (size_t i = 0; i < k_iv; i++)
            if (abs(iv[i]) > leap) leap = abs(iv[i]);
        if (notes > 0) leap_sum += leap;
        if (leap > out->leap_max) out->leap_max = leap;
        /* motifs: each 4-interval figure that repeats an earlier one (quadratic per melody,
         * fine for tunes of hundreds of notes) */
        for (size_t i = 1; i + MN_REPORT_MOTIF <= k_iv; i++) {
            motifs++;
            for (size_t j = 0; j < i; j++)
                if (!memcmp(iv + j, iv + i, MN_REPORT_MOTIF * sizeof *iv)) {
                    repeats++;
                    break;
                }
        }
        if (k_iv >= MN_REPORT_MOTIF) motifs++; /* the first figure, never a repeat */
        for (size_t i = 0; i < k_iv; i++) {
            int d = iv[i];
            if (d < -MN_REPORT_MAX_INTERVAL) d = -MN_REPORT_MAX_INTERVAL;
            if (d > MN_REPORT_MAX_INTERVAL) d = MN_REPORT_MAX_INTERVAL;
            iv_count[d + MN_REPORT_MAX_INTERVAL]++;
        }
        if (ix) {
            mn_imitation_match mt;
            mn_imitation_match_intervals(ix, iv, k_iv, &mt);
            out->copy_mean += (double)mt.len;
            if (k_iv > 0) {
                copy_share += (double)mt.len / (double)k_iv;
                copied++;
            }
            if (mt.len > out->copy_max || k == 0) {
                out->copy_max = mt.len;
                out->copy_max_melody = k;
                out->copy_max_tune = mt.tune;
            }
            out->n_ngrams += mt.n_ngrams;
            out->ngram_hits += mt.ngram_hits;
        }
    }
    mn_free(iv);
    if (with_notes) {
        out->in_key = in_key / (double)with_notes;
        out->span_mean = span_sum / (double)with_notes;
        out->pickup = (double)pickups / (double)with_notes;
        out->leap_max_mean = leap_sum / (double)with_notes;
        for (int b = 0; b < MN_REPORT_SPAN_BINS; b++)
            out->span_hist[b] = (double)span_count[b] / (double)with_notes;
    }
    if (out->n_intervals)
        for (int b = 0; b < MN_REPORT_INTERVAL_BINS; b++)
            out->interval_hist[b] = (double)iv_count[b] / (double)out->n_intervals;
    if (out->n_notes) {
        for (int b = 0; b < MN_REPORT_DUR_BINS; b++)
            out->dur_hist[b] = (double)dur_count[b] / (double)out->n_notes;
        out->onbeat = (double)n_onbeat / (double)out->n_notes;
    }
    if (bars > 0) out->notes_per_bar = (double)out->n_notes / bars;
    if (n_events) {
        out->rest_share = (double)n_rests / (double)n_events;
        out->stuck_per = (double)out->stuck_runs * MN_REPORT_PER_EVENTS / (double)n_events;
    }
    if (n) out->loop_share = (double)out->loops / (double)n;
    if (motifs) out->motif_repeat = (double)repeats / (double)motifs;
    if (ix && n) out->copy_mean /= (double)n;
    if (copied) out->copy_mean_share = copy_share / (double)copied;
    if (out->n_ngrams) out->ngram_share = (double)out->ngram_hits / (double)out->n_ngrams;
    if (train) {
        out->span_tv = mn_report_tv(out->span_hist, train->span_hist, MN_REPORT_SPAN_BINS);
        out->span_js = mn_report_js(out->span_hist, train->span_hist, MN_REPORT_SPAN_BINS);
        out->interval_tv = mn_report_tv(out->interval_hist, train->interval_hist,
                                        MN_REPORT_INTERVAL_BINS);
        out->interval_js = mn_report_js(out->interval_hist, train->interval_hist,
                                        MN_REPORT_INTERVAL_BINS);
        out->dur_tv = mn_report_tv(out->dur_hist, train->dur_hist, MN_REPORT_DUR_BINS);
        out->dur_js = mn_report_js(out->dur_hist, train->dur_hist, MN_REPORT_DUR_BINS);
    }
    return MN_OK;
}

mn_status mn_report_compute(mn_report *r, const mn_melody *train, size_t n_train,
                            const char *const *train_names, const mn_melody *ref, size_t n_ref,
                            const mn_melody *gen, size_t n_gen, char *err)
{
    memset(r, 0, sizeof *r);
    mn_imitation *ix;
    mn_status st = mn_imitation_new(train, n_train, &ix, err);
    if (st) return st;
    st = mn_report_set_compute(&r->train, train, n_train, NULL, NULL, err);
    if (!st) st = mn_report_set_compute(&r->ref, ref, n_ref, &r->train, ix, err);
    if (!st) st = mn_report_set_compute(&r->gen, gen, n_gen, &r->train, ix, err);
    mn_imitation_free(ix);
    if (st) return st;
    const mn_report_set *sets[2] = {&r->ref, &r->gen};
    char *names[2] = {r->ref_copy_tune, r->gen_copy_tune};
    for (int k = 0; k < 2; k++) {
        size_t t = sets[k]->copy_max_tune;
        const char *nm = "";
        if (sets[k]->copy_max > 0 && t < n_train) nm = train_names ? train_names[t] : train[t].name;
        snprintf(names[k], sizeof r->ref_copy_tune, "%s", nm ? nm : "");
    }
    return MN_OK;
}

/*=== writers ================================================================================*/

static void row3(FILE *f, const char *label, const char *fmt, double a, double b, double c)
{
    char x[3][32];
    snprintf(x[0], sizeof x[0], fmt, a);
    snprintf(x[1], sizeof x[1], fmt, b);
    snprintf(x[2], sizeof x[2], fmt, c);
    fprintf(f, "  %-36s %14s %14s %14s\n", label, x[0], x[1], x[2]);
}

static void row2(FILE *f, const char *label, const char *a, const char *b)
{
    fprintf(f, "  %-36s %14s %14s %14s\n", label, "-", a, b);
}

void mn_report_write_text(FILE *f, const mn_report *r, const char *ref_label,
                          const char *gen_label)
{
    const mn_report_set *t = &r->train, *v = &r->ref, *g = &r->gen;
    char a[48], b[48];
    fprintf(f, "  %-36s %14s %14s %14s\n", "", "train", ref_label, gen_label);
    fprintf(f, "style\n");
    row3(f, "melodies", "%.0f", (double)t->n_melodies, (double)v->n_melodies,
         (double)g->n_melodies);
    row3(f, "notes", "%.0f", (double)t->n_notes, (double)v->n_notes, (double)g->n_notes);
    row3(f, "in-key rate (best of 24 keys)", "%.3f", t->in_key, v->in_key, g->in_key);
    row3(f, "pitch span, mean semitones", "%.1f", t->span_mean, v->span_mean, g->span_mean);
    snprintf(a, sizeof a, "%.3f/%.3f", v->span_tv, v->span_js);
    snprintf(b, sizeof b, "%.3f/%.3f", g->span_tv, g->span_js);
    row2(f, "  span hist. vs train (TV/JS bits)", a, b);
    snprintf(a, sizeof a, "%.3f/%.3f", v->interval_tv, v->interval_js);
    snprintf(b, sizeof b, "%.3f/%.3f", g->interval_tv, g->interval_js);
    row2(f, "interval hist. vs train (TV/JS)", a, b);
    double rep[3] = {0}, step[3] = {0}, leap[3] = {0};
    char x3[3][32];
    const mn_report_set *s3[3] = {t, v, g};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < MN_REPORT_INTERVAL_BINS; i++) {
            int d = abs(i - MN_REPORT_MAX_INTERVAL);
            if (d == 0) rep[k] += s3[k]->interval_hist[i];
            else if (d <= 2) step[k] += s3[k]->interval_hist[i];
            else if (d >= 5) leap[k] += s3[k]->interval_hist[i];
        }
    row3(f, "  repeated notes", "%.3f", rep[0], rep[1], rep[2]);
    row3(f, "  steps (1-2 semitones)", "%.3f", step[0], step[1], step[2]);
    row3(f, "  leaps (5 semitones or more)", "%.3f", leap[0], leap[1], leap[2]);
    fprintf(f, "what a listener hears\n");
    char lab3[48];
    snprintf(lab3, sizeof lab3, "stuck runs (%d+ of one pitch)", MN_REPORT_STUCK);
    row3(f, lab3, "%.0f", (double)t->stuck_runs, (double)v->stuck_runs, (double)g->stuck_runs);
    row3(f, "  per 300 melodies of 64 events", "%.2f", t->stuck_per, v->stuck_per, g->stuck_per);
    snprintf(lab3, sizeof lab3, "loops (last %d, period <= %d)", MN_REPORT_LOOP_SPAN,
             MN_REPORT_LOOP_PERIOD);
    row3(f, lab3, "%.0f", (double)t->loops, (double)v->loops, (double)g->loops);
    row3(f, "  share of melodies", "%.3f", t->loop_share, v->loop_share, g->loop_share);
    row3(f, "pickup: first note off the downbeat", "%.3f", t->pickup, v->pickup, g->pickup);
    row3(f, "largest leap, mean per melody", "%.1f", t->leap_max_mean, v->leap_max_mean,
         g->leap_max_mean);
    row3(f, "largest leap, max", "%.0f", (double)t->leap_max, (double)v->leap_max,
         (double)g->leap_max);
    for (int k = 0; k < 3; k++)
        snprintf(x3[k], sizeof x3[k], "%d..%d", s3[k]->pitch_lo, s3[k]->pitch_hi);
    fprintf(f, "  %-36s %14s %14s %14s\n", "range (lowest..highest note)", x3[0], x3[1], x3[2]);
    fprintf(f, "rhythm\n");
    row3(f, "onsets on a quarter-note beat", "%.3f", t->onbeat, v->onbeat, g->onbeat);
    row3(f, "notes per bar", "%.2f", t->notes_per_bar, v->notes_per_bar, g->notes_per_bar);
    row3(f, "share of events that are rests", "%.3f", t->rest_share, v->rest_share,
         g->rest_share);
    row3(f, "motifs: 4-interval figures repeated", "%.3f", t->motif_repeat, v->motif_repeat,
         g->motif_repeat);
    snprintf(a, sizeof a, "%.3f/%.3f", v->dur_tv, v->dur_js);
    snprintf(b, sizeof b, "%.3f/%.3f", g->dur_tv, g->dur_js);
    row2(f, "duration hist. vs train (TV/JS)", a, b);
    for (int i = 0; i < MN_REPORT_DUR_BINS; i++) {
        if (t->dur_hist[i] < 0.005 && v->dur_hist[i] < 0.005 && g->dur_hist[i] < 0.005) continue;
        char lab[48];
        snprintf(lab, sizeof lab, "  %s", mn_report_dur_name(i));
        row3(f, lab, "%.3f", t->dur_hist[i], v->dur_hist[i], g->dur_hist[i]);
    }
    fprintf(f, "imitation (intervals copied from one training tune)\n");
    snprintf(a, sizeof a, "%.2f", v->copy_mean);
    snprintf(b, sizeof b, "%.2f", g->copy_mean);
    row2(f, "longest copied run, mean", a, b);
    snprintf(a, sizeof a, "%zu", v->copy_max);
    snprintf(b, sizeof b, "%zu", g->copy_max);
    row2(f, "longest copied run, max", a, b);
    snprintf(a, sizeof a, "%.3f", v->copy_mean_share);
    snprintf(b, sizeof b, "%.3f", g->copy_mean_share);
    row2(f, "  as a share of the melody, mean", a, b);
    snprintf(a, sizeof a, "%.3f", v->ngram_share);
    snprintf(b, sizeof b, "%.3f", g->ngram_share);
    char lab[48];
    snprintf(lab, sizeof lab, "%d-grams found in train", MN_REPORT_NGRAM);
    row2(f, lab, a, b);
    fprintf(f, "  longest run of %s: %zu intervals of melody %zu, from \"%s\"\n", ref_label,
            v->copy_max, v->copy_max_melody, r->ref_copy_tune);
    fprintf(f, "  longest run of %s: %zu intervals of melody %zu, from \"%s\"\n", gen_label,
            g->copy_max, g->copy_max_melody, r->gen_copy_tune);
}

static void json_arr(FILE *f, const char *name, const double *x, int n)
{
    fprintf(f, "\"%s\": [", name);
    for (int i = 0; i < n; i++) fprintf(f, "%s%.6g", i ? ", " : "", x[i]);
    fprintf(f, "]");
}

static void json_set(FILE *f, const mn_report_set *s, const char *label, const char *copy_tune)
{
    fprintf(f, "{\"label\": ");
    mn_json_fput_str(f, label);
    fprintf(f, ", \"melodies\": %zu, \"notes\": %zu, \"intervals\": %zu, \"in_key\": %.6g, "
               "\"span_mean\": %.6g, \"onbeat\": %.6g, \"notes_per_bar\": %.6g, "
               "\"rest_share\": %.6g, \"motif_repeat\": %.6g,\n    ", s->n_melodies, s->n_notes,
            s->n_intervals, s->in_key, s->span_mean, s->onbeat, s->notes_per_bar, s->rest_share,
            s->motif_repeat);
    fprintf(f, "\"stuck_runs\": %zu, \"stuck_per_300x64\": %.6g, \"loops\": %zu, "
               "\"loop_share\": %.6g, \"pickup\": %.6g, \"leap_max_mean\": %.6g, "
               "\"leap_max\": %d, \"pitch_lo\": %d, \"pitch_hi\": %d,\n    ", s->stuck_runs,
            s->stuck_per, s->loops, s->loop_share, s->pickup, s->leap_max_mean, s->leap_max,
            s->pitch_lo, s->pitch_hi);
    json_arr(f, "span_hist", s->span_hist, MN_REPORT_SPAN_BINS);
    fprintf(f, ",\n    ");
    json_arr(f, "interval_hist", s->interval_hist, MN_REPORT_INTERVAL_BINS);
    fprintf(f, ",\n    ");
    json_arr(f, "dur_hist", s->dur_hist, MN_REPORT_DUR_BINS);
    if (copy_tune) {
        fprintf(f, ",\n    \"span_tv\": %.6g, \"span_js\": %.6g, \"interval_tv\": %.6g, "
                   "\"interval_js\": %.6g, \"dur_tv\": %.6g, \"dur_js\": %.6g,\n    ",
                s->span_tv, s->span_js, s->interval_tv, s->interval_js, s->dur_tv, s->dur_js);
        fprintf(f, "\"copy_mean\": %.6g, \"copy_max\": %zu, \"copy_max_melody\": %zu, "
                   "\"copy_max_tune\": ", s->copy_mean, s->copy_max, s->copy_max_melody);
        mn_json_fput_str(f, copy_tune);
        fprintf(f, ", \"copy_mean_share\": %.6g, \"ngram\": %d, \"ngrams\": %zu, "
                   "\"ngram_hits\": %zu, \"ngram_share\": %.6g", s->copy_mean_share,
                MN_REPORT_NGRAM, s->n_ngrams, s->ngram_hits, s->ngram_share);
    }
    fprintf(f, "}");
}

void mn_report_write_json(FILE *f, const mn_report *r, const char *ref_label,
                          const char *gen_label)
{
    fprintf(f, "{\n  \"train\": ");
    json_set(f, &r->train, "train", NULL);
    fprintf(f, ",\n  \"reference\": ");
    json_set(f, &r->ref, ref_label, r->ref_copy_tune);
    fprintf(f, ",\n  \"generated\": ");
    json_set(f, &r->gen, gen_label, r->gen_copy_tune);
    fprintf(f, "\n}\n");
}
