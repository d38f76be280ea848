/* fuzz_ngram.c - libFuzzer harness for the n-gram loader (mn_ngram_load, which reads a path:
 * the input goes to a memfd named through /proc/self/fd). A file that loads must give
 * distributions that sum to 1 and scores that are never negative or NaN, and must survive a
 * save and load unchanged. */
#include "base.h"
#include "event.h"
#include "ngram.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_check.h"

static int in_fd = -1;
static char in_path[64], save_path[64];

static void check_probs(const float *p, int n, const char *what)
{
    double sum = 0;
    for (int k = 0; k < n; k++) {
        FUZZ_CHECK(p[k] >= 0 && isfinite(p[k]), "%s: p[%d] = %g", what, k, p[k]);
        sum += p[k];
    }
    FUZZ_CHECK(fabs(sum - 1.0) < 1e-3, "%s: sums to %.9g", what, sum);
}

/* A short tune using the model's durations; hist gives the pitches. */
static void make_tune(const mn_ngram *g, mn_melody *m, mn_event *ev, int n, uint64_t h)
{
    const mn_durtable *dt = mn_ngram_durtable(g);
    mn_melody_init(m);
    for (int i = 0; i < n; i++) {
        int r = (int)(h >> (5 * i) & 31);
        ev[i] = (mn_event){r < 4 ? MN_REST : 48 + r, r < 4 ? 0 : 90, dt->ticks[r % dt->n],
                           0, MN_DEFAULT_BAR_TICKS};
        if (i > 0) ev[i].pos_ticks = mn_event_next_pos(&ev[i - 1]);
    }
    m->ev = ev;
    m->n = (size_t)n;
}

static void probe(const mn_ngram *g, uint64_t h, double *sig)
{
    float pp[MN_N_PITCH], dp[MN_MAX_DUR];
    mn_event ev[8];
    mn_melody m;
    make_tune(g, &m, ev, 8, h);
    int hist[8], dhist[8];
    for (int i = 0; i < 8; i++) {
        hist[i] = ev[i].pitch;
        dhist[i] = mn_durtable_index(mn_ngram_durtable(g), ev[i].dur_ticks);
    }
    int n_dur = mn_ngram_durtable(g)->n;
    *sig = 0;
    for (size_t t = 0; t < m.n; t++) {
        double bp = -1, bd = -1;
        int am = -1;
        mn_ngram_score(g, &m, t, &bp, &bd, &am);
        FUZZ_CHECK(bp >= 0 && bd >= 0, "event %zu: bits %g / %g", t, bp, bd);
        FUZZ_CHECK(am >= 0 && am < MN_N_PITCH, "event %zu: argmax %d", t, am);
        mn_ngram_pitch_probs(g, hist, t, pp);
        check_probs(pp, MN_N_PITCH, "pitch");
        mn_ngram_dur_probs(g, dhist, t, hist[t], dp);
        check_probs(dp, n_dur, "duration");
        *sig += bp + 3 * bd;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (in_fd < 0) {
        in_fd = memfd_create("fuzz_ngram", 0);
        FUZZ_CHECK(in_fd >= 0, "memfd_create failed");
        snprintf(in_path, sizeof in_path, "/proc/self/fd/%d", in_fd);
        snprintf(save_path, sizeof save_path, "/tmp/fuzz_ngram.%d", (int)getpid());
    }
    FUZZ_CHECK(ftruncate(in_fd, 0) == 0 && pwrite(in_fd, data, size, 0) == (ssize_t)size,
               "cannot write the input file");

    mn_ngram *g = (mn_ngram *)1;
    char err[MN_ERR_LEN] = "";
    mn_status s = mn_ngram_load(in_path, &g, err);
    if (s != MN_OK) {
        FUZZ_CHECK(g == NULL, "failure left a model");
        FUZZ_CHECK(err[0] != '\0', "failure %s without a message", mn_status_name(s));
        return 0;
    }
    int order = mn_ngram_order(g);
    FUZZ_CHECK(order >= 1 && order <= MN_NGRAM_MAX_ORDER, "order %d", order);
    FUZZ_CHECK(mn_durtable_validate(mn_ngram_durtable(g), err) == MN_OK, "table: %s", err);
    uint64_t h = fuzz_hash(data, size);
    double a, b;
    probe(g, h, &a);

    /* saved and loaded again, it must score the same */
    s = mn_ngram_save(g, save_path, err);
    FUZZ_CHECK(s == MN_OK, "save failed: %s", err);
    mn_ngram *g2 = NULL;
    s = mn_ngram_load(save_path, &g2, err);
    unlink(save_path);
    FUZZ_CHECK(s == MN_OK, "reload failed: %s", err);
    probe(g2, h, &b);
    FUZZ_CHECK(a == b, "scores %.17g before saving, %.17g after", a, b);
    mn_ngram_free(g2);
    mn_ngram_free(g);
    return 0;
}
