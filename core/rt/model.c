/* model.c - the .mnet file: canonical parameter layout, a loader that treats every file as
 * hostile (each length, offset, shape and weight is checked before use), reference counting,
 * and an atomic writer.
 *
 * Metadata policy: every "__metadata__" entry is kept whole (the header limit of
 * MN_MAX_HEADER_BYTES bounds its size); a file with more than MN_MAX_META entries, a
 * non-string value, or a key or value holding a NUL byte is refused. */
#include "model.h"
#include "matvec.h"
#include "copyidx.h"
#include "sbuf.h"
#include "session.h"

#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TENSORS (3 + 4 * MN_MAX_LAYERS + 4)
#define SAVE_ALIGN 64 /* data section start in saved files, for cache-line aligned tensors */

struct mn_model {
    atomic_int refs;
    mn_model_config cfg;
    mn_weights w;
    const float *params;   /* [n_params], canonical order, 64-byte aligned, into own_block */
    size_t n_params;
    void *own_block;       /* raw allocation behind params: the file image read at load when
                            * its tensors can be used in place, else a copy of them */
    mn_step_mats mats;     /* the matrices a step reads, in their stored type */
    mn_wtype wtype;        /* F32, or the reduced type the file stores its matrices in */
    void *q_block;         /* the bf16/int8 matrices and their scales (NULL for f32 files) */
    char *path;
    size_t file_size;
    size_t n_meta;
    char *meta[MN_MAX_META][2]; /* key, value */
    mn_copyidx *copyidx;   /* the copy guard's index named by "copy_index", or NULL ... */
    char copyidx_why[MN_ERR_LEN]; /* ... and why not */
};

/*=== canonical layout =======================================================================*/

int mn_model_input_size(const mn_model_config *cfg)
{
    return cfg->n_embed * (cfg->n_pos > 0 ? 3 : 2);
}

mn_status mn_model_config_validate(const mn_model_config *cfg, char *err)
{
    if (cfg->n_layers < 1 || cfg->n_layers > MN_MAX_LAYERS)
        return mn_errf(err, MN_ERR_LIMIT, "n_layers is %d, expected 1..%d", cfg->n_layers,
                       MN_MAX_LAYERS);
    if (cfg->n_hidden < 1 || cfg->n_hidden > MN_MAX_HIDDEN)
        return mn_errf(err, MN_ERR_LIMIT, "n_hidden is %d, expected 1..%d", cfg->n_hidden,
                       MN_MAX_HIDDEN);
    if (cfg->n_embed < 1 || cfg->n_embed > MN_MAX_EMBED)
        return mn_errf(err, MN_ERR_LIMIT, "n_embed is %d, expected 1..%d", cfg->n_embed,
                       MN_MAX_EMBED);
    if (cfg->n_pos < 0 || cfg->n_pos > MN_MAX_POS)
        return mn_errf(err, MN_ERR_LIMIT, "n_pos is %d, expected 0..%d", cfg->n_pos, MN_MAX_POS);
    return mn_durtable_validate(&cfg->dur, err);
}

/* Fills name/shape/size of tensor i; returns the tensor count. All sizes are bounded by the
 * limits (largest tensor 4*4096*4096 floats), so int and size_t arithmetic cannot overflow. */
static int tensor_desc(const mn_model_config *cfg, int i, char name[48], int shape[2], int *ndim,
                       size_t *n_floats)
{
    int E = cfg->n_embed, H = cfg->n_hidden, L = cfg->n_layers, D = cfg->dur.n;
    int has_pos = cfg->n_pos > 0;
    int count = 2 + has_pos + 4 * L + 4;
    if (i < 0 || i >= count) return count;
    int s0 = 0, s1 = 0, nd = 2;
    if (i == 0) {
        snprintf(name, 48, "emb.pitch");
        s0 = MN_N_PITCH_IN, s1 = E;
    } else if (i == 1) {
        snprintf(name, 48, "emb.dur");
        s0 = D + 1, s1 = E;
    } else if (has_pos && i == 2) {
        snprintf(name, 48, "emb.pos");
        s0 = cfg->n_pos, s1 = E;
    } else if (i < 2 + has_pos + 4 * L) {
        int k = i - 2 - has_pos, l = k / 4;
        static const char *part[4] = {"w_ih", "w_hh", "b_ih", "b_hh"};
        snprintf(name, 48, "lstm.%d.%s", l, part[k % 4]);
        s0 = 4 * H;
        if (k % 4 == 0) s1 = l == 0 ? mn_model_input_size(cfg) : H;
        else if (k % 4 == 1) s1 = H;
        else nd = 1;
    } else {
        int k = i - 2 - has_pos - 4 * L;
        static const char *hn[4] = {"head.pitch.w", "head.pitch.b", "head.dur.w", "head.dur.b"};
        snprintf(name, 48, "%s", hn[k]);
        s0 = k < 2 ? MN_N_PITCH : D;
        if (k == 0) s1 = H;
        else if (k == 2) s1 = H + E;
        else nd = 1;
    }
    shape[0] = s0;
    shape[1] = nd == 2 ? s1 : 0;
    *ndim = nd;
    *n_floats = (size_t)s0 * (size_t)(nd == 2 ? s1 : 1);
    return count;
}

/* Whether canonical tensor i is a weight matrix a step streams (the LSTM matrices and both
 * heads' weights): these may be stored as bf16 or int8; embeddings and biases stay f32. */
static int is_step_matrix(const mn_model_config *cfg, int i)
{
    int has_pos = cfg->n_pos > 0, L = cfg->n_layers;
    if (i < 2 + has_pos) return 0;
    if (i < 2 + has_pos + 4 * L) return (i - 2 - has_pos) % 4 < 2;
    int k = i - 2 - has_pos - 4 * L;
    return k == 0 || k == 2;
}

static const char *wtype_dtype(mn_wtype t)
{
    return t == MN_WEIGHTS_BF16 ? "BF16" : t == MN_WEIGHTS_I8 ? "I8" : "F32";
}

static size_t wtype_bytes(mn_wtype t)
{
    return t == MN_WEIGHTS_BF16 ? 2 : t == MN_WEIGHTS_I8 ? 1 : 4;
}

size_t mn_model_param_count(const mn_model_config *cfg)
{
    if (mn_model_config_validate(cfg, NULL) != MN_OK) return 0;
    char name[48];
    int shape[2], nd;
    size_t n, total = 0;
    int count = tensor_desc(cfg, -1, name, shape, &nd, &n);
    for (int i = 0; i < count; i++) {
        tensor_desc(cfg, i, name, shape, &nd, &n);
        total += n;
    }
    return total;
}

int mn_model_tensor_info(const mn_model_config *cfg, int i, char name[48], int shape[2], int *ndim,
                         size_t *offset_floats)
{
    char nm[48];
    int sh[2], nd;
    size_t n;
    int count = tensor_desc(cfg, -1, nm, sh, &nd, &n);
    if (i < 0 || i >= count) return count;
    size_t off = 0;
    for (int k = 0; k < i; k++) {
        tensor_desc(cfg, k, nm, sh, &nd, &n);
        off += n;
    }
    tensor_desc(cfg, i, nm, sh, &nd, &n);
    if (name) memcpy(name, nm, 48);
    if (shape) shape[0] = sh[0], shape[1] = sh[1];
    if (ndim) *ndim = nd;
    if (offset_floats) *offset_floats = off;
    return count;
}

