/* copyidx.c - the copy guard's index (see copyidx.h): interval text, tune starts, names, and a
 * suffix array sorted by the first MN_COPY_DEPTH symbols. */
#include "copyidx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEP (-128)
/* the largest valid file: the 20-byte header, then text and names at their limits */
#define MAX_FILE_BYTES ((size_t)20 + MN_COPY_MAX_TEXT + MN_COPY_MAX_NAMES)
static const char magic[8] = {'M', 'N', 'C', 'O', 'P', 'Y', '1', '\n'};

struct mn_copyidx {
    int8_t *text;        /* [n_text + MN_COPY_DEPTH] symbols, padded with SEP */
    size_t n_text;
    uint32_t *sa;        /* [n_sa] suffixes starting on an interval, sorted */
    size_t n_sa;
    uint32_t *start;     /* [n_tunes] text position of each tune's first interval */
    size_t n_tunes;
    char *names;         /* [names_bytes] */
    size_t names_bytes;
    const char **name;   /* [n_tunes] into names */
};

void mn_copyidx_free(mn_copyidx *ix)
{
    if (!ix) return;
    mn_free(ix->text);
    mn_free(ix->sa);
    mn_free(ix->start);
    mn_free(ix->names);
    mn_free(ix->name);
    mn_free(ix);
}

static int cmp_suffix(const void *a, const void *b, void *ctx)
{
    const int8_t *t = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int c = memcmp(t + x, t + y, MN_COPY_DEPTH); /* bytes as unsigned: any fixed order works */
    if (c) return c;
    return x < y ? -1 : x > y; /* a total order, so the array does not depend on qsort */
}

/* Everything but text, n_text and names/names_bytes: tune starts, name pointers, the array. */
static mn_status finish(mn_copyidx *ix, const char *what, char *err)
{
    ix->start = mn_malloc((ix->n_tunes ? ix->n_tunes : 1) * sizeof *ix->start);
    ix->name = mn_malloc((ix->n_tunes ? ix->n_tunes : 1) * sizeof *ix->name);
    size_t n_sa = 0;
    for (size_t i = 0; i < ix->n_text; i++) n_sa += ix->text[i] != SEP;
    ix->sa = mn_malloc((n_sa ? n_sa : 1) * sizeof *ix->sa);
    if (!ix->start || !ix->name || !ix->sa)
        return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory for %zu intervals", what, n_sa);
    size_t t = 0;
    ix->start[0] = 0;
    for (size_t i = 0; i < ix->n_text; i++) {
        if (ix->text[i] != SEP) ix->sa[ix->n_sa++] = (uint32_t)i;
        else if (++t < ix->n_tunes) ix->start[t] = (uint32_t)(i + 1);
    }
    const char *p = ix->names;
    for (size_t k = 0; k < ix->n_tunes; k++) {
        ix->name[k] = p;
        p += strlen(p) + 1;
    }
    qsort_r(ix->sa, ix->n_sa, sizeof *ix->sa, cmp_suffix, ix->text);
    return MN_OK;
}

