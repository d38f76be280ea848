/* sampler.h - turns logits into a choice: temperature, top-k, top-p, pitch range, a scale or
 * pitch-class set on any root, optional rest suppression, velocity, and a seeded PRNG with
 * explicit state (xoshiro256** seeded by splitmix64) so the same seed gives the same choices
 * on every platform. No allocation: callers pass scratch space. */
#ifndef MN_SAMPLER_H
#define MN_SAMPLER_H

#include "base.h"
#include "event.h"

typedef struct {
    uint64_t s[4];
} mn_rng;

void mn_rng_seed(mn_rng *r, uint64_t seed);
uint64_t mn_rng_next(mn_rng *r);
double mn_rng_uniform(mn_rng *r); /* [0, 1), 53 bits */

typedef struct {
    float temperature;     /* > 0; 1 = the model's distribution. Applies to pitch and duration */
    int top_k;             /* 0 = off */
    float top_p;           /* 1 = off; (0, 1] */
    int pitch_lo, pitch_hi;/* allowed MIDI range, inclusive */
    int scale_on;          /* 0 = any pitch class */
    uint16_t scale_mask;   /* bit k set: pitch class k (absolute, C = 0) allowed */
    int allow_rest;        /* 0 = never choose a rest */
    int velocity_lo, velocity_hi; /* note velocity drawn uniformly in [lo, hi], 1..127 */
    int accent;            /* velocity added on a bar's first beat (0 = none), clamped to 127 */
    float motif;           /* 0..1: how much the melody's own motifs are repeated (motif.h);
                            * 1 = the weights fitted on real tunes, 0 = the network alone */
    int max_copy;          /* copy guard: 0 = off; K = never extend a run of intervals found
                            * verbatim in one training tune beyond K (1..MN_SAMPLER_MAX_COPY;
                            * needs the model's copy index, see session.h) */
} mn_sampler;

#define MN_SAMPLER_MAX_COPY 62 /* = MN_COPY_MAX_K of copyidx.h */

/* Defaults: temperature 1, no top-k/top-p, range 0..127, any scale, rests allowed,
 * velocity MN_DEFAULT_VELOCITY (90), accent 0, motif 1, no copy guard. */
void mn_sampler_default(mn_sampler *s);

/* Named scales: "major", "minor", "dorian", "phrygian", "lydian", "mixolydian", "locrian",
 * "harmonic", "melodic", "pentatonic", "minorpentatonic", "blues", "chromatic", "wholetone"
 * and aliases ("ionian", "aeolian", "naturalminor", "majorpentatonic", ...). Writes the mask
 * transposed to root (0..11). MN_ERR_ARG with a message listing names for an unknown name. */
mn_status mn_scale_mask(const char *name, int root, uint16_t *mask, char *err);

/* Checks a settings struct (ranges, lo <= hi, ...). */
mn_status mn_sampler_validate(const mn_sampler *s, char *err);

/* Samples a pitch class index 0..MN_N_PITCH-1 (MN_REST for a rest) from pitch logits
 * [MN_N_PITCH] under all settings. scratch holds 2*MN_N_PITCH floats. If the range, scale
 * and rest settings exclude every class, the scale is ignored first, then the range is widened
 * to the nearest allowed pitch, so a valid pitch always comes back. */
int mn_sampler_pitch(const mn_sampler *s, mn_rng *r, const float *logits, float *scratch);

/* Same, never choosing a pitch k with forbid[k] != 0 (forbid: MN_N_PITCH flags, NULL = none),
 * whatever the other settings: the scale may be ignored as above, the forbidden pitches never.
 * Returns -1 when nothing is left (no allowed pitch passes and rests are off). */
int mn_sampler_pitch_masked(const mn_sampler *s, mn_rng *r, const float *logits,
                            const unsigned char *forbid, float *scratch);

/* Samples a duration token 0..n-1 from logits [n] with temperature, top-k and top-p.
 * scratch holds 2*n floats. */
int mn_sampler_duration(const mn_sampler *s, mn_rng *r, const float *logits, int n, float *scratch);

/* Whether the settings allow pitch (0..127, or MN_REST): range, scale and rests. */
int mn_sampler_allows(const mn_sampler *s, int pitch);

/* Velocity for a note at pos_ticks (0 for a rest). */
int mn_sampler_velocity(const mn_sampler *s, mn_rng *r, int pitch, int pos_ticks);

/* log2-softmax helper: returns -log2 softmax(logits)[k] computed stably in double. */
double mn_neglog2_softmax(const float *logits, int n, int k);

#endif
