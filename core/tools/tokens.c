/* tokens.c - writes the token file of tokens.h, streaming through a small buffer with the
 * CRC-32 kept on the way. */
#include "tokens.h"
#include "train.h"

#include <string.h>

uint32_t mn_tokens_crc32(uint32_t crc, const void *p, size_t n)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const uint8_t *b = p;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

typedef struct {
    FILE *f;
    uint32_t crc;
    int bad;
    uint8_t buf[1 << 16];
    size_t n;
} writer;

static void w_flush(writer *w)
{
    if (!w->bad && w->n && fwrite(w->buf, 1, w->n, w->f) != w->n) w->bad = 1;
    w->crc = mn_tokens_crc32(w->crc, w->buf, w->n);
    w->n = 0;
}

static void w_bytes(writer *w, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        if (w->n == sizeof w->buf) w_flush(w);
        size_t k = sizeof w->buf - w->n;
        if (k > n) k = n;
        memcpy(w->buf + w->n, b, k);
        w->n += k, b += k, n -= k;
    }
}

static void w_le(writer *w, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = 0; i < bytes; i++) b[i] = (uint8_t)(v >> (8 * i));
    w_bytes(w, b, (size_t)bytes);
}

static void w_u8(writer *w, unsigned v) { w_le(w, v, 1); }
static void w_u16(writer *w, unsigned v) { w_le(w, v, 2); }
static void w_u32(writer *w, uint32_t v) { w_le(w, v, 4); }
static void w_i32(writer *w, int v) { w_le(w, (uint32_t)v, 4); }
static void w_u64(writer *w, uint64_t v) { w_le(w, v, 8); }

static int event_pitch(const mn_event *e) { return mn_is_pitch(e->pitch) ? e->pitch : MN_REST; }

static int event_pos(const mn_event *e)
{
    int q = e->pos_ticks < 0 ? 0 : e->pos_ticks;
    return q > MN_MAX_BAR_TICKS - 1 ? MN_MAX_BAR_TICKS - 1 : q;
}

/* Counts the tunes and events of a set; MN_ERR_LIMIT for a tune too long for its u32 count. */
static mn_status set_counts(const mn_tokens_set *s, uint64_t *n_tunes, uint64_t *n_events,
                            char *err)
{
    *n_tunes = *n_events = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!s->mels[i].n) continue;
        if (s->mels[i].n > UINT32_MAX)
            return mn_errf(err, MN_ERR_LIMIT, "tokens: tune %zu has %zu events, at most %u", i,
                           s->mels[i].n, UINT32_MAX);
        (*n_tunes)++;
        *n_events += s->mels[i].n;
    }
    return MN_OK;
}

static void write_set(writer *w, const mn_tokens_set *s, uint32_t kind, const mn_durtable *dur,
                      uint64_t n_tunes, uint64_t n_events)
{
    const char *src = s->source ? s->source : "";
    size_t sl = strlen(src);
    if (sl > UINT32_MAX) sl = UINT32_MAX;
    w_u32(w, kind);
    w_u32(w, (uint32_t)sl);
    w_bytes(w, src, sl);
    w_u64(w, n_tunes), w_u64(w, n_events);
    for (size_t i = 0; i < s->n; i++)
        if (s->mels[i].n) w_u32(w, (uint32_t)s->mels[i].n);
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < s->mels[i].n; j++) w_u8(w, (unsigned)event_pitch(&s->mels[i].ev[j]));
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < s->mels[i].n; j++)
            w_u8(w, (unsigned)mn_durtable_index(dur, s->mels[i].ev[j].dur_ticks));
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < s->mels[i].n; j++) w_u16(w, (unsigned)event_pos(&s->mels[i].ev[j]));
}

mn_status mn_tokens_write(const char *path, const mn_durtable *dur, int max_durations,
                          const mn_midi_options *mo, const mn_tokens_set *train,
                          const mn_tokens_set *valid, char *err)
{
    mn_status st = mn_durtable_validate(dur, err);
    if (st) return st;
    uint64_t tn, te, vn = 0, ve = 0;
    if ((st = set_counts(train, &tn, &te, err))) return st;
    if (valid && (st = set_counts(valid, &vn, &ve, err))) return st;
    if (!te) return mn_errf(err, MN_ERR_EMPTY, "tokens: no training events");
    writer *w = mn_calloc(1, sizeof *w);
    if (!w) return mn_errf(err, MN_ERR_NOMEM, "tokens: out of memory");
    char *tmp;
    if (!(w->f = mn_atomic_open(path, &tmp, err))) {
        mn_free(w);
        return MN_ERR_IO;
    }
    w_bytes(w, MN_TOKENS_MAGIC, 8);
    w_u32(w, MN_TOKENS_VERSION);
    w_u32(w, MN_TPQ);
    w_i32(w, MN_TRAIN_SHIFT_LO), w_i32(w, MN_TRAIN_SHIFT_HI);
    w_i32(w, mo ? mo->track : -1), w_i32(w, mo ? mo->channel : -1);
    w_u32(w, max_durations > 0 ? (uint32_t)max_durations : 0);
    w_u32(w, (uint32_t)dur->n);
    for (int i = 0; i < dur->n; i++) w_u32(w, (uint32_t)dur->ticks[i]);
    w_u32(w, valid ? 2 : 1);
    write_set(w, train, 0, dur, tn, te);
    if (valid) write_set(w, valid, 1, dur, vn, ve);
    w_flush(w);
    uint32_t crc = w->crc;
    w_u32(w, crc);
    w_flush(w);
    int ok = !w->bad;
    FILE *f = w->f;
    mn_free(w);
    st = mn_atomic_close(f, tmp, path, ok, err);
    if (!st && !ok) st = mn_errf(err, MN_ERR_IO, "%s: write failed", path);
    return st;
}