mn_status mn_copyidx_build(const mn_melody *tunes, size_t n, const char *const *names,
                           mn_copyidx **out, char *err)
{
    *out = NULL;
    size_t n_text = 0, nb = 0;
    for (size_t t = 0; t < n; t++) {
        size_t notes = 0;
        for (size_t i = 0; i < tunes[t].n; i++)
            notes += mn_is_pitch(tunes[t].ev[i].pitch);
        n_text += notes ? notes : 1; /* notes - 1 intervals and the end mark */
        const char *nm = names && names[t] ? names[t] : tunes[t].name;
        size_t l = strlen(nm);
        nb += (l > 255 ? 255 : l) + 1;
    }
    if (n_text > MN_COPY_MAX_TEXT || nb > MN_COPY_MAX_NAMES)
        return mn_errf(err, MN_ERR_LIMIT, "copy index: %zu intervals, more than %u", n_text,
                       MN_COPY_MAX_TEXT);
    if (!n) return mn_errf(err, MN_ERR_EMPTY, "copy index: no tunes");
    mn_copyidx *ix = mn_calloc(1, sizeof *ix);
    if (!ix) return mn_errf(err, MN_ERR_NOMEM, "copy index: out of memory");
    ix->text = mn_malloc(n_text + MN_COPY_DEPTH);
    ix->names = mn_malloc(nb);
    if (!ix->text || !ix->names) {
        mn_copyidx_free(ix);
        return mn_errf(err, MN_ERR_NOMEM, "copy index: out of memory for %zu intervals", n_text);
    }
    size_t k = 0, q = 0;
    for (size_t t = 0; t < n; t++) {
        int prev = -1;
        for (size_t i = 0; i < tunes[t].n; i++) {
            int p = tunes[t].ev[i].pitch;
            if (!mn_is_pitch(p)) continue;
            if (prev >= 0) ix->text[k++] = (int8_t)(p - prev);
            prev = p;
        }
        ix->text[k++] = SEP;
        const char *nm = names && names[t] ? names[t] : tunes[t].name;
        size_t l = strlen(nm);
        if (l > 255) l = 255;
        memcpy(ix->names + q, nm, l);
        q += l;
        ix->names[q++] = '\0';
    }
    memset(ix->text + k, SEP, MN_COPY_DEPTH);
    ix->n_text = k;
    ix->n_tunes = n;
    ix->names_bytes = q;
    mn_status st = finish(ix, "copy index", err);
    if (st) {
        mn_copyidx_free(ix);
        return st;
    }
    *out = ix;
    return MN_OK;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

mn_status mn_copyidx_load_memory(const void *buf, size_t len, const char *name,
                                 mn_copyidx **out, char *err)
{
    *out = NULL;
    if (!name) name = "copy index";
    const uint8_t *b = buf;
    if (!b || len < 20 || memcmp(b, magic, 8))
        return mn_errf(err, MN_ERR_FORMAT, "%s: not a melodynet copy index (no MNCOPY1 header)",
                       name);
    uint32_t n_tunes = rd32(b + 8), n_text = rd32(b + 12), nb = rd32(b + 16);
    if (n_text > MN_COPY_MAX_TEXT || nb > MN_COPY_MAX_NAMES)
        return mn_errf(err, MN_ERR_LIMIT, "%s: %u intervals and %u name bytes, limits %u and %u",
                       name, n_text, nb, MN_COPY_MAX_TEXT, MN_COPY_MAX_NAMES);
    if ((uint64_t)20 + n_text + nb != len)
        return mn_errf(err, MN_ERR_FORMAT, "%s: %zu bytes, its header says %llu", name, len,
                       (unsigned long long)20 + n_text + nb);
    if (!n_tunes || n_text < n_tunes)
        return mn_errf(err, MN_ERR_FORMAT, "%s: %u tunes in %u symbols", name, n_tunes, n_text);
    const int8_t *text = (const int8_t *)(b + 20);
    size_t seps = 0;
    for (size_t i = 0; i < n_text; i++) seps += text[i] == SEP;
    if (seps != n_tunes || text[n_text - 1] != SEP)
        return mn_errf(err, MN_ERR_FORMAT, "%s: %zu tune ends for %u tunes%s", name, seps, n_tunes,
                       text[n_text - 1] != SEP ? ", the last tune not ended" : "");
    const char *names = (const char *)(b + 20 + n_text);
    size_t nuls = 0;
    for (size_t i = 0; i < nb; i++) nuls += names[i] == '\0';
    if (nuls != n_tunes || !nb || names[nb - 1] != '\0')
        return mn_errf(err, MN_ERR_FORMAT, "%s: %zu names for %u tunes", name, nuls, n_tunes);
    mn_copyidx *ix = mn_calloc(1, sizeof *ix);
    if (!ix) return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory", name);
    ix->text = mn_malloc((size_t)n_text + MN_COPY_DEPTH);
    ix->names = mn_malloc(nb);
    if (!ix->text || !ix->names) {
        mn_copyidx_free(ix);
        return mn_errf(err, MN_ERR_NOMEM, "%s: out of memory for %u intervals", name, n_text);
    }
    memcpy(ix->text, text, n_text);
    memset(ix->text + n_text, SEP, MN_COPY_DEPTH);
    memcpy(ix->names, names, nb);
    ix->n_text = n_text;
    ix->n_tunes = n_tunes;
    ix->names_bytes = nb;
    mn_status st = finish(ix, name, err);
    if (st) {
        mn_copyidx_free(ix);
        return st;
    }
    *out = ix;
    return MN_OK;
}

mn_status mn_copyidx_load(const char *path, mn_copyidx **out, char *err)
{
    *out = NULL;
    uint8_t *buf;
    size_t len;
    mn_status st = mn_read_file(path, MAX_FILE_BYTES, MN_READ_NONEMPTY, &buf, &len, err);
    if (!st) st = mn_copyidx_load_memory(buf, len, path, out, err);
    mn_free(buf);
    return st;
}

mn_status mn_copyidx_save(const mn_copyidx *ix, const char *path, char *err)
{
    char *tmp;
    FILE *f = mn_atomic_open(path, &tmp, err);
    if (!f) return MN_ERR_IO;
    uint8_t h[20];
    memcpy(h, magic, 8);
    uint32_t v[3] = {(uint32_t)ix->n_tunes, (uint32_t)ix->n_text, (uint32_t)ix->names_bytes};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) h[8 + 4 * i + j] = (uint8_t)(v[i] >> (8 * j));
    int ok = fwrite(h, 1, 20, f) == 20 && fwrite(ix->text, 1, ix->n_text, f) == ix->n_text &&
             fwrite(ix->names, 1, ix->names_bytes, f) == ix->names_bytes;
    return mn_atomic_close(f, tmp, path, ok, err);
}

