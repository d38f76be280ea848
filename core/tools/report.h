/* report.h - creativity versus imitation (DESIGN.md): style figures of a set of melodies (in-key
 * rate, pitch span, intervals, rhythm) with their distance to the training data's, and imitation
 * figures (the longest run of intervals copied verbatim from one training tune, the share of
 * 8-interval n-grams found in the training data), computed the same way for real unseen tunes
 * and for generated ones so that the two can be read side by side. */
#ifndef MN_REPORT_H
#define MN_REPORT_H

#include <stdio.h>

#include "base.h"
#include "event.h"

#define MN_REPORT_NGRAM 8                /* n-gram length (in intervals) of the overlap figure */
#define MN_REPORT_MOTIF 4                /* figure length (in intervals) of the motif repetition */
#define MN_REPORT_MAX_INTERVAL 12        /* interval histogram: -12..+12, others clamped */
#define MN_REPORT_INTERVAL_BINS (2 * MN_REPORT_MAX_INTERVAL + 1)
#define MN_REPORT_SPAN_BINS 37           /* span histogram: 0..35 semitones, 36 and more */
#define MN_REPORT_DUR_BINS 13            /* note durations, see mn_report_dur_bin */
#define MN_REPORT_MAX_TRAIN_INTERVALS (64u << 20)
#define MN_REPORT_STUCK 12               /* stuck: this many notes of one pitch in a row */
#define MN_REPORT_LOOP_SPAN 32           /* loop: the last this many events are periodic ... */
#define MN_REPORT_LOOP_PERIOD 8          /* ... with a period of at most this many events */
#define MN_REPORT_PER_EVENTS (300 * 64)  /* stuck runs are counted per this many events */

/*=== melody figures =========================================================================*/

/* Share of the notes of m in its best-fitting key: the major or natural-minor scale (24 keys)
 * holding the most of its notes. Writes the key (tonic 0..11, C = 0; minor 0/1) when the
 * pointers are non-NULL. Returns -1 (key -1) for a melody without notes. */
double mn_report_in_key(const mn_melody *m, int *tonic, int *minor);

/* Writes the intervals of m (pitch differences between successive notes, rests skipped) into
 * out, which holds m->n entries, and returns their number. */
size_t mn_report_intervals(const mn_melody *m, int *out);

/* Listener figures of one melody. Stuck runs: maximal runs of MN_REPORT_STUCK or more notes
 * of the same pitch in a row (rests between them neither break nor extend a run). Loop: the
 * last MN_REPORT_LOOP_SPAN events (pitch or rest, and duration) repeat with a period of
 * MN_REPORT_LOOP_PERIOD events or fewer; a melody shorter than that is no loop. */
size_t mn_report_stuck_runs(const mn_melody *m);
int mn_report_is_loop(const mn_melody *m);

/* Bin of a note duration: 1/32, 1/16 triplet, 1/16, 1/8 triplet, dotted 1/16, 1/8, 1/4 triplet,
 * dotted 1/8, 1/4, dotted 1/4, 1/2, dotted 1/2, whole and longer; durations between two bins
 * go to the nearer (in log time). Names for printing by mn_report_dur_name. */
int mn_report_dur_bin(int dur_ticks);
const char *mn_report_dur_name(int bin);

/* Distances between two distributions of n bins (each summing to 1, or all zero): total
 * variation 0.5 * sum |p - q| and Jensen-Shannon divergence in bits; both 0..1. */
double mn_report_tv(const double *p, const double *q, int n);
double mn_report_js(const double *p, const double *q, int n);

/*=== imitation index ========================================================================*/

/* The training tunes' interval strings, concatenated with separators, in a suffix automaton:
 * each query interval costs amortised O(1) plus a scan of the state's out-edges. */
typedef struct mn_imitation mn_imitation;

/* Builds the index over the training melodies (which it does not keep). MN_ERR_LIMIT beyond
 * MN_REPORT_MAX_TRAIN_INTERVALS intervals, MN_ERR_EMPTY when no tune has an interval. */
mn_status mn_imitation_new(const mn_melody *train, size_t n_train, mn_imitation **out,
                           char *err);
void mn_imitation_free(mn_imitation *ix); /* NULL is a no-op */

