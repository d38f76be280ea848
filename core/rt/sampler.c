/* sampler.c - the seeded PRNG, named scales, and the choice of a class from logits: masks,
 * temperature, stable softmax, top-k, top-p and one inverse-CDF draw. Nothing here allocates;
 * the arithmetic is plain C (no vector code, no fast-math) so a seed gives the same choices on
 * every platform with an IEEE double exp(). */
#include "sampler.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/*=== PRNG ===================================================================================*/

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void mn_rng_seed(mn_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    /* splitmix64 is a bijection of distinct inputs, so the state is never all zero, but keep
     * xoshiro's one forbidden state out explicitly. */
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1;
}

uint64_t mn_rng_next(mn_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double mn_rng_uniform(mn_rng *r) { return (double)(mn_rng_next(r) >> 11) * 0x1.0p-53; }

/*=== settings ===============================================================================*/

void mn_sampler_default(mn_sampler *s)
{
    memset(s, 0, sizeof *s);
    s->temperature = 1.0f;
    s->top_k = 0;
    s->top_p = 1.0f;
    s->pitch_lo = 0;
    s->pitch_hi = 127;
    s->scale_on = 0;
    s->scale_mask = 0xFFF;
    s->allow_rest = 1;
    s->velocity_lo = MN_DEFAULT_VELOCITY;
    s->velocity_hi = MN_DEFAULT_VELOCITY;
    s->accent = 0;
    s->motif = 1.0f;
}

mn_status mn_sampler_validate(const mn_sampler *s, char *err)
{
    if (!s) return mn_errf(err, MN_ERR_ARG, "sampler: no settings");
    if (!(s->temperature > 0.0f) || !isfinite(s->temperature))
        return mn_errf(err, MN_ERR_ARG, "sampler: temperature %g, expected a finite value > 0",
                       (double)s->temperature);
    if (s->top_k < 0)
        return mn_errf(err, MN_ERR_ARG, "sampler: top_k %d, expected >= 0 (0 = off)", s->top_k);
    if (!(s->top_p > 0.0f && s->top_p <= 1.0f))
        return mn_errf(err, MN_ERR_ARG, "sampler: top_p %g, expected in (0, 1] (1 = off)",
                       (double)s->top_p);
    if (s->pitch_lo < 0 || s->pitch_hi > 127 || s->pitch_lo > s->pitch_hi)
        return mn_errf(err, MN_ERR_ARG, "sampler: pitch range %d..%d, expected 0 <= lo <= hi <= 127",
                       s->pitch_lo, s->pitch_hi);
    if (s->scale_on && !(s->scale_mask & 0xFFF))
        return mn_errf(err, MN_ERR_ARG, "sampler: scale mask 0x%x holds no pitch class",
                       (unsigned)s->scale_mask);
    if (s->velocity_lo < 1 || s->velocity_hi > 127 || s->velocity_lo > s->velocity_hi)
        return mn_errf(err, MN_ERR_ARG,
                       "sampler: velocity range %d..%d, expected 1 <= lo <= hi <= 127",
                       s->velocity_lo, s->velocity_hi);
    if (s->accent < 0 || s->accent > 127)
        return mn_errf(err, MN_ERR_ARG, "sampler: accent %d, expected 0..127", s->accent);
    if (!(s->motif >= 0.0f && s->motif <= 1.0f))
        return mn_errf(err, MN_ERR_ARG, "sampler: motif %g, expected 0..1", (double)s->motif);
    if (s->max_copy < 0 || s->max_copy > MN_SAMPLER_MAX_COPY)
        return mn_errf(err, MN_ERR_ARG, "sampler: max_copy %d, expected 0..%d (0 = off)",
                       s->max_copy, MN_SAMPLER_MAX_COPY);
    return MN_OK;
}

/*=== scales =================================================================================*/

/* Masks relative to C: bit k = pitch class k. */
typedef struct {
    const char *name;
    uint16_t mask;
} scale_def;

#define PC(k) (1u << (k))
static const scale_def scales[] = {
    {"major", PC(0) | PC(2) | PC(4) | PC(5) | PC(7) | PC(9) | PC(11)},
    {"minor", PC(0) | PC(2) | PC(3) | PC(5) | PC(7) | PC(8) | PC(10)},
    {"dorian", PC(0) | PC(2) | PC(3) | PC(5) | PC(7) | PC(9) | PC(10)},
    {"phrygian", PC(0) | PC(1) | PC(3) | PC(5) | PC(7) | PC(8) | PC(10)},
    {"lydian", PC(0) | PC(2) | PC(4) | PC(6) | PC(7) | PC(9) | PC(11)},
    {"mixolydian", PC(0) | PC(2) | PC(4) | PC(5) | PC(7) | PC(9) | PC(10)},
    {"locrian", PC(0) | PC(1) | PC(3) | PC(5) | PC(6) | PC(8) | PC(10)},
    {"harmonic", PC(0) | PC(2) | PC(3) | PC(5) | PC(7) | PC(8) | PC(11)},
    {"melodic", PC(0) | PC(2) | PC(3) | PC(5) | PC(7) | PC(9) | PC(11)}, /* ascending form */
    {"pentatonic", PC(0) | PC(2) | PC(4) | PC(7) | PC(9)},
    {"minorpentatonic", PC(0) | PC(3) | PC(5) | PC(7) | PC(10)},
    {"blues", PC(0) | PC(3) | PC(5) | PC(6) | PC(7) | PC(10)},
    {"chromatic", 0xFFF},
    {"wholetone", PC(0) | PC(2) | PC(4) | PC(6) | PC(8) | PC(10)},
};
#undef PC
#define N_SCALES ((int)(sizeof scales / sizeof scales[0]))

/* Other spellings, mapped to an entry of scales[]. */
static const struct {
    const char *alias, *name;
} scale_aliases[] = {
    {"ionian", "major"},
    {"aeolian", "minor"},
    {"naturalminor", "minor"},
    {"harmonicminor", "harmonic"},
    {"melodicminor", "melodic"},
    {"majorpentatonic", "pentatonic"},
    {"pentatonicmajor", "pentatonic"},
    {"pentatonicminor", "minorpentatonic"},
    {"minorblues", "blues"},
    {"whole", "wholetone"},
    {"all", "chromatic"},
};

static const char *const scale_name_list[] = {
    "major", "minor", "dorian", "phrygian", "lydian", "mixolydian", "locrian", "harmonic",
    "melodic", "pentatonic", "minorpentatonic", "blues", "chromatic", "wholetone", NULL,
};

/* Pd users type "Harmonic-Minor" or "whole_tone" as readily as "harmonicminor": compare
 * lowercased, ignoring '-', '_' and spaces. Returns 0 when the key does not fit in out. */
static int normalize_name(const char *in, char *out, size_t n)
{
    size_t j = 0;
    for (; *in; in++) {
        unsigned char c = (unsigned char)*in;
        if (c == '-' || c == '_' || c == ' ') continue;
        if (j + 1 >= n) return 0;
        out[j++] = (char)tolower(c);
    }
    out[j] = '\0';
    return 1;
}

mn_status mn_scale_mask(const char *name, int root, uint16_t *mask, char *err)
{
    if (!name) return mn_errf(err, MN_ERR_ARG, "scale: no name given");
    if (root < 0 || root > 11)
        return mn_errf(err, MN_ERR_ARG, "scale %s: root %d, expected 0..11", name, root);
    char key[32];
    const char *want = NULL;
    if (normalize_name(name, key, sizeof key)) {
        want = key;
        for (size_t i = 0; i < sizeof scale_aliases / sizeof scale_aliases[0]; i++)
            if (!strcmp(key, scale_aliases[i].alias)) want = scale_aliases[i].name;
    }
    for (int i = 0; want && i < N_SCALES; i++) {
        if (strcmp(want, scales[i].name)) continue;
        uint32_t m = scales[i].mask;
        m = ((m << root) | (m >> (12 - root))) & 0xFFF;
        if (mask) *mask = (uint16_t)m;
        return MN_OK;
    }
    char list[200];
    size_t len = 0;
    list[0] = '\0';
    for (int i = 0; scale_name_list[i]; i++) {
        int w = snprintf(list + len, sizeof list - len, "%s%s", i ? " " : "", scale_name_list[i]);
        if (w < 0 || (size_t)w >= sizeof list - len) break;
        len += (size_t)w;
    }
    char shown[41]; /* the name as typed, control characters as '?': one line */
    size_t k = 0;
    for (; name[k] && k < sizeof shown - 1; k++) {
        unsigned char c = (unsigned char)name[k];
        shown[k] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    shown[k] = '\0';
    return mn_errf(err, MN_ERR_ARG, "scale '%s' unknown, expected one of: %s", shown, list);
}

/*=== sampling ===============================================================================*/

/* Orders class a before b: higher probability first, ties to the lower index. A total order,
 * so the sorted result does not depend on the sort algorithm. */
static int before(const float *p, int a, int b) { return p[a] > p[b] || (p[a] == p[b] && a < b); }

/* Heapsort of the class indices idx[0..n) (stored as floats, exact below 2^24) by before(). */
static void sift(const float *p, float *idx, int start, int n)
{
    int root = start;
    for (;;) {
        int child = 2 * root + 1;
        if (child >= n) return;
        /* a max-heap under "comes later" puts the latest class at the end after extraction */
        if (child + 1 < n && before(p, (int)idx[child], (int)idx[child + 1])) child++;
        if (!before(p, (int)idx[root], (int)idx[child])) return;
        float t = idx[root];
        idx[root] = idx[child];
        idx[child] = t;
        root = child;
    }
}

static void sort_classes(const float *p, float *idx, int n)
{
    for (int i = n / 2 - 1; i >= 0; i--) sift(p, idx, i, n);
    for (int end = n - 1; end > 0; end--) {
        float t = idx[0];
        idx[0] = idx[end];
        idx[end] = t;
        sift(p, idx, 0, end);
    }
}

/* Samples from logits[0..n) restricted to classes with allowed[k] != 0 (allowed == NULL: all).
 * p and idx are scratch of n floats each. At least one class must be allowed. */
static int sample_core(const mn_sampler *s, mn_rng *r, const float *logits, int n,
                       const unsigned char *allowed, float *p, float *idx)
{
    double inv_t = 1.0 / (double)s->temperature;
    /* the largest allowed logit, for a softmax that cannot overflow; NaN counts as -inf */
    double max = -INFINITY;
    int n_allowed = 0, first = -1;
    for (int k = 0; k < n; k++) {
        if (allowed && !allowed[k]) continue;
        n_allowed++;
        if (first < 0) first = k;
        if (logits[k] > max) max = logits[k];
    }
    if (n_allowed == 0) return 0;
    double total = 0.0;
    for (int k = 0; k < n; k++) {
        double w = 0.0;
        if (!allowed || allowed[k]) {
            double l = logits[k];
            if (max == -INFINITY || max == INFINITY)
                /* no finite scale: every allowed class (or every +inf class) weighs the same */
                w = (max == -INFINITY || l == INFINITY) ? 1.0 : 0.0;
            else if (l == max)
                w = 1.0; /* also when an unvalidated temperature makes inv_t infinite */
            else if (l == l)
                w = exp((l - max) * inv_t);
        }
        p[k] = (float)w;
        total += p[k];
    }

    int keep_k = s->top_k > 0 && s->top_k < n_allowed;
    int keep_p = s->top_p < 1.0f;
    if (keep_k || keep_p) {
        int m = 0;
        for (int k = 0; k < n; k++)
            if (p[k] > 0.0f) idx[m++] = (float)k;
        sort_classes(p, idx, m);
        int keep = m;
        if (keep_k && s->top_k < keep) keep = s->top_k;
        if (keep_p) {
            /* smallest prefix of the sorted classes whose mass reaches top_p */
            double want = (double)s->top_p * total, cum = 0.0;
            for (int i = 0; i < keep; i++) {
                cum += p[(int)idx[i]];
                if (cum >= want) {
                    keep = i + 1;
                    break;
                }
            }
        }
        for (int i = keep; i < m; i++) p[(int)idx[i]] = 0.0f;
        total = 0.0;
        for (int k = 0; k < n; k++) total += p[k];
    }

    /* inverse CDF over the classes in index order, one draw */
    double u = mn_rng_uniform(r) * total, cum = 0.0;
    int last = first;
    for (int k = 0; k < n; k++) {
        if (p[k] <= 0.0f) continue;
        cum += p[k];
        last = k;
        if (u < cum) return k;
    }
    return last; /* u landed on the rounding edge of the last class */
}

int mn_sampler_pitch(const mn_sampler *s, mn_rng *r, const float *logits, float *scratch)
{
    return mn_sampler_pitch_masked(s, r, logits, NULL, scratch);
}

int mn_sampler_pitch_masked(const mn_sampler *s, mn_rng *r, const float *logits,
                            const unsigned char *forbid, float *scratch)
{
    unsigned char allowed[MN_N_PITCH]; /* on the stack: the scratch is for the sampling */
    int lo = s->pitch_lo < 0 ? 0 : s->pitch_lo;
    int hi = s->pitch_hi > 127 ? 127 : s->pitch_hi;
    int n_notes = 0;
    /* stage 1: range, scale and rest as set; stage 2 (no note passes): the scale is ignored */
    for (int stage = 0; stage < 2 && n_notes == 0; stage++) {
        int use_scale = s->scale_on && stage == 0;
        for (int k = 0; k < 128; k++) {
            int ok = k >= lo && k <= hi && (!use_scale || (s->scale_mask >> (k % 12)) & 1) &&
                     !(forbid && forbid[k]);
            allowed[k] = (unsigned char)ok;
            n_notes += ok;
        }
    }
    allowed[MN_REST] = (unsigned char)(s->allow_rest != 0 && !(forbid && forbid[MN_REST]));
    if (n_notes == 0 && forbid) {
        /* the guard left nothing in the range: a rest if allowed, else nothing */
        if (!allowed[MN_REST]) return -1;
    } else if (n_notes == 0) {
        /* only an empty range (unvalidated settings) gets here: the pitch nearest to it */
        int near = s->pitch_lo > 127 ? 127 : (s->pitch_hi < 0 ? 0 : lo);
        for (int k = 0; k < 128; k++) allowed[k] = (unsigned char)(k == near);
    }
    return sample_core(s, r, logits, MN_N_PITCH, allowed, scratch, scratch + MN_N_PITCH);
}

int mn_sampler_duration(const mn_sampler *s, mn_rng *r, const float *logits, int n, float *scratch)
{
    if (n <= 1) return 0;
    return sample_core(s, r, logits, n, NULL, scratch, scratch + n);
}

int mn_sampler_allows(const mn_sampler *s, int pitch)
{
    if (pitch == MN_REST) return s->allow_rest;
    if (!mn_is_pitch(pitch) || pitch < s->pitch_lo || pitch > s->pitch_hi) return 0;
    return !s->scale_on || (s->scale_mask >> (pitch % 12) & 1);
}

int mn_sampler_velocity(const mn_sampler *s, mn_rng *r, int pitch, int pos_ticks)
{
    if (!mn_is_pitch(pitch)) return 0;
    int lo = s->velocity_lo < 1 ? 1 : (s->velocity_lo > 127 ? 127 : s->velocity_lo);
    int hi = s->velocity_hi > 127 ? 127 : (s->velocity_hi < lo ? lo : s->velocity_hi);
    int v = lo + (int)(mn_rng_uniform(r) * (double)(hi - lo + 1));
    if (v > hi) v = hi;
    if (pos_ticks == 0 && s->accent > 0) v += s->accent;
    return v > 127 ? 127 : v;
}

double mn_neglog2_softmax(const float *logits, int n, int k)
{
    if (n <= 0 || k < 0 || k >= n) return INFINITY;
    double max = -INFINITY;
    for (int i = 0; i < n; i++)
        if (logits[i] > max) max = logits[i];
    if (max == -INFINITY || max == INFINITY || max != max) return INFINITY;
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        if (logits[i] == logits[i]) sum += exp((double)logits[i] - max);
    double lk = logits[k];
    if (lk != lk) return INFINITY;
    return -((lk - max) - log(sum)) / 0.69314718055994530942;
}