void mn_weights_point(const mn_model_config *cfg, const float *params, mn_weights *w)
{
    memset(w, 0, sizeof *w);
    char name[48];
    int shape[2], nd;
    size_t n, off = 0;
    int count = tensor_desc(cfg, -1, name, shape, &nd, &n);
    int has_pos = cfg->n_pos > 0, L = cfg->n_layers;
    for (int i = 0; i < count; i++) {
        const float *p = params + off;
        tensor_desc(cfg, i, name, shape, &nd, &n);
        off += n;
        if (i == 0) w->emb_pitch = p;
        else if (i == 1) w->emb_dur = p;
        else if (has_pos && i == 2) w->emb_pos = p;
        else if (i < 2 + has_pos + 4 * L) {
            int k = i - 2 - has_pos;
            const float **slot[4] = {&w->lstm[k / 4].w_ih, &w->lstm[k / 4].w_hh,
                                     &w->lstm[k / 4].b_ih, &w->lstm[k / 4].b_hh};
            *slot[k % 4] = p;
        } else {
            int k = i - 2 - has_pos - 4 * L;
            const float **slot[4] = {&w->head_pitch_w, &w->head_pitch_b, &w->head_dur_w,
                                     &w->head_dur_b};
            *slot[k] = p;
        }
    }
}

/*=== byte order =============================================================================*/

static int host_is_le(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

static uint64_t rd_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* Copies n little-endian floats from src into dst (host order). */
static void copy_le_floats(float *dst, const uint8_t *src, size_t n)
{
    if (host_is_le()) {
        memcpy(dst, src, n * 4);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8 |
                     (uint32_t)src[4 * i + 2] << 16 | (uint32_t)src[4 * i + 3] << 24;
        memcpy(dst + i, &u, 4);
    }
}

/*=== loading ================================================================================*/

static void model_destroy(mn_model *m)
{
    if (!m) return;
    mn_free(m->own_block);
    mn_free(m->q_block);
    mn_free(m->path);
    mn_copyidx_free(m->copyidx);
    for (size_t i = 0; i < m->n_meta; i++) {
        mn_free(m->meta[i][0]);
        mn_free(m->meta[i][1]);
    }
    mn_free(m);
}

/* Strict decimal integer in lo..hi from a metadata string: digits only, and no leading zero
 * ("0256" is not 256: one number has one spelling, as JSON numbers do). */
static int parse_meta_int(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s) return -1;
    if (s[0] == '0' && s[1]) return -1;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        if (v > hi) return -1; /* stops growth long before overflow */
        v = v * 10 + (*p - '0');
    }
    if (v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static mn_status parse_durations(const char *name, const char *s, mn_durtable *t, char *err)
{
    memset(t, 0, sizeof *t);
    const char *p = s;
    if (!*p) return mn_errf(err, MN_ERR_FORMAT, "%s: metadata durations is empty", name);
    for (;;) {
        long v = 0;
        const char *d = p;
        if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
            return mn_errf(err, MN_ERR_FORMAT, "%s: metadata durations \"%.40s\" has a number "
                           "with a leading zero", name, s);
        while (*p >= '0' && *p <= '9') {
            if (v <= MN_MAX_DUR_TICKS) v = v * 10 + (*p - '0');
            p++;
        }
        if (p == d)
            return mn_errf(err, MN_ERR_FORMAT, "%s: metadata durations \"%.40s\" is not a "
                           "comma-separated list of ticks", name, s);
        if (t->n == MN_MAX_DUR)
            return mn_errf(err, MN_ERR_FORMAT, "%s: metadata durations has more than %d entries",
                           name, MN_MAX_DUR);
        t->ticks[t->n++] = v > MN_MAX_DUR_TICKS ? MN_MAX_DUR_TICKS + 1 : (int)v;
        if (!*p) break;
        if (*p != ',')
            return mn_errf(err, MN_ERR_FORMAT, "%s: metadata durations \"%.40s\" is not a "
                           "comma-separated list of ticks", name, s);
        p++;
    }
    char e2[MN_ERR_LEN];
    if (mn_durtable_validate(t, e2) != MN_OK)
        return mn_errf(err, MN_ERR_FORMAT, "%s: bad metadata durations: %s", name, e2);
    return MN_OK;
}

typedef struct {
    uint64_t begin, end; /* data-section byte offsets */
    int seen;
} tensor_loc;

static mn_status read_metadata(mn_model *m, const mn_json *md, const char *name, char *err)
{
    if (!md) return mn_errf(err, MN_ERR_FORMAT, "%s: header has no __metadata__", name);
    if (md->type != MN_JSON_OBJECT)
        return mn_errf(err, MN_ERR_FORMAT, "%s: __metadata__ is a %s, expected an object", name,
                       mn_json_type_name(md->type));
    if (md->n > MN_MAX_META)
        return mn_errf(err, MN_ERR_LIMIT, "%s: %zu metadata entries, limit %d", name, md->n,
                       MN_MAX_META);
    for (const mn_json *e = md->child; e; e = e->next) {
        if (e->type != MN_JSON_STRING)
            return mn_errf(err, MN_ERR_FORMAT, "%s: metadata %.40s is a %s, expected a string",
                           name, e->key, mn_json_type_name(e->type));
        if (strlen(e->key) != e->key_len || strlen(e->str) != e->str_len)
            return mn_errf(err, MN_ERR_FORMAT, "%s: metadata %.40s holds a NUL byte", name,
                           e->key);
        for (size_t i = 0; i < m->n_meta; i++)
            if (strcmp(m->meta[i][0], e->key) == 0)
                return mn_errf(err, MN_ERR_FORMAT, "%s: duplicate metadata key %.40s", name,
                               e->key);
        char *k = mn_strdup(e->key), *v = mn_strdup(e->str);
        if (!k || !v) {
            mn_free(k);
            mn_free(v);
            return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory for metadata", name);
        }
        m->meta[m->n_meta][0] = k;
        m->meta[m->n_meta][1] = v;
        m->n_meta++;
    }

    const char *fmt = mn_model_meta(m, "format");
    if (!fmt) return mn_errf(err, MN_ERR_FORMAT, "%s: metadata has no format", name);
    if (strcmp(fmt, MN_MODEL_FORMAT) != 0)
        return mn_errf(err, MN_ERR_FORMAT, "%s: format is \"%.40s\", expected \"%s\"", name, fmt,
                       MN_MODEL_FORMAT);
    const char *ver = mn_model_meta(m, "version");
    long v;
    if (!ver) return mn_errf(err, MN_ERR_FORMAT, "%s: metadata has no version", name);
    if (parse_meta_int(ver, 0, 1000000, &v) || v != MN_MODEL_VERSION)
        return mn_errf(err, MN_ERR_FORMAT, "%s: version is \"%.32s\", this build reads version %d",
                       name, ver, MN_MODEL_VERSION);
    const char *tpq = mn_model_meta(m, "ticks_per_quarter");
    if (!tpq) return mn_errf(err, MN_ERR_FORMAT, "%s: metadata has no ticks_per_quarter", name);
    if (parse_meta_int(tpq, 0, 1000000, &v) || v != MN_TPQ)
        return mn_errf(err, MN_ERR_FORMAT, "%s: ticks_per_quarter is \"%.32s\", expected %d", name,
                       tpq, MN_TPQ);

    static const char *keys[4] = {"n_layers", "n_hidden", "n_embed", "n_pos"};
    static const long lo[4] = {1, 1, 1, 0};
    static const long hi[4] = {MN_MAX_LAYERS, MN_MAX_HIDDEN, MN_MAX_EMBED, MN_MAX_POS};
    int *dst[4] = {&m->cfg.n_layers, &m->cfg.n_hidden, &m->cfg.n_embed, &m->cfg.n_pos};
    for (int i = 0; i < 4; i++) {
        const char *s = mn_model_meta(m, keys[i]);
        if (!s) return mn_errf(err, MN_ERR_FORMAT, "%s: metadata has no %s", name, keys[i]);
        if (parse_meta_int(s, lo[i], hi[i], &v))
            return mn_errf(err, MN_ERR_LIMIT, "%s: %s is \"%.32s\", expected %ld..%ld", name,
                           keys[i], s, lo[i], hi[i]);
        *dst[i] = (int)v;
    }
    const char *durs = mn_model_meta(m, "durations");
    if (!durs) return mn_errf(err, MN_ERR_FORMAT, "%s: metadata has no durations", name);
    mn_status st = parse_durations(name, durs, &m->cfg.dur, err);
    if (st != MN_OK) return st;
    char e2[MN_ERR_LEN];
    if ((st = mn_model_config_validate(&m->cfg, e2)) != MN_OK)
        return mn_errf(err, st, "%s: %s", name, e2);
    return MN_OK;
}

static mn_status read_tensor_entry(const mn_json *t, const char *name, const char *tname,
                                   const int shape[2], int ndim, size_t n_floats, uint64_t data_len,
                                   int may_reduce, tensor_loc *loc, mn_wtype *wt, char *err)
{
    if (t->type != MN_JSON_OBJECT)
        return mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s is a %s, expected an object", name,
                       tname, mn_json_type_name(t->type));
    const mn_json *dt = mn_json_get(t, "dtype"), *sh = mn_json_get(t, "shape"),
                  *off = mn_json_get(t, "data_offsets");
    if (!dt || dt->type != MN_JSON_STRING)
        return mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s has no dtype string", name, tname);
    const char *allowed = may_reduce ? "F32, BF16 or I8" : "F32";
    if (strlen(dt->str) != dt->str_len) /* "F32\u0000x" would print as F32 */
        return mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s has a dtype holding a NUL byte, "
                       "expected %s", name, tname, allowed);
    if (strcmp(dt->str, "F32") == 0) *wt = MN_WEIGHTS_F32;
    else if (may_reduce && strcmp(dt->str, "BF16") == 0) *wt = MN_WEIGHTS_BF16;
    else if (may_reduce && strcmp(dt->str, "I8") == 0) *wt = MN_WEIGHTS_I8;
    else
        return mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s has dtype %.16s, expected %s", name,
                       tname, dt->str, allowed);
    if (!sh || sh->type != MN_JSON_ARRAY)
        return mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s has no shape array", name, tname);
    if (sh->n != (size_t)ndim)
        return mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s has %zu dims, expected %d", name, tname,
                       sh->n, ndim);
    int ok = 1;
    for (int d = 0; d < ndim; d++) {
        const mn_json *x = mn_json_at(sh, (size_t)d);
        if (!x->is_uint || x->uint != (uint64_t)shape[d]) ok = 0;
    }
    if (!ok) {
        char want[40];
        if (ndim == 2) snprintf(want, sizeof want, "[%d, %d]", shape[0], shape[1]);
        else snprintf(want, sizeof want, "[%d]", shape[0]);
        return mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s has a shape other than %s", name,
                       tname, want);
    }
    if (!off || off->type != MN_JSON_ARRAY || off->n != 2 || !mn_json_at(off, 0)->is_uint ||
        !mn_json_at(off, 1)->is_uint)
        return mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s has no data_offsets [begin, end]", name,
                       tname);
    uint64_t b = mn_json_at(off, 0)->uint, e = mn_json_at(off, 1)->uint;
    if (b > e)
        return mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s data_offsets begin after they end",
                       name, tname);
    if (e > data_len)
        return mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s data ends at byte %llu, past the end "
                       "of the data section (%llu bytes)", name, tname, (unsigned long long)e,
                       (unsigned long long)data_len);
    uint64_t need = (uint64_t)n_floats * wtype_bytes(*wt);
    if (e - b != need)
        return mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s holds %llu bytes, its shape needs %llu",
                       name, tname, (unsigned long long)(e - b), (unsigned long long)need);
    loc->begin = b;
    loc->end = e;
    loc->seen = 1;
    return MN_OK;
}