size_t mn_copyidx_n_tunes(const mn_copyidx *ix) { return ix->n_tunes; }
size_t mn_copyidx_n_intervals(const mn_copyidx *ix) { return ix->n_sa; }
size_t mn_copyidx_file_bytes(const mn_copyidx *ix) { return 20 + ix->n_text + ix->names_bytes; }
const char *mn_copyidx_name(const mn_copyidx *ix, size_t t)
{
    return t < ix->n_tunes ? ix->name[t] : "";
}

/*=== queries ================================================================================*/

/* Symbol of suffix j at depth d, as the sort compares it (unsigned byte). */
static unsigned sym(const mn_copyidx *ix, size_t j, int d)
{
    return (uint8_t)ix->text[ix->sa[j] + (size_t)d];
}

/* Narrows [*lo, *hi) (suffixes equal in their first d symbols) to those whose symbol d is c. */
static void narrow(const mn_copyidx *ix, size_t *lo, size_t *hi, int d, unsigned c)
{
    size_t a = *lo, b = *hi;
    while (a < b) { /* first with sym >= c */
        size_t m = a + (b - a) / 2;
        if (sym(ix, m, d) < c) a = m + 1;
        else b = m;
    }
    size_t first = a;
    b = *hi;
    while (a < b) { /* first with sym > c */
        size_t m = a + (b - a) / 2;
        if (sym(ix, m, d) <= c) a = m + 1;
        else b = m;
    }
    *lo = first;
    *hi = a;
}

static int valid_iv(int v) { return v >= -127 && v <= 127; }

/* The range of suffixes starting with w[0..len); 0 when none. */
static int range_of(const mn_copyidx *ix, const int *w, int len, size_t *lo, size_t *hi)
{
    *lo = 0;
    *hi = ix->n_sa;
    for (int d = 0; d < len && *lo < *hi; d++) {
        if (!valid_iv(w[d])) return 0;
        narrow(ix, lo, hi, d, (uint8_t)(int8_t)w[d]);
    }
    return *lo < *hi;
}

