/* model.c - the .mnet file: canonical parameter layout, a loader that treats every file as
 * hostile (each length, offset, shape and weight is checked before use), reference counting,
 * and an atomic writer.
 *
 * Metadata policy: every "__metadata__" entry is kept whole (the header limit of
 * MN_MAX_HEADER_BYTES bounds its size); a file with more than MN_MAX_META entries, a
 * non-string value, or a key or value holding a NUL byte is refused. */
#include "model.h"
#include "sbuf.h"

#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TENSORS (3 + 4 * MN_MAX_LAYERS + 4)
#define SAVE_ALIGN 64 /* data section start in saved files, for cache-line aligned tensors */

struct mn_model {
    atomic_int refs;
    mn_model_config cfg;
    mn_weights w;
    const float *params;   /* [n_params], canonical order; into map or own_block */
    size_t n_params;
    void *map;             /* mmap of the whole file when the tensors are used in place */
    size_t map_len;
    void *own_block;       /* raw allocation behind params when copied (params is aligned in it) */
    char *path;
    size_t file_size;
    size_t n_meta;
    char *meta[MN_MAX_META][2]; /* key, value */
};

/* ================================================================ canonical layout */

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

/* ================================================================ byte order */

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

/* ================================================================ loading */

static void model_destroy(mn_model *m)
{
    if (!m) return;
    if (m->map) munmap(m->map, m->map_len);
    mn_free(m->own_block);
    mn_free(m->path);
    for (size_t i = 0; i < m->n_meta; i++) {
        mn_free(m->meta[i][0]);
        mn_free(m->meta[i][1]);
    }
    mn_free(m);
}

/* Strict decimal integer in lo..hi from a metadata string. */
static int parse_meta_int(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s) return -1;
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
                                   tensor_loc *loc, char *err)
{
    if (t->type != MN_JSON_OBJECT)
        return mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s is a %s, expected an object", name,
                       tname, mn_json_type_name(t->type));
    const mn_json *dt = mn_json_get(t, "dtype"), *sh = mn_json_get(t, "shape"),
                  *off = mn_json_get(t, "data_offsets");
    if (!dt || dt->type != MN_JSON_STRING)
        return mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s has no dtype string", name, tname);
    if (strlen(dt->str) != dt->str_len) /* "F32\u0000x" would print as F32 */
        return mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s has a dtype holding a NUL byte, "
                       "expected F32", name, tname);
    if (strcmp(dt->str, "F32") != 0)
        return mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s has dtype %.16s, expected F32", name,
                       tname, dt->str);
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
    if (e - b != (uint64_t)n_floats * 4)
        return mn_errf(err, MN_ERR_FORMAT, "%s: tensor %s holds %llu bytes, its shape needs %llu",
                       name, tname, (unsigned long long)(e - b),
                       (unsigned long long)n_floats * 4);
    loc->begin = b;
    loc->end = e;
    loc->seen = 1;
    return MN_OK;
}

/* Validates a whole file image and builds the model. base/len is the file; when may_point is
 * set and the tensors are in place, params point into base (the caller keeps it mapped). */
static mn_status load_image(const uint8_t *base, size_t len, const char *name, int may_point,
                            mn_model **out, int *pointed, char *err)
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
    tensor_loc loc[MAX_TENSORS];
    memset(loc, 0, sizeof loc);
    int n_meta_keys = 0;
    for (const mn_json *e = root->child; e; e = e->next) {
        if (strcmp(e->key, "__metadata__") == 0) {
            if (++n_meta_keys > 1) {
                st = mn_errf(err, MN_ERR_FORMAT, "%s: duplicate __metadata__", name);
                goto fail;
            }
            continue;
        }
        int idx = -1;
        for (int i = 0; i < count && idx < 0; i++) {
            tensor_desc(cfg, i, tname, shape, &ndim, &nf);
            if (strlen(e->key) == e->key_len && strcmp(tname, e->key) == 0) idx = i;
        }
        if (idx < 0) {
            st = mn_errf(err, MN_ERR_FORMAT, "%s: unknown tensor %.48s", name, e->key);
            goto fail;
        }
        if (loc[idx].seen) {
            st = mn_errf(err, MN_ERR_FORMAT, "%s: duplicate tensor %s", name, tname);
            goto fail;
        }
        st = read_tensor_entry(e, name, tname, shape, ndim, nf, data_len, &loc[idx], err);
        if (st != MN_OK) goto fail;
    }
    for (int i = 0; i < count; i++) {
        if (!loc[i].seen) {
            tensor_desc(cfg, i, tname, shape, &ndim, &nf);
            st = mn_errf(err, MN_ERR_FORMAT, "%s: missing tensor %s", name, tname);
            goto fail;
        }
    }
    /* overlap: compare every pair (at most 39 tensors); empty ranges cannot occur as every
     * dimension is at least 1 */
    for (int i = 0; i < count; i++)
        for (int j = i + 1; j < count; j++)
            if (loc[i].begin < loc[j].end && loc[j].begin < loc[i].end) {
                char a[48], b[48];
                tensor_desc(cfg, i, a, shape, &ndim, &nf);
                tensor_desc(cfg, j, b, shape, &ndim, &nf);
                st = mn_errf(err, MN_ERR_FORMAT, "%s: tensors %s and %s overlap", name, a, b);
                goto fail;
            }

    m->n_params = mn_model_param_count(cfg);
    int in_place = may_point && host_is_le() && (data_at + loc[0].begin) % 4 == 0;
    for (int i = 1; i < count && in_place; i++)
        if (loc[i].begin != loc[i - 1].end) in_place = 0;
    if (in_place) {
        m->params = (const float *)(const void *)(base + data_at + loc[0].begin);
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
            copy_le_floats(dst + off, base + data_at + loc[i].begin, nf);
            off += nf;
        }
        m->params = dst;
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
    mn_json_free(doc);
    *out = m;
    return MN_OK;