/*=== probe ==================================================================================*/

/* A model that loads must play music: a few steps of the network on a fixed melody (a C-major
 * scale in quarter notes from a bar line, from the reset state) must give pitch and duration
 * logits that are finite and below MN_MODEL_MAX_LOGIT in magnitude, and pitch logits that are
 * not all equal at every step. Weights that are finite but huge (3e38) overflow here; a pitch
 * head biased to -1e30 makes every pitch logit the same number, i.e. uniformly random
 * pitches whatever was played. Costs MN_MODEL_PROBE_STEPS steps at load. */
static mn_status probe(mn_model *m, const char *name, char *err)
{
    static const int scale[MN_MODEL_PROBE_STEPS] = {60, 62, 64, 65, 67, 69, 71, 72};
    mn_session *s;
    char e2[MN_ERR_LEN];
    mn_status st = mn_session_new(m, 1, &s, e2);
    if (st != MN_OK) return mn_errf(err, st, "%s: %s", name, e2);
    int varies = 0;
    st = MN_OK;
    for (int k = 0; k < MN_MODEL_PROBE_STEPS && st == MN_OK; k++) {
        int pos, bar;
        mn_session_clock(s, &pos, &bar);
        const float *pl = mn_session_pitch_logits(s, pos, bar);
        float lo = pl[0], hi = pl[0];
        for (int i = 0; i < MN_N_PITCH && st == MN_OK; i++) {
            if (!(fabsf(pl[i]) <= MN_MODEL_MAX_LOGIT))
                st = mn_errf(err, MN_ERR_FORMAT, "%s: the weights give a pitch logit of %g at "
                             "step %d of the load check (a playable model stays within +-%g)",
                             name, (double)pl[i], k + 1, MN_MODEL_MAX_LOGIT);
            if (pl[i] < lo) lo = pl[i];
            if (pl[i] > hi) hi = pl[i];
        }
        if (hi > lo) varies = 1;
        const float *dl = mn_session_dur_logits(s, scale[k]);
        for (int i = 0; i < m->cfg.dur.n && st == MN_OK; i++)
            if (!(fabsf(dl[i]) <= MN_MODEL_MAX_LOGIT))
                st = mn_errf(err, MN_ERR_FORMAT, "%s: the weights give a duration logit of %g "
                             "at step %d of the load check (a playable model stays within +-%g)",
                             name, (double)dl[i], k + 1, MN_MODEL_MAX_LOGIT);
        mn_event e = {scale[k], MN_DEFAULT_VELOCITY, MN_TPQ, pos, bar};
        mn_session_commit(s, &e);
    }
    if (st == MN_OK && !varies)
        st = mn_errf(err, MN_ERR_FORMAT, "%s: the pitch logits are all equal at every step of "
                     "the load check: the model would play uniformly random pitches", name);
    mn_session_free(s); /* drops the session's reference; the caller's stays */
    return st;
}