int mn_copyidx_contains(const mn_copyidx *ix, const int *w, int len)
{
    if (!ix || len < 0 || len > MN_COPY_DEPTH) return 0;
    size_t lo, hi;
    return range_of(ix, w, len, &lo, &hi);
}

int mn_copyidx_next(const mn_copyidx *ix, const int *hist, int k, unsigned char next[255])
{
    memset(next, 0, 255);
    if (!ix || k < 0 || k >= MN_COPY_DEPTH) return 0;
    size_t lo, hi;
    if (!range_of(ix, hist, k, &lo, &hi)) return 0;
    /* the range is sorted by symbol k: jump from one symbol's block to the next */
    int count = 0;
    while (lo < hi) {
        unsigned c = sym(ix, lo, k);
        size_t a = lo, b = hi;
        narrow(ix, &a, &b, k, c);
        int iv = (int)(int8_t)(uint8_t)c;
        if (iv != SEP) {
            next[iv + 127] = 1;
            count++;
        }
        lo = b;
    }
    return count;
}

static size_t tune_of(const mn_copyidx *ix, size_t pos)
{
    size_t lo = 0, hi = ix->n_tunes;
    while (hi - lo > 1) {
        size_t m = lo + (hi - lo) / 2;
        if (ix->start[m] <= pos) lo = m;
        else hi = m;
    }
    return lo;
}

static int cmp_run(const void *a, const void *b)
{
    const mn_copy_run *x = a, *y = b;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    if (x->tune != y->tune) return x->tune < y->tune ? -1 : 1;
    if (x->query_start != y->query_start) return x->query_start < y->query_start ? -1 : 1;
    return 0;
}

#define OCC_PER_START 64 /* occurrences looked at per query start */

size_t mn_copyidx_similar(const mn_copyidx *ix, const int *iv, size_t n, mn_copy_run *out,
                          size_t max)
{
    if (!ix || !n || !max) return 0;
    size_t cap = 256, m = 0;
    mn_copy_run *all = mn_malloc(cap * sizeof *all);
    if (!all) return 0;
    for (size_t i = 0; i < n; i++) {
        size_t lo = 0, hi = ix->n_sa, d = 0;
        while (d < MN_COPY_DEPTH && i + d < n && valid_iv(iv[i + d])) {
            size_t a = lo, b = hi;
            narrow(ix, &a, &b, (int)d, (uint8_t)(int8_t)iv[i + d]);
            if (a == b) break;
            lo = a;
            hi = b;
            d++;
        }
        if (d == 0) continue;
        for (size_t j = lo; j < hi && j < lo + OCC_PER_START; j++) {
            size_t pos = ix->sa[j], len = d;
            if (d == MN_COPY_DEPTH) /* past the sorted depth: compare the text directly */
                while (i + len < n && pos + len < ix->n_text &&
                       ix->text[pos + len] != SEP && ix->text[pos + len] == iv[i + len])
                    len++;
            if (m == cap) {
                mn_copy_run *nb = mn_realloc(all, 2 * cap * sizeof *all);
                if (!nb) {
                    mn_free(all);
                    return 0;
                }
                all = nb;
                cap *= 2;
            }
            size_t t = tune_of(ix, pos);
            all[m++] = (mn_copy_run){len, i, t, pos - ix->start[t]};
        }
    }
    qsort(all, m, sizeof *all, cmp_run);
    /* the longest run of each tune (sorted by length, then tune: the first of each tune) */
    size_t k = 0;
    for (size_t j = 0; j < m && k < max; j++) {
        int seen = 0;
        for (size_t q = 0; q < k && !seen; q++) seen = out[q].tune == all[j].tune;
        if (!seen) out[k++] = all[j];
    }
    mn_free(all);
    return k;
}