fail:
    *pointed = 0;
    mn_json_free(doc);
    model_destroy(m);
    return st;
}

mn_status mn_model_load(const char *path, mn_model **out, char *err)
{
    *out = NULL;
    if (!path) return mn_errf(err, MN_ERR_ARG, "model: no path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return mn_errf(err, MN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return mn_errf(err, MN_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return mn_errf(err, MN_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return mn_errf(err, MN_ERR_LIMIT, "%s: file too large", path);
    }
    size_t len = (size_t)sb.st_size;
    if (len == 0) {
        close(fd);
        return mn_errf(err, MN_ERR_FORMAT, "%s: file is empty", path);
    }
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) return mn_errf(err, MN_ERR_IO, "%s: cannot map: %s", path, strerror(e));
    int pointed = 0;
    mn_model *m = NULL;
    mn_status st = load_image(map, len, path, 1, &m, &pointed, err);
    if (st == MN_OK && pointed) {
        m->map = map;
        m->map_len = len;
    } else {
        munmap(map, len);
    }
    /* *out is published last, complete: a caller may hand it to another thread at once */
    *out = m;
    return st;
}

mn_status mn_model_load_memory(const void *buf, size_t len, const char *name, mn_model **out,
                               char *err)
{
    *out = NULL;
    if (!name) name = "(memory)";
    if (!buf && len) return mn_errf(err, MN_ERR_ARG, "%s: no buffer", name);
    int pointed = 0;
    return load_image(buf, len, name, 0, out, &pointed, err);
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

/* ================================================================ saving */

static void sb_json_str(mn_sbuf *b, const char *s)
{
    mn_sbuf_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            mn_sbuf_put(b, e, 2);
        } else if (*p < 0x20) {
            mn_sbuf_printf(b, "\\u%04x", *p);
        } else {
            mn_sbuf_put(b, (const char *)p, 1);
        }
    }
    mn_sbuf_put(b, "\"", 1);
}

static int is_arch_key(const char *k)
{
    static const char *keys[] = {"format", "version", "n_layers", "n_hidden", "n_embed",
                                 "n_pos", "ticks_per_quarter", "durations"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (strcmp(k, keys[i]) == 0) return 1;
    return 0;
}

mn_status mn_model_save(const char *path, const mn_model_config *cfg, const float *params,
                        const char *const (*meta)[2], size_t n_meta, char *err)
{
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
    if (n_user + 8 > MN_MAX_META)
        return mn_errf(err, MN_ERR_LIMIT, "%s: %zu metadata entries, limit %d", path, n_user + 8,
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
    for (size_t i = 0; i < n_meta; i++) {
        if (is_arch_key(meta[i][0])) continue;
        mn_sbuf_puts(&b, ",");
        sb_json_str(&b, meta[i][0]);
        mn_sbuf_puts(&b, ":");
        sb_json_str(&b, meta[i][1]);
    }
    mn_sbuf_puts(&b, "}");
    size_t off = 0;
    for (int i = 0; i < count; i++) {
        tensor_desc(cfg, i, tname, shape, &ndim, &nf);
        mn_sbuf_printf(&b, ",\"%s\":{\"dtype\":\"F32\",\"shape\":", tname);
        if (ndim == 2) mn_sbuf_printf(&b, "[%d,%d]", shape[0], shape[1]);
        else mn_sbuf_printf(&b, "[%d]", shape[0]);
        mn_sbuf_printf(&b, ",\"data_offsets\":[%zu,%zu]}", off * 4, (off + nf) * 4);
        off += nf;
    }
    mn_sbuf_puts(&b, "}");
    /* spaces after the JSON put the data section on a 64-byte boundary */
    while (!b.failed && (8 + b.n) % SAVE_ALIGN) mn_sbuf_put(&b, " ", 1);
    if (b.failed) {
        mn_free(b.buf);
        return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory for the header", path);
    }
    if (b.n > MN_MAX_HEADER_BYTES) {
        mn_free(b.buf);
        return mn_errf(err, MN_ERR_LIMIT, "%s: header of %zu bytes exceeds the limit of %u",
                       path, b.n, MN_MAX_HEADER_BYTES);
    }

    char *tmp;
    FILE *f = mn_atomic_open(path, &tmp, err);
    if (!f) {
        mn_free(b.buf);
        return MN_ERR_IO;
    }
    uint8_t hl[8];
    for (int i = 0; i < 8; i++) hl[i] = (uint8_t)((uint64_t)b.n >> (8 * i));
    int ok = fwrite(hl, 1, 8, f) == 8 && fwrite(b.buf, 1, b.n, f) == b.n;
    if (host_is_le()) {
        ok = ok && fwrite(params, 4, n_params, f) == n_params;
    } else {
        for (size_t k = 0; k < n_params && ok; k++) {
            uint32_t u;
            memcpy(&u, params + k, 4);
            uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
            ok = fwrite(le, 1, 4, f) == 4;
        }
    }
    st = mn_atomic_close(f, tmp, path, ok, err);
    mn_free(b.buf);
    return st;
}