/* Largest magnitude any gate pre-activation or logit can take, from the weights alone: the
 * sum of |weight| times the largest |input| of each row (embedding columns for layer 0; the
 * hidden state, |h| <= 1, above it and in the heads). Below MN_MODEL_MAX_ACTIVATION no step can
 * overflow a float, so every logit and state a session computes is finite. Writes the tensor
 * whose rows reach the bound to *where. */
#define MN_MODEL_MAX_ACTIVATION 1e30
static double activation_bound(const mn_model_config *cfg, const mn_weights *w, const char **where)
{
    int E = cfg->n_embed, H = cfg->n_hidden, D = cfg->dur.n, in0 = mn_model_input_size(cfg);
    double xmax[3 * MN_MAX_EMBED], worst = 0;
    const float *emb[3] = {w->emb_pitch, w->emb_dur, w->emb_pos};
    int rows[3] = {MN_N_PITCH_IN, D + 1, cfg->n_pos};
    for (int part = 0; part < 3; part++)
        for (int k = 0; k < E && emb[part] && rows[part] > 0; k++) {
            double m = 0;
            for (int r = 0; r < rows[part]; r++) m = fmax(m, fabs(emb[part][(size_t)r * E + k]));
            xmax[part * E + k] = m;
        }
    *where = "";
    for (int l = 0; l < cfg->n_layers; l++) {
        int in = l == 0 ? in0 : H;
        for (int j = 0; j < 4 * H; j++) {
            double b = fabs(w->lstm[l].b_ih[j]) + fabs(w->lstm[l].b_hh[j]);
            for (int k = 0; k < in; k++)
                b += fabs(w->lstm[l].w_ih[(size_t)j * in + k]) * (l == 0 ? xmax[k] : 1.0);
            for (int k = 0; k < H; k++) b += fabs(w->lstm[l].w_hh[(size_t)j * H + k]);
            if (b > worst) worst = b, *where = "an LSTM layer";
        }
    }
    for (int j = 0; j < MN_N_PITCH; j++) {
        double b = fabs(w->head_pitch_b[j]);
        for (int k = 0; k < H; k++) b += fabs(w->head_pitch_w[(size_t)j * H + k]);
        if (b > worst) worst = b, *where = "head.pitch";
    }
    for (int j = 0; j < D; j++) {
        double b = fabs(w->head_dur_b[j]);
        for (int k = 0; k < H + E; k++)
            b += fabs(w->head_dur_w[(size_t)j * (H + E) + k]) * (k < H ? 1.0 : xmax[k - H]);
        if (b > worst) worst = b, *where = "head.dur";
    }
    return worst;
}

/* Validates a whole file image and builds the model. base/len is the file image; when
 * may_point is set, base is an allocation the caller hands over (block, freed by the model
 * when *pointed is set) and params may point into it when the tensors are in place. The model
 * never refers to anything the caller can change afterwards: what it plays is what it
 * validated. With header_only, base holds only the first 8 + header bytes of a file of len
 * bytes: the checks that need no tensor data are made and *out stays NULL. */
static mn_status load_image(const uint8_t *base, size_t len, const char *name, int may_point,
                            void *block, int header_only, mn_model **out, int *pointed, char *err)
{
    *out = NULL;
    *pointed = 0;
    if (len == 0) return mn_errf(err, MN_ERR_FORMAT, "%s: file is empty", name);
    if (len < 8)
        return mn_errf(err, MN_ERR_FORMAT, "%s: file is %zu bytes, truncated before the header "
                       "length", name, len);
    uint64_t hlen = rd_le64(base);
    if (hlen > MN_MAX_HEADER_BYTES)
        return mn_errf(err, MN_ERR_LIMIT, "%s: header length %llu exceeds the limit of %u bytes",
                       name, (unsigned long long)hlen, MN_MAX_HEADER_BYTES);
    if (hlen > len - 8)
        return mn_errf(err, MN_ERR_FORMAT, "%s: header length %llu runs past the end of the "
                       "file (%zu bytes)", name, (unsigned long long)hlen, len);
    if (hlen < 2) return mn_errf(err, MN_ERR_FORMAT, "%s: header is %llu bytes", name,
                                 (unsigned long long)hlen);
    size_t data_at = 8 + (size_t)hlen;
    uint64_t data_len = len - data_at;

    mn_model *m = mn_calloc(1, sizeof *m);
    if (!m) return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", name);
    atomic_init(&m->refs, 1);
    m->file_size = len;
    m->path = mn_strdup(name);
    mn_json_doc *doc = NULL;
    mn_status st;
    char e2[MN_ERR_LEN];
    if (!m->path) {
        st = mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", name);
        goto fail;
    }
    if ((st = mn_json_parse((const char *)base + 8, (size_t)hlen, &doc, e2)) != MN_OK) {
        mn_errf(err, st, "%s: bad header: %s", name, e2);
        goto fail;
    }
    const mn_json *root = mn_json_root(doc);
    if (root->type != MN_JSON_OBJECT) {
        st = mn_errf(err, MN_ERR_FORMAT, "%s: header is a JSON %s, expected an object", name,
                     mn_json_type_name(root->type));
        goto fail;
    }
    if ((st = read_metadata(m, mn_json_get(root, "__metadata__"), name, err)) != MN_OK) goto fail;

    const mn_model_config *cfg = &m->cfg;
    char tname[48];
    int shape[2], ndim;
    size_t nf;
    int count = tensor_desc(cfg, -1, tname, shape, &ndim, &nf);
    tensor_loc loc[MAX_TENSORS], sloc[MAX_TENSORS]; /* tensors, and the scales of I8 ones */
    mn_wtype wt[MAX_TENSORS];
    memset(loc, 0, sizeof loc);
    memset(sloc, 0, sizeof sloc);
    memset(wt, 0, sizeof wt);
    int n_meta_keys = 0;
    for (const mn_json *e = root->child; e; e = e->next) {
        if (strcmp(e->key, "__metadata__") == 0) {
            if (++n_meta_keys > 1) {
                st = mn_errf(err, MN_ERR_FORMAT, "%s: duplicate __metadata__", name);
                goto fail;
            }
            continue;
        }
        int idx = -1, is_scale = 0;
        size_t kl = strlen(e->key);
        for (int i = 0; i < count && idx < 0; i++) {
            tensor_desc(cfg, i, tname, shape, &ndim, &nf);
            size_t tl = strlen(tname);
            if (kl == e->key_len && strcmp(tname, e->key) == 0) idx = i;
            else if (kl == e->key_len && kl == tl + 6 && is_step_matrix(cfg, i) &&
                     strncmp(e->key, tname, tl) == 0 && strcmp(e->key + tl, ".scale") == 0)
                idx = i, is_scale = 1;
        }
        if (idx < 0) {
            st = mn_errf(err, MN_ERR_FORMAT, "%s: unknown tensor %.48s", name, e->key);
            goto fail;
        }
        if ((is_scale ? sloc : loc)[idx].seen) {
            st = mn_errf(err, MN_ERR_FORMAT, "%s: duplicate tensor %s%s", name, tname,
                         is_scale ? ".scale" : "");
            goto fail;
        }
        if (is_scale) {
            char sname[56];
            mn_wtype sw;
            int sshape[2] = {shape[0], 0};
            snprintf(sname, sizeof sname, "%s.scale", tname);
            st = read_tensor_entry(e, name, sname, sshape, 1, (size_t)shape[0], data_len, 0,
                                   &sloc[idx], &sw, err);
        } else {
            st = read_tensor_entry(e, name, tname, shape, ndim, nf, data_len,
                                   is_step_matrix(cfg, idx), &loc[idx], &wt[idx], err);
        }
        if (st != MN_OK) goto fail;
    }
    for (int i = 0; i < count; i++) {
        tensor_desc(cfg, i, tname, shape, &ndim, &nf);
        if (!loc[i].seen) {
            st = mn_errf(err, MN_ERR_FORMAT, "%s: missing tensor %s", name, tname);
            goto fail;
        }
        if (wt[i] == MN_WEIGHTS_I8 && !sloc[i].seen) {
            st = mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s is I8 and has no %s.scale", name,
                         tname, tname);
            goto fail;
        }
        if (wt[i] != MN_WEIGHTS_I8 && sloc[i].seen) {
            st = mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s.scale belongs to an I8 tensor, %s "
                         "is %s", name, tname, tname, wtype_dtype(wt[i]));
            goto fail;
        }
        if (wt[i] != MN_WEIGHTS_F32) m->wtype = wt[i];
    }
    /* every range in the data section: the tensors, then the scales */
    int n_ranges = 0, ridx[2 * MAX_TENSORS];
    tensor_loc ranges[2 * MAX_TENSORS];
    for (int i = 0; i < count; i++) ranges[n_ranges] = loc[i], ridx[n_ranges++] = i;
    for (int i = 0; i < count; i++)
        if (sloc[i].seen) ranges[n_ranges] = sloc[i], ridx[n_ranges++] = -1 - i;
