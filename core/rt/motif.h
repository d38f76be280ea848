/* motif.h - the melody's own memory: folk tunes repeat their motifs, and an LSTM trained on
 * 64-event windows forgets them. This module keeps the events of the current melody (as
 * interval-from-the-previous-note and duration-token symbols, so a repeated figure is found
 * also when it is transposed) and proposes the event that followed the longest earlier match of
 * the melody's latest events. The session mixes the proposal into the network's distribution
 * with a weight that grows with the match length (mn_motif_weight). Fixed size, no allocation. */
#ifndef MN_MOTIF_H
#define MN_MOTIF_H

#include <stddef.h>
#include <stdint.h>

#include "base.h"
#include "event.h"

#define MN_MOTIF_HIST 512  /* events remembered (the oldest half is dropped when full) */
#define MN_MOTIF_MAX_K 16  /* longest match looked for, events */

#define MN_MOTIF_NEAR 8     /* a match this close (events back) repeats the latest output */
#define MN_MOTIF_NEAR_CAP 0.5f /* most of the odds a near match may take */
#define MN_MOTIF_RUNS 16    /* same-pitch run lengths with their own repeat cap (last: longer) */

typedef struct {
    int n;                        /* symbols held */
    int32_t sym[MN_MOTIF_HIST];   /* (interval or rest/start mark) and duration token */
    int last_note;                /* pitch of the last note, -1 before the first */
    int run;                      /* notes of pitch last_note in a row (rests skipped) */
    uint16_t pcs;                 /* pitch classes the melody has used (bit k: class k) */
} mn_motif;

/* How the proposal is mixed in, per model (fitted by `melodynet fit-motif` and stored in the
 * model's metadata as "motif_params", else mn_motif_params_default):
 *  - far[k-1]: the weight of a proposal backed by a match of k events (k = 1..MN_MOTIF_MAX_K,
 *    the last also for longer) whose earlier place is more than MN_MOTIF_NEAR events back: the
 *    repetition of a phrase, as folk tunes repeat theirs;
 *  - near[k-1]: the same when the place is MN_MOTIF_NEAR events back or closer, that is when the
 *    melody is repeating its own latest output; never above MN_MOTIF_NEAR_CAP. A near match of
 *    k >= 2 * distance means the figure has already sounded three times in a row: the memory
 *    then proposes nothing (it breaks the loops it would otherwise create);
 *  - veto: a proposal the network gives less than this probability gets no weight (the network
 *    keeps its say over range and leaps);
 *  - cap[r-1]: the largest probability, after the temperature, of repeating a pitch that has
 *    sounded r times in a row (r = 1..MN_MOTIF_RUNS, the last also for longer); 1 = no cap. */
typedef struct {
    float far[MN_MOTIF_MAX_K], near[MN_MOTIF_MAX_K];
    float veto;
    float cap[MN_MOTIF_RUNS];
} mn_motif_params;

/* The built-in table (fitted on the folk valid splits under an earlier default-size model):
 * far as mn_motif_weight, near the same bounded by MN_MOTIF_NEAR_CAP, no veto, no cap. */
void mn_motif_params_default(mn_motif_params *p);

/* Checks ranges: weights in [0, 1) (near <= MN_MOTIF_NEAR_CAP), veto in [0, 1), caps in
 * (0, 1]. */
mn_status mn_motif_params_validate(const mn_motif_params *p, char *err);

/* The metadata text: "far=w1,...,w16 near=... veto=V cap=c1,...,c16". parse reads it back
 * (all four keys, each once, in any order) and validates; MN_ERR_FORMAT naming the fault.
 * format writes into buf of n bytes (at least MN_MOTIF_PARAMS_TEXT) and returns it. */
#define MN_MOTIF_PARAMS_TEXT 1024
mn_status mn_motif_params_parse(const char *s, mn_motif_params *p, char *err);
const char *mn_motif_params_format(const mn_motif_params *p, char *buf, size_t n);

/* Weight of a proposal backed by a match of k events found dist events back (0 for k = 0, and
 * for a near match that would repeat a figure a fourth time). */
double mn_motif_lambda(const mn_motif_params *p, int k, int dist);

/* Repeat cap for the next note when the melody's last note has sounded run times in a row
 * (1 for run <= 0). */
double mn_motif_repeat_cap(const mn_motif_params *p, int run);

void mn_motif_reset(mn_motif *m);

/* Appends an event: pitch 0..127 or MN_REST, dur_tok its duration token. */
void mn_motif_push(mn_motif *m, int pitch, int dur_tok);

/* Looks for the longest k (<= MN_MOTIF_MAX_K) such that the last k events occurred earlier
 * (the most recent such place wins) and writes the event that followed there: *pitch (the last
 * note's pitch plus the interval, or MN_REST) and *dur_tok. Returns k, or 0 when nothing
 * matches, the proposal falls outside MIDI range, or it would bring a pitch class the melody
 * has not used (a transposed figure leaving the key). */
int mn_motif_propose(const mn_motif *m, int *pitch, int *dur_tok);

/* Same, and writes in *dist how many events back the match ends (n - j for the earlier end j;
 * 1 means the melody repeats its last event). */
int mn_motif_propose_at(const mn_motif *m, int *pitch, int *dur_tok, int *dist);

/*=== fitting (melodynet fit-motif) ==========================================================*/

/* One event of a held-out tune under the network alone, as the fit needs it. */
typedef struct {
    int k, dist;      /* the proposal's match (k = 0: none) */
    int hit;          /* the proposal is the event (pitch and duration) */
    int pitch_hit;    /* the proposal's pitch is the event's */
    double q;         /* network: p(event's pitch) p(event's duration | pitch) */
    double q_pitch;   /* network: p(event's pitch) */
    double q_prop;    /* network: p(the proposal's pitch) */
    int run;          /* the last note's run before the event (0 before the first note) */
    int repeat;       /* the event is a note of the last note's pitch */
    int prop_repeat;  /* the proposal's pitch is the last note's */
    double q_rep;     /* network: p(the last note's pitch) */
} mn_motif_obs;

/* Fits the weights by maximum likelihood of the events (the veto: the largest of a few values
 * whose likelihood is within 0.01 bits/event of the best), and the repeat caps as the share of
 * runs of r notes that the held-out tunes continue, pooled upward over runs with fewer than 30
 * cases, for the runs from the shortest on at which the caps cost the events at most 0.002
 * bits/event (1 below it). Writes the bits/event of the events before (network alone) and after (may be NULL). */
mn_status mn_motif_fit(const mn_motif_obs *obs, size_t n, mn_motif_params *out,
                       double *bits_net, double *bits_fit, char *err);

/* Weight of a proposal backed by a match of k events (0 for k = 0): the share of the next
 * event's probability given to it. Fitted on held-out folk tunes (see motif.c). */
float mn_motif_weight(int k);

#endif
