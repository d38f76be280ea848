/* fuzz_notes.c - libFuzzer harness for the note-list parser (mn_parse_notes, behind generate
 * --seed-notes). The input is the list. Checks: the events appended are valid notes or rests
 * with a duration of 1..MN_MAX_DUR_TICKS, one per token; a failure says why and
 * leaves the melody as it was; and the events, written back as a list, parse to the same. */
#include "event.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_check.h"

static size_t count_tokens(const char *s)
{
    size_t n = 0;
    for (;;) {
        s += strspn(s, " ,\t");
        if (!*s) return n;
        n++;
        s += strcspn(s, " ,\t");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = mn_malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    /* a melody that already holds a few events, which a failure must keep as they were */
    mn_melody m;
    mn_melody_init(&m);
    size_t n0 = fuzz_hash(data, size) % 3;
    for (size_t i = 0; i < n0; i++) {
        mn_event e = {60 + (int)i, 90, 24, 0, 0};
        FUZZ_CHECK(mn_melody_push(&m, &e, NULL) == MN_OK, "push");
    }
    char err[MN_ERR_LEN] = "";
    mn_status st = mn_parse_notes(s, &m, err);
    if (st != MN_OK) {
        FUZZ_CHECK(err[0] != '\0', "failure %s without a message", mn_status_name(st));
        FUZZ_CHECK(st == MN_ERR_ARG || st == MN_ERR_NOMEM, "status %s", mn_status_name(st));
        FUZZ_CHECK(m.n == n0, "a failure left %zu events, had %zu", m.n, n0);
        for (size_t i = 0; i < n0; i++)
            FUZZ_CHECK(m.ev[i].pitch == 60 + (int)i && m.ev[i].dur_ticks == 24,
                       "a failure changed event %zu", i);
        mn_melody_free(&m);
        mn_free(s);
        return 0;
    }
    FUZZ_CHECK(m.n - n0 == count_tokens(s), "%zu events from %zu tokens", m.n - n0,
               count_tokens(s));

    /* the events written back as a list: one token per event, durations in beats */
    size_t cap = (m.n - n0) * 40 + 1, len = 0;
    char *back = mn_malloc(cap);
    FUZZ_CHECK(back != NULL, "out of memory");
    back[0] = '\0';
    for (size_t i = n0; i < m.n; i++) {
        const mn_event *e = &m.ev[i];
        int rest = e->pitch == MN_REST;
        FUZZ_CHECK(rest || (e->pitch >= 0 && e->pitch <= 127), "event %zu: pitch %d", i,
                   e->pitch);
        FUZZ_CHECK(e->velocity == (rest ? 0 : 90), "event %zu: velocity %d", i, e->velocity);
        FUZZ_CHECK(e->dur_ticks >= 1 && e->dur_ticks <= MN_MAX_DUR_TICKS, "event %zu: %d ticks",
                   i, e->dur_ticks);
        FUZZ_CHECK(e->pos_ticks == 0 && e->bar_ticks == 0, "event %zu: placed", i);
        char tok[40];
        if (rest) snprintf(tok, sizeof tok, "rest:%.17g ", e->dur_ticks / (double)MN_TPQ);
        else snprintf(tok, sizeof tok, "%d:%.17g ", e->pitch, e->dur_ticks / (double)MN_TPQ);
        size_t tl = strlen(tok);
        FUZZ_CHECK(len + tl < cap, "buffer");
        memcpy(back + len, tok, tl + 1);
        len += tl;
    }
    mn_melody again;
    mn_melody_init(&again);
    st = mn_parse_notes(back, &again, err);
    FUZZ_CHECK(st == MN_OK, "the list written back ('%.80s') fails: %s", back, err);
    FUZZ_CHECK(again.n == m.n - n0, "%zu events written back, %zu read", m.n - n0, again.n);
    for (size_t i = 0; i < again.n; i++)
        FUZZ_CHECK(!memcmp(&again.ev[i], &m.ev[n0 + i], sizeof again.ev[i]),
                   "event %zu differs after writing back", i);
    mn_melody_free(&again);
    mn_free(back);
    mn_melody_free(&m);
    mn_free(s);
    return 0;
}