#define RANGE_NAME(k, buf)                                                                      \
    do {                                                                                         \
        int ti_ = ridx[k] >= 0 ? ridx[k] : -1 - ridx[k];                                         \
        char tn_[48];                                                                            \
        tensor_desc(cfg, ti_, tn_, shape, &ndim, &nf);                                           \
        snprintf(buf, sizeof buf, "%s%s", tn_, ridx[k] >= 0 ? "" : ".scale");                    \
    } while (0)
    /* overlap: compare every pair (at most 2 x 39 ranges); empty ranges cannot occur as every
     * dimension is at least 1 */
    for (int i = 0; i < n_ranges; i++)
        for (int j = i + 1; j < n_ranges; j++)
            if (ranges[i].begin < ranges[j].end && ranges[j].begin < ranges[i].end) {
                char a[56], b[56];
                RANGE_NAME(i, a);
                RANGE_NAME(j, b);
                st = mn_errf(err, MN_ERR_FORMAT, "%s: tensors %s and %s overlap", name, a, b);
                goto fail;
            }

    /* the tensors tile the data section: sorted by offset, each starts where the one before
     * ends, the first at 0, the last at the end of the file (the safetensors rule), so no
     * byte of the file goes unchecked and a header length off by one cannot pass */
    {
        int order[2 * MAX_TENSORS];
        for (int i = 0; i < n_ranges; i++) order[i] = i;
        for (int i = 1; i < n_ranges; i++)
            for (int j = i; j > 0 && ranges[order[j]].begin < ranges[order[j - 1]].begin; j--) {
                int tmp = order[j];
                order[j] = order[j - 1];
                order[j - 1] = tmp;
            }
        uint64_t at = 0;
        for (int i = 0; i < n_ranges; i++) {
            if (ranges[order[i]].begin != at) {
                char a[56];
                RANGE_NAME(order[i], a);
                st = mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s starts at byte %llu of the data "
                             "section, expected %llu (tensors must follow each other with no "
                             "gap)", name, a, (unsigned long long)ranges[order[i]].begin,
                             (unsigned long long)at);
                goto fail;
            }
            at = ranges[order[i]].end;
        }