typedef struct {
    size_t len;         /* longest run of query intervals found verbatim in one training tune */
    size_t query_start; /* where the run starts in the query's intervals */
    size_t tune;        /* index of a training tune holding it (0 when len == 0) */
    size_t tune_start;  /* where it starts in that tune's intervals */
    size_t n_ngrams;    /* MN_REPORT_NGRAM-grams of the query */
    size_t ngram_hits;  /* of them, found in some training tune */
} mn_imitation_match;

/* Matches the intervals iv[n] against the index. No allocation. */
void mn_imitation_match_intervals(const mn_imitation *ix, const int *iv, size_t n,
                                  mn_imitation_match *out);

/*=== sets and the report ====================================================================*/

typedef struct {
    size_t n_melodies, n_notes, n_intervals;
    double in_key;          /* mean over melodies with notes of mn_report_in_key */
    double span_mean;       /* mean pitch span (highest - lowest note), semitones */
    double span_hist[MN_REPORT_SPAN_BINS];         /* share of melodies by span */
    double interval_hist[MN_REPORT_INTERVAL_BINS]; /* share of intervals, bin 0 = -12 */
    double dur_hist[MN_REPORT_DUR_BINS];           /* share of notes by duration bin */
    double onbeat;          /* share of note onsets on a quarter-note beat of the bar */
    double notes_per_bar;   /* notes / bars covered (sum of dur_ticks / bar_ticks over events) */
    double rest_share;      /* share of events that are rests */
    double motif_repeat;    /* share of a melody's 4-interval figures that already occurred
                             * earlier in it (folk tunes repeat motifs), over all melodies */
    /* what a listener hears (mn_report_stuck_runs, mn_report_is_loop) */
    size_t stuck_runs;      /* over the set */
    double stuck_per;       /* stuck runs per MN_REPORT_PER_EVENTS events (300 melodies of 64) */
    size_t loops;           /* melodies that end in a loop */
    double loop_share;      /* loops / melodies */
    double pickup;          /* share of melodies with notes whose first note is not on beat 1
                             * of a bar (pos_ticks != 0) */
    double leap_max_mean;   /* mean over melodies of the largest |interval|, semitones */
    int leap_max;           /* largest |interval| over the set */
    int pitch_lo, pitch_hi; /* lowest and highest note of the set (-1 without notes) */
    /* distances to the training set's histograms (0 when no training set was given) */
    double span_tv, interval_tv, dur_tv, span_js, interval_js, dur_js;
    /* imitation (has_imitation = 0 when no index was given) */
    int has_imitation;
    double copy_mean;         /* mean over melodies of the longest copied run, intervals */
    size_t copy_max;          /* longest over the set */
    size_t copy_max_melody;   /* which melody of the set */
    size_t copy_max_tune;     /* which training tune */
    double copy_mean_share;   /* mean of longest run / intervals of the melody */
    size_t n_ngrams, ngram_hits;
    double ngram_share;       /* ngram_hits / n_ngrams (0 when there are none) */
} mn_report_set;

/* Figures of a set. train (may be NULL) gives the histograms to measure distances to; ix (may
 * be NULL) the imitation figures. MN_ERR_NOMEM only. */
mn_status mn_report_set_compute(mn_report_set *out, const mn_melody *mels, size_t n,
                                const mn_report_set *train, const mn_imitation *ix, char *err);

/* The whole comparison: training, reference (real unseen tunes) and generated sets. */
typedef struct {
    mn_report_set train, ref, gen;
    char ref_copy_tune[256];  /* name of the training tune of ref.copy_max */
    char gen_copy_tune[256];
} mn_report;

/* Builds the index over train and computes the three sets. train_names (may be NULL: then
 * each melody's name) names the training tunes in the copy figures. */
mn_status mn_report_compute(mn_report *r, const mn_melody *train, size_t n_train,
                            const char *const *train_names, const mn_melody *ref, size_t n_ref,
                            const mn_melody *gen, size_t n_gen, char *err);

/* Writes the figures side by side (training | reference | generated) as a text table, or as one
 * JSON object. The labels name the reference and generated columns. */
void mn_report_write_text(FILE *f, const mn_report *r, const char *ref_label,
                          const char *gen_label);
void mn_report_write_json(FILE *f, const mn_report *r, const char *ref_label,
                          const char *gen_label);

#endif