#undef RANGE_NAME
        if (at != data_len) {
            st = mn_errf(err, MN_ERR_FORMAT, "%s: %llu bytes after the last tensor (the tensors "
                         "end at byte %llu of a %llu-byte data section)", name,
                         (unsigned long long)(data_len - at), (unsigned long long)at,
                         (unsigned long long)data_len);
            goto fail;
        }
    }
    if (header_only) {
        st = MN_OK;
        goto fail; /* frees what was built; nothing is published */
    }
    const char *sum = mn_model_meta(m, MN_MODEL_CHECKSUM_KEY);
    if (sum) {
        uint64_t want = 0;
        int ok = strlen(sum) == 16;
        for (int i = 0; ok && i < 16; i++) {
            char c = sum[i];
            if (c >= '0' && c <= '9') want = want << 4 | (uint64_t)(c - '0');
            else if (c >= 'a' && c <= 'f') want = want << 4 | (uint64_t)(c - 'a' + 10);
            else ok = 0;
        }
        if (!ok) {
            st = mn_errf(err, MN_ERR_FORMAT, "%s: metadata " MN_MODEL_CHECKSUM_KEY " \"%.40s\" is "
                         "not 16 lowercase hex digits", name, sum);
            goto fail;
        }
        uint64_t got = mn_fnv1a64(MN_FNV1A64_INIT, base + data_at, (size_t)data_len);
        if (got != want) {
            st = mn_errf(err, MN_ERR_FORMAT, "%s: the tensor data does not match its checksum "
                         "(" MN_MODEL_CHECKSUM_KEY " %s, the data gives %016llx): the file is "
                         "damaged", name, sum, (unsigned long long)got);
            goto fail;
        }
    }

    m->n_params = mn_model_param_count(cfg);
    int in_place = may_point && host_is_le() && m->wtype == MN_WEIGHTS_F32 &&
                   ((uintptr_t)base + data_at + loc[0].begin) % 64 == 0;
    for (int i = 1; i < count && in_place; i++)
        if (loc[i].begin != loc[i - 1].end) in_place = 0;
    if (in_place) {
        m->params = (const float *)(const void *)(base + data_at + loc[0].begin);
        m->own_block = block;
        *pointed = 1;
    } else {
        if (m->n_params > (SIZE_MAX - 64) / 4) {
            st = mn_errf(err, MN_ERR_LIMIT, "%s: too many parameters", name);
            goto fail;
        }
        m->own_block = mn_malloc(m->n_params * 4 + 64);
        if (!m->own_block) {
            st = mn_errf(err, MN_ERR_NOMEM, "%s: out of memory for %zu parameters", name,
                         m->n_params);
            goto fail;
        }
        uintptr_t a = ((uintptr_t)m->own_block + 63) & ~(uintptr_t)63;
        float *dst = (float *)a;
        size_t off = 0;
        for (int i = 0; i < count; i++) {
            tensor_desc(cfg, i, tname, shape, &ndim, &nf);
            if (wt[i] == MN_WEIGHTS_F32) copy_le_floats(dst + off, base + data_at + loc[i].begin, nf);
            off += nf;
        }
        m->params = dst;
    }
    /* reduced-precision matrices: the stored values for the step (q_block, 64-byte aligned
     * each), and their exact float values in params for everything else (trainer, scoring) */
    size_t q_bytes = 0;
    for (int i = 0; i < count; i++) {
        if (wt[i] == MN_WEIGHTS_F32) continue;
        tensor_desc(cfg, i, tname, shape, &ndim, &nf);
        q_bytes += ((nf * wtype_bytes(wt[i]) + 63) & ~(size_t)63) +
                   (wt[i] == MN_WEIGHTS_I8 ? (((size_t)shape[0] * 4 + 63) & ~(size_t)63) : 0);
    }
    if (q_bytes) {
        m->q_block = mn_malloc(q_bytes + 64);
        if (!m->q_block) {
            st = mn_errf(err, MN_ERR_NOMEM, "%s: out of memory for %zu bytes of weights", name,
                         q_bytes);
            goto fail;
        }
    }
    uint8_t *q = (uint8_t *)(((uintptr_t)m->q_block + 63) & ~(uintptr_t)63);
    const void *qdata[MAX_TENSORS] = {0};
    const float *qscale[MAX_TENSORS] = {0};
    {
        float *params = (float *)(uintptr_t)m->params;
        size_t off = 0;
        for (int i = 0; i < count; i++) {
            tensor_desc(cfg, i, tname, shape, &ndim, &nf);
            const uint8_t *src = base + data_at + loc[i].begin;
            if (wt[i] == MN_WEIGHTS_BF16) {
                uint16_t *d16 = (uint16_t *)(void *)q;
                for (size_t k = 0; k < nf; k++) {
                    d16[k] = (uint16_t)(src[2 * k] | src[2 * k + 1] << 8);
                    uint32_t u = (uint32_t)d16[k] << 16;
                    memcpy(params + off + k, &u, 4);
                }
                qdata[i] = d16;
                q += (nf * 2 + 63) & ~(size_t)63;
            } else if (wt[i] == MN_WEIGHTS_I8) {
                float *sc = (float *)(void *)q;
                copy_le_floats(sc, base + data_at + sloc[i].begin, (size_t)shape[0]);
                q += ((size_t)shape[0] * 4 + 63) & ~(size_t)63;
                for (int r = 0; r < shape[0]; r++)
                    if (!(isfinite(sc[r]) && sc[r] > 0.0f)) {
                        st = mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s.scale has %g at row %d, "
                                     "expected a finite positive scale", name, tname,
                                     (double)sc[r], r);
                        goto fail;
                    }
                memcpy(q, src, nf);
                const int8_t *i8 = (const int8_t *)(void *)q;
                for (size_t k = 0; k < nf; k++) {
                    if (i8[k] == -128) {
                        st = mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s holds -128 at index %zu "
                                     "(I8 weights are -127..127)", name, tname, k);
                        goto fail;
                    }
                    params[off + k] = sc[k / (size_t)shape[1]] * (float)i8[k];
                }
                qdata[i] = i8;
                qscale[i] = sc;
                q += (nf + 63) & ~(size_t)63;
            }
            off += nf;
        }
    }
    /* weights must be finite: a NaN would silently poison every later step */
    size_t off = 0;
    for (int i = 0; i < count; i++) {
        tensor_desc(cfg, i, tname, shape, &ndim, &nf);
        for (size_t k = 0; k < nf; k++) {
            if (!isfinite(m->params[off + k])) {
                st = mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s has a non-finite value (%s) at "
                             "index %zu", name, tname, isnan(m->params[off + k]) ? "nan" : "inf",
                             k);
                goto fail;
            }
        }
        off += nf;
    }
    mn_weights_point(cfg, m->params, &m->w);
    {
        size_t off = 0;
        int has_pos = cfg->n_pos > 0;
        for (int i = 0; i < count; i++) {
            tensor_desc(cfg, i, tname, shape, &ndim, &nf);
            if (is_step_matrix(cfg, i)) {
                mn_mat mt = {wt[i], wt[i] == MN_WEIGHTS_F32 ? (const void *)(m->params + off)
                                                            : qdata[i],
                             qscale[i], shape[1]};
                int k = i - 2 - has_pos;
                if (k < 4 * cfg->n_layers) {
                    if (k % 4 == 0) m->mats.lstm[k / 4].w_ih = mt;
                    else m->mats.lstm[k / 4].w_hh = mt;
                } else if (k == 4 * cfg->n_layers) {
                    m->mats.head_pitch_w = mt;
                } else {
                    m->mats.head_dur_w = mt;
                }
            }
            off += nf;
        }
    }
    /* the load check first (it names the step and the logit that fails), then the bound that
     * holds for every later step */
    if ((st = probe(m, name, err)) != MN_OK) goto fail;
    const char *where;
    double bound = activation_bound(cfg, &m->w, &where);
    if (!(bound < MN_MODEL_MAX_ACTIVATION)) {
        st = mn_errf(err, MN_ERR_FORMAT, "%s: weights too large: %s can reach values of %.3g "
                     "(limit %g)", name, where, bound, MN_MODEL_MAX_ACTIVATION);
        goto fail;
    }
    mn_json_free(doc);
    *out = m;
    return MN_OK;

fail:
    if (*pointed) m->own_block = NULL; /* the caller frees its block on failure */
    *pointed = 0;
    mn_json_free(doc);
    model_destroy(m);
    return st;
}

/* Loads the copy index the metadata names ("copy_index": a file name in the model's folder).
 * A missing or broken index does not fail the model: the guard then refuses to run and says
 * why (mn_model_copyidx). */
static void attach_copyidx(mn_model *m, const char *path)
{
    const char *name = mn_model_meta(m, "copy_index");
    if (!name) {
        snprintf(m->copyidx_why, sizeof m->copyidx_why, "%s: no copy_index in its metadata",
                 path);
        return;
    }
    if (!*name || strchr(name, '/')) {
        snprintf(m->copyidx_why, sizeof m->copyidx_why,
                 "%s: copy_index \"%.60s\" is not a file name in the model's folder", path, name);
        return;
    }
    const char *slash = strrchr(path, '/');
    size_t dl = slash ? (size_t)(slash - path) + 1 : 0, len = dl + strlen(name) + 1;
    char *full = mn_malloc(len);
    if (!full) {
        snprintf(m->copyidx_why, sizeof m->copyidx_why, "%s: out of memory", path);
        return;
    }
    snprintf(full, len, "%.*s%s", (int)dl, path, name);
    if (mn_copyidx_load(full, &m->copyidx, m->copyidx_why)) m->copyidx = NULL;
    mn_free(full);
}

const mn_copyidx *mn_model_copyidx(const mn_model *m, const char **why)
{
    if (why) *why = m->copyidx ? "" : m->copyidx_why[0] ? m->copyidx_why : "model loaded from "
                                                                           "memory: no copy index";
    return m->copyidx;
}


/* The file is read, not mapped: once loaded, nothing done to the file (truncated, rewritten in
 * place, replaced) can change or crash what the model plays. */
mn_status mn_model_load(const char *path, mn_model **out, char *err)
{
    *out = NULL;
    if (!path) return mn_errf(err, MN_ERR_ARG, "model: no path");
    mn_infile f;
    mn_status st = mn_infile_open(&f, path, SIZE_MAX - 128, MN_READ_NONEMPTY, err);
    if (st) return st;
    size_t len = f.size;
    /* the header first: a file whose header is wrong, or whose size its tensors do not
     * account for (a 1 GB tail), is refused before its data is read */
    uint8_t hl[8];
    if (len > 8 && mn_infile_pread(&f, hl, 8, 0, NULL) == MN_OK) {
        uint64_t hlen = rd_le64(hl);
        uint8_t *hdr = hlen <= MN_MAX_HEADER_BYTES && hlen <= len - 8 ? mn_malloc(8 + hlen) : NULL;
        if (hdr && mn_infile_pread(&f, hdr, 8 + (size_t)hlen, 0, NULL) == MN_OK) {
            int pointed = 0;
            st = load_image(hdr, len, path, 0, NULL, 1, out, &pointed, err);
            if (st != MN_OK) {
                mn_free(hdr);
                mn_infile_close(&f);
                return st;
            }
        }
        mn_free(hdr);
    }
    /* the image goes at offset 0 of a 64-byte aligned address, so that a file written by
     * mn_model_save (data section on a 64-byte boundary) is used in place, without a copy */
    void *block = mn_malloc(len + 64);
    if (!block) {
        mn_infile_close(&f);
        return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory for %zu bytes", path, len);
    }
    uint8_t *img = (uint8_t *)(((uintptr_t)block + 63) & ~(uintptr_t)63);
    st = mn_infile_read_all(&f, img, err);
    mn_infile_close(&f);
    if (st) {
        mn_free(block);
        return st;
    }
    int pointed = 0;
    st = load_image(img, len, path, 1, block, 0, out, &pointed, err);
    if (!pointed) mn_free(block);
    if (st == MN_OK) attach_copyidx(*out, path);
    return st;
}

mn_status mn_model_load_memory(const void *buf, size_t len, const char *name, mn_model **out,
                               char *err)
{
    *out = NULL;
    if (!name) name = "(memory)";
    if (!buf && len) return mn_errf(err, MN_ERR_ARG, "%s: no buffer", name);
    int pointed = 0;
    return load_image(buf, len, name, 0, NULL, 0, out, &pointed, err);
}

mn_model *mn_model_retain(mn_model *m)
{
    if (m) atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void mn_model_free(mn_model *m)
{
    if (!m) return;
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) model_destroy(m);
}

const mn_model_config *mn_model_cfg(const mn_model *m) { return &m->cfg; }
const mn_weights *mn_model_weights(const mn_model *m) { return &m->w; }
const float *mn_model_params(const mn_model *m) { return m->params; }
const mn_step_mats *mn_model_step_mats(const mn_model *m) { return &m->mats; }
mn_wtype mn_model_wtype(const mn_model *m) { return m->wtype; }
size_t mn_model_n_params(const mn_model *m) { return m->n_params; }
const char *mn_model_path(const mn_model *m) { return m->path; }
size_t mn_model_file_size(const mn_model *m) { return m->file_size; }

const char *mn_model_meta(const mn_model *m, const char *key)
{
    if (!m || !key) return NULL;
    for (size_t i = 0; i < m->n_meta; i++)
        if (strcmp(m->meta[i][0], key) == 0) return m->meta[i][1];
    return NULL;
}

size_t mn_model_meta_count(const mn_model *m) { return m ? m->n_meta : 0; }

void mn_model_meta_at(const mn_model *m, size_t i, const char **key, const char **value)
{
    const char *k = NULL, *v = NULL;
    if (m && i < m->n_meta) k = m->meta[i][0], v = m->meta[i][1];
    if (key) *key = k;
    if (value) *value = v;
}

/*=== saving =================================================================================*/

static int is_arch_key(const char *k)
{
    static const char *keys[] = {"format", "version", "n_layers", "n_hidden", "n_embed",
                                 "n_pos", "ticks_per_quarter", "durations",
                                 MN_MODEL_CHECKSUM_KEY};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (strcmp(k, keys[i]) == 0) return 1;
    return 0;
}

/* Appends n floats to dst as little-endian bytes; returns the end. */
static uint8_t *put_le_floats(uint8_t *dst, const float *src, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        uint32_t u;
        memcpy(&u, src + k, 4);
        dst[0] = (uint8_t)u, dst[1] = (uint8_t)(u >> 8), dst[2] = (uint8_t)(u >> 16);
        dst[3] = (uint8_t)(u >> 24);
        dst += 4;
    }
    return dst;
}

mn_status mn_model_save(const char *path, const mn_model_config *cfg, const float *params,
                        const char *const (*meta)[2], size_t n_meta, char *err)
{
    return mn_model_save_as(path, cfg, params, MN_WEIGHTS_F32, meta, n_meta, err);
}

mn_status mn_model_encode(const char *path, const mn_model_config *cfg, const float *params,
                          mn_wtype wtype, const char *const (*meta)[2], size_t n_meta,
                          uint8_t **out, size_t *out_len, char *err)
{
    *out = NULL, *out_len = 0;
    if (!path || !cfg || !params)
        return mn_errf(err, MN_ERR_ARG, "%s: model save needs a path, config and parameters",
                       path ? path : "model");
    char e2[MN_ERR_LEN];
    mn_status st = mn_model_config_validate(cfg, e2);
    if (st != MN_OK) return mn_errf(err, MN_ERR_ARG, "%s: bad config: %s", path, e2);
    size_t n_user = 0;
    for (size_t i = 0; i < n_meta; i++) {
        if (!meta[i][0] || !meta[i][1])
            return mn_errf(err, MN_ERR_ARG, "%s: metadata entry %zu is NULL", path, i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(meta[i][0], meta[j][0]) == 0)
                return mn_errf(err, MN_ERR_ARG, "%s: duplicate metadata key %.40s", path,
                               meta[i][0]);
        if (!is_arch_key(meta[i][0])) n_user++;
    }
    if (n_user + 9 > MN_MAX_META)
        return mn_errf(err, MN_ERR_LIMIT, "%s: %zu metadata entries, limit %d", path, n_user + 9,
                       MN_MAX_META);

    char tname[48];
    int shape[2], ndim;
    size_t nf;
    int count = tensor_desc(cfg, -1, tname, shape, &ndim, &nf);
    size_t n_params = mn_model_param_count(cfg);
    for (size_t k = 0; k < n_params; k++)
        if (!isfinite(params[k])) {
            size_t off = 0;
            for (int i = 0; i < count; i++) {
                tensor_desc(cfg, i, tname, shape, &ndim, &nf);
                if (k < off + nf) break;
                off += nf;
            }
            return mn_errf(err, MN_ERR_ARG, "%s: tensor %s has a non-finite value at index %zu",
                           path, tname, k - off);
        }

    mn_sbuf b = {0};
    mn_sbuf_puts(&b, "{\"__metadata__\":{\"format\":\"" MN_MODEL_FORMAT "\"");
    mn_sbuf_printf(&b, ",\"version\":\"%d\",\"n_layers\":\"%d\",\"n_hidden\":\"%d\",\"n_embed\":\"%d\","
           "\"n_pos\":\"%d\",\"ticks_per_quarter\":\"%d\",\"durations\":\"", MN_MODEL_VERSION,
           cfg->n_layers, cfg->n_hidden, cfg->n_embed, cfg->n_pos, MN_TPQ);
    for (int i = 0; i < cfg->dur.n; i++) mn_sbuf_printf(&b, i ? ",%d" : "%d", cfg->dur.ticks[i]);
    mn_sbuf_puts(&b, "\"");
    /* the data section exactly as written: each tensor in canonical order, little-endian, the
     * step matrices in wtype (an I8 matrix followed by its scales), then its checksum */
    size_t data_len = 0;
    for (int i = 0; i < count; i++) {
        tensor_desc(cfg, i, tname, shape, &ndim, &nf);
        mn_wtype t = is_step_matrix(cfg, i) ? wtype : MN_WEIGHTS_F32;
        data_len += nf * wtype_bytes(t) + (t == MN_WEIGHTS_I8 ? (size_t)shape[0] * 4 : 0);
    }
    uint8_t *data = mn_malloc(data_len ? data_len : 1);
    if (!data) return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory for %zu bytes", path, data_len);
    signed char *qrow = NULL;
    if (wtype == MN_WEIGHTS_I8) {
        int widest = 1;
        for (int i = 0; i < count; i++) {
            tensor_desc(cfg, i, tname, shape, &ndim, &nf);
            if (ndim == 2 && shape[1] > widest) widest = shape[1];
        }
        if (!(qrow = mn_malloc((size_t)widest))) {
            mn_free(data);
            return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", path);
        }
    }
    size_t t_begin[MAX_TENSORS], t_end[MAX_TENSORS], s_begin[MAX_TENSORS];
    {
        uint8_t *p = data;
        size_t off = 0;
        for (int i = 0; i < count; i++) {
            tensor_desc(cfg, i, tname, shape, &ndim, &nf);
            mn_wtype t = is_step_matrix(cfg, i) ? wtype : MN_WEIGHTS_F32;
            const float *src = params + off;
            t_begin[i] = (size_t)(p - data);
            if (t == MN_WEIGHTS_F32) {
                p = put_le_floats(p, src, nf);
            } else if (t == MN_WEIGHTS_BF16) {
                for (size_t k = 0; k < nf; k++) {
                    unsigned short h = mn_bf16_from_f32(src[k]);
                    *p++ = (uint8_t)h;
                    *p++ = (uint8_t)(h >> 8);
                }
            } else {
                float scales[4 * MN_MAX_HIDDEN];
                for (int r = 0; r < shape[0]; r++) {
                    scales[r] = mn_i8_quantize_row(src + (size_t)r * shape[1], shape[1], qrow);
                    memcpy(p, qrow, (size_t)shape[1]);
                    p += shape[1];
                }
                t_end[i] = (size_t)(p - data);
                s_begin[i] = t_end[i];
                p = put_le_floats(p, scales, (size_t)shape[0]);
                off += nf;
                continue;
            }
            t_end[i] = (size_t)(p - data);
            off += nf;
        }
    }
    mn_free(qrow);
    uint64_t sum = mn_fnv1a64(MN_FNV1A64_INIT, data, data_len);
    mn_sbuf_printf(&b, ",\"" MN_MODEL_CHECKSUM_KEY "\":\"%016llx\"", (unsigned long long)sum);
    for (size_t i = 0; i < n_meta; i++) {
        if (is_arch_key(meta[i][0])) continue;
        mn_sbuf_puts(&b, ",");
        mn_json_put_str(&b, meta[i][0]);
        mn_sbuf_puts(&b, ":");
        mn_json_put_str(&b, meta[i][1]);
    }
    mn_sbuf_puts(&b, "}");
    for (int i = 0; i < count; i++) {
        tensor_desc(cfg, i, tname, shape, &ndim, &nf);
        mn_wtype t = is_step_matrix(cfg, i) ? wtype : MN_WEIGHTS_F32;
        mn_sbuf_printf(&b, ",\"%s\":{\"dtype\":\"%s\",\"shape\":", tname, wtype_dtype(t));
        if (ndim == 2) mn_sbuf_printf(&b, "[%d,%d]", shape[0], shape[1]);
        else mn_sbuf_printf(&b, "[%d]", shape[0]);
        mn_sbuf_printf(&b, ",\"data_offsets\":[%zu,%zu]}", t_begin[i], t_end[i]);
        if (t == MN_WEIGHTS_I8)
            mn_sbuf_printf(&b, ",\"%s.scale\":{\"dtype\":\"F32\",\"shape\":[%d],"
                           "\"data_offsets\":[%zu,%zu]}", tname, shape[0], s_begin[i],
                           s_begin[i] + (size_t)shape[0] * 4);
    }
    mn_sbuf_puts(&b, "}");
    /* spaces after the JSON put the data section on a 64-byte boundary */
    while (!b.failed && (8 + b.n) % SAVE_ALIGN) mn_sbuf_put(&b, " ", 1);
    if (b.failed) {
        mn_free(b.buf);
        mn_free(data);
        return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory for the header", path);
    }
    if (b.n > MN_MAX_HEADER_BYTES) {
        mn_free(b.buf);
        mn_free(data);
        return mn_errf(err, MN_ERR_LIMIT, "%s: header of %zu bytes exceeds the limit of %u",
                       path, b.n, MN_MAX_HEADER_BYTES);
    }

    size_t len = 8 + b.n + data_len;
    uint8_t *file = mn_malloc(len);
    if (!file) {
        mn_free(b.buf);
        mn_free(data);
        return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory for %zu bytes", path, len);
    }
    for (int i = 0; i < 8; i++) file[i] = (uint8_t)((uint64_t)b.n >> (8 * i));
    memcpy(file + 8, b.buf, b.n);
    memcpy(file + 8 + b.n, data, data_len);
    mn_free(b.buf);
    mn_free(data);
    *out = file, *out_len = len;
    return MN_OK;
}

mn_status mn_model_save_as(const char *path, const mn_model_config *cfg, const float *params,
                           mn_wtype wtype, const char *const (*meta)[2], size_t n_meta,
                           char *err)
{
    uint8_t *file;
    size_t len;
    mn_status st = mn_model_encode(path, cfg, params, wtype, meta, n_meta, &file, &len, err);
    if (st) return st;
    char *tmp;
    FILE *f = mn_atomic_open(path, &tmp, err);
    if (!f) {
        mn_free(file);
        return MN_ERR_IO;
    }
    st = mn_atomic_close(f, tmp, path, fwrite(file, 1, len, f) == len, err);
    mn_free(file);
    return st;
}
